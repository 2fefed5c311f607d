/*
 * orders.c: the engine's side of orders (SPEC section 10).
 *
 * evently._book_order turns a paid order's hold into a booking: tickets are
 * issued exactly when the payment completes.  A payment may complete after
 * its hold lapsed (a card webhook arriving late, a bank transfer marked
 * paid): the hold then takes its seats back if they are still free, and its
 * tiers' quantities from any free units; if not, no ticket is issued and
 * the caller refunds the payment.  Never a ticket over capacity: the same
 * row locks as confirm_booking decide.
 *
 * Lock order: event row (key share), hold row, seats by seat id, units by
 * tier and unit number; the SQL caller has locked the order and payment
 * rows after the hold row (evently._lock_order, 52_orders.sql).
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* How long a retaken hold lives: only until the booking in this transaction. */
#define RETAKEN_HOLD_TTL_SECONDS 60

/* Take back the seats of a lapsed hold, all or none: false if one is gone. */
static bool
reclaim_hold_seats(pg_uuid_t *hold_id, pg_uuid_t *event_id, Datum held_until)
{
	static SqlStmt lock = SQL_STMT(
		"SELECT bool_and(es.status = 'AVAILABLE' OR (es.status = 'HELD' AND es.hold_id = $1)"
		"                OR (es.status = 'HELD' AND es.held_until <= now()"
		"                    AND NOT EXISTS (SELECT 1 FROM evently.seats s"
		"                                     WHERE s.id = es.seat_id AND s.status = 'BLOCKED')))"
		"  FROM (SELECT * FROM evently.event_seats es"
		"         WHERE es.event_id = $2"
		"           AND es.seat_id IN (SELECT seat_id FROM evently.hold_seats WHERE hold_id = $1)"
		"         ORDER BY es.seat_id FOR UPDATE) es", 2, UUIDOID, UUIDOID);
	static SqlStmt take = SQL_STMT(
		"UPDATE evently.event_seats SET status = 'HELD', hold_id = $1, held_until = $3"
		" WHERE event_id = $2 AND seat_id IN (SELECT seat_id FROM evently.hold_seats WHERE hold_id = $1)",
		3, UUIDOID, UUIDOID, TIMESTAMPTZOID);
	Datum		args[3] = {UUIDPGetDatum(hold_id), UUIDPGetDatum(event_id), held_until};
	bool		isnull;
	Datum		all_free;

	stmt_run(&lock, args, NULL, SPI_OK_SELECT);
	all_free = result_datum(0, 1, &isnull);
	if (isnull)					/* a tier hold: no seats */
		return true;
	if (!DatumGetBool(all_free))
		return false;
	stmt_run(&take, args, NULL, SPI_OK_UPDATE);
	return true;
}

/* A lapsed, expired or released hold lives again if its inventory is free. */
static bool
reclaim_hold(pg_uuid_t *hold_id, pg_uuid_t *event_id)
{
	static SqlStmt revive = SQL_STMT(
		"UPDATE evently.holds SET status = 'ACTIVE', expires_at = $2, updated_at = now() WHERE id = $1",
		2, UUIDOID, TIMESTAMPTZOID);
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTransactionStartTimestamp(),
													RETAKEN_HOLD_TTL_SECONDS * 1000);
	Datum		args[2] = {UUIDPGetDatum(hold_id), TimestampTzGetDatum(until)};

	if (!reclaim_hold_seats(hold_id, event_id, args[1]) || !reclaim_hold_units(hold_id, args[1]))
		return false;
	stmt_run(&revive, args, NULL, SPI_OK_UPDATE);
	return true;
}

static void
read_order(pg_uuid_t *order_id, pg_uuid_t **hold_id)
{
	static SqlStmt q = SQL_STMT("SELECT hold_id FROM evently.orders WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(order_id);

	if (stmt_run(&q, &arg, NULL, SPI_OK_SELECT) != 1)
		report_not_found("order", order_id);
	*hold_id = result_uuid(0, 1);
}

/*
 * evently._book_order(order_id uuid) RETURNS jsonb: the booking of the
 * order's hold (booking_json), made now; NULL when the hold's inventory is
 * gone (a late payment), the event no longer sells (cancelled, started or
 * ended: confirm_booking's rule) or the hold was booked another way; the
 * caller then refunds the payment.
 * Internal: the SQL order functions call it once the payment completed.
 */
static Datum
book_order_body(FunctionCallInfo fcinfo)
{
	pg_uuid_t  *order_id = ARG_UUID(0);
	pg_uuid_t  *hold_id;
	pg_uuid_t  *booking_id;
	LockedHold	h;
	bool		live;
	Datum		booking;

	require_arg(order_id, "order_id");
	read_order(order_id, &hold_id);
	lock_event_of_hold(hold_id, NULL);
	h = lock_hold(hold_id);
	if (strcmp(h.status, "CONFIRMED") == 0)
		PG_RETURN_NULL();
	/* a payment completing after the event was cancelled or closed its sales */
	if (!read_event_state(h.event_id).on_sale)
		PG_RETURN_NULL();
	live = strcmp(h.status, "ACTIVE") == 0 && !h.lapsed;
	if (live)
	{
		lock_held_seats(hold_id, h.event_id);
		if (h.has_units)
			lock_held_units(hold_id);
	}
	else if (!reclaim_hold(hold_id, h.event_id))
		PG_RETURN_NULL();

	booking_id = insert_booking(hold_id, NULL, NULL, order_id, h.has_units);
	if (live && h.entry_id)
		settle_offer(h.entry_id, "CONVERTED", "waitlist.converted", h.event_id, h.owner_id, h.owner_id);
	booking = emit_object("booking.confirmed", h.event_id, h.owner_id, "booking", OBJECT_BOOKING, booking_id,
						  h.owner_id);
	commit_durably();
	return booking;
}

PG_FUNCTION_INFO_V1(evently_book_order);
Datum
evently_book_order(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, book_order_body, true);
}

void
end_pending_orders(Datum hold_ids)
{
	static SqlStmt q = SQL_STMT("SELECT evently._expire_orders($1)", 1, UUIDARRAYOID);

	if (sql_is_1_1())
		stmt_run(&q, &hold_ids, NULL, SPI_OK_SELECT);
}

/* ALREADY_PROCESSED: an order is paying for the hold (confirm_booking refuses it) */
void
report_ordered(pg_uuid_t *order_id, pg_uuid_t *hold_id)
{
	ereport(ERROR, errcode(EV_ALREADY_PROCESSED), errmsg("hold is being paid for"),
			errdetail("Order %s is paying for hold %s.", uuid_text(order_id), uuid_text(hold_id)),
			errhint("Complete or wait out the order; its hold is confirmed when it is paid."));
}
