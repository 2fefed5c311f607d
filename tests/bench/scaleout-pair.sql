-- one hold and its confirmation on event :event_id, on one shard directly or
-- through the proxy (tests/bench/scaleout.sh); client c takes seats
-- c*1250+1, c*1250+2, ... of bench.seats (the event's, numbered)
\set i :i + 1
\set seat :client_id * 1250 + :i
SELECT id AS user_id FROM bench.users WHERE n = :client_id \gset
SELECT evently.hold_seats(:event_id, :user_id, ARRAY(SELECT id FROM bench.seats WHERE event_id = :event_id AND n = :seat)) ->> 'hold_id' AS hold_id \gset
SELECT evently.confirm_booking(:hold_id, :user_id) ->> 'status';
