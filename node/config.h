/*
 * config.h - the node's configuration: one struct, one file.
 *
 * The file is INI with one [node] section. Every key is described by one row
 * of the table in config.c ({key, default, min, max}). Errors name the file,
 * the line and the key; they are all counted and reported, then loading
 * fails.
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CONFIG_STR 256
#define CONFIG_KEYS 48
#define CONFIG_SUN_PATH 108 /* sizeof(sockaddr_un.sun_path) on Linux */ /* at least the rows of config.c's table */

enum tier {
    TIER_NONE = 0,
    TIER_AGENCY = 1,
    TIER_CITY = 2,
    TIER_MINISTRY = 3,
    TIER_NATIONAL = 4,
    TIER_OFFICE = 5,
};

struct config {
    char path[CONFIG_STR];
    char id[64];
    int tier;                  /* enum tier */
    char listen[CONFIG_STR];   /* where children dial in; empty for a leaf */
    char upstream[CONFIG_STR]; /* parent's listen URL; empty at the root */
    uint8_t upstream_key[32];  /* parent's public key */
    int have_upstream_key;
    char store[CONFIG_STR];     /* LMDB directory */
    char key[CONFIG_STR];       /* secret key file */
    char directory[CONFIG_STR]; /* signed directory to start from (node/dirlog.h) */
    uint8_t root_key[32];       /* the national root key that signs the directory */
    int have_root_key;          /* relay-node refuses to start without it */
    char policy[CONFIG_STR];    /* policy file; empty: the built-in default */
    int clock_manual;           /* "clock = manual:<ISO 8601>" */
    int64_t clock_start_us;
    int64_t map_mb;             /* initial LMDB map size */
    int64_t map_max_mb;         /* the map never grows beyond this */
    int64_t max_message_bytes;  /* larger envelopes are refused */
    int64_t batch_max;          /* envelopes per link request */
    int64_t batch_bytes;        /* ... and their bytes (one larger envelope may go alone) */
    int64_t retry_min_ms;       /* link backoff, first delay */
    int64_t retry_max_ms;       /* link backoff cap */
    int64_t link_timeout_ms;    /* a reply not received by then is a failure */
    int64_t poll_hold_ms;       /* how long a parent holds an empty poll */
    int64_t link_workers;       /* parent-side request threads */
    int64_t link_pipeline;      /* 1: send the next batch before the last one's deletion commits */
    int64_t control_workers;    /* unused since the HTTP API (a thread per connection,
                                 * node/http.c); kept so that older configs load */
    int64_t debug;              /* 1: debug log lines */
    int64_t max_age_s;          /* messages created longer ago are refused (replay) */
    int64_t max_future_s;       /* ... and those created this far ahead (clock skew) */
    int64_t held_retry_min_ms;  /* a transient refusal is retried after this ... */
    int64_t held_retry_max_ms;  /* ... doubling up to this (node/held.c) */
    int64_t max_skew_s;         /* parent's clock further off than this: warned */
    char api_socket[CONFIG_SUN_PATH]; /* the HTTP API's Unix socket (mode 0660, admin) */
    char http_listen[64];       /* "IPV4:PORT" of the TCP listener; empty: none */
    char tls_cert[CONFIG_STR];  /* PEM certificate (chain) of the TCP listener */
    char tls_key[CONFIG_STR];   /* PEM private key of the TCP listener */
    int64_t session_idle_s;     /* a session unused this long ends (node/session.c) */
    int lines[CONFIG_KEYS];     /* per table row: the line it was given on, 0 defaulted */
};

/* config_tier_name - "agency", "city", ... */
const char *config_tier_name(int tier);
/* config_tier_parse - name to enum tier; TIER_NONE if unknown. */
int config_tier_parse(const char *s);

/* config_key_line - the line of c's file that gave key, 0 when defaulted. */
int config_key_line(const struct config *c, const char *key);

/*
 * config_load - read path into *c. On failure writes every problem, one per
 * line ("file:line: key 'k': reason"), into err (errlen bytes) and returns
 * RL_ECONFIG.
 */
int config_load(const char *path, struct config *c, char *err, size_t errlen)
    RL_MUST_CHECK;

/* config_http_addr - split http_listen "A.B.C.D:PORT" into the host text
 * (hostlen bytes), its address bytes and the port; 0, or -1 if malformed. */
int config_http_addr(const char *s, char *host, size_t hostlen, uint8_t ip[4], int *port);

/* config_frame_max - the largest frame a link carries (NNG_OPT_RECVMAXSZ):
 * batch_bytes, one envelope over it, framing. Both ends of a link must
 * agree on batch_bytes and max_message_bytes. */
size_t config_frame_max(const struct config *c);

#endif
