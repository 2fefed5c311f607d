-- The database is the security boundary (SPEC section 8): roles that are not
-- superusers, as a DBA's tools would connect.  alice_db is linked to the
-- USER alice, admin_db to the ADMIN admin, stranger_db to nobody; gw_login
-- is the gateway.  Every bypass a tester found with table rights (issue 10)
-- is refused now, and the data is unchanged.
SET client_min_messages = warning;
SELECT evently.setup_roles('gw_login');
SELECT evently.setup_roles('gw_login');  -- idempotent
CREATE ROLE alice_db LOGIN;
CREATE ROLE admin_db LOGIN;
CREATE ROLE stranger_db LOGIN;
SELECT evently.link_role('alice_db', t.id('alice'));
SELECT evently.link_role('admin_db', t.id('admin'));
SELECT t.try($$SELECT evently.link_role('gw_login', t.id('bob'))$$) AS link_the_gateway;
SELECT t.try($$SELECT evently.link_role('nobody_db', t.id('bob'))$$) AS link_no_role;
CREATE ROLE member_db LOGIN IN ROLE evently_api;   -- may call the API, linked to nobody
CREATE TABLE t.before AS
    SELECT (SELECT count(*) FROM evently.audit_log) AS audit_rows,
           (SELECT role FROM evently.users WHERE id = t.id('bob')) AS bob_role,
           (SELECT sum(amount) FROM evently.payments) AS paid,
           (SELECT count(*) FROM evently.event_seats WHERE status = 'BOOKED') AS booked,
           (SELECT count(*) FROM evently.events) AS events,
           (SELECT count(*) FROM evently.bookings WHERE user_id = t.id('alice')) AS alice_bookings,
           (SELECT session_epoch FROM evently.users WHERE id = t.id('bob')) AS bob_epoch;
-- the test's own helpers work for every role, as the test's superuser: they
-- name fixtures, they do not act
GRANT USAGE ON SCHEMA t TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA t TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA t TO PUBLIC;
ALTER FUNCTION t.seats(text, text[]) SECURITY DEFINER;
ALTER FUNCTION t.remember(text, uuid) SECURITY DEFINER;

-- Nothing for PUBLIC: no function of the extension may be called by a role
-- that evently did not grant, and every entry point runs as the owner with
-- its search_path pinned
SELECT count(*) AS executable_by_public FROM pg_proc
 WHERE pronamespace = 'evently'::regnamespace AND has_function_privilege('public', oid, 'EXECUTE');
SELECT count(*) AS entry_points_not_definer_or_unpinned FROM pg_proc p
 WHERE p.oid IN (SELECT evently._entry_points('api') UNION SELECT evently._entry_points('service'))
   AND NOT (p.prosecdef AND 'search_path=pg_catalog, evently, pg_temp' = ANY (p.proconfig));

-- As alice_db, the bypasses of issue 10 finding 1 -----------------------------
SET SESSION AUTHORIZATION alice_db;
SELECT t.try($$SELECT password_hash FROM evently.users$$) AS read_hashes;
SELECT t.try($$SELECT evently.check_password('bob@example.com', 'qwerty')$$) AS guess_passwords;
SELECT t.try($$SELECT evently.api_user_bookings(t.id('bob'), '{}')$$) AS act_as_bob;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'A1'))$$) AS hold_for_bob;
SELECT t.try($$SELECT evently.api_tag_create(t.id('admin'), '{"body": {"name": "Sneaky"}}')$$) AS act_as_admin;
SELECT t.try($$SELECT evently.api_tag_create(NULL, '{"body": {"name": "Sneaky"}}')$$) AS admin_route_as_user;
SELECT t.try($$SELECT evently.create_user('x@example.com', 'qwerty', 'X', 'Y', 'ADMIN')$$) AS make_an_admin;
SELECT t.try($$UPDATE evently.users SET role = 'ADMIN' WHERE id = t.id('bob')$$) AS promote_bob;
SELECT t.try($$UPDATE evently.event_seats SET status = 'AVAILABLE', booking_id = NULL WHERE status = 'BOOKED'$$) AS free_sold_seats;
SELECT t.try($$UPDATE evently.payments SET amount = 0$$) AS zero_payments;
SELECT t.try($$DELETE FROM evently.audit_log$$) AS delete_audit;
SELECT t.try($$SELECT evently._emit('booking.confirmed', NULL, NULL, 'booking', NULL, '{}', NULL)$$) AS internal_function;
SELECT t.try($$SELECT evently.hold_json(t.id('h1'))$$) AS read_any_hold;
SELECT t.try($$SELECT evently.expire_holds()$$) AS service_function;
SELECT t.try($$SELECT evently.setup_roles('mine')$$) AS make_roles;
SELECT t.try($$SELECT evently.link_role('alice_db', t.id('admin'))$$) AS relink_as_admin;
SELECT t.try($$SET ROLE gw_login$$) AS become_the_gateway;
-- signing in is the gateway's: a linked role could try passwords at
-- database speed and roll back every failure the throttle counted
SELECT t.try($$SELECT evently.api_login(NULL, '{"body": {"email": "bob@example.com", "password": "x"}}')$$) AS try_passwords;
SELECT t.try($$SELECT evently.api_register(NULL, '{"body": {}}')$$) AS register;
SELECT t.try($$SELECT evently.api_change_password(NULL, '{"body": {"current_password": "x", "new_password": "qwerty9"}}')$$)
       AS guess_own_password;
-- the engine's advisory-lock key space is closed: no role stalls a queue
SELECT t.try(format($$SELECT pg_advisory_lock(%s, 1)$$, x'45560001'::int)) AS take_an_event_queue_lock,
       t.try(format($$SELECT pg_try_advisory_lock(%s, 0)$$, x'45560004'::int)) AS take_the_bridge_lock;
RESET SESSION AUTHORIZATION;
SELECT (SELECT count(*) FROM evently.audit_log) = b.audit_rows AS audit_unchanged,
       (SELECT role FROM evently.users WHERE id = t.id('bob')) = b.bob_role AS bob_still_a_user,
       (SELECT sum(amount) FROM evently.payments) = b.paid AS payments_unchanged,
       (SELECT count(*) FROM evently.event_seats WHERE status = 'BOOKED') = b.booked AS sold_seats_unchanged
  FROM t.before b;

-- ... and the same role does its own business through the API --------------
SET SESSION AUTHORIZATION alice_db;
SELECT (evently.api_me(NULL, '{}') ->> 'id')::uuid = t.id('alice') AS i_am_alice;
SELECT t.remember('alice_db_hold', (evently.hold_seats(t.id('fair'), NULL, t.seats('fair', 'B5')) ->> 'hold_id')::uuid);
SELECT t.remember('alice_db_booking',
                  (evently.confirm_booking(t.id('alice_db_hold'), t.id('alice'), 'card') ->> 'booking_id')::uuid);
SELECT (evently.api_user_bookings(NULL, '{"query": {"limit": "100"}}') ->> 'count')::int AS bookings_by_api,
       (SELECT count(*) FROM evently.report_bookings) AS bookings_reported,
       (SELECT alice_bookings + 1 FROM t.before) AS alice_has;
-- row-level security: only her own bookings, however she asks
SELECT count(*) FILTER (WHERE user_id <> t.id('alice')) AS others_bookings_seen,
       count(*) > 0 AS sees_her_own
  FROM evently.bookings;
SELECT count(*) AS events_reported FROM evently.report_event_sales;
SELECT evently.cancel_with_policy(t.id('alice_db_booking'), NULL) ->> 'status' AS cancelled_her_own;
RESET SESSION AUTHORIZATION;
SELECT (SELECT user_id FROM evently.bookings WHERE id = t.id('alice_db_booking')) = t.id('alice') AS booked_as_alice,
       (SELECT actor_id FROM evently.audit_log WHERE object_id = t.id('alice_db_booking')
         AND action = 'booking.confirmed') = t.id('alice') AS audited_as_alice;

-- An ADMIN-linked role does admin things, and reports on every event --------
SET SESSION AUTHORIZATION admin_db;
SELECT evently.api_tag_create(NULL, '{"body": {"name": "Staff Pick"}}') ->> 'slug' AS admin_made_a_tag;
SELECT t.remember('admin_db_event', evently.create_event('By a DBA', t.id('hall'), now() + interval '60 days', 5));
SELECT (SELECT count(*) FROM evently.report_event_sales) = (SELECT events + 1 FROM t.before) AS reports_every_event,
       (SELECT count(DISTINCT user_id) FROM evently.report_bookings) > 1 AS sees_everyones_bookings;
RESET SESSION AUTHORIZATION;
SELECT (SELECT created_by FROM evently.events WHERE id = t.id('admin_db_event')) = t.id('admin') AS created_by_admin;

-- An unlinked role is nobody: refused by evently when it may call the API,
-- by PostgreSQL when it may not even do that
SET SESSION AUTHORIZATION member_db;
SELECT t.try($$SELECT evently.api_me(NULL, '{}')$$) AS who_am_i;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'B4'))$$) AS hold;
SELECT count(*) AS bookings_reported FROM evently.report_bookings;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION stranger_db;
SELECT t.try($$SELECT evently.api_me(NULL, '{}')$$) AS who_am_i;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'B4'))$$) AS hold;
SELECT t.try($$SELECT count(*) FROM evently.report_bookings$$) AS report;
RESET SESSION AUTHORIZATION;

-- The gateway asserts any user, but only while the token's session lives --
SET SESSION AUTHORIZATION gw_login;
SELECT evently.api_me(t.id('bob'), '{}') ->> 'email' AS gateway_as_bob;
SELECT t.try(format($$SELECT evently.api_me(t.id('bob'), '{"session": {"epoch": %s}}')$$, bob_epoch)) AS live_session
  FROM t.before;
SELECT t.try(format($$SELECT evently.api_me(t.id('bob'), '{"session": {"epoch": %s}}')$$, bob_epoch - 1)) AS ended_session
  FROM t.before;
SELECT evently.expire_holds() >= 0 AS runs_the_sweeper;
SELECT t.try($$SELECT password_hash FROM evently.users$$) AS reads_no_hashes;
RESET SESSION AUTHORIZATION;

-- Sessions end: a new password, a ban, a role change each move the epoch
UPDATE evently.users SET status = 'BANNED' WHERE id = t.id('bob');
SELECT t.try($$SELECT evently.api_me(t.id('bob'), '{}')$$) AS banned_bob;
SELECT t.try($$SELECT evently.hold_seats(t.id('fair'), t.id('bob'), t.seats('fair', 'B4'))$$) AS banned_bob_holds;
UPDATE evently.users SET status = 'ACTIVE', role = 'ORGANIZER' WHERE id = t.id('bob');
UPDATE evently.users SET role = 'USER' WHERE id = t.id('bob');
SELECT u.session_epoch - b.bob_epoch AS sessions_ended FROM evently.users u, t.before b WHERE u.id = t.id('bob');
SELECT evently.unlink_role('alice_db');
SET SESSION AUTHORIZATION alice_db;
SELECT t.try($$SELECT evently.api_me(NULL, '{}')$$) AS unlinked_alice;
RESET SESSION AUTHORIZATION;

-- A banned user's role reads nothing more: the reporting policies follow the
-- ban as the API does
UPDATE evently.users SET status = 'BANNED' WHERE id = t.id('admin');
SET SESSION AUTHORIZATION admin_db;
SELECT (SELECT count(*) FROM evently.report_bookings) AS bookings_seen_banned,
       (SELECT count(*) FROM evently.payments) AS payments_seen_banned;
RESET SESSION AUTHORIZATION;
UPDATE evently.users SET status = 'ACTIVE' WHERE id = t.id('admin');

-- A link is to the role itself: dropped and made again under its name, the
-- role is nobody; unlinking works for a dropped role too
SELECT evently.link_role('member_db', t.id('carol'));
DROP ROLE member_db;
CREATE ROLE member_db LOGIN IN ROLE evently_api;
SET SESSION AUTHORIZATION member_db;
SELECT t.try($$SELECT evently.api_me(NULL, '{}')$$) AS new_role_same_name;
RESET SESSION AUTHORIZATION;
SELECT evently.link_role('stranger_db', t.id('carol'));
DROP ROLE stranger_db;
SELECT evently.unlink_role('stranger_db');
SELECT count(*) AS stranger_links_left FROM evently.role_links WHERE role_name = 'stranger_db';
-- a renamed role keeps its link and is unlinked by its new name; its old
-- name, made again, is somebody else
CREATE ROLE dave_db LOGIN;
SELECT evently.link_role('dave_db', t.id('carol'));
ALTER ROLE dave_db RENAME TO dave2_db;
CREATE ROLE dave_db LOGIN;
SET SESSION AUTHORIZATION dave2_db;
SELECT evently.api_me(NULL, '{}') ->> 'email' AS renamed_role_acts_as;
RESET SESSION AUTHORIZATION;
SELECT t.try($$SELECT evently.unlink_role('dave_db')$$) AS unlink_the_new_namesake;
SELECT evently.unlink_role('dave2_db');
SELECT pg_has_role('dave2_db', 'evently_api', 'MEMBER') AS still_in_evently_api;
DROP ROLE dave_db, dave2_db;

-- Login throttling by bucket: five failures from a stranger's address make
-- it wait; the owner's own address (where she signed in before) does not
CREATE FUNCTION t.login(email text, password text, address text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN r ? 'session' THEN 'signed in' ELSE (r ->> 'error') || CASE WHEN r ? 'retry_after' THEN ', wait' ELSE '' END END
      FROM evently.api_login(NULL, jsonb_build_object('body', jsonb_build_object('email', email, 'password', password),
                                                      'client_address', address)) r
$$;
SELECT t.login('carol@example.com', 'qwerty', '192.0.2.10') AS carol_at_home;
SELECT t.login('carol@example.com', 'guess' || n, '198.51.100.' || n) AS guesses
  FROM generate_series(1, 6) n;
-- (the wait made a minute, as after a longer run of guesses, so that the
-- clock does not end it between two statements)
UPDATE evently.login_failures SET blocked_until = now() + interval '1 minute' WHERE email = 'carol@example.com';
SELECT t.login('carol@example.com', 'qwerty', '203.0.113.9') AS carol_on_a_new_device;
SELECT t.login('carol@example.com', 'qwerty', '192.0.2.10') AS carol_at_home_again;
-- a signed-in user's change of password is throttled too, in its own bucket
SELECT evently.api_change_password(t.id('carol'), jsonb_build_object('body',
           jsonb_build_object('current_password', 'wrong' || n, 'new_password', 'qwerty2'))) ->> 'error' AS wrong_current_password
  FROM generate_series(1, 6) n;
UPDATE evently.login_failures SET blocked_until = now() + interval '1 minute'
 WHERE email = 'carol@example.com' AND source = 'session';
SELECT evently.api_change_password(t.id('carol'), '{"body": {"current_password": "qwerty", "new_password": "qwerty2"}}')
       ->> 'retry_after' IS NOT NULL AS right_password_waits_too;
SELECT t.login('carol@example.com', 'qwerty', '192.0.2.10') AS carol_still_signs_in_at_home;

-- A banned user is offered no seats: the next in line is
SELECT t.remember('ban_queue', evently.create_event('Ban Queue', t.id('hall'), now() + interval '18 days', 5, t.id('admin')));
SELECT evently.join_waitlist(t.id('ban_queue'), u, 1) ->> 'status' AS waiting FROM unnest(ARRAY[t.id('alice'), t.id('carol')]) u;
UPDATE evently.users SET status = 'BANNED' WHERE id = t.id('alice');
SELECT jsonb_array_length(evently.waitlist_promote(t.id('ban_queue'), 1) -> 'offers') AS offers;
SELECT string_agg(u.first_name || ' ' || w.status, ', ' ORDER BY w.position) AS queue
  FROM evently.waitlist_entries w JOIN evently.users u ON u.id = w.user_id WHERE w.event_id = t.id('ban_queue');
UPDATE evently.users SET status = 'ACTIVE' WHERE id = t.id('alice');

SELECT t.counters_agree(), t.catalogs_agree();
