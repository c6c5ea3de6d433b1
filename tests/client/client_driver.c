/* client_driver.c - drives libeyeclient for tests/integration/client.sh.
 *
 * Each mode exercises one promise of the library against whatever server
 * the test points it at, and prints what happened as `key=value` lines
 * (and REJECT lines for rejections) for the shell test to assert on:
 *
 *   load URL KEY EVENTS THREADS PACE_US   EVENTS events from THREADS threads
 *                                         (one every PACE_US per thread),
 *                                         block mode; flush, free
 *   reject URL KEY                        events the rules refuse, each kind once
 *   split URL KEY                         a batch above the server's limit (413)
 *   drop URL                              drop-newest mode on a full queue
 *   block URL                             block mode on a full queue times out
 *   free URL TIMEOUT_MS                   free() with the server gone
 *   hang TIMEOUT_MS                       free() with a server that never answers
 *   one URL KEY SESSION N AT MARKER [K]   N events in one batch, the one at index AT
 *                                         with MARKER in its path (for a server-side
 *                                         trigger to fail on); K server_error_attempts
 *                                         (the default when absent); flush, free
 *
 * Exit status 0 when the library calls returned what the mode expects of
 * them; the counts are judged by the test.
 */
#include "autoconfig.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/eye_client.h"
#include "lib/strparse.h"

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void print_stats(const char *when, const struct eye_client_stats *s)
{
    printf("%stracked=%llu\n%ssent=%llu\n%srejected=%llu\n%sdropped=%llu\n%sretried=%llu\n", when,
           (unsigned long long)s->tracked, when, (unsigned long long)s->sent, when,
           (unsigned long long)s->rejected, when, (unsigned long long)s->dropped, when,
           (unsigned long long)s->retried);
}

/* Prints one REJECT line; checks that the id given is the event's. */
static void on_reject(const struct eye_client_rejection *r, void *user)
{
    char want[64];
    snprintf(want, sizeof(want), "\"event_id\":\"%s\"", r->event_id);
    pthread_mutex_lock(&print_lock);
    printf("REJECT %d %s %s %s\n", r->http_status, r->code, *r->pointer ? r->pointer : "-",
           strstr(r->event, want) != NULL ? "id-ok" : "id-mismatch");
    pthread_mutex_unlock(&print_lock);
}

static void on_log(enum eye_client_log_level level, const char *message, void *user)
{
    fprintf(stderr, "client: %s\n", message);
}

static struct eye_client_options options(void)
{
    struct eye_client_options o;
    eye_client_options_init(&o);
    o.on_reject = on_reject;
    o.on_log = on_log;
    o.retry_max_ms = 2000;
    return o;
}

static unsigned arg_uint(const char *s)
{
    int v = 0;
    if (!strparse_int(s, 0, 1000000000, &v)) {
        fprintf(stderr, "client_driver: not a number: %s\n", s);
        exit(2);
    }
    return (unsigned)v;
}

/* ---- load ----------------------------------------------------------------- */

struct load_arg {
    eye_client *c;
    unsigned thread, events, pace_us;
    unsigned failed;
};

static void *load_thread(void *p)
{
    struct load_arg *a = p;
    char session[32], data[128];
    snprintf(session, sizeof(session), "load-%u", a->thread);
    for (unsigned i = 0; i < a->events; i++) {
        snprintf(data, sizeof(data), "{\"host\": \"load.example.com\", \"path\": \"/%u/%u\"}",
                 a->thread, i);
        int rc =
            eye_client_track(a->c, session, "page interaction", "pageview", data, EYE_CLIENT_NOW);
        if (rc != EYE_CLIENT_OK) {
            fprintf(stderr, "track: %s\n", eye_client_strerror(rc));
            a->failed++;
        }
        if (a->pace_us > 0)
            usleep(a->pace_us);
    }
    return NULL;
}

static int mode_load(const char *url, const char *key, unsigned events, unsigned threads,
                     unsigned pace_us)
{
    struct eye_client_options o = options();
    o.on_full = EYE_CLIENT_BLOCK; /* lose nothing: wait for room */
    o.block_timeout_ms = 120000;
    o.queue_max_events = 2000;
    o.flush_interval_ms = 200;
    eye_client *c = eye_client_new(url, key, &o);
    if (c == NULL)
        return 1;
    int64_t t0 = now_ms();
    pthread_t tid[64];
    struct load_arg args[64];
    if (threads == 0 || threads > 64)
        return 2;
    for (unsigned t = 0; t < threads; t++) {
        args[t] =
            (struct load_arg){.c = c, .thread = t, .events = events / threads, .pace_us = pace_us};
        if (pthread_create(&tid[t], NULL, load_thread, &args[t]) != 0)
            return 1;
    }
    unsigned failed = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        failed += args[t].failed;
    }
    printf("tracked_ms=%lld\n", (long long)(now_ms() - t0));
    int flushed = eye_client_flush(c, 180000);
    printf("flush=%s\nelapsed_ms=%lld\n", eye_client_strerror(flushed), (long long)(now_ms() - t0));
    struct eye_client_stats s;
    int freed = eye_client_free(c, 5000, &s);
    print_stats("", &s);
    printf("track_failures=%u\n", failed);
    return flushed == EYE_CLIENT_OK && freed == EYE_CLIENT_OK && failed == 0 ? 0 : 1;
}

/* ---- reject / split ----------------------------------------------------------- */

static int mode_reject(const char *url, const char *key)
{
    struct eye_client_options o = options();
    eye_client *c = eye_client_new(url, key, &o);
    if (c == NULL)
        return 1;
    const char *ok = "{\"host\": \"a.example.com\", \"path\": \"/\"}";
    int rc = 0;
    rc |= eye_client_track(c, "rej-1", "page interaction", "pageview", ok, EYE_CLIENT_NOW);
    rc |= eye_client_track(c, "rej-1", "page interaction", "scroll", "{\"depth\": 50}",
                           EYE_CLIENT_NOW);
    rc |= eye_client_track(c, "rej-1", "page interaction", "pageview",
                           "{\"host\": \"a.example.com\", \"path\": 5}", EYE_CLIENT_NOW);
    rc |= eye_client_track(c, "rej-1", "page interaction", "pageview", "{\"host\": \"a.b\"}",
                           EYE_CLIENT_NOW);
    rc |= eye_client_track(c, "rej-1", "page interaction", "pageview", ok,
                           wall_us() + INT64_C(86400000000));
    rc |= eye_client_track(c, "bad session!", "page interaction", "pageview", ok, EYE_CLIENT_NOW);
    /* Refused before anything is queued: not JSON, not an object. */
    int local1 = eye_client_track(c, "rej-1", "page interaction", "pageview", "{", EYE_CLIENT_NOW);
    int local2 = eye_client_track(c, "rej-1", "page interaction", "pageview", "[]", 0);
    printf("local=%s,%s\n", eye_client_strerror(local1), eye_client_strerror(local2));
    int flushed = eye_client_flush(c, 30000);
    printf("flush=%s\n", eye_client_strerror(flushed));
    struct eye_client_stats s;
    eye_client_free(c, 1000, &s);
    print_stats("", &s);
    return rc == 0 && flushed == EYE_CLIENT_OK ? 0 : 1;
}

static int mode_split(const char *url, const char *key)
{
    struct eye_client_options o = options();
    o.batch_max_events = 1000;    /* the server takes 500 at most */
    o.flush_interval_ms = 600000; /* only flush sends */
    eye_client *c = eye_client_new(url, key, &o);
    if (c == NULL)
        return 1;
    for (int i = 0; i < 1200; i++) {
        char data[96];
        snprintf(data, sizeof(data), "{\"host\": \"split.example.com\", \"path\": \"/%d\"}", i);
        if (eye_client_track(c, "split-1", "page interaction", "pageview", data, EYE_CLIENT_NOW) !=
            EYE_CLIENT_OK)
            return 1;
    }
    int flushed = eye_client_flush(c, 60000);
    printf("flush=%s\n", eye_client_strerror(flushed));
    struct eye_client_stats s;
    eye_client_free(c, 1000, &s);
    print_stats("", &s);
    return flushed == EYE_CLIENT_OK ? 0 : 1;
}

/* ---- one event the server fails on ----------------------------------------------- */

/* Prints every rejection whole, with the event's own id and whether the
 * event text is the marked one (user: the marker). */
static void on_reject_whole(const struct eye_client_rejection *r, void *user)
{
    const char *marker = user;
    char want[64];
    snprintf(want, sizeof(want), "\"event_id\":\"%s\"", r->event_id);
    pthread_mutex_lock(&print_lock);
    printf("REJECTED id=%s status=%d code=%s pointer=%s event=%s marked=%s\nREJECTED_MESSAGE=%s\n",
           r->event_id, r->http_status, r->code, *r->pointer ? r->pointer : "-",
           strstr(r->event, want) != NULL ? "id-ok" : "id-mismatch",
           strstr(r->event, marker) != NULL ? "yes" : "no", r->message);
    pthread_mutex_unlock(&print_lock);
}

static int mode_one(const char *url, const char *key, const char *session, unsigned n, unsigned at,
                    const char *marker, int attempts)
{
    struct eye_client_options o = options();
    o.on_reject = on_reject_whole;
    o.user = (void *)marker;
    o.batch_max_events = n;       /* all of them in one batch */
    o.flush_interval_ms = 600000; /* only flush sends */
    if (attempts >= 0)
        o.server_error_attempts = (unsigned)attempts;
    printf("server_error_attempts=%u\n", o.server_error_attempts);
    eye_client *c = eye_client_new(url, key, &o);
    if (c == NULL)
        return 1;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (unsigned i = 0; i < n; i++) {
        char event[512], id[EYE_CLIENT_ID_SIZE];
        char path[96];
        if (i == at)
            snprintf(path, sizeof(path), "/%u-%s", i, marker);
        else
            snprintf(path, sizeof(path), "/%u", i);
        snprintf(event, sizeof(event),
                 "{\"session_id\": \"%s\", \"category\": \"page interaction\", "
                 "\"name\": \"pageview\", \"data\": {\"host\": \"one.example.com\", "
                 "\"path\": \"%s\"}, \"timestamp\": \"%s\"}",
                 session, path, when);
        if (eye_client_track_event(c, event, id) != EYE_CLIENT_OK)
            return 1;
        if (i == at)
            printf("marked_id=%s\n", id);
    }
    int64_t t0 = now_ms();
    int flushed = eye_client_flush(c, 120000);
    printf("flush=%s\nelapsed_ms=%lld\n", eye_client_strerror(flushed), (long long)(now_ms() - t0));
    struct eye_client_stats s;
    eye_client_free(c, 1000, &s);
    print_stats("", &s);
    return flushed == EYE_CLIENT_OK ? 0 : 1;
}

/* ---- a full queue ------------------------------------------------------------- */

/* Options that keep every event queued: the sender only sends at the end. */
static struct eye_client_options held_options(void)
{
    struct eye_client_options o = options();
    o.queue_max_events = 10;
    o.batch_max_events = 1000;
    o.flush_interval_ms = 600000;
    return o;
}

static int mode_drop(const char *url)
{
    struct eye_client_options o = held_options();
    o.on_full = EYE_CLIENT_DROP_NEWEST;
    eye_client *c = eye_client_new(url, "eye_key", &o);
    if (c == NULL)
        return 1;
    unsigned ok = 0, full = 0;
    int64_t t0 = now_ms();
    for (int i = 0; i < 100; i++) {
        int rc =
            eye_client_track(c, "drop-1", "page interaction", "pageview", NULL, EYE_CLIENT_NOW);
        ok += rc == EYE_CLIENT_OK;
        full += rc == EYE_CLIENT_EFULL;
    }
    printf("track_ms=%lld\nqueued=%u\nefull=%u\n", (long long)(now_ms() - t0), ok, full);
    struct eye_client_stats s;
    eye_client_stats(c, &s);
    print_stats("before_free_", &s);
    printf("pending=%llu\n", (unsigned long long)s.pending);
    eye_client_free(c, 200, &s);
    print_stats("", &s);
    return 0;
}

static int mode_block(const char *url)
{
    struct eye_client_options o = held_options();
    o.on_full = EYE_CLIENT_BLOCK;
    o.block_timeout_ms = 300;
    eye_client *c = eye_client_new(url, "eye_key", &o);
    if (c == NULL)
        return 1;
    unsigned ok = 0;
    for (int i = 0; i < 10; i++)
        ok += eye_client_track(c, "block-1", "page interaction", "pageview", NULL,
                               EYE_CLIENT_NOW) == EYE_CLIENT_OK;
    int64_t t0 = now_ms();
    int rc = eye_client_track(c, "block-1", "page interaction", "pageview", NULL, EYE_CLIENT_NOW);
    printf("queued=%u\neleventh=%s\nblocked_ms=%lld\n", ok, eye_client_strerror(rc),
           (long long)(now_ms() - t0));
    struct eye_client_stats s;
    eye_client_free(c, 200, &s);
    print_stats("", &s);
    return 0;
}

/* ---- free() with no server ------------------------------------------------------ */

static int free_measured(eye_client *c, unsigned timeout_ms)
{
    for (int i = 0; i < 50; i++)
        eye_client_track(c, "gone-1", "page interaction", "pageview", NULL, EYE_CLIENT_NOW);
    usleep(500000); /* the sender is retrying (or waiting for an answer) by now */
    int64_t t0 = now_ms();
    struct eye_client_stats s;
    int rc = eye_client_free(c, timeout_ms, &s);
    printf("free=%s\nfree_ms=%lld\n", eye_client_strerror(rc), (long long)(now_ms() - t0));
    print_stats("", &s);
    return 0;
}

static int mode_free(const char *url, unsigned timeout_ms)
{
    struct eye_client_options o = options();
    o.flush_interval_ms = 0;
    eye_client *c = eye_client_new(url, "eye_key", &o);
    return c == NULL ? 1 : free_measured(c, timeout_ms);
}

static int mode_hang(unsigned timeout_ms)
{
    /* A listening socket nobody accepts on: connections complete (the
     * kernel's backlog), requests go out, no answer ever comes. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return 1;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    struct eye_client_options o = options();
    o.flush_interval_ms = 0;
    o.request_timeout_ms = 600000;
    eye_client *c = eye_client_new(url, "eye_key", &o);
    int rc = c == NULL ? 1 : free_measured(c, timeout_ms);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "load") == 0 && argc == 7)
        return mode_load(argv[2], argv[3], arg_uint(argv[4]), arg_uint(argv[5]), arg_uint(argv[6]));
    if (strcmp(mode, "reject") == 0 && argc == 4)
        return mode_reject(argv[2], argv[3]);
    if (strcmp(mode, "split") == 0 && argc == 4)
        return mode_split(argv[2], argv[3]);
    if (strcmp(mode, "drop") == 0 && argc == 3)
        return mode_drop(argv[2]);
    if (strcmp(mode, "block") == 0 && argc == 3)
        return mode_block(argv[2]);
    if (strcmp(mode, "free") == 0 && argc == 4)
        return mode_free(argv[2], arg_uint(argv[3]));
    if (strcmp(mode, "hang") == 0 && argc == 3)
        return mode_hang(arg_uint(argv[2]));
    if (strcmp(mode, "one") == 0 && (argc == 8 || argc == 9))
        return mode_one(argv[2], argv[3], argv[4], arg_uint(argv[5]), arg_uint(argv[6]), argv[7],
                        argc == 9 ? (int)arg_uint(argv[8]) : -1);
    fprintf(stderr, "usage: client_driver load|reject|split|drop|block|free|hang|one ARGS "
                    "(see the source)\n");
    return 2;
}
