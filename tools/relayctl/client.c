/*
 * client.c - relayctl's HTTP client: one JSON request to the node's API
 * over its Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH), one reply.
 *
 * The socket is -s PATH, or [node] api_socket from the -c config file (read
 * here: relayctl needs that one key, not a whole valid node config). A reply
 * with {"error":{"code","message","field"}} is the node saying no; a 2xx
 * JSON object is its answer.
 *
 * DIAGNOSTICS: ctl_call returns 0 (answered), 1 (an error body: printed as
 * "relayctl: VERB: MESSAGE") or 2 (no socket, nobody listening, no reply,
 * or a reply that is not a JSON answer: each printed naming the socket).
 *
 * SECURITY: the socket's file permissions are the authentication: whoever
 * may open it acts as admin (docs/api.md). A write carries an
 * Idempotency-Key of 16 random bytes; one that got no reply is sent again
 * with the same key, and the node does it at most once (issue 8 finding 7).
 * The request text (it may hold a password) is wiped before it is freed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "ini_lines.h"
#include "keys.h"
#include "relayctl.h"

#define CTL_ATTEMPTS 5             /* tries of a write request without a reply */
#define CTL_RETRY_MS 250           /* pause before the first retry, doubling */
#define CTL_BIG_REQUEST 100000     /* bytes: a reset may mean "too large" */
#define CTL_REPLY_MAX (256u << 20) /* bytes of a reply we read at most */

struct reply {
    char *buf;
    size_t len;
};

/* config_key - inih handler: [node] api_socket and [node] control */
static int
config_key(void *user, const char *section, const char *name, const char *value)
{
    char(*keys)[sizeof(((struct sockaddr_un *)0)->sun_path) + 1] = user;

    if (strcmp(section, "node") == 0 && strcmp(name, "api_socket") == 0)
        snprintf(keys[0], sizeof(keys[0]), "%s", value);
    else if (strcmp(section, "node") == 0 && strcmp(name, "control") == 0)
        snprintf(keys[1], sizeof(keys[1]), "%s", value);
    return 1;
}

/* ctl_socket - the API socket: -s, or [node] api_socket of the -c config;
 * NULL after a message */
const char *
ctl_socket(void)
{
    static char keys[2][sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    struct ini_lines il = {0};
    int line;

    if (G.sock == NULL && G.config == NULL) {
        fprintf(stderr, "relayctl: no API socket: give -c CONFIG or -s PATH\n");
        return NULL;
    }
    if (G.sock == NULL) {
        if ((line = ini_lines_parse(G.config, &il, config_key, keys)) != 0) {
            if (line < 0)
                fprintf(stderr, "relayctl: %s: %s\n", G.config, strerror(errno ? errno : EIO));
            else
                fprintf(stderr, "relayctl: %s:%d: not an INI line\n", G.config, line);
            return NULL;
        }
        if (keys[0][0] == '\0') {
            fprintf(stderr, "relayctl: %s: no 'api_socket' in [node]%s\n", G.config,
                    keys[1][0] ? " (the 'control' socket is gone: the node serves its "
                                 "API on api_socket)" : "");
            return NULL;
        }
        G.sock = keys[0];
    }
    if (strncmp(G.sock, "ipc://", 6) == 0) {
        fprintf(stderr, "relayctl: %s: the nng control socket is gone: give the path of the "
                        "node's API socket (api_socket)\n", G.sock);
        return NULL;
    }
    if (strlen(G.sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "relayctl: API socket path too long (%zu bytes, limit %zu): %s\n",
                strlen(G.sock), sizeof(((struct sockaddr_un *)0)->sun_path) - 1, G.sock);
        return NULL;
    }
    return G.sock;
}

/* ctl_esc - s percent-encoded for a path segment or a query value; valid
 * until 16 more calls */
const char *
ctl_esc(const char *s)
{
    static char ring[16][3 * 512 + 1];
    static int next;
    char *out = ring[next++ % 16], *o = out;

    for (const unsigned char *p = (const unsigned char *)s; *p && o < out + 3 * 511; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            strchr("-._~", *p))
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

/* ctl_vset - ctl_set with a va_list */
static int
ctl_vset(struct ctl_req *q, const char *method, json_t *body, int writes, const char *fmt,
         va_list ap)
{
    int n = vsnprintf(q->path, sizeof(q->path), fmt, ap);

    q->method = method;
    q->body = body;
    q->writes = writes;
    if (n < 0 || (size_t)n >= sizeof(q->path)) {
        fprintf(stderr, "relayctl: %s: the request path is too long\n", G.verb);
        json_decref(body);
        q->body = NULL;
        return -1;
    }
    return 0;
}

/* ctl_set - fill q: method, body (taken), writes, and the path from fmt;
 * 0, or -1 (body freed) when the path does not fit */
int
ctl_set(struct ctl_req *q, const char *method, json_t *body, int writes, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = ctl_vset(q, method, body, writes, fmt, ap);
    va_end(ap);
    return rc;
}

/* reply_add - libcurl write callback: append to the reply, up to its cap */
static size_t
reply_add(char *data, size_t size, size_t n, void *user)
{
    struct reply *r = user;
    char *nb;

    n *= size;
    if (r->len + n > CTL_REPLY_MAX || (nb = realloc(r->buf, r->len + n + 1)) == NULL)
        return 0; /* libcurl fails the transfer: CURLE_WRITE_ERROR */
    memcpy(nb + r->len, data, n);
    r->buf = nb;
    r->len += n;
    r->buf[r->len] = '\0';
    return n;
}

/* ctl_try - one HTTP exchange; CURLE_OK with the reply in *r (the caller
 * frees r->buf) and the status in *status, or the libcurl error, printed */
static CURLcode
ctl_try(const struct ctl_req *q, const char *txt, const char *key, int tmo_ms,
        struct reply *r, long *status)
{
    char url[CTL_PATH_MAX + 32], hdr[64], why[CURL_ERROR_SIZE] = "";
    struct curl_slist *h = NULL, *h2;
    size_t tlen = txt ? strlen(txt) : 0;
    CURL *c;
    CURLcode rv = CURLE_OUT_OF_MEMORY;
    long oserr = 0;

    r->buf = NULL;
    r->len = 0;
    *status = 0;
    snprintf(url, sizeof(url), "http://localhost%s", q->path);
    if ((c = curl_easy_init()) == NULL) {
        fprintf(stderr, "relayctl: cannot start libcurl\n");
        return rv;
    }
    h = curl_slist_append(h, "Accept: application/json");
    if (h && txt && (h2 = curl_slist_append(h, "Content-Type: application/json")) != NULL)
        h = h2;
    if (h && (h2 = curl_slist_append(h, "Expect:")) != NULL) /* no 100-continue wait */
        h = h2;
    if (h && key) {
        snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
        if ((h2 = curl_slist_append(h, hdr)) != NULL)
            h = h2;
    }
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, G.sock);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)tmo_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_add);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (strcmp(q->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, txt ? txt : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)tlen);
        if (strcmp(q->method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    }
    if (h == NULL)
        fprintf(stderr, "relayctl: out of memory\n");
    else if ((rv = curl_easy_perform(c)) == CURLE_COULDNT_CONNECT)
        fprintf(stderr, "relayctl: cannot reach node at %s: %s\n", G.sock,
                curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr
                    ? strerror((int)oserr)
                    : curl_easy_strerror(rv));
    else if (rv != CURLE_OK)
        fprintf(stderr, "relayctl: no reply from node at %s: %s%s\n", G.sock,
                why[0] ? why : curl_easy_strerror(rv),
                tlen > CTL_BIG_REQUEST ? " (the request is large: the node may refuse "
                                         "requests this size)" : "");
    else
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (rv != CURLE_OK) {
        free(r->buf);
        r->buf = NULL;
    }
    return rv;
}

/* retry_pause - sleep before the next attempt of a write */
static void
retry_pause(int attempt)
{
    long ms = (long)CTL_RETRY_MS << (attempt - 1);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* new_key - a fresh Idempotency-Key: 16 random bytes in hex; -1 without
 * libsodium */
static int
new_key(char hex[33])
{
    uint8_t rnd[16];

    if (sodium_init() < 0)
        return -1;
    randombytes_buf(rnd, sizeof(rnd));
    keys_hex(rnd, sizeof(rnd), hex);
    return 0;
}

/* judge - the exit status of a reply (status, JSON body): 0 an answer, 1 an
 * error body (printed), 2 garbage (printed); *rep the parsed body or NULL */
static int
judge(long status, const struct reply *r, json_t **rep)
{
    json_t *err;
    json_error_t jerr;

    *rep = r->len ? json_loadb(r->buf, r->len, 0, &jerr) : NULL;
    if (!json_is_object(*rep)) {
        fprintf(stderr, "relayctl: node at %s sent an invalid reply (HTTP %ld): %s\n", G.sock,
                status, *rep ? "not a JSON object" : r->len ? jerr.text : "empty body");
        json_decref(*rep);
        *rep = NULL;
        return 2;
    }
    err = json_object_get(*rep, "error");
    if (json_is_object(err) && json_is_string(json_object_get(err, "message")))
        return 1;
    if (status < 200 || status > 299) {
        fprintf(stderr, "relayctl: node at %s sent HTTP %ld without an error\n", G.sock,
                status);
        return 2;
    }
    return 0;
}

/*
 * ctl_call - send q (its body always consumed) and wait up to tmo_ms for
 * the reply. Returns 0 with *out the answer (the caller decrefs it), 1
 * after an error reply, 2 when the node was unreachable or answered
 * garbage. With --json the reply is printed here, whatever it says. A
 * write is tried up to CTL_ATTEMPTS times while no reply comes, with the
 * same Idempotency-Key: the node answers a retry with the first answer and
 * stores nothing new, so a reply lost to a reset is not a lost report nor a
 * second one (issue 8 finding 7).
 */
int
ctl_call(struct ctl_req *q, int tmo_ms, json_t **out)
{
    char *txt = q->body ? json_dumps(q->body, JSON_COMPACT) : NULL, key[33];
    struct reply r = {NULL, 0};
    json_t *rep = NULL;
    long status = 0;
    CURLcode rv;
    int rc = 2;

    json_decref(q->body);
    q->body = NULL;
    *out = NULL;
    if (ctl_socket() == NULL || (q->writes && new_key(key) != 0) ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto out;
    for (int attempt = 1;; attempt++) {
        rv = ctl_try(q, txt, q->writes ? key : NULL, tmo_ms, &r, &status);
        if (rv == CURLE_OK) {
            if (attempt > 1)
                fprintf(stderr, "relayctl: the node answered attempt %d\n", attempt);
            break;
        }
        /* a large request cut off while sending was most likely refused for
         * its size: sending it again would only be refused again */
        if (rv == CURLE_OUT_OF_MEMORY || !q->writes || attempt == CTL_ATTEMPTS ||
            (rv == CURLE_SEND_ERROR && txt && strlen(txt) > CTL_BIG_REQUEST)) {
            if (q->writes && attempt > 1)
                fprintf(stderr, "relayctl: %s: gave up after %d attempts: whether the "
                                "node did it is unknown; run the same command again "
                                "later or check with relayctl list\n",
                        G.verb, attempt);
            goto out;
        }
        fprintf(stderr, "relayctl: retrying (attempt %d of %d, the same request id: "
                        "the node does it at most once)\n",
                attempt + 1, CTL_ATTEMPTS);
        retry_pause(attempt);
    }
    rc = judge(status, &r, &rep);
    if (rep && G.json) {
        json_dumpf(rep, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    if (rc == 1)
        fprintf(stderr, "relayctl: %s: %s\n", G.verb,
                jget(json_object_get(rep, "error"), "message"));
    else if (rc == 0)
        *out = json_incref(rep);
out:
    json_decref(rep);
    free(r.buf);
    if (txt) {
        sodium_memzero(txt, strlen(txt));
        free(txt);
    }
    return rc;
}

/* ctl_quiet - a request whose reply is for relayctl, not for printing */
int
ctl_quiet(struct args *a, struct ctl_req *q, json_t **rep)
{
    int json = G.json, rc;

    G.json = 0;
    rc = ctl_call(q, a->timeout_ms, rep);
    G.json = json;
    return rc;
}

/* ctl_fetch - a request that writes nothing, whose reply is for relayctl:
 * method, body (taken), the path from fmt; ctl_call's status and *rep */
int
ctl_fetch(struct args *a, json_t **rep, const char *method, json_t *body, const char *fmt, ...)
{
    struct ctl_req q;
    va_list ap;
    int rc;

    *rep = NULL;
    va_start(ap, fmt);
    rc = ctl_vset(&q, method, body, 0, fmt, ap);
    va_end(ap);
    return rc == 0 ? ctl_quiet(a, &q, rep) : 2;
}
