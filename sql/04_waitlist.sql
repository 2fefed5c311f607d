-- evently.join_waitlist, leave_waitlist, waitlist_promote, expire_holds
SET client_min_messages = warning;

-- A two-seat event, sold out to alice
SELECT t.remember('small', evently.create_event('Small', t.id('hall2'), now() + interval '20 days', 40));
SELECT evently.set_cancellation_policy(t.id('small'), true, now() + interval '19 days', 'NONE', 0) ->> 'fee_type';
SELECT t.book('sold', 'small', 'alice', 'A1', 'A2');

-- Joining: FIFO positions; refusals
CREATE FUNCTION t.entry(event_label text, user_label text) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s: %s, position %s, quantity %s', user_label, w ->> 'status', w ->> 'position', w ->> 'quantity')
      FROM evently.waitlist_entries e, evently.waitlist_json(e.id) w
     WHERE e.event_id = t.id(event_label) AND e.user_id = t.id(user_label)
     ORDER BY e.joined_at DESC LIMIT 1
$$;
SELECT evently.join_waitlist(t.id('small'), t.id('bob')) ->> 'position' AS bob_position;
SELECT evently.join_waitlist(t.id('small'), t.id('carol'), 2) ->> 'position' AS carol_position;
SELECT evently.join_waitlist(t.id('small'), t.id('dave'), 1, '{"section": "any"}') ->> 'position' AS dave_position;
SELECT t.try($$SELECT evently.join_waitlist(t.id('small'), t.id('bob'))$$) AS join_twice;
SELECT t.try($$SELECT evently.join_waitlist(t.id('small'), t.id('admin'), 0)$$) AS quantity_0;
SELECT t.try($$SELECT evently.join_waitlist(t.id('small'), t.id('admin'), 11)$$) AS quantity_11;
SELECT t.try($$SELECT evently.join_waitlist(t.id('small'), t.id('admin'), NULL)$$) AS quantity_null;
SELECT t.try($$SELECT evently.join_waitlist(t.id('tight'), t.id('admin'), 3)$$) AS over_hold_limit;
SELECT t.try($$SELECT evently.join_waitlist(gen_random_uuid(), t.id('admin'))$$) AS unknown_event;
SELECT t.try($$SELECT evently.join_waitlist(t.id('small'), gen_random_uuid())$$) AS unknown_user;
SELECT t.try($$SELECT evently.join_waitlist(t.id('closed'), t.id('admin'))$$) AS past_event;

-- Nothing is free: promotion offers nothing
SELECT evently.waitlist_promote(t.id('small')) -> 'offers' AS offers;
SELECT t.try($$SELECT evently.waitlist_promote(gen_random_uuid())$$) AS unknown_event;
SELECT t.try($$SELECT evently.waitlist_promote(NULL)$$) AS null_event;

-- A cancellation frees 2 seats: bob (1) gets one, carol (2) does not fit,
-- dave (1) gets the other -- in the cancel's own transaction
SELECT evently.cancel_with_policy(t.id('sold'), t.id('alice')) ->> 'status';
SELECT t.entry('small', 'bob'), t.entry('small', 'carol'), t.entry('small', 'dave');
SELECT t.scrub(user_id::text) AS offered_to, (data ->> 'quantity')::int AS quantity, (data ->> 'position')::int AS position
  FROM evently.outbox WHERE type = 'waitlist.offered' ORDER BY id;
SELECT seat_number, status FROM evently.event_seats(t.id('small'));
SELECT h.seat_count, h.expires_at - h.created_at AS offer_window, t.scrub(h.user_id::text) AS holder
  FROM evently.holds h JOIN evently.waitlist_entries w ON w.hold_id = h.id
 WHERE w.event_id = t.id('small') ORDER BY w.position;

-- The public cannot take offered seats
SELECT t.try($$SELECT evently.hold_seats(t.id('small'), t.id('alice'), t.seats('small', 'A1'))$$) AS public_hold;

-- bob takes his offer: the entry converts
SELECT t.remember('bob_offer', hold_id) FROM evently.waitlist_entries WHERE event_id = t.id('small') AND user_id = t.id('bob');
SELECT evently.confirm_booking(t.id('bob_offer'), t.id('bob')) ->> 'status' AS bob_books;
SELECT t.entry('small', 'bob');

-- dave lets his offer lapse: while carol waits, the seat is the queue's, not the public's
SELECT t.remember('dave_offer', hold_id) FROM evently.waitlist_entries WHERE event_id = t.id('small') AND user_id = t.id('dave');
SELECT t.lapse('dave_offer');
SELECT t.try($$SELECT evently.hold_seats(t.id('small'), t.id('alice'), t.seats('small', 'A2'))$$) AS public_takes_lapsed_offer;
SELECT evently.expire_holds() AS expired;
SELECT t.entry('small', 'dave');
SELECT status FROM evently.holds WHERE id = t.id('dave_offer');
-- one seat is free and carol wants two: it stays with the public
SELECT seat_number, status FROM evently.event_seats(t.id('small')) ORDER BY seat_number;
SELECT evently.expire_holds() AS nothing_more;

-- Leaving: only a live entry; a user may join again afterwards
SELECT evently.leave_waitlist(t.id('small'), t.id('carol')) ->> 'status' AS carol_leaves;
SELECT t.try($$SELECT evently.leave_waitlist(t.id('small'), t.id('carol'))$$) AS leave_twice;
SELECT t.try($$SELECT evently.leave_waitlist(t.id('small'), t.id('alice'))$$) AS never_joined;
SELECT evently.join_waitlist(t.id('small'), t.id('carol')) ->> 'position' AS carol_rejoins;
SELECT t.entry('small', 'carol');

-- The free seat goes to carol on the next sweep; she declines by leaving
SELECT evently.expire_holds() AS sweep;
SELECT t.entry('small', 'carol');
SELECT evently.join_waitlist(t.id('small'), t.id('dave')) ->> 'position' AS dave_rejoins;
SELECT evently.leave_waitlist(t.id('small'), t.id('carol')) ->> 'status' AS carol_declines;
-- her seat went straight to dave, next in line
SELECT t.entry('small', 'carol'), t.entry('small', 'dave');

-- Leaving after one's offer lapsed (before the sweeper saw it) just leaves
SELECT t.remember('dave_offer2', hold_id) FROM evently.waitlist_entries
 WHERE event_id = t.id('small') AND user_id = t.id('dave') AND status = 'NOTIFIED';
SELECT t.lapse('dave_offer2');
SELECT evently.leave_waitlist(t.id('small'), t.id('dave')) ->> 'status' AS dave_leaves_after_lapse;
SELECT evently.expire_holds() AS swept;
SELECT status FROM evently.holds WHERE id = t.id('dave_offer2');
SELECT seat_number, status FROM evently.event_seats(t.id('small')) ORDER BY seat_number;

-- Every waitlist change is in the outbox, in order
SELECT type, t.scrub(user_id::text) AS user FROM evently.outbox
 WHERE event_id = t.id('small') AND aggregate IN ('waitlist', 'hold') ORDER BY id;

-- Every change of every file left an audit row
SELECT action, count(*) FROM evently.audit_log GROUP BY action ORDER BY action;
-- and each outbox row has its audit twin, written by the same change
SELECT count(*) AS outbox_types_without_matching_audit FROM (
    SELECT type, count(*) FROM evently.outbox GROUP BY 1
    EXCEPT SELECT action, count(*) FROM evently.audit_log GROUP BY 1) x;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
