#!/bin/bash
# debian.sh - the Debian packages (issue 18), built and used as an operator
# would: `dpkg-buildpackage -us -uc -b` in a copy of the source tree (the
# tree itself is never written to), lintian with no error and no warning,
# then the packages installed with apt into a clean Debian 12 made by
# `debootstrap --variant=minbase bookworm` (dependencies resolved from this
# machine's mirror), where a MariaDB installed from Debian runs. There the
# README's production steps are followed with the packaged programs:
# eye-admin accounts and migrate, lighttpd from the packaged example
# spawning the packaged eye.fcgi as www-data, a POST answered 202, the
# packaged eye-spool (as the system user the package created) storing it,
# eye-send sending through libeyeclient0. Then `apt-get remove` and
# `apt-get purge`, and what Debian policy says must be left is checked:
# conffiles (as the operator edited them) and password files after remove,
# nothing of /etc/eye after purge, the system user kept, the database never
# touched by any maintainer script.
#
# The minbase tree is made once and kept under /var/cache/the-eye-tests
# (EYE_TEST_DEBIAN_CACHE), with the .debs apt downloads, so a rerun takes
# no debootstrap and no download; each run works on an overlay of it.
. "$EYE_SRCDIR/tests/lib/harness.sh"

CACHE=${EYE_TEST_DEBIAN_CACHE:-/var/cache/the-eye-tests}
BASE=$CACHE/bookworm-minbase
ARCHIVES=$CACHE/apt-archives
CH=$STACK_DIR/chroot
R=$CH/root
T0=$(date +%s)

# --- tools on the host --------------------------------------------------------
need=()
for p in dpkg-dev debhelper lintian debootstrap; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive flock /tmp/apt.lock apt-get install -y -q "${need[@]}" >"$STACK_DIR/apt-host.log" 2>&1
  ok $? "installed the packaging tools: ${need[*]}" || tail -5 "$STACK_DIR/apt-host.log" | sed 's/^/# /'
fi
[ "$(id -u)" = 0 ] || bail "this test needs root (chroot, mounts)"

# --- the chroot's processes and mounts, cleaned up on every exit -----------------
# Processes whose root is the chroot: the servers this test started there.
chroot_pids() {
  local p root
  for p in /proc/[0-9]*; do
    root=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$root" = "$R" ] && echo "${p#/proc/}"
  done
}
chroot_cleanup() {
  local p
  if [ -d "$R" ]; then
    for p in $(chroot_pids); do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 100); do [ -z "$(chroot_pids)" ] && break; sleep 0.1; done
    for p in $(chroot_pids); do kill -KILL "$p" 2>/dev/null; done
  fi
  for m in "$R/var/cache/apt/archives" "$R/dev" "$R/proc" "$R"; do
    mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m"; }
  done
  # Never let the harness remove a folder that still has a mount inside.
  if grep -qF " $STACK_DIR/" /proc/mounts; then
    echo "# mounts left under $STACK_DIR: kept"
    EYE_TEST_KEEP=1
  fi
}
trap 'rc=$?; chroot_cleanup; (exit $rc); harness_cleanup' EXIT

# in_chroot CMD...: runs CMD in the chroot as root with a clean environment.
in_chroot() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    chroot "$R" "$@"
}
# chroot_apt ARGS...: apt-get in the chroot; the shared download cache is
# locked so concurrent runs do not race on it.
chroot_apt() {
  flock "$CACHE/apt-archives.lock" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get -q -y -o Acquire::Retries=3 "$@"
}
# dpkg_status PKG: dpkg's state of PKG in the chroot ("" when unknown).
dpkg_status() { in_chroot dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
db() { in_chroot mariadb -N -B -e "$1"; }

# --- build the packages from a copy of the tree ----------------------------------
t=$(date +%s)
SRC=$STACK_DIR/src/the-eye
mkdir -p "$SRC"
if git -C "$EYE_SRCDIR" rev-parse --show-toplevel >/dev/null 2>&1; then
  # Tracked and new files as they are in the work tree, nothing ignored
  # (no build folders, no generated autotools files).
  (cd "$EYE_SRCDIR" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$SRC" -xf -
else
  tar -C "$EYE_SRCDIR" --exclude='./build' --exclude='./build-*' --exclude=./autom4te.cache -cf - . | tar -C "$SRC" -xf -
fi
[ -f "$SRC/debian/control" ]
ok $? "the source tree is copied (with debian/)" || bail "no debian/ folder"
is "$(cd "$SRC" && dpkg-parsechangelog -S Version)" \
  "$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")" \
  "debian/changelog's version is configure.ac's"
(cd "$SRC" && dpkg-checkbuilddeps) >"$STACK_DIR/builddeps.log" 2>&1
ok $? "dpkg-checkbuilddeps: the build dependencies are installed" || sed 's/^/# /' "$STACK_DIR/builddeps.log"
before=$(cd "$EYE_SRCDIR" && git status --porcelain --ignored 2>/dev/null | md5sum)
# Not make's variables of the `make check` this runs under: its TESTS=...
# would reach the package build's own `make check` and run this test again.
(cd "$SRC" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u EYE_SRCDIR -u EYE_BUILDDIR \
  DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) >"$STACK_DIR/build.log" 2>&1
ok $? "dpkg-buildpackage -us -uc -b succeeds" || { tail -30 "$STACK_DIR/build.log" | sed 's/^/# /'; bail "no packages"; }
is "$(cd "$EYE_SRCDIR" && git status --porcelain --ignored 2>/dev/null | md5sum)" "$before" \
  "the source tree is left as it was"
like "$(grep -c '^PASS: tests/unit/' "$STACK_DIR/build.log")|$(grep -c '^FAIL: ' "$STACK_DIR/build.log")" '^[1-9][0-9]*\|0$' \
  "the unit tests ran in the package build, none failed"
DEBS=$STACK_DIR/src
for p in the-eye libeyeclient0 libeyeclient-dev eye-send; do
  [ -f "$(ls "$DEBS/${p}_"*.deb 2>/dev/null | head -1)" ]
  ok $? "package built: $p"
done
contents() { dpkg-deb -c "$DEBS/$1"_*.deb | awk '{print $6}' | sed 's|^\./|/|'; }
c=$(contents the-eye)
for f in /usr/libexec/eye.fcgi /usr/bin/eye-spool /usr/bin/eye-admin /etc/eye/eye.yaml \
  /usr/share/the-eye/rules/_envelope.yaml /usr/share/the-eye/migrations/001_initial.sql \
  /usr/share/the-eye/examples/lighttpd.conf /usr/share/the-eye/examples/apache-eye.conf \
  /lib/systemd/system/eye-spool.service /lib/systemd/system/eye-spool@.service \
  /usr/share/man/man1/eye-admin.1.gz /usr/share/man/man8/eye-spool.8.gz /usr/share/man/man8/eye.fcgi.8.gz \
  /usr/share/man/man5/eye.yaml.5.gz; do
  printf '%s\n' "$c" | grep -qx "$f"; ok $? "the-eye ships $f"
done
is "$(dpkg-deb -f "$DEBS"/the-eye_*.deb Depends | tr ',' '\n' | grep -c 'adduser\|libfcgi\|libmariadb\|libjson-c\|libyaml')" 5 \
  "the-eye depends on adduser and its libraries"
is "$(dpkg-deb --ctrl-tarfile "$DEBS"/the-eye_*.deb | tar -xOf - ./conffiles)" "/etc/eye/eye.yaml" \
  "/etc/eye/eye.yaml is a conffile"
c=$(contents libeyeclient0; contents libeyeclient-dev; contents eye-send)
for f in /usr/lib/x86_64-linux-gnu/libeyeclient.so.0 /usr/include/eye_client.h /usr/lib/x86_64-linux-gnu/libeyeclient.so \
  /usr/lib/x86_64-linux-gnu/pkgconfig/eyeclient.pc /usr/bin/eye-send /usr/share/man/man1/eye-send.1.gz; do
  printf '%s\n' "$c" | grep -qx "$(printf '%s' "$f" | sed "s|x86_64-linux-gnu|$(dpkg-architecture -qDEB_HOST_MULTIARCH)|")"
  ok $? "the client packages ship $f"
done
like "$(dpkg-deb -f "$DEBS"/eye-send_*.deb Depends)" 'libeyeclient0 \(>= 0\.1\.0\)' \
  "eye-send depends on libeyeclient0 through its symbols file"
diag "build: $(($(date +%s) - t)) s"

# --- lintian ----------------------------------------------------------------------
t=$(date +%s)
lintian --fail-on error,warning --display-info --pedantic "$DEBS"/the-eye_*.changes >"$STACK_DIR/lintian.log" 2>&1
rc=$?
grep -v 'running with root privileges' "$STACK_DIR/lintian.log" | sed 's/^/# lintian: /'
is "$rc|$(grep -c '^[EW]: ' "$STACK_DIR/lintian.log")" "0|0" "lintian: no error and no warning on the packages"
overrides=$(find "$SRC/debian" -name '*lintian-overrides' 2>/dev/null)
bare=0
for f in $overrides; do
  # Each override must come after a comment giving its reason.
  awk '/^#/ {c=1; next} /^[[:space:]]*$/ {next} {if (!c) bad=1; c=0} END {exit bad}' "$f" || bare=1
done
is "$bare" 0 "every lintian override has a written reason"
diag "lintian: $(($(date +%s) - t)) s"

# --- a clean Debian 12 ----------------------------------------------------------------
# debian_mirror: the Debian mirror this machine's apt uses for bookworm.
debian_mirror() {
  local f m
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case $f in
    *.sources)
      m=$(awk '/^URIs:/ {u=$2} /^Suites:/ {if ($0 ~ /[ \t]bookworm([ \t]|$)/ && u != "") {print u; exit}} /^$/ {u=""}' "$f")
      ;;
    *) m=$(sed -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}') ;;
    esac
    [ -n "$m" ] && { echo "$m"; return 0; }
  done
  return 1
}
t=$(date +%s)
MIRROR=$(debian_mirror)
ok $? "this machine's Debian mirror: $MIRROR"
mkdir -p "$CACHE" "$ARCHIVES/partial"
(
  flock 9
  if [ ! -x "$BASE/usr/bin/apt-get" ]; then
    rm -rf "$BASE.tmp"
    debootstrap --variant=minbase bookworm "$BASE.tmp" "$MIRROR" >"$STACK_DIR/debootstrap.log" 2>&1 &&
      mv "$BASE.tmp" "$BASE"
  fi
) 9>"$CACHE/bookworm-minbase.lock"
[ -x "$BASE/usr/bin/apt-get" ]
ok $? "debootstrap --variant=minbase bookworm (kept in $BASE)" || { tail -20 "$STACK_DIR/debootstrap.log" | sed 's/^/# /'; bail "no chroot"; }
diag "debootstrap (0 when cached): $(($(date +%s) - t)) s"

# This run's root: an overlay on the cached tree (a copy where overlayfs
# is not available), so the cached tree stays clean.
mkdir -p "$CH/upper" "$CH/work" "$R"
if ! mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$CH/upper,workdir=$CH/work" "$R" 2>/dev/null; then
  diag "overlayfs unavailable: copying the tree"
  cp -a "$BASE/." "$R/"
fi
mount -t proc proc "$R/proc"
# A private /dev with the few nodes apt, dpkg and the servers use.
mount -t tmpfs -o mode=755,size=1m tmpfs "$R/dev"
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<<"$n"
  mknod -m 666 "$R/dev/$name" c "$major" "$minor"
done
mount --bind "$ARCHIVES" "$R/var/cache/apt/archives"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# The machine's own apt sources (the same mirror, with updates and
# security), only those on that mirror's hosts.
rm -f "$R/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && grep -q "${MIRROR%/debian}" "$f" && cp "$f" "$R/etc/apt/sources.list.d/host-$(basename "$f" | sed 's/^sources\.list$/sources.list.list/')"
done
# No service starts inside the chroot: the test starts what it needs.
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
mkdir -p "$R/debs" && cp "$DEBS"/*.deb "$R/debs/" && rm -f "$R"/debs/*-dbgsym_*.deb
# chroot_deb PKG: the path of PKG's .deb as the chroot sees it.
chroot_deb() { echo "/debs/$(basename "$(ls "$DEBS/$1"_*.deb)")"; }
is "$(in_chroot sh -c '. /etc/os-release; echo $VERSION_CODENAME')|$(dpkg_status the-eye)" "bookworm|" \
  "the chroot is Debian bookworm without The Eye"

t=$(date +%s)
chroot_apt update >"$STACK_DIR/apt.log" 2>&1
ok $? "apt-get update in the chroot" || tail -10 "$STACK_DIR/apt.log" | sed 's/^/# /'
# The database server first, running, so the packages' maintainer scripts
# would find it if they tried to touch it.
chroot_apt install --no-install-recommends mariadb-server lighttpd lighttpd-modules-lua curl >>"$STACK_DIR/apt.log" 2>&1
ok $? "apt-get install mariadb-server lighttpd lighttpd-modules-lua curl" || tail -10 "$STACK_DIR/apt.log" | sed 's/^/# /'
diag "apt (servers): $(($(date +%s) - t)) s"

in_chroot install -d -o mysql -g mysql /run/mysqld
in_chroot sh -c 'exec /usr/sbin/mariadbd --user=mysql --skip-networking --innodb-autoinc-lock-mode=2 >/var/log/mysql-test.log 2>&1' &
for _ in $(seq 1 300); do
  in_chroot mariadb-admin ping >/dev/null 2>&1 && break
  sleep 0.1
done
in_chroot mariadb-admin ping >/dev/null 2>&1
ok $? "MariaDB from Debian's package runs in the chroot" || bail "MariaDB did not start in the chroot"
db_before=$(db "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'eye'")

t=$(date +%s)
chroot_apt install --no-install-recommends "$(chroot_deb the-eye)" "$(chroot_deb libeyeclient0)" \
  "$(chroot_deb libeyeclient-dev)" "$(chroot_deb eye-send)" >"$STACK_DIR/apt-install.log" 2>&1
ok $? "apt-get install of the four packages, dependencies from the mirror" || tail -20 "$STACK_DIR/apt-install.log" | sed 's/^/# /'
diag "apt (the packages): $(($(date +%s) - t)) s"
for p in the-eye libeyeclient0 libeyeclient-dev eye-send; do
  is "$(dpkg_status "$p")" ii "$p is installed"
done

# --- what the maintainer scripts did ---------------------------------------------------
u=$(in_chroot getent passwd eye)
like "$u" '^eye:x:[0-9]+:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$' "postinst created the system user eye (no home, no login)"
uid=$(printf '%s' "$u" | cut -d: -f3)
[ -n "$uid" ] && [ "$uid" -lt 1000 ]
ok $? "eye is a system user (uid $uid)"
is "$(in_chroot getent group eye | cut -d: -f1)" eye "and its group"
is "$(in_chroot stat -c '%a %U' /etc/eye/secrets)" "711 root" "postinst created /etc/eye/secrets, traversable, not listable"
is "$(in_chroot find /etc/eye/secrets -type f | wc -l)" 0 "no password is generated unasked"
is "$db_before|$(db "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'eye'")|$(db "SELECT COUNT(*) FROM mysql.user WHERE user LIKE 'eye\\_%'")" \
  "0|0|0" "installing touched no database: no eye schema, no eye_* account"
is "$(in_chroot ls /etc/systemd/system/multi-user.target.wants/ 2>/dev/null | grep -c eye-spool)" 0 \
  "eye-spool.service is installed, not enabled"
is "$(in_chroot eye-admin config 2>&1 | grep -A3 '^rules.dir ' | sed -n 's/.*value: *//p')" /usr/share/the-eye/rules \
  "the packaged eye-admin reads /etc/eye/eye.yaml and the packaged rules"

# --- the README's production steps, with the packages ---------------------------------------
in_chroot sh -c 'eye-admin accounts --generate --admin-only | mariadb' 2>"$STACK_DIR/steps.err"
ok $? "eye-admin accounts --admin-only | mariadb" || sed 's/^/# /' "$STACK_DIR/steps.err"
out=$(in_chroot eye-admin migrate 2>&1)
like "$out" "$(ls "$EYE_SRCDIR"/migrations/[0-9]*.sql | wc -l) applied now" "eye-admin migrate applies the packaged migrations"
in_chroot sh -c 'eye-admin accounts --generate | mariadb' 2>>"$STACK_DIR/steps.err"
ok $? "eye-admin accounts --generate | mariadb" || sed 's/^/# /' "$STACK_DIR/steps.err"
in_chroot sh -c 'chgrp www-data /etc/eye/secrets/ingest.pw && chmod 640 /etc/eye/secrets/ingest.pw &&
  chgrp eye /etc/eye/secrets/spool.pw && chmod 640 /etc/eye/secrets/spool.pw'
ok $? "each program's password readable by its group only"
KEY=$(in_chroot eye-admin app create packaged 2>/dev/null)
like "$KEY" '^eye_[0-9a-f]{8}_[0-9a-f]{56}_[0-9a-f]{8}$' "eye-admin app create prints a key"

PORT=$(stack_free_port)
in_chroot sh -c 'cp /usr/share/the-eye/examples/lighttpd.conf /etc/lighttpd/eye.conf &&
  printf "server.username = \"www-data\"\nserver.groupname = \"www-data\"\n" >>/etc/lighttpd/eye.conf &&
  install -d -o www-data -g www-data /run/lighttpd'
in_chroot env EYE_HTTP_PORT="$PORT" EYE_RUN_DIR=/run/lighttpd EYE_FCGI_BIN=/usr/libexec/eye.fcgi \
  EYE_ERRORS_DIR=/usr/share/the-eye/errors EYE_JS_DIR=/usr/share/the-eye/js \
  EYE_CONFIG=/etc/eye/eye.yaml EYE_FCGI_PROCS=1 /usr/sbin/lighttpd -tt -f /etc/lighttpd/eye.conf >"$STACK_DIR/lighttpd-tt.log" 2>&1
ok $? "lighttpd -tt accepts the packaged example" || sed 's/^/# /' "$STACK_DIR/lighttpd-tt.log"
in_chroot env EYE_HTTP_PORT="$PORT" EYE_RUN_DIR=/run/lighttpd EYE_FCGI_BIN=/usr/libexec/eye.fcgi \
  EYE_ERRORS_DIR=/usr/share/the-eye/errors EYE_JS_DIR=/usr/share/the-eye/js \
  EYE_CONFIG=/etc/eye/eye.yaml EYE_FCGI_PROCS=1 /usr/sbin/lighttpd -D -f /etc/lighttpd/eye.conf >"$STACK_DIR/lighttpd.out" 2>&1 &
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  curl -s -o /dev/null "$BASE/v1/health" && break
  sleep 0.1
done
http GET /v1/health
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .database)" "200|up" "the packaged eye.fcgi under lighttpd: health 200, database up" ||
  tail -5 "$R/run/lighttpd/lighttpd-error.log" | sed 's/^/# /'
fcgi_uids=$(for p in $(chroot_pids); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = eye.fcgi ] && awk '/^Uid:/ {print $2}' "/proc/$p/status"
done | sort -u)
is "$fcgi_uids" "$(in_chroot id -u www-data)" "lighttpd spawned eye.fcgi as www-data"
post_events "$KEY" "$(cat "$EYE_SRCDIR/tests/integration/data/brief_examples.json")"
is "$HTTP_STATUS|$(json_get "$HTTP_BODY" .accepted)" "202|3" "POST /v1/events with the brief's events: 202, 3 accepted"
is "$(db 'SELECT COUNT(*) FROM eye.event_queue')" 3 "the events are in the queue"
jq -c '.[] | .session_id = "packaged-eye-send"' "$EYE_SRCDIR/tests/integration/data/brief_examples.json" >"$R/tmp/brief.ndjson"
out=$(in_chroot eye-send --url "$BASE" --key "$KEY" /tmp/brief.ndjson 2>&1)
is "$?|$(printf '%s\n' "$out" | sed -n 's/^sent: *//p')" "0|3" "the packaged eye-send (libeyeclient0) sends the brief's events"
in_chroot setpriv --reuid=eye --regid=eye --clear-groups eye-spool --once 2>"$STACK_DIR/spool.err"
ok $? "the packaged eye-spool --once, as user eye, exits 0" || tail -5 "$STACK_DIR/spool.err" | sed 's/^/# /'
is "$(db "SELECT COUNT(*) FROM eye.events e JOIN eye.sessions s ON s.id = e.session_id WHERE s.session_key = 'e2085be5-9137-4e4e-80b5-f1ffddc25423'")|$(db 'SELECT COUNT(*) FROM eye.event_queue')" \
  "3|0" "the spool stored the brief's three events and emptied the queue"
# (minbase has no ldd; the dynamic loader lists what it resolves, /lib being /usr/lib)
like "$(in_chroot env LD_TRACE_LOADED_OBJECTS=1 /usr/bin/eye-send 2>&1 | grep libeyeclient)" \
  "libeyeclient\.so\.0 => (/usr)?/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libeyeclient\.so\.0 " "eye-send links the packaged libeyeclient.so.0"

chroot_apt install --no-install-recommends pkg-config >>"$STACK_DIR/apt.log" 2>&1
out=$(in_chroot pkg-config --cflags --libs eyeclient 2>&1)
like "$?|$out" "^0\|.*-leyeclient" "libeyeclient-dev: pkg-config finds eyeclient and everything it requires"

# Stop the servers the test started in the chroot (lighttpd, then MariaDB).
for p in $(chroot_pids); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = lighttpd ] && stack_stop_pid "$p" 10
done

# --- remove and purge ---------------------------------------------------------------------
# The operator's edit of the conffile must survive a reinstall and a remove.
echo "# edited by the operator" >>"$R/etc/eye/eye.yaml"
files=$(in_chroot dpkg -L the-eye | grep -v '^/etc/' | while read -r f; do [ -f "$R$f" ] && echo "$f"; done)
chroot_apt install --reinstall "$(chroot_deb the-eye)" >>"$STACK_DIR/apt-install.log" 2>&1
ok $? "reinstalling the-eye runs its postinst again (user exists)"
is "$(tail -1 "$R/etc/eye/eye.yaml")" "# edited by the operator" "the edited conffile is kept on reinstall"

chroot_apt remove the-eye >"$STACK_DIR/apt-remove.log" 2>&1
ok $? "apt-get remove the-eye" || tail -10 "$STACK_DIR/apt-remove.log" | sed 's/^/# /'
is "$(dpkg_status the-eye)" rc "the-eye is removed, its configuration kept (rc)"
is "$(tail -1 "$R/etc/eye/eye.yaml" 2>/dev/null)" "# edited by the operator" "after remove: /etc/eye/eye.yaml is still there, as edited"
is "$(in_chroot ls /etc/eye/secrets | tr '\n' ' ')" "admin.pw analyst.pw ingest.pw spool.pw " "after remove: the password files are kept"
left=$(for f in $files; do [ -e "$R$f" ] && echo "$f"; done)
is "$left" "" "after remove: none of the package's other files is left ($(printf '%s\n' "$files" | wc -l) files)"
is "$(in_chroot getent passwd eye | cut -d: -f1)" eye "after remove: the user eye is kept"

chroot_apt purge the-eye >"$STACK_DIR/apt-purge.log" 2>&1
ok $? "apt-get purge the-eye" || tail -10 "$STACK_DIR/apt-purge.log" | sed 's/^/# /'
is "$(dpkg_status the-eye)" "" "the-eye is purged: dpkg knows nothing of it"
[ ! -e "$R/etc/eye" ]
ok $? "after purge: /etc/eye is gone (conffile, secrets)" || find "$R/etc/eye" | sed "s|^$R|# left: |"
is "$(in_chroot getent passwd eye | cut -d: -f1)" eye \
  "after purge: the system user eye is kept (Debian practice: files it owns may remain)"
is "$(in_chroot ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -c eye-spool)" 0 \
  "after purge: no systemd state of eye-spool is left"
is "$(db "SELECT COUNT(*) FROM eye.events")|$(db "SELECT COUNT(*) FROM mysql.user WHERE user LIKE 'eye\\_%'")" "6|4" \
  "after purge: the database, its events and accounts are untouched"

cfiles=$(for p in libeyeclient-dev eye-send libeyeclient0; do in_chroot dpkg -L "$p"; done |
  while read -r f; do [ -f "$R$f" ] || [ -L "$R$f" ] && echo "$f"; done | sort -u)
chroot_apt purge libeyeclient-dev eye-send libeyeclient0 >>"$STACK_DIR/apt-purge.log" 2>&1
ok $? "apt-get purge libeyeclient-dev eye-send libeyeclient0"
left=$(for f in $cfiles; do [ -e "$R$f" ] || [ -L "$R$f" ] && echo "$f"; done)
is "$left" "" "after purge: none of the client packages' files is left"

chroot_cleanup
diag "debian.sh: $(($(date +%s) - T0)) s in all"
harness_finish
