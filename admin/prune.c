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

long long prune_delete_batched(MYSQL *conn, const char *name, const char *sql)
{
    long long total = 0;
    for (;;) {
        long long n = prune_exec_count(conn, name, sql);
        if (n < 0)
            return -1;
        if (mysql_commit(conn) != 0) {
            log_error("%s: commit: %s", name, mysql_error(conn));
            return -1;
        }
        total += n;
        if (n < PRUNE_BATCH)
            return total;
    }
}

long long prune_sessions(MYSQL *conn, const char *before)
{
    long long total = 0;
    char sql[768];
    if (!db_exec(conn, "create_session_batch",
                 "CREATE TEMPORARY TABLE IF NOT EXISTS retention_sessions "
                 "(id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=MEMORY"))
        return -1;
    /* Sessions are visited in id order past the last one examined, so a
     * session kept (it still has events) is not examined again. */
    unsigned long long after = 0;
    for (;;) {
        if (!db_exec(conn, "clear_session_batch", "DELETE FROM retention_sessions"))
            return -1;
        snprintf(sql, sizeof(sql),
                 "INSERT INTO retention_sessions (id) SELECT id FROM sessions "
                 "WHERE last_seen_at < '%s' AND id > %llu ORDER BY id LIMIT %d FOR UPDATE",
                 before, after, PRUNE_BATCH);
        long long locked = prune_exec_count(conn, "lock_sessions", sql);
        if (locked < 0)
            goto fail;
        if (locked == 0) {
            mysql_commit(conn);
            return total;
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
            return total;
    }

fail_query:
    log_error("prune sessions: %s", mysql_error(conn));
fail:
    mysql_rollback(conn);
    return -1;
}
