/*
 * config.c - load and check a node configuration.
 *
 * DIAGNOSTICS: unknown keys, unknown sections, values out of range, missing
 * required keys and contradictions between keys (a root with an upstream, a
 * child without one) are all reported with file, line and key.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ini_lines.h"
#include "keys.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_TIER, CFG_KEY, CFG_CLOCK };

struct cfg_row {
    const char *key;
    enum cfg_type type;
    size_t off;
    const char *def; /* NULL: required */
    int64_t min, max;
};

#define OFF(f) offsetof(struct config, f)
#define OPT "" /* optional string, empty by default */

static const struct cfg_row cfg_table[] = {
    {"id", CFG_STR, OFF(id), NULL, 1, 63},
    {"tier", CFG_TIER, OFF(tier), NULL, 0, 0},
    {"listen", CFG_STR, OFF(listen), OPT, 0, CONFIG_STR - 1},
    {"upstream", CFG_STR, OFF(upstream), OPT, 0, CONFIG_STR - 1},
    {"upstream_key", CFG_KEY, OFF(upstream_key), OPT, 0, 0},
    {"store", CFG_STR, OFF(store), NULL, 1, CONFIG_STR - 1},
    {"key", CFG_STR, OFF(key), NULL, 1, CONFIG_STR - 1},
    {"directory", CFG_STR, OFF(directory), NULL, 1, CONFIG_STR - 1},
    {"root_key", CFG_KEY, OFF(root_key), OPT, 0, 0},
    {"policy", CFG_STR, OFF(policy), OPT, 0, CONFIG_STR - 1},
    {"clock", CFG_CLOCK, 0, "system", 0, 0},
    {"map_mb", CFG_INT, OFF(map_mb), "64", 1, 1 << 20},
    {"map_max_mb", CFG_INT, OFF(map_max_mb), "4096", 1, 1 << 20},
    {"max_message_bytes", CFG_INT, OFF(max_message_bytes), "262144", 1024, 16 << 20},
    {"batch_max", CFG_INT, OFF(batch_max), "256", 1, 10000},
    {"batch_bytes", CFG_INT, OFF(batch_bytes), "1048576", 4096, 256 << 20},
    {"retry_min_ms", CFG_INT, OFF(retry_min_ms), "100", 1, 3600000},
    {"retry_max_ms", CFG_INT, OFF(retry_max_ms), "30000", 1, 3600000},
    {"link_timeout_ms", CFG_INT, OFF(link_timeout_ms), "10000", 100, 3600000},
    {"poll_hold_ms", CFG_INT, OFF(poll_hold_ms), "30000", 10, 600000},
    {"link_workers", CFG_INT, OFF(link_workers), "32", 2, 1024},
    {"link_pipeline", CFG_INT, OFF(link_pipeline), "0", 0, 1},
    {"control_workers", CFG_INT, OFF(control_workers), "16", 1, 1024},
    {"debug", CFG_INT, OFF(debug), "0", 0, 1},
    {"max_age_s", CFG_INT, OFF(max_age_s), "604800", 60, 31622400},
    {"max_future_s", CFG_INT, OFF(max_future_s), "300", 1, 31622400},
    {"held_retry_min_ms", CFG_INT, OFF(held_retry_min_ms), "30000", 10, 86400000},
    {"held_retry_max_ms", CFG_INT, OFF(held_retry_max_ms), "3600000", 10, 86400000},
    {"max_skew_s", CFG_INT, OFF(max_skew_s), "60", 1, 31622400},
    {"api_socket", CFG_STR, OFF(api_socket), NULL, 1, CONFIG_SUN_PATH - 1},
    {"http_listen", CFG_STR, OFF(http_listen), OPT, 0, 63},
    {"tls_cert", CFG_STR, OFF(tls_cert), OPT, 0, CONFIG_STR - 1},
    {"tls_key", CFG_STR, OFF(tls_key), OPT, 0, CONFIG_STR - 1},
    {"session_idle_s", CFG_INT, OFF(session_idle_s), "1800", 1, 86400},
};
#define CFG_N (sizeof(cfg_table) / sizeof(cfg_table[0]))

struct cfg_load {
    struct config *c;
    struct ini_lines il;
    const char *path;
    char *err;
    size_t errlen, used;
    int nerr;
    int seen[CFG_N];
};

static const char *tier_names[] = {"none", "agency", "city", "ministry",
                                   "national", "office"};

/* config_tier_name - enum to text */
const char *
config_tier_name(int tier)
{
    if (tier < 0 || tier > TIER_OFFICE)
        return "none";
    return tier_names[tier];
}

/* config_tier_parse - text to enum */
int
config_tier_parse(const char *s)
{
    for (int i = 1; i <= TIER_OFFICE; i++)
        if (strcmp(s, tier_names[i]) == 0)
            return i;
    return TIER_NONE;
}

/* cfg_error - record one problem */
static void
cfg_error(struct cfg_load *L, int line, const char *key, const char *fmt,
          const char *arg)
{
    char msg[256];
    int n;

    snprintf(msg, sizeof(msg), fmt, arg);
    if (line > 0)
        n = snprintf(L->err + L->used, L->errlen - L->used,
                     "%s:%d: key '%s': %s\n", L->path, line, key, msg);
    else
        n = snprintf(L->err + L->used, L->errlen - L->used,
                     "%s: key '%s': %s\n", L->path, key, msg);
    if (n > 0 && L->used + (size_t)n < L->errlen)
        L->used += (size_t)n;
    L->nerr++;
}

/* cfg_set - parse one value according to its row */
static int
cfg_set(struct cfg_load *L, const struct cfg_row *r, const char *v, int line)
{
    char *base = (char *)L->c;
    char *end;
    long long n;

    switch (r->type) {
    case CFG_STR:
        if ((int64_t)strlen(v) < r->min || (int64_t)strlen(v) > r->max) {
            cfg_error(L, line, r->key, "%s", r->min > 0 && !*v ?
                      "must not be empty" : "value too long");
            return -1;
        }
        strcpy(base + r->off, v);
        return 0;
    case CFG_INT:
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end != '\0') {
            cfg_error(L, line, r->key, "'%s' is not an integer", v);
            return -1;
        }
        if (n < r->min || n > r->max) {
            char rng[96];
            snprintf(rng, sizeof(rng), "%lld is out of range %lld..%lld", n,
                     (long long)r->min, (long long)r->max);
            cfg_error(L, line, r->key, "%s", rng);
            return -1;
        }
        *(int64_t *)(base + r->off) = n;
        return 0;
    case CFG_TIER:
        L->c->tier = config_tier_parse(v);
        if (L->c->tier == TIER_NONE) {
            cfg_error(L, line, r->key,
                      "'%s' is not one of agency, city, ministry, national, office", v);
            return -1;
        }
        return 0;
    case CFG_KEY:
        if (*v == '\0')
            return 0;
        if (keys_unhex(v, (uint8_t *)L->c + r->off, 32) != 0) {
            cfg_error(L, line, r->key, "%s", "must be 64 hex digits (a public key)");
            return -1;
        }
        if (r->off == OFF(upstream_key))
            L->c->have_upstream_key = 1;
        else
            L->c->have_root_key = 1;
        return 0;
    case CFG_CLOCK:
        if (strcmp(v, "system") == 0) {
            L->c->clock_manual = 0;
            return 0;
        }
        if (strncmp(v, "manual:", 7) == 0 &&
            clock_parse_iso(v + 7, &L->c->clock_start_us) == 0) {
            L->c->clock_manual = 1;
            return 0;
        }
        cfg_error(L, line, r->key, "'%s' is neither 'system' nor 'manual:<ISO 8601 time>'", v);
        return -1;
    }
    return -1;
}

/* cfg_handler - inih callback: one key of the [node] section */
static int
cfg_handler(void *user, const char *section, const char *name,
            const char *value)
{
    struct cfg_load *L = user;
    int line = L->il.line;

    if (strcmp(section, "node") != 0) {
        cfg_error(L, line, name, "unknown section [%s] (only [node])", section);
        return 1;
    }
    for (size_t i = 0; i < CFG_N; i++) {
        if (strcmp(cfg_table[i].key, name) != 0)
            continue;
        if (L->seen[i]) {
            cfg_error(L, line, name, "%s", "given twice");
            return 1;
        }
        L->seen[i] = line;
        if (L->il.long_line == line) {
            /* inih cut the value: refuse it rather than use a part of it */
            char msg[64];
            snprintf(msg, sizeof(msg), "line longer than %d bytes",
                     L->il.max_line);
            cfg_error(L, line, name, "%s", msg);
            return 1;
        }
        cfg_set(L, &cfg_table[i], value, line);
        return 1;
    }
    cfg_error(L, line, name, "%s", "unknown key");
    return 1;
}

/* cfg_line - the line a key was given on, 0 if defaulted */
static int
cfg_line(const struct cfg_load *L, const char *key)
{
    for (size_t i = 0; i < CFG_N; i++)
        if (strcmp(cfg_table[i].key, key) == 0)
            return L->seen[i];
    return 0;
}

/* config_check_urls - the schemes a start needs: a start with any other
 * fails only after the store is open, so --check must say it first */
static void
config_check_urls(struct cfg_load *L)
{
    static const struct {
        const char *key, *scheme, *what;
    } rows[] = {
        {"upstream", "tcp://", "must be a tcp:// URL (the parent's listen address)"},
        {"listen", "tcp://", "must be a tcp:// URL (where children dial in)"},
    };
    const struct config *c = L->c;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *v = strcmp(rows[i].key, "upstream") == 0 ? c->upstream : c->listen;
        if (*v && strncmp(v, rows[i].scheme, strlen(rows[i].scheme)) != 0)
            cfg_error(L, cfg_line(L, rows[i].key), rows[i].key, "%s", rows[i].what);
    }
}

/* config_check_http - the HTTP listeners: http_listen is IPv4:PORT, and any
 * address but 127.0.0.1 needs both TLS files (issue 10 item 1); an idle
 * expiry under a minute only on the controlled clock (tests) */
static void
config_check_http(struct cfg_load *L)
{
    const struct config *c = L->c;
    char host[64];
    int line = cfg_line(L, "http_listen");

    if (c->http_listen[0]) {
        uint8_t ip[4];
        int port;
        if (config_http_addr(c->http_listen, host, sizeof(host), ip, &port) != 0) {
            cfg_error(L, line, "http_listen", "'%s' is not IPV4:PORT (e.g. 127.0.0.1:8080)",
                      c->http_listen);
        } else if (strcmp(host, "127.0.0.1") != 0 && (!c->tls_cert[0] || !c->tls_key[0])) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%s is not 127.0.0.1: it needs TLS, and %s missing",
                     host, !c->tls_cert[0] && !c->tls_key[0] ? "tls_cert and tls_key are"
                           : !c->tls_cert[0]               ? "tls_cert is"
                                                           : "tls_key is");
            cfg_error(L, line, "http_listen", "%s", msg);
        }
    }
    if (!c->tls_cert[0] != !c->tls_key[0])
        cfg_error(L, cfg_line(L, c->tls_cert[0] ? "tls_cert" : "tls_key"),
                  c->tls_cert[0] ? "tls_key" : "tls_cert", "%s",
                  "missing: tls_cert and tls_key go together");
    if ((c->tls_cert[0] || c->tls_key[0]) && !c->http_listen[0])
        cfg_error(L, cfg_line(L, c->tls_cert[0] ? "tls_cert" : "tls_key"),
                  c->tls_cert[0] ? "tls_cert" : "tls_key", "%s",
                  "given without http_listen (TLS is for the TCP listener)");
    if (c->session_idle_s < 60 && !c->clock_manual)
        cfg_error(L, cfg_line(L, "session_idle_s"), "session_idle_s", "%s",
                  "below 60 only with a controlled clock (clock = manual:..., tests)");
}

/* config_http_addr - split "A.B.C.D:PORT": host text, its 4 bytes, port */
int
config_http_addr(const char *s, char *host, size_t hostlen, uint8_t ip[4], int *port)
{
    const char *colon = strrchr(s, ':');
    unsigned a[4];
    char *end;
    long p;
    int used = 0;

    if (colon == NULL || (size_t)(colon - s) >= hostlen)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (sscanf(host, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) != 4 ||
        host[used] != '\0')
        return -1;
    for (int i = 0; i < 4; i++) {
        if (a[i] > 255)
            return -1;
        ip[i] = (uint8_t)a[i];
    }
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end != '\0' || p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

/* config_key_line - the line key was given on in c's file, 0 if defaulted */
int
config_key_line(const struct config *c, const char *key)
{
    for (size_t i = 0; i < CFG_N && i < CONFIG_KEYS; i++)
        if (strcmp(cfg_table[i].key, key) == 0)
            return c->lines[i];
    return 0;
}

/* config_load - read, default, check */
int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
    struct cfg_load L;
    int rc;

    memset(c, 0, sizeof(*c));
    memset(&L, 0, sizeof(L));
    L.c = c;
    L.path = path;
    L.err = err;
    L.errlen = errlen;
    err[0] = '\0';
    snprintf(c->path, sizeof(c->path), "%s", path);

    rc = ini_lines_parse(path, &L.il, cfg_handler, &L);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot open: %s\n", path, strerror(errno));
        return RL_ECONFIG;
    }
    if (rc > 0 && L.nerr == 0)
        cfg_error(&L, rc, "-", "%s", "syntax error (expected 'key = value' or '[section]')");

    for (size_t i = 0; i < CFG_N; i++) {
        if (L.seen[i])
            continue;
        if (cfg_table[i].def == NULL)
            cfg_error(&L, 0, cfg_table[i].key, "%s", "missing (required in [node])");
        else
            cfg_set(&L, &cfg_table[i], cfg_table[i].def, 0);
    }
    if (c->tier == TIER_NATIONAL && c->upstream[0])
        cfg_error(&L, cfg_line(&L, "upstream"), "upstream", "%s",
                  "the national tier is the root and has no upstream");
    if (c->tier != TIER_NATIONAL && c->tier != TIER_NONE && !c->upstream[0])
        cfg_error(&L, 0, "upstream", "%s", "required for every tier but national");
    if (c->upstream[0] && !c->have_upstream_key)
        cfg_error(&L, 0, "upstream_key", "%s", "required when upstream is set");
    if (c->tier != TIER_AGENCY && c->tier != TIER_OFFICE && c->tier != TIER_NONE && !c->listen[0])
        cfg_error(&L, 0, "listen", "%s", "required for tiers that have children");
    config_check_urls(&L);
    for (size_t i = 0; i < CFG_N && i < CONFIG_KEYS; i++)
        c->lines[i] = L.seen[i];
    if (c->map_max_mb < c->map_mb)
        cfg_error(&L, cfg_line(&L, "map_max_mb"), "map_max_mb", "%s",
                  "must not be below map_mb");
    if (c->retry_max_ms < c->retry_min_ms)
        cfg_error(&L, cfg_line(&L, "retry_max_ms"), "retry_max_ms", "%s",
                  "must not be below retry_min_ms");
    config_check_http(&L);
    if (c->held_retry_max_ms < c->held_retry_min_ms)
        cfg_error(&L, cfg_line(&L, "held_retry_max_ms"), "held_retry_max_ms", "%s",
                  "must not be below held_retry_min_ms");
    return L.nerr ? RL_ECONFIG : RL_OK;
}

/* config_frame_max - the largest link frame: a batch of batch_bytes, plus
 * one envelope that may take it over, plus framing */
size_t
config_frame_max(const struct config *c)
{
    return (size_t)(c->batch_bytes + c->max_message_bytes + 64 * c->batch_max + 65536);
}
