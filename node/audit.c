/*
 * audit.c - sign an audit head; recompute a chain.
 *
 * DIAGNOSTICS: audit_head_open names what failed (decode, signature);
 * audit_chain names the first entry that breaks the chain.
 */
#include "audit.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* audit_head_seal - serialize and sign a head */
int
audit_head_seal(const char *node, uint64_t seq, const uint8_t hash[32], int64_t at_us,
                const struct keypair *kp, uint8_t **out, size_t *len)
{
    Relay__AuditHead h = RELAY__AUDIT_HEAD__INIT;
    Relay__SignedAuditHead s = RELAY__SIGNED_AUDIT_HEAD__INIT;
    uint8_t sig[crypto_sign_BYTES], *hb;
    size_t hl;

    h.node = (char *)node;
    h.seq = seq;
    h.hash.data = (uint8_t *)hash;
    h.hash.len = 32;
    h.at_us = at_us;
    hl = relay__audit_head__get_packed_size(&h);
    if ((hb = malloc(hl)) == NULL)
        return RL_ENOMEM;
    relay__audit_head__pack(&h, hb);
    crypto_sign_detached(sig, NULL, hb, hl, kp->sk);
    s.head.data = hb;
    s.head.len = hl;
    s.signature.data = sig;
    s.signature.len = sizeof(sig);
    *len = relay__signed_audit_head__get_packed_size(&s);
    if ((*out = malloc(*len)) == NULL) {
        free(hb);
        return RL_ENOMEM;
    }
    relay__signed_audit_head__pack(&s, *out);
    free(hb);
    return RL_OK;
}

/* audit_head_open - verify, decode */
int
audit_head_open(const uint8_t *buf, size_t len, const uint8_t pk[32],
                Relay__AuditHead **out, const char **why)
{
    Relay__SignedAuditHead *s = relay__signed_audit_head__unpack(NULL, len, buf);

    *out = NULL;
    if (s == NULL) {
        *why = "the signed audit head does not decode";
        return RL_EINVAL;
    }
    if (s->signature.len != crypto_sign_BYTES ||
        crypto_sign_verify_detached(s->signature.data, s->head.data, s->head.len, pk) != 0) {
        relay__signed_audit_head__free_unpacked(s, NULL);
        *why = "the audit head is not signed by the node's directory key";
        return RL_EINVAL;
    }
    *out = relay__audit_head__unpack(NULL, s->head.len, s->head.data);
    relay__signed_audit_head__free_unpacked(s, NULL);
    if (*out == NULL || (*out)->hash.len != 32) {
        if (*out)
            relay__audit_head__free_unpacked(*out, NULL);
        *out = NULL;
        *why = "the audit head does not decode";
        return RL_EINVAL;
    }
    return RL_OK;
}

/* audit_chain - from entry 1, each names the hash of the ones before */
int
audit_chain(const ProtobufCBinaryData *v, size_t n, uint8_t hash[32], uint64_t *bad)
{
    uint8_t h[32] = {0};

    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        Relay__AuditEntry *e = relay__audit_entry__unpack(NULL, v[i].len, v[i].data);
        int ok = e && e->seq == i + 1 && e->prev_hash.len == 32 &&
                 memcmp(e->prev_hash.data, h, 32) == 0;
        if (e)
            relay__audit_entry__free_unpacked(e, NULL);
        if (!ok) {
            *bad = i + 1;
            return -1;
        }
        store_audit_link(h, v[i].data, v[i].len, h);
    }
    memcpy(hash, h, 32);
    return 0;
}
