/*
 * metrics.c - the node's counters and histograms, the incident scan, and
 * the Prometheus text renderer (format 0.0.4).
 *
 * Counters are process-wide C11 atomics, bumped with relaxed ordering: a
 * scrape may see one counter a moment ahead of another, never a torn value.
 * A histogram keeps one count per bucket (not cumulative); the renderer
 * adds them up, and takes _count from that same sum, so that the +Inf
 * bucket always equals _count.
 *
 * DIAGNOSTICS: metrics_render returns NULL only when out of memory. The
 * scan skips records that do not decode (the walk has logged them, and
 * `store check` names them); it fails only when the store cannot be read.
 *
 * SECURITY: label values come from the directory (peer ids) and are
 * escaped as the format requires (backslash, double quote, line feed), so
 * no peer name can add a line or a label to the output.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

/* ---------------------------------------------------------------- counters */

static const char *const refusal_names[METRICS_R_N] = {
    [METRICS_R_OTHER] = "other",
    [METRICS_R_MALFORMED] = "malformed",
    [METRICS_R_TOO_LARGE] = "too_large",
    [METRICS_R_UNKNOWN_SENDER] = "unknown_sender",
    [METRICS_R_KEY] = "key_not_valid",
    [METRICS_R_SIGNATURE] = "signature",
    [METRICS_R_STALE] = "stale",
    [METRICS_R_FUTURE] = "future",
    [METRICS_R_NOT_AUTHORIZED] = "not_authorized",
    [METRICS_R_DAMAGED] = "damaged_record",
    [METRICS_R_STORE_FULL] = "store_full",
};

static const char *const frame_names[METRICS_FRAME_REASONS] = {
    "malformed", "not_authorized", "authentication", "no_memory"};

/* bucket bounds: a commit is an fsync (about a millisecond on a good disk,
 * tens on a slow one); a verify is an Ed25519 check (about 50 us here) */
static const double commit_le[METRICS_COMMIT_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
static const double verify_le[METRICS_VERIFY_BUCKETS] = {
    1e-05, 2.5e-05, 5e-05, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1};

struct hist_atomic {
    _Atomic uint64_t bucket[METRICS_MAX_BUCKETS + 1];
    _Atomic uint64_t sum_ns;
};

static _Atomic uint64_t m_stored, m_duplicate, m_commit_failures;
static _Atomic uint64_t m_refused[METRICS_R_N];
static _Atomic uint64_t m_frames[METRICS_FRAME_REASONS];
static struct hist_atomic m_commit, m_verify;
static _Atomic int m_last_rc;
static _Atomic int64_t m_busy_since_ms;

/* metrics_refusal_name - the reason's label value */
const char *
metrics_refusal_name(int r)
{
    return r >= 0 && r < METRICS_R_N ? refusal_names[r] : refusal_names[METRICS_R_OTHER];
}

/* metrics_clock_ns - monotonic nanoseconds */
uint64_t
metrics_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* hist_observe - count one observation of ns nanoseconds */
static void
hist_observe(struct hist_atomic *h, const double *le, size_t n, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t i = 0;

    while (i < n && s > le[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

/* metrics_note_stored - n messages stored */
void
metrics_note_stored(size_t n)
{
    atomic_fetch_add_explicit(&m_stored, n, memory_order_relaxed);
}

/* metrics_note_duplicate - n messages that were stored already */
void
metrics_note_duplicate(size_t n)
{
    atomic_fetch_add_explicit(&m_duplicate, n, memory_order_relaxed);
}

/* metrics_note_refused - n messages refused for reason */
void
metrics_note_refused(int reason, size_t n)
{
    if (reason < 0 || reason >= METRICS_R_N)
        reason = METRICS_R_OTHER;
    atomic_fetch_add_explicit(&m_refused[reason], n, memory_order_relaxed);
}

/* metrics_note_frame_refused - a link frame refused, rc saying why */
void
metrics_note_frame_refused(int rc)
{
    int i = rc == RL_EINVAL                    ? 0
            : rc == RL_EUNKNOWN || rc == RL_EPERM ? 1
            : rc == RL_ENOMEM                   ? 3
                                                : 2;
    atomic_fetch_add_explicit(&m_frames[i], 1, memory_order_relaxed);
}

/* metrics_commit_done - one commit's time and result */
void
metrics_commit_done(uint64_t t0, int rc)
{
    if (t0 != 0) /* 0: the group failed before it could commit */
        hist_observe(&m_commit, commit_le, METRICS_COMMIT_BUCKETS, metrics_clock_ns() - t0);
    atomic_store_explicit(&m_last_rc, rc, memory_order_relaxed);
    if (rc != RL_OK)
        atomic_fetch_add_explicit(&m_commit_failures, 1, memory_order_relaxed);
}

/* metrics_verify_done - one signature check's time */
void
metrics_verify_done(uint64_t t0)
{
    hist_observe(&m_verify, verify_le, METRICS_VERIFY_BUCKETS, metrics_clock_ns() - t0);
}

/* metrics_writer_busy - the writer runs a group since since_ms, or is idle */
void
metrics_writer_busy(int64_t since_ms)
{
    atomic_store_explicit(&m_busy_since_ms, since_ms, memory_order_relaxed);
}

/* metrics_writer_state - the last commit's result, the running group's start */
void
metrics_writer_state(struct metrics_writer_state *out)
{
    out->last_rc = atomic_load_explicit(&m_last_rc, memory_order_relaxed);
    out->busy_since_ms = atomic_load_explicit(&m_busy_since_ms, memory_order_relaxed);
}

/* hist_copy - a histogram's counts as they are now */
static void
hist_copy(struct hist_atomic *h, const double *le, size_t n, struct metrics_hist *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    out->le = le;
    for (size_t i = 0; i <= n; i++) {
        out->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        out->count += out->bucket[i];
    }
    out->sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
}

/* metrics_counters - the process-wide counters into s */
void
metrics_counters(struct metrics_snapshot *s)
{
    s->stored = atomic_load_explicit(&m_stored, memory_order_relaxed);
    s->duplicate = atomic_load_explicit(&m_duplicate, memory_order_relaxed);
    s->commit_failures = atomic_load_explicit(&m_commit_failures, memory_order_relaxed);
    for (int i = 0; i < METRICS_R_N; i++)
        s->refused[i] = atomic_load_explicit(&m_refused[i], memory_order_relaxed);
    for (int i = 0; i < METRICS_FRAME_REASONS; i++)
        s->frames_refused[i] = atomic_load_explicit(&m_frames[i], memory_order_relaxed);
    hist_copy(&m_commit, commit_le, METRICS_COMMIT_BUCKETS, &s->commit);
    hist_copy(&m_verify, verify_le, METRICS_VERIFY_BUCKETS, &s->verify);
}

/* ------------------------------------------------------------ incident scan */

struct scan {
    int64_t now;
    struct metrics_incidents *out;
};

/* scan_one - count one incident record */
static int
scan_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
         int damaged)
{
    struct scan *sc = arg;
    Relay__IncidentRecord *r;
    uint32_t level;
    int open, active;

    if (damaged || (r = relay__incident_record__unpack(NULL, vlen, val)) == NULL)
        return 0;
    open = r->state != RELAY__INCIDENT_STATE__CLOSED &&
           r->state != RELAY__INCIDENT_STATE__WITHDRAWN;
    active = plan_dues_run(r); /* what relayctl list --overdue counts */
    level = (uint32_t)plan_level(r);
    if (open && r->drill)
        sc->out->open_drills++;
    else if (open)
        sc->out->open[level >= 1 && level < METRICS_LEVELS ? level : 0]++;
    for (size_t i = 0; active && !r->drill && i < r->n_dues; i++) {
        const Relay__Due *d = r->dues[i];
        if (d->which < POL_D_N && d->due_us && !d->met_us && sc->now > d->due_us)
            sc->out->overdue[d->which]++;
    }
    relay__incident_record__free_unpacked(r, NULL);
    return 0;
}

/* metrics_scan_incidents - open incidents by level, overdue by kind */
int
metrics_scan_incidents(struct store_txn *t, int64_t now_us, struct metrics_incidents *out)
{
    struct scan sc = {now_us, out};
    uint64_t t0 = metrics_clock_ns();
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_walk(t, "incidents", scan_one, &sc);
    out->scan_seconds = (double)(metrics_clock_ns() - t0) / 1e9;
    return rc;
}

/* ---------------------------------------------------------------- renderer */

/* put_label - v as a label value: \ " and line feed escaped */
static void
put_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            fputs("\\\\", f);
        else if (*v == '"')
            fputs("\\\"", f);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

/* head - a family's HELP and TYPE lines (help is ours: nothing to escape) */
static void
head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* one - a family of one unlabelled sample */
static void
one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    head(f, name, type, help);
    fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* link_labels - {peer="...",direction="up|down"} */
static void
link_labels(FILE *f, const char *name, const struct metrics_link *l)
{
    fprintf(f, "%s{peer=\"", name);
    put_label(f, l->peer);
    fprintf(f, "\",direction=\"%s\"} ", l->up ? "up" : "down");
}

/* put_hist - a histogram family: cumulative buckets, +Inf, _sum, _count */
static void
put_hist(FILE *f, const char *name, const char *help, const struct metrics_hist *h)
{
    uint64_t cum = 0;

    head(f, name, "histogram", help);
    for (size_t i = 0; i < h->n; i++) {
        cum += h->bucket[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i], (unsigned long long)cum);
    }
    cum += h->bucket[h->n];
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    fprintf(f, "%s_sum %.9f\n%s_count %llu\n", name, h->sum, name, (unsigned long long)cum);
}

/* metrics_render - the snapshot as Prometheus text 0.0.4 */
char *
metrics_render(const struct metrics_snapshot *s)
{
    static const char *const level_names[METRICS_LEVELS] = {"unknown", "1", "2", "3", "4"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int bad;

    if (f == NULL)
        return NULL;

    head(f, "relay_build_info", "gauge",
         "Always 1: the version of relay-node (CMake project VERSION) as a label.");
    fputs("relay_build_info{version=\"", f);
    put_label(f, s->version ? s->version : "unknown");
    fputs("\"} 1\n", f);

    /* per link: the parent (direction up) and each child (down) */
    head(f, "relay_link_up", "gauge",
         "1 when the link is connected (open, and answered within its timeout), else 0.");
    for (size_t i = 0; i < s->n_links; i++) {
        link_labels(f, "relay_link_up", &s->links[i]);
        fprintf(f, "%d\n", s->links[i].connected ? 1 : 0);
    }
    head(f, "relay_link_outbox_messages", "gauge",
         "Messages queued in the outbox for the neighbour, not yet acknowledged.");
    for (size_t i = 0; i < s->n_links; i++) {
        link_labels(f, "relay_link_outbox_messages", &s->links[i]);
        fprintf(f, "%llu\n", (unsigned long long)s->links[i].outbox);
    }
    head(f, "relay_link_held_messages", "gauge",
         "Messages the neighbour refused, held with the reason (relayctl held).");
    for (size_t i = 0; i < s->n_links; i++) {
        link_labels(f, "relay_link_held_messages", &s->links[i]);
        fprintf(f, "%llu\n", (unsigned long long)s->links[i].held);
    }
    head(f, "relay_link_last_ack_age_seconds", "gauge",
         "Seconds since the neighbour last acknowledged a message, on the node's clock; "
         "absent for a neighbour that never did.");
    for (size_t i = 0; i < s->n_links; i++) {
        if (s->links[i].last_ack_age_us < 0)
            continue;
        link_labels(f, "relay_link_last_ack_age_seconds", &s->links[i]);
        fprintf(f, "%.6f\n", (double)s->links[i].last_ack_age_us / 1e6);
    }

    /* messages */
    one(f, "relay_messages_stored_total", "counter",
        "Messages stored since the process started: from links, operators, and made here "
        "(receipts, notices).",
        s->stored);
    one(f, "relay_messages_duplicate_total", "counter",
        "Messages received again after they were stored: acknowledged, nothing stored.",
        s->duplicate);
    head(f, "relay_messages_refused_total", "counter",
         "Messages refused (audited, not stored) since the process started, by reason.");
    for (int i = 0; i < METRICS_R_N; i++)
        fprintf(f, "relay_messages_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
                (unsigned long long)s->refused[i]);
    head(f, "relay_link_frames_refused_total", "counter",
         "Link frames from children refused before any message in them was read, by reason.");
    for (int i = 0; i < METRICS_FRAME_REASONS; i++)
        fprintf(f, "relay_link_frames_refused_total{reason=\"%s\"} %llu\n", frame_names[i],
                (unsigned long long)s->frames_refused[i]);

    /* the writer and verification */
    put_hist(f, "relay_store_commit_seconds",
             "Time of one store commit (mdb_txn_commit with its fsync), for each group "
             "the writer commits.",
             &s->commit);
    one(f, "relay_store_commit_failures_total", "counter",
        "Group commits that failed (disk full, i/o error, map_max_mb reached).",
        s->commit_failures);
    put_hist(f, "relay_signature_verify_seconds",
             "Time of one author signature check (Ed25519) of a message received over a link.",
             &s->verify);

    /* incidents (a cached scan of the store) */
    head(f, "relay_incidents_open", "gauge",
         "Incidents not closed or withdrawn, drills left out, by level (reviewed, else "
         "claimed).");
    for (int i = 1; i <= METRICS_LEVELS; i++) {
        int lv = i % METRICS_LEVELS; /* 1..4, then unknown */
        fprintf(f, "relay_incidents_open{level=\"%s\"} %llu\n", level_names[lv],
                (unsigned long long)s->inc.open[lv]);
    }
    one(f, "relay_drill_incidents_open", "gauge", "Drill incidents not closed or withdrawn.",
        s->inc.open_drills);
    head(f, "relay_dues_overdue", "gauge",
         "Due times past and unmet of incidents still running (not drills), by kind, as "
         "relayctl list --overdue counts them.");
    for (int i = 0; i < POL_D_N; i++)
        fprintf(f, "relay_dues_overdue{kind=\"%s\"} %llu\n", policy_deadline_name(i),
                (unsigned long long)s->inc.overdue[i]);
    head(f, "relay_incident_scan_duration_seconds", "gauge",
         "Time the last scan of the incidents took (its result is kept 1 s, or ten times "
         "that time).");
    fprintf(f, "relay_incident_scan_duration_seconds %.6f\n", s->inc.scan_seconds);

    /* hook queue depth: left out, hooks do not exist yet (issue 12) */

    /* the store's map */
    one(f, "relay_store_map_size_bytes", "gauge", "Size of the LMDB map now.",
        s->map_bytes);
    one(f, "relay_store_map_used_bytes", "gauge",
        "Bytes of the map in use (pages up to the last one used).",
        s->used_bytes);
    one(f, "relay_store_map_max_bytes", "gauge",
        "The map's limit (map_max_mb): past it new work is refused.",
        s->map_max_bytes);

    bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}
