-- The stress test's world: 64 users and an ADMIN; one 500-seat event that
-- also sells a general-admission tier (seats and units side by side), with
-- a waitlist; one tiers-only event (two tiers, no waitlist: lapsed units are
-- taken lazily); short holds and offers (so they lapse during the run),
-- cancellation policies, a discount code on each event.
CREATE SCHEMA stress;
CREATE TABLE stress.users (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.seats (n int PRIMARY KEY, id uuid NOT NULL);
CREATE TABLE stress.event (id uuid NOT NULL);
-- the tiers: Standing on the seated event, GA and VIP on the tiers-only one
CREATE TABLE stress.tiers (name text PRIMARY KEY, id uuid NOT NULL, event_id uuid NOT NULL);
CREATE TABLE stress.codes (event_id uuid PRIMARY KEY, code text NOT NULL);
CREATE TABLE stress.admin (id uuid NOT NULL);
-- when the storm starts: the tiers-only event is cancelled 12 s into it
CREATE TABLE stress.clock (started timestamptz NOT NULL);
CREATE UNLOGGED TABLE stress.outcomes (action text, outcome text);

DO $$
DECLARE
    hall uuid := evently.create_venue_template('Stress Hall');
    ev uuid;
BEGIN
    PERFORM evently.add_section(hall, 'Floor', '1', '20', 25);
    ev := evently.create_event('Stress', hall, now() + interval '30 days', 100, NULL, 'Hall', NULL, '{}', '{}',
                               '{"hold_ttl": "3 seconds", "offer_window": "4 seconds",
                                 "max_seats_per_user": 8, "max_seats_per_hold": 4}');
    PERFORM evently.set_cancellation_policy(ev, true, now() + interval '29 days', 'PERCENTAGE', 10);
    INSERT INTO stress.event VALUES (ev);
    INSERT INTO stress.seats SELECT row_number() OVER (ORDER BY seat_order), seat_id
      FROM evently.event_seats WHERE event_id = ev;
END
$$;
INSERT INTO stress.admin SELECT evently.create_user('stress-admin@example.com', 'qwerty', 'Stress', 'Admin', 'ADMIN');

-- the tiers and codes are made through the organizer routes' SQL functions
DO $$
DECLARE
    admin uuid := (SELECT id FROM stress.admin);
    ev uuid := (SELECT id FROM stress.event);
    ga uuid;
BEGIN
    ga := evently._create_event('Stress GA', NULL, now() + interval '30 days', 0, admin, 'Field', NULL, '{}', '{}',
                                '{"hold_ttl": "3 seconds", "max_seats_per_user": 8, "max_seats_per_hold": 6}',
                                NULL, 'published');
    PERFORM evently.set_cancellation_policy(ga, true, now() + interval '29 days', 'FIXED', 2);
    INSERT INTO stress.tiers
    SELECT x.name, (evently.api_event_tier_create(admin, jsonb_build_object(
               'path', jsonb_build_object('eventId', x.event_id), 'query', '{}'::jsonb,
               'body', jsonb_build_object('name', x.name, 'price', x.price, 'total_quantity', x.quantity,
                                          'max_per_order', 4))) ->> 'id')::uuid, x.event_id
      FROM (VALUES ('Standing', ev, 20.00, 200), ('GA', ga, 35.50, 160), ('VIP', ga, 120.00, 40))
           x (name, event_id, price, quantity);
    INSERT INTO stress.codes VALUES (ev, 'SEATS5'), (ga, 'GA25');
    PERFORM evently.api_discount_code_create(admin, jsonb_build_object(
               'path', jsonb_build_object('eventId', ev), 'query', '{}'::jsonb,
               'body', '{"code": "SEATS5", "amount_off": 5, "max_uses": 30}'::jsonb));
    PERFORM evently.api_discount_code_create(admin, jsonb_build_object(
               'path', jsonb_build_object('eventId', ga), 'query', '{}'::jsonb,
               'body', '{"code": "GA25", "percent_off": 25, "max_uses": 25}'::jsonb));
END
$$;

INSERT INTO stress.clock VALUES (clock_timestamp());

-- one bcrypt hash for all 64 users keeps the setup fast
INSERT INTO evently.users (email, password_hash, first_name, last_name)
SELECT format('stress%s@example.com', n), evently._bcrypt_hash('qwerty'), 'Stress', n::text
  FROM generate_series(1, 64) n;
INSERT INTO stress.users SELECT split_part(split_part(email, '@', 1), 'stress', 2)::int, id
  FROM evently.users WHERE email ~ '^stress[0-9]+@';

-- One client action, chosen by a (1-100).  The engine's refusals (class EV)
-- are expected under contention and recorded; anything else (a deadlock, a
-- constraint violation, a crash) propagates and fails the pgbench client.
CREATE FUNCTION stress.act(u int, s int, k int, a int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ev uuid := (SELECT id FROM stress.event);
    me uuid := (SELECT id FROM stress.users WHERE n = u);
    action text;
    target uuid;
BEGIN
    IF a <= 40 THEN
        action := 'hold';
        PERFORM evently.hold_seats(ev, me, (SELECT array_agg(id) FROM stress.seats WHERE n BETWEEN s AND s + k - 1));
    ELSIF u % 4 = 0 AND (a <= 76 OR a BETWEEN 95 AND 96) THEN
        -- every fourth user never confirms, releases or leaves: their holds
        -- and waitlist offers lapse and expire
        RETURN 'idle';
    ELSIF a <= 70 THEN
        action := 'confirm';
        SELECT id INTO target FROM evently.holds
         WHERE user_id = me AND status = 'ACTIVE' ORDER BY waitlist_entry_id IS NULL, created_at LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.confirm_booking(target, me, 'card', md5(target::text));
    ELSIF a <= 76 THEN
        action := 'release';
        SELECT id INTO target FROM evently.holds WHERE user_id = me AND status = 'ACTIVE' ORDER BY random() LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.release_hold(target, me);
    ELSIF a <= 86 THEN
        action := 'cancel';
        SELECT id INTO target FROM evently.bookings WHERE user_id = me AND status = 'CONFIRMED' ORDER BY random() LIMIT 1;
        IF target IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.cancel_with_policy(target, me, 'stress');
    ELSIF a <= 94 THEN
        action := 'join';
        PERFORM evently.join_waitlist(ev, me, k);
    ELSIF a <= 96 THEN
        action := 'leave';
        PERFORM evently.leave_waitlist(ev, me);
    ELSE
        action := 'expire';
        PERFORM evently.expire_holds();
    END IF;
    INSERT INTO stress.outcomes VALUES (action, 'ok');
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE NOT LIKE 'EV%' THEN
        RAISE;
    END IF;
    INSERT INTO stress.outcomes VALUES (action, SQLSTATE);
    RETURN SQLSTATE;
END
$$;

-- A card provider's webhook event as the gateway passes it on once its
-- signature checked out (shim/payments.c): the SQL side needs no signature.
-- Event ids are derived from what they say, so saying it again is a replay.
CREATE FUNCTION stress.webhook(type text, obj jsonb, said text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_payment_webhook(NULL, jsonb_build_object('provider', 'card', 'body',
             jsonb_build_object('id', 'evt_' || md5(said), 'object', 'event', 'type', type,
                                'data', jsonb_build_object('object', obj))))
$$;

-- A webhook's outcome without its particulars (amounts, target states).
CREATE FUNCTION stress.outcome(said text) RETURNS text LANGUAGE sql IMMUTABLE
RETURN regexp_replace(said, '\s*(->|[0-9]|;).*$', '');

-- A REST adapter's request (evently.api_*(actor, req)).
CREATE FUNCTION stress.req(path jsonb DEFAULT '{}', body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE sql IMMUTABLE RETURN jsonb_build_object('path', path, 'query', '{}'::jsonb, 'body', body);

-- One action of the general-admission and order side, chosen by a (1-100),
-- recorded as stress.act records its own.  Buyers reserve units, order
-- their holds (seat holds too) with mock, offline or card, ask for
-- refunds; the ADMIN marks offline orders paid and decides refunds; the
-- card provider (played here) creates intents and refunds and sends its
-- webhooks, some of them late (the hold lapsed), twice or out of order.
CREATE FUNCTION stress.trade(u int, s int, k int, a int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    me uuid := (SELECT id FROM stress.users WHERE n = u);
    admin uuid := (SELECT id FROM stress.admin);
    action text;
    target record;
    tickets jsonb;
    said jsonb;
BEGIN
    IF a <= 28 THEN
        action := 'reserve';
        PERFORM evently.api_tickets_reserve(me, stress.req(body => jsonb_build_object(
            'event_id', (SELECT event_id FROM stress.tiers WHERE name = CASE s % 3 WHEN 0 THEN 'Standing' ELSE 'GA' END),
            'items', CASE s % 3
                     WHEN 0 THEN jsonb_build_array(jsonb_build_object('tier_id', (SELECT id FROM stress.tiers WHERE name = 'Standing'), 'quantity', k))
                     WHEN 1 THEN jsonb_build_array(jsonb_build_object('tier_id', (SELECT id FROM stress.tiers WHERE name = 'GA'), 'quantity', k))
                     ELSE jsonb_build_array(jsonb_build_object('tier_id', (SELECT id FROM stress.tiers WHERE name = 'VIP'), 'quantity', 1 + k % 2),
                                            jsonb_build_object('tier_id', (SELECT id FROM stress.tiers WHERE name = 'GA'), 'quantity', k)) END)));
    ELSIF u % 4 = 0 AND a <= 52 THEN
        -- as in stress.act, every fourth user never orders: their holds lapse
        RETURN 'idle';
    ELSIF a <= 50 THEN
        action := 'order';
        SELECT h.id, h.event_id INTO target FROM evently.holds h
         WHERE h.user_id = me AND h.status = 'ACTIVE' AND h.expires_at > now()
           AND NOT EXISTS (SELECT 1 FROM evently.orders o WHERE o.hold_id = h.id AND o.status IN ('PENDING', 'PAID'))
         ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.api_order_create(me, stress.req(body => jsonb_build_object(
                    'hold_id', target.id,
                    'payment_provider', CASE WHEN s % 10 < 5 THEN 'mock' WHEN s % 10 < 7 THEN 'offline' ELSE 'card' END)
                || CASE WHEN k = 1 THEN jsonb_build_object('discount_code', (SELECT code FROM stress.codes WHERE event_id = target.event_id))
                        ELSE '{}' END)
            || jsonb_build_object('idempotency_key', md5(target.id::text || s)));
    ELSIF a <= 52 THEN
        -- a retry of an order with its key: the same order, whatever became of it
        action := 'order again';
        SELECT o.hold_id, o.provider, o.idempotency_key, dc.code INTO target FROM evently.orders o
          LEFT JOIN evently.discount_codes dc ON dc.id = o.discount_code_id
         WHERE o.user_id = me ORDER BY random() LIMIT 1;
        IF target.hold_id IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.api_order_create(me, stress.req(body => jsonb_strip_nulls(jsonb_build_object(
                    'hold_id', target.hold_id, 'payment_provider', target.provider, 'discount_code', target.code)))
            || jsonb_build_object('idempotency_key', target.idempotency_key));
    ELSIF a <= 62 THEN
        -- the provider: an intent created (as the shim records it), or news of one
        action := 'card';
        -- the provider is slow with a third of the payments: no news of them
        -- before their hold has lapsed; half the time it catches up with
        -- those first (late payments)
        SELECT p.id, p.order_id, p.amount, p.provider_payment_id, p.status INTO target
          FROM evently.payments p JOIN evently.orders o ON o.id = p.order_id
         WHERE p.provider = 'card' AND (s % 10 = 9 OR p.status IN ('PENDING', 'AUTHORIZED', 'PROCESSING'))
           AND (abs(hashtext(p.id::text)) % 3 <> 0 OR o.expires_at < now())
         ORDER BY k <= 2 AND o.expires_at < now() DESC, random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        IF target.provider_payment_id IS NULL AND s % 2 = 0 THEN
            action := 'card intent';
            PERFORM evently.payment_record(jsonb_build_object('kind', 'intent_created', 'payment_id', target.id,
                        'provider_payment_id', 'pi_' || md5(target.id::text), 'client_secret', 'secret'));
        ELSE
            said := stress.webhook(CASE WHEN s % 10 = 0 THEN 'payment_intent.payment_failed'
                                        WHEN s % 10 < 3 THEN 'payment_intent.processing'
                                        ELSE 'payment_intent.succeeded' END,
                                   jsonb_build_object('id', 'pi_' || md5(target.id::text), 'object', 'payment_intent',
                                        'amount', (target.amount * 100)::bigint,
                                        'metadata', jsonb_build_object('order_id', target.order_id, 'payment_id', target.id)),
                                   target.id::text || (s % 10 < 3) || (s % 10 = 0));
            INSERT INTO stress.outcomes VALUES ('card webhook', CASE WHEN (said->>'duplicate')::boolean THEN 'duplicate'
                                                                    ELSE stress.outcome(said->>'outcome') END);
            RETURN 'ok';
        END IF;
    ELSIF a <= 69 THEN
        action := 'mark paid';
        SELECT o.id INTO target FROM evently.orders o
         WHERE o.provider = 'offline' AND o.status IN ('PENDING', 'EXPIRED') ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.api_order_mark_paid(admin, stress.req(jsonb_build_object('id', target.id)));
    ELSIF a <= 78 THEN
        action := 'refund';
        SELECT o.id, o.booking_id INTO target FROM evently.orders o
         WHERE o.user_id = me AND o.status IN ('PAID', 'PARTIALLY_REFUNDED') ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        tickets := (SELECT jsonb_agg(id) FROM (SELECT id FROM evently.tickets
                     WHERE booking_id = target.booking_id AND status = 'VALID' ORDER BY random() LIMIT 1) t);
        PERFORM evently.api_order_refund(me, stress.req(jsonb_build_object('id', target.id),
            jsonb_build_object('reason', 'stress') || CASE WHEN k = 1 OR (tickets IS NULL AND k <> 3) THEN '{}'
                                                           WHEN k = 2 THEN jsonb_build_object('ticket_ids', tickets)
                                                           WHEN k = 3 THEN '{"amount": 1.50}'
                                                           ELSE jsonb_build_object('ticket_ids', tickets, 'amount', 3) END));
    ELSIF a <= 87 THEN
        action := CASE WHEN s % 4 = 0 THEN 'reject' ELSE 'approve' END;
        SELECT r.id INTO target FROM evently.refunds r WHERE r.status = 'REQUESTED' ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        IF action = 'reject' THEN
            PERFORM evently.api_refund_reject(admin, stress.req(jsonb_build_object('id', target.id), '{"reason": "stress"}'));
        ELSE
            PERFORM evently.api_refund_approve(admin, stress.req(jsonb_build_object('id', target.id)));
        END IF;
    ELSIF a <= 94 THEN
        -- the provider: a card refund accepted (as the shim records it), or its end
        action := 'card refund';
        SELECT r.id, r.amount, r.provider_refund_id, p.provider_payment_id INTO target
          FROM evently.refunds r JOIN evently.payments p ON p.id = r.payment_id
         WHERE p.provider = 'card' AND r.status = 'REFUNDING' ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        IF target.provider_refund_id IS NULL AND s % 3 <> 0 THEN
            PERFORM evently.payment_record(jsonb_build_object('kind', 'refund_created', 'refund_id', target.id,
                        'provider_refund_id', 're_' || md5(target.id::text),
                        'status', CASE WHEN s % 5 = 0 THEN 'succeeded' ELSE 'pending' END));
        ELSE
            said := CASE WHEN s % 4 = 0
                    THEN stress.webhook('charge.refunded', jsonb_build_object('id', 'ch_' || md5(target.provider_payment_id),
                             'object', 'charge', 'payment_intent', target.provider_payment_id,
                             'refunds', jsonb_build_object('data', jsonb_build_array(jsonb_build_object(
                                 'id', 're_' || md5(target.id::text), 'object', 'refund', 'status', 'succeeded',
                                 'metadata', jsonb_build_object('refund_id', target.id))))), target.id::text || 'charge')
                    ELSE stress.webhook('refund.updated', jsonb_build_object('id', 're_' || md5(target.id::text),
                             'object', 'refund', 'status', CASE WHEN s % 8 = 1 THEN 'failed' ELSE 'succeeded' END,
                             'metadata', jsonb_build_object('refund_id', target.id)), target.id::text || (s % 8 = 1)) END;
            INSERT INTO stress.outcomes VALUES ('refund webhook', CASE WHEN (said->>'duplicate')::boolean THEN 'duplicate'
                                                                      ELSE stress.outcome(said->>'outcome') END);
            RETURN 'ok';
        END IF;
    ELSIF a = 100 AND clock_timestamp() > (SELECT started + interval '12 seconds' FROM stress.clock) THEN
        -- 12 s into the storm the tiers-only event is cancelled: its holds
        -- released, its orders' bookings refunded in full while payments,
        -- refunds and webhooks for it are under way (the first one to get
        -- here does it; the others find it cancelled)
        action := 'cancel event';
        PERFORM evently.api_event_cancel(admin, stress.req(jsonb_build_object('eventId',
                    (SELECT event_id FROM stress.tiers WHERE name = 'GA')), '{"reason": "storm"}'));
    ELSE
        -- the Evently route on an order's booking: refunded by the policy
        action := 'cancel order';
        SELECT o.booking_id AS id INTO target FROM evently.orders o JOIN evently.bookings b ON b.id = o.booking_id
         WHERE o.user_id = me AND b.status = 'CONFIRMED' ORDER BY random() LIMIT 1;
        IF target.id IS NULL THEN RETURN 'idle'; END IF;
        PERFORM evently.cancel_with_policy(target.id, me, 'stress');
    END IF;
    INSERT INTO stress.outcomes VALUES (action, 'ok');
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    IF SQLSTATE NOT LIKE 'EV%' THEN
        RAISE;
    END IF;
    INSERT INTO stress.outcomes VALUES (action, SQLSTATE);
    RETURN SQLSTATE;
END
$$;
