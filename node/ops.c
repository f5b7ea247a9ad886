/*
 * ops.c - an operator's housekeeping verbs: held messages (list, release,
 * drop), waiting for a message or for empty outboxes, the controlled clock,
 * and the store check (issue 10: from control.c).
 *
 * DIAGNOSTICS: release and drop say how many holds they acted on, or 404
 * naming the id and peer when there were none; drop needs a reason, which
 * is audited. A wait that times out is 503 "timed out".
 */
#include "ops.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "held.h"
#include "log.h"
#include "node.h"
#include "store_check.h"
#include "writer.h"

#define OPS_WAIT_MS 10000                          /* wait: default timeout_ms */
#define OPS_WAIT_MAX_MS (INT64_C(24) * 3600 * 1000) /* wait: longest timeout_ms */

/* ops_held_verb - a page of the held messages: refused by a neighbour,
 * kept with the reason; "cursor" is the number of records before the page */
json_t *
ops_held_verb(struct api_req *r)
{
    struct store_txn t;
    long long limit, skip;
    json_t *rep, *v;
    size_t total = 0;

    if (api_int(r, "limit", HELD_VIEW_MAX, 1, HELD_VIEW_MAX, &limit, &rep) != 0 ||
        api_int(r, "cursor", 0, 0, INT32_MAX, &skip, &rep) != 0)
        return rep;
    if (store_begin(r->n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    v = held_view(&t, (size_t)skip, (size_t)limit, &total);
    store_abort(&t);
    if (v == NULL)
        return api_error(r, 503, NULL, "cannot read the held messages");
    rep = api_ok();
    json_object_set_new(rep, "total", json_integer((json_int_t)total));
    json_object_set_new(rep, "next", (size_t)skip + json_array_size(v) < total &&
                                             json_array_size(v) > 0
                                         ? json_sprintf("%zu", (size_t)skip + json_array_size(v))
                                         : json_null());
    json_object_set_new(rep, "held", v);
    return rep;
}

/* ops_held_act - release or drop a held message {id, peer?, reason} */
static json_t *
ops_held_act(struct api_req *r, enum work_held_op op)
{
    const char *peer = api_str(r, "peer");
    const char *reason = api_str(r, "reason");
    const char *verb = op == WORK_HELD_RELEASE ? "release" : "drop";
    struct store_txn t;
    struct work wk;
    json_t *rep;
    int found, rc;

    memset(&wk, 0, sizeof(wk));
    if (api_id(r, "id", wk.held_id) != 0)
        return api_error(r, 400, "id", "%s: the id must be the 32 hex digits of a held message",
                         verb);
    if (op == WORK_HELD_DROP && (reason == NULL || reason[0] == '\0'))
        return api_error(r, 400, "reason", "drop: a reason is required (--reason): it is audited");
    if (reason && strlen(reason) > 1000)
        return api_error(r, 400, "reason", "drop: the reason is longer than 1000 bytes");
    wk.type = WORK_HELD;
    wk.held_op = op;
    wk.peer = peer && peer[0] ? peer : NULL;
    wk.held_reason = reason;
    /* the answer is known before the commit (it is kept with the work for
     * a retried request id): how many holds there are to act on now */
    if (store_begin(r->n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    rc = held_find(&t, wk.held_id, wk.peer, op == WORK_HELD_RELEASE, &found);
    store_abort(&t);
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the held messages");
    if (found == 0)
        return api_error(r, 404, "id", "%s: no message with that id is held%s%s%s%s", verb,
                         wk.peer ? " for '" : "", wk.peer ? wk.peer : "", wk.peer ? "'" : "",
                         op == WORK_HELD_RELEASE ? " and waiting" : "");
    rep = api_ok();
    json_object_set_new(rep, op == WORK_HELD_RELEASE ? "released" : "dropped",
                        json_integer(found));
    if ((rc = control_commit(r, &wk, rep)) != RL_OK) {
        json_decref(rep);
        return api_error(r, control_commit_status(rc), NULL, "not done: %s", wk.err);
    }
    return rep;
}

json_t *
ops_release_verb(struct api_req *r)
{
    return ops_held_act(r, WORK_HELD_RELEASE);
}

json_t *
ops_drop_verb(struct api_req *r)
{
    return ops_held_act(r, WORK_HELD_DROP);
}

/* ops_wait_done - is the condition of a wait true now */
static int
ops_wait_done(struct node *n, const uint8_t *id)
{
    struct store_txn t;
    struct store_counts c;
    int done = 0;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return 0;
    if (id)
        done = store_seen(&t, id) == 1;
    else
        done = store_counts(&t, &c) == RL_OK && c.outbox == 0;
    store_abort(&t);
    return done;
}

/* ops_wait - block until message id is stored (or, id NULL, every outbox is
 * empty), or timeout_ms pass */
static json_t *
ops_wait(struct api_req *r, const uint8_t *id)
{
    long long timeout;
    int64_t until;
    uint64_t seen = 0;
    json_t *err;

    if (api_int(r, "timeout_ms", OPS_WAIT_MS, 0, INT64_MAX, &timeout, &err) != 0)
        return err;
    /* clamped: mono + INT64_MAX overflowed into "timed out" (issue 8 finding 9) */
    if (timeout > OPS_WAIT_MAX_MS)
        timeout = OPS_WAIT_MAX_MS;
    until = clock_mono_ms() + timeout;
    for (;;) {
        if (ops_wait_done(r->n, id))
            return api_ok();
        int64_t left = until - clock_mono_ms();
        if (left <= 0)
            return api_error(r, 503, NULL, "timed out");
        if (node_wait_change(r->n, &seen, left) != 0)
            return api_error(r, 503, NULL, "node is stopping");
    }
}

json_t *
ops_wait_message_verb(struct api_req *r)
{
    uint8_t id[16];

    if (api_id(r, "id", id) != 0)
        return api_error(r, 400, "id", "wait: the id must be 32 hex digits");
    return ops_wait(r, id);
}

json_t *
ops_wait_outbox_verb(struct api_req *r)
{
    return ops_wait(r, NULL);
}

/* ops_clock_verb - move the controlled clock {"set": ISO} | {"advance_s": N} */
json_t *
ops_clock_verb(struct api_req *r)
{
    const char *set = api_str(r, "set");
    int64_t now = clock_now_us(), to;
    long long adv;
    json_t *rep;
    char iso[40];

    if (!clock_is_manual())
        return api_error(r, 409, NULL, "clock: this node runs on the system clock (set clock = manual:<time> in its config)");
    if (set) {
        if (clock_parse_iso(set, &to) != 0)
            return api_error(r, 400, "set", "clock: '%.60s' is not an ISO 8601 time with a zone", set);
    } else if (json_object_get(r->args, "advance_s")) {
        if (api_int(r, "advance_s", 0, 0, INT64_C(100) * 365 * 86400, &adv, &rep) != 0)
            return rep;
        to = now + (int64_t)adv * 1000000;
    } else {
        return api_error(r, 400, NULL, "clock: give \"set\": ISO time or \"advance_s\": seconds >= 0");
    }
    if (to < now)
        return api_error(r, 409, "set", "clock: time does not run backwards");
    clock_set_us(to);
    node_notify(r->n);
    clock_format_iso(to, iso, sizeof(iso));
    log_info("clock moved to %s by %s", iso, r->who ? r->who : "?");
    rep = api_ok();
    json_object_set_new(rep, "now", api_time(to));
    return rep;
}

/* ops_findings - findings as [{db, key, reason, moved}] */
static json_t *
ops_findings(const struct store_finding *f, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b}", "db", f[i].db, "key",
                                           f[i].key, "reason", f[i].reason, "moved",
                                           f[i].moved));
    return a;
}

/* ops_store_check_verb - scan the whole store (node/store_check.c);
 * damaged messages go to corrupt */
json_t *
ops_store_check_verb(struct api_req *r)
{
    struct store_check_report c;
    json_t *rep;
    int rc = store_check_run_as(r->n, r->who, &c);

    if (rc != RL_OK)
        return api_error(r, 503, NULL, "store check failed: %s", rl_strerror(rc));
    log_info("store check by %s: %zu finding(s)", r->who ? r->who : "?", c.n);
    rep = api_ok();
    json_object_set_new(rep, "intact", json_boolean(c.n == 0));
    json_object_set_new(rep, "damaged", ops_findings(c.found, c.n));
    json_object_set_new(rep, "corrupt", ops_findings(c.corrupt, c.ncorrupt));
    json_object_set_new(rep, "read",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "messages", (json_int_t)c.messages,
                  "incidents", (json_int_t)c.incidents, "drills", (json_int_t)c.drills,
                  "outbox", (json_int_t)c.outbox, "dues", (json_int_t)c.dues, "audit",
                  (json_int_t)c.audit));
    store_check_free(&c);
    return rep;
}
