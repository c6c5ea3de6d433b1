/* migrate.c - `eye-admin migrate`: apply migrations/NNN_name.sql in order.
 *
 * Each applied file is recorded in schema_migrations with a SHA-256 of its
 * text; running again applies only what is new, and a recorded file whose
 * text has changed since is refused (a migration, once applied somewhere,
 * is history). A named lock keeps two concurrent migrators apart. MariaDB
 * commits DDL implicitly, so a file that fails half-way is reported with the
 * statement number and the server's error and is not recorded; fix it and
 * run again (write migrations that can be re-run: IF NOT EXISTS).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define MIGRATE_MAX_FILE (4 * 1024 * 1024)
/* How long one migration statement may run before the client gives up. */
#define MIGRATE_READ_TIMEOUT_S (24 * 3600)

struct migration {
    int version;
    char *file; /* base name */
};

static int migration_cmp(const void *a, const void *b)
{
    const struct migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

static void migrations_free(struct migration *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].file);
    free(list);
}

/* Lists NNN_*.sql in dir, sorted by version. Returns false (and logs) on an
 * unreadable folder, a malformed name or two files with one version. */
static bool migrations_list(const char *dir, struct migration **out, size_t *count)
{
    struct migration *list = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        log_error("cannot open migrations folder %s: %s", dir, strerror(errno));
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        size_t len = strlen(name);
        if (len < 5 || strcmp(name + len - 4, ".sql") != 0)
            continue;
        char digits[4] = {0};
        int version;
        memcpy(digits, name, len >= 3 ? 3 : len);
        if (len < 9 || name[3] != '_' || !strparse_int(digits, 0, 999, &version)) {
            log_error("%s/%s: migration names are NNN_description.sql", dir, name);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct migration *grown = realloc(list, cap * sizeof(*list));
            if (grown == NULL)
                goto fail;
            list = grown;
        }
        list[n].version = version;
        list[n].file = strdup(name);
        if (list[n].file == NULL)
            goto fail;
        n++;
    }
    closedir(d);
    d = NULL;
    qsort(list, n, sizeof(*list), migration_cmp);
    for (size_t i = 1; i < n; i++) {
        if (list[i].version == list[i - 1].version) {
            log_error("%s: %s and %s share version %03d", dir, list[i - 1].file, list[i].file,
                      list[i].version);
            goto fail;
        }
    }
    *out = list;
    *count = n;
    return true;

fail:
    if (d != NULL)
        closedir(d);
    migrations_free(list, n);
    return false;
}

/* Reads a whole file (bounded) into a new NUL-terminated string. */
static char *migrate_read_file(const char *path, size_t *len)
{
    char *buf = NULL;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MIGRATE_MAX_FILE + 1);
    if (buf == NULL)
        goto fail;
    *len = fread(buf, 1, MIGRATE_MAX_FILE + 1, fp);
    if (ferror(fp) || *len > MIGRATE_MAX_FILE) {
        log_error("cannot read %s (or larger than %d bytes)", path, MIGRATE_MAX_FILE);
        goto fail;
    }
    buf[*len] = '\0';
    fclose(fp);
    return buf;

fail:
    free(buf);
    fclose(fp);
    return NULL;
}

static void migrate_checksum(const char *text, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(text, len, md, &n, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Runs every statement of a file. On failure prints file, statement number
 * and the server's error. */
static bool migrate_run_file(MYSQL *conn, const char *path, const char *sql, size_t len)
{
    int statement = 1;
    if (mysql_real_query(conn, sql, (unsigned long)len) != 0)
        goto fail;
    for (;;) {
        MYSQL_RES *res = mysql_store_result(conn);
        if (res != NULL)
            mysql_free_result(res);
        else if (mysql_field_count(conn) != 0)
            goto fail;
        int next = mysql_next_result(conn);
        if (next == -1)
            return true;
        statement++;
        if (next > 0)
            goto fail;
    }

fail:
    fprintf(stderr, "eye-admin migrate: %s: statement %d failed: %s (error %u)\n", path, statement,
            mysql_error(conn), mysql_errno(conn));
    return false;
}

/* Looks up the checksum recorded for version; *found tells whether it was. */
static bool migrate_recorded(MYSQL_STMT *stmt, int version, bool *found, char checksum[65])
{
    MYSQL_BIND in = {0}, out = {0};
    unsigned long out_len = 0;
    in.buffer_type = MYSQL_TYPE_LONG;
    in.buffer = &version;
    out.buffer_type = MYSQL_TYPE_STRING;
    out.buffer = checksum;
    out.buffer_length = 65;
    out.length = &out_len;
    *found = false;
    if (mysql_stmt_bind_param(stmt, &in) != 0 || mysql_stmt_execute(stmt) != 0 ||
        mysql_stmt_bind_result(stmt, &out) != 0 || mysql_stmt_store_result(stmt) != 0) {
        log_error("select_migration: %s", mysql_stmt_error(stmt));
        return false;
    }
    int r = mysql_stmt_fetch(stmt);
    if (r == 0) {
        *found = true;
        checksum[out_len < 64 ? out_len : 64] = '\0';
    }
    mysql_stmt_free_result(stmt);
    return r == 0 || r == MYSQL_NO_DATA;
}

static bool migrate_record(MYSQL_STMT *stmt, int version, const char *file, const char *sum)
{
    MYSQL_BIND in[3] = {0};
    unsigned long file_len = strlen(file), sum_len = strlen(sum);
    in[0].buffer_type = MYSQL_TYPE_LONG;
    in[0].buffer = &version;
    in[1].buffer_type = MYSQL_TYPE_STRING;
    in[1].buffer = (char *)file;
    in[1].length = &file_len;
    in[2].buffer_type = MYSQL_TYPE_STRING;
    in[2].buffer = (char *)sum;
    in[2].length = &sum_len;
    if (mysql_stmt_bind_param(stmt, in) != 0 || mysql_stmt_execute(stmt) != 0) {
        log_error("insert_migration: %s", mysql_stmt_error(stmt));
        return false;
    }
    return true;
}

int admin_migrate(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv) || argc > 1) {
        fprintf(argc > 1 && !admin_wants_help(argc, argv) ? stderr : stdout,
                "usage: eye-admin migrate\n\n"
                "Applies, in order, the files migrations_dir/NNN_*.sql not yet recorded in\n"
                "schema_migrations, as the admin account. Safe to run again.\n");
        return admin_wants_help(argc, argv) ? ADMIN_OK : ADMIN_USAGE;
    }
    int rc = ADMIN_FAIL;
    MYSQL *conn = NULL;
    MYSQL_STMT *sel = NULL, *ins = NULL;
    struct migration *list = NULL;
    size_t n = 0;
    bool locked = false;
    int applied = 0;

    if (!migrations_list(cfg->migrations_dir, &list, &n))
        goto done;
    /* A migration may rebuild a large table (009 partitions events): the
     * server is silent until the statement ends, so the usual read timeout
     * (seconds, to notice a dead server) would abandon it half-way. */
    struct config long_cfg = *cfg; /* shallow: strings stay cfg's */
    long_cfg.database.read_timeout = MIGRATE_READ_TIMEOUT_S;
    long_cfg.database.write_timeout = MIGRATE_READ_TIMEOUT_S;
    conn = db_connect(&long_cfg, &cfg->accounts.admin);
    if (conn == NULL)
        goto done;
    if (!db_exec(conn, "create_schema_migrations",
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version INT NOT NULL PRIMARY KEY,"
                 " file VARCHAR(255) NOT NULL,"
                 " checksum CHAR(64) NOT NULL,"
                 " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                 ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"))
        goto done;
    /* One migrator at a time: wait up to 30 s for another to finish. */
    if (mysql_query(conn, "SELECT GET_LOCK('eye_migrate', 30)") != 0) {
        log_error("get_lock: %s", mysql_error(conn));
        goto done;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
    locked = row != NULL && row[0] != NULL && strcmp(row[0], "1") == 0;
    if (res != NULL)
        mysql_free_result(res);
    if (!locked) {
        log_error("another eye-admin migrate holds the lock; try again later");
        goto done;
    }
    sel = db_prepare(conn, "select_migration",
                     "SELECT checksum FROM schema_migrations WHERE version = ?");
    ins = db_prepare(conn, "insert_migration",
                     "INSERT INTO schema_migrations (version, file, checksum) VALUES (?, ?, ?)");
    if (sel == NULL || ins == NULL)
        goto done;
    if (mysql_set_server_option(conn, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) {
        log_error("enable multi-statements: %s", mysql_error(conn));
        goto done;
    }

    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", cfg->migrations_dir, list[i].file);
        size_t len = 0;
        char *sql = migrate_read_file(path, &len);
        if (sql == NULL)
            goto done;
        char sum[65], recorded[65];
        bool found;
        migrate_checksum(sql, len, sum);
        if (!migrate_recorded(sel, list[i].version, &found, recorded)) {
            free(sql);
            goto done;
        }
        if (found) {
            free(sql);
            if (strcmp(sum, recorded) != 0) {
                fprintf(stderr,
                        "eye-admin migrate: %s was changed after it was applied "
                        "(recorded sha256 %s, now %s); add a new migration instead\n",
                        path, recorded, sum);
                goto done;
            }
            continue;
        }
        bool ok = migrate_run_file(conn, path, sql, len);
        free(sql);
        if (!ok || !migrate_record(ins, list[i].version, list[i].file, sum))
            goto done;
        printf("applied %s\n", list[i].file);
        applied++;
    }
    printf("schema up to date (%d applied now, %zu known)\n", applied, n);
    rc = ADMIN_OK;

done:
    if (sel != NULL)
        mysql_stmt_close(sel);
    if (ins != NULL)
        mysql_stmt_close(ins);
    if (conn != NULL) {
        if (locked)
            mysql_query(conn, "DO RELEASE_LOCK('eye_migrate')");
        mysql_close(conn);
    }
    migrations_free(list, n);
    return rc;
}
