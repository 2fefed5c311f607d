-- 30_venues.sql: venue templates, their sections and seats; the ADMIN
-- venue routes and the public seat reads.

CREATE OR REPLACE FUNCTION evently.create_venue_template(name text, layout_type text DEFAULT 'GENERAL',
                                              description text DEFAULT NULL, created_by uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    created_by := evently._staff(created_by);
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'INVALID_ARGUMENT', 'invalid template name', 'A template name has 1 to 255 characters.');
    PERFORM evently._require(description IS NULL OR length(description) <= 1000, 'INVALID_ARGUMENT',
        'template description is too long', 'A description has at most 1000 characters.');
    PERFORM evently._require(upper(layout_type) IN ('THEATER', 'STADIUM', 'CONFERENCE', 'GENERAL'),
        'INVALID_ARGUMENT', 'invalid layout type',
        format('Layout %L is not THEATER, STADIUM, CONFERENCE or GENERAL.', layout_type));
    -- the unique name decides, also between two creations at once
    BEGIN
        INSERT INTO evently.venue_templates (name, layout_type, description)
        VALUES (btrim(name), upper(layout_type), description)
        RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', 'venue template already exists', format('A template named %L exists.', name));
    END;
    PERFORM evently._audit('venue_template.created', 'venue_template', new_id,
                           jsonb_build_object('name', btrim(name)), created_by);
    RETURN new_id;
END
$$;

-- The rows of a section: a numeric range ('1'..'20') or a letter range ('A'..'C').
CREATE OR REPLACE FUNCTION evently._section_rows(row_start text, row_end text) RETURNS SETOF text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF row_start ~ '^[0-9]{1,5}$' AND row_end ~ '^[0-9]{1,5}$' THEN
        PERFORM evently._require(row_start::int <= row_end::int AND row_end::int - row_start::int < 10000,
            'INVALID_ARGUMENT', 'invalid row range',
            format('Rows %s to %s are not an ascending range of at most 10000 rows.', row_start, row_end));
        RETURN QUERY SELECT r::text FROM generate_series(row_start::int, row_end::int) r;
    ELSIF row_start ~ '^[A-Za-z]$' AND row_end ~ '^[A-Za-z]$' THEN
        PERFORM evently._require(ascii(row_start) <= ascii(row_end),
            'INVALID_ARGUMENT', 'invalid row range',
            format('Rows %s to %s are not an ascending range.', row_start, row_end));
        RETURN QUERY SELECT chr(c) FROM generate_series(ascii(row_start), ascii(row_end)) c;
    ELSE
        PERFORM evently._fail('INVALID_ARGUMENT', 'invalid row range',
            format('Rows %L to %L are neither numbers nor single letters.', row_start, row_end));
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION evently.add_section(template_id uuid, name text, row_start text, row_end text,
                                    seats_per_row int, description text DEFAULT NULL,
                                    created_by uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    row_count int;
BEGIN
    created_by := evently._staff(created_by);
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'INVALID_ARGUMENT', 'invalid section name', 'A section name has 1 to 255 characters.');
    PERFORM evently._require(seats_per_row BETWEEN 1 AND 100,
        'INVALID_ARGUMENT', 'invalid seats per row', format('Seats per row %s is not between 1 and 100.', coalesce(seats_per_row::text, 'NULL')));
    PERFORM evently._require(description IS NULL OR length(description) <= 500, 'INVALID_ARGUMENT',
        'section description is too long', 'A description has at most 500 characters.');
    -- lock the template so no event is created from it while it grows
    PERFORM 1 FROM evently.venue_templates t WHERE t.id = add_section.template_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'venue template not found',
        format('Venue template %s does not exist.', template_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.events e
                                          WHERE e.venue_template_id = add_section.template_id),
        'IN_USE', 'venue template is in use',
        format('Venue template %s already has events; their seat inventory is fixed.', template_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.venue_sections s
                                          WHERE s.template_id = add_section.template_id
                                            AND s.name = btrim(add_section.name)),
        'ALREADY_EXISTS', 'section already exists', format('The template has a section named %L.', name));
    SELECT count(*) INTO row_count FROM evently._section_rows(row_start, row_end);
    INSERT INTO evently.venue_sections (template_id, name, description, row_start, row_end,
                                        seats_per_row, total_seats)
    VALUES (template_id, btrim(name), description, row_start, row_end, seats_per_row,
            row_count * seats_per_row)
    RETURNING id INTO new_id;
    -- 'A7' for letter rows; '12-7' for numeric rows, where '127' would be ambiguous
    INSERT INTO evently.seats (section_id, seat_number, "row", position)
    SELECT new_id, CASE WHEN r ~ '^[0-9]+$' THEN r || '-' || n ELSE r || n END, r, n
      FROM evently._section_rows(row_start, row_end) r, generate_series(1, seats_per_row) n;
    UPDATE evently.venue_templates t
       SET default_rows = least(50, greatest(coalesce(t.default_rows, 0), row_count)),
           default_seats_per_row = least(100, greatest(coalesce(t.default_seats_per_row, 0), seats_per_row)),
           updated_at = now()
     WHERE t.id = add_section.template_id;
    PERFORM evently._audit('venue_section.created', 'venue_section', new_id,
                           jsonb_build_object('template_id', template_id, 'seats', row_count * seats_per_row),
                           created_by);
    RETURN new_id;
END
$$;

CREATE OR REPLACE FUNCTION evently.template_json(p_template_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', t.id, 'name', t.name, 'description', t.description,
                              'default_rows', t.default_rows, 'default_seats_per_row', t.default_seats_per_row,
                              'layout_type', t.layout_type, 'created_at', t.created_at, 'updated_at', t.updated_at)
      FROM evently.venue_templates t WHERE t.id = p_template_id
$$;

CREATE OR REPLACE FUNCTION evently.section_json(p_section_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'template_id', s.template_id, 'name', s.name,
                              'description', s.description, 'row_start', s.row_start, 'row_end', s.row_end,
                              'seats_per_row', s.seats_per_row, 'total_seats', s.total_seats,
                              'created_at', s.created_at, 'updated_at', s.updated_at)
      FROM evently.venue_sections s WHERE s.id = p_section_id
$$;

CREATE OR REPLACE FUNCTION evently.seat_json(p_seat_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'section_id', s.section_id, 'seat_number', s.seat_number,
                              'row', s."row", 'position', s.position, 'status', s.status,
                              'created_at', s.created_at, 'updated_at', s.updated_at,
                              'section', jsonb_build_object('id', sec.id, 'template_id', sec.template_id,
                                                            'name', sec.name))
      FROM evently.seats s JOIN evently.venue_sections sec ON sec.id = s.section_id
     WHERE s.id = p_seat_id
$$;

-- A template may change shape only while no event uses it.
CREATE OR REPLACE FUNCTION evently._require_template_unused(p_template_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.events WHERE venue_template_id = p_template_id),
        'IN_USE', 'venue template is in use',
        format('Venue template %s has events; their seat inventory is fixed.', p_template_id));
END
$$;

-- A template body's name, description and default shape, when present,
-- checked in our words before any constraint sees them.
CREATE OR REPLACE FUNCTION evently._require_template_fields(b jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(b->>'name' IS NULL OR length(btrim(b->>'name')) BETWEEN 1 AND 255,
        'INVALID_ARGUMENT', 'invalid template name', 'A template name has 1 to 255 characters, not only spaces.');
    PERFORM evently._require(b->>'description' IS NULL OR length(b->>'description') <= 1000, 'INVALID_ARGUMENT',
        'template description is too long', 'A description has at most 1000 characters.');
    PERFORM evently._require(b->'default_rows' IS NULL
                             OR (b->>'default_rows' ~ '^[0-9]{1,4}$' AND evently._int_arg(b->>'default_rows', 'default_rows') BETWEEN 1 AND 50),
        'INVALID_ARGUMENT', 'invalid default_rows', format('default_rows %s is not an integer from 1 to 50.', b->'default_rows'));
    PERFORM evently._require(b->'default_seats_per_row' IS NULL
                             OR (b->>'default_seats_per_row' ~ '^[0-9]{1,4}$'
                                 AND evently._int_arg(b->>'default_seats_per_row', 'default_seats_per_row') BETWEEN 1 AND 100),
        'INVALID_ARGUMENT', 'invalid default_seats_per_row',
        format('default_seats_per_row %s is not an integer from 1 to 100.', b->'default_seats_per_row'));
END
$$;

-- POST /admin/venue-templates
CREATE OR REPLACE FUNCTION evently.api_template_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    new_id uuid;
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require_template_fields(b);
    new_id := evently.create_venue_template(b->>'name', b->>'layout_type', b->>'description', actor);
    UPDATE evently.venue_templates SET default_rows = evently._int_arg(b->>'default_rows', 'default_rows'),
                                       default_seats_per_row = evently._int_arg(b->>'default_seats_per_row', 'default_seats_per_row')
     WHERE id = new_id;
    RETURN evently.template_json(new_id);
END
$$;

-- GET /admin/venue-templates?page&limit&search&layout_type&sort_by&sort_order
CREATE OR REPLACE FUNCTION evently.api_templates_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 20, 1, 100);
    sort record;
    total bigint;
    docs jsonb;
BEGIN
    actor := evently._admin(actor, req);
    SELECT * INTO sort FROM evently._sort_param(req, '{name,created_at,updated_at}', 'name');
    WITH matching AS (
        SELECT t.id, CASE sort.sort_by WHEN 'name' THEN t.name
                                       WHEN 'created_at' THEN to_char(t.created_at, 'YYYYMMDDHH24MISSUS')
                                       ELSE to_char(t.updated_at, 'YYYYMMDDHH24MISSUS') END AS sort_key
          FROM evently.venue_templates t
         WHERE (q->>'search' IS NULL OR t.name ILIKE evently._contains(q->>'search')
                OR t.description ILIKE evently._contains(q->>'search'))
           AND (q->>'layout_type' IS NULL OR t.layout_type = upper(q->>'layout_type'))),
    ordered AS (
        SELECT id, row_number() OVER (ORDER BY CASE WHEN sort.descending THEN NULL ELSE sort_key END,
                                               sort_key DESC, id) AS n
          FROM matching)
    SELECT (SELECT count(*) FROM matching),
           (SELECT jsonb_agg(evently.template_json(o.id) ORDER BY o.n)
              FROM (SELECT * FROM ordered ORDER BY n LIMIT lim OFFSET (page - 1) * lim) o)
      INTO total, docs;
    RETURN evently._page('templates', docs, total, page, lim);
END
$$;

-- GET /admin/venue-templates/:id
CREATE OR REPLACE FUNCTION evently.api_template_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN evently._found(evently.template_json(evently._uuid_arg(req->'path'->>'id', 'id')), 'template', req->'path'->>'id');
END
$$;

-- PUT /admin/venue-templates/:id
CREATE OR REPLACE FUNCTION evently.api_template_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    tpl uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', 'name', 'description', 'default_rows', 'default_seats_per_row', 'layout_type');
    PERFORM 1 FROM evently.venue_templates WHERE id = tpl FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'template not found', format('Venue template %s does not exist.', tpl));
    PERFORM evently._require_template_fields(b);
    PERFORM evently._require(b->>'layout_type' IS NULL
                             OR upper(b->>'layout_type') IN ('THEATER', 'STADIUM', 'CONFERENCE', 'GENERAL'),
        'INVALID_ARGUMENT', 'invalid layout type', format('Layout %L is not THEATER, STADIUM, CONFERENCE or GENERAL.', b->>'layout_type'));
    BEGIN
        UPDATE evently.venue_templates
           SET name = coalesce(btrim(b->>'name'), name), description = coalesce(b->>'description', description),
               layout_type = coalesce(upper(b->>'layout_type'), layout_type),
               default_rows = coalesce(evently._int_arg(b->>'default_rows', 'default_rows'), default_rows),
               default_seats_per_row = coalesce(evently._int_arg(b->>'default_seats_per_row', 'default_seats_per_row'), default_seats_per_row),
               updated_at = now()
         WHERE id = tpl;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', format('template with name %L already exists', b->>'name'),
            'Template names are unique.');
    END;
    PERFORM evently._audit('venue_template.updated', 'venue_template', tpl, b, actor);
    RETURN evently.template_json(tpl);
END
$$;

-- DELETE /admin/venue-templates/:id: with its sections and seats, if no event uses it
CREATE OR REPLACE FUNCTION evently.api_template_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tpl uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM 1 FROM evently.venue_templates WHERE id = tpl FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'template not found', format('Venue template %s does not exist.', tpl));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.venue_templates WHERE id = tpl;
    PERFORM evently._audit('venue_template.deleted', 'venue_template', tpl, '{}', actor);
    RETURN NULL;
END
$$;

-- POST /admin/venue-templates/:id/sections: the seats are generated with it
CREATE OR REPLACE FUNCTION evently.api_section_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    new_id uuid;
    made int;
BEGIN
    actor := evently._admin(actor, req);
    new_id := evently.add_section(evently._uuid_arg(req->'path'->>'id', 'id'), b->>'name', b->>'row_start', b->>'row_end',
                                  evently._int_arg(b->>'seats_per_row', 'seats_per_row'), b->>'description', actor);
    SELECT total_seats INTO made FROM evently.venue_sections WHERE id = new_id;
    PERFORM evently._require(b->'total_seats' IS NULL OR evently._int_arg(b->>'total_seats', 'total_seats') = made, 'INVALID_ARGUMENT',
        format('generated seat count (%s) doesn''t match section total (%s)', made, b->>'total_seats'),
        'total_seats must equal rows x seats_per_row.');
    RETURN evently.section_json(new_id);
END
$$;

-- GET /admin/venue-templates/:id/sections
CREATE OR REPLACE FUNCTION evently.api_sections_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tpl uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.venue_templates WHERE id = tpl), 'NOT_FOUND',
        'template not found', format('Venue template %s does not exist.', tpl));
    RETURN coalesce((SELECT jsonb_agg(evently.section_json(s.id) || jsonb_build_object('template', evently.template_json(tpl))
                                      ORDER BY s.name)
                       FROM evently.venue_sections s WHERE s.template_id = tpl), '[]');
END
$$;

-- PUT /admin/sections/:id: name and description (its seats are fixed)
CREATE OR REPLACE FUNCTION evently.api_section_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    sec uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', 'name', 'description');
    PERFORM 1 FROM evently.venue_sections WHERE id = sec FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'section not found', format('Section %s does not exist.', sec));
    BEGIN
        UPDATE evently.venue_sections SET name = coalesce(btrim(b->>'name'), name),
                                          description = coalesce(b->>'description', description), updated_at = now()
         WHERE id = sec;
    EXCEPTION
        WHEN unique_violation THEN
            PERFORM evently._fail('ALREADY_EXISTS', 'section name already used',
                format('The template has another section named %L.', btrim(b->>'name')));
        WHEN check_violation THEN
            PERFORM evently._fail('INVALID_ARGUMENT', 'invalid section',
                'A section name has 1 to 255 characters, a description at most 500.');
    END;
    PERFORM evently._audit('venue_section.updated', 'venue_section', sec, b, actor);
    RETURN evently.section_json(sec);
END
$$;

-- DELETE /admin/sections/:id: with its seats, if no event uses the template
CREATE OR REPLACE FUNCTION evently.api_section_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    sec uuid := evently._uuid_arg(req->'path'->>'id', 'id');
    tpl uuid;
BEGIN
    actor := evently._admin(actor, req);
    SELECT template_id INTO tpl FROM evently.venue_sections WHERE id = sec FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'section not found', format('Section %s does not exist.', sec));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.venue_sections WHERE id = sec;
    PERFORM evently._audit('venue_section.deleted', 'venue_section', sec, '{}', actor);
    RETURN NULL;
END
$$;

-- A venue seat's status (AVAILABLE or BLOCKED) reaches the inventories of
-- events still to come: a free seat is blocked or unblocked at once, a held
-- or sold one when it is freed (evently._free_seat).  api_seat_update's, and
-- a shard's when the change comes from the global primary (96_shards.sql).
CREATE OR REPLACE FUNCTION evently._apply_seat_status(p_seat_id uuid, p_status text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE evently.event_seats es SET status = p_status
      FROM evently.events e
     WHERE es.seat_id = p_seat_id AND e.id = es.event_id
       -- every event that may still sell it: drafts and events under
       -- review too, and events selling while they run
       AND e.status IN ('draft', 'under_review', 'published') AND e.end_time > now()
       AND es.status IN ('AVAILABLE', 'BLOCKED');
END
$$;

-- GET /seats/:id
CREATE OR REPLACE FUNCTION evently.api_seat_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE
RETURN evently._found(evently.seat_json(evently._uuid_arg(req->'path'->>'id', 'id')), 'seat', req->'path'->>'id');

-- PUT /admin/seats/:id: a seat's label, or blocking it.  A label is what
-- tickets print, so it changes only while no event uses the template.
-- Blocking reaches the inventories of events still to come: a free seat is
-- blocked at once, a held or sold one when it is freed (evently._free_seat).
-- Unblocking frees the seats blocked there.
CREATE OR REPLACE FUNCTION evently.api_seat_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    seat uuid := evently._uuid_arg(req->'path'->>'id', 'id');
BEGIN
    actor := evently._admin(actor, req);
    PERFORM evently._only_fields(req->'body', 'seat_number', 'row', 'position', 'status');
    -- the template first: an event being made on it (which holds it FOR
    -- SHARE while it copies the seats) either sees this change or is seen
    -- by it, never neither
    PERFORM 1 FROM evently.venue_templates t
     WHERE t.id = (SELECT sec.template_id FROM evently.seats st JOIN evently.venue_sections sec ON sec.id = st.section_id
                    WHERE st.id = seat)
       FOR NO KEY UPDATE;
    PERFORM 1 FROM evently.seats WHERE id = seat FOR UPDATE;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'seat not found', format('Seat %s does not exist.', seat));
    PERFORM evently._require(b->>'status' IS NULL OR b->>'status' IN ('AVAILABLE', 'BLOCKED'), 'INVALID_ARGUMENT',
        'invalid seat status', format('Status %L is not AVAILABLE or BLOCKED.', b->>'status'));
    PERFORM evently._require(b->'position' IS NULL
                             OR (b->>'position' ~ '^[0-9]{1,6}$' AND evently._int_arg(b->>'position', 'position') BETWEEN 1 AND 100000),
        'INVALID_ARGUMENT', 'invalid seat position', format('Position %s is not an integer from 1 to 100000.', b->'position'));
    PERFORM evently._require(coalesce(length(btrim(b->>'seat_number')), 1) BETWEEN 1 AND 20
                             AND coalesce(length(btrim(b->>'row')), 1) BETWEEN 1 AND 10,
        'INVALID_ARGUMENT', 'invalid seat label', 'A seat number has 1 to 20 characters, a row 1 to 10, not only spaces.');
    IF b ?| ARRAY['seat_number', 'row', 'position'] THEN
        PERFORM evently._require_template_unused((SELECT sec.template_id FROM evently.seats st
                                                    JOIN evently.venue_sections sec ON sec.id = st.section_id
                                                   WHERE st.id = seat));
    END IF;
    BEGIN
        UPDATE evently.seats SET seat_number = coalesce(b->>'seat_number', seat_number),
                                 "row" = coalesce(b->>'row', "row"),
                                 position = coalesce(evently._int_arg(b->>'position', 'position'), position),
                                 status = coalesce(b->>'status', status), updated_at = now()
         WHERE id = seat;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', 'seat number already used',
            format('The section has another seat %L.', b->>'seat_number'));
    END;
    IF b->>'status' IS NOT NULL THEN
        PERFORM evently._apply_seat_status(seat, b->>'status');
    END IF;
    PERFORM evently._audit('seat.updated', 'seat', seat, b, actor);
    RETURN evently.seat_json(seat);
END
$$;

-- DELETE /admin/seats/:id: if no event uses its template
CREATE OR REPLACE FUNCTION evently.api_seat_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    seat uuid := evently._uuid_arg(req->'path'->>'id', 'id');
    tpl uuid;
BEGIN
    actor := evently._admin(actor, req);
    SELECT sec.template_id INTO tpl FROM evently.seats s JOIN evently.venue_sections sec ON sec.id = s.section_id
     WHERE s.id = seat;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'seat not found', format('Seat %s does not exist.', seat));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.seats WHERE id = seat;
    PERFORM evently._audit('seat.deleted', 'seat', seat, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /sections/:sectionId/seats
CREATE OR REPLACE FUNCTION evently.api_section_seats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(evently.seat_json(s.id) - 'section' ORDER BY s."row", s.position), '[]')
      FROM evently.seats s WHERE s.section_id = evently._uuid_arg(req->'path'->>'sectionId', 'sectionId')
$$;
