/* test_client_wire.c - unit tests of client/wire.c: events as JSON lines
 * (event_id, timestamp, what is refused), batch assembly by count and by
 * bytes, the NDJSON body with sent_at, gzip (inflated back with zlib), and
 * reading the server's answers (the shapes fcgi/ingest.c writes).
 */
#include "autoconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <zlib.h>

#include "client/wire.h"
#include "lib/uuid4.h"

static bool is_uuid_v4(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL)
            return false;
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static const char *member(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    return json_object_get_string(v);
}

static struct eyec_event *make(const char *session, const char *data, int64_t ts)
{
    struct eyec_event *e = NULL;
    assert_int_equal(eyec_event_new(session, "page interaction", "pageview", data, ts, &e),
                     EYE_CLIENT_OK);
    return e;
}

static void test_format_time(void **state)
{
    char out[28];
    eyec_format_time(INT64_C(1609492527243860), out);
    assert_string_equal(out, "2021-01-01T09:15:27.243860Z");
    eyec_format_time(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
}

static void test_event_new(void **state)
{
    struct eyec_event *e =
        make("s-1", "{\"host\": \"a.example.com\", \"path\": \"/\"}", INT64_C(1609492527243860));
    assert_int_equal(strlen(e->line), e->len);
    assert_null(strchr(e->line, '\n'));
    struct json_object *o = json_tokener_parse(e->line);
    assert_non_null(o);
    assert_true(is_uuid_v4(e->id));
    assert_string_equal(member(o, "event_id"), e->id);
    assert_string_equal(member(o, "session_id"), "s-1");
    assert_string_equal(member(o, "category"), "page interaction");
    assert_string_equal(member(o, "name"), "pageview");
    assert_string_equal(member(o, "timestamp"), "2021-01-01T09:15:27.243860Z");
    struct json_object *data = NULL;
    assert_true(json_object_object_get_ex(o, "data", &data));
    assert_string_equal(member(data, "path"), "/");
    assert_null(member(o, "sent_at")); /* added per attempt, not at tracking */
    json_object_put(o);
    eyec_event_free(e);

    /* NULL data is {}; a string with a newline stays on one line. */
    e = make("s-2", NULL, EYE_CLIENT_NOW);
    assert_non_null(strstr(e->line, "\"data\":{}"));
    eyec_event_free(e);
    e = make("s-3", "{\"text\": \"two\\nlines\"}", 0);
    assert_null(strchr(e->line, '\n'));
    eyec_event_free(e);
}

static void test_event_now(void **state)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char before[28];
    eyec_format_time((int64_t)ts.tv_sec * 1000000, before);
    struct eyec_event *e = make("s", NULL, EYE_CLIENT_NOW);
    struct json_object *o = json_tokener_parse(e->line);
    /* Same second or the next one: compare up to the minutes. */
    assert_memory_equal(member(o, "timestamp"), before, 16);
    json_object_put(o);
    eyec_event_free(e);
}

static void test_event_refused(void **state)
{
    struct eyec_event *e = NULL;
    const char *bad_data[] = {"[1, 2]",       "\"text\"",          "42", "null", "{", "{} {}",
                              "{\"a\": 1} x", "{\"a\": \"\xff\"}", "",   NULL};
    for (size_t i = 0; bad_data[i] != NULL; i++)
        if (eyec_event_new("s", "c", "n", bad_data[i], 0, &e) != EYE_CLIENT_EINVAL)
            fail_msg("data '%s' was accepted", bad_data[i]);
    assert_int_equal(eyec_event_new(NULL, "c", "n", NULL, 0, &e), EYE_CLIENT_EINVAL);
    assert_int_equal(eyec_event_new("s", "", "n", NULL, 0, &e), EYE_CLIENT_EINVAL);
    assert_int_equal(eyec_event_new("s", "c", NULL, NULL, 0, &e), EYE_CLIENT_EINVAL);
    assert_int_equal(eyec_event_new("s", "c", "n", NULL, -2, &e), EYE_CLIENT_EINVAL);
    /* The year 10000 and later. */
    assert_int_equal(eyec_event_new("s", "c", "n", NULL, INT64_C(253402300800000000), &e),
                     EYE_CLIENT_EINVAL);
    assert_int_equal(eyec_event_new("s", "c", "n", NULL, INT64_MAX, &e), EYE_CLIENT_EINVAL);
    assert_int_equal(eyec_event_new("s", "c", "n", " {\"ok\": true}\n", 0, &e), EYE_CLIENT_OK);
    eyec_event_free(e);
}

static void test_event_parse(void **state)
{
    struct eyec_event *e = NULL;
    const char *id = "6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01";
    assert_int_equal(eyec_event_parse("{\"event_id\": \"6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01\", "
                                      "\"session_id\": \"x\", \"sent_at\": \"2020-01-01\"}\n",
                                      &e),
                     EYE_CLIENT_OK);
    assert_string_equal(e->id, id);
    struct json_object *o = json_tokener_parse(e->line);
    assert_string_equal(member(o, "event_id"), id);
    assert_null(member(o, "sent_at")); /* the client sets it */
    json_object_put(o);
    eyec_event_free(e);

    assert_int_equal(eyec_event_parse("{\"session_id\": \"x\"}", &e), EYE_CLIENT_OK);
    assert_true(is_uuid_v4(e->id));
    o = json_tokener_parse(e->line);
    assert_string_equal(member(o, "event_id"), e->id);
    json_object_put(o);
    eyec_event_free(e);

    const char *bad[] = {"[{}]", "{\"a\":", "not json", "", "{} {}", NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        if (eyec_event_parse(bad[i], &e) != EYE_CLIENT_EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(eyec_event_parse(NULL, &e), EYE_CLIENT_EINVAL);
}

static void test_ids_unique(void **state)
{
    enum { N = 2000 };
    char(*ids)[EYE_CLIENT_ID_SIZE] = calloc(N, EYE_CLIENT_ID_SIZE);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        uuid4_generate(ids[i]);
        assert_true(is_uuid_v4(ids[i]));
    }
    qsort(ids, N, EYE_CLIENT_ID_SIZE, (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

/* A list of n events, linked as the queue links them. */
static struct eyec_event *chain(size_t n, const char *data)
{
    struct eyec_event *head = NULL, **link = &head;
    for (size_t i = 0; i < n; i++) {
        *link = make("s", data, 0);
        link = &(*link)->next;
    }
    return head;
}

static void chain_free(struct eyec_event *e)
{
    while (e != NULL) {
        struct eyec_event *next = e->next;
        eyec_event_free(e);
        e = next;
    }
}

static void test_batch_count(void **state)
{
    struct eyec_event *head = chain(10, NULL);
    size_t one = eyec_event_wire_bytes(head);
    assert_int_equal(one, head->len + EYEC_SENT_AT_BYTES + 1);
    /* By count. */
    assert_int_equal(eyec_batch_count(head, 100, 1 << 20), 10);
    assert_int_equal(eyec_batch_count(head, 4, 1 << 20), 4);
    assert_int_equal(eyec_batch_count(head, 1, 1 << 20), 1);
    /* By bytes: exactly three fit, a byte less and only two do. */
    assert_int_equal(eyec_batch_count(head, 100, 3 * one), 3);
    assert_int_equal(eyec_batch_count(head, 100, 3 * one - 1), 2);
    /* Always at least one, even when it alone is over the limit. */
    assert_int_equal(eyec_batch_count(head, 100, 1), 1);
    assert_int_equal(eyec_batch_count(NULL, 100, 1 << 20), 0);
    chain_free(head);
}

static void test_body(void **state)
{
    struct eyec_event *head = chain(3, "{\"k\": \"v\"}");
    struct eyec_event *ev[3] = {head, head->next, head->next->next};
    struct eyec_buf body = {.max = 1 << 20};
    assert_true(eyec_body_build(ev, 3, INT64_C(1609492527000001), &body));
    size_t expect = 0;
    for (int i = 0; i < 3; i++)
        expect += eyec_event_wire_bytes(ev[i]);
    assert_int_equal(body.len, expect); /* wire_bytes is exact: batches stay under the limit */

    /* Three lines, each a whole event with sent_at, in order. */
    const char *p = body.data, *end = body.data + body.len;
    for (int i = 0; i < 3; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        char *line = strndup(p, (size_t)(nl - p));
        struct json_object *o = json_tokener_parse(line);
        assert_non_null(o);
        assert_string_equal(member(o, "sent_at"), "2021-01-01T09:15:27.000001Z");
        assert_string_equal(member(o, "event_id"), ev[i]->id);
        json_object_put(o);
        free(line);
        p = nl + 1;
    }
    assert_ptr_equal(p, end); /* nothing after the last newline */

    /* Built again (a retry): the same events, a new sent_at, same size. */
    assert_true(eyec_body_build(ev, 3, INT64_C(1609492528000001), &body));
    assert_int_equal(body.len, expect);
    assert_non_null(strstr(body.data, "09:15:28.000001Z"));

    /* A buffer bounded below the body: refused, not overrun. */
    struct eyec_buf small = {.max = expect - 1};
    assert_false(eyec_body_build(ev, 3, 0, &small));
    eyec_buf_free(&small);

    /* gzip, inflated back as eye.fcgi does. */
    struct eyec_buf gz = {.max = 1 << 20};
    assert_true(eyec_gzip(body.data, body.len, &gz));
    assert_true(gz.len > 18);
    assert_int_equal((unsigned char)gz.data[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)gz.data[1], 0x8b);
    char *back = malloc(body.len + 16);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
    zs.next_in = (Bytef *)gz.data;
    zs.avail_in = (uInt)gz.len;
    zs.next_out = (Bytef *)back;
    zs.avail_out = (uInt)body.len + 16;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    assert_int_equal(zs.total_out, body.len);
    assert_memory_equal(back, body.data, body.len);
    inflateEnd(&zs);
    free(back);
    eyec_buf_free(&gz);
    eyec_buf_free(&body);
    chain_free(head);
}

static void test_buf_limit(void **state)
{
    struct eyec_buf b = {.max = 10};
    assert_true(eyec_buf_add(&b, "0123456789", 10));
    assert_false(eyec_buf_add(&b, "x", 1));
    assert_int_equal(b.len, 10);
    assert_false(eyec_buf_add(&b, "x", SIZE_MAX)); /* no overflow in the check */
    eyec_buf_free(&b);
    assert_null(b.data);
}

struct seen {
    size_t n;
    size_t index[8];
    char code[8][32];
    char pointer[8][32];
};

static void collect(size_t index, const char *code, const char *pointer, const char *message,
                    void *arg)
{
    struct seen *s = arg;
    s->index[s->n] = index;
    snprintf(s->code[s->n], sizeof(s->code[0]), "%s", code);
    snprintf(s->pointer[s->n], sizeof(s->pointer[0]), "%s", pointer);
    s->n++;
}

static void test_response_rejections(void **state)
{
    const char *body =
        "{\"accepted\":2,\"rejected\":3,\"errors\":["
        "{\"index\":1,\"event_id\":\"x\",\"code\":\"unknown_event_type\",\"pointer\":\"\","
        "\"message\":\"no rule\"},"
        "{\"index\":3,\"event_id\":\"y\",\"code\":\"wrong_type\",\"pointer\":\"/data/path\","
        "\"message\":\"must be a string\"},"
        "{\"index\":3,\"code\":\"twice\"},"     /* the same index again: passed over */
        "{\"index\":9,\"code\":\"outside\"},"   /* beyond the batch: passed over */
        "{\"index\":-1,\"code\":\"negative\"}," /* likewise */
        "{\"code\":\"no index\"},"
        "{\"index\":4,\"code\":\"timestamp_in_future\",\"pointer\":\"/timestamp\"}]}\n";
    struct seen s = {0};
    assert_int_equal(eyec_response_rejections(body, strlen(body), 5, collect, &s), 3);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.index[0], 1);
    assert_string_equal(s.code[0], "unknown_event_type");
    assert_string_equal(s.pointer[0], "");
    assert_int_equal(s.index[1], 3);
    assert_string_equal(s.code[1], "wrong_type");
    assert_string_equal(s.pointer[1], "/data/path");
    assert_int_equal(s.index[2], 4);
    assert_string_equal(s.pointer[2], "/timestamp");

    /* Nothing rejected, or an answer that is not the expected JSON. */
    const char *none = "{\"accepted\":5,\"rejected\":0,\"errors\":[]}";
    struct seen z = {0};
    assert_int_equal(eyec_response_rejections(none, strlen(none), 5, collect, &z), 0);
    assert_int_equal(eyec_response_rejections("<html>", 6, 5, collect, &z), 0);
    assert_int_equal(eyec_response_rejections(NULL, 0, 5, collect, &z), 0);
    /* The body need not end in NUL: only len bytes are read. */
    assert_int_equal(eyec_response_rejections(body, 10, 5, collect, &z), 0);
    assert_int_equal(z.n, 0);
}

static void test_response_error(void **state)
{
    const char *body =
        "{\"error\":{\"code\":\"invalid_key\",\"pointer\":\"\",\"message\":\"the key "
        "is not known\"}}\n";
    char code[16], pointer[16], message[64];
    assert_true(eyec_response_error(body, strlen(body), code, sizeof(code), pointer,
                                    sizeof(pointer), message, sizeof(message)));
    assert_string_equal(code, "invalid_key");
    assert_string_equal(pointer, "");
    assert_string_equal(message, "the key is not known");
    /* Cut to fit. */
    char tiny[5];
    assert_true(eyec_response_error(body, strlen(body), tiny, sizeof(tiny), pointer,
                                    sizeof(pointer), message, sizeof(message)));
    assert_string_equal(tiny, "inva");
    /* Not that shape: false, empty strings. */
    const char *other[] = {"{\"accepted\":1}", "Bad Gateway", "{\"error\":\"x\"}", NULL};
    for (size_t i = 0; other[i] != NULL; i++) {
        assert_false(eyec_response_error(other[i], strlen(other[i]), code, sizeof(code), pointer,
                                         sizeof(pointer), message, sizeof(message)));
        assert_string_equal(code, "");
        assert_string_equal(message, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_time),    cmocka_unit_test(test_event_new),
        cmocka_unit_test(test_event_now),      cmocka_unit_test(test_event_refused),
        cmocka_unit_test(test_event_parse),    cmocka_unit_test(test_ids_unique),
        cmocka_unit_test(test_batch_count),    cmocka_unit_test(test_body),
        cmocka_unit_test(test_buf_limit),      cmocka_unit_test(test_response_rejections),
        cmocka_unit_test(test_response_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
