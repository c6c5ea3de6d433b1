/* archive.h - moving a monthly partition of events into a file
 * (admin/archive.c), for `eye-admin archive` and `retention --apply`.
 */
#ifndef EYE_ADMIN_ARCHIVE_H
#define EYE_ADMIN_ARCHIVE_H

#include <mysql.h>
#include <stdbool.h>

/* Moves events partition `part` (pYYYYMM, a month that is over) out of the
 * database into out_path, or DIR/events-pYYYYMM.ndjson.gz when out_path is
 * NULL, with its .sha256, then removes its event_ids rows and the sessions
 * left without events. *rows receives the number of events written.
 * Returns false (reported on stderr) on failure; a detached table left by
 * a failure is picked up by the next call. conn is in manual commit. */
bool archive_partition(MYSQL *conn, const char *part, const char *dir, const char *out_path,
                       long long *rows);

/* Deletes the event_ids rows of the events in events partition `part`
 * (pYYYYMM), in bounded batches, each its own transaction, leaving the
 * events where they are: what `retention --apply` does before it drops a
 * partition (event_ids has no time index since migration 014, so once the
 * partition is gone nothing says which of its rows were those events').
 * Returns the rows deleted, or -1 (logged). conn is in manual commit. */
long long archive_forget_partition_ids(MYSQL *conn, const char *part);

#endif
