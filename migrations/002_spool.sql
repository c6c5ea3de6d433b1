-- 002_spool.sql - what eye-spool needs beyond the core tables.

-- Queue rows that kept failing for a reason other than a transient database
-- error (a "poison" row) are moved here after spool.max_attempts tries, so
-- they cannot block the queue. Same columns as event_queue, plus why.
CREATE TABLE IF NOT EXISTS event_quarantine (
  id               BIGINT UNSIGNED NOT NULL,
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
  attempts         SMALLINT UNSIGNED NOT NULL,
  reason           VARCHAR(1024) NOT NULL,
  quarantined_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_event_quarantine_time (quarantined_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Running totals kept by the spoolers (for `eye-admin stats`).
CREATE TABLE IF NOT EXISTS spool_counters (
  name   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  value  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (name)
) ENGINE=InnoDB;

INSERT IGNORE INTO spool_counters (name, value) VALUES ('duplicates', 0), ('quarantined', 0);

-- Monitoring (`eye-admin stats`): what was stored in the last minute/hour.
ALTER TABLE events ADD KEY IF NOT EXISTS ix_events_stored (stored_at);
ALTER TABLE event_errors ADD KEY IF NOT EXISTS ix_event_errors_stored (stored_at);
