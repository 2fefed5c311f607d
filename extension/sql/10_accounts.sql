-- 10_accounts.sql: users, passwords and sessions (refresh tokens); the
-- /auth routes.

-- Password hashing goes through pgcrypto, wherever it was installed.  The
-- wrappers pin its schema at install time so no caller's search_path matters.
DO $install$
DECLARE
    crypto_schema text;
BEGIN
    SELECT n.nspname INTO crypto_schema
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION evently._bcrypt_hash(password text) RETURNS text
        LANGUAGE sql VOLATILE STRICT
        RETURN %1$I.crypt(password, %1$I.gen_salt('bf', 10))$f$, crypto_schema);
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION evently._bcrypt_check(password text, hash text) RETURNS boolean
        LANGUAGE sql STABLE STRICT
        RETURN %1$I.crypt(password, hash) = hash$f$, crypto_schema);
END
$install$;

CREATE OR REPLACE FUNCTION evently.create_user(email text, password text, first_name text,
                                    last_name text, role text DEFAULT 'USER')
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
BEGIN
    PERFORM evently._require(email IS NOT NULL AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'
                             AND length(email) <= 254,
        'INVALID_ARGUMENT', 'invalid e-mail address', format('E-mail %L is not an address.', email));
    PERFORM evently._require(password IS NOT NULL AND length(password) >= 6
                             AND octet_length(password) <= 72,
        'INVALID_ARGUMENT', 'invalid password', 'A password has 6 to 72 bytes.');
    PERFORM evently._require(length(btrim(first_name)) BETWEEN 1 AND 100
                             AND length(btrim(last_name)) BETWEEN 1 AND 100,
        'INVALID_ARGUMENT', 'invalid name', 'First and last name have 1 to 100 characters.');
    PERFORM evently._require(upper(role) IN ('USER', 'ORGANIZER', 'ADMIN'),
        'INVALID_ARGUMENT', 'invalid role', format('Role %L is not USER, ORGANIZER or ADMIN.', role));
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.users u
                                          WHERE lower(u.email) = lower(create_user.email)),
        'ALREADY_EXISTS', 'user already exists', format('A user with e-mail %L exists.', email));
    INSERT INTO evently.users (email, password_hash, first_name, last_name, role)
    VALUES (email, evently._bcrypt_hash(password), btrim(first_name), btrim(last_name),
            upper(role))
    RETURNING id INTO new_id;
    PERFORM evently._audit('user.created', 'user', new_id, jsonb_build_object('role', upper(role)));
    RETURN new_id;
END
$$;

-- Returns the user's id when the password matches, NULL otherwise.
CREATE OR REPLACE FUNCTION evently.check_password(email text, password text) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT u.id FROM evently.users u
     WHERE lower(u.email) = lower(check_password.email) AND u.status = 'ACTIVE'
       AND evently._bcrypt_check(password, u.password_hash)
$$;

CREATE OR REPLACE FUNCTION evently.user_json(p_user_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'first_name', u.first_name, 'last_name', u.last_name,
                              'email', u.email, 'role', u.role, 'created_at', u.created_at,
                              'updated_at', u.updated_at)
      FROM evently.users u WHERE u.id = p_user_id
$$;

-- A new refresh-token row, and what the shim needs to sign the tokens.
CREATE OR REPLACE FUNCTION evently._open_session(p_user_id uuid) RETURNS jsonb
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

-- POST /auth/register: anyone may register, nobody as ADMIN.
CREATE OR REPLACE FUNCTION evently.api_register(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    wanted_role text := upper(coalesce(b->>'role', 'USER'));
    new_id uuid;
BEGIN
    PERFORM evently._require(wanted_role <> 'ADMIN', 'FORBIDDEN', 'cannot register as ADMIN',
        'An ADMIN creates ADMIN accounts with evently.create_user().');
    PERFORM evently._require(length(b->>'first_name') >= 2 AND length(b->>'last_name') >= 2,
        'INVALID_ARGUMENT', 'invalid name', 'First and last name have 2 to 100 characters.');
    new_id := evently.create_user(b->>'email', b->>'password', b->>'first_name', b->>'last_name',
                                  CASE wanted_role WHEN 'ORGANIZER' THEN 'ORGANIZER' ELSE 'USER' END);
    RETURN jsonb_build_object('user', evently.user_json(new_id),
                              'session', evently._open_session(new_id));
END
$$;

-- POST /auth/login
CREATE OR REPLACE FUNCTION evently.api_login(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    user_id uuid := evently.check_password(req->'body'->>'email', req->'body'->>'password');
BEGIN
    PERFORM evently._require(user_id IS NOT NULL, 'UNAUTHENTICATED', 'Invalid email or password',
        'No active user has this e-mail and password.');
    PERFORM evently._audit('user.login', 'user', user_id, '{}', user_id);
    RETURN jsonb_build_object('user', evently.user_json(user_id),
                              'session', evently._open_session(user_id));
END
$$;

-- POST /auth/refresh: the shim verified the token; here it rotates.  A
-- refresh token used twice means it was stolen: every session of the user ends.
CREATE OR REPLACE FUNCTION evently.api_refresh(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    old record;
    next_session jsonb;
BEGIN
    SELECT * INTO old FROM evently.refresh_tokens
     WHERE jti = evently._uuid_arg(req->>'jti', 'jti') FOR UPDATE;
    PERFORM evently._require(FOUND AND old.expires_at > now(), 'UNAUTHENTICATED',
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
CREATE OR REPLACE FUNCTION evently.api_logout(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql AS $$
    UPDATE evently.refresh_tokens SET revoked_at = coalesce(revoked_at, now())
     WHERE jti = evently._uuid_arg(req->>'jti', 'jti');
    SELECT NULL::jsonb;
$$;

-- GET /auth/me
CREATE OR REPLACE FUNCTION evently.api_me(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM evently._require_actor(actor);
    RETURN evently.user_json(actor);
END
$$;

-- PUT /auth/change-password: also ends every session.
CREATE OR REPLACE FUNCTION evently.api_change_password(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
BEGIN
    PERFORM evently._require_actor(actor);
    PERFORM evently._require(evently.check_password((SELECT email FROM evently.users WHERE id = actor),
                                                    b->>'current_password') = actor,
        'UNAUTHENTICATED', 'Current password is incorrect', 'The current password does not match.');
    PERFORM evently._require(length(b->>'new_password') >= 6 AND octet_length(b->>'new_password') <= 72,
        'INVALID_ARGUMENT', 'invalid password', 'A password has 6 to 72 bytes.');
    UPDATE evently.users SET password_hash = evently._bcrypt_hash(b->>'new_password'), updated_at = now()
     WHERE id = actor;
    UPDATE evently.refresh_tokens SET revoked_at = now() WHERE user_id = actor AND revoked_at IS NULL;
    PERFORM evently._audit('user.password_changed', 'user', actor, '{}', actor);
    RETURN NULL;
END
$$;
