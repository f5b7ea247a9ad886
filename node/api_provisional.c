/*
 * api_provisional.c - PROVISIONAL: a stand-in for the verb table and
 * api_dispatch that the lead writes in node/control.c (issue 10). It routes
 * just enough (status, health, login/logout/session, operators) to test
 * the HTTP transport and the sessions. DELETE THIS FILE when control.c with
 * the real api_dispatch is merged.
 */
#include <string.h>

#include "account.h"
#include "api.h"
#include "node.h"
#include "session.h"

/* prov_status - GET /api/v1/status, trivially */
static json_t *
prov_status(struct api_req *r)
{
    return json_pack("{s:b,s:s}", "ok", 1, "node", r->n->cfg.id);
}

static const struct api_verb prov_verbs[] = {
    {"GET", "/healthz", prov_status, API_PUBLIC, ROLE_NONE},
    {"GET", "/api/v1/status", prov_status, 0, ROLE_VIEWER},
    {"POST", "/api/v1/login", session_login_verb, API_PUBLIC, ROLE_NONE},
    {"POST", "/api/v1/logout", session_logout_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/session", session_show_verb, 0, ROLE_VIEWER},
    {"GET", "/api/v1/operators", account_list_verb, 0, ROLE_ADMIN},
    {"POST", "/api/v1/operators", account_add_verb, API_WRITES, ROLE_ADMIN},
};

/* api_verb_find - exact paths only (provisional) */
const struct api_verb *
api_verb_find(struct api_req *r, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < sizeof(prov_verbs) / sizeof(prov_verbs[0]); i++) {
        if (strcmp(prov_verbs[i].path, r->path) != 0)
            continue;
        if (strcmp(prov_verbs[i].method, r->method) == 0)
            return &prov_verbs[i];
        *path_known = 1;
    }
    return NULL;
}

/* api_dispatch - route, check session, role and CSRF, run */
json_t *
api_dispatch(struct api_req *r)
{
    const struct api_verb *v;
    int known;
    json_t *out;

    v = api_verb_find(r, &known);
    if (v == NULL)
        return known ? api_error(r, 405, NULL, "method not allowed")
                     : api_error(r, 404, NULL, "no such endpoint: %s", r->path);
    if (!(v->flags & API_PUBLIC)) {
        if (r->role == ROLE_NONE)
            return api_error(r, 401, NULL, "sign in first (POST /api/v1/login)");
        if (r->role < v->role)
            return api_error(r, 403, NULL, "needs the role %s", api_role_name(v->role));
    }
    if (r->session && strcmp(r->method, "GET") != 0 && strcmp(r->path, "/api/v1/login") != 0 &&
        !r->csrf_ok)
        return api_error(r, 403, NULL, "missing or wrong X-CSRF-Token");
    r->args = r->body ? json_deep_copy(r->body) : json_object();
    json_object_update_missing(r->args, r->query);
    out = v->fn(r);
    json_decref(r->args);
    r->args = NULL;
    return out;
}
