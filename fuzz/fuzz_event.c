/* fuzz_event.c - libFuzzer harness for event parsing and validation.
 *
 * Loads the shipped rules once (EYE_FUZZ_RULES_DIR, or $EYE_RULES_DIR at
 * run time), parses the input with json-c exactly as eye.fcgi does, and
 * checks it in both first-error and all-errors mode. Invariants checked:
 * the verdict agrees with the return code, first-error mode reports at
 * most one error and the same first error as all-errors mode, every
 * pointer is "" or starts with '/', and extracted strings are NUL-free.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "validators/event.h"
#include "validators/ruleset.h"

#ifndef EYE_FUZZ_RULES_DIR
#define EYE_FUZZ_RULES_DIR "rules"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ruleset *fuzz_rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("EYE_RULES_DIR");
    struct rule_problems problems = {0};
    fuzz_rules = ruleset_load_dir(dir != NULL ? dir : EYE_FUZZ_RULES_DIR, &problems);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    if (fuzz_rules == NULL)
        abort();
    return 0;
}

static void fuzz_check_verdict(const struct event_verdict *v, int rc)
{
    if ((rc == 0) != v->ok || (rc == 0 && v->error_count != 0) || (rc == 1 && v->error_count == 0))
        __builtin_trap();
    for (size_t i = 0; i < v->error_count; i++) {
        const char *p = v->errors[i].pointer;
        if (v->errors[i].code == NULL || p == NULL || v->errors[i].message == NULL ||
            (p[0] != '\0' && p[0] != '/'))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return 0;
    struct json_object *ev = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(ev);
        json_tokener_free(tok);
        return 0;
    }
    struct event_check_opts opts = {.now_us = INT64_C(1609495200000000), .all_errors = false};
    struct event_verdict first, all;
    int rc1 = event_check(fuzz_rules, ev, &opts, &first);
    opts.all_errors = true;
    int rc2 = event_check(fuzz_rules, ev, &opts, &all);
    fuzz_check_verdict(&first, rc1);
    fuzz_check_verdict(&all, rc2);
    if (rc1 != rc2 || first.error_count > 1 ||
        (first.error_count == 1 && (strcmp(first.errors[0].code, all.errors[0].code) != 0 ||
                                    strcmp(first.errors[0].pointer, all.errors[0].pointer) != 0)))
        __builtin_trap();
    /* Extraction does not depend on the mode. */
    if (first.session_id != all.session_id || first.category != all.category ||
        first.name != all.name || first.has_timestamp != all.has_timestamp ||
        strcmp(first.event_id, all.event_id) != 0)
        __builtin_trap();
    event_verdict_clear(&first);
    event_verdict_clear(&all);
    json_object_put(ev);
    json_tokener_free(tok);
    return 0;
}
