#!/bin/bash
# backpressure.sh - the queue's high-water mark: while the spool is behind,
# writes get 503 + Retry-After instead of filling the disk; /v1/health shows
# the queue; once the spool catches up, writes are accepted again.
. "$EYE_SRCDIR/tests/lib/harness.sh"
export EYE_INGEST_QUEUE_MAX_ROWS=5
export EYE_INGEST_RETRY_AFTER_SECONDS=7
harness_start
KEY=$(new_app shop)
EV='{"session_id": "bp", "category": "page interaction", "name": "pageview", "data": {"host": "a.example.com", "path": "/"}, "timestamp": "2024-05-01T10:00:00Z"}'

health=$(curl -s "$BASE/v1/health")
is "$(json_get "$health" .queue_depth)" 0 "health shows an empty queue"
is "$(json_get "$health" .queue_over_limit)" false "and not over its limit"

post_events "$KEY" "[$EV,$EV,$EV,$EV,$EV,$EV]"
is "$HTTP_STATUS" 202 "a batch that crosses the mark is still accepted (the mark is checked before)"
# The depth is read about once a second, in the background.
status=202
for _ in $(seq 1 30); do
  out=$(curl -s -i -X POST "$BASE/v1/events" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "$EV")
  status=$(printf '%s' "$out" | head -1 | cut -d' ' -f2)
  [ "$status" = 503 ] && break
  sleep 0.2
done
is "$status" 503 "above the mark, writes get 503"
like "$out" "Retry-After: 7" "with the configured Retry-After"
like "$out" '"code":"queue_full"' "and the code queue_full"
health=$(curl -s "$BASE/v1/health")
ok $([ "$(json_get "$health" .queue_depth)" -ge 6 ] && echo 0 || echo 1) "health shows the queue depth"
is "$(json_get "$health" .queue_over_limit)" true "health says the queue is over its limit"
like "$(json_get "$health" .queue_oldest_age_seconds)" '^[0-9.]+$' "health shows the age of the oldest queued row"
before=$(sql 'SELECT COUNT(*) FROM event_queue')
post_events "$KEY" "$EV"
is "$HTTP_STATUS" 503 "the next write is refused too"
is "$(sql 'SELECT COUNT(*) FROM event_queue')" "$before" "refused writes add nothing to the queue"

"$EYE_BUILDDIR/spool/eye-spool" --config "$STACK_CONFIG" --once 2>/dev/null
status=503
for _ in $(seq 1 30); do
  post_events "$KEY" "$EV"; status=$HTTP_STATUS
  [ "$status" = 202 ] && break
  sleep 0.2
done
is "$status" 202 "once the spool has caught up, writes are accepted again"

harness_finish
