/* accounts.c - `eye-admin accounts`: the SQL that creates The Eye's
 * least-privilege MariaDB accounts.
 *
 * Creating users needs a privileged account that The Eye itself never holds,
 * so this prints SQL for the operator (or the private runtime) to feed to
 * `mariadb` as root:   eye-admin accounts --generate | mariadb
 * Passwords come from the accounts.*.password_file files; --generate writes
 * a random one (mode 0600) for each file that does not exist yet.
 *
 *   ingest   SELECT on api_keys; INSERT on event_queue. Nothing else.
 *   spool    reads and deletes queue rows; writes sessions, events, errors.
 *   analyst  SELECT on the tables and views analysts query (not keys, not
 *            the queue).
 *   admin    everything on the database (migrations, applications, replay).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/admin.h"
#include "lib/log.h"

struct account_grant {
    const char *privileges;
    const char *object; /* a table of the database, "*" for all of it, or
                         * "PROCEDURE name" for a stored procedure */
};

struct account_grants {
    const char *role;
    struct account_grant grants[18]; /* ends at a NULL privileges */
};

/* Admin comes first: with --admin-only only it is printed, before the
 * tables the other grants name exist. */
static const struct account_grants account_table[] = {
    {"admin", {{"ALL PRIVILEGES", "*"}, {NULL, NULL}}},
    {"ingest",
     {{"SELECT", "api_keys"},
      {"INSERT", "event_queue"},
      {"SELECT", "queue_status"},
      {"SELECT", "heartbeat"},
      {NULL, NULL}}},
    {"spool",
     {{"SELECT, UPDATE, DELETE", "event_queue"},
      {"SELECT, INSERT, UPDATE, DELETE", "sessions"},
      {"SELECT, INSERT", "events"},
      {"SELECT, INSERT", "event_categories"},
      {"SELECT, INSERT", "event_types"},
      {"SELECT, INSERT", "event_errors"},
      /* The months ahead (lib/partition.c), with its definer's rights:
       * the spool itself may not alter the tables. */
      {"EXECUTE", "PROCEDURE eye_partitions_ahead"},
      /* UPDATE: the no-op ON DUPLICATE KEY UPDATE that skips duplicates. */
      {"SELECT, INSERT, UPDATE", "event_ids"},
      {"SELECT", "applications"},
      {"SELECT, INSERT", "event_quarantine"},
      {"SELECT, UPDATE", "spool_counters"},
      {"SELECT, UPDATE", "heartbeat"},
      {"SELECT, INSERT, UPDATE, DELETE", "spool_status"},
      {"SELECT, INSERT, UPDATE", "event_counts_minute"},
      {"CREATE TEMPORARY TABLES", "*"},
      {NULL, NULL}}},
    {"analyst",
     {{"SELECT", "events"},
      {"SELECT", "event_categories"},
      {"SELECT", "event_types"},
      {"SELECT", "sessions"},
      {"SELECT", "event_errors"},
      {"SELECT", "applications"},
      {"SELECT", "spool_status"},
      {"SELECT", "event_counts_minute"},
      {"SELECT", "v_event_counts_minute"},
      {"SELECT", "v_event_counts_hour"},
      {"SELECT", "v_events"},
      {"SELECT", "v_session_timeline"},
      {"SELECT", "v_errors"},
      {"SELECT", "heartbeat"},
      {NULL, NULL}}},
};

static const struct config_account *account_of(const struct config *cfg, const char *role)
{
    if (strcmp(role, "ingest") == 0)
        return &cfg->accounts.ingest;
    if (strcmp(role, "spool") == 0)
        return &cfg->accounts.spool;
    if (strcmp(role, "analyst") == 0)
        return &cfg->accounts.analyst;
    return &cfg->accounts.admin;
}

/* Identifiers and passwords are pasted into SQL text here (CREATE USER takes
 * no parameters), so only a safe alphabet is let through. */
static bool sql_safe(const char *s, bool allow_dot)
{
    if (*s == '\0')
        return false;
    for (const char *c = s; *c; c++) {
        unsigned char u = (unsigned char)*c;
        bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                  u == '_' || u == '-' || (allow_dot && (u == '.' || u == '%' || u == ':'));
        if (!ok)
            return false;
    }
    return true;
}

/* Creates path with 48 random hex characters, readable by its owner only. */
static bool password_generate(const char *path)
{
    unsigned char raw[24];
    char hex[49];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        log_error("random source failed");
        return false;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        log_error("cannot create password file %s: %s", path, strerror(errno));
        return false;
    }
    hex[48] = '\n';
    bool ok = write(fd, hex, 49) == 49;
    if (close(fd) != 0)
        ok = false;
    if (!ok)
        log_error("cannot write password file %s", path);
    return ok;
}

int admin_accounts(const struct config *cfg, int argc, char **argv)
{
    bool generate = false, admin_only = false;
    const char *host = "localhost";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--generate") == 0) {
            generate = true;
        } else if (strcmp(argv[i], "--admin-only") == 0) {
            admin_only = true;
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else {
            FILE *out = admin_wants_help(argc, argv) ? stdout : stderr;
            fprintf(out, "usage: eye-admin accounts [--generate] [--admin-only] [--host HOST]\n\n"
                         "Prints SQL creating (or updating) the ingest, spool, analyst and admin\n"
                         "accounts with the least privileges each needs, for a privileged client:\n"
                         "  eye-admin accounts --generate | mariadb\n"
                         "Table grants need the tables: on a new database print --admin-only,\n"
                         "run `eye-admin migrate`, then print all (and again after upgrades).\n"
                         "--generate    write a random password to each missing password file\n"
                         "--admin-only  only the database and the admin account\n"
                         "--host        host part of the accounts (default localhost)\n");
            return out == stdout ? ADMIN_OK : ADMIN_USAGE;
        }
    }
    if (!sql_safe(host, true) || !sql_safe(cfg->database.name, false)) {
        fprintf(stderr, "eye-admin accounts: host and database name must be plain names\n");
        return ADMIN_USAGE;
    }

    printf("-- The Eye: least-privilege accounts for database `%s`.\n", cfg->database.name);
    printf("CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;\n",
           cfg->database.name);
    for (size_t a = 0; a < sizeof(account_table) / sizeof(account_table[0]); a++) {
        const struct config_account *acct = account_of(cfg, account_table[a].role);
        if (!sql_safe(acct->user, false)) {
            fprintf(stderr, "eye-admin accounts: user name '%s' is not a plain name\n", acct->user);
            return ADMIN_FAIL;
        }
        if (generate && *acct->password_file != '\0' && access(acct->password_file, F_OK) != 0 &&
            !password_generate(acct->password_file))
            return ADMIN_FAIL;
        char *password = config_read_password(acct);
        if (password == NULL)
            return ADMIN_FAIL;
        if (*password != '\0' && !sql_safe(password, false)) {
            fprintf(stderr,
                    "eye-admin accounts: the password in %s may hold only letters, digits, "
                    "'_' and '-'\n",
                    acct->password_file);
            free(password);
            return ADMIN_FAIL;
        }
        printf("CREATE USER IF NOT EXISTS '%s'@'%s';\n", acct->user, host);
        printf("ALTER USER '%s'@'%s' IDENTIFIED BY '%s';\n", acct->user, host, password);
        free(password);
        for (const struct account_grant *g = account_table[a].grants; g->privileges; g++) {
            if (strncmp(g->object, "PROCEDURE ", 10) == 0)
                printf("GRANT %s ON PROCEDURE `%s`.%s TO '%s'@'%s';\n", g->privileges,
                       cfg->database.name, g->object + 10, acct->user, host);
            else
                printf("GRANT %s ON `%s`.%s TO '%s'@'%s';\n", g->privileges, cfg->database.name,
                       g->object, acct->user, host);
        }
        if (admin_only)
            break;
    }
    return ADMIN_OK;
}
