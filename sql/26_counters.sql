-- The seat counters (event_seat_counts) kept by the C statement trigger and
-- the engine's claims (extension/counts.c, issue 14): whoever writes
-- event_seats -- the engine, which moves a slot itself and claims it, or a
-- DBA by hand -- the counters sum to the inventory; a wrong claim is
-- corrected by the trigger; a claim no trigger met fails the commit; a
-- claim made in a subtransaction that rolls back is forgotten.
SET client_min_messages = warning;

SELECT t.remember('cn_fan', evently.create_user('cn-fan@example.com', 'qwerty', 'Cy', 'Counter'));
SELECT t.remember('cn_hall', evently.create_venue_template('Counter Hall'));
SELECT t.remember('cn_sec', evently.add_section(t.id('cn_hall'), 'Floor', 'A', 'C', 4));
SELECT t.remember('cn1', evently.create_event('Counted One', t.id('cn_hall'), now() + interval '20 days', 10));
SELECT t.remember('cn2', evently.create_event('Counted Two', t.id('cn_hall'), now() + interval '21 days', 10));

-- the counters of one event, summed over its slots
CREATE FUNCTION t.counts(label text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT format('available %s, held %s, booked %s, blocked %s', sum(available), sum(held), sum(booked), sum(blocked))
      FROM evently.event_seat_counts WHERE event_id = t.id(label)
$$;

-- the engine: a hold of three seats and its confirmation claim their moves
SELECT t.remember('cn_h1', (evently.hold_seats(t.id('cn1'), t.id('cn_fan'), t.seats('cn1', 'A1', 'A2', 'A3')) ->> 'hold_id')::uuid);
SELECT t.counts('cn1') AS after_hold, t.counters_agree();
SELECT evently.confirm_booking(t.id('cn_h1'), t.id('cn_fan')) ->> 'status' AS confirmed;
SELECT t.counts('cn1') AS after_confirm, t.counters_agree();
-- a hold over a lapsed hold's seat moves nothing from AVAILABLE for it
SELECT t.remember('cn_h2', (evently.hold_seats(t.id('cn1'), t.id('cn_fan'), t.seats('cn1', 'B1')) ->> 'hold_id')::uuid);
SELECT t.lapse('cn_h2');
SELECT t.remember('cn_h3', (evently.hold_seats(t.id('cn1'), t.id('cn_fan'), t.seats('cn1', 'B1', 'B2')) ->> 'hold_id')::uuid);
SELECT t.counts('cn1') AS after_hold_over_lapsed, t.counters_agree();

-- a DBA by hand: one statement over two events, a change of no status, a delete
UPDATE evently.event_seats SET status = 'BLOCKED'
 WHERE event_id IN (t.id('cn1'), t.id('cn2')) AND status = 'AVAILABLE'
   AND seat_id IN (SELECT id FROM evently.seats WHERE seat_number IN ('C1', 'C2'));
SELECT t.counts('cn1') AS cn1_blocked, t.counts('cn2') AS cn2_blocked, t.counters_agree();
UPDATE evently.event_seats SET price = price + 1 WHERE event_id = t.id('cn2');
SELECT t.counts('cn2') AS cn2_repriced, t.counters_agree();
DELETE FROM evently.event_seats WHERE event_id = t.id('cn2') AND seat_id = (t.seats('cn2', 'C4'))[1];
SELECT t.counts('cn2') AS cn2_one_seat_less, t.counters_agree();

-- a wrong claim (five seats HELD, where the statement blocked one free
-- seat): the trigger adds what the rows say less what was claimed
WITH c AS (
    UPDATE evently.event_seat_counts SET held = held + 5 WHERE event_id = t.id('cn2') AND slot = 0
    RETURNING evently._counted_seats(event_id, 0, 5, 0, 0))
UPDATE evently.event_seats SET status = 'BLOCKED' WHERE event_id = t.id('cn2') AND seat_id = (t.seats('cn2', 'C3'))[1];
SELECT t.counts('cn2') AS cn2_wrong_claim_corrected, t.counters_agree();

-- a claim that no trigger meets fails the commit, and changes nothing
BEGIN;
WITH c AS (
    UPDATE evently.event_seat_counts SET available = available + 1 WHERE event_id = t.id('cn2') AND slot = 0
    RETURNING evently._counted_seats(event_id, 1, 0, 0, 0))
SELECT count(*) AS claimed FROM c;
COMMIT;
SELECT t.counts('cn2') AS cn2_unchanged, t.counters_agree();

-- a claim made in a subtransaction that rolls back goes with it
BEGIN;
SAVEPOINT s;
SELECT evently._counted_seats(t.id('cn2'), 1, 0, 0, 0) AS claimed;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT t.counts('cn2') AS cn2_after_savepoint, t.counters_agree();
