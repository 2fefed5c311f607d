-- Event search, GET /events/search (issue 11), as the shim calls it and a
-- DBA may: evently.api_events_search(actor, {"query": {...}}).  Ranking
-- (name above tags above venue above description), each filter, each sort,
-- pages, public events only, words that are all stop words, every refusal,
-- a linked role, and the GIN index doing the work.  Every event of this file
-- has the made-up word "quokka" in its text or a category srch-*, and every
-- search here asks for one of them, so that the events of other files (they
-- share the database) never show up.
SET client_min_messages = warning;

-- The adapter's answer, and one line of it: each event's name (and rank),
-- in order, then the total.
CREATE FUNCTION t.search_for(query jsonb, actor uuid DEFAULT NULL) RETURNS jsonb LANGUAGE sql
RETURN evently.api_events_search(actor, t.req(query => query));
CREATE FUNCTION t.search_line(doc jsonb) RETURNS text LANGUAGE sql IMMUTABLE
RETURN format('[%s] total %s',
              (SELECT string_agg(e ->> 'name' || coalesce(' ' || (e ->> 'rank'), ''), ', ' ORDER BY n)
                 FROM jsonb_array_elements(doc -> 'events') WITH ORDINALITY x(e, n)),
              doc ->> 'total_count');
CREATE FUNCTION t.search_hits(query jsonb) RETURNS text LANGUAGE sql
RETURN t.search_line(t.search_for(query));

-- Fixtures: a word in the name, in a tag, in the venue, in the description
-- (four times: still below one in the name); one event under way, one
-- over, one cancelled, one draft, one under review.
SELECT t.remember('srch_tag', evently.create_tag('Quokka Picks', '#10B981'));
SELECT t.remember('srch_name', evently.create_event('Quokka Jazz Night', t.id('hall'), now() + interval '10 days', 40,
                  t.id('admin'), 'Riverside Hall', 'Swing and bebop until late.', settings => '{"category": "srch-music"}'));
SELECT t.remember('srch_desc', evently.create_event('Riverside Swing Evening', t.id('hall'), now() + interval '5 days', 25,
                  t.id('admin'), 'Harbour Stage', 'Every quokka favourite, played twice: quokka, quokka, quokka.',
                  settings => '{"category": "srch-music"}'));
SELECT t.remember('srch_tagged', evently.create_event('Evening Market', t.id('hall'), now() + interval '20 days', 10,
                  t.id('admin'), 'Old Town Square (100%_local)', 'Street food.', tags => '{quokka-picks}',
                  settings => '{"category": "srch-food"}'));
SELECT t.remember('srch_venue', evently.create_event('Poetry Slam', t.id('hall'), now() + interval '15 days', 0,
                  t.id('admin'), 'The Quokka Club', 'Open mic.', settings => '{"category": "srch-arts"}'));
SELECT t.remember('srch_active', evently.create_event('Quokka Morning Run', t.id('hall'), now() + interval '1 day', 10,
                  t.id('admin'), 'City Park', NULL, settings => '{"category": "srch-sports"}'));
SELECT t.remember('srch_done', evently.create_event('Quokka Farewell Gala', t.id('hall'), now() + interval '1 day', 50,
                  t.id('admin'), 'Grand Ballroom', NULL, settings => '{"category": "srch-music"}'));
SELECT t.remember('srch_off', evently.create_event('Quokka Cancelled Cruise', t.id('hall'), now() + interval '25 days', 30,
                  t.id('admin'), 'Pier 9', NULL, settings => '{"category": "srch-music"}'));
SELECT t.remember('srch_draft', evently.create_event('Quokka Secret Draft', t.id('hall'), now() + interval '12 days', 20,
                  t.id('admin'), 'Quokka Hall', 'quokka', settings => '{"category": "srch-music"}'));
SELECT t.remember('srch_review', evently.create_event('Quokka Pending Review', t.id('hall'), now() + interval '12 days', 20,
                  t.id('admin'), 'Quokka Hall', 'quokka', settings => '{"category": "srch-music"}'));
-- the clock's statuses: under way (started an hour ago), over (ended yesterday)
UPDATE evently.events SET date_time = now() - interval '1 hour', end_time = now() + interval '2 hours'
 WHERE id = t.id('srch_active');
UPDATE evently.events SET date_time = now() - interval '2 days', end_time = now() - interval '1 day'
 WHERE id = t.id('srch_done');
UPDATE evently.events SET status = 'cancelled', cancelled_at = now() WHERE id = t.id('srch_off');
UPDATE evently.events SET status = 'draft', published_at = NULL WHERE id = t.id('srch_draft');
UPDATE evently.events SET status = 'under_review', published_at = NULL, submitted_at = now()
 WHERE id = t.id('srch_review');
SELECT name, evently._lifecycle_status(status, date_time, end_time) AS shown FROM evently.events
 WHERE id IN (SELECT id FROM t.ids WHERE label LIKE 'srch\_%') ORDER BY name;

-- Ranking: a name match first (the run under way before the night, tied,
-- by date), then the tag, the venue, the description; drafts and events
-- under review are not found
SELECT t.search_hits('{"q": "quokka"}') AS ranked;
SELECT t.search_hits('{"q": "QUOKKAS!"}') AS stemmed_and_any_case;
-- websearch syntax: a phrase, a word left out, or
SELECT t.search_hits('{"q": "\"quokka jazz\""}') AS phrase,
       t.search_hits('{"q": "quokka -jazz -run"}') AS without_words,
       t.search_hits('{"q": "bebop or \"quokka club\""}') AS either;
-- a word left out does not lower the rank of what is found; only words left
-- out: every event without them, ranked 0
SELECT t.search_hits('{"q": "-jazz", "category": "srch-music"}') AS only_left_out;
-- tag names are searched as the catalog has them: a renamed tag is found by
-- its new name, an inactive one not at all
BEGIN;
UPDATE evently.tags SET name = 'Numbat Picks' WHERE id = t.id('srch_tag');
SELECT t.search_hits('{"q": "numbat"}') AS renamed_tag, t.search_hits('{"q": "quokka picks"}') AS old_name;
UPDATE evently.tags SET is_active = false WHERE id = t.id('srch_tag');
SELECT t.search_hits('{"q": "numbat"}') AS inactive_tag;
ROLLBACK;
-- the shape: event_json plus rank, the page's figures
SELECT jsonb_object_keys(t.search_for('{"q": "quokka", "limit": "1"}')) AS page_keys ORDER BY 1;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e) k)
       = (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(evently.event_json(t.id('srch_name')) || '{"rank": 0}') k)
       AS event_json_and_rank,
       e ->> 'status' AS status, e ->> 'category' AS category
  FROM jsonb_array_elements(t.search_for('{"q": "quokka jazz"}') -> 'events') e;
SELECT t.search_for('{"category": "srch-arts"}') -> 'events' -> 0 ? 'rank' AS rank_without_q;

-- Words that are all stop words or punctuation find nothing (with no
-- NOTICE); an empty or blank q is no q
SELECT t.search_hits('{"q": "the of and"}') AS stop_words,
       t.search_hits('{"q": "!!! ... --"}') AS punctuation,
       t.search_hits('{"q": "   ", "category": "srch-music"}') AS blank_q;

-- Filters, each with q=quokka: the category (as POST /events stores it);
-- from and to (dates are whole days in UTC and to includes its day, times
-- are exact; the session's zone is pg_regress's PST8PDT, hence the UTC); prices (both ends included); location (a piece of the venue, any
-- case, % and _ as themselves); status as reads show it (by default
-- published and active); all together
SELECT what, t.search_hits(query) AS found
  FROM (VALUES ('category', '{"q": "quokka", "category": "srch-music"}'::jsonb),
               ('category lower-cased', '{"q": "quokka", "category": " SRCH-Music "}'),
               ('category none', '{"q": "quokka", "category": "srch-nothing"}'),
               ('days +8 to +15', jsonb_build_object('q', 'quokka', 'from', to_char(now() AT TIME ZONE 'UTC' + interval '8 days', 'YYYY-MM-DD'),
                                                     'to', to_char(now() AT TIME ZONE 'UTC' + interval '15 days', 'YYYY-MM-DD'))),
               ('until +6 days (t, z)', jsonb_build_object('q', 'quokka',
                                                          'to', to_char(now() AT TIME ZONE 'UTC' + interval '6 days', 'YYYY-MM-DD"t"HH24:MI:SS"z"'))),
               ('price 10 to 25', '{"q": "quokka", "min_price": "10", "max_price": "25.00"}'),
               ('price 0', '{"q": "quokka", "max_price": "0"}'),
               ('price from 40', '{"q": "quokka", "min_price": "40"}'),
               ('location, any case', '{"location": "quokka CLUB"}'),
               ('location %', '{"q": "quokka", "location": "%"}'),
               ('location _', '{"q": "quokka", "location": "_"}'),
               ('location 0%_l', '{"q": "quokka", "location": "0%_l"}'),
               ('status published', '{"q": "quokka", "status": "published"}'),
               ('status active', '{"q": "quokka", "status": "active"}'),
               ('status completed', '{"q": "quokka", "status": "completed"}'),
               ('status cancelled', '{"q": "quokka", "status": "cancelled"}'),
               ('together', '{"q": "quokka", "category": "srch-music", "max_price": "30", "location": "harbour"}')) v(what, query);
-- times are exact and both ends are in: from the night's own time to the
-- slam's, then to a second before the slam's
SELECT t.search_hits(jsonb_build_object('q', 'quokka',
           'from', to_char(e.date_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'to', to_char(v.date_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))) AS from_night_to_slam,
       t.search_hits(jsonb_build_object('q', 'quokka',
           'from', to_char(e.date_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           'to', to_char(v.date_time AT TIME ZONE 'UTC' - interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))) AS to_before_slam
  FROM evently.events e, evently.events v WHERE e.id = t.id('srch_name') AND v.id = t.id('srch_venue');
-- a day's edges (UTC): its first and its last microsecond are in it, the
-- next midnight is not
BEGIN;
CREATE TEMP TABLE day15 ON COMMIT DROP AS
    SELECT to_char(d, 'YYYY-MM-DD') AS day, d::timestamp AT TIME ZONE 'UTC' AS first, (d + 1)::timestamp AT TIME ZONE 'UTC' AS next
      FROM (SELECT (now() AT TIME ZONE 'UTC')::date + 15 AS d) x;
UPDATE evently.events e SET date_time = d.first, end_time = d.first + interval '3 hours'
  FROM day15 d WHERE e.id = t.id('srch_venue');
UPDATE evently.events e SET date_time = d.next - interval '1 microsecond', end_time = d.next + interval '3 hours'
  FROM day15 d WHERE e.id = t.id('srch_name');
UPDATE evently.events e SET date_time = d.next, end_time = d.next + interval '3 hours'
  FROM day15 d WHERE e.id = t.id('srch_tagged');
SELECT t.search_hits(jsonb_build_object('q', 'quokka', 'from', day, 'to', day)) AS one_day FROM day15;
ROLLBACK;

-- Sorts: date and price (ties by date) keep the ranks; relevance without q
-- is date order
SELECT what, t.search_hits(query) AS found
  FROM (VALUES ('date', '{"q": "quokka", "sort": "date"}'::jsonb),
               ('price', '{"q": "quokka", "sort": "price"}'),
               ('relevance', '{"q": "quokka", "sort": "relevance"}'),
               ('no q: date', '{"category": "srch-music"}'),
               ('no q: relevance', '{"category": "srch-music", "sort": "relevance"}')) v(what, query);

-- Pages: limit and offset over the same order, the total on every page
SELECT n AS page, t.search_line(doc) AS events, doc ->> 'limit' AS lim, doc ->> 'offset' AS off
  FROM (VALUES (1, t.search_for('{"q": "quokka", "limit": "2"}')),
               (2, t.search_for('{"q": "quokka", "limit": "2", "offset": "2"}')),
               (3, t.search_for('{"q": "quokka", "limit": "2", "offset": "4"}')),
               (4, t.search_for('{"q": "quokka", "offset": "10"}'))) p(n, doc);
SELECT doc ->> 'limit' AS default_limit, doc ->> 'offset' AS default_offset
  FROM t.search_for('{"q": "quokka"}') doc;

-- Drafts and events under review: never, whoever asks (last, an ADMIN)
SELECT t.search_hits('{"q": "secret draft"}') AS draft, t.search_hits('{"q": "pending review"}') AS under_review,
       t.search_line(t.search_for('{"q": "quokka hall"}', t.id('admin'))) AS as_admin;

-- Refusals: every parameter, in our words, naming it
SELECT t.try(format($$SELECT t.search_for(%L)$$, q)) AS refused
  FROM (VALUES (jsonb_build_object('q', repeat('quokka ', 29))),
               ('{"category": "Music!"}'), ('{"category": "a-category-name-of-more-than-fifty-characters-is-refused"}'),
               ('{"from": "yesterday"}'), ('{"from": "2026-02-30"}'), ('{"to": "2026-01-01T25:00Z"}'),
               ('{"to": "2026-01-01T10:00"}'), ('{"from": "2026-01-01 10:00Z"}'), ('{"to": "infinity"}'),
               ('{"from": "2026-03-02", "to": "2026-03-01"}'),
               ('{"min_price": "-1"}'), ('{"min_price": "abc"}'), ('{"max_price": "1e3"}'),
               ('{"max_price": "10000000000"}'), ('{"min_price": "20", "max_price": "10"}'),
               (jsonb_build_object('location', repeat('x', 256))),
               ('{"status": "draft"}'), ('{"status": "under_review"}'), ('{"status": "PUBLISHED"}'),
               ('{"sort": "name"}'), ('{"sort": "price desc"}'),
               ('{"limit": "0"}'), ('{"limit": "101"}'), ('{"limit": "ten"}'),
               ('{"offset": "-1"}'), ('{"offset": "1000001"}'), ('{"offset": "1.5"}')) v(q);
-- values that are not text (a DBA's JSON) are read as their text; a request
-- without a query is a search with no parameter
SELECT t.search_hits('{"q": "quokka", "limit": 1, "max_price": 20}') AS json_numbers,
       (evently.api_events_search(NULL, NULL) ->> 'limit') AS null_request,
       (evently.api_events_search(NULL, '{"query": []}') ->> 'limit') AS query_not_an_object;

-- A linked database role meets the same rules; an unlinked one is nobody
SELECT evently.setup_roles();
CREATE ROLE srch_reader_db LOGIN;
CREATE ROLE srch_member_db LOGIN IN ROLE evently_api;
SELECT t.remember('srch_reader', evently.create_user('srch.reader@example.com', 'qwerty', 'Quinn', 'Reader'));
SELECT evently.link_role('srch_reader_db', t.id('srch_reader'));
GRANT USAGE ON SCHEMA t TO srch_reader_db, srch_member_db;
GRANT SELECT ON t.ids TO srch_reader_db, srch_member_db;
SELECT has_function_privilege('evently_api', 'evently.api_events_search(uuid, jsonb)', 'EXECUTE') AS api_may_call,
       has_function_privilege('public', 'evently.api_events_search(uuid, jsonb)', 'EXECUTE') AS public_may_call,
       has_function_privilege('evently_api', 'evently._search_matches(tsquery, text, timestamptz, timestamptz, numeric, numeric, text, text[])',
                              'EXECUTE') AS api_may_call_internal,
       p.prosecdef AS definer, p.proconfig
  FROM pg_proc p WHERE p.oid = 'evently.api_events_search(uuid, jsonb)'::regprocedure;
SET SESSION AUTHORIZATION srch_reader_db;
SELECT t.search_hits('{"q": "quokka"}') AS as_linked_role;
SELECT t.try($$SELECT t.search_for('{"q": "quokka"}', t.id('admin'))$$) AS as_someone_else;
SELECT t.try($$SELECT t.search_for('{"limit": "0"}')$$) AS bad_limit;
SELECT t.try($$SELECT * FROM evently._search_matches(NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{published}')$$)
       AS internal_function;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION srch_member_db;
SELECT t.try($$SELECT t.search_for('{"q": "quokka"}')$$) AS unlinked_role;
RESET SESSION AUTHORIZATION;

-- The GIN index does the work: on a few thousand events, the search's own
-- statement (every call, past the plan cache's first five) scans the index,
-- never the table, and the planner inlines the filters with q's tsquery
BEGIN;
INSERT INTO evently.events (name, venue, description, date_time, end_time, base_price, category)
SELECT format('Filler %s %s', (ARRAY['concert', 'lecture', 'match', 'festival', 'workshop'])[1 + i % 5], i),
       'Hall ' || i, 'An evening like any other, number ' || i, now() + make_interval(days => 1 + i % 300),
       now() + make_interval(days => 1 + i % 300, hours => 3), i % 200, 'srch-filler'
  FROM generate_series(1, 3000) i;
ANALYZE evently.events;
CREATE TEMP TABLE scans ON COMMIT DROP AS
    SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'evently.events'::regclass;
SELECT count(*) AS searches, sum((t.search_for('{"q": "wallaby"}') ->> 'total_count')::int) AS found
  FROM generate_series(1, 8);
SELECT x.seq_scan - s.seq_scan AS table_scans, x.idx_scan - s.idx_scan AS index_scans
  FROM pg_stat_xact_user_tables x, scans s WHERE x.relid = 'evently.events'::regclass;
EXPLAIN (COSTS OFF)
SELECT * FROM evently._search_matches(evently._search_query('quokka'), 'srch-music', NULL, NULL, NULL, 100, NULL,
                                      '{published,active}');
ROLLBACK;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
