/*
 * evently.h: what the engine's C files share.
 *
 * Every SQL-callable engine function runs its body through engine_run(),
 * which connects SPI, bounds lock waits and turns a lock timeout into the
 * retryable EV011.  Statements go through kept SPI plans (SqlStmt below).
 */
#ifndef EVENTLY_H
#define EVENTLY_H

#include "postgres.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/uuid.h"

#include "errors.h"

/* GUCs (evently.c) */
extern int	evently_lock_timeout_ms;
extern bool evently_durable_holds;
/* buckets.c: evently.bucket, defined by _PG_init */
extern int	evently_bucket;
extern void define_bucket_setting(void);

/* ---- engine.c: running a body, prepared statements, reading results ---- */

typedef Datum (*EngineBody) (FunctionCallInfo fcinfo);

/* Run body inside SPI with bounded lock waits; a jsonb result is copied out. */
extern Datum engine_run(FunctionCallInfo fcinfo, EngineBody body, bool returns_jsonb);

#define SQL_STMT_MAX_ARGS 10

/* One parameterised statement, prepared on first use and kept for the session. */
typedef struct SqlStmt
{
	const char *sql;
	int			nargs;
	Oid			argtypes[SQL_STMT_MAX_ARGS];
	SPIPlanPtr	plan;
} SqlStmt;

#define SQL_STMT(text, n, ...) {.sql = (text), .nargs = (n), .argtypes = {__VA_ARGS__}, .plan = NULL}

/* Execute q with args (NULL Datums marked in nulls, a string of ' '/'n'). */
extern uint64 stmt_run(SqlStmt *q, Datum *args, const char *nulls, int expected_ret);

/* Column readers over row `row` of the last result; *isnull optional. */
extern Datum result_datum(uint64 row, int col, bool *isnull);
extern bool result_bool(uint64 row, int col);
extern int32 result_int(uint64 row, int col);
extern pg_uuid_t *result_uuid(uint64 row, int col);	/* NULL when SQL NULL */
extern char *result_text(uint64 row, int col);			/* NULL when SQL NULL */
/* Column col of rows 0..n-1 of the last result, as a uuid[] (no NULLs) */
extern Datum result_uuid_array(uint64 n, int col);

extern char *uuid_text(pg_uuid_t *id);

/* Has this database's evently SQL been updated to 1.1? (else it is 1.0) */
extern bool sql_is_1_1(void);
extern char *uuid_list_text(pg_uuid_t **ids, int n);

/* ---- locks.c: the advisory-lock key space and durability choices ---- */

#define EVENTLY_LOCK_SPACE	0x45560000
#define LOCK_OUTBOX_WAKEUP	(EVENTLY_LOCK_SPACE | 3)	/* key2 = 0 (outbox.c) */

extern void lock_event_queue(pg_uuid_t *event_id);
extern bool try_lock_event_queue(pg_uuid_t *event_id);
extern void lock_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id);
extern bool try_lock_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id);
extern void lock_idempotency_key(pg_uuid_t *user_id, const char *key);
extern void commit_durably(void);
extern void commit_lazily(void);
extern void keep_callers_durability(void);

/* ---- counts.c: the slotted status counters ---- */

/*
 * SQL: a CTE "c" that moves n seats of event (SQL expressions; n from the
 * CTE or subquery from_rel) from status column was to now_is in a slot of
 * event_seat_counts, and claims it (evently._counted_seats, whose four
 * deltas are given in claim): the seats' trigger then adds only what the
 * claim left out.  1.1 only.
 */
#define CLAIM_SEAT_COUNTS(event, n, from_rel, was, now_is, claim) \
	" c AS (" \
	"    UPDATE evently.event_seat_counts" \
	"       SET " was " = " was " - " n ", " now_is " = " now_is " + " n \
	"      FROM " from_rel \
	"     WHERE event_id = " event " AND " n " > 0" \
	"       AND slot = coalesce((SELECT slot FROM evently.event_seat_counts WHERE event_id = " event \
	"                             ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED), pg_backend_pid() % 16)" \
	"    RETURNING evently._counted_seats(event_id, " claim "))"

/* ---- outbox.c ---- */

extern void emit(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id,
				 const char *object_type, pg_uuid_t *object_id, Datum data,
				 pg_uuid_t *actor_id);
typedef enum ObjectKind
{
	OBJECT_HOLD,
	OBJECT_BOOKING,
	OBJECT_CANCELLATION,
	OBJECT_WAITLIST_ENTRY
} ObjectKind;

extern Datum object_json(ObjectKind kind, pg_uuid_t *id);
/* emit() of object_json(kind, object_id), read and recorded in one statement: returns the JSON */
extern Datum emit_object(const char *type, pg_uuid_t *event_id, pg_uuid_t *user_id, const char *object_type,
						 ObjectKind kind, pg_uuid_t *object_id, pg_uuid_t *actor_id);

/* ---- events.c ---- */

typedef struct EventState
{
	char	   *status;			/* the lifecycle's: draft ... completed, cancelled */
	bool		started;		/* date_time has passed */
	char	   *starts_at;		/* date_time, as text for messages */
	bool		on_sale;		/* EVENT_ON_SALE below */
} EventState;

/*
 * SQL: may the event e sell now?  Published and not started; from 1.1 also
 * while it runs when its organizer lets sales run into it.
 */
#define EVENT_ON_SALE_1_0 "(e.status = 'published' AND e.date_time > now())"
#define EVENT_ON_SALE_1_1 \
	"(e.status = 'published' AND (e.date_time > now() OR (e.sales_during_event AND e.end_time > now())))"

/* The event's state; raises NOT_FOUND when there is no such event. */
extern EventState read_event_state(pg_uuid_t *event_id);

/* ---- actors.c ---- */

/* The user a call acts as: checked to exist, be ACTIVE and be the caller's own. */
extern pg_uuid_t *acting_user(pg_uuid_t *asserted);
/* acting_user in two steps: who (no statement for a trusted caller), then
 * the status the caller read (users.status; NULL: no such user) checked */
extern pg_uuid_t *resolve_actor(pg_uuid_t *asserted);
extern void check_actor_status(pg_uuid_t *user_id, const char *status);
extern void check_actor(pg_uuid_t *user_id);
extern bool user_is_active(pg_uuid_t *user_id);
/* NOT_FOUND for an object that does not exist or is someone else's */
pg_attribute_noreturn() extern void report_not_found(const char *what, pg_uuid_t *id);

/* ---- shared engine steps ---- */

/* holds.c: insert a hold over seats already locked by the caller */
extern pg_uuid_t *create_hold(pg_uuid_t *event_id, pg_uuid_t *user_id,
							  Datum seat_array, Datum ttl, pg_uuid_t *entry_id, const char *key);
/* booking.c: a hold's row, locked */
typedef struct LockedHold
{
	pg_uuid_t  *owner_id;
	pg_uuid_t  *event_id;
	char	   *status;
	bool		lapsed;
	pg_uuid_t  *entry_id;
	bool		has_units;		/* 1.1: it holds tier units (hold_items) */
} LockedHold;

/* booking.c: the steps of a booking, in lock order */
/* event row FOR KEY SHARE; actor_id (or NULL): check_actor it in the same statement */
extern void lock_event_of_hold(pg_uuid_t *hold_id, pg_uuid_t *actor_id);
extern LockedHold lock_hold(pg_uuid_t *hold_id);	/* NOT_FOUND when there is none */
/* HOLD_EXPIRED unless every seat of the hold is still held by it */
extern void lock_held_seats(pg_uuid_t *hold_id, pg_uuid_t *event_id);
/* booking, tickets, payment (order_id: the order's), inventory BOOKED; has_units: LockedHold's */
extern pg_uuid_t *insert_booking(pg_uuid_t *hold_id, const char *payment_method, const char *key,
								 pg_uuid_t *order_id, bool has_units);
/* tiers.c: a waitlist offer of a tier's units, held for window; NULL if too few free */
extern pg_uuid_t *hold_units_for_offer(pg_uuid_t *event_id, pg_uuid_t *user_id, pg_uuid_t *tier_id,
									   int quantity, Datum window, pg_uuid_t *entry_id);
/* tiers.c: take back for a lapsed hold the units it asked for (false: too few free) */
extern bool reclaim_hold_units(pg_uuid_t *hold_id, Datum held_until);

/* holds.c: the event as a new hold needs it, read under a key-share lock */
typedef struct HoldableEvent
{
	char	   *status;
	bool		on_sale;
	int			max_per_hold;
	int			max_per_user;
	int			max_tickets_per_user;	/* held + sold; 0: no such limit */
	Datum		hold_ttl;
	bool		has_queue;
} HoldableEvent;

/*
 * NOT_FOUND (also for a draft), EVENT_CLOSED when it does not sell now;
 * first the acting user's status (check_actor), read in the same statement
 */
extern HoldableEvent read_event_for_hold(pg_uuid_t *event_id, pg_uuid_t *actor_id);
/* INVALID_ARGUMENT unless 1 second <= ttl <= 1 day */
extern void check_ttl(Datum ttl);
/* INVALID_ARGUMENT unless NULL or 1 to 255 bytes */
extern void check_idempotency_key(const char *key);
/* LIMIT_EXCEEDED past the per-user limits; the caller holds the quota lock */
extern void check_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id, int count, const HoldableEvent *ev);
/* holds.c: what a user holds (live) and bought of an event */
typedef struct UserSeats
{
	int			held;
	int			bought;
} UserSeats;
extern UserSeats user_seats(pg_uuid_t *event_id, pg_uuid_t *user_id);
/* users: is the user an ADMIN? raises NOT_FOUND when the user is unknown */
extern bool user_is_admin(pg_uuid_t *user_id);
/* waitlist.c: offer free seats to the queue; caller holds the queue lock */
extern Datum promote_locked(pg_uuid_t *event_id, int max_offers);
/* waitlist.c: end an offer (CONVERTED or CANCELLED) and record it */
extern void settle_offer(pg_uuid_t *entry_id, const char *new_status, const char *event_type,
						 pg_uuid_t *event_id, pg_uuid_t *user_id, pg_uuid_t *actor_id);
/* tiers.c: free the units of these holds (uuid[]), locked in unit order */
extern void free_hold_units(Datum hold_ids);
/* tiers.c: lock a hold's units; HOLD_EXPIRED unless it still has all of them */
extern void lock_held_units(pg_uuid_t *hold_id);
/* orders.c: the PENDING orders of these holds (uuid[]) EXPIRE with them */
extern void end_pending_orders(Datum hold_ids);
/* orders.c: ALREADY_PROCESSED, a live order is paying for the hold */
pg_attribute_noreturn() extern void report_ordered(pg_uuid_t *order_id, pg_uuid_t *hold_id);
/* expiry.c: expire the lapsed holds of one event; caller holds the queue lock */
extern int	expire_event_holds(pg_uuid_t *event_id);

#define ARG_UUID(n) (PG_ARGISNULL(n) ? NULL : PG_GETARG_UUID_P(n))
#define require_arg(ok, what) \
	do { if (!(ok)) ereport(ERROR, errcode(EV_INVALID_ARGUMENT), \
							errmsg("%s is required", (what)), \
							errdetail("The argument %s was NULL or empty.", (what))); } while (0)

#endif
