#!/bin/bash
# answers.sh - how eye.fcgi answers, whatever route refuses: one error shape
# ({"error": {"code", "pointer", "message"}}, pointer always a string, ""
# when no single value is to blame) from the router, auth, ingest and the
# read API; the health endpoint.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
KEY=$(new_app shop); RKEY=$(new_app reader --read)
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

# --- the health endpoint ----------------------------------------------------------
http GET /v1/health
is "$(json_get "$HTTP_BODY" '[.status, .database, (.rules_version | length), .event_types] | map(tostring) | join(" ")')" \
  "ok up 16 3" "GET /v1/health: ok, database up, the rule-set version, 3 event types"
like "$(json_get "$HTTP_BODY" .queue_depth)" '^[0-9]+$' "health shows the queue depth"

harness_finish
