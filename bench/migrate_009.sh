#!/bin/bash
# migrate_009.sh - how long migration 009 (partitions, event_ids) takes on
# an installation with data: N events (default 1,000,000, bench/queries/
# load.sh) loaded into the schema of migrations 001-008, then
# `eye-admin migrate` timed. Prints seconds and seconds per million events.
#
#   bench/migrate_009.sh [N]
set -euo pipefail

N=${1:-1000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
EYE_BUILDDIR=${EYE_BUILDDIR:-$BENCH_SRC/build}
[ -x "$EYE_BUILDDIR/admin/eye-admin" ] || { echo "migrate_009: build first" >&2; exit 1; }

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
  b=$(basename "$f"); [ "${b:0:3}" -lt 9 ] && cp "$f" "$STACK_DIR/old/"
done

stack_mariadb_start
stack_write_config "$STACK_DIR/eye.yaml"
stack_admin accounts --generate --admin-only | stack_sql
EYE_MIGRATIONS_DIR=$STACK_DIR/old stack_admin migrate >/dev/null
BENCH_DAYS=365 bench_load "$N" "$STACK_DIR/data"
size=$(stack_sql -N -B eye -e "SELECT ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576) FROM information_schema.TABLES
                               WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME IN ('events', 'event_errors')")
t0=$(date +%s.%N)
stack_admin migrate
t1=$(date +%s.%N)
s=$(echo "$t1 - $t0" | bc)
echo "migrate_009: $N events ($size MiB of events + event_errors) converted in $(printf %.1f "$s") s:" \
  "$(printf %.1f "$(echo "$s * 1000000 / $N" | bc -l)") s per million events" \
  "(buffer pool $(stack_sql -N -B -e 'SELECT @@innodb_buffer_pool_size DIV 1048576') MiB)"
