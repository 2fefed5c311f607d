/*
 * main.c: evently-shim, the HTTP gateway.
 *
 * libmicrohttpd runs a pool of threads over epoll; each request's body is
 * collected (up to BODY_LIMIT, else 413), routed, and answered with one
 * SQL call.  SIGTERM stops accepting, lets in-flight requests finish, exits.
 */
#include "shim.h"
#include "guard.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* requests begun and not yet answered: what SIGTERM waits for */
static atomic_int in_flight;
/* SIGTERM came: every answer closes its connection, so keep-alive clients leave */
static atomic_bool stopping;

typedef struct Upload
{
	char	   *data;
	size_t		size;
	bool		too_large;
	struct timespec started;
} Upload;

static double
elapsed_ms(struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1e3 + (now.tv_nsec - since->tv_nsec) / 1e6;
}

static void
log_access(const char *method, const char *url, int status, Upload *up, int route)
{
	double		ms = elapsed_ms(&up->started);
	json_t	   *line = json_pack("{s:s, s:s, s:s, s:i, s:f}", "level", "info", "method", method,
								 "path", url, "status", status, "ms", ms);

	metrics_record(route, status, ms / 1e3);
	char	   *text = json_dumps(line, JSON_COMPACT);

	fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

static void
add_rate_headers(struct MHD_Response *response, RateInfo *rate)
{
	char		value[32];

	if (rate->retry_after > 0)
	{
		snprintf(value, sizeof(value), "%d", rate->retry_after);
		MHD_add_response_header(response, "Retry-After", value);
	}
	if (!rate->set)
		return;
	snprintf(value, sizeof(value), "%d", rate->limit);
	MHD_add_response_header(response, "X-RateLimit-Limit", value);
	snprintf(value, sizeof(value), "%d", rate->remaining);
	MHD_add_response_header(response, "X-RateLimit-Remaining", value);
	snprintf(value, sizeof(value), "%ld", rate->reset);
	MHD_add_response_header(response, "X-RateLimit-Reset", value);
}

/* Is origin on the CORS_ORIGINS allow-list (exact match)? */
static bool
origin_allowed(const char *origin)
{
	const char *list = config.cors_origins;
	size_t		len;

	if (origin == NULL || list == NULL)
		return false;
	len = strlen(origin);
	while (*list)
	{
		const char *comma = strchr(list, ',');
		size_t		item = comma ? (size_t) (comma - list) : strlen(list);

		if (item == len && strncmp(list, origin, len) == 0)
			return true;
		list += item + (comma ? 1 : 0);
	}
	return false;
}

static void
add_cors_headers(struct MHD_Connection *conn, struct MHD_Response *response)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

	MHD_add_response_header(response, "Vary", "Origin");
	if (!origin_allowed(origin))
		return;
	MHD_add_response_header(response, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(response, "Access-Control-Allow-Credentials", "true");
	MHD_add_response_header(response, "Access-Control-Expose-Headers",
							"Content-Length, Content-Disposition, X-RateLimit-Limit, X-RateLimit-Remaining, "
							"X-RateLimit-Reset, Retry-After, ETag");
}

/* A CORS preflight: 204, with the allow headers only for an allowed origin. */
static enum MHD_Result
send_preflight(struct MHD_Connection *conn)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	add_cors_headers(conn, response);
	if (origin_allowed(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin")))
	{
		MHD_add_response_header(response, "Access-Control-Allow-Methods",
								"GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
		MHD_add_response_header(response, "Access-Control-Allow-Headers",
								"Origin, Content-Length, Content-Type, Authorization, Idempotency-Key, "
								"If-None-Match, Cache-Control");
		MHD_add_response_header(response, "Access-Control-Max-Age", "43200");
	}
	ret = MHD_queue_response(conn, 204, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result
send_reply(struct MHD_Connection *conn, Reply reply)
{
	size_t		size = reply.body_size ? reply.body_size : strlen(reply.body);
	struct MHD_Response *response =
		MHD_create_response_from_buffer(size, reply.body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (reply.location)
		MHD_add_response_header(response, "Location", reply.location);
	/* a cache must not give a CSV answer to a JSON request, nor the reverse */
	if (reply.varies_by_accept)
		MHD_add_response_header(response, "Vary", "Accept");
	if (reply.varies_by_authorization)
		MHD_add_response_header(response, "Vary", "Authorization");
	MHD_add_response_header(response, "Cache-Control",
							reply.cache_control ? reply.cache_control : "private, no-store");
	if (reply.etag[0])
		MHD_add_response_header(response, "ETag", reply.etag);
	if (reply.filename[0])
	{
		char		disposition[sizeof(reply.filename) + 32];

		snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", reply.filename);
		MHD_add_response_header(response, "Content-Disposition", disposition);
	}
	/* a 304 has no content to describe (RFC 9110 15.4.5) */
	if (reply.status != 304)
		MHD_add_response_header(response, "Content-Type",
								reply.content_type ? reply.content_type : "application/json");
	add_rate_headers(response, &reply.rate);
	add_cors_headers(conn, response);
	if (atomic_load(&stopping))
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, reply.status, response);
	MHD_destroy_response(response);
	return ret;
}

/* Collect the body; false once it is over the limit (the rest is discarded). */
static void
collect(Upload *up, const char *data, size_t size)
{
	if (up->too_large || up->size + size > config.body_limit)
	{
		up->too_large = true;
		return;
	}
	up->data = realloc(up->data, up->size + size + 1);
	memcpy(up->data + up->size, data, size);
	up->size += size;
	up->data[up->size] = '\0';
}

static const char *
client_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;

	snprintf(buf, size, "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, size);
	return buf;
}

/* The query string as JSON; bad when a name or value is no text to pass on. */
typedef struct QueryArgs
{
	json_t	   *query;
	bool		bad;
} QueryArgs;

/*
 * A name or value that is not UTF-8, or that holds a NUL (%00), is refused
 * with the whole request: dropping it would drop a filter, and a list route
 * would answer every row.
 */
static enum MHD_Result
add_query_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
			  const char *value, size_t value_size)
{
	QueryArgs  *args = cls;
	json_t	   *v = value ? json_stringn(value, value_size) : json_null();

	if (v && (memchr(key, '\0', key_size) || (value && memchr(value, '\0', value_size))))
	{
		json_decref(v);
		v = NULL;
	}
	/* json_object_set_new takes v even when it fails (a key that is not UTF-8) */
	if (v == NULL || json_object_set_new(args->query, key, v) != 0)
	{
		args->bad = true;
		return MHD_NO;
	}
	return MHD_YES;
}

/* 400 and close: the body's end cannot be known, so nothing after it can be read. */
static enum MHD_Result
refuse_framing(struct MHD_Connection *conn, const char *method, const char *url, Upload *up)
{
	Reply		reply = reply_error(400, "AMBIGUOUS_FRAMING", "ambiguous request framing",
									"a request has one Content-Length or one Transfer-Encoding: chunked, not both", NULL);
	size_t		size = strlen(reply.body);
	struct MHD_Response *response = MHD_create_response_from_buffer(size, reply.body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	MHD_add_response_header(response, "Content-Type", "application/json");
	MHD_add_response_header(response, "Connection", "close");
	log_access(method, url, 400, up, -1);
	ret = MHD_queue_response(conn, 400, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
	Upload	   *up = *state;
	Request		req = {0};
	Reply		reply;
	char		address[INET6_ADDRSTRLEN];

	if (up == NULL)
	{
		up = calloc(1, sizeof(Upload));
		clock_gettime(CLOCK_MONOTONIC, &up->started);
		*state = up;
		atomic_fetch_add(&in_flight, 1);
		guard_head_arrived(conn);
		if (guard_ambiguous_framing(conn))
			return refuse_framing(conn, method, url, up);
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		collect(up, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!guard_body_arrived(conn))
	{
		/* cut by the watchdog before it was whole: nobody hears an answer, so run nothing */
		log_event("warning", "request dropped: its connection was cut at its deadline", url);
		return MHD_NO;
	}
	if (strcmp(method, "OPTIONS") == 0)
	{
		log_access(method, url, 204, up, -1);
		return send_preflight(conn);
	}
	req.route_index = -1;
	if (up->too_large)
		reply = reply_error(413, "PAYLOAD_TOO_LARGE", "request body too large", NULL,
							json_pack("{s:I}", "limit_bytes", (json_int_t) config.body_limit));
	else
	{
		QueryArgs	args = {json_object(), false};

		/* HEAD is GET without the body (RFC 9110 9.3.2): MHD sends the headers only */
		req.method = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ? MHD_HTTP_METHOD_GET : method;
		req.path = url;
		req.body = up->data;
		req.body_size = up->size;
		req.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		req.idempotency_key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
		req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
		req.signature = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Stripe-Signature");
		req.cache_control = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cache-Control");
		req.client_address = client_address(conn, address, sizeof(address));
		MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, add_query_arg, &args);
		req.query = args.query;
		if (args.bad)
			reply = reply_error(400, "INVALID_QUERY", "invalid query string",
								"a query parameter's name or value is not UTF-8 text, or holds a NUL", NULL);
		else
			reply = route_request(&req);
		json_decref(req.query);
		if (reply.status == 200 && etag_matches(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match"),
												reply.etag))
			reply_not_modified(&reply);
	}
	log_access(method, url, reply.status, up, req.route_index);
	return send_reply(conn, reply);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode code)
{
	Upload	   *up = *state;

	if (up)
	{
		free(up->data);
		free(up);
		atomic_fetch_sub(&in_flight, 1);
	}
	*state = NULL;
	guard_request_done(conn);
}

/* Idle keep-alive clients each hold a descriptor: allow as many as the hard limit. */
static void
raise_file_limit(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
	{
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *daemon;
	sigset_t	stop_signals;
	int			sig;

	/* the proxy database's functions (proxy.c), for make: no server */
	if (argc == 2 && strcmp(argv[1], "--proxy-sql") == 0)
	{
		routes_check();
		return proxy_sql_print(stdout) ? 0 : 2;
	}
	if (!config_load())
		return 2;
	raise_file_limit();
	provider_init();			/* before any thread: curl_global_init */
	routes_init();
	if (!pool_start())
		log_event("warning", "starting without every database connection", config.database_url);
	/* block the stop signals in every thread; main waits for them below */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* an IPv6 address takes IPv4 too where it can: "::" is every interface of both */
	daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
							  (config.listen.ss_family == AF_INET6 ? MHD_USE_DUAL_STACK : 0),
							  (uint16_t) config.port, NULL, NULL, on_request, NULL,
							  MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &config.listen,
							  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) config.pool_size,
							  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
							  MHD_OPTION_CONNECTION_LIMIT, (unsigned int) config.max_connections,
							  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) config.max_per_address,
							  MHD_OPTION_NOTIFY_CONNECTION, guard_on_connection, NULL,
							  MHD_OPTION_END);
	if (daemon == NULL)
	{
		log_event("error", "could not listen", config.listen_text);
		return 1;
	}
	sweeper_start();
	payment_worker_start();
	guard_start();
	log_event("info", "evently-shim listening", config.listen_text);
	sigwait(&stop_signals, &sig);
	log_event("info", "draining in-flight requests", NULL);
	MHD_quiesce_daemon(daemon);
	atomic_store(&stopping, true);
	/*
	 * MHD_stop_daemon closes every connection once its handler returns, the
	 * answer unsent: wait until the requests running now have been answered
	 * (MHD calls on_completed once an answer is sent), for no longer than
	 * the longest statement they may run.
	 */
	for (int waited_ms = 0; atomic_load(&in_flight) > 0 &&
		 waited_ms < config.admin_statement_timeout_ms + 1000; waited_ms += 10)
		usleep(10 * 1000);
	MHD_stop_daemon(daemon);	/* waits for handlers that are running */
	guard_stop();
	payment_worker_stop();
	sweeper_stop();
	pool_stop();
	provider_cleanup();
	log_event("info", "evently-shim stopped", NULL);
	return 0;
}
