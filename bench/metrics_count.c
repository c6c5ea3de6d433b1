/* metrics_count.c - the CPU cost of counting one request, in isolation.
 *
 * Maps a counter file (fcgi/metrics_shm.c, the code eye.fcgi runs) and has
 * THREADS threads count what one single-event request counts: the request
 * (route, status, duration), the commit of its group, one accepted event.
 * Prints ns per request. Built and run by bench/metrics.sh:
 *   cc -O2 -I. -I$EYE_BUILDDIR -pthread bench/metrics_count.c fcgi/metrics_shm.c \
 *      lib/clock.c lib/log.c -o metrics_count
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fcgi/metrics_shm.h"
#include "lib/clock.h"

static long iterations;

static void *count_main(void *arg)
{
    (void)arg;
    for (long i = 0; i < iterations; i++) {
        metrics_count_request(MR_INGEST, 202, 150 + (i & 1023));
        metrics_count_commit(1, 900, true);
        metrics_count_event(1 + (unsigned)(i & 3), "page interaction", "pageview", NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: metrics_count FILE THREADS ITERATIONS\n");
        return 2;
    }
    struct config cfg = {0};
    cfg.metrics.enabled = true;
    cfg.metrics.file = argv[1];
    int threads = atoi(argv[2]);
    iterations = atol(argv[3]);
    if (threads < 1 || threads > 64 || iterations < 1 || !metrics_shm_open(&cfg))
        return 1;
    pthread_t t[64];
    int64_t start = clock_mono_us();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, count_main, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    int64_t us = clock_mono_us() - start;
    uint64_t got = atomic_load(&metrics_shm()->http[MR_INGEST][1]);
    printf("%d threads x %ld requests: %.1f ns per request in each thread, counted %llu of %lld\n",
           threads, iterations, 1000.0 * (double)us / (double)iterations, (unsigned long long)got,
           (long long)threads * iterations);
    metrics_shm_close();
    return got == (uint64_t)threads * (uint64_t)iterations ? 0 : 1;
}
