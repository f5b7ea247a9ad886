/*
 * clock.h - the one place the node reads the time of day.
 *
 * In system mode clock_now_us() is CLOCK_REALTIME. In manual mode (config
 * "clock = manual:<ISO 8601>") time stands still at the given instant and
 * moves only when clock_set_us() is called (relayctl clock set/advance), so
 * tests run deadlines of hours and days in milliseconds. Timeouts and
 * retry backoff are mechanics, not policy, and use CLOCK_MONOTONIC instead.
 */
#ifndef RELAY_CLOCK_H
#define RELAY_CLOCK_H

#include <stdint.h>

/* clock_use_manual - switch to manual mode at the given instant. */
void clock_use_manual(int64_t start_us);
/* clock_is_manual - 1 in manual mode. */
int clock_is_manual(void);
/* clock_set_us - move the manual clock (ignored in system mode); returns 0 or -1. */
int clock_set_us(int64_t now_us);
/* clock_now_us - microseconds since the Unix epoch, UTC. */
int64_t clock_now_us(void);
/* clock_mono_ms - monotonic milliseconds, for timeouts only. */
int64_t clock_mono_ms(void);

/* clock_parse_iso - parse "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)"; 0 or -1. */
int clock_parse_iso(const char *s, int64_t *out_us);
/* clock_format_iso - format as "YYYY-MM-DDTHH:MM:SS.ffffffZ" into buf (>= 32 bytes). */
void clock_format_iso(int64_t us, char *buf, unsigned long len);

#endif
