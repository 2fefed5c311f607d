-- 86_mail.sql: the e-mail evently-notify sends (issue 13), decided here:
-- who is written to about an outbox message, what the mail says, and which
-- ticket codes go with it (each as a QR attachment, drawn by the program).
-- evently.mail_log records each (outbox id, recipient) sent, once.

-- One mail to a user: their address, the subject on one line, the body with
-- a greeting; nothing when the user is gone.
CREATE OR REPLACE FUNCTION evently._mail_to(p_user uuid, p_subject text, p_body text, p_codes text[] DEFAULT '{}')
RETURNS TABLE (recipient text, subject text, body text, ticket_codes text[])
LANGUAGE sql STABLE AS $$
    SELECT u.email,
           -- a name with a line break must not add a header
           regexp_replace(p_subject, '[\r\n\t]+', ' ', 'g'),
           format(E'Hello %s,\n\n%s\n\n-- \nEvently\n', u.first_name, p_body),
           coalesce(p_codes, '{}')
      FROM evently.users u WHERE u.id = p_user AND p_body IS NOT NULL
$$;

-- The valid tickets of a booking that a user holds now, in seat or unit
-- order: a label and the code (tickets.ticket_code) for each.
CREATE OR REPLACE FUNCTION evently._mail_tickets(p_booking uuid, p_holder uuid)
RETURNS TABLE (label text, code text)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN t.seat_id IS NOT NULL THEN format('%s, row %s, seat %s', sec.name, s."row", s.seat_number)
                ELSE format('%s, ticket %s', tr.name, t.unit_no) END,
           t.ticket_code
      FROM evently.tickets t
      LEFT JOIN evently.seats s ON s.id = t.seat_id
      LEFT JOIN evently.venue_sections sec ON sec.id = s.section_id
      LEFT JOIN evently.ticket_tiers tr ON tr.id = t.tier_id
     WHERE t.booking_id = p_booking AND t.status = 'VALID' AND t.holder_id = p_holder
     ORDER BY sec.name, s."row", s.position, tr.sort_order, t.unit_no
$$;

-- The text a mail gives for an event: its name and when it starts (UTC).
CREATE OR REPLACE FUNCTION evently._mail_event(p_event uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('%s (%s UTC)', e.name, to_char(e.date_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'))
      FROM evently.events e WHERE e.id = p_event
$$;

-- The mails one outbox message (the Kafka JSON of SPEC section 5) makes:
--   booking.confirmed   the buyer, with the code of each ticket of the
--                       booking they still hold (tier orders confirm their
--                       booking too: order.paid mails nothing more)
--   waitlist.offered    the offered user
--   booking.cancelled   the booking's owner: the refund, or, when the
--                       event's cancellation cancelled it, that news
--   refund.completed    the order's buyer
--   event.cancelled     the user it is for (the organizer; the buyers are
--                       told by their booking.cancelled)
--   ticket.transferred  the new holder, with the ticket's new code, and the
--                       previous holder (data.from_user_id), told the old
--                       code no longer works
--   ticket.revoked      a holder the ticket was transferred to, when it is
--                       cancelled (its buyer is told by the booking's mail)
--   organizer.verified / organizer.rejected, event.published /
--   event.rejected      the organizer's user
-- Any other type makes none.  INVALID_ARGUMENT (EV001) for a message
-- without a numeric id: evently-notify logs and skips it.  It only reads:
-- sharded, the proxy runs it on the message's event's shard (the global
-- primary for a message without an event), and mail_log is asked apart
-- (mail_recipients).
CREATE OR REPLACE FUNCTION evently.mail_for_message(message jsonb)
RETURNS TABLE (recipient text, subject text, body text, ticket_codes text[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d jsonb := coalesce(message->'data', '{}');
    who uuid;
    event_text text;
    event_name text;
    tickets text;
    codes text[];
BEGIN
    PERFORM evently._require(jsonb_typeof(message) = 'object' AND evently._is_outbox_id(message->>'id'),
        'INVALID_ARGUMENT', 'invalid mail message', 'A message needs a numeric id.');
    IF message->>'user_id' !~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN
        RETURN;                 -- nobody to write to
    END IF;
    who := (message->>'user_id')::uuid;
    IF message->>'event_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN
        event_text := evently._mail_event((message->>'event_id')::uuid);
        event_name := (SELECT name FROM evently.events WHERE id = (message->>'event_id')::uuid);
    END IF;
    CASE message->>'type'
        WHEN 'booking.confirmed' THEN
            SELECT string_agg(format('  %s: %s', t.label, t.code), E'\n'), array_agg(t.code)
              INTO tickets, codes
              FROM evently._mail_tickets((d->>'booking_id')::uuid, who) t;
            RETURN QUERY SELECT * FROM evently._mail_to(who,
                format('Your tickets for %s', event_name),
                format(E'Your booking %s for %s is confirmed.\n\n%s', d->>'booking_ref', event_text,
                       CASE WHEN tickets IS NULL THEN 'You hold none of its tickets any more.'
                            ELSE E'Your tickets (show the attached QR code at the door):\n' || tickets END),
                codes);
        WHEN 'waitlist.offered' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who,
                format('Tickets are waiting for you: %s', event_name),
                format(E'%s ticket(s) for %s are held for you until %s.\nBook them before then, or they go to the next in line.',
                       d->>'quantity', event_text, d->>'expires_at'));
        WHEN 'booking.cancelled' THEN
            IF evently._cancelled_with_event((d->>'booking_id')::uuid) THEN
                RETURN QUERY SELECT * FROM evently._mail_to(who, format('Event cancelled: %s', event_name),
                    format(E'%s is cancelled%s.\nYour booking is cancelled and refunded in full: %s.',
                           event_text, coalesce(': ' || (d->>'reason'), ''), coalesce(d->>'refund_amount', '0')));
            ELSE
                RETURN QUERY SELECT * FROM evently._mail_to(who, format('Booking cancelled: %s', event_name),
                    format(E'Your booking for %s is cancelled.\nRefund: %s (fee %s), within %s days.%s',
                           event_text, coalesce(d->>'refund_amount', '0'), coalesce(d->>'cancellation_fee', '0'),
                           coalesce(d->>'refund_processing_days', '7'),
                           coalesce(E'\nReason: ' || (d->>'reason'), '')));
            END IF;
        WHEN 'refund.completed' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, format('Refund completed: %s', event_name),
                format(E'Your refund of %s for %s is completed.\nReason: %s',
                       d->>'amount', event_text, d->>'reason'));
        WHEN 'event.cancelled' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, format('Event cancelled: %s', event_name),
                format(E'%s is cancelled. Every booking is refunded in full and its buyer told.', event_text));
        WHEN 'ticket.transferred' THEN
            SELECT array_agg(t.ticket_code) INTO codes FROM evently.tickets t
             WHERE t.id = (d->>'ticket_id')::uuid AND t.status = 'VALID' AND t.holder_id = who;
            RETURN QUERY SELECT m.* FROM evently.users f,
                evently._mail_to(who, format('A ticket for %s was transferred to you', event_name),
                    format(E'%s %s transferred a ticket for %s to you.\nYour ticket: %s\nShow the attached QR code at the door.',
                           f.first_name, f.last_name, event_text, coalesce(codes[1], '(cancelled since)')),
                    codes) m
              WHERE f.id = (d->>'from_user_id')::uuid;
            RETURN QUERY SELECT m.* FROM evently.users t,
                evently._mail_to((d->>'from_user_id')::uuid, format('You transferred a ticket for %s', event_name),
                    format(E'You transferred your ticket for %s to %s %s.\nIts old code no longer lets anyone in.',
                           event_text, t.first_name, t.last_name)) m
              WHERE t.id = who;
        WHEN 'ticket.revoked' THEN
            IF NOT evently._bought_ticket((d->>'ticket_id')::uuid, who) THEN
                RETURN QUERY SELECT * FROM evently._mail_to(who, format('Ticket cancelled: %s', event_name),
                    format(E'The ticket for %s transferred to you was cancelled by its buyer or the organizer.\nIts code no longer lets anyone in.',
                           event_text));
            END IF;
        WHEN 'organizer.verified' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, 'You are a verified organizer',
                format('%s is verified: sign in again to create events.', d->>'organization_name'));
        WHEN 'organizer.rejected' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, 'Organizer application rejected',
                format(E'%s was not verified.\nReason: %s', d->>'organization_name', d->>'reason'));
        WHEN 'event.published' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, format('Event approved: %s', event_name),
                format('%s is approved, published and on sale.', event_text));
        WHEN 'event.rejected' THEN
            RETURN QUERY SELECT * FROM evently._mail_to(who, format('Event sent back: %s', event_name),
                format(E'%s was not approved and is a draft again.\nReason: %s', event_text, d->>'reason'));
        ELSE
            RETURN;
    END CASE;
END
$$;

-- The recipients mail_log has for an outbox id: the mails of the message
-- already sent.  Sharded, mail_log is on the global primary, which the
-- proxy's mail_pending asks this (its mail_for_message runs on the shard).
CREATE OR REPLACE FUNCTION evently.mail_recipients(p_outbox_id bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(l.recipient), '{}') FROM evently.mail_log l WHERE l.outbox_id = p_outbox_id
$$;

-- What evently-notify still has to send for a message: mail_for_message
-- less the recipients mail_log has for its outbox id (sent before a crash).
CREATE OR REPLACE FUNCTION evently.mail_pending(message jsonb)
RETURNS TABLE (recipient text, subject text, body text, ticket_codes text[])
LANGUAGE sql STABLE AS $$
    SELECT m.* FROM evently.mail_for_message(message) m
     WHERE m.recipient <> ALL (evently.mail_recipients((message->>'id')::bigint))
$$;

-- evently-notify, once the SMTP server took a mail: recorded once (a
-- mail sent again after a crash finds its row).  True when recorded now.
CREATE OR REPLACE FUNCTION evently.mail_sent(p_outbox_id bigint, p_recipient text, p_subject text)
RETURNS boolean
LANGUAGE sql AS $$
    WITH recorded AS (
        INSERT INTO evently.mail_log (outbox_id, recipient, subject) VALUES (p_outbox_id, p_recipient, p_subject)
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM recorded)
$$;
