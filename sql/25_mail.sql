-- E-mail (issue 13, extension/sql/86_mail.sql) and the inbox's new types:
-- who gets which mail for an outbox message, with which ticket codes;
-- mail_pending leaves out what mail_log has; mail_sent records once; the
-- inbox tells both parties of a transfer, once.
SET client_min_messages = warning;
SELECT t.remember('mia', evently.create_user('mia@example.com', 'qwerty', 'Mia', 'Mailer'));
SELECT t.remember('max', evently.create_user('max@example.com', 'qwerty', 'Max', 'Mate'));
SELECT t.remember('mail25', evently.create_event('Mail Night', t.id('hall'), now() + interval '10 days', 20));
SELECT t.remember('mb1', (evently.confirm_booking(
           (evently.hold_seats(t.id('mail25'), t.id('mia'), t.seats('mail25', 'A1', 'A2')) ->> 'hold_id')::uuid,
           t.id('mia')) ->> 'booking_id')::uuid);
-- an outbox row as evently-notify reads it from Kafka (SPEC section 5)
CREATE FUNCTION t.message(outbox_id bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', o.id, 'type', o.type, 'event_id', o.event_id, 'user_id', o.user_id,
                              'occurred_at', o.occurred_at, 'data', o.data)
      FROM evently.outbox o WHERE o.id = outbox_id
$$;
CREATE FUNCTION t.last_outbox(kind text) RETURNS bigint LANGUAGE sql STABLE
RETURN (SELECT max(id) FROM evently.outbox WHERE type = kind);
-- the mails of a message: recipient, subject, how many codes, and whether
-- the codes are exactly the given tickets' and each is in the text
CREATE FUNCTION t.mails(message jsonb, VARIADIC ticket_labels text[] DEFAULT '{}')
RETURNS TABLE (recipient text, subject text, codes int, codes_right boolean, codes_in_text boolean)
LANGUAGE sql STABLE AS $$
    SELECT m.recipient, m.subject, cardinality(m.ticket_codes),
           (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest(m.ticket_codes) c)
             = (SELECT coalesce(array_agg(tk.ticket_code ORDER BY tk.ticket_code), '{}') FROM evently.tickets tk
                 WHERE tk.id IN (SELECT t.id(l) FROM unnest(ticket_labels) l)),
           (SELECT bool_and(strpos(m.body, c) > 0) FROM unnest(m.ticket_codes) c)
      FROM evently.mail_for_message(message) m ORDER BY m.recipient
$$;
SELECT t.remember('mt' || s.seat_number, tk.id)
  FROM evently.tickets tk JOIN evently.seats s ON s.id = tk.seat_id WHERE tk.booking_id = t.id('mb1');

-- 1. A confirmation: the buyer, both codes, greeted by name ------------------
SELECT * FROM t.mails(t.message(t.last_outbox('booking.confirmed')), 'mtA1', 'mtA2');
SELECT body ~ '^Hello Mia,' AS greets, body ~ 'Your booking EVT-\d{8}-[A-Z]{6} for Mail Night \(' AS names_booking
  FROM evently.mail_for_message(t.message(t.last_outbox('booking.confirmed')));

-- a general-admission ticket (17_tiers, 19_orders) is named by its tier and unit
SELECT bool_and(m.label ~ '^[^,]+, ticket \d+$') AS tier_labels, count(*) > 0 AS some
  FROM evently.tickets tk, evently._mail_tickets(tk.booking_id, tk.holder_id) m
 WHERE tk.tier_id IS NOT NULL AND tk.status = 'VALID' AND m.code = tk.ticket_code;
SELECT label FROM evently._mail_tickets(t.id('mb1'), t.id('mia'));

-- 2. A transfer: the new holder with the new code, the previous holder without
CREATE TEMP TABLE old_code AS SELECT ticket_code FROM evently.tickets WHERE id = t.id('mtA1');
SELECT evently.transfer_ticket(t.id('mtA1'), 'max@example.com', t.id('mia')) ->> 'version' AS version;
SELECT * FROM t.mails(t.message(t.last_outbox('ticket.transferred')), 'mtA1') WHERE recipient = 'max@example.com';
SELECT recipient, subject, codes FROM t.mails(t.message(t.last_outbox('ticket.transferred')))
 WHERE recipient = 'mia@example.com';
SELECT recipient, body ~ 'Mia Mailer transferred a ticket for Mail Night' AS says_who,
       strpos(body, (SELECT ticket_code FROM old_code)) = 0 AS old_code_not_in_it
  FROM evently.mail_for_message(t.message(t.last_outbox('ticket.transferred'))) ORDER BY recipient;
-- the confirmation, read again now, carries only the code Mia still holds
SELECT * FROM t.mails(t.message((SELECT max(id) FROM evently.outbox WHERE type = 'booking.confirmed'
                                  AND data->>'booking_id' = t.id('mb1')::text)), 'mtA2');

-- 3. The inbox: a transfer is two rows, once -----------------------------------
SELECT evently.record_notification(t.message(t.last_outbox('ticket.transferred'))) AS written;
SELECT evently.record_notification(t.message(t.last_outbox('ticket.transferred'))) AS written_again;
SELECT t.scrub(user_id::text) AS who, title, body FROM evently.notifications
 WHERE outbox_id = t.last_outbox('ticket.transferred') ORDER BY title;

-- 4. The event is cancelled: Mia hears of it per booking, Max of his ticket
-- (ticket.revoked), nobody of Mia's own revoked ticket twice; the ADMIN of
-- event.cancelled
SELECT evently.api_event_cancel(t.id('admin'), t.req(t.ev('mail25'), body => '{"reason": "flooded"}')) ->> 'status' AS status;
SELECT * FROM t.mails(t.message((SELECT max(id) FROM evently.outbox WHERE type = 'booking.cancelled'
                                  AND data->>'booking_id' = t.id('mb1')::text)));
SELECT t.scrub(o.user_id::text) AS holder, m.recipient, m.subject
  FROM evently.outbox o LEFT JOIN evently.mail_for_message(t.message(o.id)) m ON true
 WHERE o.type = 'ticket.revoked' AND o.event_id = t.id('mail25') ORDER BY holder;
SELECT evently.record_notification(t.message(o.id)) AS inbox_row, t.scrub(o.user_id::text) AS holder
  FROM evently.outbox o WHERE o.type = 'ticket.revoked' AND o.event_id = t.id('mail25') ORDER BY holder;
SELECT * FROM t.mails(t.message((SELECT max(id) FROM evently.outbox WHERE type = 'event.cancelled'
                                  AND event_id = t.id('mail25'))));

-- 5. Other types ----------------------------------------------------------------
SELECT * FROM t.mails(jsonb_build_object('id', 900001, 'type', 'organizer.rejected', 'user_id', t.id('max'),
                      'data', jsonb_build_object('organization_name', 'Max Events', 'reason', 'no papers')));
SELECT * FROM t.mails(jsonb_build_object('id', 900002, 'type', 'waitlist.offered', 'user_id', t.id('max'),
                      'event_id', t.id('mail25'), 'data', jsonb_build_object('quantity', 2, 'expires_at', 'soon')));
-- a type no mail is for, a message without a user, a subject cut to one line
SELECT count(*) AS hold_mails FROM evently.mail_for_message(jsonb_build_object('id', 900003, 'type', 'hold.created',
                                                                             'user_id', t.id('max')));
SELECT count(*) AS userless_mails FROM evently.mail_for_message('{"id": 900004, "type": "organizer.verified"}');
SELECT subject FROM evently.mail_for_message(jsonb_build_object('id', 900005, 'type', 'event.rejected',
                      'user_id', t.id('max'), 'event_id', t.id('mail25'), 'data', '{"reason": "x"}'));
UPDATE evently.events SET name = E'Mail\r\nBcc: all@example.com' WHERE id = t.id('mail25');
SELECT subject FROM evently.mail_for_message(jsonb_build_object('id', 900005, 'type', 'event.rejected',
                      'user_id', t.id('max'), 'event_id', t.id('mail25'), 'data', '{"reason": "x"}'));
-- a malformed message: EV001, which evently-notify logs and skips
SELECT t.try($$SELECT * FROM evently.mail_for_message('{"type": "booking.confirmed"}')$$) AS no_id;
SELECT t.try($$SELECT * FROM evently.mail_for_message('[1]')$$) AS not_an_object;
-- a shard's outbox ids start at its bucket << 48 (issue 15): the top
-- bucket's have 19 digits and are still messages, for the mail and the
-- inbox; an id past bigint is malformed
SELECT count(*) AS top_bucket_mails FROM evently.mail_for_message(jsonb_build_object(
           'id', (32767::bigint << 48) + 1, 'type', 'waitlist.offered', 'user_id', t.id('max'),
           'event_id', t.id('mail25'), 'data', jsonb_build_object('quantity', 2, 'expires_at', 'soon')));
SELECT evently.record_notification(jsonb_build_object(
           'id', (32767::bigint << 48) + 1, 'type', 'waitlist.offered', 'user_id', t.id('max'),
           'event_id', t.id('mail25'), 'data', jsonb_build_object('quantity', 2, 'expires_at', 'soon')))
       AS top_bucket_inbox;
SELECT outbox_id >> 48 AS its_bucket FROM evently.notifications WHERE outbox_id > 1::bigint << 48;
SELECT t.try($$SELECT * FROM evently.mail_for_message('{"id": 9223372036854775808, "type": "x"}')$$) AS past_bigint;
SELECT t.try($$SELECT evently.record_notification(
                 '{"id": "9223372036854775808", "type": "booking.confirmed", "user_id": "x"}')$$) AS inbox_past_bigint;

-- 6. mail_pending and mail_sent: recorded once, then left out ------------------
SELECT recipient FROM evently.mail_pending(t.message(t.last_outbox('ticket.transferred'))) ORDER BY 1;
SELECT evently.mail_sent(t.last_outbox('ticket.transferred'), 'max@example.com', 'first') AS recorded,
       evently.mail_sent(t.last_outbox('ticket.transferred'), 'max@example.com', 'again') AS recorded_again;
SELECT recipient FROM evently.mail_pending(t.message(t.last_outbox('ticket.transferred'))) ORDER BY 1;
SELECT recipient, subject FROM evently.mail_log WHERE outbox_id = t.last_outbox('ticket.transferred');
-- the programs' gateway role may call them; the API role and PUBLIC may not
SELECT has_function_privilege('evently_gateway', 'evently.mail_pending(jsonb)', 'EXECUTE') AS gateway_pending,
       has_function_privilege('evently_gateway', 'evently.mail_sent(bigint, text, text)', 'EXECUTE') AS gateway_sent,
       has_function_privilege('evently_api', 'evently.mail_pending(jsonb)', 'EXECUTE') AS api_pending,
       has_function_privilege('public', 'evently.mail_for_message(jsonb)', 'EXECUTE') AS public_for_message;
