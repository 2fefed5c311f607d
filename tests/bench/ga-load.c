/*
 * ga-load.c: the load of the GA flash sale benchmark (tests/bench/ga-flash-sale.sh).
 *
 *   ga-load BASE_URL EVENT_ID TIER_ID CLIENTS
 *
 * CLIENTS buyers, each with its own account (ga<n>@example.com, password
 * benchpass) and its own keep-alive connection, all driven by one thread
 * through libcurl's multi interface.  First every buyer logs in (2 at a
 * time: bcrypt; not timed, its BUSY answers not counted).  Then the clock starts and each buyer loops:
 *
 *   POST /api/v1/tickets/reserve   1-4 units of the tier (a fixed random
 *                                  sequence per buyer)
 *   POST /api/v1/orders            {hold_id, payment_provider: "mock"} with
 *                                  an Idempotency-Key, paid at once
 *
 * until the tier is sold out.  A SOLD_OUT refusal is not the end by itself:
 * SKIP LOCKED does not count units that a concurrent reservation has
 * locked and may still give back, so the buyer reads the tier
 * (GET /api/v1/events/:id/tiers) as a shop's page would, and stops only when
 * available_quantity is 0, or asks again for at most what is left.
 *
 * A transport error or a 5xx is counted and the same request sent again (an
 * order with the same Idempotency-Key, so that a retry cannot pay twice).
 * libcurl itself silently sends a request again on a new connection when a
 * kept-alive one dies before any answer: the connections opened during the
 * sale are counted, and more than one per buyer means the gateway dropped
 * some.
 * Every other unexpected answer is counted, its first few printed, and the
 * buyer moves on.  Output: "name value" lines for the script.
 *
 * Why not wrk: its latency histogram mixes the two calls, its Lua gets no
 * per-request timing, and it runs for a fixed time where this benchmark
 * runs until the last unit is sold.  One thread of libcurl multi keeps the
 * load generator to a small share of the two cores the shim and
 * PostgreSQL need.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the shim lets POOL_SIZE / 4 sign-ins run at once (bcrypt) and answers BUSY beyond */
#define LOGINS_AT_ONCE 2
#define SHOWN_ERRORS 5

typedef enum
{
	IDLE, LOGIN, RESERVE, ORDER, READ_TIER, DONE
} Step;

typedef struct
{
	double	   *v;
	size_t		n,
				cap;
} Samples;

typedef struct
{
	int			id;
	CURL	   *easy;
	struct curl_slist *headers;
	Step		step;
	char	   *token;
	unsigned	rng;
	int			quantity;		/* of the next reservation */
	int			orders;			/* made so far: names the next Idempotency-Key */
	char		hold_id[64];
	char		url[512];
	char		body[512];
	char	   *answer;
	size_t		answer_len;
} Client;

static const char *base,
		   *event_id,
		   *tier_id;
static Samples reserve_ms,
			order_ms,
			sold_out_ms;
static long n_units,
			n_orders,
			n_reserved,
			n_sold_out,
			n_tier_reads,
			n_retries,
			n_errors,
			n_connects;
static double t0,
			t_last_order;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
add_sample(Samples *s, double v)
{
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(double));
		if (!s->v)
			abort();
	}
	s->v[s->n++] = v;
}

static int
by_value(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* the nearest-rank percentile */
static double
percentile(Samples *s, double p)
{
	size_t		rank;

	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(double), by_value);
	rank = (size_t) (p / 100.0 * s->n + 0.999999);
	return s->v[rank == 0 ? 0 : rank - 1];
}

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	Client	   *c = arg;
	size_t		len = size * n;

	c->answer = realloc(c->answer, c->answer_len + len + 1);
	if (!c->answer)
		abort();
	memcpy(c->answer + c->answer_len, data, len);
	c->answer_len += len;
	c->answer[c->answer_len] = '\0';
	return len;
}

/* Prepare the client's next request for its step and hand it to multi. */
static void
send_next(CURLM *multi, Client *c)
{
	char		header[2200];

	curl_slist_free_all(c->headers);
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->token)
	{
		snprintf(header, sizeof(header), "Authorization: Bearer %s", c->token);
		c->headers = curl_slist_append(c->headers, header);
	}
	c->answer_len = 0;
	curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
	switch (c->step)
	{
		case LOGIN:
			snprintf(c->url, sizeof(c->url), "%s/api/v1/auth/login", base);
			snprintf(c->body, sizeof(c->body), "{\"email\":\"ga%d@example.com\",\"password\":\"benchpass\"}",
					 c->id);
			break;
		case RESERVE:
			snprintf(c->url, sizeof(c->url), "%s/api/v1/tickets/reserve", base);
			snprintf(c->body, sizeof(c->body),
					 "{\"event_id\":\"%s\",\"items\":[{\"tier_id\":\"%s\",\"quantity\":%d}]}",
					 event_id, tier_id, c->quantity);
			break;
		case ORDER:
			snprintf(c->url, sizeof(c->url), "%s/api/v1/orders", base);
			snprintf(c->body, sizeof(c->body), "{\"hold_id\":\"%s\",\"payment_provider\":\"mock\"}",
					 c->hold_id);
			snprintf(header, sizeof(header), "Idempotency-Key: ga-%d-%d", c->id, c->orders);
			c->headers = curl_slist_append(c->headers, header);
			break;
		case READ_TIER:
			snprintf(c->url, sizeof(c->url), "%s/api/v1/events/%s/tiers", base, event_id);
			c->body[0] = '\0';
			break;
		default:
			abort();
	}
	if (c->body[0])
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_multi_add_handle(multi, c->easy);
}

static int
next_quantity(Client *c)
{
	return 1 + (int) (rand_r(&c->rng) % 4);
}

/* print the first few; give up when a run goes wrong for good */
static void
show(Client *c, const char *what, long status, long count)
{
	if (count <= SHOWN_ERRORS)
		fprintf(stderr, "client %d, %s: HTTP %ld %.300s\n", c->id, what, status,
				c->answer_len ? c->answer : "(no answer)");
	if (count > 1000)
	{
		fprintf(stderr, "more than 1000 failed requests: stopping\n");
		exit(1);
	}
}

static void
unexpected(Client *c, const char *what, long status)
{
	show(c, what, status, ++n_errors);
}

/* A finished request moves the client to its next step. */
static void
on_answer(Client *c, CURLcode rc, long status, double ms)
{
	json_t	   *doc = NULL;
	const char *code = NULL;
	json_t	   *data;

	if (rc != CURLE_OK || status >= 500)
	{
		/* send the same request again (an order keeps its Idempotency-Key) */
		show(c, rc != CURLE_OK ? curl_easy_strerror(rc) : "server error, sent again", status, ++n_retries);
		if (c->step == LOGIN)
			usleep(100000);
		return;
	}
	if (c->answer_len)
		doc = json_loads(c->answer, 0, NULL);
	code = json_string_value(json_object_get(doc, "code"));
	data = json_object_get(doc, "data");
	switch (c->step)
	{
		case LOGIN:
			if (status == 200 && json_is_string(json_object_get(data, "access_token")))
			{
				c->token = strdup(json_string_value(json_object_get(data, "access_token")));
				c->step = IDLE;
			}
			else if (status == 429)		/* throttled: again, a little later */
				usleep(100000);
			else
			{
				unexpected(c, "login", status);
				exit(1);
			}
			break;
		case RESERVE:
			if (status == 200 && json_is_string(json_object_get(data, "hold_id")))
			{
				add_sample(&reserve_ms, ms);
				n_reserved++;
				snprintf(c->hold_id, sizeof(c->hold_id), "%s", json_string_value(json_object_get(data, "hold_id")));
				c->step = ORDER;
			}
			else if (status == 409 && code && strcmp(code, "SOLD_OUT") == 0)
			{
				add_sample(&sold_out_ms, ms);
				n_sold_out++;
				c->step = READ_TIER;
			}
			else
			{
				add_sample(&reserve_ms, ms);
				unexpected(c, "reserve", status);
				c->quantity = next_quantity(c);
			}
			break;
		case ORDER:
			add_sample(&order_ms, ms);
			if (status == 201 && json_is_string(json_object_get(data, "order_id"))
				&& strcmp(json_string_value(json_object_get(data, "status")), "PAID") == 0)
			{
				n_orders++;
				n_units += c->quantity;
				t_last_order = now_s();
			}
			else
				unexpected(c, "order", status);
			c->orders++;
			c->quantity = next_quantity(c);
			c->step = RESERVE;
			break;
		case READ_TIER:
			n_tier_reads++;
			if (status == 200 && json_is_array(data))
			{
				size_t		i;
				json_t	   *tier;
				long		left = -1;

				json_array_foreach(data, i, tier)
					if (json_is_string(json_object_get(tier, "id"))
						&& strcmp(json_string_value(json_object_get(tier, "id")), tier_id) == 0)
						left = (long) json_integer_value(json_object_get(tier, "available_quantity"));
				if (left == 0)
					c->step = DONE;
				else if (left > 0)
				{
					/* units a concurrent claim had locked: ask for at most what is left */
					if (c->quantity > left)
						c->quantity = (int) left;
					c->step = RESERVE;
				}
				else
				{
					unexpected(c, "tier read (tier missing)", status);
					c->step = DONE;
				}
			}
			else
			{
				unexpected(c, "tier read", status);
				c->step = DONE;
			}
			break;
		default:
			abort();
	}
	json_decref(doc);
}

/*
 * Drive the clients until none is in a step that sends; a client in IDLE is
 * started by start() when there is room (logins: a few at a time).
 */
static void
run(CURLM *multi, Client *clients, int n, int at_once)
{
	int			running = 0,
				next = 0;

	for (; next < n && running < at_once; next++, running++)
		send_next(multi, &clients[next]);
	while (running > 0)
	{
		int			still,
					left;
		CURLMsg    *msg;

		curl_multi_perform(multi, &still);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			Client	   *c;
			long		status = 0;
			curl_off_t	us = 0;
			long		connects = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &c);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
			n_connects += connects;
			curl_multi_remove_handle(multi, msg->easy_handle);
			on_answer(c, msg->data.result, status, us / 1000.0);
			if (c->step != IDLE && c->step != DONE)
				send_next(multi, c);
			else
			{
				running--;
				if (next < n)
				{
					send_next(multi, &clients[next++]);
					running++;
				}
			}
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
}

int
main(int argc, char **argv)
{
	CURLM	   *multi;
	Client	   *clients;
	int			n;
	double		t_login,
				t_end;

	if (argc != 5 || (n = atoi(argv[4])) < 1)
	{
		fprintf(stderr, "usage: %s BASE_URL EVENT_ID TIER_ID CLIENTS\n", argv[0]);
		return 2;
	}
	base = argv[1];
	event_id = argv[2];
	tier_id = argv[3];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) n + 8);
	clients = calloc(n, sizeof(Client));
	for (int i = 0; i < n; i++)
	{
		Client	   *c = &clients[i];

		c->id = i;
		c->rng = 0x9e3779b9u * (unsigned) (i + 1);
		c->quantity = next_quantity(c);
		c->step = LOGIN;
		c->easy = curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	}

	t_login = now_s();
	run(multi, clients, n, LOGINS_AT_ONCE);
	t_login = now_s() - t_login;
	n_retries = 0;
	n_connects = 0;

	for (int i = 0; i < n; i++)
		clients[i].step = RESERVE;
	t0 = now_s();
	run(multi, clients, n, n);
	t_end = now_s();

	printf("clients %d\n", n);
	printf("login_s %.1f\n", t_login);
	printf("sellout_s %.3f\n", t_last_order - t0);
	printf("all_done_s %.3f\n", t_end - t0);
	printf("orders %ld\n", n_orders);
	printf("units %ld\n", n_units);
	printf("reserved %ld\n", n_reserved);
	printf("sold_out %ld\n", n_sold_out);
	printf("tier_reads %ld\n", n_tier_reads);
	printf("retries %ld\n", n_retries);
	printf("errors %ld\n", n_errors);
	printf("connections %ld\n", n_connects);
	printf("reserve_p50_ms %.2f\nreserve_p99_ms %.2f\n", percentile(&reserve_ms, 50), percentile(&reserve_ms, 99));
	printf("sold_out_p50_ms %.2f\nsold_out_p99_ms %.2f\n", percentile(&sold_out_ms, 50),
		   percentile(&sold_out_ms, 99));
	printf("order_p50_ms %.2f\norder_p99_ms %.2f\n", percentile(&order_ms, 50), percentile(&order_ms, 99));
	return 0;
}
