-- one hold and its confirmation; client c takes seats c*3750+1, c*3750+2, ...
\set i :i + 1
\set seat :client_id * 3750 + :i
SELECT id AS user_id FROM bench.users WHERE n = :client_id \gset
SELECT evently.hold_seats(:event_id, :user_id, ARRAY[(SELECT id FROM bench.seats WHERE n = :seat)]) ->> 'hold_id' AS hold_id \gset
SELECT evently.confirm_booking(:hold_id, :user_id) ->> 'status';
