/*
 * audit.h - signed audit heads and chain checks, for a parent to check a
 * child's log (issue "Trust", item 5).
 *
 * Every node's audit log is a hash chain (node/store.c). Its head, the
 * number of entries and the hash of them all, is signed by the node's key:
 * a node that later rewrote an entry before that head could not produce a
 * chain that ends in it. relayctl exports a child's head and entries; the
 * parent checks the signature against the directory, recomputes the chain,
 * and confirms it holds every message the child logged as forwarded to it.
 */
#ifndef RELAY_AUDIT_H
#define RELAY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keys.h"
#include "relay.pb-c.h"

/* audit_head_seal - sign (node, seq, hash, at) with kp into *out (malloc). */
int audit_head_seal(const char *node, uint64_t seq, const uint8_t hash[32], int64_t at_us,
                    const struct keypair *kp, uint8_t **out, size_t *len) RL_MUST_CHECK;

/* audit_head_open - verify a SignedAuditHead with pk and decode it into
 * *out (relay__audit_head__free_unpacked); *why on failure. */
int audit_head_open(const uint8_t *buf, size_t len, const uint8_t pk[32],
                    Relay__AuditHead **out, const char **why) RL_MUST_CHECK;

/* audit_chain - recompute a chain from its first entry: every entry must
 * decode, be numbered 1, 2, ... and name the hash of those before it.
 * Returns 0 with the final hash in hash; or -1 with *bad the first entry
 * that breaks the chain (1-based). */
int audit_chain(const ProtobufCBinaryData *v, size_t n, uint8_t hash[32], uint64_t *bad);

#endif
