/*
 * link_guard.c - the cost and the answer of frames that do not open
 * (link_guard.h says why and cites the nng bug).
 *
 * Two small fixed tables under one mutex: the pipes a worker holds a request
 * of (by nng pipe id), and the last log line per remote address.
 *
 * DIAGNOSTICS: one warning per remote address per second,
 * "peer=<claimed id or ?> addr=<ip> link frame refused: <reason>", with
 * "(+N refused since the last line from this address)" when lines were
 * left out. At start, one line says which nng is linked and whether the
 * nng 1.5.2 workaround is on.
 *
 * SECURITY: nothing here reads a frame; both tables are bounded (a full
 * pipe table means "answer nothing", the safe side).
 */
#include "link_guard.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "node.h"

#define GUARD_PIPES 256 /* > link_workers: one slot per request in hand */
#define GUARD_ADDRS 256
#define GUARD_CONNS 1024 /* remote address by pipe id, overwritten in turn */
#define GUARD_LOG_MS 1000

struct guard_pipe {
    uint32_t id; /* 0: free */
    int inflight; /* requests held by workers now */
    int count;    /* requests since the pipe was last idle */
    int closed;   /* nng removed the pipe */
};

struct guard_addr {
    char addr[INET6_ADDRSTRLEN];
    int64_t last_ms;
    unsigned suppressed;
};

/* the address is taken when the pipe is added: a hostile peer's pipe is
 * often closed (and no longer answers nng_pipe_get_addr) by the time its
 * frame is refused */
struct guard_conn {
    uint32_t id;
    char addr[INET6_ADDRSTRLEN];
};

static struct guard_pipe guard_pipes[GUARD_PIPES];
static struct guard_conn guard_conns[GUARD_CONNS];
static struct guard_addr guard_addrs[GUARD_ADDRS];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int guard_waiting;
static int guard_delay_ms = LINK_GUARD_DELAY_MS;

/* guard_id - the pipe's id as the tables key it */
static uint32_t
guard_id(nng_pipe p)
{
    return (uint32_t)nng_pipe_id(p);
}

/* guard_find - the slot of pipe id, or a free one when add; NULL if none.
 * Under guard_mu. */
static struct guard_pipe *
guard_find(uint32_t id, int add)
{
    struct guard_pipe *free_slot = NULL;

    for (unsigned i = 0; i < GUARD_PIPES; i++) {
        struct guard_pipe *g = &guard_pipes[(id + i) % GUARD_PIPES];
        if (g->id == id)
            return g;
        if (g->id == 0 && free_slot == NULL)
            free_slot = g;
    }
    if (!add || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->id = id;
    return free_slot;
}

/* guard_addr_of - the remote IP of p as text ("?" when unknown); without
 * guard_mu */
static void
guard_addr_of(nng_pipe p, char *out, size_t outlen)
{
    nng_sockaddr sa;

    snprintf(out, outlen, "?");
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
        return;
    if (sa.s_family == NNG_AF_INET)
        inet_ntop(AF_INET, &sa.s_in.sa_addr, out, (socklen_t)outlen);
    else if (sa.s_family == NNG_AF_INET6)
        inet_ntop(AF_INET6, sa.s_in6.sa_addr, out, (socklen_t)outlen);
}

/* guard_added - nng_pipe_notify callback: note the new pipe's address */
static void
guard_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct guard_conn c;

    (void)ev;
    (void)arg;
    c.id = guard_id(p);
    guard_addr_of(p, c.addr, sizeof(c.addr));
    pthread_mutex_lock(&guard_mu);
    guard_conns[c.id % GUARD_CONNS] = c;
    pthread_mutex_unlock(&guard_mu);
}

/* guard_removed - nng_pipe_notify callback: the pipe is gone */
static void
guard_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct guard_pipe *g;

    (void)ev;
    (void)arg;
    pthread_mutex_lock(&guard_mu);
    if ((g = guard_find(guard_id(p), 0)) != NULL)
        g->closed = 1;
    pthread_mutex_unlock(&guard_mu);
}

/* guard_nng_fixed - 1 when the linked nng has nanomsg/nng#1636 (>= 1.6.0) */
static int
guard_nng_fixed(void)
{
    int major = 0, minor = 0;

    if (sscanf(nng_version(), "%d.%d", &major, &minor) != 2)
        return 0;
    return major > 1 || (major == 1 && minor >= 6);
}

/* link_guard_start - reset the tables, watch removals, say which nng */
void
link_guard_start(nng_socket sock)
{
    pthread_mutex_lock(&guard_mu);
    memset(guard_pipes, 0, sizeof(guard_pipes));
    memset(guard_addrs, 0, sizeof(guard_addrs));
    memset(guard_conns, 0, sizeof(guard_conns));
    pthread_mutex_unlock(&guard_mu);
    nng_pipe_notify(sock, NNG_PIPE_EV_ADD_POST, guard_added, NULL);
    nng_pipe_notify(sock, NNG_PIPE_EV_REM_POST, guard_removed, NULL);
    guard_delay_ms = guard_nng_fixed() ? 0 : LINK_GUARD_DELAY_MS;
    if (guard_delay_ms)
        log_info("nng %s: refusals of frames that do not open wait %d ms "
                 "(workaround for nanomsg/nng#1636, fixed in nng 1.6.0)",
                 nng_version(), guard_delay_ms);
}

/* link_guard_enter - count a request of p in hand */
void
link_guard_enter(nng_pipe p)
{
    struct guard_pipe *g;

    pthread_mutex_lock(&guard_mu);
    if ((g = guard_find(guard_id(p), 1)) != NULL) {
        g->inflight++;
        g->count++;
    }
    pthread_mutex_unlock(&guard_mu);
}

/* link_guard_leave - the request is answered; an idle pipe leaves the table */
void
link_guard_leave(nng_pipe p)
{
    struct guard_pipe *g;

    pthread_mutex_lock(&guard_mu);
    if ((g = guard_find(guard_id(p), 0)) != NULL && --g->inflight <= 0)
        g->id = 0;
    pthread_mutex_unlock(&guard_mu);
}

/* link_guard_log - one line per address per second, with what was left out */
void
link_guard_log(nng_pipe p, const char *peer, const char *detail)
{
    char addr[INET6_ADDRSTRLEN], more[80] = "";
    uint32_t h = 2166136261u;
    struct guard_conn *c;
    struct guard_addr *a;
    int64_t now = clock_mono_ms();
    int emit = 0;

    pthread_mutex_lock(&guard_mu);
    c = &guard_conns[guard_id(p) % GUARD_CONNS];
    if (c->id == guard_id(p))
        snprintf(addr, sizeof(addr), "%s", c->addr);
    else
        addr[0] = '\0';
    pthread_mutex_unlock(&guard_mu);
    if (addr[0] == '\0')
        guard_addr_of(p, addr, sizeof(addr));
    for (const char *k = addr; *k; k++)
        h = (h ^ (uint8_t)*k) * 16777619u;
    pthread_mutex_lock(&guard_mu);
    a = &guard_addrs[h % GUARD_ADDRS];
    if (strcmp(a->addr, addr) != 0) {
        /* a new address (or one that shares the slot): start over */
        snprintf(a->addr, sizeof(a->addr), "%s", addr);
        a->last_ms = 0;
        a->suppressed = 0;
    }
    if (a->last_ms == 0 || now - a->last_ms >= GUARD_LOG_MS) {
        if (a->suppressed)
            snprintf(more, sizeof(more),
                     " (+%u refused since the last line from this address)",
                     a->suppressed);
        a->last_ms = now;
        a->suppressed = 0;
        emit = 1;
    } else {
        a->suppressed++;
    }
    pthread_mutex_unlock(&guard_mu);
    if (emit)
        log_warn("peer=%s addr=%s link frame refused: %s%s",
                 peer && peer[0] ? peer : "?", addr, detail, more);
}

/* guard_quiet - p is open and has not pipelined beyond a child's two */
static int
guard_quiet(nng_pipe p)
{
    struct guard_pipe *g;
    int ok;

    pthread_mutex_lock(&guard_mu);
    g = guard_find(guard_id(p), 0);
    ok = g != NULL && !g->closed && g->count <= LINK_GUARD_PIPELINE;
    pthread_mutex_unlock(&guard_mu);
    return ok;
}

/* link_guard_may_refuse - wait (bounded), then judge the pipe */
int
link_guard_may_refuse(struct node *n, nng_pipe p)
{
    int rc;

    if (!guard_quiet(p))
        return 0;
    if (guard_delay_ms == 0)
        return 1;
    if (atomic_fetch_add(&guard_waiting, 1) >= LINK_GUARD_WAITERS) {
        atomic_fetch_sub(&guard_waiting, 1);
        return 0;
    }
    rc = node_sleep(n, guard_delay_ms);
    atomic_fetch_sub(&guard_waiting, 1);
    return rc == 0 && guard_quiet(p);
}
