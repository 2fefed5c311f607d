/*
 * sessions.c: register, login, refresh and logout.  The SQL side checks the
 * password and opens (or rotates, or revokes) the session -- a row of
 * evently.refresh_tokens named by the refresh token's jti -- and the shim
 * signs the tokens, since the signing secret never enters the database.
 */
#include "shim.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sign the access and refresh tokens of a session the SQL side opened. */
static bool
add_tokens(json_t *data, json_t *session)
{
	const char *user_id = json_string_value(json_object_get(session, "user_id"));
	const char *email = json_string_value(json_object_get(session, "email"));
	const char *role = json_string_value(json_object_get(session, "role"));
	const char *jti = json_string_value(json_object_get(session, "jti"));
	json_t	   *epoch = json_object_get(session, "epoch");
	char	   *access,
			   *refresh;

	if (!user_id || !email || !role || !jti || !json_is_integer(epoch))
		return false;
	access = token_issue(user_id, email, role, "access", NULL, (long) json_integer_value(epoch),
						 ACCESS_TOKEN_SECONDS);
	refresh = token_issue(user_id, email, role, "refresh", jti, (long) json_integer_value(epoch),
						  REFRESH_TOKEN_SECONDS);
	if (access && refresh)
	{
		json_object_set_new(data, "access_token", json_string(access));
		json_object_set_new(data, "refresh_token", json_string(refresh));
		json_object_set_new(data, "expires_in", json_integer(ACCESS_TOKEN_SECONDS));
	}
	free(access);
	free(refresh);
	return access && refresh;
}

/*
 * The SQL side refused to open a session without raising, so that what it
 * recorded commits (a failed login counts; a reused refresh token revokes
 * them all): {"error": text, "retry_after": seconds when throttled}.
 */
static Reply
refused_session(json_t *error, json_t *retry_after)
{
	const char *message = json_is_string(error) ? json_string_value(error) : "Invalid or expired refresh token";
	Reply		reply;

	if (!json_is_integer(retry_after))
		return reply_error(401, "UNAUTHENTICATED", message, NULL, NULL);
	reply = reply_error(429, "TOO_MANY_ATTEMPTS", message, "wait before trying this account again",
						json_pack("{s:I}", "retry_after", json_integer_value(retry_after)));
	reply.rate.retry_after = (int) json_integer_value(retry_after);
	return reply;
}

/* register, login, refresh: the SQL opens a session, the shim signs its tokens. */
Reply
session_route(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call);
	json_t	   *result,
			   *data;
	Reply		reply;

	if (!r.ok)
	{
		reply = reply_from_sql(&r, route->success_status, route->message);
		sql_result_free(&r);
		return reply;
	}
	result = json_loads(r.value ? r.value : "null", JSON_DECODE_ANY, NULL);
	sql_result_free(&r);
	if (json_object_get(result, "session") == NULL)
	{
		reply = refused_session(json_object_get(result, "error"), json_object_get(result, "retry_after"));
		json_decref(result);
		return reply;
	}
	data = json_object();
	if (json_object_get(result, "user"))
		json_object_set(data, "user", json_object_get(result, "user"));
	if (!add_tokens(data, json_object_get(result, "session")))
		reply = reply_error(500, "INTERNAL", "could not sign tokens", NULL, NULL);
	else
		reply = reply_success(route->success_status, route->message, json_incref(data));
	json_decref(data);
	json_decref(result);
	return reply;
}

/* The jti of a valid refresh token from the body, or NULL. */
static const char *
refresh_jti(Call *call, Claims *claims)
{
	json_t	   *token = json_object_get(json_object_get(call->req, "body"), "refresh_token");
	const char *why;

	if (!json_is_string(token) || !token_verify(json_string_value(token), "refresh", claims, &why))
		return NULL;
	return claims->jti[0] ? claims->jti : NULL;
}

Reply
refresh_route(const Route *route, Call *call)
{
	Claims		claims;
	const char *jti = refresh_jti(call, &claims);

	if (jti == NULL)
		return reply_error(401, "UNAUTHENTICATED", "Invalid or expired refresh token", NULL, NULL);
	json_object_set_new(call->req, "jti", json_string(jti));
	return session_route(route, call);
}

/*
 * Logging out ends every session of the user: the one named by a valid
 * refresh token in the body, else the signed-in user of a valid access
 * token; with neither there is nothing to end.
 */
Reply
logout_route(const Route *route, Call *call)
{
	const char *authorization = call->authorization;
	Claims		claims;
	const char *jti = refresh_jti(call, &claims);
	const char *why;

	if (jti)
		json_object_set_new(call->req, "jti", json_string(jti));
	else if (authorization && strncmp(authorization, "Bearer ", 7) == 0 &&
			 token_verify(authorization + 7, "access", &claims, &why))
	{
		call->actor = claims.user_id;
		json_object_set_new(call->req, "session", json_pack("{s:I}", "epoch", (json_int_t) claims.epoch));
	}
	else
		return reply_success(route->success_status, route->message, NULL);
	return sql_route(route, call);
}

/*
 * bcrypt is ~70 ms of a core by design: at most PASSWORD_SLOTS requests do
 * it at once (login, register, a new password), so a flood of them keeps
 * the other pool connections, and the routes they serve, free.  A request
 * that finds every slot taken is told at once to retry (503, Retry-After:
 * 1): waiting would hold one of the few HTTP worker threads, and a flood
 * of waiting sign-ins would hold them all.
 */
static sem_t password_slots;
static pthread_once_t password_slots_once = PTHREAD_ONCE_INIT;

static void
password_slots_init(void)
{
	sem_init(&password_slots, 0, (unsigned int) config.password_slots);
}

static Reply
with_password_slot(Handler handler, const Route *route, Call *call)
{
	Reply		reply;

	pthread_once(&password_slots_once, password_slots_init);
	if (sem_trywait(&password_slots) != 0)
	{
		reply = reply_error(503, "BUSY", "too many sign-ins at once, retry", NULL, NULL);
		reply.rate.retry_after = 1;
		return reply;
	}
	reply = handler(route, call);
	sem_post(&password_slots);
	return reply;
}

/* register and login: a session, under a password slot */
Reply
password_session_route(const Route *route, Call *call)
{
	return with_password_slot(session_route, route, call);
}

/*
 * change-password: NULL when changed; a wrong current password comes back
 * as {error} or {error, retry_after} (throttled like a login), answered 401
 * or 429 as a refused login is.
 */
static Reply
password_change(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call);
	json_t	   *result;
	Reply		reply;

	if (!r.ok || r.value == NULL)
	{
		reply = reply_from_sql(&r, route->success_status, route->message);
		sql_result_free(&r);
		return reply;
	}
	result = json_loads(r.value, JSON_DECODE_ANY, NULL);
	sql_result_free(&r);
	reply = refused_session(json_object_get(result, "error"), json_object_get(result, "retry_after"));
	json_decref(result);
	return reply;
}

/* change-password, under a password slot */
Reply
password_change_route(const Route *route, Call *call)
{
	return with_password_slot(password_change, route, call);
}
