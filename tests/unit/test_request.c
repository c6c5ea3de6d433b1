/* test_request.c - unit tests of the untrusted-text parts of
 * fcgi/request.c: request_url_decode (escapes, '+', NUL, every class of
 * invalid UTF-8 a decoded escape can produce) and request_query_next
 * (splitting, empty pairs, names and values that do not decode). The
 * integration tests reach these only through lighttpd, which refuses some
 * shapes (%00, %FF, %C0) itself; here each reaches the decoder directly.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The module itself, to reach its static UTF-8 check too. */
#include "fcgi/request.c"

/* Decodes in (as a query value: '+' is a space) and expects want. */
static void assert_decodes(const char *in, bool plus_is_space, const char *want)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", in);
    if (!request_url_decode(buf, plus_is_space))
        fail_msg("'%s' was refused", in);
    if (strcmp(buf, want) != 0)
        fail_msg("'%s' decoded to '%s', expected '%s'", in, buf, want);
}

static void assert_refused(const char *in)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", in);
    if (request_url_decode(buf, true))
        fail_msg("'%s' was accepted (as '%s')", in, buf);
}

static void test_decode_plain_and_escapes(void **state)
{
    (void)state;
    assert_decodes("", true, "");
    assert_decodes("pageview", true, "pageview");
    assert_decodes("page%20interaction", true, "page interaction");
    assert_decodes("page+interaction", true, "page interaction");
    assert_decodes("a+b", false, "a+b"); /* a path: '+' is a plus */
    assert_decodes("%2B00:00", true, "+00:00");
    assert_decodes("100%25", true, "100%");
    assert_decodes("%25zz", true, "%zz"); /* an escaped '%' then text */
    assert_decodes("%41%62%7e", true, "Ab~");
    assert_decodes("%2f%2F", true, "//");
}

static void test_decode_valid_utf8(void **state)
{
    (void)state;
    assert_decodes("caf%C3%A9", true, "caf\xC3\xA9");               /* U+00E9 */
    assert_decodes("%C2%80", true, "\xC2\x80");                     /* U+0080, smallest 2-byte */
    assert_decodes("%E0%A0%80", true, "\xE0\xA0\x80");              /* U+0800, smallest 3-byte */
    assert_decodes("%ED%9F%BF", true, "\xED\x9F\xBF");              /* U+D7FF, before surrogates */
    assert_decodes("%EE%80%80", true, "\xEE\x80\x80");              /* U+E000, after them */
    assert_decodes("%EF%BF%BF", true, "\xEF\xBF\xBF");              /* U+FFFF */
    assert_decodes("%F0%90%80%80", true, "\xF0\x90\x80\x80");       /* U+10000 */
    assert_decodes("%F0%9F%98%80", true, "\xF0\x9F\x98\x80");       /* an emoji */
    assert_decodes("%F4%8F%BF%BF", true, "\xF4\x8F\xBF\xBF");       /* U+10FFFF, the last */
    assert_decodes("\xC3\xA9t\xC3\xA9", true, "\xC3\xA9t\xC3\xA9"); /* raw UTF-8, not escaped */
}

static void test_decode_malformed_escapes(void **state)
{
    (void)state;
    assert_refused("%");     /* a lone '%' at the end */
    assert_refused("abc%");  /* ... after text */
    assert_refused("%4");    /* one digit, then the end */
    assert_refused("a%4&");  /* one digit, then a non-digit */
    assert_refused("%zz");   /* no digits */
    assert_refused("%4g");   /* a second digit that is not one */
    assert_refused("%g4");   /* a first one that is not */
    assert_refused("%%41");  /* '%' escaping nothing */
    assert_refused("% 41");  /* blank inside */
    assert_refused("%00");   /* decodes to NUL */
    assert_refused("a%00b"); /* ... inside text */
}

static void test_decode_invalid_utf8(void **state)
{
    (void)state;
    assert_refused("%80");             /* a lone continuation byte */
    assert_refused("%BF");             /* another */
    assert_refused("%C3");             /* a 2-byte lead, then the end */
    assert_refused("%C3%28");          /* ... then not a continuation */
    assert_refused("%C0%AF");          /* overlong '/' (2 bytes) */
    assert_refused("%C1%BF");          /* overlong, C1 */
    assert_refused("%E0%80%AF");       /* overlong '/' (3 bytes) */
    assert_refused("%E0%9F%BF");       /* overlong U+07FF */
    assert_refused("%E2%82");          /* a 3-byte sequence cut short */
    assert_refused("%ED%A0%80");       /* U+D800, a surrogate */
    assert_refused("%ED%BF%BF");       /* U+DFFF, the last surrogate */
    assert_refused("%F0%80%80%AF");    /* overlong '/' (4 bytes) */
    assert_refused("%F0%8F%BF%BF");    /* overlong U+FFFF */
    assert_refused("%F0%9F%98");       /* a 4-byte sequence cut short */
    assert_refused("%F4%90%80%80");    /* U+110000, above the last */
    assert_refused("%F5%80%80%80");    /* F5 never starts a sequence */
    assert_refused("%F8%88%80%80%80"); /* the old 5-byte form */
    assert_refused("%FE");             /* never in UTF-8 */
    assert_refused("%FF");             /* ... nor this */
    assert_refused("ok%C3%A9%C3");     /* valid, then cut short */
    assert_refused("\xFF");            /* raw, not escaped */
    assert_refused("\xED\xA0\x80");    /* raw surrogate */
}

/* Runs request_query_next over query and writes what it gives as
 * "name=value" lines, a bad name as "!name", a bad value as "name=!". */
static void query_items(const char *query, char *out, size_t cap)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", query);
    size_t pos = 0, n = 0;
    struct request_query_item it;
    out[0] = '\0';
    while (request_query_next(query, copy, &pos, &it) && n < cap) {
        if (!it.name_ok)
            n += (size_t)snprintf(out + n, cap - n, "!%s;", it.name);
        else if (!it.value_ok)
            n += (size_t)snprintf(out + n, cap - n, "%s=!;", it.name);
        else
            n += (size_t)snprintf(out + n, cap - n, "%s=%s;", it.name, it.value);
    }
}

static void test_query_items(void **state)
{
    (void)state;
    static const struct {
        const char *query, *items;
    } cases[] = {
        {"", ""},
        {"a=1&b=two+words&c=%2B1", "a=1;b=two words;c=+1;"},
        {"&&a=1&&&b&c=&", "a=1;b=;c=;"},
        {"a=x=y", "a=x=y;"}, /* the first '=' splits */
        {"category=%zz&name=ok", "category=!;name=ok;"},
        {"cat%zzegory=x", "!cat%zzegory;"}, /* a bad name, as sent */
        {"%=x", "!%;"},
        {"%ED%A0%80=x", "!%ED%A0%80;"},
        /* raw bytes outside printable ASCII come back escaped: valid UTF-8 */
        {"a\xFF b%=x", "!a%FF%20b%;"},
    };
    char out[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        query_items(cases[i].query, out, sizeof(out));
        if (strcmp(out, cases[i].items) != 0)
            fail_msg("'%s' gave '%s', expected '%s'", cases[i].query, out, cases[i].items);
    }
}

static void test_query_long_bad_name_is_cut(void **state)
{
    (void)state;
    char query[400], copy[400];
    memset(query, 'n', 300);
    memcpy(query + 300, "%zz=1", 6);
    memcpy(copy, query, sizeof(query));
    size_t pos = 0;
    struct request_query_item it;
    assert_true(request_query_next(query, copy, &pos, &it));
    assert_false(it.name_ok);
    assert_true(strlen(it.name) < sizeof(it.raw_name));
    assert_int_equal(strspn(it.name, "n"), strlen(it.name));
    assert_false(request_query_next(query, copy, &pos, &it));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_plain_and_escapes),
        cmocka_unit_test(test_decode_valid_utf8),
        cmocka_unit_test(test_decode_malformed_escapes),
        cmocka_unit_test(test_decode_invalid_utf8),
        cmocka_unit_test(test_query_items),
        cmocka_unit_test(test_query_long_bad_name_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
