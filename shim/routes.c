/*
 * routes.c: the route table.  One row per route: method, path pattern, and
 * the one SQL call that serves it.  A static segment beats a parameter at the
 * same place (/events/upcoming over /events/:eventId); a parameter whose
 * name ends in "Id" or is "id" must be a uuid before any SQL sees it.
 */
#include "shim.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

typedef struct Route Route;
typedef Reply (*Handler) (Request *req, const Route *route);

struct Route
{
	const char *method;
	const char *pattern;
	Handler		handler;
	const char *name;			/* prepared statement name */
	const char *sql;			/* for sql_route: one statement, $1.. = path params */
	int			success_status;
	const char *message;
};

static Reply ping(Request *req, const Route *route);
static Reply status(Request *req, const Route *route);
static Reply health(Request *req, const Route *route);
static Reply sql_route(Request *req, const Route *route);

static const Route routes[] = {
	{"GET", "/ping", ping, NULL, NULL, 200, "pong"},
	{"GET", "/status", status, NULL, NULL, 200, "operational"},
	{"GET", "/health", health, "health", "SELECT evently.health()", 200, "healthy"},
	{"GET", "/api/v1/events/:eventId", sql_route, "event_get",
	 "SELECT evently.event_json($1::uuid, true)", 200, "Event retrieved successfully"},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static Reply
ping(Request *req, const Route *route)
{
	return reply_success(200, "pong", json_pack("{s:s}", "version", "v1"));
}

static Reply
status(Request *req, const Route *route)
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
health(Request *req, const Route *route)
{
	SqlResult	r = pool_query(route->name, route->sql, 0, NULL);
	Reply		reply;

	if (r.ok)
		reply = reply_from_sql(&r, 200, "healthy");
	else
		reply = reply_error(503, "UNHEALTHY", "unhealthy", r.message,
							json_pack("{s:s}", "database", "unreachable"));
	sql_result_free(&r);
	return reply;
}

static Reply
sql_route(Request *req, const Route *route)
{
	SqlResult	r = pool_query(route->name, route->sql, req->nparams, req->params);
	Reply		reply = reply_from_sql(&r, route->success_status, route->message);

	sql_result_free(&r);
	return reply;
}

static bool
is_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		bool		dash = (i == 8 || i == 13 || i == 18 || i == 23);

		if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

static bool
wants_uuid(const char *name, size_t len)
{
	return (len == 2 && strncmp(name, "id", 2) == 0) ||
		(len > 2 && strncmp(name + len - 2, "Id", 2) == 0);
}

/*
 * Match path against pattern; on success store the parameters (copied into
 * `storage`) and return the number of static segments, else -1.
 */
static int
match(const char *pattern, const char *path, Request *req, char storage[][64], bool *bad_param)
{
	int			statics = 0;

	req->nparams = 0;
	while (*pattern && *path)
	{
		const char *pend = strchr(pattern + 1, '/');
		const char *send = strchr(path + 1, '/');
		size_t		plen = pend ? (size_t) (pend - pattern) : strlen(pattern);
		size_t		slen = send ? (size_t) (send - path) : strlen(path);

		if (pattern[1] == ':')
		{
			if (slen <= 1 || slen - 1 >= 64 || req->nparams >= 4)
				return -1;
			if (wants_uuid(pattern + 2, plen - 2) && !is_uuid(path + 1, slen - 1))
				*bad_param = true;
			memcpy(storage[req->nparams], path + 1, slen - 1);
			storage[req->nparams][slen - 1] = '\0';
			req->params[req->nparams] = storage[req->nparams];
			req->nparams++;
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

Reply
route_request(Request *req)
{
	static __thread char storage[4][64];
	const Route *best = NULL;
	int			best_score = -1;
	bool		best_bad = false;

	for (size_t i = 0; i < NROUTES; i++)
	{
		bool		bad = false;
		int			score;

		if (strcmp(routes[i].method, req->method) != 0)
			continue;
		score = match(routes[i].pattern, req->path, req, storage, &bad);
		if (score > best_score)
		{
			best = &routes[i];
			best_score = score;
			best_bad = bad;
		}
	}
	if (best == NULL)
		return reply_error(404, "ROUTE_NOT_FOUND", "route not found", NULL,
						   json_pack("{s:s, s:s}", "method", req->method, "path", req->path));
	/* match again: the loop left the last candidate's parameters behind */
	{
		bool		bad = false;

		match(best->pattern, req->path, req, storage, &bad);
	}
	if (best_bad)
		return reply_error(400, "INVALID_ID", "invalid id in path", NULL,
						   json_pack("{s:s}", "path", req->path));
	return best->handler(req, best);
}
