-- 93_payouts.sql: provider fees and the organizer's payout report (SPEC
-- section 10, issue 12 item 8).
--
--   POST /admin/provider-fees                   an ADMIN sets a provider's fee
--   GET  /admin/provider-fees                   every provider's fee
--   GET  /organizer/events/:eventId/payouts     what an event's paid orders
--                                               brought, less discounts,
--                                               fees and refunds
--
-- A provider's fee is the platform's contract with it: percent_fee of the
-- amount plus fixed_fee per payment (evently.provider_fees; no row: free).
-- Payment completion (54_payments.sql) stores each payment's fee, computed
-- by _payment_fee at that moment, in payments.fee, so a later change of the
-- contract does not rewrite past payouts.

-- The fee of one payment of p_amount through p_provider:
-- round(amount * percent_fee / 100 + fixed_fee, 2), never more than the
-- amount (a free ticket costs no fee), 0 when the provider has no row.
CREATE OR REPLACE FUNCTION evently._payment_fee(p_provider text, p_amount numeric) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
DECLARE
    fee numeric;
BEGIN
    SELECT round(coalesce(p_amount, 0) * f.percent_fee / 100 + f.fixed_fee, 2) INTO fee
      FROM evently.provider_fees f WHERE f.provider = p_provider;
    RETURN greatest(least(coalesce(fee, 0.00), coalesce(p_amount, 0)), 0.00);
END
$$;

-- A provider's fee as the API shows it (zeros for a provider without a row).
CREATE OR REPLACE FUNCTION evently.provider_fee_json(p_provider text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('provider', p_provider,
                              'percent_fee', coalesce(f.percent_fee, 0.00), 'fixed_fee', coalesce(f.fixed_fee, 0.00))
      FROM (VALUES (p_provider)) v(p) LEFT JOIN evently.provider_fees f ON f.provider = v.p
$$;

-- Set (insert or replace) a provider's fee: provider mock, offline or card,
-- percent_fee from 0 to 100 and fixed_fee from 0 to 1,000,000, both with at
-- most 2 decimals (INVALID_ARGUMENT naming the field).  Audit row
-- provider_fee.set (a platform setting, no domain event).
CREATE OR REPLACE FUNCTION evently._set_provider_fee(p_provider text, p_percent numeric, p_fixed numeric,
                                                     actor uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(p_provider IN ('mock', 'offline', 'card'), 'INVALID_ARGUMENT', 'invalid provider',
        format('provider %L is not mock, offline or card.', p_provider));
    PERFORM evently._require(p_percent BETWEEN 0 AND 100, 'INVALID_ARGUMENT', 'percent_fee is out of range',
        format('percent_fee is %s; it is from 0 to 100.', coalesce(p_percent::text, 'missing')));
    PERFORM evently._require(p_fixed BETWEEN 0 AND 1000000, 'INVALID_ARGUMENT', 'fixed_fee is out of range',
        format('fixed_fee is %s; it is from 0 to 1000000.', coalesce(p_fixed::text, 'missing')));
    PERFORM evently._require_decimals(p_percent, 2, 'percent_fee');
    PERFORM evently._require_decimals(p_fixed, 2, 'fixed_fee');
    INSERT INTO evently.provider_fees (provider, percent_fee, fixed_fee) VALUES (p_provider, p_percent, p_fixed)
    ON CONFLICT (provider) DO UPDATE SET percent_fee = EXCLUDED.percent_fee, fixed_fee = EXCLUDED.fixed_fee;
    PERFORM evently._audit('provider_fee.set', 'provider_fee', NULL, evently.provider_fee_json(p_provider), actor);
    RETURN evently.provider_fee_json(p_provider);
END
$$;

-- evently.set_provider_fee(provider text, percent_fee numeric, fixed_fee
-- numeric, actor_id uuid DEFAULT NULL) RETURNS jsonb: the SQL API of POST
-- /admin/provider-fees, for a trusted caller or a role linked to an ADMIN
-- (_staff); returns {provider, percent_fee, fixed_fee}.
CREATE OR REPLACE FUNCTION evently.set_provider_fee(provider text, percent_fee numeric, fixed_fee numeric,
                                                    actor_id uuid DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    RETURN evently._set_provider_fee(provider, percent_fee, fixed_fee, evently._staff(actor_id));
END
$$;

-- POST /admin/provider-fees {"provider", "percent_fee", "fixed_fee"}: an
-- ADMIN sets a provider's fee (FORBIDDEN for anyone else); as
-- set_provider_fee.
CREATE OR REPLACE FUNCTION evently.api_admin_provider_fee_set(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := coalesce(req->'body', '{}');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(b, 'provider', 'percent_fee', 'fixed_fee');
    RETURN evently._set_provider_fee(b->>'provider', evently._numeric_arg(b->>'percent_fee', 'percent_fee'),
                                     evently._numeric_arg(b->>'fixed_fee', 'fixed_fee'), actor);
END
$$;

-- GET /admin/provider-fees: every provider's fee, as {provider_fees: [...]}.
CREATE OR REPLACE FUNCTION evently.api_admin_provider_fees(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN jsonb_build_object('provider_fees',
        (SELECT jsonb_agg(evently.provider_fee_json(p) ORDER BY p) FROM unnest(ARRAY['card', 'mock', 'offline']) p));
END
$$;

-- The money of an event's paid orders (paid_at set: those refunded since
-- too, as a refund does not unmake a sale), in total and by provider:
-- gross = their subtotals, discounts = their discounts, fees = their
-- payments' fees, refunds = what their payments gave back (refunds ended
-- REFUNDED, and Evently cancellations of mock and offline orders, which
-- refund in place), net = gross - discounts - fees - refunds;
-- orders_paid and tickets_sold count the orders that issued tickets and
-- those tickets (a late payment refunded instead is money in and out, no
-- sale).  Amounts are JSON numbers with 2 decimals.
CREATE OR REPLACE FUNCTION evently._event_payouts(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH paid AS (
        SELECT o.provider, o.currency, o.subtotal, o.discount_amount,
               (SELECT coalesce(sum(p.fee), 0) FROM evently.payments p WHERE p.order_id = o.id) AS fees,
               -- what went back, by whatever route: the payment's running total
               (SELECT coalesce(sum(p.refund_amount), 0) FROM evently.payments p WHERE p.order_id = o.id) AS refunds,
               -- tickets issued (a late payment refunded instead issued none)
               CASE WHEN o.booking_id IS NOT NULL
                    THEN (SELECT coalesce(sum(i.quantity), 0) FROM evently.order_items i WHERE i.order_id = o.id)
                    ELSE 0 END AS tickets,
               o.booking_id IS NOT NULL AS honoured
          FROM evently.orders o WHERE o.event_id = p_event_id AND o.paid_at IS NOT NULL),
    sums AS (
        SELECT provider, count(*) FILTER (WHERE honoured) AS orders, sum(tickets) AS tickets,
               round(coalesce(sum(subtotal), 0), 2) AS gross, round(coalesce(sum(discount_amount), 0), 2) AS discounts,
               round(coalesce(sum(fees), 0), 2) AS fees, round(coalesce(sum(refunds), 0), 2) AS refunds
          FROM paid GROUP BY GROUPING SETS ((provider), ()))
    SELECT jsonb_build_object(
               'event_id', p_event_id,
               'currency', coalesce((SELECT min(currency) FROM paid), 'INR'),
               'orders_paid', coalesce(t.orders, 0), 'tickets_sold', coalesce(t.tickets, 0),
               'gross', coalesce(t.gross, 0.00), 'discounts', coalesce(t.discounts, 0.00),
               'fees', coalesce(t.fees, 0.00), 'refunds', coalesce(t.refunds, 0.00),
               'net', coalesce(t.gross - t.discounts - t.fees - t.refunds, 0.00),
               'by_provider', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                                  'provider', s.provider, 'orders', s.orders, 'gross', s.gross,
                                                  'discounts', s.discounts, 'fees', s.fees, 'refunds', s.refunds,
                                                  'net', s.gross - s.discounts - s.fees - s.refunds)
                                              ORDER BY s.provider)
                                          FROM sums s WHERE s.provider IS NOT NULL), '[]'))
      FROM (SELECT 1) one LEFT JOIN sums t ON t.provider IS NULL
$$;

-- GET /organizer/events/:eventId/payouts: the event's payout report
-- (_event_payouts) for its organizer or an ADMIN; NOT_FOUND for anyone
-- else, as the other per-event organizer routes (92_organizer_views.sql).
CREATE OR REPLACE FUNCTION evently.api_organizer_event_payouts(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently._event_payouts((evently._readable_event(actor, req->'path'->>'eventId')).id);
END
$$;
