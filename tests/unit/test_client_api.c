/* test_client_api.c - unit tests of libeyeclient's API without a server:
 * what eye_client_new refuses, what track refuses before queueing, the
 * counters, flush and free on an empty client, strerror and the version.
 * Linked to the built shared library, so only exported symbols are used.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/eye_client.h"

/* A port nothing listens on: no request can succeed, none is needed. */
#define NOWHERE "http://127.0.0.1:9"

static void test_new_refuses(void **state)
{
    struct eye_client_options o;
    eye_client_options_init(&o);
    assert_null(eye_client_new(NULL, "k", &o));
    assert_null(eye_client_new(NOWHERE, NULL, &o));
    assert_null(eye_client_new("", "k", &o));
    assert_null(eye_client_new(NOWHERE, "", &o));
    assert_null(eye_client_new("ftp://127.0.0.1/", "k", &o));
    assert_null(eye_client_new("not a url", "k", &o));
    assert_null(eye_client_new(NOWHERE, "key\r\nX-Forged: 1", &o)); /* header injection */

    struct eye_client_options b;
    b = o, b.batch_max_events = 0;
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.batch_max_events = 100001;
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.batch_max_bytes = 100;
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.queue_max_events = 0;
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.retry_base_ms = 0; /* would retry a dead server in a tight loop */
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.retry_max_ms = o.retry_base_ms - 1;
    assert_null(eye_client_new(NOWHERE, "k", &b));
    b = o, b.on_full = (enum eye_client_full_policy)7;
    assert_null(eye_client_new(NOWHERE, "k", &b));
}

static void test_defaults(void **state)
{
    struct eye_client_options o;
    memset(&o, 0xff, sizeof(o));
    eye_client_options_init(&o);
    assert_int_equal(o.batch_max_events, 100);
    assert_int_equal(o.batch_max_bytes, 512 * 1024);
    assert_int_equal(o.flush_interval_ms, 1000);
    assert_int_equal(o.on_full, EYE_CLIENT_DROP_NEWEST);
    assert_int_equal(o.gzip, 1);
    assert_int_equal(o.server_error_attempts, 3);
    assert_null(o.on_reject);
    assert_null(o.on_log);
    /* NULL options are the defaults; a trailing slash is fine. */
    eye_client *c = eye_client_new(NOWHERE "/", "k", NULL);
    assert_non_null(c);
    assert_int_equal(eye_client_free(c, 0, NULL), EYE_CLIENT_OK);
}

static void test_track_refuses(void **state)
{
    struct eye_client_options o;
    eye_client_options_init(&o);
    o.flush_interval_ms = 600000; /* nothing is sent during the test */
    o.batch_max_bytes = 2048;
    eye_client *c = eye_client_new(NOWHERE, "k", &o);
    assert_non_null(c);
    assert_int_equal(eye_client_track(c, "s", "c", "n", "[1]", EYE_CLIENT_NOW), EYE_CLIENT_EINVAL);
    assert_int_equal(eye_client_track(c, "s", "c", "n", "{", EYE_CLIENT_NOW), EYE_CLIENT_EINVAL);
    assert_int_equal(eye_client_track(c, NULL, "c", "n", NULL, EYE_CLIENT_NOW), EYE_CLIENT_EINVAL);
    assert_int_equal(eye_client_track(c, "s", "c", "n", NULL, -5), EYE_CLIENT_EINVAL);
    assert_int_equal(eye_client_track(NULL, "s", "c", "n", NULL, 0), EYE_CLIENT_EINVAL);
    assert_int_equal(eye_client_track_event(c, "[]", NULL), EYE_CLIENT_EINVAL);
    /* Larger than a batch may be: refused, or it could never be sent. */
    char big[4096];
    memset(big, 'x', sizeof(big));
    memcpy(big, "{\"k\":\"", 6);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    assert_int_equal(eye_client_track(c, "s", "c", "n", big, 0), EYE_CLIENT_EINVAL);

    char id[EYE_CLIENT_ID_SIZE];
    assert_int_equal(eye_client_track_event(c, "{\"session_id\": \"s\"}", id), EYE_CLIENT_OK);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(eye_client_track(c, "s", "c", "n", "{\"a\": 1}", 0), EYE_CLIENT_OK);

    struct eye_client_stats s;
    eye_client_stats(c, &s);
    assert_int_equal(s.tracked, 2);
    assert_int_equal(s.pending, 2);
    assert_int_equal(s.dropped, 0);
    /* Nothing can be delivered: free drops the two, and says so. */
    assert_int_equal(eye_client_free(c, 0, &s), EYE_CLIENT_ETIMEDOUT);
    assert_int_equal(s.tracked, 2);
    assert_int_equal(s.dropped, 2);
    assert_int_equal(s.pending, 0);
}

static void test_flush_empty(void **state)
{
    eye_client *c = eye_client_new(NOWHERE, "k", NULL);
    assert_non_null(c);
    assert_int_equal(eye_client_flush(c, 0), EYE_CLIENT_OK); /* nothing to wait for */
    struct eye_client_stats s;
    assert_int_equal(eye_client_free(c, 1000, &s), EYE_CLIENT_OK);
    assert_int_equal(s.tracked + s.dropped, 0);
    assert_int_equal(eye_client_free(NULL, 0, &s), EYE_CLIENT_OK);
    assert_int_equal(eye_client_flush(NULL, 0), EYE_CLIENT_EINVAL);
}

static void test_strerror_version(void **state)
{
    int codes[] = {EYE_CLIENT_OK,    EYE_CLIENT_EINVAL,    EYE_CLIENT_ENOMEM,
                   EYE_CLIENT_EFULL, EYE_CLIENT_ETIMEDOUT, EYE_CLIENT_ECLOSED};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(eye_client_strerror(codes[i]));
        assert_string_not_equal(eye_client_strerror(codes[i]), "unknown status");
    }
    assert_string_equal(eye_client_strerror(12345), "unknown status");
    assert_string_equal(eye_client_version(), PACKAGE_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses),      cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_track_refuses),    cmocka_unit_test(test_flush_empty),
        cmocka_unit_test(test_strerror_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
