/* db.c - MariaDB connection set-up and error classification (see db.h).
 *
 * With database.hosts set, a connection goes to the process's current
 * endpoint of its role (lib/endpoint.c), or, when that one does not answer
 * or is not usable (a Galera node outside the primary component or not
 * synced, a read-only server), to the next one in order, which then becomes
 * current for every thread of the process.
 */
#include "autoconfig.h"

#include "lib/db.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* Opens one connection to host:port (or the socket when host is NULL).
 * Returns NULL, with the server's error in why and its number in *err
 * (may be NULL), on failure. */
static MYSQL *db_open(const struct config *cfg, const struct config_account *account,
                      const char *password, const char *host, unsigned int port, const char *socket,
                      char *why, size_t why_len, unsigned int *err)
{
    if (err != NULL)
        *err = 0;
    MYSQL *conn = mysql_init(NULL);
    if (conn == NULL) {
        snprintf(why, why_len, "mysql_init: out of memory");
        return NULL;
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
    if (mysql_real_connect(conn, host != NULL ? host : "localhost", account->user, password,
                           cfg->database.name, port, socket, 0) == NULL) {
        snprintf(why, why_len, "%s", mysql_error(conn));
        if (err != NULL)
            *err = mysql_errno(conn);
        mysql_close(conn);
        return NULL;
    }
    return conn;
}

/* Galera's view of the node, and read_only: can it take this role's work?
 * A server without Galera (no wsrep status) is usable as it is. On false,
 * why says what is missing. */
static bool db_node_usable(MYSQL *conn, enum endpoint_role role, char *why, size_t why_len)
{
    const char *sql = "SELECT @@global.read_only,"
                      " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                      "  WHERE VARIABLE_NAME = 'WSREP_READY'),"
                      " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                      "  WHERE VARIABLE_NAME = 'WSREP_CLUSTER_STATUS'),"
                      " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                      "  WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE_COMMENT')";
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    bool ok = false;
    if (mysql_query(conn, sql) != 0 || (res = mysql_store_result(conn)) == NULL ||
        (row = mysql_fetch_row(res)) == NULL) {
        snprintf(why, why_len, "node state: %s", mysql_error(conn));
        goto done;
    }
    const char *read_only = row[0], *ready = row[1], *status = row[2], *state = row[3];
    if (role == ENDPOINT_WRITER && read_only != NULL && strcmp(read_only, "0") != 0) {
        snprintf(why, why_len, "read_only is on");
        goto done;
    }
    if (ready == NULL || *ready == '\0') {
        ok = true; /* not a Galera node */
        goto done;
    }
    if (strcmp(ready, "ON") != 0 || status == NULL || strcmp(status, "Primary") != 0) {
        snprintf(why, why_len, "Galera: wsrep_ready %s, cluster status %s", ready,
                 status != NULL ? status : "?");
        goto done;
    }
    /* A writer must be Synced: a donor of a full state transfer is read
     * locked while it copies, and a joiner is not caught up. A reader may
     * lag (it says how much in /v1/health) but not be a joiner. */
    if (state == NULL || (strcmp(state, "Synced") != 0 &&
                          (role == ENDPOINT_WRITER || strcmp(state, "Donor/Desynced") != 0))) {
        snprintf(why, why_len, "Galera: node is %s", state != NULL ? state : "?");
        goto done;
    }
    ok = true;
done:
    if (res != NULL)
        mysql_free_result(res);
    return ok;
}

/* The list of role from cfg: read_hosts for readers when set, else hosts.
 * Returns false (logged) when it does not parse. */
static bool db_role_list(const struct config *cfg, enum endpoint_role role,
                         struct endpoint_list *list)
{
    const char *text = role == ENDPOINT_READER && *cfg->database.read_hosts != '\0'
                           ? cfg->database.read_hosts
                           : cfg->database.hosts;
    char err[512];
    if (!endpoint_list_parse(text, (unsigned int)cfg->database.port, list, err, sizeof(err))) {
        log_error("database endpoint list: %s", err);
        return false;
    }
    return true;
}

MYSQL *db_connect_role(const struct config *cfg, const struct config_account *account,
                       enum endpoint_role role, uint64_t *generation)
{
    MYSQL *conn = NULL;
    struct endpoint_list list;
    char why[512], addr[ENDPOINT_HOST_MAX + 16];
    if (generation != NULL)
        *generation = 0;
    char *password = config_read_password(account);
    if (password == NULL)
        return NULL;
    if (!db_role_list(cfg, role, &list))
        goto fail;

    if (list.n == 0) {
        /* One server: database.host, or the socket. */
        const char *host = *cfg->database.host != '\0' ? cfg->database.host : NULL;
        const char *socket = host != NULL ? NULL : cfg->database.socket;
        conn = db_open(cfg, account, password, host, (unsigned int)cfg->database.port, socket, why,
                       sizeof(why), NULL);
        if (conn == NULL)
            log_error("connect to MariaDB as %s at %s: %s", account->user,
                      socket != NULL ? socket : host, why);
        free(password);
        return conn;
    }

    /* The current endpoint first, then the others in order of preference.
     * Another thread may move the process meanwhile: a connection to an
     * endpoint that is no longer current is dropped and the walk starts
     * again from the new current one (bounded: each restart follows a move). */
    for (int walk = 0; walk < 4; walk++) {
        uint64_t gen;
        size_t cur = endpoint_current(role, &gen);
        if (cur >= list.n)
            cur = 0;
        for (size_t k = 0; k <= list.n; k++) {
            size_t idx = k == 0 ? cur : k - 1;
            if (k > 0 && idx == cur)
                continue;
            endpoint_format(&list.v[idx], addr, sizeof(addr));
            unsigned int err = 0;
            conn = db_open(cfg, account, password, list.v[idx].host, list.v[idx].port, NULL, why,
                           sizeof(why), &err);
            if (conn == NULL && idx == cur && !db_error_is_node_down(err)) {
                /* The writer is alive but refused this login (too many
                 * connections, a wrong password): moving the process
                 * would make two writers, not fix it. */
                log_error("connect to MariaDB as %s at %s: %s", account->user, addr, why);
                goto fail;
            }
            if (conn != NULL && !db_node_usable(conn, role, why, sizeof(why))) {
                mysql_close(conn);
                conn = NULL;
            }
            if (conn == NULL) {
                log_warn("database %s (as %s): %s", addr, account->user, why);
                continue;
            }
            size_t now_cur = idx == cur ? cur : endpoint_move(role, &list, cur, idx, &gen);
            if (now_cur != idx) {
                mysql_close(conn); /* someone moved the process elsewhere */
                conn = NULL;
                break;
            }
            if (generation != NULL)
                *generation = gen;
            free(password);
            return conn;
        }
        if (conn == NULL && endpoint_current(role, NULL) == cur)
            break; /* nothing answered, and nobody moved meanwhile */
    }
    log_error("connect to MariaDB as %s: none of the %zu endpoints of %s is usable", account->user,
              list.n, role == ENDPOINT_WRITER ? "database.hosts" : "the read list");
fail:
    free(password);
    return NULL;
}

const char *db_current_address(const struct config *cfg, enum endpoint_role role, char *buf,
                               size_t len)
{
    struct endpoint_list list;
    if (!db_role_list(cfg, role, &list) || list.n == 0) {
        snprintf(buf, len, "%s",
                 *cfg->database.host != '\0' ? cfg->database.host : cfg->database.socket);
        return buf;
    }
    size_t cur = endpoint_current(role, NULL);
    return endpoint_format(&list.v[cur < list.n ? cur : 0], buf, len);
}

MYSQL *db_connect(const struct config *cfg, const struct config_account *account)
{
    return db_connect_role(cfg, account, ENDPOINT_WRITER, NULL);
}

bool db_failback(const struct config *cfg, const struct config_account *account,
                 enum endpoint_role role)
{
    struct endpoint_list list;
    if (cfg->database.failback_seconds == 0 ||
        !endpoint_failback_due(role, cfg->database.failback_seconds * 1000) ||
        !db_role_list(cfg, role, &list))
        return false;
    uint64_t gen;
    size_t cur = endpoint_current(role, &gen);
    char *password = config_read_password(account);
    if (password == NULL)
        return false;
    bool moved = false;
    char why[512];
    for (size_t idx = 0; idx < cur && idx < list.n && !moved; idx++) {
        MYSQL *conn = db_open(cfg, account, password, list.v[idx].host, list.v[idx].port, NULL, why,
                              sizeof(why), NULL);
        if (conn == NULL)
            continue;
        if (db_node_usable(conn, role, why, sizeof(why)))
            moved = endpoint_move(role, &list, cur, idx, NULL) == idx;
        mysql_close(conn);
    }
    free(password);
    return moved;
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
    /* The server answers but must not be used: a Galera node outside the
     * primary component ("WSREP has not yet prepared node for application
     * use"). Nothing was done; the connection is dropped and the next one
     * looks for a usable endpoint. */
    case ER_UNKNOWN_COM_ERROR:
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

bool db_error_is_schema(unsigned int err)
{
    switch (err) {
    case ER_NO_SUCH_TABLE:
    case ER_BAD_FIELD_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
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

bool db_error_is_node_down(unsigned int err)
{
    return db_error_is_connection_lost(err) || err == CR_UNKNOWN_HOST;
}
