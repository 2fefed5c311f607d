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

void
emit(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id,
	 const char *object_type, pg_uuid_t *object_id, Datum data, pg_uuid_t *actor_id)
{
	static SqlStmt q = SQL_STMT("SELECT evently._emit($1, $2, $3, $4, $5, $6, $7)", 7,
						   TEXTOID, UUIDOID, UUIDOID, TEXTOID, UUIDOID, JSONBOID, UUIDOID);
	Datum		args[7];
	char		nulls[8] = "       ";

	args[0] = CStringGetTextDatum(type);
	args[1] = event_id ? UUIDPGetDatum(event_id) : (nulls[1] = 'n', (Datum) 0);
	args[2] = user_id ? UUIDPGetDatum(user_id) : (nulls[2] = 'n', (Datum) 0);
	args[3] = CStringGetTextDatum(object_type);
	args[4] = object_id ? UUIDPGetDatum(object_id) : (nulls[4] = 'n', (Datum) 0);
	args[5] = data;
	args[6] = actor_id ? UUIDPGetDatum(actor_id) : (nulls[6] = 'n', (Datum) 0);
	stmt_run(&q, args, nulls, SPI_OK_SELECT);
}

/* The API's JSON for one object: kind is hold, booking or cancellation. */
Datum
object_json(const char *kind, pg_uuid_t *id)
{
	static SqlStmt hold = SQL_STMT("SELECT evently.hold_json($1)", 1, UUIDOID);
	static SqlStmt booking = SQL_STMT("SELECT evently.booking_json($1)", 1, UUIDOID);
	static SqlStmt cancellation = SQL_STMT("SELECT evently.cancellation_json($1)", 1, UUIDOID);
	SqlStmt    *q = strcmp(kind, "hold") == 0 ? &hold
		: strcmp(kind, "booking") == 0 ? &booking : &cancellation;
	Datum		arg = UUIDPGetDatum(id);
	bool		isnull;
	Datum		value;

	if (stmt_run(q, &arg, NULL, SPI_OK_SELECT) != 1)
		elog(ERROR, "%s %s vanished", kind, uuid_text(id));
	value = result_datum(0, 1, &isnull);
	if (isnull)
		elog(ERROR, "%s %s vanished", kind, uuid_text(id));
	/* outlive the tuple table: later statements reuse it */
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(value));
}
