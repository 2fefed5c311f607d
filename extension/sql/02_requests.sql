-- 02_requests.sql: what every REST adapter shares.  The shim maps each route
-- onto one call
--   evently.api_<route>(actor uuid, req jsonb)
-- where actor is the user of the verified access token (NULL on public
-- routes) and req = {"path": {...}, "query": {...}, "body": {...},
-- "idempotency_key": ...}.  The shim has already checked the body's types;
-- the adapters apply the rules, ownership included, so a DBA calling them
-- with an actor id meets the same rules as a REST client (the actor is
-- resolved by evently._actor, 04_security.sql).  Here: query-string and body
-- parameters parsed into our own errors.

-- A query-string integer: the default when absent, INVALID_ARGUMENT when not an
-- integer in [min, max].
CREATE OR REPLACE FUNCTION evently._int_param(req jsonb, name text, fallback int, min_value int, max_value int)
RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NOT NULL AND raw <> '' THEN
        PERFORM evently._require(raw ~ '^-?[0-9]{1,9}$' AND raw::int BETWEEN min_value AND max_value,
            'INVALID_ARGUMENT', 'Invalid query parameters',
            format('%s=%s is not an integer from %s to %s.', name, raw, min_value, max_value));
    END IF;
    -- Sharded (SPEC section 13), the proxy asks every shard for a list's rows
    -- up to the end of the client's page (evently_proxy.shard_request) and
    -- cuts the page itself: once the client's values passed, page 1,
    -- offset 0 and shard_rows rows.
    IF req->>'shard_rows' ~ '^[0-9]{1,9}$' AND name IN ('page', 'offset', 'limit') THEN
        RETURN CASE name WHEN 'page' THEN 1 WHEN 'offset' THEN 0 ELSE (req->>'shard_rows')::int END;
    END IF;
    RETURN coalesce(nullif(raw, '')::int, fallback);
END
$$;

-- Is value a uuid as the API takes one (hyphens optional)?  (_uuid_arg's
-- test; require_unused's too, which says nothing for a value that is not.)
CREATE OR REPLACE FUNCTION evently._is_uuid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN value ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$';

-- A path, query or body value that must be a uuid, an integer or a number:
-- NULL when absent, INVALID_ARGUMENT naming it when it is not one, so that a
-- DBA passing a wrong value meets our error, not a cast's.  (The shim has
-- checked these before a REST request gets here.)
CREATE OR REPLACE FUNCTION evently._uuid_arg(value text, name text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(value IS NULL OR evently._is_uuid(value),
        'INVALID_ARGUMENT', format('invalid %s', name), format('%s %L is not a uuid.', name, value));
    RETURN value::uuid;
END
$$;

CREATE OR REPLACE FUNCTION evently._int_arg(value text, name text) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(value IS NULL OR value ~ '^-?[0-9]{1,9}$',
        'INVALID_ARGUMENT', format('invalid %s', name), format('%s %L is not an integer.', name, value));
    RETURN value::int;
END
$$;

CREATE OR REPLACE FUNCTION evently._bool_arg(value text, name text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(value IS NULL OR value IN ('true', 'false'),
        'INVALID_ARGUMENT', format('invalid %s', name), format('%s %L is not true or false.', name, value));
    RETURN value::boolean;
END
$$;

CREATE OR REPLACE FUNCTION evently._numeric_arg(value text, name text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(value IS NULL OR value ~ '^-?[0-9]{1,12}(\.[0-9]{1,12})?$',
        'INVALID_ARGUMENT', format('invalid %s', name), format('%s %L is not a number.', name, value));
    RETURN value::numeric;
END
$$;

-- An update applies every field it takes or refuses it (issue 9): a body
-- field that is not among the allowed ones is refused, naming it.
CREATE OR REPLACE FUNCTION evently._only_fields(b jsonb, VARIADIC allowed text[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    unknown text;
BEGIN
    SELECT string_agg(k, ', ' ORDER BY k) INTO unknown
      FROM jsonb_object_keys(CASE jsonb_typeof(b) WHEN 'object' THEN b ELSE '{}' END) k
     WHERE k <> ALL (allowed);
    PERFORM evently._require(unknown IS NULL, 'INVALID_ARGUMENT', 'unknown field',
        format('%s: not a field of this request (it takes %s).', unknown,
               coalesce(nullif(array_to_string(allowed, ', '), ''), 'none')));
END
$$;

-- The idempotency key of a request: the Idempotency-Key header
-- (req->>'idempotency_key') or the body's idempotency_key; both, differing,
-- are refused (a client must not believe either one was used).
CREATE OR REPLACE FUNCTION evently._idempotency_key(req jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(req->>'idempotency_key' IS NULL OR req->'body'->>'idempotency_key' IS NULL
                             OR req->>'idempotency_key' = req->'body'->>'idempotency_key',
        'INVALID_ARGUMENT', 'two different idempotency keys',
        'The Idempotency-Key header and the body''s idempotency_key differ; send one.');
    RETURN coalesce(req->>'idempotency_key', req->'body'->>'idempotency_key');
END
$$;

-- A query-string date (YYYY-MM-DD), NULL when absent, INVALID_ARGUMENT when malformed.
CREATE OR REPLACE FUNCTION evently._date_param(req jsonb, name text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(raw ~ '^\d{4}-\d{2}-\d{2}$', 'INVALID_ARGUMENT', 'Invalid query parameters',
        format('%s=%s is not a date (YYYY-MM-DD).', name, raw));
    BEGIN
        RETURN raw::date;
    EXCEPTION WHEN data_exception THEN
        PERFORM evently._fail('INVALID_ARGUMENT', 'Invalid query parameters', format('%s=%s is not a date.', name, raw));
    END;
END
$$;

-- A query-string time: RFC 3339 with a zone, or a date (YYYY-MM-DD) taken
-- as that whole day in UTC, so that from=D and to=D both include day D:
-- its first moment, or with day_end its last (its last microsecond,
-- timestamptz's resolution).  NULL when absent, INVALID_ARGUMENT naming the
-- parameter when it is neither.
CREATE OR REPLACE FUNCTION evently._time_param(req jsonb, name text, day_end boolean DEFAULT false)
RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN NULL;
    ELSIF raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN CASE WHEN day_end
                    THEN (evently._date_param(req, name) + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 microsecond'
                    ELSE evently._date_param(req, name)::timestamp AT TIME ZONE 'UTC' END;
    END IF;
    PERFORM evently._require(raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$',
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('%s=%s is neither an RFC 3339 time with a zone nor a date (YYYY-MM-DD).', name, raw));
    BEGIN
        RETURN upper(raw)::timestamptz;
    EXCEPTION WHEN data_exception THEN
        PERFORM evently._fail('INVALID_ARGUMENT', 'Invalid query parameters', format('%s=%s is not a time.', name, raw));
    END;
END
$$;

-- A query-string number (up to 12 digits each side of the point): NULL when
-- absent, INVALID_ARGUMENT when not a number in [min, max].
CREATE OR REPLACE FUNCTION evently._numeric_param(req jsonb, name text, min_value numeric, max_value numeric)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(raw ~ '^-?[0-9]{1,12}(\.[0-9]{1,12})?$' AND raw::numeric BETWEEN min_value AND max_value,
        'INVALID_ARGUMENT', 'Invalid query parameters',
        format('%s=%s is not a number from %s to %s.', name, raw, min_value, max_value));
    RETURN raw::numeric;
END
$$;

-- A body time in RFC 3339 with a zone (its T and Z in either case, as RFC
-- 3339 allows), or INVALID_ARGUMENT; never PostgreSQL's own message.
CREATE OR REPLACE FUNCTION evently._time_field(b jsonb, name text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF b->>name IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(b->>name ~ '^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d(:\d\d(\.\d+)?)?([Zz]|[+-]\d\d:?\d\d)$',
        'INVALID_ARGUMENT', format('invalid %s', name), format('%L is not an RFC 3339 time with a zone.', b->>name));
    RETURN upper(b->>name)::timestamptz;
EXCEPTION WHEN data_exception THEN
    PERFORM evently._fail('INVALID_ARGUMENT', format('invalid %s', name), format('%L is not a time.', b->>name));
END
$$;

-- A LIKE pattern that finds s literally anywhere in a text: % and _ in a
-- search string are characters to find, not wildcards.
CREATE OR REPLACE FUNCTION evently._contains(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
RETURN '%' || replace(replace(replace(s, '\', '\\'), '%', '\%'), '_', '\_') || '%';

-- Money and rates are kept to 2 decimals: a value with more is refused,
-- naming the field, rather than rounded behind the client's back.
CREATE OR REPLACE FUNCTION evently._require_decimals(value numeric, places int, field text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(value IS NULL OR value = round(value, places), 'INVALID_ARGUMENT',
        format('%s has more than %s decimals', field, places),
        format('%s is %s; it is kept to %s decimals.', field, value, places));
END
$$;

-- The sort of an admin list: sort_by among the allowed columns, sort_order
-- asc or desc; INVALID_ARGUMENT otherwise.
CREATE OR REPLACE FUNCTION evently._sort_param(req jsonb, allowed text[], fallback text)
RETURNS TABLE (sort_by text, descending boolean) LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    sort_by := coalesce(nullif(req->'query'->>'sort_by', ''), fallback);
    PERFORM evently._require(sort_by = ANY (allowed), 'INVALID_ARGUMENT', 'Invalid query parameters',
        format('sort_by=%s is not one of %s.', sort_by, array_to_string(allowed, ', ')));
    PERFORM evently._require(coalesce(req->'query'->>'sort_order', 'asc') IN ('asc', 'desc'), 'INVALID_ARGUMENT',
        'Invalid query parameters', format('sort_order=%s is not asc or desc.', req->'query'->>'sort_order'));
    descending := req->'query'->>'sort_order' = 'desc';
    RETURN NEXT;
END
$$;

-- a page of ids as {<key>: [...], total_count, page, limit, total_pages}
CREATE OR REPLACE FUNCTION evently._page(key text, docs jsonb, total bigint, page int, lim int) RETURNS jsonb
LANGUAGE sql IMMUTABLE RETURN jsonb_build_object(key, coalesce(docs, '[]'), 'total_count', total,
                                                 'page', page, 'limit', lim,
                                                 'total_pages', ceil(total::numeric / lim)::int);

-- The page a list route's query string asks for: limit from 1 to 100
-- (default_limit when absent), offset from 0 (0 when absent);
-- INVALID_ARGUMENT otherwise.
CREATE OR REPLACE FUNCTION evently._page_params(req jsonb, default_limit int, OUT lim int, OUT off int)
LANGUAGE sql IMMUTABLE AS $$
    SELECT evently._int_param(req, 'limit', default_limit, 1, 100), evently._int_param(req, 'offset', 0, 0, 1000000000)
$$;

-- One page of a list as the 1.1 list routes answer it:
-- {<key>: docs (never null), total_count, limit, offset}.
CREATE OR REPLACE FUNCTION evently._slice(key text, docs jsonb, total bigint, lim int, off int) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN jsonb_build_object(key, coalesce(docs, '[]'), 'total_count', total, 'limit', lim, 'offset', off);
