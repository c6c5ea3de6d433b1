/* commit.h - group commit: the rows of many requests in one transaction.
 *
 * A durable COMMIT costs a log flush, and a request that waits for its own
 * caps a process at threads ÷ flush latency. So each eye.fcgi process runs
 * one committer thread with its own connection (ingest account). A worker
 * hands its request's rows over with committer_submit and blocks until the
 * transaction that contains them has committed or failed; while one
 * transaction commits, the batches that arrive wait together for the next.
 * N requests then cost one bulk INSERT and one COMMIT, not N of each.
 *
 * Errors: a group that fails for the database's availability fails every
 * request in it (503, nothing committed). A group that fails for any other
 * reason (one bad row) is rolled back and each request is retried alone, so
 * one request's problem never becomes its neighbours' 500.
 */
#ifndef EYE_FCGI_COMMIT_H
#define EYE_FCGI_COMMIT_H

#include "fcgi/dbconn.h"
#include "lib/config.h"
#include "queue/batch.h"

struct committer;

/* Starts the committer thread; cfg must outlive it. Returns NULL (logged)
 * when the thread or its memory cannot be had; NULL (quietly) when
 * ingest.group_commit_max_rows is 0 or ingest.threads is 1. Without a
 * committer each worker commits its requests on its own connection. */
struct committer *committer_start(const struct config *cfg);

/* Inserts and commits b's rows as part of the next group, and blocks until
 * that group is done. b (and every string it borrows) stays the caller's
 * and must not change until this returns. Same results as commit_alone.
 * Thread-safe. */
enum queue_result committer_submit(struct committer *c, struct queue_batch *b);

/* Inserts b's rows on db and commits them, in a transaction of their own.
 * QUEUE_OK means durable. QUEUE_UNAVAILABLE means the database could not
 * take the write now (503); QUEUE_FAILED any other error (500). Nothing
 * is committed unless QUEUE_OK. */
enum queue_result commit_alone(struct queue_batch *b, struct dbconn *db);

/* Finishes the groups already submitted, stops the thread and frees
 * everything (NULL-safe). No worker may submit any more. */
void committer_stop(struct committer *c);

#endif
