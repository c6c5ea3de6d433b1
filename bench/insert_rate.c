/* insert_rate.c - MariaDB's own durable insert rate for queue-shaped rows.
 *
 * The database baseline of bench/run.sh: how many transactions (and rows)
 * per second MariaDB commits when nothing but the insert runs. Each of
 * --connections threads opens its own connection as the ingest account
 * (lib/db.c, the same session settings as eye.fcgi), prepares the queue's
 * one INSERT (QUEUE_INSERT_SQL) and then, until --seconds have passed,
 * executes it with a queue/batch.c batch of --rows rows (array binding, as
 * eye.fcgi does, also for one row) and commits. The
 * rows look like a page view: ids, times, a session key, a small JSON data.
 *
 * Every row carries rules_version 'bench-insertrate' so the caller can
 * delete them afterwards; nothing else in the queue is touched.
 *
 * Output: one JSON object on stdout:
 *   {"connections":16,"rows_per_txn":1,"seconds":20.0,"txns":N,"rows":N,
 *    "txn_per_s":X,"rows_per_s":X}
 * Usage: insert_rate --config FILE --app-id N [--connections C] [--rows R]
 *                    [--seconds S]
 */
#include "autoconfig.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/config.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/uuid4.h"
#include "queue/batch.h"

#define INSRATE_MAX_ROWS 10000
#define INSRATE_MAX_CONNECTIONS 256
#define INSRATE_TAG "bench-insertrate"

struct insrate_opts {
    const char *config_path;
    long long app_id;
    long connections, rows;
    double seconds;
};

struct insrate_thread {
    int index;
    const struct insrate_opts *opts;
    const struct config *cfg;
    pthread_t tid;
    long long txns;
    bool failed;
};

static atomic_bool insrate_go, insrate_stop;
static atomic_int insrate_ready;

static double insrate_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One thread's rows: queue/batch.c's batch, as eye.fcgi fills it. */
struct insrate_batch {
    struct queue_batch *q;
    char (*event_ids)[UUID4_TEXT_SIZE];
    char (*sessions)[40];
};

static void insrate_batch_free(struct insrate_batch *b)
{
    queue_batch_free(b->q);
    free(b->event_ids);
    free(b->sessions);
    memset(b, 0, sizeof(*b));
}

/* Fills b with rows page-view rows for thread `index`. Returns false when
 * out of memory (b is then freed). */
static bool insrate_batch_init(struct insrate_batch *b, long rows, int index, long long app_id)
{
    static const char category[] = "page interaction", name[] = "pageview";
    static const char data[] = "{\"host\":\"www.consumeraffairs.com\",\"path\":\"/reviews/1\"}";
    const int64_t now_us = INT64_C(1735725600000000); /* 2025-01-01 10:00:00 */
    memset(b, 0, sizeof(*b));
    b->q = queue_batch_new((size_t)rows);
    b->event_ids = calloc((size_t)rows, sizeof(*b->event_ids));
    b->sessions = calloc((size_t)rows, sizeof(*b->sessions));
    if (b->q == NULL || b->event_ids == NULL || b->sessions == NULL) {
        insrate_batch_free(b);
        return false;
    }
    for (long r = 0; r < rows; r++) {
        snprintf(b->sessions[r], sizeof(b->sessions[r]), "bench-%d-%ld", index, r % 50);
        int row = queue_batch_add(b->q);
        queue_set_int(b->q, row, QC_APPLICATION_ID, app_id);
        queue_set_time(b->q, row, QC_RECEIVED_AT, now_us);
        queue_set_time(b->q, row, QC_OCCURRED_AT, now_us);
        queue_set_time(b->q, row, QC_CLIENT_TIMESTAMP, now_us);
        /* Event ids are written before each execution, 36 characters. */
        queue_set_str(b->q, row, QC_EVENT_ID, b->event_ids[r], UUID4_TEXT_SIZE - 1);
        queue_set_str(b->q, row, QC_SESSION_KEY, b->sessions[r], strlen(b->sessions[r]));
        queue_set_str(b->q, row, QC_CATEGORY, category, sizeof(category) - 1);
        queue_set_str(b->q, row, QC_NAME, name, sizeof(name) - 1);
        queue_set_str(b->q, row, QC_RULES_VERSION, INSRATE_TAG, sizeof(INSRATE_TAG) - 1);
        queue_set_str(b->q, row, QC_DATA, data, sizeof(data) - 1);
    }
    return true;
}

static void *insrate_thread_main(void *arg)
{
    struct insrate_thread *t = arg;
    const struct insrate_opts *o = t->opts;
    struct insrate_batch b;
    MYSQL *conn = NULL;
    MYSQL_STMT *stmt = NULL;
    bool have_batch = false;
    unsigned long long seq = 0;

    mysql_thread_init();
    t->failed = true;
    if (!insrate_batch_init(&b, o->rows, t->index, o->app_id)) {
        log_error("thread %d: out of memory", t->index);
        goto done;
    }
    have_batch = true;
    conn = db_connect(t->cfg, &t->cfg->accounts.ingest);
    if (conn == NULL)
        goto done;
    if (mysql_autocommit(conn, 0) != 0) {
        log_error("autocommit off: %s", mysql_error(conn));
        goto done;
    }
    stmt = db_prepare(conn, "queue_insert", QUEUE_INSERT_SQL);
    if (stmt == NULL)
        goto done;
    t->failed = false;
    atomic_fetch_add(&insrate_ready, 1);
    while (!atomic_load(&insrate_go))
        sched_yield();
    while (!atomic_load(&insrate_stop)) {
        for (long r = 0; r < o->rows; r++, seq++)
            snprintf(b.event_ids[r], sizeof(b.event_ids[r]), "%08x-%04x-4000-8000-%012llx",
                     (unsigned)time(NULL), (unsigned)t->index & 0xffffu, seq);
        if (queue_batch_execute(b.q, stmt) != 0) { /* logged */
            t->failed = true;
            break;
        }
        if (mysql_commit(conn) != 0) {
            log_error("commit: %s", mysql_error(conn));
            t->failed = true;
            break;
        }
        t->txns++;
    }

done:
    if (t->failed)
        atomic_fetch_add(&insrate_ready, 1); /* do not keep main waiting */
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    if (conn != NULL)
        mysql_close(conn);
    if (have_batch)
        insrate_batch_free(&b);
    mysql_thread_end();
    return NULL;
}

static void insrate_usage(FILE *out)
{
    fprintf(out, "usage: insert_rate --config FILE --app-id N [--connections C] [--rows R] "
                 "[--seconds S]\n"
                 "Commits R-row transactions into event_queue from C connections for S "
                 "seconds;\nprints the rate as JSON. Rows are tagged rules_version "
                 "'" INSRATE_TAG "'.\n");
}

/* Parses a whole decimal number in [min, max]. */
static bool insrate_parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    struct insrate_opts o = {.connections = 1, .rows = 1, .seconds = 10};
    long app_id = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = v != NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            insrate_usage(stdout);
            return 0;
        } else if (strcmp(a, "--config") == 0 && ok) {
            o.config_path = v;
        } else if (strcmp(a, "--app-id") == 0 && ok) {
            ok = insrate_parse_long(v, 1, 0x7fffffffL, &app_id);
        } else if (strcmp(a, "--connections") == 0 && ok) {
            ok = insrate_parse_long(v, 1, INSRATE_MAX_CONNECTIONS, &o.connections);
        } else if (strcmp(a, "--rows") == 0 && ok) {
            ok = insrate_parse_long(v, 1, INSRATE_MAX_ROWS, &o.rows);
        } else if (strcmp(a, "--seconds") == 0 && ok) {
            char *end = NULL;
            o.seconds = strtod(v, &end);
            ok = end != v && *end == '\0' && o.seconds > 0 && o.seconds < 3600;
        } else {
            ok = false;
        }
        if (!ok) {
            insrate_usage(stderr);
            return 2;
        }
        i++;
    }
    if (o.config_path == NULL || app_id == 0) {
        insrate_usage(stderr);
        return 2;
    }
    o.app_id = app_id;

    log_init("insert_rate", LOG_LEVEL_INFO);
    struct config cfg;
    if (!config_load(&cfg, o.config_path, true))
        return 1;
    if (mysql_library_init(0, NULL, NULL) != 0) {
        log_error("cannot initialise the MariaDB client library");
        config_free(&cfg);
        return 1;
    }
    struct insrate_thread *threads = calloc((size_t)o.connections, sizeof(*threads));
    int rc = 1;
    long started = 0;
    if (threads == NULL)
        goto done;
    for (long i = 0; i < o.connections; i++) {
        threads[i] = (struct insrate_thread){.index = (int)i, .opts = &o, .cfg = &cfg};
        if (pthread_create(&threads[i].tid, NULL, insrate_thread_main, &threads[i]) != 0) {
            log_error("cannot start thread %ld", i);
            atomic_store(&insrate_stop, true);
            break;
        }
        started++;
    }
    while (atomic_load(&insrate_ready) < started)
        sched_yield();
    double t0 = insrate_now();
    atomic_store(&insrate_go, true);
    struct timespec ts = {.tv_sec = (time_t)o.seconds,
                          .tv_nsec = (long)((o.seconds - (double)(time_t)o.seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&insrate_stop, true);
    long long txns = 0;
    bool failed = started < o.connections;
    for (long i = 0; i < started; i++) {
        pthread_join(threads[i].tid, NULL);
        txns += threads[i].txns;
        failed |= threads[i].failed;
    }
    double elapsed = insrate_now() - t0;
    if (failed) {
        log_error("a connection failed: no rate reported");
        goto done;
    }
    printf("{\"connections\":%ld,\"rows_per_txn\":%ld,\"seconds\":%.3f,\"txns\":%lld,"
           "\"rows\":%lld,\"txn_per_s\":%.1f,\"rows_per_s\":%.1f}\n",
           o.connections, o.rows, elapsed, txns, txns * o.rows, (double)txns / elapsed,
           (double)(txns * o.rows) / elapsed);
    rc = 0;

done:
    free(threads);
    mysql_library_end();
    config_free(&cfg);
    return rc;
}
