/* config.c - load The Eye's YAML configuration (see config.h).
 *
 * Every key lives in one static table (name, type, where it is stored,
 * default, bounds, description), in the manner of pgbouncer's config table:
 * defaults, the file and the environment all go through the same parser, and
 * `eye-admin config` documents the keys from the same table, so the docs
 * cannot drift from the code.
 */
#include "autoconfig.h"

#include "lib/config.h"
#include "lib/endpoint.h"
#include "lib/strparse.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#ifndef EYE_SYSCONFDIR
#define EYE_SYSCONFDIR "/etc/eye"
#endif
#ifndef EYE_DATADIR
#define EYE_DATADIR "/usr/share/the-eye"
#endif

enum config_type { CFG_STR, CFG_PATH, CFG_INT, CFG_BOOL, CFG_LOGLEVEL, CFG_ENDPOINTS };

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *doc;
};

#define OFF(field) offsetof(struct config, field)
#define KiB        1024LL
#define MiB        (1024LL * 1024LL)

static const struct config_key config_keys[] = {
    {"log_level", CFG_LOGLEVEL, OFF(log_level), "info", 0, 0,
     "Most verbose log level written to stderr: error, warn, info or debug."},

    {"database.host", CFG_STR, OFF(database.host), "", 0, 0,
     "MariaDB host name or address. Empty: connect through database.socket."},
    {"database.port", CFG_INT, OFF(database.port), "3306", 1, 65535, "MariaDB TCP port."},
    {"database.socket", CFG_PATH, OFF(database.socket), "/run/mysqld/mysqld.sock", 0, 0,
     "MariaDB Unix socket, used when database.host is empty."},
    {"database.hosts", CFG_ENDPOINTS, OFF(database.hosts), "", 0, 0,
     "Ordered list of writer endpoints, host[:port] separated by commas (a Galera cluster's "
     "nodes): the first usable one is the writer; when it fails every program moves to the "
     "next. Empty: the single server of database.host or database.socket."},
    {"database.read_hosts", CFG_ENDPOINTS, OFF(database.read_hosts), "", 0, 0,
     "Ordered list of endpoints for the read API (a standby node, a replica). Empty: the "
     "writer's list."},
    {"database.failback_seconds", CFG_INT, OFF(database.failback_seconds), "30", 0, 86400,
     "After a move down database.hosts, how often a program looks whether an earlier "
     "endpoint is usable again and moves back to it (0: never)."},
    {"database.name", CFG_STR, OFF(database.name), "eye", 0, 0, "Database (schema) name."},
    {"database.connect_timeout", CFG_INT, OFF(database.connect_timeout), "2", 1, 60,
     "Seconds to wait for a connection before giving up (answers 503 on the request path)."},
    {"database.read_timeout", CFG_INT, OFF(database.read_timeout), "5", 1, 3600,
     "Seconds to wait for a server reply before the connection is declared lost."},
    {"database.write_timeout", CFG_INT, OFF(database.write_timeout), "5", 1, 3600,
     "Seconds to wait for a write to the server before the connection is declared lost."},

    {"accounts.ingest.user", CFG_STR, OFF(accounts.ingest.user), "eye_ingest", 0, 0,
     "Account of eye.fcgi: reads keys, inserts into the queue."},
    {"accounts.ingest.password_file", CFG_PATH, OFF(accounts.ingest.password_file), "", 0, 0,
     "File whose first line is the ingest account's password (empty: no password)."},
    {"accounts.spool.user", CFG_STR, OFF(accounts.spool.user), "eye_spool", 0, 0,
     "Account of eye-spool: moves the queue into sessions, events and event_errors."},
    {"accounts.spool.password_file", CFG_PATH, OFF(accounts.spool.password_file), "", 0, 0,
     "File holding the spool account's password."},
    {"accounts.analyst.user", CFG_STR, OFF(accounts.analyst.user), "eye_analyst", 0, 0,
     "Read-only account for analysts and the read API."},
    {"accounts.analyst.password_file", CFG_PATH, OFF(accounts.analyst.password_file), "", 0, 0,
     "File holding the analyst account's password."},
    {"accounts.admin.user", CFG_STR, OFF(accounts.admin.user), "eye_admin", 0, 0,
     "Account of eye-admin: migrations, applications and keys, error replay."},
    {"accounts.admin.password_file", CFG_PATH, OFF(accounts.admin.password_file), "", 0, 0,
     "File holding the admin account's password."},

    {"rules.dir", CFG_PATH, OFF(rules.dir), EYE_DATADIR "/rules", 0, 0,
     "Folder of YAML rule files, one per event type, plus _envelope.yaml."},
    {"rules.reload_interval_ms", CFG_INT, OFF(rules.reload_interval_ms), "1000", 100, 3600000,
     "How often eye.fcgi checks the rules folder for changes."},
    {"migrations_dir", CFG_PATH, OFF(migrations_dir), EYE_DATADIR "/migrations", 0, 0,
     "Folder of numbered SQL migrations applied by `eye-admin migrate`."},

    {"ingest.threads", CFG_INT, OFF(ingest.threads), "8", 1, 256,
     "Worker threads per eye.fcgi process: the requests it serves at once."},
    {"ingest.group_commit_max_rows", CFG_INT, OFF(ingest.group_commit_max_rows), "5000", 0,
     1000000,
     "Most queue rows that concurrent requests share in one transaction (0: each request "
     "commits alone, on its worker's connection)."},
    {"ingest.max_body_bytes", CFG_INT, OFF(ingest.max_body_bytes), "1048576", 1 * KiB, 1024 * MiB,
     "Largest request body accepted, as sent (413 above it)."},
    {"ingest.max_decompressed_bytes", CFG_INT, OFF(ingest.max_decompressed_bytes), "8388608",
     1 * KiB, 4096 * MiB, "Largest body after gzip decompression (413 above it)."},
    {"ingest.max_events_per_request", CFG_INT, OFF(ingest.max_events_per_request), "500", 1, 100000,
     "Most events in one request (413 above it)."},
    {"ingest.max_event_bytes", CFG_INT, OFF(ingest.max_event_bytes), "32768", 256, 16 * MiB,
     "Largest data object of one event, serialized (above it: event_too_large)."},
    {"ingest.max_depth", CFG_INT, OFF(ingest.max_depth), "32", 2, 1000,
     "Deepest JSON nesting accepted in a body (400 nesting_too_deep above it)."},
    {"ingest.max_error_payload_bytes", CFG_INT, OFF(ingest.max_error_payload_bytes), "16384", 256,
     16 * MiB, "Rejected payloads are stored in event_errors cut to this size."},
    {"ingest.key_cache_seconds", CFG_INT, OFF(ingest.key_cache_seconds), "30", 0, 3600,
     "How long a looked-up key stays cached; a revoked key works at most this long."},
    {"ingest.auth_failures_per_second", CFG_INT, OFF(ingest.auth_failures_per_second), "5", 0,
     1000000,
     "Failed authentications (unknown or malformed keys) one client address may make per second "
     "to one eye.fcgi process once its burst is spent; then 429 until it slows (0: no limit)."},
    {"ingest.auth_failure_burst", CFG_INT, OFF(ingest.auth_failure_burst), "50", 1, 1000000,
     "Failed authentications a client address may make at once before "
     "ingest.auth_failures_per_second applies."},
    {"ingest.retry_after_seconds", CFG_INT, OFF(ingest.retry_after_seconds), "5", 1, 3600,
     "Retry-After value sent with 503 answers."},
    {"ingest.correct_clock_skew", CFG_BOOL, OFF(ingest.correct_clock_skew), "false", 0, 0,
     "Shift occurrence time by the measured client clock skew when sent_at is given."},
    {"ingest.queue_max_rows", CFG_INT, OFF(ingest.queue_max_rows), "5000000", 0, INT64_MAX,
     "Back-pressure: above this many queued rows writes get 503 (0: no limit)."},
    {"ingest.queue_max_age_seconds", CFG_INT, OFF(ingest.queue_max_age_seconds), "0", 0, INT64_MAX,
     "Back-pressure: when the oldest queued row is older, writes get 503 (0: off)."},

    {"privacy.client_ip", CFG_STR, OFF(privacy.client_ip), "truncate", 0, 0,
     "What is stored of the client's address with each event: drop (nothing), truncate (the "
     "IPv4 /24 or IPv6 /48 network) or hash (a keyed hash, privacy.ip_hash_key_file)."},
    {"privacy.ip_hash_key_file", CFG_PATH, OFF(privacy.ip_hash_key_file), "", 0, 0,
     "File whose first line is the secret key of privacy.client_ip: hash (required then)."},
    {"privacy.trusted_proxies", CFG_STR, OFF(privacy.trusted_proxies), "", 0, 0,
     "Space-separated addresses of proxies in front of the web server: from them (only) the "
     "client's address is taken from X-Forwarded-For."},
    {"browser.max_body_bytes", CFG_INT, OFF(browser.max_body_bytes), "65536", 1 * KiB, 1024 * MiB,
     "Largest request body from a browser key (bytes); at most ingest.max_body_bytes applies."},
    {"browser.max_events_per_request", CFG_INT, OFF(browser.max_events_per_request), "100", 1,
     100000, "Most events in one request from a browser key; at most ingest.max_events_per_request "
             "applies."},
    {"browser.rate_limit_per_second", CFG_INT, OFF(browser.rate_limit_per_second), "100", 0,
     1000000, "Requests per second one browser key may make to one eye.fcgi process (0: no "
              "limit); above it the answer is 429 with Retry-After."},
    {"browser.rate_limit_burst", CFG_INT, OFF(browser.rate_limit_burst), "500", 1, 10000000,
     "Requests a browser key may make at once before browser.rate_limit_per_second applies."},
    {"browser.preflight_max_age_seconds", CFG_INT, OFF(browser.preflight_max_age_seconds), "600",
     0, 86400, "How long browsers may cache a CORS preflight answer (Access-Control-Max-Age)."},
    {"browser.allow_server_keys", CFG_BOOL, OFF(browser.allow_server_keys), "false", 0, 0,
     "Accept write and read keys from web pages (requests with an Origin header). Off: only "
     "browser keys, bound to their origins, are."},

    {"spool.batch_size", CFG_INT, OFF(spool.batch_size), "4000", 1, 100000,
     "Queue rows claimed per transaction by eye-spool (at most: a batch takes what is queued)."},
    {"spool.poll_interval_ms", CFG_INT, OFF(spool.poll_interval_ms), "200", 10, 60000,
     "Longest sleep of an idle spooler before it looks at the queue again."},
    {"spool.max_attempts", CFG_INT, OFF(spool.max_attempts), "5", 1, 1000,
     "Failures of one queue row before it is moved to event_quarantine."},
    {"spool.summary_interval_seconds", CFG_INT, OFF(spool.summary_interval_seconds), "60", 1, 86400,
     "How often eye-spool logs a summary line at info level."},

    {"retention.events_days", CFG_INT, OFF(retention.events_days), "400", 0, 36500,
     "Events older than this many days (by occurrence time) are dropped by `eye-admin retention "
     "--apply`, a whole month's partition at a time (0: keep forever)."},
    {"retention.errors_days", CFG_INT, OFF(retention.errors_days), "90", 0, 36500,
     "Errors older than this many days (by receive time) are dropped by `eye-admin retention "
     "--apply`, by monthly partition (0: keep forever)."},
    {"retention.quarantine_days", CFG_INT, OFF(retention.quarantine_days), "90", 0, 36500,
     "Quarantined queue rows older than this many days are deleted by `eye-admin retention "
     "--apply` (0: keep forever)."},
    {"retention.partitions_ahead_months", CFG_INT, OFF(retention.partitions_ahead_months), "3", 1,
     120,
     "Monthly partitions of events and event_errors kept ready after the current month (eye-spool "
     "and `eye-admin partitions` create them)."},
    {"retention.archive_dir", CFG_PATH, OFF(retention.archive_dir), "", 0, 0,
     "Folder where `eye-admin retention --apply` archives each events partition (gzip NDJSON and "
     "its .sha256) before it goes. Empty: partitions are dropped without an archive."},
    {"metrics.enabled", CFG_BOOL, OFF(metrics.enabled), "true", 0, 0,
     "Count requests and events for /metrics (false: nothing is counted and /metrics is 404)."},
    {"metrics.file", CFG_PATH, OFF(metrics.file), "", 0, 0,
     "File every eye.fcgi process maps to share its counters (empty: eye-metrics in the "
     "folder of the FastCGI socket)."},
    {"metrics.allow_networks", CFG_STR, OFF(metrics.allow_networks), "", 0, 0,
     "Addresses or CIDR networks (comma- or space-separated) that may read /metrics without "
     "a key; empty: a read key is needed."},
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

const char *config_default_path(const char *explicit_path)
{
    if (explicit_path != NULL && *explicit_path != '\0')
        return explicit_path;
    const char *env = getenv("EYE_CONFIG");
    if (env != NULL && *env != '\0')
        return env;
    return EYE_SYSCONFDIR "/eye.yaml";
}

static void *config_slot(struct config *cfg, const struct config_key *key)
{
    return (char *)cfg + key->offset;
}

/* Joins dir and a relative path into a new string; absolute paths and empty
 * values are copied as they are. */
static char *config_resolve_path(const char *value, const char *base_dir)
{
    if (*value == '\0' || value[0] == '/' || base_dir == NULL || *base_dir == '\0')
        return strdup(value);
    size_t n = strlen(base_dir) + 1 + strlen(value) + 1;
    char *out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", base_dir, value);
    return out;
}

static bool config_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Stores text as the value of key. base_dir resolves relative paths. On a
 * bad value writes the reason into err and returns false. */
static bool config_set(struct config *cfg, const struct config_key *key, const char *text,
                       const char *base_dir, char *err, size_t errlen)
{
    void *slot = config_slot(cfg, key);
    switch (key->type) {
    case CFG_ENDPOINTS: { /* checked here, stored as text, parsed where used */
        struct endpoint_list list;
        char why[256];
        if (!endpoint_list_parse(text, 3306, &list, why, sizeof(why))) {
            snprintf(err, errlen, "%s: %s", key->name, why);
            return false;
        }
    }
    /* fall through */
    case CFG_STR:
    case CFG_PATH: {
        char *v = key->type == CFG_PATH ? config_resolve_path(text, base_dir) : strdup(text);
        if (v == NULL) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        free(*(char **)slot);
        *(char **)slot = v;
        return true;
    }
    case CFG_INT: {
        int64_t v;
        if (!strparse_int64(text, key->min, key->max, &v)) {
            snprintf(err, errlen, "%s must be an integer from %lld to %lld, not '%s'", key->name,
                     (long long)key->min, (long long)key->max, text);
            return false;
        }
        *(int64_t *)slot = v;
        return true;
    }
    case CFG_BOOL:
        if (!config_parse_bool(text, (bool *)slot)) {
            snprintf(err, errlen, "%s must be true or false, not '%s'", key->name, text);
            return false;
        }
        return true;
    case CFG_LOGLEVEL:
        if (!log_level_parse(text, (enum log_level *)slot)) {
            snprintf(err, errlen, "%s must be error, warn, info or debug, not '%s'", key->name,
                     text);
            return false;
        }
        return true;
    }
    snprintf(err, errlen, "internal: unknown type for %s", key->name);
    return false;
}

static const struct config_key *config_find(const char *name)
{
    for (size_t i = 0; i < CONFIG_NKEYS; i++)
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    return NULL;
}

/* True when some key lives below the mapping named prefix. */
static bool config_is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < CONFIG_NKEYS; i++)
        if (strncmp(config_keys[i].name, prefix, n) == 0 && config_keys[i].name[n] == '.')
            return true;
    return false;
}

struct config_walk {
    struct config *cfg;
    yaml_document_t *doc;
    const char *file;
    char *dir;
    bool seen[CONFIG_NKEYS];
    int errors;
};

static void config_report(struct config_walk *w, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void config_report(struct config_walk *w, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%lu:%lu: %s\n", w->file, (unsigned long)node->start_mark.line + 1,
            (unsigned long)node->start_mark.column + 1, msg);
    w->errors++;
}

static void config_walk_mapping(struct config_walk *w, yaml_node_t *map, const char *prefix)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
        if (k == NULL || v == NULL)
            continue;
        if (k->type != YAML_SCALAR_NODE) {
            config_report(w, k, "keys must be plain names");
            continue;
        }
        char name[256];
        int n = snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
                         (const char *)k->data.scalar.value);
        if (n < 0 || (size_t)n >= sizeof(name)) {
            config_report(w, k, "key name too long");
            continue;
        }
        if (v->type == YAML_MAPPING_NODE) {
            if (!config_is_section(name)) {
                config_report(w, k, "unknown section '%s'", name);
                continue;
            }
            config_walk_mapping(w, v, name);
            continue;
        }
        const struct config_key *key = config_find(name);
        if (key == NULL) {
            config_report(w, k, "unknown key '%s'", name);
            continue;
        }
        size_t idx = (size_t)(key - config_keys);
        if (w->seen[idx]) {
            config_report(w, k, "duplicate key '%s'", name);
            continue;
        }
        w->seen[idx] = true;
        if (v->type != YAML_SCALAR_NODE) {
            config_report(w, v, "%s takes a single value, not a list", name);
            continue;
        }
        char err[512];
        if (!config_set(w->cfg, key, (const char *)v->data.scalar.value, w->dir, err, sizeof(err)))
            config_report(w, v, "%s", err);
    }
}

/* Reads the YAML file into cfg. Returns the number of problems reported;
 * -1 when the file does not exist (errno ENOENT) and that is allowed. */
static int config_read_file(struct config *cfg, const char *path, bool required)
{
    struct config_walk w = {.cfg = cfg, .file = path};
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ready = false, doc_ready = false;

    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        if (errno == ENOENT && !required)
            return -1;
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return 1;
    }
    const char *slash = strrchr(path, '/');
    w.dir = slash != NULL ? strndup(path, (size_t)(slash - path)) : strdup(".");
    if (w.dir == NULL) {
        w.errors++;
        goto done;
    }
    if (!yaml_parser_initialize(&parser)) {
        fprintf(stderr, "%s: cannot initialise the YAML parser\n", path);
        w.errors++;
        goto done;
    }
    parser_ready = true;
    yaml_parser_set_input_file(&parser, fp);
    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(stderr, "%s:%lu:%lu: %s\n", path, (unsigned long)parser.problem_mark.line + 1,
                (unsigned long)parser.problem_mark.column + 1,
                parser.problem != NULL ? parser.problem : "YAML syntax error");
        w.errors++;
        goto done;
    }
    doc_ready = true;
    w.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        goto done; /* an empty file means "all defaults" */
    if (root->type != YAML_MAPPING_NODE) {
        config_report(&w, root, "the configuration must be a mapping of keys");
        goto done;
    }
    config_walk_mapping(&w, root, "");

done:
    if (doc_ready)
        yaml_document_delete(&doc);
    if (parser_ready)
        yaml_parser_delete(&parser);
    fclose(fp);
    free(w.dir);
    return w.errors;
}

/* Writes the environment variable that overrides key: EYE_DATABASE_SOCKET
 * for database.socket. */
static void config_env_name(const struct config_key *key, char *buf, size_t len)
{
    snprintf(buf, len, "EYE_");
    size_t n = strlen(buf);
    for (const char *c = key->name; *c != '\0' && n + 1 < len; c++)
        buf[n++] = *c == '.' ? '_' : (char)toupper((unsigned char)*c);
    buf[n] = '\0';
}

/* Applies EYE_* environment variables; returns the number of problems. */
static int config_read_env(struct config *cfg)
{
    int errors = 0;
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        char var[128];
        config_env_name(&config_keys[i], var, sizeof(var));
        const char *val = getenv(var);
        if (val == NULL)
            continue;
        char err[512];
        if (!config_set(cfg, &config_keys[i], val, NULL, err, sizeof(err))) {
            fprintf(stderr, "environment %s: %s\n", var, err);
            errors++;
        }
    }
    return errors;
}

bool config_load(struct config *cfg, const char *path, bool required)
{
    memset(cfg, 0, sizeof(*cfg));
    char err[512];
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        if (!config_set(cfg, &config_keys[i], config_keys[i].def, NULL, err, sizeof(err))) {
            fprintf(stderr, "internal default: %s\n", err);
            goto fail;
        }
    }
    int errors = 0;
    cfg->path = strdup("");
    if (path != NULL) {
        int r = config_read_file(cfg, path, required);
        if (r >= 0) {
            free(cfg->path);
            cfg->path = strdup(path);
            errors += r;
        }
    }
    errors += config_read_env(cfg);
    if (errors == 0 && strcmp(cfg->privacy.client_ip, "drop") != 0 &&
        strcmp(cfg->privacy.client_ip, "truncate") != 0 &&
        strcmp(cfg->privacy.client_ip, "hash") != 0) {
        fprintf(stderr, "privacy.client_ip must be drop, truncate or hash, not '%s'\n",
                cfg->privacy.client_ip);
        errors++;
    }
    if (errors == 0 && strcmp(cfg->privacy.client_ip, "hash") == 0 &&
        *cfg->privacy.ip_hash_key_file == '\0') {
        fprintf(stderr, "privacy.client_ip: hash needs privacy.ip_hash_key_file\n");
        errors++;
    }
    if (errors > 0 || cfg->path == NULL)
        goto fail;
    return true;

fail:
    config_free(cfg);
    return false;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        if (config_keys[i].type == CFG_STR || config_keys[i].type == CFG_PATH ||
            config_keys[i].type == CFG_ENDPOINTS) {
            char **slot = config_slot(cfg, &config_keys[i]);
            free(*slot);
            *slot = NULL;
        }
    }
    free(cfg->path);
    cfg->path = NULL;
}

char *config_read_first_line(const char *path, const char *what)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        log_error("cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    char line[512];
    char *out = NULL;
    if (fgets(line, sizeof(line), fp) == NULL) {
        log_error("%s %s is empty", what, path);
        goto done;
    }
    line[strcspn(line, "\r\n")] = '\0';
    out = strdup(line);
done:
    memset(line, 0, sizeof(line));
    fclose(fp);
    return out;
}

char *config_read_password(const struct config_account *account)
{
    if (account->password_file == NULL || *account->password_file == '\0')
        return strdup("");
    char what[160];
    snprintf(what, sizeof(what), "the password file of account %s", account->user);
    return config_read_first_line(account->password_file, what);
}

void config_describe(const struct config *cfg, FILE *out)
{
    static const char *const type_names[] = {"string",  "path",  "integer",
                                             "boolean", "level", "endpoints"};
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        const void *slot = (const char *)cfg + k->offset;
        char env[128];
        config_env_name(k, env, sizeof(env));
        fprintf(out, "%s (%s, env %s)\n  %s\n  default: %s\n  value:   ", k->name,
                type_names[k->type], env, k->doc, *k->def ? k->def : "(empty)");
        switch (k->type) {
        case CFG_STR:
        case CFG_PATH:
        case CFG_ENDPOINTS:
            fprintf(out, "%s\n", *(char *const *)slot);
            break;
        case CFG_INT:
            fprintf(out, "%lld\n", (long long)*(const int64_t *)slot);
            break;
        case CFG_BOOL:
            fprintf(out, "%s\n", *(const bool *)slot ? "true" : "false");
            break;
        case CFG_LOGLEVEL: {
            static const char *const lv[] = {"error", "warn", "info", "debug"};
            fprintf(out, "%s\n", lv[*(const enum log_level *)slot]);
            break;
        }
        }
    }
}

void config_describe_markdown(FILE *out)
{
    static const char *const type_names[] = {"string",  "path",  "integer",
                                             "boolean", "level", "endpoints"};
    fprintf(out, "| key | type | default | meaning |\n| --- | --- | --- | --- |\n");
    size_t datadir_len = strlen(EYE_DATADIR);
    for (size_t i = 0; i < CONFIG_NKEYS; i++) {
        const struct config_key *k = &config_keys[i];
        /* Installed paths depend on --prefix; show them symbolically. */
        bool in_datadir = strncmp(k->def, EYE_DATADIR, datadir_len) == 0;
        fprintf(out, "| `%s` | %s | %s%s%s%s | %s |\n", k->name, type_names[k->type],
                *k->def ? "`" : "", in_datadir ? "$pkgdatadir" : "",
                *k->def ? k->def + (in_datadir ? datadir_len : 0) : "(empty)", *k->def ? "`" : "",
                k->doc);
    }
}
