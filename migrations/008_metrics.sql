-- 008_metrics.sql - the spool's figures for /metrics, and event-count rollups.

-- One row per eye-spool process ("host:pid"), updated in the same
-- transaction as the batch it counts, so the totals are exact: a batch
-- rolled back (a crash, a deadlock, a poison row) is not counted, a
-- committed one is counted once. /metrics sums every row (dead spoolers'
-- rows included, so totals never go down) and shows the per-spooler
-- timestamps of the spoolers seen in the last hour. A spooler folds rows
-- not seen for a day into the row '_retired' at start, so the table stays
-- small while the sums stay the same.
-- b0..b10: batches by duration, not cumulative, upper bounds 0.01, 0.025,
-- 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 seconds, then above.
CREATE TABLE IF NOT EXISTS spool_status (
  spooler       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  started_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_seen_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_batch_at DATETIME(6) NULL,
  batches       BIGINT UNSIGNED NOT NULL DEFAULT 0,
  rows_moved    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  events        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  errors        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  duplicates    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  quarantined   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  batch_us_sum  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b0  BIGINT UNSIGNED NOT NULL DEFAULT 0, b1  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b2  BIGINT UNSIGNED NOT NULL DEFAULT 0, b3  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b4  BIGINT UNSIGNED NOT NULL DEFAULT 0, b5  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b6  BIGINT UNSIGNED NOT NULL DEFAULT 0, b7  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b8  BIGINT UNSIGNED NOT NULL DEFAULT 0, b9  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  b10 BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (spooler)
) ENGINE=InnoDB;

-- Event counts per minute of receipt, application, event type and outcome
-- ('accepted', or the error code), kept by the spool in the same
-- transaction as the events and event_errors rows it counts: for any range
-- of minutes, SUM(n) equals COUNT(*) over those tables by received_at.
-- Duplicates skipped are not counted (they are not stored); a replayed
-- error that becomes an event adds one 'accepted' (the error row stays,
-- with replayed_at set); quarantined rows are in neither table nor here.
-- shard spreads concurrent spoolers over distinct rows (a spooler's
-- process id modulo 8), so their batches do not wait on each other's
-- counter rows; readers sum over it. Request-level errors (no event type)
-- have category = name = ''.
CREATE TABLE IF NOT EXISTS event_counts_minute (
  minute         DATETIME     NOT NULL,
  application_id INT UNSIGNED NOT NULL,
  category       VARCHAR(255) NOT NULL,
  name           VARCHAR(255) NOT NULL,
  outcome        VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  shard          TINYINT UNSIGNED NOT NULL,
  n              BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (minute, application_id, category, name, outcome, shard),
  KEY ix_event_counts_type (category, name, minute)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The same counts without the shard, per minute and per hour, with the
-- application's name: what analysts and the status page read.
CREATE OR REPLACE SQL SECURITY DEFINER VIEW v_event_counts_minute AS
SELECT c.minute, c.application_id, a.name AS application, c.category, c.name, c.outcome,
       SUM(c.n) AS n
FROM event_counts_minute c JOIN applications a ON a.id = c.application_id
GROUP BY c.minute, c.application_id, a.name, c.category, c.name, c.outcome;

CREATE OR REPLACE SQL SECURITY DEFINER VIEW v_event_counts_hour AS
SELECT DATE_FORMAT(c.minute, '%Y-%m-%d %H:00:00') AS hour, c.application_id,
       a.name AS application, c.category, c.name, c.outcome, SUM(c.n) AS n
FROM event_counts_minute c JOIN applications a ON a.id = c.application_id
GROUP BY hour, c.application_id, a.name, c.category, c.name, c.outcome;
