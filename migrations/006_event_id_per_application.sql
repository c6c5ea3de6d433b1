-- 006_event_id_per_application.sql - an event_id is unique per application.
--
-- event_id exists so that an application retrying a request does not store
-- its events twice. Unique across all applications, it let one application's
-- id make another's event a "duplicate": eye.fcgi answered 202 and the spool
-- then dropped the event. Deduplication is now per application: the same
-- application's retry is skipped, another application's event with the same
-- id is stored. The new key leads with application_id, so it also serves
-- fk_events_application and per-application lookups.
ALTER TABLE events
  DROP INDEX uq_events_event_id,
  ADD UNIQUE KEY uq_events_app_event_id (application_id, event_id);
