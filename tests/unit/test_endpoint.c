/* test_endpoint.c - unit tests of lib/endpoint.c: parsing database.hosts
 * (the text comes from a config file or the environment), formatting, and
 * the process-wide current endpoint (moves, generations, lost races, the
 * failback schedule).
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/endpoint.h"

static void test_parse_list(void **state)
{
    (void)state;
    struct endpoint_list l;
    char err[256];
    assert_true(endpoint_list_parse("10.0.0.1:3307, db2 ,[fd00::3]:3309,[::1]", 3306, &l, err,
                                    sizeof(err)));
    assert_int_equal(l.n, 4);
    assert_string_equal(l.v[0].host, "10.0.0.1");
    assert_int_equal(l.v[0].port, 3307);
    assert_string_equal(l.v[1].host, "db2");
    assert_int_equal(l.v[1].port, 3306);
    assert_string_equal(l.v[2].host, "fd00::3");
    assert_int_equal(l.v[2].port, 3309);
    assert_string_equal(l.v[3].host, "::1");
    assert_int_equal(l.v[3].port, 3306);

    assert_true(endpoint_list_parse("", 3306, &l, err, sizeof(err)));
    assert_int_equal(l.n, 0);
    assert_true(endpoint_list_parse("  ", 3306, &l, err, sizeof(err)));
    assert_int_equal(l.n, 0);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a,,b", "a,",    ",a",   "a:",     "a:0",     "a:65536",   "a:33x",
        "a:-1", ":3306", "[::1", "[::1]x", "[]:3306", "a:1234567",
    };
    struct endpoint_list l;
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (endpoint_list_parse(bad[i], 3306, &l, err, sizeof(err)))
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
    char many[ENDPOINT_MAX * 4 + 8] = "";
    for (int i = 0; i <= ENDPOINT_MAX; i++)
        strcat(many, i == 0 ? "h" : ",h");
    assert_false(endpoint_list_parse(many, 3306, &l, err, sizeof(err)));
    char host[ENDPOINT_HOST_MAX + 8];
    memset(host, 'x', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    assert_false(endpoint_list_parse(host, 3306, &l, err, sizeof(err)));
}

static void test_format(void **state)
{
    (void)state;
    struct endpoint e4 = {.host = "10.0.0.1", .port = 3306}, e6 = {.host = "fd00::1", .port = 1};
    char buf[300];
    assert_string_equal(endpoint_format(&e4, buf, sizeof(buf)), "10.0.0.1:3306");
    assert_string_equal(endpoint_format(&e6, buf, sizeof(buf)), "[fd00::1]:1");
}

static void test_move(void **state)
{
    (void)state;
    struct endpoint_list l;
    char err[256];
    assert_true(endpoint_list_parse("a,b,c", 3306, &l, err, sizeof(err)));
    uint64_t g0, g;
    assert_int_equal(endpoint_current(ENDPOINT_WRITER, &g0), 0);
    /* The first thread to see a failure moves the process... */
    assert_int_equal(endpoint_move(ENDPOINT_WRITER, &l, 0, 1, &g), 1);
    assert_true(g != g0);
    assert_int_equal(endpoint_generation(ENDPOINT_WRITER), g);
    /* ...a second one, which also saw 0 fail, follows it instead of
     * moving again. */
    uint64_t g2;
    assert_int_equal(endpoint_move(ENDPOINT_WRITER, &l, 0, 2, &g2), 1);
    assert_int_equal(g2, g);
    /* Roles are independent. */
    assert_int_equal(endpoint_current(ENDPOINT_READER, NULL), 0);
    /* Failback: not before the interval since the move, then once. */
    assert_false(endpoint_failback_due(ENDPOINT_WRITER, 60000));
    assert_true(endpoint_failback_due(ENDPOINT_WRITER, 0));
    assert_false(endpoint_failback_due(ENDPOINT_WRITER, 60000));
    assert_false(endpoint_failback_due(ENDPOINT_READER, 0)); /* at its first endpoint */
    assert_int_equal(endpoint_move(ENDPOINT_WRITER, &l, 1, 0, NULL), 0);
    assert_false(endpoint_failback_due(ENDPOINT_WRITER, 0)); /* back at the first */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_list),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
