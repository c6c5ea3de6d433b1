/* batch.c - one spool transaction (see spool.h).
 *
 * The claimed rows go into a per-connection MEMORY temporary table,
 * spool_claim: their ids and the fixed-width keys the batch works with
 * (application, event_id, times, valid or not), copied once by the claim,
 * so every later statement of the batch is a fixed prepared statement
 * joined with it (no SQL text built from data). A second one, spool_keys,
 * holds the ids a valid row resolves to (its session, category and type),
 * looked up once from the queue row's names by resolve_keys. Only the
 * statements that need a queue row's other columns or remove it read
 * event_queue again: resolve_keys, insert_events, insert_errors,
 * delete_claimed, the rare ones that make new sessions or types, and those
 * of a poison row (count_attempt, read_attempts, quarantine). Reading the
 * queue rows in every statement cost ~2 µs of mariadbd CPU per event more,
 * and a MEMORY table stores a VARCHAR at its full width: the names in the
 * claim made its rows ~3 KiB, copied by every statement that read it, ~3 µs
 * per event (bench/README.md, "What a stored event costs"). The MEMORY
 * tables are not transactional: they are emptied at the start of each
 * batch, and after a rollback the claim still names the rows of the failed
 * batch, which is how a poison row is found.
 *
 * Locking: claims take row locks on queue rows with SKIP LOCKED, so two
 * spoolers never claim the same row. Within a statement, rows are locked in
 * one order for every spooler: existing sessions in id order
 * (count_sessions), new ones in session_key order (create_sessions),
 * event_ids keys in key order. Two batches can still deadlock across
 * statements (one counting a session the other creates, say): InnoDB picks
 * one, which is rolled back and retried, as any deadlock is. A session
 * resolve_keys found that retention or erasure deletes before
 * count_sessions locks it makes count_sessions find fewer than resolve_keys
 * did: the batch is retried, so no event points at a deleted session.
 * Deduplication is the event_ids table (one row per stored event, keyed by
 * application and event_id, unpartitioned so the key holds across every
 * partition of events), written with ON DUPLICATE KEY UPDATE as a no-op: an
 * event_id the same application already stored (a client retry or a replay)
 * is skipped, while every other error still fails the batch (INSERT IGNORE
 * would turn bad data into silently lost rows). Only rows that won their
 * event_ids record go into events, in the same transaction, so the two
 * never differ.
 *
 * FORCE INDEX and STRAIGHT_JOIN: on a young database the optimizer's
 * statistics say the sessions table is tiny and it picks full scans, which
 * cost hundreds of milliseconds per batch (and lock more rows) once the
 * table has grown; with a small queue it reads the whole queue and probes
 * the claim instead of the other way round. Every statement is driven
 * from the claim, by STRAIGHT_JOIN.
 */
#include "autoconfig.h"

#include "spool/spool.h"

#include <mysqld_error.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/db.h"
#include "lib/log.h"
#include "spool/status.h"

/* What the claim copies of each queue row (and valid: error_code IS NULL). */
#define SPOOL_CLAIM_COLUMNS "id, application_id, event_id, occurred_at, received_at"

/* The claimed rows that won their event_ids record (are stored). When
 * record_event_ids inserted a record for every valid row (no duplicate:
 * the usual batch), every valid row is a winner, and the _all variants of
 * the statements below leave this join out. */
#define SPOOL_WON                                                                                  \
    " JOIN event_ids d ON d.application_id = c.application_id"                                     \
    " AND d.event_id = c.event_id AND d.id = c.id"

/* The winners' sessions: see count_sessions in spool_sql below. */
#define SPOOL_COUNT_SESSIONS(won)                                                                  \
    "UPDATE (SELECT STRAIGHT_JOIN k.session_id, COUNT(*) AS n,"                                    \
    " MIN(c.occurred_at) AS first_at, MAX(c.occurred_at) AS last_at"                               \
    " FROM spool_claim c" won " JOIN spool_keys k ON k.id = c.id"                                  \
    " WHERE c.valid AND k.session_id IS NOT NULL GROUP BY k.session_id) x"                         \
    " STRAIGHT_JOIN sessions s ON s.id = x.session_id "                                            \
    "SET s.event_count = s.event_count + x.n, "                                                    \
    "s.first_seen_at = LEAST(s.first_seen_at, x.first_at), "                                       \
    "s.last_seen_at = GREATEST(s.last_seen_at, x.last_at)"
#define SPOOL_CREATE_SESSIONS(won)                                                                 \
    "INSERT INTO sessions (session_key, first_seen_at, last_seen_at, event_count) "                \
    "SELECT STRAIGHT_JOIN q.session_key, MIN(c.occurred_at), MAX(c.occurred_at), COUNT(*) "        \
    "FROM spool_claim c" won " JOIN spool_keys k ON k.id = c.id "                                  \
    "JOIN event_queue q ON q.id = c.id WHERE c.valid AND k.session_id IS NULL "                    \
    "GROUP BY q.session_key ORDER BY q.session_key "                                               \
    "ON DUPLICATE KEY UPDATE event_count = sessions.event_count + VALUES(event_count), "           \
    "first_seen_at = LEAST(sessions.first_seen_at, VALUES(first_seen_at)), "                       \
    "last_seen_at = GREATEST(sessions.last_seen_at, VALUES(last_seen_at))"

/* The ids of the sessions create_sessions made (or found made by another
 * spooler), for the winners only (won: the claim and SPOOL_WON, or "" when
 * every valid row won): a duplicate's session may be another spooler's,
 * locked by it. */
#define SPOOL_RESOLVE_SESSIONS(won)                                                                \
    "UPDATE spool_keys k" won " STRAIGHT_JOIN event_queue q ON q.id = k.id "                       \
    "STRAIGHT_JOIN sessions s FORCE INDEX (uq_sessions_key) ON s.session_key = q.session_key "     \
    "SET k.session_id = s.id WHERE k.session_id IS NULL"

/* The join order is fixed (STRAIGHT_JOIN: claim, queue, its dedup record,
 * sessions by key, then the type's two ids). Left to itself the optimizer
 * may scan the whole sessions index and join the claim to it through a
 * join buffer: at 20,000 sessions that was ~350 ms per 1,000-row batch,
 * 90% of the drain. events has no foreign keys (it is partitioned): the
 * joins keep an event from pointing at no session or type (check_claim did
 * the same for applications), and spool_batch checks that every winner was
 * stored. Rows go in in claim order (queue id order, which is nearly that
 * of the primary key (occurred_at, id)): an ORDER BY would sort the joined
 * rows, data included, in an on-disk temporary table for every batch. */
#define SPOOL_INSERT_EVENTS(won)                                                                   \
    "INSERT INTO events (occurred_at, id, event_id, application_id, session_id, category_id, "     \
    "type_id, data, client_timestamp, sent_at, clock_skew_us, skew_corrected, received_at, "       \
    "rules_version, user_agent, client_ip) "                                                       \
    "SELECT STRAIGHT_JOIN c.occurred_at, c.id, c.event_id, c.application_id, k.session_id, "       \
    "k.category_id, k.type_id, q.data, q.client_timestamp, q.sent_at, q.clock_skew_us, "           \
    "q.skew_corrected, c.received_at, q.rules_version, q.user_agent, q.client_ip "                 \
    "FROM spool_claim c" won " JOIN spool_keys k ON k.id = c.id "                                  \
    "JOIN event_queue q ON q.id = c.id "                                                           \
    "WHERE c.valid AND k.session_id IS NOT NULL AND k.type_id IS NOT NULL"

/* How long a batch with rejected rows waits for eye_spool_errors (another
 * spooler holds it from its insert_errors to its COMMIT), seconds. */
#define SPOOL_ERRORS_LOCK_WAIT_S 10

static const struct {
    const char *name;
    const char *sql;
} spool_sql[SS_NSTMTS] = {
    [SS_CLEAR] = {"clear_claim", "DELETE FROM spool_claim"},
    [SS_CLAIM] = {"claim", "INSERT INTO spool_claim (" SPOOL_CLAIM_COLUMNS ", valid) "
                           "SELECT " SPOOL_CLAIM_COLUMNS ", error_code IS NULL "
                           "FROM event_queue ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED"},
    /* The ids a claimed valid row resolves to, looked up once per batch
     * (its session by key, its category and type by name) into the
     * second MEMORY table, spool_keys: the statements after it join by
     * these small ids instead of looking the names up again. An INSERT
     * ... SELECT reads sessions and the dimension tables as a consistent
     * read, locking nothing (READ COMMITTED); a multi-table UPDATE of the
     * claim would share-lock every session it read, and two spoolers
     * counting one session would deadlock. NULL: not there yet (a new
     * session or type), made below and then resolved again. */
    [SS_CLEAR_KEYS] = {"clear_keys", "DELETE FROM spool_keys"},
    [SS_RESOLVE] = {"resolve_keys",
                    "INSERT INTO spool_keys (id, session_id, category_id, type_id) "
                    "SELECT STRAIGHT_JOIN c.id, s.id, ec.id, t.id FROM spool_claim c "
                    "JOIN event_queue q ON q.id = c.id "
                    "LEFT JOIN sessions s FORCE INDEX (uq_sessions_key)"
                    " ON s.session_key = q.session_key "
                    "LEFT JOIN event_categories ec ON ec.name = q.category "
                    "LEFT JOIN event_types t ON t.category_id = ec.id AND t.name = q.name "
                    "WHERE c.valid"},
    /* events and event_errors have no foreign keys (they are partitioned):
     * a claimed row whose application does not exist must not be stored.
     * Checked once at claim time: erasing an application deletes its queue
     * rows before the application and waits for the rows a spooler holds,
     * so the application cannot go while this batch holds its rows. The
     * same pass counts the valid rows, those whose type event_types does
     * not know yet (migration 013), so the statements that add types run
     * only in the rare batch that brings a new one, and the new sessions
     * of the valid rows, so create_sessions runs only when there are. */
    [SS_CHECK] = {"check_claim",
                  "SELECT STRAIGHT_JOIN COUNT(*) - COUNT(a.id), COALESCE(SUM(c.valid), 0), "
                  "COALESCE(SUM(c.valid AND k.type_id IS NULL), 0), "
                  "COALESCE(SUM(c.valid AND k.session_id IS NULL), 0), "
                  "COUNT(DISTINCT k.session_id) "
                  "FROM spool_claim c LEFT JOIN spool_keys k ON k.id = c.id "
                  "LEFT JOIN applications a ON a.id = c.application_id"},
    /* New categories and types, in name order (one lock order for every
     * spooler). Only names not there yet are inserted: an INSERT that
     * meets an existing key would still use up an AUTO_INCREMENT value of
     * the 2-byte id. IGNORE covers the race with another spooler adding
     * the same name at the same moment (this one waits for that one's
     * commit, then skips the row). */
    [SS_ADD_CATEGORIES] = {"add_categories",
                           "INSERT IGNORE INTO event_categories (name) "
                           "SELECT STRAIGHT_JOIN q.category FROM spool_keys k "
                           "JOIN event_queue q ON q.id = k.id "
                           "WHERE k.type_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
                           "event_categories x WHERE x.name = q.category) "
                           "GROUP BY q.category ORDER BY q.category"},
    [SS_ADD_TYPES] = {"add_types", "INSERT IGNORE INTO event_types (category_id, name) "
                                   "SELECT STRAIGHT_JOIN ec.id, q.name FROM spool_keys k "
                                   "JOIN event_queue q ON q.id = k.id "
                                   "JOIN event_categories ec ON ec.name = q.category "
                                   "WHERE k.type_id IS NULL AND NOT EXISTS (SELECT 1 FROM "
                                   "event_types x WHERE x.category_id = ec.id AND x.name = q.name) "
                                   "GROUP BY ec.id, q.name ORDER BY ec.id, q.name"},
    /* The new types' ids, once add_types made them (or another spooler
     * did: IGNORE). Share-locks those few dimension rows, which nothing
     * but add_types writes. */
    [SS_RESOLVE_TYPES] = {"resolve_types",
                          "UPDATE spool_keys k STRAIGHT_JOIN event_queue q ON q.id = k.id "
                          "STRAIGHT_JOIN event_categories ec ON ec.name = q.category "
                          "STRAIGHT_JOIN event_types t ON t.category_id = ec.id"
                          " AND t.name = q.name "
                          "SET k.category_id = ec.id, k.type_id = t.id "
                          "WHERE k.type_id IS NULL"},
    /* The dedup record (migration 009): one row per stored event, keyed by
     * (application_id, event_id) across every partition of events. The
     * no-op update keeps a stored id's row as it is, so a row of this batch
     * "wins" (is stored) exactly when event_ids.id is its own queue id.
     * Inserted in key order (then arrival: the first of two retries in one
     * batch wins), so concurrent batches lock these keys in one order. */
    [SS_DEDUP] = {"record_event_ids",
                  "INSERT INTO event_ids (application_id, event_id, id, occurred_at) "
                  "SELECT c.application_id, c.event_id, c.id, c.occurred_at "
                  "FROM spool_claim c "
                  "WHERE c.valid ORDER BY c.application_id, c.event_id, c.id "
                  "ON DUPLICATE KEY UPDATE id = event_ids.id"},
    /* The winners' sessions: those resolve_keys found are counted by one
     * UPDATE, by primary key in id order, then those it did not find are
     * created with their counts, in session_key order (each statement
     * locks in one order for every spooler, always after their event_ids
     * keys), and a session is only made for an event that is stored, so a
     * batch of duplicates leaves nothing to clean up. One INSERT ... ON
     * DUPLICATE KEY UPDATE for both cost more than the two (bench: InnoDB
     * inserts the new primary key first and undoes it when the unique key
     * turns out taken). The ON DUPLICATE KEY clause of the second covers a
     * session another spooler created since resolve_keys read; then
     * resolve_sessions reads the new ones' ids (rows this transaction
     * holds locked already, by its insert or update). */
    [SS_SESSIONS] = {"count_sessions", SPOOL_COUNT_SESSIONS(SPOOL_WON)},
    [SS_SESSIONS_ALL] = {"count_sessions_all", SPOOL_COUNT_SESSIONS("")},
    [SS_NEW_SESSIONS] = {"create_sessions", SPOOL_CREATE_SESSIONS(SPOOL_WON)},
    [SS_NEW_SESSIONS_ALL] = {"create_sessions_all", SPOOL_CREATE_SESSIONS("")},
    [SS_RESOLVE_SESSIONS] = {"resolve_sessions",
                             SPOOL_RESOLVE_SESSIONS(
                                 " STRAIGHT_JOIN spool_claim c ON c.id = k.id" SPOOL_WON)},
    [SS_RESOLVE_SESSIONS_ALL] = {"resolve_sessions_all", SPOOL_RESOLVE_SESSIONS("")},
    /* The winners' sessions resolve_keys found, when not every valid row
     * won (check_claim counted those of every valid row). */
    [SS_FOUND_SESSIONS] = {"found_sessions",
                           "SELECT COUNT(DISTINCT k.session_id) FROM spool_claim c" SPOOL_WON
                           " JOIN spool_keys k ON k.id = c.id WHERE c.valid"},
    [SS_EVENTS] = {"insert_events", SPOOL_INSERT_EVENTS(SPOOL_WON)},
    [SS_EVENTS_ALL] = {"insert_events_all", SPOOL_INSERT_EVENTS("")},
    /* A rejected event is recorded once per application and event_id, as
     * a stored one is: a client that retries after a lost answer sends it
     * again. There is no unique key to lean on (event_errors is to be
     * partitioned by time), so the statement skips an event_id already
     * recorded (ix_event_errors_event_id) and, within the batch, every
     * delivery but the first (ROW_NUMBER: the claim is a temporary table,
     * which one statement may open only once). Under READ COMMITTED the
     * NOT EXISTS read is a consistent read, which does not see (nor wait
     * for) another spooler's uncommitted row of the same event_id: two
     * deliveries claimed by two spoolers at once were both recorded
     * (tests/integration/spool.sh, 4 spoolers, under ASan). So a batch
     * records its errors holding the named lock eye_spool_errors, from
     * before this statement until after its COMMIT: the next spooler's
     * read sees every row recorded before it. Only batches with rejected
     * rows take it, for the end of their batch. Rows without an event_id
     * are all recorded. The numbering reads only ids and keys
     * (r), and the columns come from the queue row by its primary key: a
     * temporary table holding data or payload (TEXT) would be an on-disk
     * one, created and written for every batch. */
    [SS_ERRORS_LOCK] = {"lock_errors", "SELECT GET_LOCK('eye_spool_errors', ?)"},
    [SS_ERRORS_UNLOCK] = {"unlock_errors", "DO RELEASE_LOCK('eye_spool_errors')"},
    [SS_ERRORS] = {"insert_errors",
                   "INSERT INTO event_errors (id, event_id, application_id, received_at, "
                   "session_key, category, name, code, pointer, message, payload, "
                   "payload_truncated, rules_version, user_agent, client_ip) "
                   "SELECT STRAIGHT_JOIN q.id, q.event_id, q.application_id, q.received_at, "
                   "q.session_key, q.category, q.name, q.error_code, "
                   "COALESCE(q.error_pointer, ''), COALESCE(q.error_message, ''), q.payload, "
                   "q.payload_truncated, q.rules_version, q.user_agent, q.client_ip "
                   "FROM (SELECT c.id, ROW_NUMBER() OVER (PARTITION BY c.application_id,"
                   " c.event_id ORDER BY c.id) AS delivery"
                   " FROM spool_claim c WHERE NOT c.valid) r "
                   "JOIN event_queue q ON q.id = r.id "
                   "WHERE q.event_id IS NULL OR (r.delivery = 1 AND NOT EXISTS ("
                   "SELECT 1 FROM event_errors x FORCE INDEX (ix_event_errors_event_id)"
                   " WHERE x.event_id = q.event_id AND x.application_id = q.application_id))"},
    [SS_DELETE] = {"delete_claimed",
                   "DELETE q FROM spool_claim c STRAIGHT_JOIN event_queue q ON q.id = c.id"},
    [SS_DUPLICATES] = {"count_duplicates",
                       "UPDATE spool_counters SET value = value + ? WHERE name = 'duplicates'"},
    [SS_ATTEMPT] = {"count_attempt",
                    "UPDATE spool_claim c STRAIGHT_JOIN event_queue q ON q.id = c.id "
                    "SET q.attempts = q.attempts + 1"},
    [SS_ATTEMPTS] = {"read_attempts", "SELECT COALESCE(MAX(q.attempts), 0) FROM spool_claim c "
                                      "STRAIGHT_JOIN event_queue q ON q.id = c.id"},
    [SS_QUARANTINE] = {"quarantine",
                       "INSERT INTO event_quarantine (id, application_id, received_at, event_id,"
                       " session_key, category, name, occurred_at, client_timestamp, sent_at,"
                       " clock_skew_us, skew_corrected, rules_version, data, error_code,"
                       " error_pointer, error_message, payload, payload_truncated, attempts,"
                       " reason, user_agent, client_ip) "
                       "SELECT q.id, q.application_id, q.received_at, q.event_id, q.session_key,"
                       " q.category, q.name, q.occurred_at, q.client_timestamp, q.sent_at,"
                       " q.clock_skew_us, q.skew_corrected, q.rules_version, q.data,"
                       " q.error_code, q.error_pointer, q.error_message, q.payload,"
                       " q.payload_truncated, q.attempts, ?, q.user_agent, q.client_ip "
                       "FROM spool_claim c STRAIGHT_JOIN event_queue q ON q.id = c.id"},
    /* A plain (non-locking) read: it sees rows others hold locked. */
    [SS_QUEUED] = {"queue_has_rows", "SELECT COUNT(*) FROM (SELECT 1 FROM event_queue LIMIT 1) q"},
    [SS_QUARANTINED] = {"count_quarantined",
                        "UPDATE spool_counters SET value = value + ? WHERE name = 'quarantined'"},
};

/* SET SESSION max_heap_table_size = bytes, as a prepared statement. */
static bool spool_set_heap(MYSQL *conn, long long bytes)
{
    MYSQL_STMT *stmt = db_prepare(conn, "size_claim", "SET SESSION max_heap_table_size = ?");
    if (stmt == NULL)
        return false;
    MYSQL_BIND in = {0};
    in.buffer_type = MYSQL_TYPE_LONGLONG;
    in.buffer = &bytes;
    bool ok = mysql_stmt_bind_param(stmt, &in) == 0 && mysql_stmt_execute(stmt) == 0;
    if (!ok)
        log_error("size_claim: %s", mysql_stmt_error(stmt));
    mysql_stmt_close(stmt);
    return ok;
}

void spool_init(struct spool *s, const struct config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
}

/* The timing slots after the statements' own. */
enum { SS_T_STATUS = SS_NSTMTS, SS_T_COMMIT, SS_T_N };

static const char *spool_slot_name(int slot)
{
    return slot == SS_T_STATUS ? "status" : slot == SS_T_COMMIT ? "commit" : spool_sql[slot].name;
}

void spool_close(struct spool *s)
{
    for (int i = 0; i < SS_T_N; i++) {
        if (s->stmt_runs[i] > 0)
            log_debug("statement %s: %llu runs, %lld ms", spool_slot_name(i),
                      (unsigned long long)s->stmt_runs[i], (long long)(s->stmt_us[i] / 1000));
        s->stmt_runs[i] = 0;
        s->stmt_us[i] = 0;
    }
    if (s->heartbeat != NULL)
        mysql_stmt_close(s->heartbeat);
    s->heartbeat = NULL;
    spool_status_close();
    for (int i = 0; i < SS_NSTMTS; i++) {
        if (s->stmts[i] != NULL)
            mysql_stmt_close(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    if (s->conn != NULL)
        mysql_close(s->conn);
    s->conn = NULL;
    s->errors_locked = false; /* a closed connection holds no named lock */
}

bool spool_connect(struct spool *s)
{
    s->conn = db_connect_role(s->cfg, &s->cfg->accounts.spool, ENDPOINT_WRITER, &s->generation);
    if (s->conn == NULL)
        return false;
    /* READ COMMITTED: no gap locks, so concurrent batches inserting into the
     * same index ranges do not block each other. The claim table takes its
     * columns' types from event_queue itself, spool_keys those of the ids
     * it holds (sessions.id, event_categories.id, event_types.id). The
     * MEMORY tables' limit is sized to the batch (~60 bytes a claimed row,
     * with room to spare). */
    long long heap_bytes = (long long)s->cfg->spool.batch_size * 1024 + (16LL << 20);
    if (mysql_autocommit(s->conn, 0) != 0 ||
        !db_exec(s->conn, "set_isolation",
                 "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED") ||
        !spool_set_heap(s->conn, heap_bytes) ||
        !db_exec(s->conn, "create_claim",
                 "CREATE TEMPORARY TABLE IF NOT EXISTS spool_claim (PRIMARY KEY (id)) "
                 "ENGINE=MEMORY SELECT " SPOOL_CLAIM_COLUMNS ", error_code IS NULL AS valid "
                 "FROM event_queue LIMIT 0") ||
        !db_exec(s->conn, "create_keys",
                 "CREATE TEMPORARY TABLE IF NOT EXISTS spool_keys ("
                 "id BIGINT UNSIGNED NOT NULL PRIMARY KEY, session_id BIGINT UNSIGNED NULL, "
                 "category_id SMALLINT UNSIGNED NULL, type_id SMALLINT UNSIGNED NULL) "
                 "ENGINE=MEMORY"))
        goto fail;
    for (int i = 0; i < SS_NSTMTS; i++) {
        s->stmts[i] = db_prepare(s->conn, spool_sql[i].name, spool_sql[i].sql);
        if (s->stmts[i] == NULL)
            goto fail;
    }
    /* Optional: a schema migrated before 010 has no heartbeat table, and
     * the spool's real work must not wait for it. */
    s->heartbeat = db_prepare(s->conn, "heartbeat",
                              "UPDATE heartbeat SET beat_at = NOW(6),"
                              " writer = CONCAT(@@hostname, ':', @@port) WHERE id = 1");
    if (s->heartbeat == NULL)
        log_warn("no heartbeat (migration 010 not applied?): /v1/health cannot measure "
                 "replication lag");
    if (!spool_status_prepare(s))
        goto fail;
    return true;

fail:
    spool_close(s);
    return false;
}

/* Releases eye_spool_errors after the batch that took it committed or
 * rolled back (a lost connection releases it by itself). */
static void spool_errors_unlock(struct spool *s)
{
    if (!s->errors_locked)
        return;
    s->errors_locked = false;
    if (s->stmts[SS_ERRORS_UNLOCK] != NULL && mysql_stmt_execute(s->stmts[SS_ERRORS_UNLOCK]) != 0)
        log_warn("unlock_errors: %s", mysql_stmt_error(s->stmts[SS_ERRORS_UNLOCK]));
}

/* Classifies the error of a failed statement, after rolling back. id -1
 * is a statement of spool/status.c. */
static enum spool_result spool_fail(struct spool *s, MYSQL_STMT *stmt, int id, char *reason,
                                    size_t reason_len)
{
    const char *name = id >= 0 ? spool_sql[id].name : "spool_status";
    unsigned int err = stmt != NULL ? mysql_stmt_errno(stmt) : mysql_errno(s->conn);
    const char *msg = stmt != NULL ? mysql_stmt_error(stmt) : mysql_error(s->conn);
    if (reason != NULL)
        snprintf(reason, reason_len, "%s: %s (error %u)", name, msg, err);
    if (db_error_is_connection_lost(err)) {
        log_error("%s: %s (error %u); reconnecting", name, msg, err);
        s->errors_locked = false; /* the server released it with the connection */
        spool_close(s);
        return SPOOL_OFFLINE;
    }
    mysql_rollback(s->conn);
    spool_errors_unlock(s);
    if (db_error_is_schema(err)) {
        /* A schema this eye-spool does not know (an old binary after a
         * migration, or grants not reprinted): no row is to blame, so none
         * is quarantined; wait until the program or the schema is fixed. */
        log_debug("%s: %s (error %u); the schema or grants do not match this eye-spool", name, msg,
                  err);
        return SPOOL_STALLED;
    }
    if (db_error_is_unwritable(err)) {
        log_debug("%s: %s (error %u); waiting for the server", name, msg, err);
        return SPOOL_STALLED;
    }
    if (db_error_is_transient(err)) {
        log_info("%s: %s (error %u); retrying the batch", name, msg, err);
        return SPOOL_RETRY;
    }
    log_error("%s: %s (error %u)", name, msg, err);
    return SPOOL_POISON;
}

/* Executes statement id with an optional integer parameter (NULL: none)
 * and returns its affected rows through *rows. */
static bool spool_run(struct spool *s, int id, const long long *param, uint64_t *rows)
{
    MYSQL_STMT *stmt = s->stmts[id];
    MYSQL_BIND in = {0};
    if (param != NULL) {
        in.buffer_type = MYSQL_TYPE_LONGLONG;
        in.buffer = (void *)param;
        if (mysql_stmt_bind_param(stmt, &in) != 0)
            return false;
    }
    int64_t t0 = clock_mono_us();
    int rc = mysql_stmt_execute(stmt);
    s->stmt_us[id] += clock_mono_us() - t0;
    s->stmt_runs[id]++;
    if (rc != 0)
        return false;
    if (rows != NULL)
        *rows = (uint64_t)mysql_stmt_affected_rows(stmt);
    return true;
}

/* Executes a statement returning one row of n integers into v[0..n-1]
 * (zeros when it returns no row). */
static bool spool_scalars(struct spool *s, int id, long long *v, int n)
{
    MYSQL_STMT *stmt = s->stmts[id];
    MYSQL_BIND out[5];
    if (n > 5)
        return false;
    memset(out, 0, sizeof(out));
    for (int i = 0; i < n; i++) {
        out[i].buffer_type = MYSQL_TYPE_LONGLONG;
        out[i].buffer = &v[i];
        v[i] = 0;
    }
    int64_t t0 = clock_mono_us();
    bool ok = mysql_stmt_execute(stmt) == 0 && mysql_stmt_bind_result(stmt, out) == 0 &&
              mysql_stmt_store_result(stmt) == 0;
    int r = ok ? mysql_stmt_fetch(stmt) : 1;
    if (ok)
        mysql_stmt_free_result(stmt);
    s->stmt_us[id] += clock_mono_us() - t0;
    s->stmt_runs[id]++;
    return r == 0 || r == MYSQL_NO_DATA;
}

/* Executes a statement returning one integer. */
static bool spool_scalar(struct spool *s, int id, long long *value)
{
    return spool_scalars(s, id, value, 1);
}

enum spool_result spool_batch(struct spool *s, int64_t limit, struct spool_batch_stats *out,
                              char *reason, size_t reason_len)
{
    memset(out, 0, sizeof(*out));
    int64_t start_us = clock_mono_us();
    long long lim = limit;
    uint64_t claimed = 0, winners = 0, inserted = 0, errors = 0, ignored = 0;

#define STEP(id, call)                                                                             \
    do {                                                                                           \
        if (!(call))                                                                               \
            return spool_fail(s, s->stmts[id], id, reason, reason_len);                            \
    } while (0)

    STEP(SS_CLEAR, spool_run(s, SS_CLEAR, NULL, NULL));
    STEP(SS_CLAIM, spool_run(s, SS_CLAIM, &lim, &claimed));
    if (claimed == 0) {
        mysql_rollback(s->conn);
        spool_status_idle(s);
        return SPOOL_OK;
    }
    STEP(SS_CLEAR_KEYS, spool_run(s, SS_CLEAR_KEYS, NULL, NULL));
    STEP(SS_RESOLVE, spool_run(s, SS_RESOLVE, NULL, NULL));
    long long check[5];
    STEP(SS_CHECK, spool_scalars(s, SS_CHECK, check, 5));
    long long no_app = check[0], valid = check[1], new_types = check[2], new_sessions = check[3];
    long long found_sessions = check[4];
    if (no_app != 0) {
        mysql_rollback(s->conn);
        snprintf(reason, reason_len, "%lld rows of an application that does not exist", no_app);
        log_error("batch of %llu: %s", (unsigned long long)claimed, reason);
        return SPOOL_POISON;
    }
    if (new_types > 0) {
        STEP(SS_ADD_CATEGORIES, spool_run(s, SS_ADD_CATEGORIES, NULL, &ignored));
        STEP(SS_ADD_TYPES, spool_run(s, SS_ADD_TYPES, NULL, &ignored));
        STEP(SS_RESOLVE_TYPES, spool_run(s, SS_RESOLVE_TYPES, NULL, &ignored));
    }
    STEP(SS_DEDUP, spool_run(s, SS_DEDUP, NULL, &winners));
    /* record_event_ids' affected rows are the records it inserted (the
     * no-op update of a duplicate counts 0): all valid rows won when they
     * are as many. */
    bool all_won = winners == (uint64_t)valid;
    if (winners > 0) {
        /* Every session count_sessions matches it changes (event_count
         * grows), so its affected rows are the sessions it found. Fewer
         * than resolve_keys found means one went since (retention or
         * erasure deleted it, holding its lock, having found no event for
         * it): its rows would point at no session. The batch goes again,
         * and resolves the session as a new one. Once counted, a session
         * is locked by this transaction until its commit. */
        uint64_t counted = 0;
        if (!all_won)
            STEP(SS_FOUND_SESSIONS, spool_scalar(s, SS_FOUND_SESSIONS, &found_sessions));
        int id = all_won ? SS_SESSIONS_ALL : SS_SESSIONS;
        STEP(id, spool_run(s, id, NULL, &counted));
        if (counted != (uint64_t)found_sessions) {
            mysql_rollback(s->conn);
            snprintf(reason, reason_len, "%lld of the batch's sessions went while it ran",
                     found_sessions - (long long)counted);
            log_info("%s (retention or erasure); retrying the batch", reason);
            return SPOOL_RETRY;
        }
        if (new_sessions > 0) {
            id = all_won ? SS_NEW_SESSIONS_ALL : SS_NEW_SESSIONS;
            STEP(id, spool_run(s, id, NULL, &ignored));
            id = all_won ? SS_RESOLVE_SESSIONS_ALL : SS_RESOLVE_SESSIONS;
            STEP(id, spool_run(s, id, NULL, &ignored));
        }
        id = all_won ? SS_EVENTS_ALL : SS_EVENTS;
        STEP(id, spool_run(s, id, NULL, &inserted));
    }
    if (inserted != winners) {
        mysql_rollback(s->conn);
        snprintf(reason, reason_len, "%llu valid rows could not be stored (no session or type?)",
                 (unsigned long long)(winners - inserted));
        log_error("batch of %llu: %s", (unsigned long long)claimed, reason);
        return SPOOL_POISON;
    }
    if ((long long)claimed > valid) {
        long long wait_s = SPOOL_ERRORS_LOCK_WAIT_S, got = 0;
        MYSQL_BIND in = {0};
        in.buffer_type = MYSQL_TYPE_LONGLONG;
        in.buffer = &wait_s;
        MYSQL_STMT *lock = s->stmts[SS_ERRORS_LOCK];
        STEP(SS_ERRORS_LOCK,
             mysql_stmt_bind_param(lock, &in) == 0 && spool_scalar(s, SS_ERRORS_LOCK, &got));
        if (got != 1) {
            /* Another spooler held it for the whole wait: try again. */
            mysql_rollback(s->conn);
            snprintf(reason, reason_len, "lock_errors: eye_spool_errors busy for %lld s", wait_s);
            log_info("%s; retrying the batch", reason);
            return SPOOL_RETRY;
        }
        s->errors_locked = true;
        STEP(SS_ERRORS, spool_run(s, SS_ERRORS, NULL, &errors));
    }
    /* Duplicates: valid rows whose event_id was stored before, and rejected
     * rows whose event_id was recorded before (insert_errors skips them). */
    long long duplicates = valid - (long long)inserted;
    long long rejected_duplicates = ((long long)claimed - valid) - (long long)errors;
    /* The rollups count what was just inserted, from the claim. */
    MYSQL_STMT *failed = NULL;
    int64_t t0 = clock_mono_us();
    bool rollups_ok = spool_status_rollups(s, inserted, errors, all_won, &failed);
    s->stmt_us[SS_T_STATUS] += clock_mono_us() - t0;
    if (!rollups_ok)
        return spool_fail(s, failed, -1, reason, reason_len);
    STEP(SS_DELETE, spool_run(s, SS_DELETE, NULL, &ignored));
    duplicates += rejected_duplicates;
    if (duplicates > 0)
        STEP(SS_DUPLICATES, spool_run(s, SS_DUPLICATES, &duplicates, NULL));
#undef STEP
    struct spool_batch_stats done = {.claimed = claimed,
                                     .events = inserted,
                                     .errors = errors,
                                     .duplicates = (uint64_t)duplicates};
    t0 = clock_mono_us();
    bool status_ok = spool_status_batch(s, &done, t0 - start_us, &failed);
    int64_t t1 = clock_mono_us();
    s->stmt_us[SS_T_STATUS] += t1 - t0;
    s->stmt_runs[SS_T_STATUS]++;
    if (!status_ok)
        return spool_fail(s, failed, -1, reason, reason_len);
    int commit_rc = mysql_commit(s->conn);
    s->stmt_us[SS_T_COMMIT] += clock_mono_us() - t1;
    s->stmt_runs[SS_T_COMMIT]++;
    if (commit_rc != 0)
        return spool_fail(s, NULL, SS_DELETE, reason, reason_len);
    spool_errors_unlock(s);
    *out = done;
    return SPOOL_OK;
}

enum spool_result spool_heartbeat(struct spool *s)
{
    if (s->heartbeat == NULL)
        return SPOOL_OK;
    if (mysql_stmt_execute(s->heartbeat) != 0) {
        unsigned int err = mysql_stmt_errno(s->heartbeat);
        log_warn("heartbeat: %s (error %u)", mysql_stmt_error(s->heartbeat), err);
        if (db_error_is_connection_lost(err)) {
            spool_close(s);
            return SPOOL_OFFLINE;
        }
        mysql_rollback(s->conn);
        return SPOOL_RETRY;
    }
    if (mysql_commit(s->conn) != 0) {
        unsigned int err = mysql_errno(s->conn);
        log_warn("heartbeat commit: %s (error %u)", mysql_error(s->conn), err);
        if (db_error_is_connection_lost(err)) {
            spool_close(s);
            return SPOOL_OFFLINE;
        }
        mysql_rollback(s->conn);
        return SPOOL_RETRY;
    }
    return SPOOL_OK;
}

enum spool_result spool_poison_row(struct spool *s, const char *reason, bool *quarantined)
{
    long long attempts = 0;
    *quarantined = false;
    if (!spool_run(s, SS_ATTEMPT, NULL, NULL))
        return spool_fail(s, s->stmts[SS_ATTEMPT], SS_ATTEMPT, NULL, 0);
    if (!spool_scalar(s, SS_ATTEMPTS, &attempts))
        return spool_fail(s, s->stmts[SS_ATTEMPTS], SS_ATTEMPTS, NULL, 0);
    if (attempts >= s->cfg->spool.max_attempts) {
        MYSQL_STMT *q = s->stmts[SS_QUARANTINE];
        unsigned long len = (unsigned long)strlen(reason);
        MYSQL_BIND in = {0};
        in.buffer_type = MYSQL_TYPE_STRING;
        in.buffer = (void *)reason;
        in.length = &len;
        long long one = 1;
        uint64_t moved = 0;
        if (mysql_stmt_bind_param(q, &in) != 0 || mysql_stmt_execute(q) != 0)
            return spool_fail(s, q, SS_QUARANTINE, NULL, 0);
        moved = (uint64_t)mysql_stmt_affected_rows(q);
        if (!spool_run(s, SS_DELETE, NULL, NULL))
            return spool_fail(s, s->stmts[SS_DELETE], SS_DELETE, NULL, 0);
        if (moved > 0 && !spool_run(s, SS_QUARANTINED, &one, NULL))
            return spool_fail(s, s->stmts[SS_QUARANTINED], SS_QUARANTINED, NULL, 0);
        MYSQL_STMT *failed = NULL;
        if (moved > 0 && !spool_status_quarantined(s, &failed))
            return spool_fail(s, failed, -1, NULL, 0);
        *quarantined = moved > 0;
    }
    if (mysql_commit(s->conn) != 0)
        return spool_fail(s, NULL, SS_ATTEMPT, NULL, 0);
    return SPOOL_OK;
}

bool spool_queue_has_rows(struct spool *s, bool *has_rows)
{
    long long n = 0;
    if (!spool_scalar(s, SS_QUEUED, &n)) {
        log_error("queue_has_rows: %s", mysql_error(s->conn));
        mysql_rollback(s->conn);
        return false;
    }
    mysql_commit(s->conn); /* no snapshot outlives the question */
    *has_rows = n > 0;
    return true;
}
