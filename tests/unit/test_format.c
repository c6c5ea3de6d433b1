/* test_format.c - unit tests of validators/format.c: each `format` value
 * accepts typical valid strings and refuses each kind of invalid one.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "validators/format.h"

static void ok(enum format_kind k, const char *s)
{
    if (!format_check(k, s, strlen(s)))
        fail_msg("%s: '%s' was rejected", format_name(k), s);
}

static void bad(enum format_kind k, const char *s)
{
    if (format_check(k, s, strlen(s)))
        fail_msg("%s: '%s' was accepted", format_name(k), s);
}

static void test_names(void **state)
{
    assert_int_equal(format_from_name("date-time"), FORMAT_DATE_TIME);
    assert_int_equal(format_from_name("uri"), FORMAT_URI);
    assert_int_equal(format_from_name("hostname"), FORMAT_HOSTNAME);
    assert_int_equal(format_from_name("email"), FORMAT_EMAIL);
    assert_int_equal(format_from_name("uuid"), FORMAT_UUID);
    assert_int_equal(format_from_name("ipv4"), FORMAT_NONE);
    assert_int_equal(format_from_name("Hostname"), FORMAT_NONE);
    assert_string_equal(format_name(FORMAT_EMAIL), "email");
}

static void test_hostname(void **state)
{
    ok(FORMAT_HOSTNAME, "www.consumeraffairs.com");
    ok(FORMAT_HOSTNAME, "localhost");
    ok(FORMAT_HOSTNAME, "a-b.c-d.example");
    ok(FORMAT_HOSTNAME, "xn--bcher-kva.example");
    ok(FORMAT_HOSTNAME, "10.0.0.1");
    char label63[64], label64[65], longname[260];
    memset(label63, 'a', 63), label63[63] = '\0';
    memset(label64, 'a', 64), label64[64] = '\0';
    ok(FORMAT_HOSTNAME, label63);
    bad(FORMAT_HOSTNAME, label64);
    /* 4 x 63 + 3 dots = 255 > 253 */
    snprintf(longname, sizeof(longname), "%s.%s.%s.%s", label63, label63, label63, label63);
    bad(FORMAT_HOSTNAME, longname);
    bad(FORMAT_HOSTNAME, "");
    bad(FORMAT_HOSTNAME, "-a.com");
    bad(FORMAT_HOSTNAME, "a-.com");
    bad(FORMAT_HOSTNAME, "a..com");
    bad(FORMAT_HOSTNAME, ".a.com");
    bad(FORMAT_HOSTNAME, "a.com.");
    bad(FORMAT_HOSTNAME, "a.com:8080");
    bad(FORMAT_HOSTNAME, "a_b.com");
    bad(FORMAT_HOSTNAME, "a b.com");
    bad(FORMAT_HOSTNAME, "bücher.example");
    bad(FORMAT_HOSTNAME, "https://a.com");
}

static void test_email(void **state)
{
    ok(FORMAT_EMAIL, "john.doe@example.com");
    ok(FORMAT_EMAIL, "j+tag@mail.example.org");
    ok(FORMAT_EMAIL, "o'hara!#$%&*=?^_`{|}~-@x.io");
    bad(FORMAT_EMAIL, "john");
    bad(FORMAT_EMAIL, "@example.com");
    bad(FORMAT_EMAIL, "john@");
    bad(FORMAT_EMAIL, "john@localhost"); /* domain needs a dot */
    bad(FORMAT_EMAIL, ".john@example.com");
    bad(FORMAT_EMAIL, "john.@example.com");
    bad(FORMAT_EMAIL, "jo..hn@example.com");
    bad(FORMAT_EMAIL, "jo hn@example.com");
    bad(FORMAT_EMAIL, "john@exa mple.com");
    bad(FORMAT_EMAIL, "a@b@example.com");
    bad(FORMAT_EMAIL, "\"john\"@example.com");
    char local65[80];
    memset(local65, 'a', 65);
    memcpy(local65 + 65, "@x.com", 7);
    bad(FORMAT_EMAIL, local65);
}

static void test_uri(void **state)
{
    ok(FORMAT_URI, "https://www.consumeraffairs.com/");
    ok(FORMAT_URI, "https://a.com/p?q=1&r=%20x#frag");
    ok(FORMAT_URI, "mailto:john@example.com");
    ok(FORMAT_URI, "urn:isbn:0451450523");
    ok(FORMAT_URI, "http://[::1]:8080/");
    bad(FORMAT_URI, "");
    bad(FORMAT_URI, "/relative/path");
    bad(FORMAT_URI, "www.example.com");
    bad(FORMAT_URI, "1http://a.com");
    bad(FORMAT_URI, "ht tp://a.com");
    bad(FORMAT_URI, "https://a.com/with space");
    bad(FORMAT_URI, "https://a.com/%zz");
    bad(FORMAT_URI, "https://a.com/%2");
    bad(FORMAT_URI, "https://a.com/\"quoted\"");
    bad(FORMAT_URI, "https://a.com/é");
}

static void test_uuid(void **state)
{
    char canon[37];
    ok(FORMAT_UUID, "e2085be5-9137-4e4e-80b5-f1ffddc25423");
    ok(FORMAT_UUID, "E2085BE5-9137-4E4E-80B5-F1FFDDC25423");
    assert_true(format_uuid("E2085BE5-9137-4E4E-80B5-F1FFDDC25423", 36, canon));
    assert_string_equal(canon, "e2085be5-9137-4e4e-80b5-f1ffddc25423");
    bad(FORMAT_UUID, "e2085be591374e4e80b5f1ffddc25423");
    bad(FORMAT_UUID, "e2085be5-9137-4e4e-80b5-f1ffddc2542");
    bad(FORMAT_UUID, "e2085be5-9137-4e4e-80b5-f1ffddc254233");
    bad(FORMAT_UUID, "g2085be5-9137-4e4e-80b5-f1ffddc25423");
    bad(FORMAT_UUID, "e2085be5_9137-4e4e-80b5-f1ffddc25423");
    bad(FORMAT_UUID, "{e2085be5-9137-4e4e-80b5-f1ffddc254}");
}

static void test_date_time(void **state)
{
    ok(FORMAT_DATE_TIME, "2021-01-01T09:15:27Z");
    ok(FORMAT_DATE_TIME, "2021-01-01T09:15:27.243860+01:00");
    bad(FORMAT_DATE_TIME, "2021-01-01 09:15:27.243860"); /* no zone */
    bad(FORMAT_DATE_TIME, "2021-02-30T09:15:27Z");
    bad(FORMAT_DATE_TIME, "yesterday");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names), cmocka_unit_test(test_hostname),
        cmocka_unit_test(test_email), cmocka_unit_test(test_uri),
        cmocka_unit_test(test_uuid),  cmocka_unit_test(test_date_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
