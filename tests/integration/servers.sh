#!/bin/bash
# servers.sh - the same end-to-end cases through lighttpd and through Apache
# with mod_fcgid (issue 8), both spawning the built eye.fcgi against one
# MariaDB. The cases are one list (SERVER_CASES), run once per server, so
# the two front ends cannot drift apart: a case added here runs under both.
#
# Each case is a function that uses BASE (the server's URL) and SERVER (its
# name, also put into session ids so each run counts its own rows).
# Apache comes from deploy/apache-eye.conf, the file that is installed;
# lighttpd from the top-level lighttpd.conf. Without apache2 and mod_fcgid
# installed the Apache half is skipped (counted as one failure, so it is not
# silently lost).
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/apache.sh"
harness_start
TMP=$STACK_DIR/servers
mkdir -p "$TMP"
KEY=$(new_app servers)
DATA=$EYE_SRCDIR/tests/integration/data

# ev SESSION: a valid event of the session.
ev() { jq -c --arg s "$1" '.session_id = $s' "$DATA/ingest/valid.json"; }
# queued SESSION: rows in the queue for a session.
queued() { sql "SELECT COUNT(*) FROM event_queue WHERE session_key='$1'"; }
# header NAME: a header of the last answer fetched with -D "$TMP/headers".
header() { tr -d '\r' <"$TMP/headers" | sed -n "s/^$1: //Ip" | tail -1; }

# Bodies made once: ingest.max_body_bytes exactly (a JSON string, so 400
# not_an_event once read), and one byte more.
{ printf '"'; head -c $((1048576 - 2)) /dev/zero | tr '\0' x; printf '"'; } >"$TMP/max.json"
{ cat "$TMP/max.json"; printf ' '; } >"$TMP/over.json"

# --- the cases -----------------------------------------------------------------

case_health() {
  http GET /v1/health
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .database)" "200|up" "$SERVER: GET /v1/health is 200, database up"
  http GET '/v1/health?probe=1'
  is "$HTTP_STATUS" 200 "$SERVER: a query string does not change the route"
}

case_not_found() {
  http GET /no/such/path
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "404|not_found" \
    "$SERVER: an unknown path reaches eye.fcgi: 404 not_found"
  http GET /v1/events/
  is "$HTTP_STATUS" 404 "$SERVER: the path is compared whole (REQUEST_URI is the original)"
  http DELETE /v1/events -H "Authorization: Bearer $KEY"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "405|method_not_allowed" "$SERVER: DELETE: 405"
}

case_accepted_batch() {
  local s=srv-$SERVER-batch
  jq -c --arg s "$s" 'map(.session_id = $s)' "$DATA/brief_examples.json" >"$TMP/brief.json"
  post_events "$KEY" "$(cat "$TMP/brief.json")"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .accepted)|$(json_get "$HTTP_BODY" .rejected)" "202|3|0" \
    "$SERVER: the brief's three events: 202, 3 accepted"
  is "$(queued "$s")" 3 "$SERVER: the three events are in the queue"
  is "$(sql "SELECT GROUP_CONCAT(name ORDER BY id SEPARATOR ',') FROM event_queue WHERE session_key='$s'")" \
    "pageview,cta click,submit" "$SERVER: queued in the order sent"
  # The prototype's route, same contract.
  s=srv-$SERVER-proto
  http POST /api/events/ -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data-binary "[$(ev "$s")]"
  is "$HTTP_STATUS" 202 "$SERVER: POST /api/events/ is 202"
  # Both servers read a chunked body whole and give eye.fcgi its length.
  s=srv-$SERVER-chunked
  post_events "$KEY" "[$(ev "$s")]" -H 'Transfer-Encoding: chunked'
  is "$HTTP_STATUS|$(queued "$s")" "202|1" "$SERVER: a chunked body (no Content-Length) is 202"
}

case_event_errors() {
  local s=srv-$SERVER-errors bad
  bad=$(jq -c --arg s "$s" '.event | .session_id = $s' "$DATA/ingest/rejected/missing_field-data-path.json")
  post_events "$KEY" "[$(ev "$s"),$bad]"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .accepted)|$(json_get "$HTTP_BODY" .rejected)" "202|1|1" \
    "$SERVER: one valid and one invalid event: 202, 1 accepted, 1 rejected"
  is "$(json_get "$HTTP_BODY" '.errors[0] | "\(.index) \(.code) \(.pointer)"')" "1 missing_field /data/path" \
    "$SERVER: the rejected event's index, code and pointer"
  is "$(sql "SELECT CONCAT_WS('|', COUNT(*), SUM(error_code='missing_field')) FROM event_queue WHERE session_key='$s'")" \
    "2|1" "$SERVER: both are queued, the invalid one flagged"
  post_events "$KEY" "[$bad]"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .rejected)" "422|1" "$SERVER: every event rejected: 422"
}

case_unauthorized() {
  http POST /v1/events -H 'Content-Type: application/json' --data-binary "$(ev srv-$SERVER-401)"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|missing_key" "$SERVER: no key: 401 missing_key"
  post_events "eye_00000000_$(printf '0%.0s' $(seq 64))" "$(ev srv-$SERVER-401)"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "$SERVER: unknown key: 401 invalid_key"
  is "$(queued srv-$SERVER-401)" 0 "$SERVER: refused requests add nothing to the queue"
}

case_too_large() {
  http POST /v1/events -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data-binary @"$TMP/max.json"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "400|not_an_event" \
    "$SERVER: a body of exactly ingest.max_body_bytes reaches eye.fcgi whole"
  http POST /v1/events -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data-binary @"$TMP/over.json"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "413|body_too_large" \
    "$SERVER: one byte more: 413 body_too_large from eye.fcgi"
}

case_database_down() {
  stack_mariadb_stop
  post_events "$KEY" "$(ev srv-$SERVER-down)" -D "$TMP/headers"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "503|database_unavailable" \
    "$SERVER: MariaDB down: 503 database_unavailable"
  like "$(header Retry-After)" '^[0-9]+$' "$SERVER: MariaDB down: Retry-After"
  http GET /v1/health
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .database)" "503|down" "$SERVER: MariaDB down: health is 503"
  stack_mariadb_start || bail "MariaDB did not restart"
  post_events "$KEY" "$(ev srv-$SERVER-up)"
  is "$HTTP_STATUS" 202 "$SERVER: MariaDB back: 202 without restarting the web server"
  # Each worker thread notices the restart on its own next request; give
  # the one that answers a couple of tries.
  local i seen=""
  for i in 1 2 3 4 5; do
    http GET /v1/health
    seen="$seen $HTTP_STATUS"
    [ "$HTTP_STATUS" = 200 ] && break
    sleep 0.2
  done
  is "$HTTP_STATUS" 200 "$SERVER: MariaDB back: health 200 (answers:$seen)"
  is "$(queued srv-$SERVER-down)|$(queued srv-$SERVER-up)" "0|1" \
    "$SERVER: nothing answered 503 was stored; the event after is"
}

SERVER_CASES="case_health case_not_found case_accepted_batch case_event_errors case_unauthorized
  case_too_large case_database_down"

# run_cases NAME URL: the whole list against one server.
run_cases() {
  SERVER=$1 BASE=$2
  local c
  for c in $SERVER_CASES; do
    $c
  done
}

# --- lighttpd ------------------------------------------------------------------
run_cases lighttpd "http://127.0.0.1:$STACK_HTTP_PORT"

# --- Apache + mod_fcgid ------------------------------------------------------
if ! apache_available; then
  ok 1 "apache2 and mod_fcgid are installed (apt-get install apache2 libapache2-mod-fcgid)"
else
  apache_start || bail "Apache did not start"
  run_cases apache "$APACHE_BASE"
  # What mod_fcgid does differently, checked where it shows.
  is "$(grep -c 'eye.fcgi\[.*started: 1 worker threads' "$APACHE_DIR/error.log")" \
    "$(grep -c 'started: 1 worker threads' "$APACHE_DIR/error.log")" \
    "apache: eye.fcgi runs one worker thread (FcgidInitialEnv EYE_INGEST_THREADS)"
  like "$(grep -c 'started: 1 worker threads' "$APACHE_DIR/error.log")" '^[1-9]' \
    "apache: eye.fcgi's log reaches Apache's error log"
  apache_stop
  sleep 0.3
  is "$(apache_reports)" "" "apache: no sanitizer reports from eye.fcgi under Apache"
fi

harness_finish
