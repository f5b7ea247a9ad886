/*
 * filing.c - an operator files a message: a report, an update, a level
 * request, a review, a closure, a withdrawal, support or an advisory
 * (issue 10: the verbs of control.c's submit, one per endpoint).
 *
 * The form is validated (node/form.c), addressed (node/address.c), signed
 * as this node, checked by the same rules every other node applies
 * (node/authz.c), and handed to the writer; the reply goes out after the
 * commit, so "ok" means stored here. A write with an Idempotency-Key is
 * done at most once (control_commit). A report whose form equals one filed
 * here in the last 24 hours is refused (409) unless ?again=1.
 *
 * DIAGNOSTICS: a form error is 400 naming the field; a refusal by the tier
 * rules 403 naming the rule; a message over max_message_bytes 413 naming
 * the limit and the number of destinations (also logged).
 */
#include "filing.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "authz.h"
#include "clock.h"
#include "control.h"
#include "directory.h"
#include "envelope.h"
#include "form.h"
#include "link.h"
#include "log.h"
#include "node.h"
#include "plan.h"
#include "view.h"
#include "writer.h"

/* support_body - R-SUPPORT: {"incident", "text"} into a SUPPORT notice */
static int
support_body(json_t *args, Relay__Body *b, char *err, size_t errlen)
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
    if (!json_is_string(json_object_get(args, "incident")) ||
        env_id_parse(json_string_value(json_object_get(args, "incident")), iid) != 0) {
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

/* form_hash - a report's canonical fields, without the time it was
 * filed: the same form typed twice hashes the same */
static void
form_hash(const Relay__Body *b, uint8_t out[16])
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


/* form_field - the field a form error names ("field 'x': ..." or
 * "unknown field 'x'"), copied into buf; NULL if none */
static const char *
form_field(const char *err, char *buf, size_t len)
{
    const char *p = strstr(err, "field '"), *q;

    if (p == NULL || (q = strchr(p + 7, '\'')) == NULL || (size_t)(q - p - 7) >= len)
        return NULL;
    memcpy(buf, p + 7, (size_t)(q - p - 7));
    buf[q - p - 7] = '\0';
    return buf;
}

/* filing_form - the form of the request: its body, with the incident of
 * the path (a new reference: the caller decrefs); NULL with *err set */
static json_t *
filing_form(struct api_req *r, json_t **err)
{
    json_t *form;

    if (r->body != NULL && !json_is_object(r->body)) {
        *err = api_error(r, 400, NULL, "the body must be a JSON object: the form");
        return NULL;
    }
    form = r->body ? json_deep_copy(r->body) : json_object();
    if (form == NULL) {
        *err = api_error(r, 503, NULL, "out of memory");
        return NULL;
    }
    if (r->param[0]) {
        json_t *given = json_object_get(form, "incident");
        if (given && (!json_is_string(given) ||
                      strcmp(json_string_value(given), r->param[0]) != 0)) {
            json_decref(form);
            *err = api_error(r, 400, "incident", "field 'incident': the body names another incident than the path");
            return NULL;
        }
        json_object_set_new(form, "incident", json_string(r->param[0]));
    }
    return form;
}

/* filing_sign - the body b, filed now by this node: id, author, time,
 * destinations; sealed into it->m. NULL, or the error reply. */
static json_t *
filing_sign(struct api_req *r, const char *kind, Relay__Body *b, struct work_item *it,
            uint8_t id[ENV_ID_LEN], uint8_t iid[16], int *has_iid)
{
    struct node *n = r->n;
    struct address_list to = {0};
    const struct dir_node *me = dir_find(node_dir(n), n->self->id);
    const uint8_t *pk;
    const char *why = NULL;
    int rc, status;

    /* a revoked or rotated-out key signs nothing (the others would refuse it) */
    if (me == NULL || dir_key_at(me, clock_now_us(), &pk, &why) != 0 ||
        memcmp(pk, n->kp->pk, 32) != 0)
        return api_error(r, 503, NULL, "this node's key is not valid in the directory now: %s",
                         me && why ? why : "rotated: restart the node with its new key");
    env_id_new(id);
    b->id.data = id;
    b->id.len = ENV_ID_LEN;
    b->author = (char *)n->self->id;
    b->created_us = clock_now_us();
    why = address_message(n, b, &to, iid, has_iid, &status);
    if (why == NULL && to.nomem)
        why = "out of memory listing the destinations: nothing filed", status = 503;
    if (why) {
        free(to.v);
        return api_error(r, status, NULL, "%s", why);
    }
    b->to = to.v;
    b->n_to = to.n;
    memset(it, 0, sizeof(*it));
    rc = env_seal_open(b, n->kp, (size_t)n->cfg.max_message_bytes, &it->m, &why);
    b->to = NULL;
    b->n_to = 0;
    free(to.v);
    if (rc != RL_OK && to.n > 1) {
        /* the one limit on an audience: the message must fit in
         * max_message_bytes here and at every node on its way (issue 9 item 2) */
        json_t *e = api_error(r, rc == RL_ETOOBIG ? 413 : 400, NULL,
                              "message refused: %s (%zu destinations; max_message_bytes = "
                              "%lld here and on every node it crosses)",
                              why ? why : rl_strerror(rc), to.n,
                              (long long)n->cfg.max_message_bytes);
        log_warn("api: %s %s", kind,
                 json_string_value(json_object_get(json_object_get(e, "error"), "message")));
        return e;
    }
    if (rc != RL_OK)
        return api_error(r, rc == RL_ETOOBIG ? 413 : 400, NULL, "message refused: %s",
                         why ? why : rl_strerror(rc));
    return NULL;
}

/* filing_submit - validate, address, sign, commit one message of kind */
static json_t *
filing_submit(struct api_req *r, const char *kind)
{
    struct node *n = r->n;
    Relay__Body b = RELAY__BODY__INIT;
    uint8_t id[ENV_ID_LEN], iid[16], fhash[16];
    char err[512], hex[ENV_ID_HEX], fbuf[64], skew[400];
    struct work_item it;
    struct work wk;
    json_t *rep, *form;
    int has_iid = 0, rc, skew_refuse;
    const char *skew_why;
    long long again;

    if (api_int(r, "again", 0, 0, 1, &again, &rep) != 0)
        return rep;
    /* a clock that disagrees with the parent's is said before filing; one
     * so far off that the parent would refuse the message files nothing */
    skew_why = link_skew_check(n, &skew_refuse, skew, sizeof(skew));
    if (skew_why && skew_refuse)
        return api_error(r, 503, NULL, "not filed: %s", skew_why);
    if ((form = filing_form(r, &rep)) == NULL)
        return rep;
    rc = strcmp(kind, "support") == 0
             ? support_body(form, &b, err, sizeof(err))
             : form_to_body_within(kind, form, clock_now_us(), n->cfg.max_future_s * 1000000,
                                   &b, err, sizeof(err));
    json_decref(form);
    if (rc != RL_OK)
        return api_error(r, rc == RL_ENOMEM ? 503 : 400, form_field(err, fbuf, sizeof(fbuf)),
                         "%s", err);
    rep = filing_sign(r, kind, &b, &it, id, iid, &has_iid);
    form_body_clear(&b);
    if (rep)
        return rep;
    /* the same rules every other node applies to this message */
    if (authz_check(n, &it.m, err, sizeof(err)) != NULL) {
        env_msg_free(&it.m);
        return api_error(r, 403, NULL, "%s", err);
    }
    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.items = &it;
    wk.n = 1;
    /* the answer is known before the commit: kept with the work */
    rep = api_ok();
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
        form_hash(it.m.body, fhash);
        wk.form = fhash;
        wk.incident = iid;
        wk.again = again == 1;
    }
    rc = control_commit(r, &wk, rep);
    if (rc != RL_OK) {
        env_msg_free(&it.m);
        json_decref(rep);
        if (rc == RL_EDUP && wk.prior_at) {
            char at[40];
            env_id_hex(wk.prior_incident, hex);
            clock_format_iso(wk.prior_at, at, sizeof(at));
            return api_error(r, 409, NULL,
                             "same form as incident %s filed at %s; use --again to file it again",
                             hex, at);
        }
        return api_error(r, control_commit_status(rc), NULL, "not stored: %s", wk.err);
    }
    if (has_iid && it.m.body->kind_case == RELAY__BODY__KIND_REPORT) {
        struct store_txn t;
        json_t *v;
        if (store_begin(n->store, 0, &t) == RL_OK) {
            v = view_incident(n, &t, iid, 0, clock_now_us(), NULL);
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

/* The verbs: one per kind of message (rows in node/control.c) */
json_t *
filing_report_verb(struct api_req *r)
{
    return filing_submit(r, "report");
}

json_t *
filing_update_verb(struct api_req *r)
{
    return filing_submit(r, "update");
}

json_t *
filing_level_verb(struct api_req *r)
{
    return filing_submit(r, "request-level");
}

json_t *
filing_review_verb(struct api_req *r)
{
    return filing_submit(r, "review");
}

json_t *
filing_close_verb(struct api_req *r)
{
    return filing_submit(r, "close");
}

json_t *
filing_withdraw_verb(struct api_req *r)
{
    return filing_submit(r, "withdraw");
}

json_t *
filing_support_verb(struct api_req *r)
{
    return filing_submit(r, "support");
}

json_t *
filing_advisory_verb(struct api_req *r)
{
    return filing_submit(r, "advisory");
}

/* filing_advise_verb - what the node would do with a report form, without
 * filing it: advised level, destinations, escalations and due times (the
 * same plan a report gets; nothing is stored) */
json_t *
filing_advise_verb(struct api_req *r)
{
    struct node *n = r->n;
    Relay__Body b = RELAY__BODY__INIT;
    char err[512], fbuf[64];
    struct plan pl;
    json_t *rep, *form;
    int rc;

    if ((form = filing_form(r, &rep)) == NULL)
        return rep;
    rc = form_to_body_within("report", form, clock_now_us(), n->cfg.max_future_s * 1000000, &b,
                             err, sizeof(err));
    json_decref(form);
    if (rc != RL_OK)
        return api_error(r, rc == RL_ENOMEM ? 503 : 400, form_field(err, fbuf, sizeof(fbuf)),
                         "%s", err);
    if (plan_report(&n->pol, node_dir(n), n->self->id, b.report, b.drill, &pl, err,
                    sizeof(err)) != RL_OK) {
        form_body_clear(&b);
        return api_error(r, 400, NULL, "%s", err);
    }
    rep = plan_json(&n->pol, &pl);
    plan_free(&pl);
    form_body_clear(&b);
    return rep;
}
