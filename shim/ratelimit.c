/*
 * ratelimit.c: a token bucket per caller -- the user of a valid token, else
 * the client's address (X-Forwarded-For is not trusted: it is the client's
 * to forge).  Each bucket holds `burst` tokens and refills at `per_minute`;
 * a request takes one, and an empty bucket answers 429 with Retry-After.
 * Buckets idle for ten minutes are dropped when the table grows.  The
 * router's rate-limit step is at the end of this file.
 */
#include "shim.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS	4096
#define MAX_ENTRIES	100000
#define IDLE_SECONDS 600.0

typedef struct Bucket
{
	struct Bucket *next;
	char		key[64];
	double		tokens;
	double		updated;		/* seconds, monotonic */
} Bucket;

static Bucket *table[NBUCKETS];
static int	entries;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned
hash_key(const char *key)
{
	unsigned	h = 2166136261u;	/* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char) *key) * 16777619u;
	return h % NBUCKETS;
}

static void
drop_idle(double now)
{
	for (int i = 0; i < NBUCKETS; i++)
	{
		Bucket	  **link = &table[i];

		while (*link)
		{
			Bucket	   *b = *link;

			if (now - b->updated > IDLE_SECONDS)
			{
				*link = b->next;
				free(b);
				entries--;
			}
			else
				link = &b->next;
		}
	}
}

static Bucket *
find_bucket(const char *key, double now)
{
	unsigned	h = hash_key(key);
	Bucket	   *b;

	for (b = table[h]; b; b = b->next)
		if (strcmp(b->key, key) == 0)
			return b;
	if (entries >= MAX_ENTRIES)
		drop_idle(now);
	b = calloc(1, sizeof(Bucket));
	snprintf(b->key, sizeof(b->key), "%s", key);
	b->tokens = config.rate_burst;
	b->updated = now;
	b->next = table[h];
	table[h] = b;
	entries++;
	return b;
}

/* Take one token for key; fills *info for the X-RateLimit-* headers. */
static bool
rate_limit_take(const char *key, RateInfo *info)
{
	double		now = now_seconds();
	double		per_second = config.rate_per_minute / 60.0;
	bool		allowed;
	Bucket	   *b;

	pthread_mutex_lock(&lock);
	b = find_bucket(key, now);
	b->tokens = fmin(config.rate_burst, b->tokens + (now - b->updated) * per_second);
	b->updated = now;
	allowed = b->tokens >= 1.0;
	if (allowed)
		b->tokens -= 1.0;
	info->set = true;
	info->limit = config.rate_burst;
	info->remaining = (int) floor(b->tokens);
	info->reset = (long) time(NULL) + (long) ceil((config.rate_burst - b->tokens) / per_second);
	info->retry_after = allowed ? 0 : (int) ceil((1.0 - b->tokens) / per_second);
	pthread_mutex_unlock(&lock);
	return allowed;
}

static Reply
too_many_requests(const RateInfo *rate)
{
	Reply		reply = reply_error(429, "RATE_LIMITED", "Too many requests", NULL,
									json_pack("{s:i, s:i}", "limit", rate->limit,
											  "retry_after", rate->retry_after));

	reply.rate = *rate;
	return reply;
}

/*
 * The rate-limit step of a request: one token from key's bucket (the user of
 * a verified token, else the client's address).  False, with the 429 to
 * send in *refusal, when the bucket is empty; *rate feeds the headers.
 */
bool
rate_limit_request(const char *key, RateInfo *rate, Reply *refusal)
{
	if (rate_limit_take(key, rate))
		return true;
	*refusal = too_many_requests(rate);
	return false;
}

/*
 * A refusal before the rate-limit step (unknown route, missing or bad token)
 * costs the client's address a token too, so guessing routes or tokens is
 * limited like any other request; an empty bucket turns it into a 429.
 */
Reply
rate_limit_charge_refusal(Reply refusal, const char *address)
{
	RateInfo	rate;

	if (!rate_limit_take(address, &rate))
	{
		free(refusal.body);
		return too_many_requests(&rate);
	}
	refusal.rate = rate;
	return refusal;
}
