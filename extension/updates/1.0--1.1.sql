-- 1.0 -> 1.1: the changes to the extension's state (tables, columns,
-- indexes, dropped or re-typed functions, data).  The upgrade script
-- evently--1.0--1.1.sql is this file followed by every file of extension/sql/
-- except 00_schema.sql: the functions, views and triggers are re-created
-- (CREATE OR REPLACE) from the same sources as a fresh install, then
-- 1.0--1.1-data.sql changes the data that needs the new functions.  So a
-- change to a function needs nothing here, unless CREATE OR REPLACE cannot make it
-- (a renamed parameter, another return type: DROP the old one here); a change
-- to 00_schema.sql always needs its twin here.  tests/upgrade/run.sh proves
-- that both paths give the same schema.

-- _fail and _require take an error's name, not its SQLSTATE (C, errors.c);
-- their parameters are renamed, which CREATE OR REPLACE cannot do, and
-- _require gains a hint.
DROP FUNCTION evently._fail(text, text, text, text);
DROP FUNCTION evently._require(boolean, text, text, text);

-- _close_event takes the reason of the cancellation (and refunds bookings)
DROP FUNCTION evently._close_event(uuid, uuid);

-- waitlist_promote takes the most offers to make (admin notify's count)
DROP FUNCTION evently.waitlist_promote(uuid);

-- the SQL API records who created a venue template or a section
DROP FUNCTION evently.create_venue_template(text, text, text);
DROP FUNCTION evently.add_section(uuid, text, text, text, int, text);

-- a per-event cap on seats held and bought together, per user
ALTER TABLE evently.events
    ADD COLUMN max_tickets_per_user int CHECK (max_tickets_per_user BETWEEN 1 AND 1000);

-- the acting user is resolved by evently._actor and _admin (04_security.sql)
DROP FUNCTION evently._require_actor(uuid);
DROP FUNCTION evently._require_admin(uuid);

-- sessions end when they should: a per-user epoch carried by tokens
ALTER TABLE evently.users ADD COLUMN session_epoch int NOT NULL DEFAULT 0;

-- 1.1: a database role acting as an evently user (SPEC section 8): a DBA's
-- role meets the same rules as that user's REST calls.
CREATE TABLE evently.role_links (
    role_id   oid PRIMARY KEY,               -- the role itself: a role dropped and
    role_name name NOT NULL,                 -- made again under its name is not linked
    user_id   uuid NOT NULL REFERENCES evently.users ON DELETE CASCADE,
    linked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON evently.role_links (user_id);

-- 1.1: failed logins per account, for throttling that no change of source
-- address escapes (api_login)
CREATE TABLE evently.login_failures (
    email         text NOT NULL,             -- lower-cased, known or not
    source        text NOT NULL DEFAULT '',  -- '': any address; else one the account signed in from
    failures      int NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure  timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz,
    PRIMARY KEY (email, source)
);

-- 1.1: the addresses an account signed in from (the last 90 days count):
-- each has its own throttle, so failures from elsewhere do not lock the
-- owner out (_login_bucket)
CREATE TABLE evently.login_sources (
    email      text NOT NULL,                -- lower-cased
    address    text NOT NULL,
    last_login timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, address)
);

-- 1.1: holds and waitlist entries point at each other; checked at commit,
-- so a backup restored in one transaction may load either table first
ALTER TABLE evently.holds ALTER CONSTRAINT holds_waitlist_entry_id_fkey DEFERRABLE INITIALLY DEFERRED;

-- 1.1: organizers and the event lifecycle (SPEC section 9)
CREATE TABLE evently.organizers (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES evently.users,
    organization_name   text NOT NULL CHECK (length(btrim(organization_name)) BETWEEN 2 AND 200),
    description         text CHECK (length(description) <= 2000),
    verification_status text NOT NULL DEFAULT 'PENDING'
                        CHECK (verification_status IN ('PENDING', 'VERIFIED', 'REJECTED', 'REVOKED')),
    reason              text CHECK (length(reason) <= 500),   -- the ADMIN's, required to reject or revoke
    reviewed_by         uuid REFERENCES evently.users,
    reviewed_at         timestamptz,
    verified_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (verification_status NOT IN ('REJECTED', 'REVOKED') OR reason IS NOT NULL),
    CHECK ((verification_status = 'PENDING') = (reviewed_at IS NULL))
);
CREATE UNIQUE INDEX organizers_one_live ON evently.organizers (user_id)
    WHERE verification_status IN ('PENDING', 'VERIFIED');
CREATE INDEX organizers_queue ON evently.organizers (verification_status, created_at);

ALTER TABLE evently.users
    ADD COLUMN ban_reason text CHECK (length(ban_reason) <= 500),
    ADD COLUMN banned_at timestamptz;
UPDATE evently.users SET banned_at = updated_at WHERE status = 'BANNED';
CREATE INDEX users_banned ON evently.users (id) WHERE status = 'BANNED';

ALTER TABLE evently.events
    ALTER COLUMN venue_template_id DROP NOT NULL,
    DROP CONSTRAINT events_status_check,
    ADD CONSTRAINT events_status_check
        CHECK (status IN ('draft', 'under_review', 'published', 'active', 'completed', 'cancelled')),
    ADD COLUMN organizer_id uuid REFERENCES evently.organizers,
    ADD COLUMN category text CHECK (category ~ '^[a-z0-9][a-z0-9 &/_-]{0,49}$'),
    ADD COLUMN end_time timestamptz,
    ADD COLUMN sales_during_event boolean NOT NULL DEFAULT false,
    ADD COLUMN review_note text CHECK (length(review_note) <= 500),
    ADD COLUMN cancel_reason text CHECK (length(cancel_reason) <= 500),
    ADD COLUMN submitted_at timestamptz,
    ADD COLUMN published_at timestamptz,
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN search tsvector NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A')
        || setweight(jsonb_to_tsvector('english'::regconfig,
                         jsonb_path_query_array(catalog, '$.tags[*].name'), '["string"]'), 'B')
        || setweight(to_tsvector('english'::regconfig, venue), 'C')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')) STORED;
-- a 1.0 event ends three hours after it starts (SPEC section 9's default)
-- (or never, for a date too close to the end of time to add three hours)
UPDATE evently.events SET end_time = CASE WHEN date_time < '9999-01-01' THEN date_time + interval '3 hours'
                                          ELSE 'infinity' END,
                          published_at = created_at,
                          cancelled_at = CASE WHEN status = 'cancelled' THEN updated_at END;
ALTER TABLE evently.events
    ALTER COLUMN end_time SET NOT NULL,
    ADD CONSTRAINT events_ends_after_start CHECK (end_time > date_time);
CREATE INDEX events_organizer ON evently.events (organizer_id, date_time);
CREATE INDEX events_search ON evently.events USING gin (search);

CREATE INDEX audit_log_event ON evently.audit_log (event_id, id);
CREATE INDEX audit_log_actor ON evently.audit_log (actor_id, id);
