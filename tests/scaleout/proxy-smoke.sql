-- proxy-smoke.sql: a tiny hand-written proxy, only to smoke-test the
-- topology (tests/scaleout/topology.sh loads it when PROXY_SQL names no
-- other file).  The real proxy is generated from shim/routes.c.
--   evently.api_event_get   GET /events/:eventId, routed by path.eventId's bucket
--   evently.expire_holds    the shim's sweeper: every shard, summed
--   evently.health          the shim's /health: every shard's outbox lag
--   evently_proxy.global_health  G's health, to check the second server
CREATE SCHEMA IF NOT EXISTS evently;
CREATE SCHEMA IF NOT EXISTS evently_proxy;

-- The bucket in an id's first 16 bits (design.md); a key that is no uuid
-- (or none) routes to partition 0, whose shard answers with the usual
-- validation error or NOT_FOUND.
CREATE FUNCTION evently_proxy.route(key text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN key ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN ('x' || left(key, 4))::bit(16)::int ELSE 0 END
$$;

CREATE FUNCTION evently.api_event_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plproxy AS $$
    CLUSTER 'evently';
    RUN ON evently_proxy.route(req->'path'->>'eventId');
$$;

CREATE FUNCTION evently_proxy.expire_holds() RETURNS SETOF int
LANGUAGE plproxy AS $$
    CLUSTER 'evently';
    RUN ON ALL;
    TARGET evently.expire_holds;
$$;
CREATE FUNCTION evently.expire_holds() RETURNS int
LANGUAGE sql AS $$ SELECT coalesce(sum(n), 0)::int FROM evently_proxy.expire_holds() n $$;

CREATE FUNCTION evently_proxy.health() RETURNS SETOF jsonb
LANGUAGE plproxy AS $$
    CLUSTER 'evently';
    RUN ON ALL;
    TARGET evently.health;
$$;
CREATE FUNCTION evently.health() RETURNS jsonb
LANGUAGE sql AS $$
    SELECT jsonb_build_object('database', 'ok',
                              'outbox_lag_rows', coalesce(sum((h->>'outbox_lag_rows')::bigint), 0),
                              'outbox_lag_seconds', coalesce(max((h->>'outbox_lag_seconds')::numeric), 0))
      FROM evently_proxy.health() h
$$;

-- G's own health (the smoke test's call of the second server)
CREATE FUNCTION evently_proxy.global_health() RETURNS jsonb
LANGUAGE plproxy AS $$
    CLUSTER 'evently_global';
    RUN ON 0;
    TARGET evently.health;
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA evently, evently_proxy FROM PUBLIC;
GRANT USAGE ON SCHEMA evently, evently_proxy TO evently_gateway;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evently, evently_proxy TO evently_gateway;
