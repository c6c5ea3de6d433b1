/* batch.h - rows for event_queue, and the one statement that inserts them.
 *
 * The only writer of event_queue rows: eye.fcgi (a worker owns one batch
 * sized for the largest request, and the group committer one more),
 * `eye-admin errors replay` and bench/insert_rate all fill a queue_batch
 * and execute QUEUE_INSERT_SQL with it. Filling a batch allocates nothing.
 * Strings are borrowed (they point into the request's parsed JSON) until
 * the execution returns. The rows go to MariaDB as one bulk execution of
 * the prepared INSERT (array binding); the caller commits.
 *
 * Text columns with a size (error_pointer, error_message) are cut to fit,
 * at a character boundary, by queue_set_str: a long pointer is never the
 * reason an insert fails.
 */
#ifndef EYE_QUEUE_BATCH_H
#define EYE_QUEUE_BATCH_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    QC_USER_AGENT,
    QC_CLIENT_IP,
    QC_NCOLS
};

/* The insert, column for column in enum queue_col order. */
#define QUEUE_INSERT_SQL                                                                           \
    "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category,"      \
    " name, occurred_at, client_timestamp, sent_at, clock_skew_us, skew_corrected,"               \
    " rules_version, data, error_code, error_pointer, error_message, payload,"                    \
    " payload_truncated, user_agent, client_ip) "                                                 \
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* Characters the error_pointer and error_message columns hold. */
#define QUEUE_TEXT_MAX_CHARS 1024

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

/* Sets a string column of row (borrowed; NULL stores SQL NULL). Text
 * for error_pointer or error_message is cut to QUEUE_TEXT_MAX_CHARS
 * characters; s must then be valid UTF-8. */
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

/* Executes stmt (prepared from QUEUE_INSERT_SQL) once for all the batch's
 * rows; does not commit. Returns 0 or the MariaDB error number (logged). */
unsigned int queue_batch_execute(struct queue_batch *b, MYSQL_STMT *stmt);

#endif
