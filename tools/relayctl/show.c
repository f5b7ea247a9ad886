/*
 * show.c - the text relayctl prints for the node's answers: one function
 * per kind of answer, and the helpers that make a JSON value safe text.
 *
 * DIAGNOSTICS: a printer returns the exit status: 1 when the answer itself
 * says something is wrong (a broken audit chain, damaged store records,
 * unreadable records in a list), even with --json.
 *
 * SECURITY: free text from other agencies reaches a terminal: control
 * characters are escaped (term_safe); --json prints the reply exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relayctl.h"

/* term_safe - text for a terminal: control characters (C0, DEL, C1) as
 * \xNN, so that free text from another agency cannot move the cursor or
 * clear the screen (issue 8 finding 9); JSON output is never escaped. The
 * result is s itself when clean, else valid until 32 more calls (one printf
 * of this file takes at most 10). */
const char *
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
const char *
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
const char *
jget(const json_t *obj, const char *key)
{
    return jtext(json_object_get(obj, key));
}

/* show_filed - what a submit filed, and for whom */
int
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
void
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
int
show_list(struct args *a, const json_t *rep)
{
    json_int_t bad = 0;
    json_t *page = json_incref((json_t *)rep);
    struct ctl_req q;
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
        opt_set(a, "cursor", json_string_value(json_object_get(page, "next")));
        if (req_list(a, &q) != 0) {
            rc = a->rc;
            break;
        }
        json_t *next = NULL;
        rc = ctl_call(&q, a->timeout_ms, &next);
        opt_set(a, "cursor", NULL);
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
int
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
int
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

/* show_held - one block per held message */
int
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
int
show_held_act(struct args *a, const json_t *rep)
{
    if (strcmp(a->cmd->name, "release") == 0)
        printf("%s released: queued again (%s)\n", a->pos[0], jget(rep, "released"));
    else
        printf("%s dropped (%s); the message stays in the store, the drop is audited\n",
               a->pos[0], jget(rep, "dropped"));
    return 0;
}

/* show_wait - what was waited for has happened */
int
show_wait(struct args *a, const json_t *rep)
{
    if (a->npos == 0)
        printf("every outbox is empty\n");
    else
        printf("%s is stored here\n", a->pos[0]);
    return 0;
}

/* show_clock - the node's time now */
int
show_clock(struct args *a, const json_t *rep)
{
    printf("now %s\n", jget(rep, "now"));
    return 0;
}

/* show_audit - the verdict; a broken chain fails even with --json */
int
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
int
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

/* show_drill_reply - the scenarios sent, or the timing record */
int
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

