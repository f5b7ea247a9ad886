/*
 * view.c - what an operator reads: incidents with their due times, lists,
 * one message, the node's status (issue 10: the views of control.c, apart).
 *
 * Every view reads in one read transaction and builds JSON; nothing here
 * writes. A list reads one bounded page (issue 8 finding 8). A record
 * that cannot be read is counted and named, never left out silently.
 *
 * DIAGNOSTICS: "cannot read the store" is 503; an id that is not held here
 * is 404, and one held but damaged says so (run relayctl store check).
 */
#include "view.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drill.h"
#include "envelope.h"
#include "form.h"
#include "inbox.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "plan.h"
#include "policy.h"

#define VIEW_PAGE 100          /* list: records per page by default */
#define VIEW_PAGE_MAX 1000     /* ... and at most */
#define VIEW_SCAN 5000         /* list: records read per request, at most */

/* view_message - a stored message decoded: RL_OK, RL_ENOTFOUND, or the error */
int
view_message(struct store_txn *t, const uint8_t id[16], struct env_msg *m)
{
    const char *why;
    uint8_t *buf;
    size_t len;
    int rc = store_get_message(t, id, &buf, &len);

    if (rc != RL_OK)
        return rc;
    rc = env_open(buf, len, SIZE_MAX, m, &why);
    free(buf);
    return rc;
}

/* hops_json - the path a stored envelope took to reach this node */
static json_t *
hops_json(const struct env_msg *m)
{
    json_t *arr = json_array();

    json_array_append_new(arr, json_pack("{s:s,s:o,s:s}", "node", m->body->author,
                                         "at", api_time(m->body->created_us),
                                         "what", "created"));
    for (size_t i = 0; i < m->env->n_hops; i++)
        if (strcmp(m->env->hops[i]->node, m->body->author) != 0)
            json_array_append_new(arr, json_pack("{s:s,s:o,s:s}", "node",
                                                 m->env->hops[i]->node, "at",
                                                 api_time(m->env->hops[i]->received_us),
                                                 "what", "stored"));
    return arr;
}

/* view_due - one due time: when, met or not, time left or overdue */
static json_t *
view_due(const Relay__Due *d, int active, int64_t now)
{
    const char *state;
    json_t *o;

    if (d->met_us)
        state = d->met_us <= d->due_us ? "met" : "met late";
    else if (!active)
        state = "not met (incident closed or withdrawn)";
    else
        state = now > d->due_us ? "overdue" : "open";
    o = json_pack("{s:s,s:s,s:o,s:o,s:s,s:b,s:b}", "deadline",
                  policy_deadline_name((int)d->which), "rule",
                  policy_deadline_rule_id((int)d->which), "due", api_time(d->due_us),
                  "met", api_time(d->met_us), "state", state, "notice_sent", d->fired,
                  "judged_here", d->owner);
    if (!d->met_us && active) {
        int64_t s = (d->due_us - now) / 1000000;
        json_object_set_new(o, s >= 0 ? "left_s" : "overdue_s",
                            json_integer(s >= 0 ? s : -s));
    }
    return o;
}

/* view_overdue - how many of r's due times are past and unmet */
static int
view_overdue(const Relay__IncidentRecord *r, int64_t now)
{
    int k = 0;

    if (!plan_dues_run(r))
        return 0;
    for (size_t i = 0; i < r->n_dues; i++)
        if (r->dues[i]->due_us && !r->dues[i]->met_us && now > r->dues[i]->due_us)
            k++;
    return k;
}

/* view_queue_reason - why r is in this node's review queue, or NULL
 * (R-REVIEW, R-LEVEL-3, R-CLOSE-REVIEW; R-LATE-REVIEW at the national node) */
static const char *
view_queue_reason(struct node *n, const Relay__IncidentRecord *r, int64_t now)
{
    int target = r->target[0] && strcmp(r->target, n->self->id) == 0;
    int national = n->cfg.tier == TIER_NATIONAL;

    if (!r->have_report || r->state == RELAY__INCIDENT_STATE__WITHDRAWN ||
        r->state == RELAY__INCIDENT_STATE__CLOSED)
        return NULL;
    if (target) {
        if (r->state == RELAY__INCIDENT_STATE__CLOSING)
            return "closure review (R-CLOSE-REVIEW)";
        if (r->requested_level)
            return "level change requested (R-LEVEL-3)";
        if (!r->reviewed_level)
            return "level review (R-REVIEW)";
        return NULL;
    }
    if (national && !r->national_reviewed) {
        for (size_t i = 0; i < r->n_dues; i++)
            if (r->dues[i]->which == POL_D_REVIEW && r->dues[i]->due_us &&
                !r->dues[i]->met_us && now > r->dues[i]->due_us)
                return "supervisor late: the national center may review (R-LATE-REVIEW)";
    }
    return NULL;
}

/* view_seen_us - a neighbour's last answer, seen_ms (monotonic, 0: never
 * since this process started), as node-clock time; 0 for never */
static int64_t
view_seen_us(int64_t seen_ms, int64_t now_ms)
{
    return seen_ms > 0 ? clock_now_us() - (now_ms - seen_ms) * 1000 : 0;
}

/* view_down_since - null while connected; else when the neighbour was last
 * seen, or this process's start if never */
static json_t *
view_down_since(const struct node *n, int connected, int64_t seen_us)
{
    return connected ? json_null() : api_time(seen_us ? seen_us : n->started_us);
}

/* view_phone_script - R-OFFLINE: at the author's node, while the report
 * has not reached its target, whom to call and what to tell them (the
 * facts of offline_warn in node/router.c, for the console to say in its
 * operator's language and time zone); NULL otherwise */
static json_t *
view_phone_script(struct node *n, const Relay__IncidentRecord *r)
{
    const Relay__Due *d = NULL;
    const struct dir_node *tg;
    int64_t now_ms = clock_mono_ms();
    int up;
    char hex[ENV_ID_HEX];

    for (size_t i = 0; i < r->n_dues; i++)
        if (r->dues[i]->which == POL_D_REPORT)
            d = r->dues[i];
    if (strcmp(r->author, n->self->id) != 0 || d == NULL || d->met_us || !r->target ||
        !r->target[0] || n->parent == NULL)
        return NULL;
    tg = dir_find(node_dir(n), r->target);
    up = link_up_connected(n, now_ms);
    env_id_hex(r->id.data, hex);
    return json_pack("{s:s,s:o,s:o,s:o,s:i,s:s,s:s,s:b,s:o}", "target", r->target, "contact",
                     tg && tg->contact[0] ? json_string(tg->contact) : json_null(), "due",
                     api_time(d->due_us), "aware_at", api_time(r->aware_us), "level",
                     plan_level(r), "id", hex, "agency", r->author, "link_connected", up,
                     "link_since",
                     view_down_since(n, up, view_seen_us(atomic_load(&n->up_ok_ms), now_ms)));
}

/* view_incident - incident record plus its report's title, due times
 * and hops */
json_t *
view_incident(struct node *n, struct store_txn *t, const uint8_t id[16],
                  int full, int64_t now, Relay__IncidentRecord **keep)
{
    Relay__IncidentRecord *r;
    struct env_msg m;
    const char *q;
    json_t *v, *dues;
    int rc = RL_OK;

    if (store_get_incident(t, id, &r) != RL_OK)
        return NULL;
    v = form_incident_json(r);
    if (r->have_report && (rc = view_message(t, id, &m)) == RL_OK) {
        json_object_set_new(v, "title", json_string(m.body->report->title));
        if (full) {
            json_object_set_new(v, "hops", hops_json(&m));
            json_object_set_new(v, "report", form_body_json(m.body));
        }
        env_msg_free(&m);
    } else if (r->have_report &&
               (rc != RL_ENOTFOUND || store_has(t, "corrupt", id, 16) != 0)) {
        /* a damaged report, or one moved to corrupt when the outbox met it,
         * is said, never left out silently (issue 8) */
        json_object_set_new(v, "report_unreadable", json_true());
    }
    dues = json_array();
    for (size_t i = 0; i < r->n_dues; i++)
        if (r->dues[i]->due_us)
            json_array_append_new(dues, view_due(r->dues[i], plan_dues_run(r), now));
    json_object_set_new(v, "dues", dues);
    if (full) {
        json_t *ps = view_phone_script(n, r);
        if (ps)
            json_object_set_new(v, "phone_script", ps);
    }
    json_object_set_new(v, "overdue", json_integer(view_overdue(r, now)));
    q = view_queue_reason(n, r, now);
    json_object_set_new(v, "queue", q ? json_string(q) : json_null());
    if (keep)
        *keep = r;
    else
        relay__incident_record__free_unpacked(r, NULL);
    return v;
}


/* view_list_one - the view of one listed record into *v (NULL when the
 * filter leaves it out); -1 when the record cannot be read */
static int
view_list_one(struct node *n, struct store_txn *t, const char *db, const char *filter,
             const uint8_t id[16], int64_t now, json_int_t *real, json_int_t *drill,
             json_t **v)
{
    struct env_msg m;

    *v = NULL;
    if (strcmp(db, "drills") == 0) {
        Relay__DrillRecord *d;
        if (store_get_drill(t, id, &d) != RL_OK)
            return -1;
        *v = drill_json(d, now);
        relay__drill_record__free_unpacked(d, NULL);
    } else if (strcmp(db, "advisories") == 0 || strcmp(db, "drill_notices") == 0) {
        if (view_message(t, id, &m) != RL_OK)
            return -1;
        *v = form_body_json(m.body);
        if (*v && strcmp(db, "advisories") == 0)
            inbox_advisory_note(n, t, m.body, *v, NULL);
        else if (*v)
            inbox_notice_note(n, t, &m, *v);
        env_msg_free(&m);
    } else {
        Relay__IncidentRecord *r = NULL;
        if ((*v = view_incident(n, t, id, 0, now, &r)) == NULL || r == NULL)
            return -1;
        if (json_is_true(json_object_get(*v, "report_unreadable"))) {
            json_decref(*v); /* counted, with its id, as unreadable */
            *v = NULL;
            relay__incident_record__free_unpacked(r, NULL);
            return -1;
        }
        if (filter && !(strcmp(filter, "overdue") == 0 ? view_overdue(r, now) > 0
                                                       : view_queue_reason(n, r, now) != NULL)) {
            json_decref(*v);
            *v = NULL;
        } else {
            *(r->drill ? drill : real) += 1;
        }
        relay__incident_record__free_unpacked(r, NULL);
    }
    return 0;
}

/* view_list - one page of the incidents, advisories or drills held here, in
 * id order; incidents can be narrowed to the overdue ones or to this
 * node's review queue ("filter"). A page holds at most "limit" records
 * (default VIEW_PAGE, at most VIEW_PAGE_MAX) and reads at most VIEW_SCAN
 * records, so neither the reply nor the work grows with the store (issue 8
 * finding 8); "next" is the cursor of the following page, null after the
 * last. A record that cannot be read is counted in "unreadable", never
 * skipped silently. */
static json_t *
view_list(struct api_req *r, const char *what)
{
    struct node *n = r->n;
    const char *filter = api_str(r, "filter");
    const char *cur = api_str(r, "cursor");
    int adv = strcmp(what, "advisories") == 0;
    int drills = strcmp(what, "drills") == 0 || strcmp(what, "drill_notices") == 0;
    const char *db = adv ? "advisories" : drills ? what : "incidents";
    int64_t now = clock_now_us();
    json_int_t real = 0, drill = 0;
    long long limit;
    uint8_t after[16], ids[16 * 256];
    size_t got, scanned = 0, unreadable = 0;
    uint64_t total = 0;
    int more = 1, have_after = 0, rc = RL_OK;
    struct store_txn t;
    json_t *arr, *bad, *rep;
    char hex[ENV_ID_HEX];

    if (filter && ((adv || drills) ||
                   (strcmp(filter, "overdue") != 0 && strcmp(filter, "queue") != 0)))
        return api_error(r, 400, "filter", "filter: must be overdue or queue (incidents only), not '%.60s'", filter);
    if (api_int(r, "limit", VIEW_PAGE, 1, VIEW_PAGE_MAX, &limit, &rep) != 0)
        return rep;
    if (cur && env_id_parse(cur, after) != 0)
        return api_error(r, 400, "cursor", "cursor: '%.60s' is not one this node gave", cur);
    have_after = cur != NULL;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    arr = json_array();
    bad = json_array();
    while (more && (long long)json_array_size(arr) < limit && scanned < VIEW_SCAN) {
        size_t want = (size_t)(limit - (long long)json_array_size(arr));
        if (filter)
            want = VIEW_SCAN - scanned; /* most are left out: read ahead */
        if (want > sizeof(ids) / 16)
            want = sizeof(ids) / 16;
        if ((rc = store_page_ids(&t, db, have_after ? after : NULL, want, ids, &got, &more)) !=
            RL_OK)
            break;
        for (size_t i = 0; i < got; i++) {
            json_t *v;
            scanned++;
            memcpy(after, ids + 16 * i, 16);
            have_after = 1;
            if (view_list_one(n, &t, db, filter, ids + 16 * i, now, &real, &drill, &v) != 0) {
                unreadable++;
                env_id_hex(ids + 16 * i, hex);
                if (json_array_size(bad) < 16)
                    json_array_append_new(bad, json_string(hex));
            } else if (v) {
                json_array_append_new(arr, v);
            }
            if ((long long)json_array_size(arr) == limit && i + 1 < got) {
                more = 1;
                break;
            }
        }
    }
    if (rc == RL_OK)
        rc = store_entries(&t, db, &total);
    store_abort(&t);
    if (rc != RL_OK) {
        json_decref(arr);
        json_decref(bad);
        return api_error(r, 503, NULL, "cannot read the store");
    }
    rep = api_ok();
    /* the list under the db's name; drill notices as "notices" */
    json_object_set_new(rep, strcmp(db, "drill_notices") == 0 ? "notices" : db, arr);
    if (!adv && !drills) /* R-DRILL: drills are counted apart (this page) */
        json_object_set_new(rep, "counts", json_pack("{s:I,s:I}", "real", real, "drill", drill));
    json_object_set_new(rep, "total", json_integer((json_int_t)total));
    json_object_set_new(rep, "scanned", json_integer((json_int_t)scanned));
    env_id_hex(after, hex);
    json_object_set_new(rep, "next", more && have_after ? json_string(hex) : json_null());
    json_object_set_new(rep, "unreadable", json_integer((json_int_t)unreadable));
    json_object_set_new(rep, "unreadable_ids", bad);
    if (unreadable)
        log_warn("list: %zu %s record(s) could not be read (first %s): run relayctl store check",
                 unreadable, db, json_string_value(json_array_get(bad, 0)));
    return rep;
}


/* view_readable - RL_OK when no incident id is held here or it
 * reads; RL_EIO when one is held but damaged */
static int
view_readable(struct store_txn *t, const uint8_t id[16])
{
    Relay__IncidentRecord *r = NULL;
    int rc = store_get_incident(t, id, &r);

    if (r)
        relay__incident_record__free_unpacked(r, NULL);
    return rc == RL_OK || rc == RL_ENOTFOUND ? RL_OK : RL_EIO;
}

/* view_show - one incident (its view with hops and messages), or, unless
 * only incidents are asked for, one message */
static json_t *
view_show(struct api_req *r, int only_incidents)
{
    struct node *n = r->n;
    struct store_txn t;
    struct env_msg m;
    uint8_t id[16];
    json_t *v, *rep;
    int rc;

    if (api_id(r, "id", id) != 0)
        return api_error(r, 400, "id", "id: must be 32 hex digits");
    if (store_begin(n->store, 0, &t) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store");
    v = view_incident(n, &t, id, 1, clock_now_us(), NULL);
    if (v) {
        store_abort(&t);
        rep = api_ok();
        json_object_set_new(rep, "incident", v);
        return rep;
    }
    if ((rc = view_readable(&t, id)) == RL_OK &&
        (rc = view_message(&t, id, &m)) == RL_OK) {
        store_abort(&t);
        if (only_incidents) {
            env_msg_free(&m);
            return api_error(r, 404, "id", "that id is a message, not an incident: GET /api/v1/messages/%s", api_str(r, "id"));
        }
        v = form_body_json(m.body);
        json_object_set_new(v, "hops", hops_json(&m));
        env_msg_free(&m);
        rep = api_ok();
        json_object_set_new(rep, "message", v);
        return rep;
    }
    if (rc == RL_ENOTFOUND && store_has(&t, "corrupt", id, 16) != 0)
        rc = RL_ECORRUPT; /* moved to corrupt: held here, not readable */
    store_abort(&t);
    if (rc != RL_ENOTFOUND) /* held here, but damaged: never "not here" */
        return api_error(r, 409, "id", "that record is held here but cannot be read: run relayctl store check");
    return api_error(r, 404, "id", "no %s with that id here", only_incidents ? "incident" : "incident or message");
}

/* link_json - one neighbour's state; seen_ms is when it last answered
 * (monotonic ms, 0: not since this node started), shown as wall time:
 * "last_seen", and "down_since" while it is not connected */
static json_t *
link_json(struct node *n, struct store_txn *t, const char *peer, int up,
          int connected, int64_t seen_ms, int64_t now_ms)
{
    int64_t seen_us = view_seen_us(seen_ms, now_ms);
    uint64_t depth = 0, acked = 0, held = 0;
    int64_t last = 0;
    json_t *o;

    if (store_outbox_depth(t, peer, &depth) != RL_OK ||
        store_held_depth(t, peer, &held) != RL_OK ||
        store_peer_get(t, peer, &last, &acked) != RL_OK)
        return NULL;
    o = json_pack("{s:s,s:s,s:b,s:I,s:I,s:o,s:I}", "peer", peer, "direction",
                  up ? "up" : "down", "connected", connected, "outbox",
                  (json_int_t)depth, "held", (json_int_t)held,
                  "last_ack", api_time(last), "acked", (json_int_t)acked);
    if (o) {
        json_object_set_new(o, "last_seen", api_time(seen_us));
        json_object_set_new(o, "down_since", view_down_since(n, connected, seen_us));
    }
    if (o && up && atomic_load(&n->up_skew_at_us) != 0) {
        /* the parent's clock minus ours, from its last reply */
        int skew_ok;
        char why[400];
        json_object_set_new(o, "clock_skew_ms",
                            json_integer((json_int_t)(atomic_load(&n->up_skew_us) / 1000)));
        json_object_set_new(o, "clock_skew_measured",
                            api_time(atomic_load(&n->up_skew_at_us)));
        if (link_skew_check(n, &skew_ok, why, sizeof(why)))
            json_object_set_new(o, "clock_warning", json_string(why));
    }
    return o;
}

/* view_status_verb - node, counts, links */
json_t *
view_status_verb(struct api_req *r)
{
    struct node *n = r->n;
    struct store_counts c;
    struct store_txn t;
    json_t *rep, *links;
    int64_t now_ms = clock_mono_ms();

    if (store_begin(n->store, 0, &t) != RL_OK || store_counts(&t, &c) != RL_OK) {
        store_abort(&t);
        return api_error(r, 503, NULL, "cannot read the store");
    }
    rep = api_ok();
    json_object_set_new(rep, "node", json_string(n->self->id));
    json_object_set_new(rep, "tier", json_string(config_tier_name(n->cfg.tier)));
    json_object_set_new(rep, "clock", json_string(clock_is_manual() ? "manual" : "system"));
    json_object_set_new(rep, "now", api_time(clock_now_us()));
    json_object_set_new(rep, "policy", json_string(n->pol.name));
    json_object_set_new(rep, "policy_source", json_string(n->pol_source));
    /* the warning window: the console shows a due time amber this long
     * before it (the policy's R-OFFLINE warn_before) */
    json_object_set_new(rep, "warn_before_s", json_integer(n->pol.offline_warn_us / 1000000));
    json_object_set_new(rep, "directory_seq", json_integer((json_int_t)node_dir(n)->seq));
    json_object_set_new(rep, "counts",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "messages", (json_int_t)c.messages,
                  "incidents", (json_int_t)c.incidents, "advisories",
                  (json_int_t)c.advisories, "audit", (json_int_t)c.audit,
                  "outbox", (json_int_t)c.outbox, "held", (json_int_t)c.held,
                  "map_bytes", (json_int_t)c.map_bytes, "used_bytes",
                  (json_int_t)c.used_bytes, "corrupt", (json_int_t)c.corrupt));
    links = json_array();
    if (n->parent)
        json_array_append_new(links, link_json(n, &t, n->parent->id, 1,
                                               link_up_connected(n, now_ms),
                                               atomic_load(&n->up_ok_ms), now_ms));
    for (size_t i = 0; i < node_dir(n)->n; i++) {
        const struct dir_node *d = &node_dir(n)->nodes[i];
        int parked;
        json_t *l;
        if (d->parent_ix < 0 || strcmp(node_dir(n)->nodes[d->parent_ix].id, n->self->id) != 0)
            continue;
        l = link_json(n, &t, d->id, 0, link_down_connected(n, i, now_ms, &parked),
                      link_down_seen_ms(n, i), now_ms);
        if (l) /* a poll of the child waits here for something to deliver */
            json_object_set_new(l, "poll_parked", json_boolean(parked));
        json_array_append_new(links, l);
    }
    store_abort(&t);
    json_object_set_new(rep, "links", links);
    return rep;
}


/* The list and show verbs (rows in node/control.c) */
json_t *
view_incidents_verb(struct api_req *r)
{
    return view_list(r, "incidents");
}

json_t *
view_advisories_verb(struct api_req *r)
{
    return view_list(r, "advisories");
}

json_t *
view_drills_verb(struct api_req *r)
{
    return view_list(r, "drills");
}

/* view_drill_notices_verb - the drill notices received (or sent) here */
json_t *
view_drill_notices_verb(struct api_req *r)
{
    return view_list(r, "drill_notices");
}

json_t *
view_incident_verb(struct api_req *r)
{
    return view_show(r, 1);
}

json_t *
view_message_verb(struct api_req *r)
{
    return view_show(r, 0);
}
