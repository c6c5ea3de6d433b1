-- 001_initial.sql - The Eye's tables.
--
-- Applied by `eye-admin migrate`, which records it in schema_migrations.
-- All times are UTC (every connection sets time_zone = '+00:00') in
-- DATETIME(6), microsecond precision, as the brief's timestamps carry.
--
-- Data flow: eye.fcgi inserts one row per received event into event_queue
-- (valid or not); eye-spool moves each row into events (valid) or
-- event_errors (invalid) and upserts the session, in one transaction.

-- Trusted clients. A name is unique so keys and errors name one thing.
CREATE TABLE applications (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name        VARCHAR(100) NOT NULL,
  created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_applications_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- API keys: only a SHA-256 of the secret and a short visible prefix are kept.
-- scope 'write' may send events, 'read' may use the read API.
CREATE TABLE api_keys (
  id              INT UNSIGNED NOT NULL AUTO_INCREMENT,
  application_id  INT UNSIGNED NOT NULL,
  prefix          CHAR(12) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  key_hash        BINARY(32) NOT NULL,
  scope           ENUM('write','read') NOT NULL DEFAULT 'write',
  created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  revoked_at      DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_api_keys_hash (key_hash),
  UNIQUE KEY uq_api_keys_prefix (prefix),
  KEY ix_api_keys_application (application_id),
  CONSTRAINT fk_api_keys_application FOREIGN KEY (application_id) REFERENCES applications (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The durable hand-off between eye.fcgi and eye-spool. One row per event as
-- received. A row with error_code NULL passed validation; otherwise it is
-- on its way to event_errors. id is assigned at ingest and is the arrival
-- order: it becomes the id of the events / event_errors row.
CREATE TABLE event_queue (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  application_id   INT UNSIGNED NOT NULL,
  received_at      DATETIME(6)  NOT NULL,
  event_id         UUID         NULL,
  session_key      VARCHAR(255) NULL,
  category         VARCHAR(255) NULL,
  name             VARCHAR(255) NULL,
  occurred_at      DATETIME(6)  NULL,
  client_timestamp DATETIME(6)  NULL,
  sent_at          DATETIME(6)  NULL,
  clock_skew_us    BIGINT       NULL,
  skew_corrected   BOOLEAN      NOT NULL DEFAULT FALSE,
  rules_version    CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  data             LONGTEXT     NULL,
  error_code       VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NULL,
  error_pointer    VARCHAR(1024) NULL,
  error_message    VARCHAR(1024) NULL,
  payload          MEDIUMTEXT   NULL,
  payload_truncated BOOLEAN     NOT NULL DEFAULT FALSE,
  attempts         SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY ix_event_queue_received (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A session is identified by the string the applications generate, unique
-- across applications: several applications may feed one session.
CREATE TABLE sessions (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  session_key    VARCHAR(255) NOT NULL,
  first_seen_at  DATETIME(6)  NOT NULL,
  last_seen_at   DATETIME(6)  NOT NULL,
  event_count    INT UNSIGNED NOT NULL DEFAULT 0,
  created_at     DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_sessions_key (session_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Valid events. occurred_at is when the event happened (the client's
-- timestamp, or that shifted by the measured clock skew when the operator
-- turned ingest.correct_clock_skew on; skew_corrected says which).
-- Order within a session: occurred_at, then id (arrival order).
CREATE TABLE events (
  id               BIGINT UNSIGNED NOT NULL,
  event_id         UUID         NOT NULL,
  application_id   INT UNSIGNED NOT NULL,
  session_id       BIGINT UNSIGNED NOT NULL,
  category         VARCHAR(255) NOT NULL,
  name             VARCHAR(255) NOT NULL,
  data             LONGTEXT     NOT NULL CHECK (JSON_VALID(data)),
  occurred_at      DATETIME(6)  NOT NULL,
  client_timestamp DATETIME(6)  NOT NULL,
  sent_at          DATETIME(6)  NULL,
  clock_skew_us    BIGINT       NULL,
  skew_corrected   BOOLEAN      NOT NULL DEFAULT FALSE,
  received_at      DATETIME(6)  NOT NULL,
  stored_at        DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  rules_version    CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_events_event_id (event_id),
  KEY ix_events_session_time (session_id, occurred_at, id),
  KEY ix_events_category_time (category, occurred_at, id),
  KEY ix_events_type_time (category, name, occurred_at, id),
  KEY ix_events_time (occurred_at, id),
  KEY ix_events_application_time (application_id, occurred_at),
  CONSTRAINT fk_events_session FOREIGN KEY (session_id) REFERENCES sessions (id),
  CONSTRAINT fk_events_application FOREIGN KEY (application_id) REFERENCES applications (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Events and requests that failed validation, kept for monitoring and for
-- replay once a rule is fixed. payload is what was received, cut to
-- ingest.max_error_payload_bytes (payload_truncated says so).
CREATE TABLE event_errors (
  id                BIGINT UNSIGNED NOT NULL,
  event_id          UUID          NULL,
  application_id    INT UNSIGNED  NOT NULL,
  received_at       DATETIME(6)   NOT NULL,
  session_key       VARCHAR(255)  NULL,
  category          VARCHAR(255)  NULL,
  name              VARCHAR(255)  NULL,
  code              VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  pointer           VARCHAR(1024) NOT NULL,
  message           VARCHAR(1024) NOT NULL,
  payload           MEDIUMTEXT    NULL,
  payload_truncated BOOLEAN       NOT NULL DEFAULT FALSE,
  rules_version     CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  stored_at         DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  replayed_at       DATETIME(6)   NULL,
  PRIMARY KEY (id),
  KEY ix_event_errors_received (received_at),
  KEY ix_event_errors_code_time (code, received_at),
  KEY ix_event_errors_application_time (application_id, received_at),
  KEY ix_event_errors_type_time (category, name, received_at),
  KEY ix_event_errors_event_id (event_id),
  CONSTRAINT fk_event_errors_application FOREIGN KEY (application_id) REFERENCES applications (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
