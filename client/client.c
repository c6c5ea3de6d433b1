/* client.c - libeyeclient's client: the bounded queue, the sender thread,
 * flush and free (the API is in eye_client.h).
 *
 * One mutex guards the queue and the counters; three condition variables
 * wake who waits: `work` the sender (an event to time, a full batch, a
 * flush, the end), `room` producers blocked on a full queue, `settled`
 * flushers. Events carry a sequence number given at tracking; the sender
 * answers for them strictly in that order, so "everything up to seq N is
 * settled" is one number, and a flush waits for it to pass its own N.
 *
 * The sender holds the lock only to take a batch off the queue and to
 * count; encoding, HTTP and callbacks run without it, so eye_client_track
 * never waits for the network. Every wait is on CLOCK_MONOTONIC.
 */
#include "autoconfig.h"

#include "client/eye_client.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/http.h"
#include "client/plan.h"
#include "client/retry.h"
#include "client/wire.h"

struct eye_client {
    struct eye_client_options opts;
    pthread_mutex_t lock;
    pthread_cond_t work;
    pthread_cond_t room;
    pthread_cond_t settled;
    pthread_t sender;

    /* Under lock. */
    struct eyec_event *head, *tail;
    size_t queued_events;
    size_t queued_bytes;  /* wire bytes of the queued events */
    size_t inflight;      /* events of the batch being sent */
    uint64_t last_seq;    /* seq of the newest event tracked */
    uint64_t settled_seq; /* every event up to this seq is answered or dropped */
    uint64_t flush_seq;   /* events up to this seq are to be sent now */
    bool closing;
    struct eye_client_stats stats; /* pending is computed when read */

    /* Monotonic µs after which nothing is sent (0: none yet). Set once by
     * eye_client_free; read without the lock by the HTTP progress check. */
    _Atomic int64_t deadline_us;

    /* The sender thread's own. */
    struct eyec_http http;
    struct eyec_buf body;
    struct eyec_buf gz;
    struct eyec_event **batch; /* opts.batch_max_events entries */
};

/* Limits of the options (eye_client_new refuses values outside). */
#define CLIENT_MAX_BATCH_EVENTS 100000
#define CLIENT_MIN_BYTES        1024
/* A smaller first backoff would retry a server that is down in a tight loop. */
#define CLIENT_MIN_BACKOFF_MS 10

static pthread_once_t client_curl_once = PTHREAD_ONCE_INIT;
static bool client_curl_ready;

static void client_curl_init(void)
{
    client_curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static void client_log(eye_client *c, enum eye_client_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void client_log(eye_client *c, enum eye_client_log_level level, const char *fmt, ...)
{
    if (c->opts.on_log == NULL)
        return;
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    c->opts.on_log(level, message, c->opts.user);
}

/* Waits on cond until the monotonic time until_us (0: without limit).
 * Returns false when that time has come. The caller holds c->lock. */
static bool client_wait(eye_client *c, pthread_cond_t *cond, int64_t until_us)
{
    if (until_us == 0) {
        pthread_cond_wait(cond, &c->lock);
        return true;
    }
    if (eyec_now_us() >= until_us)
        return false;
    struct timespec ts = {.tv_sec = (time_t)(until_us / 1000000),
                          .tv_nsec = (long)(until_us % 1000000) * 1000};
    pthread_cond_timedwait(cond, &c->lock, &ts);
    return eyec_now_us() < until_us;
}

static uint64_t client_random(void)
{
    uint64_t r;
    if (RAND_bytes((unsigned char *)&r, (int)sizeof(r)) != 1)
        r = (uint64_t)eyec_now_us() * UINT64_C(0x9E3779B97F4A7C15);
    return r;
}

void eye_client_options_init(struct eye_client_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->batch_max_events = 100;
    opts->batch_max_bytes = 512 * 1024;
    opts->flush_interval_ms = 1000;
    opts->queue_max_events = 10000;
    opts->queue_max_bytes = 16 * 1024 * 1024;
    opts->on_full = EYE_CLIENT_DROP_NEWEST;
    opts->block_timeout_ms = 1000;
    opts->connect_timeout_ms = 5000;
    opts->request_timeout_ms = 30000;
    opts->retry_base_ms = 200;
    opts->retry_max_ms = 30000;
    opts->server_error_attempts = 3;
    opts->gzip = 1;
}

/* ---- what the sender does with one batch -------------------------------- */

struct client_report {
    eye_client *c;
    struct eyec_event *const *ev;
    long status;
};

static void client_report_one(size_t index, const char *code, const char *pointer,
                              const char *message, void *arg)
{
    const struct client_report *r = arg;
    if (r->c->opts.on_reject == NULL)
        return;
    struct eye_client_rejection rej = {
        .event_id = r->ev[index]->id,
        .event = r->ev[index]->line,
        .http_status = (int)r->status,
        .code = code,
        .pointer = pointer,
        .message = message,
    };
    r->c->opts.on_reject(&rej, r->c->opts.user);
}

/* Counts n events into one of the counters. */
static void client_count(eye_client *c, uint64_t *counter, size_t n)
{
    pthread_mutex_lock(&c->lock);
    *counter += n;
    pthread_mutex_unlock(&c->lock);
}

/* Every event of ev[0..n) refused by the request's answer res. as_code
 * NULL: each is reported with the answer's code; else with as_code, and a
 * message naming the answer's status and code, `times` times, before the
 * server's message. */
static void client_reject_all(eye_client *c, struct eyec_event *const *ev, size_t n,
                              const struct eyec_http_result *res, const char *as_code,
                              unsigned times)
{
    char code[64], pointer[256], message[256], told[384];
    if (!eyec_response_error(res->body, res->body_len, code, sizeof(code), pointer, sizeof(pointer),
                             message, sizeof(message)))
        snprintf(code, sizeof(code), "http_%ld", res->status);
    const char *report_code = code, *report_message = message;
    if (as_code != NULL) {
        snprintf(told, sizeof(told), "HTTP %ld %s %u times%s%s", res->status, code, times,
                 *message != '\0' ? ": " : "", message);
        report_code = as_code;
        report_message = told;
        client_log(c, EYE_CLIENT_LOG_ERROR, "event %s rejected as %s: %s", ev[0]->id, as_code,
                   told);
    } else {
        client_log(c, EYE_CLIENT_LOG_ERROR, "%zu events rejected: HTTP %ld %s %s", n, res->status,
                   code, message);
    }
    struct client_report r = {.c = c, .ev = ev, .status = res->status};
    for (size_t i = 0; i < n; i++)
        client_report_one(i, report_code, pointer, report_message, &r);
    client_count(c, &c->stats.rejected, n);
}

/* Sleeps before a retry, waking early only for the deadline. Returns false
 * when the deadline has come (nothing more may be sent). */
static bool client_backoff(eye_client *c, int64_t delay_ms)
{
    int64_t wake = eyec_now_us() + delay_ms * 1000;
    bool ok = true;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        int64_t deadline = atomic_load(&c->deadline_us), now = eyec_now_us();
        if (deadline != 0 && now >= deadline) {
            ok = false;
            break;
        }
        if (now >= wake)
            break;
        client_wait(c, &c->work, deadline != 0 && deadline < wake ? deadline : wake);
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* Sends batch[0..n) until the server has answered for every event, or the
 * deadline comes (what is left is then dropped), following the plan
 * (plan.h): retries, splits, and the event given up on after repeated
 * server errors. Counts each event once. */
static void client_send(eye_client *c, struct eyec_event *const *batch, size_t n)
{
    struct eyec_plan plan;
    eyec_plan_init(&plan, n, c->opts.server_error_attempts);
    const struct eyec_part *next;
    while ((next = eyec_plan_next(&plan)) != NULL) {
        const struct eyec_part part = *next; /* next is rewritten by the answer */
        struct eyec_event *const *ev = batch + part.first;
        int64_t deadline = atomic_load(&c->deadline_us);
        if (deadline != 0 && eyec_now_us() >= deadline) {
            size_t left = eyec_plan_pending(&plan);
            eyec_plan_abandon(&plan);
            client_log(c, EYE_CLIENT_LOG_WARN, "deadline reached: %zu events dropped", left);
            client_count(c, &c->stats.dropped, left);
            return;
        }
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        int64_t sent_at = (int64_t)wall.tv_sec * 1000000 + wall.tv_nsec / 1000;
        struct eyec_http_result res = {.status = 0, .error = "out of memory", .retry_after_ms = -1};
        const struct eyec_buf *payload = &c->body;
        bool built = eyec_body_build(ev, part.count, sent_at, &c->body);
        if (built && c->opts.gzip) {
            built = eyec_gzip(c->body.data, c->body.len, &c->gz);
            payload = &c->gz;
        }
        if (built)
            eyec_http_post(&c->http, payload->data, payload->len, &res);

        unsigned attempt = 0;
        enum eyec_verdict verdict = eyec_classify(res.status, part.count, res.retry_after_ms >= 0);
        enum eyec_step step = eyec_plan_answer(&plan, verdict, &attempt);
        switch (step) {
        case EYEC_STEP_ANSWERED: {
            struct client_report r = {.c = c, .ev = ev, .status = res.status};
            size_t rejected = 0;
            if (res.status == 202 || res.status == 422)
                rejected = eyec_response_rejections(res.body, res.body_len, part.count,
                                                    client_report_one, &r);
            pthread_mutex_lock(&c->lock);
            c->stats.sent += part.count - rejected;
            c->stats.rejected += rejected;
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        case EYEC_STEP_REJECTED:
            client_reject_all(c, ev, part.count, &res, NULL, 1);
            continue;
        case EYEC_STEP_GAVE_UP:
            client_reject_all(c, ev, 1, &res, "server_error", part.server_errors + 1);
            continue;
        case EYEC_STEP_SPLIT:
            /* Above the server's limits: two smaller requests, not a retry. */
            client_log(c, EYE_CLIENT_LOG_WARN, "HTTP 413 for %zu events: splitting the batch",
                       part.count);
            continue;
        case EYEC_STEP_SPLIT_WAIT:
        case EYEC_STEP_RETRY:
            break;
        }
        int64_t delay = eyec_retry_delay_ms(
            eyec_backoff_ms(attempt, c->opts.retry_base_ms, c->opts.retry_max_ms, client_random()),
            res.retry_after_ms);
        if (step == EYEC_STEP_SPLIT_WAIT)
            client_log(c, EYE_CLIENT_LOG_WARN,
                       "HTTP %ld for %zu events %u times: splitting the batch in %lld ms",
                       res.status, part.count, part.server_errors + 1, (long long)delay);
        else if (verdict == EYEC_SERVER_ERROR && c->opts.server_error_attempts != 0)
            client_log(c, EYE_CLIENT_LOG_WARN,
                       "%zu events not delivered (HTTP %ld, server error %u of %u); retry in %lld "
                       "ms",
                       part.count, res.status, part.server_errors + 1,
                       c->opts.server_error_attempts, (long long)delay);
        else if (res.status == 0)
            client_log(c, EYE_CLIENT_LOG_WARN, "%zu events not delivered (%s); retry in %lld ms",
                       part.count, res.error, (long long)delay);
        else
            client_log(c, EYE_CLIENT_LOG_WARN,
                       "%zu events not delivered (HTTP %ld); retry in %lld ms", part.count,
                       res.status, (long long)delay);
        if (!client_backoff(c, delay))
            continue; /* the deadline check at the top drops them */
        client_count(c, &c->stats.retried, 1);
    }
}

/* ---- the sender thread ------------------------------------------------------ */

/* True when the queue holds a batch to send now. The caller holds c->lock. */
static bool do_client_due(const eye_client *c, int64_t now)
{
    if (c->head == NULL)
        return false;
    return c->closing || c->head->seq <= c->flush_seq ||
           c->queued_events >= c->opts.batch_max_events ||
           c->queued_bytes >= c->opts.batch_max_bytes ||
           now - c->head->queued_us >= (int64_t)c->opts.flush_interval_ms * 1000;
}

static void *client_sender(void *arg)
{
    eye_client *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        int64_t now = eyec_now_us(), deadline = atomic_load(&c->deadline_us);
        if (c->closing && (c->head == NULL || (deadline != 0 && now >= deadline)))
            break;
        if (!do_client_due(c, now)) {
            int64_t until = 0;
            if (c->head != NULL)
                until = c->head->queued_us + (int64_t)c->opts.flush_interval_ms * 1000;
            client_wait(c, &c->work, until);
            continue;
        }
        size_t n = eyec_batch_count(c->head, c->opts.batch_max_events, c->opts.batch_max_bytes);
        for (size_t i = 0; i < n; i++) {
            struct eyec_event *e = c->head;
            c->head = e->next;
            e->next = NULL;
            c->queued_bytes -= eyec_event_wire_bytes(e);
            c->batch[i] = e;
        }
        if (c->head == NULL)
            c->tail = NULL;
        c->queued_events -= n;
        c->inflight = n;
        pthread_cond_broadcast(&c->room);
        pthread_mutex_unlock(&c->lock);

        client_send(c, c->batch, n);
        uint64_t last = c->batch[n - 1]->seq;
        for (size_t i = 0; i < n; i++)
            eyec_event_free(c->batch[i]);

        pthread_mutex_lock(&c->lock);
        c->inflight = 0;
        c->settled_seq = last;
        pthread_cond_broadcast(&c->settled);
    }
    /* The deadline came: what is still queued is dropped. */
    size_t left = 0;
    while (c->head != NULL) {
        struct eyec_event *e = c->head;
        c->head = e->next;
        eyec_event_free(e);
        left++;
    }
    c->tail = NULL;
    c->queued_events = c->queued_bytes = 0;
    c->stats.dropped += left;
    c->settled_seq = c->last_seq;
    pthread_cond_broadcast(&c->settled);
    pthread_cond_broadcast(&c->room);
    pthread_mutex_unlock(&c->lock);
    if (left > 0)
        client_log(c, EYE_CLIENT_LOG_WARN, "deadline reached: %zu queued events dropped", left);
    return NULL;
}

/* ---- the API ---------------------------------------------------------------- */

static bool client_options_ok(const struct eye_client_options *o)
{
    return o->batch_max_events >= 1 && o->batch_max_events <= CLIENT_MAX_BATCH_EVENTS &&
           o->batch_max_bytes >= CLIENT_MIN_BYTES && o->queue_max_events >= 1 &&
           o->queue_max_bytes >= CLIENT_MIN_BYTES && o->request_timeout_ms >= 1 &&
           o->retry_base_ms >= CLIENT_MIN_BACKOFF_MS && o->retry_max_ms >= o->retry_base_ms &&
           o->connect_timeout_ms >= 1 &&
           (o->on_full == EYE_CLIENT_DROP_NEWEST || o->on_full == EYE_CLIENT_BLOCK);
}

/* Initialises a condition variable on the monotonic clock. */
static bool client_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(cond, &attr) == 0;
    pthread_condattr_destroy(&attr);
    return ok;
}

eye_client *eye_client_new(const char *base_url, const char *write_key,
                           const struct eye_client_options *opts)
{
    eye_client *c = NULL;
    char *url = NULL;
    int conds = 0;
    bool locked = false;
    if (base_url == NULL || write_key == NULL || *base_url == '\0' || *write_key == '\0')
        return NULL;
    pthread_once(&client_curl_once, client_curl_init);
    if (!client_curl_ready)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (opts != NULL)
        c->opts = *opts;
    else
        eye_client_options_init(&c->opts);
    if (!client_options_ok(&c->opts))
        goto fail;

    /* BASE_URL/v1/events, whatever slashes the base ends with. */
    size_t base_len = strlen(base_url);
    while (base_len > 0 && base_url[base_len - 1] == '/')
        base_len--;
    url = malloc(base_len + sizeof("/v1/events"));
    if (url == NULL)
        goto fail;
    memcpy(url, base_url, base_len);
    memcpy(url + base_len, "/v1/events", sizeof("/v1/events"));

    c->body.max = c->opts.batch_max_bytes;
    /* gzip of incompressible data grows by a few bytes per 16 KiB. */
    c->gz.max = c->opts.batch_max_bytes + c->opts.batch_max_bytes / 8 + 1024;
    c->batch = calloc(c->opts.batch_max_events, sizeof(*c->batch));
    if (c->batch == NULL)
        goto fail;
    if (!eyec_http_init(&c->http, url, write_key, c->opts.gzip != 0, c->opts.connect_timeout_ms,
                        c->opts.request_timeout_ms, &c->deadline_us))
        goto fail;
    free(url);
    url = NULL;

    if (pthread_mutex_init(&c->lock, NULL) != 0)
        goto fail;
    locked = true;
    if (!client_cond_init(&c->work))
        goto fail;
    conds = 1;
    if (!client_cond_init(&c->room))
        goto fail;
    conds = 2;
    if (!client_cond_init(&c->settled))
        goto fail;
    conds = 3;

    /* The sender takes no signal: they stay with the application's threads. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->sender, NULL, client_sender, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        goto fail;
    return c;

fail:
    if (conds >= 3)
        pthread_cond_destroy(&c->settled);
    if (conds >= 2)
        pthread_cond_destroy(&c->room);
    if (conds >= 1)
        pthread_cond_destroy(&c->work);
    if (locked)
        pthread_mutex_destroy(&c->lock);
    eyec_http_cleanup(&c->http);
    free(c->batch);
    free(url);
    free(c);
    return NULL;
}

/* Queues e (taking it) or frees it. Returns an eye_client_status. */
static int client_enqueue(eye_client *c, struct eyec_event *e)
{
    size_t bytes = eyec_event_wire_bytes(e);
    if (bytes > c->opts.batch_max_bytes || bytes > c->opts.queue_max_bytes) {
        eyec_event_free(e);
        return EYE_CLIENT_EINVAL;
    }
    int rc = EYE_CLIENT_OK;
    pthread_mutex_lock(&c->lock);
    bool full = c->queued_events >= c->opts.queue_max_events ||
                c->queued_bytes + bytes > c->opts.queue_max_bytes;
    if (full && c->opts.on_full == EYE_CLIENT_BLOCK && !c->closing) {
        int64_t until = eyec_now_us() + (int64_t)c->opts.block_timeout_ms * 1000;
        while (full && !c->closing) {
            bool more = client_wait(c, &c->room, until);
            full = c->queued_events >= c->opts.queue_max_events ||
                   c->queued_bytes + bytes > c->opts.queue_max_bytes;
            if (!more)
                break;
        }
    }
    if (c->closing) {
        rc = EYE_CLIENT_ECLOSED;
    } else if (full) {
        c->stats.tracked++; /* tracked, and at once dropped */
        c->stats.dropped++;
        rc = c->opts.on_full == EYE_CLIENT_BLOCK ? EYE_CLIENT_ETIMEDOUT : EYE_CLIENT_EFULL;
    } else {
        e->seq = ++c->last_seq;
        e->queued_us = eyec_now_us();
        e->next = NULL;
        bool was_empty = c->head == NULL;
        if (was_empty)
            c->head = e;
        else
            c->tail->next = e;
        c->tail = e;
        c->queued_events++;
        c->queued_bytes += bytes;
        c->stats.tracked++;
        /* The sender sleeps until the oldest event is due: wake it when
         * there is a first event to time, or a full batch. */
        if (was_empty || c->queued_events == c->opts.batch_max_events ||
            c->queued_bytes >= c->opts.batch_max_bytes)
            pthread_cond_signal(&c->work);
        e = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    eyec_event_free(e);
    return rc;
}

int eye_client_track(eye_client *c, const char *session_id, const char *category, const char *name,
                     const char *data_json, int64_t timestamp_us)
{
    if (c == NULL)
        return EYE_CLIENT_EINVAL;
    struct eyec_event *e = NULL;
    int rc = eyec_event_new(session_id, category, name, data_json, timestamp_us, &e);
    return rc == EYE_CLIENT_OK ? client_enqueue(c, e) : rc;
}

int eye_client_track_event(eye_client *c, const char *event_json, char *event_id)
{
    if (c == NULL)
        return EYE_CLIENT_EINVAL;
    struct eyec_event *e = NULL;
    int rc = eyec_event_parse(event_json, &e);
    if (rc == EYE_CLIENT_OK && event_id != NULL)
        memcpy(event_id, e->id, EYE_CLIENT_ID_SIZE);
    return rc == EYE_CLIENT_OK ? client_enqueue(c, e) : rc;
}

int eye_client_flush(eye_client *c, unsigned timeout_ms)
{
    if (c == NULL)
        return EYE_CLIENT_EINVAL;
    int rc = EYE_CLIENT_OK;
    int64_t until = eyec_now_us() + (int64_t)timeout_ms * 1000;
    pthread_mutex_lock(&c->lock);
    uint64_t target = c->last_seq;
    if (c->settled_seq < target) {
        if (c->flush_seq < target)
            c->flush_seq = target;
        pthread_cond_signal(&c->work);
    }
    while (c->settled_seq < target) {
        if (!client_wait(c, &c->settled, until) && c->settled_seq < target) {
            rc = EYE_CLIENT_ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

void eye_client_stats(eye_client *c, struct eye_client_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    out->pending = c->queued_events + c->inflight;
    pthread_mutex_unlock(&c->lock);
}

int eye_client_free(eye_client *c, unsigned timeout_ms, struct eye_client_stats *final)
{
    if (final != NULL)
        memset(final, 0, sizeof(*final));
    if (c == NULL)
        return EYE_CLIENT_OK;
    pthread_mutex_lock(&c->lock);
    uint64_t dropped = c->stats.dropped;
    c->closing = true;
    /* 0 means "no deadline": a deadline of now is now + 1 µs. */
    atomic_store(&c->deadline_us, eyec_now_us() + (int64_t)timeout_ms * 1000 + 1);
    pthread_cond_broadcast(&c->work);
    pthread_cond_broadcast(&c->room);
    pthread_mutex_unlock(&c->lock);
    /* A request in flight is polling without a deadline: wake it, so that
     * it polls until the deadline at the most. */
    eyec_http_wakeup(&c->http);

    pthread_join(c->sender, NULL);
    dropped = c->stats.dropped - dropped;
    if (final != NULL)
        *final = c->stats; /* the sender has ended: nothing is pending */

    pthread_cond_destroy(&c->settled);
    pthread_cond_destroy(&c->room);
    pthread_cond_destroy(&c->work);
    pthread_mutex_destroy(&c->lock);
    eyec_http_cleanup(&c->http);
    eyec_buf_free(&c->body);
    eyec_buf_free(&c->gz);
    free(c->batch);
    free(c);
    return dropped > 0 ? EYE_CLIENT_ETIMEDOUT : EYE_CLIENT_OK;
}

const char *eye_client_strerror(int status)
{
    switch (status) {
    case EYE_CLIENT_OK:
        return "ok";
    case EYE_CLIENT_EINVAL:
        return "invalid argument";
    case EYE_CLIENT_ENOMEM:
        return "out of memory";
    case EYE_CLIENT_EFULL:
        return "queue full";
    case EYE_CLIENT_ETIMEDOUT:
        return "timed out";
    case EYE_CLIENT_ECLOSED:
        return "client closing";
    default:
        return "unknown status";
    }
}

const char *eye_client_version(void)
{
    return PACKAGE_VERSION;
}
