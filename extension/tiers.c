/*
 * tiers.c: evently.reserve_tiers, the general-admission hold, and the unit
 * steps the other engine functions share.
 *
 * A tier's capacity is its pre-created units (evently.tier_units, one row
 * each, as event_seats is for seats).  A reservation claims, tier by tier in
 * tier-id order, free units from a random one on with FOR UPDATE SKIP
 * LOCKED (claim_units): two buyers of one tier lock different rows and do
 * not queue on a shared counter (alf.io claims its tickets the same way).
 * What is left to queue on under many concurrent buyers is the tier's 16
 * counter slots (48_tiers.sql), held from the claim to the commit.  A unit
 * is free when AVAILABLE, or HELD by a hold that lapsed (lazy expiry)
 * unless people are waiting for the event, whose queue gets lapsed
 * inventory first.  All or nothing: one tier short and nothing is held
 * (SOLD_OUT).
 *
 * Lock order (locks.c): event row, idempotency key, quota lock, tier rows
 * (FOR KEY SHARE, by tier id), units (by tier id, unit number).
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

/* items in one reservation; also bounds the duplicate scan */
#define MAX_TIERS_PER_RESERVATION 20
/* the upper bound of ticket_tiers.max_per_order (a check constraint) */
#define MAX_UNITS_PER_TIER 100

typedef struct TierItems
{
	int			n;
	pg_uuid_t **tier_ids;
	int		   *quantities;
	int		   *starts;			/* per tier: the unit number its claim starts at */
	int			total;
	Datum		tier_array;		/* uuid[] */
	Datum		quantity_array;	/* int[] */
} TierItems;

static void
reject_items(const char *message, const char *detail)
{
	ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("%s", message), errdetail("%s", detail));
}

/* Check the two parallel arrays: 1..20 tiers, none twice, each 1..100 units. */
static TierItems
parse_items(FunctionCallInfo fcinfo)
{
	ArrayType  *tiers = PG_GETARG_ARRAYTYPE_P(2);
	ArrayType  *quantities = PG_GETARG_ARRAYTYPE_P(3);
	Datum	   *tier_elems,
			   *quantity_elems;
	bool	   *tier_nulls,
			   *quantity_nulls;
	int			n_quantities;
	TierItems	items = {.tier_array = PG_GETARG_DATUM(2), .quantity_array = PG_GETARG_DATUM(3)};

	if (ARR_NDIM(tiers) > 1 || ARR_NDIM(quantities) > 1)
		reject_items("tier_ids and quantities must be flat arrays", "An array has more than one dimension.");
	deconstruct_array(tiers, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &tier_elems, &tier_nulls, &items.n);
	deconstruct_array(quantities, INT4OID, 4, true, TYPALIGN_INT, &quantity_elems, &quantity_nulls,
					  &n_quantities);
	if (items.n == 0)
		reject_items("no items", "A reservation names at least one tier.");
	if (items.n != n_quantities)
		ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("tier_ids and quantities differ in length"),
				errdetail("%d tiers and %d quantities.", items.n, n_quantities));
	if (items.n > MAX_TIERS_PER_RESERVATION)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many tiers in one reservation"),
				errdetail("%d tiers named; at most %d.", items.n, MAX_TIERS_PER_RESERVATION));
	items.tier_ids = palloc(sizeof(pg_uuid_t *) * items.n);
	items.quantities = palloc(sizeof(int) * items.n);
	items.starts = palloc(sizeof(int) * items.n);
	for (int i = 0; i < items.n; i++)
	{
		if (tier_nulls[i] || quantity_nulls[i])
			ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("items contain NULL"),
					errdetail("Item %d has no tier or no quantity.", i + 1));
		items.tier_ids[i] = DatumGetUUIDP(tier_elems[i]);
		items.quantities[i] = DatumGetInt32(quantity_elems[i]);
		if (items.quantities[i] < 1 || items.quantities[i] > MAX_UNITS_PER_TIER)
			ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("invalid quantity"),
					errdetail("Item %d asks for %d units; a quantity is 1 to %d.",
							  i + 1, items.quantities[i], MAX_UNITS_PER_TIER));
		for (int j = 0; j < i; j++)
			if (memcmp(items.tier_ids[i]->data, items.tier_ids[j]->data, UUID_LEN) == 0)
				ereport(ERROR, errcode(EV_INVALID_ARGUMENT), errmsg("duplicate tier"),
						errdetail("Tier %s appears more than once.", uuid_text(items.tier_ids[i])));
		items.total += items.quantities[i];
	}
	return items;
}

static int
item_of(const TierItems *items, pg_uuid_t *tier_id)
{
	for (int i = 0; i < items->n; i++)
		if (memcmp(items->tier_ids[i]->data, tier_id->data, UUID_LEN) == 0)
			return i;
	elog(ERROR, "tier %s is not in the reservation", uuid_text(tier_id));
}

/*
 * The tiers, FOR KEY SHARE (what the hold items' foreign key takes anyway;
 * a tier cannot be deleted under the reservation): each must be the
 * event's, on sale now, and asked for within its per-order limits.  Each
 * item's claim starts at a random unit (items->starts): see claim_units.
 */
static void
check_tiers(pg_uuid_t *event_id, TierItems *items)
{
	static SqlStmt q = SQL_STMT(
		"SELECT t.id, t.name, t.min_per_order, t.max_per_order,"
		"       t.sale_start IS NOT NULL AND t.sale_start > now(),"
		"       t.sale_end IS NOT NULL AND t.sale_end <= now(), t.sale_start::text, t.sale_end::text,"
		"       t.total_quantity"
		"  FROM evently.ticket_tiers t WHERE t.event_id = $1 AND t.id = ANY ($2)"
		" ORDER BY t.id FOR KEY SHARE", 2, UUIDOID, UUIDARRAYOID);
	Datum		args[2] = {UUIDPGetDatum(event_id), items->tier_array};
	uint64		n = stmt_run(&q, args, NULL, SPI_OK_SELECT);

	if (n < (uint64) items->n)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("tier not found"),
				errdetail("%d of the %d tiers named are not tiers of event %s.",
						  items->n - (int) n, items->n, uuid_text(event_id)));
	for (uint64 i = 0; i < n; i++)
	{
		char	   *name = result_text(i, 2);
		int			item = item_of(items, result_uuid(i, 1));
		int			wanted = items->quantities[item];
		int			min = result_int(i, 3);
		int			max = result_int(i, 4);

		if (result_bool(i, 5))
			ereport(ERROR, errcode(EV_NOT_ON_SALE), errmsg("tier is not on sale yet"),
					errdetail("Tier \"%s\" goes on sale at %s.", name, result_text(i, 7)));
		if (result_bool(i, 6))
			ereport(ERROR, errcode(EV_NOT_ON_SALE), errmsg("tier is no longer on sale"),
					errdetail("Sales of tier \"%s\" ended at %s.", name, result_text(i, 8)));
		if (wanted < min || wanted > max)
			ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("quantity outside the tier's per-order limits"),
					errdetail("Tier \"%s\" sells %d to %d per order; %d requested.", name, min, max, wanted));
		items->starts[item] = 1 + (int) pg_prng_uint64_range(&pg_global_prng_state, 0,
															 (uint64) result_int(i, 9) - 1);
	}
}

/*
 * Claim `quantity` free units of a tier, skipping the ones other
 * transactions have locked; returns how many were claimed, their numbers
 * appended to *unit_nos (and the tier to *unit_tiers).
 *
 * The free units are taken in unit order from `start` on, then from the
 * first unit up to it.  Reservations start at random units, so that
 * concurrent ones look at different rows: when all begin at the lowest
 * free unit, each one's snapshot still shows the units others have just
 * claimed as free, and locking such a row follows its update to the newer
 * version -- which PostgreSQL 15 does by waiting for whoever locked that
 * version, SKIP LOCKED or not.  Buyers then queue on the few lowest units
 * as on a counter row; at 256 concurrent reservations many waited past
 * evently.lock_timeout (BUSY).  Measured on 2 cores (README, Benchmarks):
 * bare SKIP LOCKED claims, 341 reservations/s from the lowest unit against
 * 1,514 from random ones at 256 clients; reserve_tiers 136-148 against
 * 193-215, 41-45 BUSY errors against 3-7.  Units of lapsed holds come
 * last, oldest first (lapsed_too).
 */
static int
claim_units(pg_uuid_t *tier_id, int quantity, int start, bool lapsed_too, ArrayBuildState *unit_tiers,
			ArrayBuildState *unit_nos)
{
	static SqlStmt from_start = SQL_STMT(
		"SELECT unit_no FROM evently.tier_units"
		" WHERE tier_id = $1 AND status = 'AVAILABLE' AND unit_no >= $3"
		" ORDER BY unit_no LIMIT $2 FOR UPDATE SKIP LOCKED", 3, UUIDOID, INT4OID, INT4OID);
	static SqlStmt below_start = SQL_STMT(
		"SELECT unit_no FROM evently.tier_units"
		" WHERE tier_id = $1 AND status = 'AVAILABLE' AND unit_no < $3"
		" ORDER BY unit_no LIMIT $2 FOR UPDATE SKIP LOCKED", 3, UUIDOID, INT4OID, INT4OID);
	static SqlStmt lapsed_units = SQL_STMT(
		"SELECT unit_no FROM evently.tier_units"
		" WHERE tier_id = $1 AND status = 'HELD' AND held_until <= now()"
		" ORDER BY held_until, unit_no LIMIT $2 FOR UPDATE SKIP LOCKED", 3, UUIDOID, INT4OID, INT4OID);
	SqlStmt    *passes[3] = {&from_start, &below_start, &lapsed_units};
	int			claimed = 0;

	for (int pass = 0; pass < (lapsed_too ? 3 : 2) && claimed < quantity; pass++)
	{
		Datum		args[3] = {UUIDPGetDatum(tier_id), Int32GetDatum(quantity - claimed), Int32GetDatum(start)};
		uint64		n;

		if (pass == 1 && start <= 1)
			continue;			/* nothing below the first unit */
		n = stmt_run(passes[pass], args, NULL, SPI_OK_SELECT);
		for (uint64 i = 0; i < n; i++)
		{
			accumArrayResult(unit_tiers, UUIDPGetDatum(tier_id), false, UUIDOID, CurrentMemoryContext);
			accumArrayResult(unit_nos, result_datum(i, 1, NULL), false, INT4OID, CurrentMemoryContext);
		}
		claimed += (int) n;
	}
	return claimed;
}

pg_attribute_noreturn()
static void
report_sold_out(pg_uuid_t *tier_id, int wanted, int claimed)
{
	static SqlStmt q = SQL_STMT("SELECT name FROM evently.ticket_tiers WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(tier_id);

	stmt_run(&q, &arg, NULL, SPI_OK_SELECT);
	ereport(ERROR, errcode(EV_SOLD_OUT), errmsg("not enough tickets left in the tier"),
			errdetail("Tier \"%s\" has %d free units; %d requested.", result_text(0, 1), claimed, wanted),
			errhint("Ask for fewer, or try again: units held by others come back when their holds lapse."));
}

/*
 * The hold, its items and its units, in one statement; returns the hold id.
 * entry_id: the waitlist entry whose offer this is, or NULL.
 */
static pg_uuid_t *
create_tier_hold(pg_uuid_t *event_id, pg_uuid_t *user_id, const TierItems *items, Datum unit_tiers,
				 Datum unit_nos, Datum ttl, const char *key, pg_uuid_t *entry_id)
{
	static SqlStmt q = SQL_STMT(
		"WITH items AS ("
		"    SELECT i.tier_id, i.quantity, t.price"
		"      FROM unnest($3::uuid[], $4::int[]) i (tier_id, quantity)"
		"      JOIN evently.ticket_tiers t ON t.id = i.tier_id),"
		" h AS ("
		"    INSERT INTO evently.holds (event_id, user_id, seat_count, total_price, expires_at,"
		"                               idempotency_key, waitlist_entry_id)"
		"    SELECT $1, $2, sum(quantity), sum(quantity * price), now() + $7, $8, $9 FROM items"
		"    RETURNING id, expires_at),"
		" hi AS ("
		"    INSERT INTO evently.hold_items (hold_id, tier_id, quantity, unit_price)"
		"    SELECT h.id, items.tier_id, items.quantity, items.price FROM h, items)"
		" UPDATE evently.tier_units u"
		"    SET status = 'HELD', hold_id = h.id, held_until = h.expires_at"
		"   FROM h, unnest($5::uuid[], $6::int[]) c (tier_id, unit_no)"
		"  WHERE u.tier_id = c.tier_id AND u.unit_no = c.unit_no"
		" RETURNING h.id", 9, UUIDOID, UUIDOID, UUIDARRAYOID, INT4ARRAYOID, UUIDARRAYOID, INT4ARRAYOID,
		INTERVALOID, TEXTOID, UUIDOID);
	Datum		args[9] = {UUIDPGetDatum(event_id), UUIDPGetDatum(user_id), items->tier_array,
		items->quantity_array, unit_tiers, unit_nos, ttl, key ? CStringGetTextDatum(key) : (Datum) 0,
	entry_id ? UUIDPGetDatum(entry_id) : (Datum) 0};
	char		nulls[10] = "         ";

	nulls[7] = key ? ' ' : 'n';
	nulls[8] = entry_id ? ' ' : 'n';
	if (stmt_run(&q, args, nulls, SPI_OK_UPDATE_RETURNING) != (uint64) items->total)
		elog(ERROR, "reservation for event %s did not hold every unit it claimed", uuid_text(event_id));
	return result_uuid(0, 1);
}

/*
 * The hold this user made with this key, if any.  A key names one request:
 * the same key for another event or other items is a conflict, not a retry.
 */
static pg_uuid_t *
tier_hold_for_key(pg_uuid_t *user_id, const char *key, pg_uuid_t *event_id, const TierItems *items)
{
	static SqlStmt q = SQL_STMT(
		"SELECT h.id, h.event_id = $3,"
		"       ARRAY(SELECT tier_id::text || '*' || quantity FROM evently.hold_items"
		"              WHERE hold_id = h.id ORDER BY 1)"
		"       = ARRAY(SELECT t::text || '*' || q FROM unnest($4::uuid[], $5::int[]) x (t, q) ORDER BY 1)"
		"  FROM evently.holds h WHERE h.user_id = $1 AND h.idempotency_key = $2",
		5, UUIDOID, TEXTOID, UUIDOID, UUIDARRAYOID, INT4ARRAYOID);
	Datum		args[5] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key), UUIDPGetDatum(event_id),
	items->tier_array, items->quantity_array};
	pg_uuid_t  *hold_id;

	if (stmt_run(&q, args, NULL, SPI_OK_SELECT) == 0)
		return NULL;
	hold_id = result_uuid(0, 1);
	if (!result_bool(0, 2) || !result_bool(0, 3))
		ereport(ERROR, errcode(EV_IDEMPOTENCY_CONFLICT), errmsg("idempotency key already used"),
				errdetail("Key \"%s\" made hold %s for %s.", key, uuid_text(hold_id),
						  result_bool(0, 2) ? "other items" : "another event"),
				errhint("Use a new key for a new hold."));
	return hold_id;
}

static Datum
reserve_tiers_body(FunctionCallInfo fcinfo)
{
	pg_uuid_t  *event_id = ARG_UUID(0);
	pg_uuid_t  *user_id = ARG_UUID(1);
	char	   *key = PG_ARGISNULL(5) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(5));
	ArrayBuildState *unit_tiers = initArrayResult(UUIDOID, CurrentMemoryContext, false);
	ArrayBuildState *unit_nos = initArrayResult(INT4OID, CurrentMemoryContext, false);
	TierItems	items;
	HoldableEvent ev;
	Datum		ttl;
	pg_uuid_t  *hold_id;
	Datum		hold;

	require_arg(event_id, "event_id");
	require_arg(!PG_ARGISNULL(2), "tier_ids");
	require_arg(!PG_ARGISNULL(3), "quantities");
	check_idempotency_key(key);
	items = parse_items(fcinfo);

	user_id = resolve_actor(user_id);
	ev = read_event_for_hold(event_id, user_id);
	ttl = PG_ARGISNULL(4) ? ev.hold_ttl : PG_GETARG_DATUM(4);
	check_ttl(ttl);
	if (items.total > ev.max_per_hold)
		ereport(ERROR, errcode(EV_LIMIT_EXCEEDED), errmsg("too many tickets in one hold"),
				errdetail("%d tickets requested; event %s allows %d per hold.",
						  items.total, uuid_text(event_id), ev.max_per_hold));

	/* under the key's lock, so two requests with one key cannot both hold */
	if (key)
		lock_idempotency_key(user_id, key);
	if (key && (hold_id = tier_hold_for_key(user_id, key, event_id, &items)) != NULL)
		return object_json(OBJECT_HOLD, hold_id);
	lock_user_quota(event_id, user_id);
	check_user_quota(event_id, user_id, items.total, &ev);
	check_tiers(event_id, &items);

	/* SKIP LOCKED never waits, so the claims need no particular order */
	for (int i = 0; i < items.n; i++)
	{
		pg_uuid_t  *tier_id = items.tier_ids[i];
		int			claimed = claim_units(tier_id, items.quantities[i], items.starts[i], !ev.has_queue,
										  unit_tiers, unit_nos);

		if (claimed < items.quantities[i])
			report_sold_out(tier_id, items.quantities[i], claimed);
	}
	hold_id = create_tier_hold(event_id, user_id, &items,
							   makeArrayResult(unit_tiers, CurrentMemoryContext),
							   makeArrayResult(unit_nos, CurrentMemoryContext), ttl, key, NULL);
	hold = emit_object("hold.created", event_id, user_id, "hold", OBJECT_HOLD, hold_id, user_id);
	commit_lazily();
	return hold;
}

PG_FUNCTION_INFO_V1(evently_reserve_tiers);
Datum
evently_reserve_tiers(PG_FUNCTION_ARGS)
{
	return engine_run(fcinfo, reserve_tiers_body, true);
}

/*
 * A waitlist offer of units (waitlist.c; the caller holds the event's queue
 * lock and the user's quota lock): `quantity` AVAILABLE units of the tier,
 * held for `window` by a hold of the waitlist entry.  Returns the hold, or
 * NULL (nothing held) when the tier is outside its sale window or has fewer
 * units free than asked (counted first, so a short tier locks nothing).
 */
pg_uuid_t *
hold_units_for_offer(pg_uuid_t *event_id, pg_uuid_t *user_id, pg_uuid_t *tier_id, int quantity,
					 Datum window, pg_uuid_t *entry_id)
{
	static SqlStmt sellable = SQL_STMT(
		"SELECT (t.sale_start IS NULL OR t.sale_start <= now()) AND (t.sale_end IS NULL OR t.sale_end > now())"
		"       AND (SELECT count(*) FROM (SELECT 1 FROM evently.tier_units u"
		"                                   WHERE u.tier_id = t.id AND u.status = 'AVAILABLE' LIMIT $2) f) = $2"
		"  FROM evently.ticket_tiers t WHERE t.id = $1 FOR KEY SHARE", 2, UUIDOID, INT4OID);
	ArrayBuildState *unit_tiers = initArrayResult(UUIDOID, CurrentMemoryContext, false);
	ArrayBuildState *unit_nos = initArrayResult(INT4OID, CurrentMemoryContext, false);
	Datum		tier_datum = UUIDPGetDatum(tier_id);
	Datum		quantity_datum = Int32GetDatum(quantity);
	Datum		args[2] = {tier_datum, quantity_datum};
	TierItems	items = {.n = 1, .tier_ids = &tier_id, .quantities = &quantity, .total = quantity};

	if (stmt_run(&sellable, args, NULL, SPI_OK_SELECT) != 1 || !result_bool(0, 1))
		return NULL;
	if (claim_units(tier_id, quantity, 1, false, unit_tiers, unit_nos) < quantity)
		return NULL;			/* the rest is being held right now */
	items.tier_array = PointerGetDatum(construct_array(&tier_datum, 1, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	items.quantity_array = PointerGetDatum(construct_array(&quantity_datum, 1, INT4OID, 4, true, TYPALIGN_INT));
	return create_tier_hold(event_id, user_id, &items, makeArrayResult(unit_tiers, CurrentMemoryContext),
							makeArrayResult(unit_nos, CurrentMemoryContext), window, NULL, entry_id);
}

/* ---- the unit steps of release, expiry, confirmation and cancellation ---- */

void
free_hold_units(Datum hold_ids)
{
	static SqlStmt q = SQL_STMT(
		"WITH locked AS (SELECT tier_id, unit_no FROM evently.tier_units WHERE hold_id = ANY ($1)"
		"                 ORDER BY tier_id, unit_no FOR UPDATE)"
		" UPDATE evently.tier_units u"
		"    SET status = 'AVAILABLE', hold_id = NULL, held_until = NULL"
		"   FROM locked WHERE u.tier_id = locked.tier_id AND u.unit_no = locked.unit_no"
		"    AND u.hold_id = ANY ($1)", 1, UUIDARRAYOID);

	if (sql_is_1_1())
		stmt_run(&q, &hold_ids, NULL, SPI_OK_UPDATE);
}

void
lock_held_units(pg_uuid_t *hold_id)
{
	static SqlStmt q = SQL_STMT(
		"SELECT (SELECT coalesce(sum(quantity), 0)::int FROM evently.hold_items WHERE hold_id = $1),"
		"       (SELECT count(*)::int FROM (SELECT 1 FROM evently.tier_units WHERE hold_id = $1"
		"                                   ORDER BY tier_id, unit_no FOR UPDATE) l)", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(hold_id);
	int			expected,
				kept;

	if (!sql_is_1_1())
		return;
	stmt_run(&q, &arg, NULL, SPI_OK_SELECT);
	expected = result_int(0, 1);
	kept = result_int(0, 2);
	if (kept < expected)
		ereport(ERROR, errcode(EV_HOLD_EXPIRED), errmsg("hold has expired"),
				errdetail("%d of the %d tickets of hold %s were taken after the hold lapsed.",
						  expected - kept, expected, uuid_text(hold_id)));
}

/*
 * A lapsed hold whose order was paid late takes back, per tier, the units
 * it still has plus free ones to make up its quantities, held until
 * held_until; false (nothing changed) when a tier has too few free.  The
 * queue does not come first here: this buyer has paid.
 */
bool
reclaim_hold_units(pg_uuid_t *hold_id, Datum held_until)
{
	static SqlStmt items_q = SQL_STMT(
		"SELECT hi.tier_id, hi.quantity,"
		"       (SELECT count(*)::int FROM (SELECT 1 FROM evently.tier_units u"
		"                                   WHERE u.tier_id = hi.tier_id AND u.hold_id = $1"
		"                                   ORDER BY u.unit_no FOR UPDATE) l)"
		"  FROM evently.hold_items hi WHERE hi.hold_id = $1 ORDER BY hi.tier_id", 1, UUIDOID);
	static SqlStmt take = SQL_STMT(
		"UPDATE evently.tier_units u SET status = 'HELD', hold_id = $1, held_until = $2"
		"  FROM unnest($3::uuid[], $4::int[]) c (tier_id, unit_no)"
		" WHERE u.tier_id = c.tier_id AND u.unit_no = c.unit_no", 4,
		UUIDOID, TIMESTAMPTZOID, UUIDARRAYOID, INT4ARRAYOID);
	static SqlStmt extend = SQL_STMT(
		"UPDATE evently.tier_units SET held_until = $2 WHERE hold_id = $1", 2, UUIDOID, TIMESTAMPTZOID);
	ArrayBuildState *unit_tiers = initArrayResult(UUIDOID, CurrentMemoryContext, false);
	ArrayBuildState *unit_nos = initArrayResult(INT4OID, CurrentMemoryContext, false);
	Datum		arg = UUIDPGetDatum(hold_id);
	SPITupleTable *items;
	uint64		n;

	n = stmt_run(&items_q, &arg, NULL, SPI_OK_SELECT);
	items = SPI_tuptable;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		pg_uuid_t  *tier_id = DatumGetUUIDP(SPI_getbinval(items->vals[i], items->tupdesc, 1, &isnull));
		int			missing = DatumGetInt32(SPI_getbinval(items->vals[i], items->tupdesc, 2, &isnull)) -
			DatumGetInt32(SPI_getbinval(items->vals[i], items->tupdesc, 3, &isnull));

		if (missing > 0 && claim_units(tier_id, missing, 1, true, unit_tiers, unit_nos) < missing)
			return false;
	}
	{
		Datum		args[4] = {arg, held_until, makeArrayResult(unit_tiers, CurrentMemoryContext),
		makeArrayResult(unit_nos, CurrentMemoryContext)};

		stmt_run(&extend, args, NULL, SPI_OK_UPDATE);
		stmt_run(&take, args, NULL, SPI_OK_UPDATE);
	}
	return true;
}
