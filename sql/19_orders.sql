-- General admission and orders (SPEC section 10): reserving tier units,
-- orders paid by mock, offline and card, the payment state machine driven by
-- webhook events, late payments, refunds.  ga19 is a tiers-only event.
SET client_min_messages = warning;
SELECT t.remember('gabi', evently.create_user('gabi@example.com', 'qwerty', 'Gabi', 'Buyer'));
SELECT t.remember('hugo', evently.create_user('hugo@example.com', 'qwerty', 'Hugo', 'Buyer'));
INSERT INTO evently.events (name, venue, date_time, end_time, base_price, status)
VALUES ('GA Night', 'The Yard', now() + interval '10 days', now() + interval '10 days 4 hours', 0, 'published')
RETURNING t.remember('ga19', id);
-- a tier of 5 units, one not on sale yet, one whose sales ended
CREATE FUNCTION t.tier(label text, event_label text, name text, price numeric, quantity int,
                       extra text DEFAULT '') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    id uuid;
BEGIN
    EXECUTE format('INSERT INTO evently.ticket_tiers (event_id, name, price, total_quantity, max_per_order %s)
                    VALUES ($1, $2, $3, $4, 4 %s) RETURNING id',
                   CASE WHEN extra = '' THEN '' ELSE ', sale_start, sale_end' END, extra)
      INTO id USING t.id(event_label), name, price, quantity;
    INSERT INTO evently.tier_units (tier_id, unit_no, event_id)
    SELECT id, n, t.id(event_label) FROM generate_series(1, quantity) n;
    RETURN t.remember(label, id);
END
$$;
SELECT t.tier('tfloor', 'ga19', 'Floor', 25.50, 5);
SELECT t.tier('tearly', 'ga19', 'Early bird', 10, 5, $$, now() + interval '1 day', NULL$$);
SELECT t.tier('tgone', 'ga19', 'Last week', 10, 5, $$, now() - interval '9 days', now() - interval '1 day'$$);
CREATE FUNCTION t.reserve(user_label text, items jsonb, key text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_tickets_reserve(t.id(user_label),
             t.req(body => jsonb_build_object('event_id', t.id('ga19'), 'items', items))
             || jsonb_strip_nulls(jsonb_build_object('idempotency_key', key)))
$$;
CREATE FUNCTION t.item(tier_label text, quantity int) RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_array(jsonb_build_object('tier_id', t.id(tier_label), 'quantity', quantity));
CREATE FUNCTION t.unit_states(tier_label text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(status || '=' || n, ' ' ORDER BY status)
      FROM (SELECT status, count(*) n FROM evently.tier_units WHERE tier_id = t.id(tier_label) GROUP BY status) s
$$;

-- 1. Reserving --------------------------------------------------------------
SELECT t.remember('gh1', (d->>'hold_id')::uuid), d->>'total_price' AS total,
       d->'items'->0->>'tier_name' AS tier, d->'items'->0->>'quantity' AS quantity
  FROM t.reserve('gabi', t.item('tfloor', 2), 'gr1') d;
SELECT t.unit_states('tfloor') AS floor_units;
-- a retry with the key is the same hold; the key for other items is a conflict
SELECT t.reserve('gabi', t.item('tfloor', 2), 'gr1') ->> 'hold_id' = t.id('gh1')::text AS same_hold;
SELECT t.try($$SELECT t.reserve('gabi', t.item('tfloor', 3), 'gr1')$$) AS key_reused;
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 4))$$) AS sold_out;
SELECT t.try($$SELECT t.reserve('hugo', t.item('tearly', 1))$$) AS not_yet;
SELECT t.try($$SELECT t.reserve('hugo', t.item('tgone', 1))$$) AS ended;
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 0))$$) AS zero;
SELECT t.try($$SELECT t.reserve('hugo', jsonb_build_array(jsonb_build_object('tier_id', t.id('tfloor'), 'quantity', 1, 'price', 0)))$$) AS item_with_a_price;
SELECT t.try($$SELECT t.reserve('hugo', '[{"tier_id": "x", "quantity": 1}]')$$) AS bad_tier_id;
SELECT t.try($$SELECT t.reserve('hugo', jsonb_build_array(jsonb_build_object('tier_id', gen_random_uuid(), 'quantity', 1)))$$) AS unknown_tier;
SELECT t.try($$SELECT t.reserve('hugo', jsonb_build_array(jsonb_build_object('tier_id', t.id('tfloor'), 'quantity', 1.5)))$$) AS fraction;
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 1) || t.item('tfloor', 1))$$) AS twice;
UPDATE evently.ticket_tiers SET min_per_order = 2 WHERE id = t.id('tfloor');
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 1))$$) AS under_min;
UPDATE evently.ticket_tiers SET min_per_order = 1 WHERE id = t.id('tfloor');
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 5))$$) AS over_max;
-- a lapsed hold's units are free again (lazy expiry), not before
SELECT t.remember('gh2', (t.reserve('hugo', t.item('tfloor', 3)) ->> 'hold_id')::uuid);
SELECT t.try($$SELECT t.reserve('hugo', t.item('tfloor', 1))$$) AS full_now;
SELECT t.lapse('gh2');
SELECT t.remember('gh3', (t.reserve('hugo', t.item('tfloor', 2)) ->> 'hold_id')::uuid);
SELECT t.unit_states('tfloor') AS floor_units, (SELECT count(*) FROM evently.tier_units WHERE hold_id = t.id('gh2')) AS h2_keeps;
-- releasing gives the units back
SELECT evently.release_hold(t.id('gh3'), t.id('hugo')) ->> 'status' AS released;
SELECT t.unit_states('tfloor') AS floor_units;

-- 2. Orders: mock --------------------------------------------------------------
CREATE FUNCTION t.order(user_label text, hold_label text, provider text, key text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT evently.api_order_create(t.id(user_label),
             t.req(body => jsonb_build_object('hold_id', t.id(hold_label), 'payment_provider', provider))
             || jsonb_strip_nulls(jsonb_build_object('idempotency_key', key)))
$$;
SELECT t.try($$SELECT t.order('hugo', 'gh1', 'mock')$$) AS others_hold;
SELECT t.try($$SELECT t.order('gabi', 'gh1', 'paypal')$$) AS bad_provider;
SELECT t.remember('go1', (d->>'order_id')::uuid), d->>'status' AS status, d->>'total_amount' AS total,
       d->'payment'->>'status' AS payment, d->>'booking_id' IS NOT NULL AS booked,
       jsonb_array_length(d->'items') AS items
  FROM t.order('gabi', 'gh1', 'mock', 'go1') d;
SELECT t.order('gabi', 'gh1', 'mock', 'go1') ->> 'order_id' = t.id('go1')::text AS retry_same_order;
SELECT t.try($$SELECT t.order('gabi', 'gh1', 'card', 'go1')$$) AS key_other_provider;
SELECT t.try($$SELECT evently.api_order_create(t.id('gabi'), t.req(body => jsonb_build_object('hold_id', t.id('gh1'),
         'payment_provider', 'mock', 'discount_code', 'SOMECODE', 'idempotency_key', 'go1')))$$) AS key_other_code;
SELECT t.try($$SELECT t.order('gabi', 'gh1', 'mock')$$) AS order_twice;
SELECT t.unit_states('tfloor') AS floor_units,
       (SELECT count(*) FROM evently.tickets WHERE booking_id = (SELECT booking_id FROM evently.orders WHERE id = t.id('go1'))
          AND tier_id = t.id('tfloor') AND seat_price = 25.50) AS tickets;
SELECT b->>'total_seats' AS seats, jsonb_array_length(b->'tickets') AS tickets, b->>'order_id' = t.id('go1')::text AS linked
  FROM evently.booking_json((SELECT booking_id FROM evently.orders WHERE id = t.id('go1'))) b;
SELECT type FROM evently.outbox WHERE data->>'order_id' = t.id('go1')::text OR (type = 'booking.confirmed' AND user_id = t.id('gabi')) ORDER BY id;

-- 3. Offline: the hold waits for the transfer; mark-paid issues the tickets
SELECT t.remember('gh4', (t.reserve('hugo', t.item('tfloor', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go2', (d->>'order_id')::uuid), d->>'status' AS status, d->'payment'->>'reference' LIKE 'EVT-%' AS has_reference,
       d->'payment'->>'instructions' LIKE 'Transfer 25.50 INR%' AS instructions,
       (d->>'expires_at')::timestamptz > now() + interval '2 days' AS waits_days
  FROM t.order('hugo', 'gh4', 'offline') d;
SELECT expires_at > now() + interval '2 days' AS hold_extended FROM evently.holds WHERE id = t.id('gh4');
SELECT t.try($$SELECT evently.confirm_booking(t.id('gh4'), t.id('hugo'))$$) AS confirm_while_ordered;
SELECT t.try($$SELECT evently.api_order_mark_paid(t.id('hugo'), t.req(jsonb_build_object('id', t.id('go2'))))$$) AS buyer_marks_paid;
SELECT d->>'status' AS status, d->'payment'->>'status' AS payment, d->>'booking_id' IS NOT NULL AS booked
  FROM evently.api_order_mark_paid(t.id('admin'), t.req(jsonb_build_object('id', t.id('go2')))) d;
SELECT t.try($$SELECT evently.api_order_mark_paid(t.id('admin'), t.req(jsonb_build_object('id', t.id('go2'))))$$) AS mark_twice;
SELECT t.try($$SELECT evently.api_order_mark_paid(t.id('admin'), t.req(jsonb_build_object('id', t.id('go1'))))$$) AS mark_mock;

-- 4. Card: the webhook moves the payment -----------------------------------------
CREATE FUNCTION t.hook(id text, type text, obj jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN (d->>'duplicate')::boolean THEN 'duplicate, was ' ELSE '' END || (d->>'outcome')
      FROM evently.api_payment_webhook(NULL, jsonb_build_object('provider', 'card', 'body',
             jsonb_build_object('id', id, 'object', 'event', 'type', type, 'data', jsonb_build_object('object', obj)))) d
$$;
CREATE FUNCTION t.intent(order_label text, pi text) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', pi, 'object', 'payment_intent', 'amount', (p.amount * 100)::int,
                              'metadata', jsonb_build_object('order_id', p.order_id, 'payment_id', p.id))
      FROM evently.payments p WHERE p.order_id = t.id(order_label)
$$;
UPDATE evently.tier_units SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL
 WHERE tier_id = t.id('tfloor') AND status = 'HELD';
SELECT t.remember('gh5', (t.reserve('hugo', t.item('tfloor', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go3', (d->>'order_id')::uuid), d->>'status' AS status, d->'payment'->>'status' AS payment,
       d->'payment'->>'amount_minor' AS minor
  FROM t.order('hugo', 'gh5', 'card') d;
SELECT jsonb_array_length(evently.payment_work(20)) AS work_too_soon;
UPDATE evently.payments SET created_at = now() - interval '1 minute' WHERE order_id = t.id('go3');
-- not while the order route's own provider call (its timeout) may still run
SELECT jsonb_array_length(evently.payment_work(20, 120000)) AS work_within_route_timeout;
SELECT w->>'kind' AS kind, w->>'amount_minor' AS minor, w->>'idempotency_key' = t.id('go3')::text AS key_is_order
  FROM jsonb_array_elements(evently.payment_work(20)) w;
SELECT d->'payment'->>'status' AS payment, d->'payment'->>'client_secret' AS secret
  FROM evently.payment_record(jsonb_build_object('kind', 'intent_created', 'payment_id',
         (SELECT id FROM evently.payments WHERE order_id = t.id('go3')), 'provider_payment_id', 'pi_3',
         'client_secret', 'pi_3_secret_x')) d;
SELECT jsonb_array_length(evently.payment_work(20)) AS work_done;
SELECT t.hook('evt_1', 'payment_intent.processing', t.intent('go3', 'pi_3')) AS processing;
SELECT t.hook('evt_1', 'payment_intent.processing', t.intent('go3', 'pi_3')) AS replayed;
SELECT t.hook('evt_2', 'payment_intent.succeeded', t.intent('go3', 'pi_3') || '{"amount": 1}') AS wrong_amount;
SELECT t.hook('evt_2c', 'payment_intent.succeeded', t.intent('go3', 'pi_3') || '{"currency": "usd"}') AS wrong_currency;
SELECT t.hook('evt_3', 'payment_intent.succeeded', t.intent('go3', 'pi_3')) AS succeeded;
SELECT t.hook('evt_4', 'payment_intent.processing', t.intent('go3', 'pi_3')) AS out_of_order;
SELECT t.hook('evt_5', 'payment_intent.payment_failed', t.intent('go3', 'pi_3')) AS failed_after_success;
SELECT t.hook('evt_6', 'payment_intent.succeeded', t.intent('go3', 'pi_unknown') - 'metadata') AS unknown_intent;
SELECT t.hook('evt_7', 'customer.created', '{"id": "cus_1"}') AS other_type;
SELECT status, booking_id IS NOT NULL AS booked, (SELECT status FROM evently.payments WHERE order_id = o.id) AS payment,
       (SELECT fee FROM evently.payments WHERE order_id = o.id) AS fee
  FROM evently.orders o WHERE id = t.id('go3');
SELECT action, details->>'from' AS from_status, details->>'to' AS to_status FROM evently.audit_log
 WHERE action IN ('payment.jump_refused', 'payment.amount_mismatch') ORDER BY id;
SELECT t.try($$SELECT evently.api_payment_webhook(NULL, '{"provider": "card", "body": {"type": "x"}}')$$) AS malformed_event;

-- a failed card payment fails its order; the hold may be ordered again
SELECT t.remember('gh6', (t.reserve('gabi', t.item('tfloor', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go4', (t.order('gabi', 'gh6', 'card') ->> 'order_id')::uuid);
SELECT t.hook('evt_8', 'payment_intent.payment_failed', t.intent('go4', 'pi_4')) AS failed;
SELECT status FROM evently.orders WHERE id = t.id('go4');
SELECT t.remember('go4b', (d->>'order_id')::uuid), d->>'status' AS second_try FROM t.order('gabi', 'gh6', 'card') d;
-- a failed attempt is not final at the provider: the first intent succeeds
-- with another card, pays for the hold, and the second order expires; when
-- the second intent succeeds too, it is refunded
SELECT t.hook('evt_8b', 'payment_intent.succeeded', t.intent('go4', 'pi_4')) AS succeeded_after_failure;
SELECT id = t.id('go4') AS first, status, booking_id IS NOT NULL AS booked, status_note
  FROM evently.orders WHERE id IN (t.id('go4'), t.id('go4b')) ORDER BY id = t.id('go4') DESC;
SELECT t.hook('evt_8c', 'payment_intent.succeeded', t.intent('go4b', 'pi_4b')) AS second_succeeds;
SELECT o.status, o.status_note, r.amount, r.automatic FROM evently.orders o JOIN evently.refunds r ON r.order_id = o.id
 WHERE o.id = t.id('go4b');

-- 5. Late payments ---------------------------------------------------------------
SELECT t.tier('tlate', 'ga19', 'Late', 12, 2);
-- units still free: accepted, the hold's units taken back
SELECT t.remember('gh7', (t.reserve('hugo', t.item('tlate', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go5', (t.order('hugo', 'gh7', 'card') ->> 'order_id')::uuid);
SELECT t.lapse('gh7');
SELECT evently.expire_holds() >= 1 AS swept;
SELECT status FROM evently.orders WHERE id = t.id('go5');
SELECT t.hook('evt_9', 'payment_intent.succeeded', t.intent('go5', 'pi_5')) AS late_but_free;
SELECT status, booking_id IS NOT NULL AS booked, status_note FROM evently.orders WHERE id = t.id('go5');
-- sold out meanwhile: refunded automatically through the provider, no ticket
SELECT t.remember('gh8', (t.reserve('hugo', t.item('tlate', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go6', (t.order('hugo', 'gh8', 'card') ->> 'order_id')::uuid);
SELECT t.lapse('gh8');
SELECT t.remember('gh9', (t.reserve('gabi', t.item('tlate', 1)) ->> 'hold_id')::uuid);
SELECT t.hook('evt_10', 'payment_intent.succeeded', t.intent('go6', 'pi_6')) AS late_sold_out;
SELECT o.status, o.booking_id IS NULL AS no_booking, o.status_note, p.status AS payment, r.status AS refund,
       r.amount, r.automatic FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id
  JOIN evently.refunds r ON r.order_id = o.id WHERE o.id = t.id('go6');
SELECT t.unit_states('tlate') AS late_units;
SELECT w->>'kind' AS kind, w->>'payment_intent' AS intent, w->>'amount_minor' AS minor
  FROM jsonb_array_elements(evently.payment_work(20)) w WHERE w->>'kind' = 'create_refund';
SELECT d->>'status' AS refund FROM evently.payment_record(jsonb_build_object('kind', 'refund_created',
         'refund_id', (SELECT id FROM evently.refunds WHERE order_id = t.id('go6')), 'provider_refund_id', 're_6',
         'status', 'pending')) d;
SELECT t.hook('evt_11', 'refund.updated', '{"id": "re_6", "object": "refund", "status": "succeeded"}') AS refunded;
SELECT o.status, p.status AS payment, p.refund_amount FROM evently.orders o
  JOIN evently.payments p ON p.order_id = o.id WHERE o.id = t.id('go6');

-- 6. Refunds --------------------------------------------------------------------
CREATE FUNCTION t.refund(user_label text, order_label text, body jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_order_refund(t.id(user_label), t.req(jsonb_build_object('id', t.id(order_label)), '{}', body))
$$;
CREATE FUNCTION t.decide(fn text, actor_label text, refund_label text, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    doc jsonb;
BEGIN
    EXECUTE format('SELECT evently.%I($1, $2)', fn) INTO doc
      USING t.id(actor_label), t.req(jsonb_build_object('id', t.id(refund_label)), '{}', body);
    RETURN doc;
END
$$;
SELECT t.try($$SELECT t.refund('hugo', 'go1', '{"reason": "mine?"}')$$) AS others_order;
SELECT t.try($$SELECT t.refund('gabi', 'go1', '{}')$$) AS no_reason;
SELECT t.try($$SELECT t.refund('gabi', 'go1', '{"reason": "x", "amount": 51.01}')$$) AS over_paid;
SELECT t.try($$SELECT t.refund('gabi', 'go1', '{"reason": "x", "amount": 1.001}')$$) AS three_decimals;
SELECT t.try($$SELECT t.refund('gabi', 'go1', jsonb_build_object('reason', 'x', 'ticket_ids', jsonb_build_array(gen_random_uuid())))$$) AS foreign_ticket;
-- one of gabi's two tickets back: requested, approved, refunded at once (mock)
SELECT t.remember('gr1', (d->>'refund_id')::uuid), d->>'status' AS status, d->>'amount' AS amount
  FROM t.refund('gabi', 'go1', jsonb_build_object('reason', 'cannot come',
         'ticket_ids', (SELECT jsonb_agg(id) FROM (SELECT id FROM evently.tickets
                         WHERE booking_id = (SELECT booking_id FROM evently.orders WHERE id = t.id('go1'))
                         ORDER BY unit_no LIMIT 1) x))) d;
SELECT t.try($$SELECT t.refund('gabi', 'go1', jsonb_build_object('reason', 'again', 'ticket_ids', (SELECT to_jsonb(ticket_ids) FROM evently.refunds WHERE id = t.id('gr1'))))$$) AS same_ticket_twice;
SELECT t.try($$SELECT t.decide('api_refund_approve', 'hugo', 'gr1')$$) AS buyer_approves;
SELECT d->>'status' AS status FROM t.decide('api_refund_approve', 'admin', 'gr1') d;
SELECT t.try($$SELECT t.decide('api_refund_approve', 'admin', 'gr1')$$) AS approve_twice;
SELECT o.status, p.status AS payment, p.refund_amount,
       (SELECT count(*) FROM evently.tickets WHERE booking_id = o.booking_id AND status = 'VALID') AS valid_tickets
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id WHERE o.id = t.id('go1');
SELECT t.unit_states('tfloor') AS floor_units;
-- a request rejected with a reason
SELECT t.remember('gr2', (t.refund('gabi', 'go1', '{"reason": "changed my mind", "amount": 5}') ->> 'refund_id')::uuid);
SELECT t.try($$SELECT t.decide('api_refund_reject', 'admin', 'gr2')$$) AS reject_without_reason;
SELECT d->>'status' AS status, d->>'decision_note' AS note FROM t.decide('api_refund_reject', 'admin', 'gr2', '{"reason": "past the show"}') d;
-- a card order's refund goes through the provider and ends on its webhook
SELECT t.remember('gr3', (t.refund('hugo', 'go3', '{"reason": "ill"}') ->> 'refund_id')::uuid);
SELECT d->>'status' AS status FROM t.decide('api_refund_approve', 'admin', 'gr3') d;
SELECT p.status AS payment FROM evently.payments p WHERE p.order_id = t.id('go3');
SELECT w->>'kind' AS kind, w->>'payment_intent' AS intent FROM jsonb_array_elements(evently.payment_work(20)) w WHERE w->>'kind' = 'create_refund';
SELECT t.hook('evt_12', 'charge.refunded', jsonb_build_object('id', 'ch_3', 'object', 'charge', 'payment_intent', 'pi_3',
         'refunds', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('id', 're_3', 'status', 'succeeded',
           'metadata', jsonb_build_object('refund_id', t.id('gr3'))))))) AS charge_refunded;
SELECT w.payment_id = p.id AS delivery_names_payment FROM evently.webhook_events w, evently.payments p
 WHERE w.event_id = 'evt_12' AND p.order_id = t.id('go3');
SELECT o.status, p.status AS payment, p.refund_amount = p.amount AS all_back, r.status AS refund
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id JOIN evently.refunds r ON r.order_id = o.id
 WHERE o.id = t.id('go3');
SELECT t.try($$SELECT t.refund('hugo', 'go3', '{"reason": "again"}')$$) AS refund_refunded;
-- the provider saying again that the refunded payment succeeded changes nothing
SELECT t.hook('evt_12b', 'payment_intent.succeeded', t.intent('go3', 'pi_3')) AS succeeded_again;
SELECT o.status, p.status AS payment, (SELECT count(*) FROM evently.refunds WHERE order_id = o.id) AS refunds
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id WHERE o.id = t.id('go3');

-- 7. GET /orders/my-orders: the actor's orders, newest first, a page at a time
SELECT d->>'total_count' AS total, d->>'limit' AS lim, d->>'offset' AS off,
       (SELECT string_agg(o->>'status', ' ' ORDER BY n) FROM jsonb_array_elements(d->'orders') WITH ORDINALITY x (o, n)) AS statuses,
       d->'orders'->-1->>'order_id' = t.id('go2')::text AS oldest_last
  FROM evently.api_orders_mine(t.id('hugo'), t.req()) d;
SELECT d->>'total_count' AS total, jsonb_array_length(d->'orders') AS shown, d->'orders'->0->>'order_id' = t.id('go3')::text AS third_newest
  FROM evently.api_orders_mine(t.id('hugo'), t.req(query => '{"limit": "1", "offset": "2"}')) d;
SELECT d->>'total_count' AS total, d->'orders' AS orders
  FROM evently.api_orders_mine(t.id('admin'), t.req()) d;
SELECT t.try($$SELECT evently.api_orders_mine(t.id('hugo'), t.req(query => '{"limit": "0"}'))$$) AS limit_zero;

-- 8. A cancelled event frees its held units and expires its unpaid orders; a
-- card payment completing afterwards is refunded, never booked
INSERT INTO evently.events (name, venue, date_time, end_time, base_price, status)
VALUES ('Storm Night', 'The Yard', now() + interval '10 days', now() + interval '10 days 4 hours', 0, 'published')
RETURNING t.remember('ga19c', id);
SELECT t.tier('tstorm', 'ga19c', 'Storm', 8, 3);
CREATE FUNCTION t.reserve_on(user_label text, event_label text, items jsonb) RETURNS uuid LANGUAGE sql AS $$
    SELECT (evently.api_tickets_reserve(t.id(user_label),
              t.req(body => jsonb_build_object('event_id', t.id(event_label), 'items', items))) ->> 'hold_id')::uuid
$$;
SELECT t.remember('gh10', t.reserve_on('gabi', 'ga19c', t.item('tstorm', 1)));
SELECT t.remember('gh11', t.reserve_on('hugo', 'ga19c', t.item('tstorm', 2)));
SELECT t.remember('go7', (t.order('hugo', 'gh11', 'card') ->> 'order_id')::uuid);
SELECT t.unit_states('tstorm') AS storm_before;
SELECT evently.api_event_cancel(t.id('admin'), t.req(t.ev('ga19c'), body => '{"reason": "storm"}')) ->> 'status' AS event;
SELECT t.unit_states('tstorm') AS storm_after,
       (SELECT string_agg(status, ',' ORDER BY status) FROM evently.holds WHERE id IN (t.id('gh10'), t.id('gh11'))) AS holds,
       (SELECT status FROM evently.orders WHERE id = t.id('go7')) AS unpaid_order;
SELECT t.hook('evt_13', 'payment_intent.succeeded', t.intent('go7', 'pi_7')) AS paid_after_cancel;
SELECT o.status, o.booking_id IS NULL AS no_booking, o.status_note, r.amount, r.automatic, r.reason
  FROM evently.orders o JOIN evently.refunds r ON r.order_id = o.id WHERE o.id = t.id('go7');
SELECT t.unit_states('tstorm') AS storm_units;

-- 9. A late payment takes its expired order's discount use again; when the
-- code was used up meanwhile, max_uses holds and the payment is refunded
SELECT t.tier('tdisc', 'ga19', 'Discounted', 20, 3);
INSERT INTO evently.discount_codes (event_id, code, percent_off, max_uses)
VALUES (t.id('ga19'), 'LATE1', 50, 1), (t.id('ga19'), 'LATE2', 50, 1);
CREATE FUNCTION t.coded_order(user_label text, hold_label text, provider text, code text) RETURNS uuid
LANGUAGE sql AS $$
    SELECT (evently.api_order_create(t.id(user_label), t.req(body => jsonb_build_object(
              'hold_id', t.id(hold_label), 'payment_provider', provider, 'discount_code', code))) ->> 'order_id')::uuid
$$;
CREATE FUNCTION t.uses() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(code || '=' || used_count || '/' || max_uses, ' ' ORDER BY code)
      FROM evently.discount_codes WHERE code LIKE 'LATE%'
$$;
SELECT t.remember('gh12', (t.reserve('hugo', t.item('tdisc', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go8', t.coded_order('hugo', 'gh12', 'card', 'late1'));
SELECT t.lapse('gh12');
SELECT evently.expire_holds() >= 1 AS swept;
SELECT (SELECT status FROM evently.orders WHERE id = t.id('go8')) AS expired, t.uses() AS use_given_back;
SELECT t.hook('evt_14', 'payment_intent.succeeded', t.intent('go8', 'pi_8')) AS late_with_code;
SELECT o.status, o.booking_id IS NOT NULL AS booked, o.total_amount, t.uses() AS use_taken_again
  FROM evently.orders o WHERE o.id = t.id('go8');
SELECT t.remember('gh13', (t.reserve('hugo', t.item('tdisc', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('go9', t.coded_order('hugo', 'gh13', 'card', 'LATE2'));
SELECT t.lapse('gh13');
SELECT evently.expire_holds() >= 1 AS swept;
SELECT t.remember('gh14', (t.reserve('gabi', t.item('tdisc', 1)) ->> 'hold_id')::uuid);
SELECT t.coded_order('gabi', 'gh14', 'mock', 'LATE2') IS NOT NULL AS gabi_used_it;
SELECT t.uses() AS uses;
SELECT t.hook('evt_15', 'payment_intent.succeeded', t.intent('go9', 'pi_9')) AS late_code_used_up;
SELECT o.status, o.booking_id IS NULL AS no_booking, o.status_note, r.amount, r.automatic, t.uses() AS uses
  FROM evently.orders o JOIN evently.refunds r ON r.order_id = o.id WHERE o.id = t.id('go9');
SELECT t.unit_states('tdisc') AS disc_units;

-- a failed card attempt, a new order of the same hold taking the code's last
-- use, then the first intent succeeding: the first order is paid with the
-- use, the newer one expires
SELECT t.tier('tretry', 'ga19', 'Retry', 20, 2);
INSERT INTO evently.discount_codes (event_id, code, percent_off, max_uses) VALUES (t.id('ga19'), 'ONCE', 50, 1);
SELECT t.remember('ghr1', (t.reserve('gabi', t.item('tretry', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('gor1', t.coded_order('gabi', 'ghr1', 'card', 'ONCE'));
SELECT t.hook('evt_r1', 'payment_intent.payment_failed', t.intent('gor1', 'pi_r1')) AS first_failed;
SELECT t.remember('gorb', t.coded_order('gabi', 'ghr1', 'card', 'ONCE'));
SELECT t.hook('evt_r2', 'payment_intent.succeeded', t.intent('gor1', 'pi_r1')) AS first_succeeds;
SELECT id = t.id('gor1') AS first, status, booking_id IS NOT NULL AS booked, total_amount
  FROM evently.orders WHERE id IN (t.id('gor1'), t.id('gorb')) ORDER BY id = t.id('gor1') DESC;
SELECT used_count, max_uses FROM evently.discount_codes WHERE event_id = t.id('ga19') AND code = 'ONCE';

-- a refund the provider refuses: FAILED, the tickets stay valid, the payment
-- back to COMPLETED, and the order has no note (it still has its tickets)
SELECT t.remember('ghf1', (t.reserve('hugo', t.item('tretry', 1)) ->> 'hold_id')::uuid);
SELECT t.remember('gof1', (t.order('hugo', 'ghf1', 'card') ->> 'order_id')::uuid);
SELECT t.hook('evt_f1', 'payment_intent.succeeded', t.intent('gof1', 'pi_f1')) AS paid;
SELECT t.remember('grf1', (t.refund('hugo', 'gof1', '{"reason": "plans changed"}') ->> 'refund_id')::uuid);
SELECT d->>'status' AS status FROM t.decide('api_refund_approve', 'admin', 'grf1') d;
SELECT d->>'status' AS refund, d->>'failure_reason' AS why
  FROM evently.payment_record(jsonb_build_object('kind', 'refund_failed', 'refund_id', t.id('grf1'),
         'error', 'charge disputed')) d;
SELECT o.status, o.status_note, p.status AS payment,
       (SELECT count(*) FROM evently.tickets WHERE booking_id = o.booking_id AND status = 'VALID') AS valid_tickets
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id WHERE o.id = t.id('gof1');

-- 10. A waitlist for a tier: a refund's freed unit is offered to the first in
-- line at once, as a hold of that tier's units
SELECT t.tier('twait', 'ga19', 'Waited', 15, 2);
SELECT t.remember('gh15', (t.reserve('gabi', t.item('twait', 2)) ->> 'hold_id')::uuid);
SELECT t.remember('go10', (t.order('gabi', 'gh15', 'mock') ->> 'order_id')::uuid);
CREATE FUNCTION t.wait(user_label text, body jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_waitlist_join(t.id(user_label), t.req(body => jsonb_build_object('event_id', t.id('ga19')) || body))
$$;
SELECT t.try($$SELECT t.wait('hugo', '{"quantity": 1}')$$) AS seats_of_a_tiers_event;
SELECT t.try($$SELECT t.wait('hugo', jsonb_build_object('quantity', 1, 'tier_id', t.id('tstorm')))$$) AS tier_of_another_event;
SELECT t.try($$SELECT t.wait('hugo', jsonb_build_object('quantity', 5, 'tier_id', t.id('twait')))$$) AS over_per_order;
SELECT t.try($$SELECT t.wait('hugo', jsonb_build_object('quantity', 1, 'tier_id', t.id('tgone')))$$) AS tier_sales_ended;
SELECT d->>'status' AS status, d->>'tier_id' = t.id('twait')::text AS waits_for_tier
  FROM t.wait('hugo', jsonb_build_object('quantity', 1, 'tier_id', t.id('twait'))) d;
-- a tier nobody bought but somebody waits for stays; once they leave it can go
SELECT t.tier('twait2', 'ga19', 'Waited too', 15, 2);
SELECT t.wait('gabi', jsonb_build_object('quantity', 1, 'tier_id', t.id('twait2'))) ->> 'status' AS gabi_waits;
SELECT t.try($$SELECT evently.api_tier_delete(t.id('admin'), t.req(jsonb_build_object('id', t.id('twait2'))))$$) AS delete_waited_tier;
SELECT evently.leave_waitlist(t.id('ga19'), t.id('gabi')) ->> 'status' AS gabi_left;
SELECT evently.api_tier_delete(t.id('admin'), t.req(jsonb_build_object('id', t.id('twait2')))) IS NULL AS deleted;
SELECT count(*) AS entries_left FROM evently.waitlist_entries WHERE user_id = t.id('gabi') AND event_id = t.id('ga19');
-- a buyer asks at most what the policy gives back for the tickets named
SELECT t.try($$SELECT t.refund('gabi', 'go10', jsonb_build_object('reason', 'greedy', 'amount', 15.01,
         'ticket_ids', (SELECT jsonb_agg(id) FROM (SELECT id FROM evently.tickets
                         WHERE booking_id = (SELECT booking_id FROM evently.orders WHERE id = t.id('go10'))
                         ORDER BY unit_no LIMIT 1) x)))$$) AS over_policy;
-- gabi gives one ticket back: hugo is offered its unit in the same transaction
SELECT t.remember('gr4', (t.refund('gabi', 'go10', jsonb_build_object('reason', 'one too many',
         'ticket_ids', (SELECT jsonb_agg(id) FROM (SELECT id FROM evently.tickets
                         WHERE booking_id = (SELECT booking_id FROM evently.orders WHERE id = t.id('go10'))
                         ORDER BY unit_no LIMIT 1) x))) ->> 'refund_id')::uuid);
SELECT d->>'status' AS status FROM t.decide('api_refund_approve', 'admin', 'gr4') d;
SELECT w.status, h.status AS offer, (SELECT string_agg(hi.quantity || 'x' || hi.tier_id::text, ',') = '1x' || t.id('twait')
                                      FROM evently.hold_items hi WHERE hi.hold_id = h.id) AS offer_of_tier,
       t.unit_states('twait') AS units
  FROM evently.waitlist_entries w JOIN evently.holds h ON h.id = w.hold_id
 WHERE w.event_id = t.id('ga19') AND w.user_id = t.id('hugo');
SELECT type FROM evently.outbox WHERE type LIKE 'waitlist.%' AND user_id = t.id('hugo') ORDER BY id;
-- the offer is paid like any hold, and the entry converted
SELECT t.remember('gh16', (SELECT hold_id FROM evently.waitlist_entries WHERE event_id = t.id('ga19') AND user_id = t.id('hugo')));
SELECT d->>'status' AS status, d->>'total_amount' AS total FROM t.order('hugo', 'gh16', 'mock') d;
SELECT status FROM evently.waitlist_entries WHERE event_id = t.id('ga19') AND user_id = t.id('hugo');
SELECT t.unit_states('twait') AS units;

-- 11. Evently's cancel route on a booking an order paid, after a partial
-- refund: the rest of what was paid comes back less the policy's fee (the
-- refund before does not waive it), never more
SELECT evently.set_cancellation_policy(t.id('ga19'), true, now() + interval '5 days', 'FIXED', 2) IS NOT NULL AS policy;
SELECT c->>'refund_amount' AS cancel_refund, c->>'cancellation_fee' AS fee
  FROM evently.cancel_with_policy((SELECT booking_id FROM evently.orders WHERE id = t.id('go10')), t.id('gabi')) c;
SELECT o.status, p.status AS payment, p.amount, p.refund_amount
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id WHERE o.id = t.id('go10');
-- with a discount: the fee and the refund are of what the buyer paid
SELECT t.remember('gh17', (t.reserve('gabi', t.item('tdisc', 1)) ->> 'hold_id')::uuid);
INSERT INTO evently.discount_codes (event_id, code, percent_off) VALUES (t.id('ga19'), 'HALF', 50);
SELECT t.remember('go11', t.coded_order('gabi', 'gh17', 'mock', 'HALF'));
SELECT c->>'refund_amount' AS cancel_refund
  FROM evently.cancel_with_policy((SELECT booking_id FROM evently.orders WHERE id = t.id('go11')), t.id('gabi')) c;
SELECT o.status, o.total_amount, p.refund_amount FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id
 WHERE o.id = t.id('go11');
-- the payout counts what the cancel route gave back in place (no refund row) with the refunds
SELECT (d->>'refunds')::numeric = (SELECT sum(p.refund_amount) FROM evently.payments p
                                              JOIN evently.orders o ON o.id = p.order_id WHERE o.event_id = t.id('ga19'))
         AS payout_refunds_all,
       (d->>'refunds')::numeric > (SELECT sum(r.amount) FROM evently.refunds r JOIN evently.orders o ON o.id = r.order_id
                                              WHERE o.event_id = t.id('ga19') AND r.status = 'REFUNDED') AS more_than_refund_rows
  FROM evently._event_payouts(t.id('ga19')) d;
-- while a card refund of the order is with the provider the buyer does not
-- cancel: what is left to refund depends on its answer
SELECT t.tier('tflight', 'ga19', 'In flight', 20, 2);
SELECT t.remember('gh18', (t.reserve('hugo', t.item('tflight', 2)) ->> 'hold_id')::uuid);
SELECT t.remember('go12', (t.order('hugo', 'gh18', 'card') ->> 'order_id')::uuid);
SELECT t.hook('evt_20', 'payment_intent.succeeded', t.intent('go12', 'pi_12')) AS paid;
SELECT t.remember('gr6', (t.refund('hugo', 'go12', jsonb_build_object('reason', 'one cannot come',
         'ticket_ids', (SELECT jsonb_agg(id) FROM (SELECT id FROM evently.tickets
                         WHERE booking_id = (SELECT booking_id FROM evently.orders WHERE id = t.id('go12'))
                         ORDER BY unit_no LIMIT 1) x))) ->> 'refund_id')::uuid);
SELECT d->>'status' AS status FROM t.decide('api_refund_approve', 'admin', 'gr6') d;
SELECT t.try($$SELECT evently.cancel_with_policy((SELECT booking_id FROM evently.orders WHERE id = t.id('go12')), t.id('hugo'))$$) AS cancel_while_refunding;
-- the provider refunded it (18.00): the cancellation keeps its fee out of the 22.00 left
SELECT t.hook('evt_21', 'refund.updated', jsonb_build_object('id', 're_flight', 'object', 'refund', 'status', 'succeeded',
         'metadata', jsonb_build_object('refund_id', t.id('gr6')))) AS refunded;
SELECT c->>'refund_amount' AS cancel_refund, c->>'cancellation_fee' AS fee
  FROM evently.cancel_with_policy((SELECT booking_id FROM evently.orders WHERE id = t.id('go12')), t.id('hugo')) c;
SELECT r.amount, r.status, r.automatic FROM evently.refunds r WHERE r.order_id = t.id('go12') ORDER BY r.created_at;

-- the invariants: no live ticket without a completed payment, refunds within what was paid
SELECT count(*) AS tickets_unpaid FROM evently.tickets t JOIN evently.bookings b ON b.id = t.booking_id
  LEFT JOIN evently.payments p ON p.booking_id = b.id
 WHERE t.status = 'VALID' AND (p.id IS NULL OR p.status NOT IN ('COMPLETED', 'REFUNDING', 'PARTIALLY_REFUNDED'));
SELECT count(*) AS over_refunded FROM evently.payments WHERE coalesce(refund_amount, 0) > amount;
SELECT type, count(*) FROM evently.outbox WHERE aggregate IN ('order', 'refund', 'payment') GROUP BY type ORDER BY type;

-- 12. Where a claim starts ------------------------------------------------------------
-- A reservation takes free units from a random one on, then wraps around
-- to the first (tiers.c, claim_units: concurrent buyers look at different
-- rows, tests/bench/ga-flash-sale.sh).  Holds of the whole of a 3-unit tier
-- get all three wherever they start; one-unit holds of a 1,000-unit tier
-- are not simply its lowest units.
INSERT INTO evently.events (name, venue, date_time, end_time, base_price, status, max_seats_per_user)
VALUES ('GA Spread', 'The Yard', now() + interval '10 days', now() + interval '10 days 4 hours', 0, 'published', 1000)
RETURNING t.remember('ga_spread', id);
SELECT t.tier('tthree', 'ga_spread', 'Three', 1, 3), t.tier('twide', 'ga_spread', 'Wide', 1, 1000);
CREATE FUNCTION t.whole_tier_holds(times int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    hold uuid;
    whole int := 0;
BEGIN
    FOR i IN 1 .. times LOOP
        hold := evently.reserve_tiers(t.id('ga_spread'), t.id('hugo'), ARRAY[t.id('tthree')], ARRAY[3]) ->> 'hold_id';
        whole := whole + (SELECT (count(*) = 3)::int FROM evently.tier_units WHERE hold_id = hold);
        PERFORM evently.release_hold(hold, t.id('hugo'));
    END LOOP;
    RETURN whole;
END
$$;
SELECT t.whole_tier_holds(30) AS whole_holds_of_30, t.unit_states('tthree') AS three_units;
SELECT count(evently.reserve_tiers(t.id('ga_spread'), t.id('hugo'), ARRAY[t.id('twide')], ARRAY[1])) AS holds
  FROM generate_series(1, 20);
SELECT count(*) AS held, count(*) FILTER (WHERE unit_no > 20) > 0 AS not_just_the_lowest
  FROM evently.tier_units WHERE tier_id = t.id('twide') AND status = 'HELD';
SELECT t.counters_agree() AS counters_agree;
