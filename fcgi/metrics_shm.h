/* metrics_shm.h - eye.fcgi's counters, shared by all its processes.
 *
 * lighttpd (max-procs) and Apache (FcgidMaxProcessesPerClass) run several
 * eye.fcgi processes, and a Prometheus scrape reaches whichever one the
 * server picks. So the counters do not live in a process: they live in one
 * file mapped MAP_SHARED by every process of the deployment, and every
 * update is one lock-free atomic add on that mapping. A scrape reads the
 * same memory every process writes, so it reports the exact totals of all
 * of them, whichever answers; a process that dies (or is restarted by the
 * server) takes nothing with it.
 *
 * The file is metrics.file, or, when that is empty, "eye-metrics" in the
 * folder of the FastCGI listening socket (fd 0): lighttpd's run folder
 * (EYE_RUN_DIR), Apache's FcgidIPCDir. Its layout is fixed-size (a header
 * with a magic number, a layout version and the size; then plain arrays of
 * 64-bit atomics, and a fixed open-addressing table for the labelled event
 * counters), so no pointer is ever stored in it. A process that finds a
 * file of another layout (an upgrade) starts it afresh, under flock, which
 * Prometheus sees as an ordinary counter reset.
 *
 * No lock is taken on any update. Event-type series are claimed in the
 * table with a compare-and-swap on the slot's state; a full table (or a
 * long probe) counts into one overflow series, so the label set is bounded
 * whatever the traffic.
 */
#ifndef EYE_FCGI_METRICS_SHM_H
#define EYE_FCGI_METRICS_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

/* Routes, as the http metrics label them. */
enum metrics_route {
    MR_INGEST,        /* POST /v1/events, POST /api/events/ */
    MR_READ_EVENTS,   /* GET /v1/events, GET /api/events/ */
    MR_READ_TIMELINE, /* GET /v1/sessions/{id}/events */
    MR_READ_ERRORS,   /* GET /v1/errors */
    MR_HEALTH,        /* /v1/health */
    MR_METRICS,       /* /metrics */
    MR_STATUS,        /* /status and its /v1/status/ data */
    MR_OTHER,         /* anything else (404, 405 on unknown paths) */
    MR_NROUTES
};

/* HTTP statuses counted one by one; any other is "other". */
#define METRICS_NSTATUS 20
/* Request-duration buckets (upper bounds in µs), then +Inf. */
#define METRICS_NDUR 15
/* Group-commit size buckets (rows), then +Inf. */
#define METRICS_NROWS 14

/* Reasons of a 503 eye.fcgi answers itself. */
enum metrics_unavailable {
    MU_DATABASE,      /* database_unavailable */
    MU_QUEUE_FULL,    /* queue_full */
    MU_RULES,         /* rules_unavailable */
    MU_OUT_OF_MEMORY, /* out_of_memory */
    MU_OTHER,
    MU_NREASONS
};

#define METRICS_LABEL_MAX   72 /* category, name: the envelope allows 64 */
#define METRICS_CODE_MAX    48 /* error codes are short ASCII words */
#define METRICS_EVENT_SLOTS 4096
#define METRICS_PROCS       64

enum metrics_slot_state { MS_EMPTY, MS_WRITING, MS_READY };

struct metrics_event_slot {
    _Atomic uint32_t state;
    uint32_t application_id;
    uint64_t hash;
    char category[METRICS_LABEL_MAX];
    char name[METRICS_LABEL_MAX];
    char code[METRICS_CODE_MAX]; /* "" for accepted */
    _Atomic uint64_t count;
};

struct metrics_proc {
    _Atomic int32_t pid; /* 0: free */
    int32_t pad;
    _Atomic int64_t started_us;
    _Atomic uint64_t requests; /* answered by this process */
};

struct metrics_shm {
    uint64_t magic;
    uint32_t layout;
    uint32_t size;
    _Atomic int64_t created_us; /* when this file's counters started */

    _Atomic uint64_t http[MR_NROUTES][METRICS_NSTATUS + 1];
    _Atomic uint64_t http_dur[MR_NROUTES][METRICS_NDUR + 1]; /* per bucket, not cumulative */
    _Atomic uint64_t http_dur_sum_us[MR_NROUTES];

    _Atomic uint64_t unavailable[MU_NREASONS];

    _Atomic uint64_t group_rows[METRICS_NROWS + 1];
    _Atomic uint64_t group_rows_sum;
    _Atomic uint64_t commit_dur[METRICS_NDUR + 1];
    _Atomic uint64_t commit_dur_sum_us;
    _Atomic uint64_t commit_failed;

    _Atomic uint64_t rules_reloads, rules_reload_failures;
    _Atomic int64_t rules_last_reload_us, rules_last_failed_reload_us;

    _Atomic uint64_t events_overflow[2]; /* accepted, rejected: the table was full */

    struct metrics_proc procs[METRICS_PROCS];
    struct metrics_event_slot slots[METRICS_EVENT_SLOTS];
};

/* The statuses counted one by one, in the order of the http arrays. */
extern const int metrics_statuses[METRICS_NSTATUS];
/* Bucket bounds: request and commit durations (µs), group sizes (rows). */
extern const int64_t metrics_dur_bounds_us[METRICS_NDUR];
extern const int64_t metrics_rows_bounds[METRICS_NROWS];
extern const char *const metrics_route_names[MR_NROUTES];
extern const char *const metrics_unavailable_names[MU_NREASONS];

/* Maps the shared file (see above) and registers this process in it.
 * Returns false (logged) when the file cannot be had; the counters then
 * live in this process only, so the program keeps serving. With
 * metrics.enabled false nothing is mapped, every update is a no-op and
 * metrics_shm() is NULL. Call once, in main, before any thread. */
bool metrics_shm_open(const struct config *cfg);

/* Unregisters this process and unmaps (the file stays for the others). */
void metrics_shm_close(void);

/* The mapping (NULL only when metrics are disabled); borrowed. */
struct metrics_shm *metrics_shm(void);

/* The file's path, "" when the counters are private to this process. */
const char *metrics_shm_path(void);

/* Updates. All are lock-free and safe from any thread of any process. */
void metrics_count_request(enum metrics_route route, int status, int64_t duration_us);
void metrics_count_unavailable(const char *code);
void metrics_count_commit(size_t rows, int64_t duration_us, bool ok);
/* A load of the rules folder at at_us; counted in the reload totals only
 * when it is a reload (not a process's first load). */
void metrics_count_reload(bool ok, bool reload, int64_t at_us);
/* One event's outcome: code NULL for accepted. category and name are the
 * labels already bounded by the caller (a rule's, or a placeholder). */
void metrics_count_event(unsigned int application_id, const char *category, const char *name,
                         const char *code);

#endif
