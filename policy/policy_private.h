/*
 * policy_private.h - what the policy_*.c files share and callers do not see.
 *
 * The library is pure: no file, clock, socket, environment or allocation.
 * These constants are the units and bounds every file agrees on.
 */
#ifndef RELAY_POLICY_PRIVATE_H
#define RELAY_POLICY_PRIVATE_H

#include <stdint.h>

#define POL_US_MINUTE INT64_C(60000000)
#define POL_US_HOUR (60 * POL_US_MINUTE)
#define POL_US_DAY (24 * POL_US_HOUR)

/* The longest line policy_parse accepts, without its "\n" or "\r\n". */
#define POL_LINE_MAX 512

/* The largest count of a span ("99999h"). A policy file cannot ask for
 * more, and policy_add_span refuses more from a hand-built struct, so that
 * n * unit never overflows. */
#define POL_SPAN_MAX 99999

/* Instants further than this from the epoch (2^60 µs, about 36,500 years)
 * are refused by the calendar functions: with at most POL_SPAN_MAX months
 * or hours added, every intermediate value then fits in an int64_t. Real
 * report times are nowhere near; a forged one must not cause overflow. */
#define POL_TIME_LIMIT (INT64_C(1) << 60)

#endif
