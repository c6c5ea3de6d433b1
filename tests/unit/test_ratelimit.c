/* test_ratelimit.c - fcgi/ratelimit.c: the burst, the refill, Retry-After,
 * check versus take, the two tables apart, per_second 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fcgi/ratelimit.h"

#define SEC 1000000LL

static void test_burst_then_refill(void **state)
{
    (void)state;
    int64_t retry = 0, t = 1000 * SEC;
    for (int i = 0; i < 5; i++)
        assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 7, t, 1, 5, &retry));
    assert_false(ratelimit_take(RATELIMIT_AUTH_FAILURE, 7, t, 1, 5, &retry));
    assert_int_equal(retry, 1);
    /* Half a token later: still none, still 1 s (rounded up). */
    assert_false(ratelimit_check(RATELIMIT_AUTH_FAILURE, 7, t + SEC / 2, 1, 5, &retry));
    assert_int_equal(retry, 1);
    /* One second later, exactly one token. */
    assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 7, t + SEC, 1, 5, &retry));
    assert_false(ratelimit_take(RATELIMIT_AUTH_FAILURE, 7, t + SEC, 1, 5, &retry));
    /* A long pause refills to the burst, not beyond. */
    int n = 0;
    while (ratelimit_take(RATELIMIT_AUTH_FAILURE, 7, t + 100 * SEC, 1, 5, &retry))
        n++;
    assert_int_equal(n, 5);
}

static void test_check_takes_nothing(void **state)
{
    (void)state;
    int64_t retry = 0, t = 2000 * SEC;
    for (int i = 0; i < 100; i++)
        assert_true(ratelimit_check(RATELIMIT_AUTH_FAILURE, 8, t, 1, 2, &retry));
    assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 8, t, 1, 2, &retry));
    assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 8, t, 1, 2, &retry));
    assert_false(ratelimit_check(RATELIMIT_AUTH_FAILURE, 8, t, 1, 2, &retry));
}

static void test_slow_rate_retry_after(void **state)
{
    (void)state;
    int64_t retry = 0, t = 3000 * SEC;
    /* 1 per second with a burst of 1, spent: a token in 1 s; at 3 per
     * second the wait is a third of a second, said as 1. */
    assert_true(ratelimit_take(RATELIMIT_BROWSER_KEY, 9, t, 3, 1, &retry));
    assert_false(ratelimit_take(RATELIMIT_BROWSER_KEY, 9, t, 3, 1, &retry));
    assert_int_equal(retry, 1);
    assert_true(ratelimit_take(RATELIMIT_BROWSER_KEY, 9, t + SEC / 3 + 1, 3, 1, &retry));
}

static void test_tables_and_ids_apart(void **state)
{
    (void)state;
    int64_t retry = 0, t = 4000 * SEC;
    assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 10, t, 1, 1, &retry));
    assert_false(ratelimit_take(RATELIMIT_AUTH_FAILURE, 10, t, 1, 1, &retry));
    /* The same id in the other table, and another id, have their own. */
    assert_true(ratelimit_take(RATELIMIT_BROWSER_KEY, 10, t, 1, 1, &retry));
    assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 11, t, 1, 1, &retry));
}

static void test_zero_rate_never_limits(void **state)
{
    (void)state;
    int64_t retry = 0;
    for (int i = 0; i < 1000; i++)
        assert_true(ratelimit_take(RATELIMIT_AUTH_FAILURE, 12, 5000 * SEC, 0, 1, &retry));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_check_takes_nothing),
        cmocka_unit_test(test_slow_rate_retry_after),
        cmocka_unit_test(test_tables_and_ids_apart),
        cmocka_unit_test(test_zero_rate_never_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
