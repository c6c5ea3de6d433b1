/* test_client_plan.c - unit tests of client/plan.c, the plan that sends one
 * batch: driven against a simulated server that answers each request from
 * what it holds (events it cannot store, a request-size limit, a stretch
 * of "not now" answers, a stretch of server errors), the way eye.fcgi
 * answers (500 for a request with an event MariaDB refuses, 503 while it is
 * unavailable, 413 above ingest.max_events_per_request).
 *
 * Every run checks the plan's promises: it ends; every event is settled
 * exactly once, in the batch's order (the next part settled always starts
 * where the previous ended); only the events the server cannot take are
 * given up on, and only after server_error_attempts server errors each; and
 * the requests stay within the bound plan.h states.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/plan.h"

/* The simulated server. Indices are of the batch. */
struct server {
    const size_t *poison; /* events it cannot store: a request with one gets 500 */
    size_t npoison;
    size_t max_events; /* 0: no limit; else a larger request gets 413 */
    unsigned busy;     /* the next `busy` requests get 503 */
    unsigned failing;  /* the next `failing` requests get 500, whatever they hold */
    bool broken;       /* every request gets 500 */
};

/* What a run did. */
struct run {
    size_t requests;
    size_t server_errors; /* requests answered 500 */
    size_t not_now;       /* requests answered 503 */
    size_t splits;        /* SPLIT and SPLIT_WAIT steps */
    size_t waits;         /* RETRY and SPLIT_WAIT steps */
    size_t accepted, given_up, rejected;
    size_t given_up_at[16]; /* indices given up on, in order */
    size_t max_depth;
    unsigned last_backoff_attempt;
    unsigned max_backoff_attempt;
};

static bool holds_poison(const struct server *s, size_t first, size_t count)
{
    for (size_t i = 0; i < s->npoison; i++)
        if (s->poison[i] >= first && s->poison[i] - first < count)
            return true;
    return false;
}

static bool is_poison(const struct server *s, size_t i)
{
    return holds_poison(s, i, 1);
}

/* The verdict the client draws from the server's answer to a part. */
static enum eyec_verdict server_answer(struct server *s, struct run *r, const struct eyec_part *p)
{
    long status;
    bool retry_after = false;
    if (s->max_events != 0 && p->count > s->max_events) {
        status = 413;
    } else if (s->busy > 0) {
        s->busy--;
        status = 503;
        retry_after = true;
    } else if (s->failing > 0) {
        s->failing--;
        status = 500;
    } else if (s->broken || holds_poison(s, p->first, p->count)) {
        status = 500;
    } else {
        status = 202;
    }
    r->server_errors += status == 500;
    r->not_now += status == 503;
    return eyec_classify(status, p->count, retry_after);
}

/* Sends a batch of n events through the plan until it ends (failing the
 * test if it does not within max_requests), checking order and
 * exactly-once on every settled part. */
static struct run drive(struct server *s, size_t n, unsigned attempts, size_t max_requests)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    struct eyec_plan plan;
    eyec_plan_init(&plan, n, attempts);
    size_t settled = 0; /* events 0 .. settled - 1 are settled */
    const struct eyec_part *next;
    while ((next = eyec_plan_next(&plan)) != NULL) {
        if (r.requests == max_requests)
            fail_msg("no end after %zu requests (%zu of %zu settled)", r.requests, settled, n);
        const struct eyec_part part = *next;
        assert_true(part.count >= 1);
        assert_true(part.first >= settled);
        assert_true(plan.depth <= EYEC_PLAN_DEPTH);
        r.max_depth = plan.depth > r.max_depth ? plan.depth : r.max_depth;
        assert_int_equal(eyec_plan_pending(&plan), n - settled);
        r.requests++;
        enum eyec_verdict v = server_answer(s, &r, &part);
        unsigned attempt = 9999;
        switch (eyec_plan_answer(&plan, v, &attempt)) {
        case EYEC_STEP_ANSWERED:
            assert_int_equal(part.first, settled); /* in order, nothing skipped or twice */
            settled += part.count;
            r.accepted += part.count;
            break;
        case EYEC_STEP_REJECTED:
            assert_int_equal(part.first, settled);
            settled += part.count;
            r.rejected += part.count;
            break;
        case EYEC_STEP_GAVE_UP:
            assert_int_equal(part.first, settled);
            assert_int_equal(part.count, 1);
            assert_true(attempts > 0);
            assert_int_equal(part.server_errors + 1, attempts);
            if (r.given_up < sizeof(r.given_up_at) / sizeof(r.given_up_at[0]))
                r.given_up_at[r.given_up] = part.first;
            r.given_up++;
            settled++;
            break;
        case EYEC_STEP_SPLIT:
            assert_int_equal(attempt, 9999); /* at once: no wait */
            r.splits++;
            break;
        case EYEC_STEP_SPLIT_WAIT:
            assert_int_equal(v, EYEC_SERVER_ERROR);
            assert_int_equal(attempt, part.retries);
            r.splits++;
            r.waits++;
            break;
        case EYEC_STEP_RETRY:
            assert_int_equal(attempt, part.retries); /* the backoff grows with the part's retries */
            r.waits++;
            break;
        }
        if (attempt != 9999) {
            r.last_backoff_attempt = attempt;
            r.max_backoff_attempt =
                attempt > r.max_backoff_attempt ? attempt : r.max_backoff_attempt;
        }
        /* A split part is replaced by its halves, first half on top. */
        if (eyec_plan_next(&plan) != NULL && eyec_plan_next(&plan)->count < part.count &&
            eyec_plan_next(&plan)->first == part.first) {
            assert_int_equal(eyec_plan_next(&plan)->count, part.count / 2);
            assert_int_equal(eyec_plan_next(&plan)->retries, 0);
            assert_int_equal(eyec_plan_next(&plan)->server_errors, 0);
        }
    }
    assert_int_equal(settled, n);
    assert_int_equal(eyec_plan_pending(&plan), 0);
    return r;
}

/* ceil(log2 n) */
static size_t levels(size_t n)
{
    size_t l = 0;
    while (((size_t)1 << l) < n)
        l++;
    return l;
}

static void test_clean_batch(void **state)
{
    struct server s = {0};
    struct run r = drive(&s, 100, 3, 10);
    assert_int_equal(r.requests, 1);
    assert_int_equal(r.accepted, 100);
    assert_int_equal(r.waits, 0);
    r = drive(&s, 1, 3, 10);
    assert_int_equal(r.requests, 1);
    assert_int_equal(r.accepted, 1);
}

/* The case: one event the server cannot take among 100, at every
 * position. The 99 are delivered, in order; the one is given up on after
 * K server errors; the requests stay within K * (L + 1) + L. */
static void test_one_poison_anywhere(void **state)
{
    const unsigned k = 3;
    const size_t n = 100, l = levels(n);
    for (size_t at = 0; at < n; at++) {
        size_t poison[] = {at};
        struct server s = {.poison = poison, .npoison = 1};
        struct run r = drive(&s, n, k, 1000);
        assert_int_equal(r.accepted, n - 1);
        assert_int_equal(r.given_up, 1);
        assert_int_equal(r.given_up_at[0], at);
        assert_int_equal(r.rejected, 0);
        if (r.server_errors > k * (l + 1) || r.requests > k * (l + 1) + l)
            fail_msg("poison at %zu: %zu requests, %zu server errors (bound %zu, %zu)", at,
                     r.requests, r.server_errors, k * (l + 1) + l, k * (l + 1));
        /* Each part that holds the poison gets exactly K server errors. */
        assert_int_equal(r.server_errors % k, 0);
        /* The waits never grow past the K-th backoff: a half starts over. */
        assert_true(r.max_backoff_attempt < k);
    }
}

static void test_several_poison(void **state)
{
    size_t poison[] = {0, 1, 50, 98, 99};
    struct server s = {.poison = poison, .npoison = 5};
    struct run r = drive(&s, 100, 2, 10000);
    assert_int_equal(r.accepted, 95);
    assert_int_equal(r.given_up, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(r.given_up_at[i], poison[i]); /* in order, each its own */

    /* Adjacent ones in a batch of two. */
    size_t both[] = {0, 1};
    s = (struct server){.poison = both, .npoison = 2};
    r = drive(&s, 2, 3, 100);
    assert_int_equal(r.given_up, 2);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.requests, 3 + 3 + 3);
}

/* A server that fails everything: bounded too (K per part of the whole
 * split tree), and every event reported, none accepted, none lost. */
static void test_broken_server_is_bounded(void **state)
{
    const unsigned k = 3;
    const size_t n = 100;
    struct server s = {.broken = true};
    struct run r = drive(&s, n, k, 100000);
    assert_int_equal(r.given_up, n);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.requests, k * (2 * n - 1)); /* 2n - 1 parts in the tree */
}

/* "Not now" answers never count as server errors: a long outage of 503s
 * retries the whole batch, with a growing backoff, and never splits. */
static void test_not_now_never_splits(void **state)
{
    size_t poison[] = {7};
    struct server s = {.busy = 500};
    struct run r = drive(&s, 100, 3, 1000);
    assert_int_equal(r.requests, 501);
    assert_int_equal(r.splits, 0);
    assert_int_equal(r.accepted, 100);
    assert_int_equal(r.max_backoff_attempt, 499);

    /* A poison event behind the 503s: only its own server errors count. */
    s = (struct server){.poison = poison, .npoison = 1, .busy = 50};
    r = drive(&s, 100, 3, 1000);
    assert_int_equal(r.not_now, 50);
    assert_int_equal(r.given_up, 1);
    assert_int_equal(r.given_up_at[0], 7);

    /* 503s in between do not reset the count of server errors (they are
     * answers to the same batch), nor add to it. */
    struct eyec_plan plan;
    eyec_plan_init(&plan, 100, 3);
    unsigned attempt = 0;
    assert_int_equal(eyec_plan_answer(&plan, EYEC_SERVER_ERROR, &attempt), EYEC_STEP_RETRY);
    assert_int_equal(attempt, 0);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_RETRY, &attempt), EYEC_STEP_RETRY);
    assert_int_equal(attempt, 1);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_SERVER_ERROR, &attempt), EYEC_STEP_RETRY);
    assert_int_equal(attempt, 2);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_RETRY, &attempt), EYEC_STEP_RETRY);
    assert_int_equal(eyec_plan_next(&plan)->count, 100);
    assert_int_equal(eyec_plan_next(&plan)->server_errors, 2);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_SERVER_ERROR, &attempt), EYEC_STEP_SPLIT_WAIT);
    assert_int_equal(attempt, 4);
    assert_int_equal(eyec_plan_next(&plan)->first, 0);
    assert_int_equal(eyec_plan_next(&plan)->count, 50);
    assert_int_equal(eyec_plan_pending(&plan), 100);
}

/* A server error that passes (fewer than K in a row) is only retried: the
 * batch goes whole, nothing is given up on. */
static void test_passing_server_error(void **state)
{
    struct server s = {.failing = 2};
    struct run r = drive(&s, 100, 3, 100);
    assert_int_equal(r.requests, 3);
    assert_int_equal(r.splits, 0);
    assert_int_equal(r.accepted, 100);
    assert_int_equal(r.given_up, 0);

    /* K of them split the batch; the halves then go through. */
    s = (struct server){.failing = 3};
    r = drive(&s, 100, 3, 100);
    assert_int_equal(r.requests, 5);
    assert_int_equal(r.splits, 1);
    assert_int_equal(r.accepted, 100);
}

/* server_error_attempts 0: server errors are retried forever, never split
 * (the behaviour before the plan, for who wants it). */
static void test_zero_attempts_never_gives_up(void **state)
{
    size_t poison[] = {3};
    struct server s = {.poison = poison, .npoison = 1};
    struct eyec_plan plan;
    eyec_plan_init(&plan, 10, 0);
    for (unsigned i = 0; i < 10000; i++) {
        const struct eyec_part *p = eyec_plan_next(&plan);
        assert_non_null(p);
        assert_int_equal(p->count, 10);
        struct run r = {0};
        unsigned attempt = 0;
        assert_int_equal(eyec_plan_answer(&plan, server_answer(&s, &r, p), &attempt),
                         EYEC_STEP_RETRY);
        assert_int_equal(attempt, i);
    }
    assert_int_equal(eyec_plan_pending(&plan), 10);
    eyec_plan_abandon(&plan);
    assert_null(eyec_plan_next(&plan));
    assert_int_equal(eyec_plan_pending(&plan), 0);
}

/* 413: split at once, down to parts the server takes; a lone event it
 * refuses as too large is a rejection, never a retry. */
static void test_too_large_splits_at_once(void **state)
{
    struct server s = {.max_events = 30};
    struct run r = drive(&s, 100, 3, 100);
    assert_int_equal(r.accepted, 100);
    assert_int_equal(r.waits, 0);
    assert_int_equal(r.server_errors, 0);
    /* 100 -> 50 + 50 -> 25 + 25 each: 1 + 2 413s, 4 accepted. */
    assert_int_equal(r.requests, 7);

    struct eyec_plan plan;
    eyec_plan_init(&plan, 1, 3);
    unsigned attempt = 77;
    assert_int_equal(eyec_plan_answer(&plan, EYEC_SPLIT, &attempt), EYEC_STEP_REJECTED);
    assert_int_equal(attempt, 77);
    assert_null(eyec_plan_next(&plan));

    /* A poison event and a size limit together. */
    size_t poison[] = {61};
    s = (struct server){.poison = poison, .npoison = 1, .max_events = 16};
    r = drive(&s, 100, 3, 1000);
    assert_int_equal(r.accepted, 99);
    assert_int_equal(r.given_up, 1);
    assert_int_equal(r.given_up_at[0], 61);
}

/* A request refused as a whole rejects its part only; the plan goes on. */
static void test_rejected_part(void **state)
{
    struct eyec_plan plan;
    eyec_plan_init(&plan, 8, 1);
    unsigned attempt = 0;
    /* K = 1: the first server error splits. */
    assert_int_equal(eyec_plan_answer(&plan, EYEC_SERVER_ERROR, &attempt), EYEC_STEP_SPLIT_WAIT);
    assert_int_equal(eyec_plan_next(&plan)->count, 4);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_REJECT, &attempt), EYEC_STEP_REJECTED);
    assert_int_equal(eyec_plan_pending(&plan), 4);
    assert_int_equal(eyec_plan_next(&plan)->first, 4);
    assert_int_equal(eyec_plan_answer(&plan, EYEC_DONE, &attempt), EYEC_STEP_ANSWERED);
    assert_null(eyec_plan_next(&plan));
}

/* The stack never overflows, even for the largest size_t batch (ranges
 * only: the simulated server never looks at events one by one). */
static void test_depth_bound(void **state)
{
    /* The poison first: every split keeps a second half waiting, so the
     * stack is deepest. */
    size_t first[] = {0};
    struct server s = {.poison = first, .npoison = 1};
    struct run r = drive(&s, SIZE_MAX, 1, 1000);
    assert_int_equal(r.given_up, 1);
    assert_int_equal(r.given_up_at[0], 0);
    assert_true(r.max_depth <= EYEC_PLAN_DEPTH);
    assert_true(r.max_depth >= sizeof(size_t) * 8);
    /* The poison last. */
    size_t last[] = {SIZE_MAX - 1};
    s = (struct server){.poison = last, .npoison = 1};
    r = drive(&s, SIZE_MAX, 1, 1000);
    assert_int_equal(r.given_up_at[0], SIZE_MAX - 1);
    assert_int_equal(r.accepted, SIZE_MAX - 1);

    s = (struct server){.poison = first, .npoison = 1};
    r = drive(&s, 100000, 3, 1000);
    assert_int_equal(r.given_up_at[0], 0);
    assert_int_equal(r.accepted, 99999);
    assert_true(r.requests <= 3 * (levels(100000) + 1) + levels(100000));
}

static void test_is_poison_helper(void **state)
{
    /* The simulator itself: membership by range, no overflow at the top. */
    size_t poison[] = {5, SIZE_MAX - 1};
    struct server s = {.poison = poison, .npoison = 2};
    assert_true(is_poison(&s, 5));
    assert_false(is_poison(&s, 4));
    assert_true(holds_poison(&s, 0, 6));
    assert_false(holds_poison(&s, 0, 5));
    assert_true(holds_poison(&s, SIZE_MAX - 1, 1));
    assert_false(holds_poison(&s, 6, SIZE_MAX - 7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_poison_helper),
        cmocka_unit_test(test_clean_batch),
        cmocka_unit_test(test_one_poison_anywhere),
        cmocka_unit_test(test_several_poison),
        cmocka_unit_test(test_broken_server_is_bounded),
        cmocka_unit_test(test_not_now_never_splits),
        cmocka_unit_test(test_passing_server_error),
        cmocka_unit_test(test_zero_attempts_never_gives_up),
        cmocka_unit_test(test_too_large_splits_at_once),
        cmocka_unit_test(test_rejected_part),
        cmocka_unit_test(test_depth_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
