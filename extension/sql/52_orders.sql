-- 52_orders.sql: reserving general admission, and orders: a hold turned
-- into money (SPEC section 10).
--
--   POST /tickets/reserve  -> evently.reserve_tiers (C, tiers.c): a hold
--   POST /orders           -> an order of that hold, PENDING, with its payment:
--       mock     paid at once (tickets issued, as /bookings/confirm does)
--       offline  the hold lives until the event's payment term; an organizer
--                or ADMIN marks it paid (POST /admin/orders/:id/mark-paid)
--       card     the shim creates a payment intent at the provider and records
--                it (54_payments.sql); the provider's webhook completes it
--   an unpaid order EXPIRES with its hold (evently._expire_orders, called by
--   the engine when a hold lapses or is released).
--
-- Tickets are issued exactly when the payment completes (_complete_order ->
-- evently._book_order, orders.c).  Lock order, after the engine's: event row
-- (key share), hold row, order row, payment row, discount code row.

-- POST /tickets/reserve: body {event_id, items: [{tier_id, quantity}],
-- idempotency_key?} (or the Idempotency-Key header).  Returns the hold
-- (hold_json, with items).  Errors as reserve_tiers: SOLD_OUT, NOT_ON_SALE,
-- LIMIT_EXCEEDED, EVENT_CLOSED, NOT_FOUND, INVALID_ARGUMENT.
CREATE OR REPLACE FUNCTION evently.api_tickets_reserve(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'event_id', 'items', 'idempotency_key');
    PERFORM evently._require(jsonb_typeof(b->'items') = 'array', 'INVALID_ARGUMENT',
        'invalid items', 'items is an array of {"tier_id", "quantity"}.');
    PERFORM evently._require(NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements(b->'items') i
             WHERE jsonb_typeof(i) <> 'object' OR jsonb_typeof(i->'quantity') IS DISTINCT FROM 'number'
                OR (i->>'quantity')::numeric <> trunc((i->>'quantity')::numeric)
                OR abs((i->>'quantity')::numeric) > 1000000),
        'INVALID_ARGUMENT', 'invalid items', 'Each item is {"tier_id": uuid, "quantity": whole number}.');
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM jsonb_array_elements(b->'items') i, jsonb_object_keys(i) k
                                          WHERE k NOT IN ('tier_id', 'quantity')),
        'INVALID_ARGUMENT', 'invalid items', 'An item has only the fields tier_id and quantity.');
    RETURN evently.reserve_tiers(
        evently._uuid_arg(b->>'event_id', 'event_id'), actor,
        ARRAY(SELECT evently._uuid_arg(i->>'tier_id', 'tier_id') FROM jsonb_array_elements(b->'items') i),
        ARRAY(SELECT (i->>'quantity')::int FROM jsonb_array_elements(b->'items') i),
        NULL, evently._idempotency_key(req));
END
$$;

-- A refund of an order (56_refunds.sql has the routes).
CREATE OR REPLACE FUNCTION evently.refund_json(p_refund_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'refund_id', r.id, 'id', r.id, 'order_id', r.order_id, 'payment_id', r.payment_id,
        'amount', r.amount, 'reason', r.reason, 'ticket_ids', to_jsonb(r.ticket_ids), 'status', r.status,
        'automatic', r.automatic, 'requested_by', r.requested_by, 'decided_by', r.decided_by,
        'decided_at', r.decided_at, 'decision_note', r.decision_note,
        'provider_refund_id', r.provider_refund_id, 'completed_at', r.completed_at,
        'failure_reason', r.failure_reason, 'created_at', r.created_at, 'updated_at', r.updated_at)
      FROM evently.refunds r WHERE r.id = p_refund_id
$$;

-- An order as its buyer sees it: items, payment (with the provider's
-- fields: the card intent's client_secret, the offline reference and
-- instructions), refunds.  evently.order_json(id, false) leaves out the
-- client_secret, for the event's organizer and ADMINs.
CREATE OR REPLACE FUNCTION evently.order_json(p_order_id uuid, for_buyer boolean DEFAULT true) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'order_id', o.id, 'id', o.id, 'user_id', o.user_id, 'event_id', o.event_id,
        'hold_id', o.hold_id, 'booking_id', o.booking_id, 'status', o.status,
        'subtotal', o.subtotal, 'discount_code', dc.code, 'discount_amount', o.discount_amount,
        'total_amount', o.total_amount, 'currency', o.currency, 'expires_at', o.expires_at,
        'paid_at', o.paid_at, 'status_note', o.status_note,
        'created_at', o.created_at, 'updated_at', o.updated_at,
        'items', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'tier_id', i.tier_id, 'section_id', i.section_id, 'name', coalesce(t.name, s.name),
                       'quantity', i.quantity, 'unit_price', i.unit_price, 'discount', i.discount,
                       'amount', i.quantity * i.unit_price - i.discount) ORDER BY i.item_no)
              FROM evently.order_items i
              LEFT JOIN evently.ticket_tiers t ON t.id = i.tier_id
              LEFT JOIN evently.venue_sections s ON s.id = i.section_id
             WHERE i.order_id = o.id), '[]'),
        'payment', (
            SELECT jsonb_build_object(
                       'id', p.id, 'provider', p.provider, 'status', p.status, 'amount', p.amount,
                       'amount_minor', (p.amount * 100)::bigint, 'currency', p.currency,
                       'transaction_id', p.transaction_id, 'provider_payment_id', p.provider_payment_id,
                       'client_secret', CASE WHEN for_buyer THEN p.client_secret END,
                       'refund_amount', coalesce(p.refund_amount, 0), 'processed_at', p.processed_at)
                   || CASE WHEN o.provider = 'offline' THEN jsonb_build_object(
                          'reference', o.payment_reference,
                          'instructions', format('Transfer %s %s by bank with the reference %s before %s.',
                                                 o.total_amount, o.currency, o.payment_reference,
                                                 to_char(o.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')))
                      ELSE '{}' END
              FROM evently.payments p WHERE p.order_id = o.id),
        'refunds', coalesce((SELECT jsonb_agg(evently.refund_json(r.id) ORDER BY r.created_at)
                               FROM evently.refunds r WHERE r.order_id = o.id), '[]'))
      FROM evently.orders o LEFT JOIN evently.discount_codes dc ON dc.id = o.discount_code_id
     WHERE o.id = p_order_id
$$;

-- What an order buys, from its hold: one item per tier (hold_items), or per
-- section and price for seats.  [{tier_id, section_id, quantity, unit_price}]
CREATE OR REPLACE FUNCTION evently._hold_order_items(p_hold_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(x ORDER BY x->>'tier_id', x->>'section_id', x->>'unit_price'), '[]')
      FROM (SELECT jsonb_build_object('tier_id', hi.tier_id, 'section_id', NULL,
                                      'quantity', hi.quantity, 'unit_price', hi.unit_price) AS x
              FROM evently.hold_items hi WHERE hi.hold_id = p_hold_id
            UNION ALL
            SELECT jsonb_build_object('tier_id', NULL, 'section_id', es.section_id,
                                      'quantity', count(*), 'unit_price', hs.price)
              FROM evently.hold_seats hs
              JOIN evently.event_seats es ON es.event_id = hs.event_id AND es.seat_id = hs.seat_id
             WHERE hs.hold_id = p_hold_id
             GROUP BY es.section_id, hs.price) items
$$;

-- A hold's row FOR UPDATE, after its event's row FOR KEY SHARE (the engine's
-- lock order); NULL (h.id IS NULL) when there is no such hold.
CREATE OR REPLACE FUNCTION evently._lock_hold(p_hold_id uuid) RETURNS evently.holds
LANGUAGE plpgsql AS $$
DECLARE
    h evently.holds;
BEGIN
    PERFORM 1 FROM evently.events e WHERE e.id = (SELECT event_id FROM evently.holds WHERE id = p_hold_id)
        FOR KEY SHARE;
    SELECT * INTO h FROM evently.holds WHERE id = p_hold_id FOR UPDATE;
    RETURN h;
END
$$;

-- Lock an order's rows in the lock order (event row key share, hold, order,
-- payment) and return the order as locked.  NOT_FOUND for an unknown id.
-- frees_tickets: the caller may end a refund, cancelling tickets and
-- offering their seats or units to the waitlist, so the event's queue lock
-- comes after the event row and before the rest, where cancel_with_policy
-- (queue lock, then booking, ..., order) and an event's cancellation (event
-- row, then queue lock) take it.
CREATE OR REPLACE FUNCTION evently._lock_order(p_order_id uuid, frees_tickets boolean DEFAULT false)
RETURNS evently.orders LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
BEGIN
    SELECT * INTO o FROM evently.orders WHERE id = p_order_id;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'order not found', format('Order %s does not exist.', p_order_id));
    IF frees_tickets THEN
        PERFORM 1 FROM evently.events WHERE id = o.event_id FOR KEY SHARE;
        PERFORM evently._lock_event_queue(o.event_id);
    END IF;
    PERFORM evently._lock_hold(o.hold_id);
    SELECT * INTO o FROM evently.orders WHERE id = p_order_id FOR UPDATE;
    PERFORM 1 FROM evently.payments WHERE order_id = p_order_id FOR UPDATE;
    RETURN o;
END
$$;

-- The order this user made with this key: the same order again for the
-- same hold and provider, IDEMPOTENCY_CONFLICT for another request.
CREATE OR REPLACE FUNCTION evently._order_for_key(p_user_id uuid, p_key text, p_hold_id uuid, p_provider text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
BEGIN
    SELECT * INTO o FROM evently.orders WHERE user_id = p_user_id AND idempotency_key = p_key;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(o.hold_id = p_hold_id AND o.provider = p_provider, 'IDEMPOTENCY_CONFLICT',
        'idempotency key already used',
        format('Key "%s" made order %s for hold %s paid by %s.', p_key, o.id, o.hold_id, o.provider),
        'Use a new key for a new order.');
    RETURN o.id;
END
$$;

-- The hold an order is made of, locked: the actor's own, live, not booked
-- and not already being paid for.
CREATE OR REPLACE FUNCTION evently._orderable_hold(actor uuid, p_hold_id uuid) RETURNS evently.holds
LANGUAGE plpgsql AS $$
DECLARE
    h evently.holds;
    other uuid;
BEGIN
    h := evently._lock_hold(p_hold_id);
    PERFORM evently._require(h.id IS NOT NULL AND h.user_id = actor, 'NOT_FOUND', 'hold not found',
        format('Hold %s does not exist.', p_hold_id));
    SELECT id INTO other FROM evently.orders WHERE hold_id = p_hold_id AND status IN ('PENDING', 'PAID');
    PERFORM evently._require(other IS NULL, 'ALREADY_PROCESSED', 'hold already has an order',
        format('Order %s pays for hold %s.', other, p_hold_id));
    PERFORM evently._require(h.status <> 'CONFIRMED', 'ALREADY_PROCESSED', 'hold is already confirmed',
        format('Hold %s was confirmed as a booking.', p_hold_id));
    PERFORM evently._require(h.status = 'ACTIVE' AND h.expires_at > now(), 'HOLD_EXPIRED', 'hold has expired',
        format('Hold %s is %s.', p_hold_id, CASE WHEN h.status = 'ACTIVE' THEN 'past its expiry' ELSE h.status END),
        'Reserve again.');
    RETURN h;
END
$$;

-- An offline order's hold waits for the bank transfer: the hold, its seats
-- and units live until the event's payment term from now.
CREATE OR REPLACE FUNCTION evently._extend_hold(p_hold_id uuid, p_until timestamptz) RETURNS void
LANGUAGE sql AS $$
    UPDATE evently.holds SET expires_at = p_until, updated_at = now() WHERE id = p_hold_id;
    UPDATE evently.event_seats SET held_until = p_until WHERE hold_id = p_hold_id;
    UPDATE evently.tier_units SET held_until = p_until WHERE hold_id = p_hold_id;
$$;

-- POST /orders: body {hold_id, payment_provider: mock|offline|card,
-- discount_code?}, Idempotency-Key header (or body idempotency_key).
-- Returns order_json (201): mock orders are PAID with their booking at
-- once, as is any order of nothing to pay; offline ones carry the payment
-- reference and instructions; card ones a PENDING payment whose intent the
-- shim creates next (54_payments.sql).  Errors: NOT_FOUND (hold not the
-- actor's), HOLD_EXPIRED, ALREADY_PROCESSED (booked, or already ordered),
-- DISCOUNT_UNAVAILABLE, IDEMPOTENCY_CONFLICT, INVALID_ARGUMENT.
CREATE OR REPLACE FUNCTION evently.api_order_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    pay_by text := b->>'payment_provider';
    key text := evently._idempotency_key(req);
    h evently.holds;
    items jsonb;
    claimed jsonb;
    new_order uuid;
    until timestamptz;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'hold_id', 'payment_provider', 'discount_code', 'idempotency_key');
    PERFORM evently._require(pay_by IN ('mock', 'offline', 'card'), 'INVALID_ARGUMENT',
        'invalid payment_provider', 'payment_provider is mock, offline or card.');
    PERFORM evently._require(b->'discount_code' IS NULL OR jsonb_typeof(b->'discount_code') = 'string',
        'INVALID_ARGUMENT', 'invalid discount_code', 'discount_code is a string.');
    h := evently._orderable_hold_or_retry(actor, evently._uuid_arg(b->>'hold_id', 'hold_id'), key, pay_by);
    IF h.id IS NULL THEN               -- a retry: the order made with this key, with the same code
        new_order := evently._order_for_key(actor, key, evently._uuid_arg(b->>'hold_id', 'hold_id'), pay_by);
        PERFORM evently._require(upper(btrim(b->>'discount_code')) IS NOT DISTINCT FROM
                                     (SELECT dc.code FROM evently.orders o JOIN evently.discount_codes dc
                                          ON dc.id = o.discount_code_id WHERE o.id = new_order),
            'IDEMPOTENCY_CONFLICT', 'idempotency key already used',
            format('Key "%s" made order %s with another discount code.', key, new_order),
            'Use a new key for a new order.');
        RETURN evently.order_json(new_order);
    END IF;

    items := evently._hold_order_items(h.id);
    IF b->>'discount_code' IS NOT NULL THEN
        claimed := evently._claim_discount(h.event_id, b->>'discount_code', items);
    END IF;
    until := CASE WHEN pay_by = 'offline'
                  THEN now() + (SELECT payment_term FROM evently.events WHERE id = h.event_id)
                  ELSE h.expires_at END;
    INSERT INTO evently.orders (user_id, event_id, hold_id, provider, subtotal, discount_code_id,
                                discount_amount, total_amount, expires_at, idempotency_key)
    VALUES (actor, h.event_id, h.id, pay_by, h.total_price, (claimed->>'discount_code_id')::uuid,
            coalesce((claimed->>'discount_amount')::numeric, 0),
            h.total_price - coalesce((claimed->>'discount_amount')::numeric, 0), until, key)
    RETURNING id INTO new_order;
    INSERT INTO evently.order_items (order_id, item_no, tier_id, section_id, quantity, unit_price, discount)
    SELECT new_order, n, (i->>'tier_id')::uuid, (i->>'section_id')::uuid, (i->>'quantity')::int,
           (i->>'unit_price')::numeric, coalesce((claimed->'item_discounts'->>(n - 1)::int)::numeric, 0)
      FROM jsonb_array_elements(items) WITH ORDINALITY AS x (i, n);
    INSERT INTO evently.payments (order_id, provider, amount, status, payment_method, transaction_id)
    SELECT o.id, o.provider, o.total_amount, 'PENDING', o.provider,
           'TXN_' || upper(replace(gen_random_uuid()::text, '-', ''))
      FROM evently.orders o WHERE o.id = new_order;
    IF pay_by = 'offline' THEN
        UPDATE evently.orders SET payment_reference = 'EVT-' || upper(substr(replace(new_order::text, '-', ''), 1, 12))
         WHERE id = new_order;
        PERFORM evently._extend_hold(h.id, until);
    END IF;
    PERFORM evently._emit('order.created', h.event_id, actor, 'order', new_order,
                          evently.order_json(new_order, false), actor);
    IF pay_by = 'mock' OR (SELECT total_amount FROM evently.orders WHERE id = new_order) = 0 THEN
        PERFORM evently._complete_order(new_order, actor);
    END IF;
    RETURN evently.order_json(new_order);
END
$$;

-- _orderable_hold, or NULL (h.id IS NULL) when this key already made an
-- order: a retry returns that order, even after its hold was booked.
CREATE OR REPLACE FUNCTION evently._orderable_hold_or_retry(actor uuid, p_hold_id uuid, p_key text, p_provider text)
RETURNS evently.holds LANGUAGE plpgsql AS $$
DECLARE
    h evently.holds;
BEGIN
    IF p_key IS NOT NULL THEN
        -- the hold's row lock orders two requests with one key; the second sees the first's order
        PERFORM evently._lock_hold(p_hold_id);
        IF evently._order_for_key(actor, p_key, p_hold_id, p_provider) IS NOT NULL THEN
            RETURN h;
        END IF;
    END IF;
    RETURN evently._orderable_hold(actor, p_hold_id);
END
$$;

-- The payment of an order completed (mock at once, offline marked paid, card
-- by its webhook); the caller locked the order (_lock_order).  Issues the
-- tickets (evently._book_order): the order is PAID with its booking and the
-- payment's fee recorded.  A late payment whose seats or units are gone,
-- whose discount code was used up meanwhile, or one for an event that
-- stopped selling (cancelled, started), is refunded in full instead: the
-- order is EXPIRED with a note saying why, REFUNDED when the refund ends.  p_actor: who completed
-- it (NULL for the provider).
CREATE OR REPLACE FUNCTION evently._complete_order(p_order_id uuid, p_actor uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
    booking jsonb;
    why text;          -- why a late payment cannot be honoured
    has_use boolean;   -- the order counts among its discount code's uses
BEGIN
    SELECT * INTO o FROM evently.orders WHERE id = p_order_id;
    UPDATE evently.payments SET status = 'COMPLETED', processed_at = now(), updated_at = now(),
                                fee = evently._payment_fee(provider, amount)
     WHERE order_id = p_order_id;
    -- another order of the hold (a new try after a failed payment) has
    -- nothing left to pay for: it expires first, giving back the discount
    -- use it may have taken from this one.  Only an order that is not live
    -- can have one: a hold has one PENDING or PAID order at most
    -- (orders_one_live_per_hold).
    IF o.status IN ('EXPIRED', 'FAILED') THEN
        PERFORM evently._expire_orders(ARRAY[o.hold_id], except_order => p_order_id);
    END IF;
    -- an expired or failed order gave its discount use back; a late payment needs it again
    has_use := o.status NOT IN ('EXPIRED', 'FAILED') OR evently._retake_discount(o.discount_code_id);
    IF NOT has_use THEN
        why := 'its hold lapsed and its discount code was used up';
    ELSE
        booking := evently._book_order(p_order_id);
        IF booking IS NULL THEN
            why := CASE WHEN (SELECT status FROM evently.holds WHERE id = o.hold_id) = 'CONFIRMED'
                        THEN 'another order of its hold was paid first'
                        WHEN (SELECT evently._sells_now(e.status, e.date_time, e.end_time, e.sales_during_event)
                                FROM evently.events e WHERE e.id = o.event_id)
                        THEN 'its hold lapsed and its tickets were taken' ELSE 'the event stopped selling' END;
        END IF;
    END IF;
    IF why IS NOT NULL THEN
        -- no tickets: the order stays EXPIRED (without its discount use)
        -- until its refund ends it REFUNDED (_finish_refund)
        IF has_use THEN
            PERFORM evently._release_discount(o.discount_code_id);
        END IF;
        UPDATE evently.orders SET status = CASE WHEN status = 'FAILED' THEN 'FAILED' ELSE 'EXPIRED' END,
               updated_at = now(), paid_at = now(), status_note = format('paid late (%s): refunded in full', why)
         WHERE id = p_order_id;
        IF o.status = 'PENDING' THEN
            PERFORM evently._emit('order.expired', o.event_id, o.user_id, 'order', o.id,
                                  jsonb_build_object('order_id', o.id, 'status', 'EXPIRED'), p_actor);
        END IF;
        PERFORM evently._start_refund(p_order_id, o.total_amount, 'paid late; ' || why, '{}', true, NULL);
        RETURN;
    END IF;
    UPDATE evently.orders SET status = 'PAID', booking_id = (booking->>'booking_id')::uuid, paid_at = now(),
                              updated_at = now(),
                              status_note = CASE o.status
                                            WHEN 'EXPIRED' THEN 'paid after its hold lapsed; its tickets were still free'
                                            WHEN 'FAILED' THEN 'paid on a later attempt after a failed one' END
     WHERE id = p_order_id;
    PERFORM evently._emit('order.paid', o.event_id, o.user_id, 'order', p_order_id,
                          evently.order_json(p_order_id, false), p_actor);
END
$$;

-- The PENDING orders of holds that lapsed or were released EXPIRE (their
-- discount uses given back); a card payment may still complete them late.
-- Called by the engine (orders.c) with the holds locked, and by
-- _complete_order for the other orders of a hold it paid (except_order).
CREATE OR REPLACE FUNCTION evently._expire_orders(p_hold_ids uuid[], except_order uuid DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o record;
BEGIN
    FOR o IN UPDATE evently.orders SET status = 'EXPIRED', updated_at = now()
              WHERE hold_id = ANY (p_hold_ids) AND status = 'PENDING' AND id IS DISTINCT FROM except_order
             RETURNING id, event_id, user_id, discount_code_id
    LOOP
        IF o.discount_code_id IS NOT NULL THEN
            PERFORM evently._release_discount(o.discount_code_id);
        END IF;
        PERFORM evently._emit('order.expired', o.event_id, o.user_id, 'order', o.id,
                              jsonb_build_object('order_id', o.id, 'status', 'EXPIRED'), NULL);
    END LOOP;
END
$$;

-- GET /orders/:id: its buyer (with the card's client_secret), the event's
-- organizer or an ADMIN; NOT_FOUND for anyone else.
CREATE OR REPLACE FUNCTION evently.api_order_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO o FROM evently.orders WHERE id = evently._uuid_arg(req->'path'->>'id', 'id');
    PERFORM evently._require(FOUND AND (o.user_id = actor OR evently._manages_event(actor, o.event_id)),
        'NOT_FOUND', 'order not found', format('Order %s does not exist.', req->'path'->>'id'));
    RETURN evently.order_json(o.id, o.user_id = actor);
END
$$;

-- GET /orders/my-orders: the actor's orders, newest first; ?limit (1-100,
-- default 20), ?offset.  Returns {orders, total_count, limit, offset} (the
-- 1.1 list shape, _slice); INVALID_ARGUMENT for a bad limit or offset.
CREATE OR REPLACE FUNCTION evently.api_orders_mine(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int;
    off int;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    RETURN evently._slice('orders',
        (SELECT jsonb_agg(evently.order_json(o.id) ORDER BY o.created_at DESC, o.id)
           FROM (SELECT id, created_at FROM evently.orders WHERE user_id = actor
                  ORDER BY created_at DESC, id LIMIT lim OFFSET off) o),
        (SELECT count(*) FROM evently.orders WHERE user_id = actor), lim, off);
END
$$;

-- POST /admin/orders/:id/mark-paid: the event's organizer or an ADMIN
-- records an offline order's money as arrived: the order is PAID with its
-- tickets (or, late and sold out, refunded).  NOT_FOUND for others;
-- INVALID_ARGUMENT for a mock or card order; ALREADY_PROCESSED once paid,
-- failed or refunded.
CREATE OR REPLACE FUNCTION evently.api_order_mark_paid(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    p_id uuid;
    o evently.orders;
BEGIN
    actor := evently._actor(actor, req);
    p_id := evently._uuid_arg(req->'path'->>'id', 'id');
    SELECT * INTO o FROM evently.orders WHERE orders.id = p_id;
    PERFORM evently._require(FOUND AND evently._manages_event(actor, o.event_id), 'NOT_FOUND',
        'order not found', format('Order %s does not exist.', p_id));
    o := evently._lock_order(p_id);
    PERFORM evently._require(o.provider = 'offline', 'INVALID_ARGUMENT', 'not an offline order',
        format('Order %s is paid by %s; only offline orders are marked paid.', p_id, o.provider));
    PERFORM evently._require(o.status IN ('PENDING', 'EXPIRED'), 'ALREADY_PROCESSED', 'order is not awaiting payment',
        format('Order %s is %s.', p_id, o.status));
    UPDATE evently.payments SET status = 'PROCESSING', updated_at = now() WHERE order_id = p_id;
    PERFORM evently._complete_order(p_id, actor);
    PERFORM evently._audit('order.marked_paid', 'order', p_id, jsonb_build_object('event_id', o.event_id), actor);
    RETURN evently.order_json(p_id, false);
END
$$;
