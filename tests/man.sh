#!/bin/bash
# man.sh - the manual pages are clean and complete: `mandoc -Tlint` finds
# nothing at warning level or above in any page, eye.yaml(5) documents every
# configuration key the code has, eye-admin(1) every command and eye-send(1)
# every option.
set -u
. "$EYE_SRCDIR/tests/lib/tap.sh"
PAGES="eye-admin.1 eye-send.1 eye-spool.8 eye.fcgi.8 eye.yaml.5"
# page NAME: the built page (paths substituted), else its source.
page() {
  if [ -f "$EYE_BUILDDIR/man/$1" ]; then echo "$EYE_BUILDDIR/man/$1"; else echo "$EYE_SRCDIR/man/$1.in"; fi
}

if ! command -v mandoc >/dev/null; then
  ok 1 "mandoc is installed (apt-get install mandoc)"
else
  for p in $PAGES; do
    out=$(mandoc -Tlint -Wwarning "$(page "$p")" 2>&1)
    is "$out" "" "mandoc -Tlint: $p is clean"
  done
fi

for p in $PAGES; do
  left=$(grep -o '@[a-zA-Z_]*@' "$(page "$p")" | sort -u | tr '\n' ' ')
  [ -f "$EYE_BUILDDIR/man/$p" ] && is "$left" "" "$p: every @placeholder@ is substituted"
done

keys=$(env -u EYE_CONFIG "$EYE_BUILDDIR/admin/eye-admin" config --markdown | sed -n 's/^| `\([a-z_.]*\)` .*/\1/p')
missing=""
for k in $keys; do
  grep -q "^\.It Cm $k Pq " "$(page eye.yaml.5)" || missing="$missing $k"
done
is "$missing" "" "eye.yaml(5) documents every configuration key ($(echo $keys | wc -w))"

cmds=$("$EYE_BUILDDIR/admin/eye-admin" --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
missing=""
for c in $cmds; do
  grep -q "^\.It Cm $c\b" "$(page eye-admin.1)" || missing="$missing $c"
done
is "$missing" "" "eye-admin(1) documents every command ($(echo $cmds | wc -w))"

opts=$("$EYE_BUILDDIR/client/eye-send" --help | grep -o -- '--[a-z-]*' | sort -u)
missing=""
for o in $opts; do
  grep -q "Fl -${o#--}\b" "$(page eye-send.1)" || missing="$missing $o"
done
is "$missing" "" "eye-send(1) documents every option ($(echo $opts | wc -w))"
done_testing
