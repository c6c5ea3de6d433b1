-- 004_analyst_views.sql - what analysts query (README "Querying the data").
--
-- The analyst account reads these views and the tables behind them. Each
-- view keeps the tables' indexes usable: filters on session_id, category,
-- name and occurred_at reach ix_events_* (see the EXPLAIN checks in
-- tests/integration/analyst.sh).

-- Valid events with their session identifier and application name.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_events AS
SELECT e.id, e.event_id, s.session_key AS session_id, a.name AS application,
       e.category, e.name, e.data, e.occurred_at, e.client_timestamp, e.sent_at,
       e.clock_skew_us, e.skew_corrected, e.received_at, e.stored_at, e.rules_version
FROM events e
JOIN sessions s ON s.id = e.session_id
JOIN applications a ON a.id = e.application_id;

-- A session's events in order, numbered from 1: by occurrence time, equal
-- times by arrival (id). Filter on session_id: the condition is pushed into
-- the view through its PARTITION BY, so only that session is read.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_session_timeline AS
SELECT s.session_key AS session_id,
       ROW_NUMBER() OVER (PARTITION BY s.session_key ORDER BY e.occurred_at, e.id) AS seq,
       e.id, e.event_id, a.name AS application, e.category, e.name, e.data,
       e.occurred_at, e.received_at
FROM events e
JOIN sessions s ON s.id = e.session_id
JOIN applications a ON a.id = e.application_id;

-- Recorded errors with the application's name.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_errors AS
SELECT x.id, x.event_id, a.name AS application, x.received_at, x.session_key AS session_id,
       x.category, x.name, x.code, x.pointer, x.message, x.payload, x.payload_truncated,
       x.rules_version, x.stored_at, x.replayed_at
FROM event_errors x
JOIN applications a ON a.id = x.application_id;
