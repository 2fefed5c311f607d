-- 45_lifecycle.sql: an organizer's events and their lifecycle (SPEC section 9)
--
--   draft --submit--> under_review --approve (ADMIN)--> published
--     ^                    |                               |  by the clock:
--     +----reject (ADMIN)--+                               v  active, completed
--   published or active --cancel (organizer or ADMIN)--> cancelled
--
-- Every write here locks the event row first (_managed_event) and answers
-- NOT_FOUND for an event the actor does not manage; every transition is
-- one outbox event with its audit row.  Events an ADMIN creates through the
-- Evently admin routes are published at once (40_events.sql).

-- An event as its organizer sees it: the public view plus the lifecycle's
-- bookkeeping.
CREATE OR REPLACE FUNCTION evently.organizer_event_json(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently.event_json(e.id, true)
           || jsonb_build_object('review_note', e.review_note, 'cancel_reason', e.cancel_reason,
                                 'submitted_at', e.submitted_at, 'published_at', e.published_at,
                                 'cancelled_at', e.cancelled_at, 'stored_status', e.status,
                                 'transfers_allowed', e.transfers_allowed,
                                 'doors_open_minutes', e.doors_open_minutes)
      FROM evently.events e WHERE e.id = p_event_id
$$;

-- The settings an event body may carry besides its fields, as
-- _create_event's settings: category (lower-cased), end_time,
-- sales_during_event, max_tickets_per_user, and the door's:
-- transfers_allowed, doors_open_minutes (SPEC section 11).
CREATE OR REPLACE FUNCTION evently._event_settings(b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(b->'sales_during_event' IS NULL OR jsonb_typeof(b->'sales_during_event') = 'boolean',
        'INVALID_ARGUMENT', 'invalid sales_during_event', 'sales_during_event is true or false.');
    PERFORM evently._require(b->'category' IS NULL OR jsonb_typeof(b->'category') = 'string',
        'INVALID_ARGUMENT', 'invalid category', 'category is a string.');
    PERFORM evently._require(b->'transfers_allowed' IS NULL OR jsonb_typeof(b->'transfers_allowed') = 'boolean',
        'INVALID_ARGUMENT', 'invalid transfers_allowed', 'transfers_allowed is true or false.');
    PERFORM evently._require(b->'doors_open_minutes' IS NULL
                             OR (jsonb_typeof(b->'doors_open_minutes') = 'number'
                                 AND (b->>'doors_open_minutes') ~ '^[0-9]{1,4}$'
                                 AND (b->>'doors_open_minutes')::int <= 2880),
        'INVALID_ARGUMENT', 'invalid doors_open_minutes',
        'doors_open_minutes (check-in opens that long before the start) is a whole number from 0 to 2880.');
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'category', lower(btrim(b->>'category')), 'end_time', b->'end_time',
        'sales_during_event', b->'sales_during_event', 'max_tickets_per_user', b->'max_tickets_per_user',
        'transfers_allowed', b->'transfers_allowed', 'doors_open_minutes', b->'doors_open_minutes'));
END
$$;

-- POST /events: a verified organizer's new event, a draft.  Body: the fields
-- of POST /admin/events (name, venue, date_time, base_price, description,
-- image_url, tags, section_pricing, max_tickets_per_user) plus category,
-- end_time (default date_time + 3 h), sales_during_event, transfers_allowed
-- (default true) and doors_open_minutes (default 120);
-- venue_template_id may be omitted for an event that will sell tiers only.
-- Returns organizer_event_json.  FORBIDDEN for anyone but a verified
-- ORGANIZER; INVALID_ARGUMENT, NOT_FOUND (template) as create_event.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    org uuid;
    new_id uuid;
BEGIN
    org := evently._organizer(actor, req);
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'name', 'description', 'venue', 'venue_template_id', 'date_time',
                                 'base_price', 'image_url', 'tags', 'section_pricing', 'max_tickets_per_user',
                                 'category', 'end_time', 'sales_during_event', 'transfers_allowed',
                                 'doors_open_minutes');
    PERFORM evently._require_event_fields(b);
    PERFORM evently._require(b->>'name' IS NOT NULL AND b->>'date_time' IS NOT NULL AND b->'base_price' IS NOT NULL,
        'INVALID_ARGUMENT', 'invalid event', 'name, date_time and base_price are required.');
    new_id := evently._create_event(b->>'name', evently._uuid_arg(b->>'venue_template_id', 'venue_template_id'),
                                    evently._time_field(b, 'date_time'),
                                    evently._numeric_arg(b->>'base_price', 'base_price'), actor,
                                    b->>'venue', b->>'description', evently._section_multipliers(b),
                                    ARRAY(SELECT jsonb_array_elements_text(coalesce(b->'tags', '[]'))),
                                    evently._event_settings(b), org, 'draft');
    UPDATE evently.events SET image_url = b->>'image_url' WHERE id = new_id AND b->>'image_url' IS NOT NULL;
    RETURN evently.organizer_event_json(new_id);
END
$$;

-- Has anyone ever held (and so maybe bought) a seat of the event?
CREATE OR REPLACE FUNCTION evently._ever_held(p_event_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM evently.holds WHERE event_id = p_event_id)
$$;

-- What a buyer bought stays as it was sold: once anyone held a seat of the
-- event, a body may not change its name, venue, date or base price
-- (INVALID_TRANSITION naming them; sending them unchanged is fine).
CREATE OR REPLACE FUNCTION evently._require_unchanged_after_sales(ev evently.events, b jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    changed text;
BEGIN
    IF NOT evently._ever_held(ev.id) THEN
        RETURN;
    END IF;
    SELECT string_agg(f, ', ') INTO changed
      FROM (VALUES ('name', btrim(b->>'name') IS DISTINCT FROM ev.name),
                   ('venue', b->>'venue' IS DISTINCT FROM ev.venue),
                   ('date_time', evently._time_field(b, 'date_time') IS DISTINCT FROM ev.date_time),
                   ('base_price', evently._numeric_arg(b->>'base_price', 'base_price') IS DISTINCT FROM ev.base_price)) c(f, differs)
     WHERE b ? f AND differs;
    PERFORM evently._require(changed IS NULL, 'INVALID_TRANSITION', 'event has sales',
        format('Event %s has sold or held seats: %s can no longer change.', ev.id, changed),
        'Cancel the event (every buyer is refunded) and create another.');
END
$$;

-- PUT /events/:eventId: the organizer (or an ADMIN) edits an event.  A draft
-- changes freely (but its venue template: delete the draft and create
-- another); an event under review waits for its decision; a published or
-- active event may change its description, image, end time, category, tags
-- and settings, and its name, venue, date and base price only while nobody
-- ever held a seat; a cancelled or completed one is final.  Returns
-- organizer_event_json.  Raises NOT_FOUND, INVALID_TRANSITION, EVENT_CLOSED,
-- INVALID_ARGUMENT.
CREATE OR REPLACE FUNCTION evently.api_organizer_event_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev evently.events;
    shown text;
    new_time timestamptz;
    new_end timestamptz;
    settings jsonb;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._only_fields(b, 'name', 'description', 'venue', 'venue_template_id', 'date_time', 'end_time',
                                 'base_price', 'image_url', 'tags', 'max_tickets_per_user', 'category',
                                 'sales_during_event', 'transfers_allowed', 'doors_open_minutes');
    new_time := evently._time_field(b, 'date_time');
    new_end := evently._time_field(b, 'end_time');
    settings := evently._event_settings(b);
    shown := evently._lifecycle_status(ev.status, ev.date_time, ev.end_time);
    PERFORM evently._require(shown NOT IN ('cancelled', 'completed'), 'EVENT_CLOSED',
        format('cannot update event with status: %s', shown), 'Cancelled and completed events are final.');
    PERFORM evently._require(shown <> 'under_review', 'INVALID_TRANSITION', 'event is under review',
        format('Event %s was submitted at %s; it changes again once an ADMIN approves or rejects it.',
               ev.id, ev.submitted_at));
    PERFORM evently._require(b->>'venue_template_id' IS NULL
                             OR evently._uuid_arg(b->>'venue_template_id', 'venue_template_id') IS NOT DISTINCT FROM ev.venue_template_id,
        'INVALID_ARGUMENT', 'venue_template_id cannot change',
        format('Event %s is sold on venue template %s; create a new event for another venue.',
               ev.id, ev.venue_template_id));
    PERFORM evently._require_event_fields(b);
    IF ev.status <> 'draft' THEN
        PERFORM evently._require_unchanged_after_sales(ev, b);
    END IF;
    PERFORM evently._require_category(settings->>'category');
    PERFORM evently._require(new_time IS NULL OR new_time > now(), 'INVALID_ARGUMENT',
        'event date must be in the future', format('%s is not after now.', new_time));
    PERFORM evently._require(new_end IS NULL OR new_end > now(), 'INVALID_ARGUMENT',
        'event end must be in the future', format('%s is not after now.', new_end));
    PERFORM evently._require_within_horizon(coalesce(new_end, new_time + (ev.end_time - ev.date_time)));
    PERFORM evently._require(coalesce(new_end, new_time + (ev.end_time - ev.date_time), ev.end_time)
                             > coalesce(new_time, ev.date_time),
        'INVALID_ARGUMENT', 'event must end after it starts',
        format('end_time %s is not after date_time %s.', coalesce(new_end, ev.end_time), coalesce(new_time, ev.date_time)));
    PERFORM evently._require_date_after_deadline(ev.id, new_time);
    PERFORM evently._require_max_tickets(b);
    IF b ? 'tags' THEN
        PERFORM evently._set_event_tags(ev.id, b->'tags');
    END IF;
    UPDATE evently.events
       SET name = coalesce(btrim(b->>'name'), name), description = coalesce(b->>'description', description),
           venue = coalesce(b->>'venue', venue), image_url = coalesce(b->>'image_url', image_url),
           date_time = coalesce(new_time, date_time),
           end_time = coalesce(new_end, new_time + (end_time - date_time), end_time),
           base_price = coalesce(round(evently._numeric_arg(b->>'base_price', 'base_price'), 2), base_price),
           category = CASE WHEN b ? 'category' THEN settings->>'category' ELSE category END,
           sales_during_event = coalesce((settings->>'sales_during_event')::boolean, sales_during_event),
           transfers_allowed = coalesce((settings->>'transfers_allowed')::boolean, transfers_allowed),
           doors_open_minutes = coalesce((settings->>'doors_open_minutes')::int, doors_open_minutes),
           max_tickets_per_user = CASE WHEN b ? 'max_tickets_per_user'
                                       THEN (b->>'max_tickets_per_user')::int ELSE max_tickets_per_user END,
           updated_by = actor, updated_at = now()
     WHERE id = ev.id;
    PERFORM evently._emit('event.updated', ev.id, actor, 'event', ev.id, evently.event_json(ev.id), actor);
    RETURN evently.organizer_event_json(ev.id);
END
$$;

-- DELETE /events/:eventId: the organizer (or an ADMIN) deletes an event
-- nobody ever held a seat of (IN_USE otherwise: cancel it instead).
CREATE OR REPLACE FUNCTION evently.api_organizer_event_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._require(NOT evently._ever_held(ev.id), 'IN_USE', 'event has holds or bookings',
        format('Seats of event %s were held or sold.', ev.id), 'Cancel the event instead: every buyer is refunded.');
    PERFORM evently._close_waitlist(ev.id, actor, 'event deleted');
    DELETE FROM evently.waitlist_entries WHERE event_id = ev.id;
    DELETE FROM evently.events WHERE id = ev.id;
    PERFORM evently._audit('event.deleted', 'event', ev.id, jsonb_build_object('name', ev.name), actor);
    RETURN NULL;
END
$$;

-- One lifecycle step of a locked event: status from one of `allowed` (the
-- stored status) to next, with its outbox event and audit row.
-- INVALID_TRANSITION names the status the event is in.
CREATE OR REPLACE FUNCTION evently._transition(ev evently.events, allowed text[], next text, event_type text,
                                               actor uuid, note text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    shown text := evently._lifecycle_status(ev.status, ev.date_time, ev.end_time);
BEGIN
    PERFORM evently._require(shown = ANY (allowed), 'INVALID_TRANSITION',
        format('event is %s', shown),
        format('Event %s is %s; only an event that is %s can become %s.', ev.id, shown,
               array_to_string(allowed, ' or '), next));
    UPDATE evently.events
       SET status = next, updated_by = actor, updated_at = now(),
           submitted_at = CASE WHEN next = 'under_review' THEN now() ELSE submitted_at END,
           published_at = CASE WHEN next = 'published' THEN now() ELSE published_at END,
           review_note = CASE WHEN next = 'under_review' THEN NULL
                              WHEN event_type = 'event.rejected' THEN note ELSE review_note END,
           cancelled_at = CASE WHEN next = 'cancelled' THEN now() ELSE cancelled_at END,
           cancel_reason = CASE WHEN next = 'cancelled' THEN note ELSE cancel_reason END
     WHERE id = ev.id;
    -- the organizer's user is who the outbox event is for (its inbox)
    PERFORM evently._emit(event_type, ev.id,
                          coalesce((SELECT o.user_id FROM evently.organizers o WHERE o.id = ev.organizer_id), actor),
                          'event', ev.id,
                          jsonb_build_object('name', ev.name, 'from', shown, 'to', next, 'reason', note),
                          actor);
    RETURN evently.organizer_event_json(ev.id);
END
$$;

-- POST /events/:eventId/submit: a draft goes to review.  It must still be
-- to come and have something to sell (a venue template's seats, or a tier).
CREATE OR REPLACE FUNCTION evently.api_event_submit(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(req->'body', VARIADIC '{}'::text[]);
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._require(ev.status <> 'draft' OR ev.date_time > now(), 'INVALID_ARGUMENT',
        'event date has passed', format('Event %s started at %s; move its date first.', ev.id, ev.date_time));
    PERFORM evently._require(ev.status <> 'draft' OR evently._has_inventory(ev.id), 'INVALID_ARGUMENT',
        'event has nothing to sell', format('Event %s has no seats or ticket tiers to sell.', ev.id),
        'Give it a venue template with sections, or a ticket tier (POST /events/:eventId/tiers).');
    RETURN evently._transition(ev, ARRAY['draft'], 'under_review', 'event.submitted', actor);
END
$$;

-- Does the event have anything to sell (a seat that is not blocked, or a
-- ticket tier)?
CREATE OR REPLACE FUNCTION evently._has_inventory(p_event_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM evently.event_seats WHERE event_id = p_event_id AND status <> 'BLOCKED')
        OR EXISTS (SELECT 1 FROM evently.ticket_tiers WHERE event_id = p_event_id)
$$;

-- POST /admin/events/:eventId/approve: an ADMIN publishes an event under
-- review (it goes on sale), if it is still to come.
CREATE OR REPLACE FUNCTION evently.api_admin_event_approve(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', VARIADIC '{}'::text[]);
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._require(ev.status <> 'under_review' OR ev.date_time > now(), 'INVALID_TRANSITION',
        'event date has passed', format('Event %s started at %s; reject it so that its organizer moves it.',
                                        ev.id, ev.date_time));
    RETURN evently._transition(ev, ARRAY['under_review'], 'published', 'event.published', actor);
END
$$;

-- A lifecycle step's body, {"reason"}: the reason trimmed, 1 to 500
-- characters (INVALID_ARGUMENT saying why it is asked for otherwise).
CREATE OR REPLACE FUNCTION evently._required_reason(req jsonb, why text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    reason text := btrim(req->'body'->>'reason');
BEGIN
    PERFORM evently._only_fields(req->'body', 'reason');
    PERFORM evently._require(length(reason) BETWEEN 1 AND 500, 'INVALID_ARGUMENT', 'reason is required',
        format('Say why in 1 to 500 characters: %s.', why));
    RETURN reason;
END
$$;

-- POST /admin/events/:eventId/reject {"reason"}: back to draft, with the
-- ADMIN's reason for its organizer (review_note).
CREATE OR REPLACE FUNCTION evently.api_admin_event_reject(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
    reason text;
BEGIN
    actor := evently._admin(actor, req);
    reason := evently._required_reason(req, 'the organizer fixes the event by it');
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    RETURN evently._transition(ev, ARRAY['under_review'], 'draft', 'event.rejected', actor, reason);
END
$$;

-- POST /events/:eventId/cancel {"reason"}: the organizer or an ADMIN cancels
-- a published or active event, in this one transaction: its live holds are
-- released, its waitlist closed, every booking cancelled and refunded in
-- full whatever the cancellation policy (booking.cancelled for each: the
-- buyers' notice), then event.cancelled.
CREATE OR REPLACE FUNCTION evently.api_event_cancel(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
    reason text;
BEGIN
    actor := evently._actor(actor, req);
    reason := evently._required_reason(req, 'every buyer is told');
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._transition(ev, ARRAY['published', 'active'], 'cancelled', 'event.cancelled', actor, reason);
    PERFORM evently._close_event(ev.id, actor, reason);
    RETURN evently.organizer_event_json(ev.id);
END
$$;
