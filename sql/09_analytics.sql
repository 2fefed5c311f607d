-- The analytics routes' SQL: api_event_analytics, api_events_analytics and
-- every api_analytics_*.  Their figures are checked against numbers worked
-- out by hand: first on the 'other' event of 03_cancel.sql, then, inside one
-- transaction that is rolled back, on an emptied database (every figure 0,
-- never NaN) and on a small fixture built for the purpose.
SET client_min_messages = warning;
-- days of 24 hours: no daylight-saving change inside the 45 days that one
-- booking is moved back (the figures in days and hours stay exact)
SET TimeZone = 'UTC';

-- Some keys of a document, as one jsonb (printed in jsonb's key order).
CREATE FUNCTION t.pick(doc jsonb, VARIADIC keys text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN (SELECT coalesce(jsonb_object_agg(k, doc -> k), '{}') FROM unnest(keys) k);
-- An admin analytics route, called by the admin with an empty request.
CREATE FUNCTION t.analytics(route text, req jsonb DEFAULT '{}', actor text DEFAULT 'admin') RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    doc jsonb;
BEGIN
    EXECUTE format('SELECT evently.%I($1, $2)', 'api_' || route) INTO doc USING t.id(actor), req;
    RETURN doc;
END
$$;
-- Every route, each as its caller (the two per-event ones on the given
-- event, if any): the routes whose document holds NaN or Infinity anywhere.
CREATE FUNCTION t.routes_with_nan(event_label text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(route, ', ' ORDER BY route), 'none') FROM (
        SELECT route, t.analytics(route, CASE route WHEN 'event_analytics' THEN t.req(path => t.ev(event_label))
                                                    WHEN 'analytics_event' THEN t.req(path => t.tpl(event_label))
                                                    ELSE t.req() END,
                                  CASE WHEN route IN ('analytics_user_history', 'analytics_user_personal') THEN 'alice' ELSE 'admin' END) AS doc
          FROM unnest('{event_analytics, events_analytics, analytics_events, analytics_event, analytics_tag_popularity,
                        analytics_tag_comparisons, analytics_tag_trends, analytics_tags, analytics_bookings_daily,
                        analytics_bookings, analytics_cancellations, analytics_users, analytics_dashboard,
                        analytics_user_history, analytics_user_personal}'::text[]) route
         WHERE event_label IS NOT NULL OR route NOT IN ('event_analytics', 'analytics_event')) r
     WHERE doc::text ~ 'NaN|Infinity'
$$;
-- A by-day list as "<days ago>:<figures>" in its own order.
CREATE FUNCTION t.days(list jsonb, VARIADIC keys text[]) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT string_agg(format('%s days ago %s', current_date - (x ->> 'date')::date, t.pick(x, VARIADIC keys)), '; ' ORDER BY n)
          FROM jsonb_array_elements(list) WITH ORDINALITY e(x, n));

-- Who may read them: ADMIN routes refuse a USER (EV003) and an unknown
-- actor (EV015); the two user routes need a known actor
SELECT route, t.try(format('SELECT t.analytics(%L, t.req(), ''alice'')', route)) AS as_alice
  FROM unnest('{event_analytics, events_analytics, analytics_events, analytics_event, analytics_tag_popularity,
                analytics_tag_comparisons, analytics_tag_trends, analytics_tags, analytics_bookings_daily,
                analytics_bookings, analytics_cancellations, analytics_users, analytics_dashboard}'::text[]) route;
SELECT t.try($$SELECT evently.api_analytics_dashboard(gen_random_uuid(), t.req())$$) AS unknown_admin,
       t.try($$SELECT evently.api_analytics_user_history(gen_random_uuid(), t.req())$$) AS unknown_user_history,
       t.try($$SELECT evently.api_analytics_user_personal(gen_random_uuid(), t.req())$$) AS unknown_user_personal;
SELECT t.try($$SELECT t.analytics('event_analytics', t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS event_analytics_unknown,
       t.try($$SELECT t.analytics('analytics_event', t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS analytics_event_unknown;

-- The 'other' event of 03_cancel.sql: 16 bookings of 50.00 seats (24 seats),
-- 15 cancelled; bob's b2 (A2, A3: 2 seats, 100.00) is the one left.
-- Seats, not bookings: 2 valid tickets; 2 of 24 seats booked = 8.33 %;
-- 15 of 16 bookings cancelled = 93.75 %
SELECT t.pick(a, 'total_bookings', 'total_revenue', 'capacity_utilization', 'cancellation_rate') AS figures,
       t.days(a -> 'bookings_by_day', 'bookings', 'revenue') AS by_day, t.scrub(a ->> 'event_id') AS event, a ->> 'event_name' AS name
  FROM t.analytics('event_analytics', t.req(path => t.ev('other'))) a;
-- the /analytics/admin/events/:id variant counts bookings (1 confirmed) and
-- adds the sections that sold: Front, 2 tickets, 100.00
SELECT t.pick(a, 'total_bookings', 'total_revenue', 'capacity_utilization') AS figures,
       (SELECT jsonb_agg(t.pick(s, 'section_name', 'tickets', 'revenue')) FROM jsonb_array_elements(a -> 'top_sections') s) AS top_sections,
       a -> 'booking_trends' = a -> 'bookings_by_day' AS trends_are_by_day
  FROM t.analytics('analytics_event', t.req(path => t.tpl('other'))) a;
-- no route answers NaN on the database the files built so far
SELECT t.routes_with_nan('other') AS routes_with_nan;

-- What the rollback must give back
CREATE TEMP TABLE kept AS
SELECT (SELECT count(*) FROM evently.events) AS events, (SELECT count(*) FROM evently.bookings) AS bookings,
       (SELECT count(*) FROM evently.holds) AS holds, (SELECT count(*) FROM evently.event_seats) AS seats,
       (SELECT count(*) FROM evently.tags) AS tags;

BEGIN;
-- Empty: no event, hold or booking (users, tags and venues stay).  Every
-- figure is 0 and every list empty: no ratio divides by zero.
TRUNCATE evently.events CASCADE;
SELECT t.routes_with_nan(NULL) AS routes_with_nan;
SELECT t.pick(a, 'total_events', 'total_bookings', 'total_revenue', 'average_utilization', 'most_popular_events',
              'booking_trends', 'events_by_status', 'revenue_by_month') AS events_analytics
  FROM t.analytics('events_analytics') a;
SELECT jsonb_pretty((a -> 'overview') - 'daily_bookings') AS bookings_overview FROM t.analytics('analytics_bookings') a;
SELECT a -> 'overview' -> 'daily_bookings' AS daily, a -> 'trend_analysis' -> 'growth' AS growth,
       a -> 'performance_stats' AS performance, a -> 'insights' AS insights
  FROM t.analytics('analytics_bookings') a;
SELECT a -> 'overview' AS overview, a -> 'cancellation_reasons' AS reasons, a -> 'timing_analysis' AS timing,
       a -> 'financial_impact' AS financial, a -> 'trends' AS trends
  FROM t.analytics('analytics_cancellations') a;
SELECT t.pick(a -> 'overview', 'total_users', 'active_users', 'new_users', 'retention_rate', 'avg_bookings_per_user') AS users,
       a -> 'insights' AS insights, a -> 'behavior' AS behavior
  FROM t.analytics('analytics_users') a;
SELECT a -> 'overview' AS tags_overview, (SELECT jsonb_agg(t.pick(x, 'tag_name', 'event_count', 'total_revenue', 'popularity_score'))
                                            FROM jsonb_array_elements(a -> 'top_tags') x) AS top_tags,
       a -> 'tag_trends' AS trends
  FROM t.analytics('analytics_tags') a;
SELECT a -> 'overview' AS dashboard_overview, a -> 'recent_activity' AS activity, a -> 'top_performers' -> 'venues' AS venues
  FROM t.analytics('analytics_dashboard') a;
SELECT (a -> 'overview') - 'member_since' AS alice_overview, a -> 'booking_history' AS history, a -> 'spending_analysis' AS spending
  FROM t.analytics('analytics_user_history', t.req(), 'alice') a;
SELECT a -> 'booking_patterns' AS alice_patterns, a -> 'spending_insights' AS spending, a -> 'recommendations' AS recommendations,
       a -> 'achievements' AS achievements
  FROM t.analytics('analytics_user_personal', t.req(), 'alice') a;

-- The fixture, every booking today unless moved:
--   Alpha (Test Hall, 24 seats, base 100: Front x2 = 200, Box x5 = 500,
--          Back 100; tags live-music and rock; Main Hall; in 10 days;
--          policy FIXED 50)
--     alice1  Z1 Z2 A1   1200.00  3 seats  card
--     bob_old 1-1         100.00  1 seat   mock   moved 45 days back
--     carol   A2          200.00  1 seat   card   moved 2 days back, cancelled 'sick': fee 50, refund 150
--     bob_new B1          200.00  1 seat   mock   cancelled, no reason: fee 50, refund 150
--     dave's holds: A3 released, A4 expired, A5 live
--   Beta (Hall Two, 2 seats, base 40; tag live-music; Side Room; in 60 days)
--     alice2  A1 A2        80.00  2 seats  upi
--   Gamma (Test Hall, base 10, no tags; Main Hall; in 30 days): cancelled, no booking
--   tag 'Unused' (no event), then deactivated
CREATE FUNCTION t.buy(label text, event_label text, user_label text, method text, VARIADIC numbers text[])
RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label || '_h', (evently.hold_seats(t.id(event_label), t.id(user_label),
                                                         t.seats(event_label, VARIADIC numbers)) ->> 'hold_id')::uuid);
    SELECT t.remember(label, (evently.confirm_booking(t.id(label || '_h'), t.id(user_label), method) ->> 'booking_id')::uuid);
$$;
SELECT t.remember('alpha', evently.create_event('Alpha', t.id('hall'), now() + interval '10 days', 100, t.id('admin'),
                  'Main Hall', NULL, '{"Front": 2, "Box": 5}', '{live-music,rock}'));
SELECT t.remember('beta', evently.create_event('Beta', t.id('hall2'), now() + interval '60 days', 40, t.id('admin'),
                  'Side Room', NULL, '{}', '{live-music}'));
SELECT t.remember('gamma', evently.create_event('Gamma', t.id('hall'), now() + interval '30 days', 10, t.id('admin'), 'Main Hall'));
SELECT t.update_event('gamma', '{"status": "cancelled"}') ->> 'status' AS gamma;
SELECT t.remember('unused', evently.create_tag('Unused'));
UPDATE evently.tags SET is_active = false WHERE id = t.id('unused');
SELECT evently.set_cancellation_policy(t.id('alpha'), true, now() + interval '5 days', 'FIXED', 50) ->> 'fee_type';
SELECT t.buy('b_alice1', 'alpha', 'alice', 'card', 'Z1', 'Z2', 'A1'), t.buy('b_alice2', 'beta', 'alice', 'upi', 'A1', 'A2'),
       t.buy('b_bob_old', 'alpha', 'bob', 'mock', '1-1'), t.buy('b_carol', 'alpha', 'carol', 'card', 'A2'),
       t.buy('b_bob_new', 'alpha', 'bob', 'mock', 'B1');
SELECT evently.cancel_with_policy(t.id('b_carol'), t.id('carol'), 'sick') ->> 'refund_amount' AS carol_refund,
       evently.cancel_with_policy(t.id('b_bob_new'), t.id('bob')) ->> 'refund_amount' AS bob_refund;
SELECT evently.release_hold((evently.hold_seats(t.id('alpha'), t.id('dave'), t.seats('alpha', 'A3')) ->> 'hold_id')::uuid,
                            t.id('dave')) ->> 'status' AS dave_a3;
SELECT t.remember('dave_a4', (evently.hold_seats(t.id('alpha'), t.id('dave'), t.seats('alpha', 'A4')) ->> 'hold_id')::uuid);
SELECT t.lapse('dave_a4');
SELECT evently.expire_holds() AS expired;
SELECT evently.hold_seats(t.id('alpha'), t.id('dave'), t.seats('alpha', 'A5')) ->> 'status' AS dave_a5;
-- the moves in time; each hold made some seconds before its booking:
-- alice1 300 s, bob_old 60 s, the others 0 s
UPDATE evently.bookings SET created_at = now() - interval '45 days' WHERE id = t.id('b_bob_old');
UPDATE evently.bookings SET created_at = now() - interval '2 days' WHERE id = t.id('b_carol');
UPDATE evently.holds h SET created_at = b.created_at - CASE b.id WHEN t.id('b_alice1') THEN interval '300 seconds'
                                                             WHEN t.id('b_bob_old') THEN interval '60 seconds'
                                                             ELSE interval '0' END
  FROM evently.bookings b WHERE b.hold_id = h.id;
SELECT status, count(*) FROM evently.holds GROUP BY 1 ORDER BY 1;

-- One event: Alpha's valid tickets are Z1 Z2 A1 (1200.00) and 1-1 (100.00):
-- 4 seats, 1300.00; 4 of 24 seats booked = 16.67 %; 2 of its 4 bookings
-- cancelled = 50 %; confirmed bookings by day: bob_old 45 days ago, alice1 today
SELECT t.pick(a, 'total_bookings', 'total_revenue', 'capacity_utilization', 'cancellation_rate') AS alpha,
       t.days(a -> 'bookings_by_day', 'bookings', 'revenue') AS by_day
  FROM t.analytics('event_analytics', t.req(path => t.ev('alpha'))) a;
-- the /analytics variant: 2 confirmed bookings; tickets by section, most first:
-- Box 2 (1000.00), then Back and Front 1 each (by name)
SELECT t.pick(a, 'total_bookings', 'total_revenue') AS alpha,
       (SELECT string_agg(format('%s %s %s', s ->> 'section_name', s ->> 'tickets', s ->> 'revenue'), ', ')
          FROM jsonb_array_elements(a -> 'top_sections') s) AS top_sections
  FROM t.analytics('analytics_event', t.req(path => t.tpl('alpha'))) a;
-- an event without bookings: zeros (its cancellation rate has no denominator)
SELECT t.pick(a, 'total_bookings', 'total_revenue', 'capacity_utilization', 'cancellation_rate', 'bookings_by_day') AS gamma
  FROM t.analytics('event_analytics', t.req(path => t.ev('gamma'))) a;

-- All events: 3 events; confirmed alice1 + alice2 + bob_old = 1380.00;
-- utilization (16.67 + 100 + 0) / 3 = 38.89 (Alpha 4/24, Beta 2/2, Gamma 0);
-- the 30-day trend leaves bob_old out: 2 bookings, 1280.00 today; by month
-- bob_old's month (100.00, 1 event) before this one (1280.00, 2 events)
SELECT t.pick(a, 'total_events', 'total_bookings', 'total_revenue', 'average_utilization', 'events_by_status') AS events,
       (SELECT string_agg(format('%s %s %s', x ->> 'event_name', x ->> 'booking_count', x ->> 'revenue'), ', ')
          FROM jsonb_array_elements(a -> 'most_popular_events') x) AS most_popular,
       t.days(a -> 'booking_trends', 'bookings', 'revenue') AS trends
  FROM t.analytics('events_analytics') a;
SELECT x ->> 'month' = to_char(now() - CASE n WHEN 1 THEN interval '45 days' ELSE interval '0' END, 'YYYY-MM') AS right_month,
       x ->> 'revenue' AS revenue, x ->> 'events' AS events
  FROM t.analytics('events_analytics') a, jsonb_array_elements(a -> 'revenue_by_month') WITH ORDINALITY m(x, n);
SELECT t.analytics('analytics_events') = t.analytics('events_analytics') AS analytics_events_is_the_same;

-- Bookings.  All time: 5 bookings, 3 confirmed (1380.00), 2 cancelled (40 %);
-- sizes (3 + 2 + 1) / 3 = 2.00 seats; ticket prices (400 + 40 + 100) / 3 =
-- 180.00; payments: card 2, mock 2, upi 1
SELECT jsonb_pretty((a -> 'overview') - 'daily_bookings') AS overall FROM t.analytics('analytics_bookings') a;
-- by day (30 days, newest first): today 3 (2 confirmed, 1280.00, 640.00 a
-- booking), 2 days ago carol's (cancelled: no revenue, average 0)
SELECT t.days(a, 'total_bookings', 'confirmed_bookings', 'cancelled_bookings', 'revenue', 'average_value') AS daily
  FROM t.analytics('analytics_bookings_daily') a;
SELECT t.analytics('analytics_bookings') -> 'overview' -> 'daily_bookings' = t.analytics('analytics_bookings_daily') AS overview_has_daily;
-- the last 30 days (4 bookings: alice1, alice2, carol, bob_new) against the
-- 30 before (bob_old): +300 % bookings, 1280.00 against 100.00 = +1180 %
-- revenue; every user was made today, none in the period before: growth 0
SELECT jsonb_pretty(a -> 'trend_analysis') AS trend_analysis FROM t.analytics('analytics_bookings') a;
-- 8 holds: 5 confirmed (62.5 %), 1 released + 1 expired (25 %), 1 live;
-- time to book (300 + 60 + 0 + 0 + 0) / 5 = 72 s.  Insights: cancellations
-- above 15 %, growth above 20 % (an average of 2.00 seats is not below 2)
SELECT a -> 'performance_stats' AS performance, a -> 'insights' AS insights FROM t.analytics('analytics_bookings') a;

-- Cancellations: 2 of the 5 bookings (40 %); refunds 150 + 150 = 300.00 of
-- the 400.00 they cost (75 %); fees 100.00; carol cancelled 48 h after
-- booking, bob at once: 24 h on average; both 240 h before Alpha
SELECT jsonb_pretty(a - 'trends') AS cancellations FROM t.analytics('analytics_cancellations') a;
SELECT t.days(a -> 'trends', 'cancellations') AS by_day FROM t.analytics('analytics_cancellations') a;

-- Users who booked: alice, bob, carol.  Active (a confirmed booking in 30
-- days): alice, 33.33 %.  New (first booking within 30 days): alice and
-- carol; bob's first was 45 days ago.  5 bookings / 3 users = 1.67.
SELECT t.pick(a -> 'overview', 'total_users', 'active_users', 'new_users', 'retention_rate', 'avg_bookings_per_user') AS users,
       a -> 'insights' AS insights, a -> 'behavior' AS behavior,
       (SELECT sum((x ->> 'new_users')::int) FROM jsonb_array_elements(a -> 'overview' -> 'user_growth') x) AS registered_in_30_days
  FROM t.analytics('analytics_users') a;

-- Tags.  Live Music (Alpha, Beta): 3 confirmed bookings, 1380.00, tickets
-- (400 + 100 + 40) / 3 = 180.00, both events sold (100 %), utilization
-- (16.67 + 100) / 2 = 58.34 (half up), 1.50 bookings an event, score
-- 2 x 0.3 + 3 x 0.4 + 1.38 x 0.2 + 100 x 0.1 = 12.08.
-- Hard Rock (Alpha): 2 bookings, 1300.00, (400 + 100) / 2 = 250.00, 100 %,
-- 16.67, 2.00, score 0.3 + 0.8 + 0.26 + 10 = 11.36.  Unused: all 0.
SELECT x ->> 'tag_name' AS tag, t.pick(x, 'event_count', 'total_bookings', 'total_revenue', 'avg_utilization', 'popularity_score') AS popularity
  FROM jsonb_array_elements(t.analytics('analytics_tag_popularity')) x;
SELECT x ->> 'tag_name' AS tag, t.pick(x, 'event_count', 'avg_ticket_price', 'avg_capacity_utilization', 'booking_conversion', 'total_revenue') AS comparison
  FROM jsonb_array_elements(t.analytics('analytics_tag_comparisons')) x;
-- by month (6 by default): bob_old's month, then this one
SELECT x ->> 'tag_name' AS tag, x ->> 'month' = to_char(now() - CASE WHEN n <= 2 THEN interval '45 days' ELSE interval '0' END, 'YYYY-MM') AS right_month,
       x ->> 'event_count' AS events, x ->> 'revenue' AS revenue
  FROM jsonb_array_elements(t.analytics('analytics_tag_trends')) WITH ORDINALITY m(x, n);
-- months=1 leaves bob_old out; a bad value means the default
SELECT jsonb_array_length(t.analytics('analytics_tag_trends', t.req(query => '{"months": "1"}'))) AS one_month,
       t.analytics('analytics_tag_trends', t.req(query => '{"months": "25"}')) = t.analytics('analytics_tag_trends') AS months_25_is_6,
       t.analytics('analytics_tag_trends', t.req(query => '{"months": "x"}')) = t.analytics('analytics_tag_trends') AS months_x_is_6;
-- overview: 3 tags, 2 active, 2 on events, 3 tags on 3 events = 1.00 each
SELECT a -> 'overview' AS overview,
       a -> 'top_tags' = t.analytics('analytics_tag_popularity') AND a -> 'comparisons' = t.analytics('analytics_tag_comparisons')
       AND a -> 'tag_trends' = t.analytics('analytics_tag_trends') AS parts_are_the_routes
  FROM t.analytics('analytics_tags') a;

-- The dashboard: the same figures; 2 events to come (Gamma is cancelled);
-- venues by confirmed revenue: Main Hall 2 bookings 1300.00, Side Room 1, 80.00
SELECT jsonb_pretty(a -> 'overview') AS overview FROM t.analytics('analytics_dashboard') a;
SELECT a -> 'top_performers' -> 'venues' AS venues,
       (SELECT jsonb_object_agg(k, n) FROM (SELECT x ->> 'type' AS k, count(*) AS n
                                              FROM jsonb_array_elements(a -> 'recent_activity') x GROUP BY 1) c) AS recent_activity,
       a -> 'event_metrics' = t.analytics('events_analytics') AND a -> 'booking_metrics' = t.analytics('analytics_bookings')
       AND a -> 'user_metrics' = t.analytics('analytics_users') AND a -> 'tag_metrics' = t.analytics('analytics_tags') -> 'overview'
       AND a -> 'top_performers' -> 'events' = t.analytics('events_analytics') -> 'most_popular_events' AS parts_are_the_routes
  FROM t.analytics('analytics_dashboard') a;

-- A user's own history.  alice: 2 confirmed, 1280.00, 640.00 each; Main Hall
-- and Side Room once each (the first by name); Live Music twice; over 1000
-- spent: a Big Spender
SELECT jsonb_pretty((a -> 'overview') - 'member_since') AS alice, a -> 'insights' AS insights,
       (SELECT string_agg(format('%s %s %s', x ->> 'event_name', x ->> 'status', x ->> 'total_price'), ', ')
          FROM jsonb_array_elements(a -> 'booking_history') x) AS history,
       a -> 'spending_analysis' -> 'spending_by_category' AS by_category,
       a -> 'spending_analysis' -> 'yearly_total' AS yearly
  FROM t.analytics('analytics_user_history', t.req(), 'alice') a;
-- bob: bob_old confirmed (100.00, 45 days ago), bob_new cancelled (newest first)
SELECT t.pick(a -> 'overview', 'total_bookings', 'total_spent', 'avg_booking_value', 'favorite_venue', 'favorite_event_type') AS bob,
       (SELECT string_agg(format('%s %s', x ->> 'status', x ->> 'total_price'), ', ') FROM jsonb_array_elements(a -> 'booking_history') x) AS history,
       (SELECT k = to_char(now() - interval '45 days', 'YYYY-MM') AND v = '100.00'
          FROM jsonb_each_text(a -> 'spending_analysis' -> 'spending_by_month') e(k, v)) AS spent_in_bob_olds_month,
       a -> 'spending_analysis' -> 'yearly_total' AS yearly
  FROM t.analytics('analytics_user_history', t.req(), 'bob') a;
-- carol, whose only booking was cancelled: nothing spent, no favourite
SELECT (a -> 'overview') - 'member_since' AS carol, jsonb_array_length(a -> 'booking_history') AS history
  FROM t.analytics('analytics_user_history', t.req(), 'carol') a;

-- Personal: alice booked Alpha 10 and Beta 60 days ahead (35 on average:
-- early bird) and spent 1280.00 this month (high roller); nothing to
-- recommend, she has both events to come
SELECT t.pick(p, 'booking_frequency', 'advance_booking_time') AS alice, a -> 'spending_insights' AS spending,
       a -> 'achievements' AS achievements, a -> 'recommendations' AS recommendations,
       p ->> 'preferred_day' = trim(to_char(now(), 'Day')) AND p ->> 'preferred_time' = to_char(now(), 'HH24') || ':00' AS booked_now
  FROM t.analytics('analytics_user_personal', t.req(), 'alice') a, LATERAL (SELECT a -> 'booking_patterns' AS p) x;
-- bob booked 55 days ahead, 100.00 in one month; Beta is for him
SELECT t.pick(a -> 'booking_patterns', 'booking_frequency', 'advance_booking_time') AS bob, a -> 'spending_insights' AS spending,
       a -> 'achievements' AS achievements, (SELECT string_agg(x ->> 'event_name', ', ') FROM jsonb_array_elements(a -> 'recommendations') x) AS recommended
  FROM t.analytics('analytics_user_personal', t.req(), 'bob') a;
-- dave never booked: zeros, and both events to come recommended, soonest first
SELECT a -> 'booking_patterns' AS dave, a -> 'spending_insights' AS spending, a -> 'achievements' AS achievements,
       (SELECT string_agg(x ->> 'event_name', ', ') FROM jsonb_array_elements(a -> 'recommendations') x) AS recommended
  FROM t.analytics('analytics_user_personal', t.req(), 'dave') a;

SELECT t.routes_with_nan('alpha') AS routes_with_nan;
ROLLBACK;

-- the rollback gave everything back
SELECT (SELECT count(*) FROM evently.events) AS events, (SELECT count(*) FROM evently.bookings) AS bookings,
       (SELECT count(*) FROM evently.holds) AS holds, (SELECT count(*) FROM evently.event_seats) AS seats,
       (SELECT count(*) FROM evently.tags) AS tags
EXCEPT SELECT * FROM kept;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
