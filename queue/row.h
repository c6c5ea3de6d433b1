/* row.h - what one received event becomes in event_queue.
 *
 * The one place that turns a verdict into a queue row, for eye.fcgi and for
 * `eye-admin errors replay`, so both decide alike: the event is accepted
 * when its verdict is and its data fits ingest.max_event_bytes; it gets
 * the client's event_id or a fresh one; its occurrence time is the client's
 * timestamp, moved by the measured clock skew (receive time minus sent_at)
 * when ingest.correct_clock_skew is on. A rejected row carries the first
 * error and the payload as received (made storable by the caller).
 *
 * No allocation: a queue_row holds its own small buffers (the assigned id,
 * the size message) and borrows the rest (verdict, rules version) until
 * the batch it was added to has been executed.
 */
#ifndef EYE_QUEUE_ROW_H
#define EYE_QUEUE_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/uuid4.h"
#include "queue/batch.h"
#include "validators/event.h"

struct queue_row {
    /* set by the caller */
    unsigned int application_id;
    int64_t received_us;
    const char *rules_version;
    const struct event_verdict *verdict; /* NULL: not judged (the row records code) */
    const char *event_id;                /* fallback id (replay), or NULL */
    /* the request's context (fcgi/context.h), NULL when unknown; borrowed */
    const char *user_agent, *client_ip;
    /* the outcome, set by queue_row_judge (or by the caller for a row
     * that records a failure found before validation) */
    const char *data;
    size_t data_len;
    const char *code, *pointer, *message; /* code NULL: accepted */
    char id_buf[UUID4_TEXT_SIZE];
    char message_buf[160];
};

/* Decides the row of a judged event (row->verdict set) or of one whose
 * failure the caller already set in code/pointer/message: rejected with
 * the verdict's first error, or event_too_large when its data is above
 * ingest.max_event_bytes, or accepted with its data as text. Assigns the
 * event id. Returns true when accepted. */
bool queue_row_judge(struct queue_row *row, const struct config *cfg);

/* Appends the row to b: every column, with payload (rejected rows only;
 * valid UTF-8, already bounded; truncated says whether it was cut).
 * Returns false when b is full. */
bool queue_row_add(struct queue_batch *b, const struct queue_row *row, const struct config *cfg,
                   const char *payload, size_t payload_len, bool truncated);

#endif
