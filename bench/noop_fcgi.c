/* noop_fcgi.c - the do-nothing FastCGI responder, the ceiling of the bench.
 *
 * Spawned by lighttpd from the same lighttpd.conf as eye.fcgi (bench/run.sh
 * points STACK_FCGI_BIN here), it has the same shape as eye.fcgi: the
 * listening socket on fd 0, $EYE_INGEST_THREADS worker threads (default 4)
 * taking turns in FCGX_Accept_r under one lock, each owning its request and
 * a body buffer allocated once. Each request's body is read in full (as
 * eye.fcgi does, after checking CONTENT_LENGTH) and answered 202 with the
 * body eye.fcgi sends for one accepted event. No parsing, no database: what
 * is left is lighttpd, the FastCGI protocol and the kernel, so eye.fcgi's
 * req/s divided by this one's is the share of the ceiling it reaches.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same limit as ingest.max_body_bytes' default. */
#define NOOP_MAX_BODY (1024 * 1024)
#define NOOP_MAX_THREADS 256

static pthread_mutex_t noop_accept_lock = PTHREAD_MUTEX_INITIALIZER;

static const char noop_answer[] = "Status: 202 Accepted\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: 40\r\n"
                                  "Cache-Control: no-store\r\n\r\n"
                                  "{\"accepted\":1,\"rejected\":0,\"errors\":[]}\n";

static const char noop_too_large[] = "Status: 413 Content Too Large\r\n"
                                     "Content-Type: text/plain\r\n\r\nbody_too_large\n";

/* Parses a CONTENT_LENGTH value. Returns -1 when absent or malformed. */
static long noop_content_length(const char *text)
{
    if (text == NULL || *text == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return -1;
    return v;
}

static void *noop_worker(void *arg)
{
    (void)arg;
    FCGX_Request req;
    char *buf = malloc(NOOP_MAX_BODY);
    if (buf == NULL || FCGX_InitRequest(&req, 0, 0) != 0) {
        fprintf(stderr, "noop_fcgi: cannot set up a worker\n");
        free(buf);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&noop_accept_lock);
        int rc = FCGX_Accept_r(&req);
        pthread_mutex_unlock(&noop_accept_lock);
        if (rc < 0)
            break;
        long want = noop_content_length(FCGX_GetParam("CONTENT_LENGTH", req.envp));
        if (want > NOOP_MAX_BODY) {
            FCGX_PutStr(noop_too_large, (int)sizeof(noop_too_large) - 1, req.out);
        } else {
            long got = 0;
            while (got < want) {
                int n = FCGX_GetStr(buf + got, (int)(want - got), req.in);
                if (n <= 0)
                    break;
                got += n;
            }
            FCGX_PutStr(noop_answer, (int)sizeof(noop_answer) - 1, req.out);
        }
        FCGX_Finish_r(&req);
    }
    free(buf);
    return NULL;
}

int main(void)
{
    /* lighttpd stops its children with SIGTERM, but they inherit its signal
     * mask: as eye.fcgi does, block the stop signals in every thread and
     * take them with sigwait in this one. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGUSR1, SIG_DFL);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_Init() != 0 || FCGX_IsCGI()) {
        fprintf(stderr, "noop_fcgi: a FastCGI program: run it under lighttpd (bin-path)\n");
        return 2;
    }
    long nthreads = 4;
    const char *env = getenv("EYE_INGEST_THREADS");
    if (env != NULL && *env != '\0') {
        nthreads = noop_content_length(env);
        if (nthreads < 1 || nthreads > NOOP_MAX_THREADS) {
            fprintf(stderr, "noop_fcgi: EYE_INGEST_THREADS must be 1..%d\n", NOOP_MAX_THREADS);
            return 2;
        }
    }
    pthread_t threads[NOOP_MAX_THREADS];
    long started = 0;
    for (long i = 0; i < nthreads; i++) {
        if (pthread_create(&threads[i], NULL, noop_worker, NULL) != 0) {
            fprintf(stderr, "noop_fcgi: cannot start thread %ld\n", i);
            break;
        }
        started++;
    }
    if (started == 0)
        return 1;
    /* Nothing needs a clean shutdown: the first stop signal ends it. */
    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    return 0;
}
