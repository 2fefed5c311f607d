-- 1.0 -> 1.1, after the functions: changes to the data that need 1.1's code.

-- 1.0 let an ADMIN mark an event completed before it took place, its
-- bookings CONFIRMED and paid; 1.1 completes an event by the clock only,
-- and nothing refunds a completed one.  Such an event did not take place:
-- it is cancelled, and refunded below like every cancelled event.
UPDATE evently.events
   SET status = 'cancelled', cancelled_at = now(),
       cancel_reason = 'marked completed before it took place (1.0); cancelled by the upgrade'
 WHERE status = 'completed' AND date_time > now();

-- 1.0 left the bookings of a cancelled event CONFIRMED, their money kept.
-- 1.1 cancels every booking of a cancelled event with a full refund
-- (booking.cancelled for each, so the buyers are told): do it now for the
-- events 1.0 cancelled.
SELECT evently._lock_event_queue(e.id), evently._refund_event_bookings(e.id, NULL, 'event cancelled')
  FROM evently.events e
 WHERE e.status = 'cancelled'
   AND EXISTS (SELECT 1 FROM evently.bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED')
 ORDER BY e.id;

-- 1.0 freed a held or sold seat as AVAILABLE even when an ADMIN had blocked
-- the venue's seat meanwhile; 1.1 keeps it BLOCKED (seat_freed).  Block
-- those seats of the events still on sale, as api_seat_update would have.
UPDATE evently.event_seats es SET status = 'BLOCKED'
  FROM evently.events e, evently.seats s
 WHERE e.id = es.event_id AND e.status = 'published' AND e.date_time > now()
   AND s.id = es.seat_id AND s.status = 'BLOCKED' AND es.status = 'AVAILABLE';

-- 1.0 priced a seat when its event was made and left the price behind when
-- a multiplier or base price changed outside its API; 1.1 keeps every
-- seat's list price at base price x multiplier (_reprice_seats).  Bookings
-- keep what was paid: their totals are their own.
UPDATE evently.event_seats es SET price = round(e.base_price * p.price_multiplier, 2)
  FROM evently.events e, evently.event_pricing p
 WHERE e.id = es.event_id AND p.event_id = es.event_id AND p.section_id = es.section_id
   AND es.price IS DISTINCT FROM round(e.base_price * p.price_multiplier, 2);

-- 1.1 signs ticket codes (SPEC section 11): every event gets its key pair,
-- every 1.0 ticket a signed code; its old code stays valid at the door
-- online (legacy_code), and only signed codes are new from now on.
SELECT evently._new_event_key(e.id) FROM evently.events e ORDER BY e.id;
UPDATE evently.tickets
   SET legacy_code = ticket_code,
       ticket_code = evently._sign_ticket(id, event_id, 'S', seat_id, version);
ALTER TABLE evently.tickets ADD CONSTRAINT tickets_code_format CHECK (ticket_code ~ '^[A-Za-z0-9_-]{155}$');
