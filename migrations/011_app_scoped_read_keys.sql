-- 011_app_scoped_read_keys.sql - read keys that see one application only.
--
-- A read key made for the analysts sees every application's events, errors
-- (raw payloads included) and sessions. An application-scoped read key
-- (`eye-admin key create APP --read --app-only`) sees only the rows of the
-- application it belongs to: eye.fcgi adds "application_id = the key's" to
-- every read statement, as a bound parameter. A session that several
-- applications feed shows such a key only its own application's events.
-- Only read keys can be scoped so: a write or browser key writes as its
-- application already.
ALTER TABLE api_keys
  ADD COLUMN app_only BOOLEAN NOT NULL DEFAULT FALSE,
  ADD CONSTRAINT ck_api_keys_app_only CHECK (NOT app_only OR scope = 'read');
