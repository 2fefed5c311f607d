-- evently.cancel_with_policy and evently.set_cancellation_policy
SET client_min_messages = warning;

-- No policy yet: refused
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('b1'), t.id('alice'))$$) AS no_policy;

-- Policy refusals
SELECT t.try($$SELECT evently.set_cancellation_policy(gen_random_uuid(), true, now(), 'NONE', 0)$$) AS unknown_event;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '41 days', 'NONE', 0)$$) AS after_event;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, NULL, 'NONE', 0)$$) AS no_deadline;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), NULL, now(), 'NONE', 0)$$) AS no_allow;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'HALF', 0)$$) AS bad_type;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'FIXED', 0)$$) AS fixed_zero;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'PERCENTAGE', 100.01)$$) AS over_100_percent;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'PERCENTAGE', -1)$$) AS negative;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'NONE', 5)$$) AS none_with_amount;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'NONE', 0, 31)$$) AS processing_days;

-- A policy, then the refusals of cancel
SELECT p ->> 'fee_type' AS fee_type, p ->> 'fee_amount' AS amount, p ->> 'allow_cancellation' AS allow
  FROM evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'none', 0) p;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('b1'), t.id('bob'))$$) AS not_owner;
SELECT t.try($$SELECT evently.cancel_with_policy(gen_random_uuid(), t.id('alice'))$$) AS unknown_booking;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('b1'), gen_random_uuid())$$) AS unknown_user;
SELECT t.try($$SELECT evently.cancel_with_policy(NULL, t.id('alice'))$$) AS null_booking;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('b1'), t.id('alice'), repeat('r', 501))$$) AS long_reason;

-- Happy path (fee NONE): the cancellation object, and what it changed
SELECT c ->> 'status' AS status, c ->> 'cancellation_fee' AS fee, c ->> 'refund_amount' AS refund,
       c ->> 'reason' AS reason, t.scrub(c ->> 'booking_id') AS booking
  FROM evently.cancel_with_policy(t.id('b1'), t.id('alice'), 'plans changed') c;
SELECT b.status, b.version, b.cancelled_at IS NOT NULL AS cancelled_at_set,
       p.status AS payment, p.refund_amount, p.refunded_at IS NOT NULL AS refunded_at_set
  FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id WHERE b.id = t.id('b1');
SELECT status, count(*) FROM evently.tickets WHERE booking_id = t.id('b1') GROUP BY status;
SELECT seat_number, status FROM evently.event_seats(t.id('other')) WHERE seat_number IN ('A2', 'A3');
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('b1'), t.id('alice'))$$) AS cancel_twice;

-- The freed seats sell again; the old tickets stay, cancelled
SELECT t.book('b2', 'other', 'bob', 'A2', 'A3');
SELECT count(*) FILTER (WHERE status = 'VALID') AS valid, count(*) AS all_tickets
  FROM evently.tickets WHERE seat_id = ANY (t.seats('other', 'A2', 'A3'));

-- Fees at and around their boundaries; each booking is 2 seats at 50 = 100.00
CREATE FUNCTION t.fee_case(fee_type text, amount numeric, seats text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c jsonb;
    label text := format('fee-%s-%s-%s', fee_type, amount, array_to_string(seats, ''));
BEGIN
    PERFORM evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', fee_type, amount);
    PERFORM t.book(label, 'other', 'carol', VARIADIC seats);
    c := evently.cancel_with_policy(t.id(label), t.id('carol'));
    RETURN format('%s %s on %s: fee %s, refund %s', fee_type, amount,
                  (SELECT total_price FROM evently.bookings WHERE id = t.id(label)),
                  c ->> 'cancellation_fee', c ->> 'refund_amount');
END
$$;
SELECT t.fee_case('NONE', 0, '{B2,B3}');
SELECT t.fee_case('FIXED', 0.01, '{B2,B3}');
SELECT t.fee_case('FIXED', 30, '{B2,B3}');
SELECT t.fee_case('FIXED', 99.99, '{B2,B3}');
SELECT t.fee_case('FIXED', 100, '{B2,B3}');
SELECT t.fee_case('FIXED', 100.01, '{B2,B3}');
SELECT t.fee_case('FIXED', 150, '{B2,B3}');
SELECT t.fee_case('PERCENTAGE', 0, '{B2,B3}');
SELECT t.fee_case('PERCENTAGE', 0.01, '{B2,B3}');
SELECT t.fee_case('PERCENTAGE', 33.33, '{B2,B3}');
SELECT t.fee_case('PERCENTAGE', 99.99, '{B2,B3}');
SELECT t.fee_case('PERCENTAGE', 100, '{B2,B3}');
-- rounding to cents, half away from zero: 33.33 % of 50.00 = 16.665 -> 16.67
SELECT t.fee_case('PERCENTAGE', 33.33, '{B2}');
-- a percentage has two decimals: 12.345 % is refused, not rounded behind the
-- admin's back; 12.35 % of 50.00 = 6.175 -> 6.18
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'PERCENTAGE', 12.345)$$) AS three_decimals;
SELECT t.fee_case('PERCENTAGE', 12.35, '{B2}');

-- The deadline: cancelling at the very deadline is allowed, a moment after is not
SELECT t.book('late', 'other', 'dave', 'B4');
BEGIN;
SELECT evently.set_cancellation_policy(t.id('other'), true, now(), 'NONE', 0) ->> 'fee_type';
SELECT evently.cancel_with_policy(t.id('late'), t.id('dave')) ->> 'status' AS at_deadline;
ROLLBACK;
SELECT evently.set_cancellation_policy(t.id('other'), true, now() - interval '1 microsecond', 'NONE', 0) ->> 'fee_type';
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('late'), t.id('dave'))$$) AS after_deadline;
SELECT evently.set_cancellation_policy(t.id('other'), false, now() + interval '1 day', 'NONE', 0) ->> 'allow_cancellation';
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('late'), t.id('dave'))$$) AS not_allowed;
SELECT status FROM evently.bookings WHERE id = t.id('late');

-- An ADMIN may cancel another user's booking; the record says who did
SELECT evently.set_cancellation_policy(t.id('other'), true, now() + interval '1 day', 'FIXED', 10) ->> 'fee_type';
SELECT c ->> 'refund_amount' AS refund, t.scrub(c ->> 'cancelled_by') AS cancelled_by
  FROM evently.cancel_with_policy(t.id('late'), t.id('admin'), 'event moved') c;
SELECT count(*) AS cancellations FROM evently.cancellations;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
