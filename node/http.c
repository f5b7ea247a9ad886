/*
 * http.c - the operator API over HTTP (issue 10 item 1), on libmicrohttpd.
 *
 * Two listeners share one access handler and the one verb table behind
 * api_dispatch (node/api.h):
 * - the Unix socket api_socket, always on. We make it ourselves: a stale
 *   socket file (nobody answers on it) is removed, a live one (another node)
 *   or a path that is not a socket refuses the start; bind, chmod 0660, and
 *   only then listen, so nobody can connect while the mode is wider. Whoever
 *   can open it acts as admin: SO_PEERCRED names them "unix:USER".
 * - the TCP listener http_listen (optional, IPv4). config_load refuses any
 *   address but 127.0.0.1 without tls_cert and tls_key; with them the
 *   listener speaks TLS 1.2/1.3 only (GnuTLS through MHD_USE_TLS). Requests
 *   over TCP carry a session (node/session.c) or none.
 *
 * A request's body is read by us, never by MHD's POST processor: up to
 * 2 * max_message_bytes + 4096 bytes (a report form carries at most one
 * message's worth of text, JSON escaping may double it). A Content-Length
 * over that is answered 413 at once and the body is not read (MHD closes
 * the connection after the reply); a chunked body found too large while
 * read is dropped as it comes (never buffered) and answered 413 at its end,
 * or the connection closed past HTTP_DISCARD_MAX. A non-empty body must be
 * a JSON object.
 * Replies carry Cache-Control: no-store and X-Content-Type-Options:
 * nosniff; a GET's 200 JSON reply an ETag, the BLAKE2b-128 of its bytes,
 * and a matching If-None-Match gets 304 without the body.
 *
 * The TCP listener starts first, so that once the Unix socket answers (what
 * the tests and relayctl wait on) every listener is up.
 *
 * Threads: each listener is its own daemon with MHD's internal poll thread
 * and one thread per connection (poll(), not select(), so descriptors above
 * FD_SETSIZE are safe). Handlers may block: GET .../wait up to its
 * timeout_ms, writes until the writer commits, so a connection needs its
 * own thread; the limits below bound them against hostile peers:
 * - TCP: HTTP_TCP_CONNS connections in all (each a thread and at most one
 *   body buffer of 2 * max_message_bytes + 4 KiB: 64 x 516 KiB = 33 MiB at
 *   the default), HTTP_TCP_PER_IP from one address (a console and a scraper
 *   need a few; one peer cannot take them all), and HTTP_TCP_TIMEOUT_S of
 *   silence from the peer (a slow-header peer is cut off; a handler that
 *   waits is not silence, MHD only times out reads and writes).
 * - Unix: HTTP_UNIX_CONNS connections, no per-address limit (every peer is
 *   "unix"), HTTP_UNIX_TIMEOUT_S. Only local users in the socket's group
 *   reach it, and a connect-and-close costs one short-lived thread.
 *
 * SECURITY: the Unix socket's mode and folder are its only authentication;
 * keep the folder reachable only by the operators' group. Over TCP nothing
 * is trusted but the session cookie and CSRF header, both checked by
 * node/session.c and api_dispatch. The TLS key is read into sodium_malloc
 * memory and wiped once MHD has taken it.
 * DIAGNOSTICS: where each listener listens is logged at start; a start
 * failure names the key (api_socket, http_listen, tls_cert, tls_key) and
 * the reason; a body over the limit is logged once per request (warn) with
 * the peer; MHD's own errors are logged as warnings.
 */
#define _GNU_SOURCE /* struct ucred */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "node.h"
#include "session.h"

#define HTTP_TCP_CONNS 64
#define HTTP_TCP_PER_IP 16
#define HTTP_TCP_TIMEOUT_S 30
#define HTTP_UNIX_CONNS 128
#define HTTP_UNIX_TIMEOUT_S 120
#define HTTP_UNIX_BACKLOG 1024 /* a connect beyond it fails at once (EAGAIN) */
#define HTTP_DISCARD_MAX (64u << 20) /* a too large body read and dropped, at most */
#define HTTP_PEM_MAX (256 * 1024)
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define HTTP_CSP                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* One listener: what its access handler needs to know. */
struct http_listener {
    struct http_srv *srv;
    int is_unix;
};

struct http_srv {
    struct node *n;
    struct MHD_Daemon *unix_d, *tcp_d;
    struct http_listener unix_l, tcp_l;
    size_t body_max;
    char sock_path[CONFIG_SUN_PATH];
    int sock_made; /* we created sock_path: remove it at stop */
};

/* One request in progress: its body so far. */
struct http_body {
    char *buf;
    size_t len, cap;
    int too_big;      /* over the limit: the rest is dropped, then 413 */
    size_t discarded; /* bytes dropped */
};

/* http_mhd_log - MHD's own errors, as warnings */
static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* http_done - MHD's completion callback: free the request's body */
static void
http_done(void *cls, struct MHD_Connection *c, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
    struct http_body *b = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (b != NULL) {
        free(b->buf);
        free(b);
        *con_cls = NULL;
    }
}

/* http_peer - fill r->who, r->addr and r->loopback from the connection;
 * who and addr point into the caller's buffers */
static void
http_peer(struct MHD_Connection *c, int is_unix, struct api_req *r, char *who, size_t wlen,
          char *addr, size_t alen)
{
    const union MHD_ConnectionInfo *ci;

    if (is_unix) {
        struct ucred uc;
        socklen_t len = sizeof(uc);
        struct passwd pw, *res = NULL;
        char pwbuf[1024];

        snprintf(who, wlen, "unix:?");
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci != NULL && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0) {
            if (getpwuid_r(uc.uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL)
                snprintf(who, wlen, "unix:%s", pw.pw_name);
            else
                snprintf(who, wlen, "unix:uid %u", (unsigned)uc.uid);
        }
        snprintf(addr, alen, "unix");
        r->who = who;
        r->role = ROLE_ADMIN;
        r->addr = addr;
        r->loopback = 1;
        return;
    }
    snprintf(addr, alen, "?");
    ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)alen);
        r->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    r->addr = addr;
    r->role = ROLE_NONE;
}

struct http_query {
    json_t *q;
    int bad; /* a name or value is not UTF-8 */
};

/* http_query_arg - MHD iterator: one query parameter into the object */
static enum MHD_Result
http_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct http_query *hq = cls;
    json_t *v = json_string(value ? value : "");

    (void)kind;
    if (v == NULL || json_object_set_new(hq->q, key, v) != 0) {
        hq->bad = 1;
        return MHD_NO;
    }
    return MHD_YES;
}

/* http_etag_match - whether If-None-Match (a list) names etag */
static int
http_etag_match(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);

    for (const char *p = inm; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' '))
            return 1;
        if (*p == '*')
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

/* http_send - queue body (malloc'd, taken) with status and the common
 * headers; ctype NULL for no body type */
static enum MHD_Result
http_send(struct MHD_Connection *c, int status, char *body, size_t len, const char *ctype,
          const struct api_req *r, const char *etag)
{
    struct MHD_Response *resp;
    enum MHD_Result rc;

    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    if (ctype != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* the console's policy (issue 11) on every reply: scripts and styles
     * only from the node's own files, no inline code, never in a frame */
    MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (r != NULL && r->location != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (etag != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    if (r != NULL && r->set_cookie != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r != NULL && r->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", r->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    rc = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* http_send_json - send a JSON reply (taken) */
static enum MHD_Result
http_send_json(struct MHD_Connection *c, int status, json_t *reply, const struct api_req *r,
               const char *etag)
{
    char *txt = json_dumps(reply, JSON_COMPACT);

    json_decref(reply);
    if (txt == NULL)
        return MHD_NO;
    return http_send(c, status, txt, strlen(txt), "application/json", r, etag);
}

/* http_error - an error reply outside api_dispatch (413, 400) */
static enum MHD_Result
http_error(struct MHD_Connection *c, int status, const char *msg, const char *arg)
{
    struct api_req r;

    memset(&r, 0, sizeof(r));
    return http_send_json(c, status, api_error(&r, status, NULL, msg, arg), NULL, NULL);
}

/* http_reply - send what api_dispatch returned */
static enum MHD_Result
http_reply(struct MHD_Connection *c, struct api_req *r, json_t *reply)
{
    int status = r->status ? r->status : 200;
    char *txt;
    size_t len;

    if (reply == NULL) {
        txt = r->text;
        r->text = NULL;
        if (txt == NULL)
            return http_error(c, 500, "%s", "no reply");
        return http_send(c, status, txt, strlen(txt),
                         r->content_type ? r->content_type : "text/plain; charset=utf-8", r, NULL);
    }
    txt = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    if (txt == NULL)
        return MHD_NO;
    len = strlen(txt);
    if (status == 200 && strcmp(r->method, "GET") == 0) {
        uint8_t h[16];
        char etag[2 * sizeof(h) + 3];
        const char *inm;

        crypto_generichash(h, sizeof(h), (const uint8_t *)txt, len, NULL, 0);
        etag[0] = '"';
        sodium_bin2hex(etag + 1, sizeof(etag) - 1, h, sizeof(h));
        strcat(etag, "\"");
        inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        if (inm != NULL && http_etag_match(inm, etag)) {
            free(txt);
            return http_send(c, 304, NULL, 0, NULL, r, etag);
        }
        return http_send(c, status, txt, len, "application/json", r, etag);
    }
    return http_send(c, status, txt, len, "application/json", r, NULL);
}

/* http_unescape - MHD's unescape of the path and query, except that a
 * text holding "%00" is left as it is: MHD's own cuts the string at the
 * NUL, so "/console/app.js%00.png" would be served as app.js; kept
 * escaped, it names nothing and is 404 (issue 11) */
static size_t
http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    if (strstr(s, "%00") != NULL)
        return strlen(s);
    return MHD_http_unescape(s);
}

/* http_serve - a whole request received: build it, dispatch, reply */
static enum MHD_Result
http_serve(struct http_listener *l, struct MHD_Connection *c, const char *url, const char *method,
           struct http_body *b)
{
    struct api_req r;
    struct http_query hq;
    char who[300], addr[64];
    json_t *reply;
    enum MHD_Result rc;

    memset(&r, 0, sizeof(r));
    r.n = l->srv->n;
    r.method = method;
    r.path = url;
    http_peer(c, l->is_unix, &r, who, sizeof(who), addr, sizeof(addr));
    r.tls = !l->is_unix && l->srv->n->cfg.tls_cert[0] != '\0';
    hq.q = r.query = json_object();
    hq.bad = 0;
    if (r.query == NULL)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, http_query_arg, &hq);
    if (hq.bad) {
        json_decref(r.query);
        return http_error(c, 400, "%s", "the query is not UTF-8");
    }
    if (b->len > 0) {
        json_error_t jerr;
        r.body = json_loadb(b->buf, b->len, JSON_REJECT_DUPLICATES, &jerr);
        if (r.body == NULL || !json_is_object(r.body)) {
            const char *why = r.body == NULL ? jerr.text : "not an object";
            json_decref(r.body);
            json_decref(r.query);
            return http_error(c, 400, "body is not a JSON object: %s", why);
        }
    }
    r.request_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    if (!l->is_unix)
        session_attach(&r, MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE),
                       MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"));
    reply = api_dispatch(&r);
    rc = http_reply(c, &r, reply);
    json_decref(r.query);
    json_decref(r.body);
    free(r.text);
    free(r.set_cookie);
    return rc;
}

/* http_too_big - answer 413 now; MHD drops the rest and closes */
static enum MHD_Result
http_too_big(struct http_listener *l, struct MHD_Connection *c, const char *method,
             const char *url, int log)
{
    char addr[64], who[300];
    struct api_req r;
    char lim[32];

    memset(&r, 0, sizeof(r));
    http_peer(c, l->is_unix, &r, who, sizeof(who), addr, sizeof(addr));
    if (log)
        log_warn("http: %s %s from %s: body over %zu bytes, refused (413)", method, url,
                 r.addr, l->srv->body_max);
    snprintf(lim, sizeof(lim), "%zu", l->srv->body_max);
    return http_error(c, 413, "request body larger than %s bytes (2 x max_message_bytes + 4096)",
                      lim);
}

/* http_access - MHD's access handler: called once at the headers, once per
 * piece of body, once at the end */
static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct http_listener *l = cls;
    struct http_body *b = *con_cls;

    (void)version;
    if (b == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        b = calloc(1, sizeof(*b));
        if (b == NULL)
            return MHD_NO;
        *con_cls = b;
        if (cl != NULL && strtoull(cl, NULL, 10) > l->srv->body_max)
            return http_too_big(l, c, method, url, 1);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t add = *upload_size;
        if (b->too_big || add > l->srv->body_max - b->len) {
            /* a body without Content-Length (chunked) found too large while
             * read: MHD 0.9.75 takes a reply only before the body or after
             * it, so the rest is read and dropped, then 413; past
             * HTTP_DISCARD_MAX the connection is closed instead */
            if (!b->too_big)
                log_warn("http: %s %s: body over %zu bytes, refused (413)", method, url,
                         l->srv->body_max);
            b->too_big = 1;
            b->discarded += add;
            *upload_size = 0;
            return b->discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (b->len + add > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            char *nb;
            while (cap < b->len + add)
                cap *= 2;
            if (cap > l->srv->body_max)
                cap = l->srv->body_max;
            nb = realloc(b->buf, cap);
            if (nb == NULL)
                return MHD_NO;
            b->buf = nb;
            b->cap = cap;
        }
        memcpy(b->buf + b->len, upload, add);
        b->len += add;
        *upload_size = 0;
        return MHD_YES;
    }
    if (b->too_big)
        return http_too_big(l, c, method, url, 0);
    return http_serve(l, c, url, method, b);
}

/* http_unix_socket - make the Unix listening socket at path: 0 with *fd,
 * or -1 with why */
static int
http_unix_socket(const char *path, int *fd, char *why, size_t wlen)
{
    struct sockaddr_un sa;
    struct stat st;
    int s;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (path[0] == '\0') {
        snprintf(why, wlen, "missing: the HTTP API's Unix socket path");
        return -1;
    }
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(why, wlen, "%s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path));
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, wlen, "%s: exists and is not a socket: refused", path);
            return -1;
        }
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            snprintf(why, wlen, "socket: %s", strerror(errno));
            return -1;
        }
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(s);
            snprintf(why, wlen, "%s: another process (a running node?) answers on it: refused",
                     path);
            return -1;
        }
        if (errno != ECONNREFUSED) {
            snprintf(why, wlen, "%s: cannot tell whether it is in use: %s", path,
                     strerror(errno));
            close(s);
            return -1;
        }
        close(s);
        if (unlink(path) != 0) {
            snprintf(why, wlen, "%s: cannot remove the stale socket: %s", path, strerror(errno));
            return -1;
        }
        log_info("http: removed the stale socket %s (nobody answered on it)", path);
    } else if (errno != ENOENT) {
        snprintf(why, wlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(why, wlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* nobody can connect before listen(): the mode is set by then */
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(why, wlen, "%s: cannot bind: %s", path, strerror(errno));
        close(s);
        return -1;
    }
    if (chmod(path, 0660) != 0 || listen(s, HTTP_UNIX_BACKLOG) != 0) {
        snprintf(why, wlen, "%s: %s", path, strerror(errno));
        close(s);
        unlink(path);
        return -1;
    }
    *fd = s;
    return 0;
}

/* http_read_pem - a PEM file into memory (sodium_malloc'd when secret);
 * NULL with why */
static char *
http_read_pem(const char *path, int secret, size_t *len, char *why, size_t wlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;

    if (f == NULL) {
        snprintf(why, wlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = secret ? sodium_malloc(HTTP_PEM_MAX + 1) : malloc(HTTP_PEM_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(why, wlen, "%s: out of memory", path);
        return NULL;
    }
    n = fread(buf, 1, HTTP_PEM_MAX + 1, f);
    fclose(f);
    buf[n > HTTP_PEM_MAX ? HTTP_PEM_MAX : n] = '\0';
    if (n > HTTP_PEM_MAX || n == 0 || strstr(buf, "-----BEGIN ") == NULL ||
        strlen(buf) != n) {
        snprintf(why, wlen, "%s: %s", path,
                 n > HTTP_PEM_MAX ? "larger than 256 KiB" : "not a PEM file");
        if (secret)
            sodium_free(buf);
        else
            free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* http_start_unix - the Unix listener */
static int
http_start_unix(struct http_srv *s)
{
    const struct config *c = &s->n->cfg;
    char why[600];
    int fd;

    if (http_unix_socket(c->api_socket, &fd, why, sizeof(why)) != 0) {
        log_warn("%s: key 'api_socket': %s", c->path, why);
        return RL_ECONFIG;
    }
    snprintf(s->sock_path, sizeof(s->sock_path), "%s", c->api_socket);
    s->sock_made = 1;
    s->unix_l.srv = s;
    s->unix_l.is_unix = 1;
    s->unix_d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, http_access, &s->unix_l, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_UNIX_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_UNIX_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, http_done, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL, MHD_OPTION_END);
    if (s->unix_d == NULL) {
        close(fd);
        log_warn("%s: key 'api_socket': %s: the HTTP server did not start", c->path,
                 c->api_socket);
        return RL_EIO;
    }
    log_info("http: API on unix:%s (mode 0660, admin)", c->api_socket);
    return RL_OK;
}

/* http_start_tcp - the TCP listener, with TLS when configured */
static int
http_start_tcp(struct http_srv *s)
{
    const struct config *c = &s->n->cfg;
    struct sockaddr_in sin;
    char host[64], why[600];
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    uint8_t ip[4];
    int port, tls = c->tls_cert[0] != '\0';
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;

    if (config_http_addr(c->http_listen, host, sizeof(host), ip, &port) != 0) {
        log_warn("%s: key 'http_listen': '%s' is not IPV4:PORT", c->path, c->http_listen);
        return RL_ECONFIG;
    }
    if (tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            log_warn("%s: key 'tls_cert': this libmicrohttpd has no TLS support", c->path);
            return RL_ECONFIG;
        }
        if ((cert = http_read_pem(c->tls_cert, 0, &cert_len, why, sizeof(why))) == NULL) {
            log_warn("%s: key 'tls_cert': %s", c->path, why);
            return RL_ECONFIG;
        }
        if ((key = http_read_pem(c->tls_key, 1, &key_len, why, sizeof(why))) == NULL) {
            log_warn("%s: key 'tls_key': %s", c->path, why);
            free(cert);
            return RL_ECONFIG;
        }
        flags |= MHD_USE_TLS;
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    memcpy(&sin.sin_addr, ip, 4);
    s->tcp_l.srv = s;
    s->tcp_l.is_unix = 0;
    s->tcp_d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, http_access, &s->tcp_l, MHD_OPTION_EXTERNAL_LOGGER,
        http_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, &sin,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_TCP_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)HTTP_TCP_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TCP_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, http_done, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL,
        /* without TLS the list ends here */
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert, MHD_OPTION_HTTPS_MEM_KEY,
        key, MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES, MHD_OPTION_END);
    if (key != NULL) {
        sodium_memzero(key, key_len);
        sodium_free(key);
    }
    free(cert);
    if (s->tcp_d == NULL) {
        log_warn("%s: key 'http_listen': cannot serve on %s%s (address in use, or %s refused; "
                 "see the lines above)", c->path, c->http_listen, tls ? " with TLS" : "",
                 tls ? "the tls_cert/tls_key pair" : "the address");
        return tls ? RL_ECONFIG : RL_EIO;
    }
    log_info("http: API on %s://%s%s", tls ? "https" : "http", c->http_listen,
             tls ? " (TLS)" : " (plain HTTP, loopback only)");
    return RL_OK;
}

/* http_start - both listeners */
int
http_start(struct node *n)
{
    struct http_srv *s = calloc(1, sizeof(*s));
    int rc;

    if (s == NULL)
        return RL_ENOMEM;
    s->n = n;
    s->body_max = 2 * (size_t)n->cfg.max_message_bytes + 4096;
    n->http = s;
    /* TCP first: once the Unix socket answers, every listener is up */
    rc = n->cfg.http_listen[0] ? http_start_tcp(s) : RL_OK;
    if (rc == RL_OK)
        rc = http_start_unix(s);
    if (rc != RL_OK)
        http_stop(n);
    return rc;
}

/* http_stop - stop both daemons (they join their connection threads) and
 * remove the socket file */
void
http_stop(struct node *n)
{
    struct http_srv *s = n->http;

    if (s == NULL)
        return;
    if (s->tcp_d != NULL)
        MHD_stop_daemon(s->tcp_d);
    if (s->unix_d != NULL)
        MHD_stop_daemon(s->unix_d);
    if (s->sock_made)
        unlink(s->sock_path);
    n->http = NULL;
    free(s);
}
