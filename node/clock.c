/*
 * clock.c - wall clock, manual clock, ISO 8601 conversions.
 *
 * The manual clock is an atomic so that the control thread can move it
 * while the writer and timer threads read it.
 */
#include "clock.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int clock_manual;
static _Atomic int64_t clock_manual_us;

/* clock_use_manual - freeze the clock at start_us */
void
clock_use_manual(int64_t start_us)
{
    atomic_store(&clock_manual_us, start_us);
    atomic_store(&clock_manual, 1);
}

/* clock_is_manual - whether the clock is controlled */
int
clock_is_manual(void)
{
    return atomic_load(&clock_manual);
}

/* clock_set_us - move the controlled clock */
int
clock_set_us(int64_t now_us)
{
    if (!atomic_load(&clock_manual))
        return -1;
    atomic_store(&clock_manual_us, now_us);
    return 0;
}

/* clock_now_us - current time in microseconds since the epoch */
int64_t
clock_now_us(void)
{
    struct timespec ts;

    if (atomic_load(&clock_manual))
        return atomic_load(&clock_manual_us);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* clock_mono_ms - monotonic milliseconds */
int64_t
clock_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (int)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* digits - read exactly n decimal digits */
static int
digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* clock_parse_iso - strict ISO 8601 with a mandatory zone */
int
clock_parse_iso(const char *s, int64_t *out_us)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se, frac = 0, oh = 0, om = 0, sign = 0;
    const char *p = s;

    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
        *p++ != '-' || digits(&p, 2, &d) || (*p != 'T' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
        *p++ != ':' || digits(&p, 2, &se))
        return -1;
    if (*p == '.') {
        int n = 0;
        p++;
        while (isdigit((unsigned char)*p)) {
            if (n < 6) {
                frac = frac * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            return -1;
        while (n++ < 6)
            frac *= 10;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
            return -1;
    } else {
        return -1;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        h > 23 || mi > 59 || se > 60 || oh > 23 || om > 59)
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    secs -= sign * (oh * 3600 + om * 60);
    *out_us = secs * 1000000 + frac;
    return 0;
}

/* clock_format_iso - UTC with microseconds */
void
clock_format_iso(int64_t us, char *buf, unsigned long len)
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    struct tm tm;

    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    /* four-digit year always (strftime's %Y gives "279" for year 279),
     * so that clock_parse_iso reads back what is written here */
    snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, frac);
}
