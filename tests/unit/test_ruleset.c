/* test_ruleset.c - loading rule folders: the shipped rules, lookup, rule
 * order and accessors, envelope defaults and overrides, the version hash
 * (stable, and changed by any change of a loaded file), folder conventions
 * (hidden, reserved and non-YAML names), YAML-level refusals, and the
 * data-driven bad-rule cases under tests/unit/data/bad_rules/.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "validators/event.h"
#include "validators/ruleset.h"

static const char *srcdir(void)
{
    const char *s = getenv("EYE_SRCDIR");
    return s != NULL ? s : ".";
}

static void print_problems(const struct rule_problems *p)
{
    for (size_t i = 0; i < p->count; i++)
        print_error("  %s:%d:%d: %s\n", p->items[i].file, p->items[i].line, p->items[i].column,
                    p->items[i].message);
}

static struct ruleset *load_dir_ok(const char *dir)
{
    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_dir(dir, &problems);
    print_problems(&problems);
    assert_int_equal(problems.count, 0);
    rule_problems_clear(&problems);
    assert_non_null(rs);
    return rs;
}

static void test_shipped(void **state)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/rules", srcdir());
    struct ruleset *rs = load_dir_ok(dir);
    assert_int_equal(ruleset_count(rs), 3);
    const char *version = ruleset_version(rs);
    assert_int_equal(strlen(version), 16);
    assert_int_equal(strspn(version, "0123456789abcdef"), 16);

    const struct rule *r = ruleset_lookup(rs, "page interaction", 16, "cta click", 9);
    assert_non_null(r);
    assert_string_equal(rule_category(r), "page interaction");
    assert_string_equal(rule_name(r), "cta click");
    assert_non_null(strstr(rule_file(r), "page_interaction.cta_click.yaml"));
    assert_non_null(rule_description(r));
    assert_non_null(ruleset_lookup(rs, "page interaction", 16, "pageview", 8));
    assert_non_null(ruleset_lookup(rs, "form interaction", 16, "submit", 6));
    /* Unknown types, and prefixes of known ones, are not found. */
    assert_null(ruleset_lookup(rs, "page interaction", 16, "pageviews", 9));
    assert_null(ruleset_lookup(rs, "page interaction", 16, "pagevie", 7));
    assert_null(ruleset_lookup(rs, "page interactio", 15, "pageview", 8));
    assert_null(ruleset_lookup(rs, "", 0, "", 0));
    /* Sorted by category, then name. */
    assert_string_equal(rule_name(ruleset_rule(rs, 0)), "submit");
    assert_string_equal(rule_name(ruleset_rule(rs, 1)), "cta click");
    assert_string_equal(rule_name(ruleset_rule(rs, 2)), "pageview");
    assert_null(ruleset_rule(rs, 3));
    ruleset_free(rs);
    ruleset_free(NULL);
}

static void test_envelope_defaults(void **state)
{
    /* The built-in envelope, and the shipped _envelope.yaml, say the same. */
    char dir[4096];
    static const char rule[] = "category: t\nname: t\ndata: {}\n";
    struct rule_text t = {"t.yaml", rule, sizeof(rule) - 1};
    struct ruleset *builtin = ruleset_load_texts(&t, 1, NULL);
    snprintf(dir, sizeof(dir), "%s/rules", srcdir());
    struct ruleset *shipped = load_dir_ok(dir);
    assert_non_null(builtin);
    struct ruleset *sets[2] = {builtin, shipped};
    for (size_t i = 0; i < 2; i++) {
        struct envelope_limits l;
        ruleset_envelope_limits(sets[i], ENVELOPE_SESSION_ID, &l);
        assert_int_equal(l.min_length, 1);
        assert_int_equal(l.max_length, 128);
        assert_string_equal(l.pattern, "^[A-Za-z0-9._:-]+$");
        assert_null(l.format);
        ruleset_envelope_limits(sets[i], ENVELOPE_CATEGORY, &l);
        assert_int_equal(l.min_length, 1);
        assert_int_equal(l.max_length, 64);
        assert_string_equal(l.pattern, "^[!-~](?:[ -~]*[!-~])?$");
        ruleset_envelope_limits(sets[i], ENVELOPE_NAME, &l);
        assert_int_equal(l.max_length, 64);
        assert_int_equal(ruleset_future_tolerance_us(sets[i]), INT64_C(300000000));
        assert_int_equal(ruleset_max_age_us(sets[i]), 0);
        assert_int_equal(ruleset_unknown_policy(sets[i]), RULESET_UNKNOWN_REJECT);
    }
    ruleset_free(builtin);
    ruleset_free(shipped);
}

static void test_envelope_override(void **state)
{
    static const char rule[] = "category: t\nname: t\ndata: {}\n";
    static const char env[] = "session_id: {format: uuid}\n";
    struct rule_text files[2] = {{"t.yaml", rule, sizeof(rule) - 1},
                                 {"_envelope.yaml", env, sizeof(env) - 1}};
    struct ruleset *rs = ruleset_load_texts(files, 2, NULL);
    assert_non_null(rs);
    struct envelope_limits l;
    /* The section replaces the built-in one whole, but its length stays
     * within the 255 characters of the columns that store it. */
    ruleset_envelope_limits(rs, ENVELOPE_SESSION_ID, &l);
    assert_int_equal(l.min_length, -1);
    assert_int_equal(l.max_length, 255);
    assert_null(l.pattern);
    assert_string_equal(l.format, "uuid");
    /* Others keep their defaults. */
    ruleset_envelope_limits(rs, ENVELOPE_NAME, &l);
    assert_int_equal(l.max_length, 64);
    ruleset_free(rs);

    static const char at_cap[] = "category: {maxLength: 255}\n";
    files[1].text = at_cap;
    files[1].len = sizeof(at_cap) - 1;
    rs = ruleset_load_texts(files, 2, NULL);
    assert_non_null(rs);
    ruleset_envelope_limits(rs, ENVELOPE_CATEGORY, &l);
    assert_int_equal(l.max_length, 255);
    ruleset_free(rs);

    static const char past_cap[] = "session_id: {maxLength: 256}\n";
    files[1].text = past_cap;
    files[1].len = sizeof(past_cap) - 1;
    struct rule_problems capped = {0};
    assert_null(ruleset_load_texts(files, 2, &capped));
    assert_int_equal(capped.count, 1);
    assert_non_null(strstr(capped.items[0].message, "at most maxLength 255"));
    rule_problems_clear(&capped);

    static const char bad[] = "name: {type: integer}\n";
    files[1].text = bad;
    files[1].len = sizeof(bad) - 1;
    struct rule_problems problems = {0};
    assert_null(ruleset_load_texts(files, 2, &problems));
    assert_int_equal(problems.count, 1);
    assert_string_equal(problems.items[0].file, "_envelope.yaml");
    assert_int_equal(problems.items[0].line, 1);
    assert_int_equal(problems.items[0].column, 7);
    rule_problems_clear(&problems);
}

static void test_version(void **state)
{
    static const char a[] = "category: t\nname: a\ndata: {}\n";
    static const char b[] = "category: t\nname: b\ndata: {}\n";
    static const char b2[] = "category: t\nname: b\ndata: {} \n";
    struct rule_text one[2] = {{"a.yaml", a, sizeof(a) - 1}, {"b.yaml", b, sizeof(b) - 1}};
    struct rule_text swapped[2] = {{"b.yaml", b, sizeof(b) - 1}, {"a.yaml", a, sizeof(a) - 1}};
    struct rule_text changed[2] = {{"a.yaml", a, sizeof(a) - 1}, {"b.yaml", b2, sizeof(b2) - 1}};
    struct rule_text renamed[2] = {{"a.yaml", a, sizeof(a) - 1}, {"c.yaml", b, sizeof(b) - 1}};
    struct ruleset *s1 = ruleset_load_texts(one, 2, NULL);
    struct ruleset *s2 = ruleset_load_texts(swapped, 2, NULL);
    struct ruleset *s3 = ruleset_load_texts(changed, 2, NULL);
    struct ruleset *s4 = ruleset_load_texts(renamed, 2, NULL);
    struct ruleset *s5 = ruleset_load_texts(one, 1, NULL);
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(s3);
    assert_non_null(s4);
    assert_non_null(s5);
    /* Order of the input does not matter (files are sorted by name). */
    assert_string_equal(ruleset_version(s1), ruleset_version(s2));
    assert_string_not_equal(ruleset_version(s1), ruleset_version(s3));
    assert_string_not_equal(ruleset_version(s1), ruleset_version(s4));
    assert_string_not_equal(ruleset_version(s1), ruleset_version(s5));
    ruleset_free(s1);
    ruleset_free(s2);
    ruleset_free(s3);
    ruleset_free(s4);
    ruleset_free(s5);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_folder(void **state)
{
    char dir[] = "/tmp/eye-rules-XXXXXX";
    char path[4096];
    char v1[17], v2[17];
    assert_non_null(mkdtemp(dir));
    write_file(dir, "a.yaml", "category: t\nname: a\ndata: {}\n");
    write_file(dir, "b.yml", "category: t\nname: b\ndata: {}\n");
    struct ruleset *rs = load_dir_ok(dir);
    assert_int_equal(ruleset_count(rs), 2);
    memcpy(v1, ruleset_version(rs), 17);
    ruleset_free(rs);

    /* Ignored: hidden files, other extensions, folders. */
    write_file(dir, ".a.yaml.swp", "garbage: [");
    write_file(dir, ".hidden.yaml", "garbage: [");
    write_file(dir, "notes.txt", "garbage: [");
    write_file(dir, "a.yaml~", "garbage: [");
    snprintf(path, sizeof(path), "%s/sub.yaml", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    rs = load_dir_ok(dir);
    assert_string_equal(ruleset_version(rs), v1);
    ruleset_free(rs);

    /* A change of one byte changes the version. */
    write_file(dir, "a.yaml", "category: t\nname: a\ndata: {} \n");
    rs = load_dir_ok(dir);
    memcpy(v2, ruleset_version(rs), 17);
    assert_string_not_equal(v1, v2);
    ruleset_free(rs);

    /* A broken file: no set at all, and the path in the problem. */
    write_file(dir, "c.yaml", "category: t\nname: c\ndata: {type: objekt}\n");
    struct rule_problems problems = {0};
    assert_null(ruleset_load_dir(dir, &problems));
    assert_int_equal(problems.count, 1);
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    assert_string_equal(problems.items[0].file, path);
    assert_int_equal(problems.items[0].line, 3);
    assert_int_equal(problems.items[0].column, 14);
    rule_problems_clear(&problems);
    rule_problems_clear(NULL);

    const char *names[] = {"a.yaml",       "b.yml",     "c.yaml", ".a.yaml.swp",
                           ".hidden.yaml", "notes.txt", "a.yaml~"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/sub.yaml", dir);
    rmdir(path);
    /* An empty folder is a valid, empty set. */
    rs = load_dir_ok(dir);
    assert_int_equal(ruleset_count(rs), 0);
    ruleset_free(rs);
    rmdir(dir);

    assert_null(ruleset_load_dir("/nonexistent/eye/rules", &problems));
    assert_int_equal(problems.count, 1);
    assert_non_null(strstr(problems.items[0].message, "cannot open the rules folder"));
    rule_problems_clear(&problems);
}

/* Loads one text that must fail with a problem at line:column containing
 * needle. */
static void text_fails(const char *text, int line, int column, const char *needle)
{
    struct rule_text t = {"t.yaml", text, strlen(text)};
    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_texts(&t, 1, &problems);
    if (rs != NULL) {
        ruleset_free(rs);
        fail_msg("'%s' loaded", text);
    }
    if (problems.count < 1 || problems.items[0].line != line ||
        problems.items[0].column != column || strstr(problems.items[0].message, needle) == NULL) {
        print_problems(&problems);
        rule_problems_clear(&problems);
        fail_msg("expected %d:%d: ...%s...", line, column, needle);
    }
    rule_problems_clear(&problems);
}

static void test_yaml_refusals(void **state)
{
    text_fails("", 1, 1, "a rule file must be a mapping");
    text_fails("# only a comment\n", 1, 1, "a rule file must be a mapping");
    text_fails("category: t\nname: t\ndata: {}\n---\ncategory: u\n", 4, 1,
               "only one YAML document");
    text_fails("category: !!str t\nname: t\ndata: {}\n", 1, 11, "YAML tags are not supported");
    text_fails("category: t\nname: t\nname: u\ndata: {}\n", 3, 1,
               "duplicate key 'name' (first at line 2)");
    text_fails("category: t\nname: t\ndata: {}\n? [a]\n: 1\n", 4, 3, "mapping keys must be");
    text_fails("category: t\nname: t\ndata: {\n", 4, 1, "YAML syntax error");
    text_fails("category: t\nname: 5\ndata: {}\n", 2, 7, "'name' expects a string, not a integer");
    text_fails("category: t\nname: t\n", 1, 1, "the rule has no 'data' schema");
    text_fails("category: t\nname: t\ndata: {}\ndescripton: x\n", 4, 1,
               "unknown key 'descripton' in a rule file (did you mean 'description'?)");
    text_fails("category: \xc3\x28\n", 1, 12, "YAML syntax error: invalid");
    /* Deep YAML nesting is refused before it reaches the compiler. */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 199);
    deep[399] = '\0';
    text_fails(deep, 1, 65, "nesting deeper than 64 levels");
}

static void test_quoting(void **state)
{
    /* Quoted "5" is a string, so it names a category; plain 5 would not. */
    static const char text[] = "category: \"5\"\nname: 'true'\ndata: {}\n";
    struct rule_text t = {"t.yaml", text, sizeof(text) - 1};
    struct ruleset *rs = ruleset_load_texts(&t, 1, NULL);
    assert_non_null(rs);
    assert_non_null(ruleset_lookup(rs, "5", 1, "true", 4));
    ruleset_free(rs);
}

static void test_problem_cap(void **state)
{
    char text[200000];
    size_t used =
        (size_t)snprintf(text, sizeof(text), "category: t\nname: t\ndata:\n  properties:\n");
    for (int i = 0; i < 500; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used, "    p%d: {bad: 1}\n", i);
    struct rule_text t = {"t.yaml", text, used};
    struct rule_problems problems = {0};
    assert_null(ruleset_load_texts(&t, 1, &problems));
    assert_int_equal(problems.count, RULESET_MAX_PROBLEMS + 1);
    assert_non_null(strstr(problems.items[RULESET_MAX_PROBLEMS].message, "too many problems"));
    rule_problems_clear(&problems);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each folder of tests/unit/data/bad_rules must fail with exactly the
 * problems listed in its `expected` file. */
static void test_bad_rule_folders(void **state)
{
    char base[4096], dir[4400], path[4500];
    char *cases[256];
    size_t ncases = 0;
    snprintf(base, sizeof(base), "%s/tests/unit/data/bad_rules", srcdir());
    DIR *d = opendir(base);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL && ncases < 256) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "README") == 0)
            continue;
        cases[ncases++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(cases, ncases, sizeof(cases[0]), cmp_names);
    assert_true(ncases >= 10);

    int failures = 0;
    for (size_t c = 0; c < ncases; c++) {
        snprintf(dir, sizeof(dir), "%s/%s", base, cases[c]);
        struct rule_problems problems = {0};
        struct ruleset *rs = ruleset_load_dir(dir, &problems);
        char got[16384] = "", want[16384] = "";
        size_t used = 0;
        for (size_t i = 0; i < problems.count; i++) {
            const char *file = problems.items[i].file;
            size_t dlen = strlen(dir);
            if (strncmp(file, dir, dlen) == 0 && file[dlen] == '/')
                file += dlen + 1;
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%s:%d:%d: %s\n", file,
                                     problems.items[i].line, problems.items[i].column,
                                     problems.items[i].message);
        }
        /* Messages may name other files of the folder: drop the folder. */
        char prefix[4500];
        int plen = snprintf(prefix, sizeof(prefix), "%s/", dir);
        for (char *p = strstr(got, prefix); p != NULL; p = strstr(p, prefix))
            memmove(p, p + plen, strlen(p + plen) + 1);
        snprintf(path, sizeof(path), "%s/expected", dir);
        FILE *fp = fopen(path, "r");
        if (fp != NULL) {
            size_t n = fread(want, 1, sizeof(want) - 1, fp);
            want[n] = '\0';
            fclose(fp);
        }
        if (rs != NULL || strcmp(got, want) != 0) {
            print_error("bad_rules/%s:\n--- expected\n%s--- got%s\n%s", cases[c], want,
                        rs != NULL ? " (and it loaded!)" : "", got);
            failures++;
        } else {
            print_message("# bad_rules/%s: ok (%zu problems)\n", cases[c], problems.count);
        }
        ruleset_free(rs);
        rule_problems_clear(&problems);
        free(cases[c]);
    }
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_envelope_defaults),
        cmocka_unit_test(test_envelope_override),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_folder),
        cmocka_unit_test(test_yaml_refusals),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_problem_cap),
        cmocka_unit_test(test_bad_rule_folders),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    event_thread_cleanup();
    return rc;
}
