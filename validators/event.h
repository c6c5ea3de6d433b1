/* event.h - validate one event (envelope and payload) against a rule set.
 *
 * An event is a JSON object with exactly these members:
 *   session_id  string (required)        limits from the envelope file
 *   category    string (required)        limits from the envelope file
 *   name        string (required)        limits from the envelope file
 *   data        object (required)        checked by the rule of category+name
 *   timestamp   string (required)        when it happened; see timestamp.h
 *   event_id    string (optional)        a UUID, any case; canonicalised
 *   sent_at     string (optional)        when the client sent it; format only
 *
 * event_check does no I/O and allocates only for the errors it reports.
 *
 * Error codes (stable: stored in event_errors and shown to clients). The
 * pointer is an RFC 6901 JSON pointer into the event ("" is the event).
 *
 * | code                 | meaning                                                   |
 * |----------------------|-----------------------------------------------------------|
 * | wrong_type           | value has a JSON type the rule (or envelope) does not allow |
 * | missing_field        | a required member is absent; pointer names the absent member |
 * | unexpected_field     | a member the rule does not list (additionalProperties false) |
 * | not_in_enum          | value is not one of the rule's `enum` values              |
 * | not_const            | value differs from the rule's `const` value               |
 * | too_short            | string has fewer characters (code points) than minLength  |
 * | too_long             | string has more characters (code points) than maxLength   |
 * | pattern_mismatch     | string does not match the rule's (or envelope's) pattern; also a NUL
 * character in session_id/category/name | | format_invalid       | string is not a valid `format`
 * (date-time, uri, hostname, email, uuid) | | out_of_range         | number outside
 * minimum/maximum/exclusiveMinimum/exclusiveMaximum | | too_few_items        | array shorter than
 * minItems                               | | too_many_items       | array longer than maxItems | |
 * too_few_properties   | object with fewer members than minProperties              | |
 * too_many_properties  | object with more members than maxProperties               | |
 * unknown_event_type   | no rule for category+name (policy reject); pointer /name  | |
 * timestamp_invalid    | timestamp or sent_at is not an accepted date-time         | |
 * timestamp_in_future  | timestamp later than now + the envelope's tolerance       | |
 * timestamp_too_old    | timestamp earlier than now - the envelope's maximum age   | |
 * event_id_invalid     | event_id is not a UUID (8-4-4-4-12 hex digits)            |
 *
 * Envelope members reuse the payload codes: a missing session_id is
 * missing_field at /session_id, a long one too_long at /session_id, a
 * category with a forbidden character pattern_mismatch at /category, a
 * non-string timestamp wrong_type at /timestamp, an event that is not an
 * object wrong_type at "", an extra top-level member unexpected_field.
 */
#ifndef EYE_VALIDATORS_EVENT_H
#define EYE_VALIDATORS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "validators/ruleset.h"

#define EVENT_ERR_WRONG_TYPE          "wrong_type"
#define EVENT_ERR_MISSING_FIELD       "missing_field"
#define EVENT_ERR_UNEXPECTED_FIELD    "unexpected_field"
#define EVENT_ERR_NOT_IN_ENUM         "not_in_enum"
#define EVENT_ERR_NOT_CONST           "not_const"
#define EVENT_ERR_TOO_SHORT           "too_short"
#define EVENT_ERR_TOO_LONG            "too_long"
#define EVENT_ERR_PATTERN_MISMATCH    "pattern_mismatch"
#define EVENT_ERR_FORMAT_INVALID      "format_invalid"
#define EVENT_ERR_OUT_OF_RANGE        "out_of_range"
#define EVENT_ERR_TOO_FEW_ITEMS       "too_few_items"
#define EVENT_ERR_TOO_MANY_ITEMS      "too_many_items"
#define EVENT_ERR_TOO_FEW_PROPERTIES  "too_few_properties"
#define EVENT_ERR_TOO_MANY_PROPERTIES "too_many_properties"
#define EVENT_ERR_UNKNOWN_EVENT_TYPE  "unknown_event_type"
#define EVENT_ERR_TIMESTAMP_INVALID   "timestamp_invalid"
#define EVENT_ERR_TIMESTAMP_IN_FUTURE "timestamp_in_future"
#define EVENT_ERR_TIMESTAMP_TOO_OLD   "timestamp_too_old"
#define EVENT_ERR_EVENT_ID_INVALID    "event_id_invalid"

/* Most errors one verdict records in all-errors mode; further errors are
 * dropped and `truncated` is set. */
#define EVENT_MAX_ERRORS 64

struct event_check_opts {
    int64_t now_us;  /* current time, microseconds since the epoch, UTC */
    bool all_errors; /* false: stop at the first error */
};

struct event_error {
    const char *code; /* one of EVENT_ERR_*, static */
    char *pointer;    /* RFC 6901 pointer, owned by the verdict */
    char *message;    /* human-readable, owned by the verdict */
};

/* The outcome of event_check. Borrowed pointers point into the checked JSON
 * (or the rule set) and live as long as they do. A field is filled only when
 * it is present and valid, whether or not the event as a whole is. */
struct event_verdict {
    bool ok;
    const char *session_id;  /* borrowed, NUL-free, or NULL */
    const char *category;    /* borrowed, or NULL */
    const char *name;        /* borrowed, or NULL */
    const struct rule *rule; /* rule that judged data; NULL if none */
    char event_id[37];       /* canonical lowercase UUID, "" when absent */
    bool has_timestamp;
    int64_t timestamp_us;
    bool has_sent_at;
    int64_t sent_at_us;
    struct json_object *data; /* borrowed; set when data is an object */
    size_t error_count;
    struct event_error *errors; /* owned */
    bool truncated;             /* more errors than EVENT_MAX_ERRORS */
};

/* Checks event against rs. Overwrites *out without freeing what it held
 * (call event_verdict_clear between uses). Returns 0 when the event is
 * valid (out->ok), 1 when it is not (out->errors lists why: one error, or
 * all of them with opts->all_errors), -1 when memory ran out while recording
 * errors (out is then usable and must be cleared, but may be incomplete).
 * Safe to call from many threads on one rule set. The event is not
 * modified. */
int event_check(const struct ruleset *rs, struct json_object *event,
                const struct event_check_opts *opts, struct event_verdict *out);

/* Frees what a verdict owns and zeroes it. NULL-safe. */
void event_verdict_clear(struct event_verdict *v);

/* Releases the calling thread's private matching scratch space. Optional:
 * it is released automatically when a thread exits; call it where a
 * thread's exit is not the end of its use of the validator (tests). */
void event_thread_cleanup(void);

#endif
