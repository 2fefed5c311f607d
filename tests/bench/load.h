/*
 * load.h: what the benchmarks' HTTP load generators share (ga-load.c,
 * flash-load.c), included once by each program (one translation unit).
 *
 * Buyers, each with its own account and its own keep-alive connection, all
 * driven by one thread through libcurl's multi interface: one thread keeps
 * the load generator to a small share of the two cores the shim and
 * PostgreSQL need.  A program gives two callbacks: prepare(buyer) sets the
 * request of the buyer's step (url, body, extra header, anonymous or not;
 * called again, unchanged, to send a request again) and answer(buyer, status,
 * ms) moves the buyer to its next step.  A buyer in STEP_IDLE or STEP_DONE
 * sends nothing more in this run, and the next waiting buyer starts (logins
 * run a few at a time).
 *
 * A transport error or a 5xx is counted and the same request sent again
 * (with the same Idempotency-Key, so that a retry cannot hold or pay
 * twice).  libcurl itself silently sends a request again on a new connection
 * when a kept-alive one dies before any answer: the connections opened are
 * counted, and more than one per buyer means the gateway dropped some.  Every
 * other unexpected answer is counted, its first few printed, and the program
 * moves the buyer on.  Output: "name value" lines for the script.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* the shim lets POOL_SIZE / 4 sign-ins run at once (bcrypt) and answers BUSY beyond */
#define LOGINS_AT_ONCE 2
#define SHOWN_ERRORS 5

/* the steps every program has; its own start at STEP_FIRST */
enum
{
	STEP_IDLE, STEP_DONE, STEP_LOGIN, STEP_FIRST
};

typedef struct
{
	double	   *v;
	size_t		n,
				cap;
} Samples;

typedef struct Buyer
{
	int			id;
	CURL	   *easy;
	struct curl_slist *headers;
	int			step;
	char	   *token;
	unsigned	rng;
	/* the next request, set by prepare() */
	bool		anonymous;		/* without the Authorization header */
	char		header[128];	/* one more header ("Idempotency-Key: ..."), or "" */
	char		url[512];
	char		body[1024];		/* "": a GET */
	/* its answer */
	char	   *answer;
	size_t		answer_len,
				answer_cap;
} Buyer;

typedef void (*PrepareFn) (Buyer *b);
typedef void (*AnswerFn) (Buyer *b, long status, double ms);

static const char *base_url;
static const char *login_email;	/* printf format of a buyer's address, by id */
static long n_retries,
			n_errors,
			n_connects;
static double cpu_at_start;		/* this process's CPU seconds when the clock started */
static double t_started,		/* the clock's start, after the logins */
			t_last_sale;		/* the end of the last purchase: the sell-out */

/* this process's CPU seconds, user and system */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

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

/* "name_p50_ms" and "name_p99_ms" lines */
static void
print_percentiles(const char *name, Samples *s)
{
	printf("%s_p50_ms %.2f\n%s_p99_ms %.2f\n", name, percentile(s, 50), name, percentile(s, 99));
}

static size_t
on_data(char *data, size_t size, size_t n, void *arg)
{
	Buyer	   *b = arg;
	size_t		len = size * n;

	if (b->answer_len + len + 1 > b->answer_cap)
	{
		b->answer_cap = (b->answer_len + len + 1) * 2;
		b->answer = realloc(b->answer, b->answer_cap);
		if (!b->answer)
			abort();
	}
	memcpy(b->answer + b->answer_len, data, len);
	b->answer_len += len;
	b->answer[b->answer_len] = '\0';
	return len;
}

/* the answer as JSON (NULL if none); the caller json_decref()s it */
static json_t *
answer_json(Buyer *b)
{
	return b->answer_len ? json_loads(b->answer, 0, NULL) : NULL;
}

/* a string member of the answer's "data" object, or NULL */
static const char *
data_string(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(json_object_get(doc, "data"), key));
}

/* print the first few; give up when a run goes wrong for good */
static void
show(Buyer *b, const char *what, long status, long count)
{
	if (count <= SHOWN_ERRORS)
		fprintf(stderr, "client %d, %s: HTTP %ld %.300s\n", b->id, what, status,
				b->answer_len ? b->answer : "(no answer)");
	if (count > 1000)
	{
		fprintf(stderr, "more than 1000 failed requests: stopping\n");
		exit(1);
	}
}

static void
unexpected(Buyer *b, const char *what, long status)
{
	show(b, what, status, ++n_errors);
}

/* Prepare the buyer's next request for its step and hand it to multi. */
static void
send_next(CURLM *multi, Buyer *b, PrepareFn prepare)
{
	char		header[2200];

	b->anonymous = false;
	b->header[0] = '\0';
	b->body[0] = '\0';
	b->answer_len = 0;
	prepare(b);
	curl_slist_free_all(b->headers);
	b->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (b->token && !b->anonymous)
	{
		snprintf(header, sizeof(header), "Authorization: Bearer %s", b->token);
		b->headers = curl_slist_append(b->headers, header);
	}
	if (b->header[0])
		b->headers = curl_slist_append(b->headers, b->header);
	curl_easy_setopt(b->easy, CURLOPT_HTTPGET, 1L);
	if (b->body[0])
		curl_easy_setopt(b->easy, CURLOPT_POSTFIELDS, b->body);
	curl_easy_setopt(b->easy, CURLOPT_URL, b->url);
	curl_easy_setopt(b->easy, CURLOPT_HTTPHEADER, b->headers);
	curl_multi_add_handle(multi, b->easy);
}

/*
 * Drive the buyers until none is in a step that sends; at most at_once of
 * them are under way, the others wait in turn.
 */
static void
run(CURLM *multi, Buyer *buyers, int n, int at_once, PrepareFn prepare, AnswerFn answer)
{
	int			running = 0,
				next = 0;

	for (; next < n && running < at_once; next++, running++)
		send_next(multi, &buyers[next], prepare);
	while (running > 0)
	{
		int			still,
					left;
		CURLMsg    *msg;

		curl_multi_perform(multi, &still);
		while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		{
			Buyer	   *b;
			long		status = 0;
			curl_off_t	us = 0;
			long		connects = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &b);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
			n_connects += connects;
			curl_multi_remove_handle(multi, msg->easy_handle);
			if (msg->data.result != CURLE_OK || status >= 500)
			{
				/* the same request again (same Idempotency-Key) */
				show(b, msg->data.result != CURLE_OK ? curl_easy_strerror(msg->data.result)
					 : "server error, sent again", status, ++n_retries);
				if (b->step == STEP_LOGIN)
					usleep(100000);
			}
			else
				answer(b, status, us / 1000.0);
			if (b->step != STEP_IDLE && b->step != STEP_DONE)
				send_next(multi, b, prepare);
			else
			{
				running--;
				if (next < n)
				{
					send_next(multi, &buyers[next++], prepare);
					running++;
				}
			}
		}
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
}

/*
 * The clock starts: create the file LOAD_STARTED names, if any, so that the
 * script measures from here on (CPU, samples), not the logins.
 */
static void
mark_started(void)
{
	const char *path = getenv("LOAD_STARTED");
	FILE	   *f;

	cpu_at_start = cpu_s();
	if (path && (f = fopen(path, "w")) != NULL)
		fclose(f);
}

static void
login_prepare(Buyer *b)
{
	snprintf(b->url, sizeof(b->url), "%s/api/v1/auth/login", base_url);
	snprintf(b->body, sizeof(b->body), "{\"email\":\"");
	snprintf(b->body + strlen(b->body), sizeof(b->body) - strlen(b->body), login_email, b->id);
	snprintf(b->body + strlen(b->body), sizeof(b->body) - strlen(b->body), "\",\"password\":\"benchpass\"}");
}

static void
login_answer(Buyer *b, long status, double ms)
{
	json_t	   *doc = answer_json(b);
	const char *token = data_string(doc, "access_token");

	if (status == 200 && token)
	{
		b->token = strdup(token);
		b->step = STEP_IDLE;
	}
	else if (status == 429)		/* throttled: again, a little later */
		usleep(100000);
	else
	{
		unexpected(b, "login", status);
		exit(1);
	}
	json_decref(doc);
}

/*
 * n buyers with their handles, logged in as email_format (with the buyer's
 * number; password benchpass) a few at a time: not timed, its failed
 * requests and connections not counted.  Returns the buyers, all IDLE.
 */
static Buyer *
login_all(CURLM *multi, int n, const char *email_format, double *seconds)
{
	Buyer	   *buyers = calloc(n, sizeof(Buyer));
	double		t = now_s();

	login_email = email_format;
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) n + 8);
	for (int i = 0; i < n; i++)
	{
		Buyer	   *b = &buyers[i];

		b->id = i;
		b->rng = 0x9e3779b9u * (unsigned) (i + 1);
		b->step = STEP_LOGIN;
		b->easy = curl_easy_init();
		curl_easy_setopt(b->easy, CURLOPT_PRIVATE, b);
		curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
		curl_easy_setopt(b->easy, CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(b->easy, CURLOPT_NOSIGNAL, 1L);
	}
	run(multi, buyers, n, LOGINS_AT_ONCE, login_prepare, login_answer);
	*seconds = now_s() - t;
	n_retries = 0;
	n_connects = 0;
	mark_started();
	return buyers;
}

/*
 * The whole load: n buyers log in as email_format (not timed), start(buyer)
 * sets each one's first step, the clock starts and they run until each is
 * done; then the figures every program reports (its own follow).
 */
static void
run_sale(int n, const char *email_format, void (*start) (Buyer *), PrepareFn prepare, AnswerFn answer)
{
	CURLM	   *multi;
	Buyer	   *buyers;
	double		login_s;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	multi = curl_multi_init();
	buyers = login_all(multi, n, email_format, &login_s);
	for (int i = 0; i < n; i++)
		start(&buyers[i]);
	t_started = now_s();
	run(multi, buyers, n, n, prepare, answer);

	printf("clients %d\n", n);
	printf("login_s %.1f\n", login_s);
	printf("sellout_s %.3f\n", t_last_sale - t_started);
	printf("all_done_s %.3f\n", now_s() - t_started);
	printf("retries %ld\n", n_retries);
	printf("errors %ld\n", n_errors);
	printf("connections %ld\n", n_connects);
	printf("load_cpu_s %.2f\n", cpu_s() - cpu_at_start);	/* since the clock started */
}
