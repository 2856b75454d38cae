-- POST /usage/:userId's Idempotency-Key: the first answer to a key, stored in the same D1
-- batch (one transaction) as the count it made, so a retry after a lost answer (a timeout, a
-- 503 after the commit) replays it and counts nothing. The key is the primary key: of two
-- requests with one key, the second's insert finds the first's row and counts nothing
-- (worker/src/sql.js, CLAIM_KEY). Rows older than IDEMPOTENCY_WINDOW_SECONDS seconds are expired: a
-- new request with the key replaces the row, and the cron deletes them by created_at (its index).
CREATE TABLE IF NOT EXISTS usage_keys (
  key          TEXT NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint  TEXT NOT NULL,   -- the user (and body) the key was first used for
  owner        TEXT NOT NULL,   -- the request id that holds the key
  created_at   INTEGER NOT NULL, -- Unix seconds
  window_start INTEGER NOT NULL,
  used_before  INTEGER NOT NULL,
  used         INTEGER,         -- the count after the request (set in the same transaction)
  limit_value  INTEGER NOT NULL,
  tier         TEXT NOT NULL,
  effective_tier TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS usage_keys_created_at ON usage_keys (created_at);
