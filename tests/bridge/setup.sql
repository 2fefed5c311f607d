-- The bridge tests' world: two 1,000-seat events, a buyer, and bt.book(),
-- which makes real bookings (hold + confirm) alternating between the events.
CREATE SCHEMA bt;
CREATE TABLE bt.ids (k text PRIMARY KEY, id uuid NOT NULL);
DO $$
DECLARE
    hall uuid := evently.create_venue_template('Bridge Hall');
BEGIN
    PERFORM evently.add_section(hall, 'Floor', '1', '10', 100);
    INSERT INTO bt.ids VALUES
        ('one', evently.create_event('Bridge One', hall, now() + interval '30 days', 10,
                                     settings => '{"max_seats_per_user": 1000}')),
        ('two', evently.create_event('Bridge Two', hall, now() + interval '30 days', 10,
                                     settings => '{"max_seats_per_user": 1000}')),
        -- a shard of the two-shard test already has her, from the global primary
        ('buyer', coalesce((SELECT id FROM evently.users WHERE email = 'buyer@example.com'),
                           evently.create_user('buyer@example.com', 'qwerty', 'Bea', 'Buyer')));
END
$$;
CREATE FUNCTION bt.id(key text) RETURNS uuid LANGUAGE sql STABLE
RETURN (SELECT id FROM bt.ids WHERE k = key);

-- n bookings of one seat each, alternating events; returns the booking count
CREATE FUNCTION bt.book(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    ev uuid;
    seat uuid;
BEGIN
    FOR i IN 1 .. n LOOP
        ev := bt.id(CASE WHEN i % 2 = 1 THEN 'one' ELSE 'two' END);
        SELECT seat_id INTO seat FROM evently.event_seats
         WHERE event_id = ev AND status = 'AVAILABLE' ORDER BY seat_order LIMIT 1;
        PERFORM evently.confirm_booking(
            (evently.hold_seats(ev, bt.id('buyer'), ARRAY[seat]) ->> 'hold_id')::uuid,
            bt.id('buyer'), 'card');
    END LOOP;
    RETURN n;
END
$$;

-- a backlog of n outbox rows in one transaction (the engine's own _emit)
CREATE FUNCTION bt.backlog(n int) RETURNS int LANGUAGE sql AS $$
    SELECT count(evently._emit('booking.confirmed', bt.id('one'), bt.id('buyer'), 'booking',
                               gen_random_uuid(), jsonb_build_object('booking_ref', 'BT' || g), NULL))::int
      FROM generate_series(1, n) g
$$;
