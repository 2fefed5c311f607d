/*
 * sessions.c: register, login, refresh and logout.  The SQL side checks the
 * password and opens (or rotates, or revokes) the session -- a row of
 * evently.refresh_tokens named by the refresh token's jti -- and the shim
 * signs the tokens, since the signing secret never enters the database.
 */
#include "shim.h"

#include <stdlib.h>

/* Sign the access and refresh tokens of a session the SQL side opened. */
static bool
add_tokens(json_t *data, json_t *session)
{
	const char *user_id = json_string_value(json_object_get(session, "user_id"));
	const char *email = json_string_value(json_object_get(session, "email"));
	const char *role = json_string_value(json_object_get(session, "role"));
	const char *jti = json_string_value(json_object_get(session, "jti"));
	char	   *access,
			   *refresh;

	if (!user_id || !email || !role || !jti)
		return false;
	access = token_issue(user_id, email, role, "access", NULL, ACCESS_TOKEN_SECONDS);
	refresh = token_issue(user_id, email, role, "refresh", jti, REFRESH_TOKEN_SECONDS);
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
		json_decref(result);
		return reply_error(401, "UNAUTHENTICATED", "Invalid or expired refresh token", NULL, NULL);
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

/* Logging out revokes the refresh token, when a valid one is sent. */
Reply
logout_route(const Route *route, Call *call)
{
	Claims		claims;
	const char *jti = refresh_jti(call, &claims);

	if (jti)
	{
		json_object_set_new(call->req, "jti", json_string(jti));
		return sql_route(route, call);
	}
	return reply_success(route->success_status, route->message, NULL);
}
