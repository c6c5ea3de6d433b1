/* status.h - what the spool tells monitoring: spool_status and the
 * event-count rollups, written inside the spool's own transactions.
 *
 * Each eye-spool process owns one spool_status row, named "host:pid". Every
 * batch adds its figures to that row, and its events and errors to
 * event_counts_minute, in the batch's transaction before its COMMIT, so a
 * rolled-back batch counts nothing and a committed one counts exactly once.
 * An idle spooler refreshes last_seen_at every few seconds, so monitoring
 * can tell "idle" from "gone". eye.fcgi's /metrics reads the table.
 */
#ifndef EYE_SPOOL_STATUS_H
#define EYE_SPOOL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "spool/spool.h"

/* Prepares the statements on s->conn and registers this spooler's row
 * (committed). Returns false (logged) on failure; the caller closes the
 * connection. */
bool spool_status_prepare(struct spool *s);

/* Closes the statements (safe when never prepared). Call before the
 * connection is closed. */
void spool_status_close(void);

/* Inside the batch's transaction, after its events and errors are
 * inserted: adds its stored events (claimed rows that won their event_ids
 * record) and recorded errors to event_counts_minute, reading the claim
 * (spool/batch.c). events and errors are how many the batch inserted (0
 * skips that statement); all_won: every valid claimed row was stored (no
 * duplicate), so the winners need not be looked up. Returns false when a
 * statement failed (*failed_stmt: its MYSQL_STMT, to classify the error);
 * the caller rolls back. */
bool spool_status_rollups(struct spool *s, uint64_t events, uint64_t errors, bool all_won,
                          MYSQL_STMT **failed_stmt);

/* Inside the batch's transaction, before its COMMIT: adds the batch's
 * figures to this spooler's row. Same failure contract. */
bool spool_status_batch(struct spool *s, const struct spool_batch_stats *b, int64_t duration_us,
                        MYSQL_STMT **failed_stmt);

/* Inside the quarantine's transaction: counts one quarantined row. */
bool spool_status_quarantined(struct spool *s, MYSQL_STMT **failed_stmt);

/* When the queue was found empty: refreshes last_seen_at (its own small
 * transaction), at most every SPOOL_STATUS_IDLE_MS. Failures are logged and
 * otherwise ignored (the next batch finds a dead connection itself). */
void spool_status_idle(struct spool *s);

#define SPOOL_STATUS_IDLE_MS 5000

#endif
