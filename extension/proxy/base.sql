-- evently_proxy: the proxy database of evently sharded by event (SPEC
-- section 13; README, "Past one machine").  It holds no data: every
-- function here runs its call on a shard, the global primary or the
-- reporting database through PL/Proxy, and has the name and arguments of the
-- function it stands for, so the shim and a DBA's psql call the proxy as
-- they would call one database.  This file is the hand-written part; the
-- api_* functions of the REST routes follow it, generated from the shim's
-- route table (shim/proxy.c).
--
-- The PL/Proxy clusters are SQL/MED servers the deployment creates
-- (tests/scaleout/topology.sh does): evently (the shards: partition
-- b & (P-1) is the shard owning bucket b, through pgbouncer in transaction
-- mode), evently_global (p0: the global primary) and evently_report (p0: the
-- reporting database).

\echo Use "CREATE EXTENSION evently_proxy CASCADE" to load this file. \quit

CREATE SCHEMA evently;
CREATE SCHEMA evently_proxy;

-- The bucket an id carries in its first 16 bits (the shards' evently.bucket_of):
-- 0 for anything that is not a uuid's text (its shard then answers the
-- usual "invalid id" error).
CREATE FUNCTION evently_proxy.bucket(id text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN id ~* '^\{?[0-9a-f]{4}' THEN ('x' || substr(ltrim(id, '{'), 1, 4))::bit(16)::int ELSE 0 END;

-- The event a signed ticket code names (format 1, extension/signing.c:
-- base64url of 0x01 | ticket id | event id | ...): NULL for anything else.
-- Its signature is the shard's to check.
CREATE FUNCTION evently_proxy.code_event(code text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN code ~ '^[A-Za-z0-9_-]{155}$'
            THEN encode(substr(decode(translate(code, '-_', '+/') || '=', 'base64'), 18, 16), 'hex') END;

-- Where a new event goes: the partitions in turn (the sequence is the
-- extension owner's: callers need no right on it).
CREATE SEQUENCE evently_proxy.placement;
CREATE FUNCTION evently_proxy.place_event() RETURNS int
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog
RETURN (nextval('evently_proxy.placement') % 2147483647)::int;

-- The shards' evently.require_unused(kind, id): EV014 from the first shard
-- where the template, section, seat or tag is in use.
CREATE FUNCTION evently_proxy.shards_require_unused(kind text, id text) RETURNS SETOF void
LANGUAGE plproxy AS $$
    CLUSTER 'evently';
    RUN ON ALL;
    TARGET evently.require_unused;
$$;

-- The global primary's evently.retire(kind, id, retiring).
CREATE FUNCTION evently_proxy.global_retire(kind text, id text, retiring boolean) RETURNS void
LANGUAGE plproxy AS $$
    CLUSTER 'evently_global';
    RUN ON 0;
    TARGET evently.retire;
$$;

-- What a global write that shards depend on must find unused on every shard
-- (UNUSED routes: a delete, a seat's new label): the kind of object to
-- check, or NULL when the write needs no check (kind seat_label: a seat
-- update that changes no label).
CREATE FUNCTION evently_proxy.unused_kind(kind text, req jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN kind <> 'seat_label' THEN kind
            WHEN jsonb_typeof(req->'body') = 'object' AND req->'body' ?| ARRAY['seat_number', 'row', 'position']
            THEN 'seat' END;

-- A global write that shards depend on, as one database makes it: the
-- object is retired on the global primary first (no shard's new event may
-- take it up from then on, and the events being made from it are committed
-- when the mark returns: evently.retire), then found unused on every shard
-- (the one-database EV014 from the first that uses it), then written; it is
-- live again afterwards, whatever happened (a deleted one is gone).  KIND:
-- as unused_kind's; WRITE: the PL/Proxy call of the write on the global
-- primary, evently_proxy.api_<route> (generated, shim/proxy.c).
CREATE FUNCTION evently_proxy.unused_write(kind text, actor uuid, req jsonb, write regproc) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    checked text := evently_proxy.unused_kind(kind, req);
    answer jsonb;
BEGIN
    IF checked IS NOT NULL THEN
        PERFORM evently_proxy.global_retire(checked, req #>> '{path,id}', true);
        PERFORM evently_proxy.shards_require_unused(checked, req #>> '{path,id}');
    END IF;
    EXECUTE format('SELECT %s($1, $2)', write) INTO answer USING actor, req;
    IF checked IS NOT NULL THEN
        PERFORM evently_proxy.global_retire(checked, req #>> '{path,id}', false);
    END IF;
    RETURN answer;
EXCEPTION WHEN OTHERS THEN
    IF checked IS NOT NULL THEN
        PERFORM evently_proxy.global_retire(checked, req #>> '{path,id}', false);
    END IF;
    RAISE;
END
$$;

-- ---------------------------------------------------------------------------
-- Lists over every shard.  A list route's call goes to every shard asking
-- for the first rows up to the end of the page (shard_rows: the shards'
-- evently._int_param answers page 1, offset 0 and that many rows, after
-- checking the client's own values as one database does); the proxy sorts
-- the union as one database would, cuts the page and adds up the totals.
-- So page k through the proxy is page k of the same data in one database.
--
-- A merge: the array's key, how the route pages (page: page/limit,
-- total_count and total_pages; slice: limit/offset and total_count; count:
-- limit/offset and count = the rows of the page; all: every row, no page),
-- and the order of its rows as typed JSON fields of a row d ($3: the request).
CREATE FUNCTION evently_proxy.merge_spec(name text) RETURNS jsonb
LANGUAGE sql IMMUTABLE
RETURN CASE name
    WHEN 'events'             THEN '{"key": "events", "paging": "page", "limit": 10, "order": "(d->>''date_time'')::timestamptz, (d->>''id'')::uuid"}'
    WHEN 'admin_events'       THEN '{"key": "events", "paging": "page", "limit": 10, "order": "(d->>''date_time'')::timestamptz, (d->>''id'')::uuid"}'
    WHEN 'events_upcoming'    THEN '{"key": null, "paging": "top", "limit": 10, "order": "(d->>''date_time'')::timestamptz, (d->>''id'')::uuid"}'
    WHEN 'events_search'      THEN '{"key": "events", "paging": "slice", "limit": 20, "order": "CASE evently_proxy.search_sort($3) WHEN ''relevance'' THEN (d->>''rank'')::float4 END DESC NULLS LAST, CASE evently_proxy.search_sort($3) WHEN ''price'' THEN (d->>''base_price'')::numeric END, (d->>''date_time'')::timestamptz, (d->>''id'')::uuid"}'
    WHEN 'organizer_events'   THEN '{"key": "events", "paging": "slice", "limit": 20, "order": "(d->>''date_time'')::timestamptz DESC, (d->>''id'')::uuid"}'
    WHEN 'user_bookings'      THEN '{"key": "bookings", "paging": "count", "limit": 10, "order": "(d->>''created_at'')::timestamptz DESC, (d->>''booking_id'')::uuid"}'
    WHEN 'admin_bookings'     THEN '{"key": "bookings", "paging": "slice_count", "limit": 10, "order": "(d->>''created_at'')::timestamptz DESC, (d->>''booking_id'')::uuid"}'
    WHEN 'my_orders'          THEN '{"key": "orders", "paging": "slice", "limit": 20, "order": "(d->>''created_at'')::timestamptz DESC, (d->>''id'')::uuid"}'
    WHEN 'my_tickets'         THEN '{"key": "tickets", "paging": "slice", "limit": 20, "order": "(d->>''created_at'')::timestamptz DESC, (d->>''id'')::uuid"}'
    WHEN 'user_cancellations' THEN '{"key": "cancellations", "paging": "all", "order": "(d->>''created_at'')::timestamptz DESC, (d->>''id'')::uuid"}'
    WHEN 'user_waitlist'      THEN '{"key": null, "paging": "all", "order": "(d->>''joined_at'')::timestamptz DESC"}'
    WHEN 'user_holds'         THEN '{"key": null, "paging": "all", "order": "(d->>''_sort'')::timestamptz, (d->>''hold_id'')::uuid"}'
    WHEN 'audit_logs'         THEN '{"key": "audit_logs", "paging": "slice", "limit": 20, "order": "(d->>''id'')::bigint DESC"}'
END::jsonb;

-- how /events/search sorts (47_search.sql): relevance when there are words, else by date
CREATE FUNCTION evently_proxy.search_sort(req jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN coalesce(nullif(req->'query'->>'sort', ''),
                CASE WHEN nullif(btrim(req->'query'->>'q'), '') IS NULL THEN 'date' ELSE 'relevance' END);

-- An integer query parameter as the client gave it, or FALLBACK when it
-- is not one (the shards then refuse it, with one database's error).
CREATE FUNCTION evently_proxy.int_query(req jsonb, name text, fallback int) RETURNS bigint
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN req->'query'->>name ~ '^[0-9]{1,9}$' THEN (req->'query'->>name)::bigint ELSE fallback END;

-- The rows of the client's page in the whole list: LIM of them after the
-- FIRST (0 for the lists that are not paged).
CREATE FUNCTION evently_proxy.page_window(s jsonb, req jsonb, OUT lim bigint, OUT first bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT l, CASE s->>'paging' WHEN 'page' THEN (evently_proxy.int_query(req, 'page', 1) - 1) * l
                                WHEN 'all' THEN 0 WHEN 'top' THEN 0
                                ELSE evently_proxy.int_query(req, 'offset', 0) END
      FROM evently_proxy.int_query(req, 'limit', (s->>'limit')::int) l
$$;

-- The request each shard is asked: the client's, plus shard_rows, the rows
-- up to the end of the page (shard_sort for a list without pages).
CREATE FUNCTION evently_proxy.shard_request(name text, req jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s->>'paging'
        WHEN 'all' THEN req || '{"shard_sort": true}'
        WHEN 'top' THEN req
        ELSE req || jsonb_build_object('shard_rows', w.first + w.lim)
        END
      FROM evently_proxy.merge_spec(name) s, evently_proxy.page_window(s, req) w
$$;

-- the global primary's own audit log (accounts, tags, venues), for the admin's list
CREATE FUNCTION evently_proxy.global_audit_logs(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; TARGET evently.api_admin_audit_logs; $$;

-- The shards' answers to one list request, as one database answers it.
CREATE FUNCTION evently_proxy.merge(name text, actor uuid, req jsonb, parts jsonb[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s jsonb := evently_proxy.merge_spec(name);
    lim bigint;
    first bigint;
    rows jsonb;
    total bigint;
    answer jsonb := parts[1];
BEGIN
    SELECT w.lim, w.first INTO lim, first FROM evently_proxy.page_window(s, req) w;
    IF name = 'audit_logs' THEN
        parts := parts || evently_proxy.global_audit_logs(actor, evently_proxy.shard_request(name, req));
    END IF;
    -- a shard's own sort key (_sort, asked by shard_sort) is the proxy's alone
    EXECUTE format('SELECT coalesce(jsonb_agg(d - ''_sort'' ORDER BY %s), ''[]'') FROM (SELECT d FROM unnest($1) p, '
                   'jsonb_array_elements(CASE WHEN $2 IS NULL THEN p ELSE p->$2 END) d ORDER BY %s %s) r(d)',
                   s->>'order', s->>'order',
                   CASE WHEN s->>'paging' = 'all' THEN '' ELSE format('LIMIT %s OFFSET %s', lim, first) END)
       INTO rows USING parts, s->>'key', req;
    IF s->>'key' IS NULL THEN
        RETURN rows;
    END IF;
    SELECT sum(coalesce((p->>'total_count')::bigint, (p->>'count')::bigint)) INTO total FROM unnest(parts) p;
    answer := jsonb_set(answer, ARRAY[s->>'key'], rows);
    RETURN CASE s->>'paging'
        WHEN 'page' THEN answer || jsonb_build_object('total_count', total, 'total_pages', ceil(total::numeric / lim)::int,
                                                      'page', first / lim + 1, 'limit', lim)
        WHEN 'count' THEN answer || jsonb_build_object('count', jsonb_array_length(rows), 'limit', lim, 'offset', first)
        WHEN 'slice_count' THEN answer || jsonb_build_object('count', total, 'limit', lim, 'offset', first)
        WHEN 'slice' THEN answer || jsonb_build_object('total_count', total, 'limit', lim, 'offset', first)
        ELSE answer || jsonb_build_object('count', jsonb_array_length(rows)) END;
END
$$;

-- ---------------------------------------------------------------------------
-- What the shim calls besides the routes, and the documented SQL API
-- (README, "SQL API"), each where its data lives.

-- evently.health(): the outbox lag summed over the shards, the worst age.
CREATE FUNCTION evently_proxy.shard_health() RETURNS SETOF jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON ALL; TARGET evently.health; $$;
CREATE FUNCTION evently.health() RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('database', 'ok',
                              'outbox_lag_rows', sum((h->>'outbox_lag_rows')::bigint),
                              'outbox_lag_seconds', max((h->>'outbox_lag_seconds')::numeric))
      FROM evently_proxy.shard_health() h
$$;

-- evently.expire_holds(): every shard's sweep, each its own transaction; the holds expired, summed.
CREATE FUNCTION evently_proxy.shard_expire_holds() RETURNS SETOF int
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON ALL; TARGET evently.expire_holds; $$;
CREATE FUNCTION evently.expire_holds() RETURNS int
LANGUAGE sql AS $$ SELECT coalesce(sum(n), 0)::int FROM evently_proxy.shard_expire_holds() n $$;

-- the card payments' worker (shim/payments.c): every shard's work, and each result back to its shard
CREATE FUNCTION evently_proxy.shard_payment_work(max_tasks int, intent_retry_after_ms int) RETURNS SETOF jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON ALL; TARGET evently.payment_work; $$;
CREATE FUNCTION evently.payment_work(max_tasks int DEFAULT 20, intent_retry_after_ms int DEFAULT 30000) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT coalesce(jsonb_agg(t), '[]')
      FROM evently_proxy.shard_payment_work(max_tasks, intent_retry_after_ms) w, jsonb_array_elements(w) t
$$;
CREATE FUNCTION evently.payment_record(result jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$
    CLUSTER 'evently';
    RUN ON evently_proxy.bucket(coalesce(result->>'payment_id', result->>'refund_id'));
$$;

-- the engine, by the event's or the hold's or the booking's bucket
CREATE FUNCTION evently.hold_seats(event_id uuid, user_id uuid, seat_ids uuid[], ttl interval DEFAULT NULL,
                                   idempotency_key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;
CREATE FUNCTION evently.release_hold(hold_id uuid, user_id uuid) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(hold_id::text); $$;
CREATE FUNCTION evently.confirm_booking(hold_id uuid, user_id uuid, payment_method text DEFAULT 'mock',
                                        idempotency_key text DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(hold_id::text); $$;
CREATE FUNCTION evently.cancel_with_policy(booking_id uuid, user_id uuid, reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(booking_id::text); $$;
CREATE FUNCTION evently.waitlist_promote(event_id uuid, max_offers int DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;
CREATE FUNCTION evently.event_seats(event_id uuid)
RETURNS TABLE (seat_id uuid, section text, "row" text, seat_number text, status text, price numeric)
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;
CREATE FUNCTION evently.set_cancellation_policy(event_id uuid, allow_cancellation boolean,
                                                cancellation_deadline timestamptz, fee_type text, fee_amount numeric,
                                                refund_processing_days int DEFAULT 5, actor_id uuid DEFAULT NULL)
RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;
CREATE FUNCTION evently.join_waitlist(event_id uuid, user_id uuid, quantity int DEFAULT 1,
                                      preferences jsonb DEFAULT NULL, tier_id uuid DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;
CREATE FUNCTION evently.leave_waitlist(event_id uuid, user_id uuid) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.bucket(event_id::text); $$;

-- a new event: the next shard in turn
CREATE FUNCTION evently.create_event(name text, venue_template_id uuid, date_time timestamptz, base_price numeric,
                                     created_by uuid DEFAULT NULL, venue text DEFAULT NULL,
                                     description text DEFAULT NULL, section_multipliers jsonb DEFAULT '{}',
                                     tags text[] DEFAULT '{}', settings jsonb DEFAULT '{}') RETURNS uuid
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON evently_proxy.place_event(); $$;

-- global data: the global primary, which replicates it to every shard
CREATE FUNCTION evently.create_user(email text, password text, first_name text, last_name text,
                                    role text DEFAULT 'USER') RETURNS uuid
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;
CREATE FUNCTION evently.create_tag(name text, color text DEFAULT '#6B7280', description text DEFAULT NULL,
                                   created_by uuid DEFAULT NULL) RETURNS uuid
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;
CREATE FUNCTION evently.create_venue_template(name text, layout_type text DEFAULT 'GENERAL',
                                              description text DEFAULT NULL, created_by uuid DEFAULT NULL) RETURNS uuid
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;
CREATE FUNCTION evently.add_section(template_id uuid, name text, row_start text, row_end text, seats_per_row int,
                                    description text DEFAULT NULL, created_by uuid DEFAULT NULL) RETURNS uuid
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;
CREATE FUNCTION evently.set_provider_fee(provider text, percent_fee numeric, fixed_fee numeric,
                                         actor_id uuid DEFAULT NULL) RETURNS jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;
CREATE FUNCTION evently.error_codes() RETURNS TABLE (sqlstate text, name text, http_status int)
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;

-- ---------------------------------------------------------------------------
-- The inbox and the e-mail: evently-notify, connected here, reads every
-- shard's messages.  What a message says is composed where its event's rows
-- are (the event's shard; the global primary for a message without an
-- event: user.*, organizer.*), and the inbox and mail_log are written on
-- the global primary.  The shards' functions only read, so a message
-- composed on one shard and stored on the global primary needs no
-- two-phase commit: a failure retries the message, which stores once.

-- the cluster where a message is composed
CREATE FUNCTION evently_proxy.message_cluster(message jsonb) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN CASE WHEN message->>'event_id' IS NULL THEN 'evently_global' ELSE 'evently' END;

CREATE FUNCTION evently_proxy.compose_notification(message jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$
    CLUSTER evently_proxy.message_cluster(message);
    RUN ON evently_proxy.bucket(message->>'event_id');
    TARGET evently.compose_notification;
$$;
CREATE FUNCTION evently_proxy.store_notification(message jsonb, composed jsonb) RETURNS boolean
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; TARGET evently.store_notification; $$;

-- the inbox rows of a message, composed on its event's shard, written on
-- the global primary (not asked when there are none: a type the inbox ignores)
CREATE FUNCTION evently.record_notification(message jsonb) RETURNS boolean
LANGUAGE sql AS $$
    SELECT CASE WHEN c = '[]' THEN false ELSE evently_proxy.store_notification(message, c) END
      FROM evently_proxy.compose_notification(message) c
$$;

-- a message's mails, composed on its event's shard
CREATE FUNCTION evently.mail_for_message(message jsonb)
RETURNS TABLE (recipient text, subject text, body text, ticket_codes text[])
LANGUAGE plproxy AS $$
    CLUSTER evently_proxy.message_cluster(message);
    RUN ON evently_proxy.bucket(message->>'event_id');
$$;
CREATE FUNCTION evently_proxy.mail_recipients(outbox_id bigint) RETURNS text[]
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; TARGET evently.mail_recipients; $$;

-- the mails still to send: mail_for_message less what the global
-- primary's mail_log has (asked once, and only when there are mails)
CREATE FUNCTION evently.mail_pending(message jsonb)
RETURNS TABLE (recipient text, subject text, body text, ticket_codes text[])
LANGUAGE plpgsql AS $$
DECLARE
    sent text[];
BEGIN
    FOR recipient, subject, body, ticket_codes IN SELECT * FROM evently.mail_for_message(message) LOOP
        sent := coalesce(sent, evently_proxy.mail_recipients((message->>'id')::bigint));
        IF recipient <> ALL (sent) THEN
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- a mail sent, recorded once in the global primary's mail_log
CREATE FUNCTION evently.mail_sent(p_outbox_id bigint, p_recipient text, p_subject text) RETURNS boolean
LANGUAGE plproxy AS $$ CLUSTER 'evently_global'; RUN ON 0; $$;

-- POST /admin/users/:id/ban: the ban is the global primary's; each shard
-- withdraws the user's live holds and waitlist entries when the ban reaches
-- it (the replica trigger of 96_shards.sql, before the ban's commit returns),
-- and the answer counts what the shards held for the user just before.
CREATE FUNCTION evently_proxy.shard_withdrawable(p_user_id text) RETURNS SETOF jsonb
LANGUAGE plproxy AS $$ CLUSTER 'evently'; RUN ON ALL; TARGET evently.withdrawable; $$;
CREATE FUNCTION evently.api_admin_user_ban(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    held jsonb;
BEGIN
    SELECT jsonb_build_object('released_holds', coalesce(sum((w->>'released_holds')::int), 0),
                              'cancelled_waitlist_entries', coalesce(sum((w->>'cancelled_waitlist_entries')::int), 0))
      INTO held FROM evently_proxy.shard_withdrawable(req #>> '{path,id}') w;
    RETURN evently_proxy.api_admin_user_ban(actor, req) || held;
END
$$;
