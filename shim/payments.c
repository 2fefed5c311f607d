/*
 * payments.c: where the card provider (provider.c) meets the SQL side of
 * orders and payments (SPEC section 10; extension/sql/54_payments.sql).
 *
 * No provider call ever happens inside a database transaction: each SQL
 * call below is one autocommit statement, and the provider is called
 * between two of them.  What the provider must be told is also kept in the
 * database (evently.payment_work() hands it out), so a crash between "the
 * provider accepted" and "recorded" is repaired by the worker: it asks
 * again with the same Idempotency-Key and gets the same object back.
 *
 *   POST /api/v1/orders                   api_order_create, then for a card
 *                                         order the intent and payment_record
 *   POST /api/v1/payments/webhook/card    the signature, then api_payment_webhook
 *   the worker (a thread, every second)   payment_work -> provider -> payment_record
 */
#include "shim.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RECORD_STATEMENT "SELECT evently.payment_record($1::jsonb)"
#define WORK_STATEMENT "SELECT evently.payment_work($1::int, $2::int)"
/* the worker retries an order's intent this long after the route's own call may end */
#define INTENT_RETRY_MARGIN_MS 2000

/* evently.payment_record(result): the order (an intent's result) or the refund (a refund's) */
static SqlResult
payment_record(json_t *result)
{
	char	   *text = json_dumps(result, JSON_NUMBERS);
	const char *params[1] = {text};
	SqlResult	r = pool_query("payment_record", RECORD_STATEMENT, 1, params);

	if (!r.ok)
		log_event("error", "payment_record failed; the worker asks the provider again", r.message);
	free(text);
	json_decref(result);
	return r;
}

/* A provider call that came to nothing, and which object it was for. */
static void
log_provider_trouble(const char *message, const char *what, const char *id, ProviderResult *p)
{
	char		detail[400];

	snprintf(detail, sizeof(detail), "%s %s: %s", what, id, p->error);
	log_event("warning", message, detail);
}

/*
 * Create the intent of a card payment at the provider and record the
 * answer: intent_created, or intent_failed for a definite refusal.  Nothing
 * is recorded when the provider did not answer (the payment stays PENDING,
 * and the next try -- the worker's or the client's -- uses the same key).
 * *recorded is payment_record's result, when it was called.
 */
static ProviderResult
create_intent(const char *idempotency_key, const char *order_id, const char *payment_id,
			  json_int_t amount_minor, const char *currency, SqlResult *recorded)
{
	ProviderResult p = provider_create_intent(idempotency_key, order_id, payment_id, amount_minor, currency);

	if (p.outcome == PROVIDER_OK)
		*recorded = payment_record(json_pack("{s:s, s:s, s:O, s:O}", "kind", "intent_created",
											 "payment_id", payment_id,
											 "provider_payment_id", json_object_get(p.object, "id"),
											 "client_secret", json_object_get(p.object, "client_secret")));
	else if (p.outcome == PROVIDER_REFUSED)
		*recorded = payment_record(json_pack("{s:s, s:s, s:s}", "kind", "intent_failed",
											 "payment_id", payment_id, "error", p.error));
	else
		log_provider_trouble("the card provider did not answer; the payment stays pending", "order", order_id, &p);
	return p;
}

/* ---- POST /api/v1/orders ---- */

/*
 * At most PAYMENT_SLOTS card orders wait on the provider at once (each
 * holds an HTTP worker thread for up to PAYMENT_TIMEOUT_MS); one more is
 * told at once to retry, before anything is written.
 */
static sem_t payment_slots;
static pthread_once_t payment_slots_once = PTHREAD_ONCE_INIT;

static void
payment_slots_init(void)
{
	sem_init(&payment_slots, 0, (unsigned int) config.payment_slots);
}

/* A card payment that has no intent at the provider yet. */
static bool
needs_intent(json_t *payment)
{
	const char *provider = json_string_value(json_object_get(payment, "provider"));
	const char *status = json_string_value(json_object_get(payment, "status"));
	json_t	   *intent = json_object_get(payment, "provider_payment_id");

	return provider && strcmp(provider, "card") == 0 && status && strcmp(status, "PENDING") == 0 &&
		(intent == NULL || json_is_null(intent));
}

static Reply
provider_error(const char *message, const char *order_id, ProviderResult *p)
{
	return reply_error(502, "PROVIDER_ERROR", message, p->error,
					   json_pack("{s:s, s:b, s:I}", "order_id", order_id,
								 "retryable", p->outcome == PROVIDER_UNAVAILABLE,
								 "provider_status", (json_int_t) p->http_status));
}

/* The order as api_order_create made it, its card intent created and recorded. */
static Reply
order_create(const Route *route, Call *call)
{
	SqlResult	r = call_sql(route, call),
				recorded = {0};
	json_t	   *order,
			   *payment;
	const char *order_id,
			   *payment_id;
	ProviderResult p;
	Reply		reply;

	/* an error, a mock or offline order, or a card order whose intent exists (a retry) */
	if (!r.ok || r.value == NULL)
	{
		reply = reply_from_sql(&r, route->success_status, route->message);
		sql_result_free(&r);
		return reply;
	}
	order = json_loads(r.value, 0, NULL);
	payment = json_object_get(order, "payment");
	if (!needs_intent(payment))
	{
		json_decref(order);
		reply = reply_from_sql(&r, route->success_status, route->message);
		sql_result_free(&r);
		return reply;
	}
	sql_result_free(&r);
	order_id = json_string_value(json_object_get(order, "order_id"));
	payment_id = json_string_value(json_object_get(payment, "id"));
	if (order_id == NULL || payment_id == NULL || !json_is_integer(json_object_get(payment, "amount_minor")))
	{
		json_decref(order);
		log_event("error", "api_order_create returned a card payment without order_id, id or amount_minor", NULL);
		return reply_error(500, "INTERNAL", "unreadable result from the database", NULL, NULL);
	}
	p = create_intent(order_id, order_id, payment_id, json_integer_value(json_object_get(payment, "amount_minor")),
					  json_string_value(json_object_get(payment, "currency")), &recorded);
	if (p.outcome == PROVIDER_OK)
		reply = reply_from_sql(&recorded, route->success_status, route->message);
	else if (p.outcome == PROVIDER_REFUSED)
		reply = provider_error("the payment provider refused the payment", order_id, &p);
	else
		reply = provider_error("the payment provider did not answer; the order stays pending: "
							   "retry with the same Idempotency-Key", order_id, &p);
	sql_result_free(&recorded);
	provider_result_free(&p);
	json_decref(order);
	return reply;
}

/*
 * A card order without a card provider is refused before anything is
 * written; one that finds every payment slot taken is told to retry.
 */
Reply
order_create_route(const Route *route, Call *call)
{
	const char *provider = json_string_value(json_object_get(json_object_get(call->req, "body"),
															  "payment_provider"));
	Reply		reply;

	if (provider == NULL || strcasecmp(provider, "card") != 0)
		return order_create(route, call);
	if (!provider_configured())
		return reply_error(502, "PROVIDER_ERROR", "card payments are not available",
						   "this server has no card provider (PAYMENT_SECRET_KEY is not set)", NULL);
	pthread_once(&payment_slots_once, payment_slots_init);
	if (sem_trywait(&payment_slots) != 0)
	{
		reply = reply_error(503, "BUSY", "too many card payments at once, retry", NULL, NULL);
		reply.rate.retry_after = 1;
		return reply;
	}
	reply = order_create(route, call);
	sem_post(&payment_slots);
	return reply;
}

/* ---- POST /api/v1/payments/webhook/card ---- */

/*
 * The provider's event, exactly as signed: the signature is checked over
 * the body's bytes before anything reads them, and the same bytes go to
 * SQL as jsonb (the route's statement wraps them as {"provider": "card",
 * "body": …}).  401 INVALID_SIGNATURE reaches no SQL.
 */
Reply
card_webhook_route(const Route *route, Call *call)
{
	SignatureCheck check;
	json_error_t error;
	json_t	   *event;
	SqlResult	r;
	Reply		reply;
	const char *params[2] = {NULL, call->raw_body};

	if (call->raw_body_size > WEBHOOK_BODY_LIMIT)
		return reply_error(413, "PAYLOAD_TOO_LARGE", "webhook body too large", NULL,
						   json_pack("{s:i}", "limit_bytes", WEBHOOK_BODY_LIMIT));
	check = provider_verify_signature(call->signature, call->raw_body, call->raw_body_size, (long) time(NULL));
	if (check != SIGNATURE_OK)
	{
		log_event("warning", "card webhook refused", signature_problem(check));
		return reply_error(401, "INVALID_SIGNATURE", "invalid webhook signature", signature_problem(check), NULL);
	}
	/* jansson refuses \u0000 and raw NULs, so the text below is the whole body */
	event = json_loadb(call->raw_body, call->raw_body_size, JSON_REJECT_DUPLICATES, &error);
	if (!json_is_object(event))
	{
		json_decref(event);
		return reply_error(400, "INVALID_JSON", "Invalid request body",
						   event ? "the body must be a JSON object" : error.text, NULL);
	}
	json_decref(event);
	r = pool_query(route->name, route->sql, 2, params);
	reply = reply_from_sql(&r, route->success_status, route->message);
	sql_result_free(&r);
	return reply;
}

/* ---- the worker ---- */

static pthread_t worker;
static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_wake = PTHREAD_COND_INITIALIZER;
static bool worker_running = false;
static bool worker_stopping = false;

static bool
stopping(void)
{
	bool		s;

	pthread_mutex_lock(&worker_lock);
	s = worker_stopping;
	pthread_mutex_unlock(&worker_lock);
	return s;
}

static const char *
task_text(json_t *task, const char *key)
{
	return json_string_value(json_object_get(task, key));
}

/* Stripe's refund statuses, in the contract's three words */
static const char *
refund_status(const char *status)
{
	if (status && (strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0))
		return status;
	if (status && strcmp(status, "canceled") == 0)
		return "failed";
	return "pending";			/* pending, requires_action */
}

static bool
perform_refund(json_t *task)
{
	const char *refund_id = task_text(task, "refund_id"),
			   *intent = task_text(task, "payment_intent"),
			   *key = task_text(task, "idempotency_key");
	ProviderResult p;
	SqlResult	r = {0};

	if (refund_id == NULL || intent == NULL || !json_is_integer(json_object_get(task, "amount_minor")))
	{
		log_event("error", "payment_work: a create_refund task without refund_id, payment_intent or amount_minor",
				  NULL);
		return true;
	}
	p = provider_create_refund(key ? key : refund_id, refund_id, intent,
							   json_integer_value(json_object_get(task, "amount_minor")));
	if (p.outcome == PROVIDER_OK)
		r = payment_record(json_pack("{s:s, s:s, s:O, s:s}", "kind", "refund_created", "refund_id", refund_id,
									 "provider_refund_id", json_object_get(p.object, "id"),
									 "status", refund_status(json_string_value(json_object_get(p.object, "status")))));
	else if (p.outcome == PROVIDER_REFUSED)
		r = payment_record(json_pack("{s:s, s:s, s:s}", "kind", "refund_failed", "refund_id", refund_id,
									 "error", p.error));
	else
		log_provider_trouble("the card provider did not answer a refund; retried later", "refund", refund_id, &p);
	sql_result_free(&r);
	provider_result_free(&p);
	return p.outcome != PROVIDER_UNAVAILABLE;
}

static bool
perform_intent(json_t *task)
{
	const char *order_id = task_text(task, "order_id"),
			   *payment_id = task_text(task, "payment_id"),
			   *key = task_text(task, "idempotency_key");
	SqlResult	r = {0};
	ProviderResult p;

	if (order_id == NULL || payment_id == NULL || !json_is_integer(json_object_get(task, "amount_minor")))
	{
		log_event("error", "payment_work: a create_intent task without order_id, payment_id or amount_minor", NULL);
		return true;
	}
	p = create_intent(key ? key : order_id, order_id, payment_id,
					  json_integer_value(json_object_get(task, "amount_minor")), task_text(task, "currency"), &r);
	sql_result_free(&r);
	provider_result_free(&p);
	return p.outcome != PROVIDER_UNAVAILABLE;
}

/* Tell the provider one task and record its answer; false when it did not answer. */
static bool
perform(json_t *task)
{
	const char *kind = task_text(task, "kind");

	if (kind && strcmp(kind, "create_intent") == 0)
		return perform_intent(task);
	if (kind && strcmp(kind, "create_refund") == 0)
		return perform_refund(task);
	log_event("error", "payment_work: a task of an unknown kind", kind);
	return true;
}

/*
 * One round: the tasks due, each told to the provider and recorded.  True
 * when there may be more due at once: a full batch, every task answered (a
 * provider that does not answer is asked again next second, not at once).
 */
static bool
work_once(bool *failing)
{
	char		batch[16],
				retry_after[16];
	const char *params[2] = {batch, retry_after};
	SqlResult	r;
	json_t	   *tasks,
			   *task;
	size_t		i,
				answered = 0;

	snprintf(batch, sizeof(batch), "%d", PAYMENT_BATCH);
	/* the order route's own provider call has ended (or timed out) by then */
	snprintf(retry_after, sizeof(retry_after), "%d", config.payment_timeout_ms + INTENT_RETRY_MARGIN_MS);
	r = pool_query("payment_work", WORK_STATEMENT, 2, params);
	/* a failure is logged when it starts and when it ends, not every second */
	if (!r.ok && !*failing)
		log_event("error", "payment_work failed", r.message);
	else if (r.ok && *failing)
		log_event("info", "payment_work works again", NULL);
	*failing = !r.ok;
	tasks = r.ok && r.value ? json_loads(r.value, 0, NULL) : NULL;
	sql_result_free(&r);
	json_array_foreach(tasks, i, task)
	{
		if (stopping())
			break;
		answered += perform(task);
	}
	json_decref(tasks);
	return answered == PAYMENT_BATCH;
}

/* Every second; at once again after a full batch. */
static void *
work_forever(void *arg)
{
	bool		failing = false,
				more = false;

	pthread_mutex_lock(&worker_lock);
	while (!worker_stopping)
	{
		struct timespec next;

		if (!more)
		{
			clock_gettime(CLOCK_REALTIME, &next);
			next.tv_sec += 1;
			pthread_cond_timedwait(&worker_wake, &worker_lock, &next);
			if (worker_stopping)
				break;
		}
		pthread_mutex_unlock(&worker_lock);
		more = work_once(&failing);
		pthread_mutex_lock(&worker_lock);
	}
	pthread_mutex_unlock(&worker_lock);
	return NULL;
}

/* Only with a card provider: without one there is nobody to tell. */
void
payment_worker_start(void)
{
	if (!provider_configured())
	{
		log_event("info", "no card provider (PAYMENT_SECRET_KEY is not set): card payments are off", NULL);
		return;
	}
	worker_running = pthread_create(&worker, NULL, work_forever, NULL) == 0;
}

/* Waits for the provider call under way, if any (at most PAYMENT_TIMEOUT_MS). */
void
payment_worker_stop(void)
{
	if (!worker_running)
		return;
	pthread_mutex_lock(&worker_lock);
	worker_stopping = true;
	pthread_cond_signal(&worker_wake);
	pthread_mutex_unlock(&worker_lock);
	pthread_join(worker, NULL);
	worker_running = false;
}
