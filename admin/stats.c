/* stats.c - `eye-admin stats`: is The Eye keeping up, and what goes wrong.
 *
 * Every figure comes from an index or a counter table, so this stays cheap
 * on a large database: queue depth and age from the queue's primary key,
 * recent events from the rollups, recent errors from ix_event_errors_stored,
 * errors by code from the received_at index, duplicates and quarantined
 * rows from spool_counters.
 *
 * Recent events are the 'accepted' counts of event_counts_minute (migration
 * 008), a range of its primary key: events has no index by stored_at since
 * migration 013, and a COUNT over it by stored_at would read the whole
 * table. The spool adds to those counts in the transaction that stores the
 * events, so they are exact, but by minute of *receipt*: "the last minute"
 * is this minute and the one before (60 to 120 s of receipt), "the last
 * hour" this minute and the 60 before; an event received earlier and
 * stored only now (a queue that was behind) is counted in the minute it
 * was received, restored events in the minute they were first received,
 * and the counts of an erased application are gone with it.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/db.h"
#include "lib/log.h"

/* Runs a query without parameters and prints its rows as "label: v1 v2".
 * No user input reaches these statements. */
static bool stats_print(MYSQL *conn, const char *name, const char *sql, const char *label)
{
    if (mysql_query(conn, sql) != 0) {
        log_error("%s: %s", name, mysql_error(conn));
        return false;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL) {
        log_error("%s: %s", name, mysql_error(conn));
        return false;
    }
    unsigned int n = mysql_num_fields(res);
    MYSQL_ROW row;
    bool any = false;
    while ((row = mysql_fetch_row(res)) != NULL) {
        any = true;
        printf("%s", label);
        for (unsigned int i = 0; i < n; i++)
            printf("%s%s", i ? "  " : " ", row[i] ? row[i] : "-");
        printf("\n");
    }
    if (!any && label[0] == ' ')
        printf("%s (none)\n", label);
    mysql_free_result(res);
    return true;
}

int admin_stats(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv) || argc > 1) {
        fprintf(argc > 1 && !admin_wants_help(argc, argv) ? stderr : stdout,
                "usage: eye-admin stats\n\nQueue depth and age; events stored, by minute of "
                "receipt, of the last\nminute and hour (whole minutes: this one and the one, or "
                "60, before);\nerrors stored in the last minute and hour; errors by code over "
                "the last\n24 hours; duplicates skipped; quarantined rows.\n");
        return admin_wants_help(argc, argv) ? ADMIN_OK : ADMIN_USAGE;
    }
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    bool ok =
        stats_print(conn, "queue",
                    "SELECT COUNT(*), COALESCE(ROUND(TIMESTAMPDIFF(MICROSECOND, MIN(received_at), "
                    "NOW(6)) / 1e6, 3), 0) FROM event_queue",
                    "queue (rows, oldest age s):") &&
        stats_print(conn, "events_recent",
                    "SELECT COALESCE(SUM(IF(minute >= DATE_FORMAT(NOW() - INTERVAL 1 MINUTE, "
                    "'%Y-%m-%d %H:%i:00'), n, 0)), 0), COALESCE(SUM(n), 0) "
                    "FROM event_counts_minute WHERE outcome = 'accepted' "
                    "AND minute >= DATE_FORMAT(NOW() - INTERVAL 1 HOUR, '%Y-%m-%d %H:%i:00')",
                    "events stored, by minute of receipt (last minute, last hour):") &&
        stats_print(conn, "errors_recent",
                    "SELECT (SELECT COUNT(*) FROM event_errors WHERE stored_at >= NOW(6) - "
                    "INTERVAL 1 MINUTE), (SELECT COUNT(*) FROM event_errors WHERE stored_at >= "
                    "NOW(6) - INTERVAL 1 HOUR)",
                    "errors stored (last minute, last hour):") &&
        stats_print(conn, "counters",
                    "SELECT (SELECT value FROM spool_counters WHERE name = 'duplicates'), "
                    "(SELECT value FROM spool_counters WHERE name = 'quarantined'), "
                    "(SELECT COUNT(*) FROM event_quarantine)",
                    "duplicates skipped, quarantined (counted, in table):");
    if (ok) {
        printf("errors by code, last 24 hours:\n");
        ok = stats_print(conn, "errors_by_code",
                         "SELECT code, COUNT(*) FROM event_errors "
                         "WHERE received_at >= NOW(6) - INTERVAL 1 DAY "
                         "GROUP BY code ORDER BY COUNT(*) DESC, code",
                         " ");
    }
    mysql_close(conn);
    return ok ? ADMIN_OK : ADMIN_FAIL;
}
