/* envelope.h - the envelope of a rule set: limits every event shares.
 *
 * The envelope is what surrounds an event's payload: string limits for
 * session_id, category and name, the accepted time window of timestamp, and
 * what to do with events no rule describes. It starts from built-in
 * defaults (the same values rules/_envelope.yaml ships); each section an
 * envelope file gives replaces the built-in section whole.
 *
 * The enums and struct envelope_limits are public (ruleset.h includes this
 * header); struct envelope and the functions are internal to validators/.
 */
#ifndef EYE_VALIDATORS_ENVELOPE_H
#define EYE_VALIDATORS_ENVELOPE_H

#include <stdbool.h>
#include <stdint.h>

#include "validators/problems.h"

/* Policy for events whose category + name has no rule. */
enum ruleset_unknown_policy {
    RULESET_UNKNOWN_REJECT, /* error unknown_event_type (the default) */
    RULESET_UNKNOWN_ACCEPT, /* data accepted unvalidated (still an object) */
};

/* Envelope string fields with configurable limits. */
enum envelope_field {
    ENVELOPE_SESSION_ID,
    ENVELOPE_CATEGORY,
    ENVELOPE_NAME,
    ENVELOPE_FIELD_COUNT,
};

/* Limits of one envelope string field; -1 means no limit, NULL no pattern
 * or format. Strings are owned by the rule set. */
struct envelope_limits {
    int64_t min_length;
    int64_t max_length;
    const char *pattern;
    const char *format;
};

struct schema;
struct ynode;

/* The envelope settings; zero-initialise, then envelope_load_defaults. */
struct envelope {
    struct schema *fields[ENVELOPE_FIELD_COUNT]; /* string schemas, owned */
    int64_t future_us;                           /* tolerance into the future */
    int64_t max_age_us;                          /* 0: no maximum age */
    enum ruleset_unknown_policy unknown;
};

/* Sets env to the built-in defaults. Returns false, with problems recorded
 * under the file name "<built-in>", when they cannot be compiled (out of
 * memory); env must be cleared either way. */
bool envelope_load_defaults(struct envelope *env, struct rule_problems *problems);

/* Applies the settings of an envelope file (its parsed root) over env's
 * current ones; a section that fails to compile leaves env's section as it
 * was. Returns false when any problem was recorded. */
bool envelope_apply(struct envelope *env, const struct ynode *root, const char *file,
                    struct rule_problems *problems);

/* Checks that a rule's category or name (the scalar v) passes the limits of
 * field f, so that a rule no event can ever reach is refused at load time.
 * Returns false with a problem recorded when it does not. */
bool envelope_check_value(const struct envelope *env, enum envelope_field f, const struct ynode *v,
                          const char *file, struct rule_problems *problems);

/* Fills *out with the limits of one field (strings owned by env). */
void envelope_field_limits(const struct envelope *env, enum envelope_field f,
                           struct envelope_limits *out);

/* Frees what env owns and zeroes it. NULL-safe. */
void envelope_clear(struct envelope *env);

#endif
