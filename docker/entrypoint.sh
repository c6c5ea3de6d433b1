#!/bin/bash
# eye-docker - the entrypoint of The Eye's image. One image, several roles,
# named by the container's command:
#
#   web            lighttpd in the foreground, spawning eye.fcgi (default)
#   spool [ARGS]   eye-spool [ARGS]
#   init           one-shot set-up, idempotent, run as root before the
#                  others: waits for MariaDB, creates the database and the
#                  least-privilege accounts (passwords generated into the
#                  secrets volume on the first run), applies the migrations
#                  (`eye-admin migrate`), creates the demo application
#                  unless EYE_DEMO_APP is empty, and prints its key
#   demo-key       prints the demo application's key
#   anything else  is run as a command (bash, eye-admin ..., which needs
#                  the admin password: docker compose exec -u root web
#                  eye-admin stats)
#
# Environment of the init role (besides every EYE_* configuration key):
#   EYE_DB_ROOT_PASSWORD_FILE  MariaDB root password, for creating accounts
#                              (default /etc/eye/secrets/db-root.pw, written
#                              by the MariaDB image of docker/mariadb)
#   EYE_ACCOUNTS_HOST          host part of the accounts (default %: any
#                              container of the network)
#   EYE_DEMO_APP               demo application's name (default demo;
#                              empty: no demo application)
#   EYE_INIT_TIMEOUT           seconds to wait for MariaDB (default 120)
#   EYE_HTTP_PUBLISH           where the web service is published, for the
#                              example printed (default 127.0.0.1:8080)
set -euo pipefail

secrets_dir=/etc/eye/secrets
demo_key_file=$secrets_dir/demo.key

die() { echo "eye-docker: $*" >&2; exit 1; }

# cfg KEY: the value in force of a configuration key (file + environment).
cfg() {
  eye-admin config | awk -v k="$1" '$1 == k { f = 1; next }
    f && /^  value:/ { sub(/^  value: */, ""); print; exit }'
}

init() {
  [ "$(id -u)" = 0 ] ||
    die "init runs as root (user: root in compose.yaml): it reads MariaDB's root password and hands the password files to the eye user"
  local root_pw_file=${EYE_DB_ROOT_PASSWORD_FILE:-$secrets_dir/db-root.pw}
  local acct_host=${EYE_ACCOUNTS_HOST:-%}
  local timeout=${EYE_INIT_TIMEOUT:-120}
  local host port name
  host=$(cfg database.host)
  port=$(cfg database.port)
  name=$(cfg database.name)
  [ -n "$host" ] || die "database.host is empty: the init role connects over TCP (set EYE_DATABASE_HOST)"

  local i=0
  while [ ! -s "$root_pw_file" ]; do
    [ $i -ge "$timeout" ] && die "no MariaDB root password in $root_pw_file after ${timeout}s"
    sleep 1; i=$((i + 1))
  done
  # The password goes to the client in a file, never on a command line.
  cnf=$(mktemp)
  trap 'rm -f "$cnf"' EXIT
  printf '[client]\nhost=%s\nport=%s\nuser=root\npassword=%s\n' "$host" "$port" \
    "$(head -n1 "$root_pw_file")" >"$cnf"
  sql() { mariadb --defaults-extra-file="$cnf" "$@"; }
  until sql -e 'SELECT 1' >/dev/null 2>&1; do
    [ $i -ge "$timeout" ] && { sql -e 'SELECT 1' || true; die "MariaDB at $host:$port did not answer within ${timeout}s"; }
    sleep 1; i=$((i + 1))
  done
  echo "eye-docker: MariaDB at $host:$port answers; setting up database '$name'" >&2

  eye-admin accounts --generate --admin-only --host "$acct_host" | sql
  eye-admin migrate >&2
  eye-admin accounts --generate --host "$acct_host" | sql
  # eye.fcgi and eye-spool run as eye: their passwords are eye's alone.
  # The admin account (all privileges on the database) stays root's, like
  # MariaDB's root password: eye-admin runs as root (exec -u root).
  local role f
  for role in ingest spool analyst admin; do
    f=$(cfg "accounts.$role.password_file")
    [ -n "$f" ] && [ -f "$f" ] || continue
    if [ $role = admin ]; then chown root:root "$f"; else chown eye:eye "$f"; fi
    chmod 0600 "$f"
  done

  local demo=${EYE_DEMO_APP-demo}
  if [ -n "$demo" ]; then
    local prefix=
    [ -s "$demo_key_file" ] && prefix=$(head -c 12 "$demo_key_file")
    local apps
    apps=$(eye-admin app list)
    if [ -n "$prefix" ] && printf '%s\n' "$apps" |
        awk -v a="$demo" -v p="$prefix" '$1 == a && $2 == p && $4 == "active" { f = 1 } END { exit !f }'; then
      : # the key on file is live: keep it
    elif printf '%s\n' "$apps" | awk -v a="$demo" '$1 == a { f = 1 } END { exit !f }'; then
      (umask 077; eye-admin key create "$demo" >"$demo_key_file.tmp")
      mv "$demo_key_file.tmp" "$demo_key_file"
    else
      (umask 077; eye-admin app create "$demo" >"$demo_key_file.tmp")
      mv "$demo_key_file.tmp" "$demo_key_file"
    fi
    chown eye:eye "$demo_key_file"
    local key url=${EYE_HTTP_PUBLISH:-127.0.0.1:8080}
    key=$(cat "$demo_key_file")
    case $url in *:*) ;; *) url=127.0.0.1:$url ;; esac
    url=${url/#0.0.0.0:/127.0.0.1:}
    cat <<MSG
The Eye is set up: database '$name' migrated, accounts granted.
demo key: $key
Send the brief's example event:
curl -i http://$url/v1/events -H 'Authorization: Bearer $key' \\
  -H 'Content-Type: application/json' \\
  -d '{"session_id": "e2085be5-9137-4e4e-80b5-f1ffddc25423", "category": "page interaction", "name": "pageview", "data": {"host": "www.consumeraffairs.com", "path": "/"}, "timestamp": "2021-01-01 09:15:27.243860"}'
MSG
  else
    echo "The Eye is set up: database '$name' migrated, accounts granted."
  fi
}

role=${1:-web}
[ $# -gt 0 ] && shift
case $role in
  web)
    # A container restarted in place keeps its files: no stale socket.
    rm -f "$EYE_RUN_DIR"/eye.fcgi.sock* "$EYE_RUN_DIR/lighttpd.pid"
    exec lighttpd -D -f /etc/eye/lighttpd.conf ;;
  spool)
    exec eye-spool "$@" ;;
  init)
    init ;;
  demo-key)
    [ -r "$demo_key_file" ] || die "no readable demo key in $demo_key_file (has the init service run?)"
    cat "$demo_key_file" ;;
  *)
    exec "$role" "$@" ;;
esac
