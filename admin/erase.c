/* erase.c - `eye-admin erase --session ID | --application NAME`: the right
 * to be forgotten.
 *
 * Every trace goes: queue rows, events and their event_ids rows, errors,
 * quarantined rows, the session; for an application also its keys, its
 * rows in the per-minute rollup (event_counts_minute, when that table
 * exists), the sessions only it fed (sessions shared with another
 * application stay, their counters recomputed from what is left) and the
 * application itself. What was asked is recorded in `erasures` without the
 * erased data: the identifier only as HMAC-SHA256 under the random key of
 * `erasure_key`, and how many rows of each table went.
 *
 * Ingest is never blocked for long: every step deletes at most 1,000-5,000
 * rows per transaction (by an index: ix_events_session_time,
 * ix_events_application_time, ix_event_errors_session, the event_ids
 * primary key) and commits. The order matters: queue rows first (a row a
 * spooler holds is waited for, and is then in events, which come next), the
 * session last, under its row lock, after deleting any event a spooler
 * stored meanwhile; a spooler storing an event for it waits on that lock.
 * Events that arrive after the erasure are new data. An application's keys
 * are deleted first, then erase waits ingest.key_cache_seconds, the longest
 * a running eye.fcgi keeps accepting a cached key, before it empties the
 * queue.
 */
#include "autoconfig.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/erase.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/strparse.h"

#define ERASE_BATCH        5000
#define ERASE_EVENTS_BATCH 1000
#define ERASE_SUBJECT_MAX  255

struct erase_counts {
    long long events, event_ids, errors, sessions, queue, quarantine, keys, rollups;
};

/* One parameter for a statement: a string (the session identifier) or an
 * id (the application's). */
struct erase_param {
    const char *str;
    unsigned long long id;
};

/* Prepares, binds p, executes sql; returns affected rows or -1 (logged). */
static long long erase_run(MYSQL *conn, const char *name, const char *sql,
                           const struct erase_param *p)
{
    MYSQL_STMT *stmt = db_prepare(conn, name, sql);
    if (stmt == NULL)
        return -1;
    MYSQL_BIND in = {0};
    unsigned long len = 0;
    if (p->str != NULL) {
        len = (unsigned long)strlen(p->str);
        in.buffer_type = MYSQL_TYPE_STRING;
        in.buffer = (void *)p->str;
        in.length = &len;
    } else {
        in.buffer_type = MYSQL_TYPE_LONGLONG;
        in.is_unsigned = true;
        in.buffer = (void *)&p->id;
    }
    long long n = -1;
    if (mysql_stmt_param_count(stmt) > 0 && mysql_stmt_bind_param(stmt, &in) != 0)
        goto out;
    if (mysql_stmt_execute(stmt) != 0)
        goto out;
    n = (long long)mysql_stmt_affected_rows(stmt);
out:
    if (n < 0)
        log_error("%s: %s", name, mysql_stmt_error(stmt));
    mysql_stmt_close(stmt);
    return n;
}

/* Runs a query without parameters that returns rows (fixed text); returns
 * how many, or -1 (logged). */
static long long erase_query_rows(MYSQL *conn, const char *name, const char *sql)
{
    if (mysql_query(conn, sql) != 0) {
        log_error("%s: %s", name, mysql_error(conn));
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    if (res == NULL) {
        log_error("%s: %s", name, mysql_error(conn));
        return -1;
    }
    long long n = (long long)mysql_num_rows(res);
    mysql_free_result(res);
    return n;
}

/* Runs a DELETE ... LIMIT ERASE_BATCH again and again, one transaction each,
 * until it deletes fewer. Returns the total, or -1. */
static long long erase_batched(MYSQL *conn, const char *name, const char *sql,
                               const struct erase_param *p)
{
    long long total = 0;
    for (;;) {
        long long n = erase_run(conn, name, sql, p);
        if (n < 0 || mysql_commit(conn) != 0) {
            mysql_rollback(conn);
            return -1;
        }
        total += n;
        if (n < ERASE_BATCH)
            return total;
    }
}

/* Deletes events selected by `pick` (an INSERT INTO erase_batch ... SELECT
 * ... LIMIT ERASE_EVENTS_BATCH with one parameter) and their event_ids rows,
 * a batch per transaction; the sessions they belonged to are remembered in
 * erase_sessions. Each event is deleted by its whole primary key
 * (occurred_at, id), so each lookup touches one partition. */
static bool erase_events(MYSQL *conn, const char *pick, const struct erase_param *p,
                         struct erase_counts *c)
{
    const struct erase_param none = {NULL, 0};
    for (;;) {
        if (erase_run(conn, "clear_batch", "DELETE FROM erase_batch", &none) < 0)
            goto fail;
        long long n = erase_run(conn, "pick_events", pick, p);
        if (n < 0)
            goto fail;
        if (n == 0) {
            mysql_commit(conn);
            return true;
        }
        long long ids = erase_run(conn, "delete_event_ids",
                                  "DELETE d FROM erase_batch b STRAIGHT_JOIN event_ids d "
                                  "ON d.application_id = b.application_id "
                                  "AND d.event_id = b.event_id AND d.id = b.id",
                                  &none);
        long long ev = ids < 0 ? -1
                               : erase_run(conn, "delete_events",
                                           "DELETE e FROM erase_batch b STRAIGHT_JOIN events e "
                                           "ON e.id = b.id AND e.occurred_at = b.occurred_at",
                                           &none);
        if (ev < 0 ||
            erase_run(conn, "remember_sessions",
                      "INSERT IGNORE INTO erase_sessions (id) SELECT DISTINCT session_id "
                      "FROM erase_batch",
                      &none) < 0 ||
            mysql_commit(conn) != 0)
            goto fail;
        c->event_ids += ids;
        c->events += ev;
    }
fail:
    mysql_rollback(conn);
    return false;
}

/* Deletes, a chunk per transaction and under their row locks, the sessions
 * of erase_sessions left without events (events a spooler stored for them
 * meanwhile go too when `all` is set: a session being erased); the others
 * get their counters recomputed from the events that remain. */
static bool erase_sessions(MYSQL *conn, bool all, struct erase_counts *c)
{
    const struct erase_param none = {NULL, 0};
    for (;;) {
        if (erase_run(conn, "clear_chunk", "DELETE FROM erase_chunk", &none) < 0)
            goto fail;
        long long n = erase_run(conn, "pick_sessions",
                                "INSERT INTO erase_chunk (id) SELECT id FROM erase_sessions "
                                "ORDER BY id LIMIT 1000",
                                &none);
        if (n < 0)
            goto fail;
        if (n == 0) {
            mysql_commit(conn);
            return true;
        }
        if (erase_query_rows(conn, "lock_sessions",
                             "SELECT s.id FROM erase_chunk k STRAIGHT_JOIN sessions s "
                             "ON s.id = k.id FOR UPDATE") < 0)
            goto fail;
        if (all) {
            long long ids = erase_run(conn, "delete_late_event_ids",
                                      "DELETE d FROM erase_chunk k STRAIGHT_JOIN events e "
                                      "ON e.session_id = k.id STRAIGHT_JOIN event_ids d "
                                      "ON d.application_id = e.application_id "
                                      "AND d.event_id = e.event_id AND d.id = e.id",
                                      &none);
            long long ev = ids < 0 ? -1
                                   : erase_run(conn, "delete_late_events",
                                               "DELETE e FROM erase_chunk k STRAIGHT_JOIN "
                                               "events e ON e.session_id = k.id",
                                               &none);
            if (ev < 0)
                goto fail;
            c->event_ids += ids;
            c->events += ev;
        }
        long long gone = erase_run(conn, "delete_sessions",
                                   "DELETE s FROM erase_chunk k STRAIGHT_JOIN sessions s "
                                   "ON s.id = k.id WHERE NOT EXISTS "
                                   "(SELECT 1 FROM events e WHERE e.session_id = k.id)",
                                   &none);
        if (gone < 0 ||
            erase_run(conn, "recount_sessions",
                      "UPDATE (SELECT e.session_id, COUNT(*) AS n, MIN(e.occurred_at) AS f,"
                      " MAX(e.occurred_at) AS l FROM erase_chunk k STRAIGHT_JOIN events e"
                      " ON e.session_id = k.id GROUP BY e.session_id) x"
                      " STRAIGHT_JOIN sessions s ON s.id = x.session_id "
                      "SET s.event_count = x.n, s.first_seen_at = x.f, s.last_seen_at = x.l",
                      &none) < 0 ||
            erase_run(conn, "forget_chunk",
                      "DELETE r FROM erase_chunk k STRAIGHT_JOIN erase_sessions r ON r.id = k.id",
                      &none) < 0 ||
            mysql_commit(conn) != 0)
            goto fail;
        c->sessions += gone;
    }
fail:
    mysql_rollback(conn);
    return false;
}

bool erase_subject_hash(MYSQL *conn, const char *kind, const char *subject, unsigned char out[32])
{
    if (mysql_query(conn, "SELECT secret FROM erasure_key WHERE id = 1") != 0) {
        log_error("read erasure_key: %s", mysql_error(conn));
        return false;
    }
    MYSQL_RES *res = mysql_store_result(conn);
    MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
    unsigned long *lens = row != NULL ? mysql_fetch_lengths(res) : NULL;
    bool ok = false;
    if (row == NULL || row[0] == NULL || lens == NULL || lens[0] != 32) {
        log_error("erasure_key has no 32-byte key (migration 009)");
        goto out;
    }
    char msg[16 + ERASE_SUBJECT_MAX + 1];
    int len = snprintf(msg, sizeof(msg), "%s:%s", kind, subject);
    unsigned int n = 0;
    ok = len > 0 && (size_t)len < sizeof(msg) &&
         HMAC(EVP_sha256(), row[0], 32, (const unsigned char *)msg, (size_t)len, out, &n) != NULL &&
         n == 32;
    if (!ok)
        log_error("HMAC of the erased subject failed");
out:
    if (res != NULL)
        mysql_free_result(res);
    return ok;
}

static bool erase_audit(MYSQL *conn, const char *kind, const char *subject,
                        const struct erase_counts *c)
{
    unsigned char hash[32];
    if (!erase_subject_hash(conn, kind, subject, hash))
        return false;
    MYSQL_STMT *stmt = db_prepare(conn, "record_erasure",
                                  "INSERT INTO erasures (kind, subject_hash, events, event_ids,"
                                  " errors, sessions, queue, quarantine) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (stmt == NULL)
        return false;
    MYSQL_BIND in[8];
    memset(in, 0, sizeof(in));
    unsigned long kind_len = (unsigned long)strlen(kind), hash_len = 32;
    in[0].buffer_type = MYSQL_TYPE_STRING;
    in[0].buffer = (void *)kind;
    in[0].length = &kind_len;
    in[1].buffer_type = MYSQL_TYPE_BLOB;
    in[1].buffer = hash;
    in[1].length = &hash_len;
    const long long *v[6] = {&c->events,   &c->event_ids, &c->errors,
                             &c->sessions, &c->queue,     &c->quarantine};
    for (int i = 0; i < 6; i++) {
        in[2 + i].buffer_type = MYSQL_TYPE_LONGLONG;
        in[2 + i].buffer = (void *)v[i];
    }
    bool ok = mysql_stmt_bind_param(stmt, in) == 0 && mysql_stmt_execute(stmt) == 0;
    if (!ok)
        log_error("record_erasure: %s", mysql_stmt_error(stmt));
    mysql_stmt_close(stmt);
    return ok && mysql_commit(conn) == 0;
}

static bool erase_setup(MYSQL *conn)
{
    return mysql_autocommit(conn, 0) == 0 &&
           db_exec(conn, "set_isolation",
                   "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") &&
           db_exec(conn, "create_erase_batch",
                   "CREATE TEMPORARY TABLE IF NOT EXISTS erase_batch ("
                   " application_id INT UNSIGNED NOT NULL, event_id UUID NOT NULL,"
                   " id BIGINT UNSIGNED NOT NULL, occurred_at DATETIME(6) NOT NULL,"
                   " session_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (id)) ENGINE=MEMORY") &&
           db_exec(conn, "create_erase_sessions",
                   "CREATE TEMPORARY TABLE IF NOT EXISTS erase_sessions "
                   "(id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB") &&
           db_exec(conn, "create_erase_chunk",
                   "CREATE TEMPORARY TABLE IF NOT EXISTS erase_chunk "
                   "(id BIGINT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=MEMORY");
}

static bool erase_session(MYSQL *conn, const char *key, struct erase_counts *c)
{
    const struct erase_param p = {key, 0};
    c->queue =
        erase_batched(conn, "delete_queue",
                      "DELETE FROM event_queue WHERE session_key = ? ORDER BY id LIMIT 5000", &p);
    if (c->queue < 0)
        return false;
    if (erase_run(conn, "remember_session",
                  "INSERT IGNORE INTO erase_sessions (id) SELECT id FROM sessions "
                  "WHERE session_key = ?",
                  &p) < 0 ||
        !erase_events(conn,
                      "INSERT INTO erase_batch SELECT e.application_id, e.event_id, e.id,"
                      " e.occurred_at, e.session_id FROM sessions s STRAIGHT_JOIN events e"
                      " FORCE INDEX (ix_events_session_time) ON e.session_id = s.id"
                      " WHERE s.session_key = ? LIMIT 1000",
                      &p, c))
        return false;
    c->errors = erase_batched(conn, "delete_errors",
                              "DELETE FROM event_errors WHERE session_key = ? LIMIT 5000", &p);
    if (c->errors < 0)
        return false;
    c->quarantine =
        erase_batched(conn, "delete_quarantine",
                      "DELETE FROM event_quarantine WHERE session_key = ? LIMIT 5000", &p);
    if (c->quarantine < 0)
        return false;
    return erase_sessions(conn, true, c);
}

static bool erase_application(MYSQL *conn, const char *name, int64_t key_cache_seconds,
                              struct erase_counts *c)
{
    MYSQL_STMT *stmt =
        db_prepare(conn, "find_application", "SELECT id FROM applications WHERE name = ?");
    if (stmt == NULL)
        return false;
    MYSQL_BIND in = {0}, out = {0};
    unsigned long len = (unsigned long)strlen(name);
    unsigned long long id = 0;
    in.buffer_type = MYSQL_TYPE_STRING;
    in.buffer = (void *)name;
    in.length = &len;
    out.buffer_type = MYSQL_TYPE_LONGLONG;
    out.is_unsigned = true;
    out.buffer = &id;
    int r = -1;
    if (mysql_stmt_bind_param(stmt, &in) == 0 && mysql_stmt_execute(stmt) == 0 &&
        mysql_stmt_bind_result(stmt, &out) == 0 && mysql_stmt_store_result(stmt) == 0)
        r = mysql_stmt_fetch(stmt);
    if (r != 0 && r != MYSQL_NO_DATA)
        log_error("find_application: %s", mysql_stmt_error(stmt));
    mysql_stmt_close(stmt);
    mysql_commit(conn);
    if (r == MYSQL_NO_DATA) {
        fprintf(stderr, "eye-admin erase: no application named '%s'\n", name);
        return false;
    }
    if (r != 0)
        return false;

    const struct erase_param p = {NULL, id};
    c->keys = erase_run(conn, "delete_keys", "DELETE FROM api_keys WHERE application_id = ?", &p);
    if (c->keys < 0 || mysql_commit(conn) != 0)
        return false;
    if (key_cache_seconds > 0) {
        fprintf(stderr,
                "eye-admin erase: keys deleted; waiting %lld s (ingest.key_cache_seconds) for "
                "eye.fcgi to forget them\n",
                (long long)key_cache_seconds);
        sleep((unsigned int)key_cache_seconds + 1);
    }
    c->queue = erase_batched(
        conn, "delete_queue",
        "DELETE FROM event_queue WHERE application_id = ? ORDER BY id LIMIT 5000", &p);
    if (c->queue < 0 ||
        !erase_events(conn,
                      "INSERT INTO erase_batch SELECT application_id, event_id, id, occurred_at,"
                      " session_id FROM events FORCE INDEX (ix_events_application_time)"
                      " WHERE application_id = ? LIMIT 1000",
                      &p, c))
        return false;
    long long ids = erase_batched(conn, "delete_left_event_ids",
                                  "DELETE FROM event_ids WHERE application_id = ? LIMIT 5000", &p);
    c->errors = ids < 0 ? -1
                        : erase_batched(conn, "delete_errors",
                                        "DELETE FROM event_errors WHERE application_id = ? "
                                        "LIMIT 5000",
                                        &p);
    c->quarantine = c->errors < 0 ? -1
                                  : erase_batched(conn, "delete_quarantine",
                                                  "DELETE FROM event_quarantine "
                                                  "WHERE application_id = ? LIMIT 5000",
                                                  &p);
    if (c->quarantine < 0)
        return false;
    c->event_ids += ids;
    /* The rollups of issue 16, where they exist: counts per application. */
    long long has_rollups = erase_query_rows(conn, "find_rollups",
                                             "SELECT 1 FROM information_schema.TABLES WHERE "
                                             "TABLE_SCHEMA = DATABASE() AND "
                                             "TABLE_NAME = 'event_counts_minute'");
    if (has_rollups < 0)
        return false;
    if (has_rollups > 0) {
        c->rollups = erase_batched(conn, "delete_rollups",
                                   "DELETE FROM event_counts_minute WHERE application_id = ? "
                                   "LIMIT 5000",
                                   &p);
        if (c->rollups < 0)
            return false;
    }
    if (!erase_sessions(conn, false, c))
        return false;
    long long apps =
        erase_run(conn, "delete_application", "DELETE FROM applications WHERE id = ?", &p);
    return apps >= 0 && mysql_commit(conn) == 0;
}

static void erase_usage(FILE *out)
{
    fprintf(out, "usage: eye-admin erase --session ID\n"
                 "       eye-admin erase --application NAME\n\n"
                 "Removes every trace of one session (its events from every application,\n"
                 "errors, queue and quarantine rows, the session) or of one application (its\n"
                 "keys, events, errors, queue and quarantine rows, rollup counts, the sessions\n"
                 "only it fed, the application), in small batches, and records the erasure in\n"
                 "`erasures` with the identifier only as a keyed hash.\n");
}

int admin_erase(const struct config *cfg, int argc, char **argv)
{
    if (admin_wants_help(argc, argv)) {
        erase_usage(stdout);
        return ADMIN_OK;
    }
    if (argc != 3 || (strcmp(argv[1], "--session") != 0 && strcmp(argv[1], "--application") != 0) ||
        *argv[2] == '\0' || strlen(argv[2]) > ERASE_SUBJECT_MAX) {
        erase_usage(stderr);
        return ADMIN_USAGE;
    }
    bool session = strcmp(argv[1], "--session") == 0;
    const char *subject = argv[2];
    MYSQL *conn = db_connect(cfg, &cfg->accounts.admin);
    if (conn == NULL)
        return ADMIN_FAIL;
    struct erase_counts c = {0};
    bool ok = erase_setup(conn) &&
              (session ? erase_session(conn, subject, &c)
                       : erase_application(conn, subject, cfg->ingest.key_cache_seconds, &c)) &&
              erase_audit(conn, session ? "session" : "application", subject, &c);
    if (ok) {
        printf("erased %s: %lld events, %lld event_ids, %lld errors, %lld sessions, %lld queued, "
               "%lld quarantined",
               session ? "session" : "application", c.events, c.event_ids, c.errors, c.sessions,
               c.queue, c.quarantine);
        if (!session)
            printf(", %lld keys, %lld rollup rows", c.keys, c.rollups);
        printf("\n");
    } else {
        mysql_rollback(conn);
        fprintf(stderr, "eye-admin erase: stopped; what was erased so far stays erased, run it "
                        "again to finish\n");
    }
    mysql_close(conn);
    return ok ? ADMIN_OK : ADMIN_FAIL;
}
