/* partition.h - the monthly partitions of events and event_errors.
 *
 * Both tables are partitioned by RANGE COLUMNS on a time column (events by
 * occurred_at, event_errors by received_at; migrations/009_partitions.sql).
 * Partition pYYYYMM holds the month YYYY-MM; the oldest one also holds
 * everything before it; p_future (VALUES LESS THAN MAXVALUE) holds whatever
 * comes after the last month, so no row is ever refused for want of a
 * partition. partition_ensure_all splits p_future to keep months ready
 * ahead; eye-spool calls it (hourly) and so does `eye-admin partitions`.
 */
#ifndef EYE_PARTITION_H
#define EYE_PARTITION_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The partitioned tables and their time columns. */
#define PARTITION_NTABLES 2
extern const char *const partition_tables[PARTITION_NTABLES];
extern const char *const partition_columns[PARTITION_NTABLES];

/* One partition as information_schema describes it. */
struct partition_info {
    char name[65];
    bool future;     /* p_future: no upper bound */
    int year, month; /* of the upper bound (first day of that month) */
    uint64_t rows;   /* InnoDB's estimate */
    uint64_t bytes;  /* data + indexes */
};

/* Reads the partitions of table (one of partition_tables) in order into a
 * new array (*out, caller frees with free()) of *count entries. A table
 * that is not partitioned gives *count 0. Returns false (logged) on a
 * database error. */
bool partition_list(MYSQL *conn, const char *table, struct partition_info **out, size_t *count);

/* Makes sure table has a partition of its own for every month from
 * from_year-from_month on, by splitting the oldest partition (which holds
 * everything before its bound): for backfills and bulk loads of old data,
 * before the load. Splitting copies the oldest partition's rows, so run it
 * while that partition is small. Same lock and wait as partition_ensure;
 * *added receives the number of partitions created. Returns false (logged)
 * on failure. */
bool partition_ensure_from(MYSQL *conn, const char *table, int from_year, int from_month,
                           int lock_wait_s, int *added);

/* True when name is a monthly partition's, p followed by six digits
 * (pYYYYMM): the only partition names put into SQL text (never p_future). */
bool partition_name_is_monthly(const char *name);

/* Drops one partition by name (never p_future). Returns false (logged) on
 * failure. */
bool partition_drop(MYSQL *conn, const char *table, const char *name);

/* Makes sure events and event_errors have a partition for every month up
 * to and including the month `months_ahead` after the current one (UTC),
 * by splitting p_future (rows already in it move to their month), through
 * the procedure eye_partitions_ahead (migration 009), which the caller's
 * account needs EXECUTE on. Concurrent callers split once (named lock
 * eye_partitions); the tables' metadata locks are waited for at most
 * lock_wait_s, so a busy table is left for the next call rather than
 * stalling writers behind the ALTER. *added receives the number of
 * partitions created. Returns false (logged) on failure; the tables are
 * then as they were (one split is one statement). */
bool partition_ensure_all(MYSQL *conn, int months_ahead, int lock_wait_s, int *added);

#endif
