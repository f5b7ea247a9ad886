/*
 * account.h - operator accounts of the TCP listener (issue 10 item 4).
 *
 * Accounts live in the store (LMDB database "operators": name -> record
 * with role, argon2id hash from crypto_pwhash_str, disabled flag, times).
 * Every change goes through the writer with an audit entry naming who made
 * it. Sessions (node/session.c) ask account_state on every request, so a
 * disabled account or a changed role takes effect at once.
 */
#ifndef RELAY_ACCOUNT_H
#define RELAY_ACCOUNT_H

#include "api.h"
#include "err.h"

struct node;

/* account_verify - name's password against its stored hash. RL_OK with
 * *role when it matches and the account is enabled; else RL_EPERM with *why
 * ("no such account", "wrong password", "account disabled"). Costs one
 * crypto_pwhash_str_verify (tens of ms, 64 MiB): callers rate-limit. */
int account_verify(struct node *n, const char *name, const char *password,
                   enum api_role *role, const char **why) RL_MUST_CHECK;

/* account_state - RL_OK with *role when name exists and is enabled; else
 * RL_ENOTFOUND (no such account) or RL_EPERM (disabled). One read txn. */
int account_state(struct node *n, const char *name, enum api_role *role) RL_MUST_CHECK;

/* account_audit - append one audit entry (what, e.g. "login" or
 * "login-failed"; actor, the operator's name; peer, the address; detail)
 * through the writer, and return once it is committed. */
int account_audit(struct node *n, const char *what, const char *actor, const char *peer,
                  const char *detail) RL_MUST_CHECK;

/* The verbs (rows in node/control.c): GET /api/v1/operators,
 * POST /api/v1/operators, POST /api/v1/operators/{name}/password,
 * POST /api/v1/operators/{name}/disable. */
json_t *account_list_verb(struct api_req *r);
json_t *account_add_verb(struct api_req *r);
json_t *account_passwd_verb(struct api_req *r);
json_t *account_disable_verb(struct api_req *r);

#endif
