/*
 * test_store.c - the LMDB store: durability across reopen, dedupe, aborts,
 * outboxes, the audit chain against tampering, and map growth up to its
 * limit.
 *
 * Every test gets a fresh directory; the store lives in <dir>/store. The
 * tampering cases open the environment with raw LMDB, as an attacker with
 * the file would, and change one byte of one audit entry.
 */
#include "unit_tmp.h"

#include <lmdb.h>

#include "store.h"

/* id_of - a 16-byte id made from a number */
static void
id_of(uint32_t n, uint8_t id[16])
{
    memset(id, 0xa5, 16);
    id[0] = (uint8_t)(n >> 24);
    id[1] = (uint8_t)(n >> 16);
    id[2] = (uint8_t)(n >> 8);
    id[3] = (uint8_t)n;
}

/* store_dir - <tmp>/store */
static void
store_dir(const struct unit_tmp *t, char *out, size_t len)
{
    unit_tmp_path(t, "store", out, len);
}

/* open_store - open with the given map sizes, must succeed */
static struct store *
open_store(const struct unit_tmp *t, int64_t map_mb, int64_t map_max_mb)
{
    char dir[128];
    struct store *s = NULL;

    store_dir(t, dir, sizeof(dir));
    assert_int_equal(store_open(dir, map_mb, map_max_mb, 0, &s), RL_OK);
    assert_non_null(s);
    return s;
}

/* counts - store_counts in a read transaction */
static struct store_counts
counts(struct store *s)
{
    struct store_txn t;
    struct store_counts c;

    memset(&c, 0, sizeof(c));
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_counts(&t, &c), RL_OK);
    store_abort(&t);
    return c;
}

/* payload - deterministic message bytes for id n */
static void
payload(uint32_t n, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(n * 31 + i * 7);
}

/* Outbox entries written by test_reopen, in the order they were added. */
static const struct {
    const char *peer;
    uint8_t prio;
    uint32_t id;
} queued[] = {
    {"city", 2, 1}, {"city", 0, 2}, {"city", 1, 3},   {"city", 0, 4},
    {"city", 2, 5}, {"cit", 0, 6},  {"city-b", 0, 7},
};
/* ... and the order store_outbox_first must give for "city" */
static const uint32_t city_order[] = {2, 4, 3, 1, 5};

/* test_reopen - everything committed is there after close and reopen */
static void
test_reopen(void **state)
{
    struct unit_tmp *tmp = *state;
    struct store *s = open_store(tmp, 1, 8);
    struct store_txn t;
    struct store_counts c;
    struct outbox_item items[16];
    Relay__IncidentRecord rec = RELAY__INCIDENT_RECORD__INIT, *got;
    Relay__Event ev = RELAY__EVENT__INIT, *hist[] = {&ev};
    uint8_t id[16], msg[300], *back, *ids;
    uint64_t depth, entries, bad, acked;
    int64_t last;
    size_t n, len;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    for (uint32_t i = 1; i <= 3; i++) {
        id_of(i, id);
        payload(i, msg, sizeof(msg));
        assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1000 + i),
                         RL_OK);
    }
    for (size_t i = 0; i < sizeof(queued) / sizeof(queued[0]); i++) {
        id_of(queued[i].id, id);
        assert_int_equal(
            store_outbox_add(&t, queued[i].peer, queued[i].prio, id), RL_OK);
    }
    id_of(1, id);
    rec.id.data = id;
    rec.id.len = 16;
    rec.author = "ag-a1";
    rec.state = RELAY__INCIDENT_STATE__REVIEWED;
    rec.claimed_level = 2;
    rec.reviewed_level = 3;
    rec.have_report = 1;
    ev.at_us = 1001;
    ev.node = "ag-a1";
    ev.what = "reported";
    rec.n_history = 1;
    rec.history = hist;
    assert_int_equal(store_put_incident(&t, &rec), RL_OK);
    id_of(3, id);
    assert_int_equal(store_put_advisory(&t, id, 1003), RL_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(store_audit(&t, 2000 + i, "received", id, "city",
                                     i % 2 ? "report" : NULL),
                         RL_OK);
    assert_int_equal(store_peer_acked(&t, "city", 3000, 2), RL_OK);
    assert_int_equal(store_peer_acked(&t, "city", 3001, 3), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);

    s = open_store(tmp, 1, 8);
    c = counts(s);
    assert_int_equal(c.messages, 3);
    assert_int_equal(c.incidents, 1);
    assert_int_equal(c.advisories, 1);
    assert_int_equal(c.audit, 4);
    assert_int_equal(c.outbox, sizeof(queued) / sizeof(queued[0]));
    assert_true(c.used_bytes > 0 && c.used_bytes <= c.map_bytes);

    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    for (uint32_t i = 1; i <= 3; i++) {
        id_of(i, id);
        payload(i, msg, sizeof(msg));
        assert_int_equal(store_get_message(&t, id, &back, &len), RL_OK);
        assert_int_equal(len, sizeof(msg));
        assert_memory_equal(back, msg, len);
        free(back);
        assert_int_equal(store_seen(&t, id), 1);
    }
    id_of(99, id);
    assert_int_equal(store_get_message(&t, id, &back, &len), RL_ENOTFOUND);

    /* outbox: prio first, then arrival; peers with a common prefix apart */
    assert_int_equal(store_outbox_first(&t, "city", 16, items, &n), RL_OK);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        id_of(city_order[i], id);
        if (memcmp(items[i].id, id, 16) != 0)
            fail_msg("city outbox position %zu is not id %u", i, city_order[i]);
    }
    assert_int_equal(store_outbox_first(&t, "city", 2, items, &n), RL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_outbox_depth(&t, "city", &depth), RL_OK);
    assert_int_equal(depth, 5);
    assert_int_equal(store_outbox_depth(&t, "cit", &depth), RL_OK);
    assert_int_equal(depth, 1);
    assert_int_equal(store_outbox_depth(&t, "city-b", &depth), RL_OK);
    assert_int_equal(depth, 1);
    assert_int_equal(store_outbox_depth(&t, "nobody", &depth), RL_OK);
    assert_int_equal(depth, 0);
    assert_int_equal(store_outbox_first(&t, "nobody", 16, items, &n), RL_OK);
    assert_int_equal(n, 0);

    id_of(1, id);
    assert_int_equal(store_get_incident(&t, id, &got), RL_OK);
    assert_string_equal(got->author, "ag-a1");
    assert_int_equal(got->state, RELAY__INCIDENT_STATE__REVIEWED);
    assert_int_equal(got->reviewed_level, 3);
    assert_int_equal(got->n_history, 1);
    assert_string_equal(got->history[0]->what, "reported");
    relay__incident_record__free_unpacked(got, NULL);
    id_of(2, id);
    assert_int_equal(store_get_incident(&t, id, &got), RL_ENOTFOUND);
    assert_int_equal(store_list_ids(&t, "incidents", &ids, &n), RL_OK);
    assert_int_equal(n, 1);
    id_of(1, id);
    assert_memory_equal(ids, id, 16);
    free(ids);
    assert_int_equal(store_list_ids(&t, "advisories", &ids, &n), RL_OK);
    assert_int_equal(n, 1);
    id_of(3, id);
    assert_memory_equal(ids, id, 16);
    free(ids);

    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(entries, 4);
    assert_int_equal(bad, 0);
    assert_int_equal(store_peer_get(&t, "city", &last, &acked), RL_OK);
    assert_true(last == 3001);
    assert_int_equal(acked, 5);
    assert_int_equal(store_peer_get(&t, "nobody", &last, &acked), RL_OK);
    assert_true(last == 0 && acked == 0);
    store_abort(&t);

    /* the counters survived: a new prio-0 entry queues after the old ones,
     * and new audit entries continue the chain */
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    id_of(8, id);
    assert_int_equal(store_outbox_add(&t, "city", 0, id), RL_OK);
    assert_int_equal(store_audit(&t, 4000, "queued", id, "city", NULL), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_outbox_first(&t, "city", 16, items, &n), RL_OK);
    assert_int_equal(n, 6);
    id_of(4, id);
    assert_memory_equal(items[1].id, id, 16);
    id_of(8, id);
    assert_memory_equal(items[2].id, id, 16);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(entries, 5);
    assert_int_equal(bad, 0);
    store_abort(&t);
    store_close(s);
}

/* test_seen - dedupe by id, visible in the transaction and after commit */
static void
test_seen(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    uint8_t id[16], other[16], msg[40];

    id_of(7, id);
    id_of(8, other);
    payload(7, msg, sizeof(msg));
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_seen(&t, id), 0);
    assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1), RL_OK);
    assert_int_equal(store_seen(&t, id), 1);
    assert_int_equal(store_commit(&t), RL_OK);

    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_seen(&t, id), 1);
    assert_int_equal(store_seen(&t, other), 0);
    store_abort(&t);
    store_close(s);
}

/* test_requests - issue 8 finding 7: first answers and recent forms are
 * kept, replaced by a newer put, and expired oldest first in bounded steps */
static void
test_requests(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    uint8_t r1[16], r2[16], f1[16], inc[16], got[16];
    char *answer = NULL;
    int64_t at;
    size_t n;

    id_of(1, r1);
    id_of(2, r2);
    id_of(3, f1);
    id_of(4, inc);
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_request_get(&t, r1, &at, &answer), RL_ENOTFOUND);
    assert_int_equal(store_request_put(&t, r1, 100, "{\"ok\":true}"), RL_OK);
    assert_int_equal(store_request_put(&t, r2, 200, "{\"ok\":true,\"id\":2}"), RL_OK);
    assert_int_equal(store_form_put(&t, f1, 150, inc), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_request_get(&t, r2, &at, &answer), RL_OK);
    assert_string_equal(answer, "{\"ok\":true,\"id\":2}");
    assert_true(at == 200);
    free(answer);
    assert_int_equal(store_form_get(&t, f1, &at, got), RL_OK);
    assert_true(at == 150);
    assert_memory_equal(got, inc, 16);
    /* the form is filed again later: the newer record survives the expiry
     * of the older one's index entry */
    assert_int_equal(store_form_put(&t, f1, 300, r1), RL_OK);
    assert_int_equal(store_requests_expire(&t, 201, 1, &n), RL_OK);
    assert_int_equal(n, 1); /* bounded: r1 only */
    assert_int_equal(store_request_get(&t, r1, &at, &answer), RL_ENOTFOUND);
    assert_int_equal(store_requests_expire(&t, 201, 10, &n), RL_OK);
    assert_int_equal(n, 2); /* f1's old index entry, r2 */
    assert_int_equal(store_request_get(&t, r2, &at, &answer), RL_ENOTFOUND);
    assert_int_equal(store_form_get(&t, f1, &at, got), RL_OK);
    assert_true(at == 300);
    assert_memory_equal(got, r1, 16);
    assert_int_equal(store_requests_expire(&t, 301, 10, &n), RL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_form_get(&t, f1, &at, got), RL_ENOTFOUND);
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);
}

/* test_page_ids - issue 8 finding 8: pages in id order after a cursor */
static void
test_page_ids(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    Relay__IncidentRecord rec = RELAY__INCIDENT_RECORD__INIT;
    struct store_txn t;
    uint8_t id[16], ids[16 * 4];
    uint64_t total;
    size_t n;
    int more;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    for (uint32_t i = 10; i > 0; i--) {
        id_of(i, id);
        rec.id.data = id;
        rec.id.len = 16;
        rec.author = "ag-a1";
        assert_int_equal(store_put_incident(&t, &rec), RL_OK);
    }
    assert_int_equal(store_commit(&t), RL_OK);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_page_ids(&t, "incidents", NULL, 4, ids, &n, &more), RL_OK);
    assert_int_equal(n, 4);
    assert_int_equal(more, 1);
    id_of(1, id);
    assert_memory_equal(ids, id, 16);
    id_of(4, id);
    assert_memory_equal(ids + 48, id, 16);
    assert_int_equal(store_page_ids(&t, "incidents", id, 4, ids, &n, &more), RL_OK);
    id_of(5, id);
    assert_memory_equal(ids, id, 16);
    id_of(8, id);
    assert_int_equal(store_page_ids(&t, "incidents", id, 4, ids, &n, &more), RL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(more, 0);
    id_of(10, id);
    assert_int_equal(store_page_ids(&t, "incidents", id, 4, ids, &n, &more), RL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(more, 0);
    assert_int_equal(store_entries(&t, "incidents", &total), RL_OK);
    assert_true(total == 10);
    store_abort(&t);
    store_close(s);
}

/* test_abort - an aborted transaction leaves nothing, counters included */
static void
test_abort(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    struct store_counts c;
    Relay__IncidentRecord rec = RELAY__INCIDENT_RECORD__INIT;
    struct outbox_item items[4];
    uint8_t id[16], msg[40];
    uint64_t entries, bad;
    size_t n;

    id_of(1, id);
    payload(1, msg, sizeof(msg));
    rec.id.data = id;
    rec.id.len = 16;
    rec.author = "ag-a1";
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1), RL_OK);
    assert_int_equal(store_outbox_add(&t, "city", 0, id), RL_OK);
    assert_int_equal(store_outbox_add(&t, "city", 0, id), RL_OK);
    assert_int_equal(store_put_incident(&t, &rec), RL_OK);
    assert_int_equal(store_put_advisory(&t, id, 1), RL_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_audit(&t, 1, "received", id, "city", NULL),
                         RL_OK);
    store_abort(&t);
    store_abort(&t); /* twice is harmless */

    c = counts(s);
    assert_int_equal(
        c.messages + c.incidents + c.advisories + c.audit + c.outbox, 0);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_seen(&t, id), 0);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(entries, 0);
    assert_int_equal(bad, 0);
    store_abort(&t);

    /* the aborted audit entries and outbox numbers were not kept: the
     * chain starts at 1 again */
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_audit(&t, 2, "created", id, NULL, NULL), RL_OK);
    assert_int_equal(store_outbox_add(&t, "city", 0, id), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(entries, 1);
    assert_int_equal(bad, 0);
    assert_int_equal(store_outbox_first(&t, "city", 4, items, &n), RL_OK);
    assert_int_equal(n, 1);
    /* key: "city\0" prio seq(8, big endian) - the first seq is 1 */
    assert_int_equal(items[0].keylen, 5 + 1 + 8);
    assert_int_equal(items[0].key[5 + 1 + 7], 1);
    store_abort(&t);
    store_close(s);
}

/* test_outbox_del - removes exactly the entry named */
static void
test_outbox_del(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    struct outbox_item items[8], again[8];
    uint8_t id[16];
    uint64_t depth;
    size_t n, m;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    for (uint32_t i = 1; i <= 3; i++) {
        id_of(i, id);
        assert_int_equal(store_outbox_add(&t, "city", 1, id), RL_OK);
    }
    /* the same id queued for another peer is another entry */
    id_of(2, id);
    assert_int_equal(store_outbox_add(&t, "min", 1, id), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_outbox_first(&t, "city", 8, items, &n), RL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(store_outbox_del(&t, &items[1]), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_outbox_depth(&t, "city", &depth), RL_OK);
    assert_int_equal(depth, 2);
    assert_int_equal(store_outbox_first(&t, "city", 8, again, &m), RL_OK);
    assert_int_equal(m, 2);
    assert_memory_equal(again[0].id, items[0].id, 16);
    assert_memory_equal(again[1].id, items[2].id, 16);
    assert_int_equal(store_outbox_depth(&t, "min", &depth), RL_OK);
    assert_int_equal(depth, 1);
    /* deleting it again is fine and changes nothing */
    assert_int_equal(store_outbox_del(&t, &items[1]), RL_OK);
    assert_int_equal(store_outbox_depth(&t, "city", &depth), RL_OK);
    assert_int_equal(depth, 2);
    assert_int_equal(store_outbox_depth(&t, "min", &depth), RL_OK);
    assert_int_equal(depth, 1);
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);
}

/* Audit tampering: which entry, which byte, and what verify must say. */
enum audit_byte {
    AB_SEQ,       /* the seq field's value */
    AB_AT,        /* a byte of at_us */
    AB_WHAT,      /* a byte of the what text */
    AB_DETAIL,    /* a byte of the detail text */
    AB_PREV_HASH, /* a byte of prev_hash */
    AB_TAG,       /* the first field tag: the entry no longer decodes */
    AB_DELETE,    /* no byte: the entry is deleted */
    AB_TRUNCATE,  /* no byte: the entry and all after it are deleted */
};

struct audit_case {
    const char *name;
    uint64_t seq; /* the entry changed, of AUDIT_N */
    enum audit_byte which;
};

#define AUDIT_N 6 /* fewer than 256: the last key byte is the seq */

static const struct audit_case audit_cases[] = {
    {"audit: seq of entry 3", 3, AB_SEQ},
    {"audit: time of entry 3", 3, AB_AT},
    {"audit: what of entry 3", 3, AB_WHAT},
    {"audit: detail of entry 3", 3, AB_DETAIL},
    {"audit: prev_hash of entry 3", 3, AB_PREV_HASH},
    {"audit: undecodable entry 3", 3, AB_TAG},
    {"audit: what of entry 1", 1, AB_WHAT},
    {"audit: prev_hash of entry 1", 1, AB_PREV_HASH},
    {"audit: what of the last entry", AUDIT_N, AB_WHAT},
    {"audit: prev_hash of the last entry", AUDIT_N, AB_PREV_HASH},
    {"audit: entry 3 deleted", 3, AB_DELETE},
    {"audit: last two entries deleted", AUDIT_N - 1, AB_TRUNCATE},
    {"audit: every entry deleted", 1, AB_TRUNCATE},
};
#define NAUDIT (sizeof(audit_cases) / sizeof(audit_cases[0]))

/* find - offset of needle in hay, which must hold it */
static size_t
find(const uint8_t *hay, size_t hlen, const void *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (memcmp(hay + i, needle, nlen) == 0)
            return i;
    fail_msg("byte pattern not found in the entry");
    return 0;
}

/* tamper - change one byte of audit entry seq with raw LMDB */
static void
tamper(const char *dir, uint64_t seq, enum audit_byte which)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k, v;
    Relay__AuditEntry *e;
    uint8_t key[8], *val;
    size_t off = 0;

    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(seq >> (8 * (7 - i)));
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "audit", 0, &dbi), 0);
    k.mv_size = 8;
    k.mv_data = key;
    if (which == AB_DELETE || which == AB_TRUNCATE) {
        for (uint64_t n = seq; n <= (which == AB_DELETE ? seq : AUDIT_N); n++) {
            key[7] = (uint8_t)n;
            assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
        }
        assert_int_equal(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
        return;
    }
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    val = malloc(v.mv_size);
    assert_non_null(val);
    memcpy(val, v.mv_data, v.mv_size);
    e = relay__audit_entry__unpack(NULL, v.mv_size, val);
    assert_non_null(e);
    assert_true(e->seq == seq);
    switch (which) {
    case AB_SEQ: /* tag 0x08, then the varint */
        assert_int_equal(val[0], 0x08);
        off = 1;
        break;
    case AB_AT: /* tag 0x10 after the one-byte seq */
        assert_int_equal(val[2], 0x10);
        off = 3;
        break;
    case AB_WHAT:
        off = find(val, v.mv_size, e->what, strlen(e->what));
        break;
    case AB_DETAIL:
        off = find(val, v.mv_size, e->detail, strlen(e->detail));
        break;
    case AB_PREV_HASH:
        off = find(val, v.mv_size, e->prev_hash.data, e->prev_hash.len) + 5;
        break;
    case AB_TAG:
    default:
        off = 0;
        break;
    }
    /* flip the low bit: a varint stays a varint of the same length */
    val[off] ^= which == AB_TAG ? 0x07 : 0x01;
    relay__audit_entry__free_unpacked(e, NULL);
    v.mv_data = val;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    free(val);
}

/* run_audit - AUDIT_N entries verify; one changed byte is found where it is */
static void
run_audit(void **state)
{
    struct unit_tmp *tmp = *state;
    const struct audit_case *c = tmp->c;
    static const char *const whats[] = {"created", "received", "queued",
                                        "acked",   "refused",  "duplicate"};
    struct store *s = open_store(tmp, 1, 8);
    struct store_txn t;
    uint64_t entries, bad;
    uint8_t id[16];
    char dir[128];

    /* two transactions: the chain continues across commits */
    for (int part = 0; part < 2; part++) {
        assert_int_equal(store_begin(s, 1, &t), RL_OK);
        for (int i = part * AUDIT_N / 2; i < (part + 1) * AUDIT_N / 2; i++) {
            id_of((uint32_t)i, id);
            assert_int_equal(store_audit(&t, 1700000000000000 + i, whats[i], id,
                                         "city-c", "detail text"),
                             RL_OK);
        }
        assert_int_equal(store_commit(&t), RL_OK);
    }
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    assert_int_equal(entries, AUDIT_N);
    assert_int_equal(bad, 0);
    store_abort(&t);
    store_close(s);

    store_dir(tmp, dir, sizeof(dir));
    tamper(dir, c->seq, c->which);

    s = open_store(tmp, 1, 8);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_audit_verify(&t, &entries, &bad), RL_OK);
    if (bad != c->seq)
        fail_msg("entry %llu changed, verify says first_bad=%llu",
                 (unsigned long long)c->seq, (unsigned long long)bad);
    assert_int_equal(entries, c->seq - 1);
    store_abort(&t);
    store_close(s);
}

#define BIG (64 * 1024) /* one message */

/* put_batch - messages first..first+n-1 in one transaction */
static int
put_batch(struct store *s, uint32_t first, uint32_t n, uint8_t *buf)
{
    struct store_txn t;
    uint8_t id[16];
    int rc;

    if ((rc = store_begin(s, 1, &t)) != RL_OK)
        return rc;
    for (uint32_t i = first; i < first + n; i++) {
        id_of(i, id);
        payload(i, buf, BIG);
        if ((rc = store_put_message(&t, id, buf, BIG, i)) != RL_OK) {
            store_abort(&t);
            return rc;
        }
    }
    rc = store_commit(&t);
    store_abort(&t); /* after a failed commit: a no-op */
    return rc;
}

/* check_messages - 1..n are all there and intact */
static void
check_messages(struct store *s, uint32_t n, uint8_t *want)
{
    struct store_txn t;
    uint8_t id[16], *got;
    size_t len;

    assert_int_equal(counts(s).messages, n);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    for (uint32_t i = 1; i <= n; i++) {
        id_of(i, id);
        payload(i, want, BIG);
        assert_int_equal(store_get_message(&t, id, &got, &len), RL_OK);
        assert_int_equal(len, BIG);
        if (memcmp(got, want, BIG) != 0)
            fail_msg("message %u changed", i);
        free(got);
    }
    store_abort(&t);
}

/* test_map_growth - 3 MiB into a 1 MiB map: grow on RL_EFULL and retry */
static void
test_map_growth(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    uint8_t *buf = malloc(BIG);
    uint32_t next = 1, total = 48; /* 48 x 64 KiB = 3 MiB */
    int grows = 0, rc;

    assert_non_null(buf);
    assert_int_equal(counts(s).map_bytes, 1 << 20);
    assert_int_equal(store_map_max_mb(s), 8);
    while (next <= total) {
        rc = put_batch(s, next, 8, buf);
        if (rc == RL_EFULL) {
            assert_false(store_nearly_full(s));
            assert_int_equal(store_grow(s), RL_OK);
            assert_true(++grows <= 3); /* 1 -> 2 -> 4 -> 8 at most */
            continue;
        }
        assert_int_equal(rc, RL_OK);
        next += 8;
    }
    assert_true(grows >= 2); /* 3 MiB does not fit in 2 MiB */
    assert_true(counts(s).map_bytes >= (uint64_t)4 << 20);
    check_messages(s, total, buf);
    store_close(s);

    /* reopened with the configured 1 MiB: the file's size is kept */
    s = open_store(*state, 1, 8);
    assert_true(counts(s).map_bytes >= (uint64_t)3 << 20);
    check_messages(s, total, buf);
    store_close(s);
    free(buf);
}

/* test_map_limit - at map_max_mb: RL_EFULL, and nothing is damaged */
static void
test_map_limit(void **state)
{
    struct store *s = open_store(*state, 1, 2);
    struct store_txn t;
    uint8_t *buf = malloc(BIG), id[16];
    uint32_t next = 1;
    int rc, grow_rc = RL_OK;

    assert_non_null(buf);
    for (;;) {
        rc = put_batch(s, next, 1, buf);
        if (rc == RL_OK) {
            next++;
            continue;
        }
        assert_int_equal(rc, RL_EFULL);
        grow_rc = store_grow(s);
        if (grow_rc == RL_EFULL)
            break;
        assert_int_equal(grow_rc, RL_OK);
    }
    assert_true(next > 16); /* 2 MiB holds well over 16 x 64 KiB */
    assert_int_equal(counts(s).map_bytes, 2 << 20);
    assert_true(store_nearly_full(s));
    assert_int_equal(store_grow(s), RL_EFULL); /* and stays so */
    /* a refused put leaves the transaction clean to abort */
    assert_int_equal(put_batch(s, next, 1, buf), RL_EFULL);
    check_messages(s, next - 1, buf);
    /* small work still fits: the outbox entry for the last message */
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    id_of(next - 1, id);
    assert_int_equal(store_outbox_add(&t, "city", 0, id), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);

    s = open_store(*state, 1, 2);
    check_messages(s, next - 1, buf);
    assert_int_equal(counts(s).outbox, 1);
    store_close(s);
    free(buf);
}

/* test_readonly - a read-only open sees the data and cannot write */
static void
test_readonly(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    char dir[128];
    uint8_t id[16], msg[16] = {1};

    id_of(1, id);
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);

    store_dir(*state, dir, sizeof(dir));
    assert_int_equal(store_open(dir, 1, 8, 1, &s), RL_OK);
    assert_int_equal(counts(s).messages, 1);
    assert_int_not_equal(store_begin(s, 1, &t), RL_OK);
    store_close(s);
}

/* A damaged data.mdb: how it is damaged, and what store_file_check says. */
struct file_case {
    const char *name;
    long size;      /* truncate to this many bytes; -1: keep, -2..: percent = -size-2 */
    long poke;      /* offset of a byte to change, -1: none */
    int rc;
    const char *says;
};

static const struct file_case file_cases[] = {
    {"file_whole", -1, -1, RL_OK, NULL},
    {"file_zero_length", 0, -1, RL_ECORRUPT, "is empty (0 bytes)"},
    {"file_one_page", 4096, -1, RL_ECORRUPT, "shorter than its two meta pages"},
    {"file_8k", 8192, -1, RL_ECORRUPT, "(truncated)"},
    {"file_50_percent", -52, -1, RL_ECORRUPT, "counts"},
    {"file_90_percent", -92, -1, RL_ECORRUPT, "counts"},
    {"file_one_page_short", -3, -1, RL_ECORRUPT, "(truncated)"}, /* size minus 4096 */
    {"file_bad_magic", -1, 16, RL_ECORRUPT, "not an LMDB file"},
    {"file_bad_version", -1, 20, RL_ECORRUPT, "not an LMDB file"},
    {"file_second_meta_bad", -1, 4096 + 16, RL_ECORRUPT, "second meta page (at byte 4096)"},
};
#define NFILE (sizeof(file_cases) / sizeof(file_cases[0]))

/* run_file_case - a store of 300 messages, damaged as the row says */
static void
run_file_case(void **state)
{
    const struct unit_tmp *tmp = *state;
    const struct file_case *fc = tmp->c;
    struct store *s = open_store(tmp, 8, 8);
    struct store_txn t;
    uint8_t id[16], msg[900];
    char dir[128], path[160], why[512] = "";
    struct stat st;
    long size;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    for (uint32_t i = 0; i < 300; i++) {
        id_of(i, id);
        payload(i, msg, sizeof(msg));
        assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1), RL_OK);
    }
    assert_int_equal(store_commit(&t), RL_OK);
    store_close(s);
    store_dir(tmp, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    assert_int_equal(stat(path, &st), 0);
    size = fc->size == -3 ? (long)st.st_size - 4096
           : fc->size <= -2 ? (long)st.st_size * (-fc->size - 2) / 100
                            : fc->size;
    if (fc->size != -1)
        assert_int_equal(truncate(path, size), 0);
    if (fc->poke >= 0) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, fc->poke, SEEK_SET), 0);
        assert_int_equal(fputc(0x5a, f), 0x5a);
        fclose(f);
    }
    assert_int_equal(store_file_check(dir, why, sizeof(why)), fc->rc);
    if (fc->says)
        assert_non_null(strstr(why, fc->says));
}

/* test_record_tag - a changed byte in a stored message is RL_ECORRUPT */
static void
test_record_tag(void **state)
{
    struct store *s = open_store(*state, 1, 8);
    struct store_txn t;
    uint8_t id[16], msg[64], *out = NULL;
    char dir[128];
    size_t len;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {16, id}, v;

    id_of(7, id);
    payload(7, msg, sizeof(msg));
    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    assert_int_equal(store_put_message(&t, id, msg, sizeof(msg), 1), RL_OK);
    assert_int_equal(store_commit(&t), RL_OK);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_get_message(&t, id, &out, &len), RL_OK);
    assert_int_equal(len, sizeof(msg));
    assert_memory_equal(out, msg, sizeof(msg));
    free(out);
    store_abort(&t);
    store_close(s);

    store_dir(*state, dir, sizeof(dir));
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
    assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "messages", 0, &dbi), 0);
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_int_equal(v.mv_size, sizeof(msg) + STORE_TAG_LEN);
    uint8_t changed[64 + STORE_TAG_LEN];
    memcpy(changed, v.mv_data, v.mv_size);
    changed[10] ^= 1;
    v.mv_data = changed;
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s = open_store(*state, 1, 8);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(store_get_message(&t, id, &out, &len), RL_ECORRUPT);
    store_abort(&t);
    store_close(s);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        UNIT_TMP_TEST(test_reopen),     UNIT_TMP_TEST(test_seen),
        UNIT_TMP_TEST(test_abort),      UNIT_TMP_TEST(test_outbox_del),
        UNIT_TMP_TEST(test_map_growth), UNIT_TMP_TEST(test_map_limit),
        UNIT_TMP_TEST(test_readonly),   UNIT_TMP_TEST(test_requests),
        UNIT_TMP_TEST(test_page_ids),   UNIT_TMP_TEST(test_record_tag),
    };
    struct CMUnitTest tests[NAUDIT + NFILE + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NAUDIT; i++)
        tests[n++] =
            (struct CMUnitTest){audit_cases[i].name, run_audit, unit_tmp_setup,
                                unit_tmp_teardown, (void *)&audit_cases[i]};
    for (size_t i = 0; i < NFILE; i++)
        tests[n++] = (struct CMUnitTest){file_cases[i].name, run_file_case, unit_tmp_setup,
                                         unit_tmp_teardown, (void *)&file_cases[i]};
    return _cmocka_run_group_tests("store", tests, n, NULL, NULL);
}
