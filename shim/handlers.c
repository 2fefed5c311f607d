/*
 * handlers.c: the handler most routes have -- one call of the route's SQL
 * function, its result or error wrapped in the envelope -- and the service
 * routes at the root (/ping, /status, /health, /).  Sessions (sessions.c),
 * /metrics (metrics.c) and the API's documents (openapi.c) have their own.
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Run the route's SQL function with the actor and the request as JSON. */
SqlResult
call_sql(const Route *route, Call *call)
{
	char	   *req = json_dumps(call->req, JSON_NUMBERS);
	const char *params[2] = {call->actor, req};
	/* an ADMIN's call may do much more than a buyer's (cancelling an event refunds every booking) */
	SqlResult	r = pool_query_timeout(route->name, route->sql, 2, params,
									   route->auth == AUTH_ADMIN ? config.admin_statement_timeout_ms : 0);

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
