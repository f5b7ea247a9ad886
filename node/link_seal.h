/*
 * link_seal.h - confidentiality and mutual authentication of link frames.
 *
 * Every link exchange is one nng req/rep pair: the child sends a LinkRequest,
 * the parent answers a LinkReply. Both travel as a SealedFrame
 * (proto/relay.proto) whose box is the serialized LinkRequest or LinkReply
 * under XChaCha20-Poly1305-IETF. The keys are the directory's Ed25519 keys,
 * converted to X25519. For child C, parent P and a fresh ephemeral key pair
 * e made for each request:
 *
 *     s1 = X25519(e, P)            (parent: X25519(P, e_pk))
 *     s2 = X25519(C, P)            (parent: X25519(P, C_pk))
 *     k  = BLAKE2b-256("relay-link-v1" || s1 || s2 || e_pk || C_pk || P_pk)
 *     request box = AEAD(k, nonce, LinkRequest, "relay-link-v1 req" || from)
 *     reply box   = AEAD(k, nonce', LinkReply,  "relay-link-v1 rep" || from)
 *
 * with C_pk and P_pk the X25519 forms and fresh random 24-byte nonces. Only
 * the holder of C's secret key can compute s2, so a request that opens comes
 * from C; only the holder of P's secret key can open the request and seal a
 * reply that opens under the same k, so a reply that opens comes from P and
 * answers this very request. `from` (the child's id) and the ephemeral key
 * travel in clear: the parent needs `from` to pick C's directory key.
 *
 * A frame that does not open is answered with a cleartext SealedFrame that
 * carries only `error` (link_seal_error). The child cannot authenticate such
 * an answer and treats it as a failed exchange, nothing more.
 *
 * Ownership: frames and plaintexts returned through uint8_t ** are malloc'd
 * and belong to the caller (free). A struct link_seal_ctx holds the session
 * key of one exchange; the caller owns it (usually on its stack) and must
 * wipe it with link_seal_wipe when the exchange is over, on every path.
 *
 * DIAGNOSTICS: the open functions write a reason into the caller's why
 * buffer (NUL-terminated; text taken from the wire has its control
 * characters replaced by '?', so it cannot forge log lines). Return codes:
 * RL_EINVAL (not a well-formed frame), RL_ESIG (does not authenticate:
 * wrong keys, altered, a small-order or all-zero ephemeral key),
 * RL_EUNKNOWN or RL_EPERM (passed on from the peer lookup; RL_EPERM also
 * for a parent's cleartext refusal read by link_open_reply), RL_ECONFIG (a
 * key that cannot be converted to X25519), RL_ENOMEM.
 *
 * SECURITY: nothing is derived before the peer lookup accepted `from`; the
 * parent's lookup admits only its own children. Session keys, s1, the
 * ephemeral and the converted secret keys are wiped with sodium_memzero
 * after each use; s2, which depends only on the two long-term keys, is
 * cached per link in guarded memory until link_seal_forget.
 * Limits, by design: (1) no replay protection at this layer: a replayed
 * request opens again; every link operation is idempotent (permanent
 * dedupe, acknowledgements by message id), the reply is sealed under a key
 * the replayer cannot derive, and a replayed poll only holds a worker for
 * poll_hold_ms. (2) No forward secrecy against the parent's key: whoever
 * later holds P's secret key computes s1 and s2 from a recorded exchange
 * and opens it; C's secret key alone opens nothing (s1 needs e or P).
 * (3) The Ed25519 signing keys double as X25519 keys, converted.
 */
#ifndef RELAY_LINK_SEAL_H
#define RELAY_LINK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"

#define LINK_SEAL_KEY_LEN 32
#define LINK_SEAL_NONCE_LEN 24
#define LINK_SEAL_FROM_MAX 64 /* a node id, NUL included (struct dir_node) */

/* The state of one exchange: the session key and the child's id. */
struct link_seal_ctx {
    uint8_t k[LINK_SEAL_KEY_LEN];
    char from[LINK_SEAL_FROM_MAX];
    int ready; /* 1 once k is derived */
};

/*
 * link_seal_peer_fn - the parent's lookup of a claimed sender: RL_OK with
 * its Ed25519 public key in pk, or an rl_err with the reason in why (for
 * example RL_EUNKNOWN "unknown node 'x'", RL_EPERM "'x' is not a child").
 */
typedef int (*link_seal_peer_fn)(void *arg, const char *from,
                                 uint8_t pk[KEYS_PK_LEN], char *why,
                                 size_t whylen);

/* link_seal_request - child: seal the serialized LinkRequest pt for the
 * parent whose Ed25519 key is parent_pk, as `from`. On RL_OK *frame is the
 * SealedFrame (caller frees) and ctx holds the key to open the reply. */
int link_seal_request(const struct keypair *self,
                      const uint8_t parent_pk[KEYS_PK_LEN], const char *from,
                      const uint8_t *pt, size_t ptlen,
                      struct link_seal_ctx *ctx, uint8_t **frame,
                      size_t *framelen, char *why, size_t whylen) RL_MUST_CHECK;

/* link_open_reply - child: open the parent's reply to the request of ctx.
 * On RL_OK *pt is the serialized LinkReply (caller frees). */
int link_open_reply(const struct link_seal_ctx *ctx, const uint8_t *frame,
                    size_t len, uint8_t **pt, size_t *ptlen, char *why,
                    size_t whylen) RL_MUST_CHECK;

/* link_open_request - parent: decode a request frame, ask lookup for the
 * key of its `from`, derive and open. On RL_OK *pt is the serialized
 * LinkRequest (caller frees) and ctx is ready for link_seal_reply. On any
 * return ctx->from holds the claimed sender once it was well-formed
 * (empty before), for the log. */
int link_open_request(const struct keypair *self, link_seal_peer_fn lookup,
                      void *arg, const uint8_t *frame, size_t len,
                      struct link_seal_ctx *ctx, uint8_t **pt, size_t *ptlen,
                      char *why, size_t whylen) RL_MUST_CHECK;

/* link_seal_reply - parent: seal the serialized LinkReply pt under ctx
 * (from link_open_request). *frame is the SealedFrame (caller frees). */
int link_seal_reply(const struct link_seal_ctx *ctx, const uint8_t *pt,
                    size_t ptlen, uint8_t **frame, size_t *framelen)
    RL_MUST_CHECK;

/* link_seal_error - parent: the cleartext refusal of a frame that did not
 * open: a SealedFrame with only `error` (caller frees *frame). */
int link_seal_error(const char *error, uint8_t **frame, size_t *framelen)
    RL_MUST_CHECK;

/* link_seal_wipe - forget the session key; safe on a zeroed ctx. */
void link_seal_wipe(struct link_seal_ctx *ctx);

/* link_seal_forget - wipe the process-wide cache of each link's static
 * secret X25519(own, peer) (kept in sodium_malloc memory so that a request
 * costs one X25519 less on each side). Call when the links stop; any later
 * seal or open computes and caches again. */
void link_seal_forget(void);

#endif
