#!/bin/bash
# browser.sh - the server side of browser collection (issue 15), through
# lighttpd: browser keys bound to origins (eye-admin), CORS preflights and
# answer headers, origin refusals that store nothing, write and read keys
# refused from web pages, ?key= for browser keys only (key_in_url),
# text/plain bodies (navigator.sendBeacon), the smaller limits of browser
# keys and their rate limit (429 + Retry-After); GET /eye.js. The same
# through Apache + mod_fcgid (deploy/apache-eye.conf) at the end.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/apache.sh"
harness_start

# Small limits for browser keys, so the test can reach them: eye.fcgi reads
# them at start, so lighttpd starts again with them.
cat >>"$STACK_CONFIG" <<CONF
browser:
  max_body_bytes: 4096
  max_events_per_request: 5
  rate_limit_per_second: 1
  rate_limit_burst: 6
  preflight_max_age_seconds: 300
CONF
stack_lighttpd_stop
stack_lighttpd_start || bail "lighttpd did not start again"

SHOP=http://shop.test:8000
BLOG=https://blog.test

# req METHOD PATH [curl args...]: sets HTTP_STATUS, HTTP_BODY and
# HTTP_HEADERS (header lines, CR removed).
req() {
  local method=$1 path=$2; shift 2
  HTTP_STATUS=$(curl -s -m 10 -X "$method" -D "$STACK_DIR/h" -o "$STACK_DIR/b" -w '%{http_code}' \
    "$@" "$BASE$path")
  HTTP_BODY=$(cat "$STACK_DIR/b")
  HTTP_HEADERS=$(tr -d '\r' <"$STACK_DIR/h")
}
# header NAME: the value of header NAME in the last answer ("" if absent).
header() { printf '%s\n' "$HTTP_HEADERS" | sed -n "s/^$1: //Ip" | head -1; }
code() { json_get "$HTTP_BODY" .error.code; }
# event SESSION: one pageview of that session, as a JSON array.
event() {
  printf '[{"session_id":"%s","category":"page interaction","name":"pageview","data":{"host":"shop.test","path":"/"},"timestamp":"2021-01-01 09:15:27.243860"}]' "$1"
}
queued() { sql "SELECT COUNT(*) FROM event_queue WHERE session_key='$1'"; }

# --- eye-admin: browser keys and their origins --------------------------------
stack_admin app create web --browser >/dev/null 2>&1
is $? 2 "app create --browser without --origin exits 2"
stack_admin app create web --origin $SHOP >/dev/null 2>&1
is $? 2 "--origin without --browser exits 2"
stack_admin app create web --browser --origin 'https://*.shop.test' >/dev/null 2>&1
is $? 2 "a wildcard origin is refused"
stack_admin app create web --browser --origin 'https://shop.test/path' >/dev/null 2>&1
is $? 2 "an origin with a path is refused"
stack_admin app create web --read --browser --origin $SHOP >/dev/null 2>&1
is $? 2 "--read and --browser together are refused"
BKEY=$(stack_admin app create web --browser --origin HTTP://Shop.Test:8000 --origin https://blog.test:443 2>/dev/null)
like "$BKEY" '^eye_[0-9a-f]{8}_[0-9a-f]{56}_[0-9a-f]{8}$' "app create --browser prints a key"
is "$(sql "SELECT scope, origins FROM api_keys WHERE prefix='${BKEY:0:12}'")" \
  "browser	$SHOP $BLOG" "the key is a browser key with its origins in canonical form"
like "$(stack_admin app list)" "web +${BKEY:0:12} +browser +active .*$SHOP $BLOG" \
  "app list shows the browser key and its origins"
BKEY2=$(stack_admin key create web --browser --origin https://other.test 2>/dev/null)
like "$BKEY2" '^eye_' "key create --browser adds a browser key bound to another origin"
WKEY=$(new_app server)
RKEY=$(new_app reader --read)
like "$(stack_admin app list | grep '^server ')" "^server +${WKEY:0:12} +write +active .* -$" \
  "a write key has no origins"

# --- POST from an allowed origin ------------------------------------------------
req POST /v1/events -H "Authorization: Bearer $BKEY" -H "Origin: $SHOP" \
  -H 'Content-Type: application/json' --data-binary "$(event s-allowed)"
is "$HTTP_STATUS" 202 "a browser key from one of its origins is accepted"
is "$(header Access-Control-Allow-Origin)" "$SHOP" "the answer allows that origin (echoed, not *)"
is "$(header Vary)" "Origin" "the answer varies by Origin"
like "$(header Access-Control-Expose-Headers)" "Retry-After" "Retry-After is readable by the page"
is "$(queued s-allowed)" 1 "the event is queued"

req POST /v1/events -H "Authorization: Bearer $BKEY" -H "Origin: $BLOG" \
  -H 'Content-Type: application/json' --data-binary "$(event s-blog)"
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)" "202|$BLOG" "the key's second origin works too"

# --- refused origins store nothing ---------------------------------------------
for o in http://evil.test http://shop.test https://shop.test:8000 http://shop.test:8001 null; do
  req POST /v1/events -H "Authorization: Bearer $BKEY" -H "Origin: $o" \
    -H 'Content-Type: application/json' --data-binary "$(event s-refused)"
  is "$HTTP_STATUS|$(code)|$(header Access-Control-Allow-Origin)" "403|origin_not_allowed|" \
    "Origin $o: 403 origin_not_allowed, no Access-Control-Allow-Origin"
done
req POST /v1/events -H "Authorization: Bearer $BKEY2" -H "Origin: $SHOP" \
  -H 'Content-Type: application/json' --data-binary "$(event s-refused)"
is "$HTTP_STATUS|$(code)" "403|origin_not_allowed" "another key of the same application has its own origins"
req POST /v1/events -H "Authorization: Bearer $BKEY" \
  -H 'Content-Type: application/json' --data-binary "$(event s-refused)"
is "$HTTP_STATUS|$(code)" "403|origin_not_allowed" "a browser key without an Origin is refused"
is "$(queued s-refused)" 0 "nothing of a refused request is queued"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE error_code='origin_not_allowed'")" 0 \
  "a refused origin is not recorded as an event either"

# --- write and read keys from a web page ----------------------------------------
req POST /v1/events -H "Authorization: Bearer $WKEY" -H "Origin: $SHOP" \
  -H 'Content-Type: application/json' --data-binary "$(event s-wkey)"
is "$HTTP_STATUS|$(code)|$(header Access-Control-Allow-Origin)" "403|origin_not_allowed|" \
  "a write key from a web page is refused"
req GET "/v1/events?session=s-allowed" -H "Authorization: Bearer $RKEY" -H "Origin: $SHOP"
is "$HTTP_STATUS|$(code)" "403|origin_not_allowed" "a read key from a web page is refused"
req POST /v1/events -H "Authorization: Bearer $WKEY" \
  -H 'Content-Type: application/json' --data-binary "$(event s-wkey)"
is "$HTTP_STATUS|$(header Vary)|$(header Access-Control-Allow-Origin)" "202||" \
  "a write key from a server works as before, without CORS headers"
req GET "/v1/events" -H "Authorization: Bearer $BKEY" -H "Origin: $SHOP"
is "$HTTP_STATUS|$(code)" "403|wrong_scope" "a browser key cannot read"

# --- the key in the URL, text/plain (sendBeacon) -------------------------------
req POST "/v1/events?key=$BKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain;charset=UTF-8' \
  --data-binary "$(event s-beacon)"
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)" "202|$SHOP" \
  "a browser key in the URL with a text/plain body is accepted"
is "$(queued s-beacon)" 1 "the text/plain body was read as JSON"
req POST "/v1/events?key=$WKEY" -H 'Content-Type: application/json' --data-binary "$(event s-wurl)"
is "$HTTP_STATUS|$(code)" "400|key_in_url" "a write key in the URL is 400 key_in_url"
req GET "/v1/events?key=$RKEY&session=s-allowed"
is "$HTTP_STATUS|$(code)" "400|key_in_url" "a read key in the URL is 400 key_in_url"
is "$(queued s-wurl)" 0 "nothing is queued from a write key in the URL"
req POST "/v1/events?key=$BKEY&key=$BKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' \
  --data-binary "$(event s-twice)"
is "$HTTP_STATUS|$(code)" "401|invalid_key" "two keys in the URL are refused"
req POST "/v1/events?key=eye_nonsense" -H "Origin: $SHOP" -H 'Content-Type: text/plain' \
  --data-binary "$(event s-twice)"
is "$HTTP_STATUS|$(code)" "401|invalid_key" "a malformed key in the URL is 401 invalid_key"
req POST /v1/events -H "Authorization: Bearer $WKEY" -H 'Content-Type: text/plain' \
  --data-binary "$(event s-wplain)"
is "$HTTP_STATUS|$(code)" "415|unsupported_media_type" "text/plain stays refused for write keys"
req POST "/v1/events?key=$BKEY" -H "Origin: $SHOP" -H 'Content-Type: text/html' \
  --data-binary "$(event s-html)"
is "$HTTP_STATUS|$(code)" "415|unsupported_media_type" "a browser key's body is still only JSON"

# --- preflights ----------------------------------------------------------------
req OPTIONS /v1/events -H "Origin: $SHOP" -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type,authorization'
is "$HTTP_STATUS" 204 "a preflight from an origin some browser key is bound to is 204"
is "$(header Access-Control-Allow-Origin)" "$SHOP" "... allowing that origin"
is "$(header Access-Control-Allow-Methods)" "POST" "... for POST"
like "$(header Access-Control-Allow-Headers)" "Authorization, Content-Type" "... with Authorization and Content-Type"
is "$(header Access-Control-Max-Age)" 300 "... cached for browser.preflight_max_age_seconds"
is "$(header Vary)" Origin "... varying by Origin"
req OPTIONS /v1/events -H "Origin: http://evil.test" -H 'Access-Control-Request-Method: POST'
is "$HTTP_STATUS|$(code)|$(header Access-Control-Allow-Origin)" "403|origin_not_allowed|" \
  "a preflight from an unknown origin is refused"
req OPTIONS "/v1/events?key=$BKEY2" -H "Origin: $SHOP" -H 'Access-Control-Request-Method: POST'
is "$HTTP_STATUS|$(code)" "403|origin_not_allowed" "a preflight with a key in the URL is checked against that key"
req OPTIONS "/v1/events?key=$BKEY" -H "Origin: $SHOP" -H 'Access-Control-Request-Method: POST'
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)" "204|$SHOP" "... and allowed for its own origins"
req OPTIONS /v1/events
is "$HTTP_STATUS|$(header Allow)" "204|GET, POST, OPTIONS" "OPTIONS without an Origin answers Allow"
req PUT /v1/events
is "$HTTP_STATUS|$(header Allow)" "405|GET, POST, OPTIONS" "405 lists OPTIONS"

# --- limits of browser keys -------------------------------------------------------
LKEY=$(stack_admin key create web --browser --origin $SHOP 2>/dev/null)
# three events with 2,000-character paths: above 4096 bytes, within the rules
big=$(for i in 1 2 3; do
  printf '{"session_id":"s-big","category":"page interaction","name":"pageview","data":{"host":"shop.test","path":"/%02000d"},"timestamp":"2021-01-01 09:15:27"}\n' 0
done | paste -sd, | sed 's/^/[/; s/$/]/')
req POST "/v1/events?key=$LKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' --data-binary "$big"
is "$HTTP_STATUS|$(code)" "413|body_too_large" "a browser key's body above browser.max_body_bytes is 413"
req POST /v1/events -H "Authorization: Bearer $WKEY" -H 'Content-Type: application/json' --data-binary "$big"
is "$HTTP_STATUS" 202 "the same body from a write key is accepted"
six=$(for i in 1 2 3 4 5 6; do event s-six; done | sed 's/\]\[/,/g')
req POST "/v1/events?key=$LKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' --data-binary "$six"
is "$HTTP_STATUS|$(code)" "413|too_many_events" "six events from a browser key (limit 5) are 413 too_many_events"
is "$(queued s-six)" 0 "none of them is queued as an event"
req POST /v1/events -H "Authorization: Bearer $WKEY" -H 'Content-Type: application/json' --data-binary "$six"
is "$HTTP_STATUS|$(queued s-six)" "202|6" "six events from a write key are accepted"

# --- rate limit ------------------------------------------------------------------
# 6 tokens per process (lighttpd runs 2), 1 more per second: 20 requests at
# once cannot all pass.
QKEY=$(stack_admin key create web --browser --origin $SHOP 2>/dev/null)
n202=0 n429=0 retry= acao=
for i in $(seq 1 20); do
  req POST "/v1/events?key=$QKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' \
    --data-binary "$(event s-rate)"
  case $HTTP_STATUS in
    202) n202=$((n202 + 1)) ;;
    429) n429=$((n429 + 1)); retry=$(header Retry-After); acao=$(header Access-Control-Allow-Origin); c=$(code) ;;
  esac
done
diag "20 requests at once: $n202 accepted, $n429 refused"
ok $([ $n429 -gt 0 ] && [ $((n202 + n429)) = 20 ]; echo $?) "a browser key above its rate limit gets 429"
is "${c:-}" rate_limited "... with code rate_limited"
like "$retry" '^[1-9][0-9]*$' "... and Retry-After in whole seconds"
is "$acao" "$SHOP" "... readable by the page (CORS headers on the 429)"
ok $([ $n202 -le 16 ] && [ $n202 -ge 6 ]; echo $?) "between one burst and two bursts plus refills got through ($n202)"
is "$(queued s-rate)" "$n202" "exactly the accepted requests were queued"
sleep 2
req POST "/v1/events?key=$QKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' --data-binary "$(event s-rate2)"
is "$HTTP_STATUS" 202 "after Retry-After the key is accepted again"
req POST "/v1/events?key=$LKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' --data-binary "$(event s-other)"
is "$HTTP_STATUS" 202 "another browser key has its own allowance"

# --- allow_server_keys ------------------------------------------------------------
echo "  allow_server_keys: true" >>"$STACK_CONFIG"
stack_lighttpd_stop
stack_lighttpd_start || bail "lighttpd did not start again"
req POST /v1/events -H "Authorization: Bearer $WKEY" -H "Origin: $SHOP" \
  -H 'Content-Type: application/json' --data-binary "$(event s-wpage)"
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)" "202|$SHOP" \
  "with browser.allow_server_keys a write key is accepted from a page"
req POST "/v1/events?key=$WKEY" -H "Origin: $SHOP" -H 'Content-Type: application/json' --data-binary "$(event s-wpage2)"
is "$HTTP_STATUS|$(code)" "400|key_in_url" "... but never in the URL"

# --- GET /eye.js ----------------------------------------------------------------------
req GET /eye.js
is "$HTTP_STATUS" 200 "lighttpd serves /eye.js"
is "$(header Content-Type)" "text/javascript; charset=utf-8" "... as JavaScript"
is "$(header Cache-Control)" "public, max-age=3600" "... with a cache header"
is "$HTTP_BODY" "$(cat "$EYE_SRCDIR/client/js/eye.js")" "... the tracker of the source tree"
etag=$(header ETag)
req GET /eye.js -H "If-None-Match: $etag"
is "$HTTP_STATUS" 304 "... and revalidates (304 for its ETag)"
req GET '/eye.js?v=2'
is "$HTTP_STATUS|$(header Content-Type)" "200|text/javascript; charset=utf-8" "... also with a query string (cache busting)"
req GET /eye.jsx
is "$HTTP_STATUS|$(code)" "404|not_found" "other paths still reach eye.fcgi"

# --- the same under Apache + mod_fcgid ------------------------------------------------
apache_available
ok $? "apache2 and mod_fcgid are installed (apt-get install apache2 libapache2-mod-fcgid)"
apache_start || bail "Apache did not start"
LIGHTTPD_BASE=$BASE
BASE=$APACHE_BASE
req GET /eye.js
is "$HTTP_STATUS|$(header Content-Type)|$(header Cache-Control)" \
  "200|text/javascript; charset=utf-8|public, max-age=3600" "apache: /eye.js is served as JavaScript with a cache header"
is "$HTTP_BODY" "$(cat "$EYE_SRCDIR/client/js/eye.js")" "apache: ... the tracker of the source tree"
req OPTIONS /v1/events -H "Origin: $SHOP" -H 'Access-Control-Request-Method: POST'
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)|$(header Access-Control-Allow-Methods)|$(header Vary)" \
  "204|$SHOP|POST|Origin" "apache: preflights reach eye.fcgi"
AKEY=$(stack_admin key create web --browser --origin $SHOP 2>/dev/null)
req POST "/v1/events?key=$AKEY" -H "Origin: $SHOP" -H 'Content-Type: text/plain' --data-binary "$(event s-apache)"
is "$HTTP_STATUS|$(header Access-Control-Allow-Origin)|$(queued s-apache)" "202|$SHOP|1" \
  "apache: a browser key in the URL with text/plain is accepted, with CORS headers"
req POST "/v1/events?key=$AKEY" -H "Origin: http://evil.test" -H 'Content-Type: text/plain' --data-binary "$(event s-apache2)"
is "$HTTP_STATUS|$(code)|$(header Access-Control-Allow-Origin)" "403|origin_not_allowed|" \
  "apache: another origin is 403 origin_not_allowed (eye.fcgi's answer, not an ErrorDocument)"
req POST "/v1/events?key=$WKEY" -H 'Content-Type: application/json' --data-binary "$(event s-apache3)"
is "$HTTP_STATUS|$(code)" "400|key_in_url" "apache: a write key in the URL is 400 key_in_url"
apache_stop
is "$(apache_reports)" "" "apache: no sanitizer reports from eye.fcgi under Apache"
BASE=$LIGHTTPD_BASE

harness_finish
