#!/bin/bash
# cluster.sh - what a 3-node Galera cluster costs against one server, in
# one run on one machine (issue 19).
#
#   bench/cluster.sh
#
# Brings up one MariaDB server (scripts/stack.sh) and measures, then a
# 3-node Galera cluster on loopback (scripts/cluster.sh) and measures the
# same things, then prints one table:
#   - the ingest scenarios of bench/run.sh through lighttpd + eye.fcgi
#     (wrk + bench/ingest.lua): single-event and 100-event requests, req/s,
#     events/s and latency percentiles;
#   - bench/insert_rate with 1 connection and 1 row per transaction: one
#     commit at a time, so 1 / rate is the commit latency (on the cluster it
#     includes Galera's replication and certification round);
#   - bench/insert_rate with 16 connections and 100 rows per transaction:
#     the writer's commit ceiling for batched rows.
# Every number comes from this run; the cluster's nodes share the machine's
# cores with everything else, so the ratio, not the absolute figure, is
# what carries over to separate machines (where the replication round adds
# the network's round trip instead of a loopback one).
#
# Environment: EYE_BUILDDIR [<src>/build], DURATION [15] seconds per run,
# CONNECTIONS [64] wrk connections, WRK_THREADS [2], BENCH_KEEP [0].
set -euo pipefail
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${EYE_BUILDDIR:-$SRCDIR/build}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
BENCH_KEEP=${BENCH_KEEP:-0}

. "$SRCDIR/scripts/stack.sh"
. "$SRCDIR/scripts/cluster.sh"
say() { echo "$*" >&2; }
die() { echo "bench/cluster.sh: $*" >&2; exit 1; }

for tool in wrk jq curl lighttpd mariadb; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh installs it)"
done
make -s -C "$BUILDDIR" -j2 bench/insert_rate fcgi/eye.fcgi admin/eye-admin >/dev/null ||
  die "build failed"

STACK_SRCDIR=$SRCDIR
STACK_BUILDDIR=$BUILDDIR
STACK_TEMPLATE=
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench-cluster.XXXXXX")
chmod 711 "$STACK_DIR"
TOP=$STACK_DIR
CLUSTER_DIR=$TOP/cluster
STACK_DB_PID=
STACK_HTTP_PID=
RESULTS=$TOP/results

cleanup() {
  local rc=$?
  stack_lighttpd_stop
  stack_mariadb_stop
  cluster_stop
  if [ "$BENCH_KEEP" = 1 ] || [ $rc -ne 0 ]; then say "state kept in $TOP"; else rm -rf "$TOP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# measure LABEL: the scenarios and insert rates against STACK_CONFIG.
measure() {
  local label=$1 body out json key app_id
  key=$(stack_admin app create "bench$label" 2>/dev/null) || die "cannot create an application"
  STACK_DIR=$TOP/web-$label
  mkdir -p "$STACK_DIR"
  STACK_HTTP_PORT=
  stack_lighttpd_start || die "lighttpd did not start"
  for body in single batch100; do
    say "  $label: $body, ${DURATION}s"
    out=$(EYE_BENCH_KEY=$key EYE_BENCH_BODY=$body EYE_BENCH_WRK_THREADS=$WRK_THREADS \
      wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION"s --timeout 10s \
      -s "$SRCDIR/bench/ingest.lua" "http://127.0.0.1:$STACK_HTTP_PORT/v1/events" 2>&1) ||
      die "wrk failed: $out"
    json=$(printf '%s\n' "$out" | sed -n 's/^BENCH_JSON //p' | tail -1)
    [ -n "$json" ] || die "wrk printed no result: $out"
    jq -c --arg l "$label" '{label: $l} + .' <<<"$json" >>"$RESULTS"
  done
  stack_lighttpd_stop
  STACK_DIR=$TOP
  app_id=$(db_sql "SELECT id FROM applications WHERE name = 'bench$label'")
  for spec in "1 1" "16 100"; do
    set -- $spec
    say "  $label: insert_rate, $1 connections x $2 rows, ${DURATION}s"
    "$BUILDDIR/bench/insert_rate" --config "$STACK_CONFIG" --app-id "$app_id" \
      --connections "$1" --rows "$2" --seconds "$DURATION" |
      jq -c --arg l "$label" '{label: $l, body: "insert_rate"} + .' >>"$RESULTS" ||
      die "insert_rate failed"
  done
}

# --- one server -----------------------------------------------------------
say "one MariaDB server"
stack_mariadb_start || die "MariaDB did not start"
stack_write_config "$TOP/eye-single.yaml"
stack_schema || die "schema set-up failed"
db_sql() { stack_sql -N -B eye -e "$1"; }
measure single
stack_mariadb_stop

# --- the cluster ----------------------------------------------------------
say "a 3-node Galera cluster"
cluster_start || die "the cluster did not start"
cluster_write_config "$TOP/eye-cluster.yaml"
cluster_schema || die "schema set-up on the cluster failed"
db_sql() { cluster_sql 1 -N -B eye -e "$1"; }
measure cluster
CONFLICTS=0
for i in 1 2 3; do
  CONFLICTS=$((CONFLICTS + $(cluster_status "$i" wsrep_local_cert_failures) + $(cluster_status "$i" wsrep_local_bf_aborts)))
done

# --- the table ------------------------------------------------------------
get() { jq -r --arg l "$1" --arg b "$2" "select(.label == \$l and .body == \$b ${4:-}) | .$3" "$RESULTS"; }
line() { # NAME SINGLE CLUSTER UNIT
  awk -v n="$1" -v a="$2" -v b="$3" -v u="$4" 'BEGIN {
    r = (a + 0 > 0) ? sprintf("%.1f%%", 100 * b / a) : ""
    printf "| %s | %s %s | %s %s | %s |\n", n, a, u, b, u, r }'
}
echo
echo "| measure | one server | 3-node Galera | cluster / one server |"
echo "| --- | --- | --- | --- |"
for body in single batch100; do
  line "$body: requests/s" "$(get single $body req_per_s)" "$(get cluster $body req_per_s)" ""
  line "$body: events/s" "$(get single $body events_per_s)" "$(get cluster $body events_per_s)" ""
  line "$body: p50 latency" "$(get single $body p50_us)" "$(get cluster $body p50_us)" "µs"
  line "$body: p99 latency" "$(get single $body p99_us)" "$(get cluster $body p99_us)" "µs"
done
s1=$(get single insert_rate txn_per_s 'and .connections == 1')
c1=$(get cluster insert_rate txn_per_s 'and .connections == 1')
line "commits/s, 1 connection, 1 row" "$s1" "$c1" ""
line "commit latency (1 / that)" "$(awk -v r="$s1" 'BEGIN {printf "%.0f", 1e6 / r}')" \
  "$(awk -v r="$c1" 'BEGIN {printf "%.0f", 1e6 / r}')" "µs"
line "rows/s, 16 connections x 100 rows" "$(get single insert_rate rows_per_s 'and .connections == 16')" \
  "$(get cluster insert_rate rows_per_s 'and .connections == 16')" ""
echo
echo "certification conflicts on the cluster during the run: $CONFLICTS; ${DURATION}s per measure, $CONNECTIONS wrk connections, $(nproc) cores"
