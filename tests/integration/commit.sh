#!/bin/bash
# commit.sh - group commit in eye.fcgi: concurrent requests share one
# transaction, each is answered only after the COMMIT that holds its rows,
# none is lost or doubled, and a request whose rows fail inside a group
# fails alone. The same load with group commit off shows the difference in
# COMMITs, so the count below measures grouping and not something else.
. "$EYE_SRCDIR/tests/lib/harness.sh"
export EYE_INGEST_THREADS=8
harness_start
KEY=$(new_app shop)
REQUESTS=600
PARALLEL=48

# add_request CFG PREFIX I: appends to curl config CFG one request of one
# event of session PREFIX-I, whose output line is "PREFIX STATUS".
add_request() {
  local cfg=$1 prefix=$2 i=$3 body=${1%/*}/$2-$3.json
  printf '{"session_id": "%s-%d", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/p/%d"}, "timestamp": "2024-05-01T10:00:00Z"}' \
    "$prefix" "$i" "$i" >"$body"
  [ -s "$cfg" ] && echo next >>"$cfg"
  printf 'url = "%s/v1/events"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%s %%{http_code}\\n"\n' \
    "$BASE" "$KEY" "$body" "$prefix" >>"$cfg"
}
# send CFG: sends its requests, PARALLEL at a time.
send() { curl -s --no-progress-meter -m 30 --parallel --parallel-max "$PARALLEL" -K "$1"; }
commits() { sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'COM_COMMIT'"; }
# statuses PREFIX: "STATUS:COUNT ..." of the answers to PREFIX's requests (stdin).
statuses() { awk -v p="$1" '$1 == p { print $2 }' | sort | uniq -c | awk '{printf "%s%s:%s", sep, $2, $1; sep=" "}'; }
# stored PREFIX: rows and distinct sessions queued for PREFIX's requests.
stored() { sql "SELECT COUNT(*), COUNT(DISTINCT session_key) FROM event_queue WHERE session_key LIKE '$1-%'"; }

# round PREFIX WHAT: REQUESTS concurrent single-event requests; checks the
# answers and the queue, and sets COMMITS to the COMMITs they cost.
round() {
  local prefix=$1 what=$2 cfg=$STACK_DIR/load/$1.cfg c0 c1 out i
  mkdir -p "$STACK_DIR/load"
  : >"$cfg"
  for i in $(seq 1 "$REQUESTS"); do add_request "$cfg" "$prefix" "$i"; done
  c0=$(commits); out=$(send "$cfg"); c1=$(commits)
  is "$(statuses "$prefix" <<<"$out")" "202:$REQUESTS" \
    "$what: $REQUESTS concurrent single-event requests, every one answered 202"
  is "$(stored "$prefix")" "$REQUESTS	$REQUESTS" "$what: each acknowledged event is queued exactly once"
  COMMITS=$((c1 - c0))
}

like "$(cat "$STACK_DIR"/lighttpd.out)" "group commit on" "eye.fcgi starts with group commit on"

round on "group commit on"
grouped=$COMMITS
ok $([ "$grouped" -lt "$REQUESTS" ] && echo 0 || echo 1) \
  "they shared transactions: $grouped COMMITs for $REQUESTS requests"

# The same load with group commit off: the count is of this load's COMMITs.
stack_lighttpd_stop
EYE_INGEST_GROUP_COMMIT_MAX_ROWS=0 stack_lighttpd_start || bail "lighttpd did not restart"
round off "group commit off"
alone=$COMMITS
ok $([ "$alone" -ge "$REQUESTS" ] && echo 0 || echo 1) \
  "one COMMIT per request without it: $alone COMMITs for $REQUESTS requests"
ok $([ "$grouped" -lt "$alone" ] && echo 0 || echo 1) \
  "group commit saved COMMITs ($grouped against $alone)"
stack_lighttpd_stop
stack_lighttpd_start || bail "lighttpd did not restart"

# --- one request's rows fail inside a group ----------------------------------
# A trigger (the test's, as root) makes the insert of one session's row fail
# the way a broken row would: not an availability error, so the group is
# rolled back and its requests are tried one by one.
stack_sql eye <<'SQL' || bail "cannot create the test trigger"
DELIMITER //
CREATE TRIGGER test_poison BEFORE INSERT ON event_queue FOR EACH ROW
BEGIN
  IF NEW.session_key LIKE 'poison-%' THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row';
  END IF;
END//
DELIMITER ;
SQL
cfg=$STACK_DIR/load/poison.cfg
: >"$cfg"
for i in $(seq 1 200); do
  if [ $((i % 20)) = 0 ]; then add_request "$cfg" poison "$i"; else add_request "$cfg" good "$i"; fi
done
out=$(send "$cfg")
is "$(statuses good <<<"$out")" "202:190" \
  "requests grouped with a failing one are still answered 202"
is "$(statuses poison <<<"$out")" "500:10" \
  "each failing request alone gets 500"
is "$(stored good)" "190	190" "the good requests' events are stored once each"
is "$(stored poison)" "0	0" \
  "nothing of the failing requests is stored"
like "$(cat "$STACK_DIR"/lighttpd.out)" "committing its requests one by one" \
  "a failed group was retried request by request"
sql "DROP TRIGGER test_poison"

harness_finish
