#!/bin/bash
# context.sh - the request's context stored with every event (events and
# event_errors, and the views): the user agent as sent (cut at 255
# characters, dropped when not UTF-8), the client's address as
# privacy.client_ip keeps it (truncate by default: the /24; drop; a keyed
# hash, stable per address), X-Forwarded-For believed only from a trusted
# proxy, taken right to left past the trusted hops.
. "$EYE_SRCDIR/tests/lib/harness.sh"
stack_mariadb_start || bail "MariaDB did not start"
SPOOL=$EYE_BUILDDIR/spool/eye-spool
EV='{"session_id":"SID","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"/"},"timestamp":"2024-05-01 10:00:00"}'
BAD='{"session_id":"SID","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":5},"timestamp":"2024-05-01 10:00:00"}'
# start_with YAML: (re)starts lighttpd with the privacy section given.
start_with() {
  stack_lighttpd_stop 2>/dev/null
  stack_write_config "$STACK_DIR/eye.yaml"
  printf '%s\n' "$1" >>"$STACK_CONFIG"
  STACK_HTTP_PORT=
  stack_lighttpd_start || bail "lighttpd did not start"
  BASE="http://127.0.0.1:$STACK_HTTP_PORT"
}
send() { # send SESSION BODY [curl args]
  local sid=$1 body=$2; shift 2
  post_events "$KEY" "${body//SID/$sid}" "$@"
}
stored() { # stored SESSION: user_agent|client_ip of its event, after the spool
  "$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
  sql "SELECT CONCAT_WS('|', COALESCE(user_agent, 'NULL'), COALESCE(client_ip, 'NULL')) FROM v_events WHERE session_id = '$1'"
}

stack_write_config "$STACK_DIR/eye.yaml"
stack_schema || bail "schema set-up failed"
KEY=$(new_app shop)

# --- truncate, the default ------------------------------------------------------
start_with ""
send t1 "$EV" -A 'Mozilla/5.0 (X11; Linux x86_64) TheEyeTest/1.0'
is "$HTTP_STATUS" 202 "an event with a user agent"
is "$(stored t1)" "Mozilla/5.0 (X11; Linux x86_64) TheEyeTest/1.0|127.0.0.0" \
  "default: the user agent as sent, the address cut to its /24"
send t2 "$BAD" -A 'Agent/2'
is "$HTTP_STATUS" 422 "a rejected event"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT CONCAT_WS('|', user_agent, client_ip) FROM v_errors WHERE session_id = 't2'")" "Agent/2|127.0.0.0" \
  "a rejected event carries the context too (event_errors, v_errors)"
send t3 "[$EV,$EV]" -A 'Two/1'
is "$(stored t3 | sort -u)" "Two/1|127.0.0.0" "every event of a request carries its context"
send t4 "$EV" -A "$(printf 'u%.0s' $(seq 1 300))"
is "$(stored t4 | cut -d'|' -f1 | tr -d '\n' | wc -c)" 255 "a 300-character user agent is cut at 255"
send t5 "$EV" -H $'User-Agent: bad\xc0\xafagent'
is "$(stored t5)" "NULL|127.0.0.0" "a user agent that is not UTF-8 is not stored"
send t6 "$EV" -A ''
is "$(stored t6)" "NULL|127.0.0.0" "no user agent: NULL"
send t7 "$EV" -H 'X-Forwarded-For: 203.0.113.9'
is "$(stored t7 | cut -d'|' -f2)" "127.0.0.0" "X-Forwarded-For from an untrusted peer is ignored"
# lighttpd's access to 127.0.0.2 (another loopback address) as the client
got=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' --data-binary "${EV//SID/t8}" "$BASE/v1/events")
is "$got|$(stored t8 | cut -d'|' -f2)" "202|127.0.0.0" "another client on the same /24: the same network"

# --- trusted proxies ------------------------------------------------------------
start_with $'privacy:\n  trusted_proxies: "127.0.0.1 10.0.0.5"'
send p1 "$EV" -H 'X-Forwarded-For: 198.51.100.23'
is "$(stored p1 | cut -d'|' -f2)" "198.51.100.0" "from a trusted proxy, the client of X-Forwarded-For"
send p2 "$EV" -H 'X-Forwarded-For: 6.6.6.6, 198.51.100.77, 10.0.0.5'
is "$(stored p2 | cut -d'|' -f2)" "198.51.100.0" "right to left past the trusted hops; the left part is the client's word"
send p3 "$EV" -H 'X-Forwarded-For: 2001:db8:abcd:12::1'
is "$(stored p3 | cut -d'|' -f2)" "2001:db8:abcd::" "an IPv6 client: its /48"
send p4 "$EV" -H 'X-Forwarded-For: not-an-address'
is "$(stored p4 | cut -d'|' -f2)" "127.0.0.0" "garbage in X-Forwarded-For: the proxy's own address"
got=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H "Authorization: Bearer $KEY" -H 'X-Forwarded-For: 198.51.100.99' \
  -H 'Content-Type: application/json' --data-binary "${EV//SID/p5}" "$BASE/v1/events")
is "$got|$(stored p5 | cut -d'|' -f2)" "202|127.0.0.0" "a peer that is not listed is not believed"

# --- drop, hash -----------------------------------------------------------------
start_with $'privacy:\n  client_ip: drop'
send d1 "$EV" -A 'Drop/1'
is "$(stored d1)" "Drop/1|NULL" "client_ip: drop stores no address"
printf 'a-secret-key-of-the-test-0123456789\n' >"$STACK_DIR/ip.key"
start_with $'privacy:\n  client_ip: hash\n  ip_hash_key_file: '"$STACK_DIR/ip.key"
send h1 "$EV"; send h2 "$EV"
h1=$(stored h1 | cut -d'|' -f2); h2=$(stored h2 | cut -d'|' -f2)
like "$h1" '^[0-9a-f]{32}$' "client_ip: hash stores 32 hex digits"
is "$h2" "$h1" "the same address, the same hash"
want=$(printf '127.0.0.1' | openssl dgst -sha256 -hmac 'a-secret-key-of-the-test-0123456789' -r | cut -c1-32)
is "$h1" "$want" "it is HMAC-SHA-256 of the address under the key (first 16 bytes)"
stack_lighttpd_stop
stack_write_config "$STACK_DIR/eye.yaml"
printf 'privacy:\n  client_ip: hash\n' >>"$STACK_CONFIG"
"$EYE_BUILDDIR/admin/eye-admin" --config "$STACK_CONFIG" config >/dev/null 2>"$STACK_DIR/cfg.err"
ok $([ $? -ne 0 ] && grep -q 'ip_hash_key_file' "$STACK_DIR/cfg.err" && echo 0 || echo 1) "hash without a key file is a configuration error"
printf 'privacy:\n  client_ip: full\n' >>"$STACK_CONFIG"
stack_write_config "$STACK_DIR/eye.yaml"
printf 'privacy:\n  client_ip: full\n' >>"$STACK_CONFIG"
"$EYE_BUILDDIR/admin/eye-admin" --config "$STACK_CONFIG" config >/dev/null 2>"$STACK_DIR/cfg.err"
ok $([ $? -ne 0 ] && grep -q 'drop, truncate or hash' "$STACK_DIR/cfg.err" && echo 0 || echo 1) "an unknown policy is a configuration error"
harness_finish
