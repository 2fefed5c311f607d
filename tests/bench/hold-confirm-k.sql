-- one hold of :k seats and its confirmation, on event 'Bench :k'
-- (engine-curve-setup.sql); client c takes seats c*3750*k+1, c*3750*k+2, ...
\set i :i + 1
\set last :client_id * 3750 * :k + :i * :k
\set first :last - :k + 1
SELECT id AS user_id FROM bench.users WHERE n = :client_id \gset
SELECT evently.hold_seats(:event_id, :user_id, ARRAY(SELECT id FROM bench.hold_seats WHERE k = :k AND n BETWEEN :first AND :last)) ->> 'hold_id' AS hold_id \gset
SELECT evently.confirm_booking(:hold_id, :user_id) ->> 'status';
