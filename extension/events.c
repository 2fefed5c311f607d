/*
 * events.c: what the engine asks of an event: is it on sale?
 *
 * An event is on sale while it is published and has not started; once it
 * starts (or is cancelled or completed) nothing is held, confirmed or
 * cancelled by a buyer any more.
 */
#include "evently.h"

#include "catalog/pg_type.h"

EventState
read_event_state(pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT status, date_time <= now(), date_time::text FROM evently.events WHERE id = $1",
		1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);
	EventState	ev;

	if (stmt_run(&q, &arg, NULL, SPI_OK_SELECT) != 1)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("event not found"),
				errdetail("Event %s does not exist.", uuid_text(event_id)));
	ev.status = result_text(0, 1);
	ev.started = result_bool(0, 2);
	ev.starts_at = result_text(0, 3);
	ev.on_sale = strcmp(ev.status, "published") == 0 && !ev.started;
	return ev;
}
