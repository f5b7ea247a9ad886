/*
 * link_seal.c - sealing and opening link frames (scheme in link_seal.h).
 *
 * One function per step of the exchange: the child seals a request and
 * opens the reply, the parent opens the request and seals the reply or, when
 * the request does not open, answers with a cleartext refusal.
 *
 * DIAGNOSTICS: every refusal names its cause in the caller's why buffer:
 * which field of the frame is malformed, which key could not be converted,
 * whether the ephemeral key is all zero or of small order, or that the box
 * does not open with the keys of the claimed sender and this node. Claimed
 * ids and refusal texts from the wire are copied with control characters
 * replaced by '?', so that they cannot forge log lines.
 *
 * SECURITY: the peer lookup runs before any key is derived, so a frame from
 * a node that is not our child costs no scalar multiplication. Every
 * X25519 result is checked (libsodium refuses small-order inputs and
 * all-zero outputs); an all-zero ephemeral key is refused before that. The
 * session key, s1, the stack copy of s2, the ephemeral secret key and the
 * converted X25519 secret key are wiped with sodium_memzero on every path.
 * The AEAD tag is checked before any plaintext is returned. Shared state,
 * under one mutex: the X25519 forms of public keys, and the static-static
 * secret of each link (as sensitive as a long-term secret key, and kept
 * like one: sodium_malloc memory, wiped by link_seal_forget).
 */
#include "link_seal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.pb-c.h"

#define X_LEN crypto_scalarmult_curve25519_BYTES /* 32 */

static const char seal_label[] = "relay-link-v1";
static const char seal_ad_req[] = "relay-link-v1 req";
static const char seal_ad_rep[] = "relay-link-v1 rep";

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
 * public keys: one X25519 less per request on each side (about 30 us of
 * 100 for the child and of 70 for the parent here). The same secret
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

/* seal_ad - the associated data: label || from into ad (malloc) */
static uint8_t *
seal_ad(const char *label, const char *from, size_t *adlen)
{
    size_t ll = strlen(label), fl = strlen(from);
    uint8_t *ad = malloc(ll + fl);

    if (ad == NULL)
        return NULL;
    memcpy(ad, label, ll);
    memcpy(ad + ll, from, fl);
    *adlen = ll + fl;
    return ad;
}

/* seal_derive - k = BLAKE2b-256(label || s1 || s2 || e_pk || c_x || p_x) */
static void
seal_derive(const uint8_t s1[X_LEN], const uint8_t s2[X_LEN],
            const uint8_t e_pk[X_LEN], const uint8_t c_x[X_LEN],
            const uint8_t p_x[X_LEN], uint8_t k[LINK_SEAL_KEY_LEN])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, LINK_SEAL_KEY_LEN);
    crypto_generichash_update(&st, (const uint8_t *)seal_label, strlen(seal_label));
    crypto_generichash_update(&st, s1, X_LEN);
    crypto_generichash_update(&st, s2, X_LEN);
    crypto_generichash_update(&st, e_pk, X_LEN);
    crypto_generichash_update(&st, c_x, X_LEN);
    crypto_generichash_update(&st, p_x, X_LEN);
    crypto_generichash_final(&st, k, LINK_SEAL_KEY_LEN);
    sodium_memzero(&st, sizeof(st));
}

/* seal_box - AEAD of pt under k with a fresh nonce; the packed SealedFrame
 * {from, eph, nonce, box} in *frame (from and eph may be NULL) */
static int
seal_box(const uint8_t k[LINK_SEAL_KEY_LEN], const char *ad_label,
         const char *ad_from, const char *from, const uint8_t *eph,
         const uint8_t *pt, size_t ptlen, uint8_t **frame, size_t *framelen)
{
    Relay__SealedFrame f = RELAY__SEALED_FRAME__INIT;
    uint8_t nonce[LINK_SEAL_NONCE_LEN], *box, *ad, *out;
    unsigned long long boxlen;
    size_t adlen, len;

    *frame = NULL;
    *framelen = 0;
    if ((ad = seal_ad(ad_label, ad_from, &adlen)) == NULL)
        return RL_ENOMEM;
    box = malloc(ptlen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (box == NULL) {
        free(ad);
        return RL_ENOMEM;
    }
    randombytes_buf(nonce, sizeof(nonce));
    crypto_aead_xchacha20poly1305_ietf_encrypt(box, &boxlen, pt, ptlen, ad,
                                               adlen, NULL, nonce, k);
    free(ad);
    if (from)
        f.from = (char *)from;
    if (eph) {
        f.eph.data = (uint8_t *)eph;
        f.eph.len = X_LEN;
    }
    f.nonce.data = nonce;
    f.nonce.len = sizeof(nonce);
    f.box.data = box;
    f.box.len = (size_t)boxlen;
    len = relay__sealed_frame__get_packed_size(&f);
    out = malloc(len);
    if (out == NULL) {
        free(box);
        return RL_ENOMEM;
    }
    relay__sealed_frame__pack(&f, out);
    free(box);
    *frame = out;
    *framelen = len;
    return RL_OK;
}

/* seal_unbox - open the box of f under k; the plaintext in *pt */
static int
seal_unbox(const uint8_t k[LINK_SEAL_KEY_LEN], const char *ad_label,
           const char *ad_from, const Relay__SealedFrame *f, uint8_t **pt,
           size_t *ptlen)
{
    unsigned long long mlen;
    uint8_t *ad, *m;
    size_t adlen;
    int rc;

    if ((ad = seal_ad(ad_label, ad_from, &adlen)) == NULL)
        return RL_ENOMEM;
    m = malloc(f->box.len - crypto_aead_xchacha20poly1305_ietf_ABYTES + 1);
    if (m == NULL) {
        free(ad);
        return RL_ENOMEM;
    }
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        m, &mlen, NULL, f->box.data, f->box.len, ad, adlen, f->nonce.data, k);
    free(ad);
    if (rc != 0) {
        free(m);
        return RL_ESIG;
    }
    *pt = m;
    *ptlen = (size_t)mlen;
    return RL_OK;
}

/* seal_check_box - the nonce and box fields of a frame are well-formed */
static int
seal_check_box(const Relay__SealedFrame *f, char *why, size_t whylen)
{
    if (f->nonce.len != LINK_SEAL_NONCE_LEN) {
        seal_why(why, whylen, "nonce is %zu bytes, not %d", f->nonce.len,
                 LINK_SEAL_NONCE_LEN);
        return RL_EINVAL;
    }
    if (f->box.len < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        seal_why(why, whylen, "box is %zu bytes, shorter than its tag",
                 f->box.len);
        return RL_EINVAL;
    }
    return RL_OK;
}

/* link_seal_request - child: ephemeral key, both secrets, k, sealed request */
int
link_seal_request(const struct keypair *self, const uint8_t parent_pk[KEYS_PK_LEN],
                  const char *from, const uint8_t *pt, size_t ptlen,
                  struct link_seal_ctx *ctx, uint8_t **frame, size_t *framelen,
                  char *why, size_t whylen)
{
    uint8_t p_x[X_LEN], c_x[X_LEN], e_sk[X_LEN], e_pk[X_LEN];
    uint8_t s1[X_LEN], s2[X_LEN];
    int rc = RL_OK;

    memset(ctx, 0, sizeof(*ctx));
    *frame = NULL;
    *framelen = 0;
    if (from == NULL || from[0] == '\0' || strlen(from) >= LINK_SEAL_FROM_MAX) {
        seal_why(why, whylen, "own node id is empty or too long");
        return RL_EINVAL;
    }
    if (seal_pk_x(parent_pk, p_x) != 0) {
        seal_why(why, whylen, "the parent's key is not usable for key agreement");
        return RL_ECONFIG;
    }
    if (seal_pk_x(self->pk, c_x) != 0) {
        seal_why(why, whylen, "own key is not usable for key agreement");
        return RL_ECONFIG;
    }
    randombytes_buf(e_sk, sizeof(e_sk));
    if (crypto_scalarmult_base(e_pk, e_sk) != 0 ||
        crypto_scalarmult(s1, e_sk, p_x) != 0 ||
        seal_static(self, p_x, s2) != 0) {
        seal_why(why, whylen, "key agreement with the parent's key failed");
        rc = RL_ECONFIG;
    }
    sodium_memzero(e_sk, sizeof(e_sk));
    if (rc == RL_OK) {
        seal_derive(s1, s2, e_pk, c_x, p_x, ctx->k);
        snprintf(ctx->from, sizeof(ctx->from), "%s", from);
        ctx->ready = 1;
        rc = seal_box(ctx->k, seal_ad_req, from, from, e_pk, pt, ptlen, frame,
                      framelen);
    }
    sodium_memzero(s1, sizeof(s1));
    sodium_memzero(s2, sizeof(s2));
    if (rc != RL_OK)
        link_seal_wipe(ctx);
    return rc;
}

/* link_open_reply - child: the reply opens under this request's key */
int
link_open_reply(const struct link_seal_ctx *ctx, const uint8_t *frame,
                size_t len, uint8_t **pt, size_t *ptlen, char *why, size_t whylen)
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
    if (f->error[0] || f->from[0] || f->eph.len) {
        seal_why(why, whylen, "reply carries request or refusal fields");
        rc = RL_EINVAL;
    } else if ((rc = seal_check_box(f, why, whylen)) == RL_OK &&
               (rc = seal_unbox(ctx->k, seal_ad_rep, ctx->from, f, pt, ptlen)) ==
                   RL_ESIG) {
        seal_why(why, whylen,
                 "reply does not open with the key of this request (not from the "
                 "holder of the parent's key, or altered)");
    }
    relay__sealed_frame__free_unpacked(f, NULL);
    return rc;
}

/* link_open_request - parent: check the frame and the sender, derive, open */
int
link_open_request(const struct keypair *self, link_seal_peer_fn lookup,
                  void *arg, const uint8_t *frame, size_t len,
                  struct link_seal_ctx *ctx, uint8_t **pt, size_t *ptlen,
                  char *why, size_t whylen)
{
    static const uint8_t zero[X_LEN];
    uint8_t c_pk[KEYS_PK_LEN], c_x[X_LEN], p_x[X_LEN], p_sk[X_LEN];
    uint8_t s1[X_LEN], s2[X_LEN];
    Relay__SealedFrame *f;
    int rc = RL_OK;

    memset(ctx, 0, sizeof(*ctx));
    *pt = NULL;
    *ptlen = 0;
    f = relay__sealed_frame__unpack(NULL, len, frame);
    if (f == NULL) {
        seal_why(why, whylen, "not a decodable SealedFrame");
        return RL_EINVAL;
    }
    if (f->from[0] == '\0' || strlen(f->from) >= LINK_SEAL_FROM_MAX) {
        seal_why(why, whylen, "sender id is empty or longer than %d bytes",
                 LINK_SEAL_FROM_MAX - 1);
        rc = RL_EINVAL;
        goto out;
    }
    seal_clean(f->from, ctx->from, sizeof(ctx->from));
    if (strcmp(ctx->from, f->from) != 0) {
        seal_why(why, whylen, "sender id '%s' holds control characters", ctx->from);
        rc = RL_EINVAL;
        goto out;
    }
    if (f->error[0]) {
        seal_why(why, whylen, "a request carries a refusal");
        rc = RL_EINVAL;
        goto out;
    }
    if (f->eph.len != X_LEN) {
        seal_why(why, whylen, "ephemeral key is %zu bytes, not %d", f->eph.len, X_LEN);
        rc = RL_EINVAL;
        goto out;
    }
    if ((rc = seal_check_box(f, why, whylen)) != RL_OK)
        goto out;
    /* who is it: nothing is derived for a node we do not serve */
    if ((rc = lookup(arg, f->from, c_pk, why, whylen)) != RL_OK)
        goto out;
    if (sodium_memcmp(f->eph.data, zero, X_LEN) == 0) {
        seal_why(why, whylen, "ephemeral key is all zero");
        rc = RL_ESIG;
        goto out;
    }
    if (seal_pk_x(c_pk, c_x) != 0) {
        seal_why(why, whylen,
                 "the directory key of '%s' is not usable for key agreement",
                 ctx->from);
        rc = RL_ECONFIG;
        goto out;
    }
    if (seal_pk_x(self->pk, p_x) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(p_sk, self->sk) != 0) {
        seal_why(why, whylen, "own key is not usable for key agreement");
        rc = RL_ECONFIG;
        goto out;
    }
    if (crypto_scalarmult(s1, p_sk, f->eph.data) != 0) {
        seal_why(why, whylen, "ephemeral key is of small order");
        rc = RL_ESIG;
    } else if (seal_static(self, c_x, s2) != 0) {
        seal_why(why, whylen, "the directory key of '%s' is of small order",
                 ctx->from);
        rc = RL_ECONFIG;
    } else {
        seal_derive(s1, s2, f->eph.data, c_x, p_x, ctx->k);
        rc = seal_unbox(ctx->k, seal_ad_req, f->from, f, pt, ptlen);
        if (rc == RL_ESIG)
            seal_why(why, whylen,
                     "box does not open with the keys of '%s' and this node "
                     "(another sender's key, sealed for another parent, or "
                     "altered)",
                     ctx->from);
        else if (rc == RL_OK)
            ctx->ready = 1;
    }
out:
    sodium_memzero(p_sk, sizeof(p_sk));
    sodium_memzero(s1, sizeof(s1));
    sodium_memzero(s2, sizeof(s2));
    relay__sealed_frame__free_unpacked(f, NULL);
    if (rc != RL_OK) {
        sodium_memzero(ctx->k, sizeof(ctx->k));
        ctx->ready = 0;
    }
    return rc;
}

/* link_seal_reply - parent: seal the reply under the request's key */
int
link_seal_reply(const struct link_seal_ctx *ctx, const uint8_t *pt,
                size_t ptlen, uint8_t **frame, size_t *framelen)
{
    *frame = NULL;
    *framelen = 0;
    if (!ctx->ready)
        return RL_EINVAL;
    return seal_box(ctx->k, seal_ad_rep, ctx->from, NULL, NULL, pt, ptlen,
                    frame, framelen);
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

/* link_seal_wipe - wipe the session key */
void
link_seal_wipe(struct link_seal_ctx *ctx)
{
    sodium_memzero(ctx, sizeof(*ctx));
}

/* link_seal_forget - wipe and release the cache of static secrets */
void
link_seal_forget(void)
{
    pthread_mutex_lock(&seal_cache_mu);
    if (seal_s2_cache)
        sodium_free(seal_s2_cache); /* fills with zeros first */
    seal_s2_cache = NULL;
    memset(seal_cache, 0, sizeof(seal_cache));
    pthread_mutex_unlock(&seal_cache_mu);
}
