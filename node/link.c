/*
 * link.c - what both ends of a link share: verification, outbox reads,
 * one sealed request/reply exchange on an nng context (link_seal.h).
 */
#include "link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "clock.h"
#include "link_seal.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "store_check.h"

/* link_verify - decode, identify the author, check the signature */
void
link_verify(struct node *n, const uint8_t *buf, size_t len,
            const char *subtree, struct work_item *it)
{
    const struct directory *d = node_dir(n);
    const struct dir_node *author;
    const uint8_t *pk;
    const char *why;
    uint64_t t0;
    int64_t now;

    memset(it, 0, sizeof(*it));
    if (env_open(buf, len, (size_t)n->cfg.max_message_bytes, &it->m, &why) != RL_OK) {
        it->refused = 1;
        it->reason = len > (size_t)n->cfg.max_message_bytes ? METRICS_R_TOO_LARGE
                                                             : METRICS_R_MALFORMED;
        snprintf(it->why, sizeof(it->why), "%s", why);
        return;
    }
    author = dir_find(d, it->m.body->author);
    if (author == NULL) {
        /* transient: an enrolment may not have reached this node yet */
        it->refused = 1;
        it->transient = 1;
        it->reason = METRICS_R_UNKNOWN_SENDER;
        snprintf(it->why, sizeof(it->why), "unknown author '%.63s'",
                 it->m.body->author);
        return;
    }
    /* the key valid when the author says it signed: revoked, rotated-out
     * and not-yet-valid keys sign nothing */
    if (dir_key_at(author, it->m.body->created_us, &pk, &why) != 0) {
        /* transient too: a rotation may not have reached this node yet */
        it->refused = 1;
        it->transient = 1;
        it->reason = METRICS_R_KEY;
        snprintf(it->why, sizeof(it->why), "%s: '%s'", why, author->id);
        return;
    }
    t0 = metrics_clock_ns();
    if (env_verify(&it->m, pk) != RL_OK) {
        metrics_verify_done(t0);
        it->refused = 1;
        it->reason = METRICS_R_SIGNATURE;
        snprintf(it->why, sizeof(it->why),
                 "bad signature: does not verify with the key of '%s'",
                 author->id);
        return;
    }
    metrics_verify_done(t0);
    /* replay with a new id and an old time: judged by the first node, the
     * one the author's own link reaches (relays cannot make new ids, and a
     * backlog a relay held through a long outage is not a replay); then who
     * may send what; then whether this link may relay it */
    now = clock_now_us();
    if (subtree && strcmp(subtree, author->id) == 0 &&
        authz_fresh(n, &it->m, now, it->why, sizeof(it->why)) != NULL) {
        /* a clock off on either side: the sender holds it and tries again */
        it->refused = 1;
        it->transient = 1;
        it->reason = it->m.body->created_us > now ? METRICS_R_FUTURE : METRICS_R_STALE;
        return;
    }
    if (authz_check(n, &it->m, it->why, sizeof(it->why)) != NULL) {
        it->refused = 1;
        it->reason = METRICS_R_NOT_AUTHORIZED;
        return;
    }
    if (subtree && !dir_in_subtree(d, subtree, author->id)) {
        it->refused = 1;
        it->reason = METRICS_R_NOT_AUTHORIZED;
        snprintf(it->why, sizeof(it->why),
                 "author '%s' is outside the subtree of link '%s'", author->id,
                 subtree);
    }
}

/* link_outbox_read_once - head of the outbox with envelope copies; *bad
 * is set, with the message's id in bad_id, when a stored message failed its
 * checksum */
static int
link_outbox_read_once(struct node *n, const char *peer, struct outbox_item *items,
                      ProtobufCBinaryData *envs, size_t *count, int *bad,
                      uint8_t bad_id[16])
{
    struct store_txn t;
    int rc;

    *count = 0;
    *bad = 0;
    if ((rc = store_begin(n->store, 0, &t)) != RL_OK)
        return rc;
    rc = store_outbox_first(&t, peer, (size_t)n->cfg.batch_max, items, count);
    for (size_t i = 0, bytes = 0; rc == RL_OK && i < *count; i++) {
        int r = store_get_message(&t, items[i].id, &envs[i].data, &envs[i].len);
        if (r == RL_OK && i > 0 && (bytes += envs[i].len) > (size_t)n->cfg.batch_bytes) {
            free(envs[i].data); /* batch_bytes reached: the rest goes next time */
            *count = i;
            break;
        }
        if (r == RL_OK && i == 0)
            bytes = envs[i].len;
        if (r == RL_ENOTFOUND) {
            /* cannot happen: message and outbox entry commit together.
             * Send it empty: the peer refuses it and the refusal is audited. */
            log_warn("peer=%s outbox entry without a stored message", peer);
            envs[i].data = NULL;
            envs[i].len = 0;
        } else if (r != RL_OK) {
            if (r == RL_ECORRUPT) {
                memcpy(bad_id, items[i].id, 16);
                *bad = 1;
            }
            link_free_envelopes(envs, i);
            *count = 0;
            rc = r;
        }
    }
    store_abort(&t);
    return rc;
}

/* link_outbox_read - head of the outbox; a message whose checksum fails is
 * moved to corrupt (as Postfix's queue manager moves a damaged queue file)
 * so that it does not stall the link, and the head is read again */
int
link_outbox_read(struct node *n, const char *peer, struct outbox_item *items,
                 ProtobufCBinaryData *envs, size_t *count)
{
    uint8_t bad_id[1][16];
    const char *why = "checksum does not match (found reading the outbox)";
    int rc, bad;

    for (int64_t tries = 0;; tries++) {
        rc = link_outbox_read_once(n, peer, items, envs, count, &bad, bad_id[0]);
        if (!bad || tries > n->cfg.batch_max ||
            store_check_quarantine(n, (const uint8_t(*)[16])bad_id, &why, 1) != RL_OK)
            return rc;
    }
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

/* link_exchange - send frame on ctx and wait for the answer (timeout ms);
 * RL_OK with the answer in *msg (caller frees) */
static int
link_exchange(nng_ctx ctx, nng_aio *aio, const uint8_t *frame, size_t flen,
              int64_t timeout_ms, size_t maxsz, nng_msg **msg)
{
    int rc;

    *msg = NULL;
    if ((rc = nng_msg_alloc(msg, flen)) != 0)
        return RL_ENOMEM;
    memcpy(nng_msg_body(*msg), frame, flen);
    nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
    nng_aio_set_msg(aio, *msg);
    *msg = NULL;
    nng_ctx_send(ctx, aio);
    nng_aio_wait(aio);
    if ((rc = nng_aio_result(aio)) != 0) {
        nng_msg_free(nng_aio_get_msg(aio));
        return rc == NNG_ECLOSED ? RL_ECLOSED : RL_ELINK;
    }
    nng_ctx_recv(ctx, aio);
    nng_aio_wait(aio);
    if ((rc = nng_aio_result(aio)) != 0)
        return rc == NNG_ECLOSED ? RL_ECLOSED
               : rc == NNG_ETIMEDOUT ? RL_ETIMEDOUT : RL_ELINK;
    *msg = nng_aio_get_msg(aio);
    if (nng_msg_len(*msg) > maxsz) {
        nng_msg_free(*msg);
        *msg = NULL;
        return RL_EINVAL;
    }
    return RL_OK;
}

/* link_call - one sealed request and its sealed reply on a req context,
 * after a handshake when there is no session with the parent yet */
int
link_call(struct node *n, nng_ctx ctx, nng_aio *aio,
          const Relay__LinkRequest *req, int64_t timeout_ms, size_t maxsz,
          Relay__LinkReply **reply)
{
    const struct dir_node *parent = dir_find(node_dir(n), n->parent->id);
    const uint8_t *ppk;
    const char *kwhy = "not in the directory";
    struct link_seal_ctx sc;
    char why[256] = "";
    uint8_t *req_pt, *pt = NULL, *frame;
    size_t req_len = relay__link_request__get_packed_size(req), ptlen = 0, flen;
    nng_msg *msg;
    int64_t sent_us = 0;
    int rc = RL_OK;

    *reply = NULL;
    /* the parent's key in the directory in force (rotations included) */
    if (parent == NULL || dir_key_at(parent, clock_now_us(), &ppk, &kwhy) != 0) {
        log_warn("peer=%s no key of the parent is valid now: %s", n->parent->id, kwhy);
        return RL_EPERM;
    }
    link_client_set_parent(n->up_link, ppk);
    if ((req_pt = malloc(req_len ? req_len : 1)) == NULL)
        return RL_ENOMEM;
    relay__link_request__pack(req, req_pt);
    /* at most two rounds: a handshake (no session yet), then the request */
    for (int round = 0; round < 2; round++) {
        rc = link_client_seal(n->up_link, req_pt, req_len, &sc, &frame, &flen, why,
                              sizeof(why));
        if (rc != RL_OK) {
            log_warn("peer=%s cannot seal a request: %s", n->parent->id, why);
            break;
        }
        sent_us = clock_now_us();
        rc = link_exchange(ctx, aio, frame, flen, timeout_ms, maxsz, &msg);
        free(frame);
        if (rc == RL_OK) {
            rc = link_client_open(n->up_link, &sc, nng_msg_body(msg),
                                  nng_msg_len(msg), &pt, &ptlen, why, sizeof(why));
            nng_msg_free(msg);
        } else {
            why[0] = '\0';
        }
        if (rc != RL_OK)
            link_client_drop(n->up_link, &sc); /* a new handshake next time */
        if (rc == RL_OK && sc.handshake)
            log_debug("peer=%s session made", n->parent->id);
        if (rc != RL_OK || !sc.handshake) {
            link_seal_wipe(&sc);
            break;
        }
        link_seal_wipe(&sc);
        rc = RL_ELINK; /* a handshake alone answers nothing */
    }
    free(req_pt);
    if (rc == RL_EPERM) {
        /* the parent's cleartext refusal names no node (link_guard.h): say
         * here what the operator of this node can check */
        log_warn("peer=%s parent refused the link: %s; check upstream_key, this "
                 "node's key file and its entry in the directory (the parent's "
                 "log names the cause)", n->parent->id, why);
        return RL_ELINK;
    }
    if (rc == RL_ESIG) {
        log_warn("peer=%s frame does not authenticate: %s", n->parent->id, why);
        return RL_ELINK;
    }
    if (rc != RL_OK) {
        if (why[0])
            log_warn("peer=%s malformed link frame: %s", n->parent->id, why);
        return rc == RL_ENOMEM || rc == RL_ECLOSED || rc == RL_ETIMEDOUT ||
                       rc == RL_ECONFIG
                   ? rc
                   : RL_ELINK;
    }
    *reply = relay__link_reply__unpack(NULL, ptlen, pt);
    free(pt);
    if (*reply == NULL)
        log_warn("peer=%s sealed reply holds no decodable LinkReply", n->parent->id);
    else if ((*reply)->now_us != 0)
        link_skew_note(n, (*reply)->now_us, sent_us + (clock_now_us() - sent_us) / 2);
    return *reply ? RL_OK : RL_EINVAL;
}

/* skew_words - "3 h 2 min ahead of" / "10 s behind" for |us| */
static void
skew_words(int64_t us, char *out, size_t len)
{
    int64_t s = (us < 0 ? -us : us) / 1000000;

    if (s >= 86400)
        snprintf(out, len, "%lld d %lld h", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(out, len, "%lld h %lld min", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(out, len, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, len, "%lld s", (long long)s);
}

/* link_skew_note - keep the skew; warn once per change */
void
link_skew_note(struct node *n, int64_t parent_us, int64_t local_us)
{
    int64_t skew = parent_us - local_us, bound = n->cfg.max_skew_s * 1000000;
    int bad = skew > bound || skew < -bound;
    char words[64];

    atomic_store(&n->up_skew_us, skew);
    atomic_store(&n->up_skew_at_us, local_us);
    atomic_store(&n->up_skew_mono_ms, clock_mono_ms());
    pthread_mutex_lock(&n->mu);
    if (bad != n->up_skew_bad ||
        (bad && (skew - n->up_skew_logged_us > bound || n->up_skew_logged_us - skew > bound))) {
        skew_words(skew, words, sizeof(words));
        if (bad)
            log_warn("peer=%s clock skew: this node's clock is %s %s the parent's "
                     "(max_skew_s %lld); messages may be refused as too old or in the "
                     "future until a clock is set right",
                     n->parent->id, words, skew < 0 ? "ahead of" : "behind",
                     (long long)n->cfg.max_skew_s);
        else
            log_info("peer=%s clock skew back within max_skew_s: %s %s the parent's",
                     n->parent->id, words, skew < 0 ? "ahead of" : "behind");
        n->up_skew_bad = bad;
        n->up_skew_logged_us = skew;
    }
    pthread_mutex_unlock(&n->mu);
}

/* link_skew_check - what an operator must know before filing */
const char *
link_skew_check(struct node *n, int *refuse, char *why, size_t whylen)
{
    int64_t skew = atomic_load(&n->up_skew_us), at = atomic_load(&n->up_skew_at_us);
    int64_t bound = n->cfg.max_skew_s * 1000000;
    char words[64], when[40];

    *refuse = 0;
    if (n->parent == NULL || at == 0 || (skew <= bound && skew >= -bound))
        return NULL;
    /* only a skew measured on the link as it is now: with the link down, or
     * no reply for a while, this node's clock may have been set right since */
    if (atomic_load(&n->up_pipes) == 0 ||
        clock_mono_ms() - atomic_load(&n->up_skew_mono_ms) >
            2 * (n->cfg.poll_hold_ms + n->cfg.link_timeout_ms))
        return NULL;
    skew_words(skew, words, sizeof(words));
    clock_format_iso(at, when, sizeof(when));
    *refuse = -skew > n->cfg.max_future_s * 1000000 || skew > n->cfg.max_age_s * 1000000;
    if (*refuse)
        snprintf(why, whylen,
                 "this node's clock is %s %s its parent %s's (measured %s): the parent "
                 "would refuse this message as %s; set the clock right (timedatectl, "
                 "NTP), then file again",
                 words, skew < 0 ? "ahead of" : "behind", n->parent->id, when,
                 skew < 0 ? "created in the future" : "too old");
    else
        snprintf(why, whylen,
                 "this node's clock is %s %s its parent %s's (measured %s), more than "
                 "max_skew_s (%lld s); due times shown here are off by as much: set "
                 "the clock right (timedatectl, NTP)",
                 words, skew < 0 ? "ahead of" : "behind", n->parent->id, when,
                 (long long)n->cfg.max_skew_s);
    return why;
}
