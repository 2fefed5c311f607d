/*
 * engine.c: how every engine function runs.
 *
 * A body runs inside SPI with lock waits bounded by evently.lock_timeout
 * (scoped to the call, like a function's SET clause), and a lock timeout
 * leaves as EV011 "busy" so clients know to retry.  Statements are prepared
 * once per session and kept (SPI_keepplan); values are always parameters.
 */
#include "evently.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

static void
bound_lock_waits(void)
{
	char		value[32];

	if (evently_lock_timeout_ms <= 0)
		return;
	/* keep the caller's lock_timeout when it is already tighter */
	if (LockTimeout > 0 && LockTimeout <= evently_lock_timeout_ms)
		return;
	snprintf(value, sizeof(value), "%d", evently_lock_timeout_ms);
	(void) set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* A lock wait ran out: say so in the extension's own, retryable terms. */
pg_attribute_noreturn()
static void
rethrow_as_busy(MemoryContext outer)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(outer);
	edata = CopyErrorData();
	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
	{
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	FlushErrorState();
	edata->sqlerrcode = EV_BUSY;
	edata->detail = psprintf("A lock was not granted within evently.lock_timeout (%d ms).",
							 evently_lock_timeout_ms);
	edata->message = pstrdup("seats are busy, retry the call");
	edata->hint = pstrdup("Another transaction is changing the same seats or queue; retrying is safe.");
	ReThrowError(edata);
}

Datum
engine_run(FunctionCallInfo fcinfo, EngineBody body, bool returns_jsonb)
{
	MemoryContext outer = CurrentMemoryContext;
	int			guc_level = NewGUCNestLevel();
	volatile Datum result = (Datum) 0;

	keep_callers_durability();
	bound_lock_waits();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	PG_TRY();
	{
		result = body(fcinfo);
	}
	PG_CATCH();
	{
		rethrow_as_busy(outer);
	}
	PG_END_TRY();

	if (returns_jsonb && !fcinfo->isnull)
		result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	AtEOXact_GUC(true, guc_level);
	return result;
}

uint64
stmt_run(SqlStmt *q, Datum *args, const char *nulls, int expected_ret)
{
	int			ret;

	if (q->plan == NULL)
	{
		/*
		 * Generic plans: the engine's statements are key lookups whose best
		 * plan does not depend on the values, and re-planning each call (as
		 * the plan cache does when a custom plan looks cheaper) costs more
		 * than the rest of the statement.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", q->sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		q->plan = plan;
	}
	ret = SPI_execute_plan(q->plan, args, nulls, false, 0);
	if (ret != expected_ret)
		elog(ERROR, "statement returned %s, expected %s: %s",
			 SPI_result_code_string(ret), SPI_result_code_string(expected_ret), q->sql);
	return SPI_processed;
}

Datum
result_datum(uint64 row, int col, bool *isnull)
{
	bool		null;
	Datum		value;

	if (row >= SPI_processed)
		elog(ERROR, "result row %lu out of range", (unsigned long) row);
	value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &null);
	if (isnull)
		*isnull = null;
	else if (null)
		elog(ERROR, "unexpected NULL in result column %d", col);
	return value;
}

bool
result_bool(uint64 row, int col)
{
	return DatumGetBool(result_datum(row, col, NULL));
}

int32
result_int(uint64 row, int col)
{
	return DatumGetInt32(result_datum(row, col, NULL));
}

pg_uuid_t *
result_uuid(uint64 row, int col)
{
	bool		isnull;
	Datum		value = result_datum(row, col, &isnull);
	pg_uuid_t  *copy;

	if (isnull)
		return NULL;
	/* copy: the tuple table goes away with the next statement */
	copy = palloc(sizeof(pg_uuid_t));
	memcpy(copy, DatumGetUUIDP(value), sizeof(pg_uuid_t));
	return copy;
}

char *
result_text(uint64 row, int col)
{
	bool		isnull;
	Datum		value = result_datum(row, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

Datum
result_uuid_array(uint64 n, int col)
{
	Datum	   *elems = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (uint64 i = 0; i < n; i++)
		elems[i] = UUIDPGetDatum(result_uuid(i, col));
	return PointerGetDatum(construct_array(elems, (int) n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
}

char *
uuid_text(pg_uuid_t *id)
{
	return id ? DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id))) : "(null)";
}

char *
uuid_list_text(pg_uuid_t **ids, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", uuid_text(ids[i]));
	return buf.data;
}

/*
 * Is this database's evently SQL at 1.1 yet?  One library serves every
 * database of the cluster, and after a package upgrade a database keeps its
 * 1.0 SQL until ALTER EXTENSION evently UPDATE; until then the engine serves
 * 1.0's schema, so a statement that reads an object 1.1 added asks here
 * first (README, Versions).  Looked up once per backend, and again after any
 * change to pg_proc: an update (or a drop and a new CREATE EXTENSION)
 * replaces the extension's functions, and the invalidation of those
 * reaches every backend before its next transaction reads anything.
 */
static bool version_known = false;

static void
forget_version(Datum arg, int cacheid, uint32 hashvalue)
{
	version_known = false;
}

bool
sql_is_1_1(void)
{
	static SqlStmt q = SQL_STMT("SELECT extversion <> '1.0' FROM pg_catalog.pg_extension"
								" WHERE extname = 'evently'", 0, InvalidOid);
	static bool callback_registered = false;
	static bool answer;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(PROCOID, forget_version, (Datum) 0);
		callback_registered = true;
	}
	if (!version_known)
	{
		answer = stmt_run(&q, NULL, NULL, SPI_OK_SELECT) == 1 && result_bool(0, 1);
		version_known = true;
	}
	return answer;
}
