-- pgbench: the gate rush's baseline (tests/bench/checkin-rush.sh): door staff
-- validating distinct codes of the baseline event by evently.validate_ticket,
-- the SQL under POST /checkin/validate; client c scans codes c*per+1, c*per+2, ...
\set i :i + 1
\set n :client_id * :per + :i
\set g :client_id % 8
SELECT evently.validate_ticket((SELECT code FROM bench.codes WHERE label = 'base' AND n = :n::int),
                               :event_id::uuid, concat('Gate ', :g::int), concat('pgbench-', :client_id::int),
                               :staff_id::uuid) ->> 'result';
