#!/bin/bash
# openapi.sh - docs/openapi.yaml is the API eye.fcgi serves (issue 18).
#
# 1. The description is linted by Redocly's CLI (npm, at the version
#    tests/contract/package-lock.json pins, installed into the build tree)
#    with its strict rules (tests/contract/redocly.yaml).
# 2. A stack (harness.sh: MariaDB, lighttpd, the built eye.fcgi) is sent
#    requests covering every status the description documents, on every
#    route: over HTTP, and straight over FastCGI (cgi-fcgi) for what
#    lighttpd never lets through (no Content-Length, a bad or a short
#    one). Each request's status is checked here; then
#    tests/contract/validate.py holds every answer to the description:
#    status documented for the operation, required headers present,
#    Content-Type documented, body (each line of NDJSON) valid against the
#    schema with a JSON Schema 2020-12 validator (Debian's
#    python3-jsonschema), and every documented status of every operation
#    seen at least once.
. "$EYE_SRCDIR/tests/lib/harness.sh"
SPEC=$EYE_SRCDIR/docs/openapi.yaml
PY=/usr/bin/python3 # Debian's, with python3-jsonschema and python3-yaml

# --- tools ---------------------------------------------------------------------
need=()
for p in python3-jsonschema python3-yaml libfcgi-bin; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -q "${need[@]}" >"$STACK_DIR/apt.log" 2>&1
  ok $? "installed ${need[*]}" || tail -5 "$STACK_DIR/apt.log" | sed 's/^/# /'
fi

# --- lint ------------------------------------------------------------------------
t=$(date +%s)
TOOLS=$EYE_BUILDDIR/tests/contract-tools
mkdir -p "$EYE_BUILDDIR/tests"
(
  flock 9
  if ! cmp -s "$EYE_SRCDIR/tests/contract/package-lock.json" "$TOOLS/package-lock.json" ||
    [ ! -x "$TOOLS/node_modules/.bin/redocly" ]; then
    rm -rf "$TOOLS" && mkdir -p "$TOOLS" &&
      cp "$EYE_SRCDIR/tests/contract/package.json" "$EYE_SRCDIR/tests/contract/package-lock.json" "$TOOLS/" &&
      (cd "$TOOLS" && npm ci --ignore-scripts --no-audit --no-fund) >"$STACK_DIR/npm.log" 2>&1
  fi
) 9>"$EYE_BUILDDIR/tests/contract-tools.lock"
[ -x "$TOOLS/node_modules/.bin/redocly" ]
ok $? "npm ci installs the pinned @redocly/cli" || tail -10 "$STACK_DIR/npm.log" | sed 's/^/# /'
is "$(grep '^openapi:' "$SPEC")" "openapi: 3.1.0" "docs/openapi.yaml is OpenAPI 3.1"
# No telemetry or update check: only the npm registry is reachable.
out=$(cd "$STACK_DIR" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true timeout 120 \
  "$TOOLS/node_modules/.bin/redocly" lint --config "$EYE_SRCDIR/tests/contract/redocly.yaml" "$SPEC" 2>&1)
rc=$?
is "$rc" 0 "redocly lint (recommended-strict): the description is valid" || printf '%s\n' "$out" | tail -40 | sed 's/^/# /'
diag "lint: $(($(date +%s) - t)) s"

# --- the stack ------------------------------------------------------------------
t=$(date +%s)
# One process with one worker thread: the read API's statements are then
# prepared on one connection, which the 500 cases below rely on.
STACK_FCGI_PROCS=1
export EYE_INGEST_THREADS=1
# Browser keys get 2 requests at once, then 1 a second: the 429 below.
export EYE_BROWSER_RATE_LIMIT_BURST=2 EYE_BROWSER_RATE_LIMIT_PER_SECOND=1
harness_start
WKEY=$(new_app contract)
RKEY=$(new_app contract-reader --read)
ORIGIN=https://shop.example.com
BKEY=$(stack_admin app create contract-web --browser --origin $ORIGIN 2>/dev/null)
SOCK=$STACK_DIR/eye.fcgi.sock-0
[ -S "$SOCK" ]
ok $? "eye.fcgi's FastCGI socket is $SOCK"
R=$STACK_DIR/answers
mkdir -p "$R"
MANIFEST=$STACK_DIR/manifest.ndjson
: >"$MANIFEST"
N=0

# call DESC METHOD PATH WANT [curl args...]: sends the request, checks its
# status, records the answer for validate.py. PATH is sent as it is
# (%-encoded where it needs to be).
call() {
  local desc=$1 method=$2 path=$3 want=$4 code
  shift 4
  N=$((N + 1))
  if [ "$method" = HEAD ]; then
    code=$(curl -s -m 10 -I -D "$R/$N.h" -o "$R/$N.b" -w '%{http_code}' "$@" "$BASE$path")
  else
    code=$(curl -s -m 10 -X "$method" -D "$R/$N.h" -o "$R/$N.b" -w '%{http_code}' "$@" "$BASE$path")
  fi
  is "$code" "$want" "$desc: $want"
  jq -cn --arg d "$desc" --arg m "$method" --arg p "${path%%\?*}" --arg h "$R/$N.h" --arg b "$R/$N.b" \
    '{desc: $d, method: $m, path: $p, headers_file: $h, body_file: $b}' >>"$MANIFEST"
}
# fcgi_call DESC PATH WANT [NAME=VALUE...] < BODY: a POST straight to
# eye.fcgi's FastCGI socket, with exactly the CGI parameters given.
fcgi_call() {
  local desc=$1 path=$2 want=$3 code
  shift 3
  N=$((N + 1))
  env -i REQUEST_METHOD=POST REQUEST_URI="$path" SCRIPT_NAME="$path" QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 \
    HTTP_AUTHORIZATION="Bearer $WKEY" CONTENT_TYPE=application/json "$@" \
    timeout 10 cgi-fcgi -bind -connect "$SOCK" >"$R/$N.cgi" 2>/dev/null
  code=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$R/$N.cgi" | head -1)
  is "$code" "$want" "$desc (FastCGI): $want"
  jq -cn --arg d "$desc (FastCGI)" --arg p "$path" --arg f "$R/$N.cgi" \
    '{desc: $d, method: "POST", path: $p, cgi_file: $f}' >>"$MANIFEST"
}
json() { call "$@" -H 'Content-Type: application/json'; }
# call_until DESC METHOD PATH WANT [curl args...]: call, the request sent
# again (up to 30 times) until it is answered WANT; for a limit whose
# buckets are each eye.fcgi process's own, so that which process answers
# and how much time passed do not decide the test.
call_until() {
  local desc=$1 method=$2 path=$3 want=$4 code i
  shift 4
  N=$((N + 1))
  for i in $(seq 1 30); do
    code=$(curl -s -m 10 -X "$method" -D "$R/$N.h" -o "$R/$N.b" -w '%{http_code}' "$@" "$BASE$path")
    [ "$code" = "$want" ] && break
  done
  is "$code" "$want" "$desc: $want (after $i requests)"
  jq -cn --arg d "$desc" --arg m "$method" --arg p "${path%%\?*}" --arg h "$R/$N.h" --arg b "$R/$N.b" \
    '{desc: $d, method: $m, path: $p, headers_file: $h, body_file: $b}' >>"$MANIFEST"
}

BRIEF=$(jq -c . "$EYE_SRCDIR/tests/integration/data/brief_examples.json")
PAGEVIEW=$(jq -c '.[0]' <<<"$BRIEF")
FUTURE=$(jq -c --arg t "$(date -u -d '+1 day' '+%Y-%m-%d %H:%M:%S')" '.timestamp = $t' <<<"$PAGEVIEW")
UNKNOWN=$(jq -c '.name = "scroll"' <<<"$PAGEVIEW")
W=(-H "Authorization: Bearer $WKEY")
RD=(-H "Authorization: Bearer $RKEY")

# --- the write routes -------------------------------------------------------------
# The same contract on the three paths of the write route.
printf '%s\n' "$(jq -c '.[0]' <<<"$BRIEF")" '{"session_id": "nd", "category":' "$(jq -c '.[1]' <<<"$BRIEF")" \
  >"$STACK_DIR/mixed.ndjson"
printf '%s\n' "$PAGEVIEW" | sed 's/"path": *"\/"/"path": "\/\xff"/' >>"$STACK_DIR/mixed.ndjson"
printf '%s' "$BRIEF" | gzip -c >"$STACK_DIR/brief.json.gz"
e=$(jq -c '.session_id = "big"' <<<"$PAGEVIEW")
{ printf '['; for _ in $(seq 500); do printf '%s,' "$e"; done; printf '%s]' "$e"; } >"$STACK_DIR/501.json"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$STACK_DIR/big.json"
printf '%s' "$PAGEVIEW" >>"$STACK_DIR/big.json"
head -c 9000000 /dev/zero | tr '\0' ' ' | gzip -c >"$STACK_DIR/bomb.json.gz"
# The rejected cases of ingest.sh (one per error code and place), in one request.
jq -cs 'map(.event)' "$EYE_SRCDIR"/tests/integration/data/ingest/rejected/*.json >"$STACK_DIR/rejected.json"
deep=$(printf '%.0s[' $(seq 40))1$(printf '%.0s]' $(seq 40))
for P in /v1/events /api/events/ /api/events; do
  json "POST $P, the brief's three events" POST "$P" 202 "${W[@]}" --data-binary "$BRIEF"
  json "POST $P, one event" POST "$P" 202 "${W[@]}" --data-binary "$PAGEVIEW"
  call "POST $P, NDJSON with an unparsable line and one of invalid UTF-8" POST "$P" 202 "${W[@]}" \
    -H 'Content-Type: application/x-ndjson' --data-binary @"$STACK_DIR/mixed.ndjson"
  json "POST $P, gzip" POST "$P" 202 "${W[@]}" -H 'Content-Encoding: gzip' --data-binary @"$STACK_DIR/brief.json.gz"
  json "POST $P, every event rejected" POST "$P" 422 "${W[@]}" --data-binary "[$FUTURE,$UNKNOWN]"
  json "POST $P, ingest.sh's rejected events" POST "$P" 422 "${W[@]}" --data-binary @"$STACK_DIR/rejected.json"
  json "POST $P, not JSON" POST "$P" 400 "${W[@]}" --data-binary '{"session_id": '
  json "POST $P, not an event" POST "$P" 400 "${W[@]}" --data-binary '"hello"'
  json "POST $P, an empty array" POST "$P" 400 "${W[@]}" --data-binary '[]'
  json "POST $P, a duplicate key" POST "$P" 400 "${W[@]}" --data-binary '{"a": 1, "a": 2}'
  json "POST $P, too deep" POST "$P" 400 "${W[@]}" --data-binary "$deep"
  json "POST $P, gzip that is not" POST "$P" 400 "${W[@]}" -H 'Content-Encoding: gzip' --data-binary "$PAGEVIEW"
  json "POST $P, invalid UTF-8" POST "$P" 400 "${W[@]}" --data-binary $'"\xff"'
  json "POST $P, no key" POST "$P" 401 --data-binary "$PAGEVIEW"
  json "POST $P, an unknown key" POST "$P" 401 -H "Authorization: Bearer eye_00000000_$(printf '0%.0s' $(seq 64))" \
    --data-binary "$PAGEVIEW"
  json "POST $P, a read key" POST "$P" 403 "${RD[@]}" --data-binary "$PAGEVIEW"
  json "POST $P, 501 events" POST "$P" 413 "${W[@]}" --data-binary @"$STACK_DIR/501.json"
  json "POST $P, above max_body_bytes" POST "$P" 413 "${W[@]}" --data-binary @"$STACK_DIR/big.json"
  json "POST $P, gzip above max_decompressed_bytes" POST "$P" 413 "${W[@]}" -H 'Content-Encoding: gzip' \
    --data-binary @"$STACK_DIR/bomb.json.gz"
  call "POST $P, text/plain" POST "$P" 415 "${W[@]}" -H 'Content-Type: text/plain' --data-binary "$PAGEVIEW"
  json "POST $P, Content-Encoding br" POST "$P" 415 "${W[@]}" -H 'Content-Encoding: br' --data-binary "$PAGEVIEW"
  fcgi_call "POST $P without Content-Length" "$P" 411 </dev/null
done
# Browser keys (issue 15): from their origin, with the key in the URL and a
# text/plain body; another origin; a write key in the URL; the rate limit.
call "POST /v1/events, a browser key from its origin" POST "/v1/events?key=$BKEY" 202 \
  -H "Origin: $ORIGIN" -H 'Content-Type: text/plain' --data-binary "$PAGEVIEW"
call "POST /v1/events, a browser key from another origin" POST "/v1/events?key=$BKEY" 403 \
  -H "Origin: https://evil.example.com" -H 'Content-Type: text/plain' --data-binary "$PAGEVIEW"
json "POST /v1/events, a write key from a web page" POST /v1/events 403 "${W[@]}" -H "Origin: $ORIGIN" \
  --data-binary "$PAGEVIEW"
json "POST /v1/events, a write key in the URL" POST "/v1/events?key=$WKEY" 400 --data-binary "$PAGEVIEW"
call_until "POST /v1/events, a browser key above its rate limit" POST "/v1/events?key=$BKEY" 429 \
  -H "Origin: $ORIGIN" -H 'Content-Type: text/plain' --data-binary "$PAGEVIEW"
call "OPTIONS /v1/events, a preflight from a browser key's origin" OPTIONS /v1/events 204 \
  -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: POST'
call "OPTIONS /v1/events, a preflight from another origin" OPTIONS /v1/events 403 \
  -H "Origin: https://evil.example.com" -H 'Access-Control-Request-Method: POST'
call "OPTIONS /v1/events, a preflight with a write key in the URL" OPTIONS "/v1/events?key=$WKEY" 400 \
  -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: POST'
call "OPTIONS /v1/events, a preflight with an unknown key in the URL" OPTIONS \
  "/v1/events?key=eye_00000000_$(printf '0%.0s' $(seq 64))" 401 -H "Origin: $ORIGIN"
call "OPTIONS /v1/events without an Origin" OPTIONS /v1/events 204

printf '%s' "$PAGEVIEW" >"$STACK_DIR/pageview.json"
fcgi_call "POST /v1/events, Content-Length not a number" /v1/events 400 CONTENT_LENGTH=ten <"$STACK_DIR/pageview.json"
fcgi_call "POST /v1/events, a body shorter than its Content-Length" /v1/events 400 \
  CONTENT_LENGTH=$((${#PAGEVIEW} + 100)) <"$STACK_DIR/pageview.json"

# 500: rows the database refuses for a reason other than its availability
# (a trigger of the test's, as commit.sh does).
stack_sql eye <<'SQL' || bail "cannot create the test trigger"
DELIMITER //
CREATE TRIGGER contract_poison BEFORE INSERT ON event_queue FOR EACH ROW
BEGIN
  IF NEW.session_key = 'poison' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row';
  END IF;
END//
DELIMITER ;
SQL
for P in /v1/events /api/events/ /api/events; do
  json "POST $P, a row the database refuses" POST "$P" 500 "${W[@]}" --data-binary "$(jq -c '.session_id = "poison"' <<<"$PAGEVIEW")"
done
sql "DROP TRIGGER contract_poison"

"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>"$STACK_DIR/spool.err"
ok $? "the spool stores the accepted events and the errors"

# --- the read routes ------------------------------------------------------------------
S=e2085be5-9137-4e4e-80b5-f1ffddc25423
call "GET /v1/events, a read key in the URL" GET "/v1/events?key=$RKEY" 400
LONGQ="limit=1&$(printf 'x%.0s' $(seq 4200))=1"
for P in "/v1/events?session_id=$S" "/v1/sessions/$S/events" "/v1/errors?code=invalid_json" \
  "/api/events/?session=$S" "/api/events?session=$S"; do
  base=${P%%\?*}
  call "GET $P" GET "$P" 200 "${RD[@]}"
  case $base in /api/*) sep='&' ;; *) [ "$base" = "$P" ] && sep='?' || sep='&' ;; esac
  case $base in
  /api/*)
    call "GET $P with dates" GET "$P&date-from=2021-01-01&date-to=2021-01-02" 200 "${RD[@]}"
    call "GET $P, a bad date" GET "$P&date-from=yesterday" 400 "${RD[@]}"
    ;;
  *)
    call "GET $P, one per page" GET "$P${sep}limit=1" 200 "${RD[@]}"
    next=$(jq -r .next "$R/$N.b")
    like "$next" '^[0-9a-f]{32}$' "GET $P, one per page: a next cursor"
    call "GET $P, the next page" GET "$P${sep}limit=1&after=$next" 200 "${RD[@]}"
    call "GET $P, NDJSON, one per page" GET "$P${sep}limit=1" 200 "${RD[@]}" -H 'Accept: application/x-ndjson'
    is "$(wc -l <"$R/$N.b")|$(tail -1 "$R/$N.b" | jq -r 'keys | join(",")')" "2|next" \
      "GET $P, NDJSON, one per page: a row and the cursor line"
    call "GET $P, limit=0" GET "$P${sep}limit=0" 400 "${RD[@]}"
    ;;
  esac
  call "GET $P, an unknown parameter" GET "$P${sep}bogus=1" 400 "${RD[@]}"
  call "GET $P, no key" GET "$P" 401
  call "GET $P, a write key" GET "$P" 403 "${W[@]}"
  call "GET $P, a query string of 4 KiB" GET "$P${sep}$LONGQ" 414 "${RD[@]}"
done
call "GET /v1/events, no filter" GET /v1/events 200 "${RD[@]}"
call "GET /v1/events, a bad time" GET "/v1/events?from=noon" 400 "${RD[@]}"
call "GET /v1/errors, no filter" GET /v1/errors 200 "${RD[@]}"
call "GET /v1/errors, NDJSON" GET /v1/errors 200 "${RD[@]}" -H 'Accept: application/x-ndjson'
call "GET the timeline of a session id with an encoded /" GET "/v1/sessions/a%2Fb/events" 200 "${RD[@]}"
call "GET a timeline, the session id above 511 bytes" GET "/v1/sessions/$(printf 's%.0s' $(seq 600))/events" 404 "${RD[@]}"
call "GET a timeline with a path above 1023 bytes" GET "/v1/sessions/$(printf 's%.0s' $(seq 1100))/events" 414 "${RD[@]}"

# 500: a statement prepared before, which the database now refuses (the
# analyst account lost a privilege): not an availability error.
stack_sql <<'SQL'
REVOKE SELECT ON eye.events FROM 'eye_analyst'@'localhost';
REVOKE SELECT ON eye.event_errors FROM 'eye_analyst'@'localhost';
SQL
for P in "/v1/events?session_id=$S" "/v1/sessions/$S/events" "/v1/errors?code=invalid_json" \
  "/api/events/?session=$S" "/api/events?session=$S"; do
  call "GET $P, the database refuses the query" GET "$P" 500 "${RD[@]}"
done
stack_sql <<'SQL'
GRANT SELECT ON eye.events TO 'eye_analyst'@'localhost';
GRANT SELECT ON eye.event_errors TO 'eye_analyst'@'localhost';
SQL

# --- health, other paths and methods --------------------------------------------------
call "GET /v1/health" GET /v1/health 200
call "HEAD /v1/health" HEAD /v1/health 200
call "GET an unknown path" GET /v1/nothing 404 "${RD[@]}"
call "GET the empty session's timeline" GET /v1/sessions//events 404 "${RD[@]}"
call "GET a path above 1023 bytes" GET "/$(printf 'p%.0s' $(seq 1100))" 414
call "DELETE /v1/events" DELETE /v1/events 405 "${W[@]}"
call "PUT /api/events/" PUT /api/events/ 405 "${W[@]}"
call "PATCH /api/events" PATCH /api/events 405 "${W[@]}"
call "POST /v1/errors" POST /v1/errors 405 "${RD[@]}" --data-binary '{}'
call "DELETE a timeline" DELETE "/v1/sessions/$S/events" 405 "${RD[@]}"
call "POST /v1/health" POST /v1/health 405 --data-binary '{}'

# --- the database down -------------------------------------------------------------------
stack_mariadb_stop
for P in /v1/events /api/events/ /api/events; do
  json "POST $P, MariaDB down" POST "$P" 503 "${W[@]}" --data-binary "$PAGEVIEW"
done
for P in "/v1/events?session_id=$S" "/v1/sessions/$S/events" "/v1/errors?code=invalid_json" \
  "/api/events/?session=$S" "/api/events?session=$S"; do
  call "GET $P, MariaDB down" GET "$P" 503 "${RD[@]}"
done
call "OPTIONS /v1/events, MariaDB down" OPTIONS /v1/events 503 -H "Origin: https://other.example.com"
call "GET /v1/health, MariaDB down" GET /v1/health 503
call "HEAD /v1/health, MariaDB down" HEAD /v1/health 503
diag "requests: $N in $(($(date +%s) - t)) s"

# --- every answer against the description ---------------------------------------------------
t=$(date +%s)
# The description says error.pointer is always a string ("" when the whole
# request is at fault); eye.fcgi still sends null for some answers. Until it
# sends strings, an answer whose only fault is a null pointer is reported
# as TODO (an expected failure, never counted as passed). Once none is left
# a test fails until this switch is set to 0, so that a null pointer that
# comes back later is a plain failure.
POINTER_NULL_IS_TODO=0
"$PY" "$EYE_SRCDIR/tests/contract/validate.py" "$SPEC" "$MANIFEST" >"$STACK_DIR/validate.out" 2>"$STACK_DIR/validate.err"
is "$?|$(head -c 400 "$STACK_DIR/validate.err")" "0|" "validate.py ran"
todo=0
codes=
while IFS=$'\t' read -r verdict desc why; do
  case $verdict in
  ok) ok 0 "$desc" ;;
  "not ok")
    ok 1 "$desc"
    diag "  $why"
    ;;
  todo)
    if [ "$POINTER_NULL_IS_TODO" = 1 ]; then
      TAP_N=$((TAP_N + 1))
      echo "not ok $TAP_N - $desc # TODO $why"
      todo=$((todo + 1))
    else
      ok 1 "$desc"
      diag "  $why"
    fi
    ;;
  seen-code) codes="$codes $desc" ;;
  esac
done <"$STACK_DIR/validate.out"
if [ "$POINTER_NULL_IS_TODO" = 1 ]; then
  ok $([ "$todo" -gt 0 ] && echo 0 || echo 1) \
    "some answers still carry a null error.pointer ($todo); when none does, set POINTER_NULL_IS_TODO=0"
fi
diag "per-event codes seen:$codes"
diag "validation: $(($(date +%s) - t)) s"

harness_finish
