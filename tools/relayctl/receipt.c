/*
 * receipt.c - honest filing (issue 12 item 2): after report, update and
 * close, relayctl waits a bounded time (--wait-receipt SECONDS, default
 * 5) for the receipt of the incident's reporting target, then says either
 * "received by taipei at ..." (exit 0) or, plainly, that the message is
 * stored here but NOT yet received, with the R-OFFLINE phone script the
 * node gives while the report has not reached its target (exit 3).
 * --no-wait files without waiting, as before.
 *
 * Times are printed in Asia/Taipei (UTC+8 all year: Taiwan has kept no
 * daylight saving time since 1979), the zone written after them; --json
 * prints the node's answer with "received" ({by, at} in UTC, or null)
 * and, when not received, "phone_script".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "relayctl.h"

#define RCPT_POLL_US 200000

/* taipei - an ISO UTC time as "2026-11-29 17:30:05 Asia/Taipei" (ring of 4) */
static const char *
taipei(const char *iso)
{
    static char ring[4][48];
    static int next;
    char *buf = ring[next++ % 4];
    int64_t us;
    time_t t;
    struct tm tm;

    if (iso == NULL || clock_parse_iso(iso, &us) != 0)
        return iso ? iso : "?";
    t = (time_t)(us / 1000000) + 8 * 3600;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(ring[0]), "%Y-%m-%d %H:%M:%S Asia/Taipei", &tm);
    return buf;
}

/* receipt_of - the target's "receipt" event for message id in incident
 * JSON inc, or NULL */
static const json_t *
receipt_of(const json_t *inc, const char *id)
{
    const char *target = json_string_value(json_object_get(inc, "target"));
    json_t *e;
    size_t i;

    if (target == NULL)
        return NULL;
    json_array_foreach(json_object_get(inc, "history"), i, e)
    {
        const char *what = json_string_value(json_object_get(e, "what"));
        const char *msg = json_string_value(json_object_get(e, "msg"));
        const char *node = json_string_value(json_object_get(e, "node"));
        if (what && msg && node && strcmp(what, "receipt") == 0 && strcmp(msg, id) == 0 &&
            strcmp(node, target) == 0)
            return e;
    }
    return NULL;
}

/* print_not_received - the plain words and the phone script */
static void
print_not_received(const char *kind, const json_t *inc, const json_t *ps)
{
    const char *target = jget(inc, "target");

    printf("NOT YET RECEIVED: the %s is stored here, but %s does not have it yet.\n", kind,
           target);
    if (ps == NULL) {
        printf("The relay sends it by itself when %s can be reached.\n", target);
        return;
    }
    if (json_is_false(json_object_get(ps, "link_connected")))
        printf("The link to %s has been down since %s.\n", target,
               taipei(json_string_value(json_object_get(ps, "link_since"))));
    printf("R-OFFLINE: report by other means now, by phone.\n");
    printf("  Call: %s\n", json_is_string(json_object_get(ps, "contact"))
                               ? jget(ps, "contact")
                               : "the reporting target's designated contact (none in the directory)");
    printf("  Say:  agency %s, incident %s, level %s, aware since %s.\n", jget(ps, "agency"),
           jget(ps, "id"), jget(ps, "level"),
           taipei(json_string_value(json_object_get(ps, "aware_at"))));
    printf("  The report is due at %s. The relay sends it by itself when the link returns.\n",
           taipei(json_string_value(json_object_get(ps, "due"))));
}

/* filed_wait - after a filing answered rep: wait up to secs for the
 * target's receipt and say what happened; the exit status (0 received, 3
 * not) */
int
filed_wait(struct args *a, json_t *rep, long long secs)
{
    const char *iid = json_string_value(json_object_get(rep, "incident"));
    const char *id = json_string_value(json_object_get(rep, "id"));
    struct timespec t0, t1;
    json_t *got = NULL, *inc = NULL;
    const json_t *rc = NULL;

    if (iid == NULL || id == NULL) {
        fprintf(stderr, "relayctl: the node's answer names no incident: receipt not awaited\n");
        if (!G.json)
            return show_filed(a, rep);
        json_dumpf(rep, stdout, JSON_INDENT(2));
        printf("\n");
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        json_decref(got);
        got = NULL;
        if (ctl_fetch(a, &got, "GET", NULL, "/api/v1/incidents/%s", ctl_esc(iid)) == 0) {
            inc = json_object_get(got, "incident");
            if ((rc = receipt_of(inc, id)) != NULL)
                break;
        } else {
            inc = NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= secs * 1000)
            break;
        usleep(RCPT_POLL_US);
    }
    if (G.json) {
        json_object_set_new(rep, "received",
                            rc ? json_pack("{s:O,s:O}", "by", json_object_get(rc, "node"), "at",
                                           json_object_get(rc, "at"))
                               : json_null());
        if (!rc && inc && json_object_get(inc, "phone_script"))
            json_object_set(rep, "phone_script", json_object_get(inc, "phone_script"));
        json_dumpf(rep, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        show_filed(a, rep);
        if (rc)
            printf("received by %s at %s\n", jget(rc, "node"),
                   taipei(json_string_value(json_object_get(rc, "at"))));
        else if (inc)
            print_not_received(strcmp(a->cmd->name, "report") == 0 ? "report" : a->cmd->name,
                               inc, json_object_get(inc, "phone_script"));
        else
            printf("NOT YET RECEIVED as far as this node can tell: it did not answer about "
                   "incident %s\n", iid);
    }
    json_decref(got);
    return rc ? 0 : 3;
}
