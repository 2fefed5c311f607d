-- The gate rush's world (tests/bench/checkin-rush.sh): two tiers-only
-- events starting in 30 minutes (their doors are open), each with one tier
-- of :tickets units all sold through the order API (mock provider, 100
-- units an order, 1,000 a buyer), and a door staff member of both who logs
-- in.  'rush' is scanned over HTTP, 'base' by pgbench calling
-- evently.validate_ticket: each its own tickets, none scanned before.
-- bench.codes holds every ticket's signed code in a shuffled order: a gate
-- sees tickets in no particular order.  psql variable: tickets.
CREATE SCHEMA bench;
SELECT evently.create_user('rush-admin@example.com', 'benchpass', 'Bench', 'Admin', 'ADMIN') AS admin_id \gset
SELECT evently.create_user('rush-staff@example.com', 'benchpass', 'Door', 'Staff') AS staff_id \gset
CREATE TABLE bench.events (label text PRIMARY KEY, event_id uuid NOT NULL, tier_id uuid);
INSERT INTO bench.events (label, event_id)
SELECT label, evently._create_event(name, NULL, now() + interval '30 minutes', 10, :'admin_id', 'The Gate', NULL,
                                    '{}', '{}', '{"max_seats_per_user": 1000, "max_seats_per_hold": 100}', NULL, 'published')
  FROM (VALUES ('rush', 'Gate Rush'), ('base', 'Gate Rush Baseline')) v(label, name);
UPDATE bench.events b
   SET tier_id = (evently.api_event_tier_create(:'admin_id', jsonb_build_object(
           'path', jsonb_build_object('eventId', b.event_id),
           'body', jsonb_build_object('name', 'General admission', 'price', 10, 'total_quantity', :tickets,
                                      'max_per_order', 100))) ->> 'id')::uuid;
SELECT evently.add_event_staff(event_id, :'staff_id', :'admin_id') FROM bench.events;
CREATE TABLE bench.buyers (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO bench.buyers
SELECT n, evently.create_user(format('rush%s@example.com', n), 'benchpass', 'Buyer', n::text)
  FROM generate_series(1, ceil(:tickets / 1000.0)::int) n;
-- every unit sold: orders of 100 (the last one of what is left)
SELECT set_config('bench.tickets', :'tickets', false) \gset
DO $$
DECLARE
    e record;
    b record;
    q int;
    left_over int;
    hold text;
BEGIN
    FOR e IN SELECT * FROM bench.events LOOP
        left_over := current_setting('bench.tickets')::int;
        FOR b IN SELECT * FROM bench.buyers ORDER BY n LOOP
            FOR k IN 1..10 LOOP
                q := least(100, left_over);
                EXIT WHEN q = 0;
                left_over := left_over - q;
                hold := evently.api_tickets_reserve(b.id, jsonb_build_object('body', jsonb_build_object(
                            'event_id', e.event_id, 'items',
                            jsonb_build_array(jsonb_build_object('tier_id', e.tier_id, 'quantity', q))))) ->> 'hold_id';
                PERFORM evently.api_order_create(b.id, jsonb_build_object(
                    'body', jsonb_build_object('hold_id', hold, 'payment_provider', 'mock'),
                    'idempotency_key', format('rush-%s-%s-%s', e.label, b.n, k)));
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;
CREATE TABLE bench.codes (label text, n int, ticket_id uuid NOT NULL, code text NOT NULL, PRIMARY KEY (label, n));
INSERT INTO bench.codes
SELECT b.label, row_number() OVER (PARTITION BY b.label ORDER BY random()), t.id, t.ticket_code
  FROM evently.tickets t JOIN bench.events b USING (event_id)
 WHERE t.status = 'VALID';
GRANT USAGE ON SCHEMA bench TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA bench TO PUBLIC;
SELECT label, (SELECT count(*) FROM bench.codes c WHERE c.label = b.label) AS tickets FROM bench.events b ORDER BY label;
