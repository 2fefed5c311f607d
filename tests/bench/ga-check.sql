-- The GA flash sale's final check (tests/bench/ga-flash-sale.sh), after the
-- last buyer stopped: one row per invariant, ok or not, with its figures.
-- psql variables: units (the tier's size), orders (PAID orders the clients
-- counted), sold (units they counted).
WITH sale AS (SELECT * FROM bench.sale),
units AS (SELECT u.* FROM evently.tier_units u JOIN sale USING (tier_id)),
valid AS (SELECT t.* FROM evently.tickets t JOIN sale USING (tier_id) WHERE t.status = 'VALID'),
paid AS (SELECT o.* FROM evently.orders o JOIN sale USING (event_id) WHERE o.status = 'PAID')
SELECT format('exactly %s units sold (BOOKED), none held or free', :units) AS "check",
       count(*) FILTER (WHERE status = 'BOOKED') = :units AND count(*) = :units AS ok,
       format('booked %s, held %s, free %s', count(*) FILTER (WHERE status = 'BOOKED'),
              count(*) FILTER (WHERE status = 'HELD'), count(*) FILTER (WHERE status = 'AVAILABLE')) AS figures
  FROM units
UNION ALL
SELECT format('every unit in at most one VALID ticket, %s tickets', :units),
       count(*) = :units AND count(DISTINCT unit_no) = count(*),
       format('%s tickets, %s distinct units', count(*), count(DISTINCT unit_no))
  FROM valid
UNION ALL
SELECT 'each VALID ticket''s unit is BOOKED by the ticket''s booking',
       count(*) = 0, format('%s mismatches', count(*))
  FROM valid v LEFT JOIN units u USING (tier_id, unit_no)
 WHERE u.status IS DISTINCT FROM 'BOOKED' OR u.booking_id IS DISTINCT FROM v.booking_id
UNION ALL
SELECT 'units sold + held <= total, every tier',
       count(*) = 0, format('%s tiers over', count(*))
  FROM evently.ticket_tiers t
 WHERE (SELECT count(*) FROM evently.tier_units u WHERE u.tier_id = t.id AND u.status IN ('HELD', 'BOOKED'))
       > t.total_quantity
UNION ALL
SELECT 'tier_unit_counts sum to the units, per status (t.counters_agree)',
       count(*) = 0, format('%s (tier, status) pairs differ', count(*))
  FROM (SELECT tier_id, status, count(*) AS n FROM evently.tier_units GROUP BY 1, 2) u
  FULL JOIN (SELECT tier_id, status, sum(n) AS n FROM evently.tier_unit_counts,
                    LATERAL (VALUES ('AVAILABLE', available), ('HELD', held), ('BOOKED', booked)) v (status, n)
              GROUP BY 1, 2) c USING (tier_id, status)
 WHERE coalesce(u.n, 0) <> coalesce(c.n, 0)
UNION ALL
SELECT format('the clients'' %s PAID orders of %s units are the database''s', :orders, :sold),
       count(*) = :orders AND sum((SELECT sum(quantity) FROM evently.order_items i WHERE i.order_id = p.id)) = :sold,
       format('%s PAID orders of %s units', count(*),
              sum((SELECT sum(quantity) FROM evently.order_items i WHERE i.order_id = p.id)))
  FROM paid p
UNION ALL
SELECT 'no order but PAID; each PAID with a COMPLETED payment, a CONFIRMED booking, its tickets',
       count(*) = 0, format('%s orders wrong', count(*))
  FROM evently.orders o JOIN sale USING (event_id)
  LEFT JOIN evently.payments p ON p.order_id = o.id
  LEFT JOIN evently.bookings b ON b.id = o.booking_id
 WHERE o.status <> 'PAID' OR p.status IS DISTINCT FROM 'COMPLETED' OR b.status IS DISTINCT FROM 'CONFIRMED'
    OR (SELECT count(*) FROM evently.tickets t WHERE t.booking_id = o.booking_id AND t.status = 'VALID')
       <> (SELECT sum(quantity) FROM evently.order_items i WHERE i.order_id = o.id)
UNION ALL
SELECT 'every hold of the sale CONFIRMED (none left ACTIVE)',
       count(*) FILTER (WHERE status <> 'CONFIRMED') = 0,
       format('%s holds: %s', count(*), string_agg(DISTINCT status, ', '))
  FROM evently.holds h JOIN sale USING (event_id)
UNION ALL
SELECT 'one order.created and one order.paid outbox row per order',
       count(*) FILTER (WHERE type = 'order.created') = (SELECT count(*) FROM paid)
       AND count(*) FILTER (WHERE type = 'order.paid') = (SELECT count(*) FROM paid),
       format('%s order.created, %s order.paid', count(*) FILTER (WHERE type = 'order.created'),
              count(*) FILTER (WHERE type = 'order.paid'))
  FROM evently.outbox o JOIN sale USING (event_id);
