/*
 * holds.c: evently.hold_seats and evently.release_hold.
 *
 * A hold is all or nothing.  Its seats are locked in seat-id order (so two
 * holds on overlapping seats queue instead of deadlocking), then checked on
 * the row versions the lock returned: a seat is holdable when AVAILABLE, or
 * HELD by a hold that has lapsed (lazy expiry) -- unless people are waiting
 * for the event, in which case lapsed seats go to the queue first.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/timestamp.h"

/* the upper bound of events.max_seats_per_hold (a check constraint) */
#define MAX_SEATS_PER_HOLD 100

static void check_quota(pg_uuid_t *event_id, pg_uuid_t *user_id, int count, const HoldableEvent *ev,
						UserSeats mine);

bool
user_is_admin(pg_uuid_t *user_id)
{
	static SqlStmt q = SQL_STMT("SELECT role = 'ADMIN' FROM evently.users WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(user_id);

	if (stmt_run(&q, &arg, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("user not found"),
				errdetail("User %s does not exist.", uuid_text(user_id)));
	return result_bool(0, 1);
}

/* Check the seat_ids argument: no NULLs, no duplicates, at least one; returns the count. */
static int
check_seat_ids(ArrayType *array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	pg_uuid_t **ids;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("seat_ids must be a flat array"),
				errdetail("The array has %d dimensions.", ARR_NDIM(array)));
	deconstruct_array(array, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("seat_ids is empty"),
				errdetail("A hold needs at least one seat."));
	/* no event allows more; also bounds the duplicate scan below */
	if (n > MAX_SEATS_PER_HOLD)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many seats in one hold"),
				errdetail("%d seats requested; no event allows more than %d per hold.",
						  n, MAX_SEATS_PER_HOLD));
	ids = palloc(sizeof(pg_uuid_t *) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("seat_ids contains NULL"),
					errdetail("Element %d of seat_ids is NULL.", i + 1));
		ids[i] = DatumGetUUIDP(elems[i]);
		for (int j = 0; j < i; j++)
			if (memcmp(ids[i]->data, ids[j]->data, UUID_LEN) == 0)
				ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("duplicate seat id"),
						errdetail("Seat %s appears more than once in seat_ids.", uuid_text(ids[i])));
	}
	return n;
}

HoldableEvent
read_event_for_hold(pg_uuid_t *event_id, pg_uuid_t *actor_id)
{
	/*
	 * key share: an event cannot be cancelled or deleted under a new hold;
	 * the actor's status comes along (no row when there is no such event:
	 * then the actor is checked on its own, first, as always)
	 */
#define HOLDABLE_EVENT(status, on_sale, tickets_limit) \
		"SELECT " status ", " on_sale ", e.max_seats_per_hold, e.max_seats_per_user," \
		"       e.hold_ttl," \
		"       EXISTS (SELECT 1 FROM evently.waitlist_entries w" \
		"                WHERE w.event_id = e.id AND w.status = 'ACTIVE'), " tickets_limit "," \
		"       (SELECT u.status FROM evently.users u WHERE u.id = $2)" \
		"  FROM evently.events e WHERE e.id = $1 FOR KEY SHARE"
	static SqlStmt q = SQL_STMT(HOLDABLE_EVENT("evently._lifecycle_status(e.status, e.date_time, e.end_time)",
											   EVENT_ON_SALE_1_1, "coalesce(e.max_tickets_per_user, 0)"),
								2, UUIDOID, UUIDOID);
	static SqlStmt q_1_0 = SQL_STMT(HOLDABLE_EVENT("e.status", EVENT_ON_SALE_1_0, "0"), 2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(event_id), UUIDPGetDatum(actor_id)};
	HoldableEvent ev;

	if (stmt_run(sql_is_1_1() ? &q : &q_1_0, args, NULL, SPI_OK_SELECT) != 1)
	{
		check_actor(actor_id);
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	}
	check_actor_status(actor_id, result_text(0, 8));
	ev.status = result_text(0, 1);
	ev.on_sale = result_bool(0, 2);
	ev.max_per_hold = result_int(0, 3);
	ev.max_per_user = result_int(0, 4);
	/* copied: the tuple table does not outlive the next statement */
	ev.hold_ttl = datumCopy(result_datum(0, 5, NULL), false, sizeof(Interval));
	ev.has_queue = result_bool(0, 6);
	ev.max_tickets_per_user = result_int(0, 7);
	/* a draft or an event under review is invisible: there is no such event */
	if (strcmp(ev.status, "draft") == 0 || strcmp(ev.status, "under_review") == 0)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	if (!ev.on_sale)
		ereport(ERROR, errcode(EV_EVENT_CLOSED), errmsg("event is not open for booking"),
				errdetail("Event %s is %s%s.", uuid_text(event_id), ev.status,
						  strcmp(ev.status, "published") == 0 ? " and has already started" : ""));
	return ev;
}

/* A ttl argument must be between one second and one day. */
void
check_ttl(Datum ttl)
{
	Interval	low = {.time = USECS_PER_SEC};
	Interval	high = {.day = 1};

	if (DatumGetInt32(DirectFunctionCall2(interval_cmp, ttl, IntervalPGetDatum(&low))) < 0 ||
		DatumGetInt32(DirectFunctionCall2(interval_cmp, ttl, IntervalPGetDatum(&high))) > 0)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("invalid hold ttl"),
				errdetail("ttl %s is not between 1 second and 1 day.",
						  DatumGetCString(DirectFunctionCall1(interval_out, ttl))));
}

void
check_idempotency_key(const char *key)
{
	if (key && (strlen(key) < 1 || strlen(key) > 255))
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("invalid idempotency key"),
				errdetail("An idempotency key has 1 to 255 characters, not %d.", (int) strlen(key)));
}

/* Name the seats that are not in the event: unknown, or of another event. */
pg_attribute_noreturn()
static void
report_missing_seats(pg_uuid_t *event_id, Datum seat_array)
{
	static SqlStmt q = SQL_STMT(
		"SELECT x, EXISTS (SELECT 1 FROM evently.seats s WHERE s.id = x)"
		"  FROM unnest($2::uuid[]) x"
		" WHERE NOT EXISTS (SELECT 1 FROM evently.event_seats es"
		"                    WHERE es.event_id = $1 AND es.seat_id = x)", 2, UUIDOID, UUIDARRAYOID);
	Datum		args[2] = {UUIDPGetDatum(event_id), seat_array};
	uint64		n = stmt_run(&q, args, NULL, SPI_OK_SELECT);
	StringInfoData unknown,
				foreign;

	initStringInfo(&unknown);
	initStringInfo(&foreign);
	for (uint64 i = 0; i < n; i++)
	{
		StringInfo	list = result_bool(i, 2) ? &foreign : &unknown;

		appendStringInfo(list, "%s%s", list->len ? ", " : "", uuid_text(result_uuid(i, 1)));
	}
	if (unknown.len)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("seat not found"),
				errdetail("Seats %s do not exist.", unknown.data));
	ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("seat belongs to another event"),
			errdetail("Seats %s are not seats of event %s.", foreign.data, uuid_text(event_id)));
}

/*
 * The per-user limits (check_user_quota, from the user's seats read under
 * the quota lock the caller holds), then the requested seats locked in
 * seat-id order and each checked, in one statement: the seats are locked
 * only when the limits allow the hold (the lateral subquery's condition is
 * the C check's), as when these were two statements.
 */
static void
lock_and_check_seats(pg_uuid_t *event_id, pg_uuid_t *user_id, Datum seat_array, int count,
					 const HoldableEvent *ev)
{
	/* a lapsed hold's seat that an ADMIN blocked meanwhile stays with nobody */
	static SqlStmt q = SQL_STMT(
		"SELECT q.held, q.bought, es.seat_id, es.status, es.lapsed, es.blocked"
		"  FROM (SELECT (SELECT coalesce(sum(seat_count), 0)::int FROM evently.holds"
		"                 WHERE user_id = $3 AND event_id = $1 AND status = 'ACTIVE' AND expires_at > now())"
		"               AS held,"
		"               (SELECT coalesce(sum(total_seats), 0)::int FROM evently.bookings"
		"                 WHERE user_id = $3 AND event_id = $1 AND status = 'CONFIRMED') AS bought) q"
		"  LEFT JOIN LATERAL ("
		"       SELECT es.seat_id, es.status, es.status = 'HELD' AND es.held_until <= now() AS lapsed,"
		"              EXISTS (SELECT 1 FROM evently.seats s WHERE s.id = es.seat_id AND s.status = 'BLOCKED')"
		"              AS blocked"
		"         FROM evently.event_seats es"
		"        WHERE q.held + $4 <= $5 AND ($6 = 0 OR q.held + q.bought + $4 <= $6)"
		"          AND es.event_id = $1 AND es.seat_id = ANY ($2)"
		"        ORDER BY es.seat_id FOR UPDATE) es ON true",
		6, UUIDOID, UUIDARRAYOID, UUIDOID, INT4OID, INT4OID, INT4OID);
	Datum		args[6] = {UUIDPGetDatum(event_id), seat_array, UUIDPGetDatum(user_id), Int32GetDatum(count),
	Int32GetDatum(ev->max_per_user), Int32GetDatum(ev->max_tickets_per_user)};
	uint64		n = stmt_run(&q, args, NULL, SPI_OK_SELECT);
	UserSeats	mine;
	StringInfoData taken;

	mine.held = result_int(0, 1);
	mine.bought = result_int(0, 2);
	check_quota(event_id, user_id, count, ev, mine);
	if (result_uuid(0, 3) == NULL)	/* no seat of the event among them */
		n = 0;
	if (n < (uint64) count)
		report_missing_seats(event_id, seat_array);
	initStringInfo(&taken);
	for (uint64 i = 0; i < n; i++)
	{
		char	   *status = result_text(i, 4);
		bool		lapsed = result_bool(i, 5);
		bool		blocked = result_bool(i, 6);

		if (strcmp(status, "AVAILABLE") == 0 || (lapsed && !ev->has_queue && !blocked))
			continue;
		appendStringInfo(&taken, "%s%s (%s)", taken.len ? ", " : "",
						 uuid_text(result_uuid(i, 3)),
						 lapsed && blocked ? "BLOCKED" :
						 lapsed ? "offered to the waitlist first" : status);
	}
	if (taken.len)
		ereport(ERROR, errcode(EV_SEAT_UNAVAILABLE), errmsg("seats are not available"),
				errdetail("Seats %s cannot be held.", taken.data),
				errhint("Pick other seats, or join the event's waitlist."));
}

/* The seats a user holds (live holds) and bought (confirmed bookings) of an event. */
UserSeats
user_seats(pg_uuid_t *event_id, pg_uuid_t *user_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT (SELECT coalesce(sum(seat_count), 0)::int FROM evently.holds"
		"         WHERE user_id = $1 AND event_id = $2 AND status = 'ACTIVE' AND expires_at > now()),"
		"       (SELECT coalesce(sum(total_seats), 0)::int FROM evently.bookings"
		"         WHERE user_id = $1 AND event_id = $2 AND status = 'CONFIRMED')",
		2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(user_id), UUIDPGetDatum(event_id)};
	UserSeats	mine;

	stmt_run(&q, args, NULL, SPI_OK_SELECT);
	mine.held = result_int(0, 1);
	mine.bought = result_int(0, 2);
	return mine;
}

/*
 * The per-user limits of the event: seats under live holds (max_per_user),
 * and, when the event sets one, seats held and bought together
 * (max_tickets_per_user).  The caller holds the user's quota lock.
 */
void
check_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id, int count, const HoldableEvent *ev)
{
	check_quota(event_id, user_id, count, ev, user_seats(event_id, user_id));
}

/* check_user_quota with the user's seats read already */
static void
check_quota(pg_uuid_t *event_id, pg_uuid_t *user_id, int count, const HoldableEvent *ev, UserSeats mine)
{
	if (mine.held + count > ev->max_per_user)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many seats held by this user"),
				errdetail("User %s holds %d seats of event %s; %d more exceed the limit of %d.",
						  uuid_text(user_id), mine.held, uuid_text(event_id), count, ev->max_per_user));
	if (ev->max_tickets_per_user > 0 && mine.held + mine.bought + count > ev->max_tickets_per_user)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many tickets for this user"),
				errdetail("User %s holds %d and bought %d seats of event %s; %d more exceed the limit of %d tickets per user.",
						  uuid_text(user_id), mine.held, mine.bought, uuid_text(event_id), count,
						  ev->max_tickets_per_user));
}

/*
 * The hold this user made with this key, if any.  A key names one request:
 * the same key for another event or other seats is a conflict, not a retry.
 */
static pg_uuid_t *
hold_for_key(pg_uuid_t *user_id, const char *key, pg_uuid_t *event_id, Datum seat_array)
{
	static SqlStmt q = SQL_STMT(
		"SELECT h.id, h.event_id,"
		"       ARRAY(SELECT seat_id FROM evently.hold_seats WHERE hold_id = h.id ORDER BY 1)"
		"       = ARRAY(SELECT x FROM unnest($3::uuid[]) x ORDER BY 1)"
		"  FROM evently.holds h WHERE h.user_id = $1 AND h.idempotency_key = $2",
		3, UUIDOID, TEXTOID, UUIDARRAYOID);
	Datum		args[3] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key), seat_array};
	pg_uuid_t  *hold_id;

	if (stmt_run(&q, args, NULL, SPI_OK_SELECT) == 0)
		return NULL;
	hold_id = result_uuid(0, 1);
	if (memcmp(result_uuid(0, 2), event_id, UUID_LEN) != 0)
		ereport(ERROR, errcode(EV_IDEMPOTENCY_CONFLICT), errmsg("idempotency key already used"),
				errdetail("Key \"%s\" made hold %s for event %s.", key, uuid_text(hold_id),
						  uuid_text(result_uuid(0, 2))),
				errhint("Use a new key for a new hold."));
	if (!result_bool(0, 3))
		ereport(ERROR, errcode(EV_IDEMPOTENCY_CONFLICT), errmsg("idempotency key already used"),
				errdetail("Key \"%s\" made hold %s for other seats.", key, uuid_text(hold_id)),
				errhint("Use a new key for a new hold."));
	return hold_id;
}

/*
 * The hold, its seats, and the seats HELD by it, in one statement; from
 * 1.1 also the seat counters for the seats it takes from AVAILABLE (read
 * under the lock the caller holds on them), claimed (counts.c).
 */
#define CREATE_HOLD(counted, status) \
		"WITH picked AS (" \
		"    SELECT seat_id, price" status " FROM evently.event_seats" \
		"     WHERE event_id = $1 AND seat_id = ANY ($3))," \
		" h AS (" \
		"    INSERT INTO evently.holds (event_id, user_id, seat_count, total_price, expires_at," \
		"                               waitlist_entry_id, idempotency_key)" \
		"    SELECT $1, $2, count(*), sum(price), now() + $4, $5, $6 FROM picked" \
		"    RETURNING id, expires_at)," \
		counted \
		" hs AS (" \
		"    INSERT INTO evently.hold_seats (hold_id, event_id, seat_id, price)" \
		"    SELECT h.id, $1, picked.seat_id, picked.price FROM h, picked)" \
		" UPDATE evently.event_seats es" \
		"    SET status = 'HELD', hold_id = h.id, held_until = h.expires_at" \
		"   FROM h WHERE es.event_id = $1 AND es.seat_id = ANY ($3)" \
		" RETURNING h.id"

pg_uuid_t *
create_hold(pg_uuid_t *event_id, pg_uuid_t *user_id, Datum seat_array, Datum ttl,
			pg_uuid_t *entry_id, const char *key)
{
	static SqlStmt q = SQL_STMT(CREATE_HOLD(CLAIM_SEAT_COUNTS("$1", "f.n",
																"(SELECT count(*) FILTER (WHERE status = 'AVAILABLE') AS n"
																"   FROM picked) f",
																"available", "held", "-f.n, f.n, 0, 0") ",",
											", status"),
								6, UUIDOID, UUIDOID, UUIDARRAYOID, INTERVALOID, UUIDOID, TEXTOID);
	static SqlStmt q_1_0 = SQL_STMT(CREATE_HOLD("", ""),
									6, UUIDOID, UUIDOID, UUIDARRAYOID, INTERVALOID, UUIDOID, TEXTOID);
	Datum		args[6] = {UUIDPGetDatum(event_id), UUIDPGetDatum(user_id), seat_array, ttl,
		entry_id ? UUIDPGetDatum(entry_id) : (Datum) 0,
	key ? CStringGetTextDatum(key) : (Datum) 0};
	char		nulls[7] = "      ";

	if (!entry_id)
		nulls[4] = 'n';
	if (!key)
		nulls[5] = 'n';

	if (stmt_run(sql_is_1_1() ? &q : &q_1_0, args, nulls, SPI_OK_UPDATE_RETURNING) == 0)
		elog(ERROR, "hold of no seats for event %s", uuid_text(event_id));
	return result_uuid(0, 1);
}

static Datum
hold_seats_body(FunctionCallInfo fcinfo)
{
	pg_uuid_t  *event_id = ARG_UUID(0);
	pg_uuid_t  *user_id = ARG_UUID(1);
	char	   *key = PG_NARGS() > 4 && !PG_ARGISNULL(4) ? text_to_cstring(PG_GETARG_TEXT_PP(4)) : NULL;
	Datum		seat_array;
	Datum		ttl;
	int			count;
	HoldableEvent ev;
	pg_uuid_t  *hold_id;
	Datum		hold;

	require_arg(event_id, "event_id");
	require_arg(!PG_ARGISNULL(2), "seat_ids");
	check_idempotency_key(key);
	seat_array = PG_GETARG_DATUM(2);
	count = check_seat_ids(PG_GETARG_ARRAYTYPE_P(2));

	user_id = resolve_actor(user_id);
	ev = read_event_for_hold(event_id, user_id);
	ttl = PG_ARGISNULL(3) ? ev.hold_ttl : PG_GETARG_DATUM(3);
	check_ttl(ttl);
	if (count > ev.max_per_hold)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many seats in one hold"),
				errdetail("%d seats requested; event %s allows %d per hold.",
						  count, uuid_text(event_id), ev.max_per_hold));

	/* under the key's lock, so two requests with one key cannot both hold */
	if (key)
		lock_idempotency_key(user_id, key);
	if (key && (hold_id = hold_for_key(user_id, key, event_id, seat_array)) != NULL)
		return object_json(OBJECT_HOLD, hold_id);
	lock_user_quota(event_id, user_id);
	lock_and_check_seats(event_id, user_id, seat_array, count, &ev);

	hold_id = create_hold(event_id, user_id, seat_array, ttl, NULL, key);
	hold = emit_object("hold.created", event_id, user_id, "hold", OBJECT_HOLD, hold_id, user_id);
	commit_lazily();
	return hold;
}

PG_FUNCTION_INFO_V1(evently_hold_seats);
Datum
evently_hold_seats(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, hold_seats_body, true);
}

/* ---- release ---- */

static Datum
release_hold_body(FunctionCallInfo fcinfo)
{
	static SqlStmt peek = SQL_STMT("SELECT event_id, user_id FROM evently.holds WHERE id = $1",
							  1, UUIDOID);
	static SqlStmt lock_hold = SQL_STMT(
		"SELECT status, expires_at <= now(), waitlist_entry_id FROM evently.holds"
		" WHERE id = $1 FOR UPDATE", 1, UUIDOID);
	static SqlStmt free_seats = SQL_STMT(
		"WITH locked AS (SELECT seat_id FROM evently.event_seats WHERE hold_id = $1"
		"                 ORDER BY seat_id FOR UPDATE)"
		" UPDATE evently.event_seats es"
		"    SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
		"   FROM locked WHERE es.hold_id = $1 AND es.seat_id = locked.seat_id", 1, UUIDOID);
	static SqlStmt mark_released = SQL_STMT(
		"UPDATE evently.holds SET status = 'RELEASED', updated_at = now() WHERE id = $1",
		1, UUIDOID);
	pg_uuid_t  *hold_id = ARG_UUID(0);
	pg_uuid_t  *actor_id = ARG_UUID(1);
	pg_uuid_t  *event_id,
			   *owner_id,
			   *entry_id;
	Datum		arg;
	Datum		one_hold;
	char	   *status;
	Datum		hold;

	require_arg(hold_id, "hold_id");
	actor_id = acting_user(actor_id);
	arg = UUIDPGetDatum(hold_id);
	if (stmt_run(&peek, &arg, NULL, SPI_OK_SELECT) != 1)
		report_not_found("hold", hold_id);
	event_id = result_uuid(0, 1);
	owner_id = result_uuid(0, 2);
	/* another user's hold is as unknown as one that does not exist */
	if (memcmp(owner_id, actor_id, UUID_LEN) != 0 && !user_is_admin(actor_id))
		report_not_found("hold", hold_id);

	/* queue lock first: the freed seats are offered to the waitlist below */
	lock_event_queue(event_id);
	stmt_run(&lock_hold, &arg, NULL, SPI_OK_SELECT);
	status = result_text(0, 1);
	if (strcmp(status, "ACTIVE") != 0)
		ereport(ERROR, errcode(EV_ALREADY_PROCESSED), errmsg("hold is not active"),
				errdetail("Hold %s is %s.", uuid_text(hold_id), status));
	if (result_bool(0, 2))
		ereport(ERROR, errcode(EV_HOLD_EXPIRED), errmsg("hold has expired"),
				errdetail("Hold %s lapsed before it was released.", uuid_text(hold_id)));
	entry_id = result_uuid(0, 3);

	stmt_run(&free_seats, &arg, NULL, SPI_OK_UPDATE);
	one_hold = PointerGetDatum(construct_array(&arg, 1, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	free_hold_units(one_hold);
	stmt_run(&mark_released, &arg, NULL, SPI_OK_UPDATE);
	end_pending_orders(one_hold);
	hold = emit_object("hold.released", event_id, owner_id, "hold", OBJECT_HOLD, hold_id, actor_id);
	if (entry_id)				/* releasing an offer declines it */
		settle_offer(entry_id, "CANCELLED", "waitlist.left", event_id, owner_id, actor_id);
	(void) promote_locked(event_id, INT_MAX);
	commit_lazily();
	return hold;
}

PG_FUNCTION_INFO_V1(evently_release_hold);
Datum
evently_release_hold(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, release_hold_body, true);
}
