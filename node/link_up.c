/*
 * link_up.c - the child's end of the link to its parent.
 *
 * Two threads share one req socket dialled to the parent: the sender pushes
 * the head of the parent's outbox and deletes entries only when the parent
 * acknowledged them; the poller long-polls for downward traffic and
 * acknowledges each batch in its next poll, after the batch is committed.
 * Memory is bounded by one batch per thread whatever the backlog: the
 * backlog itself stays in LMDB.
 */
#define _GNU_SOURCE /* pthread_tryjoin_np */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "link.h"
#include "link_seal.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "node.h"

#define LINK_VERSION 1 /* of LinkRequest; the frames are relay-link-v2 */

/* up_pipe_event - count connected pipes for status */
static void
up_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    struct node *n = arg;

    (void)p;
    if (ev == NNG_PIPE_EV_ADD_POST) {
        atomic_fetch_add(&n->up_pipes, 1);
        log_info("peer=%s link up", n->parent->id);
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        atomic_fetch_sub(&n->up_pipes, 1);
        log_warn("peer=%s link down", n->parent->id);
        /* a session per connection: wipe it, and end the calls in flight
         * (nng would resend their frames, sealed under the wiped session,
         * on the next connection); each thread retries with a handshake */
        link_client_reset(n->up_link);
        nng_aio_cancel(n->up_aio[0]);
        nng_aio_cancel(n->up_aio[1]);
    }
}

/* With link_pipeline, the deletion of an acknowledged batch commits while
 * the next batch is on its way (issue 9: no two fsyncs in series on one
 * hop's critical path). Measured on the 2-core machine it lost 8-15% of
 * saturation throughput and no latency, so it is off by default: waiting
 * for the deletion lets the next batch gather what came meanwhile. The
 * reply stays alive until the deletion commits: the refusal reasons point
 * in it. */
struct up_acks {
    struct work wk;
    pthread_cond_t cv;
    struct outbox_item *acked; /* batch_max each */
    const char **why;
    int *transient;
    Relay__LinkReply *rep;
    int busy; /* wk submitted, not waited for */
};

/* up_acks_wait - wait for the pending deletion, if any, and free its reply */
static int
up_acks_wait(struct node *n, struct up_acks *a)
{
    int rc;

    if (!a->busy)
        return RL_OK;
    rc = writer_wait(n, &a->wk);
    relay__link_reply__free_unpacked(a->rep, NULL);
    a->rep = NULL;
    a->busy = 0;
    return rc;
}

/* up_acks_pending - whether id's deletion is pending */
static int
up_acks_pending(const struct up_acks *a, const uint8_t id[16])
{
    for (size_t i = 0; a->busy && i < a->wk.nacked; i++)
        if (memcmp(a->acked[i].id, id, 16) == 0)
            return 1;
    return 0;
}

/* up_acks_submit - turn a LinkReply into outbox deletions through the
 * writer, without waiting; a takes rep (a must be idle) */
static int
up_acks_submit(struct node *n, struct up_acks *a, Relay__LinkReply *rep,
               struct outbox_item *items, size_t count)
{
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < count; i++) {
        const char *w = NULL;
        int hit = 0, tr = 0;
        for (size_t j = 0; j < rep->n_stored && !hit; j++)
            hit = rep->stored[j].len == 16 &&
                  memcmp(rep->stored[j].data, items[i].id, 16) == 0;
        for (size_t j = 0; j < rep->n_refused && !hit; j++)
            if (rep->refused[j]->index == i) {
                hit = 1;
                w = rep->refused[j]->reason && rep->refused[j]->reason[0]
                        ? rep->refused[j]->reason
                        : "refused";
                tr = rep->refused[j]->retry;
            }
        if (hit) {
            a->acked[k] = items[i];
            a->transient[k] = tr;
            a->why[k++] = w;
        }
    }
    memset(&a->wk, 0, sizeof(a->wk));
    a->wk.type = WORK_ACKED;
    a->wk.peer = n->parent->id;
    a->wk.acked = a->acked;
    a->wk.acked_why = a->why;
    a->wk.acked_transient = a->transient;
    a->wk.nacked = k;
    if (k == 0 || (rc = writer_submit(n, &a->wk, &a->cv)) != RL_OK) {
        relay__link_reply__free_unpacked(rep, NULL);
        return k == 0 ? RL_OK : rc;
    }
    a->rep = rep;
    a->busy = 1;
    return RL_OK;
}

/* up_send_main - push the parent's outbox, batch by batch */
static void *
up_send_main(void *arg)
{
    struct node *n = arg;
    size_t bmax = (size_t)n->cfg.batch_max, count;
    struct outbox_item *items = calloc(bmax, sizeof(*items));
    ProtobufCBinaryData *envs = calloc(bmax, sizeof(*envs));
    struct up_acks a = {.busy = 0};
    uint64_t seen = 0;
    nng_ctx ctx;
    int fails = 0;

    a.acked = calloc(bmax, sizeof(*a.acked));
    a.why = calloc(bmax, sizeof(*a.why));
    a.transient = calloc(bmax, sizeof(*a.transient));
    if (items == NULL || envs == NULL || a.acked == NULL || a.why == NULL ||
        a.transient == NULL || nng_ctx_open(&ctx, n->up_sock) != 0)
        log_fatal("link: cannot set up the sender");
    pthread_cond_init(&a.cv, NULL);
    while (!atomic_load(&n->stopping)) {
        Relay__LinkRequest req = RELAY__LINK_REQUEST__INIT;
        Relay__LinkReply *rep = NULL;
        size_t k = 0;
        int rc, prev;

        if (link_outbox_read(n, n->parent->id, items, envs, &count) != RL_OK) {
            (void)up_acks_wait(n, &a);
            node_sleep(n, node_backoff_ms(n, fails++));
            continue;
        }
        for (size_t i = 0; i < count; i++) { /* not what is being deleted */
            if (up_acks_pending(&a, items[i].id)) {
                free(envs[i].data);
                continue;
            }
            items[k] = items[i];
            envs[k++] = envs[i];
        }
        count = k;
        if (count == 0) {
            if (a.busy) {
                if (up_acks_wait(n, &a) != RL_OK)
                    node_sleep(n, node_backoff_ms(n, fails++));
            } else {
                node_wait_change(n, &seen, 1000);
            }
            continue;
        }
        req.version = LINK_VERSION;
        req.from = (char *)n->self->id;
        req.push = envs;
        req.n_push = count;
        rc = link_call(n, ctx, n->up_aio[0], &req, n->cfg.link_timeout_ms,
                       config_frame_max(&n->cfg), &rep);
        link_free_envelopes(envs, count);
        if (rc == RL_OK && rep->error[0]) {
            log_warn("peer=%s refused the batch: %s%s", n->parent->id,
                     rep->error, rep->retry ? " (will retry)" : "");
            rc = RL_ELINK;
        }
        /* the previous batch's deletion committed meanwhile */
        if ((prev = up_acks_wait(n, &a)) != RL_OK)
            log_debug("peer=%s acknowledged entries not removed yet: %s", n->parent->id,
                      rl_strerror(prev));
        if (rc == RL_OK) {
            atomic_store(&n->up_ok_ms, clock_mono_ms());
            rc = up_acks_submit(n, &a, rep, items, count);
            rep = NULL;
            /* unless pipelined, wait: the next batch then holds what came
             * during the commit (fewer, larger batches; see README) */
            if (!n->cfg.link_pipeline && rc == RL_OK)
                rc = up_acks_wait(n, &a);
        }
        if (rep)
            relay__link_reply__free_unpacked(rep, NULL);
        if (rc == RL_OK) {
            fails = 0;
            continue;
        }
        if (rc == RL_ECLOSED)
            break;
        log_debug("peer=%s send failed (%s), %zu queued", n->parent->id,
                  rl_strerror(rc), count);
        node_sleep(n, node_backoff_ms(n, fails++));
    }
    (void)up_acks_wait(n, &a);
    pthread_cond_destroy(&a.cv);
    nng_ctx_close(ctx);
    free(items);
    free(envs);
    free(a.acked);
    free(a.why);
    free(a.transient);
    return NULL;
}

/* up_audit_head - this node's signed audit head (n->up_head, signed again
 * only when the log grew, so that the parent verifies it once per change),
 * or empty if unreadable. The poller alone uses it. */
static void
up_audit_head(struct node *n, ProtobufCBinaryData *out)
{
    struct store_txn t;
    uint8_t hash[32];
    uint64_t seq;
    int rc;

    out->data = NULL;
    out->len = 0;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return;
    rc = store_audit_head(&t, &seq, hash);
    store_abort(&t);
    if (rc != RL_OK)
        return;
    if (n->up_head.len == 0 || seq != n->up_head_seq) {
        free(n->up_head.data);
        n->up_head.data = NULL;
        n->up_head.len = 0;
        if (audit_head_seal(n->self->id, seq, hash, clock_now_us(), n->kp, &n->up_head.data,
                            &n->up_head.len) != RL_OK) {
            n->up_head.data = NULL;
            n->up_head.len = 0;
            return;
        }
        n->up_head_seq = seq;
    }
    *out = n->up_head;
}

/* link_up_connected - connected to the parent: a connection is open and
 * the parent answered within poll_hold_ms + link_timeout_ms (a poll held
 * there is answered by then); the parent's status applies the same test
 * to us (link_down_connected) */
int
link_up_connected(struct node *n, int64_t now_ms)
{
    int64_t ok = atomic_load(&n->up_ok_ms);

    return atomic_load(&n->up_pipes) > 0 && ok > 0 &&
           now_ms - ok < n->cfg.poll_hold_ms + n->cfg.link_timeout_ms;
}

/* up_poll_forget - free the answers to the last downward batch, once sent */
static void
up_poll_forget(ProtobufCBinaryData **acked, size_t *nacked, Relay__Refusal ***refused,
               size_t *nrefused)
{
    for (size_t i = 0; i < *nacked; i++)
        free((*acked)[i].data);
    free(*acked);
    *acked = NULL;
    *nacked = 0;
    for (size_t i = 0; i < *nrefused; i++) {
        free((*refused)[i]->reason);
        free((*refused)[i]->id.data);
        free((*refused)[i]);
    }
    free(*refused);
    *refused = NULL;
    *nrefused = 0;
}

/* up_poll_main - long-poll the parent for downward traffic */
static void *
up_poll_main(void *arg)
{
    struct node *n = arg;
    ProtobufCBinaryData *acked = NULL;
    Relay__Refusal **refused = NULL;
    size_t nacked = 0, nrefused = 0;
    nng_ctx ctx;
    int fails = 0;

    if (nng_ctx_open(&ctx, n->up_sock) != 0)
        log_fatal("link: cannot set up the poller");
    while (!atomic_load(&n->stopping)) {
        Relay__LinkRequest req = RELAY__LINK_REQUEST__INIT;
        Relay__LinkReply *rep = NULL;
        struct work wk;
        int rc;

        req.version = LINK_VERSION;
        req.from = (char *)n->self->id;
        req.poll = 1;
        req.acked = acked;
        req.n_acked = nacked;
        req.refused = refused;
        req.n_refused = nrefused;
        /* our signed audit head rides on every poll, so that the parent
         * always holds our latest claim about our own log */
        up_audit_head(n, &req.audit_head);
        /* we wait that long plus the timeout; the first poll of a run or
         * after a failure is answered at once, so that both ends know the
         * link works without waiting out a hold */
        req.hold_ms = fails == 0 && atomic_load(&n->up_ok_ms) > 0 ? (uint32_t)n->cfg.poll_hold_ms : 0;
        rc = link_call(n, ctx, n->up_aio[1], &req,
                       n->cfg.poll_hold_ms + n->cfg.link_timeout_ms,
                       config_frame_max(&n->cfg), &rep);
        if (rc == RL_OK && rep->error[0]) {
            log_warn("peer=%s refused the poll: %s", n->parent->id, rep->error);
            rc = RL_ELINK;
        }
        if (rc == RL_OK)
            atomic_store(&n->up_ok_ms, clock_mono_ms());
        if (rc != RL_OK) {
            if (rep)
                relay__link_reply__free_unpacked(rep, NULL);
            if (rc == RL_ECLOSED)
                break;
            node_sleep(n, node_backoff_ms(n, fails++));
            continue;
        }
        up_poll_forget(&acked, &nacked, &refused, &nrefused);
        if (rep->n_deliver == 0) {
            relay__link_reply__free_unpacked(rep, NULL);
            fails = 0;
            continue;
        }
        memset(&wk, 0, sizeof(wk));
        wk.type = WORK_INBOUND;
        wk.peer = n->parent->id;
        wk.n = rep->n_deliver;
        wk.items = calloc(wk.n, sizeof(*wk.items));
        acked = calloc(wk.n, sizeof(*acked));
        refused = calloc(wk.n, sizeof(*refused));
        if (wk.items == NULL || acked == NULL || refused == NULL)
            log_fatal("link: out of memory");
        for (size_t i = 0; i < wk.n; i++)
            link_verify(n, rep->deliver[i].data, rep->deliver[i].len, NULL,
                        &wk.items[i]);
        rc = writer_run(n, &wk);
        for (size_t i = 0; i < wk.n; i++) {
            /* acknowledge what is stored; name what we refused, with the
             * reason, so that the parent holds it (node/held.c). An
             * envelope that did not decode has no id to name: the parent
             * sends it again, and our log says why each time. */
            struct work_item *it = &wk.items[i];
            uint8_t rid[16];
            int named = it->m.body != NULL;
            if (named)
                memcpy(rid, it->m.body->id.data, 16);
            else
                named = env_peek_id(rep->deliver[i].data, rep->deliver[i].len, rid) == RL_OK;
            if (rc == RL_OK && it->m.body != NULL && !it->refused) {
                acked[nacked].data = malloc(16);
                if (acked[nacked].data == NULL)
                    log_fatal("link: out of memory");
                memcpy(acked[nacked].data, it->m.body->id.data, 16);
                acked[nacked++].len = 16;
            } else if (rc == RL_OK && it->refused && named) {
                Relay__Refusal *r = calloc(1, sizeof(*r));
                if (r == NULL)
                    log_fatal("link: out of memory");
                relay__refusal__init(r);
                r->index = (uint32_t)i;
                r->retry = it->transient;
                r->reason = strdup(it->why);
                r->id.data = malloc(16);
                if (r->reason == NULL || r->id.data == NULL)
                    log_fatal("link: out of memory");
                memcpy(r->id.data, rid, 16);
                r->id.len = 16;
                refused[nrefused++] = r;
            }
            env_msg_free(&it->m);
        }
        free(wk.items);
        relay__link_reply__free_unpacked(rep, NULL);
        if (rc != RL_OK) {
            log_warn("peer=%s downward batch not stored: %s", n->parent->id, wk.err);
            node_sleep(n, node_backoff_ms(n, fails++));
        } else {
            fails = 0;
        }
    }
    up_poll_forget(&acked, &nacked, &refused, &nrefused);
    nng_ctx_close(ctx);
    return NULL;
}

/* link_up_start - socket, dialer, threads */
int
link_up_start(struct node *n)
{
    nng_dialer d;
    int rc;

    if (nng_aio_alloc(&n->up_aio[0], NULL, NULL) != 0 ||
        nng_aio_alloc(&n->up_aio[1], NULL, NULL) != 0)
        return RL_ENOMEM;
    /* the parent's key follows the directory in force at each call
     * (link_call: rotations included) */
    if ((n->up_link = link_client_new(n->kp, n->parent->pk, n->self->id)) == NULL)
        return RL_ENOMEM;
    if ((rc = nng_req0_open(&n->up_sock)) != 0)
        return RL_ELINK;
    nng_socket_set_ms(n->up_sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_socket_set_ms(n->up_sock, NNG_OPT_RECONNMINT, (nng_duration)n->cfg.retry_min_ms);
    nng_socket_set_ms(n->up_sock, NNG_OPT_RECONNMAXT, (nng_duration)n->cfg.retry_max_ms);
    nng_socket_set_size(n->up_sock, NNG_OPT_RECVMAXSZ, config_frame_max(&n->cfg));
    nng_pipe_notify(n->up_sock, NNG_PIPE_EV_ADD_POST, up_pipe_event, n);
    nng_pipe_notify(n->up_sock, NNG_PIPE_EV_REM_POST, up_pipe_event, n);
    if ((rc = nng_dialer_create(&d, n->up_sock, n->cfg.upstream)) != 0) {
        log_warn("link: bad upstream URL %s: %s", n->cfg.upstream, nng_strerror(rc));
        nng_close(n->up_sock);
        return RL_ECONFIG;
    }
    nng_dialer_set_ms(d, NNG_OPT_RECONNMINT, (nng_duration)n->cfg.retry_min_ms);
    nng_dialer_set_ms(d, NNG_OPT_RECONNMAXT, (nng_duration)n->cfg.retry_max_ms);
    /* non-blocking: a parent that is down now is dialled again and again */
    if ((rc = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
        log_warn("link: cannot dial %s: %s", n->cfg.upstream, nng_strerror(rc));
        nng_close(n->up_sock);
        return RL_ELINK;
    }
    if (pthread_create(&n->up_send_thr, NULL, up_send_main, n) != 0 ||
        pthread_create(&n->up_poll_thr, NULL, up_poll_main, n) != 0)
        log_fatal("link: cannot start threads");
    n->up_running = 1;
    log_info("peer=%s dialling %s", n->parent->id, n->cfg.upstream);
    return RL_OK;
}

/* link_up_stop - interrupt both threads until they are gone, then close.
 * The threads see n->stopping at the top of their loops; cancelling their
 * aio ends a call in flight at once instead of at its timeout. */
void
link_up_stop(struct node *n)
{
    int joined[2] = {0, 0};
    pthread_t *thr[2] = {&n->up_send_thr, &n->up_poll_thr};

    if (!n->up_running)
        return;
    while (!joined[0] || !joined[1]) {
        for (int i = 0; i < 2; i++) {
            if (joined[i])
                continue;
            nng_aio_cancel(n->up_aio[i]);
            joined[i] = pthread_tryjoin_np(*thr[i], NULL) == 0;
        }
        if (!joined[0] || !joined[1])
            nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    n->up_running = 0;
    free(n->up_head.data);
    n->up_head.data = NULL;
    n->up_head.len = 0;
    if (node_close_socket(n, n->up_sock, "upstream", 2000) == 0) {
        nng_aio_free(n->up_aio[0]);
        nng_aio_free(n->up_aio[1]);
        link_client_free(n->up_link);
        n->up_link = NULL;
    } else {
        link_client_reset(n->up_link); /* a pipe callback may still run */
    }
}
