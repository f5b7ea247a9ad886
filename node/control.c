/*
 * control.c - the operator API's one table of verbs, and the dispatcher
 * that every request of both listeners goes through (issue 10).
 *
 * node/http.c turns an HTTP request into a struct api_req; api_dispatch
 * finds its row in api_verbs, checks who may call it, merges its body,
 * query and path parameters into r->args, and runs the handler. The
 * handlers live with what they are about: views (node/view.c), filing
 * (node/filing.c), drills (node/drill.c), the audit log
 * (node/audit_verbs.c), the directory (node/dir_verbs.c), housekeeping
 * (node/ops.c), accounts and sessions (node/account.c, node/session.c),
 * monitoring (node/metrics.c).
 *
 * IDEMPOTENT WRITES (issue 8 finding 7). A row marked API_WRITES takes an
 * Idempotency-Key header. The dispatcher answers a known key with the
 * first answer ("replayed": true) without running the verb again;
 * otherwise the handler hands its work to the writer through
 * control_commit, with the answer it will give: the writer keeps that
 * answer in the same transaction as the work, and if a concurrent retry
 * committed first, stores nothing and the first answer is given instead.
 * The key is bound to the method and path: a key reused on another verb
 * or another incident is a new request, never the answer to another one.
 *
 * SECURITY: a row says the least role that may call it; a session's role
 * comes from its account at each request (node/session.c). Without a
 * session only API_PUBLIC rows answer, and API_LOOPBACK rows from
 * loopback. Under a session, a request other than GET needs the session's
 * CSRF token. The Unix socket acts as admin: its file mode is the
 * authentication. The tier rules (node/authz.c, node/address.c) apply to
 * every caller alike.
 * DIAGNOSTICS: every write is logged with who made it and its status.
 */
#include "control.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "audit_verbs.h"
#include "console.h"
#include "dir_verbs.h"
#include "drill.h"
#include "filing.h"
#include "inbox.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "ops.h"
#include "session.h"
#include "store.h"
#include "view.h"
#include "writer.h"

#define W API_WRITES
#define PUB API_PUBLIC
#define LOOP API_LOOPBACK

static json_t *ctl_index_verb(struct api_req *r);

/* The API: every verb of every listener (docs/api.md documents each). */
static const struct api_verb api_verbs[] = {
    {"GET", "/api/v1", ctl_index_verb, 0, ROLE_VIEWER},
    {"GET", "/healthz", health_verb, PUB, ROLE_NONE},
    {"GET", "/readyz", ready_verb, LOOP, ROLE_VIEWER},
    {"GET", "/metrics", metrics_verb, LOOP, ROLE_VIEWER},
    {"GET", "/api/v1/status", view_status_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/incidents", view_incidents_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/incidents/{id}", view_incident_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/messages/{id}", view_message_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/messages/{id}/wait", ops_wait_message_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/outbox/wait", ops_wait_outbox_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/advisories", view_advisories_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/advisories/{id}", inbox_advisory_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/advisories/{id}/read", inbox_read_verb, W, ROLE_VIEWER},
    {"GET", "/api/v1/drill-notices", view_drill_notices_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/drills", view_drills_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/drills/{id}", drill_record_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/reports", filing_report_verb, W, ROLE_REPORTER},
    {"POST", "/api/v1/incidents/{id}/updates", filing_update_verb, W, ROLE_REPORTER},
    {"POST", "/api/v1/incidents/{id}/level-requests", filing_level_verb, W, ROLE_REPORTER},
    {"POST", "/api/v1/incidents/{id}/closure", filing_close_verb, W, ROLE_REPORTER},
    {"POST", "/api/v1/incidents/{id}/withdrawal", filing_withdraw_verb, W, ROLE_REPORTER},
    {"POST", "/api/v1/incidents/{id}/reviews", filing_review_verb, W, ROLE_REVIEWER},
    {"POST", "/api/v1/incidents/{id}/support", filing_support_verb, W, ROLE_REVIEWER},
    {"POST", "/api/v1/advisories", filing_advisory_verb, W, ROLE_REVIEWER},
    {"POST", "/api/v1/advise", filing_advise_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/drills", drill_start_verb, W, ROLE_REVIEWER},
    {"GET", "/api/v1/held", ops_held_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/held/{id}/release", ops_release_verb, W, ROLE_ADMIN},
    {"POST", "/api/v1/held/{id}/drop", ops_drop_verb, W, ROLE_ADMIN},
    {"POST", "/api/v1/clock", ops_clock_verb, 0, ROLE_ADMIN},
    {"POST", "/api/v1/store/check", ops_store_check_verb, W, ROLE_ADMIN},
    {"GET", "/api/v1/audit/verify", audit_verify_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/audit/entries", audit_entries_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/audit/heads/{child}", audit_head_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/seen", audit_seen_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/operators", account_list_verb, 0, ROLE_ADMIN},
    {"POST", "/api/v1/operators", account_add_verb, W, ROLE_ADMIN},
    {"POST", "/api/v1/operators/{name}/password", account_passwd_verb, W, ROLE_ADMIN},
    {"POST", "/api/v1/operators/{name}/disable", account_disable_verb, W, ROLE_ADMIN},
    {"GET", "/api/v1/directory", dir_list_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/directory/export", dir_export_verb, 0, ROLE_VIEWER},
    {"POST", "/api/v1/directory/changes", dir_change_verb, W, ROLE_ADMIN},
    /* sessions (node/session.c) */
    {"POST", "/api/v1/login", session_login_verb, PUB, ROLE_NONE},
    {"POST", "/api/v1/logout", session_logout_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/session", session_show_verb, 0, ROLE_VIEWER},
    {"GET", "/", console_root_verb, PUB, ROLE_NONE},
    {"GET", "/console/", console_index_verb, PUB, ROLE_NONE},
    {"GET", "/console/{file}", console_file_verb, PUB, ROLE_NONE},
};
#define API_NVERBS (sizeof(api_verbs) / sizeof(api_verbs[0]))

/* ctl_index_verb - GET /api/v1: the table itself, so that a client (and
 * the test that checks docs/api.md) sees every endpoint */
static json_t *
ctl_index_verb(struct api_req *r)
{
    json_t *rep = api_ok(), *a = json_array();

    (void)r;
    for (size_t i = 0; i < API_NVERBS; i++)
        json_array_append_new(
            a, json_pack("{s:s,s:s,s:s,s:b,s:s}", "method", api_verbs[i].method, "path",
                         api_verbs[i].path, "role", api_role_name(api_verbs[i].role), "writes",
                         (api_verbs[i].flags & API_WRITES) != 0, "without_login",
                         (api_verbs[i].flags & API_PUBLIC)     ? "anywhere"
                         : (api_verbs[i].flags & API_LOOPBACK) ? "loopback"
                                                               : "no"));
    json_object_set_new(rep, "endpoints", a);
    return rep;
}

/* The request being served on this thread: its idempotency key. */
struct ctl_req {
    int active;       /* the request carries an Idempotency-Key */
    uint8_t key[16];  /* BLAKE2b-128 of method, path and key */
    json_t *prior;    /* the first answer, when the writer found one */
};
static __thread struct ctl_req ctl_cur;

/* path_match - path against template: each "{name}" takes one non-empty
 * segment into params (at most API_MAX_PARAMS); 1 on a match */
static int
path_match(const char *tpl, const char *path, const char *params[API_MAX_PARAMS],
           char store[API_MAX_PARAMS][130])
{
    int np = 0;

    while (*tpl && *path) {
        if (*tpl == '{') {
            size_t len = strcspn(path, "/");
            if (len == 0 || len >= 130 || np == API_MAX_PARAMS)
                return 0;
            memcpy(store[np], path, len);
            store[np][len] = '\0';
            params[np] = store[np];
            np++;
            path += len;
            tpl = strchr(tpl, '}') + 1;
        } else if (*tpl++ != *path++) {
            return 0;
        }
    }
    return *tpl == '\0' && *path == '\0';
}

/* The path parameters of the request on this thread */
static __thread char ctl_params[API_MAX_PARAMS][130];

/* api_verb_find - the row for method and path */
const struct api_verb *
api_verb_find(struct api_req *r, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < API_NVERBS; i++) {
        const char *p[API_MAX_PARAMS] = {NULL};
        if (!path_match(api_verbs[i].path, r->path, p, ctl_params))
            continue;
        if (strcmp(api_verbs[i].method, r->method) != 0) {
            *path_known = 1;
            continue;
        }
        memcpy(r->param, p, sizeof(p));
        return &api_verbs[i];
    }
    return NULL;
}

/* param_names - the names of a template's {...} parts, in order */
static void
ctl_param_names(const char *tpl, char names[API_MAX_PARAMS][32])
{
    int np = 0;

    for (const char *p = strchr(tpl, '{'); p && np < API_MAX_PARAMS; p = strchr(p + 1, '{')) {
        size_t len = strcspn(p + 1, "}");
        if (len >= 32)
            len = 31;
        memcpy(names[np], p + 1, len);
        names[np][len] = '\0';
        np++;
    }
}

/* ctl_args - the body, query and path parameters in one object: a name
 * given twice with different values is refused */
static json_t *
ctl_args(struct api_req *r, const struct api_verb *v, json_t **err)
{
    char names[API_MAX_PARAMS][32] = {{0}};
    json_t *a, *val;
    const char *k;

    if (r->body && !json_is_object(r->body)) {
        *err = api_error(r, 400, NULL, "the body must be a JSON object");
        return NULL;
    }
    a = r->body ? json_copy(r->body) : json_object();
    json_object_foreach(r->query, k, val) {
        json_t *had = json_object_get(a, k);
        if (had && !json_equal(had, val)) {
            json_decref(a);
            *err = api_error(r, 400, k, "%s: given in the query and the body", k);
            return NULL;
        }
        json_object_set(a, k, val);
    }
    ctl_param_names(v->path, names);
    for (int i = 0; i < API_MAX_PARAMS && r->param[i]; i++)
        json_object_set_new(a, names[i], json_string(r->param[i]));
    return a;
}

/* ctl_request_key - the key of a valid Idempotency-Key; 0, or -1. The
 * method and path are in the key. */
static int
ctl_request_key(const struct api_req *r, uint8_t key[16])
{
    const char *rid = r->request_id;
    size_t len = strlen(rid);
    crypto_generichash_state st;

    if (len < 8 || len > 128 || strspn(rid, "0123456789abcdefABCDEF-_") != len)
        return -1;
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)r->method, strlen(r->method) + 1);
    crypto_generichash_update(&st, (const uint8_t *)r->path, strlen(r->path) + 1);
    crypto_generichash_update(&st, (const uint8_t *)rid, len);
    crypto_generichash_final(&st, key, 16);
    return 0;
}

/* ctl_replay - a stored first answer as a reply: {...,"replayed":true} */
static json_t *
ctl_replay(struct api_req *r, const char *answer, int64_t at_us)
{
    json_t *rep = json_loads(answer, 0, NULL);

    if (!json_is_object(rep)) {
        json_decref(rep);
        return api_error(r, 409, "Idempotency-Key", "this request was done before, but its stored answer cannot be read");
    }
    json_object_set_new(rep, "replayed", json_true());
    if (at_us)
        json_object_set_new(rep, "first_at", api_time(at_us));
    return rep;
}

/* ctl_request_known - the first answer to the current request, or NULL */
static json_t *
ctl_request_known(struct api_req *r)
{
    struct store_txn t;
    json_t *rep = NULL;
    int64_t at;
    char *answer;

    if (!ctl_cur.active || store_begin(r->n->store, 0, &t) != RL_OK)
        return NULL;
    if (store_request_get(&t, ctl_cur.key, &at, &answer) == RL_OK) {
        rep = ctl_replay(r, answer, at);
        free(answer);
    }
    store_abort(&t);
    return rep;
}

/* control_commit - writer_run, keeping answer with the work when the
 * request has an Idempotency-Key */
int
control_commit(struct api_req *r, struct work *wk, const json_t *answer)
{
    char *txt = NULL;
    int rc;

    if (ctl_cur.active && answer && (txt = json_dumps(answer, JSON_COMPACT)) != NULL) {
        wk->request = ctl_cur.key;
        wk->answer = txt;
    }
    wk->actor = r->who; /* every audit entry of the work names who (R-RECORDS) */
    rc = writer_run(r->n, wk);
    if (rc == RL_EDUP && wk->prior) {
        json_decref(ctl_cur.prior);
        ctl_cur.prior = ctl_replay(r, wk->prior, 0);
    }
    free(wk->prior);
    wk->prior = NULL;
    wk->request = NULL;
    wk->answer = NULL;
    free(txt);
    return rc;
}

/* control_commit_item - one message made here, committed with its answer */
json_t *
control_commit_item(struct api_req *r, struct work_item *it, json_t *rep, const char *what)
{
    struct work wk;
    int rc;

    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_INBOUND;
    wk.items = it;
    wk.n = 1;
    rc = control_commit(r, &wk, rep);
    env_msg_free(&it->m);
    if (rc != RL_OK) {
        json_decref(rep);
        return api_error(r, control_commit_status(rc), NULL, "%s: not stored: %s", what, wk.err);
    }
    return rep;
}

/* control_commit_status - the HTTP status of a commit that failed with rc */
int
control_commit_status(int rc)
{
    switch (rc) {
    case RL_EPERM: return 403;
    case RL_EINVAL: return 400;
    case RL_ETOOBIG: return 413;
    case RL_EDUP: return 409;
    case RL_EFULL: case RL_ENOSPC: case RL_ECLOSED: case RL_EIO: case RL_ENOMEM:
    case RL_ETIMEDOUT: return 503;
    default: return 500;
    }
}

/* ctl_allowed - NULL when r may call v, else the error reply */
static json_t *
ctl_allowed(struct api_req *r, const struct api_verb *v)
{
    if (v->flags & API_PUBLIC)
        return NULL;
    if (r->role == ROLE_NONE) {
        if ((v->flags & API_LOOPBACK) && r->loopback)
            return NULL;
        return api_error(r, 401, NULL, "sign in first: POST /api/v1/login");
    }
    if (r->role < v->role)
        return api_error(r, 403, NULL, "%s %s needs the %s role; %s is %s", v->method, v->path,
                         api_role_name(v->role), r->who ? r->who : "this operator",
                         api_role_name(r->role));
    if (r->session && strcmp(r->method, "GET") != 0 && !r->csrf_ok)
        return api_error(r, 403, "X-CSRF-Token",
                         "X-CSRF-Token: missing or wrong (GET /api/v1/session gives it)");
    return NULL;
}

/* api_dispatch - one request to its verb */
json_t *
api_dispatch(struct api_req *r)
{
    int known = 0;
    const struct api_verb *v = api_verb_find(r, &known);
    json_t *rep;

    memset(&ctl_cur, 0, sizeof(ctl_cur));
    if (v == NULL)
        return known ? api_error(r, 405, NULL, "%s is not allowed on %s", r->method, r->path)
                     : api_error(r, 404, NULL, "no such endpoint: %s", r->path);
    if ((rep = ctl_allowed(r, v)) != NULL)
        return rep;
    if ((r->args = ctl_args(r, v, &rep)) == NULL)
        return rep;
    if ((v->flags & API_WRITES) && r->request_id) {
        if (ctl_request_key(r, ctl_cur.key) != 0) {
            rep = api_error(r, 400, "Idempotency-Key",
                            "Idempotency-Key: must be 8..128 hex digits, '-' or '_'");
            goto out;
        }
        ctl_cur.active = 1;
        if ((rep = ctl_request_known(r)) != NULL)
            goto out; /* a retry answered as the first time */
    }
    rep = v->fn(r);
    if (ctl_cur.prior) {
        /* a concurrent retry committed first: its answer is the answer */
        json_decref(rep);
        rep = ctl_cur.prior;
        ctl_cur.prior = NULL;
        r->status = 0;
    }
    if (v->flags & API_WRITES)
        log_info("api: %s %s by %s (%s): %d", r->method, r->path, r->who ? r->who : "?",
                 r->addr ? r->addr : "?", r->status ? r->status : 200);
out:
    json_decref(r->args);
    r->args = NULL;
    memset(&ctl_cur, 0, sizeof(ctl_cur));
    return rep;
}
