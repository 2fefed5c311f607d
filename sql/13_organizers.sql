-- Organizers and the event lifecycle (SPEC section 9): applications and
-- their verification, then an organizer's event through every transition
-- and every refusal.  olga and oscar become organizers; fan13 buys.
SET client_min_messages = warning;
SELECT t.remember('olga', evently.create_user('olga@example.com', 'qwerty', 'Olga', 'Org'));
SELECT t.remember('oscar', evently.create_user('oscar@example.com', 'qwerty', 'Oscar', 'Org'));
SELECT t.remember('fan13', evently.create_user('fan13@example.com', 'qwerty', 'Fan', 'Thirteen'));

-- one body for the drafts below: the hall's seats, five days ahead
CREATE FUNCTION t.draft_body(name text, extra jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('name', name, 'venue', 'Olga''s Hall', 'venue_template_id', t.id('hall'),
                              'date_time', to_char(now() + interval '5 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'base_price', 40, 'category', ' Music ', 'tags', '["live-music"]'::jsonb) || extra
$$;
-- an organizer route's call: actor label, event label, body
CREATE FUNCTION t.on_event(fn text, actor_label text, event_label text, body jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    doc jsonb;
BEGIN
    EXECUTE format('SELECT evently.%I($1, $2)', fn) INTO doc
      USING t.id(actor_label), t.req(t.ev(event_label), '{}', body);
    RETURN doc;
END
$$;
CREATE FUNCTION t.lifecycle(event_label text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT evently._lifecycle_status(status, date_time, end_time) FROM evently.events WHERE id = t.id(event_label)
$$;

-- 1. Applications -----------------------------------------------------------
SELECT t.try($$SELECT evently.api_register(NULL, t.req(body => '{"email": "o2@example.com", "password": "qwerty",
                 "first_name": "Or", "last_name": "Ganizer", "role": "organizer"}'))$$) AS register_as_organizer;
SELECT t.remember('app1', (evently.api_organizer_apply(t.id('olga'),
         t.req(body => '{"organization_name": " Olga Live ", "description": "Concerts"}'))->>'id')::uuid);
SELECT organization_name, verification_status, reviewed_at IS NULL AS undecided,
       (SELECT role FROM evently.users WHERE id = t.id('olga')) AS role
  FROM evently.organizers WHERE id = t.id('app1');
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('olga'), t.req(body => '{"organization_name": "Again"}'))$$) AS apply_twice;
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('fan13'), t.req(body => '{"organization_name": " x "}'))$$) AS name_too_short;
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('fan13'), t.req(body => jsonb_build_object('organization_name', 'Fine', 'description', repeat('d', 2001))))$$) AS description_too_long;
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('fan13'), t.req(body => '{"organization_name": "Fine", "website": "x"}'))$$) AS unknown_field;
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('admin'), t.req(body => '{"organization_name": "Platform"}'))$$) AS admin_applies;
SELECT evently.api_organizer_me(t.id('olga'), t.req()) ->> 'verification_status' AS my_application;
SELECT t.try($$SELECT evently.api_organizer_me(t.id('fan13'), t.req())$$) AS never_applied;
-- a pending applicant and a USER create no event
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Too Soon')))$$) AS pending_creates;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('fan13'), t.req(body => t.draft_body('Mine')))$$) AS user_creates;

-- the ADMIN's queue, and decisions
SELECT jsonb_path_query_array(evently.api_admin_organizers_list(t.id('admin'), t.req(query => '{"status": "pending"}')),
                              '$.organizers[*].organization_name') AS pending_queue;
SELECT t.try($$SELECT evently.api_admin_organizers_list(t.id('olga'), t.req())$$) AS user_reads_queue;
SELECT t.try($$SELECT evently.api_admin_organizers_list(t.id('admin'), t.req(query => '{"status": "MAYBE"}'))$$) AS bad_status;
SELECT t.try($$SELECT evently.api_admin_organizers_list(t.id('admin'), t.req(query => '{"limit": "0"}'))$$) AS bad_limit;
SELECT t.try($$SELECT evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1')), '{}', '{"decision": "REJECTED"}'))$$) AS reject_without_reason;
SELECT t.try($$SELECT evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1')), '{}', '{"decision": "MAYBE"}'))$$) AS bad_decision;
SELECT t.try($$SELECT evently.api_admin_organizer_verify(t.id('olga'), t.req(jsonb_build_object('id', t.id('app1')), '{}', '{"decision": "VERIFIED"}'))$$) AS verify_yourself;
SELECT t.try($$SELECT evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', gen_random_uuid()), '{}', '{"decision": "VERIFIED"}'))$$) AS unknown_application;
SELECT d->>'verification_status' AS status, d->>'reason' AS reason
  FROM evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1')), '{}',
         '{"decision": "rejected", "reason": "Tell us about your venues"}')) d;
SELECT t.try($$SELECT evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1')), '{}', '{"decision": "VERIFIED"}'))$$) AS decide_twice;
-- a rejected applicant applies again; verified, she becomes an ORGANIZER and
-- her sessions end (the role is in her tokens)
SELECT t.remember('app1b', (evently.api_organizer_apply(t.id('olga'),
         t.req(body => '{"organization_name": "Olga Live", "description": "Concerts at Olga''s Hall"}'))->>'id')::uuid);
CREATE TABLE t.olga_before AS SELECT session_epoch FROM evently.users WHERE id = t.id('olga');
SELECT d->>'verification_status' AS status, d->'user'->>'role' AS role
  FROM evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1b')), '{}',
         '{"decision": "VERIFIED"}')) d;
SELECT u.session_epoch > b.session_epoch AS sessions_ended FROM evently.users u, t.olga_before b WHERE u.id = t.id('olga');
SELECT t.try($$SELECT evently.api_organizer_apply(t.id('olga'), t.req(body => '{"organization_name": "Third"}'))$$) AS verified_applies;
SELECT t.remember('app2', (evently.api_organizer_apply(t.id('oscar'), t.req(body => '{"organization_name": "Oscar Shows"}'))->>'id')::uuid);
SELECT evently.api_admin_organizer_verify(t.id('admin'), t.req(jsonb_build_object('id', t.id('app2')), '{}', '{"decision": "VERIFIED"}')) ->> 'verification_status';
SELECT type, user_id = t.id('olga') AS for_olga FROM evently.outbox
 WHERE aggregate = 'organizer' AND user_id IN (t.id('olga'), t.id('oscar')) ORDER BY id;

-- 2. A draft ----------------------------------------------------------------
SELECT t.remember('draft', (evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Olga Sings')))->>'id')::uuid);
SELECT status, category, end_time - date_time AS length, organizer_id = t.id('app1b') AS olgas,
       (SELECT count(*) FROM evently.event_seats WHERE event_id = e.id) AS seats
  FROM evently.events e WHERE id = t.id('draft');
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Bad', '{"category": "Rock!"}')))$$) AS bad_category;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Bad', '{"end_time": "2001-01-01T00:00:00Z"}')))$$) AS ends_before_start;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Bad', '{"sales_during_event": "yes"}')))$$) AS bad_flag;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Bad', '{"status": "published"}')))$$) AS sets_own_status;
-- invisible to the public, to other organizers, to a buyer; visible to its organizer and ADMINs
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(t.ev('draft')))$$) AS public_read;
SELECT t.try($$SELECT evently.api_event_get(t.id('oscar'), t.req(t.ev('draft')))$$) AS other_organizer_reads;
SELECT t.try($$SELECT evently.api_event_layout(t.id('fan13'), t.req(t.ev('draft')))$$) AS buyer_reads_layout;
SELECT evently.api_event_get(t.id('olga'), t.req(t.ev('draft'))) ->> 'status' AS organizer_reads,
       evently.api_event_get(t.id('admin'), t.req(t.ev('draft'))) ->> 'status' AS admin_reads;
SELECT evently.api_events_list(NULL, t.req(query => '{"search": "Olga Sings"}')) -> 'total_count' AS public_list,
       evently.api_admin_events_list(t.id('admin'), t.req(query => '{"search": "Olga Sings"}')) -> 'total_count' AS admin_list,
       evently.api_admin_events_list(t.id('admin'), t.req(query => '{"status": "draft", "search": "Olga"}')) -> 'total_count' AS admin_drafts;
SELECT t.try($$SELECT evently.api_events_list(NULL, t.req(query => '{"status": "draft"}'))$$) AS public_lists_drafts;
-- nothing is sold or queued on a draft
SELECT t.try($$SELECT evently.hold_seats(t.id('draft'), t.id('fan13'), t.seats('draft', 'A1'))$$) AS hold_on_draft;
SELECT t.try($$SELECT evently.join_waitlist(t.id('draft'), t.id('fan13'), 1)$$) AS join_on_draft;
-- a draft changes freely, but only by its organizer; a write on someone else's event is 404
SELECT d->>'base_price' AS price, d->>'category' AS category, d->>'end_time' IS NOT NULL AS has_end
  FROM t.on_event('api_organizer_event_update', 'olga', 'draft',
                  jsonb_build_object('base_price', 45, 'category', 'jazz',
                                     'date_time', to_char(now() + interval '6 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) d;
SELECT end_time - date_time AS still_3h FROM evently.events WHERE id = t.id('draft');
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'oscar', 'draft', '{"base_price": 1}')$$) AS other_organizer_edits;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'fan13', 'draft', '{"base_price": 1}')$$) AS buyer_edits;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', jsonb_build_object('venue_template_id', t.id('wide')))$$) AS change_venue;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"end_time": "2001-01-01T00:00:00Z"}')$$) AS end_in_past;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"status": "published"}')$$) AS publish_by_edit;

-- 3. Review -----------------------------------------------------------------
SELECT t.try($$SELECT t.on_event('api_admin_event_approve', 'admin', 'draft')$$) AS approve_a_draft;
SELECT t.try($$SELECT t.on_event('api_admin_event_reject', 'admin', 'draft', '{"reason": "no"}')$$) AS reject_a_draft;
SELECT t.try($$SELECT t.on_event('api_event_cancel', 'olga', 'draft', '{"reason": "no"}')$$) AS cancel_a_draft;
SELECT t.try($$SELECT t.on_event('api_event_submit', 'oscar', 'draft')$$) AS other_organizer_submits;
SELECT t.on_event('api_event_submit', 'olga', 'draft') ->> 'status' AS submitted;
SELECT t.try($$SELECT t.on_event('api_event_submit', 'olga', 'draft')$$) AS submit_twice;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"base_price": 50}')$$) AS edit_under_review;
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(t.ev('draft')))$$) AS public_reads_under_review;
SELECT t.try($$SELECT t.on_event('api_admin_event_approve', 'olga', 'draft')$$) AS organizer_approves;
SELECT t.try($$SELECT t.on_event('api_admin_event_reject', 'admin', 'draft', '{}')$$) AS reject_without_reason;
SELECT d->>'status' AS status, d->>'review_note' AS note
  FROM t.on_event('api_admin_event_reject', 'admin', 'draft', '{"reason": "Add a description"}') d;
SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"description": "Jazz standards, one night only"}') ->> 'status' AS fixed;
SELECT d->>'status' AS status, d->>'review_note' IS NULL AS note_cleared
  FROM t.on_event('api_event_submit', 'olga', 'draft') d;
SELECT d->>'status' AS status, d->>'published_at' IS NOT NULL AS dated
  FROM t.on_event('api_admin_event_approve', 'admin', 'draft') d;
SELECT evently.api_event_get(NULL, t.req(t.ev('draft'))) ->> 'status' AS public_reads_it;
SELECT t.try($$SELECT t.on_event('api_admin_event_approve', 'admin', 'draft')$$) AS approve_twice;
SELECT type FROM evently.outbox WHERE event_id = t.id('draft') ORDER BY id;

-- an event with nothing to sell (tiers only, none yet) is not submitted
SELECT t.remember('tiers_only', (evently.api_organizer_event_create(t.id('oscar'),
         t.req(body => t.draft_body('Oscar Bare') - 'venue_template_id'))->>'id')::uuid);
SELECT venue_template_id IS NULL AS tiers_only, (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('tiers_only')) AS seats
  FROM evently.events WHERE id = t.id('tiers_only');
SELECT t.try($$SELECT t.on_event('api_event_submit', 'oscar', 'tiers_only')$$) AS submit_nothing_to_sell;
SELECT evently.api_event_sections(t.id('oscar'), t.req(t.ev('tiers_only'))) AS no_sections;
SELECT d->'sections' AS layout_sections, d->'total_seats' AS layout_seats, d->'venue_info'->'template_id' AS template
  FROM evently.api_event_layout(t.id('oscar'), t.req(t.ev('tiers_only'))) d;
-- a draft nobody held is deleted; another organizer's is not found
SELECT t.try($$SELECT t.on_event('api_organizer_event_delete', 'olga', 'tiers_only')$$) AS delete_others_draft;
SELECT t.on_event('api_organizer_event_delete', 'oscar', 'tiers_only') AS deleted,
       NOT EXISTS (SELECT 1 FROM evently.events WHERE id = t.id('tiers_only')) AS gone;

-- 4. On sale ----------------------------------------------------------------
SELECT evently.set_cancellation_policy(t.id('draft'), true, now() + interval '5 days', 'PERCENTAGE', 50, 3, t.id('admin')) IS NOT NULL AS policy;
SELECT t.book('olga_b1', 'draft', 'fan13', 'A1', 'A2');
SELECT t.remember('olga_h1', (evently.hold_seats(t.id('draft'), t.id('fan13'), t.seats('draft', 'B1')) ->> 'hold_id')::uuid);
SELECT evently.join_waitlist(t.id('draft'), t.id('carol'), 2) ->> 'status' AS queued;
-- what a published event may still change
SELECT d->>'description' AS description, d->>'image_url' AS image
  FROM t.on_event('api_organizer_event_update', 'olga', 'draft', '{"description": "Sold well", "image_url": "https://example.com/o.png"}') d;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', jsonb_build_object('date_time', to_char(now() + interval '9 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))$$) AS move_after_sales;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"base_price": 10, "name": "Cheaper"}')$$) AS reprice_after_sales;
SELECT t.try($$SELECT t.on_event('api_organizer_event_delete', 'olga', 'draft')$$) AS delete_after_hold;
SELECT t.on_event('api_organizer_event_update', 'olga', 'draft',
                  jsonb_build_object('end_time', to_char(now() + interval '6 days 5 hours', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) ->> 'status' AS longer;

-- 5. Cancelled: one transaction releases, refunds in full and closes --------
SELECT t.try($$SELECT t.on_event('api_event_cancel', 'oscar', 'draft', '{"reason": "mine now"}')$$) AS other_organizer_cancels;
SELECT t.try($$SELECT t.on_event('api_event_cancel', 'olga', 'draft', '{"reason": ""}')$$) AS cancel_without_reason;
SELECT d->>'status' AS status, d->>'cancel_reason' AS reason
  FROM t.on_event('api_event_cancel', 'olga', 'draft', '{"reason": "The singer is ill"}') d;
SELECT b.status, b.total_price, p.status AS payment, p.refund_amount, c.cancellation_fee, c.reason
  FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id
  JOIN evently.cancellations c ON c.booking_id = b.id WHERE b.id = t.id('olga_b1');
SELECT (SELECT status FROM evently.holds WHERE id = t.id('olga_h1')) AS hold,
       (SELECT string_agg(DISTINCT status, ',') FROM evently.waitlist_entries WHERE event_id = t.id('draft')) AS waitlist,
       (SELECT string_agg(DISTINCT status, ',') FROM evently.event_seats WHERE event_id = t.id('draft')) AS seats,
       t.counters_agree() AS counters_agree;
SELECT type, count(*) FROM evently.outbox WHERE event_id = t.id('draft')
   AND type IN ('event.cancelled', 'booking.cancelled', 'hold.released', 'waitlist.closed') GROUP BY type ORDER BY type;
SELECT t.try($$SELECT t.on_event('api_event_cancel', 'admin', 'draft', '{"reason": "again"}')$$) AS cancel_twice;
SELECT t.try($$SELECT evently.confirm_booking(t.id('olga_h1'), t.id('fan13'))$$) AS confirm_after_cancel;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'draft', '{"description": "x"}')$$) AS edit_cancelled;

-- 6. Active and completed follow the clock ----------------------------------
SELECT t.remember('clock', (evently.api_organizer_event_create(t.id('oscar'), t.req(body => t.draft_body('Oscar Live')))->>'id')::uuid);
SELECT t.on_event('api_event_submit', 'oscar', 'clock') ->> 'status', t.on_event('api_admin_event_approve', 'admin', 'clock') ->> 'status';
-- it started an hour ago (stored status: still published)
UPDATE evently.events SET date_time = now() - interval '1 hour', end_time = now() + interval '2 hours' WHERE id = t.id('clock');
SELECT status AS stored, t.lifecycle('clock') AS shown, evently.api_event_get(NULL, t.req(t.ev('clock'))) ->> 'status' AS read
  FROM evently.events WHERE id = t.id('clock');
SELECT evently.api_events_list(NULL, t.req(query => '{"status": "active", "search": "Oscar Live"}')) -> 'total_count' AS listed_active;
SELECT t.try($$SELECT evently.hold_seats(t.id('clock'), t.id('fan13'), t.seats('clock', 'A1'))$$) AS hold_once_started;
-- unless its organizer lets sales run into the event
SELECT t.on_event('api_organizer_event_update', 'oscar', 'clock', '{"sales_during_event": true}') ->> 'sales_during_event' AS sells_on;
SELECT evently.hold_seats(t.id('clock'), t.id('fan13'), t.seats('clock', 'A1')) ->> 'status' AS hold_while_active;
SELECT evently.join_waitlist(t.id('clock'), t.id('carol'), 1) ->> 'status' AS queue_while_active;
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'oscar', 'clock', '{"base_price": 1}')$$) AS reprice_active_with_hold;
UPDATE evently.events SET end_time = now() - interval '1 minute', date_time = now() - interval '3 hours' WHERE id = t.id('clock');
SELECT t.lifecycle('clock') AS shown;
SELECT t.try($$SELECT evently.hold_seats(t.id('clock'), t.id('fan13'), t.seats('clock', 'A2'))$$) AS hold_when_over;
SELECT t.try($$SELECT t.on_event('api_event_cancel', 'oscar', 'clock', '{"reason": "late"}')$$) AS cancel_completed;

-- 7. A linked database role meets the same rules ----------------------------
SELECT evently.setup_roles('gw_login');
CREATE ROLE oscar_db LOGIN;
SELECT evently.link_role('oscar_db', t.id('oscar'));
SELECT t.remember('olga2', (evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Olga Again')))->>'id')::uuid);
SET SESSION AUTHORIZATION oscar_db;
SELECT t.try($$SELECT t.on_event('api_event_submit', 'olga', 'olga2')$$) AS as_olga;
SELECT t.try($$SELECT evently.api_event_submit(NULL, t.req(t.ev('olga2')))$$) AS olgas_event;
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(t.ev('olga2')))$$) AS reads_olgas_draft;
SELECT count(*) AS sees_the_draft_row FROM evently.events WHERE id = t.id('olga2');
-- his reports show the lifecycle's status, not the stored one
SELECT name, status FROM evently.report_event_sales WHERE event_id = t.id('clock');
RESET SESSION AUTHORIZATION;
SELECT status FROM evently.events WHERE id = t.id('olga2');
-- the ADMIN's 1.0 edit route leaves drafts to their organizer
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('olga2'), '{}', '{"name": "Renamed"}'))$$) AS admin_put_on_draft;
-- an organizer sets its own event's cancellation policy, not another's
SELECT d->>'fee_type' AS fee_type, d->>'fee_amount' AS fee
  FROM evently.api_policy_set(t.id('olga'), t.req(t.ev('olga2'), '{}', jsonb_build_object('allow_cancellation', true,
         'fee_type', 'FIXED', 'fee_amount', 5,
         'cancellation_deadline', to_char(now() + interval '4 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) || '{"method": "POST"}') d;
SELECT t.on_event('api_policy_get', 'olga', 'olga2') ->> 'fee_type' AS reads_it;
SELECT t.try($$SELECT t.on_event('api_policy_get', 'oscar', 'olga2')$$) AS other_reads_policy;
SELECT t.try($$SELECT t.on_event('api_policy_set', 'oscar', 'olga2', '{"allow_cancellation": false, "fee_type": "NONE", "cancellation_deadline": "2099-01-01T00:00:00Z"}')$$) AS other_sets_policy;

-- 8. The ADMIN's route keeps the lifecycle too (found by a hostile review) ---
-- a completed event is final: no late cancellation (and refund), no new date
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('clock'), '{}', '{"status": "cancelled"}'))$$) AS admin_cancels_completed;
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('clock'), '{}', '{"date_time": "2030-05-01T19:00:00Z"}'))$$) AS admin_reopens_completed;
-- an organizer's sold event keeps its date and price whoever edits it; the same values again are fine
SELECT t.remember('osold', (evently.api_organizer_event_create(t.id('oscar'), t.req(body => t.draft_body('Oscar Sold')))->>'id')::uuid);
SELECT t.on_event('api_event_submit', 'oscar', 'osold') ->> 'status', t.on_event('api_admin_event_approve', 'admin', 'osold') ->> 'status';
SELECT t.book('osold_b1', 'osold', 'fan13', 'A1');
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('osold'), '{}', '{"base_price": 1}'))$$) AS admin_reprices_sold;
SELECT t.on_event('api_organizer_event_update', 'oscar', 'osold',
                  jsonb_build_object('name', 'Oscar Sold', 'base_price', 40, 'description', 'same name, same price')) ->> 'description' AS resent_unchanged;
-- an event that started keeps its date
UPDATE evently.events SET date_time = now() - interval '1 hour', end_time = now() + interval '1 hour' WHERE id = t.id('osold');
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(t.ev('osold'), '{}', '{"date_time": "2030-05-01T19:00:00Z"}'))$$) AS admin_moves_started;
-- image addresses and far dates
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'olga', 'olga2', '{"image_url": "javascript:alert(1)"}')$$) AS script_image;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('olga'), t.req(body => t.draft_body('Far', '{"date_time": "9999-12-31T23:59:59Z"}')))$$) AS year_9999;
-- drafts stay invisible to the availability check and the SQL seat list
SELECT t.try($$SELECT evently.api_seats_availability(t.id('fan13'), t.req(body => jsonb_build_object('event_id', t.id('olga2'), 'seat_ids', to_jsonb(t.seats('olga2', 'A1')))))$$) AS availability_of_draft;
SET SESSION AUTHORIZATION oscar_db;
SELECT t.try($$SELECT * FROM evently.event_seats(t.id('olga2'))$$) AS seat_list_of_others_draft;
SELECT count(*) AS own_draft_seats FROM evently.event_seats(t.id('osold'));
RESET SESSION AUTHORIZATION;
-- a seat blocked at the venue is blocked on drafts too
SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', (t.seats('olga2', 'A3'))[1]), '{}', '{"status": "BLOCKED"}')) ->> 'status' AS venue_seat;
SELECT status FROM evently.event_seats WHERE event_id = t.id('olga2') AND seat_id = (t.seats('olga2', 'A3'))[1];
SELECT evently.api_seat_update(t.id('admin'), t.req(jsonb_build_object('id', (t.seats('olga2', 'A3'))[1]), '{}', '{"status": "AVAILABLE"}')) ->> 'status' AS unblocked;
SELECT t.counters_agree() AS counters_agree;
-- a transition takes no body
SELECT t.try($$SELECT t.on_event('api_event_submit', 'olga', 'olga2', '{"status": "published"}')$$) AS submit_with_fields;
-- reasons are counted in characters, whatever the script: 300 of them fit in 500
SELECT d->>'status' AS status, length(d->>'cancel_reason') AS reason_characters
  FROM t.on_event('api_event_cancel', 'oscar', 'osold', jsonb_build_object('reason', repeat('é', 300))) d;
SELECT b.status, length(c.reason) AS refund_reason_characters FROM evently.bookings b
  JOIN evently.cancellations c ON c.booking_id = b.id WHERE b.id = t.id('osold_b1');

-- 9. An ADMIN revokes a verification ---------------------------------------
SELECT t.try($$SELECT evently.api_admin_organizer_revoke(t.id('admin'), t.req(jsonb_build_object('id', t.id('app2'))))$$) AS revoke_without_reason;
SELECT t.try($$SELECT evently.api_admin_organizer_revoke(t.id('olga'), t.req(jsonb_build_object('id', t.id('app2')), '{}', '{"reason": "no"}'))$$) AS organizer_revokes;
SELECT t.try($$SELECT evently.api_admin_organizer_revoke(t.id('admin'), t.req(jsonb_build_object('id', t.id('app1')), '{}', '{"reason": "no"}'))$$) AS revoke_rejected;
SELECT d->>'verification_status' AS status, d->>'reason' AS reason, d->'user'->>'role' AS role
  FROM evently.api_admin_organizer_revoke(t.id('admin'), t.req(jsonb_build_object('id', t.id('app2')), '{}',
         '{"reason": "Refunds never paid"}')) d;
-- oscar runs nothing any more (his events are the ADMINs' to run), and may apply again
SELECT t.try($$SELECT t.on_event('api_organizer_event_update', 'oscar', 'clock', '{"description": "still mine?"}')$$) AS revoked_edits;
SELECT t.try($$SELECT evently.api_organizer_event_create(t.id('oscar'), t.req(body => t.draft_body('Oscar Again')))$$) AS revoked_creates;
SELECT evently.api_organizer_apply(t.id('oscar'), t.req(body => '{"organization_name": "Oscar Reformed"}')) ->> 'verification_status' AS applies_again;
SELECT type FROM evently.outbox WHERE aggregate = 'organizer' AND user_id = t.id('oscar') ORDER BY id DESC LIMIT 2;
