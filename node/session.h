/*
 * session.h - sessions of the TCP listener: login, cookie, CSRF, idle
 * expiry, failed-login limits (issue 10 item 4). In memory: a restart signs
 * everyone out.
 */
#ifndef RELAY_SESSION_H
#define RELAY_SESSION_H

#include "api.h"

/* session_attach - the transport's call for each request over TCP: with the
 * request's Cookie header and X-CSRF-Token header (either may be NULL), set
 * r->session, r->who, r->role and r->csrf_ok when the cookie names a live
 * session of an enabled account (its idle expiry restarts); else leave
 * r->role ROLE_NONE. */
void session_attach(struct api_req *r, const char *cookie, const char *csrf);

/* The verbs: POST /api/v1/login, POST /api/v1/logout, GET /api/v1/session. */
json_t *session_login_verb(struct api_req *r);
json_t *session_logout_verb(struct api_req *r);
json_t *session_show_verb(struct api_req *r);

#endif
