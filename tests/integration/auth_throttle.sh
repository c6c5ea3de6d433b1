#!/bin/bash
# auth_throttle.sh - failed authentication is rate-limited per client
# address (ingest.auth_failures_per_second, ingest.auth_failure_burst):
# past the burst an address gets no key lookup: a key that would need one
# is 429 rate_limited with Retry-After (no database query: checked with the
# server's statement counter), while a key the process has cached (a valid
# one in use, or a refused one) is answered as usual; it recovers at the
# configured rate; a valid key spends nothing; a malformed key (checksum)
# counts like an unknown one; another address is not affected.
. "$EYE_SRCDIR/tests/lib/harness.sh"
BURST=5
stack_mariadb_start || bail "MariaDB did not start"
stack_write_config "$STACK_DIR/eye.yaml"
cat >>"$STACK_CONFIG" <<CONF
ingest:
  auth_failures_per_second: 1
  auth_failure_burst: $BURST
CONF
# One eye.fcgi process, so that every request meets the same buckets.
STACK_FCGI_PROCS=1
stack_schema || bail "schema set-up failed"
stack_lighttpd_start || bail "lighttpd did not start"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
KEY=$(new_app shop)
EV='{"session_id":"s1","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"/"},"timestamp":"2024-05-01 10:00:00"}'
HDRS=$STACK_DIR/headers
# legacy N: a key of the shape made before checksums, unknown: only the
# database can tell, so each try costs a lookup unless the address is
# throttled. malformed N: a key whose checksum is wrong (refused offline).
legacy() { printf 'eye_%08x_%064x' "$1" "$1"; }
malformed() { printf 'eye_%08x_%056x_00000000' "$1" "$1"; }
# drain N: spends whatever tokens came back meanwhile (unknown keys until
# one is 429), so that a check right after it meets an empty bucket however
# slowly the steps before it ran (the sanitizers' build is slow).
drain() {
  local i
  for i in $(seq 1 20); do
    post_events "$(legacy $((1000 + $1 * 20 + i)))" "$EV"
    [ "$HTTP_STATUS" = 429 ] && return 0
  done
  return 1
}
executed() { stack_sql -N -B -e "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | awk '{ print $2 }'; }

post_events "$KEY" "$EV"
is "$HTTP_STATUS" 202 "a valid key: 202"
# Fresh unknown keys (each a lookup): the burst is spent on the 5th.
codes=
for i in $(seq 1 $BURST); do
  post_events "$(legacy "$i")" "$EV"
  codes="$codes $HTTP_STATUS"
done
is "$codes" "$(printf ' 401%.0s' $(seq 1 $BURST))" "$BURST failed authentications: 401 each"
post_events "$(legacy 9)" "$EV" -D "$HDRS"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "429|rate_limited" "the next one from the same address: 429 rate_limited"
retry=$(grep -i '^Retry-After:' "$HDRS" | tr -d '\r' | awk '{ print $2 }')
ok $([ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 2 ] && echo 0 || echo 1) "with Retry-After (got '$retry')"
http GET /v1/events -H "Authorization: Bearer $(legacy 10)"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "429|rate_limited" "the read routes too"
http GET /v1/health
is "$HTTP_STATUS" 200 "health needs no key and is not throttled"
post_events "$KEY" "$EV"
is "$HTTP_STATUS" 202 "while throttled, a valid key the process has cached is still accepted"
post_events "$(legacy 1)" "$EV"
is "$HTTP_STATUS" 401 "while throttled, a refused key the process has cached is still 401"
NEWKEY=$(stack_admin key create shop 2>/dev/null)
drain 1
post_events "$NEWKEY" "$EV"
is "$HTTP_STATUS" 429 "while throttled, a valid key that would need a lookup is 429 too"
# After a second, one token: one more try is looked at (401), the next
# is refused again.
drain 2
sleep 1.1
post_events "$(legacy 11)" "$EV"; a=$HTTP_STATUS
post_events "$(legacy 12)" "$EV"; b=$HTTP_STATUS
is "$a $b" "401 429" "it recovers at the configured rate: one lookup a second"
drain 3
sleep 1.1
post_events "$(malformed 13)" "$EV"; a=$HTTP_STATUS
post_events "$(legacy 14)" "$EV"; b=$HTTP_STATUS
is "$a $b" "401 429" "a malformed key (bad checksum) spends a token like an unknown one"
# The same address with a valid key, once a token is back: accepted, and
# it spends nothing.
sleep 1.1
codes=
for i in 1 2 3 4 5 6 7 8; do post_events "$KEY" "$EV"; codes="$codes $HTTP_STATUS"; done
is "$codes" "$(printf ' 202%.0s' 1 2 3 4 5 6 7 8)" "a valid key from a recovered address: 202, again and again (valid requests spend nothing)"
# Another address (127.0.0.2, also loopback) has its own bucket.
got=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -X POST -H "Authorization: Bearer $(legacy 15)" \
  -H 'Content-Type: application/json' --data-binary "$EV" "$BASE/v1/events")
is "$got" 401 "another client address is not throttled by this one's failures"
# Unthrottled, an unknown legacy-shaped key is one lookup per try; while
# throttled, none.
sleep 6
before=$(executed)
for i in 1 2 3; do post_events "$(legacy $((100 + i)))" "$EV"; done
after=$(executed)
ok $([ $((after - before)) -ge 3 ] && echo 0 || echo 1) "unthrottled: 3 unknown keys, 3 lookups or more ($((after - before)) statements)"
# While throttled, nothing reaches the key table: count lookups.
for i in $(seq 1 $((BURST + 2))); do post_events "$(legacy $((200 + i)))" "$EV"; done
before=$(stack_sql -N -B -e "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | awk '{ print $2 }')
for i in $(seq 1 50); do post_events "$(legacy $((300 + i)))" "$EV"; done
after=$(stack_sql -N -B -e "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | awk '{ print $2 }')
is "$HTTP_STATUS" 429 "still throttled after 50 more tries"
# (eye.fcgi's queue watcher runs a statement now and then: a few, not 50)
ok $([ $((after - before)) -lt 10 ] && echo 0 || echo 1) "50 throttled tries looked up no key ($((after - before)) statements in all, the queue watcher's)"
harness_finish
