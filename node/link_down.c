/*
 * link_down.c - the parent's end: serve the children that dial in.
 *
 * link_workers threads each own one rep context. A request is checked
 * (known node, our child), then its acknowledgements go to the writer, its
 * pushed envelopes are verified and go to the writer, and only after those
 * commits does the reply tell the child what is stored. A poll is held
 * until something is queued for that child, or poll_hold_ms passes.
 *
 * Every request arrives sealed (link_seal.h). The claimed sender must be
 * our child in the directory before any key is derived; a frame that does
 * not open is logged with its reason (at most once a second per remote
 * address), answered at most with the one cleartext refusal that names no
 * node (link_guard.h: also why it may go unanswered on nng 1.5.2), and
 * never reaches the writer. Replies are sealed under the key of the request
 * they answer.
 *
 * SECURITY: a child may push only messages authored inside its own subtree.
 * Anything refused is audited with its reason and not stored. Nothing from
 * a frame is acted on before it opened with the claimed child's key.
 */
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "link.h"
#include "link_guard.h"
#include "link_seal.h"
#include "audit.h"
#include "log.h"
#include "node.h"

/* child_seen_ms holds one slot per directory index: those of the directory
 * the node started with, and room for children enrolled while it runs. */
#define DOWN_SEEN_SPARE 4096

/* down_resolve_acks - the child's acks and refusals of its last downward
 * batch, matched against the head of its outbox: what it refused is held
 * here with its reason (node/held.c), never dropped */
static int
down_resolve_acks(struct node *n, const char *child, const Relay__LinkRequest *req)
{
    size_t bmax = (size_t)n->cfg.batch_max, count, k = 0;
    struct outbox_item *items = calloc(bmax, sizeof(*items));
    struct outbox_item *acked = calloc(bmax, sizeof(*acked));
    const char **why = calloc(bmax, sizeof(*why));
    int *transient = calloc(bmax, sizeof(*transient));
    struct store_txn t;
    struct work wk;
    int rc;

    if (items == NULL || acked == NULL || why == NULL || transient == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    rc = store_begin(n->store, 0, &t);
    if (rc == RL_OK) {
        rc = store_outbox_first(&t, child, bmax, items, &count);
        store_abort(&t);
    }
    for (size_t i = 0; rc == RL_OK && i < count; i++) {
        int hit = 0;
        for (size_t j = 0; j < req->n_acked && !hit; j++)
            hit = req->acked[j].len == 16 &&
                  memcmp(req->acked[j].data, items[i].id, 16) == 0;
        for (size_t j = 0; j < req->n_refused && !hit; j++) {
            const Relay__Refusal *r = req->refused[j];
            if (r->id.len == 16 && memcmp(r->id.data, items[i].id, 16) == 0) {
                hit = 1;
                why[k] = r->reason && r->reason[0] ? r->reason : "refused";
                transient[k] = r->retry;
            }
        }
        if (hit)
            acked[k++] = items[i];
    }
    if (rc == RL_OK && k > 0) {
        memset(&wk, 0, sizeof(wk));
        wk.type = WORK_ACKED;
        wk.peer = child;
        wk.acked = acked;
        wk.acked_why = why;
        wk.acked_transient = transient;
        wk.nacked = k;
        rc = writer_run(n, &wk);
    }
out:
    free(items);
    free(acked);
    free(why);
    free(transient);
    return rc;
}

/* down_push - verify and store the child's upward batch; fill the reply */
static int
down_push(struct node *n, const char *child, const Relay__LinkRequest *req,
          Relay__LinkReply *rep, char *err, size_t errlen)
{
    struct work wk;
    int rc;

    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.peer = child;
    wk.n = req->n_push;
    wk.items = calloc(wk.n, sizeof(*wk.items));
    rep->stored = calloc(wk.n, sizeof(*rep->stored));
    rep->refused = calloc(wk.n, sizeof(*rep->refused));
    if (wk.items == NULL || rep->stored == NULL || rep->refused == NULL) {
        free(wk.items);
        return RL_ENOMEM;
    }
    for (size_t i = 0; i < wk.n; i++)
        link_verify(n, req->push[i].data, req->push[i].len, child, &wk.items[i]);
    rc = writer_run(n, &wk);
    if (rc != RL_OK)
        snprintf(err, errlen, "%s", wk.err);
    for (size_t i = 0; i < wk.n; i++) {
        struct work_item *it = &wk.items[i];
        if (rc == RL_OK && it->refused) {
            Relay__Refusal *r = malloc(sizeof(*r));
            if (r) {
                relay__refusal__init(r);
                r->index = (uint32_t)i;
                r->retry = it->transient;
                r->reason = strdup(it->why);
                if (it->m.body) {
                    r->id.data = malloc(16);
                    if (r->id.data) {
                        memcpy(r->id.data, it->m.body->id.data, 16);
                        r->id.len = 16;
                    }
                }
                rep->refused[rep->n_refused++] = r;
            }
        } else if (rc == RL_OK) {
            ProtobufCBinaryData *s = &rep->stored[rep->n_stored];
            s->data = malloc(16);
            if (s->data) {
                memcpy(s->data, it->m.body->id.data, 16);
                s->len = 16;
                rep->n_stored++;
            }
        }
        env_msg_free(&it->m);
    }
    free(wk.items);
    return rc;
}

/* down_hold - wait until something is queued for child, up to poll_hold_ms */
static int
down_hold(struct node *n, const char *child, struct outbox_item *items,
          Relay__LinkReply *rep)
{
    int64_t until = clock_mono_ms() + n->cfg.poll_hold_ms;
    uint64_t seen = 0;
    size_t count = 0;
    int rc;

    rep->deliver = calloc((size_t)n->cfg.batch_max, sizeof(*rep->deliver));
    if (rep->deliver == NULL)
        return RL_ENOMEM;
    for (;;) {
        rc = link_outbox_read(n, child, items, rep->deliver, &count);
        if (rc != RL_OK || count > 0)
            break;
        int64_t left = until - clock_mono_ms();
        if (left <= 0 || node_wait_change(n, &seen, left) != 0)
            break;
    }
    rep->n_deliver = count;
    return rc;
}

/* down_send - send frame bytes on ctx (a copy; the caller keeps frame) */
static void
down_send(nng_ctx ctx, nng_aio *aio, const uint8_t *frame, size_t len)
{
    nng_msg *msg;

    if (nng_msg_alloc(&msg, len) != 0)
        return;
    memcpy(nng_msg_body(msg), frame, len);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(nng_aio_get_msg(aio));
}

/* down_reply - encode rep, seal it under the request's key, send it */
static void
down_reply(nng_ctx ctx, nng_aio *aio, const struct link_seal_ctx *sc,
           const Relay__LinkReply *rep)
{
    size_t len = relay__link_reply__get_packed_size(rep), flen;
    uint8_t *pt = malloc(len ? len : 1), *frame;
    int rc;

    if (pt == NULL)
        return;
    relay__link_reply__pack(rep, pt);
    rc = link_seal_reply(sc, pt, len, &frame, &flen);
    free(pt);
    if (rc != RL_OK) {
        log_warn("peer=%s reply not sealed: %s", sc->from, rl_strerror(rc));
        return;
    }
    down_send(ctx, aio, frame, flen);
    free(frame);
}

/* down_refuse - log why a frame did not open (rate-limited, link_guard.h)
 * and answer, if at all, with the one refusal that names no node */
static void
down_refuse(struct node *n, nng_ctx ctx, nng_aio *aio, nng_pipe pipe,
            const struct link_seal_ctx *sc, int rc, const char *why)
{
    char err[320];
    uint8_t *frame;
    size_t flen;

    if (rc == RL_ENOMEM)
        snprintf(err, sizeof(err), "temporary failure: %s", rl_strerror(rc));
    else if (rc == RL_EUNKNOWN || rc == RL_EPERM)
        snprintf(err, sizeof(err), "request refused: %s", why);
    else if (rc == RL_EINVAL)
        snprintf(err, sizeof(err), "malformed link frame: %s", why);
    else
        snprintf(err, sizeof(err), "frame does not authenticate: %s", why);
    link_guard_log(pipe, sc->from, err);
    /* short of memory is no refusal: no answer, the child times out and
     * tries again */
    if (rc == RL_ENOMEM || !link_guard_may_refuse(n, pipe) ||
        link_seal_error(LINK_GUARD_REFUSAL, &frame, &flen) != RL_OK)
        return;
    down_send(ctx, aio, frame, flen);
    free(frame);
}

/* down_peer - link_seal_peer_fn: the key of a child of ours, by id */
static int
down_peer(void *arg, const char *from, uint8_t pk[KEYS_PK_LEN], char *why,
          size_t whylen)
{
    struct node *n = arg;
    const struct directory *d = node_dir(n);
    const struct dir_node *child = dir_find(d, from);
    const uint8_t *key;
    const char *kwhy = "";

    if (child == NULL) {
        snprintf(why, whylen, "unknown node '%.63s'", from);
        return RL_EUNKNOWN;
    }
    if (child->parent_ix < 0 ||
        strcmp(d->nodes[child->parent_ix].id, n->self->id) != 0) {
        snprintf(why, whylen, "'%s' is not a child of '%s'", child->id, n->self->id);
        return RL_EPERM;
    }
    if (dir_key_at(child, clock_now_us(), &key, &kwhy) != 0) {
        snprintf(why, whylen, "no key of '%s' is valid now: %s", child->id, kwhy);
        return RL_EPERM;
    }
    memcpy(pk, key, KEYS_PK_LEN);
    return RL_OK;
}

/* down_audit_head - keep the child's latest signed audit head (in memory:
 * relayctl audit check compares a child's exported log with it) */
static void
down_audit_head(struct node *n, const struct dir_node *child, size_t ix,
                const ProtobufCBinaryData *signed_head)
{
    Relay__AuditHead *h = NULL, *old = NULL;
    const uint8_t *pk;
    const char *why;
    uint8_t *copy;

    if (dir_key_at(child, clock_now_us(), &pk, &why) != 0 ||
        audit_head_open(signed_head->data, signed_head->len, pk, &h, &why) != RL_OK) {
        log_warn("peer=%s audit head refused: %s", child->id, why);
        return;
    }
    if (strcmp(h->node, child->id) != 0) {
        log_warn("peer=%s audit head refused: it is %s's", child->id, h->node);
        relay__audit_head__free_unpacked(h, NULL);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (n->child_heads[ix].len &&
        audit_head_open(n->child_heads[ix].data, n->child_heads[ix].len, pk, &old, &why) ==
            RL_OK &&
        old->seq > h->seq) {
        log_warn("peer=%s audit head went back from %llu to %llu entries", child->id,
                 (unsigned long long)old->seq, (unsigned long long)h->seq);
    } else if ((copy = malloc(signed_head->len)) != NULL) {
        memcpy(copy, signed_head->data, signed_head->len);
        free(n->child_heads[ix].data);
        n->child_heads[ix].data = copy;
        n->child_heads[ix].len = signed_head->len;
    }
    pthread_mutex_unlock(&n->mu);
    if (old)
        relay__audit_head__free_unpacked(old, NULL);
    relay__audit_head__free_unpacked(h, NULL);
}

/* down_handle - one request from a child */
static void
down_handle(struct node *n, const Relay__LinkRequest *req,
            Relay__LinkReply *rep, struct outbox_item *items, char *err,
            size_t errlen)
{
    const struct directory *d = node_dir(n);
    const struct dir_node *child = dir_find(d, req->from);
    size_t ix;
    int rc;

    if (child == NULL) {
        snprintf(err, errlen, "unknown node '%.63s'", req->from);
        return;
    }
    if (child->parent_ix < 0 ||
        strcmp(d->nodes[child->parent_ix].id, n->self->id) != 0) {
        snprintf(err, errlen, "'%s' is not a child of '%s'", child->id, n->self->id);
        return;
    }
    ix = (size_t)(child - d->nodes);
    if (ix < n->n_child_seen)
        atomic_store(&n->child_seen_ms[ix], clock_mono_ms());
    if (req->audit_head.len && ix < n->n_child_seen)
        down_audit_head(n, child, ix, &req->audit_head);
    if ((req->n_acked || req->n_refused) && (rc = down_resolve_acks(n, child->id, req)) != RL_OK) {
        snprintf(err, errlen, "acknowledgements not recorded: %s", rl_strerror(rc));
        rep->retry = 1;
        return;
    }
    if (req->n_push && down_push(n, child->id, req, rep, err, errlen) != RL_OK) {
        rep->retry = 1;
        return;
    }
    if (req->poll)
        down_hold(n, child->id, items, rep);
}

/* down_main - a worker: receive, handle, reply */
static void *
down_main(void *arg)
{
    struct node *n = arg;
    struct outbox_item *items = calloc((size_t)n->cfg.batch_max, sizeof(*items));
    nng_aio *aio;
    nng_ctx ctx;

    if (items == NULL || nng_aio_alloc(&aio, NULL, NULL) != 0 ||
        nng_ctx_open(&ctx, n->down.sock) != 0)
        log_fatal("link: cannot start a downstream worker");
    for (;;) {
        Relay__LinkReply rep = RELAY__LINK_REPLY__INIT;
        Relay__LinkRequest *req = NULL;
        struct link_seal_ctx sc;
        char err[256] = "", why[256] = "";
        uint8_t *pt = NULL;
        size_t ptlen = 0;
        nng_msg *msg;
        nng_pipe pipe;
        int rc;

        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) == NNG_ECLOSED)
            break;
        if (nng_aio_result(aio) != 0)
            continue;
        msg = nng_aio_get_msg(aio);
        pipe = nng_msg_get_pipe(msg);
        link_guard_enter(pipe);
        rc = link_open_request(n->kp, down_peer, n, nng_msg_body(msg),
                               nng_msg_len(msg), &sc, &pt, &ptlen, why,
                               sizeof(why));
        nng_msg_free(msg);
        if (rc != RL_OK) {
            down_refuse(n, ctx, aio, pipe, &sc, rc, why);
            link_seal_wipe(&sc);
            link_guard_leave(pipe);
            continue;
        }
        if (sc.handshake) {
            /* a new session: its answer is the reply (link_seal.h) */
            down_send(ctx, aio, sc.hs_reply, sc.hs_reply_len);
            link_seal_wipe(&sc);
            link_guard_leave(pipe);
            continue;
        }
        req = relay__link_request__unpack(NULL, ptlen, pt);
        free(pt);
        if (req == NULL) {
            snprintf(err, sizeof(err),
                     "malformed link request (not a decodable LinkRequest)");
            log_warn("peer=%s %s", sc.from, err);
        } else if (strcmp(req->from, sc.from) != 0) {
            snprintf(err, sizeof(err),
                     "the link request names another sender than its frame");
            log_warn("peer=%s request refused: %s", sc.from, err);
        } else {
            down_handle(n, req, &rep, items, err, sizeof(err));
            if (err[0])
                log_warn("peer=%s request refused: %s", req->from, err);
        }
        rep.error = err;
        rep.now_us = clock_now_us(); /* the child compares clocks (skew) */
        down_reply(ctx, aio, &sc, &rep);
        link_seal_wipe(&sc);
        rep.error = NULL;
        for (size_t i = 0; i < rep.n_stored; i++)
            free(rep.stored[i].data);
        free(rep.stored);
        for (size_t i = 0; i < rep.n_refused; i++) {
            free(rep.refused[i]->reason);
            free(rep.refused[i]->id.data);
            free(rep.refused[i]);
        }
        free(rep.refused);
        link_free_envelopes(rep.deliver, rep.n_deliver);
        free(rep.deliver);
        if (req)
            relay__link_request__free_unpacked(req, NULL);
        link_guard_leave(pipe);
    }
    nng_ctx_close(ctx);
    nng_aio_free(aio);
    free(items);
    return NULL;
}

/* link_down_start - listen and start the workers */
int
link_down_start(struct node *n)
{
    size_t maxsz = (size_t)(n->cfg.batch_max * (n->cfg.max_message_bytes + 64) + 65536);
    int rc;

    /* indexes of the directory in force; enrolment appends nodes */
    n->n_child_seen = n->dir.n + DOWN_SEEN_SPARE;
    n->child_seen_ms = calloc(n->n_child_seen, sizeof(*n->child_seen_ms));
    n->child_heads = calloc(n->n_child_seen, sizeof(*n->child_heads));
    if (n->child_seen_ms == NULL || n->child_heads == NULL)
        return RL_ENOMEM;
    rc = node_rep_start(n, &n->down, "downstream", n->cfg.listen, maxsz,
                        (int)n->cfg.link_workers, down_main);
    if (rc == RL_OK) {
        link_guard_start(n, n->down.sock);
        log_info("listening for children on %s", n->cfg.listen);
    }
    return rc;
}

/* link_down_stop - close and join */
void
link_down_stop(struct node *n)
{
    node_rep_stop(n, &n->down, "downstream");
    link_guard_stop();
    link_seal_forget();
}
