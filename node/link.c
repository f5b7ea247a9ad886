/*
 * link.c - what both ends of a link share: verification, outbox reads,
 * one request/reply exchange on an nng context.
 */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "node.h"

/* link_verify - decode, identify the author, check the signature */
void
link_verify(struct node *n, const uint8_t *buf, size_t len,
            const char *subtree, struct work_item *it)
{
    const struct dir_node *author;
    const char *why;

    memset(it, 0, sizeof(*it));
    if (env_open(buf, len, (size_t)n->cfg.max_message_bytes, &it->m, &why) != RL_OK) {
        it->refused = 1;
        snprintf(it->why, sizeof(it->why), "%s", why);
        return;
    }
    author = dir_find(&n->dir, it->m.body->author);
    if (author == NULL) {
        it->refused = 1;
        snprintf(it->why, sizeof(it->why), "unknown author '%.63s'",
                 it->m.body->author);
        return;
    }
    if (env_verify(&it->m, author->pk) != RL_OK) {
        it->refused = 1;
        snprintf(it->why, sizeof(it->why),
                 "bad signature: does not verify with the key of '%s'",
                 author->id);
        return;
    }
    if (subtree && !dir_in_subtree(&n->dir, subtree, author->id)) {
        it->refused = 1;
        snprintf(it->why, sizeof(it->why),
                 "author '%s' is outside the subtree of link '%s'", author->id,
                 subtree);
    }
}

/* link_outbox_read - head of the outbox with envelope copies */
int
link_outbox_read(struct node *n, const char *peer, struct outbox_item *items,
                 ProtobufCBinaryData *envs, size_t *count)
{
    struct store_txn t;
    int rc;

    *count = 0;
    if ((rc = store_begin(n->store, 0, &t)) != RL_OK)
        return rc;
    rc = store_outbox_first(&t, peer, (size_t)n->cfg.batch_max, items, count);
    for (size_t i = 0; rc == RL_OK && i < *count; i++) {
        int r = store_get_message(&t, items[i].id, &envs[i].data, &envs[i].len);
        if (r == RL_ENOTFOUND) {
            /* cannot happen: message and outbox entry commit together.
             * Send it empty: the peer refuses it and the refusal is audited. */
            log_warn("peer=%s outbox entry without a stored message", peer);
            envs[i].data = NULL;
            envs[i].len = 0;
        } else if (r != RL_OK) {
            link_free_envelopes(envs, i);
            *count = 0;
            rc = r;
        }
    }
    store_abort(&t);
    return rc;
}

/* link_free_envelopes - release copies */
void
link_free_envelopes(ProtobufCBinaryData *envs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(envs[i].data);
        envs[i].data = NULL;
    }
}

/* link_call - one request and its reply on a req context */
int
link_call(nng_ctx ctx, nng_aio *aio, const Relay__LinkRequest *req,
          int64_t timeout_ms, size_t maxsz, Relay__LinkReply **reply)
{
    nng_msg *msg;
    size_t len = relay__link_request__get_packed_size(req);
    int rc;

    *reply = NULL;
    if (nng_msg_alloc(&msg, len) != 0)
        return RL_ENOMEM;
    relay__link_request__pack(req, nng_msg_body(msg));
    nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
    nng_aio_set_msg(aio, msg);
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if ((rc = nng_aio_result(aio)) != 0) {
        nng_msg_free(nng_aio_get_msg(aio));
        return rc == NNG_ECLOSED ? RL_ECLOSED : RL_ELINK;
    }
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if ((rc = nng_aio_result(aio)) != 0) {
        return rc == NNG_ECLOSED ? RL_ECLOSED
               : rc == NNG_ETIMEDOUT ? RL_ETIMEDOUT : RL_ELINK;
    }
    msg = nng_aio_get_msg(aio);
    if (nng_msg_len(msg) <= maxsz)
        *reply = relay__link_reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
    nng_msg_free(msg);
    return *reply ? RL_OK : RL_EINVAL;
}
