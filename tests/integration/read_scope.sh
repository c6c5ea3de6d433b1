#!/bin/bash
# read_scope.sh - application-scoped read keys (issue 20).
#
# Two applications, shop and blog, feed one shared session and one session
# each, and each sends rejected events whose payloads carry a marker. An
# all-data read key (the analysts') must see everything; an application's
# scoped key (`--read --app-only`) must see only its application's events,
# errors and sessions on every read route, paged or not: the shared session's
# timeline shows only the owner's events, numbered among themselves, and the
# other application's errors and payloads never appear, even when a filter
# names it. The expected rows are always computed with SQL from what the
# spool stored. eye-admin refuses --app-only without --read (exit 2).
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
SPOOL=$EYE_BUILDDIR/spool/eye-spool

# --- eye-admin ---------------------------------------------------------------------
SKEY=$(new_app shop); BKEY=$(new_app blog)
ALLKEY=$(new_app analysts --read)                                 # the analysts' key
SHOPALL=$(stack_admin key create shop --read 2>/dev/null)         # all-data, though shop's
SRKEY=$(stack_admin key create shop --read --app-only 2>/dev/null) # shop's data only
out=$(stack_admin key create blog --app-only --read 2>&1 >"$STACK_DIR/brkey"); rc=$?
BRKEY=$(cat "$STACK_DIR/brkey")
is "$rc" 0 "key create blog --app-only --read (either order) succeeds"
like "$out" "^key ${BRKEY:0:12} \(read scope, this application's data only\) created" \
  "key create --app-only says what the key sees"
WKEY=$(stack_admin app create wiki --read --app-only 2>/dev/null)
like "$WKEY" '^eye_[0-9a-f]{8}_' "app create wiki --read --app-only prints a key"
for k in SKEY BKEY ALLKEY SHOPALL SRKEY BRKEY WKEY; do
  [ -n "${!k}" ] || bail "no key $k"
done
list=$(stack_admin app list)
like "$(grep '^shop ' <<<"$list" | grep "${SRKEY:0:12}")" "^shop +${SRKEY:0:12} +read-app +active" "app list shows the scoped key as read-app"
like "$(grep '^shop ' <<<"$list" | grep "${SHOPALL:0:12}")" "^shop +${SHOPALL:0:12} +read +active" "app list shows an all-data read key as read"
like "$(grep '^wiki ' <<<"$list")" "^wiki +${WKEY:0:12} +read-app +active" "app list: app create --app-only made a read-app key"
is "$(sql "SELECT CONCAT(a.name, ':', k.scope, ':', k.app_only) FROM api_keys k JOIN applications a ON a.id = k.application_id
           WHERE k.prefix IN ('${SRKEY:0:12}', '${BRKEY:0:12}', '${WKEY:0:12}', '${ALLKEY:0:12}', '${SHOPALL:0:12}') ORDER BY k.id")" \
  "$(printf 'analysts:read:0\nshop:read:0\nshop:read:1\nblog:read:1\nwiki:read:1')" "api_keys records app_only for those keys only"

keys_before=$(sql "SELECT COUNT(*) FROM api_keys"); apps_before=$(sql "SELECT COUNT(*) FROM applications")
while read -r -u 3 args; do
  out=$(stack_admin $args 2>&1 </dev/null); rc=$?
  is "$rc" 2 "eye-admin $args: usage error (exit 2)"
  [ "$rc" = 0 ] || like "$out" "--app-only|usage" "eye-admin $args: says why"
done 3<<'ARGS'
key create shop --app-only
key create shop --app-only --browser --origin https://shop.example.com
app create forum --app-only
app create forum --browser --origin https://forum.example.com --app-only
key create shop --read --app-only --app-only-not
ARGS
is "$(sql "SELECT COUNT(*) FROM api_keys"):$(sql "SELECT COUNT(*) FROM applications")" "$keys_before:$apps_before" \
  "the refused commands created no key and no application"
like "$(stack_admin key create --help)" "--app-only" "key create --help documents --app-only"
like "$(stack_admin app create --help)" "--app-only" "app create --help documents --app-only"
sql "INSERT INTO api_keys (application_id, prefix, key_hash, scope, app_only)
     VALUES (1, 'eye_00000000', UNHEX(SHA2('x', 256)), 'write', TRUE)" 2>/dev/null; rc=$?
is "$rc:$(sql "SELECT COUNT(*) FROM api_keys WHERE prefix = 'eye_00000000'")" "1:0" \
  "the schema refuses an app-only key that is not a read key"

# --- data ---------------------------------------------------------------------------
ev() { # SESSION NAME TIMESTAMP PATH
  if [ "$2" = pageview ]; then
    printf '{"session_id":"%s","category":"page interaction","name":"pageview","data":{"host":"a.example.com","path":"%s"},"timestamp":"%s"}' "$1" "$4" "$3"
  else
    printf '{"session_id":"%s","category":"page interaction","name":"cta click","data":{"host":"a.example.com","path":"%s","element":"x"},"timestamp":"%s"}' "$1" "$4" "$3"
  fi
}
post_events "$SKEY" "[$(ev shared pageview '2024-05-01 10:00:01' /s1),$(ev shared 'cta click' '2024-05-01 10:00:03' /s2),$(ev shared pageview '2024-05-01 10:00:05' /s3),$(ev shop-only pageview '2024-05-01 10:00:02' /s4),$(ev shop-only pageview '2024-05-02 09:00:00' /s5)]"
is "$HTTP_STATUS" 202 "shop's events are accepted"
post_events "$BKEY" "[$(ev shared pageview '2024-05-01 10:00:00' /b1),$(ev shared pageview '2024-05-01 10:00:03' /b2),$(ev shared 'cta click' '2024-05-01 10:00:06' /b3),$(ev blog-only pageview '2024-05-01 10:00:04' /b4),$(ev blog-only 'cta click' '2024-05-02 08:00:00' /b5)]"
is "$HTTP_STATUS" 202 "blog's events are accepted"
# Rejected events (a timestamp far in the future), their payloads marked.
post_events "$SKEY" "[$(ev shared pageview '2099-01-01 00:00:00' /shop-secret-1),$(ev shop-only pageview '2099-01-01 00:00:00' /shop-secret-2)]"
post_events "$BKEY" "[$(ev shared pageview '2099-01-01 00:00:00' /blog-secret-1),$(ev blog-only pageview '2099-01-01 00:00:00' /blog-secret-2)]"
"$SPOOL" --config "$STACK_CONFIG" --once 2>/dev/null
SHOP=$(sql "SELECT id FROM applications WHERE name = 'shop'")
BLOG=$(sql "SELECT id FROM applications WHERE name = 'blog'")
WIKI=$(sql "SELECT id FROM applications WHERE name = 'wiki'")
is "$(sql "SELECT COUNT(*), COUNT(DISTINCT e.application_id) FROM events e JOIN sessions s ON s.id = e.session_id WHERE s.session_key = 'shared'" | tr '\t' :)" \
  "6:2" "the shared session holds events of both applications (one sessions row)"
is "$(sql "SELECT COUNT(*) FROM event_errors WHERE payload LIKE '%secret%'"):$(sql "SELECT COUNT(DISTINCT application_id) FROM event_errors")" "4:2" \
  "both applications have rejected events with marked payloads"

# --- expectations, from SQL ------------------------------------------------------------
# scope APP_ID: the SQL condition of what a key of that scope sees (ALL: all).
scope() { [ "$1" = ALL ] && echo TRUE || echo "application_id = $1"; }
# want_events APP_ID [SQL CONDITION]: ids in the read API's order. The
# condition may name the category (c.name) and the type's name (t.name).
want_events() {
  sql "SELECT COALESCE(GROUP_CONCAT(e.id ORDER BY e.occurred_at, e.id), '') FROM events e
       JOIN event_categories c ON c.id = e.category_id JOIN event_types t ON t.id = e.type_id
       WHERE $(scope "$1") AND ${2:-TRUE}"
}
want_errors() {
  sql "SELECT COALESCE(GROUP_CONCAT(id ORDER BY received_at, id), '') FROM event_errors WHERE $(scope "$1") AND ${2:-TRUE}"
}
# want_timeline APP_ID SESSION: "seq:id" of the session's events that scope sees, numbered among themselves.
want_timeline() {
  sql "SELECT COALESCE(GROUP_CONCAT(CONCAT(seq, ':', id) ORDER BY seq), '') FROM (
         SELECT id, ROW_NUMBER() OVER (ORDER BY occurred_at, id) AS seq FROM events
         WHERE session_id = (SELECT id FROM sessions WHERE session_key = '$2') AND $(scope "$1")) t"
}
# want_apps APP_ID [SQL CONDITION]: the applications whose events that scope sees, by name.
want_apps() {
  local c=TRUE
  [ "$1" = ALL ] || c="e.application_id = $1"
  sql "SELECT COALESCE(GROUP_CONCAT(DISTINCT a.name ORDER BY a.name), '') FROM events e
       JOIN applications a ON a.id = e.application_id WHERE $c AND ${2:-TRUE}"
}
SESSION_SHARED="session_id = (SELECT id FROM sessions WHERE session_key = 'shared')"
TYPE_PV="c.name = 'page interaction' AND t.name = 'pageview'"
RANGE="e.occurred_at >= '2024-05-01 10:00:02' AND e.occurred_at < '2024-05-01 10:00:05'"

# get KEY PATH [curl args]
get() { http GET "$2" -H "Authorization: Bearer $1" "${@:3}"; }
# ids LIST: the ids of the page just read (LIST: events, errors, or . for a bare array).
ids() {
  if [ "$1" = . ]; then json_get "$HTTP_BODY" 'map(.id | tostring) | join(",")'
  else json_get "$HTTP_BODY" "[.$1[].id | tostring] | join(\",\")"; fi
}
# walk KEY PATH LIST: every id of a list, read two rows a page through the cursor.
walk() {
  local key=$1 path=$2 list=$3 cursor="" all="" pages=0 sep='?'
  [[ $path == *\?* ]] && sep='&'
  while [ $pages -lt 30 ]; do
    get "$key" "$path${sep}limit=2${cursor:+&after=$cursor}"
    [ "$HTTP_STATUS" = 200 ] || { echo "status $HTTP_STATUS"; return; }
    all="$all,$(ids "$list")"
    cursor=$(json_get "$HTTP_BODY" '.next // empty')
    pages=$((pages + 1))
    [ -z "$cursor" ] && break
  done
  echo "$all" | tr -s , | sed 's/^,//; s/,$//'
}

# --- every route, every key ---------------------------------------------------------------
is "$(want_apps ALL "$SESSION_SHARED"):$(want_timeline $SHOP shared | tr , '\n' | wc -l):$(want_timeline $BLOG shared | tr , '\n' | wc -l)" \
  "blog,shop:3:3" "the shared session has three events of each application"
# NAME KEY SCOPE (an application's id, or ALL)
while read -r -u 3 who key sc; do
  key=${!key}; [ "$sc" = ALL ] || sc=${!sc}
  get "$key" /v1/events
  is "$HTTP_STATUS:$(ids events)" "200:$(want_events "$sc")" "$who: GET /v1/events"
  is "$(json_get "$HTTP_BODY" '[.events[].application] | unique | join(",")')" "$(want_apps "$sc")" \
    "$who: the events' applications"
  get "$key" "/v1/events?session_id=shared"
  is "$(ids events)" "$(want_events "$sc" "$SESSION_SHARED")" "$who: GET /v1/events?session_id=shared"
  get "$key" "/v1/events?category=page%20interaction&name=pageview"
  is "$(ids events)" "$(want_events "$sc" "$TYPE_PV")" "$who: GET /v1/events by category and name"
  get "$key" "/v1/events?category=page%20interaction&from=2024-05-01T10:00:02Z&to=2024-05-01T10:00:05Z"
  is "$(ids events)" "$(want_events "$sc" "$RANGE")" "$who: GET /v1/events by category and time range"
  get "$key" "/v1/events?from=2024-05-01T10:00:02Z&to=2024-05-01T10:00:05Z"
  is "$(ids events)" "$(want_events "$sc" "$RANGE")" "$who: GET /v1/events by time range"
  is "$(walk "$key" /v1/events events)" "$(want_events "$sc")" "$who: /v1/events two at a time through the cursor"
  is "$(walk "$key" "/v1/events?session_id=shared" events)" "$(want_events "$sc" "$SESSION_SHARED")" \
    "$who: the shared session's events two at a time"
  get "$key" /v1/events -H 'Accept: application/x-ndjson'
  is "$(printf '%s\n' "$HTTP_BODY" | jq -r 'select(.id) | .id' | paste -sd, -)" "$(want_events "$sc")" "$who: /v1/events as NDJSON"

  get "$key" "/api/events/?session=shared"
  is "$HTTP_STATUS:$(ids .)" "200:$(want_events "$sc" "$SESSION_SHARED")" "$who: GET /api/events/?session=shared (the prototype's)"
  get "$key" "/api/events/?category=page%20interaction&date-from=2024-05-01%2010:00:02&date-to=2024-05-01%2010:00:04.999999"
  is "$(ids .)" "$(want_events "$sc" "c.name = 'page interaction' AND $RANGE")" "$who: GET /api/events/ by category and dates"

  get "$key" /v1/sessions/shared/events
  is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '[.events[] | "\(.seq):\(.id)"] | join(",")')" "200:$(want_timeline "$sc" shared)" \
    "$who: the shared session's timeline (seq:id)"
  is "$(json_get "$HTTP_BODY" '[.events[].application] | unique | join(",")')" "$(want_apps "$sc" "$SESSION_SHARED")" \
    "$who: the shared timeline's applications"
  is "$(walk "$key" /v1/sessions/shared/events events)" "$(want_timeline "$sc" shared | sed 's/[0-9]*://g')" \
    "$who: the shared timeline two at a time through the cursor"
  for s in shop-only blog-only; do
    get "$key" "/v1/sessions/$s/events"
    is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '[.events[] | "\(.seq):\(.id)"] | join(",")')" "200:$(want_timeline "$sc" $s)" \
      "$who: the $s session's timeline"
  done

  get "$key" /v1/errors
  is "$HTTP_STATUS:$(ids errors)" "200:$(want_errors "$sc")" "$who: GET /v1/errors"
  is "$(json_get "$HTTP_BODY" '[.errors[].payload | fromjson | .data.path] | sort | join(",")')" \
    "$(sql "SELECT COALESCE(GROUP_CONCAT(JSON_VALUE(payload, '\$.data.path') ORDER BY JSON_VALUE(payload, '\$.data.path')), '') FROM event_errors WHERE $(scope "$sc")")" \
    "$who: the errors' payloads are those of its scope"
  is "$(walk "$key" /v1/errors errors)" "$(want_errors "$sc")" "$who: /v1/errors two at a time through the cursor"
  for a in shop:$SHOP blog:$BLOG; do
    get "$key" "/v1/errors?app=${a%:*}"
    is "$HTTP_STATUS:$(ids errors)" "200:$(want_errors "$sc" "application_id = ${a#*:}")" "$who: GET /v1/errors?app=${a%:*}"
  done
  get "$key" "/v1/errors?code=timestamp_in_future&app=blog"
  is "$(ids errors)" "$(want_errors "$sc" "code = 'timestamp_in_future' AND application_id = $BLOG")" "$who: GET /v1/errors?code=&app=blog"
done 3<<'KEYS'
analysts ALLKEY ALL
shop's-all-data-key SHOPALL ALL
shop-app-only SRKEY SHOP
blog-app-only BRKEY BLOG
wiki-app-only WKEY WIKI
KEYS

# --- what never crosses ------------------------------------------------------------------
# Every read route of shop's scoped key, concatenated: no blog event, path or payload.
body=""
for path in /v1/events "/v1/events?session_id=shared" "/v1/events?session_id=blog-only" /v1/sessions/shared/events \
  /v1/sessions/blog-only/events /v1/errors "/v1/errors?app=blog" "/api/events/?session=shared" "/api/events/?session=blog-only" /api/events/; do
  get "$SRKEY" "$path"
  [ "$HTTP_STATUS" = 200 ] || diag "$path: $HTTP_STATUS"
  body="$body$HTTP_BODY"
done
is "$(grep -o -E '/b[0-9]|blog-secret|"blog"|blog-only' <<<"$body" | sort -u | paste -sd, -)" "" \
  "shop's scoped key never sees blog's events, sessions, errors or payloads"
like "$body" "shop-secret-1" "…while it sees its own payloads"
get "$ALLKEY" /v1/errors
like "$HTTP_BODY" "blog-secret-1.*blog-secret-2|blog-secret-2.*blog-secret-1" "the analysts' key sees blog's payloads"
like "$HTTP_BODY" "shop-secret-1.*shop-secret-2|shop-secret-2.*shop-secret-1" "the analysts' key sees shop's payloads"
get "$SRKEY" /v1/sessions/blog-only/events
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length'):$(json_get "$HTTP_BODY" .next)" "200:0:null" \
  "another application's session reads as an unknown one (200, empty)"
get "$SRKEY" /v1/sessions/no-such-session/events
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" '.events | length')" "200:0" "…exactly as an unknown session does"
get "$SRKEY" /v1/sessions/shared/events
is "$(json_get "$HTTP_BODY" '[.events[].seq | tostring] | join(",")')" "1,2,3" \
  "shop's view of the shared session is numbered 1, 2, 3 with no gaps for blog's events"

# Scope is still a read scope.
post_events "$SRKEY" "$(ev shared pageview '2024-05-01 10:00:00' /x)"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code)" "403:wrong_scope" "an app-only read key cannot write"
get "$SRKEY" "/v1/events?colour=red"
is "$HTTP_STATUS:$(json_get "$HTTP_BODY" .error.code)" "400:unknown_parameter" "parameters are checked as for any read key"

# --- the whole service's figures -------------------------------------------------------
# /metrics and the status page's summary count every application: an
# application-scoped key may not read them, an all-data one may.
for path in /metrics /v1/status/summary; do
  http GET "$path" -H "Authorization: Bearer $SRKEY"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .error.code)" "403|wrong_scope" "an app-only key on $path: 403 wrong_scope"
  http GET "$path" -H "Authorization: Bearer $ALLKEY"
  is "$HTTP_STATUS" 200 "the analysts' key on $path: 200"
done
harness_finish
