#!/bin/bash
# spool.sh - eye-spool against a real MariaDB: several spoolers in parallel,
# kill -9 in the middle of batches, a MariaDB restart, duplicates, poison
# rows. The invariant everywhere: every queued event ends in exactly one of
# events / event_errors (or is a counted duplicate of a stored event_id),
# and session counters are exact.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
SPOOL=$EYE_BUILDDIR/spool/eye-spool
KEY_A=$(new_app app-a); KEY_B=$(new_app app-b); new_app app-c >/dev/null
apps=$(sql "SELECT GROUP_CONCAT(id) FROM applications")

# fill FROM TO: queues rows FROM..TO straight into event_queue, as eye.fcgi
# would: 2000 sessions shared by the three applications, 2% rejected rows,
# and every 100th row repeating the previous row's event_id and application
# (a client retry), as does the row after each 100th rejected one (a
# rejected event sent again).
fill() {
  local base='IF(seq % 100 IN (0, 8), seq - 1, seq)'
  sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name,
         occurred_at, client_timestamp, rules_version, data, error_code, error_pointer, error_message, payload)
       SELECT ELT(1 + $base % 3, $apps), NOW(6),
         CONCAT(LPAD(HEX($base), 8, '0'), '-0000-4000-8000-000000000000'),
         CONCAT('sess-', seq % 2000), 'page interaction', ELT(1 + seq % 2, 'pageview', 'cta click'),
         '2025-01-01' + INTERVAL seq SECOND, '2025-01-01' + INTERVAL seq SECOND, 'test',
         IF($base % 50 = 7, NULL, JSON_OBJECT('host', 'example.com', 'path', CONCAT('/', seq))),
         IF($base % 50 = 7, 'wrong_type', NULL), IF($base % 50 = 7, '/data/path', NULL),
         IF($base % 50 = 7, 'must be a string', NULL), IF($base % 50 = 7, '{\"bad\":1}', NULL)
       FROM seq_${1}_to_${2}"
}

# check_exactly_once LABEL: the invariants over everything queued so far.
check_exactly_once() {
  local label=$1
  is "$(sql 'SELECT COUNT(*) FROM event_queue')" 0 "$label: the queue is empty"
  is "$(sql 'SELECT COUNT(*) FROM events')" "$(sql 'SELECT COUNT(DISTINCT event_id) FROM expected WHERE error_code IS NULL')" \
    "$label: one event per distinct event_id"
  is "$(sql 'SELECT COUNT(*) FROM events e LEFT JOIN expected x ON x.id = e.id WHERE x.id IS NULL OR x.error_code IS NOT NULL')" 0 \
    "$label: every stored event was queued as valid"
  is "$(sql 'SELECT COUNT(*) FROM event_errors')" "$(sql 'SELECT COUNT(DISTINCT event_id) FROM expected WHERE error_code IS NOT NULL')" \
    "$label: one event_errors row per distinct rejected event_id"
  is "$(sql 'SELECT COUNT(*) FROM expected x WHERE x.error_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM event_errors r WHERE r.event_id = x.event_id)')" 0 \
    "$label: no rejected row is lost"
  is "$(sql 'SELECT COUNT(*) FROM expected x WHERE x.error_code IS NULL AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = x.event_id)')" 0 \
    "$label: no valid row is lost"
  is "$(sql 'SELECT COUNT(*) FROM sessions s LEFT JOIN (SELECT session_id, COUNT(*) n, MIN(occurred_at) f, MAX(occurred_at) l FROM events GROUP BY session_id) x ON x.session_id = s.id WHERE s.event_count <> COALESCE(x.n, 0) OR s.first_seen_at <> x.f OR s.last_seen_at <> x.l')" 0 \
    "$label: session counters and first/last seen are exact"
  is "$(sql 'SELECT COUNT(*) FROM sessions WHERE event_count = 0')" 0 "$label: no session without events"
  is "$(sql 'SELECT value FROM spool_counters WHERE name = "duplicates"')" \
    "$(sql 'SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM expected')" \
    "$label: duplicates (stored and rejected) are counted"
}

# A copy of what was queued, to check against after the queue is drained.
snapshot() { sql "INSERT INTO expected SELECT id, event_id, error_code FROM event_queue"; }
sql "CREATE TABLE expected (id BIGINT UNSIGNED PRIMARY KEY, event_id UUID, error_code VARCHAR(48))"

# --- four spoolers over 100,000 rows -----------------------------------
fill 1 100000; snapshot
pids=()
for i in 1 2 3 4; do
  EYE_SPOOL_BATCH_SIZE=500 "$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool$i.log" 2>&1 &
  pids+=($!)
done
wait_drained 300; ok $? "four spoolers drain 100,000 rows"
alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
is "$alive" 4 "no spooler died"
kill -TERM "${pids[@]}"
rcs=""; for p in "${pids[@]}"; do wait "$p"; rcs="$rcs$?"; done
is "$rcs" "0000" "every spooler exits 0 on SIGTERM"
check_exactly_once "4 spoolers"
worked=0; for i in 1 2 3 4; do grep -q "stopping: [1-9]" "$STACK_DIR/spool$i.log" && worked=$((worked + 1)); done
ok $([ "$worked" -ge 2 ] && echo 0 || echo 1) "the work was shared ($worked of 4 spoolers moved batches)"

# --- kill -9 in the middle of batches ------------------------------------
fill 100001 140000; snapshot
for round in 1 2 3 4 5 6; do
  EYE_SPOOL_BATCH_SIZE=2000 "$SPOOL" --config "$STACK_CONFIG" >>"$STACK_DIR/spool-kill.log" 2>&1 &
  p=$!
  sleep 0.$((RANDOM % 7 + 3))
  kill -KILL "$p"; wait "$p" 2>/dev/null
done
left=$(sql 'SELECT COUNT(*) FROM event_queue')
diag "rows left after six kill -9: $left"
"$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool-kill.log" 2>&1
is $? 0 "--once drains what the killed spoolers left and exits 0"
check_exactly_once "after kill -9"

# --- MariaDB restarted under a running spooler ---------------------------
fill 140001 170000; snapshot
EYE_SPOOL_BATCH_SIZE=200 "$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool-restart.log" 2>&1 &
p=$!
sleep 0.3
stack_mariadb_stop
sleep 2
stack_mariadb_start || bail "MariaDB did not restart"
wait_drained 120; ok $? "the spooler reconnects and drains after a MariaDB restart"
kill -0 "$p" 2>/dev/null; ok $? "the spooler survived the restart"
grep -q "connected again" "$STACK_DIR/spool-restart.log"; ok $? "the spooler logged its reconnection"
kill -TERM "$p"; wait "$p"; is $? 0 "and exits 0 on SIGTERM"
check_exactly_once "after a MariaDB restart"

# --- through HTTP: the same event_id twice, two applications on a session --
EV='{"event_id": "6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01", "session_id": "shared-1", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/"}, "timestamp": "2024-05-01T10:00:00Z"}'
post_events "$KEY_A" "$EV"; is "$HTTP_STATUS" 202 "an event with a client event_id is accepted"
post_events "$KEY_A" "$EV"; is "$HTTP_STATUS" 202 "the same event again (a retry) is accepted too"
post_events "$KEY_B" '{"session_id": "shared-1", "category": "page interaction", "name": "cta click", "data": {"host": "b.example.com", "path": "/x", "element": "buy"}, "timestamp": "2024-05-01T10:00:05Z"}'
is "$HTTP_STATUS" 202 "another application sends to the same session"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = '6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01'")" 1 "the same event_id twice is stored once"
is "$(sql "SELECT event_count FROM sessions WHERE session_key = 'shared-1'")" 2 "the shared session counts both applications' events, once each"
is "$(sql "SELECT COUNT(DISTINCT application_id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'shared-1'")" 2 \
  "one session, two applications"
# A stored event_id sent again under a new session id: the event is a
# duplicate, and the session its batch created for it must not stay empty.
post_events "$KEY_A" "${EV/shared-1/orphan-1}"; is "$HTTP_STATUS" 202 "the same event_id under another session is accepted"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT COUNT(*) FROM sessions WHERE session_key = 'orphan-1'")" 0 \
  "a session whose only event was a duplicate is not kept"
is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = '6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01'")" 1 "and the event is still stored once"
# The same event_id from another application is that application's own
# event: acknowledged, so it must be stored, not dropped as a duplicate.
post_events "$KEY_B" "${EV/shared-1/other-app-1}"; is "$HTTP_STATUS" 202 "another application's event with a used event_id is accepted"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT GROUP_CONCAT(a.name ORDER BY a.name) FROM events e JOIN applications a ON a.id = e.application_id WHERE e.event_id = '6f1c1d0e-4a53-4c8e-9d51-2b1f0f6f0a01'")" \
  "app-a,app-b" "event ids are deduplicated per application: both applications' events are stored"
is "$(sql "SELECT event_count FROM sessions WHERE session_key = 'other-app-1'")" 1 "and its session counts it"

# --- a poison row is quarantined and does not block the queue -------------
# A valid row whose data is not JSON cannot pass the events CHECK; eye.fcgi
# never queues such a row, but a spooler must survive one.
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     VALUES (1, NOW(6), UUID(), 'poison', 'page interaction', 'pageview', NOW(6), NOW(6), 'test', 'not json')"
post_events "$KEY_A" '{"session_id": "after-poison", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/"}, "timestamp": "2024-05-01T10:00:00Z"}'
EYE_SPOOL_MAX_ATTEMPTS=3 "$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool-poison.log" 2>&1 &
p=$!
wait_drained 60; ok $? "the queue drains past a poison row"
kill -TERM "$p"; wait "$p"
is "$(sql "SELECT COUNT(*) FROM event_quarantine WHERE session_key = 'poison' AND attempts = 3 AND reason LIKE '%insert_events%'")" 1 \
  "the poison row is in event_quarantine after 3 attempts, with the reason"
is "$(sql "SELECT COUNT(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'after-poison'")" 1 \
  "the event behind it was stored"
is "$(sql "SELECT value FROM spool_counters WHERE name = 'quarantined'")" 1 "quarantined rows are counted"

harness_finish
