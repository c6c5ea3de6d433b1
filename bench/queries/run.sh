#!/bin/bash
# run.sh - the analyst query benchmark (issue 6): N events, then latencies.
#
#   bench/queries/run.sh [N]        N events, default 10000000 (N=200000: ~1 min)
#
# Starts a private stack exactly as the integration tests do (scripts/
# stack.sh, the steps of tests/lib/harness.sh harness_start: MariaDB in a
# temporary folder, accounts, migrations, lighttpd on a free port spawning
# $EYE_BUILDDIR/fcgi/eye.fcgi), bulk-loads N synthetic events (load.sh,
# gen_events.c), then times each query of the issue BENCH_REPS times after
# BENCH_WARMUP warm-up runs, with different parameters every time (another
# session, day, hour, category or month: no result comes from a repeat), the
# kinds interleaved so none keeps the buffer pool warm for itself:
#
#   SQL (one connection, sqltime.c)           HTTP (one curl process, keep-alive)
#   timeline of a ~200-event session          GET /v1/sessions/{id}/events
#   first 100 of a category in one day        GET /v1/events?category=&from=&to=&limit=100
#   first 100 of one hour                     GET /v1/events?from=&to=&limit=100
#   COUNT(*) of a category in one month       (SQL only: the API has no count)
#
# Prints EXPLAIN of each SQL query once, then one table (median and p99 in
# ms, rows returned) and writes it as JSON to BENCH_RESULTS.
#
# Environment:
#   EYE_BUILDDIR       build tree (default: the repository's build/)
#   BENCH_REPS         measured runs per query (default 100; at least 30)
#   BENCH_WARMUP       warm-up runs per query (default 10)
#   BENCH_RESULTS      JSON output (default $EYE_BUILDDIR/bench/queries-N.json)
#   BENCH_BUFFER_POOL  e.g. 2G: resize the InnoDB buffer pool after the load
#                      (default: keep the test stack's 256M)
#   BENCH_KEEP=1       keep the temporary folder and leave it for inspection
#   BENCH_STATE=DIR    keep the stack's state in DIR (never removed); a later
#                      run with the same DIR and N skips the load and only
#                      measures (repeat runs, a new eye.fcgi, another pool size)
#   BENCH_SEED, BENCH_DAYS, BENCH_ERR_PCT, BENCH_VERIFY: see load.sh
set -euo pipefail

N=${1:-10000000}
case $N in '' | *[!0-9]*) echo "usage: $0 [N]" >&2; exit 2 ;; esac
BENCH_SRC=$(cd "$(dirname "$0")/../.." && pwd)
EYE_BUILDDIR=${EYE_BUILDDIR:-$BENCH_SRC/build}
REPS=${BENCH_REPS:-100}
WARM=${BENCH_WARMUP:-10}
[ "$REPS" -ge 30 ] || { echo "run: BENCH_REPS must be at least 30" >&2; exit 2; }
RESULTS=${BENCH_RESULTS:-$EYE_BUILDDIR/bench/queries-$N.json}
SEED=${BENCH_SEED:-20250101}
DAYS=${BENCH_DAYS:-365}

[ -x "$EYE_BUILDDIR/fcgi/eye.fcgi" ] && [ -x "$EYE_BUILDDIR/admin/eye-admin" ] || {
  echo "run: no eye.fcgi / eye-admin under $EYE_BUILDDIR (build first, or set EYE_BUILDDIR)" >&2
  exit 1
}

. "$BENCH_SRC/scripts/stack.sh"
. "$BENCH_SRC/bench/queries/load.sh"

STACK_SRCDIR=$BENCH_SRC
STACK_BUILDDIR=$EYE_BUILDDIR
STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
if [ -n "${BENCH_STATE:-}" ]; then
  mkdir -p "$BENCH_STATE"
  STACK_DIR=$(cd "$BENCH_STATE" && pwd)
  BENCH_KEEP=1
else
  STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-bench.XXXXXX")
fi
STACK_DB_PORT=
STACK_HTTP_PORT=
STACK_DB_PID=
STACK_HTTP_PID=

bench_cleanup() {
  local rc=$?
  stack_lighttpd_stop
  stack_mariadb_stop
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    echo "run: state kept in $STACK_DIR" >&2
  else
    rm -rf "$STACK_DIR"
  fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# The two helper programs, built here so the benchmark needs no build rule.
BIN=$STACK_DIR/bin
mkdir -p "$BIN" "$(dirname "$RESULTS")"
cc -O2 -Wall -o "$BIN/gen_events" "$BENCH_SRC/bench/queries/gen_events.c"
# shellcheck disable=SC2046
cc -O2 -Wall -o "$BIN/sqltime" "$BENCH_SRC/bench/queries/sqltime.c" \
  $(pkg-config --cflags --libs libmariadb 2>/dev/null || pkg-config --cflags --libs mysqlclient)
BENCH_GEN=$BIN/gen_events

# The stack, as harness_start builds it.
echo "run: starting MariaDB and lighttpd in $STACK_DIR"
stack_mariadb_start
stack_write_config "$STACK_DIR/eye.yaml"
stack_schema
# The data is of 2025 (gen_events.c): months of their own, so queries prune
# (migration 009 starts the partitions at the current month).
stack_admin partitions --ensure --from 2025-01 >/dev/null
stack_lighttpd_start
BASE="http://127.0.0.1:$STACK_HTTP_PORT"

if [ -f "$STACK_DIR/loaded.env" ]; then
  . "$STACK_DIR/loaded.env"
  [ "$BENCH_LOADED_EVENTS" = "$N" ] || {
    echo "run: $STACK_DIR holds $BENCH_LOADED_EVENTS events, not $N" >&2
    exit 1
  }
  echo "run: reusing the $N events loaded in $STACK_DIR (load took $BENCH_LOAD_SECONDS s)"
else
  bench_load "$N" "$STACK_DIR/data"
  printf 'BENCH_LOADED_EVENTS=%s\nBENCH_GEN_SECONDS=%s\nBENCH_LOAD_SECONDS=%s\n' \
    "$BENCH_LOADED_EVENTS" "$BENCH_GEN_SECONDS" "$BENCH_LOAD_SECONDS" >"$STACK_DIR/loaded.env"
fi

if [ -n "${BENCH_BUFFER_POOL:-}" ]; then
  stack_sql -e "SET GLOBAL innodb_buffer_pool_size = ${BENCH_BUFFER_POOL}"
fi
POOL_MB=$(stack_sql -N -B -e "SELECT @@innodb_buffer_pool_size DIV 1048576")

VIEWS=migrations
if [ "$(stack_sql -N -B eye -e "SELECT COUNT(*) FROM information_schema.VIEWS
        WHERE TABLE_SCHEMA = 'eye' AND TABLE_NAME IN ('v_events', 'v_session_timeline')")" != 2 ]; then
  echo "run: the analyst views (migrations/004, 005, 013) are missing" >&2
  exit 1
fi

READER=bench-reader-$(date +%s)
READKEY=$(stack_admin app create "$READER" --read 2>/dev/null) || {
  echo "run: eye-admin app create $READER --read failed" >&2
  exit 1
}

# --- parameters: a different session/day/hour/month for every run --------
TOTAL=$((WARM + REPS))
P=$STACK_DIR/params
mkdir -p "$P"
stack_sql -N -B eye -e "SELECT session_key FROM sessions WHERE event_count BETWEEN 180 AND 220
                        ORDER BY RAND($SEED) LIMIT $TOTAL" >"$P/sessions.raw"
LONG_SESSIONS=$(wc -l <"$P/sessions.raw")
[ "$LONG_SESSIONS" -gt 0 ] || { echo "run: no session with ~200 events" >&2; exit 1; }
# fewer long sessions than runs (small N): reuse them in turn
awk -v total="$TOTAL" '{ k[NR] = $0 } END { for (i = 0; i < total; i++) print k[i % NR + 1] }' \
  "$P/sessions.raw" >"$P/sessions"
stack_sql -N -B eye -e "SELECT name FROM event_categories ORDER BY id" >"$P/categories"

# One line per run: kind, label, SQL, URL (empty when the kind has none),
# interleaved run by run (a, b, c, d, a, b, ...).
TZ=UTC gawk -F'\t' -v total="$TOTAL" -v warm="$WARM" -v days="$DAYS" -v seed="$SEED" \
  -v base="$BASE" -v catfile="$P/categories" '
  function q(s) { gsub(/\047/, "\047\047", s); return "\047" s "\047" }
  function url(s) { gsub(/ /, "%20", s); return s }
  function ts(t) { return strftime("%Y-%m-%d %H:%M:%S", t, 1) }
  function iso(t) { return strftime("%Y-%m-%dT%H:%M:%SZ", t, 1) }
  BEGIN {
    srand(seed)
    while ((getline c < catfile) > 0) cats[nc++] = c
    start = mktime("2025 01 01 00 00 00")
    months = int(days / 31); if (months < 1) months = 1
  }
  { sess[NR - 1] = $1 }
  END {
    for (i = 0; i < total; i++) {
      w = (i < warm) ? "warm:" : ""
      printf "a\t%ssession timeline (~200)\tSELECT * FROM v_session_timeline WHERE session_id = %s ORDER BY seq\t%s/v1/sessions/%s/events?limit=1000\n", \
        w, q(sess[i]), base, sess[i]
      c = cats[int(rand() * nc)]; d = start + int(rand() * days) * 86400
      printf "b\t%scategory, one day, first 100\tSELECT * FROM v_events WHERE category = %s AND occurred_at >= %s AND occurred_at < %s ORDER BY occurred_at, id LIMIT 100\t%s/v1/events?category=%s&from=%s&to=%s&limit=100\n", \
        w, q(c), q(ts(d)), q(ts(d + 86400)), base, url(c), iso(d), iso(d + 86400)
      h = start + int(rand() * days * 24) * 3600
      printf "c\t%sone hour, first 100\tSELECT * FROM v_events WHERE occurred_at >= %s AND occurred_at < %s ORDER BY occurred_at, id LIMIT 100\t%s/v1/events?from=%s&to=%s&limit=100\n", \
        w, q(ts(h)), q(ts(h + 3600)), base, iso(h), iso(h + 3600)
      c = cats[int(rand() * nc)]; m = int(rand() * months) + 1
      from = mktime(sprintf("2025 %02d 01 00 00 00", m)); to = mktime(sprintf("2025 %02d 01 00 00 00", m + 1))
      printf "d\t%scategory, one month, COUNT(*)\tSELECT COUNT(*) FROM events e JOIN event_categories c ON c.id = e.category_id WHERE c.name = %s AND e.occurred_at >= %s AND e.occurred_at < %s\t\n", \
        w, q(c), q(ts(from)), q(ts(to))
    }
  }' "$P/sessions" >"$P/plan"

# --- EXPLAIN, once per SQL query --------------------------------------
echo
echo "== EXPLAIN (views: $VIEWS, buffer pool ${POOL_MB} MiB) =="
for k in a b c d; do
  line=$(awk -F'\t' -v k="$k" '$1 == k && $2 !~ /^warm:/ { print; exit }' "$P/plan")
  sql=$(printf '%s' "$line" | cut -f3)
  echo "-- $(printf '%s' "$line" | cut -f2): $sql"
  stack_sql -t eye -e "EXPLAIN $sql"
done

# --- SQL timings: one connection for the whole plan ------------------------
echo
echo "run: timing SQL ($WARM warm-up + $REPS runs per query, interleaved)"
awk -F'\t' '{ l = $2; w = ""; if (sub(/^warm:/, "", l)) w = "warm:"; print w "sql " l "\t" $3 }' \
  "$P/plan" | "$BIN/sqltime" "$STACK_DB_SOCKET" root eye >"$P/sql.times"

# --- HTTP timings: one curl process, URLs in plan order, keep-alive ---------
echo "run: timing HTTP ($WARM warm-up + $REPS runs per query, interleaved)"
mkdir -p "$P/http"
# A kind whose first answer is slow (> BENCH_HTTP_SLOW s, default 3) or
# not 200 gets 5 runs and no warm-up, not hours of them; the table says so.
slow_kinds=
for k in a b c; do
  probe=$(awk -F'\t' -v k="$k" '$1 == k { print $4; exit }' "$P/plan")  # a warm-up URL
  out=$(curl -s -o /dev/null -m 60 -w '%{time_total} %{http_code}' \
    -H "Authorization: Bearer $READKEY" "$probe" || echo "60 000")
  if [ "${out#* }" != 200 ] || [ "$(echo "${out% *} > ${BENCH_HTTP_SLOW:-3}" | bc)" = 1 ]; then
    echo "run: WARNING: HTTP query $k is slow or failing (${out% *} s, status ${out#* }): 5 runs only"
    slow_kinds="$slow_kinds$k"
  fi
done
awk -F'\t' -v slow="$slow_kinds" '$4 != "" {
    l = $2; w = ""; if (sub(/^warm:/, "", l)) w = "warm:"
    if (index(slow, $1) > 0 && (w != "" || ++n[$1] > 5)) next
    print w "http " l "\t" $4 }' "$P/plan" >"$P/http.plan"
awk -F'\t' -v dir="$P/http" '{ printf "url = \"%s\"\noutput = \"%s/%05d\"\n", $2, dir, NR }' \
  "$P/http.plan" >"$P/curl.cfg"
curl -s -m "${BENCH_HTTP_TIMEOUT:-30}" -K "$P/curl.cfg" -H "Authorization: Bearer $READKEY" \
  -w '%{time_total}\t%{http_code}\n' >"$P/curl.out" || true
HTTP_BAD=0
i=0
while IFS=$'\t' read -r label _ && IFS=$'\t' read -r secs code <&3; do
  i=$((i + 1))
  if [ "$code" = 200 ]; then
    rows=$(jq -r '.events | length' "$(printf '%s/%05d' "$P/http" "$i")" 2>/dev/null || echo "?")
  else
    rows="HTTP$code"
    case $label in warm:*) ;; *) HTTP_BAD=$((HTTP_BAD + 1)) ;; esac
  fi
  printf '%s\t%s\t%s\n' "$label" "$(echo "$secs * 1000" | bc -l)" "$rows"
done <"$P/http.plan" 3<"$P/curl.out" >"$P/http.times"
[ "$HTTP_BAD" = 0 ] || echo "run: WARNING: $HTTP_BAD HTTP runs did not answer 200 (see $P/http; API not merged yet?)"

SQL_ERRORS=$(grep -c '	ERROR	' "$P/sql.times" || true)
[ "$SQL_ERRORS" = 0 ] || echo "run: WARNING: $SQL_ERRORS SQL runs failed (see sqltime's messages above)"

# --- the table and the JSON -----------------------------------------------
cat "$P/sql.times" "$P/http.times" | grep -v '^warm:' | grep -v '	ERROR	' | gawk -F'\t' '
  { n[$1]++; ms[$1][n[$1]] = $2 + 0; rows[$1][n[$1]] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END {
    for (j = 1; j <= k; j++) {
      l = order[j]; m = n[l]
      asort(ms[l], s); asort(rows[l], r)
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      p = int(0.99 * m); if (p < 0.99 * m) p++
      rr = r[1] == r[m] ? r[1] : r[1] "-" r[m]
      printf "%s\t%.2f\t%.2f\t%s\t%d\n", l, med, s[p], rr, m
    }
  }' >"$P/stats"

echo
echo "== $N events, $REPS runs per query after $WARM warm-up, buffer pool ${POOL_MB} MiB, views: $VIEWS =="
printf '%-40s %10s %10s %12s %5s\n' query "median ms" "p99 ms" rows runs
awk -F'\t' '{ printf "%-40s %10s %10s %12s %5s\n", $1, $2, $3, $4, $5 }' "$P/stats"

jq -n --rawfile stats "$P/stats" \
  --arg n "$N" --arg reps "$REPS" --arg warm "$WARM" --arg pool "$POOL_MB" --arg views "$VIEWS" \
  --arg gen "$BENCH_GEN_SECONDS" --arg load "$BENCH_LOAD_SECONDS" --arg cpu "$(nproc)" \
  --arg mariadb "$(stack_sql -N -B -e 'SELECT VERSION()')" --arg when "$(date -u +%FT%TZ)" '
  {
    events: ($n | tonumber), generated_seconds: ($gen | tonumber), load_seconds: ($load | tonumber),
    load_events_per_second: (($n | tonumber) / ($load | tonumber) | floor),
    repetitions: ($reps | tonumber), warmup: ($warm | tonumber), buffer_pool_mib: ($pool | tonumber),
    views: $views, cpus: ($cpu | tonumber), mariadb: $mariadb, when: $when,
    results: [$stats | split("\n")[] | select(length > 0) | split("\t") |
              {query: .[0], median_ms: (.[1] | tonumber), p99_ms: (.[2] | tonumber), rows: .[3], runs: (.[4] | tonumber)}]
  }' >"$RESULTS"
echo "run: results in $RESULTS"
