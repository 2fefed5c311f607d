/*
 * waitlist.c: evently.waitlist_promote.
 *
 * Under the event's queue lock (lapsed holds and offers expired first by the
 * SQL entry point and by the sweeper), the ACTIVE entries are walked in join
 * order: each entry whose quantity fits the seats still free (or, for an
 * entry waiting for a tier, that tier's free units) gets an offer -- a hold
 * of that many seats in seat order, or units, for the event's offer window
 * -- and becomes NOTIFIED.  Seats and units are claimed with SKIP LOCKED: one
 * another transaction is holding right now is not free, and waiting for it
 * could only delay the queue.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

typedef struct QueueEvent
{
	bool		open;
	Datum		offer_window;
	int			free_seats;
	bool		tier_waiters;	/* entries waiting for a tier's units */
	int			max_per_user;	/* seats under live holds, per user */
	int			max_tickets;	/* held + bought per user; 0: no such limit */
} QueueEvent;

static QueueEvent
read_queue_event(pg_uuid_t *event_id)
{
#define QUEUE_EVENT(on_sale, tickets_limit, tier_waiters) \
		"SELECT " on_sale ", e.offer_window," \
		"       (SELECT count(*)::int FROM evently.event_seats es" \
		"         WHERE es.event_id = e.id AND es.status = 'AVAILABLE')," \
		"       e.max_seats_per_user, " tickets_limit ", " tier_waiters \
		"  FROM evently.events e WHERE e.id = $1"
	static SqlStmt q = SQL_STMT(QUEUE_EVENT(EVENT_ON_SALE_1_1, "coalesce(e.max_tickets_per_user, 0)",
											"EXISTS (SELECT 1 FROM evently.waitlist_entries w"
											"         WHERE w.event_id = e.id AND w.status = 'ACTIVE'"
											"           AND w.tier_id IS NOT NULL)"), 1, UUIDOID);
	static SqlStmt q_1_0 = SQL_STMT(QUEUE_EVENT(EVENT_ON_SALE_1_0, "0", "false"), 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	QueueEvent	ev;

	if (stmt_run(sql_is_1_1() ? &q : &q_1_0, &arg, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	ev.open = result_bool(0, 1);
	ev.offer_window = datumCopy(result_datum(0, 2, NULL), false, sizeof(Interval));
	ev.free_seats = result_int(0, 3);
	ev.max_per_user = result_int(0, 4);
	ev.max_tickets = result_int(0, 5);
	ev.tier_waiters = result_bool(0, 6);
	return ev;
}

/*
 * May this user be offered `quantity` seats?  An offer is a hold: it keeps
 * the event's per-user limits as hold_seats does, under the user's quota
 * lock.  OFFER_LATER: the user is holding seats right now (the lock is
 * taken); promotion stops there and the next round (at most a second away,
 * the sweeper's) starts with that entry again, so offers stay in join
 * order.  OFFER_SKIP: the offer would break a limit, or the user is
 * banned; the entry waits.
 */
typedef enum OfferCheck
{
	OFFER_OK,
	OFFER_SKIP,
	OFFER_LATER
} OfferCheck;

static OfferCheck
check_offer_limits(const QueueEvent *ev, pg_uuid_t *event_id, pg_uuid_t *user_id, int quantity)
{
	UserSeats	mine;

	if (!user_is_active(user_id))
		return OFFER_SKIP;
	if (!try_lock_user_quota(event_id, user_id))
		return OFFER_LATER;
	mine = user_seats(event_id, user_id);
	if (mine.held + quantity > ev->max_per_user ||
		(ev->max_tickets > 0 && mine.held + mine.bought + quantity > ev->max_tickets))
		return OFFER_SKIP;
	return OFFER_OK;
}

/* Claim `quantity` free seats in seat order, or return NULL if fewer are free. */
static Datum
claim_free_seats(pg_uuid_t *event_id, int quantity)
{
	static SqlStmt q = SQL_STMT(
		"WITH picked AS ("
		"    SELECT seat_id FROM evently.event_seats"
		"     WHERE event_id = $1 AND status = 'AVAILABLE'"
		"     ORDER BY seat_order LIMIT $2 FOR UPDATE SKIP LOCKED)"
		" SELECT array_agg(seat_id), count(*)::int FROM picked", 2, UUIDOID, INT4OID);
	Datum		args[2] = {UUIDPGetDatum(event_id), Int32GetDatum(quantity)};

	stmt_run(&q, args, NULL, SPI_OK_SELECT);
	if (result_int(0, 2) < quantity)
		return (Datum) 0;
	return datumCopy(result_datum(0, 1, NULL), false, -1);
}

/* Make the offer: the entry, offered its hold (seats or units), is NOTIFIED. */
static Datum
make_offer(pg_uuid_t *event_id, pg_uuid_t *entry_id, pg_uuid_t *user_id, pg_uuid_t *hold_id)
{
	static SqlStmt notify = SQL_STMT(
		"UPDATE evently.waitlist_entries w"
		"   SET status = 'NOTIFIED', hold_id = $2, notified_at = now(),"
		"       expires_at = h.expires_at, updated_at = now()"
		"  FROM evently.holds h WHERE w.id = $1 AND h.id = $2"
		" RETURNING jsonb_build_object('entry_id', w.id, 'user_id', w.user_id, 'hold_id', h.id,"
		"     'quantity', w.quantity, 'position', w.position, 'expires_at', h.expires_at)",
		2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(entry_id), UUIDPGetDatum(hold_id)};
	Datum		offer;

	stmt_run(&notify, args, NULL, SPI_OK_UPDATE_RETURNING);
	offer = datumCopy(result_datum(0, 1, NULL), false, -1);
	emit("waitlist.offered", event_id, user_id, "waitlist_entry", entry_id, offer, NULL);
	return offer;
}

static Datum
promote_result(pg_uuid_t *event_id, Datum *offers, int n)
{
	static SqlStmt q = SQL_STMT(
		"SELECT jsonb_build_object('event_id', $1::uuid,"
		"                          'offers', coalesce(to_jsonb($2::jsonb[]), '[]'))",
		2, UUIDOID, JSONBARRAYOID);
	ArrayType  *array = construct_array(offers, n, JSONBOID, -1, false, TYPALIGN_INT);
	Datum		args[2] = {UUIDPGetDatum(event_id), PointerGetDatum(array)};

	stmt_run(&q, args, NULL, SPI_OK_SELECT);
	return datumCopy(result_datum(0, 1, NULL), false, -1);
}

/*
 * An offer ends: its entry leaves NOTIFIED for new_status (CONVERTED when
 * the offer is confirmed, CANCELLED when it is declined) and the change is
 * recorded as event_type.  Nothing happens if the entry had already moved on.
 */
void
settle_offer(pg_uuid_t *entry_id, const char *new_status, const char *event_type,
			 pg_uuid_t *event_id, pg_uuid_t *user_id, pg_uuid_t *actor_id)
{
	static SqlStmt settle = SQL_STMT(
		"UPDATE evently.waitlist_entries SET status = $2, updated_at = now()"
		" WHERE id = $1 AND status = 'NOTIFIED'", 2, UUIDOID, TEXTOID);
	Datum		args[2] = {UUIDPGetDatum(entry_id), CStringGetTextDatum(new_status)};

	if (stmt_run(&settle, args, NULL, SPI_OK_UPDATE) == 1)
		emit(event_type, event_id, user_id, "waitlist_entry", entry_id,
			 object_json(OBJECT_WAITLIST_ENTRY, entry_id), actor_id);
}

/*
 * Hold what the entry waits for, or return NULL: `quantity` free seats,
 * or units of the entry's tier (tier_id not NULL).
 */
static pg_uuid_t *
hold_for_entry(QueueEvent *ev, pg_uuid_t *event_id, pg_uuid_t *entry_id, pg_uuid_t *user_id,
			   pg_uuid_t *tier_id, int quantity)
{
	Datum		seats;

	if (tier_id)
		return hold_units_for_offer(event_id, user_id, tier_id, quantity, ev->offer_window, entry_id);
	seats = claim_free_seats(event_id, quantity);
	if (seats == (Datum) 0)
		return NULL;
	ev->free_seats -= quantity;
	return create_hold(event_id, user_id, seats, ev->offer_window, entry_id, NULL);
}

/* Offer free seats and units to the queue in join order, to at most max_offers entries. */
Datum
promote_locked(pg_uuid_t *event_id, int max_offers)
{
	static SqlStmt queue = SQL_STMT(
		"SELECT id, user_id, quantity, tier_id FROM evently.waitlist_entries"
		" WHERE event_id = $1 AND status = 'ACTIVE' ORDER BY position", 1, UUIDOID);
	static SqlStmt queue_1_0 = SQL_STMT(
		"SELECT id, user_id, quantity, NULL::uuid FROM evently.waitlist_entries"
		" WHERE event_id = $1 AND status = 'ACTIVE' ORDER BY position", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	QueueEvent	ev;
	Datum	   *offers;
	int			n_offers = 0;
	uint64		n_waiting;
	SPITupleTable *waiting;

	ev = read_queue_event(event_id);
	if (!ev.open || (ev.free_seats == 0 && !ev.tier_waiters))
		return promote_result(event_id, NULL, 0);

	n_waiting = stmt_run(sql_is_1_1() ? &queue : &queue_1_0, &arg, NULL, SPI_OK_SELECT);
	waiting = SPI_tuptable;
	offers = palloc(sizeof(Datum) * (n_waiting + 1));
	for (uint64 i = 0; i < n_waiting && n_offers < max_offers; i++)
	{
		bool		isnull;
		TupleDesc	desc = waiting->tupdesc;
		pg_uuid_t  *entry_id = DatumGetUUIDP(SPI_getbinval(waiting->vals[i], desc, 1, &isnull));
		pg_uuid_t  *user_id = DatumGetUUIDP(SPI_getbinval(waiting->vals[i], desc, 2, &isnull));
		int			quantity = DatumGetInt32(SPI_getbinval(waiting->vals[i], desc, 3, &isnull));
		Datum		tier = SPI_getbinval(waiting->vals[i], desc, 4, &isnull);
		pg_uuid_t  *tier_id = isnull ? NULL : DatumGetUUIDP(tier);
		pg_uuid_t  *hold_id;
		OfferCheck	check;

		if (!tier_id && quantity > ev.free_seats)
			continue;			/* the next entry in line may fit */
		check = check_offer_limits(&ev, event_id, user_id, quantity);
		if (check == OFFER_LATER)
			break;
		if (check == OFFER_SKIP)
			continue;
		hold_id = hold_for_entry(&ev, event_id, entry_id, user_id, tier_id, quantity);
		if (hold_id == NULL)
		{
			if (!tier_id)
				break;			/* the rest of the seats is being held right now */
			continue;			/* too few of this tier: the next entry may want another */
		}
		offers[n_offers++] = make_offer(event_id, entry_id, user_id, hold_id);
	}
	return promote_result(event_id, offers, n_offers);
}

/*
 * evently.waitlist_promote(event_id uuid, max_offers int DEFAULT NULL):
 * offers the free seats to the queue, to at most max_offers entries (all
 * that fit when NULL); 1.0's SQL passes event_id only.
 */
static Datum
waitlist_promote_body(FunctionCallInfo fcinfo)
{
	pg_uuid_t  *event_id = ARG_UUID(0);
	bool		bounded = PG_NARGS() > 1 && !PG_ARGISNULL(1);
	int			max_offers = bounded ? PG_GETARG_INT32(1) : INT_MAX;
	Datum		result;

	require_arg(event_id, "event_id");
	if (max_offers < 1)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("invalid max_offers"),
				errdetail("max_offers is at least 1, not %d.", max_offers));
	lock_event_queue(event_id);
	expire_event_holds(event_id);
	result = promote_locked(event_id, max_offers);
	commit_lazily();
	return result;
}

PG_FUNCTION_INFO_V1(evently_waitlist_promote);
Datum
evently_waitlist_promote(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, waitlist_promote_body, true);
}
