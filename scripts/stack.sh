# stack.sh - bring up and tear down The Eye's private servers (sourced).
#
# Used by ./run (the newcomer's runtime, state under build/run) and by the
# integration tests (state in a temporary folder), so both start MariaDB,
# apply the schema and start lighttpd exactly the same way.
#
# Functions set and read these variables:
#   STACK_DIR        folder holding all state (datadir, sockets, logs, secrets)
#   STACK_BUILDDIR   build tree with admin/eye-admin and fcgi/eye.fcgi
#   STACK_SRCDIR     source tree (migrations, rules, lighttpd.conf)
#   STACK_DB_SOCKET  MariaDB socket (set by stack_mariadb_start)
#   STACK_DB_PORT    MariaDB TCP port on 127.0.0.1
#   STACK_HTTP_PORT  lighttpd port on 127.0.0.1
#   STACK_CONFIG     The Eye's config file (written by stack_write_config)
#   STACK_ERRORS_DIR lighttpd's error bodies (default: deploy/errors of the
#                    source tree)

# Prints a TCP port on 127.0.0.1 that nothing listens on now.
stack_free_port() {
  local port tries=0
  while [ $tries -lt 200 ]; do
    # Below Linux's ephemeral range (32768-60999 by default): a port there
    # may be the local end of some client's connection, which no connect
    # test sees but which makes the server's bind fail (EADDRINUSE).
    port=$(( RANDOM % 12000 + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  echo "stack: no free port found" >&2
  return 1
}

# The MariaDB server and install program, whatever Debian names them.
stack_mariadbd() { command -v mariadbd || command -v mysqld || echo /usr/sbin/mariadbd; }

# Runs the server's own process as root only when we are root (mariadbd
# refuses root unless told).
stack_user_opt() { [ "$(id -u)" = 0 ] && echo "--user=root"; }

# stack_mariadb_init DATADIR: creates a fresh data folder unless one exists.
# A template is kept beside the build (STACK_TEMPLATE, optional) and copied,
# because mariadb-install-db takes seconds and tests need many servers.
stack_mariadb_init() {
  local datadir=$1
  [ -d "$datadir/mysql" ] && return 0
  mkdir -p "$datadir"
  if [ -n "${STACK_TEMPLATE:-}" ]; then
    (
      flock 9
      if [ ! -d "$STACK_TEMPLATE/mysql" ]; then
        rm -rf "$STACK_TEMPLATE.tmp"
        mkdir -p "$STACK_TEMPLATE.tmp"
        mariadb-install-db --no-defaults --datadir="$STACK_TEMPLATE.tmp" \
          --auth-root-authentication-method=normal --skip-test-db $(stack_user_opt) \
          >"$STACK_TEMPLATE.log" 2>&1 || { cat "$STACK_TEMPLATE.log" >&2; exit 1; }
        mv "$STACK_TEMPLATE.tmp" "$STACK_TEMPLATE"
      fi
    ) 9>"${STACK_TEMPLATE}.lock" || return 1
    cp -a "$STACK_TEMPLATE/." "$datadir/"
  else
    mariadb-install-db --no-defaults --datadir="$datadir" \
      --auth-root-authentication-method=normal --skip-test-db $(stack_user_opt) \
      >"$STACK_DIR/mariadb-install.log" 2>&1 || { cat "$STACK_DIR/mariadb-install.log" >&2; return 1; }
  fi
}

# stack_mariadb_start: starts mariadbd on STACK_DIR/mariadb with a private
# socket and port, and waits (at most 60 s) until it answers.
stack_mariadb_start() {
  local datadir="$STACK_DIR/mariadb"
  STACK_DB_SOCKET="$STACK_DIR/mariadb.sock"
  : "${STACK_DB_PORT:=$(stack_free_port)}"
  stack_mariadb_init "$datadir" || return 1
  # Its own temporary folder: internal temporary tables must not live in a
  # /tmp shared with other servers and cleaners.
  mkdir -p "$STACK_DIR/mariadb-tmp"
  "$(stack_mariadbd)" --no-defaults --datadir="$datadir" --socket="$STACK_DB_SOCKET" \
    --tmpdir="$STACK_DIR/mariadb-tmp" \
    --port="$STACK_DB_PORT" --bind-address=127.0.0.1 --pid-file="$STACK_DIR/mariadb.pid" \
    --log-error="$STACK_DIR/mariadb.err" --innodb-buffer-pool-size=256M \
    --innodb-log-file-size=256M --max-connections=500 --skip-name-resolve \
    --innodb-autoinc-lock-mode=2 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    $(stack_user_opt) >/dev/null 2>&1 &
  STACK_DB_PID=$!
  local i
  for i in $(seq 1 600); do
    if mariadb-admin --no-defaults -uroot -S "$STACK_DB_SOCKET" ping >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$STACK_DB_PID" 2>/dev/null; then
      echo "stack: mariadbd exited; see $STACK_DIR/mariadb.err" >&2
      tail -n 20 "$STACK_DIR/mariadb.err" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "stack: mariadbd did not answer within 60 s" >&2
  return 1
}

# stack_stop_pid PID SECONDS: SIGTERM, then waits for PID to exit; SIGKILL
# after SECONDS. Used for every server the stack (and the tests) start.
stack_stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 $(($2 * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
}

# stack_mariadb_stop: stops the server started by stack_mariadb_start and
# waits for it to exit (kills it after 30 s).
stack_mariadb_stop() {
  local pid=${STACK_DB_PID:-}
  [ -z "$pid" ] && [ -f "$STACK_DIR/mariadb.pid" ] && pid=$(cat "$STACK_DIR/mariadb.pid")
  [ -n "$pid" ] && stack_stop_pid "$pid" 30
  STACK_DB_PID=
}

# stack_sql: runs SQL from stdin as MariaDB's root on the private socket.
stack_sql() { mariadb --no-defaults -uroot -S "$STACK_DB_SOCKET" "$@"; }

# stack_write_config FILE: writes The Eye's config for this stack.
stack_write_config() {
  STACK_CONFIG=$1
  mkdir -p "$STACK_DIR/secrets"
  cat >"$STACK_CONFIG" <<CONF
# Written by scripts/stack.sh for a private stack; see README "Configuration".
log_level: ${STACK_LOG_LEVEL:-info}
database:
  socket: $STACK_DB_SOCKET
  name: eye
accounts:
  ingest:  {password_file: $STACK_DIR/secrets/ingest.pw}
  spool:   {password_file: $STACK_DIR/secrets/spool.pw}
  analyst: {password_file: $STACK_DIR/secrets/analyst.pw}
  admin:   {password_file: $STACK_DIR/secrets/admin.pw}
rules:
  dir: ${STACK_RULES_DIR:-$STACK_SRCDIR/rules}
migrations_dir: $STACK_SRCDIR/migrations
CONF
}

stack_admin() { "$STACK_BUILDDIR/admin/eye-admin" --config "$STACK_CONFIG" "$@"; }

# stack_schema: creates the accounts and applies the migrations (idempotent).
stack_schema() {
  stack_admin accounts --generate --admin-only | stack_sql || return 1
  stack_admin migrate >/dev/null || return 1
  stack_admin accounts --generate | stack_sql || return 1
}

# stack_lighttpd_start: starts lighttpd from the top-level lighttpd.conf on
# 127.0.0.1:STACK_HTTP_PORT and waits until it answers.
stack_lighttpd_start() {
  : "${STACK_HTTP_PORT:=$(stack_free_port)}"
  EYE_HTTP_PORT=$STACK_HTTP_PORT EYE_RUN_DIR=$STACK_DIR \
    EYE_FCGI_BIN=${STACK_FCGI_BIN:-$STACK_BUILDDIR/fcgi/eye.fcgi} EYE_CONFIG=$STACK_CONFIG \
    EYE_FCGI_PROCS=${STACK_FCGI_PROCS:-2} EYE_ERRORS_DIR=${STACK_ERRORS_DIR:-$STACK_SRCDIR/deploy/errors} \
    EYE_JS_DIR=${STACK_JS_DIR:-$STACK_SRCDIR/client/js} \
    lighttpd -D -f "${STACK_LIGHTTPD_CONF:-$STACK_SRCDIR/lighttpd.conf}" \
    >>"$STACK_DIR/lighttpd.out" 2>&1 &
  STACK_HTTP_PID=$!
  local i
  for i in $(seq 1 300); do
    if curl -s -o /dev/null "http://127.0.0.1:$STACK_HTTP_PORT/v1/health"; then
      return 0
    fi
    if ! kill -0 "$STACK_HTTP_PID" 2>/dev/null; then
      echo "stack: lighttpd exited; see $STACK_DIR/lighttpd.out and lighttpd-error.log" >&2
      tail -n 20 "$STACK_DIR/lighttpd.out" "$STACK_DIR/lighttpd-error.log" >&2 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  echo "stack: lighttpd did not answer within 30 s" >&2
  return 1
}

stack_lighttpd_stop() {
  local pid=${STACK_HTTP_PID:-}
  [ -z "$pid" ] && [ -f "$STACK_DIR/lighttpd.pid" ] && pid=$(cat "$STACK_DIR/lighttpd.pid")
  [ -n "$pid" ] && stack_stop_pid "$pid" 10
  STACK_HTTP_PID=
}
