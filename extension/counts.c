/*
 * counts.c: the slotted status counters, kept by statement triggers.
 *
 * evently.event_seat_counts (per event) and evently.tier_unit_counts (per
 * tier) say how many seats or units are in each status, so that a read sums
 * 16 rows instead of counting the inventory (00_schema.sql).  Every
 * statement that inserts, updates or deletes event_seats or tier_units --
 * the engine's, the admin SQL's, a DBA's by hand -- fires the same trigger
 * (evently._count_seats / _count_units, 40_events.sql and 48_tiers.sql),
 * which adds the statement's net change per event (tier) and status: the
 * rows of the new transition table, less those of the old one.  So the
 * counters cannot drift from the rows, whoever writes them.
 *
 * This is the trigger in C: one counter update per event (tier) a
 * statement changed, where the PL/pgSQL version ran an aggregate over the
 * transition tables and a function per status change, three statements
 * for a hold.  The slot is the first one no other transaction has locked;
 * only when all 16 are taken does it wait, for the backend's own slot.
 *
 * A statement of the engine that knows what it moves (a hold: its free
 * seats to HELD; a confirmation: its held seats to BOOKED) updates a slot
 * itself, in a CTE of the same statement, and says so from that update's
 * RETURNING with evently._counted_seats(event_id, deltas): a claim.  The
 * trigger at the end of that statement takes the claims made in its
 * (sub)transaction off what the transition tables say, and adds only the
 * rest -- nothing, when the claim was right.  So the counters move by the
 * rows' true change whatever a claim says; a claim is only registered by
 * an update that happened; claims die with a (sub)transaction that aborts;
 * and one left unconsumed at commit (a statement that claimed without
 * writing event_seats: a bug) fails the commit instead of skewing a count.
 */
#include "evently.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#define N_STATUSES 4
static const char *const statuses[N_STATUSES] = {"AVAILABLE", "HELD", "BOOKED", "BLOCKED"};

typedef struct CountDelta
{
	pg_uuid_t	key;			/* event_id or tier_id: the hash key */
	int64		delta[N_STATUSES];
	bool		inserted;		/* rows came in: the key's slots may be new */
} CountDelta;

/* ---- claims ---- */

typedef struct CountClaim
{
	pg_uuid_t	event_id;
	int64		delta[N_STATUSES];
	SubTransactionId subxact;
} CountClaim;

static List *claims = NIL;		/* of CountClaim, in TopTransactionContext */

static void
forget_claims(XactEvent event, void *arg)
{
	if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		 event == XACT_EVENT_PRE_PREPARE) && claims != NIL)
	{
		claims = NIL;
		ereport(ERROR, errmsg("evently: a seat count claimed by a statement was not met by its trigger"));
	}
	claims = NIL;				/* the memory goes with the transaction */
}

static void
forget_subxact_claims(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach(lc, claims)
		if (((CountClaim *) lfirst(lc))->subxact == mySubid)
			claims = foreach_delete_current(claims, lc);
}

/*
 * evently._counted_seats(event_id, available, held, booked, blocked): the
 * calling statement has just added these to a slot of the event's seat
 * counters (called from that update's RETURNING).  True.
 */
PG_FUNCTION_INFO_V1(evently_counted_seats);
Datum
evently_counted_seats(PG_FUNCTION_ARGS)
{
	static bool callbacks_registered = false;
	MemoryContext old;
	CountClaim *c;

	if (!callbacks_registered)
	{
		RegisterXactCallback(forget_claims, NULL);
		RegisterSubXactCallback(forget_subxact_claims, NULL);
		callbacks_registered = true;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	c = palloc(sizeof(CountClaim));
	memcpy(&c->event_id, PG_GETARG_UUID_P(0), sizeof(pg_uuid_t));
	for (int s = 0; s < N_STATUSES; s++)
		c->delta[s] = PG_GETARG_INT64(s + 1);
	c->subxact = GetCurrentSubTransactionId();
	claims = lappend(claims, c);
	MemoryContextSwitchTo(old);
	PG_RETURN_BOOL(true);
}

/* take this (sub)transaction's claims off the deltas of the seats' trigger */
static void
take_claims(HTAB *deltas)
{
	SubTransactionId here = GetCurrentSubTransactionId();
	ListCell   *lc;

	foreach(lc, claims)
	{
		CountClaim *c = lfirst(lc);
		CountDelta *d;
		bool		found;

		if (c->subxact != here)
			continue;
		d = hash_search(deltas, &c->event_id, HASH_ENTER, &found);
		if (!found)
		{
			memset(d->delta, 0, sizeof(d->delta));
			d->inserted = false;
		}
		for (int s = 0; s < N_STATUSES; s++)
			d->delta[s] -= c->delta[s];
		claims = foreach_delete_current(claims, lc);
	}
}

/* ---- the trigger ---- */

/* add sign for each row of a transition table to its key's status count */
static void
add_rows(HTAB *deltas, Tuplestorestate *rows, TupleDesc desc, int key_col, int status_col,
		 int sign, bool inserted)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	int			reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);

	tuplestore_select_read_pointer(rows, reader);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		key = slot_getattr(slot, key_col, &isnull);
		Datum		status;
		char	   *name;
		CountDelta *d;
		bool		found;
		int			s;

		if (isnull)				/* NOT NULL columns: never */
			elog(ERROR, "counted row without a key");
		d = hash_search(deltas, DatumGetUUIDP(key), HASH_ENTER, &found);
		if (!found)
		{
			memset(d->delta, 0, sizeof(d->delta));
			d->inserted = false;
		}
		d->inserted |= inserted;
		status = slot_getattr(slot, status_col, &isnull);
		name = isnull ? "" : TextDatumGetCString(status);
		for (s = 0; s < N_STATUSES && strcmp(name, statuses[s]) != 0; s++)
			;
		if (s == N_STATUSES)	/* the check constraints allow no other */
			elog(ERROR, "counted row with status \"%s\"", name);
		d->delta[s] += sign;
	}
	ExecDropSingleTupleTableSlot(slot);
}

#define MOVE_COUNTS(table, key, blocked_set) \
	"UPDATE evently." table \
	"   SET available = available + $2, held = held + $3, booked = booked + $4" blocked_set \
	" WHERE " key " = $1" \
	"   AND slot = coalesce((SELECT slot FROM evently." table \
	"                         WHERE " key " = $1 ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)," \
	"                       pg_backend_pid() % 16)"
#define NEW_SLOTS(table, key) \
	"INSERT INTO evently." table " (" key ", slot)" \
	" SELECT $1, slot FROM generate_series(0, 15) slot ON CONFLICT DO NOTHING"

PG_FUNCTION_INFO_V1(evently_count_statuses);
Datum
evently_count_statuses(PG_FUNCTION_ARGS)
{
	static SqlStmt move_seats = SQL_STMT(MOVE_COUNTS("event_seat_counts", "event_id", ", blocked = blocked + $5"),
										 5, UUIDOID, INT8OID, INT8OID, INT8OID, INT8OID);
	static SqlStmt new_seat_slots = SQL_STMT(NEW_SLOTS("event_seat_counts", "event_id"), 1, UUIDOID);
	static SqlStmt move_units = SQL_STMT(MOVE_COUNTS("tier_unit_counts", "tier_id", ""),
										 4, UUIDOID, INT8OID, INT8OID, INT8OID);
	static SqlStmt new_unit_slots = SQL_STMT(NEW_SLOTS("tier_unit_counts", "tier_id"), 1, UUIDOID);
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	bool		seats;
	HASHCTL		ctl = {.keysize = sizeof(pg_uuid_t), .entrysize = sizeof(CountDelta),
	.hcxt = CurrentMemoryContext};
	HTAB	   *deltas;
	HASH_SEQ_STATUS scan;
	CountDelta *d;
	int			key_col;
	int			status_col;
	bool		connected = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "evently_count_statuses: not an AFTER ... FOR EACH STATEMENT trigger");
	seats = strcmp(RelationGetRelationName(td->tg_relation), "event_seats") == 0;
	desc = RelationGetDescr(td->tg_relation);
	key_col = SPI_fnumber(desc, seats ? "event_id" : "tier_id");
	status_col = SPI_fnumber(desc, "status");
	if (key_col <= 0 || status_col <= 0)
		elog(ERROR, "evently_count_statuses: table %s has no key or status",
			 RelationGetRelationName(td->tg_relation));

	deltas = hash_create("evently status counts", 16, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (td->tg_oldtable)
		add_rows(deltas, td->tg_oldtable, desc, key_col, status_col, -1, false);
	if (td->tg_newtable)
		add_rows(deltas, td->tg_newtable, desc, key_col, status_col, +1,
				 TRIGGER_FIRED_BY_INSERT(td->tg_event));

	if (seats)
		take_claims(deltas);

	hash_seq_init(&scan, deltas);
	while ((d = hash_seq_search(&scan)) != NULL)
	{
		Datum		args[5] = {UUIDPGetDatum(&d->key)};
		bool		changed = false;

		for (int s = 0; s < N_STATUSES; s++)
		{
			args[s + 1] = Int64GetDatum(d->delta[s]);
			changed |= d->delta[s] != 0;
		}
		if (!changed && !d->inserted)
			continue;
		if (!connected && SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		connected = true;
		if (!seats && d->delta[3] != 0)	/* units are never BLOCKED */
			elog(ERROR, "a tier unit counted as BLOCKED");
		/* an event's (a tier's) slots are made with its first seats (units) */
		if (d->inserted)
			stmt_run(seats ? &new_seat_slots : &new_unit_slots, args, NULL, SPI_OK_INSERT);
		/*
		 * An update that moved no row between statuses changes nothing.  A
		 * deleted event's or tier's counters went with it (ON DELETE
		 * CASCADE): the update finds no slot.
		 */
		if (changed)
			stmt_run(seats ? &move_seats : &move_units, args, NULL, SPI_OK_UPDATE);
	}
	if (connected)
		SPI_finish();
	return PointerGetDatum(NULL);
}
