/*
 * test_config.c - loading a node configuration: defaults, and errors that
 * name the file, the line and the key.
 *
 * Each bad case is a whole file; the table gives the line and key its error
 * must name ("path:LINE: key 'k':", or "path: key 'k':" for a problem that
 * has no line, like a missing key) and how many errors the file has in all.
 */
#include "unit_tmp.h"

#include "config.h"

#define UPKEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Lines 1-5: the section and the keys every tier needs. */
#define HEAD                                                                   \
    "[node]\n"                                                                 \
    "api_socket = /tmp/relay-unit.sock\n"                                      \
    "store = /tmp/relay-unit-store\n"                                          \
    "key = /tmp/relay-unit.key\n"                                              \
    "directory = /tmp/relay-unit-dir.ini\n"
/* Lines 6-10: a city below the national node. */
#define CITY                                                                   \
    "id = city-test\n"                                                         \
    "tier = city\n"                                                            \
    "listen = tcp://127.0.0.1:7101\n"                                          \
    "upstream = tcp://127.0.0.1:7100\n"                                        \
    "upstream_key = " UPKEY "\n"

struct bad_case {
    const char *name;
    const char *text;
    int line; /* 0: the error has no line */
    const char *key;
    const char *why; /* a part of the reason */
    int nerr;
};

static const struct bad_case bad_cases[] = {
    {"http_listen off loopback without TLS", HEAD CITY "http_listen = 10.1.2.3:8443\n", 11,
     "http_listen", "not 127.0.0.1: it needs TLS, and tls_cert and tls_key are missing", 1},
    {"http_listen off loopback without key",
     HEAD CITY "http_listen = 10.1.2.3:8443\ntls_cert = /c.pem\n", 11, "http_listen",
     "tls_key is missing", 2},
    {"http_listen not IPv4", HEAD CITY "http_listen = localhost:8080\n", 11, "http_listen",
     "is not IPV4:PORT", 1},
    {"http_listen port 0", HEAD CITY "http_listen = 127.0.0.1:0\n", 11, "http_listen",
     "is not IPV4:PORT", 1},
    {"tls_key without tls_cert", HEAD CITY "http_listen = 127.0.0.1:8080\ntls_key = /k.pem\n",
     12, "tls_cert", "go together", 1},
    {"short session_idle_s on the system clock", HEAD CITY "session_idle_s = 5\n", 11,
     "session_idle_s", "below 60 only with a controlled clock", 1},
    {"missing api_socket",
     "[node]\nstore = /s\nkey = /k\ndirectory = /d\nid = n\ntier = national\n"
     "listen = tcp://127.0.0.1:7100\n", 0, "api_socket", "missing", 1},
    {"unknown key", HEAD CITY "colour = blue\n", 11, "colour", "unknown key",
     1},
    {"bad tier", HEAD "id = x\ntier = county\n", 7, "tier",
     "'county' is not one of", 1},
    {"non-integer batch_max", HEAD CITY "batch_max = 12abc\n", 11, "batch_max",
     "'12abc' is not an integer", 1},
    {"empty batch_max", HEAD CITY "batch_max =\n", 11, "batch_max",
     "is not an integer", 1},
    {"map_mb below range", HEAD CITY "map_mb = 0\n", 11, "map_mb",
     "0 is out of range 1..1048576", 1},
    {"map_mb above range", HEAD CITY "map_mb = 1048577\n", 11, "map_mb",
     "out of range", 1},
    {"map_max_mb below map_mb", HEAD CITY "map_mb = 100\nmap_max_mb = 50\n", 12,
     "map_max_mb", "must not be below map_mb", 1},
    {"missing id", HEAD "tier = national\nlisten = tcp://127.0.0.1:7100\n", 0,
     "id", "missing", 1},
    {"empty id", HEAD "id =\ntier = national\nlisten = tcp://127.0.0.1:7100\n",
     6, "id", "must not be empty", 1},
    {"upstream set for national",
     HEAD "id = nat\ntier = national\nlisten = tcp://127.0.0.1:7100\n"
          "upstream = tcp://127.0.0.1:7000\nupstream_key = " UPKEY "\n",
     9, "upstream", "national tier is the root", 1},
    {"agency without upstream", HEAD "id = ag\ntier = agency\n", 0, "upstream",
     "required for every tier but national", 1},
    {"city without listen",
     HEAD "id = c\ntier = city\nupstream = tcp://127.0.0.1:7100\n"
          "upstream_key = " UPKEY "\n",
     0, "listen", "required for tiers that have children", 1},
    /* the bad key also leaves upstream without a key: two errors */
    {"bad upstream_key hex",
     HEAD "id = ag\ntier = agency\nupstream = tcp://127.0.0.1:7100\n"
          "upstream_key = 0011zz\n",
     9, "upstream_key", "64 hex digits", 2},
    {"bad clock value", HEAD CITY "clock = manual:yesterday\n", 11, "clock",
     "neither 'system' nor 'manual:", 1},
    {"clock without a zone", HEAD CITY "clock = manual:2026-01-01T00:00:00\n",
     11, "clock", "neither", 1},
    {"unknown section", HEAD CITY "[extra]\nfoo = 1\n", 12, "foo",
     "unknown section [extra]", 1},
    {"duplicate key", HEAD CITY "store = /tmp/other\n", 11, "store",
     "given twice", 1},
    {"syntax error", HEAD CITY "just words\n", 11, "-", "syntax error", 1},
    {"comments and blank lines are counted",
     "; a comment\n\n" HEAD CITY "\n# another\nbatch_max = -1\n", 15,
     "batch_max", "out of range", 1},
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* count_lines - errors are one per line */
static int
count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* run_bad - the file is refused and the error names path, line and key */
static void
run_bad(void **state)
{
    struct unit_tmp *t = *state;
    const struct bad_case *c = t->c;
    struct config cfg;
    char path[256], err[4096], want[512];

    unit_tmp_write(t, "node.conf", c->text, path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_ECONFIG);
    if (c->line)
        snprintf(want, sizeof(want), "%s:%d: key '%s': ", path, c->line,
                 c->key);
    else
        snprintf(want, sizeof(want), "%s: key '%s': ", path, c->key);
    if (strstr(err, want) == NULL)
        fail_msg("want \"%s\" in:\n%s", want, err);
    if (strstr(strstr(err, want), c->why) == NULL)
        fail_msg("want \"%s\" in:\n%s", c->why, err);
    if (count_lines(err) != c->nerr)
        fail_msg("want %d error(s), got:\n%s", c->nerr, err);
}

/* test_valid_defaults - a minimal city config gets every default */
static void
test_valid_defaults(void **state)
{
    struct unit_tmp *t = *state;
    struct config cfg;
    char path[256], err[4096];
    uint8_t upkey[32];

    for (int i = 0; i < 32; i++)
        upkey[i] = (uint8_t)((i % 16) * 0x11);
    unit_tmp_write(t, "node.conf", HEAD CITY, path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_OK);
    assert_string_equal(err, "");
    assert_string_equal(cfg.path, path);
    assert_string_equal(cfg.id, "city-test");
    assert_int_equal(cfg.tier, TIER_CITY);
    assert_string_equal(cfg.listen, "tcp://127.0.0.1:7101");
    assert_string_equal(cfg.api_socket, "/tmp/relay-unit.sock");
    assert_string_equal(cfg.http_listen, "");
    assert_int_equal(cfg.session_idle_s, 1800);
    assert_string_equal(cfg.upstream, "tcp://127.0.0.1:7100");
    assert_true(cfg.have_upstream_key);
    assert_memory_equal(cfg.upstream_key, upkey, 32);
    assert_string_equal(cfg.store, "/tmp/relay-unit-store");
    assert_string_equal(cfg.key, "/tmp/relay-unit.key");
    assert_string_equal(cfg.directory, "/tmp/relay-unit-dir.ini");
    assert_false(cfg.clock_manual);
    assert_int_equal(cfg.map_mb, 64);
    assert_int_equal(cfg.map_max_mb, 4096);
    assert_int_equal(cfg.max_message_bytes, 262144);
    assert_int_equal(cfg.batch_bytes, 1048576);
    assert_int_equal(cfg.batch_max, 256);
    assert_int_equal(cfg.retry_min_ms, 100);
    assert_int_equal(cfg.retry_max_ms, 30000);
    assert_int_equal(cfg.link_timeout_ms, 10000);
    assert_int_equal(cfg.poll_hold_ms, 30000);
    assert_int_equal(cfg.link_workers, 32);
    assert_int_equal(cfg.link_pipeline, 0);
    assert_int_equal(cfg.control_workers, 16);
    assert_int_equal(cfg.debug, 0);
}

/* test_valid_overrides - given values replace defaults; national, agency */
static void
test_valid_overrides(void **state)
{
    struct unit_tmp *t = *state;
    struct config cfg;
    char path[256], err[4096];

    unit_tmp_write(t, "national.conf",
                   HEAD "id = nat\ntier = national\n"
                        "listen = tcp://127.0.0.1:7100\n"
                        "map_mb = 1\nmap_max_mb = 1\nbatch_max = 10000\n"
                        "max_message_bytes = 1024\ndebug = 1\n"
                        "clock = system\n",
                   path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_OK);
    assert_int_equal(cfg.tier, TIER_NATIONAL);
    assert_string_equal(cfg.upstream, "");
    assert_false(cfg.have_upstream_key);
    assert_int_equal(cfg.map_mb, 1);
    assert_int_equal(cfg.map_max_mb, 1);
    assert_int_equal(cfg.batch_max, 10000);
    assert_int_equal(cfg.max_message_bytes, 1024);
    assert_int_equal(cfg.debug, 1);
    assert_int_equal(cfg.retry_max_ms, 30000);

    /* an agency is a leaf: no listen needed */
    unit_tmp_write(t, "agency.conf",
                   HEAD "id = ag\ntier = agency\n"
                        "upstream = tcp://127.0.0.1:7101\n"
                        "upstream_key = " UPKEY "\n",
                   path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_OK);
    assert_int_equal(cfg.tier, TIER_AGENCY);
    assert_string_equal(cfg.listen, "");
}

/* test_manual_clock - clock = manual:<ISO> gives the instant in us */
static void
test_manual_clock(void **state)
{
    struct unit_tmp *t = *state;
    struct config cfg;
    char path[256], err[4096];

    unit_tmp_write(t, "node.conf",
                   HEAD CITY "clock = manual:2026-01-01T00:00:00Z\n", path,
                   sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_OK);
    assert_true(cfg.clock_manual);
    assert_true(cfg.clock_start_us == INT64_C(1767225600000000));

    unit_tmp_write(t, "offset.conf",
                   HEAD CITY "clock = manual:2026-01-01T08:00:00.25+08:00\n",
                   path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_OK);
    assert_true(cfg.clock_manual);
    assert_true(cfg.clock_start_us == INT64_C(1767225600250000));
}

/* test_missing_file - cannot open names the path */
static void
test_missing_file(void **state)
{
    struct unit_tmp *t = *state;
    struct config cfg;
    char path[256], err[4096], want[300];

    unit_tmp_path(t, "absent.conf", path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_ECONFIG);
    snprintf(want, sizeof(want), "%s: cannot open", path);
    assert_non_null(strstr(err, want));
}

/* test_long_line - inih holds 199 bytes a line: a line of 199 bytes is
 * read whole; a longer one is refused on its own line, with the key, and
 * does not shift the line numbers after it; a long comment is harmless */
static void
test_long_line(void **state)
{
    struct unit_tmp *t = *state;
    struct config cfg;
    char path[256], err[4096], want[300], text[2048], store[256], comment[301];

    memset(comment, 'c', 300);
    comment[0] = ';';
    comment[300] = '\0';
    memset(store, 'a', 191); /* "store = " + 191 bytes: 199 */
    store[0] = '/';
    store[191] = '\0';
    snprintf(text, sizeof(text),
             "[node]\napi_socket = /tmp/relay-unit.sock\nstore = %s\n"
             "%s\nkey = /tmp/relay-unit.key\ndirectory = /tmp/d.ini\n" CITY
             "batch_max = 7\n",
             store, comment);
    unit_tmp_write(t, "ok.conf", text, path, sizeof(path));
    if (config_load(path, &cfg, err, sizeof(err)) != RL_OK)
        fail_msg("a 199-byte line is refused:\n%s", err);
    assert_string_equal(cfg.store, store);
    assert_int_equal(cfg.batch_max, 7);

    /* one byte more */
    snprintf(
        text, sizeof(text),
        "[node]\napi_socket = /tmp/relay-unit.sock\nstore = %sa\n"
        "key = /tmp/relay-unit.key\nbogus = 1\ndirectory = /tmp/d.ini\n" CITY,
        store);
    unit_tmp_write(t, "long.conf", text, path, sizeof(path));
    assert_int_equal(config_load(path, &cfg, err, sizeof(err)), RL_ECONFIG);
    snprintf(want, sizeof(want),
             "%s:3: key 'store': line longer than 199 bytes", path);
    if (strstr(err, want) == NULL)
        fail_msg("want \"%s\" in:\n%s", want, err);
    snprintf(want, sizeof(want), "%s:5: key 'bogus': unknown key", path);
    if (strstr(err, want) == NULL)
        fail_msg("want \"%s\" in:\n%s", want, err);
    if (count_lines(err) != 2)
        fail_msg("want 2 errors, got:\n%s", err);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        UNIT_TMP_TEST(test_valid_defaults), UNIT_TMP_TEST(test_valid_overrides),
        UNIT_TMP_TEST(test_manual_clock),   UNIT_TMP_TEST(test_missing_file),
        UNIT_TMP_TEST(test_long_line),
    };
    struct CMUnitTest tests[NBAD + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NBAD; i++)
        tests[n++] =
            (struct CMUnitTest){bad_cases[i].name, run_bad, unit_tmp_setup,
                                unit_tmp_teardown, (void *)&bad_cases[i]};
    return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
