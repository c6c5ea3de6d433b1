/* test_body.c - unit tests of validators/body.c, the request body decoder
 * eye.fcgi runs: each error code with its status and pointer, each limit
 * at and past its value, gzip (one and several members, truncated), NDJSON
 * line handling (CRLF, blank lines, per-line errors), BOM, surrogates,
 * strict UTF-8, and the storable payload.
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "lib/utf8.h"
#include "validators/body.h"

#define MAX_EVENTS 3
#define MAX_DEPTH  5
#define MAX_PLAIN  256

static struct body_decoder *dec;
static struct body body;
static struct body_error err;

static int setup(void **state)
{
    (void)state;
    struct body_limits lim = {
        .max_decompressed_bytes = MAX_PLAIN, .max_events = MAX_EVENTS, .max_depth = MAX_DEPTH};
    dec = body_decoder_new(&lim);
    return dec == NULL;
}

static int teardown(void **state)
{
    (void)state;
    body_decoder_free(dec);
    return 0;
}

static bool decode(const char *text, size_t len, enum body_format f, bool gzip)
{
    body_clear(&body);
    memset(&err, 0, sizeof(err));
    return body_decode(dec, text, len, f, gzip, &body, &err);
}

static void json_ok(const char *text, size_t n_events)
{
    if (!decode(text, strlen(text), BODY_JSON, false))
        fail_msg("'%s' refused: %s %s", text, err.code, err.message);
    assert_int_equal(body.n, n_events);
}

/* The body is refused with status, code and pointer. */
static void json_bad_len(const char *text, size_t len, int status, const char *code,
                         const char *pointer)
{
    if (decode(text, len, BODY_JSON, false))
        fail_msg("'%s' accepted", text);
    assert_int_equal(err.status, status);
    assert_string_equal(err.code, code);
    assert_string_equal(err.pointer, pointer);
    assert_true(err.message[0] != '\0');
}

static void json_bad(const char *text, int status, const char *code, const char *pointer)
{
    json_bad_len(text, strlen(text), status, code, pointer);
}

static void test_media(void **state)
{
    (void)state;
    enum body_format f;
    bool gz;
    assert_true(body_media(NULL, NULL, &f, &gz, &err));
    assert_int_equal(f, BODY_JSON);
    assert_false(gz);
    assert_true(body_media("Application/JSON; charset=utf-8", "identity", &f, &gz, &err));
    assert_int_equal(f, BODY_JSON);
    assert_true(body_media("application/x-ndjson", "GZIP", &f, &gz, &err));
    assert_int_equal(f, BODY_NDJSON);
    assert_true(gz);
    assert_true(body_media("application/jsonl", "x-gzip", &f, &gz, &err));
    assert_int_equal(f, BODY_NDJSON);
    assert_false(body_media("text/html", NULL, &f, &gz, &err));
    assert_int_equal(err.status, 415);
    assert_string_equal(err.code, "unsupported_media_type");
    assert_false(body_media("application/json", "br", &f, &gz, &err));
    assert_string_equal(err.code, "unsupported_encoding");
}

static void test_shapes(void **state)
{
    (void)state;
    json_ok("{\"a\":1}", 1);
    json_ok(" [ {\"a\":1} , {\"b\":[1,2]} ]\r\n", 2);
    assert_int_equal(body.raw_len[0], 7);
    assert_memory_equal(body.raw[1], "{\"b\":[1,2]}", 11);
    json_bad("[]", 400, "empty_batch", "");
    json_bad("\"text\"", 400, "not_an_event", "");
    json_bad("7", 400, "not_an_event", "");
    json_bad("null", 400, "not_an_event", "");
}

static void test_limits(void **state)
{
    (void)state;
    json_ok("[{},{},{}]", MAX_EVENTS);
    json_bad("[{},{},{},{}]", 413, "too_many_events", "");
    /* depth: MAX_DEPTH levels parse, one more does not */
    json_ok("{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 1);
    json_bad("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{}}}}}}", 400, "nesting_too_deep", "");
    assert_true(decode("{}\n{}\n{}\n", 9, BODY_NDJSON, false));
    assert_int_equal(body.n, 3);
    assert_false(decode("{}\n{}\n{}\n{}", 11, BODY_NDJSON, false));
    assert_string_equal(err.code, "too_many_events");
}

static void test_grammar(void **state)
{
    (void)state;
    json_bad("{\"a\":1", 400, "invalid_json", "");
    json_bad("{\"a\":1}}", 400, "invalid_json", "");
    json_bad("{'a':1}", 400, "invalid_json", "");
    json_bad("{\"a\":'x'}", 400, "invalid_json", ""); /* json-c refuses this one */
    json_bad("[{\"a\":1},]", 400, "invalid_json", "");
    json_bad("{\"a\":NaN}", 400, "invalid_json", "/a");
    json_bad("[{\"a\":[1,Infinity]}]", 400, "invalid_json", "/0/a/1");
    json_bad("{\"a\":-Infinity}", 400, "invalid_json", "/a");
    json_bad("{\"a\":\"x\x01y\"}", 400, "invalid_json", "/a");
    json_bad("{\"a\":\"tab\there\"}", 400, "invalid_json", "/a");
    json_bad_len("{\"a\":\"x\0\"}", 9, 400, "invalid_json", "");
    /* A repeated name: the pointer names it (the second pass). */
    json_bad("{\"a\":1,\"a\":2}", 400, "duplicate_key", "/a");
    json_bad("[{\"x\":{\"k\":1,\"k\":1}}]", 400, "duplicate_key", "/0/x/k");
    json_bad("[{\"x\":{\"k\":1}},{\"y\":2,\"z\":{},\"y\":3}]", 400, "duplicate_key", "/1/y");
    json_bad("{\"a/b\":1,\"a/b\":2}", 400, "duplicate_key", "/a~1b");
    /* Spelt differently (an escape): found by the count, not by name. */
    json_bad("{\"ab\":1,\"a\\u0062\":2}", 400, "duplicate_key", "");
    /* Numbers json-c is lax about. */
    json_bad("{\"a\":1.}", 400, "invalid_json", "/a");
    json_bad("{\"a\":[1.e5]}", 400, "invalid_json", "/a/0");
    json_bad("{\"a\":-01}", 400, "invalid_json", "/a");
    json_bad("{\"a\":1e+}", 400, "invalid_json", "");
    json_ok("{\"a\":-0.5e-3,\"b\":0,\"c\":10E+2,\"d\":[1,2.25]}", 1);
    json_ok("{\"a\":1e400,\"b\":-0,\"c\":\"\\u0000\"}", 1); /* grammatical, judged later */
    /* A byte order mark is not JSON text (RFC 8259 lets a parser refuse it). */
    json_bad("\xEF\xBB\xBF{\"a\":1}", 400, "invalid_json", "");
}

static void test_utf8(void **state)
{
    (void)state;
    json_ok("{\"caf\xC3\xA9\":\"\xE2\x82\xAC \xF0\x9F\x98\x80 \\ud83d\\ude00\"}", 1);
    /* overlong, UTF-8-encoded surrogate, above U+10FFFF: in values... */
    json_bad("{\"a\":\"\xC0\xAF\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"a\":{\"b\":[\"ok\",\"\xE0\x80\xAF\"]}}", 400, "invalid_utf8", "/a/b/1");
    json_bad("[{},{\"a\":\"\xED\xA0\x80\"}]", 400, "invalid_utf8", "/1/a");
    json_bad("{\"a\":\"\xF4\x90\x80\x80\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"a\":\"\xFF\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"a\":\"\xE2\x82\"}", 400, "invalid_utf8", "/a");
    /* ...in a member name: the pointer names the object holding it */
    json_bad("{\"d\":{\"\xC0\xAF\":1}}", 400, "invalid_utf8", "/d");
    /* lone surrogate escapes */
    json_bad("{\"a\":\"\\ud800\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"a\":\"\\udc00x\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"a\":\"\\ud800\\u0041\"}", 400, "invalid_utf8", "/a");
    json_bad("{\"\\ud800\":1}", 400, "invalid_utf8", "");
    /* pointer escapes (RFC 6901) and escaped names */
    json_bad("{\"a/b~c\":\"\\ud800\"}", 400, "invalid_utf8", "/a~1b~0c");
    json_bad("{\"\\u00e9\\n\":\"\\ud800\"}", 400, "invalid_utf8", "/\xC3\xA9\n");
}

static void test_long_pointer(void **state)
{
    (void)state;
    /* a 3000-character name of two-byte characters: the pointer is cut to
     * BODY_POINTER_MAX bytes on a character boundary */
    size_t n = 3000;
    char *text = malloc(2 * n + 32);
    assert_non_null(text);
    size_t o = 0;
    o += (size_t)sprintf(text, "{\"");
    for (size_t i = 0; i < n; i++) {
        text[o++] = '\xC3';
        text[o++] = '\xA9';
    }
    o += (size_t)sprintf(text + o, "\":\"\\ud800\"}");
    assert_false(decode(text, o, BODY_JSON, false));
    assert_string_equal(err.code, "invalid_utf8");
    size_t plen = strlen(err.pointer);
    assert_true(plen <= BODY_POINTER_MAX && plen >= BODY_POINTER_MAX - 2);
    assert_true(utf8_valid(err.pointer, plen, NULL));
    free(text);
}

static void test_ndjson(void **state)
{
    (void)state;
    const char *text = "{\"a\":1}\r\n\n   \n{\"a\":NaN}\n{\"b\":\"\xC0\xAF\"}";
    assert_true(decode(text, strlen(text), BODY_NDJSON, false));
    assert_int_equal(body.n, 3);
    assert_null(body.line_error[0]);
    assert_memory_equal(body.raw[0], "{\"a\":1}\r", 8);
    assert_non_null(body.line_error[1]);
    assert_string_equal(body.line_error[1]->code, "invalid_json");
    assert_string_equal(body.line_error[1]->pointer, "/a");
    assert_string_equal(body.line_error[2]->code, "invalid_utf8");
    assert_string_equal(body.line_error[2]->pointer, "/b");
    assert_false(decode("\n \r\n", 4, BODY_NDJSON, false));
    assert_string_equal(err.code, "empty_batch");
}

/* gzip of text as `members` members into out; returns its length. */
static size_t gz(const char *text, int members, unsigned char *out, size_t cap)
{
    size_t o = 0, len = strlen(text), part = len / (size_t)members;
    for (int m = 0; m < members; m++) {
        size_t from = part * (size_t)m, to = m + 1 == members ? len : from + part;
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                         Z_OK);
        zs.next_in = (Bytef *)text + from;
        zs.avail_in = (uInt)(to - from);
        zs.next_out = out + o;
        zs.avail_out = (uInt)(cap - o);
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        o = cap - zs.avail_out;
        deflateEnd(&zs);
    }
    return o;
}

static void test_gzip(void **state)
{
    (void)state;
    unsigned char z[1024];
    size_t n = gz("[{\"a\":1},{\"b\":2}]", 1, z, sizeof(z));
    assert_true(decode((const char *)z, n, BODY_JSON, true));
    assert_int_equal(body.n, 2);
    n = gz("[{\"a\":1},{\"b\":2},{\"c\":3}]", 3, z, sizeof(z));
    assert_true(decode((const char *)z, n, BODY_JSON, true));
    assert_int_equal(body.n, 3);
    assert_false(decode((const char *)z, n - 1, BODY_JSON, true));
    assert_string_equal(err.code, "invalid_gzip");
    assert_false(decode("plain", 5, BODY_JSON, true));
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "invalid_gzip");
    /* the decompressed limit: MAX_PLAIN bytes pass, one more does not */
    char big[MAX_PLAIN + 2];
    memset(big, ' ', sizeof(big));
    memcpy(big, "{}", 2);
    big[MAX_PLAIN] = '\0';
    n = gz(big, 1, z, sizeof(z));
    assert_true(decode((const char *)z, n, BODY_JSON, true));
    big[MAX_PLAIN] = ' ';
    big[MAX_PLAIN + 1] = '\0';
    n = gz(big, 1, z, sizeof(z));
    assert_false(decode((const char *)z, n, BODY_JSON, true));
    assert_int_equal(err.status, 413);
    assert_string_equal(err.code, "decompressed_too_large");
}

static void test_payload(void **state)
{
    (void)state;
    size_t len;
    bool cut;
    struct body b = {0};
    const char *ok = "caf\xC3\xA9";
    assert_ptr_equal(body_payload(&b, ok, 5, 100, &len, &cut), ok);
    assert_int_equal(len, 5);
    assert_false(cut);
    assert_ptr_equal(body_payload(&b, ok, 5, 4, &len, &cut), ok); /* é not split */
    assert_int_equal(len, 3);
    assert_true(cut);
    const char *p = body_payload(&b, "a\xC0\xAF" "b", 4, 100, &len, &cut);
    assert_int_equal(len, 8);
    assert_memory_equal(p, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b", 8);
    assert_false(cut);
    body_clear(&b);
}

static void test_parse_one(void **state)
{
    (void)state;
    struct json_object *v = NULL;
    assert_true(body_parse(dec, "{\"a\":[1]}", 9, &v, &err));
    assert_non_null(v);
    json_object_put(v);
    assert_false(body_parse(dec, "{\"a\":\"\\ud800\"}", 14, &v, &err));
    assert_null(v);
    assert_string_equal(err.code, "invalid_utf8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media),        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_grammar),
        cmocka_unit_test(test_utf8),         cmocka_unit_test(test_long_pointer),
        cmocka_unit_test(test_ndjson),       cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_payload),      cmocka_unit_test(test_parse_one),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    body_clear(&body);
    return rc;
}
