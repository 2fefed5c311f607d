/*
 * pool.c: a fixed pool of PostgreSQL connections.
 *
 * A request borrows one connection for one statement.  Each connection
 * prepares a route's statement the first time it runs it, and remembers
 * that it did in a list that grows with the statements (every route of the
 * table, the sweeper's, /health's): a statement it forgot would be prepared
 * again and fail.  A broken connection is reset on the next borrow, so a
 * database restart heals itself.
 */
#include "shim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTEMPTS 3

typedef struct PooledConn
{
	PGconn	   *conn;
	bool		busy;
	size_t		nprepared;
	size_t		capacity;
	const char **prepared;		/* statement names (static strings) */
} PooledConn;

static PooledConn *conns;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_free = PTHREAD_COND_INITIALIZER;

/*
 * A notice from the database goes to the JSON log, not to stderr as libpq
 * would print it: on shards PL/Proxy says "dropping stale conn" after every
 * refused call (SPEC section 13).
 */
static void
log_notice(void *arg, const PGresult *res)
{
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	log_event("notice", message ? message : "(no message)", NULL);
}

static bool
connect_one(PooledConn *pc)
{
	char		options[64];
	const char *keys[] = {"dbname", "options", "application_name", NULL};
	const char *values[] = {config.database_url, options, "evently-shim", NULL};

	snprintf(options, sizeof(options), "-c statement_timeout=%d", config.statement_timeout_ms);
	if (pc->conn)
		PQfinish(pc->conn);
	pc->conn = PQconnectdbParams(keys, values, 1);
	pc->nprepared = 0;
	if (PQstatus(pc->conn) != CONNECTION_OK)
	{
		log_event("error", "database connection failed", PQerrorMessage(pc->conn));
		return false;
	}
	PQsetNoticeReceiver(pc->conn, log_notice, NULL);
	return true;
}

bool
pool_start(void)
{
	bool		all_ok = true;

	conns = calloc(config.pool_size, sizeof(PooledConn));
	for (int i = 0; i < config.pool_size; i++)
		all_ok &= connect_one(&conns[i]);
	return all_ok;
}

void
pool_stop(void)
{
	for (int i = 0; i < config.pool_size; i++)
	{
		if (conns[i].conn)
			PQfinish(conns[i].conn);
		free(conns[i].prepared);
	}
	free(conns);
}

static PooledConn *
borrow(void)
{
	PooledConn *pc = NULL;

	pthread_mutex_lock(&pool_lock);
	while (pc == NULL)
	{
		for (int i = 0; i < config.pool_size && pc == NULL; i++)
			if (!conns[i].busy)
				pc = &conns[i];
		if (pc == NULL)
			pthread_cond_wait(&pool_free, &pool_lock);
	}
	pc->busy = true;
	pthread_mutex_unlock(&pool_lock);
	if (PQstatus(pc->conn) != CONNECTION_OK)
		connect_one(pc);
	return pc;
}

static void
give_back(PooledConn *pc)
{
	pthread_mutex_lock(&pool_lock);
	pc->busy = false;
	pthread_cond_signal(&pool_free);
	pthread_mutex_unlock(&pool_lock);
}

static bool
is_prepared(PooledConn *pc, const char *name)
{
	for (size_t i = 0; i < pc->nprepared; i++)
		if (strcmp(pc->prepared[i], name) == 0)
			return true;
	return false;
}

static void
remember_prepared(PooledConn *pc, const char *name)
{
	if (pc->nprepared == pc->capacity)
	{
		size_t		capacity = pc->capacity ? pc->capacity * 2 : 64;
		const char **grown = realloc(pc->prepared, capacity * sizeof(*grown));

		if (grown == NULL)
		{
			log_event("error", "out of memory", "prepared statement names");
			exit(1);
		}
		pc->prepared = grown;
		pc->capacity = capacity;
	}
	pc->prepared[pc->nprepared++] = name;
}

static void
fail(SqlResult *r, const char *sqlstate, const char *message, const char *detail, const char *hint)
{
	r->ok = false;
	snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", sqlstate ? sqlstate : "08006");
	r->message = strdup(message ? message : "database error");
	r->detail = detail ? strdup(detail) : NULL;
	r->hint = hint ? strdup(hint) : NULL;
}

/*
 * A shard's error as one database gives it (SPEC section 13): PL/Proxy
 * keeps the SQLSTATE but prefixes the text, "evently.api_hold_get(2):
 * [shard1] REMOTE ERROR: hold not found", "Remote detail: ...", and an
 * empty "Remote hint: " when there was none.  What is left, NULL when
 * nothing is.
 */
static const char *
rest_of(const char *rest)
{
	return *rest ? rest : NULL;
}

static const char *
without_remote_error(const char *message)
{
	const char *at = message ? strstr(message, "] REMOTE ERROR: ") : NULL;

	return at ? rest_of(at + strlen("] REMOTE ERROR: ")) : message;
}

static const char *
without_prefix(const char *text, const char *prefix)
{
	size_t		n = strlen(prefix);

	return text && strncmp(text, prefix, n) == 0 ? rest_of(text + n) : text;
}

/*
 * PL/Proxy reports a shard it cannot reach (or pgbouncer's refusal) as an
 * internal error, XX000, naming the libpq call: to a client that is the
 * database being unavailable, as on one database (08006, 503).
 */
static bool
is_shard_unreachable(const char *sqlstate, const char *message)
{
	static const char *const calls[] = {"PQconnectStart", "PQconnectPoll", "PQconsumeInput", "PQsendQuery",
										"PQflush", "query_wait_timeout", "server conn crashed", NULL};

	if (!sqlstate || strcmp(sqlstate, "XX000") != 0 || !message || !strstr(message, "PL/Proxy"))
		return false;
	for (int i = 0; calls[i]; i++)
		if (strstr(message, calls[i]))
			return true;
	return false;
}

static void
take_result(PGresult *res, SqlResult *r)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		r->ok = true;
		if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			r->value = strdup(PQgetvalue(res, 0, 0));
		return;
	}
	if (is_shard_unreachable(sqlstate, message))
	{
		log_event("error", "a shard is unreachable", message);
		fail(r, "08006", "database unavailable", NULL, NULL);
		return;
	}
	fail(r, sqlstate,
		 without_remote_error(message),
		 without_prefix(PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), "Remote detail: "),
		 without_prefix(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT), "Remote hint: "));
}

/* Set the connection's statement_timeout (ms), for one long call and back. */
static void
set_statement_timeout(PooledConn *pc, int timeout_ms)
{
	char		sql[64];

	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", timeout_ms);
	PQclear(PQexec(pc->conn, sql));
}

SqlResult
pool_query(const char *name, const char *sql, int nparams, const char *const *params)
{
	return pool_query_timeout(name, sql, nparams, params, 0);
}

/*
 * Run a prepared call; timeout_ms > 0 bounds this one call by another
 * statement timeout than STATEMENT_TIMEOUT_MS (two extra round trips, for
 * the rare calls that need them).
 */
SqlResult
pool_query_timeout(const char *name, const char *sql, int nparams, const char *const *params,
				   int timeout_ms)
{
	SqlResult	r = {0};
	PooledConn *pc = borrow();
	PGresult   *res;

	if (PQstatus(pc->conn) != CONNECTION_OK)
	{
		fail(&r, "08006", "database unavailable", NULL, NULL);
		give_back(pc);
		return r;
	}
	if (!is_prepared(pc, name))
	{
		res = PQprepare(pc->conn, name, sql, nparams, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			take_result(res, &r);
			PQclear(res);
			give_back(pc);
			return r;
		}
		PQclear(res);
		remember_prepared(pc, name);
	}
	if (timeout_ms > 0)
		set_statement_timeout(pc, timeout_ms);
	/* a serialization failure or deadlock is retried a few times, then reported */
	for (int attempt = 1;; attempt++)
	{
		res = PQexecPrepared(pc->conn, name, nparams, params, NULL, NULL, 0);
		take_result(res, &r);
		PQclear(res);
		if (r.ok || attempt == MAX_ATTEMPTS ||
			(strcmp(r.sqlstate, "40001") != 0 && strcmp(r.sqlstate, "40P01") != 0))
			break;
		sql_result_free(&r);
		memset(&r, 0, sizeof(r));
	}
	if (timeout_ms > 0)
		set_statement_timeout(pc, config.statement_timeout_ms);
	give_back(pc);
	return r;
}

void
sql_result_free(SqlResult *r)
{
	free(r->value);
	free(r->message);
	free(r->detail);
	free(r->hint);
}

void
pool_usage(int *busy, int *total)
{
	pthread_mutex_lock(&pool_lock);
	*busy = 0;
	for (int i = 0; i < config.pool_size; i++)
		*busy += conns[i].busy;
	*total = config.pool_size;
	pthread_mutex_unlock(&pool_lock);
}
