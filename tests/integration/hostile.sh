#!/bin/bash
# hostile.sh - a few hundred hostile request shapes against the stack, each
# with its expected status, error code and pointer, and after each the
# accounting invariant (acknowledged = rows in events + event_errors) and
# the server's health: JSON grammar, every invalid UTF-8 class in values,
# member names, headers and URLs, sizes at every limit and one past,
# nesting, framing, headers, methods, paths, keys, read API parameters.
# The cases are in hostile.py (raw bytes on a socket, so any request can be
# sent); this script starts the servers and a spooler around it. Runs under
# the sanitizers too.
. "$EYE_SRCDIR/tests/lib/harness.sh"
# Limits smaller than the defaults, so that "the limit and one past" stays
# quick; the code paths are the same.
MAX_BODY=262144 MAX_EVENTS=100 MAX_EVENT_BYTES=8192 MAX_DEPTH=16 MAX_DECOMPRESSED=1048576
stack_mariadb_start || bail "MariaDB did not start"
stack_write_config "$STACK_DIR/eye.yaml"
cat >>"$STACK_CONFIG" <<CONF
ingest:
  max_body_bytes: $MAX_BODY
  max_events_per_request: $MAX_EVENTS
  max_event_bytes: $MAX_EVENT_BYTES
  max_depth: $MAX_DEPTH
  max_decompressed_bytes: $MAX_DECOMPRESSED
CONF
stack_schema || bail "schema set-up failed"
stack_lighttpd_start || bail "lighttpd did not start"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
SPOOL_PID=
hostile_cleanup() {
  local rc=$?
  [ -n "$SPOOL_PID" ] && kill "$SPOOL_PID" 2>/dev/null && wait "$SPOOL_PID" 2>/dev/null
  harness_cleanup
  exit $rc
}
trap hostile_cleanup EXIT
KEY=$(new_app hostile); RKEY=$(new_app hostile-reader --read)
REVOKED=$(stack_admin key create hostile 2>/dev/null)
stack_admin key revoke "$(echo "$REVOKED" | cut -d_ -f1-2)" >/dev/null 2>&1
ok $? "a key to revoke is made and revoked"
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PID=$!

out=$STACK_DIR/hostile.tap
HOSTILE_PORT=$STACK_HTTP_PORT HOSTILE_SOCKET=$STACK_DB_SOCKET HOSTILE_KEY=$KEY HOSTILE_RKEY=$RKEY \
  HOSTILE_REVOKED=$REVOKED HOSTILE_TAP_N=$TAP_N HOSTILE_MAX_BODY=$MAX_BODY \
  HOSTILE_MAX_EVENTS=$MAX_EVENTS HOSTILE_MAX_EVENT_BYTES=$MAX_EVENT_BYTES \
  HOSTILE_MAX_DEPTH=$MAX_DEPTH HOSTILE_MAX_DECOMPRESSED=$MAX_DECOMPRESSED \
  python3 "$EYE_SRCDIR/tests/integration/hostile.py" | tee "$out"
rc=${PIPESTATUS[0]}
last=$(sed -n 's/^# tap_n //p' "$out")
[ -n "$last" ] && TAP_N=$last
is "$rc" 0 "hostile.py ran to its end"
kill -0 "$SPOOL_PID" 2>/dev/null; ok $? "eye-spool is still running"
is "$(grep -c 'ERROR\|runtime error' "$STACK_DIR/spool.log")" 0 "eye-spool logged no error"
harness_finish
