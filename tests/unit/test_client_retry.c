/* test_client_retry.c - unit tests of client/retry.c: which answers are
 * retried, the bounds of the backoff with its jitter (the random number is
 * injected), and Retry-After in both of its forms; which 5xx are "not now"
 * and which are server errors.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "client/retry.h"

static void test_classify(void **state)
{
    /* "Not now": no answer, 503 (eye.fcgi's database_unavailable and
     * queue_full, a web server without a backend), 502 and 504 (gateways),
     * 408, 429: the same batch again, however often. */
    assert_int_equal(eyec_classify(0, 10, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(503, 10, true), EYEC_RETRY);
    assert_int_equal(eyec_classify(503, 10, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(503, 1, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(502, 10, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(504, 1, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(408, 10, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(429, 10, false), EYEC_RETRY);
    assert_int_equal(eyec_classify(429, 10, true), EYEC_RETRY);
    /* Any 5xx that says when to come back is "not now" too. */
    assert_int_equal(eyec_classify(500, 10, true), EYEC_RETRY);
    assert_int_equal(eyec_classify(507, 1, true), EYEC_RETRY);
    /* Beyond HTTP's range: not understood, sent again. */
    assert_int_equal(eyec_classify(600, 10, false), EYEC_RETRY);
    /* Every other 5xx is a server error on this batch (500 internal_error:
     * MariaDB refused the insert), whatever the batch's size. */
    long failed[] = {500, 501, 505, 507, 508, 511, 599};
    for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
        if (eyec_classify(failed[i], 10, false) != EYEC_SERVER_ERROR ||
            eyec_classify(failed[i], 1, false) != EYEC_SERVER_ERROR)
            fail_msg("status %ld is not a server error", failed[i]);
    }
    /* Answered, per-event verdicts in the body. */
    assert_int_equal(eyec_classify(202, 10, false), EYEC_DONE);
    assert_int_equal(eyec_classify(200, 10, false), EYEC_DONE);
    assert_int_equal(eyec_classify(422, 10, false), EYEC_DONE);
    /* 413: smaller requests, unless there is one event only. */
    assert_int_equal(eyec_classify(413, 2, false), EYEC_SPLIT);
    assert_int_equal(eyec_classify(413, 1, false), EYEC_REJECT);
    /* Every other 4xx, and what is not expected at all, is never retried,
     * Retry-After or not. */
    long refused[] = {400, 401, 403, 404, 405, 409, 411, 415, 418, 451, 301, 302, 100};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (eyec_classify(refused[i], 3, false) != EYEC_REJECT ||
            eyec_classify(refused[i], 3, true) != EYEC_REJECT)
            fail_msg("status %ld is not a rejection", refused[i]);
    }
}

static void test_backoff_bounds(void **state)
{
    const unsigned base = 200, max = 30000;
    uint64_t randoms[] = {0, 1, 2, 99, 12345, UINT64_MAX / 3, UINT64_MAX - 1, UINT64_MAX};
    for (unsigned attempt = 0; attempt < 70; attempt++) {
        uint64_t hi = base;
        for (unsigned i = 0; i < attempt && hi < max; i++)
            hi *= 2;
        if (hi > max)
            hi = max;
        int64_t lo_seen = INT64_MAX, hi_seen = 0;
        for (size_t r = 0; r < sizeof(randoms) / sizeof(randoms[0]); r++) {
            int64_t d = eyec_backoff_ms(attempt, base, max, randoms[r]);
            if (d < (int64_t)(hi / 2) || d > (int64_t)hi)
                fail_msg("attempt %u, random %llu: %lld ms outside [%llu, %llu]", attempt,
                         (unsigned long long)randoms[r], (long long)d, (unsigned long long)(hi / 2),
                         (unsigned long long)hi);
            lo_seen = d < lo_seen ? d : lo_seen;
            hi_seen = d > hi_seen ? d : hi_seen;
        }
        /* The random number really moves the value (jitter). */
        assert_true(lo_seen < hi_seen);
    }
    /* Exact values where the random number pins them. */
    assert_int_equal(eyec_backoff_ms(0, 200, 30000, 0), 100);
    assert_int_equal(eyec_backoff_ms(0, 200, 30000, 100), 200);
    assert_int_equal(eyec_backoff_ms(1, 200, 30000, 0), 200);
    assert_int_equal(eyec_backoff_ms(3, 200, 30000, 800), 1600);
    /* Capped, and never overflowing however large the attempt. */
    assert_int_equal(eyec_backoff_ms(40, 200, 30000, 15000), 30000);
    assert_int_equal(eyec_backoff_ms(UINT32_MAX, 200, 30000, 0), 15000);
    assert_in_range(eyec_backoff_ms(UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT64_MAX), UINT32_MAX / 2,
                    UINT32_MAX);
    /* A base above the cap is the cap. */
    assert_in_range(eyec_backoff_ms(0, 5000, 1000, 7), 500, 1000);
    /* A zero base waits nothing (and does not loop). */
    assert_int_equal(eyec_backoff_ms(UINT32_MAX, 0, 1000, 5), 0);
}

static void test_backoff_spread(void **state)
{
    /* Over many random numbers the jitter covers the whole window. */
    int64_t low = INT64_MAX, high = 0;
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t d = eyec_backoff_ms(4, 200, 30000, x);
        low = d < low ? d : low;
        high = d > high ? d : high;
    }
    assert_in_range(low, 1600, 1650);
    assert_in_range(high, 3150, 3200);
}

static void test_retry_after_seconds(void **state)
{
    int64_t ms = -7;
    assert_true(eyec_retry_after_ms("5", 1000, &ms));
    assert_int_equal(ms, 5000);
    assert_true(eyec_retry_after_ms("0", 1000, &ms));
    assert_int_equal(ms, 0);
    assert_true(eyec_retry_after_ms("  120 \t", 1000, &ms));
    assert_int_equal(ms, 120000);
    /* Huge values are capped, not overflowed. */
    assert_true(eyec_retry_after_ms("99999999999999999999999999", 1000, &ms));
    assert_int_equal(ms, EYEC_RETRY_AFTER_MAX_MS);
    assert_true(eyec_retry_after_ms("3601", 1000, &ms));
    assert_int_equal(ms, EYEC_RETRY_AFTER_MAX_MS);
}

static void test_retry_after_dates(void **state)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 (RFC 9110's example). */
    const time_t when = 784111777;
    int64_t ms = -7;
    assert_true(eyec_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", when - 30, &ms));
    assert_int_equal(ms, 30000);
    /* The two obsolete forms a recipient must accept. */
    assert_true(eyec_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", when - 2, &ms));
    assert_int_equal(ms, 2000);
    assert_true(eyec_retry_after_ms("Sun Nov  6 08:49:37 1994", when - 1, &ms));
    assert_int_equal(ms, 1000);
    /* In the past: retry now. */
    assert_true(eyec_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", when + 100, &ms));
    assert_int_equal(ms, 0);
    /* Far in the future: capped. */
    assert_true(eyec_retry_after_ms("Fri, 01 Jan 2100 00:00:00 GMT", when, &ms));
    assert_int_equal(ms, EYEC_RETRY_AFTER_MAX_MS);
}

static void test_retry_after_garbage(void **state)
{
    const char *bad[] = {"",    "   ", "-5", "+5", "5s", "1.5", "soon", "0x10", "Sun, 99 Foo 1994",
                         "5 6", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        int64_t ms = -7;
        if (eyec_retry_after_ms(bad[i], 1000, &ms))
            fail_msg("'%s' was accepted as %lld ms", bad[i], (long long)ms);
        assert_int_equal(ms, -7); /* untouched */
    }
    int64_t ms = -7;
    assert_false(eyec_retry_after_ms(NULL, 1000, &ms));
}

static void test_retry_delay(void **state)
{
    assert_int_equal(eyec_retry_delay_ms(300, -1), 300);    /* no Retry-After */
    assert_int_equal(eyec_retry_delay_ms(300, 5000), 5000); /* the server asks for longer */
    assert_int_equal(eyec_retry_delay_ms(300, 0), 300);     /* never shorter than the backoff */
    assert_int_equal(eyec_retry_delay_ms(300, INT64_MAX), EYEC_RETRY_AFTER_MAX_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),          cmocka_unit_test(test_backoff_bounds),
        cmocka_unit_test(test_backoff_spread),    cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates), cmocka_unit_test(test_retry_after_garbage),
        cmocka_unit_test(test_retry_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
