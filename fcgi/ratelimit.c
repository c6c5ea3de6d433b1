/* ratelimit.c - token buckets (see ratelimit.h).
 *
 * Tokens are counted in millionths so that refills at any rate stay exact
 * integers: a bucket holds burst * 1e6 at most and gains per_second per
 * elapsed microsecond.
 */
#include "autoconfig.h"

#include "fcgi/ratelimit.h"

#include <pthread.h>

#define RATELIMIT_SLOTS 1024
#define MICRO           1000000LL

struct ratelimit_bucket {
    uint64_t id;      /* valid when used */
    bool used;
    int64_t tokens_u; /* tokens * MICRO */
    int64_t at_us;    /* when tokens_u was right */
};

static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ratelimit_bucket ratelimit_buckets[RATELIMIT_TABLES][RATELIMIT_SLOTS];

/* Spreads ids that differ only in high bits (IPv6 prefixes) over the slots. */
static unsigned int ratelimit_slot(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (unsigned int)(id % RATELIMIT_SLOTS);
}

/* Refills and, when take, takes a token; the caller holds the lock. */
static bool ratelimit_step(enum ratelimit_table table, uint64_t id, int64_t now_us,
                           int64_t per_second, int64_t burst, bool take, int64_t *retry_after_s)
{
    int64_t cap_u = burst * MICRO;
    struct ratelimit_bucket *b = &ratelimit_buckets[table][ratelimit_slot(id)];
    if (!b->used || b->id != id) {
        b->used = true;
        b->id = id;
        b->tokens_u = cap_u;
        b->at_us = now_us;
    }
    int64_t elapsed = now_us - b->at_us;
    if (elapsed > 0) {
        /* elapsed * per_second overflows only after ~290 years at 1e6/s */
        int64_t gained = elapsed > cap_u ? cap_u : elapsed * per_second;
        b->tokens_u = b->tokens_u + gained > cap_u ? cap_u : b->tokens_u + gained;
        b->at_us = now_us;
    }
    if (b->tokens_u >= MICRO) {
        if (take)
            b->tokens_u -= MICRO;
        return true;
    }
    int64_t missing_u = MICRO - b->tokens_u;
    /* microseconds until one token: missing_u / per_second, rounded up to seconds */
    int64_t wait_us = (missing_u + per_second - 1) / per_second;
    *retry_after_s = (wait_us + MICRO - 1) / MICRO;
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return false;
}

bool ratelimit_take(enum ratelimit_table table, uint64_t id, int64_t now_us, int64_t per_second,
                    int64_t burst, int64_t *retry_after_s)
{
    if (per_second <= 0)
        return true;
    pthread_mutex_lock(&ratelimit_lock);
    bool ok = ratelimit_step(table, id, now_us, per_second, burst, true, retry_after_s);
    pthread_mutex_unlock(&ratelimit_lock);
    return ok;
}

bool ratelimit_check(enum ratelimit_table table, uint64_t id, int64_t now_us, int64_t per_second,
                     int64_t burst, int64_t *retry_after_s)
{
    if (per_second <= 0)
        return true;
    pthread_mutex_lock(&ratelimit_lock);
    bool ok = ratelimit_step(table, id, now_us, per_second, burst, false, retry_after_s);
    pthread_mutex_unlock(&ratelimit_lock);
    return ok;
}
