#!/bin/bash
# client.sh - libeyeclient and eye-send against the real stack (issue 9):
# MariaDB, lighttpd spawning eye.fcgi, and eye-spool moving the queue into
# `events`. 20,000 events tracked from 4 threads while lighttpd is stopped
# and started again and MariaDB is down for a few seconds must each be
# stored exactly once; rejections reach the callback with their codes and
# pointers; a full queue drops or blocks as configured; free() returns
# within its timeout with the server gone or hanging; a batch above the
# server's limit is split; eye-send sends NDJSON from stdin and files,
# prints its summary and exits non-zero when anything was lost.
#
# The C side is tests/client/client_driver.c; it prints key=value lines,
# read here with `val`.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
KEY=$(new_app client-app)
DRIVER=$EYE_BUILDDIR/tests/client/client_driver
SEND=$EYE_BUILDDIR/client/eye-send
SPOOL=$EYE_BUILDDIR/spool/eye-spool
# A port nothing listens on: "the server is gone".
GONE="http://127.0.0.1:$(stack_free_port)"

# The spool runs throughout, as in production; stopped on every exit path.
SPOOL_PID=
client_cleanup() {
  local rc=$?
  [ -n "$SPOOL_PID" ] && kill "$SPOOL_PID" 2>/dev/null && wait "$SPOOL_PID" 2>/dev/null
  (exit $rc)
  harness_cleanup
}
trap client_cleanup EXIT
"$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PID=$!

# val FILE KEY: the value of KEY=value in a driver's output.
val() { sed -n "s/^$2=//p" "$1" | tail -1; }

# --- 20,000 events from 4 threads, through a web server restart and a
# --- database outage ---------------------------------------------------------
OUT=$STACK_DIR/load.out
"$DRIVER" load "$BASE" "$KEY" 20000 4 1500 >"$OUT" 2>"$STACK_DIR/load.err" &
DRIVER_PID=$!
sleep 2
kill -0 "$DRIVER_PID" 2>/dev/null
ok $? "the driver is still tracking when lighttpd is stopped"
stack_lighttpd_stop
sleep 2
stack_lighttpd_start || bail "lighttpd did not start again"
sleep 2
kill -0 "$DRIVER_PID" 2>/dev/null
ok $? "the driver is still tracking when MariaDB is stopped"
stack_mariadb_stop
sleep 4
stack_mariadb_start || bail "MariaDB did not start again"
wait "$DRIVER_PID"
is $? 0 "every track returned OK and flush() ended with everything answered"
diag "20,000 events: tracked in $(val "$OUT" tracked_ms) ms, all answered after $(val "$OUT" elapsed_ms) ms (with 4 s of outages and Retry-After waits)"
is "$(val "$OUT" tracked)|$(val "$OUT" sent)|$(val "$OUT" rejected)|$(val "$OUT" dropped)" "20000|20000|0|0" \
  "the client counts 20,000 tracked, 20,000 sent, none rejected or dropped"
retried=$(val "$OUT" retried)
ok $([ "${retried:-0}" -gt 0 ] && echo 0 || echo 1) "the client retried through the outages ($retried retries)"
grep -q 'not delivered (HTTP 503)' "$STACK_DIR/load.err"
ok $? "the client rode through 503s while MariaDB was down"
grep -q "not delivered (.*onnect" "$STACK_DIR/load.err"
ok $? "the client rode through refused connections while lighttpd was down"

wait_drained 120; ok $? "the spool drains the queue"
is "$(sql "SELECT COUNT(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key LIKE 'load-%'")" 20000 \
  "exactly 20,000 events are stored"
is "$(sql "SELECT COUNT(DISTINCT e.event_id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key LIKE 'load-%'")" 20000 \
  "20,000 distinct event_ids: none stored twice"
is "$(sql "SELECT COUNT(DISTINCT JSON_VALUE(e.data, '\$.path')) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key LIKE 'load-%'")" 20000 \
  "every one of the 20,000 events tracked is there (distinct paths)"
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE session_key LIKE 'load-%'")" 0 "no error recorded for them"
is "$(sql "SELECT GROUP_CONCAT(event_count ORDER BY session_key) FROM sessions WHERE session_key LIKE 'load-%'")" \
  "5000,5000,5000,5000" "each thread's session counts its 5,000 events"
diag "duplicates the spool skipped (retries after lost answers): $(sql "SELECT value FROM spool_counters WHERE name = 'duplicates'")"

# --- rejections reach the callback --------------------------------------------
OUT=$STACK_DIR/reject.out
"$DRIVER" reject "$BASE" "$KEY" >"$OUT" 2>"$STACK_DIR/reject.err"
is $? 0 "reject: tracked, flushed"
is "$(grep '^REJECT' "$OUT" | sort | tr '\n' ';')" \
  "REJECT 202 missing_field /data/path id-ok;REJECT 202 pattern_mismatch /session_id id-ok;REJECT 202 timestamp_in_future /timestamp id-ok;REJECT 202 unknown_event_type /name id-ok;REJECT 202 wrong_type /data/path id-ok;" \
  "each rejected event reaches the callback with its code, pointer and event_id"
is "$(val "$OUT" sent)|$(val "$OUT" rejected)|$(val "$OUT" retried)" "1|5|0" "1 sent, 5 rejected, nothing retried"
is "$(val "$OUT" local)" "invalid argument,invalid argument" "data that is not a JSON object is refused by track itself"
wait_drained 30
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE code IN ('missing_field','pattern_mismatch','timestamp_in_future','unknown_event_type','wrong_type') AND received_at > NOW() - INTERVAL 5 MINUTE")" 5 \
  "the server recorded the 5 rejections in event_errors"

BADKEY="eye_00000000_$(printf '0%.0s' $(seq 1 64))"
"$DRIVER" reject "$BASE" "$BADKEY" >"$STACK_DIR/badkey.out" 2>&1
OUT=$STACK_DIR/badkey.out
is "$(grep '^REJECT' "$OUT" | sort -u | tr '\n' ';')" "REJECT 401 invalid_key - id-ok;" \
  "an unknown key: every event reaches the callback with 401 invalid_key"
is "$(val "$OUT" rejected)|$(val "$OUT" retried)" "6|0" "a 401 is never retried"

# --- a batch above the server's limit is split ----------------------------------
OUT=$STACK_DIR/split.out
"$DRIVER" split "$BASE" "$KEY" >"$OUT" 2>"$STACK_DIR/split.err"
is $? 0 "split: flushed"
is "$(val "$OUT" sent)|$(val "$OUT" rejected)|$(val "$OUT" retried)" "1200|0|0" \
  "1,000 events per batch (the server takes 500): 413, split, all 1,200 sent"
grep -q "HTTP 413" "$STACK_DIR/split.err"; ok $? "the split followed a 413"

# --- a full queue ------------------------------------------------------------------
OUT=$STACK_DIR/drop.out
"$DRIVER" drop "$GONE" >"$OUT" 2>/dev/null
is "$(val "$OUT" queued)|$(val "$OUT" efull)|$(val "$OUT" before_free_dropped)" "10|90|90" \
  "drop mode: a queue of 10 takes 10, refuses 90 at once and counts them"
ok $([ "$(val "$OUT" track_ms)" -lt 200 ] && echo 0 || echo 1) "drop mode: track never waits ($(val "$OUT" track_ms) ms for 100)"
is "$(val "$OUT" dropped)" 100 "the 10 left when free's time is up count as dropped too"
is "$(val "$OUT" tracked)" 100 "tracked = sent + rejected + dropped + pending holds for refused events"
OUT=$STACK_DIR/block.out
"$DRIVER" block "$GONE" >"$OUT" 2>/dev/null
is "$(val "$OUT" queued)|$(val "$OUT" eleventh)" "10|timed out" "block mode: the 11th event waits, then times out"
ms=$(val "$OUT" blocked_ms)
ok $([ "$ms" -ge 290 ] && [ "$ms" -lt 1500 ] && echo 0 || echo 1) "block mode: it waited its block_timeout of 300 ms ($ms ms)"

# --- free() with the server gone, or hanging -------------------------------------
for t in 1000 3000; do
  OUT=$STACK_DIR/free-$t.out
  "$DRIVER" free "$GONE" $t >"$OUT" 2>/dev/null
  ms=$(val "$OUT" free_ms)
  ok $([ "$ms" -ge $((t - 50)) ] && [ "$ms" -le $((t + 2000)) ] && echo 0 || echo 1) \
    "free($t ms) with the server gone returns in time ($ms ms)"
  is "$(val "$OUT" free)|$(val "$OUT" dropped)|$(val "$OUT" sent)" "timed out|50|0" "and counts the 50 events as dropped"
done
OUT=$STACK_DIR/hang.out
"$DRIVER" hang 1000 >"$OUT" 2>/dev/null
ms=$(val "$OUT" free_ms)
ok $([ "$ms" -le 3000 ] && echo 0 || echo 1) "free(1000 ms) with a request in flight to a server that never answers: $ms ms"
is "$(val "$OUT" dropped)" 50 "its events count as dropped"
# A live server: free() delivers first.
OUT=$STACK_DIR/free-live.out
"$DRIVER" free "$BASE" 5000 >"$OUT" 2>/dev/null
is "$(val "$OUT" free)|$(val "$OUT" dropped)" "ok|0" "free() against a live server: nothing dropped"

# --- eye-send ---------------------------------------------------------------------
T=$STACK_DIR/send
mkdir -p "$T"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ev() { # SESSION PATH [EXTRA MEMBERS]
  printf '{"session_id":"%s","category":"page interaction","name":"pageview","data":{"host":"send.example.com","path":"%s"},"timestamp":"%s"%s}\n' \
    "$1" "$2" "$now" "${3:-}"
}
{ ev send-stdin /1; ev send-stdin /2; ev send-stdin /3; } >"$T/three.ndjson"
out=$("$SEND" --url "$BASE" --key "$KEY" <"$T/three.ndjson" 2>"$T/err")
is $? 0 "eye-send: 3 good events from stdin exit 0"
like "$out" $'sent: +3\nrejected: +0' "eye-send: the summary counts 3 sent" || diag "$out"

{
  ev send-file /a
  echo
  ev send-file /b ',"event_id":"5a0c1d0e-4a53-4c8e-9d51-2b1f0f6f0a02"'
  ev send-file /b ',"event_id":"5a0c1d0e-4a53-4c8e-9d51-2b1f0f6f0a02"'
  echo '{"session_id":"send-file","category":"page interaction","name":"scroll","data":{},"timestamp":"'"$now"'"}'
  echo 'this is not json'
} >"$T/mixed.ndjson"
ev send-file /c >"$T/one.ndjson"
out=$(EYE_URL=$BASE EYE_KEY=$KEY "$SEND" "$T/mixed.ndjson" - <"$T/one.ndjson" 2>"$T/err")
is $? 1 "eye-send: a rejected event and a bad line make the exit code 1"
like "$out" $'events read: +6\nsent: +4\nrejected: +1\n +1 +unknown_event_type at /name\ndropped: +0\ninvalid: +1' \
  "eye-send: files and stdin (from EYE_URL/EYE_KEY): 4 sent, 1 rejected with its reason, 1 invalid line" || diag "$out"
like "$(cat "$T/err")" "mixed.ndjson:6: not sent" "eye-send: the invalid line is named with its number"
like "$(cat "$T/err")" "rejected \(HTTP 202\) unknown_event_type at /name" "eye-send: the rejected event is shown"
wait_drained 30
is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = '5a0c1d0e-4a53-4c8e-9d51-2b1f0f6f0a02'")" 1 \
  "eye-send keeps a given event_id: the same event twice is stored once"
is "$(sql "SELECT COUNT(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key IN ('send-stdin', 'send-file')")" 6 \
  "eye-send's events are stored (3 + 3 distinct)"

start=$(date +%s%N)
out=$("$SEND" --url "$GONE" --key "$KEY" --timeout 1 -q <"$T/three.ndjson" 2>/dev/null)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
is "$rc" 1 "eye-send: the server gone, exit 1"
like "$out" $'sent: +0\nrejected: +0\ndropped: +3' "eye-send: the 3 events are counted as dropped"
ok $([ "$ms" -lt 4000 ] && echo 0 || echo 1) "eye-send --timeout 1 gives up in time ($ms ms)"

"$SEND" --url "$BASE" --key "$KEY" --no-gzip --batch-size 1 <"$T/three.ndjson" >/dev/null 2>&1
is $? 0 "eye-send --no-gzip --batch-size 1 sends too"
like "$("$SEND" --help)" "^usage: eye-send" "eye-send --help prints the usage"
"$SEND" --help >/dev/null; is $? 0 "eye-send --help exits 0"
env -u EYE_URL -u EYE_KEY "$SEND" </dev/null >/dev/null 2>&1; is $? 2 "eye-send without URL and key: exit 2"
"$SEND" --url ftp://x --key k </dev/null >/dev/null 2>&1; is $? 2 "eye-send with a URL that is not http(s): exit 2"
"$SEND" --url "$BASE" --key k --batch-size 0 </dev/null >/dev/null 2>&1; is $? 2 "eye-send --batch-size 0: exit 2"
"$SEND" --url "$BASE" --key "$KEY" "$T/no-such-file" >/dev/null 2>&1; is $? 1 "eye-send with a missing file: exit 1"

# Under valgrind once: no leak, no error. A sanitizer build cannot run
# under valgrind; there ASan and UBSan watch every eye-send run above, and
# harness_finish fails on any report they write.
if ! ldd "$EYE_BUILDDIR/client/.libs/eye-send" 2>/dev/null | grep -q libasan; then
  "$EYE_BUILDDIR/libtool" --mode=execute valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=99 "$SEND" --url "$BASE" --key "$KEY" <"$T/three.ndjson" >/dev/null 2>"$T/valgrind.log"
  is $? 0 "eye-send under valgrind: no error, no definite leak" || head -30 "$T/valgrind.log" | sed 's/^/# /'
fi

harness_finish
