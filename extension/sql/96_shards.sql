-- 96_shards.sql: what a shard of a scaled-out evently needs of the extension
-- (issue 15; README, Past one machine).  Every database but the proxy runs this
-- same extension; a single database (evently.bucket = 0) is unchanged by
-- everything here.
--
-- 1. Ids that carry their shard.  evently.bucket (0..32767, a superuser's
--    setting: extension/buckets.c) is the bucket of the events a database
--    makes.  An id carries its bucket in its first 16 bits, the other 112 are
--    gen_random_uuid()'s; the proxy routes an id with RUN ON
--    evently_proxy.bucket(id), no lookup.  An event takes the database's bucket
--    (evently.new_id(), the default of events.id); every row of an event
--    takes its EVENT's bucket, whatever the session's, through the parent it
--    references (the bucket_id triggers below, or evently._child_id for the
--    ids made before their row: tickets, tiers), so that a bucket can move to
--    another shard with no id changing.  Users, tags, templates, sections,
--    seats, organizers and the other global rows keep plain random ids.
-- 2. Outbox and audit ids unique across shards: configure_shard starts both
--    identities at (bucket << 48) + 1.
-- 3. Global writes that shards depend on.  The global tables (users,
--    organizers, tags, venue_templates, venue_sections, seats, ...) are
--    written on the global primary and reach the shards by logical
--    replication.  Before a global delete, the proxy asks every shard
--    evently.require_unused(kind, id) (RUN ON ALL): the one-database refusal
--    if an event of the shard uses the object.  After a global change, the
--    shard does to its events what the same API call does on one database:
--    row triggers ENABLE REPLICA, which fire only where the change is
--    applied by logical replication (its apply worker runs with
--    session_replication_role = replica and fires row triggers only), never
--    on one database nor on the global primary.  The global writes and what
--    they do to event data on one database:
--      tags: rename, colour, (de)activation     -> the events' catalogs (replica trigger)
--      venue_sections: rename, description      -> the events' catalogs (replica trigger)
--      seats: status (PUT /admin/seats/:id)     -> blocked/unblocked in upcoming events (replica trigger)
--      users: ban (POST /admin/users/:id/ban)   -> live holds released, waitlist entries
--                                                  cancelled (replica trigger, as the banning ADMIN)
--      tag, template, section, seat deletes     -> refused while in use (require_unused)
--      seat label change                        -> refused while its template is in use
--                                                  (require_unused('seat', id))
--      new users, tags, templates, organizers; organizer verify/revoke (a role change); unban;
--      sign-ins, logouts, passwords; template fields; provider fees -> nothing on event data.

-- evently.new_id() RETURNS uuid: a new id in the session's bucket
-- (evently.bucket); plain gen_random_uuid() while it is 0.
CREATE OR REPLACE FUNCTION evently.new_id() RETURNS uuid
AS 'MODULE_PATHNAME', 'evently_new_id' LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION evently.new_id() IS
    'A new uuid in the session''s bucket (evently.bucket; plain random when 0)';

-- evently.bucket_of(id uuid) RETURNS int: the bucket an id carries, its
-- first 16 bits (0..65535; meaningless for an id made under bucket 0).
CREATE OR REPLACE FUNCTION evently.bucket_of(id uuid) RETURNS int
AS 'MODULE_PATHNAME', 'evently_bucket_of' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION evently.bucket_of(uuid) IS 'The bucket an id carries: its first 16 bits';

-- A new id for a row of parent's event (parent: the event's id or a row of
-- it), in that event's bucket; plain random while evently.bucket is 0.
CREATE OR REPLACE FUNCTION evently._child_id(parent uuid) RETURNS uuid
AS 'MODULE_PATHNAME', 'evently_child_id' LANGUAGE C VOLATILE PARALLEL SAFE;

-- BEFORE INSERT row trigger: the new row's id takes the bucket of its first
-- non-NULL parent column (the trigger's arguments); nothing while
-- evently.bucket is 0.  In C, so one database pays one comparison a row.
CREATE OR REPLACE FUNCTION evently._bucket_id() RETURNS trigger
AS 'MODULE_PATHNAME', 'evently_bucket_id' LANGUAGE C;

ALTER TABLE evently.events ALTER COLUMN id SET DEFAULT evently.new_id();

-- Every table of per-event rows with an id of its own, and the parents whose
-- bucket it takes (payments: the booking's or the order's; cancellations:
-- the booking's; refunds: the order's: each in its event's bucket).
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.event_pricing
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.cancellation_policies
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.holds
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.bookings
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.tickets
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.payments
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('booking_id', 'order_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.cancellations
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('booking_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.waitlist_entries
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.ticket_tiers
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.discount_codes
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.orders
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.refunds
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('order_id');
CREATE OR REPLACE TRIGGER bucket_id BEFORE INSERT ON evently.checkins
    FOR EACH ROW EXECUTE FUNCTION evently._bucket_id('event_id');

-- evently.configure_shard(bucket int) RETURNS jsonb: make this database a
-- shard of the given bucket (a superuser's, once, before it takes events):
-- ALTER DATABASE <this one> SET evently.bucket (so every later session has
-- it), the same for this session, and the outbox and audit_log identities
-- restarted at (bucket << 48) + 1 unless already past it, so that outbox ids
-- are unique across shards (consumers de-duplicate by them) and so are audit
-- ids.  Sessions already open keep their setting until they reconnect (so
-- configure before the shim, the bridge or pgbouncer connect).  Returns
-- {bucket, database, outbox_next_id, audit_log_next_id}.
-- INVALID_ARGUMENT for a bucket outside 1..32767 (0 is one database's);
-- INVALID_TRANSITION when an identity is already past this bucket's range
-- (the database was a shard of a higher bucket: its ids would collide with
-- that shard's).  A superuser's: nobody is granted it.
CREATE OR REPLACE FUNCTION evently.configure_shard(bucket int) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    first_id bigint;
    next_id bigint;
    tab text;
    done jsonb := '{}';
BEGIN
    PERFORM evently._require(bucket BETWEEN 1 AND 32767, 'INVALID_ARGUMENT', 'invalid bucket',
        format('Bucket %s is not from 1 to 32767 (0 is a single database''s).', coalesce(bucket::text, 'NULL')));
    first_id := (bucket::bigint << 48) + 1;
    FOREACH tab IN ARRAY ARRAY['outbox', 'audit_log'] LOOP
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s',
                       pg_catalog.pg_get_serial_sequence('evently.' || tab, 'id'))
           INTO next_id;
        PERFORM evently._require(next_id <= ((bucket::bigint + 1) << 48), 'INVALID_TRANSITION',
            'ids already past the bucket',
            format('evently.%s''s next id %s is past bucket %s''s range; it would collide with a higher bucket''s.',
                   tab, next_id, bucket));
        IF next_id < first_id THEN
            EXECUTE format('ALTER TABLE evently.%I ALTER COLUMN id RESTART WITH %s', tab, first_id);
            next_id := first_id;
        END IF;
        done := done || jsonb_build_object(tab || '_next_id', next_id);
    END LOOP;
    EXECUTE format('ALTER DATABASE %I SET evently.bucket = %s', current_database(), bucket);
    PERFORM pg_catalog.set_config('evently.bucket', bucket::text, false);
    RETURN jsonb_build_object('bucket', bucket, 'database', current_database()) || done;
END
$$;
COMMENT ON FUNCTION evently.configure_shard(int) IS
    'Make this database the shard of a bucket (1..32767): evently.bucket, outbox and audit ids in its range';

-- evently.require_unused(kind text, id text) RETURNS void: what the proxy
-- asks every shard (RUN ON ALL) before it deletes a global object on the
-- global primary, or relabels a seat there: the error the one-database API
-- raises when an event uses the object (IN_USE, from the same helpers:
-- _require_template_unused for a template, and for a section's or a seat's
-- template; _require_tag_unused for a tag), nothing otherwise.  Nothing
-- either for an id that is not a uuid or that the shard does not know: the
-- global call then answers as on one database.  kind is 'template',
-- 'section', 'seat' or 'tag' (INVALID_ARGUMENT otherwise: a proxy's bug).
CREATE OR REPLACE FUNCTION evently.require_unused(kind text, id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
BEGIN
    PERFORM evently._require(kind IN ('template', 'section', 'seat', 'tag'), 'INVALID_ARGUMENT', 'invalid kind',
        format('kind %L is not template, section, seat or tag.', kind));
    IF id IS NULL OR NOT evently._is_uuid(id) THEN
        RETURN;                 -- not a uuid (or NULL): the global call says so
    END IF;
    target := id::uuid;
    CASE kind
        WHEN 'template' THEN
            PERFORM evently._require_template_unused(target);
        WHEN 'section' THEN
            PERFORM evently._require_template_unused(s.template_id)
               FROM evently.venue_sections s WHERE s.id = target;
        WHEN 'seat' THEN
            PERFORM evently._require_template_unused(sec.template_id)
               FROM evently.seats st JOIN evently.venue_sections sec ON sec.id = st.section_id
              WHERE st.id = target;
        WHEN 'tag' THEN
            PERFORM evently._require_tag_unused(target);
    END CASE;
END
$$;
COMMENT ON FUNCTION evently.require_unused(text, text) IS
    'A shard''s check before a global delete: IN_USE as on one database if an event here uses the object';

-- evently.retire(kind text, id text, retiring boolean) RETURNS void: on the
-- global primary, the first step of the proxy's delete of a global object
-- that shards depend on (extension/proxy/base.sql): the template (a
-- section's or a seat's template, for kind section or seat) or the tag is
-- marked retired (retiring true) or live again (false).  A shard's new event
-- takes a template or tags only while they are not retired, holding them
-- SHARE (_create_event, _set_event_tags), so the mark, replicated
-- synchronously, waits on every shard for the events being made from the
-- object: once this commits, every shard's events using it are visible to
-- require_unused, and no new one can start.  Nothing for an unknown or
-- malformed id; kind as require_unused's (INVALID_ARGUMENT otherwise).
CREATE OR REPLACE FUNCTION evently.retire(kind text, id text, retiring boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target uuid := CASE WHEN evently._is_uuid(id) THEN id::uuid END;
    mark timestamptz := CASE WHEN retiring THEN now() END;
BEGIN
    PERFORM evently._require(kind IN ('template', 'section', 'seat', 'tag'), 'INVALID_ARGUMENT', 'invalid kind',
        format('kind %L is not template, section, seat or tag.', kind));
    IF kind = 'tag' THEN
        UPDATE evently.tags g SET retired_at = mark WHERE g.id = target;
        RETURN;
    END IF;
    UPDATE evently.venue_templates t SET retired_at = mark
     WHERE t.id = CASE kind
                    WHEN 'template' THEN target
                    WHEN 'section' THEN (SELECT s.template_id FROM evently.venue_sections s WHERE s.id = target)
                    ELSE (SELECT sec.template_id FROM evently.seats st
                            JOIN evently.venue_sections sec ON sec.id = st.section_id WHERE st.id = target)
                  END;
END
$$;
COMMENT ON FUNCTION evently.retire(text, text, boolean) IS
    'The proxy''s first step of a global delete: no shard''s new event may take the object up meanwhile';

-- A global row changed by replication (the replica triggers below): on the
-- shard's events, what the API call that changed it does on one database.
--   tags, venue_sections: the catalogs of the events that show the tag or
--     price the section are rebuilt (as the statement triggers
--     catalog_tag_changed and catalog_section_changed do on one database).
--   seats: the status reaches the upcoming events (_apply_seat_status), once
--     the template is locked as api_seat_update locks it, so that an event
--     being made from it here either copied the new status or is updated.
--   users: a ban releases the user's live holds and cancels the waiting
--     (_withdraw_user), as the ADMIN who banned (users.banned_by; a ban
--     without one, made by hand, is left to the sweeper, which lapses a
--     banned user's holds within a second).
-- The work runs as on one database, session_replication_role = origin for
-- its duration (the SET clause; the apply worker's replica is back after
-- it): the triggers of the rows it writes fire as they must (the seat
-- counters, the bucket_id of an offer's hold, foreign keys, the outbox's).
CREATE OR REPLACE FUNCTION evently._replicated_change() RETURNS trigger
LANGUAGE plpgsql SET session_replication_role = origin AS $$
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'tags' THEN
            UPDATE evently.events e SET catalog = evently._event_catalog(e.id, e.base_price)
             WHERE e.id IN (SELECT et.event_id FROM evently.event_tags et WHERE et.tag_id = NEW.id);
        WHEN 'venue_sections' THEN
            UPDATE evently.events e SET catalog = evently._event_catalog(e.id, e.base_price)
             WHERE e.id IN (SELECT p.event_id FROM evently.event_pricing p WHERE p.section_id = NEW.id);
        WHEN 'seats' THEN
            PERFORM 1 FROM evently.venue_templates t
             WHERE t.id = (SELECT sec.template_id FROM evently.venue_sections sec WHERE sec.id = NEW.section_id)
               FOR NO KEY UPDATE;
            PERFORM evently._apply_seat_status(NEW.id, NEW.status);
        WHEN 'users' THEN
            PERFORM evently._withdraw_user(NEW.id, NEW.banned_by);
    END CASE;
    RETURN NULL;
END
$$;

-- CREATE OR REPLACE TRIGGER makes a trigger ENABLE ORIGIN again: the ALTER
-- after each makes it a replica trigger, at every install and upgrade.
CREATE OR REPLACE TRIGGER catalog_tag_replicated AFTER UPDATE ON evently.tags
    FOR EACH ROW EXECUTE FUNCTION evently._replicated_change();
ALTER TABLE evently.tags ENABLE REPLICA TRIGGER catalog_tag_replicated;

CREATE OR REPLACE TRIGGER catalog_section_replicated AFTER UPDATE ON evently.venue_sections
    FOR EACH ROW EXECUTE FUNCTION evently._replicated_change();
ALTER TABLE evently.venue_sections ENABLE REPLICA TRIGGER catalog_section_replicated;

-- (logical replication marks every column updated, so the WHEN clauses, not
-- UPDATE OF, say which changes count)
CREATE OR REPLACE TRIGGER seat_status_replicated AFTER UPDATE ON evently.seats
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION evently._replicated_change();
ALTER TABLE evently.seats ENABLE REPLICA TRIGGER seat_status_replicated;

CREATE OR REPLACE TRIGGER user_ban_replicated AFTER UPDATE ON evently.users
    FOR EACH ROW WHEN (OLD.status = 'ACTIVE' AND NEW.status = 'BANNED' AND NEW.banned_by IS NOT NULL)
    EXECUTE FUNCTION evently._replicated_change();
ALTER TABLE evently.users ENABLE REPLICA TRIGGER user_ban_replicated;
