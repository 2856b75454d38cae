-- The system of record behind the KV cache.
-- Applied by wrangler: `wrangler d1 migrations apply DB --local` (guruai-cache local does it)
-- or `--remote --env <stack>`. Never edit an applied migration: add 0002_... instead.
-- (One edit was made, and is safe: `IF NOT EXISTS` below. wrangler records applied files
-- by name in d1_migrations and never runs one again, so databases that applied 0001 are
-- untouched; a database made by hand before it (the setup guide's) no longer stops it.
-- The deploy first checks that such a table has the columns below: infra/plan/schema.py.)

-- One subscription per user. The Worker reads it by primary key
-- (GET /subscriptions/:userId, POST /usage/:userId on a cache miss)
-- and writes it with an upsert (PUT /subscriptions/:userId).
CREATE TABLE IF NOT EXISTS subscriptions (
  user_id    TEXT NOT NULL PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 64),
  tier       TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('active', 'trialing', 'past_due', 'canceled')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- One counter per usage window (RATE_LIMIT_TTL seconds, a UTC day by default) and user,
-- incremented atomically by an upsert (POST /usage/:userId); window_start is the window's
-- start in Unix seconds. The key leads with window_start so that one index serves both
-- queries: the upsert's conflict check (the whole key) and the scheduled cleanup's
-- `DELETE FROM usage WHERE window_start < ?` (a range over the key's first column).
CREATE TABLE IF NOT EXISTS usage (
  window_start INTEGER NOT NULL,
  user_id      TEXT NOT NULL,
  count        INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (window_start, user_id)
) WITHOUT ROWID;
