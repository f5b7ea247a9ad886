/*
 * test_link_seal.c - sealed link frames: the round trip, and every way a
 * frame must fail to open (link_seal.h).
 *
 * A parent "city" serves two children "ag-1" and "ag-2"; "nat" is known to
 * the directory but is not the city's child, and "city2" is another parent.
 * The lookup below plays the parent's directory. Fixed tests cover the
 * round trip, every bit flip and every prefix of a request and of a reply;
 * the two tables hold hostile request frames (each with the return code and
 * reason it must be refused with) and hostile replies. An independent
 * implementation of the same scheme (python3-nacl) talks to a real node in
 * tests/integration/test_refusal.py.
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

#include "keys.h"
#include "link_seal.h"
#include "relay.pb-c.h"

static struct keypair *city, *city2, *ag1, *ag2, *nat;

static const uint8_t plain[] = "LinkRequest bytes: MARKER-5e1f facts of an incident";
#define PLAIN_LEN (sizeof(plain) - 1)
static const uint8_t answer[] = "LinkReply bytes: stored 0011223344 MARKER-77ab";
#define ANSWER_LEN (sizeof(answer) - 1)

/* lookup - the city's directory: its children, one known non-child */
static int
lookup(void *arg, const char *from, uint8_t pk[KEYS_PK_LEN], char *why,
       size_t whylen)
{
    (void)arg;
    if (strcmp(from, "ag-1") == 0 || strcmp(from, "ag-2") == 0) {
        memcpy(pk, strcmp(from, "ag-1") == 0 ? ag1->pk : ag2->pk, KEYS_PK_LEN);
        return RL_OK;
    }
    if (strcmp(from, "nat") == 0) {
        snprintf(why, whylen, "'nat' is not a child of 'city'");
        return RL_EPERM;
    }
    snprintf(why, whylen, "unknown node '%s'", from);
    return RL_EUNKNOWN;
}

/* frame - a malloc'd frame and its length */
struct frame {
    uint8_t *b;
    size_t len;
};

/* seal_req - a request sealed by kp for parent, claiming from */
static struct frame
seal_req(const struct keypair *kp, const struct keypair *parent,
         const char *from, struct link_seal_ctx *ctx)
{
    struct frame f;
    char why[256] = "";
    int rc = link_seal_request(kp, parent->pk, from, plain, PLAIN_LEN, ctx, &f.b,
                               &f.len, why, sizeof(why));

    if (rc != RL_OK)
        fail_msg("link_seal_request: %s (%s)", rl_strerror(rc), why);
    assert_true(ctx->ready);
    return f;
}

/* open_req - link_open_request at the city; rc, and the reason in why */
static int
open_req(const struct frame *f, struct link_seal_ctx *ctx, char *why,
         size_t whylen)
{
    uint8_t *pt = (uint8_t *)"unset";
    size_t ptlen = 99;
    int rc;

    why[0] = '\0';
    rc = link_open_request(city, lookup, NULL, f->b, f->len, ctx, &pt, &ptlen,
                           why, whylen);
    if (rc == RL_OK) {
        assert_int_equal(ptlen, PLAIN_LEN);
        assert_memory_equal(pt, plain, PLAIN_LEN);
        free(pt);
    } else {
        assert_null(pt);
        assert_int_equal(ptlen, 0);
        assert_false(ctx->ready);
        if (why[0] == '\0')
            fail_msg("refused without a reason (%s)", rl_strerror(rc));
    }
    return rc;
}

/* open_rep - link_open_reply under ctx; rc, and the reason in why */
static int
open_rep(const struct link_seal_ctx *ctx, const struct frame *f, char *why,
         size_t whylen)
{
    uint8_t *pt = (uint8_t *)"unset";
    size_t ptlen = 99;
    int rc;

    why[0] = '\0';
    rc = link_open_reply(ctx, f->b, f->len, &pt, &ptlen, why, whylen);
    if (rc == RL_OK) {
        assert_int_equal(ptlen, ANSWER_LEN);
        assert_memory_equal(pt, answer, ANSWER_LEN);
        free(pt);
    } else {
        assert_null(pt);
        assert_int_equal(ptlen, 0);
        if (why[0] == '\0')
            fail_msg("refused without a reason (%s)", rl_strerror(rc));
    }
    return rc;
}

/* seal_rep - the city's reply under ctx */
static struct frame
seal_rep(const struct link_seal_ctx *ctx)
{
    struct frame f;

    assert_int_equal(link_seal_reply(ctx, answer, ANSWER_LEN, &f.b, &f.len), RL_OK);
    return f;
}

/* contains - does hay hold needle */
static int
contains(const uint8_t *hay, size_t len, const void *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= len; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return 1;
    return 0;
}

/* test_round_trip - ag-1 to the city and back, with what each side holds */
static void
test_round_trip(void **state)
{
    struct link_seal_ctx cc, pc, cc2;
    struct frame rq, rq2, rp;
    char why[256];

    (void)state;
    rq = seal_req(ag1, city, "ag-1", &cc);
    assert_string_equal(cc.from, "ag-1");
    assert_false(contains(rq.b, rq.len, "MARKER", 6));
    assert_true(contains(rq.b, rq.len, "ag-1", 4)); /* from is in clear */
    assert_int_equal(open_req(&rq, &pc, why, sizeof(why)), RL_OK);
    assert_true(pc.ready);
    assert_string_equal(pc.from, "ag-1");
    assert_memory_equal(pc.k, cc.k, LINK_SEAL_KEY_LEN);

    rp = seal_rep(&pc);
    assert_false(contains(rp.b, rp.len, "MARKER", 6));
    assert_false(contains(rp.b, rp.len, "ag-1", 4));
    assert_int_equal(open_rep(&cc, &rp, why, sizeof(why)), RL_OK);
    free(rp.b);
    /* each reply gets its own nonce: a second one differs and opens too */
    rp = seal_rep(&pc);
    {
        struct frame rp2 = seal_rep(&pc);
        assert_true(rp.len == rp2.len && memcmp(rp.b, rp2.b, rp.len) != 0);
        assert_int_equal(open_rep(&cc, &rp2, why, sizeof(why)), RL_OK);
        free(rp2.b);
    }

    /* each request has its own ephemeral key, nonce and session key */
    rq2 = seal_req(ag1, city, "ag-1", &cc2);
    assert_true(rq.len == rq2.len && memcmp(rq.b, rq2.b, rq.len) != 0);
    assert_memory_not_equal(cc.k, cc2.k, LINK_SEAL_KEY_LEN);

    /* an empty plaintext seals and opens to nothing */
    {
        uint8_t *pt;
        size_t ptlen;
        struct frame fe;
        assert_int_equal(link_seal_reply(&pc, (const uint8_t *)"", 0, &fe.b, &fe.len),
                         RL_OK);
        assert_int_equal(link_open_reply(&cc, fe.b, fe.len, &pt, &ptlen, why,
                                         sizeof(why)),
                         RL_OK);
        assert_int_equal(ptlen, 0);
        free(pt);
        free(fe.b);
    }

    /* with the cache of static secrets wiped, both ends derive it again */
    link_seal_forget();
    {
        struct link_seal_ctx c3, p3;
        struct frame r3 = seal_req(ag1, city, "ag-1", &c3), a3;
        assert_int_equal(open_req(&r3, &p3, why, sizeof(why)), RL_OK);
        assert_memory_equal(p3.k, c3.k, LINK_SEAL_KEY_LEN);
        link_seal_forget(); /* between request and reply: k is per exchange */
        a3 = seal_rep(&p3);
        assert_int_equal(open_rep(&c3, &a3, why, sizeof(why)), RL_OK);
        link_seal_wipe(&c3);
        link_seal_wipe(&p3);
        free(r3.b);
        free(a3.b);
    }

    /* wiping forgets the key; a wiped context opens nothing */
    link_seal_wipe(&cc);
    for (size_t i = 0; i < LINK_SEAL_KEY_LEN; i++)
        assert_int_equal(cc.k[i], 0);
    assert_false(cc.ready);
    assert_int_equal(open_rep(&cc, &rp, why, sizeof(why)), RL_EINVAL);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc2);
    free(rq.b);
    free(rq2.b);
    free(rp.b);
}

/* test_request_bit_flips - no single flipped bit of a request opens */
static void
test_request_bit_flips(void **state)
{
    struct link_seal_ctx cc, pc;
    struct frame rq;
    char why[256];
    size_t reached = 0;

    (void)state;
    rq = seal_req(ag1, city, "ag-1", &cc);
    for (size_t i = 0; i < rq.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            int rc;
            rq.b[i] ^= (uint8_t)(1u << bit);
            if ((rc = open_req(&rq, &pc, why, sizeof(why))) == RL_OK)
                fail_msg("request byte %zu bit %d flipped still opens", i, bit);
            reached += rc == RL_ESIG && strstr(why, "does not open") != NULL;
            rq.b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(reached > 8 * PLAIN_LEN); /* every box bit reached the AEAD */
    assert_int_equal(open_req(&rq, &pc, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    free(rq.b);
}

/* test_reply_bit_flips - no single flipped bit of a reply opens */
static void
test_reply_bit_flips(void **state)
{
    struct link_seal_ctx cc, pc;
    struct frame rq, rp;
    char why[256];
    size_t reached = 0;

    (void)state;
    rq = seal_req(ag1, city, "ag-1", &cc);
    assert_int_equal(open_req(&rq, &pc, why, sizeof(why)), RL_OK);
    rp = seal_rep(&pc);
    for (size_t i = 0; i < rp.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            int rc;
            rp.b[i] ^= (uint8_t)(1u << bit);
            if ((rc = open_rep(&cc, &rp, why, sizeof(why))) == RL_OK)
                fail_msg("reply byte %zu bit %d flipped still opens", i, bit);
            reached += rc == RL_ESIG;
            rp.b[i] ^= (uint8_t)(1u << bit);
        }
    }
    assert_true(reached > 8 * ANSWER_LEN);
    assert_int_equal(open_rep(&cc, &rp, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    free(rq.b);
    free(rp.b);
}

/* test_truncated - no proper prefix of a request or a reply opens */
static void
test_truncated(void **state)
{
    struct link_seal_ctx cc, pc;
    struct frame rq, rp, p;
    char why[256];

    (void)state;
    rq = seal_req(ag1, city, "ag-1", &cc);
    assert_int_equal(open_req(&rq, &pc, why, sizeof(why)), RL_OK);
    rp = seal_rep(&pc);
    for (size_t len = 0; len < rq.len; len++) {
        p.len = len;
        p.b = malloc(len ? len : 1); /* exact size: over-reads are caught */
        assert_non_null(p.b);
        memcpy(p.b, rq.b, len);
        if (open_req(&p, &pc, why, sizeof(why)) == RL_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte request opens", len, rq.len);
        free(p.b);
    }
    for (size_t len = 0; len < rp.len; len++) {
        p.len = len;
        p.b = malloc(len ? len : 1);
        assert_non_null(p.b);
        memcpy(p.b, rp.b, len);
        if (open_rep(&cc, &p, why, sizeof(why)) == RL_OK)
            fail_msg("a %zu-byte prefix of a %zu-byte reply opens", len, rp.len);
        free(p.b);
    }
    link_seal_wipe(&cc);
    free(rq.b);
    free(rp.b);
}

/* repack - f decoded, edited by the caller's switch, encoded again */
static struct frame
repack(const Relay__SealedFrame *sf)
{
    struct frame f;

    f.len = relay__sealed_frame__get_packed_size(sf);
    f.b = malloc(f.len ? f.len : 1);
    assert_non_null(f.b);
    relay__sealed_frame__pack(sf, f.b);
    return f;
}

/* Hostile request frames, each refused by the city with rc and a reason. */
struct req_case {
    const char *name;
    int rc;
    const char *why; /* a substring of the reason */
};

static const struct req_case req_cases[] = {
    {"request sealed for another parent", RL_ESIG,
     "does not open with the keys of 'ag-1'"},
    {"request claiming another child's from", RL_ESIG,
     "does not open with the keys of 'ag-2'"},
    {"request from an unknown node", RL_EUNKNOWN, "unknown node 'mallory'"},
    {"request from a node that is not a child", RL_EPERM,
     "'nat' is not a child of 'city'"},
    {"all-zero ephemeral key", RL_ESIG, "ephemeral key is all zero"},
    {"small-order ephemeral key", RL_ESIG, "ephemeral key is of small order"},
    {"ephemeral key of another request", RL_ESIG, "does not open"},
    {"ephemeral key of 31 bytes", RL_EINVAL, "ephemeral key is 31 bytes"},
    {"no ephemeral key", RL_EINVAL, "ephemeral key is 0 bytes"},
    {"nonce of 23 bytes", RL_EINVAL, "nonce is 23 bytes"},
    {"box shorter than its tag", RL_EINVAL, "shorter than its tag"},
    {"no sender", RL_EINVAL, "sender id is empty"},
    {"sender of 64 bytes", RL_EINVAL, "longer than 63 bytes"},
    {"sender with a newline", RL_EINVAL, "control characters"},
    {"request carrying a refusal", RL_EINVAL, "a request carries a refusal"},
    {"plain LinkRequest", RL_EINVAL, "not a decodable SealedFrame"},
    {"plain LinkRequest without version", RL_EINVAL, "sender id is empty"},
    {"reply reflected as a request", RL_EINVAL, "sender id is empty"},
    {"cleartext refusal as a request", RL_EINVAL, "sender id is empty"},
    {"not protobuf", RL_EINVAL, "not a decodable SealedFrame"},
};
#define NREQ (sizeof(req_cases) / sizeof(req_cases[0]))

/* run_req_case - build the hostile request of the case and open it */
static void
run_req_case(void **state)
{
    const struct req_case *c = *state;
    struct link_seal_ctx cc, cc2, pc;
    struct frame good, bad;
    Relay__SealedFrame *sf;
    uint8_t small[32] = {1}; /* u = 1: a point of order 4 */
    uint8_t zero[32] = {0};
    char why[256];
    const char *n = c->name;

    good = seal_req(ag1, city, "ag-1", &cc);
    sf = relay__sealed_frame__unpack(NULL, good.len, good.b);
    assert_non_null(sf);
    if (strcmp(n, "request sealed for another parent") == 0) {
        bad = seal_req(ag1, city2, "ag-1", &cc2);
    } else if (strcmp(n, "request claiming another child's from") == 0) {
        bad = seal_req(ag1, city, "ag-2", &cc2);
    } else if (strcmp(n, "request from an unknown node") == 0) {
        bad = seal_req(ag1, city, "mallory", &cc2);
    } else if (strcmp(n, "request from a node that is not a child") == 0) {
        bad = seal_req(nat, city, "nat", &cc2);
    } else if (strcmp(n, "ephemeral key of another request") == 0) {
        struct frame other = seal_req(ag1, city, "ag-1", &cc2);
        Relay__SealedFrame *o = relay__sealed_frame__unpack(NULL, other.len, other.b);
        assert_non_null(o);
        ProtobufCBinaryData keep = sf->eph;
        sf->eph = o->eph;
        bad = repack(sf);
        sf->eph = keep;
        relay__sealed_frame__free_unpacked(o, NULL);
        free(other.b);
    } else if (strcmp(n, "reply reflected as a request") == 0) {
        assert_int_equal(open_req(&good, &pc, why, sizeof(why)), RL_OK);
        bad = seal_rep(&pc);
        link_seal_wipe(&pc);
    } else if (strcmp(n, "cleartext refusal as a request") == 0) {
        assert_int_equal(link_seal_error("no", &bad.b, &bad.len), RL_OK);
    } else if (strcmp(n, "plain LinkRequest") == 0 ||
               strcmp(n, "plain LinkRequest without version") == 0) {
        Relay__LinkRequest lr = RELAY__LINK_REQUEST__INIT;
        ProtobufCBinaryData push = {PLAIN_LEN, (uint8_t *)plain};
        lr.version = strcmp(n, "plain LinkRequest") == 0 ? 1 : 0;
        lr.from = "ag-1";
        lr.push = &push;
        lr.n_push = 1;
        bad.len = relay__link_request__get_packed_size(&lr);
        bad.b = malloc(bad.len);
        assert_non_null(bad.b);
        relay__link_request__pack(&lr, bad.b);
    } else if (strcmp(n, "not protobuf") == 0) {
        bad.len = 4;
        bad.b = malloc(4);
        assert_non_null(bad.b);
        memcpy(bad.b, "\xff\xff\xff\xff", 4);
    } else {
        /* edits of the good frame's fields */
        uint8_t *keep_eph = sf->eph.data, *keep_nonce = sf->nonce.data;
        char *keep_from = sf->from, *keep_err = sf->error;
        size_t keep_box = sf->box.len, keep_ephlen = sf->eph.len,
               keep_noncelen = sf->nonce.len;
        char long_from[65];
        if (strcmp(n, "all-zero ephemeral key") == 0)
            sf->eph.data = zero;
        else if (strcmp(n, "small-order ephemeral key") == 0)
            sf->eph.data = small;
        else if (strcmp(n, "ephemeral key of 31 bytes") == 0)
            sf->eph.len = 31;
        else if (strcmp(n, "no ephemeral key") == 0)
            sf->eph.len = 0;
        else if (strcmp(n, "nonce of 23 bytes") == 0)
            sf->nonce.len = 23;
        else if (strcmp(n, "box shorter than its tag") == 0)
            sf->box.len = 15;
        else if (strcmp(n, "no sender") == 0)
            sf->from = "";
        else if (strcmp(n, "sender of 64 bytes") == 0) {
            memset(long_from, 'a', 64);
            long_from[64] = '\0';
            sf->from = long_from;
        } else if (strcmp(n, "sender with a newline") == 0)
            sf->from = "ag-1\n2026 city info forged";
        else if (strcmp(n, "request carrying a refusal") == 0)
            sf->error = "x";
        else
            fail_msg("no recipe for case '%s'", n);
        bad = repack(sf);
        sf->eph.data = keep_eph;
        sf->eph.len = keep_ephlen;
        sf->nonce.data = keep_nonce;
        sf->nonce.len = keep_noncelen;
        sf->box.len = keep_box;
        sf->from = keep_from;
        sf->error = keep_err;
    }
    relay__sealed_frame__free_unpacked(sf, NULL);

    assert_int_equal(open_req(&bad, &pc, why, sizeof(why)), c->rc);
    if (strstr(why, c->why) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", why, c->why);
    for (const char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20)
            fail_msg("reason holds a control character: \"%s\"", why);
    /* the good frame still opens: the case broke only its copy */
    assert_int_equal(open_req(&good, &pc, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    link_seal_wipe(&cc2);
    free(good.b);
    free(bad.b);
}

/* Hostile replies, each refused by ag-1 with rc and a reason. */
static const struct req_case rep_cases[] = {
    {"reply opened with another request's context", RL_ESIG,
     "does not open with the key of this request"},
    {"reply to another child", RL_ESIG, "does not open"},
    {"request reflected as a reply", RL_EINVAL,
     "reply carries request or refusal fields"},
    {"request box reflected as a reply", RL_ESIG, "does not open"},
    {"cleartext refusal", RL_EPERM,
     "frame does not?authenticate (unauthenticated answer)"},
    {"refusal with a box", RL_EINVAL, "reply carries request or refusal fields"},
    {"reply with a nonce of 0 bytes", RL_EINVAL, "nonce is 0 bytes"},
    {"reply without a box", RL_EINVAL, "shorter than its tag"},
    {"reply not protobuf", RL_EINVAL, "reply is not a decodable SealedFrame"},
};
#define NREP (sizeof(rep_cases) / sizeof(rep_cases[0]))

/* run_rep_case - ag-1's request is answered with the case's hostile reply */
static void
run_rep_case(void **state)
{
    const struct req_case *c = *state;
    struct link_seal_ctx cc, pc, cc2, pc2;
    struct frame rq, rq2, good, bad;
    Relay__SealedFrame *sf;
    char why[256];
    const char *n = c->name;

    rq = seal_req(ag1, city, "ag-1", &cc);
    assert_int_equal(open_req(&rq, &pc, why, sizeof(why)), RL_OK);
    good = seal_rep(&pc);
    sf = relay__sealed_frame__unpack(NULL, good.len, good.b);
    assert_non_null(sf);
    rq2 = seal_req(strcmp(n, "reply to another child") == 0 ? ag2 : ag1, city,
                   strcmp(n, "reply to another child") == 0 ? "ag-2" : "ag-1", &cc2);
    assert_int_equal(open_req(&rq2, &pc2, why, sizeof(why)), RL_OK);
    if (strcmp(n, "reply opened with another request's context") == 0 ||
        strcmp(n, "reply to another child") == 0) {
        bad = seal_rep(&pc2);
    } else if (strcmp(n, "request reflected as a reply") == 0) {
        bad.len = rq.len;
        bad.b = malloc(rq.len);
        assert_non_null(bad.b);
        memcpy(bad.b, rq.b, rq.len);
    } else if (strcmp(n, "request box reflected as a reply") == 0) {
        Relay__SealedFrame *r = relay__sealed_frame__unpack(NULL, rq.len, rq.b);
        assert_non_null(r);
        ProtobufCBinaryData kn = sf->nonce, kb = sf->box;
        sf->nonce = r->nonce;
        sf->box = r->box;
        bad = repack(sf);
        sf->nonce = kn;
        sf->box = kb;
        relay__sealed_frame__free_unpacked(r, NULL);
    } else if (strcmp(n, "cleartext refusal") == 0) {
        assert_int_equal(link_seal_error("frame does not\nauthenticate", &bad.b,
                                         &bad.len),
                         RL_OK);
    } else if (strcmp(n, "refusal with a box") == 0) {
        char *keep = sf->error;
        sf->error = "stop";
        bad = repack(sf);
        sf->error = keep;
    } else if (strcmp(n, "reply with a nonce of 0 bytes") == 0) {
        sf->nonce.len = 0;
        bad = repack(sf);
        sf->nonce.len = LINK_SEAL_NONCE_LEN;
    } else if (strcmp(n, "reply without a box") == 0) {
        size_t keep = sf->box.len;
        sf->box.len = 0;
        bad = repack(sf);
        sf->box.len = keep;
    } else if (strcmp(n, "reply not protobuf") == 0) {
        bad.len = 2;
        bad.b = malloc(2);
        assert_non_null(bad.b);
        memcpy(bad.b, "\x0a\xff", 2);
    } else {
        fail_msg("no recipe for case '%s'", n);
    }
    relay__sealed_frame__free_unpacked(sf, NULL);

    assert_int_equal(open_rep(&cc, &bad, why, sizeof(why)), c->rc);
    if (strstr(why, c->why) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", why, c->why);
    assert_int_equal(open_rep(&cc, &good, why, sizeof(why)), RL_OK);
    link_seal_wipe(&cc);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc2);
    link_seal_wipe(&pc2);
    free(rq.b);
    free(rq2.b);
    free(good.b);
    free(bad.b);
}

/* test_bad_keys - keys that do not convert are named, nothing is sealed */
static void
test_bad_keys(void **state)
{
    uint8_t zero_pk[KEYS_PK_LEN] = {0}, *frame = (uint8_t *)"unset";
    struct link_seal_ctx cc;
    size_t len = 99;
    char why[256] = "";

    (void)state;
    /* 0x00..00 does not decode as an Edwards point of the main group */
    assert_int_equal(link_seal_request(ag1, zero_pk, "ag-1", plain, PLAIN_LEN,
                                       &cc, &frame, &len, why, sizeof(why)),
                     RL_ECONFIG);
    assert_non_null(strstr(why, "parent's key"));
    assert_null(frame);
    assert_int_equal(len, 0);
    assert_false(cc.ready);
    assert_int_equal(link_seal_request(ag1, city->pk, "", plain, PLAIN_LEN, &cc,
                                       &frame, &len, why, sizeof(why)),
                     RL_EINVAL);
    assert_false(cc.ready);
    assert_int_equal(link_seal_reply(&cc, answer, ANSWER_LEN, &frame, &len),
                     RL_EINVAL);
}

/* group_setup - the federation's key pairs */
static int
group_setup(void **state)
{
    (void)state;
    return keys_generate(&city) || keys_generate(&city2) ||
                   keys_generate(&ag1) || keys_generate(&ag2) ||
                   keys_generate(&nat)
               ? -1
               : 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    link_seal_forget();
    keys_free(city);
    keys_free(city2);
    keys_free(ag1);
    keys_free(ag2);
    keys_free(nat);
    return 0;
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_request_bit_flips),
        cmocka_unit_test(test_reply_bit_flips),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_keys),
    };
    struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NREQ + NREP];
    size_t n = 0;

    if (keys_init() != RL_OK)
        return 1;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NREQ; i++)
        tests[n++] = (struct CMUnitTest){req_cases[i].name, run_req_case, NULL,
                                         NULL, (void *)&req_cases[i]};
    for (size_t i = 0; i < NREP; i++)
        tests[n++] = (struct CMUnitTest){rep_cases[i].name, run_rep_case, NULL,
                                         NULL, (void *)&rep_cases[i]};
    return _cmocka_run_group_tests("link_seal", tests, n, group_setup,
                                   group_teardown);
}
