/*
 * metrics.c: Prometheus text for /metrics -- requests by route and status,
 * a latency histogram, pool use and the outbox lag.  Counters are atomics
 * indexed by route, so recording a request takes no lock.
 */
#include "shim.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTATUS		6			/* 1xx..5xx by hundreds, plus "other" */

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

/*
 * One row of counters per route of the table, sized from route_count, and
 * one more (the last) for requests no route matched: a new route can never
 * fall off the end and be counted as unmatched.
 */
static size_t unmatched;		/* the last row's index: route_count */
static char **route_labels;		/* "GET /api/v1/events/:eventId" */
static atomic_ulong (*requests)[NSTATUS];
static atomic_ulong latency_count[NBUCKETS + 1];
static atomic_ulong latency_total_us;

static void *
allocate(size_t count, size_t size)
{
	void	   *p = calloc(count, size);

	if (p == NULL)
	{
		log_event("error", "out of memory", "metrics");
		exit(1);
	}
	return p;
}

/* Before the server starts: the counters and labels of every route. */
void
metrics_init(void)
{
	unmatched = route_count;
	route_labels = allocate(route_count, sizeof(*route_labels));
	requests = allocate(route_count + 1, sizeof(*requests));
	for (size_t r = 0; r <= route_count; r++)
		for (int c = 0; c < NSTATUS; c++)
			atomic_init(&requests[r][c], 0);
	for (size_t r = 0; r < route_count; r++)
	{
		size_t		size = strlen(routes[r].method) + strlen(routes[r].pattern) + 2;

		route_labels[r] = allocate(size, 1);
		snprintf(route_labels[r], size, "%s %s", routes[r].method, routes[r].pattern);
	}
}

/* route: an index into the table, or -1 when no route matched */
void
metrics_record(int route, int status, double seconds)
{
	int			klass = status >= 100 && status < 600 ? status / 100 - 1 : NSTATUS - 1;
	size_t		row = route >= 0 && (size_t) route < route_count ? (size_t) route : unmatched;
	size_t		b = 0;

	atomic_fetch_add(&requests[row][klass], 1);
	while (b < NBUCKETS && seconds > buckets[b])
		b++;
	atomic_fetch_add(&latency_count[b], 1);
	atomic_fetch_add(&latency_total_us, (unsigned long) (seconds * 1e6));
}

/* The exposition text; the caller frees it. */
static char *
metrics_render(void)
{
	static const char *classes[NSTATUS] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
	char	   *text = NULL;
	size_t		size = 0;
	FILE	   *out = open_memstream(&text, &size);
	unsigned long cumulative = 0;
	int			busy,
				total;
	SqlResult	lag;

	fprintf(out, "# HELP evently_http_requests_total HTTP requests by route and status class.\n"
			"# TYPE evently_http_requests_total counter\n");
	for (size_t r = 0; r <= unmatched; r++)
		for (int c = 0; c < NSTATUS; c++)
		{
			unsigned long n = atomic_load(&requests[r][c]);

			if (n)
				fprintf(out, "evently_http_requests_total{route=\"%s\",status=\"%s\"} %lu\n",
						r == unmatched ? "unmatched" : route_labels[r], classes[c], n);
		}
	fprintf(out, "# HELP evently_http_request_duration_seconds Time to answer a request.\n"
			"# TYPE evently_http_request_duration_seconds histogram\n");
	for (size_t b = 0; b <= NBUCKETS; b++)
	{
		cumulative += atomic_load(&latency_count[b]);
		if (b < NBUCKETS)
			fprintf(out, "evently_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n", buckets[b], cumulative);
		else
			fprintf(out, "evently_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
	}
	fprintf(out, "evently_http_request_duration_seconds_sum %.6f\n", atomic_load(&latency_total_us) / 1e6);
	fprintf(out, "evently_http_request_duration_seconds_count %lu\n", cumulative);

	read_cache_metrics(out);
	pool_usage(&busy, &total);
	fprintf(out, "# HELP evently_db_pool_connections Database connections of the shim.\n"
			"# TYPE evently_db_pool_connections gauge\n"
			"evently_db_pool_connections{state=\"busy\"} %d\n"
			"evently_db_pool_connections{state=\"idle\"} %d\n", busy, total - busy);

	/* the same statement as /health: one definition of the outbox lag */
	lag = pool_query(HEALTH_STATEMENT_NAME, HEALTH_STATEMENT, 0, NULL);
	if (lag.ok && lag.value)
	{
		json_t	   *health = json_loads(lag.value, 0, NULL);

		fprintf(out, "# HELP evently_outbox_lag_rows Outbox rows not yet published to Kafka.\n"
				"# TYPE evently_outbox_lag_rows gauge\nevently_outbox_lag_rows %" JSON_INTEGER_FORMAT "\n"
				"# HELP evently_outbox_lag_seconds Age of the oldest unpublished outbox row.\n"
				"# TYPE evently_outbox_lag_seconds gauge\nevently_outbox_lag_seconds %.3f\n",
				json_integer_value(json_object_get(health, "outbox_lag_rows")),
				json_number_value(json_object_get(health, "outbox_lag_seconds")));
		json_decref(health);
	}
	sql_result_free(&lag);
	fclose(out);
	return text;
}

/* Prometheus text, not JSON: the one route outside the envelope. */
Reply
metrics_route(const Route *route, Call *call)
{
	Reply		reply = {200, metrics_render()};

	reply.content_type = "text/plain; version=0.0.4";
	return reply;
}
