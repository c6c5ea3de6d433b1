#!/bin/bash
# layout.sh - which order should events' rows be kept in (issue 17)? The
# same N events (default 4,000,000 over BENCH_DAYS=2 days, ~23 events/s:
# the density of a busy day, where bench/queries spreads its rows over a
# year) in two copies of `events`:
#
#   time     the table as migrations 013-014 make it: primary key
#            (occurred_at, id), a session's rows interleaved with every
#            other session of its span, ix_events_session_time to find them;
#   session  primary key (session_id, occurred_at, id): a session's rows
#            side by side, ix_events_time (occurred_at, id) for time ranges;
#            the other three indexes as they are.
#
# Both are filled the way eye-spool writes: in arrival order (the time
# order of the loaded table, cut into windows of ~BATCH rows), one
# transaction per window, into the live B-trees (no bulk load), so the
# pages split as the spool's do. The fill's time, mariadbd CPU per row and
# the bytes per row (data + indexes, and per index) are printed. Then the
# server restarts with a cold buffer pool (the stack's 256 MiB), a warm-up
# pass with other parameters reads the upper levels of every index, and
# the analysts' queries run interleaved on one connection (sqltime.c),
# the same parameters for both copies:
#
#   session timeline (a long session, 180-220 events)
#   first 100 of one hour
#   first 100 of a category in one hour
#   COUNT(*) of a category in one hour
#
#   bench/layout.sh [N]     BENCH_REPS (default 200) runs per query,
#                           BENCH_DAYS (2), BATCH (4000)
set -euo pipefail

N=${1:-4000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
BENCH_SRC=$(cd "$(dirname "$0")/.." && pwd)
EYE_BUILDDIR=${EYE_BUILDDIR:-$BENCH_SRC/build}
REPS=${BENCH_REPS:-200}
DAYS=${BENCH_DAYS:-2}
BATCH=${BATCH:-4000}
. "$BENCH_SRC/bench/queries/common.sh"
bench_up layout "$N" "$DAYS"

sql "CREATE TABLE ev_time LIKE events"
sql "CREATE TABLE ev_session LIKE events"
sql "ALTER TABLE ev_session DROP PRIMARY KEY, ADD PRIMARY KEY (session_id, occurred_at, id),
       DROP INDEX ix_events_session_time, ADD KEY ix_events_time (occurred_at, id)"

cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$STACK_DB_PID/stat"; }
# fill TABLE: the loaded rows in time windows of ~BATCH rows, one
# transaction each (autocommit), a loop inside the server.
window_us=$(( DAYS * 86400 * 1000000 * BATCH / N ))
fill() {
  local t0 c0 t1 c1
  t0=$(bench_now); c0=$(cpu_s)
  stack_sql -N -B eye <<EOF
DELIMITER //
BEGIN NOT ATOMIC
  DECLARE t DATETIME(6) DEFAULT (SELECT MIN(occurred_at) FROM events);
  DECLARE hi DATETIME(6) DEFAULT (SELECT MAX(occurred_at) FROM events);
  WHILE t <= hi DO
    INSERT INTO $1 SELECT * FROM events
      WHERE occurred_at >= t AND occurred_at < t + INTERVAL $window_us MICROSECOND;
    SET t = t + INTERVAL $window_us MICROSECOND;
  END WHILE;
END//
EOF
  t1=$(bench_now); c1=$(cpu_s)
  printf 'layout: %-10s filled in %6.1f s, %5.1f µs of mariadbd CPU per row\n' "$1" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "($c1 - $c0) * 1000000 / $N" | bc -l)"
}
fill ev_time
fill ev_session
sql "DROP TABLE events"
sql "ANALYZE TABLE ev_time, ev_session" >/dev/null
[ "$(sql "SELECT (SELECT COUNT(*) FROM ev_time) = $N AND (SELECT COUNT(*) FROM ev_session) = $N")" = 1 ] || {
  echo "layout: a copy does not hold the $N loaded events" >&2
  exit 1
}
echo
echo "bytes per event (innodb_index_stats size, pages of 16 KiB):"
sql "SELECT table_name, index_name, ROUND(SUM(stat_value) * 16384 / $N) FROM mysql.innodb_index_stats
       WHERE database_name = 'eye' AND table_name LIKE 'ev\\_%' AND stat_name = 'size'
       GROUP BY SUBSTRING_INDEX(table_name, '#', 1), index_name
       ORDER BY 1, 2" | awk -F'\t' '{ split($1, t, "#"); printf "  %-10s %-28s %5d\n", t[1], $2, $3 }'
sql "SELECT TABLE_NAME, ROUND((DATA_LENGTH + INDEX_LENGTH) / $N) FROM information_schema.TABLES
       WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME IN ('ev_time', 'ev_session') ORDER BY 1" |
  awk -F'\t' '{ printf "  %-10s %-28s %5d\n", $1, "DATA_LENGTH + INDEX_LENGTH", $2 }'

# --- the plan: 2 x REPS parameter sets, the first half only warms up -------
sql "SELECT id FROM sessions WHERE event_count >= 180 ORDER BY RAND(7) LIMIT $((2 * REPS))" >"$STACK_DIR/sessions"
sql "SELECT id FROM event_categories" >"$STACK_DIR/categories"
TZ=UTC gawk -v reps="$REPS" -v days="$DAYS" -v catfile="$STACK_DIR/categories" '
  function ts(t) { return strftime("%Y-%m-%d %H:%M:%S", t, 1) }
  BEGIN { srand(17); while ((getline c < catfile) > 0) cats[nc++] = c; start = mktime("2025 01 01 00 00 00") }
  { s[NR - 1] = $1 }
  END {
    split("ev_time ev_session", tb, " ")
    for (i = 0; i < NR; i++) {
      pass = (i < NR - reps) ? "warm" : "run"
      h = start + int(rand() * (days * 24 - 1)) * 3600
      c = cats[int(rand() * nc)]
      for (k = 1; k <= 2; k++) {
        t = tb[k]
        printf "%s %s session timeline\tSELECT id, occurred_at, category_id, type_id, data FROM %s WHERE session_id = %s ORDER BY occurred_at, id\n", pass, t, t, s[i]
        printf "%s %s one hour, first 100\tSELECT * FROM %s WHERE occurred_at >= \047%s\047 AND occurred_at < \047%s\047 ORDER BY occurred_at, id LIMIT 100\n", pass, t, t, ts(h), ts(h + 3600)
        printf "%s %s category, one hour, first 100\tSELECT * FROM %s WHERE category_id = %s AND occurred_at >= \047%s\047 AND occurred_at < \047%s\047 ORDER BY occurred_at, id LIMIT 100\n", pass, t, t, c, ts(h), ts(h + 3600)
        printf "%s %s category, one hour, COUNT(*)\tSELECT COUNT(*) FROM %s WHERE category_id = %s AND occurred_at >= \047%s\047 AND occurred_at < \047%s\047\n", pass, t, t, c, ts(h), ts(h + 3600)
      }
    }
  }' "$STACK_DIR/sessions" >"$STACK_DIR/plan"
[ "$(grep -c '^run ' "$STACK_DIR/plan")" -gt 0 ] || { echo "layout: no long sessions to time" >&2; exit 1; }

# A cold buffer pool for both: the dirty pages written first (so the
# shutdown is quick), no dump at shutdown, none loaded; and, as root, the
# kernel's page cache dropped too (BENCH_DROP_CACHES=0 keeps it), so a page
# not in the pool is read from the disk, as on a server whose data is
# larger than its memory.
sql "SET GLOBAL innodb_buffer_pool_dump_at_shutdown = OFF, innodb_max_dirty_pages_pct = 0"
for _ in $(seq 1 600); do
  [ "$(sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
              WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")" -lt 100 ] && break
  sleep 0.5
done
stack_mariadb_stop
rm -f "$STACK_DIR/mariadb/ib_buffer_pool"
if [ "$(id -u)" = 0 ] && [ "${BENCH_DROP_CACHES:-1}" = 1 ]; then
  sync
  echo 3 >/proc/sys/vm/drop_caches
fi
stack_mariadb_start
echo
echo "plans (EXPLAIN of the first measured parameters):"
awk '/^run / { print; if (++n == 8) exit }' "$STACK_DIR/plan" | while IFS=$'\t' read -r label q; do
  echo "  ${label#run }: $(sql "EXPLAIN $q" | awk -F"\t" '{ printf "%s %s %s rows %s; %s; ", $3, $4, $6, $9, $10 }')"
done
# (No warm-up when fewer than 2 x REPS long sessions exist: small N.)
{ grep '^warm ' "$STACK_DIR/plan" || echo "layout: no parameters left to warm up with" >&2; } |
  "$BIN/sqltime" "$STACK_DB_SOCKET" root eye >/dev/null
grep '^run ' "$STACK_DIR/plan" | sed 's/^run //' | "$BIN/sqltime" "$STACK_DB_SOCKET" root eye >"$STACK_DIR/times"
if grep -q $'\tERROR\t' "$STACK_DIR/times"; then echo "layout: a query failed (see above)" >&2; exit 1; fi

echo
bench_summary "ev_time=time ev_session=session" <"$STACK_DIR/times"
