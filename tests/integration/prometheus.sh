#!/bin/bash
# prometheus.sh - a real Prometheus (Debian's package) scrapes the real
# stack with a read key and the shipped alert rules: the target is up, the
# rules load, and the counters it recorded are what the test sent.
. "$EYE_SRCDIR/tests/lib/harness.sh"
command -v prometheus >/dev/null || flock /tmp/apt.lock apt-get install -y prometheus >/dev/null
PROM_PID=
prom_stop() { [ -n "$PROM_PID" ] && stack_stop_pid "$PROM_PID" 10; PROM_PID=; }
trap 'rc=$?; prom_stop; (exit $rc); harness_cleanup' EXIT

harness_start
KEY=$(new_app shop)
stack_admin key create shop --read >"$STACK_DIR/read.key" 2>/dev/null
PROM_PORT=$(stack_free_port)
mkdir -p "$STACK_DIR/prom"
cp "$EYE_SRCDIR/deploy/prometheus/eye-alerts.yml" "$STACK_DIR/prom/"
# The shipped example, pointed at this stack and scraping every second.
sed -e "s|/etc/prometheus/eye-read.key|$STACK_DIR/read.key|" \
    -e "s|'127.0.0.1:8080'|'127.0.0.1:$STACK_HTTP_PORT'|" \
    -e 's|scrape_interval: 15s|scrape_interval: 1s|' -e 's|evaluation_interval: 15s|evaluation_interval: 1s|' \
    "$EYE_SRCDIR/deploy/prometheus/prometheus.yml" >"$STACK_DIR/prom/prometheus.yml"
prometheus --config.file="$STACK_DIR/prom/prometheus.yml" --storage.tsdb.path="$STACK_DIR/prom/data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$STACK_DIR/prom/prometheus.log" 2>&1 &
PROM_PID=$!
PROM="http://127.0.0.1:$PROM_PORT"
for _ in $(seq 1 300); do curl -sf "$PROM/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf "$PROM/-/ready" >/dev/null || bail "Prometheus did not start (see $STACK_DIR/prom/prometheus.log)"

# query EXPR: the value of the first sample of an instant query, or "none".
query() { curl -s -m 5 "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // "none"'; }
# wait_for EXPR WANT: polls (at most 30 s) until the query gives WANT.
wait_for() {
  local got
  for _ in $(seq 1 150); do
    got=$(query "$1"); [ "$got" = "$2" ] && break; sleep 0.2
  done
  printf '%s' "$got"
}

is "$(wait_for 'up{job="eye"}' 1)" 1 "Prometheus scrapes the stack with the read key: the target is up"
health=$(curl -s "$PROM/api/v1/rules" | jq -r '[.data.groups[].rules[] | .health] | unique | join(",")')
is "$health" ok "the shipped alert rules load and evaluate"
nrules=$(curl -s "$PROM/api/v1/rules" | jq -r '[.data.groups[].rules[]] | length')
is "$nrules" 8 "all eight rules are loaded"

N=40
for i in $(seq 1 $N); do
  post_events "$KEY" "{\"session_id\": \"p-$i\", \"category\": \"page interaction\", \"name\": \"pageview\", \"data\": {\"host\": \"a.example.com\", \"path\": \"/\"}, \"timestamp\": \"2024-05-01T10:00:00Z\"}"
  [ "$HTTP_STATUS" = 202 ] || diag "event $i: $HTTP_STATUS"
done
for i in 1 2 3; do
  post_events "$KEY" "{\"session_id\": \"q-$i\", \"category\": \"page interaction\", \"name\": \"pageview\", \"data\": {\"host\": \"a.example.com\"}, \"timestamp\": \"2024-05-01T10:00:00Z\"}"
done
is "$HTTP_STATUS" 422 "three events rejected (missing path)"
is "$(wait_for 'sum(eye_events_accepted_total{application="shop"})' $N)" $N \
  "Prometheus recorded exactly the $N accepted events"
is "$(wait_for 'sum(eye_events_rejected_total{code="missing_field"})' 3)" 3 \
  "and the 3 rejected ones, by code"
is "$(wait_for 'sum(eye_http_requests_total{route="ingest"})' $((N + 3)))" $((N + 3)) \
  "and the $((N + 3)) ingest requests"

"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(wait_for 'eye_spool_events_stored_total' $N)" $N "the spool's stored events reach Prometheus"
is "$(wait_for 'eye_spool_errors_stored_total' 3)" 3 "and its stored errors"
is "$(wait_for 'eye_queue_depth_rows' 0)" 0 "the queue is empty once the spool has run"
is "$(query 'count(ALERTS{alertstate="firing", alertname=~"EyeDown|EyeDatabaseDown|EyeUnavailable|EyeRulesReloadFailing"})')" none \
  "no alert about the service itself fires on a healthy stack"

# The stack goes away: the target goes down and EyeDown starts pending.
stack_lighttpd_stop
is "$(wait_for 'up{job="eye"}' 0)" 0 "with lighttpd stopped, the target is down"
is "$(wait_for 'count(ALERTS{alertname="EyeDown"})' 1)" 1 "and EyeDown is raised (pending for its minute)"

prom_stop
harness_finish
