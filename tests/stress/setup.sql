-- The stress test's world: 64 users, one 500-seat event with short holds and
-- offers (so they lapse during the run), a cancellation policy, a waitlist.
CREATE SCHEMA stress;
CREATE TABLE stress.users (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.seats (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.event (id uuid NOT NULL);
CREATE UNLOGGED TABLE stress.outcomes (action text, outcome text);

DO $$
DECLARE
    hall uuid := evently.create_venue_template('Stress Hall');
    ev uuid;
BEGIN
    PERFORM evently.add_section(hall, 'Floor', '1', '20', 25);
    ev := evently.create_event('Stress', hall, now() + interval '30 days', 100, NULL, 'Hall', NULL, '{}', '{}',
                               '{"hold_ttl": "3 seconds", "offer_window": "4 seconds",
                                 "max_seats_per_user": 8, "max_seats_per_hold": 4}');
    PERFORM evently.set_cancellation_policy(ev, true, now() + interval '29 days', 'PERCENTAGE', 10);
    INSERT INTO stress.event VALUES (ev);
    INSERT INTO stress.seats SELECT row_number() OVER (ORDER BY seat_order), seat_id
      FROM evently.event_seats WHERE event_id = ev;
END
$$;
-- one bcrypt hash for all 64 users keeps the setup fast
INSERT INTO evently.users (email, password_hash, first_name, last_name)
SELECT format('stress%s@example.com', n), evently._bcrypt_hash('qwerty'), 'Stress', n::text
  FROM generate_series(1, 64) n;
INSERT INTO stress.users SELECT split_part(split_part(email, '@', 1), 'stress', 2)::int, id
  FROM evently.users WHERE email LIKE 'stress%';

-- One client action, chosen by a (1-100).  The engine's refusals (class EV)
-- are expected under contention and recorded; anything else (a deadlock, a
-- constraint violation, a crash) propagates and fails the pgbench client.
CREATE FUNCTION stress.act(u int, s int, k int, a int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ev uuid := (SELECT id FROM stress.event);
    me uuid := (SELECT id FROM stress.users WHERE n = u);
    action text;
    target uuid;
BEGIN
    IF a <= 40 THEN
        action := 'hold';
        PERFORM evently.hold_seats(ev, me, (SELECT array_agg(id) FROM stress.seats WHERE n BETWEEN s AND s + k - 1));
    ELSIF u % 4 = 0 AND (a <= 76 OR a BETWEEN 95 AND 96) THEN
        -- every fourth user never confirms, releases or leaves: their holds
        -- and waitlist offers lapse and expire
        RETURN 'idle';
    ELSIF a <= 70 THEN
        action := 'confirm';
        SELECT id INTO target FROM evently.holds
         WHERE user_id = me AND status = 'ACTIVE' ORDER BY waitlist_entry_id IS NULL, created_at LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.confirm_booking(target, me, 'card', md5(target::text));
    ELSIF a <= 76 THEN
        action := 'release';
        SELECT id INTO target FROM evently.holds WHERE user_id = me AND status = 'ACTIVE' ORDER BY random() LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.release_hold(target, me);
    ELSIF a <= 86 THEN
        action := 'cancel';
        SELECT id INTO target FROM evently.bookings WHERE user_id = me AND status = 'CONFIRMED' ORDER BY random() LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.cancel_with_policy(target, me, 'stress');
    ELSIF a <= 94 THEN
        action := 'join';
        PERFORM evently.join_waitlist(ev, me, k);
    ELSIF a <= 96 THEN
        action := 'leave';
        PERFORM evently.leave_waitlist(ev, me);
    ELSE
        action := 'expire';
        PERFORM evently.expire_holds();
    END IF;
    INSERT INTO stress.outcomes VALUES (action, 'ok');
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE NOT LIKE 'EV%' THEN
        RAISE;
    END IF;
    INSERT INTO stress.outcomes VALUES (action, SQLSTATE);
    RETURN SQLSTATE;
END
$$;
