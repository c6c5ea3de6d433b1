/* commit.c - the committer thread of one eye.fcgi process (see commit.h).
 *
 * Workers append a commit_req (on their own stack) to a list and wait on
 * its semaphore: a finished group wakes exactly its own workers, not every
 * thread of the process. The committer takes as many waiting requests as fit in one group
 * (ingest.group_commit_max_rows rows, COMMIT_MAX_BYTES of values; a larger
 * request goes alone), copies their row pointers into its group batch,
 * inserts and commits, then marks each request done and wakes the workers.
 * Nothing is copied but pointers: the strings stay in the workers' memory,
 * which is stable while they wait.
 */
#include "autoconfig.h"

#include "fcgi/commit.h"

#include <mysql.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fcgi/dbconn.h"
#include "fcgi/metrics_shm.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"

/* One attempt. *stale is set when the statement failed because the
 * connection had died (nothing of this request was written then). */
static enum queue_result commit_try(struct queue_batch *b, struct dbconn *db, bool *stale)
{
    *stale = false;
    MYSQL_STMT *stmt = dbconn_stmt(db, DBCONN_QUEUE_INSERT);
    if (stmt == NULL)
        return QUEUE_UNAVAILABLE;
    size_t rows = queue_batch_count(b);
    unsigned int err = queue_batch_execute(b, stmt);
    if (err != 0) {
        *stale = db_error_is_connection_lost(err);
        if (!*stale && db->conn != NULL)
            mysql_rollback(db->conn);
        return dbconn_failed(db, err) ? QUEUE_UNAVAILABLE : QUEUE_FAILED;
    }
    if (mysql_commit(db->conn) != 0) {
        log_error("queue_insert commit (%zu rows): %s (error %u)", rows, mysql_error(db->conn),
                  mysql_errno(db->conn));
        /* A commit whose answer was lost may or may not have happened: it is
         * not retried here. The client is told 503 and retries; event_id
         * makes that harmless (the spool stores each event_id once). */
        dbconn_reset(db);
        return QUEUE_UNAVAILABLE;
    }
    return QUEUE_OK;
}

enum queue_result commit_alone(struct queue_batch *b, struct dbconn *db)
{
    if (queue_batch_count(b) == 0)
        return QUEUE_OK;
    bool stale;
    int64_t start_us = clock_mono_us();
    enum queue_result r = commit_try(b, db, &stale);
    /* A connection that died while idle (MariaDB restarted) is noticed only
     * now; the insert did not happen, so one fresh connection may try. */
    if (r == QUEUE_UNAVAILABLE && stale)
        r = commit_try(b, db, &stale);
    metrics_count_commit(queue_batch_count(b), clock_mono_us() - start_us, r == QUEUE_OK);
    return r;
}

/* Values in one group, at most: well below MariaDB's max_allowed_packet
 * (16 MiB by default), which bounds one bulk execution. */
#define COMMIT_MAX_BYTES (4u * 1024 * 1024)

struct commit_req {
    struct queue_batch *batch; /* the worker's */
    size_t bytes;
    enum queue_result result;
    sem_t done; /* posted once result is set */
    struct commit_req *next;
};

struct committer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a request arrived, or stopping */
    struct commit_req *head, **tail;
    bool stopping;
    /* Owned by the committer thread only. */
    struct dbconn db;
    struct queue_batch *group;
    size_t group_cap;
};

/* Inserts and commits the requests of list (linked by next), setting each
 * one's result. */
static void committer_run_group(struct committer *c, struct commit_req *list)
{
    if (list->next == NULL) {
        list->result = commit_alone(list->batch, &c->db);
        return;
    }
    queue_batch_reset(c->group);
    for (struct commit_req *q = list; q != NULL; q = q->next)
        queue_batch_append(c->group, q->batch); /* fits: checked when taken */
    enum queue_result r = commit_alone(c->group, &c->db);
    if (r == QUEUE_FAILED) {
        /* Rolled back: find the request at fault by trying each alone. */
        log_warn("group of %zu rows failed; committing its requests one by one",
                 queue_batch_count(c->group));
        for (struct commit_req *q = list; q != NULL; q = q->next)
            q->result = commit_alone(q->batch, &c->db);
        return;
    }
    for (struct commit_req *q = list; q != NULL; q = q->next)
        q->result = r;
}

/* Detaches from the waiting list the requests that fit in one group (at
 * least the first) and returns them. Called with the lock held. */
static struct commit_req *committer_take(struct committer *c)
{
    struct commit_req *first = c->head, *last = first;
    size_t rows = queue_batch_count(first->batch), bytes = first->bytes;
    while (last->next != NULL) {
        struct commit_req *q = last->next;
        size_t n = queue_batch_count(q->batch);
        if (rows + n > c->group_cap || bytes + q->bytes > COMMIT_MAX_BYTES)
            break;
        rows += n;
        bytes += q->bytes;
        last = q;
    }
    c->head = last->next;
    if (c->head == NULL)
        c->tail = &c->head;
    last->next = NULL;
    return first;
}

static void *committer_main(void *arg)
{
    struct committer *c = arg;
    mysql_thread_init();
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (c->head == NULL && !c->stopping)
            pthread_cond_wait(&c->work, &c->lock);
        if (c->head == NULL)
            break; /* stopping, and nothing left */
        struct commit_req *list = committer_take(c);
        pthread_mutex_unlock(&c->lock);

        committer_run_group(c, list);
        for (struct commit_req *q = list; q != NULL;) {
            struct commit_req *next = q->next; /* q is gone once posted */
            sem_post(&q->done);
            q = next;
        }

        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    dbconn_reset(&c->db);
    mysql_thread_end();
    return NULL;
}

struct committer *committer_start(const struct config *cfg)
{
    /* One worker has no one to share a transaction with (Apache: one
     * thread per process): a committer would only add a thread hop. */
    if (cfg->ingest.group_commit_max_rows == 0 || cfg->ingest.threads < 2)
        return NULL;
    struct committer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        log_error("committer: out of memory");
        return NULL;
    }
    c->tail = &c->head;
    /* A request's rows never need splitting: the group holds at least the
     * largest request (its events plus one request-level error row). */
    c->group_cap = (size_t)cfg->ingest.group_commit_max_rows;
    if (c->group_cap < (size_t)cfg->ingest.max_events_per_request + 1)
        c->group_cap = (size_t)cfg->ingest.max_events_per_request + 1;
    c->group = queue_batch_new(c->group_cap);
    dbconn_init(&c->db, cfg, &cfg->accounts.ingest, false);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->work, NULL);
    if (c->group == NULL || pthread_create(&c->thread, NULL, committer_main, c) != 0) {
        log_error("committer: cannot start");
        pthread_cond_destroy(&c->work);
        pthread_mutex_destroy(&c->lock);
        queue_batch_free(c->group);
        free(c);
        return NULL;
    }
    return c;
}

enum queue_result committer_submit(struct committer *c, struct queue_batch *b)
{
    if (queue_batch_count(b) == 0)
        return QUEUE_OK;
    struct commit_req req = {.batch = b, .bytes = queue_batch_bytes(b)};
    if (sem_init(&req.done, 0, 0) != 0)
        return QUEUE_FAILED;
    pthread_mutex_lock(&c->lock);
    if (c->stopping) {
        pthread_mutex_unlock(&c->lock);
        sem_destroy(&req.done);
        return QUEUE_UNAVAILABLE;
    }
    *c->tail = &req;
    c->tail = &req.next;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->lock);
    while (sem_wait(&req.done) != 0 && errno == EINTR)
        ;
    sem_destroy(&req.done);
    return req.result;
}

void committer_stop(struct committer *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_signal(&c->work);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->work);
    pthread_mutex_destroy(&c->lock);
    queue_batch_free(c->group);
    free(c);
}
