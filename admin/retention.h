/* retention.h - batched cleanup shared by `eye-admin retention` and
 * `eye-admin erase` (admin/retention.c).
 */
#ifndef EYE_ADMIN_RETENTION_H
#define EYE_ADMIN_RETENTION_H

#include <mysql.h>

/* Runs sql (a DELETE ... LIMIT 5000 without parameters) and commits,
 * again and again until it deletes fewer than 5000 rows. Returns the rows
 * deleted in all, or -1 (logged). conn must not be in autocommit mode. */
long long retention_delete_batched(MYSQL *conn, const char *name, const char *sql);

/* Deletes, in batches of 5000 under their row locks, the sessions last
 * seen before `before` ('YYYY-MM-DD ...', generated, never user text) that
 * have no event. Returns how many, or -1 (logged, rolled back). */
long long retention_prune_sessions(MYSQL *conn, const char *before);

#endif
