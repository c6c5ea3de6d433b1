/* queue_watch.c - background reading of queue_status (see queue_watch.h).
 *
 * The watcher thread also runs the process's failback checks (lib/db.h
 * db_failback): it wakes every second whatever the traffic, and a probe
 * that waits for a dead server delays no request.
 */
#include "autoconfig.h"

#include "fcgi/queue_watch.h"

#include <mysql.h>
#include <pthread.h>
#include <time.h>

#include "fcgi/request.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define QUEUE_WATCH_INTERVAL_MS 1000

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_wake = PTHREAD_COND_INITIALIZER;
static struct queue_status watch_status;
static bool watch_stopping, watch_started;
static pthread_t watch_thread;
static const struct config *watch_cfg;
static uint64_t watch_generation; /* of the writer when the watcher's conn was opened */

/* Reads the view once. Returns false (and closes *conn) on failure. */
static bool queue_watch_read(MYSQL **conn, struct queue_status *st)
{
    if (*conn != NULL && watch_generation != endpoint_generation(ENDPOINT_WRITER)) {
        mysql_close(*conn); /* the process moved to another writer */
        *conn = NULL;
    }
    if (*conn == NULL) {
        *conn = db_connect_role(watch_cfg, &watch_cfg->accounts.ingest, ENDPOINT_WRITER,
                                &watch_generation);
        if (*conn == NULL)
            return false;
    }
    /* A fixed statement without parameters: nothing to bind. */
    const char *sql = "SELECT depth, COALESCE(TIMESTAMPDIFF(MICROSECOND, oldest_received_at, "
                      "NOW(6)), 0) FROM queue_status";
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    if (mysql_query(*conn, sql) != 0 || (res = mysql_store_result(*conn)) == NULL ||
        (row = mysql_fetch_row(res)) == NULL || row[0] == NULL || row[1] == NULL ||
        !strparse_int64(row[0], 0, INT64_MAX, &st->depth) ||
        !strparse_int64(row[1], INT64_MIN, INT64_MAX, &st->oldest_age_us)) {
        log_warn("queue_status: %s", mysql_error(*conn));
        if (res != NULL)
            mysql_free_result(res);
        mysql_close(*conn);
        *conn = NULL;
        return false;
    }
    mysql_free_result(res);
    return true;
}

static void *queue_watch_main(void *arg)
{
    (void)arg;
    MYSQL *conn = NULL;
    mysql_thread_init();
    pthread_mutex_lock(&watch_lock);
    while (!watch_stopping) {
        pthread_mutex_unlock(&watch_lock);
        /* This thread is also the one that brings the process back to a
         * preferred endpoint once it is usable again (rate-limited inside). */
        db_failback(watch_cfg, &watch_cfg->accounts.ingest, ENDPOINT_WRITER);
        db_failback(watch_cfg, &watch_cfg->accounts.analyst, ENDPOINT_READER);
        struct queue_status st = {0};
        bool ok = queue_watch_read(&conn, &st);
        pthread_mutex_lock(&watch_lock);
        watch_status.db_up = ok;
        if (ok) {
            watch_status.known = true;
            watch_status.depth = st.depth;
            watch_status.oldest_age_us = st.oldest_age_us;
            watch_status.read_at_us = clock_real_us();
        }
        struct timespec until = clock_real_after_ms(QUEUE_WATCH_INTERVAL_MS);
        if (!watch_stopping)
            pthread_cond_timedwait(&watch_wake, &watch_lock, &until);
    }
    pthread_mutex_unlock(&watch_lock);
    if (conn != NULL)
        mysql_close(conn);
    mysql_thread_end();
    return NULL;
}

bool queue_watch_start(const struct config *cfg)
{
    watch_cfg = cfg;
    watch_stopping = false;
    if (pthread_create(&watch_thread, NULL, queue_watch_main, NULL) != 0)
        return false;
    watch_started = true;
    return true;
}

void queue_watch_stop(void)
{
    if (!watch_started)
        return;
    pthread_mutex_lock(&watch_lock);
    watch_stopping = true;
    pthread_cond_signal(&watch_wake);
    pthread_mutex_unlock(&watch_lock);
    pthread_join(watch_thread, NULL);
    watch_started = false;
}

void queue_watch_get(struct queue_status *out)
{
    pthread_mutex_lock(&watch_lock);
    *out = watch_status;
    pthread_mutex_unlock(&watch_lock);
}

bool queue_watch_over_limit(const struct config *cfg)
{
    struct queue_status st;
    queue_watch_get(&st);
    if (!st.known)
        return false;
    if (cfg->ingest.queue_max_rows > 0 && st.depth > cfg->ingest.queue_max_rows)
        return true;
    return cfg->ingest.queue_max_age_seconds > 0 &&
           st.oldest_age_us > cfg->ingest.queue_max_age_seconds * 1000000LL;
}
