-- The seated flash sale's world (tests/bench/flash-sale.sh): a venue of 10
-- sections and three published events of its seats, on sale now (each
-- buyer may buy up to 1,000 seats): one for the sale through the shim with
-- its read cache, one for the same sale with the cache off, one for
-- pgbench making the shim's SQL calls.  One buyer per client; all have the
-- same bcrypt hash, computed once (users.password_hash allows no cost below
-- 10, so the logins, before the clock starts, take a few seconds).
-- psql variables: clients (how many buyers), seats (of each event; a
-- multiple of 1,000, or at most 1,000 and a multiple of 10).
CREATE SCHEMA bench;
SELECT set_config('bench.seats', :'seats', false);
CREATE TABLE bench.sale (run text PRIMARY KEY, event_id uuid NOT NULL);
DO $$
DECLARE
    per_section int := current_setting('bench.seats')::int / 10;
    hall uuid := evently.create_venue_template('Flash Arena');
BEGIN
    -- rows of 100 seats (fewer seats: one row)
    FOR s IN 1 .. 10 LOOP
        PERFORM evently.add_section(hall, format('Block %s', s), '1', greatest(per_section / 100, 1)::text,
                                    least(per_section, 100));
    END LOOP;
    INSERT INTO bench.sale
    SELECT run, evently.create_event(format('Flash Sale (%s)', run), hall, now() + interval '30 days', 100,
                                     settings => '{"max_seats_per_user": 1000}')
      FROM unnest(ARRAY['cache', 'nocache', 'pgbench']) run;
    IF (SELECT count(*) FROM evently.event_seats JOIN bench.sale USING (event_id)) <> 3 * current_setting('bench.seats')::int THEN
        RAISE 'FLASH_SEATS % is not 10 sections of rows of 100 (or of one row)', current_setting('bench.seats');
    END IF;
END
$$;
INSERT INTO evently.users (email, password_hash, first_name, last_name)
SELECT format('flash%s@example.com', n), (SELECT evently._bcrypt_hash('benchpass')), 'Buyer', n::text
  FROM generate_series(0, :clients - 1) n;
CREATE TABLE bench.buyers (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.buyers
SELECT split_part(split_part(email, '@', 1), 'flash', 2)::int, id FROM evently.users WHERE email ~ '^flash[0-9]+@';

-- pgbench's sale (flash-pgbench.sql): the pgbench event's seats dealt to
-- the clients at random, client c buying its seats (c, 1), (c, 2), ... in
-- turn, so that the baseline is the engine's cost without conflicts
CREATE TABLE bench.dealt (client int, n int, seat_id uuid NOT NULL, PRIMARY KEY (client, n));
CREATE FUNCTION bench.deal(clients int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO bench.dealt
    SELECT r % clients, r / clients + 1, seat_id
      FROM (SELECT seat_id, row_number() OVER (ORDER BY random()) - 1 AS r
              FROM evently.event_seats WHERE event_id = (SELECT event_id FROM bench.sale WHERE run = 'pgbench')) s
$$;
-- The shim's two SQL calls, each its own transaction as over HTTP: hold
-- client's seats pos .. pos + q - 1 for buyer n (the hold's id, '' when
-- the client has no seats left), then confirm it, with idempotency keys.
CREATE FUNCTION bench.api_hold(client int, pos int, q int, buyer int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT evently.api_hold_seats(b.id, jsonb_build_object(
                         'body', jsonb_build_object('event_id', s.event_id, 'seat_ids', d.ids),
                         'idempotency_key', format('pg-%s-%s', client, pos))) ->> 'hold_id'
                       FROM bench.sale s, bench.buyers b,
                            LATERAL (SELECT jsonb_agg(seat_id) AS ids FROM bench.dealt
                                      WHERE dealt.client = api_hold.client AND n >= pos AND n < pos + q) d
                      WHERE s.run = 'pgbench' AND b.n = buyer AND d.ids IS NOT NULL), '')
$$;
CREATE FUNCTION bench.api_confirm(hold text, client int, pos int, buyer int) RETURNS text LANGUAGE sql AS $$
    SELECT evently.api_booking_confirm(b.id, jsonb_build_object(
               'body', jsonb_build_object('hold_id', hold, 'event_id', s.event_id, 'payment_method', 'mock'),
               'idempotency_key', format('pg-%s-%s', client, pos))) ->> 'status'
      FROM bench.sale s, bench.buyers b
     WHERE hold <> '' AND s.run = 'pgbench' AND b.n = buyer
$$;
-- the availability read (GET /sections/:id/seats/available, anonymous) of
-- section s (1-10) of the pgbench event
CREATE TABLE bench.sections (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.sections
SELECT row_number() OVER (ORDER BY name), id FROM evently.venue_sections
 WHERE template_id = (SELECT id FROM evently.venue_templates WHERE name = 'Flash Arena');
CREATE FUNCTION bench.api_read(s int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_section_seats_available(NULL, jsonb_build_object(
               'path', jsonb_build_object('sectionId', c.id), 'query', jsonb_build_object('event_id', e.event_id)))
      FROM bench.sections c, bench.sale e WHERE c.n = s AND e.run = 'pgbench'
$$;
-- A refused hold (SEAT_UNAVAILABLE): 1-4 seats of the pgbench event in a
-- row, from a random one of client 0's, once its sale has booked them all;
-- the refusal is the outcome, not an error that would stop pgbench (the
-- exception block, a subtransaction, is a cost only this call pays).
CREATE FUNCTION bench.api_hold_taken(q int, buyer int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    start int := 1 + floor(random() * ((SELECT max(n) FROM bench.dealt WHERE client = 0) - q))::int;
BEGIN
    PERFORM evently.api_hold_seats(b.id, jsonb_build_object(
                'body', jsonb_build_object('event_id', s.event_id, 'seat_ids',
                                           (SELECT jsonb_agg(seat_id) FROM bench.dealt
                                             WHERE client = 0 AND n >= start AND n < start + q))))
       FROM bench.sale s, bench.buyers b WHERE s.run = 'pgbench' AND b.n = buyer;
    RETURN 'held';
EXCEPTION WHEN SQLSTATE 'EV004' THEN
    RETURN 'refused';
END
$$;
