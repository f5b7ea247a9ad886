/*
 * link_down.c - the parent's end: serve the children that dial in.
 *
 * No thread per child (issue 9). Requests arrive on rep contexts ("slots")
 * driven by aio callbacks; a fixed pool of link_workers threads opens each
 * one, checks it (known node, our child), sends its acknowledgements and
 * its verified pushes to the writer, and only after those commits tells the
 * child what is stored. A poll with nothing to deliver is parked: its slot
 * waits in a deadline heap for the hold time (the child's hold_ms, at most
 * poll_hold_ms) and holds no thread; one timer thread ends the holds. A commit that queues something for a
 * child wakes that child's parked poll alone (store_on_queue -> down_wake,
 * which finds the child by the directory's id index);
 * the others sleep on. Slots are made as they are needed, so that DOWN_SPARE
 * of them always wait for the next request however many polls are parked:
 * a push is taken at once. Each child has at most one poll parked (a newer
 * one answers the older); a closed connection ends its child's parked poll.
 *
 * Connections are admitted while descriptors last: at start the open-file
 * limit is raised to its hard limit and the number of child connections
 * that leaves room for is logged; beyond it a new connection is closed
 * before use, with a logged reason (rate-limited). Per child the parent
 * keeps one connection, at most two slots (a parked poll and a push, about
 * 1 KiB with their nng contexts and aios), and the fixed per-index tables
 * below.
 *
 * Every request arrives sealed (link_seal.h). The claimed sender must be
 * our child in the directory before any key is derived; a frame that does
 * not open is logged with its reason (at most once a second per remote
 * address), answered at most with the one cleartext refusal that names no
 * node (link_guard.h: also why it may go unanswered on nng 1.5.2), and
 * never reaches the writer. A handshake opens a session (link_seal.h: one
 * per connection, forward secret); a reply is sealed under the session and
 * counter of the request it answers.
 *
 * What a request means (acknowledgements, pushes, the audit head, who may
 * dial in) is in link_child.c; this file moves requests and answers.
 *
 * SECURITY: only an authenticated poll of our child is parked, one per
 * child, so a peer that does not authenticate can make no slot wait; the
 * slots in all are capped at twice the connections admitted. Nothing from
 * a frame is acted on before it opened with the claimed child's key.
 */
#include <dirent.h>
#include <limits.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "link.h"
#include "link_child.h"
#include "link_guard.h"
#include "link_seal.h"
#include "audit.h"
#include "log.h"
#include "metrics.h"
#include "node.h"

/* child_seen_ms holds one slot per directory index: those of the directory
 * the node started with, and room for children enrolled while it runs. */
#define DOWN_SEEN_SPARE 4096
#define DOWN_SLOTS_START 64 /* request slots made at start */
#define DOWN_SPARE 16       /* slots kept receiving beyond those parked or busy */
#define DOWN_FD_RESERVE 96  /* descriptors kept for the store, logs, control */
#define DOWN_FULL_LOG_MS 10000

/*
 * A slot is one rep context and its aio; it carries one request at a time
 * through RECV (waiting for a request) -> NEW (queued for a worker) ->
 * PARKED (a poll with nothing to deliver: in the deadline heap, taken out
 * by the timer thread or early by down_wake) -> DUE (queued: read the
 * outbox and answer) ->
 * SEND -> RECV. Only the aio callback and the workers move a slot, and only
 * one of them holds it at a time; the parked table is under D.mu.
 */
enum slot_state { SLOT_RECV, SLOT_NEW, SLOT_PARKED, SLOT_DUE, SLOT_SEND, SLOT_DEAD };

struct down_slot {
    struct node *n;
    nng_ctx ctx;
    nng_aio *aio;
    enum slot_state state;
    nng_msg *msg;            /* NEW: the request */
    nng_pipe pipe;           /* the pipe of the request in hand */
    struct link_seal_ctx sc; /* PARKED, DUE: the key to seal the answer */
    size_t ix;               /* PARKED, DUE: the child's directory index */
    int64_t due_ms;          /* PARKED: when its hold ends (monotonic) */
    size_t heap_ix;          /* PARKED: its place in D.heap */
    struct down_slot *next;  /* in the work queue */
};

/* The server's state (one downstream server per process). */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct down_slot *head, *tail; /* work queue */
    struct down_slot **all;        /* every slot, for stop */
    size_t n_all, cap_all, max_all;
    atomic_int receiving;          /* slots in RECV */
    atomic_int stopping;
    pthread_t *thr;
    int nthr;
    /* parked polls by the end of their hold: a binary min-heap, served by
     * one timer thread. Not nng_sleep_aio: nng 1.5.2 (and later) rescans
     * every pending timed aio each time its expire thread wakes, which at
     * 4,000 parked polls took 58% of an idle parent's CPU. */
    struct down_slot **heap;
    size_t n_heap, cap_heap;
    pthread_cond_t tcv;
    pthread_t timer;
    int timer_on;
    /* per directory index (n_child_seen entries), under mu */
    struct down_slot **parked;     /* the child's parked poll, or NULL */
    uint64_t *gen;                 /* bumped when something is queued for it */
    uint32_t *pipe_of;             /* pipe of its last request; 0: none open */
    /* connections: admitted at most max_pipes (the open-file limit) */
    atomic_int pipes;
    int max_pipes;
    int64_t full_logged_ms;
    unsigned full_refused;
    nng_socket sock;
    int open;
    atomic_int listening;          /* listener and workers run: /readyz */
} D = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
       .tcv = PTHREAD_COND_INITIALIZER};

/* ----------------------------------------------------------------- slots */

static void slot_cb(void *arg);

/* slot_recv - wait for the next request on s */
static void
slot_recv(struct down_slot *s)
{
    s->state = SLOT_RECV;
    atomic_fetch_add(&D.receiving, 1);
    nng_ctx_recv(s->ctx, s->aio);
}

/* slot_new - one more slot, receiving; NULL when none can be made */
static struct down_slot *
slot_new(struct node *n)
{
    struct down_slot *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->n = n;
    if (nng_aio_alloc(&s->aio, slot_cb, s) != 0) {
        free(s);
        return NULL;
    }
    if (nng_ctx_open(&s->ctx, D.sock) != 0) {
        nng_aio_free(s->aio);
        free(s);
        return NULL;
    }
    if (D.n_all == D.cap_all) {
        size_t cap = D.cap_all ? 2 * D.cap_all : 256;
        struct down_slot **v = realloc(D.all, cap * sizeof(*v));
        if (v == NULL) {
            nng_ctx_close(s->ctx);
            nng_aio_free(s->aio);
            free(s);
            return NULL;
        }
        D.all = v;
        D.cap_all = cap;
    }
    D.all[D.n_all++] = s;
    return s;
}

/* down_spare - keep DOWN_SPARE slots receiving, so that a push is taken at
 * once however many polls are parked (at most max_all slots in all) */
static void
down_spare(struct node *n)
{
    while (atomic_load(&D.receiving) < DOWN_SPARE && !atomic_load(&D.stopping)) {
        struct down_slot *s = NULL;
        pthread_mutex_lock(&D.mu);
        if (D.n_all < D.max_all)
            s = slot_new(n);
        pthread_mutex_unlock(&D.mu);
        if (s == NULL)
            return;
        slot_recv(s);
    }
}

/* work_push_locked - queue s for a worker (under D.mu) */
static void
work_push_locked(struct down_slot *s)
{
    s->next = NULL;
    if (D.tail)
        D.tail->next = s;
    else
        D.head = s;
    D.tail = s;
    pthread_cond_signal(&D.cv);
}

/* work_push - queue s for a worker */
static void
work_push(struct down_slot *s)
{
    pthread_mutex_lock(&D.mu);
    work_push_locked(s);
    pthread_mutex_unlock(&D.mu);
}

/* slot_cb - the aio of s completed: a request arrived, a parked poll's
 * time is up (or it was woken), or an answer went out */
static void
slot_cb(void *arg)
{
    struct down_slot *s = arg;
    int rv = nng_aio_result(s->aio);

    switch (s->state) {
    case SLOT_RECV:
        atomic_fetch_sub(&D.receiving, 1);
        if (rv == NNG_ECLOSED || atomic_load(&D.stopping)) {
            if (rv == 0)
                nng_msg_free(nng_aio_get_msg(s->aio));
            s->state = SLOT_DEAD;
        } else if (rv != 0) {
            slot_recv(s);
        } else {
            s->msg = nng_aio_get_msg(s->aio);
            s->state = SLOT_NEW;
            work_push(s);
        }
        break;
    case SLOT_SEND:
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(s->aio));
        if (atomic_load(&D.stopping))
            s->state = SLOT_DEAD;
        else
            slot_recv(s);
        break;
    default:
        break;
    }
}

/* heap_swap, heap_up, heap_down - keep D.heap ordered by due_ms (under D.mu) */
static void
heap_swap(size_t a, size_t b)
{
    struct down_slot *t = D.heap[a];

    D.heap[a] = D.heap[b];
    D.heap[b] = t;
    D.heap[a]->heap_ix = a;
    D.heap[b]->heap_ix = b;
}

static void
heap_up(size_t i)
{
    while (i > 0 && D.heap[(i - 1) / 2]->due_ms > D.heap[i]->due_ms) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void
heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < D.n_heap && D.heap[l]->due_ms < D.heap[m]->due_ms)
            m = l;
        if (r < D.n_heap && D.heap[r]->due_ms < D.heap[m]->due_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

/* park_locked - park s (a poll of child ix) until due_ms; 0, or -1 when
 * the heap cannot grow (the poll is answered now). Under D.mu. */
static int
park_locked(struct down_slot *s)
{
    if (D.n_heap == D.cap_heap) {
        size_t cap = D.cap_heap ? 2 * D.cap_heap : 256;
        struct down_slot **h = realloc(D.heap, cap * sizeof(*h));
        if (h == NULL)
            return -1;
        D.heap = h;
        D.cap_heap = cap;
    }
    s->state = SLOT_PARKED;
    s->heap_ix = D.n_heap;
    D.heap[D.n_heap++] = s;
    heap_up(s->heap_ix);
    D.parked[s->ix] = s;
    if (s->heap_ix == 0)
        pthread_cond_signal(&D.tcv); /* a new earliest end */
    return 0;
}

/* unpark_locked - s leaves the heap and is queued as due (under D.mu) */
static void
unpark_locked(struct down_slot *s)
{
    size_t i = s->heap_ix;

    if (D.parked[s->ix] == s)
        D.parked[s->ix] = NULL;
    if (--D.n_heap > i) {
        heap_swap(i, D.n_heap);
        heap_down(i);
        heap_up(i);
    }
    s->state = SLOT_DUE;
    work_push_locked(s);
}

/* down_timer - end the holds that are due */
static void *
down_timer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&D.mu);
    while (!atomic_load(&D.stopping)) {
        int64_t now = clock_mono_ms(), wait;
        struct timespec ts;
        if (D.n_heap > 0 && D.heap[0]->due_ms <= now) {
            unpark_locked(D.heap[0]);
            continue;
        }
        wait = D.n_heap > 0 ? D.heap[0]->due_ms - now : 1000;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&D.tcv, &D.mu, &ts);
    }
    pthread_mutex_unlock(&D.mu);
    return NULL;
}

/* slot_send - send frame (a copy) as the answer on s; nothing to send, or
 * no memory for it: s just receives again (rep0 forgets the request) */
static void
slot_send(struct down_slot *s, const uint8_t *frame, size_t len)
{
    nng_msg *msg;

    if (frame == NULL || nng_msg_alloc(&msg, len) != 0) {
        slot_recv(s);
        return;
    }
    memcpy(nng_msg_body(msg), frame, len);
    s->state = SLOT_SEND;
    nng_aio_set_msg(s->aio, msg);
    nng_ctx_send(s->ctx, s->aio);
}

/* down_reply - encode rep, seal it under the request's key, send it; the
 * key is wiped */
static void
down_reply(struct down_slot *s, Relay__LinkReply *rep)
{
    size_t len, flen = 0;
    uint8_t *pt, *frame = NULL;

    rep->now_us = clock_now_us(); /* the child compares clocks (skew) */
    len = relay__link_reply__get_packed_size(rep);
    if ((pt = malloc(len ? len : 1)) != NULL) {
        relay__link_reply__pack(rep, pt);
        if (link_seal_reply(&s->sc, pt, len, &frame, &flen) != RL_OK) {
            log_warn("peer=%s reply not sealed", s->sc.from);
            frame = NULL;
        }
        free(pt);
    }
    link_seal_wipe(&s->sc);
    slot_send(s, frame, flen);
    free(frame);
}

/* down_refuse - log why a frame did not open (rate-limited, link_guard.h)
 * and answer, if at all, with the one refusal that names no node */
static void
down_refuse(struct node *n, struct down_slot *s, int rc, const char *why)
{
    char err[320];
    uint8_t *frame = NULL;
    size_t flen = 0;

    if (rc == RL_ENOMEM)
        snprintf(err, sizeof(err), "temporary failure: %s", rl_strerror(rc));
    else if (rc == RL_EUNKNOWN || rc == RL_EPERM)
        snprintf(err, sizeof(err), "request refused: %s", why);
    else if (rc == RL_EINVAL)
        snprintf(err, sizeof(err), "malformed link frame: %s", why);
    else
        snprintf(err, sizeof(err), "frame does not authenticate: %s", why);
    link_guard_log(s->pipe, s->sc.from, err);
    metrics_note_frame_refused(rc);
    link_seal_wipe(&s->sc);
    /* short of memory is no refusal: no answer, the child times out and
     * tries again */
    if (rc == RL_ENOMEM || !link_guard_may_refuse(n, s->pipe) ||
        link_seal_error(LINK_GUARD_REFUSAL, &frame, &flen) != RL_OK)
        frame = NULL;
    slot_send(s, frame, flen);
    free(frame);
}

/* reply_free - what down_handle and the outbox read put in rep */
static void
reply_free(Relay__LinkReply *rep)
{
    for (size_t i = 0; i < rep->n_stored; i++)
        free(rep->stored[i].data);
    free(rep->stored);
    for (size_t i = 0; i < rep->n_refused; i++) {
        free(rep->refused[i]->reason);
        free(rep->refused[i]->id.data);
        free(rep->refused[i]);
    }
    free(rep->refused);
    link_free_envelopes(rep->deliver, rep->n_deliver);
    free(rep->deliver);
}

/* down_fill - the head of child ix's outbox into rep->deliver */
static int
down_fill(struct node *n, size_t ix, struct outbox_item *items, Relay__LinkReply *rep)
{
    size_t count = 0;
    int rc;

    rep->deliver = calloc((size_t)n->cfg.batch_max, sizeof(*rep->deliver));
    if (rep->deliver == NULL)
        return RL_ENOMEM;
    rc = link_outbox_read(n, node_dir(n)->nodes[ix].id, items, rep->deliver, &count);
    rep->n_deliver = count;
    return rc;
}

/* down_poll - answer a poll now if something waits for the child, else
 * park it for hold_ms: 1 parked (s belongs to the parked table), 0 rep is
 * ready to send */
static int
down_poll(struct node *n, struct down_slot *s, size_t ix, int64_t hold_ms,
          struct outbox_item *items, Relay__LinkReply *rep)
{
    for (;;) {
        struct down_slot *old;
        uint64_t gen;

        pthread_mutex_lock(&D.mu);
        gen = D.gen[ix];
        pthread_mutex_unlock(&D.mu);
        if (down_fill(n, ix, items, rep) != RL_OK || rep->n_deliver > 0 || hold_ms <= 0 ||
            atomic_load(&D.stopping))
            return 0;
        free(rep->deliver);
        rep->deliver = NULL;
        pthread_mutex_lock(&D.mu);
        if (atomic_load(&D.stopping)) {
            pthread_mutex_unlock(&D.mu);
            return 0;
        }
        if (D.gen[ix] != gen) { /* queued meanwhile: read again */
            pthread_mutex_unlock(&D.mu);
            continue;
        }
        /* a child has one poll outstanding: an older one parked here is
         * one it gave up on (its pipe broke); answer that one now */
        if ((old = D.parked[ix]) != NULL)
            unpark_locked(old);
        s->ix = ix;
        s->due_ms = clock_mono_ms() + hold_ms;
        if (park_locked(s) != 0) {
            pthread_mutex_unlock(&D.mu);
            return 0;
        }
        pthread_mutex_unlock(&D.mu);
        return 1;
    }
}

/* down_request - open, check and handle the request in s, then answer it
 * or park it */
static void
down_request(struct node *n, struct down_slot *s, struct outbox_item *items)
{
    Relay__LinkReply rep = RELAY__LINK_REPLY__INIT;
    Relay__LinkRequest *req = NULL;
    char err[256] = "", why[256] = "";
    nng_msg *msg = s->msg;
    uint8_t *pt = NULL;
    size_t ptlen = 0;
    long ix = -1;
    int rc;

    s->msg = NULL;
    s->pipe = nng_msg_get_pipe(msg);
    link_guard_enter(s->pipe);
    rc = link_open_request(n->kp, link_child_peer, n, nng_msg_body(msg), nng_msg_len(msg),
                           &s->sc, &pt, &ptlen, why, sizeof(why));
    nng_msg_free(msg);
    if (rc != RL_OK) {
        down_refuse(n, s, rc, why);
        link_guard_leave(s->pipe);
        return;
    }
    link_guard_leave(s->pipe); /* authenticated: the guard no longer counts it */
    if (s->sc.handshake) {
        /* a new session: its answer is the reply (link_seal.h) */
        slot_send(s, s->sc.hs_reply, s->sc.hs_reply_len);
        link_seal_wipe(&s->sc);
        return;
    }
    req = relay__link_request__unpack(NULL, ptlen, pt);
    free(pt);
    if (req == NULL) {
        snprintf(err, sizeof(err), "malformed link request (not a decodable LinkRequest)");
        log_warn("peer=%s %s", s->sc.from, err);
    } else if (strcmp(req->from, s->sc.from) != 0) {
        snprintf(err, sizeof(err), "the link request names another sender than its frame");
        log_warn("peer=%s request refused: %s", s->sc.from, err);
    } else {
        link_child_request(n, req, &rep, &ix, err, sizeof(err));
        if (err[0])
            log_warn("peer=%s request refused: %s", req->from, err);
    }
    if (ix >= 0) {
        pthread_mutex_lock(&D.mu);
        D.pipe_of[ix] = (uint32_t)nng_pipe_id(s->pipe);
        pthread_mutex_unlock(&D.mu);
    }
    if (ix >= 0 && req->poll) {
        int64_t hold = n->cfg.poll_hold_ms;
        if ((int64_t)req->hold_ms < hold)
            hold = (int64_t)req->hold_ms; /* the child waits no longer (0: not at all) */
        if (down_poll(n, s, (size_t)ix, hold, items, &rep)) {
            reply_free(&rep);
            relay__link_request__free_unpacked(req, NULL);
            return;
        }
    }
    rep.error = err;
    down_reply(s, &rep);
    rep.error = NULL;
    reply_free(&rep);
    if (req)
        relay__link_request__free_unpacked(req, NULL);
}

/* down_due - a parked poll's time is up, or something was queued for its
 * child: answer with the head of the child's outbox (perhaps nothing) */
static void
down_due(struct node *n, struct down_slot *s, struct outbox_item *items)
{
    Relay__LinkReply rep = RELAY__LINK_REPLY__INIT;

    rep.error = (char *)"";
    if (!atomic_load(&D.stopping))
        (void)down_fill(n, s->ix, items, &rep); /* a read that failed: answer empty */
    atomic_store(&n->child_seen_ms[s->ix], clock_mono_ms());
    down_reply(s, &rep);
    rep.error = NULL;
    reply_free(&rep);
}

/* down_worker - a worker: take slots from the queue and move them on */
static void *
down_worker(void *arg)
{
    struct node *n = arg;
    struct outbox_item *items = calloc((size_t)n->cfg.batch_max, sizeof(*items));

    if (items == NULL)
        log_fatal("link: cannot start a downstream worker");
    for (;;) {
        struct down_slot *s;

        pthread_mutex_lock(&D.mu);
        while (D.head == NULL && !atomic_load(&D.stopping))
            pthread_cond_wait(&D.cv, &D.mu);
        if ((s = D.head) != NULL && (D.head = s->next) == NULL)
            D.tail = NULL;
        pthread_mutex_unlock(&D.mu);
        if (s == NULL)
            break;
        if (s->state == SLOT_NEW)
            down_request(n, s, items);
        else
            down_due(n, s, items);
        down_spare(n);
    }
    free(items);
    return NULL;
}

/* down_wake - store_on_queue: something was committed to child peer's
 * outbox; its parked poll, if any, is answered now. Other polls sleep on. */
static void
down_wake(void *arg, const char *peer)
{
    struct node *n = arg;
    const struct directory *d = node_dir(n); /* its id index: no scan */
    const struct dir_node *c = dir_find(d, peer);
    struct down_slot *s;
    size_t ix;

    if (c == NULL || (ix = (size_t)(c - d->nodes)) >= n->n_child_seen)
        return; /* enrolled by this very commit: nothing of it is parked */
    pthread_mutex_lock(&D.mu);
    if (D.parked != NULL) {
        D.gen[ix]++;
        if ((s = D.parked[ix]) != NULL)
            unpark_locked(s); /* answered now */
    }
    pthread_mutex_unlock(&D.mu);
}

/* ----------------------------------------------------------- connections */

/* down_pipe_pre - admit a connection while there are descriptors for it;
 * else close it before it is used (nng allows that in ADD_PRE) and log */
static void
down_pipe_pre(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    int k = atomic_fetch_add(&D.pipes, 1) + 1;
    int64_t now = clock_mono_ms();

    (void)ev;
    (void)arg;
    if (k <= D.max_pipes)
        return;
    nng_pipe_close(p);
    pthread_mutex_lock(&D.mu);
    D.full_refused++;
    if (now - D.full_logged_ms >= DOWN_FULL_LOG_MS) {
        log_warn("children: connection refused: %d open, the most the open-file limit "
                 "allows (%u refused in the last %d s); raise LimitNOFILE",
                 D.max_pipes, D.full_refused, DOWN_FULL_LOG_MS / 1000);
        D.full_logged_ms = now;
        D.full_refused = 0;
    }
    pthread_mutex_unlock(&D.mu);
}

/* down_pipe_added - note the address for the guard's log lines */
static void
down_pipe_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    (void)arg;
    link_guard_pipe_added(p);
}

/* down_pipe_gone - a connection closed: a child on it is no longer
 * connected, and its parked poll (no one to read the answer) ends */
static void
down_pipe_gone(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct node *n = arg;
    uint32_t id = (uint32_t)nng_pipe_id(p);

    (void)ev;
    atomic_fetch_sub(&D.pipes, 1);
    link_guard_pipe_removed(p);
    pthread_mutex_lock(&D.mu);
    for (size_t ix = 0; D.pipe_of && ix < n->n_child_seen; ix++) {
        if (D.pipe_of[ix] != id)
            continue;
        D.pipe_of[ix] = 0;
        if (D.parked[ix] != NULL)
            unpark_locked(D.parked[ix]);
    }
    pthread_mutex_unlock(&D.mu);
}

/* down_fd_limit - raise the open-file limit to the hard limit; the number
 * of child connections that leaves room for */
static int
down_fd_limit(void)
{
    struct rlimit rl;
    long open_now = 0;
    DIR *dir;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024 - DOWN_FD_RESERVE;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    if ((dir = opendir("/proc/self/fd")) != NULL) {
        while (readdir(dir) != NULL)
            open_now++;
        closedir(dir);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)INT_MAX / 2)
        rl.rlim_cur = (rlim_t)INT_MAX / 2;
    long room = (long)rl.rlim_cur - open_now - DOWN_FD_RESERVE;
    return room > 1 ? (int)room : 1;
}

/* link_down_connected - a child is connected when its connection is open
 * and it has a poll parked here or was answered within link_timeout_ms:
 * the same test its own status applies (link_up.c) */
int
link_down_connected(struct node *n, size_t ix, int64_t now_ms, int *parked)
{
    int64_t seen;
    int up;

    if (parked)
        *parked = 0;
    if (!D.open || ix >= n->n_child_seen)
        return 0;
    seen = atomic_load(&n->child_seen_ms[ix]);
    pthread_mutex_lock(&D.mu);
    up = D.pipe_of[ix] != 0 &&
         (D.parked[ix] != NULL || (seen > 0 && now_ms - seen < n->cfg.link_timeout_ms));
    if (parked)
        *parked = D.parked[ix] != NULL;
    pthread_mutex_unlock(&D.mu);
    return up;
}

/* link_down_seen_ms - when child ix last made a request (monotonic ms),
 * 0 if never or while the listener is not running: the tables exist only
 * between link_down_start and link_down_stop, and the HTTP API answers
 * before and after (a status read raced the start and crashed) */
int64_t
link_down_seen_ms(struct node *n, size_t ix)
{
    int64_t seen = 0;

    pthread_mutex_lock(&D.mu);
    if (D.open && ix < n->n_child_seen && n->child_seen_ms != NULL)
        seen = atomic_load(&n->child_seen_ms[ix]);
    pthread_mutex_unlock(&D.mu);
    return seen;
}

/* link_down_start - tables, socket, slots, listener, workers */
int
link_down_start(struct node *n)
{
    size_t maxsz = config_frame_max(&n->cfg);
    int rc;

    /* indexes of the directory in force; enrolment appends nodes */
    n->n_child_seen = n->dir.n + DOWN_SEEN_SPARE;
    n->child_seen_ms = calloc(n->n_child_seen, sizeof(*n->child_seen_ms));
    n->child_heads = calloc(n->n_child_seen, sizeof(*n->child_heads));
    D.parked = calloc(n->n_child_seen, sizeof(*D.parked));
    D.gen = calloc(n->n_child_seen, sizeof(*D.gen));
    D.pipe_of = calloc(n->n_child_seen, sizeof(*D.pipe_of));
    n->child_head_seq = calloc(n->n_child_seen, sizeof(*n->child_head_seq));
    if (n->child_seen_ms == NULL || n->child_heads == NULL || D.parked == NULL ||
        D.gen == NULL || D.pipe_of == NULL || n->child_head_seq == NULL)
        return RL_ENOMEM;
    D.max_pipes = down_fd_limit();
    /* every child holds at most a poll and a push; the rest take turns */
    D.max_all = 2 * (size_t)D.max_pipes + DOWN_SPARE;
    atomic_store(&D.stopping, 0);
    atomic_store(&D.pipes, 0);
    if ((rc = nng_rep0_open(&D.sock)) != 0) {
        log_warn("downstream: cannot open a socket: %s", nng_strerror(rc));
        return RL_ELINK;
    }
    D.open = 1;
    nng_socket_set_size(D.sock, NNG_OPT_RECVMAXSZ, maxsz);
    nng_pipe_notify(D.sock, NNG_PIPE_EV_ADD_PRE, down_pipe_pre, n);
    nng_pipe_notify(D.sock, NNG_PIPE_EV_ADD_POST, down_pipe_added, n);
    nng_pipe_notify(D.sock, NNG_PIPE_EV_REM_POST, down_pipe_gone, n);
    link_guard_start(n, D.sock);
    store_on_queue(n->store, down_wake, n);
    for (int i = 0; i < DOWN_SLOTS_START; i++) {
        struct down_slot *s;
        pthread_mutex_lock(&D.mu);
        s = slot_new(n);
        pthread_mutex_unlock(&D.mu);
        if (s == NULL)
            return RL_ENOMEM;
        slot_recv(s);
    }
    if ((rc = nng_listen(D.sock, n->cfg.listen, NULL, 0)) != 0) {
        log_warn("downstream: cannot listen on %s: %s", n->cfg.listen, nng_strerror(rc));
        return RL_ELINK;
    }
    if (pthread_create(&D.timer, NULL, down_timer, n) != 0)
        log_fatal("downstream: cannot start the hold timer");
    D.timer_on = 1;
    D.nthr = (int)n->cfg.link_workers;
    if ((D.thr = calloc((size_t)D.nthr, sizeof(*D.thr))) == NULL)
        return RL_ENOMEM;
    for (int i = 0; i < D.nthr; i++)
        if (pthread_create(&D.thr[i], NULL, down_worker, n) != 0)
            log_fatal("downstream: cannot start threads");
    log_info("listening for children on %s: up to %d child connections (open-file "
             "limit), %d workers, polls held up to %lld ms",
             n->cfg.listen, D.max_pipes, D.nthr, (long long)n->cfg.poll_hold_ms);
    atomic_store(&D.listening, 1);
    return RL_OK;
}

/* link_down_listening - the listener and its workers run (not stopping) */
int
link_down_listening(void)
{
    return atomic_load(&D.listening) && !atomic_load(&D.stopping);
}

/* link_down_stop - answer nothing more: end the parked polls, close the
 * socket (every receive ends), join the workers, free the slots */
void
link_down_stop(struct node *n)
{
    int closed;

    if (!D.open)
        return;
    atomic_store(&D.listening, 0);
    atomic_store(&D.stopping, 1);
    store_on_queue(n->store, NULL, NULL);
    pthread_mutex_lock(&D.mu);
    while (D.n_heap > 0) /* answered (empty) by the workers */
        unpark_locked(D.heap[0]);
    pthread_cond_broadcast(&D.cv);
    pthread_cond_broadcast(&D.tcv);
    pthread_mutex_unlock(&D.mu);
    if (D.timer_on)
        pthread_join(D.timer, NULL);
    D.timer_on = 0;
    /* the workers go before the socket: a worker answering an unparked
     * poll calls nng_ctx_send, and nng 1.5.2 does not survive that racing
     * nng_close (it panicked, "pthread_mutex_lock: Invalid argument", when
     * the node was stopped with its children connected). Once stopping,
     * the slot callbacks call nng no more. */
    for (int i = 0; i < D.nthr && D.thr; i++)
        pthread_join(D.thr[i], NULL);
    free(D.thr);
    D.thr = NULL;
    closed = node_close_socket(n, D.sock, "downstream", 2000) == 0;
    link_guard_stop();
    if (!closed)
        return; /* nng may still hold the slots: left to process exit */
    for (size_t i = 0; i < D.n_all; i++) {
        struct down_slot *s = D.all[i];
        nng_aio_stop(s->aio); /* waits for a callback in progress */
        if (s->msg)
            nng_msg_free(s->msg);
        link_seal_wipe(&s->sc);
        nng_ctx_close(s->ctx);
        nng_aio_free(s->aio);
        free(s);
    }
    free(D.all);
    D.all = NULL;
    D.n_all = D.cap_all = 0;
    D.head = D.tail = NULL;
    free(D.heap);
    D.heap = NULL;
    D.n_heap = D.cap_heap = 0;
    free(D.parked);
    free(D.gen);
    free(D.pipe_of);
    D.parked = NULL;
    D.gen = NULL;
    D.pipe_of = NULL;
    D.open = 0;
}
