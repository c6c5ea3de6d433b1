/* db.h - MariaDB connections for The Eye's programs.
 *
 * Every connection uses utf8mb4, UTC (time_zone '+00:00'), bounded connect,
 * read and write timeouts (so a dead server is noticed in seconds, not
 * minutes) and no automatic reconnect: a lost connection is closed and opened
 * again by its owner, who then prepares its statements again.
 */
#ifndef EYE_DB_H
#define EYE_DB_H

#include <stdbool.h>
#include <mysql.h>

#include "lib/config.h"

/* Opens a connection as the given account. Returns NULL and logs the
 * server's error on failure. The caller owns the handle (mysql_close). */
MYSQL *db_connect(const struct config *cfg, const struct config_account *account);

/* True for errors that say "try again later": the server is gone or
 * restarting, a lock wait timed out, a deadlock chose this transaction, or
 * the server cannot write for now (db_error_is_unwritable). */
bool db_error_is_transient(unsigned int err);

/* True for errors that say "this server cannot write now, whatever the
 * statement": its disk or a table is full (1021, 1114), it runs read-only
 * (1290, 1836). The connection is fine; retrying at once is pointless. */
bool db_error_is_unwritable(unsigned int err);

/* True for errors that mean the connection itself is unusable. */
bool db_error_is_connection_lost(unsigned int err);

/* Prepares sql on conn. Returns NULL and logs "name: error" on failure; the
 * caller owns the statement (mysql_stmt_close). */
MYSQL_STMT *db_prepare(MYSQL *conn, const char *name, const char *sql);

/* Same as db_prepare; on failure also stores the error number in *err
 * (the statement's, which mysql_errno(conn) no longer holds). */
MYSQL_STMT *db_prepare_err(MYSQL *conn, const char *name, const char *sql, unsigned int *err);

/* Runs a statement that returns no rows (BEGIN, COMMIT, SET ...). Returns
 * false and logs "name: error" on failure. */
bool db_exec(MYSQL *conn, const char *name, const char *sql);

#endif
