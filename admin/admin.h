/* admin.h - eye-admin's subcommands.
 *
 * Each subcommand takes the loaded configuration and its own arguments
 * (argv[0] is the subcommand's name) and returns the process exit code:
 * ADMIN_OK, ADMIN_FAIL (operational failure, reason on stderr) or
 * ADMIN_USAGE (bad arguments, usage on stderr).
 */
#ifndef EYE_ADMIN_H
#define EYE_ADMIN_H

#include "lib/config.h"

enum { ADMIN_OK = 0, ADMIN_FAIL = 1, ADMIN_USAGE = 2 };

int admin_migrate(const struct config *cfg, int argc, char **argv);
int admin_app(const struct config *cfg, int argc, char **argv);
int admin_key(const struct config *cfg, int argc, char **argv);
int admin_accounts(const struct config *cfg, int argc, char **argv);
int admin_rules(const struct config *cfg, int argc, char **argv);
int admin_stats(const struct config *cfg, int argc, char **argv);
int admin_errors(const struct config *cfg, int argc, char **argv);
int admin_partitions(const struct config *cfg, int argc, char **argv);
int admin_retention(const struct config *cfg, int argc, char **argv);
int admin_erase(const struct config *cfg, int argc, char **argv);
int admin_archive(const struct config *cfg, int argc, char **argv);
int admin_restore(const struct config *cfg, int argc, char **argv);

/* True when argv holds -h or --help (every subcommand answers it). */
bool admin_wants_help(int argc, char **argv);

#endif
