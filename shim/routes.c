/*
 * routes.c: the route table.  One row per route: method, path pattern, and
 * the one SQL call that serves it.  A static segment beats a parameter at the
 * same place (/events/upcoming over /events/:eventId); a parameter whose
 * name ends in "Id" or is "id" must be a uuid before any SQL sees it.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum AuthRule
{
	AUTH_PUBLIC,				/* no token needed */
	AUTH_USER,					/* any valid access token */
	AUTH_ADMIN					/* an access token with role ADMIN */
} AuthRule;

typedef struct Route Route;

/* One call: the acting user (NULL on public routes) and the request as JSON. */
typedef struct Call
{
	const char *actor;
	json_t	   *req;			/* {"path":{…}, "query":{…}, "body":{…}, "idempotency_key":…} */
} Call;

typedef Reply (*Handler) (const Route *route, Call *call);

struct Route
{
	const char *method;
	const char *pattern;
	AuthRule	auth;
	Handler		handler;
	const char *name;			/* prepared statement name: the SQL function */
	const char *sql;
	int			success_status;
	const char *message;
	const Field *body;			/* declared body fields, NULL-terminated; NULL: no body */
};

static Reply ping(const Route *route, Call *call);
static Reply status(const Route *route, Call *call);
static Reply health(const Route *route, Call *call);
static Reply sql_route(const Route *route, Call *call);
static Reply session_route(const Route *route, Call *call);
static Reply refresh_route(const Route *route, Call *call);
static Reply metrics(const Route *route, Call *call);
static Reply root(const Route *route, Call *call);
static Reply openapi(const Route *route, Call *call);
static Reply docs(const Route *route, Call *call);
static Reply docs_asset(const Route *route, Call *call);
static Reply logout_route(const Route *route, Call *call);

/* a route served by evently.<fn>(actor uuid, req jsonb) */
#define API(fn) #fn, "SELECT evently." #fn "($1::uuid, $2::jsonb)"

static const Field register_body[] = {
	{"first_name", FIELD_STRING, true, 2, 100}, {"last_name", FIELD_STRING, true, 2, 100},
	{"email", FIELD_STRING, true, 3, 254}, {"password", FIELD_STRING, true, 6, 72},
	{"role", FIELD_STRING, false, 0, 20}, {NULL}};
static const Field login_body[] = {
	{"email", FIELD_STRING, true, 3, 254}, {"password", FIELD_STRING, true, 6, 72}, {NULL}};
static const Field refresh_body[] = {{"refresh_token", FIELD_STRING, true, 1, 4096}, {NULL}};
static const Field logout_body[] = {{"refresh_token", FIELD_STRING, false, 1, 4096}, {NULL}};
static const Field password_body[] = {
	{"current_password", FIELD_STRING, true, 1, 72}, {"new_password", FIELD_STRING, true, 6, 72}, {NULL}};
static const Field hold_body[] = {
	{"event_id", FIELD_UUID, true}, {"seat_ids", FIELD_UUID_ARRAY, true, 1, 100}, {NULL}};
static const Field confirm_body[] = {
	{"hold_id", FIELD_UUID, true}, {"event_id", FIELD_UUID, true},
	{"payment_method", FIELD_STRING, true, 1, 50}, {"idempotency_key", FIELD_STRING, false, 1, 255},
	{NULL}};
static const Field waitlist_body[] = {
	{"event_id", FIELD_UUID, true}, {"quantity", FIELD_INT, false, 1, 10},
	{"preferences", FIELD_OBJECT, false}, {NULL}};
static const Field policy_body[] = {
	{"allow_cancellation", FIELD_BOOL, true}, {"cancellation_deadline", FIELD_STRING, true, 10, 40},
	{"fee_type", FIELD_STRING, true, 4, 10}, {"fee_amount", FIELD_NUMBER, false, 0, 1e9},
	{"refund_processing_days", FIELD_INT, false, 1, 30}, {NULL}};
static const Field event_create_body[] = {
	{"name", FIELD_STRING, true, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, true, 3, 255}, {"venue_template_id", FIELD_UUID, true},
	{"date_time", FIELD_STRING, true, 10, 40}, {"base_price", FIELD_NUMBER, true, 0, 1e9},
	{"image_url", FIELD_STRING, false, 0, 500}, {"tags", FIELD_STRING_ARRAY, false, 0, 50},
	{"section_pricing", FIELD_ARRAY, true, 1, 200}, {NULL}};
static const Field event_update_body[] = {
	{"name", FIELD_STRING, false, 3, 255}, {"description", FIELD_STRING, false, 0, 2000},
	{"venue", FIELD_STRING, false, 3, 255}, {"venue_template_id", FIELD_UUID, false},
	{"date_time", FIELD_STRING, false, 10, 40}, {"base_price", FIELD_NUMBER, false, 0, 1e9},
	{"status", FIELD_STRING, false, 1, 20}, {"image_url", FIELD_STRING, false, 0, 500},
	{"tags", FIELD_STRING_ARRAY, false, 0, 50}, {NULL}};
static const Field tag_create_body[] = {
	{"name", FIELD_STRING, true, 2, 100}, {"description", FIELD_STRING, false, 0, 500},
	{"color", FIELD_STRING, false, 7, 7}, {NULL}};
static const Field tag_update_body[] = {
	{"name", FIELD_STRING, false, 2, 100}, {"description", FIELD_STRING, false, 0, 500},
	{"color", FIELD_STRING, false, 7, 7}, {"is_active", FIELD_BOOL, false}, {NULL}};
static const Field template_create_body[] = {
	{"name", FIELD_STRING, true, 3, 255}, {"description", FIELD_STRING, false, 0, 1000},
	{"default_rows", FIELD_INT, true, 1, 50}, {"default_seats_per_row", FIELD_INT, true, 1, 100},
	{"layout_type", FIELD_STRING, true, 1, 20}, {NULL}};
static const Field template_update_body[] = {
	{"name", FIELD_STRING, false, 3, 255}, {"description", FIELD_STRING, false, 0, 1000},
	{"default_rows", FIELD_INT, false, 1, 50}, {"default_seats_per_row", FIELD_INT, false, 1, 100},
	{"layout_type", FIELD_STRING, false, 1, 20}, {NULL}};
static const Field section_create_body[] = {
	{"name", FIELD_STRING, true, 1, 255}, {"description", FIELD_STRING, false, 0, 500},
	{"row_start", FIELD_STRING, true, 1, 10}, {"row_end", FIELD_STRING, true, 1, 10},
	{"seats_per_row", FIELD_INT, true, 1, 100}, {"total_seats", FIELD_INT, false, 1, 1000000}, {NULL}};
static const Field section_update_body[] = {
	{"name", FIELD_STRING, false, 1, 255}, {"description", FIELD_STRING, false, 0, 500}, {NULL}};
static const Field seat_update_body[] = {
	{"seat_number", FIELD_STRING, false, 1, 20}, {"row", FIELD_STRING, false, 1, 10},
	{"position", FIELD_INT, false, 1, 100000}, {"status", FIELD_STRING, false, 1, 20}, {NULL}};
static const Field availability_body[] = {
	{"event_id", FIELD_UUID, true}, {"seat_ids", FIELD_UUID_ARRAY, true, 1, 100}, {NULL}};
static const Field notify_body[] = {{"available_tickets", FIELD_INT, true, 1, 100000}, {NULL}};
static const Field freed_body[] = {{"freed_tickets", FIELD_INT, true, 1, 100000}, {NULL}};
static const Field reason_required[] = {{"reason", FIELD_STRING, true, 1, 500}, {NULL}};
static const Field reason_optional[] = {{"reason", FIELD_STRING, false, 1, 500}, {NULL}};

static const Route routes[] = {
	{"GET", "/ping", AUTH_PUBLIC, ping, NULL, NULL, 200, "pong"},
	{"GET", "/status", AUTH_PUBLIC, status, NULL, NULL, 200, "operational"},
	{"GET", "/health", AUTH_PUBLIC, health, HEALTH_STATEMENT_NAME, HEALTH_STATEMENT, 200, "healthy"},
	{"GET", "/metrics", AUTH_PUBLIC, metrics},
	{"GET", "/", AUTH_PUBLIC, root},
	{"GET", "/openapi.json", AUTH_PUBLIC, openapi},
	{"GET", "/docs", AUTH_PUBLIC, docs},
	{"GET", "/docs/:file", AUTH_PUBLIC, docs_asset},

	{"POST", "/api/v1/auth/register", AUTH_PUBLIC, session_route, API(api_register),
	 201, "User registered successfully", register_body},
	{"POST", "/api/v1/auth/login", AUTH_PUBLIC, session_route, API(api_login),
	 200, "Login successful", login_body},
	{"POST", "/api/v1/auth/refresh", AUTH_PUBLIC, refresh_route, API(api_refresh),
	 200, "Token refreshed successfully", refresh_body},
	{"POST", "/api/v1/auth/logout", AUTH_PUBLIC, logout_route, API(api_logout),
	 200, "Logged out successfully", logout_body},
	{"GET", "/api/v1/auth/me", AUTH_USER, sql_route, API(api_me),
	 200, "User data retrieved successfully"},
	{"PUT", "/api/v1/auth/change-password", AUTH_USER, sql_route, API(api_change_password),
	 200, "Password changed successfully", password_body},

	{"GET", "/api/v1/events", AUTH_PUBLIC, sql_route, API(api_events_list),
	 200, "Events retrieved successfully"},
	{"GET", "/api/v1/events/upcoming", AUTH_PUBLIC, sql_route, API(api_events_upcoming),
	 200, "Upcoming events retrieved successfully"},
	{"GET", "/api/v1/events/:eventId", AUTH_PUBLIC, sql_route, API(api_event_get),
	 200, "Event retrieved successfully"},
	{"GET", "/api/v1/events/:eventId/sections", AUTH_USER, sql_route, API(api_event_sections),
	 200, "Sections retrieved successfully"},
	{"GET", "/api/v1/events/:eventId/venue/layout", AUTH_USER, sql_route, API(api_event_layout),
	 200, "Venue layout retrieved successfully"},
	{"GET", "/api/v1/tags/active", AUTH_PUBLIC, sql_route, API(api_tags_active),
	 200, "Active tags retrieved successfully"},
	{"GET", "/api/v1/tags/slug/:slug", AUTH_PUBLIC, sql_route, API(api_tag_by_slug),
	 200, "Tag retrieved successfully"},

	{"POST", "/api/v1/seats/hold", AUTH_USER, sql_route, API(api_hold_seats),
	 200, "Seats held successfully", hold_body},
	{"GET", "/api/v1/seats/:id", AUTH_USER, sql_route, API(api_seat_get), 200, "Seat retrieved successfully"},
	{"POST", "/api/v1/seats/availability", AUTH_USER, sql_route, API(api_seats_availability),
	 200, "Seat availability checked successfully", availability_body},
	{"GET", "/api/v1/seats/hold/:holdId/validate", AUTH_USER, sql_route, API(api_hold_validate),
	 200, "Hold is valid"},
	{"GET", "/api/v1/sections/:sectionId/seats", AUTH_PUBLIC, sql_route, API(api_section_seats),
	 200, "Seats retrieved successfully"},
	{"GET", "/api/v1/sections/:sectionId/seats/available", AUTH_PUBLIC, sql_route,
	 API(api_section_seats_available), 200, "Available seats retrieved successfully"},
	{"GET", "/api/v1/seats/hold/:holdId", AUTH_USER, sql_route, API(api_hold_get),
	 200, "Hold retrieved successfully"},
	{"DELETE", "/api/v1/seats/hold/:holdId", AUTH_USER, sql_route, API(api_hold_release),
	 200, "Hold released successfully"},

	{"POST", "/api/v1/bookings/confirm", AUTH_USER, sql_route, API(api_booking_confirm),
	 201, "Booking confirmed successfully", confirm_body},
	{"GET", "/api/v1/bookings/:id", AUTH_USER, sql_route, API(api_booking_get),
	 200, "Booking retrieved successfully"},
	{"POST", "/api/v1/bookings/:id/request-cancel", AUTH_USER, sql_route, API(api_booking_cancel),
	 201, "Cancellation processed successfully. Refund will be credited within the specified processing days.",
	 reason_required},
	{"POST", "/api/v1/bookings/:id/cancel", AUTH_USER, sql_route, API(api_booking_cancel),
	 200, "Booking cancelled successfully", reason_optional},

	{"POST", "/api/v1/waitlist", AUTH_USER, sql_route, API(api_waitlist_join),
	 201, "Successfully joined waitlist", waitlist_body},
	{"DELETE", "/api/v1/waitlist/:event_id", AUTH_USER, sql_route, API(api_waitlist_leave),
	 200, "Successfully left waitlist"},
	{"GET", "/api/v1/waitlist/status/:event_id", AUTH_USER, sql_route, API(api_waitlist_status),
	 200, "Waitlist status retrieved successfully"},
	{"GET", "/api/v1/users/waitlist", AUTH_USER, sql_route, API(api_user_waitlist),
	 200, "Waitlist entries retrieved successfully"},

	{"GET", "/api/v1/users/bookings", AUTH_USER, sql_route, API(api_user_bookings),
	 200, "Bookings retrieved successfully"},
	{"GET", "/api/v1/users/cancellations", AUTH_USER, sql_route, API(api_user_cancellations),
	 200, "User cancellations retrieved successfully"},
	{"GET", "/api/v1/users/notifications", AUTH_USER, sql_route, API(api_user_notifications),
	 200, "Notifications retrieved successfully"},
	{"GET", "/api/v1/cancellations/:id", AUTH_USER, sql_route, API(api_cancellation_get),
	 200, "Cancellation retrieved successfully"},
	{"GET", "/api/v1/users/:userId/holds", AUTH_USER, sql_route, API(api_user_holds),
	 200, "User holds retrieved successfully"},

	{"POST", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_set), 201, "Cancellation policy created successfully", policy_body},
	{"GET", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_get), 200, "Cancellation policy retrieved successfully"},
	{"PUT", "/api/v1/admin/events/:eventId/cancellation-policy", AUTH_ADMIN, sql_route,
	 API(api_policy_set), 200, "Cancellation policy updated successfully", policy_body},

	{"POST", "/api/v1/admin/events", AUTH_ADMIN, sql_route, API(api_event_create),
	 201, "Event created successfully", event_create_body},
	{"GET", "/api/v1/admin/events", AUTH_ADMIN, sql_route, API(api_admin_events_list),
	 200, "Events retrieved successfully"},
	{"GET", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_admin_event_get),
	 200, "Event retrieved successfully"},
	{"PUT", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_event_update),
	 200, "Event updated successfully", event_update_body},
	{"DELETE", "/api/v1/admin/events/:eventId", AUTH_ADMIN, sql_route, API(api_event_delete),
	 200, "Event deleted successfully"},

	{"POST", "/api/v1/admin/tags", AUTH_ADMIN, sql_route, API(api_tag_create),
	 201, "Tag created successfully", tag_create_body},
	{"GET", "/api/v1/admin/tags", AUTH_ADMIN, sql_route, API(api_tags_list),
	 200, "Tags retrieved successfully"},
	{"GET", "/api/v1/admin/tags/active", AUTH_ADMIN, sql_route, API(api_admin_tags_active),
	 200, "Active tags retrieved successfully"},
	{"GET", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_get),
	 200, "Tag retrieved successfully"},
	{"PUT", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_update),
	 200, "Tag updated successfully", tag_update_body},
	{"DELETE", "/api/v1/admin/tags/:id", AUTH_ADMIN, sql_route, API(api_tag_delete),
	 200, "Tag deleted successfully"},

	{"POST", "/api/v1/admin/venue-templates", AUTH_ADMIN, sql_route, API(api_template_create),
	 201, "Template created successfully", template_create_body},
	{"GET", "/api/v1/admin/venue-templates", AUTH_ADMIN, sql_route, API(api_templates_list),
	 200, "Templates retrieved successfully"},
	{"GET", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_get),
	 200, "Template retrieved successfully"},
	{"PUT", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_update),
	 200, "Template updated successfully", template_update_body},
	{"DELETE", "/api/v1/admin/venue-templates/:id", AUTH_ADMIN, sql_route, API(api_template_delete),
	 200, "Template deleted successfully"},
	{"POST", "/api/v1/admin/venue-templates/:id/sections", AUTH_ADMIN, sql_route, API(api_section_create),
	 201, "Section created successfully", section_create_body},
	{"GET", "/api/v1/admin/venue-templates/:id/sections", AUTH_ADMIN, sql_route, API(api_sections_list),
	 200, "Sections retrieved successfully"},
	{"PUT", "/api/v1/admin/sections/:id", AUTH_ADMIN, sql_route, API(api_section_update),
	 200, "Section updated successfully", section_update_body},
	{"DELETE", "/api/v1/admin/sections/:id", AUTH_ADMIN, sql_route, API(api_section_delete),
	 200, "Section deleted successfully"},
	{"PUT", "/api/v1/admin/seats/:id", AUTH_ADMIN, sql_route, API(api_seat_update),
	 200, "Seat updated successfully", seat_update_body},
	{"DELETE", "/api/v1/admin/seats/:id", AUTH_ADMIN, sql_route, API(api_seat_delete),
	 200, "Seat deleted successfully"},

	{"GET", "/api/v1/admin/waitlist/stats/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_stats),
	 200, "Waitlist stats retrieved successfully"},
	{"GET", "/api/v1/admin/waitlist/entries/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_entries),
	 200, "Waitlist entries retrieved successfully"},
	{"POST", "/api/v1/admin/waitlist/notify/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_notify),
	 200, "Notifications sent to next users in line", notify_body},
	{"POST", "/api/v1/admin/waitlist/cancellation/:event_id", AUTH_ADMIN, sql_route, API(api_waitlist_notify),
	 200, "Cancellation processed successfully", freed_body},
	{"GET", "/api/v1/admin/events/analytics", AUTH_ADMIN, sql_route, API(api_events_analytics),
	 200, "All event analytics retrieved successfully"},
	{"GET", "/api/v1/admin/events/:eventId/analytics", AUTH_ADMIN, sql_route, API(api_event_analytics),
	 200, "Event analytics retrieved successfully"},
	{"GET", "/api/v1/admin/events/:eventId/bookings", AUTH_ADMIN, sql_route, API(api_admin_event_bookings),
	 200, "Bookings retrieved successfully"},

	{"GET", "/api/v1/analytics/admin/dashboard", AUTH_ADMIN, sql_route, API(api_analytics_dashboard),
	 200, "Dashboard retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/events", AUTH_ADMIN, sql_route, API(api_analytics_events),
	 200, "Event analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/events/:id", AUTH_ADMIN, sql_route, API(api_analytics_event),
	 200, "Event analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/tags", AUTH_ADMIN, sql_route, API(api_analytics_tags),
	 200, "Tag analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/tags/popularity", AUTH_ADMIN, sql_route, API(api_analytics_tag_popularity),
	 200, "Tag popularity retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/tags/trends", AUTH_ADMIN, sql_route, API(api_analytics_tag_trends),
	 200, "Tag trends retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/tags/comparisons", AUTH_ADMIN, sql_route, API(api_analytics_tag_comparisons),
	 200, "Tag comparisons retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/bookings", AUTH_ADMIN, sql_route, API(api_analytics_bookings),
	 200, "Booking analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/bookings/daily", AUTH_ADMIN, sql_route, API(api_analytics_bookings_daily),
	 200, "Daily booking stats retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/bookings/cancellations", AUTH_ADMIN, sql_route,
	 API(api_analytics_cancellations), 200, "Cancellation analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/admin/users", AUTH_ADMIN, sql_route, API(api_analytics_users),
	 200, "User analytics retrieved successfully"},
	{"GET", "/api/v1/analytics/user/bookings/history", AUTH_USER, sql_route, API(api_analytics_user_history),
	 200, "Booking history retrieved successfully"},
	{"GET", "/api/v1/analytics/user/personal", AUTH_USER, sql_route, API(api_analytics_user_personal),
	 200, "Personal analytics retrieved successfully"},

	{"GET", "/api/v1/admin/bookings", AUTH_ADMIN, sql_route, API(api_admin_bookings),
	 200, "Bookings retrieved successfully"},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static Reply
ping(const Route *route, Call *call)
{
	return reply_success(200, "pong", json_pack("{s:s}", "version", "v1"));
}

static Reply
status(const Route *route, Call *call)
{
	char		now[32];
	time_t		t = time(NULL);

	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return reply_success(200, "operational",
						 json_pack("{s:s, s:s, s:s}", "status", "operational",
								   "api_version", "v1", "timestamp", now));
}

/* Healthy when the database answers; the body says how far the outbox lags. */
static Reply
health(const Route *route, Call *call)
{
	SqlResult	r = pool_query(route->name, route->sql, 0, NULL);
	Reply		reply;

	if (r.ok)
		reply = reply_from_sql(&r, 200, "healthy");
	else
		reply = reply_error(503, "UNHEALTHY", "unhealthy", r.message,
							json_pack("{s:s}", "database",
									  strncmp(r.sqlstate, "08", 2) == 0 ? "unreachable" : "failing"));
	sql_result_free(&r);
	return reply;
}

static Reply
root(const Route *route, Call *call)
{
	Reply		reply = reply_success(301, "see /health", NULL);

	reply.location = "/health";
	return reply;
}

static json_t *openapi_cache;

static Reply
openapi(const Route *route, Call *call)
{
	Reply		reply = {200, json_dumps(openapi_cache, JSON_COMPACT)};

	return reply;
}

static Reply
docs(const Route *route, Call *call)
{
	return docs_page_reply();
}

static Reply
docs_asset(const Route *route, Call *call)
{
	return docs_asset_reply(json_string_value(json_object_get(json_object_get(call->req, "path"), "file")));
}

/* Prometheus text, not JSON: the one route outside the envelope. */
static Reply
metrics(const Route *route, Call *call)
{
	Reply		reply = {200, metrics_render()};

	reply.content_type = "text/plain; version=0.0.4";
	return reply;
}

/* Run the route's SQL function; on success *data gets its parsed result. */
static SqlResult
call_sql(const Route *route, Call *call)
{
	char	   *req = json_dumps(call->req, JSON_COMPACT);
	const char *params[2] = {call->actor, req};
	SqlResult	r = pool_query(route->name, route->sql, 2, params);

	free(req);
	return r;
}

static Reply
sql_route(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call);
	Reply		reply = reply_from_sql(&r, route->success_status, route->message);

	sql_result_free(&r);
	return reply;
}

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
static Reply
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

static Reply
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
static Reply
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

/* :id, :eventId, :event_id ... name a uuid */
static bool
wants_uuid(const char *name, size_t len)
{
	return (len == 2 && strncmp(name, "id", 2) == 0) ||
		(len > 2 && (strncmp(name + len - 2, "Id", 2) == 0 || strncmp(name + len - 3, "_id", 3) == 0));
}

/* Path parameters of the matched route: values and names, copied. */
typedef struct PathParams
{
	int			n;
	char		value[4][64];
	char		name[4][32];
	bool		bad_uuid;
} PathParams;

/* Match path against pattern: the number of static segments, or -1. */
static int
match(const char *pattern, const char *path, PathParams *pp)
{
	int			statics = 0;

	memset(pp, 0, sizeof(*pp));
	while (*pattern && *path)
	{
		const char *pend = strchr(pattern + 1, '/');
		const char *send = strchr(path + 1, '/');
		size_t		plen = pend ? (size_t) (pend - pattern) : strlen(pattern);
		size_t		slen = send ? (size_t) (send - path) : strlen(path);

		if (pattern[1] == ':')
		{
			if (slen <= 1 || slen - 1 >= sizeof(pp->value[0]) || plen - 2 >= sizeof(pp->name[0]) ||
				pp->n >= 4)
				return -1;
			memcpy(pp->value[pp->n], path + 1, slen - 1);
			memcpy(pp->name[pp->n], pattern + 2, plen - 2);
			if (wants_uuid(pattern + 2, plen - 2) && !is_uuid(pp->value[pp->n]))
				pp->bad_uuid = true;
			pp->n++;
		}
		else if (plen != slen || strncmp(pattern, path, plen) != 0)
			return -1;
		else
			statics++;
		pattern += plen;
		path += slen;
	}
	return (*pattern || *path) ? -1 : statics;
}

void
routes_init(void)
{
	openapi_cache = openapi_document();
	for (size_t i = 0; i < NROUTES; i++)
	{
		if (strncmp(routes[i].pattern, "/api/", 5) == 0 || routes[i].sql)
			openapi_add(openapi_cache, routes[i].method, routes[i].pattern, routes[i].auth != AUTH_PUBLIC,
						routes[i].success_status, routes[i].message, routes[i].body);
		char	   *label = malloc(strlen(routes[i].method) + strlen(routes[i].pattern) + 2);

		sprintf(label, "%s %s", routes[i].method, routes[i].pattern);
		metrics_name_route((int) i, label);
	}
}

static const Route *
find_route(Request *req, PathParams *pp)
{
	const Route *best = NULL;
	int			best_score = -1;

	for (size_t i = 0; i < NROUTES; i++)
	{
		PathParams	candidate;
		int			score;

		if (strcmp(routes[i].method, req->method) != 0)
			continue;
		score = match(routes[i].pattern, req->path, &candidate);
		if (score > best_score)
		{
			best = &routes[i];
			best_score = score;
			*pp = candidate;
		}
	}
	return best;
}

/* Who is calling: fills *claims, or returns the 401/403 to send. */
static bool
authenticate(const Route *route, Request *req, Claims *claims, Reply *refusal)
{
	const char *header = req->authorization;
	const char *why;

	if (route->auth == AUTH_PUBLIC)
		return true;
	if (header == NULL)
		*refusal = reply_error(401, "UNAUTHENTICATED", "Authorization header is required", NULL, NULL);
	else if (strncmp(header, "Bearer ", 7) != 0 || header[7] == '\0' || strchr(header + 7, ' '))
		*refusal = reply_error(401, "UNAUTHENTICATED",
							   "authorization header format must be Bearer {token}", NULL, NULL);
	else if (!token_verify(header + 7, "access", claims, &why))
		*refusal = reply_error(401, "UNAUTHENTICATED", why, NULL, NULL);
	else if (route->auth == AUTH_ADMIN && strcmp(claims->role, "ADMIN") != 0)
		*refusal = reply_error(403, "FORBIDDEN", "Insufficient permissions", NULL, NULL);
	else
		return true;
	return false;
}

/* The body as JSON (an empty body is {}), or the 400/422 to send. */
static json_t *
read_body(const Route *route, Request *req, Reply *refusal)
{
	json_error_t error;
	json_t	   *body,
			   *errors;

	if (req->body_size == 0)
		body = json_object();
	else if ((body = json_loadb(req->body, req->body_size, JSON_REJECT_DUPLICATES, &error)) == NULL)
	{
		*refusal = reply_error(400, "INVALID_JSON", "Invalid request body", error.text,
							   json_pack("{s:i}", "position", error.position));
		return NULL;
	}
	if (!json_is_object(body))
	{
		json_decref(body);
		*refusal = reply_error(400, "INVALID_JSON", "Invalid request body",
							   "the body must be a JSON object", NULL);
		return NULL;
	}
	if ((errors = validate_body(route->body, body)) != NULL)
	{
		json_decref(body);
		*refusal = reply_validation(errors);
		return NULL;
	}
	return body;
}

static Reply with_rate_limit(Reply reply, const char *address);
static Reply dispatch(const Route *route, Request *req, PathParams *pp, Claims *claims);

Reply
route_request(Request *req)
{
	PathParams	pp;
	const Route *route = find_route(req, &pp);
	Claims		claims;
	RateInfo	rate;
	Reply		reply;

	req->route_index = route ? (int) (route - routes) : -1;
	if (route == NULL)
		return with_rate_limit(reply_error(404, "ROUTE_NOT_FOUND", "route not found", NULL,
										   json_pack("{s:s, s:s}", "method", req->method,
													 "path", req->path)),
							   req->client_address);
	if (!authenticate(route, req, &claims, &reply))
		return with_rate_limit(reply, req->client_address);
	if (!rate_limit_take(route->auth == AUTH_PUBLIC ? req->client_address : claims.user_id, &rate))
	{
		reply = reply_error(429, "RATE_LIMITED", "Too many requests", NULL,
							json_pack("{s:i, s:i}", "limit", rate.limit, "retry_after", rate.retry_after));
		reply.rate = rate;
		return reply;
	}
	reply = dispatch(route, req, &pp, &claims);
	if (reply.rate.retry_after)
		rate.retry_after = reply.rate.retry_after;
	reply.rate = rate;
	return reply;
}

/* Refusals count against the caller's address too: guessing tokens costs. */
static Reply
with_rate_limit(Reply reply, const char *address)
{
	RateInfo	rate;

	if (!rate_limit_take(address, &rate))
	{
		free(reply.body);
		reply = reply_error(429, "RATE_LIMITED", "Too many requests", NULL,
							json_pack("{s:i, s:i}", "limit", rate.limit, "retry_after", rate.retry_after));
	}
	reply.rate = rate;
	return reply;
}

static Reply
dispatch(const Route *route, Request *req, PathParams *pp, Claims *claims)
{
	Call		call = {0};
	Reply		reply;
	json_t	   *body,
			   *path;

	if (pp->bad_uuid)
		return reply_error(400, "INVALID_ID", "invalid id in path", NULL,
						   json_pack("{s:s}", "path", req->path));
	if ((body = read_body(route, req, &reply)) == NULL)
		return reply;

	path = json_object();
	for (int i = 0; i < pp->n; i++)
		json_object_set_new(path, pp->name[i], json_string(pp->value[i]));
	call.actor = route->auth == AUTH_PUBLIC ? NULL : claims->user_id;
	call.req = json_pack("{s:s, s:o, s:O, s:o}", "method", req->method, "path", path,
						 "query", req->query, "body", body);
	if (req->idempotency_key)
		json_object_set_new(call.req, "idempotency_key", json_string(req->idempotency_key));
	reply = route->handler(route, &call);
	json_decref(call.req);
	return reply;
}
