/* queue_watch.h - the queue's depth and age, refreshed in the background.
 *
 * One thread per eye.fcgi process reads the queue_status view about once a
 * second with its own connection, so requests learn whether the queue is
 * over its high-water mark from memory: never a COUNT(*) per request.
 */
#ifndef EYE_FCGI_QUEUE_WATCH_H
#define EYE_FCGI_QUEUE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/config.h"

struct queue_status {
    bool known;            /* at least one successful reading */
    bool db_up;            /* the last reading succeeded */
    int64_t depth;         /* queued rows (upper bound) */
    int64_t oldest_age_us; /* age of the oldest queued row; 0 when empty */
    int64_t read_at_us;    /* when the values were read */
};

/* Starts the watcher thread (cfg must outlive it). Returns false when the
 * thread cannot be started. */
bool queue_watch_start(const struct config *cfg);

/* Stops the watcher thread. */
void queue_watch_stop(void);

/* Copies the latest reading into *out. */
void queue_watch_get(struct queue_status *out);

/* Returns true when the latest reading is above a configured high-water
 * mark (ingest.queue_max_rows or ingest.queue_max_age_seconds). */
bool queue_watch_over_limit(const struct config *cfg);

#endif
