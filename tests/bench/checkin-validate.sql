-- pgbench: the gate rush's baseline (tests/bench/checkin-rush.sh): door staff
-- validating distinct codes of the baseline event by evently.validate_ticket,
-- the SQL under POST /checkin/validate; client c scans codes c*per+1, c*per+2, ...
\set i :i + 1
SELECT evently.validate_ticket((SELECT code FROM bench.codes WHERE label = 'base' AND n = :client_id * :per + :i),
                               :event_id::uuid, 'Gate ' || (:client_id::int % 8), 'pgbench-' || :client_id::int,
                               :staff_id::uuid) ->> 'result';
