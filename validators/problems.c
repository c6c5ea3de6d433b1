/* problems.c - a bounded list of rule load problems (see problems.h).
 *
 * The list is the only thing the loader shares between its stages, so it
 * sits below all of them: yamltree, schema, envelope and ruleset append to
 * it, and nothing here knows about any of them.
 */
#include "autoconfig.h"

#include "validators/problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rule_problems_clear(struct rule_problems *problems)
{
    if (problems == NULL)
        return;
    for (size_t i = 0; i < problems->count; i++) {
        free(problems->items[i].file);
        free(problems->items[i].message);
    }
    free(problems->items);
    problems->items = NULL;
    problems->count = 0;
}

static bool problems_push(struct rule_problems *problems, const char *file, int line, int column,
                          const char *message)
{
    struct rule_problem *items =
        realloc(problems->items, (problems->count + 1) * sizeof(*problems->items));
    if (items == NULL)
        return false;
    problems->items = items;
    struct rule_problem *p = &items[problems->count];
    p->file = strdup(file != NULL ? file : "");
    p->message = strdup(message);
    p->line = line;
    p->column = column;
    if (p->file == NULL || p->message == NULL) {
        free(p->file);
        free(p->message);
        return false;
    }
    problems->count++;
    return true;
}

bool rule_problems_add(struct rule_problems *problems, const char *file, int line, int column,
                       const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (problems == NULL || problems->count > RULESET_MAX_PROBLEMS)
        return false;
    if (problems->count == RULESET_MAX_PROBLEMS)
        return problems_push(problems, file, 0, 0, "too many problems; the rest are not listed");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return problems_push(problems, file, line, column, msg);
}
