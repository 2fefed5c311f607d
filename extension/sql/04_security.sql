-- 04_security.sql: who is acting, and who may call what (SPEC section 8).
--
-- The database is the security boundary.  Tables and internal functions
-- belong to the extension's owner and nobody else may touch them; the API
-- (the REST adapters api_*, the engine and the SQL admin API) runs as the
-- owner (SECURITY DEFINER, search_path pinned) and decides for itself who
-- the caller is:
--   - a trusted caller, the gateway (a login role that is a member of
--     evently_gateway) or a superuser, asserts the acting user per call, as
--     the shim does from a verified token;
--   - any other role acts as the evently user linked to it
--     (evently.link_role), and may not name someone else; an unlinked role
--     is refused with UNAUTHENTICATED.
-- So a DBA's role meets exactly the rules of that user's REST calls.  The
-- roles are made by evently.setup_roles(), which make run and the tests call.

-- Is the session's login role trusted to assert the acting user?  A
-- superuser, or a member of evently_gateway (extension/actors.c: from
-- PostgreSQL's caches of roles and memberships, without a statement, as
-- the engine asks it on every call).
CREATE OR REPLACE FUNCTION evently._trusted_caller() RETURNS boolean
AS 'MODULE_PATHNAME', 'evently_trusted_caller' LANGUAGE C STABLE;

-- The evently user the session's login role is linked to, or NULL.
CREATE OR REPLACE FUNCTION evently._linked_user() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, evently, pg_temp AS $$
    SELECT l.user_id FROM evently.role_links l JOIN pg_catalog.pg_roles r ON r.oid = l.role_id
     WHERE r.rolname = session_user
$$;

-- The linked user as a reader of the reporting views and tables (the
-- policies of 95_reporting.sql call it, hence granted): only while that user
-- is ACTIVE, so a ban ends reading as it ends acting.
CREATE OR REPLACE FUNCTION evently._reader() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, evently, pg_temp AS $$
    SELECT u.id FROM evently.users u WHERE u.id = evently._linked_user() AND u.status = 'ACTIVE'
$$;

-- The acting user of a call: the asserted one for a trusted caller (whose
-- token session, req->'session'->>'epoch', must still be the user's), the
-- linked one for any other role.  Raises UNAUTHENTICATED for an unknown,
-- banned or signed-out user or an unlinked role, FORBIDDEN for a role naming
-- another user.  Every REST adapter that has an actor starts with it.
CREATE OR REPLACE FUNCTION evently._actor(asserted uuid, req jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    acting uuid := asserted;
    u record;
BEGIN
    IF NOT evently._trusted_caller() THEN
        acting := evently._linked_user();
        PERFORM evently._require(acting IS NOT NULL, 'UNAUTHENTICATED', 'role is not linked to an evently user',
            format('Role %s acts as no evently user.', session_user),
            'An administrator links it with evently.link_role(role, user_id).');
        PERFORM evently._require(asserted IS NULL OR asserted = acting, 'FORBIDDEN', 'cannot act as another user',
            format('Role %s acts as user %s, not %s.', session_user, acting, asserted));
    END IF;
    SELECT status, session_epoch INTO u FROM evently.users WHERE id = acting;
    PERFORM evently._require(FOUND AND u.status = 'ACTIVE', 'UNAUTHENTICATED', 'user not found',
        CASE WHEN acting IS NULL THEN 'No acting user was given.'
             ELSE format('User %s does not exist or is banned.', acting) END);
    -- a token is honoured only while its session is (logout, a new password,
    -- a ban or a role change end every session of the user)
    PERFORM evently._require(req IS NULL OR NOT req ? 'session'
                             OR (req->'session'->>'epoch') IS NOT DISTINCT FROM u.session_epoch::text,
        'UNAUTHENTICATED', 'session has ended', 'Sign in again.');
    RETURN acting;
END
$$;

-- A read route's object as the acting user may see it: doc when it is the
-- actor's own (doc->>'user_id') or the actor is an ADMIN; otherwise, or when
-- doc is NULL, NOT_FOUND naming what and id, so that nobody learns that
-- another user's id is real (OWASP API1).
CREATE OR REPLACE FUNCTION evently._visible_to(doc jsonb, actor uuid, what text, id text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(doc IS NOT NULL AND ((doc->>'user_id')::uuid = actor
                                                  OR evently._user_role(actor) = 'ADMIN'),
        'NOT_FOUND', what || ' not found', format('%s %s does not exist.', initcap(what), id));
    RETURN doc;
END
$$;

-- The VERIFIED organizer account (organizers.id) of a user whose role is
-- ORGANIZER, or NULL: a demoted or banned organizer runs no events.
CREATE OR REPLACE FUNCTION evently._organizer_of(p_user_id uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT o.id FROM evently.organizers o JOIN evently.users u ON u.id = o.user_id
     WHERE o.user_id = p_user_id AND o.verification_status = 'VERIFIED'
       AND u.role = 'ORGANIZER' AND u.status = 'ACTIVE'
$$;

-- May this user manage the event (SPEC section 9's ownership): an ADMIN any
-- event, an organizer the events of its verified organizer account.
CREATE OR REPLACE FUNCTION evently._manages_event(p_user_id uuid, p_event_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(evently._user_role(p_user_id) = 'ADMIN', false)
           OR EXISTS (SELECT 1 FROM evently.events e
                       WHERE e.id = p_event_id AND e.organizer_id = evently._organizer_of(p_user_id))
$$;

-- The acting user, who must run a verified organizer account (ORGANIZER):
-- returns that account's id; FORBIDDEN otherwise.
CREATE OR REPLACE FUNCTION evently._organizer(asserted uuid, req jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    acting uuid := evently._actor(asserted, req);
    org uuid := evently._organizer_of(acting);
BEGIN
    PERFORM evently._require(org IS NOT NULL, 'FORBIDDEN', 'verified organizer account required',
        format('User %s is not a verified organizer.', acting),
        'Apply with POST /organizers (evently.api_organizer_apply); an ADMIN verifies the application.');
    RETURN org;
END
$$;

-- The event a per-event organizer route reads, if the (resolved) actor
-- manages it: _managed_event without the row lock.  Raises INVALID_ARGUMENT
-- for an id that is not a uuid, NOT_FOUND for an event that does not exist
-- or that the actor does not manage.
CREATE OR REPLACE FUNCTION evently._readable_event(actor uuid, event_id text) RETURNS evently.events
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
BEGIN
    SELECT * INTO ev FROM evently.events e WHERE e.id = evently._uuid_arg(event_id, 'eventId');
    PERFORM evently._require(FOUND AND evently._manages_event(actor, ev.id), 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', event_id));
    RETURN ev;
END
$$;

-- The event a write route's actor manages, locked FOR UPDATE (and read
-- after the lock, so as the last writer left it): NOT_FOUND for an event
-- that does not exist or that the actor does not manage (a write on
-- someone else's object answers 404, like a read: SPEC section 8).
-- selling_on: lock FOR NO KEY UPDATE instead, which still orders the write
-- after and before the event's own changes but lets reservations (which
-- take the row FOR KEY SHARE) go on meanwhile: a tier's million units take
-- seconds to write.
CREATE OR REPLACE FUNCTION evently._managed_event(actor uuid, event_id text, selling_on boolean DEFAULT false)
RETURNS evently.events LANGUAGE plpgsql AS $$
BEGIN
    IF selling_on THEN
        PERFORM 1 FROM evently.events e WHERE e.id = evently._uuid_arg(event_id, 'eventId') FOR NO KEY UPDATE;
    ELSE
        PERFORM 1 FROM evently.events e WHERE e.id = evently._uuid_arg(event_id, 'eventId') FOR UPDATE;
    END IF;
    RETURN evently._readable_event(actor, event_id);
END
$$;

-- Who reads a public route: nobody (NULL) when a trusted caller names no
-- one (an anonymous REST client), else the acting user as _actor resolves
-- it, so that an organizer sees its own drafts and a linked role reads as
-- its user.
CREATE OR REPLACE FUNCTION evently._viewer(asserted uuid, req jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF asserted IS NULL AND evently._trusted_caller() THEN
        RETURN NULL;
    END IF;
    RETURN evently._actor(asserted, req);
END
$$;

-- The acting user, who must be an ADMIN (FORBIDDEN otherwise).
CREATE OR REPLACE FUNCTION evently._admin(asserted uuid, req jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    acting uuid := evently._actor(asserted, req);
BEGIN
    PERFORM evently._require(evently._user_role(acting) = 'ADMIN', 'FORBIDDEN',
        'insufficient permissions', format('User %s is not an ADMIN.', acting));
    RETURN acting;
END
$$;

-- The user a call of the SQL API (the engine, join_waitlist, ...) acts as:
-- whoever a trusted caller names (the function checks that user itself, as
-- it always did), the linked user for any other role (see _actor).
CREATE OR REPLACE FUNCTION evently._as_caller(asserted uuid) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF evently._trusted_caller() THEN
        RETURN asserted;
    END IF;
    RETURN evently._actor(asserted);
END
$$;

-- The SQL admin API (create_user, create_event, ...) serves trusted callers
-- as they are, and a linked role only when its user is an ADMIN; returns
-- who to record as the actor: the argument, or the linked ADMIN.
CREATE OR REPLACE FUNCTION evently._staff(asserted uuid) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF evently._trusted_caller() THEN
        RETURN asserted;
    END IF;
    RETURN evently._admin(asserted);
END
$$;

-- The entry points: what each role may call.  'api': the REST adapters, the
-- engine and the SQL admin API, for every linked role and the gateway;
-- 'service': what only the gateway's programs call (health, the sweeper, the
-- bridge, the inbox consumer).  Everything else is internal.
-- Signing in, up and out, and changing a password, are the gateway's: it
-- throttles them and bounds their bcrypt work; a linked role is signed in by
-- the database already (and could otherwise try passwords at database
-- speed, rolling back each failure the throttle counted).
CREATE OR REPLACE FUNCTION evently._sign_in_functions() RETURNS SETOF name
LANGUAGE sql IMMUTABLE AS $$
    SELECT unnest(ARRAY['api_login', 'api_register', 'api_refresh', 'api_logout', 'api_change_password']::name[])
$$;

CREATE OR REPLACE FUNCTION evently._entry_points(kind text) RETURNS SETOF regprocedure
LANGUAGE sql STABLE AS $$
    SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'evently'::regnamespace
       AND CASE kind
           WHEN 'api' THEN (p.proname LIKE 'api\_%' AND p.proname NOT IN (SELECT * FROM evently._sign_in_functions()))
                        OR p.proname IN ('hold_seats', 'release_hold', 'confirm_booking', 'cancel_with_policy',
                                         'create_user', 'create_tag', 'create_venue_template', 'add_section',
                                         'create_event', 'event_seats', 'set_cancellation_policy',
                                         'join_waitlist', 'leave_waitlist', 'slugify', 'error_codes',
                                         'reserve_tiers', 'set_provider_fee',
                                         -- tickets and the door (58_tickets.sql, 59_checkin.sql)
                                         'transfer_ticket', 'add_event_staff', 'remove_event_staff',
                                         'validate_ticket', 'revert_checkin', 'checkin_stats',
                                         'offline_package', 'sync_scans',
                                         -- ids that carry their shard (96_shards.sql)
                                         'new_id', 'bucket_of')
           WHEN 'service' THEN p.proname IN ('health', 'expire_holds', 'waitlist_promote', 'bridge_lead',
                                             'outbox_batch', 'outbox_published', 'outbox_prune',
                                             'record_notification', 'mail_pending', 'mail_sent',
                                             -- their parts, which a sharded evently's proxy calls
                                             -- where the data is (extension/proxy/base.sql)
                                             'compose_notification', 'store_notification',
                                             'mail_for_message', 'mail_recipients',
                                             -- the card provider's side (shim/payments.c): the webhook,
                                             -- verified by the gateway, and the worker's calls
                                             'api_payment_webhook', 'payment_work', 'payment_record',
                                             -- the proxy's check of the shards before a global
                                             -- write (96_shards.sql)
                                             'require_unused', 'retire', 'withdrawable')
                            OR p.proname IN (SELECT * FROM evently._sign_in_functions())
           END
$$;

-- Grant the entry points to evently's roles, when they exist (they are
-- made by setup_roles, which calls this; so does every install and upgrade).
CREATE OR REPLACE FUNCTION evently._grant_to_roles() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'evently_api')
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'evently_gateway') THEN
        RETURN;
    END IF;
    GRANT USAGE ON SCHEMA evently TO evently_api;
    FOR f IN SELECT * FROM evently._entry_points('api') LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO evently_api', f);
    END LOOP;
    FOR f IN SELECT * FROM evently._entry_points('service') LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM evently_api', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO evently_gateway', f);
    END LOOP;
    PERFORM evently._grant_reporting();
END
$$;

-- Nothing for PUBLIC; every entry point runs as the owner with a pinned
-- search_path (PostgreSQL's advice for SECURITY DEFINER: no schema an
-- untrusted role can write, pg_temp last).  Run at the end of every
-- install and upgrade (99_privileges.sql), after all functions exist.
CREATE OR REPLACE FUNCTION evently._secure() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
BEGIN
    REVOKE ALL ON ALL FUNCTIONS IN SCHEMA evently FROM PUBLIC;
    REVOKE ALL ON ALL TABLES IN SCHEMA evently FROM PUBLIC;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA evently FROM PUBLIC;
    FOR f IN SELECT * FROM evently._entry_points('api') UNION SELECT * FROM evently._entry_points('service') LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, evently, pg_temp', f);
    END LOOP;
    PERFORM evently._grant_to_roles();
END
$$;

-- evently.setup_roles(gateway_login name DEFAULT NULL, gateway_password text
-- DEFAULT NULL) RETURNS void: create, if missing, the roles evently_api (may
-- call the API) and evently_gateway (trusted to assert actors; calls the
-- service functions too), grant them the entry points, and, when
-- gateway_login is given, a login role in evently_gateway for the shim, the
-- bridge and the inbox consumer (its password set when one is given).
-- Idempotent; a superuser runs it (make run and the tests do).
CREATE OR REPLACE FUNCTION evently.setup_roles(gateway_login name DEFAULT NULL,
                                               gateway_password text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'evently_api') THEN
        CREATE ROLE evently_api NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'evently_gateway') THEN
        CREATE ROLE evently_gateway NOLOGIN;
    END IF;
    GRANT evently_api TO evently_gateway;
    IF gateway_login IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = gateway_login) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', gateway_login);
        END IF;
        IF gateway_password IS NOT NULL THEN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', gateway_login, gateway_password);
        END IF;
        EXECUTE format('GRANT evently_gateway TO %I', gateway_login);
    END IF;
    -- The two-key advisory locks are evently's key space (README, Locking):
    -- a role that could take them could stall an event's queue or keep the
    -- bridge from leading.  The engine takes them from C, the bridge through
    -- bridge_lead, so in this database nobody else needs them.
    REVOKE EXECUTE ON FUNCTION pg_catalog.pg_advisory_lock(int4, int4), pg_catalog.pg_advisory_lock_shared(int4, int4),
        pg_catalog.pg_try_advisory_lock(int4, int4), pg_catalog.pg_try_advisory_lock_shared(int4, int4),
        pg_catalog.pg_advisory_xact_lock(int4, int4), pg_catalog.pg_advisory_xact_lock_shared(int4, int4),
        pg_catalog.pg_try_advisory_xact_lock(int4, int4), pg_catalog.pg_try_advisory_xact_lock_shared(int4, int4)
        FROM PUBLIC;
    PERFORM evently._grant_to_roles();
END
$$;
COMMENT ON FUNCTION evently.setup_roles(name, text) IS
    'Create the roles evently_api and evently_gateway (and a gateway login role), grant the API; idempotent';

-- A linked role controls when its transactions end: one that called the
-- engine and then sat in its transaction would keep the locks it took (an
-- event's queue, a user's quota, seat rows) from everybody else.  The
-- sweeper (expire_holds, every second) ends the session of such a role
-- whose transaction has lasted longer than evently.linked_transaction_limit
-- (10 s unless a superuser sets it, evently.c) while it holds one of evently's
-- advisory locks or has written anything.  The gateway, superusers and
-- readers are left alone.  Returns how many sessions it ended.
CREATE OR REPLACE FUNCTION evently._end_stalled_sessions() RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    ended int;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'evently_gateway') THEN
        RETURN 0;
    END IF;
    SELECT count(*) FILTER (WHERE pg_catalog.pg_terminate_backend(a.pid)) INTO ended
      FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
     WHERE a.datname = current_database() AND a.pid <> pg_catalog.pg_backend_pid()
       AND NOT r.rolsuper AND NOT pg_catalog.pg_has_role(r.oid, 'evently_gateway', 'MEMBER')
       AND pg_catalog.pg_has_role(r.oid, 'evently_api', 'MEMBER')
       AND a.xact_start < now() - coalesce(nullif(current_setting('evently.linked_transaction_limit', true), ''),
                                           '10 seconds')::interval
       AND (a.backend_xid IS NOT NULL
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                        WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.objsubid = 2
                          AND l.classid::bigint BETWEEN x'45560000'::bigint AND x'455600FF'::bigint));
    RETURN ended;
END
$$;

-- evently.link_role(role name, user_id uuid) RETURNS void: let a database
-- role act as an evently user (it may then call the API as that user and
-- read the reporting views); a superuser runs it.  A role of the gateway
-- cannot be linked: it already asserts any user.
CREATE OR REPLACE FUNCTION evently.link_role(role name, user_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role), 'NOT_FOUND',
        'role not found', format('There is no database role %s.', role));
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.users u WHERE u.id = user_id), 'NOT_FOUND',
        'user not found', format('User %s does not exist.', user_id));
    PERFORM evently._require(NOT pg_catalog.pg_has_role(role, 'evently_gateway', 'MEMBER'), 'INVALID_ARGUMENT',
        'cannot link a gateway role', format('Role %s is a member of evently_gateway.', role));
    -- a link left by a dropped role of this name goes
    DELETE FROM evently.role_links l
     WHERE l.role_name = role AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = l.role_id);
    INSERT INTO evently.role_links (role_id, role_name, user_id)
    SELECT r.oid, r.rolname, user_id FROM pg_catalog.pg_roles r WHERE r.rolname = role
    ON CONFLICT (role_id) DO UPDATE SET role_name = EXCLUDED.role_name, user_id = EXCLUDED.user_id, linked_at = now();
    EXECUTE format('GRANT evently_api TO %I', role);
    PERFORM evently._audit('role.linked', 'user', user_id, jsonb_build_object('role', role));
END
$$;

-- evently.unlink_role(role name) RETURNS void: the role acts as nobody again.
CREATE OR REPLACE FUNCTION evently.unlink_role(role name) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    was uuid;
BEGIN
    -- the role's own link (it may have been renamed since), else the link a
    -- dropped role of this name left
    DELETE FROM evently.role_links l
     WHERE l.role_id = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = role)
        OR (l.role_name = role AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.oid = l.role_id))
    RETURNING user_id INTO was;
    PERFORM evently._require(was IS NOT NULL, 'NOT_FOUND', 'role is not linked',
        format('Role %s acts as no evently user.', role));
    -- (a dropped role's link is deleted all the same)
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = role) THEN
        EXECUTE format('REVOKE evently_api FROM %I', role);
    END IF;
    PERFORM evently._audit('role.unlinked', 'user', was, jsonb_build_object('role', role));
END
$$;
