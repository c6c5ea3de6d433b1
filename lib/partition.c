/* partition.c - creating monthly partitions ahead of time (see
 * partition.h).
 *
 * Values go to the server as bound parameters (the table name looked up in
 * information_schema, GET_LOCK's wait, the procedure's arguments). DDL
 * takes no parameters, so the ALTERs name tables and partitions in their
 * text: table names come only from partition_tables, partition names are
 * generated from numbers or, when read back from information_schema,
 * checked to be pYYYYMM (partition_name_is_monthly) before they are used,
 * and bounds are generated from numbers, never from data.
 *
 * The months ahead are made by the stored procedure eye_partitions_ahead
 * (migrations/009_partitions.sql), SQL SECURITY DEFINER, so that eye-spool
 * needs only EXECUTE on it, not ALTER on the tables: it splits p_future
 * (`REORGANIZE PARTITION p_future INTO (...)`), which rewrites only
 * p_future, empty (or nearly) when this runs on time: milliseconds. Like
 * any ALTER it needs the table's exclusive metadata lock, and while it waits
 * for that, new statements on the table queue behind it; lock_wait_timeout
 * bounds that wait, and a timed-out split is simply tried again later.
 * Splitting the oldest partition (partition_ensure_from) is an operator's
 * act and runs here, as the admin account.
 */
#include "autoconfig.h"

#include "lib/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

const char *const partition_tables[PARTITION_NTABLES] = {"events", "event_errors"};
const char *const partition_columns[PARTITION_NTABLES] = {"occurred_at", "received_at"};

static bool partition_known_table(const char *table)
{
    for (int i = 0; i < PARTITION_NTABLES; i++)
        if (strcmp(table, partition_tables[i]) == 0)
            return true;
    log_error("partition: %s is not a partitioned table of The Eye", table);
    return false;
}

bool partition_name_is_monthly(const char *name)
{
    return strlen(name) == 7 && name[0] == 'p' && strspn(name + 1, "0123456789") == 6;
}

/* Parses "'2027-04-01'" (or without quotes) into year and month. */
static bool partition_parse_bound(const char *desc, int *year, int *month)
{
    char y[5] = {0}, m[3] = {0};
    if (*desc == '\'')
        desc++;
    if (strlen(desc) < 10 || desc[4] != '-' || desc[7] != '-')
        return false;
    memcpy(y, desc, 4);
    memcpy(m, desc + 5, 2);
    return strparse_int(y, 1000, 9999, year) && strparse_int(m, 1, 12, month);
}

bool partition_list(MYSQL *conn, const char *table, struct partition_info **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!partition_known_table(table))
        return false;
    /* The columns are read as text, as the server formats them; a bound
     * longer than desc holds is cut and then refused as unexpected. */
    char name[65], desc[256], rows[32], bytes[32];
    char *cols[4] = {name, desc, rows, bytes};
    const unsigned long caps[4] = {sizeof(name), sizeof(desc), sizeof(rows), sizeof(bytes)};
    unsigned long lens[4] = {0}, table_len = (unsigned long)strlen(table);
    my_bool nulls[4] = {0};
    MYSQL_BIND in = {0}, res[4];
    struct partition_info *list = NULL;
    size_t i = 0;
    bool ok = false;
    MYSQL_STMT *stmt =
        db_prepare(conn, "list_partitions",
                   "SELECT PARTITION_NAME, PARTITION_DESCRIPTION, TABLE_ROWS, "
                   "DATA_LENGTH + INDEX_LENGTH FROM information_schema.PARTITIONS "
                   "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
                   "AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION");
    if (stmt == NULL)
        return false;
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (void *)table;
    in.buffer_length = table_len;
    in.length = &table_len;
    memset(res, 0, sizeof(res));
    for (int c = 0; c < 4; c++) {
        res[c].buffer_type = MYSQL_TYPE_STRING;
        res[c].buffer = cols[c];
        res[c].buffer_length = caps[c];
        res[c].length = &lens[c];
        res[c].is_null = &nulls[c];
    }
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, res) != 0 || mysql_stmt_store_result(stmt) != 0) {
        log_error("list partitions of %s: %s", table, mysql_stmt_error(stmt));
        goto done;
    }
    size_t n = (size_t)mysql_stmt_num_rows(stmt);
    list = n > 0 ? calloc(n, sizeof(*list)) : NULL;
    if (n > 0 && list == NULL) {
        log_error("list partitions of %s: out of memory", table);
        goto done;
    }
    int r = 0;
    while (i < n && ((r = mysql_stmt_fetch(stmt)) == 0 || r == MYSQL_DATA_TRUNCATED)) {
        for (int c = 0; c < 4; c++) {
            if (nulls[c])
                lens[c] = 0;
            cols[c][lens[c] < caps[c] ? lens[c] : caps[c] - 1] = '\0';
        }
        struct partition_info *p = &list[i];
        snprintf(p->name, sizeof(p->name), "%s", name);
        p->future = strcmp(desc, "MAXVALUE") == 0;
        if (!p->future &&
            (lens[1] >= sizeof(desc) || !partition_parse_bound(desc, &p->year, &p->month))) {
            log_error("partition %s of %s has an unexpected bound %s", p->name, table, desc);
            goto done;
        }
        int64_t v = 0;
        if (!nulls[2] && strparse_int64(rows, 0, INT64_MAX, &v))
            p->rows = (uint64_t)v;
        if (!nulls[3] && strparse_int64(bytes, 0, INT64_MAX, &v))
            p->bytes = (uint64_t)v;
        i++;
    }
    if (r == 1) {
        log_error("list partitions of %s: %s", table, mysql_stmt_error(stmt));
        goto done;
    }
    ok = true;

done:
    mysql_stmt_close(stmt);
    if (!ok) {
        free(list);
        return false;
    }
    *out = list;
    *count = i;
    return true;
}

/* Returns the named lock's result: 1 held, 0 timed out, -1 error. */
static int partition_lock(MYSQL *conn, int wait_s)
{
    MYSQL_STMT *stmt =
        db_prepare(conn, "get_lock eye_partitions", "SELECT GET_LOCK('eye_partitions', ?)");
    if (stmt == NULL)
        return -1;
    long long wait = wait_s, got = 0;
    my_bool got_null = 0;
    MYSQL_BIND in = {0}, out = {0};
    in.buffer_type = MYSQL_TYPE_LONGLONG;
    in.buffer = &wait;
    out.buffer_type = MYSQL_TYPE_LONGLONG;
    out.buffer = &got;
    out.is_null = &got_null;
    int held = -1;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, &out) != 0 || mysql_stmt_store_result(stmt) != 0) {
        log_error("get_lock eye_partitions: %s", mysql_stmt_error(stmt));
    } else {
        /* NULL (an error inside GET_LOCK) counts as not held, as 0 does. */
        held = mysql_stmt_fetch(stmt) == 0 && !got_null && got == 1;
    }
    mysql_stmt_close(stmt);
    return held;
}

static void partition_unlock(MYSQL *conn)
{
    if (mysql_query(conn, "DO RELEASE_LOCK('eye_partitions')") != 0)
        log_warn("release_lock eye_partitions: %s", mysql_error(conn));
}

bool partition_ensure_from(MYSQL *conn, const char *table, int from_year, int from_month,
                           int lock_wait_s, int *added)
{
    *added = 0;
    struct partition_info *list = NULL;
    size_t n = 0;
    char *sql = NULL;
    bool ok = false;

    int held = partition_lock(conn, lock_wait_s);
    if (held <= 0) {
        if (held == 0)
            log_error("partitions of %s: another process holds eye_partitions", table);
        return false;
    }
    if (!partition_list(conn, table, &list, &n))
        goto done;
    if (n < 2 || list[0].future) {
        log_error("%s is not partitioned by month (migration 009)", table);
        goto done;
    }
    /* The oldest partition's name, read from information_schema, goes into
     * the ALTER's text: only a generated one. */
    if (!partition_name_is_monthly(list[0].name)) {
        log_error("partitions of %s: oldest partition %s is not a monthly partition (pYYYYMM)",
                  table, list[0].name);
        goto done;
    }
    /* The oldest partition's own month is the one before its bound. */
    long first = (long)list[0].year * 12 + (list[0].month - 1) - 1;
    long from = (long)from_year * 12 + (from_month - 1);
    if (from >= first) {
        ok = true;
        goto done;
    }
    size_t cap = 256 + (size_t)(first - from + 1) * 96;
    sql = malloc(cap);
    if (sql == NULL) {
        log_error("partitions of %s: out of memory", table);
        goto done;
    }
    int len = snprintf(sql, cap,
                       "SET STATEMENT lock_wait_timeout = %d FOR ALTER TABLE %s "
                       "REORGANIZE PARTITION %s INTO (",
                       lock_wait_s, table, list[0].name);
    for (long k = from; k < first; k++) {
        int py = (int)(k / 12), pm = (int)(k % 12) + 1;
        int ny = (int)((k + 1) / 12), nm = (int)((k + 1) % 12) + 1;
        len += snprintf(sql + len, cap - (size_t)len,
                        "PARTITION p%04d%02d VALUES LESS THAN ('%04d-%02d-01'), ", py, pm, ny, nm);
    }
    snprintf(sql + len, cap - (size_t)len, "PARTITION %s VALUES LESS THAN ('%04d-%02d-01'))",
             list[0].name, list[0].year, list[0].month);
    if (mysql_query(conn, sql) != 0) {
        log_error("split %s of %s: %s (error %u)", list[0].name, table, mysql_error(conn),
                  mysql_errno(conn));
        goto done;
    }
    *added = (int)(first - from);
    log_info("partitions of %s: %d month(s) added, from %04d-%02d", table, *added, from_year,
             from_month);
    ok = true;

done:
    partition_unlock(conn);
    free(sql);
    free(list);
    return ok;
}

bool partition_ensure_all(MYSQL *conn, int months_ahead, int lock_wait_s, int *added)
{
    *added = 0;
    /* The count comes back through a user variable (an OUT parameter of a
     * prepared CALL needs one). */
    MYSQL_STMT *stmt = db_prepare(conn, "eye_partitions_ahead",
                                  "CALL eye_partitions_ahead(?, ?, @eye_partitions_added)");
    if (stmt == NULL)
        return false;
    long long args[2] = {months_ahead, lock_wait_s};
    MYSQL_BIND in[2];
    memset(in, 0, sizeof(in));
    for (int a = 0; a < 2; a++) {
        in[a].buffer_type = MYSQL_TYPE_LONGLONG;
        in[a].buffer = &args[a];
    }
    if (mysql_stmt_bind_param(stmt, in) != 0 || mysql_stmt_execute(stmt) != 0) {
        log_error("eye_partitions_ahead: %s (error %u)", mysql_stmt_error(stmt),
                  mysql_stmt_errno(stmt));
        mysql_stmt_close(stmt);
        return false;
    }
    /* A CALL answers with a status result (and a result set per SELECT in
     * the procedure): drain them all. */
    int next;
    do {
        if (mysql_stmt_field_count(stmt) > 0 && mysql_stmt_store_result(stmt) == 0)
            mysql_stmt_free_result(stmt);
    } while ((next = mysql_stmt_next_result(stmt)) == 0);
    if (next > 0) {
        log_error("eye_partitions_ahead: %s (error %u)", mysql_stmt_error(stmt),
                  mysql_stmt_errno(stmt));
        mysql_stmt_close(stmt);
        return false;
    }
    mysql_stmt_close(stmt);
    if (mysql_query(conn, "SELECT @eye_partitions_added") != 0) {
        log_error("eye_partitions_ahead: %s", mysql_error(conn));
        return false;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
    if (row != NULL && row[0] != NULL && !strparse_int(row[0], 0, 1000000, added))
        *added = 0;
    if (res != NULL)
        mysql_free_result(res);
    if (*added > 0)
        log_info("partitions: %d month(s) added ahead to events and event_errors "
                 "(%d months ready after the current one)",
                 *added, months_ahead);
    return true;
}

bool partition_drop(MYSQL *conn, const char *table, const char *name)
{
    if (!partition_known_table(table))
        return false;
    /* Generated names only: p followed by six digits. */
    if (!partition_name_is_monthly(name)) {
        log_error("partition %s of %s: not a monthly partition", name, table);
        return false;
    }
    char sql[160];
    snprintf(sql, sizeof(sql), "ALTER TABLE %s DROP PARTITION %s", table, name);
    if (mysql_query(conn, sql) != 0) {
        log_error("drop partition %s of %s: %s", name, table, mysql_error(conn));
        return false;
    }
    return true;
}
