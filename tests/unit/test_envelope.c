/*
 * test_envelope.c - sealing, strict opening, verifying and relaying
 * envelopes, and the known-answer file kat_envelope.txt.
 *
 * The known answer was produced once by "test_envelope --kat" and is checked
 * independently by kat_check.py with PyNaCl; here the same fixed seed and
 * body must give exactly the recorded body bytes, signature and envelope.
 * Nothing here touches the file system except reading the KAT file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "envelope.h"
#include "keys.h"

#ifndef KAT_ENVELOPE
#error "KAT_ENVELOPE must name tests/unit/kat_envelope.txt"
#endif

#define MAX_BYTES 65536

/* The known-answer message. */
static const uint8_t kat_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
    0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
    0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t kat_id[ENV_ID_LEN] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                           0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                           0xcc, 0xdd, 0xee, 0xff};
static const uint8_t kat_incident[ENV_ID_LEN] = {
    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
static char *kat_to[] = {"city-test"};

/* kat_body - the fixed Body: a status update from ag-test to city-test.
 * Points into static data; nothing to free. */
static void
kat_body(Relay__Body *b, Relay__StatusUpdate *u)
{
    relay__body__init(b);
    relay__status_update__init(u);
    u->incident.data = (uint8_t *)kat_incident;
    u->incident.len = sizeof(kat_incident);
    u->team_formed = 1;
    u->damage_controlled = 1;
    u->text = "contained; restoring from backup";
    b->id.data = (uint8_t *)kat_id;
    b->id.len = sizeof(kat_id);
    b->author = "ag-test";
    b->created_us = INT64_C(1700000000000000);
    b->n_to = 1;
    b->to = kat_to;
    b->kind_case = RELAY__BODY__KIND_UPDATE;
    b->update = u;
}

/* seed_keypair - the key pair of a fixed seed (keys_free releases it) */
static struct keypair *
seed_keypair(const uint8_t seed[32])
{
    struct keypair *kp = calloc(1, sizeof(*kp));

    assert_non_null(kp);
    kp->sk = sodium_malloc(KEYS_SK_LEN);
    assert_non_null(kp->sk);
    assert_int_equal(crypto_sign_seed_keypair(kp->pk, kp->sk, seed), 0);
    return kp;
}

/* sealed - the KAT body sealed with a fresh key pair */
struct sealed {
    struct keypair *kp;
    uint8_t *buf;
    size_t len;
};

static void
sealed_make(struct sealed *s)
{
    Relay__Body b;
    Relay__StatusUpdate u;

    kat_body(&b, &u);
    assert_int_equal(keys_generate(&s->kp), RL_OK);
    assert_int_equal(env_seal(&b, s->kp, &s->buf, &s->len), RL_OK);
}

static void
sealed_free(struct sealed *s)
{
    free(s->buf);
    keys_free(s->kp);
}

/* open_ok - env_open that must succeed */
static void
open_ok(const uint8_t *buf, size_t len, struct env_msg *m)
{
    const char *why = "unset";
    int rc = env_open(buf, len, MAX_BYTES, m, &why);

    if (rc != RL_OK)
        fail_msg("env_open: %s (%s)", rl_strerror(rc), why ? why : "-");
    assert_null(why);
}

/* copy_of - a heap copy of exactly len bytes, so over-reads are caught */
static uint8_t *
copy_of(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len ? len : 1);

    assert_non_null(q);
    if (len)
        memcpy(q, p, len);
    return q;
}

/* test_seal_open_verify - the round trip keeps every field */
static void
test_seal_open_verify(void **state)
{
    struct sealed s;
    struct env_msg m;
    const ProtobufCBinaryData *inc;

    sealed_make(&s);
    open_ok(s.buf, s.len, &m);
    assert_int_equal(env_verify(&m, s.kp->pk), RL_OK);
    assert_int_equal(m.env->n_hops, 0);
    assert_int_equal(m.env->signature.len, KEYS_SIG_LEN);
    assert_memory_equal(m.body->id.data, kat_id, ENV_ID_LEN);
    assert_string_equal(m.body->author, "ag-test");
    assert_true(m.body->created_us == INT64_C(1700000000000000));
    assert_int_equal(m.body->n_to, 1);
    assert_string_equal(m.body->to[0], "city-test");
    assert_int_equal(m.body->kind_case, RELAY__BODY__KIND_UPDATE);
    assert_string_equal(env_kind_name(m.body->kind_case), "update");
    assert_true(m.body->update->team_formed);
    assert_false(m.body->update->recovered);
    inc = env_incident_of(m.body);
    assert_non_null(inc);
    assert_int_equal(inc->len, ENV_ID_LEN);
    assert_memory_equal(inc->data, kat_incident, ENV_ID_LEN);
    env_msg_free(&m);
    assert_null(m.env);
    assert_null(m.body);
    env_msg_free(&m); /* safe on an empty one */
    sealed_free(&s);
}

/* test_body_bit_flips - every bit of the signed bytes matters */
static void
test_body_bit_flips(void **state)
{
    struct sealed s;
    struct env_msg m, m2;
    const char *why;
    size_t off, blen;
    uint8_t *body, *copy;
    int opened = 0;

    sealed_make(&s);
    open_ok(s.buf, s.len, &m);
    body = m.env->body.data;
    blen = m.env->body.len;
    assert_true(blen > 16);

    /* in the decoded envelope: exactly RL_ESIG for every bit */
    for (size_t i = 0; i < blen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            body[i] ^= (uint8_t)(1u << bit);
            if (env_verify(&m, s.kp->pk) != RL_ESIG)
                fail_msg("body byte %zu bit %d flipped still verifies", i, bit);
            body[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(env_verify(&m, s.kp->pk), RL_OK);

    /* on the wire: refused by env_open, or opened and RL_ESIG */
    copy = copy_of(s.buf, s.len);
    for (off = 0; off + blen <= s.len; off++)
        if (memcmp(copy + off, body, blen) == 0)
            break;
    assert_true(off + blen <= s.len);
    for (size_t i = off; i < off + blen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            copy[i] ^= (uint8_t)(1u << bit);
            if (env_open(copy, s.len, MAX_BYTES, &m2, &why) == RL_OK) {
                opened++;
                if (env_verify(&m2, s.kp->pk) != RL_ESIG)
                    fail_msg("wire byte %zu bit %d flipped still verifies", i,
                             bit);
                env_msg_free(&m2);
            } else {
                assert_non_null(why);
                assert_null(m2.env);
                assert_null(m2.body);
            }
            copy[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(opened > 0); /* most flips still decode: verify was reached */
    free(copy);
    env_msg_free(&m);
    sealed_free(&s);
}

/* test_signature_bit_flips - every bit of the signature matters */
static void
test_signature_bit_flips(void **state)
{
    struct sealed s;
    struct env_msg m;
    uint8_t *sig;

    sealed_make(&s);
    open_ok(s.buf, s.len, &m);
    sig = m.env->signature.data;
    for (size_t i = 0; i < KEYS_SIG_LEN; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sig[i] ^= (uint8_t)(1u << bit);
            if (env_verify(&m, s.kp->pk) != RL_ESIG)
                fail_msg("signature byte %zu bit %d flipped still verifies", i,
                         bit);
            sig[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_int_equal(env_verify(&m, s.kp->pk), RL_OK);
    env_msg_free(&m);
    sealed_free(&s);
}

/* test_other_key - a signature verifies with its own key only */
static void
test_other_key(void **state)
{
    struct sealed s;
    struct env_msg m;
    struct keypair *other;
    uint8_t pk[KEYS_PK_LEN];

    sealed_make(&s);
    assert_int_equal(keys_generate(&other), RL_OK);
    open_ok(s.buf, s.len, &m);
    assert_int_equal(env_verify(&m, other->pk), RL_ESIG);
    memcpy(pk, s.kp->pk, sizeof(pk));
    pk[KEYS_PK_LEN - 1] ^= 0x01;
    assert_int_equal(env_verify(&m, pk), RL_ESIG);
    memset(pk, 0, sizeof(pk));
    assert_int_equal(env_verify(&m, pk), RL_ESIG);
    assert_int_equal(env_verify(&m, s.kp->pk), RL_OK);
    env_msg_free(&m);
    keys_free(other);
    sealed_free(&s);
}

/* test_truncated - no prefix of an envelope verifies */
/* test_peek - env_peek reads the author and kind env_open decodes, from a
 * stored envelope (with a hop) too, skips a Body.to of 4,000 ids, and says
 * malformed for a prefix of the envelope unless it ends between two fields
 * (issue 9: deliveries are sorted without decoding) */
static void
test_peek(void **state)
{
    struct sealed s;
    struct env_msg m;
    char author[64], **to = calloc(4000, sizeof(*to));
    uint8_t *hop;
    size_t hlen, refused = 0;
    int kind;
    Relay__Body b;
    Relay__StatusUpdate u;

    (void)state;
    sealed_make(&s);
    assert_int_equal(env_peek(s.buf, s.len, author, sizeof(author), &kind), RL_OK);
    assert_string_equal(author, "ag-test");
    assert_int_equal(kind, RELAY__BODY__KIND_UPDATE);
    open_ok(s.buf, s.len, &m);
    assert_int_equal(env_with_hop(&m, "city-test", 1, &hop, &hlen), RL_OK);
    env_msg_free(&m);
    assert_int_equal(env_peek(hop, hlen, author, 4, &kind), RL_OK);
    assert_string_equal(author, "ag-"); /* truncated to the room given */
    free(hop);
    for (size_t len = 1; len < s.len; len++) {
        uint8_t *p = copy_of(s.buf, len);
        if (env_peek(p, len, author, sizeof(author), &kind) == RL_EINVAL)
            refused++;
        else /* it ends between the body and the signature: nothing made up */
            assert_true(strcmp(author, "ag-test") == 0 && kind == RELAY__BODY__KIND_UPDATE);
        free(p);
    }
    assert_true(refused >= s.len - 2);
    sealed_free(&s);
    /* an advisory-sized audience costs a skip */
    assert_non_null(to);
    for (int i = 0; i < 4000; i++)
        to[i] = "moe-school-0000";
    kat_body(&b, &u);
    b.to = to;
    b.n_to = 4000;
    assert_int_equal(keys_generate(&s.kp), RL_OK);
    assert_int_equal(env_seal(&b, s.kp, &s.buf, &s.len), RL_OK);
    assert_int_equal(env_peek(s.buf, s.len, author, sizeof(author), &kind), RL_OK);
    assert_string_equal(author, "ag-test");
    assert_int_equal(kind, RELAY__BODY__KIND_UPDATE);
    sealed_free(&s);
    free(to);
}

static void
test_truncated(void **state)
{
    struct sealed s;
    struct env_msg m;
    const char *why;
    size_t refused = 0;

    sealed_make(&s);
    for (size_t len = 0; len < s.len; len++) {
        uint8_t *p = copy_of(s.buf, len);
        why = NULL;
        if (env_open(p, len, MAX_BYTES, &m, &why) == RL_OK) {
            if (env_verify(&m, s.kp->pk) != RL_ESIG)
                fail_msg("a %zu-byte prefix of %zu verifies", len, s.len);
            env_msg_free(&m);
        } else {
            if (why == NULL)
                fail_msg("a %zu-byte prefix is refused without a reason", len);
            assert_null(m.env);
            assert_null(m.body);
            refused++;
        }
        free(p);
    }
    assert_true(refused == s.len); /* in fact env_open refuses them all */
    sealed_free(&s);
}

/* test_oversize - max is inclusive; one byte over is RL_ETOOBIG */
static void
test_oversize(void **state)
{
    struct sealed s;
    struct env_msg m;
    const char *why = NULL;

    sealed_make(&s);
    assert_int_equal(env_open(s.buf, s.len, s.len - 1, &m, &why), RL_ETOOBIG);
    assert_non_null(why);
    assert_non_null(strstr(why, "max_message_bytes"));
    assert_null(m.env);
    assert_null(m.body);
    assert_int_equal(env_open(s.buf, s.len, s.len, &m, &why), RL_OK);
    env_msg_free(&m);
    sealed_free(&s);
}

/* test_with_hop - hops go outside the signed bytes */
static void
test_with_hop(void **state)
{
    struct sealed s;
    struct env_msg m, h1, h2;
    uint8_t *b1, *b2;
    size_t l1, l2;

    sealed_make(&s);
    open_ok(s.buf, s.len, &m);
    assert_int_equal(
        env_with_hop(&m, "city-test", INT64_C(1700000000000001), &b1, &l1),
        RL_OK);
    assert_true(l1 > s.len);
    open_ok(b1, l1, &h1);
    assert_int_equal(h1.env->body.len, m.env->body.len);
    assert_memory_equal(h1.env->body.data, m.env->body.data, m.env->body.len);
    assert_int_equal(h1.env->signature.len, KEYS_SIG_LEN);
    assert_memory_equal(h1.env->signature.data, m.env->signature.data,
                        KEYS_SIG_LEN);
    assert_int_equal(h1.env->n_hops, 1);
    assert_string_equal(h1.env->hops[0]->node, "city-test");
    assert_true(h1.env->hops[0]->received_us == INT64_C(1700000000000001));
    assert_int_equal(env_verify(&h1, s.kp->pk), RL_OK);
    /* the sender's decoded envelope is left alone */
    assert_int_equal(m.env->n_hops, 0);

    assert_int_equal(
        env_with_hop(&h1, "nat", INT64_C(1700000000000002), &b2, &l2), RL_OK);
    open_ok(b2, l2, &h2);
    assert_memory_equal(h2.env->body.data, m.env->body.data, m.env->body.len);
    assert_memory_equal(h2.env->signature.data, m.env->signature.data,
                        KEYS_SIG_LEN);
    assert_int_equal(h2.env->n_hops, 2);
    assert_string_equal(h2.env->hops[0]->node, "city-test");
    assert_string_equal(h2.env->hops[1]->node, "nat");
    assert_true(h2.env->hops[1]->received_us == INT64_C(1700000000000002));
    assert_int_equal(env_verify(&h2, s.kp->pk), RL_OK);
    /* the first encoding is a prefix of the second: hops are appended */
    assert_memory_equal(b2, b1, l1);

    env_msg_free(&h2);
    env_msg_free(&h1);
    env_msg_free(&m);
    free(b2);
    free(b1);
    sealed_free(&s);
}

/* test_id_hex - hex round trip, and refusal of anything but 32 hex digits */
static void
test_id_hex(void **state)
{
    static const char *const bad[] = {
        "",
        "00112233445566778899aabbccddeef",   /* 31 digits */
        "00112233445566778899aabbccddeeff0", /* 33 */
        "00112233445566778899aabbccddeeff00",
        "g0112233445566778899aabbccddeeff", /* not hex, first digit */
        "0g112233445566778899aabbccddeeff", /* second digit */
        "00112233445566778899aabbccddeefg", /* last digit */
        "00112233445566778899aabbccdd eff",
        "0x112233445566778899aabbccddeeff",
        "00112233-4455-6677-8899aabbccddee",
    };
    uint8_t id[ENV_ID_LEN], back[ENV_ID_LEN];
    char hex[ENV_ID_HEX];

    env_id_hex(kat_id, hex);
    assert_string_equal(hex, "00112233445566778899aabbccddeeff");
    assert_int_equal(env_id_parse(hex, back), 0);
    assert_memory_equal(back, kat_id, ENV_ID_LEN);
    for (int i = 0; i < 64; i++) {
        env_id_new(id);
        env_id_hex(id, hex);
        assert_int_equal(strlen(hex), 32);
        memset(back, 0, sizeof(back));
        assert_int_equal(env_id_parse(hex, back), 0);
        assert_memory_equal(back, id, ENV_ID_LEN);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (env_id_parse(bad[i], back) != -1)
            fail_msg("env_id_parse accepted \"%s\"", bad[i]);
}

/* Strict decoding: envelopes that decode as protobuf but are not ours. */
struct open_case {
    const char *name;
    const char *why; /* env_open's reason */
};

static const struct open_case open_cases[] = {
    {"signature of 63 bytes", "signature is not 64 bytes"},
    {"no signature", "signature is not 64 bytes"},
    {"body not a Body", "signed body is not decodable"},
    {"id of 15 bytes", "message id is not 16 bytes"},
    {"no author", "message has no author"},
    {"no creation time", "message has no creation time"},
    {"no kind", "message has no kind"},
    {"not protobuf",
     "not a decodable envelope (truncated or malformed protobuf)"},
};
#define NOPEN (sizeof(open_cases) / sizeof(open_cases[0]))

/* run_open_bad - build the broken envelope, properly signed, and open it */
static void
run_open_bad(void **state)
{
    const struct open_case *c = *state;
    Relay__Body b;
    Relay__StatusUpdate u;
    Relay__Envelope env = RELAY__ENVELOPE__INIT;
    struct keypair *kp;
    struct env_msg m;
    uint8_t sig[KEYS_SIG_LEN], *bb, *eb;
    size_t bl, el;
    const char *why = NULL;

    kat_body(&b, &u);
    kp = seed_keypair(kat_seed);
    if (strcmp(c->name, "id of 15 bytes") == 0)
        b.id.len = 15;
    else if (strcmp(c->name, "no author") == 0)
        b.author = "";
    else if (strcmp(c->name, "no creation time") == 0)
        b.created_us = 0;
    else if (strcmp(c->name, "no kind") == 0)
        b.kind_case = RELAY__BODY__KIND__NOT_SET;
    bl = relay__body__get_packed_size(&b);
    bb = malloc(bl + 1);
    assert_non_null(bb);
    relay__body__pack(&b, bb);
    if (strcmp(c->name, "body not a Body") == 0)
        bb[bl++] = 0xff; /* a field tag without its value */
    crypto_sign_detached(sig, NULL, bb, bl, kp->sk);
    env.body.data = bb;
    env.body.len = bl;
    env.signature.data = sig;
    env.signature.len = strcmp(c->name, "signature of 63 bytes") == 0 ? 63 : 64;
    if (strcmp(c->name, "no signature") == 0)
        env.signature.len = 0;
    el = relay__envelope__get_packed_size(&env);
    eb = malloc(el);
    assert_non_null(eb);
    relay__envelope__pack(&env, eb);
    if (strcmp(c->name, "not protobuf") == 0)
        eb[0] = 0x0f; /* field 1 with the reserved wire type 7 */

    assert_int_equal(env_open(eb, el, MAX_BYTES, &m, &why), RL_EINVAL);
    assert_non_null(why);
    assert_string_equal(why, c->why);
    assert_null(m.env);
    assert_null(m.body);
    free(eb);
    free(bb);
    keys_free(kp);
}

/* KAT file: "name = hex" lines, '#' comments. */
struct kat {
    char seed[65], pk[65], body[1024], signature[129], envelope[1200];
};

static void
kat_read(struct kat *k)
{
    FILE *fp = fopen(KAT_ENVELOPE, "r");
    char line[1400], name[32], val[1300];
    int got = 0;

    if (fp == NULL)
        fail_msg("cannot open %s", KAT_ENVELOPE);
    memset(k, 0, sizeof(*k));
    while (fgets(line, sizeof(line), fp) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%31s = %1299s", name, val) != 2)
            fail_msg("bad KAT line: %s", line);
        struct {
            const char *n;
            char *dst;
            size_t cap;
        } rows[] = {{"seed", k->seed, sizeof(k->seed)},
                    {"pk", k->pk, sizeof(k->pk)},
                    {"body", k->body, sizeof(k->body)},
                    {"signature", k->signature, sizeof(k->signature)},
                    {"envelope", k->envelope, sizeof(k->envelope)}};
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            if (strcmp(name, rows[i].n) != 0)
                continue;
            if (strlen(val) >= rows[i].cap)
                fail_msg("KAT %s too long", name);
            strcpy(rows[i].dst, val);
            got |= 1 << i;
        }
    }
    fclose(fp);
    if (got != 0x1f)
        fail_msg("KAT file %s lacks a field (have mask %#x)", KAT_ENVELOPE,
                 got);
}

/* hex_of - lower-case hex of len bytes (malloc) */
static char *
hex_of(const uint8_t *p, size_t len)
{
    char *h = malloc(2 * len + 1);

    assert_non_null(h);
    keys_hex(p, len, h);
    return h;
}

/* test_kat - the fixed seed and body give exactly the recorded bytes */
static void
test_kat(void **state)
{
    struct kat k;
    Relay__Body b;
    Relay__StatusUpdate u;
    struct keypair *kp = seed_keypair(kat_seed);
    struct env_msg m;
    uint8_t *bb, *eb;
    size_t bl, el;
    char *h;

    kat_read(&k);
    h = hex_of(kat_seed, 32);
    assert_string_equal(h, k.seed);
    free(h);
    h = hex_of(kp->pk, KEYS_PK_LEN);
    assert_string_equal(h, k.pk);
    /* RFC 8032 section 7.1, TEST 1: the same seed, the same public key */
    assert_string_equal(
        h, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    free(h);

    kat_body(&b, &u);
    bl = relay__body__get_packed_size(&b);
    bb = malloc(bl);
    assert_non_null(bb);
    relay__body__pack(&b, bb);
    h = hex_of(bb, bl);
    assert_string_equal(h, k.body);
    free(h);

    assert_int_equal(env_seal(&b, kp, &eb, &el), RL_OK);
    h = hex_of(eb, el);
    assert_string_equal(h, k.envelope);
    free(h);
    open_ok(eb, el, &m);
    assert_int_equal(m.env->body.len, bl);
    assert_memory_equal(m.env->body.data, bb, bl);
    h = hex_of(m.env->signature.data, m.env->signature.len);
    assert_string_equal(h, k.signature);
    free(h);
    assert_int_equal(env_verify(&m, kp->pk), RL_OK);

    env_msg_free(&m);
    free(eb);
    free(bb);
    keys_free(kp);
}

/* print_hex - one "name = hex" line */
static void
print_hex(const char *name, const uint8_t *p, size_t len)
{
    char *h = hex_of(p, len);

    printf("%s = %s\n", name, h);
    free(h);
}

/* kat_print - write the KAT file's contents to stdout (--kat) */
static int
kat_print(void)
{
    Relay__Body b;
    Relay__StatusUpdate u;
    struct keypair *kp;
    struct env_msg m;
    const char *why;
    uint8_t *bb, *eb;
    size_t bl, el;

    kat_body(&b, &u);
    kp = calloc(1, sizeof(*kp));
    kp->sk = sodium_malloc(KEYS_SK_LEN);
    crypto_sign_seed_keypair(kp->pk, kp->sk, kat_seed);
    bl = relay__body__get_packed_size(&b);
    bb = malloc(bl);
    relay__body__pack(&b, bb);
    if (env_seal(&b, kp, &eb, &el) != RL_OK ||
        env_open(eb, el, MAX_BYTES, &m, &why) != RL_OK)
        return 1;
    printf(
        "# kat_envelope.txt - known answer for env_seal (test_envelope.c,\n"
        "# kat_check.py). Generated by \"test_envelope --kat\"; never edit.\n"
        "# Ed25519 key from the 32-byte seed (RFC 8032 section 7.1,\n"
        "# TEST 1, so pk is the RFC's too); body is the packed Body\n"
        "# (id 00112233445566778899aabbccddeeff, author ag-test,\n"
        "# created_us 1700000000000000, to [city-test], a StatusUpdate);\n"
        "# signature is the detached signature over exactly those bytes;\n"
        "# envelope is the packed Envelope {body, signature}, no hops.\n");
    print_hex("seed", kat_seed, 32);
    print_hex("pk", kp->pk, KEYS_PK_LEN);
    print_hex("body", bb, bl);
    print_hex("signature", m.env->signature.data, m.env->signature.len);
    print_hex("envelope", eb, el);
    env_msg_free(&m);
    free(eb);
    free(bb);
    keys_free(kp);
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_seal_open_verify),
        cmocka_unit_test(test_body_bit_flips),
        cmocka_unit_test(test_signature_bit_flips),
        cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_with_hop),
        cmocka_unit_test(test_id_hex),
        cmocka_unit_test(test_kat),
    };
    struct CMUnitTest tests[NOPEN + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    if (keys_init() != RL_OK)
        return 1;
    if (argc == 2 && strcmp(argv[1], "--kat") == 0)
        return kat_print();
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NOPEN; i++)
        tests[n++] = (struct CMUnitTest){open_cases[i].name, run_open_bad, NULL,
                                         NULL, (void *)&open_cases[i]};
    return _cmocka_run_group_tests("envelope", tests, n, NULL, NULL);
}
