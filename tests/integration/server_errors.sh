#!/bin/bash
# server_errors.sh - the answers lighttpd and Apache give by themselves
# (issues 14 and 20): every one is the documented JSON error,
#   {"error":{"code":"...","pointer":"","message":"..."}}
# with Content-Type application/json, never an HTML page.
#
# Through each server (lighttpd from the top-level lighttpd.conf, Apache
# from deploy/apache-eye.conf, both with the error bodies of deploy/errors):
# - the request shapes of data/server_errors/requests.tsv, sent raw (socat,
#   then a half-close), each with the answer expected from that server;
# - a chunked body above the server's own limit;
# - eye.fcgi killed with kill -9 while a request is in flight (MariaDB
#   frozen with SIGSTOP, so the worker is stuck inside the request): 503
#   backend_unavailable with Retry-After; the server starts a new worker,
#   and the client's retry with the same event_id is stored once;
# - eye.fcgi killed while the server is still receiving a request body: both
#   servers read the whole body before they hand it on, so a new worker
#   answers 202;
# - (lighttpd) an incomplete deploy/errors folder: still the JSON shape.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/apache.sh"

if ! command -v socat >/dev/null && [ "$(id -u)" = 0 ]; then
  flock /tmp/apt.lock apt-get install -y -q socat >/dev/null 2>&1
fi
command -v socat >/dev/null || bail "socat is not installed (apt-get install socat)"

harness_start
TMP=$STACK_DIR/server_errors
mkdir -p "$TMP"
KEY=$(new_app server-errors)
DATA=$EYE_SRCDIR/tests/integration/data
ERRORS=$EYE_SRCDIR/deploy/errors
RETRY_AFTER=$(sed -n 's/^Retry-After: *//p' "$ERRORS/503.asis")

# --- helpers -----------------------------------------------------------------

# raw PORT: sends stdin to 127.0.0.1:PORT byte for byte, half-closes the
# connection (a request cut short stays cut short) and reads the answer
# until the server closes it (at most 15 s). Sets RAW_STATUS (empty when the
# server closed without a word), RAW_HEADERS (CR removed), RAW_BODY and
# RAW_SECONDS (how long until the server closed).
raw() {
  local t0=$SECONDS
  timeout 20 socat -t 15 - "TCP:127.0.0.1:$1" >"$TMP/raw.out" 2>/dev/null
  RAW_SECONDS=$((SECONDS - t0))
  RAW_STATUS=$(head -n 1 "$TMP/raw.out" | tr -d '\r' | sed -n 's|^HTTP/[0-9.]* \([0-9][0-9][0-9]\).*|\1|p')
  RAW_HEADERS=$(sed -n '1,/^\r\{0,1\}$/p' "$TMP/raw.out" | tr -d '\r')
  RAW_BODY=$(sed '1,/^\r\{0,1\}$/d' "$TMP/raw.out")
}

# raw_header NAME: a header of the last raw answer.
raw_header() { printf '%s\n' "$RAW_HEADERS" | sed -n "s/^$1: *//Ip" | tail -1; }

# shape BODY: "CODE pointer=POINTER message=TYPE", empty unless BODY is JSON.
shape() {
  printf '%s' "$1" | jq -r '"\(.error.code) pointer=\(.error.pointer | tojson) message=\(.error.message | type)"' 2>/dev/null
}

# file_body STATUS: the body the server sends for a status of its own.
file_body() {
  local f=$ERRORS/$1.asis
  [ -f "$f" ] || f=$ERRORS/503.asis
  sed '1,/^$/d' "$f"
}

# check_answer LABEL WANT: checks the last raw answer. WANT is "STATUS CODE"
# (the server's own answer: the JSON shape, the body of deploy/errors, and
# Retry-After exactly on 503), "fcgi STATUS CODE" (eye.fcgi's answer passed
# on: JSON with that code) or "closed" (no answer at all).
check_answer() {
  local label=$1 want=$2
  case $want in
    closed)
      # At once: the server's decision, not one of its timeouts.
      is "$(wc -c <"$TMP/raw.out") bytes, quick=$((RAW_SECONDS < 5))" "0 bytes, quick=1" \
        "$label: the server closes the connection at once, without an answer"
      ;;
    fcgi\ *)
      set -- $want
      is "$RAW_STATUS|$(raw_header Content-Type)|$(json_get "$RAW_BODY" .error.code 2>/dev/null)" \
        "$2|application/json|$3" "$label: passed on, eye.fcgi answers $2 $3"
      ;;
    *)
      set -- $want
      local ra=""
      [ "$1" = 503 ] && ra=$RETRY_AFTER
      is "$RAW_STATUS|$(raw_header Content-Type)|$(shape "$RAW_BODY")|retry-after=$(raw_header Retry-After)" \
        "$1|application/json|$2 pointer=\"\" message=string|retry-after=$ra" "$label: $1 $2, the JSON error shape"
      is "$RAW_BODY" "$(file_body "$1")" "$label: the body is deploy/errors' for $1"
      ;;
  esac
}

# expand REQUEST: the printf format of a requests.tsv line made real.
expand() {
  local req=${1//@KEY@/$KEY}
  while [[ $req =~ @A([0-9]+)@ ]]; do
    req=${req/"${BASH_REMATCH[0]}"/$(head -c "${BASH_REMATCH[1]}" /dev/zero | tr '\0' a)}
  done
  printf -- "$req"
}

# workers: pids of the live eye.fcgi processes of the server under test
# (not the killed ones their parent has not reaped yet).
workers() {
  local parents
  case $SERVER in
    lighttpd) parents=$STACK_HTTP_PID ;;
    apache) parents=$(pgrep -d, -P "$APACHE_PID") ;;
  esac
  # lighttpd's children are its workers; Apache's only grandchildren are
  # mod_fcgid's (its process manager is the one child that has any).
  ps -o pid=,stat= --ppid "$parents" | awk '$2 !~ /^Z/ { print $1 }'
}

# replaced OLD [N]: true when the server's live eye.fcgi processes are all
# new (none is in the list OLD) and there are N of them (default: at least
# one). One snapshot of workers: with two, a killed worker still listed by
# the first and reaped before the second would pass for a replacement.
replaced() {
  local now
  now=$(workers)
  [ -n "$now" ] && [ -z "$(comm -12 <(echo "$1" | sort) <(echo "$now" | sort))" ] &&
    { [ -z "${2:-}" ] || [ "$(echo "$now" | wc -l)" -eq "$2" ]; }
}

# in_flight: FastCGI connections open between the server and eye.fcgi
# (each carries one request; neither server keeps idle ones).
in_flight() { awk -v p="$SOCKETS" '$6 == "03" && index($8, p) == 1' /proc/net/unix | wc -l; }

# wait_for SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds.
wait_for() {
  local i n=$(($1 * 10))
  shift
  for i in $(seq 1 $n); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}
no_request_in_flight() { [ "$(in_flight)" = 0 ]; }
request_in_flight() { [ "$(in_flight)" -gt 0 ]; }
healthy() { [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/v1/health")" = 200 ]; }

# event SESSION EVENT_ID: a valid event.
event() { jq -c --arg s "$1" --arg id "$2" '.session_id = $s | .event_id = $id' "$DATA/ingest/valid.json"; }
uuid() { cat /proc/sys/kernel/random/uuid; }

# --- the cases -----------------------------------------------------------------

case_request_shapes() {
  local name lighttpd apache request want n=0
  while IFS=$'\t' read -r name lighttpd apache request; do
    case $name in '#'* | '') continue ;; esac
    want=$lighttpd
    [ "$SERVER" = apache ] && want=$apache
    expand "$request" >"$TMP/request"
    raw "$PORT" <"$TMP/request"
    check_answer "$SERVER: $name" "$want"
    n=$((n + 1))
  done <"$DATA/server_errors/requests.tsv"
  [ "$n" -ge 20 ]
  ok $? "$SERVER: $n request shapes tried"
  healthy
  ok $? "$SERVER: healthy after the malformed requests"
}

case_chunked_above_limit() {
  # 5 chunks of 1 MiB: above lighttpd's server.max-request-size and Apache's
  # LimitRequestBody (4 MiB), and above eye.fcgi's 1 MiB.
  {
    printf 'POST /v1/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n' "$KEY"
    printf 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'
    local i
    for i in 1 2 3 4 5; do
      printf '100000\r\n'
      head -c 1048576 /dev/zero | tr '\0' ' '
      printf '\r\n'
    done
    printf '0\r\n\r\n'
  } >"$TMP/chunked_5MiB"
  raw "$PORT" <"$TMP/chunked_5MiB"
  case $SERVER in
    lighttpd) check_answer "$SERVER: a 5 MiB chunked body" "413 body_too_large" ;;
    # Apache hands on what LimitRequestBody let through; eye.fcgi refuses it.
    apache) check_answer "$SERVER: a 5 MiB chunked body" "fcgi 413 body_too_large" ;;
  esac
}

case_worker_killed_mid_request() {
  local id s=srv-errors-$SERVER-killed code
  id=$(uuid)
  echo "$id" >"$TMP/$SERVER.killed_id"
  wait_for 10 no_request_in_flight
  # With MariaDB frozen the worker cannot finish the request: it waits for
  # the database (up to its 5 s read timeout) when it is killed.
  kill -STOP "$STACK_DB_PID"
  curl -s -m 30 -D "$TMP/killed.headers" -o "$TMP/killed.body" -w '%{http_code}' \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data-binary "[$(event "$s" "$id")]" "$BASE/v1/events" >"$TMP/killed.status" &
  local curl_pid=$!
  wait_for 10 request_in_flight
  ok $? "$SERVER: the request reached eye.fcgi"
  sleep 0.2
  local pids
  pids=$(workers)
  [ -n "$pids" ]
  ok $? "$SERVER: eye.fcgi processes to kill: $(echo $pids)"
  kill -KILL $pids
  wait "$curl_pid"
  kill -CONT "$STACK_DB_PID"
  RAW_STATUS=$(cat "$TMP/killed.status")
  RAW_HEADERS=$(tr -d '\r' <"$TMP/killed.headers")
  RAW_BODY=$(cat "$TMP/killed.body")
  check_answer "$SERVER: eye.fcgi killed mid-request" "503 backend_unavailable"

  # The server starts a new worker; the client retries as told.
  wait_for 20 healthy
  ok $? "$SERVER: healthy again after the kill (a new eye.fcgi)"
  replaced "$pids"
  ok $? "$SERVER: the workers are new processes ($(echo $(workers)))"
  code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' --data-binary "[$(event "$s" "$id")]" "$BASE/v1/events")
  is "$code" 202 "$SERVER: the retry with the same event_id is accepted"
}

case_worker_killed_during_upload() {
  local id s=srv-errors-$SERVER-upload body old
  id=$(uuid)
  echo "$id" >"$TMP/$SERVER.upload_id"
  body="[$(event "$s" "$id")]"
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf 'POST /v1/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$KEY" "${#body}" "${body:0:20}" >&3
  sleep 0.3
  old=$(workers)
  [ -n "$old" ]
  ok $? "$SERVER: eye.fcgi processes to kill during the upload: $(echo $old)"
  kill -KILL $old
  # Before the body is complete, let the server notice, or it has no worker
  # to hand the body to and answers 503 itself.
  # - lighttpd restarts its workers by itself, but not at once when the
  #   last start was within the same second (gw_backend's "avoid spinning":
  #   case_worker_killed_mid_request's restart usually was): then its
  #   once-a-second timer does, and a body completed before that gets 503,
  #   "all handlers ... are down". Wait until every killed worker has been
  #   replaced; lighttpd listens on a worker's socket before it starts the
  #   worker, so from then on a connection waits for the new process.
  # - mod_fcgid's process manager notes the exit (and starts a new process
  #   for the next request; until it has noticed, it still hands requests
  #   to the dead one, which is then a 503).
  local pid rc=0 seen
  case $SERVER in
    lighttpd)
      wait_for 10 replaced "$old" "$(echo "$old" | wc -l)" || rc=1
      seen="replaced by $(echo $(workers))"
      ;;
    apache)
      for pid in $old; do
        wait_for 15 grep -q "eye.fcgi($pid) exit" "$APACHE_DIR/error.log" || rc=1
      done
      seen="mod_fcgid logged their exit"
      ;;
  esac
  ok $rc "$SERVER: the server noticed the killed workers before the body was complete ($seen)"
  printf '%s' "${body:20}" >&3
  timeout 20 cat <&3 >"$TMP/upload.out"
  exec 3>&-
  is "$(head -n 1 "$TMP/upload.out" | tr -d '\r' | cut -d' ' -f2)|$(sed '1,/^\r$/d' "$TMP/upload.out" | jq -r .accepted)" \
    "202|1" "$SERVER: eye.fcgi killed while the body was arriving: a new worker answers 202"
}

# lighttpd with an incomplete errors folder: the handler still answers in
# the documented shape, and says what is missing in the error log.
case_incomplete_errors_folder() {
  local dir=$TMP/errors-incomplete
  mkdir -p "$dir"
  cp "$ERRORS/lighttpd-errors.lua" "$ERRORS/4xx.asis" "$dir/"
  stack_lighttpd_stop
  STACK_ERRORS_DIR=$dir stack_lighttpd_start || bail "lighttpd did not restart"
  local post='POST /v1/events HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
  printf "$post" >"$TMP/request"
  raw "$PORT" <"$TMP/request"
  is "$RAW_STATUS|$(raw_header Content-Type)|$RAW_BODY" "411|application/json|$(sed '1,/^$/d' "$ERRORS/4xx.asis")" \
    "$SERVER: no 411.asis: 411 with 4xx.asis, which keeps the status"
  rm "$dir/4xx.asis"
  raw "$PORT" <"$TMP/request"
  is "$RAW_STATUS|$(raw_header Content-Type)|$(shape "$RAW_BODY")" "411|application/json|request_refused pointer=\"\" message=string" \
    "$SERVER: no file at all: 411 request_refused all the same"
  grep -q "lighttpd-errors.lua: no usable answer for 411 in $dir" "$STACK_DIR/lighttpd-error.log"
  ok $? "$SERVER: the error log names what is missing"
  stack_lighttpd_stop
  stack_lighttpd_start || bail "lighttpd did not restart"
}

# run_cases NAME URL: every case against one server.
run_cases() {
  SERVER=$1 BASE=$2 PORT=${2##*:} SOCKETS=$3
  case_request_shapes
  case_chunked_above_limit
  case_worker_killed_mid_request
  case_worker_killed_during_upload
}

# --- lighttpd ------------------------------------------------------------------
run_cases lighttpd "http://127.0.0.1:$STACK_HTTP_PORT" "$STACK_DIR/eye.fcgi.sock"
case_incomplete_errors_folder

# --- Apache + mod_fcgid ------------------------------------------------------
if ! apache_available; then
  ok 1 "apache2 and mod_fcgid are installed (apt-get install apache2 libapache2-mod-fcgid)"
else
  apache_start || bail "Apache did not start"
  run_cases apache "$APACHE_BASE" "$APACHE_DIR/fcgid/"
  apache_stop
  sleep 0.3
  is "$(apache_reports)" "" "apache: no sanitizer reports from eye.fcgi under Apache"
fi

# --- what was stored -----------------------------------------------------------
# Every event the clients were told 202 for, and the one whose answer was
# lost with the killed worker (stored or not, the retry carried its id),
# ends in events exactly once.
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>"$TMP/spool.err"
ok $? "eye-spool --once drains the queue" || sed 's/^/# /' "$TMP/spool.err"
for f in "$TMP"/*.killed_id "$TMP"/*.upload_id; do
  [ -f "$f" ] || continue
  is "$(sql "SELECT COUNT(*) FROM events WHERE event_id = '$(cat "$f")'")" 1 \
    "$(basename "$f" | tr . ' '): stored exactly once"
done

harness_finish
