-- 01_errors_and_audit.sql: the helpers every other file uses: raising the
-- extension's errors by name (extension/error_codes.def), recording a state
-- change (outbox + audit row), the per-event queue lock.

-- A booking's JSON (or any change's data) without the ticket codes of its
-- seats and tickets: signed credentials since 1.1, for their holders only.
-- What outbox and audit rows keep (Kafka's readers and the audit log's are
-- not the holders), and what ADMINs and organizers see of others' bookings.
-- (extension/outbox.c: in C, so that recording a booking runs no statement
-- for it.)  NULL is {}; an object with seats or tickets has them as arrays
-- whose elements lack ticket_code (a non-array is []); anything else is
-- returned as it is.
CREATE OR REPLACE FUNCTION evently._without_codes(data jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'evently_without_codes' LANGUAGE C IMMUTABLE;

-- Record one state change: its outbox row and its audit row, together
-- (extension/outbox.c; the C engine uses the same statement).
CREATE OR REPLACE FUNCTION evently._emit(p_type text, p_event_id uuid, p_user_id uuid,
                              p_object_type text, p_object_id uuid, p_data jsonb,
                              p_actor uuid)
RETURNS void AS 'MODULE_PATHNAME', 'evently_emit' LANGUAGE C;

-- Record an administrative change that is not a domain event: audit row only.
CREATE OR REPLACE FUNCTION evently._audit(p_action text, p_object_type text, p_object_id uuid,
                               p_details jsonb DEFAULT '{}', p_actor uuid DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO evently.audit_log (actor_id, action, object_type, object_id, details)
    VALUES (p_actor, p_action, p_object_type, p_object_id, coalesce(p_details, '{}'));
$$;

-- Raise one of the extension's errors by its name in error_codes.def
-- ('NOT_FOUND', 'INVALID_ARGUMENT', ...), as the C code does with ereport:
-- evently._fail always raises, evently._require raises unless p_ok is true.
-- An unknown name is an internal error (XX000): a bug in our own SQL.
CREATE OR REPLACE FUNCTION evently._fail(p_error text, p_message text, p_detail text DEFAULT NULL,
                                         p_hint text DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'evently_fail' LANGUAGE C;

CREATE OR REPLACE FUNCTION evently._require(p_ok boolean, p_error text, p_message text,
                                            p_detail text DEFAULT NULL, p_hint text DEFAULT NULL)
RETURNS void AS 'MODULE_PATHNAME', 'evently_require' LANGUAGE C;

-- A looked-up object, or NOT_FOUND naming what was not found.
CREATE OR REPLACE FUNCTION evently._found(doc jsonb, what text, id text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', what || ' not found', format('No %s has id %s.', what, id));
    RETURN doc;
END
$$;

CREATE OR REPLACE FUNCTION evently._user_role(p_user_id uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT role FROM evently.users WHERE id = p_user_id
$$;

-- Take the per-event queue lock (advisory key space documented in README).
CREATE OR REPLACE FUNCTION evently._lock_event_queue(event_id uuid) RETURNS void
AS 'MODULE_PATHNAME', 'evently_lock_event_queue' LANGUAGE C STRICT;

CREATE OR REPLACE FUNCTION evently.error_codes()
RETURNS TABLE (sqlstate text, name text, http_status int)
AS 'MODULE_PATHNAME', 'evently_error_codes' LANGUAGE C STRICT;

COMMENT ON FUNCTION evently.error_codes() IS
    'The extension''s own SQLSTATEs (class EV), their names and HTTP statuses';
