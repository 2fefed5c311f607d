-- After the upgrade, the data of 1.0 is served by 1.1's API: logins, event
-- reads, confirming a hold made before the upgrade, cancelling a booking
-- made before it under its 1.0 policy, the waitlist, the inbox, the sweeper.
SET client_min_messages = warning;
SET search_path = upgrade_test, public;
DO $$
DECLARE
    gig uuid := upgrade_test.id('gig');
    alice uuid := upgrade_test.id('alice');
    carol uuid := upgrade_test.id('carol');
    doc jsonb;
BEGIN
    ASSERT (SELECT count(*) FROM evently.bookings) = 4, 'the 1.0 bookings are there';
    -- an event 1.0 marked completed before it took place is cancelled, its
    -- booking refunded in full (nothing refunds a completed event in 1.1)
    ASSERT (SELECT e.status = 'cancelled' AND b.status = 'CANCELLED' AND p.refund_amount = b.total_price
              FROM evently.events e JOIN evently.bookings b ON b.event_id = e.id
              JOIN evently.payments p ON p.booking_id = b.id
             WHERE b.id = upgrade_test.id('early_booking')), 'the upgrade refunds an early completion';
    -- the booking 1.0 left CONFIRMED on a cancelled event is refunded in full
    ASSERT (SELECT b.status = 'CANCELLED' AND p.status = 'REFUNDED' AND p.refund_amount = b.total_price
              FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id
             WHERE b.id = upgrade_test.id('legacy_booking')), 'the upgrade refunds 1.0''s cancelled events';
    ASSERT (SELECT count(*) FROM evently.outbox WHERE type = 'booking.cancelled'
               AND data->>'booking_id' = upgrade_test.id('legacy_booking')::text) = 1,
           'the buyer of a refunded booking is told';
    -- the seat blocked at the venue while it was held is blocked again, and
    -- every seat of the event is priced at base price x multiplier
    ASSERT (SELECT status FROM evently.event_seats WHERE event_id = upgrade_test.id('repair')
               AND seat_id = upgrade_test.id('repair_seat')) = 'BLOCKED', 'the upgrade re-blocks a freed seat';
    ASSERT (SELECT array_agg(DISTINCT price) FROM evently.event_seats
             WHERE event_id = upgrade_test.id('repair')) = '{80.00}', 'the upgrade reprices seats left behind';
    ASSERT (SELECT count(*) FROM evently.event_seats WHERE event_id = upgrade_test.id('repair')
               AND status = 'AVAILABLE') = 1, 'the other seat is still on sale';
    ASSERT (SELECT count(*) FROM evently.waitlist_entries) = 2, 'the 1.0 waitlist is there';
    ASSERT evently.check_password('alice@example.com', 'qwerty') = alice, '1.0 passwords still log in';

    doc := evently.event_json(gig, true);
    ASSERT doc->>'name' = 'The Gig' AND (doc->>'total_capacity')::int = 8
           AND (doc->>'booked_count')::int = 2, format('event read: %s', doc);
    ASSERT jsonb_array_length(doc->'tags') = 1 AND doc->'venue_sections'->0->>'price' = '150.00',
           format('catalog: %s', doc);

    -- carol's hold from before the upgrade turns into a booking
    doc := evently.confirm_booking(upgrade_test.id('live_hold'), carol, 'card', 'after-upgrade');
    ASSERT doc->>'status' = 'CONFIRMED' AND (doc->>'total_seats')::int = 2, format('confirm: %s', doc);
    -- the 1.0 retry key of alice's booking still answers with her booking
    ASSERT (evently.confirm_booking((SELECT hold_id FROM evently.bookings WHERE id = upgrade_test.id('b1')),
                                    alice, 'card', 'key-1') ->> 'booking_id')::uuid = upgrade_test.id('b1'),
           'idempotent retry of a 1.0 confirmation';
    -- alice cancels her 1.0 booking under the 1.0 policy (10 %)
    doc := evently.cancel_with_policy(upgrade_test.id('b1'), alice, 'after the upgrade');
    ASSERT (doc->>'cancellation_fee')::numeric = 30 AND (doc->>'refund_amount')::numeric = 270,
           format('cancel: %s', doc);

    -- the REST adapters answer for 1.0 users
    doc := evently.api_user_bookings(alice, '{"query": {}}');
    ASSERT jsonb_array_length(doc->'bookings') = 1, format('user bookings: %s', doc);
    doc := evently.api_user_notifications(alice, '{"query": {}}');
    ASSERT doc::text LIKE '%booking.confirmed%', format('inbox: %s', doc);
    doc := evently.api_waitlist_status(upgrade_test.id('bob'), jsonb_build_object('path', jsonb_build_object('event_id', gig)));
    ASSERT doc->>'status' IN ('ACTIVE', 'NOTIFIED'), format('waitlist status: %s', doc);

    -- 1.0's events are published, end three hours after they start, and
    -- belong to no organizer; bob becomes an organizer and runs an event
    -- through the lifecycle on the upgraded data (the backup below then
    -- carries organizers and owned events too)
    ASSERT NOT EXISTS (SELECT 1 FROM evently.events
                        WHERE CASE WHEN id = upgrade_test.id('far') THEN false
                                   ELSE end_time <> date_time + interval '3 hours' OR organizer_id IS NOT NULL END),
           'every 1.0 event ends 3 hours after its start';
    ASSERT (SELECT end_time = 'infinity' FROM evently.events WHERE id = upgrade_test.id('far')),
           'an event too close to the end of time never ends';
    doc := evently.api_organizer_apply(upgrade_test.id('bob'), '{"body": {"organization_name": "Bob Live"}}');
    doc := evently.api_admin_organizer_verify(upgrade_test.id('admin'),
               jsonb_build_object('path', jsonb_build_object('id', doc->>'id'), 'body', '{"decision": "VERIFIED"}'::jsonb));
    ASSERT doc->'user'->>'role' = 'ORGANIZER', format('verified: %s', doc);
    doc := evently.api_organizer_event_create(upgrade_test.id('bob'), jsonb_build_object('body', jsonb_build_object(
               'name', 'Bob After The Upgrade', 'venue', 'Main Hall', 'venue_template_id',
               (SELECT venue_template_id FROM evently.events WHERE id = gig), 'base_price', 20,
               'date_time', to_char(now() + interval '60 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))));
    PERFORM evently.api_event_submit(upgrade_test.id('bob'), jsonb_build_object('path', jsonb_build_object('eventId', doc->>'id')));
    doc := evently.api_admin_event_approve(upgrade_test.id('admin'),
               jsonb_build_object('path', jsonb_build_object('eventId', doc->>'id')));
    ASSERT doc->>'status' = 'published' AND doc->>'organizer_id' IS NOT NULL, format('lifecycle: %s', doc);

    -- the upgrade closed 1.0's doors: nothing of the extension for PUBLIC
    ASSERT NOT EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'evently'::regnamespace
                        AND has_function_privilege('public', oid, 'EXECUTE')),
           'no function is executable by PUBLIC after the upgrade';

    PERFORM evently.expire_holds();
    ASSERT NOT EXISTS (
        SELECT FROM (SELECT event_id, status, count(*) AS n FROM evently.event_seats GROUP BY 1, 2) inventory
        FULL JOIN (SELECT event_id, status, sum(n) AS n FROM evently.event_seat_counts,
                          LATERAL (VALUES ('AVAILABLE', available), ('HELD', held),
                                          ('BOOKED', booked), ('BLOCKED', blocked)) v(status, n)
                    GROUP BY 1, 2) counted USING (event_id, status)
         WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0)), 'seat counters agree with the inventory';
END
$$;
