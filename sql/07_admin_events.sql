-- The event routes' SQL, as the shim calls it and a DBA may:
-- evently.api_<route>(actor, {"path", "query", "body"}).  Create, read,
-- update (each field; unsold seats repriced; cancelled and completed are
-- final), cancel (holds released, waitlist closed), delete (only if never
-- held), the public and ADMIN lists with their filters and pages, upcoming
-- events, sections and the seat layout.
SET client_min_messages = warning;

-- A POST /admin/events body on the test hall (Front x2), with changes.
CREATE FUNCTION t.event_body(changes jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_object('name', 'Jazz Night', 'venue', 'Blue Room', 'venue_template_id', t.id('hall'),
                          'description', 'Quartet', 'date_time', '2099-06-01T20:00:00Z', 'base_price', 0,
                          'image_url', 'https://img.example/jazz.png', 'tags', '["live-music"]'::jsonb,
                          'section_pricing', jsonb_build_array(jsonb_build_object(
                              'section_id', t.id('front'), 'price_multiplier', 2))) || changes;
CREATE FUNCTION t.create_event(changes jsonb DEFAULT '{}') RETURNS jsonb LANGUAGE sql
RETURN evently.api_event_create(t.id('admin'), t.req(body => t.event_body(changes)));
CREATE FUNCTION t.update_event(label text, body jsonb, actor text DEFAULT 'admin') RETURNS jsonb LANGUAGE sql
RETURN evently.api_event_update(t.id(actor), t.req(path => t.ev(label), body => body));
-- One line per list page: names in order, then the page figures.
CREATE FUNCTION t.page_of(doc jsonb, key text DEFAULT 'events') RETURNS text LANGUAGE sql IMMUTABLE
RETURN format('[%s] total %s, page %s, limit %s, pages %s',
              (SELECT string_agg(e ->> 'name', ', ') FROM jsonb_array_elements(doc -> key) e),
              doc ->> 'total_count', doc ->> 'page', doc ->> 'limit', doc ->> 'total_pages');
CREATE FUNCTION t.list(query jsonb) RETURNS text LANGUAGE sql STABLE
RETURN t.page_of(evently.api_events_list(NULL, t.req(query => query)));
-- A section of an event read, by name.
CREATE FUNCTION t.section_of(doc jsonb, name text) RETURNS jsonb LANGUAGE sql IMMUTABLE
RETURN (SELECT s FROM jsonb_array_elements(doc -> 'venue_sections') s WHERE s ->> 'name' = section_of.name);
-- One seat of an event's inventory: status and price.
CREATE FUNCTION t.seat(event_label text, number text) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT format('%s %s %s', seat_number, status, price) FROM evently.event_seats(t.id(event_label))
         WHERE seat_number = number);

-- Create: the data object of POST /admin/events; base_price 0 is allowed,
-- sections not priced cost the base price, the tags are slugs
SELECT t.remember('jazz', (t.create_event() ->> 'id')::uuid);
SELECT jsonb_pretty(t.scrub(evently.api_admin_event_get(t.id('admin'), t.req(path => t.ev('jazz')))::text)::jsonb);
SELECT date_time = '2099-06-01T20:00:00Z' AS date_as_given, t.scrub(created_by::text) AS created_by
  FROM evently.events WHERE id = t.id('jazz');
-- the public read is the same document
SELECT evently.api_event_get(NULL, t.req(path => t.ev('jazz')))
       = evently.api_admin_event_get(t.id('admin'), t.req(path => t.ev('jazz'))) AS public_read_same;
SELECT type, t.scrub(user_id::text) AS by, data ->> 'name' AS name, data ->> 'capacity' AS capacity
  FROM evently.outbox WHERE event_id = t.id('jazz');

-- Create refusals; none leaves an event behind
CREATE TEMP TABLE events_before AS SELECT count(*) AS n FROM evently.events;
SELECT t.try($$SELECT evently.api_event_create(t.id('alice'), t.req(body => t.event_body()))$$) AS user_actor;
SELECT t.try($$SELECT evently.api_event_create(gen_random_uuid(), t.req(body => t.event_body()))$$) AS unknown_actor;
SELECT t.try($$SELECT t.create_event('{"date_time": "2001-01-01T00:00:00Z"}')$$) AS past_date;
SELECT t.try($$SELECT t.create_event('{"date_time": "2099-01-01T00:00:00"}')$$) AS date_without_zone;
SELECT t.try($$SELECT t.create_event('{"date_time": "next friday"}')$$) AS date_in_words;
SELECT t.try($$SELECT t.create_event('{"date_time": "2099-02-30T00:00:00Z"}')$$) AS february_30;
SELECT t.try($$SELECT t.create_event('{"tags": ["polka"]}')$$) AS unknown_tag;
SELECT t.try($$SELECT t.create_event('{"section_pricing": [{"section_id": "00000000-0000-4000-8000-000000000000", "price_multiplier": 1}]}')$$) AS unknown_section;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('section_pricing', jsonb_build_array(
                   jsonb_build_object('section_id', t.id('hall2_sec'), 'price_multiplier', 1))))$$) AS section_of_another_template;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('section_pricing', jsonb_build_array(
                   jsonb_build_object('section_id', t.id('front'), 'price_multiplier', 1),
                   jsonb_build_object('section_id', t.id('front'), 'price_multiplier', 2))))$$) AS priced_twice;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('section_pricing', jsonb_build_array(
                   jsonb_build_object('section_id', t.id('front'), 'price_multiplier', 11))))$$) AS multiplier_11;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('section_pricing', jsonb_build_array(
                   jsonb_build_object('section_id', t.id('front'), 'price_multiplier', 0.05))))$$) AS multiplier_005;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('section_pricing', jsonb_build_array(
                   jsonb_build_object('section_id', t.id('front'), 'price_multiplier', '2'))))$$) AS multiplier_as_text;
SELECT t.try($$SELECT t.create_event('{"section_pricing": [{"section_id": "Front", "price_multiplier": 2}]}')$$) AS section_by_name;
SELECT t.try($$SELECT t.create_event('{"section_pricing": [2]}')$$) AS pricing_item_not_object;
SELECT t.try($$SELECT t.create_event('{"base_price": -1}')$$) AS negative_price;
SELECT t.try($$SELECT t.create_event('{"base_price": 1e10}')$$) AS price_too_big;
SELECT t.try($$SELECT t.create_event('{"name": "   "}')$$) AS blank_name;
SELECT t.try($$SELECT t.create_event('{"venue_template_id": "00000000-0000-4000-8000-000000000000"}')$$) AS unknown_template;
SELECT t.remember('bare', evently.create_venue_template('Bare Hall'));
SELECT t.try($$SELECT t.create_event(jsonb_build_object('venue_template_id', t.id('bare'), 'section_pricing', '[]'::jsonb))$$) AS template_without_seats;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('description', repeat('d', 2001)))$$) AS long_description;
SELECT t.try($$SELECT t.create_event(jsonb_build_object('venue', repeat('v', 256)))$$) AS long_venue;
SELECT (SELECT count(*) FROM evently.events) - n AS events_left_behind FROM events_before;

-- Reads: ADMIN only for the admin route; unknown ids are EV002
SELECT t.try($$SELECT evently.api_admin_event_get(t.id('alice'), t.req(path => t.ev('jazz')))$$) AS user_reads_admin_route;
SELECT t.try($$SELECT evently.api_admin_event_get(t.id('admin'), t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS unknown_event;
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS public_unknown_event;

-- Update, field by field: each change shows in the next read
SELECT t.update_event('jazz', '{"name": "Jazz Night II"}') ->> 'name' AS name;
SELECT t.update_event('jazz', '{"description": "Quintet"}') ->> 'description' AS description;
SELECT t.update_event('jazz', '{"venue": "Green Room"}') ->> 'venue' AS venue;
SELECT t.update_event('jazz', '{"image_url": "https://img.example/jazz2.png"}') ->> 'image_url' AS image_url;
SELECT (t.update_event('jazz', '{"date_time": "2099-07-01T20:00:00+02:00"}') ->> 'date_time')::timestamptz
       = '2099-07-01T18:00:00Z' AS date_moved;
SELECT t.update_event('jazz', '{"tags": ["rock", "live-music"]}') -> 'tags' @> '[{"name": "Hard Rock"}, {"name": "Live Music"}]' AS two_tags;
SELECT jsonb_array_length(t.update_event('jazz', '{"tags": ["rock"]}') -> 'tags') AS tags_replaced;
SELECT t.update_event('jazz', '{"tags": []}') -> 'tags' AS tags_cleared;
SELECT t.update_event('jazz', '{"status": "published"}') ->> 'status' AS still_published;
-- an empty body changes nothing but is still recorded
SELECT t.update_event('jazz', '{}') ->> 'name' AS unchanged;
SELECT e.name, e.description, e.venue, e.image_url, e.status, t.scrub(e.updated_by::text) AS updated_by,
       (SELECT count(*) FROM evently.event_tags WHERE event_id = e.id) AS tags
  FROM evently.events e WHERE e.id = t.id('jazz');
SELECT type, count(*), count(*) FILTER (WHERE user_id = t.id('admin')) AS by_admin FROM evently.outbox
 WHERE event_id = t.id('jazz') GROUP BY type ORDER BY type;
SELECT action, count(*), count(*) FILTER (WHERE actor_id = t.id('admin')) AS by_admin FROM evently.audit_log
 WHERE object_id = t.id('jazz') GROUP BY action ORDER BY action;

-- The base price reprices every section and the seats not yet sold
SELECT t.section_of(u, 'Front') ->> 'price' AS front, t.section_of(u, 'Back') ->> 'price' AS back,
       t.section_of(u, 'Box') ->> 'price' AS box, u ->> 'base_price' AS base_price
  FROM t.update_event('jazz', '{"base_price": 100}') u;
SELECT t.seat('jazz', 'A3') AS front_seat, t.seat('jazz', '1-2') AS back_seat, t.seat('jazz', 'Z1') AS box_seat;
-- then: A1 sold to bob, Z2 blocked, A2 held by alice, and the price moves again
SELECT t.book('jazz_b', 'jazz', 'bob', 'A1');
UPDATE evently.event_seats SET status = 'BLOCKED' WHERE event_id = t.id('jazz') AND seat_id = (t.seats('jazz', 'Z2'))[1];
SELECT t.remember('jazz_h', (evently.hold_seats(t.id('jazz'), t.id('alice'), t.seats('jazz', 'A2')) ->> 'hold_id')::uuid);
SELECT t.section_of(u, 'Front') ->> 'price' AS front, u ->> 'base_price' AS base_price
  FROM t.update_event('jazz', '{"base_price": 150.5}') u;
SELECT t.seat('jazz', 'A3') AS available, t.seat('jazz', 'Z2') AS blocked, t.seat('jazz', 'A1') AS sold;
-- the sale and the live hold keep the price they were made at
SELECT (SELECT seat_price FROM evently.tickets WHERE booking_id = t.id('jazz_b')) AS ticket_price,
       (SELECT total_price FROM evently.bookings WHERE id = t.id('jazz_b')) AS booking_total,
       evently.hold_json(t.id('jazz_h')) ->> 'total_price' AS hold_total;

-- Update refusals; a refused update changes nothing
SELECT t.try($$SELECT t.update_event('jazz', '{"name": "Mine"}', 'alice')$$) AS user_actor;
SELECT t.try($$SELECT evently.api_event_update(t.id('admin'), t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}', body => '{"name": "Ghost"}'))$$) AS unknown_event;
SELECT t.try($$SELECT t.update_event('jazz', '{"name": "JN"}')$$) AS name_of_2;
SELECT t.try($$SELECT t.update_event('jazz', jsonb_build_object('name', repeat('n', 256)))$$) AS name_of_256;
SELECT t.try($$SELECT t.update_event('jazz', '{"name": "   "}')$$) AS blank_name;
SELECT t.try($$SELECT t.update_event('jazz', '{"base_price": -0.01}')$$) AS negative_price;
SELECT t.try($$SELECT t.update_event('jazz', '{"base_price": 1e10}')$$) AS price_too_big;
SELECT t.try($$SELECT t.update_event('jazz', '{"date_time": "2001-01-01T00:00:00Z"}')$$) AS past_date;
SELECT t.try($$SELECT t.update_event('jazz', '{"date_time": "2099-01-01"}')$$) AS date_without_time;
SELECT t.try($$SELECT t.update_event('jazz', '{"status": "draft"}')$$) AS unknown_status;
SELECT t.try($$SELECT t.update_event('jazz', '{"tags": ["polka"], "name": "Polka Night"}')$$) AS unknown_tag;
SELECT t.try($$SELECT t.update_event('jazz', jsonb_build_object('description', repeat('d', 2001)))$$) AS long_description;
SELECT t.try($$SELECT t.update_event('jazz', jsonb_build_object('venue', repeat('v', 256)))$$) AS long_venue;
SELECT t.try($$SELECT t.update_event('jazz', jsonb_build_object('image_url', repeat('u', 501)))$$) AS long_image_url;
SELECT name, base_price, (SELECT count(*) FROM evently.event_tags WHERE event_id = e.id) AS tags
  FROM evently.events e WHERE id = t.id('jazz');

-- The seat layout: every seat with its status; a held seat is HELD
-- (is_held), a lapsed hold's seat AVAILABLE, sold and blocked seats neither
SELECT t.remember('jazz_lapsed', (evently.hold_seats(t.id('jazz'), t.id('carol'), t.seats('jazz', 'A4')) ->> 'hold_id')::uuid);
SELECT t.lapse('jazz_lapsed');
SELECT t.scrub(l ->> 'event_id') AS event, l ->> 'event_name' AS name, l ->> 'base_price' AS base_price,
       t.scrub((l -> 'venue_info')::text) AS venue_info, l ->> 'total_seats' AS total, l ->> 'available_seats' AS available
  FROM evently.api_event_layout(t.id('alice'), t.req(path => t.ev('jazz'))) l;
SELECT s ->> 'name' AS section, s ->> 'price' AS price, s ->> 'price_multiplier' AS multiplier,
       s ->> 'available_seats' AS available, s ->> 'total_seats' AS total,
       (SELECT string_agg(format('%s:%s%s', x ->> 'seat_number', x ->> 'status',
                                 CASE WHEN (x ->> 'is_held')::boolean THEN '(held)' ELSE '' END), ' ')
          FROM jsonb_array_elements(s -> 'seats') x WHERE x ->> 'status' <> 'AVAILABLE') AS not_available,
       (SELECT string_agg(DISTINCT x ->> 'price', ' ') FROM jsonb_array_elements(s -> 'seats') x
         WHERE x ->> 'status' = 'AVAILABLE') AS prices_of_free_seats
  FROM jsonb_array_elements(evently.api_event_layout(t.id('alice'), t.req(path => t.ev('jazz'))) -> 'sections') s;
SELECT t.try($$SELECT evently.api_event_layout(t.id('alice'), t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS layout_of_unknown_event;
-- the sections of the event's template, by name, without prices
SELECT string_agg(format('%s:%s', s ->> 'name', s ->> 'total_seats'), ' ') AS sections,
       bool_and(s ->> 'template_id' = t.id('hall')::text) AS of_the_hall, bool_and(NOT s ? 'price') AS unpriced
  FROM jsonb_array_elements(evently.api_event_sections(t.id('admin'), t.req(path => t.ev('jazz')))) s;
SELECT t.try($$SELECT evently.api_event_sections(t.id('alice'), t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS sections_of_unknown_event;

-- Lists: every event soonest first, then pages of 3
SELECT t.remember('finale', (t.create_event('{"name": "Finale", "venue": "Main Hall", "date_time": "2099-12-31T22:00:00Z",
                                             "description": "last night", "tags": ["rock"]}') ->> 'id')::uuid);
SELECT t.list('{}') AS everything;
SELECT t.list('{"limit": "3"}') AS page_1;
SELECT t.list('{"limit": "3", "page": "3"}') AS page_3;
SELECT t.list('{"limit": "3", "page": "4"}') AS past_the_end;
-- search: case-insensitive, over name, description and venue
-- ('Finale' by its description, 'last night')
SELECT t.list('{"search": "NIGHT"}') AS night;
SELECT t.list('{"search": "quint"}') AS in_descriptions;
SELECT t.list('{"search": "green"}') AS in_venues;
SELECT t.list('{"search": "''; DROP TABLE evently.events; --"}') AS metacharacters_are_text;
SELECT t.list('{"venue": "main hall"}') AS by_venue;
-- tags by name; several match any of them
SELECT t.list('{"tags": "Live Music"}') AS one_tag;
SELECT t.list('{"tags": "Live Music,Hard Rock"}') AS either_tag;
SELECT t.list('{"tags": "live-music"}') AS slugs_are_not_names;
SELECT t.list('{"status": "completed"}') AS none_completed;
SELECT t.list('{"status": "published", "venue": "hall", "limit": "1", "page": "2"}') AS filters_combine;
-- dates are days in the session's time zone, both ends included
SELECT t.list(jsonb_build_object('date_from', to_char(now() + interval '25 days', 'YYYY-MM-DD'),
                                 'date_to', '2099-06-30')) AS from_day_25_to_june_2099;
SELECT t.list(jsonb_build_object('date_to', to_char(now() + interval '9 days', 'YYYY-MM-DD'))) AS up_to_day_9;
SELECT t.list('{"date_from": "2099-07-01", "date_to": "2099-07-01"}') AS on_july_1_2099;
-- bad query parameters: EV001, naming the parameter
SELECT q AS query, t.try(format('SELECT evently.api_events_list(NULL, %L)', t.req(query => q))) AS outcome
  FROM (VALUES ('{"limit": "0"}'::jsonb), ('{"limit": "101"}'), ('{"limit": "-1"}'), ('{"page": "0"}'),
               ('{"page": "abc"}'), ('{"page": "1.5"}'), ('{"page": "99999999999"}'), ('{"status": "draft"}'),
               ('{"date_from": "yesterday"}'), ('{"date_to": "2026-13-45"}'), ('{"date_to": "2026-02-30"}')) v(q);
-- the ADMIN list is the same list, for ADMINs only
SELECT evently.api_admin_events_list(t.id('admin'), t.req(query => '{"search": "jazz"}'))
       = evently.api_events_list(NULL, t.req(query => '{"search": "jazz"}')) AS admin_list_same,
       t.page_of(evently.api_admin_events_list(t.id('admin'), t.req(query => '{"search": "jazz"}'))) AS admin_list;
SELECT t.try($$SELECT evently.api_admin_events_list(t.id('alice'), t.req())$$) AS user_lists_admin_route;
SELECT t.try($$SELECT evently.api_admin_events_list(t.id('admin'), t.req(query => '{"limit": "1000"}'))$$) AS admin_bad_limit;

-- Upcoming: published events still to come, soonest first ('Closed' is past)
CREATE FUNCTION t.upcoming(query jsonb) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT string_agg(e ->> 'name', ', ' ORDER BY n)
          FROM jsonb_array_elements(evently.api_events_upcoming(NULL, t.req(query => query))) WITH ORDINALITY x(e, n));
SELECT t.upcoming('{"limit": "3"}') AS first_three;
SELECT t.upcoming('{}') AS default_ten;
SELECT t.upcoming('{"limit": "-5"}') AS bad_limit_means_default, t.upcoming('{"limit": "x"}') AS text_limit_means_default;

-- Completed is final, and only for an event that has taken place
SELECT t.try($$SELECT t.update_event('finale', '{"status": "completed"}')$$) AS completed_before_it_happens;
UPDATE evently.events SET date_time = now() - interval '1 hour' WHERE id = t.id('finale');
SELECT t.update_event('finale', '{"status": "completed"}') ->> 'status' AS completed;
SELECT t.try($$SELECT t.update_event('finale', '{"name": "Encore"}')$$) AS update_completed;
SELECT t.try($$SELECT t.update_event('finale', '{"status": "published"}')$$) AS reopen_completed;
SELECT t.try($$SELECT evently.hold_seats(t.id('finale'), t.id('bob'), t.seats('finale', 'A1'))$$) AS hold_on_completed;
SELECT t.upcoming('{}') AS upcoming_without_finale;
SELECT t.list('{"status": "completed"}') AS one_completed;

-- Cancel through update: with a sale, a live hold, a waitlist offer and a
-- waiting user.  carol waits for 1 seat; dave's released hold is offered to
-- her; dave then waits too.
SELECT evently.join_waitlist(t.id('jazz'), t.id('carol')) ->> 'status' AS carol_waits;
SELECT t.remember('jazz_dave', (evently.hold_seats(t.id('jazz'), t.id('dave'), t.seats('jazz', 'B1')) ->> 'hold_id')::uuid);
SELECT evently.release_hold(t.id('jazz_dave'), t.id('dave')) ->> 'status' AS dave_releases;
SELECT evently.join_waitlist(t.id('jazz'), t.id('dave')) ->> 'status' AS dave_waits;
SELECT t.remember('jazz_offer', hold_id) FROM evently.waitlist_entries
 WHERE event_id = t.id('jazz') AND user_id = t.id('carol') AND status = 'NOTIFIED';
SELECT h.status, count(*) FROM evently.holds h WHERE h.event_id = t.id('jazz') GROUP BY 1 ORDER BY 1;
CREATE TEMP TABLE outbox_before AS SELECT max(id) AS id FROM evently.outbox;
SELECT u ->> 'status' AS status, u ->> 'available_tickets' AS available, u ->> 'booked_count' AS booked,
       u ->> 'total_capacity' AS capacity
  FROM t.update_event('jazz', '{"status": "cancelled"}') u;
-- the holds (the offer too) are released and their seats free; the
-- waitlist is closed; the sale is cancelled and refunded in full
SELECT t.scrub(h.id::text) AS hold, h.status FROM evently.holds h
 WHERE h.id IN (t.id('jazz_h'), t.id('jazz_offer'), t.id('jazz_lapsed')) ORDER BY 1;
SELECT count(*) FILTER (WHERE status = 'HELD') AS held_seats, count(*) FILTER (WHERE hold_id IS NOT NULL) AS seats_with_hold
  FROM evently.event_seats WHERE event_id = t.id('jazz');
SELECT t.scrub(user_id::text) AS user, status FROM evently.waitlist_entries WHERE event_id = t.id('jazz') ORDER BY position;
SELECT b.status, p.status AS payment, p.refund_amount = b.total_price AS refunded_in_full
  FROM evently.bookings b JOIN evently.payments p ON p.booking_id = b.id WHERE b.id = t.id('jazz_b');
-- for the bridge, each with its audit twin, by the admin: the released
-- holds, the refunded booking, and one event.cancelled (written last)
SELECT o.type, t.scrub(o.user_id::text) AS owner, o.data ->> 'status' AS status,
       (SELECT count(*) FROM evently.audit_log a
         WHERE a.action = o.type AND a.object_id = coalesce((o.data ->> 'hold_id')::uuid, (o.data ->> 'booking_id')::uuid,
                                                            o.event_id)
           AND a.actor_id = t.id('admin')) AS audited
  FROM evently.outbox o, outbox_before b WHERE o.id > b.id
 ORDER BY o.type = 'event.cancelled', o.type DESC, 2;
SELECT type AS written_last FROM evently.outbox WHERE event_id = t.id('jazz') ORDER BY id DESC LIMIT 1;
-- cancelled is final, and closed to holds and the waitlist
SELECT t.try($$SELECT t.update_event('jazz', '{"name": "Back from the dead"}')$$) AS update_cancelled;
SELECT t.try($$SELECT t.update_event('jazz', '{"status": "published"}')$$) AS reopen_cancelled;
SELECT t.try($$SELECT evently.hold_seats(t.id('jazz'), t.id('bob'), t.seats('jazz', 'A3'))$$) AS hold_on_cancelled;
SELECT t.try($$SELECT evently.join_waitlist(t.id('jazz'), t.id('alice'))$$) AS join_cancelled;
SELECT t.list('{"status": "cancelled"}') AS cancelled_list;
SELECT t.upcoming('{}') AS upcoming_without_jazz;

-- Delete: only an event never held; its waitlist goes with it
SELECT t.try($$SELECT evently.api_event_delete(t.id('admin'), t.req(path => t.ev('jazz')))$$) AS delete_held_event;
SELECT t.remember('nevermind', (t.create_event('{"name": "Never Mind"}') ->> 'id')::uuid);
SELECT evently.join_waitlist(t.id('nevermind'), t.id('bob')) ->> 'status' AS bob_waits;
SELECT t.try($$SELECT evently.api_event_delete(t.id('alice'), t.req(path => t.ev('nevermind')))$$) AS user_deletes;
SELECT t.try($$SELECT evently.api_event_delete(t.id('admin'), t.req(path => '{"eventId": "00000000-0000-4000-8000-000000000000"}'))$$) AS delete_unknown;
SELECT evently.api_event_delete(t.id('admin'), t.req(path => t.ev('nevermind'))) IS NULL AS deleted;
SELECT t.try($$SELECT evently.api_event_get(NULL, t.req(path => t.ev('nevermind')))$$) AS read_deleted;
SELECT t.try($$SELECT evently.api_event_delete(t.id('admin'), t.req(path => t.ev('nevermind')))$$) AS delete_twice;
SELECT (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('nevermind')) AS seats,
       (SELECT count(*) FROM evently.event_seat_counts WHERE event_id = t.id('nevermind')) AS counters,
       (SELECT count(*) FROM evently.waitlist_entries WHERE event_id = t.id('nevermind')) AS waiting,
       (SELECT count(*) FROM evently.event_pricing WHERE event_id = t.id('nevermind')) AS prices,
       (SELECT string_agg(t.scrub(actor_id::text), ',') FROM evently.audit_log
         WHERE action = 'event.deleted' AND object_id = t.id('nevermind')) AS deleted_by;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
