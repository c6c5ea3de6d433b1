/* queue.h - the rows one request adds to event_queue, and their insert.
 *
 * A worker owns one queue_batch sized for the largest request, allocated
 * once: filling it allocates nothing. Strings are borrowed (they point into
 * the request's parsed JSON) until queue_batch_insert returns. The rows go
 * to MariaDB as one bulk execution of one prepared INSERT (array binding)
 * and are committed together: all of a request's rows, or none.
 */
#ifndef EYE_FCGI_QUEUE_H
#define EYE_FCGI_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fcgi/dbconn.h"

enum queue_col {
    QC_APPLICATION_ID,
    QC_RECEIVED_AT,
    QC_EVENT_ID,
    QC_SESSION_KEY,
    QC_CATEGORY,
    QC_NAME,
    QC_OCCURRED_AT,
    QC_CLIENT_TIMESTAMP,
    QC_SENT_AT,
    QC_CLOCK_SKEW_US,
    QC_SKEW_CORRECTED,
    QC_RULES_VERSION,
    QC_DATA,
    QC_ERROR_CODE,
    QC_ERROR_POINTER,
    QC_ERROR_MESSAGE,
    QC_PAYLOAD,
    QC_PAYLOAD_TRUNCATED,
    QC_NCOLS
};

/* Text of a DATETIME(6) value: "YYYY-MM-DD HH:MM:SS.ffffff". */
#define QUEUE_TIME_LEN 26

struct queue_batch;

/* Allocates a batch for up to cap rows. Returns NULL when out of memory. */
struct queue_batch *queue_batch_new(size_t cap);

/* Frees a batch (NULL-safe). */
void queue_batch_free(struct queue_batch *b);

/* Empties the batch. */
void queue_batch_reset(struct queue_batch *b);

/* Appends a row with every column NULL (or 0) and returns its index, or -1
 * when the batch is full. */
int queue_batch_add(struct queue_batch *b);

/* Sets a string column of row (borrowed; NULL stores SQL NULL). */
void queue_set_str(struct queue_batch *b, int row, enum queue_col col, const char *s, size_t len);

/* Sets an integer column of row. */
void queue_set_int(struct queue_batch *b, int row, enum queue_col col, long long v);

/* Sets a DATETIME(6) column of row from µs since the epoch (the text is kept
 * in the batch). */
void queue_set_time(struct queue_batch *b, int row, enum queue_col col, int64_t us);

/* Number of rows in the batch. */
size_t queue_batch_count(const struct queue_batch *b);

/* Bytes of string values in the batch (what one insert sends, roughly). */
size_t queue_batch_bytes(const struct queue_batch *b);

/* Appends src's rows to dst (group commit). dst then borrows what src
 * borrows, and src's time texts: src must outlive dst's next insert.
 * Returns false, appending nothing, when dst has no room for them. */
bool queue_batch_append(struct queue_batch *dst, const struct queue_batch *src);

enum queue_result { QUEUE_OK, QUEUE_UNAVAILABLE, QUEUE_FAILED };

/* Inserts every row and commits. QUEUE_OK means durable. QUEUE_UNAVAILABLE
 * means the database could not take the write now (503); QUEUE_FAILED any
 * other error (500). Nothing is committed unless QUEUE_OK. */
enum queue_result queue_batch_insert(struct queue_batch *b, struct dbconn *db);

#endif
