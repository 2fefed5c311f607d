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
    -- the gateway (registration) or a linked ADMIN
    PERFORM evently._staff(NULL);
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
    -- the unique index decides, so two registrations racing for one e-mail
    -- get one account and one ALREADY_EXISTS
    BEGIN
        INSERT INTO evently.users (email, password_hash, first_name, last_name, role)
        VALUES (email, evently._bcrypt_hash(password), btrim(first_name), btrim(last_name),
                upper(role))
        RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        PERFORM evently._fail('ALREADY_EXISTS', 'user already exists', format('A user with e-mail %L exists.', email));
    END;
    PERFORM evently._audit('user.created', 'user', new_id, jsonb_build_object('role', upper(role)));
    RETURN new_id;
END
$$;

-- evently._password_owner(email, password) RETURNS uuid: the id of the
-- account the e-mail names when the password is its own, whatever the
-- account's status (a banned account included), NULL otherwise.  An unknown
-- e-mail costs the same bcrypt work as a wrong password (against a hash of
-- nothing anyone knows), so the time of an answer does not tell which
-- accounts exist.  Internal.
CREATE OR REPLACE FUNCTION evently._password_owner(email text, password text) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u record;
    matches boolean;
BEGIN
    SELECT id, password_hash INTO u FROM evently.users
     WHERE lower(users.email) = lower(_password_owner.email);
    matches := evently._bcrypt_check(coalesce(password, ''),
        coalesce(u.password_hash, '$2a$10$eMkRyhVRayxZUlPkJYDm4OfHeE91SCMZ6c4Xlfsja.BVIg/x2sUOm'));
    RETURN CASE WHEN matches AND u.id IS NOT NULL THEN u.id END;
END
$$;

-- evently.check_password(email, password) RETURNS uuid: the user's id when
-- the password matches an ACTIVE user's, NULL otherwise (the same bcrypt
-- work whatever the answer: _password_owner).  Internal: only the owner
-- calls it (a linked role could otherwise guess passwords at database speed).
CREATE OR REPLACE FUNCTION evently.check_password(email text, password text) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE
    who uuid := evently._password_owner(email, password);
BEGIN
    RETURN (SELECT u.id FROM evently.users u WHERE u.id = who AND u.status = 'ACTIVE');
END
$$;

-- Per-account login throttling, whatever the source address: after 5
-- failures in a row (an unknown e-mail counts like a known one), each
-- further attempt waits 1, 2, 4 ... seconds, at most 60, from the last
-- failure; 15 minutes without a failure forget them, a success clears them.
-- At most one guess a minute gets through, from any number of addresses.
-- The counts are kept per bucket (_login_bucket): an address the account
-- signed in from in the last 90 days has a bucket of its own, every other
-- address shares the account's '' bucket.  So an attacker, who cannot send
-- from the owner's address, keeps only himself waiting: the owner signs in
-- from home as ever.  A new device waits with the attacker (at most a
-- minute at a time), the price of not letting addresses multiply guesses.
-- A signed-in user changing the password has the bucket 'session'.
CREATE OR REPLACE FUNCTION evently._login_bucket(p_email text, p_address text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT s.address FROM evently.login_sources s
                      WHERE s.email = lower(p_email) AND s.address = p_address
                        AND s.last_login > now() - interval '90 days'), '')
$$;

-- Seconds the bucket must still wait, or 0.  The caller holds the bucket's
-- lock (_lock_login_bucket) until it has counted its attempt, so attempts
-- sent at once are judged one after the other: one guess per wait, however
-- many arrive together.
CREATE OR REPLACE FUNCTION evently._lock_login_bucket(p_email text, p_bucket text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(x'45560006'::int, hashtext(lower(p_email) || '/' || p_bucket))
$$;

CREATE OR REPLACE FUNCTION evently._login_wait(p_email text, p_bucket text) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT greatest(0, ceil(extract(epoch FROM blocked_until - now())))::int
                       FROM evently.login_failures
                      WHERE email = lower(p_email) AND source = p_bucket AND blocked_until > now()), 0)
$$;

CREATE OR REPLACE FUNCTION evently._login_failed(p_email text, p_bucket text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO evently.login_failures AS f (email, source, failures, last_failure)
    VALUES (lower(p_email), p_bucket, 1, now())
    ON CONFLICT (email, source) DO UPDATE
       SET failures = CASE WHEN f.last_failure < now() - interval '15 minutes' THEN 1 ELSE f.failures + 1 END,
           last_failure = now(),
           blocked_until = CASE WHEN f.last_failure >= now() - interval '15 minutes' AND f.failures + 1 >= 5
                                THEN now() + least(60, power(2, f.failures + 1 - 5)) * interval '1 second' END;
$$;

-- A success clears its bucket's count (not the others': the owner signing
-- in at home does not reset an attacker's wait) and remembers the address,
-- forgetting the account's addresses unused for 90 days.
CREATE OR REPLACE FUNCTION evently._login_succeeded(p_email text, p_bucket text, p_address text) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM evently.login_failures WHERE email = lower(p_email) AND source = p_bucket;
    DELETE FROM evently.login_sources WHERE email = lower(p_email) AND last_login < now() - interval '90 days';
    INSERT INTO evently.login_sources AS s (email, address) SELECT lower(p_email), p_address WHERE p_address IS NOT NULL
    ON CONFLICT (email, address) DO UPDATE SET last_login = now();
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
    -- epoch: the tokens are honoured while the user's session_epoch is this
    RETURN (SELECT jsonb_build_object('jti', new_jti, 'user_id', u.id, 'email', u.email, 'role', u.role,
                                      'epoch', u.session_epoch)
              FROM evently.users u WHERE u.id = p_user_id);
END
$$;

-- POST /auth/register: anyone may register, as a USER: nobody as ADMIN,
-- and an ORGANIZER is a verified applicant (POST /organizers).
CREATE OR REPLACE FUNCTION evently.api_register(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    wanted_role text := upper(coalesce(b->>'role', 'USER'));
    new_id uuid;
BEGIN
    PERFORM evently._require(wanted_role <> 'ADMIN', 'FORBIDDEN', 'cannot register as ADMIN',
        'An ADMIN creates ADMIN accounts with evently.create_user().');
    PERFORM evently._require(wanted_role <> 'ORGANIZER', 'FORBIDDEN', 'cannot register as ORGANIZER',
        'Register as a USER, then apply with POST /organizers; an ADMIN verifies the application.');
    PERFORM evently._require(length(b->>'first_name') >= 2 AND length(b->>'last_name') >= 2,
        'INVALID_ARGUMENT', 'invalid name', 'First and last name have 2 to 100 characters.');
    new_id := evently.create_user(b->>'email', b->>'password', b->>'first_name', b->>'last_name',
                                  'USER');
    -- where the owner registered from is an address of theirs
    PERFORM evently._login_succeeded(b->>'email', evently._login_bucket(b->>'email', req->>'client_address'),
                                     req->>'client_address');
    RETURN jsonb_build_object('user', evently.user_json(new_id),
                              'session', evently._open_session(new_id));
END
$$;

-- Raises ACCOUNT_BANNED, the ban's reason in its detail, when the user is
-- banned (bans: 12_moderation.sql); returns nothing otherwise.  api_login
-- calls it only once the password is proven.
CREATE OR REPLACE FUNCTION evently._refuse_banned(p_user_id uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u record;
BEGIN
    SELECT status, ban_reason INTO u FROM evently.users WHERE id = p_user_id;
    PERFORM evently._require(u.status IS DISTINCT FROM 'BANNED', 'ACCOUNT_BANNED', 'account is banned',
        CASE WHEN u.ban_reason IS NULL THEN 'This account was banned.'
             ELSE format('This account was banned: %s', u.ban_reason) END,
        'An administrator can lift the ban.');
END
$$;

-- Sign-ins write only what stays on the global primary of a sharded
-- evently (sessions, throttles, the audit log: SPEC section 13), so their
-- commit waits for no shard: with a shard down, users of the others still
-- sign in.  For the rest of the calling transaction; nothing on one database.
CREATE OR REPLACE FUNCTION evently._commit_locally() RETURNS void
LANGUAGE sql AS $$ SELECT set_config('synchronous_commit', 'local', true) $$;

-- POST /auth/login: {user, session}, or {error, retry_after} when the
-- account is throttled (see _login_failed) or the e-mail and password do not
-- match.  A failure is returned, not raised, so that counting it commits;
-- the shim answers 429 with Retry-After, or 401.  The right password of a
-- banned account raises ACCOUNT_BANNED (403, the ban's reason in the
-- detail): only someone who knows the password learns of the ban, and it is
-- no failed guess, so nothing is counted (the raise rolls back).
CREATE OR REPLACE FUNCTION evently.api_login(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    login_email text := req->'body'->>'email';
    bucket text := evently._login_bucket(login_email, req->>'client_address');
    wait int;
    user_id uuid;
BEGIN
    PERFORM evently._commit_locally();
    PERFORM evently._lock_login_bucket(login_email, bucket);
    wait := evently._login_wait(login_email, bucket);
    IF wait > 0 THEN
        RETURN jsonb_build_object('error', 'too many failed logins', 'retry_after', wait);
    END IF;
    user_id := evently._password_owner(login_email, req->'body'->>'password');
    IF user_id IS NULL THEN
        PERFORM evently._login_failed(login_email, bucket);
        RETURN jsonb_build_object('error', 'Invalid email or password');
    END IF;
    PERFORM evently._refuse_banned(user_id);
    PERFORM evently._login_succeeded(login_email, bucket, req->>'client_address');
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
    PERFORM evently._commit_locally();
    SELECT * INTO old FROM evently.refresh_tokens
     WHERE jti = evently._uuid_arg(req->>'jti', 'jti') FOR UPDATE;
    PERFORM evently._require(FOUND AND old.expires_at > now(), 'UNAUTHENTICATED',
        'Invalid or expired refresh token', 'The refresh token is unknown or expired.');
    -- a ban revoked the token: its use is no theft to report, just refused
    PERFORM evently._require(EXISTS (SELECT 1 FROM evently.users WHERE id = old.user_id AND status = 'ACTIVE'),
        'UNAUTHENTICATED', 'user not found', format('User %s does not exist or is banned.', old.user_id));
    IF old.revoked_at IS NOT NULL THEN
        UPDATE evently.refresh_tokens SET revoked_at = now()
         WHERE user_id = old.user_id AND revoked_at IS NULL;
        PERFORM evently._audit('user.refresh_reuse', 'user', old.user_id, '{}', old.user_id);
        -- commit the revocation: the error below must not roll it back
        RETURN jsonb_build_object('error', 'refresh token reused; all sessions revoked');
    END IF;
    next_session := evently._open_session(old.user_id);
    UPDATE evently.refresh_tokens SET revoked_at = now(), replaced_by = (next_session->>'jti')::uuid
     WHERE jti = old.jti;
    RETURN jsonb_build_object('session', next_session);
END
$$;

-- POST /auth/logout: ends every session of the user at once, access tokens
-- included (SPEC section 8): the user of the refresh token req->>'jti', else
-- the acting user of a live access token.
CREATE OR REPLACE FUNCTION evently.api_logout(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    ending uuid := (SELECT user_id FROM evently.refresh_tokens
                     WHERE jti = evently._uuid_arg(req->>'jti', 'jti'));
BEGIN
    IF ending IS NULL AND actor IS NOT NULL THEN
        ending := evently._actor(actor, req);
    END IF;
    UPDATE evently.users SET session_epoch = session_epoch + 1 WHERE id = ending;
    UPDATE evently.refresh_tokens SET revoked_at = now() WHERE user_id = ending AND revoked_at IS NULL;
    PERFORM evently._audit('user.logout', 'user', ending, '{}', ending) WHERE ending IS NOT NULL;
    RETURN NULL;
END
$$;

-- A new password, a ban, a role change: every session of the user ends
-- (the tokens' epoch no longer matches; refresh tokens are revoked).
CREATE OR REPLACE FUNCTION evently._end_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.session_epoch := OLD.session_epoch + 1;
    UPDATE evently.refresh_tokens SET revoked_at = now() WHERE user_id = NEW.id AND revoked_at IS NULL;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER sessions_end BEFORE UPDATE OF password_hash, role, status ON evently.users
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash OR OLD.role IS DISTINCT FROM NEW.role
                       OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION evently._end_sessions();

-- GET /auth/me
CREATE OR REPLACE FUNCTION evently.api_me(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._actor(actor, req);
    RETURN evently.user_json(actor);
END
$$;

-- PUT /auth/change-password: also ends every session.  NULL when changed;
-- a wrong current password is {error}, or {error, retry_after} while the
-- account is throttled: it counts as a failed login (_login_failed) and, as
-- for api_login, is returned rather than raised so that counting it commits
-- (a stolen access token is no way around the throttle).
CREATE OR REPLACE FUNCTION evently.api_change_password(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := req->'body';
    account text;
    wait int;
BEGIN
    actor := evently._actor(actor, req);
    PERFORM evently._require(length(b->>'new_password') >= 6 AND octet_length(b->>'new_password') <= 72,
        'INVALID_ARGUMENT', 'invalid password', 'A password has 6 to 72 bytes.');
    account := (SELECT email FROM evently.users WHERE id = actor);
    PERFORM evently._lock_login_bucket(account, 'session');
    wait := evently._login_wait(account, 'session');
    IF wait > 0 THEN
        RETURN jsonb_build_object('error', 'too many failed attempts', 'retry_after', wait);
    END IF;
    IF evently.check_password(account, b->>'current_password') IS DISTINCT FROM actor THEN
        PERFORM evently._login_failed(account, 'session');
        RETURN jsonb_build_object('error', 'Current password is incorrect');
    END IF;
    PERFORM evently._login_succeeded(account, 'session', NULL);
    UPDATE evently.users SET password_hash = evently._bcrypt_hash(b->>'new_password'), updated_at = now()
     WHERE id = actor;
    UPDATE evently.refresh_tokens SET revoked_at = now() WHERE user_id = actor AND revoked_at IS NULL;
    PERFORM evently._audit('user.password_changed', 'user', actor, '{}', actor);
    RETURN NULL;
END
$$;
