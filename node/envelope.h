/*
 * envelope.h - signed envelopes: seal, open, verify, add a hop.
 *
 * An envelope carries the author's Body bytes verbatim, the Ed25519
 * signature over exactly those bytes, and relay hops outside them. Decoding
 * is strict: a truncated, oversized or incomplete envelope is an error that
 * names the problem, never a guess.
 */
#ifndef RELAY_ENVELOPE_H
#define RELAY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"
#include "relay.pb-c.h"

#define ENV_ID_LEN 16
#define ENV_ID_HEX (2 * ENV_ID_LEN + 1)

/* A decoded envelope. Both pointers are owned by the struct. */
struct env_msg {
    Relay__Envelope *env;
    Relay__Body *body;
};

/* env_id_new - 16 random bytes. */
void env_id_new(uint8_t id[ENV_ID_LEN]);
/* env_id_hex - hex form of a 16-byte id (out: ENV_ID_HEX bytes). */
void env_id_hex(const uint8_t *id, char out[ENV_ID_HEX]);
/* env_id_parse - parse 32 hex digits; 0 or -1. */
int env_id_parse(const char *hex, uint8_t id[ENV_ID_LEN]);

/*
 * env_seal - fill body->id (if empty), author and created_us must be set by
 * the caller; serialise body, sign it with kp and return the encoded
 * Envelope in *out (malloc, caller frees) of *outlen bytes.
 */
int env_seal(const Relay__Body *body, const struct keypair *kp, uint8_t **out,
             size_t *outlen) RL_MUST_CHECK;

/*
 * env_seal_open - env_seal, then env_open of the result with limit max: a
 * message this node makes, in the decoded form the writer stores. On
 * success *m owns it (env_msg_free); on failure *why names the problem
 * (NULL when sealing itself failed) and *m is empty.
 */
int env_seal_open(const Relay__Body *body, const struct keypair *kp, size_t max,
                  struct env_msg *m, const char **why) RL_MUST_CHECK;

/*
 * env_peek_id - the message id inside an encoded Envelope that env_open
 * refused (too large, not strict), when it can be decoded at all: used only
 * to name, to the neighbour that sent it, which message is refused. RL_OK
 * with id filled, or RL_EINVAL.
 */
int env_peek_id(const uint8_t *buf, size_t len, uint8_t id[ENV_ID_LEN]) RL_MUST_CHECK;
/* env_peek - the author (into author, alen bytes, truncated) and the kind
 * (the Body's oneof field number, e.g. RELAY__BODY__KIND_ADVISORY; 0 none)
 * of an encoded envelope, read without decoding it: no allocation, and a
 * Body.to of thousands of ids costs a skip. Not verified; RL_EINVAL when
 * malformed. */
int env_peek(const uint8_t *buf, size_t len, char *author, size_t alen, int *kind);

/*
 * env_open - decode an encoded Envelope of len bytes, refusing anything
 * above max bytes. On success *m owns both decoded parts (env_msg_free).
 * On failure *why names the problem (static string) and *m is empty.
 */
int env_open(const uint8_t *buf, size_t len, size_t max, struct env_msg *m,
             const char **why) RL_MUST_CHECK;

/* env_verify - RL_OK when the signature over body verifies with pk. */
int env_verify(const struct env_msg *m, const uint8_t pk[KEYS_PK_LEN])
    RL_MUST_CHECK;

/* env_msg_free - release a decoded envelope; safe on an empty one. */
void env_msg_free(struct env_msg *m);

/*
 * env_with_hop - re-encode m's envelope with one more hop (node, at_us) in
 * *out (malloc, caller frees). Body bytes and signature are copied as-is.
 */
int env_with_hop(const struct env_msg *m, const char *node, int64_t at_us,
                 uint8_t **out, size_t *outlen) RL_MUST_CHECK;

/* env_kind_name - "report", "update", ... for a body kind. */
const char *env_kind_name(Relay__Body__KindCase k);

/* env_incident_of - the incident id a body refers to (the report's own id
 * for a report), or NULL for kinds without one. Points into body. */
const ProtobufCBinaryData *env_incident_of(const Relay__Body *body);

#endif
