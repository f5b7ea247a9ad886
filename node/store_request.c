/*
 * store_request.c - operator requests done once, recent report forms, and
 * paged reads of the record dbs (issue 8 findings 7 and 8).
 *
 * DIAGNOSTICS: LMDB failures are translated by store_rc.
 */
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---------------------------------------------------------------------------
 * Operator requests and paged reads (issue 8 findings 7 and 8). The requests
 * database holds three kinds of keys:
 *   'R' key(16)               -> at(8) answer: a request id's first answer
 *   'F' hash(16)              -> at(8) incident(16): a report form filed here
 *   'T' at(8) kind(1) key(16) -> empty: what to expire, oldest first
 */

/* req_key - one key of the requests database into k (buf of 26 bytes) */
static size_t
req_key(uint8_t *buf, char kind, const uint8_t key[16], int64_t at_us)
{
    if (kind == 'T') {
        buf[0] = 'T';
        put_u64(buf + 1, (uint64_t)at_us);
        return 10;
    }
    buf[0] = (uint8_t)kind;
    memcpy(buf + 1, key, 16);
    return 17;
}

/* req_put - 'R' or 'F' record plus its expiry entry */
static int
req_put(struct store_txn *t, char kind, const uint8_t key[16], int64_t at_us,
        const void *val, size_t len)
{
    uint8_t kb[26];
    MDB_val k = {req_key(kb, kind, key, at_us), kb}, v = {8 + len, NULL};
    int rc = mdb_put(t->txn, t->s->requests, &k, &v, MDB_RESERVE);

    if (rc != 0)
        return store_rc(rc, "write request");
    put_u64(v.mv_data, (uint64_t)at_us);
    memcpy((uint8_t *)v.mv_data + 8, val, len);
    req_key(kb, 'T', key, at_us);
    kb[9] = (uint8_t)kind;
    memcpy(kb + 10, key, 16);
    k.mv_size = 26;
    v.mv_size = 0;
    v.mv_data = kb; /* an empty value */
    return store_rc(mdb_put(t->txn, t->s->requests, &k, &v, 0), "write request");
}

/* req_get - an 'R' or 'F' record: time and a copy of the rest (malloc'd
 * with a NUL after it) */
static int
req_get(struct store_txn *t, char kind, const uint8_t key[16], int64_t *at_us,
        uint8_t **val, size_t *len)
{
    uint8_t kb[26];
    MDB_val k = {req_key(kb, kind, key, 0), kb}, v;
    int rc = mdb_get(t->txn, t->s->requests, &k, &v);

    if (rc != 0)
        return store_rc(rc, "read request");
    if (v.mv_size < 8)
        return RL_EIO;
    *at_us = (int64_t)get_u64(v.mv_data);
    *len = v.mv_size - 8;
    if ((*val = malloc(*len + 1)) == NULL)
        return RL_ENOMEM;
    memcpy(*val, (uint8_t *)v.mv_data + 8, *len);
    (*val)[*len] = '\0';
    return RL_OK;
}

/* store_request_get - the first answer to request key */
int
store_request_get(struct store_txn *t, const uint8_t key[16], int64_t *at_us,
                  char **answer)
{
    size_t len;

    return req_get(t, 'R', key, at_us, (uint8_t **)answer, &len);
}

/* store_request_put - remember the answer to request key */
int
store_request_put(struct store_txn *t, const uint8_t key[16], int64_t at_us,
                  const char *answer)
{
    return req_put(t, 'R', key, at_us, answer, strlen(answer));
}

/* store_form_get - when a report form with this hash was last filed here */
int
store_form_get(struct store_txn *t, const uint8_t hash[16], int64_t *at_us,
               uint8_t incident[16])
{
    uint8_t *val;
    size_t len;
    int rc = req_get(t, 'F', hash, at_us, &val, &len);

    if (rc != RL_OK)
        return rc;
    if (len != 16)
        rc = RL_EIO;
    else
        memcpy(incident, val, 16);
    free(val);
    return rc;
}

/* store_form_put - a report form with this hash filed now as incident */
int
store_form_put(struct store_txn *t, const uint8_t hash[16], int64_t at_us,
               const uint8_t incident[16])
{
    return req_put(t, 'F', hash, at_us, incident, 16);
}

/* store_requests_expire - forget up to max records older than before_us */
int
store_requests_expire(struct store_txn *t, int64_t before_us, size_t max, size_t *n)
{
    uint8_t kb[26], rk[26];
    MDB_cursor *c;
    MDB_val k = {1, kb}, v;
    int rc;

    *n = 0;
    kb[0] = 'T';
    if ((rc = mdb_cursor_open(t->txn, t->s->requests, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && *n < max;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *p = k.mv_data;
        MDB_val rkv, rv;
        if (k.mv_size != 26 || p[0] != 'T' || (int64_t)get_u64(p + 1) >= before_us)
            break;
        /* the record itself, unless a newer one replaced it */
        rkv.mv_size = req_key(rk, (char)p[9], p + 10, 0);
        rkv.mv_data = rk;
        if ((rc = mdb_get(t->txn, t->s->requests, &rkv, &rv)) != 0 && rc != MDB_NOTFOUND)
            break; /* an unreadable record is not "none": the time entry stays */
        if (rc == 0 && rv.mv_size >= 8 && get_u64(rv.mv_data) == get_u64(p + 1) &&
            (rc = mdb_del(t->txn, t->s->requests, &rkv, NULL)) != 0)
            break;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        (*n)++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "expire requests");
}

/* store_page_ids - up to max ids of db after the id after (NULL: from the
 * first), in key order */
int
store_page_ids(struct store_txn *t, const char *db, const uint8_t *after, size_t max,
               uint8_t *ids, size_t *n, int *more)
{
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val k = {16, (void *)after}, v;
    int tagged, rc;

    *n = 0;
    *more = 0;
    if ((rc = store_dbi(t->s, db, &dbi, &tagged)) != RL_OK)
        return rc;
    if ((rc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
        return store_rc(rc, "cursor");
    rc = after ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (rc == 0 && after && k.mv_size == 16 && memcmp(k.mv_data, after, 16) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16)
            continue;
        if (*n == max) {
            *more = 1;
            break;
        }
        memcpy(ids + 16 * (*n)++, k.mv_data, 16);
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "list");
}

