#!/bin/bash
# run.sh - The Eye's benchmark (issue 7): one command, one table.
#
#   bench/run.sh            the full run (about 13 minutes with the defaults)
#   bench/run.sh quick      short durations, one run each (about 4 minutes)
#   bench/run.sh sweep      single-event and 100-event scenarios for every
#                           STACK_FCGI_PROCS x EYE_INGEST_THREADS combination
#
# Starts the stack exactly as the integration tests do (scripts/stack.sh: a
# private MariaDB in a temporary folder, the schema and accounts, lighttpd
# from the top-level lighttpd.conf), measures the baselines and the
# scenarios, prints one table and writes it as JSON to $BENCH_OUT. Every
# ingest run ends with the accounting check (events acknowledged in 202/422
# answers = rows committed); a lost event makes the run fail (exit 1).
# Everything started here is stopped on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   EYE_BUILDDIR [<src>/build]  build tree; configured (-O2) and built if needed
#   DURATION [20]      seconds per ingest scenario run and per baseline run
#   RUNS [3]           runs per scenario; the table shows the median
#   CONNECTIONS [64]   wrk connections;  WRK_THREADS [2]  wrk threads
#   SCENARIOS ["single brief3 batch100 mixed"]
#   PHASES ["validate baseline ingest spool e2e"]
#   STACK_FCGI_PROCS [2]  eye.fcgi processes;  EYE_INGEST_THREADS [8]  threads each
#   QUEUE_ROWS [1000000]  pre-filled queue for the spool drain
#   SPOOLERS ["1 2 4"]    eye-spool process counts;  SPOOL_RUNS [1]
#   EYE_SPOOL_BATCH_SIZE [config default 4000]
#   FLUSH_DIRTY_LEFT [16]  dirty pages left when the flush after a drain is done
#   E2E_DURATION [60]  seconds of each end-to-end run;  E2E_SPOOLERS [2]
#   E2E_RATE           offered events/s of the paced run [a quarter of the 100-row insert rate]
#   E2E_BODY [batch100]  request shape of the end-to-end runs
#   E2E_STEPS ["25 30 35 40 45 50"]  % of the 100-row insert rate, paced in turn
#                      until one is not kept up with (the sustained figure)
#   PERF [0]           1: perf record -a -g during the first single and batch100 run
#   SWEEP_PROCS ["1 2 4"], SWEEP_THREADS ["4 8 16"]  (sweep mode)
#   BENCH_OUT [/tmp/eye-bench.json]   BENCH_KEEP [0]: 1 keeps the temp folder
set -u -o pipefail

MODE=${1:-full}
case $MODE in
  full) ;;
  quick)
    : "${DURATION:=5}" "${RUNS:=1}" "${QUEUE_ROWS:=100000}" "${E2E_DURATION:=10}"
    : "${SPOOLERS:=1 4}"
    ;;
  sweep)
    : "${DURATION:=10}"
    ;;
  -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: bench/run.sh [full|quick|sweep]" >&2; exit 2 ;;
esac

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${EYE_BUILDDIR:-$SRCDIR/build}
: "${DURATION:=20}" "${RUNS:=3}" "${CONNECTIONS:=64}" "${WRK_THREADS:=2}"
: "${SCENARIOS:=single brief3 batch100 mixed}"
: "${PHASES:=validate baseline ingest spool e2e}"
: "${QUEUE_ROWS:=1000000}" "${SPOOLERS:=1 2 4}" "${SPOOL_RUNS:=1}"
: "${E2E_DURATION:=60}" "${E2E_SPOOLERS:=2}" "${E2E_RATE:=}" "${E2E_BODY:=batch100}"
: "${E2E_STEPS:=25 30 35 40 45 50}"
: "${PERF:=0}" "${SWEEP_PROCS:=1 2 4}" "${SWEEP_THREADS:=4 8 16}"
: "${BENCH_OUT:=/tmp/eye-bench.json}" "${BENCH_KEEP:=0}"
: "${STACK_FCGI_PROCS:=2}" "${EYE_INGEST_THREADS:=8}"
export EYE_INGEST_THREADS
# Ingest is measured alone and the queue is emptied between runs, so
# back-pressure never answers 503 here.
export EYE_INGEST_QUEUE_MAX_ROWS=0

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "bench: $*"; exit 1; }
# loss may run in a subshell ($(...)): the verdict is a file.
loss() {
  : >"$STACK_DIR/events-lost"
  {
    echo "################################################################"
    echo "## EVENTS LOST: $*"
    echo "################################################################"
  } >&2
}

for tool in wrk jq curl lighttpd mariadb; do
  command -v $tool >/dev/null || die "$tool is missing (apt-get install -y $tool)"
done

# --- build ----------------------------------------------------------------
if [ ! -f "$BUILDDIR/Makefile" ]; then
  say "configuring $BUILDDIR"
  [ -x "$SRCDIR/configure" ] || (cd "$SRCDIR" && ./autogen.sh) || die "autogen failed"
  mkdir -p "$BUILDDIR" && (cd "$BUILDDIR" && "$SRCDIR/configure" -q) || die "configure failed"
fi
make -s -C "$BUILDDIR" -j"$(nproc)" bench >"${TMPDIR:-/tmp}/eye-bench-make.log" 2>&1 ||
  { tail -30 "${TMPDIR:-/tmp}/eye-bench-make.log" >&2; die "make bench failed"; }

. "$SRCDIR/scripts/stack.sh"
STACK_SRCDIR=$SRCDIR
STACK_BUILDDIR=$BUILDDIR
STACK_TEMPLATE=$BUILDDIR/tests/mariadb-template
mkdir -p "$BUILDDIR/tests"
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench.XXXXXX")
STACK_DB_PORT= STACK_HTTP_PORT= STACK_DB_PID= STACK_HTTP_PID=
: "${STACK_LOG_LEVEL:=warn}"
SPOOL_PIDS=()
PERF_PID=

cleanup() {
  local rc=$?
  [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null
  for p in "${SPOOL_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${SPOOL_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  stop_http
  stack_mariadb_stop
  if [ "$BENCH_KEEP" = 1 ] || [ $rc -ne 0 ]; then
    say "state kept in $STACK_DIR"
  else
    rm -rf "$STACK_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { stack_sql -N -B eye -e "$1"; }
SPOOL=$BUILDDIR/spool/eye-spool
RESULTS=$STACK_DIR/results.tsv   # scenario metric value unit ratio target
: >"$RESULTS"

# row SCENARIO METRIC VALUE UNIT [RATIO] [TARGET]
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" >>"$RESULTS"; }
# ratio A B: A/B as a percentage with one decimal ("" when B is 0 or empty).
# With a third argument LABEL: "12.3% LABEL" (nothing when B is missing).
ratio() { awk -v a="$1" -v b="$2" -v l="${3:-}" 'BEGIN { if (b + 0 > 0) printf "%.1f%%%s", 100 * a / b, (l != "" ? " " l : "") }'; }
# median FILE FIELD: median of .FIELD over the JSON lines of FILE.
median() { jq -s "map(.$2) | sort | .[length / 2 | floor]" "$1"; }
now_s() { date +%s.%N; }

# --- the stack ---------------------------------------------------------------
start_db() {
  say "starting MariaDB in $STACK_DIR"
  stack_mariadb_start || die "MariaDB did not start"
  stack_write_config "$STACK_DIR/eye.yaml"
  stack_schema || die "schema set-up failed"
  # The spool fill's events are of 2025: months of their own (migration 009
  # starts the partitions at the current month).
  stack_admin partitions --ensure --from 2025-01 >/dev/null || die "cannot create the 2025 partitions"
  KEY=$(stack_admin app create bench 2>/dev/null) || die "cannot create the bench application"
  APP_ID=$(sql "SELECT id FROM applications WHERE name = 'bench'")
  say "MariaDB $(sql 'SELECT VERSION()'), innodb_flush_log_at_trx_commit=$(sql 'SELECT @@innodb_flush_log_at_trx_commit')"
}

fcgi_pids() { [ -n "${STACK_HTTP_PID:-}" ] && ps -o pid= --ppid "$STACK_HTTP_PID" | tr -d ' '; }

# stop_http: stops lighttpd, then any FastCGI child it left behind (it
# signals them, but a child blocking SIGTERM would outlive it).
stop_http() {
  local pids p
  pids=$(fcgi_pids)
  stack_lighttpd_stop
  sleep 0.2
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  return 0
}

# start_http BIN: (re)starts lighttpd spawning BIN.
start_http() {
  stop_http
  STACK_FCGI_BIN=$1 stack_lighttpd_start || die "lighttpd did not start ($1)"
  BASE="http://127.0.0.1:$STACK_HTTP_PORT"
}


# Empties the queue (the spool is not running while ingest is measured).
clear_queue() {
  sql "SET SESSION lock_wait_timeout = 30; TRUNCATE TABLE event_queue" ||
    sql "DELETE FROM event_queue" || die "cannot empty the queue"
}

# Empties the tables the spool fills, so each spool run starts alike.
clear_stored() {
  sql "SET SESSION lock_wait_timeout = 30; SET foreign_key_checks = 0;
       TRUNCATE TABLE events; TRUNCATE TABLE event_ids; TRUNCATE TABLE event_errors; TRUNCATE TABLE sessions;
       TRUNCATE TABLE event_queue; UPDATE spool_counters SET value = 0" || die "cannot empty the tables"
}

# Rows that count for the accounting: stored, rejected, still queued, and
# duplicates the spool skipped.
committed_rows() {
  sql "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM event_errors)
            + (SELECT COUNT(*) FROM event_queue)
            + (SELECT COALESCE(SUM(value), 0) FROM spool_counters WHERE name = 'duplicates')"
}

# CPU seconds: of process PID (user + system, all its threads), and of the
# whole machine (busy, idle), from /proc. They say where a run's CPU went:
# how much each server spent per request, and whether any core was idle.
HZ=$(getconf CLK_TCK)
pid_cpu_s() { awk -v hz="$HZ" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine_cpu_s() { awk -v hz="$HZ" '/^cpu / { print ($2 + $3 + $4 + $7 + $8) / hz, ($5 + $6) / hz }' /proc/stat; }
# cpu_sample: "FCGI LIGHTTPD MARIADBD BUSY IDLE" CPU seconds so far (FCGI:
# all of lighttpd's FastCGI children).
cpu_sample() {
  local f=0 p
  for p in $(fcgi_pids); do f=$(awk -v a="$f" -v b="$(pid_cpu_s "$p")" 'BEGIN { print a + b }'); done
  echo "$f $(pid_cpu_s "$STACK_HTTP_PID") $(pid_cpu_s "$STACK_DB_PID") $(machine_cpu_s)"
}
# cpu_json BEFORE AFTER REQUESTS: CPU µs per request of each part, as JSON;
# "other" is wrk, the kernel's own threads and whatever else the machine ran.
cpu_json() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { split(a, x, " "); split(b, y, " ");
    for (i = 1; i <= 5; i++) d[i] = y[i] - x[i]
    if (n < 1) n = 1
    printf "{\"fcgi_us\": %.1f, \"lighttpd_us\": %.1f, \"mariadbd_us\": %.1f, \"other_us\": %.1f, \"idle_pct\": %.1f}",
      1e6 * d[1] / n, 1e6 * d[2] / n, 1e6 * d[3] / n, 1e6 * (d[4] - d[1] - d[2] - d[3]) / n, 100 * d[5] / (d[4] + d[5]) }'
}

# wrk_run BODY SECONDS [RATE]: one wrk run; prints its BENCH_JSON object.
wrk_run() {
  local out json c0 c1
  c0=$(cpu_sample)
  out=$(EYE_BENCH_KEY=$KEY EYE_BENCH_BODY=$1 EYE_BENCH_RATE=${3:-0} EYE_BENCH_WRK_THREADS=$WRK_THREADS \
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$2"s --timeout 10s -s "$SRCDIR/bench/ingest.lua" \
    "$BASE/v1/events" 2>&1) || { echo "$out" >&2; die "wrk failed"; }
  c1=$(cpu_sample)
  json=$(printf '%s\n' "$out" | sed -n 's/^BENCH_JSON //p' | tail -1 | grep .) ||
    { echo "$out" >&2; die "wrk printed no result"; }
  jq -c --argjson cpu "$(cpu_json "$c0" "$c1" "$(jq .requests <<<"$json")")" '. + {cpu: $cpu}' <<<"$json"
}

# account LABEL JSON BEFORE: the accounting check after an ingest run.
# Every acknowledged event must be committed; more committed than
# acknowledged is only the requests in flight when wrk stopped.
account() {
  local label=$1 json=$2 before=$3 after acked per extra
  sleep 0.5
  after=$(committed_rows)
  acked=$(jq .acked_events <<<"$json")
  per=$(jq .events_per_request <<<"$json")
  extra=$((after - before - acked))
  if [ "$extra" -lt 0 ]; then
    loss "$label: $acked events acknowledged, only $((after - before)) committed ($((-extra)) missing)"
  elif [ "$extra" -gt $((CONNECTIONS * per)) ]; then
    say "warning: $label: $extra rows committed beyond those acknowledged (more than the requests in flight)"
  fi
  say "  accounting $label: acknowledged $acked, committed $((after - before)) (in flight at stop: $extra)"
}

# ingest_run BODY SECONDS LABEL [PERFNAME]: one measured run against eye.fcgi; prints
# the wrk JSON with the access log's non-2xx count added.
ingest_run() {
  local body=$1 secs=$2 label=$3 perfname=${4:-} before json log0 log1 non2xx_log
  clear_queue
  before=$(committed_rows)
  log0=$(wc -l <"$STACK_DIR/lighttpd-access.log")
  if [ -n "$perfname" ]; then
    perf record -a -g -F 499 -o "$STACK_DIR/perf-$perfname.data" -- sleep $((secs > 4 ? secs - 2 : secs)) \
      >"$STACK_DIR/perf-$perfname.log" 2>&1 &
    PERF_PID=$!
  fi
  json=$(wrk_run "$body" "$secs") || exit 1
  if [ -n "$PERF_PID" ]; then
    wait "$PERF_PID"; PERF_PID=
    perf report -i "$STACK_DIR/perf-$perfname.data" --stdio --no-children --sort comm,dso -g none \
      2>/dev/null | grep -v '^#' | grep . | head -25 >"${BENCH_OUT%.json}-perf-$perfname-comm.txt"
    # By pid: on a shared machine other eye.fcgi processes have the same comm.
    perf report -i "$STACK_DIR/perf-$perfname.data" --stdio --no-children \
      --pid "$(fcgi_pids | paste -sd, -)" --percentage relative \
      --sort dso,sym -g none 2>/dev/null | grep -v '^#' | grep . | head -60 \
      >"${BENCH_OUT%.json}-perf-$perfname-eyefcgi.txt"
    say "  perf profile: ${BENCH_OUT%.json}-perf-$perfname-{comm,eyefcgi}.txt"
  fi
  account "$label" "$json" "$before"
  log1=$(wc -l <"$STACK_DIR/lighttpd-access.log")
  non2xx_log=$(tail -n +$((log0 + 1)) "$STACK_DIR/lighttpd-access.log" | head -n $((log1 - log0)) |
    awk '$9 !~ /^2/' | wc -l)
  jq -c --argjson n "$non2xx_log" '. + {non2xx_access_log: $n}' <<<"$json"
}

# --- 6. validation alone -------------------------------------------------------
phase_validate() {
  say "validation alone (bench_validate, one core)"
  local out pv vo
  out=$("$BUILDDIR/bench/bench_validate" "$SRCDIR/rules" "${VALIDATE_SECONDS:-2}") || die "bench_validate failed"
  pv=$(sed -n 's/^parse + validate: \([0-9]*\) events.*/\1/p' <<<"$out")
  vo=$(sed -n 's/^validate only: *\([0-9]*\) events.*/\1/p' <<<"$out")
  row validate "parse+validate" "$pv" "events/s" "" "≥ 500000"
  row validate "validate only" "$vo" "events/s"
}

# --- 2. baselines --------------------------------------------------------------
phase_baseline() {
  local r f
  say "baseline: do-nothing responder (bench/noop_fcgi), $RUNS x ${DURATION}s"
  start_http "$BUILDDIR/bench/noop_fcgi"
  f=$STACK_DIR/noop.jsonl; : >"$f"
  for r in $(seq 1 "$RUNS"); do wrk_run single "$DURATION" >>"$f" || exit 1; done
  NOOP_RPS=$(median "$f" req_per_s)
  row noop "req/s" "$NOOP_RPS" "req/s"
  row noop "p50" "$(median "$f" p50_us)" "µs"
  row noop "p99" "$(median "$f" p99_us)" "µs"
  row noop "max" "$(median "$f" max_us)" "µs"
  cpu_rows noop "$f"
  stop_http

  say "baseline: MariaDB durable inserts (bench/insert_rate), $RUNS x ${DURATION}s each"
  local spec conns rows name
  for spec in "1 1 single_1conn" "16 1 single_16conn" "1 100 rows100_1conn"; do
    read -r conns rows name <<<"$spec"
    f=$STACK_DIR/insert-$name.jsonl; : >"$f"
    for r in $(seq 1 "$RUNS"); do
      clear_queue
      "$BUILDDIR/bench/insert_rate" --config "$STACK_CONFIG" --app-id "$APP_ID" \
        --connections "$conns" --rows "$rows" --seconds "$DURATION" >>"$f" || die "insert_rate failed"
    done
    if [ "$rows" = 1 ]; then
      row "insert $name" "txn/s" "$(median "$f" txn_per_s)" "txn/s"
    else
      INSERT100_ROWS=$(median "$f" rows_per_s)
      row "insert $name" "rows/s" "$INSERT100_ROWS" "rows/s"
    fi
  done
  clear_queue
}

# cpu_rows SCENARIO FILE: the median CPU µs per request of each part.
cpu_rows() {
  local part
  for part in fcgi lighttpd mariadbd other; do
    row "$1" "CPU per request: $part" "$(jq -s "map(.cpu.${part}_us) | sort | .[length / 2 | floor]" "$2")" "µs"
  done
  row "$1" "machine idle" "$(jq -s 'map(.cpu.idle_pct) | sort | .[length / 2 | floor]' "$2")" "%"
}

# --- 3. ingest scenarios -----------------------------------------------------------
# scenario BODY: RUNS runs, the medians into the table.
scenario() {
  local body=$1 r f json perfname
  f=$STACK_DIR/ingest-$body.jsonl; : >"$f"
  for r in $(seq 1 "$RUNS"); do
    perfname=
    [ "$PERF" = 1 ] && [ "$r" = 1 ] && { [ "$body" = single ] || [ "$body" = batch100 ]; } && perfname=$body
    json=$(ingest_run "$body" "$DURATION" "$body run $r" "$perfname") || exit 1
    say "  $body run $r: $(jq -r '"\(.req_per_s|floor) req/s, \(.events_per_s|floor) events/s, p50 \(.p50_us) µs, p99 \(.p99_us) µs, non-2xx \(.non2xx)"' <<<"$json")"
    echo "$json" >>"$f"
  done
  local rps eps p99
  rps=$(median "$f" req_per_s); eps=$(median "$f" events_per_s); p99=$(median "$f" p99_us)
  if [ "$body" = single ]; then
    row "$body" "req/s" "$rps" "req/s" "$(ratio "$rps" "${NOOP_RPS:-}" "of no-op")" "≥ 60% of no-op"
    row "$body" "p99" "$p99" "µs" "" "≤ 10000 µs"
  else
    row "$body" "req/s" "$rps" "req/s"
    row "$body" "p99" "$p99" "µs"
  fi
  if [ "$body" = batch100 ]; then
    row "$body" "events/s" "$eps" "events/s" "$(ratio "$eps" "${INSERT100_ROWS:-}" "of 100-row inserts")" "≥ 100000"
  else
    row "$body" "events/s" "$eps" "events/s"
  fi
  row "$body" "p50" "$(median "$f" p50_us)" "µs"
  row "$body" "max" "$(median "$f" max_us)" "µs"
  row "$body" "non-2xx (wrk)" "$(jq -s 'map(.non2xx) | add' "$f")" "responses, all runs"
  row "$body" "non-2xx (access log)" "$(jq -s 'map(.non2xx_access_log) | add' "$f")" "responses, all runs"
  cpu_rows "$body" "$f"
}

record_rss() {
  local p hwm max=0
  for p in $(fcgi_pids); do
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    [ -n "$hwm" ] && [ "$hwm" -gt "$max" ] && max=$hwm
  done
  row eye.fcgi "peak RSS (VmHWM, largest process)" "$max" "KiB" "" "≤ 16384 KiB"
}

phase_ingest() {
  say "ingest scenarios: $SCENARIOS; $RUNS x ${DURATION}s each, $CONNECTIONS connections," \
    "$STACK_FCGI_PROCS eye.fcgi x $EYE_INGEST_THREADS threads"
  start_http "$BUILDDIR/fcgi/eye.fcgi"
  local s
  for s in $SCENARIOS; do scenario "$s"; done
  record_rss
  clear_queue
}

# --- 4. spool drain ---------------------------------------------------------------
# fill N: N queue rows straight into event_queue, as eye.fcgi writes them:
# 20,000 sessions, three event types, 2% rejected rows, unique event ids.
fill() {
  local n=$1 from=1 to chunk=200000
  while [ "$from" -le "$n" ]; do
    to=$((from + chunk - 1)); [ "$to" -gt "$n" ] && to=$n
    sql "INSERT INTO event_queue (application_id, received_at, event_id, session_key, category, name,
           occurred_at, client_timestamp, rules_version, data, error_code, error_pointer, error_message, payload)
         SELECT $APP_ID, NOW(6), UUID(), CONCAT('sess-', seq % 20000),
           IF(seq % 3 = 2, 'form interaction', 'page interaction'),
           ELT(1 + seq % 3, 'pageview', 'cta click', 'submit'),
           '2025-01-01' + INTERVAL seq SECOND, '2025-01-01' + INTERVAL seq SECOND, 'bench-spool-fill',
           IF(seq % 50 = 7, NULL, JSON_OBJECT('host', 'www.consumeraffairs.com', 'path', CONCAT('/', seq))),
           IF(seq % 50 = 7, 'wrong_type', NULL), IF(seq % 50 = 7, '/data/path', NULL),
           IF(seq % 50 = 7, 'must be a string', NULL), IF(seq % 50 = 7, '{\"bad\":1}', NULL)
         FROM seq_${from}_to_${to}" || die "cannot fill the queue"
    from=$((to + 1))
  done
}

# flush_dirty: makes InnoDB write every dirty page of the buffer pool
# (innodb_max_dirty_pages_pct = 0 until Innodb_buffer_pool_pages_dirty is
# at most FLUSH_DIRTY_LEFT [16]: purge of the drained queue keeps dirtying
# a few; at most 600 s), then puts the setting back. Prints the seconds it
# took; fails when the pages do not come down.
flush_dirty() {
  local pct lwm t0 i dirty=
  read -r pct lwm <<<"$(sql "SELECT @@innodb_max_dirty_pages_pct, @@innodb_max_dirty_pages_pct_lwm" | tr '\t' ' ')"
  t0=$(now_s)
  sql "SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0; SET GLOBAL innodb_max_dirty_pages_pct = 0" || return 1
  for i in $(seq 1 6000); do
    dirty=$(sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
                 WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'") || break
    [ "$dirty" -le "${FLUSH_DIRTY_LEFT:-16}" ] && break
    sleep 0.1
  done
  sql "SET GLOBAL innodb_max_dirty_pages_pct = $pct; SET GLOBAL innodb_max_dirty_pages_pct_lwm = $lwm" || return 1
  [ -n "$dirty" ] && [ "$dirty" -le "${FLUSH_DIRTY_LEFT:-16}" ] || {
    echo "flush_dirty: $dirty pages still dirty after 600 s" >&2
    return 1
  }
  awk -v a="$t0" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'
}

phase_spool() {
  local n r t0 t1 f rate one= db0 db1 m0 m1
  # eye.fcgi's queue watcher counts the queue every second: not during a drain.
  stop_http
  for n in $SPOOLERS; do
    f=$STACK_DIR/spool-$n.jsonl; : >"$f"
    for r in $(seq 1 "$SPOOL_RUNS"); do
      clear_stored
      say "spool: filling $QUEUE_ROWS queue rows"
      t0=$(now_s); fill "$QUEUE_ROWS"; t1=$(now_s)
      say "  filled in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; draining with $n eye-spool --once"
      SPOOL_PIDS=()
      t0=$(now_s) db0=$(pid_cpu_s "$STACK_DB_PID") m0=$(machine_cpu_s)
      local i
      for i in $(seq 1 "$n"); do
        "$SPOOL" --config "$STACK_CONFIG" --once >>"$STACK_DIR/spool-drain.log" 2>&1 &
        SPOOL_PIDS+=($!)
      done
      local p failed=0
      for p in "${SPOOL_PIDS[@]}"; do wait "$p" || failed=1; done
      t1=$(now_s) db1=$(pid_cpu_s "$STACK_DB_PID") m1=$(machine_cpu_s)
      SPOOL_PIDS=()
      [ "$failed" = 0 ] || die "an eye-spool exited non-zero; see $STACK_DIR/spool-drain.log"
      local left committed
      left=$(sql "SELECT COUNT(*) FROM event_queue")
      committed=$(committed_rows)
      [ "$left" = 0 ] || die "the queue is not empty after the spoolers exited ($left rows)"
      [ "$committed" = "$QUEUE_ROWS" ] ||
        loss "spool with $n: $QUEUE_ROWS rows queued, $committed in events + event_errors + duplicates"
      rate=$(awk -v n="$QUEUE_ROWS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n / (b - a) }')
      # The drain leaves its pages dirty in the buffer pool. Flush them all,
      # so mariadbd's CPU including the flush is what storing the rows
      # costs in the end (and, for a PAGE_COMPRESSED table, which InnoDB
      # compresses only as it writes a page, the allocated size below is
      # the compressed one).
      local flush_s db2 alloc_b ids_b json_b logical_b cpu_pct us_row idle_pct us_row_flush
      flush_s=$(flush_dirty) || die "the dirty pages were not flushed"
      db2=$(pid_cpu_s "$STACK_DB_PID")
      # Bytes per stored event, events (every partition) and its dedup
      # record in event_ids: InnoDB's figure (pages in use, data + indexes,
      # after ANALYZE; issue 17's measure), and the blocks allocated to
      # their files after the flush, which also counts the extents InnoDB
      # reserves ahead of the rows (a few MiB per file: much per event on
      # a small table) and is the one that shows a compressed table's
      # size. Against the event as a client sends it (its JSON, from a
      # sample; the names from the dimension tables).
      local bytes
      bytes=$(sql "ANALYZE TABLE events, event_ids" >/dev/null;
        sql "SELECT ROUND((SELECT SUM(ALLOCATED_SIZE) FROM information_schema.INNODB_SYS_TABLESPACES
                           WHERE NAME LIKE CONCAT(DATABASE(), '/events#P#%') OR NAME = CONCAT(DATABASE(), '/events')
                              OR NAME = CONCAT(DATABASE(), '/event_ids'))
                          / (SELECT COUNT(*) FROM events)),
                    ROUND((SELECT SUM(ALLOCATED_SIZE) FROM information_schema.INNODB_SYS_TABLESPACES
                           WHERE NAME = CONCAT(DATABASE(), '/event_ids'))
                          / (SELECT COUNT(*) FROM events)),
                    (SELECT ROUND(AVG(LENGTH(JSON_OBJECT('session_id', s.session_key, 'category', c.name,
                       'name', t.name, 'data', JSON_EXTRACT(e.data, '$'), 'event_id', e.event_id,
                       'timestamp', DATE_FORMAT(e.occurred_at, '%Y-%m-%d %H:%i:%s.%f')))))
                     FROM (SELECT * FROM events LIMIT 10000) e JOIN sessions s ON s.id = e.session_id
                     JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id),
                    ROUND((SELECT SUM(DATA_LENGTH + INDEX_LENGTH) FROM information_schema.TABLES
                           WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('events', 'event_ids'))
                          / (SELECT COUNT(*) FROM events))" | tr '\t' ' ')
      read -r alloc_b ids_b json_b logical_b <<<"$bytes"
      say "  on disk: $alloc_b bytes allocated per stored event ($ids_b of them event_ids)," \
        "$logical_b bytes of pages in use (DATA_LENGTH + INDEX_LENGTH); the event's JSON as sent: $json_b bytes"
      # mariadbd's CPU in % of one core and µs per row, for the drain alone
      # and including the flush (where page compression spends it); the
      # machine's idle share of all its cores during the drain.
      local cpu
      cpu=$(awk -v a="$t0" -v b="$t1" -v d0="$db0" -v d1="$db1" -v d2="$db2" -v n="$QUEUE_ROWS" \
        -v m0="$m0" -v m1="$m1" 'BEGIN { split(m0, x, " "); split(m1, y, " ");
          busy = y[1] - x[1]; idle = y[2] - x[2];
          printf "%.1f %.1f %.1f %.1f", 100 * (d1 - d0) / (b - a), 1e6 * (d1 - d0) / n,
            100 * idle / (busy + idle), 1e6 * (d2 - d0) / n }')
      read -r cpu_pct us_row idle_pct us_row_flush <<<"$cpu"
      say "  $n spooler(s): $rate rows/s; mariadbd CPU $cpu_pct% of a core, $us_row µs per row" \
        "($us_row_flush µs with the flush of $flush_s s); machine idle $idle_pct%"
      echo "{\"rows_per_s\": $rate, \"db_cpu_pct\": $cpu_pct, \"db_us_per_row\": $us_row," \
        "\"db_us_per_row_flush\": $us_row_flush, \"flush_s\": $flush_s, \"idle_pct\": $idle_pct," \
        "\"bytes_per_event\": $alloc_b, \"logical_bytes_per_event\": $logical_b," \
        "\"json_bytes_per_event\": $json_b}" >>"$f"
    done
    rate=$(median "$f" rows_per_s)
    [ -z "$one" ] && [ "$n" = 1 ] && one=$rate
    if [ "$n" = 1 ]; then
      row "spool x$n" "drain" "$rate" "rows/s"
    else
      row "spool x$n" "drain" "$rate" "rows/s" "$(ratio "$rate" "$one" "of 1 spooler")" "$([ "$n" = 4 ] && echo "≥ 200% of 1")"
    fi
    row "spool x$n" "mariadbd CPU" "$(median "$f" db_cpu_pct)" "% of one core"
    row "spool x$n" "mariadbd CPU per row, drain" "$(median "$f" db_us_per_row)" "µs"
    row "spool x$n" "mariadbd CPU per row, drain + flush" "$(median "$f" db_us_per_row_flush)" "µs"
    row "spool x$n" "machine idle" "$(median "$f" idle_pct)" "% of $(nproc) cores"
    row "spool x$n" "bytes per stored event (DATA_LENGTH + INDEX_LENGTH)" \
      "$(median "$f" logical_bytes_per_event)" "bytes" \
      "$(ratio "$(median "$f" logical_bytes_per_event)" "$(median "$f" json_bytes_per_event)" "of the event's JSON")" "≤ 100%"
    row "spool x$n" "bytes allocated on disk per stored event (files)" "$(median "$f" bytes_per_event)" "bytes" \
      "$(ratio "$(median "$f" bytes_per_event)" "$(median "$f" json_bytes_per_event)" "of the event's JSON")"
  done
  clear_stored
}

# --- 5. end to end ----------------------------------------------------------------
# e2e LABEL RATE: ingest (wrk, E2E_BODY) and E2E_SPOOLERS spoolers together
# for E2E_DURATION s; rows visible per second and lag receive -> stored.
e2e() {
  local label=$1 rate=$2 t0 t1 json i before
  clear_stored
  start_http "$BUILDDIR/fcgi/eye.fcgi"
  before=$(committed_rows)
  SPOOL_PIDS=()
  for i in $(seq 1 "$E2E_SPOOLERS"); do
    "$SPOOL" --config "$STACK_CONFIG" >>"$STACK_DIR/spool-e2e.log" 2>&1 &
    SPOOL_PIDS+=($!)
  done
  # UTC, as received_at (eye.fcgi) and stored_at (the spool's session) are.
  t0=$(sql "SELECT UTC_TIMESTAMP(6)")
  json=$(wrk_run "$E2E_BODY" "$E2E_DURATION" "$rate") || exit 1
  t1=$(sql "SELECT UTC_TIMESTAMP(6)")
  local stored_in_window queued_at_end
  # stored_at and received_at have no index since migration 013 (no
  # analyst query reads by them): these counts and the lag percentiles
  # scan events, which holds only this run's rows (clear_stored).
  stored_in_window=$(sql "SELECT COUNT(*) FROM events WHERE stored_at BETWEEN '$t0' AND '$t1'")
  queued_at_end=$(sql "SELECT COUNT(*) FROM event_queue")
  # The paced run lets the spoolers finish the backlog, so every event
  # received in the window has its lag; the unpaced one stops them at once
  # (what is still queued counts in the accounting).
  if [ "$rate" != 0 ]; then
    for i in $(seq 1 600); do
      [ "$(sql 'SELECT COUNT(*) FROM event_queue')" = 0 ] && break
      sleep 0.5
    done
  fi
  for i in "${SPOOL_PIDS[@]}"; do kill -TERM "$i" 2>/dev/null; done
  for i in "${SPOOL_PIDS[@]}"; do wait "$i" 2>/dev/null; done
  SPOOL_PIDS=()
  account "e2e $label" "$json" "$before"
  local secs n p50= p99=
  secs=$(jq .seconds <<<"$json")
  E2E_JSON=$json E2E_QUEUED=$queued_at_end
  E2E_VISIBLE=$(awk -v n="$stored_in_window" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
  [ "$rate" = 0 ] && return 0
  n=$(sql "SELECT COUNT(*) FROM events WHERE received_at BETWEEN '$t0' AND '$t1'")
  p50=$(sql "SELECT TIMESTAMPDIFF(MICROSECOND, received_at, stored_at) l FROM events
             WHERE received_at BETWEEN '$t0' AND '$t1' ORDER BY l LIMIT 1 OFFSET $((n / 2))")
  p99=$(sql "SELECT TIMESTAMPDIFF(MICROSECOND, received_at, stored_at) l FROM events
             WHERE received_at BETWEEN '$t0' AND '$t1' ORDER BY l LIMIT 1 OFFSET $((n * 99 / 100))")
  say "  e2e $label: offered $rate, acknowledged $(jq -r '.events_per_s|floor' <<<"$json") events/s," \
    "stored $E2E_VISIBLE events/s, queue at end $queued_at_end, lag p50 ${p50} µs p99 ${p99} µs"
  E2E_P50=$p50 E2E_P99=$p99
}

phase_e2e() {
  say "end to end, unpaced: $E2E_BODY, $E2E_SPOOLERS spoolers, ${E2E_DURATION}s"
  e2e max 0
  say "  e2e max: acknowledged $(jq -r '.events_per_s|floor' <<<"$E2E_JSON") events/s, stored $E2E_VISIBLE events/s"
  row "e2e max" "acknowledged" "$(jq .events_per_s <<<"$E2E_JSON")" "events/s"
  row "e2e max" "stored (visible in events)" "$E2E_VISIBLE" "events/s" \
    "$(ratio "$E2E_VISIBLE" "${INSERT100_ROWS:-}" "of 100-row inserts")" "≥ 50% of 100-row inserts"
  row "e2e max" "queue at end" "$E2E_QUEUED" "rows"
  local rate=${E2E_RATE:-}
  if [ -z "$rate" ]; then
    [ -n "${INSERT100_ROWS:-}" ] || die "E2E_RATE is needed when the baseline phase does not run"
    rate=$(awk -v r="$INSERT100_ROWS" 'BEGIN { printf "%d", r / 4 }')
  fi
  say "end to end, paced at $rate events/s (wrk + delay()): $E2E_BODY, $E2E_SPOOLERS spoolers, ${E2E_DURATION}s"
  e2e paced "$rate"
  row "e2e paced" "offered" "$rate" "events/s"
  row "e2e paced" "acknowledged" "$(jq .events_per_s <<<"$E2E_JSON")" "events/s"
  row "e2e paced" "stored (visible in events)" "$E2E_VISIBLE" "events/s"
  row "e2e paced" "lag p50" "$E2E_P50" "µs"
  row "e2e paced" "lag p99" "$E2E_P99" "µs" "" "≤ 1000000 µs"
  row "e2e paced" "request p99" "$(jq .p99_us <<<"$E2E_JSON")" "µs"
  phase_e2e_sustained
}

# The pipeline's capacity: paced runs at rising shares of the 100-row
# insert rate (E2E_STEPS, in %), until one is not kept up with: fewer than
# 97% of the offered events stored within the run, or a lag p99 over 1 s.
# The unpaced run above measures something else: wrk takes what the
# machine gives (acknowledged at several times the stored rate, the
# difference waiting in the queue, as designed) and the spoolers get the
# rest of its two cores.
phase_e2e_sustained() {
  [ -n "${INSERT100_ROWS:-}" ] || { say "e2e sustained: needs the baseline phase"; return 0; }
  local pct rate held= held_pct= held_stored= held_p99= stored p99 ack
  say "end to end, sustained: paced at ${E2E_STEPS}% of $INSERT100_ROWS rows/s until one is not kept up with"
  for pct in $E2E_STEPS; do
    rate=$(awk -v r="$INSERT100_ROWS" -v p="$pct" 'BEGIN { printf "%d", r * p / 100 }')
    e2e "sustain $pct%" "$rate"
    stored=$E2E_VISIBLE p99=$E2E_P99 ack=$(jq .events_per_s <<<"$E2E_JSON")
    if awk -v s="$stored" -v a="$ack" -v r="$rate" -v l="$p99" \
      'BEGIN { exit !(a >= 0.97 * r && s >= 0.97 * r && l <= 1000000) }'; then
      held=$rate held_pct=$pct held_stored=$stored held_p99=$p99
    else
      say "  $pct%: not kept up with (stored $stored of $rate events/s offered, lag p99 $p99 µs)"
      break
    fi
  done
  if [ -z "$held" ]; then
    row "e2e sustained" "stored, highest rate kept up with" "0" "events/s" "below ${E2E_STEPS%% *}%" "≥ 35% of 100-row inserts"
    return 0
  fi
  say "  e2e sustained: $held_pct% ($held events/s offered) kept up with: stored $held_stored events/s, lag p99 $held_p99 µs"
  row "e2e sustained" "offered, highest rate kept up with" "$held" "events/s" "$held_pct% step"
  row "e2e sustained" "stored at that rate" "$held_stored" "events/s" \
    "$(ratio "$held_stored" "$INSERT100_ROWS" "of 100-row inserts")" "≥ 35% of 100-row inserts"
  row "e2e sustained" "lag p99 at that rate" "$held_p99" "µs" "" "≤ 1000000 µs"
}

# --- sweep -----------------------------------------------------------------------
phase_sweep() {
  local procs threads body json
  for procs in $SWEEP_PROCS; do
    for threads in $SWEEP_THREADS; do
      STACK_FCGI_PROCS=$procs EYE_INGEST_THREADS=$threads start_http "$BUILDDIR/fcgi/eye.fcgi"
      for body in single batch100; do
        json=$(ingest_run "$body" "$DURATION" "sweep $procs x $threads $body") || exit 1
        say "  procs $procs threads $threads $body: $(jq -r '"\(.req_per_s|floor) req/s, \(.events_per_s|floor) events/s, p99 \(.p99_us) µs"' <<<"$json")"
        row "sweep p$procs t$threads $body" "req/s" "$(jq .req_per_s <<<"$json")" "req/s"
        row "sweep p$procs t$threads $body" "events/s" "$(jq .events_per_s <<<"$json")" "events/s"
        row "sweep p$procs t$threads $body" "p99" "$(jq .p99_us <<<"$json")" "µs"
      done
    done
  done
}

# --- main --------------------------------------------------------------------------
say "bench $MODE: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); DURATION=$DURATION RUNS=$RUNS"
if [ "$MODE" = sweep ]; then
  start_db
  phase_sweep
else
  case " $PHASES " in *" validate "*) phase_validate ;; esac
  start_db
  for ph in baseline ingest spool e2e; do
    case " $PHASES " in *" $ph "*) "phase_$ph" ;; esac
  done
fi

# --- the table ------------------------------------------------------------------------
LOSS=0; [ -f "$STACK_DIR/events-lost" ] && LOSS=1
mkdir -p "$(dirname "$BENCH_OUT")"
jq -R -s --arg mode "$MODE" --arg when "$(date -u +%FT%TZ)" --arg host "$(uname -n)" \
  --argjson cores "$(nproc)" --argjson duration "$DURATION" --argjson runs "$RUNS" \
  --argjson procs "$STACK_FCGI_PROCS" --argjson threads "$EYE_INGEST_THREADS" \
  --argjson connections "$CONNECTIONS" --argjson lost "$LOSS" '
  {mode: $mode, when: $when, host: $host, cores: $cores, duration_s: $duration, runs: $runs,
   fcgi_procs: $procs, ingest_threads: $threads, connections: $connections, events_lost: ($lost == 1),
   results: (split("\n") | map(select(length > 0) | split("\t")
     | {scenario: .[0], metric: .[1], value: (.[2] | tonumber? // .[2]), unit: .[3],
        ratio: .[4], target: .[5]}))}' "$RESULTS" >"$BENCH_OUT" || die "cannot write $BENCH_OUT"

{
  printf 'scenario\tmetric\tvalue\tunit\tratio\ttarget\n'
  awk -F'\t' 'BEGIN { OFS = "\t" } { if ($3 ~ /^[0-9.]+$/) $3 = sprintf("%.0f", $3); print }' "$RESULTS"
} | column -t -s $'\t'
say "results: $BENCH_OUT"
if [ "$LOSS" = 1 ]; then
  loss "the accounting check failed (see above): this benchmark lost events"
  exit 1
fi
