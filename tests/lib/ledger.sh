# ledger.sh - steady load with a client-side ledger, and the checks that
# hold after any fault (sourced after tests/lib/harness.sh; used by
# tests/integration/faults.sh and bench/soak.sh).
#
# load_start NAME [loadgen.py options]   starts tests/lib/loadgen.py in the
#                                        background against $BASE with $KEY
# load_stop                              asks it to stop, waits; asserts that
#                                        every batch was answered
# ledger_check LABEL                     after a drain: every acknowledged
#                                        event stored exactly once, session
#                                        counters exact, nothing stuck in the
#                                        queue or quarantined, every process
#                                        healthy
#
# The ledger of every load run is kept in $STACK_DIR/ledger.tsv, so each
# check covers everything acknowledged since the test began. It is loaded
# into a database of its own (ledger_check), not into `eye`, whose folder a
# test may fill up.
#
# Variables read: BASE, KEY, STACK_*, SPOOL_PIDS (eye-spool processes that
# must be alive, may be empty), LEDGER_FCGI_PROCS (eye.fcgi processes
# lighttpd should have, default STACK_FCGI_PROCS or 2).

LOADGEN="$EYE_SRCDIR/tests/lib/loadgen.py"
# Debian's interpreter (scripts/debian-packages.txt: python3), whatever else
# may come first on PATH.
LEDGER_PYTHON=$(command -v /usr/bin/python3 || command -v python3)
LOAD_PID=
LOAD_DIR=
SPOOL_PIDS=${SPOOL_PIDS:-}

load_start() {
  local name=$1; shift
  LOAD_DIR=$STACK_DIR/load-$name
  mkdir -p "$LOAD_DIR"
  rm -f "$LOAD_DIR/stop"
  "$LEDGER_PYTHON" "$LOADGEN" --url "$BASE" --key "$KEY" --out "$LOAD_DIR" --stop "$LOAD_DIR/stop" \
    --prefix "$name" "$@" >"$LOAD_DIR/summary" 2>"$LOAD_DIR/stderr" &
  LOAD_PID=$!
}

# load_val KEY: a value of the last run's summary (0 when absent).
load_val() { local v; v=$(sed -n "s/^$1=//p" "$LOAD_DIR/summary" | tail -1); echo "${v:-0}"; }

# load_stop: stops the load (each sender finishes its batch in hand,
# retrying), waits at most 150 s, appends its ledger to the test's.
load_stop() {
  local i rc
  touch "$LOAD_DIR/stop"
  for i in $(seq 1 1500); do
    kill -0 "$LOAD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$LOAD_PID" 2>/dev/null; then
    kill -KILL "$LOAD_PID"
    ok 1 "the load generator stopped within 150 s"
  fi
  wait "$LOAD_PID"; rc=$?
  LOAD_PID=
  cat "$LOAD_DIR/ledger.tsv" >>"$STACK_DIR/ledger.tsv" 2>/dev/null
  is "$rc|$(load_val problems)" "0|0" "$(basename "$LOAD_DIR"): every answer was one a batch can get"
  [ "$rc" = 0 ] || head -5 "$LOAD_DIR/stderr" | sed 's/^/#   /'
  is "$(load_val given_up)" 0 "$(basename "$LOAD_DIR"): every batch was answered in the end ($(load_val acked) events acknowledged, $(load_val retries) retries)"
}

# is_todo REASON GOT EXPECTED DESCRIPTION: `is`, but when REASON is not
# empty the test carries TAP's TODO directive: a known bug, reported and
# not yet fixed. automake counts a failing TODO as XFAIL (not a pass) and a
# passing one as XPASS (a failure of the suite): once the bug is fixed the
# directive must go.
is_todo() {
  local reason=$1 got=$2 want=$3; shift 3
  if [ -z "$reason" ]; then
    is "$got" "$want" "$@"
    return
  fi
  TAP_N=$((TAP_N + 1))
  if [ "$got" = "$want" ]; then
    echo "ok $TAP_N - $* # TODO $reason"
  else
    echo "not ok $TAP_N - $* # TODO $reason"
    echo "#   got:      '$got'"
    echo "#   expected: '$want'"
  fi
}

# ledger_kill: for cleanup traps.
ledger_kill() {
  [ -n "$LOAD_PID" ] && kill -KILL "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
  LOAD_PID=
}

# ledger_sql QUERY: as root, in the ledger's own database.
ledger_sql() { stack_sql -N -B --local-infile=1 ledger_check -e "$1"; }

ledger_load() {
  stack_sql -e "CREATE DATABASE IF NOT EXISTS ledger_check" || return 1
  ledger_sql "CREATE TABLE IF NOT EXISTS ledger (event_id UUID NOT NULL, verdict CHAR(1) NOT NULL,
                session_key VARCHAR(255) NOT NULL, code VARCHAR(48) NOT NULL, path VARCHAR(255) NOT NULL,
                KEY (event_id), KEY (session_key)) ENGINE=InnoDB;
              TRUNCATE ledger;
              LOAD DATA LOCAL INFILE '$STACK_DIR/ledger.tsv' INTO TABLE ledger
                (event_id, verdict, session_key, code, path);" || return 1
}

# fcgi_pids: the eye.fcgi processes lighttpd runs now, one per line.
fcgi_pids() { [ -n "${STACK_HTTP_PID:-}" ] && pgrep -P "$STACK_HTTP_PID" | sort -n; }

# wait_fcgi_procs N TIMEOUT_S: until lighttpd runs N eye.fcgi processes.
wait_fcgi_procs() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    [ "$(fcgi_pids | wc -l)" -eq "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# threads_in_socket_wait PID: threads of PID blocked in a socket read or
# poll in three samples 0.3 s apart (an idle eye.fcgi has none: its
# workers wait in accept or on a lock, its committer and queue watcher on
# condition variables). Prints their count.
threads_in_socket_wait() {
  local pid=$1 n sample t nr
  declare -A seen=()
  for sample in 1 2 3; do
    for t in /proc/"$pid"/task/*; do
      nr=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)
      # x86_64: read 0, poll 7, select 23, recvfrom 45, recvmsg 47,
      # pselect6 270, ppoll 271.
      case $nr in
        0|7|23|45|47|270|271) seen[${t##*/}]=$(( ${seen[${t##*/}]:-0} + 1 )) ;;
      esac
    done
    sleep 0.3
  done
  n=0
  for t in "${!seen[@]}"; do [ "${seen[$t]}" -eq 3 ] && n=$((n + 1)); done
  echo "$n"
}

# health_check LABEL: every process is there and answers.
health_check() {
  local label=$1 procs=${LEDGER_FCGI_PROCS:-${STACK_FCGI_PROCS:-2}} p codes stuck=0
  stack_sql -e "SELECT 1" >/dev/null 2>&1; ok $? "$label: MariaDB answers"
  kill -0 "$STACK_HTTP_PID" 2>/dev/null; ok $? "$label: lighttpd runs"
  wait_fcgi_procs "$procs" 10; ok $? "$label: lighttpd runs $procs eye.fcgi processes ($(fcgi_pids | tr '\n' ' '))"
  for p in $SPOOL_PIDS; do
    kill -0 "$p" 2>/dev/null; ok $? "$label: eye-spool $p runs"
  done
  # More health requests at once than the processes have worker threads,
  # so every worker of every process answers one.
  local args=() i
  for i in $(seq 1 40); do args+=(-o /dev/null "$BASE/v1/health"); done
  codes=$(curl -s -m 20 --parallel --parallel-max 40 -w '%{http_code}\n' "${args[@]}" 2>/dev/null |
    sort | uniq -c | tr -s ' ' | tr '\n' ';')
  is "$codes" " 40 200;" "$label: 40 health requests at once all answer 200"
  post_events "$KEY" '[]'
  is "$HTTP_STATUS" 400 "$label: eye.fcgi answers a write (empty batch: 400)"
  for p in $(fcgi_pids); do
    stuck=$((stuck + $(threads_in_socket_wait "$p")))
  done
  is "$stuck" 0 "$label: no eye.fcgi thread stays blocked on a database socket"
}

# ledger_check LABEL: the invariants, after the spool drained the queue.
ledger_check() {
  local label=$1
  wait_drained 180; ok $? "$label: the spool drains the queue"
  ledger_load; ok $? "$label: the client's ledger loads"
  local ev="eye.events" er="eye.event_errors" eq="eye.event_quarantine"
  is "$(ledger_sql "SELECT COUNT(*) - COUNT(DISTINCT event_id), SUM(verdict = 'G') FROM ledger" | tr '\t' ' ')" "0 0" \
    "$label: the client acknowledged each event once, and gave none up"
  is "$(ledger_sql "SELECT COUNT(*) FROM $eq")" 0 "$label: nothing quarantined"
  # NOT IN (a materialised, hashed subquery): events has no index on
  # event_id alone, and a join from the ledger would scan it per row.
  is "$(ledger_sql "SELECT COUNT(*) FROM ledger l WHERE l.verdict = 'A'
                    AND l.event_id NOT IN (SELECT event_id FROM $ev WHERE event_id IS NOT NULL)")" 0 \
    "$label: every event acknowledged as accepted is in events ($(ledger_sql "SELECT COUNT(*) FROM ledger WHERE verdict = 'A'"))"
  is "$(ledger_sql "SELECT COUNT(*) FROM $ev e LEFT JOIN ledger l ON l.event_id = e.event_id
                    WHERE l.verdict IS NULL OR l.verdict <> 'A'")" 0 \
    "$label: events holds nothing else (no rejected event, nothing unknown)"
  is "$(ledger_sql "SELECT COUNT(*) FROM ledger l JOIN $ev e ON e.event_id = l.event_id
                    JOIN eye.sessions s ON s.id = e.session_id
                    WHERE s.session_key <> l.session_key OR JSON_VALUE(e.data, '\$.path') <> l.path")" 0 \
    "$label: each stored event has the session and data it was sent with"
  is "$(ledger_sql "SELECT COUNT(*) FROM ledger l WHERE l.verdict = 'R'
                    AND NOT EXISTS (SELECT 1 FROM $er x WHERE x.event_id = l.event_id AND x.code = l.code)")" 0 \
    "$label: every event acknowledged as rejected is in event_errors, with its code ($(ledger_sql "SELECT COUNT(*) FROM ledger WHERE verdict = 'R'"))"
  is "$(ledger_sql "SELECT COUNT(*) FROM $er x LEFT JOIN ledger l ON l.event_id = x.event_id AND l.verdict = 'R'
                    WHERE x.event_id IS NOT NULL AND (l.event_id IS NULL OR x.code <> l.code)")" 0 \
    "$label: event_errors holds no other event"
  # A rejected event whose 202 was lost (the process died after its
  # COMMIT) and that was sent again is still recorded once.
  is "$(ledger_sql "SELECT COUNT(*) - COUNT(DISTINCT x.event_id) FROM $er x JOIN ledger l ON l.event_id = x.event_id")" 0 \
    "$label: no rejected event is recorded twice in event_errors"
  is "$(ledger_sql "SELECT COUNT(*) FROM eye.sessions s LEFT JOIN (SELECT session_id, COUNT(*) n,
                      MIN(occurred_at) f, MAX(occurred_at) l FROM $ev GROUP BY session_id) x ON x.session_id = s.id
                    WHERE s.event_count <> COALESCE(x.n, 0) OR s.first_seen_at <> x.f OR s.last_seen_at <> x.l")" 0 \
    "$label: sessions.event_count, first and last seen equal their events"
  is "$(ledger_sql "SELECT COUNT(*) FROM (SELECT l.session_key, COUNT(*) n FROM ledger l
                      WHERE l.verdict = 'A' GROUP BY l.session_key) l
                    LEFT JOIN eye.sessions s ON s.session_key = l.session_key
                    WHERE COALESCE(s.event_count, 0) <> l.n")" 0 \
    "$label: each session counts exactly the events the client was told were accepted"
  health_check "$label"
}
