-- A 30,000-seat event and one user per pgbench client, for the engine benchmark.
CREATE SCHEMA bench;
CREATE TABLE bench.seats (n bigint PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE bench.users (n int PRIMARY KEY, id uuid NOT NULL);
DO $$
DECLARE
    hall uuid := evently.create_venue_template('Bench Arena');
    ev uuid;
BEGIN
    PERFORM evently.add_section(hall, 'Floor', '1', '300', 100);
    ev := evently.create_event('Bench', hall, now() + interval '30 days', 100);
    INSERT INTO bench.seats SELECT row_number() OVER (ORDER BY seat_order), seat_id
      FROM evently.event_seats WHERE event_id = ev;
END
$$;
INSERT INTO evently.users (email, password_hash, first_name, last_name)
SELECT format('bench%s@example.com', n), evently._bcrypt_hash('qwerty'), 'Bench', n::text
  FROM generate_series(0, 63) n;
INSERT INTO bench.users SELECT split_part(split_part(email, '@', 1), 'bench', 2)::int, id
  FROM evently.users WHERE email LIKE 'bench%';
