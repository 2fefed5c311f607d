/*
 * cancel.c: evently.cancel_with_policy.
 *
 * The owner (or an ADMIN) cancels a booking under the event's policy: refund
 * = paid - fee, where paid is what the booking's payment took (its total;
 * from 1.1 an order's total after its discount) and the fee is NONE -> 0,
 * FIXED -> amount, PERCENTAGE -> paid * amount / 100, capped at what was
 * paid and rounded to cents.  After an order's partial refunds the fee is
 * kept out of what is left (refund = left - fee, the fee at most what is
 * left): over the booking's life the buyer gets back paid - fee, as if
 * nothing had been refunded before.  Booking, tickets, payment, seats and
 * the cancellation record change in one transaction, and the freed seats are
 * offered to the waitlist before anyone else can hold them.  Once the event
 * has started (or is over, or cancelled) a buyer can no longer cancel,
 * whatever the deadline says: only cancelling the event refunds then, in
 * full and whatever the policy (evently._refund_event_bookings, called by
 * the SQL that cancels an event).
 * Lock order: queue lock, booking rows (in id order), seats.  A booking an
 * order paid for comes after that order's rows (its hold, order and payment:
 * evently._lock_booking_order), as every order route takes them first and
 * may lock the booking after them (a refund cancelling its tickets; a
 * webhook or mark-paid, which lock the payment after the order).
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

typedef struct PolicyVerdict
{
	bool		found;
	bool		allowed;
	bool		past_deadline;
	char	   *deadline;
} PolicyVerdict;

static void
check_reason(const char *reason)
{
	/* characters, not bytes: a reason in any script gets the same room */
	if (reason && pg_mbstrlen(reason) > 500)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("cancellation reason is too long"),
				errdetail("A reason has at most 500 characters, not %d.", pg_mbstrlen(reason)));
}

static PolicyVerdict
read_policy(pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT allow_cancellation, now() > cancellation_deadline, cancellation_deadline::text"
		"  FROM evently.cancellation_policies WHERE event_id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	PolicyVerdict v = {0};

	if (stmt_run(&q, &arg, NULL, SPI_OK_SELECT) == 0)
		return v;
	v.found = true;
	v.allowed = result_bool(0, 1);
	v.past_deadline = result_bool(0, 2);
	v.deadline = result_text(0, 3);
	return v;
}

static void
enforce_policy(pg_uuid_t *event_id, pg_uuid_t *booking_id)
{
	PolicyVerdict v = read_policy(event_id);

	if (!v.found)
		ereport(ERROR, errcode(EV_CANCELLATION_REFUSED), errmsg("event has no cancellation policy"),
				errdetail("Event %s of booking %s has no cancellation policy.",
						  uuid_text(event_id), uuid_text(booking_id)),
				errhint("An ADMIN sets one with evently.set_cancellation_policy()."));
	if (!v.allowed)
		ereport(ERROR, errcode(EV_CANCELLATION_REFUSED), errmsg("cancellation is not allowed for this event"),
				errdetail("The policy of event %s forbids cancellations.", uuid_text(event_id)));
	if (v.past_deadline)
		ereport(ERROR, errcode(EV_CANCELLATION_REFUSED), errmsg("cancellation deadline has passed"),
				errdetail("Bookings of event %s could be cancelled until %s.",
						  uuid_text(event_id), v.deadline));
}

/* A buyer may cancel only before the event starts, and not once it is cancelled or over. */
static void
check_event_not_started(pg_uuid_t *event_id)
{
	EventState	ev = read_event_state(event_id);

	if (!ev.on_sale || ev.started)
		ereport(ERROR, errcode(EV_CANCELLATION_REFUSED), errmsg("event has already started"),
				errdetail("Event %s is %s and starts at %s; its bookings can no longer be cancelled.",
						  uuid_text(event_id), ev.status, ev.starts_at),
				errhint("Only cancelling the event refunds its bookings now."));
}

#define CANCEL_BOOKINGS(in_flight, paid_here) \
	"WITH b AS (" \
	"    UPDATE evently.bookings" \
	"       SET status = 'CANCELLED', cancelled_at = now(), updated_at = now()," \
	"           version = version + 1" \
	"     WHERE id IN (SELECT id FROM evently.bookings" \
	"                   WHERE (id = $1 OR event_id = $2) AND status = 'CONFIRMED'" \
	"                   ORDER BY id FOR UPDATE)" \
	"    RETURNING id, user_id, event_id, total_price)," \
	" paid AS (" \
	/* what the booking cost its buyer (after an order's discount) and what */ \
	/* of it is left after an order's partial refunds, done or under way */ \
	"    SELECT b.id, b.user_id, b.event_id, coalesce(pay.amount, b.total_price) AS base," \
	"           coalesce(pay.amount, b.total_price) - coalesce(pay.refund_amount, 0)" in_flight " AS left_over" \
	"      FROM b LEFT JOIN evently.payments pay ON pay.booking_id = b.id)," \
	" fee AS (" \
	"    SELECT paid.*, CASE WHEN $5 THEN 0" \
	"               ELSE least(paid.base, round(CASE p.fee_type" \
	"                    WHEN 'FIXED' THEN p.fee_amount" \
	"                    WHEN 'PERCENTAGE' THEN paid.base * p.fee_amount / 100" \
	"                    ELSE 0 END, 2)) END AS amount" \
	"      FROM paid LEFT JOIN evently.cancellation_policies p ON p.event_id = paid.event_id)," \
	" c AS (" \
	"    INSERT INTO evently.cancellations (booking_id, cancelled_by, processed_at," \
	"                                       cancellation_fee, refund_amount, reason)" \
	/* the fee is the policy's on what was paid, kept out of what is left: */ \
	/* a refund of some tickets before does not waive it */ \
	"    SELECT id, $3, now(), least(amount, left_over), left_over - least(amount, left_over), $4 FROM fee" \
	"    RETURNING id, booking_id, refund_amount)," \
	" t AS (" \
	"    UPDATE evently.tickets SET status = 'CANCELLED' WHERE booking_id IN (SELECT id FROM b))," \
	" p AS (" \
	"    UPDATE evently.payments pay" \
	"       SET status = 'REFUNDED', refund_amount = coalesce(pay.refund_amount, 0) + c.refund_amount," \
	"           refunded_at = now(), updated_at = now()" \
	"      FROM c WHERE pay.booking_id = c.booking_id" \
	"       AND pay.status IN ('COMPLETED', 'PARTIALLY_REFUNDED')" paid_here ")" \
	/* joined to the table, not to the CTE b, whose size the planner does not know */ \
	" SELECT c.id, c.booking_id, bk.user_id FROM c JOIN evently.bookings bk ON bk.id = c.booking_id" \
	" ORDER BY c.booking_id"

/*
 * Cancel bookings: one (booking_id, locked by the caller) or every CONFIRMED
 * booking of an event (event_id), in one pass each way: bookings, their
 * cancellation records, tickets, payments, then their seats and units
 * (and, from 1.1, the refunds of card payments through the provider).  The fee
 * follows the event's policy, or is waived (a full refund) when the event
 * itself is cancelled.  Leaves in SPI_tuptable one row per cancellation:
 * (cancellation id, booking id, owner), in booking id order; returns how
 * many.
 */
static uint64
cancel_bookings(pg_uuid_t *booking_id, pg_uuid_t *event_id, pg_uuid_t *actor_id, const char *reason,
				bool waive_fee)
{
	static SqlStmt q_1_0 = SQL_STMT(CANCEL_BOOKINGS("", ""), 5, UUIDOID, UUIDOID, UUIDOID, TEXTOID, BOOLOID);
	/*
	 * 1.1: a card refund still with the provider is not refunded again; a
	 * card payment is refunded through its provider
	 * (evently._refund_cancelled_orders)
	 */
	static SqlStmt q = SQL_STMT(CANCEL_BOOKINGS(
									" - coalesce((SELECT sum(r.amount) FROM evently.refunds r"
									"              WHERE r.payment_id = pay.id AND r.status = 'REFUNDING'), 0)",
									" AND pay.provider IS DISTINCT FROM 'card'"),
								5, UUIDOID, UUIDOID, UUIDOID, TEXTOID, BOOLOID);
	static SqlStmt free_seats = SQL_STMT(
		"WITH gone AS (SELECT id FROM evently.bookings WHERE (id = $1 OR event_id = $2)"
		"                 AND status = 'CANCELLED'),"
		" locked AS (SELECT seat_id FROM evently.event_seats"
		"             WHERE booking_id IN (SELECT id FROM gone) ORDER BY seat_id FOR UPDATE)"
		" UPDATE evently.event_seats es SET status = 'AVAILABLE', booking_id = NULL"
		"   FROM locked WHERE es.booking_id IN (SELECT id FROM gone) AND es.seat_id = locked.seat_id",
		2, UUIDOID, UUIDOID);
	static SqlStmt free_units = SQL_STMT(
		"WITH locked AS (SELECT tier_id, unit_no FROM evently.tier_units WHERE booking_id = ANY ($1)"
		"                 ORDER BY tier_id, unit_no FOR UPDATE)"
		" UPDATE evently.tier_units u SET status = 'AVAILABLE', booking_id = NULL"
		"   FROM locked WHERE u.tier_id = locked.tier_id AND u.unit_no = locked.unit_no",
		1, UUIDARRAYOID);
	static SqlStmt refund_orders = SQL_STMT("SELECT evently._refund_cancelled_orders($1)", 1, UUIDARRAYOID);
	Datum		args[5] = {booking_id ? UUIDPGetDatum(booking_id) : (Datum) 0,
		event_id ? UUIDPGetDatum(event_id) : (Datum) 0,
		actor_id ? UUIDPGetDatum(actor_id) : (Datum) 0,
		reason ? CStringGetTextDatum(reason) : (Datum) 0, BoolGetDatum(waive_fee)};
	char		nulls[6] = {booking_id ? ' ' : 'n', event_id ? ' ' : 'n', actor_id ? ' ' : 'n',
	reason ? ' ' : 'n', ' ', '\0'};
	uint64		n;
	SPITupleTable *cancelled;

	n = stmt_run(sql_is_1_1() ? &q : &q_1_0, args, nulls, SPI_OK_SELECT);
	cancelled = SPI_tuptable;
	stmt_run(&free_seats, args, nulls, SPI_OK_UPDATE);
	if (sql_is_1_1() && n > 0)
	{
		Datum		ids;

		/* the cancellations again: freeing seats replaced the last result */
		SPI_tuptable = cancelled;
		SPI_processed = n;
		ids = result_uuid_array(n, 2);
		stmt_run(&free_units, &ids, NULL, SPI_OK_UPDATE);
		stmt_run(&refund_orders, &ids, NULL, SPI_OK_SELECT);
		SPI_tuptable = cancelled;
	}
	SPI_tuptable = cancelled;	/* the caller reads the cancellations */
	SPI_processed = n;
	return n;
}

static Datum
cancel_with_policy_body(FunctionCallInfo fcinfo)
{
	static SqlStmt peek = SQL_STMT("SELECT event_id, user_id FROM evently.bookings WHERE id = $1",
							  1, UUIDOID);
	static SqlStmt lock_booking = SQL_STMT("SELECT status FROM evently.bookings WHERE id = $1 FOR UPDATE",
									  1, UUIDOID);
	static SqlStmt lock_order = SQL_STMT("SELECT evently._lock_booking_order($1)", 1, UUIDOID);
	static SqlStmt no_refund_under_way = SQL_STMT("SELECT evently._refuse_refund_under_way($1)", 1, UUIDOID);
	static SqlStmt no_ticket_out_of_hand = SQL_STMT("SELECT evently._refuse_tickets_out_of_hand($1)", 1, UUIDOID);
	pg_uuid_t  *booking_id = ARG_UUID(0);
	pg_uuid_t  *actor_id = ARG_UUID(1);
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	pg_uuid_t  *event_id,
			   *owner_id,
			   *cancellation_id;
	Datum		arg;
	char	   *status;
	Datum		cancellation;

	require_arg(booking_id, "booking_id");
	check_reason(reason);
	actor_id = acting_user(actor_id);
	arg = UUIDPGetDatum(booking_id);
	if (stmt_run(&peek, &arg, NULL, SPI_OK_SELECT) != 1)
		report_not_found("booking", booking_id);
	event_id = result_uuid(0, 1);
	owner_id = result_uuid(0, 2);
	if (memcmp(owner_id, actor_id, UUID_LEN) != 0 && !user_is_admin(actor_id))
		report_not_found("booking", booking_id);

	lock_event_queue(event_id);
	if (sql_is_1_1())
		stmt_run(&lock_order, &arg, NULL, SPI_OK_SELECT);
	stmt_run(&lock_booking, &arg, NULL, SPI_OK_SELECT);
	status = result_text(0, 1);
	if (strcmp(status, "CANCELLED") == 0)
		ereport(ERROR, errcode(EV_ALREADY_PROCESSED), errmsg("booking is already cancelled"),
				errdetail("Booking %s was cancelled before.", uuid_text(booking_id)));
	if (sql_is_1_1())
	{
		stmt_run(&no_refund_under_way, &arg, NULL, SPI_OK_SELECT);
		stmt_run(&no_ticket_out_of_hand, &arg, NULL, SPI_OK_SELECT);
	}
	check_event_not_started(event_id);
	enforce_policy(event_id, booking_id);

	if (cancel_bookings(booking_id, NULL, actor_id, reason, false) != 1)
		elog(ERROR, "booking %s was not cancelled", uuid_text(booking_id));
	cancellation_id = result_uuid(0, 1);
	cancellation = object_json(OBJECT_CANCELLATION, cancellation_id);
	emit("booking.cancelled", event_id, owner_id, "booking", booking_id, cancellation, actor_id);
	(void) promote_locked(event_id, INT_MAX);
	commit_durably();
	return cancellation;
}

PG_FUNCTION_INFO_V1(evently_cancel_with_policy);
Datum
evently_cancel_with_policy(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, cancel_with_policy_body, true);
}

/*
 * evently._refund_event_bookings(event_id uuid, actor uuid, reason text)
 * RETURNS int: cancel every CONFIRMED booking of an event being cancelled,
 * each with a full refund whatever the policy, and record booking.cancelled
 * for each (SPEC section 9).  The caller holds the event's queue lock and
 * has released its holds; returns how many bookings were cancelled.
 */
static Datum
refund_event_bookings_body(FunctionCallInfo fcinfo)
{
	/* one booking.cancelled per cancellation, in booking id order, in one statement */
	static SqlStmt record = SQL_STMT(
		"SELECT evently._emit('booking.cancelled', $1, owner, 'booking', booking, d.doc, $2)"
		"  FROM unnest($3::uuid[], $4::uuid[], $5::uuid[]) AS x(cancellation, booking, owner)"
		"  JOIN evently.cancellation_docs d ON d.cancellation_id = x.cancellation"
		" ORDER BY booking", 5, UUIDOID, UUIDOID, UUIDARRAYOID, UUIDARRAYOID, UUIDARRAYOID);
	pg_uuid_t  *event_id = ARG_UUID(0);
	pg_uuid_t  *actor_id = ARG_UUID(1);
	char	   *reason = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	uint64		n;
	Datum		args[5];

	require_arg(event_id, "event_id");
	check_reason(reason);
	n = cancel_bookings(NULL, event_id, actor_id, reason, true);
	if (n > 0)
	{
		args[0] = UUIDPGetDatum(event_id);
		args[1] = actor_id ? UUIDPGetDatum(actor_id) : (Datum) 0;
		for (int col = 1; col <= 3; col++)
			args[1 + col] = result_uuid_array(n, col);
		stmt_run(&record, args, actor_id ? "     " : " n   ", SPI_OK_SELECT);
	}
	commit_durably();
	return Int32GetDatum((int32) n);
}

PG_FUNCTION_INFO_V1(evently_refund_event_bookings);
Datum
evently_refund_event_bookings(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, refund_event_bookings_body, false);
}
