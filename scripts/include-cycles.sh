#!/bin/bash
# include-cycles.sh - fail when the #include "..." graph of a folder has a cycle.
#
# Usage: scripts/include-cycles.sh [-I DIR]... FOLDER...
#
# For each FOLDER, reads the #include "..." lines of its .c and .h files (not
# those of its subfolders: a folder is a component of its own) and builds the
# graph of its modules. A module is a file name without its .c or .h ending,
# so x.c and x.h are one node, and x.c including y.h is the edge x -> y: a
# ring of modules that need each other is a cycle even when no header
# includes itself. A quoted include is resolved as the compiler does: beside
# the including file first, then in each -I DIR in order (default: the
# source tree's top, where "validators/event.h" lives). Includes that resolve
# outside the folder, or to nothing (system headers, the generated
# autoconfig.h), are not part of its graph.
#
# Exit status 0, printing nothing, when no folder has a cycle; 1 when one
# has, printing every cycle the search meets, each with the lines that make
# its edges:
#   validators: include cycle: event -> schema -> event
#     validators/event.c:17: #include "validators/schema.h"
#     validators/schema.h:18: #include "validators/event.h"
# 2 on a usage error (an unknown option, a FOLDER that is not a folder).
set -u

usage() {
  echo "usage: $0 [-I DIR]... FOLDER..." >&2
  exit 2
}

incdirs=()
while [ $# -gt 0 ]; do
  case $1 in
    -I) [ $# -ge 2 ] || usage; incdirs+=("$2"); shift 2 ;;
    -I*) incdirs+=("${1#-I}"); shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || usage
if [ ${#incdirs[@]} -eq 0 ]; then
  incdirs=("$(cd "$(dirname "$0")/.." && pwd)")
fi

# Prints "FROM<tab>TO<tab>FILE:LINE: TEXT" for every include of folder $1
# that names another module of the same folder.
folder_edges() {
  local folder=$1 real f lineno text inc cand dir target from to
  real=$(cd "$folder" && pwd -P) || return 2
  for f in "$folder"/*.c "$folder"/*.h; do
    [ -f "$f" ] || continue
    from=$(basename "$f"); from=${from%.[ch]}
    lineno=0
    while IFS= read -r text || [ -n "$text" ]; do
      lineno=$((lineno + 1))
      [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]] || continue
      inc=${BASH_REMATCH[1]}
      target=
      for cand in "$(dirname "$f")/$inc" "${incdirs[@]/%//$inc}"; do
        if [ -f "$cand" ]; then
          target=$cand
          break
        fi
      done
      [ -n "$target" ] || continue
      dir=$(cd "$(dirname "$target")" && pwd -P) || continue
      [ "$dir" = "$real" ] || continue
      to=$(basename "$target"); to=${to%.[ch]}
      [ "$to" != "$from" ] || continue
      printf '%s\t%s\t%s:%d: %s\n' "$from" "$to" "$f" "$lineno" "$text"
    done <"$f"
  done
}

# Reads the edges on stdin; prints each cycle a depth-first search meets
# (one per back edge) and exits 1 when there is one.
find_cycles() {
  awk -F '\t' -v folder="$1" '
    {
      key = $1 SUBSEP $2
      if (!(key in why)) {
        why[key] = $3
        adj[$1, ++nadj[$1]] = $2
      }
      if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
      if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 }
    }
    function visit(u,    i, v, j, k, line) {
      color[u] = 1
      stack[++sp] = u
      for (i = 1; i <= nadj[u]; i++) {
        v = adj[u, i]
        if (color[v] == 1) {
          for (j = sp; stack[j] != v; j--)
            ;
          line = folder ": include cycle: "
          for (k = j; k <= sp; k++)
            line = line stack[k] " -> "
          print line v
          for (k = j; k < sp; k++)
            print "  " why[stack[k], stack[k + 1]]
          print "  " why[u, v]
          found++
        } else if (color[v] == 0) {
          visit(v)
        }
      }
      sp--
      color[u] = 2
    }
    END {
      for (i = 1; i <= n; i++)
        if (color[order[i]] == 0)
          visit(order[i])
      exit found > 0 ? 1 : 0
    }'
}

status=0
for folder in "$@"; do
  if [ ! -d "$folder" ]; then
    echo "$0: $folder: not a folder" >&2
    exit 2
  fi
  name=${folder%/}
  folder_edges "$folder" | LC_ALL=C sort -t "$(printf '\t')" -k1,1 -k2,2 -s | find_cycles "$name"
  rcs=("${PIPESTATUS[@]}")
  [ "${rcs[0]}" -eq 0 ] || { echo "$0: $folder: cannot read" >&2; exit 2; }
  [ "${rcs[2]}" -eq 0 ] || status=1
done
exit $status
