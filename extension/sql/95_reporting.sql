-- 95_reporting.sql: what a linked role may read directly (SPEC section 8):
-- row-level security on the sales tables, and reporting views over them
-- that run as the reader (security_invoker), so each reader sees only its
-- rows: its own bookings, the events it organises, and everything for an
-- ADMIN.  The API's functions run as the owner and are not filtered.

-- May the linked user see the figures of this event? An ADMIN sees all, an
-- organizer the events of its verified organizer account (_manages_event).
CREATE OR REPLACE FUNCTION evently._reports_on(p_event_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, evently, pg_temp AS $$
    SELECT evently._manages_event(me, p_event_id) FROM evently._reader() me
$$;

ALTER TABLE evently.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE evently.bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE evently.tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE evently.payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE evently.cancellations ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS reporting ON evently.events;
-- an event on sale, cancelled or over is public; a draft or an event under
-- review only for those who report on it
CREATE POLICY reporting ON evently.events FOR SELECT
    USING (status NOT IN ('draft', 'under_review') OR evently._reports_on(id));
DROP POLICY IF EXISTS reporting ON evently.bookings;
CREATE POLICY reporting ON evently.bookings FOR SELECT
    USING (user_id = evently._reader() OR evently._reports_on(event_id));
DROP POLICY IF EXISTS reporting ON evently.tickets;
CREATE POLICY reporting ON evently.tickets FOR SELECT
    USING (holder_id = evently._reader() OR EXISTS (SELECT 1 FROM evently.bookings b WHERE b.id = booking_id));
DROP POLICY IF EXISTS reporting ON evently.payments;
CREATE POLICY reporting ON evently.payments FOR SELECT
    USING (EXISTS (SELECT 1 FROM evently.bookings b WHERE b.id = booking_id));
DROP POLICY IF EXISTS reporting ON evently.cancellations;
CREATE POLICY reporting ON evently.cancellations FOR SELECT
    USING (EXISTS (SELECT 1 FROM evently.bookings b WHERE b.id = booking_id));

-- One row per booking the reader may see.
CREATE OR REPLACE VIEW evently.report_bookings WITH (security_invoker = true) AS
    SELECT b.id AS booking_id, b.booking_ref, b.event_id, e.name AS event_name, e.date_time,
           b.user_id, b.status, b.total_seats, b.total_price, p.status AS payment_status,
           coalesce(c.refund_amount, 0) AS refunded, b.created_at, b.cancelled_at
      FROM evently.bookings b
      JOIN evently.events e ON e.id = b.event_id
      LEFT JOIN evently.payments p ON p.booking_id = b.id
      LEFT JOIN evently.cancellations c ON c.booking_id = b.id;

-- One row per event the reader reports on: what it sold and refunded.
CREATE OR REPLACE VIEW evently.report_event_sales WITH (security_invoker = true) AS
    SELECT e.id AS event_id, e.name, e.date_time, evently._lifecycle_status(e.status, e.date_time, e.end_time) AS status,
           count(b.id) FILTER (WHERE b.status = 'CONFIRMED') AS bookings,
           coalesce(sum(b.total_seats) FILTER (WHERE b.status = 'CONFIRMED'), 0) AS seats_sold,
           coalesce(sum(b.total_price) FILTER (WHERE b.status = 'CONFIRMED'), 0) AS revenue,
           count(b.id) FILTER (WHERE b.status = 'CANCELLED') AS cancellations,
           coalesce(sum(c.refund_amount), 0) AS refunded
      FROM evently.events e
      LEFT JOIN evently.bookings b ON b.event_id = e.id
      LEFT JOIN evently.cancellations c ON c.booking_id = b.id
     WHERE evently._reports_on(e.id)
     GROUP BY e.id;

-- What evently_api may read (called by _grant_to_roles).
CREATE OR REPLACE FUNCTION evently._grant_reporting() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    GRANT SELECT ON evently.events, evently.bookings, evently.payments,
                    evently.cancellations, evently.report_bookings, evently.report_event_sales
       TO evently_api;
    -- a ticket's code is a credential (SPEC section 11): its holder reads it
    -- through GET /tickets (api_tickets_mine), never from the table, where
    -- the buyer of a ticket given away would still see it
    REVOKE SELECT ON evently.tickets FROM evently_api;
    GRANT SELECT (id, booking_id, event_id, seat_id, section_id, seat_price, status, created_at,
                  tier_id, unit_no, holder_id, version) ON evently.tickets TO evently_api;
    -- the lifecycle's status, as every read shows it (report_event_sales)
    GRANT EXECUTE ON FUNCTION evently._reader(), evently._reports_on(uuid),
                              evently._lifecycle_status(text, timestamptz, timestamptz) TO evently_api;
END
$$;
