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

#endif
