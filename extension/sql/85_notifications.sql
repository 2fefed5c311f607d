-- 85_notifications.sql: the users' inbox, filled by evently-notify.

-- Is this the text of an outbox id, a bigint >= 0?  A shard's ids start at
-- its bucket << 48 (evently.configure_shard): up to 19 digits from bucket
-- 3553 on, so 18 digits would refuse (and evently-notify skip) its messages.
CREATE OR REPLACE FUNCTION evently._is_outbox_id(p text) RETURNS boolean
LANGUAGE sql IMMUTABLE
RETURN p ~ '^[0-9]{1,19}$' AND (length(p) < 19 OR p <= '9223372036854775807');

-- Was this booking cancelled by its event's cancellation?  The engine
-- cancels every booking in the transaction that cancels the event, and both
-- take now(): the same instant.
CREATE OR REPLACE FUNCTION evently._cancelled_with_event(p_booking uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT b.cancelled_at = e.cancelled_at FROM evently.bookings b
                       JOIN evently.events e ON e.id = b.event_id WHERE b.id = p_booking), false)
$$;

-- Is this user the buyer of the ticket's booking?  The buyer is told of a
-- cancellation by booking.cancelled or refund.completed; ticket.revoked
-- tells only a holder the ticket was transferred to.
CREATE OR REPLACE FUNCTION evently._bought_ticket(p_ticket uuid, p_user uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM evently.tickets t JOIN evently.bookings b ON b.id = t.booking_id
                    WHERE t.id = p_ticket AND b.user_id = p_user)
$$;

-- What one Kafka message (the JSON of SPEC section 5) tells whom: a JSON
-- array of inbox rows {user_id, title, body}, one for the message's user,
-- and for ticket.transferred one for the previous holder too
-- (data.from_user_id); ticket.revoked only for a holder who did not buy the
-- ticket (_bought_ticket); [] for a type the inbox ignores.  It only reads:
-- sharded, it runs on the message's event's shard, where the event, its
-- bookings and tickets are (users are replicated there), and on the global
-- primary for a message without an event (the proxy's record_notification).
CREATE OR REPLACE FUNCTION evently.compose_notification(message jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d jsonb := message->'data';
    event_name text;
    title text;
    body text;
    -- the second party of a transfer
    other uuid;
    other_title text;
    other_body text;
BEGIN
    PERFORM evently._require(jsonb_typeof(message) = 'object' AND evently._is_outbox_id(message->>'id')
                             AND message->>'user_id' IS NOT NULL,
        'INVALID_ARGUMENT', 'invalid notification message', 'A message needs a numeric id and a user_id.');
    SELECT name INTO event_name FROM evently.events WHERE id = (message->>'event_id')::uuid;
    CASE message->>'type'
        WHEN 'booking.confirmed' THEN
            title := 'Booking confirmed';
            body := format('Your booking %s for %s is confirmed.', d->>'booking_ref', event_name);
        WHEN 'booking.cancelled' THEN
            title := CASE WHEN evently._cancelled_with_event((d->>'booking_id')::uuid)
                          THEN 'Event cancelled' ELSE 'Booking cancelled' END;
            body := format('Your booking for %s was cancelled; refund %s.%s', event_name,
                           coalesce(d->>'refund_amount', '0'),
                           CASE WHEN d->>'reason' IS NOT NULL THEN ' Reason: ' || (d->>'reason') ELSE '' END);
        WHEN 'event.cancelled' THEN
            title := 'Event cancelled';
            body := format('%s is cancelled; every booking is refunded in full.', event_name);
        WHEN 'waitlist.closed' THEN
            title := 'Waitlist closed';
            body := format('The waitlist of %s is closed: %s.', coalesce(event_name, d->>'event_name'), d->>'reason');
        WHEN 'organizer.verified' THEN
            title := 'You are a verified organizer';
            body := format('%s is verified: sign in again to create events.', d->>'organization_name');
        WHEN 'organizer.rejected' THEN
            title := 'Organizer application rejected';
            body := format('%s was not verified: %s', d->>'organization_name', d->>'reason');
        WHEN 'organizer.revoked' THEN
            title := 'Organizer account revoked';
            body := format('%s is no longer a verified organizer: %s', d->>'organization_name', d->>'reason');
        WHEN 'event.published' THEN
            title := 'Event published';
            body := format('%s is published and on sale.', event_name);
        WHEN 'event.rejected' THEN
            title := 'Event sent back to draft';
            body := format('%s was not approved: %s', event_name, d->>'reason');
        WHEN 'waitlist.offered' THEN
            title := 'Seats are waiting for you';
            body := format('%s seats for %s are held for you until %s.', d->>'quantity', event_name,
                           d->>'expires_at');
        WHEN 'ticket.transferred' THEN
            other := (d->>'from_user_id')::uuid;
            title := 'A ticket was transferred to you';
            body := format('%s transferred a ticket for %s to you: it is in your tickets.',
                           (SELECT u.first_name || ' ' || u.last_name FROM evently.users u WHERE u.id = other),
                           event_name);
            other_title := 'Ticket transferred';
            other_body := format('You transferred your ticket for %s to %s; its old code no longer works.',
                                 event_name, (SELECT u.first_name || ' ' || u.last_name FROM evently.users u
                                               WHERE u.id = (message->>'user_id')::uuid));
        WHEN 'ticket.revoked' THEN
            IF evently._bought_ticket((d->>'ticket_id')::uuid, (message->>'user_id')::uuid) THEN
                RETURN '[]';
            END IF;
            title := 'Ticket cancelled';
            body := format('The ticket for %s transferred to you was cancelled: its code no longer works.',
                           event_name);
        ELSE
            RETURN '[]';
    END CASE;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('user_id', v.user_id, 'title', v.title, 'body', v.body)), '[]')
              FROM (VALUES ((message->>'user_id')::uuid, title, body), (other, other_title, other_body))
                   AS v (user_id, title, body)
             WHERE v.user_id IS NOT NULL);
END
$$;

-- Write the rows compose_notification made of a message into the inbox,
-- for the users that exist.  True when a row was written; false for none
-- (a type the inbox ignores) or a redelivery of a message already written.
-- Sharded, the inbox is on the global primary and takes every shard's
-- messages: (outbox_id, user_id) keeps two shards' messages apart because
-- their outbox ids are in different ranges (the shard's bucket is
-- outbox_id >> 48).
CREATE OR REPLACE FUNCTION evently.store_notification(message jsonb, composed jsonb) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evently._require(jsonb_typeof(message) = 'object' AND evently._is_outbox_id(message->>'id')
                             AND message->>'user_id' IS NOT NULL,
        'INVALID_ARGUMENT', 'invalid notification message', 'A message needs a numeric id and a user_id.');
    INSERT INTO evently.notifications (outbox_id, user_id, event_id, type, title, body, data, occurred_at)
    SELECT (message->>'id')::bigint, u.id, (message->>'event_id')::uuid, message->>'type', c.title, c.body,
           coalesce(message->'data', '{}'), coalesce((message->>'occurred_at')::timestamptz, now())
      FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(composed) = 'array' THEN composed ELSE '[]' END)
           AS c (user_id uuid, title text, body text)
      JOIN evently.users u ON u.id = c.user_id
    ON CONFLICT (outbox_id, user_id) DO NOTHING;
    RETURN FOUND;
END
$$;

-- evently-notify's call for each message: its inbox rows composed, then
-- written (true when a row was written).  On the proxy database of a
-- sharded evently the same call composes on the event's shard and writes
-- on the global primary (extension/proxy/base.sql).
CREATE OR REPLACE FUNCTION evently.record_notification(message jsonb) RETURNS boolean
LANGUAGE sql AS $$
    SELECT evently.store_notification(message, evently.compose_notification(message))
$$;

-- GET /users/notifications: the actor's inbox, newest first
CREATE OR REPLACE FUNCTION evently.api_user_notifications(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := evently._int_param(req, 'limit', 20, 1, 100);
    off int := evently._int_param(req, 'offset', 0, 0, 1000000000);
BEGIN
    actor := evently._actor(actor, req);
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
