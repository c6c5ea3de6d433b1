/* retention.c - `eye-admin partitions` and `eye-admin retention`.
 *
 * events (by occurred_at) and event_errors (by received_at) leave by whole
 * monthly partitions: a partition goes when everything it can hold is
 * older than the configured retention, that is when its upper bound is at
 * or before now - retention.*_days. DROP PARTITION takes milliseconds
 * whatever the size and leaves no fragmented table behind, where a DELETE
 * of a month would run for hours and hold locks.
 *
 * An events partition goes as `eye-admin archive` takes one
 * (admin/archive.c), with or without the file: swapped with an empty table
 * by EXCHANGE PARTITION and dropped (metadata only, milliseconds), so no
 * event can land in it afterwards; then what it leaves behind is removed in
 * bounded batches, each its own short transaction, so ingest and the spool
 * never wait long: the event_ids rows of its events, by walking the
 * detached table by primary key (event_ids has no time index since
 * migration 014), the detached table, and sessions last seen before the
 * partition's bound that have no event left. A run that stops finishes from
 * the detached table the next time. A session is deleted only while this
 * holds its row lock (SELECT ... FOR UPDATE) and finds no event for it: a
 * spooler storing an event for the session holds the same lock until it
 * commits (and a batch that finds a session it resolved gone is retried,
 * spool/batch.c), so an event can never end up pointing at a deleted
 * session. event_quarantine is small and deleted in batches by
 * quarantined_at.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "admin/archive.h"
#include "admin/prune.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/partition.h"
#include "lib/strparse.h"

/* Formats a partition's upper bound; year and month come from
 * partition_list, which checked their ranges. */
static void retention_format_bound(int year, int month, char out[16])
{
    snprintf(out, 16, "%04d-%02d-01", year % 10000, month % 100);
}

/* Counts the quarantined rows older than cut ('YYYY-MM-DD HH:MM:SS') into
 * *count (left as it is when the server gives no number) and ends the
 * read's transaction. Returns false (logged) on a database error. */
static bool retention_count_quarantine(MYSQL *conn, const char *cut, long long *count)
{
    MYSQL_STMT *stmt = db_prepare(conn, "count_quarantine",
                                  "SELECT COUNT(*) FROM event_quarantine WHERE quarantined_at < ?");
    if (stmt == NULL)
        return false;
    unsigned long cut_len = (unsigned long)strlen(cut);
    long long v = 0;
    my_bool v_null = 0;
    MYSQL_BIND in = {0}, out = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (void *)cut;
    in.buffer_length = cut_len;
    in.length = &cut_len;
    out.buffer_type = MYSQL_TYPE_LONGLONG;
    out.buffer = &v;
    out.is_null = &v_null;
    bool ok = mysql_stmt_bind_param(stmt, &in) == 0 && mysql_stmt_execute(stmt) == 0 &&
              mysql_stmt_bind_result(stmt, &out) == 0 && mysql_stmt_store_result(stmt) == 0;
    if (!ok)
        log_error("count_quarantine: %s", mysql_stmt_error(stmt));
    else if (mysql_stmt_fetch(stmt) == 0 && !v_null && v >= 0)
        *count = v;
    mysql_stmt_close(stmt);
    if (ok)
        mysql_commit(conn);
    return ok;
}

/* What one table's retention would do: the partitions entirely older than
 * cutoff (never the newest bounded one, nor p_future). */
struct retention_plan {
    const char *table;
    int64_t days;
    struct partition_info *parts; /* owned */
    size_t nparts;
    size_t ndrop;        /* parts[0 .. ndrop-1] go */
    char drop_bound[16]; /* upper bound of the last partition that goes */
};

static bool retention_plan_table(MYSQL *conn, const char *table, int64_t days, time_t now,
                                 struct retention_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->table = table;
    p->days = days;
    if (!partition_list(conn, table, &p->parts, &p->nparts))
        return false;
    if (days == 0)
        return true;
    time_t cutoff = now - (time_t)days * 86400;
    struct tm c;
    gmtime_r(&cutoff, &c);
    long cut = (long)(c.tm_year + 1900) * 12 + c.tm_mon; /* month index of the cutoff */
    /* A bound is the first day of a month: bound <= cutoff when the bound's
     * month index is at most the cutoff's (day 1 00:00 is never after it).
     * The bounded partitions come first, p_future last; the newest bounded
     * one always stays, so rows older than every month still have a home. */
    size_t bounded = p->nparts;
    if (bounded > 0 && p->parts[bounded - 1].future)
        bounded--;
    for (size_t i = 0; i + 1 < bounded; i++) {
        const struct partition_info *q = &p->parts[i];
        long bound = (long)q->year * 12 + (q->month - 1);
        if (bound > cut)
            break;
        p->ndrop = i + 1;
        retention_format_bound(q->year, q->month, p->drop_bound);
    }
    return true;
}

static void retention_print_plan(const struct retention_plan *p, bool apply, const char *column)
{
    if (p->days == 0) {
        printf("%s: kept forever (retention.%s_days is 0)\n", p->table,
               strcmp(p->table, "events") == 0 ? "events" : "errors");
        return;
    }
    printf("%s: kept %lld days by %s; %zu of %zu partitions %s\n", p->table, (long long)p->days,
           column, p->ndrop, p->nparts, apply ? "dropped" : "would be dropped");
    for (size_t i = 0; i < p->ndrop; i++)
        printf("  %s %s (before %04d-%02d-01, ~%llu rows, %.1f MiB)\n",
               apply ? "drop" : "would drop", p->parts[i].name, p->parts[i].year, p->parts[i].month,
               (unsigned long long)p->parts[i].rows, (double)p->parts[i].bytes / (1024.0 * 1024.0));
}

int admin_partitions(const struct config *cfg, int argc, char **argv)
{
    bool ensure = false, bad = false;
    int from_year = 0, from_month = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--ensure") == 0) {
            ensure = true;
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            char y[5] = {0}, m[3] = {0};
            if (strlen(v) != 7 || v[4] != '-') {
                bad = true;
                continue;
            }
            memcpy(y, v, 4);
            memcpy(m, v + 5, 2);
            if (!strparse_int(y, 1000, 9998, &from_year) || !strparse_int(m, 1, 12, &from_month))
                bad = true;
        } else {
            bad = true;
        }
    }
    if (bad || admin_wants_help(argc, argv) || (from_year != 0 && !ensure)) {
        FILE *out = admin_wants_help(argc, argv) ? stdout : stderr;
        fprintf(out, "usage: eye-admin partitions [--ensure [--from YYYY-MM]]\n\n"
                     "Lists the monthly partitions of events and event_errors (estimated rows,\n"
                     "size). --ensure first creates the months up to\n"
                     "retention.partitions_ahead_months ahead (eye-spool does it hourly);\n"
                     "--from also gives every month from YYYY-MM on a partition of its own, by\n"
                     "splitting the oldest one (before a backfill of old events).\n");
        return out == stdout ? ADMIN_OK : ADMIN_USAGE;
    }
    /* Splitting the oldest partition copies its rows: the server may be
     * silent for longer than the usual read timeout. */
    struct config long_cfg = *cfg; /* shallow: strings stay cfg's */
    if (from_year != 0)
        long_cfg.database.read_timeout = long_cfg.database.write_timeout = 24 * 3600;
    MYSQL *conn = db_connect(&long_cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    int rc = ADMIN_OK, added = 0;
    if (ensure &&
        !partition_ensure_all(conn, (int)cfg->retention.partitions_ahead_months, 10, &added))
        rc = ADMIN_FAIL;
    for (int t = 0; rc == ADMIN_OK && from_year != 0 && t < PARTITION_NTABLES; t++) {
        int more = 0;
        if (!partition_ensure_from(conn, partition_tables[t], from_year, from_month, 10, &more))
            rc = ADMIN_FAIL;
        added += more;
    }
    printf("%-13s %-9s %-10s %12s %10s\n", "table", "partition", "before", "rows (est.)", "MiB");
    for (int t = 0; t < PARTITION_NTABLES; t++) {
        struct partition_info *parts = NULL;
        size_t n = 0;
        if (!partition_list(conn, partition_tables[t], &parts, &n)) {
            rc = ADMIN_FAIL;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char before[16] = "MAXVALUE";
            if (!parts[i].future)
                retention_format_bound(parts[i].year, parts[i].month, before);
            printf("%-13s %-9s %-10s %12llu %10.1f\n", partition_tables[t], parts[i].name, before,
                   (unsigned long long)parts[i].rows, (double)parts[i].bytes / (1024.0 * 1024.0));
        }
        free(parts);
    }
    if (ensure)
        printf("%d partition(s) created\n", added);
    mysql_close(conn);
    return rc;
}

int admin_retention(const struct config *cfg, int argc, char **argv)
{
    bool apply = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--apply") == 0) {
            apply = true;
        } else {
            FILE *out = admin_wants_help(argc, argv) ? stdout : stderr;
            fprintf(out,
                    "usage: eye-admin retention [--apply]\n\n"
                    "Shows what the configured retention removes: monthly partitions of events\n"
                    "older than retention.events_days (by occurrence time), of event_errors older\n"
                    "than retention.errors_days (by receive time), quarantined rows older than\n"
                    "retention.quarantine_days. --apply removes them, then the event_ids rows\n"
                    "and sessions left without events, in small batches, and creates the\n"
                    "partitions ahead. Run daily (eye-retention.timer).\n");
            return out == stdout ? ADMIN_OK : ADMIN_USAGE;
        }
    }
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    int rc = ADMIN_FAIL;
    time_t now = time(NULL);
    struct retention_plan plans[PARTITION_NTABLES];
    memset(plans, 0, sizeof(plans));
    /* Short transactions, row locks only: READ COMMITTED, as the spool. */
    if (mysql_autocommit(conn, 0) != 0 ||
        !db_exec(conn, "set_isolation", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"))
        goto done;
    const int64_t days[PARTITION_NTABLES] = {cfg->retention.events_days,
                                             cfg->retention.errors_days};
    for (int t = 0; t < PARTITION_NTABLES; t++) {
        if (!retention_plan_table(conn, partition_tables[t], days[t], now, &plans[t]))
            goto done;
        if (plans[t].nparts == 0) {
            fprintf(stderr, "eye-admin retention: %s is not partitioned (run eye-admin migrate)\n",
                    partition_tables[t]);
            goto done;
        }
    }
    mysql_commit(conn);

    char qcut[32] = "";
    long long quarantine = 0;
    if (cfg->retention.quarantine_days > 0) {
        time_t qc = now - (time_t)cfg->retention.quarantine_days * 86400;
        struct tm t;
        gmtime_r(&qc, &t);
        strftime(qcut, sizeof(qcut), "%Y-%m-%d %H:%M:%S", &t);
    }

    long long ids = 0;
    const char *archive_dir =
        *cfg->retention.archive_dir != '\0' ? cfg->retention.archive_dir : NULL;
    for (int t = 0; t < PARTITION_NTABLES; t++) {
        if (apply) {
            /* Oldest first: a failure leaves the oldest data gone, never a
             * gap in the middle. An events partition goes as an archive
             * takes it, with the file when retention.archive_dir is set. */
            for (size_t i = 0; i < plans[t].ndrop; i++) {
                long long rows = 0, forgotten = 0;
                const char *part = plans[t].parts[i].name;
                if (t == 0 ? !archive_partition(conn, part, archive_dir, NULL, &rows, &forgotten)
                           : !partition_drop(conn, plans[t].table, part))
                    goto done;
                ids += forgotten;
            }
        }
        retention_print_plan(&plans[t], apply, partition_columns[t]);
    }

    if (apply && plans[0].ndrop > 0) {
        long long sessions = prune_sessions(conn, plans[0].drop_bound);
        if (sessions < 0)
            goto done;
        printf("event_ids: %lld rows of dropped events deleted\n", ids);
        printf("sessions: %lld without events left deleted\n", sessions);
    }

    if (*qcut != '\0') {
        if (apply) {
            quarantine =
                prune_delete_batched(conn, "prune_quarantine",
                                     "DELETE FROM event_quarantine WHERE quarantined_at < ? "
                                     "ORDER BY quarantined_at LIMIT ?",
                                     qcut);
            if (quarantine < 0)
                goto done;
        } else if (!retention_count_quarantine(conn, qcut, &quarantine)) {
            goto done;
        }
        printf("event_quarantine: kept %lld days; %lld rows %s\n",
               (long long)cfg->retention.quarantine_days, quarantine,
               apply ? "deleted" : "would be deleted");
    } else {
        printf("event_quarantine: kept forever (retention.quarantine_days is 0)\n");
    }

    if (apply) {
        int added = 0;
        if (!partition_ensure_all(conn, (int)cfg->retention.partitions_ahead_months, 10, &added))
            goto done;
        printf("partitions ahead: %d created\n", added);
    }
    rc = ADMIN_OK;

done:
    for (int t = 0; t < PARTITION_NTABLES; t++)
        free(plans[t].parts);
    mysql_close(conn);
    return rc;
}
