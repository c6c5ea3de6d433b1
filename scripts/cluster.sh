#!/bin/bash
# cluster.sh - a 3-node MariaDB Galera cluster on loopback (sourced, or run).
#
# Sourced by tests (after scripts/stack.sh) for its functions; run directly
# it brings a fresh cluster up in a private folder, applies The Eye's
# schema, writes an eye.yaml whose database.hosts lists the nodes in order,
# starts one web node (lighttpd + eye.fcgi) and one spooler on it, prints
# how to use it, and stops everything on Ctrl-C:
#
#   scripts/cluster.sh [DIR]     (default DIR: build/cluster; ./run cluster)
#   EYE_HTTP_PORT                the web node's port (default: a free one)
#
# Every node listens on 127.0.0.1 only, on free ports: one for clients, one
# for group communication (gcomm), one for incremental state transfer (IST)
# and one for full state transfer (SST, rsync). Node 1 bootstraps the
# cluster; nodes 2 and 3 join it by SST. Galera's failure detector is
# tightened (a dead node is declared dead after ~2 s instead of ~5 s) so a
# test that kills the writer sees the cluster carry on quickly; the values
# are in cluster_provider_options and README "Cluster" says what to use on
# real networks.
#
# Variables (set before calling the functions):
#   CLUSTER_DIR        folder holding every node's data, sockets and logs
#   CLUSTER_NODES      number of nodes (3)
#   STACK_SRCDIR, STACK_BUILDDIR, STACK_TEMPLATE   as for stack.sh
# Set by cluster_start, per node I (1-based):
#   CLUSTER_PORT[I] CLUSTER_GCOMM[I] CLUSTER_IST[I] CLUSTER_SST[I] CLUSTER_PID[I]

CLUSTER_NODES=${CLUSTER_NODES:-3}
CLUSTER_GALERA=${CLUSTER_GALERA:-/usr/lib/galera/libgalera_smm.so}
declare -a CLUSTER_PORT CLUSTER_GCOMM CLUSTER_IST CLUSTER_SST CLUSTER_PID

# cluster_ports: picks four distinct free ports per node.
cluster_ports() {
  local i used=" " p k
  for i in $(seq 1 "$CLUSTER_NODES"); do
    for k in PORT GCOMM IST SST; do
      while :; do
        p=$(stack_free_port) || return 1
        case "$used" in *" $p "*) continue ;; esac
        used="$used$p "
        break
      done
      eval "CLUSTER_$k[$i]=$p"
    done
  done
}

cluster_socket() { echo "$CLUSTER_DIR/node$1/mariadb.sock"; }

# cluster_sql I [mariadb args]: root on node I's socket.
cluster_sql() {
  local i=$1; shift
  mariadb --no-defaults -uroot -S "$(cluster_socket "$i")" "$@"
}

# cluster_status I NAME: a global status variable of node I ("" if down).
cluster_status() {
  cluster_sql "$1" -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

# The addresses of every node's group communication port.
cluster_gcomm_address() {
  local i list=
  for i in $(seq 1 "$CLUSTER_NODES"); do
    list="$list${list:+,}127.0.0.1:${CLUSTER_GCOMM[$i]}"
  done
  echo "gcomm://$list"
}

# The Eye's database.hosts: every node's client address, node 1 first.
cluster_hosts() {
  local i list=
  for i in $(seq 1 "$CLUSTER_NODES"); do
    list="$list${list:+,}127.0.0.1:${CLUSTER_PORT[$i]}"
  done
  echo "$list"
}

cluster_provider_options() {
  local i=$1
  # keepalive < suspect <= inactive; install_timeout bounds a view change.
  echo "gmcast.listen_addr=tcp://127.0.0.1:${CLUSTER_GCOMM[$i]};ist.recv_addr=127.0.0.1:${CLUSTER_IST[$i]};gcache.size=256M;evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT3S;evs.inactive_check_period=PT0.5S;evs.install_timeout=PT3S;gmcast.peer_timeout=PT2S;pc.wait_prim_timeout=PT10S"
}

# cluster_write_cnf I: node I's option file. SST scripts read the same file
# (--defaults-file), so it, not the command line, carries everything.
cluster_write_cnf() {
  local i=$1 dir=$CLUSTER_DIR/node$1 donor
  # Prefer the last node as the donor of a full transfer: an rsync donor is
  # read-locked while it copies, and the last node is the least likely to
  # be the writer.
  if [ "$i" -eq "$CLUSTER_NODES" ]; then donor="node$((CLUSTER_NODES - 1)),"; else donor="node$CLUSTER_NODES,"; fi
  mkdir -p "$dir/tmp"
  cat >"$dir/my.cnf" <<CNF
[mysqld]
datadir=$dir/data
socket=$dir/mariadb.sock
port=${CLUSTER_PORT[$i]}
bind-address=127.0.0.1
pid-file=$dir/mariadb.pid
log-error=$dir/mariadb.err
tmpdir=$dir/tmp
skip-name-resolve
max-connections=500
character-set-server=utf8mb4
collation-server=utf8mb4_bin
innodb-buffer-pool-size=256M
innodb-log-file-size=256M
innodb-autoinc-lock-mode=2
binlog-format=ROW
default-storage-engine=InnoDB
wsrep-on=ON
wsrep-provider=$CLUSTER_GALERA
wsrep-cluster-name=eye
wsrep-cluster-address=$(cluster_gcomm_address)
wsrep-node-name=node$i
wsrep-node-address=127.0.0.1
wsrep-node-incoming-address=127.0.0.1:${CLUSTER_PORT[$i]}
wsrep-sst-method=rsync
wsrep-sst-receive-address=127.0.0.1:${CLUSTER_SST[$i]}
wsrep-sst-donor=$donor
wsrep-provider-options="$(cluster_provider_options "$i")"
wsrep-slave-threads=2
[client]
socket=$dir/mariadb.sock
CNF
}

# cluster_node_start I [--wsrep-new-cluster]: starts node I (its data folder
# is created from the template the first time) and waits until it is
# Synced, at most 120 s.
cluster_node_start() {
  local i=$1; shift
  local dir=$CLUSTER_DIR/node$i
  mkdir -p "$dir"
  cluster_write_cnf "$i"
  if [ ! -d "$dir/data/mysql" ]; then
    STACK_DIR=$dir stack_mariadb_init "$dir/data" || return 1
  fi
  local user=
  if [ "$(id -u)" = 0 ]; then
    # Not as root: rsync's daemon (the SST receiver) run by root switches to
    # "nobody", which cannot write the joiner's files. The server's own user
    # owns the node's folder and must be able to reach it (the folders above
    # CLUSTER_DIR must let others through: chmod o+x).
    user=--user=mysql
    chown -R mysql:mysql "$dir"
    chmod 711 "$CLUSTER_DIR"
  fi
  # A node that was killed has no position in grastate.dat (seqno -1):
  # read it from InnoDB first, as the distribution's galera_recovery does,
  # so the node rejoins by IST (the write-sets it missed, from a peer's
  # gcache) instead of a full copy.
  local pos=
  if grep -q '^seqno: *-1' "$dir/data/grastate.dat" 2>/dev/null; then
    "$(stack_mariadbd)" --defaults-file="$dir/my.cnf" $user --wsrep-recover \
      --log-error="$dir/recover.err" >>"$dir/mariadbd.out" 2>&1
    pos=$(sed -n 's/.*WSREP: Recovered position: *//p' "$dir/recover.err" | tail -1)
  fi
  "$(stack_mariadbd)" --defaults-file="$dir/my.cnf" $user ${pos:+--wsrep-start-position=$pos} "$@" \
    >>"$dir/mariadbd.out" 2>&1 &
  CLUSTER_PID[$i]=$!
  cluster_wait_synced "$i" 120
}

# cluster_wait_synced I SECONDS: waits until node I says Synced.
cluster_wait_synced() {
  local i=$1 n
  for n in $(seq 1 $(($2 * 10))); do
    [ "$(cluster_status "$i" wsrep_local_state_comment)" = Synced ] && return 0
    if ! kill -0 "${CLUSTER_PID[$i]}" 2>/dev/null; then
      echo "cluster: node $i exited; see $CLUSTER_DIR/node$i/mariadb.err" >&2
      tail -30 "$CLUSTER_DIR/node$i/mariadb.err" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "cluster: node $i not Synced within $2 s" >&2
  tail -30 "$CLUSTER_DIR/node$i/mariadb.err" >&2
  return 1
}

# cluster_wait_size I N SECONDS: waits until node I sees N members.
cluster_wait_size() {
  local n
  for n in $(seq 1 $(($3 * 10))); do
    [ "$(cluster_status "$1" wsrep_cluster_size)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# cluster_start: every node, node 1 bootstrapping.
cluster_start() {
  mkdir -p "$CLUSTER_DIR"
  cluster_ports || return 1
  local i
  cluster_node_start 1 --wsrep-new-cluster || return 1
  for i in $(seq 2 "$CLUSTER_NODES"); do
    cluster_node_start "$i" || return 1
  done
  cluster_wait_size 1 "$CLUSTER_NODES" 30
}

# cluster_node_kill I: SIGKILL, as a machine that dies. Waits for the exit.
cluster_node_kill() {
  local pid=${CLUSTER_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  CLUSTER_PID[$1]=
}

# cluster_node_stop I: a clean shutdown (30 s, then SIGKILL).
cluster_node_stop() {
  local pid=${CLUSTER_PID[$1]:-}
  [ -n "$pid" ] || return 0
  stack_stop_pid "$pid" 30
  wait "$pid" 2>/dev/null
  CLUSTER_PID[$1]=
}

cluster_stop() {
  local i
  for i in $(seq "$CLUSTER_NODES" -1 1); do
    cluster_node_stop "$i"
  done
}

# cluster_write_config FILE: The Eye's configuration for the cluster (TCP,
# every node in database.hosts, node 1 first).
cluster_write_config() {
  STACK_CONFIG=$1
  mkdir -p "$CLUSTER_DIR/secrets"
  cat >"$STACK_CONFIG" <<CONF
# Written by scripts/cluster.sh; see docs/cluster.md.
log_level: ${STACK_LOG_LEVEL:-info}
database:
  hosts: $(cluster_hosts)
  read_hosts: ${CLUSTER_READ_HOSTS:-}
  name: eye
accounts:
  ingest:  {password_file: $CLUSTER_DIR/secrets/ingest.pw}
  spool:   {password_file: $CLUSTER_DIR/secrets/spool.pw}
  analyst: {password_file: $CLUSTER_DIR/secrets/analyst.pw}
  admin:   {password_file: $CLUSTER_DIR/secrets/admin.pw}
rules:
  dir: ${STACK_RULES_DIR:-$STACK_SRCDIR/rules}
migrations_dir: $STACK_SRCDIR/migrations
CONF
}

# cluster_schema: accounts (for TCP clients from 127.0.0.1) and migrations,
# through node 1; Galera replicates both to the others.
cluster_schema() {
  stack_admin accounts --generate --admin-only --host 127.0.0.1 | cluster_sql 1 || return 1
  stack_admin migrate >/dev/null || return 1
  stack_admin accounts --generate --host 127.0.0.1 | cluster_sql 1 || return 1
}

cluster_main() {
  set -euo pipefail
  local src
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  . "$src/scripts/stack.sh"
  STACK_SRCDIR=$src
  STACK_BUILDDIR=${STACK_BUILDDIR:-$src/build}
  STACK_TEMPLATE=
  CLUSTER_DIR=$(mkdir -p "${1:-$src/build/cluster}" && cd "${1:-$src/build/cluster}" && pwd)
  if [ ! -x "$STACK_BUILDDIR/admin/eye-admin" ]; then
    echo "cluster: build first ($STACK_BUILDDIR/admin/eye-admin is missing; ./run builds)" >&2
    exit 1
  fi
  # A fresh cluster every time: nodes that were stopped in some other
  # order would need to be told which one may bootstrap.
  rm -rf "$CLUSTER_DIR"/node* "$CLUSTER_DIR"/secrets "$CLUSTER_DIR"/web
  STACK_HTTP_PID=
  local spool_pid=
  trap 'trap - EXIT INT TERM; set +e; echo; echo "stopping..." >&2
        [ -n "$spool_pid" ] && kill -TERM "$spool_pid" 2>/dev/null && wait "$spool_pid"
        stack_lighttpd_stop; cluster_stop; exit 0' EXIT INT TERM
  echo "starting $CLUSTER_NODES Galera nodes in $CLUSTER_DIR..." >&2
  cluster_start
  cluster_write_config "$CLUSTER_DIR/eye.yaml"
  cluster_schema
  # One web node and one spooler on the cluster, as ./run does on one server.
  STACK_DIR=$CLUSTER_DIR/web
  mkdir -p "$STACK_DIR"
  STACK_HTTP_PORT=${EYE_HTTP_PORT:-$(stack_free_port)}
  "$STACK_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" >>"$STACK_DIR/spool.log" 2>&1 &
  spool_pid=$!
  stack_lighttpd_start
  local key i
  key=$(stack_admin app create demo 2>/dev/null)
  cat <<MSG

A $CLUSTER_NODES-node Galera cluster is up (cluster size $(cluster_status 1 wsrep_cluster_size)), with
lighttpd + eye.fcgi on 127.0.0.1:$STACK_HTTP_PORT and one eye-spool using it.
MSG
  for i in $(seq 1 "$CLUSTER_NODES"); do
    echo "  node$i: 127.0.0.1:${CLUSTER_PORT[$i]}  pid ${CLUSTER_PID[$i]}  (root: mariadb -uroot -S $(cluster_socket "$i"))"
  done
  cat <<MSG
Configuration (database.hosts = $(cluster_hosts)):
  $STACK_CONFIG
Logs: $CLUSTER_DIR/node*/mariadb.err, $STACK_DIR/*.log, $STACK_DIR/lighttpd.out

Send an event, and see which node writes:
  curl -i http://127.0.0.1:$STACK_HTTP_PORT/v1/events -H 'Authorization: Bearer $key' \\
    -H 'Content-Type: application/json' \\
    -d '{"session_id": "s1", "category": "page interaction", "name": "pageview",
         "data": {"host": "www.consumeraffairs.com", "path": "/"}, "timestamp": "2021-01-01 09:15:27"}'
  curl -s http://127.0.0.1:$STACK_HTTP_PORT/v1/health
Kill the writer as a dying machine would, then send again (node2 takes over):
  kill -9 ${CLUSTER_PID[1]}
Stop everything with Ctrl-C.
MSG
  while :; do sleep 3600 & wait $!; done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cluster_main "$@"
fi
