/*
 * policy.h - the notification rules (../shared/RULES.md) as data plus pure
 * functions.
 *
 * A policy file is text a jurisdiction can edit (policy/default.policy is
 * the current regime, policy/regime-2002.policy the 2002 one). Nothing in
 * this library reads a file, a clock or a socket: the caller passes the
 * text in, and every time computation takes its anchor or `now` as an
 * argument. That is what lets tests run a 72-hour deadline in microseconds
 * and lets `relayctl advise` answer without a running node.
 *
 * Enum values below equal the protobuf enums of proto/relay.proto
 * (InfoClass, HarmKind, Severity, Sector), so callers pass those through.
 *
 * DIAGNOSTICS: policy_parse names the first bad line ("line 12: ...").
 */
#ifndef RELAY_POLICY_H
#define RELAY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POL_LEVELS 4     /* levels 1..4, 4 the most severe (R-LEVEL-1) */
#define POL_CLASSES 7    /* Relay__InfoClass 1..6 */
#define POL_HARMS 4      /* Relay__HarmKind 1..3 */
#define POL_SEVERITIES 3 /* Relay__Severity 1..2 */
#define POL_SECTORS 10   /* Relay__Sector 0..9 */
#define POL_RANK_NONE 15 /* sector rank of SECTOR_NONE and unlisted sectors */

/* The deadlines of the RULES.md table, in this order. */
enum pol_deadline {
    POL_D_REPORT,  /* R-REPORT: report acknowledged by the reporting target */
    POL_D_HORIZ,   /* R-HORIZ: horizontal notice acknowledged by every affected agency */
    POL_D_REVIEW,  /* R-REVIEW: supervisor's level review */
    POL_D_TEAM,    /* R-TEAM: response team formed */
    POL_D_CONTROL, /* R-CONTROL: damage controlled or recovered */
    POL_D_SUPPORT, /* R-SUPPORT: technical support dispatched */
    POL_D_CLOSE,   /* R-CLOSE: closure report filed */
    POL_D_COPY,    /* R-COPY3: copy acknowledged by the city bureau */
    POL_D_N
};

/* What a deadline counts from. */
enum pol_anchor {
    POL_A_AWARE,   /* awareness (知悉), IncidentReport.aware_us */
    POL_A_REPORT,  /* the report, IncidentReport.reported_us */
    POL_A_REVIEW,  /* the national center's re-review */
};

/* Units of a span. DAYS are Asia/Taipei calendar days counting the anchor's
 * day (R-DAYS): "3d" from day D ends at local midnight starting day D+3.
 * MONTHS are calendar months (R-MONTH): the same local day and time of day
 * n months later, clamped to the month's last day. */
enum pol_unit { POL_U_NONE, POL_U_MINUTES, POL_U_HOURS, POL_U_DAYS, POL_U_MONTHS };

struct pol_span {
    int unit; /* enum pol_unit; POL_U_NONE: the deadline does not apply */
    int n;
};

struct pol_deadline_rule {
    struct pol_span by_level[POL_LEVELS + 1]; /* [1..4]; [0] unused */
    int anchor;                               /* enum pol_anchor */
};

/* Escalations (R-ESC-*, R-PDPA), as a bit mask. */
enum pol_esc {
    POL_ESC_CISO = 1,     /* R-ESC-CISO: the supervisor's CISO */
    POL_ESC_HOMELAND = 2, /* R-ESC-NATIONAL, R-ESC-CI: Homeland Security Office */
    POL_ESC_NSC = 4,      /* R-ESC-NATIONAL: NSC ICT Security Office */
    POL_ESC_PDPA = 8,     /* R-PDPA: data-subject notification task */
};

struct policy {
    char name[64];          /* [regime] name */
    int tz_offset_s;        /* R-DAYS: local time = UTC + this; no DST */
    char level_name[POL_LEVELS + 1][16]; /* [1..4], e.g. "1".."4" or "D".."A" */
    /* R-LEVEL-1: [class][harm][severity] -> level 1..4; 0: no entry */
    unsigned char table[POL_CLASSES][POL_HARMS][POL_SEVERITIES];
    struct pol_deadline_rule deadline[POL_D_N];
    int ciso_level;           /* R-ESC-CISO from this level up; 0: never */
    int offices_level;        /* R-ESC-NATIONAL from this level up; 0: never */
    int ci_to_homeland;       /* R-ESC-CI: a CI-sector incident, any level */
    int pdpa_level;           /* R-PDPA from this level up; 0: never */
    int closure_review_level; /* R-CLOSE-REVIEW from this level up; 0: never */
    unsigned char sector_rank[POL_SECTORS]; /* R-PRIORITY: 0 first; POL_RANK_NONE last */
    int drill_num, drill_den; /* R-DRILL: fraction of units drilled, at least */
    int drill_scenarios;      /* R-DRILL: scenarios per drill, at least */
    int64_t drill_window_us;  /* R-DRILL: report, response and closure within */
    int64_t offline_warn_us;  /* R-OFFLINE: warn this long before the report is due */
};

/* One harm of a report form (R-LEVEL-1): Relay__HarmKind, Relay__InfoClass,
 * Relay__Severity values. */
struct pol_harm {
    int kind;
    int cls;
    int severity;
};

/* The facts deadlines are computed from. Times are µs since the epoch,
 * UTC; 0 means "not yet" and every deadline anchored on it is 0 too. */
struct pol_facts {
    int64_t aware_us;
    int64_t reported_us;
    int64_t national_review_us;
    int level;   /* the level deadlines use: reviewed if reviewed, else claimed */
    int copy;    /* R-COPY3 applies: the reporting target is central and the agency has a city */
    int horiz;   /* R-HORIZ applies: other agencies or a CI sector are affected */
    int support; /* R-SUPPORT applies: the report asks for support */
};

/* policy_parse - parse a policy file's text into *p. On success returns 0
 * and *p is complete; on failure returns -1, writes "line N: what is wrong"
 * (or "what is missing" for a required key) into err and leaves *p
 * undefined. No memory is allocated either way. */
int policy_parse(const char *text, size_t len, struct policy *p, char *err,
                 size_t errlen);

/* policy_builtin_default - the text of policy/default.policy, compiled in,
 * NUL-terminated; static storage. */
const char *policy_builtin_default(void);

/* policy_advise_level - R-LEVEL-1: the maximum over the harms' table
 * entries; 0 when no harm has an entry (or n == 0). */
int policy_advise_level(const struct policy *p, const struct pol_harm *h,
                        size_t n);

/* policy_add_span - from_us plus span s, in the policy's time zone;
 * 0 when s.unit is POL_U_NONE or from_us is 0. (Also 0, rather than an
 * overflow, for s.n outside 0..99999 or from_us beyond +-2^60 µs.) */
int64_t policy_add_span(const struct policy *p, int64_t from_us,
                        struct pol_span s);

/* policy_due - the due time of deadline d for an incident at level, from
 * its anchor time; 0 when the rule does not apply at that level, the level
 * is outside 1..4 or anchor_us is 0. */
int64_t policy_due(const struct policy *p, int d, int level, int64_t anchor_us);

/* policy_dues - every due time of an incident; due[d] is 0 where the
 * deadline does not apply (copy without f->copy, horiz without f->horiz,
 * support without f->support) or its anchor has not happened. */
void policy_dues(const struct policy *p, const struct pol_facts *f,
                 int64_t due[POL_D_N]);

/* policy_deadline_name - "report", "horiz", "review", "team", "control",
 * "support", "close", "copy"; NULL out of range. */
const char *policy_deadline_name(int d);
/* policy_deadline_parse - the inverse; -1 when unknown. */
int policy_deadline_parse(const char *name);
/* policy_deadline_rule_id - "R-REPORT", "R-HORIZ", ... "R-COPY3";
 * NULL out of range. */
const char *policy_deadline_rule_id(int d);

/* policy_priority - R-PRIORITY outbox order byte: lower leaves first. By
 * level (4 first; 0 = no level, last), then sector rank:
 * (4 - level) * 16 + rank, with rank POL_RANK_NONE for no/unknown sector. */
unsigned char policy_priority(const struct policy *p, int level, int sector);

/* policy_escalations - the POL_ESC_* a incident at level (max of claimed
 * and reviewed) requires. ci_sector is Relay__Sector (0: none). Drills are
 * the caller's business (R-DRILL: they never escalate as real). */
unsigned policy_escalations(const struct policy *p, int level, int ci_sector,
                            int personal_data);

/* policy_drill_count - R-DRILL: how many of n units to drill:
 * ceil(n * drill_num / drill_den), at least 1 when n > 0. */
size_t policy_drill_count(const struct policy *p, size_t n);
/* policy_drill_pick - choose policy_drill_count(n) distinct indices of
 * 0..n-1 into picked[] (room for n), by a partial Fisher-Yates shuffle
 * driven by rnd[0..n-1] (caller's random words). Returns the count. */
size_t policy_drill_pick(const struct policy *p, size_t n, const uint32_t *rnd,
                         size_t *picked);
/* policy_drill_scenarios - number of scenarios for k drilled units:
 * max(drill_scenarios, k); scenario i has level 1 + i % 4 and goes to unit
 * i % k. */
size_t policy_drill_scenarios(const struct policy *p, size_t k);

/* policy_local_day_start - start (UTC µs) of the local calendar day holding t.
 * (0 for t beyond +-2^60 µs, as policy_add_span.) */
int64_t policy_local_day_start(const struct policy *p, int64_t t);

#endif
