/* problems.h - the problems a rule load reports, as file:line:column.
 *
 * Every stage of loading a rules folder (reading files, parsing YAML,
 * compiling schemas, checking the envelope) appends to one list, so an
 * operator sees every problem of a folder in one run. The list is bounded:
 * past RULESET_MAX_PROBLEMS entries one "too many problems" entry closes it.
 */
#ifndef EYE_VALIDATORS_PROBLEMS_H
#define EYE_VALIDATORS_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

/* Problems recorded per load (the name is the rule set's, which reports
 * them); one more entry says that the rest were cut. */
#define RULESET_MAX_PROBLEMS 200

/* One load problem. line and column are 1-based; 0 when they do not apply
 * (for example an unreadable file). Print as "file:line:column: message". */
struct rule_problem {
    char *file;
    int line;
    int column;
    char *message;
};

/* A growable list of problems; zero-initialise before first use. */
struct rule_problems {
    size_t count;
    struct rule_problem *items;
};

/* Frees every problem and empties the list (the struct itself is the
 * caller's). NULL-safe. */
void rule_problems_clear(struct rule_problems *problems);

/* Appends a problem built from fmt (cut to 1023 bytes). Returns false when
 * out of memory or when problems is NULL (nothing recorded then). Once
 * RULESET_MAX_PROBLEMS are recorded, adds one "too many problems" entry and
 * ignores the rest. The list owns the copies it makes of file and message. */
bool rule_problems_add(struct rule_problems *problems, const char *file, int line, int column,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
