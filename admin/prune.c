/* prune.c - batched cleanup shared by `eye-admin retention`, `archive` and
 * `erase` (see prune.h): each batch its own short transaction, so ingest
 * and the spool never wait long behind it.
 */
#include "autoconfig.h"

#include "admin/prune.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

/* Runs a statement with no parameters and returns its affected rows, or
 * -1 (logged). */
static long long prune_exec_count(MYSQL *conn, const char *name, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        log_error("%s: %s", name, mysql_error(conn));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res != NULL)
        mysql_free_result(res);
    return (long long)mysql_affected_rows(conn);
}

/* Binds a string parameter (never NULL). */
static void prune_bind_str(MYSQL_BIND *b, const char *s, unsigned long *len)
{
    *len = (unsigned long)strlen(s);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = (void *)s;
    b->buffer_length = *len;
    b->length = len;
}

/* Runs a prepared statement whose parameters are bound and returns its
 * affected rows, or -1 (logged). */
static long long prune_stmt_count(MYSQL_STMT *stmt, const char *name)
{
    if (mysql_stmt_execute(stmt) != 0) {
        log_error("%s: %s", name, mysql_stmt_error(stmt));
        return -1;
    }
    return (long long)mysql_stmt_affected_rows(stmt);
}

long long prune_delete_batched(MYSQL *conn, const char *name, const char *sql, const char *before)
{
    long long total = 0, limit = PRUNE_BATCH;
    unsigned long before_len = 0;
    MYSQL_BIND in[2];
    MYSQL_STMT *stmt = db_prepare(conn, name, sql);
    if (stmt == NULL)
        return -1;
    memset(in, 0, sizeof(in));
    prune_bind_str(&in[0], before, &before_len);
    in[1].buffer_type = MYSQL_TYPE_LONGLONG;
    in[1].buffer = &limit;
    if (mysql_stmt_bind_param(stmt, in) != 0) {
        log_error("%s: %s", name, mysql_stmt_error(stmt));
        goto fail;
    }
    for (;;) {
        long long n = prune_stmt_count(stmt, name);
        if (n < 0)
            goto fail;
        if (mysql_commit(conn) != 0) {
            log_error("%s: commit: %s", name, mysql_error(conn));
            goto fail;
        }
        total += n;
        if (n < PRUNE_BATCH)
            break;
    }
    mysql_stmt_close(stmt);
    return total;

fail:
    mysql_stmt_close(stmt);
    return -1;
}

long long prune_sessions(MYSQL *conn, const char *before)
{
    long long total = 0, limit = PRUNE_BATCH;
    unsigned long before_len = 0;
    MYSQL_BIND in[3];
    MYSQL_STMT *lock = NULL;
    if (!db_exec(conn, "create_session_batch",
                 "CREATE TEMPORARY TABLE IF NOT EXISTS retention_sessions "
                 "(id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=MEMORY"))
        return -1;
    lock = db_prepare(conn, "lock_sessions",
                      "INSERT INTO retention_sessions (id) SELECT id FROM sessions "
                      "WHERE last_seen_at < ? AND id > ? ORDER BY id LIMIT ? FOR UPDATE");
    if (lock == NULL)
        return -1;
    /* Sessions are visited in id order past the last one examined, so a
     * session kept (it still has events) is not examined again. */
    unsigned long long after = 0;
    memset(in, 0, sizeof(in));
    prune_bind_str(&in[0], before, &before_len);
    in[1].buffer_type = MYSQL_TYPE_LONGLONG;
    in[1].buffer = &after;
    in[1].is_unsigned = 1;
    in[2].buffer_type = MYSQL_TYPE_LONGLONG;
    in[2].buffer = &limit;
    if (mysql_stmt_bind_param(lock, in) != 0) {
        log_error("lock_sessions: %s", mysql_stmt_error(lock));
        goto fail;
    }
    for (;;) {
        if (!db_exec(conn, "clear_session_batch", "DELETE FROM retention_sessions"))
            goto fail;
        /* `after` is read through its binding at every execution. */
        long long locked = prune_stmt_count(lock, "lock_sessions");
        if (locked < 0)
            goto fail;
        if (locked == 0) {
            mysql_commit(conn);
            break;
        }
        if (mysql_query(conn, "SELECT MAX(id) FROM retention_sessions") != 0)
            goto fail_query;
        MYSQL_RES *res = mysql_store_result(conn);
        MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
        uint64_t max_id = 0;
        if (row == NULL || row[0] == NULL || !strparse_uint64(row[0], UINT64_MAX, &max_id)) {
            if (res != NULL)
                mysql_free_result(res);
            goto fail_query;
        }
        mysql_free_result(res);
        after = (unsigned long long)max_id;
        /* Under the locks taken above, every spooler that stored an event
         * for these sessions has committed, and no other can start. */
        long long n = prune_exec_count(
            conn, "delete_sessions",
            "DELETE s FROM retention_sessions r STRAIGHT_JOIN sessions s ON s.id = r.id "
            "WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.session_id = r.id)");
        if (n < 0)
            goto fail;
        if (mysql_commit(conn) != 0)
            goto fail_query;
        total += n;
        if (locked < PRUNE_BATCH)
            break;
    }
    mysql_stmt_close(lock);
    return total;

fail_query:
    log_error("prune sessions: %s", mysql_error(conn));
fail:
    mysql_rollback(conn);
    mysql_stmt_close(lock);
    return -1;
}
