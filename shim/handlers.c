/*
 * handlers.c: the handler most routes have -- one call of the route's SQL
 * function, its result or error wrapped in the envelope -- its variant that
 * can answer a CSV file, the ticket's QR image, and the service routes at the root (/ping,
 * /status, /health, /).  Sessions (sessions.c), /metrics (metrics.c) and
 * the API's documents (openapi.c) have their own.
 */
#define _GNU_SOURCE				/* strcasestr */
#include "shim.h"
#include "qr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Run the route's SQL function with the actor and the request as JSON. */
SqlResult
call_sql(const Route *route, Call *call)
{
	char	   *req = json_dumps(call->req, JSON_NUMBERS);
	const char *params[2] = {call->actor, req};
	/* an ADMIN's call, or a bulk one, may do much more than a buyer's */
	SqlResult	r = pool_query_timeout(route->name, route->sql, 2, params,
									   route->auth == AUTH_ADMIN || route->bulk ?
									   config.admin_statement_timeout_ms : 0);

	free(req);
	return r;
}

Reply
sql_route(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call);
	Reply		reply = reply_from_sql(&r, route->success_status, route->message);

	sql_result_free(&r);
	return reply;
}

/*
 * The quality (q, 0 to 1) an Accept header gives a media type it names
 * exactly, or -1 when it does not name it.  Wildcards are not weighed: a
 * file is sent only to a client that asks for its type by name.
 */
static double
accept_quality(const char *accept, const char *type)
{
	char		copy[1024];
	char	   *ranges,
			   *range;

	if (accept == NULL || strlen(accept) >= sizeof(copy))
		return -1;
	strcpy(copy, accept);
	for (ranges = copy; (range = strsep(&ranges, ",")) != NULL;)
	{
		char	   *params = range,
				   *name = strsep(&params, ";"),
				   *param;
		double		q = 1;

		name += strspn(name, " \t");
		name[strcspn(name, " \t")] = '\0';
		if (strcasecmp(name, type) != 0)
			continue;
		while ((param = strsep(&params, ";")) != NULL)
		{
			param += strspn(param, " \t");
			if (strncasecmp(param, "q=", 2) == 0)
				q = strtod(param + 2, NULL);
		}
		return q;
	}
	return -1;
}

/* Does the request ask for CSV: text/csv named with q > 0, and no lower than JSON? */
static bool
wants_csv(const char *accept)
{
	double		csv = accept_quality(accept, "text/csv");

	return csv > 0 && csv >= accept_quality(accept, "application/json");
}

/* A name that is safe inside Content-Disposition's quotes: letters, digits, '.', '_', '-'. */
static bool
plain_filename(const char *name, size_t size)
{
	return name && name[0] && strlen(name) < size && strspn(name, "abcdefghijklmnopqrstuvwxyz"
															"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(name);
}

/*
 * A route that can answer a file: when the request's Accept asks for
 * text/csv, the SQL is called with req.format = "csv" and returns
 * {"csv": text, "filename": name}, sent as it is (text/csv, an attachment);
 * otherwise, and for every error, the envelope as sql_route sends it.
 */
Reply
csv_route(const Route *route, Call *call)
{
	SqlResult	r;
	Reply		reply = {0};
	json_t	   *doc,
			   *csv;
	const char *filename;

	if (!wants_csv(call->accept))
	{
		reply = sql_route(route, call);
		reply.varies_by_accept = true;
		return reply;
	}
	json_object_set_new(call->req, "format", json_string("csv"));
	r = call_sql(route, call);
	if (!r.ok)
	{
		reply = reply_from_sql(&r, route->success_status, route->message);
		sql_result_free(&r);
		reply.varies_by_accept = true;
		return reply;
	}
	doc = r.value ? json_loads(r.value, 0, NULL) : NULL;
	csv = json_object_get(doc, "csv");
	filename = json_string_value(json_object_get(doc, "filename"));
	if (!json_is_string(csv))
		reply = reply_error(500, "INTERNAL", "unreadable result from the database", NULL, NULL);
	else
	{
		reply.status = route->success_status;
		reply.body_size = json_string_length(csv);
		reply.body = malloc(reply.body_size + 1);
		memcpy(reply.body, json_string_value(csv), reply.body_size + 1);
		reply.content_type = "text/csv; charset=utf-8";
		if (plain_filename(filename, sizeof(reply.filename)))
			strcpy(reply.filename, filename);
	}
	json_decref(doc);
	sql_result_free(&r);
	reply.varies_by_accept = true;
	return reply;
}

/*
 * PNG when Accept names image/png with q > 0, above image/svg+xml or level
 * with it and first; SVG otherwise (no Accept, any wildcard, image/svg+xml).
 */
static bool
wants_png(const char *accept)
{
	double		png = accept_quality(accept, "image/png");
	double		svg = accept_quality(accept, "image/svg+xml");

	if (png <= 0)
		return false;
	if (png != svg)
		return png > svg;
	return strcasestr(accept, "image/png") < strcasestr(accept, "image/svg+xml");
}

/*
 * GET /tickets/:id/qr: the route's SQL (evently.api_ticket_get) answers the
 * ticket as whoever asks may see it, with "code" only for its holder; the
 * code is drawn here as a QR image.  Anyone else -- the organizer, staff, an
 * ADMIN, who see the ticket but not its code -- gets 404, as for a ticket
 * they cannot see.  The image is a credential: no cache may keep it.
 */
Reply
qr_route(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call);
	Reply		reply = {0};
	json_t	   *doc = r.ok && r.value ? json_loads(r.value, 0, NULL) : NULL;
	const char *code = json_string_value(json_object_get(doc, "code"));
	bool		png = wants_png(call->accept);
	bool		drawn = false;

	if (!r.ok || json_object_get(doc, "__error"))
		reply = reply_from_sql(&r, route->success_status, route->message);
	else if (code == NULL)
		reply = reply_error(404, "NOT_FOUND", "ticket not found", "ticket not found",
							json_pack("{s:s}", "detail", "Only the ticket's holder can show its QR code."));
	else
	{
		if (png)
			drawn = qr_png(code, (unsigned char **) &reply.body, &reply.body_size);
		else
			drawn = qr_svg(code, &reply.body, &reply.body_size);
		if (drawn)
		{
			reply.status = 200;
			reply.content_type = png ? "image/png" : "image/svg+xml";
		}
		else
			reply = reply_error(500, "INTERNAL", "could not draw the QR code", NULL, NULL);
	}
	json_decref(doc);
	sql_result_free(&r);
	reply.varies_by_accept = true;
	reply.cache_control = "private, no-store";
	return reply;
}

Reply
ping_route(const Route *route, Call *call)
{
	return reply_success(200, "pong", json_pack("{s:s}", "version", "v1"));
}

Reply
status_route(const Route *route, Call *call)
{
	char		now[32];
	time_t		t = time(NULL);
	struct tm	utc;

	/* gmtime() would share one struct tm among the server's threads */
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &utc));
	return reply_success(200, "operational",
						 json_pack("{s:s, s:s, s:s}", "status", "operational",
								   "api_version", "v1", "timestamp", now));
}

/* Healthy when the database answers; the body says how far the outbox lags. */
Reply
health_route(const Route *route, Call *call)
{
	SqlResult	r = pool_query(route->name, route->sql, 0, NULL);
	Reply		reply;

	if (r.ok)
		reply = reply_from_sql(&r, 200, "healthy");
	else
	{
		/* PostgreSQL's words go to the log, not to whoever asks /health */
		log_event("error", r.message, r.sqlstate);
		reply = reply_error(503, "UNHEALTHY", "unhealthy", "the database does not answer",
							json_pack("{s:s, s:s}", "database",
									  strncmp(r.sqlstate, "08", 2) == 0 ? "unreachable" : "failing",
									  "sqlstate", r.sqlstate));
	}
	sql_result_free(&r);
	return reply;
}

Reply
root_route(const Route *route, Call *call)
{
	Reply		reply = reply_success(301, "see /health", NULL);

	reply.location = "/health";
	return reply;
}
