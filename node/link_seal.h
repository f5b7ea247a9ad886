/*
 * link_seal.h - confidentiality and mutual authentication of link frames:
 * one session per connection, with forward secrecy (relay-link-v2).
 *
 * Every link exchange is one nng req/rep pair carried in a SealedFrame
 * (proto/relay.proto). A child first makes a session with its parent in one
 * handshake (Noise KK-style: both sides know each other's directory key;
 * each adds an ephemeral key), then seals each serialized LinkRequest, and
 * the parent each LinkReply, under the session's keys with a counter nonce.
 * Keys: the directory's Ed25519 keys converted to X25519, child C, parent P,
 * the child's ephemeral e, the parent's ephemeral f; H = BLAKE2b-256, AEAD
 * = ChaCha20-Poly1305-IETF, n(c) = 4 zero bytes || c as 8 bytes LE:
 *
 *   h   = H("relay-link-v2 hs" || C || P || len(from) || from)
 *   -> handshake {from, eph = e_pk, box = AEAD(k1, n(0), time_us, h || e_pk)}
 *        k1 = H("relay-link-v2 k1" || h || e_pk || DH(e, P) || DH(C, P))
 *   <- answer {eph = f_pk, sid, box = AEAD(k2, n(0), "", h || e_pk || f_pk || sid)}
 *        k2 = H("relay-link-v2 k2" || k1 || f_pk || sid || DH(f, e) || DH(f, C))
 *   c2p = H("relay-link-v2 c2p" || k2), p2c = H("relay-link-v2 p2c" || k2)
 *   -> data {from, sid, counter c, box = AEAD(c2p, n(c), LinkRequest,
 *            "relay-link-v2 req" || sid || from)}
 *   <- reply {box = AEAD(p2c, n(c), LinkReply, "relay-link-v2 rep" || sid)}
 *
 * The handshake opens only for the holder of P's key (DH(e,P)) and was made
 * by the holder of C's key (DH(C,P)); its answer opens only for the holder
 * of C's key (DH(f,C)) and was made by the holder of P's key (it opens under
 * k1). The ee term DH(f, e) is in every data key: once both ephemeral keys
 * are wiped (the child's after the answer, the parent's at once), the two
 * key files together open no recorded data frame (forward secrecy). A reply
 * is sealed with the counter of the request it answers: it opens only for
 * that request. from, sid and counter travel in clear: the parent needs
 * from to pick C's directory key, and sid to find the session.
 *
 * Replays. The handshake carries, inside its AEAD, the child's clock in
 * microseconds (strictly increasing per client); the parent accepts it only
 * if it is after the last one it accepted from that child, so a replayed
 * handshake costs one X25519 and evicts nothing. Data frames: the parent
 * keeps a window of LINK_SEAL_WINDOW counters per session (the child's
 * contexts seal concurrently: out of order within the window is fine) and
 * opens each counter once.
 *
 * Parent state: at most LINK_SEAL_PER_CHILD sessions per child (the newest
 * handshake replaces the oldest session), each 256 bytes in
 * sodium_malloc memory (plus 104 bytes per child for its last handshake
 * time), wiped when replaced, after link_seal_idle_ms
 * without a frame, when a lookup stops accepting the child (revoked, no
 * longer our child, rotated key), and at link_seal_forget. A data frame
 * with an unknown or expired session id is refused like any frame that
 * does not open (the caller answers LINK_GUARD_REFUSAL in clear); the child
 * then drops its session and makes a new handshake at its next call.
 *
 * A frame that does not open is answered with a cleartext SealedFrame that
 * carries only `error` (link_seal_error). The child cannot authenticate such
 * an answer and treats it as a failed exchange, nothing more.
 *
 * Ownership: frames and plaintexts returned through uint8_t ** are malloc'd
 * and belong to the caller (free). A struct link_seal_ctx holds the keys of
 * one exchange (and, on the parent, a handshake answer): the caller owns it
 * (usually on its stack) and must wipe it with link_seal_wipe when the
 * exchange is over, on every path. A struct link_client is owned by its
 * creator (link_client_free); it keeps a pointer to self, which must
 * outlive it.
 *
 * DIAGNOSTICS: the open functions write a reason into the caller's why
 * buffer (NUL-terminated; text taken from the wire has its control
 * characters replaced by '?', so it cannot forge log lines). Return codes:
 * RL_EINVAL (not a well-formed frame), RL_ESIG (does not authenticate:
 * wrong keys, altered, replayed, unknown or expired session, a small-order
 * or all-zero ephemeral key), RL_EUNKNOWN or RL_EPERM (passed on from the
 * peer lookup; RL_EPERM also for a parent's cleartext refusal read by
 * link_client_open), RL_ECONFIG (a key that cannot be converted to
 * X25519), RL_ENOMEM.
 *
 * SECURITY: nothing is derived before the peer lookup accepted `from`; the
 * parent's lookup admits only its own children and runs on every frame, so
 * a revoked child loses its sessions at its next frame. Ephemeral secrets,
 * DH results and handshake keys are wiped with sodium_memzero after use;
 * session keys live in sodium_malloc memory. DH(C, P), which depends only
 * on the two long-term keys, is cached per link in guarded memory until
 * link_seal_forget (one X25519 less per handshake).
 * Limits, by design: (1) the handshake's payload (the child's clock) is
 * sealed under k1, which the parent's key alone opens later: it carries
 * nothing else. (2) The last accepted handshake time per child is kept in
 * memory: after a parent restart, a recorded handshake can be replayed
 * once per child; it makes a session nobody can use (the replayer lacks e)
 * and the child's next handshake is accepted anyway. (3) A child whose
 * clock went back is refused until it passes its last accepted handshake
 * time or the parent restarts (WireGuard's TAI64N rule). (4) An observer
 * sees node ids, session ids, counters, sizes and timing. (5) The Ed25519
 * signing keys double as X25519 keys, converted.
 */
#ifndef RELAY_LINK_SEAL_H
#define RELAY_LINK_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"

#define LINK_SEAL_KEY_LEN 32
#define LINK_SEAL_SID_LEN 12     /* 4 bytes slot index || 8 random bytes */
#define LINK_SEAL_FROM_MAX 64    /* a node id, NUL included (struct dir_node) */
#define LINK_SEAL_WINDOW 128     /* data frames accepted out of order */
#define LINK_SEAL_PER_CHILD 2    /* sessions a parent keeps per child */
#define LINK_SEAL_IDLE_MS (10 * 60 * 1000) /* default idle expiry */

/* The state of one exchange, on the stack of whoever makes it. */
struct link_seal_ctx {
    uint8_t k[LINK_SEAL_KEY_LEN]; /* the reply's key (child, handshake: k1) */
    uint8_t sid[LINK_SEAL_SID_LEN];
    uint64_t counter; /* the request's counter: the reply's nonce */
    uint64_t gen;     /* child: the session generation this exchange used */
    char from[LINK_SEAL_FROM_MAX];
    int ready;     /* 1 once the keys are in place */
    int handshake; /* 1: a handshake (child: waiting for the answer; parent:
                    * answer with hs_reply, there is no LinkRequest) */
    int hs_counted; /* child: this handshake is counted in flight */
    uint8_t e_sk[32], e_pk[32], h[32]; /* child, during a handshake */
    uint8_t *hs_reply; /* parent: the handshake's answer frame (wipe frees) */
    size_t hs_reply_len;
};

/*
 * link_seal_peer_fn - the parent's lookup of a claimed sender: RL_OK with
 * its Ed25519 public key in pk, or an rl_err with the reason in why (for
 * example RL_EUNKNOWN "unknown node 'x'", RL_EPERM "'x' is not a child").
 */
typedef int (*link_seal_peer_fn)(void *arg, const char *from,
                                 uint8_t pk[KEYS_PK_LEN], char *why,
                                 size_t whylen);

/* ---------------------------------------------------------------- child */
struct link_client;

/* link_client_new - the child's end of a link from `from` (self's id) to
 * the parent whose directory key is parent_pk. NULL when out of memory or
 * from is empty or too long. Thread-safe: any number of contexts may share
 * it. Free with link_client_free (wipes the session). */
struct link_client *link_client_new(const struct keypair *self,
                                    const uint8_t parent_pk[KEYS_PK_LEN],
                                    const char *from);

/* link_client_seal - seal the serialized LinkRequest pt. With a session:
 * *frame is a data frame, ctx holds what opens its reply. Without one:
 * *frame is a handshake (ctx->handshake = 1, pt is not sent): send it,
 * give the answer to link_client_open (which completes the session and
 * returns *pt == NULL), then seal again. While one context's handshake is
 * in flight, another context's seal waits for it (up to 2 s) instead of
 * making a second one. On RL_OK the caller frees *frame and wipes ctx; on
 * failure nothing is returned and ctx is wiped. */
int link_client_seal(struct link_client *c, const uint8_t *pt, size_t ptlen,
                     struct link_seal_ctx *ctx, uint8_t **frame,
                     size_t *framelen, char *why, size_t whylen) RL_MUST_CHECK;

/* link_client_open - open the parent's answer to the exchange of ctx. For
 * a data frame, *pt is the serialized LinkReply (caller frees); for a
 * handshake, the session is made and *pt is NULL. A cleartext refusal is
 * RL_EPERM with its text in why. After any failure call link_client_drop
 * (or link_client_reset). */
int link_client_open(struct link_client *c, struct link_seal_ctx *ctx,
                     const uint8_t *frame, size_t len, uint8_t **pt,
                     size_t *ptlen, char *why, size_t whylen) RL_MUST_CHECK;

/* link_client_drop - after a failed exchange: wipe the session ctx used if
 * it is still the current one (so that one context's failure does not cost
 * another context a session it just made), and end its handshake if it was
 * one; the next seal makes a new handshake. Call it before
 * link_seal_wipe(ctx). */
void link_client_drop(struct link_client *c, struct link_seal_ctx *ctx);

/* link_client_reset - wipe the session whatever it is (the connection
 * went down: a session per connection). */
void link_client_reset(struct link_client *c);

/* link_client_set_parent - the parent's directory key changed (rotation):
 * use parent_pk from now on; the session is wiped if the key differs. */
void link_client_set_parent(struct link_client *c,
                            const uint8_t parent_pk[KEYS_PK_LEN]);

/* link_client_free - wipe and release; NULL is fine. */
void link_client_free(struct link_client *c);

/* --------------------------------------------------------------- parent */

/* link_open_request - parent: decode a frame, ask lookup for the key of its
 * `from`, then either answer a handshake (RL_OK, *pt NULL, ctx->handshake
 * set and the answer frame in ctx->hs_reply: send it as the reply) or open
 * a data frame under its session (RL_OK, *pt the serialized LinkRequest,
 * caller frees; ctx ready for link_seal_reply). On any return ctx->from
 * holds the claimed sender once it was well-formed (empty before), for the
 * log. */
int link_open_request(const struct keypair *self, link_seal_peer_fn lookup,
                      void *arg, const uint8_t *frame, size_t len,
                      struct link_seal_ctx *ctx, uint8_t **pt, size_t *ptlen,
                      char *why, size_t whylen) RL_MUST_CHECK;

/* link_seal_reply - parent: seal the serialized LinkReply pt under ctx
 * (a data frame from link_open_request). *frame is the SealedFrame (caller
 * frees). RL_EINVAL for a handshake ctx or one that is not ready. */
int link_seal_reply(const struct link_seal_ctx *ctx, const uint8_t *pt,
                    size_t ptlen, uint8_t **frame, size_t *framelen)
    RL_MUST_CHECK;

/* link_seal_error - parent: the cleartext refusal of a frame that did not
 * open: a SealedFrame with only `error` (caller frees *frame). */
int link_seal_error(const char *error, uint8_t **frame, size_t *framelen)
    RL_MUST_CHECK;

/* link_seal_wipe - forget an exchange's keys, free its handshake answer;
 * safe on a zeroed ctx. */
void link_seal_wipe(struct link_seal_ctx *ctx);

/* link_seal_idle_ms - parent: wipe sessions without a frame for ms (the
 * default is LINK_SEAL_IDLE_MS; it should exceed the longest poll hold). */
void link_seal_idle_ms(int64_t ms);

/* link_seal_sessions - parent: sessions held for `from` (NULL: all). */
size_t link_seal_sessions(const char *from);

/* link_seal_forget - wipe every parent session and the process-wide cache
 * of each link's static secret DH(own, peer) (sodium_malloc memory). Call
 * when the links stop; any later handshake computes and caches again. */
void link_seal_forget(void);

#endif
