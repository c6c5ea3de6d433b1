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
 * Errors are recorded in a struct event_verdict (verdict.h, which lists the
 * stable error codes and their meanings).
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
#include "validators/verdict.h"

struct event_check_opts {
    int64_t now_us;  /* current time, microseconds since the epoch, UTC */
    bool all_errors; /* false: stop at the first error */
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

/* Releases the calling thread's private matching scratch space. Optional:
 * it is released automatically when a thread exits; call it where a
 * thread's exit is not the end of its use of the validator (tests). */
void event_thread_cleanup(void);

#endif
