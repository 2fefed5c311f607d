-- The scale-out stress (tests/scaleout/stress.sh), on the proxy database:
-- two 100-seat events placed on the two shards, 32 buyers, and
-- stress.step(), what each pgbench transaction does, every evently call
-- through the proxy's SQL API (each its own transaction on its shard).
-- The stress schema is the test's bookkeeping on the proxy, not evently's.
CREATE SCHEMA stress;
CREATE TABLE stress.users (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.events (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.seats (event_n int, n int, id uuid NOT NULL, PRIMARY KEY (event_n, n));
CREATE TABLE stress.bookings (id uuid PRIMARY KEY, user_n int NOT NULL);
CREATE UNLOGGED TABLE stress.outcomes (action text, outcome text);

INSERT INTO stress.users SELECT n, evently.create_user(format('scale%s@example.com', n), 'qwerty', 'Scale', n::text)
  FROM generate_series(1, 32) n;

DO $$
DECLARE
    hall uuid := evently.create_venue_template('Scale Hall');
BEGIN
    PERFORM evently.add_section(hall, 'Floor', '1', '4', 25);
    FOR n IN 1 .. 2 LOOP
        INSERT INTO stress.events VALUES (n, evently.create_event(format('Scale %s', n), hall, now() + interval '30 days',
            100, NULL, 'Hall', NULL, '{}', '{}', '{"hold_ttl": "2 seconds", "max_seats_per_user": 8}'));
    END LOOP;
END
$$;
SELECT evently.set_cancellation_policy(id, true, now() + interval '29 days', 'NONE', 0) FROM stress.events;
INSERT INTO stress.seats
SELECT e.n, row_number() OVER (PARTITION BY e.n ORDER BY s.seat_id), s.seat_id
  FROM stress.events e, evently.event_seats(e.id) s;

-- One step of buyer u on event e: hold k seats from seat s on, then confirm
-- (a <= 70), release (a <= 85) or let the hold lapse; a quarter of the
-- steps also cancel one of the buyer's bookings.  evently's refusals (class
-- EV) are outcomes; anything else fails the pgbench client.
CREATE FUNCTION stress.step(u int, e int, s int, k int, a int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    me uuid := (SELECT id FROM stress.users WHERE n = u);
    seats uuid[] := ARRAY(SELECT id FROM stress.seats WHERE event_n = e AND n BETWEEN s AND s + k - 1);
    hold jsonb;
    booking jsonb;
    victim uuid;
BEGIN
    BEGIN
        hold := evently.hold_seats((SELECT id FROM stress.events WHERE n = e), me, seats);
        IF a <= 70 THEN
            booking := evently.confirm_booking((hold->>'hold_id')::uuid, me, 'mock', NULL);
            INSERT INTO stress.bookings VALUES ((booking->>'booking_id')::uuid, u);
            INSERT INTO stress.outcomes VALUES ('confirm', 'ok');
        ELSIF a <= 85 THEN
            PERFORM evently.release_hold((hold->>'hold_id')::uuid, me);
            INSERT INTO stress.outcomes VALUES ('release', 'ok');
        ELSE
            INSERT INTO stress.outcomes VALUES ('lapse', 'ok');
        END IF;
    EXCEPTION WHEN OTHERS THEN
        IF left(SQLSTATE, 2) <> 'EV' THEN
            RAISE;
        END IF;
        INSERT INTO stress.outcomes VALUES ('hold or confirm', SQLSTATE);
    END;
    IF a % 4 = 0 THEN
        DELETE FROM stress.bookings WHERE id = (SELECT id FROM stress.bookings WHERE user_n = u LIMIT 1
                                                   FOR UPDATE SKIP LOCKED) RETURNING id INTO victim;
        IF victim IS NOT NULL THEN
            BEGIN
                PERFORM evently.cancel_with_policy(victim, me, 'stress');
                INSERT INTO stress.outcomes VALUES ('cancel', 'ok');
            EXCEPTION WHEN OTHERS THEN
                IF left(SQLSTATE, 2) <> 'EV' THEN
                    RAISE;
                END IF;
                INSERT INTO stress.outcomes VALUES ('cancel', SQLSTATE);
            END;
        END IF;
    END IF;
END
$$;
