# shellcheck shell=bash
# common.sh - what the benchmarks that compare two shapes of events share
# (sourced by bench/partitions.sh and bench/layout.sh): their private
# stack, their tools, and the table of figures they print.
#
# bench_up NAME N DAYS: a MariaDB server as the tests start it, in a new
# temporary folder (STACK_DIR, "eye-bench-NAME.XXXXXX"), the schema with
# months of their own from 2025-01 (the bench's data is old), and N events
# of bench/queries/load.sh over DAYS days from 2025-01-01. Builds
# gen_events and sqltime into BIN. Needs BENCH_SRC and EYE_BUILDDIR; sets
# an EXIT trap that stops the server and removes the folder (BENCH_KEEP=1
# keeps it). Defines sql (one statement, rows on stdout, no headers).
#
# bench_summary MAP: reads sqltime's lines "TABLE QUERY<TAB>MS<TAB>ROWS" on
# stdin and prints, per table and query, the median and p99 in ms and the
# mean rows; MAP names each table in the first column ("events=monthly
# events_day=daily").

. "$BENCH_SRC/scripts/stack.sh"
. "$BENCH_SRC/bench/queries/load.sh"

sql() { stack_sql -N -B eye -e "$1"; }

bench_up() {
  local name=$1 n=$2 days=$3
  [ -x "$EYE_BUILDDIR/admin/eye-admin" ] || { echo "$name: build first (no $EYE_BUILDDIR/admin/eye-admin)" >&2; exit 1; }
  STACK_SRCDIR=$BENCH_SRC
  STACK_BUILDDIR=$EYE_BUILDDIR
  STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
  STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench-$name.XXXXXX")
  STACK_DB_PORT=
  STACK_DB_PID=
  BENCH_NAME=$name
  trap bench_down EXIT
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
  stack_admin partitions --ensure --from 2025-01 >/dev/null
  BENCH_DAYS=$days bench_load "$n" "$STACK_DIR/data"
}

bench_down() {
  stack_mariadb_stop
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "$BENCH_NAME: state kept in $STACK_DIR" >&2; else rm -rf "$STACK_DIR"; fi
}

bench_summary() {
  printf '%-10s %-32s %9s %9s %8s\n' layout query median_ms p99_ms rows
  sort -t$'\t' -k1,1 -k2,2n | gawk -F'\t' -v map="$1" '
    BEGIN { nm = split(map, m, " "); for (i = 1; i <= nm; i++) { split(m[i], kv, "="); name[kv[1]] = kv[2] } }
    { k = $1; v[k][++n[k]] = $2; r[k] += $3 }
    END {
      PROCINFO["sorted_in"] = "@ind_str_asc"
      for (k in v) { c = n[k]; asort(v[k]); split(k, p, " ")
        printf "%-10s %-32s %9.2f %9.2f %8.0f\n", (p[1] in name) ? name[p[1]] : p[1],
          substr(k, length(p[1]) + 2), v[k][int((c + 1) / 2)], v[k][int(c * 0.99 + 0.999)], r[k] / c }
    }'
}
