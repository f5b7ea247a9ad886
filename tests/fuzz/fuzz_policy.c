/*
 * fuzz_policy.c - libFuzzer target: the policy file parser, and the pure
 * rules of a policy that parsed.
 *
 * The input is the text of a policy file. When it parses, the policy is
 * asked for due times, advised levels, priorities, escalations and drill
 * picks with values derived from the input (a hash of it seeds a
 * generator, so every input asks different questions) and with the edge
 * values a forged report could carry (0, +-1, +-2^60, INT64_MIN/MAX,
 * levels and enums out of range).
 *
 * Invariants checked: the error message is NUL-terminated inside its
 * buffer; minute and hour spans are exact; no span goes backwards; a
 * local day start lies within the day before t; priorities stay within
 * 0..79; a drill picks k distinct units of 0..n-1.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US_MIN INT64_C(60000000)
#define US_DAY (INT64_C(24) * 60 * US_MIN)
#define LIMIT (INT64_C(1) << 60)

static const int64_t edge_times[] = {
    0, 1, -1, FUZZ_NOW_US, -FUZZ_NOW_US, LIMIT - 1, LIMIT, LIMIT + 1,
    -LIMIT + 1, -LIMIT, -LIMIT - 1, INT64_MAX, INT64_MIN, INT64_MAX - 1,
    INT64_MIN + 1, US_DAY - 1, -US_DAY,
};
#define N_EDGE (sizeof(edge_times) / sizeof(edge_times[0]))

static const int edge_ints[] = {INT_MIN, -1, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, INT_MAX};
#define N_EDGE_INT (sizeof(edge_ints) / sizeof(edge_ints[0]))

/* pick_time - an edge time or a random one, near now or anywhere */
static int64_t
pick_time(uint64_t *s)
{
    uint64_t r = fuzz_mix(s);

    switch (r & 3) {
    case 0:
        return edge_times[(r >> 2) % N_EDGE];
    case 1:
        return FUZZ_NOW_US + (int64_t)(fuzz_mix(s) % (UINT64_C(400) * 86400000000)) -
               INT64_C(200) * 86400000000;
    default:
        return (int64_t)fuzz_mix(s);
    }
}

/* pick_int - an edge int or a random one */
static int
pick_int(uint64_t *s)
{
    uint64_t r = fuzz_mix(s);

    return r & 1 ? edge_ints[(r >> 1) % N_EDGE_INT] : (int)(uint32_t)(r >> 32);
}

/* check_span - policy_add_span against what a span means */
static void
check_span(const struct policy *p, int64_t from, struct pol_span sp)
{
    int64_t t = policy_add_span(p, from, sp);

    if (t == 0)
        return;
    FUZZ_CHECK(from > -LIMIT && from < LIMIT && sp.n >= 0 && sp.n <= 99999,
               "a span applies only to instants and counts in range");
    if (sp.unit == POL_U_MINUTES)
        FUZZ_CHECK(t == from + sp.n * US_MIN, "minutes are exact");
    else if (sp.unit == POL_U_HOURS)
        FUZZ_CHECK(t == from + sp.n * 60 * US_MIN, "hours are exact");
    else if (sp.unit == POL_U_DAYS && sp.n >= 1)
        FUZZ_CHECK(t > from && t <= from + sp.n * US_DAY, "days end after the anchor, within n days");
    else if (sp.unit == POL_U_MONTHS)
        FUZZ_CHECK(t >= from && t - from <= (int64_t)sp.n * 31 * US_DAY,
                   "months never go backwards, at most 31 days each");
}

/* check_day - policy_local_day_start */
static void
check_day(const struct policy *p, int64_t t)
{
    int64_t d = policy_local_day_start(p, t);

    if (t <= -LIMIT || t >= LIMIT) {
        FUZZ_CHECK(d == 0, "no day start out of range");
        return;
    }
    FUZZ_CHECK(d <= t && t - d < US_DAY, "the day start lies within a day before t");
}

/* questions - ask a parsed policy what a node would ask it */
static void
questions(const struct policy *p, uint64_t s)
{
    struct pol_harm h[16];
    struct pol_facts f;
    int64_t due[POL_D_N];
    uint32_t rnd[64];
    size_t picked[64];

    /* edges: every level with every edge anchor */
    for (int level = -1; level <= POL_LEVELS + 1; level++)
        for (size_t i = 0; i < N_EDGE; i++) {
            memset(&f, 0, sizeof(f));
            f.aware_us = f.reported_us = f.national_review_us = edge_times[i];
            f.level = level;
            f.copy = f.horiz = f.support = 1;
            policy_dues(p, &f, due);
            for (int d = 0; d < POL_D_N; d++) {
                if (level < 1 || level > POL_LEVELS || edge_times[i] == 0)
                    FUZZ_CHECK(due[d] == 0, "no due time without a level and an anchor");
                check_span(p, edge_times[i], p->deadline[d].by_level[level < 1 || level > POL_LEVELS ? 1 : level]);
            }
            check_day(p, edge_times[i]);
        }
    /* random facts */
    for (int k = 0; k < 16; k++) {
        uint64_t r = fuzz_mix(&s);

        f.aware_us = pick_time(&s);
        f.reported_us = pick_time(&s);
        f.national_review_us = pick_time(&s);
        f.level = pick_int(&s);
        f.copy = r & 1;
        f.horiz = (r >> 1) & 1;
        f.support = (r >> 2) & 1;
        policy_dues(p, &f, due);
        for (int d = 0; d < POL_D_N; d++)
            (void)policy_due(p, pick_int(&s), pick_int(&s), pick_time(&s));
        check_span(p, pick_time(&s),
                   (struct pol_span){.unit = (int)(r >> 8) % 6, .n = pick_int(&s)});
        check_span(p, pick_time(&s),
                   (struct pol_span){.unit = (int)(r >> 16) % 6, .n = (int)(fuzz_mix(&s) % 100000)});
        check_day(p, pick_time(&s));
        (void)policy_escalations(p, pick_int(&s), pick_int(&s), (int)(r >> 24) & 1);
        FUZZ_CHECK(policy_priority(p, pick_int(&s), pick_int(&s)) <= 79, "priority within 0..79");
    }
    for (int level = -1; level <= POL_LEVELS + 1; level++)
        for (int sector = -1; sector <= POL_SECTORS; sector++) {
            FUZZ_CHECK(policy_priority(p, level, sector) <= 79, "priority within 0..79");
            (void)policy_escalations(p, level, sector, 1);
        }
    /* R-LEVEL-1: every class, kind and severity, in range or not */
    for (int cls = -1; cls <= POL_CLASSES; cls++)
        for (int kind = -1; kind <= POL_HARMS; kind++)
            for (int sev = -1; sev <= POL_SEVERITIES; sev++) {
                int lv;

                h[0] = (struct pol_harm){kind, cls, sev};
                lv = policy_advise_level(p, h, 1);
                FUZZ_CHECK(lv >= 0 && lv <= POL_LEVELS, "advised level within 0..4");
            }
    for (size_t i = 0; i < 16; i++)
        h[i] = (struct pol_harm){pick_int(&s), pick_int(&s), pick_int(&s)};
    FUZZ_CHECK(policy_advise_level(p, h, 16) <= POL_LEVELS, "advised level within 0..4");
    FUZZ_CHECK(policy_advise_level(p, h, 0) == 0, "no harms, no level");
    /* R-DRILL */
    for (size_t n = 0; n <= 64; n += 1 + (size_t)(fuzz_mix(&s) % 9)) {
        size_t k;

        for (size_t i = 0; i < n; i++)
            rnd[i] = (uint32_t)fuzz_mix(&s);
        k = policy_drill_pick(p, n, rnd, picked);
        FUZZ_CHECK(k == policy_drill_count(p, n) && k <= n && (n == 0 || k >= 1),
                   "a drill picks between 1 and n units");
        for (size_t i = 0; i < k; i++) {
            FUZZ_CHECK(picked[i] < n, "a picked unit exists");
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(picked[i] != picked[j], "picked units are distinct");
        }
        FUZZ_CHECK(policy_drill_scenarios(p, k) >= k, "at least one scenario per unit");
    }
    (void)policy_drill_count(p, SIZE_MAX);
    (void)policy_drill_count(p, (size_t)fuzz_mix(&s));
    for (int d = -1; d <= POL_D_N; d++) {
        const char *name = policy_deadline_name(d);

        FUZZ_CHECK((name == NULL) == (d < 0 || d >= POL_D_N), "deadline names in range");
        if (name != NULL)
            FUZZ_CHECK(policy_deadline_parse(name) == d && policy_deadline_rule_id(d) != NULL,
                       "deadline names parse back");
    }
}

/* LLVMFuzzerTestOneInput - one policy file */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t errlens[4] = {1, 24, 128, 1024};
    uint64_t h = fuzz_hash(data, size);
    size_t errlen = errlens[h & 3];
    char *err = malloc(errlen);
    struct policy p;
    int rc;

    FUZZ_CHECK(err != NULL, "memory");
    rc = policy_parse((const char *)data, size, &p, err, errlen);
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL, "err is NUL-terminated");
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && (errlen == 1 || err[0] != '\0'), "a refused policy says why");
    } else {
        FUZZ_CHECK(memchr(p.name, '\0', sizeof(p.name)) != NULL, "the name is a string");
        for (int l = 1; l <= POL_LEVELS; l++)
            FUZZ_CHECK(memchr(p.level_name[l], '\0', sizeof(p.level_name[l])) != NULL,
                       "level names are strings");
        questions(&p, h);
    }
    free(err);
    return 0;
}
