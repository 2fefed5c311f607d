/*
 * respond.c: the API's one envelope, and the one table from SQLSTATE to HTTP.
 *
 * success {"status":"success","status_code":N,"message":…,"data":…}
 * error   {"status":"error","status_code":N,"message":…,"error":…,"code":…,"details":{…}},
 *         plus "hint":… when the database's error carries one
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
	const char *sqlstate;
	int			http_status;
	const char *code;
}			engine_codes[] = {
#define EVENTLY_ERROR(sym, c1, c2, c3, c4, c5, http, code) {(char[]){c1, c2, c3, c4, c5, 0}, http, code},
#include "../extension/error_codes.def"
#undef EVENTLY_ERROR
};

/*
 * PostgreSQL's own classes that a request can reach.  Their text is
 * PostgreSQL's, not ours (it may name tables, constraints or values), so a
 * client gets the message here and the shim's log gets PostgreSQL's.  A 4xx
 * among them means an SQL adapter let a bad value through: the fuzz test
 * fails on one.
 */
static const struct
{
	const char *prefix;
	int			http_status;
	const char *code;
	const char *message;
}			postgres_codes[] = {
	{"57014", 503, "TIMEOUT", "the request took too long"},	/* statement_timeout */
	{"55P03", 503, "BUSY", "busy, retry the request"},	/* lock_not_available */
	{"40", 503, "RETRY", "busy, retry the request"},	/* serialization failure, deadlock */
	{"08", 503, "DATABASE_UNAVAILABLE", "the database is unavailable"},
	{"57P", 503, "DATABASE_UNAVAILABLE", "the database is unavailable"},	/* shutdown, recovery */
	{"22", 422, "INVALID_INPUT", "invalid input"},	/* data exceptions: bad uuid, bad number */
	{"23505", 409, "CONFLICT", "the request conflicts with existing data"},
	{"23", 422, "CONSTRAINT_VIOLATION", "the request breaks a rule of the data"},
	{"", 500, "INTERNAL", "internal error"},	/* anything else */
};

/* The HTTP status and stable code of a SQLSTATE; *message is ours, never PostgreSQL's. */
static int
classify_sqlstate(const char *sqlstate, const char **code, const char **message)
{
	size_t		i;

	for (i = 0; i < sizeof(engine_codes) / sizeof(engine_codes[0]); i++)
		if (strcmp(sqlstate, engine_codes[i].sqlstate) == 0)
		{
			*code = engine_codes[i].code;
			*message = NULL;	/* the extension's own message */
			return engine_codes[i].http_status;
		}
	for (i = 0; strncmp(sqlstate, postgres_codes[i].prefix, strlen(postgres_codes[i].prefix)) != 0; i++)
		;						/* the last prefix, "", matches anything */
	*code = postgres_codes[i].code;
	*message = postgres_codes[i].message;
	return postgres_codes[i].http_status;
}


static Reply
reply_json(int status, json_t *envelope)
{
	Reply		reply = {status, json_dumps(envelope, JSON_NUMBERS)};

	json_decref(envelope);
	return reply;
}

Reply
reply_success(int status, const char *message, json_t *data)
{
	json_t	   *envelope = json_pack("{s:s, s:i, s:s}", "status", "success", "status_code", status,
									 "message", message);

	if (data)
		json_object_set_new(envelope, "data", data);
	return reply_json(status, envelope);
}

static json_t *
error_envelope(int status, const char *code, const char *message, const char *error, json_t *details)
{
	json_t	   *envelope = json_pack("{s:s, s:i, s:s, s:s, s:s}", "status", "error",
									 "status_code", status, "message", message,
									 "error", error ? error : message, "code", code);

	json_object_set_new(envelope, "details", details ? details : json_object());
	return envelope;
}

Reply
reply_error(int status, const char *code, const char *message, const char *error, json_t *details)
{
	return reply_json(status, error_envelope(status, code, message, error, details));
}

/*
 * A result {"__data": D, "k": V, ...} puts D in data and k beside it at the
 * top level: how list routes of the reference carried "pagination".
 */
static Reply
reply_with_extras(int status, const char *message, json_t *data)
{
	json_t	   *inner = json_object_get(data, "__data");
	json_t	   *envelope;
	const char *key;
	json_t	   *value;

	if (!json_is_object(data) || inner == NULL)
		return reply_success(status, message, data);
	envelope = json_pack("{s:s, s:i, s:s, s:O}", "status", "success", "status_code", status,
						 "message", message, "data", inner);
	json_object_foreach(data, key, value)
		if (strcmp(key, "__data") != 0 && json_object_get(envelope, key) == NULL)
		json_object_set(envelope, key, value);
	json_decref(data);
	return reply_json(status, envelope);
}

/*
 * The envelope around a result as PostgreSQL wrote it: jsonb's text output
 * is valid JSON, so the busiest answers skip a parse and a re-serialisation.
 */
static Reply
reply_spliced(int status, const char *message, const char *data)
{
	json_t	   *quoted = json_string(message);
	char	   *message_json = json_dumps(quoted, JSON_ENCODE_ANY);
	const char *format = "{\"status\":\"success\",\"status_code\":%d,\"message\":%s,\"data\":%s}";
	size_t		size = strlen(format) + strlen(message_json) + strlen(data) + 16;
	Reply		reply = {status, malloc(size)};

	snprintf(reply.body, size, format, status, message_json, data);
	free(message_json);
	json_decref(quoted);
	return reply;
}

/* 422 with the field problems in `errors`, as clients of the old API read them. */
Reply
reply_validation(json_t *errors)
{
	json_t	   *envelope = json_pack("{s:s, s:i, s:s, s:s, s:s, s:o, s:O}", "status", "error",
									 "status_code", 422, "message", "Validation failed",
									 "error", "Validation failed", "code", "VALIDATION_FAILED",
									 "errors", errors, "details", errors);

	return reply_json(422, envelope);
}

/*
 * A result {"__error": {"status", "code", "message", "details"}}: an
 * outcome the database answers without raising, because it keeps a record
 * of it in the same transaction (a refused scan at the door is logged,
 * 59_checkin.sql), sent as the error envelope it names.
 */
static Reply
reply_outcome(json_t *data)
{
	json_t	   *outcome = json_object_get(data, "__error");
	json_int_t	status = json_integer_value(json_object_get(outcome, "status"));
	const char *code = json_string_value(json_object_get(outcome, "code"));
	const char *message = json_string_value(json_object_get(outcome, "message"));
	json_t	   *details = json_object_get(outcome, "details");
	Reply		reply;

	if (status < 400 || status > 499 || code == NULL || message == NULL)
		reply = reply_error(500, "INTERNAL", "unreadable result from the database", NULL, NULL);
	else
		reply = reply_error((int) status, code, message, NULL, details ? json_incref(details) : NULL);
	json_decref(data);
	return reply;
}

/* Wrap what an evently.* call returned, or the error it raised. */
Reply
reply_from_sql(SqlResult *r, int success_status, const char *message)
{
	const char *code,
			   *ours;
	int			status;
	json_t	   *details,
			   *envelope;
	Reply		reply;

	if (r->ok)
	{
		json_error_t error;
		json_t	   *data;

		if (r->value && strstr(r->value, "\"__data\": ") == NULL && strstr(r->value, "\"__error\": ") == NULL)
			return reply_spliced(success_status, message, r->value);
		data = r->value ? json_loads(r->value, JSON_DECODE_ANY, &error) : json_null();
		if (data == NULL)
			return reply_error(500, "INTERNAL", "unreadable result from the database", NULL, NULL);
		if (json_is_object(data) && json_object_get(data, "__error"))
			return reply_outcome(data);
		return reply_with_extras(success_status, message, data);
	}
	status = classify_sqlstate(r->sqlstate, &code, &ours);
	details = json_pack("{s:s}", "sqlstate", r->sqlstate);
	if (ours)
	{
		/* PostgreSQL's words stay in our log; the client gets ours */
		log_event(status >= 500 ? "error" : "warning", r->message, r->sqlstate);
		envelope = error_envelope(status, code, ours, ours, details);
	}
	else
	{
		if (r->detail)
			json_object_set_new(details, "detail", json_string(r->detail));
		envelope = error_envelope(status, code, r->message, r->message, details);
		/* what the caller can do about it (errhint, RAISE ... HINT); SQL sends '' for none */
		if (r->hint && r->hint[0])
			json_object_set_new(envelope, "hint", json_string(r->hint));
	}
	reply = reply_json(status, envelope);
	if (status == 503)
		reply.rate.retry_after = 1;	/* busy, timed out or restarting: try again soon */
	return reply;
}
