-- The GA flash sale's baseline (tests/bench/ga-flash-sale.sh): the same
-- reservations of 1-4 units, at the SQL level, by four ways of keeping a
-- tier's capacity, each selling 10,000 units from fresh:
--   counter        one row per tier: UPDATE ... SET sold = sold + q
--                  WHERE sold + q <= total, then the hold row (the hot row
--                  the issue asks us to avoid);
--   units          the same hold on 10,000 pre-created unit rows claimed
--                  with FOR UPDATE SKIP LOCKED from the lowest free unit
--                  (alf.io's way), as bare as the counter;
--   units_random   the same from a random unit on, as reserve_tiers does;
--   reserve_tiers  the product: evently.reserve_tiers on a fresh tier
--                  (units, its slotted counters, limits, outbox and audit).
-- Each attempt also writes bench.claims (method, quantity, outcome: held,
-- refused, or busy -- reserve_tiers's BUSY after evently.lock_timeout --,
-- the clock at its end): sell-out time is first to last claim.  Every
-- transaction commits asynchronously, as reserve_tiers does a hold's.
CREATE UNLOGGED TABLE bench.claims (
    method   text NOT NULL,
    quantity int NOT NULL,
    outcome  text NOT NULL CHECK (outcome IN ('held', 'refused', 'busy')),
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE bench.buyers (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.buyers
SELECT split_part(split_part(email, '@', 1), 'ga', 2)::int, id FROM evently.users WHERE email ~ '^ga[0-9]+@';
-- what the run's reserve_tiers reserves from (a fresh tier per run)
CREATE TABLE bench.target (event_id uuid NOT NULL, tier_id uuid NOT NULL);

CREATE TABLE bench.counter (
    id    int PRIMARY KEY,
    total int NOT NULL,
    sold  int NOT NULL DEFAULT 0 CHECK (sold BETWEEN 0 AND total)
);
CREATE TABLE bench.counter_holds (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL,
    quantity   int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION bench.counter_reserve(p_user uuid, q int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bench.counter SET sold = sold + q WHERE id = 1 AND sold + q <= total;
    IF NOT FOUND THEN
        RETURN 'refused';
    END IF;
    INSERT INTO bench.counter_holds (user_id, quantity) VALUES (p_user, q);
    RETURN 'held';
END
$$;

CREATE TABLE bench.unit_holds (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL,
    quantity   int NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bench.units (
    unit_no int PRIMARY KEY,
    hold_id bigint REFERENCES bench.unit_holds
);
CREATE INDEX units_free ON bench.units (unit_no) WHERE hold_id IS NULL;
-- all or nothing: too few unlocked free units and nothing is held (the
-- locks taken go with the transaction, as a SOLD_OUT's do)
CREATE FUNCTION bench.units_reserve(p_user uuid, q int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    got int[] := ARRAY(SELECT unit_no FROM bench.units WHERE hold_id IS NULL
                        ORDER BY unit_no LIMIT q FOR UPDATE SKIP LOCKED);
    hold bigint;
BEGIN
    IF cardinality(got) < q THEN
        RETURN 'refused';
    END IF;
    INSERT INTO bench.unit_holds (user_id, quantity) VALUES (p_user, q) RETURNING id INTO hold;
    UPDATE bench.units SET hold_id = hold WHERE unit_no = ANY (got);
    RETURN 'held';
END
$$;

-- the same from a random unit on, wrapping around to the first, as
-- reserve_tiers claims (tiers.c, claim_units): concurrent claims look at
-- different rows
CREATE FUNCTION bench.units_random_reserve(p_user uuid, q int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    start int := 1 + floor(random() * (SELECT max(unit_no) FROM bench.units))::int;
    got int[] := ARRAY(SELECT unit_no FROM bench.units WHERE hold_id IS NULL AND unit_no >= start
                        ORDER BY unit_no LIMIT q FOR UPDATE SKIP LOCKED);
    hold bigint;
BEGIN
    IF cardinality(got) < q THEN
        got := got || ARRAY(SELECT unit_no FROM bench.units WHERE hold_id IS NULL AND unit_no < start
                             ORDER BY unit_no LIMIT q - cardinality(got) FOR UPDATE SKIP LOCKED);
    END IF;
    IF cardinality(got) < q THEN
        RETURN 'refused';
    END IF;
    INSERT INTO bench.unit_holds (user_id, quantity) VALUES (p_user, q) RETURNING id INTO hold;
    UPDATE bench.units SET hold_id = hold WHERE unit_no = ANY (got);
    RETURN 'held';
END
$$;

-- SOLD_OUT (EV018) and BUSY (EV011: a lock not granted within
-- evently.lock_timeout; the caller may retry) are outcomes here, not errors
-- that would stop the pgbench client; the exception block (a
-- subtransaction) is a cost only this method pays
CREATE FUNCTION bench.tiers_reserve(p_user uuid, q int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently.reserve_tiers(t.event_id, p_user, ARRAY[t.tier_id], ARRAY[q]) FROM bench.target t;
    RETURN 'held';
EXCEPTION
    WHEN SQLSTATE 'EV018' THEN
        RETURN 'refused';
    WHEN SQLSTATE 'EV011' THEN
        RETURN 'busy';
END
$$;

-- One reservation: buyer n's q units by the run's method.
CREATE FUNCTION bench.reserve(method text, buyer int, q int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    u uuid := (SELECT id FROM bench.buyers WHERE n = buyer);
    outcome text;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    outcome := CASE method WHEN 'counter' THEN bench.counter_reserve(u, q)
                      WHEN 'units' THEN bench.units_reserve(u, q)
                      WHEN 'units_random' THEN bench.units_random_reserve(u, q)
                      WHEN 'reserve_tiers' THEN bench.tiers_reserve(u, q) END;
    INSERT INTO bench.claims (method, quantity, outcome) VALUES (method, q, outcome);
    RETURN outcome;
END
$$;

-- The shim's own two SQL calls for one purchase, for the HTTP sale's
-- ratio (ga-api.sql): api_tickets_reserve (the hold's id, or '' when
-- SOLD_OUT), then api_order_create with the mock provider and an
-- idempotency key, each its own transaction as over HTTP; the order's
-- commit is durable (the engine asks for it), as over HTTP.
CREATE FUNCTION bench.api_reserve(buyer int, q int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN evently.api_tickets_reserve((SELECT id FROM bench.buyers WHERE n = buyer), jsonb_build_object(
               'body', jsonb_build_object('event_id', t.event_id, 'items',
                                          jsonb_build_array(jsonb_build_object('tier_id', t.tier_id, 'quantity', q)))))
           ->> 'hold_id'
      FROM bench.target t;
EXCEPTION WHEN SQLSTATE 'EV018' THEN
    RETURN '';
END
$$;
CREATE FUNCTION bench.api_order(buyer int, hold text, client int, attempt int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    paid jsonb;
BEGIN
    IF hold = '' THEN
        RETURN NULL;
    END IF;
    paid := evently.api_order_create((SELECT id FROM bench.buyers WHERE n = buyer), jsonb_build_object(
                'body', jsonb_build_object('hold_id', hold, 'payment_provider', 'mock'),
                'idempotency_key', format('pg-%s-%s', client, attempt)));
    INSERT INTO bench.claims (method, quantity, outcome)
    VALUES ('api', (SELECT sum(quantity) FROM evently.order_items WHERE order_id = (paid ->> 'order_id')::uuid),
            CASE WHEN paid ->> 'status' = 'PAID' THEN 'held' ELSE 'refused' END);
    RETURN paid ->> 'status';
END
$$;

-- A fresh start for a method: an unsold counter, free units, or a new
-- 10,000-unit tier of the baseline event (made through the tier API).
CREATE FUNCTION bench.reset(method text, units int, label text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE bench.claims;
    IF method = 'counter' THEN
        TRUNCATE bench.counter, bench.counter_holds;
        INSERT INTO bench.counter (id, total) VALUES (1, units);
    ELSIF method IN ('units', 'units_random') THEN
        TRUNCATE bench.units, bench.unit_holds;
        INSERT INTO bench.units (unit_no) SELECT generate_series(1, units);
    ELSE                                -- reserve_tiers, api
        DELETE FROM bench.target;
        INSERT INTO bench.target
        SELECT e.id, (evently.api_event_tier_create(
                   (SELECT id FROM evently.users WHERE email = 'ga-admin@example.com'),
                   jsonb_build_object('path', jsonb_build_object('eventId', e.id),
                                      'body', jsonb_build_object('name', label, 'price', 49.90,
                                                                 'total_quantity', units, 'max_per_order', 4)))
                ->> 'id')::uuid
          FROM evently.events e WHERE e.name = 'GA Baseline';
    END IF;
END
$$;

-- What a run sold: units, reservations, seconds from the first claim to
-- the last, refusals before the last claim (a counter refuses only what
-- does not fit; SKIP LOCKED also what others have locked), BUSY answers,
-- and the method's own count of what it sold (must be the units).
CREATE FUNCTION bench.result(p_method text)
RETURNS TABLE (units bigint, claims bigint, seconds float8, refused bigint, busy bigint, sold bigint)
LANGUAGE sql AS $$
    SELECT sum(quantity) FILTER (WHERE outcome = 'held'), count(*) FILTER (WHERE outcome = 'held'),
           extract(epoch FROM max(at) FILTER (WHERE outcome = 'held') - min(at) FILTER (WHERE outcome = 'held')),
           count(*) FILTER (WHERE outcome = 'refused'
                              AND at < (SELECT max(at) FROM bench.claims WHERE outcome = 'held')),
           count(*) FILTER (WHERE outcome = 'busy'),
           CASE p_method WHEN 'counter' THEN (SELECT sold FROM bench.counter WHERE id = 1)
                       WHEN 'units' THEN (SELECT count(*) FROM bench.units WHERE hold_id IS NOT NULL)
                       WHEN 'units_random' THEN (SELECT count(*) FROM bench.units WHERE hold_id IS NOT NULL)
                       WHEN 'api' THEN (SELECT count(*) FROM evently.tier_units u JOIN bench.target t USING (tier_id)
                                         WHERE u.status = 'BOOKED')
                       ELSE (SELECT count(*) FROM evently.tier_units u JOIN bench.target t USING (tier_id)
                              WHERE u.status = 'HELD') END
      FROM bench.claims
$$;
