#!/bin/bash
# faults.sh - the fault suite (issue 14): faults under steady load.
#
# A client (tests/lib/loadgen.py) sends batches all along, as libeyeclient
# does: NDJSON+gzip or JSON arrays, a UUID event_id per event kept across
# retries, 5xx and network errors retried with backoff and Retry-After. It
# writes down every event the server acknowledged in a 202 (accepted, or
# rejected with its code). Under that load:
#
#   kill -9 of an eye.fcgi process, 5 times (stopped first, so requests
#     are in flight in it when it dies);
#   kill -9 of the spool in the middle of a batch, 10 times (frozen and
#     seen holding an open transaction with rows written, then killed);
#   MariaDB restarted twice: once cleanly, once killed (crash recovery);
#   MariaDB frozen (SIGSTOP) for longer than database.read_timeout:
#     answers are bounded 503s, and after SIGCONT no thread is stuck;
#   lighttpd restarted;
#   the database's disk full (the `eye` database folder is a small tmpfs,
#     filled up): bounded answers while full, no corrupted rows (CHECK
#     TABLE), recovery once space is freed (MariaDB 10.11 may abort on
#     the full disk; it is then started again, as systemd would).
#
# After each (tests/lib/ledger.sh, ledger_check): every acknowledged event
# is stored exactly once (events for the accepted, event_errors for the
# rejected, with their session, data and code), session counters are
# exact, the queue drains, nothing is quarantined, every process is there
# and answers /v1/health, and no eye.fcgi thread is left blocked on a
# database socket.
#
# Two bugs this suite found are fixed and tested here: a full table
# (MariaDB error 1114) was answered 500 and made eye-spool quarantine valid
# events; a rejected event delivered twice (a retry after a lost answer)
# was recorded twice in event_errors. is_todo (tests/lib/ledger.sh) marks
# a known bug that is not fixed yet; none is left.
#
# Needs root (a tmpfs is mounted for the disk-full case) and python3.
# About 1.5 minutes, with or without the sanitizers.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/ledger.sh"
SPOOL=$EYE_BUILDDIR/spool/eye-spool

# Short waits, so each fault costs seconds: a read that gets no answer for
# 3 s declares the connection lost; clients are told to retry after 1 s.
READ_TIMEOUT=3
export EYE_DATABASE_READ_TIMEOUT=$READ_TIMEOUT EYE_DATABASE_WRITE_TIMEOUT=$READ_TIMEOUT
export EYE_DATABASE_CONNECT_TIMEOUT=2 EYE_INGEST_RETRY_AFTER_SECONDS=1
export EYE_SPOOL_BATCH_SIZE=500
# Steady load: 4 senders, 20-event batches, 400 events/s, 5% rejected.
LOAD_OPTS=(--threads 4 --batch 20 --rate 400 --invalid 0.05)

MNT=
faults_cleanup() {
  local rc=$?
  ledger_kill
  [ -n "$MNT" ] && mountpoint -q "$MNT" && rm -f "$MNT"/filler*
  spool_stop_all
  stack_lighttpd_stop
  stack_mariadb_stop
  [ -n "$MNT" ] && mountpoint -q "$MNT" && umount "$MNT"
  (exit $rc)
  harness_cleanup
}
trap faults_cleanup EXIT

spool_start() {
  "$SPOOL" --config "$STACK_CONFIG" >>"$STACK_DIR/spool.log" 2>&1 &
  SPOOL_PIDS=$!
}
spool_stop_all() {
  local p
  for p in $SPOOL_PIDS; do kill -CONT "$p" 2>/dev/null; stack_stop_pid "$p" 10; wait "$p" 2>/dev/null; done
  SPOOL_PIDS=
}
now() { date +%s.%N; }
# phase NAME: a diagnostic line with the seconds since the test began.
phase() { diag "$(( $(date +%s) - T_START )) s: $*"; }
# plus T SECONDS: T + SECONDS (negative for minus).
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a + b }'; }

# requests_between FROM TO: "COUNT STATUS CODE" lines for the batch
# attempts of the last load run that started at or after FROM and ended at
# or before TO (wall-clock seconds).
requests_between() {
  awk -F'\t' -v a="$1" -v b="$2" '$7 == "batch" && $2 >= a && $3 <= b { print $4, $5 }' \
    "$LOAD_DIR/requests.tsv" | sort | uniq -c | sed 's/^ *//' | tr '\n' ';'
}
# answered_between FROM TO: the same for the attempts answered (or failed)
# between FROM and TO, whenever they started.
answered_between() {
  awk -F'\t' -v a="$1" -v b="$2" '$7 == "batch" && $3 >= a && $3 <= b { print $4, $5 }' \
    "$LOAD_DIR/requests.tsv" | sort | uniq -c | sed 's/^ *//' | tr '\n' ';'
}
# longest_between FROM TO: the longest batch attempt overlapping [FROM, TO], in ms.
longest_between() {
  awk -F'\t' -v a="$1" -v b="$2" 'BEGIN { m = 0 } $7 == "batch" && $3 >= a && $2 <= b {
    d = ($3 - $2) * 1000; if (d > m) m = d } END { printf "%d\n", m }' "$LOAD_DIR/requests.tsv"
}
# first_202_after T: seconds from T to the end of the first 202 that started after T.
first_202_after() {
  awk -F'\t' -v a="$1" 'BEGIN { m = -1 } $7 == "batch" && $4 == 202 && $2 >= a {
    if (m < 0 || $3 < m) m = $3 } END { if (m < 0) print "never"; else printf "%.1f\n", m - a }' \
    "$LOAD_DIR/requests.tsv"
}

# --- the stack, with the `eye` database folder on a small tmpfs ---------------
T_START=$(date +%s)
stack_mariadb_start || bail "MariaDB did not start"
# A folder in the data directory is a database to MariaDB; mounted before
# the schema creates `eye`, it holds every table of The Eye (the redo log
# and the system tablespace stay on the big disk). tmpfs is in memory and
# only holds what is written into it.
MNT=$STACK_DIR/mariadb/eye
mkdir -p "$MNT"
mount -t tmpfs -o size=256m,mode=0750 tmpfs "$MNT" ||
  bail "cannot mount a tmpfs for the eye database (the fault suite needs root)"
stack_write_config "$STACK_DIR/eye.yaml"
stack_schema || bail "schema set-up failed"
stack_lighttpd_start || bail "lighttpd did not start"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
KEY=$(new_app faults)
spool_start

# --- kill -9 of an eye.fcgi process, five times --------------------------------
phase "kill -9 eye.fcgi x5"
load_start fcgi-kill "${LOAD_OPTS[@]}"
sleep 2
respawned=0
for i in 1 2 3 4 5; do
  victim=$(fcgi_pids | shuf -n 1)
  # Stopped first: the requests lighttpd hands it meanwhile are in flight
  # in it (read, queued for the committer, committed but not answered)
  # when it dies.
  kill -STOP "$victim"
  sleep 0.4
  kill -KILL "$victim"
  for _ in $(seq 1 150); do
    pids=$(fcgi_pids)
    if [ "$(echo "$pids" | grep -c .)" -eq 2 ] && ! echo "$pids" | grep -qx "$victim"; then
      respawned=$((respawned + 1))
      break
    fi
    sleep 0.1
  done
  sleep 1
done
is "$respawned" 5 "lighttpd started a new eye.fcgi after each of 5 kill -9"
load_stop
diag "answers while eye.fcgi processes died: $(requests_between 0 9999999999)"
ledger_check "kill -9 eye.fcgi x5"

# --- kill -9 of the spool in the middle of a batch, ten times ----------------
phase "kill -9 eye-spool x10"
# Each spooler starts on a backlog of at least 8,000 rows (the load runs
# at 2,000 events/s here), taken in one batch. It is watched until its
# transaction has written rows, then frozen; if the transaction is still
# open a moment later it is killed (a kill inside a batch), else it is let
# go on. A spooler that finished its backlog unseen is killed and does not
# count. INFORMATION_SCHEMA.INNODB_TRX is a cache that InnoDB refreshes
# only when it was last read more than 0.1 s ago: each look waits that long.
# spool_trx: rows written by the spool's open transaction, and the queue's depth.
spool_trx() {
  sleep 0.12
  sql "SELECT (SELECT COALESCE(SUM(t.trx_rows_modified), 0) FROM information_schema.innodb_trx t
         JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.user = 'eye_spool'),
       (SELECT COUNT(*) FROM event_queue)"
}
spool_conns() { sql "SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'eye_spool'"; }
spool_stop_all
load_start spool-kill --threads 4 --batch 100 --rate 2000 --invalid 0.05
export EYE_SPOOL_BATCH_SIZE=20000
hits=0 tries=0 rolled=0
while [ "$hits" -lt 10 ] && [ "$tries" -lt 40 ]; do
  tries=$((tries + 1))
  # The previous spooler's connection is gone (its transaction rolled
  # back), and there is a backlog.
  for _ in $(seq 1 150); do
    [ "$(spool_conns)" = 0 ] && [ "$(sql 'SELECT COUNT(*) FROM event_queue')" -ge 8000 ] && break
    sleep 0.1
  done
  spool_start
  p=$SPOOL_PIDS
  for _ in $(seq 1 100); do
    read -r n depth <<<"$(spool_trx)"
    if [ "${n:-0}" -gt 0 ]; then
      kill -STOP "$p"
      read -r n depth <<<"$(spool_trx)"
      if [ "${n:-0}" -gt 0 ]; then
        kill -KILL "$p"; wait "$p" 2>/dev/null
        hits=$((hits + 1)) rolled=$((rolled + n))
        break
      fi
      kill -CONT "$p"
    fi
    [ "${depth:-0}" -lt 1000 ] && break
  done
  if kill -0 "$p" 2>/dev/null; then
    kill -KILL "$p"; wait "$p" 2>/dev/null
  fi
done
SPOOL_PIDS=
export EYE_SPOOL_BATCH_SIZE=500
is "$hits" 10 "10 spoolers were killed inside a batch that had written rows ($rolled row changes rolled back; $tries spoolers started)"
spool_start
load_stop
ledger_check "kill -9 eye-spool mid-batch x10"

# --- MariaDB restarted twice: cleanly, then killed ---------------------------
phase "MariaDB restarts"
load_start db-restart "${LOAD_OPTS[@]}"
sleep 2
stack_mariadb_stop
sleep 2
stack_mariadb_start || bail "MariaDB did not start again"
sleep 3
kill -KILL "$STACK_DB_PID"; wait "$STACK_DB_PID" 2>/dev/null
STACK_DB_PID=
sleep 1
stack_mariadb_start || bail "MariaDB did not recover after kill -9"
sleep 3
load_stop
diag "answers through two MariaDB restarts: $(requests_between 0 9999999999)"
like "$(requests_between 0 9999999999)" "503 database_unavailable" "the outages were answered 503 database_unavailable"
grep -q "connected again" "$STACK_DIR/spool.log"; ok $? "the spool reconnected"
ledger_check "MariaDB restarted x2"

# --- MariaDB frozen for longer than the read timeout -------------------------
phase "MariaDB frozen"
load_start db-freeze "${LOAD_OPTS[@]}"
sleep 2
FREEZE=$((READ_TIMEOUT + 5))
t_stop=$(now)
kill -STOP "$STACK_DB_PID"
sleep "$FREEZE"
t_cont=$(now)
kill -CONT "$STACK_DB_PID"
sleep 4
load_stop
during=$(answered_between "$(plus "$t_stop" 0.5)" "$t_cont")
diag "answers given while MariaDB was frozen: $during"
like "$during" "^[0-9]+ 503 database_unavailable;$" "every answer given during the freeze was 503 database_unavailable"
# A request waits at most for the group commit ahead of it (one read
# timeout) and its own attempt (a read or a connect timeout), plus slack
# for sanitizer builds.
bound=$(((2 * READ_TIMEOUT + 2 + 2) * 1000))
longest=$(longest_between "$t_stop" "$t_cont")
ok $([ "$longest" -le "$bound" ] && echo 0 || echo 1) "no answer took longer than $bound ms during the freeze (longest: $longest ms)"
after=$(first_202_after "$t_cont")
ok $([ "$after" != never ] && [ "${after%.*}" -lt "$((READ_TIMEOUT + 3))" ] && echo 0 || echo 1) \
  "202s again ${after} s after SIGCONT"
ledger_check "MariaDB frozen ${FREEZE} s"

# --- lighttpd restarted ---------------------------------------------------------
phase "lighttpd restart"
load_start web-restart "${LOAD_OPTS[@]}"
sleep 2
stack_lighttpd_stop
sleep 1
stack_lighttpd_start || bail "lighttpd did not start again"
sleep 3
load_stop
like "$(requests_between 0 9999999999)" "ERR ConnectionRefusedError" "requests were refused while lighttpd was down (and retried)"
ledger_check "lighttpd restarted"

# --- the database's disk full -----------------------------------------------------
phase "disk full"
# MariaDB answers an INSERT that needs space it cannot get with error 1114
# ("The table ... is full"). eye.fcgi answers it 503 database_unavailable
# (lib/db.c, db_error_is_unwritable) and eye-spool waits for space with
# backoff instead of taking the rows for poison (SPOOL_STALLED): nothing is
# quarantined.
# MariaDB 10.11 itself may abort on a full disk ("[FATAL] InnoDB: Error
# (Out of disk space) in rollback"): then it is started again once space
# is freed, as its service manager would, and recovers.
fill_up() { # fills the tmpfs to the last 64 KiB block
  local avail j=0
  mountpoint -q "$MNT" || return 1 # never the disk under it
  avail=$(df -k --output=avail "$MNT" | tail -1)
  fallocate -l $(((avail - 2048) * 1024)) "$MNT/filler" || return 1
  while fallocate -l 65536 "$MNT/filler.$j" 2>/dev/null; do j=$((j + 1)); done
}
# Fast, so the queue's free pages (left by the backlogs above) are used up
# within seconds.
load_start disk-full --threads 4 --batch 100 --rate 2000 --invalid 0.05
sleep 3
t_full=$(now)
fill_up
ok $? "the tmpfs is filled up ($(df -k --output=avail "$MNT" | tail -1) KiB left)"
# Full until the write path has refused everything for 3 s in a row, or
# MariaDB gave up: the queue's free pages are used up by then, and the
# spool (which fills events first) has hit the wall too.
refused=0 db_died=0
for _ in $(seq 1 80); do
  sleep 0.5
  kill -0 "$STACK_DB_PID" 2>/dev/null || { db_died=1; break; }
  t=$(now)
  recent=$(requests_between "$(plus "$t" -3)" "$t")
  [ -n "$recent" ] && ! [[ $recent =~ " 202 " ]] && { refused=1; break; }
done
ok $([ "$refused" = 1 ] || [ "$db_died" = 1 ] && echo 0 || echo 1) "with the disk full, writes are refused"
sleep 1
t_free=$(now)
rm -f "$MNT"/filler*
if ! kill -0 "$STACK_DB_PID" 2>/dev/null; then
  diag "MariaDB aborted on the full disk: $(grep -m1 'FATAL' "$STACK_DIR/mariadb.err" | cut -c1-160)"
  wait "$STACK_DB_PID" 2>/dev/null
  STACK_DB_PID=
  stack_mariadb_start || bail "MariaDB did not start again after the disk was full"
  t_free=$(now)
fi
sleep 4
load_stop
answers=$(answered_between "$t_full" "$t_free")
diag "answers while the disk was full: $answers"
like "$answers" "[0-9]" "requests were answered while the disk was full (no hang)"
is "$(echo "$answers" | tr ';' '\n' | grep -v -E '^[0-9]+ (202 -|503 database_unavailable)$' | grep -c .)" 0 \
  "while the disk is full, writes are answered 202 or 503 database_unavailable"
is "$(echo "$answers" | tr ';' '\n' | awk '$2 == 500 { n += $1 } END { print n + 0 }')" 0 \
  "while the disk is full, no write is answered 500"
longest=$(longest_between "$t_full" "$t_free")
ok $([ "$longest" -le "$bound" ] && echo 0 || echo 1) "no answer took longer than $bound ms with the disk full (longest: $longest ms)"
after=$(first_202_after "$t_free")
ok $([ "$after" != never ] && [ "${after%.*}" -lt 10 ] && echo 0 || echo 1) "202s again ${after} s after space was freed"
ledger_check "disk full"
# No corrupted rows: InnoDB's own check of every table, and the JSON.
checked=$(sql "CHECK TABLE event_queue, sessions, events, event_errors, event_quarantine, spool_counters" |
  awk -F'\t' '$3 == "status" { print $4 }' | sort | uniq -c | sed 's/^ *//')
is "$checked" "6 OK" "CHECK TABLE: every table of The Eye is OK after the disk was full"
is "$(sql "SELECT COUNT(*) FROM events WHERE NOT JSON_VALID(data) OR JSON_TYPE(data) <> 'OBJECT'")" 0 \
  "every stored data is a JSON object"
grep -q "is full" "$STACK_DIR/mariadb.err"; ok $? "MariaDB did report a full table (the fault happened)"

# --- a rejected event delivered twice --------------------------------------------
phase "duplicate rejected event"
# What the faults above do to a rejected event whose 202 was lost: the
# client sends it again with the same event_id. A valid event is stored
# once (events' unique key); a rejected one is recorded once too
# (spool/batch.c, insert_errors, skips an event_id already recorded).
BAD='{"event_id": "0b5e7f3c-2d4a-4e1b-9c8d-7a6f5e4d3c2b", "session_id": "dup-1", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": 5}, "timestamp": "2024-05-01T10:00:00Z"}'
post_events "$KEY" "$BAD"; s1=$HTTP_STATUS
post_events "$KEY" "$BAD"; s2=$HTTP_STATUS
is "$s1 $s2" "422 422" "the same rejected event sent twice: 422 both times"
wait_drained 30
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE event_id = '0b5e7f3c-2d4a-4e1b-9c8d-7a6f5e4d3c2b'")" 1 \
  "a rejected event sent twice (a retry) is recorded in event_errors once"

phase "done"
spool_stop_all
harness_finish
