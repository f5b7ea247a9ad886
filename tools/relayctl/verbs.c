/*
 * verbs.c - each verb's request to the node's API: method, path, query and
 * JSON body, as docs/api.md lists them.
 *
 * Forms (report, update, review, ...) go as the JSON body of a POST to the
 * incident's path; the incident id is in the path and, as before, in the
 * form. Lists take limit and cursor in the query.
 *
 * DIAGNOSTICS: a bad option value is a usage error (exit 2, the verb's
 * usage printed); a form file that cannot be read or is not a JSON object
 * is named with file:line:column.
 *
 * SECURITY: nothing here signs; the node signs what it files as itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "relayctl.h"

#define CTL_WAIT_MS 10000                  /* default timeout_ms of a wait */
#define CTL_WAIT_SLACK 5000                /* request timeout beyond a wait's timeout_ms */
#define DURATION_MAX (INT64_MAX / 1000000) /* seconds that fit in int64 us */

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
        if (*s < '0' || *s > '9' || errno || !*end || !(u = strchr(units, *end)) ||
            n > (DURATION_MAX - *out) / secs[u - units])
            return -1;
        *out += n * secs[u - units];
    }
    return 0;
}

/* read_form - a JSON object from file, or stdin for NULL or "-"; NULL after
 * a message */
json_t *
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
        fprintf(stderr, "relayctl: %s:%d:%d: %s\n", name, jerr.line, jerr.column, jerr.text);
    else if (!json_is_object(form)) {
        fprintf(stderr, "relayctl: %s: expected a JSON object\n", name);
        json_decref(form);
        form = NULL;
    }
    return form;
}

/* submit - POST form (consumed) to the incident's sub-path: a write. After
 * bad input form is NULL: nothing is sent, exit 2. */
static int
submit(struct args *a, struct ctl_req *q, json_t *form, const char *what)
{
    a->rc = 2;
    if (form == NULL)
        return -1;
    return ctl_set(q, "POST", form, 1, "/api/v1/incidents/%s/%s", ctl_esc(a->pos[0]), what);
}

/* req_form - report or advisory: a whole form from a file or stdin; a
 * report with --again is filed even if the same form was filed lately */
int
req_form(struct args *a, struct ctl_req *q)
{
    json_t *form = read_form(a->npos ? a->pos[0] : NULL);

    a->rc = 2;
    if (form == NULL)
        return -1;
    if (strcmp(a->cmd->name, "advisory") == 0)
        return ctl_set(q, "POST", form, 1, "/api/v1/advisories");
    return ctl_set(q, "POST", form, 1, "/api/v1/reports%s", flag(a, "again") ? "?again=1" : "");
}

/* req_update - a status update on an incident */
int
req_update(struct args *a, struct ctl_req *q)
{
    const char *text = opt(a, "text");

    return submit(a, q,
                  json_pack("{s:s, s:b, s:b, s:b, s:s, s:b}", "incident", a->pos[0],
                            "team_formed", flag(a, "team-formed"), "damage_controlled",
                            flag(a, "damage-controlled"), "recovered", flag(a, "recovered"),
                            "text", text ? text : "", "subjects_notified",
                            flag(a, "subjects-notified")),
                  "updates");
}

/* req_request_level - ask the reviewer for another level */
int
req_request_level(struct args *a, struct ctl_req *q)
{
    long long level;

    if (parse_int(a->pos[1], 1, 4, &level) != 0)
        return fail_usage(a, "LEVEL must be 1..4, not '%s'", a->pos[1]);
    return submit(a, q,
                  json_pack("{s:s, s:I, s:s}", "incident", a->pos[0], "level",
                            (json_int_t)level, "reason", opt(a, "reason")),
                  "level-requests");
}

/* req_review - confirm or change an incident's level */
int
req_review(struct args *a, struct ctl_req *q)
{
    const char *fu = opt(a, "follow-up");
    long long level;

    if (flag(a, "confirm") == flag(a, "change"))
        return fail_usage(a, "give exactly one of --confirm and --change");
    if (parse_int(opt(a, "level"), 1, 4, &level) != 0)
        return fail_usage(a, "--level must be 1..4, not '%s'", opt(a, "level"));
    return submit(a, q,
                  json_pack("{s:s, s:s, s:I, s:s, s:b, s:s}", "incident", a->pos[0], "verdict",
                            flag(a, "confirm") ? "confirm" : "change", "level",
                            (json_int_t)level, "basis", opt(a, "basis"), "closure",
                            flag(a, "closure"), "follow_up", fu ? fu : ""),
                  "reviews");
}

/* req_close - the closure report of an incident, from a file or stdin */
int
req_close(struct args *a, struct ctl_req *q)
{
    json_t *form = read_form(a->npos > 1 ? a->pos[1] : NULL);
    const char *had = json_string_value(json_object_get(form, "incident"));

    if (had && strcmp(had, a->pos[0]) != 0) {
        fprintf(stderr, "relayctl: close: the form is for incident %s\n", had);
        json_decref(form);
        form = NULL;
    }
    json_object_set_new(form, "incident", json_string(a->pos[0]));
    return submit(a, q, form, "closure");
}

/* req_withdraw - withdraw a report filed in error */
int
req_withdraw(struct args *a, struct ctl_req *q)
{
    return submit(a, q,
                  json_pack("{s:s, s:s}", "incident", a->pos[0], "reason", opt(a, "reason")),
                  "withdrawal");
}

/* req_support - R-SUPPORT: the national center dispatches support */
int
req_support(struct args *a, struct ctl_req *q)
{
    return submit(a, q, json_pack("{s:s, s:s}", "incident", a->pos[0], "text", opt(a, "text")),
                  "support");
}

/* req_list - the incidents (all, overdue, or this node's review queue),
 * the advisories or the drills this node holds: one page */
int
req_list(struct args *a, struct ctl_req *q)
{
    char query[1024] = "";
    long long lim;
    size_t n = 0;

    if (flag(a, "advisories") + flag(a, "drills") + flag(a, "overdue") + flag(a, "queue") > 1)
        return fail_usage(a, "give at most one of --advisories, --drills, --overdue, --queue");
    if (flag(a, "limit") && parse_int(opt(a, "limit"), 1, 1000, &lim) != 0)
        return fail_usage(a, "--limit must be 1..1000, not '%s'", opt(a, "limit"));
    if (flag(a, "overdue") || flag(a, "queue"))
        n += (size_t)snprintf(query + n, sizeof(query) - n, "&filter=%s",
                              flag(a, "overdue") ? "overdue" : "queue");
    if (flag(a, "limit"))
        n += (size_t)snprintf(query + n, sizeof(query) - n, "&limit=%lld", lim);
    if (flag(a, "cursor") && n < sizeof(query))
        snprintf(query + n, sizeof(query) - n, "&cursor=%s", ctl_esc(opt(a, "cursor")));
    if (query[0])
        query[0] = '?';
    return ctl_set(q, "GET", NULL, 0, "/api/v1/%s%s",
                   flag(a, "advisories") ? "advisories"
                   : flag(a, "drills")   ? "drills"
                                         : "incidents",
                   query);
}

/* req_show - an incident (with its messages) or any message */
int
req_show(struct args *a, struct ctl_req *q)
{
    return ctl_set(q, "GET", NULL, 0, "/api/v1/messages/%s", ctl_esc(a->pos[0]));
}

/* req_status - node, counts, links */
int
req_status(struct args *a, struct ctl_req *q)
{
    (void)a;
    return ctl_set(q, "GET", NULL, 0, "/api/v1/status");
}

/* req_held - the messages a neighbour refused */
int
req_held(struct args *a, struct ctl_req *q)
{
    (void)a;
    return ctl_set(q, "GET", NULL, 0, "/api/v1/held");
}

/* req_held_act - release ID [--peer P] / drop ID --reason T [--peer P] */
int
req_held_act(struct args *a, struct ctl_req *q)
{
    json_t *body = json_object();

    if (opt(a, "peer"))
        json_object_set_new(body, "peer", json_string(opt(a, "peer")));
    if (opt(a, "reason"))
        json_object_set_new(body, "reason", json_string(opt(a, "reason")));
    return ctl_set(q, "POST", body, 1, "/api/v1/held/%s/%s", ctl_esc(a->pos[0]),
                   a->cmd->name);
}

/* req_wait - until a message is stored here, or every outbox is empty */
int
req_wait(struct args *a, struct ctl_req *q)
{
    const char *t = opt(a, "timeout");
    long long tmo = CTL_WAIT_MS;

    if (flag(a, "outbox-empty") == (a->npos == 1))
        return fail_usage(a, "give either ID or --outbox-empty");
    if (t && parse_int(t, 1, INT32_MAX - CTL_WAIT_SLACK, &tmo) != 0)
        return fail_usage(a, "--timeout must be a positive number of ms");
    a->timeout_ms = (int)tmo + CTL_WAIT_SLACK;
    if (a->npos == 0)
        return ctl_set(q, "GET", NULL, 0, "/api/v1/outbox/wait?timeout_ms=%lld", tmo);
    return ctl_set(q, "GET", NULL, 0, "/api/v1/messages/%s/wait?timeout_ms=%lld",
                   ctl_esc(a->pos[0]), tmo);
}

/* req_clock - set or advance the node's manual clock */
int
req_clock(struct args *a, struct ctl_req *q)
{
    const char *sub = a->pos[0], *val = a->pos[1];
    long long secs;
    int64_t us;

    if (strcmp(sub, "set") == 0 && clock_parse_iso(val, &us) == 0)
        return ctl_set(q, "POST", json_pack("{s:s}", "set", val), 0, "/api/v1/clock");
    if (strcmp(sub, "advance") == 0 && parse_duration(val, &secs) == 0)
        return ctl_set(q, "POST", json_pack("{s:I}", "advance_s", (json_int_t)secs), 0,
                       "/api/v1/clock");
    if (strcmp(sub, "set") == 0)
        return fail_usage(a, "'%s' is not an ISO 8601 time", val);
    if (strcmp(sub, "advance") == 0)
        return fail_usage(a, "'%s' is not a duration like 90s or 1h30m", val);
    return fail_usage(a, "unknown clock command '%s'", sub);
}

/* req_store - "store check": scan the whole store at the node */
int
req_store(struct args *a, struct ctl_req *q)
{
    if (strcmp(a->pos[0], "check") != 0)
        return fail_usage(a, "give check");
    G.verb = "store check";
    return ctl_set(q, "POST", json_object(), 1, "/api/v1/store/check");
}

/* req_drill - start a drill, or ask for one's timing record */
int
req_drill(struct args *a, struct ctl_req *q)
{
    if (strcmp(a->pos[0], "start") == 0 && a->npos == 1)
        return ctl_set(q, "POST", json_object(), 1, "/api/v1/drills");
    if (strcmp(a->pos[0], "record") == 0 && a->npos == 2)
        return ctl_set(q, "GET", NULL, 0, "/api/v1/drills/%s", ctl_esc(a->pos[1]));
    return fail_usage(a, "give 'start', or 'record' and a drill ID");
}
