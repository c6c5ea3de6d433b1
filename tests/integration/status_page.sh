#!/bin/bash
# status_page.sh - the monitoring page in a real headless Chromium against
# the real stack: after known accepted and rejected events, the page shows
# the database's counts, the chart has one point per minute the rollups
# have, a rejection lists its payloads, a wrong key gets a clear message.
# The screenshot is kept as tests/artifacts/status_page.png in the build.
. "$EYE_SRCDIR/tests/lib/harness.sh"
for p in chromium chromium-driver python3-selenium; do
  dpkg -s "$p" >/dev/null 2>&1 || flock /tmp/apt.lock apt-get install -y "$p" >/dev/null
done
harness_start
KEY=$(new_app shop); KEY2=$(new_app blog)
READ=$(stack_admin key create shop --read 2>/dev/null)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ev() { printf '{"session_id": "s-%s", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/%s"}, "timestamp": "%s"}' "$1" "$1" "$now"; }
for i in $(seq 1 12); do post_events "$KEY" "$(ev "$i")"; done
for i in $(seq 1 3); do post_events "$KEY2" "$(ev "b$i")"; done
post_events "$KEY" "[$(ev x1), {\"session_id\": \"bad-1\", \"category\": \"page interaction\", \"name\": \"pageview\", \"data\": {\"host\": \"a.example.com\", \"path\": \"/\", \"secret_field\": 1}, \"timestamp\": \"$now\"}]"
is "$HTTP_STATUS" 202 "one accepted, one rejected"
post_events "$KEY2" "{\"session_id\": \"bad-2\", \"category\": \"page interaction\", \"name\": \"pageview\", \"data\": {\"host\": \"a.example.com\"}, \"timestamp\": \"$now\"}"
is "$HTTP_STATUS" 422 "one more rejected"
"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>/dev/null

mkdir -p "$EYE_BUILDDIR/tests/artifacts"
SHOT=$EYE_BUILDDIR/tests/artifacts/status_page.png
rm -f "$SHOT"
seen=$(timeout 120 /usr/bin/python3 "$EYE_SRCDIR/tests/integration/status_page.py" "$BASE" "$READ" "$SHOT" 2>"$STACK_DIR/selenium.err")
diag "page: $(printf '%s' "$seen" | head -c 600)"
is "$(json_get "$seen" '.exception // "none"')" none "the browser session ran to its end"
is "$(json_get "$seen" .asks_for_key)" true "without a key the page asks for one"
like "$(json_get "$seen" .wrong_key_message)" "refused \(invalid_key\)" "a wrong key gets a clear message"
is "$(json_get "$seen" .wrong_key_form_shown)" true "and the key form again"
is "$(json_get "$seen" .wrong_key_kept)" null "a refused key is not kept"
is "$(json_get "$seen" .key_in_storage)" true "the key is kept in sessionStorage"
like "$(json_get "$seen" .url)" '/status$' "and never put in the URL"

accepted=$(sql 'SELECT COUNT(*) FROM events')
rejected=$(sql 'SELECT COUNT(*) FROM event_errors')
is "$(json_get "$seen" .accepted)" "$accepted" "the page shows the database's accepted count ($accepted)"
is "$(json_get "$seen" .rejected)" "$rejected" "and its rejected count ($rejected)"
is "$(json_get "$seen" .accepted_24h)" "$accepted" "the 24 h window shows it too"
is "$(json_get "$seen" .queue_depth)" 0 "the queue is empty"
want=$(sql "SELECT GROUP_CONCAT(CONCAT(DATE_FORMAT(received_at, '%Y-%m-%dT%H:%i:00Z'), '=', n) ORDER BY 1) FROM (SELECT DATE_FORMAT(received_at, '%Y-%m-%d %H:%i') AS m, MIN(received_at) AS received_at, COUNT(*) AS n FROM events GROUP BY m) x")
got=$(json_get "$seen" '[.points[] | select(.kind == "accepted") | "\(.t)=\(.value)"] | sort | join(",")')
is "$got" "$want" "the chart has one accepted point per minute, with the database's counts"
got=$(json_get "$seen" '[.points[] | select(.kind == "rejected") | .value] | add')
is "$got" "$rejected" "its rejected points add up to the rejected count"
is "$(json_get "$seen" '[.rejections[] | select(.[2] == "unexpected_field")][0] | .[0:5] | join("|")')" \
  "page interaction|pageview|unexpected_field|1|/data/secret_field" "rejections by type and code, with the pointer"
is "$(json_get "$seen" '[.rejections[] | select(.[2] == "missing_field")][0][3]')" 1 "each code its own row"
is "$(json_get "$seen" '.applications | map(.[0] + "=" + .[2]) | sort | join(",")')" "blog=1,shop=1" \
  "applications with their rejections"
like "$(json_get "$seen" '.payloads | join(" ")')" 'bad-' "clicking a rejection lists its failing payloads"
is "$(json_get "$seen" .spoolers)" 1 "the spooler is listed"
is "$(json_get "$seen" .types)" 3 "the rule set's three event types are listed"
like "$(json_get "$seen" .rules_version)" "$(curl -s "$BASE/v1/health" | jq -r .rules_version)" "with the live rule-set version"
# The refused key's 401 is logged by the browser as a failed load, and so
# is the favicon it asks for by itself; anything else is a fault.
is "$(json_get "$seen" '[.console_errors[] | select(test("status of 401|favicon.ico") | not)] | join(" ")')" "" \
  "no other error in the browser console (script errors, CSP refusals)"
ok $([ -s "$SHOT" ] && echo 0 || echo 1) "a screenshot is saved ($SHOT)"

harness_finish
