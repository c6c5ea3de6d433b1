#!/bin/bash
# metrics.sh - GET /metrics: exact totals over several eye.fcgi processes,
# the exposition format (promtool check metrics), access (read key, or a
# listed network), event labels bounded by the rule set, the spool's
# figures, and the rollups equal to COUNT(*) of what they count.
. "$EYE_SRCDIR/tests/lib/harness.sh"
command -v promtool >/dev/null || flock /tmp/apt.lock apt-get install -y prometheus >/dev/null
STACK_FCGI_PROCS=2
export EYE_INGEST_THREADS=4
harness_start
KEY=$(new_app shop)
READ=$(stack_admin key create shop --read 2>/dev/null)
N=300

ev() { printf '{"session_id": "m-%s", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/%s"}, "timestamp": "2024-05-01T10:00:00Z"}' "$1" "$1"; }
scrape() { curl -s -m 10 -H "Authorization: Bearer $READ" "$BASE/metrics"; }
# value SCRAPE SERIES: the value of one series (exact label text), or "absent".
value() { printf '%s\n' "$1" | awk -v s="$2 " 'index($0, s) == 1 { print substr($0, length(s) + 1); f = 1 } END { if (!f) print "absent" }'; }

# N single-event requests, 16 at a time, so both processes serve some.
mkdir -p "$STACK_DIR/bodies"
for i in $(seq 1 $N); do ev "$i" >"$STACK_DIR/bodies/$i.json"; done
seq 1 $N | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST "$BASE/v1/events" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  --data-binary "@$STACK_DIR/bodies/{}.json" >"$STACK_DIR/codes"
is "$(grep -c '^202$' "$STACK_DIR/codes")" $N "$N requests answered 202"

m=$(scrape)
is "$(value "$m" 'eye_http_requests_total{route="ingest",code="202"}')" $N \
  "scraped: exactly $N ingest requests with 202, over all processes"
is "$(value "$m" 'eye_events_accepted_total{application="shop",category="page interaction",name="pageview"}')" $N \
  "scraped: exactly $N accepted pageviews of application shop"
is "$(value "$m" 'eye_fcgi_processes')" 2 "two eye.fcgi processes share the counters"
served=$(printf '%s\n' "$m" | awk '/^eye_process_requests_total/ && $2 > 0 { n++ } END { print n + 0 }')
is "$served" 2 "both processes served requests (the counts are the sum of two processes)"
sum=$(printf '%s\n' "$m" | awk '/^eye_process_requests_total/ { s += $2 } END { print s }')
ok $([ "$sum" -ge $N ] && echo 0 || echo 1) "the processes' own counts add up to at least the $N requests ($sum)"
is "$(value "$m" 'eye_http_request_duration_seconds_count{route="ingest"}')" $N "the ingest duration histogram counted $N requests"
rows=$(value "$m" 'eye_queue_commit_rows_sum')
is "$(printf '%.0f' "$rows")" $N "group commit histograms: $N rows committed"
is "$(value "$m" 'eye_metrics_shared')" 1 "the counters are in the shared file"

printf '%s\n' "$m" >"$STACK_DIR/metrics.txt"
out=$(promtool check metrics <"$STACK_DIR/metrics.txt" 2>&1)
is "$?:$out" "0:" "promtool check metrics finds nothing to say"
missing=$(awk '/^# HELP /{h[$3]=1} /^[a-z]/{n=$1; sub(/[{ ].*/,"",n); b=n; sub(/_(bucket|sum|count)$/,"",b); if (!h[n] && !h[b]) print n}' "$STACK_DIR/metrics.txt" | sort -u)
is "$missing" "" "every series has a HELP line"
bad=$(grep -v '^#' "$STACK_DIR/metrics.txt" | grep -v '^eye_' | head -3)
is "$bad" "" "every name has the eye_ prefix"

# Rejections, by code; unknown types collapse into one label value.
post_events "$KEY" '[{"session_id": "r1", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/", "bogus": 1}, "timestamp": "2024-05-01T10:00:00Z"},
  {"session_id": "r2", "category": "no such", "name": "type 1", "data": {}, "timestamp": "2024-05-01T10:00:00Z"},
  {"session_id": "r3", "category": "no such", "name": "type 2", "data": {}, "timestamp": "2024-05-01T10:00:00Z"}]'
is "$HTTP_STATUS" 422 "three rejected events"
m=$(scrape)
is "$(value "$m" 'eye_events_rejected_total{application="shop",category="page interaction",name="pageview",code="unexpected_field"}')" 1 \
  "a rejection is labelled by its type and code"
is "$(value "$m" 'eye_events_rejected_total{application="shop",category="_unknown",name="_unknown",code="unknown_event_type"}')" 2 \
  "unknown event types collapse into one series"
! printf '%s\n' "$m" | grep -q 'no such\|r1\|a.example.com'
ok $? "no event data, session id or unknown type name in any label"
! printf '%s\n' "$m" | grep -q "${KEY:0:12}\|${READ:0:12}"
ok $? "no key in the scrape"

# Access.
http GET /metrics
is "$HTTP_STATUS" 401 "no key: 401"
http GET /metrics -H "Authorization: Bearer $KEY"
is "$HTTP_STATUS" 403 "a write key: 403"
http POST /metrics -H "Authorization: Bearer $READ" --data ''""
is "$HTTP_STATUS" 405 "POST: 405"
m=$(scrape)
is "$(value "$m" 'eye_http_requests_total{route="metrics",code="401"}')" 1 "refused scrapes are counted"

# The spool's figures, from spool_status, and the rollups.
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>"$STACK_DIR/spool.err"
is "$?" 0 "the spool drains the queue"
m=$(scrape)
is "$(value "$m" 'eye_spool_events_stored_total')" $N "scraped: the spool stored $N events"
is "$(value "$m" 'eye_spool_errors_stored_total')" 3 "scraped: and 3 errors"
is "$(value "$m" 'eye_spool_rows_total')" $((N + 3)) "scraped: $((N + 3)) rows moved"
ok $([ "$(value "$m" 'eye_spool_batch_duration_seconds_count')" -ge 1 ] && echo 0 || echo 1) "batch durations are recorded"
like "$(printf '%s\n' "$m" | grep '^eye_spool_last_batch_timestamp_seconds{spooler=')" ' [0-9]{10}\.' \
  "the spooler's last batch time is shown"
is "$(value "$m" 'eye_database_up')" 1 "the scrape read the database"
printf '%s\n' "$m" >"$STACK_DIR/metrics2.txt"
out=$(promtool check metrics <"$STACK_DIR/metrics2.txt" 2>&1)
is "$?:$out" "0:" "promtool check metrics, with the spool's figures"

is "$(sql "SELECT SUM(n) FROM event_counts_minute WHERE outcome = 'accepted'")" \
  "$(sql 'SELECT COUNT(*) FROM events')" "rollup: accepted equals COUNT(*) of events"
is "$(sql "SELECT GROUP_CONCAT(outcome, '=', n ORDER BY outcome) FROM (SELECT outcome, SUM(n) AS n FROM v_event_counts_minute WHERE outcome <> 'accepted' GROUP BY outcome) x")" \
  "$(sql "SELECT GROUP_CONCAT(code, '=', c ORDER BY code) FROM (SELECT code, COUNT(*) AS c FROM event_errors GROUP BY code) x")" \
  "rollup: rejections by code equal event_errors"

# A listed network needs no key.
stack_lighttpd_stop
EYE_METRICS_ALLOW_NETWORKS='10.0.0.0/8, 127.0.0.0/8' stack_lighttpd_start || bail "lighttpd did not restart"
http GET /metrics
is "$HTTP_STATUS" 200 "from a listed network, no key is needed"
m=$HTTP_BODY
is "$(value "$m" 'eye_events_accepted_total{application="shop",category="page interaction",name="pageview"}')" $N \
  "the counters survived the restart of every process (the file stays)"
stack_lighttpd_stop
EYE_METRICS_ALLOW_NETWORKS='10.0.0.0/8' stack_lighttpd_start || bail "lighttpd did not restart"
http GET /metrics
is "$HTTP_STATUS" 401 "from a network not listed, a key is needed"

# MariaDB away: the scrape still answers, application labels unchanged.
m=$(scrape)
stack_mariadb_stop
m=$(scrape)
is "$(value "$m" 'eye_database_up')" 0 "with MariaDB stopped, the scrape says the database is down"
is "$(value "$m" 'eye_events_accepted_total{application="shop",category="page interaction",name="pageview"}')" $N \
  "and keeps the application's name from the last scrape that read it"
stack_mariadb_start || bail "MariaDB did not restart"

# metrics.enabled false (bench/metrics.sh's baseline): no counting, 404.
stack_lighttpd_stop
EYE_METRICS_ENABLED=false stack_lighttpd_start || bail "lighttpd did not restart"
http GET /metrics -H "Authorization: Bearer $READ"
is "$HTTP_STATUS" 404 "with metrics.enabled false, /metrics is 404"

harness_finish
