/* bench_validate.c - parse + validate throughput of the brief's events.
 *
 * Parses (json_tokener, one reused tokener) and checks (event_check, first-
 * error mode, as eye.fcgi does) the brief's three example events in turn on
 * one thread for RUN_SECONDS, five times, and prints the median rate in
 * events per second; then the same for validation alone (events parsed
 * once). Usage: bench_validate [RULES_DIR [SECONDS_PER_RUN]] (defaults:
 * ./rules, 2 s; a short run suits profiling under callgrind).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "validators/event.h"
#include "validators/ruleset.h"

#define RUNS 5

static const char *const bench_events[3] = {
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

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run_seconds = 2.0;

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One timed run; parse selects parse+validate or validate only. Returns
 * events per second, or -1 when an event fails (a broken benchmark). */
static double bench_run(const struct ruleset *rs, bool parse, struct json_object **parsed)
{
    struct json_tokener *tok = json_tokener_new();
    struct event_check_opts opts = {.now_us = INT64_C(1609495200000000), .all_errors = false};
    size_t lens[3];
    long long n = 0;
    double start = bench_now(), elapsed = 0;
    for (size_t i = 0; i < 3; i++)
        lens[i] = strlen(bench_events[i]);
    if (tok == NULL)
        return -1;
    for (;;) {
        for (int k = 0; k < 1024; k++, n++) {
            size_t i = (size_t)(n % 3);
            struct json_object *ev = parsed[i];
            if (parse) {
                json_tokener_reset(tok);
                ev = json_tokener_parse_ex(tok, bench_events[i], (int)lens[i]);
            }
            struct event_verdict v;
            int rc = event_check(rs, ev, &opts, &v);
            event_verdict_clear(&v);
            if (parse)
                json_object_put(ev);
            if (rc != 0) {
                json_tokener_free(tok);
                return -1;
            }
        }
        elapsed = bench_now() - start;
        if (elapsed >= run_seconds)
            break;
    }
    json_tokener_free(tok);
    return (double)n / elapsed;
}

static double bench_median(const struct ruleset *rs, bool parse, struct json_object **parsed)
{
    double rates[RUNS];
    for (int r = 0; r < RUNS; r++) {
        rates[r] = bench_run(rs, parse, parsed);
        if (rates[r] < 0)
            return -1;
    }
    qsort(rates, RUNS, sizeof(rates[0]), bench_cmp);
    return rates[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "rules";
    struct rule_problems problems = {0};
    struct json_object *parsed[3] = {NULL, NULL, NULL};
    int status = 1;

    if (argc > 2) {
        run_seconds = strtod(argv[2], NULL);
        if (!(run_seconds > 0 && run_seconds < 3600)) {
            fprintf(stderr, "bench_validate: SECONDS_PER_RUN must be in (0, 3600)\n");
            return 2;
        }
    }
    struct ruleset *rs = ruleset_load_dir(dir, &problems);
    for (size_t i = 0; i < problems.count; i++)
        fprintf(stderr, "%s:%d:%d: %s\n", problems.items[i].file, problems.items[i].line,
                problems.items[i].column, problems.items[i].message);
    rule_problems_clear(&problems);
    if (rs == NULL)
        return 1;
    for (size_t i = 0; i < 3; i++) {
        parsed[i] = json_tokener_parse(bench_events[i]);
        if (parsed[i] == NULL)
            goto fail;
    }
    printf("rules %s (version %s), %d runs of %.1f s, median:\n", dir, ruleset_version(rs), RUNS,
           run_seconds);
    double both = bench_median(rs, true, parsed);
    double check = bench_median(rs, false, parsed);
    if (both < 0 || check < 0) {
        fprintf(stderr, "bench_validate: an example event failed validation\n");
        goto fail;
    }
    printf("parse + validate: %.0f events/s (one core)\n", both);
    printf("validate only:    %.0f events/s (one core)\n", check);
    status = 0;
fail:
    for (size_t i = 0; i < 3; i++)
        json_object_put(parsed[i]);
    ruleset_free(rs);
    event_thread_cleanup();
    return status;
}
