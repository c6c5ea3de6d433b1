#!/bin/bash
# alert_rules.sh - deploy/prometheus: the alert rules load (promtool check
# rules), their unit tests pass (promtool test rules: each alert fires when
# it should and stays quiet on a healthy series), and the scrape example
# is a valid configuration.
set -u
. "$EYE_SRCDIR/tests/lib/tap.sh"
command -v promtool >/dev/null || flock /tmp/apt.lock apt-get install -y prometheus >/dev/null
dir=$EYE_SRCDIR/deploy/prometheus
out=$(promtool check rules "$dir/eye-alerts.yml" 2>&1)
ok $? "promtool check rules eye-alerts.yml"
like "$out" "SUCCESS: 8 rules found" "all eight alerts are found"
out=$(cd "$dir" && promtool test rules eye-alerts.test.yml 2>&1)
rc=$?
ok $rc "promtool test rules eye-alerts.test.yml"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/etc/prometheus/eye-read.key|$tmp/key|" "$dir/prometheus.yml" >"$tmp/prometheus.yml"
cp "$dir/eye-alerts.yml" "$tmp/"
echo dummy >"$tmp/key"
out=$(promtool check config "$tmp/prometheus.yml" 2>&1)
ok $? "promtool check config: the scrape example (with its rules) is valid"
done_testing
