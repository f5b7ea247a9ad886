/*
 * store_impl.h - what the store's own files share (store.c, store_file.c,
 * store_request.c, store_scan.c); nothing outside node/store*.c includes it.
 *
 * Values read from LMDB live only until their transaction ends: every
 * function here copies what it returns.
 */
#ifndef RELAY_STORE_IMPL_H
#define RELAY_STORE_IMPL_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store {
    MDB_env *env;
    MDB_dbi messages, seen, outbox, incidents, advisories, audit, peers, meta;
    MDB_dbi dues, drills, drill_notices, dirlog;
    MDB_dbi held;
    MDB_dbi requests; /* operator requests and recent forms (issue 8) */
    MDB_dbi corrupt;
    MDB_dbi operators; /* accounts of the HTTP API (issue 10, store_operator.c) */
    MDB_dbi receipts;  /* advisory receipts (issue 11, store_receipt.c) */
    int has_receipts;  /* 0: a read-only open of a store made before them */
    char dir[4096];
    pthread_rwlock_t resize;
    int64_t map_bytes, map_max_bytes;
    int readonly;
    uint64_t outbox_seq; /* committed values */
    uint64_t audit_seq;
    uint8_t audit_hash[32];
    /* store_on_queue: told after each commit which peers got outbox entries */
    void (*on_queue)(void *arg, const char *peer);
    void *on_queue_arg;
};

/* store_rc - translate an LMDB code into RL_* (logging what failed). */
int store_rc(int rc, const char *what);

/* put_u64, get_u64 - big-endian 8-byte integers (keys sort by them). */
static inline void
put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t
get_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* store_meta_get - a fixed-size meta value, zeroed when absent. */
int store_meta_get(MDB_txn *txn, MDB_dbi meta, const char *name, void *out, size_t len);
int store_meta_put(struct store_txn *t, const char *name, const void *val, size_t len);

/* Record tags (STORE_TAG_LEN bytes of BLAKE2b over key and value, at the
 * end of each value of a tagged db): store_record_check cuts and checks it
 * (*len is the payload's length; RL_ECORRUPT logged with db and key when
 * it does not match), store_record_reserve makes room for len bytes plus
 * the tag (*at is where the payload goes), store_record_seal writes the
 * tag after the payload is in place. */
void store_record_tag(const MDB_val *k, const uint8_t *val, size_t len,
                      uint8_t out[STORE_TAG_LEN]);
int store_record_check(const char *db, const MDB_val *k, const MDB_val *v, size_t *len);
int store_record_reserve(struct store_txn *t, MDB_dbi dbi, MDB_val *k, size_t len,
                         uint8_t **at);
void store_record_seal(const MDB_val *k, uint8_t *p, size_t len);
/* store_key_hex - a key in hex for log lines (cut to outlen). */
void store_key_hex(const MDB_val *k, char *out, size_t outlen);
/* store_dbi - a named db's handle (and whether its values carry a tag);
 * RL_EINVAL for a name that is not one of the store's dbs. */
int store_dbi(struct store *s, const char *db, MDB_dbi *dbi, int *tagged);
/* store_outbox_prefix - "peer\0" into key; its length. */
size_t store_outbox_prefix(const char *peer, uint8_t *key);

#endif
