/*
 * errors.c: the extension's error table (error_codes.def) as SQL sees it.
 *
 * evently.error_codes() lists it for DBAs; evently._fail() and
 * evently._require() let the SQL half of the extension raise its errors by
 * name ('NOT_FOUND'), as the C half does (EV_NOT_FOUND), so that no SQLSTATE
 * is spelled out anywhere but in error_codes.def.
 */
#include "evently.h"

#include "funcapi.h"
#include "utils/builtins.h"

typedef struct ErrorCode
{
	int			sqlstate;
	const char *name;
	int			http_status;
} ErrorCode;

static const ErrorCode error_table[] = {
#define EVENTLY_ERROR(sym, c1, c2, c3, c4, c5, http, code) \
	{MAKE_SQLSTATE(c1, c2, c3, c4, c5), code, http},
#include "error_codes.def"
#undef EVENTLY_ERROR
};

/* The SQLSTATE of an error name; an unknown name is a bug in our own SQL. */
static int
sqlstate_of(const char *name)
{
	for (int i = 0; i < lengthof(error_table); i++)
		if (strcmp(error_table[i].name, name) == 0)
			return error_table[i].sqlstate;
	elog(ERROR, "unknown evently error name \"%s\"", name);
	return 0;					/* not reached */
}

static char *
text_arg_or_empty(FunctionCallInfo fcinfo, int n)
{
	return PG_NARGS() > n && !PG_ARGISNULL(n) ? text_to_cstring(PG_GETARG_TEXT_PP(n)) : "";
}

/*
 * Raise error `name` with message, detail and hint (empty when NULL, as
 * PL/pgSQL's RAISE ... USING DETAIL = '' did in 1.0, so clients see the same
 * fields).  Arguments start at `first`.
 */
static void
raise_named(FunctionCallInfo fcinfo, int first)
{
	const char *name;

	if (PG_ARGISNULL(first))
		elog(ERROR, "evently error name is NULL");
	name = text_to_cstring(PG_GETARG_TEXT_PP(first));
	ereport(ERROR,
			errcode(sqlstate_of(name)),
			errmsg_internal("%s", text_arg_or_empty(fcinfo, first + 1)),
			errdetail_internal("%s", text_arg_or_empty(fcinfo, first + 2)),
			errhint("%s", text_arg_or_empty(fcinfo, first + 3)));
}

/* evently._fail(error text, message text, detail text, hint text): never returns */
PG_FUNCTION_INFO_V1(evently_fail);
Datum
evently_fail(PG_FUNCTION_ARGS)
{
	raise_named(fcinfo, 0);
	PG_RETURN_VOID();
}

/*
 * evently._require(ok boolean, error text, message text, detail text,
 * hint text): raises the error unless ok is true (NULL counts as false).
 */
PG_FUNCTION_INFO_V1(evently_require);
Datum
evently_require(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || !PG_GETARG_BOOL(0))
		raise_named(fcinfo, 1);
	PG_RETURN_VOID();
}

/* evently.error_codes(): TABLE(sqlstate text, name text, http_status int) */
PG_FUNCTION_INFO_V1(evently_error_codes);
Datum
evently_error_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < lengthof(error_table); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(unpack_sql_state(error_table[i].sqlstate));
		values[1] = CStringGetTextDatum(error_table[i].name);
		values[2] = Int32GetDatum(error_table[i].http_status);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
