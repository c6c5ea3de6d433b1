#!/bin/bash
# client_poison.sh - one event the server cannot store does not block the
# events beside it (issue 20). A MariaDB trigger on event_queue, created
# here as the admin, fails the insert of any row whose data holds a marker,
# so eye.fcgi answers 500 internal_error for every request that carries the
# marked event. libeyeclient must split the batch down to that event, hand
# it to on_reject as server_error after server_error_attempts server
# errors, and deliver the 99 others, in order, in a bounded number of
# requests (counted from lighttpd's access log). A second marker makes the
# trigger fail with a lock-wait timeout while a switch is on, which
# eye.fcgi answers 503 + Retry-After ("not now"): that batch must be
# retried whole until it goes through, never split or rejected. eye-send
# reports the poison event as server_error and exits 1.
#
# The C side is tests/client/client_driver.c, mode `one`.
. "$EYE_SRCDIR/tests/lib/harness.sh"
# eye.fcgi (which inherits lighttpd's environment) asks for 1 s, not 5, so
# the busy case sees more 503s than server_error_attempts in a few seconds.
export EYE_INGEST_RETRY_AFTER_SECONDS=1
harness_start
KEY=$(new_app poison-app)
DRIVER=$EYE_BUILDDIR/tests/client/client_driver
SPOOL=$EYE_BUILDDIR/spool/eye-spool
ACCESS=$STACK_DIR/lighttpd-access.log

SPOOL_PID=
poison_cleanup() {
  local rc=$?
  [ -n "$SPOOL_PID" ] && kill "$SPOOL_PID" 2>/dev/null && wait "$SPOOL_PID" 2>/dev/null
  (exit $rc)
  harness_cleanup
}
trap poison_cleanup EXIT
"$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PID=$!

# val FILE KEY: the value of KEY=value in a driver's output.
val() { sed -n "s/^$2=//p" "$1" | tail -1; }

# posts FROM STATUS: POSTs to /v1/events in the access log after line FROM
# that were answered STATUS ("" for any). lighttpd buffers its access log
# and a stop flushes it, so each count is taken between two restarts:
# restart_lighttpd; from=$(log_lines); ...requests...; restart_lighttpd.
posts() { tail -n +"$(($1 + 1))" "$ACCESS" | grep -c "\"POST /v1/events HTTP/1.1\" $2"; }
log_lines() { wc -l <"$ACCESS"; }
restart_lighttpd() { stack_lighttpd_stop; stack_lighttpd_start || bail "lighttpd did not start again"; }

# --- the server side: a trigger that fails one event -------------------------------
stack_sql eye <<'SQL' || bail "the test trigger could not be created"
CREATE TABLE test_busy (on_since DATETIME NOT NULL);
DELIMITER //
CREATE TRIGGER test_poison BEFORE INSERT ON event_queue FOR EACH ROW
BEGIN
  IF NEW.data LIKE '%poison-marker%' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test: this event cannot be stored';
  END IF;
  IF NEW.data LIKE '%busy-marker%' AND EXISTS (SELECT 1 FROM test_busy) THEN
    SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1205, MESSAGE_TEXT = 'test: lock wait timeout';
  END IF;
END//
DELIMITER ;
SQL
ok 0 "a BEFORE INSERT trigger on event_queue fails rows marked poison-marker (and busy-marker while test_busy has a row)"

# What eye.fcgi answers for them (fcgi/ingest.c: QUEUE_FAILED is 500
# internal_error, a transient MariaDB error 503 database_unavailable).
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
one() { printf '{"session_id":"probe","category":"page interaction","name":"pageview","data":{"host":"probe.example.com","path":"/%s"},"timestamp":"%s"}' "$1" "$now"; }
post_events "$KEY" "$(one poison-marker)" -D "$STACK_DIR/probe.headers"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "500|internal_error" \
  "eye.fcgi answers a request holding the poison event 500 internal_error"
grep -qi '^Retry-After' "$STACK_DIR/probe.headers"
ok $([ $? -ne 0 ] && echo 0 || echo 1) "the 500 carries no Retry-After (a server error, not \"not now\")"
sql "INSERT INTO test_busy VALUES (NOW())"
post_events "$KEY" "$(one busy-marker)" -D "$STACK_DIR/probe.headers"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "503|database_unavailable" \
  "while test_busy has a row, the busy event gets 503 database_unavailable"
is "$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' "$STACK_DIR/probe.headers")" 1 "with Retry-After (1 s, as configured)"
sql "DELETE FROM test_busy"
post_events "$KEY" "[$(one fine-1),$(one poison-marker),$(one fine-2)]"
is "$HTTP_STATUS" 500 "the poison event fails the whole request it is in"

# --- 100 events, one of them poison -------------------------------------------------
# paths N..M except SKIP: "/N,/N+1,...", the order the events were tracked in.
paths() { seq "$1" "$2" | grep -vx "$3" | sed 's|^|/|' | paste -sd,; }

restart_lighttpd
from=$(log_lines)
OUT=$STACK_DIR/poison.out
"$DRIVER" one "$BASE" "$KEY" poison-1 100 37 poison-marker >"$OUT" 2>"$STACK_DIR/poison.err"
is $? 0 "flush() returned with every event answered: the client did not loop"
K=$(val "$OUT" server_error_attempts)
is "$K" 3 "server_error_attempts defaults to 3"
is "$(val "$OUT" tracked)|$(val "$OUT" sent)|$(val "$OUT" rejected)|$(val "$OUT" dropped)" "100|99|1|0" \
  "the client counts 99 sent and 1 rejected, nothing dropped"
is "$(grep -c '^REJECTED ' "$OUT")" 1 "on_reject was called once"
is "$(grep '^REJECTED ' "$OUT")" \
  "REJECTED id=$(val "$OUT" marked_id) status=500 code=server_error pointer=- event=id-ok marked=yes" \
  "on_reject got the poison event itself (its own event_id and JSON), HTTP 500, code server_error"
like "$(val "$OUT" REJECTED_MESSAGE)" "^HTTP 500 internal_error 3 times: the events could not be stored" \
  "its message names the server's answer and how often it came"
grep -q "splitting the batch" "$STACK_DIR/poison.err"; ok $? "the client split the batch after repeated 500s"

restart_lighttpd # flushes the access log
all=$(posts "$from" "")
failed=$(posts "$from" 500)
accepted=$(posts "$from" 202)
diag "100 events, one poison: $all requests ($failed answered 500, $accepted answered 202) in $(val "$OUT" elapsed_ms) ms"
is "$((failed + accepted))" "$all" "every request was answered 500 or 202"
# plan.h's bound: K * (L + 1) failed requests and L good halves, L = ceil(log2 100) = 7.
ok $([ "$failed" -le $((K * 8)) ] && [ "$all" -le $((K * 8 + 7)) ] && echo 0 || echo 1) \
  "bounded: $failed <= $((K * 8)) failed requests, $all <= $((K * 8 + 7)) in all"
is "$((failed % K))" 0 "each part that held the poison event was sent $K times, no more"
ok $([ "$failed" -ge $((2 * K)) ] && echo 0 || echo 1) "the whole batch and the lone event each got $K tries ($failed 500s)"

wait_drained 30; ok $? "the spool drains the queue"
is "$(sql "SELECT COUNT(*), COUNT(DISTINCT e.event_id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'poison-1'")" \
  "99	99" "the 99 good events are stored in events, each once"
is "$(sql "SELECT GROUP_CONCAT(JSON_VALUE(e.data, '\$.path') ORDER BY e.id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'poison-1'")" \
  "$(paths 0 99 37)" "in the order they were tracked (splitting reordered nothing)"
is "$(sql "SELECT COUNT(*) FROM events WHERE data LIKE '%poison-marker%'")|$(sql "SELECT COUNT(*) FROM event_errors WHERE session_key = 'poison-1'")" \
  "0|0" "the poison event is stored nowhere (the application has it from on_reject)"
is "$(sql "SELECT event_count FROM sessions WHERE session_key = 'poison-1'")" 99 "the session counts 99 events"

# --- server_error_attempts is honoured ------------------------------------------------
restart_lighttpd
from=$(log_lines)
OUT1=$STACK_DIR/poison-k1.out
"$DRIVER" one "$BASE" "$KEY" poison-2 100 37 poison-marker 1 >"$OUT1" 2>"$STACK_DIR/poison-k1.err"
is $? 0 "server_error_attempts 1: flushed"
is "$(val "$OUT1" sent)|$(val "$OUT1" rejected)|$(grep -c '^REJECTED .*code=server_error .*marked=yes' "$OUT1")" "99|1|1" \
  "server_error_attempts 1: 99 sent, the poison event rejected as server_error"
restart_lighttpd
failed1=$(posts "$from" 500)
is "$((failed1 * K))" "$failed" "the same split with one try per part: a third of the 500s ($failed1)"

# --- eye-send -------------------------------------------------------------------------
SEND=$EYE_BUILDDIR/client/eye-send
T=$STACK_DIR/send
mkdir -p "$T"
ev() { # PATH EVENT_ID
  printf '{"session_id":"poison-send","category":"page interaction","name":"pageview","data":{"host":"send.example.com","path":"%s"},"timestamp":"%s","event_id":"%s"}\n' \
    "$1" "$now" "$2"
}
{
  ev /a 0c9e1f52-8a57-4d0e-9b7a-6f1d2c3b4a01
  ev /b-poison-marker 0c9e1f52-8a57-4d0e-9b7a-6f1d2c3b4a02
  ev /c 0c9e1f52-8a57-4d0e-9b7a-6f1d2c3b4a03
} >"$T/three.ndjson"
out=$("$SEND" --url "$BASE" --key "$KEY" <"$T/three.ndjson" 2>"$T/err")
is $? 1 "eye-send: an event the server cannot store makes the exit code 1"
like "$out" $'sent: +2\nrejected: +1\n +1 +server_error\ndropped: +0' \
  "eye-send: the two others are sent, the poison one counted as server_error" || diag "$out"
like "$(cat "$T/err")" 'rejected \(HTTP 500\) server_error: HTTP 500 internal_error 3 times: .*b-poison-marker' \
  "eye-send shows the event it gave up on"
out=$("$SEND" --url "$BASE" --key "$KEY" --server-error-attempts 1 -q <"$T/three.ndjson" 2>"$T/err")
is $? 1 "eye-send --server-error-attempts 1: exit 1 again"
like "$out" $'sent: +2\nrejected: +1\n +1 +server_error' "eye-send --server-error-attempts 1: the same verdicts"
"$SEND" --url "$BASE" --key "$KEY" --server-error-attempts x </dev/null >/dev/null 2>&1
is $? 2 "eye-send --server-error-attempts x: exit 2"
wait_drained 30
is "$(sql "SELECT GROUP_CONCAT(JSON_VALUE(e.data, '\$.path') ORDER BY e.id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'poison-send'")" \
  "/a,/c" "eye-send's good events are stored, once each though sent twice (same event_id)"

# --- "not now" is not poison: a 503 batch is retried whole -------------------------------
sql "INSERT INTO test_busy VALUES (NOW())"
restart_lighttpd
from=$(log_lines)
OUT=$STACK_DIR/busy.out
"$DRIVER" one "$BASE" "$KEY" busy-1 100 37 busy-marker >"$OUT" 2>"$STACK_DIR/busy.err" &
DRIVER_PID=$!
# More 503s than server_error_attempts (a 500 would have split the batch
# by then), then MariaDB takes the event again.
for i in $(seq 1 300); do
  [ "$(grep -c 'not delivered (HTTP 503)' "$STACK_DIR/busy.err")" -gt $((K + 1)) ] && break
  sleep 0.1
done
sql "DELETE FROM test_busy"
wait "$DRIVER_PID"
is $? 0 "busy: flushed once MariaDB took the event again"
is "$(val "$OUT" sent)|$(val "$OUT" rejected)|$(val "$OUT" dropped)" "100|0|0" "busy: all 100 sent, none rejected"
retried=$(val "$OUT" retried)
ok $([ "${retried:-0}" -ge 1 ] && echo 0 || echo 1) "busy: the batch was retried ($retried times)"
grep -q "splitting" "$STACK_DIR/busy.err"
ok $([ $? -ne 0 ] && echo 0 || echo 1) "busy: a 503 with Retry-After never splits the batch"
restart_lighttpd
unavailable=$(posts "$from" 503)
is "$(posts "$from" "")|$(posts "$from" 202)" "$((unavailable + 1))|1" \
  "busy: $unavailable requests answered 503, then the whole batch in one 202"
ok $([ "$unavailable" -gt "$K" ] && echo 0 || echo 1) "busy: more 503s ($unavailable) than server_error_attempts ($K), and still no split"
wait_drained 30
is "$(sql "SELECT GROUP_CONCAT(JSON_VALUE(e.data, '\$.path') ORDER BY e.id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'busy-1'")" \
  "$(paths 0 99 none | sed 's|/37|/37-busy-marker|')" "busy: the 100 events are stored, in order, the marked one too"

harness_finish
