-- The seated flash sale's final check (tests/bench/flash-sale.sh), after the
-- last buyer stopped: one row per invariant, ok or not, with its figures.
-- psql variables: run (bench.sale's), seats (the event's), bookings and
-- sold (the CONFIRMED bookings and their seats that the clients counted).
WITH sale AS (SELECT event_id FROM bench.sale WHERE run = :'run'),
seats AS (SELECT es.* FROM evently.event_seats es JOIN sale USING (event_id)),
tickets AS (SELECT t.*, b.status AS booking_status FROM evently.tickets t JOIN sale USING (event_id)
              JOIN evently.bookings b ON b.id = t.booking_id),
bookings AS (SELECT b.* FROM evently.bookings b JOIN sale USING (event_id))
SELECT format('all %s seats BOOKED', :seats) AS "check",
       count(*) = :seats AND count(*) FILTER (WHERE status = 'BOOKED') = :seats AS ok,
       format('%s seats: %s', count(*),
              (SELECT string_agg(format('%s %s', status, n), ', ')
                 FROM (SELECT status, count(*) AS n FROM seats GROUP BY 1) s)) AS figures
  FROM seats
UNION ALL
SELECT 'every seat in exactly one VALID ticket of a CONFIRMED booking, no other ticket',
       count(*) = :seats AND count(DISTINCT seat_id) = :seats
       AND count(*) FILTER (WHERE status <> 'VALID' OR booking_status <> 'CONFIRMED') = 0,
       format('%s tickets on %s seats, %s not VALID or not CONFIRMED', count(*), count(DISTINCT seat_id),
              count(*) FILTER (WHERE status <> 'VALID' OR booking_status <> 'CONFIRMED'))
  FROM tickets
UNION ALL
SELECT 'no seat in two bookings', count(*) = 0, format('%s seats in two or more', count(*))
  FROM (SELECT seat_id FROM tickets GROUP BY seat_id HAVING count(DISTINCT booking_id) > 1) x
UNION ALL
SELECT 'each BOOKED seat is BOOKED by its ticket''s booking', count(*) = 0, format('%s mismatches', count(*))
  FROM seats s LEFT JOIN tickets t ON t.seat_id = s.seat_id AND t.status = 'VALID'
 WHERE s.booking_id IS DISTINCT FROM t.booking_id
UNION ALL
-- as t.counters_agree (sql/00_setup.sql) and tests/stress/invariants.sql, for this event
SELECT 'event_seat_counts sum to the seats, per status', count(*) = 0,
       format('%s statuses differ', count(*))
  FROM (SELECT status, count(*) AS n FROM seats GROUP BY 1) inventory
  FULL JOIN (SELECT status, sum(n) AS n FROM evently.event_seat_counts JOIN sale USING (event_id),
                    LATERAL (VALUES ('AVAILABLE', available), ('HELD', held),
                                    ('BOOKED', booked), ('BLOCKED', blocked)) v(status, n)
              GROUP BY 1) counted USING (status)
 WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0)
UNION ALL
SELECT format('the clients'' %s bookings of %s seats are the database''s', :bookings, :sold),
       count(*) = :bookings AND coalesce(sum(total_seats), 0) = :sold
       AND count(*) FILTER (WHERE status <> 'CONFIRMED') = 0,
       format('%s bookings (%s CONFIRMED) of %s seats', count(*), count(*) FILTER (WHERE status = 'CONFIRMED'),
              sum(total_seats))
  FROM bookings
UNION ALL
SELECT 'each booking paid: one COMPLETED payment of its total', count(*) = 0,
       format('%s bookings wrong', count(*))
  FROM bookings b
 WHERE (SELECT count(*) FROM evently.payments p
         WHERE p.booking_id = b.id AND p.status = 'COMPLETED' AND p.amount = b.total_price) <> 1
UNION ALL
SELECT 'every hold CONFIRMED (one per booking) or expired, none live',
       count(*) FILTER (WHERE status = 'CONFIRMED') = (SELECT count(*) FROM bookings)
       AND count(*) FILTER (WHERE status NOT IN ('CONFIRMED', 'EXPIRED')
                                  AND NOT (status = 'ACTIVE' AND expires_at <= now())) = 0,
       format('%s holds: %s', count(*), string_agg(DISTINCT status, ', '))
  FROM evently.holds h JOIN sale USING (event_id)
UNION ALL
SELECT 'one booking.confirmed outbox row per booking',
       count(*) = (SELECT count(*) FROM bookings), format('%s booking.confirmed', count(*))
  FROM evently.outbox o JOIN sale USING (event_id)
 WHERE o.type = 'booking.confirmed';
