-- Discount codes (55_discounts.sql) and the payout report with provider fees
-- (93_payouts.sql): SPEC section 10, issue 12 items 7 and 8.
-- Self-contained: its own ADMIN, two verified organizers, events, ticket
-- tiers inserted directly, and for the payouts orders, payments and refunds
-- inserted directly as the superuser (inside a transaction rolled back at
-- the end), so that the arithmetic is checked whatever the order routes do.
SET client_min_messages = warning;
SET TimeZone = 'UTC';

-- The cast --------------------------------------------------------------------
SELECT t.remember('dc_admin', evently.create_user('dc-admin@example.com', 'qwerty', 'Dora', 'Admin', 'ADMIN'));
SELECT t.remember('dc_org1', evently.create_user('dc-org1@example.com', 'qwerty', 'Otis', 'One'));
SELECT t.remember('dc_org2', evently.create_user('dc-org2@example.com', 'qwerty', 'Orla', 'Two'));
SELECT t.remember('dc_user', evently.create_user('dc-user@example.com', 'qwerty', 'Ugo', 'User'));
SELECT count(*) AS verified
  FROM (VALUES ('dc_org1', 'Otis Live'), ('dc_org2', 'Orla Shows')) v(who, name),
       LATERAL evently.api_admin_organizer_verify(t.id('dc_admin'), t.req(
           path => jsonb_build_object('id', evently.api_organizer_apply(t.id(v.who), t.req(
                       body => jsonb_build_object('organization_name', v.name))) ->> 'id'),
           body => '{"decision": "VERIFIED"}')) d
 WHERE d ->> 'verification_status' = 'VERIFIED';
SELECT t.remember('dc_hall', evently.create_venue_template('DC Hall'));
SELECT t.remember('dc_main', evently.add_section(t.id('dc_hall'), 'Main', 'A', 'A', 4));
CREATE FUNCTION t.dc_event(label text, org text, name text) RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label, (evently.api_organizer_event_create(t.id(org), t.req(body => jsonb_build_object(
               'name', name, 'venue', 'DC Hall', 'venue_template_id', t.id('dc_hall'),
               'date_time', now() + interval '30 days', 'base_price', 40))) ->> 'id')::uuid)
$$;
SELECT t.dc_event('dc_show', 'dc_org1', 'Otis Unplugged');
SELECT t.dc_event('dc_rival', 'dc_org2', 'Orla Outdoors');
-- a cancelled event of organizer 1
SELECT t.dc_event('dc_gone', 'dc_org1', 'Otis Gone');
SELECT evently.api_event_submit(t.id('dc_org1'), t.req(path => t.ev('dc_gone'))) ->> 'status' AS submitted,
       evently.api_admin_event_approve(t.id('dc_admin'), t.req(path => t.ev('dc_gone'))) ->> 'status' AS approved,
       evently.api_event_cancel(t.id('dc_org1'), t.req(path => t.ev('dc_gone'),
                                body => '{"reason": "storm"}')) ->> 'status' AS cancelled;
-- ticket tiers (their own routes are another concern's: inserted here)
CREATE FUNCTION t.dc_tier(label text, ev text, name text, price numeric) RETURNS text LANGUAGE sql AS $$
    INSERT INTO evently.ticket_tiers (event_id, name, price, total_quantity) VALUES (t.id(ev), name, price, 100)
    RETURNING t.remember(label, id)
$$;
SELECT t.dc_tier('dc_ga', 'dc_show', 'General', 25.00), t.dc_tier('dc_vip', 'dc_show', 'VIP', 99.99),
       t.dc_tier('dc_rival_ga', 'dc_rival', 'General', 30.00);

-- POST /events/:eventId/discount-codes ---------------------------------------
CREATE FUNCTION t.dc_create(who text, ev text, body jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_discount_code_create(t.id(who), t.req(path => t.ev(ev), body => body))
$$;
CREATE FUNCTION t.dc_refusal(who text, ev text, body jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT t.try(format('SELECT t.dc_create(%L, %L, %L)', who, ev, body))
$$;
-- a code as the API shows it, ids and times as labels
CREATE FUNCTION t.dc_show(d jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT t.scrub((d - 'created_at' - 'updated_at' - 'valid_from' - 'valid_to')::text)
           || ' window ' || coalesce(d ->> 'valid_from', '-') || ' .. ' || coalesce(d ->> 'valid_to', '-')
$$;
-- percent, any case (stored upper-case), limited, windowed
SELECT t.remember('dc_save10', (d ->> 'id')::uuid), t.dc_show(d),
       (d ->> 'created_at')::timestamptz = now() AS created_now
  FROM t.dc_create('dc_org1', 'dc_show', jsonb_build_object(
           'code', 'Save10', 'percent_off', 10, 'max_uses', 3,
           'valid_from', '2020-01-01T00:00:00Z', 'valid_to', '2999-12-31T23:59:59+05:30')) d;
-- a fixed amount for the whole order, no limit; and one for VIP tickets only
SELECT t.remember('dc_flat', (d ->> 'id')::uuid), t.dc_show(d)
  FROM t.dc_create('dc_org1', 'dc_show', '{"code": "flat-5_off", "amount_off": 5.00}') d;
SELECT t.remember('dc_viponly', (d ->> 'id')::uuid), t.dc_show(d)
  FROM t.dc_create('dc_org1', 'dc_show', jsonb_build_object(
           'code', 'VIPONLY', 'percent_off', 15, 'tier_ids', jsonb_build_array(t.id('dc_vip'), t.id('dc_vip')))) d;
-- an ADMIN may make one for any event
SELECT t.dc_show(t.dc_create('dc_admin', 'dc_show', '{"code": "STAFF", "percent_off": 100, "max_uses": 1}')) AS by_admin;
-- each creation wrote discount.created and its audit row
SELECT o.type, t.scrub(o.user_id::text) AS for_user, o.data ->> 'code' AS code, a.action,
       t.scrub(a.actor_id::text) AS actor, a.object_type, t.scrub(a.object_id::text) AS object
  FROM evently.outbox o
  JOIN evently.audit_log a ON a.action = o.type AND a.object_id = (o.data ->> 'id')::uuid
 WHERE o.event_id = t.id('dc_show') AND o.aggregate = 'discount'
 ORDER BY o.id;

-- refusals, in our words: the code's characters
SELECT c AS code, t.dc_refusal('dc_org1', 'dc_show', jsonb_build_object('code', c, 'percent_off', 5)) AS refusal
  FROM unnest(ARRAY['AB', 'bad code', 'NO!', 'ÄBC', repeat('X', 41), '']) c;
SELECT t.dc_refusal('dc_org1', 'dc_show', '{"code": 12345, "percent_off": 5}') AS numeric_code,
       t.dc_refusal('dc_org1', 'dc_show', '{"percent_off": 5}') AS no_code;
-- exactly one of percent_off and amount_off, each in range with 2 decimals
SELECT b, t.dc_refusal('dc_org1', 'dc_show', b) AS refusal
  FROM unnest(ARRAY['{"code": "BOTH", "percent_off": 5, "amount_off": 5}',
                    '{"code": "NEITHER"}',
                    '{"code": "NULLS", "percent_off": null, "amount_off": null}',
                    '{"code": "OVER", "percent_off": 100.01}',
                    '{"code": "ZERO", "percent_off": 0}',
                    '{"code": "NEG", "percent_off": -5}',
                    '{"code": "FINE", "percent_off": 10.005}',
                    '{"code": "NOAMOUNT", "amount_off": 0}',
                    '{"code": "HUGE", "amount_off": 1000000000.01}',
                    '{"code": "CENTS", "amount_off": 1.234}',
                    '{"code": "WORDS", "amount_off": "ten"}',
                    '{"code": "UNUSED", "percent_off": 5, "max_uses": 0}',
                    '{"code": "HALF", "percent_off": 5, "max_uses": 1.5}']::jsonb[]) b;
-- the window: valid_to after valid_from, both RFC 3339 times
SELECT b, t.dc_refusal('dc_org1', 'dc_show', b) AS refusal
  FROM unnest(ARRAY['{"code": "BACKWARDS", "percent_off": 5, "valid_from": "2030-01-02T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}',
                    '{"code": "INSTANT", "percent_off": 5, "valid_from": "2030-01-01T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}',
                    '{"code": "NOZONE", "percent_off": 5, "valid_from": "2030-01-01 00:00"}',
                    '{"code": "FEB30", "percent_off": 5, "valid_to": "2030-02-30T00:00:00Z"}']::jsonb[]) b;
-- tiers: the event's own, as a non-empty array of uuids
SELECT what, t.dc_refusal('dc_org1', 'dc_show', jsonb_build_object('code', 'TIERS', 'percent_off', 5, 'tier_ids', tiers)) AS refusal
  FROM (VALUES ('unknown tier', jsonb_build_array(t.id('dc_ga'), gen_random_uuid())),
               ('another event''s tier', jsonb_build_array(t.id('dc_rival_ga'))),
               ('empty', '[]'::jsonb), ('not an array', to_jsonb(t.id('dc_ga'))),
               ('not a uuid', '["vip"]'::jsonb), ('a number', '[7]'::jsonb)) v(what, tiers);
-- a code the event has, in any case
SELECT t.dc_refusal('dc_org1', 'dc_show', '{"code": "save10", "amount_off": 1}') AS duplicate;
-- the same code on another event is another code
SELECT t.dc_show(t.dc_create('dc_org2', 'dc_rival', '{"code": "SAVE10", "amount_off": 3}')) AS rival_save10;
-- someone else's event, a USER, no such event: NOT_FOUND, as a read
SELECT t.dc_refusal('dc_org2', 'dc_show', '{"code": "MINE", "percent_off": 5}') AS other_organizer,
       t.dc_refusal('dc_user', 'dc_show', '{"code": "MINE", "percent_off": 5}') AS a_user;
SELECT t.try($$SELECT evently.api_discount_code_create(t.id('dc_org1'), t.req(path => jsonb_build_object('eventId', gen_random_uuid()),
                                                                              body => '{"code": "MINE", "percent_off": 5}'))$$) AS no_event,
       t.try($$SELECT evently.api_discount_code_create(t.id('dc_org1'), t.req(path => '{"eventId": "show"}',
                                                                              body => '{"code": "MINE", "percent_off": 5}'))$$) AS bad_id;
-- an unknown field; a cancelled event sells nothing more
SELECT t.dc_refusal('dc_org1', 'dc_show', '{"code": "MINE", "percent_off": 5, "min_order": 10}') AS unknown_field,
       t.dc_refusal('dc_org1', 'dc_gone', '{"code": "MINE", "percent_off": 5}') AS cancelled_event;
-- nothing was made by the refusals
SELECT e.name, string_agg(d.code, ' ' ORDER BY d.code) AS codes
  FROM evently.discount_codes d JOIN evently.events e ON e.id = d.event_id
 WHERE d.event_id IN (t.id('dc_show'), t.id('dc_rival'), t.id('dc_gone')) GROUP BY 1 ORDER BY 1;

-- GET /events/:eventId/discount-codes ----------------------------------------
CREATE FUNCTION t.dc_list(who text, ev text, query jsonb DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
    SELECT (SELECT string_agg(c ->> 'code', ' ' ORDER BY n) FROM jsonb_array_elements(d -> 'discount_codes') WITH ORDINALITY x(c, n))
           || format(' (total %s, limit %s, offset %s)', d ->> 'total_count', d ->> 'limit', d ->> 'offset')
      FROM evently.api_discount_codes_list(t.id(who), t.req(path => t.ev(ev), query => query)) d
$$;
SELECT t.dc_list('dc_org1', 'dc_show') AS organizer, t.dc_list('dc_admin', 'dc_show') AS admin,
       t.dc_list('dc_org1', 'dc_show', '{"limit": "2", "offset": "1"}') AS page,
       t.dc_list('dc_org2', 'dc_rival') AS rival;
SELECT (d -> 'discount_codes' -> 0) = evently.discount_code_json(t.id('dc_save10')) AS listed_as_shown
  FROM evently.api_discount_codes_list(t.id('dc_org1'), t.req(path => t.ev('dc_show'))) d;
SELECT t.try($$SELECT t.dc_list('dc_org2', 'dc_show')$$) AS other_organizer,
       t.try($$SELECT t.dc_list('dc_user', 'dc_show')$$) AS a_user,
       t.try($$SELECT t.dc_list('dc_org1', 'dc_show', '{"limit": "0"}')$$) AS bad_limit;

-- _claim_discount: what order creation calls ----------------------------------
-- items as the order has them: (tier label or NULL for a seat, quantity, unit price)
CREATE FUNCTION t.dc_items(VARIADIC items text[]) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'tier_id', t.id(nullif(split_part(i, ' ', 1), 'seat')),
               'section_id', CASE WHEN split_part(i, ' ', 1) = 'seat' THEN t.id('dc_main') END,
               'quantity', split_part(i, ' ', 2)::int, 'unit_price', split_part(i, ' ', 3)::numeric) ORDER BY n), '[]')
      FROM unnest(items) WITH ORDINALITY u(i, n)
$$;
CREATE FUNCTION t.dc_claim(code text, items jsonb, ev text DEFAULT 'dc_show') RETURNS text LANGUAGE sql AS $$
    SELECT t.scrub(d ->> 'discount_code_id') || ' ' || (d ->> 'code') || ' off ' || (d ->> 'discount_amount')
           || ' per item ' || (d ->> 'item_discounts')
      FROM evently._claim_discount(t.id(ev), code, items) d
$$;
CREATE FUNCTION t.dc_claim_refusal(code text, items jsonb, ev text DEFAULT 'dc_show') RETURNS text LANGUAGE sql AS $$
    SELECT t.try(format('SELECT evently._claim_discount(t.id(%L), %L, %L)', ev, code, items))
$$;
CREATE FUNCTION t.dc_uses(label text) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s used %s of %s, %s left', code, used_count, coalesce(max_uses::text, 'unlimited'),
                  coalesce((max_uses - used_count)::text, 'unlimited'))
      FROM evently.discount_codes WHERE id = t.id(label)
$$;
-- percent_off on each eligible item, half-up to cents: 10 % of 3 x 33.35 =
-- 10.005 -> 10.01, of 1 x 0.05 = 0.005 -> 0.01; the code in any case
SELECT t.dc_claim(' save10 ', t.dc_items('dc_ga 3 33.35', 'dc_vip 1 0.05', 'seat 2 40.00')) AS percent;
SELECT t.dc_uses('dc_save10');
-- a tier-limited code: only the VIP line; 15 % of 3 x 33.30 = 14.985 -> 14.99
SELECT t.dc_claim('VIPONLY', t.dc_items('dc_ga 2 25.00', 'dc_vip 3 33.30', 'seat 1 40.00')) AS vip_only;
-- 100 % is the whole order
SELECT t.dc_claim('staff', t.dc_items('dc_ga 2 25.00', 'seat 1 40.00')) AS everything;
-- amount_off spread in proportion: 10.00 over three equal lines is 3.33 +
-- 3.34 + 3.33 (rounded on the running total), summing exactly to 10.00
UPDATE evently.discount_codes SET amount_off = 10.00 WHERE id = t.id('dc_flat');
SELECT t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 1 10.00', 'dc_vip 1 10.00', 'seat 1 10.00')) AS spread;
-- 10.00 over 25.00 + 99.99 x 2 + 40.00 x 3 (345.98): proportional shares
SELECT t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 1 25.00', 'dc_vip 2 99.99', 'seat 3 40.00')) AS proportional;
-- 0.05 over seven lines of 1.00: no share below zero (the last line's share
-- is what rounding left), the sum exact
UPDATE evently.discount_codes SET amount_off = 0.05 WHERE id = t.id('dc_flat');
SELECT t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 1 1.00', 'dc_ga 1 1.00', 'dc_ga 1 1.00', 'dc_ga 1 1.00',
                                           'dc_ga 1 1.00', 'dc_ga 1 1.00', 'dc_ga 1 1.00')) AS tiny;
-- capped at the eligible subtotal: 10.00 off an order of 4.00; a free ticket costs nothing
UPDATE evently.discount_codes SET amount_off = 10.00 WHERE id = t.id('dc_flat');
SELECT t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 1 1.50', 'seat 1 2.50')) AS capped,
       t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 2 0.00')) AS free;
-- amount_off on a tier-limited code spreads over that tier's lines only
UPDATE evently.discount_codes SET percent_off = NULL, amount_off = 50.00 WHERE id = t.id('dc_viponly');
SELECT t.dc_claim('VIPONLY', t.dc_items('dc_vip 1 99.99', 'dc_ga 4 25.00', 'dc_vip 2 10.00')) AS vip_amount;
UPDATE evently.discount_codes SET percent_off = 15, amount_off = NULL WHERE id = t.id('dc_viponly');
-- whatever the order: the shares sum exactly to the discount, which is the
-- lesser of amount_off and the eligible subtotal, and no share is below
-- zero or above its line (500 random orders of 1-8 lines, random amounts)
SELECT setseed(0.18);
CREATE TABLE t.dc_random AS
    SELECT k, jsonb_agg(jsonb_build_object('tier_id', CASE WHEN random() < 0.3 THEN NULL ELSE t.id('dc_vip') END,
                                           'quantity', 1 + floor(random() * 4)::int,
                                           'unit_price', round((random() * random() * 200)::numeric, 2))) AS items,
           round((0.01 + random() * 150)::numeric, 2) AS amount_off
      FROM generate_series(1, 500) k, LATERAL generate_series(1, 1 + (k * 7919) % 8) l GROUP BY k;
UPDATE evently.discount_codes SET tier_ids = ARRAY[t.id('dc_vip')] WHERE id = t.id('dc_flat');
CREATE FUNCTION t.dc_spread_ok(items jsonb, amount_off numeric) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
BEGIN
    UPDATE evently.discount_codes SET amount_off = dc_spread_ok.amount_off WHERE id = t.id('dc_flat');
    d := evently._claim_discount(t.id('dc_show'), 'FLAT-5_OFF', items);
    RETURN (SELECT bool_and(s.v::numeric >= 0 AND s.v::numeric <= (i ->> 'quantity')::int * (i ->> 'unit_price')::numeric
                            AND (i ->> 'tier_id' IS NOT NULL OR s.v::numeric = 0))
                   AND sum(s.v::numeric) = (d ->> 'discount_amount')::numeric
                   AND (d ->> 'discount_amount')::numeric
                       = least(amount_off, sum((i ->> 'quantity')::int * (i ->> 'unit_price')::numeric)
                                            FILTER (WHERE i ->> 'tier_id' IS NOT NULL))
              FROM jsonb_array_elements_text(d -> 'item_discounts') WITH ORDINALITY s(v, n)
              JOIN jsonb_array_elements(items) WITH ORDINALITY x(i, m) ON m = n);
EXCEPTION WHEN OTHERS THEN
    -- an order of seats only: the code applies to none of its lines
    RETURN SQLERRM = 'discount code does not apply'
           AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(items) i WHERE i ->> 'tier_id' IS NOT NULL);
END
$$;
SELECT count(*) AS orders, count(*) FILTER (WHERE t.dc_spread_ok(items, amount_off)) AS exact FROM t.dc_random;
UPDATE evently.discount_codes SET tier_ids = NULL, amount_off = 5.00, used_count = 0 WHERE id = t.id('dc_flat');

-- max_uses: SAVE10 was claimed once; two more, then it is used up
SELECT t.dc_claim('SAVE10', t.dc_items('dc_ga 1 20.00')) AS second,
       t.dc_claim('SAVE10', t.dc_items('dc_ga 1 20.00')) AS third;
SELECT t.dc_uses('dc_save10');
SELECT t.dc_claim_refusal('SAVE10', t.dc_items('dc_ga 1 20.00')) AS exhausted;
-- an order that expires or fails gives its use back
SELECT evently._release_discount(t.id('dc_save10'));
SELECT t.dc_uses('dc_save10');
SELECT t.dc_claim('SAVE10', t.dc_items('dc_ga 1 20.00')) AS claimed_again;
SELECT t.dc_claim_refusal('SAVE10', t.dc_items('dc_ga 1 20.00')) AS exhausted_again;
-- never below zero; no code, nothing to give back
SELECT evently._release_discount(t.id('dc_flat')), evently._release_discount(t.id('dc_flat')),
       evently._release_discount(NULL);
SELECT t.dc_uses('dc_flat');
-- every other reason a code is unavailable
SELECT t.dc_create('dc_org1', 'dc_show', '{"code": "SOON", "percent_off": 5, "valid_from": "2999-01-01T00:00:00Z"}') IS NOT NULL AS soon,
       t.dc_create('dc_org1', 'dc_show', '{"code": "PAST", "percent_off": 5, "valid_from": "2020-01-01T00:00:00Z", "valid_to": "2021-01-01T00:00:00Z"}') IS NOT NULL AS past,
       t.dc_create('dc_org1', 'dc_show', '{"code": "EDGE", "percent_off": 5}') IS NOT NULL AS edge;
SELECT reason, t.dc_claim_refusal(code, t.dc_items('dc_ga 1 20.00', 'seat 1 40.00'), ev) AS refusal
  FROM (VALUES ('unknown code', 'NOPE', 'dc_show'), ('another event''s code', 'STAFF', 'dc_rival'),
               ('not yet valid', 'SOON', 'dc_show'), ('expired', 'PAST', 'dc_show')) v(reason, code, ev);
-- the window's edges, at this transaction's now(): valid_from is included, valid_to is not
BEGIN;
UPDATE evently.discount_codes SET valid_from = now() WHERE code = 'EDGE';
SELECT t.dc_claim('EDGE', t.dc_items('dc_ga 1 20.00')) AS from_now;
UPDATE evently.discount_codes SET valid_from = NULL, valid_to = now() WHERE code = 'EDGE';
SELECT t.dc_claim_refusal('EDGE', t.dc_items('dc_ga 1 20.00')) AS until_now;
ROLLBACK;
SELECT t.dc_claim_refusal('VIPONLY', t.dc_items('dc_ga 2 25.00', 'seat 1 40.00')) AS not_for_these_tickets,
       t.dc_claim_refusal('FLAT-5_OFF', '[]') AS no_items;
-- a NULL code is no discount and locks nothing
SELECT evently._claim_discount(t.id('dc_show'), NULL, t.dc_items('dc_ga 1 20.00')) IS NULL AS no_code;
-- the refusals took no use
SELECT t.dc_uses(label) FROM unnest(ARRAY['dc_save10', 'dc_viponly']) label;

-- PUT /discount-codes/:id -----------------------------------------------------
CREATE FUNCTION t.dc_update(who text, code text, body jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_discount_code_update(t.id(who), t.req(path => jsonb_build_object('id', t.id(code)), body => body))
$$;
CREATE FUNCTION t.dc_update_refusal(who text, code text, body jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT t.try(format('SELECT t.dc_update(%L, %L, %L)', who, code, body))
$$;
-- deactivated: refused at order time; active again: usable
SELECT t.dc_show(t.dc_update('dc_org1', 'dc_flat', '{"is_active": false}')) AS deactivated;
SELECT t.dc_claim_refusal('FLAT-5_OFF', t.dc_items('dc_ga 1 20.00')) AS inactive;
SELECT t.dc_update('dc_admin', 'dc_flat', '{"is_active": true}') ->> 'is_active' AS reactivated_by_admin,
       t.dc_claim('FLAT-5_OFF', t.dc_items('dc_ga 1 20.00')) AS usable;
-- more uses for an exhausted code; then no limit; the window moved and opened
SELECT t.dc_show(t.dc_update('dc_org1', 'dc_save10', '{"max_uses": 4}')) AS more_uses;
SELECT t.dc_claim('SAVE10', t.dc_items('dc_ga 1 20.00')) AS fourth;
SELECT t.dc_show(t.dc_update('dc_org1', 'dc_save10', '{"max_uses": null, "valid_from": "2025-06-01T00:00:00Z"}')) AS unlimited;
SELECT t.dc_show(t.dc_update('dc_org1', 'dc_save10', '{"valid_from": null, "valid_to": null}')) AS open_window;
-- refusals: below the uses orders hold, a window backwards, bad fields,
-- someone else's code, no such code
SELECT b, t.dc_update_refusal('dc_org1', 'dc_save10', b) AS refusal
  FROM unnest(ARRAY['{"max_uses": 3}', '{"max_uses": 0}', '{"max_uses": -1}', '{"max_uses": "many"}',
                    '{"valid_from": "2030-01-02T00:00:00Z", "valid_to": "2030-01-01T00:00:00Z"}',
                    '{"is_active": null}', '{"is_active": "no"}', '{"code": "RENAMED"}',
                    '{"valid_to": "tomorrow"}']::jsonb[]) b;
SELECT t.dc_update_refusal('dc_org2', 'dc_save10', '{"is_active": false}') AS other_organizer,
       t.dc_update_refusal('dc_user', 'dc_save10', '{"is_active": false}') AS a_user,
       t.try($$SELECT evently.api_discount_code_update(t.id('dc_org1'), t.req(path => jsonb_build_object('id', gen_random_uuid()),
                                                                              body => '{"is_active": false}'))$$) AS no_code,
       t.try($$SELECT evently.api_discount_code_update(t.id('dc_org1'), t.req(path => '{"id": "x"}', body => '{}'))$$) AS bad_id;
SELECT t.dc_uses('dc_save10');
SELECT type, count(*) FROM evently.outbox WHERE event_id = t.id('dc_show') AND aggregate = 'discount' GROUP BY 1 ORDER BY 1;

-- Provider fees and payouts: in a transaction rolled back at the end, so that
-- the files after this one find no fee contract and no orders of ours
BEGIN;

-- Provider fees -----------------------------------------------------------------
SELECT evently.set_provider_fee('card', 2.90, 0.30) AS card,
       evently.api_admin_provider_fee_set(t.id('dc_admin'), t.req(body => '{"provider": "mock", "percent_fee": 1.5, "fixed_fee": 0}')) AS mock;
SELECT evently.set_provider_fee('mock', 1.00, 0.10, t.id('dc_admin')) AS replaced;
SELECT evently.api_admin_provider_fees(t.id('dc_admin'), t.req()) AS fees;
SELECT action, t.scrub(actor_id::text) AS actor, details FROM evently.audit_log
 WHERE action = 'provider_fee.set' AND occurred_at >= now() ORDER BY id;
SELECT b, t.try(format('SELECT evently.api_admin_provider_fee_set(t.id(%L), t.req(body => %L))', 'dc_admin', b)) AS refusal
  FROM unnest(ARRAY['{"provider": "paypal", "percent_fee": 1, "fixed_fee": 0}',
                    '{"provider": "card", "percent_fee": 100.5, "fixed_fee": 0}',
                    '{"provider": "card", "percent_fee": 1.234, "fixed_fee": 0}',
                    '{"provider": "card", "percent_fee": 1, "fixed_fee": -1}',
                    '{"provider": "card", "percent_fee": 1, "fixed_fee": 0.001}',
                    '{"provider": "card", "percent_fee": 1}',
                    '{"provider": "card", "percent_fee": "x", "fixed_fee": 0}',
                    '{"provider": "card", "percent_fee": 1, "fixed_fee": 0, "currency": "EUR"}']::jsonb[]) b;
SELECT t.try($$SELECT evently.api_admin_provider_fee_set(t.id('dc_org1'), t.req(body => '{"provider": "card", "percent_fee": 0, "fixed_fee": 0}'))$$) AS organizer,
       t.try($$SELECT evently.api_admin_provider_fees(t.id('dc_user'), t.req())$$) AS a_user;
-- a payment's fee: percent + fixed, to cents, never above the amount; 0 without a contract
SELECT p, a, evently._payment_fee(p, a) AS fee
  FROM (VALUES ('card', 100.00), ('card', 90.00), ('card', 0.25), ('card', 0.00), ('mock', 33.33),
               ('offline', 50.00)) v(p, a);

-- GET /organizer/events/:eventId/payouts ------------------------------------------
-- an order of dc_show as the order routes leave it: its hold (and booking
-- when paid), items, payment with its fee, and refunds
CREATE FUNCTION t.dc_order(label text, provider text, status text, quantity int, unit_price numeric,
                           discount numeric, paid boolean, refunds text[] DEFAULT '{}') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    h uuid;
    b uuid;
    o uuid;
    pay uuid;
    total numeric := quantity * unit_price - discount;
    r text;
BEGIN
    INSERT INTO evently.holds (event_id, user_id, status, seat_count, total_price, expires_at)
    VALUES (t.id('dc_show'), t.id('dc_user'), CASE WHEN paid THEN 'CONFIRMED' ELSE 'EXPIRED' END, quantity, total,
            now() + interval '10 minutes')
    RETURNING id INTO h;
    IF status = 'PAID' THEN
        INSERT INTO evently.bookings (user_id, event_id, hold_id, total_seats, total_price, booking_ref)
        VALUES (t.id('dc_user'), t.id('dc_show'), h, quantity, total,
                'EVT-20261129-' || translate(upper(left(md5(label), 6)), '0123456789', 'GHIJKLMNOP'))
        RETURNING id INTO b;
    END IF;
    INSERT INTO evently.orders (user_id, event_id, hold_id, booking_id, status, provider, subtotal, discount_amount,
                                total_amount, expires_at, paid_at)
    VALUES (t.id('dc_user'), t.id('dc_show'), h, b, status, provider, quantity * unit_price, discount, total,
            now() + interval '10 minutes', CASE WHEN paid THEN now() END)
    RETURNING id INTO o;
    INSERT INTO evently.order_items (order_id, item_no, tier_id, quantity, unit_price, discount)
    VALUES (o, 1, t.id('dc_ga'), quantity, unit_price, discount);
    INSERT INTO evently.payments (order_id, booking_id, provider, amount, status, payment_method, transaction_id, fee)
    VALUES (o, b, provider, total, CASE WHEN paid THEN 'COMPLETED' ELSE 'PENDING' END, provider, 'txn-' || label,
            CASE WHEN paid THEN evently._payment_fee(provider, total) ELSE 0 END)
    RETURNING id INTO pay;
    -- refunds as 'STATUS amount'
    FOREACH r IN ARRAY refunds LOOP
        INSERT INTO evently.refunds (order_id, payment_id, amount, reason, status)
        VALUES (o, pay, split_part(r, ' ', 2)::numeric, 'test', split_part(r, ' ', 1));
    END LOOP;
    -- the payment's running total of what went back, as _finish_refund keeps it
    UPDATE evently.payments
       SET refund_amount = (SELECT sum(x.amount) FROM evently.refunds x WHERE x.order_id = o AND x.status = 'REFUNDED')
     WHERE id = pay;
    RETURN t.remember(label, o);
END
$$;
-- paid by card, 4 x 25.00 less 10.00, fee 2.9 % of 90.00 + 0.30 = 2.91; one
-- refund done (20.00), one asked (not yet money), one rejected
SELECT t.dc_order('dc_o_card', 'card', 'PAID', 4, 25.00, 10.00, true,
                  ARRAY['REFUNDED 20.00', 'REQUESTED 5.00', 'REJECTED 7.00']);
-- paid offline (no fee contract), 2 x 25.00
SELECT t.dc_order('dc_o_offline', 'offline', 'PAID', 2, 25.00, 0, true);
-- paid by card after its hold lapsed, refunded in full automatically: money
-- in and out (gross 40.00, fee 1.46, refund 40.00) but no sale, so neither
-- an order paid nor a ticket sold
SELECT t.dc_order('dc_o_late', 'card', 'REFUNDED', 1, 40.00, 0, true, ARRAY['REFUNDED 40.00']);
-- mock, 3 x 25.00 less 7.50, fee 1 % of 67.50 + 0.10 = 0.78, a refund still on its way
SELECT t.dc_order('dc_o_mock', 'mock', 'PAID', 3, 25.00, 7.50, true, ARRAY['REFUNDING 10.00']);
-- never paid: pending, expired, failed: none counts
SELECT t.dc_order('dc_o_pending', 'card', 'PENDING', 2, 25.00, 0, false),
       t.dc_order('dc_o_expired', 'offline', 'EXPIRED', 5, 25.00, 0, false),
       t.dc_order('dc_o_failed', 'card', 'FAILED', 1, 25.00, 0, false);
SELECT t.scrub(label) AS o, p.fee FROM t.ids JOIN evently.payments p ON p.order_id = ids.id
 WHERE label LIKE 'dc\_o\_%' ORDER BY 1;
CREATE FUNCTION t.dc_payouts(who text, ev text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_organizer_event_payouts(t.id(who), t.req(path => t.ev(ev)))
$$;
SELECT t.scrub(d ->> 'event_id') AS event, d ->> 'currency' AS currency, d -> 'orders_paid' AS orders_paid,
       d -> 'tickets_sold' AS tickets_sold, d -> 'gross' AS gross, d -> 'discounts' AS discounts, d -> 'fees' AS fees,
       d -> 'refunds' AS refunds, d -> 'net' AS net
  FROM t.dc_payouts('dc_org1', 'dc_show') d;
SELECT p FROM t.dc_payouts('dc_org1', 'dc_show') d, jsonb_array_elements(d -> 'by_provider') p;
-- the same figures counted another way: per provider, from the rows
SELECT o.provider, count(*) AS orders, sum(o.subtotal) AS gross, sum(o.discount_amount) AS discounts,
       sum(p.fee) AS fees, coalesce(sum(r.refunded), 0) AS refunds,
       sum(o.subtotal) - sum(o.discount_amount) - sum(p.fee) - coalesce(sum(r.refunded), 0) AS net
  FROM evently.orders o JOIN evently.payments p ON p.order_id = o.id
  LEFT JOIN (SELECT order_id, sum(amount) AS refunded FROM evently.refunds WHERE status = 'REFUNDED' GROUP BY 1) r
    ON r.order_id = o.id
 WHERE o.event_id = t.id('dc_show') AND o.paid_at IS NOT NULL GROUP BY 1 ORDER BY 1;
-- an ADMIN sees the same; an event without paid orders is all zeros
SELECT t.dc_payouts('dc_admin', 'dc_show') = t.dc_payouts('dc_org1', 'dc_show') AS admin_same,
       t.scrub(t.dc_payouts('dc_org2', 'dc_rival')::text) AS nothing_sold;
-- someone else's event, a USER, no such event
SELECT t.try($$SELECT t.dc_payouts('dc_org2', 'dc_show')$$) AS other_organizer,
       t.try($$SELECT t.dc_payouts('dc_user', 'dc_show')$$) AS a_user,
       t.try($$SELECT evently.api_organizer_event_payouts(t.id('dc_org1'), t.req(path => jsonb_build_object('eventId', gen_random_uuid())))$$) AS no_event;
ROLLBACK;

SELECT t.counters_agree() AS counters_agree, t.catalogs_agree() AS catalogs_agree;
