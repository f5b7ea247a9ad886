/*
 * api.h - the operator API: one table of verbs, served over HTTP.
 *
 * node/http.c is the transport (libmicrohttpd: the Unix socket, always on,
 * and the optional TCP listener with TLS). It turns each request into a
 * struct api_req: who asks (an account's session, or the Unix socket's peer,
 * who acts as admin), the method and path, the query and the JSON body. It
 * hands it to api_dispatch (node/control.c), which finds the verb in the one
 * table, checks the role, runs the handler and returns the reply. The same
 * table serves both listeners; docs/api.md documents every row.
 *
 * REPLIES. A handler returns a JSON object (the transport sends it with
 * r->status, 200 unless set), or NULL with r->text set (a non-JSON body such
 * as /metrics, with r->content_type). A failure is api_error(): the body is
 * {"error":{"code","message","field"}} and the status one of 400 (a field is
 * wrong), 401 (no session), 403 (the role lacks the right, or the tier rules
 * refuse), 404 (no such record), 409 (conflicts with what is stored), 413
 * (too large), 429 (too many failed logins), 503 (not now: stopping, timed
 * out waiting, store full).
 */
#ifndef RELAY_API_H
#define RELAY_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct node;

/* Roles, each holding every right of those below it. */
enum api_role {
    ROLE_NONE = 0,     /* not signed in */
    ROLE_VIEWER = 1,   /* reads */
    ROLE_REPORTER = 2, /* files and updates this node's incidents */
    ROLE_REVIEWER = 3, /* reviews, publishes advisories, starts drills */
    ROLE_ADMIN = 4,    /* accounts, directory, held messages, store, clock */
};

/* api_role_name - "viewer", ...; api_role_parse - name to role, ROLE_NONE
 * if unknown. */
const char *api_role_name(enum api_role r);
enum api_role api_role_parse(const char *s);

#define API_MAX_PARAMS 2

struct api_req {
    struct node *n;
    /* in: set by the transport */
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* without the query */
    json_t *query;            /* object: each query parameter as a string */
    json_t *body;             /* the JSON body, or NULL when there was none */
    const char *request_id;   /* the Idempotency-Key header, or NULL */
    const char *who;          /* the operator: an account name, or
                               * "unix:USER" on the Unix socket */
    enum api_role role;       /* the operator's role (ROLE_ADMIN on the
                               * Unix socket, ROLE_NONE without a session) */
    const char *addr;         /* the peer: "127.0.0.1", "unix", ... */
    int tls;                  /* the request came over TLS */
    int loopback;             /* ... from a loopback address or the Unix socket */
    const char *session;      /* the session token, or NULL */
    int csrf_ok;              /* under a session: X-CSRF-Token matched it */
    /* in: set by api_dispatch */
    const char *param[API_MAX_PARAMS]; /* the path's {...} parts, in order */
    json_t *args;             /* body, query and path parameters merged */
    /* out */
    int status;               /* HTTP status; 0 means 200 */
    char *text;               /* malloc'd non-JSON body (handler returned NULL) */
    const char *content_type; /* of text */
    char *set_cookie;         /* malloc'd Set-Cookie value (login, logout) */
    int retry_after_s;        /* > 0: sent as Retry-After */
    const char *location;     /* static string sent as Location (redirects) */
};

/* A row of the table: one verb. */
enum api_flags {
    API_WRITES = 1,   /* changes the store: takes an Idempotency-Key, needs
                       * the CSRF token under a session, audited with who */
    API_PUBLIC = 2,   /* answered without a session */
    API_LOOPBACK = 4, /* answered without a session from loopback */
};

typedef json_t *(*api_fn)(struct api_req *r);

struct api_verb {
    const char *method;
    const char *path; /* "/api/v1/incidents/{id}": {...} matches one segment */
    api_fn fn;
    int flags;        /* enum api_flags */
    enum api_role role; /* the least role that may call it */
};

/* api_dispatch - route r to its verb and run it: 404 for an unknown path,
 * 405 for a known path with another method, 401 without a session where
 * one is needed, 403 for a role below the verb's. Returns the reply (a JSON
 * object, or NULL with r->text). Never NULL without r->text. */
json_t *api_dispatch(struct api_req *r);

/* api_verb_find - the row for method and path (params filled into r), or
 * NULL; *path_known set when the path exists with another method. */
const struct api_verb *api_verb_find(struct api_req *r, int *path_known);

/* api_error - a failure reply: sets r->status and returns
 * {"error":{"code","message","field"}}; field may be NULL. */
json_t *api_error(struct api_req *r, int status, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* api_ok - {"ok": true}, the start of every success reply. */
json_t *api_ok(void);

/* api_int - args[key] as an integer (a JSON number or a decimal string)
 * within [min, max], def when absent; 0, or -1 (the error reply is set in
 * *err). */
int api_int(struct api_req *r, const char *key, long long def, long long min, long long max,
            long long *out, json_t **err);

/* api_str - args[key] if a string, else NULL. */
const char *api_str(struct api_req *r, const char *key);

/* api_id - args[key] as an id (32 hex digits): 0, or -1 when absent or
 * malformed. */
int api_id(struct api_req *r, const char *key, uint8_t id[16]);

/* api_time - an ISO 8601 UTC time, or JSON null for 0. */
json_t *api_time(int64_t us);

#endif
