#!/bin/bash
# partitions.sh - daily or monthly partitions for events (issue 17): the
# same N events (default 2,000,000 over 2025, bench/queries/load.sh) in
# `events`, partitioned by month as migration 009 makes it, and in a copy
# partitioned by day; then, interleaved on one connection (sqltime.c), the
# queries analysts run against each:
#
#   session timeline (no time bound: every partition's index is probed)
#   first 100 of one hour        (prunes to one partition either way)
#   first 100 of a category in one day
#   COUNT(*) of a category in one week (7 daily partitions, or 1-2 monthly)
#
# and the time of DROP PARTITION of one month (monthly) against its ~31 days
# (daily). Prints median and p99 in ms per query and layout.
#
#   bench/partitions.sh [N]     BENCH_REPS (default 200) runs per query
set -euo pipefail

N=${1:-2000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
EYE_BUILDDIR=${EYE_BUILDDIR:-$BENCH_SRC/build}
REPS=${BENCH_REPS:-200}
[ -x "$EYE_BUILDDIR/admin/eye-admin" ] || { echo "partitions: build first (no $EYE_BUILDDIR/admin/eye-admin)" >&2; exit 1; }

. "$BENCH_SRC/scripts/stack.sh"
. "$BENCH_SRC/bench/queries/load.sh"
STACK_SRCDIR=$BENCH_SRC
STACK_BUILDDIR=$EYE_BUILDDIR
STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench-parts.XXXXXX")
STACK_DB_PORT=
STACK_DB_PID=
cleanup() {
  stack_mariadb_stop
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "partitions: state kept in $STACK_DIR" >&2; else rm -rf "$STACK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN=$STACK_DIR/bin
mkdir -p "$BIN"
cc -O2 -Wall -o "$BIN/gen_events" "$BENCH_SRC/bench/queries/gen_events.c"
# shellcheck disable=SC2046
cc -O2 -Wall -o "$BIN/sqltime" "$BENCH_SRC/bench/queries/sqltime.c" \
  $(pkg-config --cflags --libs libmariadb 2>/dev/null || pkg-config --cflags --libs mysqlclient)
BENCH_GEN=$BIN/gen_events

stack_mariadb_start
stack_write_config "$STACK_DIR/eye.yaml"
stack_schema
sql() { stack_sql -N -B eye -e "$1"; }
# Months of their own for the data's year (the bench's data is old).
stack_admin partitions --ensure --from 2025-01 >/dev/null
BENCH_DAYS=365 bench_load "$N" "$STACK_DIR/data"

# The copy, by day over the same span.
days=$(gawk 'BEGIN { t = mktime("2025 01 01 00 00 00"); for (i = 0; i < 396; i++) {
  d = strftime("%Y%m%d", t + i * 86400, 1); e = strftime("%Y-%m-%d", t + (i + 1) * 86400, 1)
  printf "PARTITION p%s VALUES LESS THAN (\047%s\047), ", d, e } }')
t0=$(date +%s.%N)
sql "CREATE TABLE events_day LIKE events"
sql "ALTER TABLE events_day REMOVE PARTITIONING"
sql "ALTER TABLE events_day PARTITION BY RANGE COLUMNS(occurred_at) (${days}PARTITION p_future VALUES LESS THAN (MAXVALUE))"
sql "INSERT INTO events_day SELECT * FROM events"
sql "ANALYZE TABLE events, events_day" >/dev/null
echo "partitions: copied $N events into events_day in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6) s"
echo "partitions: events has $(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA='eye' AND TABLE_NAME='events'") partitions," \
  "events_day $(sql "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA='eye' AND TABLE_NAME='events_day'")"

# --- the plan: the same parameters for both layouts, interleaved ---------
sql "SELECT id FROM sessions ORDER BY RAND(7) LIMIT $REPS" >"$STACK_DIR/sessions"
sql "SELECT id FROM event_categories" >"$STACK_DIR/categories"
TZ=UTC gawk -v reps="$REPS" -v catfile="$STACK_DIR/categories" '
  function ts(t) { return strftime("%Y-%m-%d %H:%M:%S", t, 1) }
  BEGIN { srand(17); while ((getline c < catfile) > 0) cats[nc++] = c; start = mktime("2025 01 01 00 00 00") }
  { s[NR - 1] = $1 }
  END {
    split("events events_day", tb, " ")
    for (i = 0; i < reps; i++) {
      h = start + int(rand() * 360 * 24) * 3600
      d = start + int(rand() * 358) * 86400
      c = cats[int(rand() * nc)]
      for (k = 1; k <= 2; k++) {
        t = tb[k]
        printf "%s\tsession timeline\tSELECT id, occurred_at, category_id, type_id, data FROM %s WHERE session_id = %s ORDER BY occurred_at, id\n", t, t, s[i]
        printf "%s\tone hour, first 100\tSELECT * FROM %s WHERE occurred_at >= \047%s\047 AND occurred_at < \047%s\047 ORDER BY occurred_at, id LIMIT 100\n", t, t, ts(h), ts(h + 3600)
        printf "%s\tcategory, one day, first 100\tSELECT * FROM %s WHERE category_id = %s AND occurred_at >= \047%s\047 AND occurred_at < \047%s\047 ORDER BY occurred_at, id LIMIT 100\n", t, t, c, ts(d), ts(d + 86400)
        printf "%s\tcategory, one week, COUNT(*)\tSELECT COUNT(*) FROM %s WHERE category_id = %s AND occurred_at >= \047%s\047 AND occurred_at < \047%s\047\n", t, t, c, ts(d), ts(d + 7 * 86400)
      }
    }
  }' "$STACK_DIR/sessions" >"$STACK_DIR/plan"
# A warm-up pass (the first run of each layout reads from disk), then the measured one.
cut -f1,3 "$STACK_DIR/plan" | sed 's/^/warm /' | "$BIN/sqltime" "$STACK_DB_SOCKET" root eye >/dev/null
awk -F'\t' '{ print $1 " " $2 "\t" $3 }' "$STACK_DIR/plan" | "$BIN/sqltime" "$STACK_DB_SOCKET" root eye >"$STACK_DIR/times"

echo
printf '%-10s %-30s %9s %9s %8s\n' layout query median_ms p99_ms rows
sort -t$'\t' -k1,1 -k2,2n "$STACK_DIR/times" | gawk -F'\t' '
  { k = $1; v[k][++n[k]] = $2; r[k] += $3 }
  END {
    PROCINFO["sorted_in"] = "@ind_str_asc"
    for (k in v) { m = n[k]; asort(v[k]); split(k, p, " ")
      lay = (p[1] == "events") ? "monthly" : "daily"; q = substr(k, length(p[1]) + 2)
      printf "%-10s %-30s %9.2f %9.2f %8.0f\n", lay, q, v[k][int((m + 1) / 2)], v[k][int(m * 0.99 + 0.999)], r[k] / m }
  }'

# DROP PARTITION: one month, as one partition or as its days.
t0=$(date +%s.%N); sql "ALTER TABLE events DROP PARTITION p202503"; t1=$(date +%s.%N)
dp=$(sql "SELECT GROUP_CONCAT(PARTITION_NAME) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA='eye' AND TABLE_NAME='events_day' AND PARTITION_NAME LIKE 'p202503%'")
t2=$(date +%s.%N); sql "ALTER TABLE events_day DROP PARTITION $dp"; t3=$(date +%s.%N)
echo
echo "drop March 2025: monthly $(echo "($t1 - $t0) * 1000" | bc | cut -d. -f1) ms (1 partition), daily $(echo "($t3 - $t2) * 1000" | bc | cut -d. -f1) ms ($(echo "$dp" | tr ',' '\n' | wc -l) partitions)"
