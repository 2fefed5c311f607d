-- Ticket tiers (48_tiers.sql, issue 12 part 1): an organizer's tiers made,
-- read, changed and deleted; every refusal with its SQLSTATE, message and
-- detail; the figures a read shows (units held, lapsed, sold: set here on
-- the units directly, as the reservation engine will); on_sale by the
-- event and the tier's window; drafts invisible; event reads and the
-- dashboard showing the tiers.  Self-contained: its own ADMIN, two
-- verified organizers and a buyer.
SET client_min_messages = warning;
SET TimeZone = 'UTC';

-- The cast --------------------------------------------------------------------
SELECT t.remember('tr_admin', evently.create_user('tr-admin@example.com', 'qwerty', 'Tess', 'Admin', 'ADMIN'));
SELECT t.remember('tr_org1', evently.create_user('tr-org1@example.com', 'qwerty', 'Tom', 'One'));
SELECT t.remember('tr_org2', evently.create_user('tr-org2@example.com', 'qwerty', 'Tina', 'Two'));
SELECT t.remember('tr_fan', evently.create_user('tr-fan@example.com', 'qwerty', 'Fay', 'Fan'));
SELECT t.remember(label, (evently.api_organizer_apply(t.id(who), t.req(body => jsonb_build_object(
           'organization_name', name))) ->> 'id')::uuid)
  FROM (VALUES ('tr_app1', 'tr_org1', 'Tom Live'), ('tr_app2', 'tr_org2', 'Tina Shows')) v(label, who, name);
SELECT d ->> 'verification_status' AS status
  FROM (VALUES ('tr_app1'), ('tr_app2')) v(label),
       LATERAL evently.api_admin_organizer_verify(t.id('tr_admin'), t.req(path => jsonb_build_object('id', t.id(v.label)),
                                                                          body => '{"decision": "VERIFIED"}')) d;

-- Helpers ---------------------------------------------------------------------
-- an RFC 3339 time, now + i
CREATE FUNCTION t.at(i interval) RETURNS text LANGUAGE sql STABLE
RETURN to_char(now() + i, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
-- an organizer's draft selling tiers only (no venue), days ahead
CREATE FUNCTION t.tr_event(label text, org text, name text, days int) RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label, (evently.api_organizer_event_create(t.id(org), t.req(body => jsonb_build_object(
               'name', name, 'venue', 'Open Air Field', 'date_time', t.at(make_interval(days => days)),
               'base_price', 0, 'category', 'music'))) ->> 'id')::uuid)
$$;
-- POST /events/:eventId/tiers as who
CREATE FUNCTION t.tier_new(who text, event_label text, body jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_event_tier_create(t.id(who), t.req(t.ev(event_label), body => body))
$$;
-- a tier made by who, remembered under label
CREATE FUNCTION t.tier(label text, who text, event_label text, body jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label, (t.tier_new(who, event_label, body) ->> 'id')::uuid)
$$;
-- PUT or DELETE /tiers/:id as who
CREATE FUNCTION t.on_tier(fn text, who text, tier_label text, body jsonb DEFAULT '{}') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb;
BEGIN
    EXECUTE format('SELECT evently.%I($1, $2)', fn) INTO d
      USING t.id(who), t.req(jsonb_build_object('id', coalesce(t.id(tier_label)::text, tier_label)), body => body);
    RETURN d;
END
$$;
-- a tier's figures in one line
CREATE FUNCTION t.figures(d jsonb) RETURNS text LANGUAGE sql IMMUTABLE
RETURN format('%s: %s of %s available, %s held, %s sold, on_sale %s', d ->> 'name', d ->> 'available_quantity',
              d ->> 'total_quantity', d ->> 'held_quantity', d ->> 'sold_quantity', d ->> 'on_sale');
-- a tier's units: how many, their unit numbers, statuses, and whether they
-- all carry the tier's event
CREATE FUNCTION t.units(tier_label text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT format('%s units, unit_no %s..%s, %s, event ok: %s', count(*), min(unit_no), max(unit_no),
                  (SELECT string_agg(s || ' ' || n, ', ' ORDER BY s)
                     FROM (SELECT status AS s, count(*) AS n FROM evently.tier_units
                            WHERE tier_id = t.id(tier_label) GROUP BY 1) x),
                  bool_and(u.event_id = tt.event_id))
      FROM evently.tier_units u JOIN evently.ticket_tiers tt ON tt.id = u.tier_id
     WHERE u.tier_id = t.id(tier_label)
$$;

-- Events: Tom's festival (tiers only) and a later one, Tina's concert in the
-- test hall (seats, no tiers)
SELECT t.tr_event('tr_fest', 'tr_org1', 'Tom''s Festival', 60);
SELECT t.tr_event('tr_spare', 'tr_org1', 'Tom''s Spare Day', 70);
SELECT t.remember('tr_rival', (evently.api_organizer_event_create(t.id('tr_org2'), t.req(body => jsonb_build_object(
           'name', 'Tina''s Concert', 'venue', 'Test Hall', 'venue_template_id', t.id('hall'),
           'date_time', t.at('80 days'), 'base_price', 30))) ->> 'id')::uuid);

-- 1. Creating tiers ----------------------------------------------------------
-- the defaults: min 1, max 10, sort 0, no window; price kept as sent
SELECT d - 'id' - 'event_id' - 'created_at' - 'updated_at' AS general,
       d ->> 'event_id' = t.id('tr_fest')::text AS of_the_event
  FROM t.tier_new('tr_org1', 'tr_fest', '{"name": "General", "price": 49.9, "total_quantity": 100}') d;
SELECT t.remember('tr_general', id) FROM evently.ticket_tiers WHERE name = 'General' AND event_id = t.id('tr_fest');
-- its 100 units in one INSERT: unit_no 1..100, AVAILABLE, the event's
SELECT t.units('tr_general');
-- every field; name trimmed; an ADMIN may add to an organizer's event
SELECT t.figures(d), d ->> 'description' AS description, d ->> 'price' AS price,
       d ->> 'min_per_order' AS min, d ->> 'max_per_order' AS max, d ->> 'sort_order' AS sort,
       (d ->> 'sale_start')::timestamptz > now() AS starts_later, (d ->> 'sale_end')::timestamptz > now() AS ends_later
  FROM t.tier_new('tr_admin', 'tr_fest', jsonb_build_object(
           'name', '  VIP  ', 'description', 'Front of stage', 'price', 120, 'total_quantity', 20,
           'sale_start', t.at('1 day'), 'sale_end', t.at('50 days'), 'min_per_order', 2, 'max_per_order', 4,
           'sort_order', -1)) d;
SELECT t.remember('tr_vip', id) FROM evently.ticket_tiers WHERE name = 'VIP' AND event_id = t.id('tr_fest');
SELECT t.tier('tr_free', 'tr_org1', 'tr_fest', '{"name": "Kids", "price": 0, "total_quantity": 5, "max_per_order": 100}');
-- tier.created with its audit row, for each
-- (the audit row names the tier and who acted; the outbox row carries the tier)
CREATE FUNCTION t.tier_events(tier_label text) RETURNS TABLE (action text, object_type text, actor text, name text,
                                                             in_outbox boolean)
LANGUAGE sql STABLE AS $$
    SELECT a.action, a.object_type, (SELECT label FROM t.ids WHERE id = a.actor_id), a.details ->> 'name',
           EXISTS (SELECT 1 FROM evently.outbox o WHERE o.type = a.action AND o.event_id = a.event_id
                      AND o.data = a.details)
      FROM evently.audit_log a WHERE a.object_id = t.id(tier_label) ORDER BY a.id
$$;
SELECT x.* FROM (VALUES ('tr_general'), ('tr_vip'), ('tr_free')) v(label), LATERAL t.tier_events(v.label) x;

-- 2. Refusals on create --------------------------------------------------------
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": -1, "total_quantity": 1}')$$) AS negative_price;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 10.005, "total_quantity": 1}')$$) AS three_decimals;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": "10", "total_quantity": 1}')$$) AS price_as_text;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 10000000000, "total_quantity": 1}')$$) AS price_too_high;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 0}')$$) AS quantity_0;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1000001}')$$) AS quantity_1000001;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 2.5}')$$) AS quantity_fraction;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "min_per_order": 5, "max_per_order": 2}')$$) AS min_over_max;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "min_per_order": 11}')$$) AS min_over_default_max;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "max_per_order": 101}')$$) AS max_101;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "min_per_order": 0}')$$) AS min_0;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 2, "min_per_order": 5}')$$) AS min_over_total;
SELECT t.try(format($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sale_start": "%s", "sale_end": "%s"}')$$,
                    t.at('5 days'), t.at('4 days'))) AS window_backwards;
SELECT t.try(format($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sale_start": "%s", "sale_end": "%s"}')$$,
                    t.at('5 days'), t.at('5 days'))) AS window_empty;
SELECT t.try(format($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sale_end": "%s"}')$$,
                    t.at('61 days'))) AS ends_after_the_event;
SELECT t.try(format($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sale_start": "%s"}')$$,
                    t.at('61 days'))) AS starts_after_the_event;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sale_start": "tomorrow"}')$$) AS bad_time;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "sort_order": 1000001}')$$) AS sort_too_far;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "   ", "price": 1, "total_quantity": 1}')$$) AS blank_name;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', jsonb_build_object('name', repeat('n', 101), 'price', 1, 'total_quantity', 1))$$) AS long_name;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', jsonb_build_object('name', 'A', 'description', repeat('d', 2001), 'price', 1, 'total_quantity', 1))$$) AS long_description;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1}')$$) AS no_quantity;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1, "colour": "red"}')$$) AS unknown_field;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "General", "price": 1, "total_quantity": 1}')$$) AS duplicate_name;
SELECT t.try($$SELECT t.tier_new('tr_org2', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1}')$$) AS other_organizer;
SELECT t.try($$SELECT t.tier_new('tr_fan', 'tr_fest', '{"name": "A", "price": 1, "total_quantity": 1}')$$) AS a_user;
SELECT t.try($$SELECT evently.api_event_tier_create(t.id('tr_org1'), t.req(jsonb_build_object('eventId', gen_random_uuid()), body => '{"name": "A", "price": 1, "total_quantity": 1}'))$$) AS unknown_event;
SELECT t.try($$SELECT evently.api_event_tier_create(t.id('tr_org1'), t.req('{"eventId": "nope"}', body => '{"name": "A", "price": 1, "total_quantity": 1}'))$$) AS bad_event_id;
SELECT t.try($$SELECT evently.api_event_tier_create(NULL, t.req(t.ev('tr_fest'), body => '{"name": "A", "price": 1, "total_quantity": 1}'))$$) AS nobody;
-- nothing was left behind
SELECT count(*) AS tiers, (SELECT count(*) FROM evently.tier_units WHERE event_id = t.id('tr_fest')) AS units
  FROM evently.ticket_tiers WHERE event_id = t.id('tr_fest');

-- 3. Reading: drafts are invisible ---------------------------------------------
SELECT t.try($$SELECT evently.api_event_tiers(NULL, t.req(t.ev('tr_fest')))$$) AS public_draft;
SELECT t.try($$SELECT evently.api_event_tiers(t.id('tr_fan'), t.req(t.ev('tr_fest')))$$) AS user_draft;
SELECT t.try($$SELECT evently.api_event_tiers(t.id('tr_org2'), t.req(t.ev('tr_fest')))$$) AS other_organizer_draft;
SELECT t.try($$SELECT evently.api_event_tiers(NULL, t.req('{"eventId": "nope"}'))$$) AS bad_event_id;
-- its organizer and ADMINs see them, in sort_order then name; a draft sells nothing
SELECT t.figures(d) FROM jsonb_array_elements(evently.api_event_tiers(t.id('tr_org1'), t.req(t.ev('tr_fest')))) d;
SELECT evently.api_event_tiers(t.id('tr_admin'), t.req(t.ev('tr_fest'))) = evently.event_tiers_json(t.id('tr_fest')) AS admin_sees_them;
SELECT evently.api_event_tiers(t.id('tr_org1'), t.req(t.ev('tr_spare'))) AS none_yet;

-- 4. The lifecycle: tiers count as inventory; under review, cancelled and
-- completed events' tiers do not change --------------------------------------
SELECT t.try($$SELECT evently.api_event_submit(t.id('tr_org1'), t.req(t.ev('tr_spare')))$$) AS submit_without_tiers;
SELECT evently.api_event_submit(t.id('tr_org1'), t.req(t.ev('tr_fest'))) ->> 'status' AS submitted_with_tiers;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_fest', '{"name": "Late", "price": 1, "total_quantity": 1}')$$) AS create_under_review;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"price": 45}')$$) AS update_under_review;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_free')$$) AS delete_under_review;
SELECT evently.api_admin_event_approve(t.id('tr_admin'), t.req(t.ev('tr_fest'))) ->> 'status' AS approved;

-- 5. On sale: the event sells, the window is open, a unit is available ---------
SELECT t.tier('tr_early', 'tr_org1', 'tr_fest', jsonb_build_object('name', 'Early Bird', 'price', 30, 'total_quantity', 10,
                                                                    'sale_start', t.at('-1 day'), 'sale_end', t.at('10 days')));
SELECT t.tier('tr_over', 'tr_org1', 'tr_fest', jsonb_build_object('name', 'Presale', 'price', 25, 'total_quantity', 10,
                                                                   'sale_start', t.at('-2 days'), 'sale_end', t.at('-1 day')));
SELECT t.tier('tr_last', 'tr_org1', 'tr_fest', '{"name": "Last One", "price": 80, "total_quantity": 1, "sort_order": 9}');
-- the public reads the published event's tiers: VIP's window opens tomorrow,
-- the presale's closed yesterday
SELECT t.figures(d) FROM jsonb_array_elements(evently.api_event_tiers(NULL, t.req(t.ev('tr_fest')))) d;
-- the event's reads show the same tiers; an event without tiers shows []
SELECT (evently.api_event_get(NULL, t.req(t.ev('tr_fest'))) -> 'tiers') = evently.event_tiers_json(t.id('tr_fest')) AS event_get_shows_tiers,
       jsonb_array_length(evently.event_json(t.id('tr_fest')) -> 'tiers') AS in_event_json,
       evently.event_json(t.id('tr_rival')) -> 'tiers' AS seats_only_event,
       (SELECT e -> 'tiers' = evently.event_tiers_json(t.id('tr_fest'))
          FROM jsonb_array_elements(evently.api_events_list(NULL, t.req(query => '{"search": "Tom''s Festival"}')) -> 'events') e)
       AS in_the_list;
-- an event's capacity, sales and availability count its tiers' units with its seats
SELECT (j->>'total_capacity')::int - (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('tr_fest'))
         = (SELECT sum(total_quantity) FROM evently.ticket_tiers WHERE event_id = t.id('tr_fest')) AS capacity_counts_units,
       (j->>'available_tickets')::int - (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('tr_fest') AND status = 'AVAILABLE')
         = (SELECT sum((d->>'available_quantity')::int) FROM jsonb_array_elements(j->'tiers') d) AS available_counts_units,
       (SELECT sum(total_quantity) FROM evently.ticket_tiers WHERE event_id = t.id('tr_fest')) AS units
  FROM evently.event_json(t.id('tr_fest')) j;
SELECT evently.tier_json(t.id('tr_general')) = (SELECT d FROM jsonb_array_elements(evently.event_tiers_json(t.id('tr_fest'))) d
                                                 WHERE d ->> 'name' = 'General') AS one_shape;
SELECT evently.tier_json(gen_random_uuid()) IS NULL AS unknown_tier_json;

-- 6. Held, lapsed and sold units (as the reservation engine will set them) -----
-- the fan holds 2 General units (live), another hold of 1 lapsed; a booking
-- of 3 (sold), and the last unit of Last One sold
CREATE FUNCTION t.tr_hold(label text, quantity int, expires interval) RETURNS text LANGUAGE sql AS $$
    WITH h AS (INSERT INTO evently.holds (event_id, user_id, seat_count, total_price, expires_at)
               VALUES (t.id('tr_fest'), t.id('tr_fan'), quantity, quantity * 49.9, now() + expires) RETURNING id)
    SELECT t.remember(label, id) FROM h
$$;
SELECT t.tr_hold('tr_h_live', 2, '10 minutes'), t.tr_hold('tr_h_lapsed', 1, '-1 minute'),
       t.tr_hold('tr_h_sold', 3, '10 minutes'), t.tr_hold('tr_h_last', 1, '10 minutes');
INSERT INTO evently.hold_items (hold_id, tier_id, quantity, unit_price)
VALUES (t.id('tr_h_live'), t.id('tr_general'), 2, 49.9), (t.id('tr_h_lapsed'), t.id('tr_general'), 1, 49.9),
       (t.id('tr_h_sold'), t.id('tr_general'), 3, 49.9), (t.id('tr_h_last'), t.id('tr_last'), 1, 80);
UPDATE evently.holds SET status = 'CONFIRMED' WHERE id IN (t.id('tr_h_sold'), t.id('tr_h_last'));
INSERT INTO evently.bookings (user_id, event_id, hold_id, total_seats, total_price, booking_ref)
VALUES (t.id('tr_fan'), t.id('tr_fest'), t.id('tr_h_sold'), 3, 149.7, 'EVT-20261201-TIERSA'),
       (t.id('tr_fan'), t.id('tr_fest'), t.id('tr_h_last'), 1, 80, 'EVT-20261201-TIERSB');
SELECT t.remember('tr_b_sold', id) FROM evently.bookings WHERE hold_id = t.id('tr_h_sold');
SELECT t.remember('tr_b_last', id) FROM evently.bookings WHERE hold_id = t.id('tr_h_last');
UPDATE evently.tier_units SET status = 'HELD', hold_id = t.id('tr_h_live'), held_until = now() + interval '10 minutes'
 WHERE tier_id = t.id('tr_general') AND unit_no IN (1, 2);
UPDATE evently.tier_units SET status = 'HELD', hold_id = t.id('tr_h_lapsed'), held_until = now() - interval '1 minute'
 WHERE tier_id = t.id('tr_general') AND unit_no = 3;
UPDATE evently.tier_units SET status = 'BOOKED', booking_id = t.id('tr_b_sold')
 WHERE tier_id = t.id('tr_general') AND unit_no IN (4, 5, 6);
UPDATE evently.tier_units SET status = 'BOOKED', booking_id = t.id('tr_b_last') WHERE tier_id = t.id('tr_last');
-- a lapsed hold's unit is available (lazy expiry); Last One is sold out
SELECT t.figures(d) FROM jsonb_array_elements(evently.api_event_tiers(NULL, t.req(t.ev('tr_fest')))) d
 WHERE d ->> 'name' IN ('General', 'Last One');
SELECT t.counters_agree() AS counters_agree;

-- 7. Changing a tier ---------------------------------------------------------------
-- every field at once; null clears the description and the window
SELECT t.figures(d), d ->> 'description' AS description, d ->> 'price' AS price, d ->> 'min_per_order' AS min,
       d ->> 'max_per_order' AS max, d ->> 'sort_order' AS sort, d ->> 'sale_start' AS sale_start,
       d ->> 'sale_end' AS sale_end, (d ->> 'updated_at')::timestamptz >= (d ->> 'created_at')::timestamptz AS updated
  FROM t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', jsonb_build_object(
           'name', 'VIP Lounge', 'description', NULL, 'price', 150.5, 'min_per_order', 1, 'max_per_order', 6,
           'sort_order', 5, 'sale_start', NULL, 'sale_end', NULL)) d;
-- an ADMIN may too; an empty body changes nothing but the time
SELECT t.figures(t.on_tier('api_tier_update', 'tr_admin', 'tr_vip', '{"description": "Lounge and bar"}')) AS by_admin;
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{}')) AS empty_body;
-- more units: unit_no goes on after the highest
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 150}')) AS grown;
SELECT t.units('tr_general');
-- fewer: free units go, highest unit_no first
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 120}')) AS shrunk;
SELECT t.units('tr_general');
-- never below sold + held: 3 sold, 3 held (one hold lapsed, not yet swept),
-- so 114 can go, not 115
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 5}')$$) AS below_sold_and_held;
SELECT t.units('tr_general') AS unchanged;
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 6}')) AS down_to_sold_and_held;
SELECT t.units('tr_general');
-- a freed unit that a (cancelled) ticket names stays: grow by 2, free unit
-- 8 as a refund would, and shrink again
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 8}')) AS grown_again;
INSERT INTO evently.tickets (id, booking_id, event_id, tier_id, unit_no, seat_price, holder_id, ticket_code, status)
SELECT x.id, b.id, b.event_id, t.id('tr_general'), 8, 49.9, b.user_id,
       evently._sign_ticket(x.id, b.event_id, 'T', t.id('tr_general'), 1), 'CANCELLED'
  FROM evently.bookings b, (SELECT gen_random_uuid() AS id) x WHERE b.id = t.id('tr_b_sold');
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 6}')$$) AS ticketed_unit_stays;
SELECT t.figures(t.on_tier('api_tier_update', 'tr_org1', 'tr_general', '{"total_quantity": 7}')) AS other_unit_goes;
SELECT t.units('tr_general');
-- the refusals
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"price": 9.999}')$$) AS three_decimals;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"price": -5}')$$) AS negative_price;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"total_quantity": 0}')$$) AS quantity_0;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"total_quantity": 1000001}')$$) AS quantity_1000001;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"min_per_order": 7}')$$) AS min_over_max;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_early', jsonb_build_object('sale_end', t.at('-2 days')))$$) AS end_before_start;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_early', jsonb_build_object('sale_end', t.at('100 days')))$$) AS end_after_event;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"name": "General"}')$$) AS duplicate_name;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"event_id": "x"}')$$) AS unknown_field;
SELECT t.try($$SELECT evently.api_tier_update(t.id('tr_org1'), t.req(jsonb_build_object('id', t.id('tr_vip')), body => '[]'))$$) AS not_an_object;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org2', 'tr_vip', '{"price": 1}')$$) AS other_organizer;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_fan', 'tr_vip', '{"price": 1}')$$) AS a_user;
SELECT t.try(format($$SELECT t.on_tier('api_tier_update', 'tr_org1', %L, '{"price": 1}')$$, gen_random_uuid())) AS unknown_tier;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'nope', '{"price": 1}')$$) AS bad_id;
-- renaming to its own name is no duplicate
SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_vip', '{"name": "VIP Lounge"}') ->> 'name' AS same_name;
SELECT * FROM t.tier_events('tr_vip');

-- 8. Deleting a tier ------------------------------------------------------------
-- one that was held (a hold asked for it) or sold is IN_USE
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_general')$$) AS held_tier;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_last')$$) AS sold_tier;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org2', 'tr_free')$$) AS other_organizer;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_fan', 'tr_free')$$) AS a_user;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_free', '{"force": true}')$$) AS with_a_body;
-- a booked unit alone (no hold asked for the tier) keeps it too
UPDATE evently.tier_units SET status = 'BOOKED', booking_id = t.id('tr_b_last')
 WHERE tier_id = t.id('tr_over') AND unit_no = 1;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_over')$$) AS booked_unit;
UPDATE evently.tier_units SET status = 'AVAILABLE', booking_id = NULL WHERE tier_id = t.id('tr_over') AND unit_no = 1;
-- a tier nobody held goes, with its units and counters
SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_free') IS NULL AS deleted;
SELECT NOT EXISTS (SELECT 1 FROM evently.ticket_tiers WHERE id = t.id('tr_free')) AS tier_gone,
       NOT EXISTS (SELECT 1 FROM evently.tier_units WHERE tier_id = t.id('tr_free')) AS units_gone,
       NOT EXISTS (SELECT 1 FROM evently.tier_unit_counts WHERE tier_id = t.id('tr_free')) AS counters_gone;
SELECT * FROM t.tier_events('tr_free');
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_free')$$) AS twice;
SELECT t.on_tier('api_tier_delete', 'tr_admin', 'tr_over') IS NULL AS deleted_by_admin;

-- 9. The organizer's dashboard shows the tiers ----------------------------------
SELECT d -> 'tiers' = evently.event_tiers_json(t.id('tr_fest')) AS dashboard_tiers,
       jsonb_array_length(d -> 'tiers') AS n
  FROM evently.api_organizer_event_dashboard(t.id('tr_org1'), t.req(t.ev('tr_fest'))) d;
SELECT evently.api_organizer_event_dashboard(t.id('tr_org2'), t.req(t.ev('tr_rival'))) -> 'tiers' AS no_tiers;

-- 10. Closed events: cancelled and completed ones' tiers are final --------------
SELECT t.tr_event('tr_gone', 'tr_org1', 'Tom''s Cancelled Day', 90);
SELECT t.tier('tr_gone_ga', 'tr_org1', 'tr_gone', '{"name": "Standing", "price": 10, "total_quantity": 3}');
SELECT evently.api_event_submit(t.id('tr_org1'), t.req(t.ev('tr_gone'))) ->> 'status' AS submitted,
       evently.api_admin_event_approve(t.id('tr_admin'), t.req(t.ev('tr_gone'))) ->> 'status' AS approved,
       evently.api_event_cancel(t.id('tr_org1'), t.req(t.ev('tr_gone'), body => '{"reason": "storm"}')) ->> 'status' AS cancelled;
SELECT t.try($$SELECT t.tier_new('tr_org1', 'tr_gone', '{"name": "After", "price": 1, "total_quantity": 1}')$$) AS create_cancelled;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org1', 'tr_gone_ga', '{"price": 1}')$$) AS update_cancelled;
SELECT t.try($$SELECT t.on_tier('api_tier_delete', 'tr_org1', 'tr_gone_ga')$$) AS delete_cancelled;
SELECT t.figures(evently.tier_json(t.id('tr_gone_ga'))) AS cancelled_sells_nothing;
-- a published event that ended (its dates moved back by hand)
SELECT t.tier('tr_old', 'tr_org2', 'tr_rival', '{"name": "Standing", "price": 10, "total_quantity": 3}');
SELECT evently.api_event_submit(t.id('tr_org2'), t.req(t.ev('tr_rival'))) ->> 'status' AS submitted,
       evently.api_admin_event_approve(t.id('tr_admin'), t.req(t.ev('tr_rival'))) ->> 'status' AS approved;
UPDATE evently.events SET date_time = now() - interval '2 days', end_time = now() - interval '1 day'
 WHERE id = t.id('tr_rival');
SELECT t.try($$SELECT t.tier_new('tr_org2', 'tr_rival', '{"name": "After", "price": 1, "total_quantity": 1}')$$) AS create_completed;
SELECT t.try($$SELECT t.on_tier('api_tier_update', 'tr_org2', 'tr_old', '{"price": 1}')$$) AS update_completed;
SELECT t.figures(evently.tier_json(t.id('tr_old'))) AS completed_sells_nothing;

-- 11. Privileges: the routes are the API's, the JSON and its view internal ------
SELECT p.oid::regprocedure AS function, has_function_privilege('evently_api', p.oid, 'EXECUTE') AS api,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'evently'::regnamespace
   AND p.proname IN ('api_event_tier_create', 'api_event_tiers', 'api_tier_update', 'api_tier_delete',
                     'tier_json', 'event_tiers_json', '_managed_tier', '_shrink_tier', '_tier_fields')
 ORDER BY 1::text;
SELECT has_table_privilege('evently_api', 'evently.tier_docs', 'SELECT') AS api_reads_tier_docs,
       has_table_privilege('evently_api', 'evently.tier_unit_counts', 'SELECT') AS api_reads_counters;

SELECT t.counters_agree() AS counters_agree, t.catalogs_agree() AS catalogs_agree,
       NOT EXISTS (SELECT 1 FROM evently.ticket_tiers tt
                    WHERE tt.total_quantity <> (SELECT count(*) FROM evently.tier_units u WHERE u.tier_id = tt.id))
       AS quantities_are_units;
