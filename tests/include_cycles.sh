#!/bin/bash
# include_cycles.sh - no source folder has an #include cycle, and
# scripts/include-cycles.sh finds the cycles it is meant to find.
set -u
. "$EYE_SRCDIR/tests/lib/tap.sh"
check=$EYE_SRCDIR/scripts/include-cycles.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/include-cycles.XXXXXX") || bail "cannot make a temporary folder"
trap 'rm -rf "$work"' EXIT

# --- the script on made-up folders --------------------------------------
mkdir -p "$work/ring" "$work/one" "$work/deep" "$work/top/mod" "$work/top/other" "$work/out"
printf '#include "b.h"\n' >"$work/ring/a.h"
printf '/* b */\n#include <stdio.h>\n#include "c.h"\n' >"$work/ring/b.c"
printf '#include "a.h"\n' >"$work/ring/c.h"
: >"$work/ring/b.h"
out=$("$check" "$work/ring" 2>&1)
is $? 1 "a ring of three modules fails"
like "$out" "ring: include cycle: a -> b -> c -> a" "the cycle is printed in include order"
like "$out" "ring/a.h:1: #include \"b.h\"" "each edge names its file and line (a.h)"
like "$out" "ring/b.c:3: #include \"c.h\"" "each edge names its file and line (b.c)"

printf '#include "x.h"\n' >"$work/one/x.c"
printf '#include "y.h"\n' >"$work/one/x.h"
printf '#include <string.h>\n#include "autoconfig.h"\n' >"$work/one/y.c"
out=$("$check" "$work/one" 2>&1)
is "$?:$out" "0:" "a .c including its own header, and missing headers, are no cycle"

# Includes relative to the source top, as the tree writes them.
printf '#include "mod/q.h"\n' >"$work/top/mod/p.c"
printf '#include "mod/p.h"\n' >"$work/top/mod/q.h"
: >"$work/top/mod/p.h"
out=$("$check" -I "$work/top" "$work/top/mod" 2>&1)
is $? 1 "includes are resolved through -I"
like "$out" "include cycle: p -> q -> p" "the -I cycle is named"

# A cycle through another folder is that folder pair's business, not mod's.
printf '#include "other/r.h"\n' >"$work/top/other/s.c"
printf '#include "other/s.h"\n#include "out.h"\n' >"$work/top/mod/t.c"
printf '#include "mod/t.h"\n' >"$work/top/other/s.h"
: >"$work/top/mod/t.h"
rm "$work/top/mod/q.h"
out=$("$check" -I "$work/top" "$work/top/mod" 2>&1)
is "$?:$out" "0:" "includes that leave the folder are not edges"

"$check" "$work/nonexistent" >/dev/null 2>&1
is $? 2 "a folder that does not exist is a usage error"

# --- every source folder of the tree ----------------------------------
# A folder is one that holds .c or .h files itself; build folders inside
# the source tree (they hold config.status above them) are not sources.
folders=()
while IFS= read -r dir; do
  d=$dir
  while [ "$d" != "$EYE_SRCDIR" ] && [ "$d" != / ]; do
    [ -f "$d/config.status" ] && continue 2
    d=$(dirname "$d")
  done
  folders+=("${dir#"$EYE_SRCDIR"/}")
done < <(find "$EYE_SRCDIR" -mindepth 1 -name '.*' -prune -o -type f \( -name '*.c' -o -name '*.h' \) \
  -printf '%h\n' | LC_ALL=C sort -u)
listed=" ${folders[*]} "
for want in validators fcgi admin spool lib client tests/unit; do
  like "$listed" " $want " "source folder $want is among those checked"
done
for dir in "${folders[@]}"; do
  out=$(cd "$EYE_SRCDIR" && "$check" "$dir" 2>&1)
  rc=$?
  is "$rc" 0 "no #include cycle in $dir/"
  [ "$rc" -eq 0 ] || diag "$out"
done
done_testing
