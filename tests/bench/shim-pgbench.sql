-- the same two SQL calls the shim makes for hold+confirm; client c takes seats c*400+1, ...
\set i :i + 1
\set seat :client_id * 400 + :i
SELECT id AS user_id FROM bench.users WHERE n = :client_id % 8 \gset
SELECT evently.api_hold_seats(:user_id, jsonb_build_object('body', jsonb_build_object('event_id', :event_id::text, 'seat_ids', jsonb_build_array((SELECT id FROM bench.seats WHERE n = :seat + 30000)::text)))) ->> 'hold_id' AS hold_id \gset
SELECT evently.api_booking_confirm(:user_id, jsonb_build_object('body', jsonb_build_object('hold_id', :hold_id::text, 'event_id', :event_id::text, 'payment_method', 'card'))) ->> 'status';
