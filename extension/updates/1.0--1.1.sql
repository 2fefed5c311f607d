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

-- the seat counters are kept by a C trigger (extension/counts.c) that
-- updates them itself, one statement per event a statement changed
DROP FUNCTION evently._move_seat_counts(uuid, text, text, bigint);

-- _close_event takes the reason of the cancellation (and refunds bookings)
DROP FUNCTION evently._close_event(uuid, uuid);

-- waitlist_promote takes the most offers to make (admin notify's count)
DROP FUNCTION evently.waitlist_promote(uuid);

-- join_waitlist takes the tier a general-admission entry waits for
DROP FUNCTION evently.join_waitlist(uuid, uuid, int, jsonb);

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

ALTER TABLE evently.tags ADD COLUMN retired_at timestamptz;
ALTER TABLE evently.venue_templates ADD COLUMN retired_at timestamptz;

ALTER TABLE evently.users
    ADD COLUMN ban_reason text CHECK (length(ban_reason) <= 500),
    ADD COLUMN banned_at timestamptz,
    ADD COLUMN banned_by uuid REFERENCES evently.users;
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

-- 1.1: ticket tiers, orders and payments (SPEC section 10)

-- A general-admission tier of an event.  Its capacity is total_quantity
-- pre-created units (tier_units): a reservation claims free units with
-- SKIP LOCKED, so buyers of one tier never queue on one counter row.
CREATE TABLE evently.ticket_tiers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id       uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    description    text CHECK (length(description) <= 2000),
    price          numeric(12,2) NOT NULL CHECK (price >= 0),
    total_quantity int NOT NULL CHECK (total_quantity BETWEEN 1 AND 1000000),
    sale_start     timestamptz,             -- NULL: on sale as soon as the event is
    sale_end       timestamptz,             -- NULL: until the event's sales end
    min_per_order  int NOT NULL DEFAULT 1 CHECK (min_per_order BETWEEN 1 AND 100),
    max_per_order  int NOT NULL DEFAULT 10 CHECK (max_per_order BETWEEN 1 AND 100),
    sort_order     int NOT NULL DEFAULT 0,
    created_by     uuid REFERENCES evently.users,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, name),
    CHECK (min_per_order <= max_per_order),
    CHECK (sale_start IS NULL OR sale_end IS NULL OR sale_end > sale_start)
);
CREATE INDEX ticket_tiers_event ON evently.ticket_tiers (event_id, sort_order);

-- One row per unit of a tier: the single source of truth for it, as
-- event_seats is for a seat (same statuses and lazy expiry).  tier_id has
-- no foreign key: checking one for each of a million new units was 60% of
-- creating them, and only the tier functions write units, for the tier they
-- just made or locked; deleting a tier deletes its units
-- (evently._delete_tier_units, 48_tiers.sql).
CREATE TABLE evently.tier_units (
    tier_id    uuid NOT NULL,
    unit_no    int NOT NULL CHECK (unit_no >= 1),
    event_id   uuid NOT NULL,
    status     text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'BOOKED')),
    hold_id    uuid REFERENCES evently.holds,
    held_until timestamptz,
    booking_id uuid REFERENCES evently.bookings,
    PRIMARY KEY (tier_id, unit_no),
    CHECK ((status = 'HELD') = (hold_id IS NOT NULL AND held_until IS NOT NULL)),
    CHECK ((status = 'HELD') OR (held_until IS NULL)),
    CHECK ((status = 'BOOKED') = (booking_id IS NOT NULL))
);
CREATE INDEX tier_units_free ON evently.tier_units (tier_id, unit_no) WHERE status = 'AVAILABLE';
CREATE INDEX tier_units_held ON evently.tier_units (tier_id, held_until) WHERE status = 'HELD';
CREATE INDEX tier_units_hold ON evently.tier_units (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX tier_units_booking ON evently.tier_units (booking_id) WHERE booking_id IS NOT NULL;

-- A tier's unit counts by status, kept by statement triggers on tier_units
-- in the same transaction as every unit change (48_tiers.sql), as
-- event_seat_counts is for seats: a read sums 16 rows instead of counting
-- up to a million units, and concurrent reservations update different
-- slots (SKIP LOCKED), so buyers of one tier do not queue on one row.
-- tier_units stays the source of truth; the tests check the sums.
CREATE TABLE evently.tier_unit_counts (
    tier_id   uuid NOT NULL REFERENCES evently.ticket_tiers ON DELETE CASCADE,
    slot      smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    available int NOT NULL DEFAULT 0,
    held      int NOT NULL DEFAULT 0,
    booked    int NOT NULL DEFAULT 0,
    PRIMARY KEY (tier_id, slot)
);

-- What a tier hold asked for: quantity per tier at the price of the moment.
CREATE TABLE evently.hold_items (
    hold_id    uuid NOT NULL REFERENCES evently.holds ON DELETE CASCADE,
    tier_id    uuid NOT NULL REFERENCES evently.ticket_tiers,
    quantity   int NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (hold_id, tier_id)
);
CREATE INDEX hold_items_tier ON evently.hold_items (tier_id);

-- A waitlist entry of a general-admission event waits for units of one tier
-- (NULL: for seats, as in 1.0); its offer is a hold of that tier's units.
-- A tier is deleted only if nothing was held of it and nobody waits for it,
-- so only entries that left before any offer go with it.
ALTER TABLE evently.waitlist_entries ADD COLUMN tier_id uuid REFERENCES evently.ticket_tiers ON DELETE CASCADE;
CREATE INDEX waitlist_tier ON evently.waitlist_entries (tier_id) WHERE tier_id IS NOT NULL;

-- A ticket is for a seat or for a unit of a tier, never both.
ALTER TABLE evently.tickets
    ALTER COLUMN seat_id DROP NOT NULL,
    ALTER COLUMN section_id DROP NOT NULL,
    ADD COLUMN tier_id uuid,
    ADD COLUMN unit_no int,
    ADD CONSTRAINT tickets_unit_fkey FOREIGN KEY (tier_id, unit_no) REFERENCES evently.tier_units,
    ADD CONSTRAINT tickets_seat_or_unit
        CHECK ((seat_id IS NOT NULL AND section_id IS NOT NULL AND tier_id IS NULL AND unit_no IS NULL)
            OR (seat_id IS NULL AND section_id IS NULL AND tier_id IS NOT NULL AND unit_no IS NOT NULL));
CREATE UNIQUE INDEX tickets_one_live_per_unit ON evently.tickets (tier_id, unit_no)
    WHERE status = 'VALID' AND tier_id IS NOT NULL;
-- Every ticket of a unit, whatever its status: what the foreign key looks up
-- when units are removed (a tier shrinks or is deleted), one probe per unit
-- instead of a scan of every ticket.
CREATE INDEX tickets_unit ON evently.tickets (tier_id, unit_no) WHERE tier_id IS NOT NULL;

-- How long an offline (bank transfer) order waits for its money.
ALTER TABLE evently.events
    ADD COLUMN payment_term interval NOT NULL DEFAULT '3 days'
        CHECK (payment_term BETWEEN '1 hour' AND '30 days');

-- Discount codes: per event, a percentage or a fixed amount off, limited
-- in uses and time, optionally to some tiers.  used_count counts the
-- orders that hold a use (pending or paid); the row lock of the increment
-- is what keeps max_uses under concurrency.
CREATE TABLE evently.discount_codes (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    code        text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{3,40}$'),   -- stored upper-case
    percent_off numeric(5,2) CHECK (percent_off > 0 AND percent_off <= 100),
    amount_off  numeric(12,2) CHECK (amount_off > 0),
    max_uses    int CHECK (max_uses >= 1),                           -- NULL: unlimited
    used_count  int NOT NULL DEFAULT 0 CHECK (used_count >= 0),
    valid_from  timestamptz,
    valid_to    timestamptz,
    tier_ids    uuid[],                                              -- NULL: every tier and seat
    is_active   boolean NOT NULL DEFAULT true,
    created_by  uuid REFERENCES evently.users,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, code),
    CHECK ((percent_off IS NULL) <> (amount_off IS NULL)),
    CHECK (max_uses IS NULL OR used_count <= max_uses),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from)
);

-- An order turns a hold into money.  PENDING until its payment completes
-- (PAID: the booking exists), or EXPIRED (unpaid when its hold lapsed),
-- FAILED (the payment failed), REFUNDED (a late payment refunded
-- automatically, or every ticket refunded), PARTIALLY_REFUNDED.
CREATE TABLE evently.orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES evently.users,
    event_id         uuid NOT NULL REFERENCES evently.events,
    hold_id          uuid NOT NULL REFERENCES evently.holds,
    booking_id       uuid UNIQUE REFERENCES evently.bookings,
    status           text NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'PAID', 'EXPIRED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    provider         text NOT NULL CHECK (provider IN ('mock', 'offline', 'card')),
    subtotal         numeric(12,2) NOT NULL CHECK (subtotal >= 0),
    discount_code_id uuid REFERENCES evently.discount_codes,
    discount_amount  numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    total_amount     numeric(12,2) NOT NULL CHECK (total_amount >= 0),
    currency         text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    payment_reference text UNIQUE,          -- offline: what the buyer writes on the transfer
    expires_at       timestamptz NOT NULL,  -- the hold's expiry (offline: extended to the payment term)
    paid_at          timestamptz,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    status_note      text,                  -- why it ended as it did (late payment refunded, ...)
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (total_amount = subtotal - discount_amount),
    CHECK ((status = 'PAID') <= (booking_id IS NOT NULL))
);
-- one live order per hold: a failed or expired one may be followed by another
CREATE UNIQUE INDEX orders_one_live_per_hold ON evently.orders (hold_id) WHERE status IN ('PENDING', 'PAID');
CREATE UNIQUE INDEX orders_idempotency ON evently.orders (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_user ON evently.orders (user_id, created_at);
CREATE INDEX orders_event ON evently.orders (event_id, created_at);
CREATE INDEX orders_pending ON evently.orders (expires_at) WHERE status = 'PENDING';

-- What an order bought: per tier, or per section for seats.
CREATE TABLE evently.order_items (
    order_id   uuid NOT NULL REFERENCES evently.orders ON DELETE CASCADE,
    item_no    int NOT NULL,
    tier_id    uuid REFERENCES evently.ticket_tiers,
    section_id uuid REFERENCES evently.venue_sections,
    quantity   int NOT NULL CHECK (quantity >= 1),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    discount   numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    PRIMARY KEY (order_id, item_no),
    CHECK ((tier_id IS NULL) <> (section_id IS NULL))
);

-- 1.0's payments of bookings, and from 1.1 the payments of orders, which
-- follow the Eventix machine: PENDING -> AUTHORIZED -> PROCESSING ->
-- COMPLETED | FAILED; COMPLETED -> REFUNDING -> REFUNDED |
-- PARTIALLY_REFUNDED (and PARTIALLY_REFUNDED -> REFUNDING again).
ALTER TABLE evently.payments
    ALTER COLUMN booking_id DROP NOT NULL,
    DROP CONSTRAINT payments_status_check,
    ADD CONSTRAINT payments_status_check
        CHECK (status IN ('PENDING', 'AUTHORIZED', 'PROCESSING', 'COMPLETED', 'FAILED',
                          'REFUNDING', 'REFUNDED', 'PARTIALLY_REFUNDED')),
    ADD COLUMN order_id uuid REFERENCES evently.orders,
    ADD COLUMN provider text CHECK (provider IN ('mock', 'offline', 'card')),
    ADD COLUMN provider_payment_id text UNIQUE,   -- card: the payment intent's id
    ADD COLUMN client_secret text,                -- card: what the buyer's browser confirms with
    ADD COLUMN fee numeric(12,2) NOT NULL DEFAULT 0 CHECK (fee >= 0),
    ADD CONSTRAINT payments_of_something CHECK (booking_id IS NOT NULL OR order_id IS NOT NULL);
CREATE UNIQUE INDEX payments_one_per_order ON evently.payments (order_id) WHERE order_id IS NOT NULL;

-- A refund of (part of) an order: REQUESTED by the buyer, then REJECTED, or
-- approved: REFUNDING until the provider confirms (REFUNDED) or fails
-- (FAILED).  Automatic ones (a late payment, a cancelled event) start at
-- REFUNDING.  ticket_ids: the tickets it cancels once REFUNDED.
CREATE TABLE evently.refunds (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id           uuid NOT NULL REFERENCES evently.orders,
    payment_id         uuid NOT NULL REFERENCES evently.payments,
    amount             numeric(12,2) NOT NULL CHECK (amount > 0),
    reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    ticket_ids         uuid[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'REQUESTED'
                       CHECK (status IN ('REQUESTED', 'REJECTED', 'REFUNDING', 'REFUNDED', 'FAILED')),
    automatic          boolean NOT NULL DEFAULT false,
    requested_by       uuid REFERENCES evently.users,
    decided_by         uuid REFERENCES evently.users,
    decided_at         timestamptz,
    decision_note      text CHECK (length(decision_note) <= 500),
    provider_refund_id text UNIQUE,          -- card: the provider's refund id, once submitted
    submitted_at       timestamptz,          -- card: when the provider accepted the request
    completed_at       timestamptz,
    failure_reason     text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_order ON evently.refunds (order_id);
CREATE INDEX refunds_open ON evently.refunds (created_at) WHERE status IN ('REQUESTED', 'REFUNDING');

-- Every webhook delivery that passed its signature check, once per
-- provider event id: a replay finds its row and changes nothing.
CREATE TABLE evently.webhook_events (
    provider    text NOT NULL,
    event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
    type        text NOT NULL,
    payment_id  uuid REFERENCES evently.payments,
    outcome     text NOT NULL,              -- applied, ignored: ..., refused: illegal jump ...
    payload     jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Provider fees, for payout reports: percent of the amount plus a fixed
-- part per payment (the platform's contract with each provider); a
-- provider without a row costs nothing (evently.set_provider_fee).
CREATE TABLE evently.provider_fees (
    provider    text PRIMARY KEY CHECK (provider IN ('mock', 'offline', 'card')),
    percent_fee numeric(5,2) NOT NULL DEFAULT 0 CHECK (percent_fee BETWEEN 0 AND 100),
    fixed_fee   numeric(12,2) NOT NULL DEFAULT 0 CHECK (fixed_fee >= 0)
);

-- 1.1: tickets in hand (SPEC section 11).  Each event has an Ed25519 key
-- pair, made with it; its tickets' codes are signed with the secret key
-- (extension/signing.c), which only the extension owner can read: no role
-- is granted this table, and no view shows it.
CREATE TABLE evently.event_keys (
    event_id   uuid PRIMARY KEY REFERENCES evently.events ON DELETE CASCADE,
    public_key bytea NOT NULL CHECK (length(public_key) = 32),
    secret_key bytea NOT NULL CHECK (length(secret_key) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Transfers and check-in: who holds a ticket now (the buyer until a
-- transfer), the version its code carries (a transfer issues the next and
-- revokes the old), and a 1.0 ticket's old 16-hex code, still accepted at
-- the door online.  The 1.0 check of the code's format goes: codes are now
-- signed (format 1, 155 characters); the upgrade adds tickets_code_format
-- once it has signed the 1.0 tickets (1.0--1.1-data.sql).
ALTER TABLE evently.tickets
    DROP CONSTRAINT tickets_ticket_code_check,
    ADD COLUMN holder_id uuid REFERENCES evently.users,
    ADD COLUMN version int NOT NULL DEFAULT 1 CHECK (version BETWEEN 1 AND 65535),
    ADD COLUMN legacy_code text UNIQUE CHECK (legacy_code ~ '^[0-9A-F]{16}$');
UPDATE evently.tickets t SET holder_id = b.user_id FROM evently.bookings b WHERE b.id = t.booking_id;
ALTER TABLE evently.tickets ALTER COLUMN holder_id SET NOT NULL;
CREATE INDEX tickets_holder ON evently.tickets (holder_id, created_at);

-- Per-event door settings: transfers allowed or not; check-in opens this
-- many minutes before the start (NOT_OPEN before).
ALTER TABLE evently.events
    ADD COLUMN transfers_allowed boolean NOT NULL DEFAULT true,
    ADD COLUMN doors_open_minutes int NOT NULL DEFAULT 120 CHECK (doors_open_minutes BETWEEN 0 AND 2880);

-- The check-in operators the organizer names for one event (SPEC section 9, STAFF).
CREATE TABLE evently.event_staff (
    event_id uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES evently.users ON DELETE CASCADE,
    added_by uuid REFERENCES evently.users,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_staff_user ON evently.event_staff (user_id);

-- A ticket let in.  At most one ACTIVE check-in per ticket (the unique
-- index is the last line of defence behind the ticket's row lock); a
-- reverted one stays, for the record.  scanned_at is when the scanner saw
-- the code (an offline device's clock), recorded_at when the database did.
CREATE TABLE evently.checkins (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id       uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    ticket_id      uuid NOT NULL REFERENCES evently.tickets,
    ticket_version int NOT NULL,
    gate           text CHECK (length(gate) BETWEEN 1 AND 100),
    device_id      text CHECK (length(device_id) BETWEEN 1 AND 100),
    source         text NOT NULL CHECK (source IN ('ONLINE', 'OFFLINE')),
    status         text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'REVERTED')),
    scanned_at     timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    checked_in_by  uuid REFERENCES evently.users,
    reverted_at    timestamptz,
    reverted_by    uuid REFERENCES evently.users
);
CREATE UNIQUE INDEX checkins_one_active_per_ticket ON evently.checkins (ticket_id) WHERE status = 'ACTIVE';
CREATE INDEX checkins_event ON evently.checkins (event_id, scanned_at);

-- Every scan, failed ones too: what the scanner was shown.  An offline
-- device's scan is kept once per (event, device, nonce): a batch uploaded
-- again finds its scans here and changes nothing, and nobody who does not
-- scan for an event can take a nonce of its devices.
CREATE TABLE evently.scan_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   uuid REFERENCES evently.events ON DELETE CASCADE,  -- NULL: the code named no event
    ticket_id  uuid,                                  -- NULL: the code named no ticket
    result     text NOT NULL CHECK (result IN ('CHECKED_IN', 'ALREADY_CHECKED_IN', 'INVALID_SIGNATURE',
                                               'REVOKED', 'WRONG_EVENT', 'NOT_OPEN')),
    checkin_id uuid REFERENCES evently.checkins,      -- the check-in made, or the one that was first
    conflict   boolean NOT NULL DEFAULT false,        -- another device or scan had let it in
    gate       text,
    device_id  text,
    nonce      text CHECK (length(nonce) BETWEEN 1 AND 100),
    scanned_at timestamptz NOT NULL,
    actor_id   uuid REFERENCES evently.users,
    logged_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scan_log_event ON evently.scan_log (event_id, result);
CREATE UNIQUE INDEX scan_log_offline ON evently.scan_log (event_id, device_id, nonce) NULLS NOT DISTINCT
    WHERE nonce IS NOT NULL;

-- The revocation list offline scanners download: every ticket version
-- that no longer lets anyone in (transferred away, or the ticket cancelled).
CREATE TABLE evently.ticket_revocations (
    event_id   uuid NOT NULL REFERENCES evently.events ON DELETE CASCADE,
    ticket_id  uuid NOT NULL REFERENCES evently.tickets,
    version    int NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('TRANSFERRED', 'CANCELLED')),
    revoked_at timestamptz NOT NULL DEFAULT now(),
    -- the revoking transaction: what an offline download's watermark is
    -- compared with (a time cannot say which transactions had committed)
    revoked_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (ticket_id, version)
);
CREATE INDEX ticket_revocations_event ON evently.ticket_revocations (event_id, revoked_at);

-- e-mail (86_mail.sql): the mails sent, once per outbox event and recipient;
-- and the inbox has a row per outbox event and user (a transfer tells both)
CREATE TABLE evently.mail_log (
    outbox_id bigint NOT NULL,
    recipient text NOT NULL,
    subject   text NOT NULL,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (outbox_id, recipient)
);
ALTER TABLE evently.notifications
    DROP CONSTRAINT notifications_outbox_id_key,
    ADD CONSTRAINT notifications_outbox_id_user_id_key UNIQUE (outbox_id, user_id);
