/*
 * outbox.c: recording state changes.
 *
 * Every change the engine makes writes its outbox row (for the bridge) and
 * its audit row in the caller's transaction, through evently._emit(), so the
 * SQL admin functions and the C engine record events the same way.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

/*
 * The two rows of a change, from a CTE d(data): the outbox row for the
 * bridge, the audit row for people.  $1 type, $2 event, $3 user, $4 object
 * type, $5 object id; `actor` names the acting user's parameter.
 */
#define OUTBOX_INSERT \
	"INSERT INTO evently.outbox (type, event_id, user_id, data) SELECT $1, $2, $3, d.data FROM d"
#define AUDIT_INSERT(actor) \
	"INSERT INTO evently.audit_log (actor_id, action, object_type, object_id, event_id, details)" \
	" SELECT " actor ", $1, $4, $5, $2, d.data FROM d"

/*
 * One statement writes both rows.  From 1.1 a ticket code is a signed
 * credential: the data both rows keep leaves the codes out
 * (_without_codes, 01_errors_and_audit.sql); the mail consumer reads them
 * from the tickets.
 */
#define EMIT_STMT(data) \
	"WITH d AS (SELECT " data " AS data), o AS (" OUTBOX_INSERT ") " AUDIT_INSERT("$7")
static SqlStmt emit_stmt_1_0 = SQL_STMT(EMIT_STMT("coalesce($6, '{}')"), 7,
										TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, JSONBOID, UUIDOID);
/* only a booking's JSON has codes to leave out: the other changes skip the call */
static SqlStmt emit_stmt = SQL_STMT(EMIT_STMT("CASE WHEN $6 ? 'seats' OR $6 ? 'tickets'"
											  " THEN evently._without_codes($6) ELSE coalesce($6, '{}') END"), 7,
									TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, JSONBOID, UUIDOID);

static void
emit_datums(Datum *args, const char *nulls)
{
	stmt_run(sql_is_1_1() ? &emit_stmt : &emit_stmt_1_0, args, nulls, SPI_OK_INSERT);
}

/* $1 to $5 of the statements above: what every record of a change names. */
static void
record_args(Datum *args, char *nulls, const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id,
			const char *object_type, pg_uuid_t *object_id)
{
	args[0] = CStringGetTextDatum(type);
	args[1] = event_id ? UUIDPGetDatum(event_id) : (nulls[1] = 'n', (Datum) 0);
	args[2] = user_id ? UUIDPGetDatum(user_id) : (nulls[2] = 'n', (Datum) 0);
	args[3] = CStringGetTextDatum(object_type);
	args[4] = object_id ? UUIDPGetDatum(object_id) : (nulls[4] = 'n', (Datum) 0);
}

void
emit(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id,
	 const char *object_type, pg_uuid_t *object_id, Datum data, pg_uuid_t *actor_id)
{
	Datum		args[7];
	char		nulls[8] = "       ";

	record_args(args, nulls, type, event_id, user_id, object_type, object_id);
	args[5] = data;
	args[6] = actor_id ? UUIDPGetDatum(actor_id) : (nulls[6] = 'n', (Datum) 0);
	emit_datums(args, nulls);
}

/*
 * emit() of an object's JSON as the API shows it (object_json), read in the
 * same statement that records it: returns the JSON.  Only a booking's JSON
 * carries ticket codes, so only it goes through _without_codes.  A database
 * still at 1.0 reads and records in two statements, as it always did.
 */
#define EMIT_DOC_STMT(view, key, data) \
	"WITH doc AS (SELECT doc FROM evently." view " WHERE " key " = $5)," \
	" d AS (SELECT " data " AS data FROM doc)," \
	" o AS (" OUTBOX_INSERT "), a AS (" AUDIT_INSERT("$6") ")" \
	" SELECT doc FROM doc"

Datum
emit_object(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id, const char *object_type,
			ObjectKind kind, pg_uuid_t *object_id, pg_uuid_t *actor_id)
{
	static SqlStmt stmts[] = {
		[OBJECT_HOLD] = SQL_STMT(EMIT_DOC_STMT("hold_docs", "hold_id", "doc"), 6,
								 TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, UUIDOID),
		[OBJECT_BOOKING] = SQL_STMT(EMIT_DOC_STMT("booking_docs", "booking_id", "evently._without_codes(doc)"), 6,
									TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, UUIDOID),
		[OBJECT_CANCELLATION] = SQL_STMT(EMIT_DOC_STMT("cancellation_docs", "cancellation_id", "doc"), 6,
										 TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, UUIDOID),
		[OBJECT_WAITLIST_ENTRY] = SQL_STMT(EMIT_DOC_STMT("waitlist_docs", "entry_id", "doc"), 6,
										   TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, UUIDOID),
	};
	Datum		args[6];
	char		nulls[7] = "      ";

	if (!sql_is_1_1())
	{
		Datum		doc = object_json(kind, object_id);

		emit(type, event_id, user_id, object_type, object_id, doc, actor_id);
		return doc;
	}
	record_args(args, nulls, type, event_id, user_id, object_type, object_id);
	args[5] = actor_id ? UUIDPGetDatum(actor_id) : (nulls[5] = 'n', (Datum) 0);
	if (stmt_run(&stmts[kind], args, nulls, SPI_OK_SELECT) != 1)
		elog(ERROR, "object %s vanished", uuid_text(object_id));
	/* outlive the tuple table: later statements reuse it */
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(result_datum(0, 1, NULL)));
}

/* evently._emit(type, event_id, user_id, object_type, object_id, data, actor): the SQL side's door. */
static Datum
emit_body(FunctionCallInfo fcinfo)
{
	Datum		args[7];
	char		nulls[8] = "       ";

	for (int i = 0; i < 7; i++)
	{
		args[i] = PG_GETARG_DATUM(i);
		if (PG_ARGISNULL(i))
			nulls[i] = 'n';
	}
	require_arg(!PG_ARGISNULL(0), "type");
	require_arg(!PG_ARGISNULL(3), "object_type");
	emit_datums(args, nulls);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(evently_emit);
Datum
evently_emit(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, emit_body, false);
}

/* The API's JSON for one object, from the evently.*_docs views. */
Datum
object_json(ObjectKind kind, pg_uuid_t *id)
{
	static SqlStmt docs[] = {
		[OBJECT_HOLD] = SQL_STMT("SELECT doc FROM evently.hold_docs WHERE hold_id = $1", 1, UUIDOID),
		[OBJECT_BOOKING] = SQL_STMT("SELECT doc FROM evently.booking_docs WHERE booking_id = $1", 1, UUIDOID),
		[OBJECT_CANCELLATION] = SQL_STMT("SELECT doc FROM evently.cancellation_docs WHERE cancellation_id = $1",
										 1, UUIDOID),
		[OBJECT_WAITLIST_ENTRY] = SQL_STMT("SELECT doc FROM evently.waitlist_docs WHERE entry_id = $1",
										   1, UUIDOID),
	};
	Datum		arg = UUIDPGetDatum(id);

	if (stmt_run(&docs[kind], &arg, NULL, SPI_OK_SELECT) != 1)
		elog(ERROR, "object %s vanished", uuid_text(id));
	/* outlive the tuple table: later statements reuse it */
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(result_datum(0, 1, NULL)));
}

/*
 * evently._outbox_wakeup(), the statement trigger on the outbox
 * (80_outbox.sql says why only the holder of the wake-up token notifies):
 * in C, so that a state change's record runs no statement of its own.
 */
PG_FUNCTION_INFO_V1(evently_outbox_wakeup);
Datum
evently_outbox_wakeup(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "evently_outbox_wakeup: not called as a trigger");
	if (DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
										 Int32GetDatum(LOCK_OUTBOX_WAKEUP), Int32GetDatum(0))))
		Async_Notify("evently_outbox", "");
	return PointerGetDatum(NULL);
}

/* data->key (an array, else []) with ticket_code taken out of each element */
static Jsonb *
elements_without_codes(Jsonb *data, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&data->root, key, strlen(key), NULL);
	JsonbParseState *state = NULL;

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	if (v && v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	elem;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
		{
			Jsonb	   *stripped;
			JsonbValue	bin;

			if (tok != WJB_ELEM)
				continue;
			/* jsonb's own "-": an element that is a scalar is an error, as in SQL */
			stripped = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete, JsonbPGetDatum(JsonbValueToJsonb(&elem)),
														  CStringGetTextDatum("ticket_code")));
			bin.type = jbvBinary;
			bin.val.binary.data = &stripped->root;
			bin.val.binary.len = VARSIZE(stripped) - VARHDRSZ;
			pushJsonbValue(&state, WJB_ELEM, &bin);
		}
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_ARRAY, NULL));
}

/* key: value, where value is a whole jsonb */
static void
push_pair(JsonbParseState **state, const char *key, Jsonb *value)
{
	JsonbValue	k = {.type = jbvString};
	JsonbValue	v = {.type = jbvBinary};

	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &k);
	v.val.binary.data = &value->root;
	v.val.binary.len = VARSIZE(value) - VARHDRSZ;
	pushJsonbValue(state, WJB_VALUE, &v);
}

/*
 * evently._without_codes(data jsonb) (01_errors_and_audit.sql says what
 * for): NULL is {}; an object with seats or tickets has them as arrays
 * whose elements lack ticket_code (a non-array is []); anything else is
 * returned as it is.  In C, so that recording a booking runs no statement
 * for it.
 */
PG_FUNCTION_INFO_V1(evently_without_codes);
Datum
evently_without_codes(PG_FUNCTION_ARGS)
{
	Jsonb	   *data;
	bool		has_seats,
				has_tickets;
	JsonbParseState *state = NULL;
	Datum		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	data = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(data))
		PG_RETURN_JSONB_P(data);
	has_seats = getKeyJsonValueFromContainer(&data->root, "seats", 5, NULL) != NULL;
	has_tickets = getKeyJsonValueFromContainer(&data->root, "tickets", 7, NULL) != NULL;
	if (!has_seats && !has_tickets)
		PG_RETURN_JSONB_P(data);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (has_seats)
		push_pair(&state, "seats", elements_without_codes(data, "seats"));
	if (has_tickets)
		push_pair(&state, "tickets", elements_without_codes(data, "tickets"));
	result = DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(data),
								 JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL))));
	PG_RETURN_DATUM(result);
}
