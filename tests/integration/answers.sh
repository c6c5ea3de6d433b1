#!/bin/bash
# answers.sh - how eye.fcgi answers, whatever route refuses: one error shape
# ({"error": {"code", "pointer", "message"}}, pointer always a string, ""
# when no single value is to blame) from the router, auth, ingest and the
# read API; the Authorization header's grammar (exactly one key after
# "Bearer "); the headers of whole and of streamed answers; the health
# endpoint.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
KEY=$(new_app shop); RKEY=$(new_app reader --read)
HDRS=$STACK_DIR/headers
EV='{"session_id":"s1","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"/"},"timestamp":"2024-05-01 10:00:00"}'
header() { grep -i "^$1:" "$HDRS" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
# shape BODY: "code|type of pointer|pointer|members of error" of an error body.
shape() { json_get "$1" '[.error.code, (.error.pointer | type), .error.pointer, (.error | keys | join(","))] | join("|")'; }

# --- one error shape everywhere -----------------------------------------------
# label|method|path|key variable (or none)|body (or none)|status|code|pointer
long_path=/v1/$(printf 'x%.0s' $(seq 1 1100))
long_query="/v1/events?category=$(printf 'c%.0s' $(seq 1 5000))"
BADKEY=not-a-key
while IFS='|' read -r label method path keyvar body status code pointer; do
  args=()
  [ "$keyvar" != none ] && args+=(-H "Authorization: Bearer ${!keyvar}")
  [ "$body" != none ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  case $path in '$'*) v=${path#\$}; path=${!v} ;; esac
  http "$method" "$path" "${args[@]}"
  is "$HTTP_STATUS|$(shape "$HTTP_BODY")" "$status|$code|string|$pointer|code,message,pointer" \
    "$label: $status $code, pointer \"$pointer\""
done <<'CASES'
unknown path|GET|/nowhere|none|none|404|not_found|
other method|DELETE|/v1/events|KEY|none|405|method_not_allowed|
other method on health|PUT|/v1/health|none|none|405|method_not_allowed|
no key (write)|POST|/v1/events|none|{}|401|missing_key|
no key (read)|GET|/v1/errors|none|none|401|missing_key|
malformed key|POST|/v1/events|BADKEY|{}|401|invalid_key|
read key writing|POST|/v1/events|RKEY|{}|403|wrong_scope|
write key reading|GET|/v1/events|KEY|none|403|wrong_scope|
URI too long|GET|$long_path|none|none|414|uri_too_long|
query too long|GET|$long_query|RKEY|none|414|query_too_long|
body not JSON|POST|/v1/events|KEY|{"session_id":|400|invalid_json|
not an event|POST|/v1/events|KEY|[]|400|empty_batch|
unknown read parameter|GET|/v1/events?colour=red|RKEY|none|400|unknown_parameter|colour
bad read parameter|GET|/v1/events?limit=0|RKEY|none|400|invalid_parameter|limit
CASES

# --- Authorization: exactly one key after "Bearer " -------------------------------
# label|header (KEY stands for the write key)|status|code
TAB=$'\t'
while IFS='|' read -r label hdr status code; do
  hdr=${hdr//KEY/$KEY}; hdr=${hdr//<TAB>/$TAB}
  http POST /v1/events -H "Authorization: $hdr" -H 'Content-Type: application/json' --data-binary "$EV"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" '.error.code // "-"')" "$status|$code" "Authorization: $label: $status $code"
done <<'CASES'
Bearer KEY|Bearer KEY|202|-
the scheme in any case|bEARER KEY|202|-
blanks around the key|Bearer    KEY   |202|-
a tab after the key|Bearer KEY<TAB>|202|-
a trailing token|Bearer KEY junk|401|invalid_key
a trailing token after a tab|Bearer KEY<TAB>junk|401|invalid_key
the key twice|Bearer KEY KEY|401|invalid_key
text glued to the key|Bearer KEYjunk|401|invalid_key
another scheme|Basic KEY|401|missing_key
CASES
http GET /v1/events -H "Authorization: Bearer $RKEY junk"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "a read key with a trailing token: 401 invalid_key"
http GET /v1/events -H "Authorization: Bearer  $RKEY "
is "$HTTP_STATUS" 200 "a read key with blanks around it: 200"

# --- headers of whole and of streamed answers ------------------------------------
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>/dev/null
http GET /v1/health -D "$HDRS"
is "$HTTP_STATUS|$(header Content-Type)|$(header Cache-Control)" "200|application/json|no-store" \
  "a whole answer: status, JSON, no-store"
got=$(curl -s -m 10 -D "$HDRS" -o /dev/null -w '%{size_download}' "$BASE/v1/health")
is "$(header Content-Length)" "$got" "a whole answer carries its Content-Length"
http GET /v1/events -D "$HDRS" -H "Authorization: Bearer $RKEY"
is "$HTTP_STATUS|$(header Content-Type)|$(header Cache-Control)|$(json_get "$HTTP_BODY" '.events | length')" \
  "200|application/json|no-store|4" "a streamed answer: 200, JSON, no-store, the rows"
http GET /v1/events -D "$HDRS" -H "Authorization: Bearer $RKEY" -H 'Accept: application/x-ndjson'
is "$HTTP_STATUS|$(header Content-Type)" "200|application/x-ndjson" "a streamed NDJSON answer"
is "$(grep -ci '^Status:' "$HDRS")" 0 "no Status header leaks to the client"

# --- the health endpoint ----------------------------------------------------------
http GET /v1/health
is "$(json_get "$HTTP_BODY" '[.status, .database, (.rules_version | length), .event_types] | map(tostring) | join(" ")')" \
  "ok up 16 3" "GET /v1/health: ok, database up, the rule-set version, 3 event types"
like "$(json_get "$HTTP_BODY" .queue_depth)" '^[0-9]+$' "health shows the queue depth"

harness_finish
