-- 92_organizer_views.sql: an organizer's back office (SPEC section 9, issue
-- 11 item 4), read-only:
--   GET /organizer/events                       its events, in any status
--   GET /organizer/events/:eventId/dashboard    seats by section, revenue,
--                                               daily sales, holds, waitlist
--   GET /organizer/events/:eventId/attendees    who comes: JSON pages, or the
--                                               whole list as CSV
--   GET /organizer/events/:eventId/bookings     the event's bookings, buyers
--
-- Who sees what.  An organizer sees the events of its verified organizer
-- account, an ADMIN every event (the organizers' and the platform's own).
-- The list refuses anyone else with FORBIDDEN, as POST /events does: it
-- names no object, so there is nothing to hide, and the refusal says how to
-- become an organizer.  The per-event routes answer NOT_FOUND for an event
-- the actor does not manage (_manages_event, the one ownership rule), as the
-- lifecycle's writes on /events/:eventId do, so nobody learns that another
-- organizer's event id is real.
--
-- Everything here is STABLE: PostgreSQL then refuses any write or row lock
-- in these functions, so a dashboard never queues behind a sale.

-- GET /organizer/events?status=&limit=1-100 (20)&offset= (0): the actor's
-- events in any status, latest date first (what is being prepared or sold
-- leads, past events trail), as {events: [organizer_event_json],
-- total_count, limit, offset}.  status filters by the lifecycle's status
-- as every read shows it (_lifecycle_status: draft, under_review, published,
-- active, completed, cancelled; any case).  An organizer gets its own
-- events, an ADMIN every event.  Raises FORBIDDEN for anyone else,
-- INVALID_ARGUMENT for a bad parameter.
CREATE OR REPLACE FUNCTION evently.api_organizer_events(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    org uuid;                       -- NULL for an ADMIN: every event
    wanted text := nullif(lower(req->'query'->>'status'), '');
    lim int;
    off int;
    total bigint;
    docs jsonb;
BEGIN
    actor := evently._actor(actor, req);
    IF evently._user_role(actor) <> 'ADMIN' THEN
        org := evently._organizer(actor, req);
    END IF;
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    PERFORM evently._require(wanted IS NULL
                             OR wanted IN ('draft', 'under_review', 'published', 'active', 'completed', 'cancelled'),
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('status=%s is not draft, under_review, published, active, completed or cancelled.',
               req->'query'->>'status'));
    WITH mine AS (
        SELECT e.id, e.date_time FROM evently.events e
         WHERE (org IS NULL OR e.organizer_id = org)
           AND (wanted IS NULL OR evently._lifecycle_status(e.status, e.date_time, e.end_time) = wanted))
    SELECT (SELECT count(*) FROM mine),
           (SELECT jsonb_agg(evently.organizer_event_json(p.id) ORDER BY p.date_time DESC, p.id)
              FROM (SELECT id, date_time FROM mine ORDER BY date_time DESC, id LIMIT lim OFFSET off) p)
      INTO total, docs;
    RETURN evently._slice('events', docs, total, lim, off);
END
$$;

-- An event's seats by section as a buyer would find them now
-- (evently.event_seats: a lapsed hold's seat is AVAILABLE): capacity (every
-- seat), sold (BOOKED: one VALID ticket each), held (under a live hold),
-- available, blocked.
CREATE OR REPLACE FUNCTION evently._section_seats(p_event_id uuid)
RETURNS TABLE (section_id uuid, section_name text, capacity bigint, sold bigint, held bigint,
               available bigint, blocked bigint)
LANGUAGE sql STABLE AS $$
    SELECT s.section_id, es.section, count(*),
           count(*) FILTER (WHERE es.status = 'BOOKED'), count(*) FILTER (WHERE es.status = 'HELD'),
           count(*) FILTER (WHERE es.status = 'AVAILABLE'), count(*) FILTER (WHERE es.status = 'BLOCKED')
      FROM evently.event_seats(p_event_id) es JOIN evently.seats s ON s.id = es.seat_id
     GROUP BY s.section_id, es.section
$$;

-- An event's money: gross is what its bookings sold for (CONFIRMED and
-- those CANCELLED since: a refund does not unmake a sale), refunded what
-- their cancellations paid back, net = gross - refunded (the fees kept).
CREATE OR REPLACE FUNCTION evently._event_revenue(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('gross', x.gross, 'refunded', x.refunded, 'net', x.gross - x.refunded,
                              'confirmed_bookings', x.confirmed, 'cancelled_bookings', x.cancelled)
      FROM (SELECT coalesce(sum(b.total_price), 0) AS gross, coalesce(sum(c.refund_amount), 0) AS refunded,
                   count(*) FILTER (WHERE b.status = 'CONFIRMED') AS confirmed,
                   count(*) FILTER (WHERE b.status = 'CANCELLED') AS cancelled
              FROM evently.bookings b LEFT JOIN evently.cancellations c ON c.booking_id = b.id
             WHERE b.event_id = p_event_id) x
$$;

-- The sales of each day an event sold anything (the database's time zone),
-- oldest first: [{date, bookings, tickets, revenue}].  Every booking counts
-- on the day it was made, whatever happened to it later, so the days add up
-- to the revenue's gross.
CREATE OR REPLACE FUNCTION evently._daily_sales(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('date', d, 'bookings', n, 'tickets', seats, 'revenue', r)
                              ORDER BY d), '[]')
      FROM (SELECT created_at::date AS d, count(*) AS n, sum(total_seats) AS seats, sum(total_price) AS r
              FROM evently.bookings WHERE event_id = p_event_id GROUP BY 1) x
$$;

-- GET /organizer/events/:eventId/dashboard: one event's figures, each as
-- the data stands now:
--   capacity {total, sold, held, available, blocked, sold_percent} and
--   sections [{section_id, section_name, capacity, sold, held, available,
--   blocked}] (_section_seats), both of seats only; tiers: each ticket
--   tier as GET /events/:eventId/tiers shows it (total_quantity,
--   available_quantity, held_quantity, sold_quantity, on_sale, ...);
--   revenue {gross, refunded, net, confirmed_bookings, cancelled_bookings}
--   (_event_revenue); daily_sales (_daily_sales); holds {live, seats}: live
--   holds (waitlist offers included) and their seats, lapsed ones left out;
--   waitlist {active, seats_wanted, notified}: entries still waiting and
--   the seats they ask for, entries holding an offer; check_in {sold,
--   checked_in}: valid tickets and those let in (GET /checkin/event/:id has
--   the rest).
-- Raises NOT_FOUND for an event the actor does not manage.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_dashboard(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
    sections jsonb;
    capacity jsonb;
BEGIN
    ev := evently._readable_event(evently._actor(actor, req), req->'path'->>'eventId');
    SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.section_name), '[]'),
           jsonb_build_object('total', coalesce(sum(s.capacity), 0), 'sold', coalesce(sum(s.sold), 0),
                              'held', coalesce(sum(s.held), 0), 'available', coalesce(sum(s.available), 0),
                              'blocked', coalesce(sum(s.blocked), 0),
                              'sold_percent', evently._pct(coalesce(sum(s.sold), 0), sum(s.capacity)))
      INTO sections, capacity
      FROM evently._section_seats(ev.id) s;
    RETURN jsonb_build_object(
        'event_id', ev.id, 'name', ev.name, 'status', evently._lifecycle_status(ev.status, ev.date_time, ev.end_time),
        'date_time', ev.date_time, 'end_time', ev.end_time,
        'capacity', capacity, 'sections', sections, 'tiers', evently.event_tiers_json(ev.id),
        'revenue', evently._event_revenue(ev.id),
        'daily_sales', evently._daily_sales(ev.id),
        'holds', (SELECT jsonb_build_object('live', count(*), 'seats', coalesce(sum(h.seat_count), 0))
                    FROM evently.holds h
                   WHERE h.event_id = ev.id AND h.status = 'ACTIVE' AND h.expires_at > now()),
        'waitlist', (SELECT jsonb_build_object(
                                'active', count(*) FILTER (WHERE w.status = 'ACTIVE'),
                                'seats_wanted', coalesce(sum(w.quantity) FILTER (WHERE w.status = 'ACTIVE'), 0),
                                'notified', count(*) FILTER (WHERE w.status = 'NOTIFIED'))
                       FROM evently.waitlist_entries w WHERE w.event_id = ev.id),
        'check_in', (SELECT jsonb_build_object('sold', count(*), 'checked_in', count(c.id))
                       FROM evently.tickets t
                       LEFT JOIN evently.checkins c ON c.ticket_id = t.id AND c.status = 'ACTIVE'
                      WHERE t.event_id = ev.id AND t.status = 'VALID'));
END
$$;

-- One row per attendee: a live ticket (VALID) of a CONFIRMED booking.  The
-- ticket's holder is the attendee (the buyer until a transfer; tickets
-- carry no names).  Its JSON is the row
-- without event_id and position (_attendee_json), its CSV record the same
-- values (_attendee_csv_record).
CREATE OR REPLACE VIEW evently.attendees AS
    SELECT t.event_id, s.position, b.booking_ref, u.first_name || ' ' || u.last_name AS attendee_name,
           u.email AS attendee_email, sec.name AS section, s."row", s.seat_number, t.seat_price AS price,
           b.created_at AS booked_at
      FROM evently.tickets t
      JOIN evently.bookings b ON b.id = t.booking_id
      JOIN evently.users u ON u.id = t.holder_id
      JOIN evently.seats s ON s.id = t.seat_id
      JOIN evently.venue_sections sec ON sec.id = t.section_id
     WHERE t.status = 'VALID' AND b.status = 'CONFIRMED';

-- An event's attendees in the list's order (by booking, then seat), lim of
-- them (NULL: all) from off.  Its callers aggregate the rows as they come:
-- PostgreSQL's aggregates keep a sorted subquery's order, and a second sort
-- of a 100,000-row file would cost more than the first.
CREATE OR REPLACE FUNCTION evently._attendee_list(p_event_id uuid, lim int DEFAULT NULL, off int DEFAULT 0)
RETURNS SETOF evently.attendees LANGUAGE sql STABLE AS $$
    SELECT * FROM evently.attendees WHERE event_id = p_event_id
     ORDER BY booked_at, booking_ref, section, "row", position
     LIMIT lim OFFSET off
$$;

-- An attendee as the JSON list shows it: booking_ref, attendee_name,
-- attendee_email, section, row, seat_number, price, booked_at.
CREATE OR REPLACE FUNCTION evently._attendee_json(a evently.attendees) RETURNS jsonb
LANGUAGE sql STABLE
RETURN to_jsonb(a) - 'event_id' - 'position';

-- One CSV field (RFC 4180), safe to open in a spreadsheet: a value starting
-- with =, +, -, @, a tab or a carriage return gets a leading apostrophe, so
-- that no spreadsheet runs it as a formula (OWASP, CSV injection); a value
-- with a comma, a quote, a CR or a LF is quoted, its quotes doubled.  NULL
-- is an empty field.  One plain expression, so that PostgreSQL inlines it:
-- a file calls it for every field of up to 100,000 rows.
CREATE OR REPLACE FUNCTION evently._csv_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN value ~ '[",\r\n]'
            THEN '"' || replace(CASE WHEN value ~ '^[-=+@\t\r]' THEN '''' || value ELSE value END, '"', '""') || '"'
            WHEN value ~ '^[-=+@\t\r]' THEN '''' || value
            ELSE coalesce(value, '') END;

-- An attendee's CSV record: the JSON's values, in the order of the header
-- in _attendees_csv (price and booked_at written as the JSON writes them),
-- then CRLF.  STABLE, as to_jsonb of a time is, so that it is inlined too.
CREATE OR REPLACE FUNCTION evently._attendee_csv_record(a evently.attendees) RETURNS text
LANGUAGE sql STABLE
RETURN concat_ws(',', evently._csv_field(a.booking_ref), evently._csv_field(a.attendee_name),
                 evently._csv_field(a.attendee_email), evently._csv_field(a.section), evently._csv_field(a."row"),
                 evently._csv_field(a.seat_number), evently._csv_field(to_jsonb(a.price) #>> '{}'),
                 evently._csv_field(to_jsonb(a.booked_at) #>> '{}')) || E'\r\n';

-- An event's whole attendee list as a CSV file: {"csv": a header record,
-- then one record per attendee, "filename": "attendees-<event id>.csv"}.  A
-- file is bounded (100,000 attendees took about 2.5 s on a busy 2-core
-- machine, within the shim's 5 s statement timeout): LIMIT_EXCEEDED when
-- the event has more than max_rows attendees; the JSON list pages through
-- any number.
CREATE OR REPLACE FUNCTION evently._attendees_csv(p_event_id uuid, max_rows int DEFAULT 100000) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n bigint := (SELECT count(*) FROM evently.attendees WHERE event_id = p_event_id);
BEGIN
    PERFORM evently._require(n <= max_rows, 'LIMIT_EXCEEDED', 'too many attendees for one CSV file',
        format('Event %s has %s attendees; a CSV export holds at most %s.', p_event_id, n, max_rows),
        'Page through the JSON list (limit, offset) instead.');
    RETURN jsonb_build_object(
        'filename', format('attendees-%s.csv', p_event_id),
        'csv', E'booking_ref,attendee_name,attendee_email,section,row,seat_number,price,booked_at\r\n'
               || coalesce((SELECT string_agg(evently._attendee_csv_record(a), '')
                              FROM evently._attendee_list(p_event_id) a), ''));
END
$$;

-- GET /organizer/events/:eventId/attendees?limit=1-100 (50)&offset= (0):
-- one row per attendee (_attendee_json: booking_ref, attendee_name,
-- attendee_email, section, row, seat_number, price, booked_at), by booking
-- then seat, as {attendees, total_count, limit, offset}.  With
-- req.format = 'csv' (the shim sets it when the request's Accept asks for
-- text/csv) the whole list instead, as _attendees_csv: limit and offset are
-- checked but a file holds every attendee.  Raises NOT_FOUND for an event
-- the actor does not manage, INVALID_ARGUMENT for a bad parameter or
-- format, LIMIT_EXCEEDED for a CSV over 100,000 rows.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_attendees(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
    lim int;
    off int;
BEGIN
    ev := evently._readable_event(evently._actor(actor, req), req->'path'->>'eventId');
    SELECT * INTO lim, off FROM evently._page_params(req, 50);
    PERFORM evently._require(coalesce(req->>'format', 'json') IN ('json', 'csv'), 'INVALID_ARGUMENT',
        'invalid format', format('format %s is not json or csv.', req->>'format'));
    IF req->>'format' = 'csv' THEN
        RETURN evently._attendees_csv(ev.id);
    END IF;
    RETURN evently._slice('attendees',
                          (SELECT jsonb_agg(evently._attendee_json(a)) FROM evently._attendee_list(ev.id, lim, off) a),
                          (SELECT count(*) FROM evently.attendees WHERE event_id = ev.id), lim, off);
END
$$;

-- GET /organizer/events/:eventId/bookings?status=CONFIRMED|CANCELLED (any
-- case)&limit=1-100 (20)&offset= (0): the event's bookings, newest first,
-- each its booking_json with its buyer {first_name, last_name, email}, as
-- {bookings, total_count, limit, offset}.  Raises NOT_FOUND for an event
-- the actor does not manage, INVALID_ARGUMENT for a bad parameter.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
    wanted text := nullif(upper(req->'query'->>'status'), '');
    lim int;
    off int;
BEGIN
    ev := evently._readable_event(evently._actor(actor, req), req->'path'->>'eventId');
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    PERFORM evently._require(wanted IS NULL OR wanted IN ('CONFIRMED', 'CANCELLED'), 'INVALID_ARGUMENT',
        'Invalid query parameters', format('status=%s is not CONFIRMED or CANCELLED.', req->'query'->>'status'));
    RETURN evently._slice('bookings',
        (SELECT jsonb_agg(evently._without_codes(d.doc) || jsonb_build_object('buyer', jsonb_build_object(
                              'first_name', u.first_name, 'last_name', u.last_name, 'email', u.email))
                          ORDER BY b.created_at DESC, b.id)
           FROM (SELECT id, user_id, created_at FROM evently.bookings
                  WHERE event_id = ev.id AND (wanted IS NULL OR status = wanted)
                  ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
           JOIN evently.booking_docs d ON d.booking_id = b.id
           JOIN evently.users u ON u.id = b.user_id),
        (SELECT count(*) FROM evently.bookings WHERE event_id = ev.id AND (wanted IS NULL OR status = wanted)),
        lim, off);
END
$$;
