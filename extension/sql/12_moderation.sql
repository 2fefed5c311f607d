-- 12_moderation.sql: bans and the audit log's readers (SPEC section 9,
-- Moderation; issue 11 item 5).
--
-- A ban (an ADMIN's, with a reason) takes effect in its own transaction:
--   - the user's status becomes BANNED, which ends every session at once
--     (the sessions_end trigger of 10_accounts.sql moves the session epoch
--     and revokes the refresh tokens), and _actor, the engine, the
--     waitlist and the reporting policies refuse or pass over a banned user;
--   - every live hold of the user is released through the engine
--     (release_hold: seats AVAILABLE, hold.released, the freed seats offered
--     to the waitlist), and every ACTIVE or NOTIFIED waitlist entry of the
--     user is CANCELLED, so that a banned user is offered nothing;
--   - confirmed bookings stay: the buyer paid, and refunding them is a
--     decision of its own (cancel the booking or the event);
--   - an organizer's events stay on sale (a banned organizer manages
--     nothing: _organizer_of wants an ACTIVE user);
--   - user.banned goes to the outbox, with its audit row.
-- Login then answers 403 ACCOUNT_BANNED, but only to the right password
-- (api_login).  An ADMIN cannot be banned (nor ban itself): admins are not
-- each other's moderators; a superuser demotes an ADMIN first.  Unbanning
-- makes the user ACTIVE again; released holds and cancelled waitlist
-- entries stay so, and old sessions stay ended.
--
-- The audit log is read newest first, by ADMINs (every row) and by an
-- event's organizer (the rows of that event: event_id or object_id).

-- A user as an ADMIN sees it: user_json plus the moderation fields and the
-- latest organizer application ({id, organization_name,
-- verification_status}, or null when the user never applied).
CREATE OR REPLACE FUNCTION evently.user_admin_json(p_user_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently.user_json(u.id)
           || jsonb_build_object(
                  'status', u.status, 'ban_reason', u.ban_reason, 'banned_at', u.banned_at,
                  'organizer', (SELECT jsonb_build_object('id', o.id, 'organization_name', o.organization_name,
                                                          'verification_status', o.verification_status)
                                  FROM evently.organizers o WHERE o.user_id = u.id
                                 ORDER BY o.created_at DESC, o.id LIMIT 1))
      FROM evently.users u WHERE u.id = p_user_id
$$;

-- The user a moderation route names (path id), locked FOR NO KEY UPDATE so
-- that two bans of one user take turns (the second sees the first's
-- result); a lock that the foreign keys of a hold or a booking being
-- written (KEY SHARE) do not wait for.  NOT_FOUND for an unknown id,
-- INVALID_ARGUMENT for one that is not a uuid.
CREATE OR REPLACE FUNCTION evently._moderated_user(p_id text) RETURNS evently.users
LANGUAGE plpgsql AS $$
DECLARE
    u evently.users;
BEGIN
    SELECT * INTO u FROM evently.users WHERE id = evently._uuid_arg(p_id, 'id') FOR NO KEY UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'user not found', format('User %s does not exist.', p_id));
    RETURN u;
END
$$;

-- Take back what a (just banned) user holds or waits for, event by event in
-- event id order (two bans at once take the events' queue locks in one
-- order): the event's queue lock first, as the engine takes it, so no
-- promotion, release or expiry of that event runs meanwhile; then the
-- user's live holds of the event, locked in id order (a confirmation in
-- flight finishes first, and its hold is then no longer live), each
-- released by release_hold (which locks its seats in seat id order, frees
-- them, records hold.released, settles a waitlist offer the hold was, and
-- offers the seats to the waitlist: it passes over a banned user); then the
-- user's remaining ACTIVE or NOTIFIED entries of the event, CANCELLED.  A
-- hold whose time ran out but that the sweeper has not expired yet is left
-- to the sweeper (hold.expired; hold_seats already treats its seats as
-- free).  Returns how many holds were released and how many waitlist
-- entries were cancelled.
CREATE OR REPLACE FUNCTION evently._withdraw_user(p_user_id uuid, actor uuid,
                                                  OUT released_holds int, OUT cancelled_entries int)
LANGUAGE plpgsql AS $$
DECLARE
    ev uuid;
    live uuid[];
    h uuid;
    n int;
BEGIN
    released_holds := 0;
    cancelled_entries := 0;
    FOR ev IN SELECT event_id FROM evently.holds WHERE user_id = p_user_id AND status = 'ACTIVE'
              UNION
              SELECT event_id FROM evently.waitlist_entries
               WHERE user_id = p_user_id AND status IN ('ACTIVE', 'NOTIFIED')
              ORDER BY 1 LOOP
        PERFORM evently._lock_event_queue(ev);
        SELECT count(*) INTO n FROM evently.waitlist_entries
         WHERE event_id = ev AND user_id = p_user_id AND status IN ('ACTIVE', 'NOTIFIED');
        cancelled_entries := cancelled_entries + n;
        SELECT array_agg(id ORDER BY id) INTO live
          FROM (SELECT id FROM evently.holds
                 WHERE event_id = ev AND user_id = p_user_id AND status = 'ACTIVE' AND expires_at > now()
                 ORDER BY id FOR UPDATE) l;
        FOREACH h IN ARRAY coalesce(live, '{}') LOOP
            PERFORM evently.release_hold(h, actor);
            released_holds := released_holds + 1;
        END LOOP;
        UPDATE evently.waitlist_entries SET status = 'CANCELLED', updated_at = now()
         WHERE event_id = ev AND user_id = p_user_id AND status IN ('ACTIVE', 'NOTIFIED');
    END LOOP;
END
$$;

-- evently.withdrawable(user_id text) RETURNS jsonb {released_holds,
-- cancelled_waitlist_entries}: what a ban would withdraw here now
-- (_withdraw_user's counts), {0, 0} for an id that is no user's.  Sharded,
-- the proxy's ban answers the sum over the shards (extension/proxy/base.sql).
CREATE OR REPLACE FUNCTION evently.withdrawable(p_user_id text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'released_holds', (SELECT count(*) FROM evently.holds
                            WHERE user_id::text = lower(p_user_id) AND status = 'ACTIVE' AND expires_at > now()),
        'cancelled_waitlist_entries', (SELECT count(*) FROM evently.waitlist_entries
                                        WHERE user_id::text = lower(p_user_id) AND status IN ('ACTIVE', 'NOTIFIED')))
$$;

-- POST /admin/users/:id/ban {"reason": 1 to 500 characters}: an ADMIN bans
-- a user (what a ban does: the header above).  Returns {user:
-- user_admin_json, released_holds, cancelled_waitlist_entries}.
-- INVALID_ARGUMENT without a reason (or with one over 500 characters, or
-- with another field); NOT_FOUND for an unknown user; FORBIDDEN for the
-- actor itself and for an ADMIN; INVALID_TRANSITION for a user already
-- banned.
CREATE OR REPLACE FUNCTION evently.api_admin_user_ban(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    reason text := btrim(b->>'reason');
    target evently.users;
    taken record;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(b, 'reason');
    PERFORM evently._require(length(reason) BETWEEN 1 AND 500, 'INVALID_ARGUMENT', 'reason is required',
        'A ban says why, in 1 to 500 characters; the user is told when signing in.');
    target := evently._moderated_user(req->'path'->>'id');
    PERFORM evently._require(target.id <> actor, 'FORBIDDEN', 'cannot ban yourself',
        format('User %s is the acting ADMIN.', actor));
    PERFORM evently._require(target.role <> 'ADMIN', 'FORBIDDEN', 'cannot ban an ADMIN',
        format('User %s is an ADMIN.', target.id), 'A superuser demotes an ADMIN first.');
    PERFORM evently._require(target.status = 'ACTIVE', 'INVALID_TRANSITION', 'user is already banned',
        format('User %s is BANNED: %s', target.id, coalesce(target.ban_reason, 'no reason recorded')));
    -- the status first: the trigger ends the sessions, and the waitlist
    -- promotions release_hold runs below pass over the user
    UPDATE evently.users SET status = 'BANNED', ban_reason = reason, banned_at = now(), banned_by = actor,
                             updated_at = now()
     WHERE id = target.id;
    SELECT * INTO taken FROM evently._withdraw_user(target.id, actor);
    PERFORM evently._emit('user.banned', NULL, target.id, 'user', target.id,
        jsonb_build_object('user_id', target.id, 'email', target.email, 'reason', reason, 'banned_at', now(),
                           'released_holds', taken.released_holds,
                           'cancelled_waitlist_entries', taken.cancelled_entries),
        actor);
    RETURN jsonb_build_object('user', evently.user_admin_json(target.id), 'released_holds', taken.released_holds,
                              'cancelled_waitlist_entries', taken.cancelled_entries);
END
$$;

-- POST /admin/users/:id/unban: an ADMIN lifts a ban; the user is ACTIVE
-- again, ban_reason and banned_at cleared (user.unbanned, with the lifted
-- ban's reason).  Returns {user: user_admin_json}.  NOT_FOUND for an
-- unknown user; INVALID_TRANSITION for a user who is not banned.
CREATE OR REPLACE FUNCTION evently.api_admin_user_unban(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    target evently.users;
BEGIN
    actor := evently._admin(actor, req);
    target := evently._moderated_user(req->'path'->>'id');
    PERFORM evently._require(target.status = 'BANNED', 'INVALID_TRANSITION', 'user is not banned',
        format('User %s is %s.', target.id, target.status));
    UPDATE evently.users SET status = 'ACTIVE', ban_reason = NULL, banned_at = NULL, banned_by = NULL,
                             updated_at = now()
     WHERE id = target.id;
    PERFORM evently._emit('user.unbanned', NULL, target.id, 'user', target.id,
        jsonb_build_object('user_id', target.id, 'email', target.email, 'ban_reason', target.ban_reason,
                           'banned_at', target.banned_at),
        actor);
    RETURN jsonb_build_object('user', evently.user_admin_json(target.id));
END
$$;

-- GET /admin/users?role=USER|ORGANIZER|ADMIN&status=ACTIVE|BANNED&search=
-- &limit=1-100 (20)&offset= (0): an ADMIN's list of users, newest first;
-- search is a case-insensitive substring of the e-mail, first or last name
-- (% and _ are characters).  Returns {users: [user_admin_json],
-- total_count, limit, offset}.  INVALID_ARGUMENT for another role or
-- status, or a limit or offset out of range.
CREATE OR REPLACE FUNCTION evently.api_admin_users_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := coalesce(req->'query', '{}');
    wanted_role text := nullif(upper(q->>'role'), '');
    wanted_status text := nullif(upper(q->>'status'), '');
    pattern text := evently._contains(nullif(q->>'search', ''));
    lim int;
    off int;
BEGIN
    actor := evently._admin(actor, req);
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    PERFORM evently._require(wanted_role IS NULL OR wanted_role IN ('USER', 'ORGANIZER', 'ADMIN'),
        'INVALID_ARGUMENT', 'Invalid query parameters', format('role=%s is not USER, ORGANIZER or ADMIN.', q->>'role'));
    PERFORM evently._require(wanted_status IS NULL OR wanted_status IN ('ACTIVE', 'BANNED'),
        'INVALID_ARGUMENT', 'Invalid query parameters', format('status=%s is not ACTIVE or BANNED.', q->>'status'));
    RETURN (
        WITH matching AS (
            SELECT u.id, u.created_at FROM evently.users u
             WHERE (wanted_role IS NULL OR u.role = wanted_role)
               AND (wanted_status IS NULL OR u.status = wanted_status)
               AND (pattern IS NULL OR u.email ILIKE pattern OR u.first_name ILIKE pattern
                    OR u.last_name ILIKE pattern))
        SELECT evently._slice('users', (SELECT jsonb_agg(evently.user_admin_json(p.id)
                                                         ORDER BY p.created_at DESC, p.id DESC)
                                          FROM (SELECT id, created_at FROM matching
                                                 ORDER BY created_at DESC, id DESC LIMIT lim OFFSET off) p),
                              (SELECT count(*) FROM matching), lim, off));
END
$$;

-- One audit row as the API shows it; db_user (the database role that
-- wrote it) only to an ADMIN.
CREATE OR REPLACE FUNCTION evently._audit_json(a evently.audit_log, with_db_user boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'occurred_at', a.occurred_at, 'actor_id', a.actor_id,
                              'action', a.action, 'object_type', a.object_type, 'object_id', a.object_id,
                              'event_id', a.event_id, 'details', a.details)
           || CASE WHEN with_db_user THEN jsonb_build_object('db_user', a.db_user) ELSE '{}' END
$$;

-- A page of the audit log, newest first (id desc), as {audit_logs,
-- total_count, limit, offset}: the rows of one event (event_id or
-- object_id = p_event_id) when it is given, else every row; filtered by the
-- query's object_type, object_id, action (exact), from and to
-- (_time_param, both inclusive), and, unless p_event_id is given,
-- actor_id.  The statement holds only the filters given, each a plain
-- equality or range, and is planned with their values (EXECUTE), so the
-- planner uses the log's indexes ((actor_id, id), (object_id),
-- (event_id, id), the primary key for the order) where a generic plan of
-- "x IS NULL OR col = x" would read the whole log.  INVALID_ARGUMENT for a
-- malformed uuid, time, limit or offset, or from after to.
CREATE OR REPLACE FUNCTION evently._audit_page(req jsonb, p_event_id uuid, with_db_user boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := coalesce(req->'query', '{}');
    by_actor uuid := CASE WHEN p_event_id IS NULL THEN evently._uuid_arg(nullif(q->>'actor_id', ''), 'actor_id') END;
    by_object uuid := evently._uuid_arg(nullif(q->>'object_id', ''), 'object_id');
    by_type text := nullif(q->>'object_type', '');
    by_action text := nullif(q->>'action', '');
    t_from timestamptz := evently._time_param(req, 'from');
    t_to timestamptz := evently._time_param(req, 'to', true);
    lim int;
    off int;
    cond text := 'true';
    total bigint;
    page jsonb;
BEGIN
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    PERFORM evently._require(t_from IS NULL OR t_to IS NULL OR t_from <= t_to, 'INVALID_ARGUMENT',
        'Invalid query parameters', format('from=%s is after to=%s.', q->>'from', q->>'to'));
    IF p_event_id IS NOT NULL THEN cond := cond || ' AND (a.event_id = $1 OR a.object_id = $1)'; END IF;
    IF by_actor IS NOT NULL THEN cond := cond || ' AND a.actor_id = $2'; END IF;
    IF by_object IS NOT NULL THEN cond := cond || ' AND a.object_id = $3'; END IF;
    IF by_type IS NOT NULL THEN cond := cond || ' AND a.object_type = $4'; END IF;
    IF by_action IS NOT NULL THEN cond := cond || ' AND a.action = $5'; END IF;
    IF t_from IS NOT NULL THEN cond := cond || ' AND a.occurred_at >= $6'; END IF;
    IF t_to IS NOT NULL THEN cond := cond || ' AND a.occurred_at <= $7'; END IF;
    EXECUTE 'SELECT count(*) FROM evently.audit_log a WHERE ' || cond INTO total
      USING p_event_id, by_actor, by_object, by_type, by_action, t_from, t_to;
    EXECUTE 'SELECT coalesce(jsonb_agg(evently._audit_json(p.a, $8) ORDER BY (p.a).id DESC), ''[]'')'
         || '  FROM (SELECT a FROM evently.audit_log a WHERE ' || cond
         || '         ORDER BY a.id DESC LIMIT $9 OFFSET $10) p' INTO page
      USING p_event_id, by_actor, by_object, by_type, by_action, t_from, t_to, with_db_user, lim, off;
    RETURN evently._slice('audit_logs', page, total, lim, off);
END
$$;

-- GET /admin/audit-logs?actor_id=&object_type=&object_id=&action=&from=&to=
-- &limit=1-100 (20)&offset= (0): an ADMIN reads the whole audit log, newest
-- first (_audit_page).  Returns {audit_logs: [{id, occurred_at, actor_id,
-- db_user, action, object_type, object_id, event_id, details}],
-- total_count, limit, offset}.  FORBIDDEN for anyone else; INVALID_ARGUMENT
-- for a malformed filter.
CREATE OR REPLACE FUNCTION evently.api_admin_audit_logs(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently._audit_page(req, NULL, true);
END
$$;

-- GET /organizer/events/:eventId/audit-logs?object_type=&object_id=&action=
-- &from=&to=&limit=&offset=: the event's audit trail (rows whose event_id
-- or object_id is the event), for its organizer or an ADMIN; the filters
-- and the page of api_admin_audit_logs but actor_id, and db_user only for
-- an ADMIN.  NOT_FOUND for an event that does not exist or that the actor
-- does not manage (someone else's event is as unknown as a missing one);
-- INVALID_ARGUMENT for a malformed filter.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_audit_logs(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid;
BEGIN
    actor := evently._actor(actor, req);
    ev_id := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.events e WHERE e.id = ev_id)
                             AND evently._manages_event(actor, ev_id),
        'NOT_FOUND', 'event not found', format('Event %s does not exist.', ev_id));
    RETURN evently._audit_page(req, ev_id, evently._user_role(actor) = 'ADMIN');
END
$$;
