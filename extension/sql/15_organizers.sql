-- 15_organizers.sql: organizer accounts (SPEC section 9).  A USER applies
-- to run events; the application is PENDING until an ADMIN verifies it (the
-- user becomes ORGANIZER, which ends the user's sessions: a new sign-in
-- carries the new role) or rejects it with a reason (the user may apply
-- again).  An ADMIN may take a verification back (REVOKED, with a reason;
-- the user may apply again).  The events an organizer runs belong to its
-- VERIFIED application (events.organizer_id); ownership is checked by
-- _manages_event.

-- An application as the API shows it, with its applicant.
CREATE OR REPLACE FUNCTION evently.organizer_json(p_organizer_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', o.id, 'user_id', o.user_id, 'organization_name', o.organization_name,
                              'description', o.description, 'verification_status', o.verification_status,
                              'reason', o.reason, 'reviewed_by', o.reviewed_by, 'reviewed_at', o.reviewed_at,
                              'verified_at', o.verified_at, 'created_at', o.created_at,
                              'updated_at', o.updated_at,
                              'user', jsonb_build_object('email', u.email, 'first_name', u.first_name,
                                                         'last_name', u.last_name, 'role', u.role,
                                                         'status', u.status))
      FROM evently.organizers o JOIN evently.users u ON u.id = o.user_id
     WHERE o.id = p_organizer_id
$$;

-- POST /organizers {"organization_name": 2-200 characters, "description":
-- at most 2000}: the actor applies; returns the PENDING application.
-- ALREADY_EXISTS while an application is pending or verified, FORBIDDEN for
-- an ADMIN (who runs every event already), INVALID_ARGUMENT for bad fields.
CREATE OR REPLACE FUNCTION evently.api_organizer_apply(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    live record;
    new_id uuid;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'organization_name', 'description');
    PERFORM evently._require(length(btrim(b->>'organization_name')) BETWEEN 2 AND 200, 'INVALID_ARGUMENT',
        'invalid organization name', 'An organization name has 2 to 200 characters, not only spaces.');
    PERFORM evently._require(coalesce(length(b->>'description'), 0) <= 2000, 'INVALID_ARGUMENT',
        'organizer description is too long', 'A description has at most 2000 characters.');
    PERFORM evently._require(evently._user_role(actor) <> 'ADMIN', 'FORBIDDEN', 'ADMINs do not apply',
        format('User %s is an ADMIN and runs every event already.', actor));
    -- one application at a time per user: the user's row serialises them
    PERFORM 1 FROM evently.users WHERE id = actor FOR UPDATE;
    SELECT id, verification_status INTO live FROM evently.organizers
     WHERE user_id = actor AND verification_status IN ('PENDING', 'VERIFIED');
    PERFORM evently._require(NOT FOUND, 'ALREADY_EXISTS',
        CASE live.verification_status WHEN 'PENDING' THEN 'application already pending'
                                      ELSE 'already a verified organizer' END,
        format('Organizer application %s of user %s is %s.', live.id, actor, live.verification_status));
    INSERT INTO evently.organizers (user_id, organization_name, description)
    VALUES (actor, btrim(b->>'organization_name'), b->>'description')
    RETURNING id INTO new_id;
    PERFORM evently._emit('organizer.applied', NULL, actor, 'organizer', new_id,
                          evently.organizer_json(new_id), actor);
    RETURN evently.organizer_json(new_id);
END
$$;

-- GET /organizers/me: the actor's latest application, whatever its status;
-- NOT_FOUND when the actor never applied.
CREATE OR REPLACE FUNCTION evently.api_organizer_me(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently._found((SELECT evently.organizer_json(o.id) FROM evently.organizers o
                            WHERE o.user_id = actor ORDER BY o.created_at DESC, o.id LIMIT 1),
                          'organizer application', actor::text);
END
$$;

-- GET /admin/organizers?status=PENDING|VERIFIED|REJECTED&limit=1-100 (20)&offset=
-- (0): applications, oldest first (the review queue's order), as
-- {organizers, total_count, limit, offset}.
CREATE OR REPLACE FUNCTION evently.api_admin_organizers_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    wanted text := nullif(upper(req->'query'->>'status'), '');
    lim int;
    off int;
BEGIN
    actor := evently._admin(actor, req);
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    PERFORM evently._require(wanted IS NULL OR wanted IN ('PENDING', 'VERIFIED', 'REJECTED', 'REVOKED'),
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('status=%s is not PENDING, VERIFIED, REJECTED or REVOKED.', req->'query'->>'status'));
    RETURN evently._slice('organizers',
        (SELECT jsonb_agg(evently.organizer_json(o.id) ORDER BY o.created_at, o.id)
           FROM (SELECT id, created_at FROM evently.organizers
                  WHERE wanted IS NULL OR verification_status = wanted
                  ORDER BY created_at, id LIMIT lim OFFSET off) o),
        (SELECT count(*) FROM evently.organizers WHERE wanted IS NULL OR verification_status = wanted),
        lim, off);
END
$$;

-- The application an ADMIN route names (path id), locked FOR UPDATE so that
-- two decisions on it take turns; NOT_FOUND for an unknown id,
-- INVALID_ARGUMENT for one that is not a uuid.
CREATE OR REPLACE FUNCTION evently._locked_application(p_id text) RETURNS evently.organizers
LANGUAGE plpgsql AS $$
DECLARE
    app evently.organizers;
BEGIN
    SELECT * INTO app FROM evently.organizers WHERE id = evently._uuid_arg(p_id, 'id') FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'organizer application not found',
        format('Organizer application %s does not exist.', p_id));
    RETURN app;
END
$$;

-- POST /admin/organizers/:id/verify {"decision": "VERIFIED"|"REJECTED",
-- "reason": text, required to reject, at most 500}: an ADMIN decides a
-- PENDING application (INVALID_TRANSITION once decided).  VERIFIED makes the
-- applicant an ORGANIZER (an ADMIN applicant stays ADMIN).
CREATE OR REPLACE FUNCTION evently.api_admin_organizer_verify(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    decision text := upper(b->>'decision');
    app evently.organizers;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(b, 'decision', 'reason');
    PERFORM evently._require(decision IN ('VERIFIED', 'REJECTED'), 'INVALID_ARGUMENT', 'invalid decision',
        format('decision %L is not VERIFIED or REJECTED.', b->>'decision'));
    PERFORM evently._require(decision = 'VERIFIED' OR length(btrim(b->>'reason')) > 0, 'INVALID_ARGUMENT',
        'reason is required', 'A rejection says why, so that the applicant can apply again.');
    PERFORM evently._require(coalesce(length(b->>'reason'), 0) <= 500, 'INVALID_ARGUMENT',
        'reason is too long', 'A reason has at most 500 characters.');
    app := evently._locked_application(req->'path'->>'id');
    PERFORM evently._require(app.verification_status = 'PENDING', 'INVALID_TRANSITION',
        'application already decided', format('Application %s is %s.', app.id, app.verification_status));
    UPDATE evently.organizers
       SET verification_status = decision, reason = nullif(btrim(b->>'reason'), ''),
           reviewed_by = actor, reviewed_at = now(),
           verified_at = CASE WHEN decision = 'VERIFIED' THEN now() END, updated_at = now()
     WHERE id = app.id;
    IF decision = 'VERIFIED' THEN
        UPDATE evently.users SET role = 'ORGANIZER', updated_at = now()
         WHERE id = app.user_id AND role = 'USER';
    END IF;
    PERFORM evently._emit(CASE decision WHEN 'VERIFIED' THEN 'organizer.verified' ELSE 'organizer.rejected' END,
                          NULL, app.user_id, 'organizer', app.id, evently.organizer_json(app.id), actor);
    RETURN evently.organizer_json(app.id);
END
$$;

-- POST /admin/organizers/:id/revoke {"reason"}: an ADMIN takes a VERIFIED
-- application back (INVALID_TRANSITION otherwise): it becomes REVOKED with
-- the reason, and its user, an ORGANIZER, becomes a USER again (which ends
-- the user's sessions).  The organizer's events stay as they are, run by
-- the ADMINs from then on (nobody else manages them); the user may apply
-- again.  Returns organizer_json; organizer.revoked tells the user why.
CREATE OR REPLACE FUNCTION evently.api_admin_organizer_revoke(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    why text;
    app evently.organizers;
BEGIN
    actor := evently._admin(actor, req);
    why := evently._required_reason(req, 'the organizer is told');
    app := evently._locked_application(req->'path'->>'id');
    PERFORM evently._require(app.verification_status = 'VERIFIED', 'INVALID_TRANSITION',
        'organizer is not verified', format('Application %s is %s; only a VERIFIED one is revoked.',
                                            app.id, app.verification_status));
    UPDATE evently.organizers SET verification_status = 'REVOKED', reason = why, updated_at = now()
     WHERE id = app.id;
    UPDATE evently.users SET role = 'USER', updated_at = now() WHERE id = app.user_id AND role = 'ORGANIZER';
    PERFORM evently._emit('organizer.revoked', NULL, app.user_id, 'organizer', app.id,
                          evently.organizer_json(app.id), actor);
    RETURN evently.organizer_json(app.id);
END
$$;
