/*
 * test_metrics.c - GET /metrics without a node (issue 10 item 5): the
 * renderer on a filled snapshot (every family present, a hostile peer name
 * escaped, histograms cumulative, the text accepted by `promtool check
 * metrics`), the process-wide counters, and the incident scan (open by
 * level, overdue by kind) with its cost at 10,000 incidents.
 *
 * promtool comes from tools/setup.sh ($BUILD/promtool/usr/bin/promtool);
 * without it the test fails, it does not skip.
 */
#include "unit_tmp.h"

#include <sys/wait.h>
#include <time.h>

#include "metrics.h"

#ifndef PROMTOOL
#define PROMTOOL "promtool"
#endif

/* a peer name that tries to end the label and start a line of its own */
#define HOSTILE "ag\"x\\y\nrelay_link_up{peer=\"evil\"} 1"
#define HOSTILE_ESC "ag\\\"x\\\\y\\nrelay_link_up{peer=\\\"evil\\\"} 1"

static const double le3[3] = {0.001, 0.01, 0.1};

/* filled - a snapshot with something in every figure */
static struct metrics_snapshot
filled(struct metrics_link *links)
{
    struct metrics_snapshot s;

    memset(&s, 0, sizeof(s));
    memset(links, 0, 3 * sizeof(*links));
    strcpy(links[0].peer, "taipei");
    links[0].up = 1;
    links[0].connected = 1;
    links[0].outbox = 7;
    links[0].held = 1;
    links[0].last_ack_age_us = 2500000;
    strcpy(links[1].peer, HOSTILE);
    links[1].outbox = 3;
    links[1].last_ack_age_us = -1; /* never acknowledged */
    strcpy(links[2].peer, "ag-b");
    links[2].connected = 1;
    links[2].last_ack_age_us = 0;
    s.version = "1.2.3\"x";
    s.links = links;
    s.n_links = 3;
    s.stored = 42;
    s.duplicate = 2;
    for (int i = 0; i < METRICS_R_N; i++)
        s.refused[i] = (uint64_t)i;
    s.frames_refused[2] = 5;
    s.commit_failures = 1;
    s.commit.n = 3;
    s.commit.le = le3;
    s.commit.bucket[0] = 4;
    s.commit.bucket[1] = 2;
    s.commit.bucket[3] = 1;
    s.commit.count = 7;
    s.commit.sum = 0.75;
    s.verify.n = 3;
    s.verify.le = le3;
    s.verify.bucket[0] = 9;
    s.verify.count = 9;
    s.verify.sum = 0.0005;
    s.inc.open[0] = 1;
    s.inc.open[3] = 2;
    s.inc.open_drills = 1;
    s.inc.overdue[POL_D_REVIEW] = 3;
    s.inc.scan_seconds = 0.002;
    s.map_bytes = 1 << 20;
    s.used_bytes = 1 << 16;
    s.map_max_bytes = 1 << 30;
    return s;
}

/* has - text holds needle */
static void
has(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL)
        fail_msg("missing: %s", needle);
}

/* promtool_check - `promtool check metrics` on the file: its exit status;
 * what it printed goes to the test's output */
static int
promtool_check(const char *path)
{
    char cmd[512];
    int st;

    if (access(PROMTOOL, X_OK) != 0)
        fail_msg("%s is missing: tools/setup.sh unpacks it (this test does not skip)",
                 PROMTOOL);
    snprintf(cmd, sizeof(cmd), "%s check metrics < %s", PROMTOOL, path);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* test_render - every family, escaping, histograms, promtool */
static void
test_render(void **state)
{
    static const char *const families[] = {
        "relay_build_info", "relay_link_up", "relay_link_outbox_messages",
        "relay_link_held_messages", "relay_link_last_ack_age_seconds",
        "relay_messages_stored_total", "relay_messages_duplicate_total",
        "relay_messages_refused_total", "relay_link_frames_refused_total",
        "relay_store_commit_seconds", "relay_store_commit_failures_total",
        "relay_signature_verify_seconds", "relay_incidents_open",
        "relay_drill_incidents_open", "relay_dues_overdue",
        "relay_incident_scan_duration_seconds", "relay_store_map_size_bytes",
        "relay_store_map_used_bytes", "relay_store_map_max_bytes"};
    struct metrics_link links[3];
    struct metrics_snapshot s = filled(links);
    char *text = metrics_render(&s), path[128], line[160];
    const char *p;

    assert_non_null(text);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        snprintf(line, sizeof(line), "# HELP %s ", families[i]);
        has(text, line);
        snprintf(line, sizeof(line), "\n# TYPE %s ", families[i]);
        has(text, line);
    }
    /* every line is a comment or a sample of ours: the hostile name made none */
    for (p = text; *p; p = strchr(p, '\n') + 1) {
        assert_true(strncmp(p, "# ", 2) == 0 || strncmp(p, "relay_", 6) == 0);
        assert_non_null(strchr(p, '\n'));
    }
    has(text, "relay_link_up{peer=\"" HOSTILE_ESC "\",direction=\"down\"} 0\n");
    has(text, "relay_link_outbox_messages{peer=\"" HOSTILE_ESC "\",direction=\"down\"} 3\n");
    assert_null(strstr(text, "relay_link_last_ack_age_seconds{peer=\"" HOSTILE_ESC));
    has(text, "relay_build_info{version=\"1.2.3\\\"x\"} 1\n");
    has(text, "relay_link_up{peer=\"taipei\",direction=\"up\"} 1\n");
    has(text, "relay_link_last_ack_age_seconds{peer=\"taipei\",direction=\"up\"} 2.500000\n");
    has(text, "relay_link_last_ack_age_seconds{peer=\"ag-b\",direction=\"down\"} 0.000000\n");
    has(text, "relay_link_held_messages{peer=\"taipei\",direction=\"up\"} 1\n");
    has(text, "relay_messages_stored_total 42\n");
    has(text, "relay_messages_refused_total{reason=\"signature\"} 5\n");
    has(text, "relay_messages_refused_total{reason=\"other\"} 0\n");
    has(text, "relay_link_frames_refused_total{reason=\"authentication\"} 5\n");
    /* cumulative buckets; +Inf and _count agree */
    has(text, "relay_store_commit_seconds_bucket{le=\"0.001\"} 4\n"
              "relay_store_commit_seconds_bucket{le=\"0.01\"} 6\n"
              "relay_store_commit_seconds_bucket{le=\"0.1\"} 6\n"
              "relay_store_commit_seconds_bucket{le=\"+Inf\"} 7\n"
              "relay_store_commit_seconds_sum 0.750000000\n"
              "relay_store_commit_seconds_count 7\n");
    has(text, "relay_incidents_open{level=\"3\"} 2\n");
    has(text, "relay_incidents_open{level=\"unknown\"} 1\n");
    has(text, "relay_dues_overdue{kind=\"review\"} 3\n");
    has(text, "relay_store_map_max_bytes 1073741824\n");

    unit_tmp_write(*state, "metrics.txt", text, path, sizeof(path));
    assert_int_equal(promtool_check(path), 0);
    free(text);
}

/* test_render_empty - a node with no links and nothing counted is valid too */
static void
test_render_empty(void **state)
{
    struct metrics_snapshot s;
    char *text, path[128];

    memset(&s, 0, sizeof(s));
    s.commit.n = 3;
    s.commit.le = le3;
    s.verify.n = 3;
    s.verify.le = le3;
    text = metrics_render(&s);
    assert_non_null(text);
    has(text, "relay_build_info{version=\"unknown\"} 1\n");
    has(text, "# TYPE relay_link_up gauge\n# HELP relay_link_outbox_messages");
    unit_tmp_write(*state, "empty.txt", text, path, sizeof(path));
    assert_int_equal(promtool_check(path), 0);
    free(text);
}

/* test_counters - the note functions reach the snapshot */
static void
test_counters(void **state)
{
    struct metrics_snapshot a, b;
    struct metrics_writer_state ws;

    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    metrics_counters(&a);
    metrics_note_stored(3);
    metrics_note_duplicate(1);
    metrics_note_refused(METRICS_R_STALE, 2);
    metrics_note_refused(999, 1); /* out of range: other */
    metrics_note_frame_refused(RL_EINVAL);
    metrics_note_frame_refused(RL_ESIG);
    metrics_commit_done(metrics_clock_ns(), RL_OK);
    metrics_commit_done(0, RL_EIO); /* failed before committing: no time */
    metrics_verify_done(metrics_clock_ns());
    metrics_counters(&b);
    assert_int_equal(b.stored - a.stored, 3);
    assert_int_equal(b.duplicate - a.duplicate, 1);
    assert_int_equal(b.refused[METRICS_R_STALE] - a.refused[METRICS_R_STALE], 2);
    assert_int_equal(b.refused[METRICS_R_OTHER] - a.refused[METRICS_R_OTHER], 1);
    assert_int_equal(b.frames_refused[0] - a.frames_refused[0], 1);
    assert_int_equal(b.frames_refused[2] - a.frames_refused[2], 1);
    assert_int_equal(b.commit.count - a.commit.count, 1);
    assert_int_equal(b.commit_failures - a.commit_failures, 1);
    assert_int_equal(b.verify.count - a.verify.count, 1);
    assert_int_equal(b.commit.n, METRICS_COMMIT_BUCKETS);
    assert_int_equal(b.verify.n, METRICS_VERIFY_BUCKETS);
    assert_string_equal(metrics_refusal_name(METRICS_R_SIGNATURE), "signature");
    assert_string_equal(metrics_refusal_name(-1), "other");
    metrics_writer_state(&ws);
    assert_int_equal(ws.last_rc, RL_EIO);
    metrics_commit_done(metrics_clock_ns(), RL_OK);
    metrics_writer_busy(1234);
    metrics_writer_state(&ws);
    assert_int_equal(ws.last_rc, RL_OK);
    assert_int_equal(ws.busy_since_ms, 1234);
    metrics_writer_busy(0);
}

#define NOW (INT64_C(1800000000) * 1000000)
#define HOUR (INT64_C(3600) * 1000000)

/* put_incident - one incident record: state, levels, drill, and a due time
 * of kind which due at due (0: none), met or not */
static void
put_incident(struct store_txn *t, uint32_t n, Relay__IncidentState state, uint32_t claimed,
             uint32_t reviewed, int drill, int which, int64_t due, int64_t met, int events)
{
    Relay__IncidentRecord r = RELAY__INCIDENT_RECORD__INIT;
    Relay__Due d = RELAY__DUE__INIT, *dp = &d;
    Relay__Event ev[16], *evp[16];
    uint8_t id[16];

    memset(id, 0x5a, 16);
    memcpy(id, &n, sizeof(n));
    r.id.data = id;
    r.id.len = 16;
    r.author = "ag-a";
    r.state = state;
    r.claimed_level = claimed;
    r.reviewed_level = reviewed;
    r.drill = drill;
    r.have_report = 1;
    if (due) {
        d.which = (uint32_t)which;
        d.due_us = due;
        d.met_us = met;
        r.dues = &dp;
        r.n_dues = 1;
    }
    for (int i = 0; i < events && i < 16; i++) {
        relay__event__init(&ev[i]);
        ev[i].at_us = NOW - HOUR + i;
        ev[i].node = "taipei";
        ev[i].what = "stored";
        ev[i].msg.data = id;
        ev[i].msg.len = 16;
        evp[i] = &ev[i];
    }
    r.history = evp;
    r.n_history = (size_t)(events < 16 ? events : 16);
    assert_int_equal(store_put_incident(t, &r), RL_OK);
}

/* open_store - a fresh store in the test's directory */
static struct store *
open_store(void **state)
{
    char dir[128];
    struct store *s = NULL;

    unit_tmp_path(*state, "store", dir, sizeof(dir));
    assert_int_equal(store_open(dir, 256, 1024, 0, &s), RL_OK);
    return s;
}

/* test_scan - open by level, drills apart, overdue by kind as list --overdue */
static void
test_scan(void **state)
{
    struct store *s = open_store(state);
    struct metrics_incidents inc;
    struct store_txn t;
    Relay__IncidentState R = RELAY__INCIDENT_STATE__REPORTED;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    put_incident(&t, 1, R, 1, 0, 0, POL_D_REPORT, NOW - HOUR, 0, 1);     /* overdue */
    put_incident(&t, 2, R, 1, 3, 0, POL_D_REVIEW, NOW + HOUR, 0, 1);     /* level 3, not yet */
    put_incident(&t, 3, RELAY__INCIDENT_STATE__REVIEWED, 2, 4, 0, POL_D_TEAM, NOW - HOUR,
                 NOW - 2 * HOUR, 1);                                      /* met */
    put_incident(&t, 4, RELAY__INCIDENT_STATE__CLOSED, 2, 0, 0, POL_D_CLOSE, NOW - HOUR, 0, 1);
    put_incident(&t, 5, RELAY__INCIDENT_STATE__WITHDRAWN, 3, 0, 0, 0, 0, 0, 1);
    put_incident(&t, 6, RELAY__INCIDENT_STATE__CLOSING, 3, 0, 0, POL_D_CLOSE, NOW - HOUR, 0,
                 1);                                                      /* open, not running */
    put_incident(&t, 7, R, 2, 0, 1, POL_D_REPORT, NOW - HOUR, 0, 1);     /* a drill */
    put_incident(&t, 8, R, 0, 0, 0, POL_D_COPY, NOW - 1, 0, 1);          /* no level yet */
    assert_int_equal(store_commit(&t), RL_OK);

    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(metrics_scan_incidents(&t, NOW, &inc), RL_OK);
    store_abort(&t);
    assert_int_equal(inc.open[1], 1);
    assert_int_equal(inc.open[2], 0);
    assert_int_equal(inc.open[3], 2); /* 2 (reviewed 3) and 6 (closing) */
    assert_int_equal(inc.open[4], 1);
    assert_int_equal(inc.open[0], 1);
    assert_int_equal(inc.open_drills, 1);
    assert_int_equal(inc.overdue[POL_D_REPORT], 1);
    assert_int_equal(inc.overdue[POL_D_COPY], 1);
    assert_int_equal(inc.overdue[POL_D_REVIEW], 0);
    assert_int_equal(inc.overdue[POL_D_TEAM], 0);
    assert_int_equal(inc.overdue[POL_D_CLOSE], 0);
    store_close(s);
}

/* test_scan_cost - the scan at 10,000 incidents of 12 events each (or
 * RELAY_METRICS_SCAN_N): printed, and bounded loosely (a scrape reuses the
 * result for at least 5 s, node/metrics_collect.c) */
static void
test_scan_cost(void **state)
{
    const char *env = getenv("RELAY_METRICS_SCAN_N");
    uint32_t n = env ? (uint32_t)strtoul(env, NULL, 10) : 10000;
    struct store *s = open_store(state);
    struct metrics_incidents inc;
    struct store_txn t;
    uint64_t total = 0;

    assert_int_equal(store_begin(s, 1, &t), RL_OK);
    for (uint32_t i = 0; i < n; i++) {
        put_incident(&t, i, RELAY__INCIDENT_STATE__REPORTED, 1 + i % 4, 0, 0,
                     (int)(i % POL_D_N), NOW - HOUR + (int64_t)(i % 2) * 2 * HOUR, 0, 12);
        if (i % 5000 == 4999) {
            assert_int_equal(store_commit(&t), RL_OK);
            assert_int_equal(store_begin(s, 1, &t), RL_OK);
        }
    }
    assert_int_equal(store_commit(&t), RL_OK);
    assert_int_equal(store_begin(s, 0, &t), RL_OK);
    assert_int_equal(metrics_scan_incidents(&t, NOW, &inc), RL_OK);
    store_abort(&t);
    for (int i = 0; i < METRICS_LEVELS; i++)
        total += inc.open[i];
    assert_int_equal(total, n);
    print_message("incident scan: %u incidents (12 events each) in %.1f ms\n", n,
                  inc.scan_seconds * 1000);
    assert_true(inc.scan_seconds < 5.0);
    store_close(s);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        UNIT_TMP_TEST(test_render), UNIT_TMP_TEST(test_render_empty),
        UNIT_TMP_TEST(test_counters), UNIT_TMP_TEST(test_scan),
        UNIT_TMP_TEST(test_scan_cost),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
