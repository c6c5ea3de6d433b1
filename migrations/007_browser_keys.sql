-- 007_browser_keys.sql - browser keys: write-only keys bound to web origins.
--
-- A browser key lives in public HTML, so it is not a secret: what limits it
-- is the list of origins (scheme://host[:port], canonical form, see
-- lib/origin.h) whose pages may use it, kept space-separated in `origins`.
-- Only browser keys have origins, and every browser key has at least one.
ALTER TABLE api_keys
  MODIFY scope ENUM('write','read','browser') NOT NULL DEFAULT 'write',
  ADD COLUMN origins VARCHAR(1023) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER scope,
  ADD CONSTRAINT ck_api_keys_origins
    CHECK ((scope = 'browser') = (origins IS NOT NULL AND origins <> ''));
