/*
 * booking.c: evently.confirm_booking.
 *
 * Only the hold's owner, only while the hold lives.  The hold row is locked
 * first, then its seats in seat-id order; each seat must still point at this
 * hold on the locked row version, which closes the race with a hold_seats
 * that took a seat the moment this hold lapsed.  Booking, tickets, payment
 * and seat flips are one statement, committed durably.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/* Uniform random letters A-Z from the strong random source. */
static void
random_letters(char *out, int n)
{
	int			filled = 0;

	while (filled < n)
	{
		unsigned char bytes[16];

		if (!pg_strong_random(bytes, sizeof(bytes)))
			elog(ERROR, "could not generate random bytes");
		for (int i = 0; i < (int) sizeof(bytes) && filled < n; i++)
			if (bytes[i] < 234)	/* 234 = 9 * 26: no modulo bias */
				out[filled++] = 'A' + bytes[i] % 26;
	}
	out[n] = '\0';
}

/*
 * EVT-YYYYMMDD-XXXXXX: a candidate.  The booking's insert takes it only if no
 * booking has it (ON CONFLICT on its unique index, insert_booking), else
 * the booking is tried again with another.
 */
static char *
new_booking_ref(void)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		letters[7];

	if (timestamp2tm(GetCurrentTransactionStartTimestamp(), NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	random_letters(letters, 6);
	return psprintf("EVT-%04d%02d%02d-%s", tm.tm_year, tm.tm_mon, tm.tm_mday, letters);
}

static char *
new_transaction_id(void)
{
	uint32		suffix;

	if (!pg_strong_random(&suffix, sizeof(suffix)))
		elog(ERROR, "could not generate random bytes");
	return psprintf("TXN_%lld_%08X", (long long) time(NULL), suffix);
}

/*
 * The booking made with this key, if any.  A key names one request: the
 * same key for another hold or another payment method is a conflict.
 */
static pg_uuid_t *
booking_for_key(pg_uuid_t *user_id, const char *key, pg_uuid_t *hold_id, const char *payment_method)
{
	static SqlStmt q = SQL_STMT(
		"SELECT b.id, b.hold_id, (SELECT p.payment_method FROM evently.payments p"
		"                          WHERE p.booking_id = b.id ORDER BY p.created_at LIMIT 1)"
		"  FROM evently.bookings b WHERE b.user_id = $1 AND b.idempotency_key = $2",
		2, UUIDOID, TEXTOID);
	Datum		args[2] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key)};
	pg_uuid_t  *booking_id;
	char	   *first_method;

	if (stmt_run(&q, args, NULL, SPI_OK_SELECT) == 0)
		return NULL;
	booking_id = result_uuid(0, 1);
	if (memcmp(result_uuid(0, 2), hold_id, UUID_LEN) != 0)
		ereport(ERROR, errcode(EV_IDEMPOTENCY_CONFLICT), errmsg("idempotency key already used"),
				errdetail("Key \"%s\" confirmed hold %s as booking %s, not hold %s.", key,
						  uuid_text(result_uuid(0, 2)), uuid_text(booking_id), uuid_text(hold_id)),
				errhint("Use a new key for a new purchase."));
	first_method = result_text(0, 3);
	if (first_method && strcmp(first_method, payment_method) != 0)
		ereport(ERROR, errcode(EV_IDEMPOTENCY_CONFLICT), errmsg("idempotency key already used"),
				errdetail("Key \"%s\" confirmed booking %s paid by %s, not %s.", key,
						  uuid_text(booking_id), first_method, payment_method),
				errhint("Use a new key for a new purchase."));
	return booking_id;
}

/*
 * The hold's event row FOR KEY SHARE, first in the lock order: the booking's
 * foreign key takes it later anyway, and taken after the hold it would meet
 * an event's cancellation (event row, then holds) the other way round.
 * With actor_id, the acting user's status is read and checked too
 * (check_actor_status): what acting_user would have run first.
 */
void
lock_event_of_hold(pg_uuid_t *hold_id, pg_uuid_t *actor_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT 1 FROM evently.events e"
		" WHERE e.id = (SELECT h.event_id FROM evently.holds h WHERE h.id = $1) FOR KEY SHARE",
		1, UUIDOID);
	static SqlStmt q_actor = SQL_STMT(
		"SELECT (SELECT u.status FROM evently.users u WHERE u.id = $2) FROM evently.events e"
		" WHERE e.id = (SELECT h.event_id FROM evently.holds h WHERE h.id = $1) FOR KEY SHARE",
		2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(hold_id), actor_id ? UUIDPGetDatum(actor_id) : (Datum) 0};

	if (!actor_id)
		stmt_run(&q, args, NULL, SPI_OK_SELECT);
	else if (stmt_run(&q_actor, args, NULL, SPI_OK_SELECT) == 1)
		check_actor_status(actor_id, result_text(0, 1));
	else						/* no such hold: lock_hold says so, after this */
		check_actor(actor_id);
}

LockedHold
lock_hold(pg_uuid_t *hold_id)
{
#define LOCK_HOLD(has_units) \
		"SELECT user_id, event_id, status, expires_at <= now(), waitlist_entry_id, " has_units \
		"  FROM evently.holds WHERE id = $1 FOR UPDATE"
	/* a hold's items are written with it and never change: read with the row */
	static SqlStmt q = SQL_STMT(LOCK_HOLD("EXISTS (SELECT 1 FROM evently.hold_items WHERE hold_id = $1)"),
								1, UUIDOID);
	static SqlStmt q_1_0 = SQL_STMT(LOCK_HOLD("false"), 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(hold_id);
	LockedHold	h;

	if (stmt_run(sql_is_1_1() ? &q : &q_1_0, &arg, NULL, SPI_OK_SELECT) != 1)
		report_not_found("hold", hold_id);
	h.owner_id = result_uuid(0, 1);
	h.event_id = result_uuid(0, 2);
	h.status = result_text(0, 3);
	h.lapsed = result_bool(0, 4);
	h.entry_id = result_uuid(0, 5);
	h.has_units = result_bool(0, 6);
	return h;
}

pg_attribute_noreturn()
static void
report_confirmed(pg_uuid_t *hold_id)
{
	static SqlStmt q = SQL_STMT("SELECT id FROM evently.bookings WHERE hold_id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(hold_id);

	stmt_run(&q, &arg, NULL, SPI_OK_SELECT);
	ereport(ERROR, errcode(EV_ALREADY_PROCESSED), errmsg("hold is already confirmed"),
			errdetail("Hold %s was confirmed as booking %s.", uuid_text(hold_id),
					  SPI_processed ? uuid_text(result_uuid(0, 1)) : "(unknown)"),
			errhint("Retry with the same idempotency key to get the booking back."));
}

static void
report_closed(pg_uuid_t *event_id, const char *status)
{
	ereport(ERROR, errcode(EV_EVENT_CLOSED), errmsg("event is not open for booking"),
			errdetail("Event %s is %s%s.", uuid_text(event_id), status,
					  strcmp(status, "published") == 0 ? " and has already started" : ""));
}

/*
 * HOLD_EXPIRED unless every locked seat is still the hold's: rows 0..n-1,
 * seat id in column col, that answer in col + 1 (NULL: no seat in the row)
 */
static void
check_held_rows(uint64 n, int col, pg_uuid_t *hold_id)
{
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		ok = result_datum(i, col + 1, &isnull);

		if (!isnull && !DatumGetBool(ok))
			ereport(ERROR, errcode(EV_HOLD_EXPIRED), errmsg("hold has expired"),
					errdetail("Seat %s of hold %s was taken after the hold lapsed.",
							  uuid_text(result_uuid(i, col)), uuid_text(hold_id)));
	}
}

/* Lock the hold's seats in seat-id order; all must still be held by it. */
void
lock_held_seats(pg_uuid_t *hold_id, pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT es.seat_id, es.status = 'HELD' AND es.hold_id IS NOT DISTINCT FROM $1"
		"  FROM evently.event_seats es"
		" WHERE es.event_id = $2"
		"   AND es.seat_id IN (SELECT seat_id FROM evently.hold_seats WHERE hold_id = $1)"
		" ORDER BY es.seat_id FOR UPDATE", 2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(hold_id), UUIDPGetDatum(event_id)};

	check_held_rows(stmt_run(&q, args, NULL, SPI_OK_SELECT), 1, hold_id);
}

/*
 * After the hold's lock: no order is paying for the hold (ALREADY_PROCESSED),
 * the event sells (read_event_state; EVENT_CLOSED), and then, as
 * lock_held_seats, the hold's seats locked in seat-id order and each still
 * the hold's (HOLD_EXPIRED).  From 1.1, one statement: the seats are locked
 * only when the checks before pass (the lateral subquery's condition), as
 * when these were three statements.
 */
static void
check_and_lock_seats(pg_uuid_t *hold_id, pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT x.order_id, x.status, x.on_sale, s.seat_id, s.ok"
		"  FROM (SELECT (SELECT o.id FROM evently.orders o"
		"                 WHERE o.hold_id = $1 AND o.status = 'PENDING' LIMIT 1) AS order_id,"
		"               evently._lifecycle_status(e.status, e.date_time, e.end_time) AS status,"
		"               " EVENT_ON_SALE_1_1 " AS on_sale"
		"          FROM evently.events e WHERE e.id = $2) x"
		"  LEFT JOIN LATERAL ("
		"       SELECT es.seat_id, es.status = 'HELD' AND es.hold_id IS NOT DISTINCT FROM $1 AS ok"
		"         FROM evently.event_seats es"
		"        WHERE x.order_id IS NULL AND x.on_sale AND es.event_id = $2"
		"          AND es.seat_id IN (SELECT seat_id FROM evently.hold_seats WHERE hold_id = $1)"
		"        ORDER BY es.seat_id FOR UPDATE) s ON true", 2, UUIDOID, UUIDOID);
	Datum		args[2] = {UUIDPGetDatum(hold_id), UUIDPGetDatum(event_id)};
	pg_uuid_t  *order_id;
	uint64		n;

	if (!sql_is_1_1())
	{
		EventState	ev = read_event_state(event_id);

		if (!ev.on_sale)
			report_closed(event_id, ev.status);
		lock_held_seats(hold_id, event_id);
		return;
	}
	if ((n = stmt_run(&q, args, NULL, SPI_OK_SELECT)) == 0)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	if ((order_id = result_uuid(0, 1)) != NULL)
		report_ordered(order_id, hold_id);
	if (!result_bool(0, 3))
		report_closed(event_id, result_text(0, 2));
	check_held_rows(n, 4, hold_id);
}

/*
 * The booking, its tickets (one per seat or unit), its payment and the
 * inventory's flip to BOOKED, in one statement.  Three variants: 1.0's
 * schema (seats only, unsigned codes); 1.1 paid here (a payment row
 * inserted); 1.1 paid by an order (the order's payment row gets the
 * booking).  1.1 tickets are held by the buyer and carry a code signed with
 * the event's key (signing.c), over the ticket's own id: the ids are drawn
 * first, in a MATERIALIZED CTE, so that each is drawn once per ticket, in
 * the event's bucket (evently._child_id, buckets.c): the bucket_id trigger
 * would otherwise change an id after it was signed.
 */
#define BOOKING_START \
		"WITH h AS (" \
		"    UPDATE evently.holds SET status = 'CONFIRMED', updated_at = now()" \
		"     WHERE id = $1 RETURNING id, user_id, event_id, seat_count, total_price)," \
		" b AS (" \
		"    INSERT INTO evently.bookings (user_id, event_id, hold_id, total_seats, total_price," \
		"                                  booking_ref, idempotency_key)" \
		"    SELECT user_id, event_id, id, seat_count, total_price, $2, $3 FROM h" \
		"    ON CONFLICT (booking_ref) DO NOTHING" \
		"    RETURNING id, total_price),"
#define SEATS_BOOKED \
		" s AS (" \
		"    UPDATE evently.event_seats es" \
		"       SET status = 'BOOKED', booking_id = b.id, hold_id = NULL, held_until = NULL" \
		"      FROM b WHERE es.hold_id = $1),"
/* 1.1: the same, with the seat counters moved and claimed (counts.c) */
#define SEATS_BOOKED_COUNTED \
		" s AS (" \
		"    UPDATE evently.event_seats es" \
		"       SET status = 'BOOKED', booking_id = b.id, hold_id = NULL, held_until = NULL" \
		"      FROM b WHERE es.hold_id = $1 RETURNING 1)," \
		CLAIM_SEAT_COUNTS("(SELECT event_id FROM h)", "f.n", "(SELECT count(*) AS n FROM s) f",	\
						  "held", "booked", "0, -f.n, f.n, 0") ","
#define SEAT_TICKETS_1_0 \
		" t AS (" \
		"    INSERT INTO evently.tickets (booking_id, event_id, seat_id, section_id, seat_price," \
		"                                 ticket_code)" \
		"    SELECT b.id, hs.event_id, hs.seat_id, s.section_id, hs.price," \
		"           upper(substr(replace(gen_random_uuid()::text, '-', ''), 17, 16))" \
		"      FROM b, evently.hold_seats hs JOIN evently.seats s ON s.id = hs.seat_id" \
		"     WHERE hs.hold_id = $1),"
#define EVENT_KEY \
		" k AS (SELECT secret_key FROM evently.event_keys WHERE event_id = (SELECT event_id FROM h)),"
#define SEAT_TICKETS \
		" sx AS MATERIALIZED (" \
		"    SELECT evently._child_id(hs.event_id) AS id, hs.event_id, hs.seat_id, s.section_id, hs.price" \
		"      FROM evently.hold_seats hs JOIN evently.seats s ON s.id = hs.seat_id" \
		"     WHERE hs.hold_id = $1)," \
		" t AS (" \
		"    INSERT INTO evently.tickets (id, booking_id, event_id, seat_id, section_id, seat_price," \
		"                                 holder_id, ticket_code)" \
		"    SELECT sx.id, b.id, sx.event_id, sx.seat_id, sx.section_id, sx.price, h.user_id," \
		"           evently._sign_ticket(sx.id, sx.event_id, 'S', sx.seat_id, 1, k.secret_key)" \
		"      FROM b, h, sx LEFT JOIN k ON true),"
#define UNIT_TICKETS \
		" ux AS MATERIALIZED (" \
		"    SELECT evently._child_id(u.event_id) AS id, u.event_id, u.tier_id, u.unit_no, hi.unit_price" \
		"      FROM evently.tier_units u" \
		"      JOIN evently.hold_items hi ON hi.hold_id = u.hold_id AND hi.tier_id = u.tier_id" \
		"     WHERE u.hold_id = $1)," \
		" tt AS (" \
		"    INSERT INTO evently.tickets (id, booking_id, event_id, tier_id, unit_no, seat_price," \
		"                                 holder_id, ticket_code)" \
		"    SELECT ux.id, b.id, ux.event_id, ux.tier_id, ux.unit_no, ux.unit_price, h.user_id," \
		"           evently._sign_ticket(ux.id, ux.event_id, 'T', ux.tier_id, 1, k.secret_key)" \
		"      FROM b, h, ux LEFT JOIN k ON true)," \
		" tu AS (" \
		"    UPDATE evently.tier_units u" \
		"       SET status = 'BOOKED', booking_id = b.id, hold_id = NULL, held_until = NULL" \
		"      FROM b WHERE u.hold_id = $1),"
#define BOOKING_PAYMENT \
		" p AS (" \
		"    INSERT INTO evently.payments (booking_id, amount, status, payment_method," \
		"                                  transaction_id, processed_at)" \
		"    SELECT id, total_price, 'COMPLETED', $4, $5, now() FROM b)" \
		" SELECT (SELECT id FROM b)"
#define ORDER_PAYMENT \
		" p AS (" \
		"    UPDATE evently.payments pay SET booking_id = b.id, updated_at = now()" \
		"      FROM b WHERE pay.order_id = $4)" \
		" SELECT (SELECT id FROM b)"

pg_uuid_t *
insert_booking(pg_uuid_t *hold_id, const char *payment_method, const char *key, pg_uuid_t *order_id,
			   bool has_units)
{
	static SqlStmt q_1_0 = SQL_STMT(BOOKING_START SEAT_TICKETS_1_0 SEATS_BOOKED BOOKING_PAYMENT,
									5, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID);
	static SqlStmt q = SQL_STMT(BOOKING_START EVENT_KEY SEAT_TICKETS SEATS_BOOKED_COUNTED UNIT_TICKETS BOOKING_PAYMENT,
								5, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID);
	static SqlStmt q_order = SQL_STMT(BOOKING_START EVENT_KEY SEAT_TICKETS SEATS_BOOKED_COUNTED UNIT_TICKETS ORDER_PAYMENT,
									  4, UUIDOID, TEXTOID, TEXTOID, UUIDOID);
	/* a hold of seats only: no statement on the tier units (nor their trigger) */
	static SqlStmt q_seats = SQL_STMT(BOOKING_START EVENT_KEY SEAT_TICKETS SEATS_BOOKED_COUNTED BOOKING_PAYMENT,
									  5, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID);
	static SqlStmt q_order_seats = SQL_STMT(BOOKING_START EVENT_KEY SEAT_TICKETS SEATS_BOOKED_COUNTED ORDER_PAYMENT,
											4, UUIDOID, TEXTOID, TEXTOID, UUIDOID);
	SqlStmt    *stmt = !sql_is_1_1() ? &q_1_0 :
		order_id ? (has_units ? &q_order : &q_order_seats) : (has_units ? &q : &q_seats);

	/* a booking reference already taken writes nothing: again with another */
	for (int attempt = 0; attempt < 20; attempt++)
	{
		Datum		args[5] = {UUIDPGetDatum(hold_id), CStringGetTextDatum(new_booking_ref()),
			key ? CStringGetTextDatum(key) : (Datum) 0,
			order_id ? UUIDPGetDatum(order_id) : CStringGetTextDatum(payment_method),
		order_id ? (Datum) 0 : CStringGetTextDatum(new_transaction_id())};
		pg_uuid_t  *booking_id;

		if (stmt_run(stmt, args, key ? "     " : "  n  ", SPI_OK_SELECT) != 1)
			elog(ERROR, "hold %s was not booked", uuid_text(hold_id));
		if ((booking_id = result_uuid(0, 1)) != NULL)
			return booking_id;
	}
	elog(ERROR, "could not find a free booking reference");
}

static void
check_confirm_args(const char *payment_method, const char *key)
{
	int			len = strlen(payment_method);

	if (len < 1 || len > 50)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("invalid payment method"),
				errdetail("A payment method has 1 to 50 characters, not %d.", len));
	check_idempotency_key(key);
}

static Datum
confirm_booking_body(FunctionCallInfo fcinfo)
{
	pg_uuid_t  *hold_id = ARG_UUID(0);
	pg_uuid_t  *user_id = ARG_UUID(1);
	char	   *payment_method = PG_ARGISNULL(2) ? "mock" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *key = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	pg_uuid_t  *booking_id;
	LockedHold	h;
	Datum		booking;

	require_arg(hold_id, "hold_id");
	check_confirm_args(payment_method, key);
	user_id = resolve_actor(user_id);
	lock_event_of_hold(hold_id, user_id);
	if (key)
		lock_idempotency_key(user_id, key);

	h = lock_hold(hold_id);
	if (memcmp(h.owner_id, user_id, UUID_LEN) != 0)
		report_not_found("hold", hold_id);
	/* a retry with the same key returns the same booking, even after commit */
	if (key && (booking_id = booking_for_key(user_id, key, hold_id, payment_method)) != NULL)
		return object_json(OBJECT_BOOKING, booking_id);
	if (strcmp(h.status, "CONFIRMED") == 0)
		report_confirmed(hold_id);
	if (strcmp(h.status, "ACTIVE") != 0 || h.lapsed)
		ereport(ERROR, errcode(EV_HOLD_EXPIRED), errmsg("hold has expired"),
				errdetail("Hold %s is %s.", uuid_text(hold_id),
						  h.lapsed && strcmp(h.status, "ACTIVE") == 0 ? "past its expiry" : h.status),
				errhint("Hold the seats again."));
	check_and_lock_seats(hold_id, h.event_id);
	if (h.has_units)
		lock_held_units(hold_id);

	booking_id = insert_booking(hold_id, payment_method, key, NULL, h.has_units);
	if (h.entry_id)
		settle_offer(h.entry_id, "CONVERTED", "waitlist.converted", h.event_id, user_id, user_id);
	booking = emit_object("booking.confirmed", h.event_id, user_id, "booking", OBJECT_BOOKING, booking_id, user_id);
	commit_durably();
	return booking;
}

PG_FUNCTION_INFO_V1(evently_confirm_booking);
Datum
evently_confirm_booking(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, confirm_booking_body, true);
}
