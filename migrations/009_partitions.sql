-- 009_partitions.sql - events and event_errors partitioned by month, the
-- event_id guarantee moved to its own table, erasure's audit trail.
--
-- Converts an installation in place, with its data (README "Retention"):
-- stop eye-spool first (eye.fcgi keeps queueing; nothing is lost), run
-- `eye-admin migrate`, `eye-admin accounts | mariadb` (new grants), start
-- the new eye-spool. Every statement can be re-run after a failure.
-- Months ahead are added later by eye_partitions_ahead (below), which
-- eye-spool calls hourly.
--
-- Why monthly (bench/partitions.sh measures both): a query without a time
-- bound (a session's timeline) probes every partition's index, and a year
-- is 13 monthly partitions against ~400 daily ones; a time-bounded query
-- prunes to one partition either way, and a month's partition is dropped in
-- the same few milliseconds as a day's.
--
-- MariaDB wants the partitioning column in every unique key and allows no
-- foreign key on a partitioned table:
-- * events' primary key becomes (id, occurred_at), event_errors'
--   (id, received_at); id alone stays unique because it is the queue's id.
-- * (application_id, event_id) was events' unique key (006). It now lives in
--   event_ids, one compact unpartitioned row per stored event (22 bytes of
--   key and columns), which eye-spool inserts in the same transaction as
--   the event: an event_id is stored once per application for as long as
--   the event is kept. `eye-admin retention` deletes its rows, in bounded
--   batches through ix_event_ids_time, after it drops the partition that
--   held their events.
-- * The foreign keys to sessions and applications are dropped; the writers
--   keep them: eye-spool stores an event only by joining its session and
--   application (a row without them stays unstored and ends in
--   event_quarantine), and erasure and retention delete events before the
--   session they belong to (tests/integration/retention.sh checks both).

CREATE TABLE IF NOT EXISTS event_ids (
  application_id  INT UNSIGNED    NOT NULL,
  event_id        UUID            NOT NULL,
  id              BIGINT UNSIGNED NOT NULL,  -- events.id of the stored event
  occurred_at     DATETIME(6)     NOT NULL,  -- its partition, for pruning
  PRIMARY KEY (application_id, event_id),
  KEY ix_event_ids_time (occurred_at)
) ENGINE=InnoDB;

INSERT IGNORE INTO event_ids (application_id, event_id, id, occurred_at)
SELECT application_id, event_id, id, occurred_at FROM events;

ALTER TABLE events
  DROP FOREIGN KEY IF EXISTS fk_events_session,
  DROP FOREIGN KEY IF EXISTS fk_events_application;
ALTER TABLE event_errors DROP FOREIGN KEY IF EXISTS fk_event_errors_application;

-- Retention deletes sessions whose last event is older than what is kept;
-- erasure finds a session's errors by its identifier.
ALTER TABLE sessions ADD KEY IF NOT EXISTS ix_sessions_last_seen (last_seen_at);
ALTER TABLE event_errors ADD KEY IF NOT EXISTS ix_event_errors_session (session_key);

-- eye_partition_009(table, column): one partition per month from the
-- month of the table's oldest row (at most 10 years back: older rows share
-- the first partition) to three months ahead, then p_future, which catches
-- whatever comes after until eye-spool or `eye-admin partitions` splits it.
-- The oldest partition holds everything before its upper bound. Partition
-- pYYYYMM holds the month YYYY-MM. Does nothing on a partitioned table.
DROP PROCEDURE IF EXISTS eye_partition_009;
CREATE PROCEDURE eye_partition_009(IN tbl VARCHAR(64), IN col VARCHAR(64), IN pk VARCHAR(200))
BEGIN
  DECLARE m DATE;
  DECLARE last_month DATE;
  DECLARE parts TEXT DEFAULT '';
  IF (SELECT COUNT(*) FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = tbl AND PARTITION_NAME IS NOT NULL) = 0 THEN
    SET @eye_min = NULL;
    SET @eye_q = CONCAT('SELECT MIN(', col, ') INTO @eye_min FROM ', tbl);
    PREPARE st FROM @eye_q;
    EXECUTE st;
    DEALLOCATE PREPARE st;
    SET last_month = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') + INTERVAL 3 MONTH;
    SET m = DATE_FORMAT(LEAST(COALESCE(@eye_min, UTC_TIMESTAMP()), UTC_TIMESTAMP()), '%Y-%m-01');
    SET m = GREATEST(m, DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') - INTERVAL 120 MONTH);
    WHILE m <= last_month DO
      SET parts = CONCAT(parts, 'PARTITION p', DATE_FORMAT(m, '%Y%m'),
                         ' VALUES LESS THAN (''', m + INTERVAL 1 MONTH, '''), ');
      SET m = m + INTERVAL 1 MONTH;
    END WHILE;
    SET @eye_q = CONCAT('ALTER TABLE ', tbl, ' DROP PRIMARY KEY, ADD PRIMARY KEY (', pk, ')',
                        IF(tbl = 'events', ', DROP INDEX IF EXISTS uq_events_app_event_id', ''),
                        ' PARTITION BY RANGE COLUMNS(', col, ') (', parts,
                        'PARTITION p_future VALUES LESS THAN (MAXVALUE))');
    PREPARE st FROM @eye_q;
    EXECUTE st;
    DEALLOCATE PREPARE st;
  END IF;
END;

CALL eye_partition_009('events', 'occurred_at', 'id, occurred_at');
CALL eye_partition_009('event_errors', 'received_at', 'id, received_at');
DROP PROCEDURE eye_partition_009;

-- eye_partitions_ahead(months_ahead, wait_s, added): makes sure events and
-- event_errors have a partition for every month up to months_ahead months
-- after the current one (UTC), by splitting p_future (milliseconds while it
-- is empty; rows already in it move to their month). Called by eye-spool
-- (hourly) and eye-admin (partitions --ensure, retention --apply) through
-- lib/partition.c. SQL SECURITY DEFINER: eye-spool may run it (EXECUTE)
-- without holding ALTER on the tables itself. The named lock eye_partitions
-- keeps concurrent callers to one split (a caller that does not get it
-- within wait_s seconds adds nothing: another is at it); the tables'
-- metadata locks are waited for at most wait_s seconds (writers queue behind
-- a waiting ALTER), and a split that times out is an error the caller
-- retries later. added receives the number of partitions created.
DROP PROCEDURE IF EXISTS eye_partitions_ahead;
CREATE PROCEDURE eye_partitions_ahead(IN months_ahead INT, IN wait_s INT, OUT added INT)
SQL SECURITY DEFINER
BEGIN
  DECLARE k INT DEFAULT 0;
  DECLARE tbl VARCHAR(64);
  DECLARE last_bound DATE;
  DECLARE want DATE;
  DECLARE m DATE;
  DECLARE parts TEXT;
  DECLARE old_wait BIGINT DEFAULT @@SESSION.lock_wait_timeout;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    SET SESSION lock_wait_timeout = old_wait;
    DO RELEASE_LOCK('eye_partitions');
    RESIGNAL;
  END;
  SET added = 0;
  IF GET_LOCK('eye_partitions', wait_s) = 1 THEN
    SET SESSION lock_wait_timeout = wait_s;
    SET want = DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-01') + INTERVAL (months_ahead + 1) MONTH;
    WHILE k < 2 DO
      SET tbl = ELT(k + 1, 'events', 'event_errors');
      SELECT MAX(CAST(TRIM(BOTH '''' FROM PARTITION_DESCRIPTION) AS DATE)) INTO last_bound
        FROM information_schema.PARTITIONS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = tbl AND PARTITION_DESCRIPTION <> 'MAXVALUE';
      IF last_bound IS NOT NULL AND last_bound < want THEN
        SET parts = '';
        SET m = last_bound;
        WHILE m < want DO
          SET parts = CONCAT(parts, 'PARTITION p', DATE_FORMAT(m, '%Y%m'),
                             ' VALUES LESS THAN (''', m + INTERVAL 1 MONTH, '''), ');
          SET m = m + INTERVAL 1 MONTH;
          SET added = added + 1;
        END WHILE;
        SET @eye_q = CONCAT('ALTER TABLE ', tbl, ' REORGANIZE PARTITION p_future INTO (', parts,
                            'PARTITION p_future VALUES LESS THAN (MAXVALUE))');
        PREPARE st FROM @eye_q;
        EXECUTE st;
        DEALLOCATE PREPARE st;
      END IF;
      SET k = k + 1;
    END WHILE;
    SET SESSION lock_wait_timeout = old_wait;
    DO RELEASE_LOCK('eye_partitions');
  END IF;
END;

-- What erasure removed: when, what was asked (a session or an
-- application), the subject only as a keyed hash (HMAC-SHA256 with the key
-- below, so the audit can confirm an erasure asked about again without
-- keeping the erased identifier), and how many rows of each table.
CREATE TABLE IF NOT EXISTS erasures (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  erased_at     DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  kind          ENUM('session','application') NOT NULL,
  subject_hash  BINARY(32)      NOT NULL,
  events        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  event_ids     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  errors        BIGINT UNSIGNED NOT NULL DEFAULT 0,
  sessions      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  queue         BIGINT UNSIGNED NOT NULL DEFAULT 0,
  quarantine    BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (id),
  KEY ix_erasures_subject (subject_hash)
) ENGINE=InnoDB;

-- The erasure hash key: random, made once, readable by the admin account
-- only (no other account has a grant on it).
CREATE TABLE IF NOT EXISTS erasure_key (
  id       TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  secret   BINARY(32) NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO erasure_key (id, secret) VALUES (1, RANDOM_BYTES(32));
