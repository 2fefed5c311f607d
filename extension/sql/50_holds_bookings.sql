-- 50_holds_bookings.sql: the JSON of holds and bookings (shared by the C
-- engine, psql and REST) and the hold and booking routes.

CREATE OR REPLACE VIEW evently.hold_docs AS
    SELECT h.id AS hold_id, jsonb_build_object(
        'hold_id', h.id, 'event_id', h.event_id, 'user_id', h.user_id,
        'status', CASE WHEN h.status = 'ACTIVE' AND h.expires_at <= now()
                       THEN 'EXPIRED' ELSE h.status END,
        'seats', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'seat_id', s.id, 'section_id', s.section_id,
                       'seat_number', s.seat_number, 'row', s."row",
                       'section_name', sec.name, 'price', hs.price)
                   ORDER BY sec.name, s."row", s.position)
              FROM evently.hold_seats hs
              JOIN evently.seats s ON s.id = hs.seat_id
              JOIN evently.venue_sections sec ON sec.id = s.section_id
             WHERE hs.hold_id = h.id), '[]'),
        'total_price', h.total_price,
        'expires_at', h.expires_at,
        'ttl_seconds', CASE WHEN h.status = 'ACTIVE'
                            THEN greatest(0, ceil(extract(epoch FROM h.expires_at - now())))::int
                            ELSE 0 END,
        'waitlist_entry_id', h.waitlist_entry_id,
        'created_at', h.created_at)
        -- 1.1: a general-admission hold lists its tiers (hold_id again as the
        -- reservation's answer names it)
        || coalesce((
            SELECT jsonb_build_object('items', jsonb_agg(jsonb_build_object(
                       'tier_id', hi.tier_id, 'tier_name', t.name, 'quantity', hi.quantity,
                       'unit_price', hi.unit_price, 'amount', hi.quantity * hi.unit_price)
                   ORDER BY t.sort_order, t.name))
              FROM evently.hold_items hi JOIN evently.ticket_tiers t ON t.id = hi.tier_id
             WHERE hi.hold_id = h.id HAVING count(*) > 0), '{}') AS doc
      FROM evently.holds h;

CREATE OR REPLACE FUNCTION evently.hold_json(p_hold_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.hold_docs WHERE hold_id = p_hold_id);

-- A ticket transferred away shows TRANSFERRED, without its code: the code
-- is its holder's (58_tickets.sql).
CREATE OR REPLACE VIEW evently.booking_docs AS
    SELECT b.id AS booking_id, jsonb_build_object(
        'booking_id', b.id, 'id', b.id, 'booking_ref', b.booking_ref,
        'user_id', b.user_id, 'event_id', b.event_id, 'hold_id', b.hold_id,
        'status', b.status, 'total_price', b.total_price, 'total_seats', b.total_seats,
        'version', b.version,
        'seats', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'seat_id', s.id, 'section_id', s.section_id,
                       'seat_number', s.seat_number, 'row', s."row",
                       'section_name', sec.name, 'price', t.seat_price, 'ticket_id', t.id,
                       'ticket_code', CASE WHEN t.holder_id = b.user_id THEN t.ticket_code END,
                       'ticket_status', CASE WHEN t.holder_id <> b.user_id AND t.status = 'VALID'
                                             THEN 'TRANSFERRED' ELSE t.status END)
                   ORDER BY sec.name, s."row", s.position)
              FROM evently.tickets t
              JOIN evently.seats s ON s.id = t.seat_id
              JOIN evently.venue_sections sec ON sec.id = s.section_id
             WHERE t.booking_id = b.id), '[]'),
        'payment', (
            SELECT jsonb_build_object(
                       'id', p.id, 'amount', p.amount, 'currency', p.currency,
                       'status', p.status, 'payment_method', p.payment_method,
                       'transaction_id', p.transaction_id, 'processed_at', p.processed_at,
                       'refund_amount', p.refund_amount, 'refunded_at', p.refunded_at)
              FROM evently.payments p WHERE p.booking_id = b.id
             ORDER BY p.created_at LIMIT 1),
        'created_at', b.created_at, 'updated_at', b.updated_at,
        'cancelled_at', b.cancelled_at)
        -- 1.1: the tickets of general-admission units, and the order that paid
        || coalesce((
            SELECT jsonb_build_object('tickets', jsonb_agg(jsonb_build_object(
                       'ticket_id', t.id, 'tier_id', t.tier_id, 'tier_name', tt.name, 'unit_no', t.unit_no,
                       'price', t.seat_price,
                       'ticket_code', CASE WHEN t.holder_id = b.user_id THEN t.ticket_code END,
                       'ticket_status', CASE WHEN t.holder_id <> b.user_id AND t.status = 'VALID'
                                             THEN 'TRANSFERRED' ELSE t.status END)
                   ORDER BY tt.sort_order, tt.name, t.unit_no))
              FROM evently.tickets t JOIN evently.ticket_tiers tt ON tt.id = t.tier_id
             WHERE t.booking_id = b.id HAVING count(*) > 0), '{}')
        || coalesce((SELECT jsonb_build_object('order_id', o.id) FROM evently.orders o
                      WHERE o.booking_id = b.id), '{}') AS doc
      FROM evently.bookings b;

CREATE OR REPLACE FUNCTION evently.booking_json(p_booking_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.booking_docs WHERE booking_id = p_booking_id);

-- POST /seats/hold: the acting user holds; a user_id in the body is ignored.
CREATE OR REPLACE FUNCTION evently.api_hold_seats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(jsonb_typeof(req->'body'->'seat_ids') = 'array', 'INVALID_ARGUMENT',
        'invalid seat_ids', 'seat_ids is an array of seat ids.');
    RETURN evently.hold_seats(evently._uuid_arg(req->'body'->>'event_id', 'event_id'), actor,
                              ARRAY(SELECT evently._uuid_arg(s, 'seat_ids')
                                      FROM jsonb_array_elements_text(req->'body'->'seat_ids') s),
                              NULL, evently._idempotency_key(req));
END
$$;

-- GET /seats/hold/:holdId: its owner or an ADMIN.
CREATE OR REPLACE FUNCTION evently.api_hold_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently._visible_to(evently.hold_json(evently._uuid_arg(req->'path'->>'holdId', 'holdId')),
                               evently._actor(actor, req),
                               'hold', req->'path'->>'holdId')
$$;

-- DELETE /seats/hold/:holdId
CREATE OR REPLACE FUNCTION evently.api_hold_release(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.release_hold(evently._uuid_arg(req->'path'->>'holdId', 'holdId'), actor);
END
$$;

-- POST /bookings/confirm; Idempotency-Key header or body field
CREATE OR REPLACE FUNCTION evently.api_booking_confirm(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    hold_event uuid;
BEGIN
    actor := evently._actor(actor, req);
    SELECT event_id INTO hold_event FROM evently.holds
     WHERE id = evently._uuid_arg(b->>'hold_id', 'hold_id') AND user_id = actor;
    PERFORM evently._require(hold_event IS NULL OR hold_event = evently._uuid_arg(b->>'event_id', 'event_id'), 'INVALID_ARGUMENT',
        'event ID mismatch', format('Hold %s is for event %s, not %s.', b->>'hold_id', hold_event,
                                    b->>'event_id'));
    RETURN evently.confirm_booking(evently._uuid_arg(b->>'hold_id', 'hold_id'), actor, b->>'payment_method',
                                   evently._idempotency_key(req));
END
$$;

-- GET /bookings/:id: its owner or an ADMIN (without the ticket codes, the
-- holders'); others get 404, not a hint it exists.
CREATE OR REPLACE FUNCTION evently.api_booking_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb;
BEGIN
    actor := evently._actor(actor, req);
    doc := evently._visible_to(evently.booking_json(evently._uuid_arg(req->'path'->>'id', 'id')), actor,
                               'booking', req->'path'->>'id');
    RETURN CASE WHEN (doc->>'user_id')::uuid = actor THEN doc ELSE evently._without_codes(doc) END;
END
$$;

-- GET /admin/bookings?limit=&offset=
CREATE OR REPLACE FUNCTION evently.api_admin_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int;
    off int;
BEGIN
    actor := evently._admin(actor, req);
    lim := evently._int_param(req, 'limit', 10, 1, 100);
    off := evently._int_param(req, 'offset', 0, 0, 100000000);
    RETURN jsonb_build_object(
        'bookings', coalesce((SELECT jsonb_agg(evently._without_codes(d.doc) ORDER BY b.created_at DESC, b.id)
                                FROM (SELECT id, created_at FROM evently.bookings
                                       ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
                                JOIN evently.booking_docs d ON d.booking_id = b.id), '[]'),
        'count', (SELECT count(*) FROM evently.bookings), 'limit', lim, 'offset', off);
END
$$;

-- GET /users/bookings?limit=&offset=: the actor's bookings, newest first
CREATE OR REPLACE FUNCTION evently.api_user_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
    rows jsonb;
BEGIN
    actor := evently._actor(actor, req);
    SELECT coalesce(jsonb_agg(d.doc ORDER BY b.created_at DESC, b.id), '[]') INTO rows
      FROM (SELECT id, created_at FROM evently.bookings WHERE user_id = actor
             ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
      JOIN evently.booking_docs d ON d.booking_id = b.id;
    RETURN jsonb_build_object('bookings', rows, 'count', jsonb_array_length(rows), 'limit', lim, 'offset', off);
END
$$;

-- GET /users/:userId/holds: one's own live holds (an ADMIN may read anyone's)
CREATE OR REPLACE FUNCTION evently.api_user_holds(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    subject uuid := evently._uuid_arg(req->'path'->>'userId', 'userId');
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(subject = actor OR evently._user_role(actor) = 'ADMIN', 'FORBIDDEN',
        'Access denied', format('User %s may not read the holds of user %s.', actor, subject));
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object(
                'hold_id', h.id, 'user_id', h.user_id, 'event_id', h.event_id,
                'seat_ids', (SELECT jsonb_agg(hs.seat_id ORDER BY hs.seat_id) FROM evently.hold_seats hs
                              WHERE hs.hold_id = h.id),
                'ttl_seconds', greatest(0, ceil(extract(epoch FROM h.expires_at - now())))::int)
                -- sharded, the proxy merges every shard's holds in this order (evently_proxy.merge)
                || CASE WHEN req ? 'shard_sort' THEN jsonb_build_object('_sort', h.created_at) ELSE '{}' END
              ORDER BY h.created_at)
              FROM evently.holds h
             WHERE h.user_id = subject AND h.status = 'ACTIVE' AND h.expires_at > now()), '[]');
END
$$;

-- POST /seats/availability {event_id, seat_ids}: holds are per (event, seat),
-- so the event is required (the reference's was not).
CREATE OR REPLACE FUNCTION evently.api_seats_availability(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_visible(evently._uuid_arg(req->'body'->>'event_id', 'event_id'), evently._actor(actor, req));
    RETURN (SELECT jsonb_build_object('seats', coalesce(jsonb_agg(jsonb_build_object(
               'seat_id', x.id,
               'available', coalesce(st.status = 'AVAILABLE', false),
               'status', CASE WHEN st.status IN ('AVAILABLE', 'HELD') THEN st.status ELSE 'UNAVAILABLE' END)
               ORDER BY x.n), '[]'))
      FROM jsonb_array_elements_text(req->'body'->'seat_ids') WITH ORDINALITY AS x(id, n)
      LEFT JOIN LATERAL (
          SELECT CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE' ELSE es.status END AS status
            FROM evently.event_seats es
           WHERE es.event_id = evently._uuid_arg(req->'body'->>'event_id', 'event_id') AND es.seat_id = evently._uuid_arg(x.id, 'seat_ids')) st ON true);
END
$$;

-- GET /seats/hold/:holdId/validate: is the caller's hold still good?
CREATE OR REPLACE FUNCTION evently.api_hold_validate(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    h record;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO h FROM evently.holds WHERE id = evently._uuid_arg(req->'path'->>'holdId', 'holdId');
    PERFORM evently._require(FOUND AND h.user_id = actor, 'NOT_FOUND', 'hold not found',
        format('Hold %s does not exist.', req->'path'->>'holdId'));
    PERFORM evently._require(h.status = 'ACTIVE' AND h.expires_at > now(), 'HOLD_EXPIRED', 'hold has expired',
        format('Hold %s is %s.', h.id, CASE WHEN h.status = 'ACTIVE' THEN 'past its expiry' ELSE h.status END));
    RETURN jsonb_build_object('valid', true,
        'details', jsonb_build_object('hold_id', h.id, 'user_id', h.user_id, 'event_id', h.event_id,
                                      'seat_ids', (SELECT jsonb_agg(seat_id ORDER BY seat_id) FROM evently.hold_seats
                                                    WHERE hold_id = h.id),
                                      'ttl_seconds', ceil(extract(epoch FROM h.expires_at - now()))::int),
        'ttl_seconds', ceil(extract(epoch FROM h.expires_at - now()))::int);
END
$$;

-- GET /admin/events/:eventId/bookings
CREATE OR REPLACE FUNCTION evently.api_admin_event_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
    lim int := evently._int_param(req, 'limit', 50, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.events WHERE id = ev), 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', ev));
    RETURN jsonb_build_object(
        'bookings', coalesce((SELECT jsonb_agg(evently._without_codes(d.doc) ORDER BY b.created_at DESC, b.id)
                                FROM (SELECT id, created_at FROM evently.bookings WHERE event_id = ev
                                       ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
                                JOIN evently.booking_docs d ON d.booking_id = b.id), '[]'),
        'count', (SELECT count(*) FROM evently.bookings WHERE event_id = ev), 'limit', lim, 'offset', off);
END
$$;
