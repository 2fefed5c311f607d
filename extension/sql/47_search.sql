-- 47_search.sql: GET /events/search, the public event search (SPEC section
-- 9, issue 11).  PostgreSQL full-text search over events.search
-- (00_schema.sql: a generated tsvector of the name, weighted A, the active
-- tags' names B, the venue C and the description D, in the 'english'
-- configuration, under the GIN index events_search), ranked, with filters and
-- sorts.  It finds public events only, never a draft or an event under
-- review, whoever asks: a search answers every caller alike.

-- q as a tsquery by websearch_to_tsquery's rules (words, "a phrase", or,
-- -word), which raise no syntax error whatever the input.  It drops stop
-- words with a NOTICE, which libpq would print into the shim's JSON log on
-- every such search: the notice is not sent.
CREATE OR REPLACE FUNCTION evently._search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE SET client_min_messages = warning
RETURN websearch_to_tsquery('english', q);

-- The public events that pass a search's filters (a NULL filter is no
-- filter), with their rank for p_query (NULL without one).  Plain SQL that
-- the planner inlines into the caller's statement, so that it plans with
-- the caller's values: a filter left out drops away, and @@ uses the GIN
-- index.  The rank is ts_rank with the weights spelled out ({D, C, B, A}):
-- a word found once in the name (0.6079) outranks the same word found any
-- number of times in the tags (< 0.4), the venue or the description.  It ranks
-- the words the query wants, querytree's part of it: ts_rank would count a
-- word left out (quokka -jazz) as one wanted and missing, and rank every
-- event found 0.  Rounded to 4 decimals, so that the ties a client sees are
-- the ties the sort breaks.
CREATE OR REPLACE FUNCTION evently._search_matches(p_query tsquery, p_category text, p_from timestamptz,
                                                   p_to timestamptz, p_min_price numeric, p_max_price numeric,
                                                   p_location text, p_statuses text[])
RETURNS TABLE (id uuid, rank numeric, date_time timestamptz, base_price numeric)
LANGUAGE sql STABLE AS $$
    SELECT e.id, round(ts_rank('{0.1, 0.2, 0.4, 1.0}', e.search, querytree(p_query)::tsquery)::numeric, 4),
           e.date_time, e.base_price
      FROM evently.events e
     WHERE e.status NOT IN ('draft', 'under_review')     -- whatever p_statuses says
       AND evently._lifecycle_status(e.status, e.date_time, e.end_time) = ANY (p_statuses)
       AND (p_query IS NULL OR e.search @@ p_query)
       AND (p_category IS NULL OR e.category = p_category)
       AND (p_from IS NULL OR e.date_time >= p_from)
       AND (p_to IS NULL OR e.date_time <= p_to)
       AND (p_min_price IS NULL OR e.base_price >= p_min_price)
       AND (p_max_price IS NULL OR e.base_price <= p_max_price)
       AND (p_location IS NULL OR e.venue ILIKE evently._contains(p_location))
$$;

-- evently.api_events_search(actor uuid, req jsonb) RETURNS jsonb
-- GET /events/search: public; a linked role reads as its user and an
-- unlinked one is refused, as on every read (SPEC section 8).  req->'query':
--   q                     words as a web search box takes them, at most 200
--                         characters; empty is none
--   category              matched exactly, lower-cased as POST /events stores it
--   from, to              on date_time: RFC 3339 times with a zone, or dates
--                         (whole days in UTC, so to=D includes day D)
--   min_price, max_price  on base_price, 0 to 9999999999.99, min <= max
--   location              a case-insensitive substring of the venue (% and _
--                         are characters, not wildcards)
--   status                published, active, completed or cancelled, as reads
--                         show it; by default published and active: the
--                         events still to come or under way
--   sort                  relevance (the default with q): rank, then date_time,
--                         id (without q every rank ties: date order);
--                         date (the default without q): date_time, id;
--                         price: base_price, date_time, id
--   limit                 1 to 100 (20); offset 0 to 1000000 (0)
-- A q with no word to search for (only stop words or punctuation) finds
-- nothing: the client asked for words and none can match.  Returns
-- {"events": [event_json, plus "rank" when q is given], "total_count",
-- "limit", "offset"}.  Raises INVALID_ARGUMENT 'Invalid query parameters'
-- with a detail naming the parameter; UNAUTHENTICATED or FORBIDDEN for a
-- role, as _viewer.
CREATE OR REPLACE FUNCTION evently.api_events_search(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE
-- planned at every call with that call's values: a generic plan could
-- neither drop the filters left out nor use the GIN index for q ("q IS NULL
-- OR search @@ q" is not indexable)
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q text;
    words tsquery;
    want_category text;
    location text;
    status text;
    sort_by text;
    after timestamptz;
    before timestamptz;
    min_price numeric;
    max_price numeric;
    lim int;
    off int;
    total bigint;
    events jsonb;
BEGIN
    PERFORM evently._viewer(actor, req);
    q := nullif(btrim(req->'query'->>'q'), '');
    PERFORM evently._require(q IS NULL OR length(q) <= 200, 'INVALID_ARGUMENT', 'Invalid query parameters',
        format('q has %s characters; at most 200.', length(q)));
    want_category := nullif(lower(btrim(req->'query'->>'category')), '');
    PERFORM evently._require(want_category IS NULL OR evently._is_category(want_category),
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('category=%s is not a label of 1 to 50 characters (a-z, 0-9, space, &, /, _, -).',
               req->'query'->>'category'));
    after := evently._time_param(req, 'from');
    before := evently._time_param(req, 'to', day_end => true);
    PERFORM evently._require(after IS NULL OR before IS NULL OR after <= before, 'INVALID_ARGUMENT',
        'Invalid query parameters', format('from=%s is after to=%s.', req->'query'->>'from', req->'query'->>'to'));
    min_price := evently._numeric_param(req, 'min_price', 0, 9999999999.99);
    max_price := evently._numeric_param(req, 'max_price', 0, 9999999999.99);
    PERFORM evently._require(min_price IS NULL OR max_price IS NULL OR min_price <= max_price, 'INVALID_ARGUMENT',
        'Invalid query parameters', format('min_price=%s is more than max_price=%s.', min_price, max_price));
    location := nullif(req->'query'->>'location', '');
    PERFORM evently._require(location IS NULL OR length(location) <= 255, 'INVALID_ARGUMENT',
        'Invalid query parameters', format('location has %s characters; a venue has at most 255.', length(location)));
    status := nullif(req->'query'->>'status', '');
    PERFORM evently._require(status IS NULL OR status IN ('published', 'active', 'completed', 'cancelled'),
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('status=%s is not published, active, completed or cancelled.', status));
    sort_by := coalesce(nullif(req->'query'->>'sort', ''), CASE WHEN q IS NULL THEN 'date' ELSE 'relevance' END);
    PERFORM evently._require(sort_by IN ('relevance', 'date', 'price'), 'INVALID_ARGUMENT',
        'Invalid query parameters', format('sort=%s is not relevance, date or price.', sort_by));
    SELECT * INTO lim, off FROM evently._page_params(req, 20);

    words := evently._search_query(q);
    IF numnode(words) = 0 THEN
        RETURN evently._slice('events', '[]', 0, lim, off);
    END IF;
    WITH found AS MATERIALIZED (
            SELECT m.id, m.rank, m.date_time,
                   CASE WHEN sort_by = 'relevance' THEN m.rank END AS by_rank,
                   CASE WHEN sort_by = 'price' THEN m.base_price END AS by_price
              FROM evently._search_matches(words, want_category, after, before, min_price, max_price, location,
                                           CASE WHEN status IS NULL THEN ARRAY['published', 'active']
                                                ELSE ARRAY[status] END) m),
         page AS (
            SELECT * FROM found f
             ORDER BY f.by_rank DESC NULLS LAST, f.by_price, f.date_time, f.id LIMIT lim OFFSET off)
    SELECT (SELECT count(*) FROM found),
           (SELECT jsonb_agg(evently.event_json(p.id)
                             || CASE WHEN words IS NULL THEN '{}' ELSE jsonb_build_object('rank', p.rank) END
                             ORDER BY p.by_rank DESC NULLS LAST, p.by_price, p.date_time, p.id)
              FROM page p)
      INTO total, events;
    RETURN evently._slice('events', events, total, lim, off);
END
$$;
