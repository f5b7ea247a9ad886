/*
 * link_guard.c - the cost and the answer of frames that do not open
 * (link_guard.h says why and cites the nng bug).
 *
 * Three small fixed tables under one mutex: the pipes a worker holds a
 * request of (by nng pipe id), the remote address of recent pipes (noted
 * when nng adds them), and per remote address the last log line and the
 * last cleartext refusal.
 *
 * A canary thread (nng < 1.6.0 only) makes and closes an inproc pipe every
 * 5 s; if nng's reaper has hung all the same, the node stops with a fatal
 * line naming the bug instead of starving without a word.
 *
 * DIAGNOSTICS: one warning per remote address per second,
 * "peer=<claimed id or ?> addr=<ip> link frame refused: <reason>", with
 * "(+N refused since the last line from this address)" when lines were
 * left out. At start, one line says which nng is linked and whether the
 * nng 1.5.2 workaround is on.
 *
 * SECURITY: nothing here reads a frame; every table is bounded (a full
 * pipe table means "answer nothing", the safe side).
 */
#include "link_guard.h"

#include <arpa/inet.h>
#include <nng/protocol/pair0/pair.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "node.h"

#define GUARD_PIPES 256 /* one slot per frame being opened (at most link_workers) */
#define GUARD_ADDRS 256
#define GUARD_CONNS 1024 /* remote address by pipe id, overwritten in turn */
#define GUARD_LOG_MS 1000
#define GUARD_CANARY_EVERY_MS 5000
#define GUARD_CANARY_WAIT_MS 10000

struct guard_pipe {
    uint32_t id; /* 0: free */
    int inflight; /* requests held by workers now */
    int count;    /* refused frames since the pipe was last idle */
    int closed;   /* nng removed the pipe */
};

struct guard_addr {
    char addr[INET6_ADDRSTRLEN];
    int64_t last_ms;        /* last log line */
    unsigned suppressed;    /* refusals not logged since */
    int64_t last_answer_ms; /* last cleartext refusal */
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
static atomic_int guard_delay_ms = LINK_GUARD_DELAY_MS;
static atomic_int guard_waiters = LINK_GUARD_WAITERS; /* at most a quarter of the workers */
/* all addresses together: at most GUARD_LOG_PER_S lines a second */
#define GUARD_LOG_PER_S 20
static int64_t guard_log_sec;
static unsigned guard_log_n, guard_log_dropped;
static pthread_t guard_canary_thr;
static int guard_canary_on;

static void *guard_canary_main(void *arg);

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

/* link_guard_pipe_added - note the new pipe's address */
void
link_guard_pipe_added(nng_pipe p)
{
    struct guard_conn c;

    c.id = guard_id(p);
    guard_addr_of(p, c.addr, sizeof(c.addr));
    pthread_mutex_lock(&guard_mu);
    guard_conns[c.id % GUARD_CONNS] = c;
    pthread_mutex_unlock(&guard_mu);
}

/* link_guard_pipe_removed - the pipe is gone */
void
link_guard_pipe_removed(nng_pipe p)
{
    struct guard_pipe *g;

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
link_guard_start(struct node *n, nng_socket sock)
{
    pthread_mutex_lock(&guard_mu);
    memset(guard_pipes, 0, sizeof(guard_pipes));
    memset(guard_addrs, 0, sizeof(guard_addrs));
    memset(guard_conns, 0, sizeof(guard_conns));
    pthread_mutex_unlock(&guard_mu);
    (void)sock; /* its pipe events reach us through link_down.c */
    guard_delay_ms = guard_nng_fixed() ? 0 : LINK_GUARD_DELAY_MS;
    guard_waiters = (int)(n->cfg.link_workers / 4) < LINK_GUARD_WAITERS
                        ? (int)(n->cfg.link_workers / 4) : LINK_GUARD_WAITERS;
    if (guard_waiters < 1)
        guard_waiters = 1;
    if (guard_delay_ms == 0)
        return;
    log_info("nng %s: refusals of frames that do not open wait %d..%d ms, one "
             "per address every %d s (workaround for nanomsg/nng#1636, fixed in "
             "nng 1.6.0)", nng_version(), guard_delay_ms,
             guard_delay_ms + LINK_GUARD_JITTER_MS, LINK_GUARD_ANSWER_EVERY_MS / 1000);
    guard_canary_on = pthread_create(&guard_canary_thr, NULL, guard_canary_main, n) == 0;
}

/* link_guard_enter - count a request of p in hand */
void
link_guard_enter(nng_pipe p)
{
    struct guard_pipe *g;

    pthread_mutex_lock(&guard_mu);
    if ((g = guard_find(guard_id(p), 1)) != NULL)
        g->inflight++;
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

/* guard_addr_text - the remote address of p: as noted when nng added the
 * pipe, else asked now ("?" when the peer has reset: no address left) */
static void
guard_addr_text(nng_pipe p, char *addr, size_t addrlen)
{
    struct guard_conn *c = &guard_conns[guard_id(p) % GUARD_CONNS];

    pthread_mutex_lock(&guard_mu);
    if (c->id == guard_id(p))
        snprintf(addr, addrlen, "%s", c->addr);
    else
        addr[0] = '\0';
    pthread_mutex_unlock(&guard_mu);
    if (addr[0] == '\0') /* added before link_guard_start watched */
        guard_addr_of(p, addr, addrlen);
}

/* guard_addr_slot - the address table's slot for addr, or NULL when
 * another address holds it and was active within the last
 * LINK_GUARD_ANSWER_EVERY_MS: a colliding address never resets another's
 * limits (it gets no line and no answer of its own until the slot is
 * quiet). Under guard_mu. */
static struct guard_addr *
guard_addr_slot(const char *addr, int64_t now)
{
    struct guard_addr *a;
    uint32_t h = 2166136261u;

    for (const char *k = addr; *k; k++)
        h = (h ^ (uint8_t)*k) * 16777619u;
    a = &guard_addrs[h % GUARD_ADDRS];
    if (strcmp(a->addr, addr) != 0) {
        if ((a->last_ms && now - a->last_ms < LINK_GUARD_ANSWER_EVERY_MS) ||
            (a->last_answer_ms && now - a->last_answer_ms < LINK_GUARD_ANSWER_EVERY_MS))
            return NULL;
        memset(a, 0, sizeof(*a));
        snprintf(a->addr, sizeof(a->addr), "%s", addr);
    }
    return a;
}

/* guard_log_budget - one of the GUARD_LOG_PER_S lines all addresses share
 * this second; 0 (counted as dropped) when they are spent. Under guard_mu. */
static int
guard_log_budget(int64_t now)
{
    if (now / 1000 != guard_log_sec) {
        guard_log_sec = now / 1000;
        guard_log_n = 0;
    }
    if (guard_log_n >= GUARD_LOG_PER_S) {
        guard_log_dropped++;
        return 0;
    }
    guard_log_n++;
    return 1;
}

/* link_guard_log - one line per address per second, with what was left out */
void
link_guard_log(nng_pipe p, const char *peer, const char *detail)
{
    char addr[INET6_ADDRSTRLEN], more[160] = "";
    struct guard_addr *a;
    int64_t now = clock_mono_ms();
    int emit = 0;

    guard_addr_text(p, addr, sizeof(addr));
    pthread_mutex_lock(&guard_mu);
    a = guard_addr_slot(addr, now);
    if (a == NULL) {
        guard_log_dropped++;
    } else if ((a->last_ms == 0 || now - a->last_ms >= GUARD_LOG_MS) &&
               guard_log_budget(now)) {
        int m = a->suppressed ? snprintf(more, sizeof(more),
                                         " (+%u refused since the last line from this "
                                         "address)", a->suppressed)
                              : 0;
        if (guard_log_dropped)
            snprintf(more + m, sizeof(more) - (size_t)m,
                     " (+%u from addresses not logged)", guard_log_dropped);
        guard_log_dropped = 0;
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

/* guard_quiet - p is open and has not pipelined beyond a child's two
 * frames that do not open (count this one first when refused is set) */
static int
guard_quiet(nng_pipe p, int refused)
{
    struct guard_pipe *g;
    int ok;

    pthread_mutex_lock(&guard_mu);
    g = guard_find(guard_id(p), 0);
    if (g != NULL && refused)
        g->count++;
    ok = g != NULL && !g->closed && g->count <= LINK_GUARD_PIPELINE;
    pthread_mutex_unlock(&guard_mu);
    return ok;
}

/* guard_budget - take the address's one cleartext refusal per
 * LINK_GUARD_ANSWER_EVERY_MS; 0 when it is spent */
static int
guard_budget(nng_pipe p)
{
    char addr[INET6_ADDRSTRLEN];
    struct guard_addr *a;
    int64_t now = clock_mono_ms();
    int ok;

    guard_addr_text(p, addr, sizeof(addr));
    pthread_mutex_lock(&guard_mu);
    a = guard_addr_slot(addr, now);
    ok = a != NULL && strcmp(addr, "?") != 0 &&
         (a->last_answer_ms == 0 || now - a->last_answer_ms >= LINK_GUARD_ANSWER_EVERY_MS);
    if (ok)
        a->last_answer_ms = now;
    pthread_mutex_unlock(&guard_mu);
    return ok;
}

/* link_guard_may_refuse - wait (bounded), then judge the pipe */
int
link_guard_may_refuse(struct node *n, nng_pipe p)
{
    int rc;

    if (!guard_quiet(p, 1))
        return 0;
    if (guard_delay_ms == 0)
        return 1;
    /* a waiter's place first: an address's one answer is spent only on an
     * answer that can be given */
    if (atomic_fetch_add(&guard_waiting, 1) >= guard_waiters || !guard_budget(p)) {
        atomic_fetch_sub(&guard_waiting, 1);
        return 0;
    }
    /* a random point in the window: a peer cannot time a reset to the
     * instant of our answer */
    rc = node_sleep(n, guard_delay_ms + (int64_t)randombytes_uniform(LINK_GUARD_JITTER_MS));
    atomic_fetch_sub(&guard_waiting, 1);
    return rc == 0 && guard_quiet(p, 0);
}

/* guard_canary_seen - REM_POST of the canary's pipe: the reaper ran */
static void
guard_canary_seen(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    atomic_store((atomic_int *)arg, 1);
}

/* guard_canary_once - an inproc pipe made and closed: 0 when nng's reaper
 * freed it within GUARD_CANARY_WAIT_MS, -1 when it did not */
static int
guard_canary_once(struct node *n, unsigned k)
{
    static atomic_int seen;
    nng_socket a, b;
    char url[96];
    int64_t until;
    int rc = 0;

    snprintf(url, sizeof(url), "inproc://relay-canary-%ld-%u", (long)getpid(), k);
    atomic_store(&seen, 0);
    if (nng_pair0_open(&a) != 0)
        return 0;
    if (nng_pair0_open(&b) != 0) {
        nng_close(a);
        return 0;
    }
    nng_pipe_notify(a, NNG_PIPE_EV_REM_POST, guard_canary_seen, &seen);
    if (nng_listen(a, url, NULL, 0) != 0 || nng_dial(b, url, NULL, 0) != 0) {
        nng_close(b);
        nng_close(a);
        return 0; /* nothing learnt */
    }
    if (node_close_socket(n, b, "canary", GUARD_CANARY_WAIT_MS) != 0)
        return -1;
    until = clock_mono_ms() + GUARD_CANARY_WAIT_MS;
    while (!atomic_load(&seen) && clock_mono_ms() < until &&
           !atomic_load(&n->stopping))
        node_sleep(n, 20);
    if (!atomic_load(&seen) && !atomic_load(&n->stopping))
        rc = -1;
    if (node_close_socket(n, a, "canary", GUARD_CANARY_WAIT_MS) != 0)
        rc = -1;
    return rc;
}

/* guard_canary_main - every few seconds, check that nng still frees pipes;
 * if its reaper hangs (nanomsg/nng#1636), descriptors are never released
 * again and the node can only starve: stop it loudly instead */
static void *
guard_canary_main(void *arg)
{
    struct node *n = arg;

    for (unsigned k = 0; node_sleep(n, GUARD_CANARY_EVERY_MS) == 0; k++)
        if (guard_canary_once(n, k) != 0 && !atomic_load(&n->stopping))
            log_fatal("nng no longer frees closed connections (its reaper hangs, "
                      "nanomsg/nng#1636, fixed in nng 1.6.0): every descriptor "
                      "would leak from now on; stopping so that the node restarts "
                      "clean");
    return NULL;
}

/* link_guard_stop - end the canary */
void
link_guard_stop(void)
{
    if (guard_canary_on)
        pthread_join(guard_canary_thr, NULL);
    guard_canary_on = 0;
}
