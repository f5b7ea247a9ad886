/*
 * test_link_seal.c - link sessions (relay-link-v2, link_seal.h): the
 * handshake and the round trip, and every way a frame must fail to open.
 *
 * A parent "city" serves two children "ag-1" and "ag-2"; "nat" is known to
 * the directory but is not the city's child, and "city2" is another parent.
 * The lookup below plays the city's directory. Fixed tests cover the round
 * trip, replays (handshake and data), the replay window, unknown, evicted,
 * idle and wiped sessions, every bit flip and prefix of each kind of frame,
 * and a table of hostile handshakes. A micro benchmark prints the parent's
 * CPU per data frame against the per-request X25519 of relay-link-v1 (no
 * timed assertion). An independent implementation of the same scheme
 * (python3-nacl, tests/integration/relaytest.py) talks to a real node in
 * test_refusal.py and test_forward_secrecy.py (issue 9 item 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys.h"
#include "link_guard.h"
#include "link_seal.h"
#include "relay.pb-c.h"

static struct keypair *city, *city2, *ag1, *ag2, *nat;
static int lookup_revoked; /* the city's directory no longer serves ag-1 */

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
    if (strcmp(from, "ag-1") == 0 && lookup_revoked) {
        snprintf(why, whylen, "no key of 'ag-1' is valid now");
        return RL_EPERM;
    }
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

/* parent_open - link_open_request at `parent` (the city unless given):
 * rc, the reason in why; a data frame must hold plain */
static int
parent_open(const struct keypair *parent, const struct frame *f,
            struct link_seal_ctx *ctx, char *why, size_t whylen)
{
    uint8_t *pt = (uint8_t *)"unset";
    size_t ptlen = 99;
    int rc;

    why[0] = '\0';
    rc = link_open_request(parent ? parent : city, lookup, NULL, f->b, f->len, ctx,
                           &pt, &ptlen, why, whylen);
    if (rc == RL_OK && ctx->handshake) {
        assert_null(pt);
        assert_non_null(ctx->hs_reply);
    } else if (rc == RL_OK) {
        assert_int_equal(ptlen, PLAIN_LEN);
        assert_memory_equal(pt, plain, PLAIN_LEN);
        free(pt);
    } else {
        assert_null(pt);
        assert_int_equal(ptlen, 0);
        assert_false(ctx->ready);
        assert_null(ctx->hs_reply);
        if (why[0] == '\0')
            fail_msg("refused without a reason (%s)", rl_strerror(rc));
    }
    return rc;
}

/* seal - link_client_seal of plain, which must succeed */
static struct frame
seal(struct link_client *c, struct link_seal_ctx *ctx)
{
    struct frame f;
    char why[256] = "";
    int rc = link_client_seal(c, plain, PLAIN_LEN, ctx, &f.b, &f.len, why,
                              sizeof(why));

    if (rc != RL_OK)
        fail_msg("link_client_seal: %s (%s)", rl_strerror(rc), why);
    assert_true(ctx->ready);
    return f;
}

/* client_open - link_client_open; a data reply must hold answer */
static int
client_open(struct link_client *c, struct link_seal_ctx *ctx,
            const struct frame *f, char *why, size_t whylen)
{
    uint8_t *pt = (uint8_t *)"unset";
    size_t ptlen = 99;
    int rc;

    why[0] = '\0';
    rc = link_client_open(c, ctx, f->b, f->len, &pt, &ptlen, why, whylen);
    if (rc == RL_OK && ctx->handshake) {
        assert_null(pt);
    } else if (rc == RL_OK) {
        assert_int_equal(ptlen, ANSWER_LEN);
        assert_memory_equal(pt, answer, ANSWER_LEN);
        free(pt);
    } else {
        assert_null(pt);
        if (why[0] == '\0')
            fail_msg("refused without a reason (%s)", rl_strerror(rc));
    }
    return rc;
}

/* connect_client - a client of kp as from, with a session at parent made
 * through a full handshake; the handshake frame in *hs if asked */
static struct link_client *
connect_client(const struct keypair *kp, const struct keypair *parent,
               const char *from, struct frame *hs)
{
    struct link_client *c = link_client_new(kp, parent->pk, from);
    struct link_seal_ctx cc, pc;
    struct frame f, a;
    char why[256];

    assert_non_null(c);
    f = seal(c, &cc);
    assert_true(cc.handshake);
    assert_int_equal(parent_open(parent, &f, &pc, why, sizeof(why)), RL_OK);
    assert_true(pc.handshake);
    a.b = pc.hs_reply;
    a.len = pc.hs_reply_len;
    assert_int_equal(client_open(c, &cc, &a, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    if (hs)
        *hs = f;
    else
        free(f.b);
    return c;
}

/* exchange - one data frame from c and the parent's reply; RL_OK or the
 * parent's refusal */
static int
exchange(struct link_client *c, const struct keypair *parent, char *why,
         size_t whylen)
{
    struct link_seal_ctx cc, pc;
    struct frame f, r;
    int rc;

    f = seal(c, &cc);
    assert_false(cc.handshake);
    rc = parent_open(parent, &f, &pc, why, whylen);
    if (rc == RL_OK) {
        assert_int_equal(link_seal_reply(&pc, answer, ANSWER_LEN, &r.b, &r.len), RL_OK);
        assert_int_equal(client_open(c, &cc, &r, why, whylen), RL_OK);
        free(r.b);
    }
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    free(f.b);
    return rc;
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

/* test_round_trip - a handshake, then frames both ways under the session */
static void
test_round_trip(void **state)
{
    struct link_client *c = link_client_new(ag1, city->pk, "ag-1"), *c2;
    struct link_seal_ctx cc, pc, cc2, pc2;
    struct frame hs, ans, rq, rq2, rp;
    char why[256];

    (void)state;
    link_seal_forget();
    assert_non_null(c);
    /* no session yet: the first seal is a handshake, not the request */
    hs = seal(c, &cc);
    assert_true(cc.handshake);
    assert_false(contains(hs.b, hs.len, "MARKER", 6));
    assert_true(contains(hs.b, hs.len, "ag-1", 4)); /* from is in clear */
    assert_int_equal(parent_open(NULL, &hs, &pc, why, sizeof(why)), RL_OK);
    assert_string_equal(pc.from, "ag-1");
    assert_int_equal(link_seal_sessions("ag-1"), 1);
    /* a handshake ctx has no LinkReply to seal */
    assert_int_equal(link_seal_reply(&pc, answer, ANSWER_LEN, &rp.b, &rp.len), RL_EINVAL);
    ans.b = pc.hs_reply;
    ans.len = pc.hs_reply_len;
    assert_int_equal(client_open(c, &cc, &ans, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    for (size_t i = 0; i < sizeof(pc); i++)
        assert_int_equal(((uint8_t *)&pc)[i], 0);
    link_seal_wipe(&cc);

    /* then data frames: counters 1 and 2, sealed concurrently, answered in
     * the other order */
    rq = seal(c, &cc);
    rq2 = seal(c, &cc2);
    assert_false(cc.handshake || cc2.handshake);
    assert_int_equal(cc.counter, 1);
    assert_int_equal(cc2.counter, 2);
    assert_false(contains(rq.b, rq.len, "MARKER", 6));
    assert_true(contains(rq.b, rq.len, "ag-1", 4));
    assert_int_equal(parent_open(NULL, &rq2, &pc2, why, sizeof(why)), RL_OK);
    assert_int_equal(parent_open(NULL, &rq, &pc, why, sizeof(why)), RL_OK);
    assert_false(pc.handshake);
    assert_string_equal(pc.from, "ag-1");
    rp = (struct frame){0};
    assert_int_equal(link_seal_reply(&pc2, answer, ANSWER_LEN, &rp.b, &rp.len), RL_OK);
    assert_false(contains(rp.b, rp.len, "MARKER", 6));
    assert_false(contains(rp.b, rp.len, "ag-1", 4));
    /* a reply opens only for the request it answers */
    assert_int_equal(client_open(c, &cc, &rp, why, sizeof(why)), RL_ESIG);
    assert_int_equal(client_open(c, &cc2, &rp, why, sizeof(why)), RL_OK);
    free(rp.b);
    assert_int_equal(link_seal_reply(&pc, answer, ANSWER_LEN, &rp.b, &rp.len), RL_OK);
    assert_int_equal(client_open(c, &cc, &rp, why, sizeof(why)), RL_OK);
    free(rp.b);
    /* an empty reply seals and opens to nothing */
    {
        uint8_t *pt;
        size_t ptlen;
        assert_int_equal(link_seal_reply(&pc, (const uint8_t *)"", 0, &rp.b, &rp.len),
                         RL_OK);
        assert_int_equal(link_client_open(c, &cc, rp.b, rp.len, &pt, &ptlen, why,
                                          sizeof(why)),
                         RL_OK);
        assert_int_equal(ptlen, 0);
        free(pt);
        free(rp.b);
    }
    link_seal_wipe(&pc);
    link_seal_wipe(&pc2);
    link_seal_wipe(&cc);
    link_seal_wipe(&cc2);

    /* another child's session is its own */
    c2 = connect_client(ag2, city, "ag-2", NULL);
    assert_int_equal(exchange(c2, city, why, sizeof(why)), RL_OK);
    assert_int_equal(link_seal_sessions(NULL), 2);
    /* a wiped ctx opens nothing */
    assert_int_equal(client_open(c, &cc, &rq, why, sizeof(why)), RL_EINVAL);
    link_client_free(c);
    link_client_free(c2);
    free(hs.b);
    free(rq.b);
    free(rq2.b);
}

/* test_handshake_replay - a replayed handshake is refused after the
 * checks and evicts nothing: the live session keeps working */
static void
test_handshake_replay(void **state)
{
    struct link_client *c;
    struct link_seal_ctx pc;
    struct frame hs;
    char why[256];

    (void)state;
    link_seal_forget();
    c = connect_client(ag1, city, "ag-1", &hs);
    assert_int_equal(link_seal_sessions("ag-1"), 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(parent_open(NULL, &hs, &pc, why, sizeof(why)), RL_ESIG);
        assert_non_null(strstr(why, "handshake replayed"));
    }
    assert_int_equal(link_seal_sessions("ag-1"), 1);
    assert_int_equal(exchange(c, city, why, sizeof(why)), RL_OK);
    /* a newer handshake of the same child is accepted (a second session),
     * and the first replay is still refused */
    link_client_free(connect_client(ag1, city, "ag-1", NULL));
    assert_int_equal(link_seal_sessions("ag-1"), 2);
    assert_int_equal(parent_open(NULL, &hs, &pc, why, sizeof(why)), RL_ESIG);
    assert_int_equal(link_seal_sessions("ag-1"), 2);
    assert_int_equal(exchange(c, city, why, sizeof(why)), RL_OK);
    link_client_free(c);
    free(hs.b);
}

/* test_data_replay_and_window - each counter opens once; out of order
 * within the window is fine, older than the window is not */
static void
test_data_replay_and_window(void **state)
{
    enum { N = LINK_SEAL_WINDOW + 10 };
    struct link_client *c;
    struct link_seal_ctx cc[N], pc;
    struct frame f[N];
    char why[256];

    (void)state;
    link_seal_forget();
    c = connect_client(ag1, city, "ag-1", NULL);
    for (int i = 0; i < N; i++)
        f[i] = seal(c, &cc[i]);
    /* frame 5 opens once; its replay is refused */
    assert_int_equal(parent_open(NULL, &f[5], &pc, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    assert_int_equal(parent_open(NULL, &f[5], &pc, why, sizeof(why)), RL_ESIG);
    assert_non_null(strstr(why, "replayed frame"));
    /* the newest first, then older ones inside the window, in any order */
    assert_int_equal(parent_open(NULL, &f[N - 1], &pc, why, sizeof(why)), RL_OK);
    link_seal_wipe(&pc);
    for (int i = N - 2; i >= N - LINK_SEAL_WINDOW; i--) {
        if (i == 5)
            continue;
        if (parent_open(NULL, &f[i], &pc, why, sizeof(why)) != RL_OK)
            fail_msg("frame %d inside the window refused: %s", i, why);
        link_seal_wipe(&pc);
    }
    /* replays of all of them, and frames older than the window, refused */
    for (int i = 0; i < N; i++) {
        if (parent_open(NULL, &f[i], &pc, why, sizeof(why)) != RL_ESIG)
            fail_msg("frame %d opened twice or out of the window", i);
        assert_non_null(strstr(why, "replayed frame"));
    }
    for (int i = 0; i < N; i++) {
        link_seal_wipe(&cc[i]);
        free(f[i].b);
    }
    link_client_free(c);
}

/* test_unknown_evicted_idle_wiped - frames of a session the parent does
 * not hold are refused (the caller answers the fixed text); the child then
 * drops its session and makes a new one */
static void
test_unknown_evicted_idle_wiped(void **state)
{
    struct link_client *a, *b, *c;
    struct link_seal_ctx cc, pc;
    struct frame f, r;
    char why[256];
    uint8_t *pt;
    size_t ptlen;

    (void)state;
    link_seal_forget();
    /* at most LINK_SEAL_PER_CHILD sessions: the newest replaces the oldest */
    a = connect_client(ag1, city, "ag-1", NULL);
    b = connect_client(ag1, city, "ag-1", NULL);
    c = connect_client(ag1, city, "ag-1", NULL);
    assert_int_equal(link_seal_sessions("ag-1"), LINK_SEAL_PER_CHILD);
    assert_int_equal(exchange(a, city, why, sizeof(why)), RL_ESIG);
    assert_non_null(strstr(why, "unknown or expired session"));
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_OK);
    assert_int_equal(exchange(c, city, why, sizeof(why)), RL_OK);

    /* what the child sees: the fixed cleartext refusal; it drops its
     * session and its next seal is a handshake */
    f = seal(a, &cc);
    assert_int_equal(parent_open(NULL, &f, &pc, why, sizeof(why)), RL_ESIG);
    assert_int_equal(link_seal_error(LINK_GUARD_REFUSAL, &r.b, &r.len), RL_OK);
    assert_int_equal(link_client_open(a, &cc, r.b, r.len, &pt, &ptlen, why,
                                      sizeof(why)),
                     RL_EPERM);
    assert_non_null(strstr(why, LINK_GUARD_REFUSAL));
    link_client_drop(a, &cc);
    link_seal_wipe(&cc);
    free(f.b);
    free(r.b);
    f = seal(a, &cc);
    assert_true(cc.handshake);
    link_seal_wipe(&cc);
    free(f.b);

    /* idle expiry wipes sessions */
    link_seal_idle_ms(1);
    nanosleep(&(struct timespec){0, 5000000}, NULL);
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_ESIG);
    assert_non_null(strstr(why, "unknown or expired session"));
    assert_int_equal(link_seal_sessions(NULL), 0);
    link_seal_idle_ms(LINK_SEAL_IDLE_MS);

    /* link_seal_forget wipes every session */
    link_client_free(b);
    b = connect_client(ag1, city, "ag-1", NULL);
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_OK);
    link_seal_forget();
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_ESIG);
    assert_non_null(strstr(why, "unknown or expired session"));

    /* a child the directory stops serving loses its sessions at once */
    link_client_free(b);
    b = connect_client(ag1, city, "ag-1", NULL);
    lookup_revoked = 1;
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_EPERM);
    assert_non_null(strstr(why, "no key of 'ag-1' is valid now"));
    lookup_revoked = 0;
    assert_int_equal(link_seal_sessions("ag-1"), 0);
    assert_int_equal(exchange(b, city, why, sizeof(why)), RL_ESIG);

    /* a made-up session id of a real child */
    {
        Relay__SealedFrame *sf;
        link_client_free(b);
        b = connect_client(ag1, city, "ag-1", NULL);
        f = seal(b, &cc);
        sf = relay__sealed_frame__unpack(NULL, f.len, f.b);
        assert_non_null(sf);
        sf->sid.data[5] ^= 1;
        free(f.b);
        f.len = relay__sealed_frame__get_packed_size(sf);
        f.b = malloc(f.len);
        relay__sealed_frame__pack(sf, f.b);
        relay__sealed_frame__free_unpacked(sf, NULL);
        assert_int_equal(parent_open(NULL, &f, &pc, why, sizeof(why)), RL_ESIG);
        assert_non_null(strstr(why, "unknown or expired session"));
        link_seal_wipe(&cc);
        free(f.b);
    }
    link_client_free(a);
    link_client_free(b);
    link_client_free(c);
}

/* test_drop_keeps_a_newer_session - a failed exchange of one context does
 * not cost the other context the session it made meanwhile */
static void
test_drop_keeps_a_newer_session(void **state)
{
    struct link_client *c;
    struct link_seal_ctx old, cc;
    struct frame f;
    char why[256];

    (void)state;
    link_seal_forget();
    c = connect_client(ag1, city, "ag-1", NULL);
    f = seal(c, &old); /* in flight under the first session */
    free(f.b);
    link_client_reset(c);
    link_client_free(connect_client(ag1, city, "ag-1", NULL)); /* any */
    /* c makes a new session; the old exchange fails and is dropped */
    f = seal(c, &cc);
    assert_true(cc.handshake);
    {
        struct link_seal_ctx pc;
        struct frame a;
        assert_int_equal(parent_open(NULL, &f, &pc, why, sizeof(why)), RL_OK);
        a.b = pc.hs_reply;
        a.len = pc.hs_reply_len;
        assert_int_equal(client_open(c, &cc, &a, why, sizeof(why)), RL_OK);
        link_seal_wipe(&pc);
    }
    free(f.b);
    link_seal_wipe(&cc);
    link_client_drop(c, &old);
    link_seal_wipe(&old);
    assert_int_equal(exchange(c, city, why, sizeof(why)), RL_OK);
    link_client_free(c);
}

/* flip_all - no single flipped bit of f opens at the parent (data or
 * handshake) or at the child (reply, with cc); *reached counts refusals
 * by the AEAD */
static void
flip_all(struct frame *f, struct link_client *c, struct link_seal_ctx *cc,
         size_t *reached)
{
    struct link_seal_ctx pc;
    char why[256];

    for (size_t i = 0; i < f->len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            int rc;
            f->b[i] ^= (uint8_t)(1u << bit);
            rc = c ? client_open(c, cc, f, why, sizeof(why))
                   : parent_open(NULL, f, &pc, why, sizeof(why));
            if (rc == RL_OK)
                fail_msg("byte %zu bit %d flipped still opens", i, bit);
            *reached += rc == RL_ESIG && (strstr(why, "does not open") != NULL);
            f->b[i] ^= (uint8_t)(1u << bit);
        }
    }
}

/* test_bit_flips - no flipped bit of a handshake, its answer, a data frame
 * or a reply opens */
static void
test_bit_flips(void **state)
{
    struct link_client *c = link_client_new(ag1, city->pk, "ag-1");
    struct link_seal_ctx cc, pc;
    struct frame hs, ans, rq, rp;
    char why[256];
    size_t reached = 0;

    (void)state;
    link_seal_forget();
    hs = seal(c, &cc);
    flip_all(&hs, NULL, NULL, &reached);
    assert_true(reached > 8 * 16); /* the tag and the time reached the AEAD */
    assert_int_equal(parent_open(NULL, &hs, &pc, why, sizeof(why)), RL_OK);
    ans.len = pc.hs_reply_len;
    ans.b = malloc(ans.len);
    memcpy(ans.b, pc.hs_reply, ans.len);
    link_seal_wipe(&pc);
    reached = 0;
    flip_all(&ans, c, &cc, &reached);
    assert_true(reached > 8 * 32);
    assert_int_equal(client_open(c, &cc, &ans, why, sizeof(why)), RL_OK);
    link_seal_wipe(&cc);

    rq = seal(c, &cc);
    reached = 0;
    flip_all(&rq, NULL, NULL, &reached);
    assert_true(reached > 8 * PLAIN_LEN);
    assert_int_equal(parent_open(NULL, &rq, &pc, why, sizeof(why)), RL_OK);
    assert_int_equal(link_seal_reply(&pc, answer, ANSWER_LEN, &rp.b, &rp.len), RL_OK);
    reached = 0;
    flip_all(&rp, c, &cc, &reached);
    assert_true(reached > 8 * ANSWER_LEN);
    assert_int_equal(client_open(c, &cc, &rp, why, sizeof(why)), RL_OK);
    /* and no proper prefix of any of them */
    for (int k = 0; k < 4; k++) {
        struct frame *w = k == 0 ? &hs : k == 1 ? &ans : k == 2 ? &rq : &rp;
        for (size_t len = 0; len < w->len; len++) {
            struct frame p = {malloc(len ? len : 1), len};
            int rc;
            memcpy(p.b, w->b, len);
            rc = k == 1 || k == 3 ? link_client_open(c, &cc, p.b, p.len,
                                                     &(uint8_t *){NULL},
                                                     &(size_t){0}, why, sizeof(why))
                                  : parent_open(NULL, &p, &pc, why, sizeof(why));
            if (rc == RL_OK && !(k == 1 && cc.handshake))
                fail_msg("frame %d: prefix of %zu bytes opens", k, len);
            free(p.b);
        }
    }
    link_seal_wipe(&pc);
    link_seal_wipe(&cc);
    link_client_free(c);
    free(hs.b);
    free(ans.b);
    free(rq.b);
    free(rp.b);
}

/* A hostile handshake: who seals it, claiming whom, for which parent. */
struct hs_case {
    const char *name;
    struct keypair **kp, **parent;
    const char *from;
    int rc;
    const char *why;
};

static const struct hs_case hs_cases[] = {
    {"sibling's key", &ag2, &city, "ag-1", RL_ESIG,
     "box does not open with the keys of 'ag-1'"},
    {"forger's key", &city2, &city, "ag-2", RL_ESIG, "box does not open"},
    {"sealed for another parent", &ag1, &city2, "ag-1", RL_ESIG, "box does not open"},
    {"not a child", &nat, &city, "nat", RL_EPERM, "'nat' is not a child"},
    {"unknown node", &nat, &city, "mallory", RL_EUNKNOWN, "unknown node 'mallory'"},
};
#define NHS (sizeof(hs_cases) / sizeof(hs_cases[0]))

/* run_hs_case - the case's handshake is refused with its reason, and
 * makes no session */
static void
run_hs_case(void **state)
{
    const struct hs_case *k = *state;
    struct link_client *c = link_client_new(*k->kp, (*k->parent)->pk, k->from);
    struct link_seal_ctx cc, pc;
    struct frame f;
    char why[256];

    link_seal_forget();
    f = seal(c, &cc);
    assert_int_equal(parent_open(NULL, &f, &pc, why, sizeof(why)), k->rc);
    if (strstr(why, k->why) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", why, k->why);
    assert_int_equal(link_seal_sessions(NULL), 0);
    link_seal_wipe(&cc);
    link_client_free(c);
    free(f.b);
}

/* test_malformed - frames of the wrong shape are refused as such */
static void
test_malformed(void **state)
{
    Relay__SealedFrame sf = RELAY__SEALED_FRAME__INIT;
    uint8_t eph[32] = {0}, sid[LINK_SEAL_SID_LEN] = {0}, box[40] = {0}, nonce[24] = {0};
    struct link_seal_ctx pc;
    struct frame f;
    char why[256];
    struct {
        const char *from;
        size_t eph, sid, box, nonce;
        uint64_t counter;
        int rc;
        const char *why;
    } cases[] = {
        {"", 32, 0, 40, 0, 0, RL_EINVAL, "sender id is empty"},
        {"ag-1", 31, 0, 40, 0, 0, RL_EINVAL, "handshake is not"},
        {"ag-1", 32, 12, 40, 0, 0, RL_EINVAL, "handshake is not"},
        {"ag-1", 0, 11, 40, 0, 1, RL_EINVAL, "neither a handshake"},
        {"ag-1", 0, 12, 40, 0, 0, RL_EINVAL, "neither a handshake"},
        {"ag-1", 0, 12, 15, 0, 1, RL_EINVAL, "shorter than its tag"},
        {"ag-1", 32, 0, 40, 24, 0, RL_EINVAL, "relay-link-v1"},
        {"ag-1", 32, 0, 40, 0, 0, RL_ESIG, "all zero"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sf.from = (char *)cases[i].from;
        sf.eph = (ProtobufCBinaryData){cases[i].eph, eph};
        sf.sid = (ProtobufCBinaryData){cases[i].sid, sid};
        sf.box = (ProtobufCBinaryData){cases[i].box, box};
        sf.nonce = (ProtobufCBinaryData){cases[i].nonce, nonce};
        sf.counter = cases[i].counter;
        f.len = relay__sealed_frame__get_packed_size(&sf);
        f.b = malloc(f.len ? f.len : 1);
        relay__sealed_frame__pack(&sf, f.b);
        assert_int_equal(parent_open(NULL, &f, &pc, why, sizeof(why)), cases[i].rc);
        if (strstr(why, cases[i].why) == NULL)
            fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, cases[i].why);
        free(f.b);
    }
}

/* test_bad_keys - keys that do not convert are named, nothing is sealed */
static void
test_bad_keys(void **state)
{
    uint8_t zero_pk[KEYS_PK_LEN] = {0}, *frame = (uint8_t *)"unset";
    struct link_client *c = link_client_new(ag1, zero_pk, "ag-1");
    struct link_seal_ctx cc;
    size_t len = 99;
    char why[256] = "";

    (void)state;
    assert_null(link_client_new(ag1, city->pk, ""));
    assert_int_equal(link_client_seal(c, plain, PLAIN_LEN, &cc, &frame, &len, why,
                                      sizeof(why)),
                     RL_ECONFIG);
    assert_non_null(strstr(why, "parent's key"));
    assert_null(frame);
    assert_int_equal(len, 0);
    assert_false(cc.ready);
    assert_int_equal(link_seal_reply(&cc, answer, ANSWER_LEN, &frame, &len), RL_EINVAL);
    /* a rotation of the parent's key: the next seal works */
    link_client_set_parent(c, city->pk);
    assert_int_equal(link_client_seal(c, plain, PLAIN_LEN, &cc, &frame, &len, why,
                                      sizeof(why)),
                     RL_OK);
    link_seal_wipe(&cc);
    free(frame);
    link_client_free(c);
}

/* now_ns - this thread's CPU time in nanoseconds (the machine is shared:
 * wall time would count other processes) */
static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* test_parent_cpu_per_frame - prints the parent's CPU per data frame
 * (open, seal the reply) and, for comparison, what relay-link-v1 did per
 * request (key conversion, one X25519, BLAKE2b, XChaCha20 open and seal,
 * with the static secret cached); no timed assertion */
static void
test_parent_cpu_per_frame(void **state)
{
    enum { N = 2000 };
    struct link_client *c;
    struct link_seal_ctx cc, pc;
    struct frame f[N], r;
    char why[256];
    int64_t t0, t_new, t_hs, t_old;
    uint8_t sk[32], e_sk[32], e_pk[32], s[32], k[32], nonce[24], box[PLAIN_LEN + 16],
        out[PLAIN_LEN];
    unsigned long long bl, ol;

    (void)state;
    link_seal_forget();
    c = connect_client(ag1, city, "ag-1", NULL);
    for (int i = 0; i < N; i++) {
        f[i] = seal(c, &cc);
        link_seal_wipe(&cc);
    }
    t0 = now_ns();
    for (int i = 0; i < N; i++) {
        uint8_t *pt;
        size_t ptlen;
        if (link_open_request(city, lookup, NULL, f[i].b, f[i].len, &pc, &pt, &ptlen,
                              why, sizeof(why)) != RL_OK ||
            link_seal_reply(&pc, answer, ANSWER_LEN, &r.b, &r.len) != RL_OK)
            fail_msg("frame %d: %s", i, why);
        free(pt);
        free(r.b);
        link_seal_wipe(&pc);
    }
    t_new = (now_ns() - t0) / N;
    /* the parent's side of a handshake, for the record (once per
     * connection): 50 handshakes sealed first, then opened and answered */
    {
        struct link_client *h = link_client_new(ag2, city->pk, "ag-2");
        for (int i = 0; i < 50; i++) {
            free(f[i].b);
            f[i] = seal(h, &cc);
            link_client_drop(h, &cc);
            link_seal_wipe(&cc);
        }
        t0 = now_ns();
        for (int i = 0; i < 50; i++) {
            uint8_t *pt;
            size_t ptlen;
            if (link_open_request(city, lookup, NULL, f[i].b, f[i].len, &pc, &pt,
                                  &ptlen, why, sizeof(why)) != RL_OK)
                fail_msg("handshake %d: %s", i, why);
            link_seal_wipe(&pc);
        }
        t_hs = (now_ns() - t0) / 50;
        for (int i = 0; i < 50; i++)
            free(f[i].b);
        link_client_free(h);
    }
    /* relay-link-v1's parent work per request */
    randombytes_buf(e_sk, sizeof(e_sk));
    crypto_scalarmult_base(e_pk, e_sk);
    randombytes_buf(nonce, sizeof(nonce));
    t0 = now_ns();
    for (int i = 0; i < N; i++) {
        crypto_generichash_state st;
        assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(sk, city->sk), 0);
        assert_int_equal(crypto_scalarmult(s, sk, e_pk), 0);
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, s, 32);
        crypto_generichash_final(&st, k, 32);
        crypto_aead_xchacha20poly1305_ietf_encrypt(box, &bl, plain, PLAIN_LEN, NULL, 0,
                                                   NULL, nonce, k);
        assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
                             out, &ol, NULL, box, bl, NULL, 0, nonce, k),
                         0);
        crypto_aead_xchacha20poly1305_ietf_encrypt(box, &bl, plain, PLAIN_LEN, NULL, 0,
                                                   NULL, nonce, k);
    }
    t_old = (now_ns() - t0) / N;
    print_message("parent CPU per data frame: relay-link-v2 %.1f us (a handshake, "
                  "once per connection: %.1f us); relay-link-v1 per request: "
                  "%.1f us\n",
                  t_new / 1000.0, t_hs / 1000.0, t_old / 1000.0);
    sodium_memzero(sk, sizeof(sk));
    for (int i = 50; i < N; i++)
        free(f[i].b);
    link_client_free(c);
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
        cmocka_unit_test(test_handshake_replay),
        cmocka_unit_test(test_data_replay_and_window),
        cmocka_unit_test(test_unknown_evicted_idle_wiped),
        cmocka_unit_test(test_drop_keeps_a_newer_session),
        cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_keys),
        cmocka_unit_test(test_parent_cpu_per_frame),
    };
    struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NHS];
    size_t n = 0;

    if (keys_init() != RL_OK)
        return 1;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NHS; i++)
        tests[n++] = (struct CMUnitTest){hs_cases[i].name, run_hs_case, NULL, NULL,
                                         (void *)&hs_cases[i]};
    return _cmocka_run_group_tests("link_seal", tests, n, group_setup,
                                   group_teardown);
}
