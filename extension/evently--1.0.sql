/* evently--1.0.sql: the schema, the SQL admin API and the C engine's entry points */

\echo Use "CREATE EXTENSION evently CASCADE" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Password hashing goes through pgcrypto, wherever it was installed.  The
-- wrappers pin its schema at install time so no caller's search_path matters.
-- ---------------------------------------------------------------------------
DO $install$
DECLARE
    crypto_schema text;
BEGIN
    SELECT n.nspname INTO crypto_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';
    EXECUTE format($f$
        CREATE FUNCTION evently._bcrypt_hash(password text) RETURNS text
        LANGUAGE sql VOLATILE STRICT
        RETURN %1$I.crypt(password, %1$I.gen_salt('bf', 10))$f$, crypto_schema);
    EXECUTE format($f$
        CREATE FUNCTION evently._bcrypt_check(password text, hash text) RETURNS boolean
        LANGUAGE sql STABLE STRICT
        RETURN %1$I.crypt(password, hash) = hash$f$, crypto_schema);
END
$install$;

-- ---------------------------------------------------------------------------
-- Schema.  Constraints make bad states unrepresentable: every reference is a
-- foreign key, every status and amount is checked, and a seat's status always
-- agrees with the hold or booking that explains it.
-- ---------------------------------------------------------------------------

CREATE TABLE evently.users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    first_name    text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name     text NOT NULL CHECK (length(btrim(last_name)) BETWEEN 1 AND 100),
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    password_hash text NOT NULL CHECK (password_hash LIKE '$2_$1_$%'),
    role          text NOT NULL DEFAULT 'USER' CHECK (role IN ('USER', 'ORGANIZER', 'ADMIN')),
    status        text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'BANNED')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON evently.users (lower(email));

CREATE TABLE evently.tags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 2 AND 100),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9_]+(-[a-z0-9_]+)*$'),
    description text CHECK (length(description) <= 500),
    color       text NOT NULL DEFAULT '#6B7280' CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
    is_active   boolean NOT NULL DEFAULT true,
    created_by  uuid REFERENCES evently.users,
    updated_by  uuid REFERENCES evently.users,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evently.venue_templates (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    description           text CHECK (length(description) <= 1000),
    default_rows          int CHECK (default_rows BETWEEN 1 AND 50),
    default_seats_per_row int CHECK (default_seats_per_row BETWEEN 1 AND 100),
    layout_type           text NOT NULL DEFAULT 'GENERAL'
                          CHECK (layout_type IN ('THEATER', 'STADIUM', 'CONFERENCE', 'GENERAL')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evently.venue_sections (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    template_id   uuid NOT NULL REFERENCES evently.venue_templates ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    description   text CHECK (length(description) <= 500),
    row_start     text NOT NULL CHECK (length(row_start) BETWEEN 1 AND 10),
    row_end       text NOT NULL CHECK (length(row_end) BETWEEN 1 AND 10),
    seats_per_row int NOT NULL CHECK (seats_per_row BETWEEN 1 AND 100),
    total_seats   int NOT NULL CHECK (total_seats >= 1),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (template_id, name)
);
CREATE INDEX ON evently.venue_sections (template_id);

CREATE TABLE evently.seats (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    section_id  uuid NOT NULL REFERENCES evently.venue_sections ON DELETE CASCADE,
    seat_number text NOT NULL,
    "row"       text NOT NULL,
    position    int NOT NULL CHECK (position >= 1),
    status      text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'BLOCKED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (section_id, seat_number)
);

CREATE TABLE evently.events (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 255),
    description        text CHECK (length(description) <= 2000),
    venue              text NOT NULL CHECK (length(venue) <= 255),
    venue_template_id  uuid NOT NULL REFERENCES evently.venue_templates,
    date_time          timestamptz NOT NULL,
    base_price         numeric(12,2) NOT NULL CHECK (base_price >= 0),
    status             text NOT NULL DEFAULT 'published'
                       CHECK (status IN ('published', 'cancelled', 'completed')),
    image_url          text CHECK (length(image_url) <= 500),
    created_by         uuid REFERENCES evently.users,
    updated_by         uuid REFERENCES evently.users,
    -- per-event settings of the engine
    hold_ttl           interval NOT NULL DEFAULT '10 minutes'
                       CHECK (hold_ttl BETWEEN '1 second' AND '1 day'),
    max_seats_per_hold int NOT NULL DEFAULT 10 CHECK (max_seats_per_hold BETWEEN 1 AND 100),
    max_seats_per_user int NOT NULL DEFAULT 10 CHECK (max_seats_per_user BETWEEN 1 AND 1000),
    offer_window       interval NOT NULL DEFAULT '15 minutes'
                       CHECK (offer_window BETWEEN '1 second' AND '7 days'),
    -- {"tags", "venue_sections"} as event reads show them, rebuilt by the
    -- catalog triggers below whenever a tag, a price, a section or the base
    -- price changes: the busiest read then joins nothing
    catalog            jsonb NOT NULL DEFAULT '{"tags": [], "venue_sections": []}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON evently.events (date_time);
CREATE INDEX ON evently.events (venue_template_id);

CREATE TABLE evently.event_pricing (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    section_id       uuid NOT NULL REFERENCES evently.venue_sections ON DELETE CASCADE,
    price_multiplier numeric(6,2) NOT NULL DEFAULT 1.0 CHECK (price_multiplier BETWEEN 0.1 AND 10),
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, section_id)
);

CREATE TABLE evently.event_tags (
    event_id   uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    tag_id     uuid NOT NULL REFERENCES evently.tags,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, tag_id)
);
CREATE INDEX ON evently.event_tags (tag_id);

-- An event's active tags and priced sections, the catalog part of its JSON.
CREATE FUNCTION evently._event_catalog(p_event_id uuid, p_base_price numeric) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name,
                                                              'slug', g.slug, 'color', g.color)
                                           ORDER BY g.name)
                            FROM evently.event_tags et JOIN evently.tags g ON g.id = et.tag_id
                           WHERE et.event_id = p_event_id AND g.is_active), '[]'),
        'venue_sections', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                               'id', sec.id, 'name', sec.name, 'description', sec.description,
                                               'row_start', sec.row_start, 'row_end', sec.row_end,
                                               'seats_per_row', sec.seats_per_row,
                                               'total_seats', sec.total_seats,
                                               'price_multiplier', p.price_multiplier,
                                               'price', round(p_base_price * p.price_multiplier, 2))
                                           ORDER BY sec.name)
                                      FROM evently.event_pricing p
                                      JOIN evently.venue_sections sec ON sec.id = p.section_id
                                     WHERE p.event_id = p_event_id), '[]'))
$$;

-- Rebuild the catalogs a statement on event_tags, event_pricing, tags or
-- venue_sections touched (statement triggers: one rebuild per event).
CREATE FUNCTION evently._refresh_catalogs() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_TABLE_NAME = 'tags' THEN
        ids := ARRAY(SELECT et.event_id FROM evently.event_tags et JOIN new_rows n ON n.id = et.tag_id);
    ELSIF TG_TABLE_NAME = 'venue_sections' THEN
        ids := ARRAY(SELECT p.event_id FROM evently.event_pricing p JOIN new_rows n ON n.id = p.section_id);
    ELSIF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT event_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT event_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT event_id FROM new_rows UNION SELECT event_id FROM old_rows);
    END IF;
    UPDATE evently.events e SET catalog = evently._event_catalog(e.id, e.base_price)
     WHERE e.id = ANY (ids);
    RETURN NULL;
END
$$;
CREATE TRIGGER catalog_tags_added AFTER INSERT ON evently.event_tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_tags_removed AFTER DELETE ON evently.event_tags
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_prices_added AFTER INSERT ON evently.event_pricing
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_prices_changed AFTER UPDATE ON evently.event_pricing
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_prices_removed AFTER DELETE ON evently.event_pricing
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_tag_changed AFTER UPDATE ON evently.tags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();
CREATE TRIGGER catalog_section_changed AFTER UPDATE ON evently.venue_sections
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION evently._refresh_catalogs();

-- Section prices follow the base price.
CREATE FUNCTION evently._reprice_catalog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.catalog := evently._event_catalog(NEW.id, NEW.base_price);
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_base_price BEFORE UPDATE OF base_price ON evently.events
    FOR EACH ROW WHEN (OLD.base_price IS DISTINCT FROM NEW.base_price)
    EXECUTE FUNCTION evently._reprice_catalog();

CREATE TABLE evently.holds (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id          uuid NOT NULL REFERENCES evently.events,
    user_id           uuid NOT NULL REFERENCES evently.users,
    status            text NOT NULL DEFAULT 'ACTIVE'
                      CHECK (status IN ('ACTIVE', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    seat_count        int NOT NULL CHECK (seat_count >= 1),
    total_price       numeric(12,2) NOT NULL CHECK (total_price >= 0),
    expires_at        timestamptz NOT NULL,
    waitlist_entry_id uuid,            -- set when the hold is a waitlist offer
    idempotency_key   text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holds_user_live ON evently.holds (user_id, event_id) WHERE status = 'ACTIVE';
CREATE UNIQUE INDEX holds_idempotency ON evently.holds (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX holds_expiry ON evently.holds (expires_at) WHERE status = 'ACTIVE';

CREATE TABLE evently.bookings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES evently.users,
    event_id        uuid NOT NULL REFERENCES evently.events,
    hold_id         uuid NOT NULL UNIQUE REFERENCES evently.holds,
    total_seats     int NOT NULL CHECK (total_seats >= 1),
    total_price     numeric(12,2) NOT NULL CHECK (total_price >= 0),
    status          text NOT NULL DEFAULT 'CONFIRMED' CHECK (status IN ('CONFIRMED', 'CANCELLED')),
    booking_ref     text NOT NULL UNIQUE CHECK (booking_ref ~ '^EVT-[0-9]{8}-[A-Z]{6}$'),
    version         int NOT NULL DEFAULT 1 CHECK (version >= 1),
    idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz,
    CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL))
);
CREATE INDEX ON evently.bookings (user_id, created_at);
CREATE INDEX ON evently.bookings (event_id);
CREATE UNIQUE INDEX bookings_idempotency ON evently.bookings (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The per-event seat inventory: the single source of truth for a seat.
CREATE TABLE evently.event_seats (
    event_id   uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    seat_id    uuid NOT NULL REFERENCES evently.seats,
    section_id uuid NOT NULL REFERENCES evently.venue_sections,
    seat_order int NOT NULL,          -- section, row, position order; offers pick neighbours
    price      numeric(12,2) NOT NULL CHECK (price >= 0),
    status     text NOT NULL DEFAULT 'AVAILABLE'
               CHECK (status IN ('AVAILABLE', 'HELD', 'BOOKED', 'BLOCKED')),
    hold_id    uuid REFERENCES evently.holds,
    held_until timestamptz,
    booking_id uuid REFERENCES evently.bookings,
    PRIMARY KEY (event_id, seat_id),
    CHECK ((status = 'HELD') = (hold_id IS NOT NULL AND held_until IS NOT NULL)),
    CHECK ((status = 'HELD') OR (held_until IS NULL)),
    CHECK ((status = 'BOOKED') = (booking_id IS NOT NULL))
);
CREATE INDEX event_seats_hold ON evently.event_seats (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX event_seats_booking ON evently.event_seats (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX event_seats_free ON evently.event_seats (event_id, seat_order) WHERE status = 'AVAILABLE';
-- lapsed holds still marked HELD, which reads count as available until the sweeper runs
CREATE INDEX event_seats_held ON evently.event_seats (event_id, held_until) WHERE status = 'HELD';

-- How many seats of an event are in each status, kept by the triggers on
-- event_seats in the same transaction as every seat change, so an event read
-- sums at most 16 rows instead of counting its inventory.  A slotted counter:
-- each writer updates a slot no one else has locked, so concurrent holds on a
-- hot event do not queue on one row.  event_seats stays the source of truth;
-- tests/stress/invariants.sql checks that the sums always match it.
CREATE TABLE evently.event_seat_counts (
    event_id  uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    slot      smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    available int NOT NULL DEFAULT 0,
    held      int NOT NULL DEFAULT 0,
    booked    int NOT NULL DEFAULT 0,
    blocked   int NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, slot)
);

-- Move n seats of an event from one status to another (NULL: in or out of
-- the inventory).  The slot is the first one no other transaction has locked;
-- only when all 16 are taken does it wait, for the backend's own slot.
CREATE FUNCTION evently._move_seat_counts(p_event_id uuid, was text, now_is text, n bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE evently.event_seat_counts
       SET available = available + n * ((now_is IS NOT DISTINCT FROM 'AVAILABLE')::int
                                        - (was IS NOT DISTINCT FROM 'AVAILABLE')::int),
           held = held + n * ((now_is IS NOT DISTINCT FROM 'HELD')::int - (was IS NOT DISTINCT FROM 'HELD')::int),
           booked = booked + n * ((now_is IS NOT DISTINCT FROM 'BOOKED')::int
                                  - (was IS NOT DISTINCT FROM 'BOOKED')::int),
           blocked = blocked + n * ((now_is IS NOT DISTINCT FROM 'BLOCKED')::int
                                    - (was IS NOT DISTINCT FROM 'BLOCKED')::int)
     WHERE event_id = p_event_id
       AND slot = coalesce((SELECT slot FROM evently.event_seat_counts
                             WHERE event_id = p_event_id ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED),
                           pg_backend_pid() % 16);
END
$$;

-- One statement-level trigger per kind of change: a hold of four seats is
-- one counter update, an event's 60,000 new seats are at most four.
CREATE FUNCTION evently._count_seats() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    d record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        FOR d IN SELECT o.event_id, o.status AS was, n.status AS now_is, count(*) AS n
                   FROM old_seats o JOIN new_seats n USING (event_id, seat_id)
                  WHERE o.status <> n.status GROUP BY 1, 2, 3 LOOP
            PERFORM evently._move_seat_counts(d.event_id, d.was, d.now_is, d.n);
        END LOOP;
    ELSIF TG_OP = 'INSERT' THEN
        -- an event's slots are made with its first seats
        INSERT INTO evently.event_seat_counts (event_id, slot)
        SELECT DISTINCT event_id, slot FROM new_seats, generate_series(0, 15) slot
        ON CONFLICT DO NOTHING;
        FOR d IN SELECT event_id, status, count(*) AS n FROM new_seats GROUP BY 1, 2 LOOP
            PERFORM evently._move_seat_counts(d.event_id, NULL, d.status, d.n);
        END LOOP;
    ELSE
        -- an event being deleted takes its counts with it
        FOR d IN SELECT event_id, status, count(*) AS n FROM old_seats o
                  WHERE EXISTS (SELECT 1 FROM evently.events e WHERE e.id = o.event_id)
                  GROUP BY 1, 2 LOOP
            PERFORM evently._move_seat_counts(d.event_id, d.status, NULL, d.n);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER count_seats_updated AFTER UPDATE ON evently.event_seats
    REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();
CREATE TRIGGER count_seats_inserted AFTER INSERT ON evently.event_seats
    REFERENCING NEW TABLE AS new_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();
CREATE TRIGGER count_seats_deleted AFTER DELETE ON evently.event_seats
    REFERENCING OLD TABLE AS old_seats
    FOR EACH STATEMENT EXECUTE FUNCTION evently._count_seats();

CREATE TABLE evently.hold_seats (
    hold_id  uuid NOT NULL REFERENCES evently.holds ON DELETE CASCADE,
    event_id uuid NOT NULL,
    seat_id  uuid NOT NULL,
    price    numeric(12,2) NOT NULL CHECK (price >= 0),
    PRIMARY KEY (hold_id, seat_id),
    FOREIGN KEY (event_id, seat_id) REFERENCES evently.event_seats
);

-- One ticket per booked seat.  The partial unique index is the last line of
-- defence: two live tickets for one (event, seat) cannot exist.
CREATE TABLE evently.tickets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id  uuid NOT NULL REFERENCES evently.bookings,
    event_id    uuid NOT NULL,
    seat_id     uuid NOT NULL,
    section_id  uuid NOT NULL REFERENCES evently.venue_sections,
    seat_price  numeric(12,2) NOT NULL CHECK (seat_price >= 0),
    ticket_code text NOT NULL UNIQUE CHECK (ticket_code ~ '^[0-9A-F]{16}$'),
    status      text NOT NULL DEFAULT 'VALID' CHECK (status IN ('VALID', 'CANCELLED')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, seat_id) REFERENCES evently.event_seats
);
CREATE UNIQUE INDEX tickets_one_live_per_seat ON evently.tickets (event_id, seat_id)
    WHERE status = 'VALID';
CREATE INDEX ON evently.tickets (booking_id);

CREATE TABLE evently.payments (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id     uuid NOT NULL REFERENCES evently.bookings,
    amount         numeric(12,2) NOT NULL CHECK (amount >= 0),
    currency       text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    status         text NOT NULL DEFAULT 'PENDING'
                   CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED', 'REFUNDED')),
    payment_method text NOT NULL CHECK (length(payment_method) BETWEEN 1 AND 50),
    transaction_id text NOT NULL UNIQUE,
    processed_at   timestamptz,
    refunded_at    timestamptz,
    refund_amount  numeric(12,2) CHECK (refund_amount >= 0 AND refund_amount <= amount),
    failure_reason text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON evently.payments (booking_id);

CREATE TABLE evently.cancellation_policies (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id               uuid NOT NULL UNIQUE REFERENCES evently.events ON DELETE CASCADE,
    allow_cancellation     boolean NOT NULL DEFAULT true,
    cancellation_deadline  timestamptz NOT NULL,
    fee_type               text NOT NULL DEFAULT 'NONE' CHECK (fee_type IN ('NONE', 'FIXED', 'PERCENTAGE')),
    fee_amount             numeric(12,2) NOT NULL DEFAULT 0 CHECK (fee_amount >= 0),
    refund_processing_days int NOT NULL DEFAULT 5 CHECK (refund_processing_days BETWEEN 0 AND 30),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (fee_type <> 'PERCENTAGE' OR fee_amount <= 100),
    CHECK (fee_type <> 'NONE' OR fee_amount = 0)
);

CREATE TABLE evently.cancellations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id       uuid NOT NULL UNIQUE REFERENCES evently.bookings,
    cancelled_by     uuid REFERENCES evently.users,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    cancellation_fee numeric(12,2) NOT NULL DEFAULT 0 CHECK (cancellation_fee >= 0),
    refund_amount    numeric(12,2) NOT NULL DEFAULT 0 CHECK (refund_amount >= 0),
    reason           text CHECK (length(reason) <= 500),
    status           text NOT NULL DEFAULT 'PROCESSED' CHECK (status IN ('PROCESSED', 'FAILED')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE evently.waitlist_entries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES evently.users,
    position    bigint NOT NULL CHECK (position >= 1),
    quantity    int NOT NULL CHECK (quantity BETWEEN 1 AND 10),
    status      text NOT NULL DEFAULT 'ACTIVE'
                CHECK (status IN ('ACTIVE', 'NOTIFIED', 'CONVERTED', 'EXPIRED', 'CANCELLED')),
    preferences jsonb,
    hold_id     uuid REFERENCES evently.holds,   -- the offer, once NOTIFIED
    joined_at   timestamptz NOT NULL DEFAULT now(),
    notified_at timestamptz,
    expires_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, position),
    CHECK ((status = 'ACTIVE') = (hold_id IS NULL AND notified_at IS NULL) OR status = 'CANCELLED')
);
-- one live entry per (event, user); a user may join again after leaving
CREATE UNIQUE INDEX waitlist_one_live_entry ON evently.waitlist_entries (event_id, user_id)
    WHERE status IN ('ACTIVE', 'NOTIFIED');
CREATE INDEX waitlist_queue ON evently.waitlist_entries (event_id, position) WHERE status = 'ACTIVE';
ALTER TABLE evently.holds ADD FOREIGN KEY (waitlist_entry_id) REFERENCES evently.waitlist_entries;

-- Every domain event, written in the transaction of the change it describes.
CREATE TABLE evently.outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type         text NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    aggregate    text NOT NULL GENERATED ALWAYS AS (split_part(type, '.', 1)) STORED,
    event_id     uuid,
    user_id      uuid,
    data         jsonb NOT NULL DEFAULT '{}',
    occurred_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON evently.outbox (id) WHERE published_at IS NULL;

CREATE TABLE evently.audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id    uuid,                      -- the evently user who acted, if any
    db_user     text NOT NULL DEFAULT session_user,
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   uuid,
    event_id    uuid,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON evently.audit_log (object_id);

-- A wake-up for the bridge, not the payload.  PostgreSQL folds identical
-- notifications of one transaction into one, so a transaction sends at most
-- one.  NOTIFY also serialises the commits of notifying transactions (one
-- lock per database, held through the commit's WAL flush), so concurrent
-- writers share one wake-up: only the holder of the outbox wake-up token
-- (advisory key 0x45560003, 0) notifies; the others commit without waiting.
-- The bridge therefore drains until empty after every wake-up and re-polls
-- shortly after, so a row whose writer skipped the NOTIFY is not left behind.
CREATE FUNCTION evently._outbox_wakeup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock(1163264003, 0) THEN
        PERFORM pg_notify('evently_outbox', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_wakeup AFTER INSERT ON evently.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION evently._outbox_wakeup();

-- ---------------------------------------------------------------------------
-- Internal helpers
-- ---------------------------------------------------------------------------

-- Record one state change: its outbox row and its audit row, together
-- (extension/outbox.c; the C engine uses the same statement).
CREATE FUNCTION evently._emit(p_type text, p_event_id uuid, p_user_id uuid,
                              p_object_type text, p_object_id uuid, p_data jsonb,
                              p_actor uuid)
RETURNS void AS 'MODULE_PATHNAME', 'evently_emit' LANGUAGE C;

-- Record an administrative change that is not a domain event: audit row only.
CREATE FUNCTION evently._audit(p_action text, p_object_type text, p_object_id uuid,
                               p_details jsonb DEFAULT '{}', p_actor uuid DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO evently.audit_log (actor_id, action, object_type, object_id, details)
    VALUES (p_actor, p_action, p_object_type, p_object_id, coalesce(p_details, '{}'));
$$;

-- Raise one of the extension's errors from SQL (the C code uses ereport).
CREATE FUNCTION evently._fail(p_sqlstate text, p_message text, p_detail text DEFAULT NULL,
                              p_hint text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message,
        DETAIL = coalesce(p_detail, ''), HINT = coalesce(p_hint, '');
END
$$;

CREATE FUNCTION evently._require(p_ok boolean, p_sqlstate text, p_message text,
                                 p_detail text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF p_ok IS NOT TRUE THEN
        PERFORM evently._fail(p_sqlstate, p_message, p_detail);
    END IF;
END
$$;

-- A looked-up object, or EV002 naming what was not found.
CREATE FUNCTION evently._found(doc jsonb, what text, id text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(doc IS NOT NULL, 'EV002', what || ' not found', format('No %s has id %s.', what, id));
    RETURN doc;
END
$$;

CREATE FUNCTION evently._user_role(p_user_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT role FROM evently.users WHERE id = p_user_id
$$;

-- Take the per-event queue lock (advisory key space documented in README).
CREATE FUNCTION evently._lock_event_queue(event_id uuid) RETURNS void
AS 'MODULE_PATHNAME', 'evently_lock_event_queue' LANGUAGE C STRICT;

CREATE FUNCTION evently.error_codes()
RETURNS TABLE (sqlstate text, name text, http_status int)
AS 'MODULE_PATHNAME', 'evently_error_codes' LANGUAGE C STRICT;
COMMENT ON FUNCTION evently.error_codes() IS
    'The extension''s own SQLSTATEs (class EV), their names and HTTP statuses';

-- ---------------------------------------------------------------------------
-- JSON shapes shared by psql and REST (field names of the Evently API),
-- defined once as views: the engine reads them with kept plans, DBAs and the
-- shim with the *_json() functions or plain SELECTs.
-- ---------------------------------------------------------------------------

CREATE VIEW evently.hold_docs AS
    SELECT h.id AS hold_id, jsonb_build_object(
        'hold_id', h.id, 'event_id', h.event_id, 'user_id', h.user_id,
        'status', CASE WHEN h.status = 'ACTIVE' AND h.expires_at <= now()
                       THEN 'EXPIRED' ELSE h.status END,
        'seats', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'seat_id', s.id, 'section_id', s.section_id,
                       'seat_number', s.seat_number, 'row', s."row",
                       'section_name', sec.name, 'price', hs.price)
                   ORDER BY sec.name, s."row", s.position)
              FROM evently.hold_seats hs
              JOIN evently.seats s ON s.id = hs.seat_id
              JOIN evently.venue_sections sec ON sec.id = s.section_id
             WHERE hs.hold_id = h.id), '[]'),
        'total_price', h.total_price,
        'expires_at', h.expires_at,
        'ttl_seconds', CASE WHEN h.status = 'ACTIVE'
                            THEN greatest(0, ceil(extract(epoch FROM h.expires_at - now())))::int
                            ELSE 0 END,
        'waitlist_entry_id', h.waitlist_entry_id,
        'created_at', h.created_at) AS doc
      FROM evently.holds h;
CREATE FUNCTION evently.hold_json(p_hold_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.hold_docs WHERE hold_id = p_hold_id);

CREATE VIEW evently.booking_docs AS
    SELECT b.id AS booking_id, jsonb_build_object(
        'booking_id', b.id, 'id', b.id, 'booking_ref', b.booking_ref,
        'user_id', b.user_id, 'event_id', b.event_id, 'hold_id', b.hold_id,
        'status', b.status, 'total_price', b.total_price, 'total_seats', b.total_seats,
        'version', b.version,
        'seats', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'seat_id', s.id, 'section_id', s.section_id,
                       'seat_number', s.seat_number, 'row', s."row",
                       'section_name', sec.name, 'price', t.seat_price,
                       'ticket_code', t.ticket_code, 'ticket_status', t.status)
                   ORDER BY sec.name, s."row", s.position)
              FROM evently.tickets t
              JOIN evently.seats s ON s.id = t.seat_id
              JOIN evently.venue_sections sec ON sec.id = s.section_id
             WHERE t.booking_id = b.id), '[]'),
        'payment', (
            SELECT jsonb_build_object(
                       'id', p.id, 'amount', p.amount, 'currency', p.currency,
                       'status', p.status, 'payment_method', p.payment_method,
                       'transaction_id', p.transaction_id, 'processed_at', p.processed_at,
                       'refund_amount', p.refund_amount, 'refunded_at', p.refunded_at)
              FROM evently.payments p WHERE p.booking_id = b.id
             ORDER BY p.created_at LIMIT 1),
        'created_at', b.created_at, 'updated_at', b.updated_at,
        'cancelled_at', b.cancelled_at) AS doc
      FROM evently.bookings b;
CREATE FUNCTION evently.booking_json(p_booking_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.booking_docs WHERE booking_id = p_booking_id);

CREATE VIEW evently.cancellation_docs AS
    SELECT c.id AS cancellation_id, jsonb_build_object(
        'id', c.id, 'booking_id', c.booking_id, 'event_id', b.event_id,
        'user_id', b.user_id, 'cancelled_by', c.cancelled_by,
        'requested_at', c.requested_at, 'processed_at', c.processed_at,
        'cancellation_fee', c.cancellation_fee, 'refund_amount', c.refund_amount,
        'reason', c.reason, 'status', c.status,
        'refund_processing_days', p.refund_processing_days,
        'created_at', c.created_at, 'updated_at', c.updated_at) AS doc
      FROM evently.cancellations c
      JOIN evently.bookings b ON b.id = c.booking_id
      LEFT JOIN evently.cancellation_policies p ON p.event_id = b.event_id;
CREATE FUNCTION evently.cancellation_json(p_cancellation_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.cancellation_docs WHERE cancellation_id = p_cancellation_id);

CREATE VIEW evently.policy_docs AS
    SELECT p.event_id AS event_id, jsonb_build_object(
        'id', p.id, 'event_id', p.event_id, 'allow_cancellation', p.allow_cancellation,
        'cancellation_deadline', p.cancellation_deadline, 'fee_type', p.fee_type,
        'fee_amount', p.fee_amount, 'refund_processing_days', p.refund_processing_days,
        'created_at', p.created_at, 'updated_at', p.updated_at) AS doc
      FROM evently.cancellation_policies p;
CREATE FUNCTION evently.policy_json(p_event_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.policy_docs WHERE event_id = p_event_id);

CREATE VIEW evently.waitlist_docs AS
    SELECT w.id AS entry_id, jsonb_strip_nulls(jsonb_build_object(
        'id', w.id, 'event_id', w.event_id, 'user_id', w.user_id,
        -- live rank among those still waiting; the stored value otherwise
        'position', CASE WHEN w.status = 'ACTIVE' THEN (
                        SELECT count(*) FROM evently.waitlist_entries o
                         WHERE o.event_id = w.event_id AND o.status = 'ACTIVE'
                           AND o.position <= w.position)
                    ELSE w.position END,
        'quantity', w.quantity, 'status', w.status, 'preferences', w.preferences,
        'hold_id', w.hold_id, 'joined_at', w.joined_at,
        'notified_at', w.notified_at, 'expires_at', w.expires_at)) AS doc
      FROM evently.waitlist_entries w;
CREATE FUNCTION evently.waitlist_json(p_entry_id uuid) RETURNS jsonb
LANGUAGE sql STABLE
RETURN (SELECT doc FROM evently.waitlist_docs WHERE entry_id = p_entry_id);

-- An event as the REST API shows it; with_sections adds venue_sections.
-- available_tickets counts seats that can be held now (not BLOCKED, BOOKED
-- or under a live hold).
CREATE FUNCTION evently.event_json(p_event_id uuid, with_sections boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb;
BEGIN
    -- One statement, its plan kept by PL/pgSQL: this is the API's busiest
    -- read.  Seat numbers come from the slotted counters plus the lapsed
    -- holds the sweeper has not expired yet, tags and sections from the
    -- event's catalog column: nothing is counted or joined per read.
    SELECT jsonb_build_object(
        'id', e.id, 'name', e.name, 'description', e.description, 'venue', e.venue,
        'venue_template_id', e.venue_template_id, 'date_time', e.date_time,
        'total_capacity', inv.capacity, 'booked_count', inv.booked,
        'available_tickets', inv.available + lapsed.n, 'base_price', e.base_price,
        'status', e.status, 'image_url', coalesce(e.image_url, ''), 'tags', e.catalog->'tags',
        'created_at', e.created_at, 'updated_at', e.updated_at)
        || CASE WHEN with_sections THEN jsonb_build_object('venue_sections', e.catalog->'venue_sections')
                ELSE '{}' END
      INTO doc
      FROM evently.events e,
           LATERAL (SELECT coalesce(sum(c.available + c.held + c.booked + c.blocked), 0) AS capacity,
                           coalesce(sum(c.booked), 0) AS booked,
                           coalesce(sum(c.available), 0) AS available
                      FROM evently.event_seat_counts c WHERE c.event_id = e.id) inv,
           LATERAL (SELECT count(*) AS n FROM evently.event_seats es
                     WHERE es.event_id = e.id AND es.status = 'HELD' AND es.held_until <= now()) lapsed
     WHERE e.id = p_event_id;
    PERFORM evently._require(doc IS NOT NULL, 'EV002', 'event not found',
        format('Event %s does not exist.', p_event_id));
    RETURN doc;
END
$$;

-- What /health reports: the database answers, and how far the bridge lags.
CREATE FUNCTION evently.health() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'database', 'ok',
        'outbox_lag_rows', count(*),
        'outbox_lag_seconds', coalesce(round(extract(epoch FROM now() - min(occurred_at)), 3), 0))
      FROM evently.outbox WHERE published_at IS NULL
$$;

-- ---------------------------------------------------------------------------
-- The engine (C): see extension/*.c
-- ---------------------------------------------------------------------------

CREATE FUNCTION evently.hold_seats(event_id uuid, user_id uuid, seat_ids uuid[],
                                   ttl interval DEFAULT NULL, idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_hold_seats' LANGUAGE C;
COMMENT ON FUNCTION evently.hold_seats(uuid, uuid, uuid[], interval, text) IS
    'Hold the given seats of an event for a user, all or nothing; a retry with the same key returns the same hold';

CREATE FUNCTION evently.release_hold(hold_id uuid, user_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_release_hold' LANGUAGE C;
COMMENT ON FUNCTION evently.release_hold(uuid, uuid) IS
    'Release an active hold (its owner or an ADMIN); freed seats go to the waitlist first';

CREATE FUNCTION evently.confirm_booking(hold_id uuid, user_id uuid,
                                        payment_method text DEFAULT 'mock',
                                        idempotency_key text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_confirm_booking' LANGUAGE C;
COMMENT ON FUNCTION evently.confirm_booking(uuid, uuid, text, text) IS
    'Turn a live hold into a booking with tickets and a payment; idempotent by key';

CREATE FUNCTION evently.cancel_with_policy(booking_id uuid, user_id uuid,
                                           reason text DEFAULT NULL)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_cancel_with_policy' LANGUAGE C;
COMMENT ON FUNCTION evently.cancel_with_policy(uuid, uuid, text) IS
    'Cancel a booking under its event''s cancellation policy and refund total minus fee';

CREATE FUNCTION evently.waitlist_promote(event_id uuid)
RETURNS jsonb AS 'MODULE_PATHNAME', 'evently_waitlist_promote' LANGUAGE C;
COMMENT ON FUNCTION evently.waitlist_promote(uuid) IS
    'Offer free seats to the event''s waitlist, oldest entry that fits first';

CREATE FUNCTION evently.expire_holds()
RETURNS int AS 'MODULE_PATHNAME', 'evently_expire_holds' LANGUAGE C;
COMMENT ON FUNCTION evently.expire_holds() IS
    'Expire lapsed holds and offers, free their seats and promote the waitlists';

-- ---------------------------------------------------------------------------
-- SQL admin API: accounts, venues, events, policies, waitlist
-- ---------------------------------------------------------------------------

CREATE FUNCTION evently.create_user(email text, password text, first_name text,
                                    last_name text, role text DEFAULT 'USER')
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    PERFORM evently._require(email IS NOT NULL AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
                             AND length(email) <= 254,
        'EV001', 'invalid e-mail address', format('E-mail %L is not an address.', email));
    PERFORM evently._require(password IS NOT NULL AND length(password) >= 6
                             AND octet_length(password) <= 72,
        'EV001', 'invalid password', 'A password has 6 to 72 bytes.');
    PERFORM evently._require(length(btrim(first_name)) BETWEEN 1 AND 100
                             AND length(btrim(last_name)) BETWEEN 1 AND 100,
        'EV001', 'invalid name', 'First and last name have 1 to 100 characters.');
    PERFORM evently._require(upper(role) IN ('USER', 'ORGANIZER', 'ADMIN'),
        'EV001', 'invalid role', format('Role %L is not USER, ORGANIZER or ADMIN.', role));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.users u
                                          WHERE lower(u.email) = lower(create_user.email)),
        'EV010', 'user already exists', format('A user with e-mail %L exists.', email));
    INSERT INTO evently.users (email, password_hash, first_name, last_name, role)
    VALUES (email, evently._bcrypt_hash(password), btrim(first_name), btrim(last_name),
            upper(role))
    RETURNING id INTO new_id;
    PERFORM evently._audit('user.created', 'user', new_id, jsonb_build_object('role', upper(role)));
    RETURN new_id;
END
$$;

-- Returns the user's id when the password matches, NULL otherwise.
CREATE FUNCTION evently.check_password(email text, password text) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT u.id FROM evently.users u
     WHERE lower(u.email) = lower(check_password.email) AND u.status = 'ACTIVE'
       AND evently._bcrypt_check(password, u.password_hash)
$$;

CREATE FUNCTION evently.slugify(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT btrim(regexp_replace(regexp_replace(lower(name), '[^0-9a-z_\s-]', '', 'g'),
                                '[\s-]+', '-', 'g'), '-')
$$;

CREATE FUNCTION evently.create_tag(name text, color text DEFAULT '#6B7280',
                                   description text DEFAULT NULL, created_by uuid DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    tag_slug text := evently.slugify(name);
BEGIN
    PERFORM evently._require(length(btrim(name)) BETWEEN 2 AND 100 AND tag_slug <> '',
        'EV001', 'invalid tag name', 'A tag name has 2 to 100 characters, one alphanumeric.');
    PERFORM evently._require(color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$', 'EV001', 'invalid tag color',
        format('Color %L is not #RRGGBB.', color));
    PERFORM evently._require(description IS NULL OR length(description) <= 500, 'EV001',
        'tag description is too long', 'A description has at most 500 characters.');
    PERFORM evently._require(created_by IS NULL OR evently._user_role(created_by) IS NOT NULL,
        'EV002', 'user not found', format('User %s does not exist.', created_by));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.tags t
                                          WHERE t.slug = tag_slug OR t.name = create_tag.name),
        'EV010', 'tag already exists', format('A tag named %L exists.', name));
    INSERT INTO evently.tags (name, slug, color, description, created_by)
    VALUES (btrim(name), tag_slug, coalesce(color, '#6B7280'), description, created_by)
    RETURNING id INTO new_id;
    PERFORM evently._audit('tag.created', 'tag', new_id, jsonb_build_object('slug', tag_slug), created_by);
    RETURN new_id;
END
$$;

CREATE FUNCTION evently.create_venue_template(name text, layout_type text DEFAULT 'GENERAL',
                                              description text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'EV001', 'invalid template name', 'A template name has 1 to 255 characters.');
    PERFORM evently._require(description IS NULL OR length(description) <= 1000, 'EV001',
        'template description is too long', 'A description has at most 1000 characters.');
    PERFORM evently._require(upper(layout_type) IN ('THEATER', 'STADIUM', 'CONFERENCE', 'GENERAL'),
        'EV001', 'invalid layout type',
        format('Layout %L is not THEATER, STADIUM, CONFERENCE or GENERAL.', layout_type));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.venue_templates t
                                          WHERE t.name = btrim(create_venue_template.name)),
        'EV010', 'venue template already exists', format('A template named %L exists.', name));
    INSERT INTO evently.venue_templates (name, layout_type, description)
    VALUES (btrim(name), upper(layout_type), description)
    RETURNING id INTO new_id;
    PERFORM evently._audit('venue_template.created', 'venue_template', new_id,
                           jsonb_build_object('name', btrim(name)));
    RETURN new_id;
END
$$;

-- The rows of a section: a numeric range ('1'..'20') or a letter range ('A'..'C').
CREATE FUNCTION evently._section_rows(row_start text, row_end text) RETURNS SETOF text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF row_start ~ '^[0-9]{1,5}$' AND row_end ~ '^[0-9]{1,5}$' THEN
        PERFORM evently._require(row_start::int <= row_end::int AND row_end::int - row_start::int < 10000,
            'EV001', 'invalid row range',
            format('Rows %s to %s are not an ascending range of at most 10000 rows.', row_start, row_end));
        RETURN QUERY SELECT r::text FROM generate_series(row_start::int, row_end::int) r;
    ELSIF row_start ~ '^[A-Za-z]$' AND row_end ~ '^[A-Za-z]$' THEN
        PERFORM evently._require(ascii(row_start) <= ascii(row_end),
            'EV001', 'invalid row range',
            format('Rows %s to %s are not an ascending range.', row_start, row_end));
        RETURN QUERY SELECT chr(c) FROM generate_series(ascii(row_start), ascii(row_end)) c;
    ELSE
        PERFORM evently._fail('EV001', 'invalid row range',
            format('Rows %L to %L are neither numbers nor single letters.', row_start, row_end));
    END IF;
END
$$;

CREATE FUNCTION evently.add_section(template_id uuid, name text, row_start text, row_end text,
                                    seats_per_row int, description text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    row_count int;
BEGIN
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'EV001', 'invalid section name', 'A section name has 1 to 255 characters.');
    PERFORM evently._require(seats_per_row BETWEEN 1 AND 100,
        'EV001', 'invalid seats per row', format('%s is not between 1 and 100.', seats_per_row));
    PERFORM evently._require(description IS NULL OR length(description) <= 500, 'EV001',
        'section description is too long', 'A description has at most 500 characters.');
    -- lock the template so no event is created from it while it grows
    PERFORM 1 FROM evently.venue_templates t WHERE t.id = add_section.template_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'venue template not found',
        format('Venue template %s does not exist.', template_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.events e
                                          WHERE e.venue_template_id = add_section.template_id),
        'EV014', 'venue template is in use',
        format('Venue template %s already has events; their seat inventory is fixed.', template_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.venue_sections s
                                          WHERE s.template_id = add_section.template_id
                                            AND s.name = btrim(add_section.name)),
        'EV010', 'section already exists', format('The template has a section named %L.', name));
    SELECT count(*) INTO row_count FROM evently._section_rows(row_start, row_end);
    INSERT INTO evently.venue_sections (template_id, name, description, row_start, row_end,
                                        seats_per_row, total_seats)
    VALUES (template_id, btrim(name), description, row_start, row_end, seats_per_row,
            row_count * seats_per_row)
    RETURNING id INTO new_id;
    -- 'A7' for letter rows; '12-7' for numeric rows, where '127' would be ambiguous
    INSERT INTO evently.seats (section_id, seat_number, "row", position)
    SELECT new_id, CASE WHEN r ~ '^[0-9]+$' THEN r || '-' || n ELSE r || n END, r, n
      FROM evently._section_rows(row_start, row_end) r, generate_series(1, seats_per_row) n;
    UPDATE evently.venue_templates t
       SET default_rows = least(50, greatest(coalesce(t.default_rows, 0), row_count)),
           default_seats_per_row = least(100, greatest(coalesce(t.default_seats_per_row, 0), seats_per_row)),
           updated_at = now()
     WHERE t.id = add_section.template_id;
    PERFORM evently._audit('venue_section.created', 'venue_section', new_id,
                           jsonb_build_object('template_id', template_id, 'seats', row_count * seats_per_row));
    RETURN new_id;
END
$$;

-- section_multipliers: {"<section name or id>": multiplier, ...}; other sections 1.0.
-- settings: {"hold_ttl": "10 minutes", "max_seats_per_hold": 10,
--            "max_seats_per_user": 10, "offer_window": "15 minutes"}
CREATE FUNCTION evently.create_event(name text, venue_template_id uuid, date_time timestamptz,
                                     base_price numeric, created_by uuid DEFAULT NULL,
                                     venue text DEFAULT NULL, description text DEFAULT NULL,
                                     section_multipliers jsonb DEFAULT '{}',
                                     tags text[] DEFAULT '{}', settings jsonb DEFAULT '{}')
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    unknown text;
BEGIN
    PERFORM evently._require(length(btrim(name)) BETWEEN 1 AND 255,
        'EV001', 'invalid event name', 'An event name has 1 to 255 characters.');
    PERFORM evently._require(date_time > now() AND isfinite(date_time), 'EV001',
        'event date must be in the future', format('%s is not a moment after now.', date_time));
    PERFORM evently._require(base_price >= 0 AND base_price < 1e10, 'EV001', 'invalid base price',
        format('Base price %s is not between 0 and 9999999999.', base_price));
    PERFORM 1 FROM evently.venue_templates t WHERE t.id = create_event.venue_template_id FOR SHARE;
    PERFORM evently._require(FOUND, 'EV002', 'venue template not found',
        format('Venue template %s does not exist.', venue_template_id));
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.venue_sections s
                                      WHERE s.template_id = create_event.venue_template_id),
        'EV001', 'venue template has no sections',
        format('Venue template %s has no seats to sell.', venue_template_id));
    PERFORM evently._require(created_by IS NULL OR EXISTS (SELECT 1 FROM evently.users u
                                                           WHERE u.id = create_event.created_by),
        'EV002', 'user not found', format('User %s does not exist.', created_by));
    PERFORM evently._require(jsonb_typeof(coalesce(section_multipliers, '{}')) = 'object'
                             AND jsonb_typeof(coalesce(settings, '{}')) = 'object',
        'EV001', 'invalid event options', 'section_multipliers and settings are JSON objects.');
    SELECT string_agg(k, ', ') INTO unknown
      FROM jsonb_object_keys(coalesce(section_multipliers, '{}')) k
     WHERE NOT EXISTS (SELECT 1 FROM evently.venue_sections s
                        WHERE s.template_id = create_event.venue_template_id
                          AND (s.name = k OR s.id::text = k));
    PERFORM evently._require(unknown IS NULL, 'EV001', 'unknown section in pricing',
        format('Sections %s are not in the venue template.', unknown));
    SELECT string_agg(coalesce(t, 'NULL'), ', ') INTO unknown FROM unnest(coalesce(tags, '{}')) t
     WHERE NOT EXISTS (SELECT 1 FROM evently.tags g WHERE g.slug = t AND g.is_active);
    PERFORM evently._require(unknown IS NULL, 'EV001', 'unknown tag',
        format('Tags %s are not active tag slugs.', unknown));
    SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(coalesce(settings, '{}')) k
     WHERE k NOT IN ('hold_ttl', 'max_seats_per_hold', 'max_seats_per_user', 'offer_window');
    PERFORM evently._require(unknown IS NULL, 'EV001', 'unknown event setting',
        format('Settings %s are not hold_ttl, max_seats_per_hold, max_seats_per_user or offer_window.', unknown));

    BEGIN
        INSERT INTO evently.events (name, description, venue, venue_template_id, date_time,
                                    base_price, created_by, hold_ttl, max_seats_per_hold,
                                    max_seats_per_user, offer_window)
        VALUES (btrim(name), description, coalesce(venue, ''), venue_template_id, date_time,
                round(base_price, 2), created_by,
                coalesce((settings->>'hold_ttl')::interval, '10 minutes'),
                coalesce((settings->>'max_seats_per_hold')::int, 10),
                coalesce((settings->>'max_seats_per_user')::int, 10),
                coalesce((settings->>'offer_window')::interval, '15 minutes'))
        RETURNING id INTO new_id;
        INSERT INTO evently.event_pricing (event_id, section_id, price_multiplier)
        SELECT new_id, s.id,
               coalesce((section_multipliers->>s.id::text)::numeric,
                        (section_multipliers->>s.name)::numeric, 1.0)
          FROM evently.venue_sections s WHERE s.template_id = create_event.venue_template_id;
    EXCEPTION
        WHEN check_violation OR invalid_text_representation OR invalid_datetime_format
          OR numeric_value_out_of_range OR datetime_field_overflow THEN
            PERFORM evently._fail('EV001', 'invalid event settings', SQLERRM);
    END;
    INSERT INTO evently.event_tags (event_id, tag_id)
    SELECT new_id, g.id FROM evently.tags g WHERE g.slug = ANY (coalesce(tags, '{}'));
    INSERT INTO evently.event_seats (event_id, seat_id, section_id, seat_order, price, status)
    SELECT new_id, s.id, s.section_id,
           row_number() OVER (ORDER BY sec.name, s."row", s.position),
           round(create_event.base_price * p.price_multiplier, 2),
           CASE s.status WHEN 'BLOCKED' THEN 'BLOCKED' ELSE 'AVAILABLE' END
      FROM evently.seats s
      JOIN evently.venue_sections sec ON sec.id = s.section_id
      JOIN evently.event_pricing p ON p.event_id = new_id AND p.section_id = s.section_id
     WHERE sec.template_id = create_event.venue_template_id;
    PERFORM evently._emit('event.created', new_id, created_by, 'event', new_id,
        jsonb_build_object('name', btrim(name), 'date_time', date_time,
                           'base_price', round(base_price, 2),
                           'capacity', (SELECT count(*) FROM evently.event_seats es
                                         WHERE es.event_id = new_id)),
        created_by);
    RETURN new_id;
END
$$;

-- The seats of an event with their effective status: a lapsed hold shows AVAILABLE.
CREATE FUNCTION evently.event_seats(event_id uuid)
RETURNS TABLE (seat_id uuid, section text, "row" text, seat_number text, status text,
               price numeric)
LANGUAGE sql STABLE AS $$
    SELECT es.seat_id, sec.name, s."row", s.seat_number,
           CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE'
                ELSE es.status END,
           es.price
      FROM evently.event_seats es
      JOIN evently.seats s ON s.id = es.seat_id
      JOIN evently.venue_sections sec ON sec.id = es.section_id
     WHERE es.event_id = event_seats.event_id
     ORDER BY es.seat_order
$$;

CREATE FUNCTION evently.set_cancellation_policy(event_id uuid, allow_cancellation boolean,
                                                cancellation_deadline timestamptz, fee_type text,
                                                fee_amount numeric,
                                                refund_processing_days int DEFAULT 5,
                                                actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    fee_kind text := upper(fee_type);
    event_at timestamptz;
BEGIN
    SELECT e.date_time INTO event_at FROM evently.events e
     WHERE e.id = set_cancellation_policy.event_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'event not found',
        format('Event %s does not exist.', event_id));
    PERFORM evently._require(allow_cancellation IS NOT NULL, 'EV001',
        'allow_cancellation is required', 'Pass true or false.');
    PERFORM evently._require(isfinite(cancellation_deadline), 'EV001',
        'cancellation deadline is required', 'Pass the last moment a booking may be cancelled.');
    PERFORM evently._require(actor_id IS NULL OR evently._user_role(actor_id) IS NOT NULL,
        'EV002', 'user not found', format('User %s does not exist.', actor_id));
    PERFORM evently._require(cancellation_deadline <= event_at, 'EV001',
        'cancellation deadline is after the event',
        format('Deadline %s is after the event''s start %s.', cancellation_deadline, event_at));
    PERFORM evently._require(fee_kind IN ('NONE', 'FIXED', 'PERCENTAGE'), 'EV001',
        'invalid fee type', format('Fee type %L is not NONE, FIXED or PERCENTAGE.', fee_type));
    PERFORM evently._require(fee_amount IS NOT NULL AND fee_amount >= 0 AND fee_amount < 1e10,
        'EV001', 'invalid fee amount', format('Fee amount %s is not a non-negative amount.', fee_amount));
    PERFORM evently._require(fee_kind <> 'FIXED' OR fee_amount > 0, 'EV001',
        'fixed fee amount must be greater than 0', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(fee_kind <> 'PERCENTAGE' OR fee_amount <= 100, 'EV001',
        'percentage fee must be between 0 and 100', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(fee_kind <> 'NONE' OR fee_amount = 0, 'EV001',
        'fee type NONE takes no amount', format('Fee amount is %s.', fee_amount));
    PERFORM evently._require(refund_processing_days BETWEEN 0 AND 30, 'EV001',
        'invalid refund processing days', format('%s is not between 0 and 30.', refund_processing_days));

    INSERT INTO evently.cancellation_policies AS p (event_id, allow_cancellation,
        cancellation_deadline, fee_type, fee_amount, refund_processing_days)
    VALUES (event_id, allow_cancellation, cancellation_deadline, fee_kind,
            round(fee_amount, 2), refund_processing_days)
    ON CONFLICT ON CONSTRAINT cancellation_policies_event_id_key DO UPDATE
       SET allow_cancellation = EXCLUDED.allow_cancellation,
           cancellation_deadline = EXCLUDED.cancellation_deadline,
           fee_type = EXCLUDED.fee_type, fee_amount = EXCLUDED.fee_amount,
           refund_processing_days = EXCLUDED.refund_processing_days, updated_at = now();
    PERFORM evently._emit('event.updated', event_id, actor_id, 'cancellation_policy', event_id,
        jsonb_build_object('cancellation_policy', evently.policy_json(event_id)), actor_id);
    RETURN evently.policy_json(event_id);
END
$$;

CREATE FUNCTION evently.join_waitlist(event_id uuid, user_id uuid, quantity int DEFAULT 1,
                                      preferences jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev record;
    new_id uuid;
    queue_length int;
BEGIN
    PERFORM evently._require(quantity BETWEEN 1 AND 10, 'EV001', 'invalid waitlist quantity',
        format('Quantity %s is not between 1 and 10.', coalesce(quantity::text, 'NULL')));
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.users u
                                      WHERE u.id = join_waitlist.user_id AND u.status = 'ACTIVE'),
        'EV002', 'user not found', format('User %s does not exist or is banned.', user_id));
    SELECT e.status, e.date_time, e.max_seats_per_hold INTO ev
      FROM evently.events e WHERE e.id = join_waitlist.event_id;
    PERFORM evently._require(FOUND, 'EV002', 'event not found',
        format('Event %s does not exist.', event_id));
    PERFORM evently._require(ev.status = 'published' AND ev.date_time > now(), 'EV007',
        'event is not open for booking',
        format('Event %s is %s and starts at %s.', event_id, ev.status, ev.date_time));
    PERFORM evently._require(quantity <= ev.max_seats_per_hold, 'EV006',
        'waitlist quantity over the per-hold limit',
        format('Quantity %s is over the event''s limit of %s seats per hold.',
               quantity, ev.max_seats_per_hold));
    -- the queue lock orders joins against promotions: positions are FIFO
    PERFORM evently._lock_event_queue(join_waitlist.event_id);
    PERFORM evently._require(NOT EXISTS (
            SELECT 1 FROM evently.waitlist_entries w
             WHERE w.event_id = join_waitlist.event_id AND w.user_id = join_waitlist.user_id
               AND w.status IN ('ACTIVE', 'NOTIFIED')),
        'EV010', 'user is already on the waitlist',
        format('User %s already waits for event %s.', user_id, event_id));
    SELECT count(*) INTO queue_length FROM evently.waitlist_entries w
     WHERE w.event_id = join_waitlist.event_id AND w.status = 'ACTIVE';
    PERFORM evently._require(queue_length < 10000, 'EV013', 'waitlist is full',
        format('Event %s has 10000 people waiting.', event_id));
    INSERT INTO evently.waitlist_entries (event_id, user_id, position, quantity, preferences)
    SELECT join_waitlist.event_id, join_waitlist.user_id, coalesce(max(w.position), 0) + 1,
           join_waitlist.quantity, join_waitlist.preferences
      FROM evently.waitlist_entries w WHERE w.event_id = join_waitlist.event_id
    RETURNING id INTO new_id;
    PERFORM evently._emit('waitlist.joined', event_id, user_id, 'waitlist_entry', new_id,
        evently.waitlist_json(new_id), user_id);
    RETURN evently.waitlist_json(new_id);
END
$$;

-- Leave the queue.  A user holding an offer declines it: the offer's seats go
-- to the next in line.
CREATE FUNCTION evently.leave_waitlist(event_id uuid, user_id uuid)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    entry record;
BEGIN
    PERFORM evently._lock_event_queue(leave_waitlist.event_id);
    SELECT w.id, w.status, w.hold_id INTO entry FROM evently.waitlist_entries w
     WHERE w.event_id = leave_waitlist.event_id AND w.user_id = leave_waitlist.user_id
       AND w.status IN ('ACTIVE', 'NOTIFIED');
    PERFORM evently._require(FOUND, 'EV002', 'waitlist entry not found',
        format('User %s is not waiting for event %s.', user_id, event_id));
    IF entry.status = 'NOTIFIED' AND EXISTS (SELECT 1 FROM evently.holds h
                                              WHERE h.id = entry.hold_id AND h.expires_at > now()) THEN
        -- declining a live offer: release_hold cancels the entry and
        -- offers the seats to the next in line
        PERFORM evently.release_hold(entry.hold_id, user_id);
    ELSE
        -- still waiting, or an offer that lapsed (the sweeper frees its seats)
        UPDATE evently.waitlist_entries w SET status = 'CANCELLED', updated_at = now()
         WHERE w.id = entry.id;
        PERFORM evently._emit('waitlist.left', event_id, user_id, 'waitlist_entry', entry.id,
            evently.waitlist_json(entry.id), user_id);
    END IF;
    RETURN evently.waitlist_json(entry.id);
END
$$;

-- ---------------------------------------------------------------------------
-- REST adapters.  The shim maps each route onto one call
--   evently.api_<route>(actor uuid, req jsonb)
-- where actor is the user of the verified access token (NULL on public
-- routes) and req = {"path": {...}, "query": {...}, "body": {...},
-- "idempotency_key": ...}.  The shim has already checked the body's types;
-- these functions apply the rules, ownership included, so a DBA calling them
-- with an actor id meets the same rules as a REST client.
-- ---------------------------------------------------------------------------

CREATE TABLE evently.refresh_tokens (
    jti         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES evently.users ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    replaced_by uuid REFERENCES evently.refresh_tokens
);
CREATE INDEX ON evently.refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE FUNCTION evently.user_json(p_user_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'first_name', u.first_name, 'last_name', u.last_name,
                              'email', u.email, 'role', u.role, 'created_at', u.created_at,
                              'updated_at', u.updated_at)
      FROM evently.users u WHERE u.id = p_user_id
$$;

-- A new refresh-token row, and what the shim needs to sign the tokens.
CREATE FUNCTION evently._open_session(p_user_id uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    new_jti uuid;
BEGIN
    INSERT INTO evently.refresh_tokens (user_id, expires_at)
    VALUES (p_user_id, now() + interval '24 hours') RETURNING jti INTO new_jti;
    RETURN (SELECT jsonb_build_object('jti', new_jti, 'user_id', u.id, 'email', u.email, 'role', u.role)
              FROM evently.users u WHERE u.id = p_user_id);
END
$$;

CREATE FUNCTION evently._require_actor(actor uuid) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    actor_role text;
BEGIN
    SELECT role INTO actor_role FROM evently.users WHERE id = actor AND status = 'ACTIVE';
    PERFORM evently._require(actor_role IS NOT NULL, 'EV015', 'user not found',
        format('User %s does not exist or is banned.', actor));
    RETURN actor_role;
END
$$;

CREATE FUNCTION evently._require_admin(actor uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(evently._require_actor(actor) = 'ADMIN', 'EV003',
        'insufficient permissions', format('User %s is not an ADMIN.', actor));
END
$$;

-- POST /auth/register: anyone may register, nobody as ADMIN.
CREATE FUNCTION evently.api_register(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    wanted_role text := upper(coalesce(b->>'role', 'USER'));
    new_id uuid;
BEGIN
    PERFORM evently._require(wanted_role <> 'ADMIN', 'EV003', 'cannot register as ADMIN',
        'An ADMIN creates ADMIN accounts with evently.create_user().');
    PERFORM evently._require(length(b->>'first_name') >= 2 AND length(b->>'last_name') >= 2,
        'EV001', 'invalid name', 'First and last name have 2 to 100 characters.');
    new_id := evently.create_user(b->>'email', b->>'password', b->>'first_name', b->>'last_name',
                                  CASE wanted_role WHEN 'ORGANIZER' THEN 'ORGANIZER' ELSE 'USER' END);
    RETURN jsonb_build_object('user', evently.user_json(new_id),
                              'session', evently._open_session(new_id));
END
$$;

-- POST /auth/login
CREATE FUNCTION evently.api_login(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    user_id uuid := evently.check_password(req->'body'->>'email', req->'body'->>'password');
BEGIN
    PERFORM evently._require(user_id IS NOT NULL, 'EV015', 'Invalid email or password',
        'No active user has this e-mail and password.');
    PERFORM evently._audit('user.login', 'user', user_id, '{}', user_id);
    RETURN jsonb_build_object('user', evently.user_json(user_id),
                              'session', evently._open_session(user_id));
END
$$;

-- POST /auth/refresh: the shim verified the token; here it rotates.  A
-- refresh token used twice means it was stolen: every session of the user ends.
CREATE FUNCTION evently.api_refresh(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    old record;
    next_session jsonb;
BEGIN
    SELECT * INTO old FROM evently.refresh_tokens
     WHERE jti = (req->>'jti')::uuid FOR UPDATE;
    PERFORM evently._require(FOUND AND old.expires_at > now(), 'EV015',
        'Invalid or expired refresh token', 'The refresh token is unknown or expired.');
    IF old.revoked_at IS NOT NULL THEN
        UPDATE evently.refresh_tokens SET revoked_at = now()
         WHERE user_id = old.user_id AND revoked_at IS NULL;
        PERFORM evently._audit('user.refresh_reuse', 'user', old.user_id, '{}', old.user_id);
        -- commit the revocation: the error below must not roll it back
        RETURN jsonb_build_object('error', 'refresh token reused; all sessions revoked');
    END IF;
    PERFORM evently._require_actor(old.user_id);
    next_session := evently._open_session(old.user_id);
    UPDATE evently.refresh_tokens SET revoked_at = now(), replaced_by = (next_session->>'jti')::uuid
     WHERE jti = old.jti;
    RETURN jsonb_build_object('session', next_session);
END
$$;

-- POST /auth/logout: revokes the refresh token, if one was sent.
CREATE FUNCTION evently.api_logout(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    UPDATE evently.refresh_tokens SET revoked_at = coalesce(revoked_at, now())
     WHERE jti = (req->>'jti')::uuid;
    SELECT NULL::jsonb;
$$;

-- GET /auth/me
CREATE FUNCTION evently.api_me(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_actor(actor);
    RETURN evently.user_json(actor);
END
$$;

-- PUT /auth/change-password: also ends every session.
CREATE FUNCTION evently.api_change_password(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
BEGIN
    PERFORM evently._require_actor(actor);
    PERFORM evently._require(evently.check_password((SELECT email FROM evently.users WHERE id = actor),
                                                    b->>'current_password') = actor,
        'EV015', 'Current password is incorrect', 'The current password does not match.');
    PERFORM evently._require(length(b->>'new_password') >= 6 AND octet_length(b->>'new_password') <= 72,
        'EV001', 'invalid password', 'A password has 6 to 72 bytes.');
    UPDATE evently.users SET password_hash = evently._bcrypt_hash(b->>'new_password'), updated_at = now()
     WHERE id = actor;
    UPDATE evently.refresh_tokens SET revoked_at = now() WHERE user_id = actor AND revoked_at IS NULL;
    PERFORM evently._audit('user.password_changed', 'user', actor, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /events/:eventId
CREATE FUNCTION evently.api_event_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently.event_json((req->'path'->>'eventId')::uuid, true)
$$;

-- POST /seats/hold: the acting user holds; a user_id in the body is ignored.
CREATE FUNCTION evently.api_hold_seats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require_actor(actor);
    RETURN evently.hold_seats((req->'body'->>'event_id')::uuid, actor,
                              ARRAY(SELECT jsonb_array_elements_text(req->'body'->'seat_ids'))::uuid[],
                              NULL, req->>'idempotency_key');
END
$$;

-- GET /seats/hold/:holdId: its owner or an ADMIN.
CREATE FUNCTION evently.api_hold_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    hold jsonb := evently.hold_json((req->'path'->>'holdId')::uuid);
BEGIN
    PERFORM evently._require(hold IS NOT NULL AND ((hold->>'user_id')::uuid = actor
                                                   OR evently._require_actor(actor) = 'ADMIN'),
        'EV002', 'hold not found', format('Hold %s does not exist.', req->'path'->>'holdId'));
    RETURN hold;
END
$$;

-- DELETE /seats/hold/:holdId
CREATE FUNCTION evently.api_hold_release(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT evently.release_hold((req->'path'->>'holdId')::uuid, actor)
$$;

-- POST /bookings/confirm; Idempotency-Key header or body field
CREATE FUNCTION evently.api_booking_confirm(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    hold_event uuid;
BEGIN
    SELECT event_id INTO hold_event FROM evently.holds
     WHERE id = (b->>'hold_id')::uuid AND user_id = actor;
    PERFORM evently._require(hold_event IS NULL OR hold_event = (b->>'event_id')::uuid, 'EV001',
        'event ID mismatch', format('Hold %s is for event %s, not %s.', b->>'hold_id', hold_event,
                                    b->>'event_id'));
    RETURN evently.confirm_booking((b->>'hold_id')::uuid, actor, b->>'payment_method',
                                   coalesce(req->>'idempotency_key', b->>'idempotency_key'));
END
$$;

-- GET /bookings/:id: its owner or an ADMIN; others get 404, not a hint it exists.
CREATE FUNCTION evently.api_booking_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    booking jsonb := evently.booking_json((req->'path'->>'id')::uuid);
BEGIN
    PERFORM evently._require(booking IS NOT NULL AND ((booking->>'user_id')::uuid = actor
                                                      OR evently._require_actor(actor) = 'ADMIN'),
        'EV002', 'booking not found', format('Booking %s does not exist.', req->'path'->>'id'));
    RETURN booking;
END
$$;

-- POST /bookings/:id/request-cancel and /bookings/:id/cancel: both apply the policy.
CREATE FUNCTION evently.api_booking_cancel(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT evently.cancel_with_policy((req->'path'->>'id')::uuid, actor, req->'body'->>'reason')
$$;

-- GET /admin/bookings?limit=&offset=
CREATE FUNCTION evently.api_admin_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := least(greatest(coalesce((req->'query'->>'limit')::int, 10), 1), 100);
    off int := greatest(coalesce((req->'query'->>'offset')::int, 0), 0);
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN jsonb_build_object(
        'bookings', coalesce((SELECT jsonb_agg(d.doc ORDER BY b.created_at DESC, b.id)
                                FROM (SELECT id, created_at FROM evently.bookings
                                       ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
                                JOIN evently.booking_docs d ON d.booking_id = b.id), '[]'),
        'count', (SELECT count(*) FROM evently.bookings), 'limit', lim, 'offset', off);
END
$$;

-- The waitlist entry as GET /waitlist/status shows it: estimated_wait is
-- integer nanoseconds (the reference serialises a Go duration): 30 minutes
-- per person ahead while waiting, the offer's remaining window once offered.
CREATE FUNCTION evently._waitlist_status_json(p_entry_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT d || CASE
        WHEN d->>'status' = 'ACTIVE' AND (d->>'position')::int > 1
            THEN jsonb_build_object('estimated_wait', ((d->>'position')::bigint - 1) * 1800 * 1000000000)
        WHEN d->>'status' = 'NOTIFIED'
            THEN jsonb_build_object('estimated_wait',
                     greatest(0, (extract(epoch FROM (d->>'expires_at')::timestamptz - now()) * 1e9)::bigint))
        ELSE '{}' END
      FROM evently.waitlist_json(p_entry_id) d
$$;

-- POST /waitlist
CREATE FUNCTION evently.api_waitlist_join(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    entry jsonb;
BEGIN
    PERFORM evently._require_actor(actor);
    entry := evently.join_waitlist((b->>'event_id')::uuid, actor, coalesce((b->>'quantity')::int, 1),
                                   b->'preferences');
    RETURN evently._waitlist_status_json((entry->>'id')::uuid);
END
$$;

-- DELETE /waitlist/:event_id
CREATE FUNCTION evently.api_waitlist_leave(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT evently.leave_waitlist((req->'path'->>'event_id')::uuid, actor)
$$;

-- GET /waitlist/status/:event_id: the actor's latest entry for the event
CREATE FUNCTION evently.api_waitlist_status(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    entry_id uuid;
BEGIN
    SELECT id INTO entry_id FROM evently.waitlist_entries
     WHERE event_id = (req->'path'->>'event_id')::uuid AND user_id = actor
     ORDER BY joined_at DESC LIMIT 1;
    PERFORM evently._require(entry_id IS NOT NULL, 'EV002', 'waitlist entry not found',
        format('User %s has not joined the waitlist of event %s.', actor, req->'path'->>'event_id'));
    RETURN evently._waitlist_status_json(entry_id);
END
$$;

-- GET /users/waitlist: every entry of the actor, newest first
CREATE FUNCTION evently.api_user_waitlist(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(evently._waitlist_status_json(id) ORDER BY joined_at DESC), '[]')
      FROM evently.waitlist_entries WHERE user_id = actor
$$;

-- A query-string integer: the default when absent, EV001 when not an
-- integer in [min, max].
CREATE FUNCTION evently._int_param(req jsonb, name text, fallback int, min_value int, max_value int)
RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN fallback;
    END IF;
    PERFORM evently._require(raw ~ '^-?[0-9]{1,9}$' AND raw::int BETWEEN min_value AND max_value,
        'EV001', 'Invalid query parameters',
        format('%s=%s is not an integer from %s to %s.', name, raw, min_value, max_value));
    RETURN raw::int;
END
$$;

-- A query-string date (YYYY-MM-DD), NULL when absent, EV001 when malformed.
CREATE FUNCTION evently._date_param(req jsonb, name text) RETURNS date
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    raw text := req->'query'->>name;
BEGIN
    IF raw IS NULL OR raw = '' THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(raw ~ '^\d{4}-\d{2}-\d{2}$', 'EV001', 'Invalid query parameters',
        format('%s=%s is not a date (YYYY-MM-DD).', name, raw));
    BEGIN
        RETURN raw::date;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
        PERFORM evently._fail('EV001', 'Invalid query parameters', format('%s=%s is not a date.', name, raw));
    END;
END
$$;

-- GET /events and /admin/events: filters and pages of the reference (1.4).
CREATE FUNCTION evently.api_events_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    date_from date := evently._date_param(req, 'date_from');
    date_to date := evently._date_param(req, 'date_to');
    tag_names text[] := CASE WHEN coalesce(q->>'tags', '') = '' THEN NULL
                             ELSE string_to_array(q->>'tags', ',') END;
    total bigint;
    events jsonb;
BEGIN
    PERFORM evently._require(coalesce(q->>'status', 'published') IN ('published', 'cancelled', 'completed'),
        'EV001', 'Invalid query parameters',
        format('status=%s is not published, cancelled or completed.', q->>'status'));
    WITH matching AS (
        SELECT e.id, e.date_time FROM evently.events e
         WHERE (q->>'search' IS NULL OR e.name ILIKE '%' || (q->>'search') || '%'
                OR e.description ILIKE '%' || (q->>'search') || '%'
                OR e.venue ILIKE '%' || (q->>'search') || '%')
           AND (q->>'venue' IS NULL OR e.venue ILIKE '%' || (q->>'venue') || '%')
           AND (q->>'status' IS NULL OR e.status = q->>'status')
           AND (date_from IS NULL OR e.date_time >= date_from)
           AND (date_to IS NULL OR e.date_time < date_to + 1)
           AND (tag_names IS NULL OR EXISTS (
                   SELECT 1 FROM evently.event_tags et JOIN evently.tags g ON g.id = et.tag_id
                    WHERE et.event_id = e.id AND g.is_active AND g.name = ANY (tag_names))))
    SELECT (SELECT count(*) FROM matching),
           coalesce((SELECT jsonb_agg(evently.event_json(p.id) ORDER BY p.date_time, p.id)
                       FROM (SELECT id, date_time FROM matching ORDER BY date_time, id
                              LIMIT lim OFFSET (page - 1) * lim) p), '[]')
      INTO total, events;
    RETURN jsonb_build_object('events', events, 'total_count', total, 'page', page, 'limit', lim,
                              'total_pages', ceil(total::numeric / lim)::int);
END
$$;

-- GET /events/upcoming?limit=: published events still to come, soonest first
CREATE FUNCTION evently.api_events_upcoming(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    raw text := req->'query'->>'limit';
    lim int := CASE WHEN raw ~ '^[0-9]{1,9}$' AND raw::int > 0 THEN least(raw::int, 100) ELSE 10 END;
BEGIN
    RETURN coalesce((SELECT jsonb_agg(evently.event_json(e.id) ORDER BY e.date_time, e.id)
                       FROM (SELECT id, date_time FROM evently.events
                              WHERE status = 'published' AND date_time > now()
                              ORDER BY date_time, id LIMIT lim) e), '[]');
END
$$;

CREATE FUNCTION evently.tag_json(p_tag_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', g.id, 'name', g.name, 'slug', g.slug, 'description', g.description,
                              'color', g.color, 'is_active', g.is_active, 'created_at', g.created_at,
                              'updated_at', g.updated_at)
      FROM evently.tags g WHERE g.id = p_tag_id
$$;

-- GET /tags/active
CREATE FUNCTION evently.api_tags_active(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(evently.tag_json(id) ORDER BY name), '[]')
      FROM evently.tags WHERE is_active
$$;

-- GET /tags/slug/:slug
CREATE FUNCTION evently.api_tag_by_slug(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE
RETURN evently._found((SELECT evently.tag_json(id) FROM evently.tags WHERE slug = req->'path'->>'slug'),
                      'tag', req->'path'->>'slug');

-- GET /events/:eventId/sections
CREATE FUNCTION evently.api_event_sections(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tpl_id uuid;
BEGIN
    SELECT venue_template_id INTO tpl_id FROM evently.events
     WHERE id = (req->'path'->>'eventId')::uuid;
    PERFORM evently._require(tpl_id IS NOT NULL, 'EV002', 'event not found',
        format('Event %s does not exist.', req->'path'->>'eventId'));
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', s.id, 'template_id', s.template_id, 'name', s.name, 'description', s.description,
                'row_start', s.row_start, 'row_end', s.row_end, 'seats_per_row', s.seats_per_row,
                'total_seats', s.total_seats, 'created_at', s.created_at, 'updated_at', s.updated_at)
              ORDER BY s.name)
              FROM evently.venue_sections s WHERE s.template_id = tpl_id), '[]');
END
$$;

-- GET /events/:eventId/venue/layout: every seat with its effective status;
-- holds show as HELD (is_held), lapsed holds as AVAILABLE.
CREATE FUNCTION evently.api_event_layout(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev_id uuid := (req->'path'->>'eventId')::uuid;
    doc jsonb;
BEGIN
    WITH seats AS (
        SELECT es.section_id, es.seat_id, s.seat_number, s."row", s.position, es.price, es.seat_order,
               CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE' ELSE es.status END AS status
          FROM evently.event_seats es JOIN evently.seats s ON s.id = es.seat_id
         WHERE es.event_id = ev_id),
    sections AS (
        SELECT sec.id, sec.name, sec.row_start, sec.row_end, sec.seats_per_row, sec.total_seats,
               p.price_multiplier,
               count(*) FILTER (WHERE st.status = 'AVAILABLE') AS available,
               jsonb_agg(jsonb_build_object('id', st.seat_id, 'seat_number', st.seat_number, 'row', st."row",
                                            'position', st.position, 'status', st.status, 'price', st.price,
                                            'is_held', st.status = 'HELD')
                         ORDER BY st."row", st.position) AS seat_list
          FROM seats st
          JOIN evently.venue_sections sec ON sec.id = st.section_id
          JOIN evently.event_pricing p ON p.event_id = ev_id AND p.section_id = sec.id
         GROUP BY sec.id, p.price_multiplier)
    SELECT jsonb_build_object(
               'event_id', e.id, 'event_name', e.name,
               'venue_info', jsonb_build_object('template_id', t.id, 'template_name', t.name,
                                                'layout_type', t.layout_type, 'description', t.description),
               'base_price', e.base_price,
               'sections', coalesce((SELECT jsonb_agg(jsonb_build_object(
                       'id', x.id, 'name', x.name, 'price_multiplier', x.price_multiplier,
                       'price', round(e.base_price * x.price_multiplier, 2), 'row_start', x.row_start,
                       'row_end', x.row_end, 'seats_per_row', x.seats_per_row, 'total_seats', x.total_seats,
                       'available_seats', x.available, 'seats', x.seat_list) ORDER BY x.name)
                  FROM sections x), '[]'),
               'total_seats', (SELECT count(*) FROM seats),
               'available_seats', (SELECT count(*) FROM seats WHERE status = 'AVAILABLE'))
      INTO doc
      FROM evently.events e JOIN evently.venue_templates t ON t.id = e.venue_template_id
     WHERE e.id = ev_id;
    PERFORM evently._require(doc IS NOT NULL, 'EV002', 'event not found',
        format('Event %s does not exist.', ev_id));
    RETURN doc;
END
$$;

-- GET /users/bookings?limit=&offset=: the actor's bookings, newest first
CREATE FUNCTION evently.api_user_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
    rows jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(d.doc ORDER BY b.created_at DESC, b.id), '[]') INTO rows
      FROM (SELECT id, created_at FROM evently.bookings WHERE user_id = actor
             ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
      JOIN evently.booking_docs d ON d.booking_id = b.id;
    RETURN jsonb_build_object('bookings', rows, 'count', jsonb_array_length(rows), 'limit', lim, 'offset', off);
END
$$;

-- GET /users/cancellations: the actor's cancellations, newest first
CREATE FUNCTION evently.api_user_cancellations(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH mine AS (
        SELECT c.id, c.created_at FROM evently.cancellations c
          JOIN evently.bookings b ON b.id = c.booking_id
         WHERE b.user_id = actor)
    SELECT jsonb_build_object(
        'cancellations', coalesce(jsonb_agg(d.doc ORDER BY m.created_at DESC, m.id), '[]'),
        'count', count(*))
      FROM mine m JOIN evently.cancellation_docs d ON d.cancellation_id = m.id
$$;

-- GET /cancellations/:id: its booking's owner or an ADMIN
CREATE FUNCTION evently.api_cancellation_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb := evently.cancellation_json((req->'path'->>'id')::uuid);
BEGIN
    PERFORM evently._require(doc IS NOT NULL AND ((doc->>'user_id')::uuid = actor
                                                  OR evently._require_actor(actor) = 'ADMIN'),
        'EV002', 'cancellation not found', format('Cancellation %s does not exist.', req->'path'->>'id'));
    RETURN doc;
END
$$;

-- GET /users/:userId/holds: one's own live holds (an ADMIN may read anyone's)
CREATE FUNCTION evently.api_user_holds(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    subject uuid := (req->'path'->>'userId')::uuid;
BEGIN
    PERFORM evently._require(subject = actor OR evently._require_actor(actor) = 'ADMIN', 'EV003',
        'Access denied', format('User %s may not read the holds of user %s.', actor, subject));
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object(
                'hold_id', h.id, 'user_id', h.user_id, 'event_id', h.event_id,
                'seat_ids', (SELECT jsonb_agg(hs.seat_id ORDER BY hs.seat_id) FROM evently.hold_seats hs
                              WHERE hs.hold_id = h.id),
                'ttl_seconds', greatest(0, ceil(extract(epoch FROM h.expires_at - now())))::int)
              ORDER BY h.created_at)
              FROM evently.holds h
             WHERE h.user_id = subject AND h.status = 'ACTIVE' AND h.expires_at > now()), '[]');
END
$$;

-- POST and PUT /admin/events/:eventId/cancellation-policy
CREATE FUNCTION evently.api_policy_set(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev_id uuid := (req->'path'->>'eventId')::uuid;
    exists_already boolean;
BEGIN
    PERFORM evently._require_admin(actor);
    exists_already := EXISTS (SELECT 1 FROM evently.cancellation_policies WHERE event_id = ev_id);
    PERFORM evently._require(exists_already = (req->>'method' = 'PUT'),
        CASE WHEN exists_already THEN 'EV010' ELSE 'EV002' END,
        CASE WHEN exists_already THEN 'cancellation policy already exists for this event'
             ELSE 'cancellation policy not found' END,
        format('Event %s; create with POST, replace with PUT.', ev_id));
    PERFORM evently._require((b->>'cancellation_deadline')::timestamptz > now(), 'EV001',
        'cancellation deadline must be in the future', format('%s is not after now.', b->>'cancellation_deadline'));
    PERFORM evently._require(coalesce((b->>'refund_processing_days')::int, 5) BETWEEN 1 AND 30, 'EV001',
        'invalid refund processing days', 'Refunds are processed in 1 to 30 days.');
    RETURN evently.set_cancellation_policy(ev_id, (b->>'allow_cancellation')::boolean,
        (b->>'cancellation_deadline')::timestamptz, b->>'fee_type', coalesce((b->>'fee_amount')::numeric, 0),
        coalesce((b->>'refund_processing_days')::int, 5), actor);
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM evently._fail('EV001', 'invalid cancellation deadline',
        format('%L is not an RFC 3339 time.', b->>'cancellation_deadline'));
END
$$;

-- GET /admin/events/:eventId/cancellation-policy
CREATE FUNCTION evently.api_policy_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    doc jsonb := evently.policy_json((req->'path'->>'eventId')::uuid);
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM evently._require(doc IS NOT NULL, 'EV002', 'Cancellation policy not found',
        format('cancellation policy not found for event: %s', req->'path'->>'eventId'));
    RETURN doc;
END
$$;

-- A body time in RFC 3339 with a zone, or EV001.
CREATE FUNCTION evently._time_field(b jsonb, name text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF b->>name IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(b->>name ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$',
        'EV001', format('invalid %s', name), format('%L is not an RFC 3339 time with a zone.', b->>name));
    RETURN (b->>name)::timestamptz;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow THEN
    PERFORM evently._fail('EV001', format('invalid %s', name), format('%L is not a time.', b->>name));
END
$$;

-- POST /admin/events
CREATE FUNCTION evently.api_event_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    multipliers jsonb := '{}';
    item jsonb;
    new_id uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    FOR item IN SELECT * FROM jsonb_array_elements(b->'section_pricing') LOOP
        PERFORM evently._require(jsonb_typeof(item) = 'object' AND item->>'section_id' ~* '^[0-9a-f-]{36}$'
                                 AND jsonb_typeof(item->'price_multiplier') = 'number',
            'EV001', 'invalid section pricing', 'Each item is {"section_id": uuid, "price_multiplier": number}.');
        PERFORM evently._require(NOT multipliers ? (item->>'section_id'), 'EV001',
            'duplicate section ID in pricing', format('Section %s is priced twice.', item->>'section_id'));
        multipliers := multipliers || jsonb_build_object(item->>'section_id', item->'price_multiplier');
    END LOOP;
    new_id := evently.create_event(b->>'name', (b->>'venue_template_id')::uuid,
                                   evently._time_field(b, 'date_time'), (b->>'base_price')::numeric, actor,
                                   b->>'venue', b->>'description', multipliers,
                                   ARRAY(SELECT jsonb_array_elements_text(coalesce(b->'tags', '[]'))));
    UPDATE evently.events SET image_url = b->>'image_url' WHERE id = new_id AND b->>'image_url' IS NOT NULL;
    RETURN evently.event_json(new_id, true);
END
$$;

-- PUT /admin/events/:eventId: only a published event changes; cancelling it
-- releases its holds and closes its waitlist (bookings stay, for refunds).
CREATE FUNCTION evently.api_event_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    ev record;
    new_time timestamptz := evently._time_field(b, 'date_time');
    new_status text := b->>'status';
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT * INTO ev FROM evently.events WHERE id = (req->'path'->>'eventId')::uuid FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'event not found',
        format('Event %s does not exist.', req->'path'->>'eventId'));
    PERFORM evently._require(ev.status = 'published', 'EV007',
        format('cannot update event with status: %s', ev.status), 'Cancelled and completed events are final.');
    PERFORM evently._require(new_time IS NULL OR new_time > now(), 'EV001', 'event date must be in the future',
        format('%s is not after now.', new_time));
    PERFORM evently._require(new_status IS NULL OR new_status IN ('published', 'cancelled', 'completed'),
        'EV001', 'invalid status', format('Status %L is not published, cancelled or completed.', new_status));
    PERFORM evently._require(b->'base_price' IS NULL OR (b->>'base_price')::numeric >= 0, 'EV001',
        'invalid base price', 'A base price is at least 0.');
    PERFORM evently._require(coalesce(length(b->>'name'), 3) BETWEEN 3 AND 255, 'EV001', 'invalid event name',
        'An event name has 3 to 255 characters.');
    IF b ? 'tags' THEN
        PERFORM evently._require(NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(b->'tags') t
                 WHERE NOT EXISTS (SELECT 1 FROM evently.tags g WHERE g.slug = t AND g.is_active)),
            'EV001', 'tag validation failed', 'Every tag must be the slug of an active tag.');
        DELETE FROM evently.event_tags WHERE event_id = ev.id;
        INSERT INTO evently.event_tags (event_id, tag_id)
        SELECT ev.id, g.id FROM evently.tags g WHERE g.slug IN (SELECT jsonb_array_elements_text(b->'tags'));
    END IF;
    BEGIN
        UPDATE evently.events
           SET name = coalesce(b->>'name', name), description = coalesce(b->>'description', description),
               venue = coalesce(b->>'venue', venue), date_time = coalesce(new_time, date_time),
               base_price = coalesce(round((b->>'base_price')::numeric, 2), base_price),
               status = coalesce(new_status, status), image_url = coalesce(b->>'image_url', image_url),
               updated_by = actor, updated_at = now()
         WHERE id = ev.id;
    EXCEPTION WHEN check_violation OR numeric_value_out_of_range THEN
        PERFORM evently._fail('EV001', 'invalid event', SQLERRM);
    END;
    IF b ? 'base_price' THEN
        -- seats not yet sold take the new price
        UPDATE evently.event_seats es SET price = round((b->>'base_price')::numeric * p.price_multiplier, 2)
          FROM evently.event_pricing p
         WHERE es.event_id = ev.id AND p.event_id = ev.id AND p.section_id = es.section_id
           AND es.status IN ('AVAILABLE', 'BLOCKED');
    END IF;
    IF new_status = 'cancelled' THEN
        PERFORM evently._close_event(ev.id, actor);
    END IF;
    PERFORM evently._emit(CASE WHEN new_status = 'cancelled' THEN 'event.cancelled' ELSE 'event.updated' END,
                          ev.id, actor, 'event', ev.id, evently.event_json(ev.id), actor);
    RETURN evently.event_json(ev.id, true);
END
$$;

-- A cancelled event's live holds are released and its waitlist closed.
CREATE FUNCTION evently._close_event(p_event_id uuid, actor uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._lock_event_queue(p_event_id);
    UPDATE evently.waitlist_entries SET status = 'CANCELLED', updated_at = now()
     WHERE event_id = p_event_id AND status IN ('ACTIVE', 'NOTIFIED');
    PERFORM 1 FROM evently.event_seats WHERE event_id = p_event_id AND status = 'HELD'
     ORDER BY seat_id FOR UPDATE;
    UPDATE evently.holds SET status = 'RELEASED', updated_at = now()
     WHERE event_id = p_event_id AND status = 'ACTIVE';
    UPDATE evently.event_seats SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL
     WHERE event_id = p_event_id AND status = 'HELD';
END
$$;

-- DELETE /admin/events/:eventId: only an event nobody ever held or booked
CREATE FUNCTION evently.api_event_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ev_id uuid := (req->'path'->>'eventId')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.events WHERE id = ev_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'event not found', format('Event %s does not exist.', ev_id));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.holds WHERE event_id = ev_id),
        'EV014', 'cannot delete event with existing bookings. Consider canceling the event instead',
        format('Event %s has holds or bookings.', ev_id));
    DELETE FROM evently.waitlist_entries WHERE event_id = ev_id;
    DELETE FROM evently.events WHERE id = ev_id;
    PERFORM evently._audit('event.deleted', 'event', ev_id, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /admin/events/:eventId
CREATE FUNCTION evently.api_admin_event_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently.event_json((req->'path'->>'eventId')::uuid, true);
END
$$;

-- GET /admin/events
CREATE FUNCTION evently.api_admin_events_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently.api_events_list(actor, req);
END
$$;

-- The sort of an admin list: sort_by among the allowed columns, sort_order
-- asc or desc; EV001 otherwise.
CREATE FUNCTION evently._sort_param(req jsonb, allowed text[], fallback text)
RETURNS TABLE (sort_by text, descending boolean) LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    sort_by := coalesce(nullif(req->'query'->>'sort_by', ''), fallback);
    PERFORM evently._require(sort_by = ANY (allowed), 'EV001', 'Invalid query parameters',
        format('sort_by=%s is not one of %s.', sort_by, array_to_string(allowed, ', ')));
    PERFORM evently._require(coalesce(req->'query'->>'sort_order', 'asc') IN ('asc', 'desc'), 'EV001',
        'Invalid query parameters', format('sort_order=%s is not asc or desc.', req->'query'->>'sort_order'));
    descending := req->'query'->>'sort_order' = 'desc';
    RETURN NEXT;
END
$$;

-- a page of ids as {<key>: [...], total_count, page, limit, total_pages}
CREATE FUNCTION evently._page(key text, docs jsonb, total bigint, page int, lim int) RETURNS jsonb
LANGUAGE sql IMMUTABLE RETURN jsonb_build_object(key, coalesce(docs, '[]'), 'total_count', total,
                                                 'page', page, 'limit', lim,
                                                 'total_pages', ceil(total::numeric / lim)::int);

-- POST /admin/tags
CREATE FUNCTION evently.api_tag_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    -- its own statement: tag_json must see the row create_tag inserts
    new_id := evently.create_tag(req->'body'->>'name', coalesce(req->'body'->>'color', '#6B7280'),
                                 req->'body'->>'description', actor);
    RETURN evently.tag_json(new_id);
END
$$;

-- GET /admin/tags?page&limit&search&is_active&sort_by&sort_order
CREATE FUNCTION evently.api_tags_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 10, 1, 100);
    sort record := evently._sort_param(req, '{name,created_at,updated_at}', 'name');
    total bigint;
    docs jsonb;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM evently._require(coalesce(q->>'is_active', 'true') IN ('true', 'false'), 'EV001',
        'Invalid query parameters', 'is_active is true or false.');
    WITH matching AS (
        SELECT g.*, CASE sort.sort_by WHEN 'name' THEN g.name
                                      WHEN 'created_at' THEN to_char(g.created_at, 'YYYYMMDDHH24MISSUS')
                                      ELSE to_char(g.updated_at, 'YYYYMMDDHH24MISSUS') END AS sort_key
          FROM evently.tags g
         WHERE (q->>'search' IS NULL OR g.name ILIKE '%' || (q->>'search') || '%'
                OR g.description ILIKE '%' || (q->>'search') || '%')
           AND (q->>'is_active' IS NULL OR g.is_active = (q->>'is_active')::boolean))
    SELECT (SELECT count(*) FROM matching),
           (SELECT jsonb_agg(evently.tag_json(m.id) ORDER BY m.n)
              FROM (SELECT id, row_number() OVER (ORDER BY CASE WHEN sort.descending THEN NULL ELSE sort_key END,
                                                           sort_key DESC, id) AS n
                      FROM matching ORDER BY n LIMIT lim OFFSET (page - 1) * lim) m)
      INTO total, docs;
    RETURN evently._page('tags', docs, total, page, lim);
END
$$;

-- GET /admin/tags/:id
CREATE FUNCTION evently.api_tag_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently._found(evently.tag_json((req->'path'->>'id')::uuid), 'tag', req->'path'->>'id');
END
$$;

-- PUT /admin/tags/:id
CREATE FUNCTION evently.api_tag_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    tag_id uuid := (req->'path'->>'id')::uuid;
    new_slug text := evently.slugify(b->>'name');
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.tags WHERE id = tag_id FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'tag not found', format('Tag %s does not exist.', tag_id));
    PERFORM evently._require(b->>'name' IS NULL OR (length(btrim(b->>'name')) BETWEEN 2 AND 100 AND new_slug <> ''),
        'EV001', 'invalid tag name', 'A tag name has 2 to 100 characters, one alphanumeric.');
    PERFORM evently._require(b->>'name' IS NULL OR NOT EXISTS (
            SELECT 1 FROM evently.tags WHERE id <> tag_id AND (slug = new_slug OR name = btrim(b->>'name'))),
        'EV010', 'a tag with similar name already exists', format('Another tag is named like %L.', b->>'name'));
    PERFORM evently._require(b->>'color' IS NULL OR b->>'color' ~ '^#[0-9A-Fa-f]{6}$', 'EV001',
        'invalid color format. Use hex format like #FF0000', format('%L is not #RRGGBB.', b->>'color'));
    PERFORM evently._require(b->>'description' IS NULL OR length(b->>'description') <= 500, 'EV001',
        'tag description is too long', 'A description has at most 500 characters.');
    UPDATE evently.tags
       SET name = coalesce(btrim(b->>'name'), name), slug = coalesce(new_slug, slug),
           description = coalesce(b->>'description', description), color = coalesce(b->>'color', color),
           is_active = coalesce((b->>'is_active')::boolean, is_active), updated_by = actor, updated_at = now()
     WHERE id = tag_id;
    PERFORM evently._audit('tag.updated', 'tag', tag_id, b, actor);
    RETURN evently.tag_json(tag_id);
END
$$;

-- DELETE /admin/tags/:id: only a tag no event uses
CREATE FUNCTION evently.api_tag_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    victim uuid := (req->'path'->>'id')::uuid;
    uses bigint;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.tags WHERE id = victim FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'tag not found', format('Tag %s does not exist.', victim));
    SELECT count(*) INTO uses FROM evently.event_tags WHERE tag_id = victim;
    PERFORM evently._require(uses = 0, 'EV014',
        format('cannot delete tag as it is being used by %s event(s). Consider deactivating it instead', uses),
        format('Tag %s is on %s events.', victim, uses));
    DELETE FROM evently.tags WHERE id = victim;
    PERFORM evently._audit('tag.deleted', 'tag', victim, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /admin/tags/active
CREATE FUNCTION evently.api_admin_tags_active(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently.api_tags_active(actor, req);
END
$$;

CREATE FUNCTION evently.template_json(p_template_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', t.id, 'name', t.name, 'description', t.description,
                              'default_rows', t.default_rows, 'default_seats_per_row', t.default_seats_per_row,
                              'layout_type', t.layout_type, 'created_at', t.created_at, 'updated_at', t.updated_at)
      FROM evently.venue_templates t WHERE t.id = p_template_id
$$;

CREATE FUNCTION evently.section_json(p_section_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'template_id', s.template_id, 'name', s.name,
                              'description', s.description, 'row_start', s.row_start, 'row_end', s.row_end,
                              'seats_per_row', s.seats_per_row, 'total_seats', s.total_seats,
                              'created_at', s.created_at, 'updated_at', s.updated_at)
      FROM evently.venue_sections s WHERE s.id = p_section_id
$$;

CREATE FUNCTION evently.seat_json(p_seat_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'section_id', s.section_id, 'seat_number', s.seat_number,
                              'row', s."row", 'position', s.position, 'status', s.status,
                              'created_at', s.created_at, 'updated_at', s.updated_at,
                              'section', jsonb_build_object('id', sec.id, 'template_id', sec.template_id,
                                                            'name', sec.name))
      FROM evently.seats s JOIN evently.venue_sections sec ON sec.id = s.section_id
     WHERE s.id = p_seat_id
$$;

-- A template may change shape only while no event uses it.
CREATE FUNCTION evently._require_template_unused(p_template_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.events WHERE venue_template_id = p_template_id),
        'EV014', 'venue template is in use',
        format('Venue template %s has events; their seat inventory is fixed.', p_template_id));
END
$$;

-- POST /admin/venue-templates
CREATE FUNCTION evently.api_template_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    new_id uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    new_id := evently.create_venue_template(b->>'name', b->>'layout_type', b->>'description');
    UPDATE evently.venue_templates SET default_rows = (b->>'default_rows')::int,
                                       default_seats_per_row = (b->>'default_seats_per_row')::int
     WHERE id = new_id;
    RETURN evently.template_json(new_id);
END
$$;

-- GET /admin/venue-templates?page&limit&search&layout_type&sort_by&sort_order
CREATE FUNCTION evently.api_templates_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q jsonb := req->'query';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 20, 1, 100);
    sort record;
    total bigint;
    docs jsonb;
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT * INTO sort FROM evently._sort_param(req, '{name,created_at,updated_at}', 'name');
    WITH matching AS (
        SELECT t.id, CASE sort.sort_by WHEN 'name' THEN t.name
                                       WHEN 'created_at' THEN to_char(t.created_at, 'YYYYMMDDHH24MISSUS')
                                       ELSE to_char(t.updated_at, 'YYYYMMDDHH24MISSUS') END AS sort_key
          FROM evently.venue_templates t
         WHERE (q->>'search' IS NULL OR t.name ILIKE '%' || (q->>'search') || '%'
                OR t.description ILIKE '%' || (q->>'search') || '%')
           AND (q->>'layout_type' IS NULL OR t.layout_type = upper(q->>'layout_type'))),
    ordered AS (
        SELECT id, row_number() OVER (ORDER BY CASE WHEN sort.descending THEN NULL ELSE sort_key END,
                                               sort_key DESC, id) AS n
          FROM matching)
    SELECT (SELECT count(*) FROM matching),
           (SELECT jsonb_agg(evently.template_json(o.id) ORDER BY o.n)
              FROM (SELECT * FROM ordered ORDER BY n LIMIT lim OFFSET (page - 1) * lim) o)
      INTO total, docs;
    RETURN evently._page('templates', docs, total, page, lim);
END
$$;

-- GET /admin/venue-templates/:id
CREATE FUNCTION evently.api_template_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently._found(evently.template_json((req->'path'->>'id')::uuid), 'template', req->'path'->>'id');
END
$$;

-- PUT /admin/venue-templates/:id
CREATE FUNCTION evently.api_template_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    tpl uuid := (req->'path'->>'id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.venue_templates WHERE id = tpl FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'template not found', format('Venue template %s does not exist.', tpl));
    PERFORM evently._require(b->>'name' IS NULL OR NOT EXISTS (
            SELECT 1 FROM evently.venue_templates WHERE name = btrim(b->>'name') AND id <> tpl),
        'EV010', format('template with name %L already exists', b->>'name'), 'Template names are unique.');
    PERFORM evently._require(b->>'layout_type' IS NULL
                             OR upper(b->>'layout_type') IN ('THEATER', 'STADIUM', 'CONFERENCE', 'GENERAL'),
        'EV001', 'invalid layout type', format('Layout %L is not THEATER, STADIUM, CONFERENCE or GENERAL.', b->>'layout_type'));
    UPDATE evently.venue_templates
       SET name = coalesce(btrim(b->>'name'), name), description = coalesce(b->>'description', description),
           layout_type = coalesce(upper(b->>'layout_type'), layout_type),
           default_rows = coalesce((b->>'default_rows')::int, default_rows),
           default_seats_per_row = coalesce((b->>'default_seats_per_row')::int, default_seats_per_row),
           updated_at = now()
     WHERE id = tpl;
    PERFORM evently._audit('venue_template.updated', 'venue_template', tpl, b, actor);
    RETURN evently.template_json(tpl);
END
$$;

-- DELETE /admin/venue-templates/:id: with its sections and seats, if no event uses it
CREATE FUNCTION evently.api_template_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tpl uuid := (req->'path'->>'id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.venue_templates WHERE id = tpl FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'template not found', format('Venue template %s does not exist.', tpl));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.venue_templates WHERE id = tpl;
    PERFORM evently._audit('venue_template.deleted', 'venue_template', tpl, '{}', actor);
    RETURN NULL;
END
$$;

-- POST /admin/venue-templates/:id/sections: the seats are generated with it
CREATE FUNCTION evently.api_section_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    new_id uuid;
    made int;
BEGIN
    PERFORM evently._require_admin(actor);
    new_id := evently.add_section((req->'path'->>'id')::uuid, b->>'name', b->>'row_start', b->>'row_end',
                                  (b->>'seats_per_row')::int, b->>'description');
    SELECT total_seats INTO made FROM evently.venue_sections WHERE id = new_id;
    PERFORM evently._require(b->'total_seats' IS NULL OR (b->>'total_seats')::int = made, 'EV001',
        format('generated seat count (%s) doesn''t match section total (%s)', made, b->>'total_seats'),
        'total_seats must equal rows x seats_per_row.');
    RETURN evently.section_json(new_id);
END
$$;

-- GET /admin/venue-templates/:id/sections
CREATE FUNCTION evently.api_sections_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tpl uuid := (req->'path'->>'id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN coalesce((SELECT jsonb_agg(evently.section_json(s.id) || jsonb_build_object('template', evently.template_json(tpl))
                                      ORDER BY s.name)
                       FROM evently.venue_sections s WHERE s.template_id = tpl), '[]');
END
$$;

-- PUT /admin/sections/:id: name and description (its seats are fixed)
CREATE FUNCTION evently.api_section_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    sec uuid := (req->'path'->>'id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.venue_sections WHERE id = sec FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'section not found', format('Section %s does not exist.', sec));
    BEGIN
        UPDATE evently.venue_sections SET name = coalesce(btrim(b->>'name'), name),
                                          description = coalesce(b->>'description', description), updated_at = now()
         WHERE id = sec;
    EXCEPTION WHEN unique_violation OR check_violation THEN
        PERFORM evently._fail('EV010', 'section name already used', SQLERRM);
    END;
    PERFORM evently._audit('venue_section.updated', 'venue_section', sec, b, actor);
    RETURN evently.section_json(sec);
END
$$;

-- DELETE /admin/sections/:id: with its seats, if no event uses the template
CREATE FUNCTION evently.api_section_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    sec uuid := (req->'path'->>'id')::uuid;
    tpl uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT template_id INTO tpl FROM evently.venue_sections WHERE id = sec FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'section not found', format('Section %s does not exist.', sec));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.venue_sections WHERE id = sec;
    PERFORM evently._audit('venue_section.deleted', 'venue_section', sec, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /seats/:id
CREATE FUNCTION evently.api_seat_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE
RETURN evently._found(evently.seat_json((req->'path'->>'id')::uuid), 'seat', req->'path'->>'id');

-- PUT /admin/seats/:id: a seat's label, or blocking it (also in the
-- inventories of events still to come, where it is not held or booked)
CREATE FUNCTION evently.api_seat_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    seat uuid := (req->'path'->>'id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM 1 FROM evently.seats WHERE id = seat FOR UPDATE;
    PERFORM evently._require(FOUND, 'EV002', 'seat not found', format('Seat %s does not exist.', seat));
    PERFORM evently._require(b->>'status' IS NULL OR b->>'status' IN ('AVAILABLE', 'BLOCKED'), 'EV001',
        'invalid seat status', format('Status %L is not AVAILABLE or BLOCKED.', b->>'status'));
    BEGIN
        UPDATE evently.seats SET seat_number = coalesce(b->>'seat_number', seat_number),
                                 "row" = coalesce(b->>'row', "row"),
                                 position = coalesce((b->>'position')::int, position),
                                 status = coalesce(b->>'status', status), updated_at = now()
         WHERE id = seat;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('EV010', 'seat number already used', SQLERRM);
    END;
    IF b->>'status' IS NOT NULL THEN
        UPDATE evently.event_seats es SET status = b->>'status'
          FROM evently.events e
         WHERE es.seat_id = seat AND e.id = es.event_id AND e.status = 'published' AND e.date_time > now()
           AND es.status IN ('AVAILABLE', 'BLOCKED');
    END IF;
    PERFORM evently._audit('seat.updated', 'seat', seat, b, actor);
    RETURN evently.seat_json(seat);
END
$$;

-- DELETE /admin/seats/:id: if no event uses its template
CREATE FUNCTION evently.api_seat_delete(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    seat uuid := (req->'path'->>'id')::uuid;
    tpl uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT sec.template_id INTO tpl FROM evently.seats s JOIN evently.venue_sections sec ON sec.id = s.section_id
     WHERE s.id = seat;
    PERFORM evently._require(FOUND, 'EV002', 'seat not found', format('Seat %s does not exist.', seat));
    PERFORM evently._require_template_unused(tpl);
    DELETE FROM evently.seats WHERE id = seat;
    PERFORM evently._audit('seat.deleted', 'seat', seat, '{}', actor);
    RETURN NULL;
END
$$;

-- GET /sections/:sectionId/seats
CREATE FUNCTION evently.api_section_seats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(evently.seat_json(s.id) - 'section' ORDER BY s."row", s.position), '[]')
      FROM evently.seats s WHERE s.section_id = (req->'path'->>'sectionId')::uuid
$$;

-- GET /sections/:sectionId/seats/available?event_id=
CREATE FUNCTION evently.api_section_seats_available(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev text := req->'query'->>'event_id';
BEGIN
    PERFORM evently._require(ev ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', 'EV001',
        'Event ID is required', 'Pass event_id=<uuid> in the query.');
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'seat_number', s.seat_number, 'row', s."row",
                                                         'position', s.position, 'status', 'AVAILABLE',
                                                         'price', es.price, 'is_held', false)
                                      ORDER BY s."row", s.position)
                       FROM evently.event_seats es JOIN evently.seats s ON s.id = es.seat_id
                      WHERE es.event_id = ev::uuid AND es.section_id = (req->'path'->>'sectionId')::uuid
                        AND (es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.held_until <= now()))), '[]');
END
$$;

-- POST /seats/availability {event_id, seat_ids}: holds are per (event, seat),
-- so the event is required (the reference's was not).
CREATE FUNCTION evently.api_seats_availability(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('seats', coalesce(jsonb_agg(jsonb_build_object(
               'seat_id', x.id,
               'available', coalesce(st.status = 'AVAILABLE', false),
               'status', CASE WHEN st.status IN ('AVAILABLE', 'HELD') THEN st.status ELSE 'UNAVAILABLE' END)
               ORDER BY x.n), '[]'))
      FROM jsonb_array_elements_text(req->'body'->'seat_ids') WITH ORDINALITY AS x(id, n)
      LEFT JOIN LATERAL (
          SELECT CASE WHEN es.status = 'HELD' AND es.held_until <= now() THEN 'AVAILABLE' ELSE es.status END AS status
            FROM evently.event_seats es
           WHERE es.event_id = (req->'body'->>'event_id')::uuid AND es.seat_id = x.id::uuid) st ON true
$$;

-- GET /seats/hold/:holdId/validate: is the caller's hold still good?
CREATE FUNCTION evently.api_hold_validate(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    h record;
BEGIN
    SELECT * INTO h FROM evently.holds WHERE id = (req->'path'->>'holdId')::uuid;
    PERFORM evently._require(FOUND AND h.user_id = actor, 'EV002', 'hold not found',
        format('Hold %s does not exist.', req->'path'->>'holdId'));
    PERFORM evently._require(h.status = 'ACTIVE' AND h.expires_at > now(), 'EV005', 'hold has expired',
        format('Hold %s is %s.', h.id, CASE WHEN h.status = 'ACTIVE' THEN 'past its expiry' ELSE h.status END));
    RETURN jsonb_build_object('valid', true,
        'details', jsonb_build_object('hold_id', h.id, 'user_id', h.user_id, 'event_id', h.event_id,
                                      'seat_ids', (SELECT jsonb_agg(seat_id ORDER BY seat_id) FROM evently.hold_seats
                                                    WHERE hold_id = h.id),
                                      'ttl_seconds', ceil(extract(epoch FROM h.expires_at - now()))::int),
        'ttl_seconds', ceil(extract(epoch FROM h.expires_at - now()))::int);
END
$$;

-- GET /admin/waitlist/stats/:event_id
CREATE FUNCTION evently.api_waitlist_stats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := (req->'path'->>'event_id')::uuid;
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN (SELECT jsonb_build_object(
                'event_id', ev, 'total_in_queue', count(*),
                'active_in_queue', count(*) FILTER (WHERE status = 'ACTIVE'),
                'notified_count', count(*) FILTER (WHERE status = 'NOTIFIED'),
                'converted_count', count(*) FILTER (WHERE status = 'CONVERTED'),
                'expired_count', count(*) FILTER (WHERE status = 'EXPIRED'),
                'average_wait_time_minutes',
                    coalesce(round(avg(extract(epoch FROM notified_at - joined_at) / 60)
                                   FILTER (WHERE notified_at IS NOT NULL)), 0))
              FROM evently.waitlist_entries WHERE event_id = ev);
END
$$;

-- GET /admin/waitlist/entries/:event_id?status&page&limit: the entries in
-- queue order; the page description travels beside data, as the reference's did.
CREATE FUNCTION evently.api_waitlist_entries(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := (req->'path'->>'event_id')::uuid;
    wanted text := req->'query'->>'status';
    page int := evently._int_param(req, 'page', 1, 1, 1000000);
    lim int := evently._int_param(req, 'limit', 50, 1, 100);
    total bigint;
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM evently._require(wanted IS NULL OR wanted IN ('ACTIVE', 'NOTIFIED', 'EXPIRED', 'CONVERTED', 'CANCELLED'),
        'EV001', 'Invalid status filter', format('status=%s is not a waitlist status.', wanted));
    SELECT count(*) INTO total FROM evently.waitlist_entries
     WHERE event_id = ev AND (wanted IS NULL OR status = wanted);
    RETURN jsonb_build_object(
        '__data', coalesce((SELECT jsonb_agg(w.doc || jsonb_build_object('created_at', e.created_at,
                                                                           'updated_at', e.updated_at)
                                             ORDER BY e.position)
                              FROM (SELECT * FROM evently.waitlist_entries
                                     WHERE event_id = ev AND (wanted IS NULL OR status = wanted)
                                     ORDER BY position LIMIT lim OFFSET (page - 1) * lim) e
                              JOIN evently.waitlist_docs w ON w.entry_id = e.id), '[]'),
        'pagination', jsonb_build_object('page', page, 'limit', lim, 'total', total,
                                         'total_pages', ceil(total::numeric / lim)::int));
END
$$;

-- POST /admin/waitlist/notify/:event_id and /admin/waitlist/cancellation/:event_id:
-- offers go to the queue for the seats actually free, whatever number is sent.
CREATE FUNCTION evently.api_waitlist_notify(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN evently.waitlist_promote((req->'path'->>'event_id')::uuid);
END
$$;

-- GET /admin/events/:eventId/bookings
CREATE FUNCTION evently.api_admin_event_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := (req->'path'->>'eventId')::uuid;
    lim int := evently._int_param(req, 'limit', 50, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
BEGIN
    PERFORM evently._require_admin(actor);
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.events WHERE id = ev), 'EV002', 'event not found',
        format('Event %s does not exist.', ev));
    RETURN jsonb_build_object(
        'bookings', coalesce((SELECT jsonb_agg(d.doc ORDER BY b.created_at DESC, b.id)
                                FROM (SELECT id, created_at FROM evently.bookings WHERE event_id = ev
                                       ORDER BY created_at DESC, id LIMIT lim OFFSET off) b
                                JOIN evently.booking_docs d ON d.booking_id = b.id), '[]'),
        'count', (SELECT count(*) FROM evently.bookings WHERE event_id = ev), 'limit', lim, 'offset', off);
END
$$;

-- GET /admin/events/:eventId/analytics: seats, not bookings, as the reference
-- counted them; every ratio is 0 when its denominator is.
CREATE FUNCTION evently.api_event_analytics(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := (req->'path'->>'eventId')::uuid;
    doc jsonb;
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT jsonb_build_object(
        'event_id', e.id, 'event_name', e.name,
        'total_bookings', (SELECT count(*) FROM evently.tickets t WHERE t.event_id = e.id AND t.status = 'VALID'),
        'total_revenue', (SELECT coalesce(sum(t.seat_price), 0) FROM evently.tickets t
                           WHERE t.event_id = e.id AND t.status = 'VALID'),
        'capacity_utilization', (SELECT coalesce(round(100.0 * count(*) FILTER (WHERE status = 'BOOKED')
                                                       / nullif(count(*), 0), 2), 0)
                                   FROM evently.event_seats WHERE event_id = e.id),
        'cancellation_rate', (SELECT coalesce(round(100.0 * count(*) FILTER (WHERE status = 'CANCELLED')
                                                    / nullif(count(*), 0), 2), 0)
                                FROM evently.bookings WHERE event_id = e.id),
        'bookings_by_day', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'bookings', n, 'revenue', r) ORDER BY d)
                                       FROM (SELECT created_at::date AS d, count(*) AS n, sum(total_price) AS r
                                               FROM evently.bookings WHERE event_id = e.id AND status = 'CONFIRMED'
                                              GROUP BY 1) x), '[]'))
      INTO doc FROM evently.events e WHERE e.id = ev;
    PERFORM evently._require(doc IS NOT NULL, 'EV002', 'event not found', format('Event %s does not exist.', ev));
    RETURN doc;
END
$$;

-- GET /admin/events/analytics (the reference's always answered 500)
CREATE FUNCTION evently.api_events_analytics(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN jsonb_build_object(
        'total_events', (SELECT count(*) FROM evently.events),
        'total_bookings', (SELECT count(*) FROM evently.bookings WHERE status = 'CONFIRMED'),
        'total_revenue', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings WHERE status = 'CONFIRMED'),
        'average_utilization', (SELECT coalesce(round(avg(u), 2), 0) FROM (
                                   SELECT 100.0 * count(*) FILTER (WHERE status = 'BOOKED') / count(*) AS u
                                     FROM evently.event_seats GROUP BY event_id) x),
        'most_popular_events', coalesce((SELECT jsonb_agg(x ORDER BY x.booking_count DESC, x.event_name) FROM (
               SELECT e.id AS event_id, e.name AS event_name, count(b.id) AS booking_count,
                      coalesce(sum(b.total_price), 0) AS revenue, e.venue, e.date_time
                 FROM evently.events e LEFT JOIN evently.bookings b ON b.event_id = e.id AND b.status = 'CONFIRMED'
                GROUP BY e.id ORDER BY count(b.id) DESC, e.name LIMIT 10) x), '[]'),
        'booking_trends', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'bookings', n, 'revenue', r) ORDER BY d)
                                      FROM (SELECT created_at::date AS d, count(*) AS n, sum(total_price) AS r
                                              FROM evently.bookings
                                             WHERE status = 'CONFIRMED' AND created_at > now() - interval '30 days'
                                             GROUP BY 1) x), '[]'),
        'events_by_status', coalesce((SELECT jsonb_object_agg(status, n)
                                        FROM (SELECT status, count(*) AS n FROM evently.events GROUP BY 1) x), '{}'),
        'revenue_by_month', coalesce((SELECT jsonb_agg(jsonb_build_object('month', m, 'revenue', r, 'events', n) ORDER BY m)
                                        FROM (SELECT to_char(created_at, 'YYYY-MM') AS m, sum(total_price) AS r,
                                                     count(DISTINCT event_id) AS n
                                                FROM evently.bookings
                                               WHERE status = 'CONFIRMED' AND created_at > now() - interval '12 months'
                                               GROUP BY 1) x), '[]'));
END
$$;

-- ---------------------------------------------------------------------------
-- Analytics (reference 7.8).  Every ratio goes through _pct or _growth, so a
-- zero denominator gives 0 -- never NaN, never an error.
-- ---------------------------------------------------------------------------

CREATE FUNCTION evently._pct(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE RETURN coalesce(round(100 * part / nullif(whole, 0), 2), 0);

CREATE FUNCTION evently._growth(current_value numeric, previous_value numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE RETURN coalesce(round(100 * (current_value - previous_value) / nullif(previous_value, 0), 2), 0);

-- per-booking facts the analytics share
CREATE VIEW evently.booking_facts AS
    SELECT b.id, b.user_id, b.event_id, b.status, b.total_price, b.total_seats, b.created_at,
           b.total_price / nullif(b.total_seats, 0) AS ticket_price,
           e.name AS event_name, e.venue, e.date_time, p.payment_method
      FROM evently.bookings b
      JOIN evently.events e ON e.id = b.event_id
      LEFT JOIN evently.payments p ON p.booking_id = b.id;

-- GET /analytics/admin/events
CREATE FUNCTION evently.api_analytics_events(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE RETURN evently.api_events_analytics(actor, req);

-- GET /analytics/admin/events/:id
CREATE FUNCTION evently.api_analytics_event(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := (req->'path'->>'id')::uuid;
    base jsonb := evently.api_event_analytics(actor, jsonb_build_object('path', jsonb_build_object('eventId', ev)));
BEGIN
    RETURN base || jsonb_build_object(
        'total_bookings', (SELECT count(*) FROM evently.bookings WHERE event_id = ev AND status = 'CONFIRMED'),
        'total_revenue', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings WHERE event_id = ev AND status = 'CONFIRMED'),
        'top_sections', coalesce((SELECT jsonb_agg(jsonb_build_object('section_id', sec.id, 'section_name', sec.name,
                                                                       'tickets', n, 'revenue', r) ORDER BY n DESC, sec.name)
                                    FROM (SELECT section_id, count(*) AS n, sum(seat_price) AS r FROM evently.tickets
                                           WHERE event_id = ev AND status = 'VALID' GROUP BY 1) t
                                    JOIN evently.venue_sections sec ON sec.id = t.section_id), '[]'),
        'booking_trends', base->'bookings_by_day');
END
$$;

CREATE FUNCTION evently._tag_stats() RETURNS TABLE (tag_id uuid, tag_name text, event_count bigint,
    total_bookings bigint, total_revenue numeric, avg_utilization numeric, avg_ticket_price numeric,
    avg_capacity_utilization numeric, booking_conversion numeric, popularity_score numeric)
LANGUAGE sql STABLE AS $$
    WITH per_tag AS (
        SELECT g.id, g.name,
               count(DISTINCT et.event_id) AS event_count,
               count(DISTINCT f.id) FILTER (WHERE f.status = 'CONFIRMED') AS bookings,
               coalesce(sum(f.total_price) FILTER (WHERE f.status = 'CONFIRMED'), 0) AS revenue,
               avg(f.ticket_price) FILTER (WHERE f.status = 'CONFIRMED') AS ticket_price,
               count(DISTINCT et.event_id) FILTER (WHERE f.status = 'CONFIRMED') AS events_with_bookings
          FROM evently.tags g
          LEFT JOIN evently.event_tags et ON et.tag_id = g.id
          LEFT JOIN evently.booking_facts f ON f.event_id = et.event_id
         GROUP BY g.id),
    utilization AS (
        SELECT et.tag_id, avg(evently._pct(count_booked, count_all)) AS capacity
          FROM evently.event_tags et
          JOIN (SELECT event_id, count(*) FILTER (WHERE status = 'BOOKED') AS count_booked, count(*) AS count_all
                  FROM evently.event_seats GROUP BY event_id) s ON s.event_id = et.event_id
         GROUP BY et.tag_id)
    SELECT p.id, p.name, p.event_count, p.bookings, p.revenue,
           evently._pct(p.events_with_bookings, p.event_count),
           coalesce(round(p.ticket_price, 2), 0),
           coalesce(round(u.capacity, 2), 0),
           coalesce(round(p.bookings::numeric / nullif(p.event_count, 0), 2), 0),
           round(p.event_count * 0.3 + p.bookings * 0.4 + p.revenue / 1000 * 0.2
                 + evently._pct(p.events_with_bookings, p.event_count) * 0.1, 2)
      FROM per_tag p LEFT JOIN utilization u ON u.tag_id = p.id
$$;

-- GET /analytics/admin/tags/popularity
CREATE FUNCTION evently.api_analytics_tag_popularity(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', tag_id, 'tag_name', tag_name,
                'event_count', event_count, 'total_bookings', total_bookings, 'total_revenue', total_revenue,
                'avg_utilization', avg_utilization, 'popularity_score', popularity_score)
                ORDER BY popularity_score DESC, tag_name)
              FROM (SELECT * FROM evently._tag_stats() ORDER BY popularity_score DESC, tag_name LIMIT 20) t), '[]');
END
$$;

-- GET /analytics/admin/tags/comparisons
CREATE FUNCTION evently.api_analytics_tag_comparisons(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', tag_id, 'tag_name', tag_name,
                'event_count', event_count, 'avg_capacity_utilization', avg_capacity_utilization,
                'avg_ticket_price', avg_ticket_price, 'total_revenue', total_revenue,
                'booking_conversion', booking_conversion) ORDER BY total_revenue DESC, tag_name)
              FROM (SELECT * FROM evently._tag_stats() ORDER BY total_revenue DESC, tag_name LIMIT 15) t), '[]');
END
$$;

-- GET /analytics/admin/tags/trends?months= (1-24, else 6)
CREATE FUNCTION evently.api_analytics_tag_trends(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    raw text := req->'query'->>'months';
    months int := CASE WHEN raw ~ '^[0-9]{1,3}$' AND raw::int BETWEEN 1 AND 24 THEN raw::int ELSE 6 END;
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', g.id, 'tag_name', g.name, 'month', x.month,
                                                         'event_count', x.events, 'revenue', x.revenue)
                                      ORDER BY x.month, g.name)
              FROM (SELECT et.tag_id, to_char(f.created_at, 'YYYY-MM') AS month,
                           count(DISTINCT f.event_id) AS events, sum(f.total_price) AS revenue
                      FROM evently.booking_facts f JOIN evently.event_tags et ON et.event_id = f.event_id
                     WHERE f.status = 'CONFIRMED' AND f.created_at > now() - make_interval(months => months)
                     GROUP BY 1, 2) x
              JOIN evently.tags g ON g.id = x.tag_id), '[]');
END
$$;

-- GET /analytics/admin/tags
CREATE FUNCTION evently.api_analytics_tags(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    most_popular text;
    least_used text;
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT (array_agg(tag_name ORDER BY popularity_score DESC, tag_name))[1],
           (array_agg(tag_name ORDER BY event_count, tag_name))[1]
      INTO most_popular, least_used FROM evently._tag_stats();
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_tags', (SELECT count(*) FROM evently.tags),
            'active_tags', (SELECT count(*) FROM evently.tags WHERE is_active),
            'tags_with_events', (SELECT count(DISTINCT tag_id) FROM evently.event_tags),
            'avg_tags_per_event', (SELECT coalesce(round((SELECT count(*) FROM evently.event_tags)::numeric
                                                         / nullif(count(*), 0), 2), 0) FROM evently.events),
            'most_popular_tag', most_popular, 'least_used_tag', least_used),
        'top_tags', evently.api_analytics_tag_popularity(actor, req),
        'tag_trends', evently.api_analytics_tag_trends(actor, req),
        'comparisons', evently.api_analytics_tag_comparisons(actor, req));
END
$$;

-- bookings overview for a period [from, to)
CREATE FUNCTION evently._booking_overview(from_time timestamptz, to_time timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'total_bookings', count(*),
        'confirmed_bookings', count(*) FILTER (WHERE status = 'CONFIRMED'),
        'cancelled_bookings', count(*) FILTER (WHERE status = 'CANCELLED'),
        'total_revenue', coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0),
        'average_booking_size', coalesce(round(avg(total_seats) FILTER (WHERE status = 'CONFIRMED'), 2), 0),
        'average_ticket_price', coalesce(round(avg(ticket_price) FILTER (WHERE status = 'CONFIRMED'), 2), 0),
        'cancellation_rate', evently._pct(count(*) FILTER (WHERE status = 'CANCELLED'), count(*)),
        'bookings_by_status', jsonb_build_object('CONFIRMED', count(*) FILTER (WHERE status = 'CONFIRMED'),
                                                 'CANCELLED', count(*) FILTER (WHERE status = 'CANCELLED')),
        'payment_methods', coalesce((SELECT jsonb_agg(jsonb_build_object('method', m, 'count', n) ORDER BY n DESC, m)
                                       FROM (SELECT payment_method AS m, count(*) AS n FROM evently.booking_facts
                                              WHERE created_at >= from_time AND created_at < to_time
                                              GROUP BY 1) x), '[]'))
      FROM evently.booking_facts WHERE created_at >= from_time AND created_at < to_time
$$;

-- GET /analytics/admin/bookings/daily: the last 30 days, newest first
CREATE FUNCTION evently.api_analytics_bookings_daily(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'total_bookings', n, 'confirmed_bookings', c,
                                                         'cancelled_bookings', x, 'revenue', r,
                                                         'average_value', coalesce(round(r / nullif(c, 0), 2), 0))
                                      ORDER BY d DESC)
              FROM (SELECT created_at::date AS d, count(*) AS n, count(*) FILTER (WHERE status = 'CONFIRMED') AS c,
                           count(*) FILTER (WHERE status = 'CANCELLED') AS x,
                           coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0) AS r
                      FROM evently.bookings WHERE created_at > now() - interval '30 days' GROUP BY 1) t), '[]');
END
$$;

-- GET /analytics/admin/bookings
CREATE FUNCTION evently.api_analytics_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    overall jsonb := evently._booking_overview('-infinity', 'infinity');
    cur jsonb := evently._booking_overview(now() - interval '30 days', 'infinity');
    prev jsonb := evently._booking_overview(now() - interval '60 days', now() - interval '30 days');
    user_now bigint := (SELECT count(*) FROM evently.users WHERE created_at > now() - interval '30 days');
    user_before bigint := (SELECT count(*) FROM evently.users
                            WHERE created_at BETWEEN now() - interval '60 days' AND now() - interval '30 days');
    insights jsonb := '[]';
BEGIN
    PERFORM evently._require_admin(actor);
    IF (overall->>'cancellation_rate')::numeric > 15 THEN
        insights := insights || jsonb_build_object('type', 'alert', 'message', 'Cancellation rate is above 15%');
    END IF;
    IF (overall->>'confirmed_bookings')::int > 0 AND (overall->>'average_booking_size')::numeric < 2 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Average booking size is below 2 seats');
    END IF;
    IF evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric) > 20 THEN
        insights := insights || jsonb_build_object('type', 'trend', 'message', 'Bookings grew more than 20% in 30 days');
    END IF;
    RETURN jsonb_build_object(
        'overview', overall || jsonb_build_object('daily_bookings', evently.api_analytics_bookings_daily(actor, req)),
        'trend_analysis', jsonb_build_object(
            'period_comparison', jsonb_build_object('current_period', cur, 'previous_period', prev,
                'percent_change', evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric)),
            'seasonality', '{}'::jsonb,
            'growth', jsonb_build_object(
                'booking_growth', evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric),
                'revenue_growth', evently._growth((cur->>'total_revenue')::numeric, (prev->>'total_revenue')::numeric),
                'user_growth', evently._growth(user_now, user_before))),
        'performance_stats', jsonb_build_object(
            'conversion_rate', evently._pct((SELECT count(*) FROM evently.holds WHERE status = 'CONFIRMED'),
                                            (SELECT count(*) FROM evently.holds)),
            'abandonment_rate', evently._pct((SELECT count(*) FROM evently.holds WHERE status IN ('EXPIRED', 'RELEASED')),
                                             (SELECT count(*) FROM evently.holds)),
            'avg_time_to_book', coalesce((SELECT round(avg(extract(epoch FROM b.created_at - h.created_at)), 2)
                                            FROM evently.bookings b JOIN evently.holds h ON h.id = b.hold_id), 0)),
        'insights', insights);
END
$$;

-- GET /analytics/admin/bookings/cancellations
CREATE FUNCTION evently.api_analytics_cancellations(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_admin(actor);
    RETURN (SELECT jsonb_build_object(
        'overview', jsonb_build_object(
            'total_cancellations', count(c.id),
            'cancellation_rate', evently._pct(count(c.id), (SELECT count(*) FROM evently.bookings)),
            'refund_amount', coalesce(sum(c.refund_amount), 0),
            'refund_rate', evently._pct(coalesce(sum(c.refund_amount), 0), coalesce(sum(b.total_price), 0)),
            'fees_collected', coalesce(sum(c.cancellation_fee), 0),
            'avg_time_to_cancel', coalesce(round(avg(extract(epoch FROM c.requested_at - b.created_at) / 3600), 2), 0)),
        'cancellation_reasons', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', r, 'count', n) ORDER BY n DESC, r)
                                            FROM (SELECT coalesce(reason, '') AS r, count(*) AS n
                                                    FROM evently.cancellations GROUP BY 1 LIMIT 20) x), '[]'),
        'timing_analysis', jsonb_build_object(
            'avg_hours_before_event', coalesce(round(avg(extract(epoch FROM e.date_time - c.requested_at) / 3600), 2), 0)),
        'financial_impact', jsonb_build_object('refunded', coalesce(sum(c.refund_amount), 0),
                                               'retained_fees', coalesce(sum(c.cancellation_fee), 0)),
        'trends', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'cancellations', n) ORDER BY d)
                              FROM (SELECT requested_at::date AS d, count(*) AS n FROM evently.cancellations
                                     WHERE requested_at > now() - interval '30 days' GROUP BY 1) x), '[]'))
      FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
      JOIN evently.events e ON e.id = b.event_id);
END
$$;

-- GET /analytics/admin/users: bookers, as the reference counted them
CREATE FUNCTION evently.api_analytics_users(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint;
    active bigint;
    fresh bigint;
    bookings bigint;
    insights jsonb := '[]';
BEGIN
    PERFORM evently._require_admin(actor);
    SELECT count(DISTINCT user_id),
           count(DISTINCT user_id) FILTER (WHERE status = 'CONFIRMED' AND created_at > now() - interval '30 days'),
           count(*)
      INTO total, active, bookings FROM evently.bookings;
    SELECT count(*) INTO fresh FROM (SELECT user_id FROM evently.bookings GROUP BY 1
                                      HAVING min(created_at) > now() - interval '30 days') x;
    IF total > 0 AND evently._pct(active, total) < 50 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Retention is below 50%');
    END IF;
    IF total > 0 AND bookings::numeric / total < 2 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Users book fewer than 2 times on average');
    END IF;
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_users', total, 'active_users', active, 'new_users', fresh,
            'retention_rate', evently._pct(active, total),
            'avg_bookings_per_user', coalesce(round(bookings::numeric / nullif(total, 0), 2), 0),
            'user_growth', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'new_users', n) ORDER BY d)
                                       FROM (SELECT created_at::date AS d, count(*) AS n FROM evently.users
                                              WHERE created_at > now() - interval '30 days' GROUP BY 1) x), '[]'),
            'user_segments', jsonb_build_array(
                jsonb_build_object('segment', 'new', 'count', fresh, 'percentage', evently._pct(fresh, total)),
                jsonb_build_object('segment', 'regular', 'count', greatest(active - fresh, 0),
                                   'percentage', evently._pct(greatest(active - fresh, 0), total)),
                jsonb_build_object('segment', 'inactive', 'count', total - active,
                                   'percentage', evently._pct(total - active, total)))),
        'behavior', jsonb_build_object('registered_users', (SELECT count(*) FROM evently.users)),
        'insights', insights);
END
$$;

-- GET /analytics/admin/dashboard
CREATE FUNCTION evently.api_analytics_dashboard(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    events jsonb := evently.api_events_analytics(actor, req);
    bookings jsonb := evently.api_analytics_bookings(actor, req);
    users jsonb := evently.api_analytics_users(actor, req);
    tags jsonb := evently.api_analytics_tags(actor, req);
BEGIN
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_events', events->'total_events', 'total_bookings', events->'total_bookings',
            'total_revenue', events->'total_revenue', 'total_users', (SELECT count(*) FROM evently.users),
            'active_events', (SELECT count(*) FROM evently.events WHERE status = 'published' AND date_time > now()),
            'cancellation_rate', bookings->'overview'->'cancellation_rate',
            'avg_utilization', events->'average_utilization',
            'revenue_growth', bookings->'trend_analysis'->'growth'->'revenue_growth'),
        'event_metrics', events,
        'booking_metrics', bookings,
        'user_metrics', users,
        'tag_metrics', tags->'overview',
        'recent_activity', coalesce((SELECT jsonb_agg(a ORDER BY a->>'timestamp' DESC) FROM (
                (SELECT jsonb_build_object('type', 'booking', 'description', 'Booking ' || booking_ref,
                                           'timestamp', created_at, 'user_id', user_id, 'event_id', event_id) AS a
                   FROM evently.bookings ORDER BY created_at DESC LIMIT 10)
                UNION ALL
                (SELECT jsonb_build_object('type', 'cancellation', 'description', 'Cancellation of a booking',
                                           'timestamp', c.requested_at, 'user_id', b.user_id, 'event_id', b.event_id)
                   FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
                  ORDER BY c.requested_at DESC LIMIT 5)
                UNION ALL
                (SELECT jsonb_build_object('type', 'event_created', 'description', 'Event ' || name,
                                           'timestamp', created_at, 'event_id', id)
                   FROM evently.events ORDER BY created_at DESC LIMIT 5)) x), '[]'),
        'top_performers', jsonb_build_object(
            'events', events->'most_popular_events',
            'tags', tags->'top_tags',
            'venues', coalesce((SELECT jsonb_agg(jsonb_build_object('venue', venue, 'bookings', n, 'revenue', r)
                                                 ORDER BY r DESC, venue)
                                  FROM (SELECT venue, count(*) AS n, sum(total_price) AS r FROM evently.booking_facts
                                         WHERE status = 'CONFIRMED' GROUP BY 1 LIMIT 10) x), '[]')),
        'trend_charts', jsonb_build_object(
            'booking_trends', events->'booking_trends',
            'revenue_trends', events->'revenue_by_month',
            'user_growth', users->'overview'->'user_growth'));
END
$$;

-- GET /analytics/user/bookings/history: the actor's own
CREATE FUNCTION evently.api_analytics_user_history(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    insights jsonb := '[]';
    spent numeric;
    n bigint;
BEGIN
    PERFORM evently._require_actor(actor);
    SELECT count(*) FILTER (WHERE status = 'CONFIRMED'), coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0)
      INTO n, spent FROM evently.bookings WHERE user_id = actor;
    IF n > 10 THEN insights := insights || jsonb_build_object('type', 'badge', 'message', 'Frequent Attendee'); END IF;
    IF spent > 1000 THEN insights := insights || jsonb_build_object('type', 'badge', 'message', 'Big Spender'); END IF;
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_bookings', n, 'total_spent', spent,
            'avg_booking_value', coalesce(round(spent / nullif(n, 0), 2), 0),
            'favorite_venue', (SELECT venue FROM evently.booking_facts WHERE user_id = actor AND status = 'CONFIRMED'
                                GROUP BY venue ORDER BY count(*) DESC, venue LIMIT 1),
            'favorite_event_type', (SELECT g.name FROM evently.booking_facts f JOIN evently.event_tags et ON et.event_id = f.event_id
                                      JOIN evently.tags g ON g.id = et.tag_id
                                     WHERE f.user_id = actor AND f.status = 'CONFIRMED'
                                     GROUP BY g.name ORDER BY count(*) DESC, g.name LIMIT 1),
            'member_since', (SELECT created_at FROM evently.users WHERE id = actor)),
        'booking_history', coalesce((SELECT jsonb_agg(jsonb_build_object('booking_id', id, 'event_id', event_id,
                                            'event_name', event_name, 'venue', venue, 'event_date', date_time,
                                            'total_price', total_price, 'total_seats', total_seats, 'status', status,
                                            'booked_at', created_at) ORDER BY created_at DESC)
                                       FROM (SELECT * FROM evently.booking_facts WHERE user_id = actor
                                              ORDER BY created_at DESC LIMIT 50) x), '[]'),
        'spending_analysis', jsonb_build_object(
            'spending_by_month', coalesce((SELECT jsonb_object_agg(m, r) FROM (
                    SELECT to_char(created_at, 'YYYY-MM') AS m, sum(total_price) AS r FROM evently.bookings
                     WHERE user_id = actor AND status = 'CONFIRMED' GROUP BY 1) x), '{}'),
            'spending_by_category', coalesce((SELECT jsonb_object_agg(t, r) FROM (
                    SELECT g.name AS t, sum(f.total_price) AS r FROM evently.booking_facts f
                      JOIN evently.event_tags et ON et.event_id = f.event_id JOIN evently.tags g ON g.id = et.tag_id
                     WHERE f.user_id = actor AND f.status = 'CONFIRMED' GROUP BY 1) x), '{}'),
            'yearly_total', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings
                              WHERE user_id = actor AND status = 'CONFIRMED' AND created_at > now() - interval '1 year')),
        'preferences', '{}'::jsonb,
        'insights', insights);
END
$$;

-- GET /analytics/user/personal
CREATE FUNCTION evently.api_analytics_user_personal(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    advance numeric;
    monthly numeric;
    achievements jsonb := '[]';
BEGIN
    PERFORM evently._require_actor(actor);
    SELECT coalesce(round(avg(extract(epoch FROM date_time - created_at) / 86400), 2), 0)
      INTO advance FROM evently.booking_facts WHERE user_id = actor AND status = 'CONFIRMED';
    SELECT coalesce(round(avg(r), 2), 0) INTO monthly FROM (
        SELECT sum(total_price) AS r FROM evently.bookings WHERE user_id = actor AND status = 'CONFIRMED'
         GROUP BY date_trunc('month', created_at)) x;
    IF advance > 30 THEN achievements := achievements || jsonb_build_object('id', 'early_bird'); END IF;
    IF monthly > 500 THEN achievements := achievements || jsonb_build_object('id', 'high_roller'); END IF;
    RETURN jsonb_build_object(
        'booking_patterns', jsonb_build_object(
            'booking_frequency', (SELECT count(*) FROM evently.bookings WHERE user_id = actor),
            'preferred_day', (SELECT trim(to_char(created_at, 'Day')) FROM evently.bookings WHERE user_id = actor
                               GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
            'preferred_time', (SELECT to_char(created_at, 'HH24') || ':00' FROM evently.bookings WHERE user_id = actor
                                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
            'advance_booking_time', advance,
            'seasonal_preferences', '{}'::jsonb),
        'spending_insights', jsonb_build_object('monthly_average', monthly),
        'recommendations', coalesce((SELECT jsonb_agg(jsonb_build_object('event_id', e.id, 'event_name', e.name,
                                                                         'date_time', e.date_time) ORDER BY e.date_time)
                                       FROM (SELECT * FROM evently.events WHERE status = 'published' AND date_time > now()
                                               AND id NOT IN (SELECT event_id FROM evently.bookings WHERE user_id = actor)
                                             ORDER BY date_time LIMIT 5) e), '[]'),
        'achievements', achievements);
END
$$;

-- ---------------------------------------------------------------------------
-- The outbox bridge (shim/bridge.c) and the notifications inbox (shim/notify.c)
-- ---------------------------------------------------------------------------

-- Become the one bridge that publishes: a session-level advisory lock
-- (key 0x45560004, 0) held while the bridge's connection lives, so a second
-- bridge waits as a standby and takes over when the first one's session ends.
CREATE FUNCTION evently.bridge_lead() RETURNS boolean
LANGUAGE sql AS $$ SELECT pg_try_advisory_lock(1163264004, 0) $$;

-- The oldest unpublished rows, in id order, as the bridge sends them: the
-- topic's aggregate, the key (the event id) and the message of SPEC section 5.
CREATE FUNCTION evently.outbox_batch(max_rows int)
RETURNS TABLE (id bigint, type text, aggregate text, key text, value text)
LANGUAGE sql STABLE AS $$
    -- pick the rows first, then build the JSON of those alone (a top-N sort
    -- over the whole backlog must not build every row's message)
    SELECT o.id, o.type, o.aggregate, o.event_id::text,
           jsonb_build_object('id', o.id, 'type', o.type, 'occurred_at', o.occurred_at,
                              'event_id', o.event_id, 'user_id', o.user_id, 'data', o.data)::text
      FROM (SELECT * FROM evently.outbox WHERE published_at IS NULL ORDER BY id LIMIT max_rows) o
     ORDER BY o.id
$$;

-- Mark rows published once Kafka acknowledged them; returns how many changed.
CREATE FUNCTION evently.outbox_published(ids bigint[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH marked AS (
        UPDATE evently.outbox SET published_at = now()
         WHERE id = ANY (ids) AND published_at IS NULL
        RETURNING 1)
    SELECT count(*) FROM marked
$$;

-- Delete published rows older than the retention, a bounded chunk per call.
CREATE FUNCTION evently.outbox_prune(retention interval, max_rows int DEFAULT 10000) RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM evently.outbox WHERE id IN (
            SELECT id FROM evently.outbox
             WHERE published_at IS NOT NULL AND published_at < now() - retention
             ORDER BY id LIMIT max_rows)
        RETURNING 1)
    SELECT count(*) FROM gone
$$;

-- A user's inbox, written by evently-notify from the Kafka topics: one row
-- per outbox event, whatever the number of deliveries (outbox_id is unique).
CREATE TABLE evently.notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id   bigint NOT NULL UNIQUE,
    user_id     uuid NOT NULL REFERENCES evently.users ON DELETE CASCADE,
    event_id    uuid,
    type        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON evently.notifications (user_id, occurred_at DESC);

-- Turn one Kafka message (the JSON of SPEC section 5) into an inbox row.
-- True when a row was written; false for a type the inbox ignores or a
-- redelivery of a message already written.
CREATE FUNCTION evently.record_notification(message jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    d jsonb := message->'data';
    event_name text;
    title text;
    body text;
BEGIN
    PERFORM evently._require(jsonb_typeof(message) = 'object' AND message->>'id' ~ '^[0-9]{1,18}$'
                             AND message->>'user_id' IS NOT NULL,
        'EV001', 'invalid notification message', 'A message needs a numeric id and a user_id.');
    SELECT name INTO event_name FROM evently.events WHERE id = (message->>'event_id')::uuid;
    CASE message->>'type'
        WHEN 'booking.confirmed' THEN
            title := 'Booking confirmed';
            body := format('Your booking %s for %s is confirmed.', d->>'booking_ref', event_name);
        WHEN 'booking.cancelled' THEN
            title := 'Booking cancelled';
            body := format('Your booking for %s was cancelled; refund %s.', event_name,
                           coalesce(d->>'refund_amount', '0'));
        WHEN 'waitlist.offered' THEN
            title := 'Seats are waiting for you';
            body := format('%s seats for %s are held for you until %s.', d->>'quantity', event_name,
                           d->>'expires_at');
        ELSE
            RETURN false;
    END CASE;
    INSERT INTO evently.notifications (outbox_id, user_id, event_id, type, title, body, data, occurred_at)
    SELECT (message->>'id')::bigint, u.id, (message->>'event_id')::uuid, message->>'type', title, body,
           coalesce(d, '{}'), coalesce((message->>'occurred_at')::timestamptz, now())
      FROM evently.users u WHERE u.id = (message->>'user_id')::uuid
    ON CONFLICT (outbox_id) DO NOTHING;
    RETURN FOUND;
END
$$;

-- GET /users/notifications: the actor's inbox, newest first
CREATE FUNCTION evently.api_user_notifications(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := evently._int_param(req, 'limit', 20, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
BEGIN
    PERFORM evently._require_actor(actor);
    RETURN jsonb_build_object(
        'notifications', coalesce((
            SELECT jsonb_agg(jsonb_build_object('id', n.id, 'type', n.type, 'title', n.title,
                                                'body', n.body, 'event_id', n.event_id,
                                                'data', n.data, 'occurred_at', n.occurred_at)
                             ORDER BY n.occurred_at DESC, n.id DESC)
              FROM (SELECT * FROM evently.notifications WHERE user_id = actor
                     ORDER BY occurred_at DESC, id DESC LIMIT lim OFFSET off) n), '[]'),
        'total', (SELECT count(*) FROM evently.notifications WHERE user_id = actor),
        'limit', lim, 'offset', off);
END
$$;
