/*
 * fuzz_envelope.c - libFuzzer target: the envelope decoder and, through the
 * Body's oneof, the decoding and rendering of every message kind.
 *
 * One input is one encoded Envelope as it arrives on a link. It goes
 * through what a node does with it: env_open (strict decode, 65536-byte
 * limit), env_verify with a fixed key (the seeds are signed with it, so
 * both the good and the bad signature path run), env_incident_of,
 * env_with_hop, and form_body_json (what relayctl show prints).
 *
 * Invariants checked (abort on failure): a refused envelope names why and
 * holds nothing; an envelope with one more hop opens again, with the same
 * body bytes, signature and verdict and one more hop.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "form.h"
#include "fuzz_util.h"

static uint8_t fuzz_pk[KEYS_PK_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerInitialize - libsodium and the fixed public key */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];

    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    crypto_sign_seed_keypair(fuzz_pk, sk, (const unsigned char *)FUZZ_KEY_SEED);
    sodium_memzero(sk, sizeof(sk));
    return 0;
}

/* same_bytes - equal lengths and contents (memcmp is not given NULL) */
static int
same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* LLVMFuzzerTestOneInput - one envelope */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct env_msg m, m2;
    const ProtobufCBinaryData *inc;
    const char *why = NULL;
    uint8_t *out;
    size_t outlen;
    json_t *j;
    int sig;

    if (env_open(data, size, 65536, &m, &why) != RL_OK) {
        FUZZ_CHECK(why != NULL && m.env == NULL && m.body == NULL,
                   "a refused envelope names why and holds nothing");
        return 0;
    }
    FUZZ_CHECK(m.env != NULL && m.body != NULL, "an opened envelope holds both parts");
    sig = env_verify(&m, fuzz_pk);
    FUZZ_CHECK(strcmp(env_kind_name(m.body->kind_case), "none") != 0,
               "an opened envelope has a kind with a name");
    inc = env_incident_of(m.body);
    if (inc != NULL)
        FUZZ_CHECK(inc->len == 0 || inc->data != NULL, "incident id has its bytes");

    if (env_with_hop(&m, "fuzz-node", FUZZ_NOW_US, &out, &outlen) == RL_OK) {
        FUZZ_CHECK(env_open(out, outlen, SIZE_MAX, &m2, &why) == RL_OK,
                   "an envelope with one more hop opens again");
        FUZZ_CHECK(m2.env->n_hops == m.env->n_hops + 1, "one more hop");
        FUZZ_CHECK(strcmp(m2.env->hops[m.env->n_hops]->node, "fuzz-node") == 0 &&
                       m2.env->hops[m.env->n_hops]->received_us == FUZZ_NOW_US,
                   "the new hop is the last");
        FUZZ_CHECK(same_bytes(&m.env->body, &m2.env->body) &&
                       same_bytes(&m.env->signature, &m2.env->signature),
                   "body bytes and signature survive a hop");
        FUZZ_CHECK(env_verify(&m2, fuzz_pk) == sig, "a hop does not change the verdict");
        env_msg_free(&m2);
        free(out);
    }

    j = form_body_json(m.body);
    if (j != NULL) {
        char *s = json_dumps(j, JSON_COMPACT);

        FUZZ_CHECK(s != NULL, "a rendered body serialises");
        free(s);
        json_decref(j);
    }
    env_msg_free(&m);
    FUZZ_CHECK(m.env == NULL && m.body == NULL, "env_msg_free empties the struct");
    return 0;
}
