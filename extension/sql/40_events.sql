-- 40_events.sql: events, their catalog (tags and priced sections kept in
-- events.catalog by triggers), the slotted seat counters, the public event
-- reads and the ADMIN event routes.

-- An event's status as SPEC section 9's lifecycle shows it: a published
-- event is active from its start and completed after its end, whether or not
-- anything stored the change, so no read shows a stale status.
CREATE OR REPLACE FUNCTION evently._lifecycle_status(status text, starts timestamptz, ends timestamptz)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN status IN ('published', 'active') AND ends <= now() THEN 'completed'
                WHEN status = 'published' AND starts <= now() THEN 'active'
                ELSE status END
$$;

-- May the event sell now?  Published and not started, or running when its
-- organizer lets sales run into it, until its end: the engine's rule
-- (EVENT_ON_SALE_1_1 in extension/evently.h), for the reads that show it.
CREATE OR REPLACE FUNCTION evently._sells_now(status text, starts timestamptz, ends timestamptz,
                                              sales_during_event boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT status = 'published' AND (starts > now() OR (sales_during_event AND ends > now()))
$$;

-- NOT_FOUND unless the event exists and the actor may see it: drafts and
-- events under review only by their organizer and ADMINs (SPEC section 9).
CREATE OR REPLACE FUNCTION evently._require_visible(p_event_id uuid, actor uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.events e WHERE e.id = p_event_id
                                        AND (e.status NOT IN ('draft', 'under_review')
                                             OR evently._manages_event(actor, e.id))),
        'NOT_FOUND', 'event not found', format('Event %s does not exist.', p_event_id));
END
$$;

-- An event ends within 100 years: a date past that is a typo, and one near
-- year 9999 would overflow RFC 3339 once its length is added.
CREATE OR REPLACE FUNCTION evently._require_within_horizon(ends timestamptz) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(ends IS NULL OR ends < now() + interval '100 years', 'INVALID_ARGUMENT',
        'event is too far ahead', format('%s is more than 100 years from now.', ends));
END
$$;

-- A category is a short lower-case label (SPEC section 9), free text: the
-- rule of the CHECK on events.category.
CREATE OR REPLACE FUNCTION evently._is_category(label text) RETURNS boolean
LANGUAGE sql IMMUTABLE RETURN label ~ '^[a-z0-9][a-z0-9 &/_-]{0,49}$';

CREATE OR REPLACE FUNCTION evently._require_category(category text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(category IS NULL OR evently._is_category(category),
        'INVALID_ARGUMENT', 'invalid category',
        format('Category %L is not a lower-case label of 1 to 50 characters (a-z, 0-9, space, &, /, _, -).',
               category));
END
$$;

-- An event's active tags and priced sections, the catalog part of its JSON.
CREATE OR REPLACE FUNCTION evently._event_catalog(p_event_id uuid, p_base_price numeric) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name,
                                                              'slug', g.slug, 'color', g.color)
                                           ORDER BY g.name)
                            FROM evently.event_tags et JOIN evently.tags g ON g.id = et.tag_id
                           WHERE et.event_id = p_event_id AND g.is_active), '[]'),
        'venue_sections', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                               'id', sec.id, 'name', sec.name, 'description', sec.description,
                                               'row_start', sec.row_start, 'row_end', sec.row_end,
                                               'seats_per_row', sec.seats_per_row,
                                               'total_seats', sec.total_seats,
                                               'price_multiplier', p.price_multiplier,
                                               'price', round(p_base_price * p.price_multiplier, 2))
                                           ORDER BY sec.name)
                                      FROM evently.event_pricing p
                                      JOIN evently.venue_sections sec ON sec.id = p.section_id
                                     WHERE p.event_id = p_event_id), '[]'))
$$;

-- Rebuild the catalogs a statement on event_tags, event_pricing, tags or
-- venue_sections touched (statement triggers: one rebuild per event).
CREATE OR REPLACE FUNCTION evently._refresh_catalogs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_TABLE_NAME = 'tags' THEN
        ids := ARRAY(SELECT et.event_id FROM evently.event_tags et JOIN new_rows n ON n.id = et.tag_id);
    ELSIF TG_TABLE_NAME = 'venue_sections' THEN
        ids := ARRAY(SELECT p.event_id FROM evently.event_pricing p JOIN new_rows n ON n.id = p.section_id);
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT event_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT event_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT event_id FROM new_rows UNION SELECT event_id FROM old_rows);
    END IF;
    UPDATE evently.events e SET catalog = evently._event_catalog(e.id, e.base_price)
     WHERE e.id = ANY (ids);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER catalog_tags_added AFTER INSERT ON evently.event_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_tags_removed AFTER DELETE ON evently.event_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_prices_added AFTER INSERT ON evently.event_pricing
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_prices_changed AFTER UPDATE ON evently.event_pricing
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_prices_removed AFTER DELETE ON evently.event_pricing
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_tag_changed AFTER UPDATE ON evently.tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

CREATE OR REPLACE TRIGGER catalog_section_changed AFTER UPDATE ON evently.venue_sections
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

-- Section prices follow the base price.
CREATE OR REPLACE FUNCTION evently._reprice_catalog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.catalog := evently._event_catalog(NEW.id, NEW.base_price);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER catalog_base_price BEFORE UPDATE OF base_price ON evently.events
    FOR EACH ROW WHEN (OLD.base_price IS DISTINCT FROM NEW.base_price)
    EXECUTE FUNCTION evently._reprice_catalog();

-- Every seat's list price is base price x its section's multiplier, whatever
-- the seat's status, and follows both when they change: a seat freed later
-- is sold at the price of the day.  Holds and tickets keep the price they
-- were made at (hold_seats.price, tickets.seat_price).
CREATE OR REPLACE FUNCTION evently._reprice_seats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'events' THEN
        UPDATE evently.event_seats es SET price = round(NEW.base_price * p.price_multiplier, 2)
          FROM evently.event_pricing p
         WHERE es.event_id = NEW.id AND p.event_id = NEW.id AND p.section_id = es.section_id;
    ELSE
        UPDATE evently.event_seats es SET price = round(e.base_price * NEW.price_multiplier, 2)
          FROM evently.events e
         WHERE e.id = NEW.event_id AND es.event_id = NEW.event_id AND es.section_id = NEW.section_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER seats_follow_base_price AFTER UPDATE OF base_price ON evently.events
    FOR EACH ROW WHEN (OLD.base_price IS DISTINCT FROM NEW.base_price)
    EXECUTE FUNCTION evently._reprice_seats();
CREATE OR REPLACE TRIGGER seats_follow_multiplier AFTER UPDATE OF price_multiplier ON evently.event_pricing
    FOR EACH ROW WHEN (OLD.price_multiplier IS DISTINCT FROM NEW.price_multiplier)
    EXECUTE FUNCTION evently._reprice_seats();

-- The seat counters (event_seat_counts): each statement's net change per
-- event and status, added by one statement-level trigger per kind of change
-- (extension/counts.c): a hold of four seats is one counter update, an
-- event's 60,000 new seats one or two, whoever writes the seats.
CREATE OR REPLACE FUNCTION evently._count_seats() RETURNS trigger
AS 'MODULE_PATHNAME', 'evently_count_statuses' LANGUAGE C;

-- A statement of the engine that moves seats between statuses may update a
-- slot itself, in the same statement, and claim it from that update's
-- RETURNING: the trigger then adds only what the claim left out (nothing,
-- when it was right).  extension/counts.c says why the counters still
-- cannot drift.
CREATE OR REPLACE FUNCTION evently._counted_seats(event_id uuid, available bigint, held bigint, booked bigint,
                                                  blocked bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'evently_counted_seats' LANGUAGE C STRICT VOLATILE;

CREATE OR REPLACE TRIGGER count_seats_updated AFTER UPDATE ON evently.event_seats
    REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();

CREATE OR REPLACE TRIGGER count_seats_inserted AFTER INSERT ON evently.event_seats
    REFERENCING NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();

CREATE OR REPLACE TRIGGER count_seats_deleted AFTER DELETE ON evently.event_seats
    REFERENCING OLD TABLE AS old_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();

-- What an ADMIN does to a seat while it is held or sold is not lost when it
-- is freed: every path that frees a seat (release, expiry, cancellation,
-- cancelling the event) sets AVAILABLE, and this trigger turns that into
-- BLOCKED when the venue's seat was blocked meanwhile (api_seat_update).
-- Prices need no such rule: event_seats.price is always the current list
-- price (_reprice_seats above).
CREATE OR REPLACE FUNCTION evently._free_seat() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM evently.seats s WHERE s.id = NEW.seat_id AND s.status = 'BLOCKED') THEN
        NEW.status := 'BLOCKED';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER seat_freed BEFORE UPDATE OF status ON evently.event_seats
    FOR EACH ROW WHEN (NEW.status = 'AVAILABLE' AND OLD.status IN ('HELD', 'BOOKED'))
    EXECUTE FUNCTION evently._free_seat();

-- An event as the REST API shows it; with_sections adds venue_sections.
-- available_tickets counts seats that can be held now (not BLOCKED, BOOKED
-- or under a live hold) and its tiers' available units; total_capacity and
-- booked_count count seats and units too; tiers are its ticket tiers as GET
-- /events/:eventId/tiers shows them ([] when it sells none).
CREATE OR REPLACE FUNCTION evently.event_json(p_event_id uuid, with_sections boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb;
BEGIN
    -- One statement, its plan kept by PL/pgSQL: this is the API's busiest
    -- read.  Seat numbers come from the slotted counters plus the lapsed
    -- holds the sweeper has not expired yet, tags and sections from the
    -- event's catalog column: nothing is counted or joined per read.  The
    -- tiers (tier_docs, 48_tiers.sql; event_tiers_json's expression) are
    -- one probe of ticket_tiers_event, and their units' counters.
    SELECT jsonb_build_object(
        'id', e.id, 'name', e.name, 'description', e.description, 'venue', e.venue,
        'venue_template_id', e.venue_template_id, 'date_time', e.date_time,
        'total_capacity', inv.capacity + ga.capacity, 'booked_count', inv.booked + ga.booked,
        'available_tickets', inv.available + lapsed.n + ga.available, 'base_price', e.base_price,
        'max_tickets_per_user', e.max_tickets_per_user,
        'status', evently._lifecycle_status(e.status, e.date_time, e.end_time),
        'image_url', coalesce(e.image_url, ''), 'tags', e.catalog->'tags',
        'category', e.category, 'end_time', e.end_time, 'organizer_id', e.organizer_id,
        'sales_during_event', e.sales_during_event,
        'tiers', ga.docs,
        'created_at', e.created_at, 'updated_at', e.updated_at)
        || CASE WHEN with_sections THEN jsonb_build_object('venue_sections', e.catalog->'venue_sections')
                ELSE '{}' END
      INTO doc
      FROM evently.events e,
           LATERAL (SELECT coalesce(sum(c.available + c.held + c.booked + c.blocked), 0) AS capacity,
                           coalesce(sum(c.booked), 0) AS booked,
                           coalesce(sum(c.available), 0) AS available
                      FROM evently.event_seat_counts c WHERE c.event_id = e.id) inv,
           LATERAL (SELECT count(*) AS n FROM evently.event_seats es
                     WHERE es.event_id = e.id AND es.status = 'HELD' AND es.held_until <= now()) lapsed,
           LATERAL (SELECT coalesce(jsonb_agg(d.doc ORDER BY d.sort_order, d.name), '[]') AS docs,
                           coalesce(sum((d.doc->>'total_quantity')::int), 0) AS capacity,
                           coalesce(sum((d.doc->>'sold_quantity')::int), 0) AS booked,
                           coalesce(sum((d.doc->>'available_quantity')::int), 0) AS available
                      FROM evently.tier_docs d WHERE d.event_id = e.id) ga
     WHERE e.id = p_event_id;
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', p_event_id));
    RETURN doc;
END
$$;

-- evently.create_event(name, venue_template_id, date_time, base_price,
-- created_by, venue, description, section_multipliers, tags, settings)
-- RETURNS uuid: an ADMIN's event, published at once (SPEC section 9).
-- section_multipliers: {"<section name or id>": multiplier, ...}; other sections 1.0.
-- settings: {"hold_ttl": "10 minutes", "max_seats_per_hold": 10,
--            "max_seats_per_user": 10, "offer_window": "15 minutes",
--            "max_tickets_per_user": null, "category": null,
--            "end_time": date_time + 3 hours, "sales_during_event": false}
-- max_seats_per_user bounds the seats a user holds at once; max_tickets_per_user
-- (none by default) bounds the seats a user holds and bought together;
-- sales_during_event lets sales run into the event until end_time.
-- Prices and multipliers have at most 2 decimals.  Raises INVALID_ARGUMENT,
-- NOT_FOUND (template, user), FORBIDDEN (a linked role that is no ADMIN).
CREATE OR REPLACE FUNCTION evently.create_event(name text, venue_template_id uuid, date_time timestamptz,
                                     base_price numeric, created_by uuid DEFAULT NULL,
                                     venue text DEFAULT NULL, description text DEFAULT NULL,
                                     section_multipliers jsonb DEFAULT '{}',
                                     tags text[] DEFAULT '{}', settings jsonb DEFAULT '{}')
RETURNS uuid LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(venue_template_id IS NOT NULL, 'INVALID_ARGUMENT', 'venue template is required',
        'An ADMIN''s event sells the seats of a venue template.');
    RETURN evently._create_event(name, venue_template_id, date_time, base_price, evently._staff(created_by),
                                 venue, description, section_multipliers, tags, settings, NULL, 'published');
END
$$;

-- The body of create_event and of an organizer's draft (api_organizer_event_create):
-- the event in the given status, owned by organizer_id (NULL: the platform),
-- with the seats of its venue template (NULL: none; tiers only).
CREATE OR REPLACE FUNCTION evently._create_event(name text, venue_template_id uuid, date_time timestamptz,
                                     base_price numeric, created_by uuid, venue text, description text,
                                     section_multipliers jsonb, tags text[], settings jsonb,
                                     organizer_id uuid, status text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    unknown text;
    ends timestamptz;
BEGIN
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'INVALID_ARGUMENT', 'invalid event name', 'An event name has 1 to 255 characters.');
    PERFORM evently._require(coalesce(length(description), 0) <= 2000, 'INVALID_ARGUMENT',
        'event description is too long', 'A description has at most 2000 characters.');
    PERFORM evently._require(coalesce(length(venue), 0) <= 255, 'INVALID_ARGUMENT',
        'event venue is too long', 'A venue has at most 255 characters.');
    PERFORM evently._require(date_time > now() AND isfinite(date_time), 'INVALID_ARGUMENT',
        'event date must be in the future', format('%s is not a moment after now.', date_time));
    PERFORM evently._require(base_price >= 0 AND base_price < 1e10, 'INVALID_ARGUMENT', 'invalid base price',
        format('Base price %s is not between 0 and 9999999999.', base_price));
    PERFORM evently._require_decimals(base_price, 2, 'base_price');
    IF venue_template_id IS NOT NULL THEN
        -- SHARE: a template being deleted (retired, 96_shards.sql) waits
        -- for this event, or this event sees it retired
        PERFORM 1 FROM evently.venue_templates t
         WHERE t.id = _create_event.venue_template_id AND t.retired_at IS NULL FOR SHARE;
        PERFORM evently._require(FOUND, 'NOT_FOUND', 'venue template not found',
            format('Venue template %s does not exist.', venue_template_id));
        PERFORM evently._require(EXISTS (SELECT 1 FROM evently.venue_sections s
                                          WHERE s.template_id = _create_event.venue_template_id),
            'INVALID_ARGUMENT', 'venue template has no sections',
            format('Venue template %s has no seats to sell.', venue_template_id));
    END IF;
    PERFORM evently._require(created_by IS NULL OR EXISTS (SELECT 1 FROM evently.users u
                                                           WHERE u.id = _create_event.created_by),
        'NOT_FOUND', 'user not found', format('User %s does not exist.', created_by));
    PERFORM evently._require(jsonb_typeof(coalesce(section_multipliers, '{}')) = 'object'
                             AND jsonb_typeof(coalesce(settings, '{}')) = 'object',
        'INVALID_ARGUMENT', 'invalid event options', 'section_multipliers and settings are JSON objects.');
    SELECT string_agg(k, ', ') INTO unknown
      FROM jsonb_object_keys(coalesce(section_multipliers, '{}')) k
     WHERE NOT EXISTS (SELECT 1 FROM evently.venue_sections s
                        WHERE s.template_id = _create_event.venue_template_id
                          AND (s.name = k OR s.id::text = k));
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'unknown section in pricing',
        format('Sections %s are not in the venue template.', unknown));
    SELECT string_agg(format('%s (%s)', k, v), ', ') INTO unknown
      FROM jsonb_each(coalesce(section_multipliers, '{}')) m(k, v)
     WHERE jsonb_typeof(v) <> 'number' OR v::numeric NOT BETWEEN 0.1 AND 10;
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'invalid price_multiplier',
        format('Multipliers %s are not numbers from 0.1 to 10.', unknown));
    SELECT string_agg(format('%s (%s)', k, v), ', ') INTO unknown
      FROM jsonb_each(coalesce(section_multipliers, '{}')) m(k, v)
     WHERE v::numeric <> round(v::numeric, 2);
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'price_multiplier has more than 2 decimals',
        format('Multipliers %s are kept to 2 decimals.', unknown));
    SELECT string_agg(coalesce(t, 'NULL'), ', ') INTO unknown FROM unnest(coalesce(tags, '{}')) t
     WHERE NOT EXISTS (SELECT 1 FROM evently.tags g WHERE g.slug = t AND g.is_active);
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'unknown tag',
        format('Tags %s are not active tag slugs.', unknown));
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(coalesce(settings, '{}')) k
     WHERE k NOT IN ('hold_ttl', 'max_seats_per_hold', 'max_seats_per_user', 'offer_window',
                     'max_tickets_per_user', 'category', 'end_time', 'sales_during_event',
                     'transfers_allowed', 'doors_open_minutes');
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'unknown event setting',
        format('Settings %s are not hold_ttl, max_seats_per_hold, max_seats_per_user, offer_window, '
               'max_tickets_per_user, category, end_time, sales_during_event, transfers_allowed or '
               'doors_open_minutes.', unknown));
    PERFORM evently._require_category(settings->>'category');
    ends := coalesce(evently._time_field(settings, 'end_time'), date_time + interval '3 hours');
    PERFORM evently._require(ends > date_time AND isfinite(ends), 'INVALID_ARGUMENT', 'event must end after it starts',
        format('end_time %s is not after date_time %s.', ends, date_time));
    PERFORM evently._require_within_horizon(ends);

    BEGIN
        INSERT INTO evently.events (name, description, venue, venue_template_id, date_time,
                                    base_price, created_by, hold_ttl, max_seats_per_hold,
                                    max_seats_per_user, offer_window, max_tickets_per_user,
                                    organizer_id, status, category, end_time, sales_during_event,
                                    published_at, transfers_allowed, doors_open_minutes)
        VALUES (btrim(name), description, coalesce(venue, ''), venue_template_id, date_time,
                round(base_price, 2), created_by,
                coalesce((settings->>'hold_ttl')::interval, '10 minutes'),
                coalesce((settings->>'max_seats_per_hold')::int, 10),
                coalesce((settings->>'max_seats_per_user')::int, 10),
                coalesce((settings->>'offer_window')::interval, '15 minutes'),
                (settings->>'max_tickets_per_user')::int,
                organizer_id, status, settings->>'category', ends,
                coalesce((settings->>'sales_during_event')::boolean, false),
                CASE WHEN status = 'published' THEN now() END,
                coalesce((settings->>'transfers_allowed')::boolean, true),
                coalesce((settings->>'doors_open_minutes')::int, 120))
        RETURNING id INTO new_id;
        INSERT INTO evently.event_pricing (event_id, section_id, price_multiplier)
        SELECT new_id, s.id,
               coalesce((section_multipliers->>s.id::text)::numeric,
                        (section_multipliers->>s.name)::numeric, 1.0)
          FROM evently.venue_sections s WHERE s.template_id = _create_event.venue_template_id;
    EXCEPTION
        WHEN check_violation OR invalid_text_representation OR invalid_datetime_format
          OR numeric_value_out_of_range OR datetime_field_overflow THEN
            PERFORM evently._fail('INVALID_ARGUMENT', 'invalid event settings',
                'hold_ttl is an interval from 1 second to 1 day, offer_window from 1 second to 7 days; '
                'max_seats_per_hold is 1 to 100, max_seats_per_user and max_tickets_per_user 1 to 1000; '
                'sales_during_event and transfers_allowed are true or false; doors_open_minutes is 0 to 2880.');
    END;
    PERFORM evently._share_tags(tags);
    INSERT INTO evently.event_tags (event_id, tag_id)
    SELECT new_id, g.id FROM evently.tags g WHERE g.slug = ANY (coalesce(tags, '{}')) AND g.retired_at IS NULL;
    INSERT INTO evently.event_seats (event_id, seat_id, section_id, seat_order, price, status)
    SELECT new_id, s.id, s.section_id,
           row_number() OVER (ORDER BY sec.name, s."row", s.position),
           round(_create_event.base_price * p.price_multiplier, 2),
           CASE s.status WHEN 'BLOCKED' THEN 'BLOCKED' ELSE 'AVAILABLE' END
      FROM evently.seats s
      JOIN evently.venue_sections sec ON sec.id = s.section_id
      JOIN evently.event_pricing p ON p.event_id = new_id AND p.section_id = s.section_id
     WHERE sec.template_id = _create_event.venue_template_id;
    PERFORM evently._emit('event.created', new_id, created_by, 'event', new_id,
        jsonb_build_object('name', btrim(name), 'date_time', date_time, 'status', status,
                           'base_price', round(base_price, 2),
                           'capacity', (SELECT count(*) FROM evently.event_seats es
                                         WHERE es.event_id = new_id)),
        created_by);
    RETURN new_id;
END
$$;

-- The seats of an event with their effective status: a lapsed hold shows AVAILABLE.
-- A linked role sees the seats of the events it may see (a draft only as its
-- organizer: NOT_FOUND otherwise); a trusted caller, every event's.
CREATE OR REPLACE FUNCTION evently.event_seats(event_id uuid)
RETURNS TABLE (seat_id uuid, section text, "row" text, seat_number text, status text,
               price numeric)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT evently._trusted_caller() THEN
        PERFORM evently._require_visible(event_seats.event_id, evently._actor(NULL));
    END IF;
    RETURN QUERY
    SELECT es.seat_id, sec.name, s."row", s.seat_number,
           CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE'
                ELSE es.status END,
           es.price
      FROM evently.event_seats es
      JOIN evently.seats s ON s.id = es.seat_id
      JOIN evently.venue_sections sec ON sec.id = es.section_id
     WHERE es.event_id = event_seats.event_id
     ORDER BY es.seat_order;
END
$$;

-- GET /events/:eventId: a draft or an event under review only for its
-- organizer and ADMINs (a token is optional on this route)
CREATE OR REPLACE FUNCTION evently.api_event_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
BEGIN
    PERFORM evently._require_visible(ev_id, evently._viewer(actor, req));
    RETURN evently.event_json(ev_id, true);
END
$$;

-- GET /events: the public events (no draft, nothing under review)
CREATE OR REPLACE FUNCTION evently.api_events_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently._events_page(req, false)
$$;

-- The filters and pages of GET /events and /admin/events (reference 1.4);
-- with_hidden adds drafts and events under review (the ADMIN's list).
-- status filters by the lifecycle's status (_lifecycle_status).
CREATE OR REPLACE FUNCTION evently._events_page(req jsonb, with_hidden boolean) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    date_from date := evently._date_param(req, 'date_from');
    date_to date := evently._date_param(req, 'date_to');
    tag_names text[] := CASE WHEN coalesce(q->>'tags', '') = '' THEN NULL
                             ELSE string_to_array(q->>'tags', ',') END;
    total bigint;
    events jsonb;
BEGIN
    PERFORM evently._require(coalesce(q->>'status', 'published') IN ('published', 'active', 'cancelled', 'completed')
                             OR (with_hidden AND q->>'status' IN ('draft', 'under_review')),
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('status=%s is not published, active, cancelled or completed%s.', q->>'status',
               CASE WHEN with_hidden THEN ', draft or under_review' ELSE '' END));
    WITH matching AS (
        SELECT e.id, e.date_time FROM evently.events e
         WHERE (q->>'search' IS NULL OR e.name ILIKE evently._contains(q->>'search')
                OR e.description ILIKE evently._contains(q->>'search')
                OR e.venue ILIKE evently._contains(q->>'search'))
           AND (q->>'venue' IS NULL OR e.venue ILIKE evently._contains(q->>'venue'))
           AND (with_hidden OR e.status NOT IN ('draft', 'under_review'))
           AND (q->>'status' IS NULL OR evently._lifecycle_status(e.status, e.date_time, e.end_time) = q->>'status')
           AND (date_from IS NULL OR e.date_time >= date_from)
           AND (date_to IS NULL OR e.date_time < date_to + 1)
           AND (tag_names IS NULL OR EXISTS (
                   SELECT 1 FROM evently.event_tags et JOIN evently.tags g ON g.id = et.tag_id
                    WHERE et.event_id = e.id AND g.is_active AND g.name = ANY (tag_names))))
    SELECT (SELECT count(*) FROM matching),
           coalesce((SELECT jsonb_agg(evently.event_json(p.id) ORDER BY p.date_time, p.id)
                       FROM (SELECT id, date_time FROM matching ORDER BY date_time, id
                              LIMIT lim OFFSET (page - 1) * lim) p), '[]')
      INTO total, events;
    RETURN jsonb_build_object('events', events, 'total_count', total, 'page', page, 'limit', lim,
                              'total_pages', ceil(total::numeric / lim)::int);
END
$$;

-- GET /events/upcoming?limit=: published events still to come, soonest first
CREATE OR REPLACE FUNCTION evently.api_events_upcoming(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    raw text := req->'query'->>'limit';
    lim int := CASE WHEN raw ~ '^[0-9]{1,9}$' AND raw::int > 0 THEN least(raw::int, 100) ELSE 10 END;
BEGIN
    RETURN coalesce((SELECT jsonb_agg(evently.event_json(e.id) ORDER BY e.date_time, e.id)
                       FROM (SELECT id, date_time FROM evently.events
                              WHERE status = 'published' AND date_time > now()
                              ORDER BY date_time, id LIMIT lim) e), '[]');
END
$$;

-- GET /events/:eventId/sections (an event selling tiers only has none)
CREATE OR REPLACE FUNCTION evently.api_event_sections(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
    tpl_id uuid;
BEGIN
    PERFORM evently._require_visible(ev_id, evently._viewer(actor, req));
    SELECT venue_template_id INTO tpl_id FROM evently.events WHERE id = ev_id;
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', s.id, 'template_id', s.template_id, 'name', s.name, 'description', s.description,
                'row_start', s.row_start, 'row_end', s.row_end, 'seats_per_row', s.seats_per_row,
                'total_seats', s.total_seats, 'created_at', s.created_at, 'updated_at', s.updated_at)
              ORDER BY s.name)
              FROM evently.venue_sections s WHERE s.template_id = tpl_id), '[]');
END
$$;

-- GET /events/:eventId/venue/layout: every seat with its effective status;
-- holds show as HELD (is_held), lapsed holds as AVAILABLE.
CREATE OR REPLACE FUNCTION evently.api_event_layout(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
    doc jsonb;
BEGIN
    PERFORM evently._require_visible(ev_id, evently._viewer(actor, req));
    WITH seats AS (
        SELECT es.section_id, es.seat_id, s.seat_number, s."row", s.position, es.price, es.seat_order,
               CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE' ELSE es.status END AS status
          FROM evently.event_seats es JOIN evently.seats s ON s.id = es.seat_id
         WHERE es.event_id = ev_id),
    sections AS (
        SELECT sec.id, sec.name, sec.row_start, sec.row_end, sec.seats_per_row, sec.total_seats,
               p.price_multiplier,
               count(*) FILTER (WHERE st.status = 'AVAILABLE') AS available,
               jsonb_agg(jsonb_build_object('id', st.seat_id, 'seat_number', st.seat_number, 'row', st."row",
                                            'position', st.position, 'status', st.status, 'price', st.price,
                                            'is_held', st.status = 'HELD')
                         ORDER BY st."row", st.position) AS seat_list
          FROM seats st
          JOIN evently.venue_sections sec ON sec.id = st.section_id
          JOIN evently.event_pricing p ON p.event_id = ev_id AND p.section_id = sec.id
         GROUP BY sec.id, p.price_multiplier)
    SELECT jsonb_build_object(
               'event_id', e.id, 'event_name', e.name,
               'venue_info', jsonb_build_object('template_id', t.id, 'template_name', t.name,
                                                'layout_type', t.layout_type, 'description', t.description),
               'base_price', e.base_price,
               'sections', coalesce((SELECT jsonb_agg(jsonb_build_object(
                       'id', x.id, 'name', x.name, 'price_multiplier', x.price_multiplier,
                       'price', round(e.base_price * x.price_multiplier, 2), 'row_start', x.row_start,
                       'row_end', x.row_end, 'seats_per_row', x.seats_per_row, 'total_seats', x.total_seats,
                       'available_seats', x.available, 'seats', x.seat_list) ORDER BY x.name)
                  FROM sections x), '[]'),
               'total_seats', (SELECT count(*) FROM seats),
               'available_seats', (SELECT count(*) FROM seats WHERE status = 'AVAILABLE'))
      INTO doc
      -- an event selling tiers only has no template: no sections, no seats
      FROM evently.events e LEFT JOIN evently.venue_templates t ON t.id = e.venue_template_id
     WHERE e.id = ev_id;
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', ev_id));
    RETURN doc;
END
$$;

-- POST /admin/events
-- An event body's free-text fields and base price, when present, checked in
-- our words before any constraint sees them (the REST rules: a name has 3
-- to 255 characters, as in the reference; evently.create_event allows 1).
CREATE OR REPLACE FUNCTION evently._require_event_fields(b jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(b->>'name' IS NULL OR length(btrim(b->>'name')) BETWEEN 3 AND 255, 'INVALID_ARGUMENT',
        'invalid event name', 'An event name has 3 to 255 characters, not only spaces.');
    PERFORM evently._require(coalesce(length(b->>'description'), 0) <= 2000, 'INVALID_ARGUMENT',
        'event description is too long', 'A description has at most 2000 characters.');
    PERFORM evently._require(coalesce(length(b->>'venue'), 0) <= 255, 'INVALID_ARGUMENT',
        'event venue is too long', 'A venue has at most 255 characters.');
    PERFORM evently._require(coalesce(length(b->>'image_url'), 0) <= 500, 'INVALID_ARGUMENT',
        'image_url is too long', 'An image URL has at most 500 characters.');
    -- a page shows it as an image: an http(s) address, never javascript: or data:
    PERFORM evently._require(coalesce(b->>'image_url', '') = '' OR b->>'image_url' ~* '^https?://[^[:space:]"<>]+$',
        'INVALID_ARGUMENT', 'invalid image_url', 'An image URL is an http:// or https:// address.');
    PERFORM evently._require(b->'base_price' IS NULL OR (jsonb_typeof(b->'base_price') = 'number'
                                                        AND evently._numeric_arg(b->>'base_price', 'base_price') BETWEEN 0 AND 9999999999.99),
        'INVALID_ARGUMENT', 'invalid base price', format('Base price %s is not a number from 0 to 9999999999.99.', b->'base_price'));
    PERFORM evently._require_decimals(CASE jsonb_typeof(b->'base_price') WHEN 'number' THEN evently._numeric_arg(b->>'base_price', 'base_price') END,
                                      2, 'base_price');
END
$$;

-- An event body's section_pricing ([{"section_id", "price_multiplier"}],
-- optional) as create_event's section_multipliers ({id: multiplier}); tags
-- must be an array too.
CREATE OR REPLACE FUNCTION evently._section_multipliers(b jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    multipliers jsonb := '{}';
    item jsonb;
BEGIN
    PERFORM evently._require(jsonb_typeof(coalesce(b->'section_pricing', '[]')) = 'array'
                             AND jsonb_typeof(coalesce(b->'tags', '[]')) = 'array',
        'INVALID_ARGUMENT', 'invalid event', 'section_pricing and tags are arrays.');
    FOR item IN SELECT * FROM jsonb_array_elements(coalesce(b->'section_pricing', '[]')) LOOP
        PERFORM evently._require(jsonb_typeof(item) = 'object' AND item->>'section_id' ~* '^[0-9a-f-]{36}$'
                                 AND jsonb_typeof(item->'price_multiplier') = 'number',
            'INVALID_ARGUMENT', 'invalid section pricing', 'Each item is {"section_id": uuid, "price_multiplier": number}.');
        PERFORM evently._require(NOT multipliers ? (item->>'section_id'), 'INVALID_ARGUMENT',
            'duplicate section ID in pricing', format('Section %s is priced twice.', item->>'section_id'));
        multipliers := multipliers || jsonb_build_object(item->>'section_id', item->'price_multiplier');
    END LOOP;
    RETURN multipliers;
END
$$;

CREATE OR REPLACE FUNCTION evently.api_event_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    new_id uuid;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require_event_fields(b);
    PERFORM evently._require(jsonb_typeof(b->'section_pricing') = 'array',
        'INVALID_ARGUMENT', 'invalid event', 'section_pricing and tags are arrays.');
    new_id := evently.create_event(b->>'name', evently._uuid_arg(b->>'venue_template_id', 'venue_template_id'),
                                   evently._time_field(b, 'date_time'), evently._numeric_arg(b->>'base_price', 'base_price'), actor,
                                   b->>'venue', b->>'description', evently._section_multipliers(b),
                                   ARRAY(SELECT jsonb_array_elements_text(coalesce(b->'tags', '[]'))),
                                   jsonb_strip_nulls(jsonb_build_object('max_tickets_per_user',
                                                                        b->'max_tickets_per_user')));
    UPDATE evently.events SET image_url = b->>'image_url' WHERE id = new_id AND b->>'image_url' IS NOT NULL;
    RETURN evently.event_json(new_id, true);
END
$$;

-- The tags an event takes up, locked SHARE: a tag being deleted (retired,
-- 96_shards.sql) waits for the event, or the event sees it retired.
CREATE OR REPLACE FUNCTION evently._share_tags(slugs text[]) RETURNS void
LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT 1 FROM evently.tags g WHERE g.slug = ANY (coalesce(slugs, '{}')) FOR SHARE) locked
$$;

-- An event's tags become the given slugs (a JSON array of active tag slugs).
CREATE OR REPLACE FUNCTION evently._set_event_tags(p_event_id uuid, slugs jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(jsonb_typeof(slugs) = 'array', 'INVALID_ARGUMENT', 'invalid tags',
        'tags is an array of tag slugs.');
    PERFORM evently._share_tags(ARRAY(SELECT jsonb_array_elements_text(slugs)));
    PERFORM evently._require(NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements_text(slugs) t
             WHERE NOT EXISTS (SELECT 1 FROM evently.tags g WHERE g.slug = t AND g.is_active AND g.retired_at IS NULL)),
        'INVALID_ARGUMENT', 'tag validation failed', 'Every tag must be the slug of an active tag.');
    DELETE FROM evently.event_tags WHERE event_id = p_event_id;
    INSERT INTO evently.event_tags (event_id, tag_id)
    SELECT p_event_id, g.id FROM evently.tags g WHERE g.slug IN (SELECT jsonb_array_elements_text(slugs));
END
$$;

-- An event body's max_tickets_per_user, when present: null (no limit) or 1 to 1000.
CREATE OR REPLACE FUNCTION evently._require_max_tickets(b jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(CASE jsonb_typeof(b->'max_tickets_per_user')
                                 WHEN 'null' THEN true
                                 WHEN 'number' THEN b->>'max_tickets_per_user' ~ '^[0-9]{1,4}$'
                                                    AND (b->>'max_tickets_per_user')::int BETWEEN 1 AND 1000
                                 ELSE b->'max_tickets_per_user' IS NULL END,
        'INVALID_ARGUMENT', 'invalid max_tickets_per_user', 'max_tickets_per_user is null or 1 to 1000.');
END
$$;

-- A new date for an event must not come before its cancellation policy's
-- deadline (set_cancellation_policy's rule).
CREATE OR REPLACE FUNCTION evently._require_date_after_deadline(p_event_id uuid, new_time timestamptz) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    deadline timestamptz := (SELECT cancellation_deadline FROM evently.cancellation_policies WHERE event_id = p_event_id);
BEGIN
    PERFORM evently._require(new_time IS NULL OR deadline IS NULL OR deadline <= new_time, 'INVALID_ARGUMENT',
        'cancellation deadline is after the new date',
        format('Event %s''s cancellation deadline %s is after %s.', p_event_id, deadline, new_time),
        'Move the cancellation deadline first (set_cancellation_policy).');
END
$$;

-- PUT /admin/events/:eventId: only a published event changes; cancelling it
-- releases its holds, closes its waitlist and refunds every booking in full.
CREATE OR REPLACE FUNCTION evently.api_event_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev evently.events;
    shown text;
    new_time timestamptz := evently._time_field(b, 'date_time');
    new_status text := b->>'status';
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', 'name', 'description', 'venue', 'venue_template_id', 'date_time', 'base_price', 'status', 'image_url', 'tags', 'max_tickets_per_user');
    SELECT * INTO ev FROM evently.events WHERE id = evently._uuid_arg(req->'path'->>'eventId', 'eventId') FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'event not found',
        format('Event %s does not exist.', req->'path'->>'eventId'));
    PERFORM evently._require(ev.status NOT IN ('draft', 'under_review'), 'INVALID_TRANSITION',
        format('event is %s', ev.status),
        format('Event %s is not published yet: its organizer edits it (PUT /events/:id), an ADMIN reviews it.', ev.id));
    -- by the lifecycle's clock: an event that ended is completed, and final
    shown := evently._lifecycle_status(ev.status, ev.date_time, ev.end_time);
    PERFORM evently._require(shown IN ('published', 'active'), 'EVENT_CLOSED',
        format('cannot update event with status: %s', shown), 'Cancelled and completed events are final.');
    PERFORM evently._require(new_time IS NULL OR shown = 'published', 'INVALID_TRANSITION', 'event has started',
        format('Event %s started at %s; its date no longer changes.', ev.id, ev.date_time));
    PERFORM evently._require(new_time IS NULL OR new_time > now(), 'INVALID_ARGUMENT', 'event date must be in the future',
        format('%s is not after now.', new_time));
    PERFORM evently._require_within_horizon(new_time + (ev.end_time - ev.date_time));
    PERFORM evently._require(new_status IS NULL OR new_status IN ('published', 'cancelled', 'completed'),
        'INVALID_ARGUMENT', 'invalid status', format('Status %L is not published, cancelled or completed.', new_status));
    -- completed is what an event becomes once it took place: an event still
    -- to come is cancelled (and refunded), never completed
    PERFORM evently._require(new_status IS DISTINCT FROM 'completed' OR ev.date_time <= now(), 'INVALID_ARGUMENT',
        'event has not taken place', format('Event %s starts at %s; cancel it instead.', ev.id, ev.date_time));
    PERFORM evently._require_event_fields(b);
    -- an organizer's event sold by its organizer's terms, whoever edits it
    -- (the platform's own events keep 1.0's rule: unsold seats follow the price)
    IF ev.organizer_id IS NOT NULL THEN
        PERFORM evently._require_unchanged_after_sales(ev, b);
    END IF;
    -- every field is applied or refused: the venue (its seat inventory) is
    -- fixed at creation
    PERFORM evently._require(b->>'venue_template_id' IS NULL OR evently._uuid_arg(b->>'venue_template_id', 'venue_template_id') = ev.venue_template_id,
        'INVALID_ARGUMENT', 'venue_template_id cannot change',
        format('Event %s is sold on venue template %s; create a new event for another venue.',
               ev.id, ev.venue_template_id));
    PERFORM evently._require_max_tickets(b);
    PERFORM evently._require_date_after_deadline(ev.id, new_time);
    IF b ? 'tags' THEN
        PERFORM evently._set_event_tags(ev.id, b->'tags');
    END IF;
    BEGIN
        UPDATE evently.events
           SET name = coalesce(b->>'name', name), description = coalesce(b->>'description', description),
               venue = coalesce(b->>'venue', venue), date_time = coalesce(new_time, date_time),
               -- the event keeps its length when it moves
               end_time = coalesce(new_time + (end_time - date_time), end_time),
               cancelled_at = CASE WHEN new_status = 'cancelled' THEN now() ELSE cancelled_at END,
               base_price = coalesce(round(evently._numeric_arg(b->>'base_price', 'base_price'), 2), base_price),
               status = coalesce(new_status, status), image_url = coalesce(b->>'image_url', image_url),
               max_tickets_per_user = CASE WHEN b ? 'max_tickets_per_user'
                                           THEN evently._int_arg(b->>'max_tickets_per_user', 'max_tickets_per_user')
                                           ELSE max_tickets_per_user END,
               updated_by = actor, updated_at = now()
         WHERE id = ev.id;
    EXCEPTION WHEN check_violation OR numeric_value_out_of_range THEN
        PERFORM evently._fail('INVALID_ARGUMENT', 'invalid event',
            'A description has at most 2000 characters, a venue and an image URL at most 255 and 500, '
            'a base price at most 9999999999.99.');
    END;
    IF new_status = 'cancelled' THEN
        PERFORM evently._close_event(ev.id, actor);
    END IF;
    PERFORM evently._emit(CASE WHEN new_status = 'cancelled' THEN 'event.cancelled' ELSE 'event.updated' END,
                          ev.id, actor, 'event', ev.id, evently.event_json(ev.id), actor);
    RETURN evently.event_json(ev.id, true);
END
$$;

-- Cancel an event's sales (SPEC section 9): its live holds are released (seats
-- and units freed, unpaid orders EXPIRED), its waitlist closed, and every booking cancelled with a full refund whatever
-- the cancellation policy (booking.cancelled for each), in the caller's
-- transaction.  The caller records event.cancelled.
CREATE OR REPLACE FUNCTION evently._close_event(p_event_id uuid, actor uuid, reason text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h record;
BEGIN
    -- the event row first (FOR UPDATE waits for holds in flight, which take
    -- it FOR KEY SHARE, and makes new ones wait), then the queue lock
    PERFORM 1 FROM evently.events WHERE id = p_event_id FOR UPDATE;
    PERFORM evently._lock_event_queue(p_event_id);
    PERFORM evently._close_waitlist(p_event_id, actor, coalesce(reason, 'event cancelled'));
    -- the live holds, then their seats: the order confirm_booking and
    -- release_hold lock them in, so a confirmation in flight waits or is
    -- waited for, never deadlocks
    PERFORM 1 FROM evently.holds WHERE event_id = p_event_id AND status = 'ACTIVE' ORDER BY id FOR UPDATE;
    PERFORM 1 FROM evently.event_seats WHERE event_id = p_event_id AND status = 'HELD'
     ORDER BY seat_id FOR UPDATE;
    PERFORM 1 FROM evently.tier_units
     WHERE tier_id IN (SELECT id FROM evently.ticket_tiers WHERE event_id = p_event_id) AND status = 'HELD'
     ORDER BY tier_id, unit_no FOR UPDATE;
    FOR h IN SELECT id, user_id FROM evently.holds WHERE event_id = p_event_id AND status = 'ACTIVE'
              ORDER BY id LOOP
        UPDATE evently.holds SET status = 'RELEASED', updated_at = now() WHERE id = h.id;
        PERFORM evently._emit('hold.released', p_event_id, h.user_id, 'hold', h.id,
                              evently.hold_json(h.id), actor);
    END LOOP;
    UPDATE evently.event_seats SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL
     WHERE event_id = p_event_id AND status = 'HELD';
    -- 1.1: general-admission units too, and the unpaid orders of every hold
    -- (a card payment completing later is refunded: _complete_order)
    UPDATE evently.tier_units SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL
     WHERE tier_id IN (SELECT id FROM evently.ticket_tiers WHERE event_id = p_event_id) AND status = 'HELD';
    PERFORM evently._expire_orders(ARRAY(SELECT hold_id FROM evently.orders
                                          WHERE event_id = p_event_id AND status = 'PENDING'));
    PERFORM evently._refund_event_bookings(p_event_id, actor, coalesce(reason, 'event cancelled'));
END
$$;

-- Close an event's waitlist (the caller holds its queue lock): every ACTIVE
-- or NOTIFIED entry is CANCELLED, and its user told why (waitlist.closed,
-- which the inbox shows).
CREATE OR REPLACE FUNCTION evently._close_waitlist(p_event_id uuid, actor uuid, reason text) RETURNS void
LANGUAGE sql AS $$
    WITH closed AS (
        UPDATE evently.waitlist_entries SET status = 'CANCELLED', updated_at = now()
         WHERE event_id = p_event_id AND status IN ('ACTIVE', 'NOTIFIED')
        RETURNING id, user_id, position)
    SELECT evently._emit('waitlist.closed', p_event_id, c.user_id, 'waitlist_entry', c.id,
                         jsonb_build_object('entry_id', c.id, 'event_name', e.name, 'reason', reason), actor)
      FROM closed c, evently.events e WHERE e.id = p_event_id
     ORDER BY c.position
$$;

-- DELETE /admin/events/:eventId: only an event nobody ever held or booked
CREATE OR REPLACE FUNCTION evently.api_event_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev_id uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM 1 FROM evently.events WHERE id = ev_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'event not found', format('Event %s does not exist.', ev_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.holds WHERE event_id = ev_id),
        'IN_USE', 'cannot delete event with existing bookings. Consider canceling the event instead',
        format('Event %s has holds or bookings.', ev_id));
    PERFORM evently._close_waitlist(ev_id, actor, 'event deleted');
    DELETE FROM evently.waitlist_entries WHERE event_id = ev_id;
    DELETE FROM evently.events WHERE id = ev_id;
    PERFORM evently._audit('event.deleted', 'event', ev_id, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /admin/events/:eventId
CREATE OR REPLACE FUNCTION evently.api_admin_event_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently.event_json(evently._uuid_arg(req->'path'->>'eventId', 'eventId'), true);
END
$$;

-- GET /admin/events
CREATE OR REPLACE FUNCTION evently.api_admin_events_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently._events_page(req, true);
END
$$;

-- GET /sections/:sectionId/seats/available?event_id=
CREATE OR REPLACE FUNCTION evently.api_section_seats_available(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev text := req->'query'->>'event_id';
BEGIN
    PERFORM evently._require(ev ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', 'INVALID_ARGUMENT',
        'Event ID is required', 'Pass event_id=<uuid> in the query.');
    PERFORM evently._require_visible(ev::uuid, evently._viewer(actor, req));
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'seat_number', s.seat_number, 'row', s."row",
                                                         'position', s.position, 'status', 'AVAILABLE',
                                                         'price', es.price, 'is_held', false)
                                      ORDER BY s."row", s.position)
                       FROM evently.event_seats es JOIN evently.seats s ON s.id = es.seat_id
                      WHERE es.event_id = ev::uuid AND es.section_id = evently._uuid_arg(req->'path'->>'sectionId', 'sectionId')
                        AND (es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.held_until <= now()))), '[]');
END
$$;
