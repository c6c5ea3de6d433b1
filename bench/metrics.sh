#!/bin/bash
# metrics.sh - what /metrics costs (issue 16), in one run, as ratios:
#
#   1. ingest with and without metrics: the single-event scenario (wrk,
#      bench/ingest.lua) against eye.fcgi with metrics.enabled true and
#      false, RUNS alternating runs of each; the ratio of median req/s.
#   2. scrape time: SCRAPES sequential scrapes of an idle stack, and the
#      same during a single-event load (curl time_total; p50, p99).
#   3. scraping under load: single-event req/s while Prometheus-like
#      scrapes run every SCRAPE_MS, against the same load without them.
#   0. first, the counting alone (bench/metrics_count.c): ns of CPU that
#      one single-event request spends on its counters, 1 and 2 threads.
#
# Environment: EYE_BUILDDIR [build], DURATION [10] s per wrk run, RUNS [3],
# CONNECTIONS [32], WRK_THREADS [2], SCRAPES [200], SCRAPE_MS [100].
# Prints a table; the last line is the with/without ratio of step 1.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
: "${EYE_BUILDDIR:=$SRCDIR/build}"
: "${DURATION:=10}" "${RUNS:=3}" "${CONNECTIONS:=32}" "${WRK_THREADS:=2}" "${SCRAPES:=200}" "${SCRAPE_MS:=100}"
. "$SRCDIR/scripts/stack.sh"
STACK_SRCDIR=$SRCDIR STACK_BUILDDIR=$EYE_BUILDDIR STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench-metrics.XXXXXX")
STACK_LOG_LEVEL=warn
SPOOL_PID=
cleanup() {
  [ -n "$SPOOL_PID" ] && stack_stop_pid "$SPOOL_PID" 10
  stack_lighttpd_stop; stack_mariadb_stop; rm -rf "$STACK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/metrics.sh: $*" >&2; exit 1; }
for t in wrk jq curl lighttpd mariadb; do command -v $t >/dev/null || die "needs $t"; done

stack_mariadb_start || die "MariaDB did not start"
stack_write_config "$STACK_DIR/eye.yaml"
stack_schema || die "schema"
KEY=$(stack_admin app create bench 2>/dev/null)
READ=$(stack_admin key create bench --read 2>/dev/null)
# A spooler keeps the queue short, as in production (and keeps
# back-pressure out of the figures).
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PID=$!

# serve on|off: (re)starts lighttpd with metrics enabled or not.
serve() {
  stack_lighttpd_stop
  EYE_METRICS_ENABLED=$([ "$1" = on ] && echo true || echo false) stack_lighttpd_start || die "lighttpd"
  BASE="http://127.0.0.1:$STACK_HTTP_PORT"
}
# rps: one wrk run of the single-event scenario; prints req/s.
rps() {
  EYE_BENCH_KEY=$KEY EYE_BENCH_BODY=single EYE_BENCH_WRK_THREADS=$WRK_THREADS \
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION"s --timeout 10s -s "$SRCDIR/bench/ingest.lua" \
    "$BASE/v1/events" 2>&1 | sed -n 's/^BENCH_JSON //p' | jq -r '.req_per_s // empty' | grep . ||
    die "wrk printed no result"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# scrape_times N: N sequential scrapes; prints each time_total in ms.
scrape_times() {
  local i
  for i in $(seq 1 "$1"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $READ" "$BASE/metrics"
  done | awk '{ printf "%.3f\n", $1 * 1000 }'
}
pct() { sort -g | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'; }

echo "# bench/metrics.sh: ${DURATION}s x $RUNS runs each, $CONNECTIONS connections, $(nproc) cores"
cc -O2 -I"$SRCDIR" -I"$EYE_BUILDDIR" -pthread "$SRCDIR/bench/metrics_count.c" "$SRCDIR/fcgi/metrics_shm.c" \
  "$SRCDIR/lib/clock.c" "$SRCDIR/lib/log.c" -o "$STACK_DIR/metrics_count" || die "cannot build metrics_count"
count1=$("$STACK_DIR/metrics_count" "$STACK_DIR/count1" 1 5000000 2>/dev/null) || die "metrics_count miscounted"
count2=$("$STACK_DIR/metrics_count" "$STACK_DIR/count2" 2 5000000 2>/dev/null) || die "metrics_count miscounted"
on=(); off=()
for r in $(seq 1 "$RUNS"); do
  serve off; rps >/dev/null # warm-up of a fresh process is not measured
  off+=("$(rps)")
  serve on; rps >/dev/null
  on+=("$(rps)")
  echo "# run $r: without metrics ${off[-1]} req/s, with ${on[-1]} req/s"
done
m_off=$(printf '%s\n' "${off[@]}" | median)
# The median of each run's own on/off ratio: the runs of a pair are seconds
# apart, so drift of the machine's load between pairs cancels out.
m_pair=$(for i in "${!on[@]}"; do awk -v a="${on[$i]}" -v b="${off[$i]}" 'BEGIN { print a / b }'; done | median)
m_on=$(printf '%s\n' "${on[@]}" | median)

# Step 2: scrape time, idle and under load (metrics on).
idle=$(scrape_times "$SCRAPES")
size=$(curl -s -H "Authorization: Bearer $READ" "$BASE/metrics" | wc -c)
series=$(curl -s -H "Authorization: Bearer $READ" "$BASE/metrics" | grep -vc '^#')
EYE_BENCH_KEY=$KEY EYE_BENCH_BODY=single EYE_BENCH_WRK_THREADS=$WRK_THREADS \
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION"s --timeout 10s -s "$SRCDIR/bench/ingest.lua" \
  "$BASE/v1/events" >/dev/null 2>&1 &
wrk_pid=$!
sleep 1
loaded=$(scrape_times "$SCRAPES")
wait "$wrk_pid"

# Step 3: ingest while scraping every SCRAPE_MS, against the same without.
quiet=(); scraped=()
for r in $(seq 1 "$RUNS"); do
  quiet+=("$(rps)")
  ( while :; do curl -s -o /dev/null -H "Authorization: Bearer $READ" "$BASE/metrics"; sleep "$(awk -v m="$SCRAPE_MS" 'BEGIN { print m / 1000 }')"; done ) &
  sp=$!
  scraped+=("$(rps)")
  kill "$sp"; wait "$sp" 2>/dev/null
done
m_quiet=$(printf '%s\n' "${quiet[@]}" | median)
m_scraped=$(printf '%s\n' "${scraped[@]}" | median)

printf '| figure | value |\n| --- | --- |\n'
printf '| counting one request (metrics_count) | %s; %s |\n' "$count1" "$count2"
printf '| single-event req/s, metrics off (median of %d) | %.0f |\n' "$RUNS" "$m_off"
printf '| single-event req/s, metrics on (median of %d) | %.0f |\n' "$RUNS" "$m_on"
printf '| scrape size | %d bytes, %d series |\n' "$size" "$series"
printf '| scrape time idle, p50 / p99 | %s / %s ms |\n' "$(printf '%s\n' "$idle" | pct 50)" "$(printf '%s\n' "$idle" | pct 99)"
printf '| scrape time under single-event load, p50 / p99 | %s / %s ms |\n' "$(printf '%s\n' "$loaded" | pct 50)" "$(printf '%s\n' "$loaded" | pct 99)"
printf '| single-event req/s, no scrapes / scraped every %d ms | %.0f / %.0f (ratio %.3f) |\n' "$SCRAPE_MS" "$m_quiet" "$m_scraped" "$(awk -v a="$m_scraped" -v b="$m_quiet" 'BEGIN { print a / b }')"
printf '| median of the runs'"'"' own on/off ratios | %.3f |\n' "$m_pair"
awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "metrics on/off ratio of single-event req/s: %.3f (cost %.1f%%; goal: under 5%%)\n", a / b, 100 * (1 - a / b) }'
