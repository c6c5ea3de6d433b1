/* test_origin.c - unit tests of lib/origin.c: the canonical form of web
 * origins (the text both eye-admin and eye.fcgi compare) and origin lists.
 * Origin headers are untrusted bytes, so every refusal shape is here. */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/origin.h"

static void assert_canonical(const char *in, const char *want)
{
    char out[ORIGIN_MAX];
    if (!origin_canonical(in, strlen(in), out))
        fail_msg("'%s' was refused", in);
    if (strcmp(out, want) != 0)
        fail_msg("'%s' became '%s', expected '%s'", in, out, want);
}

static void assert_refused(const char *in)
{
    char out[ORIGIN_MAX];
    if (origin_canonical(in, strlen(in), out))
        fail_msg("'%s' was accepted (as '%s')", in, out);
}

static void test_canonical_forms(void **state)
{
    (void)state;
    assert_canonical("https://shop.example.com", "https://shop.example.com");
    assert_canonical("HTTPS://Shop.Example.COM", "https://shop.example.com");
    assert_canonical("https://shop.example.com:443", "https://shop.example.com");
    assert_canonical("http://shop.example.com:80", "http://shop.example.com");
    assert_canonical("http://shop.example.com:443", "http://shop.example.com:443");
    assert_canonical("https://shop.example.com:80", "https://shop.example.com:80");
    assert_canonical("http://127.0.0.1:8080", "http://127.0.0.1:8080");
    assert_canonical("http://localhost:08080", "http://localhost:8080");
    assert_canonical("http://[::1]:8080", "http://[::1]:8080");
    assert_canonical("https://[2001:DB8::1]", "https://[2001:db8::1]");
    assert_canonical("http://xn--bcher-kva.example", "http://xn--bcher-kva.example");
}

static void test_refusals(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "null", "shop.example.com", "ftp://shop.example.com", "file:///etc/passwd",
        "https://", "https://:443", "https://shop.example.com/", "https://shop.example.com/a",
        "https://shop.example.com?q", "https://user@shop.example.com", "https://*.example.com",
        "https://shop.example.com:", "https://shop.example.com:0", "https://shop.example.com:65536",
        "https://shop.example.com:+80", "https://shop.example.com:8a", "https://shop..example.com",
        "https://.example.com", "https://example.com.", "https://-x.example.com",
        "https://shop example.com", "https://shop.example.com ", "https://[::1", "https://[]",
        "https://[::g]", "https://[::1]x", "https://shop_x.example.com", "https://sh\xc3\xb6p.example",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused(bad[i]);
    char longest[400];
    memset(longest, 'a', sizeof(longest));
    memcpy(longest, "https://", 8);
    longest[sizeof(longest) - 1] = '\0';
    assert_refused(longest);
    /* An embedded NUL is not the end of the origin. */
    char out[ORIGIN_MAX];
    assert_false(origin_canonical("https://a.test\0.evil", 20, out));
}

static void test_lists(void **state)
{
    (void)state;
    const char *list = "http://shop.test:8000 https://blog.test";
    assert_true(origin_list_has(list, "http://shop.test:8000"));
    assert_true(origin_list_has(list, "https://blog.test"));
    assert_false(origin_list_has(list, "http://shop.test"));
    assert_false(origin_list_has(list, "http://shop.test:800"));
    assert_false(origin_list_has(list, "https://blog.tes"));
    assert_false(origin_list_has(list, "test:8000 https://blog.test"));
    assert_false(origin_list_has(list, ""));
    assert_false(origin_list_has("", "https://blog.test"));
    assert_false(origin_list_has(NULL, "https://blog.test"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_forms),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
