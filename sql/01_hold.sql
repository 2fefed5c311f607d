-- evently.hold_seats and evently.release_hold
SET client_min_messages = warning;

-- Happy path: the data object of POST /seats/hold
SELECT t.remember('h1', (evently.hold_seats(t.id('gig'), t.id('alice'), t.seats('gig', 'A1', 'A2')) ->> 'hold_id')::uuid);
SELECT jsonb_pretty(t.scrub((evently.hold_json(t.id('h1')) - 'expires_at' - 'created_at' - 'ttl_seconds')::text)::jsonb);
SELECT (h ->> 'ttl_seconds')::int BETWEEN 1 AND 600 AS ttl_counts_down,
       (h ->> 'expires_at')::timestamptz - (h ->> 'created_at')::timestamptz = interval '10 minutes' AS expires_in_10_min
  FROM evently.hold_json(t.id('h1')) h;
SELECT seat_number, status FROM evently.event_seats(t.id('gig')) WHERE seat_number IN ('A1', 'A2', 'A3');
-- the same physical seat is free for another event on the same template
SELECT t.try($$SELECT evently.hold_seats(t.id('other'), t.id('bob'), t.seats('other', 'A1'))$$) AS other_event_same_seat;
-- an explicit ttl
SELECT (h ->> 'ttl_seconds')::int BETWEEN 29 AND 30 AS ttl_30s
  FROM evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'Z1'), '30 seconds') h;

-- A retry with the same idempotency key returns the same hold, and holds nothing more
SELECT t.remember('hk', (evently.hold_seats(t.id('gig'), t.id('dave'), t.seats('gig', 'B5'), NULL, 'hold-key-1') ->> 'hold_id')::uuid);
SELECT (evently.hold_seats(t.id('gig'), t.id('dave'), t.seats('gig', 'B5'), NULL, 'hold-key-1') ->> 'hold_id')::uuid = t.id('hk') AS same_hold;
SELECT count(*) AS daves_holds FROM evently.holds WHERE user_id = t.id('dave');
SELECT t.try($$SELECT evently.hold_seats(t.id('other'), t.id('dave'), t.seats('other', 'B5'), NULL, 'hold-key-1')$$) AS key_on_another_event;
SELECT evently.release_hold(t.id('hk'), t.id('dave')) ->> 'status' AS released;

-- Refusals, each with its SQLSTATE, message and detail
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A2', 'A3'))$$) AS taken;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), ARRAY[gen_random_uuid()])$$) AS unknown_seat;
SELECT t.remember('hall2', evently.create_venue_template('Hall Two'));
SELECT t.remember('hall2_sec', evently.add_section(t.id('hall2'), 'Only', 'A', 'A', 2));
SELECT t.remember('ev2', evently.create_event('Elsewhere', t.id('hall2'), now() + interval '9 days', 1));
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('ev2', 'A1'))$$) AS seat_of_another_event;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A4') || t.seats('gig', 'A4'))$$) AS duplicate;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), '{}')$$) AS empty;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), ARRAY[NULL]::uuid[])$$) AS null_element;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), NULL)$$) AS null_array;
SELECT t.try($$SELECT evently.hold_seats(NULL, t.id('bob'), t.seats('gig', 'A4'))$$) AS null_event;
SELECT t.try($$SELECT evently.hold_seats(gen_random_uuid(), t.id('bob'), t.seats('gig', 'A4'))$$) AS unknown_event;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), gen_random_uuid(), t.seats('gig', 'A4'))$$) AS unknown_user;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A4'), '0 seconds')$$) AS zero_ttl;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A4'), '2 days')$$) AS long_ttl;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A4'), '-1 minute')$$) AS negative_ttl;

-- Limits: the 'tight' event allows 2 seats per hold and 3 per user
SELECT t.try($$SELECT evently.hold_seats(t.id('tight'), t.id('carol'), t.seats('tight', 'A1', 'A2', 'A3'))$$) AS over_per_hold;
SELECT t.try($$SELECT evently.hold_seats(t.id('tight'), t.id('carol'), t.seats('tight', 'A1', 'A2'))$$) AS first_two;
SELECT t.try($$SELECT evently.hold_seats(t.id('tight'), t.id('carol'), t.seats('tight', 'A3', 'A4'))$$) AS over_per_user;
SELECT t.try($$SELECT evently.hold_seats(t.id('tight'), t.id('carol'), t.seats('tight', 'A3'))$$) AS third_fits;
SELECT t.try($$SELECT evently.hold_seats(t.id('tight'), t.id('dave'), t.seats('tight', 'A4', 'A5'))$$) AS other_user_unaffected;
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('carol'), t.seats('gig', 'B1','B2','B3','B4','B5', '1-1','1-2','1-3','1-4','2-1','2-2'))$$) AS eleven_over_default;
-- the default hold limit is 10 seats per hold; 10 is fine
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('carol'), t.seats('gig', 'B1','B2','B3','B4','B5', '1-1','1-2','1-3','1-4','2-1'))$$) AS ten_fit;
-- the per-user default is 10 seats held per event
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('carol'), t.seats('gig', '2-2'))$$) AS eleventh_seat;

-- Closed events: past (moved into the past behind the engine's back) and cancelled
SELECT t.remember('closed', evently.create_event('Closed', t.id('hall'), now() + interval '3 days', 5));
UPDATE evently.events SET status = 'cancelled' WHERE id = t.id('closed');
SELECT t.try($$SELECT evently.hold_seats(t.id('closed'), t.id('bob'), t.seats('closed', 'A1'))$$) AS cancelled_event;
UPDATE evently.events SET status = 'published', date_time = now() - interval '1 hour' WHERE id = t.id('closed');
SELECT t.try($$SELECT evently.hold_seats(t.id('closed'), t.id('bob'), t.seats('closed', 'A1'))$$) AS past_event;

-- Blocked seats are never holdable
UPDATE evently.event_seats SET status = 'BLOCKED' WHERE event_id = t.id('gig') AND seat_id = (t.seats('gig', 'A5'))[1];
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A5'))$$) AS blocked;

-- All or nothing: one bad seat leaves the good one untouched
SELECT t.try($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A3', 'A1'))$$) AS partial;
SELECT status FROM evently.event_seats(t.id('gig')) WHERE seat_number = 'A3';

-- Lazy expiry: a lapsed hold never blocks anyone, sweeper or not, and the
-- event's available_tickets counts its seats at once
CREATE TEMP TABLE before_lapse AS SELECT (evently.event_json(t.id('gig')) ->> 'available_tickets')::int AS n;
SELECT t.lapse('h1');
SELECT (e ->> 'available_tickets')::int - b.n AS seats_back_in_available_tickets,
       (e ->> 'available_tickets')::int = (SELECT count(*) FROM evently.event_seats(t.id('gig'))
                                            WHERE status = 'AVAILABLE') AS matches_the_seat_map,
       (e ->> 'total_capacity')::int = (SELECT count(*) FROM evently.event_seats(t.id('gig'))) AS capacity
  FROM evently.event_json(t.id('gig')) e, before_lapse b;
SELECT seat_number, status FROM evently.event_seats(t.id('gig')) WHERE seat_number IN ('A1', 'A2');
SELECT t.remember('h2', (evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A1')) ->> 'hold_id')::uuid);
SELECT hold_id = t.id('h2') AS a1_now_bobs FROM evently.event_seats WHERE seat_id = (t.seats('gig', 'A1'))[1] AND event_id = t.id('gig');

-- Release: owner or ADMIN only, once
SELECT t.try($$SELECT evently.release_hold(t.id('h2'), t.id('alice'))$$) AS not_owner;
SELECT t.try($$SELECT evently.release_hold(gen_random_uuid(), t.id('bob'))$$) AS unknown_hold;
SELECT evently.release_hold(t.id('h2'), t.id('bob')) ->> 'status' AS released;
SELECT t.try($$SELECT evently.release_hold(t.id('h2'), t.id('bob'))$$) AS twice;
SELECT status FROM evently.event_seats(t.id('gig')) WHERE seat_number = 'A1';
SELECT t.remember('h3', (evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'A1')) ->> 'hold_id')::uuid);
SELECT evently.release_hold(t.id('h3'), t.id('admin')) ->> 'status' AS admin_releases;
SELECT t.try($$SELECT evently.release_hold(t.id('h1'), t.id('alice'))$$) AS lapsed_hold;

-- Outbox and audit rows of this file, in order
SELECT type, aggregate, t.scrub(user_id::text) AS user FROM evently.outbox
 WHERE type LIKE 'hold.%' ORDER BY id;
SELECT count(*) FILTER (WHERE a.actor_id = t.id('admin')) AS admin_audited,
       count(*) AS hold_audit_rows FROM evently.audit_log a WHERE a.action LIKE 'hold.%';

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
