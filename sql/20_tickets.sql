-- Tickets in hand (SPEC section 11): signed codes, transfers and their
-- refusals, staff scope, check-in online and offline, reverts, stats.
-- door20 and side20 start in an hour (their doors are open); far20 is a month away.
SET client_min_messages = warning;
SELECT t.remember('tina', evently.create_user('tina@example.com', 'qwerty', 'Tina', 'Buyer'));
SELECT t.remember('fred', evently.create_user('fred@example.com', 'qwerty', 'Fred', 'Friend'));
SELECT t.remember('stan', evently.create_user('stan@example.com', 'qwerty', 'Stan', 'Staff'));
SELECT t.remember('otto', evently.create_user('otto@example.com', 'qwerty', 'Otto', 'Other'));
SELECT t.remember('door20', evently.create_event('Door Night', t.id('hall'), now() + interval '1 hour', 20));
SELECT t.remember('side20', evently.create_event('Side Night', t.id('hall'), now() + interval '1 hour', 20));
SELECT t.remember('far20', evently.create_event('Far Night', t.id('hall'), now() + interval '30 days', 20));
SELECT evently.set_cancellation_policy(t.id('door20'), true, now() + interval '30 minutes', 'NONE', 0) ->> 'fee_type' AS policy;
-- a booking of three seats for Tina, one seat of the far event
CREATE FUNCTION t.book20(label text, user_label text, event_label text, VARIADIC seats text[]) RETURNS text
LANGUAGE sql AS $$
    SELECT t.remember(label, (evently.confirm_booking(
        (evently.hold_seats(t.id(event_label), t.id(user_label), t.seats(event_label, VARIADIC seats)) ->> 'hold_id')::uuid,
        t.id(user_label)) ->> 'booking_id')::uuid)
$$;
SELECT t.book20('tb1', 'tina', 'door20', 'A1', 'A2', 'A3');
SELECT t.book20('tb2', 'tina', 'far20', 'B4');
SELECT t.book20('tb3', 'fred', 'side20', 'A1');
-- ticket labels: tk1..tk3 (door20, by seat), tk_far (gig), tk_side (side20)
SELECT t.remember('tk' || s.seat_number, tk.id)
  FROM evently.tickets tk JOIN evently.seats s ON s.id = tk.seat_id WHERE tk.booking_id = t.id('tb1');
SELECT t.remember('tk_far', id) FROM evently.tickets WHERE booking_id = t.id('tb2');
SELECT t.remember('tk_side', id) FROM evently.tickets WHERE booking_id = t.id('tb3');
CREATE FUNCTION t.rfc3339(ts timestamptz) RETURNS text LANGUAGE sql STABLE
RETURN to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
CREATE FUNCTION t.code20(ticket_label text) RETURNS text LANGUAGE sql STABLE
RETURN (SELECT ticket_code FROM evently.tickets WHERE id = t.id(ticket_label));
-- a scan as the REST adapter makes it: {status, code} of the envelope, or the result
CREATE FUNCTION t.scan20(user_label text, code text, event_label text, gate text DEFAULT 'North',
                       device text DEFAULT 'dev-1') RETURNS text LANGUAGE sql AS $$
    SELECT t.scrub(CASE WHEN r ? '__error' THEN (r->'__error'->>'status') || ' ' || (r->'__error'->>'code')
                                                || coalesce(' | ' || (r->'__error'->'details'->>'reason'), '')
                        ELSE r->>'result' END)
      FROM evently.api_checkin_validate(t.id(user_label), t.req(body => jsonb_build_object(
               'code', code, 'event_id', t.id(event_label), 'gate', gate, 'device_id', device))) r
$$;

-- 1. Signing and verifying --------------------------------------------------
-- a code is 155 URL-safe characters naming the ticket, its event, its seat
-- and version 1, signed by the event's key; every event has a key pair
SELECT length(t.code20('tkA1')) AS code_length, t.code20('tkA1') ~ '^[A-Za-z0-9_-]+$' AS url_safe;
SELECT c.ticket_id = t.id('tkA1') AS names_ticket, c.event_id = t.id('door20') AS names_event, c.kind,
       c.item_id = (SELECT seat_id FROM evently.tickets WHERE id = t.id('tkA1')) AS names_seat,
       c.version, c.signature_ok
  FROM evently._read_ticket_code(t.code20('tkA1')) c;
SELECT NOT EXISTS (SELECT 1 FROM evently.tickets t WHERE NOT EXISTS (
                      SELECT 1 FROM evently.event_keys k WHERE k.event_id = t.event_id)) AS every_sold_event_has_a_key,
       bool_and(length(public_key) = 32 AND length(secret_key) = 64) AS key_sizes
  FROM evently.event_keys;
-- two events never share a key
SELECT count(DISTINCT public_key) = count(*) AS keys_distinct FROM evently.event_keys;
-- a tampered code: one character changed in the payload, or in the signature
SELECT c.signature_ok AS payload_tampered
  FROM evently._read_ticket_code(overlay(t.code20('tkA1') PLACING
       CASE substr(t.code20('tkA1'), 30, 1) WHEN 'A' THEN 'B' ELSE 'A' END FROM 30 FOR 1)) c;
SELECT c.signature_ok AS signature_tampered
  FROM evently._read_ticket_code(overlay(t.code20('tkA1') PLACING
       CASE substr(t.code20('tkA1'), 100, 1) WHEN 'A' THEN 'B' ELSE 'A' END FROM 100 FOR 1)) c;
SELECT row_to_json(c) AS not_a_code FROM evently._read_ticket_code('hello') c;
-- the secret keys are the extension owner's: the API roles cannot read them
SELECT has_table_privilege('evently_api', 'evently.event_keys', 'SELECT') AS api_reads_keys,
       has_table_privilege('evently_gateway', 'evently.event_keys', 'SELECT') AS gateway_reads_keys;

-- the codes are the holders': no outbox row (Kafka) nor audit row keeps one
SELECT (SELECT count(*) FROM evently.outbox WHERE data::text LIKE '%ticket_code%') AS outbox_rows_with_codes,
       (SELECT count(*) FROM evently.audit_log WHERE details::text LIKE '%ticket_code%') AS audit_rows_with_codes,
       (SELECT count(*) FROM evently.outbox WHERE type = 'booking.confirmed' AND data->'seats'->0 ? 'ticket_id') AS confirmations_with_seats;

-- 2. Reading tickets ----------------------------------------------------------
SELECT d->>'total_count' AS tinas_tickets,
       (SELECT bool_and(x ? 'code') FROM jsonb_array_elements(d->'tickets') x) AS with_codes
  FROM evently.api_tickets_mine(t.id('tina'), t.req()) d;
SELECT d->>'kind' AS kind, d->>'seat_number' AS seat, d->>'status' AS status, d->>'version' AS version,
       d->>'checked_in' AS checked_in, d->>'code' = t.code20('tkA1') AS holder_sees_code
  FROM evently.api_ticket_get(t.id('tina'), t.req(jsonb_build_object('id', t.id('tkA1')))) d;
-- the event's admin reads it without the code; anyone else gets NOT_FOUND
SELECT d ? 'code' AS admin_sees_code
  FROM evently.api_ticket_get(t.id('admin'), t.req(jsonb_build_object('id', t.id('tkA1')))) d;
SELECT t.try($$SELECT evently.api_ticket_get(t.id('otto'), t.req(jsonb_build_object('id', t.id('tkA1'))))$$) AS stranger;

-- 3. Staff --------------------------------------------------------------------
SELECT d->>'email' AS staff_added FROM evently.api_event_staff_add(t.id('admin'),
    t.req(t.ev('door20'), '{}', jsonb_build_object('user_id', t.id('stan')))) d;
SELECT t.try($$SELECT evently.api_event_staff_add(t.id('admin'), t.req(t.ev('door20'), '{}', jsonb_build_object('user_id', t.id('stan'))))$$) AS twice;
SELECT t.try($$SELECT evently.api_event_staff_add(t.id('stan'), t.req(t.ev('door20'), '{}', jsonb_build_object('user_id', t.id('otto'))))$$) AS staff_cannot_add_staff;
SELECT t.try($$SELECT evently.api_event_staff_add(t.id('admin'), t.req(t.ev('door20'), '{}', jsonb_build_object('user_id', gen_random_uuid())))$$) AS unknown_user;
SELECT evently.api_event_staff_add(t.id('admin'), t.req(t.ev('side20'), '{}', jsonb_build_object('user_id', t.id('otto')))) ->> 'email' AS otto_scans_side20;
UPDATE evently.events SET status = 'cancelled' WHERE id = t.id('far20');
SELECT t.try($$SELECT evently.api_event_staff_add(t.id('admin'), t.req(t.ev('far20'), '{}', jsonb_build_object('user_id', t.id('otto'))))$$) AS staff_for_a_cancelled_event;
UPDATE evently.events SET status = 'published' WHERE id = t.id('far20');
SELECT jsonb_array_length(d->'staff') AS door20_staff FROM evently.api_event_staff_list(t.id('admin'), t.req(t.ev('door20'))) d;
-- staff read the event's tickets (no code), not another event's
SELECT d ? 'code' AS staff_sees_code
  FROM evently.api_ticket_get(t.id('stan'), t.req(jsonb_build_object('id', t.id('tkA1')))) d;
SELECT t.try($$SELECT evently.api_ticket_get(t.id('otto'), t.req(jsonb_build_object('id', t.id('tkA1'))))$$) AS other_staff_reads;
-- staff scan only for their event: NOT_FOUND for another, and for a plain user
SELECT t.try($$SELECT t.scan20('otto', t.code20('tkA1'), 'door20')$$) AS other_events_staff_scans;
SELECT t.try($$SELECT t.scan20('fred', t.code20('tkA1'), 'door20')$$) AS plain_user_scans;
SELECT t.try($$SELECT t.scan20('stan', t.code20('tk_side'), 'side20')$$) AS stan_at_side20;

-- 4. Check-in -------------------------------------------------------------------
SELECT t.scan20('stan', t.code20('tkA1'), 'door20') AS first_scan;
SELECT t.scan20('stan', t.code20('tkA1'), 'door20', 'South', 'dev-2') AS second_scan;
SELECT r->'__error'->'details'->'first_scan'->>'gate' AS first_gate,
       r->'__error'->'details'->'first_scan'->>'device_id' AS first_device,
       r->'__error'->'details'->>'conflict' AS conflict
  FROM evently.api_checkin_validate(t.id('stan'), t.req(body => jsonb_build_object(
       'code', t.code20('tkA1'), 'event_id', t.id('door20'), 'gate', 'East', 'device_id', 'dev-3'))) r;
-- a tampered code, a code of another event, a code of an event not open yet
SELECT t.scan20('stan', overlay(t.code20('tkA2') PLACING CASE substr(t.code20('tkA2'), 60, 1) WHEN 'x' THEN 'y' ELSE 'x' END FROM 60 FOR 1), 'door20') AS tampered;
SELECT t.scan20('stan', 'not a code at all', 'door20') AS garbage;
SELECT t.scan20('otto', t.code20('tkA2'), 'side20') AS wrong_event;
SELECT t.scan20('admin', t.code20('tk_far'), 'far20') AS not_open;
-- the 1.0 code of a ticket still works online (the upgrade keeps them as legacy_code)
UPDATE evently.tickets SET legacy_code = 'ABCDEF0123456789' WHERE id = t.id('tkA3');
SELECT t.scan20('stan', 'abcdef0123456789', 'door20') AS legacy_code;
SELECT t.scan20('stan', 'ABCDEF0123456789', 'door20') AS legacy_code_again;
SELECT t.scan20('stan', '0000000000000000', 'door20') AS unknown_legacy_code;
-- every scan is logged, failed ones too; ticket.checked_in for each let in
SELECT result, count(*) FROM evently.scan_log WHERE event_id = t.id('door20') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS checked_in_events FROM evently.outbox WHERE type = 'ticket.checked_in' AND event_id = t.id('door20');
-- bad requests are errors, not scans
SELECT t.try($$SELECT evently.validate_ticket(repeat('x', 1001), t.id('door20'), NULL, NULL, t.id('stan'))$$) AS huge_code;
SELECT t.try($$SELECT evently.validate_ticket(t.code20('tkA2'), t.id('door20'), repeat('g', 101), NULL, t.id('stan'))$$) AS long_gate;
SELECT t.try($$SELECT evently.api_checkin_validate(t.id('stan'), t.req(body => '{"code": "x"}'))$$) AS no_event;

-- 5. Revert -------------------------------------------------------------------
SELECT t.remember('ci_a1', (SELECT id FROM evently.checkins WHERE ticket_id = t.id('tkA1') AND status = 'ACTIVE'));
SELECT t.try($$SELECT evently.api_checkin_revert(t.id('otto'), t.req(jsonb_build_object('checkinId', t.id('ci_a1'))))$$) AS other_staff_reverts;
SELECT d->>'status' AS reverted FROM evently.api_checkin_revert(t.id('stan'), t.req(jsonb_build_object('checkinId', t.id('ci_a1')))) d;
SELECT t.try($$SELECT evently.api_checkin_revert(t.id('stan'), t.req(jsonb_build_object('checkinId', t.id('ci_a1'))))$$) AS revert_twice;
SELECT t.scan20('stan', t.code20('tkA1'), 'door20', 'West') AS scanned_again;

-- 6. Transfer -------------------------------------------------------------------
CREATE FUNCTION t.transfer20(user_label text, ticket_label text, email text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_ticket_transfer(t.id(user_label), t.req(jsonb_build_object('id', t.id(ticket_label)), '{}',
                                                               jsonb_build_object('email', email)))
$$;
SELECT t.try($$SELECT t.transfer20('tina', 'tkA1', 'fred@example.com')$$) AS after_check_in;
SELECT t.try($$SELECT t.transfer20('tina', 'tkA2', 'tina@example.com')$$) AS to_oneself;
SELECT t.try($$SELECT t.transfer20('tina', 'tkA2', 'nobody@example.com')$$) AS unknown_recipient;
SELECT t.try($$SELECT t.transfer20('fred', 'tkA2', 'otto@example.com')$$) AS not_the_holder;
UPDATE evently.events SET transfers_allowed = false WHERE id = t.id('door20');
SELECT t.try($$SELECT t.transfer20('tina', 'tkA2', 'fred@example.com')$$) AS event_forbids;
UPDATE evently.events SET transfers_allowed = true WHERE id = t.id('door20');
CREATE TABLE t.old_codes AS SELECT t.code20('tkA2') AS code;
SELECT d->>'version' AS version, d->>'to_user_id' = t.id('fred')::text AS to_fred
  FROM t.transfer20('tina', 'tkA2', 'FRED@example.com') d;
-- the old code is revoked; the new one is Fred's and checks in; Tina no longer sees it
SELECT t.scan20('stan', (SELECT code FROM t.old_codes), 'door20') AS old_code;
SELECT t.code20('tkA2') <> (SELECT code FROM t.old_codes) AS new_code,
       (SELECT version FROM evently._read_ticket_code(t.code20('tkA2'))) AS new_code_version;
SELECT version, reason FROM evently.ticket_revocations WHERE ticket_id = t.id('tkA2');
SELECT d->>'total_count' AS tinas_tickets_now FROM evently.api_tickets_mine(t.id('tina'), t.req()) d;
SELECT x->>'code' = t.code20('tkA2') AS fred_holds_it
  FROM jsonb_array_elements(evently.api_tickets_mine(t.id('fred'), t.req())->'tickets') x WHERE x->>'id' = t.id('tkA2')::text;
SELECT s->>'ticket_status' AS in_tinas_booking, s->>'ticket_code' AS code_shown
  FROM jsonb_array_elements(evently.booking_json(t.id('tb1'))->'seats') s WHERE s->>'ticket_id' = t.id('tkA2')::text;
SELECT t.try($$SELECT t.transfer20('tina', 'tkA2', 'otto@example.com')$$) AS tina_again;
-- the organizer's attendee list names Fred for that seat now
SELECT attendee_email AS a2_attendee FROM evently.attendees WHERE event_id = t.id('door20') AND seat_number = 'A2';
-- Tina can no longer cancel the booking whose ticket is Fred's now
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('tb1'), t.id('tina'))$$) AS cancel_after_transfer;
SELECT t.scan20('stan', t.code20('tkA2'), 'door20') AS new_code_scan;
-- ticket.transferred names both parties
SELECT data->>'from_user_id' = t.id('tina')::text AS from_tina, user_id = t.id('fred') AS to_fred
  FROM evently.outbox WHERE type = 'ticket.transferred' AND data->>'ticket_id' = t.id('tkA2')::text;
-- after the start: refused
UPDATE evently.events SET date_time = now() - interval '1 minute' WHERE id = t.id('side20');
SELECT t.try($$SELECT t.transfer20('fred', 'tk_side', 'tina@example.com')$$) AS after_start;

-- 7. A cancelled ticket is revoked ------------------------------------------------
SELECT t.book20('tb4', 'tina', 'door20', 'B1');
SELECT t.remember('tkB1', id) FROM evently.tickets WHERE booking_id = t.id('tb4');
SELECT evently.cancel_with_policy(t.id('tb4'), t.id('tina')) ->> 'status' AS cancelled;
SELECT version, reason FROM evently.ticket_revocations WHERE ticket_id = t.id('tkB1');
SELECT count(*) AS revoked_event FROM evently.outbox WHERE type = 'ticket.revoked' AND data->>'ticket_id' = t.id('tkB1')::text;
SELECT t.scan20('stan', t.code20('tkB1'), 'door20') AS cancelled_ticket;
SELECT t.try($$SELECT t.transfer20('tina', 'tkB1', 'fred@example.com')$$) AS transfer_cancelled;
-- a booking whose ticket let its buyer in is not cancelled either
SELECT t.book20('tb6', 'tina', 'door20', 'B5');
SELECT t.remember('tkB5', id) FROM evently.tickets WHERE booking_id = t.id('tb6');
SELECT t.scan20('stan', t.code20('tkB5'), 'door20') AS tina_in;
SELECT t.try($$SELECT evently.cancel_with_policy(t.id('tb6'), t.id('tina'))$$) AS cancel_after_check_in;

-- 8. Offline ------------------------------------------------------------------------
SELECT d->>'algorithm' AS algorithm, d->>'code_format' AS format, length(d->>'public_key') AS key_length,
       d->>'public_key' = evently._public_key_text((SELECT public_key FROM evently.event_keys WHERE event_id = t.id('door20'))) AS its_key,
       (SELECT jsonb_agg(r->>'reason' ORDER BY r->>'reason') FROM jsonb_array_elements(d->'revocations') r) AS revocations,
       (d->>'valid_at')::timestamptz = now() AS valid_at
  FROM evently.api_checkin_offline(t.id('stan'), t.req(jsonb_build_object('id', t.id('door20')))) d;
-- after the watermark of that download: only what was revoked since
CREATE TABLE t.download AS SELECT d->>'watermark' AS watermark
  FROM evently.api_checkin_offline(t.id('stan'), t.req(jsonb_build_object('id', t.id('door20')))) d;
SELECT jsonb_array_length(d->'revocations') AS nothing_new
  FROM evently.api_checkin_offline(t.id('stan'), t.req(jsonb_build_object('id', t.id('door20')),
                                                      jsonb_build_object('after', (SELECT watermark FROM t.download)))) d;
SELECT t.book20('tb7', 'tina', 'door20', 'A4');
SELECT t.remember('tkA4', id) FROM evently.tickets WHERE booking_id = t.id('tb7');
SELECT t.transfer20('tina', 'tkA4', 'otto@example.com') ->> 'version' AS given_away;
SELECT jsonb_agg(r->>'version') AS new_revocations
  FROM evently.api_checkin_offline(t.id('stan'), t.req(jsonb_build_object('id', t.id('door20')),
                                                      jsonb_build_object('after', (SELECT watermark FROM t.download)))) d,
       jsonb_array_elements(d->'revocations') r;
SELECT t.try($$SELECT evently.api_checkin_offline(t.id('stan'), t.req(jsonb_build_object('id', t.id('door20')), '{"after": "yesterday"}'))$$) AS bad_watermark;
-- a 1.0 code is version 1: once its ticket is given away it is revoked too
UPDATE evently.tickets SET legacy_code = '0123456789ABCDEF' WHERE id = t.id('tkA4');
SELECT t.scan20('stan', '0123456789ABCDEF', 'door20') AS legacy_code_given_away;
-- the version a code carries is 16 bits: the last one cannot be given on
UPDATE evently.tickets SET version = 65535 WHERE id = t.id('tkA4');
SELECT t.try($$SELECT t.transfer20('otto', 'tkA4', 'fred@example.com')$$) AS last_version;
UPDATE evently.tickets SET version = 2 WHERE id = t.id('tkA4');
SELECT t.try($$SELECT evently.api_checkin_offline(t.id('otto'), t.req(jsonb_build_object('id', t.id('door20'))))$$) AS other_staff_offline;
-- a batch of two devices: A3 (checked in online already), B2, B3, a tampered code
SELECT t.book20('tb5', 'tina', 'door20', 'B2', 'B3');
SELECT t.remember('tk' || s.seat_number, tk.id)
  FROM evently.tickets tk JOIN evently.seats s ON s.id = tk.seat_id WHERE tk.booking_id = t.id('tb5');
CREATE FUNCTION t.sync20(device text, scans jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT evently.api_checkin_sync(t.id('stan'), t.req(body => jsonb_build_object(
               'device_id', device, 'event_id', t.id('door20'), 'scans', scans)))
$$;
CREATE FUNCTION t.offline20(nonce text, ticket_label text, gate text DEFAULT 'Gate 7') RETURNS jsonb LANGUAGE sql STABLE
RETURN jsonb_build_object('code', t.code20(ticket_label), 'nonce', nonce, 'gate', gate,
                          'scanned_at', t.rfc3339(now() - interval '5 minutes'));
CREATE TABLE t.batch AS SELECT jsonb_build_array(t.offline20('n1', 'tkB2'), t.offline20('n2', 'tkA3'),
                                                 t.offline20('n3', 'tkB2'),
                                                 jsonb_build_object('code', 'garbage', 'nonce', 'n4',
                                                     'scanned_at', t.rfc3339(now()))) AS scans;
SELECT r->>'nonce' AS nonce, r->>'result' AS result, r->>'conflict' AS conflict, r->>'replayed' AS replayed
  FROM jsonb_array_elements(t.sync20('dev-A', (SELECT scans FROM t.batch))->'results') r;
SELECT count(*) AS checkins_after_first_upload FROM evently.checkins WHERE event_id = t.id('door20') AND status = 'ACTIVE';
-- the same batch again: every answer as before, replayed, nothing new
SELECT r->>'nonce' AS nonce, r->>'result' AS result, r->>'replayed' AS replayed
  FROM jsonb_array_elements(t.sync20('dev-A', (SELECT scans FROM t.batch))->'results') r;
SELECT count(*) AS checkins_after_replay FROM evently.checkins WHERE event_id = t.id('door20') AND status = 'ACTIVE';
SELECT count(*) AS scans_logged_for_dev_a FROM evently.scan_log WHERE device_id = 'dev-A';
-- B2 scanned on a second device: a conflict, counted once; B3 is dev-B's
SELECT r->>'nonce' AS nonce, r->>'result' AS result, r->>'conflict' AS conflict,
       r->'first_scan'->>'device_id' AS first_device
  FROM jsonb_array_elements(t.sync20('dev-B', jsonb_build_array(t.offline20('n1', 'tkB2'), t.offline20('n2', 'tkB3')))->'results') r;
SELECT count(*) AS b2_checkins FROM evently.checkins WHERE ticket_id = t.id('tkB2');
-- malformed batches change nothing
SELECT t.try($$SELECT t.sync20('dev-C', '[]')$$) AS empty_batch;
SELECT t.try($$SELECT t.sync20('dev-C', jsonb_build_array(t.offline20('x1', 'tkB3'), '{"code": "x"}'))$$) AS no_nonce;
SELECT t.try($$SELECT t.sync20('dev-C', jsonb_build_array(jsonb_build_object('code', 'x', 'nonce', 'x2', 'scanned_at', '2999-01-01T00:00:00Z')))$$) AS future_scan;
SELECT count(*) AS dev_c_scans FROM evently.scan_log WHERE device_id = 'dev-C';
-- without event_id each code's event; one the actor does not scan for is WRONG_EVENT
SELECT r->>'result' AS result FROM jsonb_array_elements(evently.api_checkin_sync(t.id('stan'), t.req(body => jsonb_build_object(
    'device_id', 'dev-D', 'scans', jsonb_build_array(t.offline20('d1', 'tk_side')))))->'results') r;

-- otto (side20's staff) uploads a door20 code as dev-A nonce z1: WRONG_EVENT,
-- kept under no event; dev-A's own z1 for door20 is still decided
SELECT r->>'result' AS otto_result FROM jsonb_array_elements(evently.api_checkin_sync(t.id('otto'), t.req(body => jsonb_build_object(
    'device_id', 'dev-A', 'scans', jsonb_build_array(t.offline20('z1', 'tkB3')))))->'results') r;
SELECT r->>'result' AS dev_a_result, r->>'replayed' AS replayed FROM jsonb_array_elements(t.sync20('dev-A', jsonb_build_array(t.offline20('z1', 'tkB3')))->'results') r;
SELECT t.try($$SELECT evently.api_checkin_sync(t.id('fred'), t.req(body => jsonb_build_object(
    'device_id', 'dev-F', 'scans', jsonb_build_array(t.offline20('f1', 'tkB3')))))$$) AS plain_user_uploads;

-- 9. Stats add up ----------------------------------------------------------------------
SELECT d->>'sold' AS sold, d->>'checked_in' AS checked_in,
       (SELECT sum((g->>'checked_in')::int) FROM jsonb_array_elements(d->'by_gate') g) AS by_gate_sum,
       (SELECT sum((g->>'checked_in')::int) FROM jsonb_array_elements(d->'by_hour') g) AS by_hour_sum,
       (SELECT sum((g->>'sold')::int) FROM jsonb_array_elements(d->'by_section') g) AS by_section_sold,
       (SELECT jsonb_object_agg(g->>'gate', g->'checked_in') FROM jsonb_array_elements(d->'by_gate') g) AS gates,
       d->'scans'->'total' = (SELECT to_jsonb(count(*)) FROM evently.scan_log WHERE event_id = t.id('door20')) AS scans_total
  FROM evently.api_checkin_stats(t.id('admin'), t.req(jsonb_build_object('id', t.id('door20')))) d;
SELECT (SELECT count(*) FROM evently.tickets WHERE event_id = t.id('door20') AND status = 'VALID') AS valid_tickets,
       (SELECT count(*) FROM evently.checkins WHERE event_id = t.id('door20') AND status = 'ACTIVE') AS active_checkins;
SELECT t.try($$SELECT evently.api_checkin_stats(t.id('otto'), t.req(jsonb_build_object('id', t.id('door20'))))$$) AS other_staff_stats;

-- 10. Staff removed can no longer scan ---------------------------------------------------
SELECT d->>'removed' AS removed FROM evently.api_event_staff_remove(t.id('admin'),
    t.req(jsonb_build_object('eventId', t.id('door20'), 'userId', t.id('stan')))) d;
SELECT t.try($$SELECT t.scan20('stan', t.code20('tkB3'), 'door20')$$) AS removed_staff_scans;
SELECT t.try($$SELECT evently.api_event_staff_remove(t.id('admin'), t.req(jsonb_build_object('eventId', t.id('door20'), 'userId', t.id('stan'))))$$) AS remove_twice;
