/*
 * store_scan.c - the full scan of node/store_check.c (every record of any
 * db, in key order) and the corrupt queue: a damaged message is moved
 * there, as stored, never deleted.
 */
#include "store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ------------------------------------------------------------------------
 * The full scan (node/store_check.c) and the corrupt queue.
 */

/* store_dbi - a database by name; *tagged when its values end in a tag */
int
store_dbi(struct store *s, const char *db, MDB_dbi *dbi, int *tagged)
{
    static const char *names[] = {"messages", "incidents", "drills", "outbox", "dues",
                                  "corrupt", "seen", "advisories", "audit", "peers",
                                  "meta", "drill_notices", "dirlog", "held", "requests"};
    MDB_dbi all[] = {s->messages, s->incidents, s->drills, s->outbox, s->dues,
                     s->corrupt, s->seen, s->advisories, s->audit, s->peers,
                     s->meta, s->drill_notices, s->dirlog, s->held, s->requests};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(db, names[i]) == 0) {
            *dbi = all[i];
            *tagged = i < 3;
            return RL_OK;
        }
    if (strcmp(db, "receipts") == 0) { /* absent from a read-only old store */
        *dbi = s->receipts;
        *tagged = 0;
        return s->has_receipts ? RL_OK : RL_ENOTFOUND;
    }
    if (strcmp(db, "operators") == 0) { /* tagged like messages (issue 10) */
        *dbi = s->operators;
        *tagged = 1;
        return RL_OK;
    }
    return RL_EINVAL;
}

/* store_walk - every record of db in key order */
int
store_walk(struct store_txn *t, const char *db, store_walk_fn fn, void *arg)
{
    MDB_cursor *c;
    MDB_val k, v;
    MDB_dbi dbi;
    int tagged, rc, stop = 0;

    if ((rc = store_dbi(t->s, db, &dbi, &tagged)) != RL_OK)
        return rc;
    if ((rc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        size_t len = v.mv_size;
        int damaged = tagged && store_record_check(db, &k, &v, &len) != RL_OK;
        stop = fn(arg, k.mv_data, k.mv_size, v.mv_data, damaged ? v.mv_size : len, damaged);
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "walk");
}

/* store_has - 1 when db holds key, 0 when not, <0 on error */
int
store_has(struct store_txn *t, const char *db, const uint8_t *key, size_t klen)
{
    MDB_val k = {klen, (void *)key}, v;
    MDB_dbi dbi;
    int tagged, rc;

    if ((rc = store_dbi(t->s, db, &dbi, &tagged)) != RL_OK)
        return rc;
    rc = mdb_get(t->txn, dbi, &k, &v);
    return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_rc(rc, "read");
}

/* store_entries - the record count LMDB keeps for db */
int
store_entries(struct store_txn *t, const char *db, uint64_t *n)
{
    MDB_stat st;
    MDB_dbi dbi;
    int tagged, rc;

    if ((rc = store_dbi(t->s, db, &dbi, &tagged)) != RL_OK)
        return rc;
    if ((rc = mdb_stat(t->txn, dbi, &st)) != 0)
        return store_rc(rc, "stat");
    *n = st.ms_entries;
    return RL_OK;
}

/* store_outbox_drop_id - delete every outbox entry that names id */
static int
store_outbox_drop_id(struct store_txn *t, const uint8_t id[16], size_t *dropped)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    *dropped = 0;
    if ((rc = mdb_cursor_open(t->txn, t->s->outbox, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (v.mv_size != 16 || memcmp(v.mv_data, id, 16) != 0)
            continue;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        (*dropped)++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "drop outbox entry");
}

/* store_held_drop_id - end every hold of id (keys peer\0 id): a message
 * moved to corrupt is never queued again */
static int
store_held_drop_id(struct store_txn *t, const uint8_t id[16], size_t *dropped)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    *dropped = 0;
    if ((rc = mdb_cursor_open(t->txn, t->s->held, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= 16 || memcmp((uint8_t *)k.mv_data + k.mv_size - 16, id, 16) != 0)
            continue;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        (*dropped)++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "drop hold");
}

/* store_quarantine - move message id to corrupt with reason */
int
store_quarantine(struct store_txn *t, const uint8_t id[16], const char *reason,
                 int64_t at_us)
{
    Relay__CorruptRecord r = RELAY__CORRUPT_RECORD__INIT;
    MDB_val k = {16, (void *)id}, v, cv;
    char detail[256];
    size_t dropped, unheld;
    uint8_t *packed;
    int rc = mdb_get(t->txn, t->s->messages, &k, &v);

    if (rc != 0)
        return store_rc(rc, "read message"); /* RL_ENOTFOUND: moved already */
    r.db = (char *)"messages";
    r.key.data = (uint8_t *)id;
    r.key.len = 16;
    r.original.data = v.mv_data; /* valid only until the next write: packed now */
    r.original.len = v.mv_size;
    r.reason = (char *)reason;
    r.at_us = at_us;
    cv.mv_size = relay__corrupt_record__get_packed_size(&r);
    if ((packed = malloc(cv.mv_size)) == NULL)
        return RL_ENOMEM;
    relay__corrupt_record__pack(&r, packed);
    cv.mv_data = packed;
    rc = mdb_put(t->txn, t->s->corrupt, &k, &cv, 0);
    free(packed);
    if (rc != 0)
        return store_rc(rc, "write corrupt");
    if ((rc = mdb_del(t->txn, t->s->messages, &k, NULL)) != 0)
        return store_rc(rc, "remove message");
    if ((rc = store_outbox_drop_id(t, id, &dropped)) != RL_OK ||
        (rc = store_held_drop_id(t, id, &unheld)) != RL_OK)
        return rc;
    snprintf(detail, sizeof(detail), "%s; %zu outbox entries and %zu holds removed", reason,
             dropped, unheld);
    return store_audit(t, at_us, "quarantined", id, "", detail);
}
