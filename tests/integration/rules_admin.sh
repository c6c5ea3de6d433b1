#!/bin/bash
# rules_admin.sh - operating The Eye's rules: `eye-admin rules check|test`,
# hot reload in a running eye.fcgi (a broken folder keeps the old set), the
# rule-set version on every stored row, and `eye-admin errors list|replay`
# recovering events after a rule fix; `eye-admin stats`.
. "$EYE_SRCDIR/tests/lib/harness.sh"
# A private copy of the rules that this test edits while eye.fcgi runs.
RULES=$STACK_DIR/rules
cp -r "$EYE_SRCDIR/rules" "$RULES"
export EYE_RULES_RELOAD_INTERVAL_MS=200
# Small enough for the replay test below to build an event over it; the
# other events here carry far less data.
export EYE_INGEST_MAX_EVENT_BYTES=300
STACK_RULES_DIR=$RULES
harness_start
KEY=$(new_app shop)
SPOOL=$EYE_BUILDDIR/spool/eye-spool

# --- rules check / rules test --------------------------------------------
out=$(stack_admin rules check "$RULES"); is $? 0 "rules check passes on the shipped rules"
like "$out" "ok, version [0-9a-f]{16}, 3 event types" "rules check prints the version and the count"
mkdir -p "$STACK_DIR/broken"; cp "$RULES"/*.yaml "$STACK_DIR/broken/"
printf 'category: page interaction\nname: scroll\ndata:\n  type: object\n  propertis: {}\n' >"$STACK_DIR/broken/scroll.yaml"
out=$(stack_admin rules check "$STACK_DIR/broken"); is $? 1 "rules check exits 1 on a broken folder"
like "$out" "scroll.yaml:5:3: .*propertis" "the problem is reported as file:line:column with the keyword"

printf '%s\n' \
  '{"session_id":"s1","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"/"},"timestamp":"2024-01-01 00:00:00"}' \
  '{"session_id":"s1","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"x","extra":1},"timestamp":"2024-01-01 00:00:00"}' \
  >"$STACK_DIR/try.ndjson"
out=$(stack_admin rules test "$RULES" <"$STACK_DIR/try.ndjson"); is $? 1 "rules test exits 1 when an event is rejected"
like "$out" "line 1: ok: page interaction / pageview" "rules test prints an accepted verdict"
like "$out" 'line 2: rejected: pattern_mismatch at "/data/path"' "rules test prints every error of a rejected event (1)"
like "$out" 'line 2: rejected: unexpected_field at "/data/extra"' "rules test prints every error of a rejected event (2)"

# --- hot reload -------------------------------------------------------------
v1=$(curl -s "$BASE/v1/health" | jq -r .rules_version)
is "$v1" "$(stack_admin rules check "$RULES" | sed -n 's/.*version \([0-9a-f]*\),.*/\1/p')" "health shows the live rule-set version"
SCROLL='{"session_id":"s2","category":"page interaction","name":"scroll","data":{"depth":50},"timestamp":"2024-01-01 00:00:01"}'
post_events "$KEY" "$SCROLL"
is "$(json_get "$HTTP_BODY" '.errors[0].code')" unknown_event_type "an event type with no rule is rejected"

# A broken file is reported and the previous set stays in force.
cp "$STACK_DIR/broken/scroll.yaml" "$RULES/"
sleep 1
is "$(curl -s "$BASE/v1/health" | jq -r .rules_version)" "$v1" "a broken rules folder does not replace the live set"
grep -q "scroll.yaml:5:3" "$STACK_DIR/lighttpd.out"; ok $? "the broken file is logged with file:line:column"

# Fixing it is picked up without restarting anything.
printf 'category: page interaction\nname: scroll\ndescription: how far down the page\ndata:\n  type: object\n  required: [depth]\n  properties:\n    depth: {type: integer, minimum: 0, maximum: 100}\n' >"$RULES/scroll.yaml"
v2=$v1
for _ in $(seq 1 30); do
  v2=$(curl -s "$BASE/v1/health" | jq -r .rules_version)
  [ "$v2" != "$v1" ] && break
  sleep 0.2
done
ok $([ "$v2" != "$v1" ] && echo 0 || echo 1) "a fixed rules folder is live within seconds"
is "$(curl -s "$BASE/v1/health" | jq -r .event_types)" 4 "the new event type is counted"
post_events "$KEY" "${SCROLL/s2/s3}"
is "$HTTP_STATUS" 202 "the new event type is accepted"
is "$(sql "SELECT rules_version FROM event_queue WHERE session_key = 's3'")" "$v2" "the queued event records the rule set that judged it"
is "$(sql "SELECT rules_version FROM event_queue WHERE session_key = 's2'")" "$v1" "the earlier rejection records the earlier rule set"

# --- errors list / replay ----------------------------------------------------
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
out=$(stack_admin errors list --code unknown_event_type)
like "$out" "unknown_event_type.*/name" "errors list filters by code"
is "$(stack_admin errors list --app nosuch | wc -l)" 1 "errors list filters by application (header only)"
is "$(sql "SELECT rules_version FROM event_errors")" "$v1" "the stored error records its rule-set version"
out=$(stack_admin errors replay); is $? 0 "errors replay exits 0"
like "$out" "^1 queued again" "the error that now passes is queued again"
out=$(stack_admin errors replay)
like "$out" "^0 queued again" "a second replay queues nothing (idempotent)"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
is "$(sql "SELECT COUNT(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 's2'")" 1 \
  "the replayed event is now in events"
is "$(sql "SELECT e.event_id = x.event_id FROM events e JOIN event_errors x JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 's2'")" 1 \
  "it keeps its event_id"
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE replayed_at IS NOT NULL")" 1 "the error is marked replayed"

# --- stats -------------------------------------------------------------------
out=$(stack_admin stats); is $? 0 "stats exits 0"
like "$out" "queue \(rows, oldest age s\): 0" "stats shows the queue"
like "$out" "events stored, by minute of receipt \(last minute, last hour\): 2  2" "stats counts recent events (from the rollups)"
like "$out" "unknown_event_type  1" "stats shows errors by code"

# --- replay applies ingest's limits too -----------------------------------------
# An event of a type with no rule yet, whose data is above max_event_bytes
# (300 here) but whose payload was kept whole: once its rule exists, replay
# must refuse it as ingest would (event_too_large), not store it.
ZOOM=$(jq -c -n '{session_id: "z1", category: "page interaction", name: "zoom",
  data: {note: ("x" * 400)}, timestamp: "2024-01-01 00:00:02"}')
post_events "$KEY" "$ZOOM"
is "$(json_get "$HTTP_BODY" '.errors[0].code')" unknown_event_type "a big event of an unknown type is rejected as unknown"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
printf 'category: page interaction\nname: zoom\ndata:\n  type: object\n  properties:\n    note: {type: string}\n' >"$RULES/zoom.yaml"
out=$(stack_admin errors replay); is $? 0 "replay after the rule fix exits 0"
like "$out" "^0 queued again, 1 still invalid" "replay refuses an event over max_event_bytes"
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE session_key = 'z1' AND replayed_at IS NULL")" 1 \
  "the too-large event stays an unreplayed error"
is "$(sql "SELECT COUNT(*) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'z1'")" 0 \
  "the too-large event is not stored"
for _ in $(seq 1 30); do
  [ "$(curl -s "$BASE/v1/health" | jq -r .event_types)" = 5 ] && break
  sleep 0.2
done
post_events "$KEY" "${ZOOM/z1/z2}"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" '.errors[0].code')" "422|event_too_large" \
  "ingest, with the same rule, refuses it the same way"

harness_finish
