/*
 * test_clock.c - ISO 8601 parsing and formatting, the manual clock.
 *
 * Expected values were computed independently with Python's datetime.
 * Every valid case is also formatted and parsed back; every invalid case
 * must return -1 and leave the output untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"

struct parse_case {
    const char *name;
    const char *text;
    int ok;
    int64_t us;
    const char *canon; /* clock_format_iso of us */
};

#define NEW_YEAR_2026 INT64_C(1767225600000000)

static const struct parse_case parse_cases[] = {
    {"UTC with Z", "2026-01-01T00:00:00Z", 1, NEW_YEAR_2026,
     "2026-01-01T00:00:00.000000Z"},
    {"+08:00 offset", "2026-01-01T08:00:00+08:00", 1, NEW_YEAR_2026,
     "2026-01-01T00:00:00.000000Z"},
    {"-05:00 offset, previous day", "2025-12-31T19:00:00-05:00", 1,
     NEW_YEAR_2026, "2026-01-01T00:00:00.000000Z"},
    {"+05:30 offset", "2026-01-01T05:30:00+05:30", 1, NEW_YEAR_2026,
     "2026-01-01T00:00:00.000000Z"},
    {"space instead of T", "2026-01-01 00:00:00Z", 1, NEW_YEAR_2026,
     "2026-01-01T00:00:00.000000Z"},
    {"microseconds and offset", "2024-05-01T09:40:00.123456+08:00", 1,
     INT64_C(1714527600123456), "2024-05-01T01:40:00.123456Z"},
    {"one fractional digit", "2026-01-01T00:00:00.5Z", 1,
     NEW_YEAR_2026 + 500000, "2026-01-01T00:00:00.500000Z"},
    {"seven fractional digits truncate", "2026-01-01T00:00:00.1234567Z", 1,
     NEW_YEAR_2026 + 123456, "2026-01-01T00:00:00.123456Z"},
    {"last microsecond of 1999", "1999-12-31T23:59:59.999999Z", 1,
     INT64_C(946684799999999), "1999-12-31T23:59:59.999999Z"},
    {"Feb 29 of a leap year", "2024-02-29T00:00:00Z", 1,
     INT64_C(1709164800000000), "2024-02-29T00:00:00.000000Z"},
    {"Feb 29 of 2000 (divisible by 400)", "2000-02-29T12:00:00Z", 1,
     INT64_C(951825600000000), "2000-02-29T12:00:00.000000Z"},
    {"before the epoch", "1969-12-31T23:59:59.5Z", 1, INT64_C(-500000),
     "1969-12-31T23:59:59.500000Z"},
    {"past 2^31 seconds", "2038-01-19T03:14:08Z", 1, INT64_C(2147483648000000),
     "2038-01-19T03:14:08.000000Z"},

    {"Feb 29 of a common year", "2023-02-29T00:00:00Z", 0, 0, NULL},
    {"Feb 29 of 1900 (century)", "1900-02-29T00:00:00Z", 0, 0, NULL},
    {"Feb 30", "2024-02-30T00:00:00Z", 0, 0, NULL},
    {"Apr 31", "2026-04-31T00:00:00Z", 0, 0, NULL},
    {"month 13", "2026-13-01T00:00:00Z", 0, 0, NULL},
    {"month 0", "2026-00-01T00:00:00Z", 0, 0, NULL},
    {"day 0", "2026-01-00T00:00:00Z", 0, 0, NULL},
    {"hour 24", "2026-01-01T24:00:00Z", 0, 0, NULL},
    {"minute 60", "2026-01-01T00:60:00Z", 0, 0, NULL},
    {"no zone", "2026-01-01T00:00:00", 0, 0, NULL},
    {"lower-case z", "2026-01-01T00:00:00z", 0, 0, NULL},
    {"offset without colon", "2026-01-01T00:00:00+0800", 0, 0, NULL},
    {"offset hour 24", "2026-01-01T00:00:00+24:00", 0, 0, NULL},
    {"dot without digits", "2026-01-01T00:00:00.Z", 0, 0, NULL},
    {"one-digit month", "2026-1-01T00:00:00Z", 0, 0, NULL},
    {"no seconds", "2026-01-01T00:00Z", 0, 0, NULL},
    {"date only", "2026-01-01", 0, 0, NULL},
    {"bad separator", "2026-01-01X00:00:00Z", 0, 0, NULL},
    {"trailing space", "2026-01-01T00:00:00Z ", 0, 0, NULL},
    {"trailing garbage", "2026-01-01T00:00:00Zjunk", 0, 0, NULL},
    {"empty", "", 0, 0, NULL},
    {"words", "yesterday", 0, 0, NULL},
};
#define NPARSE (sizeof(parse_cases) / sizeof(parse_cases[0]))

/* run_parse - one row: parse, and for valid rows format and parse back */
static void
run_parse(void **state)
{
    const struct parse_case *c = *state;
    const int64_t sentinel = INT64_C(0x5a5a5a5a5a5a5a5a);
    int64_t us = sentinel, back = 0;
    char buf[40];

    if (!c->ok) {
        assert_int_equal(clock_parse_iso(c->text, &us), -1);
        assert_true(us == sentinel);
        return;
    }
    assert_int_equal(clock_parse_iso(c->text, &us), 0);
    if (us != c->us)
        fail_msg("%s: got %lld, want %lld", c->text, (long long)us,
                 (long long)c->us);
    clock_format_iso(us, buf, sizeof(buf));
    assert_string_equal(buf, c->canon);
    assert_int_equal(clock_parse_iso(buf, &back), 0);
    assert_true(back == us);
}

/* test_format_round_trip - format then parse gives back every instant */
static void
test_format_round_trip(void **state)
{
    static const int64_t instants[] = {
        0,
        1,
        999999,
        1000000,
        -1,
        -999999,
        -1000000,
        -1000001,
        INT64_C(1700000000000000),
        INT64_C(1714527600123456),
        INT64_C(4102444799999999), /* 2099-12-31T23:59:59.999999Z */
    };
    char buf[40];
    int64_t back;

    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        clock_format_iso(instants[i], buf, sizeof(buf));
        assert_int_equal(strlen(buf), 27);
        assert_int_equal(clock_parse_iso(buf, &back), 0);
        if (back != instants[i])
            fail_msg("%lld -> %s -> %lld", (long long)instants[i], buf,
                     (long long)back);
    }
    clock_format_iso(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
}

/* test_manual_clock - frozen, moved only by clock_set_us */
static void
test_manual_clock(void **state)
{
    int64_t now = clock_now_us();

    /* system mode: the wall clock, and set is refused */
    assert_false(clock_is_manual());
    assert_true(now > INT64_C(1700000000000000));
    assert_int_equal(clock_set_us(NEW_YEAR_2026), -1);
    assert_true(clock_now_us() != NEW_YEAR_2026);

    clock_use_manual(NEW_YEAR_2026);
    assert_true(clock_is_manual());
    assert_true(clock_now_us() == NEW_YEAR_2026);
    assert_true(clock_now_us() == NEW_YEAR_2026);
    assert_int_equal(clock_set_us(NEW_YEAR_2026 + 86400000000), 0);
    assert_true(clock_now_us() == NEW_YEAR_2026 + 86400000000);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_manual_clock),
    };
    struct CMUnitTest tests[NPARSE + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < NPARSE; i++)
        tests[n++] = (struct CMUnitTest){parse_cases[i].name, run_parse, NULL,
                                         NULL, (void *)&parse_cases[i]};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    return _cmocka_run_group_tests("clock", tests, n, NULL, NULL);
}
