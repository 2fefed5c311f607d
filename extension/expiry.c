/*
 * expiry.c: evently.expire_holds, the sweeper.
 *
 * Correctness never waits for the sweeper -- hold_seats treats a lapsed hold
 * as free -- but the sweeper is what records hold.expired and
 * waitlist.expired, turns lapsed offers over to the next in line, and offers
 * seats to people waiting.  The shim calls it every second.  An event whose
 * queue lock is busy is skipped: whoever holds the lock is already working
 * on that event, and the next sweep comes within a second.  Before the
 * holds, it ends the sessions of linked roles that sit on evently's locks
 * (evently._end_stalled_sessions, 04_security.sql).  A live hold of a
 * banned user lapses at once: a ban releases the holds it sees, and this
 * catches one that was being made while the ban committed.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/memutils.h"

/* SQL: is the owner of hold h banned? */
#define OWNER_BANNED "EXISTS (SELECT 1 FROM evently.users u WHERE u.id = h.user_id AND u.status = 'BANNED')"

int
expire_event_holds(pg_uuid_t *event_id)
{
	/* holds being confirmed or released right now are theirs to finish */
	static SqlStmt lapsed = SQL_STMT(
		"WITH l AS (SELECT id FROM evently.holds h"
		"            WHERE event_id = $1 AND status = 'ACTIVE'"
		"              AND (expires_at <= now() OR " OWNER_BANNED ")"
		"            ORDER BY id FOR UPDATE SKIP LOCKED)"
		" SELECT array_agg(id), count(*)::int FROM l", 1, UUIDOID);
	static SqlStmt free_seats = SQL_STMT(
		"WITH locked AS (SELECT seat_id FROM evently.event_seats WHERE hold_id = ANY ($1)"
		"                 ORDER BY seat_id FOR UPDATE)"
		" UPDATE evently.event_seats es"
		"    SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
		"   FROM locked WHERE es.hold_id = ANY ($1) AND es.seat_id = locked.seat_id",
		1, UUIDARRAYOID);
	static SqlStmt mark_expired = SQL_STMT(
		"WITH h AS (UPDATE evently.holds SET status = 'EXPIRED', updated_at = now()"
		"            WHERE id = ANY ($1) RETURNING id, event_id, user_id)"
		" SELECT evently._emit('hold.expired', event_id, user_id, 'hold', id,"
		"                      jsonb_build_object('hold_id', id, 'status', 'EXPIRED'), NULL)"
		"   FROM h ORDER BY id", 1, UUIDARRAYOID);
	static SqlStmt expire_offers = SQL_STMT(
		"WITH w AS (UPDATE evently.waitlist_entries SET status = 'EXPIRED', updated_at = now()"
		"            WHERE hold_id = ANY ($1) AND status = 'NOTIFIED'"
		"            RETURNING id, event_id, user_id, hold_id, position)"
		" SELECT evently._emit('waitlist.expired', event_id, user_id, 'waitlist_entry', id,"
		"                      jsonb_build_object('entry_id', id, 'hold_id', hold_id,"
		"                                         'position', position), NULL)"
		"   FROM w ORDER BY position", 1, UUIDARRAYOID);
	Datum		arg = UUIDPGetDatum(event_id);
	Datum		holds;
	int			count;

	stmt_run(&lapsed, &arg, NULL, SPI_OK_SELECT);
	count = result_int(0, 2);
	if (count == 0)
		return 0;
	holds = datumCopy(result_datum(0, 1, NULL), false, -1);
	stmt_run(&free_seats, &holds, NULL, SPI_OK_UPDATE);
	free_hold_units(holds);
	stmt_run(&mark_expired, &holds, NULL, SPI_OK_SELECT);
	end_pending_orders(holds);
	stmt_run(&expire_offers, &holds, NULL, SPI_OK_SELECT);
	return count;
}

static Datum
expire_holds_body(FunctionCallInfo fcinfo)
{
#define EXPIRY_WORK \
		"SELECT event_id FROM evently.holds WHERE status = 'ACTIVE' AND expires_at <= now()" \
		" UNION " \
		"SELECT h.event_id FROM evently.users u JOIN evently.holds h ON h.user_id = u.id" \
		" WHERE u.status = 'BANNED' AND h.status = 'ACTIVE'" \
		" UNION " \
		"SELECT w.event_id FROM evently.waitlist_entries w" \
		" WHERE w.status = 'ACTIVE' AND EXISTS (SELECT 1 FROM evently.event_seats es" \
		"        WHERE es.event_id = w.event_id AND es.status = 'AVAILABLE')"
	static SqlStmt work_1_0 = SQL_STMT(EXPIRY_WORK, 0, InvalidOid);
	/* 1.1: and people waiting for a tier with free units (a refund freed them) */
	static SqlStmt work = SQL_STMT(
		EXPIRY_WORK
		" UNION "
		"SELECT w.event_id FROM evently.waitlist_entries w"
		" WHERE w.status = 'ACTIVE' AND w.tier_id IS NOT NULL AND EXISTS (SELECT 1 FROM evently.tier_units u"
		"        WHERE u.tier_id = w.tier_id AND u.status = 'AVAILABLE')", 0, InvalidOid);
	MemoryContext per_event = AllocSetContextCreate(CurrentMemoryContext, "evently expiry",
													ALLOCSET_DEFAULT_SIZES);
	static SqlStmt end_stalled = SQL_STMT("SELECT evently._end_stalled_sessions()", 0, InvalidOid);
	uint64		n_events;
	SPITupleTable *events;
	int			expired = 0;

	/* first end the linked roles' sessions that sit on evently's locks */
	if (sql_is_1_1())
		stmt_run(&end_stalled, NULL, NULL, SPI_OK_SELECT);
	n_events = stmt_run(sql_is_1_1() ? &work : &work_1_0, NULL, NULL, SPI_OK_SELECT);
	events = SPI_tuptable;

	for (uint64 i = 0; i < n_events; i++)
	{
		MemoryContext caller = MemoryContextSwitchTo(per_event);
		bool		isnull;
		pg_uuid_t  *event_id = DatumGetUUIDP(SPI_getbinval(events->vals[i], events->tupdesc,
														   1, &isnull));

		if (try_lock_event_queue(event_id))
		{
			expired += expire_event_holds(event_id);
			(void) promote_locked(event_id, INT_MAX);
		}
		MemoryContextSwitchTo(caller);
		MemoryContextReset(per_event);
	}
	commit_lazily();
	return Int32GetDatum(expired);
}

PG_FUNCTION_INFO_V1(evently_expire_holds);
Datum
evently_expire_holds(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, expire_holds_body, false);
}
