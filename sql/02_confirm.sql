-- evently.confirm_booking
SET client_min_messages = warning;

SELECT t.remember('c1', (evently.hold_seats(t.id('other'), t.id('alice'), t.seats('other', 'A2', 'A3')) ->> 'hold_id')::uuid);

-- Refusals before anything is written
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('bob'))$$) AS not_owner;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('admin'))$$) AS admin_is_not_owner;
SELECT t.try($$SELECT evently.confirm_booking(gen_random_uuid(), t.id('alice'))$$) AS unknown_hold;
SELECT t.try($$SELECT evently.confirm_booking(NULL, t.id('alice'))$$) AS null_hold;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), NULL)$$) AS null_user;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('alice'), '')$$) AS empty_method;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('alice'), repeat('x', 51))$$) AS long_method;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('alice'), 'card', '')$$) AS empty_key;

-- Happy path: the data object of POST /bookings/confirm
SELECT t.remember('b1', (evently.confirm_booking(t.id('c1'), t.id('alice'), 'card', 'key-1') ->> 'booking_id')::uuid);
SELECT b ->> 'status' AS status, b ->> 'total_price' AS total, b ->> 'total_seats' AS seats,
       b ->> 'version' AS version, b ->> 'booking_ref' ~ '^EVT-\d{8}-[A-Z]{6}$' AS ref_format,
       b -> 'payment' ->> 'status' AS payment, b -> 'payment' ->> 'amount' AS paid,
       b -> 'payment' ->> 'currency' AS currency, b -> 'payment' ->> 'payment_method' AS method,
       b -> 'payment' ->> 'transaction_id' ~ '^TXN_\d+_[0-9A-F]{8}$' AS txn_format,
       jsonb_array_length(b -> 'seats') AS tickets,
       (SELECT bool_and(s ->> 'ticket_code' ~ '^[A-Za-z0-9_-]{155}$') FROM jsonb_array_elements(b -> 'seats') s) AS codes
  FROM evently.booking_json(t.id('b1')) b;
SELECT seat_number, status FROM evently.event_seats(t.id('other')) WHERE seat_number IN ('A2', 'A3');
SELECT status FROM evently.holds WHERE id = t.id('c1');

-- A retry with the same key returns the same booking; without a key it is refused
SELECT (evently.confirm_booking(t.id('c1'), t.id('alice'), 'card', 'key-1') ->> 'booking_id')::uuid = t.id('b1') AS same_booking;
SELECT count(*) AS bookings_of_hold FROM evently.bookings WHERE hold_id = t.id('c1');
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('alice'))$$) AS double_confirm;
SELECT t.try($$SELECT evently.confirm_booking(t.id('c1'), t.id('alice'), 'card', 'key-2')$$) AS other_key;
SELECT t.remember('c2', (evently.hold_seats(t.id('other'), t.id('alice'), t.seats('other', 'A4')) ->> 'hold_id')::uuid);
SELECT t.try($$SELECT evently.confirm_booking(t.id('c2'), t.id('alice'), 'card', 'key-1')$$) AS key_reused;

-- Confirm after expiry, after release, and after the seats moved on
SELECT t.lapse('c2');
SELECT t.try($$SELECT evently.confirm_booking(t.id('c2'), t.id('alice'))$$) AS after_expiry;
SELECT t.remember('c3', (evently.hold_seats(t.id('other'), t.id('bob'), t.seats('other', 'A4')) ->> 'hold_id')::uuid);
SELECT t.try($$SELECT evently.confirm_booking(t.id('c2'), t.id('alice'))$$) AS seat_taken_after_expiry;
SELECT evently.release_hold(t.id('c3'), t.id('bob')) ->> 'status';
SELECT t.try($$SELECT evently.confirm_booking(t.id('c3'), t.id('bob'))$$) AS after_release;

-- Confirm on an event cancelled since the hold
SELECT t.remember('c4', (evently.hold_seats(t.id('other'), t.id('bob'), t.seats('other', 'B1')) ->> 'hold_id')::uuid);
UPDATE evently.events SET status = 'cancelled' WHERE id = t.id('other');
SELECT t.try($$SELECT evently.confirm_booking(t.id('c4'), t.id('bob'))$$) AS cancelled_event;
UPDATE evently.events SET status = 'published' WHERE id = t.id('other');
SELECT status FROM evently.event_seats(t.id('other')) WHERE seat_number = 'B1';

-- Nothing half-written by the refusals: one booking, two tickets, one payment
SELECT (SELECT count(*) FROM evently.bookings) AS bookings, (SELECT count(*) FROM evently.tickets) AS tickets,
       (SELECT count(*) FROM evently.payments) AS payments;

-- The event for the bridge
SELECT type, t.scrub(user_id::text) AS user, data ->> 'booking_ref' = (SELECT booking_ref FROM evently.bookings WHERE id = t.id('b1')) AS has_ref
  FROM evently.outbox WHERE type = 'booking.confirmed';

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
