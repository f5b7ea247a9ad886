/*
 * link_down.c - the parent's end: serve the children that dial in.
 *
 * link_workers threads each own one rep context. A request is checked
 * (known node, our child), then its acknowledgements go to the writer, its
 * pushed envelopes are verified and go to the writer, and only after those
 * commits does the reply tell the child what is stored. A poll is held
 * until something is queued for that child, or poll_hold_ms passes.
 *
 * SECURITY: a child may push only messages authored inside its own subtree.
 * Anything refused is audited with its reason and not stored.
 */
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "link.h"
#include "log.h"
#include "node.h"

/* down_resolve_acks - the child's acks, matched against the head of its outbox */
static int
down_resolve_acks(struct node *n, const char *child, const Relay__LinkRequest *req)
{
    size_t bmax = (size_t)n->cfg.batch_max, count, k = 0;
    struct outbox_item *items = calloc(bmax, sizeof(*items));
    struct outbox_item *acked = calloc(bmax, sizeof(*acked));
    struct store_txn t;
    struct work wk;
    int rc;

    if (items == NULL || acked == NULL) {
        free(items);
        free(acked);
        return RL_ENOMEM;
    }
    rc = store_begin(n->store, 0, &t);
    if (rc == RL_OK) {
        rc = store_outbox_first(&t, child, bmax, items, &count);
        store_abort(&t);
    }
    for (size_t i = 0; rc == RL_OK && i < count; i++)
        for (size_t j = 0; j < req->n_acked; j++)
            if (req->acked[j].len == 16 &&
                memcmp(req->acked[j].data, items[i].id, 16) == 0) {
                acked[k++] = items[i];
                break;
            }
    if (rc == RL_OK && k > 0) {
        memset(&wk, 0, sizeof(wk));
        wk.type = WORK_ACKED;
        wk.peer = child;
        wk.acked = acked;
        wk.nacked = k;
        rc = writer_run(n, &wk);
    }
    free(items);
    free(acked);
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

/* down_reply - encode and send rep on ctx */
static void
down_reply(nng_ctx ctx, nng_aio *aio, const Relay__LinkReply *rep)
{
    size_t len = relay__link_reply__get_packed_size(rep);
    nng_msg *msg;

    if (nng_msg_alloc(&msg, len) != 0)
        return;
    relay__link_reply__pack(rep, nng_msg_body(msg));
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if (nng_aio_result(aio) != 0)
        nng_msg_free(nng_aio_get_msg(aio));
}

/* down_handle - one request from a child */
static void
down_handle(struct node *n, const Relay__LinkRequest *req,
            Relay__LinkReply *rep, struct outbox_item *items, char *err,
            size_t errlen)
{
    const struct dir_node *child = dir_find(&n->dir, req->from);
    int rc;

    if (child == NULL) {
        snprintf(err, errlen, "unknown node '%.63s'", req->from);
        return;
    }
    if (child->parent_ix < 0 ||
        strcmp(n->dir.nodes[child->parent_ix].id, n->self->id) != 0) {
        snprintf(err, errlen, "'%s' is not a child of '%s'", child->id, n->self->id);
        return;
    }
    atomic_store(&n->child_seen_ms[child - n->dir.nodes], clock_mono_ms());
    if (req->n_acked && (rc = down_resolve_acks(n, child->id, req)) != RL_OK) {
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
        Relay__LinkRequest *req;
        char err[256] = "";
        nng_msg *msg;

        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) == NNG_ECLOSED)
            break;
        if (nng_aio_result(aio) != 0)
            continue;
        msg = nng_aio_get_msg(aio);
        req = relay__link_request__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
        nng_msg_free(msg);
        if (req == NULL) {
            snprintf(err, sizeof(err), "malformed link request (not a decodable LinkRequest)");
            log_warn("peer=? %s", err);
        } else {
            down_handle(n, req, &rep, items, err, sizeof(err));
            if (err[0])
                log_warn("peer=%s request refused: %s", req->from, err);
        }
        rep.error = err;
        down_reply(ctx, aio, &rep);
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

    n->child_seen_ms = calloc(n->dir.n, sizeof(*n->child_seen_ms));
    if (n->child_seen_ms == NULL)
        return RL_ENOMEM;
    rc = node_rep_start(n, &n->down, "downstream", n->cfg.listen, maxsz,
                        (int)n->cfg.link_workers, down_main);
    if (rc == RL_OK)
        log_info("listening for children on %s", n->cfg.listen);
    return rc;
}

/* link_down_stop - close and join */
void
link_down_stop(struct node *n)
{
    node_rep_stop(n, &n->down, "downstream");
}
