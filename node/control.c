/*
 * control.c - the operator's control socket.
 *
 * control_workers threads each own a rep context. A submit is validated
 * (node/form.c), addressed, signed as this node, and handed to the writer;
 * the reply goes out after the commit. Read verbs use read transactions,
 * and list reads one bounded page. A write with a request id is done at
 * most once: its answer is committed with it (ctl_commit).
 *
 * SECURITY: the socket is an ipc:// path; whoever can open it acts as this
 * node's operator. Keep it in a directory only the operator can reach.
 * DIAGNOSTICS: every ok:false reply names the field, id or rule at fault. A
 * request over the size limit is answered so and logged (warn, once per
 * request); records a list cannot read are counted in the reply and logged.
 */
#include "control.h"

#include <jansson.h>
#include <malloc.h>
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "dirlog.h"
#include "envelope.h"
#include "form.h"
#include "held.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "plan.h"
#include "store_check.h"
#include "writer.h"
#include <sodium.h>

#define CTL_PAGE 100          /* list: records per page by default */
#define CTL_PAGE_MAX 1000     /* ... and at most */
#define CTL_PAGE_MAX_TEXT "1000"
#define CTL_RECV_SLACK (4 << 20) /* read this much past the limit, to answer it */
#define CTL_TRIM_BYTES (256 * 1024) /* replies larger than this trim the heap */
#define CTL_SCAN 5000         /* list: records read per request, at most */
#define CTL_WAIT_MAX_MS (INT64_C(24) * 3600 * 1000) /* wait: longest timeout_ms */

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

/* ---------------------------------------------------------------------------
 * Idempotent write requests (issue 8 finding 7). A request of a verb listed
 * in ctl_writes may carry "request_id" (the client's, e.g. 16 random bytes
 * in hex). The dispatcher answers a known id with the first answer
 * ("replayed": true) without running the verb again; otherwise the verb
 * runs with the id in ctl_cur and hands its work to the writer through
 * ctl_commit, with the answer it will give: the writer keeps that answer in
 * the same transaction as the work, and if a concurrent retry committed
 * first, stores nothing and the first answer is given instead. A verb gets
 * this by being listed here and calling ctl_commit instead of writer_run.
 */
static const char *const ctl_writes[] = CONTROL_WRITE_VERBS;

struct ctl_req {
    int active;       /* this request carries a request id */
    uint8_t key[16];  /* BLAKE2b-128 of the request id */
    json_t *prior;    /* the first answer, when the writer found one */
};
static __thread struct ctl_req ctl_cur;

/* ctl_is_write - verb is listed in ctl_writes */
static int
ctl_is_write(const char *verb)
{
    for (size_t i = 0; ctl_writes[i]; i++)
        if (strcmp(ctl_writes[i], verb) == 0)
            return 1;
    return 0;
}

/* ctl_request_key - the key of a valid "request_id" for verb, 0; or -1.
 * The verb is in the key: an id reused for another verb is a new request,
 * never the answer to another one. */
static int
ctl_request_key(const char *verb, const char *rid, uint8_t key[16])
{
    size_t len = rid ? strlen(rid) : 0;
    crypto_generichash_state st;

    if (len < 8 || len > 128 || strspn(rid, "0123456789abcdefABCDEF-_") != len)
        return -1;
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)verb, strlen(verb) + 1);
    crypto_generichash_update(&st, (const uint8_t *)rid, len);
    crypto_generichash_final(&st, key, 16);
    return 0;
}

/* ctl_replay - a stored first answer as a reply: {...,"replayed":true} */
static json_t *
ctl_replay(const char *answer, int64_t at_us)
{
    json_t *rep = json_loads(answer, 0, NULL);

    if (!json_is_object(rep)) {
        json_decref(rep);
        return ctl_error("%s", "request_id: this request was done before, but its stored answer cannot be read");
    }
    json_object_set_new(rep, "replayed", json_true());
    if (at_us)
        json_object_set_new(rep, "first_at", iso_json(at_us));
    return rep;
}

/* ctl_request_known - the first answer to the current request, or NULL */
static json_t *
ctl_request_known(struct node *n)
{
    struct store_txn t;
    json_t *rep = NULL;
    int64_t at;
    char *answer;

    if (!ctl_cur.active || store_begin(n->store, 0, &t) != RL_OK)
        return NULL;
    if (store_request_get(&t, ctl_cur.key, &at, &answer) == RL_OK) {
        rep = ctl_replay(answer, at);
        free(answer);
    }
    store_abort(&t);
    return rep;
}

/* ctl_commit - writer_run, keeping answer (the reply the verb will give on
 * success; borrowed) with the work when the request has an id */
static int
ctl_commit(struct node *n, struct work *wk, const json_t *answer)
{
    char *txt = NULL;
    int rc;

    if (ctl_cur.active && answer && (txt = json_dumps(answer, JSON_COMPACT)) != NULL) {
        wk->request = ctl_cur.key;
        wk->answer = txt;
    }
    rc = writer_run(n, wk);
    if (rc == RL_EDUP && wk->prior) {
        json_decref(ctl_cur.prior);
        ctl_cur.prior = ctl_replay(wk->prior, 0);
    }
    free(wk->prior);
    wk->prior = NULL;
    wk->request = NULL;
    wk->answer = NULL;
    free(txt);
    return rc;
}

/* The destinations of a message being filed: a heap list that grows with
 * the audience, so that none is ever left out (issue 9 item 2: there was a
 * silent cap of 4096). The ids point into the directory. */
struct ctl_to {
    char **v;
    size_t n, cap;
    int nomem; /* a push failed: the message is refused, not truncated */
};

/* to_push - append id (no check for duplicates) */
static void
to_push(struct ctl_to *to, const char *id)
{
    if (to->n == to->cap) {
        size_t cap = to->cap ? 2 * to->cap : 16;
        char **v = realloc(to->v, cap * sizeof(*v));
        if (v == NULL) {
            to->nomem = 1;
            return;
        }
        to->v = v;
        to->cap = cap;
    }
    to->v[to->n++] = (char *)id;
}

/* to_add - append a destination once, never self */
static void
to_add(struct ctl_to *to, const char *id, const char *self)
{
    if (strcmp(id, self) == 0)
        return;
    for (size_t i = 0; i < to->n; i++)
        if (strcmp(to->v[i], id) == 0)
            return;
    to_push(to, id);
}

/* ctl_in_subtree_ix - node i is at or below node s (directory indexes):
 * dir_in_subtree without its two lookups by id, for a whole directory */
static int
ctl_in_subtree_ix(const struct directory *d, int s, int i)
{
    for (; i >= 0; i = d->nodes[i].parent_ix)
        if (i == s)
            return 1;
    return 0;
}

/* ctl_audience - expand an advisory's audience into destinations: every
 * node it names, however many */
static const char *
ctl_audience(struct node *n, const Relay__Advisory *a, struct ctl_to *to)
{
    const struct directory *dir = node_dir(n);
    const char *scope = n->self->id;
    const struct dir_node *sc;
    unsigned tiers = 0;

    if (a->audience && a->audience->scope[0])
        scope = a->audience->scope;
    if ((sc = dir_find(dir, scope)) == NULL)
        return "audience.scope names no node of the directory";
    if (!dir_in_subtree(dir, n->self->id, scope))
        return "audience.scope is outside this node's subtree";
    if (a->audience)
        for (size_t i = 0; i < a->audience->n_tiers; i++)
            tiers |= 1u << a->audience->tiers[i];
    if (tiers == 0)
        tiers = 1u << TIER_AGENCY;
    /* directory ids are distinct: each node is pushed once, without the
     * quadratic check for duplicates of to_add */
    for (size_t i = 0; i < dir->n; i++) {
        const struct dir_node *d = &dir->nodes[i];
        if (!(tiers & (1u << d->tier)) ||
            !ctl_in_subtree_ix(dir, (int)(sc - dir->nodes), (int)i))
            continue;
        if (a->audience && a->audience->sector && d->sector != (int)a->audience->sector)
            continue;
        if (strcmp(d->id, n->self->id) != 0)
            to_push(to, d->id);
    }
    if (to->nomem)
        return "out of memory expanding the audience: nothing filed";
    return to->n ? NULL : "the audience names no node";
}

/* ctl_drill_notice_check - a drill report must answer a drill notice sent here */
static const char *
ctl_drill_notice_check(struct node *n, const Relay__Body *b)
{
    struct store_txn t;
    struct env_msg m;
    const char *why = NULL, *w;
    uint8_t *buf;
    size_t len;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return "cannot read the store";
    if (store_get_message(&t, b->report->drill_of.data, &buf, &len) != RL_OK) {
        store_abort(&t);
        return "drill_of: no drill notice with that id here";
    }
    store_abort(&t);
    if (env_open(buf, len, SIZE_MAX, &m, &w) != RL_OK) {
        free(buf);
        return "drill_of: the stored message cannot be read";
    }
    free(buf);
    if (m.body->kind_case != RELAY__BODY__KIND_NOTICE ||
        m.body->notice->kind != RELAY__NOTICE_KIND__DRILL)
        why = "drill_of: that message is not a drill notice";
    else if (m.body->n_to != 1 || strcmp(m.body->to[0], n->self->id) != 0)
        why = "drill_of: that drill notice is for another agency";
    env_msg_free(&m);
    return why;
}

/* ctl_address - who a new message goes to, and whether this node may send it */
static const char *
ctl_address(struct node *n, Relay__Body *b, struct ctl_to *to,
            uint8_t iid[16], int *has_iid)
{
    const ProtobufCBinaryData *ref = env_incident_of(b);
    const char *national = dir_national(node_dir(n));
    Relay__IncidentRecord *r = NULL;
    struct store_txn t;
    const char *why = NULL;

    *has_iid = 0;
    if (b->kind_case == RELAY__BODY__KIND_ADVISORY) {
        if (n->cfg.tier == TIER_AGENCY || n->cfg.tier == TIER_OFFICE)
            return "only city, ministry and national nodes issue advisories";
        return ctl_audience(n, b->advisory, to);
    }
    if (b->kind_case == RELAY__BODY__KIND_REPORT) {
        static __thread char perr[300];
        struct plan pl;

        if (n->parent == NULL)
            return "the national node has no reporting target to report to";
        if (n->cfg.tier == TIER_OFFICE)
            return "office nodes receive escalations only; they do not report";
        if (plan_report(&n->pol, node_dir(n), n->self->id, b->report, b->drill, &pl,
                        perr, sizeof(perr)) != RL_OK)
            return perr;
        plan_free(&pl); /* only report_to is used: it points into the directory */
        if (b->report->drill_of.len == 16 && (why = ctl_drill_notice_check(n, b)) != NULL)
            return why;
        /* R-UP: target and national; R-COPY3: the city, when central */
        for (size_t i = 0; i < pl.nreport_to; i++)
            to_add(to, pl.report_to[i], n->self->id);
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
    const struct dir_node *author = dir_find(node_dir(n), r->author);
    if (author == NULL) {
        why = "the incident's author is not in the directory";
    } else if (b->kind_case == RELAY__BODY__KIND_REVIEW) {
        int is_target = author->parent_ix >= 0 &&
                        strcmp(node_dir(n)->nodes[author->parent_ix].id, n->self->id) == 0;
        if (!is_target && n->cfg.tier != TIER_NATIONAL)
            why = "only the incident's reporting target or the national center reviews it (R-REVIEW, R-LATE-REVIEW)";
        else if (b->review->closure && r->state != RELAY__INCIDENT_STATE__CLOSING)
            why = "closure review: the incident has no closure awaiting review (R-CLOSE-REVIEW)";
        to_add(to, author->id, n->self->id);
        if (author->parent_ix >= 0)
            to_add(to, node_dir(n)->nodes[author->parent_ix].id, n->self->id);
        to_add(to, national, n->self->id);
    } else if (b->kind_case == RELAY__BODY__KIND_NOTICE) {
        /* R-SUPPORT: the national center dispatches technical support */
        if (n->cfg.tier != TIER_NATIONAL)
            why = "only the national center dispatches technical support (R-SUPPORT)";
        to_add(to, author->id, n->self->id);
        if (author->parent_ix >= 0)
            to_add(to, node_dir(n)->nodes[author->parent_ix].id, n->self->id);
    } else if (strcmp(author->id, n->self->id) != 0) {
        why = "only the agency that filed the incident sends this";
    } else {
        to_add(to, n->parent->id, n->self->id);
        to_add(to, national, n->self->id);
        /* R-COPY3: every later update goes to the city too (the directory's
         * copy of the id: r is freed before the message is sealed) */
        const struct dir_node *city = r->city[0] ? dir_find(node_dir(n), r->city) : NULL;
        if (city)
            to_add(to, city->id, n->self->id);
    }
    relay__incident_record__free_unpacked(r, NULL);
    return why;
}

static json_t *ctl_incident_view(struct node *n, struct store_txn *t, const uint8_t id[16],
                                 int full, int64_t now, Relay__IncidentRecord **keep);

/* ctl_support_body - R-SUPPORT: {"incident", "text"} into a SUPPORT notice */
static int
ctl_support_body(json_t *args, Relay__Body *b, char *err, size_t errlen)
{
    const char *key, *text;
    json_t *v;
    Relay__Notice *no;
    uint8_t iid[16];

    if (!json_is_object(args)) {
        snprintf(err, errlen, "the arguments of 'support' must be an object");
        return RL_EINVAL;
    }
    json_object_foreach(args, key, v) {
        if (strcmp(key, "incident") != 0 && strcmp(key, "text") != 0) {
            snprintf(err, errlen, "unknown field '%.60s'", key);
            return RL_EINVAL;
        }
    }
    if (ctl_id(args, "incident", iid) != 0) {
        snprintf(err, errlen, "field 'incident': must be 32 hex digits (an incident id)");
        return RL_EINVAL;
    }
    text = json_string_value(json_object_get(args, "text"));
    if (text == NULL || text[0] == '\0' || strlen(text) > 8192) {
        snprintf(err, errlen, "field 'text': required, 1..8192 bytes: what support, who, when");
        return RL_EINVAL;
    }
    if ((no = malloc(sizeof(*no))) == NULL)
        return RL_ENOMEM;
    relay__notice__init(no);
    no->kind = RELAY__NOTICE_KIND__SUPPORT;
    no->incident.data = malloc(16);
    no->text = strdup(text);
    no->rule = strdup("R-SUPPORT");
    b->kind_case = RELAY__BODY__KIND_NOTICE;
    b->notice = no;
    if (no->incident.data == NULL || no->text == NULL || no->rule == NULL) {
        form_body_clear(b);
        return RL_ENOMEM;
    }
    memcpy(no->incident.data, iid, 16);
    no->incident.len = 16;
    return RL_OK;
}

/* ctl_form_hash - a report's canonical fields, without the time it was
 * filed: the same form typed twice hashes the same */
static void
ctl_form_hash(const Relay__Body *b, uint8_t out[16])
{
    Relay__IncidentReport r = *b->report;
    crypto_generichash_state st;
    uint8_t *buf;
    size_t len;

    r.reported_us = 0;
    len = relay__incident_report__get_packed_size(&r);
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)"relay-form-v1", 13);
    crypto_generichash_update(&st, (const uint8_t *)(b->drill ? "d" : "r"), 1);
    if ((buf = malloc(len ? len : 1)) != NULL) {
        relay__incident_report__pack(&r, buf);
        crypto_generichash_update(&st, buf, len);
        free(buf);
    } else {
        crypto_generichash_update(&st, b->id.data, b->id.len); /* unique: never refused */
    }
    crypto_generichash_final(&st, out, 16);
}

/* ctl_submit - validate, address, sign, commit */
static json_t *
ctl_submit(struct node *n, json_t *req)
{
    const char *kind = json_string_value(json_object_get(req, "kind"));
    Relay__Body b = RELAY__BODY__INIT;
    struct ctl_to to = {0};
    uint8_t id[ENV_ID_LEN], iid[16], fhash[16];
    char err[512], hex[ENV_ID_HEX];
    const char *why;
    struct work_item it;
    struct work wk;
    json_t *rep;
    int has_iid, rc, skew_refuse;
    char skew[400];
    const char *skew_why;

    if (kind == NULL)
        return ctl_error("%s", "submit needs \"kind\"");
    /* a clock that disagrees with the parent's is said before filing; one
     * so far off that the parent would refuse the message files nothing */
    skew_why = link_skew_check(n, &skew_refuse, skew, sizeof(skew));
    if (skew_why && skew_refuse)
        return ctl_error("not filed: %s", skew_why);
    if (strcmp(kind, "support") == 0
            ? ctl_support_body(json_object_get(req, "args"), &b, err, sizeof(err)) != RL_OK
            : form_to_body_within(kind, json_object_get(req, "args"), clock_now_us(),
                                  n->cfg.max_future_s * 1000000, &b,
                           err, sizeof(err)) != RL_OK)
        return ctl_error("%s", err);
    {
        /* a revoked or rotated-out key signs nothing (the others would refuse it) */
        const struct dir_node *me = dir_find(node_dir(n), n->self->id);
        const uint8_t *pk;
        why = NULL;
        if (me == NULL || dir_key_at(me, clock_now_us(), &pk, &why) != 0 ||
            memcmp(pk, n->kp->pk, 32) != 0) {
            form_body_clear(&b);
            return ctl_error("this node's key is not valid in the directory now: %s",
                             me && why ? why : "rotated: restart the node with its new key");
        }
    }
    env_id_new(id);
    b.id.data = id;
    b.id.len = sizeof(id);
    b.author = (char *)n->self->id;
    b.created_us = clock_now_us();
    why = ctl_address(n, &b, &to, iid, &has_iid);
    if (why == NULL && to.nomem)
        why = "out of memory listing the destinations: nothing filed";
    if (why) {
        free(to.v);
        form_body_clear(&b);
        return ctl_error("%s", why);
    }
    b.to = to.v;
    b.n_to = to.n;
    memset(&it, 0, sizeof(it));
    rc = env_seal_open(&b, n->kp, (size_t)n->cfg.max_message_bytes, &it.m, &why);
    b.to = NULL;
    b.n_to = 0;
    free(to.v);
    form_body_clear(&b);
    if (rc != RL_OK && to.n > 1) {
        /* the one limit on an audience: the message must fit in
         * max_message_bytes here and at every node on its way (issue 9 item 2) */
        snprintf(err, sizeof(err), "message refused: %s (%zu destinations; "
                 "max_message_bytes = %lld here and on every node it crosses)",
                 why ? why : rl_strerror(rc), to.n, (long long)n->cfg.max_message_bytes);
        log_warn("control: %s %s", kind, err);
        return ctl_error("%s", err);
    }
    if (rc != RL_OK)
        return ctl_error("message refused: %s", why ? why : rl_strerror(rc));
    /* the same rules every other node applies to this message */
    if (authz_check(n, &it.m, err, sizeof(err)) != NULL) {
        env_msg_free(&it.m);
        return ctl_error("%s", err);
    }
    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.items = &it;
    wk.n = 1;
    /* the answer is known before the commit: kept with the work */
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
    if (skew_why)
        json_object_set_new(rep, "warning", json_string(skew_why));
    if (it.m.body->kind_case == RELAY__BODY__KIND_REPORT) {
        ctl_form_hash(it.m.body, fhash);
        wk.form = fhash;
        wk.incident = iid;
        wk.again = json_is_true(json_object_get(req, "again"));
    }
    rc = ctl_commit(n, &wk, rep);
    if (rc != RL_OK) {
        env_msg_free(&it.m);
        json_decref(rep);
        if (rc == RL_EDUP && wk.prior_at) {
            char at[40], msg[200];
            env_id_hex(wk.prior_incident, hex);
            clock_format_iso(wk.prior_at, at, sizeof(at));
            snprintf(msg, sizeof(msg), "same form as incident %s filed at %s; use --again to file it again", hex, at);
            return ctl_error("%s", msg);
        }
        return ctl_error("not stored: %s", wk.err);
    }
    if (has_iid) {
        struct store_txn t;
        json_t *v;
        if (it.m.body->kind_case == RELAY__BODY__KIND_REPORT &&
            store_begin(n->store, 0, &t) == RL_OK) {
            v = ctl_incident_view(n, &t, iid, 0, clock_now_us(), NULL);
            store_abort(&t);
            if (v) {
                json_object_set(rep, "advised_level", json_object_get(v, "advised_level"));
                json_object_set(rep, "below_advised", json_object_get(v, "below_advised"));
                json_object_set(rep, "dues", json_object_get(v, "dues"));
                json_decref(v);
            }
        }
    }
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

/* ctl_due_json - one due time: when, met or not, time left or overdue */
static json_t *
ctl_due_json(const Relay__Due *d, int active, int64_t now)
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
                  policy_deadline_rule_id((int)d->which), "due", iso_json(d->due_us),
                  "met", iso_json(d->met_us), "state", state, "notice_sent", d->fired,
                  "judged_here", d->owner);
    if (!d->met_us && active) {
        int64_t s = (d->due_us - now) / 1000000;
        json_object_set_new(o, s >= 0 ? "left_s" : "overdue_s",
                            json_integer(s >= 0 ? s : -s));
    }
    return o;
}

/* ctl_record_active - due times still run */
static int
ctl_record_active(const Relay__IncidentRecord *r)
{
    return r->state != RELAY__INCIDENT_STATE__CLOSED &&
           r->state != RELAY__INCIDENT_STATE__CLOSING &&
           r->state != RELAY__INCIDENT_STATE__WITHDRAWN;
}

/* ctl_overdue - how many of r's due times are past and unmet */
static int
ctl_overdue(const Relay__IncidentRecord *r, int64_t now)
{
    int k = 0;

    if (!ctl_record_active(r))
        return 0;
    for (size_t i = 0; i < r->n_dues; i++)
        if (r->dues[i]->due_us && !r->dues[i]->met_us && now > r->dues[i]->due_us)
            k++;
    return k;
}

/* ctl_queue_reason - why r is in this node's review queue, or NULL
 * (R-REVIEW, R-LEVEL-3, R-CLOSE-REVIEW; R-LATE-REVIEW at the national node) */
static const char *
ctl_queue_reason(struct node *n, const Relay__IncidentRecord *r, int64_t now)
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

/* ctl_incident_view - incident record plus its report's title, due times
 * and hops */
static json_t *
ctl_incident_view(struct node *n, struct store_txn *t, const uint8_t id[16],
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
    if (r->have_report && (rc = ctl_message(t, id, &m)) == RL_OK) {
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
            json_array_append_new(dues, ctl_due_json(r->dues[i], ctl_record_active(r), now));
    json_object_set_new(v, "dues", dues);
    json_object_set_new(v, "overdue", json_integer(ctl_overdue(r, now)));
    q = ctl_queue_reason(n, r, now);
    json_object_set_new(v, "queue", q ? json_string(q) : json_null());
    if (keep)
        *keep = r;
    else
        relay__incident_record__free_unpacked(r, NULL);
    return v;
}


static json_t *ctl_drill_json(const Relay__DrillRecord *d, int64_t now);

/* ctl_list_one - the view of one listed record into *v (NULL when the
 * filter leaves it out); -1 when the record cannot be read */
static int
ctl_list_one(struct node *n, struct store_txn *t, const char *db, const char *filter,
             const uint8_t id[16], int64_t now, json_int_t *real, json_int_t *drill,
             json_t **v)
{
    struct env_msg m;

    *v = NULL;
    if (strcmp(db, "drills") == 0) {
        Relay__DrillRecord *d;
        if (store_get_drill(t, id, &d) != RL_OK)
            return -1;
        *v = ctl_drill_json(d, now);
        relay__drill_record__free_unpacked(d, NULL);
    } else if (strcmp(db, "advisories") == 0) {
        if (ctl_message(t, id, &m) != RL_OK)
            return -1;
        *v = form_body_json(m.body);
        env_msg_free(&m);
    } else {
        Relay__IncidentRecord *r = NULL;
        if ((*v = ctl_incident_view(n, t, id, 0, now, &r)) == NULL || r == NULL)
            return -1;
        if (json_is_true(json_object_get(*v, "report_unreadable"))) {
            json_decref(*v); /* counted, with its id, as unreadable */
            *v = NULL;
            relay__incident_record__free_unpacked(r, NULL);
            return -1;
        }
        if (filter && !(strcmp(filter, "overdue") == 0 ? ctl_overdue(r, now) > 0
                                                       : ctl_queue_reason(n, r, now) != NULL)) {
            json_decref(*v);
            *v = NULL;
        } else {
            *(r->drill ? drill : real) += 1;
        }
        relay__incident_record__free_unpacked(r, NULL);
    }
    return 0;
}

/* ctl_list - one page of the incidents, advisories or drills held here, in
 * id order; incidents can be narrowed to the overdue ones or to this
 * node's review queue. A page holds at most "limit" records (default
 * CTL_PAGE, at most CTL_PAGE_MAX) and reads at most CTL_SCAN records, so
 * neither the reply nor the work grows with the store (issue 8 finding
 * 8); "next" is the cursor of the following page, null after the last. A
 * record that cannot be read is counted in "unreadable", never skipped
 * silently. */
static json_t *
ctl_list(struct node *n, json_t *req)
{
    const char *what = json_string_value(json_object_get(req, "what"));
    const char *filter = json_string_value(json_object_get(req, "filter"));
    const char *cur = json_string_value(json_object_get(req, "cursor"));
    json_t *lim = json_object_get(req, "limit");
    int adv = what && strcmp(what, "advisories") == 0;
    int drills = what && strcmp(what, "drills") == 0;
    const char *db = adv ? "advisories" : drills ? "drills" : "incidents";
    int64_t now = clock_now_us();
    json_int_t real = 0, drill = 0, limit = CTL_PAGE;
    uint8_t after[16], ids[16 * 256];
    size_t got, scanned = 0, unreadable = 0;
    uint64_t total = 0;
    int more = 1, have_after = 0, rc = RL_OK;
    struct store_txn t;
    json_t *arr, *bad, *rep;
    char hex[ENV_ID_HEX];

    if (what && !adv && !drills && strcmp(what, "incidents") != 0)
        return ctl_error("list: \"what\" must be incidents, advisories or drills, not '%s'", what);
    if (filter && ((adv || drills) ||
                   (strcmp(filter, "overdue") != 0 && strcmp(filter, "queue") != 0)))
        return ctl_error("list: \"filter\" must be overdue or queue (incidents only), not '%s'", filter);
    if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
                json_integer_value(lim) > CTL_PAGE_MAX))
        return ctl_error("list: \"limit\" must be an integer 1..%s", CTL_PAGE_MAX_TEXT);
    if (lim)
        limit = json_integer_value(lim);
    if (cur && env_id_parse(cur, after) != 0)
        return ctl_error("list: \"cursor\" '%s' is not one this node gave", cur);
    have_after = cur != NULL;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    arr = json_array();
    bad = json_array();
    while (more && (json_int_t)json_array_size(arr) < limit && scanned < CTL_SCAN) {
        size_t want = (size_t)(limit - (json_int_t)json_array_size(arr));
        if (filter)
            want = CTL_SCAN - scanned; /* most are left out: read ahead */
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
            if (ctl_list_one(n, &t, db, filter, ids + 16 * i, now, &real, &drill, &v) != 0) {
                unreadable++;
                env_id_hex(ids + 16 * i, hex);
                if (json_array_size(bad) < 16)
                    json_array_append_new(bad, json_string(hex));
            } else if (v) {
                json_array_append_new(arr, v);
            }
            if ((json_int_t)json_array_size(arr) == limit && i + 1 < got) {
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
        return ctl_error("%s", "cannot read the store");
    }
    rep = ctl_ok();
    json_object_set_new(rep, db, arr);
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

/* ctl_drill_json - a drill's timing record (R-DRILL): per scenario, when
 * the agency received the notice, reported, sent its response notice
 * (first update) and closed; pass when all three came within the window of
 * the notice's receipt, fail when the window passed first */
static json_t *
ctl_drill_json(const Relay__DrillRecord *d, int64_t now)
{
    json_t *o, *arr = json_array();
    char hex[ENV_ID_HEX];
    int pass = 0, fail = 0, pending = 0;

    for (size_t i = 0; i < d->n_scenarios; i++) {
        const Relay__DrillScenario *s = d->scenarios[i];
        int64_t from = s->received_us ? s->received_us : s->sent_us;
        int64_t end = from + d->window_us;
        int done = s->report_us && s->response_us && s->closure_us;
        int in_time = done && s->report_us <= end && s->response_us <= end &&
                      s->closure_us <= end && s->received_us;
        const char *res = in_time ? "pass" : (done || now > end) ? "fail" : "pending";
        json_t *e;

        pass += res[0] == 'p' && res[1] == 'a';
        fail += res[0] == 'f';
        pending += res[0] == 'p' && res[1] == 'e';
        env_id_hex(s->notice.data, hex);
        e = json_pack("{s:i,s:s,s:i,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s}", "scenario",
                      (int)s->number, "agency", s->agency, "level", (int)s->level,
                      "solvable_by", s->national ? "national" : "supervisor", "notice", hex,
                      "sent", iso_json(s->sent_us), "received", iso_json(s->received_us),
                      "report", iso_json(s->report_us), "response", iso_json(s->response_us),
                      "closure", iso_json(s->closure_us), "result", res);
        if (s->incident.len == 16) {
            env_id_hex(s->incident.data, hex);
            json_object_set_new(e, "incident", json_string(hex));
        }
        json_array_append_new(arr, e);
    }
    env_id_hex(d->id.data, hex);
    o = json_pack("{s:s,s:s,s:o,s:I,s:o,s:{s:i,s:i,s:i}}", "id", hex, "supervisor",
                  d->supervisor, "started", iso_json(d->started_us), "window_s",
                  (json_int_t)(d->window_us / 1000000), "scenarios", arr, "summary", "pass",
                  pass, "fail", fail, "pending", pending);
    return o;
}

/* ctl_drill_start - R-DRILL: drill notices to a random share of this
 * supervisor's agencies, scenarios of levels 1-4, in one commit */
static json_t *
ctl_drill_start(struct node *n)
{
    size_t na = 0, k, ns;
    size_t *units = NULL, *picked = NULL;
    uint32_t *rnd = NULL;
    struct work_item *items = NULL;
    struct work wk;
    uint8_t did[16];
    char dhex[ENV_ID_HEX], nhex[ENV_ID_HEX];
    json_t *rep = NULL, *arr;
    int rc = RL_OK;

    if (n->cfg.tier != TIER_CITY && n->cfg.tier != TIER_MINISTRY &&
        n->cfg.tier != TIER_NATIONAL)
        return ctl_error("%s", "drill: only a supervisor (city, ministry or national node) runs drills");
    units = calloc(node_dir(n)->n + 1, sizeof(*units));
    picked = calloc(node_dir(n)->n + 1, sizeof(*picked));
    rnd = calloc(node_dir(n)->n + 1, sizeof(*rnd));
    if (!units || !picked || !rnd)
        goto oom;
    for (size_t i = 0; i < node_dir(n)->n; i++)
        if (node_dir(n)->nodes[i].tier == TIER_AGENCY && node_dir(n)->nodes[i].parent_ix >= 0 &&
            strcmp(node_dir(n)->nodes[node_dir(n)->nodes[i].parent_ix].id, n->self->id) == 0)
            units[na++] = i;
    if (na == 0) {
        rep = ctl_error("%s", "drill: this node has no agencies to drill");
        goto out;
    }
    randombytes_buf(rnd, na * sizeof(*rnd));
    k = policy_drill_pick(&n->pol, na, rnd, picked);
    ns = policy_drill_scenarios(&n->pol, k);
    if ((items = calloc(ns, sizeof(*items))) == NULL)
        goto oom;
    env_id_new(did);
    env_id_hex(did, dhex);
    arr = json_array();
    for (size_t i = 0; i < ns && rc == RL_OK; i++) {
        const struct dir_node *ag = &node_dir(n)->nodes[units[picked[i % k]]];
        Relay__Body b = RELAY__BODY__INIT;
        Relay__Notice no = RELAY__NOTICE__INIT;
        char *to[1] = {(char *)ag->id}, text[400];
        uint8_t id[ENV_ID_LEN];
        const char *why;
        unsigned level = (unsigned)(1 + i % 4);

        env_id_new(id);
        env_id_hex(id, nhex);
        snprintf(text, sizeof(text),
                 "R-DRILL scenario %zu: a level %u incident (%s). Within %lld min file a drill "
                 "report with drill_of %s, a response update and a closure.",
                 i + 1, level, level >= 3 ? "needs the national center" : "solvable by the supervisor",
                 (long long)(n->pol.drill_window_us / 60000000), nhex);
        b.id.data = id;
        b.id.len = sizeof(id);
        b.author = (char *)n->self->id;
        b.created_us = clock_now_us();
        b.to = to;
        b.n_to = 1;
        b.drill = 1;
        b.kind_case = RELAY__BODY__KIND_NOTICE;
        b.notice = &no;
        no.kind = RELAY__NOTICE_KIND__DRILL;
        no.text = text;
        no.rule = "R-DRILL";
        no.level = level;
        no.drill.data = did;
        no.drill.len = 16;
        no.scenario = (uint32_t)(i + 1);
        if ((rc = env_seal_open(&b, n->kp, SIZE_MAX, &items[i].m, &why)) != RL_OK)
            break;
        json_array_append_new(arr, json_pack("{s:I,s:s,s:I,s:s}", "scenario", (json_int_t)(i + 1),
                                             "agency", ag->id, "level", (json_int_t)level,
                                             "notice", nhex));
    }
    memset(&wk, 0, sizeof(wk));
    rep = ctl_ok();
    json_object_set_new(rep, "drill", json_string(dhex));
    json_object_set_new(rep, "agencies", json_integer((json_int_t)na));
    json_object_set_new(rep, "drilled", json_integer((json_int_t)k));
    json_object_set_new(rep, "scenarios", arr);
    if (rc == RL_OK) {
        wk.type = WORK_INBOUND;
        wk.items = items;
        wk.n = ns;
        rc = ctl_commit(n, &wk, rep);
    }
    if (rc != RL_OK) {
        json_decref(rep);
        rep = ctl_error("drill: not started: %s", wk.err[0] ? wk.err : rl_strerror(rc));
    } else {
        log_info("[DRILL] drill %s started: %zu scenarios for %zu of %zu agencies", dhex, ns,
                 k, na);
    }
    for (size_t i = 0; i < ns; i++)
        env_msg_free(&items[i].m);
    goto out;
oom:
    rep = ctl_error("%s", "drill: out of memory");
out:
    free(items);
    free(units);
    free(picked);
    free(rnd);
    return rep;
}

/* ctl_drill - start a drill, or show one's timing record */
static json_t *
ctl_drill(struct node *n, json_t *req)
{
    const char *action = json_string_value(json_object_get(req, "action"));
    Relay__DrillRecord *d;
    struct store_txn t;
    uint8_t id[16];
    json_t *rep;
    int rc;

    if (action && strcmp(action, "start") == 0)
        return ctl_drill_start(n);
    if (!action || strcmp(action, "record") != 0)
        return ctl_error("%s", "drill: \"action\" must be start or record");
    if (ctl_id(req, "id", id) != 0)
        return ctl_error("%s", "drill record: \"id\" must be 32 hex digits (a drill id)");
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    rc = store_get_drill(&t, id, &d);
    store_abort(&t);
    if (rc != RL_OK)
        return ctl_error("%s", "drill record: no drill with that id was started here");
    rep = ctl_ok();
    json_object_set_new(rep, "drill", ctl_drill_json(d, clock_now_us()));
    relay__drill_record__free_unpacked(d, NULL);
    return rep;
}

/* ctl_dir_change - national only: a root-signed change (hex) from relayctl,
 * checked against the directory in force, then carried to every node */
static json_t *
ctl_dir_change(struct node *n, json_t *req)
{
    const char *hex = json_string_value(json_object_get(req, "change"));
    Relay__SignedDirChange *sc = NULL;
    Relay__DirChange *c = NULL;
    Relay__Body b = RELAY__BODY__INIT;
    struct directory trial;
    struct work_item it;
    struct work wk;
    uint8_t *raw = NULL, id[ENV_ID_LEN];
    char err[300], ihex[ENV_ID_HEX];
    const char *why;
    size_t rawlen;
    json_t *rep;
    int rc;

    if (n->cfg.tier != TIER_NATIONAL)
        return ctl_error("%s", "directory: changes are submitted at the national node");
    if (hex == NULL || strlen(hex) % 2 || strlen(hex) / 2 > 16384 ||
        (raw = malloc(strlen(hex) / 2 + 1)) == NULL ||
        keys_unhex(hex, raw, rawlen = strlen(hex) / 2) != 0) {
        free(raw);
        return ctl_error("%s", "directory: \"change\" must be the hex of a signed change");
    }
    sc = relay__signed_dir_change__unpack(NULL, rawlen, raw);
    free(raw);
    if (sc == NULL)
        return ctl_error("%s", "directory: the change does not decode");
    if (dirlog_verify(sc, n->cfg.root_key, &c, &why) != RL_OK) {
        relay__signed_dir_change__free_unpacked(sc, NULL);
        return ctl_error("directory: %s", why);
    }
    rc = dirlog_copy(node_dir(n), &trial);
    if (rc == RL_OK) {
        rc = dirlog_apply(&trial, c, err, sizeof(err));
        dir_free(&trial);
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (rc != RL_OK) {
        relay__dir_change__free_unpacked(c, NULL);
        relay__signed_dir_change__free_unpacked(sc, NULL);
        return ctl_error("directory: %s", err);
    }
    env_id_new(id);
    b.id.data = id;
    b.id.len = sizeof(id);
    b.author = (char *)n->self->id;
    b.created_us = clock_now_us();
    b.kind_case = RELAY__BODY__KIND_DIRECTORY;
    b.directory = sc;
    memset(&it, 0, sizeof(it));
    rc = env_seal_open(&b, n->kp, SIZE_MAX, &it.m, &why);
    relay__signed_dir_change__free_unpacked(sc, NULL);
    if (rc != RL_OK) {
        relay__dir_change__free_unpacked(c, NULL);
        return ctl_error("directory: %s", why ? why : rl_strerror(rc));
    }
    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.items = &it;
    wk.n = 1;
    rep = ctl_ok();
    env_id_hex(id, ihex);
    json_object_set_new(rep, "id", json_string(ihex));
    json_object_set_new(rep, "seq", json_integer((json_int_t)c->seq));
    relay__dir_change__free_unpacked(c, NULL);
    rc = ctl_commit(n, &wk, rep);
    env_msg_free(&it.m);
    if (rc != RL_OK) {
        json_decref(rep);
        return ctl_error("directory: not stored: %s", wk.err);
    }
    return rep;
}

/* ctl_dir_export - the signed log, for a joining node's bootstrap file */
static json_t *
ctl_dir_export(struct node *n)
{
    ProtobufCBinaryData *v;
    struct store_txn t;
    size_t cnt;
    json_t *arr, *rep;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    if (store_dirlog_all(&t, &v, &cnt) != RL_OK) {
        store_abort(&t);
        return ctl_error("%s", "cannot read the directory");
    }
    store_abort(&t);
    arr = json_array();
    for (size_t i = 0; i < cnt; i++) {
        char *hex = malloc(2 * v[i].len + 1);
        if (hex) {
            keys_hex(v[i].data, v[i].len, hex);
            json_array_append_new(arr, json_string(hex));
            free(hex);
        }
        free(v[i].data);
    }
    free(v);
    rep = ctl_ok();
    json_object_set_new(rep, "changes", arr);
    return rep;
}

/* ctl_dir_list - the directory in force */
static json_t *
ctl_dir_list(struct node *n)
{
    const struct directory *d = node_dir(n);
    json_t *arr = json_array(), *rep;
    char hex[65];

    for (size_t i = 0; i < d->n; i++) {
        const struct dir_node *e = &d->nodes[i];
        keys_hex(e->pk, 32, hex);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:i}", "id",
                                             e->id, "tier", config_tier_name(e->tier), "parent",
                                             e->parent, "city", e->city, "sector",
                                             dir_sector_name(e->sector), "key", hex, "key_from",
                                             e->key_from_us ? iso_json(e->key_from_us) : json_null(),
                                             "revoked", e->revoked_us ? iso_json(e->revoked_us) : json_null(),
                                             "old_keys", e->n_old));
    }
    rep = ctl_ok();
    json_object_set_new(rep, "seq", json_integer((json_int_t)d->seq));
    json_object_set_new(rep, "nodes", arr);
    return rep;
}

/* ctl_incident_readable - RL_OK when no incident id is held here or it
 * reads; RL_EIO when one is held but damaged */
static int
ctl_incident_readable(struct store_txn *t, const uint8_t id[16])
{
    Relay__IncidentRecord *r = NULL;
    int rc = store_get_incident(t, id, &r);

    if (r)
        relay__incident_record__free_unpacked(r, NULL);
    return rc == RL_OK || rc == RL_ENOTFOUND ? RL_OK : RL_EIO;
}

/* ctl_show - one incident, or one message */
static json_t *
ctl_show(struct node *n, json_t *req)
{
    struct store_txn t;
    struct env_msg m;
    uint8_t id[16];
    json_t *v, *rep;
    int rc;

    if (ctl_id(req, "id", id) != 0)
        return ctl_error("%s", "show: \"id\" must be 32 hex digits");
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    v = ctl_incident_view(n, &t, id, 1, clock_now_us(), NULL);
    if (v) {
        store_abort(&t);
        rep = ctl_ok();
        json_object_set_new(rep, "incident", v);
        return rep;
    }
    if ((rc = ctl_incident_readable(&t, id)) == RL_OK &&
        (rc = ctl_message(&t, id, &m)) == RL_OK) {
        store_abort(&t);
        v = form_body_json(m.body);
        json_object_set_new(v, "hops", hops_json(&m));
        env_msg_free(&m);
        rep = ctl_ok();
        json_object_set_new(rep, "message", v);
        return rep;
    }
    if (rc == RL_ENOTFOUND && store_has(&t, "corrupt", id, 16) != 0)
        rc = RL_ECORRUPT; /* moved to corrupt: held here, not readable */
    store_abort(&t);
    if (rc != RL_ENOTFOUND) /* held here, but damaged: never "not here" */
        return ctl_error("%s", "that record is held here but cannot be read: run relayctl store check");
    return ctl_error("%s", "no incident or message with that id here");
}

/* link_json - one neighbour's state */
static json_t *
link_json(struct node *n, struct store_txn *t, const char *peer, int up,
          int connected)
{
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
                  "last_ack", iso_json(last), "acked", (json_int_t)acked);
    if (o && up && atomic_load(&n->up_skew_at_us) != 0) {
        /* the parent's clock minus ours, from its last reply */
        int skew_ok;
        char why[400];
        json_object_set_new(o, "clock_skew_ms",
                            json_integer((json_int_t)(atomic_load(&n->up_skew_us) / 1000)));
        json_object_set_new(o, "clock_skew_measured",
                            iso_json(atomic_load(&n->up_skew_at_us)));
        if (link_skew_check(n, &skew_ok, why, sizeof(why)))
            json_object_set_new(o, "clock_warning", json_string(why));
    }
    return o;
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
    json_object_set_new(rep, "policy", json_string(n->pol.name));
    json_object_set_new(rep, "policy_source", json_string(n->pol_source));
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
                                               link_up_connected(n, now_ms)));
    for (size_t i = 0; i < node_dir(n)->n; i++) {
        const struct dir_node *d = &node_dir(n)->nodes[i];
        int parked;
        json_t *l;
        if (d->parent_ix < 0 || strcmp(node_dir(n)->nodes[d->parent_ix].id, n->self->id) != 0)
            continue;
        l = link_json(n, &t, d->id, 0, link_down_connected(n, i, now_ms, &parked));
        if (l) /* a poll of the child waits here for something to deliver */
            json_object_set_new(l, "poll_parked", json_boolean(parked));
        json_array_append_new(links, l);
    }
    store_abort(&t);
    json_object_set_new(rep, "links", links);
    return rep;
}

/* ctl_held - the held messages: refused by a neighbour, kept with the reason */
static json_t *
ctl_held(struct node *n)
{
    struct store_txn t;
    json_t *rep, *v;
    size_t total = 0;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    v = held_view(&t, &total);
    store_abort(&t);
    if (v == NULL)
        return ctl_error("%s", "cannot read the held messages");
    rep = ctl_ok();
    json_object_set_new(rep, "held", v);
    json_object_set_new(rep, "total", json_integer((json_int_t)total));
    return rep;
}

/* ctl_held_act - release or drop a held message {id, peer?, reason} */
static json_t *
ctl_held_act(struct node *n, json_t *req, enum work_held_op op)
{
    const char *peer = json_string_value(json_object_get(req, "peer"));
    const char *reason = json_string_value(json_object_get(req, "reason"));
    const char *verb = op == WORK_HELD_RELEASE ? "release" : "drop";
    struct store_txn t;
    char msg[300];
    struct work wk;
    json_t *rep;
    int found, rc;

    memset(&wk, 0, sizeof(wk));
    if (ctl_id(req, "id", wk.held_id) != 0) {
        snprintf(msg, sizeof(msg), "%s: \"id\" must be the 32 hex digits of a held message",
                 verb);
        return ctl_error("%s", msg);
    }
    if (op == WORK_HELD_DROP && (reason == NULL || reason[0] == '\0'))
        return ctl_error("%s", "drop: a reason is required (--reason): it is audited");
    if (reason && strlen(reason) > 1000)
        return ctl_error("%s", "drop: the reason is longer than 1000 bytes");
    wk.type = WORK_HELD;
    wk.held_op = op;
    wk.peer = peer && peer[0] ? peer : NULL;
    wk.held_reason = reason;
    /* the answer is known before the commit (it is kept with the work for
     * a retried request id): how many holds there are to act on now */
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    rc = held_find(&t, wk.held_id, wk.peer, op == WORK_HELD_RELEASE, &found);
    store_abort(&t);
    if (rc != RL_OK)
        return ctl_error("%s", "cannot read the held messages");
    if (found == 0) {
        snprintf(msg, sizeof(msg), "%s: no message with that id is held%s%s%s%s", verb,
                 wk.peer ? " for '" : "", wk.peer ? wk.peer : "", wk.peer ? "'" : "",
                 op == WORK_HELD_RELEASE ? " and waiting" : "");
        return ctl_error("%s", msg);
    }
    rep = ctl_ok();
    json_object_set_new(rep, op == WORK_HELD_RELEASE ? "released" : "dropped",
                        json_integer(found));
    if (ctl_commit(n, &wk, rep) != RL_OK) {
        json_decref(rep);
        return ctl_error("not done: %s", wk.err);
    }
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
    /* clamped: mono + INT64_MAX overflowed into "timed out" (issue 8 finding 9) */
    if (timeout < 0)
        timeout = 0;
    if (timeout > CTL_WAIT_MAX_MS)
        timeout = CTL_WAIT_MAX_MS;
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
    uint64_t entries, bad, total = 0;
    uint8_t head[32];
    json_t *rep;
    int rc;

    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    rc = store_audit_verify(&t, &entries, &bad);
    if (rc == RL_OK) /* the entries the head counts: "broken at 28: 27 intact of 40" */
        rc = store_audit_head(&t, &total, head);
    store_abort(&t);
    if (rc != RL_OK)
        return ctl_error("%s", "cannot read the audit log");
    rep = ctl_ok();
    json_object_set_new(rep, "entries", json_integer((json_int_t)entries));
    json_object_set_new(rep, "intact", json_boolean(bad == 0));
    json_object_set_new(rep, "first_bad", bad ? json_integer((json_int_t)bad) : json_null());
    json_object_set_new(rep, "total", json_integer((json_int_t)total));
    return rep;
}

/* ctl_audit_export - the signed head and a range of raw entries; the head
 * is read in the same transaction, so the entries end at or after it */
static json_t *
ctl_audit_export(struct node *n, json_t *req)
{
    json_int_t from = json_integer_value(json_object_get(req, "from"));
    ProtobufCBinaryData v[512];
    struct store_txn t;
    uint8_t hash[32], *head;
    uint64_t seq;
    size_t cnt, hl;
    char *hex;
    json_t *arr, *rep;
    int rc;

    if (from < 1)
        from = 1;
    if (store_begin(n->store, 0, &t) != RL_OK)
        return ctl_error("%s", "cannot read the store");
    rc = store_audit_head(&t, &seq, hash);
    if (rc == RL_OK)
        rc = store_audit_range(&t, (uint64_t)from, 512, v, &cnt);
    store_abort(&t);
    if (rc != RL_OK)
        return ctl_error("%s", "cannot read the audit log");
    if (audit_head_seal(n->self->id, seq, hash, clock_now_us(), n->kp, &head, &hl) != RL_OK) {
        for (size_t i = 0; i < cnt; i++)
            free(v[i].data);
        return ctl_error("%s", "cannot sign the audit head");
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
    rep = ctl_ok();
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

/* ctl_audit_head - the latest signed audit head a child sent on its link */
static json_t *
ctl_audit_head(struct node *n, json_t *req)
{
    const char *child = json_string_value(json_object_get(req, "child"));
    const struct directory *d = node_dir(n);
    json_t *rep;
    char *hex = NULL;
    size_t ix;

    if (child == NULL)
        return ctl_error("%s", "audit-head: give \"child\"");
    for (ix = 0; ix < d->n && strcmp(d->nodes[ix].id, child) != 0; ix++)
        ;
    if (ix == d->n || d->nodes[ix].parent_ix < 0 ||
        strcmp(d->nodes[d->nodes[ix].parent_ix].id, n->self->id) != 0)
        return ctl_error("audit-head: '%s' is not a child of this node", child);
    pthread_mutex_lock(&n->mu);
    if (n->child_heads && ix < n->n_child_seen && n->child_heads[ix].len &&
        (hex = malloc(2 * n->child_heads[ix].len + 1)) != NULL)
        keys_hex(n->child_heads[ix].data, n->child_heads[ix].len, hex);
    pthread_mutex_unlock(&n->mu);
    rep = ctl_ok();
    json_object_set_new(rep, "head", hex ? json_string(hex) : json_null());
    free(hex);
    return rep;
}

/* ctl_seen - which of these message ids this node has never stored */
static json_t *
ctl_seen(struct node *n, json_t *req)
{
    json_t *ids = json_object_get(req, "ids"), *missing = json_array(), *v, *rep;
    struct store_txn t;
    size_t i;

    if (!json_is_array(ids) || json_array_size(ids) > 4096) {
        json_decref(missing);
        return ctl_error("%s", "seen: \"ids\" must be an array of at most 4096 ids");
    }
    if (store_begin(n->store, 0, &t) != RL_OK) {
        json_decref(missing);
        return ctl_error("%s", "cannot read the store");
    }
    json_array_foreach(ids, i, v)
    {
        uint8_t id[16];
        if (!json_is_string(v) || env_id_parse(json_string_value(v), id) != 0 ||
            store_seen(&t, id) != 1)
            json_array_append(missing, v);
    }
    store_abort(&t);
    rep = ctl_ok();
    json_object_set_new(rep, "missing", missing);
    return rep;
}

/* ctl_request_begin - take the request id of a write request into
 * ctl_cur; a reply when the request is answered already (or its id is
 * bad), else NULL and the verb runs */
static json_t *
ctl_request_begin(struct node *n, json_t *req, const char *verb)
{
    json_t *rid = json_object_get(req, "request_id");

    memset(&ctl_cur, 0, sizeof(ctl_cur));
    if (rid == NULL || verb == NULL || !ctl_is_write(verb))
        return NULL;
    if (ctl_request_key(verb, json_string_value(rid), ctl_cur.key) != 0)
        return ctl_error("%s", "request_id: must be 8..128 hex digits, '-' or '_'");
    ctl_cur.active = 1;
    return ctl_request_known(n);
}

/* ctl_request_end - the first answer replaces a verb's reply when the
 * writer found that a concurrent retry committed first */
static json_t *
ctl_request_end(json_t *rep)
{
    if (ctl_cur.prior) {
        json_decref(rep);
        rep = ctl_cur.prior;
    }
    memset(&ctl_cur, 0, sizeof(ctl_cur));
    return rep;
}

/* ctl_findings - findings as [{db, key, reason, moved}] */
static json_t *
ctl_findings(const struct store_finding *f, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:b}", "db", f[i].db, "key",
                                           f[i].key, "reason", f[i].reason, "moved",
                                           f[i].moved));
    return a;
}

/* ctl_store_check - scan the whole store (node/store_check.c); damaged
 * messages go to corrupt */
static json_t *
ctl_store_check(struct node *n)
{
    struct store_check_report r;
    json_t *rep;
    int rc = store_check_run(n, &r);

    if (rc != RL_OK)
        return ctl_error("store check failed: %s", rl_strerror(rc));
    rep = ctl_ok();
    json_object_set_new(rep, "intact", json_boolean(r.n == 0));
    json_object_set_new(rep, "damaged", ctl_findings(r.found, r.n));
    json_object_set_new(rep, "corrupt", ctl_findings(r.corrupt, r.ncorrupt));
    json_object_set_new(rep, "read",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "messages", (json_int_t)r.messages,
                  "incidents", (json_int_t)r.incidents, "drills", (json_int_t)r.drills,
                  "outbox", (json_int_t)r.outbox, "dues", (json_int_t)r.dues, "audit",
                  (json_int_t)r.audit));
    store_check_free(&r);
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
    rep = ctl_request_begin(n, req, verb);
    if (rep != NULL)
        ; /* a retry answered as the first time, or a bad request_id */
    else if (verb == NULL)
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
    else if (strcmp(verb, "drill") == 0)
        rep = ctl_drill(n, req);
    else if (strcmp(verb, "dir-change") == 0)
        rep = ctl_dir_change(n, req);
    else if (strcmp(verb, "dir-export") == 0)
        rep = ctl_dir_export(n);
    else if (strcmp(verb, "dir-list") == 0)
        rep = ctl_dir_list(n);
    else if (strcmp(verb, "audit-export") == 0)
        rep = ctl_audit_export(n, req);
    else if (strcmp(verb, "seen") == 0)
        rep = ctl_seen(n, req);
    else if (strcmp(verb, "audit-head") == 0)
        rep = ctl_audit_head(n, req);
    else if (strcmp(verb, "audit-verify") == 0)
        rep = ctl_audit_verify(n);
    else if (strcmp(verb, "held") == 0)
        rep = ctl_held(n);
    else if (strcmp(verb, "release") == 0)
        rep = ctl_held_act(n, req, WORK_HELD_RELEASE);
    else if (strcmp(verb, "drop") == 0)
        rep = ctl_held_act(n, req, WORK_HELD_DROP);
    else if (strcmp(verb, "store-check") == 0)
        rep = ctl_store_check(n);
    else
        rep = ctl_error("unknown verb '%s'", verb);
    json_decref(req);
    return ctl_request_end(rep);
}

/* ctl_request_limit - the largest request the node reads */
static size_t
ctl_request_limit(const struct node *n)
{
    return (size_t)(2 * n->cfg.max_message_bytes + 4096);
}

/* ctl_size_check - a request over the limit is answered and logged, not
 * cut off with a reset (issue 8 finding 9); NULL when it is within */
static json_t *
ctl_size_check(struct node *n, size_t len)
{
    char msg[160];

    if (len <= ctl_request_limit(n))
        return NULL;
    snprintf(msg, sizeof(msg), "request too large (%zu bytes, limit %zu)", len,
             ctl_request_limit(n));
    log_warn("control: %s", msg);
    return ctl_error("%s", msg);
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
        int big;

        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        if (nng_aio_result(aio) == NNG_ECLOSED)
            break;
        if (nng_aio_result(aio) != 0)
            continue;
        msg = nng_aio_get_msg(aio);
        rep = ctl_size_check(n, nng_msg_len(msg));
        if (rep == NULL)
            rep = ctl_dispatch(n, nng_msg_body(msg), nng_msg_len(msg));
        nng_msg_free(msg);
        out = json_dumps(rep, JSON_COMPACT);
        json_decref(rep);
        if (out == NULL || nng_msg_alloc(&msg, strlen(out)) != 0) {
            free(out);
            continue;
        }
        memcpy(nng_msg_body(msg), out, strlen(out));
        /* a big reply (a page of 1000) spread over this worker's malloc
         * arena: give it back, or the heap keeps each worker's peak
         * (issue 8 finding 8) */
        big = strlen(out) > CTL_TRIM_BYTES;
        free(out);
        if (big)
            malloc_trim(0);
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
    /* the socket takes requests up to CTL_RECV_SLACK past the limit, so
     * that one over it is answered (ctl_size_check) rather than reset, while
     * what a worker may buffer stays a few MiB whatever max_message_bytes */
    int rc = node_rep_start(n, &n->ctl, "control", url,
                            ctl_request_limit(n) + CTL_RECV_SLACK, nworkers, ctl_main);

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
