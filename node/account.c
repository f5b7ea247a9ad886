/*
 * account.c - operator accounts of the TCP listener (issue 10 item 4):
 * checks, password hashes, the writer's part and the four verbs.
 *
 * An account is an OperatorRecord in the store's `operators` db
 * (node/store_operator.c). Every change is a WORK_ACCOUNT: the writer puts
 * the record and appends its audit entry, naming the admin who made it
 * (the work's actor), in one transaction. The password is hashed by the
 * verb's own thread before the work is queued, so the writer never spends
 * the tens of milliseconds argon2id takes.
 *
 * DIAGNOSTICS: each verb's failure names its field (name, role, password)
 * or says why (409 the name exists, 404 no such account, 503 the store is
 * full or the node stopping). The writer logs each change after its commit:
 * the account, its role and who made the change, never a password.
 *
 * SECURITY: passwords are never logged, stored or kept: the verb hashes the
 * request's copy and then wipes it (sodium_memzero), and the hash buffers
 * are wiped after use. Hashes are crypto_pwhash_str (argon2id,
 * OPSLIMIT_INTERACTIVE, MEMLIMIT_INTERACTIVE) and are checked with
 * crypto_pwhash_str_verify, which compares in constant time. An unknown
 * name costs a verification against a dummy hash, so that the answer's
 * timing does not tell which names exist.
 */
#include "account.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "node.h"
#include "store.h"
#include "writer.h"

_Static_assert(ACCOUNT_HASH_MAX == crypto_pwhash_STRBYTES, "ACCOUNT_HASH_MAX");

/* account_name_check - 1..32 of [a-z0-9._-], starting with a letter */
int
account_name_check(const char *name, const char **why)
{
    size_t len = name ? strlen(name) : 0;

    if (len == 0 || len > ACCOUNT_NAME_MAX) {
        *why = "name: 1 to 32 characters";
        return -1;
    }
    if (name[0] < 'a' || name[0] > 'z') {
        *why = "name: must start with a letter a-z";
        return -1;
    }
    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != len) {
        *why = "name: only a-z, 0-9, '.', '_' and '-'";
        return -1;
    }
    return 0;
}

/* account_password_check - 10..1024 bytes, no NUL */
int
account_password_check(const char *pw, size_t len, const char **why)
{
    if (pw == NULL) {
        *why = "password: required (a string)";
        return -1;
    }
    if (strlen(pw) != len) {
        *why = "password: must not contain NUL";
        return -1;
    }
    if (len < ACCOUNT_PASSWORD_MIN || len > ACCOUNT_PASSWORD_MAX) {
        *why = "password: 10 to 1024 bytes";
        return -1;
    }
    return 0;
}

/* account_hash - argon2id string of pw */
int
account_hash(const char *pw, size_t len, char out[ACCOUNT_HASH_MAX])
{
    if (crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return RL_ENOMEM; /* libsodium's only failure here: no memory */
    return RL_OK;
}

/* ---------------------------------------------------------------------------
 * Reading accounts (any thread).
 */

struct account_copy {
    enum api_role role;
    int disabled;
    char pwhash[ACCOUNT_HASH_MAX];
};

/* account_read - name's record copied into *c (one read transaction);
 * RL_ENOTFOUND, RL_ECORRUPT (also for a role or hash that cannot be), or a
 * store error. The caller wipes c->pwhash. */
static int
account_read(struct node *n, const char *name, struct account_copy *c)
{
    Relay__OperatorRecord *r = NULL;
    struct store_txn t;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = store_begin(n->store, 0, &t)) != RL_OK)
        return rc;
    rc = store_operator_get(&t, name, &r);
    store_abort(&t);
    if (rc != RL_OK)
        return rc;
    c->role = api_role_parse(r->role);
    c->disabled = r->disabled;
    if (c->role == ROLE_NONE || strlen(r->pwhash) >= sizeof(c->pwhash)) {
        log_warn("account %s: stored record names no role or no hash", name);
        rc = RL_ECORRUPT;
    } else {
        memcpy(c->pwhash, r->pwhash, strlen(r->pwhash) + 1);
    }
    sodium_memzero(r->pwhash, strlen(r->pwhash));
    relay__operator_record__free_unpacked(r, NULL);
    return rc;
}

static char dummy_hash[ACCOUNT_HASH_MAX];
static int dummy_ok;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* dummy_make - a hash of a random password, once: what an unknown name is
 * verified against */
static void
dummy_make(void)
{
    char pw[33];
    uint8_t raw[16];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
    dummy_ok = account_hash(pw, strlen(pw), dummy_hash) == RL_OK;
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(raw, sizeof(raw));
}

/* account_verify - password against the stored hash */
int
account_verify(struct node *n, const char *name, const char *password, enum api_role *role,
               const char **why)
{
    struct account_copy c;
    size_t len = password ? strlen(password) : 0;
    int rc = account_read(n, name, &c), match;

    *role = ROLE_NONE;
    if (rc == RL_ENOTFOUND) {
        pthread_once(&dummy_once, dummy_make);
        if (dummy_ok && password && crypto_pwhash_str_verify(dummy_hash, password, len) == 0)
            log_warn("account: a random password matched"); /* never: the cost is the point */
        *why = "no such account";
        return RL_EPERM;
    }
    if (rc != RL_OK) {
        *why = rc == RL_ECORRUPT ? "the account's record is damaged"
                                 : "the account cannot be read now";
        return rc;
    }
    match = password && crypto_pwhash_str_verify(c.pwhash, password, len) == 0;
    sodium_memzero(&c.pwhash, sizeof(c.pwhash));
    if (!match) {
        *why = "wrong password";
        return RL_EPERM;
    }
    if (c.disabled) {
        *why = "account disabled";
        return RL_EPERM;
    }
    *role = c.role;
    return RL_OK;
}

/* account_state - enabled, and in which role */
int
account_state(struct node *n, const char *name, enum api_role *role)
{
    struct account_copy c;
    int rc = account_read(n, name, &c);

    sodium_memzero(&c.pwhash, sizeof(c.pwhash));
    *role = ROLE_NONE;
    if (rc != RL_OK)
        return rc;
    if (c.disabled)
        return RL_EPERM;
    *role = c.role;
    return RL_OK;
}

/* account_audit - one audit entry through the writer */
int
account_audit(struct node *n, const char *what, const char *actor, const char *peer,
              const char *detail)
{
    struct work wk;
    int rc;

    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_AUDIT;
    wk.actor = actor;
    wk.peer = peer;
    wk.audit_what = what;
    wk.audit_detail = detail;
    rc = writer_run(n, &wk);
    if (rc != RL_OK)
        log_warn("audit: %s of %s not recorded: %s", what, actor ? actor : "-", wk.err);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The writer's part (in its thread and transaction).
 */

static const char *const op_what[] = {"", "operator-added", "operator-password",
                                      "operator-disabled"};

/* account_apply - put the changed record and its audit entry */
int
account_apply(struct store_txn *t, struct work *wk)
{
    const struct account_change *c = wk->account;
    Relay__OperatorRecord rec = RELAY__OPERATOR_RECORD__INIT, *old = NULL;
    int64_t now = clock_now_us();
    char detail[96];
    int rc = store_operator_get(t, c->name, &old);

    if (rc == RL_ECORRUPT) {
        wk->rc = rc;
        snprintf(wk->err, sizeof(wk->err), "the record of account %s is damaged "
                 "(relayctl store check)", c->name);
        return RL_OK;
    }
    if (rc != RL_OK && rc != RL_ENOTFOUND)
        return rc;
    if (c->op == ACCOUNT_ADD && old) {
        wk->rc = RL_EDUP;
        snprintf(wk->err, sizeof(wk->err), "an account called %s exists", c->name);
        goto out;
    }
    if (c->op != ACCOUNT_ADD && old == NULL) {
        wk->rc = RL_ENOTFOUND;
        snprintf(wk->err, sizeof(wk->err), "no account called %s", c->name);
        return RL_OK;
    }
    rec.name = (char *)c->name;
    rec.changed_us = now;
    rec.changed_by = (char *)(wk->actor ? wk->actor : "");
    if (c->op == ACCOUNT_ADD) {
        rec.role = (char *)api_role_name(c->role);
        rec.pwhash = (char *)c->pwhash;
        rec.created_us = now;
    } else {
        rec.role = old->role;
        rec.pwhash = c->op == ACCOUNT_PASSWORD ? (char *)c->pwhash : old->pwhash;
        rec.disabled = c->op == ACCOUNT_DISABLE ? 1 : old->disabled;
        rec.created_us = old->created_us;
    }
    snprintf(detail, sizeof(detail), "operator %s, role %s", c->name, rec.role);
    if ((rc = store_operator_put(t, &rec)) == RL_OK)
        rc = store_audit(t, now, op_what[c->op], NULL, wk->peer, detail);
out:
    if (old)
        relay__operator_record__free_unpacked(old, NULL);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The verbs.
 */

/* account_json - one account as the list shows it (never its hash) */
static json_t *
account_json(const Relay__OperatorRecord *r)
{
    char created[40], changed[40];

    clock_format_iso(r->created_us, created, sizeof(created));
    clock_format_iso(r->changed_us, changed, sizeof(changed));
    return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s}", "name", r->name, "role", r->role,
                     "disabled", r->disabled, "created", created, "changed", changed,
                     "changed_by", r->changed_by);
}

/* account_list_verb - GET /api/v1/operators?limit&cursor */
json_t *
account_list_verb(struct api_req *r)
{
    Relay__OperatorRecord **v = NULL;
    const char *cursor = api_str(r, "cursor");
    json_t *err = NULL, *list, *rep;
    struct store_txn t;
    long long limit;
    size_t n = 0, i = 0;
    int rc;

    if (api_int(r, "limit", 100, 1, 1000, &limit, &err) != 0)
        return err;
    if ((rc = store_begin(r->n->store, 0, &t)) != RL_OK)
        return api_error(r, 503, NULL, "cannot read the store now");
    rc = store_operator_list(&t, &v, &n);
    store_abort(&t);
    if (rc == RL_ECORRUPT)
        return api_error(r, 500, NULL, "an account's record is damaged (relayctl store check)");
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot read the accounts now: %s", rl_strerror(rc));
    while (cursor && i < n && strcmp(v[i]->name, cursor) <= 0)
        i++;
    list = json_array();
    for (; i < n && json_array_size(list) < (size_t)limit; i++)
        json_array_append_new(list, account_json(v[i]));
    rep = api_ok();
    json_object_set_new(rep, "operators", list);
    json_object_set_new(rep, "next", i < n && i > 0 ? json_string(v[i - 1]->name) : json_null());
    store_operator_list_free(v, n);
    return rep;
}

/* account_wipe_arg - zero the bytes of args[key] (and body[key]) in place:
 * the request's copy of a password does not outlive the verb */
static void
account_wipe_arg(struct api_req *r, const char *key)
{
    json_t *objs[2] = {r->args, r->body};

    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(objs[i], key);
        if (json_is_string(v))
            sodium_memzero((char *)json_string_value(v), json_string_length(v));
    }
}

/* account_password_hash - args["password"] checked and hashed into out,
 * the request's copy wiped; NULL, or the error reply */
static json_t *
account_password_hash(struct api_req *r, char out[ACCOUNT_HASH_MAX])
{
    json_t *v = json_object_get(r->args, "password");
    const char *pw = json_string_value(v), *why;
    int rc;

    if (account_password_check(pw, json_string_length(v), &why) != 0) {
        account_wipe_arg(r, "password");
        return api_error(r, 400, "password", "%s", why);
    }
    rc = account_hash(pw, json_string_length(v), out);
    account_wipe_arg(r, "password");
    if (rc != RL_OK)
        return api_error(r, 503, NULL, "cannot hash the password now (out of memory)");
    return NULL;
}

/* account_commit - hand the change to the writer, as r->who from r->addr,
 * and wait for its commit; NULL, or the error reply */
static json_t *
account_commit(struct api_req *r, const struct account_change *c)
{
    struct work wk;
    int rc;

    memset(&wk, 0, sizeof(wk));
    wk.type = WORK_ACCOUNT;
    wk.actor = r->who;
    wk.peer = r->addr;
    wk.account = c;
    rc = writer_run(r->n, &wk);
    free(wk.prior);
    switch (rc) {
    case RL_OK:
        return NULL;
    case RL_EDUP:
        return api_error(r, 409, "name", "%s", wk.err);
    case RL_ENOTFOUND:
        return api_error(r, 404, NULL, "%s", wk.err);
    case RL_ECORRUPT:
        return api_error(r, 500, NULL, "%s", wk.err);
    default:
        return api_error(r, 503, NULL, "%s", wk.err[0] ? wk.err : rl_strerror(rc));
    }
}

/* account_commit_password - c with the hash of args["password"]: hashed
 * here, before the writer, and wiped after; NULL, or the error reply */
static json_t *
account_commit_password(struct api_req *r, struct account_change *c)
{
    char hash[ACCOUNT_HASH_MAX];
    json_t *err;

    if ((err = account_password_hash(r, hash)) != NULL)
        return err;
    c->pwhash = hash;
    err = account_commit(r, c);
    c->pwhash = NULL;
    sodium_memzero(hash, sizeof(hash));
    return err;
}

/* account_add_verb - POST /api/v1/operators {"name","role","password"} */
json_t *
account_add_verb(struct api_req *r)
{
    struct account_change c = {.op = ACCOUNT_ADD};
    const char *why;
    json_t *err;

    c.name = api_str(r, "name");
    if (account_name_check(c.name, &why) != 0) {
        account_wipe_arg(r, "password");
        return api_error(r, 400, "name", "%s", why);
    }
    if ((c.role = api_role_parse(api_str(r, "role"))) == ROLE_NONE) {
        account_wipe_arg(r, "password");
        return api_error(r, 400, "role", "role: one of viewer, reporter, reviewer, admin");
    }
    if ((err = account_commit_password(r, &c)) != NULL)
        return err;
    return json_pack("{s:b,s:s,s:s}", "ok", 1, "name", c.name, "role", api_role_name(c.role));
}

/* account_passwd_verb - POST /api/v1/operators/{name}/password {"password"} */
json_t *
account_passwd_verb(struct api_req *r)
{
    struct account_change c = {.op = ACCOUNT_PASSWORD, .name = r->param[0]};
    const char *why;
    json_t *err;

    if (account_name_check(c.name, &why) != 0) {
        account_wipe_arg(r, "password");
        return api_error(r, 404, NULL, "no account called %s", c.name ? c.name : "");
    }
    if ((err = account_commit_password(r, &c)) != NULL)
        return err;
    return json_pack("{s:b,s:s}", "ok", 1, "name", c.name);
}

/* account_disable_verb - POST /api/v1/operators/{name}/disable */
json_t *
account_disable_verb(struct api_req *r)
{
    struct account_change c = {.op = ACCOUNT_DISABLE, .name = r->param[0]};
    const char *why;
    json_t *err;

    if (account_name_check(c.name, &why) != 0)
        return api_error(r, 404, NULL, "no account called %s", c.name ? c.name : "");
    if ((err = account_commit(r, &c)) != NULL)
        return err;
    return json_pack("{s:b,s:s,s:b}", "ok", 1, "name", c.name, "disabled", 1);
}
