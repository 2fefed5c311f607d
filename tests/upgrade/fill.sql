-- Fill a 1.0 database through its SQL API: the state an upgrade must keep.
-- Runs against evently 1.0 (only 1.0's functions and arguments).
SET client_min_messages = warning;
-- the test's own objects live in schema upgrade_test, dropped before the
-- schema comparison
CREATE SCHEMA upgrade_test;
CREATE TABLE upgrade_test.ids (label text PRIMARY KEY, id uuid NOT NULL);
SET search_path = upgrade_test, public;

INSERT INTO upgrade_test.ids VALUES
    ('admin', evently.create_user('admin@example.com', 'qwerty', 'Ada', 'Admin', 'ADMIN')),
    ('alice', evently.create_user('alice@example.com', 'qwerty', 'Alice', 'A')),
    ('bob', evently.create_user('bob@example.com', 'qwerty', 'Bob', 'B')),
    ('carol', evently.create_user('carol@example.com', 'qwerty', 'Carol', 'C')),
    ('tag', evently.create_tag('Live Music', '#EF4444')),
    ('hall', evently.create_venue_template('Upgrade Hall', 'THEATER'));
INSERT INTO upgrade_test.ids SELECT 'front', evently.add_section(id, 'Front', 'A', 'B', 4) FROM upgrade_test.ids WHERE label = 'hall';
INSERT INTO upgrade_test.ids SELECT 'gig', evently.create_event('The Gig', id, now() + interval '30 days', 100,
                                                   (SELECT id FROM upgrade_test.ids WHERE label = 'admin'), 'Main Hall',
                                                   'before the upgrade', '{"Front": 1.5}', '{live-music}',
                                                   '{"max_seats_per_user": 8}')
                  FROM upgrade_test.ids WHERE label = 'hall';
SELECT evently.set_cancellation_policy(
           (SELECT id FROM upgrade_test.ids WHERE label = 'gig'), true, now() + interval '20 days', 'PERCENTAGE', 10);

CREATE FUNCTION upgrade_test.seats(VARIADIC numbers text[]) RETURNS uuid[] LANGUAGE sql AS $$
    SELECT array_agg(seat_id) FROM evently.event_seats((SELECT id FROM upgrade_test.ids WHERE label = 'gig'))
     WHERE seat_number = ANY (numbers)
$$;
CREATE FUNCTION upgrade_test.id(l text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM upgrade_test.ids WHERE label = l $$;

-- two bookings, one of them cancelled; a live hold; a released hold
INSERT INTO upgrade_test.ids SELECT 'b1', (evently.confirm_booking(
    (evently.hold_seats(upgrade_test.id('gig'), upgrade_test.id('alice'), upgrade_test.seats('A1', 'A2')) ->> 'hold_id')::uuid,
    upgrade_test.id('alice'), 'card', 'key-1') ->> 'booking_id')::uuid;
INSERT INTO upgrade_test.ids SELECT 'b2', (evently.confirm_booking(
    (evently.hold_seats(upgrade_test.id('gig'), upgrade_test.id('bob'), upgrade_test.seats('A3')) ->> 'hold_id')::uuid,
    upgrade_test.id('bob')) ->> 'booking_id')::uuid;
SELECT evently.cancel_with_policy(upgrade_test.id('b2'), upgrade_test.id('bob'), 'cannot come');
INSERT INTO upgrade_test.ids SELECT 'live_hold', (evently.hold_seats(upgrade_test.id('gig'), upgrade_test.id('carol'),
                                     upgrade_test.seats('B1', 'B2'), '1 day') ->> 'hold_id')::uuid;
SELECT evently.release_hold((evently.hold_seats(upgrade_test.id('gig'), upgrade_test.id('bob'),
                                                upgrade_test.seats('B3')) ->> 'hold_id')::uuid, upgrade_test.id('bob'));
-- a waitlist: carol waits for two more, and gets an offer of the free
-- seats; bob waits behind her
SELECT evently.join_waitlist(upgrade_test.id('gig'), upgrade_test.id('carol'), 2);
SELECT evently.waitlist_promote(upgrade_test.id('gig'));
SELECT evently.join_waitlist(upgrade_test.id('gig'), upgrade_test.id('bob'), 1);
-- an event cancelled in 1.0, which left its booking CONFIRMED (the upgrade
-- refunds it, as 1.1 does when an event is cancelled)
INSERT INTO upgrade_test.ids SELECT 'legacy', evently.create_event('Called Off', id, now() + interval '40 days', 50)
                  FROM upgrade_test.ids WHERE label = 'hall';
INSERT INTO upgrade_test.ids SELECT 'legacy_booking', (evently.confirm_booking(
    (evently.hold_seats(upgrade_test.id('legacy'), upgrade_test.id('bob'),
                        ARRAY(SELECT seat_id FROM evently.event_seats(upgrade_test.id('legacy'))
                               WHERE seat_number = 'A1')) ->> 'hold_id')::uuid,
    upgrade_test.id('bob')) ->> 'booking_id')::uuid;
SELECT evently.api_event_update(upgrade_test.id('admin'),
           jsonb_build_object('path', jsonb_build_object('eventId', upgrade_test.id('legacy')),
                              'body', '{"status": "cancelled"}'::jsonb));
-- an event 1.0 let an ADMIN mark completed before it took place, its
-- booking left CONFIRMED (the upgrade cancels it and refunds the booking)
INSERT INTO upgrade_test.ids SELECT 'early', evently.create_event('Done Too Soon', id, now() + interval '45 days', 30)
                  FROM upgrade_test.ids WHERE label = 'hall';
INSERT INTO upgrade_test.ids SELECT 'early_booking', (evently.confirm_booking(
    (evently.hold_seats(upgrade_test.id('early'), upgrade_test.id('bob'),
                        ARRAY(SELECT seat_id FROM evently.event_seats(upgrade_test.id('early'))
                               WHERE seat_number = 'A1')) ->> 'hold_id')::uuid,
    upgrade_test.id('bob')) ->> 'booking_id')::uuid;
SELECT evently.api_event_update(upgrade_test.id('admin'),
           jsonb_build_object('path', jsonb_build_object('eventId', upgrade_test.id('early')),
                              'body', '{"status": "completed"}'::jsonb));
-- an event at the end of time, which 1.0 accepted (a finite date): no
-- three hours fit after it
INSERT INTO upgrade_test.ids SELECT 'far', evently.create_event('End Of Time', id, '294276-12-31 22:00+00', 10)
                  FROM upgrade_test.ids WHERE label = 'hall';
-- two things 1.0 got wrong that the upgrade repairs (check.sql): a seat held
-- while an ADMIN blocked it at the venue came back AVAILABLE when the hold
-- was released; a multiplier changed outside the API left the seats'
-- prices behind
INSERT INTO upgrade_test.ids SELECT 'annex', evently.create_venue_template('Annex', 'THEATER');
INSERT INTO upgrade_test.ids SELECT 'floor', evently.add_section(upgrade_test.id('annex'), 'Floor', 'A', 'A', 2);
INSERT INTO upgrade_test.ids SELECT 'repair', evently.create_event('Mended', upgrade_test.id('annex'),
                                                                   now() + interval '50 days', 40);
INSERT INTO upgrade_test.ids SELECT 'repair_seat', seat_id FROM evently.event_seats(upgrade_test.id('repair'))
                                                          WHERE seat_number = 'A1';
INSERT INTO upgrade_test.ids SELECT 'repair_hold', (evently.hold_seats(upgrade_test.id('repair'), upgrade_test.id('bob'),
                                     ARRAY[upgrade_test.id('repair_seat')]) ->> 'hold_id')::uuid;
SELECT evently.api_seat_update(upgrade_test.id('admin'),
           jsonb_build_object('path', jsonb_build_object('id', upgrade_test.id('repair_seat')),
                              'body', '{"status": "BLOCKED"}'::jsonb));
SELECT evently.release_hold(upgrade_test.id('repair_hold'), upgrade_test.id('bob'));
UPDATE evently.event_pricing SET price_multiplier = 2 WHERE event_id = upgrade_test.id('repair');
-- sessions and the inbox
SELECT evently.api_login(NULL, '{"body": {"email": "alice@example.com", "password": "qwerty"}}');
SELECT evently.record_notification(jsonb_build_object('id', 1, 'type', 'booking.confirmed',
           'occurred_at', now(), 'event_id', upgrade_test.id('gig'), 'user_id', upgrade_test.id('alice'),
           'data', jsonb_build_object('booking_id', upgrade_test.id('b1'))));

-- what the upgrade must not change: a copy of every table
CREATE SCHEMA upgrade_snapshot;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'evently' LOOP
        EXECUTE format('CREATE TABLE upgrade_snapshot.%I AS SELECT * FROM evently.%I', t, t);
    END LOOP;
END
$$;
