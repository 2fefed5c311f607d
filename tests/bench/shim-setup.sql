-- The shim benchmark's world: a 60,000-seat event and 8 users who log in.
CREATE SCHEMA bench;
CREATE TABLE bench.seats (n bigint PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE bench.users (n int PRIMARY KEY, id uuid NOT NULL);
DO $$
DECLARE
    hall uuid := evently.create_venue_template('Bench Stadium');
    ev uuid;
BEGIN
    PERFORM evently.add_section(hall, 'Stands', '1', '600', 100);
    ev := evently.create_event('Bench Match', hall, now() + interval '30 days', 100,
                               settings => '{"max_seats_per_user": 1000}');
    INSERT INTO bench.seats SELECT row_number() OVER (ORDER BY seat_order), seat_id
      FROM evently.event_seats WHERE event_id = ev;
END
$$;
INSERT INTO bench.users
SELECT n, evently.create_user(format('bench%s@example.com', n), 'benchpass', 'Bench', 'User')
  FROM generate_series(0, 7) n;
