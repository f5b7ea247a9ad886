/*
 * store_receipt.c - advisory receipts (issue 11, R-ADVISORY).
 *
 * receipts: id(16) node -> delivered(8, big endian) read(8). At an
 * advisory's author, one record per recipient that sent a receipt: when it
 * stored the advisory, when an operator there marked it read. At a
 * recipient, its own record says when it was read here. Times only ever
 * move from 0 to the first value reported: a receipt sent twice (a retry,
 * two operators) changes nothing.
 * DIAGNOSTICS: a record of the wrong size is RL_ECORRUPT.
 */
#include <string.h>

#include "store.h"
#include "store_impl.h"

#define RCPT_NODE_MAX 64

/* rcpt_key - id || node into key (17..80 bytes); -1 if node is too long */
static int
rcpt_key(const uint8_t id[16], const char *node, uint8_t key[16 + RCPT_NODE_MAX], MDB_val *k)
{
    size_t len = strlen(node);

    if (len == 0 || len > RCPT_NODE_MAX)
        return -1;
    memcpy(key, id, 16);
    memcpy(key + 16, node, len);
    k->mv_size = 16 + len;
    k->mv_data = key;
    return 0;
}

/* store_receipt_get - the times recorded for id at node */
int
store_receipt_get(struct store_txn *t, const uint8_t id[16], const char *node,
                  int64_t *delivered_us, int64_t *read_us)
{
    uint8_t key[16 + RCPT_NODE_MAX];
    MDB_val k, v;
    int rc;

    *delivered_us = *read_us = 0;
    if (!t->s->has_receipts || rcpt_key(id, node, key, &k) != 0)
        return RL_ENOTFOUND;
    if ((rc = mdb_get(t->txn, t->s->receipts, &k, &v)) != 0)
        return store_rc(rc, "read receipt");
    if (v.mv_size != 16)
        return RL_ECORRUPT;
    *delivered_us = (int64_t)get_u64(v.mv_data);
    *read_us = (int64_t)get_u64((const uint8_t *)v.mv_data + 8);
    return RL_OK;
}

/* store_receipt_note - merge delivered and read (0: unknown) into the
 * record of id at node: a time already known stays */
int
store_receipt_note(struct store_txn *t, const uint8_t id[16], const char *node,
                   int64_t delivered_us, int64_t read_us)
{
    uint8_t key[16 + RCPT_NODE_MAX], val[16];
    int64_t d, r;
    MDB_val k, v = {sizeof(val), val};
    int rc = store_receipt_get(t, id, node, &d, &r);

    if (rc != RL_OK && rc != RL_ENOTFOUND)
        return rc;
    if (rcpt_key(id, node, key, &k) != 0)
        return RL_EINVAL;
    if (d == 0)
        d = delivered_us;
    else if (r != 0 || read_us == 0)
        return RL_OK; /* nothing new */
    if (r == 0)
        r = read_us;
    if (d == 0 && r == 0)
        return RL_OK;
    put_u64(val, (uint64_t)d);
    put_u64(val + 8, (uint64_t)r);
    return store_rc(mdb_put(t->txn, t->s->receipts, &k, &v, 0), "write receipt");
}

/* store_receipt_each - every node recorded for id */
int
store_receipt_each(struct store_txn *t, const uint8_t id[16], store_receipt_fn fn, void *arg)
{
    MDB_cursor *c;
    MDB_val k = {16, (void *)id}, v;
    char node[RCPT_NODE_MAX + 1];
    int rc, out = 0;

    if (!t->s->has_receipts)
        return RL_OK;
    if ((rc = mdb_cursor_open(t->txn, t->s->receipts, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= 16 || memcmp(k.mv_data, id, 16) != 0)
            break;
        if (k.mv_size > 16 + RCPT_NODE_MAX || v.mv_size != 16) {
            out = RL_ECORRUPT;
            break;
        }
        memcpy(node, (const uint8_t *)k.mv_data + 16, k.mv_size - 16);
        node[k.mv_size - 16] = '\0';
        if ((out = fn(arg, node, (int64_t)get_u64(v.mv_data),
                      (int64_t)get_u64((const uint8_t *)v.mv_data + 8))) != 0)
            break;
    }
    mdb_cursor_close(c);
    if (out)
        return out;
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "list receipts");
}
