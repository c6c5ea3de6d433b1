/* db.c - MariaDB connection set-up and error classification (see db.h). */
#include "autoconfig.h"

#include "lib/db.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

MYSQL *db_connect(const struct config *cfg, const struct config_account *account)
{
    MYSQL *conn = NULL;
    char *password = config_read_password(account);
    if (password == NULL)
        goto fail;

    conn = mysql_init(NULL);
    if (conn == NULL) {
        log_error("mysql_init: out of memory");
        goto fail;
    }
    unsigned int connect_timeout = (unsigned int)cfg->database.connect_timeout;
    unsigned int read_timeout = (unsigned int)cfg->database.read_timeout;
    unsigned int write_timeout = (unsigned int)cfg->database.write_timeout;
    my_bool no = 0;
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
    mysql_options(conn, MYSQL_OPT_RECONNECT, &no);
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(conn, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");

    const char *host = *cfg->database.host != '\0' ? cfg->database.host : "localhost";
    const char *socket = *cfg->database.host != '\0' ? NULL : cfg->database.socket;
    if (mysql_real_connect(conn, host, account->user, password, cfg->database.name,
                           (unsigned int)cfg->database.port, socket, 0) == NULL) {
        log_error("connect to MariaDB as %s at %s: %s", account->user,
                  socket != NULL ? socket : host, mysql_error(conn));
        goto fail;
    }
    free(password);
    return conn;

fail:
    if (conn != NULL)
        mysql_close(conn);
    free(password);
    return NULL;
}

bool db_error_is_connection_lost(unsigned int err)
{
    switch (err) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_NORMAL_SHUTDOWN:
        return true;
    default:
        return false;
    }
}

bool db_error_is_unwritable(unsigned int err)
{
    switch (err) {
    case ER_DISK_FULL:
    case ER_RECORD_FILE_FULL:
    case ER_OPTION_PREVENTS_STATEMENT:
    case ER_READ_ONLY_MODE:
        return true;
    default:
        return false;
    }
}

bool db_error_is_transient(unsigned int err)
{
    if (db_error_is_connection_lost(err) || db_error_is_unwritable(err))
        return true;
    switch (err) {
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_CON_COUNT_ERROR:
    case ER_TOO_MANY_USER_CONNECTIONS:
    case ER_QUERY_INTERRUPTED:
        return true;
    default:
        return false;
    }
}

MYSQL_STMT *db_prepare_err(MYSQL *conn, const char *name, const char *sql, unsigned int *err)
{
    MYSQL_STMT *stmt = mysql_stmt_init(conn);
    if (stmt == NULL) {
        log_error("%s: mysql_stmt_init: %s", name, mysql_error(conn));
        if (err != NULL)
            *err = mysql_errno(conn);
        return NULL;
    }
    if (mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql)) != 0) {
        log_error("%s: prepare: %s", name, mysql_stmt_error(stmt));
        /* Read before closing: closing the statement clears the error. */
        if (err != NULL)
            *err = mysql_stmt_errno(stmt);
        mysql_stmt_close(stmt);
        return NULL;
    }
    return stmt;
}

MYSQL_STMT *db_prepare(MYSQL *conn, const char *name, const char *sql)
{
    return db_prepare_err(conn, name, sql, NULL);
}

bool db_exec(MYSQL *conn, const char *name, const char *sql)
{
    if (mysql_real_query(conn, sql, (unsigned long)strlen(sql)) != 0) {
        log_error("%s: %s", name, mysql_error(conn));
        return false;
    }
    /* Statements run here return no rows, but drain defensively so the
     * connection is never left out of sync. */
    MYSQL_RES *res = mysql_store_result(conn);
    if (res != NULL)
        mysql_free_result(res);
    return true;
}
