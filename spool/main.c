/* main.c - eye-spool: the daemon that empties event_queue into the tables
 * analysts read.
 *
 * Loop: claim a batch and move it (spool_batch); when the queue is empty,
 * sleep, starting at 10 ms after work and doubling up to
 * spool.poll_interval_ms, so an idle spooler costs a few queries a second
 * while new work waits at most one poll interval; under a backlog batches
 * run back to back. Lost connections are re-established with exponential
 * backoff (0.1 s doubling to 5 s); deadlocks and lock waits are retried; a
 * batch that fails for any other reason is replayed one row at a time to
 * find the poison row, which is counted and, after spool.max_attempts
 * failures, moved to event_quarantine. SIGTERM/SIGINT finish the batch in
 * progress and exit 0. --once drains the queue and exits. Once a second
 * the spool also sets the heartbeat row, by which /v1/health measures the
 * replication lag of the read API's server.
 *
 * Partitions: at every (re)connection and then hourly, the spool makes sure
 * events and event_errors have monthly partitions for the next
 * retention.partitions_ahead_months months (lib/partition.c). Rows never
 * depend on it: p_future takes whatever has no month yet.
 */
#include "autoconfig.h"

#include <mysql.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/config.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/partition.h"
#include "spool/spool.h"

/* How long `--once` keeps trying to connect before it exits 1. */
#define SPOOL_ONCE_GIVE_UP_MS 30000

/* How often the heartbeat row is set (migrations/010_heartbeat.sql). */
#define SPOOL_HEARTBEAT_MS 1000

/* How often the partitions ahead are checked, and how long the split may
 * wait for the table's metadata lock (writers queue behind it). */
#define SPOOL_PARTITION_CHECK_MS (3600 * 1000)
#define SPOOL_PARTITION_LOCK_WAIT_S 2

/* Creates the months ahead; a failure is logged and retried at the next
 * check (rows go to p_future meanwhile). Leaves no transaction open. */
static void spool_partitions(struct spool *s)
{
    int added = 0;
    if (!partition_ensure_all(s->conn, (int)s->cfg->retention.partitions_ahead_months,
                              SPOOL_PARTITION_LOCK_WAIT_S, &added))
        log_warn("partitions ahead not created now; will try again in an hour (does the spool "
                 "account have EXECUTE on eye_partitions_ahead? `eye-admin accounts`)");
    mysql_commit(s->conn);
}

static volatile sig_atomic_t spool_stop;

static void spool_on_signal(int sig)
{
    (void)sig;
    spool_stop = 1;
}

/* Sleeps ms milliseconds, or less when a signal arrives. */
static void spool_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    if (!spool_stop)
        nanosleep(&ts, NULL);
}

static int64_t spool_now_ms(void)
{
    return clock_mono_us() / 1000;
}

struct spool_totals {
    uint64_t batches, claimed, events, errors, duplicates, quarantined, retries, reconnects;
};

static void spool_usage(FILE *out)
{
    fprintf(out,
            "usage: eye-spool [--config FILE] [--once]\n\n"
            "Moves event_queue into sessions, events and event_errors.\n"
            "  --config FILE  configuration (else $EYE_CONFIG, else %s)\n"
            "  --once         drain the queue, then exit (for cron and tests)\n"
            "SIGTERM or SIGINT: finish the current batch and exit 0.\n",
            config_default_path(NULL));
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    bool once = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            spool_usage(stdout);
            return 0;
        } else {
            spool_usage(stderr);
            return 2;
        }
    }
    log_init("eye-spool", LOG_LEVEL_INFO);
    struct config cfg;
    const char *env_path = getenv("EYE_CONFIG");
    bool explicit_file = config_path != NULL || (env_path != NULL && *env_path != '\0');
    if (!config_load(&cfg, config_default_path(config_path), explicit_file))
        return 1;
    log_set_level(cfg.log_level);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = spool_on_signal; /* no SA_RESTART: sleeps end early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mysql_library_init(0, NULL, NULL) != 0) {
        log_error("cannot initialise the MariaDB client library");
        config_free(&cfg);
        return 1;
    }

    struct spool s;
    struct spool_totals t = {0}, last = {0};
    spool_init(&s, &cfg);
    int64_t backoff = 100, idle = 10, isolate_left = 0;
    int64_t next_summary = spool_now_ms() + cfg.spool.summary_interval_seconds * 1000;
    int64_t next_beat = 0;
    int64_t next_partition_check = 0;
    bool was_offline = false;
    bool stalled = false;
    int64_t locked_since = 0; /* --once: since when only locked rows are left */
    char reason[1024];
    log_info("started (batch %lld, poll %lld ms%s)", (long long)cfg.spool.batch_size,
             (long long)cfg.spool.poll_interval_ms, once ? ", once" : "");

    int64_t started_ms = spool_now_ms();
    int rc = 0;
    while (!spool_stop) {
        /* Between batches only: follow the process back to a preferred
         * writer that is usable again (database.failback_seconds). */
        if (db_failback(&cfg, &cfg.accounts.spool, ENDPOINT_WRITER) ||
            (s.conn != NULL && s.generation != endpoint_generation(ENDPOINT_WRITER)))
            spool_close(&s);
        if (s.conn == NULL) {
            if (!spool_connect(&s)) {
                /* A daemon waits for the database however long it takes; a
                 * --once run (cron) that never got in gives up. */
                if (once && spool_now_ms() - started_ms > SPOOL_ONCE_GIVE_UP_MS) {
                    log_error("--once: no connection for %d s; giving up",
                              SPOOL_ONCE_GIVE_UP_MS / 1000);
                    rc = 1;
                    break;
                }
                was_offline = true;
                spool_sleep_ms(backoff);
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            if (was_offline) {
                log_info("connected again");
                t.reconnects++;
            }
            was_offline = false;
            backoff = 100;
            started_ms = spool_now_ms();
            next_partition_check = 0;
        }
        if (spool_now_ms() >= next_partition_check) {
            spool_partitions(&s);
            next_partition_check = spool_now_ms() + SPOOL_PARTITION_CHECK_MS;
        }

        /* Once a second, whatever the queue: /v1/health measures how far
         * a standby is behind by it. A failed beat is not retried at once. */
        if (spool_now_ms() >= next_beat) {
            next_beat = spool_now_ms() + SPOOL_HEARTBEAT_MS;
            if (spool_heartbeat(&s) == SPOOL_OFFLINE) {
                was_offline = true;
                continue;
            }
        }

        int64_t limit = isolate_left > 0 ? 1 : cfg.spool.batch_size;
        struct spool_batch_stats b;
        enum spool_result r = spool_batch(&s, limit, &b, reason, sizeof(reason));
        if (r != SPOOL_STALLED && stalled) {
            log_info("the database takes batches again");
            stalled = false;
            backoff = 100;
        }
        switch (r) {
        case SPOOL_OK:
            if (b.claimed == 0) {
                isolate_left = 0;
                /* --once is done when the queue is empty, not merely when
                 * nothing is claimable: rows a spooler killed a moment ago
                 * stay locked until the server has rolled its batch back. */
                bool has_rows = false;
                if (once && (!spool_queue_has_rows(&s, &has_rows) || !has_rows))
                    goto out;
                if (once && locked_since == 0)
                    locked_since = spool_now_ms();
                if (once && spool_now_ms() - locked_since > SPOOL_ONCE_GIVE_UP_MS) {
                    log_warn("--once: the queue's rows stayed locked by another spooler for "
                             "%d s; leaving them to it",
                             SPOOL_ONCE_GIVE_UP_MS / 1000);
                    goto out;
                }
                spool_sleep_ms(idle);
                idle =
                    idle * 2 > cfg.spool.poll_interval_ms ? cfg.spool.poll_interval_ms : idle * 2;
                break;
            }
            idle = 10;
            locked_since = 0;
            if (isolate_left > 0)
                isolate_left--;
            t.batches++;
            t.claimed += b.claimed;
            t.events += b.events;
            t.errors += b.errors;
            t.duplicates += b.duplicates;
            log_debug("batch: %llu claimed, %llu events, %llu errors, %llu duplicates",
                      (unsigned long long)b.claimed, (unsigned long long)b.events,
                      (unsigned long long)b.errors, (unsigned long long)b.duplicates);
            break;
        case SPOOL_RETRY:
            t.retries++;
            spool_sleep_ms(1 + rand() % 20);
            break;
        case SPOOL_OFFLINE:
            was_offline = true;
            spool_sleep_ms(backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            break;
        case SPOOL_STALLED:
            /* Not the rows' fault: nothing is quarantined. Said once when it
             * starts and once when it ends, not once per attempt. */
            if (!stalled)
                log_warn("the database cannot take the batch (%s); waiting", reason);
            stalled = true;
            t.retries++;
            spool_sleep_ms(backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            break;
        case SPOOL_POISON:
            if (limit > 1) {
                /* Replay the rows one at a time to find the one at fault. */
                log_warn("batch failed (%s); retrying its rows one by one", reason);
                isolate_left = limit;
                break;
            }
            bool moved = false;
            enum spool_result pr = spool_poison_row(&s, reason, &moved);
            if (pr == SPOOL_OK && moved) {
                t.quarantined++;
                log_error("queue row moved to event_quarantine: %s", reason);
            } else if (pr == SPOOL_OFFLINE) {
                was_offline = true;
            }
            break;
        }

        if (spool_now_ms() >= next_summary) {
            log_info("last %llds: %llu batches, %llu rows, %llu events, %llu errors, "
                     "%llu duplicates, %llu quarantined, %llu retries",
                     (long long)cfg.spool.summary_interval_seconds,
                     (unsigned long long)(t.batches - last.batches),
                     (unsigned long long)(t.claimed - last.claimed),
                     (unsigned long long)(t.events - last.events),
                     (unsigned long long)(t.errors - last.errors),
                     (unsigned long long)(t.duplicates - last.duplicates),
                     (unsigned long long)(t.quarantined - last.quarantined),
                     (unsigned long long)(t.retries - last.retries));
            last = t;
            next_summary = spool_now_ms() + cfg.spool.summary_interval_seconds * 1000;
        }
    }

out:
    log_info("stopping: %llu batches, %llu rows, %llu events, %llu errors, %llu duplicates, "
             "%llu quarantined, %llu retries, %llu reconnects",
             (unsigned long long)t.batches, (unsigned long long)t.claimed,
             (unsigned long long)t.events, (unsigned long long)t.errors,
             (unsigned long long)t.duplicates, (unsigned long long)t.quarantined,
             (unsigned long long)t.retries, (unsigned long long)t.reconnects);
    spool_close(&s);
    mysql_library_end();
    config_free(&cfg);
    return rc;
}
