/* browser_limit.c - token buckets of browser keys (see browser_limit.h).
 *
 * Tokens are counted in millionths so that refills at any rate stay exact
 * integers: a bucket holds burst * 1e6 at most and gains per_second per
 * elapsed microsecond.
 */
#include "autoconfig.h"

#include "fcgi/browser_limit.h"

#include <pthread.h>

#define BROWSER_LIMIT_SLOTS 1024
#define MICRO               1000000LL

struct browser_bucket {
    unsigned int key_id; /* 0: unused */
    int64_t tokens_u;    /* tokens * MICRO */
    int64_t at_us;       /* when tokens_u was right */
};

static pthread_mutex_t browser_limit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct browser_bucket browser_limit_table[BROWSER_LIMIT_SLOTS];

bool browser_limit_take(unsigned int key_id, int64_t now_us, int64_t per_second, int64_t burst,
                        int64_t *retry_after_s)
{
    if (per_second <= 0)
        return true;
    int64_t cap_u = burst * MICRO;
    bool ok;
    pthread_mutex_lock(&browser_limit_lock);
    struct browser_bucket *b = &browser_limit_table[key_id % BROWSER_LIMIT_SLOTS];
    if (b->key_id != key_id) {
        b->key_id = key_id;
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
        b->tokens_u -= MICRO;
        ok = true;
    } else {
        int64_t missing_u = MICRO - b->tokens_u;
        /* microseconds until one token: missing_u / per_second, rounded up to seconds */
        int64_t wait_us = (missing_u + per_second - 1) / per_second;
        *retry_after_s = (wait_us + MICRO - 1) / MICRO;
        if (*retry_after_s < 1)
            *retry_after_s = 1;
        ok = false;
    }
    pthread_mutex_unlock(&browser_limit_lock);
    return ok;
}
