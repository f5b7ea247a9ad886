/*
 * policy_level.c - what follows from an incident's level: the advised
 * level (R-LEVEL-1), the outbox order (R-PRIORITY) and the escalations
 * (R-ESC-CISO, R-ESC-NATIONAL, R-ESC-CI, R-PDPA).
 *
 * DIAGNOSTICS: none. Values outside their enums (a class 9, a sector 42,
 * a level 7) come from other nodes' forms and are treated as "nothing
 * known": no table entry, no sector rank, no level.
 */
#include "policy.h"

/* policy_advise_level - R-LEVEL-1: the highest table entry over the harms */
int
policy_advise_level(const struct policy *p, const struct pol_harm *h, size_t n)
{
    int level = 0;

    for (size_t i = 0; i < n; i++) {
        int entry;

        if (h[i].cls < 1 || h[i].cls >= POL_CLASSES || h[i].kind < 1 ||
            h[i].kind >= POL_HARMS || h[i].severity < 1 ||
            h[i].severity >= POL_SEVERITIES)
            continue; /* unspecified or unknown: no entry */
        entry = p->table[h[i].cls][h[i].kind][h[i].severity];
        if (entry > level)
            level = entry;
    }
    return level;
}

/* policy_priority - R-PRIORITY outbox order byte, lower leaves first */
unsigned char
policy_priority(const struct policy *p, int level, int sector)
{
    int rank = POL_RANK_NONE;

    if (level < 0 || level > POL_LEVELS)
        level = 0; /* unknown level sorts with "no level yet", last */
    if (sector > 0 && sector < POL_SECTORS)
        rank = p->sector_rank[sector];
    /* 4 bits of rank below the level: (4 - 4) * 16 + 0 = 0 first,
     * (4 - 0) * 16 + 15 = 79 last */
    return (unsigned char)((POL_LEVELS - level) * 16 + rank);
}

/* reaches - whether level is at or above threshold; threshold 0: never */
static int
reaches(int level, int threshold)
{
    return threshold > 0 && level >= threshold;
}

/* policy_escalations - the POL_ESC_* bits an incident requires */
unsigned
policy_escalations(const struct policy *p, int level, int ci_sector,
                   int personal_data)
{
    unsigned esc = 0;

    if (reaches(level, p->ciso_level))
        esc |= POL_ESC_CISO; /* R-ESC-CISO (004 §3.2(一)) */
    /* R-ESC-NATIONAL (004 §3.3(三)): both national offices */
    if (reaches(level, p->offices_level))
        esc |= POL_ESC_HOMELAND | POL_ESC_NSC;
    if (p->ci_to_homeland && ci_sector > 0 && ci_sector < POL_SECTORS)
        esc |= POL_ESC_HOMELAND; /* R-ESC-CI (004 §4.3(二)), at any level */
    if (personal_data && reaches(level, p->pdpa_level))
        esc |= POL_ESC_PDPA; /* R-PDPA (002 §23(二)) */
    return esc;
}
