-- The inbox and mail calls in the parts a sharded evently's proxy runs
-- where the data is (issue 15; extension/sql/85_notifications.sql,
-- 86_mail.sql): compose_notification only reads (the event's shard),
-- store_notification writes the inbox and mail_recipients reads mail_log
-- (the global primary).  On one database record_notification is the two
-- together: the same rows as composing and storing by hand.
SET client_min_messages = warning;

-- 1. Composing: the rows a message makes, written nowhere ------------------------
SELECT t.scrub(r->>'user_id') AS user_id, r->>'title' AS title,
       -- (25_mail gave the event a name with a line break)
       regexp_replace(regexp_replace(r->>'body', 'EVT-\d{8}-[A-Z]{6}', 'EVT-…'), '\s+', ' ', 'g') AS body
  FROM jsonb_array_elements(evently.compose_notification(t.message(
           (SELECT max(id) FROM evently.outbox WHERE type = 'booking.confirmed' AND data->>'booking_id' = t.id('mb1')::text)))) r;
-- a transfer: both parties
SELECT t.scrub(r->>'user_id') AS user_id, r->>'title' AS title
  FROM jsonb_array_elements(evently.compose_notification(t.message(t.last_outbox('ticket.transferred')))) r
 ORDER BY 2;
-- a type the inbox ignores: none
SELECT evently.compose_notification(jsonb_build_object('id', 1, 'type', 'hold.created', 'user_id', t.id('mia')))
       AS ignored;
-- composing writes nothing
SELECT jsonb_array_length(evently.compose_notification(t.message(t.last_outbox('ticket.transferred')) || '{"id": 990001}'))
       AS composed, (SELECT count(*) FROM evently.notifications WHERE outbox_id = 990001) AS written;
SELECT t.try($$SELECT evently.compose_notification('{"type": "booking.confirmed"}')$$) AS compose_without_id;

-- 2. Storing what was composed = recording -----------------------------------------
CREATE TEMP TABLE msg AS SELECT t.message(t.last_outbox('ticket.transferred')) AS m;
SELECT evently.store_notification(m || '{"id": 990001}', evently.compose_notification(m || '{"id": 990001}'))
       AS stored, evently.record_notification(m || '{"id": 990002}') AS recorded
  FROM msg;
SELECT evently.store_notification(m || '{"id": 990001}', evently.compose_notification(m)) AS stored_again FROM msg;
-- the rows stored by hand are those record_notification wrote, column for column
SELECT count(*) AS identical_rows
  FROM evently.notifications a JOIN evently.notifications b ON b.user_id = a.user_id AND b.outbox_id = 990002
 WHERE a.outbox_id = 990001
   AND (a.event_id, a.type, a.title, a.body, a.data, a.occurred_at)
       = (b.event_id, b.type, b.title, b.body, b.data, b.occurred_at);
-- nothing composed, nothing stored; a row for a user who is gone is skipped
SELECT evently.store_notification(m || '{"id": 990003}', '[]') AS nothing,
       evently.store_notification(m || '{"id": 990003}', 'null') AS not_an_array,
       evently.store_notification(m || '{"id": 990003}',
           jsonb_build_array(jsonb_build_object('user_id', gen_random_uuid(), 'title', 'x', 'body', 'y'))) AS gone
  FROM msg;
SELECT t.try($$SELECT evently.store_notification('{"id": "x", "user_id": "y"}', '[]')$$) AS store_bad_id;

-- 3. mail_log's recipients of a message: what mail_pending leaves out -------------
SELECT evently.mail_recipients(t.last_outbox('ticket.transferred')) AS sent,
       evently.mail_recipients(990001) AS none;

-- 4. The parts are the gateway's, as the calls are (the proxy calls them) ----------
SELECT f, has_function_privilege('evently_gateway', f, 'EXECUTE') AS gateway,
       has_function_privilege('evently_api', f, 'EXECUTE') AS api,
       has_function_privilege('public', f, 'EXECUTE') AS public
  FROM unnest(ARRAY['evently.compose_notification(jsonb)', 'evently.store_notification(jsonb, jsonb)',
                    'evently.mail_for_message(jsonb)', 'evently.mail_recipients(bigint)']) f;
DELETE FROM evently.notifications WHERE outbox_id IN (990001, 990002);
