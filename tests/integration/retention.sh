#!/bin/bash
# retention.sh - a year of data (issue 17) against a real MariaDB: the
# upgrade of a database filled by the schema before migration 009, monthly
# partitions (pruning, months created ahead by eye-spool, p_future and the
# oldest partition catching what has no month), event_id deduplication per
# application across partitions (event_ids), referential integrity kept by
# the writers, `eye-admin retention`, erasure, archive and restore.
. "$EYE_SRCDIR/tests/lib/harness.sh"
SPOOL=$EYE_BUILDDIR/spool/eye-spool
spool_once() { "$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool.log" 2>&1; }
# month_offset N: the first day of the month N months from now (UTC).
month_offset() { sql "SELECT DATE_FORMAT(UTC_TIMESTAMP() + INTERVAL $1 MONTH, '%Y-%m-01')"; }
# orphans: events whose session or application is gone, errors whose
# application is gone (what the foreign keys used to refuse).
orphans() {
  sql "SELECT (SELECT COUNT(*) FROM events e LEFT JOIN sessions s ON s.id = e.session_id
                 LEFT JOIN applications a ON a.id = e.application_id WHERE s.id IS NULL OR a.id IS NULL)
            + (SELECT COUNT(*) FROM event_errors x LEFT JOIN applications a ON a.id = x.application_id
                 WHERE a.id IS NULL)
            + (SELECT COUNT(*) FROM event_ids d LEFT JOIN events e ON e.id = d.id WHERE e.id IS NULL)"
}

# --- a database of the schema before 009, with rows -----------------------------
stack_mariadb_start || bail "MariaDB did not start"
stack_write_config "$STACK_DIR/eye.yaml"
mkdir -p "$STACK_DIR/old-migrations"
for f in "$EYE_SRCDIR"/migrations/[0-9][0-9][0-9]_*.sql; do
  b=$(basename "$f"); [ "${b:0:3}" -lt 9 ] && cp "$f" "$STACK_DIR/old-migrations/"
done
stack_admin accounts --generate --admin-only | stack_sql || bail "admin account"
EYE_MIGRATIONS_DIR=$STACK_DIR/old-migrations stack_admin migrate >/dev/null || bail "old migrations"
is "$(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND PARTITION_NAME IS NOT NULL")" 0 \
  "before 009: events is not partitioned"

# 20,000 events every 45 minutes from 2025-03-01 (about 21 months, up to
# this month), 400 sessions, two applications; 600 errors over 2025.
sql "INSERT INTO applications (name) VALUES ('shop'), ('blog')"
sql "INSERT INTO sessions (session_key, first_seen_at, last_seen_at, event_count)
     SELECT CONCAT('old-', seq), '9999-12-31', '1970-01-01', 0 FROM seq_1_to_400"
sql "INSERT INTO events (id, event_id, application_id, session_id, category, name, data, occurred_at,
       client_timestamp, received_at, rules_version)
     SELECT seq, CONCAT(LPAD(HEX(seq), 8, '0'), '-1111-4000-8000-000000000000'), 1 + seq % 2, 1 + seq % 400,
       'page interaction', 'pageview', JSON_OBJECT('host', 'example.com', 'path', CONCAT('/', seq)),
       LEAST('2025-03-01' + INTERVAL seq * 45 MINUTE, UTC_TIMESTAMP()), '2025-03-01', UTC_TIMESTAMP(6), 'old'
     FROM seq_1_to_20000"
sql "UPDATE sessions s JOIN (SELECT session_id, COUNT(*) n, MIN(occurred_at) f, MAX(occurred_at) l FROM events GROUP BY session_id) x
       ON x.session_id = s.id SET s.event_count = x.n, s.first_seen_at = x.f, s.last_seen_at = x.l"
sql "INSERT INTO event_errors (id, application_id, received_at, code, pointer, message, rules_version, session_key)
     SELECT 100000 + seq, 1 + seq % 2, '2025-01-01' + INTERVAL seq * 13 HOUR, 'wrong_type', '/data/path', 'm', 'old', 'old-1'
     FROM seq_1_to_600"
# The queue's ids run past the events' (they are where events' ids come from).
sql "ALTER TABLE event_queue AUTO_INCREMENT = 1000000"
digest_events="SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, event_id, application_id, session_id, data, occurred_at))) FROM events"
digest_errors="SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, application_id, received_at, code))) FROM event_errors"
before_events=$(sql "$digest_events"); before_errors=$(sql "$digest_errors")
oldest_month=$(sql "SELECT DATE_FORMAT(MIN(occurred_at), '%Y%m') FROM events")

# --- the upgrade -------------------------------------------------------------------
t0=$(date +%s.%N)
out=$(stack_admin migrate 2>&1); rc=$?
t1=$(date +%s.%N)
is "$rc" 0 "migration 009 applies on a database with rows"
like "$out" "applied 009_" "009 is what was applied"
diag "009 on 20,000 events and 600 errors: $(echo "$t1 - $t0" | bc) s"
stack_admin accounts --generate | stack_sql; ok $? "the accounts and their grants on the new schema apply"
is "$(sql "$digest_events")" "$before_events" "every event is kept, unchanged"
is "$(sql "$digest_errors")" "$before_errors" "every error is kept, unchanged"
is "$(sql "SELECT COUNT(*) FROM event_ids d JOIN events e ON e.id = d.id AND e.event_id = d.event_id AND e.application_id = d.application_id")" 20000 \
  "event_ids records every stored event"
is "$(sql "SELECT GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION) FROM information_schema.PARTITIONS
           WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND PARTITION_ORDINAL_POSITION = 1")" "p$oldest_month" \
  "the first partition is the oldest row's month"
is "$(sql "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'
           ORDER BY PARTITION_ORDINAL_POSITION DESC LIMIT 1 OFFSET 1")" "p$(sql "SELECT DATE_FORMAT(UTC_TIMESTAMP() + INTERVAL 3 MONTH, '%Y%m')")" \
  "months are ready up to three months ahead"
is "$(sql "SELECT PARTITION_DESCRIPTION FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'event_errors'
           ORDER BY PARTITION_ORDINAL_POSITION DESC LIMIT 1")" "MAXVALUE" "event_errors ends with p_future too"
is "$(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS p WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'
           AND PARTITION_NAME LIKE 'p2%' AND TABLE_ROWS >= 0 AND PARTITION_DESCRIPTION <> 'MAXVALUE'")" \
  "$(sql "SELECT PERIOD_DIFF(DATE_FORMAT(UTC_TIMESTAMP() + INTERVAL 3 MONTH, '%Y%m'), '$oldest_month') + 1")" "one partition per month, none missing"
is "$(sql "SELECT COUNT(*) FROM events PARTITION (p202506)")" "$(sql "SELECT COUNT(*) FROM events WHERE occurred_at >= '2025-06-01' AND occurred_at < '2025-07-01'")" \
  "a month's rows are in its partition"
out=$(stack_admin migrate 2>&1)
like "$out" "0 applied now" "migrate again applies nothing"

# Pruning: a time-bounded query reads one partition.
explain_parts() { sql "EXPLAIN PARTITIONS $1" | awk -F'\t' '{print $4}' | head -1; }
is "$(explain_parts "SELECT COUNT(*) FROM events WHERE category_id = (SELECT id FROM event_categories WHERE name = 'page interaction') AND occurred_at >= '2025-06-03' AND occurred_at < '2025-06-04'")" \
  "p202506" "a day's query reads one partition"
is "$(explain_parts "SELECT * FROM v_events WHERE occurred_at >= '2025-06-03 10:00' AND occurred_at < '2025-06-03 11:00' ORDER BY occurred_at, id LIMIT 100")" \
  "p202506" "an hour through v_events reads one partition"
is "$(explain_parts "SELECT COUNT(*) FROM event_errors WHERE received_at >= '2025-03-01' AND received_at < '2025-03-08'")" \
  "p202503" "an errors query prunes too"
is "$(sql "SELECT COUNT(*) FROM v_session_timeline WHERE session_id = 'old-7'")" 50 "the views read the partitioned table"

# --- deduplication across partitions, per application ----------------------------
stack_lighttpd_start || bail "lighttpd did not start"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
KEY_SHOP=$(stack_admin key create shop 2>/dev/null); KEY_BLOG=$(stack_admin key create blog 2>/dev/null)
# An event id stored before the upgrade (shop's event 2, June 2025 era), retried
# by shop with today's time: a duplicate. The same id from blog: its own event.
old_id=$(sql "SELECT event_id FROM events WHERE id = 2")
ev() { printf '{"session_id":"%s","category":"page interaction","name":"pageview","event_id":"%s","data":{"host":"example.com","path":"/%s"},"timestamp":"%s"}' "$@"; }
now=$(date -u '+%Y-%m-%d %H:%M:%S')
post_events "$KEY_SHOP" "[$(ev new-1 "$old_id" retry "$now"),$(ev new-1 aaaaaaaa-0000-4000-8000-000000000001 a "$now"),$(ev new-1 aaaaaaaa-0000-4000-8000-000000000001 a "$now")]"
is "$HTTP_STATUS" 202 "shop's batch is accepted"
post_events "$KEY_BLOG" "[$(ev new-2 "$old_id" blog "$now"),$(ev new-2 aaaaaaaa-0000-4000-8000-000000000001 b "$now")]"
is "$HTTP_STATUS" 202 "blog's batch is accepted"
spool_once
is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = '$old_id'")" 2 "an id stored before the upgrade: shop's retry skipped, blog's event stored"
is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = 'aaaaaaaa-0000-4000-8000-000000000001'")" 2 "one id twice in a batch: once per application"
is "$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")" 2 "two duplicates counted"
is "$(sql "SELECT GROUP_CONCAT(session_key, ':', event_count ORDER BY session_key) FROM sessions WHERE session_key IN ('new-1', 'new-2')")" \
  "new-1:1,new-2:2" "session counters count what was stored, not the duplicates"

# Many spoolers, many duplicates, spread over months and partitions: exactly once.
sql "CREATE TABLE expected (id BIGINT UNSIGNED PRIMARY KEY, application_id INT UNSIGNED, event_id UUID)"
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     SELECT 1 + (seq DIV 3) % 2, UTC_TIMESTAMP(6), CONCAT(LPAD(HEX(seq DIV 3), 8, '0'), '-2222-4000-8000-000000000000'),
       CONCAT('par-', seq % 300), 'page interaction', 'pageview',
       UTC_TIMESTAMP(6) - INTERVAL (seq % 400) DAY - INTERVAL seq SECOND, UTC_TIMESTAMP(6), 'par', '{}'
     FROM seq_1_to_30000"
sql "INSERT INTO expected SELECT id, application_id, event_id FROM event_queue"
pids=()
for i in 1 2 3; do EYE_SPOOL_BATCH_SIZE=700 "$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/par$i.log" 2>&1 & pids+=($!); done
wait_drained 120; ok $? "three spoolers drain 30,000 rows (each id three times)"
kill -TERM "${pids[@]}"; for p in "${pids[@]}"; do wait "$p"; done
is "$(sql "SELECT COUNT(*) FROM events WHERE rules_version = 'par'")" "$(sql "SELECT COUNT(DISTINCT application_id, event_id) FROM expected")" \
  "one event per application and event_id"
is "$(sql "SELECT COUNT(*) FROM expected x WHERE NOT EXISTS (SELECT 1 FROM event_ids d WHERE d.application_id = x.application_id AND d.event_id = x.event_id)")" 0 \
  "no id lost"
is "$(sql "SELECT COUNT(*) FROM sessions s JOIN (SELECT session_id, COUNT(*) n, MIN(occurred_at) f, MAX(occurred_at) l FROM events GROUP BY session_id) x ON x.session_id = s.id
           WHERE s.event_count <> x.n OR s.first_seen_at <> x.f OR s.last_seen_at <> x.l")" 0 "session counters are exact"

# --- no partition yet: never refused, never lost ---------------------------------
far=$(month_offset 30)
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     VALUES (1, UTC_TIMESTAMP(6), UUID(), 'far', 'page interaction', 'pageview', '$far' + INTERVAL 5 DAY, UTC_TIMESTAMP(6), 'far', '{}'),
            (1, UTC_TIMESTAMP(6), UUID(), 'far', 'page interaction', 'pageview', '1999-01-01', UTC_TIMESTAMP(6), 'far', '{}')"
sql "INSERT INTO event_queue (application_id, received_at, event_id, rules_version, error_code, error_pointer, error_message, payload)
     VALUES (1, '$far' + INTERVAL 1 DAY, NULL, 'far', 'wrong_type', '', '', '{}')"
spool_once
is "$(sql "SELECT COUNT(*) FROM events PARTITION (p_future) WHERE rules_version = 'far'")" 1 \
  "an event after the last month is stored, in p_future"
is "$(sql "SELECT COUNT(*) FROM events PARTITION (p$oldest_month) WHERE occurred_at = '1999-01-01'")" 1 \
  "an event before the first month is stored, in the oldest partition"
is "$(sql "SELECT COUNT(*) FROM event_errors PARTITION (p_future) WHERE rules_version = 'far'")" 1 "so is an error"
EYE_RETENTION_PARTITIONS_AHEAD_MONTHS=31 spool_once
farp="p$(sql "SELECT DATE_FORMAT('$far', '%Y%m')")"
is "$(sql "SELECT COUNT(*) FROM events PARTITION ($farp) WHERE rules_version = 'far'")" 1 \
  "eye-spool creates the months ahead; the row in p_future moves to its month"
is "$(sql "SELECT COUNT(*) FROM events PARTITION (p_future)") $(sql "SELECT COUNT(*) FROM event_errors PARTITION (p_future)")" "0 0" \
  "p_future is empty again"
like "$(cat "$STACK_DIR/spool.log")" "partitions: [0-9]+ month\(s\) added ahead" "the spool logs what it created"
grants=$(sql "SHOW GRANTS FOR 'eye_spool'@'localhost'")
like "$grants" "GRANT EXECUTE ON PROCEDURE \`eye\`.\`eye_partitions_ahead\`" "the spool does it through eye_partitions_ahead (EXECUTE)"
ok $(printf '%s' "$grants" | grep -qiE "ALTER|DROP" && echo 1 || echo 0) "the spool account itself may neither ALTER nor DROP"
stack_admin partitions >"$STACK_DIR/partitions.out" 2>&1; ok $? "eye-admin partitions runs"
like "$(cat "$STACK_DIR/partitions.out")" "events +$farp " "eye-admin partitions lists the months"

# Months before the oldest one, for a backfill: the oldest partition is split.
from=$(sql "SELECT DATE_FORMAT(STR_TO_DATE(CONCAT('$oldest_month', '01'), '%Y%m%d') - INTERVAL 2 MONTH, '%Y-%m')")
nparts=$(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'")
first_errors=$(sql "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'event_errors' ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1")
count_before=$(sql "SELECT COUNT(*) FROM events")
stack_admin partitions --ensure --from "$from" >/dev/null 2>&1; ok $? "partitions --ensure --from $from runs"
is "$(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events'")" "$((nparts + 2))" \
  "events has two months more"
is "$(sql "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'event_errors' ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1") $first_errors" \
  "p${from/-/} p${from/-/}" "event_errors already began with that month: unchanged"
is "$(sql "SELECT COUNT(*) FROM events PARTITION (p${from/-/}) WHERE occurred_at = '1999-01-01'") $(sql "SELECT COUNT(*) FROM events")" "1 $count_before" \
  "the new oldest partition holds what came before it; no row is lost"
stack_admin partitions --from "$from" >/dev/null 2>&1; is $? 2 "--from without --ensure is a usage error"

# --- integrity without foreign keys ----------------------------------------------
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     VALUES (999, UTC_TIMESTAMP(6), UUID(), 'ghost', 'page interaction', 'pageview', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'ghost', '{}')"
sql "INSERT INTO event_queue (application_id, received_at, event_id, rules_version, error_code, error_pointer, error_message)
     VALUES (998, UTC_TIMESTAMP(6), NULL, 'ghost', 'wrong_type', '', '')"
EYE_SPOOL_MAX_ATTEMPTS=1 spool_once
is "$(sql "SELECT COUNT(*) FROM events WHERE rules_version = 'ghost'") $(sql "SELECT COUNT(*) FROM event_errors WHERE rules_version = 'ghost'")" "0 0" \
  "rows of an application that does not exist are not stored"
is "$(sql "SELECT COUNT(*) FROM event_quarantine WHERE rules_version = 'ghost'")" 2 "they are quarantined, not lost"
is "$(sql "SELECT COUNT(*) FROM event_queue")" 0 "and they do not block the queue"
is "$(orphans)" 0 "no event without its session or application, no error without its application, no event_ids row without its event"

# --- eye-admin retention -----------------------------------------------------------
# 20 sessions seen only in spring 2025, stored by the spool.
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     SELECT 1 + seq % 2, UTC_TIMESTAMP(6), UUID(), CONCAT('gone-', seq % 20), 'page interaction', 'pageview',
       '2025-04-10' + INTERVAL seq HOUR, '2025-04-10', 'gone', '{}' FROM seq_1_to_200"
spool_once
ret() { EYE_RETENTION_EVENTS_DAYS=365 EYE_RETENTION_ERRORS_DAYS=200 EYE_RETENTION_QUARANTINE_DAYS=90 stack_admin retention "$@"; }
sql "UPDATE event_quarantine SET quarantined_at = UTC_TIMESTAMP() - INTERVAL 100 DAY WHERE rules_version = 'ghost' AND application_id = 999"
# part_bound TABLE PARTITION: its upper bound, as a datetime string.
part_bound() {
  sql "SELECT TRIM(BOTH '\'' FROM PARTITION_DESCRIPTION) FROM information_schema.PARTITIONS
       WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = '$1' AND PARTITION_NAME = '$2'"
}
# gone_parts TABLE DAYS: the partitions whose every row is older than DAYS.
gone_parts() {
  sql "SELECT IFNULL(GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION), '') FROM information_schema.PARTITIONS
       WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = '$1' AND PARTITION_DESCRIPTION <> 'MAXVALUE'
         AND CAST(TRIM(BOTH '\'' FROM PARTITION_DESCRIPTION) AS DATETIME) <= UTC_TIMESTAMP() - INTERVAL $2 DAY"
}
want_events=$(gone_parts events 365); want_errors=$(gone_parts event_errors 200)
diag "expected to go: events $want_events; event_errors $want_errors"
bound=$(part_bound events "${want_events##*,}"); ebound=$(part_bound event_errors "${want_errors##*,}")
before=$(sql "$digest_events")
out=$(ret 2>&1); rc=$?
is "$rc" 0 "retention (dry run) exits 0"
is "$(printf '%s\n' "$out" | sed -n 's/^  would drop \(p[0-9]*\) .*/\1/p' | paste -sd, -)" "$want_events,$want_errors" \
  "the dry run lists every events and errors partition entirely older than its retention"
like "$out" "event_quarantine: kept 90 days; 1 rows would be deleted" "and the quarantined rows"
is "$(sql "$digest_events")" "$before" "the dry run changes nothing"
keep_events=$(sql "SELECT COUNT(*) FROM events WHERE occurred_at >= '$bound'")
keep_ids=$(sql "SELECT COUNT(*) FROM event_ids WHERE occurred_at >= '$bound'")
gone_ids=$(sql "SELECT COUNT(*) FROM event_ids WHERE occurred_at < '$bound'")
diag "event_ids rows of the partitions to drop: $gone_ids"
keep_errors=$(sql "SELECT COUNT(*) FROM event_errors WHERE received_at >= '$ebound'")
is "$(sql "SELECT COUNT(*) FROM sessions WHERE last_seen_at < '$bound' AND session_key LIKE 'gone-%'")" 20 "20 sessions were last seen before the bound"

# A spooler storing events for those old sessions while retention runs:
# they must survive, and nothing may point at a deleted session.
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, rules_version, data)
     SELECT 1, UTC_TIMESTAMP(6), UUID(), s.session_key, 'page interaction', 'pageview', UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), 'late', '{}'
     FROM sessions s WHERE s.session_key LIKE 'gone-%' ORDER BY s.id LIMIT 10"
late=$(sql "SELECT COUNT(*) FROM event_queue WHERE rules_version = 'late'")
EYE_SPOOL_BATCH_SIZE=5 "$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool.log" 2>&1 &
late_pid=$!
out=$(ret --apply 2>&1); rc=$?
wait $late_pid
is "$rc" 0 "retention --apply exits 0"
like "$out" "  drop ${want_events%%,*} " "it says what it dropped"
is "$(gone_parts events 365)" "" "no events partition older than the retention is left"
is "$(gone_parts event_errors 200)" "" "no event_errors partition older than the retention is left"
is "$(sql "SELECT COUNT(*) FROM events WHERE rules_version <> 'late'")" "$keep_events" "every event after the bound is kept"
is "$(sql "SELECT COUNT(*) FROM event_errors")" "$keep_errors" "every error after the bound is kept"
is "$(sql "SELECT COUNT(*) FROM event_ids WHERE occurred_at < '$bound'")" 0 "event_ids of dropped events are deleted"
like "$out" "event_ids: $gone_ids rows of dropped events deleted" "it says how many event_ids rows went"
is "$(sql "SELECT COUNT(*) FROM event_ids")" "$((keep_ids + late))" "event_ids of kept events are kept"
is "$(sql "SELECT COUNT(*) FROM events WHERE rules_version = 'late'")" "$late" "events stored during retention are kept"
is "$(sql "SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id)")" 0 \
  "sessions left without events are deleted"
is "$(sql "SELECT COUNT(*) FROM sessions WHERE session_key LIKE 'gone-%'")" 10 \
  "of the 20, the 10 without new events are deleted, the 10 with are kept"
is "$(sql "SELECT COUNT(*) FROM sessions WHERE last_seen_at >= '$bound'")" "$(sql "SELECT COUNT(*) FROM sessions")" \
  "every session kept has been seen after the bound"
is "$(sql "SELECT COUNT(*) FROM event_quarantine WHERE rules_version = 'ghost'")" 1 "quarantined rows older than their retention are deleted"
is "$(orphans)" 0 "after retention: no orphan anywhere"
out=$(ret --apply 2>&1)
like "$out" "events: kept 365 days by occurred_at; 0 of" "retention again drops nothing"

# --- erasure of one session --------------------------------------------------------
command -v openssl >/dev/null || flock /tmp/apt.lock apt-get install -y openssl >/dev/null 2>&1
dump() { mariadb-dump --no-defaults -uroot -S "$STACK_DB_SOCKET" --skip-extended-insert --hex-blob=0 eye 2>/dev/null; }
unknown() { printf '{"session_id":"%s","category":"page interaction","name":"scroll","data":{"y":1},"timestamp":"%s"}' "$1" "$now"; }
post_events "$KEY_SHOP" "[$(ev erase-me bbbbbbbb-0000-4000-8000-000000000001 e1 "$now"),$(ev erase-me bbbbbbbb-0000-4000-8000-000000000002 e2 "$now"),$(ev erase-me bbbbbbbb-0000-4000-8000-000000000003 e3 "$now"),$(unknown erase-me),$(ev keep-me bbbbbbbb-0000-4000-8000-000000000004 k1 "$now")]"
is "$HTTP_STATUS" 202 "a session to erase: shop's events and an error"
post_events "$KEY_BLOG" "[$(ev erase-me bbbbbbbb-0000-4000-8000-000000000005 e4 "$now"),$(ev erase-me bbbbbbbb-0000-4000-8000-000000000006 e5 "$now")]"
is "$HTTP_STATUS" 202 "and blog's events in the same session"
spool_once
post_events "$KEY_SHOP" "$(ev erase-me bbbbbbbb-0000-4000-8000-000000000007 e6 "$now")"
sql "INSERT INTO event_quarantine (id, application_id, received_at, event_id, session_key, rules_version, attempts, reason, data)
     VALUES (900001, 1, UTC_TIMESTAMP(6), 'bbbbbbbb-0000-4000-8000-000000000008', 'erase-me', 'q', 5, 'test', '{\"path\":\"/e7\"}')"
keep_before=$(sql "SELECT CONCAT(s.event_count, ' ', COUNT(e.id)) FROM sessions s JOIN events e ON e.session_id = s.id WHERE s.session_key = 'keep-me'")
d=$(dump)
is "$(printf '%s' "$d" | grep -c 'erase-me') $(printf '%s' "$d" | grep -c 'bbbbbbbb-0000-4000-8000-00000000000[1235678]') $(printf '%s' "$d" | grep -c '/e[1-7]')" \
  "4 12 7" "before: 4 rows name the session (sessions, errors, queue, quarantine), 12 hold its ids, 7 its data"
out=$(stack_admin erase --session erase-me 2>&1); rc=$?
is "$rc" 0 "erase --session exits 0"
is "$out" "erased session: 5 events, 5 event_ids, 1 errors, 1 sessions, 1 queued, 1 quarantined" "it says what it erased"
d=$(dump)
is "$(printf '%s' "$d" | grep -c 'erase-me')" 0 "nothing in any table names the session any more"
is "$(printf '%s' "$d" | grep -c 'bbbbbbbb-0000-4000-8000-00000000000[1235678]')" 0 "nor holds any of its event ids"
is "$(printf '%s' "$d" | grep -c '/e[1-7]')" 0 "nor any of its data"
is "$(sql "SELECT CONCAT(s.event_count, ' ', COUNT(e.id)) FROM sessions s JOIN events e ON e.session_id = s.id WHERE s.session_key = 'keep-me'")" "$keep_before" \
  "another session in the same requests is untouched"
secret=$(sql "SELECT HEX(secret) FROM erasure_key")
want=$(printf 'session:erase-me' | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$secret" | sed 's/.*= //' | tr a-f A-F)
is "$(sql "SELECT CONCAT(kind, ' ', HEX(subject_hash), ' ', events, ' ', errors, ' ', sessions, ' ', queue, ' ', quarantine) FROM erasures")" \
  "session $want 5 1 1 1 1" "the audit row: when, the session as HMAC-SHA256 under erasure_key, and the counts"
stack_admin errors replay >/dev/null 2>&1; spool_once
is "$(dump | grep -c 'erase-me')" 0 "a replay of errors brings nothing of it back"
is "$(orphans)" 0 "after erasure: no orphan anywhere"

# --- erasure of one application ----------------------------------------------------
KEY_GONE=$(new_app gone-app); gone_id=$(sql "SELECT id FROM applications WHERE name = 'gone-app'")
post_events "$KEY_GONE" "[$(ev solo-1 cccccccc-0000-4000-8000-000000000001 g1 "$now"),$(ev shared-1 cccccccc-0000-4000-8000-000000000002 g2 "$now"),$(unknown solo-1)]"
is "$HTTP_STATUS" 202 "an application to erase sends events"
post_events "$KEY_SHOP" "$(ev shared-1 cccccccc-0000-4000-8000-000000000003 s1 "$now")"
spool_once
post_events "$KEY_GONE" "$(ev solo-2 cccccccc-0000-4000-8000-000000000004 g3 "$now")"
sql "INSERT INTO event_quarantine (id, application_id, received_at, session_key, rules_version, attempts, reason)
     VALUES (900002, $gone_id, UTC_TIMESTAMP(6), 'solo-3', 'q', 5, 'test')"
is "$(sql "SELECT event_count FROM sessions WHERE session_key = 'shared-1'")" 2 "a session shared with shop has 2 events"
out=$(EYE_INGEST_KEY_CACHE_SECONDS=0 stack_admin erase --application gone-app 2>&1); rc=$?
is "$rc" 0 "erase --application exits 0"
like "$out" "erased application: 2 events, 2 event_ids, 1 errors, 1 sessions, 1 queued, 1 quarantined, 1 keys" "it says what it erased"
n=0
for t in event_queue events event_ids event_errors event_quarantine api_keys; do
  n=$((n + $(sql "SELECT COUNT(*) FROM $t WHERE application_id = $gone_id")))
done
is "$n" 0 "no row of the application is left in the queue, events, event_ids, errors, quarantine, keys"
is "$(sql "SELECT COUNT(*) FROM applications WHERE name = 'gone-app' OR id = $gone_id")" 0 "the application itself is gone"
is "$(sql "SELECT COUNT(*) FROM sessions WHERE session_key IN ('solo-1', 'solo-2', 'solo-3')")" 0 "the sessions only it fed are gone"
is "$(sql "SELECT CONCAT(event_count, ' ', first_seen_at = last_seen_at) FROM sessions WHERE session_key = 'shared-1'")" "1 1" \
  "a shared session stays, its counters recomputed from shop's event"
is "$(dump | grep -c 'gone-app\|/g[1-3]\|cccccccc-0000-4000-8000-00000000000[124]')" 0 "nothing in any table names it or holds its data"
is "$(sql "SELECT COUNT(*) FROM erasures WHERE kind = 'application'")" 1 "the erasure is audited"
is "$(orphans)" 0 "after erasing an application: no orphan anywhere"
out=$(stack_admin erase --application no-such-app 2>&1)
is "$?" 1 "erasing an unknown application fails"
stack_admin erase --session >/dev/null 2>&1
is "$?" 2 "erase without an identifier is a usage error"

# --- archive and restore ---------------------------------------------------------
first_part() { sql "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1"; }
P=$(first_part); pstart=$(sql "SELECT STR_TO_DATE(CONCAT(SUBSTRING('$P', 2), '01'), '%Y%m%d')")
sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name, occurred_at, client_timestamp, sent_at, clock_skew_us, skew_corrected, rules_version, data)
     SELECT 1, UTC_TIMESTAMP(6), UUID(), 'arch-x', 'page interaction', 'pageview', '$pstart' + INTERVAL seq DAY, '$pstart', '$pstart' + INTERVAL 1 HOUR, 1234, 1, 'arch', '{\"p\":\"x\"}' FROM seq_1_to_3"
spool_once
n_part=$(sql "SELECT COUNT(*) FROM events PARTITION ($P)")
pdigest="SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', e.event_id, e.application_id, s.session_key, c.name, t.name, JSON_NORMALIZE(e.data), e.occurred_at, e.client_timestamp, IFNULL(e.sent_at, '-'), IFNULL(e.clock_skew_us, '-'), e.skew_corrected, e.received_at, e.rules_version)))
  FROM events e JOIN sessions s ON s.id = e.session_id JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id
  WHERE s.session_key <> 'arch-x'"
keep_digest=$(sql "$pdigest AND e.occurred_at < (SELECT TRIM(BOTH '\'' FROM PARTITION_DESCRIPTION) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND PARTITION_NAME = '$P')")
diag "archiving $P: $n_part events ($keep_digest without arch-x)"
mkdir -p "$STACK_DIR/arch"; A=$STACK_DIR/arch/events-$P.ndjson.gz
out=$(stack_admin archive "$P" --out "$A" 2>&1); rc=$?
is "$rc" 0 "archive exits 0"
like "$out" "archived $P: $n_part events to $A" "it says how many events went where"
(cd "$STACK_DIR/arch" && sha256sum -c --quiet "events-$P.ndjson.gz.sha256" >/dev/null 2>&1); ok $? "the file matches its .sha256 (sha256sum -c)"
is "$(zcat "$A" | wc -l)" "$n_part" "one line per event, gzip-compressed"
is "$(zcat "$A" | head -1 | jq -r 'keys_unsorted | join(",")')" \
  "id,event_id,session_id,application,category,name,data,timestamp,received_at,client_timestamp,sent_at,clock_skew_us,skew_corrected,rules_version" \
  "each line is the read API's event, plus what a restore needs"
is "$(zcat "$A" | jq -c 'select(.session_id == "arch-x") | [.data, .skew_corrected, .clock_skew_us]' | head -1)" '[{"p":"x"},true,1234]' \
  "data stays an object, flags and numbers keep their types"
is "$(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME = 'events' AND PARTITION_NAME = '$P'")" 0 \
  "the partition is gone from events"
is "$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME LIKE 'events_detached%'")" 0 "no detached table is left"
is "$(sql "SELECT COUNT(*) FROM event_ids d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.id)")" 0 "the archived events' event_ids are gone"
is "$(sql "SELECT COUNT(*) FROM sessions WHERE session_key = 'arch-x'")" 0 "a session only the archive holds is gone"
is "$(orphans)" 0 "after archive: no orphan anywhere"
out=$(stack_admin archive "$P" --out "$STACK_DIR/arch/again.gz" 2>&1)
is "$?" 1 "archiving a partition that is not there fails"
stack_admin erase --session arch-x >/dev/null 2>&1; ok $? "arch-x is erased (nothing left but the archive)"

cp "$A" "$STACK_DIR/arch/bad.gz"; cp "$A.sha256" "$STACK_DIR/arch/bad.gz.sha256"
printf 'x' | dd of="$STACK_DIR/arch/bad.gz" bs=1 seek=100 conv=notrunc 2>/dev/null
out=$(stack_admin restore "$STACK_DIR/arch/bad.gz" 2>&1)
is "$?" 1 "restore refuses a file that does not match its checksum"
is "$(sql "SELECT COUNT(*) FROM event_queue")" 0 "and queues nothing"
dups=$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")
out=$(stack_admin restore "$A" 2>&1); rc=$?
is "$rc" 0 "restore exits 0"
like "$out" "$n_part lines, $((n_part - 3)) events queued, 0 skipped \(no such application\), 3 skipped \(erased session\)" \
  "restore queues the events and skips the erased session"
spool_once
is "$(sql "$pdigest AND e.occurred_at < '$pstart' + INTERVAL 1 MONTH")" "$keep_digest" "the restored events are the archived ones, column for column (data as equal JSON)"
is "$(sql "SELECT COUNT(*) FROM sessions WHERE session_key = 'arch-x'")" 0 "the erased session does not come back"
total=$(sql "SELECT COUNT(*) FROM events")
stack_admin restore "$A" >/dev/null 2>&1; spool_once
is "$(sql "SELECT COUNT(*) FROM events")" "$total" "restoring again stores nothing twice"
is "$(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")" "$((dups + n_part - 3))" "the second restore is counted as duplicates"
is "$(orphans)" 0 "after restore: no orphan anywhere"

# retention --apply with retention.archive_dir archives before it drops.
P2=$(first_part); b2=$(part_bound events "$P2")
n2=$(sql "SELECT COUNT(*) FROM events PARTITION ($P2)")
days=$(sql "SELECT DATEDIFF(UTC_DATE(), '$b2')")
mkdir -p "$STACK_DIR/arch2"
out=$(EYE_RETENTION_EVENTS_DAYS=$days EYE_RETENTION_ERRORS_DAYS=0 EYE_RETENTION_ARCHIVE_DIR=$STACK_DIR/arch2 stack_admin retention --apply 2>&1); rc=$?
is "$rc" 0 "retention --apply with an archive folder exits 0"
like "$out" "archived $P2: $n2 events" "it archives the partition it drops"
is "$(zcat "$STACK_DIR/arch2/events-$P2.ndjson.gz" | wc -l)" "$n2" "the archive holds the partition's events"
is "$(first_part)" "$(sql "SELECT DATE_FORMAT('$b2', 'p%Y%m')")" "the partition is gone"

# --- the daily timer ---------------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
  flock /tmp/apt.lock apt-get install -y systemd >/dev/null 2>&1
fi
mkdir -p "$STACK_DIR/units"
for u in eye-retention.service eye-retention.timer; do
  sed "s|^ExecStart=[^ ]*/eye-admin|ExecStart=$EYE_BUILDDIR/admin/eye-admin|" "$EYE_BUILDDIR/deploy/$u" >"$STACK_DIR/units/$u"
done
out=$(cd "$STACK_DIR/units" && systemd-analyze verify --man=no eye-retention.timer eye-retention.service 2>&1)
is "$out" "" "systemd-analyze verify finds nothing wrong with the retention service and timer"
like "$(grep '^ExecStart' "$EYE_BUILDDIR/deploy/eye-retention.service")" "eye-admin --config .*/eye.yaml retention --apply$" \
  "the service runs retention --apply"

harness_finish
