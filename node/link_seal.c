/*
 * link_seal.c - sessions and sealed link frames (scheme in link_seal.h).
 *
 * The child's side is a struct link_client (one session, made by a
 * handshake, and its counter); the parent's side is one process-wide table
 * of sessions (a few per child) found by the slot index in the session id.
 * One function per step: the child seals (a handshake or a data frame) and
 * opens the answer; the parent opens a frame (answering a handshake at
 * once) and seals the reply, or, when the frame does not open, answers with
 * a cleartext refusal.
 *
 * DIAGNOSTICS: every refusal names its cause in the caller's why buffer:
 * which field of the frame is malformed, which key could not be converted,
 * whether the ephemeral key is all zero or of small order, that the box
 * does not open with the keys of the claimed sender and this node, that a
 * handshake or a data frame is replayed, or that a session is unknown or
 * expired. Claimed
 * ids and refusal texts from the wire are copied with control characters
 * replaced by '?', so that they cannot forge log lines.
 *
 * SECURITY: the peer lookup runs before any key is derived, so a frame from
 * a node that is not our child costs no scalar multiplication. Every
 * X25519 result is checked (libsodium refuses small-order inputs and
 * all-zero outputs); an all-zero ephemeral key is refused before that. DH
 * results, handshake keys, ephemeral and converted secret keys and stack
 * copies of session keys are wiped with sodium_memzero on every path. The
 * AEAD tag is checked before any plaintext is returned, and a data frame's
 * counter is marked seen only after its tag checked. Shared state, under
 * one mutex: the X25519 forms of public keys, the static-static secret of
 * each link, and the parent's session table (secrets, kept like long-term
 * keys: sodium_malloc memory, wiped when dropped and by link_seal_forget).
 * The child's session lives in its link_client, also sodium_malloc'd.
 */
#include "link_seal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.pb-c.h"

#define X_LEN crypto_scalarmult_curve25519_BYTES /* 32 */

#define AEAD_ABYTES crypto_aead_chacha20poly1305_ietf_ABYTES /* 16 */
#define TS_LEN 8

static const char seal_ad_req[] = "relay-link-v2 req";
static const char seal_ad_rep[] = "relay-link-v2 rep";

/* The X25519 forms of Ed25519 public keys, by key. Converting checks that
 * the point lies in the main subgroup, a scalar multiplication (about 50 us
 * here, as much as one X25519), and the same few keys come back on every
 * request. Public values only; a collision just converts again. */
#define SEAL_CACHE_SLOTS 64
static struct {
    uint8_t ed[KEYS_PK_LEN], x[X_LEN];
    int used;
} seal_cache[SEAL_CACHE_SLOTS];
static pthread_mutex_t seal_cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* seal_pk_x - X25519 form of an Ed25519 public key (cached); 0 or -1 */
static int
seal_pk_x(const uint8_t ed[KEYS_PK_LEN], uint8_t x[X_LEN])
{
    unsigned slot = (unsigned)(ed[0] | ed[1] << 8) % SEAL_CACHE_SLOTS;
    int hit;

    pthread_mutex_lock(&seal_cache_mu);
    hit = seal_cache[slot].used && memcmp(seal_cache[slot].ed, ed, KEYS_PK_LEN) == 0;
    if (hit)
        memcpy(x, seal_cache[slot].x, X_LEN);
    pthread_mutex_unlock(&seal_cache_mu);
    if (hit)
        return 0;
    if (crypto_sign_ed25519_pk_to_curve25519(x, ed) != 0)
        return -1;
    pthread_mutex_lock(&seal_cache_mu);
    memcpy(seal_cache[slot].ed, ed, KEYS_PK_LEN);
    memcpy(seal_cache[slot].x, x, X_LEN);
    seal_cache[slot].used = 1;
    pthread_mutex_unlock(&seal_cache_mu);
    return 0;
}

/* The static-static secret X25519(own key, peer key) of each link, by both
 * public keys: one X25519 less per handshake on each side. The same secret
 * follows from either long-term secret key, so it is kept like one: in
 * sodium_malloc memory (guarded, locked, not in core dumps), wiped by
 * link_seal_forget. */
#define SEAL_S2_SLOTS 256
struct seal_s2 {
    uint8_t self_pk[KEYS_PK_LEN], peer_x[X_LEN], s2[X_LEN];
    int used;
};
static struct seal_s2 *seal_s2_cache; /* under seal_cache_mu */

/* seal_static - s2 = X25519(self's secret key, peer_x), cached; 0 or -1 */
static int
seal_static(const struct keypair *self, const uint8_t peer_x[X_LEN],
            uint8_t s2[X_LEN])
{
    unsigned slot = (unsigned)(peer_x[0] | peer_x[1] << 8 | self->pk[0] << 16) %
                    SEAL_S2_SLOTS;
    uint8_t x_sk[X_LEN];
    int hit = 0, rc;

    pthread_mutex_lock(&seal_cache_mu);
    if (seal_s2_cache == NULL) {
        seal_s2_cache = sodium_malloc(SEAL_S2_SLOTS * sizeof(*seal_s2_cache));
        if (seal_s2_cache)
            sodium_memzero(seal_s2_cache, SEAL_S2_SLOTS * sizeof(*seal_s2_cache));
    }
    if (seal_s2_cache && seal_s2_cache[slot].used &&
        memcmp(seal_s2_cache[slot].self_pk, self->pk, KEYS_PK_LEN) == 0 &&
        memcmp(seal_s2_cache[slot].peer_x, peer_x, X_LEN) == 0) {
        memcpy(s2, seal_s2_cache[slot].s2, X_LEN);
        hit = 1;
    }
    pthread_mutex_unlock(&seal_cache_mu);
    if (hit)
        return 0;
    if (crypto_sign_ed25519_sk_to_curve25519(x_sk, self->sk) != 0)
        return -1;
    rc = crypto_scalarmult(s2, x_sk, peer_x);
    sodium_memzero(x_sk, sizeof(x_sk));
    if (rc != 0)
        return -1;
    pthread_mutex_lock(&seal_cache_mu);
    if (seal_s2_cache) {
        memcpy(seal_s2_cache[slot].self_pk, self->pk, KEYS_PK_LEN);
        memcpy(seal_s2_cache[slot].peer_x, peer_x, X_LEN);
        memcpy(seal_s2_cache[slot].s2, s2, X_LEN);
        seal_s2_cache[slot].used = 1;
    }
    pthread_mutex_unlock(&seal_cache_mu);
    return 0;
}

/* seal_clean - copy s into out (outlen > 0) with control characters as '?' */
static void
seal_clean(const char *s, char *out, size_t outlen)
{
    size_t i = 0;

    for (; s && s[i] && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
}

/* seal_why - printf into the caller's reason buffer (may be NULL) */
static void __attribute__((format(printf, 3, 4)))
seal_why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}


/* seal_mono_ms - monotonic milliseconds (idle expiry) */
static int64_t
seal_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* seal_hash - out = BLAKE2b-256(label || the n parts) */
static void
seal_hash(uint8_t out[LINK_SEAL_KEY_LEN], const char *label, int n, ...)
{
    crypto_generichash_state st;
    va_list ap;

    crypto_generichash_init(&st, NULL, 0, LINK_SEAL_KEY_LEN);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const uint8_t *p = va_arg(ap, const uint8_t *);
        size_t len = va_arg(ap, size_t);
        crypto_generichash_update(&st, p, len);
    }
    va_end(ap);
    crypto_generichash_final(&st, out, LINK_SEAL_KEY_LEN);
    sodium_memzero(&st, sizeof(st));
}

/* seal_h0 - the handshake's transcript hash: both static keys and from */
static void
seal_h0(const uint8_t c_x[X_LEN], const uint8_t p_x[X_LEN], const char *from,
        uint8_t h[LINK_SEAL_KEY_LEN])
{
    uint8_t fl = (uint8_t)strlen(from);

    seal_hash(h, "relay-link-v2 hs", 4, c_x, (size_t)X_LEN, p_x, (size_t)X_LEN,
              &fl, (size_t)1, (const uint8_t *)from, (size_t)fl);
}

/* seal_nonce - the 12-byte AEAD nonce of counter c */
static void
seal_nonce(uint64_t c, uint8_t n[crypto_aead_chacha20poly1305_ietf_NPUBBYTES])
{
    memset(n, 0, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
    for (int i = 0; i < 8; i++)
        n[4 + i] = (uint8_t)(c >> (8 * i));
}

/* seal_aead - box = AEAD(k, n(c), pt, ad1 || ad2) (malloc'd, *boxlen) */
static uint8_t *
seal_aead(const uint8_t k[LINK_SEAL_KEY_LEN], uint64_t c, const uint8_t *pt,
          size_t ptlen, const uint8_t *ad1, size_t ad1len, const uint8_t *ad2,
          size_t ad2len, size_t *boxlen)
{
    uint8_t n[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], *ad, *box;
    unsigned long long bl;

    ad = malloc(ad1len + ad2len + 1);
    box = malloc(ptlen + AEAD_ABYTES);
    if (ad == NULL || box == NULL) {
        free(ad);
        free(box);
        return NULL;
    }
    memcpy(ad, ad1, ad1len);
    if (ad2len)
        memcpy(ad + ad1len, ad2, ad2len);
    seal_nonce(c, n);
    crypto_aead_chacha20poly1305_ietf_encrypt(box, &bl, pt, ptlen, ad,
                                              ad1len + ad2len, NULL, n, k);
    free(ad);
    *boxlen = (size_t)bl;
    return box;
}

/* seal_unaead - open box under k, n(c), ad1 || ad2: RL_OK with the
 * plaintext in *pt (malloc'd, NUL-terminated beyond *ptlen), RL_ESIG */
static int
seal_unaead(const uint8_t k[LINK_SEAL_KEY_LEN], uint64_t c, const uint8_t *box,
            size_t boxlen, const uint8_t *ad1, size_t ad1len, const uint8_t *ad2,
            size_t ad2len, uint8_t **pt, size_t *ptlen)
{
    uint8_t n[crypto_aead_chacha20poly1305_ietf_NPUBBYTES], *ad, *m;
    unsigned long long ml;
    int rc;

    if (boxlen < AEAD_ABYTES)
        return RL_EINVAL;
    ad = malloc(ad1len + ad2len + 1);
    m = malloc(boxlen - AEAD_ABYTES + 1);
    if (ad == NULL || m == NULL) {
        free(ad);
        free(m);
        return RL_ENOMEM;
    }
    memcpy(ad, ad1, ad1len);
    if (ad2len)
        memcpy(ad + ad1len, ad2, ad2len);
    seal_nonce(c, n);
    rc = crypto_aead_chacha20poly1305_ietf_decrypt(m, &ml, NULL, box, boxlen, ad,
                                                   ad1len + ad2len, n, k);
    free(ad);
    if (rc != 0) {
        free(m);
        return RL_ESIG;
    }
    m[ml] = 0;
    *pt = m;
    *ptlen = (size_t)ml;
    return RL_OK;
}

/* seal_pack - pack f into a malloc'd frame */
static int
seal_pack(const Relay__SealedFrame *f, uint8_t **frame, size_t *framelen)
{
    size_t len = relay__sealed_frame__get_packed_size(f);
    uint8_t *out = malloc(len ? len : 1);

    if (out == NULL)
        return RL_ENOMEM;
    relay__sealed_frame__pack(f, out);
    *frame = out;
    *framelen = len;
    return RL_OK;
}

/* seal_x_sk - the X25519 form of self's secret key; 0 or -1 */
static int
seal_x_sk(const struct keypair *self, uint8_t x_sk[X_LEN])
{
    return crypto_sign_ed25519_sk_to_curve25519(x_sk, self->sk);
}

/* seal_split - the two data keys from k2 */
static void
seal_split(const uint8_t k2[LINK_SEAL_KEY_LEN], uint8_t c2p[LINK_SEAL_KEY_LEN],
           uint8_t p2c[LINK_SEAL_KEY_LEN])
{
    seal_hash(c2p, "relay-link-v2 c2p", 1, k2, (size_t)LINK_SEAL_KEY_LEN);
    seal_hash(p2c, "relay-link-v2 p2c", 1, k2, (size_t)LINK_SEAL_KEY_LEN);
}

/* ================================================================ child */

struct link_client {       /* in sodium_malloc memory */
    pthread_mutex_t mu;
    const struct keypair *self;
    uint8_t parent_pk[KEYS_PK_LEN];
    char from[LINK_SEAL_FROM_MAX];
    uint64_t last_ts;      /* the last handshake time sent, microseconds */
    uint64_t gen;          /* generation of the session; 0: none yet */
    int have;              /* a session is in place */
    uint8_t sid[LINK_SEAL_SID_LEN];
    uint8_t k_tx[LINK_SEAL_KEY_LEN], k_rx[LINK_SEAL_KEY_LEN];
    uint64_t counter;      /* the last counter sealed */
    pthread_cond_t hs_done; /* a handshake in flight ended */
    int hs_pending;        /* handshakes in flight */
};

/* How long a context waits for another context's handshake in flight
 * before it makes its own: the parent accepts only the later of two
 * handshakes that cross, so racing would cost one of them a timeout. */
#define CLIENT_HS_WAIT_MS 2000

/* client_wipe_session - forget the session (under c->mu) */
static void
client_wipe_session(struct link_client *c)
{
    c->have = 0;
    c->counter = 0;
    sodium_memzero(c->sid, sizeof(c->sid));
    sodium_memzero(c->k_tx, sizeof(c->k_tx));
    sodium_memzero(c->k_rx, sizeof(c->k_rx));
}

/* link_client_new - the child's end of one link */
struct link_client *
link_client_new(const struct keypair *self, const uint8_t parent_pk[KEYS_PK_LEN],
                const char *from)
{
    struct link_client *c;

    if (from == NULL || from[0] == '\0' || strlen(from) >= LINK_SEAL_FROM_MAX)
        return NULL;
    if ((c = sodium_malloc(sizeof(*c))) == NULL)
        return NULL;
    sodium_memzero(c, sizeof(*c));
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        sodium_free(c);
        return NULL;
    }
    if (pthread_cond_init(&c->hs_done, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        sodium_free(c);
        return NULL;
    }
    c->self = self;
    memcpy(c->parent_pk, parent_pk, KEYS_PK_LEN);
    snprintf(c->from, sizeof(c->from), "%s", from);
    return c;
}

/* link_client_free - wipe and release */
void
link_client_free(struct link_client *c)
{
    if (c == NULL)
        return;
    pthread_cond_destroy(&c->hs_done);
    pthread_mutex_destroy(&c->mu);
    sodium_free(c); /* fills with zeros first */
}

/* link_client_reset - forget the session */
void
link_client_reset(struct link_client *c)
{
    pthread_mutex_lock(&c->mu);
    client_wipe_session(c);
    pthread_mutex_unlock(&c->mu);
}

/* client_hs_end - ctx's handshake is no longer in flight (under c->mu) */
static void
client_hs_end(struct link_client *c, struct link_seal_ctx *ctx)
{
    if (ctx->hs_counted) {
        ctx->hs_counted = 0;
        c->hs_pending--;
        pthread_cond_broadcast(&c->hs_done);
    }
}

/* link_client_drop - forget the session ctx used, if still current */
void
link_client_drop(struct link_client *c, struct link_seal_ctx *ctx)
{
    pthread_mutex_lock(&c->mu);
    client_hs_end(c, ctx);
    if (c->have && ctx->gen != 0 && ctx->gen == c->gen)
        client_wipe_session(c);
    pthread_mutex_unlock(&c->mu);
}

/* link_client_set_parent - follow a rotation of the parent's key */
void
link_client_set_parent(struct link_client *c, const uint8_t parent_pk[KEYS_PK_LEN])
{
    pthread_mutex_lock(&c->mu);
    if (memcmp(c->parent_pk, parent_pk, KEYS_PK_LEN) != 0) {
        memcpy(c->parent_pk, parent_pk, KEYS_PK_LEN);
        client_wipe_session(c);
    }
    pthread_mutex_unlock(&c->mu);
}

/* client_handshake - the first message: e, DH(e, P), DH(C, P), our clock */
static int
client_handshake(struct link_client *c, const uint8_t parent_pk[KEYS_PK_LEN],
                 struct link_seal_ctx *ctx, uint8_t **frame, size_t *framelen,
                 char *why, size_t whylen)
{
    Relay__SealedFrame f = RELAY__SEALED_FRAME__INIT;
    uint8_t p_x[X_LEN], c_x[X_LEN], es[X_LEN], ss[X_LEN], ts[TS_LEN], *box;
    struct timespec now;
    uint64_t t;
    size_t boxlen;
    int rc = RL_OK;

    if (seal_pk_x(parent_pk, p_x) != 0) {
        seal_why(why, whylen, "the parent's key is not usable for key agreement");
        return RL_ECONFIG;
    }
    if (seal_pk_x(c->self->pk, c_x) != 0) {
        seal_why(why, whylen, "own key is not usable for key agreement");
        return RL_ECONFIG;
    }
    randombytes_buf(ctx->e_sk, sizeof(ctx->e_sk));
    if (crypto_scalarmult_base(ctx->e_pk, ctx->e_sk) != 0 ||
        crypto_scalarmult(es, ctx->e_sk, p_x) != 0 ||
        seal_static(c->self, p_x, ss) != 0) {
        seal_why(why, whylen, "key agreement with the parent's key failed");
        rc = RL_ECONFIG;
        goto out;
    }
    seal_h0(c_x, p_x, c->from, ctx->h);
    seal_hash(ctx->k, "relay-link-v2 k1", 4, ctx->h, (size_t)LINK_SEAL_KEY_LEN,
              ctx->e_pk, (size_t)X_LEN, es, (size_t)X_LEN, ss, (size_t)X_LEN);
    /* our clock, strictly increasing: the parent refuses a time it saw */
    clock_gettime(CLOCK_REALTIME, &now);
    t = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
    pthread_mutex_lock(&c->mu);
    if (t <= c->last_ts)
        t = c->last_ts + 1;
    c->last_ts = t;
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < TS_LEN; i++)
        ts[i] = (uint8_t)(t >> (8 * i));
    box = seal_aead(ctx->k, 0, ts, sizeof(ts), ctx->h, LINK_SEAL_KEY_LEN,
                    ctx->e_pk, X_LEN, &boxlen);
    if (box == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    f.from = c->from;
    f.eph.data = ctx->e_pk;
    f.eph.len = X_LEN;
    f.box.data = box;
    f.box.len = boxlen;
    rc = seal_pack(&f, frame, framelen);
    free(box);
    if (rc == RL_OK) {
        snprintf(ctx->from, sizeof(ctx->from), "%s", c->from);
        ctx->handshake = 1;
        ctx->ready = 1;
    }
out:
    sodium_memzero(es, sizeof(es));
    sodium_memzero(ss, sizeof(ss));
    return rc;
}

/* link_client_seal - a data frame under the session, or a handshake */
int
link_client_seal(struct link_client *c, const uint8_t *pt, size_t ptlen,
                 struct link_seal_ctx *ctx, uint8_t **frame, size_t *framelen,
                 char *why, size_t whylen)
{
    Relay__SealedFrame f = RELAY__SEALED_FRAME__INIT;
    uint8_t k_tx[LINK_SEAL_KEY_LEN], parent_pk[KEYS_PK_LEN], *box;
    size_t boxlen;
    int rc, have;

    memset(ctx, 0, sizeof(*ctx));
    *frame = NULL;
    *framelen = 0;
    pthread_mutex_lock(&c->mu);
    if (!c->have && c->hs_pending > 0) {
        struct timespec dl;
        int w = 0;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += CLIENT_HS_WAIT_MS / 1000;
        dl.tv_nsec += (CLIENT_HS_WAIT_MS % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (!c->have && c->hs_pending > 0 && w == 0)
            w = pthread_cond_timedwait(&c->hs_done, &c->mu, &dl);
    }
    have = c->have && c->counter < UINT64_MAX / 2;
    if (!have) {
        c->hs_pending++;
        ctx->hs_counted = 1;
    }
    if (have) {
        ctx->counter = ++c->counter;
        ctx->gen = c->gen;
        memcpy(ctx->sid, c->sid, sizeof(ctx->sid));
        memcpy(ctx->k, c->k_rx, sizeof(ctx->k));
        memcpy(k_tx, c->k_tx, sizeof(k_tx));
    }
    memcpy(parent_pk, c->parent_pk, sizeof(parent_pk));
    pthread_mutex_unlock(&c->mu);
    if (!have) {
        rc = client_handshake(c, parent_pk, ctx, frame, framelen, why, whylen);
        if (rc != RL_OK) {
            pthread_mutex_lock(&c->mu);
            client_hs_end(c, ctx);
            pthread_mutex_unlock(&c->mu);
            link_seal_wipe(ctx);
        }
        return rc;
    }
    snprintf(ctx->from, sizeof(ctx->from), "%s", c->from);
    {
        /* ad: label || sid || from: the box opens only as from's frame */
        uint8_t ad[sizeof(seal_ad_req) + LINK_SEAL_SID_LEN];
        size_t al = strlen(seal_ad_req);

        memcpy(ad, seal_ad_req, al);
        memcpy(ad + al, ctx->sid, LINK_SEAL_SID_LEN);
        box = seal_aead(k_tx, ctx->counter, pt, ptlen, ad, al + LINK_SEAL_SID_LEN,
                        (const uint8_t *)c->from, strlen(c->from), &boxlen);
    }
    sodium_memzero(k_tx, sizeof(k_tx));
    if (box == NULL) {
        link_seal_wipe(ctx);
        return RL_ENOMEM;
    }
    f.from = c->from;
    f.sid.data = ctx->sid;
    f.sid.len = LINK_SEAL_SID_LEN;
    f.counter = ctx->counter;
    f.box.data = box;
    f.box.len = boxlen;
    rc = seal_pack(&f, frame, framelen);
    free(box);
    if (rc != RL_OK) {
        link_seal_wipe(ctx);
        return rc;
    }
    ctx->ready = 1;
    return RL_OK;
}

/* client_finish - the parent's answer to our handshake: make the session */
static int
client_finish(struct link_client *c, struct link_seal_ctx *ctx,
              const Relay__SealedFrame *f, char *why, size_t whylen)
{
    uint8_t c_sk[X_LEN], ee[X_LEN], se[X_LEN], k2[LINK_SEAL_KEY_LEN];
    uint8_t c2p[LINK_SEAL_KEY_LEN], p2c[LINK_SEAL_KEY_LEN], ad[3 * 32 + LINK_SEAL_SID_LEN];
    uint8_t *m = NULL;
    size_t mlen;
    int rc = RL_OK;

    if (f->from[0] || f->error[0] || f->counter || f->nonce.len ||
        f->eph.len != X_LEN || f->sid.len != LINK_SEAL_SID_LEN) {
        seal_why(why, whylen, "handshake answer is not {eph, sid, box}");
        return RL_EINVAL;
    }
    if (seal_x_sk(c->self, c_sk) != 0 ||
        crypto_scalarmult(ee, ctx->e_sk, f->eph.data) != 0 ||
        crypto_scalarmult(se, c_sk, f->eph.data) != 0) {
        seal_why(why, whylen, "the parent's ephemeral key is of small order");
        rc = RL_ESIG;
        goto out;
    }
    seal_hash(k2, "relay-link-v2 k2", 5, ctx->k, (size_t)LINK_SEAL_KEY_LEN,
              f->eph.data, (size_t)X_LEN, f->sid.data, (size_t)LINK_SEAL_SID_LEN,
              ee, (size_t)X_LEN, se, (size_t)X_LEN);
    memcpy(ad, ctx->h, 32);
    memcpy(ad + 32, ctx->e_pk, 32);
    memcpy(ad + 64, f->eph.data, 32);
    memcpy(ad + 96, f->sid.data, LINK_SEAL_SID_LEN);
    rc = seal_unaead(k2, 0, f->box.data, f->box.len, ad, sizeof(ad), NULL, 0, &m,
                     &mlen);
    if (rc == RL_OK && mlen != 0)
        rc = RL_EINVAL;
    free(m);
    if (rc == RL_ESIG || rc == RL_EINVAL) {
        seal_why(why, whylen,
                 "handshake answer does not open (not from the holder of the "
                 "parent's key, or altered)");
        rc = RL_ESIG;
        goto out;
    }
    if (rc != RL_OK)
        goto out;
    seal_split(k2, c2p, p2c);
    pthread_mutex_lock(&c->mu);
    client_hs_end(c, ctx);
    client_wipe_session(c);
    memcpy(c->sid, f->sid.data, LINK_SEAL_SID_LEN);
    memcpy(c->k_tx, c2p, sizeof(c2p));
    memcpy(c->k_rx, p2c, sizeof(p2c));
    c->gen++;
    c->have = 1;
    pthread_mutex_unlock(&c->mu);
out:
    sodium_memzero(c_sk, sizeof(c_sk));
    sodium_memzero(ee, sizeof(ee));
    sodium_memzero(se, sizeof(se));
    sodium_memzero(k2, sizeof(k2));
    sodium_memzero(c2p, sizeof(c2p));
    sodium_memzero(p2c, sizeof(p2c));
    return rc;
}

/* link_client_open - the answer to a handshake or the reply to a frame */
int
link_client_open(struct link_client *c, struct link_seal_ctx *ctx,
                 const uint8_t *frame, size_t len, uint8_t **pt, size_t *ptlen,
                 char *why, size_t whylen)
{
    Relay__SealedFrame *f;
    int rc;

    *pt = NULL;
    *ptlen = 0;
    if (!ctx->ready) {
        seal_why(why, whylen, "no request to answer");
        return RL_EINVAL;
    }
    f = relay__sealed_frame__unpack(NULL, len, frame);
    if (f == NULL) {
        seal_why(why, whylen, "reply is not a decodable SealedFrame");
        return RL_EINVAL;
    }
    if (f->error[0] && f->box.len == 0) {
        char clean[200];
        seal_clean(f->error, clean, sizeof(clean));
        seal_why(why, whylen, "%s (unauthenticated answer)", clean);
        relay__sealed_frame__free_unpacked(f, NULL);
        return RL_EPERM;
    }
    if (ctx->handshake) {
        /* e is wiped once the session is made (forward secrecy); after a
         * failure the caller wipes ctx */
        if ((rc = client_finish(c, ctx, f, why, whylen)) == RL_OK)
            sodium_memzero(ctx->e_sk, sizeof(ctx->e_sk));
    } else if (f->error[0] || f->from[0] || f->eph.len || f->sid.len ||
               f->counter || f->nonce.len) {
        seal_why(why, whylen, "reply carries request or refusal fields");
        rc = RL_EINVAL;
    } else {
        uint8_t ad[sizeof(seal_ad_rep) + LINK_SEAL_SID_LEN];
        size_t al = strlen(seal_ad_rep);

        memcpy(ad, seal_ad_rep, al);
        memcpy(ad + al, ctx->sid, LINK_SEAL_SID_LEN);
        rc = seal_unaead(ctx->k, ctx->counter, f->box.data, f->box.len, ad,
                         al + LINK_SEAL_SID_LEN, NULL, 0, pt, ptlen);
        if (rc == RL_EINVAL)
            seal_why(why, whylen, "box is %zu bytes, shorter than its tag",
                     f->box.len);
        else if (rc == RL_ESIG)
            seal_why(why, whylen,
                     "reply does not open under this session and request (not "
                     "from the holder of the parent's key, or altered)");
    }
    relay__sealed_frame__free_unpacked(f, NULL);
    return rc;
}

/* =============================================================== parent */

/* One session of a child, in the table (sodium_malloc memory). */
struct seal_sess {
    uint8_t sid[LINK_SEAL_SID_LEN];
    uint8_t self_pk[KEYS_PK_LEN], child_pk[KEYS_PK_LEN];
    char from[LINK_SEAL_FROM_MAX];
    uint8_t k_rx[LINK_SEAL_KEY_LEN], k_tx[LINK_SEAL_KEY_LEN];
    uint64_t rx_max, rx_lo, rx_hi; /* replay window: bit d is rx_max - d */
    uint64_t born;                 /* order of creation */
    int64_t used_ms;
    int used;
};

/* The last accepted handshake time of each child (public, plain memory). */
struct seal_child {
    char from[LINK_SEAL_FROM_MAX];
    uint8_t self_pk[KEYS_PK_LEN];
    uint64_t last_ts;
};

static struct {
    struct seal_sess *s; /* sodium_malloc; slot i is named by sid[0..3] = i */
    size_t cap;
    struct seal_child *ch;
    size_t nch, capch;
    uint64_t born;
    int64_t idle_ms, swept_ms;
} tab = {.idle_ms = LINK_SEAL_IDLE_MS};

/* tab_drop - wipe slot i (under seal_cache_mu) */
static void
tab_drop(size_t i)
{
    sodium_memzero(&tab.s[i], sizeof(tab.s[i]));
}

/* tab_sweep - wipe idle sessions, at most once a second (under the mutex) */
static void
tab_sweep(int64_t now)
{
    if (now - tab.swept_ms < 1000 && now >= tab.swept_ms)
        return;
    tab.swept_ms = now;
    for (size_t i = 0; i < tab.cap; i++)
        if (tab.s[i].used && now - tab.s[i].used_ms > tab.idle_ms)
            tab_drop(i);
}

/* tab_child - the record of from under self (created if asked); NULL */
static struct seal_child *
tab_child(const uint8_t self_pk[KEYS_PK_LEN], const char *from, int create)
{
    for (size_t i = 0; i < tab.nch; i++)
        if (strcmp(tab.ch[i].from, from) == 0 &&
            memcmp(tab.ch[i].self_pk, self_pk, KEYS_PK_LEN) == 0)
            return &tab.ch[i];
    if (!create)
        return NULL;
    if (tab.nch == tab.capch) {
        size_t cap = tab.capch ? tab.capch * 2 : 64;
        struct seal_child *ch = realloc(tab.ch, cap * sizeof(*ch));
        if (ch == NULL)
            return NULL;
        tab.ch = ch;
        tab.capch = cap;
    }
    memset(&tab.ch[tab.nch], 0, sizeof(tab.ch[0]));
    snprintf(tab.ch[tab.nch].from, LINK_SEAL_FROM_MAX, "%s", from);
    memcpy(tab.ch[tab.nch].self_pk, self_pk, KEYS_PK_LEN);
    return &tab.ch[tab.nch++];
}

/* tab_drop_child - wipe every session of from under self */
static void
tab_drop_child(const uint8_t self_pk[KEYS_PK_LEN], const char *from)
{
    for (size_t i = 0; i < tab.cap; i++)
        if (tab.s[i].used && strcmp(tab.s[i].from, from) == 0 &&
            memcmp(tab.s[i].self_pk, self_pk, KEYS_PK_LEN) == 0)
            tab_drop(i);
}

/* tab_slot - a free slot for from (its oldest session when it holds
 * LINK_SEAL_PER_CHILD already, wiped), growing the table; -1 if none */
static long
tab_slot(const uint8_t self_pk[KEYS_PK_LEN], const char *from)
{
    long oldest = -1, free_ix = -1;
    int held = 0;

    for (size_t i = 0; i < tab.cap; i++) {
        const struct seal_sess *s = &tab.s[i];
        if (!s->used) {
            if (free_ix < 0)
                free_ix = (long)i;
        } else if (strcmp(s->from, from) == 0 &&
                   memcmp(s->self_pk, self_pk, KEYS_PK_LEN) == 0) {
            held++;
            if (oldest < 0 || s->born < tab.s[oldest].born)
                oldest = (long)i;
        }
    }
    if (held >= LINK_SEAL_PER_CHILD) {
        tab_drop((size_t)oldest); /* the newest replaces the oldest */
        return oldest;
    }
    if (free_ix >= 0)
        return free_ix;
    {
        size_t cap = tab.cap ? tab.cap * 2 : 64;
        struct seal_sess *s;
        if (cap > UINT32_MAX || (s = sodium_malloc(cap * sizeof(*s))) == NULL)
            return -1;
        sodium_memzero(s, cap * sizeof(*s));
        if (tab.s) {
            memcpy(s, tab.s, tab.cap * sizeof(*s));
            sodium_free(tab.s); /* wipes the old copy */
        }
        free_ix = (long)tab.cap;
        tab.s = s;
        tab.cap = cap;
    }
    return free_ix;
}

/* win_fresh - counter c was not seen and is inside the window */
static int
win_fresh(const struct seal_sess *s, uint64_t c)
{
    uint64_t d;

    if (c == 0)
        return 0;
    if (c > s->rx_max)
        return 1;
    d = s->rx_max - c;
    if (d >= LINK_SEAL_WINDOW)
        return 0;
    return !((d < 64 ? s->rx_lo >> d : s->rx_hi >> (d - 64)) & 1);
}

/* win_mark - counter c is seen (win_fresh(c) held) */
static void
win_mark(struct seal_sess *s, uint64_t c)
{
    uint64_t d;

    if (c > s->rx_max) {
        uint64_t sh = c - s->rx_max;
        if (sh >= 128) {
            s->rx_lo = s->rx_hi = 0;
        } else if (sh >= 64) {
            s->rx_hi = sh == 64 ? s->rx_lo : s->rx_lo << (sh - 64);
            s->rx_lo = 0;
        } else {
            s->rx_hi = s->rx_hi << sh | s->rx_lo >> (64 - sh);
            s->rx_lo <<= sh;
        }
        s->rx_max = c;
    }
    d = s->rx_max - c;
    if (d < 64)
        s->rx_lo |= (uint64_t)1 << d;
    else
        s->rx_hi |= (uint64_t)1 << (d - 64);
}

/* seal_check_from - the frame names a well-formed sender; copied to ctx */
static int
seal_check_from(const Relay__SealedFrame *f, struct link_seal_ctx *ctx,
                char *why, size_t whylen)
{
    if (f->from[0] == '\0' || strlen(f->from) >= LINK_SEAL_FROM_MAX) {
        seal_why(why, whylen, "sender id is empty or longer than %d bytes",
                 LINK_SEAL_FROM_MAX - 1);
        return RL_EINVAL;
    }
    seal_clean(f->from, ctx->from, sizeof(ctx->from));
    if (strcmp(ctx->from, f->from) != 0) {
        seal_why(why, whylen, "sender id '%s' holds control characters", ctx->from);
        return RL_EINVAL;
    }
    if (f->error[0]) {
        seal_why(why, whylen, "a request carries a refusal");
        return RL_EINVAL;
    }
    if (f->nonce.len) {
        seal_why(why, whylen, "frame carries a nonce (relay-link-v1, not v2)");
        return RL_EINVAL;
    }
    if (f->box.len < AEAD_ABYTES) {
        seal_why(why, whylen, "box is %zu bytes, shorter than its tag", f->box.len);
        return RL_EINVAL;
    }
    return RL_OK;
}

/* parent_handshake - open a handshake from a child lookup accepted (key
 * c_pk), make a session, put the answer in ctx */
static int
parent_handshake(const struct keypair *self, const Relay__SealedFrame *f,
                 const uint8_t c_pk[KEYS_PK_LEN], struct link_seal_ctx *ctx,
                 char *why, size_t whylen)
{
    static const uint8_t zero[X_LEN];
    Relay__SealedFrame a = RELAY__SEALED_FRAME__INIT;
    uint8_t c_x[X_LEN], p_x[X_LEN], p_sk[X_LEN], es[X_LEN], ss[X_LEN];
    uint8_t h[LINK_SEAL_KEY_LEN], k1[LINK_SEAL_KEY_LEN], k2[LINK_SEAL_KEY_LEN];
    uint8_t e_sk[X_LEN], e_pk[X_LEN], ee[X_LEN], se[X_LEN];
    uint8_t sid[LINK_SEAL_SID_LEN], ad[3 * 32 + LINK_SEAL_SID_LEN];
    uint8_t *m = NULL, *box = NULL;
    struct seal_child *ch;
    uint64_t ts = 0;
    size_t mlen = 0, boxlen;
    long slot;
    int rc = RL_OK;

    if (sodium_memcmp(f->eph.data, zero, X_LEN) == 0) {
        seal_why(why, whylen, "ephemeral key is all zero");
        return RL_ESIG;
    }
    if (seal_pk_x(c_pk, c_x) != 0) {
        seal_why(why, whylen,
                 "the directory key of '%s' is not usable for key agreement",
                 ctx->from);
        return RL_ECONFIG;
    }
    if (seal_pk_x(self->pk, p_x) != 0 || seal_x_sk(self, p_sk) != 0) {
        seal_why(why, whylen, "own key is not usable for key agreement");
        return RL_ECONFIG;
    }
    if (crypto_scalarmult(es, p_sk, f->eph.data) != 0) {
        seal_why(why, whylen, "ephemeral key is of small order");
        rc = RL_ESIG;
        goto out;
    }
    if (seal_static(self, c_x, ss) != 0) {
        seal_why(why, whylen, "the directory key of '%s' is of small order",
                 ctx->from);
        rc = RL_ECONFIG;
        goto out;
    }
    seal_h0(c_x, p_x, f->from, h);
    seal_hash(k1, "relay-link-v2 k1", 4, h, (size_t)LINK_SEAL_KEY_LEN, f->eph.data,
              (size_t)X_LEN, es, (size_t)X_LEN, ss, (size_t)X_LEN);
    rc = seal_unaead(k1, 0, f->box.data, f->box.len, h, sizeof(h), f->eph.data,
                     X_LEN, &m, &mlen);
    if (rc == RL_ESIG || (rc == RL_OK && mlen != TS_LEN)) {
        seal_why(why, whylen,
                 "box does not open with the keys of '%s' and this node "
                 "(another sender's key, sealed for another parent, or "
                 "altered)",
                 ctx->from);
        rc = RL_ESIG;
        goto out;
    }
    if (rc != RL_OK)
        goto out;
    for (int i = TS_LEN - 1; i >= 0; i--)
        ts = ts << 8 | m[i];
    /* a replay costs the checks so far and changes nothing */
    pthread_mutex_lock(&seal_cache_mu);
    ch = tab_child(self->pk, f->from, 0);
    if (ch && ts <= ch->last_ts)
        rc = RL_ESIG;
    pthread_mutex_unlock(&seal_cache_mu);
    if (rc != RL_OK) {
        seal_why(why, whylen,
                 "handshake replayed or out of order: its time is not after the "
                 "last one accepted from '%s'", ctx->from);
        goto out;
    }
    randombytes_buf(e_sk, sizeof(e_sk));
    if (crypto_scalarmult_base(e_pk, e_sk) != 0 ||
        crypto_scalarmult(ee, e_sk, f->eph.data) != 0 ||
        crypto_scalarmult(se, e_sk, c_x) != 0) {
        seal_why(why, whylen, "key agreement with '%s' failed", ctx->from);
        rc = RL_ESIG;
        goto out;
    }
    pthread_mutex_lock(&seal_cache_mu);
    ch = tab_child(self->pk, f->from, 1);
    if (ch == NULL || (slot = tab_slot(self->pk, f->from)) < 0) {
        rc = RL_ENOMEM;
    } else if (ts <= ch->last_ts) {
        rc = RL_ESIG; /* another handshake of this child got in first */
    } else {
        struct seal_sess *s = &tab.s[slot];
        ch->last_ts = ts;
        for (int i = 0; i < 4; i++)
            sid[i] = (uint8_t)((unsigned long)slot >> (8 * i));
        randombytes_buf(sid + 4, LINK_SEAL_SID_LEN - 4);
        seal_hash(k2, "relay-link-v2 k2", 5, k1, (size_t)LINK_SEAL_KEY_LEN, e_pk,
                  (size_t)X_LEN, sid, (size_t)LINK_SEAL_SID_LEN, ee, (size_t)X_LEN,
                  se, (size_t)X_LEN);
        memcpy(s->sid, sid, sizeof(sid));
        memcpy(s->self_pk, self->pk, KEYS_PK_LEN);
        memcpy(s->child_pk, c_pk, KEYS_PK_LEN);
        snprintf(s->from, sizeof(s->from), "%s", f->from);
        seal_split(k2, s->k_rx, s->k_tx);
        s->rx_max = s->rx_lo = s->rx_hi = 0;
        s->born = ++tab.born;
        s->used_ms = seal_mono_ms();
        s->used = 1;
    }
    pthread_mutex_unlock(&seal_cache_mu);
    if (rc == RL_ESIG)
        seal_why(why, whylen,
                 "handshake replayed or out of order: its time is not after the "
                 "last one accepted from '%s'", ctx->from);
    if (rc != RL_OK)
        goto out;
    memcpy(ad, h, 32);
    memcpy(ad + 32, f->eph.data, 32);
    memcpy(ad + 64, e_pk, 32);
    memcpy(ad + 96, sid, LINK_SEAL_SID_LEN);
    if ((box = seal_aead(k2, 0, NULL, 0, ad, sizeof(ad), NULL, 0, &boxlen)) == NULL) {
        rc = RL_ENOMEM;
        goto out;
    }
    a.eph.data = e_pk;
    a.eph.len = X_LEN;
    a.sid.data = sid;
    a.sid.len = LINK_SEAL_SID_LEN;
    a.box.data = box;
    a.box.len = boxlen;
    rc = seal_pack(&a, &ctx->hs_reply, &ctx->hs_reply_len);
    if (rc == RL_OK)
        ctx->handshake = 1;
out:
    free(m);
    free(box);
    sodium_memzero(p_sk, sizeof(p_sk));
    sodium_memzero(es, sizeof(es));
    sodium_memzero(ss, sizeof(ss));
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
    sodium_memzero(e_sk, sizeof(e_sk));
    sodium_memzero(ee, sizeof(ee));
    sodium_memzero(se, sizeof(se));
    return rc;
}

/* parent_data - open a data frame under its session */
static int
parent_data(const struct keypair *self, const Relay__SealedFrame *f,
            const uint8_t c_pk[KEYS_PK_LEN], struct link_seal_ctx *ctx,
            uint8_t **pt, size_t *ptlen, char *why, size_t whylen)
{
    uint8_t k_rx[LINK_SEAL_KEY_LEN], ad[sizeof(seal_ad_req) + LINK_SEAL_SID_LEN];
    size_t slot = 0, al = strlen(seal_ad_req);
    int64_t now = seal_mono_ms();
    const char *bad = NULL;
    int rc;

    for (int i = 3; i >= 0; i--)
        slot = slot << 8 | f->sid.data[i];
    pthread_mutex_lock(&seal_cache_mu);
    tab_sweep(now);
    if (slot >= tab.cap || !tab.s[slot].used ||
        sodium_memcmp(tab.s[slot].sid, f->sid.data, LINK_SEAL_SID_LEN) != 0 ||
        memcmp(tab.s[slot].self_pk, self->pk, KEYS_PK_LEN) != 0 ||
        strcmp(tab.s[slot].from, f->from) != 0) {
        bad = "unknown or expired session (a new handshake is needed)";
    } else if (now - tab.s[slot].used_ms > tab.idle_ms) {
        tab_drop(slot);
        bad = "unknown or expired session (a new handshake is needed)";
    } else if (memcmp(tab.s[slot].child_pk, c_pk, KEYS_PK_LEN) != 0) {
        tab_drop(slot);
        bad = "session made with another key of the sender (a new handshake is "
              "needed)";
    } else if (!win_fresh(&tab.s[slot], f->counter)) {
        bad = "replayed frame (its counter was seen or is too old)";
    } else {
        memcpy(k_rx, tab.s[slot].k_rx, sizeof(k_rx));
        memcpy(ctx->k, tab.s[slot].k_tx, sizeof(ctx->k));
    }
    pthread_mutex_unlock(&seal_cache_mu);
    if (bad) {
        seal_why(why, whylen, "%s", bad);
        return RL_ESIG;
    }
    memcpy(ad, seal_ad_req, al);
    memcpy(ad + al, f->sid.data, LINK_SEAL_SID_LEN);
    rc = seal_unaead(k_rx, f->counter, f->box.data, f->box.len, ad,
                     al + LINK_SEAL_SID_LEN, (const uint8_t *)f->from,
                     strlen(f->from), pt, ptlen);
    sodium_memzero(k_rx, sizeof(k_rx));
    if (rc == RL_ESIG) {
        seal_why(why, whylen,
                 "box does not open under the session of '%s' (altered, or "
                 "another sender)", ctx->from);
        return rc;
    }
    if (rc != RL_OK)
        return rc;
    /* mark the counter seen only now that the frame authenticated */
    pthread_mutex_lock(&seal_cache_mu);
    if (slot < tab.cap && tab.s[slot].used &&
        sodium_memcmp(tab.s[slot].sid, f->sid.data, LINK_SEAL_SID_LEN) == 0 &&
        win_fresh(&tab.s[slot], f->counter)) {
        win_mark(&tab.s[slot], f->counter);
        tab.s[slot].used_ms = now;
    } else {
        rc = RL_ESIG;
    }
    pthread_mutex_unlock(&seal_cache_mu);
    if (rc != RL_OK) {
        free(*pt);
        *pt = NULL;
        *ptlen = 0;
        seal_why(why, whylen, "replayed frame (its counter was seen or is too old)");
        return rc;
    }
    memcpy(ctx->sid, f->sid.data, LINK_SEAL_SID_LEN);
    ctx->counter = f->counter;
    ctx->ready = 1;
    return RL_OK;
}

/* link_open_request - parent: check the frame and the sender, then answer
 * the handshake or open the data frame */
int
link_open_request(const struct keypair *self, link_seal_peer_fn lookup,
                  void *arg, const uint8_t *frame, size_t len,
                  struct link_seal_ctx *ctx, uint8_t **pt, size_t *ptlen,
                  char *why, size_t whylen)
{
    uint8_t c_pk[KEYS_PK_LEN];
    Relay__SealedFrame *f;
    int rc, hs;

    memset(ctx, 0, sizeof(*ctx));
    *pt = NULL;
    *ptlen = 0;
    f = relay__sealed_frame__unpack(NULL, len, frame);
    if (f == NULL) {
        seal_why(why, whylen, "not a decodable SealedFrame");
        return RL_EINVAL;
    }
    if ((rc = seal_check_from(f, ctx, why, whylen)) != RL_OK)
        goto out;
    hs = f->eph.len != 0;
    if (hs && (f->eph.len != X_LEN || f->sid.len || f->counter)) {
        seal_why(why, whylen, "handshake is not {from, eph of %d bytes, box}", X_LEN);
        rc = RL_EINVAL;
        goto out;
    }
    if (!hs && (f->sid.len != LINK_SEAL_SID_LEN || f->counter == 0)) {
        seal_why(why, whylen,
                 "neither a handshake (eph) nor a data frame (sid of %d bytes, "
                 "counter)", LINK_SEAL_SID_LEN);
        rc = RL_EINVAL;
        goto out;
    }
    /* who is it: nothing is derived for a node we do not serve, and a
     * child no longer served loses its sessions */
    if ((rc = lookup(arg, f->from, c_pk, why, whylen)) != RL_OK) {
        /* a data frame of a live session of from: the child is no longer
         * served (revoked, moved): wipe its sessions. Checked by the slot
         * the frame names, so that other refusals cost no scan. */
        size_t slot = 0;
        for (int i = 3; !hs && i >= 0; i--)
            slot = slot << 8 | f->sid.data[i];
        pthread_mutex_lock(&seal_cache_mu);
        if (!hs && slot < tab.cap && tab.s[slot].used &&
            strcmp(tab.s[slot].from, f->from) == 0 &&
            memcmp(tab.s[slot].self_pk, self->pk, KEYS_PK_LEN) == 0)
            tab_drop_child(self->pk, f->from);
        pthread_mutex_unlock(&seal_cache_mu);
        goto out;
    }
    rc = hs ? parent_handshake(self, f, c_pk, ctx, why, whylen)
            : parent_data(self, f, c_pk, ctx, pt, ptlen, why, whylen);
out:
    relay__sealed_frame__free_unpacked(f, NULL);
    if (rc != RL_OK) {
        char from[LINK_SEAL_FROM_MAX];
        memcpy(from, ctx->from, sizeof(from));
        link_seal_wipe(ctx);
        memcpy(ctx->from, from, sizeof(from));
    }
    return rc;
}

/* link_seal_reply - parent: seal the reply under the session, with the
 * counter of the request it answers */
int
link_seal_reply(const struct link_seal_ctx *ctx, const uint8_t *pt,
                size_t ptlen, uint8_t **frame, size_t *framelen)
{
    Relay__SealedFrame f = RELAY__SEALED_FRAME__INIT;
    uint8_t ad[sizeof(seal_ad_rep) + LINK_SEAL_SID_LEN], *box;
    size_t al = strlen(seal_ad_rep), boxlen;
    int rc;

    *frame = NULL;
    *framelen = 0;
    if (!ctx->ready || ctx->handshake)
        return RL_EINVAL;
    memcpy(ad, seal_ad_rep, al);
    memcpy(ad + al, ctx->sid, LINK_SEAL_SID_LEN);
    box = seal_aead(ctx->k, ctx->counter, pt, ptlen, ad, al + LINK_SEAL_SID_LEN,
                    NULL, 0, &boxlen);
    if (box == NULL)
        return RL_ENOMEM;
    f.box.data = box;
    f.box.len = boxlen;
    rc = seal_pack(&f, frame, framelen);
    free(box);
    return rc;
}

/* link_seal_error - parent: a cleartext refusal */
int
link_seal_error(const char *error, uint8_t **frame, size_t *framelen)
{
    Relay__SealedFrame f = RELAY__SEALED_FRAME__INIT;
    char clean[256];
    uint8_t *out;
    size_t len;

    seal_clean(error && error[0] ? error : "refused", clean, sizeof(clean));
    f.error = clean;
    len = relay__sealed_frame__get_packed_size(&f);
    if ((out = malloc(len)) == NULL)
        return RL_ENOMEM;
    relay__sealed_frame__pack(&f, out);
    *frame = out;
    *framelen = len;
    return RL_OK;
}

/* link_seal_wipe - wipe an exchange's keys, free its handshake answer */
void
link_seal_wipe(struct link_seal_ctx *ctx)
{
    free(ctx->hs_reply);
    sodium_memzero(ctx, sizeof(*ctx));
}

/* link_seal_idle_ms - set the idle expiry of parent sessions */
void
link_seal_idle_ms(int64_t ms)
{
    pthread_mutex_lock(&seal_cache_mu);
    tab.idle_ms = ms;
    tab.swept_ms = 0;
    pthread_mutex_unlock(&seal_cache_mu);
}

/* link_seal_sessions - how many sessions the parent holds (for from) */
size_t
link_seal_sessions(const char *from)
{
    int64_t now = seal_mono_ms();
    size_t n = 0;

    pthread_mutex_lock(&seal_cache_mu);
    tab.swept_ms = 0;
    tab_sweep(now);
    for (size_t i = 0; i < tab.cap; i++)
        n += tab.s[i].used && (from == NULL || strcmp(tab.s[i].from, from) == 0);
    pthread_mutex_unlock(&seal_cache_mu);
    return n;
}

/* link_seal_forget - wipe every session and the cache of static secrets */
void
link_seal_forget(void)
{
    pthread_mutex_lock(&seal_cache_mu);
    if (seal_s2_cache)
        sodium_free(seal_s2_cache); /* fills with zeros first */
    seal_s2_cache = NULL;
    if (tab.s)
        sodium_free(tab.s);
    tab.s = NULL;
    tab.cap = 0;
    free(tab.ch);
    tab.ch = NULL;
    tab.nch = tab.capch = 0;
    memset(seal_cache, 0, sizeof(seal_cache));
    pthread_mutex_unlock(&seal_cache_mu);
}
