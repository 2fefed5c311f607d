-- The invariants after the storm: one row per invariant with its violations.
WITH ev AS (SELECT id FROM stress.event),
confirmed_tickets AS (
    SELECT t.event_id, t.seat_id, t.booking_id FROM evently.tickets t
      JOIN evently.bookings b ON b.id = t.booking_id
     WHERE b.status = 'CONFIRMED'),
booked_seats AS (
    SELECT event_id, seat_id, booking_id FROM evently.event_seats WHERE status = 'BOOKED'),
live_holds AS (
    SELECT h.id, hs.event_id, hs.seat_id FROM evently.holds h
      JOIN evently.hold_seats hs ON hs.hold_id = h.id
     WHERE h.status = 'ACTIVE' AND h.expires_at > now()),
offers AS (
    SELECT (data ->> 'entry_id')::uuid AS entry_id, min(id) AS at
      FROM evently.outbox WHERE type = 'waitlist.offered' GROUP BY 1),
lefts AS (
    SELECT (data ->> 'id')::uuid AS entry_id, min(id) AS at
      FROM evently.outbox WHERE type = 'waitlist.left' GROUP BY 1),
-- when each hold was live, in outbox order: from its hold.created (or the
-- waitlist.offered that made it) to its release, expiry or confirmation
hold_spans AS (
    SELECT h.user_id, h.event_id, (SELECT count(*) FROM evently.hold_seats hs WHERE hs.hold_id = h.id) AS seats,
           min(o.id) FILTER (WHERE o.type IN ('hold.created', 'waitlist.offered')) AS from_id,
           min(o.id) FILTER (WHERE o.type IN ('hold.released', 'hold.expired', 'booking.confirmed')) AS to_id
      FROM evently.holds h JOIN evently.outbox o ON o.data ->> 'hold_id' = h.id::text
     GROUP BY h.id, h.user_id, h.event_id),
queue AS (
    SELECT w.id, w.event_id, w.user_id, w.position, w.quantity, o.at AS offered_at, l.at AS left_at
      FROM evently.waitlist_entries w
      LEFT JOIN offers o ON o.entry_id = w.id LEFT JOIN lefts l ON l.entry_id = w.id)
SELECT 'no seat in two live bookings' AS invariant, count(*) AS violations
  FROM (SELECT 1 FROM evently.tickets WHERE status = 'VALID'
         GROUP BY event_id, seat_id HAVING count(*) > 1) x
UNION ALL
SELECT 'BOOKED seats are the seats of CONFIRMED bookings', count(*)
  FROM ((SELECT * FROM booked_seats EXCEPT SELECT * FROM confirmed_tickets)
        UNION ALL (SELECT * FROM confirmed_tickets EXCEPT SELECT * FROM booked_seats)) x
UNION ALL
SELECT 'tickets are VALID exactly while their booking is CONFIRMED', count(*)
  FROM evently.tickets t JOIN evently.bookings b ON b.id = t.booking_id
 WHERE (t.status = 'VALID') <> (b.status = 'CONFIRMED')
UNION ALL
SELECT 'no live hold over a BOOKED seat', count(*)
  FROM live_holds lh JOIN evently.event_seats es USING (event_id, seat_id) WHERE es.status = 'BOOKED'
UNION ALL
SELECT 'no seat in two live holds', count(*)
  FROM (SELECT 1 FROM live_holds GROUP BY event_id, seat_id HAVING count(*) > 1) x
UNION ALL
SELECT 'every HELD seat belongs to an ACTIVE hold that lists it', count(*)
  FROM evently.event_seats es
  LEFT JOIN evently.holds h ON h.id = es.hold_id
  LEFT JOIN evently.hold_seats hs ON hs.hold_id = es.hold_id AND hs.seat_id = es.seat_id
 WHERE es.status = 'HELD' AND (h.status IS DISTINCT FROM 'ACTIVE' OR hs.seat_id IS NULL)
UNION ALL
SELECT 'refund = total - fee, fee within [0, total]', count(*)
  FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
 WHERE c.refund_amount + c.cancellation_fee <> b.total_price
    OR c.cancellation_fee NOT BETWEEN 0 AND b.total_price
UNION ALL
-- an entry that fit at least as well as B, joined earlier and was still
-- waiting when B got its offer, must have been offered first -- unless its
-- user's live holds left no room for it under max_seats_per_user (8): an
-- offer is a hold and keeps the per-user limit.  Outbox ids are taken at
-- insert, not at commit: a hold whose end has an id a little below B's
-- offer may still have been live when the offer was decided, so a hold
-- counts as live until 100 ids after its end.
SELECT 'offers made in join order', count(*)
  FROM queue b JOIN queue a ON a.event_id = b.event_id AND a.position < b.position
                           AND a.quantity <= b.quantity
 WHERE b.offered_at IS NOT NULL
   AND coalesce(a.offered_at, 9e18) > b.offered_at
   AND coalesce(a.left_at, 9e18) > b.offered_at
   AND a.id IN (SELECT (data ->> 'id')::uuid FROM evently.outbox
                 WHERE type = 'waitlist.joined' AND id < b.offered_at)
   AND a.quantity + (SELECT coalesce(sum(s.seats), 0) FROM hold_spans s
                      WHERE s.user_id = a.user_id AND s.event_id = a.event_id
                        AND s.from_id < b.offered_at AND coalesce(s.to_id, 9e18) > b.offered_at - 100) <= 8
UNION ALL
SELECT 'the seat counters sum to the inventory, per event and status', count(*)
  FROM (SELECT event_id, status, count(*) AS n FROM evently.event_seats GROUP BY 1, 2) inventory
  FULL JOIN (SELECT event_id, status, sum(n) AS n FROM evently.event_seat_counts,
                    LATERAL (VALUES ('AVAILABLE', available), ('HELD', held),
                                    ('BOOKED', booked), ('BLOCKED', blocked)) v(status, n)
              GROUP BY 1, 2) counted USING (event_id, status)
 WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0);
