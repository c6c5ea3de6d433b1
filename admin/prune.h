/* prune.h - batched cleanup shared by `eye-admin retention`, `archive` and
 * `erase` (admin/prune.c).
 */
#ifndef EYE_ADMIN_PRUNE_H
#define EYE_ADMIN_PRUNE_H

/* Rows per cleanup transaction. */
#define PRUNE_BATCH 5000

#include <mysql.h>

/* Prepares sql (a DELETE ... WHERE column < ? ... LIMIT ?, exactly those
 * two parameters), binds `before` ('YYYY-MM-DD ...') and PRUNE_BATCH to
 * them, and runs it and commits again and again until it deletes fewer
 * than 5000 rows. Returns the rows deleted in all, or -1 (logged). conn
 * must not be in autocommit mode. */
long long prune_delete_batched(MYSQL *conn, const char *name, const char *sql, const char *before);

/* Deletes, in batches of 5000 under their row locks, the sessions last
 * seen before `before` ('YYYY-MM-DD ...', generated, never user text) that
 * have no event. Returns how many, or -1 (logged, rolled back). */
long long prune_sessions(MYSQL *conn, const char *before);

#endif
