-- The gate rush's final check (tests/bench/checkin-rush.sh), per event: one
-- row per invariant, ok or not, with its figures.  psql variables: label
-- (rush: over HTTP, base: pgbench), tickets (how many were sold and scanned).
WITH ev AS (SELECT * FROM bench.events WHERE label = :'label'),
ins AS (SELECT c.* FROM evently.checkins c JOIN ev USING (event_id)),
valid AS (SELECT t.* FROM evently.tickets t JOIN ev USING (event_id) WHERE t.status = 'VALID'),
scans AS (SELECT s.* FROM evently.scan_log s JOIN ev USING (event_id))
SELECT format('%s: exactly %s check-ins, all ACTIVE, %s distinct tickets', :'label', :tickets, :tickets) AS "check",
       count(*) = :tickets AND count(*) FILTER (WHERE status = 'ACTIVE') = :tickets
       AND count(DISTINCT ticket_id) = :tickets AS ok,
       format('%s check-ins, %s ACTIVE, %s tickets', count(*), count(*) FILTER (WHERE status = 'ACTIVE'),
              count(DISTINCT ticket_id)) AS figures
  FROM ins
UNION ALL
SELECT format('%s: every one of the %s VALID tickets checked in once', :'label', :tickets),
       count(*) = :tickets AND bool_and(n = 1),
       format('%s tickets, %s not in, %s twice', count(*), count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1))
  FROM (SELECT v.id, (SELECT count(*) FROM ins WHERE ins.ticket_id = v.id) AS n FROM valid v) per_ticket
UNION ALL
SELECT format('%s: %s scans logged, every one CHECKED_IN', :'label', :tickets),
       count(*) = :tickets AND count(*) FILTER (WHERE result = 'CHECKED_IN') = :tickets,
       format('%s scans, %s CHECKED_IN', count(*), count(*) FILTER (WHERE result = 'CHECKED_IN'))
  FROM scans
UNION ALL
SELECT format('%s: the stats say %s sold, %s checked in', :'label', :tickets, :tickets),
       (s ->> 'sold')::int = :tickets AND (s ->> 'checked_in')::int = :tickets,
       format('sold %s, checked_in %s', s ->> 'sold', s ->> 'checked_in')
  FROM (SELECT evently.checkin_stats(ev.event_id, (SELECT id FROM evently.users WHERE email = 'rush-admin@example.com')) AS s
          FROM ev) st;
