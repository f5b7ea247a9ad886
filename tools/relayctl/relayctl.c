/*
 * relayctl.c - the operator's control tool: one verb, one request, one reply.
 *
 * relayctl speaks the control protocol of node/control.h (JSON over nng
 * req0) and prints the reply as text, or with --json as indented JSON. Verbs
 * live in one table, as in smtpctl: {name, request builder, text printer,
 * usage, required options, positionals}; a verb accepts exactly the options
 * its usage line names. keygen is the one verb that needs no node.
 *
 * DIAGNOSTICS: exit 0 on success; 1 when the node answered ok:false, the
 * audit log is not intact or a key operation failed; 2 for usage errors, bad
 * input, and a node that is unreachable or answers garbage. Messages go to
 * stderr as "relayctl: ...".
 *
 * SECURITY: relayctl signs nothing; the node signs what it submits. keygen
 * writes a 0600 key file and never overwrites one. nng never resends a
 * request; relayctl resends a write that got no reply with its request id,
 * which the node does at most once. Text output escapes control
 * characters (term_safe); --json prints the node's reply exactly.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "err.h"
#include "audit.h"
#include "directory.h"
#include "dirlog.h"
#include "envelope.h"
#include "form.h"
#include "keys.h"
#include "plan.h"
#include "policy_file.h"

#define CTL_TIMEOUT_MS 15000 /* default request timeout (-t) */
#define CTL_WAIT_MS 10000    /* default timeout_ms of a wait */
#define CTL_WAIT_SLACK 5000  /* request timeout beyond a wait's timeout_ms */
#define CTL_ATTEMPTS 5       /* tries of a write request without a reply */
#define CTL_RETRY_MS 250     /* pause before the first retry, doubling */
#define CTL_BIG_REQUEST 100000 /* bytes: a reset may mean "too large" */
#define DURATION_MAX (INT64_MAX / 1000000) /* seconds that fit in int64 us */

/* every verb option; a verb accepts those its usage line names, and --json */
static const struct option verb_opts[] = {
    {"json", no_argument, NULL, 1},
    {"advisories", no_argument, NULL, 1},
    {"public", no_argument, NULL, 1},
    {"outbox-empty", no_argument, NULL, 1},
    {"team-formed", no_argument, NULL, 1},
    {"damage-controlled", no_argument, NULL, 1},
    {"recovered", no_argument, NULL, 1},
    {"confirm", no_argument, NULL, 1},
    {"change", no_argument, NULL, 1},
    {"closure", no_argument, NULL, 1},
    {"text", required_argument, NULL, 1},
    {"reason", required_argument, NULL, 1},
    {"basis", required_argument, NULL, 1},
    {"follow-up", required_argument, NULL, 1},
    {"level", required_argument, NULL, 1},
    {"timeout", required_argument, NULL, 1},
    {"overdue", no_argument, NULL, 1},
    {"queue", no_argument, NULL, 1},
    {"drills", no_argument, NULL, 1},
    {"subjects-notified", no_argument, NULL, 1},
    {"node", required_argument, NULL, 1},
    {"directory", required_argument, NULL, 1},
    {"policy", required_argument, NULL, 1},
    {"now", required_argument, NULL, 1},
    {"root", required_argument, NULL, 1},
    {"from", required_argument, NULL, 1},
    {"out", required_argument, NULL, 1},
    {"id", required_argument, NULL, 1},
    {"tier", required_argument, NULL, 1},
    {"parent", required_argument, NULL, 1},
    {"city", required_argument, NULL, 1},
    {"sector", required_argument, NULL, 1},
    {"role", required_argument, NULL, 1},
    {"contact", required_argument, NULL, 1},
    {"key", required_argument, NULL, 1},
    {"at", required_argument, NULL, 1},
    {"valid-from", required_argument, NULL, 1},
    {"valid-until", required_argument, NULL, 1},
    {"peer", required_argument, NULL, 1},
    {"again", no_argument, NULL, 1},
    {"limit", required_argument, NULL, 1},
    {"cursor", required_argument, NULL, 1},
    {"all", no_argument, NULL, 1},
    {NULL, 0, NULL, 0}};
#define NOPTS (sizeof(verb_opts) / sizeof(verb_opts[0]) - 1)

struct args {
    const struct cmd *cmd;
    const char *val[NOPTS]; /* value of each option given; "" for a flag */
    int npos;
    char **pos;     /* positionals, borrowed from argv */
    int timeout_ms; /* of this request */
    int rc;         /* exit status when no request was built */
};

struct cmd {
    const char *name;
    json_t *(*req)(struct args *a);                 /* NULL: a->rc says why */
    int (*show)(struct args *a, const json_t *rep); /* text; exit status */
    const char *usage;                              /* after "relayctl " */
    const char *need;                               /* "--a --b" */
    int minpos, maxpos;
};

static struct {
    const char *config; /* -c */
    const char *url;    /* -s, or "control" from the config */
    int json;           /* --json */
    const char *verb;   /* for messages */
} G;

/* fail_usage - report a usage error for the verb, print its usage; NULL */
static json_t *
fail_usage(struct args *a, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "relayctl: %s: ", a->cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: relayctl %s\n", a->cmd->usage);
    a->rc = 2;
    return NULL;
}

/* mentions - 1 if text names the option "--name" as a whole word */
static int
mentions(const char *text, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = text; (p = strstr(p, "--")) != NULL; p += 2)
        if (strncmp(p + 2, name, n) == 0 && strchr(" |)]", p[2 + n]))
            return 1;
    return 0;
}

/* opt - the value of a verb option, "" for a flag, NULL when not given */
static const char *
opt(const struct args *a, const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(verb_opts[i].name, name) == 0)
            return a->val[i];
    return NULL;
}

/* cursor_opt - the index of --cursor in verb_opts */
static size_t
cursor_opt(void)
{
    size_t i;

    for (i = 0; i < NOPTS && strcmp(verb_opts[i].name, "cursor") != 0; i++)
        ;
    return i;
}

/* flag - 1 if the option was given */
static int
flag(const struct args *a, const char *name)
{
    return opt(a, name) != NULL;
}

/* parse_int - a whole decimal integer within min..max; 0 or -1 */
static int
parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(s, &end, 10);
    return (errno || end == s || *end || *out < min || *out > max) ? -1 : 0;
}

/* parse_duration - "90s", "15m", "3h", "2d" or a sum ("1h30m"): seconds */
static int
parse_duration(const char *s, long long *out)
{
    static const long long secs[] = {1, 60, 3600, 86400};
    const char *units = "smhd", *u;
    long long n;
    char *end;

    if (*s == '\0')
        return -1;
    for (*out = 0; *s; s = end + 1) {
        errno = 0;
        n = strtoll(s, &end, 10);
        if (*s < '0' || *s > '9' || errno || !*end ||
            !(u = strchr(units, *end)) ||
            n > (DURATION_MAX - *out) / secs[u - units])
            return -1;
        *out += n * secs[u - units];
    }
    return 0;
}

/* term_safe - text for a terminal: control characters (C0, DEL, C1) as
 * \xNN, so that free text from another agency cannot move the cursor or
 * clear the screen (issue 8 finding 9); JSON output is never escaped. The
 * result is s itself when clean, else valid until 32 more calls (one printf
 * of this file takes at most 10). */
static const char *
term_safe(const char *s)
{
    static char *ring[32];
    static int next;
    const unsigned char *p;
    size_t bad = 0;
    char *out, *o;

    for (p = (const unsigned char *)s; *p; p++)
        bad += *p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
    if (bad == 0)
        return s;
    if ((out = malloc(strlen(s) + 4 * bad + 1)) == NULL)
        return "?";
    for (p = (const unsigned char *)s, o = out; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            o += sprintf(o, "\\x%02x", p[1]);
            p++;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    free(ring[next % 32]);
    ring[next++ % 32] = out;
    return out;
}

/* jtext - a JSON value as short text; missing and null are "-" */
static const char *
jtext(const json_t *v)
{
    static char ring[32][160]; /* several may appear in one printf */
    static int next;
    char *buf = ring[next++ % 32], *dump;

    if (v == NULL || json_is_null(v))
        return "-";
    if (json_is_string(v))
        return term_safe(json_string_value(v));
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if ((dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
        return "?";
    snprintf(buf, sizeof(ring[0]), "%s", dump);
    free(dump);
    return buf;
}

/* jget - the text of obj[key] */
static const char *
jget(const json_t *obj, const char *key)
{
    return jtext(json_object_get(obj, key));
}

/* ctl_url - the control URL: -s, or "control" from the -c config file */
static const char *
ctl_url(void)
{
    static struct config cfg;
    char err[4096];

    if (G.url)
        return G.url;
    if (G.config == NULL) {
        fprintf(stderr, "relayctl: no control socket: give -c CONFIG or "
                        "-s URL\n");
        return NULL;
    }
    if (config_load(G.config, &cfg, err, sizeof(err)) != RL_OK) {
        for (char *l = strtok(err, "\n"); l; l = strtok(NULL, "\n"))
            fprintf(stderr, "relayctl: %s\n", l);
        return NULL;
    }
    return G.url = cfg.api_socket; /* PROVISIONAL: relayctl moves to HTTP (issue 10) */
}

/*
 * ctl_call - send req (always consumed) and wait up to tmo_ms for the reply.
 * Returns 0 with *out the ok:true reply (the caller decrefs it), 1 after an
 * ok:false reply, 2 when the node was unreachable or answered garbage. With
 * --json the reply is printed here, whatever it says. A request with a
 * "request_id" (a write, see with_request_id) is tried up to CTL_ATTEMPTS
 * times when no reply came: the node answers a retry with the first answer
 * and stores nothing new, so a reply lost to a reset is not a lost report
 * nor a second one (issue 8 finding 7).
 */
static int ctl_try(const char *url, const char *txt, int tmo_ms, char **buf, size_t *len);

static int
ctl_call(json_t *req, int tmo_ms, json_t **out)
{
    const char *url = G.url;
    int retry = json_object_get(req, "request_id") != NULL;
    char *txt = json_dumps(req, JSON_COMPACT), *buf = NULL;
    json_t *rep = NULL, *ok;
    json_error_t jerr;
    size_t len = 0;
    int rv = 0, rc = 2;

    json_decref(req);
    if (txt == NULL)
        return 2;
    for (int attempt = 1;; attempt++) {
        rv = ctl_try(url, txt, tmo_ms, &buf, &len);
        if (rv == 0) {
            if (attempt > 1)
                fprintf(stderr, "relayctl: the node answered attempt %d\n", attempt);
            break;
        }
        if (rv == NNG_EMSGSIZE || !retry || attempt == CTL_ATTEMPTS) {
            if (retry && attempt > 1)
                fprintf(stderr, "relayctl: %s: gave up after %d attempts: whether the "
                                "node did it is unknown; run the same command again "
                                "later or check with relayctl list\n",
                        G.verb, attempt);
            goto out;
        }
        fprintf(stderr, "relayctl: retrying (attempt %d of %d, the same request id: "
                        "the node does it at most once)\n",
                attempt + 1, CTL_ATTEMPTS);
        nng_msleep((nng_duration)(CTL_RETRY_MS << (attempt - 1)));
    }
    /* tolerate a NUL-terminated reply */
    rep = json_loadb(buf, len && !buf[len - 1] ? len - 1 : len, 0, &jerr);
    ok = json_object_get(rep, "ok");
    if (!json_is_boolean(ok)) {
        fprintf(stderr, "relayctl: node at %s sent an invalid reply: %s\n", url,
                rep ? "no \"ok\"" : jerr.text);
        goto out;
    }
    if (G.json) {
        json_dumpf(rep, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    rc = json_is_true(ok) ? 0 : 1;
    if (rc != 0)
        fprintf(stderr, "relayctl: %s: %s\n", G.verb, jget(rep, "error"));
    else
        *out = json_incref(rep);
out:
    json_decref(rep);
    if (buf)
        nng_free(buf, len);
    free(txt);
    return rc;
}

/* ctl_try - one request over a fresh socket; 0 with the reply in *buf
 * (nng_free), or the nng error, printed */
static int
ctl_try(const char *url, const char *txt, int tmo_ms, char **buf, size_t *len)
{
    size_t tlen = strlen(txt);
    nng_socket s;
    int rv;

    *buf = NULL;
    *len = 0;
    if ((rv = nng_req0_open(&s)) != 0) {
        fprintf(stderr, "relayctl: socket: %s\n", nng_strerror(rv));
        return rv;
    }
    /* nng itself never resends: a resend is ours, with the same request id */
    if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, tmo_ms)) != 0 ||
        (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, tmo_ms)) != 0 ||
        (rv = nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME,
                                NNG_DURATION_INFINITE)) != 0)
        fprintf(stderr, "relayctl: socket options: %s\n", nng_strerror(rv));
    else if ((rv = nng_dial(s, url, NULL, 0)) != 0)
        fprintf(stderr, "relayctl: cannot reach node at %s: %s\n", url,
                nng_strerror(rv));
    else if ((rv = nng_send(s, (void *)txt, tlen, 0)) != 0 ||
             (rv = nng_recv(s, buf, len, NNG_FLAG_ALLOC)) != 0)
        fprintf(stderr, "relayctl: no reply from node at %s: %s%s\n", url,
                nng_strerror(rv),
                tlen > CTL_BIG_REQUEST ? " (the request is large: the node may refuse "
                                         "requests this size)" : "");
    nng_close(s);
    return rv;
}

/* with_request_id - a write request gets a fresh random request id */
static json_t *
with_request_id(json_t *req)
{
    static const char *const writes[] = CONTROL_WRITE_VERBS;
    const char *verb = json_string_value(json_object_get(req, "verb"));
    uint8_t rnd[16];
    char hex[33];

    for (size_t i = 0; verb && writes[i]; i++) {
        if (strcmp(verb, writes[i]) != 0)
            continue;
        if (sodium_init() < 0)
            return req;
        randombytes_buf(rnd, sizeof(rnd));
        keys_hex(rnd, sizeof(rnd), hex);
        json_object_set_new(req, "request_id", json_string(hex));
    }
    return req;
}

/* quiet_call - a request whose reply is for relayctl, not for printing */
static int
quiet_call(struct args *a, json_t *req, json_t **rep)
{
    int json = G.json, rc;

    G.json = 0;
    rc = ctl_call(req, a->timeout_ms, rep);
    G.json = json;
    return rc;
}

/* read_form - a JSON object from file, or stdin for NULL or "-" */
static json_t *
read_form(const char *file)
{
    const char *name = file && strcmp(file, "-") ? file : "<stdin>";
    FILE *fp = name == file ? fopen(file, "r") : stdin;
    json_error_t jerr;
    json_t *form;

    if (fp == NULL) {
        fprintf(stderr, "relayctl: %s: %s\n", name, strerror(errno));
        return NULL;
    }
    form = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
    if (fp != stdin)
        fclose(fp);
    if (form == NULL)
        fprintf(stderr, "relayctl: %s:%d:%d: %s\n", name, jerr.line,
                jerr.column, jerr.text);
    else if (!json_is_object(form)) {
        fprintf(stderr, "relayctl: %s: expected a JSON object\n", name);
        json_decref(form);
        form = NULL;
    }
    return form;
}

/* submit - a submit request of the verb's kind with form (consumed) */
static json_t *
submit(struct args *a, json_t *form)
{
    a->rc = 2; /* form is NULL after bad input; json_pack fails then */
    return json_pack("{s:s, s:s, s:o}", "verb", "submit", "kind", a->cmd->name,
                     "args", form);
}

/* req_keygen - make a key file, or print the public key of one; no request */
static json_t *
req_keygen(struct args *a)
{
    const char *path = a->pos[0], *why = NULL;
    char hex[2 * KEYS_PK_LEN + 1];
    struct keypair *kp = NULL;
    int rc;

    a->rc = 1;
    if (keys_init() != RL_OK)
        fprintf(stderr, "relayctl: keygen: cannot initialise libsodium\n");
    else if (flag(a, "public") && (rc = keys_load(path, &kp, &why)) != RL_OK)
        fprintf(stderr, "relayctl: keygen: %s: %s\n", path,
                why ? why : rl_strerror(rc));
    else if (!kp && (rc = keys_generate(&kp)) != RL_OK)
        fprintf(stderr, "relayctl: keygen: %s\n", rl_strerror(rc));
    else if (!flag(a, "public") && (errno = 0, keys_save(kp, path) != RL_OK))
        fprintf(stderr, "relayctl: keygen: %s: %s\n", path,
                errno == EEXIST ? "exists; refusing to overwrite"
                                : strerror(errno ? errno : EIO));
    else {
        keys_hex(kp->pk, KEYS_PK_LEN, hex);
        printf(G.json ? "{\n  \"ok\": true,\n  \"public_key\": \"%s\"\n}\n"
                      : "%s\n",
               hex);
        a->rc = 0;
    }
    keys_free(kp);
    return NULL;
}

/* req_form - report or advisory: a whole form from a file or stdin; a
 * report with --again is filed even if the same form was filed lately */
static json_t *
req_form(struct args *a)
{
    json_t *req = submit(a, read_form(a->npos ? a->pos[0] : NULL));

    if (req && flag(a, "again"))
        json_object_set_new(req, "again", json_true());
    return req;
}

/* req_update - a status update on an incident */
static json_t *
req_update(struct args *a)
{
    const char *text = opt(a, "text");

    return submit(a, json_pack("{s:s, s:b, s:b, s:b, s:s, s:b}", "incident",
                               a->pos[0], "team_formed", flag(a, "team-formed"),
                               "damage_controlled",
                               flag(a, "damage-controlled"), "recovered",
                               flag(a, "recovered"), "text", text ? text : "",
                               "subjects_notified", flag(a, "subjects-notified")));
}

/* req_request_level - ask the reviewer for another level */
static json_t *
req_request_level(struct args *a)
{
    long long level;

    if (parse_int(a->pos[1], 1, 4, &level) != 0)
        return fail_usage(a, "LEVEL must be 1..4, not '%s'", a->pos[1]);
    return submit(a,
                  json_pack("{s:s, s:I, s:s}", "incident", a->pos[0], "level",
                            (json_int_t)level, "reason", opt(a, "reason")));
}

/* req_review - confirm or change an incident's level */
static json_t *
req_review(struct args *a)
{
    const char *fu = opt(a, "follow-up");
    long long level;

    if (flag(a, "confirm") == flag(a, "change"))
        return fail_usage(a, "give exactly one of --confirm and --change");
    if (parse_int(opt(a, "level"), 1, 4, &level) != 0)
        return fail_usage(a, "--level must be 1..4, not '%s'", opt(a, "level"));
    return submit(
        a, json_pack("{s:s, s:s, s:I, s:s, s:b, s:s}", "incident", a->pos[0],
                     "verdict", flag(a, "confirm") ? "confirm" : "change",
                     "level", (json_int_t)level, "basis", opt(a, "basis"),
                     "closure", flag(a, "closure"), "follow_up", fu ? fu : ""));
}

/* req_close - the closure report of an incident, from a file or stdin */
static json_t *
req_close(struct args *a)
{
    json_t *form = read_form(a->npos > 1 ? a->pos[1] : NULL);
    const char *had = json_string_value(json_object_get(form, "incident"));

    if (had && strcmp(had, a->pos[0]) != 0) {
        fprintf(stderr, "relayctl: close: the form is for incident %s\n", had);
        json_decref(form);
        form = NULL;
    }
    json_object_set_new(form, "incident", json_string(a->pos[0]));
    return submit(a, form);
}

/* req_withdraw - withdraw a report filed in error */
static json_t *
req_withdraw(struct args *a)
{
    return submit(a, json_pack("{s:s, s:s}", "incident", a->pos[0], "reason",
                               opt(a, "reason")));
}

/* show_filed - what a submit filed, and for whom */
static int
show_filed(struct args *a, const json_t *rep)
{
    int report = strcmp(a->cmd->name, "report") == 0;
    json_t *to = json_object_get(rep, "to"), *v;
    size_t i;

    if (json_is_string(json_object_get(rep, "warning")))
        fprintf(stderr, "relayctl: warning: %s\n", jget(rep, "warning"));
    if (report && json_object_get(rep, "incident"))
        printf("incident %s filed, to", jget(rep, "incident"));
    else
        printf("%s %s filed, to", a->cmd->name, jget(rep, "id"));
    json_array_foreach(to, i, v)
    {
        printf("%s%s", i ? ", " : " ", jtext(v));
    }
    printf("%s\n", json_array_size(to) ? "" : " nobody");
    if (json_is_true(json_object_get(rep, "replayed")))
        printf("(a retry of a request the node had already done%s%s: nothing new was "
               "stored)\n",
               json_is_string(json_object_get(rep, "first_at")) ? " at " : "",
               json_is_string(json_object_get(rep, "first_at")) ? jget(rep, "first_at") : "");
    return 0;
}

/* req_plain - {"verb": the verb}, with "id" when it takes an ID */
static json_t *
req_plain(struct args *a)
{
    json_t *req = json_pack("{s:s}", "verb", a->cmd->name);

    if (a->npos == 1)
        json_object_set_new(req, "id", json_string(a->pos[0]));
    return req;
}

/* req_support - R-SUPPORT: the national center dispatches support */
static json_t *
req_support(struct args *a)
{
    return submit(a, json_pack("{s:s, s:s}", "incident", a->pos[0], "text",
                               opt(a, "text")));
}

/* req_list - the incidents (all, overdue, or this node's review queue),
 * the advisories or the drills this node holds */
static json_t *
req_list(struct args *a)
{
    json_t *req;

    if (flag(a, "advisories") + flag(a, "drills") + flag(a, "overdue") + flag(a, "queue") > 1)
        return fail_usage(a, "give at most one of --advisories, --drills, --overdue, --queue");
    req = json_pack("{s:s, s:s}", "verb", "list", "what",
                    flag(a, "advisories") ? "advisories"
                    : flag(a, "drills")   ? "drills"
                                          : "incidents");
    if (flag(a, "overdue") || flag(a, "queue"))
        json_object_set_new(req, "filter", json_string(flag(a, "overdue") ? "overdue" : "queue"));
    if (flag(a, "limit")) {
        long long lim;
        if (parse_int(opt(a, "limit"), 1, 1000, &lim) != 0) {
            json_decref(req);
            return fail_usage(a, "--limit must be 1..1000, not '%s'", opt(a, "limit"));
        }
        json_object_set_new(req, "limit", json_integer(lim));
    }
    if (flag(a, "cursor"))
        json_object_set_new(req, "cursor", json_string(opt(a, "cursor")));
    return req;
}

/* fmt_span - "1h05m" for seconds */
static const char *
fmt_span(json_int_t s, char *buf, size_t len)
{
    if (s >= 86400)
        snprintf(buf, len, "%lldd%02lldh%02lldm", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(buf, len, "%lldh%02lldm%02llds", (long long)(s / 3600),
                 (long long)(s % 3600 / 60), (long long)(s % 60));
    return buf;
}

/* print_dues - one line per due time: when, and time left or overdue */
static void
print_dues(const json_t *dues, int only_overdue, const char *indent)
{
    char span[40];
    json_t *d;
    size_t i;

    json_array_foreach(dues, i, d)
    {
        json_t *left = json_object_get(d, "left_s"), *over = json_object_get(d, "overdue_s");
        if (only_overdue && over == NULL)
            continue;
        printf("%s%-8s %-9s due %s  %s", indent, jget(d, "deadline"), jget(d, "rule"),
               jget(d, "due"), jget(d, "state"));
        if (left)
            printf(", %s left", fmt_span(json_integer_value(left), span, sizeof(span)));
        if (over)
            printf(", overdue by %s%s", fmt_span(json_integer_value(over), span, sizeof(span)),
                   json_is_true(json_object_get(d, "notice_sent")) ? " (notice sent)" : "");
        if (json_is_string(json_object_get(d, "met")))
            printf(" at %s", jget(d, "met"));
        printf("\n");
    }
}

/* print_line - id, three fields, [DRILL] and a title, tolerating gaps */
static void
print_line(const json_t *v, const char *f1, const char *f2, const char *f3,
           const json_t *titled)
{
    const json_t *title = json_object_get(titled, "title");

    printf("%s  %-10s %-10s %s%s%s%s\n", jget(v, "id"), jget(v, f1),
           jget(v, f2), jget(v, f3),
           json_is_true(json_object_get(v, "drill")) ? "  [DRILL]" : "",
           title ? "  " : "", title ? jtext(title) : "");
}

/* print_message - one line for a message view; the title is in its kind */
static void
print_message(const json_t *m)
{
    print_line(m, "kind", "author", "created",
               json_object_get(m, jget(m, "kind")));
}

/* show_drill - a drill's timing record (R-DRILL) */
static void
show_drill(const json_t *d)
{
    json_t *s;
    size_t i;

    printf("drill %s by %s, started %s, window %ss: %s pass, %s fail, %s pending\n",
           jget(d, "id"), jget(d, "supervisor"), jget(d, "started"), jget(d, "window_s"),
           jget(json_object_get(d, "summary"), "pass"),
           jget(json_object_get(d, "summary"), "fail"),
           jget(json_object_get(d, "summary"), "pending"));
    printf("  %-3s %-14s %-5s %-10s %-27s %-27s %-27s %-27s %s\n", "#", "agency", "level",
           "solvable", "notice received", "report", "response", "closure", "result");
    json_array_foreach(json_object_get(d, "scenarios"), i, s)
    {
        printf("  %-3s %-14s %-5s %-10s %-27s %-27s %-27s %-27s %s\n", jget(s, "scenario"),
               jget(s, "agency"), jget(s, "level"), jget(s, "solvable_by"),
               jget(s, "received"), jget(s, "report"), jget(s, "response"),
               jget(s, "closure"), jget(s, "result"));
    }
}

/* show_page - one line per incident, advisory or drill of one page */
static void
show_page(struct args *a, const json_t *rep)
{
    int adv = flag(a, "advisories"), drills = flag(a, "drills");
    json_t *v, *all = json_object_get(rep, adv ? "advisories" : drills ? "drills" : "incidents");
    size_t i;

    json_array_foreach(all, i, v)
    {
        if (adv) {
            print_message(v);
        } else if (drills) {
            show_drill(v);
        } else {
            print_line(v, "state", "level", "author", v);
            if (json_is_true(json_object_get(v, "below_advised")))
                printf("    FLAG: claimed level %s is below the advised level %s (R-LEVEL-2)\n",
                       jget(v, "claimed_level"), jget(v, "advised_level"));
            if (json_is_string(json_object_get(v, "queue")))
                printf("    queue: %s\n", jget(v, "queue"));
            print_dues(json_object_get(v, "dues"), 1, "    ");
        }
    }
    if (!adv && !drills)
        printf("%zu listed (%s real, %s drill); held here: %s\n", json_array_size(all),
               jget(json_object_get(rep, "counts"), "real"),
               jget(json_object_get(rep, "counts"), "drill"), jget(rep, "total"));
}

/* show_list - a page (or with --all, every page, fetched in turn); what
 * could not be read is said, never left out silently */
static int
show_list(struct args *a, const json_t *rep)
{
    json_int_t bad = 0;
    json_t *page = json_incref((json_t *)rep), *req;
    int rc = 0;

    for (;;) {
        bad += json_integer_value(json_object_get(page, "unreadable"));
        if (!G.json)
            show_page(a, page);
        if (!json_is_string(json_object_get(page, "next")))
            break;
        if (!flag(a, "all")) {
            printf("more: run `relayctl list%s%s --cursor %s`\n",
                   flag(a, "advisories") ? " --advisories" : flag(a, "drills") ? " --drills" : "",
                   flag(a, "overdue") ? " --overdue" : flag(a, "queue") ? " --queue" : "",
                   jget(page, "next"));
            break;
        }
        a->val[cursor_opt()] = json_string_value(json_object_get(page, "next"));
        if ((req = req_list(a)) == NULL)
            break;
        json_t *next = NULL;
        rc = ctl_call(req, a->timeout_ms, &next);
        a->val[cursor_opt()] = NULL;
        json_decref(page);
        page = next;
        if (rc != 0)
            break;
    }
    json_decref(page);
    if (bad)
        fprintf(stderr, "relayctl: %lld record(s) could not be read: run relayctl store check\n",
                (long long)bad);
    return rc ? rc : bad ? 1 : 0;
}

/* print_fields - "key value" lines for obj, nested objects as "a.b" */
static void
print_fields(const json_t *obj, const char *prefix)
{
    const char *key;
    char name[128];
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        snprintf(name, sizeof(name), "%s%s", prefix, key);
        if (json_is_object(v) && strlen(name) < sizeof(name) - 2)
            print_fields(v, strcat(name, "."));
        else if (strcmp(key, "hops") && strcmp(key, "history") &&
                 strcmp(key, "messages") && strcmp(key, "dues"))
            printf("%-20s %s\n", name, jtext(v));
    }
}

/* show_show - fields, then the path, the history and the messages */
static int
show_show(struct args *a, const json_t *rep)
{
    json_t *view = json_object_get(rep, "incident"), *e;
    size_t i;

    if (view == NULL)
        view = json_object_get(rep, "message");
    print_fields(view, "");
    if (json_is_true(json_object_get(view, "below_advised")))
        printf("FLAG: claimed level %s is below the advised level %s (R-LEVEL-2)\n",
               jget(view, "claimed_level"), jget(view, "advised_level"));
    if (json_array_size(json_object_get(view, "dues")))
        printf("dues:\n");
    print_dues(json_object_get(view, "dues"), 0, "  ");
    printf("hops:\n");
    json_array_foreach(json_object_get(view, "hops"), i, e)
    {
        printf("  %s %s\n", jget(e, "node"), jget(e, "at"));
    }
    printf("history:\n");
    json_array_foreach(json_object_get(view, "history"), i, e)
    {
        printf("  %s %s %s %s\n", jget(e, "at"), jget(e, "node"),
               jget(e, "what"), jget(e, "detail"));
    }
    if (json_object_get(view, "messages"))
        printf("messages:\n");
    json_array_foreach(json_object_get(view, "messages"), i, e)
    {
        printf("  ");
        print_message(e);
    }
    return 0;
}

/* show_status - node, tier, clock, counts, then one line per link */
static int
show_status(struct args *a, const json_t *rep)
{
    json_t *v, *links = json_object_get(rep, "links");
    const char *key;
    size_t i = 0;

    printf("node    %s\ntier    %s\nclock   %s\nnow     %s\ncounts ",
           jget(rep, "node"), jget(rep, "tier"), jget(rep, "clock"),
           jget(rep, "now"));
    json_object_foreach(json_object_get(rep, "counts"), key, v)
    {
        printf("%s %s %s", i++ ? "," : "", key, jtext(v));
    }
    printf("\nlinks:%s\n", json_array_size(links) ? "" : " none");
    json_array_foreach(links, i, v)
    {
        const json_t *ack = json_object_get(v, "last_ack");

        printf("  %-16s %-4s %-12s outbox %s  held %s  last ack %s (acked %s)\n",
               jget(v, "peer"), jget(v, "direction"),
               json_is_true(json_object_get(v, "connected")) ? "connected"
                                                             : "disconnected",
               jget(v, "outbox"), jget(v, "held"),
               json_is_string(ack) ? jtext(ack) : "never", jget(v, "acked"));
        if (json_is_integer(json_object_get(v, "clock_skew_ms")))
            printf("  %-16s clock skew %+.3f s (parent minus this node, measured %s)\n", "",
                   (double)json_integer_value(json_object_get(v, "clock_skew_ms")) / 1000.0,
                   jget(v, "clock_skew_measured"));
        if (json_is_string(json_object_get(v, "clock_warning")))
            printf("  %-16s WARNING: %s\n", "", jget(v, "clock_warning"));
    }
    if (json_integer_value(json_object_get(json_object_get(rep, "counts"), "held")) > 0)
        printf("held messages wait: see relayctl held\n");
    return 0;
}

/* req_held_act - release ID [--peer P] / drop ID --reason T [--peer P] */
static json_t *
req_held_act(struct args *a)
{
    json_t *req = json_pack("{s:s,s:s}", "verb", a->cmd->name, "id", a->pos[0]);

    if (opt(a, "peer"))
        json_object_set_new(req, "peer", json_string(opt(a, "peer")));
    if (opt(a, "reason"))
        json_object_set_new(req, "reason", json_string(opt(a, "reason")));
    return req;
}

/* show_held - one block per held message */
static int
show_held(struct args *a, const json_t *rep)
{
    json_t *held = json_object_get(rep, "held"), *v;
    size_t i;

    (void)a;
    if (json_array_size(held) == 0) {
        printf("no held messages\n");
        return 0;
    }
    json_array_foreach(held, i, v)
    {
        printf("%s  held for %s: %s\n", jget(v, "id"), jget(v, "peer"), jget(v, "state"));
        printf("  reason     %s\n", jget(v, "reason"));
        printf("  refused    %s times, first %s, last %s\n", jget(v, "attempts"),
               jget(v, "first"), jget(v, "last"));
        if (json_is_string(json_object_get(v, "next_retry")))
            printf("  next retry %s\n", jget(v, "next_retry"));
    }
    if (json_integer_value(json_object_get(rep, "total")) > (json_int_t)json_array_size(held))
        printf("%zu shown of %s held\n", json_array_size(held), jget(rep, "total"));
    printf("%s held; relayctl release ID once the cause is fixed, or relayctl drop ID "
           "--reason TEXT to give one up\n", jget(rep, "total"));
    return 0;
}

/* show_held_act - how many holds a release or drop ended */
static int
show_held_act(struct args *a, const json_t *rep)
{
    if (strcmp(a->cmd->name, "release") == 0)
        printf("%s released: queued again (%s)\n", a->pos[0], jget(rep, "released"));
    else
        printf("%s dropped (%s); the message stays in the store, the drop is audited\n",
               a->pos[0], jget(rep, "dropped"));
    return 0;
}

/* req_wait - until a message is stored here, or every outbox is empty */
static json_t *
req_wait(struct args *a)
{
    const char *t = opt(a, "timeout");
    long long tmo = CTL_WAIT_MS;

    if (flag(a, "outbox-empty") == (a->npos == 1))
        return fail_usage(a, "give either ID or --outbox-empty");
    if (t && parse_int(t, 1, INT32_MAX - CTL_WAIT_SLACK, &tmo) != 0)
        return fail_usage(a, "--timeout must be a positive number of ms");
    a->timeout_ms = (int)tmo + CTL_WAIT_SLACK;
    if (a->npos == 0)
        return json_pack("{s:s, s:b, s:I}", "verb", "wait", "outbox_empty", 1,
                         "timeout_ms", (json_int_t)tmo);
    return json_pack("{s:s, s:s, s:I}", "verb", "wait", "id", a->pos[0],
                     "timeout_ms", (json_int_t)tmo);
}

/* show_wait - what was waited for has happened */
static int
show_wait(struct args *a, const json_t *rep)
{
    if (a->npos == 0)
        printf("every outbox is empty\n");
    else
        printf("%s is stored here\n", a->pos[0]);
    return 0;
}

/* req_clock - set or advance the node's manual clock */
static json_t *
req_clock(struct args *a)
{
    const char *sub = a->pos[0], *val = a->pos[1];
    long long secs;
    int64_t us;

    if (strcmp(sub, "set") == 0 && clock_parse_iso(val, &us) == 0)
        return json_pack("{s:s, s:s}", "verb", "clock", "set", val);
    if (strcmp(sub, "advance") == 0 && parse_duration(val, &secs) == 0)
        return json_pack("{s:s, s:I}", "verb", "clock", "advance_s",
                         (json_int_t)secs);
    if (strcmp(sub, "set") == 0)
        return fail_usage(a, "'%s' is not an ISO 8601 time", val);
    if (strcmp(sub, "advance") == 0)
        return fail_usage(a, "'%s' is not a duration like 90s or 1h30m", val);
    return fail_usage(a, "unknown clock command '%s'", sub);
}

/* show_clock - the node's time now */
static int
show_clock(struct args *a, const json_t *rep)
{
    printf("now %s\n", jget(rep, "now"));
    return 0;
}

/* audit_export - the node's signed head and every entry, into a file:
 * "head <hex>" then one "entry <hex>" per line */
static int
audit_export(struct args *a, const char *path)
{
    json_int_t from = 1, total;
    json_t *rep, *e;
    FILE *f;
    size_t i;
    int rc;

    if ((f = fopen(path, "wx")) == NULL) {
        fprintf(stderr, "relayctl: audit export: %s: %s\n", path,
                errno == EEXIST ? "exists; refusing to overwrite" : strerror(errno));
        return 1;
    }
    for (;;) {
        if ((rc = quiet_call(a, json_pack("{s:s,s:I}", "verb", "audit-export", "from", from),
                             &rep)) != 0) {
            fclose(f);
            return rc;
        }
        if (from == 1)
            fprintf(f, "head %s\n", jget(rep, "head"));
        total = json_integer_value(json_object_get(rep, "seq"));
        json_array_foreach(json_object_get(rep, "entries"), i, e)
        {
            if (from <= total)
                fprintf(f, "entry %s\n", json_string_value(e));
            from++;
        }
        i = json_array_size(json_object_get(rep, "entries"));
        json_decref(rep);
        if (i == 0 || from > total)
            break;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "relayctl: audit export: %s: write failed\n", path);
        return 1;
    }
    printf("%s: signed head and %lld entries\n", path, (long long)(from - 1));
    return 0;
}

/* hex_blob - decode a hex string into a malloc'd buffer */
static int
hex_blob(const char *hex, ProtobufCBinaryData *out)
{
    size_t l = strlen(hex);

    out->len = l / 2;
    out->data = NULL;
    if (l % 2 || (out->data = malloc(out->len + 1)) == NULL)
        return -1;
    if (keys_unhex(hex, out->data, out->len) != 0) {
        free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

/* audit_check - at a parent: a child's exported log is intact, signed by
 * the child, and every message it logged as forwarded here arrived here */
static int
audit_check(struct args *a, const char *child, const char *path)
{
    static char line[70000];
    ProtobufCBinaryData head = {0, NULL}, *v = NULL;
    Relay__AuditHead *h = NULL;
    json_t *rep, *st, *e, *ids = json_array();
    const char *why, *self;
    uint8_t pk[32], hash[32];
    size_t n = 0, cap = 0, i, fwd = 0, missing = 0;
    uint64_t bad;
    int rc = 1, found = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "relayctl: audit check: %s: %s\n", path, strerror(errno));
        json_decref(ids);
        return 1;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "head ", 5) == 0 && head.data == NULL) {
            if (hex_blob(line + 5, &head) != 0)
                break;
        } else if (strncmp(line, "entry ", 6) == 0) {
            if (n == cap) {
                ProtobufCBinaryData *nv = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof(*v));
                if (nv == NULL)
                    break;
                v = nv;
            }
            if (hex_blob(line + 6, &v[n]) != 0)
                break;
            n++;
        }
    }
    fclose(f);
    /* the child's key from the directory in force at this node */
    if ((rc = quiet_call(a, json_pack("{s:s}", "verb", "dir-list"), &rep)) != 0)
        goto out;
    json_array_foreach(json_object_get(rep, "nodes"), i, e)
    {
        if (strcmp(jget(e, "id"), child) == 0 && keys_unhex(jget(e, "key"), pk, 32) == 0)
            found = 1;
    }
    json_decref(rep);
    rc = 1;
    if (!found) {
        fprintf(stderr, "relayctl: audit check: '%s' is not in the directory\n", child);
        goto out;
    }
    if (head.data == NULL || audit_head_open(head.data, head.len, pk, &h, &why) != 0) {
        fprintf(stderr, "relayctl: audit check: %s\n",
                head.data ? why : "the file has no signed head");
        goto out;
    }
    if (strcmp(h->node, child) != 0) {
        fprintf(stderr, "relayctl: audit check: the head is %s's, not %s's\n", h->node, child);
        goto out;
    }
    if (audit_chain(v, n < h->seq ? n : (size_t)h->seq, hash, &bad) != 0) {
        fprintf(stderr, "relayctl: audit check: %s's audit log is broken at entry %llu\n",
                child, (unsigned long long)bad);
        goto out;
    }
    if (n < h->seq || memcmp(hash, h->hash.data, 32) != 0) {
        fprintf(stderr, "relayctl: audit check: the entries do not end in the signed head "
                        "(%zu entries, head at %llu)\n", n, (unsigned long long)h->seq);
        goto out;
    }
    /* the head the child signed on its link to this node, if it has polled */
    if ((rc = quiet_call(a, json_pack("{s:s,s:s}", "verb", "audit-head", "child", child),
                         &rep)) != 0)
        goto out;
    rc = 1;
    if (json_is_string(json_object_get(rep, "head"))) {
        ProtobufCBinaryData lb = {0, NULL};
        Relay__AuditHead *lh = NULL;
        uint8_t lhash[32];
        int fine = 0;

        if (hex_blob(jget(rep, "head"), &lb) != 0 ||
            audit_head_open(lb.data, lb.len, pk, &lh, &why) != RL_OK)
            fprintf(stderr, "relayctl: audit check: the head held for %s does not open\n", child);
        else if (lh->seq > n && lh->at_us <= h->at_us)
            fprintf(stderr, "relayctl: audit check: the export ends at entry %zu, before the "
                            "head %s signed on its link earlier (%llu entries): entries are "
                            "missing from the export\n", n, child, (unsigned long long)lh->seq);
        else if (lh->seq > n)
            fprintf(stderr, "relayctl: audit check: %s has logged more since this export "
                            "(%llu entries now): export again\n", child,
                    (unsigned long long)lh->seq);
        else if (audit_chain(v, (size_t)lh->seq, lhash, &bad) != 0 ||
                 memcmp(lhash, lh->hash.data, 32) != 0)
            fprintf(stderr, "relayctl: audit check: the export differs from what %s signed on "
                            "its link (its first %llu entries)\n", child,
                    (unsigned long long)lh->seq);
        else {
            printf("%s: consistent with the head it signed on its link (%llu entries)\n",
                   child, (unsigned long long)lh->seq);
            fine = 1;
        }
        if (lh)
            relay__audit_head__free_unpacked(lh, NULL);
        free(lb.data);
        if (!fine) {
            json_decref(rep);
            goto out;
        }
    }
    json_decref(rep);
    if ((rc = quiet_call(a, json_pack("{s:s}", "verb", "status"), &st)) != 0)
        goto out;
    self = jget(st, "node");
    for (i = 0; i < (size_t)h->seq; i++) {
        Relay__AuditEntry *en = relay__audit_entry__unpack(NULL, v[i].len, v[i].data);
        if (en && strcmp(en->what, "forwarded") == 0 && strcmp(en->peer, self) == 0 &&
            en->msg.len == 16) {
            char hx[33];
            keys_hex(en->msg.data, 16, hx);
            json_array_append_new(ids, json_string(hx));
            fwd++;
        }
        if (en)
            relay__audit_entry__free_unpacked(en, NULL);
        if (json_array_size(ids) == 4096 || (i + 1 == (size_t)h->seq && json_array_size(ids))) {
            json_t *q = json_pack("{s:s,s:O}", "verb", "seen", "ids", ids);
            if ((rc = quiet_call(a, q, &rep)) != 0) {
                json_decref(st);
                goto out;
            }
            size_t j;
            json_array_foreach(json_object_get(rep, "missing"), j, e)
            {
                fprintf(stderr, "relayctl: audit check: %s logged %s as forwarded to %s, "
                                "which never stored it\n", child, json_string_value(e), self);
                missing++;
            }
            json_decref(rep);
            json_array_clear(ids);
        }
    }
    printf("%s: audit log intact, %llu entries, head signed at %s\n", child,
           (unsigned long long)h->seq, "its directory key");
    printf("%zu messages logged as forwarded to %s: %zu received here, %zu missing\n", fwd,
           self, fwd - missing, missing);
    json_decref(st);
    rc = missing ? 1 : 0;
out:
    if (h)
        relay__audit_head__free_unpacked(h, NULL);
    free(head.data);
    for (i = 0; i < n; i++)
        free(v[i].data);
    free(v);
    json_decref(ids);
    return rc;
}

/* req_audit - verify the audit log's hash chain; export it; check a child's */
static json_t *
req_audit(struct args *a)
{
    if (strcmp(a->pos[0], "export") == 0 && a->npos == 2) {
        a->rc = audit_export(a, a->pos[1]);
        return NULL;
    }
    if (strcmp(a->pos[0], "check") == 0 && a->npos == 3) {
        a->rc = audit_check(a, a->pos[1], a->pos[2]);
        return NULL;
    }
    if (strcmp(a->pos[0], "head") == 0 && a->npos == 2) {
        G.verb = "audit head";
        return json_pack("{s:s,s:s}", "verb", "audit-head", "child", a->pos[1]);
    }
    if (strcmp(a->pos[0], "verify") != 0 || a->npos != 1)
        return fail_usage(a, "give verify, export FILE, check CHILD FILE, or head CHILD");
    G.verb = "audit verify";
    return json_pack("{s:s}", "verb", "audit-verify");
}

/* show_audit - the verdict; a broken chain fails even with --json */
static int
show_audit(struct args *a, const json_t *rep)
{
    if (strcmp(a->pos[0], "head") == 0) {
        if (!G.json)
            printf("%s\n", json_is_string(json_object_get(rep, "head"))
                                ? jget(rep, "head")
                                : "no audit head received from that child yet");
        return 0;
    }
    if (!json_is_true(json_object_get(rep, "intact"))) {
        fprintf(stderr,
                "relayctl: audit verify: the audit log is broken at "
                "entry %s: %s entries intact before it, %s in all\n",
                jget(rep, "first_bad"), jget(rep, "entries"), jget(rep, "total"));
        return 1;
    }
    if (!G.json)
        printf("audit log intact: %s entries\n", jget(rep, "entries"));
    return 0;
}

/* req_store - "store check": scan the whole store at the node */
static json_t *
req_store(struct args *a)
{
    if (strcmp(a->pos[0], "check") != 0)
        return fail_usage(a, "give check");
    G.verb = "store check";
    return json_pack("{s:s}", "verb", "store-check");
}

/* show_store_list - one line per finding */
static void
show_store_list(const json_t *list, const char *lead)
{
    json_t *e;
    size_t i;

    json_array_foreach(list, i, e)
        printf("%sdb %s key %s: %s%s\n", lead, jget(e, "db"), jget(e, "key"),
               jget(e, "reason"), json_is_true(json_object_get(e, "moved"))
                                      ? " (moved to corrupt)" : "");
}

/* show_store - what is damaged; exit 1 when anything is, even with --json */
static int
show_store(struct args *a, const json_t *rep)
{
    const json_t *damaged = json_object_get(rep, "damaged");
    const json_t *corrupt = json_object_get(rep, "corrupt");
    const json_t *read = json_object_get(rep, "read");

    (void)a;
    if (!G.json) {
        show_store_list(damaged, "damaged: ");
        if (json_array_size(corrupt))
            printf("corrupt queue: %zu record(s) kept for inspection\n",
                   json_array_size(corrupt));
        show_store_list(corrupt, "  corrupt: ");
        printf("store check: read %s messages, %s incidents, %s drills, %s outbox entries, "
               "%s due times, %s audit entries: %zu damaged\n", jget(read, "messages"),
               jget(read, "incidents"), jget(read, "drills"), jget(read, "outbox"),
               jget(read, "dues"), jget(read, "audit"), json_array_size(damaged));
    }
    if (json_array_size(damaged)) {
        fprintf(stderr, "relayctl: store check: %zu damaged record(s)\n",
                json_array_size(damaged));
        return 1;
    }
    return 0;
}

/* req_drill - start a drill, or ask for one's timing record */
static json_t *
req_drill(struct args *a)
{
    if (strcmp(a->pos[0], "start") == 0 && a->npos == 1)
        return json_pack("{s:s, s:s}", "verb", "drill", "action", "start");
    if (strcmp(a->pos[0], "record") == 0 && a->npos == 2)
        return json_pack("{s:s, s:s, s:s}", "verb", "drill", "action", "record", "id",
                         a->pos[1]);
    return fail_usage(a, "give 'start', or 'record' and a drill ID");
}

/* show_drill_reply - the scenarios sent, or the timing record */
static int
show_drill_reply(struct args *a, const json_t *rep)
{
    json_t *s;
    size_t i;

    if (json_object_get(rep, "drill") && json_is_object(json_object_get(rep, "drill"))) {
        show_drill(json_object_get(rep, "drill"));
        return 0;
    }
    printf("[DRILL] drill %s started: %s of %s agencies, %zu scenarios\n", jget(rep, "drill"),
           jget(rep, "drilled"), jget(rep, "agencies"),
           json_array_size(json_object_get(rep, "scenarios")));
    json_array_foreach(json_object_get(rep, "scenarios"), i, s)
    {
        printf("  scenario %-3s level %s to %-14s notice %s\n", jget(s, "scenario"),
               jget(s, "level"), jget(s, "agency"), jget(s, "notice"));
    }
    return 0;
}

/* advise_print - the plan as text */
static void
advise_print(const struct policy *p, const struct plan *pl, int drill)
{
    char iso[40];

    printf("policy          %s\n", p->name);
    printf("claimed level   %d (%s)\n", pl->claimed, p->level_name[pl->claimed]);
    printf("advised level   %d (%s)%s\n", pl->advised,
           pl->advised ? p->level_name[pl->advised] : "-",
           pl->below_advised ? "  FLAG: claimed is below advised (R-LEVEL-2)" : "");
    printf("report to      ");
    for (size_t i = 0; i < pl->nreport_to; i++)
        printf(" %s%s", pl->report_to[i],
               pl->city && strcmp(pl->report_to[i], pl->city) == 0 ? " (copy, R-COPY3)" : "");
    printf("\nhorizontal     ");
    for (size_t i = 0; i < pl->nhoriz; i++)
        printf(" %s", pl->horiz_to[i]);
    printf("%s\n", pl->nhoriz ? " (R-HORIZ)" : " none");
    printf("escalations    ");
    for (unsigned b = 0; b < 4; b++)
        if (pl->esc & (1u << b))
            printf(" %s->%s (%s)", plan_esc_name(1u << b),
                   pl->esc_to[b] ? pl->esc_to[b] : "(not in the directory)",
                   plan_esc_rule(1u << b));
    printf("%s\n", pl->esc ? "" : drill ? " none (drill, R-DRILL)" : " none");
    if (pl->below_advised && pl->esc_advised != pl->esc) {
        printf("at level %d      ", pl->advised);
        for (unsigned b = 0; b < 4; b++)
            if (pl->esc_advised & (1u << b))
                printf(" %s (%s)", plan_esc_name(1u << b), plan_esc_rule(1u << b));
        printf("\n");
    }
    printf("due times (UTC):\n");
    for (int d = 0; d < POL_D_N; d++) {
        if (!pl->due[d])
            continue;
        clock_format_iso(pl->due[d], iso, sizeof(iso));
        printf("  %-8s %-9s %s\n", policy_deadline_name(d), policy_deadline_rule_id(d), iso);
    }
    if (!pl->due[POL_D_REVIEW])
        printf("  (review, support and later due times start when their anchor happens)\n");
}

/* advise_json - the plan as JSON */
static json_t *
advise_json(const struct policy *p, const struct plan *pl)
{
    json_t *o = json_pack("{s:b,s:s,s:i,s:i,s:b}", "ok", 1, "policy", p->name, "claimed_level",
                          pl->claimed, "advised_level", pl->advised, "below_advised",
                          pl->below_advised);
    json_t *to = json_array(), *h = json_array(), *esc = json_array(), *dues = json_object();
    char iso[40];

    for (size_t i = 0; i < pl->nreport_to; i++)
        json_array_append_new(to, json_string(pl->report_to[i]));
    for (size_t i = 0; i < pl->nhoriz; i++)
        json_array_append_new(h, json_string(pl->horiz_to[i]));
    for (unsigned b = 0; b < 4; b++)
        if (pl->esc & (1u << b))
            json_array_append_new(esc, json_pack("{s:s,s:s,s:o}", "kind", plan_esc_name(1u << b),
                                                 "rule", plan_esc_rule(1u << b), "to",
                                                 pl->esc_to[b] ? json_string(pl->esc_to[b])
                                                               : json_null()));
    for (int d = 0; d < POL_D_N; d++)
        if (pl->due[d]) {
            clock_format_iso(pl->due[d], iso, sizeof(iso));
            json_object_set_new(dues, policy_deadline_name(d), json_string(iso));
        }
    json_object_set_new(o, "report_to", to);
    json_object_set_new(o, "copy_to", pl->city ? json_string(pl->city) : json_null());
    json_object_set_new(o, "horizontal_to", h);
    json_object_set_new(o, "escalations", esc);
    {
        json_t *ea = json_array();
        for (unsigned b = 0; b < 4; b++)
            if (pl->esc_advised & (1u << b))
                json_array_append_new(ea, json_string(plan_esc_name(1u << b)));
        json_object_set_new(o, "escalations_at_advised_level", ea);
    }
    json_object_set_new(o, "dues", dues);
    return o;
}

/* req_advise - offline what-if: the policy's view of a report form */
static json_t *
req_advise(struct args *a)
{
    static char err[8192];
    struct directory d;
    struct policy p;
    struct plan pl;
    Relay__Body b = RELAY__BODY__INIT;
    char src[300];
    const char *nowtxt = opt(a, "now");
    int64_t now = clock_now_us();
    json_t *form;

    a->rc = 2;
    if (nowtxt && clock_parse_iso(nowtxt, &now) != 0)
        return fail_usage(a, "--now '%s' is not an ISO 8601 time with a zone", nowtxt);
    if (policy_file_load(opt(a, "policy"), &p, src, sizeof(src), err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
        return NULL;
    }
    if (dir_load(opt(a, "directory"), &d, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%srelayctl: advise: directory refused\n", err);
        return NULL;
    }
    if ((form = read_form(a->npos ? a->pos[0] : NULL)) == NULL) {
        dir_free(&d);
        return NULL;
    }
    if (form_to_body("report", form, now, &b, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
    } else if (plan_report(&p, &d, opt(a, "node"), b.report, b.drill, &pl, err,
                           sizeof(err)) != RL_OK) {
        fprintf(stderr, "relayctl: advise: %s\n", err);
        a->rc = 1;
    } else {
        if (G.json) {
            json_t *o = advise_json(&p, &pl);
            char *txt = json_dumps(o, JSON_INDENT(2));
            printf("%s\n", txt);
            free(txt);
            json_decref(o);
        } else {
            advise_print(&p, &pl, b.drill);
        }
        plan_free(&pl);
        a->rc = 0;
    }
    form_body_clear(&b);
    json_decref(form);
    dir_free(&d);
    return NULL;
}

/* root_load - the root key file named by --root; NULL after a message */
static struct keypair *
root_load(struct args *a)
{
    struct keypair *kp = NULL;
    const char *why = NULL;
    int rc;

    if (keys_init() != RL_OK || (rc = keys_load(opt(a, "root"), &kp, &why)) != RL_OK) {
        fprintf(stderr, "relayctl: %s: --root %s: %s\n", a->cmd->name, opt(a, "root"),
                why ? why : "cannot load the key");
        a->rc = 1;
        return NULL;
    }
    return kp;
}

/* req_dir_init - offline: sign a whole INI topology as the first changes */
static json_t *
req_dir_init(struct args *a)
{
    static char err[8192];
    struct directory d;
    struct keypair *root;
    ProtobufCBinaryData *v;
    size_t n;
    int64_t at = clock_now_us();

    a->rc = 1;
    if (opt(a, "at") && clock_parse_iso(opt(a, "at"), &at) != 0)
        return fail_usage(a, "--at '%s' is not an ISO 8601 time", opt(a, "at"));
    if ((root = root_load(a)) == NULL)
        return NULL;
    if (dir_load(opt(a, "from"), &d, err, sizeof(err)) != RL_OK) {
        fprintf(stderr, "%srelayctl: dir-init: %s refused\n", err, opt(a, "from"));
        keys_free(root);
        return NULL;
    }
    if (dirlog_from_dir(&d, root, at, &v, &n) == RL_OK &&
        dirlog_write_file(opt(a, "out"), v, n) == RL_OK) {
        printf("%s: %zu nodes enrolled, signed by the root key\n", opt(a, "out"), n);
        a->rc = 0;
        dirlog_free(v, n);
    } else {
        fprintf(stderr, "relayctl: dir-init: cannot sign or write %s\n", opt(a, "out"));
    }
    dir_free(&d);
    keys_free(root);
    return NULL;
}

/* req_dir_change - enrol, rotate or revoke: sign the next change with the
 * root key here (it never reaches a node) and submit it to the national node */
static json_t *
req_dir_change(struct args *a)
{
    Relay__DirChange c = RELAY__DIR_CHANGE__INIT;
    Relay__DirEntry e = RELAY__DIR_ENTRY__INIT;
    struct keypair *root;
    json_t *st = NULL, *req;
    uint8_t key[32], *buf;
    char *hex;
    size_t len;
    int64_t at = clock_now_us();
    int rc;

    a->rc = 2;
    if (opt(a, "at") && clock_parse_iso(opt(a, "at"), &at) != 0)
        return fail_usage(a, "--at '%s' is not an ISO 8601 time", opt(a, "at"));
    if (strcmp(a->cmd->name, "revoke") != 0 &&
        (opt(a, "key") == NULL || keys_unhex(opt(a, "key"), key, 32) != 0))
        return fail_usage(a, "--key must be 64 hex digits (the node's public key)");
    e.id = (char *)opt(a, "id");
    e.key.data = key;
    e.key.len = 32;
    if (strcmp(a->cmd->name, "enrol") == 0) {
        int tier = config_tier_parse(opt(a, "tier"));
        int sector = opt(a, "sector") ? dir_sector_parse(opt(a, "sector")) : 0;
        if (tier == TIER_NONE)
            return fail_usage(a, "--tier must be agency, city, ministry, national or office");
        if (sector < 0)
            return fail_usage(a, "unknown --sector '%s'", opt(a, "sector"));
        e.tier = (Relay__Tier)tier;
        e.parent = (char *)(opt(a, "parent") ? opt(a, "parent") : "");
        e.city = (char *)(opt(a, "city") ? opt(a, "city") : "");
        e.sector = (Relay__Sector)sector;
        e.role = (char *)(opt(a, "role") ? opt(a, "role") : "");
        e.contact = (char *)(opt(a, "contact") ? opt(a, "contact") : "");
        if (opt(a, "valid-from") && clock_parse_iso(opt(a, "valid-from"), &e.valid_from_us) != 0)
            return fail_usage(a, "--valid-from '%s' is not an ISO 8601 time", opt(a, "valid-from"));
        if (opt(a, "valid-until") &&
            clock_parse_iso(opt(a, "valid-until"), &e.valid_until_us) != 0)
            return fail_usage(a, "--valid-until '%s' is not an ISO 8601 time",
                              opt(a, "valid-until"));
        if (e.valid_until_us && e.valid_until_us <= e.valid_from_us)
            return fail_usage(a, "--valid-until must be after --valid-from");
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ENROL;
        c.enrol = &e;
    } else if (strcmp(a->cmd->name, "rotate") == 0) {
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ROTATE;
        c.rotate = &e;
    } else {
        c.change_case = RELAY__DIR_CHANGE__CHANGE_REVOKE;
        c.revoke = (char *)opt(a, "id");
    }
    if ((rc = quiet_call(a, json_pack("{s:s}", "verb", "status"), &st)) != 0) {
        a->rc = rc;
        return NULL;
    }
    c.seq = (uint64_t)json_integer_value(json_object_get(st, "directory_seq")) + 1;
    json_decref(st);
    c.at_us = at;
    if ((root = root_load(a)) == NULL)
        return NULL;
    rc = dirlog_seal(&c, root, &buf, &len);
    keys_free(root);
    if (rc != RL_OK || (hex = malloc(2 * len + 1)) == NULL) {
        fprintf(stderr, "relayctl: %s: cannot sign the change\n", a->cmd->name);
        a->rc = 1;
        return NULL;
    }
    keys_hex(buf, len, hex);
    free(buf);
    G.verb = a->cmd->name;
    req = json_pack("{s:s, s:s}", "verb", "dir-change", "change", hex);
    free(hex);
    return req;
}

/* show_dir_change - the change is in; for an enrolment, the bootstrap file */
static int
show_dir_change(struct args *a, const json_t *rep)
{
    json_t *ex = NULL, *h;
    ProtobufCBinaryData *v;
    size_t i, n;
    int rc;

    if (!G.json)
        printf("directory change %s applied at the national node and sent to every node\n",
               jget(rep, "seq"));
    if (opt(a, "out") == NULL)
        return 0;
    if ((rc = quiet_call(a, json_pack("{s:s}", "verb", "dir-export"), &ex)) != 0)
        return rc;
    n = json_array_size(json_object_get(ex, "changes"));
    v = calloc(n + 1, sizeof(*v));
    rc = v ? 0 : 1;
    json_array_foreach(json_object_get(ex, "changes"), i, h)
    {
        const char *x = json_string_value(h);
        v[i].len = strlen(x) / 2;
        if ((v[i].data = malloc(v[i].len + 1)) == NULL || keys_unhex(x, v[i].data, v[i].len) != 0)
            rc = 1;
    }
    if (rc == 0 && dirlog_write_file(opt(a, "out"), v, n) != RL_OK)
        rc = 1;
    if (rc == 0 && !G.json)
        printf("%s: the signed directory up to this change, for the new node's "
               "'directory' setting\n", opt(a, "out"));
    else
        fprintf(stderr, "relayctl: %s: cannot write %s\n", a->cmd->name, opt(a, "out"));
    for (i = 0; v && i < n; i++)
        free(v[i].data);
    free(v);
    json_decref(ex);
    return rc;
}

/* req_dir - the directory in force at this node */
static json_t *
req_dir(struct args *a)
{
    if (strcmp(a->pos[0], "list") != 0)
        return fail_usage(a, "unknown dir command '%s'", a->pos[0]);
    return json_pack("{s:s}", "verb", "dir-list");
}

/* show_dir - one line per node */
static int
show_dir(struct args *a, const json_t *rep)
{
    json_t *e;
    size_t i;

    printf("directory at change %s\n", jget(rep, "seq"));
    json_array_foreach(json_object_get(rep, "nodes"), i, e)
    {
        printf("  %-14s %-9s parent %-10s key %.16s...%s%s\n", jget(e, "id"), jget(e, "tier"),
               jget(e, "parent"), jget(e, "key"),
               json_is_string(json_object_get(e, "revoked")) ? "  REVOKED at " : "",
               json_is_string(json_object_get(e, "revoked")) ? jget(e, "revoked") : "");
    }
    return 0;
}

static const struct cmd cmds[] = {
    {"keygen", req_keygen, NULL, "keygen [--public] KEYFILE", "", 1, 1},
    {"report", req_form, show_filed, "report [FILE|-] [--again]", "", 0, 1},
    {"update", req_update, show_filed,
     "update ID [--team-formed] [--damage-controlled] [--recovered] "
     "[--subjects-notified] [--text TEXT]",
     "", 1, 1},
    {"support", req_support, show_filed, "support ID --text TEXT", "--text", 1, 1},
    {"request-level", req_request_level, show_filed,
     "request-level ID LEVEL --reason TEXT", "--reason", 2, 2},
    {"review", req_review, show_filed,
     "review ID --level N (--confirm|--change) --basis TEXT [--closure] "
     "[--follow-up TEXT]",
     "--level --basis", 1, 1},
    {"close", req_close, show_filed, "close ID [FILE|-]", "", 1, 2},
    {"withdraw", req_withdraw, show_filed, "withdraw ID --reason TEXT",
     "--reason", 1, 1},
    {"advisory", req_form, show_filed, "advisory [FILE|-]", "", 0, 1},
    {"list", req_list, show_list,
     "list [--overdue | --queue | --advisories | --drills] [--limit N] [--cursor C] [--all]",
     "", 0, 0},
    {"drill", req_drill, show_drill_reply, "drill (start | record DRILL)", "", 1, 2},
    {"advise", req_advise, NULL,
     "advise [FILE|-] --node ID --directory FILE [--policy FILE] [--now ISO]",
     "--node --directory", 0, 1},
    {"show", req_plain, show_show, "show ID", "", 1, 1},
    {"status", req_plain, show_status, "status", "", 0, 0},
    {"wait", req_wait, show_wait, "wait (ID | --outbox-empty) [--timeout MS]",
     "", 0, 1},
    {"clock", req_clock, show_clock, "clock (set ISO | advance DURATION)", "",
     2, 2},
    {"audit", req_audit, show_audit, "audit (verify | export FILE | check CHILD FILE | head CHILD)", "", 1,
     3},
    {"dir-init", req_dir_init, NULL,
     "dir-init --root ROOTKEY --from TOPOLOGY.ini --out DIRECTORY [--at ISO]",
     "--root --from --out", 0, 0},
    {"enrol", req_dir_change, show_dir_change,
     "enrol --root ROOTKEY --id ID --tier TIER [--parent P] [--city C] [--sector S] "
     "[--role R] [--contact C] --key HEX [--valid-from ISO] [--valid-until ISO] "
     "[--out DIRECTORY] [--at ISO]",
     "--root --id --tier --key", 0, 0},
    {"rotate", req_dir_change, show_dir_change,
     "rotate --root ROOTKEY --id ID --key HEX [--at ISO]", "--root --id --key", 0, 0},
    {"revoke", req_dir_change, show_dir_change, "revoke --root ROOTKEY --id ID [--at ISO]",
     "--root --id", 0, 0},
    {"dir", req_dir, show_dir, "dir list", "", 1, 1},
    {"held", req_plain, show_held, "held", "", 0, 0},
    {"release", req_held_act, show_held_act, "release ID [--peer P]", "", 1, 1},
    {"drop", req_held_act, show_held_act, "drop ID --reason TEXT [--peer P]", "--reason", 1,
     1},
    {"store", req_store, show_store, "store check", "", 1, 1},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* usage - the whole synopsis to fp; returns status */
static int
usage(FILE *fp, int status)
{
    fprintf(fp, "usage: relayctl [-c CONFIG | -s URL] [-t MS] [--json] VERB "
                "[ARGS]\nverbs:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(fp, "  %s\n", cmds[i].usage);
    fprintf(fp,
            "options:\n"
            "  -c CONFIG  take the control socket URL from CONFIG "
            "([node] control)\n"
            "  -s URL     the control socket URL (ipc://...)\n"
            "  -t MS      request timeout in milliseconds (default %d)\n"
            "  --json     print the node's JSON reply (also after VERB)\n"
            "FILE is a JSON form; '-' or none reads stdin. "
            "DURATION: 90s, 15m, 3h, 2d, 1h30m.\n"
            "exit: 0 ok, 1 the node said no, 2 usage or unreachable node\n",
            CTL_TIMEOUT_MS);
    return status;
}

/* parse_verb - the options and positionals of one verb into *a; 0 or 2 */
static int
parse_verb(int argc, char **argv, struct args *a)
{
    int c, i;

    optind = 0; /* GNU: start over, permuting options before positionals */
    while ((c = getopt_long(argc, argv, ":", verb_opts, &i)) != -1) {
        if (c == ':')
            return fail_usage(a, "option '%s' needs a value", argv[optind - 1]),
                   2;
        if (c != 1)
            return fail_usage(a, "unknown option '%s'", argv[optind - 1]), 2;
        if (i > 0 && !mentions(a->cmd->usage, verb_opts[i].name))
            return fail_usage(a, "unknown option '--%s'", verb_opts[i].name), 2;
        a->val[i] = optarg ? optarg : "";
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    if (a->npos < a->cmd->minpos || a->npos > a->cmd->maxpos)
        return fail_usage(a, a->npos < a->cmd->minpos ? "missing argument"
                                                      : "too many arguments"),
               2;
    for (i = 0; i < (int)NOPTS; i++)
        if (!a->val[i] && mentions(a->cmd->need, verb_opts[i].name))
            return fail_usage(a, "--%s is required", verb_opts[i].name), 2;
    for (i = 1; i < argc && a->cmd->show; i++) { /* JSON strings are UTF-8 */
        json_t *t = json_string(argv[i]);
        if (t == NULL)
            return fail_usage(a, "'%s' is not valid UTF-8", argv[i]), 2;
        json_decref(t);
    }
    G.json |= flag(a, "json");
    return 0;
}

/* main - global options, one verb: build, send, show */
int
main(int argc, char **argv)
{
    static const struct option gopts[] = {{"json", no_argument, NULL, 'j'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct args a = {.timeout_ms = CTL_TIMEOUT_MS};
    json_t *req, *rep;
    long long n;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:c:s:t:h", gopts, NULL)) != -1) {
        if (c == 'c' || c == 's')
            *(c == 'c' ? &G.config : &G.url) = optarg;
        else if (c == 'j')
            G.json = 1;
        else if (c == 'h')
            return usage(stdout, 0);
        else if (c == 't' && parse_int(optarg, 1, INT32_MAX, &n) == 0)
            a.timeout_ms = (int)n;
        else {
            fprintf(stderr, "relayctl: %s '%s'\n",
                    c == 't'   ? "-t needs a positive number of ms, not"
                    : c == ':' ? "a value is missing after"
                               : "unknown option",
                    c == 't' ? optarg : argv[optind - 1]);
            return usage(stderr, 2);
        }
    }
    if (G.config && G.url) {
        fprintf(stderr, "relayctl: give -c or -s, not both\n");
        return 2;
    }
    if (optind >= argc)
        return usage(stderr, 2);
    if (strcmp(argv[optind], "help") == 0)
        return usage(stdout, 0);
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(cmds[i].name, argv[optind]) == 0)
            a.cmd = &cmds[i];
    if (a.cmd == NULL) {
        fprintf(stderr, "relayctl: unknown verb '%s'\n", argv[optind]);
        return usage(stderr, 2);
    }
    G.verb = a.cmd->name;
    if (parse_verb(argc - optind, argv + optind, &a) != 0)
        return 2;
    if (a.cmd->show && ctl_url() == NULL)
        return 2;
    if ((req = a.cmd->req(&a)) == NULL)
        return a.rc;
    if ((c = ctl_call(with_request_id(req), a.timeout_ms, &rep)) != 0)
        return c;
    /* audit's verdict sets the exit status even with --json, and an
     * enrolment writes its bootstrap file either way */
    if (!G.json || a.cmd->show == show_audit || a.cmd->show == show_dir_change ||
        (a.cmd->show == show_list && flag(&a, "all")) || a.cmd->show == show_store)
        c = a.cmd->show(&a, rep);
    json_decref(rep);
    return c;
}
