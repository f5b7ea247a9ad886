/*
 * store_check.c - the full scan behind `relayctl store check`.
 *
 * One read transaction walks every database; damaged messages are then
 * moved to the corrupt queue in one write transaction of the writer, with
 * their outbox entries and an audit entry each. Nothing is deleted that
 * does not go to corrupt: a damaged incident or drill record is reported,
 * not moved (the incident's messages still hold what it was built from).
 *
 * DIAGNOSTICS: every finding names db, key and reason, and is logged as a
 * warning; an unreadable store (LMDB error) fails the whole check.
 *
 * SECURITY: signatures are checked against the key the directory in force
 * gives the author at the message's creation time (dir_key_at), as link.c
 * did when the message arrived; a stored message that no longer verifies
 * was changed at rest.
 */
#include "store_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "node.h"
#include "writer.h"

struct scan {
    struct node *n;
    struct store_txn *t;
    struct store_check_report *r;
    uint64_t *count;
    const char *db;
    int rc; /* first allocation failure */
};

/* finding_add - append one finding to a list (report or corrupt list) */
static int
finding_add(struct store_finding **v, size_t *n, size_t *cap, const char *db,
            const uint8_t *key, size_t klen, const char *reason)
{
    struct store_finding *f;

    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 16;
        struct store_finding *nv = realloc(*v, nc * sizeof(*nv));
        if (nv == NULL)
            return RL_ENOMEM;
        *v = nv;
        *cap = nc;
    }
    f = &(*v)[(*n)++];
    memset(f, 0, sizeof(*f));
    snprintf(f->db, sizeof(f->db), "%s", db);
    if (klen > 40)
        klen = 40;
    for (size_t i = 0; i < klen; i++)
        snprintf(f->key + 2 * i, 3, "%02x", key[i]);
    snprintf(f->reason, sizeof(f->reason), "%s", reason);
    return RL_OK;
}

/* scan_found - report a damaged record and log it */
static int
scan_found(struct scan *s, const uint8_t *key, size_t klen, const char *reason)
{
    struct store_check_report *r = s->r;

    if (finding_add(&r->found, &r->n, &r->cap, s->db, key, klen, reason) != RL_OK) {
        s->rc = RL_ENOMEM;
        return 1;
    }
    log_warn("store check: db %s key %s: %s", s->db, r->found[r->n - 1].key, reason);
    return 0;
}

/* message_why - NULL when a stored envelope is whole, else why not;
 * *damaged is 0 when it is whole but the directory in force cannot vouch
 * for it (no such author, no key valid at its creation): that is no damage
 * at rest, and such a message is reported, never moved */
static const char *
message_why(struct node *n, const uint8_t *key, const uint8_t *val, size_t len,
            char *buf, size_t buflen, int *damaged)
{
    const struct directory *d = node_dir(n);
    const struct dir_node *author;
    struct env_msg m;
    const uint8_t *pk;
    const char *why;

    *damaged = 1;
    if (env_open(val, len, 16u << 20, &m, &why) != RL_OK) {
        snprintf(buf, buflen, "does not decode: %s", why);
        return buf;
    }
    if (m.body->id.len != 16 || memcmp(m.body->id.data, key, 16) != 0)
        why = "stored under another id than its own";
    else if ((author = dir_find(d, m.body->author)) == NULL)
        why = "author not in the directory", *damaged = 0;
    else if (dir_key_at(author, m.body->created_us, &pk, &why) != 0)
        *damaged = 0; /* why set */
    else if (env_verify(&m, pk) != RL_OK)
        why = "bad signature: does not verify with the author's key at its creation";
    else
        why = NULL;
    if (why) {
        snprintf(buf, buflen, "%s", why);
        why = buf;
    }
    env_msg_free(&m);
    return why;
}

/* scan_record - one record of a tagged db */
static int
scan_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
            size_t vlen, int damaged)
{
    struct scan *s = arg;
    char buf[200];
    const char *why = NULL;
    int moves = 1, stop;

    (*s->count)++;
    if (damaged)
        why = "checksum does not match";
    else if (klen != 16)
        why = "key is not a 16-byte id";
    else if (strcmp(s->db, "messages") == 0)
        why = message_why(s->n, key, val, vlen, buf, sizeof(buf), &moves);
    if (why == NULL)
        return 0;
    stop = scan_found(s, key, klen, why);
    if (!stop)
        s->r->found[s->r->n - 1].keep = !moves;
    return stop;
}

/* scan_plain - one record of a db without tags: read, counted */
static int
scan_plain(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
           int damaged)
{
    struct scan *s = arg;

    (void)key, (void)klen, (void)val, (void)vlen, (void)damaged;
    (*s->count)++;
    return 0;
}

/* scan_points_at - the record at key names ref (16 bytes) in db */
static int
scan_points_at(struct scan *s, const uint8_t *key, size_t klen, const char *db,
               const uint8_t *ref, const char *missing)
{
    int rc = store_has(s->t, db, ref, 16);

    if (rc < 0) {
        s->rc = rc;
        return 1;
    }
    return rc ? 0 : scan_found(s, key, klen, missing);
}

/* scan_outbox - an outbox entry must name a stored message */
static int
scan_outbox(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
            size_t vlen, int damaged)
{
    struct scan *s = arg;

    (void)damaged;
    (*s->count)++;
    if (vlen != 16)
        return scan_found(s, key, klen, "entry is not a 16-byte message id");
    return scan_points_at(s, key, klen, "messages", val,
                          "points at a message that is not stored");
}

/* scan_due - a due time must name a stored incident */
static int
scan_due(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
         size_t vlen, int damaged)
{
    struct scan *s = arg;

    (void)val;
    (void)vlen;
    (void)damaged;
    (*s->count)++;
    if (klen != 25)
        return scan_found(s, key, klen, "key is not due(8) incident(16) which(1)");
    return scan_points_at(s, key, klen, "incidents", key + 8,
                          "points at an incident that is not stored");
}

/* scan_corrupt - list what the corrupt queue holds */
static int
scan_corrupt(void *arg, const uint8_t *key, size_t klen, const uint8_t *val,
             size_t vlen, int damaged)
{
    struct scan *s = arg;
    Relay__CorruptRecord *c = relay__corrupt_record__unpack(NULL, vlen, val);
    struct store_check_report *r = s->r;

    (void)damaged;
    if (finding_add(&r->corrupt, &r->ncorrupt, &r->capcorrupt, c ? c->db : "?", key, klen,
                    c ? c->reason : "record does not decode") != RL_OK)
        s->rc = RL_ENOMEM;
    if (c)
        relay__corrupt_record__free_unpacked(c, NULL);
    return s->rc != RL_OK;
}

/* scan_db - walk one db with fn, then compare LMDB's count with the walk */
static int
scan_db(struct scan *s, const char *db, store_walk_fn fn, uint64_t *count)
{
    uint64_t lmdb_n = 0;
    int rc;

    s->db = db;
    s->count = count;
    *count = 0;
    rc = store_walk(s->t, db, fn, s);
    if (rc != RL_OK && rc != RL_ENOMEM && s->rc == RL_OK) {
        /* LMDB found a page it cannot use (RL_ECORRUPT), or failed to read
         * one at all: either way the db is damaged from there on */
        char why[200];
        snprintf(why, sizeof(why), "LMDB cannot read this db past %llu records (%s); the "
                 "rest of it cannot be read", (unsigned long long)*count, rl_strerror(rc));
        scan_found(s, (const uint8_t *)"", 0, why);
        return s->rc;
    }
    if (rc != RL_OK)
        return rc;
    if (s->rc != RL_OK)
        return s->rc;
    if ((rc = store_entries(s->t, db, &lmdb_n)) != RL_OK)
        return rc;
    if (lmdb_n != *count) {
        char why[120];
        snprintf(why, sizeof(why), "LMDB counts %llu records, %llu were read",
                 (unsigned long long)lmdb_n, (unsigned long long)*count);
        scan_found(s, (const uint8_t *)"", 0, why);
    }
    return s->rc;
}

/* scan_rest - every page of the dbs no other scan reads, so that LMDB's
 * own checks (a page it cannot use, a count that does not match) reach
 * them too: a damaged page anywhere is reported, not only in the records
 * the node reads often */
static int
scan_rest(struct scan *s)
{
    static const char *const rest[] = {"seen", "advisories", "peers", "meta",
                                       "drill_notices", "dirlog", "held", "requests",
                                       "receipts", NULL}; /* audit: read by scan_audit */
    uint64_t n;
    int rc = RL_OK;

    for (size_t i = 0; rest[i] && rc == RL_OK; i++)
        rc = scan_db(s, rest[i], scan_plain, &n);
    return rc;
}

/* scan_operator - an account (issue 10): its tag, and that it decodes
 * under its own name; reported, never moved */
static int
scan_operator(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
              int damaged)
{
    struct scan *s = arg;
    Relay__OperatorRecord *o;
    int ok;

    (*s->count)++;
    if (damaged)
        return scan_found(s, key, klen, "checksum does not match");
    o = relay__operator_record__unpack(NULL, vlen, val);
    ok = o && strlen(o->name) == klen && memcmp(o->name, key, klen) == 0;
    if (o)
        relay__operator_record__free_unpacked(o, NULL);
    return ok ? 0 : scan_found(s, key, klen, "does not decode as the account of its key");
}

/* scan_operators - the accounts of the HTTP API */
static int
scan_operators(struct scan *s)
{
    uint64_t n;

    return scan_db(s, "operators", scan_operator, &n);
}

/* scan_audit - the hash chain */
static int
scan_audit(struct scan *s)
{
    uint64_t entries, bad, head;
    uint8_t hash[32];
    char why[160];
    int rc;

    if ((rc = store_audit_verify(s->t, &entries, &bad)) != RL_OK ||
        (rc = store_audit_head(s->t, &head, hash)) != RL_OK)
        return rc;
    s->r->audit = head;
    if (bad == 0)
        return RL_OK;
    s->db = "audit";
    snprintf(why, sizeof(why), "hash chain broken at entry %llu: %llu entries intact, "
             "%llu in all", (unsigned long long)bad, (unsigned long long)entries,
             (unsigned long long)head);
    if (finding_add(&s->r->found, &s->r->n, &s->r->cap, "audit", (const uint8_t *)"", 0,
                    why) != RL_OK)
        return RL_ENOMEM;
    snprintf(s->r->found[s->r->n - 1].key, sizeof(s->r->found[0].key), "%llu",
             (unsigned long long)bad);
    log_warn("store check: db audit: %s", why);
    return RL_OK;
}

/* check_quarantine_as - k messages to corrupt through the writer, the
 * audit entries naming actor (NULL: none) */
static int
check_quarantine_as(struct node *n, const uint8_t (*ids)[16], const char **why, size_t k,
                    const char *actor)
{
    struct outbox_item *items = calloc(k ? k : 1, sizeof(*items));
    struct work wk;
    int rc;

    if (items == NULL)
        return RL_ENOMEM;
    for (size_t i = 0; i < k; i++)
        memcpy(items[i].id, ids[i], 16);
    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_QUARANTINE;
    wk.acked = items;
    wk.acked_why = why;
    wk.nacked = k;
    wk.actor = actor;
    rc = writer_run(n, &wk);
    if (rc != RL_OK)
        log_warn("store: damaged messages not moved to corrupt: %s", wk.err);
    free(items);
    return rc;
}

/* store_check_quarantine - k messages to corrupt through the writer */
int
store_check_quarantine(struct node *n, const uint8_t (*ids)[16], const char **why, size_t k)
{
    return check_quarantine_as(n, ids, why, k, NULL);
}

/* check_movable - a finding is a damaged message, to be moved to corrupt */
static int
check_movable(const struct store_finding *f)
{
    return strcmp(f->db, "messages") == 0 && strlen(f->key) == 32 && !f->keep;
}

/* check_quarantine - move the damaged messages a scan found to corrupt */
static int
check_quarantine(struct node *n, struct store_check_report *r, const char *actor)
{
    uint8_t (*ids)[16];
    const char **why;
    size_t k = 0;
    int rc;

    for (size_t i = 0; i < r->n; i++)
        k += check_movable(&r->found[i]);
    if (k == 0)
        return RL_OK;
    ids = calloc(k, sizeof(*ids));
    why = calloc(k, sizeof(*why));
    if (ids == NULL || why == NULL) {
        free(ids);
        free(why);
        return RL_ENOMEM;
    }
    k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (check_movable(&r->found[i]) && env_id_parse(r->found[i].key, ids[k]) == 0)
            why[k++] = r->found[i].reason;
    rc = check_quarantine_as(n, (const uint8_t(*)[16])ids, why, k, actor);
    if (rc == RL_OK)
        for (size_t i = 0; i < r->n; i++)
            r->found[i].moved = check_movable(&r->found[i]);
    free(ids);
    free(why);
    return rc;
}

/* store_check_run - scan, then quarantine */
int
store_check_run(struct node *n, struct store_check_report *r)
{
    return store_check_run_as(n, NULL, r);
}

/* store_check_run_as - scan, then quarantine in actor's name */
int
store_check_run_as(struct node *n, const char *actor, struct store_check_report *r)
{
    struct store_txn t;
    struct scan s;
    uint64_t corrupt_n;
    int rc;

    memset(r, 0, sizeof(*r));
    memset(&s, 0, sizeof(s));
    s.n = n;
    s.t = &t;
    s.r = r;
    if ((rc = store_begin(n->store, 0, &t)) != RL_OK)
        return rc;
    if ((rc = scan_db(&s, "messages", scan_record, &r->messages)) == RL_OK &&
        (rc = scan_db(&s, "incidents", scan_record, &r->incidents)) == RL_OK &&
        (rc = scan_db(&s, "drills", scan_record, &r->drills)) == RL_OK &&
        (rc = scan_db(&s, "outbox", scan_outbox, &r->outbox)) == RL_OK &&
        (rc = scan_db(&s, "dues", scan_due, &r->dues)) == RL_OK &&
        (rc = scan_rest(&s)) == RL_OK &&
        (rc = scan_operators(&s)) == RL_OK)
        rc = scan_audit(&s);
    store_abort(&t);
    if (rc == RL_OK)
        rc = check_quarantine(n, r, actor);
    if (rc == RL_OK && (rc = store_begin(n->store, 0, &t)) == RL_OK) {
        s.db = "corrupt";
        s.count = &corrupt_n;
        rc = store_walk(&t, "corrupt", scan_corrupt, &s);
        if (rc == RL_OK)
            rc = s.rc;
        store_abort(&t);
    }
    if (rc != RL_OK)
        store_check_free(r);
    return rc;
}

/* store_check_free - release the findings */
void
store_check_free(struct store_check_report *r)
{
    free(r->found);
    free(r->corrupt);
    memset(r, 0, sizeof(*r));
}
