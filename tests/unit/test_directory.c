/*
 * test_directory.c - the directory file and routing along its tree.
 *
 * The tree used throughout:
 *
 *              nat (national)
 *             /              \
 *       city-c (city)     min-m (ministry)
 *        /        \              \
 *   ag-a1       ag-a2           ag-a3      (agencies)
 *
 * Bad directories must each be refused with "file:LINE: [section] key 'k'".
 */
#include "unit_tmp.h"

#include "config.h"
#include "directory.h"
#include "dirlog.h"
#include "keys.h"

/* clang-format off */
#define K(b) "key = " b b b b b b b b b b b b b b b b \
                      b b b b b b b b b b b b b b b b "\n"

/* Lines 1-6, 7-12, 13-18, 19-24, 25-30, 31-36. */
#define NAT "[nat]\ntier = national\nsector = none\n" K("01") "\n\n"
#define CITY_C "[city-c]\ntier = city\nparent = nat\n" K("02") "\n\n"
#define MIN_M "[min-m]\ntier = ministry\nparent = nat\n" K("03") \
    "sector = energy\n\n"
#define AG_A1 "[ag-a1]\ntier = agency\nparent = city-c\ncity = city-c\n" \
    K("04") "sector = ict\n"
#define AG_A2 "[ag-a2]\ntier = agency\nparent = city-c\ncity = city-c\n" \
    K("05") "\n"
#define AG_A3 "[ag-a3]\ntier = agency\nparent = min-m\n" K("06") \
    "sector = health\n\n"
/* 240 bytes: with "city = " more than inih's 199-byte line */
#define A30 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A240 A30 A30 A30 A30 A30 A30 A30 A30
/* clang-format on */
#define TREE NAT CITY_C MIN_M AG_A1 AG_A2 AG_A3

enum { N, C, M, A1, A2, A3, NNODES };
static const char *const ids[NNODES] = {"nat",   "city-c", "min-m",
                                        "ag-a1", "ag-a2",  "ag-a3"};

/* next_hop[from][to] - the neighbour of from towards to */
/* clang-format off */
static const int next_hop[NNODES][NNODES] = {
    /*         N   C   M   A1  A2  A3 */
    [N] =  {-1, C,  M,  C,  C,  M},
    [C] =  {N,  -1, N,  A1, A2, N},
    [M] =  {N,  N,  -1, N,  N,  A3},
    [A1] = {C,  C,  C,  -1, C,  C},
    [A2] = {C,  C,  C,  C,  -1, C},
    [A3] = {M,  M,  M,  M,  M,  -1},
};
/* clang-format on */

struct bad_case {
    const char *name;
    const char *text;
    int line; /* 0: the error has no line */
    const char *section;
    const char *key;
    const char *why;  /* a part of the reason */
    int nerr;         /* errors in all, one per line */
    const char *also; /* another error, from its line on, or NULL */
};

static const struct bad_case bad_cases[] = {
    {"missing key", NAT "[city-c]\ntier = city\nparent = nat\n", 8, "city-c",
     "key", "missing", 1, NULL},
    {"bad key hex", NAT "[city-c]\ntier = city\nparent = nat\nkey = 0102zz\n",
     10, "city-c", "key", "64 hex digits", 1, NULL},
    {"key one digit short",
     NAT "[city-c]\ntier = city\nparent = nat\nkey = "
         "020202020202020202020202020202020202020202020202020202020202020\n",
     10, "city-c", "key", "64 hex digits", 1, NULL},
    {"key given twice",
     NAT "[city-c]\ntier = city\nparent = nat\n" K("02") K("0f"), 11, "city-c",
     "key", "given twice", 1, NULL},
    {"node given twice", TREE "[ag-a1]\n" K("0e"), 38, "ag-a1", "key",
     "given twice", 1, NULL},
    {"unknown parent", NAT "[city-c]\ntier = city\nparent = nowhere\n" K("02"),
     9, "city-c", "parent", "names no node", 1, NULL},
    {"unknown city",
     NAT CITY_C "[ag-x]\ntier = agency\nparent = city-c\n"
                "city = atlantis\n" K("09"),
     16, "ag-x", "city", "names no node", 1, NULL},
    {"two national nodes", TREE "[nat2]\n" K("07") "tier = national\n", 39,
     "nat2", "tier", "a second national node", 1, NULL},
    {"national with a parent",
     "[nat]\ntier = national\nparent = city-c\n" K("01") CITY_C, 3, "nat",
     "parent", "national node has no parent", 1, NULL},
    /* city-c's parent is missing as well */
    {"no national node", CITY_C, 0, "-", "tier", "no national node", 2, NULL},
    {"parent cycle",
     NAT "[x]\ntier = city\nparent = y\n" K("08") "[y]\ntier = city\n"
                                                  "parent = x\n" K("09"),
     9, "x", "parent", "loops", 1, NULL},
    {"parent is itself", NAT "[x]\ntier = city\n" K("08") "parent = x\n", 10,
     "x", "parent", "loops", 1, NULL},
    {"missing parent", NAT "[x]\ntier = city\n" K("08"), 8, "x", "parent",
     "missing", 1, NULL},
    {"missing tier", NAT "[x]\nparent = nat\n" K("08"), 8, "x", "tier",
     "missing", 1, NULL},
    {"bad tier", NAT "[x]\nparent = nat\ntier = county\n" K("08"), 9, "x",
     "tier", "not one of", 1, NULL},
    {"unknown sector",
     TREE "[ag-w]\ntier = agency\nparent = city-c\n" K("0a") "sector = water\n",
     41, "ag-w", "sector", "unknown sector", 1, NULL},
    {"unknown key name",
     NAT "[x]\ntier = city\nparent = nat\ncolour = red\n" K("08"), 10, "x",
     "colour", "unknown key", 1, NULL},
    {"line longer than inih's buffer",
     NAT "[x]\ntier = city\nparent = nat\ncity = " A240
         "\nsector = nonsense\n" K("08"),
     10, "x", "city", "line longer than 199 bytes", 2,
     ":11: [x] key 'sector': unknown sector\n"},
    /* the tree rules (issue 8 finding 9), shared with enrolment at N-CERT */
    {"two nodes with one key",
     TREE "[ag-x]\ntier = agency\nparent = city-c\n" K("04"), 40, "ag-x", "key",
     "the same key as [ag-a1]", 1, NULL},
    {"a city under an agency",
     TREE "[city-x]\ntier = city\nparent = ag-a1\n" K("0b"), 39, "city-x",
     "parent", "[ag-a1] is an agency; a parent must be a city", 1, NULL},
    {"a city that is a ministry",
     NAT CITY_C MIN_M "[ag-x]\ntier = agency\nparent = min-m\ncity = min-m\n" K("0c"),
     22, "ag-x", "city", "[min-m] is a ministry, not a city", 1, NULL},
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

/* load_tree - write TREE and load it */
static void
load_tree(struct unit_tmp *t, struct directory *d)
{
    char path[256], err[4096];

    unit_tmp_write(t, "dir.ini", TREE, path, sizeof(path));
    if (dir_load(path, d, err, sizeof(err)) != RL_OK)
        fail_msg("the tree is refused:\n%s", err);
    assert_string_equal(err, "");
}

/* test_load_tree - every field of every node */
static void
test_load_tree(void **state)
{
    static const struct {
        int tier, parent, sector;
        const char *city;
    } want[NNODES] = {
        [N] = {TIER_NATIONAL, -1, 0, ""},
        [C] = {TIER_CITY, N, 0, ""},
        [M] = {TIER_MINISTRY, N, 3 /* energy */, ""},
        [A1] = {TIER_AGENCY, C, 2 /* ict */, "city-c"},
        [A2] = {TIER_AGENCY, C, 0, "city-c"},
        [A3] = {TIER_AGENCY, M, 7 /* health */, ""},
    };
    struct directory d;
    uint8_t pk[32];

    load_tree(*state, &d);
    assert_int_equal(d.n, NNODES);
    assert_string_equal(dir_national(&d), "nat");
    for (int i = 0; i < NNODES; i++) {
        const struct dir_node *e = dir_find(&d, ids[i]);
        assert_non_null(e);
        assert_string_equal(e->id, ids[i]);
        assert_int_equal(e->tier, want[i].tier);
        assert_int_equal(e->sector, want[i].sector);
        assert_string_equal(e->city, want[i].city);
        if (want[i].parent < 0) {
            assert_int_equal(e->parent_ix, -1);
            assert_int_equal(&d.nodes[d.root], e);
        } else {
            assert_string_equal(d.nodes[e->parent_ix].id, ids[want[i].parent]);
            assert_string_equal(e->parent, ids[want[i].parent]);
        }
        memset(pk, i + 1, sizeof(pk));
        assert_memory_equal(e->pk, pk, 32);
    }
    assert_null(dir_find(&d, "nobody"));
    assert_null(dir_find(&d, ""));
    assert_int_equal(dir_sector_parse("energy"), 3);
    assert_string_equal(dir_sector_name(3), "energy");
    dir_free(&d);
    assert_null(d.nodes);
    assert_int_equal(d.n, 0);
}

/* test_next_hop - the whole from x to table, plus self and strangers */
static void
test_next_hop(void **state)
{
    struct directory d;
    const char *got;

    load_tree(*state, &d);
    for (int f = 0; f < NNODES; f++) {
        for (int to = 0; to < NNODES; to++) {
            got = dir_next_hop(&d, ids[f], ids[to]);
            if (next_hop[f][to] < 0) {
                if (got != NULL)
                    fail_msg("%s -> itself gave %s", ids[f], got);
                continue;
            }
            if (got == NULL || strcmp(got, ids[next_hop[f][to]]) != 0)
                fail_msg("%s -> %s: got %s, want %s", ids[f], ids[to],
                         got ? got : "NULL", ids[next_hop[f][to]]);
        }
        assert_null(dir_next_hop(&d, ids[f], "nobody"));
        assert_null(dir_next_hop(&d, "nobody", ids[f]));
    }
    dir_free(&d);
}

/* test_in_subtree - at or below a root */
static void
test_in_subtree(void **state)
{
    static const struct {
        const char *root, *id;
        int want;
    } rows[] = {
        {"nat", "nat", 1},       {"nat", "ag-a3", 1},    {"nat", "ag-a1", 1},
        {"city-c", "city-c", 1}, {"city-c", "ag-a1", 1}, {"city-c", "ag-a2", 1},
        {"city-c", "ag-a3", 0},  {"city-c", "min-m", 0}, {"city-c", "nat", 0},
        {"min-m", "ag-a3", 1},   {"min-m", "ag-a1", 0},  {"ag-a1", "ag-a1", 1},
        {"ag-a1", "ag-a2", 0},   {"ag-a1", "city-c", 0}, {"nobody", "ag-a1", 0},
        {"nat", "nobody", 0},
    };
    struct directory d;

    load_tree(*state, &d);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (dir_in_subtree(&d, rows[i].root, rows[i].id) != rows[i].want)
            fail_msg("dir_in_subtree(%s, %s) != %d", rows[i].root, rows[i].id,
                     rows[i].want);
    dir_free(&d);
}

/* test_index_matches_scan - lookups through the id index (dir_load builds
 * it) agree with a scan (a copy has none); a node appended after the index
 * was built is found (the stale index is not used), and found again through
 * a rebuilt one (issue 9 item 2: a directory of 4,000 children) */
static void
test_index_matches_scan(void **state)
{
    struct directory d, s;
    struct dir_node *nn;

    load_tree(*state, &d);
    assert_non_null(d.ix);
    assert_int_equal(dirlog_copy(&d, &s), RL_OK);
    assert_null(s.ix);
    for (int f = 0; f < NNODES; f++) {
        assert_ptr_equal(dir_find(&d, ids[f]), &d.nodes[f]);
        assert_ptr_equal(dir_find(&s, ids[f]), &s.nodes[f]);
        for (int to = 0; to < NNODES; to++)
            assert_int_equal(dir_next_hop_ix(&d, ids[f], ids[to]),
                             dir_next_hop_ix(&s, ids[f], ids[to]));
    }
    assert_null(dir_find(&d, "ag-a4"));
    /* an enrolment appends: d's index no longer covers every node */
    nn = realloc(d.nodes, (d.n + 1) * sizeof(*nn));
    assert_non_null(nn);
    d.nodes = nn;
    memset(&d.nodes[d.n], 0, sizeof(d.nodes[0]));
    strcpy(d.nodes[d.n].id, "ag-a4");
    d.nodes[d.n].parent_ix = M;
    d.n++;
    assert_ptr_equal(dir_find(&d, "ag-a4"), &d.nodes[NNODES]);
    assert_int_equal(dir_next_hop_ix(&d, "nat", "ag-a4"), M);
    assert_int_equal(dir_index_build(&d), RL_OK);
    assert_ptr_equal(dir_find(&d, "ag-a4"), &d.nodes[NNODES]);
    assert_int_equal(dir_next_hop_ix(&d, "min-m", "ag-a4"), NNODES);
    for (int f = 0; f < NNODES; f++)
        assert_ptr_equal(dir_find(&d, ids[f]), &d.nodes[f]);
    assert_null(dir_find(&d, "nobody"));
    dir_free(&s);
    dir_free(&d);
    assert_null(d.ix);
}

/* test_missing_file - cannot open names the path; nothing allocated */
static void
test_missing_file(void **state)
{
    struct directory d;
    char path[256], err[4096], want[300];

    unit_tmp_path(*state, "absent.ini", path, sizeof(path));
    assert_int_equal(dir_load(path, &d, err, sizeof(err)), RL_ECONFIG);
    snprintf(want, sizeof(want), "%s: cannot open", path);
    assert_non_null(strstr(err, want));
    assert_null(d.nodes);
}

/* test_enrol_rules - N-CERT checks an enrolment or a rotation with the same
 * tree rules as dir-init (dir_rule_check), naming the other node */
static void
test_enrol_rules(void **state)
{
    static const struct {
        const char *name, *id, *parent, *city;
        int tier;
        uint8_t key;
        const char *why; /* NULL: applied */
    } rows[] = {
        {"one key for two nodes", "ag-x", "city-c", "", TIER_AGENCY, 0x04,
         "enrol 'ag-x': the same key as [ag-a1]"},
        {"a city under an agency", "city-x", "ag-a1", "", TIER_CITY, 0x0b,
         "enrol 'city-x': [ag-a1] is an agency; a parent must be"},
        {"a city that is a ministry", "ag-y", "min-m", "min-m", TIER_AGENCY, 0x0c,
         "enrol 'ag-y': [min-m] is a ministry, not a city"},
        {"a good agency", "ag-z", "city-c", "city-c", TIER_AGENCY, 0x0d, NULL},
    };
    struct directory d;
    uint8_t key[32];
    char err[256];

    load_tree(*state, &d);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        Relay__DirEntry e = RELAY__DIR_ENTRY__INIT;
        Relay__DirChange c = RELAY__DIR_CHANGE__INIT;
        int rc;

        memset(key, rows[i].key, sizeof(key));
        e.id = (char *)rows[i].id;
        e.parent = (char *)rows[i].parent;
        e.city = (char *)rows[i].city;
        e.tier = (Relay__Tier)rows[i].tier;
        e.key.data = key;
        e.key.len = sizeof(key);
        c.seq = d.seq + 1;
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ENROL;
        c.enrol = &e;
        err[0] = '\0';
        rc = dirlog_apply(&d, &c, err, sizeof(err));
        if (rows[i].why == NULL && rc != RL_OK)
            fail_msg("%s: refused: %s", rows[i].name, err);
        if (rows[i].why != NULL && (rc == RL_OK || strstr(err, rows[i].why) == NULL))
            fail_msg("%s: want \"%s\", got \"%s\"", rows[i].name, rows[i].why, err);
    }
    {   /* a rotation to a key another node holds */
        Relay__DirChange c = RELAY__DIR_CHANGE__INIT;
        Relay__DirEntry r = RELAY__DIR_ENTRY__INIT;

        memset(key, 0x05, sizeof(key)); /* ag-a2's */
        r.id = "ag-a1";
        r.key.data = key;
        r.key.len = sizeof(key);
        c.seq = d.seq + 1;
        c.at_us = 1;
        c.change_case = RELAY__DIR_CHANGE__CHANGE_ROTATE;
        c.rotate = &r;
        assert_int_equal(dirlog_apply(&d, &c, err, sizeof(err)), RL_EINVAL);
        if (strstr(err, "rotate 'ag-a1': the same key as [ag-a2]") == NULL)
            fail_msg("rotation: got \"%s\"", err);
    }
    dir_free(&d);
}

/* run_bad - refused, nothing allocated, the error names file:line and key */
static void
run_bad(void **state)
{
    struct unit_tmp *t = *state;
    const struct bad_case *c = t->c;
    struct directory d;
    char path[256], err[4096], want[512];

    unit_tmp_write(t, "dir.ini", c->text, path, sizeof(path));
    assert_int_equal(dir_load(path, &d, err, sizeof(err)), RL_ECONFIG);
    assert_null(d.nodes);
    assert_int_equal(d.n, 0);
    if (c->line)
        snprintf(want, sizeof(want), "%s:%d: [%s] key '%s': ", path, c->line,
                 c->section, c->key);
    else
        snprintf(want, sizeof(want), "%s: [%s] key '%s': ", path, c->section,
                 c->key);
    if (strstr(err, want) == NULL)
        fail_msg("want \"%s\" in:\n%s", want, err);
    if (strstr(strstr(err, want), c->why) == NULL)
        fail_msg("want \"%s\" in:\n%s", c->why, err);
    if (count_lines(err) != c->nerr)
        fail_msg("want %d error(s), got:\n%s", c->nerr, err);
    if (c->also != NULL && strstr(err, c->also) == NULL)
        fail_msg("want \"%s\" in:\n%s", c->also, err);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        UNIT_TMP_TEST(test_load_tree),
        UNIT_TMP_TEST(test_next_hop),
        UNIT_TMP_TEST(test_in_subtree),
        UNIT_TMP_TEST(test_index_matches_scan),
        UNIT_TMP_TEST(test_missing_file),
        UNIT_TMP_TEST(test_enrol_rules),
    };
    struct CMUnitTest tests[NBAD + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    for (size_t i = 0; i < NBAD; i++)
        tests[n++] =
            (struct CMUnitTest){bad_cases[i].name, run_bad, unit_tmp_setup,
                                unit_tmp_teardown, (void *)&bad_cases[i]};
    return _cmocka_run_group_tests("directory", tests, n, NULL, NULL);
}
