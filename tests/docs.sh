#!/bin/bash
# docs.sh - the README's configuration reference is the one the code has.
set -u
. "$EYE_SRCDIR/tests/lib/tap.sh"
readme_table=$(sed -n '/^<!-- config-table/,/^<!-- end config-table/p' "$EYE_SRCDIR/README.md" | sed '1d;$d')
code_table=$(env -u EYE_CONFIG "$EYE_BUILDDIR/admin/eye-admin" config --markdown)
is "$readme_table" "$code_table" "README's configuration table matches eye-admin config --markdown"
EYE_CONFIG="$EYE_SRCDIR/conf/eye.yaml" "$EYE_BUILDDIR/admin/eye-admin" config >/dev/null
is $? 0 "the example configuration conf/eye.yaml loads without errors"
done_testing
