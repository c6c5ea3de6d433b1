#!/bin/bash
# browser_js.sh - the tracker (client/js/eye.js) in a real headless
# Chromium against the real stack (issue 15): MariaDB, lighttpd spawning
# eye.fcgi, eye-spool. The page under test (tests/browser/page.html) is
# served by a second web server on another port and host name, so every
# request is cross-origin and CORS is really exercised; the browser is
# driven by tests/browser/driver.py (python3-selenium + chromium-driver).
# Every case is checked in MariaDB after the spool ran.
. "$EYE_SRCDIR/tests/lib/harness.sh"
PY=/usr/bin/python3 # Debian's, with python3-selenium

# --- tools -------------------------------------------------------------------------
need=()
for p in chromium chromium-driver python3-selenium; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -q "${need[@]}" >"$STACK_DIR/apt.log" 2>&1
  ok $? "installed ${need[*]}" || tail -5 "$STACK_DIR/apt.log" | sed 's/^/# /'
fi

size=$(gzip -9c "$EYE_SRCDIR/client/js/eye.js" | wc -c)
diag "eye.js: $(wc -c <"$EYE_SRCDIR/client/js/eye.js") bytes, $size bytes gzipped"
ok $([ "$size" -le 4096 ]; echo $?) "eye.js is at most 4 KiB gzipped ($size bytes)"

harness_start
# A small rate limit, so that the burst below meets it; each case has its
# own key, so only the burst does.
cat >>"$STACK_CONFIG" <<CONF
browser:
  rate_limit_per_second: 5
  rate_limit_burst: 10
CONF
stack_lighttpd_stop
stack_lighttpd_start || bail "lighttpd did not start again"

SPOOL=$EYE_BUILDDIR/spool/eye-spool
SPOOL_PID= PAGE_PID= DRIVER_PID=
browser_cleanup() {
  local rc=$?
  [ -n "$DRIVER_PID" ] && kill "$DRIVER_PID" 2>/dev/null && wait "$DRIVER_PID" 2>/dev/null
  [ -n "$PAGE_PID" ] && kill "$PAGE_PID" 2>/dev/null && wait "$PAGE_PID" 2>/dev/null
  [ -n "$SPOOL_PID" ] && kill "$SPOOL_PID" 2>/dev/null && wait "$SPOOL_PID" 2>/dev/null
  (exit $rc)
  harness_cleanup
}
trap browser_cleanup EXIT
"$SPOOL" --config "$STACK_CONFIG" >"$STACK_DIR/spool.log" 2>&1 &
SPOOL_PID=$!

# The page's web server: another port, reached as shop.test and evil.test
# (Chromium maps both to 127.0.0.1), so The Eye at 127.0.0.1 is another
# origin.
SITE=$STACK_DIR/site
mkdir -p "$SITE"
cp "$EYE_SRCDIR/tests/browser/page.html" "$SITE/"
cat >"$SITE/config.js" <<JS
var EYE_URL = '$BASE';
document.write('<script src="' + EYE_URL + '/eye.js"><\/script>');
JS
PAGE_PORT=$(stack_free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$SITE" "$PAGE_PORT" >"$STACK_DIR/site.log" 2>&1 &
PAGE_PID=$!
for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PAGE_PORT/page.html" && break; sleep 0.1; done
SHOP="http://shop.test:$PAGE_PORT"

# key NAME: a browser key of application "site" bound to the shop's origin.
stack_admin app create site --browser --origin "$SHOP" >"$STACK_DIR/key.site" 2>/dev/null
key() { stack_admin key create site --browser --origin "$SHOP" 2>/dev/null; }
# drive CASE URL [ARG]: runs the driver, its output in $STACK_DIR/CASE.out.
drive() {
  timeout 180 "$PY" "$EYE_SRCDIR/tests/browser/driver.py" "$@" >"$STACK_DIR/$1.out" 2>"$STACK_DIR/$1.err"
  local rc=$?
  [ $rc -ne 0 ] && tail -5 "$STACK_DIR/$1.err" | sed 's/^/# /'
  return $rc
}
val() { sed -n "s/^$2=//p" "$STACK_DIR/$1.out" | tail -1; }
# rows SESSION: events stored for the session (after the queue drained).
rows() { sql "SELECT COUNT(*) FROM v_events WHERE session_id='$1'"; }

# --- autocapture: pageview, click, form submit, history navigation -------------------
K=$(key)
drive autocapture "$SHOP/page.html?key=$K&sid=auto-1&auto=1"
ok $? "the autocapture page was driven"
wait_drained 20; ok $? "the queue drained"
is "$(sql "SELECT name, JSON_VALUE(data,'$.host'), JSON_VALUE(data,'$.path') FROM v_events WHERE session_id='auto-1' AND name='pageview' ORDER BY occurred_at, id" | paste -sd'|')" \
  "pageview	shop.test	/page.html|pageview	shop.test	/checkout|pageview	shop.test	/checkout/pay|pageview	shop.test	/checkout" \
  "pageviews on load, on pushState and on popstate, with the host without its port"
is "$(sql "SELECT JSON_VALUE(data,'$.element'), JSON_VALUE(data,'$.path') FROM v_events WHERE session_id='auto-1' AND name='cta click'")" \
  "chat bubble	/page.html" "a click inside a data-eye-element is one cta click with its element"
is "$(sql "SELECT JSON_COMPACT(JSON_EXTRACT(data,'$.form')) FROM v_events WHERE session_id='auto-1' AND category='form interaction' AND name='submit'")" \
  '{"first_name":"John","last_name":"Doe"}' "the submit carries the listed fields only: no password, no unlisted field"
is "$(rows auto-1)" 6 "six events in all, each stored once"
is "$(sql "SELECT COUNT(*) FROM v_events WHERE session_id='auto-1' AND user_agent LIKE '%Chrome/%' AND client_ip = '127.0.0.0'")" 6 \
  "each carries its context: Chromium's user agent, the address cut to its /24"
is "$(sql "SELECT COUNT(*) FROM event_errors")" 0 "none was rejected"
is "$(val autocapture rejected)" "[]" "onReject was not called"
is "$(val autocapture uncaught)" 0 "nothing was thrown into the page"

# --- track, then leave the page at once: the beacon ------------------------------------
K=$(key)
drive beacon "$SHOP/page.html?key=$K&sid=beacon-1&interval=60000" 5
ok $? "the beacon page was driven"
sleep 1; wait_drained 20
is "$(rows beacon-1)" 5 "events tracked just before navigating away arrive (sendBeacon)"

# --- reload with events pending: sent once, from localStorage -------------------------
K=$(key)
drive reload "$SHOP/page.html?key=$K&sid=reload-1&interval=60000" 4
ok $? "the reload page was driven"
is "$(val reload stored_before_reload)" 4 "the pending events were kept in localStorage"
wait_drained 20
is "$(rows reload-1)" 4 "after the reload they are sent, once each"

# --- MariaDB down: 503s, then everything once -------------------------------------------
K=$(key)
# A first request, so the key is known (cached) when the database goes away.
drive outage "$SHOP/page.html?key=$K&sid=outage-0" 1 >/dev/null
stack_mariadb_stop
timeout 180 "$PY" "$EYE_SRCDIR/tests/browser/driver.py" outage "$SHOP/page.html?key=$K&sid=outage-1" 20 \
  >"$STACK_DIR/outage.out" 2>"$STACK_DIR/outage.err" &
DRIVER_PID=$!
sleep 6
kill -0 "$DRIVER_PID" 2>/dev/null
ok $? "the page is still waiting for its events while MariaDB is down"
stack_mariadb_start || bail "MariaDB did not start again"
wait "$DRIVER_PID"
ok $? "flush() resolved once MariaDB was back"
DRIVER_PID=
diag "outage: flush took $(val outage flush_s) s"
ok $(grep -q '" 503 ' "$STACK_DIR/lighttpd-access.log"; echo $?) "the tracker was answered 503 meanwhile"
wait_drained 30
is "$(rows outage-1)" 20 "all 20 events arrive, once each"

# --- offline, then online ----------------------------------------------------------------
K=$(key)
drive offline "$SHOP/page.html?key=$K&sid=offline-1" 3
ok $? "the offline page was driven"
is "$(val offline online_while_offline)" False "the browser was offline"
wait_drained 20
is "$(rows offline-1)" 3 "events tracked offline arrive once the browser is online"
is "$(sql "SELECT MIN(UNIX_TIMESTAMP(received_at)) >= $(val offline online_at) - 0.5 FROM v_events WHERE session_id='offline-1'")" 1 \
  "... and only then"

# --- a page on an origin the key is not bound to ---------------------------------------
K=$(key)
drive refused "http://evil.test:$PAGE_PORT/page.html?key=$K&sid=refused-1&auto=1"
ok $? "the page on another origin was driven"
is "$(val refused page_ok)|$(val refused title)|$(val refused uncaught)" "True|still working|0" \
  "the page's own script keeps working, nothing thrown"
sleep 1; wait_drained 10
is "$(rows refused-1)$(sql "SELECT COUNT(*) FROM event_queue")$(sql "SELECT COUNT(*) FROM event_errors")" "000" \
  "nothing from that page is stored"
ok $(grep -q "POST /v1/events?key=${K:0:12}.* 403 " "$STACK_DIR/lighttpd-access.log"; echo $?) \
  "the server refused it (403)"

# --- a write key in the page: 400 key_in_url, nothing stored ----------------------------
WKEY=$(stack_admin app create server-side 2>/dev/null)
drive refused "$SHOP/page.html?key=$WKEY&sid=wkey-1&auto=1"
ok $? "a page with a write key was driven"
is "$(val refused page_ok)|$(val refused uncaught)" "True|0" "the page keeps working"
ok $(grep -q "POST /v1/events?key=${WKEY:0:12}.* 400 " "$STACK_DIR/lighttpd-access.log"; echo $?) \
  "the server answered 400 (key_in_url)"
sleep 1; wait_drained 10
is "$(rows wkey-1)" 0 "nothing from it is stored"

# --- 1,000 events in a burst, through the rate limit ------------------------------------
K=$(key)
drive burst "$SHOP/page.html?key=$K&sid=burst-1" 1000
ok $? "the burst page was driven"
is "$(val burst tracked)" 1000 "track() returned 1,000 distinct event ids"
n429=$(grep -c "POST /v1/events?key=${K:0:12}.* 429 " "$STACK_DIR/lighttpd-access.log")
nreq=$(grep -c "POST /v1/events?key=${K:0:12}" "$STACK_DIR/lighttpd-access.log")
diag "burst: tracked in $(val burst track_ms) ms, flushed in $(val burst flush_s) s, $nreq requests, $n429 answered 429"
ok $([ "$n429" -gt 0 ]; echo $?) "the rate limit answered 429"
# One tab sends one request at a time and waits Retry-After (at least 1 s)
# after a 429: a tracker that did not back off would collect hundreds.
flush_s=$(val burst flush_s)
ok $([ "$n429" -le $((${flush_s%.*} + 2)) ]; echo $?) \
  "the tracker backed off: at most one 429 per second of the flush ($n429 in $flush_s s)"
wait_drained 30
is "$(rows burst-1)" 1000 "exactly 1,000 rows"
is "$(val burst rejected)" "[]" "none rejected"

harness_finish
