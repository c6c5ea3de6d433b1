#!/bin/bash
# cluster_freeze.sh - the writer stops answering without dying, as a hung
# machine or a network that drops every packet does (SIGSTOP: connections
# stay open, nothing comes back, no reset): requests in flight wait at most
# database.read_timeout, new connections at most connect_timeout, then the
# programs move to node 2; nothing acknowledged is lost, nothing hangs.
#
# Three Galera nodes, one web node, one spooler, three ledger clients
# (tests/lib/cluster_fixture.sh) for LOAD_SECONDS; node 1 is frozen after
# 8 s and thawed 12 s later (Galera has evicted it by then; it rejoins by
# itself). The bounds: every answer within ANSWER_BOUND seconds, and no
# more than WRITERLESS_BOUND seconds without a 202.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/scripts/cluster.sh"

LOAD_SECONDS=${EYE_CLUSTER_LOAD_SECONDS:-30}
CLIENTS=3
ANSWER_BOUND=12     # read_timeout 5 s + connect_timeout 2 s, and margin
WRITERLESS_BOUND=15 # the above, after Galera's ~3 s to evict the node

. "$EYE_SRCDIR/tests/lib/cluster_fixture.sh"
WEB_NODES=1

cluster_start || bail "the Galera cluster did not start"
cluster_write_config "$STACK_DIR/eye.yaml"
sed -i 's/^  name: eye$/  name: eye\n  failback_seconds: 5/' "$STACK_CONFIG"
cluster_schema || bail "schema set-up on the cluster failed"
KEY=$(new_app ledger)
[ -n "$KEY" ] || bail "no application key"
web_start 1 || bail "web node 1 did not start"
spool_start 1

START=${EPOCHREALTIME%.*}
DEADLINE=$((START + LOAD_SECONDS))
for c in $(seq 1 $CLIENTS); do
  client "$c" "$DEADLINE" "$KEY" &
  CLIENT_PIDS+=($!)
done
sleep 8
kill -STOP "${CLUSTER_PID[1]}"
FROZEN_AT=$EPOCHREALTIME
diag "node 1 (the writer) frozen at +$(( ${FROZEN_AT%.*} - START )) s"
sleep 12
kill -CONT "${CLUSTER_PID[1]}"
diag "node 1 thawed at +$(( ${EPOCHREALTIME%.*} - START )) s"
for pid in "${CLIENT_PIDS[@]}"; do wait "$pid"; done
CLIENT_PIDS=()

cluster_wait_synced 1 120
ok $? "node 1 rejoined the cluster by itself after the thaw"
ledger_check 300

cat "$STACK_DIR"/answers.* >"$STACK_DIR/answers"
awk '{print $2}' "$STACK_DIR/answers" | sort | uniq -c | sed 's/^/# answers: /'
is "$(awk '$2 != 202 && $2 != 503' "$STACK_DIR/answers" | wc -l)" 0 "every request was answered 202 or 503"
is "$(awk '$2 == 503 && $4 != 1' "$STACK_DIR/answers" | wc -l)" 0 "every 503 carries Retry-After"
is "$(awk -v b=$ANSWER_BOUND '$3 > b' "$STACK_DIR/answers" | wc -l)" 0 \
  "no answer took longer than $ANSWER_BOUND s while the writer was frozen"
diag "slowest answer: $(sort -k3 -n "$STACK_DIR/answers" | tail -1 | awk '{print $3}') s"
GAP=$(awk '$2 == 202 {print $5}' "$STACK_DIR/answers" | sort -n |
  awk 'NR > 1 && $1 - p > g {g = $1 - p} {p = $1} END {printf "%.2f", g}')
diag "longest time without a 202: $GAP s"
ok $(awk -v g="$GAP" -v b=$WRITERLESS_BOUND 'BEGIN {exit !(g < b)}' && echo 0 || echo 1) \
  "the longest time without a 202 ($GAP s) is below $WRITERLESS_BOUND s"
like "$(cat "$STACK_DIR"/spool*.log "$STACK_DIR"/web1/lighttpd.out)" \
  "writer moved from 127.0.0.1:${CLUSTER_PORT[1]} to 127.0.0.1:${CLUSTER_PORT[2]}" \
  "the programs moved to node 2 while node 1 was frozen"

for pid in "${SPOOL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
for pid in "${SPOOL_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
SPOOL_PIDS=()
web_stop 1
sleep 0.2
reports=$(ls "$STACK_DIR"/sanitizer.* 2>/dev/null)
is "$reports" "" "no sanitizer reports from eye.fcgi, eye-spool or eye-admin"
[ -n "$reports" ] && head -50 $reports | sed 's/^/# /'
done_testing
