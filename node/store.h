/*
 * store.h - the node's LMDB environment.
 *
 * One environment per node, these named databases:
 *   messages   id(16)                 -> Envelope bytes as stored here (with our hop)
 *   seen       id(16)                 -> first-seen time (8 bytes); dedupe, permanent
 *   outbox     peer\0 prio(1) seq(8)  -> id(16): what still has to reach a neighbour
 *   incidents  id(16)                 -> IncidentRecord
 *   advisories id(16)                 -> received time (8 bytes)
 *   audit      seq(8, big endian)     -> AuditEntry, hash-chained
 *   peers      peer                   -> PeerRecord (last ack)
 *   meta       name                   -> counters (outbox seq, audit head)
 *   dues       due(8) iid(16) which(1) -> empty: armed due times this node
 *                                        judges (policy), earliest first
 *   drills     id(16)                 -> DrillRecord (drills started here)
 *   drill_notices notice id(16)       -> drill id(16)
 *   dirlog     seq(8, big endian)     -> SignedDirChange (node/dirlog.h)
 *   held       peer\0 id(16)          -> HeldRecord: a message peer refused,
 *                                        kept with the reason (node/held.c)
 *   requests   'R' request(16) / 'F' form hash(16) / 'T' expiry index:
 *              operator requests' first answers and recent report forms
 *   corrupt    id(16)                 -> CorruptRecord: a message taken out of
 *                                        service by `store check`, kept
 *   operators  name                   -> OperatorRecord: an account of the
 *                                        HTTP API (node/account.c)
 *   receipts   id(16) node            -> delivered(8) read(8): advisory
 *                                        receipts (node/store_receipt.c): at
 *                                        the author, one per recipient that
 *                                        answered; at a recipient, its own
 *                                        (when an operator here read it)
 *   meta also holds node_id and node_pk, written once by --init: a store
 *   without them, or with another node's, is refused at start.
 *
 * Checked on read (issue 8): messages, incidents, drills and operators end in a
 * 16-byte BLAKE2b tag over key and value (STORE_TAG_LEN); a mismatch is
 * logged with db and key and returned as RL_ECORRUPT, never skipped.
 * audit is re-verified as a hash chain (store_audit_verify), dirlog by its
 * root signatures at every start (dirlog_build). The small fixed-size
 * records (seen, outbox, advisories, peers, dues, drill_notices, receipts,
 * meta) are
 * checked by size on read and by cross-reference in `store check`
 * (node/store_check.c); a tag would double them for little gain.
 *
 * Before the store is opened, store_lock takes <dir>/relay.lock (one node
 * per store) and store_file_check compares data.mdb's size with LMDB's own
 * meta pages, so that a truncated file is refused instead of mapped (a read
 * past its end is SIGBUS).
 *
 * Write transactions come from one thread at a time (node/writer.c). Values
 * read from LMDB are copied before the transaction ends. The map grows on
 * MDB_MAP_FULL up to map_max_mb; past that store_commit and the put calls
 * return RL_EFULL and nothing is half-written.
 */
#ifndef RELAY_STORE_H
#define RELAY_STORE_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "relay.pb-c.h"

#define STORE_PEER_MAX 64
#define STORE_KEY_MAX (STORE_PEER_MAX + 1 + 1 + 8)
#define STORE_TAG_LEN 16 /* BLAKE2b tag after each checked record */

struct store;

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    int write;
    uint64_t outbox_seq; /* working copies, published on commit */
    uint64_t audit_seq;
    uint8_t audit_hash[32];
    char (*queued)[STORE_PEER_MAX]; /* peers given outbox entries (heap) */
    size_t n_queued, cap_queued;
    const char *actor; /* the operator every store_audit entry names (the
                        * writer sets it per work, issue 10); NULL: none */
};

struct outbox_item {
    uint8_t key[STORE_KEY_MAX];
    size_t keylen;
    uint8_t id[16];
};

struct store_counts {
    uint64_t messages, incidents, advisories, audit, outbox, corrupt, held;
    uint64_t map_bytes, used_bytes;
};

/* store_open - open or create the environment in directory dir. With
 * readonly set the environment is opened MDB_RDONLY (tools, benchmarks).
 * Caller closes with store_close. */
int store_open(const char *dir, int64_t map_mb, int64_t map_max_mb,
               int readonly, struct store **out) RL_MUST_CHECK;
void store_close(struct store *s);

/* store_begin - start a transaction; every begin needs commit or abort. */
int store_begin(struct store *s, int write, struct store_txn *t) RL_MUST_CHECK;
/* store_commit - commit (fsync). RL_OK, RL_EFULL (map full), RL_EIO. */
int store_commit(struct store_txn *t) RL_MUST_CHECK;
void store_abort(struct store_txn *t);
/* store_grow - double the map, up to map_max_mb; RL_EFULL at the limit.
 * No transaction of this process may be open in the calling thread. */
int store_grow(struct store *s) RL_MUST_CHECK;
/* store_nearly_full - 1 when the map is at its limit and over 90% used:
 * new work is refused so acknowledgements (deletions) still fit. */
int store_nearly_full(struct store *s);
int64_t store_map_max_mb(const struct store *s);

/* Messages. store_put_message also records the id in seen. */
int store_seen(struct store_txn *t, const uint8_t id[16]) RL_MUST_CHECK;
int store_put_message(struct store_txn *t, const uint8_t id[16],
                      const uint8_t *env, size_t len, int64_t at_us) RL_MUST_CHECK;
/* store_get_message - copy of the stored envelope in *out (malloc). */
int store_get_message(struct store_txn *t, const uint8_t id[16], uint8_t **out,
                      size_t *len) RL_MUST_CHECK;

/* Outbox per neighbour, ordered by prio (0 first) then arrival. */
int store_outbox_add(struct store_txn *t, const char *peer, uint8_t prio,
                     const uint8_t id[16]) RL_MUST_CHECK;
/* store_outbox_first - up to max items for peer, in order, into items. */
int store_outbox_first(struct store_txn *t, const char *peer, size_t max,
                       struct outbox_item *items, size_t *n) RL_MUST_CHECK;
int store_outbox_del(struct store_txn *t, const struct outbox_item *it) RL_MUST_CHECK;
/* store_outbox_remove_id - delete id from peer's outbox (a scan); RL_OK
 * also when it is not there. */
int store_outbox_remove_id(struct store_txn *t, const char *peer,
                           const uint8_t id[16]) RL_MUST_CHECK;
int store_outbox_depth(struct store_txn *t, const char *peer, uint64_t *n) RL_MUST_CHECK;

/* Incidents. *out is unpacked (relay__incident_record__free_unpacked). */
int store_get_incident(struct store_txn *t, const uint8_t id[16],
                       Relay__IncidentRecord **out) RL_MUST_CHECK;
int store_put_incident(struct store_txn *t, const Relay__IncidentRecord *r) RL_MUST_CHECK;
/* store_list_ids - every id of db "incidents", "advisories" or "drills", n of them, in *ids (malloc 16*n). */
int store_list_ids(struct store_txn *t, const char *db, uint8_t **ids,
                   size_t *n) RL_MUST_CHECK;

/* Due times (node/router.c arms them, node/timer.c fires them). */
struct store_due {
    int64_t due_us;
    uint8_t iid[16];
    int which; /* enum pol_deadline */
};
int store_due_put(struct store_txn *t, const struct store_due *d) RL_MUST_CHECK;
int store_due_del(struct store_txn *t, const struct store_due *d) RL_MUST_CHECK;
/* store_due_upto - up to max armed due times <= until_us, earliest first,
 * into out; *next_us is the first one left behind (later than until_us,
 * or past max), 0 if none. */
int store_due_upto(struct store_txn *t, int64_t until_us, size_t max,
                   struct store_due *out, size_t *n, int64_t *next_us) RL_MUST_CHECK;

/* Drills. *out is unpacked (relay__drill_record__free_unpacked). */
int store_get_drill(struct store_txn *t, const uint8_t id[16],
                    Relay__DrillRecord **out) RL_MUST_CHECK;
int store_put_drill(struct store_txn *t, const Relay__DrillRecord *r) RL_MUST_CHECK;
int store_put_drill_notice(struct store_txn *t, const uint8_t notice[16],
                           const uint8_t drill[16]) RL_MUST_CHECK;
int store_get_drill_notice(struct store_txn *t, const uint8_t notice[16],
                           uint8_t drill[16]) RL_MUST_CHECK;

/* The signed directory's changes, by sequence number. store_dirlog_all
 * returns 1, 2, ... up to the first missing one (*v and each data malloc'd). */
int store_dirlog_put(struct store_txn *t, uint64_t seq, const uint8_t *buf,
                     size_t len) RL_MUST_CHECK;
int store_dirlog_get(struct store_txn *t, uint64_t seq, uint8_t **out,
                     size_t *len) RL_MUST_CHECK;
int store_dirlog_all(struct store_txn *t, ProtobufCBinaryData **v, size_t *n) RL_MUST_CHECK;

int store_put_advisory(struct store_txn *t, const uint8_t id[16], int64_t at_us) RL_MUST_CHECK;
/* store_advisory_at - when advisory id was listed here (received or
 * issued): RL_OK, RL_ENOTFOUND. */
int store_advisory_at(struct store_txn *t, const uint8_t id[16], int64_t *at_us) RL_MUST_CHECK;

/* Advisory receipts (issue 11, node/store_receipt.c): for message id and
 * node, when it was delivered there and when an operator there read it
 * (0: not known). store_receipt_note keeps the earliest non-zero time of
 * each; store_receipt_get returns RL_ENOTFOUND when none is recorded;
 * store_receipt_each calls fn for every node recorded for id, in name
 * order, and stops at its first non-zero return (returned). */
int store_receipt_note(struct store_txn *t, const uint8_t id[16], const char *node,
                       int64_t delivered_us, int64_t read_us) RL_MUST_CHECK;
int store_receipt_get(struct store_txn *t, const uint8_t id[16], const char *node,
                      int64_t *delivered_us, int64_t *read_us) RL_MUST_CHECK;
typedef int (*store_receipt_fn)(void *arg, const char *node, int64_t delivered_us,
                                int64_t read_us);
int store_receipt_each(struct store_txn *t, const uint8_t id[16], store_receipt_fn fn,
                       void *arg) RL_MUST_CHECK;

/* store_audit - append one hash-chained entry, naming t->actor if set. */
int store_audit(struct store_txn *t, int64_t at_us, const char *what,
                const uint8_t *msg, const char *peer, const char *detail) RL_MUST_CHECK;
/* store_audit_verify - recompute the chain; *bad is the first changed,
 * missing or undecodable entry's seq, or 0 when the chain is intact;
 * *entries counts the intact entries (before *bad, if any). */
int store_audit_verify(struct store_txn *t, uint64_t *entries, uint64_t *bad) RL_MUST_CHECK;
/* store_audit_head - the number of entries and the chain's hash. */
int store_audit_head(struct store_txn *t, uint64_t *seq, uint8_t hash[32]) RL_MUST_CHECK;
/* store_audit_range - raw bytes of entries from..from+max-1 (fewer at the
 * end) into v (caller array of max; each data malloc'd). */
int store_audit_range(struct store_txn *t, uint64_t from, size_t max,
                      ProtobufCBinaryData *v, size_t *n) RL_MUST_CHECK;
/* store_audit_link - the chain hash after entry bytes e, given prev. */
void store_audit_link(const uint8_t prev[32], const uint8_t *e, size_t len,
                      uint8_t out[32]);

/* Held messages (node/held.c). store_held_get returns RL_ENOTFOUND when
 * none; *out is unpacked (relay__held_record__free_unpacked). store_held_each
 * calls fn for every record (the record lives only during the call) and
 * stops at the first fn result that is not RL_OK, returning it. */
int store_held_put(struct store_txn *t, const Relay__HeldRecord *r) RL_MUST_CHECK;
int store_held_get(struct store_txn *t, const char *peer, const uint8_t id[16],
                   Relay__HeldRecord **out) RL_MUST_CHECK;
int store_held_del(struct store_txn *t, const char *peer, const uint8_t id[16]) RL_MUST_CHECK;
/* store_held_depth - the number of messages held for peer. */
int store_held_depth(struct store_txn *t, const char *peer, uint64_t *n) RL_MUST_CHECK;
int store_held_each(struct store_txn *t, int (*fn)(void *, const Relay__HeldRecord *),
                    void *arg) RL_MUST_CHECK;

/* Peers: when a neighbour last acknowledged something. */
int store_peer_acked(struct store_txn *t, const char *peer, int64_t at_us,
                     uint64_t n) RL_MUST_CHECK;
int store_peer_get(struct store_txn *t, const char *peer, int64_t *last_ack_us,
                   uint64_t *acked) RL_MUST_CHECK;

int store_counts(struct store_txn *t, struct store_counts *c) RL_MUST_CHECK;

/*
 * Operator requests (issue 8 finding 7), written by the writer in the
 * transaction of the work they answer. A request is known by a 16-byte key
 * (the hash of the client's request id); a report form by a 16-byte hash of
 * its canonical fields. Records older than a cutoff are expired in bounded
 * steps by store_requests_expire.
 *   store_request_get: RL_OK with *answer malloc'd (NUL-terminated, caller
 *   frees), RL_ENOTFOUND, or an error with nothing allocated.
 *   store_form_get: RL_OK with the incident filed from that form and when.
 *   A put replaces an older record with the same key.
 */
int store_request_get(struct store_txn *t, const uint8_t key[16], int64_t *at_us,
                      char **answer) RL_MUST_CHECK;
int store_request_put(struct store_txn *t, const uint8_t key[16], int64_t at_us,
                      const char *answer) RL_MUST_CHECK;
int store_form_get(struct store_txn *t, const uint8_t hash[16], int64_t *at_us,
                   uint8_t incident[16]) RL_MUST_CHECK;
int store_form_put(struct store_txn *t, const uint8_t hash[16], int64_t at_us,
                   const uint8_t incident[16]) RL_MUST_CHECK;
/* store_requests_expire - delete at most max records (of either kind)
 * stored before before_us, oldest first; *n says how many went. */
int store_requests_expire(struct store_txn *t, int64_t before_us, size_t max,
                          size_t *n) RL_MUST_CHECK;

/* Paged reads (issue 8 finding 8). store_page_ids - up to max ids of db
 * ("incidents", "advisories" or "drills") that follow after (NULL: from
 * the first), in id order, into the caller's ids (16*max bytes); *more is
 * 1 when ids are left after the last one returned. Reads nothing else. */
int store_page_ids(struct store_txn *t, const char *db, const uint8_t *after,
                   size_t max, uint8_t *ids, size_t *n, int *more) RL_MUST_CHECK;
/* Operator accounts (issue 10, node/store_operator.c), tagged like
 * messages. store_operator_get: RL_OK with *out unpacked
 * (relay__operator_record__free_unpacked), RL_ENOTFOUND, RL_ECORRUPT (tag
 * or decoding; logged) with *out NULL. store_operator_put writes r under
 * r->name (1..STORE_PEER_MAX-1 bytes), replacing a record of that name.
 * store_operator_list: every record in name order, *n of them, in *v
 * (malloc'd array of unpacked records; store_operator_list_free); on
 * failure (RL_ECORRUPT for a damaged one) *v is NULL and *n 0. */
int store_operator_get(struct store_txn *t, const char *name,
                       Relay__OperatorRecord **out) RL_MUST_CHECK;
int store_operator_put(struct store_txn *t, const Relay__OperatorRecord *r) RL_MUST_CHECK;
int store_operator_list(struct store_txn *t, Relay__OperatorRecord ***v,
                        size_t *n) RL_MUST_CHECK;
void store_operator_list_free(Relay__OperatorRecord **v, size_t n);

/* store_lock - take the exclusive lock <dir>/relay.lock and write our pid
 * in it; *fd stays open for the life of the process. RL_EDUP when another
 * process holds it (its pid in *holder), RL_EIO when it cannot be made. */
int store_lock(const char *dir, int *fd, long *holder) RL_MUST_CHECK;
/* store_file_check - read data.mdb's two LMDB meta pages (never mapping
 * the file) and refuse a file that is empty, not LMDB, or shorter than the
 * pages the newer valid meta counts. RL_OK; RL_ENOTFOUND when there is no
 * data.mdb; RL_ECORRUPT; RL_EIO. The reason, naming sizes, is put in why. */
int store_file_check(const char *dir, char *why, size_t whylen) RL_MUST_CHECK;
/* store_identity_get - node id (NUL-terminated) and key recorded by --init;
 * RL_ENOTFOUND when the store has none. */
int store_identity_get(struct store_txn *t, char id[STORE_PEER_MAX], uint8_t pk[32])
    RL_MUST_CHECK;
int store_identity_put(struct store_txn *t, const char *id, const uint8_t pk[32])
    RL_MUST_CHECK;
/* store_blank - 1 when the LMDB environment in dir holds no named db at
 * all, 0 when it holds some, <0 when it cannot be opened (read-only). */
int store_blank(const char *dir) RL_MUST_CHECK;
/* store_is_empty - 1 when nothing is stored yet, 0 if something is, <0 error. */
int store_is_empty(struct store_txn *t) RL_MUST_CHECK;

/* store_walk - call fn for every record of db (any named db of the list
 * above: "messages", "incidents", "drills", "outbox", "dues", ...) in key
 * order; stops when fn returns non-zero. For tagged dbs val is the payload
 * without its tag, or, when damaged is set (tag mismatch, logged), the whole
 * stored value. key and val live until fn returns. */
typedef int (*store_walk_fn)(void *arg, const uint8_t *key, size_t klen,
                             const uint8_t *val, size_t vlen, int damaged);
int store_walk(struct store_txn *t, const char *db, store_walk_fn fn, void *arg)
    RL_MUST_CHECK;
/* store_has - 1 when db holds key, 0 when not, <0 on error. */
int store_has(struct store_txn *t, const char *db, const uint8_t *key, size_t klen)
    RL_MUST_CHECK;
/* store_on_queue - after every commit that queued outbox entries, fn(arg,
 * peer) runs in the committing thread once for each peer concerned (a
 * peer may be named more than once), so that a parked poll wakes only
 * for its own child. fn must not block or open a transaction. Set it
 * before any writer runs. */
void store_on_queue(struct store *s, void (*fn)(void *arg, const char *peer), void *arg);
/* store_entries - the record count LMDB keeps for db. */
int store_entries(struct store_txn *t, const char *db, uint64_t *n) RL_MUST_CHECK;
/* store_quarantine - move message id, as stored, to corrupt with reason and
 * time, remove the outbox entries that named it, and audit the move
 * ("quarantined"). Its seen mark stays: it is not accepted again.
 * RL_ENOTFOUND when there is no such message. */
int store_quarantine(struct store_txn *t, const uint8_t id[16], const char *reason,
                     int64_t at_us) RL_MUST_CHECK;

#endif
