-- Every refusal right (issue 9): one block per kind of fault found by trying
-- ticketing bug reports on evently.  Each block shows the right answer; each
-- would have failed on 1.0.
SET client_min_messages = warning;

CREATE FUNCTION t.seat_of(event_label text, seat_number text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT status || ' ' || price FROM evently.event_seats(t.id(event_label)) s WHERE s.seat_number = seat_of.seat_number
$$;

-- 1. No money back once the event has happened -------------------------------
-- The policy allows cancellations until next week; the show then moves to an
-- hour ago (an ADMIN's update refuses a past date, so the clock is moved by
-- hand), or another one is marked completed: the buyer may no longer cancel,
-- whatever the deadline says, nor may an ADMIN cancel one booking.
SELECT t.remember('show', evently.create_event('Box Office Show', t.id('hall'), now() + interval '20 days', 100, t.id('admin')));
SELECT evently.set_cancellation_policy(t.id('show'), true, now() + interval '7 days', 'NONE', 0) ->> 'fee_type' AS policy;
SELECT t.book('show_alice', 'show', 'alice', 'A1');
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('show'),
               body => jsonb_build_object('date_time', to_char(now() AT TIME ZONE 'UTC' - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))))$$) AS admin_moves_to_past;
UPDATE evently.events SET date_time = now() - interval '1 hour' WHERE id = t.id('show');
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('show_alice'), t.id('alice'))$$) AS buyer_after_start;
SELECT t.try($$SELECT evently.api_booking_cancel(t.id('alice'), t.req(jsonb_build_object('id', t.id('show_alice'))))$$) AS rest_after_start;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('show_alice'), t.id('admin'))$$) AS admin_after_start;
SELECT t.remember('done', evently.create_event('Finished Show', t.id('hall'), now() + interval '20 days', 100, t.id('admin')));
SELECT evently.set_cancellation_policy(t.id('done'), true, now() + interval '7 days', 'NONE', 0) ->> 'fee_type' AS policy;
SELECT t.book('done_bob', 'done', 'bob', 'A1');
-- an event that has not happened yet cannot be completed
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('done'), body => '{"status": "completed"}'))$$) AS completed_early;
-- the show takes place (time passes: its start moves into the past)
UPDATE evently.events SET date_time = now() - interval '3 hours' WHERE id = t.id('done');
SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('done'), body => '{"status": "completed"}')) ->> 'status' AS marked;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('done_bob'), t.id('bob'))$$) AS buyer_after_completed;
SELECT b.status, p.status AS payment FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id
 WHERE b.id IN (t.id('show_alice'), t.id('done_bob'));

-- 2. Cancelling an event refunds everybody, in full, whatever the policy -----
SELECT t.remember('gala', evently.create_event('Gala', t.id('hall'), now() + interval '25 days', 80, t.id('admin')));
SELECT evently.set_cancellation_policy(t.id('gala'), false, now() + interval '20 days', 'NONE', 0) ->> 'allow_cancellation' AS allowed;
SELECT t.book('gala_alice', 'gala', 'alice', 'A1', 'A2');
SELECT t.book('gala_bob', 'gala', 'bob', 'B1');
SELECT t.remember('gala_hold', (evently.hold_seats(t.id('gala'), t.id('carol'), t.seats('gala', 'B2')) ->> 'hold_id')::uuid);
SELECT evently.join_waitlist(t.id('gala'), t.id('dave'), 1) ->> 'status' AS dave_waits;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('gala_bob'), t.id('bob'))$$) AS policy_forbids;
SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('gala'), body => '{"status": "cancelled"}')) ->> 'status' AS gala;
SELECT t.scrub(b.id::text) AS booking, b.status, b.total_price, p.status AS payment, p.refund_amount,
       c.cancellation_fee, c.refund_amount AS refunded, c.reason,
       (SELECT string_agg(DISTINCT k.status, ',') FROM evently.tickets k WHERE k.booking_id = b.id) AS tickets
  FROM evently.bookings b
  JOIN evently.payments p ON p.booking_id = b.id
  JOIN evently.cancellations c ON c.booking_id = b.id
 WHERE b.event_id = t.id('gala') ORDER BY b.total_price;
SELECT (SELECT status FROM evently.holds WHERE id = t.id('gala_hold')) AS carols_hold,
       (SELECT string_agg(status, ',') FROM evently.waitlist_entries WHERE event_id = t.id('gala')) AS waitlist,
       (SELECT string_agg(DISTINCT status, ',') FROM evently.event_seats WHERE event_id = t.id('gala')) AS seats;
SELECT type, count(*) FROM evently.outbox WHERE event_id = t.id('gala') GROUP BY type ORDER BY type;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('gala_bob'), t.id('bob'))$$) AS buyer_after_event_cancelled;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('gala_bob'), t.id('admin'))$$) AS admin_after_event_cancelled;

-- 3. An idempotency key names one request -------------------------------------
SELECT t.remember('fair', evently.create_event('Fair', t.id('hall'), now() + interval '30 days', 100, t.id('admin')));
SELECT evently.set_cancellation_policy(t.id('fair'), true, now() + interval '29 days', 'NONE', 0) ->> 'fee_type' AS policy;
SELECT t.remember('fair_k1', (evently.hold_seats(t.id('fair'), t.id('carol'), t.seats('fair', 'A5'), NULL, 'k1') ->> 'hold_id')::uuid);
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('carol'), t.seats('fair', 'A4'), NULL, 'k1')$$) AS same_key_other_seats;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('carol'), t.seats('fair', 'A4', 'A5'), NULL, 'k1')$$) AS same_key_more_seats;
SELECT (evently.hold_seats(t.id('fair'), t.id('carol'), t.seats('fair', 'A5'), NULL, 'k1') ->> 'hold_id')::uuid
       = t.id('fair_k1') AS same_key_same_seats_is_a_retry;
SELECT evently.confirm_booking(t.id('fair_k1'), t.id('carol'), 'card', 'pay-k1') ->> 'status' AS confirmed;
SELECT t.try($$SELECT evently.confirm_booking(t.id('fair_k1'), t.id('carol'), 'upi', 'pay-k1')$$) AS same_key_other_payment;

-- 4. What changes while a seat is held or sold is not lost when it is freed --
-- (a) prices: base price 100; alice holds A3; the base price becomes 200;
-- alice releases: the next buyer pays 200, like for every other seat.  The
-- same after a cancelled booking, and for a section multiplier.
SELECT t.remember('fair_a3', (evently.hold_seats(t.id('fair'), t.id('alice'), t.seats('fair', 'A3')) ->> 'hold_id')::uuid);
SELECT t.book('fair_dave', 'fair', 'dave', 'A4');
SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('fair'), body => '{"base_price": 200}')) ->> 'base_price' AS new_base;
SELECT evently.hold_json(t.id('fair_a3')) ->> 'total_price' AS alice_still_pays;
SELECT evently.release_hold(t.id('fair_a3'), t.id('alice')) ->> 'status' AS released;
SELECT t.seat_of('fair', 'A3') AS a3, t.seat_of('fair', 'A2') AS a2;
SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'A3')) ->> 'total_price' AS next_buyer_pays;
SELECT evently.cancel_with_policy(t.id('fair_dave'), t.id('dave')) ->> 'refund_amount' AS dave_refunded;
SELECT t.seat_of('fair', 'A4') AS a4_after_cancel;
UPDATE evently.event_pricing SET price_multiplier = 1.5 WHERE event_id = t.id('fair') AND section_id = t.id('front');
SELECT t.seat_of('fair', 'A3') AS held_a3, t.seat_of('fair', 'A4') AS free_a4;
-- (b) blocking: an ADMIN blocks seats while one is held, one booked and one
-- under a hold that lapsed but was not swept yet; freed, each stays BLOCKED
SELECT t.remember('fair_b1', (evently.hold_seats(t.id('fair'), t.id('alice'), t.seats('fair', 'B1')) ->> 'hold_id')::uuid);
SELECT t.book('fair_b2', 'fair', 'dave', 'B2');
SELECT t.remember('fair_b3', (evently.hold_seats(t.id('fair'), t.id('carol'), t.seats('fair', 'B3')) ->> 'hold_id')::uuid);
SELECT t.lapse('fair_b3');
SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', s), body => '{"status": "BLOCKED"}')) ->> 'status' AS blocked
  FROM unnest(t.seats('fair', 'B1', 'B2', 'B3')) s;
SELECT t.seat_of('fair', 'B1') AS held, t.seat_of('fair', 'B2') AS booked;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'B3'))$$) AS lapsed_but_blocked;
SELECT evently.release_hold(t.id('fair_b1'), t.id('alice')) ->> 'status' AS b1_released;
SELECT evently.cancel_with_policy(t.id('fair_b2'), t.id('dave')) ->> 'status' AS b2_cancelled;
SELECT evently.expire_holds() >= 1 AS b3_swept;
SELECT t.seat_of('fair', 'B1') AS b1, t.seat_of('fair', 'B2') AS b2, t.seat_of('fair', 'B3') AS b3;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'B1'))$$) AS freed_but_blocked;
-- unblocking gives them back to the live events
SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', s), body => '{"status": "AVAILABLE"}')) ->> 'status' AS unblocked
  FROM unnest(t.seats('fair', 'B1', 'B2', 'B3')) s;
SELECT t.seat_of('fair', 'B1') AS b1_unblocked;
-- (c) a seat's label is what its tickets print: it changes only while no
-- event uses the template
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', (t.seats('fair', 'B4'))[1]),
               body => '{"seat_number": "B44"}'))$$) AS relabel_sold_venue;
SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', s.id), body => '{"seat_number": "L1"}')) ->> 'seat_number' AS relabel_unused_venue
  FROM evently.seats s JOIN evently.venue_sections v ON v.id = s.section_id
 WHERE v.template_id = t.id('wide') AND s.seat_number = '1-1';

-- 5. A search string is literal: % and _ are characters, not wildcards -------
SELECT jsonb_array_length(evently.api_events_list(NULL, t.req(query => '{"search": "%"}')) -> 'events') AS percent_matches;
SELECT jsonb_array_length(evently.api_events_list(NULL, t.req(query => '{"search": "_"}')) -> 'events') AS underscore_matches;
SELECT jsonb_array_length(evently.api_events_list(NULL, t.req(query => '{"search": "Fair"}')) -> 'events') AS fair_matches;
SELECT jsonb_array_length(evently.api_tags_list(t.id('admin'), t.req(query => '{"search": "%"}')) -> 'tags') AS tag_percent_matches;
SELECT jsonb_array_length(evently.api_templates_list(t.id('admin'), t.req(query => '{"search": "_"}')) -> 'templates') AS template_underscore_matches;

-- 6. Precision is never lost silently: more decimals than kept is refused -----
SELECT t.try($$SELECT evently.create_event('Cheap', t.id('hall'), now() + interval '9 days', 0.004)$$) AS base_price_3_decimals;
SELECT t.try($$SELECT evently.create_event('Odd', t.id('hall'), now() + interval '9 days', 10, section_multipliers => '{"Front": 1.3333}')$$) AS multiplier_4_decimals;
SELECT t.try($$SELECT evently.set_cancellation_policy(t.id('fair'), true, now() + interval '1 day', 'PERCENTAGE', 12.3456)$$) AS fee_4_decimals;
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('fair'), body => '{"base_price": 10.005}'))$$) AS update_3_decimals;
SELECT (evently.api_event_update(t.id('admin'), t.req(t.ev('fair'), body => '{"base_price": 10.5}')) ->> 'base_price') AS two_decimals_kept;

-- 7. Bad parameters are refused in our words, never PostgreSQL's --------------
SELECT t.try($$SELECT evently.api_admin_bookings(t.id('admin'), t.req(query => '{"limit": "abc"}'))$$) AS limit_abc;
SELECT t.try($$SELECT evently.api_admin_bookings(t.id('admin'), t.req(query => '{"offset": "-1"}'))$$) AS offset_negative;
SELECT t.try($$SELECT evently._time_field('{"date_time": "2030-01-01T10:00:00+24:00"}', 'date_time')$$) AS offset_24_hours;
SELECT t.try($$SELECT evently._time_field('{"date_time": "2030-02-30T10:00:00Z"}', 'date_time')$$) AS february_30;
SELECT evently._time_field('{"date_time": "2030-01-01t10:00:00z"}', 'date_time') = '2030-01-01 10:00:00+00' AS lower_case_t_and_z;
-- a DBA calling the REST adapters with values of the wrong type meets the same
-- kind of refusal (the shim checks types before REST requests get here)
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(jsonb_build_object('eventId', 'nope')))$$) AS path_id_not_uuid;
SELECT t.try($$SELECT evently.api_hold_seats(t.id('bob'), t.req(body => jsonb_build_object('event_id', t.id('fair'), 'seat_ids', 'A1')))$$) AS seat_ids_not_array;
SELECT t.try($$SELECT evently.api_hold_seats(t.id('bob'), t.req(body => jsonb_build_object('event_id', t.id('fair'), 'seat_ids', '["A1"]'::jsonb)))$$) AS seat_id_not_uuid;
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('fair'), body => '{"base_price": "abc"}'))$$) AS price_not_number;
SELECT t.try($$SELECT evently.api_template_update(t.id('admin'), t.req(jsonb_build_object('id', t.id('hall')), body => '{"default_rows": "x"}'))$$) AS rows_not_integer;

-- 8. An update applies every field it accepts, or refuses it ------------------
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('fair'),
               body => jsonb_build_object('venue_template_id', t.id('wide'))))$$) AS other_venue;
SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('fair'),
           body => jsonb_build_object('venue_template_id', t.id('hall'), 'max_tickets_per_user', 4))) ->> 'max_tickets_per_user' AS same_venue_ok;
-- admin notify: its count bounds how many people in line get an offer
SELECT t.remember('queue', evently.create_event('Queue Night', t.id('hall2'), now() + interval '12 days', 5, t.id('admin')));
SELECT evently.join_waitlist(t.id('queue'), u, 1) ->> 'status' AS waiting FROM unnest(ARRAY[t.id('bob'), t.id('carol')]) u;
SELECT jsonb_array_length(evently.api_waitlist_notify(t.id('admin'), t.req(jsonb_build_object('event_id', t.id('queue')),
           body => '{"available_tickets": 1}')) -> 'offers') AS offers_for_count_1;
SELECT t.try($$SELECT evently.waitlist_promote(t.id('queue'), 0)$$) AS zero_offers;

-- 9. User analytics by the reference's formulas -------------------------------
SELECT (a ->> 'avg_bookings_per_user')::numeric
       = round((SELECT count(*) FROM evently.bookings WHERE status = 'CONFIRMED')::numeric
               / (SELECT count(DISTINCT user_id) FROM evently.bookings), 2) AS avg_counts_confirmed_only,
       (SELECT count(*) FROM evently.bookings WHERE status = 'CANCELLED') > 0 AS some_bookings_cancelled,
       a -> 'user_growth' = jsonb_build_array(jsonb_build_object(
           'month', to_char(now(), 'YYYY-MM'),
           'new_users', (SELECT count(DISTINCT user_id) FROM evently.bookings))) AS growth_by_month_of_first_booking
  FROM (SELECT evently.api_analytics_users(t.id('admin'), t.req()) -> 'overview' AS a) x;

-- 10. max_tickets_per_user counts held and bought seats together ---------------
SELECT t.remember('capped', evently.create_event('Capped', t.id('hall'), now() + interval '15 days', 10, t.id('admin'),
                  settings => '{"max_tickets_per_user": 3}'));
SELECT t.book('capped_1', 'capped', 'alice', 'A1', 'A2');
SELECT t.try($$SELECT evently.hold_seats(t.id('capped'), t.id('alice'), t.seats('capped', 'A3', 'A4'))$$) AS two_more;
SELECT t.remember('capped_h', (evently.hold_seats(t.id('capped'), t.id('alice'), t.seats('capped', 'A3')) ->> 'hold_id')::uuid);
SELECT t.try($$SELECT evently.hold_seats(t.id('capped'), t.id('alice'), t.seats('capped', 'A4'))$$) AS one_more_while_holding;
SELECT t.try($$SELECT evently.join_waitlist(t.id('capped'), t.id('alice'), 1)$$) AS waitlist_over_cap;
SELECT evently.hold_seats(t.id('capped'), t.id('bob'), t.seats('capped', 'A4', 'A5', 'B1')) ->> 'status' AS others_unaffected;
SELECT t.try($$SELECT evently.create_event('Bad cap', t.id('hall'), now() + interval '15 days', 10, settings => '{"max_tickets_per_user": 0}')$$) AS cap_zero;

-- 11. A waitlist offer is a hold: it keeps the per-user limits ---------------
-- alice holds her 2 seats (the event's max_seats_per_user) and waits for one
-- more; an offer would make it 3, so bob, behind her, is offered first;
-- releasing her hold frees seats and promotes the queue: now she is offered.
SELECT t.remember('offer_cap', evently.create_event('Offer Cap', t.id('hall'), now() + interval '16 days', 10, t.id('admin'),
                  settings => '{"max_seats_per_user": 2}'));
SELECT t.remember('cap_hold', (evently.hold_seats(t.id('offer_cap'), t.id('alice'), t.seats('offer_cap', 'A1', 'A2')) ->> 'hold_id')::uuid);
SELECT evently.join_waitlist(t.id('offer_cap'), u, 1) ->> 'status' AS waiting FROM unnest(ARRAY[t.id('alice'), t.id('bob')]) u;
CREATE FUNCTION t.queue(event_label text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(u.first_name || ' ' || w.status, ', ' ORDER BY w.position)
      FROM evently.waitlist_entries w JOIN evently.users u ON u.id = w.user_id WHERE w.event_id = t.id(event_label)
$$;
SELECT jsonb_array_length(evently.waitlist_promote(t.id('offer_cap'), 1) -> 'offers') AS offers;
SELECT t.queue('offer_cap') AS queue;
SELECT evently.release_hold(t.id('cap_hold'), t.id('alice')) ->> 'status' AS released;
SELECT t.queue('offer_cap') AS queue;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
