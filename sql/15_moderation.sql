-- Moderation (issue 11, item 5; extension/sql/12_moderation.sql): an ADMIN
-- bans and unbans users, lists them and reads the audit log; an organizer
-- reads its own events' audit trail.  Everything here is made here (labels
-- mod_*, e-mails @moderation.test), and no result counts rows of other files.
SET client_min_messages = warning;

-- Accounts: two ADMINs, a troll and a fan, two verified organizers
SELECT t.remember('mod_admin', evently.create_user('moira@moderation.test', 'qwerty', 'Moira', 'Moderator', 'ADMIN'));
SELECT t.remember('mod_admin2', evently.create_user('mads@moderation.test', 'qwerty', 'Mads', 'Moderator', 'ADMIN'));
SELECT t.remember('mod_troll', evently.create_user('trevor@moderation.test', 'qwerty', 'Trevor', 'Troll_50%'));
SELECT t.remember('mod_fan', evently.create_user('fiona@moderation.test', 'qwerty', 'Fiona', 'Fan'));
CREATE FUNCTION t.mod_organizer(label text, email text, org text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    uid uuid := evently.create_user(email, 'qwerty', 'Otto', 'Organizer');
    app jsonb := evently.api_organizer_apply(uid, t.req(body => jsonb_build_object('organization_name', org)));
BEGIN
    PERFORM evently.api_admin_organizer_verify(t.id('mod_admin'),
        t.req(jsonb_build_object('id', app ->> 'id'), body => '{"decision": "VERIFIED"}'));
    PERFORM t.remember(label || '_account', (app ->> 'id')::uuid);
    RETURN t.remember(label, uid);
END
$$;
SELECT t.mod_organizer('mod_org', 'otto@moderation.test', 'Mod Nights');
SELECT t.mod_organizer('mod_org2', 'olga@moderation.test', 'Other Nights');

-- Events on the hall of 00_setup: mod_gig belongs to mod_org
SELECT t.remember('mod_gig', evently.create_event('Mod Gig', t.id('hall'), now() + interval '25 days', 20, t.id('mod_admin')));
SELECT t.remember('mod_gig2', evently.create_event('Mod Gig Two', t.id('hall'), now() + interval '26 days', 20, t.id('mod_admin')));
SELECT t.remember('mod_offer', evently.create_event('Mod Offer', t.id('hall'), now() + interval '27 days', 20, t.id('mod_admin')));
UPDATE evently.events SET organizer_id = t.id('mod_org_account') WHERE id = t.id('mod_gig');

-- The troll signs in (a session to end), holds, books and waits:
--   mod_gig: holds A1 A2, bought A3; the fan holds B1
--   mod_gig2: holds B2, and B3 whose time ran out (the sweeper's, not the ban's); waits
--   mod_offer: waits first, the fan second; the troll's turn came (an offer, a hold)
CREATE TABLE t.mod_session AS
    SELECT (s -> 'session' ->> 'epoch')::int AS epoch, (s -> 'session' ->> 'jti')::uuid AS jti
      FROM evently.api_login(NULL, '{"body": {"email": "trevor@moderation.test", "password": "qwerty"}, "client_address": "192.0.2.50"}') s;
SELECT t.remember('mod_h1', (evently.hold_seats(t.id('mod_gig'), t.id('mod_troll'), t.seats('mod_gig', 'A1', 'A2')) ->> 'hold_id')::uuid);
SELECT t.book('mod_b1', 'mod_gig', 'mod_troll', 'A3');
SELECT t.remember('mod_h_fan', (evently.hold_seats(t.id('mod_gig'), t.id('mod_fan'), t.seats('mod_gig', 'B1')) ->> 'hold_id')::uuid);
SELECT t.remember('mod_h2', (evently.hold_seats(t.id('mod_gig2'), t.id('mod_troll'), t.seats('mod_gig2', 'B2')) ->> 'hold_id')::uuid);
SELECT t.remember('mod_h_lapsed', (evently.hold_seats(t.id('mod_gig2'), t.id('mod_troll'), t.seats('mod_gig2', 'B3')) ->> 'hold_id')::uuid);
SELECT t.lapse('mod_h_lapsed');
SELECT evently.join_waitlist(t.id('mod_gig2'), t.id('mod_troll')) ->> 'status' AS troll_waits;
SELECT evently.join_waitlist(t.id('mod_offer'), u) ->> 'status' AS waiting
  FROM unnest(ARRAY[t.id('mod_troll'), t.id('mod_fan')]) u;
SELECT jsonb_array_length(evently.waitlist_promote(t.id('mod_offer'), 1) -> 'offers') AS offers;
SELECT t.remember('mod_h_offer', hold_id) FROM evently.waitlist_entries
 WHERE event_id = t.id('mod_offer') AND user_id = t.id('mod_troll');

CREATE FUNCTION t.mod_state() RETURNS TABLE (what text, status text) LANGUAGE sql STABLE AS $$
    SELECT 'hold ' || l.label, h.status FROM evently.holds h JOIN t.ids l ON l.id = h.id
     WHERE l.label IN ('mod_h1', 'mod_h2', 'mod_h_lapsed', 'mod_h_offer', 'mod_h_fan')
    UNION ALL
    SELECT 'booking mod_b1', status FROM evently.bookings WHERE id = t.id('mod_b1')
    UNION ALL
    SELECT format('seat %s %s', e.label, s.seat_number), s.status
      FROM t.ids e, evently.event_seats(e.id) s
     WHERE e.label IN ('mod_gig', 'mod_gig2') AND s.seat_number IN ('A1', 'A2', 'A3', 'B1', 'B2', 'B3')
    UNION ALL
    SELECT format('waitlist %s %s', e.label, u.label), w.status
      FROM evently.waitlist_entries w JOIN t.ids e ON e.id = w.event_id JOIN t.ids u ON u.id = w.user_id
     WHERE e.label LIKE 'mod\_%' AND u.label LIKE 'mod\_%'
    ORDER BY 1
$$;
SELECT * FROM t.mod_state();

-- 1. Refusals of a ban ----------------------------------------------------
CREATE FUNCTION t.ban(actor text, target uuid, body jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT t.try(format('SELECT evently.api_admin_user_ban(%L, %L)', t.id(actor),
                        t.req(jsonb_build_object('id', target), body => body)))
$$;
SELECT t.ban('mod_fan', t.id('mod_troll'), '{"reason": "spam"}') AS user_bans;
SELECT t.ban('mod_org', t.id('mod_troll'), '{"reason": "spam"}') AS organizer_bans;
SELECT t.ban('mod_admin', t.id('mod_troll'), '{}') AS no_reason;
SELECT t.ban('mod_admin', t.id('mod_troll'), '{"reason": "   "}') AS blank_reason;
SELECT t.ban('mod_admin', t.id('mod_troll'), jsonb_build_object('reason', repeat('x', 501))) AS reason_501;
SELECT t.ban('mod_admin', t.id('mod_troll'), '{"reason": "spam", "until": "2030-01-01"}') AS unknown_field;
SELECT t.ban('mod_admin', gen_random_uuid(), '{"reason": "spam"}') AS unknown_user;
SELECT t.try($$SELECT evently.api_admin_user_ban(t.id('mod_admin'), t.req('{"id": "nope"}', body => '{"reason": "spam"}'))$$) AS not_a_uuid;
SELECT t.ban('mod_admin', t.id('mod_admin'), '{"reason": "spam"}') AS self;
SELECT t.ban('mod_admin', t.id('mod_admin2'), '{"reason": "spam"}') AS an_admin;
-- a DBA's role meets the same rules: the fan's may not ban, nor try passwords
CREATE ROLE mod_fan_db LOGIN;
SELECT evently.link_role('mod_fan_db', t.id('mod_fan'));
SET SESSION AUTHORIZATION mod_fan_db;
SELECT t.ban('mod_fan', t.id('mod_troll'), '{"reason": "spam"}') AS linked_user_bans;
SELECT t.try($$SELECT evently._password_owner('trevor@moderation.test', 'qwerty')$$) AS linked_guesses_passwords;
RESET SESSION AUTHORIZATION;
SELECT evently.unlink_role('mod_fan_db');
DROP ROLE mod_fan_db;
-- nothing changed
SELECT status, ban_reason, banned_at FROM evently.users WHERE id = t.id('mod_troll');

-- 2. The ban ---------------------------------------------------------------
SELECT b -> 'user' ->> 'status' AS status, b -> 'user' ->> 'ban_reason' AS reason,
       b -> 'user' ->> 'banned_at' IS NOT NULL AS banned_at_set, b ->> 'released_holds' AS released_holds,
       b ->> 'cancelled_waitlist_entries' AS cancelled_waitlist_entries
  FROM evently.api_admin_user_ban(t.id('mod_admin'), t.req(jsonb_build_object('id', t.id('mod_troll')),
                                  body => '{"reason": "  spamming the queue  "}')) b;
-- live holds RELEASED, their seats AVAILABLE; the lapsed hold left to the
-- sweeper; the booking stays; the troll's entries CANCELLED, and the offer
-- he held went to the fan, next in line
SELECT * FROM t.mod_state();
SELECT t.counters_agree() AS counters_agree;
SELECT count(*) AS troll_live_holds FROM evently.holds
 WHERE user_id = t.id('mod_troll') AND status = 'ACTIVE' AND expires_at > now();
SELECT o.type, t.scrub(o.data ->> 'hold_id') AS hold, t.scrub(a.actor_id::text) AS actor
  FROM evently.outbox o JOIN evently.audit_log a ON a.action = o.type AND a.object_id = (o.data ->> 'hold_id')::uuid
 WHERE o.type = 'hold.released' AND o.user_id = t.id('mod_troll') ORDER BY 2;
-- user.banned: outbox row and audit row
SELECT type, aggregate, t.scrub(user_id::text) AS user_id, event_id, data ->> 'reason' AS reason,
       data ->> 'released_holds' AS released_holds, data ->> 'cancelled_waitlist_entries' AS cancelled_entries
  FROM evently.outbox WHERE type = 'user.banned' AND user_id = t.id('mod_troll');
SELECT action, object_type, t.scrub(object_id::text) AS object, t.scrub(actor_id::text) AS actor
  FROM evently.audit_log WHERE action = 'user.banned' AND object_id = t.id('mod_troll');
-- the sweeper expires the lapsed hold as ever
SELECT evently.expire_holds() >= 1 AS swept;
SELECT status FROM evently.holds WHERE id = t.id('mod_h_lapsed');

-- Sessions end at once: the old token's epoch, the refresh token, and
-- the engine and the waitlist refuse the banned user
SELECT t.try(format($$SELECT evently._actor(t.id('mod_troll'), '{"session": {"epoch": %s}}')$$, epoch)) AS old_token
  FROM t.mod_session;
SELECT u.session_epoch > s.epoch AS epoch_moved FROM evently.users u, t.mod_session s WHERE u.id = t.id('mod_troll');
SELECT t.try(format($$SELECT evently.api_refresh(NULL, '{"jti": "%s"}')$$, jti)) AS refreshed FROM t.mod_session;
-- a refresh token the ban revoked is refused, not reported as stolen
SELECT count(*) AS reuse_reported FROM evently.audit_log WHERE action = 'user.refresh_reuse' AND object_id = t.id('mod_troll');
SELECT t.try($$SELECT evently.hold_seats(t.id('mod_gig'), t.id('mod_troll'), t.seats('mod_gig', 'A4'))$$) AS banned_holds;
SELECT t.try($$SELECT evently.join_waitlist(t.id('mod_gig'), t.id('mod_troll'))$$) AS banned_joins;

-- Login: the right password is told of the ban (403 ACCOUNT_BANNED, with the
-- reason) and counts no failure; a wrong one is an ordinary failure, the
-- answer an unknown e-mail gets
CREATE FUNCTION t.mod_login(email text, password text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    req jsonb := jsonb_build_object('body', jsonb_build_object('email', email, 'password', password),
                                    'client_address', '198.51.100.50');
    r jsonb;
BEGIN
    r := evently.api_login(NULL, req);
    RETURN CASE WHEN r ? 'session' THEN 'signed in' ELSE 'refused: ' || (r ->> 'error') END;
EXCEPTION WHEN OTHERS THEN
    RETURN t.try(format('SELECT evently.api_login(NULL, %L)', req));
END
$$;
SELECT t.mod_login('trevor@moderation.test', 'wrong1') AS wrong_password;
SELECT t.mod_login('nobody@moderation.test', 'wrong1') AS unknown_email;
SELECT t.mod_login('trevor@moderation.test', 'qwerty') AS right_password;
SELECT t.mod_login('TREVOR@moderation.test', 'qwerty') AS right_password_any_case;
SELECT failures AS troll_failures_counted FROM evently.login_failures WHERE email = 'trevor@moderation.test';
SELECT evently.check_password('trevor@moderation.test', 'qwerty') IS NULL AS check_password_refuses;

-- 3. Refusals once banned, and unban ---------------------------------------
SELECT t.ban('mod_admin', t.id('mod_troll'), '{"reason": "again"}') AS banned_twice;
CREATE FUNCTION t.unban(actor text, target uuid) RETURNS text LANGUAGE sql AS $$
    SELECT t.try(format('SELECT evently.api_admin_user_unban(%L, %L)', t.id(actor),
                        t.req(jsonb_build_object('id', target))))
$$;
SELECT t.unban('mod_fan', t.id('mod_troll')) AS user_unbans;
SELECT t.unban('mod_admin', t.id('mod_fan')) AS not_banned;
SELECT t.unban('mod_admin', gen_random_uuid()) AS unknown_user;
SELECT u -> 'user' ->> 'status' AS status, u -> 'user' -> 'ban_reason' AS reason, u -> 'user' -> 'banned_at' AS banned_at
  FROM evently.api_admin_user_unban(t.id('mod_admin2'), t.req(jsonb_build_object('id', t.id('mod_troll')))) u;
SELECT type, t.scrub(user_id::text) AS user_id, data ->> 'ban_reason' AS lifted
  FROM evently.outbox WHERE type = 'user.unbanned' AND user_id = t.id('mod_troll');
SELECT t.unban('mod_admin', t.id('mod_troll')) AS unbanned_twice;
-- signs in again; the old session stays ended; what the ban took stays taken
SELECT t.mod_login('trevor@moderation.test', 'qwerty') AS after_unban;
SELECT t.try(format($$SELECT evently._actor(t.id('mod_troll'), '{"session": {"epoch": %s}}')$$, epoch)) AS old_token
  FROM t.mod_session;
SELECT * FROM t.mod_state() WHERE what LIKE 'waitlist%' OR what LIKE 'hold%';
SELECT evently.hold_seats(t.id('mod_gig'), t.id('mod_troll'), t.seats('mod_gig', 'A1')) ->> 'status' AS holds_again;

-- 4. The users list --------------------------------------------------------
CREATE FUNCTION t.users(actor text, query jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    r := evently.api_admin_users_list(t.id(actor), t.req(query => query));
    RETURN format('%s of %s: %s', jsonb_array_length(r -> 'users'), r ->> 'total_count',
                  (SELECT string_agg(t.scrub(u ->> 'id') || ' ' || (u ->> 'role') || ' ' || (u ->> 'status'), ', ' ORDER BY n)
                     FROM jsonb_array_elements(r -> 'users') WITH ORDINALITY x(u, n)));
EXCEPTION WHEN OTHERS THEN
    RETURN t.try(format('SELECT evently.api_admin_users_list(%L, %L)', t.id(actor), t.req(query => query)));
END
$$;
SELECT evently.api_admin_user_ban(t.id('mod_admin'), t.req(jsonb_build_object('id', t.id('mod_fan')),
                                  body => '{"reason": "test"}')) ->> 'released_holds' AS fan_banned_releases;
-- newest first
SELECT t.users('mod_admin', '{"search": "moderation.test"}') AS everyone;
SELECT t.users('mod_admin', '{"search": "MODERATION.TEST", "role": "admin"}') AS admins;
SELECT t.users('mod_admin', '{"search": "moderation.test", "role": "ORGANIZER"}') AS organizers;
SELECT t.users('mod_admin', '{"search": "moderation.test", "status": "BANNED"}') AS banned;
SELECT t.users('mod_admin', '{"search": "moderation.test", "status": "active", "role": "USER"}') AS active_users;
SELECT t.users('mod_admin', '{"search": "moderation.test", "limit": "2", "offset": "1"}') AS page_2_of_2;
SELECT t.users('mod_admin', '{"search": "moderation.test", "limit": "2", "offset": "10"}') AS past_the_end;
-- a name, case-insensitive; % and _ are characters
SELECT t.users('mod_admin', '{"search": "troll_50%"}') AS literal_name;
SELECT t.users('mod_admin', '{"search": "Troll%5"}') AS percent_is_no_wildcard;
SELECT t.users('mod_admin', '{"search": "fion"}') AS first_name;
SELECT t.users('mod_admin', '{"search": "Trevor@"}') AS email;
SELECT t.users('mod_admin', '{"search": "trevor", "role": "ADMIN"}') AS no_match;
-- what a row shows
SELECT u - 'id' - 'created_at' - 'updated_at' - 'banned_at' AS fan, u ->> 'banned_at' IS NOT NULL AS banned_at_set
  FROM jsonb_array_elements(evently.api_admin_users_list(t.id('mod_admin'), t.req(query => '{"search": "fiona@moderation"}')) -> 'users') u;
SELECT u -> 'organizer' ->> 'organization_name' AS organization, u -> 'organizer' ->> 'verification_status' AS verification
  FROM jsonb_array_elements(evently.api_admin_users_list(t.id('mod_admin'), t.req(query => '{"search": "otto@moderation"}')) -> 'users') u;
-- refusals
SELECT t.users('mod_troll', '{}') AS user_lists;
SELECT t.users('mod_org', '{}') AS organizer_lists;
SELECT t.users('mod_admin', '{"role": "ROOT"}') AS bad_role;
SELECT t.users('mod_admin', '{"status": "DELETED"}') AS bad_status;
SELECT t.users('mod_admin', '{"limit": "0"}') AS limit_0;
SELECT t.users('mod_admin', '{"limit": "101"}') AS limit_101;
SELECT t.users('mod_admin', '{"offset": "-1"}') AS offset_negative;
SELECT t.users('mod_admin', '{"limit": "ten"}') AS limit_text;

-- 5. The audit log (ADMIN) -------------------------------------------------
CREATE FUNCTION t.audit(actor text, query jsonb, event_label text DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    r := CASE WHEN event_label IS NULL THEN evently.api_admin_audit_logs(t.id(actor), t.req(query => query))
              ELSE evently.api_organizer_event_audit_logs(t.id(actor), t.req(t.ev(event_label), query => query)) END;
    RETURN format('%s of %s: %s', jsonb_array_length(r -> 'audit_logs'), r ->> 'total_count',
                  (SELECT string_agg((a ->> 'action') || ' ' || coalesce(t.scrub(a ->> 'object_id'), '-')
                                     || ' by ' || coalesce(t.scrub(a ->> 'actor_id'), '-'), ', ' ORDER BY n)
                     FROM jsonb_array_elements(r -> 'audit_logs') WITH ORDINALITY x(a, n)));
EXCEPTION WHEN OTHERS THEN
    RETURN t.try(format('SELECT evently.%s(%L, %L)',
                        CASE WHEN event_label IS NULL THEN 'api_admin_audit_logs' ELSE 'api_organizer_event_audit_logs' END,
                        t.id(actor), t.req(coalesce(t.ev(event_label), '{}'), query => query)));
END
$$;
-- every filter, newest first
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'))) AS about_the_troll;
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'), 'action', 'user.banned')) AS troll_bans;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_troll'), 'object_type', 'hold')) AS troll_holds;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_admin2'))) AS by_mod_admin2;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_admin'), 'action', 'user.banned')) AS bans_by_mod_admin;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_troll'), 'action', 'hold.created',
                                               'object_type', 'hold', 'limit', '2')) AS first_page;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_troll'), 'action', 'hold.created',
                                               'limit', '2', 'offset', '2')) AS second_page;
SELECT t.audit('mod_admin', jsonb_build_object('actor_id', t.id('mod_troll'), 'action', 'hold.created',
                                               'limit', '2', 'offset', '4')) AS last_page;
-- time ranges: RFC 3339 times or dates (UTC, to= includes its whole day)
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'), 'action', 'user.banned',
                   'from', to_char(now() AT TIME ZONE 'UTC' - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'to', to_char(now() AT TIME ZONE 'UTC' + interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))) AS this_hour;
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'), 'action', 'user.banned',
                   'from', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'), 'to', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD'))) AS today;
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'),
                   'from', to_char(now() AT TIME ZONE 'UTC' + interval '1 day', 'YYYY-MM-DD'))) AS from_tomorrow;
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'), 'to', '2000-01-01')) AS until_2000;
SELECT t.audit('mod_admin', jsonb_build_object('object_id', t.id('mod_troll'), 'to', '2000-01-01t00:00:00+02:00')) AS until_2000_time;
-- what a row shows
SELECT a - 'id' - 'occurred_at' - 'object_id' - 'actor_id' - 'details' - 'db_user' AS row, a ->> 'db_user' = session_user AS db_user_is_the_role,
       (a -> 'details') - 'user_id' - 'banned_at' AS details
  FROM jsonb_array_elements(evently.api_admin_audit_logs(t.id('mod_admin'),
           t.req(query => jsonb_build_object('object_id', t.id('mod_troll'), 'action', 'user.banned'))) -> 'audit_logs') a;
-- refusals, in our words
SELECT t.audit('mod_org', '{}') AS organizer_reads_all;
SELECT t.audit('mod_admin', '{"actor_id": "nope"}') AS bad_actor_id;
SELECT t.audit('mod_admin', '{"object_id": "123"}') AS bad_object_id;
SELECT t.audit('mod_admin', '{"from": "yesterday"}') AS bad_from;
SELECT t.audit('mod_admin', '{"from": "2024-13-45"}') AS impossible_date;
SELECT t.audit('mod_admin', '{"to": "2024-02-30T10:00:00Z"}') AS impossible_time;
SELECT t.audit('mod_admin', '{"to": "2024-02-01T10:00:00"}') AS time_without_zone;
SELECT t.audit('mod_admin', '{"from": "2024-02-02", "to": "2024-02-01"}') AS from_after_to;
SELECT t.audit('mod_admin', '{"limit": "101"}') AS limit_101;
SELECT t.audit('mod_admin', '{"offset": "x"}') AS bad_offset;

-- 6. An event's audit trail (organizer) ------------------------------------
-- mod_org reads mod_gig's: the holds, the booking, the releases by the ban
SELECT t.audit('mod_org', '{}', 'mod_gig') AS mod_gig_trail;
SELECT t.audit('mod_org', '{"action": "hold.released"}', 'mod_gig') AS releases;
SELECT t.audit('mod_org', jsonb_build_object('object_id', t.id('mod_h1')), 'mod_gig') AS one_hold;
SELECT t.audit('mod_org', '{"object_type": "booking", "limit": "1"}', 'mod_gig') AS bookings;
-- actor_id is not among its filters: ignored
SELECT t.audit('mod_org', jsonb_build_object('actor_id', t.id('mod_fan'), 'action', 'hold.released'), 'mod_gig') AS actor_ignored;
-- the organizer is not shown the database roles; an ADMIN is
SELECT a ? 'db_user' AS organizer_sees_db_user
  FROM jsonb_array_elements(evently.api_organizer_event_audit_logs(t.id('mod_org'), t.req(t.ev('mod_gig'))) -> 'audit_logs') a LIMIT 1;
SELECT a ? 'db_user' AS admin_sees_db_user
  FROM jsonb_array_elements(evently.api_organizer_event_audit_logs(t.id('mod_admin'), t.req(t.ev('mod_gig'))) -> 'audit_logs') a LIMIT 1;
SELECT t.audit('mod_admin', '{"action": "hold.released"}', 'mod_gig') AS admin_reads_any_event;
-- someone else's event is as unknown as a missing one
SELECT t.audit('mod_org2', '{}', 'mod_gig') AS other_organizer;
SELECT t.audit('mod_org', '{}', 'mod_gig2') AS not_its_event;
SELECT t.audit('mod_troll', '{}', 'mod_gig') AS a_user;
SELECT t.try($$SELECT evently.api_organizer_event_audit_logs(t.id('mod_org'), t.req('{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS missing_event;
SELECT t.try($$SELECT evently.api_organizer_event_audit_logs(t.id('mod_admin'), t.req('{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS admin_missing_event;
SELECT t.audit('mod_org', '{"from": "soon"}', 'mod_gig') AS bad_filter;
-- a banned organizer manages nothing
SELECT evently.api_admin_user_ban(t.id('mod_admin'), t.req(jsonb_build_object('id', t.id('mod_org2')),
                                  body => '{"reason": "test"}')) ->> 'released_holds' AS org2_banned;
SELECT t.audit('mod_org2', '{}', 'mod_gig') AS banned_organizer;

SELECT t.counters_agree(), t.catalogs_agree();
