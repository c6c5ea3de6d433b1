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
#include "lib/endpoint.h"

/* Opens a connection as the given account to the writer: database.hosts
 * (the process's current endpoint, else the first usable one in order),
 * or the single database.host / database.socket when the list is empty.
 * Returns NULL and logs the server's error on failure. The caller owns the
 * handle (mysql_close). */
MYSQL *db_connect(const struct config *cfg, const struct config_account *account);

/* Same, for role: ENDPOINT_READER uses database.read_hosts when it is set.
 * Stores the role's generation at the time of connecting in *generation
 * (may be NULL; 0 without a list): when endpoint_generation(role) differs
 * later, the process has moved and the connection must be replaced. */
MYSQL *db_connect_role(const struct config *cfg, const struct config_account *account,
                       enum endpoint_role role, uint64_t *generation);

/* Writes into buf the endpoint role uses now in this process ("host:port"),
 * or database.host / database.socket without a list. Returns buf. */
const char *db_current_address(const struct config *cfg, enum endpoint_role role, char *buf,
                               size_t len);

/* At most once per database.failback_seconds (0: never), and only when the
 * process has moved off the first endpoint of role: looks whether a more
 * preferred endpoint is usable again and, if so, moves the process back to
 * it (every connection of the role follows before its next statement), so
 * all processes converge on the first usable endpoint of the list. Returns
 * true when it moved. Opens and closes its own probe connections. */
bool db_failback(const struct config *cfg, const struct config_account *account,
                 enum endpoint_role role);

/* True for errors that say "try again later": the server is gone or
 * restarting, a lock wait timed out, a deadlock chose this transaction, or
 * the server cannot write for now (db_error_is_unwritable). */
bool db_error_is_transient(unsigned int err);

/* True for errors that say "this server cannot write now, whatever the
 * statement": its disk or a table is full (1021, 1114), it runs read-only
 * (1290, 1836). The connection is fine; retrying at once is pointless. */
bool db_error_is_unwritable(unsigned int err);

/* True for errors that say "the schema or the grants do not match this
 * program": an unknown table or column, a table or column this account
 * may not use (1146, 1054, 1142, 1143). Not the data's fault: a program
 * older or newer than the migrations applied (README, "Upgrading"), or
 * grants not yet reprinted. */
bool db_error_is_schema(unsigned int err);

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

/* True when a failed connection attempt says the server is not there, or
 * must not be used (db_error_is_connection_lost also covers a Galera node
 * outside the primary component, error 1047); false when it answered and
 * refused the login (too many connections, access denied), which no other
 * endpoint would fix. */
bool db_error_is_node_down(unsigned int err);

#endif
