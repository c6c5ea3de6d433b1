/* archive.c - `eye-admin archive PARTITION` and `eye-admin restore FILE`.
 *
 * archive takes one monthly partition of events out of the table and into
 * a gzip-compressed NDJSON file, one event per line in the read API's shape
 * (id, event_id, session_id, application, category, name, data, timestamp,
 * received_at) plus what a faithful restore needs (client_timestamp,
 * sent_at, clock_skew_us, skew_corrected, rules_version), and writes the
 * file's SHA-256 beside it (FILE.sha256, the format `sha256sum -c` reads).
 *
 * No event can slip between the file and the drop: the partition is first
 * swapped, under a table lock held for the two metadata-only statements
 * (milliseconds), with an empty table events_detached_pYYYYMM (EXCHANGE
 * PARTITION) and dropped; a late event for that month then lands in the
 * next partition, as after any drop. The file is written from the detached
 * table, which is dropped only once the file and its checksum are on disk.
 * A failed run leaves the detached table, whole until its DROP; running
 * archive again writes the complete file from it again and finishes.
 * Afterwards the event_ids rows and sessions the events leave behind go.
 * `retention --apply` drops a partition the same way, with the file when
 * retention.archive_dir is set, without it otherwise.
 *
 * restore checks the checksum, then queues every event of the file as a
 * valid event_queue row (through queue/batch.c, the one writer of queue
 * rows) with its event_id, times, data and rule-set version; eye-spool
 * stores them like any other, so an event whose application already has
 * that event_id is a duplicate: restoring twice stores once. Events of an
 * application that no longer exists, or of a session that was erased
 * (its keyed hash is in `erasures`), are skipped and counted: a restore does
 * not bring erased data back.
 */
#include "autoconfig.h"

#include <errno.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "admin/admin.h"
#include "admin/archive.h"
#include "admin/erase.h"
#include "admin/prune.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/partition.h"
#include "lib/strparse.h"
#include "queue/batch.h"
#include "validators/timestamp.h"

/* Longest line restore reads: an event's data is at most
 * ingest.max_event_bytes (32 KiB by default, 16 MiB at most) plus the
 * envelope. */
#define ARCHIVE_MAX_LINE (17 * 1024 * 1024)
#define RESTORE_BATCH    500
#define ARCHIVE_PATH_MAX 4096

#define ARCHIVE_DETACHED_PREFIX "events_detached_"

/* Partition and table names cannot be bound, so they go into the SQL text;
 * each function that puts one there checks it first: a monthly partition
 * (pYYYYMM) or the detached table of one (events_detached_pYYYYMM). */
static bool archive_detached_name_ok(const char *name)
{
    size_t n = strlen(ARCHIVE_DETACHED_PREFIX);
    return strncmp(name, ARCHIVE_DETACHED_PREFIX, n) == 0 && partition_name_is_monthly(name + n);
}

/* Logs and returns false unless part (may be NULL) is a monthly partition
 * and table (may be NULL) the name of a detached one. */
static bool archive_names_ok(const char *what, const char *part, const char *table)
{
    if ((part == NULL || partition_name_is_monthly(part)) &&
        (table == NULL || archive_detached_name_ok(table)))
        return true;
    log_error("%s: refusing names %s / %s (not pYYYYMM / " ARCHIVE_DETACHED_PREFIX "pYYYYMM)", what,
              part != NULL ? part : "-", table != NULL ? table : "-");
    return false;
}

/* Runs a statement returning no rows; logs and returns false on failure. */
static bool archive_exec(MYSQL *conn, const char *name, const char *sql)
{
    return db_exec(conn, name, sql);
}

/* Runs a query and returns how many rows it gave, or -1 (logged). */
static long long archive_count(MYSQL *conn, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        log_error("%s: %s", sql, mysql_error(conn));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL) {
        log_error("%s: %s", sql, mysql_error(conn));
        return -1;
    }
    long long n = (long long)mysql_num_rows(res);
    mysql_free_result(res);
    return n;
}

/* 1 when the table exists in the current database, 0 when not, -1 on a
 * database error (logged). */
static int archive_table_exists(MYSQL *conn, const char *table)
{
    MYSQL_STMT *stmt = db_prepare(conn, "find_table",
                                  "SELECT 1 FROM information_schema.TABLES "
                                  "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?");
    if (stmt == NULL)
        return -1;
    unsigned long len = (unsigned long)strlen(table);
    MYSQL_BIND in = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (void *)table;
    in.buffer_length = len;
    in.length = &len;
    int found = -1;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_store_result(stmt) != 0)
        log_error("find %s: %s", table, mysql_stmt_error(stmt));
    else
        found = mysql_stmt_num_rows(stmt) > 0;
    mysql_stmt_close(stmt);
    return found;
}

/* Swaps partition `part` of events with the empty table `detached` and
 * drops the partition, under LOCK TABLES (writers wait milliseconds).
 * In autocommit mode: with autocommit off, LOCK TABLES also takes InnoDB
 * table locks in a transaction of its own, which the ALTERs' internal
 * transactions then wait for until innodb_lock_wait_timeout. A failure
 * before the exchange drops the (empty) detached table again. */
static bool archive_detach(MYSQL *conn, const char *part, const char *detached)
{
    char sql[512];
    bool created = false, exchanged = false;
    if (!archive_names_ok("detach", part, detached))
        return false;
    if (mysql_autocommit(conn, 1) != 0) {
        log_error("autocommit: %s", mysql_error(conn));
        return false;
    }
    snprintf(sql, sizeof(sql), "CREATE TABLE %s LIKE events", detached);
    bool ok = false;
    if (!archive_exec(conn, "create_detached", sql))
        goto out;
    created = true;
    snprintf(sql, sizeof(sql), "ALTER TABLE %s REMOVE PARTITIONING", detached);
    if (!archive_exec(conn, "unpartition_detached", sql))
        goto out;
    snprintf(sql, sizeof(sql), "LOCK TABLES events WRITE, %s WRITE", detached);
    if (!archive_exec(conn, "lock_tables", sql))
        goto out;
    snprintf(sql, sizeof(sql), "ALTER TABLE events EXCHANGE PARTITION %s WITH TABLE %s", part,
             detached);
    if (!archive_exec(conn, "exchange_partition", sql))
        goto unlock;
    snprintf(sql, sizeof(sql), "ALTER TABLE events DROP PARTITION %s", part);
    ok = archive_exec(conn, "drop_partition", sql);
    exchanged = true;
unlock:
    if (!archive_exec(conn, "unlock_tables", "UNLOCK TABLES"))
        ok = false;
out:
    if (created && !exchanged) {
        snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", detached);
        archive_exec(conn, "drop_unused_detached", sql);
    }
    if (mysql_autocommit(conn, 0) != 0)
        ok = false;
    return ok;
}

/* Writes the SHA-256 of path into path.sha256 as "HEX  BASENAME\n". */
static bool archive_sha256_file(const char *path, char hex[65])
{
    bool ok = false;
    unsigned char buf[65536], md[32];
    unsigned int mdlen = 0;
    FILE *fp = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (fp == NULL || ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        log_error("checksum %s: %s", path, fp == NULL ? strerror(errno) : "openssl");
        goto out;
    }
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        if (EVP_DigestUpdate(ctx, buf, n) != 1)
            goto out;
    if (ferror(fp) || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ok = true;
out:
    if (fp != NULL)
        fclose(fp);
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Writes every event of table `from` to path (gzip NDJSON), then
 * path.sha256. *rows receives the number of events. */
static bool archive_write(MYSQL *conn, const char *from, const char *path, long long *rows)
{
    char sql[2048], tmp[ARCHIVE_PATH_MAX + 8];
    *rows = 0;
    if (!archive_names_ok("write archive", NULL, from))
        return false;
    /* category and name from the dimension tables (migration 013), as the
     * read API shows them; LEFT JOINs, so every row of the detached table
     * is written even if its session, application or type is gone. The
     * order is the table's primary key (occurred_at, id): no sort. */
    snprintf(sql, sizeof(sql),
             "SELECT JSON_OBJECT('id', e.id, 'event_id', e.event_id, 'session_id', s.session_key,"
             " 'application', a.name, 'category', c.name, 'name', t.name,"
             " 'data', JSON_EXTRACT(e.data, '$'),"
             " 'timestamp', DATE_FORMAT(e.occurred_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),"
             " 'received_at', DATE_FORMAT(e.received_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),"
             " 'client_timestamp', DATE_FORMAT(e.client_timestamp, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),"
             " 'sent_at', DATE_FORMAT(e.sent_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),"
             " 'clock_skew_us', e.clock_skew_us,"
             " 'skew_corrected', JSON_EXTRACT(IF(e.skew_corrected, 'true', 'false'), '$'),"
             " 'rules_version', e.rules_version) "
             "FROM %s e "
             "LEFT JOIN sessions s ON s.id = e.session_id "
             "LEFT JOIN applications a ON a.id = e.application_id "
             "LEFT JOIN event_categories c ON c.id = e.category_id "
             "LEFT JOIN event_types t ON t.id = e.type_id "
             "ORDER BY e.occurred_at, e.id",
             from);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    gzFile gz = gzopen(tmp, "wb6");
    if (gz == NULL) {
        log_error("cannot write %s: %s", tmp, strerror(errno));
        return false;
    }
    bool ok = false;
    if (mysql_query(conn, sql) != 0) {
        log_error("read %s: %s", from, mysql_error(conn));
        gzclose(gz);
        goto out;
    }
    /* Row by row: a partition does not fit in memory. */
    MYSQL_RES *res = mysql_use_result(conn);
    if (res == NULL) {
        log_error("read %s: %s", from, mysql_error(conn));
        gzclose(gz);
        goto out;
    }
    MYSQL_ROW row;
    bool written = true;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long *len = mysql_fetch_lengths(res);
        if (row[0] == NULL || len == NULL || gzwrite(gz, row[0], (unsigned)len[0]) != (int)len[0] ||
            gzputc(gz, '\n') != '\n') {
            written = false;
            break;
        }
        (*rows)++;
    }
    bool read_ok = mysql_errno(conn) == 0;
    if (!read_ok)
        log_error("read %s: %s", from, mysql_error(conn));
    mysql_free_result(res);
    if (gzclose(gz) != Z_OK || !written) {
        log_error("write %s failed", tmp);
        goto out;
    }
    if (!read_ok)
        goto out;
    if (rename(tmp, path) != 0) {
        log_error("rename %s: %s", tmp, strerror(errno));
        goto out;
    }
    char hex[65], sumpath[ARCHIVE_PATH_MAX + 8];
    if (!archive_sha256_file(path, hex))
        goto out;
    snprintf(sumpath, sizeof(sumpath), "%s.sha256", path);
    FILE *fp = fopen(sumpath, "w");
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    if (fp == NULL || fprintf(fp, "%s  %s\n", hex, base) < 0 || fclose(fp) != 0) {
        log_error("cannot write %s: %s", sumpath, strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (!ok)
        remove(tmp);
    return ok;
}

/* Deletes the event_ids rows of the events of the detached table,
 * PRUNE_BATCH events per transaction, walking it in its primary-key order
 * (occurred_at, id) from the last key done (a keyset: each pick reads one
 * range of the primary key, and each delete finds its rows by the whole
 * key of event_ids). The detached table is left whole, so a run that stops
 * anywhere before its DROP writes the complete file again and walks it
 * again (deleting what is left). Returns the event_ids rows deleted, or -1
 * (logged, rolled back). */
static long long archive_forget_ids(MYSQL *conn, const char *detached)
{
    char sql[512];
    MYSQL_STMT *pick = NULL;
    long long deleted = 0;
    if (!archive_exec(conn, "create_forget",
                      "CREATE TEMPORARY TABLE IF NOT EXISTS archive_forget ("
                      " application_id INT UNSIGNED NOT NULL, event_id UUID NOT NULL,"
                      " occurred_at DATETIME(6) NOT NULL, id BIGINT UNSIGNED NOT NULL,"
                      " PRIMARY KEY USING BTREE (occurred_at, id)) ENGINE=MEMORY"))
        return -1;
    /* The source's name is in the text (it cannot be bound), the last key
     * done and the batch size are parameters. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO archive_forget SELECT application_id, event_id, occurred_at, id "
             "FROM %s WHERE occurred_at > ? OR (occurred_at = ? AND id > ?) "
             "ORDER BY occurred_at, id LIMIT ?",
             detached);
    pick = db_prepare(conn, "pick_forget", sql);
    if (pick == NULL)
        goto fail;
    char last_at[32] = "1000-01-01 00:00:00.000000";
    unsigned long last_at_len = (unsigned long)strlen(last_at);
    long long last_id = 0, limit = PRUNE_BATCH;
    MYSQL_BIND in[4];
    memset(in, 0, sizeof(in));
    for (int i = 0; i < 2; i++) {
        in[i].buffer_type = MYSQL_TYPE_STRING;
        in[i].buffer = last_at;
        in[i].buffer_length = sizeof(last_at);
        in[i].length = &last_at_len;
    }
    in[2].buffer_type = MYSQL_TYPE_LONGLONG;
    in[2].buffer = &last_id;
    in[3].buffer_type = MYSQL_TYPE_LONGLONG;
    in[3].buffer = &limit;
    if (mysql_stmt_bind_param(pick, in) != 0) {
        log_error("pick_forget: %s", mysql_stmt_error(pick));
        goto fail;
    }
    for (;;) {
        if (!archive_exec(conn, "clear_forget", "DELETE FROM archive_forget"))
            goto fail;
        if (mysql_stmt_execute(pick) != 0) {
            log_error("pick_forget: %s", mysql_stmt_error(pick));
            goto fail;
        }
        if (mysql_stmt_affected_rows(pick) == 0)
            break;
        if (!archive_exec(conn, "forget_ids",
                          "DELETE d FROM archive_forget f STRAIGHT_JOIN event_ids d "
                          "ON d.application_id = f.application_id AND d.event_id = f.event_id "
                          "AND d.id = f.id"))
            goto fail;
        deleted += (long long)mysql_affected_rows(conn);
        /* The last key of this batch, where the next one starts. */
        if (mysql_query(conn,
                        "SELECT DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f'), id "
                        "FROM archive_forget ORDER BY occurred_at DESC, id DESC LIMIT 1") != 0) {
            log_error("last_forget: %s", mysql_error(conn));
            goto fail;
        }
        MYSQL_RES *res = mysql_store_result(conn);
        MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
        int64_t id = 0;
        bool got = row != NULL && row[0] != NULL && row[1] != NULL &&
                   strlen(row[0]) < sizeof(last_at) && strparse_int64(row[1], 0, INT64_MAX, &id);
        if (got) {
            snprintf(last_at, sizeof(last_at), "%s", row[0]);
            last_at_len = (unsigned long)strlen(last_at);
            last_id = id;
        }
        mysql_free_result(res);
        if (!got) {
            log_error("last_forget: no last key");
            goto fail;
        }
        if (mysql_commit(conn) != 0)
            goto fail;
    }
    mysql_stmt_close(pick);
    return mysql_commit(conn) == 0 ? deleted : -1;
fail:
    mysql_rollback(conn);
    if (pick != NULL)
        mysql_stmt_close(pick);
    return -1;
}

bool archive_partition(MYSQL *conn, const char *part, const char *dir, const char *out_path,
                       long long *rows, long long *ids)
{
    char detached[64], path[ARCHIVE_PATH_MAX], sql[128];
    if (!partition_name_is_monthly(part)) {
        fprintf(stderr, "eye-admin archive: %s is not a monthly partition (pYYYYMM)\n", part);
        return false;
    }
    snprintf(detached, sizeof(detached), "events_detached_%s", part);
    *rows = 0;
    *ids = 0;
    if (out_path != NULL)
        snprintf(path, sizeof(path), "%s", out_path);
    else if (dir != NULL)
        snprintf(path, sizeof(path), "%s/events-%s.ndjson.gz", dir, part);
    else
        path[0] = '\0'; /* no file: the events are dropped */
    /* Only a month that is over, and that the table has. */
    struct partition_info *parts = NULL;
    size_t n = 0;
    if (!partition_list(conn, "events", &parts, &n))
        return false;
    const struct partition_info *p = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(parts[i].name, part) == 0)
            p = &parts[i];
    time_t now = time(NULL);
    struct tm t;
    gmtime_r(&now, &t);
    bool listed = p != NULL;
    bool over = p != NULL && !p->future &&
                (long)p->year * 12 + p->month - 1 <= (long)(t.tm_year + 1900) * 12 + t.tm_mon;
    free(parts);
    /* The month after the partition's: sessions last seen before it and
     * left without events go. */
    char y4[5] = {0}, m2[3] = {0}, bound[32];
    int year = 0, month = 0;
    memcpy(y4, part + 1, 4);
    memcpy(m2, part + 5, 2);
    if (!strparse_int(y4, 1000, 9998, &year) || !strparse_int(m2, 1, 12, &month)) {
        fprintf(stderr, "eye-admin archive: %s is not a monthly partition (pYYYYMM)\n", part);
        return false;
    }
    snprintf(bound, sizeof(bound), "%04d-%02d-01", month == 12 ? year + 1 : year,
             month == 12 ? 1 : month + 1);

    /* Where an earlier run may have stopped: before the exchange (an
     * empty detached table beside the partition: start again), between
     * exchange and drop (the rows detached, the partition empty: drop it),
     * or after the drop (only the detached table: write the file). */
    int exists = archive_table_exists(conn, detached);
    if (exists < 0)
        return false;
    if (exists && listed) {
        char q[160];
        snprintf(q, sizeof(q), "SELECT 1 FROM %s LIMIT 1", detached);
        long long detached_rows = archive_count(conn, q);
        snprintf(q, sizeof(q), "SELECT 1 FROM events PARTITION (%s) LIMIT 1", part);
        long long part_rows = archive_count(conn, q);
        if (detached_rows < 0 || part_rows < 0)
            return false;
        if (detached_rows == 0) {
            snprintf(q, sizeof(q), "DROP TABLE %s", detached);
            if (!archive_exec(conn, "drop_stale_detached", q))
                return false;
            exists = 0;
        } else if (part_rows == 0) {
            if (!partition_drop(conn, "events", part))
                return false;
        } else {
            fprintf(stderr,
                    "eye-admin archive: both %s and partition %s hold rows; look at them "
                    "before archiving\n",
                    detached, part);
            return false;
        }
    }
    if (!exists) {
        if (!over) {
            fprintf(stderr,
                    "eye-admin archive: events has no partition %s of a month that is over "
                    "(see eye-admin partitions)\n",
                    part);
            return false;
        }
        if (!archive_detach(conn, part, detached))
            return false;
    } else {
        fprintf(stderr, "eye-admin archive: finishing from %s (an earlier run stopped)\n",
                detached);
    }
    mysql_commit(conn);
    if (*path != '\0' && !archive_write(conn, detached, path, rows))
        return false;
    if (!archive_names_ok("forget", NULL, detached))
        return false;
    *ids = archive_forget_ids(conn, detached);
    if (*ids < 0)
        return false;
    /* Without a file (retention), the caller prunes sessions once, after
     * every partition it drops. */
    snprintf(sql, sizeof(sql), "DROP TABLE %s", detached);
    if (!archive_exec(conn, "drop_detached", sql) ||
        (*path != '\0' && prune_sessions(conn, bound) < 0))
        return false;
    if (*path != '\0')
        printf("archived %s: %lld events to %s (sha256 in %s.sha256)\n", part, *rows, path, path);
    return true;
}

int admin_archive(const struct config *cfg, int argc, char **argv)
{
    const char *part = NULL, *out = NULL;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && part == NULL)
            part = argv[i];
        else
            bad = true;
    }
    if (admin_wants_help(argc, argv) || part == NULL || bad) {
        FILE *f = admin_wants_help(argc, argv) ? stdout : stderr;
        fprintf(f, "usage: eye-admin archive PARTITION [--out FILE]\n\n"
                   "Moves the events of monthly partition PARTITION (pYYYYMM, see `eye-admin\n"
                   "partitions`) out of the database into FILE (default\n"
                   "events-PARTITION.ndjson.gz here): gzip NDJSON, one event per line as the read\n"
                   "API shows it, and FILE.sha256. `eye-admin restore FILE` loads it back.\n");
        return f == stdout ? ADMIN_OK : ADMIN_USAGE;
    }
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    long long rows = 0, ids = 0;
    bool ok =
        mysql_autocommit(conn, 0) == 0 &&
        db_exec(conn, "set_isolation", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") &&
        archive_partition(conn, part, ".", out, &rows, &ids);
    mysql_close(conn);
    return ok ? ADMIN_OK : ADMIN_FAIL;
}

/* ---- restore ------------------------------------------------------------ */

/* Checks path against path.sha256. */
static bool restore_check_sum(const char *path)
{
    char sumpath[ARCHIVE_PATH_MAX + 8], want[80] = "", got[65];
    snprintf(sumpath, sizeof(sumpath), "%s.sha256", path);
    FILE *fp = fopen(sumpath, "r");
    if (fp == NULL) {
        fprintf(stderr, "eye-admin restore: cannot read %s: %s\n", sumpath, strerror(errno));
        return false;
    }
    bool read = fgets(want, sizeof(want), fp) != NULL;
    fclose(fp);
    if (!read || strlen(want) < 64 || !archive_sha256_file(path, got) ||
        strncmp(want, got, 64) != 0) {
        fprintf(stderr, "eye-admin restore: %s does not match its checksum in %s\n", path, sumpath);
        return false;
    }
    return true;
}

struct restore_app {
    char name[101];
    unsigned int id; /* 0: no such application */
};

struct restore_state {
    MYSQL *conn;
    MYSQL_STMT *ins, *find_app, *erased;
    struct queue_batch *batch;
    struct restore_app apps[64];
    size_t napps;
    /* Strings of the rows in the batch, owned until it is executed. */
    struct json_object *held[RESTORE_BATCH];
    size_t nheld;
    long long queued, no_app, erased_n;
};

static bool restore_flush(struct restore_state *st)
{
    if (queue_batch_count(st->batch) > 0) {
        if (queue_batch_execute(st->batch, st->ins) != 0 || mysql_commit(st->conn) != 0) {
            mysql_rollback(st->conn);
            return false;
        }
        st->queued += (long long)queue_batch_count(st->batch);
    }
    queue_batch_reset(st->batch);
    for (size_t i = 0; i < st->nheld; i++)
        json_object_put(st->held[i]);
    st->nheld = 0;
    return true;
}

/* The application's id by name (cached); 0 when there is none. */
static bool restore_app_id(struct restore_state *st, const char *name, unsigned int *id)
{
    for (size_t i = 0; i < st->napps; i++)
        if (strcmp(st->apps[i].name, name) == 0) {
            *id = st->apps[i].id;
            return true;
        }
    MYSQL_BIND in = {0}, out = {0};
    unsigned long len = (unsigned long)strlen(name);
    *id = 0;
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (void *)name;
    in.length = &len;
    out.buffer_type = MYSQL_TYPE_LONG;
    out.is_unsigned = true;
    out.buffer = id;
    int r = -1;
    if (mysql_stmt_bind_param(st->find_app, &in) == 0 && mysql_stmt_execute(st->find_app) == 0 &&
        mysql_stmt_bind_result(st->find_app, &out) == 0 &&
        mysql_stmt_store_result(st->find_app) == 0)
        r = mysql_stmt_fetch(st->find_app);
    mysql_stmt_free_result(st->find_app);
    if (r != 0 && r != MYSQL_NO_DATA) {
        log_error("find_application: %s", mysql_stmt_error(st->find_app));
        return false;
    }
    if (r == MYSQL_NO_DATA)
        *id = 0;
    if (st->napps < sizeof(st->apps) / sizeof(st->apps[0]) && strlen(name) < 101) {
        snprintf(st->apps[st->napps].name, sizeof(st->apps[0].name), "%s", name);
        st->apps[st->napps++].id = *id;
    }
    return true;
}

/* Whether session `key` was erased (its keyed hash is in erasures). */
static bool restore_erased(struct restore_state *st, const char *key, bool *erased)
{
    unsigned char hash[32];
    *erased = false;
    if (!erase_subject_hash(st->conn, "session", key, hash))
        return false;
    MYSQL_BIND in = {0};
    unsigned long len = 32;
    in.buffer_type = MYSQL_TYPE_BLOB;
    in.buffer = hash;
    in.length = &len;
    if (mysql_stmt_bind_param(st->erased, &in) != 0 || mysql_stmt_execute(st->erased) != 0 ||
        mysql_stmt_store_result(st->erased) != 0) {
        log_error("find_erasure: %s", mysql_stmt_error(st->erased));
        return false;
    }
    *erased = mysql_stmt_num_rows(st->erased) > 0;
    mysql_stmt_free_result(st->erased);
    return true;
}

static const char *restore_str(struct json_object *o, const char *key, size_t *len)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

static bool restore_time(struct json_object *o, const char *key, bool optional, int64_t *us,
                         bool *present)
{
    size_t len = 0;
    const char *s = restore_str(o, key, &len);
    *present = s != NULL;
    if (s == NULL)
        return optional;
    return timestamp_parse_rfc3339(s, len, us);
}

/* Queues one archived event (takes ownership of ev). Returns false on a
 * malformed event or a database error. */
static bool restore_event(struct restore_state *st, struct json_object *ev, long line)
{
    size_t l_id = 0, l_sess = 0, l_app = 0, l_cat = 0, l_name = 0, l_rv = 0;
    const char *event_id = restore_str(ev, "event_id", &l_id);
    const char *session = restore_str(ev, "session_id", &l_sess);
    const char *app = restore_str(ev, "application", &l_app);
    const char *cat = restore_str(ev, "category", &l_cat);
    const char *name = restore_str(ev, "name", &l_name);
    const char *rv = restore_str(ev, "rules_version", &l_rv);
    struct json_object *data = NULL, *skew = NULL, *corrected = NULL;
    int64_t occurred = 0, received = 0, client = 0, sent = 0;
    bool has_o, has_r, has_c, has_s;
    json_object_object_get_ex(ev, "data", &data);
    json_object_object_get_ex(ev, "clock_skew_us", &skew);
    json_object_object_get_ex(ev, "skew_corrected", &corrected);
    if (event_id == NULL || session == NULL || app == NULL || cat == NULL || name == NULL ||
        rv == NULL || data == NULL || !json_object_is_type(data, json_type_object) ||
        !restore_time(ev, "timestamp", false, &occurred, &has_o) ||
        !restore_time(ev, "received_at", false, &received, &has_r) ||
        !restore_time(ev, "client_timestamp", true, &client, &has_c) ||
        !restore_time(ev, "sent_at", true, &sent, &has_s)) {
        fprintf(stderr, "eye-admin restore: line %ld is not an archived event\n", line);
        json_object_put(ev);
        return false;
    }
    unsigned int app_id = 0;
    bool erased = false;
    if (!restore_app_id(st, app, &app_id) ||
        (app_id != 0 && !restore_erased(st, session, &erased))) {
        json_object_put(ev);
        return false;
    }
    if (app_id == 0 || erased) {
        if (app_id == 0)
            st->no_app++;
        else
            st->erased_n++;
        json_object_put(ev);
        return true;
    }
    int row = queue_batch_add(st->batch);
    if (row < 0) {
        json_object_put(ev);
        return false;
    }
    st->held[st->nheld++] = ev;
    size_t l_data = 0;
    const char *text = json_object_to_json_string_length(
        data, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &l_data);
    queue_set_int(st->batch, row, QC_APPLICATION_ID, app_id);
    queue_set_time(st->batch, row, QC_RECEIVED_AT, received);
    queue_set_str(st->batch, row, QC_EVENT_ID, event_id, l_id);
    queue_set_str(st->batch, row, QC_SESSION_KEY, session, l_sess);
    queue_set_str(st->batch, row, QC_CATEGORY, cat, l_cat);
    queue_set_str(st->batch, row, QC_NAME, name, l_name);
    queue_set_time(st->batch, row, QC_OCCURRED_AT, occurred);
    queue_set_time(st->batch, row, QC_CLIENT_TIMESTAMP, has_c ? client : occurred);
    if (has_s)
        queue_set_time(st->batch, row, QC_SENT_AT, sent);
    if (skew != NULL && json_object_is_type(skew, json_type_int))
        queue_set_int(st->batch, row, QC_CLOCK_SKEW_US, (long long)json_object_get_int64(skew));
    queue_set_int(st->batch, row, QC_SKEW_CORRECTED,
                  corrected != NULL && json_object_get_boolean(corrected) ? 1 : 0);
    queue_set_str(st->batch, row, QC_RULES_VERSION, rv, l_rv);
    queue_set_str(st->batch, row, QC_DATA, text, l_data);
    queue_set_int(st->batch, row, QC_PAYLOAD_TRUNCATED, 0);
    if (st->nheld == RESTORE_BATCH)
        return restore_flush(st);
    return true;
}

int admin_restore(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv) || argc != 2) {
        FILE *f = admin_wants_help(argc, argv) ? stdout : stderr;
        fprintf(f, "usage: eye-admin restore FILE\n\n"
                   "Checks FILE against FILE.sha256, then queues its events (written by\n"
                   "`eye-admin archive`) for eye-spool, which stores each event_id once per\n"
                   "application: restoring twice stores once. Events of an application that no\n"
                   "longer exists or of an erased session are skipped.\n");
        return f == stdout ? ADMIN_OK : ADMIN_USAGE;
    }
    const char *path = argv[1];
    if (!restore_check_sum(path))
        return ADMIN_FAIL;
    int rc = ADMIN_FAIL;
    struct restore_state st;
    memset(&st, 0, sizeof(st));
    char *line = NULL;
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL) {
        fprintf(stderr, "eye-admin restore: cannot read %s: %s\n", path, strerror(errno));
        return ADMIN_FAIL;
    }
    line = malloc(ARCHIVE_MAX_LINE);
    st.conn = db_connect(cfg, &cfg->accounts.admin);
    st.batch = queue_batch_new(RESTORE_BATCH);
    if (line == NULL || st.conn == NULL || st.batch == NULL || mysql_autocommit(st.conn, 0) != 0)
        goto done;
    st.ins = db_prepare(st.conn, "queue_insert", QUEUE_INSERT_SQL);
    st.find_app =
        db_prepare(st.conn, "find_application", "SELECT id FROM applications WHERE name = ?");
    st.erased = db_prepare(st.conn, "find_erasure",
                           "SELECT 1 FROM erasures WHERE kind = 'session' AND subject_hash = ?");
    if (st.ins == NULL || st.find_app == NULL || st.erased == NULL)
        goto done;
    long n = 0;
    while (gzgets(gz, line, ARCHIVE_MAX_LINE) != NULL) {
        n++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] != '\n' && !gzeof(gz)) {
            fprintf(stderr, "eye-admin restore: line %ld is longer than %d bytes\n", n,
                    ARCHIVE_MAX_LINE);
            goto done;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        struct json_object *ev = json_tokener_parse(line);
        if (ev == NULL || !json_object_is_type(ev, json_type_object)) {
            fprintf(stderr, "eye-admin restore: line %ld is not JSON\n", n);
            json_object_put(ev);
            goto done;
        }
        if (!restore_event(&st, ev, n))
            goto done;
    }
    int zerr = 0;
    gzerror(gz, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END) {
        fprintf(stderr, "eye-admin restore: %s: %s\n", path, gzerror(gz, &zerr));
        goto done;
    }
    if (!restore_flush(&st))
        goto done;
    printf("restored %s: %ld lines, %lld events queued, %lld skipped (no such application), "
           "%lld skipped (erased session); eye-spool stores them once per event_id\n",
           path, n, st.queued, st.no_app, st.erased_n);
    rc = ADMIN_OK;
done:
    if (rc != ADMIN_OK)
        fprintf(stderr, "eye-admin restore: stopped; what was queued stays queued (restoring "
                        "again is harmless)\n");
    for (size_t i = 0; i < st.nheld; i++)
        json_object_put(st.held[i]);
    if (st.ins != NULL)
        mysql_stmt_close(st.ins);
    if (st.find_app != NULL)
        mysql_stmt_close(st.find_app);
    if (st.erased != NULL)
        mysql_stmt_close(st.erased);
    if (st.conn != NULL)
        mysql_close(st.conn);
    queue_batch_free(st.batch);
    free(line);
    gzclose(gz);
    return rc;
}
