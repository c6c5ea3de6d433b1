#!/bin/bash
# rollups.sh - event_counts_minute equals COUNT(*) over events and
# event_errors, per minute, application, event type and outcome, through
# the spool's fault cases: parallel spoolers, kill -9 mid-batch, duplicates
# skipped, a quarantined poison row, and a replay after a rule fix; and
# spool_status, the source of the spool's figures in /metrics, likewise.
. "$EYE_SRCDIR/tests/lib/harness.sh"
STACK_RULES_DIR=$STACK_DIR/rules
cp -r "$EYE_SRCDIR/rules" "$STACK_RULES_DIR"
export EYE_RULES_RELOAD_INTERVAL_MS=200
harness_start
SPOOL=$EYE_BUILDDIR/spool/eye-spool
KEY_A=$(new_app app-a); new_app app-b >/dev/null
apps=$(sql "SELECT GROUP_CONCAT(id) FROM applications")

# fill FROM TO: queue rows as eye.fcgi would, spread over 3 minutes of
# receipt, 2 applications, 2 types; 2% rejected with 2 codes; every 100th
# row repeats the previous row's event_id (a client retry: a duplicate).
fill() {
  sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name,
         occurred_at, client_timestamp, rules_version, data, error_code, error_pointer, error_message, payload)
       SELECT ELT(1 + IF(seq % 100 = 0, seq - 1, seq) % 2, $apps), '2025-01-01 10:00:00' + INTERVAL seq % 180 SECOND,
         CONCAT(LPAD(HEX(IF(seq % 100 = 0, seq - 1, seq)), 8, '0'), '-0000-4000-8000-000000000000'),
         CONCAT('sess-', seq % 500), 'page interaction', ELT(1 + seq % 2, 'pageview', 'cta click'),
         '2025-01-01' + INTERVAL seq SECOND, '2025-01-01' + INTERVAL seq SECOND, 'test',
         IF(seq % 50 = 7, NULL, JSON_OBJECT('host', 'example.com', 'path', CONCAT('/', seq))),
         IF(seq % 50 = 7, ELT(1 + seq % 3, 'wrong_type', 'too_long', 'missing_field'), NULL),
         IF(seq % 50 = 7, '/data/path', NULL), IF(seq % 50 = 7, 'bad', NULL), IF(seq % 50 = 7, '{}', NULL)
       FROM seq_${1}_to_${2}"
}

# check_rollups LABEL: every (minute, application, type, outcome) count of
# the tables equals the rollup's, and the totals agree both ways.
check_rollups() {
  local label=$1
  is "$(sql 'SELECT COUNT(*) FROM event_queue')" 0 "$label: the queue is empty"
  is "$(sql "SELECT COUNT(*) FROM (
      SELECT DATE_FORMAT(e.received_at, '%Y-%m-%d %H:%i:00') AS m, e.application_id AS a, ec.name AS c, et.name AS n,
             'accepted' AS o, COUNT(*) AS k
      FROM events e JOIN event_categories ec ON ec.id = e.category_id JOIN event_types et ON et.id = e.type_id
      GROUP BY m, a, c, n
      UNION ALL
      SELECT DATE_FORMAT(received_at, '%Y-%m-%d %H:%i:00'), application_id, COALESCE(category, ''), COALESCE(name, ''),
             code, COUNT(*) FROM event_errors GROUP BY 1, 2, 3, 4, 5) x
    LEFT JOIN (SELECT minute, application_id, category, name, outcome, SUM(n) AS s FROM event_counts_minute
               GROUP BY minute, application_id, category, name, outcome) r
      ON r.minute = x.m AND r.application_id = x.a AND r.category = x.c AND r.name = x.n AND r.outcome = x.o
    WHERE r.s IS NULL OR r.s <> x.k")" 0 "$label: every group of events/event_errors has its exact count in the rollup"
  is "$(sql 'SELECT SUM(n) FROM event_counts_minute')" \
    "$(sql 'SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM event_errors)')" \
    "$label: the rollup counts nothing else"
  is "$(sql 'SELECT CONCAT(SUM(events), "/", SUM(errors)) FROM spool_status')" \
    "$(sql 'SELECT CONCAT((SELECT COUNT(*) FROM events), "/", (SELECT COUNT(*) FROM event_errors))')" \
    "$label: spool_status (what /metrics reports) counted exactly the stored events and errors"
}

# --- three spoolers in parallel -------------------------------------------
fill 1 30000
pids=()
for i in 1 2 3; do
  EYE_SPOOL_BATCH_SIZE=500 "$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool$i.log" 2>&1 &
  pids+=($!)
done
wait_drained 120; ok $? "three spoolers drain 30,000 rows"
kill -TERM "${pids[@]}"; wait "${pids[@]}"
ok $([ "$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")" -gt 0 ] && echo 0 || echo 1) \
  "some rows were skipped as duplicates"
check_rollups "3 spoolers"
is "$(sql 'SELECT COUNT(DISTINCT shard) > 1 FROM event_counts_minute')" 1 "the spoolers counted into different shards"

# --- kill -9 in the middle of batches ------------------------------------
fill 30001 60000
for round in 1 2 3 4; do
  EYE_SPOOL_BATCH_SIZE=2000 "$SPOOL" --config "$STACK_CONFIG" >>"$STACK_DIR/spool-kill.log" 2>&1 &
  p=$!
  sleep 0.$((RANDOM % 7 + 3))
  kill -KILL "$p"; wait "$p" 2>/dev/null
done
diag "rows left after four kill -9: $(sql 'SELECT COUNT(*) FROM event_queue')"
"$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool-kill.log" 2>&1
is $? 0 "--once drains what the killed spoolers left"
check_rollups "after kill -9"

# --- a poison row is quarantined, not counted -----------------------------
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     VALUES (1, NOW(6), UUID(), 'poison', 'page interaction', 'pageview', NOW(6), NOW(6), 'test', 'not json')"
fill 60001 60100
EYE_SPOOL_MAX_ATTEMPTS=2 "$SPOOL" --config "$STACK_CONFIG" --once >"$STACK_DIR/spool-poison.log" 2>&1
EYE_SPOOL_MAX_ATTEMPTS=2 "$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool-poison.log" 2>&1
is "$(sql "SELECT COUNT(*) FROM event_quarantine WHERE session_key = 'poison'")" 1 "the poison row is quarantined"
is "$(sql 'SELECT SUM(quarantined) FROM spool_status')" 1 "spool_status counts the quarantined row"
check_rollups "after a quarantine"

# --- rows of spoolers gone for a day fold into _retired ---------------------
before=$(sql 'SELECT COUNT(*) FROM spool_status')
sql "UPDATE spool_status SET last_seen_at = NOW(6) - INTERVAL 2 DAY"
"$SPOOL" --config "$STACK_CONFIG" --once 2>"$STACK_DIR/spool-fold.log"
is "$(sql "SELECT GROUP_CONCAT(IF(spooler = '_retired', spooler, 'live') ORDER BY spooler = '_retired') FROM spool_status")" "live,_retired" \
  "the $before rows of old spoolers are folded into _retired, beside the new spooler's row"
is "$(sql "SELECT CONCAT(SUM(quarantined), '/', SUM(batches) > 0) FROM spool_status")" "1/1" "their sums are kept"
check_rollups "after folding"

# --- a replay after a rule fix -------------------------------------------
post_events "$KEY_A" '[{"session_id": "r1", "category": "shop", "name": "checkout", "data": {"total": 3}, "timestamp": "2024-05-01T10:00:00Z"},
                      {"session_id": "r2", "category": "shop", "name": "checkout", "data": {"total": 4}, "timestamp": "2024-05-01T10:00:00Z"}]'
is "$HTTP_STATUS" 422 "events of a type without a rule are rejected"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
check_rollups "after unknown_event_type"
cat >"$STACK_RULES_DIR/shop.checkout.yaml" <<'YAML'
category: shop
name: checkout
data:
  type: object
  properties:
    total: {type: number}
YAML
for _ in $(seq 1 50); do
  stack_admin rules check "$STACK_RULES_DIR" >/dev/null 2>&1 && break; sleep 0.1
done
sleep 1 # the reload interval of the running eye.fcgi (not needed by replay itself)
stack_admin errors replay --code unknown_event_type >"$STACK_DIR/replay.out" 2>&1
ok $? "errors replay runs"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT COUNT(*) FROM v_events WHERE category = 'shop'")" 2 "the replayed events are stored"
is "$(sql "SELECT SUM(n) FROM event_counts_minute WHERE category = 'shop' AND outcome = 'accepted'")" 2 \
  "and counted as accepted"
check_rollups "after a replay"

harness_finish
