-- 1.0 -> 1.1, after the functions: changes to the data that need 1.1's code.

-- 1.0 left the bookings of a cancelled event CONFIRMED, their money kept.
-- 1.1 cancels every booking of a cancelled event with a full refund
-- (booking.cancelled for each, so the buyers are told): do it now for the
-- events 1.0 cancelled.
SELECT evently._lock_event_queue(e.id), evently._refund_event_bookings(e.id, NULL, 'event cancelled')
  FROM evently.events e
 WHERE e.status = 'cancelled'
   AND EXISTS (SELECT 1 FROM evently.bookings b WHERE b.event_id = e.id AND b.status = 'CONFIRMED')
 ORDER BY e.id;
