-- An organizer's back office (92_organizer_views.sql, issue 11 item 4): its
-- events, an event's dashboard, attendees (JSON pages and CSV) and bookings.
-- Self-contained: its own ADMIN, two verified organizers, a venue, events
-- through the lifecycle, buyers (some with hostile names) booking, a
-- cancellation, holds and a waitlist.  Every figure of the dashboard is
-- compared with a direct count; the other organizer and a USER see nothing.
SET client_min_messages = warning;
SET TimeZone = 'UTC';

-- The cast --------------------------------------------------------------------
SELECT t.remember('ov_admin', evently.create_user('ov-admin@example.com', 'qwerty', 'Vera', 'Admin', 'ADMIN'));
SELECT t.remember('ov_org1', evently.create_user('ov-org1@example.com', 'qwerty', 'Otto', 'One'));
SELECT t.remember('ov_org2', evently.create_user('ov-org2@example.com', 'qwerty', 'Olga', 'Two'));
SELECT t.remember('ov_user', evently.create_user('ov-user@example.com', 'qwerty', 'Uma', 'User'));
-- buyers whose names a spreadsheet would run, or that break naive CSV
SELECT t.remember('ov_evil', evently.create_user('ov-evil@example.com', 'qwerty', '=cmd|'' /C calc''!A0', 'Evil'));
SELECT t.remember('ov_quote', evently.create_user('ov-quote@example.com', 'qwerty', 'a,"b"', 'Quote'));
SELECT t.remember('ov_multi', evently.create_user('ov-multi@example.com', 'qwerty', '-2+3', E'multi\nline'));
SELECT t.remember('ov_holder', evently.create_user('ov-holder@example.com', 'qwerty', 'Hal', 'Holder'));
SELECT t.remember('ov_late', evently.create_user('ov-late@example.com', 'qwerty', 'Lou', 'Late'));
SELECT t.remember('ov_waiter', evently.create_user('ov-waiter@example.com', 'qwerty', 'Wes', 'Waiter'));
SELECT t.remember('ov_rival_buyer', evently.create_user('ov-rival-buyer@example.com', 'qwerty', 'Rob', 'Rival'));
SELECT t.remember(label, (evently.api_organizer_apply(t.id(who), t.req(body => jsonb_build_object(
           'organization_name', name))) ->> 'id')::uuid)
  FROM (VALUES ('ov_app1', 'ov_org1', 'Otto Live'), ('ov_app2', 'ov_org2', 'Olga Shows')) v(label, who, name);
SELECT o.organization_name, d ->> 'verification_status' AS status, u.role
  FROM (VALUES ('ov_app1'), ('ov_app2')) v(label),
       LATERAL evently.api_admin_organizer_verify(t.id('ov_admin'), t.req(path => jsonb_build_object('id', t.id(v.label)),
                                                                          body => '{"decision": "VERIFIED"}')) d
  JOIN evently.organizers o ON o.id = (d ->> 'id')::uuid JOIN evently.users u ON u.id = o.user_id
 ORDER BY 1;

-- A hall: Stalls A-B x 4 (A1 ... B4), Balcony C x 3 (C1 ... C3)
SELECT t.remember('ov_hall', evently.create_venue_template('OV Hall', 'theater'));
SELECT t.remember('ov_stalls', evently.add_section(t.id('ov_hall'), 'Stalls', 'A', 'B', 4));
SELECT t.remember('ov_balcony', evently.add_section(t.id('ov_hall'), 'Balcony', 'C', 'C', 3));

-- Organizer 1: a published event (base 100, Balcony x 1.5) and a later
-- draft; organizer 2: a published event
CREATE FUNCTION t.ov_event(label text, org text, name text, days int) RETURNS text LANGUAGE sql AS $$
    SELECT t.remember(label, (evently.api_organizer_event_create(t.id(org), t.req(body => jsonb_build_object(
               'name', name, 'venue', 'OV Hall, Main Street', 'venue_template_id', t.id('ov_hall'),
               'date_time', now() + make_interval(days => days), 'base_price', 100, 'category', 'music',
               'section_pricing', jsonb_build_array(jsonb_build_object('section_id', t.id('ov_balcony'),
                                                                       'price_multiplier', 1.5))))) ->> 'id')::uuid)
$$;
CREATE FUNCTION t.ov_publish(label text, org text) RETURNS text LANGUAGE sql AS $$
    SELECT evently.api_event_submit(t.id(org), t.req(path => t.ev(label))) ->> 'status';
    SELECT evently.api_admin_event_approve(t.id('ov_admin'), t.req(path => t.ev(label))) ->> 'status'
$$;
SELECT t.ov_event('ov_live', 'ov_org1', 'Otto''s Night', 200);
SELECT t.ov_publish('ov_live', 'ov_org1');
SELECT t.ov_event('ov_draft', 'ov_org1', 'Otto''s Next', 300);
SELECT t.ov_event('ov_rival', 'ov_org2', 'Olga''s Gala', 250);
SELECT t.ov_publish('ov_rival', 'ov_org2');
SELECT evently.set_cancellation_policy(t.id('ov_live'), true, now() + interval '100 days', 'PERCENTAGE', 10)
       ->> 'fee_type' AS live_policy;

-- Sales on ov_live: evil A1+A2, quote B1 (cancelled below: 10 % fee) and
-- B2, multi C1 (150); the waiter waits for 1 seat before the
-- cancellation, so a seat is offered to him (a live hold, NOTIFIED); the
-- late one waits for 2 after it (ACTIVE); the holder holds A3+A4 (live), the
-- late one B4 (lapsed: not live, its seat available)
SELECT t.book('ov_b_evil', 'ov_live', 'ov_evil', 'A1', 'A2');
SELECT t.book('ov_b_quote1', 'ov_live', 'ov_quote', 'B1');
SELECT t.book('ov_b_quote2', 'ov_live', 'ov_quote', 'B2');
SELECT t.book('ov_b_multi', 'ov_live', 'ov_multi', 'C1');
SELECT evently.join_waitlist(t.id('ov_live'), t.id('ov_waiter'), 1) ->> 'status' AS waiter;
SELECT evently.cancel_with_policy(t.id('ov_b_quote1'), t.id('ov_quote'), 'cannot come') ->> 'refund_amount' AS refund;
SELECT evently.join_waitlist(t.id('ov_live'), t.id('ov_late'), 2) ->> 'status' AS late;
SELECT t.remember('ov_h_live', (evently.hold_seats(t.id('ov_live'), t.id('ov_holder'),
                                                   t.seats('ov_live', 'A3', 'A4')) ->> 'hold_id')::uuid);
SELECT t.remember('ov_h_lapsed', (evently.hold_seats(t.id('ov_live'), t.id('ov_late'),
                                                     t.seats('ov_live', 'B4')) ->> 'hold_id')::uuid);
SELECT t.lapse('ov_h_lapsed');
SELECT t.book('ov_b_rival', 'ov_rival', 'ov_rival_buyer', 'A1');
SELECT status, count(*) FROM evently.waitlist_entries WHERE event_id = t.id('ov_live') GROUP BY 1 ORDER BY 1;
SELECT status, string_agg(seat_number, ' ' ORDER BY seat_number) AS seats FROM evently.event_seats(t.id('ov_live'))
 GROUP BY 1 ORDER BY 1;

-- GET /organizer/events -------------------------------------------------------
CREATE FUNCTION t.ov_list(who text, query jsonb DEFAULT '{}') RETURNS TABLE (events text, total_count int, lim int, off int)
LANGUAGE sql AS $$
    SELECT (SELECT string_agg(t.scrub(e ->> 'id') || ':' || (e ->> 'status'), ' ' ORDER BY n)
              FROM jsonb_array_elements(d -> 'events') WITH ORDINALITY x(e, n)),
           (d ->> 'total_count')::int, (d ->> 'limit')::int, (d ->> 'offset')::int
      FROM evently.api_organizer_events(t.id(who), t.req(query => query)) d
$$;
-- its own events only, any status, latest date first
SELECT * FROM t.ov_list('ov_org1');
SELECT * FROM t.ov_list('ov_org2');
SELECT * FROM t.ov_list('ov_org1', '{"status": "draft"}');
SELECT * FROM t.ov_list('ov_org1', '{"status": "PUBLISHED"}');
SELECT * FROM t.ov_list('ov_org1', '{"status": "cancelled"}');
SELECT * FROM t.ov_list('ov_org1', '{"limit": "1", "offset": "1"}');
SELECT * FROM t.ov_list('ov_org1', '{"status": "", "limit": "", "offset": ""}');
-- the document of each is organizer_event_json
SELECT d -> 'events' -> 0 = evently.organizer_event_json(t.id('ov_draft')) AS organizer_event_json
  FROM evently.api_organizer_events(t.id('ov_org1'), t.req()) d;
-- an ADMIN sees every event, the platform's too
SELECT (d ->> 'total_count')::int = (SELECT count(*) FROM evently.events) AS admin_sees_all,
       (SELECT count(*) FROM jsonb_array_elements(d -> 'events') e
         WHERE (e ->> 'id')::uuid IN (t.id('ov_live'), t.id('ov_draft'), t.id('ov_rival'))) AS ours_among_them
  FROM evently.api_organizer_events(t.id('ov_admin'), t.req(query => '{"limit": "100"}')) d;
-- a USER and an unknown actor are refused
SELECT t.try($$SELECT evently.api_organizer_events(t.id('ov_user'), t.req())$$) AS as_user,
       t.try($$SELECT evently.api_organizer_events(gen_random_uuid(), t.req())$$) AS as_nobody;
-- bad parameters, in our words
SELECT q, t.try(format('SELECT evently.api_organizer_events(t.id(%L), t.req(query => %L))', 'ov_org1', q)) AS refusal
  FROM unnest(ARRAY['{"status": "sold"}', '{"limit": "0"}', '{"limit": "101"}', '{"limit": "ten"}',
                    '{"offset": "-1"}', '{"offset": "99999999999"}', '{"limit": "1e3"}']::jsonb[]) q;

-- GET /organizer/events/:eventId/dashboard ------------------------------------
CREATE TABLE t.ov_dash AS
    SELECT evently.api_organizer_event_dashboard(t.id('ov_org1'), t.req(path => t.ev('ov_live'))) AS d;
SELECT t.scrub(d ->> 'event_id') AS event, d ->> 'name' AS name, d ->> 'status' AS status,
       d -> 'capacity' AS capacity, d -> 'tiers' AS tiers, d -> 'check_in' AS check_in,
       d -> 'revenue' AS revenue, d -> 'holds' AS holds, d -> 'waitlist' AS waitlist
  FROM t.ov_dash;
SELECT s ->> 'section_name' AS section, t.scrub(s ->> 'section_id') AS id,
       t.pick(s, 'capacity', 'sold', 'held', 'available', 'blocked') AS seats
  FROM t.ov_dash, jsonb_array_elements(d -> 'sections') s ORDER BY 1;
SELECT (x ->> 'date')::date = current_date AS today, t.pick(x, 'bookings', 'tickets', 'revenue') AS sales
  FROM t.ov_dash, jsonb_array_elements(d -> 'daily_sales') x;
-- every figure against a direct count
SELECT bool_and((s ->> 'sold')::int = (SELECT count(*) FROM evently.tickets k
                                        WHERE k.event_id = t.id('ov_live') AND k.section_id = (s ->> 'section_id')::uuid
                                          AND k.status = 'VALID')) AS sold_is_valid_tickets,
       bool_and((s ->> 'available')::int = (SELECT count(*) FROM evently.event_seats es
                                             WHERE es.event_id = t.id('ov_live') AND es.section_id = (s ->> 'section_id')::uuid
                                               AND (es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.held_until <= now())))) AS available_is_free_seats,
       bool_and((s ->> 'held')::int = (SELECT count(*) FROM evently.event_seats es
                                        WHERE es.event_id = t.id('ov_live') AND es.section_id = (s ->> 'section_id')::uuid
                                          AND es.status = 'HELD' AND es.held_until > now())) AS held_is_live_held_seats,
       bool_and((s ->> 'capacity')::int = (SELECT count(*) FROM evently.event_seats es
                                            WHERE es.event_id = t.id('ov_live') AND es.section_id = (s ->> 'section_id')::uuid)) AS capacity_is_seats
  FROM t.ov_dash, jsonb_array_elements(d -> 'sections') s;
SELECT (d #>> '{capacity,total}')::int = (SELECT count(*) FROM evently.event_seats WHERE event_id = t.id('ov_live')) AS capacity,
       (d #>> '{capacity,sold}')::int = (SELECT count(*) FROM evently.tickets WHERE event_id = t.id('ov_live') AND status = 'VALID') AS sold,
       (d #>> '{revenue,gross}')::numeric = (SELECT sum(total_price) FROM evently.bookings WHERE event_id = t.id('ov_live')) AS gross,
       (d #>> '{revenue,refunded}')::numeric = (SELECT sum(c.refund_amount) FROM evently.cancellations c
                                                  JOIN evently.bookings b ON b.id = c.booking_id
                                                 WHERE b.event_id = t.id('ov_live')) AS refunded,
       (d #>> '{revenue,net}')::numeric = (d #>> '{revenue,gross}')::numeric - (d #>> '{revenue,refunded}')::numeric AS net,
       (SELECT sum((x ->> 'revenue')::numeric) = (d #>> '{revenue,gross}')::numeric
               AND sum((x ->> 'bookings')::int) = (SELECT count(*) FROM evently.bookings WHERE event_id = t.id('ov_live'))
               AND sum((x ->> 'tickets')::int) = (SELECT sum(total_seats) FROM evently.bookings WHERE event_id = t.id('ov_live'))
          FROM jsonb_array_elements(d -> 'daily_sales') x) AS days_add_up,
       (d #>> '{holds,live}')::int = (SELECT count(*) FROM evently.holds
                                       WHERE event_id = t.id('ov_live') AND status = 'ACTIVE' AND expires_at > now()) AS live_holds,
       (d #>> '{holds,seats}')::int = (d #>> '{capacity,held}')::int AS held_seats,
       (d #>> '{waitlist,active}')::int = (SELECT count(*) FROM evently.waitlist_entries
                                            WHERE event_id = t.id('ov_live') AND status = 'ACTIVE') AS waiting,
       (d #>> '{waitlist,notified}')::int = (SELECT count(*) FROM evently.waitlist_entries
                                              WHERE event_id = t.id('ov_live') AND status = 'NOTIFIED') AS offered
  FROM t.ov_dash;
-- a draft's dashboard: nothing sold, every seat available
SELECT d -> 'capacity' AS capacity, d -> 'revenue' AS revenue, d -> 'daily_sales' AS days, d -> 'holds' AS holds
  FROM evently.api_organizer_event_dashboard(t.id('ov_org1'), t.req(path => t.ev('ov_draft'))) d;
-- an ADMIN reads any event's; organizer 2 reads its own
SELECT evently.api_organizer_event_dashboard(t.id('ov_admin'), t.req(path => t.ev('ov_live')))
       = (SELECT d FROM t.ov_dash) AS admin_sees_the_same,
       evently.api_organizer_event_dashboard(t.id('ov_org2'), t.req(path => t.ev('ov_rival'))) #> '{revenue,gross}' AS rival_gross;

-- GET /organizer/events/:eventId/attendees ------------------------------------
CREATE FUNCTION t.ov_attendees(query jsonb DEFAULT '{}')
RETURNS TABLE (booking text, attendee_name text, attendee_email text, section text, "row" text, seat_number text,
               price numeric, booked_at_is_booking boolean, total_count int, lim int, off int)
LANGUAGE sql AS $$
    SELECT (SELECT string_agg(k.label, ',') FROM t.ids k JOIN evently.bookings b ON b.id = k.id
             WHERE b.booking_ref = a ->> 'booking_ref'),
           a ->> 'attendee_name', a ->> 'attendee_email', a ->> 'section', a ->> 'row', a ->> 'seat_number',
           (a ->> 'price')::numeric,
           (a ->> 'booked_at')::timestamptz = (SELECT created_at FROM evently.bookings WHERE booking_ref = a ->> 'booking_ref'),
           (d ->> 'total_count')::int, (d ->> 'limit')::int, (d ->> 'offset')::int
      FROM evently.api_organizer_event_attendees(t.id('ov_org1'), t.req(path => t.ev('ov_live'), query => query)) d
      LEFT JOIN LATERAL jsonb_array_elements(d -> 'attendees') WITH ORDINALITY x(a, n) ON true
     ORDER BY n
$$;
-- one row per VALID ticket of a CONFIRMED booking, by booking then seat;
-- the cancelled B1 and the held seats are not there
SELECT * FROM t.ov_attendees();
SELECT * FROM t.ov_attendees('{"limit": "2", "offset": "1"}');
SELECT * FROM t.ov_attendees('{"offset": "10"}');
SELECT (d ->> 'total_count')::int = (SELECT count(*) FROM evently.tickets k JOIN evently.bookings b ON b.id = k.booking_id
                                      WHERE k.event_id = t.id('ov_live') AND k.status = 'VALID' AND b.status = 'CONFIRMED')
       AS total_is_live_tickets
  FROM evently.api_organizer_event_attendees(t.id('ov_org1'), t.req(path => t.ev('ov_live'))) d;
SELECT q, t.try(format('SELECT evently.api_organizer_event_attendees(t.id(%L), t.req(path => t.ev(%L), query => %L))',
                       'ov_org1', 'ov_live', q)) AS refusal
  FROM unnest(ARRAY['{"limit": "0"}', '{"limit": "101"}', '{"limit": "x"}', '{"offset": "-5"}',
                    '{"offset": "1.5"}']::jsonb[]) q;

-- ... and as CSV (req.format = 'csv', what the shim sets for Accept: text/csv)
CREATE TABLE t.ov_csv AS
    SELECT evently.api_organizer_event_attendees(t.id('ov_org1'),
               t.req(path => t.ev('ov_live'), query => '{"limit": "1"}') || '{"format": "csv"}') AS d;
SELECT t.scrub(d ->> 'filename') AS filename, d ->> 'csv' ~ E'\\A[^\\r]*\\r\\n' AS crlf_after_header,
       right(d ->> 'csv', 2) = E'\r\n' AS ends_with_crlf,
       (SELECT count(*) FROM regexp_matches(d ->> 'csv', E'\\r\\n', 'g')) AS records
  FROM t.ov_csv;
-- the file, its booking references and times replaced (\r\n shown as a line
-- end, a bare \n inside a quoted field as \n)
SELECT n, t.scrub(regexp_replace(replace(line, E'\n', '\n'), 'EVT-\d{8}-[A-Z]{6}', 'EVT-<ref>')) AS line
  FROM t.ov_csv, regexp_split_to_table(d ->> 'csv', E'\r\n') WITH ORDINALITY l(line, n)
 ORDER BY n;
-- the file's rows are the JSON list's, field for field, whatever page was asked
SELECT (SELECT count(*) FROM t.ov_attendees()) + 2
       = (SELECT count(*) FROM t.ov_csv, regexp_split_to_table(d ->> 'csv', E'\r\n')) AS one_line_per_attendee,
       (SELECT array_agg(l ORDER BY n) FROM t.ov_csv, regexp_split_to_table(d ->> 'csv', E'\r\n') WITH ORDINALITY x(l, n)
         WHERE n > 1 AND l <> '')
       = (SELECT array_agg(concat_ws(',', VARIADIC (SELECT array_agg(evently._csv_field(a ->> c) ORDER BY i)
                                                     FROM unnest(string_to_array(split_part(d ->> 'csv', E'\r\n', 1), ','))
                                                          WITH ORDINALITY h(c, i))) ORDER BY n)
            FROM t.ov_csv, jsonb_array_elements(evently.api_organizer_event_attendees(t.id('ov_org1'),
                     t.req(path => t.ev('ov_live'), query => '{"limit": "100"}')) -> 'attendees') WITH ORDINALITY x(a, n))
       AS the_json_list_under_the_header;
-- each field: formulas neutralised (OWASP), then quoted as RFC 4180 says
-- (a tab shown as <TAB>, a CR as <CR>)
SELECT replace(replace(v, E'\t', '<TAB>'), E'\r', '<CR>') AS value,
       replace(replace(evently._csv_field(v), E'\t', '<TAB>'), E'\r', '<CR>') AS field
  FROM unnest(ARRAY['plain', '=cmd|'' /C calc''!A0', '+1', '-1', '@SUM(A1)', E'\tx', E'\rx', 'a,"b"',
                    '=a,"b"', E'two\nlines', '"', '', NULL, ' =x', '1=1']) WITH ORDINALITY u(v, n)
 ORDER BY n;
-- a file is bounded: over max_rows it is refused, naming the bound
SELECT t.try($$SELECT evently._attendees_csv(t.id('ov_live'), 3)$$) AS over_the_bound,
       evently._attendees_csv(t.id('ov_live'), 4) = (SELECT d FROM t.ov_csv) AS at_the_bound;
SELECT t.try($$SELECT evently.api_organizer_event_attendees(t.id('ov_org1'), t.req(path => t.ev('ov_live')) || '{"format": "xml"}')$$)
       AS unknown_format;
-- an event with no attendee: the header alone
SELECT replace(evently.api_organizer_event_attendees(t.id('ov_org1'), t.req(path => t.ev('ov_draft')) || '{"format": "csv"}')
               ->> 'csv', E'\r\n', '|') AS empty_file;

-- GET /organizer/events/:eventId/bookings -------------------------------------
CREATE FUNCTION t.ov_bookings(who text, event_label text, query jsonb DEFAULT '{}')
RETURNS TABLE (bookings text, buyers text, total_count int, lim int, off int) LANGUAGE sql AS $$
    SELECT (SELECT string_agg(t.scrub(b ->> 'booking_id') || ':' || (b ->> 'status'), ' ' ORDER BY n)
              FROM jsonb_array_elements(d -> 'bookings') WITH ORDINALITY x(b, n)),
           (SELECT string_agg(b #>> '{buyer,email}', ' ' ORDER BY n)
              FROM jsonb_array_elements(d -> 'bookings') WITH ORDINALITY x(b, n)),
           (d ->> 'total_count')::int, (d ->> 'limit')::int, (d ->> 'offset')::int
      FROM evently.api_organizer_event_bookings(t.id(who), t.req(path => t.ev(event_label), query => query)) d
$$;
-- newest first, every status; filtered; paged
SELECT * FROM t.ov_bookings('ov_org1', 'ov_live');
SELECT * FROM t.ov_bookings('ov_org1', 'ov_live', '{"status": "cancelled"}');
SELECT * FROM t.ov_bookings('ov_org1', 'ov_live', '{"status": "CONFIRMED", "limit": "2", "offset": "1"}');
SELECT * FROM t.ov_bookings('ov_admin', 'ov_rival');
-- each is booking_json, without its ticket codes (the holders'), plus its buyer
SELECT bool_and(b - 'buyer' = evently._without_codes(evently.booking_json((b ->> 'booking_id')::uuid))) AS booking_json,
       bool_and(b::text NOT LIKE '%ticket_code%') AS no_codes,
       bool_and(b -> 'buyer' = (SELECT jsonb_build_object('first_name', u.first_name, 'last_name', u.last_name, 'email', u.email)
                                  FROM evently.users u WHERE u.id = (b ->> 'user_id')::uuid)) AS buyer
  FROM evently.api_organizer_event_bookings(t.id('ov_org1'), t.req(path => t.ev('ov_live'))) d,
       jsonb_array_elements(d -> 'bookings') b;
SELECT q, t.try(format('SELECT evently.api_organizer_event_bookings(t.id(%L), t.req(path => t.ev(%L), query => %L))',
                       'ov_org1', 'ov_live', q)) AS refusal
  FROM unnest(ARRAY['{"status": "PENDING"}', '{"limit": "0"}', '{"limit": "1000"}', '{"offset": "-1"}',
                    '{"offset": "x"}']::jsonb[]) q;

-- Nobody sees another organizer's event ------------------------------------
-- organizer 2 on organizer 1's events, organizer 1 on organizer 2's, a USER
-- and organizer 1 on a platform event: NOT_FOUND, the same as an unknown id
SELECT r AS route, who, ev,
       t.try(format('SELECT evently.%I(t.id(%L), t.req(path => t.ev(%L)) || %L)', r, who, ev, extra)) AS answer
  FROM unnest(ARRAY['api_organizer_event_dashboard', 'api_organizer_event_attendees', 'api_organizer_event_bookings']) r,
       (VALUES ('ov_org2', 'ov_live', '{}'), ('ov_org2', 'ov_draft', '{}'), ('ov_org1', 'ov_rival', '{}'),
               ('ov_user', 'ov_live', '{}'), ('ov_org1', 'gig', '{}'), ('ov_org2', 'ov_live', '{"format": "csv"}')) v(who, ev, extra)
 WHERE extra = '{}' OR r = 'api_organizer_event_attendees'
 ORDER BY 1, 2, 3, 4;
SELECT r AS route,
       t.try(format('SELECT evently.%I(t.id(%L), t.req(path => %L))', r, 'ov_org1',
                    '{"eventId": "00000000-0000-4000-8000-000000000000"}')) AS unknown_event,
       t.try(format('SELECT evently.%I(t.id(%L), t.req(path => %L))', r, 'ov_org1', '{"eventId": "not-a-uuid"}')) AS bad_id,
       t.try(format('SELECT evently.%I(t.id(%L), t.req(path => t.ev(%L)))', r, 'ov_org1', 'ov_rival')) = 
       t.try(format('SELECT evently.%I(t.id(%L), t.req(path => %L))', r, 'ov_org1',
                    jsonb_build_object('eventId', t.id('ov_rival')))) AS stable
  FROM unnest(ARRAY['api_organizer_event_dashboard', 'api_organizer_event_attendees', 'api_organizer_event_bookings']) r
 ORDER BY 1;
-- a banned organizer reads nothing
UPDATE evently.users SET status = 'BANNED' WHERE id = t.id('ov_org2');
SELECT t.try($$SELECT evently.api_organizer_events(t.id('ov_org2'), t.req())$$) AS banned_list,
       t.try($$SELECT evently.api_organizer_event_dashboard(t.id('ov_org2'), t.req(path => t.ev('ov_rival')))$$) AS banned_dashboard;
UPDATE evently.users SET status = 'ACTIVE' WHERE id = t.id('ov_org2');

-- A DBA's role linked to organizer 1 meets the same rules -------------------
SELECT evently.setup_roles();
CREATE ROLE ov_org1_db LOGIN;
SELECT evently.link_role('ov_org1_db', t.id('ov_org1'));
GRANT USAGE ON SCHEMA t TO ov_org1_db;
GRANT SELECT ON t.ids TO ov_org1_db;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA t TO ov_org1_db;
SET SESSION AUTHORIZATION ov_org1_db;
SELECT (evently.api_organizer_events(NULL, t.req()) ->> 'total_count')::int AS my_events,
       evently.api_organizer_event_dashboard(NULL, t.req(path => t.ev('ov_live'))) #> '{capacity,sold}' AS my_sold;
SELECT t.try($$SELECT evently.api_organizer_event_bookings(NULL, t.req(path => t.ev('ov_rival')))$$) AS rivals_bookings,
       t.try($$SELECT evently.api_organizer_event_attendees(t.id('ov_org2'), t.req(path => t.ev('ov_rival')))$$) AS as_organizer_2;
RESET SESSION AUTHORIZATION;
SELECT evently.unlink_role('ov_org1_db');
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA t FROM ov_org1_db;
REVOKE ALL ON t.ids FROM ov_org1_db;
REVOKE USAGE ON SCHEMA t FROM ov_org1_db;
DROP ROLE ov_org1_db;

-- The routes only read: STABLE, so PostgreSQL refuses any write or row
-- lock in them -----------------------------------------------------------------
SELECT proname, provolatile FROM pg_proc
 WHERE pronamespace = 'evently'::regnamespace
   AND proname IN ('api_organizer_events', 'api_organizer_event_dashboard', 'api_organizer_event_attendees',
                   'api_organizer_event_bookings', '_readable_event')
 ORDER BY 1;

SELECT t.counters_agree() AS counters_agree, t.catalogs_agree() AS catalogs_agree;
