/* gen_events.c - synthetic analyst data for the query benchmark.
 *
 * Writes tab-separated files that bench/queries/load.sh feeds to
 * LOAD DATA INFILE: applications, sessions, event_categories, event_types,
 * events (in chunks) and event_errors, shaped like what eye-spool stores
 * after a year of traffic:
 *
 *   - sessions start over the time span (2025 by default) with a daily and
 *     weekly rhythm and some growth over the year; each has 5-60 events
 *     (1% are long, 180-220 events, for the timeline query), one event every
 *     few seconds to a minute, so a session lasts minutes;
 *   - 6 categories x 5 names, skewed (page views are common, purchases
 *     rare), data objects of 100-200 bytes;
 *   - 3% of arrivals (-e) are rejected events in event_errors;
 *   - ids are the queue ids, assigned in arrival (received_at) order across
 *     events and errors, so a session's events are interleaved with
 *     everybody else's in the clustered index, as they are in production;
 *     session ids follow first sight, as the spool assigns them.
 *
 * Every constraint of the migrations holds: ids and event_id UUIDs are
 * unique (the low 48 bits of a UUID are a bijection of the id), session
 * keys are unique (same trick), and each session's event_count,
 * first_seen_at and last_seen_at are those of its events.
 *
 * Two shapes of events (-f):
 *   compact (default, migration 013): category_id and type_id into
 *     event_categories.tsv and event_types.tsv, the rows in the order of
 *     the primary key (occurred_at, id), so the bulk load appends to each
 *     monthly partition instead of inserting all over it; columns
 *     occurred_at, id, event_id, application_id, session_id, category_id,
 *     type_id, data, client_timestamp, sent_at, clock_skew_us,
 *     skew_corrected, received_at, stored_at, rules_version.
 *   old (migrations 001-012, for bench/migrate_013.sh): category and name
 *     as strings, rows in id order; columns id, event_id, application_id,
 *     session_id, category, name, data, occurred_at, client_timestamp,
 *     sent_at, clock_skew_us, skew_corrected, received_at, stored_at,
 *     rules_version. No dimension files.
 *
 * Usage: gen_events -o DIR -n EVENTS [-a FIRST_APP_ID] [-s SEED] [-e ERR_PCT]
 *                   [-d DAYS] [-c CHUNK_ROWS] [-f compact|old]
 * Deterministic for a given seed and shape. Prints a summary line on stderr.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, getopt */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GEN_APPS 4
#define GEN_CATEGORIES 6
#define GEN_NAMES 5
#define GEN_TYPES (GEN_CATEGORIES * GEN_NAMES)
#define GEN_RULE_VERSIONS 6
#define GEN_US 1000000LL
#define GEN_BUF_SIZE (1 << 20)

static char gen_buf_main[GEN_BUF_SIZE]; /* the one other file open at a time */
static char gen_buf_err[GEN_BUF_SIZE];  /* event_errors.tsv, open throughout */

typedef struct gen_item {
    int64_t occ_us;   /* occurred_at, microseconds since the epoch */
    int32_t delay_us; /* received_at - occurred_at */
    uint32_t sess;    /* session index (errors: UINT32_MAX for none) */
    uint8_t type;     /* category * GEN_NAMES + name */
    uint8_t app;      /* 0 .. GEN_APPS-1 */
    uint8_t err;      /* 0: valid event, else error code index + 1 */
} gen_item;

typedef struct gen_session {
    int64_t first_us;
    int64_t last_us;
    uint32_t count;
} gen_session;

static const char *const gen_app_names[GEN_APPS] = {"web-shop", "mobile-app", "help-center",
                                                    "blog"};
static const char *const gen_app_hosts[GEN_APPS] = {"www.shop.example", "m.shop.example",
                                                    "help.shop.example", "blog.shop.example"};
static const unsigned gen_app_weight[GEN_APPS] = {50, 25, 15, 10};

static const char *const gen_categories[GEN_CATEGORIES] = {
    "page interaction", "navigation", "form interaction", "commerce", "media", "account"};
static const unsigned gen_category_weight[GEN_CATEGORIES] = {35, 20, 15, 12, 10, 8};
static const char *const gen_names[GEN_CATEGORIES][GEN_NAMES] = {
    {"pageview", "cta click", "scroll", "hover", "copy"},
    {"link click", "back", "search", "filter", "paginate"},
    {"focus", "change", "submit", "validation error", "abandon"},
    {"add to cart", "remove from cart", "checkout start", "payment", "purchase"},
    {"play", "pause", "seek", "complete", "volume"},
    {"login", "logout", "signup", "password reset", "profile update"},
};
static const unsigned gen_name_weight[GEN_NAMES] = {40, 25, 15, 12, 8};

static const char *const gen_err_codes[] = {"unknown_event_type", "missing_field",
                                            "timestamp_in_future", "wrong_type",
                                            "pattern_mismatch", "unexpected_field"};
static const char *const gen_err_pointers[] = {"/name", "/data/path", "/timestamp", "/data",
                                               "/session_id", "/payload"};
static const char *const gen_err_messages[] = {
    "no rule for this event type", "required member is missing",
    "timestamp is more than 300 s in the future", "expected an object",
    "does not match the pattern of session_id", "member not allowed here"};
static const unsigned gen_err_weight[] = {30, 25, 15, 12, 10, 8};
#define GEN_ERR_CODES (sizeof gen_err_codes / sizeof gen_err_codes[0])

/* Page paths; those ending in '/' get a number appended. */
static const char *const gen_paths[] = {"/",         "/products", "/products/", "/cart",
                                        "/checkout", "/search",   "/help/article/",
                                        "/blog/",    "/account",  "/category/"};
#define GEN_PATHS (sizeof gen_paths / sizeof gen_paths[0])

static uint64_t gen_rng_state;

/* splitmix64: small, fast and good enough for synthetic data. */
static uint64_t gen_rand(void)
{
    uint64_t z = (gen_rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t gen_below(uint64_t n) { return gen_rand() % n; }

static double gen_unit(void) { return (double)(gen_rand() >> 11) / 9007199254740992.0; }

static unsigned gen_pick(const unsigned *weights, unsigned n)
{
    unsigned total = 0, i;
    for (i = 0; i < n; i++)
        total += weights[i];
    unsigned r = (unsigned)gen_below(total);
    for (i = 0; i < n; i++) {
        if (r < weights[i])
            return i;
        r -= weights[i];
    }
    return n - 1;
}

/* A bijection of the low 48 bits: distinct inputs give distinct outputs,
 * which keeps UUIDs and session keys unique while looking random. */
static uint64_t gen_mix48(uint64_t x)
{
    const uint64_t mask = (1ULL << 48) - 1;
    x &= mask;
    x = (x * 0x5DEECE66DULL) & mask; /* odd multipliers: bijective mod 2^48 */
    x ^= x >> 24;
    x = (x * 0x9E3779B1ULL) & mask;
    x ^= x >> 17;
    return x;
}

/* A stateless 64-bit hash (the splitmix64 finalizer). */
static uint64_t gen_hash(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A version-4 looking UUID for `n`, the same every time for the same n and
 * salt; its last 12 hex digits are a bijection of n, so it is unique. */
static void gen_uuid(char out[37], uint64_t n, uint64_t salt)
{
    uint64_t hi = gen_hash(n * 2 + 1 + (salt << 40));
    uint64_t lo = gen_mix48(n ^ salt);
    snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%x%03" PRIx64 "-%012" PRIx64,
             hi >> 32, (hi >> 16) & 0xffff, hi & 0xfff, 8 | (unsigned)((hi >> 12) & 3),
             (hi >> 52) & 0xfff, lo);
}

/* Formats microseconds since the epoch as DATETIME(6) text (UTC). */
#define GEN_TIME_LEN 80
static void gen_time(char out[GEN_TIME_LEN], int64_t us)
{
    time_t s = (time_t)(us / GEN_US);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, GEN_TIME_LEN, "%04d-%02d-%02d %02d:%02d:%02d.%06d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % GEN_US));
}

/* Relative traffic at a time: low at night (UTC, European audience), a
 * weekday peak, quieter weekends, +50% growth over the span. In [0, 1]. */
static double gen_traffic(int64_t us, int64_t start_us, int64_t span_us)
{
    static const double hourly[24] = {0.15, 0.1,  0.08, 0.07, 0.08, 0.12, 0.25, 0.45,
                                      0.65, 0.8,  0.9,  0.95, 0.9,  0.95, 1.0,  1.0,
                                      0.95, 0.9,  0.85, 0.8,  0.75, 0.6,  0.4,  0.25};
    int64_t s = us / GEN_US;
    int hour = (int)((s / 3600) % 24);
    int wday = (int)(((s / 86400) + 4) % 7); /* 1970-01-01 was a Thursday: 0 = Sunday */
    double w = hourly[hour] * ((wday == 0 || wday == 6) ? 0.7 : 1.0);
    double growth = 1.0 + 0.5 * (double)(us - start_us) / (double)span_us;
    return w * growth / 1.5;
}

static int64_t gen_start_time(int64_t start_us, int64_t span_us)
{
    for (;;) {
        int64_t t = start_us + (int64_t)(gen_unit() * (double)span_us);
        if (gen_unit() < gen_traffic(t, start_us, span_us))
            return t;
    }
}

static int gen_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int gen_cmp_item(const void *a, const void *b)
{
    const gen_item *x = a, *y = b;
    int64_t rx = x->occ_us + x->delay_us, ry = y->occ_us + y->delay_us;
    if (rx != ry)
        return (rx > ry) - (rx < ry);
    return (x->sess > y->sess) - (x->sess < y->sess);
}

/* The items in arrival order, for gen_cmp_perm (qsort has no context). */
static const gen_item *gen_sorted_items;

/* Orders indexes of gen_sorted_items by (occurred_at, id): the id is the
 * index + 1, so equal times fall to the index. */
static int gen_cmp_perm(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t ox = gen_sorted_items[x].occ_us, oy = gen_sorted_items[y].occ_us;
    if (ox != oy)
        return (ox > oy) - (ox < oy);
    return (x > y) - (x < y);
}

/* A data object of ~100-200 bytes for the event type; returns its length. */
static int gen_data(char *out, size_t size, unsigned type, unsigned app)
{
    char path[64];
    const char *base = gen_paths[gen_below(GEN_PATHS)];
    size_t blen = strlen(base);
    if (blen > 1 && base[blen - 1] == '/')
        snprintf(path, sizeof path, "%s%u", base, (unsigned)gen_below(5000) + 1);
    else
        snprintf(path, sizeof path, "%s", base);
    int n = snprintf(out, size, "{\"host\":\"%s\",\"path\":\"%s\"", gen_app_hosts[app], path);
    unsigned cat = type / GEN_NAMES, name = type % GEN_NAMES;
    switch (cat) {
    case 0:
        n += snprintf(out + n, size - n,
                      ",\"referrer\":\"https://www.google.com/\",\"viewport\":{\"w\":%u,\"h\":%u},"
                      "\"lang\":\"en-GB\",\"element\":\"%s\"",
                      1280 + 160 * (unsigned)gen_below(4), 720 + 180 * (unsigned)gen_below(2),
                      name == 1 ? "chat bubble" : "main");
        break;
    case 1:
        n += snprintf(out + n, size - n,
                      ",\"target\":\"/category/%u\",\"query\":\"%s\",\"page\":%u,\"results\":%u",
                      (unsigned)gen_below(300), name == 2 ? "running shoes" : "",
                      (unsigned)gen_below(10) + 1, (unsigned)gen_below(500));
        break;
    case 2:
        n += snprintf(out + n, size - n,
                      ",\"form\":{\"id\":\"signup-%u\",\"field\":\"email\",\"first_name\":\"John\","
                      "\"last_name\":\"Doe\"},\"duration_ms\":%u",
                      (unsigned)gen_below(20), (unsigned)gen_below(60000));
        break;
    case 3:
        n += snprintf(out + n, size - n,
                      ",\"sku\":\"SKU-%06u\",\"quantity\":%u,\"price\":%u.%02u,\"currency\":\"EUR\","
                      "\"cart_items\":%u",
                      (unsigned)gen_below(999999), (unsigned)gen_below(3) + 1,
                      (unsigned)gen_below(300), (unsigned)gen_below(100),
                      (unsigned)gen_below(8) + 1);
        break;
    case 4:
        n += snprintf(out + n, size - n,
                      ",\"media_id\":\"vid-%u\",\"position_s\":%u,\"duration_s\":%u,"
                      "\"quality\":\"720p\",\"muted\":%s",
                      (unsigned)gen_below(10000), (unsigned)gen_below(600),
                      600 + (unsigned)gen_below(600), gen_below(2) ? "true" : "false");
        break;
    default:
        n += snprintf(out + n, size - n,
                      ",\"user\":\"u%07u\",\"method\":\"%s\",\"mfa\":%s,\"plan\":\"standard\"",
                      (unsigned)gen_below(2000000), gen_below(3) ? "password" : "sso",
                      gen_below(4) ? "false" : "true");
        break;
    }
    n += snprintf(out + n, size - n, "}");
    return n;
}

static bool gen_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Opens DIR/NAME for writing with `buf` (1 MiB, owned by the caller, used
 * by one open file at a time) as its stdio buffer. */
static FILE *gen_open(const char *dir, const char *name, char *buf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "gen_events: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, buf, _IOFBF, GEN_BUF_SIZE);
    return f;
}

static bool gen_close(FILE *f, const char *what)
{
    if (f == NULL)
        return true;
    if (ferror(f) | (fclose(f) != 0)) {
        fprintf(stderr, "gen_events: writing %s failed: %s\n", what, strerror(errno));
        return false;
    }
    return true;
}

/* Where the event rows go: chunk files of `chunk` rows in `dir`. */
typedef struct gen_out {
    const char *dir;
    FILE *f; /* the open chunk, NULL before the first row */
    uint64_t chunk, written, data_bytes, app_base;
    unsigned chunk_no;
    bool compact;
    int64_t start_us, span_us;
    char versions[GEN_RULE_VERSIONS][17]; /* rule-set versions: one every two months or so */
} gen_out;

static const char *gen_version(const gen_out *o, int64_t occ_us)
{
    return o->versions[(occ_us - o->start_us) * GEN_RULE_VERSIONS / (o->span_us + 1)];
}

/* Writes one valid event as a row of o's shape, opening the next chunk file
 * when the current one is full. Returns false (logged) on an I/O error. */
static bool gen_event_row(gen_out *o, const gen_item *it, uint64_t id)
{
    char uuid[37], occ[GEN_TIME_LEN], recv[GEN_TIME_LEN], stored[GEN_TIME_LEN], sent[GEN_TIME_LEN];
    char data[512], skew[24];
    if (o->written % o->chunk == 0) {
        char fname[64];
        bool ok = gen_close(o->f, "events chunk");
        o->f = NULL;
        if (!ok)
            return false;
        snprintf(fname, sizeof fname, "events-%03u.tsv", o->chunk_no++);
        if ((o->f = gen_open(o->dir, fname, gen_buf_main)) == NULL)
            return false;
    }
    int64_t recv_us = it->occ_us + it->delay_us;
    gen_uuid(uuid, id, 0xE7E7);
    gen_time(occ, it->occ_us);
    gen_time(recv, recv_us);
    gen_time(stored, recv_us + 200000 + (int64_t)gen_below(800000));
    unsigned cat = it->type / GEN_NAMES, name = it->type % GEN_NAMES;
    int dlen = gen_data(data, sizeof data, it->type, it->app);
    if (gen_below(10) < 4) {
        int64_t s = (int64_t)gen_below(4000000) - 2000000;
        gen_time(sent, recv_us - s);
        snprintf(skew, sizeof skew, "%" PRId64, s);
    } else {
        snprintf(sent, sizeof sent, "\\N");
        snprintf(skew, sizeof skew, "\\N");
    }
    o->written++;
    o->data_bytes += (uint64_t)dlen;
    if (o->compact)
        fprintf(o->f, "%s\t%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu32 "\t%u\t%u\t%s\t%s\t%s\t%s\t0\t%s\t%s\t%s\n",
                occ, id, uuid, o->app_base + it->app, it->sess + 1, cat + 1, (unsigned)it->type + 1,
                data, occ, sent, skew, recv, stored, gen_version(o, it->occ_us));
    else
        fprintf(o->f, "%" PRIu64 "\t%s\t%" PRIu64 "\t%" PRIu32 "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t0\t%s\t%s\t%s\n",
                id, uuid, o->app_base + it->app, it->sess + 1, gen_categories[cat],
                gen_names[cat][name], data, occ, occ, sent, skew, recv, stored,
                gen_version(o, it->occ_us));
    return true;
}

static void gen_usage(void)
{
    fprintf(stderr, "usage: gen_events -o DIR -n EVENTS [-a FIRST_APP_ID] [-s SEED] [-e ERR_PCT]"
                    " [-d DAYS] [-c CHUNK_ROWS] [-f compact|old]\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t n_events = 0, app_base = 1, seed = 20250101, err_pct = 3, days = 365,
             chunk = 1000000;
    int opt;
    bool ok = true, compact = true;
    while ((opt = getopt(argc, argv, "o:n:a:s:e:d:c:f:")) != -1) {
        switch (opt) {
        case 'o': dir = optarg; break;
        case 'n': ok = ok && gen_parse_u64(optarg, 2000000000ULL, &n_events); break; /* < 2^32 items */
        case 'a': ok = ok && gen_parse_u64(optarg, 1000000, &app_base); break;
        case 's': ok = ok && gen_parse_u64(optarg, UINT64_MAX, &seed); break;
        case 'e': ok = ok && gen_parse_u64(optarg, 50, &err_pct); break;
        case 'd': ok = ok && gen_parse_u64(optarg, 3650, &days); break;
        case 'c': ok = ok && gen_parse_u64(optarg, 100000000, &chunk); break;
        case 'f':
            if (strcmp(optarg, "compact") == 0)
                compact = true;
            else if (strcmp(optarg, "old") == 0)
                compact = false;
            else
                ok = false;
            break;
        default: ok = false; break;
        }
    }
    if (!ok || dir == NULL || n_events == 0 || days == 0 || chunk == 0) {
        gen_usage();
        return 2;
    }
    gen_rng_state = seed;

    const int64_t start_us = 1735689600LL * GEN_US; /* 2025-01-01 00:00:00 UTC */
    const int64_t span_us = (int64_t)days * 86400 * GEN_US - 2 * 3600 * GEN_US;
    uint64_t n_errors = n_events * err_pct / 100;
    uint64_t n_items = n_events + n_errors;

    gen_item *items = NULL;
    gen_session *sess = NULL;
    int64_t *starts = NULL;
    uint32_t *perm = NULL;
    FILE *f = NULL;
    gen_out out = {.f = NULL};
    int rc = 1;

    /* Session sizes first (so the total is exactly n_events), then start
     * times, sorted so session ids follow first sight. */
    size_t cap = n_events / 4 + 16, n_sess = 0;
    sess = calloc(cap, sizeof *sess);
    items = malloc(n_items * sizeof *items);
    if (sess == NULL || items == NULL) {
        fprintf(stderr, "gen_events: out of memory for %" PRIu64 " events\n", n_events);
        goto fail;
    }
    uint64_t left = n_events;
    while (left > 0) {
        uint32_t c = gen_below(100) == 0 ? 180 + (uint32_t)gen_below(41)
                                         : 5 + (uint32_t)gen_below(56);
        if (c > left)
            c = (uint32_t)left;
        sess[n_sess++].count = c;
        left -= c;
    }
    starts = malloc(n_sess * sizeof *starts);
    if (starts == NULL) {
        fprintf(stderr, "gen_events: out of memory for %zu sessions\n", n_sess);
        goto fail;
    }
    for (size_t i = 0; i < n_sess; i++)
        starts[i] = gen_start_time(start_us, span_us);
    qsort(starts, n_sess, sizeof *starts, gen_cmp_i64);

    size_t k = 0;
    for (size_t i = 0; i < n_sess; i++) {
        unsigned app = gen_pick(gen_app_weight, GEN_APPS);
        int64_t t = starts[i];
        /* A session browses one area: its categories lean on two types. */
        unsigned fav = gen_pick(gen_category_weight, GEN_CATEGORIES) * GEN_NAMES;
        sess[i].first_us = t;
        for (uint32_t j = 0; j < sess[i].count; j++) {
            if (j > 0) {
                uint64_t r = gen_below(100);
                /* 1% exact ties (same timestamp: order falls to the id) */
                t += r == 0 ? 0 : (int64_t)(1 + gen_unit() * gen_unit() * 60.0 * GEN_US);
            }
            gen_item *it = &items[k++];
            it->occ_us = t;
            it->delay_us = (int32_t)(30000 + gen_unit() * gen_unit() * 2000000.0);
            it->sess = (uint32_t)i;
            it->type = gen_below(3) == 0
                           ? (uint8_t)(fav + gen_pick(gen_name_weight, GEN_NAMES))
                           : (uint8_t)(gen_pick(gen_category_weight, GEN_CATEGORIES) * GEN_NAMES +
                                       gen_pick(gen_name_weight, GEN_NAMES));
            it->app = gen_below(100) < 3 ? (uint8_t)gen_below(GEN_APPS) : (uint8_t)app;
            it->err = 0;
        }
        sess[i].last_us = t;
    }
    for (uint64_t e = 0; e < n_errors; e++) {
        gen_item *it = &items[k++];
        it->occ_us = gen_start_time(start_us, span_us);
        it->delay_us = (int32_t)(30000 + gen_unit() * 1000000.0);
        it->sess = gen_below(10) == 0 ? UINT32_MAX : (uint32_t)gen_below(n_sess);
        it->type = (uint8_t)(gen_pick(gen_category_weight, GEN_CATEGORIES) * GEN_NAMES +
                             gen_pick(gen_name_weight, GEN_NAMES));
        it->app = (uint8_t)gen_pick(gen_app_weight, GEN_APPS);
        it->err = (uint8_t)(1 + gen_pick(gen_err_weight, GEN_ERR_CODES));
    }
    qsort(items, n_items, sizeof *items, gen_cmp_item); /* arrival order = queue id */

    /* applications.tsv: id, name, created_at */
    if ((f = gen_open(dir, "applications.tsv", gen_buf_main)) == NULL)
        goto fail;
    for (unsigned a = 0; a < GEN_APPS; a++)
        fprintf(f, "%" PRIu64 "\t%s\t2024-12-01 09:00:00.000000\n", app_base + a, gen_app_names[a]);
    ok = gen_close(f, "applications.tsv");
    f = NULL;
    if (!ok)
        goto fail;

    /* sessions.tsv: id, session_key, first_seen_at, last_seen_at, event_count, created_at */
    if ((f = gen_open(dir, "sessions.tsv", gen_buf_main)) == NULL)
        goto fail;
    for (size_t i = 0; i < n_sess; i++) {
        char key[37], first[GEN_TIME_LEN], last[GEN_TIME_LEN];
        gen_uuid(key, i, 0x5E55);
        gen_time(first, sess[i].first_us);
        gen_time(last, sess[i].last_us);
        fprintf(f, "%zu\t%s\t%s\t%s\t%" PRIu32 "\t%s\n", i + 1, key, first, last, sess[i].count,
                first);
    }
    ok = gen_close(f, "sessions.tsv");
    f = NULL;
    if (!ok)
        goto fail;

    /* event_categories.tsv: id, name; event_types.tsv: id, category_id,
     * name. Category c has id c + 1, type t (c * GEN_NAMES + name) id t + 1. */
    if (compact) {
        if ((f = gen_open(dir, "event_categories.tsv", gen_buf_main)) == NULL)
            goto fail;
        for (unsigned c = 0; c < GEN_CATEGORIES; c++)
            fprintf(f, "%u\t%s\n", c + 1, gen_categories[c]);
        ok = gen_close(f, "event_categories.tsv");
        f = NULL;
        if (!ok)
            goto fail;
        if ((f = gen_open(dir, "event_types.tsv", gen_buf_main)) == NULL)
            goto fail;
        for (unsigned t = 0; t < GEN_TYPES; t++)
            fprintf(f, "%u\t%u\t%s\n", t + 1, t / GEN_NAMES + 1, gen_names[t / GEN_NAMES][t % GEN_NAMES]);
        ok = gen_close(f, "event_types.tsv");
        f = NULL;
        if (!ok)
            goto fail;
    }

    out = (gen_out){.dir = dir, .chunk = chunk, .compact = compact, .app_base = app_base,
                    .start_us = start_us, .span_us = span_us};
    for (unsigned v = 0; v < GEN_RULE_VERSIONS; v++)
        snprintf(out.versions[v], sizeof out.versions[v], "%016" PRIx64, gen_rand());

    /* Compact rows go out in primary key order: their indexes first, in
     * arrival order, sorted once all the errors are written. */
    if (compact && (perm = malloc(n_events * sizeof *perm)) == NULL) {
        fprintf(stderr, "gen_events: out of memory for %" PRIu64 " event indexes\n", n_events);
        goto fail;
    }
    FILE *ferr = gen_open(dir, "event_errors.tsv", gen_buf_err);
    if (ferr == NULL)
        goto fail;
    size_t n_perm = 0;
    for (uint64_t i = 0; i < n_items; i++) {
        const gen_item *it = &items[i];
        uint64_t id = i + 1;
        if (it->err == 0) {
            if (compact)
                perm[n_perm++] = (uint32_t)i;
            else if (!gen_event_row(&out, it, id))
                goto fail_err;
            continue;
        }
        char uuid[37], occ[GEN_TIME_LEN], recv[GEN_TIME_LEN], stored[GEN_TIME_LEN];
        char data[512];
        int64_t recv_us = it->occ_us + it->delay_us;
        gen_uuid(uuid, id, 0xE7E7);
        gen_time(occ, it->occ_us);
        gen_time(recv, recv_us);
        gen_time(stored, recv_us + 200000 + (int64_t)gen_below(800000));
        const char *version = gen_version(&out, it->occ_us);
        unsigned cat = it->type / GEN_NAMES, name = it->type % GEN_NAMES;
        gen_data(data, sizeof data, it->type, it->app);
        unsigned code = it->err - 1u;
        char key[37];
        if (it->sess == UINT32_MAX) {
            snprintf(key, sizeof key, "\\N");
        } else {
            gen_uuid(key, it->sess, 0x5E55); /* an existing session's key */
        }
        const char *shown_name = code == 0 ? "tap" : gen_names[cat][name];
        /* id, event_id, application_id, received_at, session_key, category,
         * name, code, pointer, message, payload, payload_truncated,
         * rules_version, stored_at */
        fprintf(ferr,
                "%" PRIu64 "\t%s\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t"
                "{\"session_id\":\"%s\",\"category\":\"%s\",\"name\":\"%s\",\"data\":%s,"
                "\"timestamp\":\"%s\"}\t0\t%s\t%s\n",
                id, uuid, app_base + it->app, recv, key, gen_categories[cat], shown_name,
                gen_err_codes[code], gen_err_pointers[code], gen_err_messages[code],
                it->sess == UINT32_MAX ? "bad session!" : key, gen_categories[cat], shown_name,
                data, occ, version, stored);
    }
    ok = gen_close(ferr, "event_errors.tsv");
    if (!ok)
        goto fail;
    if (compact) {
        gen_sorted_items = items;
        qsort(perm, n_perm, sizeof *perm, gen_cmp_perm);
        for (size_t j = 0; j < n_perm; j++)
            if (!gen_event_row(&out, &items[perm[j]], (uint64_t)perm[j] + 1))
                goto fail;
    }
    ok = gen_close(out.f, "events chunk");
    out.f = NULL;
    if (!ok)
        goto fail;
    fprintf(stderr,
            "gen_events: %" PRIu64 " %s events in %u files, %zu sessions, %" PRIu64
            " errors, %u applications, mean data %" PRIu64 " bytes\n",
            out.written, compact ? "compact" : "old-shape", out.chunk_no, n_sess, n_errors,
            GEN_APPS, out.written ? out.data_bytes / out.written : 0);
    rc = 0;
    goto fail_closed;

fail_err:
    gen_close(ferr, "event_errors.tsv");
fail:
    gen_close(f, "output");
    gen_close(out.f, "events chunk");
fail_closed:
    free(perm);
    free(starts);
    free(items);
    free(sess);
    return rc;
}
