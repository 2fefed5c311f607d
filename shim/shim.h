/*
 * shim.h: what the HTTP gateway's files share.
 *
 * The shim maps each REST call onto one `SELECT evently.*` call: the route
 * table (routes.c) names the SQL, the router (router.c) picks the route and
 * takes the request through authentication (auth.c) and the rate limit
 * (ratelimit.c) to its handler (handlers.c, sessions.c), the pool (pool.c)
 * runs the SQL as one prepared statement on one connection, respond.c wraps
 * the jsonb it returns -- or the SQLSTATE it raised -- in the API's envelope.
 */
#ifndef EVENTLY_SHIM_H
#define EVENTLY_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sys/socket.h>

/* ---- config.c ---- */
typedef struct ShimConfig
{
	int			port;
	struct sockaddr_storage listen;	/* LISTEN_ADDRESS (default 127.0.0.1) and port */
	char		listen_text[64];	/* the same, as "127.0.0.1:8080" or "[::1]:8080" */
	const char *database_url;
	int			pool_size;
	int			statement_timeout_ms;
	int			admin_statement_timeout_ms; /* ADMIN routes: an event's cancellation refunds every booking */
	size_t		body_limit;
	const char *jwt_secret;		/* at least 32 bytes */
	int			rate_per_minute;	/* token refill per caller */
	int			rate_burst;		/* bucket size per caller */
	const char *cors_origins;	/* comma-separated allow-list, or NULL */
	int			max_connections;	/* open HTTP connections at once */
	int			max_per_address;	/* open HTTP connections from one client address */
	int			head_timeout_s; /* from connection (or last answer) to a complete request head */
	int			body_timeout_s; /* from the head to the whole body */
	int			password_slots; /* bcrypt calls (login, register, new password) at once */
	/* the card payment provider (provider.c), the Stripe API's shape */
	const char *payment_api_base;	/* PAYMENT_API_BASE, default https://api.stripe.com */
	const char *payment_secret_key; /* PAYMENT_SECRET_KEY, or NULL: no card payments */
	const char *payment_webhook_secret; /* PAYMENT_WEBHOOK_SECRET, or NULL: every webhook refused */
	int			payment_timeout_ms; /* one provider call, connection included */
	int			payment_slots;	/* card orders waiting on the provider at once */
	/* the read cache (readcache.c, SPEC section 12) */
	int			read_cache_ms;	/* READ_CACHE_MS: how long an answer is served; 0: no cache */
	size_t		read_cache_bytes;	/* READ_CACHE_MB, in bytes */
} ShimConfig;

extern ShimConfig config;
bool		config_load(void);

/* ---- log.c: one JSON line per request or event on stderr ---- */
void		log_event(const char *level, const char *message, const char *detail);

/*
 * How the shim writes JSON that carries numbers: jansson holds a number as a
 * double and by default prints 17 digits, so 19.99 would reach SQL (and
 * clients) as 19.989999999999998.  15 significant digits give every decimal
 * of up to 15 digits back exactly.
 */
#define JSON_NUMBERS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* /health's statement, also read by /metrics */
#define HEALTH_STATEMENT_NAME "health"
#define HEALTH_STATEMENT "SELECT evently.health()"

/* ---- pool.c: a fixed pool of libpq connections with prepared statements ---- */
typedef struct SqlResult
{
	bool		ok;				/* the statement succeeded */
	char	   *value;			/* first column of the first row, or NULL */
	char		sqlstate[6];	/* on failure */
	char	   *message;		/* on failure */
	char	   *detail;			/* on failure, may be NULL */
	char	   *hint;			/* on failure, may be NULL or empty */
} SqlResult;

bool		pool_start(void);
void		pool_stop(void);
/* Run the statement `sql` (prepared once per connection as `name`) with text params. */
SqlResult	pool_query(const char *name, const char *sql, int nparams, const char *const *params);
SqlResult	pool_query_timeout(const char *name, const char *sql, int nparams, const char *const *params,
							   int timeout_ms);
void		sql_result_free(SqlResult *r);
void		pool_usage(int *busy, int *total);

/* ---- metrics.c: Prometheus text ---- */
void		metrics_init(void);
void		metrics_record(int route, int status, double seconds);

/* ---- sweeper.c: evently.expire_holds() every second ---- */
void		sweeper_start(void);
void		sweeper_stop(void);

/* ---- provider.c: the card payment provider, spoken to as the Stripe API ---- */
typedef enum ProviderOutcome
{
	PROVIDER_OK,				/* 2xx: the object it created, or found under the idempotency key */
	PROVIDER_REFUSED,			/* a definite no (4xx but 409 and 429): record it */
	PROVIDER_UNAVAILABLE		/* no answer in time, 5xx, 409, 429, an unreadable answer: retry later */
} ProviderOutcome;

typedef struct ProviderResult
{
	ProviderOutcome outcome;
	long		http_status;	/* 0: no answer */
	json_t	   *object;			/* PROVIDER_OK: the provider's object, owned */
	char		error[256];		/* otherwise: why (the provider's message, or curl's) */
} ProviderResult;

typedef enum SignatureCheck
{
	SIGNATURE_OK,
	SIGNATURE_NO_SECRET,		/* PAYMENT_WEBHOOK_SECRET is not set */
	SIGNATURE_MISSING,			/* no Stripe-Signature header */
	SIGNATURE_MALFORMED,		/* no t=, a t= that is no unix time, or no v1= */
	SIGNATURE_STALE,			/* t= more than WEBHOOK_TOLERANCE_S from now */
	SIGNATURE_MISMATCH			/* no v1= is the body's HMAC */
} SignatureCheck;

#define WEBHOOK_TOLERANCE_S	300 /* Stripe's own default */

void		provider_init(void);
void		provider_cleanup(void);
bool		provider_configured(void);
ProviderResult provider_create_intent(const char *idempotency_key, const char *order_id,
									  const char *payment_id, json_int_t amount_minor, const char *currency);
ProviderResult provider_create_refund(const char *idempotency_key, const char *refund_id,
									  const char *payment_intent, json_int_t amount_minor);
void		provider_result_free(ProviderResult *r);
SignatureCheck provider_verify_signature(const char *header, const char *body, size_t size, long now);
const char *signature_problem(SignatureCheck check);

/* ---- payments.c: card orders, the provider's webhook, the payment worker ---- */
#define WEBHOOK_BODY_LIMIT	(64 * 1024)
#define PAYMENT_BATCH		20	/* tasks the worker takes from evently.payment_work() at once */

void		payment_worker_start(void);
void		payment_worker_stop(void);

/* ---- respond.c: envelopes and the SQLSTATE -> HTTP table ---- */
typedef struct RateInfo
{
	bool		set;
	int			limit;
	int			remaining;
	long		reset;			/* unix seconds when the bucket is full again */
	int			retry_after;	/* seconds, on 429 */
} RateInfo;

#define ETAG_SIZE	40			/* "<32 hex digits>" and its NUL */

typedef struct Reply
{
	int			status;
	char	   *body;			/* JSON text, owned */
	RateInfo	rate;
	const char *content_type;	/* NULL: application/json */
	size_t		body_size;		/* 0: strlen(body) */
	const char *location;		/* a redirect's target */
	char		filename[80];	/* a download's name (Content-Disposition: attachment), or "" */
	bool		varies_by_accept;	/* the answer depends on Accept (Vary: Accept) */
	const char *cache_control;	/* a Cache-Control header, or NULL: private, no-store */
	bool		varies_by_authorization;	/* a public answer a token would change (Vary: Authorization) */
	char		etag[ETAG_SIZE];	/* a GET's 200: its ETag, or "" */
} Reply;

Reply		reply_success(int status, const char *message, json_t *data);
Reply		reply_error(int status, const char *code, const char *message, const char *error,
						json_t *details);
Reply		reply_validation(json_t *errors);
Reply		reply_from_sql(SqlResult *r, int success_status, const char *message);

/* ---- tokens.c: JWT HS256 ---- */
#define ACCESS_TOKEN_SECONDS	900
#define REFRESH_TOKEN_SECONDS	86400

typedef struct Claims
{
	char		user_id[40];
	char		email[256];
	char		role[16];
	char		jti[40];
	long		epoch;			/* the user's session epoch when the token was made; -1: none */
} Claims;

/* A token for the session the SQL side opened (its jti and epoch). */
char	   *token_issue(const char *user_id, const char *email, const char *role, const char *type,
						const char *jti, long epoch, int ttl_seconds);
bool		token_verify(const char *token, const char *expected_type, Claims *claims,
						 const char **why);

/* ---- validate.c: a route's declared body fields ---- */
typedef enum FieldType
{
	FIELD_STRING, FIELD_UUID, FIELD_INT, FIELD_NUMBER, FIELD_BOOL, FIELD_UUID_ARRAY, FIELD_OBJECT,
	FIELD_STRING_ARRAY,			/* items: strings of at most 255 characters */
	FIELD_ARRAY					/* items: anything; SQL checks them */
} FieldType;

typedef struct Field
{
	const char *name;
	FieldType	type;
	bool		required;
	double		min;			/* length, value or item count */
	double		max;
	bool		nullable;		/* an update may send null to clear it */
} Field;

bool		is_uuid(const char *s);
/*
 * strict (an update, PUT): every field the body sends must be declared, and
 * null only where nullable: a field an update would ignore is refused, never
 * answered 200.
 */
json_t	   *validate_body(const Field *fields, json_t *body, bool strict);
long		inexact_number_at(const char *text, size_t len);

/* ---- routes.c: the route table ---- */
typedef enum AuthRule
{
	AUTH_PUBLIC,				/* no token needed */
	AUTH_OPTIONAL,				/* public, but a valid token makes its user the actor */
	AUTH_USER,					/* any valid access token */
	AUTH_ADMIN					/* an access token with role ADMIN */
} AuthRule;

/*
 * Where a route's SQL call runs when evently is sharded by event (SPEC
 * section 13): the proxy database's function of the same name is generated
 * from this (proxy.c, `evently-shim --proxy-sql`).  One database ignores it.
 */
typedef enum ShardRule
{
	SHARD_NONE,					/* no evently.api_* call (refused at start-up for one that has) */
	SHARD_BY_ID,				/* the shard of the bucket in the first id found at shard_key, a
								 * comma-separated list of req paths ("body.hold_id,path.id";
								 * "code:body.scans.0.code": the event a ticket code names) */
	SHARD_PLACE,				/* a new event: the proxy picks its shard */
	SHARD_GLOBAL,				/* the global primary (users, tags, venues, sessions) */
	SHARD_GLOBAL_UNUSED,		/* the global primary, once every shard found the object of kind
								 * shard_key ("template", "section", "seat", "tag"; id path.id) unused */
	SHARD_GLOBAL_WRAPPED,		/* the global primary, through evently.<fn> written by hand in
								 * extension/proxy/base.sql (a ban: what the shards withdraw) */
	SHARD_ALL,					/* every shard, the answers merged on the proxy by the merge
								 * named shard_key (extension/proxy/base.sql) */
	SHARD_REPORT				/* the reporting database, which subscribes to every shard */
} ShardRule;

typedef struct Route Route;

/* One call: the acting user (NULL on public routes) and the request as JSON. */
typedef struct Call
{
	const char *actor;
	json_t	   *req;			/* {"path":{…}, "query":{…}, "body":{…}, "idempotency_key":…,
								 * "session":{"epoch":…} when there is an actor} */
	const char *authorization;	/* the Authorization header, for a public route that reads it (logout) */
	const char *accept;			/* the Accept header, for a route that can answer a file (csv_route) */
	const char *raw_body;		/* a raw_body route's bytes, as sent ("" when none) */
	size_t		raw_body_size;
	const char *signature;		/* the Stripe-Signature header, for the card provider's webhook */
} Call;

typedef Reply (*Handler) (const Route *route, Call *call);

struct Route
{
	const char *method;
	const char *pattern;		/* "/api/v1/events/:eventId": at most MAX_PATH_PARAMS parameters */
	AuthRule	auth;
	Handler		handler;
	const char *name;			/* prepared statement name: the SQL function */
	const char *sql;
	int			success_status;
	const char *message;
	const Field *body;			/* declared body fields, NULL-terminated; NULL: no body */
	bool		raw_body;		/* the handler reads the body's exact bytes itself (a signed
								 * webhook): the router neither parses nor checks it */
	bool		bulk;			/* may write many rows at once (a tier's million units, an
								 * event's every booking): ADMIN_STATEMENT_TIMEOUT_MS */
	bool		public_read;	/* a GET whose anonymous answer is the same for everyone:
								 * the read cache may serve it (readcache.c) */
	ShardRule	shard;			/* where the call runs on shards, and its key */
	const char *shard_key;
};

/*
 * What depends on the number of routes is sized from route_count at
 * start-up (metrics' counters, /openapi.json) or grows (the pool's list of
 * prepared statements): the table has no size limit of its own.
 */
extern const Route routes[];
extern const size_t route_count;

/* Check the table, then build what is derived from it; exits on a bad row. */
void		routes_init(void);
void		routes_check(void);

/* ---- router.c: from method and path to a route, and through its steps ---- */
#define MAX_PATH_PARAMS		4	/* parameters in one pattern */
#define MAX_PARAM_NAME		32	/* bytes of a parameter's name, with its NUL */
#define MAX_PARAM_VALUE		64	/* bytes of a parameter's value, with its NUL */

typedef struct Request
{
	const char *method;
	const char *path;
	const char *body;
	size_t		body_size;
	const char *authorization;	/* the Authorization header, if any */
	const char *idempotency_key;	/* the Idempotency-Key header, if any */
	const char *accept;			/* the Accept header, if any */
	const char *signature;		/* the Stripe-Signature header, if any */
	const char *cache_control;	/* the Cache-Control header, if any */
	const char *client_address;	/* the peer's IP address */
	int			route_index;	/* set by route_request: which route served it, -1 none */
	json_t	   *query;			/* query-string arguments */
} Request;

void		router_init(void);
Reply		route_request(Request *req);
bool		pattern_fits(const char *pattern, const char **why);

/* ---- auth.c: who is calling ---- */
bool		authenticate(const Route *route, const char *authorization, Claims *claims,
						 Reply *refusal);
const char *actor_of(const Claims *claims);

/* ---- ratelimit.c: a token bucket per user or client address ---- */
bool		rate_limit_request(const char *key, RateInfo *rate, Reply *refusal);
Reply		rate_limit_charge_refusal(Reply refusal, const char *address);

/* ---- handlers.c: the SQL call most routes are, and the service routes ---- */
SqlResult	call_sql(const Route *route, Call *call);
Reply		sql_route(const Route *route, Call *call);
Reply		csv_route(const Route *route, Call *call);
Reply		qr_route(const Route *route, Call *call);
Reply		ping_route(const Route *route, Call *call);
Reply		status_route(const Route *route, Call *call);
Reply		health_route(const Route *route, Call *call);
Reply		root_route(const Route *route, Call *call);

/* ---- payments.c: its routes ---- */
Reply		order_create_route(const Route *route, Call *call);
Reply		card_webhook_route(const Route *route, Call *call);

/* ---- sessions.c: register, login, refresh, logout ---- */
Reply		session_route(const Route *route, Call *call);
Reply		password_session_route(const Route *route, Call *call);
Reply		password_change_route(const Route *route, Call *call);
Reply		refresh_route(const Route *route, Call *call);
Reply		logout_route(const Route *route, Call *call);

/* ---- metrics.c, openapi.c: their routes ---- */
Reply		metrics_route(const Route *route, Call *call);
void		openapi_init(void);

/* ---- proxy.c: the proxy database's functions, from the route table ---- */
bool		proxy_sql_print(FILE *out);
Reply		openapi_route(const Route *route, Call *call);
Reply		docs_route(const Route *route, Call *call);
Reply		docs_asset_route(const Route *route, Call *call);

/* ---- readcache.c: public reads from memory (SPEC section 12), ETags ---- */
void		read_cache_init(void);
bool		read_cache_bypassed(const char *cache_control);
bool		read_cache_fresh(const char *key, Reply *reply);
Reply		read_cache_serve(const Route *route, Call *call, const char *key, bool bypassing);
void		read_cache_metrics(FILE *out);
void		etag_set(Reply *reply);
bool		etag_matches(const char *if_none_match, const char *etag);
void		reply_not_modified(Reply *reply);

#endif
