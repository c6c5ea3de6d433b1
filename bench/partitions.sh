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
. "$BENCH_SRC/bench/queries/common.sh"
bench_up partitions "$N" 365

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
bench_summary "events=monthly events_day=daily" <"$STACK_DIR/times"

# DROP PARTITION: one month, as one partition or as its days.
t0=$(date +%s.%N); sql "ALTER TABLE events DROP PARTITION p202503"; t1=$(date +%s.%N)
dp=$(sql "SELECT GROUP_CONCAT(PARTITION_NAME) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA='eye' AND TABLE_NAME='events_day' AND PARTITION_NAME LIKE 'p202503%'")
t2=$(date +%s.%N); sql "ALTER TABLE events_day DROP PARTITION $dp"; t3=$(date +%s.%N)
echo
echo "drop March 2025: monthly $(echo "($t1 - $t0) * 1000" | bc | cut -d. -f1) ms (1 partition), daily $(echo "($t3 - $t2) * 1000" | bc | cut -d. -f1) ms ($(echo "$dp" | tr ',' '\n' | wc -l) partitions)"
