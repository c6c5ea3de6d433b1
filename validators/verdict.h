/* verdict.h - the verdict on one event, and the context that writes it.
 *
 * A verdict says whether an event is valid and, when it is not, lists its
 * errors: each a stable code, an RFC 6901 JSON pointer into the event ("" is
 * the event itself) and a human message. event_check (event.h) owns the
 * judgement; the schema walk and the envelope check write into a verdict
 * through a struct vctx, which tracks the pointer of the value being looked
 * at without allocating, so a valid event costs no allocation at all.
 *
 * Error codes (stable: stored in event_errors and shown to clients):
 *
 * | code                | meaning                                                        |
 * |---------------------|----------------------------------------------------------------|
 * | wrong_type          | a JSON type the rule (or envelope) does not allow              |
 * | missing_field       | a required member is absent; the pointer names the member      |
 * | unexpected_field    | a member the rule does not list (additionalProperties false)   |
 * | not_in_enum         | not one of the rule's `enum` values                            |
 * | not_const           | differs from the rule's `const` value                          |
 * | too_short           | fewer characters (code points) than minLength                  |
 * | too_long            | more characters (code points) than maxLength                   |
 * | pattern_mismatch    | does not match the pattern; also a NUL in session_id/category/name |
 * | format_invalid      | not a valid `format` (date-time, uri, hostname, email, uuid)   |
 * | out_of_range        | outside minimum/maximum/exclusiveMinimum/exclusiveMaximum      |
 * | too_few_items       | array shorter than minItems                                    |
 * | too_many_items      | array longer than maxItems                                     |
 * | too_few_properties  | object with fewer members than minProperties                   |
 * | too_many_properties | object with more members than maxProperties                    |
 * | unknown_event_type  | no rule for category+name (policy reject); pointer /name       |
 * | timestamp_invalid   | timestamp or sent_at is not an accepted date-time              |
 * | timestamp_in_future | timestamp later than now + the envelope's tolerance            |
 * | timestamp_too_old   | timestamp earlier than now - the envelope's maximum age        |
 * | event_id_invalid    | event_id is not a UUID (8-4-4-4-12 hex digits)                 |
 */
#ifndef EYE_VALIDATORS_VERDICT_H
#define EYE_VALIDATORS_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

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

struct rule;

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

/* Frees what a verdict owns and zeroes it. NULL-safe. */
void event_verdict_clear(struct event_verdict *v);

/* Segments of the pointer path a vctx keeps; deeper values still validate,
 * and their errors carry the pointer of their first VCTX_MAX_PATH steps. */
#define VCTX_MAX_PATH 36

/* One step of a JSON pointer: a member name or an array index. */
struct vseg {
    const char *key; /* NULL for an index */
    size_t key_len;  /* SIZE_MAX: NUL-terminated, measured only if needed */
    size_t index;
};

/* Validation state for one event. */
struct vctx {
    struct event_verdict *verdict;
    bool all_errors;
    bool stop; /* first error recorded in first-error mode, or out of memory */
    bool oom;
    size_t failures; /* every failed check, recorded or not (see vctx_error) */
    size_t depth;
    struct vseg path[VCTX_MAX_PATH];
};

/* Starts a verdict: zeroes *verdict (without freeing what it held), marks it
 * ok, and points ctx at it with an empty path. all_errors false: recording
 * stops at the first error. */
void vctx_begin(struct vctx *ctx, struct event_verdict *verdict, bool all_errors);

/* Pushes a member name onto the pointer path (name must outlive the pop);
 * key_len SIZE_MAX means NUL-terminated, measured only for an error. */
void vctx_push_key(struct vctx *ctx, const char *key, size_t key_len);

/* Pushes an array index onto the pointer path. */
void vctx_push_index(struct vctx *ctx, size_t index);

/* Pops the last segment. */
void vctx_pop(struct vctx *ctx);

/* Counts a failed check (ctx->failures) and marks the verdict not ok; unless
 * ctx->stop is already set, records an error with code at the current path
 * into ctx->verdict (which owns the copies). Returns true when validation
 * should go on, false when it must stop (first-error mode, error limit, or
 * out of memory: ctx->oom). Callers may keep checking after a false return
 * to learn whether a value is valid (failures unchanged); nothing more is
 * recorded then. */
bool vctx_error(struct vctx *ctx, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
