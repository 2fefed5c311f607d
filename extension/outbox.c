/*
 * outbox.c: recording state changes.
 *
 * Every change the engine makes writes its outbox row (for the bridge) and
 * its audit row in the caller's transaction, through evently._emit(), so the
 * SQL admin functions and the C engine record events the same way.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

/*
 * One statement writes both rows: the outbox row for the bridge, the audit
 * row for people.  From 1.1 a ticket code is a signed credential: the data
 * both rows keep leaves the codes out (_without_codes, 80_outbox.sql); the
 * mail consumer reads them from the tickets.
 */
#define EMIT_STMT(data) \
	"WITH d AS (SELECT " data " AS data)," \
	" o AS (INSERT INTO evently.outbox (type, event_id, user_id, data) SELECT $1, $2, $3, d.data FROM d)" \
	" INSERT INTO evently.audit_log (actor_id, action, object_type, object_id, event_id, details)" \
	" SELECT $7, $1, $4, $5, $2, d.data FROM d"
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

void
emit(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id,
	 const char *object_type, pg_uuid_t *object_id, Datum data, pg_uuid_t *actor_id)
{
	Datum		args[7];
	char		nulls[8] = "       ";

	args[0] = CStringGetTextDatum(type);
	args[1] = event_id ? UUIDPGetDatum(event_id) : (nulls[1] = 'n', (Datum) 0);
	args[2] = user_id ? UUIDPGetDatum(user_id) : (nulls[2] = 'n', (Datum) 0);
	args[3] = CStringGetTextDatum(object_type);
	args[4] = object_id ? UUIDPGetDatum(object_id) : (nulls[4] = 'n', (Datum) 0);
	args[5] = data;
	args[6] = actor_id ? UUIDPGetDatum(actor_id) : (nulls[6] = 'n', (Datum) 0);
	emit_datums(args, nulls);
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
