-- 54_payments.sql: the payment state machine and the card provider's side
-- (SPEC section 10).
--
-- A payment of an order moves PENDING -> AUTHORIZED (the provider made the
-- intent) -> PROCESSING -> COMPLETED | FAILED; COMPLETED -> REFUNDING ->
-- REFUNDED | PARTIALLY_REFUNDED (-> REFUNDING again for another refund).
-- Webhooks may skip states forward (a card that succeeds at once sends no
-- processing event) but never move a payment backwards or out of a final
-- state: such a jump is refused, and recorded (webhook_events.outcome and an
-- audit row).
--
-- No provider call happens inside a database transaction: the shim
-- (shim/payments.c) calls the provider between two SQL calls, and its worker
-- asks payment_work() what the provider still has to be told and records each
-- answer with payment_record().  The provider's idempotency keys (the order
-- id for an intent, the refund id for a refund) make a repeated call safe.

-- May a payment move from one state to another?
CREATE OR REPLACE FUNCTION evently._payment_may_move(p_from text, p_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_from
           WHEN 'PENDING' THEN p_to IN ('AUTHORIZED', 'PROCESSING', 'COMPLETED', 'FAILED')
           WHEN 'AUTHORIZED' THEN p_to IN ('PROCESSING', 'COMPLETED', 'FAILED')
           WHEN 'PROCESSING' THEN p_to IN ('COMPLETED', 'FAILED')
           -- a failed attempt is not final: the buyer may try another card on
           -- the same intent (Stripe's requires_payment_method), which succeeds
           WHEN 'FAILED' THEN p_to IN ('PROCESSING', 'COMPLETED')
           WHEN 'COMPLETED' THEN p_to = 'REFUNDING'
           -- (a failed refund puts the payment back itself: _finish_refund)
           WHEN 'REFUNDING' THEN p_to IN ('REFUNDED', 'PARTIALLY_REFUNDED')
           WHEN 'PARTIALLY_REFUNDED' THEN p_to = 'REFUNDING'
           ELSE false END
$$;

-- The payment of a provider object: by the provider's id, or by the
-- metadata we sent when creating it (a webhook can outrun payment_record).
CREATE OR REPLACE FUNCTION evently._card_payment(obj jsonb) RETURNS evently.payments
LANGUAGE sql STABLE AS $$
    SELECT p.* FROM evently.payments p
     WHERE p.provider = 'card'
       AND (p.provider_payment_id = obj->>'id'
            OR (p.provider_payment_id IS NULL
                AND p.id::text = CASE WHEN obj->'metadata'->>'payment_id' ~ '^[0-9a-fA-F-]{36}$'
                                      THEN lower(obj->'metadata'->>'payment_id') END))
     LIMIT 1
$$;

-- The payment failed: the order FAILS (its discount use given back), the
-- hold stays for another try while it lives.  Caller locked the order.
CREATE OR REPLACE FUNCTION evently._fail_payment(p_order_id uuid, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o evently.orders;
BEGIN
    SELECT * INTO o FROM evently.orders WHERE id = p_order_id;
    UPDATE evently.payments SET status = 'FAILED', failure_reason = left(p_reason, 500), updated_at = now()
     WHERE order_id = p_order_id;
    UPDATE evently.orders SET status = 'FAILED', updated_at = now()
     WHERE id = p_order_id AND status IN ('PENDING', 'EXPIRED');
    -- an EXPIRED order gave its use back when it expired (_expire_orders)
    IF o.status = 'PENDING' AND o.discount_code_id IS NOT NULL THEN
        PERFORM evently._release_discount(o.discount_code_id);
    END IF;
    PERFORM evently._emit('payment.failed', o.event_id, o.user_id, 'order', o.id,
                          jsonb_build_object('order_id', o.id, 'reason', p_reason), NULL);
END
$$;

-- A payment_intent.* event: move the intent's payment to p_to.  Returns the
-- outcome recorded with the delivery.
CREATE OR REPLACE FUNCTION evently._intent_event(obj jsonb, p_to text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    p evently.payments;
BEGIN
    p := evently._card_payment(obj);
    IF p.id IS NULL THEN
        RETURN 'ignored: unknown payment intent';
    END IF;
    PERFORM evently._lock_order(p.order_id);
    SELECT * INTO p FROM evently.payments WHERE id = p.id;
    IF jsonb_typeof(obj->'amount') IS DISTINCT FROM 'number' OR (obj->>'amount')::numeric <> p.amount * 100 THEN
        PERFORM evently._audit('payment.amount_mismatch', 'payment', p.id,
                               jsonb_build_object('expected_minor', p.amount * 100, 'got', obj->'amount'));
        RETURN format('refused: amount %s is not the payment''s %s', obj->'amount', p.amount * 100);
    END IF;
    IF obj ? 'currency' AND lower(obj->>'currency') IS DISTINCT FROM lower(p.currency) THEN
        PERFORM evently._audit('payment.amount_mismatch', 'payment', p.id,
                               jsonb_build_object('expected_currency', lower(p.currency), 'got', obj->'currency'));
        RETURN format('refused: currency %s is not the payment''s %s', obj->'currency', lower(p.currency));
    END IF;
    IF p.status = p_to THEN
        RETURN 'ignored: already ' || p_to;
    END IF;
    -- the provider telling again that a payment we are refunding succeeded
    IF p_to = 'COMPLETED' AND p.status IN ('REFUNDING', 'REFUNDED', 'PARTIALLY_REFUNDED') THEN
        RETURN 'ignored: already paid, now ' || p.status;
    END IF;
    IF NOT evently._payment_may_move(p.status, p_to) THEN
        PERFORM evently._audit('payment.jump_refused', 'payment', p.id,
                               jsonb_build_object('from', p.status, 'to', p_to, 'intent', obj->>'id'));
        RETURN format('refused: illegal jump %s -> %s', p.status, p_to);
    END IF;
    UPDATE evently.payments SET status = p_to, provider_payment_id = coalesce(provider_payment_id, obj->>'id'),
                                updated_at = now()
     WHERE id = p.id;
    IF p_to = 'COMPLETED' THEN
        PERFORM evently._complete_order(p.order_id, NULL);
    ELSIF p_to = 'FAILED' THEN
        PERFORM evently._fail_payment(p.order_id,
            coalesce(obj->'last_payment_error'->>'message', 'the provider reported the payment failed'));
    END IF;
    RETURN 'applied: ' || p_to;
END
$$;

-- The refund a provider object names: by the provider's refund id, or by
-- the refund_id we sent as metadata.
CREATE OR REPLACE FUNCTION evently._card_refund(obj jsonb) RETURNS evently.refunds
LANGUAGE sql STABLE AS $$
    SELECT r.* FROM evently.refunds r
     WHERE r.provider_refund_id = obj->>'id'
        OR (r.provider_refund_id IS NULL
            AND r.id::text = CASE WHEN obj->'metadata'->>'refund_id' ~ '^[0-9a-fA-F-]{36}$'
                                  THEN lower(obj->'metadata'->>'refund_id') END)
     LIMIT 1
$$;

-- A refund object's news: succeeded or failed ends the refund.
CREATE OR REPLACE FUNCTION evently._refund_event(obj jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r evently.refunds;
BEGIN
    r := evently._card_refund(obj);
    IF r.id IS NULL THEN
        RETURN 'ignored: unknown refund';
    END IF;
    PERFORM evently._lock_order(r.order_id, frees_tickets => true);
    SELECT * INTO r FROM evently.refunds WHERE id = r.id;
    IF r.status <> 'REFUNDING' THEN
        RETURN 'ignored: refund already ' || r.status;
    END IF;
    UPDATE evently.refunds SET provider_refund_id = coalesce(provider_refund_id, obj->>'id') WHERE id = r.id;
    CASE obj->>'status'
    WHEN 'succeeded' THEN
        PERFORM evently._finish_refund(r.id, true, NULL);
        RETURN 'applied: REFUNDED';
    WHEN 'failed', 'canceled' THEN
        PERFORM evently._finish_refund(r.id, false, coalesce(obj->>'failure_reason', obj->>'status'));
        RETURN 'applied: refund FAILED';
    ELSE
        RETURN 'ignored: refund ' || coalesce(obj->>'status', 'without status');
    END CASE;
END
$$;

-- charge.refunded: each succeeded refund in the charge's list ends its refund.
CREATE OR REPLACE FUNCTION evently._charge_refunded(obj jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    outcomes text[] := '{}';
BEGIN
    IF jsonb_typeof(obj->'refunds'->'data') <> 'array' THEN
        RETURN 'ignored: no refunds listed';
    END IF;
    FOR r IN SELECT * FROM jsonb_array_elements(obj->'refunds'->'data') LOOP
        IF jsonb_typeof(r) = 'object' AND r->>'status' = 'succeeded' THEN
            outcomes := outcomes || evently._refund_event(r);
        END IF;
    END LOOP;
    RETURN coalesce(nullif(array_to_string(outcomes, '; '), ''), 'ignored: no succeeded refund');
END
$$;

-- POST /payments/webhook/card: one provider event, whose signature the
-- gateway verified (Stripe-Signature, shim/payments.c): req = {"provider":
-- "card", "body": the event}.  De-duplicated by the provider's event id (a
-- replay, even a concurrent one, changes nothing and says so); handled
-- types: payment_intent.processing, payment_intent.succeeded,
-- payment_intent.payment_failed, charge.refunded, refund.updated; others
-- are recorded and ignored.  Returns {received, event_id, outcome,
-- duplicate}.  A service function: the gateway's alone.
CREATE OR REPLACE FUNCTION evently.api_payment_webhook(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev jsonb := req->'body';
    obj jsonb := req->'body'->'data'->'object';
    ev_id text := req->'body'->>'id';
    said text;
BEGIN
    PERFORM evently._require(jsonb_typeof(ev) = 'object' AND jsonb_typeof(ev->'id') = 'string'
                             AND length(ev_id) BETWEEN 1 AND 255 AND jsonb_typeof(ev->'type') = 'string'
                             AND jsonb_typeof(obj) = 'object',
        'INVALID_ARGUMENT', 'invalid webhook event', 'An event has an id, a type and data.object.');
    INSERT INTO evently.webhook_events (provider, event_id, type, payload, outcome)
    VALUES ('card', ev_id, ev->>'type', ev, 'received')
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('received', true, 'event_id', ev_id, 'duplicate', true,
            'outcome', (SELECT w.outcome FROM evently.webhook_events w WHERE w.provider = 'card' AND w.event_id = ev_id));
    END IF;
    said := CASE ev->>'type'
               WHEN 'payment_intent.processing' THEN evently._intent_event(obj, 'PROCESSING')
               WHEN 'payment_intent.succeeded' THEN evently._intent_event(obj, 'COMPLETED')
               WHEN 'payment_intent.payment_failed' THEN evently._intent_event(obj, 'FAILED')
               WHEN 'charge.refunded' THEN evently._charge_refunded(obj)
               WHEN 'refund.updated' THEN evently._refund_event(obj)
               ELSE 'ignored: unhandled event type' END;
    UPDATE evently.webhook_events
       SET outcome = said,
           -- an intent names itself; a charge or a refund names its intent
           payment_id = coalesce((evently._card_payment(obj)).id,
                                 (SELECT p.id FROM evently.payments p
                                   WHERE p.provider = 'card' AND p.provider_payment_id = obj->>'payment_intent'),
                                 (evently._card_refund(obj)).payment_id)
     WHERE provider = 'card' AND event_id = ev_id;
    RETURN jsonb_build_object('received', true, 'event_id', ev_id, 'duplicate', false, 'outcome', said);
END
$$;

-- What the provider still has to be told, oldest first, at most max_tasks
-- of each kind (jsonb array):
--   {"kind": "create_intent", payment_id, order_id, amount_minor, currency, idempotency_key}
--     card payments of live orders without an intent, intent_retry_after_ms
--     after the order (the order route creates the intent itself, its call
--     bounded by the shim's PAYMENT_TIMEOUT_MS: this is its retry, so the
--     shim passes more than that timeout and the two never overlap);
--   {"kind": "create_refund", refund_id, payment_intent, amount_minor, idempotency_key}
--     approved card refunds not yet accepted by the provider.
-- A service function: the shim's worker calls it every second.
CREATE OR REPLACE FUNCTION evently.payment_work(max_tasks int DEFAULT 20, intent_retry_after_ms int DEFAULT 30000)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(t), '[]') FROM (
        (SELECT jsonb_build_object('kind', 'create_intent', 'payment_id', p.id, 'order_id', p.order_id,
                                   'amount_minor', (p.amount * 100)::bigint, 'currency', lower(p.currency),
                                   'idempotency_key', p.order_id::text) AS t
           FROM evently.payments p JOIN evently.orders o ON o.id = p.order_id
          WHERE p.provider = 'card' AND p.status = 'PENDING' AND p.provider_payment_id IS NULL
            AND o.status = 'PENDING' AND p.created_at < now() - make_interval(secs => intent_retry_after_ms / 1000.0)
          ORDER BY p.created_at LIMIT max_tasks)
        UNION ALL
        (SELECT jsonb_build_object('kind', 'create_refund', 'refund_id', r.id,
                                   'payment_intent', p.provider_payment_id,
                                   'amount_minor', (r.amount * 100)::bigint, 'idempotency_key', r.id::text)
           FROM evently.refunds r JOIN evently.payments p ON p.id = r.payment_id
          WHERE r.status = 'REFUNDING' AND r.provider_refund_id IS NULL
            AND p.provider = 'card' AND p.provider_payment_id IS NOT NULL
          ORDER BY r.created_at LIMIT max_tasks)) x
$$;

-- Record what the provider answered (a service function; the shim's order
-- route and worker call it): result is one of
--   {"kind": "intent_created", payment_id, provider_payment_id, client_secret}
--       -> the payment AUTHORIZED; returns order_json
--   {"kind": "intent_failed", payment_id, error}  (the provider refused)
--       -> payment and order FAILED; returns order_json
--   {"kind": "refund_created", refund_id, provider_refund_id, status}
--       -> the refund submitted (ended at once if status is succeeded or
--          failed); returns refund_json
--   {"kind": "refund_failed", refund_id, error} -> the refund FAILED
-- Recording twice changes nothing the second time.
CREATE OR REPLACE FUNCTION evently.payment_record(result jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    p evently.payments;
    r evently.refunds;
BEGIN
    PERFORM evently._require(jsonb_typeof(result) = 'object' AND result->>'kind' IN
                             ('intent_created', 'intent_failed', 'refund_created', 'refund_failed'),
        'INVALID_ARGUMENT', 'invalid provider result', 'kind is intent_created, intent_failed, refund_created or refund_failed.');
    IF result->>'kind' LIKE 'intent%' THEN
        SELECT * INTO p FROM evently.payments
         WHERE id = evently._uuid_arg(result->>'payment_id', 'payment_id') AND provider = 'card';
        PERFORM evently._require(FOUND, 'NOT_FOUND', 'payment not found',
                                 format('Card payment %s does not exist.', result->>'payment_id'));
        IF result->>'kind' = 'intent_created' THEN
            PERFORM evently._require(length(result->>'provider_payment_id') BETWEEN 1 AND 255, 'INVALID_ARGUMENT',
                'invalid provider_payment_id', 'The intent''s id is 1 to 255 characters.');
            UPDATE evently.payments
               SET provider_payment_id = result->>'provider_payment_id', client_secret = result->>'client_secret',
                   status = CASE WHEN status = 'PENDING' THEN 'AUTHORIZED' ELSE status END, updated_at = now()
             WHERE id = p.id AND provider_payment_id IS NULL;
        ELSE
            PERFORM evently._lock_order(p.order_id);
            IF (SELECT status FROM evently.payments WHERE id = p.id) = 'PENDING' THEN
                PERFORM evently._fail_payment(p.order_id, coalesce(result->>'error', 'the provider refused the intent'));
            END IF;
        END IF;
        RETURN evently.order_json(p.order_id);
    END IF;
    SELECT * INTO r FROM evently.refunds WHERE id = evently._uuid_arg(result->>'refund_id', 'refund_id');
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'refund not found', format('Refund %s does not exist.', result->>'refund_id'));
    PERFORM evently._lock_order(r.order_id, frees_tickets => true);
    SELECT * INTO r FROM evently.refunds WHERE id = r.id;
    IF r.status = 'REFUNDING' THEN
        IF result->>'kind' = 'refund_failed' THEN
            PERFORM evently._finish_refund(r.id, false, coalesce(result->>'error', 'the provider refused the refund'));
        ELSE
            UPDATE evently.refunds SET provider_refund_id = result->>'provider_refund_id', submitted_at = now(),
                                       updated_at = now()
             WHERE id = r.id AND provider_refund_id IS NULL;
            IF result->>'status' IN ('succeeded', 'failed') THEN
                PERFORM evently._finish_refund(r.id, result->>'status' = 'succeeded', 'the provider refused the refund');
            END IF;
        END IF;
    END IF;
    RETURN evently.refund_json(r.id);
END
$$;
