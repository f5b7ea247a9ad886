/*
 * store_operator.c - operator accounts of the HTTP API in the store's
 * `operators` db (issue 10 item 4): name -> OperatorRecord, tagged.
 *
 * DIAGNOSTICS: a record whose tag does not match, or that does not decode,
 * is logged with its key and returned as RL_ECORRUPT, never skipped: a list
 * with a damaged account fails rather than hiding it.
 *
 * SECURITY: a record holds the argon2id string of crypto_pwhash_str, never
 * a password. The tag (unkeyed) finds damage at rest, such as a flipped
 * byte in a role, not a forger with the file.
 */
#include "store_impl.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* operator_key - the key of name; RL_EINVAL for an empty or long name */
static int
operator_key(const char *name, MDB_val *k)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len >= STORE_PEER_MAX)
        return RL_EINVAL;
    k->mv_size = len;
    k->mv_data = (void *)name;
    return RL_OK;
}

/* operator_decode - check the tag of (k, v) and decode it into *out */
static int
operator_decode(const MDB_val *k, const MDB_val *v, Relay__OperatorRecord **out)
{
    char hex[81];
    size_t len;
    int rc;

    *out = NULL;
    if ((rc = store_record_check("operators", k, v, &len)) != RL_OK)
        return rc;
    *out = relay__operator_record__unpack(NULL, len, v->mv_data);
    if (*out == NULL) {
        store_key_hex(k, hex, sizeof(hex));
        log_warn("store: damaged record: db operators key %s: does not decode", hex);
        return RL_ECORRUPT;
    }
    return RL_OK;
}

/* store_operator_get - the account called name */
int
store_operator_get(struct store_txn *t, const char *name, Relay__OperatorRecord **out)
{
    MDB_val k, v;
    int rc;

    *out = NULL;
    if ((rc = operator_key(name, &k)) != RL_OK)
        return rc == RL_EINVAL ? RL_ENOTFOUND : rc; /* no such name can be stored */
    if ((rc = mdb_get(t->txn, t->s->operators, &k, &v)) != 0)
        return store_rc(rc, "read operator");
    return operator_decode(&k, &v, out);
}

/* store_operator_put - write r under r->name, with its tag */
int
store_operator_put(struct store_txn *t, const Relay__OperatorRecord *r)
{
    MDB_val k;
    uint8_t *at;
    size_t len;
    int rc;

    if ((rc = operator_key(r->name, &k)) != RL_OK)
        return rc;
    len = relay__operator_record__get_packed_size(r);
    rc = store_record_reserve(t, t->s->operators, &k, len, &at);
    if (rc == 0) {
        relay__operator_record__pack(r, at);
        store_record_seal(&k, at, len);
    }
    return store_rc(rc, "write operator");
}

/* store_operator_list_free - free a list and its records */
void
store_operator_list_free(Relay__OperatorRecord **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        relay__operator_record__free_unpacked(v[i], NULL);
    free(v);
}

/* store_operator_list - every account, in name order */
int
store_operator_list(struct store_txn *t, Relay__OperatorRecord ***v, size_t *n)
{
    Relay__OperatorRecord **all = NULL, *r;
    size_t cnt = 0, cap = 0;
    MDB_cursor *c;
    MDB_val k, val;
    int rc, mrc;

    *v = NULL;
    *n = 0;
    if ((mrc = mdb_cursor_open(t->txn, t->s->operators, &c)) != 0)
        return store_rc(mrc, "cursor");
    rc = RL_OK;
    for (mrc = mdb_cursor_get(c, &k, &val, MDB_FIRST); mrc == 0 && rc == RL_OK;
         mrc = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
        if (cnt == cap) {
            size_t nc = cap ? 2 * cap : 8;
            Relay__OperatorRecord **na = realloc(all, nc * sizeof(*na));
            if (na == NULL) {
                rc = RL_ENOMEM;
                break;
            }
            all = na;
            cap = nc;
        }
        if ((rc = operator_decode(&k, &val, &r)) == RL_OK)
            all[cnt++] = r;
    }
    mdb_cursor_close(c);
    if (rc == RL_OK && mrc != MDB_NOTFOUND)
        rc = store_rc(mrc, "read operators");
    if (rc != RL_OK) {
        store_operator_list_free(all, cnt);
        return rc;
    }
    *v = all;
    *n = cnt;
    return RL_OK;
}
