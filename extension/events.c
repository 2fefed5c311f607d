/*
 * events.c: what the engine asks of an event: is it on sale?
 *
 * An event is on sale while it is published and has not started; once it
 * starts (or is cancelled or completed) nothing is held, confirmed or
 * cancelled by a buyer any more.  From 1.1 an event may sell on while it is
 * active (sales_during_event, until its end_time), drafts and events under
 * review never sell, and the status shown is the lifecycle's
 * (evently._lifecycle_status: published becomes active, then completed, by
 * the clock).
 */
#include "evently.h"

#include "catalog/pg_type.h"

EventState
read_event_state(pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT evently._lifecycle_status(status, date_time, end_time), date_time <= now(),"
		"       date_time::text, " EVENT_ON_SALE_1_1 " FROM evently.events e WHERE id = $1",
		1, UUIDOID);
	static SqlStmt q_1_0 = SQL_STMT(
		"SELECT status, date_time <= now(), date_time::text, " EVENT_ON_SALE_1_0
		"  FROM evently.events e WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	EventState	ev;

	if (stmt_run(sql_is_1_1() ? &q : &q_1_0, &arg, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	ev.status = result_text(0, 1);
	ev.started = result_bool(0, 2);
	ev.starts_at = result_text(0, 3);
	ev.on_sale = result_bool(0, 4);
	return ev;
}
