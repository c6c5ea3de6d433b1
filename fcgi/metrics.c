/* metrics.c - the /metrics endpoint (see metrics.h).
 *
 * The answer is built in one growable buffer (bounded by METRICS_MAX_BYTES)
 * and sent whole. Names follow Prometheus' conventions: the eye_ prefix,
 * base units (seconds, bytes), _total for counters, _seconds histograms,
 * a HELP and a TYPE line for every family. Label values are escaped as the
 * exposition format says (backslash, double quote, newline); none carries
 * event data, a session id or a key: applications by name, event types from
 * the rule set (unknown types counted as category="_unknown"), error codes
 * from the fixed list of codes.
 */
#include "autoconfig.h"

#include "fcgi/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi/queue_watch.h"
#include "fcgi/rules_live.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define METRICS_MAX_BYTES (16u * 1024 * 1024)
#define METRICS_MAX_APPS  10000

/* A growable text buffer; on overflow or out of memory it stops growing and
 * remembers that it failed. */
struct mbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p != NULL ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t want = b->cap == 0 ? 65536 : b->cap * 2;
        while (want < b->len + (size_t)n + 1)
            want *= 2;
        char *q = want > METRICS_MAX_BYTES ? NULL : realloc(b->p, want);
        if (q == NULL) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = want;
    }
}

/* Appends s as an escaped label value. */
static void mb_label(struct mbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            mb_printf(b, "\\\\");
        else if (*s == '"')
            mb_printf(b, "\\\"");
        else if (*s == '\n')
            mb_printf(b, "\\n");
        else
            mb_printf(b, "%c", *s);
    }
}

static void mb_family(struct mbuf *b, const char *name, const char *type, const char *help)
{
    mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum metrics_route metrics_route_of_request(const struct request *r)
{
    static const char sess[] = "/v1/sessions/";
    const char *path = r->path;
    if (strcmp(path, "/v1/events") == 0 || strcmp(path, "/api/events/") == 0 ||
        strcmp(path, "/api/events") == 0)
        return strcmp(r->method, "POST") == 0 ? MR_INGEST : MR_READ_EVENTS;
    if (strcmp(path, "/v1/errors") == 0)
        return MR_READ_ERRORS;
    if (strncmp(path, sess, sizeof(sess) - 1) == 0)
        return MR_READ_TIMELINE;
    if (strcmp(path, "/v1/health") == 0)
        return MR_HEALTH;
    if (strcmp(path, "/metrics") == 0)
        return MR_METRICS;
    if (strcmp(path, "/status") == 0 || strncmp(path, "/status/", 8) == 0 ||
        strncmp(path, "/v1/status/", 11) == 0)
        return MR_STATUS;
    return MR_OTHER;
}

/* Parses one "addr" or "addr/bits" entry into family, bytes and prefix. */
static bool metrics_parse_net(const char *entry, int *family, unsigned char *addr, int *bits)
{
    char text[INET6_ADDRSTRLEN + 8];
    if (strlen(entry) >= sizeof(text))
        return false;
    snprintf(text, sizeof(text), "%s", entry);
    char *slash = strchr(text, '/');
    if (slash != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, text, addr) == 1)
        *family = AF_INET, *bits = 32;
    else if (inet_pton(AF_INET6, text, addr) == 1)
        *family = AF_INET6, *bits = 128;
    else
        return false;
    if (slash != NULL) {
        int64_t v;
        if (!strparse_int64(slash + 1, 0, *bits, &v))
            return false;
        *bits = (int)v;
    }
    return true;
}

static bool metrics_prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool metrics_network_allowed(const struct config *cfg, const char *addr)
{
    const char *list = cfg->metrics.allow_networks;
    if (addr == NULL || list == NULL || *list == '\0')
        return false;
    unsigned char who[16];
    int who_family, who_bits;
    if (!metrics_parse_net(addr, &who_family, who, &who_bits))
        return false;
    /* An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d). */
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (who_family == AF_INET6 && memcmp(who, v4mapped, 12) == 0) {
        memmove(who, who + 12, 4);
        who_family = AF_INET;
    }
    static bool warned;
    const char *p = list;
    while (*p != '\0') {
        size_t skip = strspn(p, ", \t");
        p += skip;
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        char entry[INET6_ADDRSTRLEN + 8];
        unsigned char net[16];
        int family, bits;
        if (len < sizeof(entry)) {
            memcpy(entry, p, len);
            entry[len] = '\0';
            if (metrics_parse_net(entry, &family, net, &bits)) {
                if (family == who_family && metrics_prefix_match(who, net, bits))
                    return true;
            } else if (!warned) {
                warned = true;
                log_warn("metrics.allow_networks: '%s' is not an address or network; ignored",
                         entry);
            }
        }
        p += len;
    }
    return false;
}

/* Application names by id, read once per scrape. */
struct app_name {
    unsigned int id;
    char name[256];
};

static int app_cmp(const void *a, const void *b)
{
    unsigned int x = ((const struct app_name *)a)->id, y = ((const struct app_name *)b)->id;
    return x < y ? -1 : x > y;
}

/* Reads the application names (analyst account). Returns the array (caller
 * frees) and its length in *n, or NULL with *n = 0 when they cannot be read. */
static struct app_name *metrics_app_names(MYSQL *conn, size_t *n)
{
    *n = 0;
    if (conn == NULL ||
        mysql_query(conn, "SELECT id, name FROM applications ORDER BY id LIMIT 10000") != 0)
        return NULL;
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL)
        return NULL;
    size_t rows = (size_t)mysql_num_rows(res);
    struct app_name *a = calloc(rows > 0 ? rows : 1, sizeof(*a));
    MYSQL_ROW row;
    while (a != NULL && (row = mysql_fetch_row(res)) != NULL && *n < METRICS_MAX_APPS) {
        int64_t id;
        if (row[0] == NULL || row[1] == NULL || !strparse_int64(row[0], 0, UINT32_MAX, &id))
            continue;
        a[*n].id = (unsigned int)id;
        snprintf(a[*n].name, sizeof(a[*n].name), "%s", row[1]);
        (*n)++;
    }
    mysql_free_result(res);
    return a;
}

/* The last names read, for scrapes while the database is away: a series'
 * labels must not change with the database's availability. */
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct app_name *names_cache;
static size_t names_cached;

/* Remembers a fresh list (copied), or returns a copy of the last one into
 * *n when apps is NULL. Returns what the caller then owns (may be NULL). */
static struct app_name *metrics_names_cache(struct app_name *apps, size_t *n)
{
    pthread_mutex_lock(&names_lock);
    if (apps != NULL) {
        struct app_name *copy = malloc((*n > 0 ? *n : 1) * sizeof(*copy));
        if (copy != NULL) {
            memcpy(copy, apps, *n * sizeof(*copy));
            free(names_cache);
            names_cache = copy;
            names_cached = *n;
        }
    } else if (names_cache != NULL) {
        apps = malloc((names_cached > 0 ? names_cached : 1) * sizeof(*apps));
        if (apps != NULL) {
            memcpy(apps, names_cache, names_cached * sizeof(*apps));
            *n = names_cached;
        }
    }
    pthread_mutex_unlock(&names_lock);
    return apps;
}

/* Writes application="NAME" (or "#ID" when the name is not known). */
static void metrics_app_label(struct mbuf *b, const struct app_name *apps, size_t n,
                              unsigned int id)
{
    struct app_name key = {.id = id};
    const struct app_name *hit = n > 0 ? bsearch(&key, apps, n, sizeof(*apps), app_cmp) : NULL;
    mb_printf(b, "application=\"");
    if (hit != NULL)
        mb_label(b, hit->name);
    else
        mb_printf(b, "#%u", id);
    mb_printf(b, "\"");
}

static void metrics_http(struct mbuf *b, struct metrics_shm *m)
{
    mb_family(b, "eye_http_requests_total", "counter",
              "Requests answered by eye.fcgi, by route and HTTP status (all processes).");
    for (int r = 0; r < MR_NROUTES; r++)
        for (int s = 0; s <= METRICS_NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&m->http[r][s], memory_order_relaxed);
            if (v == 0)
                continue;
            if (s < METRICS_NSTATUS)
                mb_printf(b, "eye_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                          metrics_route_names[r], metrics_statuses[s], (unsigned long long)v);
            else
                mb_printf(b, "eye_http_requests_total{route=\"%s\",code=\"other\"} %llu\n",
                          metrics_route_names[r], (unsigned long long)v);
        }
    mb_family(b, "eye_http_request_duration_seconds", "histogram",
              "Time from accepting a request to its last byte handed to the web server.");
    for (int r = 0; r < MR_NROUTES; r++) {
        uint64_t cum = 0;
        for (int i = 0; i <= METRICS_NDUR; i++) {
            cum += atomic_load_explicit(&m->http_dur[r][i], memory_order_relaxed);
            if (i < METRICS_NDUR)
                mb_printf(b,
                          "eye_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                          metrics_route_names[r], (double)metrics_dur_bounds_us[i] / 1e6,
                          (unsigned long long)cum);
            else
                mb_printf(
                    b, "eye_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                    metrics_route_names[r], (unsigned long long)cum);
        }
        mb_printf(b, "eye_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                  metrics_route_names[r],
                  (double)atomic_load_explicit(&m->http_dur_sum_us[r], memory_order_relaxed) / 1e6);
        mb_printf(b, "eye_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  metrics_route_names[r], (unsigned long long)cum);
    }
    mb_family(b, "eye_http_unavailable_total", "counter",
              "503 answers of eye.fcgi, by reason (the code of the answer).");
    for (int i = 0; i < MU_NREASONS; i++)
        mb_printf(
            b, "eye_http_unavailable_total{reason=\"%s\"} %llu\n", metrics_unavailable_names[i],
            (unsigned long long)atomic_load_explicit(&m->unavailable[i], memory_order_relaxed));
}

static void metrics_events(struct mbuf *b, struct metrics_shm *m, const struct app_name *apps,
                           size_t napps)
{
    for (int rejected = 0; rejected < 2; rejected++) {
        const char *name = rejected ? "eye_events_rejected_total" : "eye_events_accepted_total";
        mb_family(b, name, "counter",
                  rejected ? "Events refused (committed to the queue as errors), by application, "
                             "event type and error code."
                           : "Events accepted (committed to the queue), by application and event "
                             "type.");
        for (size_t i = 0; i < METRICS_EVENT_SLOTS; i++) {
            struct metrics_event_slot *s = &m->slots[i];
            if (atomic_load_explicit(&s->state, memory_order_acquire) != MS_READY ||
                (s->code[0] != '\0') != (rejected != 0))
                continue;
            mb_printf(b, "%s{", name);
            metrics_app_label(b, apps, napps, s->application_id);
            mb_printf(b, ",category=\"");
            mb_label(b, s->category);
            mb_printf(b, "\",name=\"");
            mb_label(b, s->name);
            if (rejected) {
                mb_printf(b, "\",code=\"");
                mb_label(b, s->code);
            }
            mb_printf(b, "\"} %llu\n",
                      (unsigned long long)atomic_load_explicit(&s->count, memory_order_relaxed));
        }
    }
    mb_family(b, "eye_events_unlabelled_total", "counter",
              "Events counted without labels because the series table was full.");
    for (int k = 0; k < 2; k++)
        mb_printf(
            b, "eye_events_unlabelled_total{outcome=\"%s\"} %llu\n", k ? "rejected" : "accepted",
            (unsigned long long)atomic_load_explicit(&m->events_overflow[k], memory_order_relaxed));
}

static void metrics_histogram(struct mbuf *b, const char *name, const _Atomic uint64_t *buckets,
                              const int64_t *bounds, int n, double scale, double sum)
{
    uint64_t cum = 0;
    for (int i = 0; i <= n; i++) {
        cum += atomic_load_explicit(&buckets[i], memory_order_relaxed);
        if (i < n)
            mb_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] / scale,
                      (unsigned long long)cum);
        else
            mb_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
    }
    mb_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

static void metrics_commit(struct mbuf *b, struct metrics_shm *m)
{
    mb_family(b, "eye_queue_commit_rows", "histogram",
              "Queue rows per committed transaction (group commit shares one among requests).");
    metrics_histogram(b, "eye_queue_commit_rows", m->group_rows, metrics_rows_bounds, METRICS_NROWS,
                      1.0, (double)atomic_load(&m->group_rows_sum));
    mb_family(b, "eye_queue_commit_duration_seconds", "histogram",
              "Time of one queue insert and its COMMIT.");
    metrics_histogram(b, "eye_queue_commit_duration_seconds", m->commit_dur, metrics_dur_bounds_us,
                      METRICS_NDUR, 1e6, (double)atomic_load(&m->commit_dur_sum_us) / 1e6);
    mb_family(b, "eye_queue_commit_failures_total", "counter",
              "Queue transactions that failed (the requests in them got 503 or 500).");
    mb_printf(b, "eye_queue_commit_failures_total %llu\n",
              (unsigned long long)atomic_load(&m->commit_failed));
}

static void metrics_queue_rules(struct mbuf *b, struct metrics_shm *m)
{
    struct queue_status q;
    queue_watch_get(&q);
    if (q.known) {
        mb_family(b, "eye_queue_depth_rows", "gauge",
                  "Rows waiting in event_queue (an upper bound: max id - min id + 1).");
        mb_printf(b, "eye_queue_depth_rows %lld\n", (long long)q.depth);
        mb_family(b, "eye_queue_oldest_age_seconds", "gauge",
                  "Age of the oldest row waiting in event_queue (0 when empty).");
        mb_printf(b, "eye_queue_oldest_age_seconds %.6f\n", (double)q.oldest_age_us / 1e6);
        mb_family(b, "eye_queue_read_timestamp_seconds", "gauge",
                  "When the queue figures above were read from the database.");
        mb_printf(b, "eye_queue_read_timestamp_seconds %.3f\n", (double)q.read_at_us / 1e6);
    }
    const struct ruleset *rules = NULL;
    struct rules_ref *ref = rules_live_acquire(&rules);
    if (rules != NULL) {
        mb_family(b, "eye_rules_info", "gauge", "The rule set in force: its version, always 1.");
        mb_printf(b, "eye_rules_info{version=\"");
        mb_label(b, ruleset_version(rules));
        mb_printf(b, "\"} 1\n");
        mb_family(b, "eye_rules_event_types", "gauge", "Event types in the rule set in force.");
        mb_printf(b, "eye_rules_event_types %zu\n", ruleset_count(rules));
    }
    rules_live_release(ref);
    mb_family(b, "eye_rules_reloads_total", "counter",
              "Rule-set reloads that succeeded (after a change of the rules folder).");
    mb_printf(b, "eye_rules_reloads_total %llu\n",
              (unsigned long long)atomic_load(&m->rules_reloads));
    mb_family(b, "eye_rules_reload_failures_total", "counter",
              "Rule-set reloads refused (the folder did not load; the old set stays).");
    mb_printf(b, "eye_rules_reload_failures_total %llu\n",
              (unsigned long long)atomic_load(&m->rules_reload_failures));
    mb_family(b, "eye_rules_last_reload_timestamp_seconds", "gauge",
              "When a process last loaded the rules folder successfully (start-up included).");
    mb_printf(b, "eye_rules_last_reload_timestamp_seconds %.3f\n",
              (double)atomic_load(&m->rules_last_reload_us) / 1e6);
    mb_family(b, "eye_rules_last_failed_reload_timestamp_seconds", "gauge",
              "When a reload of the rules folder last failed (0: never).");
    mb_printf(b, "eye_rules_last_failed_reload_timestamp_seconds %.3f\n",
              (double)atomic_load(&m->rules_last_failed_reload_us) / 1e6);
}

/* Resident bytes and open descriptors of process pid, from /proc. */
static bool metrics_proc_read(int pid, long long *rss, long long *fds)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/statm", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    long long size = 0, resident = 0;
    bool ok = fscanf(f, "%lld %lld", &size, &resident) == 2;
    fclose(f);
    if (!ok)
        return false;
    *rss = resident * (long long)sysconf(_SC_PAGESIZE);
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    *fds = 0;
    if (d == NULL)
        return false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            (*fds)++;
    closedir(d);
    return true;
}

static void metrics_procs(struct mbuf *b, struct metrics_shm *m)
{
    struct {
        int pid;
        long long rss, fds;
        unsigned long long requests;
        double started;
    } p[METRICS_PROCS];
    int n = 0;
    for (int i = 0; i < METRICS_PROCS; i++) {
        int32_t pid = atomic_load(&m->procs[i].pid);
        if (pid == 0)
            continue;
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            /* Gone without unregistering (killed): free its slot. */
            atomic_compare_exchange_strong(&m->procs[i].pid, &pid, 0);
            continue;
        }
        if (metrics_proc_read(pid, &p[n].rss, &p[n].fds)) {
            p[n].pid = pid;
            p[n].started = (double)atomic_load(&m->procs[i].started_us) / 1e6;
            p[n].requests = atomic_load(&m->procs[i].requests);
            n++;
        }
    }
    mb_family(b, "eye_fcgi_processes", "gauge", "eye.fcgi processes sharing these counters.");
    mb_printf(b, "eye_fcgi_processes %d\n", n);
    mb_family(b, "eye_process_resident_memory_bytes", "gauge",
              "Resident memory of each eye.fcgi process.");
    for (int i = 0; i < n; i++)
        mb_printf(b, "eye_process_resident_memory_bytes{pid=\"%d\"} %lld\n", p[i].pid, p[i].rss);
    mb_family(b, "eye_process_open_fds", "gauge",
              "Open file descriptors of each eye.fcgi process.");
    for (int i = 0; i < n; i++)
        mb_printf(b, "eye_process_open_fds{pid=\"%d\"} %lld\n", p[i].pid, p[i].fds);
    mb_family(b, "eye_process_start_time_seconds", "gauge", "When each eye.fcgi process started.");
    for (int i = 0; i < n; i++)
        mb_printf(b, "eye_process_start_time_seconds{pid=\"%d\"} %.3f\n", p[i].pid, p[i].started);
    mb_family(b, "eye_process_requests_total", "counter",
              "Requests answered by each eye.fcgi process since it started.");
    for (int i = 0; i < n; i++)
        mb_printf(b, "eye_process_requests_total{pid=\"%d\"} %llu\n", p[i].pid, p[i].requests);
    mb_family(b, "eye_metrics_shared", "gauge",
              "1 when the counters are shared by all processes (metrics.file mapped), 0 when "
              "they are this process's only.");
    mb_printf(b, "eye_metrics_shared %d\n", metrics_shm_path()[0] != '\0');
}

/* Batch-duration bucket bounds of spool_status (seconds), then +Inf. */
static const double spool_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define SPOOL_NB (sizeof(spool_bounds) / sizeof(spool_bounds[0]))

/* The spool's figures from spool_status (analyst account). Returns false
 * when they cannot be read. */
static bool metrics_spool(struct mbuf *b, MYSQL *conn)
{
    static const char sql[] =
        "SELECT spooler, batches, rows_moved, events, errors, duplicates, quarantined, "
        "batch_us_sum, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, "
        "COALESCE(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', last_batch_at), 0), "
        "COALESCE(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', last_seen_at), 0), "
        "spooler <> '_retired' AND last_seen_at > NOW(6) - INTERVAL 1 HOUR "
        "FROM spool_status ORDER BY spooler LIMIT 1000";
    if (conn == NULL || mysql_query(conn, sql) != 0)
        return false;
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL)
        return false;
    enum {
        C_BATCHES = 1,
        C_ROWS,
        C_EVENTS,
        C_ERRORS,
        C_DUPS,
        C_QUAR,
        C_SUM,
        C_B0,
        C_LAST_BATCH = C_B0 + SPOOL_NB + 1,
        C_LAST_SEEN,
        C_LIVE,
        C_N
    };
    unsigned long long tot[C_N] = {0};
    size_t nlive = 0, nrows = (size_t)mysql_num_rows(res);
    struct live {
        char name[72];
        double last_batch, last_seen;
    } *live = calloc(nrows > 0 ? nrows : 1, sizeof(*live));
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        unsigned long long v[C_N] = {0};
        for (int c = 1; c < C_N; c++)
            v[c] = row[c] != NULL ? strtoull(row[c], NULL, 10) : 0;
        for (int c = 1; c < C_LAST_BATCH; c++)
            tot[c] += v[c];
        if (v[C_LIVE] && live != NULL && row[0] != NULL) {
            snprintf(live[nlive].name, sizeof(live[nlive].name), "%s", row[0]);
            live[nlive].last_batch = (double)v[C_LAST_BATCH] / 1e6;
            live[nlive].last_seen = (double)v[C_LAST_SEEN] / 1e6;
            nlive++;
        }
    }
    mysql_free_result(res);

    static const struct {
        int col;
        const char *name, *help;
    } counters[] = {
        {C_ROWS, "eye_spool_rows_total", "Queue rows the spoolers moved (all spoolers, ever)."},
        {C_EVENTS, "eye_spool_events_stored_total", "Events the spoolers stored in events."},
        {C_ERRORS, "eye_spool_errors_stored_total", "Errors the spoolers stored in event_errors."},
        {C_DUPS, "eye_spool_duplicates_total",
         "Events skipped because their event_id was already stored."},
        {C_QUAR, "eye_spool_quarantined_total", "Queue rows moved to event_quarantine."},
    };
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        mb_family(b, counters[i].name, "counter", counters[i].help);
        mb_printf(b, "%s %llu\n", counters[i].name, tot[counters[i].col]);
    }
    mb_family(b, "eye_spool_batch_duration_seconds", "histogram",
              "Time of one spool transaction (claim to commit), all spoolers.");
    unsigned long long cum = 0;
    for (size_t i = 0; i <= SPOOL_NB; i++) {
        cum += tot[C_B0 + i];
        if (i < SPOOL_NB)
            mb_printf(b, "eye_spool_batch_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      spool_bounds[i], cum);
        else
            mb_printf(b, "eye_spool_batch_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    mb_printf(b, "eye_spool_batch_duration_seconds_sum %.6f\n", (double)tot[C_SUM] / 1e6);
    mb_printf(b, "eye_spool_batch_duration_seconds_count %llu\n", cum);
    mb_family(b, "eye_spool_last_batch_timestamp_seconds", "gauge",
              "When each spooler (seen in the last hour) last committed a batch (0: never).");
    for (size_t i = 0; i < nlive; i++) {
        mb_printf(b, "eye_spool_last_batch_timestamp_seconds{spooler=\"");
        mb_label(b, live[i].name);
        mb_printf(b, "\"} %.3f\n", live[i].last_batch);
    }
    mb_family(b, "eye_spool_last_seen_timestamp_seconds", "gauge",
              "When each spooler (seen in the last hour) last reported, busy or idle.");
    for (size_t i = 0; i < nlive; i++) {
        mb_printf(b, "eye_spool_last_seen_timestamp_seconds{spooler=\"");
        mb_label(b, live[i].name);
        mb_printf(b, "\"} %.3f\n", live[i].last_seen);
    }
    free(live);
    return true;
}

void metrics_handle(struct worker *w, struct request *r)
{
    struct metrics_shm *m = metrics_shm();
    struct mbuf b = {0};
    MYSQL *conn = dbconn_get(&w->read_db);
    size_t napps = 0;
    struct app_name *apps = metrics_app_names(conn, &napps);
    if (apps == NULL && conn != NULL) {
        /* A connection that died while idle: one fresh try. */
        dbconn_failed(&w->read_db, mysql_errno(conn));
        conn = dbconn_get(&w->read_db);
        apps = metrics_app_names(conn, &napps);
    }
    bool db_ok = apps != NULL;
    apps = metrics_names_cache(apps, &napps);

    metrics_http(&b, m);
    metrics_events(&b, m, apps, napps);
    metrics_commit(&b, m);
    metrics_queue_rules(&b, m);
    if (db_ok && !metrics_spool(&b, conn)) {
        log_warn("metrics: spool_status: %s", mysql_error(conn));
        dbconn_failed(&w->read_db, mysql_errno(conn));
        db_ok = false;
    }
    metrics_procs(&b, m);
    mb_family(&b, "eye_database_up", "gauge",
              "1 when this scrape could read the database (application names, spool figures).");
    mb_printf(&b, "eye_database_up %d\n", db_ok);
    free(apps);

    if (b.failed) {
        request_reply_error(r, 503, NULL, "out_of_memory", NULL, "cannot build the metrics now");
    } else if (request_stream_begin(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL)) {
        if (strcmp(r->method, "HEAD") != 0)
            request_stream_write(r, b.p, b.len);
    }
    free(b.p);
}

/* The string member key of event, or NULL. */
static const char *metrics_member(struct json_object *event, const char *key, size_t *len)
{
    struct json_object *v = NULL;
    if (event == NULL || !json_object_is_type(event, json_type_object) ||
        !json_object_object_get_ex(event, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

void metrics_count_events(const struct ruleset *rules, struct json_object *const *events,
                          const struct queue_row *rows, size_t n, unsigned int application_id)
{
    for (size_t i = 0; i < n; i++) {
        size_t clen = 0, nlen = 0;
        const char *cat = metrics_member(events[i], "category", &clen);
        const char *name = metrics_member(events[i], "name", &nlen);
        const struct rule *rule =
            cat != NULL && name != NULL ? ruleset_lookup(rules, cat, clen, name, nlen) : NULL;
        /* Only types of the rule set become label values: whatever else a
         * client sends collapses into one series. */
        metrics_count_event(application_id, rule != NULL ? rule_category(rule) : "_unknown",
                            rule != NULL ? rule_name(rule) : "_unknown", rows[i].code);
    }
}
