/* dbconn.h - a worker thread's database connection and its prepared
 * statements.
 *
 * Each worker owns one dbconn; nothing in it is shared. The connection is
 * opened on first use and statements are prepared on first use, then
 * reused. When a call fails with a lost connection the owner calls
 * dbconn_reset, and the next use connects again: MariaDB restarting costs
 * the requests in flight a 503, not a lighttpd restart.
 *
 * With database.hosts, every dbconn of a process follows the process's
 * current endpoint (lib/endpoint.h): before each statement is handed out,
 * a connection opened before the process moved is closed and opened again
 * on the new endpoint, so no thread keeps writing to the old writer.
 */
#ifndef EYE_FCGI_DBCONN_H
#define EYE_FCGI_DBCONN_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

enum dbconn_stmt {
    DBCONN_KEY_LOOKUP,   /* key_hash -> application_id, scope, id, origins, app_only */
    DBCONN_QUEUE_INSERT, /* one queue row; executed in bulk */
    DBCONN_ORIGIN_KNOWN, /* origin -> some active browser key is bound to it */
    DBCONN_NSTMTS
};

/* Slots for statements whose text the caller builds (from fixed fragments
 * and placeholders only), e.g. the read API's filter combinations. */
#define DBCONN_DYNAMIC 256

struct dbconn {
    const struct config *cfg;
    const struct config_account *account;
    bool read_only;      /* analyst connection: autocommit reads, reader endpoints */
    uint64_t generation; /* of the endpoint role when conn was opened */
    MYSQL *conn;
    MYSQL_STMT *stmts[DBCONN_NSTMTS + DBCONN_DYNAMIC];
};

/* Prepares an unconnected dbconn that will log in as account; cfg must
 * outlive it. A read_only connection stays in autocommit mode. */
void dbconn_init(struct dbconn *db, const struct config *cfg, const struct config_account *account,
                 bool read_only);

/* Returns the statement in dynamic slot (0 <= slot < DBCONN_DYNAMIC),
 * preparing sql there on first use; same contract as dbconn_stmt. The sql
 * of one slot must never change. */
MYSQL_STMT *dbconn_stmt_sql(struct dbconn *db, int slot, const char *name, const char *sql);

/* Returns the statement, connecting and preparing as needed, or NULL (logged)
 * when the database cannot be reached or the statement cannot be prepared.
 * The dbconn keeps ownership. */
MYSQL_STMT *dbconn_stmt(struct dbconn *db, enum dbconn_stmt id);

/* Returns the connection, connecting as needed (and replacing one opened
 * before the process moved to another endpoint), or NULL (logged). */
MYSQL *dbconn_get(struct dbconn *db);

/* Closes the connection and its statements; the next use reconnects. */
void dbconn_reset(struct dbconn *db);

/* After a failed call with error err: resets when the connection is gone.
 * Returns true when the failure is the database's availability (the caller
 * answers 503), false for any other error (500). */
bool dbconn_failed(struct dbconn *db, unsigned int err);

#endif
