/*
 * log.h - one line per event on stderr.
 *
 * Format: "2026-11-21T04:05:06.123456Z <node> <severity> <text>". Callers put
 * the message id and the peer in the text: "msg=<id> peer=<node> <what>".
 * log_fatal exits with status 1 (unusable environment); log_panic aborts
 * (broken invariant).
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#define RL_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* log_init - set the node name shown on every line; the string is copied. */
void log_init(const char *node);
/* log_set_debug - enable or disable debug lines. */
void log_set_debug(int on);

void log_debug(const char *fmt, ...) RL_PRINTF(1, 2);
void log_info(const char *fmt, ...) RL_PRINTF(1, 2);
void log_warn(const char *fmt, ...) RL_PRINTF(1, 2);
void log_fatal(const char *fmt, ...) RL_PRINTF(1, 2) __attribute__((noreturn));
void log_panic(const char *fmt, ...) RL_PRINTF(1, 2) __attribute__((noreturn));

#endif
