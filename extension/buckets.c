/*
 * buckets.c: ids that carry their shard (issue 15; SQL side in
 * extension/sql/96_shards.sql).
 *
 * evently.bucket (0..32767, set per database by evently.configure_shard)
 * names the bucket of the events this database makes.  An id carries its
 * bucket in its first 16 bits (bytes 0-1, big-endian); the other 112 bits
 * are gen_random_uuid()'s, version and variant included.  With bucket 0 (one
 * database, the default) ids are plain gen_random_uuid(): nothing changes.
 *
 * A row that belongs to an event (a hold, a booking, a ticket, ...) takes the
 * bucket of its event, not the database's: a bucket can then move to another
 * shard with no id changing.  Its id is given so either by who makes it
 * (evently._child_id(parent), booking.c's tickets) or by the BEFORE INSERT
 * row trigger evently._bucket_id(parent column, ...), which copies the first
 * 16 bits of the first non-NULL parent id into the new row's id.  Both do
 * nothing while the setting is 0, so a single database pays one comparison.
 */
#include "evently.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"

/*
 * PGC_SUSET: a bucket decides which shard the proxy sends an id to, so a
 * session that could pick its own would make events the proxy looks for on
 * another shard.  A superuser sets it per database (configure_shard: ALTER
 * DATABASE ... SET), and every session of that database then has it.
 */
int			evently_bucket = 0;

void
define_bucket_setting(void)
{
	DefineCustomIntVariable("evently.bucket",
							"The bucket of the events this database makes (0: one database, plain random ids).",
							"An id carries its event's bucket in its first 16 bits; the proxy routes by it. "
							"Set per shard by evently.configure_shard(bucket).",
							&evently_bucket, 0, 0, 32767,
							PGC_SUSET, 0, NULL, NULL, NULL);
}

static inline int
bucket_bits(const pg_uuid_t *id)
{
	return (id->data[0] << 8) | id->data[1];
}

/* gen_random_uuid() with its first 16 bits set to bucket */
static pg_uuid_t *
random_id_in(int bucket)
{
	pg_uuid_t  *id = DatumGetUUIDP(DirectFunctionCall1(gen_random_uuid, (Datum) 0));

	id->data[0] = (uint8) (bucket >> 8);
	id->data[1] = (uint8) bucket;
	return id;
}

/* evently.new_id() RETURNS uuid: a new id in the session's bucket */
PG_FUNCTION_INFO_V1(evently_new_id);
Datum
evently_new_id(PG_FUNCTION_ARGS)
{
	if (evently_bucket == 0)
		return DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	PG_RETURN_UUID_P(random_id_in(evently_bucket));
}

/* evently.bucket_of(uuid) RETURNS int: the bucket an id carries (0..65535) */
PG_FUNCTION_INFO_V1(evently_bucket_of);
Datum
evently_bucket_of(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(bucket_bits(PG_GETARG_UUID_P(0)));
}

/*
 * evently._child_id(parent uuid) RETURNS uuid: a new id for a row of
 * parent's event (parent: the event's id, or a booking's, an order's ...),
 * in its bucket; a plain random one while the setting is 0 (or without a
 * parent).
 */
PG_FUNCTION_INFO_V1(evently_child_id);
Datum
evently_child_id(PG_FUNCTION_ARGS)
{
	if (evently_bucket == 0 || PG_ARGISNULL(0))
		return DirectFunctionCall1(gen_random_uuid, (Datum) 0);
	PG_RETURN_UUID_P(random_id_in(bucket_bits(PG_GETARG_UUID_P(0))));
}

/*
 * evently._bucket_id(): BEFORE INSERT ... FOR EACH ROW, arguments the
 * parent columns in order of preference (CREATE TRIGGER ... EXECUTE
 * FUNCTION evently._bucket_id('booking_id', 'order_id')).  Gives the new
 * row's id the bucket of its first non-NULL parent.  An id that already
 * carries it (evently._child_id's, a restored row's) is left as it is.
 */
PG_FUNCTION_INFO_V1(evently_bucket_id);
Datum
evently_bucket_id(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	row;
	TupleDesc	desc;
	int			id_col;
	bool		isnull;
	Datum		value;
	pg_uuid_t  *id;
	int			bucket = -1;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "evently._bucket_id() must be a BEFORE INSERT ... FOR EACH ROW trigger");
	row = td->tg_trigtuple;
	if (evently_bucket == 0)
		return PointerGetDatum(row);

	desc = RelationGetDescr(td->tg_relation);
	for (int i = 0; i < td->tg_trigger->tgnargs && bucket < 0; i++)
	{
		int			col = SPI_fnumber(desc, td->tg_trigger->tgargs[i]);

		if (col <= 0)
			elog(ERROR, "evently._bucket_id(): %s has no column %s",
				 RelationGetRelationName(td->tg_relation), td->tg_trigger->tgargs[i]);
		value = heap_getattr(row, col, desc, &isnull);
		if (!isnull)
			bucket = bucket_bits(DatumGetUUIDP(value));
	}
	id_col = SPI_fnumber(desc, "id");
	if (id_col <= 0)
		elog(ERROR, "evently._bucket_id(): %s has no column id", RelationGetRelationName(td->tg_relation));
	value = heap_getattr(row, id_col, desc, &isnull);
	if (bucket < 0 || isnull || bucket_bits(DatumGetUUIDP(value)) == bucket)
		return PointerGetDatum(row);

	id = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));
	memcpy(id, DatumGetUUIDP(value), sizeof(pg_uuid_t));
	id->data[0] = (uint8) (bucket >> 8);
	id->data[1] = (uint8) bucket;
	value = UUIDPGetDatum(id);
	isnull = false;
	return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, 1, &id_col, &value, &isnull));
}
