/*
 * metrics.h - what the node counts, and GET /metrics, /healthz, /readyz.
 *
 * Three parts:
 *   counters   process-wide atomics (node/metrics.c), bumped by one-line
 *              metrics_note_* calls where things happen: the writer after
 *              its commit (stored, duplicate, refused by reason, commit
 *              time and result), link_verify (signature verify time),
 *              the downstream server (link frames refused);
 *   collect    node + store -> struct metrics_snapshot, a plain struct
 *              (node/metrics_collect.c; the incident scan is cached);
 *   render     snapshot -> Prometheus text format 0.0.4, a pure function
 *              (node/metrics.c), so that it is tested with any snapshot.
 * Split in two files because the counters and the renderer belong to
 * relaycore (unit tests link them), while collecting reads the links'
 * state, which only relay-node has.
 *
 * The verbs (api.h) are metrics_verb (GET /metrics, text), health_verb
 * (GET /healthz) and ready_verb (GET /readyz), both JSON with 503 naming
 * what is wrong.
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "policy.h"
#include "store.h"

/* Why a message was refused: a small fixed set, the label `reason` of
 * relay_messages_refused_total. Set in work_item.reason where the refusal
 * is decided (node/link.c, node/writer.c); counted after the commit that
 * audited it. */
enum metrics_refusal {
    METRICS_R_OTHER = 0,      /* none of the below */
    METRICS_R_MALFORMED,      /* the envelope does not decode strictly */
    METRICS_R_TOO_LARGE,      /* larger than max_message_bytes */
    METRICS_R_UNKNOWN_SENDER, /* author not in the directory (yet) */
    METRICS_R_KEY,            /* author's key revoked, rotated out or not yet valid */
    METRICS_R_SIGNATURE,      /* signature does not verify */
    METRICS_R_STALE,          /* created before the freshness window */
    METRICS_R_FUTURE,         /* created after the freshness window */
    METRICS_R_NOT_AUTHORIZED, /* tier rules, or author outside the link's subtree */
    METRICS_R_DAMAGED,        /* a record it needs is damaged here */
    METRICS_R_STORE_FULL,     /* map_max_mb reached: new work refused */
    METRICS_R_N
};

/* metrics_refusal_name - the label value of r ("other" if out of range) */
const char *metrics_refusal_name(int r);

/* Histograms with fixed buckets (upper bounds in seconds, +Inf implied). */
#define METRICS_COMMIT_BUCKETS 12
#define METRICS_VERIFY_BUCKETS 10
#define METRICS_MAX_BUCKETS 12

struct metrics_hist {
    size_t n;                            /* finite buckets */
    const double *le;                    /* n upper bounds, increasing */
    uint64_t bucket[METRICS_MAX_BUCKETS + 1]; /* per bucket, not cumulative;
                                              * [n] is above the last bound */
    uint64_t count;
    double sum;                          /* seconds */
};

/* ---- counters (process-wide; every function is thread-safe) ---- */

/* metrics_clock_ns - a monotonic reading, for the *_done calls */
uint64_t metrics_clock_ns(void);
void metrics_note_stored(size_t n);
void metrics_note_duplicate(size_t n);
void metrics_note_refused(int reason, size_t n);
/* metrics_note_frame_refused - a link frame refused before any message in
 * it was read; rc (rl_err) says why: malformed, not_authorized,
 * authentication, no_memory. */
void metrics_note_frame_refused(int rc);
/* metrics_commit_done - a group ended with rc: its store_commit started at
 * t0 (0: it failed before committing, no time is counted) */
void metrics_commit_done(uint64_t t0, int rc);
/* metrics_verify_done - a signature check that started at t0 ended */
void metrics_verify_done(uint64_t t0);
/* metrics_writer_busy - the writer starts a group (since_ms: monotonic
 * ms, clock_mono_ms) or ends it (0) */
void metrics_writer_busy(int64_t since_ms);

/* The last commit's result and when the running group began: /healthz. */
struct metrics_writer_state {
    int last_rc;          /* the last commit's rl_err; RL_OK before any */
    int64_t busy_since_ms; /* 0: idle */
};
void metrics_writer_state(struct metrics_writer_state *out);

/* ---- the snapshot ---- */

#define METRICS_FRAME_REASONS 4
#define METRICS_LEVELS 5 /* open incidents: levels 1..4, and [0] other */

struct metrics_link {
    char peer[STORE_PEER_MAX];
    int up;              /* 1: towards the parent; 0: a child */
    int connected;
    uint64_t outbox, held;
    int64_t last_ack_age_us; /* < 0: never acknowledged (series left out) */
};

struct metrics_incidents {
    uint64_t open[METRICS_LEVELS];  /* not closed or withdrawn, not drills */
    uint64_t open_drills;
    uint64_t overdue[POL_D_N];   /* past due, unmet, of active incidents */
    double scan_seconds;            /* what the scan behind these cost */
};

struct metrics_snapshot {
    const char *version;
    struct metrics_link *links; /* n_links of them; the caller's */
    size_t n_links;
    uint64_t stored, duplicate;
    uint64_t refused[METRICS_R_N];
    uint64_t frames_refused[METRICS_FRAME_REASONS];
    uint64_t commit_failures;
    struct metrics_hist commit, verify;
    struct metrics_incidents inc;
    uint64_t map_bytes, used_bytes, map_max_bytes;
};

/* metrics_counters - copy the process-wide counters and histograms into s
 * (everything but links, inc, the store figures and version). */
void metrics_counters(struct metrics_snapshot *s);

/* metrics_render - s as Prometheus text format 0.0.4. Returns a malloc'd
 * NUL-terminated text (the caller frees), or NULL when out of memory. */
char *metrics_render(const struct metrics_snapshot *s);

/* metrics_scan_incidents - count open incidents by level and overdue due
 * times by kind as at now_us (the node's clock), in one pass over the
 * incidents of t. Damaged records are skipped (store check names them). */
int metrics_scan_incidents(struct store_txn *t, int64_t now_us,
                           struct metrics_incidents *out) RL_MUST_CHECK;

/* ---- collect and the verbs (node/metrics_collect.c, relay-node) ---- */

/* metrics_verb - GET /metrics: NULL with r->text (malloc'd) and
 * r->content_type set, or an error reply (503) when the store cannot be
 * read. */
json_t *metrics_verb(struct api_req *r);
/* health_verb - GET /healthz: {"ok":true,...}, or 503 naming what is
 * wrong (stopping, writer stuck, last commit failed, store full). Never
 * waits on a lock the writer holds. */
json_t *health_verb(struct api_req *r);
/* ready_verb - GET /readyz: {"ok":true,...} when the links are as
 * configured, or 503 naming each one that is not. */
json_t *ready_verb(struct api_req *r);

#endif
