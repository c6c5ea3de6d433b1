# apache.sh - a private Apache 2.4 + mod_fcgid for the integration tests
# (sourced after harness.sh).
#
# Starts Debian's /usr/sbin/apache2 with a configuration written into
# STACK_DIR/apache (ServerRoot, pid file, logs, runtime and mutex files,
# mod_fcgid's sockets and process table all there), listening on a free
# port of 127.0.0.1, never the system's Apache or anything under /etc. The
# configuration includes the shipped deploy/apache-eye.conf, with
# EYE_FCGI_BIN and EYE_CONFIG defined to the built eye.fcgi and the test's
# config, so what is tested is what is installed.
#
# As root, Apache refuses to run its children as root: they run as
# nobody:nogroup, and so does eye.fcgi, which mod_fcgid starts from them.
# apache_start then lets group nogroup read what eye.fcgi needs and nothing
# more: the config file and the ingest account's password (group-readable,
# as they would be for www-data in production), and the temporary folder is
# made traversable (711) so the MariaDB socket can be reached.
#
# Variables: APACHE_PORT, APACHE_PID, APACHE_DIR, APACHE_BASE (its URL).
# Environment: EYE_APACHE_BIN (default /usr/sbin/apache2),
#              EYE_APACHE_MODULES (default /usr/lib/apache2/modules).

APACHE_PID=
APACHE_DIR=$STACK_DIR/apache
APACHE_BIN=${EYE_APACHE_BIN:-/usr/sbin/apache2}
APACHE_MODULES=${EYE_APACHE_MODULES:-/usr/lib/apache2/modules}

# apache_available: 0 when apache2 and mod_fcgid are installed.
apache_available() {
  [ -x "$APACHE_BIN" ] && [ -f "$APACHE_MODULES/mod_fcgid.so" ]
}

# apache_snippet: prints the path of the Apache snippet to include: the
# built deploy/apache-eye.conf, or (a source tree not built with it) one made
# from the .in here. The installed paths in it are overridden by the
# Defines of the test configuration anyway.
apache_snippet() {
  local built=$EYE_BUILDDIR/deploy/apache-eye.conf
  if [ -f "$built" ]; then
    echo "$built"
    return 0
  fi
  sed -e 's|@[a-z]*dir@|/nonexistent|g' "$EYE_SRCDIR/deploy/apache-eye.conf.in" >"$APACHE_DIR/apache-eye.conf"
  echo "$APACHE_DIR/apache-eye.conf"
}

# apache_grant_nobody: lets the nogroup group read what eye.fcgi reads
# (only when root; otherwise Apache and eye.fcgi run as the caller).
apache_grant_nobody() {
  [ "$(id -u)" = 0 ] || return 0
  chmod 711 "$STACK_DIR"
  chgrp nogroup "$STACK_CONFIG" "$STACK_DIR/secrets" "$STACK_DIR/secrets/ingest.pw"
  chmod 640 "$STACK_CONFIG" "$STACK_DIR/secrets/ingest.pw"
  chmod 750 "$STACK_DIR/secrets"
  # Sanitizer reports of eye.fcgi processes spawned by Apache.
  mkdir -p "$APACHE_DIR/reports"
  chown nobody:nogroup "$APACHE_DIR/reports"
}

# apache_write_conf: writes APACHE_DIR/httpd.conf.
apache_write_conf() {
  local fcgi_bin=${APACHE_FCGI_BIN:-$EYE_BUILDDIR/fcgi/eye.fcgi} user_lines="" m
  if [ "$(id -u)" = 0 ]; then
    user_lines=$'User nobody\nGroup nogroup'
  fi
  {
    echo "# Written by tests/lib/apache.sh: a private Apache for one test."
    echo "ServerRoot \"$APACHE_DIR\""
    for m in mpm_event authz_core alias mime setenvif asis headers fcgid; do
      echo "LoadModule ${m}_module $APACHE_MODULES/mod_$m.so"
    done
    cat <<CONF
$user_lines
ServerName 127.0.0.1
Listen 127.0.0.1:$APACHE_PORT
PidFile "$APACHE_DIR/httpd.pid"
DefaultRuntimeDir "$APACHE_DIR/run"
Mutex file:$APACHE_DIR/run default
ErrorLog "$APACHE_DIR/error.log"
LogLevel warn fcgid:info
LogFormat "%h %l %u %t \"%r\" %>s %b %D" timing
CustomLog "$APACHE_DIR/access.log" timing
TypesConfig /dev/null
DocumentRoot "$APACHE_DIR/htdocs"
# Few processes, so a test does not open dozens of database connections.
StartServers 1
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32

# mod_fcgid's own state, which Debian keeps under /var/lib/apache2/fcgid.
FcgidIPCDir "$APACHE_DIR/fcgid"
FcgidProcessTableFile "$APACHE_DIR/fcgid/shm"
FcgidMaxProcesses 8

Define EYE_FCGI_BIN $fcgi_bin
Define EYE_CONFIG $STACK_CONFIG
Define EYE_ERRORS_DIR ${APACHE_ERRORS_DIR:-$EYE_SRCDIR/deploy/errors}
Define EYE_JS_DIR $EYE_SRCDIR/client/js
Include "$(apache_snippet)"
FcgidMaxProcessesPerClass 4
CONF
    if [ -n "${ASAN_OPTIONS:-}" ]; then
      echo "FcgidInitialEnv ASAN_OPTIONS log_path=$APACHE_DIR/reports/sanitizer:detect_leaks=1:abort_on_error=0"
      echo "FcgidInitialEnv UBSAN_OPTIONS log_path=$APACHE_DIR/reports/sanitizer:print_stacktrace=1"
    fi
  } >"$APACHE_DIR/httpd.conf"
}

# apache_start: starts Apache on a free port and waits (at most 30 s) until
# eye.fcgi answers /v1/health through it. Sets APACHE_BASE. The port is
# free when chosen, but another test on the machine may take it before
# Apache binds it: then it tries another one (three ports at most).
apache_start() {
  mkdir -p "$APACHE_DIR/run" "$APACHE_DIR/fcgid" "$APACHE_DIR/htdocs"
  : "${APACHE_PORT:=$(stack_free_port)}"
  apache_grant_nobody
  # mod_fcgid's sockets are made by the process manager, which runs as the
  # User of the children.
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$APACHE_DIR/fcgid"
  local try rc
  for try in 1 2 3; do
    apache_start_once
    rc=$?
    [ $rc = 2 ] || return $rc
    echo "apache: port $APACHE_PORT was taken meanwhile; trying another" >&2
    APACHE_PORT=$(stack_free_port)
  done
  return 1
}

# apache_start_once: one start on APACHE_PORT. Returns 0 when it answers, 2
# when the port was taken, 1 on any other failure.
apache_start_once() {
  apache_write_conf
  if ! "$APACHE_BIN" -d "$APACHE_DIR" -f "$APACHE_DIR/httpd.conf" -t >"$APACHE_DIR/configtest.out" 2>&1; then
    echo "apache: configuration refused:" >&2
    cat "$APACHE_DIR/configtest.out" >&2
    return 1
  fi
  local out_from
  out_from=$(($(stat -c %s "$APACHE_DIR/apache.out" 2>/dev/null || echo 0) + 1))
  "$APACHE_BIN" -d "$APACHE_DIR" -f "$APACHE_DIR/httpd.conf" -DFOREGROUND \
    >>"$APACHE_DIR/apache.out" 2>&1 &
  APACHE_PID=$!
  APACHE_BASE="http://127.0.0.1:$APACHE_PORT"
  local code deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$APACHE_BASE/v1/health")
    case $code in 200 | 503) return 0 ;; esac
    if ! kill -0 "$APACHE_PID" 2>/dev/null; then
      APACHE_PID=
      tail -c "+$out_from" "$APACHE_DIR/apache.out" | grep -q 'Address already in use' && return 2
      echo "apache: exited; see $APACHE_DIR/apache.out and error.log" >&2
      tail -n 20 "$APACHE_DIR/apache.out" "$APACHE_DIR/error.log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  echo "apache: /v1/health did not answer within 30 s (last status $code)" >&2
  tail -n 20 "$APACHE_DIR/error.log" >&2 2>/dev/null
  return 1
}

# apache_stop: stops the Apache started by apache_start (SIGTERM: its
# children and mod_fcgid's process manager end, and eye.fcgi gets SIGTERM),
# waits for it, kills it after 10 s.
apache_stop() {
  [ -n "${APACHE_PID:-}" ] && stack_stop_pid "$APACHE_PID" 10
  APACHE_PID=
}

# apache_reports: prints the sanitizer reports eye.fcgi wrote under Apache.
apache_reports() { ls "$APACHE_DIR"/reports/sanitizer.* 2>/dev/null; }

# Stops Apache on every exit path, before the harness stops the rest. The
# exit status is handed on so the harness still sees a failure.
apache_cleanup() {
  local rc=$?
  apache_stop
  (exit $rc)
  harness_cleanup
}
trap apache_cleanup EXIT
