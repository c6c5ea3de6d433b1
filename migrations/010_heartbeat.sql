-- 010_heartbeat.sql - how far behind the writer a standby or replica is.
--
-- eye-spool, which runs against the writer, sets beat_at to the writer's
-- clock once a second. A server that replicates from the writer (a Galera
-- standby, an asynchronous replica) holds the last beat it has applied, so
-- eye.fcgi's /v1/health can say how far behind the server the read API
-- uses is: the writer's beat minus the reader's, and the reader's beat's
-- age (pt-heartbeat's method; it needs no replication privilege and works
-- the same on every topology). writer names the node the beat came from.
CREATE TABLE IF NOT EXISTS heartbeat (
  id      TINYINT UNSIGNED NOT NULL,
  beat_at DATETIME(6)      NOT NULL,
  writer  VARCHAR(255)     NOT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO heartbeat (id, beat_at, writer) VALUES (1, UTC_TIMESTAMP(6), '');
