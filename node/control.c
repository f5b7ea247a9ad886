/*
 * control.c - the operator's control socket.
 *
 * control_workers threads each own a rep context. A submit is validated
 * (node/form.c), addressed, signed as this node, and handed to the writer;
 * the reply goes out after the commit. Read verbs use read transactions.
 *
 * SECURITY: the socket is an ipc:// path; whoever can open it acts as this
 * node's operator. Keep it in a directory only the operator can reach.
 * DIAGNOSTICS: every ok:false reply names the field, id or rule at fault.
 */
#include "control.h"

#include <jansson.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "envelope.h"
#include "form.h"
#include "log.h"
#include "node.h"
#include "writer.h"

#define CTL_MAX_TO 4096

/* ctl_error - a reply {"ok":false,"error":...} */
static json_t *
ctl_error(const char *fmt, const char *arg)
{
    char msg[512];

    snprintf(msg, sizeof(msg), fmt, arg);
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *
ctl_ok(void)
{
    return json_pack("{s:b}", "ok", 1);
}

static json_t *
iso_json(int64_t us)
{
    char buf[40];

    if (us == 0)
        return json_null();
    clock_format_iso(us, buf, sizeof(buf));
    return json_string(buf);
}

/* ctl_incident_id - parse an "incident" or "id" field */
static int
ctl_id(json_t *obj, const char *key, uint8_t id[16])
{
    json_t *v = json_object_get(obj, key);

    return json_is_string(v) && env_id_parse(json_string_value(v), id) == 0 ? 0 : -1;
}

/* to_add - append a destination once */
static void
to_add(char **to, size_t *n, const char *id, const char *self)
{
    if (strcmp(id, self) == 0 || *n >= CTL_MAX_TO)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(to[i], id) == 0)
            return;
    to[(*n)++] = (char *)id;
}

/* ctl_audience - expand an advisory's audience into destinations */
static const char *
ctl_audience(struct node *n, const Relay__Advisory *a, char **to, size_t *nto)
{
    const char *scope = n->self->id;
    unsigned tiers = 0;

    if (a->audience && a->audience->scope[0])
        scope = a->audience->scope;
    if (!dir_find(&n->dir, scope))
        return "audience.scope names no node of the directory";
    if (!dir_in_subtree(&n->dir, n->self->id, scope))
        return "audience.scope is outside this node's subtree";
    if (a->audience)
        for (size_t i = 0; i < a->audience->n_tiers; i++)
            tiers |= 1u << a->audience->tiers[i];
    if (tiers == 0)
        tiers = 1u << TIER_AGENCY;
    for (size_t i = 0; i < n->dir.n; i++) {
        const struct dir_node *d = &n->dir.nodes[i];
        if (!(tiers & (1u << d->tier)) || !dir_in_subtree(&n->dir, scope, d->id))
            continue;
        if (a->audience && a->audience->sector && d->sector != (int)a->audience->sector)
            continue;
        to_add(to, nto, d->id, n->self->id);
    }
    return *nto ? NULL : "the audience names no node";
}

/* ctl_address - who a new message goes to, and whether this node may send it */
static const char *
ctl_address(struct node *n, Relay__Body *b, char **to, size_t *nto,
            uint8_t iid[16], int *has_iid)
{
    const ProtobufCBinaryData *ref = env_incident_of(b);
    const char *national = dir_national(&n->dir);
    Relay__IncidentRecord *r = NULL;
    struct store_txn t;
    const char *why = NULL;

    *has_iid = 0;
    if (b->kind_case == RELAY__BODY__KIND_ADVISORY) {
        if (n->cfg.tier == TIER_AGENCY || n->cfg.tier == TIER_OFFICE)
            return "only city, ministry and national nodes issue advisories";
        return ctl_audience(n, b->advisory, to, nto);
    }
    if (b->kind_case == RELAY__BODY__KIND_REPORT) {
        if (n->parent == NULL)
            return "the national node has no reporting target to report to";
        to_add(to, nto, n->parent->id, n->self->id);
        to_add(to, nto, national, n->self->id);
        memcpy(iid, b->id.data, 16);
        *has_iid = 1;
        return NULL;
    }
    memcpy(iid, ref->data, 16);
    *has_iid = 1;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return "cannot read the store";
    if (store_get_incident(&t, iid, &r) != RL_OK || !r->have_report) {
        store_abort(&t);
        if (r)
            relay__incident_record__free_unpacked(r, NULL);
        return "no such incident here";
    }
    store_abort(&t);
    const struct dir_node *author = dir_find(&n->dir, r->author);
    if (author == NULL) {
        why = "the incident's author is not in the directory";
    } else if (b->kind_case == RELAY__BODY__KIND_REVIEW) {
        int is_target = author->parent_ix >= 0 &&
                        &n->dir.nodes[author->parent_ix] == n->self;
        if (!is_target && n->cfg.tier != TIER_NATIONAL)
            why = "only the incident's reporting target or the national center reviews it";
        to_add(to, nto, author->id, n->self->id);
        to_add(to, nto, national, n->self->id);
    } else if (strcmp(author->id, n->self->id) != 0) {
        why = "only the agency that filed the incident sends this";
    } else {
        to_add(to, nto, n->parent->id, n->self->id);
        to_add(to, nto, national, n->self->id);
    }
    relay__incident_record__free_unpacked(r, NULL);
    return why;
}

/* ctl_submit - validate, address, sign, commit */
static json_t *
ctl_submit(struct node *n, json_t *req)
{
    const char *kind = json_string_value(json_object_get(req, "kind"));
    Relay__Body b = RELAY__BODY__INIT;
    static __thread char *to[CTL_MAX_TO];
    uint8_t id[ENV_ID_LEN], iid[16], *buf;
    char err[512], hex[ENV_ID_HEX];
    const char *why;
    size_t nto = 0, len;
    struct work_item it;
    struct work wk;
    json_t *rep;
    int has_iid, rc;

    if (kind == NULL)
        return ctl_error("%s", "submit needs \"kind\"");
    if (form_to_body(kind, json_object_get(req, "args"), clock_now_us(), &b,
                     err, sizeof(err)) != RL_OK)
        return ctl_error("%s", err);
    env_id_new(id);
    b.id.data = id;
    b.id.len = sizeof(id);
    b.author = (char *)n->self->id;
    b.created_us = clock_now_us();
    why = ctl_address(n, &b, to, &nto, iid, &has_iid);
    if (why) {
        form_body_clear(&b);
        return ctl_error("%s", why);
    }
    b.to = to;
    b.n_to = nto;
    rc = env_seal(&b, n->kp, &buf, &len);
    form_body_clear(&b);
    if (rc != RL_OK)
        return ctl_error("%s", rl_strerror(rc));
    memset(&it, 0, sizeof(it));
    rc = env_open(buf, len, (size_t)n->cfg.max_message_bytes, &it.m, &why);
    free(buf);
    if (rc != RL_OK)
        return ctl_error("message refused: %s", why);
    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.items = &it;
    wk.n = 1;
    rc = writer_run(n, &wk);
    if (rc != RL_OK) {
        env_msg_free(&it.m);
        return ctl_error("not stored: %s", wk.err);
    }
    rep = ctl_ok();
    env_id_hex(id, hex);
    json_object_set_new(rep, "id", json_string(hex));
    if (has_iid) {
        env_id_hex(iid, hex);
        json_object_set_new(rep, "incident", json_string(hex));
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < it.m.body->n_to; i++)
        json_array_append_new(arr, json_string(it.m.body->to[i]));
    json_object_set_new(rep, "to", arr);
    env_msg_free(&it.m);
    return rep;
}

/* ctl_message - a stored message decoded, or NULL */
static int
ctl_message(struct store_txn *t, const uint8_t id[16], struct env_msg *m)
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
                                         "at", iso_json(m->body->created_us),
                                         "what", "created"));
    for (size_t i = 0; i < m->env->n_hops; i++)
        if (strcmp(m->env->hops[i]->node, m->body->author) != 0)
            json_array_append_new(arr, json_pack("{s:s,s:o,s:s}", "node",
                                                 m->env->hops[i]->node, "at",
                                                 iso_json(m->env->hops[i]->received_us),
                                                 "what", "stored"));
    return arr;
}

/* ctl_incident_view - incident record plus its report's title and hops */
static json_t *
ctl_incident_view(struct store_txn *t, const uint8_t id[16], int full)
{
    Relay__IncidentRecord *r;
    struct env_msg m;
    json_t *v;

    if (store_get_incident(t, id, &r) != RL_OK)
        return NULL;
    v = form_incident_json(r);
    if (r->have_report && ctl_message(t, id, &m) == RL_OK) {
        json_object_set_new(v, "title", json_string(m.body->report->title));
        json_object_set_new(v, "aware_at", iso_json(m.body->report->aware_us));
        if (full) {
            json_object_set_new(v, "hops", hops_json(&m));
            json_object_set_new(v, "report", form_body_json(m.body));
        }
        env_msg_free(&m);
    }
    relay__incident_record__free_unpacked(r, NULL);
    return v;
}

/* ctl_list - incidents or advisories held here */
static json_t *
ctl_list(struct node *n, json_t *req)
{
    const char *what = json_string_value(json_object_get(req, "what"));
    int adv = what && strcmp(what, "advisories") == 0;
    struct store_txn t;
    uint8_t *ids;
    size_t cnt;
    json_t *arr, *rep;

    if (what && !adv && strcmp(what, "incidents") != 0)
        return ctl_error("list: \"what\" must be incidents or advisories, not '%s'", what);
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    if (store_list_ids(&t, adv ? "advisories" : "incidents", &ids, &cnt) != RL_OK) {
        store_abort(&t);
        free(ids);
        return ctl_error("%s", "cannot read the store");
    }
    arr = json_array();
    for (size_t i = 0; i < cnt; i++) {
        json_t *v = NULL;
        struct env_msg m;
        if (!adv) {
            v = ctl_incident_view(&t, ids + 16 * i, 0);
        } else if (ctl_message(&t, ids + 16 * i, &m) == RL_OK) {
            v = form_body_json(m.body);
            env_msg_free(&m);
        }
        if (v)
            json_array_append_new(arr, v);
    }
    store_abort(&t);
    free(ids);
    rep = ctl_ok();
    json_object_set_new(rep, adv ? "advisories" : "incidents", arr);
    return rep;
}

/* ctl_show - one incident, or one message */
static json_t *
ctl_show(struct node *n, json_t *req)
{
    struct store_txn t;
    struct env_msg m;
    uint8_t id[16];
    json_t *v, *rep;

    if (ctl_id(req, "id", id) != 0)
        return ctl_error("%s", "show: \"id\" must be 32 hex digits");
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    v = ctl_incident_view(&t, id, 1);
    if (v) {
        store_abort(&t);
        rep = ctl_ok();
        json_object_set_new(rep, "incident", v);
        return rep;
    }
    if (ctl_message(&t, id, &m) == RL_OK) {
        store_abort(&t);
        v = form_body_json(m.body);
        json_object_set_new(v, "hops", hops_json(&m));
        env_msg_free(&m);
        rep = ctl_ok();
        json_object_set_new(rep, "message", v);
        return rep;
    }
    store_abort(&t);
    return ctl_error("%s", "no incident or message with that id here");
}

/* link_json - one neighbour's state */
static json_t *
link_json(struct node *n, struct store_txn *t, const char *peer, int up,
          int connected)
{
    uint64_t depth = 0, acked = 0;
    int64_t last = 0;

    if (store_outbox_depth(t, peer, &depth) != RL_OK ||
        store_peer_get(t, peer, &last, &acked) != RL_OK)
        return NULL;
    return json_pack("{s:s,s:s,s:b,s:I,s:o,s:I}", "peer", peer, "direction",
                     up ? "up" : "down", "connected", connected, "outbox",
                     (json_int_t)depth, "last_ack", iso_json(last), "acked",
                     (json_int_t)acked);
}

/* ctl_status - node, counts, links */
static json_t *
ctl_status(struct node *n)
{
    struct store_counts c;
    struct store_txn t;
    json_t *rep, *links;
    int64_t now_ms = clock_mono_ms();

    if (store_begin(n->store, 0, &t) != RL_OK || store_counts(&t, &c) != RL_OK) {
        store_abort(&t);
        return ctl_error("%s", "cannot read the store");
    }
    rep = ctl_ok();
    json_object_set_new(rep, "node", json_string(n->self->id));
    json_object_set_new(rep, "tier", json_string(config_tier_name(n->cfg.tier)));
    json_object_set_new(rep, "clock", json_string(clock_is_manual() ? "manual" : "system"));
    json_object_set_new(rep, "now", iso_json(clock_now_us()));
    json_object_set_new(rep, "counts",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "messages", (json_int_t)c.messages,
                  "incidents", (json_int_t)c.incidents, "advisories",
                  (json_int_t)c.advisories, "audit", (json_int_t)c.audit,
                  "outbox", (json_int_t)c.outbox, "map_bytes",
                  (json_int_t)c.map_bytes, "used_bytes", (json_int_t)c.used_bytes));
    links = json_array();
    if (n->parent)
        json_array_append_new(links, link_json(n, &t, n->parent->id, 1,
                                               atomic_load(&n->up_pipes) > 0));
    for (size_t i = 0; i < n->dir.n; i++) {
        const struct dir_node *d = &n->dir.nodes[i];
        int64_t seen;
        if (d->parent_ix < 0 || &n->dir.nodes[d->parent_ix] != n->self)
            continue;
        seen = n->child_seen_ms ? atomic_load(&n->child_seen_ms[i]) : 0;
        json_array_append_new(links, link_json(n, &t, d->id, 0,
            seen > 0 && now_ms - seen < n->cfg.poll_hold_ms + n->cfg.link_timeout_ms));
    }
    store_abort(&t);
    json_object_set_new(rep, "links", links);
    return rep;
}

/* ctl_wait_done - is the condition of a wait request true now */
static int
ctl_wait_done(struct node *n, int has_id, const uint8_t id[16])
{
    struct store_txn t;
    struct store_counts c;
    int done = 0;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return 0;
    if (has_id)
        done = store_seen(&t, id) == 1;
    else
        done = store_counts(&t, &c) == RL_OK && c.outbox == 0;
    store_abort(&t);
    return done;
}

/* ctl_wait - block until stored / outboxes empty, or timeout */
static json_t *
ctl_wait(struct node *n, json_t *req)
{
    json_int_t timeout = 10000;
    int64_t until;
    uint64_t seen = 0;
    uint8_t id[16];
    int has_id = json_object_get(req, "id") != NULL;

    if (json_is_integer(json_object_get(req, "timeout_ms")))
        timeout = json_integer_value(json_object_get(req, "timeout_ms"));
    if (has_id && ctl_id(req, "id", id) != 0)
        return ctl_error("%s", "wait: \"id\" must be 32 hex digits");
    if (!has_id && !json_is_true(json_object_get(req, "outbox_empty")))
        return ctl_error("%s", "wait: give \"id\" or \"outbox_empty\": true");
    until = clock_mono_ms() + timeout;
    for (;;) {
        if (ctl_wait_done(n, has_id, id))
            return ctl_ok();
        int64_t left = until - clock_mono_ms();
        if (left <= 0)
            return ctl_error("%s", "timed out");
        if (node_wait_change(n, &seen, left) != 0)
            return ctl_error("%s", "node is stopping");
    }
}

/* ctl_clock - move the controlled clock */
static json_t *
ctl_clock(struct node *n, json_t *req)
{
    json_t *set = json_object_get(req, "set"), *adv = json_object_get(req, "advance_s");
    int64_t now = clock_now_us(), to;
    json_t *rep;

    if (!clock_is_manual())
        return ctl_error("%s", "clock: this node runs on the system clock (set clock = manual:<time> in its config)");
    if (json_is_string(set)) {
        if (clock_parse_iso(json_string_value(set), &to) != 0)
            return ctl_error("clock: '%s' is not an ISO 8601 time with a zone", json_string_value(set));
    } else if (json_is_integer(adv) && json_integer_value(adv) >= 0) {
        to = now + (int64_t)json_integer_value(adv) * 1000000;
    } else {
        return ctl_error("%s", "clock: give \"set\": ISO time or \"advance_s\": seconds >= 0");
    }
    if (to < now)
        return ctl_error("%s", "clock: time does not run backwards");
    char iso[40];

    clock_set_us(to);
    node_notify(n);
    clock_format_iso(to, iso, sizeof(iso));
    log_info("clock moved to %s", iso);
    rep = ctl_ok();
    json_object_set_new(rep, "now", iso_json(to));
    return rep;
}

/* ctl_audit_verify - walk the audit chain */
static json_t *
ctl_audit_verify(struct node *n)
{
    struct store_txn t;
    uint64_t entries, bad;
    json_t *rep;
    int rc;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    rc = store_audit_verify(&t, &entries, &bad);
    store_abort(&t);
    if (rc != RL_OK)
        return ctl_error("%s", "cannot read the audit log");
    rep = ctl_ok();
    json_object_set_new(rep, "entries", json_integer((json_int_t)entries));
    json_object_set_new(rep, "intact", json_boolean(bad == 0));
    json_object_set_new(rep, "first_bad", bad ? json_integer((json_int_t)bad) : json_null());
    return rep;
}

/* ctl_dispatch - one request to its verb */
static json_t *
ctl_dispatch(struct node *n, const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(buf, len, 0, &jerr), *rep;
    const char *verb;

    if (req == NULL)
        return ctl_error("request is not JSON: %s", jerr.text);
    verb = json_string_value(json_object_get(req, "verb"));
    if (verb == NULL)
        rep = ctl_error("%s", "request has no \"verb\"");
    else if (strcmp(verb, "submit") == 0)
        rep = ctl_submit(n, req);
    else if (strcmp(verb, "list") == 0)
        rep = ctl_list(n, req);
    else if (strcmp(verb, "show") == 0)
        rep = ctl_show(n, req);
    else if (strcmp(verb, "status") == 0)
        rep = ctl_status(n);
    else if (strcmp(verb, "wait") == 0)
        rep = ctl_wait(n, req);
    else if (strcmp(verb, "clock") == 0)
        rep = ctl_clock(n, req);
    else if (strcmp(verb, "audit-verify") == 0)
        rep = ctl_audit_verify(n);
    else
        rep = ctl_error("unknown verb '%s'", verb);
    json_decref(req);
    return rep;
}

/* ctl_main - a worker: receive, dispatch, reply */
static void *
ctl_main(void *arg)
{
    struct node *n = arg;
    nng_aio *aio;
    nng_ctx ctx;

    if (nng_aio_alloc(&aio, NULL, NULL) != 0 || nng_ctx_open(&ctx, n->ctl.sock) != 0)
        log_fatal("control: cannot start a worker");
    for (;;) {
        nng_msg *msg;
        json_t *rep;
        char *out;

        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) == NNG_ECLOSED)
            break;
        if (nng_aio_result(aio) != 0)
            continue;
        msg = nng_aio_get_msg(aio);
        rep = ctl_dispatch(n, nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
        out = json_dumps(rep, JSON_COMPACT);
        json_decref(rep);
        if (out == NULL || nng_msg_alloc(&msg, strlen(out)) != 0) {
            free(out);
            continue;
        }
        memcpy(nng_msg_body(msg), out, strlen(out));
        free(out);
        nng_aio_set_msg(aio, msg);
        nng_ctx_send(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0)
            nng_msg_free(nng_aio_get_msg(aio));
    }
    nng_ctx_close(ctx);
    nng_aio_free(aio);
    return NULL;
}

/* control_start - listen and start the workers */
int
control_start(struct node *n, const char *url, int nworkers)
{
    int rc = node_rep_start(n, &n->ctl, "control", url,
                            (size_t)(2 * n->cfg.max_message_bytes + 4096),
                            nworkers, ctl_main);

    if (rc == RL_OK)
        log_info("control socket on %s", url);
    return rc;
}

/* control_stop - close and join */
void
control_stop(struct node *n)
{
    node_rep_stop(n, &n->ctl, "control");
}
