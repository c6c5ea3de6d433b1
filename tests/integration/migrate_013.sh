#!/bin/bash
# migrate_013.sh - migration 013 (compact rows) converts an installation in
# place, with its data: a database at 012 filled with events of the old
# shape (three months, several types, a name that needs utf8mb4, request
# context, one session spanning months), then `eye-admin migrate`. Every
# event reads the same through the views afterwards (a checksum of every
# column), the partitions and event_ids stay, the new shape is there (no
# name columns, the time-ordered primary key, the dropped indexes gone,
# no compressed pages), a second migrate does nothing, and the new eye-spool
# stores into the migrated table: a known type reuses its id, a replay of
# an event stored before the migration stays a duplicate.
. "$EYE_SRCDIR/tests/lib/harness.sh"

stack_mariadb_start || bail "MariaDB did not start"
stack_write_config "$STACK_DIR/eye.yaml"
# The installation before: migrations 001-012 only.
mkdir -p "$STACK_DIR/migrations-012"
for f in "$EYE_SRCDIR"/migrations/0*.sql; do
  n=$(basename "$f"); [ "${n%%_*}" -le 12 ] && cp "$f" "$STACK_DIR/migrations-012/"
done
sed "s|^migrations_dir: .*|migrations_dir: $STACK_DIR/migrations-012|" "$STACK_DIR/eye.yaml" >"$STACK_DIR/eye-012.yaml"
# A database whose default collation is not the server's utf8mb4_bin, as a
# production server's may be: the migrations name their collation.
stack_sql -e "CREATE DATABASE eye CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" || bail "database"
stack_admin accounts --generate --admin-only | stack_sql || bail "admin account"
"$EYE_BUILDDIR/admin/eye-admin" --config "$STACK_DIR/eye-012.yaml" migrate >/dev/null || bail "migrate to 012"
is "$(sql "SELECT MAX(version) FROM schema_migrations")" "12" "the database starts at migration 012"
stack_admin partitions --ensure --from 2025-01 >/dev/null || bail "partitions"

# --- an installation's data, of the old shape -----------------------------------
KEY=$(new_app shop)
APP=$(sql "SELECT id FROM applications WHERE name = 'shop'")
sql "INSERT INTO sessions (session_key, first_seen_at, last_seen_at, event_count)
     SELECT CONCAT('m-', seq), '2025-01-01', '2025-03-31', 30 FROM seq_1_to_100"
sql "INSERT INTO events (id, event_id, application_id, session_id, category, name, data, occurred_at,
       client_timestamp, sent_at, clock_skew_us, skew_corrected, received_at, rules_version, user_agent, client_ip)
     SELECT q.seq, UUID(), $APP, s.id, ELT(1 + q.seq % 3, 'page interaction', 'form interaction', 'café'),
            ELT(1 + q.seq % 4, 'pageview', 'cta click', 'submit', 'ünïcode ✓'),
            JSON_OBJECT('host', 'a.example.com', 'path', CONCAT('/', q.seq)),
            '2025-01-01' + INTERVAL q.seq * 29 MINUTE, '2025-01-01' + INTERVAL q.seq * 29 MINUTE,
            IF(q.seq % 2, NULL, '2025-01-01'), IF(q.seq % 2, NULL, q.seq), q.seq % 2, NOW(6), 'r012',
            IF(q.seq % 5, 'Mozilla/5.0 test', NULL), IF(q.seq % 7, '192.0.2.0', NULL)
     FROM seq_1_to_3000 q JOIN sessions s ON s.session_key = CONCAT('m-', 1 + q.seq % 100)"
sql "INSERT INTO event_ids (application_id, event_id, id, occurred_at)
     SELECT application_id, event_id, id, occurred_at FROM events"
sql "INSERT INTO event_errors (id, event_id, application_id, received_at, session_key, category, name, code,
       pointer, message, rules_version)
     VALUES (900001, UUID(), $APP, '2025-02-01', 'm-1', 'page interaction', 'pageview', 'wrong_type', '/data/path', 'x', 'r012')"

digest="SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, event_id, session_id, application, category, name, data,
          occurred_at, client_timestamp, sent_at, clock_skew_us, skew_corrected, received_at, stored_at,
          rules_version, user_agent, client_ip))) FROM v_events"
tdigest="SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', session_id, seq, id, event_id, category, name, occurred_at))) FROM v_session_timeline"
parts="SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION) FROM information_schema.PARTITIONS
       WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'"
before=$(sql "$digest"); tbefore=$(sql "$tdigest"); pbefore=$(sql "$parts")
ids_before=$(sql "SELECT COUNT(*) FROM event_ids")
errors_before=$(sql "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, category, name, code))) FROM event_errors")
OLD_EVENT_ID=$(sql "SELECT event_id FROM events WHERE id = 10")
OLD_SESSION=$(sql "SELECT s.session_key FROM events e JOIN sessions s ON s.id = e.session_id WHERE e.id = 10")

# --- the migration ------------------------------------------------------------------
out=$(stack_admin migrate 2>&1)
like "$out" "applied 013_compact_events.sql" "eye-admin migrate applies 013 ($out)"
stack_admin accounts --generate | stack_sql || bail "grants after 013"

is "$(sql "$digest")" "$before" "every event reads the same through v_events (3000 rows, every column)"
is "$(sql "$tdigest")" "$tbefore" "every session's timeline reads the same"
is "$(sql "$parts")" "$pbefore" "events keeps its partitions"
is "$(sql "SELECT COUNT(*) FROM event_ids")" "$ids_before" "event_ids keeps every stored event's record"
is "$(sql "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, category, name, code))) FROM event_errors")" "$errors_before" \
  "event_errors keeps its rows and names"
is "$(sql "SELECT COUNT(*) FROM event_categories")/$(sql "SELECT COUNT(*) FROM event_types")" "3/12" \
  "one dimension row per category (3) and per category and name seen (12)"
is "$(sql "SELECT GROUP_CONCAT(DISTINCT TABLE_COLLATION) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'eye'
           AND TABLE_NAME IN ('events', 'event_categories', 'event_types')")" "utf8mb4_bin" \
  "the names compare byte for byte, as the queue's (whatever the server's default collation)"
is "$(sql "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY COLUMN_NAME) FROM information_schema.COLUMNS
           WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND COLUMN_NAME IN ('category', 'name', 'category_id', 'type_id')")" \
  "category_id,type_id" "events holds the type's ids, not its names"
is "$(sql "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
           WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND INDEX_NAME = 'PRIMARY'")" "occurred_at,id" \
  "the primary key is (occurred_at, id)"
is "$(sql "SELECT GROUP_CONCAT(DISTINCT INDEX_NAME ORDER BY INDEX_NAME) FROM information_schema.STATISTICS
           WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'")" \
  "ix_events_application_time,ix_events_category_time,ix_events_session_time,ix_events_type_time,PRIMARY" \
  "only the indexes an analyst query needs"
is "$(sql "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'sessions'
           AND INDEX_NAME = 'ix_sessions_last_seen'")" 0 "sessions' last_seen_at index is gone"
is "$(sql "SELECT GROUP_CONCAT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'eye'
           AND TABLE_NAME = 'event_queue'")" "PRIMARY" "the queue keeps its primary key only"
is "$(sql "SELECT CREATE_OPTIONS FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'")" \
  "partitioned" "events is partitioned and not page-compressed (a full disk must fail inserts, not flushes)"
is "$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME LIKE 'events\\_%'")" "0" \
  "no copy of events is left behind"
out=$(stack_admin migrate 2>&1)
known=$(ls "$EYE_SRCDIR"/migrations/[0-9]*.sql | wc -l)
is "$out" "schema up to date (0 applied now, $known known)" "a second migrate does nothing"

# --- the new eye-spool on the migrated table ---------------------------------------
stack_lighttpd_start || bail "lighttpd did not start"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
types_before=$(sql "SELECT COUNT(*) FROM event_types")
post_events "$KEY" "[{\"session_id\":\"$OLD_SESSION\",\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"a.example.com\",\"path\":\"/new\"},\"timestamp\":\"2025-02-10 10:00:00\"},
  {\"event_id\":\"$OLD_EVENT_ID\",\"session_id\":\"$OLD_SESSION\",\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"a.example.com\",\"path\":\"/replay\"},\"timestamp\":\"2025-02-10 10:00:01\"}]"
is "$HTTP_STATUS" 202 "two events accepted after the migration"
dups_before=$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>"$STACK_DIR/spool.log" || diag "$(tail -5 "$STACK_DIR/spool.log")"
is "$(sql "SELECT COUNT(*) FROM event_queue")" 0 "the spool drains the queue"
is "$(sql "SELECT CONCAT(session_id, ' ', category, ' ', name) FROM v_events WHERE JSON_VALUE(data, '\$.path') = '/new'")" \
  "$OLD_SESSION page interaction pageview" "a new event of a known type is stored into the migrated table"
is "$(sql "SELECT COUNT(*) FROM event_types")" "$types_before" "it reuses the type's id"
is "$(sql "SELECT COUNT(*) FROM v_events WHERE JSON_VALUE(data, '\$.path') = '/replay'")" 0 \
  "an event_id stored before the migration is still a duplicate"
is "$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")" "$((dups_before + 1))" "and it is counted as one"
is "$(sql "SELECT event_count FROM sessions WHERE session_key = '$OLD_SESSION'")" 31 \
  "the session counts the new event only"

# --- a schema or grant mismatch stalls the spool, it quarantines nothing ----------
# The spool connects (and prepares its statements) first; then its grant
# on event_types goes, as after a migration whose grants were not reprinted.
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >"$STACK_DIR/stall.log" 2>&1 &
SPOOL_PID=$!
for i in $(seq 1 50); do grep -q "started" "$STACK_DIR/stall.log" && break; sleep 0.1; done
sleep 0.5
sql "REVOKE SELECT, INSERT ON eye.event_types FROM 'eye_spool'@'localhost'"
post_events "$KEY" "{\"session_id\":\"$OLD_SESSION\",\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"a.example.com\",\"path\":\"/stall\"},\"timestamp\":\"2025-02-10 10:00:02\"}"
for i in $(seq 1 50); do grep -q "cannot take the batch" "$STACK_DIR/stall.log" && break; sleep 0.1; done
sleep 1
like "$(cat "$STACK_DIR/stall.log")" "cannot take the batch .*command denied.*waiting" "without its grant on event_types the spool says why it waits"
is "$(sql "SELECT COUNT(*) FROM event_queue")/$(sql "SELECT COUNT(*) FROM event_quarantine")" "1/0" \
  "the row stays queued, nothing is quarantined"
stack_admin accounts | stack_sql || bail "grants again"
wait_drained 20
ok $? "with its grants back the spool stores the row"
kill -TERM "$SPOOL_PID"; wait "$SPOOL_PID"
is "$(sql "SELECT COUNT(*) FROM v_events WHERE JSON_VALUE(data, '\$.path') = '/stall'")/$(sql "SELECT COUNT(*) FROM event_quarantine")" "1/0" \
  "stored once, quarantined never"

harness_finish
