/* dbconn.c - per-worker connection and statement cache (see dbconn.h).
 *
 * The write path's SQL is in the table below, so the ingest account's
 * privileges can be checked against it at a glance: it reads api_keys and
 * inserts into event_queue, nothing else. The read API (read.c) prepares
 * its statements in dynamic slots of a second dbconn, as the analyst.
 */
#include "autoconfig.h"

#include "fcgi/dbconn.h"

#include "lib/db.h"
#include "lib/log.h"
#include "queue/batch.h"

static const struct {
    const char *name;
    const char *sql;
} dbconn_sql[DBCONN_NSTMTS] = {
    [DBCONN_KEY_LOOKUP] = {"key_lookup", "SELECT application_id, scope, id, COALESCE(origins, ''), "
                                         "app_only FROM api_keys "
                                         "WHERE key_hash = ? AND revoked_at IS NULL"},
    [DBCONN_QUEUE_INSERT] = {"queue_insert", QUEUE_INSERT_SQL},
    [DBCONN_ORIGIN_KNOWN] = {"origin_known",
                             "SELECT 1 FROM api_keys WHERE scope = 'browser' AND revoked_at IS NULL "
                             "AND LOCATE(CONCAT(' ', ?, ' '), CONCAT(' ', origins, ' ')) > 0 LIMIT 1"},
};

void dbconn_init(struct dbconn *db, const struct config *cfg, const struct config_account *account,
                 bool read_only)
{
    db->cfg = cfg;
    db->account = account;
    db->read_only = read_only;
    db->generation = 0;
    db->conn = NULL;
    for (int i = 0; i < DBCONN_NSTMTS + DBCONN_DYNAMIC; i++)
        db->stmts[i] = NULL;
}

static enum endpoint_role dbconn_role(const struct dbconn *db)
{
    return db->read_only ? ENDPOINT_READER : ENDPOINT_WRITER;
}

/* Closes a connection opened before the process moved to another endpoint
 * of this dbconn's role. Only called between statements: the write path's
 * transactions are one statement and its COMMIT, on the connection the
 * statement was handed out on. */
static void dbconn_follow(struct dbconn *db)
{
    if (db->conn != NULL && db->generation != endpoint_generation(dbconn_role(db)))
        dbconn_reset(db);
}

/* dbconn_get without the follow check. */
static MYSQL *dbconn_open(struct dbconn *db)
{
    if (db->conn != NULL)
        return db->conn;
    db->conn = db_connect_role(db->cfg, db->account, dbconn_role(db), &db->generation);
    if (db->conn == NULL)
        return NULL;
    if (db->read_only)
        return db->conn;
    /* Each request's rows are committed together, explicitly; reads see
     * committed data at once (a revoked key is not hidden by a snapshot). */
    if (mysql_autocommit(db->conn, 0) != 0 ||
        !db_exec(db->conn, "set_isolation",
                 "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")) {
        log_error("configure ingest connection: %s", mysql_error(db->conn));
        dbconn_reset(db);
        return NULL;
    }
    return db->conn;
}

MYSQL *dbconn_get(struct dbconn *db)
{
    dbconn_follow(db);
    return dbconn_open(db);
}

/* Prepares sql in slot i, reconnecting once when an idle connection turns
 * out to be dead (MariaDB restarted) */
static MYSQL_STMT *dbconn_prepare_slot(struct dbconn *db, int i, const char *name, const char *sql)
{
    dbconn_follow(db);
    if (db->stmts[i] != NULL)
        return db->stmts[i];
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = db->conn != NULL;
        MYSQL *conn = dbconn_open(db);
        if (conn == NULL)
            return NULL;
        unsigned int err = 0;
        db->stmts[i] = db_prepare_err(conn, name, sql, &err);
        if (db->stmts[i] != NULL)
            return db->stmts[i];
        if (!db_error_is_connection_lost(err))
            return NULL;
        dbconn_reset(db);
        if (!reused)
            return NULL;
    }
    return NULL;
}

MYSQL_STMT *dbconn_stmt(struct dbconn *db, enum dbconn_stmt id)
{
    return dbconn_prepare_slot(db, id, dbconn_sql[id].name, dbconn_sql[id].sql);
}

MYSQL_STMT *dbconn_stmt_sql(struct dbconn *db, int slot, const char *name, const char *sql)
{
    return dbconn_prepare_slot(db, DBCONN_NSTMTS + slot, name, sql);
}

void dbconn_reset(struct dbconn *db)
{
    for (int i = 0; i < DBCONN_NSTMTS + DBCONN_DYNAMIC; i++) {
        if (db->stmts[i] != NULL)
            mysql_stmt_close(db->stmts[i]);
        db->stmts[i] = NULL;
    }
    if (db->conn != NULL)
        mysql_close(db->conn);
    db->conn = NULL;
}

bool dbconn_failed(struct dbconn *db, unsigned int err)
{
    if (db_error_is_connection_lost(err)) {
        dbconn_reset(db);
        return true;
    }
    return db_error_is_transient(err);
}
