-- The venue routes' SQL (api_template_*, api_section_*, api_seat_*): ADMIN
-- only, except the public seat reads.  A template's shape (sections, seats)
-- is fixed once an event uses it (EV014); labels and blocking are not.
SET client_min_messages = warning;

CREATE FUNCTION t.tpl(label text) RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_object('id', t.id(label));
CREATE FUNCTION t.templates(query jsonb) RETURNS text LANGUAGE sql STABLE
RETURN t.page_of(evently.api_templates_list(t.id('admin'), t.req(query => query)), 'templates');
-- A template's section and seat, by name and number.
CREATE FUNCTION t.seat_id(section_label text, number text) RETURNS uuid LANGUAGE sql STABLE
RETURN (SELECT id FROM evently.seats WHERE section_id = t.id(section_label) AND seat_number = number);

-- Templates: create (the layout in any case), and its refusals
SELECT jsonb_pretty(t.scrub(evently.api_template_create(t.id('admin'), t.req(body =>
         '{"name": "Arena", "description": "big and round", "layout_type": "stadium",
           "default_rows": 10, "default_seats_per_row": 20}'))::text)::jsonb);
SELECT t.remember('arena', id) FROM evently.venue_templates WHERE name = 'Arena';
SELECT t.try($$SELECT evently.api_template_create(t.id('alice'), t.req(body => '{"name": "Dome", "layout_type": "GENERAL"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_template_create(gen_random_uuid(), t.req(body => '{"name": "Dome", "layout_type": "GENERAL"}'))$$) AS unknown_actor;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => '{"name": "Arena", "layout_type": "GENERAL"}'))$$) AS same_name;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => '{"name": "  Arena ", "layout_type": "GENERAL"}'))$$) AS same_name_trimmed;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => '{"name": "Dome", "layout_type": "DOME"}'))$$) AS unknown_layout;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => '{"name": "Dome"}'))$$) AS no_layout;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => '{"layout_type": "GENERAL"}'))$$) AS no_name;
SELECT t.try($$SELECT evently.api_template_create(t.id('admin'), t.req(body => jsonb_build_object(
                   'name', 'Dome', 'layout_type', 'GENERAL', 'description', repeat('d', 1001))))$$) AS long_description;
SELECT count(*) AS domes FROM evently.venue_templates WHERE name = 'Dome';

-- Read one: ADMIN only; unknown ids are EV002
SELECT evently.api_template_get(t.id('admin'), t.req(path => t.tpl('arena'))) ->> 'layout_type' AS arena_layout;
SELECT t.try($$SELECT evently.api_template_get(t.id('alice'), t.req(path => t.tpl('arena')))$$) AS user_reads;
SELECT t.try($$SELECT evently.api_template_get(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_template;

-- Sections: the seats are generated with them; a total_seats that is not
-- rows x seats_per_row is refused and leaves nothing behind
SELECT jsonb_pretty(t.scrub(evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
         '{"name": "Floor", "description": "standing", "row_start": "1", "row_end": "3", "seats_per_row": 4,
           "total_seats": 12}'))::text)::jsonb);
SELECT t.remember('floor', id) FROM evently.venue_sections WHERE template_id = t.id('arena') AND name = 'Floor';
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Upper", "row_start": "A", "row_end": "B", "seats_per_row": 4, "total_seats": 9}'))$$) AS total_mismatch;
SELECT count(*) AS uppers FROM evently.venue_sections WHERE name = 'Upper';
-- without total_seats, and rows as letters
SELECT t.remember('upper', (evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
         '{"name": "Upper", "row_start": "A", "row_end": "B", "seats_per_row": 3}')) ->> 'id')::uuid);
SELECT t.try($$SELECT evently.api_section_create(t.id('alice'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Pit", "row_start": "A", "row_end": "A", "seats_per_row": 2}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}', body =>
                   '{"name": "Pit", "row_start": "A", "row_end": "A", "seats_per_row": 2}'))$$) AS unknown_template;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Floor", "row_start": "A", "row_end": "A", "seats_per_row": 2}'))$$) AS same_name;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Pit", "row_start": "A", "row_end": "A", "seats_per_row": 0}'))$$) AS no_seats_per_row;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Pit", "row_start": "C", "row_end": "A", "seats_per_row": 2}'))$$) AS rows_downwards;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Pit", "row_start": "A", "row_end": "3", "seats_per_row": 2}'))$$) AS letters_to_numbers;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   jsonb_build_object('name', 'Pit', 'row_start', 'A', 'row_end', 'A', 'seats_per_row', 2,
                                      'description', repeat('d', 501))))$$) AS long_description;
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('hall'), body =>
                   '{"name": "Pit", "row_start": "A", "row_end": "A", "seats_per_row": 2}'))$$) AS template_in_use;
-- the template's sections, by name, each with its template
SELECT s ->> 'name' AS section, s ->> 'total_seats' AS seats, s ->> 'row_start' AS row_start, s ->> 'row_end' AS row_end,
       s -> 'template' ->> 'name' AS template, s -> 'template' ->> 'layout_type' AS layout
  FROM jsonb_array_elements(evently.api_sections_list(t.id('admin'), t.req(path => t.tpl('arena')))) s;
SELECT t.try($$SELECT evently.api_sections_list(t.id('alice'), t.req(path => t.tpl('arena')))$$) AS user_lists_sections;

-- Seats: the public list of a section in row order, one seat with its section
SELECT string_agg(format('%s(%s/%s)', s ->> 'seat_number', s ->> 'row', s ->> 'position'), ' ') AS floor_seats,
       bool_and(NOT s ? 'section') AS without_section
  FROM jsonb_array_elements(evently.api_section_seats(NULL, t.req(path => jsonb_build_object('sectionId', t.id('floor'))))) s;
SELECT t.remember('f11', t.seat_id('floor', '1-1')), t.remember('f12', t.seat_id('floor', '1-2')),
       t.remember('f13', t.seat_id('floor', '1-3')), t.remember('f14', t.seat_id('floor', '1-4'));
SELECT jsonb_pretty(t.scrub(evently.api_seat_get(t.id('bob'), t.req(path => t.tpl('f11')))::text)::jsonb);
SELECT t.try($$SELECT evently.api_seat_get(t.id('bob'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_seat;

-- Seat updates: a label, or blocking; the refusals
SELECT s ->> 'seat_number' AS seat_number, s ->> 'row' AS "row", s ->> 'position' AS position
  FROM evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f14'), body => '{"seat_number": "1-4b"}')) s;
SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f14'), body => '{"seat_number": "1-4"}')) ->> 'seat_number' AS renamed_back;
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f14'), body => '{"seat_number": "1-1"}'))$$) AS number_taken;
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f11'), body => '{"status": "BROKEN"}'))$$) AS unknown_status;
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f11'), body => '{"status": "blocked"}'))$$) AS status_in_lower_case;
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f11'), body => '{"status": "HELD"}'))$$) AS inventory_status;
SELECT t.try($$SELECT evently.api_seat_update(t.id('alice'), t.req(path => t.tpl('f11'), body => '{"status": "BLOCKED"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_seat_update(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}', body => '{"status": "BLOCKED"}'))$$) AS unknown_seat;
-- seat 1-1 blocked before any event: the events made later do not sell it
SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f11'), body => '{"status": "BLOCKED"}')) ->> 'status' AS blocked;

-- An event on the template (and a second one, cancelled)
SELECT t.remember('derby', (t.create_event(jsonb_build_object('name', 'Derby', 'venue', 'Arena', 'venue_template_id', t.id('arena'),
         'date_time', '2099-03-01T18:00:00Z', 'base_price', 10, 'tags', '[]'::jsonb,
         'section_pricing', jsonb_build_array(jsonb_build_object('section_id', t.id('upper'), 'price_multiplier', 3)))) ->> 'id')::uuid);
SELECT t.remember('derby_off', (t.create_event(jsonb_build_object('name', 'Derby Off', 'venue', 'Arena', 'venue_template_id', t.id('arena'),
         'date_time', '2099-03-02T18:00:00Z', 'base_price', 10, 'tags', '[]'::jsonb, 'section_pricing', '[]'::jsonb)) ->> 'id')::uuid);
SELECT t.update_event('derby_off', '{"status": "cancelled"}') ->> 'status' AS derby_off;
SELECT e ->> 'total_capacity' AS capacity, e ->> 'available_tickets' AS available
  FROM evently.event_json(t.id('derby')) e;
SELECT t.seat('derby', '1-1') AS blocked_in_the_event, t.seat('derby', 'A1') AS upper_seat;
-- the free seats of a section for an event: the event is required
SELECT jsonb_array_length(evently.api_section_seats_available(NULL, t.req(path => jsonb_build_object('sectionId', t.id('floor')),
                                                                     query => jsonb_build_object('event_id', t.id('derby'))))) AS free_floor_seats;
SELECT t.try($$SELECT evently.api_section_seats_available(NULL, t.req(path => jsonb_build_object('sectionId', t.id('floor'))))$$) AS without_event;
SELECT t.try($$SELECT evently.api_section_seats_available(NULL, t.req(path => jsonb_build_object('sectionId', t.id('floor')),
                                                                       query => '{"event_id": "derby"}'))$$) AS event_not_a_uuid;

-- Blocking a seat now also blocks it in the inventory of events to come
-- (not in a cancelled one), where it is neither held nor sold
SELECT t.remember('derby_h', (evently.hold_seats(t.id('derby'), t.id('bob'), t.seats('derby', '1-3')) ->> 'hold_id')::uuid);
SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f12'), body => '{"status": "BLOCKED"}')) ->> 'status' AS f12,
       evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f13'), body => '{"status": "BLOCKED"}')) ->> 'status' AS f13;
SELECT t.seat('derby', '1-2') AS free_seat_blocked, t.seat('derby', '1-3') AS held_seat_untouched,
       t.seat('derby_off', '1-2') AS cancelled_event_untouched;
SELECT t.try($$SELECT evently.hold_seats(t.id('derby'), t.id('carol'), t.seats('derby', '1-2'))$$) AS hold_blocked_seat;
SELECT jsonb_array_length(evently.api_section_seats_available(NULL, t.req(path => jsonb_build_object('sectionId', t.id('floor')),
                                                                     query => jsonb_build_object('event_id', t.id('derby'))))) AS free_floor_seats;
-- and unblocking frees it again
SELECT evently.api_seat_update(t.id('admin'), t.req(path => t.tpl('f12'), body => '{"status": "AVAILABLE"}')) ->> 'status' AS f12;
SELECT t.seat('derby', '1-2') AS unblocked, (evently.event_json(t.id('derby')) ->> 'available_tickets') AS available;

-- The shape is fixed now: no section or seat comes or goes, the template stays
SELECT t.try($$SELECT evently.api_section_create(t.id('admin'), t.req(path => t.tpl('arena'), body =>
                   '{"name": "Late", "row_start": "A", "row_end": "A", "seats_per_row": 2}'))$$) AS add_section;
SELECT t.try($$SELECT evently.api_section_delete(t.id('admin'), t.req(path => t.tpl('floor')))$$) AS delete_section;
SELECT t.try($$SELECT evently.api_seat_delete(t.id('admin'), t.req(path => t.tpl('f14')))$$) AS delete_seat;
SELECT t.try($$SELECT evently.api_template_delete(t.id('admin'), t.req(path => t.tpl('arena')))$$) AS delete_template;
SELECT (SELECT count(*) FROM evently.venue_sections WHERE template_id = t.id('arena')) AS sections,
       (SELECT count(*) FROM evently.seats s JOIN evently.venue_sections v ON v.id = s.section_id
         WHERE v.template_id = t.id('arena')) AS seats;
-- but a section may be renamed and described, and the event shows it
SELECT s ->> 'name' AS name, s ->> 'description' AS description
  FROM evently.api_section_update(t.id('admin'), t.req(path => t.tpl('upper'), body => '{"name": "Balcony", "description": "up high"}')) s;
SELECT t.section_of(evently.event_json(t.id('derby'), true), 'Balcony') ->> 'price' AS balcony_price,
       t.section_of(evently.event_json(t.id('derby'), true), 'Balcony') ->> 'description' AS balcony_description;
SELECT evently.api_section_update(t.id('admin'), t.req(path => t.tpl('upper'), body => '{}')) ->> 'name' AS empty_update_keeps;
SELECT t.try($$SELECT evently.api_section_update(t.id('admin'), t.req(path => t.tpl('upper'), body => '{"name": "Floor"}'))$$) AS name_taken;
SELECT t.try($$SELECT evently.api_section_update(t.id('alice'), t.req(path => t.tpl('upper'), body => '{"name": "Mine"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_section_update(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}', body => '{"name": "X"}'))$$) AS unknown_section;

-- Template updates: every field; names stay unique; allowed while in use
SELECT jsonb_pretty(t.scrub(evently.api_template_update(t.id('admin'), t.req(path => t.tpl('arena'), body =>
         '{"name": "Big Arena", "description": "bigger", "layout_type": "conference",
           "default_rows": 12, "default_seats_per_row": 30}'))::text)::jsonb);
SELECT evently.api_template_update(t.id('admin'), t.req(path => t.tpl('arena'), body => '{}')) ->> 'name' AS empty_update_keeps;
SELECT t.try($$SELECT evently.api_template_update(t.id('admin'), t.req(path => t.tpl('arena'), body => '{"name": "Test Hall"}'))$$) AS name_taken;
SELECT t.try($$SELECT evently.api_template_update(t.id('admin'), t.req(path => t.tpl('arena'), body => '{"layout_type": "dome"}'))$$) AS unknown_layout;
SELECT t.try($$SELECT evently.api_template_update(t.id('alice'), t.req(path => t.tpl('arena'), body => '{"name": "Mine"}'))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_template_update(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}', body => '{"name": "X"}'))$$) AS unknown_template;
SELECT name, layout_type, default_rows, default_seats_per_row FROM evently.venue_templates WHERE id = t.id('arena');

-- An unused template changes shape freely, and is deleted with its
-- sections and seats; defaults grow with the sections when not given
SELECT t.remember('shed', (evently.api_template_create(t.id('admin'), t.req(body => '{"name": "Shed", "layout_type": "general"}')) ->> 'id')::uuid);
SELECT t.remember('shed_a', (evently.api_section_create(t.id('admin'), t.req(path => t.tpl('shed'), body =>
         '{"name": "Left", "row_start": "1", "row_end": "2", "seats_per_row": 3}')) ->> 'id')::uuid);
SELECT t.remember('shed_b', (evently.api_section_create(t.id('admin'), t.req(path => t.tpl('shed'), body =>
         '{"name": "Right", "row_start": "A", "row_end": "A", "seats_per_row": 5}')) ->> 'id')::uuid);
SELECT default_rows, default_seats_per_row FROM evently.venue_templates WHERE id = t.id('shed');
SELECT evently.api_seat_delete(t.id('admin'), t.req(path => jsonb_build_object('id', t.seat_id('shed_b', 'A5')))) IS NULL AS seat_deleted;
SELECT string_agg(s ->> 'seat_number', ' ') AS right_seats
  FROM jsonb_array_elements(evently.api_section_seats(NULL, t.req(path => jsonb_build_object('sectionId', t.id('shed_b'))))) s;
SELECT evently.api_section_delete(t.id('admin'), t.req(path => t.tpl('shed_b'))) IS NULL AS section_deleted;
SELECT string_agg(s ->> 'name', ' ') AS sections_left
  FROM jsonb_array_elements(evently.api_sections_list(t.id('admin'), t.req(path => t.tpl('shed')))) s;
SELECT t.try($$SELECT evently.api_section_delete(t.id('admin'), t.req(path => t.tpl('shed_b')))$$) AS section_delete_twice;
SELECT t.try($$SELECT evently.api_section_delete(t.id('alice'), t.req(path => t.tpl('shed_a')))$$) AS user_deletes_section;
SELECT t.try($$SELECT evently.api_seat_delete(t.id('alice'), t.req(path => jsonb_build_object('id', t.seat_id('shed_a', '1-1'))))$$) AS user_deletes_seat;
SELECT t.try($$SELECT evently.api_seat_delete(t.id('admin'), t.req(path => '{"id": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_seat;
SELECT t.try($$SELECT evently.api_template_delete(t.id('alice'), t.req(path => t.tpl('shed')))$$) AS user_deletes_template;
SELECT evently.api_template_delete(t.id('admin'), t.req(path => t.tpl('shed'))) IS NULL AS template_deleted;
SELECT t.try($$SELECT evently.api_template_get(t.id('admin'), t.req(path => t.tpl('shed')))$$) AS read_deleted;
SELECT t.try($$SELECT evently.api_template_delete(t.id('admin'), t.req(path => t.tpl('shed')))$$) AS delete_twice;
SELECT (SELECT count(*) FROM evently.venue_sections WHERE id = t.id('shed_a')) AS sections,
       (SELECT count(*) FROM evently.seats WHERE section_id = t.id('shed_a')) AS seats;

-- The template list: sorted by name (default) or time, either way, in pages;
-- filtered by layout (any case) and by a search over name and description
SELECT t.templates('{}') AS by_name;
SELECT t.templates('{"sort_order": "desc"}') AS by_name_desc;
SELECT t.templates('{"sort_by": "created_at"}') AS oldest_first;
SELECT t.templates('{"sort_by": "created_at", "sort_order": "desc", "limit": "2"}') AS newest_two;
SELECT t.templates('{"sort_by": "created_at", "sort_order": "desc", "limit": "2", "page": "3"}') AS page_3;
SELECT t.templates('{"sort_by": "updated_at", "sort_order": "desc", "limit": "1"}') AS last_updated;
SELECT t.templates('{"layout_type": "conference"}') AS conference;
SELECT t.templates('{"layout_type": "GENERAL"}') AS general;
SELECT t.templates('{"search": "HALL"}') AS hall_by_name;
SELECT t.templates('{"search": "bigger"}') AS by_description;
SELECT q AS query, t.try(format('SELECT evently.api_templates_list(t.id(''admin''), %L)', t.req(query => q))) AS outcome
  FROM (VALUES ('{"sort_by": "layout_type"}'::jsonb), ('{"sort_order": "up"}'), ('{"limit": "0"}'),
               ('{"limit": "101"}'), ('{"page": "x"}')) v(q);
SELECT t.try($$SELECT evently.api_templates_list(t.id('alice'), t.req())$$) AS user_lists;

-- Who changed what: every update and delete above is audited with its ADMIN
SELECT action, count(*), count(*) FILTER (WHERE actor_id = t.id('admin')) AS by_admin FROM evently.audit_log
 WHERE action ~ '^(venue_template|venue_section|seat)\.(updated|deleted)$' GROUP BY action ORDER BY action;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
