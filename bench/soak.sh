#!/bin/bash
# soak.sh - The Eye under steady mixed traffic for a long time: does memory
# or the number of open descriptors creep up? (issue 14)
#
#   bench/soak.sh [MINUTES]      10 minutes by default
#
# Starts the stack as the integration tests do (tests/lib/harness.sh: a
# private MariaDB, lighttpd on a free port spawning eye.fcgi) and one
# eye-spool, then sends mixed traffic at a steady rate with
# tests/lib/loadgen.py: batches of valid and invalid events (NDJSON+gzip
# and JSON arrays), hostile bodies (not JSON, invalid UTF-8, nesting too
# deep, bad gzip, unknown key, too many events...) and reads (the read API,
# /v1/health). Every SOAK_INTERVAL seconds it samples, from /proc, the
# resident memory (VmRSS) and open descriptors of every eye.fcgi process
# and of eye-spool, and prints them as a table at the end.
#
# It asserts (TAP, one line per check; exit 1 when any fails):
#   - the same processes ran throughout (none died or was replaced);
#   - after the warm-up, each one's RSS never rises 10% above its first
#     post-warm-up sample; neither its sockets nor its other descriptors
#     grow (the lowest reading of the last third of the samples is at most
#     the highest of the first third: a request in flight holds a FastCGI
#     connection and the rules check opens the folder for a moment, while a
#     leak raises even the floor),
#     and eye.fcgi's sockets stay within what the design opens (the
#     listening socket, two background connections, two database
#     connections per worker thread, opened when first needed, and one
#     FastCGI connection per busy worker);
#   - every answer was the expected one (202/422 for batches, the 4xx of
#     each hostile shape, 200 for reads), and after the drain every
#     acknowledged event is stored exactly once (tests/lib/ledger.sh).
#
# Environment (defaults in brackets):
#   EYE_BUILDDIR [<src>/build]   a built tree (make, or make check once)
#   SOAK_SECONDS [MINUTES*60]    length of the traffic
#   SOAK_WARMUP [60, or a third of SOAK_SECONDS when shorter]
#   SOAK_INTERVAL [10]           seconds between samples
#   SOAK_RATE [500]              events/s offered (4 senders, 20-event batches)
#   SOAK_HOSTILE [0.1] SOAK_READS [0.1] SOAK_INVALID [0.1]
#                                shares of hostile and read requests, and of
#                                invalid events in batches
#   EYE_TEST_KEEP=1              keep the temporary folder
#
# tests/integration/soak.sh runs it for 60 seconds in `make check`.
set -u
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
: "${EYE_SRCDIR:=$SRCDIR}"
: "${EYE_BUILDDIR:=$SRCDIR/build}"
export EYE_SRCDIR EYE_BUILDDIR
case "${1:-}" in
  -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  '') MINUTES=10 ;;
  *[!0-9]*) echo "usage: bench/soak.sh [MINUTES]" >&2; exit 2 ;;
  *) MINUTES=$1 ;;
esac
for f in fcgi/eye.fcgi spool/eye-spool admin/eye-admin; do
  [ -x "$EYE_BUILDDIR/$f" ] || { echo "soak: $EYE_BUILDDIR/$f is missing: build first (make)" >&2; exit 2; }
done
: "${SOAK_SECONDS:=$((MINUTES * 60))}"
if [ -z "${SOAK_WARMUP:-}" ]; then
  SOAK_WARMUP=60
  [ $((SOAK_SECONDS / 3)) -lt 60 ] && SOAK_WARMUP=$((SOAK_SECONDS / 3))
fi
: "${SOAK_INTERVAL:=10}" "${SOAK_RATE:=500}"
: "${SOAK_HOSTILE:=0.1}" "${SOAK_READS:=0.1}" "${SOAK_INVALID:=0.1}"

. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/ledger.sh"
# Under AddressSanitizer freed memory is held in a quarantine (256 MiB by
# default) before it is reused, so RSS grows until that is full whatever
# the program does. A small quarantine keeps use-after-free detection and
# lets the warm-up reach the steady state.
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=4"

SPOOL_PIDS=
soak_cleanup() {
  local rc=$?
  ledger_kill
  for p in $SPOOL_PIDS; do stack_stop_pid "$p" 10; wait "$p" 2>/dev/null; done
  (exit $rc)
  harness_cleanup
}
trap soak_cleanup EXIT

harness_start
KEY=$(new_app soak)
READ_KEY=$(new_app soak-reader --read)
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PIDS=$!
FCGI=$(fcgi_pids | tr '\n' ' ')
diag "soak: ${SOAK_SECONDS} s of traffic at ${SOAK_RATE} events/s offered, samples every ${SOAK_INTERVAL} s, warm-up ${SOAK_WARMUP} s"
diag "eye.fcgi processes: $FCGI; eye-spool: $SPOOL_PIDS; build: $EYE_BUILDDIR"

# Every worker thread of every process opens its database connections
# (ingest, and analyst for reads) and touches its buffers when it first
# needs them; lighttpd sends low traffic mostly to one process. So before
# the clock starts: three bursts of 64 requests at once of each kind the
# soak sends, the largest accepted batch (500 events, always the same
# event_ids: stored once, written into the ledger), reads of its session,
# and unknown keys (a key lookup each).
warm_up() {
  local body=$STACK_DIR/warmup.json round i codes args=() rargs=() now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  "$LEDGER_PYTHON" - "$body" "$STACK_DIR/ledger.tsv" "$now" <<'PY'
import json, sys, uuid
body, ledger, now = sys.argv[1:4]
evs = []
with open(ledger, "a") as led:
    for i in range(500):
        eid = str(uuid.uuid4())
        path = "/warmup/%d" % i
        evs.append({"event_id": eid, "session_id": "warmup-0", "category": "page interaction",
                    "name": "pageview", "data": {"host": "warm.example.com", "path": path},
                    "timestamp": now})
        led.write("%s\tA\twarmup-0\t\t%s\n" % (eid, path))
open(body, "w").write(json.dumps(evs))
PY
  for i in $(seq 1 64); do
    args+=(-o /dev/null "$BASE/v1/events")
    rargs+=(-o /dev/null "$BASE/v1/events?session_id=warmup-0&limit=1000")
  done
  for round in 1 2 3; do
    codes=$(curl -s -m 60 --parallel --parallel-max 64 -w '%{http_code}\n' -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/json' --data-binary @"$body" "${args[@]}" 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    is "$codes" " 64 202;" "warm-up $round: 64 batches of 500 events at once are all accepted"
    codes=$(curl -s -m 60 --parallel --parallel-max 64 -w '%{http_code}\n' -H "Authorization: Bearer $READ_KEY" \
      "${rargs[@]}" 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    is "$codes" " 64 200;" "warm-up $round: 64 reads at once all answer 200"
    codes=$(curl -s -m 60 --parallel --parallel-max 64 -w '%{http_code}\n' -H "Authorization: Bearer eye_00000000_$(printf '0%.0s' $(seq 1 64))" \
      -H 'Content-Type: application/json' --data-binary '[]' "${args[@]}" 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    is "$codes" " 64 401;" "warm-up $round: 64 unknown keys at once are all refused"
  done
}
warm_up

load_start soak --threads 4 --batch 20 --rate "$SOAK_RATE" --invalid "$SOAK_INVALID" \
  --hostile "$SOAK_HOSTILE" --reads "$SOAK_READS" --read-key "$READ_KEY" --duration "$SOAK_SECONDS"

# sample T: one line per process: T ROLE PID RSS_KIB OTHER_FDS SOCKETS (RSS
# - when the process is gone). Descriptors are the least of five readings
# 50 ms apart: a request in flight holds its FastCGI connection, a rules
# check opens the folder for a moment; a leaked descriptor stays.
SAMPLES=$STACK_DIR/soak-samples.tsv
: >"$SAMPLES"
sample() {
  local t=$1 p role rss i all socks other min_socks min_other listing
  for p in $FCGI $SPOOL_PIDS; do
    role=fcgi; [ "$p" = "$SPOOL_PIDS" ] && role=spool
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    min_socks= min_other=
    for i in 1 2 3 4 5; do
      # One listing for both counts: two would race a connection opened
      # or closed between them.
      listing=$(ls -l "/proc/$p/fd" 2>/dev/null | grep -- ' -> ')
      all=$(printf '%s\n' "$listing" | grep -c .)
      socks=$(printf '%s\n' "$listing" | grep -c 'socket:')
      other=$((all - socks))
      [ -z "$min_socks" ] || [ "$socks" -lt "$min_socks" ] && min_socks=$socks
      [ -z "$min_other" ] || [ "$other" -lt "$min_other" ] && min_other=$other
      sleep 0.05
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$role" "$p" "${rss:--}" "$min_other" "$min_socks" >>"$SAMPLES"
  done
}
t0=$(date +%s)
next=0
while :; do
  now=$(($(date +%s) - t0))
  if [ "$now" -ge "$next" ]; then
    sample "$next"
    next=$((next + SOAK_INTERVAL))
  fi
  [ "$next" -gt "$SOAK_SECONDS" ] && break
  kill -0 "$LOAD_PID" 2>/dev/null || [ "$now" -ge "$SOAK_SECONDS" ] || break
  sleep 0.5
done
load_stop
diag "requests: $(awk -F'\t' '{ print $7 }' "$LOAD_DIR/requests.tsv" | sort | uniq -c | sort -rn | awk '{ printf "%s %s, ", $1, $2 }')"
diag "statuses: $(awk -F'\t' '{ print $4 }' "$LOAD_DIR/requests.tsv" | sort | uniq -c | awk '{ printf "%s x%s, ", $2, $1 }')"

# The table: one row per sample, RSS in KiB and descriptors per process.
{
  printf '%8s' "t (s)"
  for p in $FCGI $SPOOL_PIDS; do
    role=eye.fcgi; [ "$p" = "$SPOOL_PIDS" ] && role=eye-spool
    printf ' | %-9s %-12s' "$role" "$p"
  done
  echo
  printf '%8s' ""
  for p in $FCGI $SPOOL_PIDS; do printf ' | %10s %5s %5s' "RSS KiB" "socks" "other"; done
  echo
  awk -F'\t' '{ key = $1; if (!(key in seen)) { seen[key] = 1; order[n++] = key }
                v[key, $3] = sprintf(" | %10s %5s %5s", $4, $6, $5) }
              END { for (i = 0; i < n; i++) { line = sprintf("%8s", order[i])
                      split(pids, ps, " "); for (j = 1; j in ps; j++) line = line v[order[i], ps[j]]
                      print line } }' pids="$FCGI $SPOOL_PIDS" "$SAMPLES"
} | sed 's/^/# /'

# The verdicts, per process, over the samples taken after the warm-up.
# Descriptors: an eye.fcgi worker opens its database connections (ingest,
# analyst) the first time it needs each, and lighttpd spreads low traffic
# unevenly, so sockets may still be opened late; they are bounded by the
# design: the listening socket, the queue watcher's and the committer's
# connections, two per worker, and a FastCGI connection per busy worker.
THREADS=$(stack_admin config | awk '/^ingest.threads / { t = 1 } t && /^  value:/ { print $2; exit }')
for p in $FCGI $SPOOL_PIDS; do
  role=eye.fcgi; max_socks=$((3 + 3 * THREADS))
  [ "$p" = "$SPOOL_PIDS" ] && role=eye-spool max_socks=
  # Per process, after the warm-up: RSS first/min/max; descriptors other
  # than sockets and sockets, each as the highest reading of the first
  # third of the samples and the lowest of the last third: a leak raises
  # even the floor, while a descriptor a request holds for a moment (or a
  # connection a worker opens late, the first time it needs it) does not.
  read -r n gone rfirst rmin rmax oearly olate searly slate smax <<<"$(awk -F'\t' -v p="$p" -v w="$SOAK_WARMUP" '
    $3 == p && $1 >= w { n++; if ($4 == "-") { gone++; next }
      if (rf == "") { rf = $4; rmin = rmax = $4 }
      if ($4 < rmin) rmin = $4; if ($4 > rmax) rmax = $4
      o[n] = $5; k[n] = $6; if ($6 > smax) smax = $6 }
    END { t = int(n / 3); if (t < 1) t = 1
      for (i = 1; i <= t; i++) { if (o[i] > oe) oe = o[i]; if (k[i] > se) se = k[i] }
      ol = o[n]; sl = k[n]
      for (i = n - t + 1; i <= n; i++) { if (o[i] < ol) ol = o[i]; if (k[i] < sl) sl = k[i] }
      printf "%d %d %s %s %s %d %d %d %d %d\n", n, gone, rf, rmin, rmax, oe, ol, se, sl, smax }' "$SAMPLES")"
  ok $([ "$n" -ge 2 ] && [ "$gone" = 0 ] && echo 0 || echo 1) \
    "$role $p ran throughout ($n samples after the warm-up)"
  [ "$n" -ge 2 ] && [ "$gone" = 0 ] || continue
  # Growth is what a leak looks like; memory handed back (the sanitizers'
  # allocator does) is not.
  ok $(awk -v f="$rfirst" -v b="$rmax" 'BEGIN { exit !(b <= f * 1.10) }'; echo $?) \
    "$role $p: RSS flat after the warm-up, never 10% above $rfirst KiB ($rmin-$rmax KiB)"
  ok $([ "$olate" -le "$oearly" ] && echo 0 || echo 1) \
    "$role $p: descriptors other than sockets do not grow (at most $oearly in the first third, at least $olate in the last)"
  # eye.fcgi's workers open their database connections lazily: growth up
  # to the full set (listen, watcher, committer, 2 per worker) is the
  # design, not a leak.
  full=$searly
  [ -n "$max_socks" ] && [ $((3 + 2 * THREADS)) -gt "$full" ] && full=$((3 + 2 * THREADS))
  ok $([ "$slate" -le "$full" ] && echo 0 || echo 1) \
    "$role $p: sockets do not grow (at most $searly in the first third, at least $slate in the last; lazily opened connections up to $full allowed)"
  if [ -n "$max_socks" ]; then
    ok $([ "$smax" -le "$max_socks" ] && echo 0 || echo 1) \
      "$role $p: sockets within the design's $max_socks (listen, watcher, committer, 2 per worker, one FastCGI connection per busy worker): at most $smax"
  fi
done
is "$(fcgi_pids | tr '\n' ' ')" "$FCGI" "lighttpd still runs the eye.fcgi processes it started with"
ledger_check "after the soak"
harness_finish
