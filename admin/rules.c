/* rules.c - `eye-admin rules check|test`: the rule set as eye.fcgi sees it.
 *
 * Both load the folder with the same function eye.fcgi uses
 * (ruleset_load_dir), so "check passes" means "the server will take it".
 * `test` validates NDJSON events offline and prints each verdict, so a rule
 * change can be tried before it is deployed.
 */
#include "autoconfig.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/clock.h"
#include "validators/event.h"
#include "validators/ruleset.h"

static void rules_usage(FILE *out)
{
    fprintf(out, "usage: eye-admin rules check [DIR]\n"
                 "       eye-admin rules test [DIR] < events.ndjson\n\n"
                 "check  loads DIR (default: rules.dir) exactly as eye.fcgi does and prints\n"
                 "       each problem as file:line:column: message; exit 1 on any, else\n"
                 "       prints the rule-set version and the event types.\n"
                 "test   validates one event per input line against DIR and prints each\n"
                 "       verdict (all errors of an event); exit 1 when any is rejected.\n");
}

/* Loads dir, printing problems; NULL when it does not load. */
static struct ruleset *rules_load_verbose(const char *dir)
{
    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_dir(dir, &problems);
    for (size_t i = 0; i < problems.count; i++) {
        const struct rule_problem *p = &problems.items[i];
        printf("%s:%d:%d: %s\n", p->file, p->line, p->column, p->message);
    }
    if (rs == NULL && problems.count == 0)
        printf("%s: cannot be loaded\n", dir);
    rule_problems_clear(&problems);
    return rs;
}

static int rules_check(const char *dir)
{
    struct ruleset *rs = rules_load_verbose(dir);
    if (rs == NULL)
        return ADMIN_FAIL;
    printf("%s: ok, version %s, %zu event types\n", dir, ruleset_version(rs), ruleset_count(rs));
    for (size_t i = 0; i < ruleset_count(rs); i++) {
        const struct rule *r = ruleset_rule(rs, i);
        printf("  %s / %s  (%s)\n", rule_category(r), rule_name(r), rule_file(r));
    }
    ruleset_free(rs);
    return ADMIN_OK;
}

static int rules_test(const char *dir)
{
    struct ruleset *rs = rules_load_verbose(dir);
    if (rs == NULL)
        return ADMIN_FAIL;
    struct event_check_opts opts = {.now_us = clock_real_us(), .all_errors = true};
    struct json_tokener *tok = json_tokener_new_ex(64);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, rejected = 0, accepted = 0;
    if (tok == NULL) {
        ruleset_free(rs);
        return ADMIN_FAIL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        json_tokener_reset(tok);
        struct json_object *ev = json_tokener_parse_ex(tok, line, (int)len);
        if (ev == NULL || json_tokener_get_error(tok) != json_tokener_success) {
            printf("line %ld: rejected: invalid_json: %s\n", lineno,
                   json_tokener_error_desc(json_tokener_get_error(tok)));
            json_object_put(ev);
            rejected++;
            continue;
        }
        struct event_verdict v = {0};
        int r = event_check(rs, ev, &opts, &v);
        if (r == 0) {
            printf("line %ld: ok: %s / %s\n", lineno, v.category, v.name);
            accepted++;
        } else {
            rejected++;
            for (size_t i = 0; i < v.error_count; i++)
                printf("line %ld: rejected: %s at \"%s\": %s\n", lineno, v.errors[i].code,
                       v.errors[i].pointer, v.errors[i].message);
        }
        event_verdict_clear(&v);
        json_object_put(ev);
    }
    printf("%ld accepted, %ld rejected (rule set %s)\n", accepted, rejected, ruleset_version(rs));
    free(line);
    json_tokener_free(tok);
    ruleset_free(rs);
    return rejected > 0 ? ADMIN_FAIL : ADMIN_OK;
}

int admin_rules(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv)) {
        rules_usage(stdout);
        return ADMIN_OK;
    }
    if (argc < 2 || argc > 3 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "test") != 0)) {
        rules_usage(stderr);
        return ADMIN_USAGE;
    }
    const char *dir = argc == 3 ? argv[2] : cfg->rules.dir;
    return strcmp(argv[1], "check") == 0 ? rules_check(dir) : rules_test(dir);
}
