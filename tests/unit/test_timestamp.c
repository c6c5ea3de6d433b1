/* test_timestamp.c - unit tests of validators/timestamp.c: accepted forms,
 * calendar edge cases (leap years, month lengths), zone offsets, fraction
 * lengths, garbage and trailing junk, range limits, and formatting.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "validators/timestamp.h"

static bool parse(const char *s, int64_t *us)
{
    return timestamp_parse(s, strlen(s), us);
}

static void assert_ts(const char *s, int64_t expected)
{
    int64_t us = -1;
    if (!parse(s, &us))
        fail_msg("'%s' was rejected", s);
    if (us != expected)
        fail_msg("'%s' gave %lld, expected %lld", s, (long long)us, (long long)expected);
}

static void assert_bad(const char *s)
{
    int64_t us = 42;
    if (parse(s, &us))
        fail_msg("'%s' was accepted", s);
    assert_int_equal(us, 42); /* untouched on failure */
}

static void test_brief_form(void **state)
{
    /* 2021-01-01 09:15:27.243860 UTC = 1609492527.243860 */
    assert_ts("2021-01-01 09:15:27.243860", INT64_C(1609492527243860));
    assert_ts("2021-01-01 09:15:27", INT64_C(1609492527000000));
    assert_ts("1970-01-01 00:00:00", 0);
    assert_ts("1970-01-01 00:00:00.000001", 1);
}

static void test_rfc3339_forms(void **state)
{
    assert_ts("2021-01-01T09:15:27.243860Z", INT64_C(1609492527243860));
    assert_ts("2021-01-01t09:15:27.243860z", INT64_C(1609492527243860));
    assert_ts("2021-01-01T09:15:27Z", INT64_C(1609492527000000));
    assert_ts("2021-01-01T09:15:27", INT64_C(1609492527000000));
    assert_ts("2021-01-01 09:15:27Z", INT64_C(1609492527000000));
    /* Offsets: local 10:15 at +01:00 is 09:15 UTC. */
    assert_ts("2021-01-01T10:15:27+01:00", INT64_C(1609492527000000));
    assert_ts("2021-01-01T04:45:27-04:30", INT64_C(1609492527000000));
    assert_ts("2021-01-01T09:15:27+00:00", INT64_C(1609492527000000));
    assert_ts("2021-01-01T09:15:27-00:00", INT64_C(1609492527000000));
    /* An offset can move the date across a day and a year. */
    assert_ts("2020-12-31T23:15:27-10:00", INT64_C(1609492527000000));
    assert_ts("2021-01-01T23:59:59+23:59", timestamp_from_civil(2021, 1, 1, 0, 0, 59, 0));
}

static void test_fraction_lengths(void **state)
{
    int64_t base = INT64_C(1609492527000000);
    assert_ts("2021-01-01 09:15:27.2", base + 200000);
    assert_ts("2021-01-01 09:15:27.24", base + 240000);
    assert_ts("2021-01-01 09:15:27.243", base + 243000);
    assert_ts("2021-01-01 09:15:27.2438", base + 243800);
    assert_ts("2021-01-01 09:15:27.24386", base + 243860);
    assert_ts("2021-01-01 09:15:27.243860", base + 243860);
    /* 7 to 9 digits are truncated to microseconds, not rounded. */
    assert_ts("2021-01-01T09:15:27.2438609Z", base + 243860);
    assert_ts("2021-01-01T09:15:27.24386099Z", base + 243860);
    assert_ts("2021-01-01T09:15:27.999999999Z", base + 999999);
    assert_bad("2021-01-01T09:15:27.1234567890Z"); /* 10 digits */
    assert_bad("2021-01-01 09:15:27.");
    assert_bad("2021-01-01 09:15:27.Z");
}

static void test_leap_years(void **state)
{
    int64_t us;
    assert_true(parse("2024-02-29 00:00:00", &us)); /* divisible by 4 */
    assert_int_equal(us, timestamp_from_civil(2024, 2, 29, 0, 0, 0, 0));
    assert_true(parse("2000-02-29 12:00:00", &us)); /* divisible by 400 */
    assert_bad("1900-02-29 00:00:00");              /* below range anyway */
    assert_bad("2100-02-29 00:00:00");              /* divisible by 100, not 400 */
    assert_bad("2023-02-29 00:00:00");
    assert_bad("2024-02-30 00:00:00");
    assert_true(parse("2023-02-28 23:59:59", &us));
    /* Day after Feb 29 is Mar 1. */
    int64_t feb29, mar1;
    assert_true(parse("2024-02-29 00:00:00", &feb29));
    assert_true(parse("2024-03-01 00:00:00", &mar1));
    assert_int_equal(mar1 - feb29, INT64_C(86400000000));
    /* 1900 is not a leap year; checked through the arithmetic, since the
     * parser's range starts in 1970. */
    assert_int_equal(timestamp_from_civil(1900, 3, 1, 0, 0, 0, 0) -
                         timestamp_from_civil(1900, 2, 28, 0, 0, 0, 0),
                     INT64_C(86400000000));
}

static void test_month_lengths(void **state)
{
    int64_t us;
    assert_true(parse("2021-01-31 00:00:00", &us));
    assert_true(parse("2021-04-30 00:00:00", &us));
    assert_bad("2021-04-31 00:00:00");
    assert_bad("2021-06-31 00:00:00");
    assert_bad("2021-09-31 00:00:00");
    assert_bad("2021-11-31 00:00:00");
    assert_true(parse("2021-12-31 23:59:59.999999", &us));
    assert_bad("2021-00-10 00:00:00");
    assert_bad("2021-13-10 00:00:00");
    assert_bad("2021-01-00 00:00:00");
    assert_bad("2021-01-32 00:00:00");
}

static void test_time_fields(void **state)
{
    assert_bad("2021-01-01 24:00:00");
    assert_bad("2021-01-01 23:60:00");
    assert_bad("2021-01-01 23:59:60"); /* leap second: refused, documented */
    assert_bad("2021-01-01T09:15:27+24:00");
    assert_bad("2021-01-01T09:15:27+01:60");
}

static void test_range(void **state)
{
    int64_t us;
    assert_bad("1969-12-31 23:59:59");
    assert_bad("1970-01-01T00:30:00+01:00"); /* before the epoch in UTC */
    assert_true(parse("9999-12-31 23:59:59.999999", &us));
    assert_int_equal(us, TIMESTAMP_MAX_US);
    assert_bad("9999-12-31T23:59:59-00:01"); /* past year 9999 in UTC */
    assert_bad("0000-01-01 00:00:00");
}

static void test_garbage(void **state)
{
    assert_bad("");
    assert_bad("2021");
    assert_bad("2021-01-01");
    assert_bad("2021-01-01 09:15");
    assert_bad("21-01-01 09:15:27");
    assert_bad("2021/01/01 09:15:27");
    assert_bad("2021-1-01 09:15:27");
    assert_bad("2021-01-01  09:15:27");
    assert_bad("2021-01-01X09:15:27");
    assert_bad(" 2021-01-01 09:15:27");
    assert_bad("2021-01-01 09:15:27 ");
    assert_bad("2021-01-01 09:15:27Zjunk");
    assert_bad("2021-01-01 09:15:27+01");
    assert_bad("2021-01-01 09:15:27+0100");
    assert_bad("2021-01-01 09:15:27+01:00:00");
    assert_bad("2021-01-01 09:15:27UTC");
    assert_bad("２０２１-01-01 09:15:27");
    assert_bad("+2021-01-01 09:15:27");
    assert_bad("2021-01-01 09:15:2a");
    /* Length is respected: no reading past len, no NUL needed. */
    int64_t us;
    assert_true(timestamp_parse("2021-01-01 09:15:27.5XXXX", 21, &us));
    assert_int_equal(us, INT64_C(1609492527500000));
    assert_false(timestamp_parse("2021-01-01 09:15:27", 18, &us));
    assert_false(timestamp_parse(NULL, 0, &us));
}

static void test_rfc3339_strict(void **state)
{
    int64_t us;
    const char *zoned = "2021-01-01T09:15:27Z";
    const char *bare = "2021-01-01T09:15:27";
    assert_true(timestamp_parse_rfc3339(zoned, strlen(zoned), &us));
    assert_false(timestamp_parse_rfc3339(bare, strlen(bare), &us));
}

static void test_format(void **state)
{
    char out[TIMESTAMP_FORMAT_LEN + 1];
    timestamp_format(INT64_C(1609492527243860), out);
    assert_string_equal(out, "2021-01-01 09:15:27.243860");
    timestamp_format(0, out);
    assert_string_equal(out, "1970-01-01 00:00:00.000000");
    timestamp_format(TIMESTAMP_MAX_US, out);
    assert_string_equal(out, "9999-12-31 23:59:59.999999");
    timestamp_format(-5, out);
    assert_string_equal(out, "1970-01-01 00:00:00.000000");
    timestamp_format(INT64_MAX, out);
    assert_string_equal(out, "9999-12-31 23:59:59.999999");
    int64_t us;
    assert_true(parse("2024-02-29T13:14:15.000016+02:00", &us));
    timestamp_format(us, out);
    assert_string_equal(out, "2024-02-29 11:14:15.000016");
}

static void test_round_trip(void **state)
{
    /* Every day over four centuries boundaries round-trips. */
    char out[TIMESTAMP_FORMAT_LEN + 1];
    for (int64_t day = 0; day < 2932897; day += 97) { /* up to 9999-12-31 */
        int64_t us = day * INT64_C(86400000000) + (day % 86400) * 1000000 + day % 1000000;
        int64_t back;
        timestamp_format(us, out);
        if (!timestamp_parse(out, strlen(out), &back) || back != us)
            fail_msg("round trip failed for %lld (%s)", (long long)us, out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brief_form),
        cmocka_unit_test(test_rfc3339_forms),
        cmocka_unit_test(test_fraction_lengths),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_month_lengths),
        cmocka_unit_test(test_time_fields),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_rfc3339_strict),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
