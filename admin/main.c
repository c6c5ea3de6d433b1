/* main.c - eye-admin: the operator's tool for The Eye.
 *
 * Dispatches to subcommands (migrations, applications and keys, database
 * accounts, configuration). Exit codes: 0 ok, 1 operational failure, 2 usage.
 */
#include "autoconfig.h"

#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "lib/config.h"
#include "lib/log.h"

struct admin_command {
    const char *name;
    int (*run)(const struct config *cfg, int argc, char **argv);
    const char *summary;
};

static int admin_config(const struct config *cfg, int argc, char **argv);

static const struct admin_command admin_commands[] = {
    {"migrate", admin_migrate, "apply the SQL migrations not yet applied"},
    {"app", admin_app, "create and list applications (create prints a key)"},
    {"key", admin_key, "create another key for an application, or revoke one"},
    {"accounts", admin_accounts, "print the SQL creating the least-privilege database accounts"},
    {"rules", admin_rules, "check a rules folder, or try events against it offline"},
    {"stats", admin_stats, "queue depth and age, recent events and errors, duplicates"},
    {"errors", admin_errors, "list recorded errors, or replay them after a rule fix"},
    {"partitions", admin_partitions, "list the monthly partitions; --ensure creates those ahead"},
    {"retention", admin_retention, "show what the retention removes; --apply removes it"},
    {"erase", admin_erase, "erase every trace of one session or one application"},
    {"archive", admin_archive, "move a month of events into a compressed NDJSON file"},
    {"restore", admin_restore, "load an archive back (idempotent through event_id)"},
    {"config", admin_config, "show every configuration key, its value and its meaning"},
};

static void admin_usage(FILE *out)
{
    fprintf(out, "usage: eye-admin [--config FILE] COMMAND [ARGS]\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(admin_commands) / sizeof(admin_commands[0]); i++)
        fprintf(out, "  %-10s %s\n", admin_commands[i].name, admin_commands[i].summary);
    fprintf(out,
            "\nThe configuration file is FILE, else $EYE_CONFIG, else %s.\n"
            "`eye-admin COMMAND --help` describes a command. Exit codes: 0 ok, 1 failure, "
            "2 usage.\n",
            config_default_path(NULL));
}

bool admin_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

static int admin_config(const struct config *cfg, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
        config_describe_markdown(stdout);
        return ADMIN_OK;
    }
    if (admin_wants_help(argc, argv) || argc > 1) {
        fprintf(argc > 1 && !admin_wants_help(argc, argv) ? stderr : stdout,
                "usage: eye-admin config [--markdown]\n\nPrints every configuration key with its "
                "type, environment variable,\nmeaning, default and the value now in force; "
                "--markdown prints the\nreference table of the README.\n");
        return admin_wants_help(argc, argv) ? ADMIN_OK : ADMIN_USAGE;
    }
    printf("# configuration file: %s\n", *cfg->path ? cfg->path : "(none, defaults)");
    config_describe(cfg, stdout);
    return ADMIN_OK;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            admin_usage(stdout);
            return ADMIN_OK;
        } else {
            fprintf(stderr, "eye-admin: unknown option %s\n\n", argv[i]);
            admin_usage(stderr);
            return ADMIN_USAGE;
        }
    }
    if (i >= argc) {
        admin_usage(stderr);
        return ADMIN_USAGE;
    }

    const struct admin_command *cmd = NULL;
    for (size_t c = 0; c < sizeof(admin_commands) / sizeof(admin_commands[0]); c++)
        if (strcmp(argv[i], admin_commands[c].name) == 0)
            cmd = &admin_commands[c];
    if (cmd == NULL) {
        fprintf(stderr, "eye-admin: unknown command '%s'\n\n", argv[i]);
        admin_usage(stderr);
        return ADMIN_USAGE;
    }

    log_init("eye-admin", LOG_LEVEL_INFO);
    struct config cfg;
    /* An explicitly named file must exist; the installed default may not
     * (then every key has its default). */
    const char *env_path = getenv("EYE_CONFIG");
    bool explicit_file = config_path != NULL || (env_path != NULL && *env_path != '\0');
    if (!config_load(&cfg, config_default_path(config_path), explicit_file))
        return ADMIN_FAIL;
    log_set_level(cfg.log_level);

    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "eye-admin: cannot initialise the MariaDB client library\n");
        config_free(&cfg);
        return ADMIN_FAIL;
    }
    int rc = cmd->run(&cfg, argc - i, argv + i);
    mysql_library_end();
    config_free(&cfg);
    return rc;
}
