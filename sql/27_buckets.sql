-- Shards (issue 15, 96_shards.sql): ids that carry their bucket,
-- configure_shard, a shard's checks before a global delete
-- (require_unused), and what a shard does to its events when a global row
-- changes by logical replication (the ENABLE REPLICA triggers).
SET client_min_messages = warning;
SELECT t.remember('bu_ann', evently.create_user('bu_ann@example.com', 'qwerty', 'Ann', 'Bucket'));
SELECT t.remember('bu_ben', evently.create_user('bu_ben@example.com', 'qwerty', 'Ben', 'Bucket'));
SELECT t.remember('bu_cat', evently.create_user('bu_cat@example.com', 'qwerty', 'Cat', 'Bucket'));
-- is this a random v4 uuid (version 4, RFC 4122 variant), whatever its bucket?
CREATE FUNCTION t.v4(id uuid) RETURNS boolean LANGUAGE sql IMMUTABLE
RETURN substr(id::text, 15, 1) = '4' AND substr(id::text, 20, 1) IN ('8', '9', 'a', 'b');

-- 1. Bucket 0, one database: ids as before ---------------------------------
SELECT current_setting('evently.bucket') AS bucket, evently.bucket_of('0005abcd-0000-4000-8000-000000000000') AS of_0005,
       evently.bucket_of('ffff0000-0000-4000-8000-000000000000') AS of_ffff;
-- plain random: the first 16 bits vary, also between an event and its rows
SELECT count(DISTINCT evently.bucket_of(evently.new_id())) > 40 AS new_ids_random,
       bool_and(t.v4(evently.new_id())) AS v4
  FROM generate_series(1, 50);
SELECT count(DISTINCT evently.bucket_of(id)) > 20 AS holds_random,
       count(*) FILTER (WHERE evently.bucket_of(id) = evently.bucket_of(event_id)) < 3 AS not_the_events
  FROM evently.holds;
SELECT count(DISTINCT evently.bucket_of(id)) > 10 AS events_random FROM evently.events;
SELECT count(DISTINCT evently.bucket_of(evently._child_id(t.id('gig')))) > 40 AS child_ids_random
  FROM generate_series(1, 50);
-- the setting is a superuser's, within 0..32767
SELECT t.try($$SET evently.bucket = 32768$$) AS too_big;
SELECT t.try($$SET evently.bucket = -1$$) AS negative;
SELECT name, setting, context, min_val, max_val FROM pg_settings WHERE name = 'evently.bucket';

-- 2. Bucket 5: an event and every row of it carry 5 ---------------------------
SET evently.bucket = 5;
SELECT evently.bucket_of(evently.new_id()) AS new_id_bucket, t.v4(evently.new_id()) AS v4;
SELECT t.remember('bk5', evently.create_event('Bucket Five', t.id('hall'), now() + interval '1 hour', 10, t.id('admin')));
SELECT evently.set_cancellation_policy(t.id('bk5'), true, now() + interval '30 minutes', 'NONE', 0) ->> 'fee_type' AS policy;
-- seats: a hold, its booking (tickets, payment), a cancellation
SELECT t.remember('bk5_hold', (evently.hold_seats(t.id('bk5'), t.id('bu_ann'), t.seats('bk5', 'A1', 'A2')) ->> 'hold_id')::uuid);
SELECT t.remember('bk5_booking', (evently.confirm_booking(t.id('bk5_hold'), t.id('bu_ann')) ->> 'booking_id')::uuid);
SELECT t.remember('bk5_cancelled', (evently.confirm_booking(
         (evently.hold_seats(t.id('bk5'), t.id('bu_ben'), t.seats('bk5', 'B1')) ->> 'hold_id')::uuid,
         t.id('bu_ben')) ->> 'booking_id')::uuid);
SELECT evently.cancel_with_policy(t.id('bk5_cancelled'), t.id('bu_ben'), 'bucket test') ->> 'status' AS cancelled;
SELECT evently.join_waitlist(t.id('bk5'), t.id('bu_cat')) ->> 'status' AS waiting;
-- a tier, a discount code, an order paid by mock (its payment, booking and
-- tickets), a refund of it, a check-in
SELECT t.remember('bk5_tier', (evently.api_event_tier_create(t.id('admin'), t.req(t.ev('bk5'),
         body => '{"name": "Standing", "price": 20, "total_quantity": 10}')) ->> 'id')::uuid);
SELECT t.remember('bk5_code', (evently.api_discount_code_create(t.id('admin'), t.req(path => t.ev('bk5'),
         body => '{"code": "FIVE", "percent_off": 5}')) ->> 'id')::uuid);
SELECT t.remember('bk5_ga_hold', (evently.api_tickets_reserve(t.id('bu_ann'), t.req(body => jsonb_build_object(
         'event_id', t.id('bk5'), 'items', jsonb_build_array(jsonb_build_object('tier_id', t.id('bk5_tier'), 'quantity', 2)))))
         ->> 'hold_id')::uuid);
SELECT t.remember('bk5_order', (d ->> 'order_id')::uuid), d ->> 'status' AS order_status
  FROM evently.api_order_create(t.id('bu_ann'), t.req(body => jsonb_build_object('hold_id', t.id('bk5_ga_hold'),
         'payment_provider', 'mock', 'discount_code', 'FIVE'))) d;
SELECT t.remember('bk5_refund', (evently.api_order_refund(t.id('bu_ann'), t.req(jsonb_build_object('id', t.id('bk5_order')),
         '{}', '{"reason": "bucket test", "amount": 1}')) ->> 'refund_id')::uuid);
SELECT evently.validate_ticket((SELECT ticket_code FROM evently.tickets WHERE booking_id = t.id('bk5_booking')
                                 ORDER BY id LIMIT 1), t.id('bk5'), 'North', 'dev-5', t.id('admin')) ->> 'result' AS scanned;
-- every row of the event, table by table: how many, and the buckets they carry
CREATE FUNCTION t.buckets_of(event_label text) RETURNS TABLE (rows_of text, n bigint, buckets int[])
LANGUAGE sql STABLE AS $$
    WITH ev AS (SELECT t.id(event_label) AS id),
    r(tab, id) AS (
        SELECT 'events', id FROM evently.events WHERE id = (SELECT id FROM ev)
        UNION ALL SELECT 'event_pricing', id FROM evently.event_pricing WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'cancellation_policies', id FROM evently.cancellation_policies WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'holds', id FROM evently.holds WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'bookings', id FROM evently.bookings WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'tickets', id FROM evently.tickets WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'payments', p.id FROM evently.payments p
                   WHERE p.booking_id IN (SELECT b.id FROM evently.bookings b WHERE b.event_id = (SELECT id FROM ev))
                      OR p.order_id IN (SELECT o.id FROM evently.orders o WHERE o.event_id = (SELECT id FROM ev))
        UNION ALL SELECT 'cancellations', c.id FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
                   WHERE b.event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'waitlist_entries', id FROM evently.waitlist_entries WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'ticket_tiers', id FROM evently.ticket_tiers WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'discount_codes', id FROM evently.discount_codes WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'orders', id FROM evently.orders WHERE event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'refunds', r.id FROM evently.refunds r JOIN evently.orders o ON o.id = r.order_id
                   WHERE o.event_id = (SELECT id FROM ev)
        UNION ALL SELECT 'checkins', id FROM evently.checkins WHERE event_id = (SELECT id FROM ev))
    SELECT tab, count(*), array_agg(DISTINCT evently.bucket_of(id)) FROM r GROUP BY tab ORDER BY tab
$$;
SELECT * FROM t.buckets_of('bk5');
-- still v4 uuids, and the signed ticket codes name the ids as stored
SELECT bool_and(t.v4(id)) AS tickets_v4,
       bool_and((SELECT c.ticket_id = tk.id AND c.signature_ok FROM evently._read_ticket_code(tk.ticket_code) c)) AS codes_name_them
  FROM evently.tickets tk WHERE tk.event_id = t.id('bk5');
-- the global rows made meanwhile keep plain random ids: 200 of them all in
-- bucket 5 by chance is impossible
SELECT t.remember('bu_tag', evently.create_tag('Bucket Tag'));
SELECT count(*) FILTER (WHERE evently.bucket_of(id) = 5) < 3 AS global_ids_random
  FROM (SELECT evently.create_user(format('bu_%s@example.com', n), 'qwerty', 'B', 'U') AS id
          FROM generate_series(1, 20) n
        UNION ALL SELECT t.id('bu_tag')) u;

-- 3. The session says 7: rows of the bucket-5 event still carry 5; a new
-- event carries 7
SET evently.bucket = 7;
SELECT t.remember('bk5_hold7', (evently.hold_seats(t.id('bk5'), t.id('bu_ben'), t.seats('bk5', 'A3')) ->> 'hold_id')::uuid);
SELECT t.remember('bk5_booking7', (evently.confirm_booking(t.id('bk5_hold7'), t.id('bu_ben')) ->> 'booking_id')::uuid);
SELECT evently.bucket_of(t.id('bk5_hold7')) AS hold, evently.bucket_of(t.id('bk5_booking7')) AS booking,
       (SELECT array_agg(DISTINCT evently.bucket_of(id)) FROM evently.tickets WHERE booking_id = t.id('bk5_booking7')) AS tickets,
       (SELECT array_agg(DISTINCT evently.bucket_of(id)) FROM evently.payments WHERE booking_id = t.id('bk5_booking7')) AS payment,
       evently.bucket_of(evently._child_id(t.id('bk5'))) AS child_id;
SELECT t.remember('bk7', evently.create_event('Bucket Seven', t.id('hall'), now() + interval '2 days', 10));
SELECT evently.bucket_of(t.id('bk7')) AS event_7,
       (SELECT array_agg(DISTINCT evently.bucket_of(id)) FROM evently.event_pricing WHERE event_id = t.id('bk7')) AS pricing_7;
-- an id given explicitly in another bucket is put in the event's (the
-- trigger's rule); ids already in it are kept as they are
INSERT INTO evently.waitlist_entries (id, event_id, user_id, position, quantity)
VALUES ('00070000-0000-4000-8000-000000000001', t.id('bk5'), t.id('bu_ann'), 99, 1)
RETURNING evently.bucket_of(id) AS moved_to, substr(id::text, 5) AS rest_kept;
DELETE FROM evently.waitlist_entries WHERE position = 99 AND event_id = t.id('bk5');
RESET evently.bucket;
-- bucket 0 again: rows of a bucketed event are plain random
SELECT count(DISTINCT evently.bucket_of(evently._child_id(t.id('bk5')))) > 40 AS children_random
  FROM generate_series(1, 50);

-- 4. configure_shard -----------------------------------------------------------
SELECT t.try($$SELECT evently.configure_shard(0)$$) AS zero;
SELECT t.try($$SELECT evently.configure_shard(32768)$$) AS too_big;
SELECT t.try($$SELECT evently.configure_shard(NULL)$$) AS null_bucket;
SELECT current_setting('evently.bucket') AS unchanged,
       (SELECT max(id) FROM evently.outbox) < 1000000 AS outbox_unchanged;
SELECT (evently.configure_shard(3) - 'database')::text AS configured;
SELECT current_setting('evently.bucket') AS session_bucket,
       (SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND setrole = 0) AS database_setting;
-- the next outbox and audit rows are in bucket 3's range: 3 << 48 = 844424930131968
SELECT t.remember('bk3', evently.create_event('Bucket Three', t.id('hall'), now() + interval '3 days', 10, t.id('admin')));
SELECT evently.bucket_of(t.id('bk3')) AS event_bucket,
       (SELECT min(id) FROM evently.outbox WHERE event_id = t.id('bk3')) >> 48 AS outbox_bucket,
       (SELECT min(id) FROM evently.outbox WHERE event_id = t.id('bk3')) - (3::bigint << 48) AS outbox_offset,
       (SELECT min(id) FROM evently.audit_log WHERE event_id = t.id('bk3') OR object_id = t.id('bk3')) >> 48 AS audit_bucket;
-- again: ids already past the start stay; a lower bucket would collide with 3's ids
SELECT (evently.configure_shard(3) - 'database')::text AS again_keeps_ids;
SELECT t.try($$SELECT evently.configure_shard(2)$$) AS lower_bucket;
SELECT (evently.configure_shard(4) - 'database')::text AS higher_bucket;
-- back to one database for whatever runs after this file
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET evently.bucket', current_database()); END $$;
RESET evently.bucket;

-- 5. require_unused: a shard's answer before a global delete ------------------
-- in use: exactly the one-database API's error, for each kind
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', 'template', t.id('hall'))) AS template_in_use,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'template', t.id('hall')))
     = t.try(format('SELECT evently.api_template_delete(%L, t.req(jsonb_build_object(%L, %L)))', t.id('admin'), 'id', t.id('hall')))
       AS same_as_api;
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', 'section', t.id('front'))) AS section_in_use,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'section', t.id('front')))
     = t.try(format('SELECT evently.api_section_delete(%L, t.req(jsonb_build_object(%L, %L)))', t.id('admin'), 'id', t.id('front')))
       AS same_as_api;
SELECT t.remember('bu_seat', (SELECT id FROM evently.seats WHERE section_id = t.id('box') AND seat_number = 'Z1'));
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', 'seat', t.id('bu_seat'))) AS seat_in_use,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'seat', t.id('bu_seat')))
     = t.try(format('SELECT evently.api_seat_delete(%L, t.req(jsonb_build_object(%L, %L)))', t.id('admin'), 'id', t.id('bu_seat')))
       AS same_as_delete,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'seat', t.id('bu_seat')))
     = t.try(format('SELECT evently.api_seat_update(%L, t.req(jsonb_build_object(%L, %L), body => %L))',
                    t.id('admin'), 'id', t.id('bu_seat'), '{"seat_number": "Z9"}'))
       AS same_as_relabel;
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', 'tag', t.id('tag'))) AS tag_in_use,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'tag', t.id('tag')))
     = t.try(format('SELECT evently.api_tag_delete(%L, t.req(jsonb_build_object(%L, %L)))', t.id('admin'), 'id', t.id('tag')))
       AS same_as_api;
-- unused, unknown or malformed: nothing (the global call answers as today)
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', 'template', t.id('wide'))) AS unused_template,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'section',
                    (SELECT id FROM evently.venue_sections WHERE template_id = t.id('wide') LIMIT 1))) AS unused_section,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'seat',
                    (SELECT s.id FROM evently.seats s JOIN evently.venue_sections v ON v.id = s.section_id
                      WHERE v.template_id = t.id('wide') LIMIT 1))) AS unused_seat,
       t.try(format('SELECT evently.require_unused(%L, %L)', 'tag', t.id('bu_tag'))) AS unused_tag;
SELECT t.try(format('SELECT evently.require_unused(%L, %L)', k, gen_random_uuid())) AS unknown_id,
       t.try(format('SELECT evently.require_unused(%L, %L)', k, 'nope')) AS malformed_id,
       t.try(format('SELECT evently.require_unused(%L, NULL)', k)) AS null_id
  FROM unnest(ARRAY['template', 'section', 'seat', 'tag']) k;
SELECT t.try($$SELECT evently.require_unused('event', gen_random_uuid()::text)$$) AS unknown_kind;

-- 6. Global rows changed by logical replication --------------------------------
-- The apply worker of a subscription runs with session_replication_role =
-- replica (and an empty search_path) and fires row triggers only, those
-- marked ENABLE REPLICA: the UPDATEs below run the same way (that is how a
-- shard applies a change made on the global primary).  The statement
-- triggers of one database (catalog_tag_changed, ...) do not fire there, so
-- what changes is the replica triggers' doing.
SELECT c.relname, tg.tgname, tg.tgenabled FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = 'evently'::regnamespace AND tg.tgenabled = 'R' ORDER BY 1, 2;
SET session_replication_role = replica;
SET search_path = '';
-- a renamed tag and section show in the events' catalogs
UPDATE evently.tags SET name = 'Live Music Renamed' WHERE id = t.id('tag');
UPDATE evently.venue_sections SET name = 'Front Renamed' WHERE id = t.id('front');
SELECT evently.event_json(t.id('gig')) -> 'tags' -> 0 ->> 'name' AS tag_shown,
       (SELECT string_agg(s ->> 'name', ', ' ORDER BY s ->> 'name')
          FROM jsonb_array_elements(evently.event_json(t.id('bk5'), true) -> 'venue_sections') s) AS sections_shown,
       t.catalogs_agree() AS catalogs_agree;
-- a blocked seat is blocked in the upcoming events where it is free (not
-- where it is sold), and unblocked again
UPDATE evently.seats SET status = 'BLOCKED' WHERE id = (SELECT id FROM evently.seats WHERE section_id = t.id('front') AND seat_number = 'A4');
SELECT e.name, es.status FROM evently.event_seats es JOIN evently.events e ON e.id = es.event_id
 WHERE es.seat_id = (SELECT id FROM evently.seats WHERE section_id = t.id('front') AND seat_number = 'A4')
   AND e.id IN (t.id('bk5'), t.id('bk7'), t.id('bk3')) ORDER BY e.name;
UPDATE evently.seats SET status = 'AVAILABLE' WHERE id = (SELECT id FROM evently.seats WHERE section_id = t.id('front') AND seat_number = 'A4');
SELECT e.name, es.status FROM evently.event_seats es JOIN evently.events e ON e.id = es.event_id
 WHERE es.seat_id = (SELECT id FROM evently.seats WHERE section_id = t.id('front') AND seat_number = 'A4')
   AND e.id IN (t.id('bk5'), t.id('bk7'), t.id('bk3')) ORDER BY e.name;
-- a sold seat blocked stays sold
UPDATE evently.seats SET status = 'BLOCKED' WHERE id = (SELECT seat_id FROM evently.tickets WHERE booking_id = t.id('bk5_booking7'));
SELECT es.status FROM evently.event_seats es
 WHERE es.event_id = t.id('bk5') AND es.seat_id = (SELECT seat_id FROM evently.tickets WHERE booking_id = t.id('bk5_booking7'));
UPDATE evently.seats SET status = 'AVAILABLE' WHERE id = (SELECT seat_id FROM evently.tickets WHERE booking_id = t.id('bk5_booking7'));
-- the nested writes ran as on one database: the seat counters followed;
-- and the session is the apply worker's again after each
SELECT t.counters_agree() AS counters_agree, current_setting('session_replication_role') AS role_after;
-- a ban: the user's live holds released and waiting cancelled, as the ADMIN
-- who banned, as api_admin_user_ban does on one database
RESET session_replication_role;
SELECT t.remember('bk5_cat_hold', (evently.hold_seats(t.id('bk5'), t.id('bu_cat'), t.seats('bk5', 'B2', 'B3')) ->> 'hold_id')::uuid);
SET session_replication_role = replica;
UPDATE evently.users SET status = 'BANNED', ban_reason = 'bucket test', banned_at = now(), banned_by = t.id('admin')
 WHERE id = t.id('bu_cat');
SELECT h.status AS hold, (SELECT string_agg(status, ',') FROM evently.waitlist_entries
                           WHERE user_id = t.id('bu_cat') AND event_id = t.id('bk5')) AS waiting,
       (SELECT string_agg(es.status, ',') FROM evently.event_seats es WHERE es.event_id = t.id('bk5')
           AND es.seat_id = ANY (t.seats('bk5', 'B2', 'B3'))) AS seats, t.counters_agree() AS counters_agree
  FROM evently.holds h WHERE h.id = t.id('bk5_cat_hold');
SELECT o.type, a.actor_id = t.id('admin') AS as_the_admin FROM evently.outbox o
  JOIN evently.audit_log a ON a.object_id = (o.data ->> 'hold_id')::uuid AND a.action = o.type
 WHERE o.type = 'hold.released' AND o.data ->> 'hold_id' = t.id('bk5_cat_hold')::text;
-- unbanned: nothing to do on the shard
UPDATE evently.users SET status = 'ACTIVE', ban_reason = NULL, banned_at = NULL, banned_by = NULL
 WHERE id = t.id('bu_cat');
RESET search_path;
RESET session_replication_role;
-- on one database (origin) the replica triggers never fire: a ban without
-- the API releases nothing (the sweeper lapses the hold), a rename changes
-- the catalogs through the statement triggers as always
SELECT t.remember('bk5_cat_hold2', (evently.hold_seats(t.id('bk5'), t.id('bu_cat'), t.seats('bk5', 'B2')) ->> 'hold_id')::uuid);
UPDATE evently.users SET status = 'BANNED', banned_by = t.id('admin') WHERE id = t.id('bu_cat');
SELECT status AS hold_untouched FROM evently.holds WHERE id = t.id('bk5_cat_hold2');
UPDATE evently.tags SET name = 'Live Music' WHERE id = t.id('tag');
UPDATE evently.venue_sections SET name = 'Front' WHERE id = t.id('front');
SELECT evently.event_json(t.id('gig')) -> 'tags' -> 0 ->> 'name' AS tag_shown, t.catalogs_agree() AS catalogs_agree,
       t.counters_agree() AS counters_agree;
