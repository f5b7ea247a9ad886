/*
 * session.c - sessions of the TCP listener: login, the session cookie, the
 * CSRF token, idle expiry and the failed-login limits (issue 10 item 4).
 *
 * Everything is in memory, under one mutex: a restart signs everyone out.
 * A session is a 32-byte random token, sent once as the cookie
 * relay_session (HttpOnly, SameSite=Strict, Secure under TLS) and kept here
 * only as its BLAKE2b-128 hash, with the account's name, a 32-byte random
 * CSRF token and the monotonic time of its last use. Each request asks
 * account_state again, so a disabled account or a changed role takes effect
 * at once.
 *
 * Limits, all fixed sizes so that a peer spraying names, addresses or
 * logins cannot grow memory:
 * - SESS_MAX live sessions; a login beyond them evicts the longest idle.
 * - Failed logins: FAIL_NAME_LIMIT failures of one name, or FAIL_ADDR_LIMIT
 *   from one address, within FAIL_WINDOW_MS lock that name or address for
 *   LOCK_FIRST_S, doubling at each new lock up to LOCK_MAX_S. A locked
 *   attempt is answered 429 with Retry-After before any password check (no
 *   pwhash cost, no audit entry). A success clears the name's count. The
 *   table holds FAIL_MAX entries: when full, an entry whose window and lock
 *   have passed is reused, else the unlocked one with the oldest window,
 *   else the lock that ends first.
 * - At most PWHASH_PARALLEL password checks at once (each costs 64 MiB and
 *   tens of ms); others wait their turn.
 *
 * SECURITY: tokens are compared as hashes (a lookup), the CSRF token with
 * sodium_memcmp. A failed login never says whether the name exists. The
 * actor recorded for a login is the name given, cut to 64 printable ASCII
 * characters. Idle expiry runs on the monotonic clock.
 * DIAGNOSTICS: one warn line per lock (name or address, how long); a login
 * whose audit entry cannot be written is refused with 503 and logged.
 */
#include "session.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "clock.h"
#include "log.h"
#include "node.h"

#define SESS_MAX 10000
#define SESS_NAME 64
#define SESS_TOKEN_HEX 64 /* 32 random bytes */
#define FAIL_MAX 4096
#define FAIL_KEY 72
#define FAIL_NAME_LIMIT 5
#define FAIL_ADDR_LIMIT 20
#define FAIL_WINDOW_MS (15 * 60 * 1000LL)
#define LOCK_FIRST_S (15 * 60)
#define LOCK_MAX_S (24 * 3600)
#define PWHASH_PARALLEL 2
#define SESS_COOKIE "relay_session"

struct sess {
    uint8_t tok[16]; /* BLAKE2b-128 of the token; all zero: free slot */
    char name[SESS_NAME + 1];
    char csrf[SESS_TOKEN_HEX + 1];
    int64_t last_ms; /* monotonic */
    int used;
};

struct fail {
    char key[FAIL_KEY]; /* "n:NAME" or "a:ADDR"; "" free */
    int count;
    int64_t first_ms;       /* start of the window counted */
    int64_t locked_until_ms; /* 0: not locked */
    int next_lock_s;        /* the next lock's length */
};

static pthread_mutex_t sess_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sess sess_tab[SESS_MAX];
static struct fail fail_tab[FAIL_MAX];
static pthread_cond_t hash_cv = PTHREAD_COND_INITIALIZER;
static int hash_busy; /* password checks running, under sess_mu */

/* per request thread: what session_attach put into the request */
static _Thread_local char tl_who[SESS_NAME + 1];
static _Thread_local char tl_token[SESS_TOKEN_HEX + 1];

/* sess_hash - BLAKE2b-128 of a token's bytes */
static void
sess_hash(const uint8_t tok[32], uint8_t out[16])
{
    crypto_generichash(out, 16, tok, 32, NULL, 0);
}

/* sess_parse_token - the relay_session value of a Cookie header, as 32
 * bytes; 0, or -1 when there is none or it is malformed */
static int
sess_parse_token(const char *cookie, uint8_t tok[32])
{
    const char *p = cookie;
    size_t klen = strlen(SESS_COOKIE);

    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, SESS_COOKIE, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t vlen = strcspn(v, "; ");
            size_t bin = 0;
            if (vlen != SESS_TOKEN_HEX)
                return -1;
            if (sodium_hex2bin(tok, 32, v, vlen, NULL, &bin, NULL) != 0 || bin != 32)
                return -1;
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* sess_find - the live slot whose token hashes to h, or NULL (under sess_mu) */
static struct sess *
sess_find(const uint8_t h[16])
{
    for (size_t i = 0; i < SESS_MAX; i++)
        if (sess_tab[i].used && memcmp(sess_tab[i].tok, h, 16) == 0)
            return &sess_tab[i];
    return NULL;
}

/* sess_slot - a free slot, or the longest idle one evicted (under sess_mu) */
static struct sess *
sess_slot(void)
{
    struct sess *old = &sess_tab[0];

    for (size_t i = 0; i < SESS_MAX; i++) {
        if (!sess_tab[i].used)
            return &sess_tab[i];
        if (sess_tab[i].last_ms < old->last_ms)
            old = &sess_tab[i];
    }
    log_info("session: %d sessions live; the longest idle (%s) ends", SESS_MAX, old->name);
    sodium_memzero(old, sizeof(*old));
    return old;
}

/* sess_idle_ms - the configured idle expiry */
static int64_t
sess_idle_ms(const struct api_req *r)
{
    return r->n->cfg.session_idle_s * 1000;
}

/* session_attach - the session named by the cookie, if live */
void
session_attach(struct api_req *r, const char *cookie, const char *csrf)
{
    uint8_t tok[32], h[16];
    char want[SESS_TOKEN_HEX + 1];
    enum api_role role;
    struct sess *s;
    int64_t now = clock_mono_ms();
    int rc;

    if (cookie == NULL || sess_parse_token(cookie, tok) != 0)
        return;
    sess_hash(tok, h);
    pthread_mutex_lock(&sess_mu);
    s = sess_find(h);
    if (s != NULL && now - s->last_ms >= sess_idle_ms(r)) {
        sodium_memzero(s, sizeof(*s));
        s = NULL;
    }
    if (s == NULL) {
        pthread_mutex_unlock(&sess_mu);
        return;
    }
    s->last_ms = now;
    snprintf(tl_who, sizeof(tl_who), "%s", s->name);
    memcpy(want, s->csrf, sizeof(want));
    pthread_mutex_unlock(&sess_mu);

    rc = account_state(r->n, tl_who, &role);
    if (rc != RL_OK) {
        /* disabled or removed: the session ends with the account */
        pthread_mutex_lock(&sess_mu);
        if ((s = sess_find(h)) != NULL)
            sodium_memzero(s, sizeof(*s));
        pthread_mutex_unlock(&sess_mu);
        return;
    }
    sodium_bin2hex(tl_token, sizeof(tl_token), tok, 32);
    r->session = tl_token;
    r->who = tl_who;
    r->role = role;
    r->csrf_ok = csrf != NULL && strlen(csrf) == SESS_TOKEN_HEX &&
                 sodium_memcmp(csrf, want, SESS_TOKEN_HEX) == 0;
    sodium_memzero(want, sizeof(want));
}

/* fail_get - the entry for key, made if absent (under sess_mu) */
static struct fail *
fail_get(const char *key, int64_t now)
{
    struct fail *free_e = NULL, *old = NULL, *soon = NULL;

    for (size_t i = 0; i < FAIL_MAX; i++) {
        struct fail *f = &fail_tab[i];
        if (f->key[0] == '\0') {
            if (free_e == NULL)
                free_e = f;
            continue;
        }
        if (strcmp(f->key, key) == 0)
            return f;
        if (f->locked_until_ms <= now) {
            if (now - f->first_ms > FAIL_WINDOW_MS && free_e == NULL)
                free_e = f; /* nothing left to count or to lock */
            else if (old == NULL || f->first_ms < old->first_ms)
                old = f;
        } else if (soon == NULL || f->locked_until_ms < soon->locked_until_ms) {
            soon = f;
        }
    }
    if (free_e == NULL)
        free_e = old ? old : soon;
    memset(free_e, 0, sizeof(*free_e));
    snprintf(free_e->key, sizeof(free_e->key), "%s", key);
    free_e->first_ms = now;
    free_e->next_lock_s = LOCK_FIRST_S;
    return free_e;
}

/* fail_locked - seconds left of key's lock, 0 if none (under sess_mu) */
static int
fail_locked(const char *key, int64_t now)
{
    for (size_t i = 0; i < FAIL_MAX; i++)
        if (fail_tab[i].key[0] && strcmp(fail_tab[i].key, key) == 0)
            return fail_tab[i].locked_until_ms > now
                       ? (int)((fail_tab[i].locked_until_ms - now + 999) / 1000)
                       : 0;
    return 0;
}

/* fail_note - count a failure of key; lock it at limit (under sess_mu) */
static void
fail_note(const char *key, int limit, int64_t now)
{
    struct fail *f = fail_get(key, now);

    if (now - f->first_ms > FAIL_WINDOW_MS) {
        f->count = 0;
        f->first_ms = now;
    }
    if (++f->count < limit)
        return;
    f->locked_until_ms = now + (int64_t)f->next_lock_s * 1000;
    log_warn("login: %d failed logins for %s %s within %lld min: locked for %d s",
             f->count, key[0] == 'n' ? "name" : "address", key + 2,
             FAIL_WINDOW_MS / 60000, f->next_lock_s);
    f->next_lock_s = f->next_lock_s * 2 > LOCK_MAX_S ? LOCK_MAX_S : f->next_lock_s * 2;
    f->count = 0;
    f->first_ms = now;
}

/* fail_clear - forget key's failures (under sess_mu) */
static void
fail_clear(const char *key)
{
    for (size_t i = 0; i < FAIL_MAX; i++)
        if (fail_tab[i].key[0] && strcmp(fail_tab[i].key, key) == 0)
            memset(&fail_tab[i], 0, sizeof(fail_tab[i]));
}

/* sess_actor - name cut to 64 printable ASCII characters, others as '?' */
static void
sess_actor(const char *name, char out[SESS_NAME + 1])
{
    size_t i;

    for (i = 0; i < SESS_NAME && name[i]; i++)
        out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    out[i] = '\0';
}

/* sess_verify - account_verify with at most PWHASH_PARALLEL at once */
static int
sess_verify(struct api_req *r, const char *name, const char *password, enum api_role *role,
            const char **why)
{
    int rc;

    pthread_mutex_lock(&sess_mu);
    while (hash_busy >= PWHASH_PARALLEL)
        pthread_cond_wait(&hash_cv, &sess_mu);
    hash_busy++;
    pthread_mutex_unlock(&sess_mu);
    rc = account_verify(r->n, name, password, role, why);
    pthread_mutex_lock(&sess_mu);
    hash_busy--;
    pthread_cond_signal(&hash_cv);
    pthread_mutex_unlock(&sess_mu);
    return rc;
}

/* sess_open - a new session for name: the cookie into r->set_cookie and
 * the CSRF token into csrf; 0, or -1 out of memory */
static int
sess_open(struct api_req *r, const char *name, char csrf[SESS_TOKEN_HEX + 1])
{
    uint8_t tok[32], c[32];
    char hex[SESS_TOKEN_HEX + 1], cookie[200];
    struct sess *s;

    randombytes_buf(tok, sizeof(tok));
    randombytes_buf(c, sizeof(c));
    sodium_bin2hex(hex, sizeof(hex), tok, sizeof(tok));
    sodium_bin2hex(csrf, SESS_TOKEN_HEX + 1, c, sizeof(c));
    snprintf(cookie, sizeof(cookie), SESS_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", hex,
             r->tls ? "; Secure" : "");
    r->set_cookie = strdup(cookie);
    sodium_memzero(cookie, sizeof(cookie));
    sodium_memzero(hex, sizeof(hex));
    if (r->set_cookie == NULL)
        return -1;
    pthread_mutex_lock(&sess_mu);
    s = sess_slot();
    sess_hash(tok, s->tok);
    snprintf(s->name, sizeof(s->name), "%s", name);
    memcpy(s->csrf, csrf, sizeof(s->csrf));
    s->last_ms = clock_mono_ms();
    s->used = 1;
    pthread_mutex_unlock(&sess_mu);
    sodium_memzero(tok, sizeof(tok));
    return 0;
}

/* session_login_verb - POST /api/v1/login {"name","password"} */
json_t *
session_login_verb(struct api_req *r)
{
    const char *name = api_str(r, "name"), *password = api_str(r, "password");
    const char *why = NULL, *addr = r->addr ? r->addr : "?";
    char actor[SESS_NAME + 1], nkey[FAIL_KEY], akey[FAIL_KEY], csrf[SESS_TOKEN_HEX + 1];
    enum api_role role = ROLE_NONE;
    int64_t now = clock_mono_ms();
    int wait_s, rc;
    json_t *out;

    if (name == NULL || *name == '\0')
        return api_error(r, 400, "name", "name: required (a string)");
    if (password == NULL)
        return api_error(r, 400, "password", "password: required (a string)");
    sess_actor(name, actor);
    snprintf(nkey, sizeof(nkey), "n:%s", actor);
    snprintf(akey, sizeof(akey), "a:%s", addr);

    pthread_mutex_lock(&sess_mu);
    wait_s = fail_locked(nkey, now);
    rc = fail_locked(akey, now);
    wait_s = rc > wait_s ? rc : wait_s;
    pthread_mutex_unlock(&sess_mu);
    if (wait_s > 0) {
        r->retry_after_s = wait_s;
        return api_error(r, 429, NULL, "too many failed logins: try again in %d s", wait_s);
    }

    rc = sess_verify(r, name, password, &role, &why);
    if (rc != RL_OK && rc != RL_EPERM) {
        /* the store could not answer: not the caller's failure */
        log_warn("login: cannot check %s from %s: %s", actor, addr, rl_strerror(rc));
        return api_error(r, 503, NULL, "cannot check the password now; try again");
    }
    if (rc != RL_OK) {
        pthread_mutex_lock(&sess_mu);
        now = clock_mono_ms();
        fail_note(nkey, FAIL_NAME_LIMIT, now);
        fail_note(akey, FAIL_ADDR_LIMIT, now);
        pthread_mutex_unlock(&sess_mu);
        if (account_audit(r->n, "login-failed", actor, addr, why ? why : "refused") != RL_OK)
            log_warn("login: cannot audit a failed login of %s from %s", actor, addr);
        return api_error(r, 401, NULL, "wrong name or password");
    }
    pthread_mutex_lock(&sess_mu);
    fail_clear(nkey);
    pthread_mutex_unlock(&sess_mu);
    if (account_audit(r->n, "login", actor, addr, api_role_name(role)) != RL_OK) {
        log_warn("login: cannot audit the login of %s from %s: refused", actor, addr);
        return api_error(r, 503, NULL, "cannot record the login in the audit log");
    }
    if (sess_open(r, actor, csrf) != 0)
        return api_error(r, 500, NULL, "out of memory");
    out = json_pack("{s:b,s:s,s:s,s:s,s:I}", "ok", 1, "name", actor, "role",
                    api_role_name(role), "csrf", csrf, "idle_expiry_s",
                    (json_int_t)r->n->cfg.session_idle_s);
    sodium_memzero(csrf, sizeof(csrf));
    return out;
}

/* sess_req_hash - the hash of the request's session token: 0, or -1
 * without a session */
static int
sess_req_hash(const struct api_req *r, uint8_t h[16])
{
    uint8_t tok[32];
    size_t bin = 0;

    if (r->session == NULL ||
        sodium_hex2bin(tok, sizeof(tok), r->session, strlen(r->session), NULL, &bin, NULL) != 0 ||
        bin != 32)
        return -1;
    sess_hash(tok, h);
    sodium_memzero(tok, sizeof(tok));
    return 0;
}

/* session_logout_verb - POST /api/v1/logout: end the request's session */
json_t *
session_logout_verb(struct api_req *r)
{
    uint8_t h[16];
    struct sess *s;

    if (sess_req_hash(r, h) == 0) {
        pthread_mutex_lock(&sess_mu);
        if ((s = sess_find(h)) != NULL)
            sodium_memzero(s, sizeof(*s));
        pthread_mutex_unlock(&sess_mu);
    }
    r->set_cookie = strdup(r->tls ? SESS_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure"
                                  : SESS_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    return api_ok();
}

/* session_show_verb - GET /api/v1/session: who, role, CSRF token (null on
 * the Unix socket, which has no session) */
json_t *
session_show_verb(struct api_req *r)
{
    uint8_t h[16];
    char csrf[SESS_TOKEN_HEX + 1] = "";
    struct sess *s;
    json_t *out;

    if (sess_req_hash(r, h) == 0) {
        pthread_mutex_lock(&sess_mu);
        if ((s = sess_find(h)) != NULL)
            memcpy(csrf, s->csrf, sizeof(csrf));
        pthread_mutex_unlock(&sess_mu);
    }
    out = json_pack("{s:b,s:s,s:s,s:s?}", "ok", 1, "name", r->who ? r->who : "", "role",
                    api_role_name(r->role), "csrf", csrf[0] ? csrf : NULL);
    sodium_memzero(csrf, sizeof(csrf));
    return out;
}
