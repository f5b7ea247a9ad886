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
struct store_txn;
struct work;

/* Account rules: a name is 1..ACCOUNT_NAME_MAX of [a-z0-9._-] starting
 * with a letter; a password ACCOUNT_PASSWORD_MIN..ACCOUNT_PASSWORD_MAX
 * bytes without NUL. */
#define ACCOUNT_NAME_MAX 32
#define ACCOUNT_PASSWORD_MIN 10
#define ACCOUNT_PASSWORD_MAX 1024

/* account_name_check, account_password_check - 0 when acceptable, else -1
 * with *why (static text). len is the password's length in bytes (a JSON
 * string may hold a NUL: len then differs from strlen and it is refused). */
int account_name_check(const char *name, const char **why);
int account_password_check(const char *pw, size_t len, const char **why);

/* account_hash - crypto_pwhash_str_alg (argon2id, OPSLIMIT_INTERACTIVE,
 * MEMLIMIT_INTERACTIVE) of pw into out (the caller's, wiped by the caller
 * with sodium_memzero). Tens of ms and 64 MiB: never in the writer.
 * RL_OK, or RL_ENOMEM when libsodium could not allocate. */
#define ACCOUNT_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
int account_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX]) RL_MUST_CHECK;

/* What a WORK_ACCOUNT changes (node/writer.c). Borrowed by the work. */
enum account_op { ACCOUNT_ADD = 1, ACCOUNT_PASSWORD, ACCOUNT_DISABLE };
struct account_change {
    enum account_op op;
    const char *name;
    enum api_role role; /* ACCOUNT_ADD */
    const char *pwhash; /* ACCOUNT_ADD, ACCOUNT_PASSWORD: from account_hash */
};

/* account_apply - the writer's part of a WORK_ACCOUNT, in its transaction
 * t (t->actor set to wk->actor): put the record and append its audit entry
 * ("operator-added", "operator-password", "operator-disabled"). A refusal
 * of this work alone is wk->rc (RL_EDUP: the name exists; RL_ENOTFOUND: no
 * such account; RL_ECORRUPT: its record is damaged), with nothing written
 * and RL_OK returned; any other result fails the transaction. */
int account_apply(struct store_txn *t, struct work *wk) RL_MUST_CHECK;

/* account_verify - name's password against its stored hash. RL_OK with
 * *role when it matches and the account is enabled; else RL_EPERM with *why
 * ("no such account", "wrong password", "account disabled"), or a store
 * error (RL_ECORRUPT, RL_EIO, ...) with *why. *why is for the log and the
 * audit entry, not for the client. Costs one crypto_pwhash_str_verify (tens
 * of ms, 64 MiB), also for an unknown name: callers rate-limit. */
int account_verify(struct node *n, const char *name, const char *password,
                   enum api_role *role, const char **why) RL_MUST_CHECK;

/* account_state - RL_OK with *role when name exists and is enabled; else
 * RL_ENOTFOUND (no such account), RL_EPERM (disabled) or a store error
 * (RL_ECORRUPT: its record is damaged). One read txn. */
int account_state(struct node *n, const char *name, enum api_role *role) RL_MUST_CHECK;

/* account_audit - append one audit entry (what, e.g. "login" or
 * "login-failed"; actor, the operator's name; peer, the address; detail)
 * through the writer, and return once it is committed: RL_OK, or the
 * writer's error (RL_EFULL when the store is nearly full, RL_ECLOSED when
 * stopping, RL_EIO). Strings are the caller's. */
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
