# harness.sh - integration test fixture (sourced by tests/integration/*.sh).
#
# Starts a private MariaDB (own datadir, socket and free port in a temporary
# folder), applies the schema, creates least-privilege accounts and starts
# lighttpd from the top-level lighttpd.conf on a free port, spawning the
# built eye.fcgi. Everything is stopped and removed when the test exits,
# whether it passes, fails or is interrupted.
#
# Environment:
#   EYE_SRCDIR, EYE_BUILDDIR   set by `make check`
#   EYE_TEST_KEEP=1            keep the temporary folder (for debugging)
#   EYE_TEST_VALGRIND=1        run eye.fcgi under valgrind (leak check)

set -u
: "${EYE_SRCDIR:?run through make check}"
: "${EYE_BUILDDIR:?run through make check}"
. "$EYE_SRCDIR/tests/lib/tap.sh"
. "$EYE_SRCDIR/scripts/stack.sh"

STACK_SRCDIR=$EYE_SRCDIR
STACK_BUILDDIR=$EYE_BUILDDIR
STACK_TEMPLATE=$EYE_BUILDDIR/tests/mariadb-template
STACK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eye-test.XXXXXX")
STACK_DB_PORT=
STACK_HTTP_PORT=
STACK_DB_PID=
STACK_HTTP_PID=

harness_cleanup() {
  local rc=$?
  stack_lighttpd_stop
  stack_mariadb_stop
  if [ "${EYE_TEST_KEEP:-0}" = 1 ] || [ $rc -ne 0 ] || [ "$TAP_FAILED" -gt 0 ]; then
    echo "# state kept in $STACK_DIR"
  else
    rm -rf "$STACK_DIR"
  fi
}
trap harness_cleanup EXIT
trap 'exit 130' INT TERM

# Sanitizer builds write their reports here instead of the web server's log,
# so harness_finish can count them as a failure.
export ASAN_OPTIONS="log_path=$STACK_DIR/sanitizer:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$STACK_DIR/sanitizer:print_stacktrace=1"

if [ "${EYE_TEST_VALGRIND:-0}" = 1 ]; then
  cat >"$STACK_DIR/eye.fcgi.valgrind" <<VG
#!/bin/sh
exec valgrind --quiet --leak-check=full --error-exitcode=99 --log-file=$STACK_DIR/valgrind.%p.log $EYE_BUILDDIR/fcgi/eye.fcgi
VG
  chmod +x "$STACK_DIR/eye.fcgi.valgrind"
  STACK_FCGI_BIN=$STACK_DIR/eye.fcgi.valgrind
fi

# harness_start: MariaDB + schema + lighttpd. Bails out when anything fails.
harness_start() {
  stack_mariadb_start || bail "MariaDB did not start"
  stack_write_config "$STACK_DIR/eye.yaml"
  stack_schema || bail "schema set-up failed"
  stack_lighttpd_start || bail "lighttpd did not start"
  BASE="http://127.0.0.1:$STACK_HTTP_PORT"
}

# sql QUERY: runs a query as root against the eye database, tab-separated.
sql() { stack_sql -N -B eye -e "$1"; }

# new_app NAME [--read]: creates an application, prints its key.
new_app() { stack_admin app create "$@" 2>/dev/null; }

# http METHOD PATH [curl args...]: prints "STATUS BODY" of a request.
# Sets HTTP_STATUS and HTTP_BODY.
http() {
  local method=$1 path=$2; shift 2
  local out
  out=$(curl -s -m 10 -X "$method" -w '\n%{http_code}' "$@" "$BASE$path")
  HTTP_STATUS=${out##*$'\n'}
  HTTP_BODY=${out%$'\n'*}
}

# post_events KEY BODY [curl args]: POST /v1/events with a JSON body.
post_events() {
  local key=$1 body=$2; shift 2
  http POST /v1/events -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data-binary "$body" "$@"
}

# wait_drained TIMEOUT_S: waits until event_queue is empty (a spooler is
# running). Returns 1 when it is not empty after TIMEOUT_S seconds.
wait_drained() {
  local i
  for i in $(seq 1 $(($1 * 10))); do
    [ "$(sql 'SELECT COUNT(*) FROM event_queue')" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

# json_get BODY EXPR: extracts a value with jq.
json_get() { printf '%s' "$1" | jq -r "$2"; }

# harness_finish: stops the servers (so eye.fcgi exits and writes its leak
# and sanitizer reports), fails if any report was written, prints the plan.
harness_finish() {
  stack_lighttpd_stop
  sleep 0.2
  local reports
  reports=$(ls "$STACK_DIR"/sanitizer.* 2>/dev/null; grep -l "ERROR SUMMARY: [1-9]\|definitely lost: [1-9]" "$STACK_DIR"/valgrind.*.log 2>/dev/null)
  is "$reports" "" "no sanitizer or valgrind reports from the programs under test"
  [ -n "$reports" ] && head -50 $reports | sed 's/^/# /'
  done_testing
}
