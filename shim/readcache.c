/*
 * readcache.c: the read path of SPEC section 12 -- a small in-process cache
 * of the answers to public, anonymous GETs (routes marked .public_read:
 * events, event lists, search, tiers, tags, a section's seats), and the
 * ETag every GET answer carries.
 *
 * Staleness: an answer is served for READ_CACHE_MS (default 1000, at most
 * 1000, 0: no cache) counted from the moment its database call began, so
 * nobody is shown data older than that plus one call.
 *
 * Single flight: the first request that finds its key missing or stale
 * calls the database (it "flies"); requests for the same key that arrive
 * meanwhile wait for that call to land and share its answer, whatever it
 * is.  One database call per key per refresh, however many clients ask.
 * Only 200 answers are kept for later requests.
 *
 * Bounded memory: READ_CACHE_MB (default 64) split evenly over NSHARDS
 * shards, each with its own lock, hash table and least-recently-used list.
 * When a shard is over its share, entries nobody is using are evicted from
 * its least recently used end; an answer larger than a shard's share is
 * never kept (nor counted while its waiters read it).
 *
 * A request that says `Cache-Control: no-cache` bypasses the cache (SPEC
 * section 12): it makes its own call, whose answer refreshes the entry.
 * `max-age=0`, which a browser's reload sends, is served as any other
 * request, at most READ_CACHE_MS old: a reload storm during an on-sale must
 * not reach the database.
 *
 * The cache only ever shows: holds, confirmations and every decision call
 * the database, since their routes are not public reads.
 */
#define _GNU_SOURCE				/* strcasestr */
#include "shim.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NSHARDS		16
#define SLOTS		1024		/* hash slots per shard */

typedef struct Entry
{
	struct Entry *chain;		/* the next entry in its hash slot */
	struct Entry *newer,
			   *older;			/* the shard's least-recently-used list */
	unsigned	hash;
	char	   *key;
	int			users;			/* requests waiting on or reading it: not evicted */
	bool		flying;			/* a request is calling the database for it */
	unsigned long landings;		/* calls landed: how a waiter knows its call landed */
	/* the last answer */
	int			status;			/* 0: none yet */
	int			retry_after;
	char	   *body;
	size_t		body_size;
	char		etag[ETAG_SIZE];
	double		fetched_ms;		/* monotonic, when its call began */
	bool		kept;			/* a 200 small enough: later requests may be served it */
	size_t		bytes;			/* what it counts against its shard's share */
} Entry;

typedef struct Shard
{
	pthread_mutex_t lock;
	pthread_cond_t landed;		/* a call landed: waiters look at their entry again */
	Entry	   *slots[SLOTS];
	Entry	   *newest,
			   *oldest;
	size_t		bytes;
	size_t		entries;
} Shard;

static Shard shards[NSHARDS];
static unsigned char hash_key[crypto_shorthash_KEYBYTES];
static size_t shard_budget;		/* bytes per shard */

static atomic_ulong hits;		/* served from memory, including after waiting for a call */
static atomic_ulong misses;		/* called the database for a missing or stale entry */
static atomic_ulong bypasses;	/* asked for a fresh answer (Cache-Control: no-cache) */
static atomic_ulong evictions;
static atomic_ulong not_modified;	/* 304s, cached or not */
static atomic_long waiting;		/* requests waiting for another's call right now */

/* From config: READ_CACHE_MS and READ_CACHE_MB.  Before the server starts. */
void
read_cache_init(void)
{
	if (sodium_init() < 0)
	{
		log_event("error", "libsodium could not start", "read cache");
		exit(1);
	}
	crypto_shorthash_keygen(hash_key);
	shard_budget = config.read_cache_bytes / NSHARDS;
	for (int i = 0; i < NSHARDS; i++)
	{
		pthread_mutex_init(&shards[i].lock, NULL);
		pthread_cond_init(&shards[i].landed, NULL);
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * SipHash with a key drawn at start-up: a client cannot choose query strings
 * whose keys pile up in one hash slot of one shard.
 */
static unsigned
hash_text(const char *s)
{
	unsigned char out[crypto_shorthash_BYTES];
	unsigned	h;

	crypto_shorthash(out, (const unsigned char *) s, strlen(s), hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* Does the request's Cache-Control bypass the cache (no-cache)? */
bool
read_cache_bypassed(const char *cache_control)
{
	return cache_control && strcasestr(cache_control, "no-cache");
}

/* ---- the shard's lists; the shard's lock is held ---- */

static void
unlink_lru(Shard *s, Entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		s->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		s->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void
push_newest(Shard *s, Entry *e)
{
	e->older = s->newest;
	e->newer = NULL;
	if (s->newest)
		s->newest->newer = e;
	s->newest = e;
	if (s->oldest == NULL)
		s->oldest = e;
}

/* The key's entry, now the most recently used; NULL if there is none. */
static Entry *
find(Shard *s, unsigned hash, const char *key)
{
	Entry	   *e;

	for (e = s->slots[hash % SLOTS]; e; e = e->chain)
		if (e->hash == hash && strcmp(e->key, key) == 0)
		{
			unlink_lru(s, e);
			push_newest(s, e);
			return e;
		}
	return NULL;
}

static Entry *
find_or_add(Shard *s, unsigned hash, const char *key)
{
	Entry	  **slot = &s->slots[hash % SLOTS];
	Entry	   *e = find(s, hash, key);

	if (e)
		return e;
	e = calloc(1, sizeof(Entry));
	e->hash = hash;
	e->key = strdup(key);
	e->bytes = sizeof(Entry) + strlen(key) + 1;
	e->chain = *slot;
	*slot = e;
	push_newest(s, e);
	s->bytes += e->bytes;
	s->entries++;
	return e;
}

/* May later requests be served the entry's answer? */
static bool
fresh(const Entry *e)
{
	return e->kept && now_ms() - e->fetched_ms < config.read_cache_ms;
}

static void
drop(Shard *s, Entry *e)
{
	Entry	  **link = &s->slots[e->hash % SLOTS];

	while (*link != e)
		link = &(*link)->chain;
	*link = e->chain;
	unlink_lru(s, e);
	s->bytes -= e->bytes;
	s->entries--;
	free(e->key);
	free(e->body);
	free(e);
}

/* Replace the entry's answer with a copy of reply's, from a call begun at `started`. */
static void
remember(Shard *s, Entry *e, const Reply *reply, double started)
{
	size_t		size = reply->body_size ? reply->body_size : strlen(reply->body);
	size_t		bytes = sizeof(Entry) + strlen(e->key) + 1 + size;

	free(e->body);
	e->body = malloc(size + 1);
	memcpy(e->body, reply->body, size);
	e->body[size] = '\0';
	e->body_size = size;
	e->status = reply->status;
	e->retry_after = reply->rate.retry_after;
	memcpy(e->etag, reply->etag, ETAG_SIZE);
	e->fetched_ms = started;
	e->kept = reply->status == 200 && bytes <= shard_budget;
	/*
	 * An answer not kept is freed when its last waiter lets go: counted, one
	 * larger than the share would push every other answer of the shard out.
	 */
	if (!e->kept)
		bytes -= size;
	s->bytes += bytes - e->bytes;
	e->bytes = bytes;
}

/* A copy of the entry's answer, for one request to send (and free). */
static Reply
answer_of(const Entry *e)
{
	Reply		reply = {e->status, malloc(e->body_size + 1)};

	memcpy(reply.body, e->body, e->body_size + 1);
	reply.body_size = e->body_size;
	reply.rate.retry_after = e->retry_after;
	memcpy(reply.etag, e->etag, ETAG_SIZE);
	return reply;
}

/*
 * Let go of the entry: one that holds nothing worth keeping goes at once;
 * then, while the shard is over its share, the least recently used that
 * nobody is using.
 */
static void
release(Shard *s, Entry *e)
{
	Entry	   *victim,
			   *next;

	e->users--;
	if (e->users == 0 && !e->flying && !e->kept)
		drop(s, e);
	for (victim = s->oldest; victim && s->bytes > shard_budget; victim = next)
	{
		next = victim->newer;	/* the next least recently used */
		if (victim->users == 0 && !victim->flying)
		{
			drop(s, victim);
			atomic_fetch_add(&evictions, 1);
		}
	}
}

/* A fresh answer to the key, if there is one: the common case, kept short. */
bool
read_cache_fresh(const char *key, Reply *reply)
{
	unsigned	hash = hash_text(key);
	Shard	   *s = &shards[hash % NSHARDS];
	Entry	   *e;
	bool		found;

	pthread_mutex_lock(&s->lock);
	e = find(s, hash, key);
	found = e && fresh(e);
	if (found)
		*reply = answer_of(e);
	pthread_mutex_unlock(&s->lock);
	if (found)
		atomic_fetch_add(&hits, 1);
	return found;
}

/* The route's handler, and the ETag of a 200. */
static Reply
call_route(const Route *route, Call *call)
{
	Reply		reply = route->handler(route, call);

	if (reply.status == 200)
		etag_set(&reply);
	return reply;
}

/*
 * Fly: call the database for the entry with the shard's lock let go, keep
 * the answer unless a no-cache request brought a newer one meanwhile, and
 * tell the waiters it landed.
 */
static Reply
fly(Shard *s, Entry *e, const Route *route, Call *call)
{
	double		started = now_ms();
	Reply		reply;

	e->flying = true;
	pthread_mutex_unlock(&s->lock);
	reply = call_route(route, call);
	atomic_fetch_add(&misses, 1);
	pthread_mutex_lock(&s->lock);
	if (e->status == 0 || started >= e->fetched_ms)
		remember(s, e, &reply, started);
	e->flying = false;
	e->landings++;
	pthread_cond_broadcast(&s->landed);
	return reply;
}

/* Cache-Control: no-cache: a call of its own, whose 200 refreshes the entry. */
static Reply
bypass(Shard *s, unsigned hash, const char *key, const Route *route, Call *call)
{
	double		started = now_ms();
	Reply		reply = call_route(route, call);
	Entry	   *e;

	atomic_fetch_add(&bypasses, 1);
	pthread_mutex_lock(&s->lock);
	e = find_or_add(s, hash, key);
	e->users++;
	if (reply.status == 200 && (e->status == 0 || started >= e->fetched_ms))
		remember(s, e, &reply, started);
	release(s, e);
	pthread_mutex_unlock(&s->lock);
	return reply;
}

/*
 * The answer to a public anonymous GET with this key: from memory when it
 * is fresh, else from the database by one call that every request for the
 * key arriving meanwhile shares.  `bypassing` (Cache-Control: no-cache,
 * read_cache_bypassed): a call of its own.
 */
Reply
read_cache_serve(const Route *route, Call *call, const char *key, bool bypassing)
{
	unsigned	hash = hash_text(key);
	Shard	   *s = &shards[hash % NSHARDS];
	Entry	   *e;
	Reply		reply;

	if (bypassing)
		return bypass(s, hash, key, route, call);
	pthread_mutex_lock(&s->lock);
	e = find_or_add(s, hash, key);
	e->users++;
	if (fresh(e))
	{
		reply = answer_of(e);
		atomic_fetch_add(&hits, 1);
	}
	else if (!e->flying)
		reply = fly(s, e, route, call);
	else
	{
		unsigned long landing = e->landings;

		/* bounded by the flying call's own statement timeout */
		atomic_fetch_add(&waiting, 1);
		while (e->landings == landing)
			pthread_cond_wait(&s->landed, &s->lock);
		atomic_fetch_sub(&waiting, 1);
		/* the call that was in the air when this request came: its answer, whatever it is */
		reply = answer_of(e);
		atomic_fetch_add(&hits, 1);
	}
	release(s, e);
	pthread_mutex_unlock(&s->lock);
	return reply;
}

/* ---- ETag and If-None-Match (every GET, cached or not) ---- */

/* A strong ETag: the first 128 bits of the body's SHA-256, in hex and quotes. */
void
etag_set(Reply *reply)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int length = 0;
	size_t		size = reply->body_size ? reply->body_size : strlen(reply->body);

	if (!EVP_Digest(reply->body, size, digest, &length, EVP_sha256(), NULL) || length < 16)
		return;					/* no ETag rather than a wrong one */
	reply->etag[0] = '"';
	for (int i = 0; i < 16; i++)
		snprintf(reply->etag + 1 + 2 * i, 3, "%02x", digest[i]);
	strcpy(reply->etag + 33, "\"");
}

/*
 * Does If-None-Match name this ETag?  A list of entity tags or "*", each
 * compared weakly (RFC 9110 13.1.2: W/ is ignored).
 */
bool
etag_matches(const char *if_none_match, const char *etag)
{
	const char *p = if_none_match;
	size_t		length = strlen(etag);

	if (p == NULL || etag[0] == '\0')
		return false;
	while (*p)
	{
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, length) == 0 && (p[length] == '\0' || strchr(" \t,", p[length])))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

/*
 * A 304 in place of a 200: its ETag, Cache-Control and Vary stay.  The body
 * is kept for its length only: MHD sends no body with a 304 but says the
 * body's Content-Length, which RFC 9110 8.6 allows of a 304 only when it is
 * the 200's (0 would be a lie a cache might store).
 */
void
reply_not_modified(Reply *reply)
{
	reply->status = 304;
	reply->content_type = NULL;
	atomic_fetch_add(&not_modified, 1);
}

/* Prometheus text for /metrics. */
void
read_cache_metrics(FILE *out)
{
	size_t		bytes = 0,
				entries = 0;

	for (int i = 0; i < NSHARDS; i++)
	{
		pthread_mutex_lock(&shards[i].lock);
		bytes += shards[i].bytes;
		entries += shards[i].entries;
		pthread_mutex_unlock(&shards[i].lock);
	}
	fprintf(out, "# HELP evently_read_cache_hits_total Public reads answered from the shim's memory "
			"(including those that waited for another request's call).\n"
			"# TYPE evently_read_cache_hits_total counter\nevently_read_cache_hits_total %lu\n"
			"# HELP evently_read_cache_misses_total Public reads that called the database.\n"
			"# TYPE evently_read_cache_misses_total counter\nevently_read_cache_misses_total %lu\n"
			"# HELP evently_read_cache_bypasses_total Public reads with Cache-Control: no-cache.\n"
			"# TYPE evently_read_cache_bypasses_total counter\nevently_read_cache_bypasses_total %lu\n"
			"# HELP evently_read_cache_evictions_total Answers evicted to keep within READ_CACHE_MB.\n"
			"# TYPE evently_read_cache_evictions_total counter\nevently_read_cache_evictions_total %lu\n"
			"# HELP evently_read_cache_waiting Requests waiting for another request's database call.\n"
			"# TYPE evently_read_cache_waiting gauge\nevently_read_cache_waiting %ld\n"
			"# HELP evently_read_cache_entries Keys in the cache.\n"
			"# TYPE evently_read_cache_entries gauge\nevently_read_cache_entries %zu\n"
			"# HELP evently_read_cache_bytes Memory the cache's entries take.\n"
			"# TYPE evently_read_cache_bytes gauge\nevently_read_cache_bytes %zu\n"
			"# HELP evently_http_not_modified_total GET answers sent as 304 Not Modified.\n"
			"# TYPE evently_http_not_modified_total counter\nevently_http_not_modified_total %lu\n",
			atomic_load(&hits), atomic_load(&misses), atomic_load(&bypasses), atomic_load(&evictions),
			atomic_load(&waiting), entries, bytes, atomic_load(&not_modified));
}
