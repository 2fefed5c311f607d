-- 60_cancellations.sql: cancellation policies and cancellations, and their
-- routes.

CREATE OR REPLACE VIEW evently.cancellation_docs AS
    SELECT c.id AS cancellation_id, jsonb_build_object(
        'id', c.id, 'booking_id', c.booking_id, 'event_id', b.event_id,
        'user_id', b.user_id, 'cancelled_by', c.cancelled_by,
        'requested_at', c.requested_at, 'processed_at', c.processed_at,
        'cancellation_fee', c.cancellation_fee, 'refund_amount', c.refund_amount,
        'reason', c.reason, 'status', c.status,
        'refund_processing_days', p.refund_processing_days,
        'created_at', c.created_at, 'updated_at', c.updated_at) AS doc
      FROM evently.cancellations c
      JOIN evently.bookings b ON b.id = c.booking_id
      LEFT JOIN evently.cancellation_policies p ON p.event_id = b.event_id;

CREATE OR REPLACE FUNCTION evently.cancellation_json(p_cancellation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.cancellation_docs WHERE cancellation_id = p_cancellation_id);

CREATE OR REPLACE VIEW evently.policy_docs AS
    SELECT p.event_id AS event_id, jsonb_build_object(
        'id', p.id, 'event_id', p.event_id, 'allow_cancellation', p.allow_cancellation,
        'cancellation_deadline', p.cancellation_deadline, 'fee_type', p.fee_type,
        'fee_amount', p.fee_amount, 'refund_processing_days', p.refund_processing_days,
        'created_at', p.created_at, 'updated_at', p.updated_at) AS doc
      FROM evently.cancellation_policies p;

CREATE OR REPLACE FUNCTION evently.policy_json(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.policy_docs WHERE event_id = p_event_id);

-- An event's cancellation policy, created or replaced: the deadline at the
-- latest at the event's start, the fee NONE, FIXED (> 0) or PERCENTAGE
-- (0-100), refunds processed in 0 to 30 days.  Returns policy_json;
-- NOT_FOUND, INVALID_ARGUMENT.  The caller has checked who acts.
CREATE OR REPLACE FUNCTION evently._set_policy(event_id uuid, allow_cancellation boolean,
                                               cancellation_deadline timestamptz, fee_type text,
                                               fee_amount numeric, refund_processing_days int, actor_id uuid)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    fee_kind text := upper(fee_type);
    event_at timestamptz;
BEGIN
    SELECT e.date_time INTO event_at FROM evently.events e
     WHERE e.id = _set_policy.event_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', event_id));
    PERFORM evently._require(allow_cancellation IS NOT NULL, 'INVALID_ARGUMENT',
        'allow_cancellation is required', 'Pass true or false.');
    PERFORM evently._require(isfinite(cancellation_deadline), 'INVALID_ARGUMENT',
        'cancellation deadline is required', 'Pass the last moment a booking may be cancelled.');
    PERFORM evently._require(actor_id IS NULL OR evently._user_role(actor_id) IS NOT NULL,
        'NOT_FOUND', 'user not found', format('User %s does not exist.', actor_id));
    PERFORM evently._require(cancellation_deadline <= event_at, 'INVALID_ARGUMENT',
        'cancellation deadline is after the event',
        format('Deadline %s is after the event''s start %s.', cancellation_deadline, event_at));
    PERFORM evently._require(fee_kind IN ('NONE', 'FIXED', 'PERCENTAGE'), 'INVALID_ARGUMENT',
        'invalid fee type', format('Fee type %L is not NONE, FIXED or PERCENTAGE.', fee_type));
    PERFORM evently._require_decimals(fee_amount, 2, 'fee_amount');
    PERFORM evently._require(fee_amount IS NOT NULL AND fee_amount >= 0 AND fee_amount < 1e10,
        'INVALID_ARGUMENT', 'invalid fee amount', format('Fee amount %s is not a non-negative amount.', fee_amount));
    PERFORM evently._require(fee_kind <> 'FIXED' OR fee_amount > 0, 'INVALID_ARGUMENT',
        'fixed fee amount must be greater than 0', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(fee_kind <> 'PERCENTAGE' OR fee_amount <= 100, 'INVALID_ARGUMENT',
        'percentage fee must be between 0 and 100', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(fee_kind <> 'NONE' OR fee_amount = 0, 'INVALID_ARGUMENT',
        'fee type NONE takes no amount', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(refund_processing_days BETWEEN 0 AND 30, 'INVALID_ARGUMENT',
        'invalid refund processing days', format('%s is not between 0 and 30.', refund_processing_days));

    INSERT INTO evently.cancellation_policies AS p (event_id, allow_cancellation,
        cancellation_deadline, fee_type, fee_amount, refund_processing_days)
    VALUES (event_id, allow_cancellation, cancellation_deadline, fee_kind,
            round(fee_amount, 2), refund_processing_days)
    ON CONFLICT ON CONSTRAINT cancellation_policies_event_id_key DO UPDATE
       SET allow_cancellation = EXCLUDED.allow_cancellation,
           cancellation_deadline = EXCLUDED.cancellation_deadline,
           fee_type = EXCLUDED.fee_type, fee_amount = EXCLUDED.fee_amount,
           refund_processing_days = EXCLUDED.refund_processing_days, updated_at = now();
    PERFORM evently._emit('event.updated', event_id, actor_id, 'cancellation_policy', event_id,
        jsonb_build_object('cancellation_policy', evently.policy_json(event_id)), actor_id);
    RETURN evently.policy_json(event_id);
END
$$;

-- The SQL admin API's policy setter (a trusted caller or a linked ADMIN);
-- the rules are _set_policy's.
CREATE OR REPLACE FUNCTION evently.set_cancellation_policy(event_id uuid, allow_cancellation boolean,
                                                cancellation_deadline timestamptz, fee_type text,
                                                fee_amount numeric,
                                                refund_processing_days int DEFAULT 5,
                                                actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently._set_policy(event_id, allow_cancellation, cancellation_deadline, fee_type, fee_amount,
                               refund_processing_days, evently._staff(actor_id))
$$;

-- POST /bookings/:id/request-cancel and /bookings/:id/cancel: both apply the policy.
CREATE OR REPLACE FUNCTION evently.api_booking_cancel(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.cancel_with_policy(evently._uuid_arg(req->'path'->>'id', 'id'), actor, req->'body'->>'reason');
END
$$;

-- GET /users/cancellations: the actor's cancellations, newest first
CREATE OR REPLACE FUNCTION evently.api_user_cancellations(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN (WITH mine AS (
                SELECT c.id, c.created_at FROM evently.cancellations c
                  JOIN evently.bookings b ON b.id = c.booking_id
                 WHERE b.user_id = actor)
            SELECT jsonb_build_object(
                'cancellations', coalesce(jsonb_agg(d.doc ORDER BY m.created_at DESC, m.id), '[]'),
                'count', count(*))
              FROM mine m JOIN evently.cancellation_docs d ON d.cancellation_id = m.id);
END
$$;

-- GET /cancellations/:id: its booking's owner or an ADMIN
CREATE OR REPLACE FUNCTION evently.api_cancellation_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently._visible_to(evently.cancellation_json(evently._uuid_arg(req->'path'->>'id', 'id')),
                               evently._actor(actor, req),
                               'cancellation', req->'path'->>'id')
$$;

-- POST and PUT /admin/events/:eventId/cancellation-policy, and
-- /events/:eventId/cancellation-policy: the event's organizer or an ADMIN
-- (NOT_FOUND for anyone else).
CREATE OR REPLACE FUNCTION evently.api_policy_set(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev_id uuid;
    exists_already boolean;
BEGIN
    actor := evently._actor(actor, req);
    ev_id := (evently._managed_event(actor, req->'path'->>'eventId')).id;
    PERFORM evently._only_fields(req->'body', 'allow_cancellation', 'cancellation_deadline', 'fee_type', 'fee_amount', 'refund_processing_days');
    exists_already := EXISTS (SELECT 1 FROM evently.cancellation_policies WHERE event_id = ev_id);
    PERFORM evently._require(exists_already = (req->>'method' = 'PUT'),
        CASE WHEN exists_already THEN 'ALREADY_EXISTS' ELSE 'NOT_FOUND' END,
        CASE WHEN exists_already THEN 'cancellation policy already exists for this event'
             ELSE 'cancellation policy not found' END,
        format('Event %s; create with POST, replace with PUT.', ev_id));
    PERFORM evently._require(evently._time_field(b, 'cancellation_deadline') > now(), 'INVALID_ARGUMENT',
        'cancellation deadline must be in the future', format('%s is not after now.', b->>'cancellation_deadline'));
    PERFORM evently._require(coalesce(evently._int_arg(b->>'refund_processing_days', 'refund_processing_days'), 5) BETWEEN 1 AND 30, 'INVALID_ARGUMENT',
        'invalid refund processing days', 'Refunds are processed in 1 to 30 days.');
    RETURN evently._set_policy(ev_id, evently._bool_arg(b->>'allow_cancellation', 'allow_cancellation'),
        evently._time_field(b, 'cancellation_deadline'), b->>'fee_type',
        coalesce(evently._numeric_arg(b->>'fee_amount', 'fee_amount'), 0),
        coalesce(evently._int_arg(b->>'refund_processing_days', 'refund_processing_days'), 5), actor);
END
$$;

-- GET /admin/events/:eventId/cancellation-policy and
-- /events/:eventId/cancellation-policy: the event's organizer or an ADMIN
CREATE OR REPLACE FUNCTION evently.api_policy_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb := evently.policy_json(evently._uuid_arg(req->'path'->>'eventId', 'eventId'));
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(evently._manages_event(actor, evently._uuid_arg(req->'path'->>'eventId', 'eventId')),
        'NOT_FOUND', 'event not found', format('Event %s does not exist.', req->'path'->>'eventId'));
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', 'Cancellation policy not found',
        format('cancellation policy not found for event: %s', req->'path'->>'eventId'));
    RETURN doc;
END
$$;
