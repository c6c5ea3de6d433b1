#!/bin/bash
# migrate_013.sh - how long migration 013 (compact rows: event types as a
# dimension, the primary key (occurred_at, id), PAGE_COMPRESSED) takes on an
# installation with data: N events of the old shape (default 1,000,000,
# bench/queries/load.sh with BENCH_SHAPE=old) loaded into the schema of
# migrations 001-012, then `eye-admin migrate` timed. Prints seconds per
# million events, the median of RUNS runs (default 1; each run converts the
# same loaded database, copied back before it), and checks that the number
# of events and a checksum of what an analyst reads of each, (event_id,
# session, category name, type name, data, occurred_at), are the same
# before and after. Exits 1 when they differ.
#
#   bench/migrate_013.sh [N]        RUNS=3 bench/migrate_013.sh 1000000
set -euo pipefail

N=${1:-1000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
RUNS=${RUNS:-1}
case $RUNS in '' | 0 | *[!0-9]*) echo "migrate_013: RUNS must be a positive number" >&2; exit 2 ;; esac
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
EYE_BUILDDIR=${EYE_BUILDDIR:-$BENCH_SRC/build}
[ -x "$EYE_BUILDDIR/admin/eye-admin" ] || { echo "migrate_013: build first" >&2; exit 1; }

. "$BENCH_SRC/scripts/stack.sh"
. "$BENCH_SRC/bench/queries/load.sh"
STACK_SRCDIR=$BENCH_SRC
STACK_BUILDDIR=$EYE_BUILDDIR
STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench-mig.XXXXXX")
STACK_DB_PORT=
STACK_DB_PID=
cleanup() { stack_mariadb_stop; rm -rf "$STACK_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$STACK_DIR/bin" "$STACK_DIR/old"
cc -O2 -Wall -o "$STACK_DIR/bin/gen_events" "$BENCH_SRC/bench/queries/gen_events.c"
BENCH_GEN=$STACK_DIR/bin/gen_events
for f in "$BENCH_SRC"/migrations/[0-9][0-9][0-9]_*.sql; do
  b=$(basename "$f"); [ "$((10#${b:0:3}))" -lt 13 ] && cp "$f" "$STACK_DIR/old/"
done

# The projection an analyst reads, summed over the events: the count, the
# count of rows the join keeps (every event has its session and, after 013,
# its type) and the sum of a 60-bit hash of each row's fields (exact: the
# sum is DECIMAL). FROM is the old or the new shape of events. STRAIGHT_JOIN
# keeps events first, read in its own order: from the 30 event types, the
# optimizer would read every row through ix_events_type_time instead.
checksum() {
  stack_sql -N -B eye -e "
    SELECT STRAIGHT_JOIN (SELECT COUNT(*) FROM events), COUNT(*),
           SUM(CAST(CONV(LEFT(MD5(CONCAT_WS(0x09, e.event_id, s.session_key, $1, e.data,
                                            e.occurred_at)), 15), 16, 10) AS UNSIGNED))
    FROM $2" | tr '\t' ' '
}
OLD_FROM="events e JOIN sessions s ON s.id = e.session_id"
OLD_NAMES="e.category, e.name"
NEW_FROM="events e JOIN sessions s ON s.id = e.session_id
          JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id"
NEW_NAMES="c.name, t.name"

stack_mariadb_start
stack_write_config "$STACK_DIR/eye.yaml"
stack_admin accounts --generate --admin-only | stack_sql
EYE_MIGRATIONS_DIR=$STACK_DIR/old stack_admin migrate >/dev/null
# The data is of 2025 (gen_events.c): months of their own (migration 009
# starts the partitions at the current month).
stack_admin partitions --ensure --from 2025-01 >/dev/null
BENCH_SHAPE=old BENCH_DAYS=365 bench_load "$N" "$STACK_DIR/data"
size=$(stack_sql -N -B eye -e "SELECT ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES
                               WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME IN ('events', 'event_errors')")
before=$(checksum "$OLD_NAMES" "$OLD_FROM")
echo "migrate_013: before: events, joined rows, checksum: $before"
if [ "$RUNS" -gt 1 ]; then
  stack_mariadb_stop
  cp -a "$STACK_DIR/mariadb" "$STACK_DIR/mariadb-012"
  stack_mariadb_start
fi

: >"$STACK_DIR/seconds"
for r in $(seq 1 "$RUNS"); do
  if [ "$r" -gt 1 ]; then
    stack_mariadb_stop
    rm -rf "$STACK_DIR/mariadb"
    cp -a "$STACK_DIR/mariadb-012" "$STACK_DIR/mariadb"
    stack_mariadb_start
  fi
  t0=$(date +%s.%N)
  stack_admin migrate
  t1=$(date +%s.%N)
  s=$(echo "$t1 - $t0" | bc)
  after=$(checksum "$NEW_NAMES" "$NEW_FROM")
  echo "migrate_013: run $r: $(printf %.1f "$s") s; after: events, joined rows, checksum: $after"
  [ "$after" = "$before" ] || {
    echo "migrate_013: run $r: the events differ after the migration (before: $before, after: $after)" >&2
    exit 1
  }
  echo "$s" >>"$STACK_DIR/seconds"
done
med=$(sort -n "$STACK_DIR/seconds" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "migrate_013: $N events ($size MiB of events + event_errors before) converted in $(printf %.1f "$med") s" \
  "(median of $RUNS): $(printf %.1f "$(echo "$med * 1000000 / $N" | bc -l)") s per million events" \
  "(buffer pool $(stack_sql -N -B -e 'SELECT @@innodb_buffer_pool_size DIV 1048576') MiB);" \
  "count and checksum unchanged"
