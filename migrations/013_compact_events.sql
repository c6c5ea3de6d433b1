-- 013_compact_events.sql - compact rows: event types as a dimension, only
-- the indexes an analyst query needs, a leaner queue (issue 17).
--
-- Converts an installation in place, with its data (README "Upgrading to
-- compact rows"): stop eye-spool first (eye.fcgi keeps queueing; nothing is
-- lost), run `eye-admin migrate`, `eye-admin accounts | mariadb` (grants on
-- the two new tables), start the new eye-spool. events is copied into a
-- new table of the new shape (bench/migrate_013.sh measures how long that
-- takes per million rows), a month per transaction, and swapped in by one
-- RENAME; every statement can be re-run after a failure (a half-made copy
-- is dropped and made again). The copy needs free disk space for a second
-- (smaller) events table until the old one is dropped.
--
-- What changes, and why (bench/README.md "What a stored event costs"):
-- * event_categories and event_types: a category's and a type's name once,
--   a 2-byte id in every row of events and of its indexes instead of two
--   VARCHAR(255). eye-spool adds a type the first time one of its events is
--   stored. event_errors, event_queue and event_quarantine keep the names
--   as sent: a rejected event's type may be unknown.
-- * events' primary key becomes (occurred_at, id): rows are stored in time
--   order, so a time range is a range of the table itself and needs no
--   index of its own (ix_events_time goes), and every secondary index ends
--   in (occurred_at, id) for the keyset order the read API pages by. id is
--   still unique: it is the queue's AUTO_INCREMENT id.
-- * The indexes kept, each for a documented query (README "Indexes"):
--   ix_events_session_time (a session's timeline), ix_events_category_time
--   (a category in a time range), ix_events_type_time (an event type in a
--   time range, a type's rejection rate), ix_events_application_time (an
--   application's events: app-scoped read keys, erasure of an
--   application). ix_events_stored goes: no analyst query reads by the
--   time of storing (eye-admin stats counts from event_counts_minute).
-- * No compression. PAGE_COMPRESSED was measured (bench/README.md, "What
--   a stored event costs": 157 bytes per stored event on disk instead of
--   ~440) and left out: InnoDB extends a page-compressed file sparsely, so
--   on a full disk inserts keep succeeding into the buffer pool, the pages
--   cannot be written, nothing is logged, writers stall and mariadbd hangs
--   on shutdown, where an uncompressed table answers "table is full" (1114)
--   at once and eye.fcgi answers 503 (tests/integration/faults.sh).
--   ROW_FORMAT=COMPRESSED keeps compressed pages in the buffer pool and
--   recompresses on every change (2.4x the insert time in the same bench).
--
-- The analyst views keep their names and columns (category and name come
-- from the dimension tables by join), so SQL written against v_events and
-- v_session_timeline keeps working; SQL against events itself that names
-- events.category or events.name must join event_types and
-- event_categories (README "Querying").

-- utf8mb4_bin, as every table of The Eye: names are compared byte for
-- byte ("Page" and "page" are two categories), and the spool joins them
-- with the queue's names, which must not mix collations.
CREATE TABLE IF NOT EXISTS event_categories (
  id    SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name  VARCHAR(255)      NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_event_categories_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS event_types (
  id           SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  category_id  SMALLINT UNSIGNED NOT NULL,
  name         VARCHAR(255)      NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_event_types_name (category_id, name),
  CONSTRAINT fk_event_types_category FOREIGN KEY (category_id) REFERENCES event_categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- eye_compact_013: the copy, once (a table that already has type_id is
-- left alone). The new table gets events' own partitions.
DROP PROCEDURE IF EXISTS eye_compact_013;
CREATE PROCEDURE eye_compact_013()
BEGIN
  DECLARE parts TEXT;
  DECLARE part VARCHAR(64);
  DECLARE done BOOLEAN DEFAULT FALSE;
  DECLARE months CURSOR FOR
    SELECT PARTITION_NAME FROM information_schema.PARTITIONS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events' AND PARTITION_NAME IS NOT NULL
    ORDER BY PARTITION_ORDINAL_POSITION;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = TRUE;
  IF NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events'
                   AND COLUMN_NAME = 'type_id') THEN
    -- Every type events holds, in name order (loose index scans of the two
    -- type indexes).
    INSERT INTO event_categories (name)
      SELECT e.category FROM events e
      WHERE NOT EXISTS (SELECT 1 FROM event_categories c WHERE c.name = e.category)
      GROUP BY e.category ORDER BY e.category;
    INSERT INTO event_types (category_id, name)
      SELECT c.id, x.name
      FROM (SELECT e.category, e.name FROM events e GROUP BY e.category, e.name) x
      JOIN event_categories c ON c.name = x.category
      WHERE NOT EXISTS (SELECT 1 FROM event_types t WHERE t.category_id = c.id AND t.name = x.name)
      ORDER BY c.id, x.name;

    SET SESSION group_concat_max_len = 1048576;
    SELECT GROUP_CONCAT('PARTITION ', PARTITION_NAME, ' VALUES LESS THAN (', PARTITION_DESCRIPTION, ')'
                        ORDER BY PARTITION_ORDINAL_POSITION SEPARATOR ', ')
      INTO parts FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events' AND PARTITION_NAME IS NOT NULL;
    DROP TABLE IF EXISTS events_013;
    SET @eye_q = CONCAT(
      'CREATE TABLE events_013 (',
      ' occurred_at       DATETIME(6)       NOT NULL,',
      ' id                BIGINT UNSIGNED   NOT NULL,',
      ' event_id          UUID              NOT NULL,',
      ' application_id    INT UNSIGNED      NOT NULL,',
      ' session_id        BIGINT UNSIGNED   NOT NULL,',
      ' category_id       SMALLINT UNSIGNED NOT NULL,',
      ' type_id           SMALLINT UNSIGNED NOT NULL,',
      ' data              LONGTEXT          NOT NULL CHECK (JSON_VALID(data)),',
      ' client_timestamp  DATETIME(6)       NOT NULL,',
      ' sent_at           DATETIME(6)       NULL,',
      ' clock_skew_us     BIGINT            NULL,',
      ' skew_corrected    TINYINT(1)        NOT NULL DEFAULT 0,',
      ' received_at       DATETIME(6)       NOT NULL,',
      ' stored_at         DATETIME(6)       NOT NULL DEFAULT CURRENT_TIMESTAMP(6),',
      ' rules_version     CHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,',
      ' user_agent        VARCHAR(255)      NULL,',
      ' client_ip         VARCHAR(39)       NULL,',
      ' PRIMARY KEY (occurred_at, id),',
      ' KEY ix_events_session_time (session_id, occurred_at, id),',
      ' KEY ix_events_category_time (category_id, occurred_at, id),',
      ' KEY ix_events_type_time (type_id, occurred_at, id),',
      ' KEY ix_events_application_time (application_id, occurred_at, id)',
      ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
      ' PARTITION BY RANGE COLUMNS(occurred_at) (', parts, ')');
    PREPARE st FROM @eye_q;
    EXECUTE st;
    DEALLOCATE PREPARE st;
    -- Month by month, each month its own statement and transaction, so
    -- the undo log holds at most one month's rows.
    OPEN months;
    copy_months: LOOP
      FETCH months INTO part;
      IF done THEN
        LEAVE copy_months;
      END IF;
      SET @eye_q = CONCAT(
        'INSERT INTO events_013 (occurred_at, id, event_id, application_id, session_id,',
        ' category_id, type_id, data, client_timestamp, sent_at, clock_skew_us, skew_corrected,',
        ' received_at, stored_at, rules_version, user_agent, client_ip)',
        ' SELECT e.occurred_at, e.id, e.event_id, e.application_id, e.session_id, c.id, t.id,',
        ' e.data, e.client_timestamp, e.sent_at, e.clock_skew_us, e.skew_corrected,',
        ' e.received_at, e.stored_at, e.rules_version, e.user_agent, e.client_ip',
        ' FROM events PARTITION (', part, ') e',
        ' JOIN event_categories c ON c.name = e.category',
        ' JOIN event_types t ON t.category_id = c.id AND t.name = e.name');
      PREPARE st FROM @eye_q;
      EXECUTE st;
      DEALLOCATE PREPARE st;
      COMMIT;
    END LOOP;
    CLOSE months;
    RENAME TABLE events TO events_pre013, events_013 TO events;
    DROP TABLE events_pre013;
  END IF;
END;

CALL eye_compact_013();
DROP PROCEDURE eye_compact_013;

-- sessions: ix_sessions_last_seen (009) goes. eye-spool moves a session's
-- last_seen_at with every batch that stores one of its events, and keeping
-- that index in step cost ~3 µs of mariadbd CPU per stored event (bench
-- spool phase). Its one reader, retention's session pruning (admin/prune.c),
-- walks sessions in primary-key batches and filters on last_seen_at, which
-- needs no index.
ALTER TABLE sessions DROP INDEX IF EXISTS ix_sessions_last_seen;

-- event_queue: ix_event_queue_received (001) goes. Nothing reads the queue
-- by receive time (queue_status takes the oldest row by id, the spool
-- claims by id), and every queued event paid for it twice, in eye.fcgi's
-- insert and in the spool's delete (~3 µs of mariadbd CPU per event in the
-- spool phase alone).
ALTER TABLE event_queue DROP INDEX IF EXISTS ix_event_queue_received;


-- The analyst views: the same names and columns as 012, category and name
-- by join. events drives; a filter on category (or category and name) makes
-- the dimension rows constants, so the plan is a range of
-- ix_events_category_time (ix_events_type_time), as before. The type is
-- joined on its category too (t.category_id = e.category_id): with the
-- category a constant, that makes (category_id, name) a constant lookup of
-- uq_event_types_name, so a name filter becomes a range of the type index
-- instead of a filter over the whole category.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_events AS
SELECT e.id, e.event_id, s.session_key AS session_id,
       (SELECT a.name FROM applications a WHERE a.id = e.application_id) AS application,
       c.name AS category, t.name AS name, e.data, e.occurred_at, e.client_timestamp, e.sent_at,
       e.clock_skew_us, e.skew_corrected, e.received_at, e.stored_at, e.rules_version,
       e.user_agent, e.client_ip
FROM events e
JOIN event_categories c ON c.id = e.category_id
JOIN event_types t ON t.id = e.type_id AND t.category_id = e.category_id
JOIN sessions s ON s.id = e.session_id;

CREATE OR REPLACE SQL SECURITY INVOKER VIEW v_session_timeline AS
SELECT s.session_key AS session_id,
       ROW_NUMBER() OVER (PARTITION BY s.session_key ORDER BY e.occurred_at, e.id) AS seq,
       e.id, e.event_id,
       (SELECT a.name FROM applications a WHERE a.id = e.application_id) AS application,
       c.name AS category, t.name AS name, e.data, e.occurred_at, e.received_at
FROM events e
JOIN event_categories c ON c.id = e.category_id
JOIN event_types t ON t.id = e.type_id AND t.category_id = e.category_id
JOIN sessions s ON s.id = e.session_id;
