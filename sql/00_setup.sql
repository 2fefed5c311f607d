-- Fixtures and helpers shared by the regression files (they run in order,
-- in one database).  Ids are random, so results print labels, never uuids.
SET client_min_messages = warning;
CREATE SCHEMA t;

-- label -> id of every object the tests make
CREATE TABLE t.ids (label text PRIMARY KEY, id uuid NOT NULL UNIQUE);
CREATE FUNCTION t.id(label text) RETURNS uuid LANGUAGE sql STABLE
    RETURN (SELECT id FROM t.ids WHERE ids.label = id.label);
CREATE FUNCTION t.remember(label text, id uuid) RETURNS text LANGUAGE sql
    BEGIN ATOMIC INSERT INTO t.ids VALUES (label, id) RETURNING label; END;

-- Replace known ids by their labels, other uuids by <uuid>, times by <ts>.
CREATE FUNCTION t.scrub(msg text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT label, id FROM t.ids ORDER BY length(label) DESC LOOP
        msg := replace(msg, r.id::text, r.label);
    END LOOP;
    msg := regexp_replace(msg, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
    msg := regexp_replace(msg, '\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?', '<ts>', 'g');
    -- the regression driver's DateStyle: 'Sat Nov 21 12:32:49.847713 2026 PST'
    RETURN regexp_replace(msg, '[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d? \d\d:\d\d:\d\d(\.\d+)? \d{4}( [A-Z]{3,4})?', '<ts>', 'g');
END
$$;

-- Run a statement; report 'ok' or the error's SQLSTATE, message and detail.
CREATE FUNCTION t.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; msg text; detail text;
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN t.scrub(format('%s %s | %s', state, msg, detail));
END
$$;

-- Seats of an event by seat number ('A1', 'B2', ...), as an array.
CREATE FUNCTION t.seats(event_label text, VARIADIC numbers text[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(es.seat_id ORDER BY array_position(numbers, s.seat_number))
      FROM evently.event_seats es JOIN evently.seats s ON s.id = es.seat_id
     WHERE es.event_id = t.id(event_label) AND s.seat_number = ANY (numbers)
$$;

-- A REST adapter's request as the shim builds it (evently.api_*(actor, req)).
CREATE FUNCTION t.req(path jsonb DEFAULT '{}', query jsonb DEFAULT '{}', body jsonb DEFAULT '{}')
RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN jsonb_build_object('path', path, 'query', query, 'body', body);
-- {"eventId": <id of label>}
CREATE FUNCTION t.ev(label text) RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_object('eventId', t.id(label));

-- Move a hold's expiry into the past, as if its time had run out.
CREATE FUNCTION t.lapse(hold_label text) RETURNS void LANGUAGE sql AS $$
    UPDATE evently.holds SET expires_at = now() - interval '1 second' WHERE id = t.id(hold_label);
    UPDATE evently.event_seats SET held_until = now() - interval '1 second'
     WHERE hold_id = t.id(hold_label);
    UPDATE evently.tier_units SET held_until = now() - interval '1 second'
     WHERE hold_id = t.id(hold_label);
$$;

-- Do the slotted seat counters sum to the inventory, for every event and
-- status, and the tier counters to the units, for every tier and status?
CREATE FUNCTION t.counters_agree() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (
        SELECT FROM (SELECT event_id, status, count(*) AS n FROM evently.event_seats GROUP BY 1, 2) inventory
        FULL JOIN (SELECT event_id, status, sum(n) AS n FROM evently.event_seat_counts,
                          LATERAL (VALUES ('AVAILABLE', available), ('HELD', held),
                                          ('BOOKED', booked), ('BLOCKED', blocked)) v(status, n)
                    GROUP BY 1, 2) counted USING (event_id, status)
         WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0))
       AND NOT EXISTS (
        SELECT FROM (SELECT tier_id, status, count(*) AS n FROM evently.tier_units GROUP BY 1, 2) units
        FULL JOIN (SELECT tier_id, status, sum(n) AS n FROM evently.tier_unit_counts,
                          LATERAL (VALUES ('AVAILABLE', available), ('HELD', held), ('BOOKED', booked)) v(status, n)
                    GROUP BY 1, 2) counted USING (tier_id, status)
         WHERE coalesce(units.n, 0) <> coalesce(counted.n, 0))
$$;

-- Does every event's catalog match its tags, prices and sections right now?
CREATE FUNCTION t.catalogs_agree() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (SELECT FROM evently.events WHERE catalog <> evently._event_catalog(id, base_price))
$$;

-- Accounts
SELECT t.remember('admin', evently.create_user('admin@example.com', 'qwerty', 'Ada', 'Admin', 'ADMIN'));
SELECT t.remember('alice', evently.create_user('alice@example.com', 'qwerty', 'Alice', 'A'));
SELECT t.remember('bob', evently.create_user('bob@example.com', 'qwerty', 'Bob', 'B'));
SELECT t.remember('carol', evently.create_user('carol@example.com', 'qwerty', 'Carol', 'C'));
SELECT t.remember('dave', evently.create_user('dave@example.com', 'qwerty', 'Dave', 'D'));
SELECT email, role, password_hash LIKE '$2a$10$%' AS bcrypt_cost_10 FROM evently.users ORDER BY email;
SELECT evently.check_password('ALICE@example.com', 'qwerty') = t.id('alice') AS login_ok,
       evently.check_password('alice@example.com', 'wrong') IS NULL AS wrong_password_refused;

-- Account refusals
SELECT t.try($$SELECT evently.create_user('alice@EXAMPLE.com', 'qwerty', 'A', 'B')$$);
SELECT t.try($$SELECT evently.create_user('not-an-email', 'qwerty', 'A', 'B')$$);
SELECT t.try($$SELECT evently.create_user('x@example.com', 'short', 'A', 'B')$$);
SELECT t.try($$SELECT evently.create_user('x@example.com', repeat('p', 73), 'A', 'B')$$);
SELECT t.try($$SELECT evently.create_user('x@example.com', 'qwerty', '', 'B')$$);
SELECT t.try($$SELECT evently.create_user('x@example.com', 'qwerty', 'A', 'B', 'ROOT')$$);

-- Venues: a 3-section hall; rows are numbers or single letters
SELECT t.remember('hall', evently.create_venue_template('Test Hall', 'theater', 'for tests'));
SELECT t.remember('front', evently.add_section(t.id('hall'), 'Front', 'A', 'B', 5));
SELECT t.remember('back', evently.add_section(t.id('hall'), 'Back', '1', '3', 4));
SELECT t.remember('box', evently.add_section(t.id('hall'), 'Box', 'Z', 'Z', 2));
SELECT name, row_start, row_end, seats_per_row, total_seats FROM evently.venue_sections
 WHERE template_id = t.id('hall') ORDER BY name;
-- numeric rows get a dash: row 1 seat 11 and row 11 seat 1 must differ
SELECT string_agg(seat_number, ' ' ORDER BY "row", position) FROM evently.seats
 WHERE section_id = t.id('back');
SELECT t.remember('wide', evently.create_venue_template('Wide Hall'));
SELECT t.try($$SELECT evently.add_section(t.id('wide'), 'Long rows', '1', '11', 11)$$) AS rows_1_to_11_of_11;
SELECT count(DISTINCT seat_number) FROM evently.seats s JOIN evently.venue_sections v ON v.id = s.section_id
 WHERE v.template_id = t.id('wide');
SELECT layout_type, default_rows, default_seats_per_row FROM evently.venue_templates
 WHERE id = t.id('hall');

-- Venue refusals
SELECT t.try($$SELECT evently.create_venue_template('Test Hall')$$);
SELECT t.try($$SELECT evently.create_venue_template('Other', 'ARENA')$$);
SELECT t.try($$SELECT evently.add_section(t.id('hall'), 'Front', 'C', 'C', 5)$$);
SELECT t.try($$SELECT evently.add_section(t.id('hall'), 'Wide', 'C', 'C', 101)$$);
SELECT t.try($$SELECT evently.add_section(t.id('hall'), 'Odd', 'AA', 'AB', 5)$$);
SELECT t.try($$SELECT evently.add_section(t.id('hall'), 'Down', 'C', 'A', 5)$$);
SELECT t.try($$SELECT evently.add_section(gen_random_uuid(), 'X', 'A', 'A', 5)$$);

-- Events: the main one, a second on the same template, a short-limit one
SELECT t.remember('tag', evently.create_tag('Live Music', '#EF4444'));
SELECT t.remember('gig', evently.create_event('The Gig', t.id('hall'), now() + interval '30 days', 100,
                  t.id('admin'), 'Main Hall', NULL, '{"Front": 2.5, "Box": 10}', '{live-music}'));
SELECT t.remember('other', evently.create_event('Other Night', t.id('hall'), now() + interval '40 days', 50));
SELECT t.remember('tight', evently.create_event('Tight', t.id('hall'), now() + interval '50 days', 10,
                  settings => '{"max_seats_per_hold": 2, "max_seats_per_user": 3, "hold_ttl": "2 minutes"}'));
SELECT section, count(*), min(price), max(price), min(status) FROM evently.event_seats(t.id('gig'))
 GROUP BY section ORDER BY section;
SELECT (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('other')) AS other_inventory,
       (SELECT count(*) FROM evently.event_tags WHERE event_id = t.id('gig')) AS gig_tags;

-- Event refusals
SELECT t.try($$SELECT evently.create_event('Past', t.id('hall'), now() - interval '1 day', 10)$$);
SELECT t.try($$SELECT evently.create_event('Neg', t.id('hall'), now() + interval '1 day', -1)$$);
SELECT t.try($$SELECT evently.create_event('X', gen_random_uuid(), now() + interval '1 day', 1)$$);
SELECT t.try($$SELECT evently.create_event('X', t.id('hall'), now() + interval '1 day', 1, section_multipliers => '{"Balcony": 2}')$$);
SELECT t.try($$SELECT evently.create_event('X', t.id('hall'), now() + interval '1 day', 1, section_multipliers => '{"Front": 11}')$$);
SELECT t.try($$SELECT evently.create_event('X', t.id('hall'), now() + interval '1 day', 1, tags => '{jazz}')$$);
SELECT t.try($$SELECT evently.create_event('X', t.id('hall'), now() + interval '1 day', 1, settings => '{"max_seats_per_hold": 0}')$$);
SELECT t.try($$SELECT evently.create_event('X', t.id('hall'), now() + interval '1 day', 1, settings => '{"colour": "red"}')$$);
SELECT t.try($$SELECT evently.add_section(t.id('hall'), 'Late', 'C', 'C', 5)$$);

-- The error table the shim maps onto HTTP
SELECT * FROM evently.error_codes();
-- The SQL half raises these errors by name, never by a literal SQLSTATE
SELECT p.proname AS body_with_literal_sqlstate FROM pg_proc p
 WHERE p.pronamespace = 'evently'::regnamespace AND p.prosrc ~ '''EV[0-9]{3}''';
SELECT t.try($$SELECT evently._fail('NO_SUCH_ERROR', 'oops')$$) AS unknown_name_is_a_bug;
SELECT t.try($$SELECT evently._require(NULL, 'NOT_FOUND', 'thing not found', 'No thing has id 7.')$$) AS null_fails;
SELECT t.try($$SELECT evently._require(true, 'NOT_FOUND', 'thing not found')$$) AS true_passes;
DO $$
DECLARE
    hint text;
BEGIN
    PERFORM evently._require(false, 'SEAT_UNAVAILABLE', 'seat is taken', 'Seat 1.', 'Pick another seat.');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RAISE WARNING 'hint: %', hint;
END
$$;

-- Hold seats and confirm them: a booking, remembered under label.
CREATE FUNCTION t.book(label text, event_label text, user_label text, VARIADIC numbers text[])
RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label, (evently.confirm_booking(
               (evently.hold_seats(t.id(event_label), t.id(user_label),
                                   t.seats(event_label, VARIADIC numbers)) ->> 'hold_id')::uuid,
               t.id(user_label)) ->> 'booking_id')::uuid)
$$;
