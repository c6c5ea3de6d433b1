# load.sh - bulk-load synthetic events into The Eye's tables (sourced).
#
# bench_load N WORKDIR: generates N events with gen_events (BENCH_GEN, the
# compiled bench/queries/gen_events.c) into WORKDIR and loads them, with
# the sessions, applications and ~3% event_errors, into the `eye` database
# of the stack started by scripts/stack.sh (stack_sql, as root on the
# private socket). BENCH_SHAPE says which events table that is: `compact`
# (default; migration 013: the event types into event_categories and
# event_types first, then events with category_id and type_id, the rows in
# primary key order) or `old` (migrations 001-012: category and name as
# strings in every row; bench/migrate_013.sh). The tables must be empty:
# on an empty table with unique_checks=0 and foreign_key_checks=0, InnoDB (MariaDB >= 10.6) takes
# its bulk-insert path for the first transaction (rows sorted and the
# indexes built page by page instead of row by row), which is why all the
# event chunks go in ONE transaction. ANALYZE TABLE follows, so the
# optimizer sees the real cardinalities.
#
# The random event_id UUIDs make the unique index on them grow everywhere at
# once; beyond the buffer pool every insert reads a page from disk (with the
# test stack's 256 MiB, 1M-row chunks slowed from 30 s to 4 min). So the
# pool is raised to BENCH_LOAD_BUFFER_POOL (4G; "" keeps it) for the load
# and put back afterwards, so the queries still run against the stack's.
# LOAD DATA LOCAL turns row errors into warnings and skips the row: any
# warning fails the load.
#
# Sets BENCH_GEN_SECONDS, BENCH_LOAD_SECONDS (LOAD DATA + COMMIT + ANALYZE)
# and BENCH_LOADED_EVENTS. Options from the environment: BENCH_SEED,
# BENCH_DAYS (span from 2025-01-01, default 365), BENCH_ERR_PCT (3),
# BENCH_VERIFY (1: check every session's count and first/last against its
# events; default on up to 2M events).

bench_now() { date +%s.%N; }

# bench_pool_resize SIZE: sets innodb_buffer_pool_size and waits (<= 120 s)
# until InnoDB has finished resizing.
bench_pool_resize() {
  local i st bytes=$1
  case $bytes in
    *[Gg]) bytes=$((${bytes%?} * 1073741824)) ;;
    *[Mm]) bytes=$((${bytes%?} * 1048576)) ;;
  esac
  stack_sql -e "SET GLOBAL innodb_buffer_pool_size = $bytes" || return 1
  for i in $(seq 1 1200); do
    st=$(stack_sql -N -B -e "SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'" | cut -f2)
    case $st in '' | *ompleted* | *not\ needed*) return 0 ;; esac
    sleep 0.1
  done
  echo "load: buffer pool resize to $1 still running: $st" >&2
}

bench_load() {
  local n=$1 work=$2 t0 t1 t2 app_base nonempty
  mkdir -p "$work" || return 1
  nonempty=$(stack_sql -N -B eye -e "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1) e)
      + (SELECT COUNT(*) FROM (SELECT 1 FROM sessions LIMIT 1) s)") || return 1
  if [ "$nonempty" != 0 ]; then
    echo "load: events or sessions is not empty; the bench loads into a fresh database" >&2
    return 1
  fi
  app_base=$(stack_sql -N -B eye -e "SELECT COALESCE(MAX(id), 0) + 1 FROM applications") || return 1

  local shape=${BENCH_SHAPE:-compact}
  case $shape in compact | old) ;; *) echo "load: BENCH_SHAPE is compact or old, not $shape" >&2; return 1 ;; esac

  t0=$(bench_now)
  "$BENCH_GEN" -o "$work" -n "$n" -a "$app_base" -s "${BENCH_SEED:-20250101}" \
    -d "${BENCH_DAYS:-365}" -e "${BENCH_ERR_PCT:-3}" -c 1000000 -f "$shape" || return 1
  t1=$(bench_now)
  BENCH_GEN_SECONDS=$(echo "$t1 - $t0" | bc)
  printf "load: generated in %.1f s (%s of TSV)\n" "$BENCH_GEN_SECONDS" "$(du -sh "$work" | cut -f1)"

  local pool_before
  pool_before=$(stack_sql -N -B -e "SELECT @@innodb_buffer_pool_size") || return 1
  if [ -n "${BENCH_LOAD_BUFFER_POOL-4G}" ]; then
    bench_pool_resize "${BENCH_LOAD_BUFFER_POOL-4G}" || return 1
  fi
  {
    echo "SET SESSION unique_checks = 0, foreign_key_checks = 0, time_zone = '+00:00';"
    echo "LOAD DATA LOCAL INFILE '$work/applications.tsv' INTO TABLE applications (id, name, created_at);"
    echo "SHOW WARNINGS LIMIT 5;"
    echo "LOAD DATA LOCAL INFILE '$work/sessions.tsv' INTO TABLE sessions
          (id, session_key, first_seen_at, last_seen_at, event_count, created_at);"
    echo "SHOW WARNINGS LIMIT 5;"
    if [ "$shape" = compact ]; then
      echo "LOAD DATA LOCAL INFILE '$work/event_categories.tsv' INTO TABLE event_categories (id, name);"
      echo "SHOW WARNINGS LIMIT 5;"
      echo "LOAD DATA LOCAL INFILE '$work/event_types.tsv' INTO TABLE event_types (id, category_id, name);"
      echo "SHOW WARNINGS LIMIT 5;"
    fi
    echo "SELECT CONCAT('load: ', NOW(), ' applications, sessions$([ "$shape" = compact ] && echo " and event types") committed') AS '';"
    echo "START TRANSACTION;"
    local f cols
    if [ "$shape" = compact ]; then
      cols="occurred_at, id, event_id, application_id, session_id, category_id, type_id, data,
            client_timestamp, sent_at, clock_skew_us, skew_corrected, received_at, stored_at,
            rules_version"
    else
      cols="id, event_id, application_id, session_id, category, name, data, occurred_at,
            client_timestamp, sent_at, clock_skew_us, skew_corrected, received_at, stored_at,
            rules_version"
    fi
    for f in "$work"/events-*.tsv; do
      echo "LOAD DATA LOCAL INFILE '$f' INTO TABLE events ($cols);"
      echo "SHOW WARNINGS LIMIT 5;"
      echo "SELECT CONCAT('load: ', NOW(), ' $(basename "$f") read') AS '';"
    done
    echo "COMMIT;"
    echo "SELECT CONCAT('load: ', NOW(), ' events committed') AS '';"
    echo "START TRANSACTION;"
    echo "LOAD DATA LOCAL INFILE '$work/event_errors.tsv' INTO TABLE event_errors
          (id, event_id, application_id, received_at, session_key, category, name, code, pointer,
           message, payload, payload_truncated, rules_version, stored_at);"
    echo "SHOW WARNINGS LIMIT 5;"
    echo "COMMIT;"
    echo "SELECT CONCAT('load: ', NOW(), ' errors committed') AS '';"
    if [ "$shape" = compact ]; then
      echo "ANALYZE TABLE applications, sessions, event_categories, event_types, events, event_errors;"
    else
      echo "ANALYZE TABLE applications, sessions, events, event_errors;"
    fi
  } | stack_sql --local-infile=1 -N -B --unbuffered eye |
    awk '/^(Warning|Error|Note)\t/ { bad = 1 } !/\tanalyze\t/ { print; fflush() } END { exit bad }' || {
    echo "load: LOAD DATA reported warnings (rows skipped or changed); see above" >&2
    return 1
  }
  t2=$(bench_now)
  if [ -n "${BENCH_LOAD_BUFFER_POOL-4G}" ]; then
    bench_pool_resize "$pool_before" || return 1
  fi
  BENCH_LOAD_SECONDS=$(echo "$t2 - $t1" | bc)
  rm -f "$work"/*.tsv

  BENCH_LOADED_EVENTS=$(stack_sql -N -B eye -e "SELECT COUNT(*) FROM events") || return 1
  local sums
  sums=$(stack_sql -N -B eye -e "SELECT COUNT(*), SUM(event_count) FROM sessions") || return 1
  echo "load: $BENCH_LOADED_EVENTS events, sessions/sum of counts: $sums," \
    "$(stack_sql -N -B eye -e "SELECT COUNT(*) FROM event_errors") errors," \
    "in $(printf %.1f "$BENCH_LOAD_SECONDS") s ($(echo "$BENCH_LOADED_EVENTS / $BENCH_LOAD_SECONDS" | bc) events/s)"
  [ "$BENCH_LOADED_EVENTS" = "$n" ] && [ "${sums#*	}" = "$n" ] || {
    echo "load: expected $n events and a session count sum of $n" >&2
    return 1
  }
  if [ "${BENCH_VERIFY:-$([ "$n" -le 2000000 ] && echo 1 || echo 0)}" = 1 ]; then
    local bad
    bad=$(stack_sql -N -B eye -e "
      SELECT COUNT(*) FROM sessions s LEFT JOIN
        (SELECT session_id, COUNT(*) c, MIN(occurred_at) f, MAX(occurred_at) l
           FROM events GROUP BY session_id) e ON e.session_id = s.id
      WHERE e.c IS NULL OR e.c <> s.event_count OR e.f <> s.first_seen_at
         OR e.l <> s.last_seen_at") || return 1
    [ "$bad" = 0 ] || { echo "load: $bad sessions disagree with their events" >&2; return 1; }
    echo "load: verified: every session's event_count, first_seen_at, last_seen_at match its events"
  fi
}
