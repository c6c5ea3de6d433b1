#!/bin/bash
# ingest.sh - the write contract of POST /v1/events (issue 4) through the
# real lighttpd and MariaDB: accepted body shapes, every per-event error
# code with its pointer, every request-level refusal with its status and
# code, what is recorded in event_queue, hostile input, timestamps and clock
# skew, keys, and MariaDB going away and coming back.
#
# Cases that are data live under data/ingest/, so adding a case is adding a
# file:
#   valid.json              a valid event, the accepted partner in batches
#   hostile.json            an accepted event whose strings must survive
#                           byte-exact (every member of data.form is compared)
#   rejected/NAME.json      {"code": ..., "pointer": ..., "event": ...}: one
#                           event and the per-event error it must get
#   request/STATUS-CODE-DESCRIPTION.json|.ndjson
#                           a whole body that must be refused with STATUS and
#                           error code CODE (.ndjson is sent as
#                           application/x-ndjson, .json as application/json)
# Bodies that cannot sensibly live in a file (raw \xff or NUL bytes, 10,000
# levels of nesting, bodies of a megabyte, gzip) are made below.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
DATA=$EYE_SRCDIR/tests/integration/data/ingest
TMP=$STACK_DIR/ingest
mkdir -p "$TMP"

KEY=$(new_app ingest-good) # requests expected to succeed
BAD=$(new_app ingest-bad)  # requests expected to be refused as a whole
app_id() { sql "SELECT application_id FROM api_keys WHERE prefix='${1:0:12}'"; }
BAD_ID=$(app_id "$BAD")
VALID=$(jq -c . "$DATA/valid.json")
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# sqlr QUERY: like sql, but raw (no escaping of tabs, newlines, backslashes)
# and in utf8mb4, for comparing stored text.
sqlr() { stack_sql --default-character-set=utf8mb4 -N -B -r eye -e "$1"; }

# last_id: the newest event_queue id (0 when empty).
last_id() { sql 'SELECT COALESCE(MAX(id), 0) FROM event_queue'; }

# ev SESSION [MEMBERS]: a valid pageview event, extra top-level members
# appended (e.g. ',"sent_at":"..."').
ev() {
  printf '{"session_id":"%s","category":"page interaction","name":"pageview","data":{"host":"www.example.com","path":"/"},"timestamp":"2021-01-01 09:15:27.243860"%s}' \
    "$1" "${2:-}"
}

# post KEY CONTENT_TYPE BODY_FILE [curl args]: POST /v1/events with a body
# file; response headers are kept in $HDRS.
HDRS=$TMP/headers
post() {
  local key=$1 ct=$2 file=$3; shift 3
  http POST /v1/events -D "$HDRS" -H "Authorization: Bearer $key" -H "Content-Type: $ct" \
    --data-binary @"$file" "$@"
}

# header NAME: a header of the last response made with -D "$HDRS".
header() { grep -i "^$1:" "$HDRS" | head -1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }

# refused STATUS CODE DESC CURL_ARGS...: POSTs with the BAD application's
# key; checks status and error code, and that the failure is recorded as
# exactly one flagged queue row.
refused() {
  local status=$1 code=$2 desc=$3; shift 3
  local before; before=$(last_id)
  http POST /v1/events -H "Authorization: Bearer $BAD" "$@"
  is "$HTTP_STATUS" "$status" "$desc: status $status"
  is "$(json_get "$HTTP_BODY" .error.code)" "$code" "$desc: error code $code"
  is "$(sql "SELECT COUNT(*), MIN(error_code), MIN(event_id IS NULL) FROM event_queue WHERE id > $before AND application_id = $BAD_ID")" \
    "1	$code	1" "$desc: recorded once in the queue as $code"
}

# fcgi_pids: the eye.fcgi processes lighttpd runs now (a crash changes them).
fcgi_pids() { ps -o pid= --ppid "$STACK_HTTP_PID" | sort | tr -d ' ' | tr '\n' ' '; }
PIDS=$(fcgi_pids)

# --- accepted body shapes ---------------------------------------------------
printf '%s' "$VALID" >"$TMP/single.json"
post "$KEY" application/json "$TMP/single.json"
is "$HTTP_STATUS" 202 "single object: 202"
is "$(json_get "$HTTP_BODY" tojson)" '{"accepted":1,"rejected":0,"errors":[]}' "single object: the answer body"
is "$(header Content-Type)" application/json "single object: answered as application/json"

printf '[%s,%s,%s]' "$(ev arr-1)" "$(ev arr-1)" "$(ev arr-1)" >"$TMP/array.json"
post "$KEY" application/json "$TMP/array.json"
is "$HTTP_STATUS" 202 "JSON array: 202"
is "$(json_get "$HTTP_BODY" '[.accepted, .rejected] | @tsv')" "3	0" "JSON array: 3 accepted"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='arr-1' AND error_code IS NULL AND data IS NOT NULL")" 3 \
  "JSON array: 3 valid rows queued"

post "$KEY" 'application/json; charset=utf-8' "$TMP/single.json"
is "$HTTP_STATUS" 202 "Content-Type with ; charset=utf-8: 202"
post "$KEY" 'Application/JSON;charset=UTF-8' "$TMP/single.json"
is "$HTTP_STATUS" 202 "media type compared case-insensitively: 202"

# NDJSON: blank lines are skipped (they are no event: the index counts
# events), a line that does not parse is that event's error only.
printf '%s\n\n   \n{"session_id": oops\n%s\r\n%s' "$(ev nd-1)" "$(ev nd-1)" "$(ev nd-1)" >"$TMP/mixed.ndjson"
post "$KEY" 'application/x-ndjson; charset=utf-8' "$TMP/mixed.ndjson"
is "$HTTP_STATUS" 202 "NDJSON with a blank line and a bad line: 202"
is "$(json_get "$HTTP_BODY" '[.accepted, .rejected, .errors[0].index, .errors[0].code, .errors[0].pointer] | @tsv')" \
  "3	1	1	invalid_json	" "NDJSON: 3 accepted, the bad line is event 1, invalid_json at \"\""
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='nd-1' AND error_code IS NULL")" 3 "NDJSON: 3 valid rows"
nd_eid=$(json_get "$HTTP_BODY" '.errors[0].event_id')
like "$nd_eid" "$UUID_RE" "NDJSON: the bad line got an event_id"
is "$(sqlr "SELECT CONCAT(error_code, '|', payload) FROM event_queue WHERE event_id='$nd_eid'")" \
  'invalid_json|{"session_id": oops' "NDJSON: the bad line is recorded with its text as payload"

# An NDJSON line that is JSON but not an object is that event's wrong_type
# (the last line has no newline: the number must still be complete).
printf '%s\nnull\n42' "$(ev nd-3)" >"$TMP/scalars.ndjson"
post "$KEY" application/x-ndjson "$TMP/scalars.ndjson"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" '[.errors[] | "\(.index):\(.code)"] | join(",")')" "202|1:wrong_type,2:wrong_type" \
  "NDJSON lines null and 42: each a wrong_type event"

# An NDJSON line with invalid UTF-8 is that event's error, like any line
# that does not parse; the other events are accepted.
printf '%s\n{"session_id": "nd-2\xff"}\n' "$(ev nd-2)" >"$TMP/utf8.ndjson"
post "$KEY" application/x-ndjson "$TMP/utf8.ndjson"
is "$HTTP_STATUS" 202 "NDJSON with an invalid UTF-8 line: 202"
is "$(json_get "$HTTP_BODY" '[.accepted, .rejected, .errors[0].index, .errors[0].code] | @tsv')" \
  "1	1	1	invalid_utf8" "NDJSON with an invalid UTF-8 line: that line is event 1's invalid_utf8"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='nd-2'")" 1 "NDJSON with an invalid UTF-8 line: the valid event is queued"

printf '[%s,%s]' "$(ev gz-1)" "$(ev gz-1)" | gzip -c >"$TMP/batch.json.gz"
post "$KEY" application/json "$TMP/batch.json.gz" -H 'Content-Encoding: gzip'
is "$HTTP_STATUS" 202 "gzip body: 202"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='gz-1' AND error_code IS NULL")" 2 "gzip body: 2 rows"
printf '%s\n%s\n' "$(ev gz-2)" "$(ev gz-2)" | gzip -c >"$TMP/batch.ndjson.gz"
post "$KEY" application/x-ndjson "$TMP/batch.ndjson.gz" -H 'Content-Encoding: gzip'
is "$HTTP_STATUS:$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='gz-2'")" "202:2" "gzip NDJSON body: 202, 2 rows"
# A gzip file may hold several members (RFC 1952), e.g. lines gzipped one
# at a time and appended: the body is all of them.
{ ev gz-3 | gzip -c; printf '\n' | gzip -c; ev gz-3 | gzip -c; } >"$TMP/members.ndjson.gz"
post "$KEY" application/x-ndjson "$TMP/members.ndjson.gz" -H 'Content-Encoding: gzip'
is "$HTTP_STATUS:$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='gz-3'")" "202:2" "gzip body of several members: 202, 2 rows"

printf '[%s,%s]' "$(ev proto-1)" "$(ev proto-1)" >"$TMP/proto.json"
http POST /api/events/ -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary @"$TMP/proto.json"
is "$HTTP_STATUS" 202 "prototype route POST /api/events/ with an array: 202"
is "$(json_get "$HTTP_BODY" .accepted)" 2 "prototype route: 2 accepted"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='proto-1' AND error_code IS NULL")" 2 "prototype route: 2 rows"

# --- per-event errors: one file per case, see data/ingest/rejected ------------
# Each case is sent in a batch after a valid event (202, partial), then all
# cases together (422). The rejected event is recorded with its code,
# pointer, message and the event itself as payload.
for f in "$DATA"/rejected/*.json; do
  c=$(basename "$f" .json)
  code=$(jq -r .code "$f")
  pointer=$(jq -r .pointer "$f")
  printf '[%s,%s]' "$VALID" "$(jq -c .event "$f")" >"$TMP/case.json"
  post "$KEY" application/json "$TMP/case.json"
  is "$HTTP_STATUS" 202 "$c: a batch with one valid event is 202"
  is "$(json_get "$HTTP_BODY" '[.accepted, .rejected, (.errors | length), .errors[0].index, .errors[0].code, .errors[0].pointer] | @tsv')" \
    "1	1	1	1	$code	$pointer" "$c: event 1 rejected as $code at '$pointer'"
  eid=$(json_get "$HTTP_BODY" '.errors[0].event_id')
  like "$eid" "$UUID_RE" "$c: the error names the event_id"
  is "$(sql "SELECT CONCAT_WS('|', error_code, error_pointer, error_message <> '', data IS NULL) FROM event_queue WHERE event_id='$eid'")" \
    "$code|$pointer|1|1" "$c: recorded with code, pointer, message and no data"
  is "$(sqlr "SELECT payload FROM event_queue WHERE event_id='$eid'" | jq -cS .)" "$(jq -cS .event "$f")" \
    "$c: the payload is the event sent"
done

jq -cs 'map(.event)' "$DATA"/rejected/*.json >"$TMP/all-rejected.json"
cases=("$DATA"/rejected/*.json)
n=${#cases[@]}
post "$KEY" application/json "$TMP/all-rejected.json"
is "$HTTP_STATUS" 422 "every event rejected: 422"
is "$(json_get "$HTTP_BODY" '[.accepted, .rejected] | @tsv')" "0	$n" "every event rejected: 0 accepted, $n rejected"
is "$(json_get "$HTTP_BODY" '[.errors[].index] | map(tostring) | join(",")')" "$(seq -s, 0 $((n - 1)))" \
  "every event rejected: one error per event, in order"
is "$(json_get "$HTTP_BODY" '[.errors[].code] | join(",")')" "$(jq -rs 'map(.code) | join(",")' "$DATA"/rejected/*.json)" \
  "every event rejected: each with its code"
is "$(json_get "$HTTP_BODY" '.errors[0] | keys | join(",")')" "code,event_id,index,message,pointer" \
  "an error has index, event_id, code, pointer, message"
is "$(json_get "$HTTP_BODY" 'keys | join(",")')" "accepted,errors,rejected" "the answer has accepted, rejected, errors"

# event_too_large: data above ingest.max_event_bytes (32768 by default);
# 40 form fields of 1000 characters are valid by the rule otherwise.
jq -c --argjson ev "$(ev big-1)" -n \
  '$ev + {category: "form interaction", name: "submit", data: {host: "www.example.com", path: "/", form: ([range(40)] | map({key: "f\(.)", value: ("x" * 1000)}) | from_entries)}}' \
  >"$TMP/big.json"
post "$KEY" application/json "$TMP/big.json"
is "$HTTP_STATUS" 422 "event_too_large: 422"
is "$(json_get "$HTTP_BODY" '.errors[0] | [.code, .pointer] | @tsv')" "event_too_large	/data" "event_too_large at /data"
is "$(sql "SELECT CONCAT_WS('|', error_code, payload_truncated, LENGTH(payload)) FROM event_queue WHERE session_key='big-1'")" \
  "event_too_large|1|16384" "event_too_large: recorded, payload cut to ingest.max_error_payload_bytes"
msg=$(json_get "$HTTP_BODY" '.errors[0].message')
like "$msg" '^data is [0-9]+ bytes; at most 32768$' "event_too_large: the message gives the size and the limit"
is "$(sqlr "SELECT error_message FROM event_queue WHERE session_key='big-1'")" "$msg" "event_too_large: the recorded message is the one answered"

# --- request-level refusals: one file per case, see data/ingest/request ------
for f in "$DATA"/request/*; do
  name=$(basename "$f")
  status=${name%%-*}; rest=${name#*-}; code=${rest%%-*}
  case $name in *.ndjson) ct=application/x-ndjson ;; *) ct=application/json ;; esac
  refused "$status" "$code" "$name" -H "Content-Type: $ct" --data-binary @"$f"
  is "$(sqlr "SELECT CONCAT(payload_truncated, payload) FROM event_queue WHERE id = $(last_id)")" "0$(cat "$f")" \
    "$name: the body is the recorded payload, byte for byte"
done

python3 -c 'import sys; sys.stdout.write("[" * 10000 + "]" * 10000)' >"$TMP/deep.json"
refused 400 nesting_too_deep "10,000-deep nesting" -H 'Content-Type: application/json' --data-binary @"$TMP/deep.json"
printf '{"session_id":"u1","category":"page interaction","name":"pageview","data":{"host":"www.example.com","path":"/\xff\xfe"},"timestamp":"2021-01-01 09:15:27"}' >"$TMP/utf8.json"
refused 400 invalid_utf8 "raw \\xff in a string" -H 'Content-Type: application/json' --data-binary @"$TMP/utf8.json"
printf '{"session_id":"u1","category":"page interaction","name":"pageview","data":{"host":"www.example.com","path":"/\xc3\xa9\xc3"},"timestamp":"2021-01-01 09:15:27"}' >"$TMP/utf8-cut.json"
refused 400 invalid_utf8 "a cut UTF-8 sequence" -H 'Content-Type: application/json' --data-binary @"$TMP/utf8-cut.json"
printf '{"session_id":"n1","category":"page interaction","name":"pageview","data":{"host":"www.example.com","path":"/a\0b"},"timestamp":"2021-01-01 09:15:27"}' >"$TMP/nul.json"
refused 400 invalid_json "a raw NUL byte in the body" -H 'Content-Type: application/json' --data-binary @"$TMP/nul.json"

refused 400 invalid_gzip "Content-Encoding gzip with a plain body" -H 'Content-Type: application/json' \
  -H 'Content-Encoding: gzip' --data-binary @"$TMP/single.json"
head -c 30 "$TMP/batch.json.gz" >"$TMP/cut.gz"
refused 400 invalid_gzip "a truncated gzip stream" -H 'Content-Type: application/json' \
  -H 'Content-Encoding: gzip' --data-binary @"$TMP/cut.gz"
# A zip bomb: 9 MB of zeros (above ingest.max_decompressed_bytes, 8 MiB)
# in about 9 KB.
head -c 9000000 /dev/zero | gzip -9 -c >"$TMP/bomb.gz"
refused 413 decompressed_too_large "a gzip bomb ($(stat -c %s "$TMP/bomb.gz") bytes)" \
  -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @"$TMP/bomb.gz"

refused 415 unsupported_media_type "Content-Type text/plain" -H 'Content-Type: text/plain' --data-binary @"$TMP/single.json"
refused 415 unsupported_media_type "Content-Type form-urlencoded" -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary @"$TMP/single.json"
refused 415 unsupported_encoding "Content-Encoding br" -H 'Content-Type: application/json' -H 'Content-Encoding: br' \
  --data-binary @"$TMP/single.json"

# Body size: ingest.max_body_bytes (1 MiB) is accepted, one byte more is not.
{ printf '"'; head -c $((1048576 - 2)) /dev/zero | tr '\0' x; printf '"'; } >"$TMP/max.json"
refused 400 not_an_event "a body of exactly ingest.max_body_bytes is read" -H 'Content-Type: application/json' \
  --data-binary @"$TMP/max.json"
{ cat "$TMP/max.json"; printf ' '; } >"$TMP/over.json"
refused 413 body_too_large "a body one byte above ingest.max_body_bytes" -H 'Content-Type: application/json' \
  --data-binary @"$TMP/over.json"

# Events per request: ingest.max_events_per_request (500) is accepted, 501 is not.
e=$(ev many-500)
{ printf '['; for i in $(seq 499); do printf '%s,' "$e"; done; printf '%s]' "$e"; } >"$TMP/500.json"
post "$KEY" application/json "$TMP/500.json"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .accepted)" "202:500" "ingest.max_events_per_request events: 202, all accepted"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='many-500'")" 500 "500 events: 500 rows"
e=$(ev many-501)
{ printf '['; for i in $(seq 500); do printf '%s,' "$e"; done; printf '%s]' "$e"; } >"$TMP/501.json"
refused 413 too_many_events "one event above ingest.max_events_per_request" -H 'Content-Type: application/json' \
  --data-binary @"$TMP/501.json"
is "$(sql "SELECT CONCAT_WS('|', payload_truncated, LENGTH(payload)) FROM event_queue WHERE application_id=$BAD_ID ORDER BY id DESC LIMIT 1")" \
  "1|16384" "a large refused body is recorded cut to ingest.max_error_payload_bytes, flagged"
# The cut must not split a UTF-8 sequence (the column takes only valid text):
# 'é' is 2 bytes and the quote puts the 16384th byte in the middle of one.
{ printf '"'; for i in $(seq 9000); do printf 'é'; done; printf '"'; } >"$TMP/accents.json"
refused 400 not_an_event "a large refused body of 2-byte characters" -H 'Content-Type: application/json' \
  --data-binary @"$TMP/accents.json"

# Nothing of a refused request is ever a valid event.
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE application_id=$BAD_ID AND (error_code IS NULL OR data IS NOT NULL)")" 0 \
  "no refused request left a valid row"

# 411: behind lighttpd, a body without Content-Length never reaches
# eye.fcgi: lighttpd answers a HTTP/1.0 POST without it with its own 411
# (HTML), and de-chunks a HTTP/1.1 chunked body into a Content-Length.
# eye.fcgi's own length_required answer is for other front ends.
raw_http() { # PRINTF_FORMAT ARGS...: sends a request on a fresh connection, prints the status line
  exec 3<>"/dev/tcp/127.0.0.1/$STACK_HTTP_PORT"
  # shellcheck disable=SC2059 # the request is the format, by design
  printf "$@" >&3
  timeout 5 head -1 <&3 | tr -d '\r'
  exec 3<&-
}
like "$(raw_http 'POST /v1/events HTTP/1.0\r\nHost: t\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n\r\n%s' "$KEY" "$VALID")" \
  '^HTTP/1\.[01] 411 ' "POST without Content-Length: 411 (from lighttpd)"
b=$(ev chunked-1)
like "$(raw_http 'POST /v1/events HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' "$KEY" ${#b} "$b")" \
  '^HTTP/1\.1 202 ' "a chunked HTTP/1.1 body is accepted (lighttpd adds the length)"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='chunked-1'")" 1 "the chunked body's event is queued"

# --- routes and methods -----------------------------------------------------
# GET is the read API (tests/integration/analyst.sh): a write key may not use it.
for m in PUT DELETE PATCH; do
  http "$m" /v1/events -D "$HDRS" -H "Authorization: Bearer $KEY"
  is "$HTTP_STATUS|$(header Allow)|$(json_get "$HTTP_BODY" .error.code)" "405|GET, POST, OPTIONS|method_not_allowed" \
    "$m /v1/events: 405 with Allow: GET, POST, OPTIONS"
done
http GET /v1/events -H "Authorization: Bearer $KEY"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "403|wrong_scope" "GET /v1/events with a write key: 403 wrong_scope"
http PUT /api/events/ -D "$HDRS"
is "$HTTP_STATUS|$(header Allow)" "405|GET, POST" "PUT /api/events/: 405 with Allow: GET, POST"
http POST /v1/health -D "$HDRS" -H 'Content-Type: application/json' --data-binary '{}'
is "$HTTP_STATUS|$(header Allow)" "405|GET, HEAD" "POST /v1/health: 405 with Allow: GET, HEAD"
http POST /v1/nothing -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "404|not_found" "unknown path: 404 not_found"
http POST /v1/events/ -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "$VALID"
is "$HTTP_STATUS" 404 "/v1/events/ (trailing slash) is not a route: 404"
http GET /v1/health
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .database)" "200|up" "GET /v1/health: 200, database up"

# --- keys -------------------------------------------------------------------
before=$(last_id)
http POST /v1/events -D "$HDRS" -H 'Content-Type: application/json' --data-binary "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|missing_key" "no key: 401 missing_key"
like "$(header WWW-Authenticate)" '^Bearer' "no key: WWW-Authenticate: Bearer"
post_events "eye_00000000_$(printf '0%.0s' $(seq 64))" "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "unknown key: 401 invalid_key"
# A key's checksum lets eye.fcgi refuse a wrong or random key without a
# database query; only a key of the old, unchecked shape is looked up.
stmts() { sql "SHOW GLOBAL STATUS LIKE 'Com_stmt_execute'" | cut -f2; }
bad_sum=${KEY%????????}00000000; [ "$bad_sum" = "$KEY" ] && bad_sum=${KEY%????????}11111111
s0=$(stmts)
for i in $(seq 10 29); do
  post_events "${KEY:0:13}$(printf '%056d' "$i")_0badc0de" "$VALID"
  [ "$HTTP_STATUS" = 401 ] || break
done
post_events "$bad_sum" "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "a key with a wrong checksum: 401 invalid_key"
is "$(( $(stmts) - s0 ))" 0 "21 keys with wrong checksums cost no database query"
s0=$(stmts)
for i in $(seq 10 14); do post_events "eye_00000000_$(printf '%064d' "$i")" "$VALID"; done
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "an unknown key of the old shape: 401 invalid_key"
is "$(( $(stmts) - s0 ))" 5 "each unknown key of the old shape is looked up once"
post_events "Basic dXNlcjpwYXNz" "$VALID"
is "$HTTP_STATUS" 401 "a malformed key: 401"
http POST /v1/events -H 'Authorization: Basic dXNlcjpwYXNz' -H 'Content-Type: application/json' --data-binary "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|missing_key" "Basic instead of Bearer: 401 missing_key"
READ=$(new_app ingest-reader --read)
post_events "$READ" "$VALID"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "403|wrong_scope" "a read key: 403 wrong_scope"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE id > $before")" 0 "unauthenticated or unauthorized requests store nothing"

# Two applications on one session.
OTHER=$(new_app ingest-other)
post_events "$KEY" "$(ev shared-1)"; s1=$HTTP_STATUS
post_events "$OTHER" "$(ev shared-1)"; s2=$HTTP_STATUS
is "$s1 $s2" "202 202" "two applications on one session: both 202"
is "$(sql "SELECT COUNT(DISTINCT application_id) FROM event_queue WHERE session_key='shared-1'")" 2 \
  "two applications on one session: both queued, each with its application"

# --- hostile input ----------------------------------------------------------
post "$KEY" application/json "$DATA/hostile.json"
is "$HTTP_STATUS" 202 "hostile strings: accepted"
for k in $(jq -r '.data.form | keys[]' "$DATA/hostile.json"); do
  is "$(sql "SELECT LOWER(HEX(JSON_VALUE(data, '\$.form.$k'))) FROM event_queue WHERE session_key='hostile-1'")" \
    "$(jq -j ".data.form.$k" "$DATA/hostile.json" | od -An -tx1 | tr -d ' \n')" "hostile string '$k' stored byte-exact"
done
is "$(sql "SELECT JSON_VALID(data) FROM event_queue WHERE session_key='hostile-1'")" 1 "hostile strings: data is valid JSON"
is "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='eye' AND table_name='events'")" 1 \
  "the events table is still there"

# A lone surrogate escape is not a character: the body is refused as text
# that is not Unicode, pointing at the value, and no event row is queued.
post_events "$KEY" "$(ev surrogate-1 | sed 's|"path":"/"|"path":"/\\ud800x"|')"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" '.error.code + " " + .error.pointer')" "400|invalid_utf8 /data/path" \
  "a lone surrogate escape: 400 invalid_utf8 at its value"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key='surrogate-1'")" 0 \
  "a lone surrogate escape: no event is queued"

# Huge numbers: a clean answer, the original digits kept in the payload.
form_n() { printf '{"session_id":"%s","category":"form interaction","name":"submit","data":{"host":"www.example.com","path":"/","form":{"n":%s}},"timestamp":"2021-01-01 09:15:27"}' "$1" "$2"; }
post_events "$KEY" "[$(form_n huge-1 1e400),$(form_n huge-2 123456789012345678901234567890),$(form_n huge-3 -1e400)]"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" '[.errors[].code] | join(",")')" "422|wrong_type,wrong_type,wrong_type" \
  "huge numbers where a string is expected: 422 wrong_type"
like "$(sqlr "SELECT payload FROM event_queue WHERE session_key='huge-2'")" '"n":123456789012345678901234567890\}' \
  "a huge integer is kept as sent in the rejected payload"
post_events "$KEY" "[ $(form_n huge-4 1) ,
  $(form_n huge-5 -1.2e29)
]"
is "$(sqlr "SELECT payload FROM event_queue WHERE session_key='huge-5'")" "$(form_n huge-5 -1.2e29)" \
  "the last element of an array is stored as sent (blanks around it trimmed)"
http POST /v1/events -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '123456789012345678901234567890'
is "$HTTP_STATUS" 400 "a huge number as the body: 400"
post_events "$KEY" "$(ev huge-4 ',"timestamp_extra":1e400')"
is "$HTTP_STATUS" 422 "a huge number in an unexpected member: 422"
post_events "$KEY" "$(ev after-huge)"
is "$HTTP_STATUS" 202 "the next request after the hostile ones is served"
is "$(fcgi_pids)" "$PIDS" "no eye.fcgi process died (the same processes serve)"

# --- timestamps and event ids ----------------------------------------------
q_row() { sql "SELECT CONCAT_WS('|', $2) FROM event_queue WHERE session_key='$1'"; }
post_events "$KEY" "$(ev ts-brief)"
is "$(q_row ts-brief "DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(client_timestamp, '%Y-%m-%d %H:%i:%s.%f')")" \
  "2021-01-01 09:15:27.243860|2021-01-01 09:15:27.243860" "the brief's timestamp is stored as UTC, to the microsecond"
is "$(q_row ts-brief "ABS(TIMESTAMPDIFF(SECOND, received_at, UTC_TIMESTAMP(6))) < 10")" 1 "received_at is the server's time, in UTC"
is "$(q_row ts-brief "CONCAT(sent_at IS NULL, clock_skew_us IS NULL, skew_corrected)")" "110" "without sent_at: no skew"
post_events "$KEY" "$(ev ts-offset | sed 's/"timestamp":"[^"]*"/"timestamp":"2021-01-01T11:15:27.5+02:00"/')"
is "$HTTP_STATUS|$(q_row ts-offset "DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f')")" "202|2021-01-01 09:15:27.500000" \
  "RFC 3339 with +02:00 is converted to UTC"
post_events "$KEY" "$(ev ts-z | sed 's/"timestamp":"[^"]*"/"timestamp":"2021-01-01T09:15:27.243860Z"/')"
is "$HTTP_STATUS|$(q_row ts-z "DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f')")" "202|2021-01-01 09:15:27.243860" "RFC 3339 with Z"

# sent_at 60 s in the past: the client's clock is behind, skew is positive.
past=$(date -u -d '-60 sec' '+%Y-%m-%dT%H:%M:%S.%6NZ')
post_events "$KEY" "$(ev skew-past ",\"sent_at\":\"$past\"")"
is "$HTTP_STATUS" 202 "sent_at: 202"
is "$(q_row skew-past "clock_skew_us BETWEEN 59000000 AND 70000000, skew_corrected, occurred_at = client_timestamp")" "1|0|1" \
  "sent_at 60 s ago: clock_skew_us = received_at - sent_at, about +60 s; occurred_at not corrected by default"
is "$(q_row skew-past "TIMESTAMPDIFF(MICROSECOND, sent_at, received_at) = clock_skew_us")" 1 "clock_skew_us is exactly received_at - sent_at"
future=$(date -u -d '+30 sec' '+%Y-%m-%dT%H:%M:%S.%6NZ')
post_events "$KEY" "$(ev skew-future ",\"sent_at\":\"$future\"")"
is "$HTTP_STATUS|$(q_row skew-future "clock_skew_us BETWEEN -30000000 AND -25000000")" "202|1" "sent_at 30 s ahead: negative skew"

post_events "$KEY" "$(ev eid-1 ',"event_id":"0B7E1E9A-1C2D-4E5F-8A9B-0C1D2E3F4A5B"')"
is "$HTTP_STATUS|$(q_row eid-1 event_id)" "202|0b7e1e9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" "a client event_id is kept, lowercased"
post_events "$KEY" "$(ev eid-2)"
like "$(q_row eid-2 event_id)" "$UUID_RE" "an event without event_id is assigned a UUID"
printf '[%s,%s]' "$(ev eid-3)" "$(ev eid-3)" >"$TMP/ids.json"
post "$KEY" application/json "$TMP/ids.json"
is "$(sql "SELECT COUNT(DISTINCT event_id) FROM event_queue WHERE session_key='eid-3'")" 2 "each assigned event_id is new"

# --- MariaDB down while lighttpd runs -----------------------------------------
# $KEY is cached (ingest.key_cache_seconds, 30 s): the refusal comes from
# the queue insert. A key never seen needs the database to be checked.
FRESH=$(new_app ingest-fresh)
stack_mariadb_stop
t0=$(date +%s%N)
post_events "$KEY" "$(ev down-1)" -D "$HDRS"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "503|database_unavailable" "MariaDB down: 503 database_unavailable"
like "$(header Retry-After)" '^[0-9]+$' "MariaDB down: Retry-After"
ok $(( ms < 2000 ? 0 : 1 )) "MariaDB down: answered in under 2 s (${ms} ms)"
t0=$(date +%s%N)
post_events "$FRESH" "$(ev down-2)" -D "$HDRS"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)|$(header Retry-After)" "503|database_unavailable|5" \
  "MariaDB down, key not cached: 503 database_unavailable, Retry-After: 5"
ok $(( ms < 2000 ? 0 : 1 )) "MariaDB down, key not cached: answered in under 2 s (${ms} ms)"
http GET /v1/health
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .database)" "503|down" "MariaDB down: GET /v1/health is 503, database down"

stack_mariadb_start || bail "MariaDB did not restart"
post_events "$KEY" "$(ev up-1)"
is "$HTTP_STATUS" 202 "MariaDB back: POST is 202 without restarting lighttpd"
post_events "$FRESH" "$(ev up-2)"
is "$HTTP_STATUS" 202 "MariaDB back: a key not cached works again"
http GET /v1/health
is "$HTTP_STATUS" 200 "MariaDB back: health 200"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key IN ('down-1', 'down-2')")" 0 "nothing answered 503 was stored"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE session_key IN ('up-1', 'up-2')")" 2 "the events after the restart are stored"

# --- a second configuration: short key cache, clock skew correction ----------
# lighttpd passes its environment to eye.fcgi, and EYE_* variables override
# the configuration file.
stack_lighttpd_stop
export EYE_INGEST_KEY_CACHE_SECONDS=1 EYE_INGEST_CORRECT_CLOCK_SKEW=true
stack_lighttpd_start || bail "lighttpd did not restart"

past=$(date -u -d '-60 sec' '+%Y-%m-%dT%H:%M:%S.%6NZ')
post_events "$KEY" "$(ev skew-fixed ",\"sent_at\":\"$past\"")"
is "$HTTP_STATUS" 202 "correct_clock_skew: 202"
is "$(q_row skew-fixed "skew_corrected, clock_skew_us BETWEEN 59000000 AND 70000000, TIMESTAMPDIFF(MICROSECOND, client_timestamp, occurred_at) = clock_skew_us, DATE_FORMAT(client_timestamp, '%H:%i:%s.%f')")" \
  "1|1|1|09:15:27.243860" "correct_clock_skew: occurred_at = timestamp + skew, skew_corrected 1, the client's timestamp kept"
post_events "$KEY" "$(ev skew-none)"
is "$(q_row skew-none "skew_corrected, occurred_at = client_timestamp")" "0|1" "correct_clock_skew without sent_at: nothing shifted"

# A revoked key stops working within ingest.key_cache_seconds (1 s here).
REVOKED=$(new_app ingest-revoked)
post_events "$REVOKED" "$(ev revoke-1)"
is "$HTTP_STATUS" 202 "a key about to be revoked works"
stack_admin key revoke "${REVOKED:0:12}" >/dev/null 2>&1
t0=$(date +%s%N)
for i in $(seq 30); do
  post_events "$REVOKED" "$(ev revoke-2)"
  [ "$HTTP_STATUS" = 401 ] && break
  sleep 0.1
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "401|invalid_key" "a revoked key: 401 invalid_key"
ok $(( ms < 2000 ? 0 : 1 )) "a revoked key is refused within the cache time (${ms} ms)"
post_events "$REVOKED" "$(ev revoke-3)"
is "$HTTP_STATUS" 401 "a revoked key stays refused"

harness_finish
