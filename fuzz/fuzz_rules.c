/* fuzz_rules.c - libFuzzer harness for the rule loader.
 *
 * The input is one or two in-memory files: when it holds a NUL byte, the
 * part before it is `_envelope.yaml` and the part after it `fuzz.yaml`;
 * otherwise the whole input is `fuzz.yaml`. Any outcome is fine except a
 * crash, a leak or undefined behaviour; a set that loads is also used to
 * validate a fixed event, so compiled schemas get exercised too.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "validators/event.h"
#include "validators/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct rule_text files[2];
    size_t n = 0;
    const char *nul = memchr(text, '\0', size);
    if (nul != NULL) {
        files[n++] = (struct rule_text){"_envelope.yaml", text, (size_t)(nul - text)};
        files[n++] = (struct rule_text){"fuzz.yaml", nul + 1, size - (size_t)(nul - text) - 1};
    } else {
        files[n++] = (struct rule_text){"fuzz.yaml", text, size};
    }

    struct rule_problems problems = {0};
    struct ruleset *rs = ruleset_load_texts(files, n, &problems);
    if (rs != NULL) {
        /* Loaded sets are consistent: no problems, a 16-digit version. */
        if (problems.count != 0 || strlen(ruleset_version(rs)) != 16)
            __builtin_trap();
        struct json_object *ev = json_tokener_parse(
            "{\"session_id\":\"s\",\"category\":\"c\",\"name\":\"n\",\"timestamp\":"
            "\"2021-01-01 00:00:00\",\"data\":{\"a\":[1,\"x\",{\"b\":null}],\"c\":2.5}}");
        const struct rule *r = ruleset_rule(rs, 0);
        if (ev != NULL && r != NULL) {
            json_object_object_add(ev, "category", json_object_new_string(rule_category(r)));
            json_object_object_add(ev, "name", json_object_new_string(rule_name(r)));
        }
        struct event_check_opts opts = {.now_us = INT64_C(1609495200000000), .all_errors = true};
        struct event_verdict v;
        if (ev != NULL) {
            event_check(rs, ev, &opts, &v);
            event_verdict_clear(&v);
        }
        json_object_put(ev);
        ruleset_free(rs);
    } else if (problems.count == 0) {
        __builtin_trap(); /* a refused set must say why */
    }
    for (size_t i = 0; i < problems.count; i++)
        if (problems.items[i].file == NULL || problems.items[i].message == NULL)
            __builtin_trap();
    rule_problems_clear(&problems);
    return 0;
}
