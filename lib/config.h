/* config.h - The Eye's configuration: one YAML file, every key overridable
 * from the environment.
 *
 * The file is a nested YAML mapping; a key's name is its dotted path
 * ("database.socket"). Its environment variable is EYE_ followed by the name
 * in upper case with dots as underscores (EYE_DATABASE_SOCKET). Unknown keys
 * and values of the wrong type are errors reported with file:line:column.
 * Relative paths are resolved against the folder of the config file.
 */
#ifndef EYE_CONFIG_H
#define EYE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/log.h"

/* One database account: every program connects as its own least-privilege
 * user. */
struct config_account {
    char *user;
    char *password_file; /* absolute path, or empty for no password */
};

struct config {
    char *path; /* the file read, or empty when only defaults were used */
    enum log_level log_level;

    struct {
        char *hosts;      /* writer endpoint list (lib/endpoint.h); empty: host/socket */
        char *read_hosts; /* read API's endpoint list; empty: hosts */
        int64_t failback_seconds;
        char *host; /* empty: connect through the socket */
        int64_t port;
        char *socket;
        char *name;
        int64_t connect_timeout; /* seconds */
        int64_t read_timeout;    /* seconds */
        int64_t write_timeout;   /* seconds */
    } database;

    struct {
        struct config_account ingest, spool, analyst, admin;
    } accounts;

    struct {
        char *dir;
        int64_t reload_interval_ms;
    } rules;

    char *migrations_dir;

    struct {
        int64_t threads;
        int64_t group_commit_max_rows;
        int64_t max_body_bytes;
        int64_t max_decompressed_bytes;
        int64_t max_events_per_request;
        int64_t max_event_bytes;
        int64_t max_depth;
        int64_t max_error_payload_bytes;
        int64_t key_cache_seconds;
        int64_t auth_failures_per_second;
        int64_t auth_failure_burst;
        int64_t retry_after_seconds;
        bool correct_clock_skew;
        int64_t queue_max_rows;
        int64_t queue_max_age_seconds;
    } ingest;

    struct {
        int64_t max_body_bytes;
        int64_t max_events_per_request;
        int64_t rate_limit_per_second;
        int64_t rate_limit_burst;
        int64_t preflight_max_age_seconds;
        bool allow_server_keys;
    } browser;

    struct {
        char *client_ip;       /* drop, truncate or hash (checked at load) */
        char *ip_hash_key_file;
        char *trusted_proxies; /* space-separated addresses */
    } privacy;

    struct {
        int64_t batch_size;
        int64_t poll_interval_ms;
        int64_t max_attempts;
        int64_t summary_interval_seconds;
    } spool;

    struct {
        int64_t events_days;
        int64_t errors_days;
        int64_t quarantine_days;
        int64_t partitions_ahead_months;
        char *archive_dir; /* empty: drop without archiving */
    } retention;

    struct {
        bool enabled;         /* false: no counting, /metrics is 404 (for bench/) */
        char *file;           /* shared counter file; empty: beside the FastCGI socket */
        char *allow_networks; /* CIDRs that may read /metrics without a key */
    } metrics;
};

/* Which file to read: the explicit path if not NULL, else $EYE_CONFIG, else
 * the installed default. The returned string is static or from the
 * environment: do not free it. */
const char *config_default_path(const char *explicit_path);

/* Fills cfg with defaults, then the file at path (which must exist when
 * `required`; a missing optional file leaves the defaults), then the
 * environment. On error prints every problem to stderr as file:line:col:
 * message and returns false; cfg then holds nothing to free beyond what
 * config_free releases. */
bool config_load(struct config *cfg, const char *path, bool required);

/* Releases every string in cfg (NULL-safe, idempotent). */
void config_free(struct config *cfg);

/* Reads the first line of an account's password file into a new string
 * (caller frees). An empty password_file gives an empty string. Returns
 * NULL and logs on failure. */
char *config_read_password(const struct config_account *account);

/* Reads the first line of path (without its line end) into a new string
 * the caller frees; NULL, logged as "what path: reason", when the file
 * cannot be read or is empty. For secrets: the stack copy is wiped. */
char *config_read_first_line(const char *path, const char *what);

/* Writes every key with its current value, type, environment variable and
 * description, one block per key (used by `eye-admin config`). */
void config_describe(const struct config *cfg, FILE *out);

/* Writes the key reference as a Markdown table (key, type, default,
 * meaning), as the README shows it. */
void config_describe_markdown(FILE *out);

#endif
