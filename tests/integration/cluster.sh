#!/bin/bash
# cluster.sh - The Eye on a 3-node Galera cluster, with the writer killed
# under load: every event acknowledged with 202 is stored exactly once.
#
# Real servers on loopback, all started here and stopped on every exit:
# three Galera nodes (scripts/cluster.sh), two web nodes (lighttpd +
# eye.fcgi, one configuration, both listing the three nodes), two spoolers.
# Four clients send 10-event batches (9 valid events, 1 invalid) at a
# steady rate for LOAD_SECONDS, alternating between the web nodes. Each
# keeps a ledger of the event ids that were answered 202; a batch answered
# anything else is sent again, same ids, to the other web node, until it
# is answered 202. While they send, the test
#   - measures certification conflicts in steady state (must be 0),
#   - kill -9s the writer (node 1), and later starts it again (it rejoins
#     by IST and, database.failback_seconds later, is the writer again),
#   - kill -9s web node 2 (lighttpd and its eye.fcgi processes).
# Then, once the queue is drained: the stored events are exactly the
# ledger's valid ids, each once; event_errors holds exactly its invalid
# ids, each once; every session's counter equals its events; no answer was
# anything but 202 or 503 (with Retry-After) from a live web node, none took
# longer than ANSWER_BOUND seconds; the longest time without a 202 is below
# WRITERLESS_BOUND seconds.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/scripts/cluster.sh"

LOAD_SECONDS=${EYE_CLUSTER_LOAD_SECONDS:-60}
CLIENTS=4
ANSWER_BOUND=12     # read_timeout 5 s + connect_timeout 2 s, and margin
WRITERLESS_BOUND=10 # Galera declares a dead node gone in ~3 s here (cluster.sh), plus 5 s read_timeout

. "$EYE_SRCDIR/tests/lib/cluster_fixture.sh"
WEB_NODES=2

# --- bring everything up --------------------------------------------------
cluster_start || bail "the Galera cluster did not start"
is "$(cluster_status 1 wsrep_cluster_size)" 3 "three Galera nodes in one cluster"
# The read API uses node 3 (a standby), then node 2.
CLUSTER_READ_HOSTS="127.0.0.1:${CLUSTER_PORT[3]},127.0.0.1:${CLUSTER_PORT[2]}"
cluster_write_config "$STACK_DIR/eye.yaml"
# Fast failback, so the test also sees the planned move back to node 1.
sed -i 's/^  name: eye$/  name: eye\n  failback_seconds: 5/' "$STACK_CONFIG"
cluster_schema || bail "schema set-up on the cluster failed"
KEY=$(new_app ledger)
[ -n "$KEY" ] || bail "no application key"
READ_KEY=$(new_app analysts --read)
[ -n "$READ_KEY" ] || bail "no read key"
web_start 1 || bail "web node 1 did not start"
web_start 2 || bail "web node 2 did not start"
spool_start 1
spool_start 2

# Both web nodes answer health from the cluster.
for i in 1 2; do
  out=$(curl -s -m 10 "http://127.0.0.1:${WEB_PORT[$i]}/v1/health")
  is "$(json_get "$out" .database)" up "web node $i reaches the cluster"
done
is "$(json_get "$out" .writer_endpoint)" "127.0.0.1:${CLUSTER_PORT[1]}" "/v1/health: node 1 is the writer"
is "$(json_get "$out" .read_database.endpoint)" "127.0.0.1:${CLUSTER_PORT[3]}" \
  "/v1/health: the read API uses node 3"
for _ in $(seq 1 50); do
  out=$(curl -s -m 10 "http://127.0.0.1:${WEB_PORT[1]}/v1/health")
  [ "$(json_get "$out" .read_database.lag_seconds)" != null ] && break
  sleep 0.1
done
like "$(json_get "$out" .read_database.lag_seconds)" '^[0-9.e-]+$' "/v1/health: the standby's lag is measured"
is "$(json_get "$out" .read_database.writer)" "$(cluster_sql 1 -N -B -e 'SELECT @@hostname'):${CLUSTER_PORT[1]}" \
  "/v1/health: the standby's heartbeat came from node 1"

# health_sampler: /v1/health of web node 1 every 0.5 s, "epoch writer lag".
health_sampler() {
  trap 'exit 0' TERM
  while :; do
    curl -s -m 10 "http://127.0.0.1:${WEB_PORT[1]}/v1/health" |
      jq -r --arg t "$EPOCHREALTIME" '"\($t) \(.writer_endpoint) \(.read_database.lag_seconds)"' \
      >>"$STACK_DIR/health" 2>/dev/null
    sleep 0.5
  done
}

# pager: reads every event, page by page (500 a page, keyset cursor), from
# web node 1's read API (node 3) while the load runs, again and again; one
# line per page "pass status first_id last_id count increasing(0/1)".
pager() {
  local pass=0 after= out status body next ids
  trap 'exit 0' TERM
  while :; do
    out=$(curl -s -m 20 -w '\n%{http_code}' -H "Authorization: Bearer $READ_KEY" \
      "http://127.0.0.1:${WEB_PORT[1]}/v1/events?category=page%20interaction&limit=500${after:+&after=$after}")
    status=${out##*$'\n'}
    body=${out%$'\n'*}
    if [ "$status" = 200 ]; then
      ids=$(printf '%s' "$body" | jq -r '.events[].id')
      next=$(printf '%s' "$body" | jq -r '.next // empty')
      local first last count inorder=1
      first=$(printf '%s\n' "$ids" | head -1)
      last=$(printf '%s\n' "$ids" | tail -1)
      count=$(printf '%s\n' "$ids" | grep -c .)
      printf '%s\n' "$ids" | sort -n -u -c 2>/dev/null || inorder=0
      echo "$pass $status ${first:--} ${last:--} $count $inorder" >>"$STACK_DIR/pages"
      [ "$count" -gt 0 ] && printf '%s\n' "$ids" | sed "s/^/$pass /" >>"$STACK_DIR/paged"
      if [ -n "$next" ]; then after=$next; else after=; pass=$((pass + 1)); sleep 0.5; fi
    else
      echo "$pass $status - - 0 0" >>"$STACK_DIR/pages"
      sleep 0.2
    fi
  done
}

# --- load, kill the writer, bring it back, kill a web node ----------------
START=${EPOCHREALTIME%.*}
DEADLINE=$((START + LOAD_SECONDS))
for c in $(seq 1 $CLIENTS); do
  client "$c" "$DEADLINE" "$KEY" &
  CLIENT_PIDS+=($!)
done
health_sampler &
SAMPLER_PID=$!
pager &
PAGER_PID=$!
SPOOL_PIDS+=($SAMPLER_PID $PAGER_PID) # stopped with the spoolers on every exit

sleep 3
C0=$(cert_conflicts)
sleep 10
C1=$(cert_conflicts)
is "$((C1 - C0))" 0 "no certification conflicts in 10 s of steady load with one writer"

KILL_AT=$EPOCHREALTIME
cluster_node_kill 1
diag "node 1 (the writer) killed at +$(( ${KILL_AT%.*} - START )) s"
sleep 4
stack_admin stats >/dev/null 2>"$STACK_DIR/admin-after-kill.err"
ok $? "eye-admin works while node 1 is down"
like "$(cat "$STACK_DIR/admin-after-kill.err")" "writer moved from 127.0.0.1:${CLUSTER_PORT[1]} to 127.0.0.1:${CLUSTER_PORT[2]}" \
  "eye-admin went to node 2"
sleep 8
cluster_node_start 1 || bail "node 1 did not rejoin"
diag "node 1 rejoined at +$(( ${EPOCHREALTIME%.*} - START )) s: $(grep 'Receiving IST:' "$CLUSTER_DIR/node1/mariadb.err" | tail -1 | sed 's/.*Receiving IST: *//')"
# A full copy logs the donor's dump; IST makes the donor bypass it.
grep -q 'IST received' "$CLUSTER_DIR/node1/mariadb.err" &&
  cat "$CLUSTER_DIR"/node[23]/mariadb.err | grep -q 'Bypassing state dump'
ok $? "node 1 caught up by IST (the write-sets it missed), not a full copy"
is "$(cluster_status 1 wsrep_cluster_size)" 3 "node 1 is back in the cluster"
sleep 8
WEB2_KILLED_AT=$EPOCHREALTIME
web_kill 2
diag "web node 2 killed at +$(( ${EPOCHREALTIME%.*} - START )) s"

for pid in "${CLIENT_PIDS[@]}"; do wait "$pid"; done
CLIENT_PIDS=()
diag "load ended at +$(( ${EPOCHREALTIME%.*} - START )) s"
kill -TERM "$SAMPLER_PID" "$PAGER_PID" 2>/dev/null
wait "$SAMPLER_PID" "$PAGER_PID" 2>/dev/null

# --- drain, then compare with the ledger ----------------------------------
ledger_check 1000

# The answers: 202, or 503 with Retry-After; never a hang.
cat "$STACK_DIR"/answers.* >"$STACK_DIR/answers"
awk '{print $2}' "$STACK_DIR/answers" | sort | uniq -c | sed 's/^/# answers: /'
is "$(awk '$1 == 1 && $2 != 202 && $2 != 503' "$STACK_DIR/answers" | wc -l)" 0 \
  "web node 1 answered every request 202 or 503"
is "$(awk '$2 == 503 && $4 != 1' "$STACK_DIR/answers" | wc -l)" 0 "every 503 carries Retry-After"
is "$(awk -v b=$ANSWER_BOUND '$3 > b' "$STACK_DIR/answers" | wc -l)" 0 \
  "no answer took longer than $ANSWER_BOUND s"
is "$(awk -v k="$WEB2_KILLED_AT" '$1 == 2 && $2 != 202 && $2 != 503 && $5 < k' "$STACK_DIR/answers" | wc -l)" 0 \
  "web node 2 answered 202 or 503 until it was killed"
diag "slowest answer: $(sort -k3 -n "$STACK_DIR/answers" | tail -1 | awk '{print $3}') s"

# Time without a writer: the longest gap between two 202s, around the kill.
GAP=$(awk '$2 == 202 {print $5}' "$STACK_DIR/answers" | sort -n |
  awk 'NR > 1 && $1 - p > g {g = $1 - p} {p = $1} END {printf "%.2f", g}')
diag "longest time without a 202 (the writerless window): $GAP s"
ok $(awk -v g="$GAP" -v b=$WRITERLESS_BOUND 'BEGIN {exit !(g < b)}' && echo 0 || echo 1) \
  "the longest time without a 202 ($GAP s) is below $WRITERLESS_BOUND s"

# Every program moved to node 2 and back to node 1.
like "$(cat "$STACK_DIR"/spool*.log)" "writer moved from 127.0.0.1:${CLUSTER_PORT[1]} to 127.0.0.1:${CLUSTER_PORT[2]}" \
  "the spoolers moved to node 2 when node 1 died"
like "$(cat "$STACK_DIR"/spool*.log)" "writer moved from 127.0.0.1:${CLUSTER_PORT[2]} to 127.0.0.1:${CLUSTER_PORT[1]}" \
  "the spoolers moved back to node 1 once it was synced"
like "$(cat "$STACK_DIR"/web1/lighttpd.out)" "writer moved from 127.0.0.1:${CLUSTER_PORT[1]} to 127.0.0.1:${CLUSTER_PORT[2]}" \
  "eye.fcgi moved to node 2 when node 1 died"
diag "certification conflicts over the whole run (live nodes): $(cert_conflicts)"

# The read side during all this: node 3's pages, and the lag.
awk '{print $2}' "$STACK_DIR/pages" | sort | uniq -c | sed 's/^/# read API pages: /'
is "$(awk '$2 != 200 && $2 != 503' "$STACK_DIR/pages" | wc -l)" 0 "every page of the read API was 200 (or 503)"
ok $([ "$(awk '$2 == 200' "$STACK_DIR/pages" | wc -l)" -ge 20 ] && echo 0 || echo 1) \
  "the read API served pages from the standby throughout ($(awk '$2 == 200' "$STACK_DIR/pages" | wc -l))"
is "$(awk '$2 == 200 && $6 != 1' "$STACK_DIR/pages" | wc -l)" 0 "every page is in id order, without repeats"
is "$(awk '{print $1, $2}' "$STACK_DIR/paged" | sort | uniq -d | wc -l)" 0 \
  "no event appears twice in one pass over the pages, across the failover"
MAXLAG=$(awk '$3 != "null" && $3 > m {m = $3} END {printf "%.3f", m + 0}' "$STACK_DIR/health")
diag "replication lag of node 3 by /v1/health: max $MAXLAG s over $(wc -l <"$STACK_DIR/health") samples"
ok $(awk -v m="$MAXLAG" 'BEGIN {exit !(m < 5)}' && echo 0 || echo 1) "the standby's lag stayed below 5 s ($MAXLAG s)"
like "$(awk '{print $2}' "$STACK_DIR/health" | sort -u | tr '\n' ' ')" "127.0.0.1:${CLUSTER_PORT[2]}" \
  "/v1/health named node 2 as the writer while node 1 was down"

# A last full pass on the standby, once it has everything: all of it.
for _ in $(seq 1 50); do
  [ "$(cluster_sql 3 -N -B eye -e 'SELECT COUNT(*) FROM events')" = "$(wc -l <"$STACK_DIR/ledger.valid")" ] && break
  sleep 0.1
done
after=; n=0
while :; do
  body=$(curl -s -m 20 -H "Authorization: Bearer $READ_KEY" \
    "http://127.0.0.1:${WEB_PORT[1]}/v1/events?category=page%20interaction&limit=1000${after:+&after=$after}")
  n=$((n + $(printf '%s' "$body" | jq '.events | length')))
  after=$(printf '%s' "$body" | jq -r '.next // empty')
  [ -n "$after" ] || break
done
is "$n" "$(wc -l <"$STACK_DIR/ledger.valid")" "a full pass over the standby's pages returns every acknowledged valid event"

# Stop the programs under test, so that sanitizer builds write their
# reports (web node 2's processes were killed and write none).
for pid in "${SPOOL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
for pid in "${SPOOL_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
SPOOL_PIDS=()
web_stop 1
sleep 0.2
reports=$(ls "$STACK_DIR"/sanitizer.* 2>/dev/null)
is "$reports" "" "no sanitizer reports from eye.fcgi, eye-spool or eye-admin"
[ -n "$reports" ] && head -50 $reports | sed 's/^/# /'
done_testing
