/*
 * link.h - links between a node and its neighbours over nng req/rep.
 *
 * A child dials its parent; a parent never dials a child. The child's req
 * socket carries two request streams on two contexts:
 *   send: LinkRequest{push: the head of the parent's outbox} -> LinkReply
 *         {stored, refused}; acknowledged entries leave the outbox only
 *         after the reply, through the writer.
 *   poll: LinkRequest{poll, acked: the previous downward batch} -> LinkReply
 *         {deliver}; the parent holds the poll until something is queued
 *         for this child or poll_hold_ms passes.
 * A failed or timed-out request is sent again after a capped exponential
 * backoff with jitter; the receiver drops what it has already stored.
 *
 * Every LinkRequest and LinkReply travels sealed in a SealedFrame
 * (link_seal.h): encrypted and authenticated under the keys of a session
 * the child makes with one handshake per connection (both directory keys
 * and an ephemeral key of each end), which both contexts share. A frame
 * that does not open is refused with its reason, nothing in it is stored,
 * and the answer is a cleartext refusal; the child then drops its session
 * and makes a new handshake at its next call.
 *
 * SECURITY: every envelope's signature is checked against the directory key
 * of its author before the writer sees it, and a child may only push
 * messages whose author is in its own subtree. The link itself is
 * authenticated both ways: the parent serves only a child whose directory
 * key made the session (and that its directory still accepts, checked on
 * every frame), the child accepts only a reply sealed under the session
 * for that very request. Forward secrecy: once a session is over, the two
 * key files together open none of its recorded frames. Replays: a
 * handshake must be later than the child's last, a data frame's counter is
 * accepted once. On the wire an observer sees node ids, session ids,
 * counters, sizes and timing, never a field of a message.
 */
#ifndef RELAY_LINK_H
#define RELAY_LINK_H

#include <nng/nng.h>

#include "err.h"
#include "writer.h"

struct node;

/* link_up_start - dial the parent and start the send and poll threads. */
int link_up_start(struct node *n) RL_MUST_CHECK;
void link_up_stop(struct node *n);
/* link_up_connected - whether the parent is connected: a connection is
 * open and the parent answered within poll_hold_ms + link_timeout_ms. */
int link_up_connected(struct node *n, int64_t now_ms);
/* link_down_start - listen for children with link_workers threads. */
int link_down_start(struct node *n) RL_MUST_CHECK;
void link_down_stop(struct node *n);
/* link_down_connected - whether child (its directory index) is connected:
 * its connection is open, and a poll of its is parked here or it was
 * answered within link_timeout_ms. *parked (if not NULL): a poll of the
 * child is parked here now. */
int link_down_connected(struct node *n, size_t ix, int64_t now_ms, int *parked);
/* link_down_seen_ms - when child ix (directory index) last made a request
 * (monotonic ms); 0: never, or the listener is not running. */
int64_t link_down_seen_ms(struct node *n, size_t ix);
/* link_down_listening - 1 while the listener for children and its workers
 * run (started, not stopping): /readyz. */
int link_down_listening(void);

/* link_verify - decode and verify env bytes received from peer into it;
 * refusals are recorded in it (refused, why), never dropped silently. If
 * subtree is non-NULL the author must be at or below it. */
void link_verify(struct node *n, const uint8_t *buf, size_t len,
                 const char *subtree, struct work_item *it);

/* link_outbox_read - the head of peer's outbox (at most batch_max entries)
 * and copies of their stored envelopes, in one read transaction. Returns
 * the count in *count; items and envs are caller arrays of batch_max;
 * free the envelopes with link_free_envelopes. */
int link_outbox_read(struct node *n, const char *peer,
                     struct outbox_item *items, ProtobufCBinaryData *envs,
                     size_t *count) RL_MUST_CHECK;
void link_free_envelopes(ProtobufCBinaryData *envs, size_t count);

/* link_call - seal req for n's parent (its directory key) in the session
 * of n->up_link, making one first with a handshake (an exchange of its
 * own) if there is none, send it on ctx and wait for the reply (timeout ms
 * each) using the caller's aio (cancel it to interrupt); the reply must
 * open under the session for this request. After any failure the session
 * is dropped (link_client_drop): the next call makes a new one.
 * *reply is unpacked on RL_OK. A reply that does not open, or the parent's
 * cleartext refusal, is logged and returned as RL_ELINK. */
int link_call(struct node *n, nng_ctx ctx, nng_aio *aio,
              const Relay__LinkRequest *req, int64_t timeout_ms, size_t maxsz,
              Relay__LinkReply **reply) RL_MUST_CHECK;

/* link_skew_note - the parent's clock read parent_us when we were at
 * local_us: keep the skew for status and submissions, and log a warning
 * when it crosses max_skew_s, or moves by more than that again. */
void link_skew_note(struct node *n, int64_t parent_us, int64_t local_us);
/* link_skew_check - before filing: NULL when this node's clock agrees with
 * its parent's (or was never compared, or the comparison is not current:
 * link down, or no reply for twice poll_hold_ms + link_timeout_ms); otherwise a sentence for the
 * operator in why, and *refuse set when the parent would refuse what is
 * filed now (further off than its freshness window, max_future_s ahead or
 * max_age_s behind, judged with this node's settings). */
const char *link_skew_check(struct node *n, int *refuse, char *why, size_t whylen);

#endif
