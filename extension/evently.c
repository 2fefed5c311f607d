/*
 * evently.c: the module's table of contents.
 *
 * _PG_init defines the evently.* settings; the engine's SQL entry points live
 * in one file per concern: holds.c, booking.c, cancel.c, waitlist.c, expiry.c.
 */
#include "evently.h"

#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

int			evently_lock_timeout_ms = 2000;
bool		evently_durable_holds = false;
static int	evently_linked_transaction_limit_ms = 10000;	/* read by SQL */

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("evently.lock_timeout",
							"Longest wait, in ms, for a row or advisory lock inside an evently function "
							"(0 to 600000; 0 keeps the session's lock_timeout).",
							"A wait that runs out raises SQLSTATE EV011, which is safe to retry.",
							&evently_lock_timeout_ms, 2000, 0, 600000,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomBoolVariable("evently.durable_holds",
							 "Commit holds synchronously (on) or asynchronously (off, the default).",
							 "Bookings and cancellations always commit durably.",
							 &evently_durable_holds, false,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("evently.linked_transaction_limit",
							"Longest transaction, in ms, of a linked role that holds evently's locks or "
							"has written (1000 to 3600000).",
							"The sweeper ends the session of such a role past it (evently._end_stalled_sessions).",
							&evently_linked_transaction_limit_ms, 10000, 1000, 3600000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	define_bucket_setting();	/* evently.bucket (buckets.c) */
	MarkGUCPrefixReserved("evently");
}

/* evently._lock_event_queue(event_id): the SQL functions' bounded way to take the queue lock */
static Datum
lock_event_queue_body(FunctionCallInfo fcinfo)
{
	lock_event_queue(PG_GETARG_UUID_P(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(evently_lock_event_queue);
Datum
evently_lock_event_queue(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, lock_event_queue_body, false);
}
