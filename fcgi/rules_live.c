/* rules_live.c - the live rule set and its reload thread (see rules_live.h).
 *
 * Memcached-style reload: the new set is built aside by the reload thread,
 * never by a worker, and published by swapping one pointer under a mutex.
 * Each published set sits in a holder with a reference count; the holder
 * itself owns one reference, readers one each, and whoever drops the last
 * one frees the set.
 */
#include "autoconfig.h"

#include "fcgi/rules_live.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fcgi/metrics_shm.h"
#include "lib/clock.h"
#include "lib/log.h"

struct rules_ref {
    struct ruleset *set;
    atomic_int refs;
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_wake = PTHREAD_COND_INITIALIZER;
static struct rules_ref *live_current;
static bool live_stopping;
static pthread_t live_thread;
static bool live_thread_started;
static const struct config *live_cfg;

/* FNV-1a over bytes, to fold stat results into one fingerprint. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* A cheap fingerprint of the folder: names, sizes, inodes and change times
 * of its entries. Editors that write a new file and rename it change the
 * inode; in-place writes change mtime/size. */
static uint64_t rules_fingerprint(const char *dir)
{
    uint64_t h = 1469598103934665603ULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return fnv(h, &errno, sizeof(errno));
    struct dirent *de;
    char path[4096];
    uint64_t sum = 0; /* order-independent: readdir order may change */
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        uint64_t e = fnv(1469598103934665603ULL, de->d_name, strlen(de->d_name));
        if (stat(path, &st) == 0) {
            e = fnv(e, &st.st_ino, sizeof(st.st_ino));
            e = fnv(e, &st.st_size, sizeof(st.st_size));
            e = fnv(e, &st.st_mtim, sizeof(st.st_mtim));
            e = fnv(e, &st.st_ctim, sizeof(st.st_ctim));
        }
        sum += e;
    }
    closedir(d);
    return fnv(h, &sum, sizeof(sum));
}

static struct rules_ref *rules_load(const char *dir)
{
    struct rule_problems problems = {0};
    struct ruleset *set = ruleset_load_dir(dir, &problems);
    if (set == NULL) {
        for (size_t i = 0; i < problems.count; i++) {
            const struct rule_problem *p = &problems.items[i];
            log_error("rules: %s:%d:%d: %s", p->file, p->line, p->column, p->message);
        }
        if (problems.count == 0)
            log_error("rules: cannot load %s", dir);
        rule_problems_clear(&problems);
        return NULL;
    }
    rule_problems_clear(&problems);
    struct rules_ref *ref = malloc(sizeof(*ref));
    if (ref == NULL) {
        ruleset_free(set);
        return NULL;
    }
    ref->set = set;
    atomic_init(&ref->refs, 1);
    return ref;
}

static void rules_publish(struct rules_ref *ref)
{
    pthread_mutex_lock(&live_lock);
    struct rules_ref *old = live_current;
    live_current = ref;
    pthread_mutex_unlock(&live_lock);
    rules_live_release(old);
}

static void *rules_reload_main(void *arg)
{
    (void)arg;
    uint64_t seen = rules_fingerprint(live_cfg->rules.dir);
    pthread_mutex_lock(&live_lock);
    while (!live_stopping) {
        struct timespec until = clock_real_after_ms((long)live_cfg->rules.reload_interval_ms);
        pthread_cond_timedwait(&live_wake, &live_lock, &until);
        if (live_stopping)
            break;
        pthread_mutex_unlock(&live_lock);

        uint64_t now = rules_fingerprint(live_cfg->rules.dir);
        if (now != seen) {
            seen = now;
            struct rules_ref *ref = rules_load(live_cfg->rules.dir);
            metrics_count_reload(ref != NULL, true, clock_real_us());
            if (ref != NULL) {
                log_info("rules: reloaded %s: version %s, %zu event types", live_cfg->rules.dir,
                         ruleset_version(ref->set), ruleset_count(ref->set));
                rules_publish(ref);
            } else {
                log_error("rules: %s not reloaded; the previous rule set stays in force",
                          live_cfg->rules.dir);
            }
        }
        pthread_mutex_lock(&live_lock);
    }
    pthread_mutex_unlock(&live_lock);
    return NULL;
}

bool rules_live_start(const struct config *cfg)
{
    live_cfg = cfg;
    struct rules_ref *ref = rules_load(cfg->rules.dir);
    metrics_count_reload(ref != NULL, false, clock_real_us());
    if (ref == NULL)
        return false;
    log_info("rules: loaded %s: version %s, %zu event types", cfg->rules.dir,
             ruleset_version(ref->set), ruleset_count(ref->set));
    rules_publish(ref);
    live_stopping = false;
    if (pthread_create(&live_thread, NULL, rules_reload_main, NULL) != 0) {
        log_error("rules: cannot start the reload thread; rules will not be reloaded");
        return true;
    }
    live_thread_started = true;
    return true;
}

void rules_live_stop(void)
{
    if (live_thread_started) {
        pthread_mutex_lock(&live_lock);
        live_stopping = true;
        pthread_cond_signal(&live_wake);
        pthread_mutex_unlock(&live_lock);
        pthread_join(live_thread, NULL);
        live_thread_started = false;
    }
    rules_publish(NULL);
}

struct rules_ref *rules_live_acquire(const struct ruleset **set)
{
    pthread_mutex_lock(&live_lock);
    struct rules_ref *ref = live_current;
    if (ref != NULL)
        atomic_fetch_add(&ref->refs, 1);
    pthread_mutex_unlock(&live_lock);
    *set = ref != NULL ? ref->set : NULL;
    return ref;
}

void rules_live_release(struct rules_ref *ref)
{
    if (ref == NULL)
        return;
    if (atomic_fetch_sub(&ref->refs, 1) == 1) {
        ruleset_free(ref->set);
        free(ref);
    }
}
