-- 58_tickets.sql: tickets in hand (SPEC section 11): signed codes, a
-- user's tickets, transfers, the revocation list, and each event's staff.
--
-- A ticket's code is signed by its event's Ed25519 key (extension/signing.c
-- has the format).  A transfer gives the ticket to another user under the
-- next version, with a new code; the old version goes on the event's
-- revocation list, as does every version of a cancelled ticket.

-- evently._ed25519_keypair(OUT public_key bytea, OUT secret_key bytea): a new key pair (signing.c).
CREATE OR REPLACE FUNCTION evently._ed25519_keypair(OUT public_key bytea, OUT secret_key bytea)
RETURNS record AS 'MODULE_PATHNAME', 'evently_ed25519_keypair' LANGUAGE C VOLATILE;

-- evently._sign_ticket(ticket_id, event_id, kind 'S'|'T', item_id (seat or
-- tier), version): the ticket's code (signing.c, format 1); makes the
-- event's key pair if it has none yet.
CREATE OR REPLACE FUNCTION evently._sign_ticket(ticket_id uuid, event_id uuid, kind text, item_id uuid,
                                                version int)
RETURNS text AS 'MODULE_PATHNAME', 'evently_sign_ticket' LANGUAGE C STRICT VOLATILE;
-- The same with the event's secret key as the caller read it
-- (event_keys.secret_key; NULL when the event had none yet): the booking's
-- statement reads it with the tickets, so signing them runs no lookup.
CREATE OR REPLACE FUNCTION evently._sign_ticket(ticket_id uuid, event_id uuid, kind text, item_id uuid,
                                                version int, secret_key bytea)
RETURNS text AS 'MODULE_PATHNAME', 'evently_sign_ticket' LANGUAGE C VOLATILE;

-- evently._read_ticket_code(code): what a code says and whether its event's
-- key signed it; all NULL for a string that is no code (signing.c).
CREATE OR REPLACE FUNCTION evently._read_ticket_code(code text, OUT ticket_id uuid, OUT event_id uuid,
                                                     OUT kind text, OUT item_id uuid, OUT version int,
                                                     OUT signature_ok boolean)
RETURNS record AS 'MODULE_PATHNAME', 'evently_read_ticket_code' LANGUAGE C STRICT STABLE;

-- evently._public_key_text(bytea): an Ed25519 public key, base64url without padding.
CREATE OR REPLACE FUNCTION evently._public_key_text(public_key bytea)
RETURNS text AS 'MODULE_PATHNAME', 'evently_public_key_text' LANGUAGE C STRICT IMMUTABLE;

-- An event's key pair, made the first time it is needed (its first ticket
-- signed, its first offline download; the upgrade, for 1.0's events).  Not
-- by a trigger on events: restoring a backup inserts the events before
-- their keys, which would then collide with new ones.  ON CONFLICT: two
-- first buyers at once make one key, the second waits for the first's.
CREATE OR REPLACE FUNCTION evently._new_event_key(p_event_id uuid) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO evently.event_keys (event_id, public_key, secret_key)
    SELECT p_event_id, k.public_key, k.secret_key FROM evently._ed25519_keypair() k
    ON CONFLICT (event_id) DO NOTHING
$$;

-- May the user scan and read the tickets of the event?  Its organizer, an
-- ADMIN, or one of its STAFF.
CREATE OR REPLACE FUNCTION evently._scans_event(p_user_id uuid, p_event_id uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT evently._manages_event(p_user_id, p_event_id)
           OR EXISTS (SELECT 1 FROM evently.event_staff s WHERE s.event_id = p_event_id AND s.user_id = p_user_id)
$$;

-- One ticket as the ticket routes show it; the code only when with_code
-- (its holder asks) and while the ticket is valid.
CREATE OR REPLACE FUNCTION evently.ticket_json(p_ticket_id uuid, with_code boolean DEFAULT false) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'event_id', t.event_id, 'event_name', e.name, 'event_date', e.date_time,
        'booking_id', t.booking_id, 'holder_id', t.holder_id,
        'kind', CASE WHEN t.seat_id IS NOT NULL THEN 'seat' ELSE 'tier' END,
        'seat_id', t.seat_id, 'section_id', t.section_id, 'section_name', sec.name,
        'row', s."row", 'seat_number', s.seat_number,
        'tier_id', t.tier_id, 'tier_name', tt.name, 'unit_no', t.unit_no,
        'price', t.seat_price, 'status', t.status, 'version', t.version,
        'checked_in', c.id IS NOT NULL, 'checked_in_at', c.scanned_at, 'checkin_id', c.id,
        'transfers_allowed', e.transfers_allowed, 'created_at', t.created_at)
        || CASE WHEN with_code AND t.status = 'VALID' THEN jsonb_build_object('code', t.ticket_code)
                ELSE '{}' END
      FROM evently.tickets t
      JOIN evently.events e ON e.id = t.event_id
      LEFT JOIN evently.seats s ON s.id = t.seat_id
      LEFT JOIN evently.venue_sections sec ON sec.id = t.section_id
      LEFT JOIN evently.ticket_tiers tt ON tt.id = t.tier_id
      LEFT JOIN evently.checkins c ON c.ticket_id = t.id AND c.status = 'ACTIVE'
     WHERE t.id = p_ticket_id
$$;

-- GET /tickets/my-tickets: the tickets the actor holds (bought, or
-- transferred to it), newest first, each with its code; ?limit (1-100,
-- default 20), ?offset.  Returns {tickets, total_count, limit, offset}.
CREATE OR REPLACE FUNCTION evently.api_tickets_mine(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int;
    off int;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO lim, off FROM evently._page_params(req, 20);
    RETURN evently._slice('tickets',
        (SELECT jsonb_agg(evently.ticket_json(t.id, true) ORDER BY t.created_at DESC, t.id)
           FROM (SELECT id, created_at FROM evently.tickets WHERE holder_id = actor
                  ORDER BY created_at DESC, id LIMIT lim OFFSET off) t),
        (SELECT count(*) FROM evently.tickets WHERE holder_id = actor), lim, off);
END
$$;

-- GET /tickets/:id: its holder (with the code), the event's organizer or
-- STAFF, or an ADMIN (without).  NOT_FOUND for anyone else.
CREATE OR REPLACE FUNCTION evently.api_ticket_get(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tk evently.tickets;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO tk FROM evently.tickets WHERE id = evently._uuid_arg(req->'path'->>'id', 'id');
    PERFORM evently._require(FOUND AND (tk.holder_id = actor OR evently._scans_event(actor, tk.event_id)),
        'NOT_FOUND', 'ticket not found', format('Ticket %s does not exist.', req->'path'->>'id'));
    RETURN evently.ticket_json(tk.id, tk.holder_id = actor);
END
$$;

-- evently.transfer_ticket(ticket_id uuid, email text, actor_id uuid) RETURNS
-- jsonb {ticket_id, version, from_user_id, to_user_id}: the ticket's holder
-- gives it to another registered, active user.  The ticket gets the next
-- version and a new code; the old version is revoked (ticket.transferred,
-- both told by evently-notify).  Refused (SPEC section 11): NOT_FOUND for a
-- ticket the actor does not hold or an unknown recipient; INVALID_ARGUMENT
-- to oneself; INVALID_TRANSITION for a cancelled ticket or one in a refund
-- request under way; ALREADY_CHECKED_IN
-- once it was let in; EVENT_CLOSED once the event started (or ended, or was
-- cancelled); TRANSFER_NOT_ALLOWED where the event forbids transfers.
-- The ticket's row lock orders it against a check-in (isolation spec
-- transfer-checkin) and a cancellation.
CREATE OR REPLACE FUNCTION evently.transfer_ticket(ticket_id uuid, email text, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    tk evently.tickets;
    ev evently.events;
    recipient uuid;
    first_scan timestamptz;
BEGIN
    actor_id := evently._as_caller(actor_id);
    PERFORM evently._require(email IS NOT NULL AND length(email) BETWEEN 3 AND 254, 'INVALID_ARGUMENT',
        'invalid email', 'The recipient is named by the e-mail address of their account.');
    SELECT * INTO tk FROM evently.tickets t WHERE t.id = transfer_ticket.ticket_id FOR UPDATE;
    PERFORM evently._require(FOUND AND tk.holder_id = actor_id, 'NOT_FOUND', 'ticket not found',
        format('Ticket %s does not exist.', ticket_id));
    SELECT id INTO recipient FROM evently.users u WHERE lower(u.email) = lower(btrim(transfer_ticket.email))
                                                    AND u.status = 'ACTIVE';
    PERFORM evently._require(recipient IS NOT NULL, 'NOT_FOUND', 'recipient not found',
        'No active account has that e-mail address; the recipient registers first.');
    PERFORM evently._require(recipient <> actor_id, 'INVALID_ARGUMENT', 'cannot transfer a ticket to yourself',
        format('Ticket %s is already yours.', ticket_id));
    PERFORM evently._require(tk.status = 'VALID', 'INVALID_TRANSITION', 'ticket is cancelled',
        format('Ticket %s was cancelled; there is nothing to transfer.', ticket_id));
    PERFORM evently._require(tk.version < 65535, 'INVALID_TRANSITION', 'ticket transferred too often',
        format('Ticket %s is at version %s, the last a code can carry.', ticket_id, tk.version));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.refunds r
                                          WHERE r.status IN ('REQUESTED', 'REFUNDING') AND tk.id = ANY (r.ticket_ids)),
        'INVALID_TRANSITION', 'a refund of the ticket is under way',
        format('Ticket %s is in a refund request; it is transferred once that is rejected.', ticket_id));
    SELECT c.scanned_at INTO first_scan FROM evently.checkins c
     WHERE c.ticket_id = tk.id AND c.status = 'ACTIVE';
    PERFORM evently._require(first_scan IS NULL, 'ALREADY_CHECKED_IN', 'ticket is already checked in',
        format('Ticket %s was let in at %s; a used ticket cannot be transferred.', ticket_id, first_scan));
    SELECT * INTO ev FROM evently.events e WHERE e.id = tk.event_id;
    PERFORM evently._require(ev.status IN ('published', 'active') AND ev.date_time > now(), 'EVENT_CLOSED',
        'event has started', format('Event %s is %s and starts at %s; tickets are transferred before the start.',
                                    ev.id, evently._lifecycle_status(ev.status, ev.date_time, ev.end_time),
                                    ev.date_time));
    PERFORM evently._require(ev.transfers_allowed, 'TRANSFER_NOT_ALLOWED', 'transfers are not allowed',
        format('The organizer of event %s does not allow ticket transfers.', ev.id));
    INSERT INTO evently.ticket_revocations (event_id, ticket_id, version, reason)
    VALUES (tk.event_id, tk.id, tk.version, 'TRANSFERRED');
    UPDATE evently.tickets t
       SET holder_id = recipient, version = tk.version + 1,
           ticket_code = evently._sign_ticket(tk.id, tk.event_id, CASE WHEN tk.seat_id IS NULL THEN 'T' ELSE 'S' END,
                                             coalesce(tk.seat_id, tk.tier_id), tk.version + 1)
     WHERE t.id = tk.id;
    PERFORM evently._emit('ticket.transferred', tk.event_id, recipient, 'ticket', tk.id,
        jsonb_build_object('ticket_id', tk.id, 'booking_id', tk.booking_id, 'from_user_id', actor_id,
                           'to_user_id', recipient, 'version', tk.version + 1),
        actor_id);
    RETURN jsonb_build_object('ticket_id', tk.id, 'version', tk.version + 1, 'from_user_id', actor_id,
                              'to_user_id', recipient);
END
$$;

-- A buyer cancels or asks a refund only for tickets still theirs and not
-- used: a ticket given away is the recipient's (the buyer's cancellation
-- would revoke it after the money was handed over elsewhere), and a ticket
-- checked in let someone in.  Locks the booking's valid tickets (only those
-- named, when ticket_ids is given) in id order, the row locks a transfer
-- and a scan take, then raises CANCELLATION_REFUSED if one of them is held
-- by someone else or checked in (cancel_with_policy, cancel.c; refund
-- requests, 56_refunds.sql).  The event's own cancellation refunds the
-- buyer and revokes every ticket, whoever holds it.
CREATE OR REPLACE FUNCTION evently._refuse_tickets_out_of_hand(p_booking_id uuid, p_ticket_ids uuid[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    given text;
    used text;
BEGIN
    PERFORM 1 FROM evently.tickets tk
      WHERE tk.booking_id = p_booking_id AND tk.status = 'VALID'
        AND (p_ticket_ids IS NULL OR tk.id = ANY (p_ticket_ids))
      ORDER BY tk.id FOR UPDATE;
    -- a statement of its own, after the locks: its snapshot sees the
    -- check-in or transfer this call waited for
    SELECT string_agg(t.id::text, ', ' ORDER BY t.id) FILTER (WHERE t.holder_id <> b.user_id),
           string_agg(t.id::text, ', ' ORDER BY t.id) FILTER (WHERE EXISTS (
               SELECT 1 FROM evently.checkins c WHERE c.ticket_id = t.id AND c.status = 'ACTIVE'))
      INTO given, used
      FROM evently.tickets t JOIN evently.bookings b ON b.id = t.booking_id
     WHERE t.booking_id = p_booking_id AND t.status = 'VALID'
       AND (p_ticket_ids IS NULL OR t.id = ANY (p_ticket_ids));
    PERFORM evently._require(given IS NULL, 'CANCELLATION_REFUSED', 'tickets were transferred',
        format('Tickets %s of booking %s were transferred to another user; they are theirs now.',
               given, p_booking_id));
    PERFORM evently._require(used IS NULL, 'CANCELLATION_REFUSED', 'tickets were used',
        format('Tickets %s of booking %s were checked in at the door.', used, p_booking_id));
END
$$;

-- POST /tickets/:id/transfer {"email"}: transfer_ticket for the actor.
CREATE OR REPLACE FUNCTION evently.api_ticket_transfer(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(req->'body', 'email');
    RETURN evently.transfer_ticket(evently._uuid_arg(req->'path'->>'id', 'id'), req->'body'->>'email', actor);
END
$$;

-- A ticket cancelled (its booking cancelled or refunded, its event
-- cancelled) no longer lets anyone in: its version goes on the revocation
-- list, and ticket.revoked tells its holder.  One statement-level trigger
-- catches every path that cancels tickets, in bulk for an event's.
CREATE OR REPLACE FUNCTION evently._revoke_cancelled_tickets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH cancelled AS (
        SELECT n.id, n.event_id, n.holder_id, n.version
          FROM new_tickets n JOIN old_tickets o ON o.id = n.id
         WHERE o.status = 'VALID' AND n.status = 'CANCELLED'),
    r AS (
        INSERT INTO evently.ticket_revocations (event_id, ticket_id, version, reason)
        SELECT event_id, id, version, 'CANCELLED' FROM cancelled
        ON CONFLICT DO NOTHING),
    o AS (
        INSERT INTO evently.outbox (type, event_id, user_id, data)
        SELECT 'ticket.revoked', event_id, holder_id,
               jsonb_build_object('ticket_id', id, 'version', version, 'reason', 'CANCELLED')
          FROM cancelled ORDER BY id)
    -- the audit row of each, as _emit writes it (the actor is the
    -- cancellation's, recorded with it)
    INSERT INTO evently.audit_log (action, object_type, object_id, event_id, details)
    SELECT 'ticket.revoked', 'ticket', id, event_id,
           jsonb_build_object('ticket_id', id, 'version', version, 'reason', 'CANCELLED')
      FROM cancelled;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS tickets_revoke_cancelled ON evently.tickets;
CREATE TRIGGER tickets_revoke_cancelled AFTER UPDATE ON evently.tickets
    REFERENCING OLD TABLE AS old_tickets NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION evently._revoke_cancelled_tickets();

-- The staff of an event, as the staff routes show them.
CREATE OR REPLACE FUNCTION evently._staff_json(p_event_id uuid, p_user_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('event_id', s.event_id, 'user_id', u.id, 'email', u.email,
                              'first_name', u.first_name, 'last_name', u.last_name, 'added_at', s.added_at)
      FROM evently.event_staff s JOIN evently.users u ON u.id = s.user_id
     WHERE s.event_id = p_event_id AND s.user_id = p_user_id
$$;

-- evently.add_event_staff(event_id uuid, user_id uuid, actor_id uuid)
-- RETURNS jsonb (the staff member): the event's organizer (or an ADMIN)
-- names a user who may scan its tickets, and only its.  NOT_FOUND for
-- someone else's event or an unknown or banned user; ALREADY_EXISTS twice;
-- EVENT_CLOSED for a cancelled or finished event.
CREATE OR REPLACE FUNCTION evently.add_event_staff(event_id uuid, user_id uuid, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
BEGIN
    actor_id := evently._as_caller(actor_id);
    ev := evently._managed_event(actor_id, event_id::text, true);
    PERFORM evently._require(ev.status NOT IN ('cancelled') AND ev.end_time > now(), 'EVENT_CLOSED',
        'event is over', format('Event %s is %s; nobody scans for it any more.', ev.id,
                                evently._lifecycle_status(ev.status, ev.date_time, ev.end_time)));
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.users u
                                      WHERE u.id = add_event_staff.user_id AND u.status = 'ACTIVE'),
        'NOT_FOUND', 'user not found', format('User %s does not exist or is banned.', user_id));
    INSERT INTO evently.event_staff (event_id, user_id, added_by) VALUES (ev.id, user_id, actor_id)
    ON CONFLICT DO NOTHING;
    PERFORM evently._require(FOUND, 'ALREADY_EXISTS', 'already staff',
        format('User %s already scans for event %s.', user_id, ev.id));
    PERFORM evently._audit('event.staff_added', 'event', ev.id, jsonb_build_object('user_id', user_id), actor_id);
    RETURN evently._staff_json(ev.id, user_id);
END
$$;

-- evently.remove_event_staff(event_id uuid, user_id uuid, actor_id uuid)
-- RETURNS jsonb {event_id, user_id, removed: true}: NOT_FOUND for someone
-- else's event or a user who is not its staff.
CREATE OR REPLACE FUNCTION evently.remove_event_staff(event_id uuid, user_id uuid, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev evently.events;
BEGIN
    actor_id := evently._as_caller(actor_id);
    ev := evently._managed_event(actor_id, event_id::text, true);
    DELETE FROM evently.event_staff s WHERE s.event_id = ev.id AND s.user_id = remove_event_staff.user_id;
    PERFORM evently._require(FOUND, 'NOT_FOUND', 'staff member not found',
        format('User %s does not scan for event %s.', user_id, ev.id));
    PERFORM evently._audit('event.staff_removed', 'event', ev.id, jsonb_build_object('user_id', user_id), actor_id);
    RETURN jsonb_build_object('event_id', ev.id, 'user_id', user_id, 'removed', true);
END
$$;

-- POST /events/:id/staff {"user_id"}
CREATE OR REPLACE FUNCTION evently.api_event_staff_add(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(req->'body', 'user_id');
    PERFORM evently._require(req->'body'->>'user_id' IS NOT NULL, 'INVALID_ARGUMENT', 'user_id is required',
        'The body names the staff member: {"user_id": ...}.');
    RETURN evently.add_event_staff(evently._uuid_arg(req->'path'->>'eventId', 'eventId'),
                                   evently._uuid_arg(req->'body'->>'user_id', 'user_id'), actor);
END
$$;

-- DELETE /events/:id/staff/:userId
CREATE OR REPLACE FUNCTION evently.api_event_staff_remove(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.remove_event_staff(evently._uuid_arg(req->'path'->>'eventId', 'eventId'),
                                      evently._uuid_arg(req->'path'->>'userId', 'userId'), actor);
END
$$;

-- GET /events/:id/staff: the event's organizer or an ADMIN; {staff: [...]}
-- in the order they were named.  NOT_FOUND for someone else's event.
CREATE OR REPLACE FUNCTION evently.api_event_staff_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._readable_event(actor, req->'path'->>'eventId');
    RETURN jsonb_build_object('staff', coalesce((
        SELECT jsonb_agg(evently._staff_json(s.event_id, s.user_id) ORDER BY s.added_at, s.user_id)
          FROM evently.event_staff s WHERE s.event_id = ev.id), '[]'));
END
$$;
