/*
 * store.c - LMDB storage for messages, outboxes, incidents and the audit log.
 *
 * DIAGNOSTICS: LMDB codes are translated here: MDB_MAP_FULL -> RL_EFULL,
 * MDB_NOTFOUND -> RL_ENOTFOUND, MDB_CORRUPTED/PAGE_NOTFOUND/INVALID and a
 * record whose tag does not match -> RL_ECORRUPT (logged with db and key),
 * ENOSPC/EDQUOT, or EIO from a commit on a disk with under 1 MiB free (LMDB
 * reports a short write as EIO) -> RL_ENOSPC "disk full", anything else ->
 * RL_EIO (logged with mdb_strerror). A commit that fails leaves the store as it was before the
 * transaction: LMDB's copy-on-write guarantees it.
 *
 * SECURITY: the tags find damage at rest, not a forger with the file and
 * this code (they are unkeyed): `store check` re-verifies every message's
 * author signature for that. data.mdb is judged by its meta pages, read
 * with pread, before LMDB maps it (node/store_file.c).
 *
 * The map is resized under a process-wide rwlock: every transaction holds
 * it shared, store_grow holds it exclusive, as mdb_env_set_mapsize requires
 * that no transaction of this process is open.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "store_impl.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "log.h"


/* store_rc - translate an LMDB code */
int
store_rc(int rc, const char *what)
{
    if (rc == 0)
        return RL_OK;
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
        return RL_EFULL;
    if (rc == MDB_NOTFOUND)
        return RL_ENOTFOUND;
    if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID) {
        log_warn("store: %s: damaged store file: %s", what, mdb_strerror(rc));
        return RL_ECORRUPT;
    }
    if (rc == ENOSPC || rc == EDQUOT) {
        log_warn("store: %s: disk full (%s)", what, strerror(rc));
        return RL_ENOSPC;
    }
    log_warn("store: %s: %s", what, mdb_strerror(rc));
    return RL_EIO;
}

/* store_meta_get - read a counter or hash from meta, zero if absent */
int
store_meta_get(MDB_txn *txn, MDB_dbi meta, const char *name, void *out,
               size_t len)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, meta, &k, &v);

    memset(out, 0, len);
    if (rc == MDB_NOTFOUND)
        return RL_OK;
    if (rc != 0)
        return store_rc(rc, "read meta");
    if (v.mv_size != len)
        return RL_ECORRUPT;
    memcpy(out, v.mv_data, len);
    return RL_OK;
}

int
store_meta_put(struct store_txn *t, const char *name, const void *val,
               size_t len)
{
    MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)val};

    return store_rc(mdb_put(t->txn, t->s->meta, &k, &v, 0), "write meta");
}

/* store_open - environment, databases, committed counters */
int
store_open(const char *dir, int64_t map_mb, int64_t map_max_mb, int readonly,
           struct store **out)
{
    struct store *s = calloc(1, sizeof(*s));
    MDB_txn *txn = NULL;
    MDB_envinfo info;
    uint8_t buf[8];
    int rc;

    if (s == NULL)
        return RL_ENOMEM;
    pthread_rwlockattr_t ra;

    /* writer-preferring: held polls re-read after every commit and must not
     * starve a map resize */
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->resize, &ra);
    pthread_rwlockattr_destroy(&ra);
    s->readonly = readonly;
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    s->map_bytes = map_mb << 20;
    s->map_max_bytes = map_max_mb << 20;
    if (!readonly && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_warn("store: cannot create %s: %s", dir, strerror(errno));
        free(s);
        return RL_EIO;
    }
    if ((rc = mdb_env_create(&s->env)) != 0)
        goto fail;
    mdb_env_set_maxdbs(s->env, 32);
    mdb_env_set_maxreaders(s->env, 256);
    if (!readonly && (rc = mdb_env_set_mapsize(s->env, (size_t)s->map_bytes)) != 0)
        goto fail;
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | (readonly ? MDB_RDONLY : 0), 0600);
    if (rc != 0)
        goto fail;
    /* an existing store may already be larger than map_mb */
    mdb_env_info(s->env, &info);
    if ((int64_t)info.me_mapsize > s->map_bytes)
        s->map_bytes = (int64_t)info.me_mapsize;
    if ((rc = mdb_txn_begin(s->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0)
        goto fail;
    unsigned flags = readonly ? 0 : MDB_CREATE;
    if ((rc = mdb_dbi_open(txn, "messages", flags, &s->messages)) ||
        (rc = mdb_dbi_open(txn, "seen", flags, &s->seen)) ||
        (rc = mdb_dbi_open(txn, "outbox", flags, &s->outbox)) ||
        (rc = mdb_dbi_open(txn, "incidents", flags, &s->incidents)) ||
        (rc = mdb_dbi_open(txn, "advisories", flags, &s->advisories)) ||
        (rc = mdb_dbi_open(txn, "audit", flags, &s->audit)) ||
        (rc = mdb_dbi_open(txn, "peers", flags, &s->peers)) ||
        (rc = mdb_dbi_open(txn, "meta", flags, &s->meta)) ||
        (rc = mdb_dbi_open(txn, "dues", flags, &s->dues)) ||
        (rc = mdb_dbi_open(txn, "drills", flags, &s->drills)) ||
        (rc = mdb_dbi_open(txn, "drill_notices", flags, &s->drill_notices)) ||
        (rc = mdb_dbi_open(txn, "dirlog", flags, &s->dirlog)) ||
        (rc = mdb_dbi_open(txn, "held", flags, &s->held)) ||
        (rc = mdb_dbi_open(txn, "requests", flags, &s->requests)) ||
        (rc = mdb_dbi_open(txn, "corrupt", flags, &s->corrupt)) ||
        (rc = mdb_dbi_open(txn, "operators", flags, &s->operators)))
        goto fail;
    /* issue 11: a store made before receipts opens read-only without them */
    rc = mdb_dbi_open(txn, "receipts", flags, &s->receipts);
    if (rc != 0 && !(readonly && rc == MDB_NOTFOUND))
        goto fail;
    s->has_receipts = rc == 0;
    if (store_meta_get(txn, s->meta, "outbox_seq", buf, 8) ||
        store_meta_get(txn, s->meta, "audit_hash", s->audit_hash, 32)) {
        rc = EIO;
        goto fail;
    }
    s->outbox_seq = get_u64(buf);
    if (store_meta_get(txn, s->meta, "audit_seq", buf, 8)) {
        rc = EIO;
        goto fail;
    }
    s->audit_seq = get_u64(buf);
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto fail;
    }
    *out = s;
    return RL_OK;
fail:
    log_warn("store: cannot open %s: %s", dir, mdb_strerror(rc));
    if (txn)
        mdb_txn_abort(txn);
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->resize);
    free(s);
    return RL_EIO;
}

/* store_close - close the environment */
void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->resize);
    free(s);
}

static void store_queued_free(struct store_txn *t);

/* store_begin - open a transaction under the shared resize lock */
int
store_begin(struct store *s, int write, struct store_txn *t)
{
    int rc;

    memset(t, 0, sizeof(*t));
    t->s = s;
    t->write = write;
    pthread_rwlock_rdlock(&s->resize);
    rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
    if (rc != 0) {
        pthread_rwlock_unlock(&s->resize);
        t->txn = NULL;
        return store_rc(rc, "begin");
    }
    if (write) {
        t->outbox_seq = s->outbox_seq;
        t->audit_seq = s->audit_seq;
        memcpy(t->audit_hash, s->audit_hash, 32);
    }
    return RL_OK;
}

/* store_disk_low - under 1 MiB left for us on the store's file system:
 * LMDB turns a short write (the usual way a full disk shows) into EIO */
static int
store_disk_low(const struct store *s)
{
    struct statvfs fs;

    if (statvfs(s->dir, &fs) != 0)
        return 0;
    return (uint64_t)fs.f_bavail * fs.f_frsize < (1u << 20);
}

/* store_commit - durable commit, then publish the working counters */
int
store_commit(struct store_txn *t)
{
    uint8_t buf[8];
    int rc;

    if (t->write) {
        put_u64(buf, t->outbox_seq);
        rc = store_meta_put(t, "outbox_seq", buf, 8);
        if (rc == RL_OK) {
            put_u64(buf, t->audit_seq);
            rc = store_meta_put(t, "audit_seq", buf, 8);
        }
        if (rc == RL_OK)
            rc = store_meta_put(t, "audit_hash", t->audit_hash, 32);
        if (rc != RL_OK) {
            store_abort(t);
            return rc;
        }
    }
    rc = mdb_txn_commit(t->txn); /* fsyncs: nothing is acknowledged before this */
    t->txn = NULL;
    pthread_rwlock_unlock(&t->s->resize);
    if (rc == 0 && t->s->on_queue)
        for (size_t i = 0; i < t->n_queued; i++)
            t->s->on_queue(t->s->on_queue_arg, t->queued[i]);
    store_queued_free(t);
    if (rc == EIO && store_disk_low(t->s))
        rc = ENOSPC; /* LMDB reports a short write as EIO */
    if (rc != 0)
        return store_rc(rc, "commit");
    if (t->write) {
        t->s->outbox_seq = t->outbox_seq;
        t->s->audit_seq = t->audit_seq;
        memcpy(t->s->audit_hash, t->audit_hash, 32);
    }
    return RL_OK;
}

/* store_abort - drop the transaction */
void
store_abort(struct store_txn *t)
{
    store_queued_free(t);
    if (t->txn == NULL)
        return;
    mdb_txn_abort(t->txn);
    t->txn = NULL;
    pthread_rwlock_unlock(&t->s->resize);
}

/* store_grow - double the map size up to the configured limit */
int
store_grow(struct store *s)
{
    int64_t next;
    int rc;

    if (s->map_bytes >= s->map_max_bytes)
        return RL_EFULL;
    next = s->map_bytes * 2;
    if (next > s->map_max_bytes)
        next = s->map_max_bytes;
    pthread_rwlock_wrlock(&s->resize);
    rc = mdb_env_set_mapsize(s->env, (size_t)next);
    if (rc == 0)
        s->map_bytes = next;
    pthread_rwlock_unlock(&s->resize);
    if (rc != 0)
        return store_rc(rc, "grow map");
    log_info("store: map grown to %lld MiB", (long long)(next >> 20));
    return RL_OK;
}

/* store_free_pages - pages on LMDB's freelist, reusable by new writes.
 * Each freelist record is an IDL: a count followed by that many pages. */
static uint64_t
store_free_pages(struct store *s)
{
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t n = 0;

    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return 0;
    if (mdb_cursor_open(txn, 0, &c) == 0) {
        while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0)
            if (v.mv_size >= sizeof(size_t))
                n += *(const size_t *)v.mv_data;
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    return n;
}

/* store_nearly_full - at the limit and over 90% of it in use. The page
 * high-water mark never drops, so freed pages are subtracted: a store that
 * drained its outboxes accepts work again. */
int
store_nearly_full(struct store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    uint64_t used;

    if (s->map_bytes < s->map_max_bytes)
        return 0;
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &st);
    used = info.me_last_pgno + 1;
    if ((int64_t)used * st.ms_psize * 10 <= s->map_bytes * 9)
        return 0;
    used -= store_free_pages(s);
    return (int64_t)used * st.ms_psize * 10 > s->map_bytes * 9;
}

int64_t
store_map_max_mb(const struct store *s)
{
    return s->map_max_bytes >> 20;
}

/* record_tag - BLAKE2b-128 over the key and the value: a record moved to
 * another key fails as surely as a changed byte */
void
store_record_tag(const MDB_val *k, const uint8_t *val, size_t len, uint8_t out[STORE_TAG_LEN])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, STORE_TAG_LEN);
    crypto_generichash_update(&st, k->mv_data, k->mv_size);
    crypto_generichash_update(&st, val, len);
    crypto_generichash_final(&st, out, STORE_TAG_LEN);
}

/* store_key_hex - a key for a log line: hex, cut at 40 bytes */
void
store_key_hex(const MDB_val *k, char *out, size_t outlen)
{
    size_t n = k->mv_size < 40 ? k->mv_size : 40;

    sodium_bin2hex(out, outlen < 2 * n + 1 ? outlen : 2 * n + 1, k->mv_data, n);
}

/* record_check - RL_OK when value v of key k in db ends in its tag; else
 * logs the damaged record and returns RL_ECORRUPT. *len: the payload. */
int
store_record_check(const char *db, const MDB_val *k, const MDB_val *v, size_t *len)
{
    uint8_t tag[STORE_TAG_LEN];
    char hex[81];

    if (v->mv_size >= STORE_TAG_LEN) {
        *len = v->mv_size - STORE_TAG_LEN;
        store_record_tag(k, v->mv_data, *len, tag);
        if (sodium_memcmp(tag, (const uint8_t *)v->mv_data + *len, STORE_TAG_LEN) == 0)
            return RL_OK;
    }
    store_key_hex(k, hex, sizeof(hex));
    log_warn("store: damaged record: db %s key %s: checksum does not match", db, hex);
    return RL_ECORRUPT;
}

/* record_reserve - put key k with room for len payload bytes and the tag;
 * *at is where the caller writes the payload, then calls record_seal */
int
store_record_reserve(struct store_txn *t, MDB_dbi dbi, MDB_val *k, size_t len, uint8_t **at)
{
    MDB_val v = {len + STORE_TAG_LEN, NULL};
    int rc = mdb_put(t->txn, dbi, k, &v, MDB_RESERVE);

    *at = rc == 0 ? v.mv_data : NULL;
    return rc;
}

/* record_seal - write the tag after the len payload bytes at p */
void
store_record_seal(const MDB_val *k, uint8_t *p, size_t len)
{
    store_record_tag(k, p, len, p + len);
}

/* store_seen - 1 if the id was stored before, 0 if not, <0 on error */
int
store_seen(struct store_txn *t, const uint8_t id[16])
{
    MDB_val k = {16, (void *)id}, v;
    int rc = mdb_get(t->txn, t->s->seen, &k, &v);

    if (rc == MDB_NOTFOUND)
        return 0;
    return rc == 0 ? 1 : store_rc(rc, "read seen");
}

/* store_put_message - message and its seen mark */
int
store_put_message(struct store_txn *t, const uint8_t id[16],
                  const uint8_t *env, size_t len, int64_t at_us)
{
    MDB_val k = {16, (void *)id};
    uint8_t when[8], *at;
    MDB_val w = {8, when};
    int rc;

    put_u64(when, (uint64_t)at_us);
    rc = store_record_reserve(t, t->s->messages, &k, len, &at);
    if (rc == 0) {
        memcpy(at, env, len);
        store_record_seal(&k, at, len);
    }
    if (rc == 0)
        rc = mdb_put(t->txn, t->s->seen, &k, &w, MDB_NOOVERWRITE);
    return store_rc(rc, "write message");
}

/* store_get_message - copy of a stored envelope */
int
store_get_message(struct store_txn *t, const uint8_t id[16], uint8_t **out,
                  size_t *len)
{
    MDB_val k = {16, (void *)id}, v;
    int rc = mdb_get(t->txn, t->s->messages, &k, &v);
    size_t n;

    if (rc != 0)
        return store_rc(rc, "read message");
    if ((rc = store_record_check("messages", &k, &v, &n)) != RL_OK)
        return rc;
    *out = malloc(n ? n : 1);
    if (*out == NULL)
        return RL_ENOMEM;
    memcpy(*out, v.mv_data, n);
    *len = n;
    return RL_OK;
}

/* outbox_prefix - "peer\0" */
size_t
store_outbox_prefix(const char *peer, uint8_t *key)
{
    size_t n = strlen(peer);

    if (n >= STORE_PEER_MAX)
        n = STORE_PEER_MAX - 1;
    memcpy(key, peer, n);
    key[n] = 0;
    return n + 1;
}

/* store_queued_note - remember that peer got an outbox entry in t (told
 * to on_queue at commit); the last few peers are not noted twice */
static int
store_queued_note(struct store_txn *t, const char *peer)
{
    for (size_t i = t->n_queued, k = 0; i > 0 && k < 4; i--, k++)
        if (strcmp(t->queued[i - 1], peer) == 0)
            return RL_OK;
    if (t->n_queued == t->cap_queued) {
        size_t cap = t->cap_queued ? 2 * t->cap_queued : 16;
        char (*q)[STORE_PEER_MAX] = realloc(t->queued, cap * sizeof(*q));
        if (q == NULL)
            return RL_ENOMEM;
        t->queued = q;
        t->cap_queued = cap;
    }
    snprintf(t->queued[t->n_queued++], STORE_PEER_MAX, "%s", peer);
    return RL_OK;
}

/* store_queued_free - forget the peers noted in t */
static void
store_queued_free(struct store_txn *t)
{
    free(t->queued);
    t->queued = NULL;
    t->n_queued = t->cap_queued = 0;
}

/* store_on_queue - set the commit hook */
void
store_on_queue(struct store *s, void (*fn)(void *arg, const char *peer), void *arg)
{
    s->on_queue = fn;
    s->on_queue_arg = arg;
}

/* store_outbox_add - queue id for peer */
int
store_outbox_add(struct store_txn *t, const char *peer, uint8_t prio,
                 const uint8_t id[16])
{
    uint8_t key[STORE_KEY_MAX];
    size_t n = store_outbox_prefix(peer, key);
    MDB_val k, v = {16, (void *)id};
    int rc;

    key[n] = prio;
    put_u64(key + n + 1, ++t->outbox_seq);
    k.mv_size = n + 9;
    k.mv_data = key;
    rc = store_rc(mdb_put(t->txn, t->s->outbox, &k, &v, MDB_NOOVERWRITE), "queue");
    return rc == RL_OK ? store_queued_note(t, peer) : rc;
}

/* store_outbox_first - the head of peer's outbox */
int
store_outbox_first(struct store_txn *t, const char *peer, size_t max,
                   struct outbox_item *items, size_t *n)
{
    uint8_t prefix[STORE_KEY_MAX];
    size_t plen = store_outbox_prefix(peer, prefix);
    MDB_cursor *c;
    MDB_val k = {plen, prefix}, v;
    int rc;

    *n = 0;
    if ((rc = mdb_cursor_open(t->txn, t->s->outbox, &c)) != 0)
        return store_rc(rc, "cursor");
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && *n < max) {
        if (k.mv_size != plen + 9 || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (v.mv_size != 16) {
            mdb_cursor_close(c);
            return RL_ECORRUPT;
        }
        memcpy(items[*n].key, k.mv_data, k.mv_size);
        items[*n].keylen = k.mv_size;
        memcpy(items[*n].id, v.mv_data, 16);
        (*n)++;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_rc(rc, "read outbox");
    return RL_OK;
}

/* store_outbox_del - remove one acknowledged entry; absent is fine */
int
store_outbox_del(struct store_txn *t, const struct outbox_item *it)
{
    MDB_val k = {it->keylen, (void *)it->key};
    int rc = mdb_del(t->txn, t->s->outbox, &k, NULL);

    return rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "dequeue");
}

/* prefix_scan - walk the records of dbi whose key starts with prefix:
 * count them, or (with del set) delete the first whose value is del (16
 * bytes) and stop there */
static int
prefix_scan(struct store_txn *t, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
            const uint8_t *del, uint64_t *count, const char *what)
{
    MDB_cursor *c;
    MDB_val k = {plen, (void *)prefix}, v;
    int rc;

    *count = 0;
    if ((rc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (del && v.mv_size == 16 && memcmp(v.mv_data, del, 16) == 0) {
            rc = mdb_cursor_del(c, 0);
            (*count)++;
            break;
        }
        if (!del)
            (*count)++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, what);
}

/* store_outbox_remove_id - delete id from peer's outbox, wherever it is */
int
store_outbox_remove_id(struct store_txn *t, const char *peer, const uint8_t id[16])
{
    uint8_t prefix[STORE_KEY_MAX];
    size_t plen = store_outbox_prefix(peer, prefix);
    uint64_t n;

    return prefix_scan(t, t->s->outbox, prefix, plen, id, &n, "dequeue");
}

/* store_outbox_depth - entries queued for peer */
int
store_outbox_depth(struct store_txn *t, const char *peer, uint64_t *n)
{
    uint8_t prefix[STORE_KEY_MAX];
    size_t plen = store_outbox_prefix(peer, prefix);

    return prefix_scan(t, t->s->outbox, prefix, plen, NULL, n, "read outbox");
}

/* store_get_incident - decode a stored incident record */
int
store_get_incident(struct store_txn *t, const uint8_t id[16],
                   Relay__IncidentRecord **out)
{
    MDB_val k = {16, (void *)id}, v;
    int rc = mdb_get(t->txn, t->s->incidents, &k, &v);
    size_t n;

    if (rc != 0)
        return store_rc(rc, "read incident");
    if ((rc = store_record_check("incidents", &k, &v, &n)) != RL_OK)
        return rc;
    *out = relay__incident_record__unpack(NULL, n, v.mv_data);
    return *out ? RL_OK : RL_ECORRUPT;
}

/* store_put_incident - encode and write an incident record */
int
store_put_incident(struct store_txn *t, const Relay__IncidentRecord *r)
{
    MDB_val k = {16, r->id.data};
    size_t len;
    uint8_t *at;
    int rc;

    if (r->id.len != 16)
        return RL_EINVAL;
    len = relay__incident_record__get_packed_size(r);
    rc = store_record_reserve(t, t->s->incidents, &k, len, &at);
    if (rc == 0) {
        relay__incident_record__pack(r, at);
        store_record_seal(&k, at, len);
    }
    return store_rc(rc, "write incident");
}

/* store_list_ids - all keys of a 16-byte-keyed database */
int
store_list_ids(struct store_txn *t, const char *db, uint8_t **ids, size_t *n)
{
    MDB_dbi dbi = strcmp(db, "advisories") == 0 ? t->s->advisories
                  : strcmp(db, "drills") == 0   ? t->s->drills
                                                : t->s->incidents;
    MDB_cursor *c;
    MDB_val k, v;
    MDB_stat st;
    size_t cap;
    int rc;

    *ids = NULL;
    *n = 0;
    if ((rc = mdb_stat(t->txn, dbi, &st)) != 0)
        return store_rc(rc, "stat");
    cap = st.ms_entries;
    *ids = malloc(cap ? cap * 16 : 1);
    if (*ids == NULL)
        return RL_ENOMEM;
    if ((rc = mdb_cursor_open(t->txn, dbi, &c)) != 0) {
        free(*ids);
        *ids = NULL;
        return store_rc(rc, "cursor");
    }
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && *n < cap;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size == 16)
            memcpy(*ids + 16 * (*n)++, k.mv_data, 16);
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        free(*ids); /* nothing to free for the caller on failure */
        *ids = NULL;
        *n = 0;
        return store_rc(rc, "list");
    }
    return RL_OK;
}

/* store_put_advisory - index an advisory delivered here */
int
store_put_advisory(struct store_txn *t, const uint8_t id[16], int64_t at_us)
{
    uint8_t when[8];
    MDB_val k = {16, (void *)id}, v = {8, when};

    put_u64(when, (uint64_t)at_us);
    return store_rc(mdb_put(t->txn, t->s->advisories, &k, &v, 0),
                    "write advisory");
}

/* store_advisory_at - when advisory id was listed here */
int
store_advisory_at(struct store_txn *t, const uint8_t id[16], int64_t *at_us)
{
    MDB_val k = {16, (void *)id}, v;
    int rc = mdb_get(t->txn, t->s->advisories, &k, &v);

    if (rc != 0)
        return store_rc(rc, "read advisory");
    if (v.mv_size != 8)
        return RL_ECORRUPT;
    *at_us = (int64_t)get_u64(v.mv_data);
    return RL_OK;
}

/* due_key - due(8, big endian) iid(16) which(1): ordered by time */
static void
due_key(const struct store_due *d, uint8_t key[25])
{
    put_u64(key, (uint64_t)d->due_us);
    memcpy(key + 8, d->iid, 16);
    key[24] = (uint8_t)d->which;
}

/* store_due_put - arm a due time */
int
store_due_put(struct store_txn *t, const struct store_due *d)
{
    uint8_t key[25];
    MDB_val k = {sizeof(key), key}, v = {0, ""};

    due_key(d, key);
    return store_rc(mdb_put(t->txn, t->s->dues, &k, &v, 0), "arm due time");
}

/* store_due_del - disarm a due time; absent is fine */
int
store_due_del(struct store_txn *t, const struct store_due *d)
{
    uint8_t key[25];
    MDB_val k = {sizeof(key), key};
    int rc;

    due_key(d, key);
    rc = mdb_del(t->txn, t->s->dues, &k, NULL);
    return rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "disarm due time");
}

/* store_due_upto - the earliest armed due times, up to until_us */
int
store_due_upto(struct store_txn *t, int64_t until_us, size_t max,
               struct store_due *out, size_t *n, int64_t *next_us)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    *n = 0;
    *next_us = 0;
    if ((rc = mdb_cursor_open(t->txn, t->s->dues, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        int64_t due;
        if (k.mv_size != 25)
            continue;
        due = (int64_t)get_u64(kp);
        if (due > until_us || *n == max) {
            *next_us = due;
            break;
        }
        out[*n].due_us = due;
        memcpy(out[*n].iid, kp + 8, 16);
        out[*n].which = kp[24];
        (*n)++;
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "read due times");
}

/* store_get_drill - decode a drill record */
int
store_get_drill(struct store_txn *t, const uint8_t id[16], Relay__DrillRecord **out)
{
    MDB_val k = {16, (void *)id}, v;
    int rc = mdb_get(t->txn, t->s->drills, &k, &v);
    size_t n;

    if (rc != 0)
        return store_rc(rc, "read drill");
    if ((rc = store_record_check("drills", &k, &v, &n)) != RL_OK)
        return rc;
    *out = relay__drill_record__unpack(NULL, n, v.mv_data);
    return *out ? RL_OK : RL_ECORRUPT;
}

/* store_put_drill - encode and write a drill record */
int
store_put_drill(struct store_txn *t, const Relay__DrillRecord *r)
{
    MDB_val k = {16, r->id.data};
    size_t len;
    uint8_t *at;
    int rc;

    if (r->id.len != 16)
        return RL_EINVAL;
    len = relay__drill_record__get_packed_size(r);
    rc = store_record_reserve(t, t->s->drills, &k, len, &at);
    if (rc == 0) {
        relay__drill_record__pack(r, at);
        store_record_seal(&k, at, len);
    }
    return store_rc(rc, "write drill");
}

/* store_put_drill_notice - remember which drill a notice belongs to */
int
store_put_drill_notice(struct store_txn *t, const uint8_t notice[16],
                       const uint8_t drill[16])
{
    MDB_val k = {16, (void *)notice}, v = {16, (void *)drill};

    return store_rc(mdb_put(t->txn, t->s->drill_notices, &k, &v, 0),
                    "write drill notice");
}

/* store_get_drill_notice - the drill of a notice */
int
store_get_drill_notice(struct store_txn *t, const uint8_t notice[16],
                       uint8_t drill[16])
{
    MDB_val k = {16, (void *)notice}, v;
    int rc = mdb_get(t->txn, t->s->drill_notices, &k, &v);

    if (rc != 0)
        return store_rc(rc, "read drill notice");
    if (v.mv_size != 16)
        return RL_ECORRUPT;
    memcpy(drill, v.mv_data, 16);
    return RL_OK;
}

/* store_dirlog_put - keep a root-signed directory change under its seq */
int
store_dirlog_put(struct store_txn *t, uint64_t seq, const uint8_t *buf, size_t len)
{
    uint8_t key[8];
    MDB_val k = {8, key}, v = {len, (void *)buf};

    put_u64(key, seq);
    return store_rc(mdb_put(t->txn, t->s->dirlog, &k, &v, 0), "write directory change");
}

/* store_dirlog_get - one change by seq (copy in *out, malloc) */
int
store_dirlog_get(struct store_txn *t, uint64_t seq, uint8_t **out, size_t *len)
{
    uint8_t key[8];
    MDB_val k = {8, key}, v;
    int rc;

    put_u64(key, seq);
    if ((rc = mdb_get(t->txn, t->s->dirlog, &k, &v)) != 0)
        return store_rc(rc, "read directory change");
    if ((*out = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
        return RL_ENOMEM;
    memcpy(*out, v.mv_data, v.mv_size);
    *len = v.mv_size;
    return RL_OK;
}

/* store_dirlog_all - the changes 1, 2, ... up to the first gap, in order */
int
store_dirlog_all(struct store_txn *t, ProtobufCBinaryData **v, size_t *n)
{
    size_t cap = 0;
    int rc;

    *v = NULL;
    *n = 0;
    for (uint64_t seq = 1;; seq++) {
        uint8_t *buf;
        size_t len;
        rc = store_dirlog_get(t, seq, &buf, &len);
        if (rc == RL_ENOTFOUND)
            return RL_OK;
        if (rc == RL_OK && *n == cap) {
            size_t nc = cap ? 2 * cap : 32;
            ProtobufCBinaryData *nv = realloc(*v, nc * sizeof(*nv));
            if (nv == NULL) {
                free(buf);
                rc = RL_ENOMEM;
            } else {
                *v = nv;
                cap = nc;
            }
        }
        if (rc != RL_OK) {
            for (size_t i = 0; i < *n; i++)
                free((*v)[i].data);
            free(*v);
            *v = NULL;
            *n = 0;
            return rc;
        }
        (*v)[*n].data = buf;
        (*v)[*n].len = len;
        (*n)++;
    }
}

/* audit_hash - BLAKE2b-256 over the previous hash and the entry bytes */
static void
audit_hash(const uint8_t prev[32], const uint8_t *entry, size_t len,
           uint8_t out[32])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, prev, 32);
    crypto_generichash_update(&st, entry, len);
    crypto_generichash_final(&st, out, 32);
}

/* store_audit - append one entry to the chain */
int
store_audit(struct store_txn *t, int64_t at_us, const char *what,
            const uint8_t *msg, const char *peer, const char *detail)
{
    Relay__AuditEntry e = RELAY__AUDIT_ENTRY__INIT;
    uint8_t key[8];
    MDB_val k = {8, key}, v;
    int rc;

    e.seq = t->audit_seq + 1;
    e.at_us = at_us;
    e.what = (char *)what;
    if (msg) {
        e.msg.data = (uint8_t *)msg;
        e.msg.len = 16;
    }
    e.peer = (char *)(peer ? peer : "");
    e.detail = (char *)(detail ? detail : "");
    e.actor = (char *)(t->actor ? t->actor : ""); /* "" is not encoded */
    e.prev_hash.data = t->audit_hash;
    e.prev_hash.len = 32;
    put_u64(key, e.seq);
    v.mv_size = relay__audit_entry__get_packed_size(&e);
    rc = mdb_put(t->txn, t->s->audit, &k, &v, MDB_RESERVE | MDB_APPEND);
    if (rc != 0)
        return store_rc(rc, "write audit");
    relay__audit_entry__pack(&e, v.mv_data);
    audit_hash(t->audit_hash, v.mv_data, v.mv_size, t->audit_hash);
    t->audit_seq = e.seq;
    return RL_OK;
}

/* store_audit_link - one step of the chain (exported for the checker) */
void
store_audit_link(const uint8_t prev[32], const uint8_t *e, size_t len, uint8_t out[32])
{
    audit_hash(prev, e, len, out);
}

/* store_audit_head - seq and hash of the committed chain */
int
store_audit_head(struct store_txn *t, uint64_t *seq, uint8_t hash[32])
{
    uint8_t buf[8];
    int rc;

    if ((rc = store_meta_get(t->txn, t->s->meta, "audit_hash", hash, 32)) ||
        (rc = store_meta_get(t->txn, t->s->meta, "audit_seq", buf, 8)))
        return RL_EIO;
    *seq = get_u64(buf);
    return RL_OK;
}

/* store_audit_range - entries as stored */
int
store_audit_range(struct store_txn *t, uint64_t from, size_t max, ProtobufCBinaryData *v,
                  size_t *n)
{
    uint8_t key[8];
    MDB_cursor *c;
    MDB_val k = {8, key}, val;
    int rc;

    *n = 0;
    put_u64(key, from);
    if ((rc = mdb_cursor_open(t->txn, t->s->audit, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &val, MDB_SET_RANGE); rc == 0 && *n < max;
         rc = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
        if ((v[*n].data = malloc(val.mv_size ? val.mv_size : 1)) == NULL) {
            rc = ENOMEM;
            break;
        }
        memcpy(v[*n].data, val.mv_data, val.mv_size);
        v[*n].len = val.mv_size;
        (*n)++;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        for (size_t i = 0; i < *n; i++)
            free(v[i].data);
        *n = 0;
        return rc == ENOMEM ? RL_ENOMEM : store_rc(rc, "read audit");
    }
    return RL_OK;
}

/* audit_prev - decode the entry at (k, v), which must be number seq, and
 * copy its prev_hash; 0, or -1 when the entry is not such an entry */
static int
audit_prev(const MDB_val *k, const MDB_val *v, uint64_t seq, uint8_t prev[32])
{
    Relay__AuditEntry *e =
        relay__audit_entry__unpack(NULL, v->mv_size, v->mv_data);
    int ok = e && k->mv_size == 8 && get_u64(k->mv_data) == seq &&
             e->seq == seq && e->prev_hash.len == 32;

    if (ok)
        memcpy(prev, e->prev_hash.data, 32);
    if (e)
        relay__audit_entry__free_unpacked(e, NULL);
    return ok ? 0 : -1;
}

/* store_audit_verify - walk the chain from the first entry
 *
 * Entry n records the hash of entries 1..n-1 as prev_hash, and meta holds
 * the hash and number of all of them. When entry n's prev_hash does not
 * match, either entry n-1 or entry n's prev_hash was changed; entry n tells
 * which: if its own bytes still hash to what entry n+1 (or the head)
 * recorded, it is as written and the change is in entry n-1. */
int
store_audit_verify(struct store_txn *t, uint64_t *entries, uint64_t *bad)
{
    uint8_t h[32] = {0}, head[32], prev[32], self[32], next[32], buf[8];
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t expect = 1, head_seq;
    int rc;

    *entries = 0;
    *bad = 0;
    if ((rc = store_meta_get(t->txn, t->s->meta, "audit_hash", head, 32)) ||
        (rc = store_meta_get(t->txn, t->s->meta, "audit_seq", buf, 8)))
        return rc;
    head_seq = get_u64(buf);
    if ((rc = mdb_cursor_open(t->txn, t->s->audit, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), expect++) {
        if (audit_prev(&k, &v, expect, prev) != 0) {
            *bad = expect;
            break;
        }
        if (memcmp(prev, h, 32) != 0) {
            audit_hash(prev, v.mv_data, v.mv_size, self);
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            if (rc == MDB_NOTFOUND)
                memcpy(next, head, 32);
            else if (rc != 0 || audit_prev(&k, &v, expect + 1, next) != 0)
                memset(next, 0, 32); /* cannot tell: blame this entry */
            rc = 0;
            *bad = expect > 1 && memcmp(self, next, 32) == 0 ? expect - 1
                                                             : expect;
            break;
        }
        audit_hash(h, v.mv_data, v.mv_size, h);
        (*entries)++;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return store_rc(rc, "read audit");
    if (*bad == 0) {
        if (*entries != head_seq) /* entries missing at the end, or added */
            *bad = (*entries < head_seq ? *entries : head_seq) + 1;
        else if (memcmp(head, h, 32) != 0)
            *bad = *entries; /* the last entry does not match the head */
    }
    if (*bad)
        *entries = *bad - 1; /* the intact entries before the first bad one */
    return RL_OK;
}

/* held_key - "peer\0" id(16) */
static size_t
held_key(const char *peer, const uint8_t id[16], uint8_t *key)
{
    size_t n = store_outbox_prefix(peer, key);

    memcpy(key + n, id, 16);
    return n + 16;
}

/* store_held_put - write a held record (peer and id from r) */
int
store_held_put(struct store_txn *t, const Relay__HeldRecord *r)
{
    uint8_t key[STORE_KEY_MAX + 16];
    MDB_val k, v;
    int rc;

    if (r->id.len != 16 || r->peer == NULL)
        return RL_EINVAL;
    k.mv_size = held_key(r->peer, r->id.data, key);
    k.mv_data = key;
    v.mv_size = relay__held_record__get_packed_size(r);
    rc = mdb_put(t->txn, t->s->held, &k, &v, MDB_RESERVE);
    if (rc == 0)
        relay__held_record__pack(r, v.mv_data);
    return store_rc(rc, "write held");
}

/* store_held_get - the held record of id for peer */
int
store_held_get(struct store_txn *t, const char *peer, const uint8_t id[16],
               Relay__HeldRecord **out)
{
    uint8_t key[STORE_KEY_MAX + 16];
    MDB_val k = {held_key(peer, id, key), key}, v;
    int rc = mdb_get(t->txn, t->s->held, &k, &v);

    *out = NULL;
    if (rc != 0)
        return store_rc(rc, "read held");
    *out = relay__held_record__unpack(NULL, v.mv_size, v.mv_data);
    if (*out == NULL) {
        log_warn("store: held record of peer %s does not decode", peer);
        return RL_EIO;
    }
    return RL_OK;
}

/* store_held_del - forget the held record of id for peer */
int
store_held_del(struct store_txn *t, const char *peer, const uint8_t id[16])
{
    uint8_t key[STORE_KEY_MAX + 16];
    MDB_val k = {held_key(peer, id, key), key};

    return store_rc(mdb_del(t->txn, t->s->held, &k, NULL), "delete held");
}

/* store_held_depth - messages held for peer */
int
store_held_depth(struct store_txn *t, const char *peer, uint64_t *n)
{
    uint8_t prefix[STORE_KEY_MAX];
    size_t plen = store_outbox_prefix(peer, prefix);

    return prefix_scan(t, t->s->held, prefix, plen, NULL, n, "read held");
}

/* store_held_each - call fn on every held record, in key order */
int
store_held_each(struct store_txn *t, int (*fn)(void *, const Relay__HeldRecord *),
                void *arg)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc;

    if ((rc = mdb_cursor_open(t->txn, t->s->held, &c)) != 0)
        return store_rc(rc, "cursor");
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        Relay__HeldRecord *r = relay__held_record__unpack(NULL, v.mv_size, v.mv_data);
        int frc;
        if (r == NULL) {
            log_warn("store: a held record does not decode (key of %zu bytes)",
                     (size_t)k.mv_size);
            mdb_cursor_close(c);
            return RL_EIO;
        }
        frc = fn(arg, r);
        relay__held_record__free_unpacked(r, NULL);
        if (frc != RL_OK) {
            mdb_cursor_close(c);
            return frc;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? RL_OK : store_rc(rc, "read held");
}

/* store_peer_acked - remember a neighbour's acknowledgement */
int
store_peer_acked(struct store_txn *t, const char *peer, int64_t at_us,
                 uint64_t n)
{
    MDB_val k = {strlen(peer), (void *)peer}, v;
    uint8_t rec[16];
    uint64_t total = 0;
    int rc = mdb_get(t->txn, t->s->peers, &k, &v);

    if (rc == 0 && v.mv_size == 16)
        total = get_u64((uint8_t *)v.mv_data + 8);
    put_u64(rec, (uint64_t)at_us);
    put_u64(rec + 8, total + n);
    v.mv_size = 16;
    v.mv_data = rec;
    return store_rc(mdb_put(t->txn, t->s->peers, &k, &v, 0), "write peer");
}

/* store_peer_get - last acknowledgement from a neighbour */
int
store_peer_get(struct store_txn *t, const char *peer, int64_t *last_ack_us,
               uint64_t *acked)
{
    MDB_val k = {strlen(peer), (void *)peer}, v;
    int rc = mdb_get(t->txn, t->s->peers, &k, &v);

    *last_ack_us = 0;
    *acked = 0;
    if (rc == MDB_NOTFOUND)
        return RL_OK;
    if (rc != 0 || v.mv_size != 16)
        return rc ? store_rc(rc, "read peer") : RL_ECORRUPT;
    *last_ack_us = (int64_t)get_u64(v.mv_data);
    *acked = get_u64((uint8_t *)v.mv_data + 8);
    return RL_OK;
}

/* store_counts - sizes of the main databases and the map */
int
store_counts(struct store_txn *t, struct store_counts *c)
{
    MDB_stat st;
    MDB_envinfo info;
    struct {
        MDB_dbi dbi;
        uint64_t *out;
    } rows[] = {{t->s->messages, &c->messages}, {t->s->incidents, &c->incidents},
                {t->s->advisories, &c->advisories}, {t->s->audit, &c->audit},
                {t->s->outbox, &c->outbox}, {t->s->corrupt, &c->corrupt},
                {t->s->held, &c->held}};
    int rc;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if ((rc = mdb_stat(t->txn, rows[i].dbi, &st)) != 0)
            return store_rc(rc, "stat");
        *rows[i].out = st.ms_entries;
    }
    mdb_env_info(t->s->env, &info);
    mdb_env_stat(t->s->env, &st);
    c->map_bytes = info.me_mapsize;
    c->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    return RL_OK;
}
