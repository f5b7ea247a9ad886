/*
 * policy_drill.c - R-DRILL: how many units to drill, which ones, and how
 * many scenarios (004 §5.2.1(三)4-5).
 *
 * The library draws no random numbers itself: the caller passes its own
 * random words, so a drill is reproducible from them (and tests can pin
 * the choice).
 *
 * DIAGNOSTICS: none.
 */
#include "policy.h"

/* policy_drill_count - ceil(n * num / den), at least 1 when n > 0 */
size_t
policy_drill_count(const struct policy *p, size_t n)
{
    size_t num = (size_t)p->drill_num, den = (size_t)p->drill_den;
    size_t q, r, k;

    if (n == 0)
        return 0;
    if (p->drill_num <= 0 || p->drill_den <= 0)
        return 1; /* no usable fraction: the minimum of one unit */
    if (num >= den)
        return n; /* a fraction of 1 (or more, in a hand-built struct) */
    /* n * num could overflow; split n = q * den + r, then
     * n * num / den = q * num + r * num / den, where q * num < n and
     * r * num < den * num < 2^62 */
    q = n / den;
    r = n % den;
    k = q * num + (r * num + den - 1) / den;
    return k < 1 ? 1 : k;
}

/* policy_drill_pick - k distinct indices of 0..n-1 by partial Fisher-Yates */
size_t
policy_drill_pick(const struct policy *p, size_t n, const uint32_t *rnd,
                  size_t *picked)
{
    size_t k = policy_drill_count(p, n);

    for (size_t i = 0; i < n; i++)
        picked[i] = i;
    /* step i swaps a uniformly chosen index of picked[i..n-1] into place
     * i (up to the small modulo bias of a 32-bit word), so picked[0..k-1]
     * are k distinct units */
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)rnd[i] % (n - i);
        size_t t = picked[i];

        picked[i] = picked[j];
        picked[j] = t;
    }
    return k;
}

/* policy_drill_scenarios - max(drill_scenarios, k) */
size_t
policy_drill_scenarios(const struct policy *p, size_t k)
{
    size_t min = p->drill_scenarios > 0 ? (size_t)p->drill_scenarios : 0;

    return k > min ? k : min;
}
