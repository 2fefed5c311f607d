/*
 * router.c: from a request's method and path to a row of the route table,
 * then through the steps every request takes, in this order:
 *
 *   match -> authenticate (auth.c) -> rate limit (ratelimit.c)
 *         -> path ids and body checked -> the route's handler
 *
 * A static segment beats a parameter at the same place (/events/upcoming
 * over /events/:eventId); a parameter whose name ends in "Id" or "_id", or is
 * "id", must be a uuid before any SQL sees it.
 */
#include "shim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Path parameters of the matched route: values and names, copied. */
typedef struct PathParams
{
	int			n;
	char		value[MAX_PATH_PARAMS][MAX_PARAM_VALUE];
	char		name[MAX_PATH_PARAMS][MAX_PARAM_NAME];
	bool		bad_uuid;
} PathParams;

/* :id, :eventId, :event_id ... name a uuid */
static bool
wants_uuid(const char *name, size_t len)
{
	return (len == 2 && strncmp(name, "id", 2) == 0) ||
		(len > 2 && (strncmp(name + len - 2, "Id", 2) == 0 || strncmp(name + len - 3, "_id", 3) == 0));
}

/* The length of the segment at s ("/events" of "/events/:eventId"). */
static size_t
segment_length(const char *s)
{
	const char *end = strchr(s + 1, '/');

	return end ? (size_t) (end - s) : strlen(s);
}

/*
 * Can match() ever take this pattern?  A parameter past MAX_PATH_PARAMS or a
 * name too long for PathParams would make its route answer 404 for ever.
 */
bool
pattern_fits(const char *pattern, const char **why)
{
	int			params = 0;

	if (pattern[0] != '/')
	{
		*why = "a pattern starts with /";
		return false;
	}
	for (const char *s = pattern; *s; s += segment_length(s))
	{
		size_t		name_length;

		if (s[1] != ':')
			continue;
		name_length = segment_length(s) - 2;
		if (++params > MAX_PATH_PARAMS)
			*why = "more path parameters than MAX_PATH_PARAMS (router.c)";
		else if (name_length == 0 || name_length >= MAX_PARAM_NAME)
			*why = "a path parameter's name is empty or longer than MAX_PARAM_NAME (router.c)";
		else
			continue;
		return false;
	}
	return true;
}

/* Match path against pattern: the number of static segments, or -1. */
static int
match(const char *pattern, const char *path, PathParams *pp)
{
	int			statics = 0;

	/* no memset: this runs for every route of the table on every request */
	pp->n = 0;
	pp->bad_uuid = false;
	while (*pattern && *path)
	{
		size_t		plen = segment_length(pattern);
		size_t		slen = segment_length(path);

		if (pattern[1] == ':')
		{
			/* pattern_fits() vouched for the name; the value comes from the client */
			if (slen <= 1 || slen - 1 >= sizeof(pp->value[0]) || plen - 2 >= sizeof(pp->name[0]) ||
				pp->n >= MAX_PATH_PARAMS)
				return -1;
			memcpy(pp->value[pp->n], path + 1, slen - 1);
			pp->value[pp->n][slen - 1] = '\0';
			memcpy(pp->name[pp->n], pattern + 2, plen - 2);
			pp->name[pp->n][plen - 2] = '\0';
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

/* per route: the bytes of its pattern before the first parameter */
static size_t *static_prefix;

/* Before the server starts. */
void
router_init(void)
{
	static_prefix = calloc(route_count, sizeof(size_t));
	if (static_prefix == NULL)
		abort();
	for (size_t i = 0; i < route_count; i++)
		static_prefix[i] = strcspn(routes[i].pattern, ":");
}

/*
 * The route with the method and the most static segments matching the path.
 * A path that does not start with a pattern's static prefix cannot match
 * it: that one comparison leaves most of the table out cheaply.
 */
static const Route *
find_route(Request *req, PathParams *pp)
{
	const Route *best = NULL;
	int			best_score = -1;

	for (size_t i = 0; i < route_count; i++)
	{
		PathParams	candidate;
		int			score;

		if (strcmp(routes[i].method, req->method) != 0 ||
			strncmp(routes[i].pattern, req->path, static_prefix[i]) != 0)
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

/* The body as JSON (an empty body is {}), or the 400/422 to send. */
static json_t *
read_body(const Route *route, Request *req, Reply *refusal)
{
	json_error_t error;
	json_t	   *body,
			   *errors;
	long		where;

	if (req->body_size == 0)
		body = json_object();
	else if ((body = json_loadb(req->body, req->body_size, JSON_REJECT_DUPLICATES, &error)) == NULL)
	{
		*refusal = reply_error(400, "INVALID_JSON", "Invalid request body", error.text,
							   json_pack("{s:i}", "position", error.position));
		return NULL;
	}
	if ((where = inexact_number_at(req->body, req->body_size)) >= 0)
	{
		json_decref(body);
		*refusal = reply_error(400, "INVALID_JSON", "Invalid request body",
							   "a number has more than 15 significant digits, more than is kept exactly",
							   json_pack("{s:I}", "position", (json_int_t) where));
		return NULL;
	}
	if (!json_is_object(body))
	{
		json_decref(body);
		*refusal = reply_error(400, "INVALID_JSON", "Invalid request body",
							   "the body must be a JSON object", NULL);
		return NULL;
	}
	if ((errors = validate_body(route->body, body, strcmp(route->method, "PUT") == 0)) != NULL)
	{
		json_decref(body);
		*refusal = reply_validation(errors);
		return NULL;
	}
	return body;
}

/*
 * The read cache's key of an anonymous public read without a body (SPEC
 * section 12), or NULL when the request is not one: the route, its path
 * parameters (those that name a uuid in lower case, as the database reads
 * them; any other, a slug, as typed, since the SQL compares it so) and its
 * query arguments sorted by name.  Two requests with one key send the SQL
 * function the same path and query.  The caller frees it.
 */
static char *
read_cache_key(const Route *route, Request *req, const PathParams *pp, const char *actor)
{
	char	   *query,
			   *key;
	char		path[MAX_PATH_PARAMS * (MAX_PARAM_NAME + MAX_PARAM_VALUE + 2) + 1] = "";
	size_t		size;

	if (!route->public_read || actor || config.read_cache_ms == 0 || req->body_size > 0 || pp->bad_uuid)
		return NULL;
	for (int i = 0; i < pp->n; i++)
	{
		char	   *value = path + strlen(path) + strlen(pp->name[i]) + 1;

		strcat(strcat(strcat(path, pp->name[i]), "="), pp->value[i]);
		/* only a uuid parameter: a slug that looks like a uuid is compared as typed */
		if (wants_uuid(pp->name[i], strlen(pp->name[i])))
			for (; *value; value++)
				*value = (char) tolower((unsigned char) *value);
		strcat(path, "/");
	}
	query = json_dumps(req->query, JSON_COMPACT | JSON_SORT_KEYS);
	size = strlen(path) + strlen(query) + 16;
	key = malloc(size);
	snprintf(key, size, "%d %s %s", (int) (route - routes), path, query);
	free(query);
	return key;
}

/*
 * The route's handler, or the read cache in front of it when the request
 * has a cache key.
 */
static Reply
answer(const Route *route, Request *req, Call *call, const char *cache_key)
{
	if (cache_key)
		return read_cache_serve(route, call, cache_key, read_cache_bypassed(req->cache_control));
	return route->handler(route, call);
}

/*
 * Check the path ids and the body, then run the route's handler as the
 * token's user; the SQL side checks the token's session (its epoch) in the
 * same call.
 */
static Reply
dispatch(const Route *route, Request *req, PathParams *pp, const Claims *claims, const char *cache_key)
{
	const char *actor = actor_of(claims);
	Call		call = {0};
	Reply		reply;
	json_t	   *body,
			   *path;

	if (pp->bad_uuid)
		return reply_error(400, "INVALID_ID", "invalid id in path", NULL,
						   json_pack("{s:s}", "path", req->path));
	if (route->raw_body)
	{
		/* the handler checks the bytes (a webhook's signature is over them) */
		body = json_object();
		call.raw_body = req->body ? req->body : "";
		call.raw_body_size = req->body ? req->body_size : 0;
		call.signature = req->signature;
	}
	else if ((body = read_body(route, req, &reply)) == NULL)
		return reply;

	path = json_object();
	for (int i = 0; i < pp->n; i++)
		json_object_set_new(path, pp->name[i], json_string(pp->value[i]));
	call.actor = actor;
	call.authorization = req->authorization;
	call.accept = req->accept;
	/* the client's address: where a login comes from (_login_bucket) */
	call.req = json_pack("{s:s, s:o, s:O, s:o, s:s}", "method", req->method, "path", path,
						 "query", req->query, "body", body, "client_address", req->client_address);
	if (req->idempotency_key)
	{
		json_t	   *key = json_string(req->idempotency_key);

		/* a key is text: one that is not UTF-8 is refused, never dropped */
		if (key == NULL)
		{
			json_decref(call.req);
			return reply_error(400, "INVALID_HEADER", "invalid Idempotency-Key",
							   "an Idempotency-Key is UTF-8 text", NULL);
		}
		json_object_set_new(call.req, "idempotency_key", key);
	}
	if (actor)
		json_object_set_new(call.req, "session", json_pack("{s:I}", "epoch", (json_int_t) claims->epoch));
	reply = answer(route, req, &call, cache_key);
	json_decref(call.req);
	return reply;
}

static Reply
route_not_found(Request *req)
{
	return reply_error(404, "ROUTE_NOT_FOUND", "route not found", NULL,
					   json_pack("{s:s, s:s}", "method", req->method, "path", req->path));
}

Reply
route_request(Request *req)
{
	PathParams	pp;
	const Route *route = find_route(req, &pp);
	Claims		claims;
	const char *actor;
	RateInfo	rate;
	Reply		reply;
	char	   *cache_key;

	req->route_index = route ? (int) (route - routes) : -1;
	if (route == NULL)
		return rate_limit_charge_refusal(route_not_found(req), req->client_address);
	if (!authenticate(route, req->authorization, &claims, &reply))
		return rate_limit_charge_refusal(reply, req->client_address);
	actor = actor_of(&claims);
	/* a signed-in user spends her own bucket, anyone else their address's */
	if (!rate_limit_request(actor ? actor : req->client_address, &rate, &reply))
		return reply;
	/* a fresh answer in the read cache skips building the call */
	cache_key = read_cache_key(route, req, &pp, actor);
	if (cache_key == NULL || read_cache_bypassed(req->cache_control) || !read_cache_fresh(cache_key, &reply))
		reply = dispatch(route, req, &pp, &claims, cache_key);
	free(cache_key);
	/* a public read's answer to anyone without a token: any cache may keep it for a second */
	if (route->public_read && actor == NULL && reply.status == 200)
	{
		reply.cache_control = "public, max-age=1";
		/* with a token the answer may differ (an organizer sees a draft) */
		reply.varies_by_authorization = route->auth == AUTH_OPTIONAL;
	}
	/* every GET's 200 says what it is, for If-None-Match (main.c) */
	if (reply.status == 200 && reply.etag[0] == '\0' && strcmp(req->method, "GET") == 0)
		etag_set(&reply);
	/* the handler's Retry-After (a busy or restarting database) is kept */
	if (reply.rate.retry_after)
		rate.retry_after = reply.rate.retry_after;
	reply.rate = rate;
	return reply;
}
