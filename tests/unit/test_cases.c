/* test_cases.c - data-driven validation cases.
 *
 * Loads tests/unit/data/rules/ and runs every line of every
 * tests/unit/data/cases/ *.ndjson file as its own test (see the README
 * there for the line format), comparing the exact list of (code, pointer)
 * pairs. Adding a case is adding a line.
 */
#include "autoconfig.h"

#include <dirent.h>
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

#define MAX_CASES 1000

struct test_case {
    char name[256];
    char *line; /* owned */
};

static struct ruleset *cases_rules;

static const char *srcdir(void)
{
    const char *s = getenv("EYE_SRCDIR");
    return s != NULL ? s : ".";
}

static void run_case(void **state)
{
    const struct test_case *tc = *state;
    struct json_object *root = json_tokener_parse(tc->line);
    struct json_object *event, *expect, *x;
    if (root == NULL || !json_object_object_get_ex(root, "event", &event) ||
        !json_object_object_get_ex(root, "expect", &expect))
        fail_msg("%s: not a case line (needs event and expect)", tc->name);

    struct event_check_opts opts = {.now_us = INT64_C(1609495200000000), .all_errors = true};
    if (json_object_object_get_ex(root, "mode", &x))
        opts.all_errors = strcmp(json_object_get_string(x), "first") != 0;
    if (json_object_object_get_ex(root, "now", &x) &&
        !timestamp_parse(json_object_get_string(x), (size_t)json_object_get_string_len(x),
                         &opts.now_us))
        fail_msg("%s: bad now", tc->name);

    struct event_verdict v;
    int rc = event_check(cases_rules, event, &opts, &v);
    for (size_t i = 0; i < v.error_count; i++)
        print_message("# %s: %s at '%s': %s\n", tc->name, v.errors[i].code, v.errors[i].pointer,
                      v.errors[i].message);
    if (json_object_is_type(expect, json_type_string)) {
        assert_string_equal(json_object_get_string(expect), "ok");
        if (rc != 0 || !v.ok)
            fail_msg("%s: expected ok, got %zu errors", tc->name, v.error_count);
    } else {
        size_t n = json_object_array_length(expect);
        assert_int_equal(rc, 1);
        assert_false(v.ok);
        if (v.error_count != n)
            fail_msg("%s: expected %zu errors, got %zu", tc->name, n, v.error_count);
        for (size_t i = 0; i < n; i++) {
            struct json_object *e = json_object_array_get_idx(expect, i), *code, *ptr;
            if (!json_object_object_get_ex(e, "code", &code) ||
                !json_object_object_get_ex(e, "pointer", &ptr))
                fail_msg("%s: expect[%zu] needs code and pointer", tc->name, i);
            if (strcmp(json_object_get_string(code), v.errors[i].code) != 0 ||
                strcmp(json_object_get_string(ptr), v.errors[i].pointer) != 0)
                fail_msg("%s: error %zu: expected %s at '%s', got %s at '%s'", tc->name, i,
                         json_object_get_string(code), json_object_get_string(ptr),
                         v.errors[i].code, v.errors[i].pointer);
        }
    }
    event_verdict_clear(&v);
    json_object_put(root);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every case line of every .ndjson file into cases; returns count. */
static size_t read_cases(struct test_case *cases, size_t max)
{
    char dir[4096], path[4096 + 256];
    char *names[256];
    size_t nnames = 0, count = 0;
    snprintf(dir, sizeof(dir), "%s/tests/unit/data/cases", srcdir());
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && nnames < 256) {
        size_t len = strlen(de->d_name);
        if (len > 7 && strcmp(de->d_name + len - 7, ".ndjson") == 0)
            names[nnames++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nnames, sizeof(names[0]), cmp_names);
    for (size_t f = 0; f < nnames; f++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[f]);
        FILE *fp = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        int lineno = 0;
        while (fp != NULL && (n = getline(&line, &cap, fp)) >= 0) {
            lineno++;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (n == 0 || line[0] == '#' || count == max)
                continue;
            snprintf(cases[count].name, sizeof(cases[count].name), "%s:%d", names[f], lineno);
            cases[count].line = strdup(line);
            count++;
        }
        free(line);
        if (fp != NULL)
            fclose(fp);
        free(names[f]);
    }
    return count;
}

int main(void)
{
    static struct test_case cases[MAX_CASES];
    static struct CMUnitTest tests[MAX_CASES];
    char dir[4096];
    struct rule_problems problems = {0};

    snprintf(dir, sizeof(dir), "%s/tests/unit/data/rules", srcdir());
    cases_rules = ruleset_load_dir(dir, &problems);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    if (cases_rules == NULL) {
        printf("Bail out! test rules in %s do not load\n", dir);
        return 1;
    }
    size_t n = read_cases(cases, MAX_CASES);
    if (n == 0) {
        printf("Bail out! no cases found\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests("cases", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        free(cases[i].line);
    ruleset_free(cases_rules);
    event_thread_cleanup();
    return rc;
}
