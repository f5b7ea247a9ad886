/*
 * account_provisional.c - PROVISIONAL: node/account.h over a fixed-size
 * in-memory list, for the HTTP transport's and sessions' tests only, until
 * node/account.c (stored accounts, argon2id) lands. Passwords are kept in
 * the clear here and audit entries only logged. DELETE THIS FILE at merge.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "account.h"
#include "log.h"

#define PROV_MAX 32

static struct {
    char name[33], pw[129];
    enum api_role role;
    int disabled;
} prov[PROV_MAX];
static int prov_n;
static pthread_mutex_t prov_mu = PTHREAD_MUTEX_INITIALIZER;

/* prov_find - index of name, -1 (under prov_mu) */
static int
prov_find(const char *name)
{
    for (int i = 0; i < prov_n; i++)
        if (strcmp(prov[i].name, name) == 0)
            return i;
    return -1;
}

int
account_verify(struct node *n, const char *name, const char *password, enum api_role *role,
               const char **why)
{
    int i, rc = RL_EPERM;

    (void)n;
    pthread_mutex_lock(&prov_mu);
    i = prov_find(name);
    *why = "no such account";
    if (i >= 0 && strlen(password) == strlen(prov[i].pw) &&
        sodium_memcmp(password, prov[i].pw, strlen(password)) == 0) {
        *why = prov[i].disabled ? "account disabled" : NULL;
        if (!prov[i].disabled) {
            *role = prov[i].role;
            rc = RL_OK;
        }
    } else if (i >= 0) {
        *why = "wrong password";
    }
    pthread_mutex_unlock(&prov_mu);
    return rc;
}

int
account_state(struct node *n, const char *name, enum api_role *role)
{
    int i, rc;

    (void)n;
    pthread_mutex_lock(&prov_mu);
    i = prov_find(name);
    rc = i < 0 ? RL_ENOTFOUND : prov[i].disabled ? RL_EPERM : RL_OK;
    if (rc == RL_OK)
        *role = prov[i].role;
    pthread_mutex_unlock(&prov_mu);
    return rc;
}

int
account_audit(struct node *n, const char *what, const char *actor, const char *peer,
              const char *detail)
{
    (void)n;
    log_info("audit (provisional): %s actor=%s peer=%s %s", what, actor, peer, detail);
    return RL_OK;
}

json_t *
account_list_verb(struct api_req *r)
{
    json_t *out = api_ok(), *a = json_array();

    (void)r;
    pthread_mutex_lock(&prov_mu);
    for (int i = 0; i < prov_n; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:b}", "name", prov[i].name, "role",
                                           api_role_name(prov[i].role), "disabled",
                                           prov[i].disabled));
    pthread_mutex_unlock(&prov_mu);
    json_object_set_new(out, "operators", a);
    return out;
}

json_t *
account_add_verb(struct api_req *r)
{
    const char *name = api_str(r, "name"), *pw = api_str(r, "password");
    enum api_role role = api_role_parse(api_str(r, "role"));
    json_t *err = NULL;

    if (name == NULL || strlen(name) < 1 || strlen(name) > 32)
        return api_error(r, 400, "name", "name: 1..32 characters");
    if (role == ROLE_NONE)
        return api_error(r, 400, "role", "role: viewer, reporter, reviewer or admin");
    if (pw == NULL || strlen(pw) < 10 || strlen(pw) > 128)
        return api_error(r, 400, "password", "password: 10..128 bytes");
    pthread_mutex_lock(&prov_mu);
    if (prov_find(name) >= 0)
        err = api_error(r, 409, "name", "operator %s exists", name);
    else if (prov_n == PROV_MAX)
        err = api_error(r, 503, NULL, "provisional list full");
    else {
        strcpy(prov[prov_n].name, name);
        strcpy(prov[prov_n].pw, pw);
        prov[prov_n].role = role;
        prov_n++;
    }
    pthread_mutex_unlock(&prov_mu);
    return err ? err : api_ok();
}

json_t *
account_passwd_verb(struct api_req *r)
{
    return api_error(r, 404, NULL, "provisional: not implemented");
}

json_t *
account_disable_verb(struct api_req *r)
{
    return api_error(r, 404, NULL, "provisional: not implemented");
}
