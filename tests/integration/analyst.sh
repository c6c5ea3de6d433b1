#!/bin/bash
# analyst.sh - what the data team reads: the views, the README's queries
# (each must use an index: checked with EXPLAIN on a table with enough rows
# for the optimizer to care), and the HTTP read API (filters, order,
# keyset pagination under concurrent inserts, NDJSON, errors, parameter
# errors, malformed %-escapes and text that is not UTF-8, key scopes, the
# prototype's route and its inclusive date range).
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
KEY=$(new_app shop); RKEY=$(new_app reader --read)
SPOOL=$EYE_BUILDDIR/spool/eye-spool
get() { http GET "$1" -H "Authorization: Bearer $RKEY" "${@:2}"; }
ev() { # SESSION NAME TIMESTAMP [PATH]
  printf '{"session_id":"%s","category":"page interaction","name":"%s","data":{"host":"a.example.com","path":"%s","element":"x"},"timestamp":"%s"}' \
    "$1" "$2" "${4:-/}" "$3"
}
pv() { printf '{"session_id":"%s","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"%s"},"timestamp":"%s"}' "$1" "${3:-/}" "$2"; }

# --- data: a session with equal timestamps, two days, an error ----------------
post_events "$KEY" "[$(pv s1 '2024-05-01 10:00:00' /a),$(pv s1 '2024-05-01 10:00:00' /b),$(pv s1 '2024-05-01 09:00:00' /c),$(ev s1 'cta click' '2024-05-01 10:00:00'),$(pv s2 '2024-05-02 12:00:00' /d)]"
is "$HTTP_STATUS" 202 "the data is accepted"
post_events "$KEY" "$(pv s3 '2099-01-01 00:00:00')"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null

# --- views -------------------------------------------------------------------------
is "$(sql "SELECT GROUP_CONCAT(CONCAT(seq, ':', JSON_VALUE(data, '\$.path')) ORDER BY seq) FROM v_session_timeline WHERE session_id = 's1'")" \
  "1:/c,2:/a,3:/b,4:/" "the timeline numbers a session's events by time, equal times by arrival"
is "$(sql "SELECT CONCAT(session_id, ' ', application) FROM v_events WHERE JSON_VALUE(data, '\$.path') = '/d'")" "s2 shop" \
  "v_events shows the session identifier and the application's name"
is "$(sql "SELECT CONCAT(application, ' ', code) FROM v_errors")" "shop timestamp_in_future" "v_errors shows errors with the application's name"
analyst_pw=$(cat "$STACK_DIR/secrets/analyst.pw")
out=$(mariadb --no-defaults -ueye_analyst -p"$analyst_pw" -S "$STACK_DB_SOCKET" eye -N -e 'SELECT COUNT(*) FROM v_session_timeline; SELECT COUNT(*) FROM v_errors' 2>&1)
is "$(echo $out)" "5 1" "the analyst account reads the views"

# --- every README query uses an index --------------------------------------------
# 60,000 events over 3,000 sessions and 30 types (6 categories of 5 names,
# in the dimension tables as eye-spool fills them), so plans are real plans.
# Every month from 2023-01 has a partition of its own, so a time-bounded
# query can be seen to prune to one.
stack_admin partitions --ensure --from 2023-01 >/dev/null; ok $? "eye-admin partitions --from 2023-01 splits the oldest month"
sql "INSERT INTO sessions (session_key, first_seen_at, last_seen_at, event_count)
     SELECT CONCAT('bulk-', seq), '2023-01-01', '2023-01-01', 20 FROM seq_1_to_3000"
sql "INSERT INTO event_categories (name) SELECT CONCAT('cat-', seq) FROM seq_0_to_5"
sql "INSERT INTO event_types (category_id, name)
     SELECT c.id, CONCAT('name-', n.seq) FROM event_categories c JOIN seq_0_to_4 n WHERE c.name LIKE 'cat-%'"
sql "INSERT INTO events (id, event_id, application_id, session_id, category_id, type_id, data, occurred_at, client_timestamp, received_at, rules_version)
     SELECT 1000000 + q.seq, UUID(), 1, s.id, c.id, t.id, '{}',
            '2023-01-01' + INTERVAL q.seq * 5 MINUTE, '2023-01-01', NOW(6), 'bulk'
     FROM seq_1_to_60000 q JOIN sessions s ON s.session_key = CONCAT('bulk-', 1 + q.seq % 3000)
     JOIN event_categories c ON c.name = CONCAT('cat-', q.seq % 6)
     JOIN event_types t ON t.category_id = c.id AND t.name = CONCAT('name-', q.seq % 5)"
is "$(sql "SELECT COUNT(*), COUNT(DISTINCT type_id) FROM events WHERE rules_version = 'bulk'" | tr '\t' :)" "60000:30" \
  "the bulk events are of 30 types"
sql "INSERT INTO event_errors (id, application_id, received_at, category, name, code, pointer, message, rules_version)
     SELECT 2000000 + seq, 1, '2023-01-01' + INTERVAL seq * 10 MINUTE, 'cat-1', 'name-1', ELT(1 + seq % 3, 'wrong_type', 'too_long', 'missing_field'), '', '', 'bulk' FROM seq_1_to_20000"
sql "ANALYZE TABLE events, sessions, event_errors, event_categories, event_types" >/dev/null
# explain QUERY: "table:type:key:key_len:partitions" for every table the
# plan reads (EXPLAIN PARTITIONS).
explain() { sql "EXPLAIN PARTITIONS $1" | awk -F'\t' '{print $3 ":" $5 ":" $7 ":" $8 ":" $4}' | tr '\n' ' '; }
# table_parts PLAN: "table=partitions" for each of events (e) and
# event_errors that PLAN reads.
table_parts() { tr ' ' '\n' <<<"$1" | awk -F: '$1 == "e" || $1 == "event_errors" {print $1 "=" $5}' | paste -sd' ' -; }
# A time-bounded query names the one partition of its month for each
# table it reads by time (the third column; - for a query with no time
# bound, which reads every partition); the last column is the plan. The dimension tables are constants (a
# category's or type's row read once by its unique name); events is a range
# of the index that fits: (category_id, occurred_at) or (type_id,
# occurred_at) is 2 + 8 = 10 bytes, the primary key (occurred_at, id) is
# read by its first 8.
while IFS='|' read -r label query part want; do
  plan=$(explain "$query")
  like "$plan" "$want" "EXPLAIN $label uses its index ($plan)"
  [[ $plan == *":ALL:"* && $plan != *"<derived"* ]] && ok 1 "$label: no full scan" || ok 0 "$label: no full scan"
  [ "$part" = - ] || is "$(table_parts "$plan")" "$part" "EXPLAIN PARTITIONS $label: one partition"
done <<'QUERIES'
a session's events in order|SELECT * FROM v_session_timeline WHERE session_id = 'bulk-17' ORDER BY seq|-|e:ref:ix_events_session_time:8:
a category in a time range|SELECT * FROM v_events WHERE category = 'cat-1' AND occurred_at >= '2023-03-01' AND occurred_at < '2023-03-02' ORDER BY occurred_at, id LIMIT 100|e=p202303|c:const:uq_event_categories_name:.*e:range:ix_events_category_time:10:p202303 
an event type in a time range|SELECT * FROM v_events WHERE category = 'cat-1' AND name = 'name-1' AND occurred_at >= '2023-03-01' AND occurred_at < '2023-03-02' ORDER BY occurred_at, id LIMIT 100|e=p202303|c:const:uq_event_categories_name:.*t:const:uq_event_types_name:.*e:range:ix_events_type_time:10:p202303 
a time range|SELECT * FROM v_events WHERE occurred_at >= '2023-03-01 10:00' AND occurred_at < '2023-03-01 11:00' ORDER BY occurred_at, id LIMIT 100|e=p202303|e:range:PRIMARY:8:p202303 
a category over a month|SELECT COUNT(*) FROM events e JOIN event_categories c ON c.id = e.category_id WHERE c.name = 'cat-1' AND e.occurred_at >= '2023-03-01' AND e.occurred_at < '2023-04-01'|e=p202303|c:const:uq_event_categories_name:.*e:range:ix_events_category_time:10:p202303 
errors by code over time|SELECT DATE(received_at) AS day, code, COUNT(*) FROM event_errors WHERE received_at >= '2023-01-05' AND received_at < '2023-01-08' GROUP BY day, code|event_errors=p202301|event_errors:range:ix_event_errors_(received|code_time):[0-9]+:p202301 
an event type's rejection rate|SELECT (SELECT COUNT(*) FROM event_errors WHERE category = 'cat-1' AND name = 'name-1' AND received_at >= '2023-01-05' AND received_at < '2023-01-06') AS rejected, (SELECT COUNT(*) FROM events e JOIN event_types t ON t.id = e.type_id JOIN event_categories c ON c.id = t.category_id WHERE c.name = 'cat-1' AND t.name = 'name-1' AND e.occurred_at >= '2023-01-05' AND e.occurred_at < '2023-01-06') AS accepted|e=p202301 event_errors=p202301|e:range:ix_events_type_time:10:p202301 .*event_errors:range:ix_event_errors_type_time:[0-9]+:p202301 
QUERIES
# Sorting must come from the index, not a filesort over the range.
for q in "SELECT * FROM v_events WHERE category = 'cat-1' AND occurred_at >= '2023-03-01' AND occurred_at < '2023-03-02' ORDER BY occurred_at, id LIMIT 100" \
         "SELECT * FROM v_events WHERE occurred_at >= '2023-03-01' AND occurred_at < '2023-03-02' ORDER BY occurred_at, id LIMIT 100"; do
  sql "EXPLAIN $q" | grep -q filesort; is $? 1 "no filesort: ${q:0:60}..."
done

# --- the read API's own plans ------------------------------------------------------
# Each filter shape of /v1/events as eye.fcgi runs it: the general log
# records the executed statement with its values, and its EXPLAIN
# PARTITIONS must read events as the range of the index that fits (one
# partition when the time range is in one month).
SCOPED=$(stack_admin key create shop --read --app-only 2>/dev/null)
[ -n "$SCOPED" ] || bail "no app-only read key"
sql "SET GLOBAL log_output = 'TABLE'"
sql "SET GLOBAL general_log = 1"
# api_plan KEY PATH: reads PATH (HTTP_STATUS, HTTP_BODY) and sets PLAN to
# the plan of the statement it executed.
api_plan() {
  sql "TRUNCATE mysql.general_log"
  http GET "$2" -H "Authorization: Bearer $1"
  [ "$HTTP_STATUS" = 200 ] || diag "$2: $HTTP_STATUS $HTTP_BODY"
  local q
  q=$(sql "SELECT argument FROM mysql.general_log WHERE command_type = 'Execute' AND argument LIKE 'SELECT%'
           ORDER BY event_time DESC LIMIT 1")
  PLAN=none
  [ -n "$q" ] && PLAN=$(explain "$q")
}
while IFS='|' read -r label key path want; do
  api_plan "${!key}" "$path"
  like "$PLAN" "$want" "read API, $label: $PLAN"
done <<'PATHS'
category and time|RKEY|/v1/events?category=cat-1&from=2023-03-01&to=2023-03-02|c:const:uq_event_categories_name:.*e:range:ix_events_category_time:10:p202303 
category, name and time|RKEY|/v1/events?category=cat-1&name=name-1&from=2023-03-01&to=2023-03-02|c:const:uq_event_categories_name:.*t:const:uq_event_types_name:.*e:range:ix_events_type_time:10:p202303 
time alone|RKEY|/v1/events?from=2023-03-01&to=2023-03-02|^e:range:PRIMARY:8:p202303 
session and time|RKEY|/v1/events?session_id=bulk-17&from=2023-03-01&to=2023-03-02|s:const:PRIMARY:.*e:range:ix_events_session_time:16:p202303 
an application-scoped key and time|SCOPED|/v1/events?from=2023-03-01&to=2023-03-02|^e:range:ix_events_application_time:12:p202303 
no filter|RKEY|/v1/events|^e:index:PRIMARY:16:
a session's timeline|RKEY|/v1/sessions/bulk-17/events|e:ref:ix_events_session_time:8:
PATHS
# The keyset cursor: the next page is the same range, started after the
# last row sent, so the range reaches into the index's id as well (+8).
while IFS='|' read -r f want; do
  lbl=${f%&}; lbl=${lbl:-time alone}
  get "/v1/events?${f}from=2023-03-01&to=2023-03-02&limit=2"
  cursor=$(json_get "$HTTP_BODY" .next)
  api_plan "$RKEY" "/v1/events?${f}from=2023-03-01&to=2023-03-02&limit=2&after=$cursor"
  like "$PLAN" "$want" "read API, $lbl, the page after $cursor: $PLAN"
  is "$(json_get "$HTTP_BODY" '.events[0].id')" \
    "$(sql "SELECT e.id FROM events e JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id
            WHERE e.occurred_at >= '2023-03-01' AND e.occurred_at < '2023-03-02'
              $([ -n "$f" ] && echo "AND c.name = 'cat-1'") $([[ $f == *name* ]] && echo "AND t.name = 'name-1'")
            ORDER BY e.occurred_at, e.id LIMIT 1 OFFSET 2")" "read API, $lbl: the page after the cursor starts at the third row"
done <<'PAGES'
category=cat-1&|e:range:ix_events_category_time:18:p202303 
category=cat-1&name=name-1&|e:range:ix_events_type_time:18:p202303 
|^e:range:PRIMARY:16:p202303 
PAGES
sql "SET GLOBAL general_log = 0"

# --- the read API -----------------------------------------------------------------
get "/v1/events?session_id=s1"
is "$HTTP_STATUS" 200 "GET /v1/events with a read key: 200"
is "$(json_get "$HTTP_BODY" '[.events[].data.path] | join(",")')" "/c,/a,/b,/" "a session's events in time order, equal times by arrival"
get "/v1/events?category=page%20interaction&name=pageview&from=2024-05-01T00:00:00Z&to=2024-05-02"
is "$(json_get "$HTTP_BODY" '[.events[].data.path] | join(",")')" "/c,/a,/b" "category + name + time range"
get "/v1/events?session_id=s1&name=cta%20click"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '[.events[] | "\(.category)/\(.name)"] | join(",")')" "200:page interaction/cta click" \
  "name without category: the events of that name, their category and name from the dimension tables"
get "/v1/events?from=2024-05-02%2012:00:00&to=2024-05-03T00:00:00%2B00:00"
is "$(json_get "$HTTP_BODY" '[.events[].session_id] | join(",")')" "s2" "from is inclusive, RFC 3339 offsets work"
get "/v1/sessions/s1/events"
is "$(json_get "$HTTP_BODY" '[.events[] | "\(.seq):\(.data.path)"] | join(",")')" "1:/c,2:/a,3:/b,4:/" "/v1/sessions/{id}/events: the timeline with seq"
get "/v1/sessions/s1/events" -H 'Accept: application/x-ndjson'
is "$HTTP_STATUS:$(printf '%s\n' "$HTTP_BODY" | jq -r .seq | tr '\n' ,)" "200:1,2,3,4," "NDJSON: one event per line"
[ "$HTTP_STATUS" = 200 ] || diag "body: $HTTP_BODY"
get "/v1/events?session_id=s1&limit=2" -H 'Accept: application/x-ndjson'
like "$(printf '%s\n' "$HTTP_BODY" | grep -v '^$' | tail -1)" '^\{"next":"[0-9a-f]{32}"\}$' "NDJSON: the cursor is the last line when more rows follow"

# Keyset pagination: walk s1 + s2 two at a time while new events arrive after
# the walk began (later timestamps are appended, never repeated or skipped).
seen=""; cursor=""; pages=0
while :; do
  get "/v1/events?limit=2&from=2024-05-01&to=2024-05-03${cursor:+&after=$cursor}"
  seen="$seen$(json_get "$HTTP_BODY" '[.events[].data.path] | join(",")'),"
  cursor=$(json_get "$HTTP_BODY" .next)
  pages=$((pages + 1))
  if [ $pages = 1 ]; then
    post_events "$KEY" "[$(pv s4 '2024-05-02 13:00:00' /late),$(pv s4 '2024-04-30 00:00:00' /early)]"
    "$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
  fi
  [ "$cursor" = null ] && break
  [ $pages -gt 10 ] && break
done
is "$seen" "/c,/a,/b,/,/d,/late," "pages neither repeat nor skip rows while new events arrive"

get "/v1/errors?code=timestamp_in_future&app=shop"
is "$(json_get "$HTTP_BODY" '.errors | length')" 1 "/v1/errors filters by code and application"
is "$(json_get "$HTTP_BODY" '.errors[0].payload | fromjson | .session_id')" s3 "/v1/errors returns the original payload"
get "/api/events/?session=s1&category=page%20interaction&date-from=2024-05-01&date-to=2024-05-02"
is "$HTTP_STATUS" 200 "the prototype's GET /api/events/ answers"
is "$(json_get "$HTTP_BODY" 'map(.data.path) | join(",")')" "/c,/a,/b,/" "with a bare array, filtered by its parameters"
# The prototype's date range was inclusive (Django's __range, BETWEEN); /v1's
# from/to stays half-open.
get "/api/events/?session=s1&date-from=2024-05-01%2010:00:00&date-to=2024-05-01%2010:00:00"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" 'map(.data.path) | join(",")')" "200:/a,/b,/" \
  "prototype: date-from = date-to gives the events at that instant"
get "/api/events/?session=s1&date-from=2024-05-01&date-to=2024-05-01T09:00:00Z"
is "$(json_get "$HTTP_BODY" 'map(.data.path) | join(",")')" "/c" "prototype: an event at date-to is included"
get "/api/events/?date-from=2024-05-01%2009:00:00.000001&date-to=2024-05-01%2009:59:59.999999"
is "$(json_get "$HTTP_BODY" 'length')" 0 "prototype: the bounds are the instants given, no wider"
get "/v1/events?session_id=s1&from=2024-05-01%2010:00:00&to=2024-05-01%2010:00:00"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length')" "200:0" "/v1: from = to is an empty range (to is exclusive)"
get "/v1/events?session_id=s1&to=2024-05-01T10:00:00Z"
is "$(json_get "$HTTP_BODY" '[.events[].data.path] | join(",")')" "/c" "/v1: an event at to is excluded"

# --- parameter errors and scopes ----------------------------------------------------------
while read -r query code param; do
  get "/v1/events?$query"
  is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code):$(json_get "$HTTP_BODY" .error.pointer)" "400:$code:$param" "?$query: 400 $code naming $param"
done <<'BAD'
from=yesterday invalid_parameter from
to=2024-13-01 invalid_parameter to
limit=0 invalid_parameter limit
limit=1001 invalid_parameter limit
limit=ten invalid_parameter limit
after=notacursor invalid_parameter after
colour=red unknown_parameter colour
category=a&category=b invalid_parameter category
category=%zz invalid_parameter category
category=% invalid_parameter category
category=page% invalid_parameter category
category=%4 invalid_parameter category
name=a%4g invalid_parameter name
session_id=%zz&category=x invalid_parameter session_id
category=%ED%A0%80 invalid_parameter category
category=%E0%80%AF invalid_parameter category
category=%F4%90%80%80 invalid_parameter category
category=%C3 invalid_parameter category
category=%C3%28 invalid_parameter category
category=%80 invalid_parameter category
category=%F0%9F%98 invalid_parameter category
cat%zzegory=x invalid_parameter cat%zzegory
%=x invalid_parameter %
name%=pageview invalid_parameter name%
%ED%A0%80=x invalid_parameter %ED%A0%80
from=2024-05-01%zz invalid_parameter from
BAD
# Every decoding refusal is a JSON error whose message is valid UTF-8 too.
get "/v1/events?category=%ED%A0%80"
is "$(printf '%s' "$HTTP_BODY" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; echo $?):$(json_get "$HTTP_BODY" .error.message)" \
  "0:category: a malformed %-escape, or not UTF-8 once decoded" "the refusal says what is wrong, in valid UTF-8"
while read -r path param; do
  get "$path"
  is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code):$(json_get "$HTTP_BODY" .error.pointer)" "400:invalid_parameter:$param" "$path: 400 naming $param"
done <<'BAD'
/v1/errors?code=%zz code
/v1/errors?app=%ED%A0%80 app
/api/events/?session=%zz session
/api/events/?date-to=%4 date-to
/v1/sessions/a%zz/events session_id
/v1/sessions/%ED%A0%80/events session_id
/v1/sessions/s1%/events session_id
/v1/sessions/s1/events?limit=%zz limit
BAD
# lighttpd refuses some shapes itself before eye.fcgi sees them (its own
# page, not our JSON; the unit test tests/unit/test_request covers them
# against the decoder): never a 200.
for q in 'category=%00' 'category=%FF' 'category=%C0%AF' 'ca%00t=x'; do
  get "/v1/events?$q"
  is "$HTTP_STATUS" 400 "?$q: refused (by lighttpd)"
done
# Well-formed escapes still decode: '+' and %20 as a space, hex in either
# case, an escaped '%', valid UTF-8.
for q in 'category=page+interaction&session_id=s%31' 'category=%70age%20interaction&session_id=s%31'; do
  get "/v1/events?$q"
  is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length')" "200:4" "?$q: decoded as it should be"
done
for q in 'category=100%25' 'category=caf%C3%A9' 'category=%F0%9F%98%80' 'category=%F4%8F%BF%BF'; do
  get "/v1/events?$q"
  is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length')" "200:0" "?$q: well-formed text, searched for (no match)"
done
get "/v1/sessions/s%31/events"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length')" "200:4" "the timeline's path segment is decoded"
http GET /v1/events -H "Authorization: Bearer $KEY"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code)" "403:wrong_scope" "a write key cannot read"
post_events "$RKEY" "$(pv s5 '2024-05-01 10:00:00')"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code)" "403:wrong_scope" "a read key cannot write"
http GET /v1/events
is "$HTTP_STATUS" 401 "no key: 401"
http DELETE /v1/errors -H "Authorization: Bearer $RKEY"
is "$HTTP_STATUS" 405 "another method on /v1/errors: 405"

harness_finish
