-- 48_tiers.sql: ticket tiers (general admission, SPEC section 10): an
-- event's tiers, made, changed and deleted by its organizer (or an ADMIN),
-- read by everyone who may see the event.
--
-- A tier's capacity is total_quantity pre-created units (tier_units, one row
-- each, unit_no 1..N): the reservation engine claims free units with SKIP
-- LOCKED, so buyers never queue on one row.  What a read shows is counted by
-- the slotted counters tier_unit_counts (kept by the triggers below) plus the
-- lapsed holds the sweeper has not freed yet, as for seats.
--
-- Lock order (README, Locking): the event row (FOR UPDATE, _managed_event),
-- then the tier row (FOR UPDATE), then units by unit_no.  Every write is one
-- outbox event (tier.created, tier.updated, tier.deleted) with its audit row.

-- Unit counters ----------------------------------------------------------------

-- The unit counters (tier_unit_counts): each statement's net change per
-- tier and status, added by one statement-level trigger per kind of change
-- (extension/counts.c, as for seats): a reservation of four units is one
-- counter update, a tier's million new units one or two.  A deleted tier's
-- counters went with it (ON DELETE CASCADE): the update finds no slot.
CREATE OR REPLACE FUNCTION evently._count_units() RETURNS trigger
AS 'MODULE_PATHNAME', 'evently_count_statuses' LANGUAGE C;

-- A deleted tier takes its units with it (tier_units.tier_id has no
-- foreign key to cascade: 00_schema.sql says why).
CREATE OR REPLACE FUNCTION evently._delete_tier_units() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM evently.tier_units WHERE tier_id = OLD.id;
    RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER delete_tier_units BEFORE DELETE ON evently.ticket_tiers
    FOR EACH ROW EXECUTE FUNCTION evently._delete_tier_units();

CREATE OR REPLACE TRIGGER count_units_updated AFTER UPDATE ON evently.tier_units
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_units();

CREATE OR REPLACE TRIGGER count_units_inserted AFTER INSERT ON evently.tier_units
    REFERENCING NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_units();

CREATE OR REPLACE TRIGGER count_units_deleted AFTER DELETE ON evently.tier_units
    REFERENCING OLD TABLE AS old_units
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_units();

-- Reads ------------------------------------------------------------------------

-- Every tier as the API shows it (tier_json, event_tiers_json and
-- event_json read it; internal, like the other *_docs views):
--   available_quantity: units that can be reserved now: AVAILABLE, or HELD
--     by a hold whose time ran out (lazy expiry: a lapsed hold is free);
--   held_quantity: units under a live hold; sold_quantity: BOOKED units;
--   on_sale: the event sells now (_sells_now), the tier's sale window is
--     open (sale_start <= now < sale_end; an open end: no bound) and a
--     unit is available.
-- The counts are the slots' sums plus the lapsed holds, found through the
-- partial index tier_units_held: nothing is counted per unit.
CREATE OR REPLACE VIEW evently.tier_docs AS
    SELECT t.id AS tier_id, t.event_id, t.sort_order, t.name, jsonb_build_object(
        'id', t.id, 'event_id', t.event_id, 'name', t.name, 'description', t.description,
        'price', t.price, 'total_quantity', t.total_quantity,
        'available_quantity', c.available + lapsed.n, 'held_quantity', c.held - lapsed.n,
        'sold_quantity', c.booked,
        'sale_start', t.sale_start, 'sale_end', t.sale_end,
        'min_per_order', t.min_per_order, 'max_per_order', t.max_per_order, 'sort_order', t.sort_order,
        'on_sale', evently._sells_now(e.status, e.date_time, e.end_time, e.sales_during_event)
                   AND (t.sale_start IS NULL OR t.sale_start <= now())
                   AND (t.sale_end IS NULL OR t.sale_end > now())
                   AND c.available + lapsed.n > 0,
        'created_at', t.created_at, 'updated_at', t.updated_at) AS doc
      FROM evently.ticket_tiers t
      JOIN evently.events e ON e.id = t.event_id,
           LATERAL (SELECT coalesce(sum(u.available), 0) AS available, coalesce(sum(u.held), 0) AS held,
                           coalesce(sum(u.booked), 0) AS booked
                      FROM evently.tier_unit_counts u WHERE u.tier_id = t.id) c,
           LATERAL (SELECT count(*) AS n FROM evently.tier_units u
                     WHERE u.tier_id = t.id AND u.status = 'HELD' AND u.held_until <= now()) lapsed;

-- One tier's JSON (NULL when there is no such tier).
CREATE OR REPLACE FUNCTION evently.tier_json(p_tier_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.tier_docs WHERE tier_id = p_tier_id);

-- An event's tiers, in their order (sort_order, then name): a JSON array,
-- [] when it has none.  event_json has the same expression inline, so that
-- the event read stays one planned statement.
CREATE OR REPLACE FUNCTION evently.event_tiers_json(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN coalesce((SELECT jsonb_agg(d.doc ORDER BY d.sort_order, d.name)
                   FROM evently.tier_docs d WHERE d.event_id = p_event_id), '[]');

-- GET /events/:eventId/tiers: the event's tiers (tier_docs), for everyone
-- who may see the event (a token is optional: a draft's or an event under
-- review's only for its organizer and ADMINs, NOT_FOUND otherwise).
CREATE OR REPLACE FUNCTION evently.api_event_tiers(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
BEGIN
    PERFORM evently._require_visible(ev_id, evently._viewer(actor, req));
    RETURN evently.event_tiers_json(ev_id);
END
$$;

-- Writes -----------------------------------------------------------------------

-- May the tiers of this (locked) event change?  Not once it is cancelled or
-- completed (EVENT_CLOSED: final, as for the event itself), nor while it
-- is under review (INVALID_TRANSITION: the ADMIN decides on what was
-- submitted), as api_organizer_event_update rules for the event.
CREATE OR REPLACE FUNCTION evently._require_tiers_open(ev evently.events) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    shown text := evently._lifecycle_status(ev.status, ev.date_time, ev.end_time);
BEGIN
    PERFORM evently._require(shown NOT IN ('cancelled', 'completed'), 'EVENT_CLOSED',
        format('cannot change tiers of an event with status: %s', shown),
        format('Event %s is %s; cancelled and completed events are final.', ev.id, shown));
    PERFORM evently._require(shown <> 'under_review', 'INVALID_TRANSITION', 'event is under review',
        format('Event %s was submitted at %s; its tiers change again once an ADMIN approves or rejects it.',
               ev.id, ev.submitted_at));
END
$$;

-- A body's integer field from lo to hi, or INVALID_ARGUMENT naming it.
CREATE OR REPLACE FUNCTION evently._int_field(b jsonb, name text, lo int, hi int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(jsonb_typeof(b->name) = 'number' AND b->>name ~ '^-?[0-9]{1,9}$'
                             AND (b->>name)::int BETWEEN lo AND hi,
        'INVALID_ARGUMENT', format('invalid %s', name),
        format('%s is %s; it is an integer from %s to %s.', name, b->name, lo, hi));
    RETURN (b->>name)::int;
END
$$;

-- A tier as a body leaves it: the body's fields over old's (a new tier: the
-- defaults), each checked in our words before a constraint could see it:
-- name 1-100 characters, description at most 2000, price 0 to
-- 9999999999.99 with at most 2 decimals, total_quantity 1-1,000,000,
-- min_per_order and max_per_order 1-100 (min <= max, min <= total_quantity), sort_order
-- -1,000,000 to 1,000,000, sale_start and sale_end RFC 3339 times or null
-- (sale_start before sale_end; the window ends by the event's end).
-- Raises INVALID_ARGUMENT naming the field, or ALREADY_EXISTS for a name
-- another tier of the event has.  Rules on fields the body leaves alone
-- are not asked again (an event moved earlier does not block a renaming).
CREATE OR REPLACE FUNCTION evently._tier_fields(b jsonb, old evently.ticket_tiers, ev evently.events)
RETURNS evently.ticket_tiers LANGUAGE plpgsql STABLE AS $$
DECLARE
    t evently.ticket_tiers := old;
BEGIN
    PERFORM evently._require(jsonb_typeof(b) = 'object', 'INVALID_ARGUMENT', 'invalid tier', 'The body is a JSON object.');
    PERFORM evently._only_fields(b, 'name', 'description', 'price', 'total_quantity', 'sale_start', 'sale_end',
                                 'min_per_order', 'max_per_order', 'sort_order');
    IF b ? 'name' THEN
        PERFORM evently._require(jsonb_typeof(b->'name') = 'string' AND length(btrim(b->>'name')) BETWEEN 1 AND 100,
            'INVALID_ARGUMENT', 'invalid tier name', 'A tier name has 1 to 100 characters, not only spaces.');
        t.name := btrim(b->>'name');
        PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.ticket_tiers x
                                              WHERE x.event_id = ev.id AND x.name = t.name AND x.id <> t.id),
            'ALREADY_EXISTS', 'tier name already exists',
            format('Event %s already has a tier named %L.', ev.id, t.name));
    END IF;
    IF b ? 'description' THEN
        PERFORM evently._require(jsonb_typeof(b->'description') IN ('string', 'null')
                                 AND coalesce(length(b->>'description'), 0) <= 2000,
            'INVALID_ARGUMENT', 'invalid tier description', 'A description is a text of at most 2000 characters.');
        t.description := b->>'description';
    END IF;
    IF b ? 'price' THEN
        PERFORM evently._require(jsonb_typeof(b->'price') = 'number'
                                 AND evently._numeric_arg(b->>'price', 'price') BETWEEN 0 AND 9999999999.99,
            'INVALID_ARGUMENT', 'invalid price', format('Price %s is not a number from 0 to 9999999999.99.', b->'price'));
        PERFORM evently._require_decimals((b->>'price')::numeric, 2, 'price');
        t.price := (b->>'price')::numeric;
    END IF;
    IF b ? 'total_quantity' THEN
        t.total_quantity := evently._int_field(b, 'total_quantity', 1, 1000000);
    END IF;
    IF b ? 'min_per_order' THEN
        t.min_per_order := evently._int_field(b, 'min_per_order', 1, 100);
    END IF;
    IF b ? 'max_per_order' THEN
        t.max_per_order := evently._int_field(b, 'max_per_order', 1, 100);
    END IF;
    IF b ? 'sort_order' THEN
        t.sort_order := evently._int_field(b, 'sort_order', -1000000, 1000000);
    END IF;
    PERFORM evently._require(t.min_per_order <= t.max_per_order, 'INVALID_ARGUMENT', 'invalid order limits',
        format('min_per_order %s is more than max_per_order %s.', t.min_per_order, t.max_per_order));
    PERFORM evently._require(t.min_per_order <= t.total_quantity, 'INVALID_ARGUMENT', 'invalid order limits',
        format('min_per_order %s is more than the tier''s total_quantity %s: it could never sell.',
               t.min_per_order, t.total_quantity));
    IF b ? 'sale_start' OR b ? 'sale_end' THEN
        IF b ? 'sale_start' THEN
            PERFORM evently._require(jsonb_typeof(b->'sale_start') IN ('string', 'null'), 'INVALID_ARGUMENT',
                'invalid sale_start', 'sale_start is an RFC 3339 time with a zone, or null.');
            t.sale_start := evently._time_field(b, 'sale_start');
        END IF;
        IF b ? 'sale_end' THEN
            PERFORM evently._require(jsonb_typeof(b->'sale_end') IN ('string', 'null'), 'INVALID_ARGUMENT',
                'invalid sale_end', 'sale_end is an RFC 3339 time with a zone, or null.');
            t.sale_end := evently._time_field(b, 'sale_end');
        END IF;
        PERFORM evently._require(t.sale_start IS NULL OR t.sale_end IS NULL OR t.sale_end > t.sale_start,
            'INVALID_ARGUMENT', 'invalid sale window',
            format('sale_end %s is not after sale_start %s.', t.sale_end, t.sale_start));
        PERFORM evently._require(t.sale_start IS NULL OR t.sale_start < ev.end_time, 'INVALID_ARGUMENT',
            'invalid sale window', format('sale_start %s is not before the event''s end %s.', t.sale_start, ev.end_time));
        PERFORM evently._require(t.sale_end IS NULL OR t.sale_end <= ev.end_time, 'INVALID_ARGUMENT',
            'invalid sale window', format('sale_end %s is after the event''s end %s.', t.sale_end, ev.end_time));
    END IF;
    RETURN t;
END
$$;

-- POST /events/:eventId/tiers: the event's organizer (or an ADMIN) adds a
-- tier.  Body: name, price, total_quantity (required), description,
-- sale_start, sale_end, min_per_order (1), max_per_order (10), sort_order
-- (0); the rules of _tier_fields.  The tier and its total_quantity units
-- are made in two statements (the units in one INSERT ... SELECT).
-- Returns tier_json.  Raises NOT_FOUND (an event the actor does not
-- manage), EVENT_CLOSED, INVALID_TRANSITION (_require_tiers_open),
-- INVALID_ARGUMENT, ALREADY_EXISTS.
CREATE OR REPLACE FUNCTION evently.api_event_tier_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev evently.events;
    t evently.ticket_tiers;
    doc jsonb;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._managed_event(actor, req->'path'->>'eventId', selling_on => true);
    PERFORM evently._require_tiers_open(ev);
    PERFORM evently._require(jsonb_typeof(b) = 'object' AND b ? 'name' AND b ? 'price' AND b ? 'total_quantity',
        'INVALID_ARGUMENT', 'invalid tier', 'name, price and total_quantity are required.');
    t.id := evently._child_id(ev.id);   -- in the event's bucket (96_shards.sql)
    t.event_id := ev.id;
    t.min_per_order := 1;
    t.max_per_order := 10;
    t.sort_order := 0;
    t := evently._tier_fields(b, t, ev);
    INSERT INTO evently.ticket_tiers (id, event_id, name, description, price, total_quantity, sale_start, sale_end,
                                      min_per_order, max_per_order, sort_order, created_by)
    VALUES (t.id, ev.id, t.name, t.description, t.price, t.total_quantity, t.sale_start, t.sale_end,
            t.min_per_order, t.max_per_order, t.sort_order, actor);
    PERFORM evently._add_units(t.id, ev.id, t.total_quantity);
    doc := evently.tier_json(t.id);
    PERFORM evently._emit('tier.created', ev.id, actor, 'tier', t.id, doc, actor);
    RETURN doc;
END
$$;

-- Add how_many units to a tier, numbered after its highest (from 1 for a new
-- tier), in one INSERT ... SELECT.  Many at once (at least 10,000): the
-- planner's statistics learn of them now, not when autovacuum comes by, so
-- the next statements on the tier (a shrink's search for free units,
-- reservations) are planned for the table as it is.
CREATE OR REPLACE FUNCTION evently._add_units(p_tier_id uuid, p_event_id uuid, how_many int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evently.tier_units (tier_id, unit_no, event_id)
    SELECT p_tier_id, top.n + k, p_event_id
      FROM (SELECT coalesce(max(unit_no), 0) AS n FROM evently.tier_units WHERE tier_id = p_tier_id) top,
           generate_series(1, how_many) k;
    IF how_many >= 10000 THEN
        ANALYZE evently.tier_units;
    END IF;
END
$$;

-- The tier a write route's actor manages, locked FOR UPDATE after its
-- event row (the lock order): NOT_FOUND for a tier that does not exist or
-- whose event the actor does not manage (a write on someone else's object
-- answers 404, like a read).
CREATE OR REPLACE FUNCTION evently._managed_tier(actor uuid, tier_id text) RETURNS evently.ticket_tiers
LANGUAGE plpgsql AS $$
DECLARE
    wanted uuid := evently._uuid_arg(tier_id, 'id');
    ev_id uuid;
    t evently.ticket_tiers;
BEGIN
    SELECT x.event_id INTO ev_id FROM evently.ticket_tiers x WHERE x.id = wanted;
    IF FOUND AND evently._manages_event(actor, ev_id) THEN
        -- the event's other tiers keep selling meanwhile (_managed_event's selling_on)
        PERFORM 1 FROM evently.events e WHERE e.id = ev_id FOR NO KEY UPDATE;
        SELECT * INTO t FROM evently.ticket_tiers x WHERE x.id = wanted FOR UPDATE;
    END IF;
    -- (not found again after the locks: deleted meanwhile)
    PERFORM evently._require(t.id IS NOT NULL, 'NOT_FOUND', 'tier not found', format('Tier %s does not exist.', tier_id));
    RETURN t;
END
$$;

-- Take n units off a locked tier: AVAILABLE ones that no ticket ever named
-- (a refunded unit's old ticket still refers to it), highest unit_no first,
-- skipping those a reservation has locked right now.  A tier never goes
-- below what is sold and held: when fewer than n can go, IN_USE with the
-- counts, and nothing changes (the error undoes the removal).
CREATE OR REPLACE FUNCTION evently._shrink_tier(t evently.ticket_tiers, n int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    removed int;
    counts record;
BEGIN
    WITH gone AS (
        SELECT u.unit_no FROM evently.tier_units u
         WHERE u.tier_id = t.id AND u.status = 'AVAILABLE'
           AND NOT EXISTS (SELECT 1 FROM evently.tickets k WHERE k.tier_id = u.tier_id AND k.unit_no = u.unit_no)
         ORDER BY u.unit_no DESC LIMIT n
           FOR UPDATE SKIP LOCKED)
    DELETE FROM evently.tier_units u USING gone WHERE u.tier_id = t.id AND u.unit_no = gone.unit_no;
    GET DIAGNOSTICS removed = ROW_COUNT;
    IF removed < n THEN
        SELECT coalesce(sum(c.booked), 0) AS sold, coalesce(sum(c.held), 0) AS held
          INTO counts FROM evently.tier_unit_counts c WHERE c.tier_id = t.id;
        PERFORM evently._fail('IN_USE', 'tier units are sold or held',
            format('Tier %s has %s units sold and %s held of %s; %s can be removed now, not %s.',
                   t.id, counts.sold, counts.held, t.total_quantity, removed, n),
            'Lower total_quantity by less, or wait for holds to end.');
    END IF;
END
$$;

-- PUT /tiers/:id: the organizer of the tier's event (or an ADMIN) changes
-- any of the fields of POST /events/:eventId/tiers (the same rules; null
-- clears description, sale_start, sale_end).  A larger total_quantity adds
-- units (unit_no after the highest), a smaller one removes free units
-- (_shrink_tier: never below sold + held, IN_USE).  Holds and tickets keep
-- the price they were made at.  Returns tier_json.  Raises NOT_FOUND (also
-- for a tier of an event the actor does not manage), EVENT_CLOSED,
-- INVALID_TRANSITION, INVALID_ARGUMENT, ALREADY_EXISTS, IN_USE.
CREATE OR REPLACE FUNCTION evently.api_tier_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    old evently.ticket_tiers;
    t evently.ticket_tiers;
    ev evently.events;
    doc jsonb;
BEGIN
    actor := evently._actor(actor, req);
    old := evently._managed_tier(actor, req->'path'->>'id');
    SELECT * INTO ev FROM evently.events WHERE id = old.event_id;
    PERFORM evently._require_tiers_open(ev);
    t := evently._tier_fields(coalesce(b, '{}'), old, ev);
    IF t.total_quantity > old.total_quantity THEN
        PERFORM evently._add_units(t.id, ev.id, t.total_quantity - old.total_quantity);
    ELSIF t.total_quantity < old.total_quantity THEN
        PERFORM evently._shrink_tier(old, old.total_quantity - t.total_quantity);
    END IF;
    UPDATE evently.ticket_tiers
       SET name = t.name, description = t.description, price = t.price, total_quantity = t.total_quantity,
           sale_start = t.sale_start, sale_end = t.sale_end, min_per_order = t.min_per_order,
           max_per_order = t.max_per_order, sort_order = t.sort_order, updated_at = now()
     WHERE id = t.id;
    doc := evently.tier_json(t.id);
    PERFORM evently._emit('tier.updated', ev.id, actor, 'tier', t.id, doc, actor);
    RETURN doc;
END
$$;

-- DELETE /tiers/:id: the organizer of the tier's event (or an ADMIN) deletes
-- a tier none of whose units was ever held (no hold asked for it) or sold;
-- its units go with it.  IN_USE otherwise, NOT_FOUND as for PUT, and
-- EVENT_CLOSED, INVALID_TRANSITION as _require_tiers_open.  tier.deleted
-- carries the tier as it was.
CREATE OR REPLACE FUNCTION evently.api_tier_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    t evently.ticket_tiers;
    ev evently.events;
    doc jsonb;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(req->'body', VARIADIC '{}'::text[]);
    t := evently._managed_tier(actor, req->'path'->>'id');
    SELECT * INTO ev FROM evently.events WHERE id = t.event_id;
    PERFORM evently._require_tiers_open(ev);
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.hold_items WHERE tier_id = t.id)
                             AND (SELECT coalesce(sum(c.held + c.booked), 0) FROM evently.tier_unit_counts c
                                   WHERE c.tier_id = t.id) = 0,
        'IN_USE', 'tier has holds or sales', format('Units of tier %s were held or sold.', t.id),
        'Lower its total_quantity, or close its sale window, instead.');
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.waitlist_entries
                                          WHERE tier_id = t.id AND status IN ('ACTIVE', 'NOTIFIED')),
        'IN_USE', 'people are waiting for this tier', format('Tier %s has a waitlist.', t.id),
        'Close its sale window instead.');
    doc := evently.tier_json(t.id);
    DELETE FROM evently.ticket_tiers WHERE id = t.id;
    PERFORM evently._emit('tier.deleted', ev.id, actor, 'tier', t.id, doc, actor);
    RETURN NULL;
END
$$;
