/*
 * bench_api.c - relay-bench's client of a node's operator API: HTTP/JSON
 * over the node's Unix socket (api_socket in its config; docs/api.md).
 *
 * One struct bench_api is one libcurl easy handle aimed at one socket. It
 * keeps its connection open between calls (HTTP keep-alive), so a worker
 * that submits report after report pays the connect once. A handle is used
 * by one thread at a time: relay_bench.c gives each submitting worker its
 * own (the C requests in flight are C workers, each with one request
 * outstanding), and the main thread calls each node through the handle in
 * its struct proc (proc_api_call).
 *
 * On the Unix socket the node takes the caller for its admin (file
 * permissions are the authentication): no login, no session, no CSRF token.
 * The bench sends no Idempotency-Key: it submits each report once, and a
 * report whose form was already filed is refused (409), never stored twice,
 * should libcurl resend a request on a connection that died under it.
 *
 * DIAGNOSTICS: bench_api_call returns NULL on a 2xx reply that is a JSON
 * object with "ok": true, and otherwise a text naming what went wrong: the
 * socket and libcurl's reason when the node cannot be reached, or the
 * error body's message, code, field and HTTP status. The text lives in the
 * handle until its next call.
 *
 * SECURITY: talks only to the sockets of nodes the bench started; a reply
 * is bounded (BENCH_API_MAX_REPLY) and parsed by jansson.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bench.h"

#define BENCH_API_MAX_REPLY (64u << 20) /* a status of 100,000 links fits */

struct bench_api {
    CURL *h;
    struct curl_slist *hdrs;
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char url[256];
    char *buf; /* the reply body, NUL-terminated */
    size_t len, cap;
    char err[CURL_ERROR_SIZE];
    char why[512];
};

/* bench_api_global - libcurl's global state, once, before any thread */
int
bench_api_global(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK
               ? 0
               : fail("libcurl failed to initialise");
}

/* bench_api_write - libcurl's write callback: append to the reply body,
 * refusing one longer than BENCH_API_MAX_REPLY (the transfer then fails) */
static size_t
bench_api_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct bench_api *a = arg;
    size_t n = size * nmemb;

    if (n > BENCH_API_MAX_REPLY - a->len)
        return 0;
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        char *buf;
        while (cap < a->len + n + 1)
            cap *= 2;
        if ((buf = realloc(a->buf, cap)) == NULL)
            return 0;
        a->buf = buf;
        a->cap = cap;
    }
    memcpy(a->buf + a->len, data, n);
    a->len += n;
    a->buf[a->len] = '\0';
    return n;
}

/* bench_api_progress - abort a call in progress after SIGINT/SIGTERM, as
 * closing an nng socket ended one (libcurl calls this about once a second
 * while it waits, more often while data moves) */
static int
bench_api_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                   curl_off_t ultotal, curl_off_t ulnow)
{
    (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return stop_sig != 0;
}

/* bench_api_open - a handle for the API at Unix socket sock, each call
 * bounded by timeout_ms; NULL (said why) on failure. The caller frees it
 * with bench_api_close. Nothing is connected until the first call. */
struct bench_api *
bench_api_open(const char *sock, long timeout_ms)
{
    struct bench_api *a = calloc(1, sizeof(*a));

    if (a == NULL) {
        fail("out of memory");
        return NULL;
    }
    if (strlen(sock) >= sizeof(a->sock)) {
        fail("%s: longer than a Unix socket path may be", sock);
        free(a);
        return NULL;
    }
    strcpy(a->sock, sock);
    if ((a->h = curl_easy_init()) == NULL ||
        (a->hdrs = curl_slist_append(NULL, "Content-Type: application/json")) ==
            NULL ||
        /* no "Expect: 100-continue" round trip before a large report */
        curl_slist_append(a->hdrs, "Expect:") == NULL) {
        bench_api_close(a);
        fail("libcurl: cannot make a handle");
        return NULL;
    }
    curl_easy_setopt(a->h, CURLOPT_UNIX_SOCKET_PATH, a->sock);
    curl_easy_setopt(a->h, CURLOPT_HTTPHEADER, a->hdrs);
    curl_easy_setopt(a->h, CURLOPT_NOSIGNAL, 1L); /* worker threads */
    curl_easy_setopt(a->h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(a->h, CURLOPT_WRITEFUNCTION, bench_api_write);
    curl_easy_setopt(a->h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(a->h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(a->h, CURLOPT_XFERINFOFUNCTION, bench_api_progress);
    curl_easy_setopt(a->h, CURLOPT_ERRORBUFFER, a->err);
    return a;
}

/* bench_api_close - free a (NULL is fine); closes its connection */
void
bench_api_close(struct bench_api *a)
{
    if (a == NULL)
        return;
    if (a->h)
        curl_easy_cleanup(a->h);
    curl_slist_free_all(a->hdrs);
    free(a->buf);
    free(a);
}

/* bench_api_why - the failure text of a reply with HTTP status code and
 * parsed body rep (may be NULL), into a->why */
static const char *
bench_api_why(struct bench_api *a, long code, json_t *rep)
{
    json_t *e = json_object_get(rep, "error");
    const char *msg = json_string_value(json_object_get(e, "message")),
               *ecode = json_string_value(json_object_get(e, "code")),
               *field = json_string_value(json_object_get(e, "field"));

    if (msg)
        snprintf(a->why, sizeof(a->why), "%s (%s%s%s, HTTP %ld)", msg,
                 ecode ? ecode : "?", field ? ", field " : "",
                 field ? field : "", code);
    else if (rep == NULL)
        snprintf(a->why, sizeof(a->why), "HTTP %ld, the reply is not JSON",
                 code);
    else
        snprintf(a->why, sizeof(a->why), "HTTP %ld without \"ok\": true", code);
    return a->why;
}

/* bench_api_perform - one request: the reply's body in a->buf (a->len)
 * and its HTTP status in *code; NULL, or why no reply came */
static const char *
bench_api_perform(struct bench_api *a, const char *method, const char *path,
                  const char *body, long *code)
{
    CURLcode rc;

    *code = 0;
    a->len = 0;
    a->err[0] = '\0';
    snprintf(a->url, sizeof(a->url), "http://localhost%s", path);
    curl_easy_setopt(a->h, CURLOPT_URL, a->url);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(a->h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(a->h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(a->h, CURLOPT_POSTFIELDSIZE,
                         (long)(body ? strlen(body) : 0));
    }
    curl_easy_setopt(a->h, CURLOPT_CUSTOMREQUEST,
                     strcmp(method, "GET") && strcmp(method, "POST") ? method
                                                                     : NULL);
    if ((rc = curl_easy_perform(a->h)) != CURLE_OK) {
        snprintf(a->why, sizeof(a->why), "%s %s at %s: %s", method, path,
                 a->sock,
                 stop_sig    ? "interrupted"
                 : a->err[0] ? a->err
                             : curl_easy_strerror(rc));
        return a->why;
    }
    curl_easy_getinfo(a->h, CURLINFO_RESPONSE_CODE, code);
    return NULL;
}

/* bench_api_call - method (GET or POST) on path ("/api/v1/status"), with
 * the JSON text body (POST; NULL for none). The parsed reply goes into
 * *rep whenever it is JSON, on success and on failure (the caller
 * decrefs; NULL otherwise). NULL on success, else why (see the head). */
const char *
bench_api_call(struct bench_api *a, const char *method, const char *path,
               const char *body, json_t **rep)
{
    const char *why;
    long code;

    *rep = NULL;
    if ((why = bench_api_perform(a, method, path, body, &code)) != NULL)
        return why;
    if (a->len)
        *rep = json_loadb(a->buf, a->len, 0, NULL);
    if (code >= 200 && code < 300 && json_is_true(json_object_get(*rep, "ok")))
        return NULL;
    return bench_api_why(a, code, *rep);
}

/* bench_api_connect - open a's connection now, as a first request (GET
 * /healthz, whatever it answers), so that a timed run does not begin with
 * C connects at once; NULL, or why the node could not be reached */
const char *
bench_api_connect(struct bench_api *a)
{
    long code;

    return bench_api_perform(a, "GET", "/healthz", NULL, &code);
}

/* proc_api_call - bench_api_call on p's own handle (made at the first
 * call, freed by proc_api_close); for the main thread only */
const char *
proc_api_call(struct proc *p, const char *method, const char *path,
              const char *body, json_t **rep)
{
    static char why[PATH_MAX + 64];

    *rep = NULL;
    if (p->api == NULL &&
        (p->api = bench_api_open(p->sock, BENCH_CALL_TIMEOUT_MS)) == NULL) {
        snprintf(why, sizeof(why), "%s: no API handle", p->sock);
        return why;
    }
    return bench_api_call(p->api, method, path, body, rep);
}

/* proc_api_close - free the handles of every proc */
void
proc_api_close(void)
{
    for (int i = 0; i < NNODES; i++) {
        bench_api_close(procs[i].api);
        procs[i].api = NULL;
    }
}
