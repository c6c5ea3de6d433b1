#!/bin/bash
# eye-mariadb - entrypoint of The Eye's MariaDB image.
#
# `mariadbd [options]` (the default command): on the first start with an
# empty data folder, creates the system tables (root@localhost authenticates
# by unix socket, so `docker compose exec db mariadb` works), then starts the
# server as mysql. Every start makes sure root@'%' exists with the password
# in MARIADB_ROOT_PASSWORD_FILE (default /etc/eye/secrets/db-root.pw), which
# is generated (random, 48 hex digits, readable by root only) when missing;
# The Eye's init service creates its accounts with it. Any other command is
# run as is.
set -euo pipefail
datadir=/var/lib/mysql
pw_file=${MARIADB_ROOT_PASSWORD_FILE:-/etc/eye/secrets/db-root.pw}

if [ "${1:-}" != mariadbd ]; then
  exec "$@"
fi
shift

install -d -o mysql -g mysql -m 0755 /run/mysqld
install -d -m 0711 "$(dirname "$pw_file")"
if [ ! -s "$pw_file" ]; then
  (umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$pw_file.tmp"; echo >>"$pw_file.tmp")
  mv "$pw_file.tmp" "$pw_file"
fi
chmod 0600 "$pw_file"
# A volume made by another tool may belong to someone else.
find "$datadir" \! -user mysql -exec chown mysql:mysql '{}' +

if [ ! -d "$datadir/mysql" ]; then
  echo "eye-mariadb: empty data folder: creating the system tables" >&2
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=socket >/dev/null
fi

# Executed by the server itself at start-up, before it takes connections.
init_file=/run/mysqld/eye-init.sql
pw=$(head -n1 "$pw_file")
case $pw in *[!0-9A-Za-z_-]*|'') echo "eye-mariadb: $pw_file: letters, digits, _ and - only" >&2; exit 1 ;; esac
(umask 077; cat >"$init_file" <<SQL
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$pw';
ALTER USER 'root'@'%' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
)
chown mysql:mysql "$init_file"
exec mariadbd --user=mysql --datadir="$datadir" --init-file="$init_file" "$@"
