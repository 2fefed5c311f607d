/*
 * locks.c: advisory-lock keys and commit durability.
 *
 * Advisory-lock key space.  evently only uses the two-key form
 * pg_advisory_xact_lock(int4, int4), whose lock tag is distinct from the
 * one-bigint form, and reserves first keys 0x45560000-0x455600FF ("EV"):
 *
 *   key1 = 0x45560001  the queue of one event: key2 = hash(event_id).
 *          Serialises waitlist joins, leaves, promotion, releases,
 *          cancellations and expiry of one event, so offers stay FIFO.
 *   key1 = 0x45560002  one user's hold quota on one event:
 *          key2 = hash(event_id) combined with hash(user_id).
 *          Serialises a user's concurrent holds so the per-user limit holds.
 *   key1 = 0x45560003  key2 = 0: the outbox wake-up token.  Only the
 *          transaction holding it sends the NOTIFY (evently._outbox_wakeup).
 *   key1 = 0x45560004  key2 = 0: the bridge leader.  A session lock, the one
 *          exception: held by the evently-bridge that publishes the outbox
 *          for as long as its connection lives (evently.bridge_lead()).
 *   key1 = 0x45560005  one user's idempotency key: key2 = hash(user_id)
 *          combined with hash(key).  Two requests with one key, at once,
 *          meet here: the second sees what the first made (its answer, or a
 *          conflict) instead of colliding on the unique index.
 *   key1 = 0x45560006  sign-in attempts on one account from one throttle
 *          bucket: key2 = hash(e-mail, bucket) (SQL: _lock_login_bucket).
 *          Attempts sent at once are judged one after the other, so the
 *          throttle lets one guess through per wait, not one per slot.
 *
 * A hash collision only makes two unrelated callers wait for each other; it
 * never makes a wrong answer.  Lock order, everywhere: the event row (FOR
 * KEY SHARE by the engine, FOR UPDATE by an event's cancellation), queue
 * lock, idempotency key lock, quota lock, booking row, hold row, seat rows
 * by seat id, waitlist entry rows; a booking an order paid for after that
 * order's hold, order and payment rows (cancel.c).
 * All others are transaction-scoped, so an error or commit releases them.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "access/xact.h"

#define LOCK_EVENT_QUEUE	(EVENTLY_LOCK_SPACE | 1)
#define LOCK_USER_QUOTA		(EVENTLY_LOCK_SPACE | 2)
#define LOCK_IDEMPOTENCY_KEY (EVENTLY_LOCK_SPACE | 5)

static int32
uuid_key(pg_uuid_t *id)
{
	return (int32) hash_bytes(id->data, UUID_LEN);
}

/*
 * The queue lock comes after the event row in the lock order, so taking it
 * takes the row first (FOR KEY SHARE: what a new hold's foreign key takes
 * anyway).  Without it, a release or a cancellation that promotes the
 * waitlist (queue lock, then the event row through the new offer's foreign
 * key) and an event's cancellation (event row FOR UPDATE, then the queue
 * lock) would each wait for the other.
 */
void
lock_event_queue(pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT("SELECT 1 FROM evently.events WHERE id = $1 FOR KEY SHARE", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);

	stmt_run(&q, &arg, NULL, SPI_OK_SELECT);
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(LOCK_EVENT_QUEUE), Int32GetDatum(uuid_key(event_id)));
}

/* lock_event_queue, or false at once when the event row or the queue is taken */
bool
try_lock_event_queue(pg_uuid_t *event_id)
{
	static SqlStmt q = SQL_STMT("SELECT 1 FROM evently.events WHERE id = $1 FOR KEY SHARE SKIP LOCKED",
								1, UUIDOID);
	Datum		arg = UUIDPGetDatum(event_id);

	if (stmt_run(&q, &arg, NULL, SPI_OK_SELECT) != 1)
		return false;
	return DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
											Int32GetDatum(LOCK_EVENT_QUEUE),
											Int32GetDatum(uuid_key(event_id))));
}

static int32
quota_key(pg_uuid_t *event_id, pg_uuid_t *user_id)
{
	return (int32) hash_combine((uint32) uuid_key(event_id), (uint32) uuid_key(user_id));
}

void
lock_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id)
{
	DirectFunctionCall2(pg_advisory_xact_lock_int4,
						Int32GetDatum(LOCK_USER_QUOTA), Int32GetDatum(quota_key(event_id, user_id)));
}

void
lock_idempotency_key(pg_uuid_t *user_id, const char *key)
{
	int32		k = (int32) hash_combine((uint32) uuid_key(user_id),
										 hash_bytes((const unsigned char *) key, (int) strlen(key)));

	DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(LOCK_IDEMPOTENCY_KEY), Int32GetDatum(k));
}

/*
 * The quota lock without waiting: promotion takes it while it already holds
 * freed seats, after the order above, so it must not wait for a hold_seats
 * that holds the quota lock and waits for those seats.
 */
bool
try_lock_user_quota(pg_uuid_t *event_id, pg_uuid_t *user_id)
{
	return DatumGetBool(DirectFunctionCall2(pg_try_advisory_xact_lock_int4,
											Int32GetDatum(LOCK_USER_QUOTA),
											Int32GetDatum(quota_key(event_id, user_id))));
}

/*
 * Durability.  A booking or a cancellation moves money: its commit waits for
 * the WAL flush whatever synchronous_commit says.  A hold is a promise about
 * the next few minutes: unless evently.durable_holds is on, it commits
 * asynchronously, so a crash may forget holds of the last ~0.6 s (their seats
 * simply become available again).  Once a transaction has asked for a
 * durable commit, a later hold in it never weakens that; nor does a hold
 * weaken a transaction that wrote something of its caller's before it, or
 * a commit the caller asked to be stronger than the default (remote_apply,
 * remote_write, local).
 */
static bool durable_requested = false;

static void
reset_durability(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		durable_requested = false;
}

static void
set_synchronous_commit(const char *value)
{
	(void) set_config_option("synchronous_commit", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
}

static void
request_durability(void)
{
	static bool callback_registered = false;

	if (!callback_registered)
	{
		RegisterXactCallback(reset_durability, NULL);
		callback_registered = true;
	}
	durable_requested = true;
}

/* Called as an engine function starts: has the transaction written already? */
void
keep_callers_durability(void)
{
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
		request_durability();
}

void
commit_durably(void)
{
	request_durability();
	/* only strengthen: a caller's local or remote_apply setting stays */
	if (synchronous_commit == SYNCHRONOUS_COMMIT_OFF)
		set_synchronous_commit("on");
}

void
commit_lazily(void)
{
	if (!durable_requested && !evently_durable_holds && synchronous_commit == SYNCHRONOUS_COMMIT_ON)
		set_synchronous_commit("off");
}
