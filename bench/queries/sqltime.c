/* sqltime.c - times SQL statements over one MariaDB connection.
 *
 * Reads lines "LABEL<TAB>SQL" from stdin, runs each statement in turn on a
 * single connection (no process start-up or connect per query), reads the
 * whole result (mysql_store_result, as a client that shows the rows would)
 * and prints "LABEL<TAB>MILLISECONDS<TAB>ROWS" per statement on stdout.
 * The time covers sending the statement, executing it and receiving every
 * row. A failing statement is reported on stderr and printed as
 * "LABEL<TAB>ERROR<TAB>0"; the run goes on (a lost connection ends it).
 *
 * Usage: sqltime SOCKET USER DATABASE  (password, if any, in $SQLTIME_PASSWORD)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

#define SQLTIME_MAX_LINE (1 << 20)

static double sqltime_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Runs one statement and reads its result; returns false (logged) on error.
 * Sets *rows to the number of rows returned (0 for a statement without). */
static bool sqltime_run(MYSQL *db, const char *label, const char *sql, unsigned long long *rows)
{
    *rows = 0;
    if (mysql_real_query(db, sql, (unsigned long)strlen(sql)) != 0) {
        fprintf(stderr, "sqltime: %s: %s\n  in: %s\n", label, mysql_error(db), sql);
        return false;
    }
    do {
        MYSQL_RES *res = mysql_store_result(db);
        if (res != NULL) {
            *rows += mysql_num_rows(res);
            mysql_free_result(res);
        } else if (mysql_field_count(db) != 0) {
            fprintf(stderr, "sqltime: %s: reading the result: %s\n", label, mysql_error(db));
            return false;
        }
    } while (mysql_next_result(db) == 0);
    if (mysql_errno(db) != 0) {
        fprintf(stderr, "sqltime: %s: %s\n", label, mysql_error(db));
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sqltime SOCKET USER DATABASE < plan.tsv\n");
        return 2;
    }
    int rc = 1;
    MYSQL *db = NULL;
    char *line = NULL;

    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "sqltime: mysql_library_init failed\n");
        return 1;
    }
    line = malloc(SQLTIME_MAX_LINE);
    db = mysql_init(NULL);
    if (line == NULL || db == NULL) {
        fprintf(stderr, "sqltime: out of memory\n");
        goto fail;
    }
    if (mysql_real_connect(db, NULL, argv[2], getenv("SQLTIME_PASSWORD"), argv[3], 0, argv[1],
                           CLIENT_MULTI_RESULTS) == NULL) {
        fprintf(stderr, "sqltime: connecting to %s as %s: %s\n", argv[1], argv[2],
                mysql_error(db));
        goto fail;
    }
    if (mysql_query(db, "SET time_zone = '+00:00'") != 0) {
        fprintf(stderr, "sqltime: setting the time zone: %s\n", mysql_error(db));
        goto fail;
    }
    while (fgets(line, SQLTIME_MAX_LINE, stdin) != NULL) {
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        char *tab = strchr(line, '\t');
        if (len == 0 || line[0] == '#' || tab == NULL)
            continue;
        *tab = '\0';
        const char *sql = tab + 1;
        unsigned long long rows;
        double t0 = sqltime_now_ms();
        if (!sqltime_run(db, line, sql, &rows)) {
            printf("%s\tERROR\t0\n", line);
            unsigned int err = mysql_errno(db);
            if (err == 2006 || err == 2013) /* CR_SERVER_GONE_ERROR, CR_SERVER_LOST */
                goto fail;
            continue;
        }
        double ms = sqltime_now_ms() - t0;
        printf("%s\t%.3f\t%llu\n", line, ms, rows);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sqltime: writing the timings failed\n");
        goto fail;
    }
    rc = 0;
fail:
    if (db != NULL)
        mysql_close(db);
    free(line);
    mysql_library_end();
    return rc;
}
