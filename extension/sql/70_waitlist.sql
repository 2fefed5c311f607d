-- 70_waitlist.sql: joining and leaving an event's waitlist, and the user
-- and ADMIN waitlist routes (offers are made by the C engine, waitlist.c).

CREATE OR REPLACE VIEW evently.waitlist_docs AS
    SELECT w.id AS entry_id, jsonb_strip_nulls(jsonb_build_object(
        'id', w.id, 'event_id', w.event_id, 'user_id', w.user_id,
        -- live rank among those still waiting; the stored value otherwise
        'position', CASE WHEN w.status = 'ACTIVE' THEN (
                        SELECT count(*) FROM evently.waitlist_entries o
                         WHERE o.event_id = w.event_id AND o.status = 'ACTIVE'
                           AND o.position <= w.position)
                    ELSE w.position END,
        'quantity', w.quantity, 'tier_id', w.tier_id, 'status', w.status, 'preferences', w.preferences,
        'hold_id', w.hold_id, 'joined_at', w.joined_at,
        'notified_at', w.notified_at, 'expires_at', w.expires_at)) AS doc
      FROM evently.waitlist_entries w;

CREATE OR REPLACE FUNCTION evently.waitlist_json(p_entry_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.waitlist_docs WHERE entry_id = p_entry_id);

-- What a new entry waits for (the event's row is locked FOR KEY SHARE): seats
-- when tier_id is NULL, which the event must have; otherwise that tier of
-- the event, whose sales have not ended, for a quantity within its per-order
-- limits (an offer is a hold the tier would sell).  NOT_FOUND,
-- INVALID_ARGUMENT, NOT_ON_SALE, LIMIT_EXCEEDED.
CREATE OR REPLACE FUNCTION evently._waitable_tier(p_event_id uuid, p_tier_id uuid, p_quantity int)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t evently.ticket_tiers;
BEGIN
    IF p_tier_id IS NULL THEN
        PERFORM evently._require(EXISTS (SELECT 1 FROM evently.event_seats WHERE event_id = p_event_id),
            'INVALID_ARGUMENT', 'name the tier to wait for',
            format('Event %s sells tiers, not seats: pass tier_id.', p_event_id));
        RETURN;
    END IF;
    SELECT * INTO t FROM evently.ticket_tiers WHERE id = p_tier_id AND event_id = p_event_id FOR KEY SHARE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'tier not found',
        format('Event %s has no tier %s.', p_event_id, p_tier_id));
    PERFORM evently._require(t.sale_end IS NULL OR t.sale_end > now(), 'NOT_ON_SALE', 'tier is no longer on sale',
        format('Sales of tier "%s" ended at %s.', t.name, t.sale_end));
    PERFORM evently._require(p_quantity BETWEEN t.min_per_order AND t.max_per_order, 'LIMIT_EXCEEDED',
        'quantity outside the tier''s per-order limits',
        format('Tier "%s" sells %s to %s per order; %s requested.', t.name, t.min_per_order, t.max_per_order, p_quantity));
END
$$;

CREATE OR REPLACE FUNCTION evently.join_waitlist(event_id uuid, user_id uuid, quantity int DEFAULT 1,
                                      preferences jsonb DEFAULT NULL, tier_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev record;
    new_id uuid;
    queue_length int;
BEGIN
    user_id := evently._as_caller(user_id);
    -- a free-form field is bounded like every other (2 kB of JSON)
    PERFORM evently._require(preferences IS NULL OR (jsonb_typeof(preferences) = 'object'
                                                    AND octet_length(preferences::text) <= 2048),
        'INVALID_ARGUMENT', 'invalid waitlist preferences', 'Preferences are a JSON object of at most 2048 bytes.');
    PERFORM evently._require(quantity BETWEEN 1 AND 10, 'INVALID_ARGUMENT', 'invalid waitlist quantity',
        format('Quantity %s is not between 1 and 10.', coalesce(quantity::text, 'NULL')));
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.users u
                                      WHERE u.id = join_waitlist.user_id AND u.status = 'ACTIVE'),
        'NOT_FOUND', 'user not found', format('User %s does not exist or is banned.', user_id));
    -- FOR KEY SHARE: a join waits for an event being cancelled (which takes the
    -- row FOR UPDATE), and then sees it cancelled
    SELECT e.status, evently._lifecycle_status(e.status, e.date_time, e.end_time) AS shown,
           -- on sale as the engine says (EVENT_ON_SALE_1_1, evently.h)
           e.status = 'published' AND (e.date_time > now() OR (e.sales_during_event AND e.end_time > now())) AS on_sale,
           e.date_time, e.max_seats_per_hold, e.max_tickets_per_user INTO ev
      FROM evently.events e WHERE e.id = join_waitlist.event_id FOR KEY SHARE;
    -- a draft or an event under review is not there for anyone to queue for
    PERFORM evently._require(FOUND AND ev.status NOT IN ('draft', 'under_review'), 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', event_id));
    PERFORM evently._require(ev.on_sale, 'EVENT_CLOSED', 'event is not open for booking',
        format('Event %s is %s; it starts at %s.', event_id, ev.shown, ev.date_time));
    PERFORM evently._waitable_tier(join_waitlist.event_id, join_waitlist.tier_id, quantity);
    PERFORM evently._require(quantity <= ev.max_seats_per_hold, 'LIMIT_EXCEEDED',
        'waitlist quantity over the per-hold limit',
        format('Quantity %s is over the event''s limit of %s seats per hold.',
               quantity, ev.max_seats_per_hold));
    -- an offer would take the user over the event's tickets per user
    PERFORM evently._require(ev.max_tickets_per_user IS NULL OR quantity
            + (SELECT coalesce(sum(h.seat_count), 0) FROM evently.holds h
                WHERE h.user_id = join_waitlist.user_id AND h.event_id = join_waitlist.event_id
                  AND h.status = 'ACTIVE' AND h.expires_at > now())
            + (SELECT coalesce(sum(b.total_seats), 0) FROM evently.bookings b
                WHERE b.user_id = join_waitlist.user_id AND b.event_id = join_waitlist.event_id
                  AND b.status = 'CONFIRMED') <= ev.max_tickets_per_user,
        'LIMIT_EXCEEDED', 'too many tickets for this user',
        format('Quantity %s with the seats user %s holds and bought exceeds the event''s limit of %s tickets per user.',
               quantity, user_id, ev.max_tickets_per_user));
    -- the queue lock orders joins against promotions: positions are FIFO
    PERFORM evently._lock_event_queue(join_waitlist.event_id);
    PERFORM evently._require(NOT EXISTS (
            SELECT 1 FROM evently.waitlist_entries w
             WHERE w.event_id = join_waitlist.event_id AND w.user_id = join_waitlist.user_id
               AND w.status IN ('ACTIVE', 'NOTIFIED')),
        'ALREADY_EXISTS', 'user is already on the waitlist',
        format('User %s already waits for event %s.', user_id, event_id));
    SELECT count(*) INTO queue_length FROM evently.waitlist_entries w
     WHERE w.event_id = join_waitlist.event_id AND w.status = 'ACTIVE';
    PERFORM evently._require(queue_length < 10000, 'WAITLIST_FULL', 'waitlist is full',
        format('Event %s has 10000 people waiting.', event_id));
    INSERT INTO evently.waitlist_entries (event_id, user_id, position, quantity, preferences, tier_id)
    SELECT join_waitlist.event_id, join_waitlist.user_id, coalesce(max(w.position), 0) + 1,
           join_waitlist.quantity, join_waitlist.preferences, join_waitlist.tier_id
      FROM evently.waitlist_entries w WHERE w.event_id = join_waitlist.event_id
    RETURNING id INTO new_id;
    PERFORM evently._emit('waitlist.joined', event_id, user_id, 'waitlist_entry', new_id,
        evently.waitlist_json(new_id), user_id);
    RETURN evently.waitlist_json(new_id);
END
$$;

-- Leave the queue.  A user holding an offer declines it: the offer's seats go
-- to the next in line.
CREATE OR REPLACE FUNCTION evently.leave_waitlist(event_id uuid, user_id uuid)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    entry record;
BEGIN
    user_id := evently._as_caller(user_id);
    PERFORM evently._lock_event_queue(leave_waitlist.event_id);
    SELECT w.id, w.status, w.hold_id INTO entry FROM evently.waitlist_entries w
     WHERE w.event_id = leave_waitlist.event_id AND w.user_id = leave_waitlist.user_id
       AND w.status IN ('ACTIVE', 'NOTIFIED');
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'waitlist entry not found',
        format('User %s is not waiting for event %s.', user_id, event_id));
    IF entry.status = 'NOTIFIED' AND EXISTS (SELECT 1 FROM evently.holds h
                                              WHERE h.id = entry.hold_id AND h.expires_at > now()) THEN
        -- declining a live offer: release_hold cancels the entry and
        -- offers the seats to the next in line
        PERFORM evently.release_hold(entry.hold_id, user_id);
    ELSE
        -- still waiting, or an offer that lapsed (the sweeper frees its seats)
        UPDATE evently.waitlist_entries w SET status = 'CANCELLED', updated_at = now()
         WHERE w.id = entry.id;
        PERFORM evently._emit('waitlist.left', event_id, user_id, 'waitlist_entry', entry.id,
            evently.waitlist_json(entry.id), user_id);
    END IF;
    RETURN evently.waitlist_json(entry.id);
END
$$;

-- The waitlist entry as GET /waitlist/status shows it: estimated_wait is
-- integer nanoseconds (the reference serialises a Go duration): 30 minutes
-- per person ahead while waiting, the offer's remaining window once offered.
CREATE OR REPLACE FUNCTION evently._waitlist_status_json(p_entry_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT d || CASE
        WHEN d->>'status' = 'ACTIVE' AND (d->>'position')::int > 1
            THEN jsonb_build_object('estimated_wait', ((d->>'position')::bigint - 1) * 1800 * 1000000000)
        WHEN d->>'status' = 'NOTIFIED'
            THEN jsonb_build_object('estimated_wait',
                     greatest(0, (extract(epoch FROM (d->>'expires_at')::timestamptz - now()) * 1e9)::bigint))
        ELSE '{}' END
      FROM evently.waitlist_json(p_entry_id) d
$$;

-- POST /waitlist
CREATE OR REPLACE FUNCTION evently.api_waitlist_join(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    entry jsonb;
BEGIN
    actor := evently._actor(actor, req);
    entry := evently.join_waitlist(evently._uuid_arg(b->>'event_id', 'event_id'), actor, coalesce(evently._int_arg(b->>'quantity', 'quantity'), 1),
                                   b->'preferences', evently._uuid_arg(b->>'tier_id', 'tier_id'));
    RETURN evently._waitlist_status_json((entry->>'id')::uuid);
END
$$;

-- DELETE /waitlist/:event_id
CREATE OR REPLACE FUNCTION evently.api_waitlist_leave(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.leave_waitlist(evently._uuid_arg(req->'path'->>'event_id', 'event_id'), actor);
END
$$;

-- GET /waitlist/status/:event_id: the actor's latest entry for the event
CREATE OR REPLACE FUNCTION evently.api_waitlist_status(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    entry_id uuid;
BEGIN
    actor := evently._actor(actor, req);
    SELECT id INTO entry_id FROM evently.waitlist_entries
     WHERE event_id = evently._uuid_arg(req->'path'->>'event_id', 'event_id') AND user_id = actor
     ORDER BY joined_at DESC LIMIT 1;
    PERFORM evently._require(entry_id IS NOT NULL, 'NOT_FOUND', 'waitlist entry not found',
        format('User %s has not joined the waitlist of event %s.', actor, req->'path'->>'event_id'));
    RETURN evently._waitlist_status_json(entry_id);
END
$$;

-- GET /users/waitlist: every entry of the actor, newest first
CREATE OR REPLACE FUNCTION evently.api_user_waitlist(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN (SELECT coalesce(jsonb_agg(evently._waitlist_status_json(id) ORDER BY joined_at DESC), '[]')
              FROM evently.waitlist_entries WHERE user_id = actor);
END
$$;

-- GET /admin/waitlist/stats/:event_id
CREATE OR REPLACE FUNCTION evently.api_waitlist_stats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := evently._uuid_arg(req->'path'->>'event_id', 'event_id');
BEGIN
    actor := evently._admin(actor, req);
    RETURN (SELECT jsonb_build_object(
                'event_id', ev, 'total_in_queue', count(*),
                'active_in_queue', count(*) FILTER (WHERE status = 'ACTIVE'),
                'notified_count', count(*) FILTER (WHERE status = 'NOTIFIED'),
                'converted_count', count(*) FILTER (WHERE status = 'CONVERTED'),
                'expired_count', count(*) FILTER (WHERE status = 'EXPIRED'),
                'average_wait_time_minutes',
                    coalesce(round(avg(extract(epoch FROM notified_at - joined_at) / 60)
                                   FILTER (WHERE notified_at IS NOT NULL)), 0))
              FROM evently.waitlist_entries WHERE event_id = ev);
END
$$;

-- GET /admin/waitlist/entries/:event_id?status&page&limit: the entries in
-- queue order; the page description travels beside data, as the reference's did.
CREATE OR REPLACE FUNCTION evently.api_waitlist_entries(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := evently._uuid_arg(req->'path'->>'event_id', 'event_id');
    wanted text := req->'query'->>'status';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 50, 1, 100);
    total bigint;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require(wanted IS NULL OR wanted IN ('ACTIVE', 'NOTIFIED', 'EXPIRED', 'CONVERTED', 'CANCELLED'),
        'INVALID_ARGUMENT', 'Invalid status filter', format('status=%s is not a waitlist status.', wanted));
    SELECT count(*) INTO total FROM evently.waitlist_entries
     WHERE event_id = ev AND (wanted IS NULL OR status = wanted);
    RETURN jsonb_build_object(
        '__data', coalesce((SELECT jsonb_agg(w.doc || jsonb_build_object('created_at', e.created_at,
                                                                           'updated_at', e.updated_at)
                                             ORDER BY e.position)
                              FROM (SELECT * FROM evently.waitlist_entries
                                     WHERE event_id = ev AND (wanted IS NULL OR status = wanted)
                                     ORDER BY position LIMIT lim OFFSET (page - 1) * lim) e
                              JOIN evently.waitlist_docs w ON w.entry_id = e.id), '[]'),
        'pagination', jsonb_build_object('page', page, 'limit', lim, 'total', total,
                                         'total_pages', ceil(total::numeric / lim)::int));
END
$$;

-- POST /admin/waitlist/notify/:event_id and /admin/waitlist/cancellation/:event_id:
-- offers go to the queue for the seats actually free, whatever number is sent.
CREATE OR REPLACE FUNCTION evently.api_waitlist_notify(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    count int;
BEGIN
    actor := evently._admin(actor, req);
    -- the count of the reference: how many people in line to notify at most
    count := evently._int_arg(coalesce(req->'body'->>'available_tickets', req->'body'->>'freed_tickets'),
                              'available_tickets');
    PERFORM evently._require(count IS NULL OR count >= 1, 'INVALID_ARGUMENT', 'invalid available_tickets',
        format('available_tickets (or freed_tickets) is at least 1, not %s.', count));
    RETURN evently.waitlist_promote(evently._uuid_arg(req->'path'->>'event_id', 'event_id'), count);
END
$$;
