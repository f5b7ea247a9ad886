/*
 * keys.h - Ed25519 key pairs and key files.
 *
 * A secret key file holds one line, "relay-ed25519-secret <128 hex>", and is
 * created with mode 0600. Secret keys live in sodium_malloc memory and are
 * wiped by keys_free.
 */
#ifndef RELAY_KEYS_H
#define RELAY_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define KEYS_PK_LEN 32
#define KEYS_SK_LEN 64
#define KEYS_SIG_LEN 64

struct keypair {
    uint8_t pk[KEYS_PK_LEN];
    uint8_t *sk; /* KEYS_SK_LEN bytes of sodium_malloc memory */
};

/* keys_init - initialise libsodium; RL_OK or RL_EIO. Call once at start. */
int keys_init(void) RL_MUST_CHECK;
/* keys_generate - new key pair; caller frees with keys_free. */
int keys_generate(struct keypair **out) RL_MUST_CHECK;
/* keys_save - write the secret key to path, refusing to overwrite; mode 0600. */
int keys_save(const struct keypair *kp, const char *path) RL_MUST_CHECK;
/* keys_load - read a secret key file; on failure *why names the problem. */
int keys_load(const char *path, struct keypair **out, const char **why) RL_MUST_CHECK;
/* keys_free - wipe and free; NULL is allowed. */
void keys_free(struct keypair *kp);

/* keys_hex - lower-case hex of len bytes into out (2*len+1 bytes). */
void keys_hex(const uint8_t *in, size_t len, char *out);
/* keys_unhex - parse exactly len bytes of hex; 0 or -1. */
int keys_unhex(const char *hex, uint8_t *out, size_t len);

#endif
