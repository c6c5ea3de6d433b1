# cluster_fixture.sh - the servers and the client of the cluster tests
# (sourced after tests/lib/harness.sh and scripts/cluster.sh).
#
# Web nodes (lighttpd + eye.fcgi, one shared configuration) in
# $STACK_DIR/webI, spoolers, queries on whichever node is alive, Galera's
# conflict counters, and the ledger client: it sends 10-event batches (9
# valid events, 1 invalid) across WEB_NODES web nodes, sends a batch again,
# same event ids, to the next node until it is answered 202, and writes
# down every id answered 202. ledger_check then holds the database to the
# ledger. Everything started here is stopped on every exit.
CLUSTER_DIR=$STACK_DIR/cluster
# Run as root, the nodes run as mysql (scripts/cluster.sh), which must be
# able to reach their folders: traversal only, no listing.
chmod 711 "$STACK_DIR"
WEB_PID=()
WEB_PORT=()
SPOOL_PIDS=()
CLIENT_PIDS=()

cluster_test_cleanup() {
  local rc=$? pid
  for pid in "${CLIENT_PIDS[@]}" "${SPOOL_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${CLIENT_PIDS[@]}" "${SPOOL_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  for i in "${!WEB_PID[@]}"; do web_stop "$i"; done
  cluster_stop
  if [ "${EYE_TEST_KEEP:-0}" = 1 ] || [ $rc -ne 0 ] || [ "$TAP_FAILED" -gt 0 ]; then
    echo "# state kept in $STACK_DIR"
  else
    rm -rf "$STACK_DIR"
  fi
}
trap cluster_test_cleanup EXIT

# web_start I: lighttpd + eye.fcgi in $STACK_DIR/webI on a free port.
web_start() {
  local i=$1 top=$STACK_DIR rc=0
  STACK_DIR=$top/web$i
  STACK_HTTP_PORT=
  mkdir -p "$STACK_DIR"
  stack_lighttpd_start || rc=1
  WEB_PID[$i]=$STACK_HTTP_PID
  WEB_PORT[$i]=$STACK_HTTP_PORT
  STACK_DIR=$top
  STACK_HTTP_PID=
  return $rc
}

# web_kill I: kill -9 of the web node: its eye.fcgi processes, then lighttpd.
web_kill() {
  local pid=${WEB_PID[$1]:-} child
  [ -n "$pid" ] || return 0
  for child in $(pgrep -P "$pid"); do kill -KILL "$child" 2>/dev/null; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  WEB_PID[$1]=
}
web_stop() {
  local pid=${WEB_PID[$1]:-}
  [ -n "$pid" ] || return 0
  stack_stop_pid "$pid" 10
  wait "$pid" 2>/dev/null
  WEB_PID[$1]=
}

spool_start() {
  "$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >>"$STACK_DIR/spool$1.log" 2>&1 &
  SPOOL_PIDS+=($!)
}

# csql QUERY: a query on node I (default: the first live one), tab-separated.
csql() {
  local i
  for i in 1 2 3; do
    [ -n "${CLUSTER_PID[$i]:-}" ] || continue
    cluster_sql "$i" -N -B eye -e "$1" && return 0
  done
  return 1
}

# cert_conflicts: wsrep_local_cert_failures + wsrep_local_bf_aborts, summed
# over the live nodes.
cert_conflicts() {
  local i sum=0 v
  for i in 1 2 3; do
    [ -n "${CLUSTER_PID[$i]:-}" ] || continue
    for v in wsrep_local_cert_failures wsrep_local_bf_aborts; do
      sum=$((sum + $(cluster_status "$i" "$v")))
    done
  done
  echo "$sum"
}

# client ID DEADLINE KEY: sends batches until DEADLINE (epoch seconds),
# ledger lines "event_id session valid|invalid" in ledger.ID, one line per
# answer "web status seconds retry_after_seen epoch" in answers.ID.
client() {
  local id=$1 deadline=$2 key=$3 n=0 web status t ra body tries hdr
  hdr=$STACK_DIR/hdr.$id
  trap 'exit 0' TERM
  while [ "${EPOCHREALTIME%.*}" -lt "$deadline" ]; do
    local session="c$id-s$((n / 5))" ids=() events=() j u
    for j in 0 1 2 3 4 5 6 7 8 9; do
      u=$(cat /proc/sys/kernel/random/uuid)
      ids+=("$u")
      if [ "$j" = 9 ]; then
        events+=("{\"event_id\":\"$u\",\"session_id\":\"$session\",\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"www.example.com\"},\"timestamp\":\"2021-01-01 09:15:27.243860\"}")
      else
        events+=("{\"event_id\":\"$u\",\"session_id\":\"$session\",\"category\":\"page interaction\",\"name\":\"pageview\",\"data\":{\"host\":\"www.example.com\",\"path\":\"/$n/$j\"},\"timestamp\":\"2021-01-01 09:15:27.243860\"}")
      fi
    done
    body=$(IFS=,; echo "[${events[*]}]")
    tries=0
    while :; do
      web=$(( (id + n + tries) % WEB_NODES + 1 ))
      out=$(curl -s -m 20 -o /dev/null -D "$hdr" -w '%{http_code} %{time_total}' \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        --data-binary "$body" "http://127.0.0.1:${WEB_PORT[$web]}/v1/events")
      status=${out% *}
      t=${out#* }
      ra=0
      grep -qi '^Retry-After: [0-9]' "$hdr" 2>/dev/null && ra=1
      echo "$web $status $t $ra $EPOCHREALTIME" >>"$STACK_DIR/answers.$id"
      if [ "$status" = 202 ]; then
        for j in 0 1 2 3 4 5 6 7 8; do echo "${ids[$j]} $session valid"; done >>"$STACK_DIR/ledger.$id"
        echo "${ids[9]} $session invalid" >>"$STACK_DIR/ledger.$id"
        break
      fi
      tries=$((tries + 1))
      sleep 0.2
    done
    n=$((n + 1))
    sleep 0.1
  done
}

# ledger_check MIN: once the queue is drained, what is stored is exactly
# what the ledger says was acknowledged (at least MIN events), each once.
ledger_check() {
  local drained=1
  for _ in $(seq 1 600); do
    [ "$(csql 'SELECT COUNT(*) FROM event_queue')" = 0 ] && { drained=0; break; }
    sleep 0.1
  done
  ok $drained "the spoolers drained the queue"

  cat "$STACK_DIR"/ledger.* >"$STACK_DIR/ledger"
  ACKED=$(wc -l <"$STACK_DIR/ledger")
  awk '$3 == "valid" {print $1}' "$STACK_DIR/ledger" | sort >"$STACK_DIR/ledger.valid"
  awk '$3 == "invalid" {print $1}' "$STACK_DIR/ledger" | sort >"$STACK_DIR/ledger.invalid"
  diag "$ACKED events acknowledged by $(cat "$STACK_DIR"/answers.* | wc -l) answers"
  ok $([ "$ACKED" -ge "$1" ] && echo 0 || echo 1) "the clients got at least $1 events acknowledged ($ACKED)"
  is "$(sort -u "$STACK_DIR/ledger" | wc -l)" "$ACKED" "the ledger holds each event id once"

  csql "SELECT event_id FROM events" | sort >"$STACK_DIR/stored.valid"
  csql "SELECT event_id FROM event_errors" | sort >"$STACK_DIR/stored.invalid"
  is "$(comm -3 "$STACK_DIR/ledger.valid" "$STACK_DIR/stored.valid" | wc -l)" 0 \
    "events holds exactly the acknowledged valid events"
  is "$(uniq -d "$STACK_DIR/stored.valid" | wc -l)" 0 "no event is stored twice"
  is "$(comm -3 "$STACK_DIR/ledger.invalid" <(sort -u "$STACK_DIR/stored.invalid") | wc -l)" 0 \
    "event_errors holds exactly the acknowledged invalid events"
  is "$(uniq -d "$STACK_DIR/stored.invalid" | wc -l)" 0 "no error is stored twice"
  is "$(csql 'SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM event_errors)')" "$ACKED" \
    "events + event_errors = acknowledged"
  is "$(awk '$3 == "valid" {n[$2]++} END {for (s in n) print s, n[s]}' "$STACK_DIR/ledger" | sort)" \
    "$(csql 'SELECT session_key, event_count FROM sessions' | tr '\t' ' ' | sort)" \
    "every session's counter is its acknowledged valid events"
  is "$(csql 'SELECT COUNT(*) FROM sessions s WHERE event_count <> (SELECT COUNT(*) FROM events e WHERE e.session_id = s.id)')" 0 \
    "every session's counter equals its stored events"
}
