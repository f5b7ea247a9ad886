/*
 * audit_verbs.c - the audit log as an operator and a parent see it
 * (issue 10: from control.c): the chain check, the signed head with the
 * entries (for `relayctl audit export`), a child's latest signed head, and
 * which message ids were never stored here (for `relayctl audit check`).
 * The chain and head formats are node/audit.h's.
 */
#include "audit_verbs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "envelope.h"
#include "keys.h"
#include "node.h"

/* audit_verify_verb - walk the audit chain */
json_t *
audit_verify_verb(struct api_req *r)
{
    struct node *n = r->n;
    struct store_txn t;
    uint64_t entries, bad, total = 0;
    uint8_t head[32];
    json_t *rep;
    int rc;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    rc = store_audit_verify(&t, &entries, &bad);
    if (rc == RL_OK) /* the entries the head counts: "broken at 28: 27 intact of 40" */
        rc = store_audit_head(&t, &total, head);
    store_abort(&t);
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the audit log");
    rep = api_ok();
    json_object_set_new(rep, "entries", json_integer((json_int_t)entries));
    json_object_set_new(rep, "intact", json_boolean(bad == 0));
    json_object_set_new(rep, "first_bad", bad ? json_integer((json_int_t)bad) : json_null());
    json_object_set_new(rep, "total", json_integer((json_int_t)total));
    return rep;
}

/* audit_entries_verb - the signed head and a range of raw entries; the head
 * is read in the same transaction, so the entries end at or after it */
json_t *
audit_entries_verb(struct api_req *r)
{
    struct node *n = r->n;
    long long from;
    ProtobufCBinaryData v[512];
    struct store_txn t;
    uint8_t hash[32], *head;
    uint64_t seq;
    size_t cnt, hl;
    char *hex;
    json_t *arr, *rep;
    int rc;

    if (api_int(r, "from", 1, 1, INT64_MAX, &from, &rep) != 0)
        return rep;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    rc = store_audit_head(&t, &seq, hash);
    if (rc == RL_OK)
        rc = store_audit_range(&t, (uint64_t)from, 512, v, &cnt);
    store_abort(&t);
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the audit log");
    if (audit_head_seal(n->self->id, seq, hash, clock_now_us(), n->kp, &head, &hl) != RL_OK) {
        for (size_t i = 0; i < cnt; i++)
            free(v[i].data);
        return api_error(r, 503, NULL, "cannot sign the audit head");
    }
    arr = json_array();
    for (size_t i = 0; i < cnt; i++) {
        if ((hex = malloc(2 * v[i].len + 1)) != NULL) {
            keys_hex(v[i].data, v[i].len, hex);
            json_array_append_new(arr, json_string(hex));
            free(hex);
        }
        free(v[i].data);
    }
    rep = api_ok();
    if ((hex = malloc(2 * hl + 1)) != NULL) {
        keys_hex(head, hl, hex);
        json_object_set_new(rep, "head", json_string(hex));
        free(hex);
    }
    free(head);
    json_object_set_new(rep, "seq", json_integer((json_int_t)seq));
    json_object_set_new(rep, "entries", arr);
    return rep;
}

/* audit_head_verb - the latest signed audit head a child sent on its link */
json_t *
audit_head_verb(struct api_req *r)
{
    struct node *n = r->n;
    const char *child = api_str(r, "child");
    const struct directory *d = node_dir(n);
    json_t *rep;
    char *hex = NULL;
    size_t ix;

    if (child == NULL)
        return api_error(r, 400, "child", "audit head: give the child");
    for (ix = 0; ix < d->n && strcmp(d->nodes[ix].id, child) != 0; ix++)
        ;
    if (ix == d->n || d->nodes[ix].parent_ix < 0 ||
        strcmp(d->nodes[d->nodes[ix].parent_ix].id, n->self->id) != 0)
        return api_error(r, 404, "child", "audit head: '%.64s' is not a child of this node", child);
    pthread_mutex_lock(&n->mu);
    if (n->child_heads && ix < n->n_child_seen && n->child_heads[ix].len &&
        (hex = malloc(2 * n->child_heads[ix].len + 1)) != NULL)
        keys_hex(n->child_heads[ix].data, n->child_heads[ix].len, hex);
    pthread_mutex_unlock(&n->mu);
    rep = api_ok();
    json_object_set_new(rep, "head", hex ? json_string(hex) : json_null());
    free(hex);
    return rep;
}

/* audit_seen_verb - which of these message ids this node has never stored */
json_t *
audit_seen_verb(struct api_req *r)
{
    struct node *n = r->n;
    json_t *ids = json_object_get(r->args, "ids"), *missing = json_array(), *v, *rep;
    struct store_txn t;
    size_t i;

    if (!json_is_array(ids) || json_array_size(ids) > 4096) {
        json_decref(missing);
        return api_error(r, 400, "ids", "seen: \"ids\" must be an array of at most 4096 ids");
    }
    if (store_begin(n->store, 0, &t) != RL_OK) {
        json_decref(missing);
        return api_error(r, 503, NULL, "cannot read the store");
    }
    json_array_foreach(ids, i, v)
    {
        uint8_t id[16];
        if (!json_is_string(v) || env_id_parse(json_string_value(v), id) != 0 ||
            store_seen(&t, id) != 1)
            json_array_append(missing, v);
    }
    store_abort(&t);
    rep = api_ok();
    json_object_set_new(rep, "missing", missing);
    return rep;
}

