/* apps.c - `eye-admin app ...` and `eye-admin key ...`: trusted clients.
 *
 * An application is created together with its first key; the key is printed
 * once, alone on stdout, so a script can capture it (`KEY=$(eye-admin app
 * create shop)`); everything else goes to stderr. Only the key's SHA-256 and
 * its 12-character prefix are stored. Keys are rotated by creating another
 * one and revoking the old prefix.
 */
#include "autoconfig.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/apikey.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/origin.h"

#define APP_NAME_MAX 100

/* What `create` was asked for: the name, the key's scope, whether a read
 * key sees only its own application's data and, for a browser key, its
 * canonical origins (space-separated). */
struct key_spec {
    const char *name;
    const char *scope; /* "write", "read" or "browser" */
    bool app_only;     /* read keys only: --app-only */
    char origins[ORIGIN_LIST_MAX];
};

static void app_usage(FILE *out)
{
    fprintf(
        out,
        "usage: eye-admin app create NAME [--read [--app-only] | --browser --origin ORIGIN...]\n"
        "       eye-admin app list\n\n"
        "create  adds an application and prints its first key (write scope, or read\n"
        "        scope with --read) once, alone on stdout. A read key sees every\n"
        "        application's events and errors; with --app-only, only NAME's.\n"
        "        --browser makes a key for web pages: write-only, accepted only from\n"
        "        the listed origins (--origin https://shop.example.com, repeatable;\n"
        "        exact scheme, host and port, no wildcards).\n"
        "list    shows applications and their keys (prefix, scope, state, origins);\n"
        "        scope read-app is a read key limited to its application.\n");
}

static void key_usage(FILE *out)
{
    fprintf(out,
            "usage: eye-admin key create APP [--read [--app-only] | --browser --origin ORIGIN...]\n"
            "       eye-admin key revoke PREFIX\n\n"
            "create  prints a further key for the application named APP (to rotate:\n"
            "        create, deploy the new key, then revoke the old one); a read key\n"
            "        with --app-only sees only APP's events, errors and sessions.\n"
            "revoke  stops the key with that prefix (e.g. eye_1a2b3c4d); running\n"
            "        eye.fcgi processes stop accepting it within ingest.key_cache_seconds.\n");
}

static bool app_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > APP_NAME_MAX)
        return false;
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

/* Inserts a new key as spec says for application id app_id and prints it
 * on stdout. Runs inside the caller's transaction. */
static bool key_insert(MYSQL *conn, unsigned int app_id, const struct key_spec *spec)
{
    bool ok = false;
    char key[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1];
    unsigned char hash[APIKEY_HASH_LEN];
    MYSQL_STMT *stmt = NULL;

    if (!apikey_generate(key, prefix) || !apikey_hash(key, APIKEY_LEN, hash)) {
        log_error("cannot generate a key: the system's random source failed");
        goto done;
    }
    stmt = db_prepare(conn, "insert_key",
                      "INSERT INTO api_keys (application_id, prefix, key_hash, scope, origins, "
                      "app_only) VALUES (?, ?, ?, ?, ?, ?)");
    if (stmt == NULL)
        goto done;
    const char *scope = spec->scope;
    bool browser = strcmp(scope, "browser") == 0;
    unsigned long prefix_len = APIKEY_PREFIX_LEN, hash_len = APIKEY_HASH_LEN,
                  scope_len = strlen(scope), origins_len = strlen(spec->origins);
    my_bool no_origins = !browser;
    signed char app_only = spec->app_only;
    MYSQL_BIND in[6] = {0};
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &app_id;
    in[0].is_unsigned = 1;
    in[1].buffer_type = MYSQL_TYPE_STRING;
    in[1].buffer = prefix;
    in[1].length = &prefix_len;
    in[2].buffer_type = MYSQL_TYPE_BLOB;
    in[2].buffer = hash;
    in[2].length = &hash_len;
    in[3].buffer_type = MYSQL_TYPE_STRING;
    in[3].buffer = (char *)scope;
    in[3].length = &scope_len;
    in[4].buffer_type = MYSQL_TYPE_STRING;
    in[4].buffer = (char *)spec->origins;
    in[4].length = &origins_len;
    in[4].is_null = &no_origins;
    in[5].buffer_type = MYSQL_TYPE_TINY;
    in[5].buffer = &app_only;
    if (mysql_stmt_bind_param(stmt, in) != 0 || mysql_stmt_execute(stmt) != 0) {
        log_error("insert_key: %s", mysql_stmt_error(stmt));
        goto done;
    }
    if (mysql_commit(conn) != 0) {
        log_error("commit key: %s", mysql_error(conn));
        goto done;
    }
    printf("%s\n", key);
    fflush(stdout);
    if (browser)
        fprintf(stderr,
                "key %s (browser scope, origins %s) created; it may be embedded in those "
                "origins' pages\n",
                prefix, spec->origins);
    else if (spec->app_only)
        fprintf(stderr,
                "key %s (read scope, this application's data only) created; it is shown only "
                "this once\n",
                prefix);
    else
        fprintf(stderr, "key %s (%s scope) created; it is shown only this once\n", prefix, scope);
    ok = true;

done:
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    return ok;
}

/* Finds the id of the application called name. Returns false when there is
 * none (logged) or on a database error. */
static bool app_lookup(MYSQL *conn, const char *name, unsigned int *id)
{
    bool ok = false;
    MYSQL_STMT *stmt = db_prepare(conn, "select_app", "SELECT id FROM applications WHERE name = ?");
    if (stmt == NULL)
        return false;
    unsigned long name_len = strlen(name);
    MYSQL_BIND in = {0}, out = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (char *)name;
    in.length = &name_len;
    out.buffer_type = MYSQL_TYPE_LONG;
    out.buffer = id;
    out.is_unsigned = 1;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, &out) != 0) {
        log_error("select_app: %s", mysql_stmt_error(stmt));
        goto done;
    }
    int r = mysql_stmt_fetch(stmt);
    if (r == MYSQL_NO_DATA)
        fprintf(stderr, "eye-admin: no application named '%s'\n", name);
    else if (r != 0)
        log_error("select_app: %s", mysql_stmt_error(stmt));
    ok = r == 0;

done:
    mysql_stmt_close(stmt);
    return ok;
}

/* Parses "NAME [--read [--app-only] | --browser --origin ORIGIN...]" into
 * spec. Prints why and returns false when the arguments are wrong. */
static bool parse_key_spec(int argc, char **argv, struct key_spec *spec)
{
    bool read_scope = false, browser = false, app_only = false;
    size_t used = 0;
    spec->name = NULL;
    spec->origins[0] = '\0';
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--read") == 0) {
            read_scope = true;
        } else if (strcmp(argv[i], "--app-only") == 0) {
            app_only = true;
        } else if (strcmp(argv[i], "--browser") == 0) {
            browser = true;
        } else if (strcmp(argv[i], "--origin") == 0 && i + 1 < argc) {
            char canonical[ORIGIN_MAX];
            const char *o = argv[++i];
            if (!origin_canonical(o, strlen(o), canonical)) {
                fprintf(stderr,
                        "eye-admin: '%s' is not an origin (http[s]://host[:port], no path, no "
                        "wildcard)\n",
                        o);
                return false;
            }
            if (origin_list_has(spec->origins, canonical))
                continue;
            size_t n = strlen(canonical);
            if (used + n + 2 > sizeof(spec->origins)) {
                fprintf(stderr, "eye-admin: the origins are longer than %d characters together\n",
                        ORIGIN_LIST_MAX - 1);
                return false;
            }
            if (used > 0)
                spec->origins[used++] = ' ';
            memcpy(spec->origins + used, canonical, n + 1);
            used += n;
        } else if (argv[i][0] == '-' || spec->name != NULL) {
            return false;
        } else {
            spec->name = argv[i];
        }
    }
    if (spec->name == NULL)
        return false;
    if (browser && read_scope) {
        fprintf(stderr,
                "eye-admin: a browser key writes; --read and --browser exclude each other\n");
        return false;
    }
    if (app_only && !read_scope) {
        fprintf(stderr, "eye-admin: --app-only limits a read key: it needs --read (a write or "
                        "browser key already writes as its application only)\n");
        return false;
    }
    if (browser != (used > 0)) {
        fprintf(stderr, browser ? "eye-admin: a browser key needs at least one --origin\n"
                                : "eye-admin: --origin is for browser keys (--browser)\n");
        return false;
    }
    spec->scope = browser ? "browser" : read_scope ? "read" : "write";
    spec->app_only = app_only;
    return true;
}

static int app_create(const struct config *cfg, const struct key_spec *spec)
{
    const char *name = spec->name;
    int rc = ADMIN_FAIL;
    MYSQL_STMT *stmt = NULL;
    if (!app_name_valid(name)) {
        fprintf(stderr, "eye-admin: an application name has 1 to %d printable characters\n",
                APP_NAME_MAX);
        return ADMIN_USAGE;
    }
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    if (mysql_autocommit(conn, 0) != 0)
        goto done;
    stmt = db_prepare(conn, "insert_app", "INSERT INTO applications (name) VALUES (?)");
    if (stmt == NULL)
        goto done;
    unsigned long name_len = strlen(name);
    MYSQL_BIND in = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (char *)name;
    in.length = &name_len;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0) {
        if (mysql_stmt_errno(stmt) == ER_DUP_ENTRY)
            fprintf(stderr, "eye-admin: an application named '%s' already exists\n", name);
        else
            log_error("insert_app: %s", mysql_stmt_error(stmt));
        goto done;
    }
    unsigned int app_id = (unsigned int)mysql_stmt_insert_id(stmt);
    if (!key_insert(conn, app_id, spec))
        goto done;
    rc = ADMIN_OK;

done:
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    if (rc != ADMIN_OK)
        mysql_rollback(conn);
    mysql_close(conn);
    return rc;
}

static int app_list(const struct config *cfg)
{
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    /* No user input in this statement: a plain query is enough. */
    const char *sql = "SELECT a.name, a.created_at, k.prefix, "
                      "       IF(k.app_only, 'read-app', k.scope), k.created_at, "
                      "       k.revoked_at, k.origins "
                      "FROM applications a LEFT JOIN api_keys k ON k.application_id = a.id "
                      "ORDER BY a.name, k.created_at";
    if (mysql_query(conn, sql) != 0) {
        log_error("list_apps: %s", mysql_error(conn));
        mysql_close(conn);
        return ADMIN_FAIL;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL) {
        log_error("list_apps: %s", mysql_error(conn));
        mysql_close(conn);
        return ADMIN_FAIL;
    }
    printf("%-24s %-12s %-8s %-8s %-19s %-19s %s\n", "APPLICATION", "KEY", "SCOPE", "STATE",
           "KEY CREATED", "APP CREATED", "ORIGINS");
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) != NULL) {
        printf("%-24s %-12s %-8s %-8s %-19.19s %-19.19s %s\n", row[0], row[2] ? row[2] : "-",
               row[3] ? row[3] : "-",
               row[2] == NULL ? "-"
               : row[5]       ? "revoked"
                              : "active",
               row[4] ? row[4] : "-", row[1], row[6] ? row[6] : "-");
    }
    mysql_free_result(res);
    mysql_close(conn);
    return ADMIN_OK;
}

int admin_app(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv)) {
        app_usage(stdout);
        return ADMIN_OK;
    }
    struct key_spec spec;
    if (argc >= 2 && strcmp(argv[1], "create") == 0 && parse_key_spec(argc, argv, &spec))
        return app_create(cfg, &spec);
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return app_list(cfg);
    app_usage(stderr);
    return ADMIN_USAGE;
}

static int key_create(const struct config *cfg, const struct key_spec *spec)
{
    int rc = ADMIN_FAIL;
    unsigned int app_id;
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    if (app_lookup(conn, spec->name, &app_id) && key_insert(conn, app_id, spec))
        rc = ADMIN_OK;
    mysql_close(conn);
    return rc;
}

static int key_revoke(const struct config *cfg, const char *prefix)
{
    int rc = ADMIN_FAIL;
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    MYSQL_STMT *stmt = db_prepare(conn, "revoke_key",
                                  "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP(6) "
                                  "WHERE prefix = ? AND revoked_at IS NULL");
    if (stmt == NULL)
        goto done;
    unsigned long len = strlen(prefix);
    MYSQL_BIND in = {0};
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (char *)prefix;
    in.length = &len;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0) {
        log_error("revoke_key: %s", mysql_stmt_error(stmt));
        goto done;
    }
    if (mysql_stmt_affected_rows(stmt) != 1) {
        fprintf(stderr, "eye-admin: no active key with prefix '%s'\n", prefix);
        goto done;
    }
    /* Each eye.fcgi process caches a key it has looked up: say how long a
     * revoked one can still be accepted. */
    fprintf(stderr,
            "key %s revoked; eye.fcgi refuses it within %lld s (ingest.key_cache_seconds)\n",
            prefix, (long long)cfg->ingest.key_cache_seconds);
    rc = ADMIN_OK;

done:
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    mysql_close(conn);
    return rc;
}

int admin_key(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv)) {
        key_usage(stdout);
        return ADMIN_OK;
    }
    struct key_spec spec;
    if (argc >= 2 && strcmp(argv[1], "create") == 0 && parse_key_spec(argc, argv, &spec))
        return key_create(cfg, &spec);
    if (argc == 3 && strcmp(argv[1], "revoke") == 0)
        return key_revoke(cfg, argv[2]);
    key_usage(stderr);
    return ADMIN_USAGE;
}
