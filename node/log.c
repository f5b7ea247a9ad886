/*
 * log.c - severity-tagged event lines on stderr.
 *
 * Each line is formatted into one buffer and written with one write(2), so
 * lines from different threads never interleave. Timestamps are wall-clock
 * (not the controlled clock): they say when the process did something.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_node[64] = "-";
static int log_debug_on;

/* log_init - remember the node name */
void
log_init(const char *node)
{
    snprintf(log_node, sizeof(log_node), "%s", node);
}

/* log_set_debug - toggle debug output */
void
log_set_debug(int on)
{
    log_debug_on = on;
}

/* log_vline - format and write one line */
static void
log_vline(const char *sev, const char *fmt, va_list ap)
{
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%06ldZ %s %s ",
                          ts.tv_nsec / 1000, log_node, sev);
    if (n < sizeof(buf)) {
        int k = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
        if (k > 0)
            n += (size_t)k;
    }
    if (n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    if (write(STDERR_FILENO, buf, n) < 0) {
        /* nowhere left to report a failed log write */
    }
}

#define LOG_BODY(sev)                                                      \
    va_list ap;                                                            \
    va_start(ap, fmt);                                                     \
    log_vline(sev, fmt, ap);                                               \
    va_end(ap)

void
log_debug(const char *fmt, ...)
{
    if (!log_debug_on)
        return;
    LOG_BODY("debug");
}

void
log_info(const char *fmt, ...)
{
    LOG_BODY("info");
}

void
log_warn(const char *fmt, ...)
{
    LOG_BODY("warn");
}

void
log_fatal(const char *fmt, ...)
{
    LOG_BODY("fatal");
    exit(1);
}

void
log_panic(const char *fmt, ...)
{
    LOG_BODY("panic");
    abort();
}
