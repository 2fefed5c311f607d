-- 59_checkin.sql: check-in at the door (SPEC section 11), online and
-- offline, its log, its reverts and its numbers.
--
-- A scan has one of six outcomes, the same online and offline:
--   CHECKED_IN          let in now
--   ALREADY_CHECKED_IN  let in before (the first scan's time, gate, device)
--   INVALID_SIGNATURE   not a code, or not signed by the key of the event it names
--   REVOKED             a version transferred away, or a cancelled ticket
--   WRONG_EVENT         a good code of another event
--   NOT_OPEN            before the doors open (doors_open_minutes before the
--                       start), after the end, or for an event not on
-- A scan outcome is a result, never an error: every scan, failed ones too,
-- is written to scan_log in the scan's own transaction.  The ticket's row
-- lock orders two scanners of one ticket (exactly one CHECKED_IN,
-- isolation spec checkin-race) and a scan against a transfer.

-- The result of one scan, as validate_ticket and sync_scans answer it.
CREATE OR REPLACE FUNCTION evently._scan_result(outcome text, p_ticket_id uuid, checkin evently.checkins,
                                                is_conflict boolean, reason text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object(
        'result', outcome, 'ticket_id', p_ticket_id, 'reason', reason,
        'checkin_id', checkin.id, 'conflict', is_conflict,
        'checked_in_at', CASE WHEN outcome = 'CHECKED_IN' THEN checkin.scanned_at END,
        'gate', CASE WHEN outcome = 'CHECKED_IN' THEN checkin.gate END,
        'device_id', CASE WHEN outcome = 'CHECKED_IN' THEN checkin.device_id END,
        'first_scan', CASE WHEN outcome = 'ALREADY_CHECKED_IN' THEN jsonb_build_object(
                          'checkin_id', checkin.id, 'checked_in_at', checkin.scanned_at, 'gate', checkin.gate,
                          'device_id', checkin.device_id, 'source', checkin.source) END,
        'ticket', CASE WHEN outcome IN ('CHECKED_IN', 'ALREADY_CHECKED_IN') THEN evently.ticket_json(p_ticket_id) END))
$$;

-- Which ticket a code names, and that ticket's row locked: a signed code
-- (format 1), or a 1.0 ticket's 16-hex code.  Sets outcome (and reason)
-- when the code lets nobody in whatever the ticket's own state.
CREATE OR REPLACE FUNCTION evently._ticket_of_code(p_code text, p_event_id uuid, OUT found_id uuid,
                                                   OUT outcome text, OUT reason text)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    tk record;
BEGIN
    IF p_code ~ '^[0-9A-Fa-f]{16}$' THEN
        SELECT t.id, t.event_id, t.version INTO tk FROM evently.tickets t WHERE t.legacy_code = upper(p_code) FOR UPDATE;
        found_id := tk.id;
        IF NOT FOUND THEN
            outcome := 'INVALID_SIGNATURE';
            reason := 'no ticket has this code';
        ELSIF tk.event_id IS DISTINCT FROM p_event_id THEN
            outcome := 'WRONG_EVENT';
            reason := format('the ticket is for event %s', tk.event_id);
        ELSIF tk.version <> 1 THEN
            -- a 1.0 code is version 1: its buyer knew it before any transfer
            outcome := 'REVOKED';
            reason := format('the ticket was transferred; it is at version %s', tk.version);
        END IF;
        RETURN;
    END IF;
    SELECT * INTO c FROM evently._read_ticket_code(p_code);
    -- Sharded (SPEC section 13), a code of an event of another shard is
    -- checked where the scanner's event is, without that event's key: it is
    -- a WRONG_EVENT whatever its signature (it lets nobody in here either).
    IF c.ticket_id IS NOT NULL AND NOT c.signature_ok AND c.event_id IS DISTINCT FROM p_event_id
       AND current_setting('evently.bucket')::int NOT IN (0, evently.bucket_of(c.event_id))
       AND NOT EXISTS (SELECT 1 FROM evently.events e WHERE e.id = c.event_id) THEN
        outcome := 'WRONG_EVENT';
        reason := format('the ticket is for event %s', c.event_id);
        RETURN;
    END IF;
    IF c.ticket_id IS NULL OR NOT c.signature_ok THEN
        outcome := 'INVALID_SIGNATURE';
        reason := CASE WHEN c.ticket_id IS NULL THEN 'not a ticket code'
                       ELSE 'the signature does not match the event''s key' END;
    ELSIF c.event_id IS DISTINCT FROM p_event_id THEN
        outcome := 'WRONG_EVENT';
        reason := format('the ticket is for event %s', c.event_id);
    ELSE
        SELECT t.id, t.version INTO tk FROM evently.tickets t WHERE t.id = c.ticket_id FOR UPDATE;
        found_id := tk.id;
        IF NOT FOUND THEN
            outcome := 'REVOKED';
            reason := 'the ticket does not exist';
        ELSIF c.version <> tk.version THEN
            outcome := 'REVOKED';
            reason := format('version %s of the ticket was transferred; it is at version %s', c.version, tk.version);
        END IF;
    END IF;
END
$$;

-- One scan, the same online and offline: decide, record the check-in when
-- it lets the ticket in (ticket.checked_in), log the scan, and return its
-- result (_scan_result).  p_scanned_at: when the scanner saw the code.  An
-- offline scan's (device, nonce) seen before returns the stored result with
-- "replayed": true and changes nothing.  The caller checked the actor's
-- right to scan for p_event_id.
CREATE OR REPLACE FUNCTION evently._scan(p_code text, p_event_id uuid, p_gate text, p_device text,
                                         p_actor uuid, p_scanned_at timestamptz, p_source text, p_nonce text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    found_id uuid;
    outcome text;
    reason text;
    tk evently.tickets;
    ev evently.events;
    checkin evently.checkins;
    is_conflict boolean := false;
    logged boolean;
BEGIN
    SELECT * INTO found_id, outcome, reason FROM evently._ticket_of_code(p_code, p_event_id);
    SELECT * INTO tk FROM evently.tickets t WHERE t.id = found_id;
    IF outcome IS NULL THEN
        SELECT * INTO ev FROM evently.events e WHERE e.id = p_event_id;
        SELECT * INTO checkin FROM evently.checkins c WHERE c.ticket_id = tk.id AND c.status = 'ACTIVE';
        IF tk.status <> 'VALID' THEN
            outcome := 'REVOKED';
            reason := 'the ticket was cancelled';
        ELSIF checkin.id IS NOT NULL THEN
            outcome := 'ALREADY_CHECKED_IN';
            is_conflict := checkin.device_id IS DISTINCT FROM p_device;
        ELSIF ev.status NOT IN ('published', 'active') OR p_scanned_at >= ev.end_time
              OR p_scanned_at < ev.date_time - make_interval(mins => ev.doors_open_minutes) THEN
            outcome := 'NOT_OPEN';
            reason := format('check-in for event %s is open from %s to %s', ev.id,
                             ev.date_time - make_interval(mins => ev.doors_open_minutes), ev.end_time);
        ELSE
            INSERT INTO evently.checkins (event_id, ticket_id, ticket_version, gate, device_id, source,
                                          scanned_at, checked_in_by)
            VALUES (p_event_id, tk.id, tk.version, p_gate, p_device, p_source, p_scanned_at, p_actor)
            RETURNING * INTO checkin;
            outcome := 'CHECKED_IN';
        END IF;
    END IF;
    INSERT INTO evently.scan_log (event_id, ticket_id, result, checkin_id, conflict, gate, device_id, nonce,
                                  scanned_at, actor_id)
    VALUES (p_event_id, tk.id, outcome, checkin.id, is_conflict, p_gate, p_device, p_nonce, p_scanned_at, p_actor)
    ON CONFLICT (event_id, device_id, nonce) WHERE nonce IS NOT NULL DO NOTHING
    RETURNING true INTO logged;
    IF logged IS NULL THEN
        -- the same offline scan uploaded at the same time by another
        -- request, which wrote it first: it is answered as that one was.
        -- The same code waited for its ticket's lock and let nobody in; a
        -- device that gave two codes one nonce has its second check-in undone
        IF outcome = 'CHECKED_IN' THEN
            DELETE FROM evently.checkins c WHERE c.id = checkin.id;
        END IF;
        RETURN evently._stored_scan(p_event_id, p_device, p_nonce);
    END IF;
    IF outcome = 'CHECKED_IN' THEN
        PERFORM evently._emit('ticket.checked_in', p_event_id, tk.holder_id, 'ticket', tk.id,
            jsonb_build_object('ticket_id', tk.id, 'checkin_id', checkin.id, 'gate', p_gate, 'device_id', p_device,
                               'scanned_at', p_scanned_at, 'source', p_source),
            p_actor);
    END IF;
    RETURN evently._scan_result(outcome, tk.id, checkin, is_conflict, reason);
END
$$;

-- An offline scan uploaded before for the event (NULL: for none), as it
-- was answered, marked replayed.
CREATE OR REPLACE FUNCTION evently._stored_scan(p_event_id uuid, p_device text, p_nonce text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT evently._scan_result(l.result, l.ticket_id, c, l.conflict, NULL) || '{"replayed": true}'
      FROM evently.scan_log l LEFT JOIN evently.checkins c ON c.id = l.checkin_id
     WHERE l.event_id IS NOT DISTINCT FROM p_event_id AND l.device_id = p_device AND l.nonce = p_nonce
$$;

-- The gate and device a scanner names: optional, 1 to 100 characters.
CREATE OR REPLACE FUNCTION evently._require_scanner_names(gate text, device_id text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(gate IS NULL OR length(gate) BETWEEN 1 AND 100, 'INVALID_ARGUMENT', 'invalid gate',
        'A gate is named by 1 to 100 characters.');
    PERFORM evently._require(device_id IS NULL OR length(device_id) BETWEEN 1 AND 100, 'INVALID_ARGUMENT',
        'invalid device_id', 'A device is named by 1 to 100 characters.');
END
$$;

-- The event a scanner's actor works for: NOT_FOUND unless the actor is its
-- organizer, one of its STAFF or an ADMIN.
CREATE OR REPLACE FUNCTION evently._scanned_event(actor uuid, p_event_id uuid) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(p_event_id IS NOT NULL AND evently._scans_event(actor, p_event_id)
                             AND EXISTS (SELECT 1 FROM evently.events e WHERE e.id = p_event_id),
        'NOT_FOUND', 'event not found', format('Event %s does not exist.', p_event_id));
    RETURN p_event_id;
END
$$;

-- evently.validate_ticket(code text, event_id uuid, gate text, device_id
-- text, actor_id uuid) RETURNS jsonb: one online scan at the door by the
-- event's organizer, STAFF or an ADMIN (NOT_FOUND for anyone else).
-- Returns {result, ticket_id, reason?, checkin_id?, checked_in_at?, gate?,
-- device_id?, first_scan?, conflict, ticket?} with one of the six outcomes
-- above; INVALID_ARGUMENT only for a request no scanner sends (a code over
-- 1000 characters, a gate or device name over 100).
CREATE OR REPLACE FUNCTION evently.validate_ticket(code text, event_id uuid, gate text DEFAULT NULL,
                                                   device_id text DEFAULT NULL, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
BEGIN
    actor_id := evently._as_caller(actor_id);
    PERFORM evently._scanned_event(actor_id, event_id);
    PERFORM evently._require(code IS NOT NULL AND length(code) <= 1000, 'INVALID_ARGUMENT', 'invalid code',
        'A scanned code is a string of at most 1000 characters.');
    PERFORM evently._require_scanner_names(gate, device_id);
    RETURN evently._scan(code, event_id, gate, device_id, actor_id, now(), 'ONLINE', NULL);
END
$$;

-- A scan result as the check-in routes answer it: the ticket let in is
-- data (200); any other outcome the error envelope with the outcome as its
-- code, 409 for ALREADY_CHECKED_IN and 422 for the rest, the result as
-- details (the shim's "__error" result, respond.c).
CREATE OR REPLACE FUNCTION evently._scan_reply(result jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN result->>'result' = 'CHECKED_IN' THEN result
           ELSE jsonb_build_object('__error', jsonb_build_object(
                    'status', CASE result->>'result' WHEN 'ALREADY_CHECKED_IN' THEN 409 ELSE 422 END,
                    'code', result->>'result',
                    'message', CASE result->>'result'
                                   WHEN 'ALREADY_CHECKED_IN' THEN 'ticket is already checked in'
                                   WHEN 'INVALID_SIGNATURE' THEN 'invalid ticket code'
                                   WHEN 'REVOKED' THEN 'ticket is revoked'
                                   WHEN 'WRONG_EVENT' THEN 'ticket is for another event'
                                   ELSE 'check-in is not open' END,
                    'details', result)) END
$$;

-- POST /checkin/validate {"code", "event_id", "gate"?, "device_id"?}
CREATE OR REPLACE FUNCTION evently.api_checkin_validate(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'code', 'event_id', 'gate', 'device_id');
    PERFORM evently._require(b->>'code' IS NOT NULL AND b->>'event_id' IS NOT NULL, 'INVALID_ARGUMENT',
        'code and event_id are required', 'A scan names the code read and the event at the door.');
    RETURN evently._scan_reply(evently.validate_ticket(b->>'code', evently._uuid_arg(b->>'event_id', 'event_id'),
                                                       b->>'gate', b->>'device_id', actor));
END
$$;

-- evently.revert_checkin(checkin_id uuid, actor_id uuid) RETURNS jsonb
-- {checkin_id, ticket_id, status: "REVERTED", reverted_at}: a check-in made
-- by mistake is undone (checkin.reverted); the ticket may be scanned in
-- again.  NOT_FOUND unless the actor scans for its event;
-- ALREADY_PROCESSED for one reverted before.
CREATE OR REPLACE FUNCTION evently.revert_checkin(checkin_id uuid, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    ci evently.checkins;
    holder uuid;
BEGIN
    actor_id := evently._as_caller(actor_id);
    SELECT * INTO ci FROM evently.checkins c WHERE c.id = revert_checkin.checkin_id;
    PERFORM evently._require(FOUND AND evently._scans_event(actor_id, ci.event_id), 'NOT_FOUND',
        'check-in not found', format('Check-in %s does not exist.', checkin_id));
    -- the ticket's lock first, as a scan takes it
    SELECT t.holder_id INTO holder FROM evently.tickets t WHERE t.id = ci.ticket_id FOR UPDATE;
    UPDATE evently.checkins c SET status = 'REVERTED', reverted_at = now(), reverted_by = actor_id
     WHERE c.id = ci.id AND c.status = 'ACTIVE'
    RETURNING * INTO ci;
    PERFORM evently._require(FOUND, 'ALREADY_PROCESSED', 'check-in already reverted',
        format('Check-in %s was reverted before.', checkin_id));
    PERFORM evently._emit('checkin.reverted', ci.event_id, holder, 'ticket', ci.ticket_id,
        jsonb_build_object('ticket_id', ci.ticket_id, 'checkin_id', ci.id), actor_id);
    RETURN jsonb_build_object('checkin_id', ci.id, 'ticket_id', ci.ticket_id, 'status', ci.status,
                              'reverted_at', ci.reverted_at);
END
$$;

-- POST /checkin/:checkinId/revert
CREATE OR REPLACE FUNCTION evently.api_checkin_revert(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.revert_checkin(evently._uuid_arg(req->'path'->>'checkinId', 'checkinId'), actor);
END
$$;

-- evently.checkin_stats(event_id uuid, actor_id uuid) RETURNS jsonb: the
-- door's numbers, for the event's organizer, STAFF or an ADMIN:
-- {event_id, sold (valid tickets), checked_in, by_gate [{gate, checked_in}],
-- by_tier [{tier_id, name, sold, checked_in}], by_section [{section_id,
-- name, sold, checked_in}], by_hour [{hour, checked_in}] (by scan time),
-- scans {total, by_result {outcome: n}}}.
CREATE OR REPLACE FUNCTION evently.checkin_stats(event_id uuid, actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor_id := evently._as_caller(actor_id);
    PERFORM evently._scanned_event(actor_id, event_id);
    RETURN (
        WITH t AS (SELECT t.id, t.tier_id, t.section_id, c.id AS checkin_id, c.gate, c.scanned_at
                     FROM evently.tickets t
                     LEFT JOIN evently.checkins c ON c.ticket_id = t.id AND c.status = 'ACTIVE'
                    WHERE t.event_id = checkin_stats.event_id AND t.status = 'VALID')
        SELECT jsonb_build_object(
            'event_id', checkin_stats.event_id,
            'sold', (SELECT count(*) FROM t),
            'checked_in', (SELECT count(checkin_id) FROM t),
            'by_gate', (SELECT coalesce(jsonb_agg(jsonb_build_object('gate', gate, 'checked_in', n)
                                                  ORDER BY gate NULLS LAST), '[]')
                          FROM (SELECT gate, count(*) AS n FROM t WHERE checkin_id IS NOT NULL GROUP BY gate) g),
            'by_tier', (SELECT coalesce(jsonb_agg(jsonb_build_object('tier_id', tt.id, 'name', tt.name,
                                                                     'sold', n, 'checked_in', m)
                                                  ORDER BY tt.sort_order, tt.name), '[]')
                          FROM (SELECT tier_id, count(*) AS n, count(checkin_id) AS m FROM t
                                 WHERE tier_id IS NOT NULL GROUP BY tier_id) g
                          JOIN evently.ticket_tiers tt ON tt.id = g.tier_id),
            'by_section', (SELECT coalesce(jsonb_agg(jsonb_build_object('section_id', s.id, 'name', s.name,
                                                                        'sold', n, 'checked_in', m)
                                                     ORDER BY s.name), '[]')
                             FROM (SELECT section_id, count(*) AS n, count(checkin_id) AS m FROM t
                                    WHERE section_id IS NOT NULL GROUP BY section_id) g
                             JOIN evently.venue_sections s ON s.id = g.section_id),
            'by_hour', (SELECT coalesce(jsonb_agg(jsonb_build_object('hour', h, 'checked_in', n) ORDER BY h), '[]')
                          FROM (SELECT date_trunc('hour', scanned_at) AS h, count(*) AS n FROM t
                                 WHERE checkin_id IS NOT NULL GROUP BY 1) g),
            'scans', (SELECT jsonb_build_object('total', coalesce(sum(n), 0),
                                                'by_result', coalesce(jsonb_object_agg(result, n), '{}'))
                        FROM (SELECT l.result, count(*) AS n FROM evently.scan_log l
                               WHERE l.event_id = checkin_stats.event_id GROUP BY l.result) g)));
END
$$;

-- GET /checkin/event/:id
CREATE OR REPLACE FUNCTION evently.api_checkin_stats(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.checkin_stats(evently._uuid_arg(req->'path'->>'id', 'id'), actor);
END
$$;

-- evently.offline_package(event_id uuid, after xid8, actor_id uuid)
-- RETURNS jsonb: what an offline scanner downloads, for the event's
-- organizer, STAFF or an ADMIN: {event_id, algorithm: "Ed25519",
-- code_format: 1, public_key (base64url, no padding), doors_open_at,
-- ends_at, revocations [{ticket_id, version, reason, revoked_at}],
-- valid_at, watermark}.  A code verifies with the public key alone
-- (README, "Ticket codes"); a verified code whose (ticket_id, version) is
-- listed lets nobody in.  after: the watermark of an earlier download; only
-- the revocations of transactions that had not ended by then.  The
-- watermark is the oldest transaction still running (pg_snapshot_xmin):
-- every one before it had committed or failed, so none can add a
-- revocation the next download would miss; a time could not say that.
CREATE OR REPLACE FUNCTION evently.offline_package(event_id uuid, after xid8 DEFAULT NULL,
                                                   actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    actor_id := evently._as_caller(actor_id);
    PERFORM evently._scanned_event(actor_id, event_id);
    -- nothing sold yet: the key its tickets will be signed with
    PERFORM evently._new_event_key(offline_package.event_id);
    RETURN (
        SELECT jsonb_build_object(
            'event_id', e.id, 'algorithm', 'Ed25519', 'code_format', 1,
            'public_key', evently._public_key_text(k.public_key),
            'doors_open_at', e.date_time - make_interval(mins => e.doors_open_minutes), 'ends_at', e.end_time,
            'revocations', coalesce((
                SELECT jsonb_agg(jsonb_build_object('ticket_id', r.ticket_id, 'version', r.version,
                                                    'reason', r.reason, 'revoked_at', r.revoked_at)
                                 ORDER BY r.revoked_at, r.ticket_id, r.version)
                  FROM evently.ticket_revocations r
                 WHERE r.event_id = e.id AND (after IS NULL OR r.revoked_by_xact >= after)), '[]'),
            'valid_at', now(),
            'watermark', pg_snapshot_xmin(pg_current_snapshot())::text)
          FROM evently.events e JOIN evently.event_keys k ON k.event_id = e.id
         WHERE e.id = offline_package.event_id);
END
$$;

-- GET /checkin/event/:id/offline ?after=<watermark of an earlier download>
CREATE OR REPLACE FUNCTION evently.api_checkin_offline(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    after text := req->'query'->>'after';
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(after IS NULL OR after ~ '^[0-9]{1,19}$', 'INVALID_ARGUMENT', 'invalid after',
        'after is the watermark of an earlier download, as it gave it.');
    RETURN evently.offline_package(evently._uuid_arg(req->'path'->>'id', 'id'), after::xid8, actor);
END
$$;

-- Checks one uploaded scan's fields ({code, scanned_at, gate?, nonce});
-- INVALID_ARGUMENT naming the scan's position otherwise.  A scan more than
-- five minutes in the future is a device clock gone wrong.
CREATE OR REPLACE FUNCTION evently._require_offline_scan(scan jsonb, pos int) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require(jsonb_typeof(scan) = 'object' AND jsonb_typeof(scan->'code') = 'string'
                             AND jsonb_typeof(scan->'nonce') = 'string' AND jsonb_typeof(scan->'scanned_at') = 'string'
                             AND coalesce(jsonb_typeof(scan->'gate'), 'string') = 'string'
                             AND length(scan->>'code') <= 1000 AND length(scan->>'nonce') BETWEEN 1 AND 100,
        'INVALID_ARGUMENT', 'invalid scan', format('Scan %s: {"code", "scanned_at", "gate"?, "nonce"} with '
                                                   'a code of at most 1000 and a nonce of 1 to 100 characters.', pos));
    PERFORM evently._only_fields(scan, 'code', 'scanned_at', 'gate', 'nonce');
    PERFORM evently._require_scanner_names(scan->>'gate', NULL);
    PERFORM evently._require(evently._time_field(scan, 'scanned_at') <= now() + interval '5 minutes',
        'INVALID_ARGUMENT', 'scan is in the future', format('Scan %s was made at %s, after now.', pos,
                                                            scan->>'scanned_at'));
END
$$;

-- The event one uploaded scan is for: the upload's, or else the one its
-- code names and whose key signed it (NULL: none).
CREATE OR REPLACE FUNCTION evently._event_of_scan(code text, upload_event uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT coalesce(upload_event, (SELECT c.event_id FROM evently._read_ticket_code(code) c WHERE c.signature_ok),
                    (SELECT t.event_id FROM evently.tickets t WHERE code ~ '^[0-9A-Fa-f]{16}$'
                                                                AND t.legacy_code = upper(code)))
$$;

-- An uploaded scan of an event its uploader does not scan for: WRONG_EVENT,
-- logged under no event, so that it takes no nonce of that event's devices.
CREATE OR REPLACE FUNCTION evently._log_foreign_scan(p_device text, scan jsonb, p_actor uuid) RETURNS jsonb
LANGUAGE sql AS $$
    INSERT INTO evently.scan_log (event_id, result, device_id, nonce, scanned_at, actor_id, gate)
    VALUES (NULL, 'WRONG_EVENT', p_device, scan->>'nonce', (scan->>'scanned_at')::timestamptz, p_actor, scan->>'gate')
    ON CONFLICT (event_id, device_id, nonce) WHERE nonce IS NOT NULL DO NOTHING;
    SELECT evently._scan_result('WRONG_EVENT', NULL, NULL, false, 'the device does not scan for this ticket''s event');
$$;

-- The tickets a batch names, locked in id order before any is decided:
-- two devices uploading overlapping batches in different orders then
-- queue instead of deadlocking.  Codes that name no ticket lock nothing.
CREATE OR REPLACE FUNCTION evently._lock_batch_tickets(scans jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM evently.tickets t
     WHERE t.id IN (SELECT c.ticket_id FROM jsonb_array_elements(scans) s,
                                           evently._read_ticket_code(s->>'code') c
                     WHERE c.signature_ok)
        OR t.legacy_code IN (SELECT upper(s->>'code') FROM jsonb_array_elements(scans) s
                              WHERE s->>'code' ~ '^[0-9A-Fa-f]{16}$')
     ORDER BY t.id FOR UPDATE OF t;
END
$$;

-- evently.sync_scans(device_id text, scans jsonb, event_id uuid, actor_id
-- uuid) RETURNS jsonb {device_id, results [{nonce, replayed, result, ...}],
-- counts {outcome: n}}: an offline scanner's batch (1 to 1000 scans, each
-- {code, scanned_at, gate?, nonce}), decided in order as online scans made
-- at scanned_at.  Idempotent by (device_id, nonce): a scan uploaded before
-- answers as it did then, "replayed": true.  A ticket let in by another
-- device (or online) is ALREADY_CHECKED_IN with "conflict": true, counted
-- once.  event_id (optional): the event the device scans for; without it
-- each code's own event, and the actor must scan for some event
-- (FORBIDDEN otherwise).  A scan for an event the actor does not scan for
-- is WRONG_EVENT.  INVALID_ARGUMENT for a malformed batch (nothing kept).
CREATE OR REPLACE FUNCTION evently.sync_scans(device_id text, scans jsonb, event_id uuid DEFAULT NULL,
                                              actor_id uuid DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
    scan jsonb;
    pos int;
    scan_event uuid;
    result jsonb;
    results jsonb := '[]';
BEGIN
    actor_id := evently._as_caller(actor_id);
    IF event_id IS NOT NULL THEN
        PERFORM evently._scanned_event(actor_id, event_id);
    ELSE
        -- only a scanner uploads scans: an ADMIN, an organizer, some event's staff
        PERFORM evently._require(evently._user_role(actor_id) IN ('ADMIN', 'ORGANIZER')
                                 OR EXISTS (SELECT 1 FROM evently.event_staff s WHERE s.user_id = actor_id),
            'FORBIDDEN', 'not a scanner', format('User %s scans for no event.', actor_id));
    END IF;
    PERFORM evently._require(device_id IS NOT NULL, 'INVALID_ARGUMENT', 'device_id is required',
        'An offline batch names the device that scanned it.');
    PERFORM evently._require_scanner_names(NULL, device_id);
    PERFORM evently._require(jsonb_typeof(scans) = 'array' AND jsonb_array_length(scans) BETWEEN 1 AND 1000,
        'INVALID_ARGUMENT', 'invalid scans', 'scans is an array of 1 to 1000 scans.');
    FOR scan, pos IN SELECT s, n FROM jsonb_array_elements(scans) WITH ORDINALITY a(s, n) LOOP
        PERFORM evently._require_offline_scan(scan, pos);
    END LOOP;
    PERFORM evently._lock_batch_tickets(scans);
    FOR scan IN SELECT s FROM jsonb_array_elements(scans) s LOOP
        scan_event := evently._event_of_scan(scan->>'code', event_id);
        IF scan_event IS NOT NULL AND NOT evently._scans_event(actor_id, scan_event) THEN
            -- kept under no event: it must not take a nonce of that event's devices
            result := coalesce(evently._stored_scan(NULL, device_id, scan->>'nonce'),
                               evently._log_foreign_scan(device_id, scan, actor_id));
        ELSE
            result := evently._stored_scan(scan_event, device_id, scan->>'nonce');
            IF result IS NULL THEN
                result := evently._scan(scan->>'code', scan_event, scan->>'gate', device_id, actor_id,
                                        (scan->>'scanned_at')::timestamptz, 'OFFLINE', scan->>'nonce');
            END IF;
        END IF;
        IF NOT result ? 'replayed' THEN
            result := result || '{"replayed": false}';
        END IF;
        results := results || jsonb_build_array(jsonb_build_object('nonce', scan->>'nonce') || result);
    END LOOP;
    RETURN jsonb_build_object('device_id', device_id, 'results', results,
        'counts', (SELECT coalesce(jsonb_object_agg(r, n), '{}')
                     FROM (SELECT x->>'result' AS r, count(*) AS n FROM jsonb_array_elements(results) x
                            GROUP BY 1) g));
END
$$;

-- POST /checkin/sync {"device_id", "event_id"?, "scans": [...]}
CREATE OR REPLACE FUNCTION evently.api_checkin_sync(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._only_fields(b, 'device_id', 'event_id', 'scans');
    PERFORM evently._require(jsonb_typeof(b->'device_id') = 'string', 'INVALID_ARGUMENT', 'device_id is required',
        'An offline batch names the device that scanned it.');
    RETURN evently.sync_scans(b->>'device_id', b->'scans', evently._uuid_arg(b->>'event_id', 'event_id'), actor);
END
$$;
