/*
 * store_file.c - before the store is trusted: one node per store (the lock
 * file), data.mdb judged by LMDB's own meta pages before it is mapped (a
 * read past the end of a truncated file is SIGBUS), and the node the store
 * belongs to (written once by --init).
 *
 * DIAGNOSTICS: every refusal says what is wrong with which file, naming
 * sizes, in the caller's why.
 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* ------------------------------------------------------------------------
 * Before the store is trusted: the lock, the file, the node it belongs to.
 */

/* store_lock - exclusive flock on <dir>/relay.lock, which then holds our
 * pid; RL_EDUP with the holder's pid in *holder when another process has it */
int
store_lock(const char *dir, int *fd, long *holder)
{
    char path[4200], buf[32];
    ssize_t got;
    int f;

    *fd = -1;
    *holder = 0;
    snprintf(path, sizeof(path), "%s/relay.lock", dir);
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f < 0)
        return RL_EIO;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        got = pread(f, buf, sizeof(buf) - 1, 0);
        if (got > 0) {
            buf[got] = '\0';
            *holder = strtol(buf, NULL, 10);
        }
        close(f);
        return e == EWOULDBLOCK ? RL_EDUP : RL_EIO;
    }
    got = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, buf, (size_t)got, 0) != got) {
        close(f);
        return RL_EIO;
    }
    *fd = f;
    return RL_OK;
}

/* meta_u32, meta_u64 - little-endian host fields of an LMDB meta page */
static uint32_t
meta_u32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

static uint64_t
meta_u64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

/* Offsets in an LMDB meta page (lmdb.h MDB_meta after the 16-byte page
 * header, 64-bit build): mm_magic, mm_version, mm_dbs[FREE_DBI].md_pad
 * (the page size), mm_last_pg, mm_txnid. */
#define META_HDR 16
#define META_MAGIC (META_HDR + 0)
#define META_VERSION (META_HDR + 4)
#define META_PSIZE (META_HDR + 24)
#define META_LAST_PG (META_HDR + 120)
#define META_TXNID (META_HDR + 128)
#define META_LEN (META_HDR + 136)
#define META_P_META 0x08

/* meta_valid - the meta page at p carries LMDB's magic and version */
static int
meta_valid(const uint8_t *p)
{
    return (p[10] & META_P_META) &&
           meta_u32(p + META_MAGIC) == 0xBEEFC0DEu && meta_u32(p + META_VERSION) == 1;
}

/* store_file_check - data.mdb against LMDB's own account of it */
int
store_file_check(const char *dir, char *why, size_t whylen)
{
    char path[4200];
    uint8_t m[2][META_LEN];
    const uint8_t *use;
    uint64_t psize, last_pg, need;
    struct stat st;
    int fd, ok1;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? RL_ENOTFOUND : RL_EIO;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        close(fd);
        return RL_EIO;
    }
    if (st.st_size == 0) {
        snprintf(why, whylen, "%s is empty (0 bytes)", path);
        close(fd);
        return RL_ECORRUPT;
    }
    if (pread(fd, m[0], META_LEN, 0) != META_LEN || !meta_valid(m[0])) {
        snprintf(why, whylen, "%s (%lld bytes) is not an LMDB file: its first meta page "
                 "has no LMDB magic and version", path, (long long)st.st_size);
        close(fd);
        return RL_ECORRUPT;
    }
    psize = meta_u32(m[0] + META_PSIZE);
    if (psize < 512 || psize > 65536 || (psize & (psize - 1)) ||
        (uint64_t)st.st_size < 2 * psize) {
        snprintf(why, whylen, "%s is %lld bytes, shorter than its two meta pages of %llu "
                 "bytes (truncated)", path, (long long)st.st_size, (unsigned long long)psize);
        close(fd);
        return RL_ECORRUPT;
    }
    ok1 = pread(fd, m[1], META_LEN, (off_t)psize) == META_LEN && meta_valid(m[1]);
    close(fd);
    if (!ok1) { /* LMDB itself refuses it then (MDB_INVALID): say which page */
        snprintf(why, whylen, "%s (%lld bytes): its second meta page (at byte %llu) has no "
                 "LMDB magic and version", path, (long long)st.st_size,
                 (unsigned long long)psize);
        return RL_ECORRUPT;
    }
    use = meta_u64(m[1] + META_TXNID) > meta_u64(m[0] + META_TXNID) ? m[1] : m[0];
    last_pg = meta_u64(use + META_LAST_PG);
    need = (last_pg + 1) * psize;
    if (last_pg > ((uint64_t)1 << 40) || (uint64_t)st.st_size < need) {
        snprintf(why, whylen, "%s is %lld bytes, but LMDB's meta page (transaction %llu) "
                 "counts %llu pages of %llu bytes = %llu bytes (truncated)", path,
                 (long long)st.st_size, (unsigned long long)meta_u64(use + META_TXNID),
                 (unsigned long long)(last_pg + 1), (unsigned long long)psize,
                 (unsigned long long)need);
        return RL_ECORRUPT;
    }
    return RL_OK;
}

/* store_identity_get - the node id and key recorded by --init */
int
store_identity_get(struct store_txn *t, char id[STORE_PEER_MAX], uint8_t pk[32])
{
    MDB_val k = {7, (void *)"node_id"}, v;
    int rc = mdb_get(t->txn, t->s->meta, &k, &v);

    if (rc != 0)
        return store_rc(rc, "read node id");
    if (v.mv_size == 0 || v.mv_size >= STORE_PEER_MAX)
        return RL_ECORRUPT;
    memcpy(id, v.mv_data, v.mv_size);
    id[v.mv_size] = '\0';
    k.mv_size = 7;
    k.mv_data = (void *)"node_pk";
    if ((rc = mdb_get(t->txn, t->s->meta, &k, &v)) != 0)
        return rc == MDB_NOTFOUND ? RL_ECORRUPT : store_rc(rc, "read node key");
    if (v.mv_size != 32)
        return RL_ECORRUPT;
    memcpy(pk, v.mv_data, 32);
    return RL_OK;
}

/* store_identity_put - record the node id and key */
int
store_identity_put(struct store_txn *t, const char *id, const uint8_t pk[32])
{
    int rc = store_meta_put(t, "node_id", id, strlen(id));

    return rc ? rc : store_meta_put(t, "node_pk", pk, 32);
}

/* store_blank - 1 when the LMDB environment in dir has no named database
 * at all (LMDB made the file, nothing of the relay's is in it), 0 when it
 * has some, <0 when it cannot be read: told apart without the relay's
 * databases, so that a store this node cannot open is never taken for an
 * empty one */
int
store_blank(const char *dir)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi main_db;
    MDB_stat st;
    int rc;

    /* the unnamed (main) db holds one record per named db */
    if ((rc = mdb_env_create(&env)) == 0 &&
        (rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0 &&
        (rc = mdb_dbi_open(txn, NULL, 0, &main_db)) == 0)
        rc = mdb_stat(txn, main_db, &st);
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    return rc != 0 ? store_rc(rc, "open to look inside") : st.ms_entries == 0;
}

/* store_is_empty - 1 when no database holds a record (a store LMDB just
 * made), 0 when something is there, <0 on error */
int
store_is_empty(struct store_txn *t)
{
    MDB_dbi all[] = {t->s->messages, t->s->incidents, t->s->audit, t->s->meta,
                     t->s->dirlog, t->s->outbox};
    MDB_stat st;
    int rc;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if ((rc = mdb_stat(t->txn, all[i], &st)) != 0)
            return store_rc(rc, "stat");
        if (st.ms_entries)
            return 0;
    }
    return 1;
}

