-- 003_queue_status.sql - a cheap look at the queue for eye.fcgi.
--
-- eye.fcgi refuses writes with 503 when the queue is too deep or too old
-- (back-pressure while the spool is down) and shows both in /v1/health.
-- The ingest account may not read the queue's rows, so it reads this view,
-- which runs with its definer's rights (the admin account that migrated).
-- Both values come from the primary key's ends, O(1) whatever the depth:
-- depth is MAX(id) - MIN(id) + 1, an upper bound (rows moved out of order
-- by parallel spoolers leave gaps that still count).
CREATE OR REPLACE SQL SECURITY DEFINER VIEW queue_status AS
SELECT
  (SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM event_queue) AS depth,
  (SELECT received_at FROM event_queue ORDER BY id LIMIT 1) AS oldest_received_at;
