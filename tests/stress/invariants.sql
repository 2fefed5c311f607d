-- The invariants after the storm: one row per invariant with its violations.
-- One big statement whose estimated cost makes PostgreSQL compile it with
-- JIT, which took 30 times as long as running it (33 s against 1 s).
SET jit = off;
WITH ev AS (SELECT id FROM stress.event),
confirmed_tickets AS (
    SELECT t.event_id, t.seat_id, t.booking_id FROM evently.tickets t
      JOIN evently.bookings b ON b.id = t.booking_id
     WHERE b.status = 'CONFIRMED' AND t.status = 'VALID' AND t.seat_id IS NOT NULL),
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
-- (computed once: the offers' check below looks it up per pair of entries)
hold_spans AS MATERIALIZED (
    SELECT h.user_id, h.event_id, h.seat_count AS seats,
           min(o.id) FILTER (WHERE o.type IN ('hold.created', 'waitlist.offered')) AS from_id,
           min(o.id) FILTER (WHERE o.type IN ('hold.released', 'hold.expired', 'booking.confirmed')) AS to_id
      FROM evently.holds h JOIN evently.outbox o ON o.data ->> 'hold_id' = h.id::text
     GROUP BY h.id, h.user_id, h.event_id, h.seat_count),
-- a refund's approval and failure, a booking's cancellation, in audit order
refunds_approved AS MATERIALIZED (
    SELECT object_id AS refund_id, min(id) AS at FROM evently.audit_log
     WHERE action = 'refund.approved' GROUP BY 1),
refunds_failed AS MATERIALIZED (
    SELECT object_id AS refund_id, min(id) AS at FROM evently.audit_log
     WHERE action = 'refund.failed' GROUP BY 1),
bookings_cancelled AS MATERIALIZED (
    SELECT object_id AS booking_id, min(id) AS at FROM evently.audit_log
     WHERE action = 'booking.cancelled' GROUP BY 1),
queue AS (
    SELECT w.id, w.event_id, w.user_id, w.position, w.quantity, o.at AS offered_at, l.at AS left_at
      FROM evently.waitlist_entries w
      LEFT JOIN offers o ON o.entry_id = w.id LEFT JOIN lefts l ON l.entry_id = w.id)
SELECT 'no seat in two live bookings' AS invariant, count(*) AS violations
  FROM (SELECT 1 FROM evently.tickets WHERE status = 'VALID' AND seat_id IS NOT NULL
         GROUP BY event_id, seat_id HAVING count(*) > 1) x
UNION ALL
SELECT 'BOOKED seats are the seats of CONFIRMED bookings', count(*)
  FROM ((SELECT * FROM booked_seats EXCEPT SELECT * FROM confirmed_tickets)
        UNION ALL (SELECT * FROM confirmed_tickets EXCEPT SELECT * FROM booked_seats)) x
UNION ALL
-- a refund may cancel some of a booking's tickets; the last one cancels it
SELECT 'a VALID ticket''s booking is CONFIRMED; a CONFIRMED booking has a VALID ticket', count(*)
  FROM evently.bookings b
 WHERE (b.status = 'CONFIRMED') <> EXISTS (SELECT 1 FROM evently.tickets t WHERE t.booking_id = b.id AND t.status = 'VALID')
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
-- what a cancellation splits is what the booking's payment still held: its
-- amount (an order's discount off), less the refunds of some of its tickets
-- approved before it and not failed by then; for a booking paid at
-- confirmation, its total
SELECT 'refund = held - fee, fee within [0, held]', count(*)
  FROM evently.cancellations c
  JOIN evently.bookings b ON b.id = c.booking_id
  JOIN evently.payments p ON p.booking_id = b.id
  JOIN bookings_cancelled bc ON bc.booking_id = b.id,
       LATERAL (SELECT p.amount - coalesce(sum(r.amount), 0) AS amount
                  FROM evently.refunds r
                  JOIN refunds_approved ra ON ra.refund_id = r.id
                  LEFT JOIN refunds_failed rf ON rf.refund_id = r.id
                 WHERE r.payment_id = p.id AND NOT r.automatic
                   AND ra.at < bc.at AND coalesce(rf.at, 9e18) > bc.at) held
 WHERE c.refund_amount + c.cancellation_fee <> held.amount
    OR c.cancellation_fee NOT BETWEEN 0 AND held.amount
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
 WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0)
UNION ALL
-- general admission: a tier's units are its capacity
SELECT 'units sold + held <= total, per tier (and total = its units)', count(*)
  FROM evently.ticket_tiers t
 WHERE t.total_quantity <> (SELECT count(*) FROM evently.tier_units u WHERE u.tier_id = t.id)
    OR t.total_quantity < (SELECT count(*) FROM evently.tickets k WHERE k.tier_id = t.id AND k.status = 'VALID')
                         + (SELECT coalesce(sum(hi.quantity), 0) FROM evently.hold_items hi
                              JOIN evently.holds h ON h.id = hi.hold_id
                             WHERE hi.tier_id = t.id AND h.status = 'ACTIVE' AND h.expires_at > now())
UNION ALL
SELECT 'no unit in two VALID tickets', count(*)
  FROM (SELECT 1 FROM evently.tickets WHERE status = 'VALID' AND tier_id IS NOT NULL
         GROUP BY tier_id, unit_no HAVING count(*) > 1) x
UNION ALL
SELECT 'a BOOKED unit has one VALID ticket of its booking, and a VALID ticket''s unit is BOOKED by it', count(*)
  FROM evently.tier_units u
  FULL JOIN (SELECT * FROM evently.tickets WHERE status = 'VALID' AND tier_id IS NOT NULL) k
         ON k.tier_id = u.tier_id AND k.unit_no = u.unit_no AND k.booking_id = u.booking_id
 WHERE (u.status = 'BOOKED' OR k.id IS NOT NULL) AND (u.tier_id IS NULL OR k.id IS NULL)
UNION ALL
SELECT 'every HELD unit belongs to an ACTIVE hold that asked for its tier, until the hold ends', count(*)
  FROM evently.tier_units u
  LEFT JOIN evently.holds h ON h.id = u.hold_id
  LEFT JOIN evently.hold_items hi ON hi.hold_id = u.hold_id AND hi.tier_id = u.tier_id
 WHERE u.status = 'HELD' AND (h.status IS DISTINCT FROM 'ACTIVE' OR hi.tier_id IS NULL
                              OR u.held_until IS DISTINCT FROM h.expires_at)
UNION ALL
-- a lapsed hold may have lost units to others (lazy expiry); a live one none
SELECT 'an ACTIVE hold holds what it asked for of each tier (all of it while live)', count(*)
  FROM evently.hold_items hi JOIN evently.holds h ON h.id = hi.hold_id
 WHERE h.status = 'ACTIVE'
   AND (SELECT count(*) FROM evently.tier_units u WHERE u.hold_id = hi.hold_id AND u.tier_id = hi.tier_id
           AND u.status = 'HELD')
       NOT BETWEEN CASE WHEN h.expires_at > now() THEN hi.quantity ELSE 0 END AND hi.quantity
UNION ALL
SELECT 'the tier counters sum to the units, per tier and status', count(*)
  FROM (SELECT tier_id, status, count(*) AS n FROM evently.tier_units GROUP BY 1, 2) units
  FULL JOIN (SELECT tier_id, status, sum(n) AS n FROM evently.tier_unit_counts,
                    LATERAL (VALUES ('AVAILABLE', available), ('HELD', held), ('BOOKED', booked)) v(status, n)
              GROUP BY 1, 2) counted USING (tier_id, status)
 WHERE coalesce(units.n, 0) <> coalesce(counted.n, 0)
UNION ALL
-- orders and payments: tickets exactly when the money came
SELECT 'no VALID ticket without a completed payment (of its order, if an order made it)', count(*)
  FROM evently.tickets k
  JOIN evently.bookings b ON b.id = k.booking_id
  LEFT JOIN evently.orders o ON o.booking_id = b.id
  LEFT JOIN evently.payments p ON p.booking_id = b.id
 WHERE k.status = 'VALID'
   AND (p.status IS NULL OR p.status NOT IN ('COMPLETED', 'REFUNDING', 'PARTIALLY_REFUNDED')
        OR (o.id IS NOT NULL AND (o.status NOT IN ('PAID', 'PARTIALLY_REFUNDED') OR p.order_id IS DISTINCT FROM o.id)))
UNION ALL
-- (a payment that came late and could not be honoured is refunded in full
-- instead: no booking, EXPIRED or FAILED as it was until its automatic
-- refund ends it REFUNDED)
SELECT 'an order has a booking exactly once paid: the booking of its hold, paid by its payment', count(*)
  FROM evently.orders o
  JOIN evently.payments p ON p.order_id = o.id
  LEFT JOIN evently.bookings b ON b.id = o.booking_id
 WHERE (o.paid_at IS NOT NULL) <> (p.status IN ('COMPLETED', 'REFUNDING', 'REFUNDED', 'PARTIALLY_REFUNDED'))
    OR (o.paid_at IS NOT NULL AND o.booking_id IS NULL
        AND (o.status NOT IN ('EXPIRED', 'FAILED', 'REFUNDED')
             OR NOT EXISTS (SELECT 1 FROM evently.refunds r WHERE r.order_id = o.id AND r.automatic)))
    OR (o.booking_id IS NOT NULL AND (o.paid_at IS NULL OR o.status NOT IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')))
    OR b.hold_id IS DISTINCT FROM (CASE WHEN o.booking_id IS NOT NULL THEN o.hold_id END)
    OR p.booking_id IS DISTINCT FROM o.booking_id
    OR p.amount <> o.total_amount
UNION ALL
SELECT 'an order is REFUNDED once its payment is', count(*)
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id
 WHERE o.status = 'REFUNDED' AND p.status <> 'REFUNDED'
UNION ALL
SELECT 'a hold being paid for is not booked another way', count(*)
  FROM evently.orders o JOIN evently.bookings b ON b.hold_id = o.hold_id
 WHERE o.status = 'PENDING'
UNION ALL
-- money back: what the refunds and the cancellation returned, never more than
-- was paid, and what the payment says it returned
SELECT 'refunds never exceed what was paid, and the payment records them', count(*)
  FROM (SELECT p.amount, coalesce(p.refund_amount, 0) AS recorded,
               (SELECT coalesce(sum(r.amount), 0) FROM evently.refunds r
                 WHERE r.payment_id = p.id AND r.status = 'REFUNDED')
               + CASE WHEN p.provider = 'card' THEN 0
                      ELSE coalesce((SELECT c.refund_amount FROM evently.cancellations c
                                      WHERE c.booking_id = p.booking_id), 0) END AS returned,
               (SELECT coalesce(sum(r.amount), 0) FROM evently.refunds r
                 WHERE r.payment_id = p.id AND r.status IN ('REQUESTED', 'REFUNDING')) AS asked
          FROM evently.payments p) m
 WHERE m.returned > m.amount OR m.recorded <> m.returned OR m.returned + m.asked > m.amount
UNION ALL
SELECT 'a discount code is used at most max_uses times, and used_count says how often', count(*)
  FROM evently.discount_codes dc
 WHERE dc.used_count <> (SELECT count(*) FROM evently.orders o WHERE o.discount_code_id = dc.id
                          AND (o.status = 'PENDING' OR o.booking_id IS NOT NULL))
    OR coalesce(dc.max_uses, 1e9) < (SELECT count(*) FROM evently.orders o WHERE o.discount_code_id = dc.id
                                      AND (o.status = 'PENDING' OR o.booking_id IS NOT NULL));
