/* insert_rate.c - MariaDB's own durable insert rate for queue-shaped rows.
 *
 * The database baseline of bench/run.sh: how many transactions (and rows)
 * per second MariaDB commits when nothing but the insert runs. Each of
 * --connections threads opens its own connection as the ingest account
 * (lib/db.c, the same session settings as eye.fcgi), prepares eye.fcgi's
 * INSERT INTO event_queue (the 18 columns of fcgi/dbconn.c) and then, until
 * --seconds have passed, executes it with --rows rows bound column-wise
 * (array binding, as fcgi/queue.c does, also for one row) and commits. The
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

#define INSRATE_NCOLS 18
#define INSRATE_MAX_ROWS 10000
#define INSRATE_MAX_CONNECTIONS 256
#define INSRATE_TAG "bench-insertrate"

/* The statement of fcgi/dbconn.c, column for column. */
static const char insrate_sql[] =
    "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category,"
    " name, occurred_at, client_timestamp, sent_at, clock_skew_us, skew_corrected,"
    " rules_version, data, error_code, error_pointer, error_message, payload,"
    " payload_truncated) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

enum {
    IC_APP, IC_RECEIVED, IC_EVENT_ID, IC_SESSION, IC_CATEGORY, IC_NAME, IC_OCCURRED,
    IC_CLIENT_TS, IC_SENT, IC_SKEW, IC_SKEW_CORRECTED, IC_RULES, IC_DATA, IC_ERR_CODE,
    IC_ERR_POINTER, IC_ERR_MESSAGE, IC_PAYLOAD, IC_PAYLOAD_TRUNCATED
};

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

static bool insrate_col_is_int(int c)
{
    return c == IC_APP || c == IC_SKEW || c == IC_SKEW_CORRECTED || c == IC_PAYLOAD_TRUNCATED;
}

/* The column arrays of one thread's batch. */
struct insrate_batch {
    MYSQL_BIND bind[INSRATE_NCOLS];
    const char **str[INSRATE_NCOLS];
    unsigned long *len[INSRATE_NCOLS];
    long long *num[INSRATE_NCOLS];
    char *ind[INSRATE_NCOLS];
    char (*event_ids)[37];
    char (*sessions)[40];
};

static void insrate_batch_free(struct insrate_batch *b)
{
    for (int c = 0; c < INSRATE_NCOLS; c++) {
        free(b->str[c]);
        free(b->len[c]);
        free(b->num[c]);
        free(b->ind[c]);
    }
    free(b->event_ids);
    free(b->sessions);
    memset(b, 0, sizeof(*b));
}

/* Fills b with rows page-view rows for thread `index`. Returns false when
 * out of memory (b is then freed). */
static bool insrate_batch_init(struct insrate_batch *b, long rows, int index, long long app_id)
{
    static const char now_text[] = "2025-01-01 10:00:00.000000";
    static const char category[] = "page interaction", name[] = "pageview";
    static const char data[] = "{\"host\":\"www.consumeraffairs.com\",\"path\":\"/reviews/1\"}";
    memset(b, 0, sizeof(*b));
    b->event_ids = calloc((size_t)rows, sizeof(*b->event_ids));
    b->sessions = calloc((size_t)rows, sizeof(*b->sessions));
    if (b->event_ids == NULL || b->sessions == NULL)
        goto fail;
    for (int c = 0; c < INSRATE_NCOLS; c++) {
        b->ind[c] = calloc((size_t)rows, 1);
        if (b->ind[c] == NULL)
            goto fail;
        MYSQL_BIND *bd = &b->bind[c];
        bd->u.indicator = b->ind[c];
        if (insrate_col_is_int(c)) {
            b->num[c] = calloc((size_t)rows, sizeof(long long));
            if (b->num[c] == NULL)
                goto fail;
            bd->buffer_type = MYSQL_TYPE_LONGLONG;
            bd->buffer = b->num[c];
        } else {
            b->str[c] = calloc((size_t)rows, sizeof(char *));
            b->len[c] = calloc((size_t)rows, sizeof(unsigned long));
            if (b->str[c] == NULL || b->len[c] == NULL)
                goto fail;
            bd->buffer_type = MYSQL_TYPE_STRING;
            bd->buffer = b->str[c];
            bd->length = b->len[c];
        }
    }
    for (long r = 0; r < rows; r++) {
        snprintf(b->sessions[r], sizeof(b->sessions[r]), "bench-%d-%ld", index, r % 50);
        for (int c = 0; c < INSRATE_NCOLS; c++) {
            const char *s = NULL;
            b->ind[c][r] = STMT_INDICATOR_NONE;
            switch (c) {
            case IC_APP:
                b->num[c][r] = app_id;
                continue;
            case IC_SKEW_CORRECTED:
            case IC_PAYLOAD_TRUNCATED:
                b->num[c][r] = 0;
                continue;
            case IC_RECEIVED:
            case IC_OCCURRED:
            case IC_CLIENT_TS:
                s = now_text;
                break;
            case IC_EVENT_ID:
                s = b->event_ids[r];
                break;
            case IC_SESSION:
                s = b->sessions[r];
                break;
            case IC_CATEGORY:
                s = category;
                break;
            case IC_NAME:
                s = name;
                break;
            case IC_RULES:
                s = INSRATE_TAG;
                break;
            case IC_DATA:
                s = data;
                break;
            default: /* sent_at, skew and the error columns: NULL */
                b->ind[c][r] = STMT_INDICATOR_NULL;
                continue;
            }
            b->str[c][r] = s;
            /* Event ids are written before each execution, 36 characters. */
            b->len[c][r] = c == IC_EVENT_ID ? 36 : (unsigned long)strlen(s);
        }
    }
    return true;

fail:
    insrate_batch_free(b);
    return false;
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
    unsigned int rows = (unsigned int)o->rows;

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
    stmt = db_prepare(conn, "queue_insert", insrate_sql);
    if (stmt == NULL)
        goto done;
    if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &rows) != 0 ||
        mysql_stmt_bind_param(stmt, b.bind) != 0) {
        log_error("queue_insert bind: %s", mysql_stmt_error(stmt));
        goto done;
    }
    t->failed = false;
    atomic_fetch_add(&insrate_ready, 1);
    while (!atomic_load(&insrate_go))
        sched_yield();
    while (!atomic_load(&insrate_stop)) {
        for (long r = 0; r < o->rows; r++, seq++)
            snprintf(b.event_ids[r], sizeof(b.event_ids[r]), "%08x-%04x-4000-8000-%012llx",
                     (unsigned)time(NULL), (unsigned)t->index & 0xffffu, seq);
        if (mysql_stmt_execute(stmt) != 0) {
            log_error("queue_insert (%u rows): %s", rows, mysql_stmt_error(stmt));
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
