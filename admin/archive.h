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
 * left without events. With dir and out_path both NULL no file is written:
 * the partition's events are dropped the same way (retention without an
 * archive_dir), swapped out by EXCHANGE PARTITION first, so no event can
 * land in it between the event_ids walk and the drop, and the sessions are
 * left to the caller (prune_sessions, once for every partition it drops).
 * *rows receives the number of events written, *ids the event_ids rows
 * deleted. Returns false (reported on stderr) on failure; a detached table
 * left by a failure is picked up by the next call. conn is in manual
 * commit. */
bool archive_partition(MYSQL *conn, const char *part, const char *dir, const char *out_path,
                       long long *rows, long long *ids);

#endif
