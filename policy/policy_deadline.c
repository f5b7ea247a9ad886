/*
 * policy_deadline.c - the deadlines of an incident (R-REPORT .. R-COPY3):
 * names, rule IDs, and due times from the facts of the incident.
 *
 * A due time is the anchor (awareness, report or national re-review) plus
 * the span the policy gives for the incident's level; policy_calendar.c
 * does the arithmetic. A deadline that does not apply is 0, never a guess:
 * a level outside 1..4, an anchor that has not happened, a '-' in the
 * policy, or a condition of the incident (R-COPY3, R-HORIZ, R-SUPPORT)
 * that does not hold.
 *
 * DIAGNOSTICS: none; out-of-range arguments give 0 or NULL.
 */
#include <string.h>

#include "policy.h"

static const char *const deadline_names[POL_D_N] = {
    "report", "horiz", "review", "team", "control", "support", "close", "copy",
};

static const char *const deadline_rule_ids[POL_D_N] = {
    "R-REPORT",  "R-HORIZ",   "R-REVIEW", "R-TEAM",
    "R-CONTROL", "R-SUPPORT", "R-CLOSE",  "R-COPY3",
};

/* policy_deadline_name - the policy file's name of deadline d */
const char *
policy_deadline_name(int d)
{
    return d >= 0 && d < POL_D_N ? deadline_names[d] : NULL;
}

/* policy_deadline_parse - the deadline called name, or -1 */
int
policy_deadline_parse(const char *name)
{
    if (name == NULL)
        return -1;
    for (int d = 0; d < POL_D_N; d++)
        if (strcmp(name, deadline_names[d]) == 0)
            return d;
    return -1;
}

/* policy_deadline_rule_id - the RULES.md ID of deadline d, NULL out of range */
const char *
policy_deadline_rule_id(int d)
{
    return d >= 0 && d < POL_D_N ? deadline_rule_ids[d] : NULL;
}

/* policy_due - due time of deadline d at level, from its anchor time */
int64_t
policy_due(const struct policy *p, int d, int level, int64_t anchor_us)
{
    if (d < 0 || d >= POL_D_N || level < 1 || level > POL_LEVELS ||
        anchor_us == 0)
        return 0;
    return policy_add_span(p, anchor_us, p->deadline[d].by_level[level]);
}

/* anchor_time - the instant a deadline rule counts from, 0 if not yet */
static int64_t
anchor_time(const struct pol_facts *f, int anchor)
{
    switch (anchor) {
    case POL_A_AWARE:
        return f->aware_us;
    case POL_A_REPORT:
        return f->reported_us;
    case POL_A_REVIEW:
        return f->national_review_us;
    default:
        return 0;
    }
}

/* policy_dues - every due time of an incident, 0 where none applies */
void
policy_dues(const struct policy *p, const struct pol_facts *f,
            int64_t due[POL_D_N])
{
    for (int d = 0; d < POL_D_N; d++) {
        int applies = (d != POL_D_COPY || f->copy) &&
                      (d != POL_D_HORIZ || f->horiz) &&
                      (d != POL_D_SUPPORT || f->support);

        due[d] = applies ? policy_due(p, d, f->level,
                                      anchor_time(f, p->deadline[d].anchor))
                         : 0;
    }
}
