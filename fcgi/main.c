/* main.c - eye.fcgi: The Eye's FastCGI responder.
 *
 * Spawned by lighttpd (bin-path) or Apache mod_fcgid with the listening
 * socket on fd 0. Runs ingest.threads worker threads, each accepting
 * requests in turn and owning its own database connection, and one
 * committer thread (commit.h) that commits the rows of concurrent requests
 * in one transaction. Signals are blocked in every thread and taken by the
 * main thread with sigwait: on SIGTERM/SIGINT it stops accepting (shutting
 * the listening socket down wakes the workers blocked in accept), lets each
 * worker finish the request it is serving, and exits 0.
 *
 * Configuration: the file named by $EYE_CONFIG (lighttpd's bin-environment,
 * Apache's FcgidInitialEnv), else the installed default.
 */
#include "autoconfig.h"

#include <fcgiapp.h>
#include <malloc.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fcgi/auth.h"
#include "fcgi/context.h"
#include "fcgi/commit.h"
#include "fcgi/metrics.h"
#include "fcgi/queue_watch.h"
#include "fcgi/request.h"
#include "fcgi/router.h"
#include "fcgi/rules_live.h"
#include "fcgi/worker.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool stopping;

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    mysql_thread_init();
    for (;;) {
        pthread_mutex_lock(&accept_lock);
        int rc = atomic_load(&stopping) ? -1 : FCGX_Accept_r(&w->fcgx);
        pthread_mutex_unlock(&accept_lock);
        if (rc < 0)
            break;
        struct request r;
        int64_t start_us = clock_mono_us();
        if (request_init(&r, &w->fcgx))
            router_dispatch(w, &r);
        else
            request_reply_error(&r, 414, NULL, "uri_too_long", NULL, "the URI is too long");
        enum metrics_route route = metrics_route_of_request(&r); /* before r's strings die */
        FCGX_Finish_r(&w->fcgx);
        metrics_count_request(route, r.status, clock_mono_us() - start_us);
    }
    event_thread_cleanup();
    mysql_thread_end();
    return NULL;
}

int main(void)
{
    log_init("eye.fcgi", LOG_LEVEL_INFO);
    /* glibc gives threads that allocate arenas of their own (up to 8 per
     * core), and memory freed in one stays there. The workers mostly wait
     * on the committer, so two arenas are enough; measured under 100-event
     * batches at 16 threads, peak RSS fell by 1.5 MiB. */
    mallopt(M_ARENA_MAX, 2);

    /* Before FCGX_Init and before any thread: every thread inherits the
     * mask, so only the main thread's sigwait sees these signals. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) {
        fprintf(stderr, "eye.fcgi: cannot initialise libfcgi\n");
        return 1;
    }
    if (FCGX_IsCGI()) {
        fprintf(stderr, "eye.fcgi is a FastCGI program: run it under lighttpd (bin-path) or "
                        "Apache mod_fcgid, which hand it a listening socket on fd 0\n");
        return 2;
    }

    struct config cfg;
    const char *env_path = getenv("EYE_CONFIG");
    if (!config_load(&cfg, config_default_path(NULL), env_path != NULL && *env_path != '\0'))
        return 1;
    log_set_level(cfg.log_level);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        log_error("cannot initialise the MariaDB client library");
        return 1;
    }
    metrics_shm_open(&cfg); /* before the rules load, which it counts */
    int rc = 1;
    int nthreads = (int)cfg.ingest.threads, started = 0;
    struct worker *workers = calloc((size_t)nthreads, sizeof(*workers));
    pthread_t *threads = calloc((size_t)nthreads, sizeof(*threads));
    struct auth_cache *auth = auth_cache_new(cfg.ingest.key_cache_seconds);
    bool rules_started = false;
    struct committer *committer = NULL;
    if (workers == NULL || threads == NULL || auth == NULL) {
        log_error("out of memory at start");
        goto done;
    }
    if (!context_init(&cfg))
        goto done; /* logged */
    if (!rules_live_start(&cfg))
        goto done;
    rules_started = true;
    if (!queue_watch_start(&cfg))
        log_warn("cannot start the queue watcher: no back-pressure, no queue in /v1/health");
    committer = committer_start(&cfg);
    if (committer == NULL && cfg.ingest.group_commit_max_rows > 0 && cfg.ingest.threads > 1)
        log_warn("group commit off: each request commits on its worker's connection");
    for (int i = 0; i < nthreads; i++) {
        if (!worker_init(&workers[i], i, &cfg, auth, committer))
            goto stop;
        if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0) {
            log_error("cannot start worker thread %d", i);
            worker_free(&workers[i]);
            goto stop;
        }
        started++;
    }
    log_info("started: %d worker threads, group commit %s, config %s", nthreads,
             committer != NULL ? "on" : "off", *cfg.path ? cfg.path : "(defaults)");

    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGUSR1) {
            log_info("signal %d: finishing requests in flight, then exiting", sig);
            break;
        }
    }
    rc = 0;

stop:
    atomic_store(&stopping, true);
    /* Wakes every worker blocked in accept(): it fails on a socket shut
     * down, and the workers see `stopping`. */
    shutdown(0, SHUT_RDWR);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        worker_free(&workers[i]);
    }
    if (rc != 0 && started < nthreads)
        worker_free(&workers[started]); /* the one whose start failed */

done:
    /* After the workers: the requests they finished were committed. */
    committer_stop(committer);
    queue_watch_stop();
    if (rules_started)
        rules_live_stop();
    auth_cache_free(auth);
    context_cleanup();
    free(workers);
    free(threads);
    metrics_shm_close();
    mysql_library_end();
    config_free(&cfg);
    return rc;
}
