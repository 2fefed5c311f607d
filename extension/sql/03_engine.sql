-- 03_engine.sql: the C engine's entry points (extension/*.c).

CREATE OR REPLACE FUNCTION evently.hold_seats(event_id uuid, user_id uuid, seat_ids uuid[],
                                   ttl interval DEFAULT NULL, idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_hold_seats' LANGUAGE C;

COMMENT ON FUNCTION evently.hold_seats(uuid, uuid, uuid[], interval, text) IS
    'Hold the given seats of an event for a user, all or nothing; a retry with the same key returns the same hold';

CREATE OR REPLACE FUNCTION evently.release_hold(hold_id uuid, user_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_release_hold' LANGUAGE C;

COMMENT ON FUNCTION evently.release_hold(uuid, uuid) IS
    'Release an active hold (its owner or an ADMIN); freed seats go to the waitlist first';

CREATE OR REPLACE FUNCTION evently.confirm_booking(hold_id uuid, user_id uuid,
                                        payment_method text DEFAULT 'mock',
                                        idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_confirm_booking' LANGUAGE C;

COMMENT ON FUNCTION evently.confirm_booking(uuid, uuid, text, text) IS
    'Turn a live hold into a booking with tickets and a payment; idempotent by key';

CREATE OR REPLACE FUNCTION evently.cancel_with_policy(booking_id uuid, user_id uuid,
                                           reason text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_cancel_with_policy' LANGUAGE C;

COMMENT ON FUNCTION evently.cancel_with_policy(uuid, uuid, text) IS
    'Cancel a booking under its event''s cancellation policy and refund total minus fee';

CREATE OR REPLACE FUNCTION evently.waitlist_promote(event_id uuid, max_offers int DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_waitlist_promote' LANGUAGE C;

COMMENT ON FUNCTION evently.waitlist_promote(uuid, int) IS
    'Offer free seats to the event''s waitlist, oldest entry that fits first';

CREATE OR REPLACE FUNCTION evently.expire_holds()
RETURNS int AS 'MODULE_PATHNAME', 'evently_expire_holds' LANGUAGE C;

COMMENT ON FUNCTION evently.expire_holds() IS
    'Expire lapsed holds and offers, free their seats and promote the waitlists';

-- Cancel every CONFIRMED booking of an event being cancelled, each refunded
-- in full whatever the policy, with booking.cancelled for each; the caller
-- holds the event's queue lock (evently._close_event).  Returns how many.
CREATE OR REPLACE FUNCTION evently._refund_event_bookings(event_id uuid, actor uuid, reason text DEFAULT NULL)
RETURNS int AS 'MODULE_PATHNAME', 'evently_refund_event_bookings' LANGUAGE C;

-- 1.1: general admission (SPEC section 10)
CREATE OR REPLACE FUNCTION evently.reserve_tiers(event_id uuid, user_id uuid, tier_ids uuid[], quantities int[],
                                   ttl interval DEFAULT NULL, idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_reserve_tiers' LANGUAGE C;

COMMENT ON FUNCTION evently.reserve_tiers(uuid, uuid, uuid[], int[], interval, text) IS
    'Hold quantities[i] units of tier tier_ids[i] of an event for a user, all or nothing (SOLD_OUT, NOT_ON_SALE, LIMIT_EXCEEDED); a retry with the same key returns the same hold';

-- The booking of a paid order's hold (booking_json), or NULL when the hold
-- lapsed and its seats or units are gone (the caller refunds); internal,
-- called by the order functions once the payment completed (52_orders.sql).
CREATE OR REPLACE FUNCTION evently._book_order(order_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_book_order' LANGUAGE C;
