/* spool.h - moving claimed queue rows into sessions, events and event_errors.
 *
 * One spool owns one connection (as the spool account) and its prepared
 * statements. spool_batch runs one transaction: claim up to N queue rows
 * (skipping rows other spoolers hold), add event types seen for the first
 * time to event_types, record the valid ones' (application, event_id) in
 * event_ids (an id the application already stored is a duplicate and is
 * skipped), add the new ones to their sessions (creating them), insert
 * them into events, insert the flagged ones into event_errors, count both
 * in the rollups, delete the claimed rows, commit. Any number of spoolers
 * can run this at once.
 */
#ifndef EYE_SPOOL_SPOOL_H
#define EYE_SPOOL_SPOOL_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

enum spool_stmt {
    SS_CLEAR,
    SS_CLAIM,
    SS_CLEAR_KEYS,
    SS_RESOLVE,
    SS_CHECK,
    SS_ADD_CATEGORIES,
    SS_ADD_TYPES,
    SS_RESOLVE_TYPES,
    SS_DEDUP,
    SS_SESSIONS,
    SS_SESSIONS_ALL,
    SS_NEW_SESSIONS,
    SS_NEW_SESSIONS_ALL,
    SS_RESOLVE_SESSIONS,
    SS_RESOLVE_SESSIONS_ALL,
    SS_FOUND_SESSIONS,
    SS_EVENTS,
    SS_EVENTS_ALL,
    SS_ERRORS_LOCK,
    SS_ERRORS,
    SS_ERRORS_UNLOCK,
    SS_DELETE,
    SS_DUPLICATES,
    SS_ATTEMPT,
    SS_ATTEMPTS,
    SS_QUARANTINE,
    SS_QUARANTINED,
    SS_QUEUED,
    SS_NSTMTS
};

struct spool {
    const struct config *cfg;
    MYSQL *conn;
    uint64_t generation; /* of the writer endpoint when conn was opened */
    MYSQL_STMT *stmts[SS_NSTMTS];
    MYSQL_STMT *heartbeat; /* NULL when the schema has no heartbeat table yet */
    bool errors_locked;    /* holds the named lock eye_spool_errors (batch.c) */
    /* Wall time spent in each statement (and, in the two extra slots, in
     * spool/status.c's statements and in COMMIT) since the connection was
     * opened: logged at debug level when it closes (bench/run.sh shows
     * where a batch's time goes). */
    int64_t stmt_us[SS_NSTMTS + 2];
    uint64_t stmt_runs[SS_NSTMTS + 2];
};

/* What one batch did. */
struct spool_batch_stats {
    uint64_t claimed, events, errors, duplicates, quarantined;
};

enum spool_result {
    SPOOL_OK,      /* committed (claimed may be 0: the queue was empty) */
    SPOOL_RETRY,   /* deadlock or lock wait: rolled back, try again now */
    SPOOL_OFFLINE, /* the connection is gone: reconnect with backoff */
    SPOOL_STALLED, /* the server cannot write (disk full, read-only): rolled
                    * back, keep the connection, try again with backoff */
    SPOOL_POISON,  /* a row cannot be stored: rolled back, isolate it */
};

/* Prepares an unconnected spool; cfg must outlive it. */
void spool_init(struct spool *s, const struct config *cfg);

/* Connects (as the spool account, to the writer: lib/db.h) and prepares
 * every statement. Returns false (logged) on failure; the spool is then
 * closed. */
bool spool_connect(struct spool *s);

/* Closes the connection and statements (safe when not connected). */
void spool_close(struct spool *s);

/* Runs one batch of at most limit rows; fills *out on SPOOL_OK. On
 * SPOOL_POISON, *reason receives the server's error text. */
enum spool_result spool_batch(struct spool *s, int64_t limit, struct spool_batch_stats *out,
                              char *reason, size_t reason_len);

/* Sets the heartbeat row to the writer's clock and commits (a no-op,
 * SPOOL_OK, without the heartbeat table). Same results as spool_batch. */
enum spool_result spool_heartbeat(struct spool *s);

/* Counts one failed attempt of the row at the head of the queue (claimed
 * alone), and moves it to event_quarantine with reason once it has failed
 * spool.max_attempts times. *quarantined tells whether it was moved. */
enum spool_result spool_poison_row(struct spool *s, const char *reason, bool *quarantined);

/* Tells whether event_queue holds any row, claimable or not (a row another
 * spooler holds locked counts): how --once knows it is done. Returns false
 * (logged) when the database could not be asked. */
bool spool_queue_has_rows(struct spool *s, bool *has_rows);

#endif
