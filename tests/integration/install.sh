#!/bin/bash
# install.sh - the installed layout works on its own (issue 8): `make
# install DESTDIR=...` from the build tree into a temporary folder, then the
# INSTALLED programs, config, rules, migrations and example web server
# configurations bring The Eye up against a private MariaDB: installed
# eye-admin migrates and creates a key, lighttpd runs from the installed
# example lighttpd.conf spawning the installed eye.fcgi (and Apache from
# the installed apache-eye.conf, when installed), events get 202, and the
# installed eye-spool stores them. Nothing from the source or build tree is
# used once installed. Ends with `make uninstall`, which must remove it all.
. "$EYE_SRCDIR/tests/lib/harness.sh"
. "$EYE_SRCDIR/tests/lib/apache.sh"
D=$STACK_DIR/destdir

make -s -C "$EYE_BUILDDIR" install DESTDIR="$D" >"$STACK_DIR/install.log" 2>&1
ok $? "make install DESTDIR=... succeeds" || tail -20 "$STACK_DIR/install.log" | sed 's/^/# /'
eval "$(make -s -C "$EYE_BUILDDIR" print-install-dirs 2>/dev/null | grep '^bindir=\|^pkgdatadir=\|^prefix=')"
: "${bindir:?} ${pkgdatadir:?}"

# --- the layout ---------------------------------------------------------------
for f in "$bindir/eye-admin" "$bindir/eye-spool" "$libexecdir/eye.fcgi"; do
  [ -x "$D$f" ]; ok $? "program installed: $f"
done
for f in "$sysconfdir/eye/eye.yaml" "$pkgdatadir/rules/_envelope.yaml" "$pkgdatadir/migrations/001_initial.sql" \
  "$pkgdatadir/examples/lighttpd.conf" "$pkgdatadir/examples/apache-eye.conf" \
  "$systemdsystemunitdir/eye-spool.service" "$systemdsystemunitdir/eye-spool@.service" \
  "$mandir/man1/eye-admin.1" "$mandir/man8/eye-spool.8" "$mandir/man8/eye.fcgi.8" "$mandir/man5/eye.yaml.5"; do
  [ -f "$D$f" ]; ok $? "installed: $f"
done
is "$(ls "$D$pkgdatadir"/migrations/*.sql | wc -l)" "$(ls "$EYE_SRCDIR"/migrations/[0-9]*.sql | wc -l)" \
  "every migration is installed"
is "$(ls "$D$pkgdatadir"/rules/*.yaml | wc -l)" "$(ls "$EYE_SRCDIR"/rules/*.yaml | wc -l)" "every rule file is installed"
left=$(grep -rlE '@(bindir|sbindir|libexecdir|sysconfdir|pkgdatadir|systemdsystemunitdir|PACKAGE_VERSION)@' \
  "$D$pkgdatadir/examples" "$D$systemdsystemunitdir" "$D$mandir" 2>/dev/null)
is "$left" "" "no @dir@ placeholder is left in installed files"
leaked=$(grep -rlF -e "$EYE_BUILDDIR" -e "$EYE_SRCDIR" "$D$pkgdatadir/examples" "$D$systemdsystemunitdir" "$D$mandir" 2>/dev/null)
is "$leaked" "" "installed files name no source or build folder"
like "$(grep '^ExecStart=' "$D$systemdsystemunitdir/eye-spool.service")" \
  "^ExecStart=$bindir/eye-spool --config $sysconfdir/eye/eye.yaml$" "the unit runs the installed eye-spool"
like "$(grep 'Define EYE_FCGI_BIN' "$D$pkgdatadir/examples/apache-eye.conf")" "Define EYE_FCGI_BIN $libexecdir/eye.fcgi$" \
  "the Apache example spawns the installed eye.fcgi"
"$D$bindir/eye-admin" --config "$D$sysconfdir/eye/eye.yaml" config >/dev/null
is $? 0 "the installed eye.yaml loads"
if command -v systemd-analyze >/dev/null; then
  # The units name the final paths, not the DESTDIR ones: check with a copy
  # whose paths point into DESTDIR, so only the unit's own syntax is judged.
  mkdir -p "$STACK_DIR/units"
  for u in eye-spool.service eye-spool@.service; do
    sed "s|$bindir/|$D$bindir/|" "$D$systemdsystemunitdir/$u" >"$STACK_DIR/units/$u"
  done
  cp "$STACK_DIR/units/eye-spool@.service" "$STACK_DIR/units/eye-spool@1.service"
  out=$(cd "$STACK_DIR/units" && systemd-analyze verify --man=no eye-spool.service eye-spool@1.service 2>&1 | grep -v 'getpwnam\|User=eye\|Failed to resolve user')
  is "$out" "" "systemd-analyze verify finds nothing wrong with the units"
fi

# --- bring the installed copy up ----------------------------------------------
stack_mariadb_start || bail "MariaDB did not start"
STACK_CONFIG=$STACK_DIR/eye.yaml
mkdir -p "$STACK_DIR/secrets"
# The installed example, with what differs on this machine changed.
sed -e "s|^\( *socket:\).*|\1 $STACK_DB_SOCKET|" -e "s|/etc/eye/secrets/|$STACK_DIR/secrets/|" \
  "$D$sysconfdir/eye/eye.yaml" >"$STACK_CONFIG"
cat >>"$STACK_CONFIG" <<CONF
migrations_dir: $D$pkgdatadir/migrations
CONF
sed -i "s|^rules:|rules:\n  dir: $D$pkgdatadir/rules|" "$STACK_CONFIG"
iadmin() { "$D$bindir/eye-admin" --config "$STACK_CONFIG" "$@"; }
like "$(iadmin config | grep -A3 '^rules.dir ' | grep 'value:')" "value: +$D$pkgdatadir/rules$" "the config points at the installed rules"

iadmin accounts --generate --admin-only | stack_sql
ok $? "installed eye-admin: admin account created"
out=$(iadmin migrate 2>&1)
like "$out" "$(ls "$EYE_SRCDIR"/migrations/[0-9]*.sql | wc -l) applied now" "installed eye-admin migrate applies the installed migrations"
iadmin accounts --generate | stack_sql
ok $? "installed eye-admin: least-privilege accounts created"
KEY=$(iadmin app create installed 2>/dev/null)
like "$KEY" '^eye_[0-9a-f]{8}_[0-9a-f]{56}_[0-9a-f]{8}$' "installed eye-admin creates a key"

STACK_FCGI_BIN=$D$libexecdir/eye.fcgi STACK_LIGHTTPD_CONF=$D$pkgdatadir/examples/lighttpd.conf \
  stack_lighttpd_start || bail "lighttpd did not start from the installed lighttpd.conf"
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
post_events "$KEY" "$(cat "$EYE_SRCDIR/tests/integration/data/brief_examples.json")"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .accepted)" "202|3" "installed eye.fcgi under lighttpd: the brief's events, 202"
http GET /v1/health
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .event_types)" "200|$(ls "$EYE_SRCDIR"/rules/[a-z]*.yaml | wc -l)" \
  "installed eye.fcgi: health 200 with the installed rules"
like "$(cat "$STACK_DIR/lighttpd-error.log" "$STACK_DIR/lighttpd.out" 2>/dev/null)" "started: [0-9]+ worker threads, group commit (on|off), config $STACK_CONFIG" \
  "lighttpd spawned the installed eye.fcgi with the config"

if apache_available; then
  apache_snippet() { echo "$D$pkgdatadir/examples/apache-eye.conf"; }
  APACHE_FCGI_BIN=$D$libexecdir/eye.fcgi
  apache_start || bail "Apache did not start from the installed apache-eye.conf"
  BASE=$APACHE_BASE
  s=installed-apache
  post_events "$KEY" "$(jq -c --arg s "$s" 'map(.session_id = $s)' "$EYE_SRCDIR/tests/integration/data/brief_examples.json")"
  is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .accepted)" "202|3" "installed eye.fcgi under Apache: 202"
  apache_stop
fi

"$D$bindir/eye-spool" --config "$STACK_CONFIG" --once 2>"$STACK_DIR/spool.err"
ok $? "installed eye-spool --once exits 0"
is "$(sql "SELECT COUNT(*) FROM events WHERE session_id=(SELECT id FROM sessions WHERE session_key='e2085be5-9137-4e4e-80b5-f1ffddc25423')")" 3 \
  "the events are stored by the installed spool"
is "$(sql 'SELECT COUNT(*) FROM event_queue')" 0 "the queue is empty"

# --- the client library and eye-send, installed ------------------------------
for f in "$libdir/libeyeclient.so" "$includedir/eye_client.h" "$libdir/pkgconfig/eyeclient.pc" \
  "$bindir/eye-send" "$mandir/man1/eye-send.1"; do
  [ -e "$D$f" ]; ok $? "installed: $f"
done
exported=$(nm -D --defined-only "$D$libdir/libeyeclient.so" | awk '{print $3}')
printf '%s\n' "$exported" | grep -qx eye_client_new; ok $? "libeyeclient exports eye_client_new"
is "$(printf '%s\n' "$exported" | grep -v '^eye_client_')" "" "libeyeclient exports nothing but eye_client_* symbols"
# The README's example, built as the README says, against the installed
# copy, sending to the installed eye.fcgi under lighttpd.
BASE="http://127.0.0.1:$STACK_HTTP_PORT"
sed -n '/^<!-- client-example -->/,/^<!-- end client-example -->/p' "$EYE_SRCDIR/README.md" | sed '/^<!--/d;/^```/d' \
  >"$STACK_DIR/example.c"
san=
ldd "$D$libdir/libeyeclient.so" | grep -q libasan && san="-fsanitize=address,undefined"
flags=$(PKG_CONFIG_PATH="$D$libdir/pkgconfig" pkg-config --define-variable=prefix="$D$prefix" --cflags --libs eyeclient)
cc -Wall -Werror $san "$STACK_DIR/example.c" $flags -o "$STACK_DIR/example" 2>"$STACK_DIR/example.err"
ok $? "the README's client example builds with \`pkg-config --cflags --libs eyeclient\`" || sed 's/^/# /' "$STACK_DIR/example.err"
out=$(EYE_URL=$BASE EYE_KEY=$KEY LD_LIBRARY_PATH="$D$libdir" "$STACK_DIR/example")
is "$?|$out" "0|sent 1, rejected 0, dropped 0" "the example sends the brief's event through the installed library"
jq -c --arg s installed-send '.[] | .session_id = $s' "$EYE_SRCDIR/tests/integration/data/brief_examples.json" \
  >"$STACK_DIR/brief.ndjson"
out=$(LD_LIBRARY_PATH="$D$libdir" "$D$bindir/eye-send" --url "$BASE" --key "$KEY" "$STACK_DIR/brief.ndjson")
is "$?|$(printf '%s' "$out" | sed -n 's/^sent: *//p')" "0|3" "the installed eye-send sends the brief's events"

# --- uninstall ------------------------------------------------------------------
make -s -C "$EYE_BUILDDIR" uninstall DESTDIR="$D" >>"$STACK_DIR/install.log" 2>&1
ok $? "make uninstall DESTDIR=... succeeds"
is "$(find "$D" -type f | sed "s|^$D||" | sort | tr '\n' ' ')" "" "make uninstall removes every installed file"

harness_finish
