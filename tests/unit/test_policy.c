/*
 * test_policy.c - the policy library (policy/policy.h) against RULES.md.
 *
 * The level table, escalations, priorities and drill numbers below are
 * typed from RULES.md, not read from the policy files, so a wrong row in
 * policy/default.policy fails here. Expected instants were computed
 * independently with Python's datetime and zoneinfo("Asia/Taipei")
 * (calendar.monthrange for the month-end clamp) and are written in UTC;
 * inputs are written in Taipei time where that is the point of the case.
 *
 * The library does no I/O; this test reads the two policy files itself
 * from POLICY_DIR. Parse-error rows are short texts (a parse stops at the
 * first bad line, so the rest need not be valid) or the default text with
 * a line or section cut out; each asserts the exact line number and a key
 * phrase of the message. Rows are named "<rule ID> ..."; rows about the
 * file format itself, which has no rule ID, are named "FORMAT ...".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "policy.h"
#include "relay.pb-c.h"

/* Short names for the enum values policy.h shares with proto/relay.proto;
 * test_enum_contract checks they equal the generated ones. */
enum { NON_CORE = 1, CORE, OFFICIAL_SECRET, SENSITIVE, CI_CORE, STATE_SECRET };
enum { LEAK = 1, TAMPER, OUTAGE };
enum { MINOR = 1, SEVERE };
enum {
    NONE,
    DEFENSE,
    ICT,
    ENERGY,
    TRANSPORT,
    FINANCE,
    DISASTER_RELIEF,
    HEALTH,
    PUBLIC_SAFETY,
    GOVERNMENT
};

static struct policy cur; /* policy/default.policy */
static struct policy old; /* policy/regime-2002.policy */
static char *cur_text;    /* the bytes of policy/default.policy */
static size_t cur_len;

/* read_file - a whole file into malloc'd memory (NUL added, not counted) */
static char *
read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(fp);
    return buf;
}

/* load_policy - read and parse one policy file; 0 or -1 with a message */
static int
load_policy(const char *name, struct policy *p, char **text, size_t *len)
{
    char path[512], err[256];

    snprintf(path, sizeof(path), "%s/%s", POLICY_DIR, name);
    *text = read_file(path, len);
    if (*text == NULL) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    if (policy_parse(*text, *len, p, err, sizeof(err)) != 0) {
        print_error("%s: %s\n", path, err);
        return -1;
    }
    return 0;
}

/* setup_policies - group setup: parse both policy files once */
static int
setup_policies(void **state)
{
    char *old_text;
    size_t old_len;
    int rc;

    if (load_policy("default.policy", &cur, &cur_text, &cur_len) != 0)
        return -1;
    rc = load_policy("regime-2002.policy", &old, &old_text, &old_len);
    free(old_text);
    return rc;
}

/* teardown_policies - group teardown */
static int
teardown_policies(void **state)
{
    free(cur_text);
    return 0;
}

/* iso - an ISO 8601 instant in µs, or 0 for NULL ("no deadline") */
static int64_t
iso(const char *s)
{
    int64_t us = 0;

    if (s != NULL && clock_parse_iso(s, &us) != 0)
        fail_msg("bad instant in the test itself: %s", s);
    return us;
}

/* check_time - got must equal the instant want (NULL: 0) */
static void
check_time(const char *what, int64_t got, const char *want)
{
    char g[40], w[40];

    if (got == iso(want))
        return;
    clock_format_iso(got, g, sizeof(g));
    clock_format_iso(iso(want), w, sizeof(w));
    fail_msg("%s: got %s (%lld), want %s", what, got ? g : "0",
             (long long)got, want ? w : "0");
}

/* ---- R-LEVEL-1: the whole 2018 table, from RULES.md ---- */

struct level_case {
    const char *name;
    int cls, kind, severity;
    int want;
};

static const struct level_case level_cases[] = {
    {"R-LEVEL-1 non_core.leak.minor", NON_CORE, LEAK, MINOR, 1},
    {"R-LEVEL-1 non_core.leak.severe", NON_CORE, LEAK, SEVERE, 2},
    {"R-LEVEL-1 non_core.tamper.minor", NON_CORE, TAMPER, MINOR, 1},
    {"R-LEVEL-1 non_core.tamper.severe", NON_CORE, TAMPER, SEVERE, 2},
    {"R-LEVEL-1 non_core.outage.minor", NON_CORE, OUTAGE, MINOR, 1},
    {"R-LEVEL-1 non_core.outage.severe", NON_CORE, OUTAGE, SEVERE, 2},
    {"R-LEVEL-1 core.leak.minor", CORE, LEAK, MINOR, 2},
    {"R-LEVEL-1 core.leak.severe", CORE, LEAK, SEVERE, 3},
    {"R-LEVEL-1 core.tamper.minor", CORE, TAMPER, MINOR, 2},
    {"R-LEVEL-1 core.tamper.severe", CORE, TAMPER, SEVERE, 3},
    {"R-LEVEL-1 core.outage.minor", CORE, OUTAGE, MINOR, 2},
    {"R-LEVEL-1 core.outage.severe", CORE, OUTAGE, SEVERE, 3},
    {"R-LEVEL-1 official_secret.leak.minor", OFFICIAL_SECRET, LEAK, MINOR, 3},
    {"R-LEVEL-1 official_secret.leak.severe", OFFICIAL_SECRET, LEAK, SEVERE, 4},
    {"R-LEVEL-1 official_secret.tamper.minor", OFFICIAL_SECRET, TAMPER, MINOR,
     3},
    {"R-LEVEL-1 official_secret.tamper.severe", OFFICIAL_SECRET, TAMPER, SEVERE,
     4},
    {"R-LEVEL-1 official_secret.outage.minor", OFFICIAL_SECRET, OUTAGE, MINOR,
     0},
    {"R-LEVEL-1 official_secret.outage.severe", OFFICIAL_SECRET, OUTAGE, SEVERE,
     0},
    {"R-LEVEL-1 sensitive.leak.minor", SENSITIVE, LEAK, MINOR, 3},
    {"R-LEVEL-1 sensitive.leak.severe", SENSITIVE, LEAK, SEVERE, 4},
    {"R-LEVEL-1 sensitive.tamper.minor", SENSITIVE, TAMPER, MINOR, 3},
    {"R-LEVEL-1 sensitive.tamper.severe", SENSITIVE, TAMPER, SEVERE, 4},
    {"R-LEVEL-1 sensitive.outage.minor", SENSITIVE, OUTAGE, MINOR, 0},
    {"R-LEVEL-1 sensitive.outage.severe", SENSITIVE, OUTAGE, SEVERE, 0},
    {"R-LEVEL-1 ci_core.leak.minor", CI_CORE, LEAK, MINOR, 3},
    {"R-LEVEL-1 ci_core.leak.severe", CI_CORE, LEAK, SEVERE, 4},
    {"R-LEVEL-1 ci_core.tamper.minor", CI_CORE, TAMPER, MINOR, 3},
    {"R-LEVEL-1 ci_core.tamper.severe", CI_CORE, TAMPER, SEVERE, 4},
    {"R-LEVEL-1 ci_core.outage.minor", CI_CORE, OUTAGE, MINOR, 3},
    {"R-LEVEL-1 ci_core.outage.severe", CI_CORE, OUTAGE, SEVERE, 4},
    {"R-LEVEL-1 state_secret.leak.minor", STATE_SECRET, LEAK, MINOR, 4},
    {"R-LEVEL-1 state_secret.leak.severe", STATE_SECRET, LEAK, SEVERE, 4},
    {"R-LEVEL-1 state_secret.tamper.minor", STATE_SECRET, TAMPER, MINOR, 4},
    {"R-LEVEL-1 state_secret.tamper.severe", STATE_SECRET, TAMPER, SEVERE, 4},
    {"R-LEVEL-1 state_secret.outage.minor", STATE_SECRET, OUTAGE, MINOR, 0},
    {"R-LEVEL-1 state_secret.outage.severe", STATE_SECRET, OUTAGE, SEVERE, 0},
};
#define NLEVEL (sizeof(level_cases) / sizeof(level_cases[0]))

/* run_level - one harm alone gives its table entry */
static void
run_level(void **state)
{
    const struct level_case *c = *state;
    struct pol_harm h = {c->kind, c->cls, c->severity};

    assert_int_equal(policy_advise_level(&cur, &h, 1), c->want);
}

/* ---- R-LEVEL-1: combinations ---- */

struct combo_case {
    const char *name;
    struct pol_harm h[4]; /* {kind, cls, severity} */
    size_t n;
    int want;
};

static const struct combo_case combo_cases[] = {
    {"R-LEVEL-1 max over harms: core.leak.minor + ci_core.outage.severe",
     {{LEAK, CORE, MINOR}, {OUTAGE, CI_CORE, SEVERE}}, 2, 4},
    {"R-LEVEL-1 max over harms, highest first",
     {{TAMPER, CORE, SEVERE}, {LEAK, NON_CORE, MINOR}, {OUTAGE, NON_CORE,
                                                         SEVERE}},
     3, 3},
    {"R-LEVEL-1 no harms gives 0", {{0, 0, 0}}, 0, 0},
    {"R-LEVEL-1 a '-' entry alone gives 0", {{OUTAGE, STATE_SECRET, SEVERE}},
     1, 0},
    {"R-LEVEL-1 a '-' entry beside a level-1 harm gives 1",
     {{OUTAGE, SENSITIVE, SEVERE}, {LEAK, NON_CORE, MINOR}}, 2, 1},
    {"R-LEVEL-1 unspecified class, kind or severity has no entry",
     {{LEAK, 0, MINOR}, {0, CORE, MINOR}, {LEAK, CORE, 0}}, 3, 0},
    {"R-LEVEL-1 out-of-range values have no entry",
     {{LEAK, 7, SEVERE}, {4, CORE, SEVERE}, {LEAK, CORE, 3}, {-1, -1, -1}},
     4, 0},
    {"R-LEVEL-1 out-of-range harm beside a valid one",
     {{LEAK, 99, SEVERE}, {TAMPER, OFFICIAL_SECRET, MINOR}}, 2, 3},
};
#define NCOMBO (sizeof(combo_cases) / sizeof(combo_cases[0]))

/* run_combo - several harms give the maximum of their entries */
static void
run_combo(void **state)
{
    const struct combo_case *c = *state;

    assert_int_equal(policy_advise_level(&cur, c->h, c->n), c->want);
}

/* test_level_2002_table - regime-2002.policy maps onto the same numbers
 * (its comments explain why each row lands where it does) */
static void
test_level_2002_table(void **state)
{
    for (size_t i = 0; i < NLEVEL; i++) {
        const struct level_case *c = &level_cases[i];
        struct pol_harm h = {c->kind, c->cls, c->severity};

        if (policy_advise_level(&old, &h, 1) != c->want)
            fail_msg("2002 %s: got %d, want %d", c->name,
                     policy_advise_level(&old, &h, 1), c->want);
    }
}

/* ---- deadlines: every row at every level ---- */

/* One incident: aware 09:15, reported 09:55, re-reviewed 12:30 Taipei. */
#define AWARE "2025-03-10T09:15:00+08:00"    /* 2025-03-10T01:15:00Z */
#define REPORTED "2025-03-10T09:55:00+08:00" /* 2025-03-10T01:55:00Z */
#define REVIEWED "2025-03-10T12:30:00+08:00" /* 2025-03-10T04:30:00Z */

struct due_case {
    const char *name;
    int d, level;
    const char *want; /* UTC, from Python */
};

static const struct due_case due_cases[] = {
    {"R-REPORT level 1", POL_D_REPORT, 1, "2025-03-10T02:15:00Z"},
    {"R-REPORT level 2", POL_D_REPORT, 2, "2025-03-10T02:15:00Z"},
    {"R-REPORT level 3", POL_D_REPORT, 3, "2025-03-10T02:15:00Z"},
    {"R-REPORT level 4", POL_D_REPORT, 4, "2025-03-10T02:15:00Z"},
    {"R-HORIZ level 1", POL_D_HORIZ, 1, "2025-03-10T02:15:00Z"},
    {"R-HORIZ level 2", POL_D_HORIZ, 2, "2025-03-10T02:15:00Z"},
    {"R-HORIZ level 3", POL_D_HORIZ, 3, "2025-03-10T02:15:00Z"},
    {"R-HORIZ level 4", POL_D_HORIZ, 4, "2025-03-10T02:15:00Z"},
    {"R-REVIEW level 1 (8 h from the report)", POL_D_REVIEW, 1,
     "2025-03-10T09:55:00Z"},
    {"R-REVIEW level 2", POL_D_REVIEW, 2, "2025-03-10T09:55:00Z"},
    {"R-REVIEW level 3 (2 h from the report)", POL_D_REVIEW, 3,
     "2025-03-10T03:55:00Z"},
    {"R-REVIEW level 4", POL_D_REVIEW, 4, "2025-03-10T03:55:00Z"},
    {"R-TEAM level 1 (3 h)", POL_D_TEAM, 1, "2025-03-10T04:15:00Z"},
    {"R-TEAM level 2", POL_D_TEAM, 2, "2025-03-10T04:15:00Z"},
    {"R-TEAM level 3 (1 h)", POL_D_TEAM, 3, "2025-03-10T02:15:00Z"},
    {"R-TEAM level 4", POL_D_TEAM, 4, "2025-03-10T02:15:00Z"},
    {"R-CONTROL level 1 (72 h)", POL_D_CONTROL, 1, "2025-03-13T01:15:00Z"},
    {"R-CONTROL level 2", POL_D_CONTROL, 2, "2025-03-13T01:15:00Z"},
    {"R-CONTROL level 3 (36 h)", POL_D_CONTROL, 3, "2025-03-11T13:15:00Z"},
    {"R-CONTROL level 4", POL_D_CONTROL, 4, "2025-03-11T13:15:00Z"},
    {"R-SUPPORT level 1 (2 h from the re-review)", POL_D_SUPPORT, 1,
     "2025-03-10T06:30:00Z"},
    {"R-SUPPORT level 2", POL_D_SUPPORT, 2, "2025-03-10T06:30:00Z"},
    {"R-SUPPORT level 3 (1 h from the re-review)", POL_D_SUPPORT, 3,
     "2025-03-10T05:30:00Z"},
    {"R-SUPPORT level 4", POL_D_SUPPORT, 4, "2025-03-10T05:30:00Z"},
    {"R-CLOSE level 1 (1 month)", POL_D_CLOSE, 1, "2025-04-10T01:15:00Z"},
    {"R-CLOSE level 2", POL_D_CLOSE, 2, "2025-04-10T01:15:00Z"},
    {"R-CLOSE level 3", POL_D_CLOSE, 3, "2025-04-10T01:15:00Z"},
    {"R-CLOSE level 4", POL_D_CLOSE, 4, "2025-04-10T01:15:00Z"},
    {"R-COPY3 level 1 (end of Taipei day D+2)", POL_D_COPY, 1,
     "2025-03-12T16:00:00Z"},
    {"R-COPY3 level 2", POL_D_COPY, 2, "2025-03-12T16:00:00Z"},
    {"R-COPY3 level 3", POL_D_COPY, 3, "2025-03-12T16:00:00Z"},
    {"R-COPY3 level 4", POL_D_COPY, 4, "2025-03-12T16:00:00Z"},
};
#define NDUE (sizeof(due_cases) / sizeof(due_cases[0]))

/* facts - the incident above at level, every deadline applicable */
static struct pol_facts
facts(int level)
{
    return (struct pol_facts){iso(AWARE), iso(REPORTED), iso(REVIEWED),
                              level, 1, 1, 1};
}

/* run_due - policy_dues and policy_due agree with Python */
static void
run_due(void **state)
{
    const struct due_case *c = *state;
    struct pol_facts f = facts(c->level);
    int64_t due[POL_D_N];
    int64_t anchor[] = {f.aware_us, f.reported_us, f.national_review_us};

    policy_dues(&cur, &f, due);
    check_time("policy_dues", due[c->d], c->want);
    check_time("policy_due",
               policy_due(&cur, c->d, c->level,
                          anchor[cur.deadline[c->d].anchor]),
               c->want);
}

/* ---- R-DAYS: the 3-day copy counts Taipei calendar days ---- */

struct copy_case {
    const char *name;
    const char *reported;
    const char *want; /* UTC, from Python */
};

static const struct copy_case copy_cases[] = {
    {"R-DAYS report 23:50 Taipei: due at the end of D+2",
     "2025-03-10T23:50:00+08:00", "2025-03-12T16:00:00Z"},
    {"R-DAYS report 00:05 Taipei (16:05Z the day before): a day later",
     "2025-03-11T00:05:00+08:00", "2025-03-13T16:00:00Z"},
    {"R-DAYS report at exactly 00:00 Taipei: that day counts",
     "2025-03-11T00:00:00+08:00", "2025-03-13T16:00:00Z"},
    {"R-DAYS report at the last microsecond of the day",
     "2025-03-10T23:59:59.999999+08:00", "2025-03-12T16:00:00Z"},
    {"R-DAYS report 07:59 Taipei (23:59Z the day before)",
     "2025-03-10T07:59:00+08:00", "2025-03-12T16:00:00Z"},
    {"R-DAYS report 08:00 Taipei (00:00Z)", "2025-03-10T08:00:00+08:00",
     "2025-03-12T16:00:00Z"},
    {"R-DAYS across the year end", "2024-12-30T10:00:00+08:00",
     "2025-01-01T16:00:00Z"},
    {"R-DAYS across Feb 29 2024", "2024-02-27T12:00:00+08:00",
     "2024-02-29T16:00:00Z"},
};
#define NCOPY (sizeof(copy_cases) / sizeof(copy_cases[0]))

/* run_copy - R-COPY3 due time for a report at the given instant */
static void
run_copy(void **state)
{
    const struct copy_case *c = *state;
    struct pol_facts f = facts(2);
    int64_t due[POL_D_N];

    f.reported_us = iso(c->reported);
    policy_dues(&cur, &f, due);
    check_time("copy", due[POL_D_COPY], c->want);
}

/* test_days_other_zone - R-DAYS follows tz_offset_s, here -05:00:
 * 23:50-05:00 on Mar 10 is 04:50Z on Mar 11, but the local day is Mar 10 */
static void
test_days_other_zone(void **state)
{
    struct policy p = cur;
    struct pol_span three = {POL_U_DAYS, 3};

    p.tz_offset_s = -5 * 3600;
    check_time("-05:00",
               policy_add_span(&p, iso("2025-03-10T23:50:00-05:00"), three),
               "2025-03-13T05:00:00Z"); /* Python: 2025-03-13T00:00-05:00 */
}

struct day_case {
    const char *name;
    const char *t;
    const char *want; /* UTC, from Python */
};

static const struct day_case day_cases[] = {
    {"R-DAYS day start of 00:05 Taipei is 16:00Z the day before",
     "2025-03-11T00:05:00+08:00", "2025-03-10T16:00:00Z"},
    {"R-DAYS day start of 15:59:59Z is the same Taipei day",
     "2025-03-10T15:59:59Z", "2025-03-09T16:00:00Z"},
    {"R-DAYS day start of 16:00Z is the next Taipei day",
     "2025-03-10T16:00:00Z", "2025-03-10T16:00:00Z"},
    {"R-DAYS day start before the epoch", "1969-12-31T12:00:00Z",
     "1969-12-30T16:00:00Z"},
    {"R-DAYS day start of the epoch (08:00 Taipei)", "1970-01-01T00:00:00Z",
     "1969-12-31T16:00:00Z"},
};
#define NDAY (sizeof(day_cases) / sizeof(day_cases[0]))

/* run_day - policy_local_day_start */
static void
run_day(void **state)
{
    const struct day_case *c = *state;

    check_time("day start", policy_local_day_start(&cur, iso(c->t)),
               c->want);
}

/* ---- R-MONTH: the closure month, clamped to the month's end ---- */

struct month_case {
    const char *name;
    const char *aware;
    int n; /* 0: the policy's close rule (1mo) via policy_dues */
    const char *want; /* UTC, from Python */
};

static const struct month_case month_cases[] = {
    {"R-MONTH Jan 31 2024 -> Feb 29 (leap year)", "2024-01-31T10:00:00+08:00",
     0, "2024-02-29T02:00:00Z"},
    {"R-MONTH Jan 31 2025 -> Feb 28", "2025-01-31T10:00:00+08:00", 0,
     "2025-02-28T02:00:00Z"},
    {"R-MONTH Mar 31 -> Apr 30", "2025-03-31T10:00:00+08:00", 0,
     "2025-04-30T02:00:00Z"},
    {"R-MONTH Dec 31 -> Jan 31 next year", "2024-12-31T10:00:00+08:00", 0,
     "2025-01-31T02:00:00Z"},
    {"R-MONTH 00:30 Taipei Jan 31 (Jan 30 UTC) -> Feb 28 Taipei",
     "2025-01-31T00:30:00+08:00", 0, "2025-02-27T16:30:00Z"},
    {"R-MONTH 07:59:59 Taipei Aug 31 (Aug 30 UTC) -> Sep 30 Taipei",
     "2023-08-31T07:59:59+08:00", 0, "2023-09-29T23:59:59Z"},
    {"R-MONTH 23:30 Taipei Mar 31 -> Apr 30", "2024-03-31T23:30:00+08:00", 0,
     "2024-04-30T15:30:00Z"},
    {"R-MONTH an ordinary day", "2025-03-10T09:15:00+08:00", 0,
     "2025-04-10T01:15:00Z"},
    {"R-MONTH 13mo Jan 31 2023 -> Feb 29 2024", "2023-01-31T10:00:00+08:00",
     13, "2024-02-29T02:00:00Z"},
    {"R-MONTH 12mo Feb 29 2024 -> Feb 28 2025", "2024-02-29T10:00:00+08:00",
     12, "2025-02-28T02:00:00Z"},
    {"R-MONTH 9mo May 31 -> Feb 28", "2024-05-31T08:00:00+08:00", 9,
     "2025-02-28T00:00:00Z"},
};
#define NMONTH (sizeof(month_cases) / sizeof(month_cases[0]))

/* run_month - R-CLOSE through policy_dues, or n months by policy_add_span */
static void
run_month(void **state)
{
    const struct month_case *c = *state;
    struct pol_facts f = facts(3);
    int64_t due[POL_D_N];

    if (c->n == 0) {
        f.aware_us = iso(c->aware);
        policy_dues(&cur, &f, due);
        check_time("close", due[POL_D_CLOSE], c->want);
    } else {
        struct pol_span s = {POL_U_MONTHS, c->n};

        check_time("add_span", policy_add_span(&cur, iso(c->aware), s),
                   c->want);
    }
}

/* test_add_span_edges - NONE, zero, negative, unbounded */
static void
test_add_span_edges(void **state)
{
    int64_t t = iso(AWARE);

    check_time("none", policy_add_span(&cur, t, (struct pol_span){0, 5}),
               NULL);
    check_time("from 0",
               policy_add_span(&cur, 0, (struct pol_span){POL_U_HOURS, 1}),
               NULL);
    check_time("30m",
               policy_add_span(&cur, t, (struct pol_span){POL_U_MINUTES, 30}),
               "2025-03-10T01:45:00Z");
    check_time("negative n",
               policy_add_span(&cur, t, (struct pol_span){POL_U_HOURS, -1}),
               NULL);
    check_time("huge n",
               policy_add_span(&cur, t,
                               (struct pol_span){POL_U_MONTHS, 1 << 30}),
               NULL);
    check_time("unknown unit",
               policy_add_span(&cur, t, (struct pol_span){9, 1}), NULL);
    check_time("forged instant",
               policy_add_span(&cur, INT64_MAX,
                               (struct pol_span){POL_U_MONTHS, 1}),
               NULL);
}

/* ---- a level raised and lowered after the report ---- */

/* test_level_change - R-LEVEL-3: level 1, then 3, then 2. The level-
 * dependent deadlines follow it; report, copy and close do not move. */
static void
test_level_change(void **state)
{
    int64_t d1[POL_D_N], d3[POL_D_N], d2[POL_D_N];
    struct pol_facts f = facts(1);
    static const int moves[] = {POL_D_REVIEW, POL_D_TEAM, POL_D_CONTROL,
                                POL_D_SUPPORT};
    static const int stays[] = {POL_D_REPORT, POL_D_HORIZ, POL_D_CLOSE,
                                POL_D_COPY};

    policy_dues(&cur, &f, d1);
    f.level = 3;
    policy_dues(&cur, &f, d3);
    f.level = 2;
    policy_dues(&cur, &f, d2);

    check_time("review at 1", d1[POL_D_REVIEW], "2025-03-10T09:55:00Z");
    check_time("review at 3", d3[POL_D_REVIEW], "2025-03-10T03:55:00Z");
    check_time("review at 2", d2[POL_D_REVIEW], "2025-03-10T09:55:00Z");
    check_time("team at 3", d3[POL_D_TEAM], "2025-03-10T02:15:00Z");
    check_time("team at 2", d2[POL_D_TEAM], "2025-03-10T04:15:00Z");
    check_time("control at 3", d3[POL_D_CONTROL], "2025-03-11T13:15:00Z");
    check_time("control at 2", d2[POL_D_CONTROL], "2025-03-13T01:15:00Z");
    check_time("support at 3", d3[POL_D_SUPPORT], "2025-03-10T05:30:00Z");
    check_time("support at 2", d2[POL_D_SUPPORT], "2025-03-10T06:30:00Z");
    for (size_t i = 0; i < 4; i++) {
        int d = moves[i];

        if (!(d3[d] < d1[d] && d2[d] == d1[d]))
            fail_msg("%s did not follow the level", policy_deadline_name(d));
        d = stays[i];
        if (!(d1[d] == d3[d] && d3[d] == d2[d] && d1[d] != 0))
            fail_msg("%s moved with the level", policy_deadline_name(d));
    }
}

/* test_dues_applicability - flags and anchors that turn deadlines off */
static void
test_dues_applicability(void **state)
{
    int64_t due[POL_D_N];
    struct pol_facts f = facts(3);

    f.copy = 0;
    f.horiz = 0;
    f.support = 0;
    policy_dues(&cur, &f, due);
    check_time("R-COPY3 off", due[POL_D_COPY], NULL);
    check_time("R-HORIZ off", due[POL_D_HORIZ], NULL);
    check_time("R-SUPPORT off", due[POL_D_SUPPORT], NULL);
    check_time("R-REPORT still on", due[POL_D_REPORT], "2025-03-10T02:15:00Z");

    f = facts(3);
    f.national_review_us = 0; /* support asked, not yet re-reviewed */
    policy_dues(&cur, &f, due);
    check_time("R-SUPPORT before the re-review", due[POL_D_SUPPORT], NULL);
    check_time("R-TEAM unaffected", due[POL_D_TEAM], "2025-03-10T02:15:00Z");

    f = facts(3);
    f.reported_us = 0; /* not reported yet */
    policy_dues(&cur, &f, due);
    check_time("R-REVIEW before the report", due[POL_D_REVIEW], NULL);
    check_time("R-COPY3 before the report", due[POL_D_COPY], NULL);
    check_time("R-REPORT counts from awareness", due[POL_D_REPORT],
               "2025-03-10T02:15:00Z");

    f = facts(3);
    f.aware_us = 0;
    policy_dues(&cur, &f, due);
    check_time("R-REPORT without awareness", due[POL_D_REPORT], NULL);
    check_time("R-CLOSE without awareness", due[POL_D_CLOSE], NULL);
    check_time("R-REVIEW still from the report", due[POL_D_REVIEW],
               "2025-03-10T03:55:00Z");

    for (int level = -1; level <= 5; level += 6) { /* -1 and 5 */
        f = facts(level);
        policy_dues(&cur, &f, due);
        for (int d = 0; d < POL_D_N; d++)
            if (due[d] != 0)
                fail_msg("level %d: %s due", level, policy_deadline_name(d));
    }
    f = facts(0);
    policy_dues(&cur, &f, due);
    for (int d = 0; d < POL_D_N; d++)
        if (due[d] != 0)
            fail_msg("level 0: %s due", policy_deadline_name(d));

    check_time("policy_due d out of range",
               policy_due(&cur, POL_D_N, 1, iso(AWARE)), NULL);
    check_time("policy_due d negative", policy_due(&cur, -1, 1, iso(AWARE)),
               NULL);
    check_time("policy_due anchor 0", policy_due(&cur, POL_D_REPORT, 1, 0),
               NULL);
}

/* test_deadline_names - names, rule IDs and the inverse */
static void
test_deadline_names(void **state)
{
    static const char *const names[POL_D_N] = {
        "report", "horiz", "review", "team", "control", "support", "close",
        "copy"};
    static const char *const ids[POL_D_N] = {
        "R-REPORT",  "R-HORIZ",   "R-REVIEW", "R-TEAM",
        "R-CONTROL", "R-SUPPORT", "R-CLOSE",  "R-COPY3"};

    for (int d = 0; d < POL_D_N; d++) {
        assert_string_equal(policy_deadline_name(d), names[d]);
        assert_string_equal(policy_deadline_rule_id(d), ids[d]);
        assert_int_equal(policy_deadline_parse(names[d]), d);
    }
    assert_null(policy_deadline_name(POL_D_N));
    assert_null(policy_deadline_name(-1));
    assert_null(policy_deadline_rule_id(POL_D_N));
    assert_int_equal(policy_deadline_parse("bogus"), -1);
    assert_int_equal(policy_deadline_parse("Report"), -1);
    assert_int_equal(policy_deadline_parse(""), -1);
    assert_int_equal(policy_deadline_parse(NULL), -1);
}

/* ---- R-PRIORITY ---- */

struct prio_case {
    const char *name;
    int level, sector;
    int want; /* (4 - level) * 16 + rank; rank = row of 000 §柒.二(四) - 1 */
};

static const struct prio_case prio_cases[] = {
    {"R-PRIORITY level 4 defense first", 4, DEFENSE, 0},
    {"R-PRIORITY level 4 ict", 4, ICT, 1},
    {"R-PRIORITY level 4 government", 4, GOVERNMENT, 8},
    {"R-PRIORITY level 4 no sector", 4, NONE, 15},
    {"R-PRIORITY level 3 defense", 3, DEFENSE, 16},
    {"R-PRIORITY level 3 health", 3, HEALTH, 22},
    {"R-PRIORITY level 2 finance", 2, FINANCE, 36},
    {"R-PRIORITY level 2 transport", 2, TRANSPORT, 35},
    {"R-PRIORITY level 1 energy", 1, ENERGY, 50},
    {"R-PRIORITY level 1 disaster_relief", 1, DISASTER_RELIEF, 53},
    {"R-PRIORITY level 1 public_safety", 1, PUBLIC_SAFETY, 55},
    {"R-PRIORITY level 1 no sector", 1, NONE, 63},
    {"R-PRIORITY level 0 defense", 0, DEFENSE, 64},
    {"R-PRIORITY level 0 no sector last", 0, NONE, 79},
    {"R-PRIORITY unknown sector 42 ranks as none", 4, 42, 15},
    {"R-PRIORITY negative sector ranks as none", 2, -3, 47},
    {"R-PRIORITY unknown level 9 sorts as no level", 9, ICT, 65},
    {"R-PRIORITY negative level sorts as no level", -1, NONE, 79},
};
#define NPRIO (sizeof(prio_cases) / sizeof(prio_cases[0]))

/* run_prio - one outbox order byte */
static void
run_prio(void **state)
{
    const struct prio_case *c = *state;

    assert_int_equal(policy_priority(&cur, c->level, c->sector), c->want);
}

/* test_priority_order - a whole queue in the order R-PRIORITY wants it */
static void
test_priority_order(void **state)
{
    static const int order[][2] = {
        {4, DEFENSE}, {4, ICT},           {4, GOVERNMENT}, {4, NONE},
        {3, DEFENSE}, {3, PUBLIC_SAFETY}, {3, NONE},       {2, ENERGY},
        {2, HEALTH},  {1, TRANSPORT},     {1, FINANCE},    {1, NONE},
        {0, DEFENSE}, {0, GOVERNMENT},    {0, NONE},
    };

    for (size_t i = 1; i < sizeof(order) / sizeof(order[0]); i++) {
        unsigned a = policy_priority(&cur, order[i - 1][0], order[i - 1][1]);
        unsigned b = policy_priority(&cur, order[i][0], order[i][1]);

        if (!(a < b))
            fail_msg("level %d sector %d (%u) not before level %d sector %d "
                     "(%u)",
                     order[i - 1][0], order[i - 1][1], a, order[i][0],
                     order[i][1], b);
    }
    /* the 2002 list is the same table */
    for (int s = 0; s < POL_SECTORS; s++)
        assert_int_equal(old.sector_rank[s], cur.sector_rank[s]);
}

/* ---- escalations ---- */

struct esc_case {
    const char *name;
    const struct policy *p;
    int level, ci_sector, personal_data;
    unsigned want;
};

#define NATIONAL (POL_ESC_HOMELAND | POL_ESC_NSC)

static const struct esc_case esc_cases[] = {
    {"R-ESC-CISO none at level 1", &cur, 1, NONE, 0, 0},
    {"R-ESC-CISO none at level 2", &cur, 2, NONE, 0, 0},
    {"R-ESC-CISO R-ESC-NATIONAL at level 3", &cur, 3, NONE, 0,
     POL_ESC_CISO | NATIONAL},
    {"R-ESC-CISO R-ESC-NATIONAL at level 4", &cur, 4, NONE, 0,
     POL_ESC_CISO | NATIONAL},
    {"R-ESC-CISO none without a level", &cur, 0, NONE, 0, 0},
    {"R-ESC-CI energy at level 1 goes to Homeland Security", &cur, 1, ENERGY,
     0, POL_ESC_HOMELAND},
    {"R-ESC-CI defense without a level yet", &cur, 0, DEFENSE, 0,
     POL_ESC_HOMELAND},
    {"R-ESC-CI unknown sector 42 is not CI", &cur, 1, 42, 0, 0},
    {"R-ESC-CI at level 4 adds nothing new", &cur, 4, FINANCE, 0,
     POL_ESC_CISO | NATIONAL},
    {"R-PDPA personal data at level 3", &cur, 3, NONE, 1,
     POL_ESC_CISO | NATIONAL | POL_ESC_PDPA},
    {"R-PDPA personal data at level 4 in a CI sector", &cur, 4, HEALTH, 1,
     POL_ESC_CISO | NATIONAL | POL_ESC_PDPA},
    {"R-PDPA personal data at level 2: not required", &cur, 2, NONE, 1, 0},
    {"R-ESC-CISO 2002: from B (3)", &old, 3, NONE, 0, POL_ESC_CISO},
    {"R-ESC-NATIONAL 2002: offices only at A (4)", &old, 4, NONE, 0,
     POL_ESC_CISO | NATIONAL},
    {"R-ESC-CI 2002: no CI rule", &old, 1, ENERGY, 0, 0},
    {"R-PDPA 2002: never", &old, 4, NONE, 1, POL_ESC_CISO | NATIONAL},
};
#define NESC (sizeof(esc_cases) / sizeof(esc_cases[0]))

/* run_esc - the escalation bits */
static void
run_esc(void **state)
{
    const struct esc_case *c = *state;

    assert_int_equal(policy_escalations(c->p, c->level, c->ci_sector,
                                        c->personal_data),
                     c->want);
}

/* ---- R-DRILL ---- */

/* test_drill_count - at least 1/3 of n, at least one */
static void
test_drill_count(void **state)
{
    static const size_t n[] = {0, 1, 2, 3, 4, 9, 10, 30, 31};
    static const size_t want[] = {0, 1, 1, 1, 2, 3, 4, 10, 11};
    struct policy p = cur;

    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
        if (policy_drill_count(&cur, n[i]) != want[i])
            fail_msg("n=%zu: got %zu, want %zu", n[i],
                     policy_drill_count(&cur, n[i]), want[i]);
    /* no overflow: 2^64 - 1 is divisible by 3 */
    assert_true(policy_drill_count(&cur, SIZE_MAX) == SIZE_MAX / 3);
    p.drill_num = 2;
    p.drill_den = 5;
    assert_int_equal(policy_drill_count(&p, 5), 2);
    assert_int_equal(policy_drill_count(&p, 6), 3); /* ceil(2.4) */
    assert_int_equal(policy_drill_count(&p, 1), 1);
    p.drill_num = p.drill_den = 1;
    assert_int_equal(policy_drill_count(&p, 7), 7);
}

/* check_pick - k distinct indices in 0..n-1 */
static void
check_pick(size_t n, const size_t *picked, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        if (picked[i] >= n)
            fail_msg("n=%zu: index %zu out of range", n, picked[i]);
        for (size_t j = 0; j < i; j++)
            if (picked[j] == picked[i])
                fail_msg("n=%zu: index %zu picked twice", n, picked[i]);
    }
}

/* test_drill_pick - distinct, in range, deterministic for given words */
static void
test_drill_pick(void **state)
{
    static const uint32_t rnd[10] = {7, 3, 100, 5, 0, 0, 0, 0, 0, 0};
    static const uint32_t zeros[10] = {0};
    size_t picked[64], again[64];
    uint32_t words[64];
    uint32_t x = 12345;

    /* known answer for the partial Fisher-Yates of policy.h: step i swaps
     * index i + rnd[i] % (n - i) into place i. By hand: 0<->7, 1<->4,
     * 2<->6 (100 % 8 = 4), 3<->8. */
    assert_int_equal(policy_drill_pick(&cur, 10, rnd, picked), 4);
    assert_int_equal(picked[0], 7);
    assert_int_equal(picked[1], 4);
    assert_int_equal(picked[2], 6);
    assert_int_equal(picked[3], 8);
    assert_int_equal(policy_drill_pick(&cur, 10, rnd, again), 4);
    assert_memory_equal(picked, again, 4 * sizeof(picked[0]));
    assert_int_equal(policy_drill_pick(&cur, 10, zeros, picked), 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(picked[i], i);
    assert_int_equal(policy_drill_pick(&cur, 0, NULL, picked), 0);
    assert_int_equal(policy_drill_pick(&cur, 1, zeros, picked), 1);
    assert_int_equal(picked[0], 0);

    /* many word vectors (a fixed LCG): always distinct and in range */
    for (size_t n = 1; n <= 64; n++) {
        for (int round = 0; round < 20; round++) {
            size_t k;

            for (size_t i = 0; i < n; i++)
                words[i] = x = x * 1103515245u + 12345u;
            k = policy_drill_pick(&cur, n, words, picked);
            assert_int_equal(k, policy_drill_count(&cur, n));
            check_pick(n, picked, k);
        }
    }
}

/* test_drill_scenarios - max(10, k); the scenarios cover levels 1..4 and
 * give every drilled unit at least one */
static void
test_drill_scenarios(void **state)
{
    static const size_t k[] = {0, 1, 4, 9, 10, 11, 30};
    static const size_t want[] = {10, 10, 10, 10, 10, 11, 30};

    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        size_t n = policy_drill_scenarios(&cur, k[i]);
        int level_seen[POL_LEVELS + 1] = {0};

        if (n != want[i])
            fail_msg("k=%zu: got %zu, want %zu", k[i], n, want[i]);
        for (size_t s = 0; s < n; s++)
            level_seen[1 + s % 4] = 1; /* scenario s has level 1 + s % 4 */
        for (int level = 1; level <= POL_LEVELS; level++)
            assert_true(level_seen[level]);
        assert_true(n >= k[i]); /* unit u gets scenario u at least */
    }
    assert_int_equal(cur.drill_num, 1);
    assert_int_equal(cur.drill_den, 3);
    assert_true(cur.drill_window_us == INT64_C(3600000000));
    assert_true(cur.offline_warn_us == INT64_C(1800000000));
}

/* ---- the two policy files ---- */

/* test_default_values - [regime] and [escalation] of default.policy */
static void
test_default_values(void **state)
{
    assert_string_equal(cur.name, "taipei-2022");
    assert_int_equal(cur.tz_offset_s, 8 * 3600);
    assert_string_equal(cur.level_name[1], "1");
    assert_string_equal(cur.level_name[4], "4");
    assert_int_equal(cur.ciso_level, 3);
    assert_int_equal(cur.offices_level, 3);
    assert_int_equal(cur.ci_to_homeland, 1);
    assert_int_equal(cur.pdpa_level, 3);
    assert_int_equal(cur.closure_review_level, 3);
    assert_int_equal(cur.deadline[POL_D_REVIEW].anchor, POL_A_REPORT);
    assert_int_equal(cur.deadline[POL_D_SUPPORT].anchor, POL_A_REVIEW);
    assert_int_equal(cur.deadline[POL_D_COPY].anchor, POL_A_REPORT);
}

/* test_regime_2002 - R-2002 and R-LEVEL-2002 */
static void
test_regime_2002(void **state)
{
    static const char *const names[] = {"", "D", "C", "B", "A"};
    int64_t due[POL_D_N];

    assert_string_equal(old.name, "executive-yuan-2002");
    assert_int_equal(old.tz_offset_s, 8 * 3600);
    for (int level = 1; level <= POL_LEVELS; level++) {
        struct pol_facts f = facts(level);

        assert_string_equal(old.level_name[level], names[level]);
        policy_dues(&old, &f, due);
        check_time("R-2002 report 30 minutes after awareness",
                   due[POL_D_REPORT], "2025-03-10T01:45:00Z");
        /* the 2002 notice sets no other deadline */
        for (int d = 0; d < POL_D_N; d++)
            if (d != POL_D_REPORT && due[d] != 0)
                fail_msg("2002 level %d: %s is due", level,
                         policy_deadline_name(d));
    }
}

/* test_builtin_default - the compiled-in text is the file, byte for byte */
static void
test_builtin_default(void **state)
{
    const char *b = policy_builtin_default();
    struct policy p;
    char err[256];

    assert_non_null(b);
    assert_int_equal(strlen(b), cur_len);
    assert_memory_equal(b, cur_text, cur_len);
    if (policy_parse(b, strlen(b), &p, err, sizeof(err)) != 0)
        fail_msg("builtin: %s", err);
    assert_string_equal(p.name, cur.name);
}

/* test_enum_contract - policy.h's values are proto/relay.proto's */
static void
test_enum_contract(void **state)
{
    assert_int_equal(NON_CORE, RELAY__INFO_CLASS__NON_CORE);
    assert_int_equal(STATE_SECRET, RELAY__INFO_CLASS__STATE_SECRET);
    assert_int_equal(POL_CLASSES, RELAY__INFO_CLASS__STATE_SECRET + 1);
    assert_int_equal(LEAK, RELAY__HARM_KIND__LEAK);
    assert_int_equal(OUTAGE, RELAY__HARM_KIND__OUTAGE);
    assert_int_equal(POL_HARMS, RELAY__HARM_KIND__OUTAGE + 1);
    assert_int_equal(SEVERE, RELAY__SEVERITY__SEVERE);
    assert_int_equal(POL_SEVERITIES, RELAY__SEVERITY__SEVERE + 1);
    assert_int_equal(DEFENSE, RELAY__SECTOR__DEFENSE);
    assert_int_equal(DISASTER_RELIEF, RELAY__SECTOR__DISASTER_RELIEF);
    assert_int_equal(GOVERNMENT, RELAY__SECTOR__GOVERNMENT);
    assert_int_equal(POL_SECTORS, RELAY__SECTOR__GOVERNMENT + 1);
}

/* ---- parse errors ---- */

struct bad_case {
    const char *name;
    const char *text; /* NULL: the default text with drop cut out */
    size_t len;       /* 0: strlen(text) */
    const char *drop; /* a line prefix; a "[section]" line is cut to the end */
    int line;         /* 0: the message has no line ("missing ...") */
    const char *phrase;
};

#define NAME64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const struct bad_case bad_cases[] = {
    {"FORMAT unknown section", "[regime]\nname = x\n\n[bogus]\n", 0, NULL, 4,
     "unknown section [bogus]"},
    {"FORMAT unknown key", "[deadlines]\nreport = 1h 1h 1h 1h from aware\n"
     "foo = 1h\n", 0, NULL, 3, "unknown key 'foo' in [deadlines]"},
    {"FORMAT key of another section", "[drill]\nname = x\n", 0, NULL, 2,
     "unknown key 'name' in [drill]"},
    {"FORMAT duplicate key", "[drill]\nscenarios = 10\n# again\n"
     "scenarios = 12\n", 0, NULL, 4,
     "duplicate key 'scenarios' in [drill] (first on line 2)"},
    {"FORMAT duplicate section", "[drill]\n[offline]\n[drill]\n", 0, NULL, 3,
     "duplicate section [drill]"},
    {"FORMAT key before any section", "; comment\n\nname = x\n", 0, NULL, 3,
     "key 'name' outside a section"},
    {"FORMAT neither header nor key = value", "[drill]\nscenarios 10\n", 0,
     NULL, 2, "expected [section] or key = value"},
    {"FORMAT header without ]", "[regime\n", 0, NULL, 1, "expected ']'"},
    {"FORMAT empty value", "[drill]\nwindow =   ; none\n", 0, NULL, 2,
     "no value for 'window'"},
    {"FORMAT control character", "[regime]\nname = a\x01" "b\n", 0, NULL, 2,
     "control character 0x01"},
    {"FORMAT NUL byte", "[regime]\nname = a\0b\n", 20, NULL, 2,
     "control character 0x00"},
    {"FORMAT lone CR inside a line", "[regime]\rname = x\n", 0, NULL, 1,
     "control character 0x0d"},
    {"FORMAT CRLF lines are counted", "[regime]\r\nname = x\r\n\r\nfoo = y\r\n",
     0, NULL, 4, "unknown key 'foo' in [regime]"},
    {"R-DAYS bad timezone", "[regime]\ntimezone = +8\n", 0, NULL, 2,
     "timezone '+8': expected +HH:MM or -HH:MM"},
    {"R-DAYS timezone beyond 14:00", "[regime]\ntimezone = +14:30\n", 0, NULL,
     2, "timezone '+14:30'"},
    {"R-DAYS timezone minutes 60", "[regime]\ntimezone = -05:60\n", 0, NULL, 2,
     "timezone '-05:60'"},
    {"R-LEVEL-1 level out of range", "[levels]\ncore.leak = 2 5\n", 0, NULL, 2,
     "level '5' out of range 1..4"},
    {"R-LEVEL-1 level 0 in the table", "[levels]\n\ncore.leak = 0 2\n", 0,
     NULL, 3, "level '0' out of range 1..4"},
    {"R-LEVEL-1 level not a number", "[levels]\ncore.leak = two 3\n", 0, NULL,
     2, "level 'two': expected - or 1..4"},
    {"R-LEVEL-1 one level instead of two", "[levels]\ncore.leak = 2\n", 0,
     NULL, 2, "expected 2 levels (minor severe), got 1"},
    {"R-LEVEL-1 unknown class", "[levels]\nsecret.leak = 3 4\n", 0, NULL, 2,
     "unknown key 'secret.leak' in [levels]"},
    {"R-LEVEL-2002 three level names", "[regime]\nlevels = D C B\n", 0, NULL,
     2, "levels: expected 4 names, got 3"},
    {"R-LEVEL-2002 level name twice", "[regime]\nlevels = 1 2 2 4\n", 0, NULL,
     2, "level name '2' used twice"},
    {"FORMAT name over 63 characters", "[regime]\nname = " NAME64 "\n", 0,
     NULL, 2, "name longer than 63 characters"},
    {"R-REVIEW bad span", "[deadlines]\nreview = 8h 3x 2h 2h from report\n", 0,
     NULL, 2, "span '3x': expected -, Nm, Nh, Nd or Nmo"},
    {"R-REVIEW span without a count", "[deadlines]\nreview = h 8h 2h 2h from "
     "report\n", 0, NULL, 2, "span 'h': expected -, Nm, Nh, Nd or Nmo"},
    {"R-REPORT span of zero", "[deadlines]\nreport = 0h 1h 1h 1h from aware\n",
     0, NULL, 2, "span '0h': count out of range 1..99999"},
    {"R-CLOSE span too long", "[deadlines]\nclose = 100000mo - - - from "
     "aware\n", 0, NULL, 2, "span '100000mo': count out of range"},
    {"R-TEAM bad anchor", "[deadlines]\nteam = 3h 3h 1h 1h from noon\n", 0,
     NULL, 2, "anchor 'noon': expected aware, report or review"},
    {"R-TEAM three spans", "[deadlines]\nteam = 3h 3h 1h from aware\n", 0,
     NULL, 2, "expected 4 spans then 'from aware|report|review'"},
    {"R-TEAM no 'from'", "[deadlines]\nteam = 3h 3h 1h 1h aware\n", 0, NULL, 2,
     "expected 4 spans"},
    {"R-TEAM five spans", "[deadlines]\nteam = 3h 3h 1h 1h 1h from aware\n", 0,
     NULL, 2, "expected 4 spans"},
    {"R-ESC-CISO level out of range", "[escalation]\nciso_level = 5\n", 0,
     NULL, 2, "level '5' out of range 0..4"},
    {"R-ESC-CI not yes or no", "[escalation]\nci_to_homeland = maybe\n", 0,
     NULL, 2, "value 'maybe': expected yes or no"},
    {"R-PRIORITY unknown sector", "[priority]\nsectors = defense farming\n", 0,
     NULL, 2, "unknown sector 'farming'"},
    {"R-PRIORITY duplicate sector", "[priority]\nsectors = defense ict "
     "defense\n", 0, NULL, 2, "sector 'defense' listed twice"},
    {"R-PRIORITY sector none", "[priority]\nsectors = none\n", 0, NULL, 2,
     "sector 'none' cannot be ranked"},
    {"R-DRILL fraction with zero denominator", "[drill]\nfraction = 1/0\n", 0,
     NULL, 2, "fraction '1/0' has a zero denominator"},
    {"R-DRILL fraction over 1", "[drill]\nfraction = 4/3\n", 0, NULL, 2,
     "fraction '4/3' is greater than 1"},
    {"R-DRILL fraction of zero", "[drill]\nfraction = 0/3\n", 0, NULL, 2,
     "fraction '0/3' is zero"},
    {"R-DRILL fraction not N/D", "[drill]\nfraction = one third\n", 0, NULL, 2,
     "fraction 'one third': expected N/D"},
    {"R-DRILL no scenarios", "[drill]\nscenarios = 0\n", 0, NULL, 2,
     "scenarios '0': expected 1..1000"},
    {"R-DRILL window in days", "[drill]\nwindow = 1d\n", 0, NULL, 2,
     "duration '1d': expected Nm or Nh"},
    {"R-OFFLINE warn_before not a duration", "[offline]\nwarn_before = "
     "soon\n", 0, NULL, 2, "duration 'soon': expected Nm or Nh"},
    {"FORMAT empty text", "", 0, NULL, 0, "missing section [regime]"},
    {"R-COPY3 missing key", NULL, 0, "copy = ", 0, "missing [deadlines] copy"},
    {"R-LEVEL-1 missing table row", NULL, 0, "state_secret.outage", 0,
     "missing [levels] state_secret.outage"},
    {"R-OFFLINE missing section", NULL, 0, "[offline]", 0,
     "missing section [offline]"},
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* cut_default - the default text without the line starting with drop (or,
 * for a "[section]", without everything from that line on) */
static char *
cut_default(const char *drop, size_t *len)
{
    size_t dn = strlen(drop), at = 0, end;
    char *buf = malloc(cur_len + 1);

    assert_non_null(buf);
    while (at < cur_len && !(strncmp(cur_text + at, drop, dn) == 0 &&
                             (at == 0 || cur_text[at - 1] == '\n')))
        at++;
    if (at == cur_len)
        fail_msg("'%s' is not in default.policy", drop);
    end = at;
    if (drop[0] == '[')
        end = cur_len;
    else
        while (end < cur_len && cur_text[end++] != '\n')
            ;
    memcpy(buf, cur_text, at);
    memcpy(buf + at, cur_text + end, cur_len - end);
    *len = at + (cur_len - end);
    return buf;
}

/* run_bad - the parse fails with the exact line and the key phrase */
static void
run_bad(void **state)
{
    const struct bad_case *c = *state;
    char err[256], prefix[32];
    struct policy p;
    char *buf = NULL;
    const char *text = c->text;
    size_t len = c->len;
    int rc;

    if (text == NULL)
        text = buf = cut_default(c->drop, &len);
    else if (len == 0)
        len = strlen(text);
    rc = policy_parse(text, len, &p, err, sizeof(err));
    free(buf);
    assert_int_equal(rc, -1);
    if (c->line > 0) {
        snprintf(prefix, sizeof(prefix), "line %d: ", c->line);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fail_msg("got \"%s\", want the prefix \"%s\"", err, prefix);
        if (strstr(err, c->phrase) == NULL)
            fail_msg("got \"%s\", want \"%s\" in it", err, c->phrase);
    } else {
        assert_string_equal(err, c->phrase);
    }
}

/* test_overlong_line - 512 characters pass, 513 fail on their line */
static void
test_overlong_line(void **state)
{
    char text[1024], err[256];
    struct policy p;
    size_t n;

    /* line 3 is a comment of exactly 512 characters */
    n = (size_t)snprintf(text, sizeof(text), "[regime]\nname = x\n");
    memset(text + n, '#', 512);
    n += 512;
    text[n++] = '\n';
    assert_int_equal(policy_parse(text, n, &p, err, sizeof(err)), -1);
    assert_string_equal(err, "missing [regime] timezone"); /* got past it */

    /* one more on line 3, with CRLF (the CR does not count) */
    n -= 1;
    text[n++] = '#';
    text[n++] = '\r';
    text[n++] = '\n';
    assert_int_equal(policy_parse(text, n, &p, err, sizeof(err)), -1);
    assert_string_equal(err, "line 3: longer than 512 characters");
}

/* policies_equal - every field the parser sets */
static void
policies_equal(const struct policy *a, const struct policy *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->tz_offset_s, b->tz_offset_s);
    for (int level = 1; level <= POL_LEVELS; level++)
        assert_string_equal(a->level_name[level], b->level_name[level]);
    assert_memory_equal(a->table, b->table, sizeof(a->table));
    for (int d = 0; d < POL_D_N; d++) {
        assert_int_equal(a->deadline[d].anchor, b->deadline[d].anchor);
        for (int level = 1; level <= POL_LEVELS; level++) {
            assert_int_equal(a->deadline[d].by_level[level].unit,
                             b->deadline[d].by_level[level].unit);
            assert_int_equal(a->deadline[d].by_level[level].n,
                             b->deadline[d].by_level[level].n);
        }
    }
    assert_int_equal(a->ciso_level, b->ciso_level);
    assert_int_equal(a->offices_level, b->offices_level);
    assert_int_equal(a->ci_to_homeland, b->ci_to_homeland);
    assert_int_equal(a->pdpa_level, b->pdpa_level);
    assert_int_equal(a->closure_review_level, b->closure_review_level);
    assert_memory_equal(a->sector_rank, b->sector_rank, sizeof(a->sector_rank));
    assert_int_equal(a->drill_num, b->drill_num);
    assert_int_equal(a->drill_den, b->drill_den);
    assert_int_equal(a->drill_scenarios, b->drill_scenarios);
    assert_true(a->drill_window_us == b->drill_window_us);
    assert_true(a->offline_warn_us == b->offline_warn_us);
}

/* test_crlf_and_comments - the default text with CRLF line ends (it has
 * trailing comments on most lines) parses to the same policy; so does a
 * text with a UTF-8 byte order mark, and one that is not NUL-terminated */
static void
test_crlf_and_comments(void **state)
{
    char *crlf = malloc(2 * cur_len + 4);
    char *tail = malloc(cur_len + 32);
    struct policy p;
    char err[256];
    size_t n = 0;

    assert_non_null(crlf);
    assert_non_null(tail);
    for (size_t i = 0; i < cur_len; i++) {
        if (cur_text[i] == '\n')
            crlf[n++] = '\r';
        crlf[n++] = cur_text[i];
    }
    if (policy_parse(crlf, n, &p, err, sizeof(err)) != 0)
        fail_msg("CRLF: %s", err);
    policies_equal(&p, &cur);

    memcpy(crlf, "\xef\xbb\xbf", 3);
    memcpy(crlf + 3, cur_text, cur_len);
    if (policy_parse(crlf, cur_len + 3, &p, err, sizeof(err)) != 0)
        fail_msg("BOM: %s", err);
    policies_equal(&p, &cur);

    /* garbage after len must not be read */
    memcpy(tail, cur_text, cur_len);
    memcpy(tail + cur_len, "[bogus]\nx", 9);
    if (policy_parse(tail, cur_len, &p, err, sizeof(err)) != 0)
        fail_msg("len-bounded: %s", err);
    policies_equal(&p, &cur);

    free(crlf);
    free(tail);
}

/* test_error_buffer - small or absent buffers are safe */
static void
test_error_buffer(void **state)
{
    static const char bad[] = "[bogus]\n";
    struct policy p;
    char err[10];

    memset(err, 'z', sizeof(err));
    assert_int_equal(policy_parse(bad, sizeof(bad) - 1, &p, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "line 1: u"); /* cut and NUL-terminated */
    assert_int_equal(policy_parse(bad, sizeof(bad) - 1, &p, NULL, 0), -1);
    assert_int_equal(policy_parse(bad, sizeof(bad) - 1, &p, err, 0), -1);
    assert_int_equal(policy_parse(NULL, 0, &p, NULL, 0), -1);
}

/* ROWS - append one named test per row of a case table */
#define ROWS(arr, fn)                                                          \
    for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++)                  \
        tests[n++] = (struct CMUnitTest){arr[i].name, fn, NULL, NULL,          \
                                         (void *)&arr[i]}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_level_2002_table),
        cmocka_unit_test(test_days_other_zone),
        cmocka_unit_test(test_add_span_edges),
        cmocka_unit_test(test_level_change),
        cmocka_unit_test(test_dues_applicability),
        cmocka_unit_test(test_deadline_names),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_drill_count),
        cmocka_unit_test(test_drill_pick),
        cmocka_unit_test(test_drill_scenarios),
        cmocka_unit_test(test_default_values),
        cmocka_unit_test(test_regime_2002),
        cmocka_unit_test(test_builtin_default),
        cmocka_unit_test(test_enum_contract),
        cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_crlf_and_comments),
        cmocka_unit_test(test_error_buffer),
    };
    struct CMUnitTest tests[NLEVEL + NCOMBO + NDUE + NCOPY + NDAY + NMONTH +
                            NPRIO + NESC + NBAD +
                            sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    ROWS(level_cases, run_level);
    ROWS(combo_cases, run_combo);
    ROWS(due_cases, run_due);
    ROWS(copy_cases, run_copy);
    ROWS(day_cases, run_day);
    ROWS(month_cases, run_month);
    ROWS(prio_cases, run_prio);
    ROWS(esc_cases, run_esc);
    ROWS(bad_cases, run_bad);
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    return _cmocka_run_group_tests("policy", tests, n, setup_policies,
                                   teardown_policies);
}
