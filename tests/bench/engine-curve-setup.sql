-- The engine benchmark's cost curve: one event per hold size, each with
-- 3,750 seats per pgbench client per seat of a hold (8 clients), so that a
-- run of 4- or 10-seat holds takes distinct seats as the 1-seat run does.
-- After engine-setup.sql (bench.users).  psql -v rows=N makes events of N
-- rows of 100 seats per seat of a hold instead (engine-stmts.sh needs few).
\if :{?rows}
\else
\set rows 300
\endif
SELECT set_config('bench.rows', :'rows', false);
CREATE TABLE bench.hold_seats (k int, n bigint, id uuid NOT NULL, PRIMARY KEY (k, n));
DO $$
DECLARE
    k int;
    hall uuid;
    ev uuid;
BEGIN
    FOREACH k IN ARRAY ARRAY[4, 10] LOOP
        hall := evently.create_venue_template(format('Bench Arena %s', k));
        PERFORM evently.add_section(hall, 'Floor', '1', (current_setting('bench.rows')::int * k)::text, 100);
        ev := evently.create_event(format('Bench %s', k), hall, now() + interval '30 days', 100);
        INSERT INTO bench.hold_seats SELECT k, row_number() OVER (ORDER BY seat_order), seat_id
          FROM evently.event_seats WHERE event_id = ev;
    END LOOP;
END
$$;
ANALYZE bench.hold_seats;
