#!/bin/bash
# foundation.sh - the skeleton end to end: schema and migrations, eye-admin,
# least-privilege accounts, lighttpd spawning eye.fcgi, events into the
# queue, 401 without a valid key.
. "$EYE_SRCDIR/tests/lib/harness.sh"
harness_start
EXAMPLES=$(cat "$EYE_SRCDIR/tests/integration/data/brief_examples.json")

# --- migrations -----------------------------------------------------------
n=$(ls "$EYE_SRCDIR"/migrations/[0-9][0-9][0-9]_*.sql | wc -l)
is "$(sql 'SELECT COUNT(*) FROM schema_migrations')" "$n" "every migration file is recorded"
out=$(stack_admin migrate 2>&1)
ok $? "migrate again succeeds"
like "$out" "0 applied now" "migrate again applies nothing"
for t in applications api_keys event_queue sessions events event_errors; do
  is "$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='eye' AND table_name='$t'")" 1 "table $t exists"
done

# A broken migration stops with the file name and the server's error.
mkdir -p "$STACK_DIR/mig"
cp "$EYE_SRCDIR"/migrations/*.sql "$STACK_DIR/mig/"
echo "CREATE TABLE broken (id INT) ENGINE=NoSuchEngine; SELEC 1;" >"$STACK_DIR/mig/900_broken.sql"
out=$(EYE_MIGRATIONS_DIR=$STACK_DIR/mig stack_admin migrate 2>&1)
is $? 1 "a failing migration exits 1"
like "$out" "900_broken.sql: statement [0-9]+ failed: .*error" "the failure names the file and the server's error"
is "$(sql 'SELECT COUNT(*) FROM schema_migrations WHERE version=900')" 0 "a failed migration is not recorded"

# --- eye-admin ------------------------------------------------------------
stack_admin --help >/dev/null; is $? 0 "eye-admin --help exits 0"
stack_admin nosuch >/dev/null 2>&1; is $? 2 "an unknown command exits 2"
stack_admin app create >/dev/null 2>&1; is $? 2 "app create without a name exits 2"
for c in migrate app key accounts config; do
  stack_admin $c --help >/dev/null; is $? 0 "eye-admin $c --help exits 0"
done

KEY=$(new_app shop)
like "$KEY" '^eye_[0-9a-f]{8}_[0-9a-f]{56}_[0-9a-f]{8}$' "app create prints only the key on stdout"
PREFIX=${KEY:0:12}
is "$(sql "SELECT COUNT(*) FROM api_keys WHERE prefix='$PREFIX' AND key_hash=UNHEX(SHA2('$KEY',256))")" 1 \
  "the key is stored as its SHA-256 with its prefix"
is "$(sql "SELECT COUNT(*) FROM api_keys WHERE HEX(key_hash) LIKE '%${KEY:13:16}%'")" 0 "the secret is not stored"
new_app shop >/dev/null 2>&1; is $? 1 "a second application with the same name exits 1"
list=$(stack_admin app list)
like "$list" "shop +$PREFIX +write +active" "app list shows the key as active"

# --- least privilege ------------------------------------------------------
ingest_pw=$(cat "$STACK_DIR/secrets/ingest.pw")
mariadb --no-defaults -ueye_ingest -p"$ingest_pw" -S "$STACK_DB_SOCKET" eye -e 'SELECT * FROM events' >/dev/null 2>&1
is $? 1 "the ingest account cannot read events"
mariadb --no-defaults -ueye_ingest -p"$ingest_pw" -S "$STACK_DB_SOCKET" eye -e 'DELETE FROM event_queue' >/dev/null 2>&1
is $? 1 "the ingest account cannot delete from the queue"
analyst_pw=$(cat "$STACK_DIR/secrets/analyst.pw")
mariadb --no-defaults -ueye_analyst -p"$analyst_pw" -S "$STACK_DB_SOCKET" eye -e 'SELECT COUNT(*) FROM events' >/dev/null 2>&1
is $? 0 "the analyst account can read events"
mariadb --no-defaults -ueye_analyst -p"$analyst_pw" -S "$STACK_DB_SOCKET" eye -e 'SELECT * FROM api_keys' >/dev/null 2>&1
is $? 1 "the analyst account cannot read keys"

# --- ingest through lighttpd ---------------------------------------------
post_events "$KEY" "$EXAMPLES"
is "$HTTP_STATUS" 202 "the brief's three examples are accepted"
is "$(json_get "$HTTP_BODY" .accepted)" 3 "all three counted as accepted"
is "$(sql "SELECT COUNT(*) FROM event_queue WHERE error_code IS NULL AND session_key='e2085be5-9137-4e4e-80b5-f1ffddc25423'")" 3 \
  "the three events are in the queue"
is "$(sql "SELECT GROUP_CONCAT(name ORDER BY id SEPARATOR ',') FROM event_queue")" "pageview,cta click,submit" \
  "queued in the order sent"
is "$(sql "SELECT COUNT(DISTINCT event_id) FROM event_queue")" 3 "each event got its own event_id"
like "$(sql "SELECT event_id FROM event_queue LIMIT 1")" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' \
  "an assigned event_id is a random (version 4) UUID"
is "$(sql "SELECT DATE_FORMAT(MIN(occurred_at), '%Y-%m-%d %H:%i:%s.%f') FROM event_queue")" "2021-01-01 09:15:27.243860" \
  "the timestamp is kept to the microsecond, as UTC"
is "$(sql "SELECT JSON_VALUE(data, '\$.form.first_name') FROM event_queue WHERE name='submit'")" "John" \
  "the payload is stored as JSON"

http POST /v1/events -H 'Content-Type: application/json' --data-binary "$EXAMPLES"
is "$HTTP_STATUS" 401 "no key: 401"
is "$(json_get "$HTTP_BODY" .error.code)" missing_key "no key: error code missing_key"
post_events "eye_00000000_$(printf '0%.0s' $(seq 64))" "$EXAMPLES"
is "$HTTP_STATUS" 401 "unknown key: 401"
is "$(json_get "$HTTP_BODY" .error.code)" invalid_key "unknown key: error code invalid_key"
post_events "not-a-key" "$EXAMPLES"
is "$HTTP_STATUS" 401 "malformed key: 401"
is "$(sql 'SELECT COUNT(*) FROM event_queue')" 3 "refused requests add nothing to the queue"

out=$(stack_admin key revoke "$PREFIX" 2>&1); is $? 0 "key revoke exits 0"
like "$out" "revoked; eye.fcgi refuses it within [0-9]+ s \(ingest.key_cache_seconds\)" \
  "key revoke states how long the key may still be accepted"
stack_admin key revoke "$PREFIX" 2>/dev/null; is $? 1 "revoking it again exits 1"
like "$(stack_admin app list)" "shop +$PREFIX +write +revoked" "app list shows the key as revoked"

harness_finish
