/* test_event.c - event_check: every envelope check (members, session_id,
 * category, name, event_id, timestamp window, sent_at, data), unknown
 * event types under both policies, first-error versus all-errors mode,
 * extraction of valid fields from invalid events, the brief's three
 * example events against the shipped rules, and concurrent validation
 * with one shared rule set.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "validators/event.h"
#include "validators/ruleset.h"
#include "validators/timestamp.h"

#define NOW_US INT64_C(1609495200000000) /* 2021-01-01 10:00:00 UTC */

static const char *brief_events[] = {
    "{\"session_id\":\"e2085be5-9137-4e4e-80b5-f1ffddc25423\",\"category\":\"page "
    "interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"www.consumeraffairs.com\","
    "\"path\":\"/\"},\"timestamp\":\"2021-01-01 09:15:27.243860\"}",
    "{\"session_id\":\"e2085be5-9137-4e4e-80b5-f1ffddc25423\",\"category\":\"page "
    "interaction\",\"name\":\"cta click\",\"data\":{\"host\":\"www.consumeraffairs.com\","
    "\"path\":\"/\",\"element\":\"chat bubble\"},\"timestamp\":\"2021-01-01 09:15:27.243860\"}",
    "{\"session_id\":\"e2085be5-9137-4e4e-80b5-f1ffddc25423\",\"category\":\"form "
    "interaction\",\"name\":\"submit\",\"data\":{\"host\":\"www.consumeraffairs.com\","
    "\"path\":\"/\",\"form\":{\"first_name\":\"John\",\"last_name\":\"Doe\"}},"
    "\"timestamp\":\"2021-01-01 09:15:27.243860\"}",
};

static struct ruleset *shipped(void)
{
    char dir[4096];
    const char *src = getenv("EYE_SRCDIR");
    struct rule_problems problems = {0};
    snprintf(dir, sizeof(dir), "%s/rules", src != NULL ? src : ".");
    struct ruleset *rs = ruleset_load_dir(dir, &problems);
    for (size_t i = 0; i < problems.count; i++)
        print_error("%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                    problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    if (rs == NULL)
        fail_msg("shipped rules in %s do not load", dir);
    return rs;
}

/* A set with one permissive rule t/t and an optional envelope file. */
static struct ruleset *with_envelope(const char *envelope)
{
    static const char rule[] = "category: t\nname: t\ndata: {additionalProperties: true}\n";
    struct rule_text files[2] = {{"t.yaml", rule, sizeof(rule) - 1}};
    size_t n = 1;
    if (envelope != NULL) {
        files[1].name = "_envelope.yaml";
        files[1].text = envelope;
        files[1].len = strlen(envelope);
        n = 2;
    }
    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_texts(files, n, &problems);
    for (size_t i = 0; i < problems.count; i++)
        print_error("%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                    problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    assert_non_null(rs);
    return rs;
}

static int check_json(const struct ruleset *rs, const char *json, bool all, struct event_verdict *v,
                      struct json_object **ev_out)
{
    enum json_tokener_error jerr;
    struct json_object *ev = json_tokener_parse_verbose(json, &jerr);
    if (jerr != json_tokener_success)
        fail_msg("test JSON does not parse: %s", json);
    struct event_check_opts opts = {.now_us = NOW_US, .all_errors = all};
    *ev_out = ev;
    return event_check(rs, ev, &opts, v);
}

/* Asserts that json fails with exactly one error (first-error mode). */
static void expect1(const struct ruleset *rs, const char *json, const char *code,
                    const char *pointer)
{
    struct event_verdict v;
    struct json_object *ev;
    int rc = check_json(rs, json, false, &v, &ev);
    if (rc != 1 || v.error_count != 1)
        fail_msg("%s: expected %s, got rc %d, %zu errors", json, code, rc, v.error_count);
    if (strcmp(v.errors[0].code, code) != 0 || strcmp(v.errors[0].pointer, pointer) != 0)
        fail_msg("%s: expected %s at '%s', got %s at '%s' (%s)", json, code, pointer,
                 v.errors[0].code, v.errors[0].pointer, v.errors[0].message);
    event_verdict_clear(&v);
    json_object_put(ev);
}

static void expect_ok(const struct ruleset *rs, const char *json)
{
    struct event_verdict v;
    struct json_object *ev;
    int rc = check_json(rs, json, true, &v, &ev);
    if (rc != 0 || !v.ok || v.error_count != 0)
        fail_msg("%s: expected valid, got %s at '%s' (%s)", json,
                 v.error_count ? v.errors[0].code : "?", v.error_count ? v.errors[0].pointer : "?",
                 v.error_count ? v.errors[0].message : "?");
    event_verdict_clear(&v);
    json_object_put(ev);
}

/* An event for rule t/t with one member replaced or added: `extra` is a
 * JSON fragment like "\"session_id\":\"x\"" that overrides the default. */
static void ev_text(char *out, size_t size, const char *session, const char *category,
                    const char *name, const char *timestamp, const char *extra)
{
    snprintf(out, size,
             "{\"session_id\":%s,\"category\":%s,\"name\":%s,\"timestamp\":%s,"
             "\"data\":{}%s%s}",
             session, category, name, timestamp, extra[0] ? "," : "", extra);
}

#define S_OK "\"s-1\""
#define C_OK "\"t\""
#define N_OK "\"t\""
#define T_OK "\"2021-01-01 09:00:00\""

static void test_brief_events_pass(void **state)
{
    struct ruleset *rs = shipped();
    for (size_t i = 0; i < 3; i++) {
        struct event_verdict v;
        struct json_object *ev;
        assert_int_equal(check_json(rs, brief_events[i], true, &v, &ev), 0);
        assert_true(v.ok);
        assert_string_equal(v.session_id, "e2085be5-9137-4e4e-80b5-f1ffddc25423");
        assert_non_null(v.rule);
        assert_string_equal(rule_category(v.rule), v.category);
        assert_int_equal(v.timestamp_us, INT64_C(1609492527243860));
        assert_true(v.has_timestamp);
        assert_false(v.has_sent_at);
        assert_string_equal(v.event_id, "");
        assert_ptr_equal(v.data, json_object_object_get(ev, "data"));
        event_verdict_clear(&v);
        json_object_put(ev);
    }
    ruleset_free(rs);
}

static void test_shipped_rules_catch_bad_payloads(void **state)
{
    struct ruleset *rs = shipped();
    const char *head = "{\"session_id\":\"s\",\"timestamp\":\"2021-01-01 09:15:27\",";
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":"
             "{\"host\":\"www.consumeraffairs.com\",\"path\":\"/\",\"color\":\"red\"}}",
             head);
    expect1(rs, buf, "unexpected_field", "/data/color");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":"
             "{\"host\":\"not a host\",\"path\":\"/\"}}",
             head);
    expect1(rs, buf, "format_invalid", "/data/host");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":"
             "{\"host\":\"a.com\",\"path\":\"index.html\"}}",
             head);
    expect1(rs, buf, "pattern_mismatch", "/data/path");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"page interaction\",\"name\":\"cta click\",\"data\":"
             "{\"host\":\"a.com\",\"path\":\"/\",\"element\":\"\"}}",
             head);
    expect1(rs, buf, "too_short", "/data/element");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"page interaction\",\"name\":\"cta click\",\"data\":"
             "{\"host\":\"a.com\",\"path\":\"/\"}}",
             head);
    expect1(rs, buf, "missing_field", "/data/element");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"form interaction\",\"name\":\"submit\",\"data\":"
             "{\"host\":\"a.com\",\"path\":\"/\",\"form\":{\"first_name\":42}}}",
             head);
    expect1(rs, buf, "wrong_type", "/data/form/first_name");
    snprintf(buf, sizeof(buf),
             "%s\"category\":\"form interaction\",\"name\":\"submit\",\"data\":"
             "{\"host\":\"a.com\",\"path\":\"/\",\"form\":{}}}",
             head);
    expect1(rs, buf, "too_few_properties", "/data/form");
    ruleset_free(rs);
}

static void test_not_an_object(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    expect1(rs, "[1,2]", "wrong_type", "");
    expect1(rs, "\"event\"", "wrong_type", "");
    expect1(rs, "null", "wrong_type", "");
    ruleset_free(rs);
}

static void test_members(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024];
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"extra\":1");
    expect1(rs, buf, "unexpected_field", "/extra");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"a/b\":1");
    expect1(rs, buf, "unexpected_field", "/a~1b");
    expect1(rs, "{\"category\":\"t\",\"name\":\"t\",\"timestamp\":" T_OK ",\"data\":{}}",
            "missing_field", "/session_id");
    expect1(rs, "{\"session_id\":\"s\",\"name\":\"t\",\"timestamp\":" T_OK ",\"data\":{}}",
            "missing_field", "/category");
    expect1(rs, "{\"session_id\":\"s\",\"category\":\"t\",\"timestamp\":" T_OK ",\"data\":{}}",
            "missing_field", "/name");
    expect1(rs, "{\"session_id\":\"s\",\"category\":\"t\",\"name\":\"t\",\"data\":{}}",
            "missing_field", "/timestamp");
    expect1(rs, "{\"session_id\":\"s\",\"category\":\"t\",\"name\":\"t\",\"timestamp\":" T_OK "}",
            "missing_field", "/data");
    expect1(rs,
            "{\"session_id\":\"s\",\"category\":\"t\",\"name\":\"t\",\"timestamp\":" T_OK
            ",\"data\":[]}",
            "wrong_type", "/data");
    expect1(rs,
            "{\"session_id\":\"s\",\"category\":\"t\",\"name\":\"t\",\"timestamp\":" T_OK
            ",\"data\":null}",
            "wrong_type", "/data");
    ruleset_free(rs);
}

static void test_session_id(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024], sid[200];
    ev_text(buf, sizeof(buf), "\"A-z_0.9:x\"", C_OK, N_OK, T_OK, "");
    expect_ok(rs, buf);
    memset(sid, 'a', sizeof(sid));
    sid[0] = '"';
    sid[129] = '"';
    sid[130] = '\0'; /* 128 characters: the limit */
    ev_text(buf, sizeof(buf), sid, C_OK, N_OK, T_OK, "");
    expect_ok(rs, buf);
    sid[129] = 'a';
    sid[130] = '"';
    sid[131] = '\0'; /* 129 */
    ev_text(buf, sizeof(buf), sid, C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "too_long", "/session_id");
    ev_text(buf, sizeof(buf), "\"\"", C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "too_short", "/session_id");
    ev_text(buf, sizeof(buf), "\"a b\"", C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/session_id");
    ev_text(buf, sizeof(buf), "\"a\\u0000b\"", C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/session_id");
    ev_text(buf, sizeof(buf), "\"é\"", C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/session_id");
    ev_text(buf, sizeof(buf), "12", C_OK, N_OK, T_OK, "");
    expect1(rs, buf, "wrong_type", "/session_id");
    ruleset_free(rs);
}

static void test_category_and_name(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024];
    ev_text(buf, sizeof(buf), S_OK, "\" t\"", N_OK, T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/category");
    ev_text(buf, sizeof(buf), S_OK, "\"t\\n\"", N_OK, T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/category");
    ev_text(buf, sizeof(buf), S_OK, "\"\"", N_OK, T_OK, "");
    expect1(rs, buf, "too_short", "/category");
    ev_text(buf, sizeof(buf), S_OK, "true", N_OK, T_OK, "");
    expect1(rs, buf, "wrong_type", "/category");
    ev_text(buf, sizeof(buf), S_OK, C_OK,
            "\"" /* 65 x */
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
            T_OK, "");
    expect1(rs, buf, "too_long", "/name");
    ev_text(buf, sizeof(buf), S_OK, C_OK, "\"t \"", T_OK, "");
    expect1(rs, buf, "pattern_mismatch", "/name");
    ruleset_free(rs);
}

static void test_event_id(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024];
    struct event_verdict v;
    struct json_object *ev;
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK,
            "\"event_id\":\"E2085BE5-9137-4E4E-80B5-F1FFDDC25423\"");
    assert_int_equal(check_json(rs, buf, false, &v, &ev), 0);
    assert_string_equal(v.event_id, "e2085be5-9137-4e4e-80b5-f1ffddc25423");
    event_verdict_clear(&v);
    json_object_put(ev);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"event_id\":\"not-a-uuid\"");
    expect1(rs, buf, "event_id_invalid", "/event_id");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK,
            "\"event_id\":\"e2085be59137-4e4e-80b5-f1ffddc25423-\"");
    expect1(rs, buf, "event_id_invalid", "/event_id");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"event_id\":7");
    expect1(rs, buf, "wrong_type", "/event_id");
    ruleset_free(rs);
}

static void test_timestamps(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024];
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01T10:00:00+01:00\"", "");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"yesterday\"", "");
    expect1(rs, buf, "timestamp_invalid", "/timestamp");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-02-30 00:00:00\"", "");
    expect1(rs, buf, "timestamp_invalid", "/timestamp");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "1609492527", "");
    expect1(rs, buf, "wrong_type", "/timestamp");
    /* now is 10:00:00; the tolerance is 300 s. */
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 10:05:00\"", "");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 10:05:00.000001\"", "");
    expect1(rs, buf, "timestamp_in_future", "/timestamp");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2030-01-01 00:00:00\"", "");
    expect1(rs, buf, "timestamp_in_future", "/timestamp");
    /* No maximum age by default. */
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"1970-01-01 00:00:00\"", "");
    expect_ok(rs, buf);
    /* sent_at: optional, format only. */
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"sent_at\":\"2021-01-01T09:00:01Z\"");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"sent_at\":\"soon\"");
    expect1(rs, buf, "timestamp_invalid", "/sent_at");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, T_OK, "\"sent_at\":null");
    expect1(rs, buf, "wrong_type", "/sent_at");
    ruleset_free(rs);

    rs = with_envelope("timestamp: {maxFutureSeconds: 0, maxAgeSeconds: 3600}\n");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 10:00:00\"", "");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 10:00:00.000001\"", "");
    expect1(rs, buf, "timestamp_in_future", "/timestamp");
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 09:00:00\"", "");
    expect_ok(rs, buf);
    ev_text(buf, sizeof(buf), S_OK, C_OK, N_OK, "\"2021-01-01 08:59:59.999999\"", "");
    expect1(rs, buf, "timestamp_too_old", "/timestamp");
    assert_int_equal(ruleset_max_age_us(rs), INT64_C(3600000000));
    assert_int_equal(ruleset_future_tolerance_us(rs), 0);
    ruleset_free(rs);
}

static void test_unknown_type(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[1024];
    struct event_verdict v;
    struct json_object *ev;
    ev_text(buf, sizeof(buf), S_OK, C_OK, "\"nope\"", T_OK, "");
    expect1(rs, buf, "unknown_event_type", "/name");
    /* Category and name are still extracted for the error record. */
    assert_int_equal(check_json(rs, buf, false, &v, &ev), 1);
    assert_string_equal(v.category, "t");
    assert_string_equal(v.name, "nope");
    assert_null(v.rule);
    event_verdict_clear(&v);
    json_object_put(ev);
    ruleset_free(rs);

    rs = with_envelope("unknownEventType: accept\n");
    assert_int_equal(ruleset_unknown_policy(rs), RULESET_UNKNOWN_ACCEPT);
    ev_text(buf, sizeof(buf), S_OK, C_OK, "\"nope\"", T_OK, "");
    expect_ok(rs, buf);
    /* data must still be an object. */
    expect1(rs,
            "{\"session_id\":\"s\",\"category\":\"t\",\"name\":\"x\",\"timestamp\":" T_OK
            ",\"data\":5}",
            "wrong_type", "/data");
    ruleset_free(rs);
}

static void test_modes_and_extraction(void **state)
{
    struct ruleset *rs = shipped();
    /* Bad timestamp, extra member, bad host, missing path, unexpected data
     * member: five errors; session, category and name are fine. */
    const char *json = "{\"session_id\":\"abc\",\"category\":\"page interaction\","
                       "\"name\":\"pageview\",\"timestamp\":\"bad\",\"x\":1,"
                       "\"event_id\":\"E2085BE5-9137-4E4E-80B5-F1FFDDC25423\","
                       "\"data\":{\"host\":\"-bad\",\"q\":1}}";
    struct event_verdict v;
    struct json_object *ev;

    assert_int_equal(check_json(rs, json, false, &v, &ev), 1);
    assert_int_equal(v.error_count, 1);
    assert_string_equal(v.errors[0].code, "unexpected_field");
    assert_string_equal(v.errors[0].pointer, "/x");
    /* Every valid member is extracted even though checking stopped. */
    assert_string_equal(v.session_id, "abc");
    assert_string_equal(v.category, "page interaction");
    assert_string_equal(v.name, "pageview");
    assert_string_equal(v.event_id, "e2085be5-9137-4e4e-80b5-f1ffddc25423");
    assert_false(v.has_timestamp);
    assert_non_null(v.data);
    assert_non_null(v.rule);
    event_verdict_clear(&v);
    json_object_put(ev);

    assert_int_equal(check_json(rs, json, true, &v, &ev), 1);
    const char *expected[][2] = {
        {"unexpected_field", "/x"},      {"timestamp_invalid", "/timestamp"},
        {"missing_field", "/data/path"}, {"format_invalid", "/data/host"},
        {"unexpected_field", "/data/q"},
    };
    assert_int_equal(v.error_count, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(v.errors[i].code, expected[i][0]);
        assert_string_equal(v.errors[i].pointer, expected[i][1]);
    }
    assert_false(v.truncated);
    event_verdict_clear(&v);
    json_object_put(ev);

    /* An invalid session_id is not extracted; the others still are. */
    json = "{\"session_id\":\"a b\",\"category\":\"page interaction\",\"name\":\"pageview\","
           "\"timestamp\":\"2030-01-01 00:00:00\",\"data\":{\"host\":\"a.com\",\"path\":\"/\"}}";
    assert_int_equal(check_json(rs, json, true, &v, &ev), 1);
    assert_null(v.session_id);
    assert_string_equal(v.category, "page interaction");
    assert_true(v.has_timestamp); /* parsed, though out of the window */
    assert_int_equal(v.error_count, 2);
    event_verdict_clear(&v);
    json_object_put(ev);
    ruleset_free(rs);
}

static void test_error_limit(void **state)
{
    struct ruleset *rs = with_envelope(NULL);
    char buf[16384];
    size_t used = (size_t)snprintf(buf, sizeof(buf), "{");
    for (int i = 0; i < 100; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "\"x%d\":1,", i);
    snprintf(buf + used, sizeof(buf) - used,
             "\"session_id\":\"s\",\"category\":\"t\",\"name\":\"t\",\"timestamp\":" T_OK
             ",\"data\":{}}");
    struct event_verdict v;
    struct json_object *ev;
    assert_int_equal(check_json(rs, buf, true, &v, &ev), 1);
    assert_int_equal(v.error_count, EVENT_MAX_ERRORS);
    assert_true(v.truncated);
    assert_string_equal(v.session_id, "s");
    event_verdict_clear(&v);
    event_verdict_clear(&v); /* idempotent */
    event_verdict_clear(NULL);
    json_object_put(ev);
    ruleset_free(rs);
}

struct thread_arg {
    const struct ruleset *rs;
    struct json_object *events[4];
    int failures;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    struct event_check_opts opts = {.now_us = NOW_US, .all_errors = true};
    for (int i = 0; i < 2000; i++) {
        struct event_verdict v;
        int rc = event_check(a->rs, a->events[i % 4], &opts, &v);
        /* Events 0-2 are valid; event 3 has a path that fails the pattern. */
        if ((i % 4 < 3 && rc != 0) || (i % 4 == 3 && (rc != 1 || v.error_count != 1)))
            a->failures++;
        event_verdict_clear(&v);
    }
    event_thread_cleanup();
    return NULL;
}

static void test_threads_share_a_set(void **state)
{
    struct ruleset *rs = shipped();
    struct json_object *events[4];
    for (size_t i = 0; i < 3; i++)
        events[i] = json_tokener_parse(brief_events[i]);
    events[3] = json_tokener_parse(
        "{\"session_id\":\"s\",\"category\":\"page interaction\",\"name\":\"pageview\","
        "\"timestamp\":\"2021-01-01 09:00:00\",\"data\":{\"host\":\"a.com\",\"path\":\"x\"}}");
    pthread_t th[4];
    struct thread_arg args[4];
    for (size_t t = 0; t < 4; t++) {
        args[t].rs = rs;
        memcpy(args[t].events, events, sizeof(events));
        args[t].failures = 0;
        assert_int_equal(pthread_create(&th[t], NULL, thread_main, &args[t]), 0);
    }
    for (size_t t = 0; t < 4; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(args[t].failures, 0);
    }
    for (size_t i = 0; i < 4; i++)
        json_object_put(events[i]);
    ruleset_free(rs);
}

static int teardown_thread(void **state)
{
    event_thread_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brief_events_pass),
        cmocka_unit_test(test_shipped_rules_catch_bad_payloads),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_session_id),
        cmocka_unit_test(test_category_and_name),
        cmocka_unit_test(test_event_id),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_modes_and_extraction),
        cmocka_unit_test(test_error_limit),
        cmocka_unit_test(test_threads_share_a_set),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_thread);
}
