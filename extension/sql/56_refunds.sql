-- 56_refunds.sql: refunds of orders (SPEC section 10).
--
--   buyer: POST /orders/:id/refund {amount?, reason, ticket_ids?} -> REQUESTED
--   organizer or ADMIN: POST /organizer/refunds/:id/approve -> REFUNDING
--                       POST /organizer/refunds/:id/reject  -> REJECTED
--   REFUNDING -> REFUNDED when the provider says so (card: its webhook; mock
--   and offline: at once), which cancels the refunded tickets and frees
--   their seats or units; or FAILED, the payment as it was.
-- Automatic refunds (a late payment that found its tickets sold, a
-- cancelled booking or event paid by card) start at REFUNDING.
-- The total of a payment's refunds never exceeds what was paid (the
-- payments.refund_amount check, and _refundable before each request).

-- What is left to refund of an order's payment: paid, minus refunded,
-- minus refunds requested or under way.
CREATE OR REPLACE FUNCTION evently._refundable(p_order_id uuid) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT p.amount - coalesce(p.refund_amount, 0)
           - coalesce((SELECT sum(r.amount) FROM evently.refunds r
                        WHERE r.payment_id = p.id AND r.status IN ('REQUESTED', 'REFUNDING')), 0)
      FROM evently.payments p WHERE p.order_id = p_order_id
$$;

-- Record a refund of an order whose rows the caller locked; automatic ones
-- go to the provider at once (_submit_refund).  Returns the refund's id.
CREATE OR REPLACE FUNCTION evently._start_refund(p_order_id uuid, p_amount numeric, p_reason text,
                                                 p_ticket_ids uuid[], p_automatic boolean, p_actor uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
    refund_id uuid;
BEGIN
    SELECT * INTO o FROM evently.orders WHERE id = p_order_id;
    INSERT INTO evently.refunds (order_id, payment_id, amount, reason, ticket_ids, status, automatic, requested_by)
    SELECT p_order_id, p.id, p_amount, p_reason, coalesce(p_ticket_ids, '{}'),
           CASE WHEN p_automatic THEN 'REFUNDING' ELSE 'REQUESTED' END, p_automatic, p_actor
      FROM evently.payments p WHERE p.order_id = p_order_id
    RETURNING id INTO refund_id;
    PERFORM evently._emit('refund.requested', o.event_id, o.user_id, 'refund', refund_id,
                          evently.refund_json(refund_id), p_actor);
    IF p_automatic THEN
        PERFORM evently._submit_refund(refund_id);
    END IF;
    RETURN refund_id;
END
$$;

-- An approved refund goes to the provider: the payment is REFUNDING; the
-- card's shim worker sends it (payment_work); mock and offline money is
-- returned by the organizer directly, so those end at once.
CREATE OR REPLACE FUNCTION evently._submit_refund(p_refund_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
    provider text;
BEGIN
    UPDATE evently.refunds SET status = 'REFUNDING', updated_at = now() WHERE id = p_refund_id
    RETURNING * INTO r;
    UPDATE evently.payments SET status = 'REFUNDING', updated_at = now()
     WHERE id = r.payment_id AND status IN ('COMPLETED', 'PARTIALLY_REFUNDED')
    RETURNING payments.provider INTO provider;
    IF coalesce(provider, (SELECT p.provider FROM evently.payments p WHERE p.id = r.payment_id)) <> 'card' THEN
        PERFORM evently._finish_refund(p_refund_id, true, NULL);
    END IF;
END
$$;

-- Cancel refunded tickets and free their seats and units (the caller,
-- _finish_refund, offers them to the waitlist); a booking left with no
-- valid ticket is CANCELLED.  The seats are locked first, in seat order, as
-- a hold locks them (README, Locking): freed in the update's own order, two
-- of them met a hold of the same two the other way round and deadlocked
-- (the stress test caught it).
CREATE OR REPLACE FUNCTION evently._cancel_tickets(p_ticket_ids uuid[]) RETURNS void
LANGUAGE sql AS $$
    SELECT 1 FROM evently.event_seats es JOIN evently.tickets t ON t.event_id = es.event_id AND t.seat_id = es.seat_id
     WHERE t.id = ANY (p_ticket_ids) AND t.status = 'VALID'
     ORDER BY es.seat_id FOR UPDATE OF es;
    WITH t AS (UPDATE evently.tickets SET status = 'CANCELLED'
                WHERE id = ANY (p_ticket_ids) AND status = 'VALID'
               RETURNING booking_id, event_id, seat_id, tier_id, unit_no),
         s AS (UPDATE evently.event_seats es SET status = 'AVAILABLE', booking_id = NULL
                 FROM t WHERE es.event_id = t.event_id AND es.seat_id = t.seat_id AND es.booking_id = t.booking_id),
         u AS (UPDATE evently.tier_units tu SET status = 'AVAILABLE', booking_id = NULL
                 FROM t WHERE tu.tier_id = t.tier_id AND tu.unit_no = t.unit_no AND tu.booking_id = t.booking_id)
    SELECT 1;
    UPDATE evently.bookings b SET status = 'CANCELLED', cancelled_at = now(), updated_at = now(),
                                  version = version + 1
     WHERE b.status = 'CONFIRMED'
       AND b.id IN (SELECT booking_id FROM evently.tickets WHERE id = ANY (p_ticket_ids))
       AND NOT EXISTS (SELECT 1 FROM evently.tickets t WHERE t.booking_id = b.id AND t.status = 'VALID');
$$;

-- A refund ended: REFUNDED (the payment's refunded amount grows, its
-- tickets are cancelled and their seats or units offered to the waitlist,
-- the order and payment REFUNDED or PARTIALLY_REFUNDED; refund.completed)
-- or FAILED (the payment back to what it was; when the order has no valid
-- ticket left, it notes that the money is still held, for the organizer to
-- refund by hand).  The caller locked the order.
CREATE OR REPLACE FUNCTION evently._finish_refund(p_refund_id uuid, p_succeeded boolean, p_failure text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
    p evently.payments;
    o evently.orders;
BEGIN
    IF NOT p_succeeded THEN
        UPDATE evently.refunds SET status = 'FAILED', failure_reason = left(p_failure, 500), updated_at = now()
         WHERE id = p_refund_id RETURNING * INTO r;
        UPDATE evently.payments SET status = CASE WHEN coalesce(refund_amount, 0) > 0 THEN 'PARTIALLY_REFUNDED'
                                                  ELSE 'COMPLETED' END, updated_at = now()
         WHERE id = r.payment_id AND status = 'REFUNDING'
           AND NOT EXISTS (SELECT 1 FROM evently.refunds x WHERE x.payment_id = r.payment_id
                            AND x.status = 'REFUNDING');
        PERFORM evently._audit('refund.failed', 'refund', p_refund_id,
                               jsonb_build_object('order_id', r.order_id, 'reason', p_failure));
        -- money of an order left without tickets (a late payment's automatic
        -- refund, a cancelled booking or event): the order says it is still held
        IF r.automatic OR NOT EXISTS (SELECT 1 FROM evently.orders ord JOIN evently.tickets tk ON tk.booking_id = ord.booking_id
                                       WHERE ord.id = r.order_id AND tk.status = 'VALID') THEN
            UPDATE evently.orders
               SET status_note = left(status_note || format('; the refund failed (%s): refund it by hand', p_failure), 500),
                   updated_at = now()
             WHERE id = r.order_id;
        END IF;
        RETURN;
    END IF;
    UPDATE evently.refunds SET status = 'REFUNDED', completed_at = now(), updated_at = now()
     WHERE id = p_refund_id RETURNING * INTO r;
    UPDATE evently.payments
       SET refund_amount = coalesce(refund_amount, 0) + r.amount, refunded_at = now(), updated_at = now(),
           status = CASE WHEN EXISTS (SELECT 1 FROM evently.refunds x WHERE x.payment_id = r.payment_id
                                       AND x.status = 'REFUNDING') THEN 'REFUNDING'
                         WHEN coalesce(refund_amount, 0) + r.amount >= amount THEN 'REFUNDED'
                         ELSE 'PARTIALLY_REFUNDED' END
     WHERE id = r.payment_id RETURNING * INTO p;
    PERFORM evently._cancel_tickets(r.ticket_ids);
    UPDATE evently.orders
       SET status = CASE WHEN p.refund_amount >= p.amount THEN 'REFUNDED'
                         WHEN status = 'PAID' THEN 'PARTIALLY_REFUNDED' ELSE status END,
           updated_at = now()
     WHERE id = r.order_id RETURNING * INTO o;
    -- the freed seats and units go to the event's waitlist first (the engine's
    -- promotion, under the queue lock, as a cancellation does)
    IF cardinality(r.ticket_ids) > 0 AND EXISTS (SELECT 1 FROM evently.waitlist_entries w
                                                  WHERE w.event_id = o.event_id AND w.status = 'ACTIVE') THEN
        PERFORM evently.waitlist_promote(o.event_id);
    END IF;
    PERFORM evently._emit('refund.completed', o.event_id, o.user_id, 'refund', r.id,
                          evently.refund_json(r.id), NULL);
END
$$;

-- The buyer's refund request, within the event's cancellation policy: the
-- tickets named (default: all valid ones) and the amount (default, and at
-- most: what they cost after the order's discount, less the policy's fee,
-- within what is left of the payment).  Returns the refund's id.
CREATE OR REPLACE FUNCTION evently._request_refund(o evently.orders, actor uuid, b jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    pol evently.cancellation_policies;
    ev evently.events;
    tickets uuid[];
    due numeric;
    amount numeric;
    refundable numeric := evently._refundable(o.id);
BEGIN
    SELECT * INTO ev FROM evently.events WHERE id = o.event_id;
    SELECT * INTO pol FROM evently.cancellation_policies WHERE event_id = o.event_id;
    PERFORM evently._require(ev.date_time > now(), 'CANCELLATION_REFUSED', 'event has already started',
        format('Event %s started at %s; its orders can no longer be refunded on request.', ev.id, ev.date_time));
    PERFORM evently._require(pol.id IS NULL OR pol.allow_cancellation, 'CANCELLATION_REFUSED',
        'refunds are not allowed', format('The cancellation policy of event %s allows no refunds.', ev.id));
    PERFORM evently._require(pol.id IS NULL OR pol.cancellation_deadline > now(), 'CANCELLATION_REFUSED',
        'refund deadline has passed', format('Refunds of event %s closed at %s.', ev.id, pol.cancellation_deadline));
    IF b ? 'ticket_ids' THEN
        PERFORM evently._require(jsonb_typeof(b->'ticket_ids') = 'array' AND jsonb_array_length(b->'ticket_ids') > 0,
            'INVALID_ARGUMENT', 'invalid ticket_ids', 'ticket_ids is a non-empty array of ticket ids.');
        tickets := ARRAY(SELECT DISTINCT evently._uuid_arg(t, 'ticket_ids') FROM jsonb_array_elements_text(b->'ticket_ids') t);
        PERFORM evently._require((SELECT count(*) FROM evently.tickets t WHERE t.id = ANY (tickets)
                                    AND t.booking_id = o.booking_id AND t.status = 'VALID') = cardinality(tickets),
            'INVALID_ARGUMENT', 'ticket not refundable',
            format('Some of the tickets named are not valid tickets of order %s.', o.id));
    ELSE
        tickets := ARRAY(SELECT t.id FROM evently.tickets t WHERE t.booking_id = o.booking_id AND t.status = 'VALID');
    END IF;
    PERFORM evently._refuse_tickets_out_of_hand(o.booking_id, tickets);
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.refunds r WHERE r.order_id = o.id
                                          AND r.status IN ('REQUESTED', 'REFUNDING') AND r.ticket_ids && tickets),
        'ALREADY_PROCESSED', 'refund already requested', 'A refund of some of these tickets is under way.');
    -- the policy's due: what the tickets cost, less their share of the
    -- discount, less the policy's fee, at most what is left of the payment
    due := round((SELECT sum(t.seat_price) FROM evently.tickets t WHERE t.id = ANY (tickets))
                 * o.total_amount / nullif(o.subtotal, 0), 2);
    due := greatest(0, due - CASE pol.fee_type WHEN 'FIXED' THEN pol.fee_amount
                                 WHEN 'PERCENTAGE' THEN round(due * pol.fee_amount / 100, 2)
                                 ELSE 0 END);
    due := least(due, refundable);
    PERFORM evently._require(due IS NOT NULL AND due > 0, 'CANCELLATION_REFUSED', 'nothing to refund',
        format('Order %s has nothing left to refund for these tickets.', o.id));
    IF b ? 'amount' THEN
        PERFORM evently._require(jsonb_typeof(b->'amount') = 'number' AND (b->>'amount')::numeric > 0
                                 AND (b->>'amount')::numeric = round((b->>'amount')::numeric, 2),
            'INVALID_ARGUMENT', 'invalid amount', 'amount is a positive number with at most 2 decimals.');
        amount := (b->>'amount')::numeric;
        PERFORM evently._require(amount <= refundable, 'LIMIT_EXCEEDED', 'refund over the paid amount',
            format('Order %s can be refunded %s more; %s requested.', o.id, refundable, amount));
        PERFORM evently._require(amount <= due, 'LIMIT_EXCEEDED', 'refund over what the policy allows',
            format('These tickets of order %s are refunded at most %s under the cancellation policy; %s requested.',
                   o.id, due, amount));
    ELSE
        amount := due;
    END IF;
    RETURN evently._start_refund(o.id, amount, b->>'reason', tickets, false, actor);
END
$$;

-- POST /orders/:id/refund: body {reason, amount?, ticket_ids?}; the buyer's
-- request (REQUESTED, refund.requested), for the organizer to decide.
-- Returns refund_json (201).  NOT_FOUND for another's order;
-- ALREADY_PROCESSED unless the order is PAID or PARTIALLY_REFUNDED;
-- CANCELLATION_REFUSED outside the policy; LIMIT_EXCEEDED over what is
-- left to refund.
CREATE OR REPLACE FUNCTION evently.api_order_refund(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    o evently.orders;
    refund_id uuid;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'reason', 'amount', 'ticket_ids');
    PERFORM evently._require(jsonb_typeof(b->'reason') = 'string' AND length(btrim(b->>'reason')) BETWEEN 1 AND 500,
        'INVALID_ARGUMENT', 'reason is required', 'A refund request says why, in 1 to 500 characters.');
    SELECT * INTO o FROM evently.orders WHERE id = evently._uuid_arg(req->'path'->>'id', 'id');
    PERFORM evently._require(FOUND AND o.user_id = actor, 'NOT_FOUND', 'order not found',
        format('Order %s does not exist.', req->'path'->>'id'));
    o := evently._lock_order(o.id);
    PERFORM evently._require(o.status IN ('PAID', 'PARTIALLY_REFUNDED'), 'ALREADY_PROCESSED',
        'order cannot be refunded', format('Order %s is %s.', o.id, o.status));
    -- two statements: refund_json is STABLE, it would not see a row made in its own
    refund_id := evently._request_refund(o, actor, b);
    RETURN evently.refund_json(refund_id);
END
$$;

-- The refund a decision route names, its order locked, if the actor runs
-- the event (NOT_FOUND otherwise), still REQUESTED (ALREADY_PROCESSED).
CREATE OR REPLACE FUNCTION evently._decidable_refund(actor uuid, req jsonb) RETURNS evently.refunds
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
BEGIN
    SELECT * INTO r FROM evently.refunds WHERE id = evently._uuid_arg(req->'path'->>'id', 'id');
    PERFORM evently._require(FOUND AND evently._manages_event(actor,
                                 (SELECT event_id FROM evently.orders WHERE id = r.order_id)),
        'NOT_FOUND', 'refund not found', format('Refund %s does not exist.', req->'path'->>'id'));
    PERFORM evently._lock_order(r.order_id, frees_tickets => true);
    SELECT * INTO r FROM evently.refunds WHERE id = r.id;
    PERFORM evently._require(r.status = 'REQUESTED', 'ALREADY_PROCESSED', 'refund already decided',
        format('Refund %s is %s.', r.id, r.status));
    RETURN r;
END
$$;

-- POST /organizer/refunds/:id/approve (the event's organizer or ADMIN):
-- the refund goes to the provider (REFUNDING; mock and offline end
-- REFUNDED at once).  Returns refund_json.
CREATE OR REPLACE FUNCTION evently.api_refund_approve(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
BEGIN
    actor := evently._actor(actor, req);
    r := evently._decidable_refund(actor, req);
    UPDATE evently.refunds SET decided_by = actor, decided_at = now(), updated_at = now() WHERE id = r.id;
    PERFORM evently._submit_refund(r.id);
    PERFORM evently._audit('refund.approved', 'refund', r.id, jsonb_build_object('order_id', r.order_id), actor);
    RETURN evently.refund_json(r.id);
END
$$;

-- POST /organizer/refunds/:id/reject {reason}: REJECTED, with the reason.
CREATE OR REPLACE FUNCTION evently.api_refund_reject(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
    o evently.orders;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(jsonb_typeof(req->'body'->'reason') = 'string'
                             AND length(btrim(req->'body'->>'reason')) BETWEEN 1 AND 500,
        'INVALID_ARGUMENT', 'reason is required', 'A rejection says why, in 1 to 500 characters.');
    r := evently._decidable_refund(actor, req);
    UPDATE evently.refunds SET status = 'REJECTED', decided_by = actor, decided_at = now(),
                               decision_note = req->'body'->>'reason', updated_at = now()
     WHERE id = r.id;
    SELECT * INTO o FROM evently.orders WHERE id = r.order_id;
    PERFORM evently._emit('refund.rejected', o.event_id, o.user_id, 'refund', r.id, evently.refund_json(r.id), actor);
    RETURN evently.refund_json(r.id);
END
$$;

-- GET /organizer/events/:eventId/refunds: the event's refunds, newest
-- first (?status filters), for its organizer or an ADMIN.
CREATE OR REPLACE FUNCTION evently.api_organizer_refunds(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    e evently.events;
BEGIN
    actor := evently._actor(actor, req);
    e := evently._readable_event(actor, req->'path'->>'eventId');
    RETURN jsonb_build_object('refunds', coalesce((
        SELECT jsonb_agg(evently.refund_json(r.id) ORDER BY r.created_at DESC)
          FROM evently.refunds r JOIN evently.orders o ON o.id = r.order_id
         WHERE o.event_id = e.id AND (req->'query'->>'status' IS NULL OR r.status = upper(req->'query'->>'status'))),
        '[]'));
END
$$;

-- The order that paid for a booking the buyer (or an ADMIN) is cancelling
-- through the Evently route, locked as every order route locks it (its hold,
-- order and payment rows: _lock_order) before the engine locks the booking:
-- a webhook or a mark-paid holding the order waits for its payment row, which
-- the cancellation updates, and the cancellation then updates the order, so
-- the other way round they deadlocked.  The caller holds the event's queue
-- lock (after the event row, as _lock_order(frees_tickets) takes them).
-- Nothing for a booking no order made.
CREATE OR REPLACE FUNCTION evently._lock_booking_order(p_booking_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o_id uuid := (SELECT id FROM evently.orders WHERE booking_id = p_booking_id);
BEGIN
    IF o_id IS NOT NULL THEN
        PERFORM evently._lock_order(o_id);
    END IF;
END
$$;

-- A buyer does not cancel a booking while a refund of its order is with
-- the card provider: the cancellation refunds what is left of the payment,
-- and whether that refund succeeds or fails changes what that is.
-- ALREADY_PROCESSED until the provider has answered.  (An event's
-- cancellation does not wait: it refunds what is left besides.)
CREATE OR REPLACE FUNCTION evently._refuse_refund_under_way(p_booking_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
BEGIN
    SELECT r0.* INTO r FROM evently.refunds r0 JOIN evently.orders o ON o.id = r0.order_id
     WHERE o.booking_id = p_booking_id AND r0.status = 'REFUNDING' LIMIT 1;
    PERFORM evently._require(r.id IS NULL, 'ALREADY_PROCESSED', 'a refund of this booking is under way',
        format('Refund %s of order %s is with the payment provider.', r.id, r.order_id),
        'Cancel once the provider has refunded it.');
END
$$;

-- Bookings cancelled through the Evently routes or with their event
-- (cancel.c) that an order paid: a card payment is refunded through the
-- provider (automatic refund of the cancellation's refund amount); mock
-- and offline ones were marked refunded by the cancellation itself.  The
-- buyer's undecided refund requests of those orders are REJECTED: the
-- cancellation refunded their tickets (refund.rejected says so).
CREATE OR REPLACE FUNCTION evently._refund_cancelled_orders(p_booking_ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    x record;
    r record;
BEGIN
    FOR x IN SELECT o.id, o.provider, o.event_id, o.user_id, c.refund_amount FROM evently.orders o
               JOIN evently.cancellations c ON c.booking_id = o.booking_id
              WHERE o.booking_id = ANY (p_booking_ids) ORDER BY o.id
    LOOP
        FOR r IN UPDATE evently.refunds SET status = 'REJECTED', decided_at = now(), updated_at = now(),
                                            decision_note = 'the booking was cancelled and refunded'
                  WHERE order_id = x.id AND status = 'REQUESTED' RETURNING id
        LOOP
            PERFORM evently._emit('refund.rejected', x.event_id, x.user_id, 'refund', r.id,
                                  evently.refund_json(r.id), NULL);
        END LOOP;
        IF x.provider = 'card' AND x.refund_amount > 0 THEN
            PERFORM 1 FROM evently.orders WHERE id = x.id FOR UPDATE;
            PERFORM evently._start_refund(x.id, least(x.refund_amount, evently._refundable(x.id)),
                                          'booking cancelled', '{}', true, NULL);
        ELSE
            UPDATE evently.orders SET status = CASE WHEN x.refund_amount > 0 THEN 'REFUNDED' ELSE status END,
                                      updated_at = now()
             WHERE id = x.id;
        END IF;
    END LOOP;
END
$$;
