/* status.c - spool_status and event_counts_minute (see status.h).
 *
 * Statements are fixed text (the eleven batch variants differ only in the
 * duration bucket they add to, a fixed column name chosen from a table).
 * One spool per process, so the prepared statements live here, beside the
 * spool's own.
 *
 * Rollups: a batch's stored events are its claimed queue rows that won
 * their event_ids record, its errors the event_errors rows of its claimed
 * ids (a duplicate is not inserted, so it is not there); both are read
 * from the claim (spool/batch.c), whose rows carry the keys, so every
 * lookup has a whole primary key and touches one partition. They are grouped by
 * minute of receipt, application, type and outcome and added to their
 * counter rows in primary-key order (one lock order for every spooler),
 * under this spooler's shard (pid % 8) so concurrent spoolers mostly touch
 * different rows.
 */
#include "autoconfig.h"

#include "spool/status.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"

#define STATUS_NB 11 /* b0..b10 of spool_status */

static const int64_t status_bounds_us[STATUS_NB - 1] = {
    10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

enum {
    ST_CUTOFF,
    ST_LOCK_OLD,
    ST_FOLD_OLD,
    ST_DELETE_OLD,
    ST_REGISTER,
    ST_QUARANTINED,
    ST_SEEN,
    ST_ROLLUP_EVENTS,
    ST_ROLLUP_EVENTS_ALL,
    ST_ROLLUP_ERRORS,
    ST_BATCH0, /* + bucket */
    ST_N = ST_BATCH0 + STATUS_NB
};

static MYSQL_STMT *status_stmts[ST_N];
static char status_name[64];
static unsigned long status_name_len;
static long long status_shard;
static int64_t status_seen_ms;

#define STATUS_SUMS                                                                                \
    "batches, rows_moved, events, errors, duplicates, quarantined, batch_us_sum, b0, b1, b2, b3, " \
    "b4, b5, b6, b7, b8, b9, b10"

/* A batch's stored events are its claimed queue rows that won their
 * event_ids record (as spool/batch.c stores them; won: that join, or ""
 * when every valid row won), counted by the type id spool_keys resolved;
 * the names come from the dimension tables, byte for byte as sent. */
#define STATUS_ROLLUP_EVENTS(won)                                                                  \
    "INSERT INTO event_counts_minute (minute, application_id, category, name, outcome, shard, n) " \
    "SELECT STRAIGHT_JOIN x.m, x.application_id, ec.name, t.name, 'accepted', ?, x.n "             \
    "FROM (SELECT STRAIGHT_JOIN DATE_FORMAT(c.received_at, '%Y-%m-%d %H:%i:00') AS m, "            \
    "c.application_id, k.type_id, COUNT(*) AS n "                                                  \
    "FROM spool_claim c" won " JOIN spool_keys k ON k.id = c.id "                                  \
    "WHERE c.valid GROUP BY m, c.application_id, k.type_id) x "                                    \
    "JOIN event_types t ON t.id = x.type_id JOIN event_categories ec ON ec.id = t.category_id "    \
    "ORDER BY x.m, x.application_id, ec.name, t.name "                                             \
    "ON DUPLICATE KEY UPDATE n = event_counts_minute.n + VALUES(n)"

static const char *const status_fixed_sql[ST_BATCH0] = {
    /* Rows of spoolers not seen for a day are folded into '_retired' at
     * start, with one cutoff for the three statements, under the row locks
     * of the first: the sums stay exactly what they were. '_retired' is
     * never "seen", so it is never shown as a live spooler. */
    [ST_CUTOFF] = "SELECT DATE_FORMAT(NOW(6) - INTERVAL 1 DAY, '%Y-%m-%d %H:%i:%s.%f')",
    [ST_LOCK_OLD] = "SELECT spooler FROM spool_status WHERE spooler <> '_retired' "
                    "AND last_seen_at < ? FOR UPDATE",
    [ST_FOLD_OLD] =
        "INSERT INTO spool_status (spooler, started_at, last_seen_at, " STATUS_SUMS ") "
        "SELECT '_retired', '1970-01-01 00:00:01', '1970-01-01 00:00:01', SUM(batches), "
        "SUM(rows_moved), SUM(events), SUM(errors), SUM(duplicates), SUM(quarantined), "
        "SUM(batch_us_sum), SUM(b0), SUM(b1), SUM(b2), SUM(b3), SUM(b4), SUM(b5), SUM(b6), "
        "SUM(b7), SUM(b8), SUM(b9), SUM(b10) FROM spool_status "
        "WHERE spooler <> '_retired' AND last_seen_at < ? HAVING COUNT(*) > 0 "
        "ON DUPLICATE KEY UPDATE batches = spool_status.batches + VALUES(batches), "
        "rows_moved = spool_status.rows_moved + VALUES(rows_moved), "
        "events = spool_status.events + VALUES(events), "
        "errors = spool_status.errors + VALUES(errors), "
        "duplicates = spool_status.duplicates + VALUES(duplicates), "
        "quarantined = spool_status.quarantined + VALUES(quarantined), "
        "batch_us_sum = spool_status.batch_us_sum + VALUES(batch_us_sum), "
        "b0 = spool_status.b0 + VALUES(b0), b1 = spool_status.b1 + VALUES(b1), "
        "b2 = spool_status.b2 + VALUES(b2), b3 = spool_status.b3 + VALUES(b3), "
        "b4 = spool_status.b4 + VALUES(b4), b5 = spool_status.b5 + VALUES(b5), "
        "b6 = spool_status.b6 + VALUES(b6), b7 = spool_status.b7 + VALUES(b7), "
        "b8 = spool_status.b8 + VALUES(b8), b9 = spool_status.b9 + VALUES(b9), "
        "b10 = spool_status.b10 + VALUES(b10)",
    [ST_DELETE_OLD] = "DELETE FROM spool_status WHERE spooler <> '_retired' AND last_seen_at < ?",
    [ST_REGISTER] = "INSERT INTO spool_status (spooler) VALUES (?) "
                    "ON DUPLICATE KEY UPDATE started_at = NOW(6), last_seen_at = NOW(6)",
    [ST_QUARANTINED] = "INSERT INTO spool_status (spooler, quarantined) VALUES (?, 1) "
                       "ON DUPLICATE KEY UPDATE quarantined = quarantined + 1, "
                       "last_seen_at = NOW(6)",
    [ST_SEEN] = "INSERT INTO spool_status (spooler) VALUES (?) "
                "ON DUPLICATE KEY UPDATE last_seen_at = NOW(6)",
    [ST_ROLLUP_EVENTS] = STATUS_ROLLUP_EVENTS(" JOIN event_ids d ON d.application_id = "
                                              "c.application_id AND d.event_id = c.event_id "
                                              "AND d.id = c.id"),
    [ST_ROLLUP_EVENTS_ALL] = STATUS_ROLLUP_EVENTS(""),
    /* Its recorded errors: event_errors rows by their whole primary key
     * (id, received_at), so each lookup goes to one partition, looked up
     * for the claimed rows that were rejected only (the others are never
     * in event_errors: ~2% of a batch instead of every row). */
    [ST_ROLLUP_ERRORS] =
        "INSERT INTO event_counts_minute (minute, application_id, category, name, outcome, "
        "shard, n) "
        "SELECT STRAIGHT_JOIN DATE_FORMAT(x.received_at, '%Y-%m-%d %H:%i:00') AS m, "
        "x.application_id, COALESCE(x.category, '') AS cat, COALESCE(x.name, '') AS nam, "
        "x.code, ?, COUNT(*) "
        "FROM spool_claim c "
        "JOIN event_errors x FORCE INDEX (PRIMARY) ON x.id = c.id AND x.received_at = "
        "c.received_at "
        "WHERE NOT c.valid "
        "GROUP BY m, x.application_id, cat, nam, x.code "
        "ORDER BY m, x.application_id, cat, nam, x.code "
        "ON DUPLICATE KEY UPDATE n = event_counts_minute.n + VALUES(n)",
};

void spool_status_close(void)
{
    for (int i = 0; i < ST_N; i++) {
        if (status_stmts[i] != NULL)
            mysql_stmt_close(status_stmts[i]);
        status_stmts[i] = NULL;
    }
}

static void status_bind_name(MYSQL_BIND *b)
{
    memset(b, 0, sizeof(*b));
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = status_name;
    b->buffer_length = status_name_len;
    b->length = &status_name_len;
}

/* Executes a statement whose only parameter is this spooler's name. */
static bool status_run_named(MYSQL_STMT *stmt)
{
    MYSQL_BIND in;
    status_bind_name(&in);
    return mysql_stmt_bind_param(stmt, &in) == 0 && mysql_stmt_execute(stmt) == 0;
}

/* Executes a rollup statement (its one parameter: the shard). */
static bool status_run_shard(MYSQL_STMT *stmt)
{
    MYSQL_BIND in = {0};
    in.buffer_type = MYSQL_TYPE_LONGLONG;
    in.buffer = &status_shard;
    return mysql_stmt_bind_param(stmt, &in) == 0 && mysql_stmt_execute(stmt) == 0;
}

/* Folds the rows of spoolers gone for a day into '_retired' (in the
 * caller's transaction). */
static bool status_fold_retired(void)
{
    char cutoff[40] = "";
    unsigned long cutoff_len = 0;
    MYSQL_BIND out = {0}, in = {0};
    out.buffer_type = MYSQL_TYPE_STRING;
    out.buffer = cutoff;
    out.buffer_length = sizeof(cutoff) - 1;
    out.length = &cutoff_len;
    MYSQL_STMT *c = status_stmts[ST_CUTOFF];
    if (mysql_stmt_execute(c) != 0 || mysql_stmt_bind_result(c, &out) != 0 ||
        mysql_stmt_store_result(c) != 0 || mysql_stmt_fetch(c) != 0) {
        mysql_stmt_free_result(c);
        return false;
    }
    mysql_stmt_free_result(c);
    cutoff[cutoff_len < sizeof(cutoff) ? cutoff_len : sizeof(cutoff) - 1] = '\0';
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = cutoff;
    in.buffer_length = cutoff_len;
    in.length = &cutoff_len;
    MYSQL_STMT *lock = status_stmts[ST_LOCK_OLD];
    if (mysql_stmt_bind_param(lock, &in) != 0 || mysql_stmt_execute(lock) != 0 ||
        mysql_stmt_store_result(lock) != 0)
        return false;
    my_ulonglong old = mysql_stmt_num_rows(lock);
    mysql_stmt_free_result(lock);
    if (old == 0)
        return true;
    for (int id = ST_FOLD_OLD; id <= ST_DELETE_OLD; id++)
        if (mysql_stmt_bind_param(status_stmts[id], &in) != 0 ||
            mysql_stmt_execute(status_stmts[id]) != 0)
            return false;
    log_info("spool_status: %llu rows of spoolers gone for a day folded into _retired",
             (unsigned long long)old);
    return true;
}

bool spool_status_prepare(struct spool *s)
{
    char host[48] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(status_name, sizeof(status_name), "%s:%ld", host, (long)getpid());
    status_name_len = (unsigned long)strlen(status_name);
    status_shard = (long long)(getpid() % 8);

    for (int i = 0; i < ST_BATCH0; i++) {
        status_stmts[i] = db_prepare(s->conn, "spool_status", status_fixed_sql[i]);
        if (status_stmts[i] == NULL)
            goto fail;
    }
    for (int k = 0; k < STATUS_NB; k++) {
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO spool_status (spooler, batches, rows_moved, events, errors, "
                 "duplicates, batch_us_sum, b%d, last_batch_at, last_seen_at) "
                 "VALUES (?, 1, ?, ?, ?, ?, ?, 1, NOW(6), NOW(6)) "
                 "ON DUPLICATE KEY UPDATE batches = batches + 1, "
                 "rows_moved = rows_moved + VALUES(rows_moved), events = events + VALUES(events), "
                 "errors = errors + VALUES(errors), duplicates = duplicates + VALUES(duplicates), "
                 "batch_us_sum = batch_us_sum + VALUES(batch_us_sum), b%d = b%d + 1, "
                 "last_batch_at = NOW(6), last_seen_at = NOW(6)",
                 k, k, k);
        status_stmts[ST_BATCH0 + k] = db_prepare(s->conn, "spool_status_batch", sql);
        if (status_stmts[ST_BATCH0 + k] == NULL)
            goto fail;
    }
    if (!status_fold_retired()) {
        log_error("spool_status: cannot fold old rows into _retired: %s", mysql_error(s->conn));
        mysql_rollback(s->conn);
        goto fail;
    }
    if (!status_run_named(status_stmts[ST_REGISTER]) || mysql_commit(s->conn) != 0) {
        log_error("spool_status: cannot register %s: %s", status_name,
                  mysql_stmt_error(status_stmts[ST_REGISTER]));
        mysql_rollback(s->conn);
        goto fail;
    }
    status_seen_ms = clock_mono_us() / 1000;
    return true;

fail:
    spool_status_close();
    return false;
}

bool spool_status_batch(struct spool *s, const struct spool_batch_stats *b, int64_t duration_us,
                        MYSQL_STMT **failed_stmt)
{
    (void)s;
    size_t k = 0;
    while (k < STATUS_NB - 1 && duration_us > status_bounds_us[k])
        k++;
    MYSQL_STMT *stmt = status_stmts[ST_BATCH0 + k];
    long long v[5] = {(long long)b->claimed, (long long)b->events, (long long)b->errors,
                      (long long)b->duplicates, duration_us < 0 ? 0 : (long long)duration_us};
    MYSQL_BIND in[6];
    status_bind_name(&in[0]);
    for (int i = 0; i < 5; i++) {
        memset(&in[i + 1], 0, sizeof(in[i + 1]));
        in[i + 1].buffer_type = MYSQL_TYPE_LONGLONG;
        in[i + 1].buffer = &v[i];
    }
    if (mysql_stmt_bind_param(stmt, in) != 0 || mysql_stmt_execute(stmt) != 0) {
        *failed_stmt = stmt;
        return false;
    }
    status_seen_ms = clock_mono_us() / 1000;
    return true;
}

bool spool_status_rollups(struct spool *s, uint64_t events, uint64_t errors, bool all_won,
                          MYSQL_STMT **failed_stmt)
{
    (void)s;
    MYSQL_STMT *ev = status_stmts[all_won ? ST_ROLLUP_EVENTS_ALL : ST_ROLLUP_EVENTS];
    if (events > 0 && !status_run_shard(ev)) {
        *failed_stmt = ev;
        return false;
    }
    if (errors > 0 && !status_run_shard(status_stmts[ST_ROLLUP_ERRORS])) {
        *failed_stmt = status_stmts[ST_ROLLUP_ERRORS];
        return false;
    }
    return true;
}

bool spool_status_quarantined(struct spool *s, MYSQL_STMT **failed_stmt)
{
    (void)s;
    if (!status_run_named(status_stmts[ST_QUARANTINED])) {
        *failed_stmt = status_stmts[ST_QUARANTINED];
        return false;
    }
    return true;
}

void spool_status_idle(struct spool *s)
{
    int64_t now = clock_mono_us() / 1000;
    if (status_stmts[ST_SEEN] == NULL || now - status_seen_ms < SPOOL_STATUS_IDLE_MS)
        return;
    status_seen_ms = now;
    if (!status_run_named(status_stmts[ST_SEEN]) || mysql_commit(s->conn) != 0) {
        log_warn("spool_status: %s", mysql_stmt_error(status_stmts[ST_SEEN]));
        mysql_rollback(s->conn);
    }
}
