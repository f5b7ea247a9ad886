/*
 * plan.h - what the policy makes of one report in one federation.
 *
 * policy/ knows the rules but not the federation; the directory knows the
 * federation but not the rules. plan.c joins them for a report: its advised
 * level (R-LEVEL-2), its destinations (R-UP, R-COPY3), the horizontal notice
 * (R-HORIZ), the escalations the national node will send (R-ESC-*, R-PDPA)
 * and every due time. The node uses it when a report is filed and stored;
 * `relayctl advise` prints it without a running node. Both therefore agree.
 */
#ifndef RELAY_PLAN_H
#define RELAY_PLAN_H

#include <stddef.h>
#include <jansson.h>
#include <stdint.h>

#include "directory.h"
#include "err.h"

#include "policy.h"
#include "relay.pb-c.h"

#define PLAN_HARM_CHUNK 64 /* harms read per policy call; all are read */

struct plan {
    int claimed, advised;     /* R-LEVEL-2 */
    int below_advised;        /* claimed < advised: accepted, flagged */
    const char *target;       /* the reporting target */
    const char *national;
    const char *city;         /* R-COPY3: the city owed a copy, or NULL */
    const char *report_to[3]; /* target, national, city */
    size_t nreport_to;
    const char **horiz_to;    /* R-HORIZ: affected agencies, CI group (heap) */
    size_t nhoriz;
    const char *ci_group;     /* R-HORIZ: the sector's CI group, or NULL */
    unsigned esc;             /* POL_ESC_* the national node will send */
    const char *esc_to[4];    /* per bit, in POL_ESC_* order; NULL: no such node */
    unsigned esc_advised;     /* what the advised level would require (advise) */
    int64_t due[POL_D_N];     /* 0: does not apply */
};

/* plan_report - plan report r by author (a directory id). Pointers in *out
 * point into d and stay valid while d lives. Every affected agency and every
 * harm counts: nothing is left out (issue 9 item 2). Returns RL_OK, and the
 * caller releases *out with plan_free; or RL_EINVAL with the problem in err
 * (author unknown or without a reporting target, an affected agency that is
 * not in the directory) or RL_ENOMEM, with nothing allocated. */
int plan_report(const struct policy *p, const struct directory *d,
                const char *author, const Relay__IncidentReport *r, int drill,
                struct plan *out, char *err, size_t errlen) RL_MUST_CHECK;

/* plan_free - release what plan_report allocated (the horizontal list);
 * safe on a zeroed or already released plan. */
void plan_free(struct plan *pl);

/* plan_esc_target - the node an escalation bit goes to, for an incident by
 * author whose reporting target is target; NULL when the directory has none. */
const char *plan_esc_target(const struct directory *d, unsigned bit,
                            const char *author, const char *target);
/* plan_json - the plan as JSON (what relayctl advise and POST
 * /api/v1/advise show): {"ok", "policy", "claimed_level", "advised_level",
 * "below_advised", "report_to", "copy_to", "horizontal_to", "escalations",
 * "escalations_at_advised_level", "dues"}. */
json_t *plan_json(const struct policy *p, const struct plan *pl);
/* plan_esc_name - "ciso", "homeland", "nsc", "pdpa"; plan_esc_rule - its rule ID. */
const char *plan_esc_name(unsigned bit);
const char *plan_esc_rule(unsigned bit);

/* plan_record_facts - the policy facts of a stored incident record. */
void plan_record_facts(const Relay__IncidentRecord *r, struct pol_facts *f);

/* plan_due_role - what self does with deadline which of incident r:
 * 0 not tracked here, 1 tracked (shown), 2 owned (tracked, and self sends
 * the overdue notice). The author owns report, horiz and copy (it alone
 * sees their receipts); the national node owns the others. */
int plan_due_role(const struct directory *d, const char *self,
                  const Relay__IncidentRecord *r, int which);

/* plan_level - the level deadlines use (reviewed, else claimed), and the
 * level escalations use (the higher of the two). */
int plan_level(const Relay__IncidentRecord *r);
/* plan_dues_run - an incident's due times still run: it is neither closed,
 * closing nor withdrawn (what list --overdue, /metrics and the router judge
 * by). */
int plan_dues_run(const Relay__IncidentRecord *r);
int plan_esc_level(const Relay__IncidentRecord *r);

#endif
