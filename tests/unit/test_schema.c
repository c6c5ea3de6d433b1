/* test_schema.c - every rule keyword in both directions.
 *
 * Each check builds a one-rule set whose data has one member `v` with the
 * schema under test (YAML flow style), validates an event whose data.v is
 * the given JSON, and asserts the outcome: valid, or exactly one error with
 * the expected code and JSON pointer. Load-time checks of keyword values
 * assert the problem's line, column and message.
 */
#include "autoconfig.h"

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

#define NOW_US INT64_C(1609495200000000) /* 2021-01-01 10:00:00 UTC */

static struct ruleset *load_one(const char *text, struct rule_problems *problems)
{
    struct rule_text t = {"t.yaml", text, strlen(text)};
    return ruleset_load_texts(&t, 1, problems);
}

static struct ruleset *load_member_schema(const char *schema)
{
    char text[4096];
    struct rule_problems problems = {0};
    snprintf(text, sizeof(text),
             "category: t\nname: t\ndata:\n  type: object\n  properties:\n    v: %s\n", schema);
    struct ruleset *rs = load_one(text, &problems);
    if (rs == NULL) {
        for (size_t i = 0; i < problems.count; i++)
            print_error("%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                        problems.items[i].column, problems.items[i].message);
        rule_problems_clear(&problems);
        fail_msg("schema %s did not load", schema);
    }
    return rs;
}

/* Validates data `data_json` (a JSON object text) against the rule t/t. */
static void check_data(struct ruleset *rs, const char *data_json, const char *code,
                       const char *pointer)
{
    char text[8192];
    snprintf(text, sizeof(text),
             "{\"session_id\":\"s1\",\"category\":\"t\",\"name\":\"t\","
             "\"timestamp\":\"2021-01-01 09:00:00\",\"data\":%s}",
             data_json);
    struct json_object *ev = json_tokener_parse(text);
    if (ev == NULL)
        fail_msg("test JSON does not parse: %s", text);
    struct event_check_opts opts = {.now_us = NOW_US, .all_errors = true};
    struct event_verdict v;
    int rc = event_check(rs, ev, &opts, &v);
    if (code == NULL) {
        if (rc != 0 || !v.ok)
            fail_msg("%s: expected valid, got %s at '%s' (%s)", data_json,
                     v.error_count ? v.errors[0].code : "?",
                     v.error_count ? v.errors[0].pointer : "?",
                     v.error_count ? v.errors[0].message : "?");
    } else {
        if (rc != 1 || v.ok || v.error_count != 1)
            fail_msg("%s: expected one %s, got rc %d and %zu errors (first %s at '%s')", data_json,
                     code, rc, v.error_count, v.error_count ? v.errors[0].code : "-",
                     v.error_count ? v.errors[0].pointer : "-");
        if (strcmp(v.errors[0].code, code) != 0 || strcmp(v.errors[0].pointer, pointer) != 0)
            fail_msg("%s: expected %s at '%s', got %s at '%s' (%s)", data_json, code, pointer,
                     v.errors[0].code, v.errors[0].pointer, v.errors[0].message);
        assert_non_null(v.errors[0].message);
        assert_true(strlen(v.errors[0].message) > 0);
    }
    event_verdict_clear(&v);
    json_object_put(ev);
}

/* Shorthand: schema for member v, value of v, expected code (NULL = ok). */
static void check(const char *schema, const char *value, const char *code)
{
    char data[4096];
    struct ruleset *rs = load_member_schema(schema);
    snprintf(data, sizeof(data), "{\"v\":%s}", value);
    check_data(rs, data, code, "/data/v");
    ruleset_free(rs);
}

static void test_type(void **state)
{
    check("{type: string}", "\"x\"", NULL);
    check("{type: string}", "1", "wrong_type");
    check("{type: string}", "null", "wrong_type");
    check("{type: integer}", "5", NULL);
    check("{type: integer}", "5.0", NULL); /* whole doubles are integers */
    check("{type: integer}", "5.5", "wrong_type");
    check("{type: integer}", "\"5\"", "wrong_type");
    check("{type: number}", "5", NULL);
    check("{type: number}", "5.5", NULL);
    check("{type: number}", "true", "wrong_type");
    check("{type: boolean}", "false", NULL);
    check("{type: boolean}", "0", "wrong_type");
    check("{type: 'null'}", "null", NULL);
    check("{type: 'null'}", "\"\"", "wrong_type");
    check("{type: array}", "[]", NULL);
    check("{type: array}", "{}", "wrong_type");
    check("{type: object, additionalProperties: true}", "{\"a\":1}", NULL);
    check("{type: object}", "[]", "wrong_type");
    check("{type: [string, 'null']}", "null", NULL);
    check("{type: [string, 'null']}", "\"a\"", NULL);
    check("{type: [string, 'null']}", "1", "wrong_type");
    check("{description: any value}", "[1, {\"a\": null}]", NULL);
}

static void test_enum_const(void **state)
{
    check("{enum: [red, green]}", "\"red\"", NULL);
    check("{enum: [red, green]}", "\"blue\"", "not_in_enum");
    check("{enum: [red, green]}", "\"Red\"", "not_in_enum");
    /* YAML core types: plain 1 is an integer, quoted '1' a string. */
    check("{enum: [1, 2.5, true, null, '1']}", "1", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "1.0", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "2.5", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "true", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "null", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "\"1\"", NULL);
    check("{enum: [1, 2.5, true, null, '1']}", "false", "not_in_enum");
    check("{enum: [1, 2.5, true, null, '1']}", "\"true\"", "not_in_enum");
    check("{enum: [1, 2.5, true, null, '1']}", "2", "not_in_enum");
    check("{const: 7}", "7", NULL);
    check("{const: 7}", "8", "not_const");
    check("{const: 7}", "\"7\"", "not_const");
    check("{const: \"yes\"}", "\"yes\"", NULL);
    check("{const: \"yes\"}", "\"no\"", "not_const");
    check("{const: false}", "false", NULL);
    check("{const: false}", "null", "not_const");
}

static void test_lengths(void **state)
{
    check("{type: string, minLength: 2, maxLength: 3}", "\"ab\"", NULL);
    check("{type: string, minLength: 2, maxLength: 3}", "\"abc\"", NULL);
    check("{type: string, minLength: 2, maxLength: 3}", "\"a\"", "too_short");
    check("{type: string, minLength: 2, maxLength: 3}", "\"abcd\"", "too_long");
    /* Characters, not bytes: three 2-byte and 3-byte characters fit. */
    check("{type: string, maxLength: 3}", "\"\\u00e9\\u00e9\\u00e9\"", NULL);
    check("{type: string, maxLength: 3}", "\"日本語\"", NULL);
    check("{type: string, maxLength: 3}", "\"日本語x\"", "too_long");
    check("{type: string, minLength: 2}", "\"日\"", "too_short");
    check("{type: string, minLength: 1}", "\"\"", "too_short");
    check("{maxLength: 2}", "12345", NULL); /* applies to strings only */
    /* Invalid UTF-8 (json-c passes raw bytes through): stray continuation
     * bytes count one each, whether or not counting is needed. */
    check("{type: string, maxLength: 3}", "\"\x80\x80\x80\x80\"", "too_long");
    check("{type: string, maxLength: 4}", "\"\x80\x80\x80\x80\"", NULL);
    check("{type: string, minLength: 2}", "\"\x80\x80\x80\x80\x80\x80\x80\x80\"", NULL);
    check("{type: string, minLength: 9}", "\"\x80\x80\x80\x80\x80\x80\x80\x80\"", "too_short");
    check("{type: string, minLength: 3, maxLength: 3}", "\"\xe6\x97\xa5\x80\x80\"", NULL);
}

static void test_pattern(void **state)
{
    check("{type: string, pattern: '^/'}", "\"/a\"", NULL);
    check("{type: string, pattern: '^/'}", "\"a/\"", "pattern_mismatch");
    /* Unanchored, as in JSON Schema. */
    check("{type: string, pattern: 'b+'}", "\"abbc\"", NULL);
    check("{type: string, pattern: 'b+'}", "\"ac\"", "pattern_mismatch");
    /* UTF mode: '.' is one character. */
    check("{type: string, pattern: '^.$'}", "\"é\"", NULL);
    check("{type: string, pattern: '^\\p{Lu}'}", "\"Éa\"", NULL);
    check("{type: string, pattern: '^\\p{Lu}'}", "\"éa\"", "pattern_mismatch");
    /* Embedded NUL is matched as data, not as the end of the string. */
    check("{type: string, pattern: '^[a-z]*$'}", "\"ab\\u0000cd\"", "pattern_mismatch");
    /* `$` is the very end, as in JSON Schema: no trailing newline slips by. */
    check("{type: string, pattern: '^[a-z]+$'}", "\"abc\"", NULL);
    check("{type: string, pattern: '^[a-z]+$'}", "\"abc\\n\"", "pattern_mismatch");
}

static void test_formats(void **state)
{
    check("{type: string, format: hostname}", "\"www.consumeraffairs.com\"", NULL);
    check("{type: string, format: hostname}", "\"not a host\"", "format_invalid");
    check("{type: string, format: email}", "\"a@b.co\"", NULL);
    check("{type: string, format: email}", "\"a@\"", "format_invalid");
    check("{type: string, format: uri}", "\"https://a.com/x\"", NULL);
    check("{type: string, format: uri}", "\"/x\"", "format_invalid");
    check("{type: string, format: uuid}", "\"e2085be5-9137-4e4e-80b5-f1ffddc25423\"", NULL);
    check("{type: string, format: uuid}", "\"e2085be5\"", "format_invalid");
    check("{type: string, format: date-time}", "\"2021-01-01T09:15:27Z\"", NULL);
    check("{type: string, format: date-time}", "\"2021-13-01T09:15:27Z\"", "format_invalid");
}

static void test_numbers(void **state)
{
    check("{type: integer, minimum: 1, maximum: 10}", "1", NULL);
    check("{type: integer, minimum: 1, maximum: 10}", "10", NULL);
    check("{type: integer, minimum: 1, maximum: 10}", "0", "out_of_range");
    check("{type: integer, minimum: 1, maximum: 10}", "11", "out_of_range");
    check("{type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}", "0.5", NULL);
    check("{type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}", "0", "out_of_range");
    check("{type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}", "1", "out_of_range");
    check("{type: number, exclusiveMinimum: 0, exclusiveMaximum: 1}", "1.0", "out_of_range");
    check("{type: number, minimum: 0.5}", "0.5", NULL);
    check("{type: number, minimum: 0.5}", "0.49", "out_of_range");
    check("{type: number, maximum: -1.5}", "-2", NULL);
    check("{type: number, maximum: -1.5}", "-1", "out_of_range");
    /* Exact int64 comparison, no double rounding. */
    check("{type: integer, maximum: 9007199254740993}", "9007199254740993", NULL);
    check("{type: integer, maximum: 9007199254740993}", "9007199254740994", "out_of_range");
    check("{minimum: 5}", "\"3\"", NULL); /* applies to numbers only */
}

static void test_arrays(void **state)
{
    check("{type: array, minItems: 1, maxItems: 2}", "[1]", NULL);
    check("{type: array, minItems: 1, maxItems: 2}", "[1,2]", NULL);
    check("{type: array, minItems: 1, maxItems: 2}", "[]", "too_few_items");
    check("{type: array, minItems: 1, maxItems: 2}", "[1,2,3]", "too_many_items");

    struct ruleset *rs = load_member_schema("{type: array, items: {type: string, maxLength: 2}}");
    check_data(rs, "{\"v\":[\"a\",\"bb\"]}", NULL, NULL);
    check_data(rs, "{\"v\":[\"a\",\"bb\",3]}", "wrong_type", "/data/v/2");
    check_data(rs, "{\"v\":[\"abc\"]}", "too_long", "/data/v/0");
    ruleset_free(rs);
}

static void test_objects(void **state)
{
    struct ruleset *rs = load_member_schema(
        "{type: object, required: [a], properties: {a: {type: integer}, b: {type: string}}}");
    check_data(rs, "{\"v\":{\"a\":1}}", NULL, NULL);
    check_data(rs, "{\"v\":{\"a\":1,\"b\":\"x\"}}", NULL, NULL);
    check_data(rs, "{\"v\":{\"b\":\"x\"}}", "missing_field", "/data/v/a");
    check_data(rs, "{\"v\":{\"a\":\"1\"}}", "wrong_type", "/data/v/a");
    /* additionalProperties defaults to false. */
    check_data(rs, "{\"v\":{\"a\":1,\"c\":2}}", "unexpected_field", "/data/v/c");
    /* The data object itself is strict too. */
    check_data(rs, "{\"v\":{\"a\":1},\"w\":0}", "unexpected_field", "/data/w");
    ruleset_free(rs);

    rs = load_member_schema("{type: object, additionalProperties: true}");
    check_data(rs, "{\"v\":{\"anything\":[1]}}", NULL, NULL);
    ruleset_free(rs);

    rs = load_member_schema("{type: object, properties: {a: {type: integer}}, "
                            "additionalProperties: {type: string}}");
    check_data(rs, "{\"v\":{\"a\":1,\"x\":\"s\"}}", NULL, NULL);
    check_data(rs, "{\"v\":{\"a\":1,\"x\":2}}", "wrong_type", "/data/v/x");
    ruleset_free(rs);

    check("{type: object, additionalProperties: true, minProperties: 1, maxProperties: 2}",
          "{\"a\":1}", NULL);
    check("{type: object, additionalProperties: true, minProperties: 1, maxProperties: 2}", "{}",
          "too_few_properties");
    check("{type: object, additionalProperties: true, minProperties: 1, maxProperties: 2}",
          "{\"a\":1,\"b\":2,\"c\":3}", "too_many_properties");
}

static void test_pointer_escaping(void **state)
{
    struct ruleset *rs = load_member_schema("{type: object, additionalProperties: "
                                            "{type: integer}}");
    check_data(rs, "{\"v\":{\"a/b\":\"x\"}}", "wrong_type", "/data/v/a~1b");
    check_data(rs, "{\"v\":{\"m~n\":\"x\"}}", "wrong_type", "/data/v/m~0n");
    check_data(rs, "{\"v\":{\"~/\":\"x\"}}", "wrong_type", "/data/v/~0~1");
    check_data(rs, "{\"v\":{\"\":\"x\"}}", "wrong_type", "/data/v/");
    ruleset_free(rs);
}

/* Asserts that text fails to load with a problem at line:column whose
 * message contains `needle`. */
static void load_fails(const char *text, int line, int column, const char *needle)
{
    struct rule_problems problems = {0};
    struct ruleset *rs = load_one(text, &problems);
    if (rs != NULL) {
        ruleset_free(rs);
        fail_msg("loaded, expected '%s' at %d:%d:\n%s", needle, line, column, text);
    }
    bool found = false;
    for (size_t i = 0; i < problems.count; i++) {
        const struct rule_problem *p = &problems.items[i];
        if (p->line == line && p->column == column && strstr(p->message, needle) != NULL &&
            strcmp(p->file, "t.yaml") == 0)
            found = true;
    }
    if (!found) {
        for (size_t i = 0; i < problems.count; i++)
            print_error("  got %s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                        problems.items[i].column, problems.items[i].message);
        rule_problems_clear(&problems);
        fail_msg("no problem '%s' at %d:%d", needle, line, column);
    }
    rule_problems_clear(&problems);
}

#define HEAD "category: t\nname: t\ndata:\n  type: object\n  properties:\n"

static void test_load_keyword_errors(void **state)
{
    load_fails(HEAD "    v: {type: string, maxLenght: 3}\n", 6, 23,
               "unknown keyword 'maxLenght' (did you mean 'maxLength'?)");
    load_fails(HEAD "    v: {type: string, maxLength: \"5\"}\n", 6, 34,
               "'maxLength' expects a non-negative integer");
    load_fails(HEAD "    v: {type: string, maxLength: -1}\n", 6, 34,
               "'maxLength' expects a non-negative integer, not a negative integer");
    load_fails(HEAD "    v: {type: integer, minimum: ten}\n", 6, 33,
               "'minimum' expects a number, not a string");
    load_fails(HEAD "    v: {type: number, exclusiveMinimum: true}\n", 6, 41,
               "'exclusiveMinimum' expects a number");
    load_fails(HEAD "    v: {type: string, pattern: 'a(b'}\n", 6, 36,
               "bad pattern: missing closing parenthesis");
    load_fails(HEAD "    v: {type: strin}\n", 6, 15, "unknown type 'strin'");
    load_fails(HEAD "    v: {type: [string, string]}\n", 6, 24, "listed twice");
    load_fails(HEAD "    v: {type: []}\n", 6, 15, "at least one type");
    load_fails(HEAD "    v: {type: string, format: ipv4}\n", 6, 31, "unknown format 'ipv4'");
    load_fails(HEAD "    v: {type: integer, maxLength: 3}\n", 6, 24,
               "'maxLength' applies to string values, which 'type' excludes");
    load_fails(HEAD "    v: {type: string, minLength: 4, maxLength: 3}\n", 6, 8,
               "minLength 4 is greater than maxLength 3");
    load_fails(HEAD "    v: {type: integer, minimum: 4, maximum: 3}\n", 6, 8,
               "minimum 4 is greater than maximum 3");
    load_fails(HEAD "    v: {enum: []}\n", 6, 15, "'enum' expects a non-empty list");
    load_fails(HEAD "    v: {enum: [[1]]}\n", 6, 16, "values must be scalars");
    load_fails(HEAD "    v: {const: .inf}\n", 6, 16, "finite");
    load_fails(HEAD "    v: {type: array, items: [{type: string}]}\n", 6, 29, "tuple");
    load_fails(HEAD "    v: {type: object, additionalProperties: 'no'}\n", 6, 45,
               "expects false, true or a schema");
    load_fails(HEAD "    v: {type: object, required: a}\n", 6, 33, "expects a list");
    load_fails(HEAD "    v: {type: object, required: [a, a], properties: {a: {}}}\n", 6, 37,
               "listed twice");
    load_fails(HEAD "    v: {type: object, required: [a]}\n", 6, 8,
               "required member 'a' is not in 'properties'");
    load_fails(HEAD "    v: string\n", 6, 8, "a schema must be a mapping");
    load_fails(HEAD "    v: {description: 5}\n", 6, 22, "'description' expects a string");
    load_fails("category: t\nname: t\ndata: {type: string}\n", 3, 7, "'data' is always an object");
}

static void test_load_keeps_going(void **state)
{
    /* Three independent mistakes in one file: all three are reported. */
    const char *text = HEAD "    a: {type: string, maxLenght: 3}\n"
                            "    b: {type: integer, minimum: x}\n"
                            "    c: {typ: string}\n";
    struct rule_problems problems = {0};
    assert_null(load_one(text, &problems));
    assert_int_equal(problems.count, 3);
    assert_int_equal(problems.items[0].line, 6);
    assert_int_equal(problems.items[1].line, 7);
    assert_int_equal(problems.items[2].line, 8);
    rule_problems_clear(&problems);
}

static void test_nesting_limit(void **state)
{
    /* 40 schemas nested through `items` (one YAML level each) exceed
     * SCHEMA_MAX_DEPTH (32) before the YAML depth limit (64). */
    char text[16384];
    size_t used = (size_t)snprintf(text, sizeof(text), "category: t\nname: t\ndata: ");
    for (int i = 0; i < 40; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "{items: ");
    used += (size_t)snprintf(text + used, sizeof(text) - used, "{}");
    for (int i = 0; i < 40; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "}");
    snprintf(text + used, sizeof(text) - used, "\n");
    struct rule_problems problems = {0};
    assert_null(load_one(text, &problems));
    assert_true(problems.count >= 1);
    assert_non_null(strstr(problems.items[0].message, "nested deeper"));
    rule_problems_clear(&problems);
}

static int teardown_thread(void **state)
{
    event_thread_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_enum_const),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_pattern),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_pointer_escaping),
        cmocka_unit_test(test_load_keyword_errors),
        cmocka_unit_test(test_load_keeps_going),
        cmocka_unit_test(test_nesting_limit),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_thread);
}
