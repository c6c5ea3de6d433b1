/* metrics_shm.c - the shared counter file of eye.fcgi (see metrics_shm.h).
 *
 * Opening: open or create the file, take flock(LOCK_EX), check its size,
 * magic and layout version, and start it afresh (truncate to zero, then to
 * the size: all counters zero) when any differs; map it; write the header
 * last; unlock. A file the size of the layout with the right header is
 * used as it is, so counters survive a process being restarted.
 *
 * Event series: a slot is found by open addressing on a 64-bit hash of
 * (kind, application, category, name, code). An empty slot is claimed by
 * CAS MS_EMPTY -> MS_WRITING; the claimant fills the key and publishes it
 * with a release store of MS_READY. A reader that meets MS_WRITING waits a
 * few spins for it; a slot left MS_WRITING by a process killed at that very
 * instant is skipped (its probe goes on), so nothing ever blocks.
 */
#include "autoconfig.h"

#include "fcgi/metrics_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

/* Cross-process atomics must not fall back to a lock in this process. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "32-bit atomics must be lock-free");

#define METRICS_MAGIC  0x3152544d45594531ULL /* "1EYEMTR1" */
#define METRICS_LAYOUT 1u
#define METRICS_PROBE  64

const int metrics_statuses[METRICS_NSTATUS] = {200, 202, 204, 301, 304, 400, 401, 403, 404, 405,
                                               411, 413, 414, 415, 422, 429, 500, 502, 503, 504};
const int64_t metrics_dur_bounds_us[METRICS_NDUR] = {250,    500,     1000,    2500,    5000,
                                                     10000,  25000,   50000,   100000,  250000,
                                                     500000, 1000000, 2500000, 5000000, 10000000};
const int64_t metrics_rows_bounds[METRICS_NROWS] = {1,   2,   5,    10,   20,   50,    100,
                                                    200, 500, 1000, 2000, 5000, 10000, 50000};
const char *const metrics_route_names[MR_NROUTES] = {[MR_INGEST] = "ingest",
                                                     [MR_READ_EVENTS] = "read_events",
                                                     [MR_READ_TIMELINE] = "read_timeline",
                                                     [MR_READ_ERRORS] = "read_errors",
                                                     [MR_HEALTH] = "health",
                                                     [MR_METRICS] = "metrics",
                                                     [MR_STATUS] = "status",
                                                     [MR_OTHER] = "other"};
const char *const metrics_unavailable_names[MU_NREASONS] = {[MU_DATABASE] = "database_unavailable",
                                                            [MU_QUEUE_FULL] = "queue_full",
                                                            [MU_RULES] = "rules_unavailable",
                                                            [MU_OUT_OF_MEMORY] = "out_of_memory",
                                                            [MU_OTHER] = "other"};

static struct metrics_shm *shm; /* the mapping, or private memory */
static bool shm_mapped;         /* shm is the shared file */
static char shm_file[4096];     /* its path */
static struct metrics_proc *shm_me;

/* The folder of the FastCGI listening socket on fd 0 + "/eye-metrics",
 * into buf. Returns false when fd 0 is not a Unix socket with a path. */
static bool metrics_default_path(char *buf, size_t cap)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    memset(&sa, 0, sizeof(sa));
    if (getsockname(0, (struct sockaddr *)&sa, &len) != 0 || sa.sun_family != AF_UNIX ||
        sa.sun_path[0] == '\0')
        return false;
    char dir[sizeof(sa.sun_path) + 1];
    snprintf(dir, sizeof(dir), "%.*s", (int)sizeof(sa.sun_path), sa.sun_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    int n = snprintf(buf, cap, "%s/eye-metrics", dir[0] != '\0' ? dir : "");
    return n > 0 && (size_t)n < cap;
}

/* Maps path, starting it afresh when its layout is not ours. */
static struct metrics_shm *metrics_map(const char *path)
{
    size_t size = sizeof(struct metrics_shm);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (fd < 0) {
        log_warn("metrics: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct metrics_shm *m = NULL;
    if (flock(fd, LOCK_EX) != 0) {
        log_warn("metrics: cannot lock %s: %s", path, strerror(errno));
        goto done;
    }
    struct stat st;
    bool fresh = fstat(fd, &st) != 0 || (size_t)st.st_size != size;
    if (!fresh) {
        struct {
            uint64_t magic;
            uint32_t layout, size;
        } head;
        fresh = pread(fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
                head.magic != METRICS_MAGIC || head.layout != METRICS_LAYOUT ||
                head.size != (uint32_t)size;
    }
    if (fresh && (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0)) {
        log_warn("metrics: cannot size %s: %s", path, strerror(errno));
        goto done;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        log_warn("metrics: cannot map %s: %s", path, strerror(errno));
        goto done;
    }
    m = p;
    if (fresh) {
        atomic_store(&m->created_us, clock_real_us());
        m->size = (uint32_t)size;
        m->layout = METRICS_LAYOUT;
        atomic_thread_fence(memory_order_release);
        m->magic = METRICS_MAGIC;
        log_info("metrics: counters start afresh in %s", path);
    }
done:
    /* Unlock explicitly: the mapping holds the open file, and with it the
     * lock, after close. */
    flock(fd, LOCK_UN);
    close(fd);
    return m;
}

/* Takes a slot of procs for this process: a free one, or one whose
 * process is gone. */
static void metrics_register(struct metrics_shm *m)
{
    int32_t me = (int32_t)getpid();
    for (int pass = 0; pass < 2 && shm_me == NULL; pass++)
        for (int i = 0; i < METRICS_PROCS; i++) {
            struct metrics_proc *p = &m->procs[i];
            int32_t pid = atomic_load(&p->pid);
            bool free_slot = pid == 0 || (pass == 1 && kill(pid, 0) != 0 && errno == ESRCH);
            if (free_slot && atomic_compare_exchange_strong(&p->pid, &pid, me)) {
                atomic_store(&p->started_us, clock_real_us());
                atomic_store(&p->requests, 0);
                shm_me = p;
                break;
            }
        }
}

bool metrics_shm_open(const struct config *cfg)
{
    if (!cfg->metrics.enabled)
        return false; /* every update sees shm == NULL and returns */
    const char *path = cfg->metrics.file;
    if (path == NULL || *path == '\0') {
        if (metrics_default_path(shm_file, sizeof(shm_file)))
            path = shm_file;
        else
            path = NULL;
    } else {
        snprintf(shm_file, sizeof(shm_file), "%s", path);
        path = shm_file;
    }
    if (path != NULL)
        shm = metrics_map(path);
    shm_mapped = shm != NULL;
    if (shm == NULL) {
        shm_file[0] = '\0';
        shm = calloc(1, sizeof(*shm));
        if (shm == NULL) {
            log_error("metrics: out of memory");
            return false;
        }
        atomic_store(&shm->created_us, clock_real_us());
        log_warn("metrics: no shared counter file (set metrics.file); /metrics reports this "
                 "process only");
    }
    metrics_register(shm);
    return shm_mapped;
}

void metrics_shm_close(void)
{
    if (shm == NULL)
        return;
    if (shm_me != NULL)
        atomic_store(&shm_me->pid, 0);
    shm_me = NULL;
    if (shm_mapped)
        munmap(shm, sizeof(*shm));
    else
        free(shm);
    shm = NULL;
}

struct metrics_shm *metrics_shm(void)
{
    return shm;
}

const char *metrics_shm_path(void)
{
    return shm_file;
}

static size_t metrics_bucket(const int64_t *bounds, size_t n, int64_t v)
{
    size_t i = 0;
    while (i < n && v > bounds[i])
        i++;
    return i; /* n: +Inf */
}

void metrics_count_request(enum metrics_route route, int status, int64_t duration_us)
{
    if (shm == NULL || route >= MR_NROUTES)
        return;
    size_t s = 0;
    while (s < METRICS_NSTATUS && metrics_statuses[s] != status)
        s++;
    if (duration_us < 0)
        duration_us = 0;
    atomic_fetch_add_explicit(&shm->http[route][s], 1, memory_order_relaxed);
    if (shm_me != NULL)
        atomic_fetch_add_explicit(&shm_me->requests, 1, memory_order_relaxed);
    size_t b = metrics_bucket(metrics_dur_bounds_us, METRICS_NDUR, duration_us);
    atomic_fetch_add_explicit(&shm->http_dur[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->http_dur_sum_us[route], (uint64_t)duration_us,
                              memory_order_relaxed);
}

void metrics_count_unavailable(const char *code)
{
    if (shm == NULL)
        return;
    size_t i = 0;
    while (i < MU_OTHER && strcmp(metrics_unavailable_names[i], code) != 0)
        i++;
    atomic_fetch_add_explicit(&shm->unavailable[i], 1, memory_order_relaxed);
}

void metrics_count_commit(size_t rows, int64_t duration_us, bool ok)
{
    if (shm == NULL)
        return;
    if (!ok) {
        atomic_fetch_add_explicit(&shm->commit_failed, 1, memory_order_relaxed);
        return;
    }
    if (duration_us < 0)
        duration_us = 0;
    size_t b = metrics_bucket(metrics_rows_bounds, METRICS_NROWS, (int64_t)rows);
    atomic_fetch_add_explicit(&shm->group_rows[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->group_rows_sum, rows, memory_order_relaxed);
    b = metrics_bucket(metrics_dur_bounds_us, METRICS_NDUR, duration_us);
    atomic_fetch_add_explicit(&shm->commit_dur[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&shm->commit_dur_sum_us, (uint64_t)duration_us, memory_order_relaxed);
}

void metrics_count_reload(bool ok, bool reload, int64_t at_us)
{
    if (shm == NULL)
        return;
    _Atomic int64_t *last = ok ? &shm->rules_last_reload_us : &shm->rules_last_failed_reload_us;
    if (reload)
        atomic_fetch_add_explicit(ok ? &shm->rules_reloads : &shm->rules_reload_failures, 1,
                                  memory_order_relaxed);
    int64_t seen = atomic_load(last);
    while (seen < at_us && !atomic_compare_exchange_weak(last, &seen, at_us))
        ;
}

static uint64_t metrics_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* True when slot s holds exactly this key. */
static bool metrics_slot_is(const struct metrics_event_slot *s, uint64_t hash, unsigned int app,
                            const char *category, const char *name, const char *code)
{
    return s->hash == hash && s->application_id == app && strcmp(s->category, category) == 0 &&
           strcmp(s->name, name) == 0 && strcmp(s->code, code) == 0;
}

void metrics_count_event(unsigned int application_id, const char *category, const char *name,
                         const char *code)
{
    if (shm == NULL)
        return;
    bool rejected = code != NULL;
    if (code == NULL)
        code = "";
    /* Keys longer than a slot holds are cut, and hashed as cut, so the
     * label shown and the key counted always agree. */
    char cat[METRICS_LABEL_MAX], nam[METRICS_LABEL_MAX], cod[METRICS_CODE_MAX];
    snprintf(cat, sizeof(cat), "%s", category);
    snprintf(nam, sizeof(nam), "%s", name);
    snprintf(cod, sizeof(cod), "%s", code);
    uint64_t h = metrics_fnv(1469598103934665603ULL, &application_id, sizeof(application_id));
    h = metrics_fnv(h, cat, strlen(cat) + 1);
    h = metrics_fnv(h, nam, strlen(nam) + 1);
    h = metrics_fnv(h, cod, strlen(cod) + 1);

    for (size_t probe = 0; probe < METRICS_PROBE; probe++) {
        struct metrics_event_slot *s = &shm->slots[(h + probe) % METRICS_EVENT_SLOTS];
        uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == MS_EMPTY) {
            uint32_t expect = MS_EMPTY;
            if (atomic_compare_exchange_strong(&s->state, &expect, MS_WRITING)) {
                s->hash = h;
                s->application_id = application_id;
                memcpy(s->category, cat, sizeof(cat));
                memcpy(s->name, nam, sizeof(nam));
                memcpy(s->code, cod, sizeof(cod));
                atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
                atomic_store_explicit(&s->state, MS_READY, memory_order_release);
                return;
            }
            state = expect; /* another thread took it first: look at it */
        }
        for (int spin = 0; state == MS_WRITING && spin < 1000; spin++) {
            sched_yield();
            state = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (state == MS_READY && metrics_slot_is(s, h, application_id, cat, nam, cod)) {
            atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
            return;
        }
    }
    atomic_fetch_add_explicit(&shm->events_overflow[rejected], 1, memory_order_relaxed);
}
