/*
 * held.c - messages a neighbour refused: held here with the reason, never
 * thrown away.
 *
 * A refusal by the next hop does not end a message's life. The outbox entry
 * becomes a HeldRecord (store "held", keyed by peer and id) with the reason,
 * when it happened and how often. A transient refusal (the peer's freshness
 * window, i.e. a clock off on one side) is queued again after a capped
 * exponential backoff on the node's clock; a permanent one (bad signature,
 * not authorized, too large) waits for an operator, who may release it (it
 * is queued again) or drop it with a reason. A drop is the only way a held
 * message leaves the queue without reaching the peer, and it is audited.
 * The message itself always stays in the store.
 *
 * Every function here runs inside the writer's transaction, so a hold, its
 * audit entry and its incident event commit together or not at all.
 *
 * DIAGNOSTICS: each hold is logged by the writer as a warning naming the
 * message, the peer and the reason; held_view lists them for operators, and
 * status counts them per link (store_held_depth).
 */
#include "held.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "log.h"
#include "node.h"
#include "router.h"

/* held_backoff_us - delay before the attempts-th retry of a transient hold */
static int64_t
held_backoff_us(const struct node *n, uint32_t attempts)
{
    int64_t ms = n->cfg.held_retry_min_ms;

    for (uint32_t i = 1; i < attempts && ms < n->cfg.held_retry_max_ms; i++)
        ms *= 2;
    if (ms > n->cfg.held_retry_max_ms)
        ms = n->cfg.held_retry_max_ms;
    return ms * 1000;
}

/* held_refused - peer refused the outbox entry it (already removed from the
 * outbox by the caller): keep it held with the reason */
int
held_refused(struct store_txn *t, struct node *n, const char *peer,
             const struct outbox_item *it, const char *reason, int transient,
             int64_t now)
{
    Relay__HeldRecord *old = NULL, r = RELAY__HELD_RECORD__INIT;
    char what[96];
    int rc;

    rc = store_held_get(t, peer, it->id, &old);
    if (rc != RL_OK && rc != RL_ENOTFOUND)
        return rc;
    r.id.data = (uint8_t *)it->id;
    r.id.len = 16;
    r.peer = (char *)peer;
    r.prio = it->keylen > 9 ? it->key[it->keylen - 9] : 0;
    r.reason = (char *)(reason && reason[0] ? reason : "refused (no reason given)");
    r.at_us = old ? old->at_us : now;
    r.last_us = now;
    r.transient = transient;
    r.attempts = (old ? old->attempts : 0) + 1;
    r.next_us = transient ? now + held_backoff_us(n, r.attempts) : 0;
    r.queued = 0;
    rc = store_held_put(t, &r);
    if (old)
        relay__held_record__free_unpacked(old, NULL);
    if (rc == RL_OK)
        rc = store_audit(t, now, "held", it->id, peer, r.reason);
    snprintf(what, sizeof(what), "refused by %.63s", peer);
    if (rc == RL_OK)
        rc = router_note_held(t, n, it->id, peer, now, what, r.reason);
    return rc;
}

/* held_forwarded - peer stored id: a hold it had, if any, is over */
int
held_forwarded(struct store_txn *t, const char *peer, const uint8_t id[16])
{
    int rc = store_held_del(t, peer, id);

    return rc == RL_ENOTFOUND ? RL_OK : rc;
}

/* held_queue - put a held message back in its peer's outbox */
static int
held_queue(struct store_txn *t, Relay__HeldRecord *r)
{
    int rc = store_outbox_add(t, r->peer, (uint8_t)r->prio, r->id.data);

    if (rc != RL_OK)
        return rc;
    r->queued = 1;
    return store_held_put(t, r);
}

/* A pass over the held queue. The store's iteration hands out records that
 * live only during the callback and must not be written meanwhile, so the
 * ones to change are collected first (copied), then changed. */
struct held_pass {
    const uint8_t *id;       /* match: this message (NULL: any) */
    const char *peer;        /* match: this peer (NULL: any) */
    int64_t due_before;      /* > 0: transient, not queued, next_us <= this */
    int waiting_only;        /* match only records not queued */
    int none;                /* match nothing (only next_us is wanted) */
    Relay__HeldRecord **v;   /* matches, packed-unpacked copies */
    size_t n, cap;
    int64_t next_us;         /* earliest next_us of a waiting transient one */
};

/* held_match - collect a copy of r when it matches the pass */
static int
held_match(void *arg, const Relay__HeldRecord *r)
{
    struct held_pass *p = arg;
    Relay__HeldRecord *c;
    uint8_t *buf;
    size_t len;

    if (r->transient && !r->queued &&
        (p->next_us == 0 || r->next_us < p->next_us))
        p->next_us = r->next_us;
    if (p->none)
        return RL_OK;
    if (p->id && (r->id.len != 16 || memcmp(r->id.data, p->id, 16) != 0))
        return RL_OK;
    if (p->peer && strcmp(r->peer, p->peer) != 0)
        return RL_OK;
    if (p->waiting_only && r->queued)
        return RL_OK;
    if (p->due_before > 0 && (!r->transient || r->queued || r->next_us > p->due_before))
        return RL_OK;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        Relay__HeldRecord **nv = realloc(p->v, cap * sizeof(*nv));
        if (nv == NULL)
            return RL_ENOMEM;
        p->v = nv;
        p->cap = cap;
    }
    len = relay__held_record__get_packed_size(r);
    if ((buf = malloc(len ? len : 1)) == NULL)
        return RL_ENOMEM;
    relay__held_record__pack(r, buf);
    c = relay__held_record__unpack(NULL, len, buf);
    free(buf);
    if (c == NULL)
        return RL_ENOMEM;
    p->v[p->n++] = c;
    return RL_OK;
}

/* held_pass_free - release a pass's copies */
static void
held_pass_free(struct held_pass *p)
{
    for (size_t i = 0; i < p->n; i++)
        relay__held_record__free_unpacked(p->v[i], NULL);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

/* held_retry_due - queue again every transient hold whose time has come */
int
held_retry_due(struct store_txn *t, int64_t now, int *acted)
{
    struct held_pass p = {.due_before = now};
    char hex[ENV_ID_HEX];
    int rc = store_held_each(t, held_match, &p);

    for (size_t i = 0; rc == RL_OK && i < p.n; i++) {
        rc = held_queue(t, p.v[i]);
        if (rc == RL_OK)
            rc = store_audit(t, now, "retry", p.v[i]->id.data, p.v[i]->peer,
                             p.v[i]->reason);
        if (rc == RL_OK) {
            env_id_hex(p.v[i]->id.data, hex);
            log_info("msg=%s peer=%s held message queued again (attempt %u)", hex,
                     p.v[i]->peer, p.v[i]->attempts + 1);
        }
    }
    if (rc == RL_OK)
        *acted += (int)p.n;
    held_pass_free(&p);
    return rc;
}

/* held_next_us - when the earliest waiting transient hold is due (0: none) */
int
held_next_us(struct store_txn *t, int64_t *next_us)
{
    struct held_pass p = {.none = 1};
    int rc;

    rc = store_held_each(t, held_match, &p);
    *next_us = p.next_us;
    held_pass_free(&p);
    return rc;
}

/* held_find - how many holds of id (for peer, or any) there are */
int
held_find(struct store_txn *t, const uint8_t id[16], const char *peer, int waiting_only,
          int *count)
{
    struct held_pass p = {.id = id, .peer = peer, .waiting_only = waiting_only};
    int rc = store_held_each(t, held_match, &p);

    *count = (int)p.n;
    held_pass_free(&p);
    return rc;
}

/* held_release - an operator queues held message id (for peer, or every
 * peer) again; *count says how many holds it ended */
int
held_release(struct store_txn *t, struct node *n, const uint8_t id[16],
             const char *peer, int64_t now, int *count)
{
    struct held_pass p = {.id = id, .peer = peer, .waiting_only = 1};
    int rc = store_held_each(t, held_match, &p);

    *count = 0;
    for (size_t i = 0; rc == RL_OK && i < p.n; i++) {
        Relay__HeldRecord *r = p.v[i];
        r->transient = 0;
        r->next_us = 0;
        if ((rc = held_queue(t, r)) == RL_OK &&
            (rc = store_audit(t, now, "released", id, r->peer, r->reason)) == RL_OK &&
            (rc = router_note_held(t, n, id, "operator", now, "released",
                                   r->peer)) == RL_OK)
            (*count)++;
    }
    held_pass_free(&p);
    return rc;
}

/* held_drop - an operator gives up held message id (for peer, or every
 * peer), with a reason; the message stays stored, the drop is audited */
int
held_drop(struct store_txn *t, struct node *n, const uint8_t id[16],
          const char *peer, const char *reason, int64_t now, int *count)
{
    struct held_pass p = {.id = id, .peer = peer};
    int rc = store_held_each(t, held_match, &p);

    *count = 0;
    for (size_t i = 0; rc == RL_OK && i < p.n; i++) {
        Relay__HeldRecord *r = p.v[i];
        char why[512];
        /* the audit keeps why it was held as well as why it was dropped */
        snprintf(why, sizeof(why), "%s (held: %s)", reason, r->reason ? r->reason : "");
        if (r->queued && (rc = store_outbox_remove_id(t, r->peer, id)) != RL_OK)
            break;
        if ((rc = store_held_del(t, r->peer, id)) == RL_OK &&
            (rc = store_audit(t, now, "dropped", id, r->peer, why)) == RL_OK &&
            (rc = router_note_held(t, n, id, "operator", now, "dropped", why)) == RL_OK)
            (*count)++;
    }
    held_pass_free(&p);
    return rc;
}

/* A view: a page of records after the first skip, and how many there
 * are in all. */
struct held_list {
    json_t *a;
    size_t total, skip, limit;
};

/* held_json_add - one record as JSON into the list */
static int
held_json_add(void *arg, const Relay__HeldRecord *r)
{
    struct held_list *l = arg;
    char hex[ENV_ID_HEX], at[40], last[40], next[40];
    const char *state;
    json_t *o;

    if (l->total++ < l->skip || json_array_size(l->a) >= l->limit)
        return RL_OK;
    if (r->id.len == 16)
        env_id_hex(r->id.data, hex);
    else
        strcpy(hex, "-");
    clock_format_iso(r->at_us, at, sizeof(at));
    clock_format_iso(r->last_us, last, sizeof(last));
    clock_format_iso(r->next_us, next, sizeof(next));
    state = r->queued ? "queued again" : r->transient ? "retry" : "waiting for operator";
    o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:i,s:s}", "id", hex, "peer", r->peer,
                  "reason", r->reason, "first", at, "last", last, "transient",
                  r->transient, "attempts", (int)r->attempts, "state", state);
    if (o && r->transient && !r->queued)
        json_object_set_new(o, "next_retry", json_string(next));
    return o && json_array_append_new(l->a, o) == 0 ? RL_OK : RL_ENOMEM;
}

/* held_view - a page of the held messages as a new JSON array, and their
 * number in all in *total */
json_t *
held_view(struct store_txn *t, size_t skip, size_t limit, size_t *total)
{
    struct held_list l = {json_array(), 0, skip, limit > HELD_VIEW_MAX ? HELD_VIEW_MAX : limit};

    if (l.a == NULL || store_held_each(t, held_json_add, &l) != RL_OK) {
        json_decref(l.a);
        return NULL;
    }
    *total = l.total;
    return l.a;
}
