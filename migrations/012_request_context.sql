-- 012_request_context.sql - the request's context, stored with every event.
--
-- user_agent: the User-Agent header as sent, cut at 255 characters (NULL
-- when absent or not UTF-8). client_ip: what privacy.client_ip keeps of
-- the client's address (README, "Privacy"): its /24 or /48 network by
-- default, a keyed hash, or nothing (NULL); never the full address unless
-- an operator's own code puts it there. Both come from the request, so
-- every event of a request carries the same values; the queue carries them
-- to events and event_errors (and to event_quarantine with the rest).
ALTER TABLE event_queue
  ADD COLUMN user_agent VARCHAR(255) NULL,
  ADD COLUMN client_ip  VARCHAR(39)  NULL;
ALTER TABLE events
  ADD COLUMN user_agent VARCHAR(255) NULL,
  ADD COLUMN client_ip  VARCHAR(39)  NULL;
ALTER TABLE event_errors
  ADD COLUMN user_agent VARCHAR(255) NULL,
  ADD COLUMN client_ip  VARCHAR(39)  NULL;
ALTER TABLE event_quarantine
  ADD COLUMN user_agent VARCHAR(255) NULL,
  ADD COLUMN client_ip  VARCHAR(39)  NULL;

-- The analyst views show them (same plans as 005: events drives).
CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_events AS
SELECT e.id, e.event_id, s.session_key AS session_id,
       (SELECT a.name FROM applications a WHERE a.id = e.application_id) AS application,
       e.category, e.name, e.data, e.occurred_at, e.client_timestamp, e.sent_at,
       e.clock_skew_us, e.skew_corrected, e.received_at, e.stored_at, e.rules_version,
       e.user_agent, e.client_ip
FROM events e
JOIN sessions s ON s.id = e.session_id;

CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_errors AS
SELECT x.id, x.event_id, a.name AS application, x.received_at, x.session_key AS session_id,
       x.category, x.name, x.code, x.pointer, x.message, x.payload, x.payload_truncated,
       x.rules_version, x.stored_at, x.replayed_at, x.user_agent, x.client_ip
FROM event_errors x
JOIN applications a ON a.id = x.application_id;
