-- 80_outbox.sql: the outbox's wake-up, health, and what evently-bridge calls.

-- A wake-up for the bridge, not the payload.  PostgreSQL folds identical
-- notifications of one transaction into one, so a transaction sends at most
-- one.  NOTIFY also serialises the commits of notifying transactions (one
-- lock per database, held through the commit's WAL flush), so concurrent
-- writers share one wake-up: only the holder of the outbox wake-up token
-- (advisory key 0x45560003, 0) notifies; the others commit without waiting.
-- The bridge therefore drains until empty after every wake-up and re-polls
-- shortly after, so a row whose writer skipped the NOTIFY is not left behind.
-- (extension/outbox.c: in C, the trigger runs no statement.)
CREATE OR REPLACE FUNCTION evently._outbox_wakeup() RETURNS trigger
AS 'MODULE_PATHNAME', 'evently_outbox_wakeup' LANGUAGE C;

CREATE OR REPLACE TRIGGER outbox_wakeup AFTER INSERT ON evently.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION evently._outbox_wakeup();

-- What /health reports: the database answers, and how far the bridge lags.
CREATE OR REPLACE FUNCTION evently.health() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'database', 'ok',
        'outbox_lag_rows', count(*),
        'outbox_lag_seconds', coalesce(round(extract(epoch FROM now() - min(occurred_at)), 3), 0))
      FROM evently.outbox WHERE published_at IS NULL
$$;

-- Become the one bridge that publishes: a session-level advisory lock
-- (key 0x45560004, 0) held while the bridge's connection lives, so a second
-- bridge waits as a standby and takes over when the first one's session ends.
CREATE OR REPLACE FUNCTION evently.bridge_lead() RETURNS boolean
LANGUAGE sql AS $$ SELECT pg_try_advisory_lock(1163264004, 0) $$;

-- The oldest unpublished rows, in id order, as the bridge sends them: the
-- topic's aggregate, the key (the event id) and the message of SPEC section 5.
CREATE OR REPLACE FUNCTION evently.outbox_batch(max_rows int)
RETURNS TABLE (id bigint, type text, aggregate text, key text, value text)
LANGUAGE sql STABLE AS $$
    -- pick the rows first, then build the JSON of those alone (a top-N sort
    -- over the whole backlog must not build every row's message)
    SELECT o.id, o.type, o.aggregate, o.event_id::text,
           jsonb_build_object('id', o.id, 'type', o.type, 'occurred_at', o.occurred_at,
                              'event_id', o.event_id, 'user_id', o.user_id, 'data', o.data)::text
      FROM (SELECT * FROM evently.outbox WHERE published_at IS NULL ORDER BY id LIMIT max_rows) o
     ORDER BY o.id
$$;

-- Mark rows published once Kafka acknowledged them; returns how many changed.
CREATE OR REPLACE FUNCTION evently.outbox_published(ids bigint[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH marked AS (
        UPDATE evently.outbox SET published_at = now()
         WHERE id = ANY (ids) AND published_at IS NULL
        RETURNING 1)
    SELECT count(*) FROM marked
$$;

-- Delete published rows older than the retention, a bounded chunk per call.
CREATE OR REPLACE FUNCTION evently.outbox_prune(retention interval, max_rows int DEFAULT 10000) RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM evently.outbox WHERE id IN (
            SELECT id FROM evently.outbox
             WHERE published_at IS NOT NULL AND published_at < now() - retention
             ORDER BY id LIMIT max_rows)
        RETURNING 1)
    SELECT count(*) FROM gone
$$;
