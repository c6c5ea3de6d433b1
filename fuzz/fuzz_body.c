/* fuzz_body.c - the shared part of the body harnesses (see fuzz_body.h). */
#include "autoconfig.h"

#include "fuzz/fuzz_body.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/utf8.h"
#include "validators/event.h"
#include "validators/ruleset.h"

#ifndef EYE_FUZZ_RULES_DIR
#define EYE_FUZZ_RULES_DIR "rules"
#endif

static struct ruleset *fuzz_rules;
static struct body_decoder *fuzz_decoder;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("EYE_RULES_DIR");
    struct rule_problems problems = {0};
    fuzz_rules = ruleset_load_dir(dir != NULL ? dir : EYE_FUZZ_RULES_DIR, &problems);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    struct config cfg;
    if (fuzz_rules == NULL || !config_load(&cfg, NULL, false))
        abort();
    struct body_limits limits = {
        .max_decompressed_bytes = (size_t)cfg.ingest.max_decompressed_bytes,
        .max_events = (size_t)cfg.ingest.max_events_per_request,
        .max_depth = (int)cfg.ingest.max_depth,
    };
    config_free(&cfg);
    fuzz_decoder = body_decoder_new(&limits);
    if (fuzz_decoder == NULL)
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
            (p[0] != '\0' && p[0] != '/') || !utf8_valid(p, strlen(p), NULL))
            __builtin_trap();
    }
}

static void fuzz_check_event(struct json_object *ev)
{
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
    /* What would be stored is valid text. */
    if (first.ok) {
        size_t len;
        const char *data = json_object_to_json_string_length(
            first.data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (data == NULL || !utf8_valid(data, len, NULL))
            __builtin_trap();
    }
    event_verdict_clear(&first);
    event_verdict_clear(&all);
}

void fuzz_body_run(const uint8_t *data, size_t size, enum body_format format, bool gzip)
{
    struct body b = {0};
    struct body_error err;
    if (!body_decode(fuzz_decoder, (const char *)data, size, format, gzip, &b, &err)) {
        if (err.code == NULL || err.status < 400 || err.status > 503 ||
            !utf8_valid(err.pointer, strlen(err.pointer), NULL) ||
            (err.pointer[0] != '\0' && err.pointer[0] != '/'))
            __builtin_trap();
        body_clear(&b);
        return;
    }
    /* A JSON body that decodes is valid UTF-8 as a whole; an NDJSON body
     * in each line that parsed. */
    if (b.n == 0 || (!b.ndjson && !utf8_valid(b.text, b.text_len, NULL)))
        __builtin_trap();
    for (size_t i = 0; i < b.n; i++) {
        if (b.raw[i] == NULL || b.raw[i] < b.text || b.raw[i] + b.raw_len[i] > b.text + b.text_len)
            __builtin_trap();
        if (b.ndjson && b.line_error[i] != NULL)
            continue;
        if (!utf8_valid(b.raw[i], b.raw_len[i], NULL))
            __builtin_trap();
        fuzz_check_event(b.events[i]);
    }
    body_clear(&b);
}
