#!/bin/sh
# Runs each libFuzzer harness for a fixed number of runs (for CI), starting
# from the seed corpus in fuzz/corpus/. Usage:
#   fuzz/run-fuzzers.sh BUILDDIR [RUNS]        (RUNS defaults to 20000)
# FUZZ_HARNESSES="event gzip" runs only those (default: all four: rules event gzip origin).
# BUILDDIR must be configured with: CC=clang ./configure --enable-fuzzers
# New corpus entries go to a temporary folder, not into the source tree.
# Exit status is non-zero if a harness finds a crash, leak or UB report.
set -eu
builddir=${1:?usage: run-fuzzers.sh BUILDDIR [RUNS]}
runs=${2:-20000}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
make -C "$builddir" fuzz/fuzz_rules fuzz/fuzz_event fuzz/fuzz_gzip fuzz/fuzz_origin >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
status=0
for name in ${FUZZ_HARNESSES:-rules event gzip origin}; do

    mkdir -p "$work/$name"
    echo "fuzz_$name: $runs runs"
    dict=
    case $name in rules | origin) ;; *) dict=-dict="$srcdir/fuzz/json.dict" ;; esac
    if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$builddir/fuzz/fuzz_$name" -runs="$runs" -max_len=4096 -timeout=10 $dict \
            -artifact_prefix="$work/" -print_final_stats=1 \
            "$work/$name" "$srcdir/fuzz/corpus/$name" 2>"$work/$name.log"; then
        status=1
        tail -n 60 "$work/$name.log"
        for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
            [ -e "$crash" ] && cp "$crash" "$builddir/" && echo "kept $builddir/$(basename "$crash")"
        done
    else
        grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$name.log" || true
    fi
done
exit $status
