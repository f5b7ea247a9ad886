/*
 * policy_calendar.c - spans added to instants in the policy's time zone
 * (R-DAYS, R-MONTH).
 *
 * The zone is a fixed offset from UTC (struct policy.tz_offset_s; Taipei
 * is +08:00 and has had no daylight saving since 1979), so local time is
 * plain arithmetic: no libc time zone functions, no TZ variable, no
 * tables. Calendar dates use the proleptic Gregorian days-from-civil
 * algorithms (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
 *
 * DIAGNOSTICS: none; an instant that cannot be computed safely (zero,
 * beyond POL_TIME_LIMIT) or a span that does not apply gives 0, which
 * callers already read as "no deadline".
 *
 * SECURITY: instants may come from another node's report; they are
 * bounded before any arithmetic so that no signed overflow can occur.
 */
#include "policy.h"
#include "policy_private.h"

/* floor_div - a / b rounded towards minus infinity (b > 0) */
static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && a < 0)
        q--;
    return q;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;                                  /* [0, 399] */
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* civil_from_days - the inverse of days_from_civil */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097; /* [0, 146096] */
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* days_in_month - 28..31 for month m (1..12) of year y */
static int
days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

/* in_range - whether t is an instant the calendar code accepts */
static int
in_range(int64_t t)
{
    return t > -POL_TIME_LIMIT && t < POL_TIME_LIMIT;
}

/* policy_local_day_start - start (UTC µs) of the local day holding t */
int64_t
policy_local_day_start(const struct policy *p, int64_t t)
{
    int64_t off = (int64_t)p->tz_offset_s * 1000000;

    if (!in_range(t))
        return 0;
    return floor_div(t + off, POL_US_DAY) * POL_US_DAY - off;
}

/* add_months - same local day (clamped) and time of day, n months later */
static int64_t
add_months(const struct policy *p, int64_t from_us, int n)
{
    int64_t off = (int64_t)p->tz_offset_s * 1000000;
    int64_t local = from_us + off;
    int64_t day = floor_div(local, POL_US_DAY);
    int64_t tod = local - day * POL_US_DAY; /* [0, one day) */
    int64_t y, months;
    int m, d;

    civil_from_days(day, &y, &m, &d);
    months = y * 12 + (m - 1) + n;
    y = floor_div(months, 12);
    m = (int)(months - y * 12) + 1;
    if (d > days_in_month(y, m))
        d = days_in_month(y, m); /* R-MONTH: Jan 31 + 1mo = Feb 28 or 29 */
    return days_from_civil(y, m, d) * POL_US_DAY + tod - off;
}

/* policy_add_span - from_us plus span s, in the policy's time zone */
int64_t
policy_add_span(const struct policy *p, int64_t from_us, struct pol_span s)
{
    if (from_us == 0 || !in_range(from_us) || s.n < 0 || s.n > POL_SPAN_MAX)
        return 0;
    switch (s.unit) {
    case POL_U_MINUTES:
        return from_us + s.n * POL_US_MINUTE;
    case POL_U_HOURS:
        return from_us + s.n * POL_US_HOUR;
    case POL_U_DAYS:
        /* R-DAYS: the anchor's local day counts as day 1, so "3d" from
         * any time on day D ends at the local midnight that starts D+3. */
        return policy_local_day_start(p, from_us) + s.n * POL_US_DAY;
    case POL_U_MONTHS:
        return add_months(p, from_us, s.n);
    default: /* POL_U_NONE or garbage: the deadline does not apply */
        return 0;
    }
}
