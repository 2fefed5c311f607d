/*
 * fake-provider.c: evently-fake-provider, the card payment provider the
 * tests start instead of Stripe.  It speaks the Stripe API's shapes (the
 * parts evently uses) on 127.0.0.1 only, keeps everything in memory, and
 * sends Stripe's signed webhooks to the URL it was given, when a test asks
 * it to.
 *
 *   evently-fake-provider [--port N] [--port-file FILE] [--webhook-url URL]
 *                         [--auto succeed] [--auto-delay-ms N]
 *   PAYMENT_SECRET_KEY      the API key clients must send as "Bearer …"
 *   PAYMENT_WEBHOOK_SECRET  the key of the webhooks' HMAC (Stripe-Signature)
 *
 * Port 0 (the default) takes a free port; either way the port is printed
 * ("listening on 127.0.0.1:PORT") and written to --port-file.
 *
 * The API (Authorization: Bearer <PAYMENT_SECRET_KEY>, else 401):
 *   POST /v1/payment_intents   amount, currency, metadata[…], automatic_payment_methods[enabled]
 *   GET  /v1/payment_intents/:id
 *   POST /v1/refunds           payment_intent, amount?, metadata[…]
 *   GET  /v1/refunds/:id
 * A POST with an Idempotency-Key seen before gets the first answer again
 * (Idempotent-Replayed: true), or 400 idempotency_error when its
 * parameters differ.  Errors are Stripe's {"error": {type, code, message}}.
 *
 * Control, for the tests (no key).  Each route that sends events answers
 * {"events": [{"event": …, "delivery": {"status", "body", "signature"}}]}:
 *   GET  /_control/requests              every API request received: method, path,
 *                                        authorization, idempotency_key, content_type,
 *                                        form (parsed), status answered
 *   GET  /_control/events                every event made, in order: {id, type}
 *   POST /_control/behaviour             {"delay_ms", "fail_status", "count"}: the next
 *                                        count API requests (-1: all) wait delay_ms and
 *                                        then, with a fail_status, answer it unprocessed;
 *                                        without one they are processed after the wait
 *                                        (as a provider the client gave up on would)
 *   POST /_control/auto                  {"mode": "succeed"|"off", "delay_ms"}: every new
 *                                        intent succeeds delay_ms after its creation
 *   POST /_control/intents/:id/processing   payment_intent.processing
 *   POST /_control/intents/:id/succeed      payment_intent.succeeded (and its charge)
 *   POST /_control/intents/:id/fail         payment_intent.payment_failed
 *   POST /_control/refunds/:id/complete     charge.refunded, then refund.updated (succeeded)
 *   POST /_control/refunds/:id/fail         refund.updated (failed)
 *   POST /_control/events/:id/replay        the same event (same id, same bytes) again
 *   POST /_control/replay                   the last event again
 * Query parameters of those: signature=good (default) | forged (signed with
 * another key) | stale (signed 10 minutes ago) -- a forged or stale event
 * is an attacker's, so the fake's own state does not change; deliver=0
 * makes the event (and the change) without sending it, for a later replay
 * (out-of-order deliveries).
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BODY_LIMIT			(1 << 20)
#define STALE_SECONDS		600
#define FORGED_SECRET		"whsec_not_the_endpoint_secret"
#define V0_SECRET			"whsec_legacy_scheme"	/* Stripe's test mode also sends a v0 */

static const char *secret_key;
static const char *webhook_secret;
static const char *webhook_url;

/* everything below is guarded by state_lock; webhooks are sent without it */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *intents;			/* id -> payment_intent */
static json_t *charges;			/* id -> charge */
static json_t *refunds;			/* id -> refund */
static json_t *idempotent;		/* key -> {path, form, status, body} */
static json_t *requests;		/* [request] */
static json_t *events;			/* id -> {type, text, object} */
static json_t *event_order;		/* [id] */
static int	delay_ms,
			fail_status,
			behaviour_count;
static bool auto_succeed;
static int	auto_delay_ms = 50;

typedef struct Answer
{
	int			status;
	json_t	   *body;
	bool		replayed;
} Answer;

static Answer
answer(int status, json_t *body)
{
	return (Answer) {status, body, false};
}

/* Stripe's error shape */
static Answer
stripe_error(int status, const char *type, const char *code, const char *message)
{
	json_t	   *error = json_pack("{s:s, s:s}", "type", type, "message", message);

	if (code)
		json_object_set_new(error, "code", json_string(code));
	return answer(status, json_pack("{s:o}", "error", error));
}

/* "pi_" + 24 letters and digits */
static char *
new_id(const char *prefix)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char bytes[24];
	char	   *id = malloc(strlen(prefix) + sizeof(bytes) + 1);
	size_t		n = strlen(prefix);

	RAND_bytes(bytes, sizeof(bytes));
	memcpy(id, prefix, n);
	for (size_t i = 0; i < sizeof(bytes); i++)
		id[n + i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
	id[n + sizeof(bytes)] = '\0';
	return id;
}

/* ---- form bodies: a=1&metadata[order_id]=x -> {"a": "1", "metadata": {"order_id": "x"}} ---- */

static char *
url_decode(const char *s, size_t n)
{
	char	   *out = malloc(n + 1),
			   *o = out;

	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n)
		{
			char		hex[3] = {s[i + 1], s[i + 2], 0};

			*o++ = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static json_t *
parse_form(const char *body, size_t size)
{
	json_t	   *form = json_object();
	const char *p = body,
			   *end = body + size;

	while (p < end)
	{
		const char *amp = memchr(p, '&', end - p);
		const char *item_end = amp ? amp : end;
		const char *eq = memchr(p, '=', item_end - p);
		char	   *key = url_decode(p, (eq ? eq : item_end) - p);
		char	   *value = eq ? url_decode(eq + 1, item_end - eq - 1) : strdup("");
		size_t		key_len = strlen(key);
		char	   *bracket = strchr(key, '[');

		if (bracket && bracket != key && key[key_len - 1] == ']')
		{
			json_t	   *inner;

			*bracket = '\0';
			key[key_len - 1] = '\0';
			if (!json_is_object(inner = json_object_get(form, key)))
				json_object_set_new(form, key, inner = json_object());
			json_object_set_new(inner, bracket + 1, json_string(value));
		}
		else if (key[0])
			json_object_set_new(form, key, json_string(value));
		free(key);
		free(value);
		p = item_end + 1;
	}
	return form;
}

/* ---- the API ---- */

static bool
digits(const char *s)
{
	return s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 16;
}

/* POST /v1/payment_intents */
static Answer
create_intent(json_t *form, json_t **created)
{
	const char *amount = json_string_value(json_object_get(form, "amount"));
	const char *currency = json_string_value(json_object_get(form, "currency"));
	json_t	   *metadata = json_object_get(form, "metadata");
	json_t	   *apm = json_object_get(form, "automatic_payment_methods");
	char	   *id,
			   *secret,
				client_secret[128];
	json_t	   *intent;

	if (!digits(amount))
		return stripe_error(400, "invalid_request_error", "parameter_missing",
							"Missing required param: amount (a positive integer in the smallest currency unit).");
	if (atoll(amount) < 50)
		return stripe_error(400, "invalid_request_error", "amount_too_small",
							"Amount must be at least 50 in the smallest currency unit.");
	if (currency == NULL || strlen(currency) != 3 || strspn(currency, "abcdefghijklmnopqrstuvwxyz") != 3)
		return stripe_error(400, "invalid_request_error", "parameter_invalid_string",
							"Invalid currency: a three-letter ISO code in lower case.");
	id = new_id("pi_");
	secret = new_id("");
	snprintf(client_secret, sizeof(client_secret), "%s_secret_%s", id, secret);
	intent = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:O, s:I, s:b, s:n, s:n}",
					   "id", id, "object", "payment_intent", "amount", (json_int_t) atoll(amount),
					   "amount_received", (json_int_t) 0, "currency", currency,
					   "status", "requires_payment_method", "client_secret", client_secret,
					   "metadata", metadata ? metadata : json_object(), "created", (json_int_t) time(NULL),
					   "livemode", 0, "latest_charge", "last_payment_error");
	json_object_set_new(intent, "automatic_payment_methods",
						json_pack("{s:b}", "enabled", apm && json_is_string(json_object_get(apm, "enabled")) &&
								  strcmp(json_string_value(json_object_get(apm, "enabled")), "true") == 0));
	json_object_set(intents, id, intent);
	*created = intent;
	free(id);
	free(secret);
	return answer(200, json_incref(intent));
}

/* what of an intent's amount no refund (but a failed one) has taken */
static json_int_t
refundable(json_t *intent)
{
	json_int_t	left = json_integer_value(json_object_get(intent, "amount"));
	const char *id = json_string_value(json_object_get(intent, "id"));
	const char *key;
	json_t	   *refund;

	json_object_foreach(refunds, key, refund)
		if (strcmp(json_string_value(json_object_get(refund, "payment_intent")), id) == 0 &&
			strcmp(json_string_value(json_object_get(refund, "status")), "failed") != 0)
			left -= json_integer_value(json_object_get(refund, "amount"));
	return left;
}

/* POST /v1/refunds */
static Answer
create_refund(json_t *form)
{
	const char *intent_id = json_string_value(json_object_get(form, "payment_intent"));
	const char *amount = json_string_value(json_object_get(form, "amount"));
	json_t	   *metadata = json_object_get(form, "metadata");
	json_t	   *intent = intent_id ? json_object_get(intents, intent_id) : NULL;
	json_int_t	left,
				value;
	char	   *id;
	json_t	   *refund;

	if (intent == NULL)
		return stripe_error(400, "invalid_request_error", "resource_missing", "No such payment_intent.");
	if (strcmp(json_string_value(json_object_get(intent, "status")), "succeeded") != 0)
		return stripe_error(400, "invalid_request_error", "charge_not_refundable",
							"This PaymentIntent does not have a successful charge to refund.");
	left = refundable(intent);
	if (amount && !digits(amount))
		return stripe_error(400, "invalid_request_error", "parameter_invalid_integer", "Invalid integer: amount.");
	value = amount ? atoll(amount) : left;
	if (value < 1 || value > left)
		return stripe_error(400, "invalid_request_error", "amount_too_large",
							"Refund amount is greater than the unrefunded amount on the charge.");
	id = new_id("re_");
	refund = json_pack("{s:s, s:s, s:I, s:s, s:O, s:O, s:s, s:O, s:I}", "id", id, "object", "refund",
					   "amount", value, "payment_intent", intent_id,
					   "charge", json_object_get(intent, "latest_charge"),
					   "currency", json_object_get(intent, "currency"), "status", "pending",
					   "metadata", metadata ? metadata : json_object(), "created", (json_int_t) time(NULL));
	json_object_set_new(refunds, id, refund);
	free(id);
	return answer(200, json_incref(refund));
}

static Answer
get_object(json_t *store, const char *id, const char *what)
{
	json_t	   *object = json_object_get(store, id);
	char		message[160];

	if (object)
		return answer(200, json_incref(object));
	snprintf(message, sizeof(message), "No such %s: '%.100s'", what, id);
	return stripe_error(404, "invalid_request_error", "resource_missing", message);
}

/* ---- events and their delivery ---- */

typedef enum SignatureMode
{
	SIGN_GOOD, SIGN_FORGED, SIGN_STALE
} SignatureMode;

static void
hmac_hex(const char *key, const char *t, const char *body, char hex[65])
{
	size_t		n = strlen(t) + 1 + strlen(body);
	char	   *message = malloc(n + 1);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	snprintf(message, n + 1, "%s.%s", t, body);
	HMAC(EVP_sha256(), key, (int) strlen(key), (unsigned char *) message, n, mac, &len);
	for (unsigned int i = 0; i < len && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	free(message);
}

/* Stripe-Signature: t=<unix>,v1=<hex>,v0=<hex> */
static void
sign(const char *body, SignatureMode mode, char *header, size_t size)
{
	char		t[32],
				v1[65],
				v0[65];

	snprintf(t, sizeof(t), "%ld", (long) time(NULL) - (mode == SIGN_STALE ? STALE_SECONDS : 0));
	hmac_hex(mode == SIGN_FORGED ? FORGED_SECRET : webhook_secret, t, body, v1);
	hmac_hex(V0_SECRET, t, body, v0);
	snprintf(header, size, "t=%s,v1=%s,v0=%s", t, v1, v0);
}

/*
 * A new event about object (copied as it is now); its text is kept, so a
 * replay sends the same bytes.  A forged or stale one (not real) can be
 * replayed by its id, but is never "the last event".
 */
static json_t *
make_event(const char *type, json_t *object, bool real)
{
	char	   *id = new_id("evt_");
	json_t	   *event = json_pack("{s:s, s:s, s:s, s:I, s:b, s:i, s:{s:n, s:n}, s:s, s:{s:o}}",
								  "id", id, "object", "event", "api_version", "2024-06-20",
								  "created", (json_int_t) time(NULL), "livemode", 0, "pending_webhooks", 1,
								  "request", "id", "idempotency_key", "type", type,
								  "data", "object", json_deep_copy(object));
	char	   *text = json_dumps(event, JSON_COMPACT);

	json_object_set_new(events, id, json_pack("{s:s, s:s, s:O}", "type", type, "text", text, "event", event));
	if (real)
		json_array_append_new(event_order, json_string(id));
	free(text);
	free(id);
	return event;
}

typedef struct Text
{
	char	   *data;
	size_t		size;
} Text;

static size_t
collect(char *data, size_t size, size_t nmemb, void *cls)
{
	Text	   *t = cls;

	t->data = realloc(t->data, t->size + size * nmemb + 1);
	memcpy(t->data + t->size, data, size * nmemb);
	t->size += size * nmemb;
	t->data[t->size] = '\0';
	return size * nmemb;
}

/* POST the event's text to the webhook URL; {status, body, signature} (status 0: not delivered). */
static json_t *
deliver(const char *text, SignatureMode mode)
{
	CURL	   *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char		signature[256],
				header[300];
	Text		reply = {0};
	long		status = 0;
	json_t	   *body,
			   *result;
	CURLcode	rc;

	sign(text, mode, signature, sizeof(signature));
	snprintf(header, sizeof(header), "Stripe-Signature: %s", signature);
	headers = curl_slist_append(headers, header);
	headers = curl_slist_append(headers, "Content-Type: application/json; charset=utf-8");
	headers = curl_slist_append(headers, "User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)");
	curl_easy_setopt(curl, CURLOPT_URL, webhook_url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	body = reply.data ? json_loads(reply.data, 0, NULL) : NULL;
	if (body == NULL)
		body = json_string(rc == CURLE_OK ? (reply.data ? reply.data : "") : curl_easy_strerror(rc));
	free(reply.data);
	result = json_pack("{s:i, s:o, s:s}", "status", (int) status, "body", body, "signature", signature);
	return result;
}

/* A list of events to send once the lock is released: [{text, event}] */
static json_t *
outgoing(json_t *list, json_t *event)
{
	json_t	   *stored = json_object_get(events, json_string_value(json_object_get(event, "id")));

	json_array_append_new(list, json_pack("{s:O, s:O}", "text", json_object_get(stored, "text"),
										  "event", event));
	json_decref(event);
	return list;
}

/* Send them (unless deliver is false): {"events": [{event, delivery}]} */
static json_t *
send_all(json_t *list, SignatureMode mode, bool send)
{
	json_t	   *out = json_array(),
			   *item;
	size_t		i;

	json_array_foreach(list, i, item)
		json_array_append_new(out, json_pack("{s:O, s:o}", "event", json_object_get(item, "event"),
											 "delivery", send ? deliver(json_string_value(json_object_get(item, "text")), mode)
											 : json_null()));
	json_decref(list);
	return json_pack("{s:o}", "events", out);
}

/* ---- what the control routes change ---- */

/* The intent succeeds: its charge is made. */
static void
succeed(json_t *intent)
{
	char	   *charge_id = new_id("ch_");
	json_t	   *amount = json_object_get(intent, "amount");
	json_t	   *charge = json_pack("{s:s, s:s, s:O, s:O, s:I, s:O, s:O, s:s, s:b, s:b, s:{s:s, s:o, s:b, s:i}}",
								   "id", charge_id, "object", "charge", "amount", amount, "amount_captured", amount,
								   "amount_refunded", (json_int_t) 0, "currency", json_object_get(intent, "currency"),
								   "payment_intent", json_object_get(intent, "id"), "status", "succeeded",
								   "paid", 1, "refunded", 0,
								   "refunds", "object", "list", "data", json_array(), "has_more", 0, "total_count", 0);

	json_object_set_new(charges, charge_id, charge);
	json_object_set_new(intent, "status", json_string("succeeded"));
	json_object_set(intent, "amount_received", amount);
	json_object_set_new(intent, "latest_charge", json_string(charge_id));
	json_object_set_new(intent, "last_payment_error", json_null());
	free(charge_id);
}

/* The refund completes: its charge shows it, with every refund of the charge. */
static json_t *
complete_refund(json_t *refund)
{
	json_t	   *charge = json_object_get(charges, json_string_value(json_object_get(refund, "charge")));
	json_t	   *data = json_array();
	const char *key;
	json_t	   *r;
	json_int_t	refunded = 0;

	json_object_set_new(refund, "status", json_string("succeeded"));
	if (charge == NULL)
		return NULL;
	json_object_foreach(refunds, key, r)
		if (json_equal(json_object_get(r, "charge"), json_object_get(charge, "id")))
		{
			json_array_append(data, r);
			if (strcmp(json_string_value(json_object_get(r, "status")), "succeeded") == 0)
				refunded += json_integer_value(json_object_get(r, "amount"));
		}
	json_object_set_new(charge, "amount_refunded", json_integer(refunded));
	json_object_set_new(charge, "refunded", json_boolean(refunded == json_integer_value(json_object_get(charge, "amount"))));
	json_object_set_new(charge, "refunds", json_pack("{s:s, s:o, s:b, s:I}", "object", "list", "data", data,
													  "has_more", 0, "total_count", (json_int_t) json_array_size(data)));
	return charge;
}

/*
 * /_control/intents/:id/<what> and /_control/refunds/:id/<what>: change
 * the object (a copy, for a forged or stale event: the real one stays) and
 * make its events.  NULL with *refusal set when there is no such object or
 * action.
 */
static json_t *
control_object(bool intent_route, const char *id, const char *what, bool real, Answer *refusal)
{
	json_t	   *store = intent_route ? intents : refunds;
	json_t	   *original = json_object_get(store, id);
	json_t	   *object = original ? (real ? json_incref(original) : json_deep_copy(original)) : NULL;
	json_t	   *list = json_array();

	if (object == NULL)
	{
		json_decref(list);
		*refusal = stripe_error(404, "invalid_request_error", "resource_missing", "no such object");
		return NULL;
	}
	if (intent_route && strcmp(what, "processing") == 0)
	{
		json_object_set_new(object, "status", json_string("processing"));
		outgoing(list, make_event("payment_intent.processing", object, real));
	}
	else if (intent_route && strcmp(what, "succeed") == 0)
	{
		succeed(object);
		outgoing(list, make_event("payment_intent.succeeded", object, real));
	}
	else if (intent_route && strcmp(what, "fail") == 0)
	{
		json_object_set_new(object, "status", json_string("requires_payment_method"));
		json_object_set_new(object, "last_payment_error",
							json_pack("{s:s, s:s, s:s, s:s}", "type", "card_error", "code", "card_declined",
									  "decline_code", "generic_decline", "message", "Your card was declined."));
		outgoing(list, make_event("payment_intent.payment_failed", object, real));
	}
	else if (!intent_route && strcmp(what, "complete") == 0)
	{
		json_t	   *charge = complete_refund(object);

		if (charge)
			outgoing(list, make_event("charge.refunded", charge, real));
		outgoing(list, make_event("refund.updated", object, real));
	}
	else if (!intent_route && strcmp(what, "fail") == 0)
	{
		json_object_set_new(object, "status", json_string("failed"));
		json_object_set_new(object, "failure_reason", json_string("expired_or_canceled_card"));
		outgoing(list, make_event("refund.updated", object, real));
	}
	else
	{
		json_decref(list);
		list = NULL;
		*refusal = stripe_error(404, "invalid_request_error", "unknown_action", what);
	}
	/* a forged event's charge changes were made on the real charge: acceptable for a fake, never asserted */
	json_decref(object);
	return list;
}

/* ---- auto mode: every new intent succeeds a moment after its creation ---- */

static void *
auto_succeed_later(void *arg)
{
	char	   *id = arg;
	json_t	   *list = json_array();
	json_t	   *intent;

	usleep((useconds_t) auto_delay_ms * 1000);
	pthread_mutex_lock(&state_lock);
	intent = json_object_get(intents, id);
	if (intent && strcmp(json_string_value(json_object_get(intent, "status")), "requires_payment_method") == 0)
	{
		succeed(intent);
		outgoing(list, make_event("payment_intent.succeeded", intent, true));
	}
	pthread_mutex_unlock(&state_lock);
	json_decref(send_all(list, SIGN_GOOD, true));
	free(id);
	return NULL;
}

/* ---- routing ---- */

typedef struct Upload
{
	char	   *data;
	size_t		size;
	bool		too_large;
} Upload;

static SignatureMode
signature_mode(struct MHD_Connection *conn)
{
	const char *s = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "signature");

	return s && strcmp(s, "forged") == 0 ? SIGN_FORGED : s && strcmp(s, "stale") == 0 ? SIGN_STALE : SIGN_GOOD;
}

/* "/a/b/c" split in at most 5 segments */
static int
split_path(const char *url, char parts[5][128])
{
	int			n = 0;

	for (const char *p = url; *p == '/' && n < 5;)
	{
		size_t		len = strcspn(p + 1, "/");

		if (len >= 128)
			return -1;
		memcpy(parts[n], p + 1, len);
		parts[n++][len] = '\0';
		p += len + 1;
	}
	return n;
}

static json_t *
int_field(json_t *body, const char *name, int *target)
{
	json_t	   *v = json_object_get(body, name);

	if (json_is_integer(v))
		*target = (int) json_integer_value(v);
	return v;
}

/* the control routes: under the lock, but sending the events after it */
static Answer
control(struct MHD_Connection *conn, const char *method, char parts[5][128], int n, Upload *up)
{
	SignatureMode mode = signature_mode(conn);
	const char *deliver_arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "deliver");
	bool		send = !(deliver_arg && strcmp(deliver_arg, "0") == 0);
	json_t	   *list = NULL,
			   *body = up->size ? json_loadb(up->data, up->size, 0, NULL) : json_object();
	Answer		a = {0};

	pthread_mutex_lock(&state_lock);
	if (strcmp(method, "GET") == 0 && n == 2 && strcmp(parts[1], "requests") == 0)
		a = answer(200, json_pack("{s:O}", "requests", requests));
	else if (strcmp(method, "GET") == 0 && n == 2 && strcmp(parts[1], "events") == 0)
	{
		json_t	   *list_out = json_array(),
				   *id;
		size_t		i;

		json_array_foreach(event_order, i, id)
			json_array_append_new(list_out, json_pack("{s:O, s:O}", "id", id, "type",
													  json_object_get(json_object_get(events, json_string_value(id)), "type")));
		a = answer(200, json_pack("{s:o}", "events", list_out));
	}
	else if (strcmp(method, "POST") != 0)
		a = stripe_error(405, "invalid_request_error", NULL, "control routes are POST, but requests and events");
	else if (n == 2 && strcmp(parts[1], "behaviour") == 0)
	{
		delay_ms = 0, fail_status = 0, behaviour_count = 0;
		int_field(body, "delay_ms", &delay_ms);
		int_field(body, "fail_status", &fail_status);
		if (int_field(body, "count", &behaviour_count) == NULL)
			behaviour_count = 1;
		a = answer(200, json_pack("{s:i, s:i, s:i}", "delay_ms", delay_ms, "fail_status", fail_status,
								  "count", behaviour_count));
	}
	else if (n == 2 && strcmp(parts[1], "auto") == 0)
	{
		const char *m = json_string_value(json_object_get(body, "mode"));

		auto_succeed = m && strcmp(m, "succeed") == 0;
		int_field(body, "delay_ms", &auto_delay_ms);
		a = answer(200, json_pack("{s:s, s:i}", "mode", auto_succeed ? "succeed" : "off", "delay_ms", auto_delay_ms));
	}
	else if (n == 4 && (strcmp(parts[1], "intents") == 0 || strcmp(parts[1], "refunds") == 0))
		list = control_object(strcmp(parts[1], "intents") == 0, parts[2], parts[3], mode == SIGN_GOOD, &a);
	else if ((n == 4 && strcmp(parts[1], "events") == 0 && strcmp(parts[3], "replay") == 0) ||
			 (n == 2 && strcmp(parts[1], "replay") == 0))
	{
		const char *id = n == 4 ? parts[2] : json_string_value(json_array_get(event_order, json_array_size(event_order) - 1));
		json_t	   *stored = id ? json_object_get(events, id) : NULL;

		if (stored == NULL)
			a = stripe_error(404, "invalid_request_error", "resource_missing", "no such event");
		else
			list = json_pack("[{s:O, s:O}]", "text", json_object_get(stored, "text"),
							 "event", json_object_get(stored, "event"));
	}
	else
		a = stripe_error(404, "invalid_request_error", NULL, "no such control route");
	pthread_mutex_unlock(&state_lock);
	json_decref(body);
	if (list)
		a = answer(200, send_all(list, mode, send));
	return a;
}

/* the API: the key, the test's behaviour, idempotency, then the call */
static Answer
api(struct MHD_Connection *conn, const char *method, const char *url, char parts[5][128], int n, Upload *up)
{
	const char *authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Idempotency-Key");
	const char *content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	char		expected[512];
	json_t	   *form = parse_form(up->data ? up->data : "", up->size);
	json_t	   *record = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:O, s:s%}", "method", method, "path", url,
								   "authorization", authorization, "idempotency_key", key,
								   "content_type", content_type, "form", form,
								   "body", up->data ? up->data : "", up->size);
	json_t	   *created = NULL,
			   *seen;
	int			wait_ms = 0,
				fail = 0;
	Answer		a;

	pthread_mutex_lock(&state_lock);
	json_array_append(requests, record);
	if (behaviour_count != 0)
	{
		wait_ms = delay_ms;
		fail = fail_status;
		if (behaviour_count > 0)
			behaviour_count--;
	}
	pthread_mutex_unlock(&state_lock);
	if (wait_ms > 0)
		usleep((useconds_t) wait_ms * 1000);

	pthread_mutex_lock(&state_lock);
	snprintf(expected, sizeof(expected), "Bearer %s", secret_key);
	if (authorization == NULL || strcmp(authorization, expected) != 0)
		a = stripe_error(401, "invalid_request_error", NULL, "Invalid API Key provided.");
	else if (fail)
		a = stripe_error(fail, fail >= 500 ? "api_error" : "invalid_request_error", "fake_failure",
						 "a failure the test asked for");
	else if (strcmp(method, "POST") == 0 && key && (seen = json_object_get(idempotent, key)) != NULL)
	{
		if (strcmp(json_string_value(json_object_get(seen, "path")), url) != 0 ||
			strcmp(json_string_value(json_object_get(seen, "body")), up->data ? up->data : "") != 0)
			a = stripe_error(400, "idempotency_error", NULL,
							 "Keys for idempotent requests can only be used with the same parameters they were first used with.");
		else
		{
			a = answer((int) json_integer_value(json_object_get(seen, "status")),
					   json_incref(json_object_get(seen, "answer")));
			a.replayed = true;
		}
	}
	else if (strcmp(method, "POST") == 0 && n == 2 && strcmp(parts[1], "payment_intents") == 0)
		a = create_intent(form, &created);
	else if (strcmp(method, "POST") == 0 && n == 2 && strcmp(parts[1], "refunds") == 0)
		a = create_refund(form);
	else if (strcmp(method, "GET") == 0 && n == 3 && strcmp(parts[1], "payment_intents") == 0)
		a = get_object(intents, parts[2], "payment_intent");
	else if (strcmp(method, "GET") == 0 && n == 3 && strcmp(parts[1], "refunds") == 0)
		a = get_object(refunds, parts[2], "refund");
	else
		a = stripe_error(404, "invalid_request_error", NULL, "Unrecognized request URL.");
	/* Stripe keeps the result of a request that ran, not of one refused before it did */
	if (strcmp(method, "POST") == 0 && key && !a.replayed && (a.status == 200 || a.status >= 500) && !fail)
		json_object_set_new(idempotent, key, json_pack("{s:s, s:s, s:i, s:O}", "path", url,
													   "body", up->data ? up->data : "", "status", a.status,
													   "answer", a.body));
	json_object_set_new(record, "status", json_integer(a.status));
	json_object_set_new(record, "replayed", json_boolean(a.replayed));
	if (created && auto_succeed)
	{
		pthread_t	thread;

		if (pthread_create(&thread, NULL, auto_succeed_later, strdup(json_string_value(json_object_get(created, "id")))) == 0)
			pthread_detach(thread);
	}
	pthread_mutex_unlock(&state_lock);
	json_decref(record);
	json_decref(form);
	return a;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **state)
{
	Upload	   *up = *state;
	char		parts[5][128];
	int			n;
	Answer		a;
	char	   *text;
	struct MHD_Response *response;
	enum MHD_Result ret;

	if (up == NULL)
	{
		*state = calloc(1, sizeof(Upload));
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		if (up->size + *upload_data_size > BODY_LIMIT)
			up->too_large = true;
		else
		{
			up->data = realloc(up->data, up->size + *upload_data_size + 1);
			memcpy(up->data + up->size, upload_data, *upload_data_size);
			up->size += *upload_data_size;
			up->data[up->size] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	n = split_path(url, parts);
	if (up->too_large)
		a = stripe_error(413, "invalid_request_error", NULL, "body too large");
	else if (n >= 1 && strcmp(parts[0], "_control") == 0)
		a = control(conn, method, parts, n, up);
	else if (n >= 2 && strcmp(parts[0], "v1") == 0)
		a = api(conn, method, url, parts, n, up);
	else
		a = stripe_error(404, "invalid_request_error", NULL, "Unrecognized request URL.");
	text = json_dumps(a.body, JSON_COMPACT);
	json_decref(a.body);
	response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (a.replayed)
		MHD_add_response_header(response, "Idempotent-Replayed", "true");
	ret = MHD_queue_response(conn, (unsigned int) a.status, response);
	MHD_destroy_response(response);
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode code)
{
	Upload	   *up = *state;

	if (up)
	{
		free(up->data);
		free(up);
	}
	*state = NULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: evently-fake-provider [--port N] [--port-file FILE] [--webhook-url URL] "
			"[--auto succeed] [--auto-delay-ms N]\n"
			"  PAYMENT_SECRET_KEY and PAYMENT_WEBHOOK_SECRET in the environment\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int			port = 0;
	const char *port_file = NULL;
	struct sockaddr_in address = {0};
	struct MHD_Daemon *daemon;
	const union MHD_DaemonInfo *info;
	sigset_t	stop_signals;
	int			sig;

	for (int i = 1; i < argc; i++)
	{
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (value == NULL)
			usage();
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(value);
		else if (strcmp(argv[i], "--port-file") == 0)
			port_file = value;
		else if (strcmp(argv[i], "--webhook-url") == 0)
			webhook_url = value;
		else if (strcmp(argv[i], "--auto") == 0)
			auto_succeed = strcmp(value, "succeed") == 0;
		else if (strcmp(argv[i], "--auto-delay-ms") == 0)
			auto_delay_ms = atoi(value);
		else
			usage();
		i++;
	}
	secret_key = getenv("PAYMENT_SECRET_KEY");
	webhook_secret = getenv("PAYMENT_WEBHOOK_SECRET");
	if (secret_key == NULL || webhook_secret == NULL || port < 0 || port > 65535)
		usage();
	if (webhook_url == NULL)
		webhook_url = "http://127.0.0.1:8080/api/v1/payments/webhook/card";

	curl_global_init(CURL_GLOBAL_DEFAULT);
	intents = json_object();
	charges = json_object();
	refunds = json_object();
	idempotent = json_object();
	requests = json_array();
	events = json_object();
	event_order = json_array();

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* loopback only: this is a test's provider */
	address.sin_family = AF_INET;
	address.sin_port = htons((uint16_t) port);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
							  (uint16_t) port, NULL, NULL, on_request, NULL,
							  MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &address,
							  MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
							  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
							  MHD_OPTION_END);
	if (daemon == NULL)
	{
		fprintf(stderr, "evently-fake-provider: could not listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? info->port : port;
	if (port_file)
	{
		char		tmp[4096];
		FILE	   *f;

		/* written whole, then renamed: a reader never sees half a number */
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
			rename(tmp, port_file) != 0)
		{
			fprintf(stderr, "evently-fake-provider: cannot write %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	printf("evently-fake-provider listening on 127.0.0.1:%d, webhooks to %s\n", port, webhook_url);
	fflush(stdout);
	sigwait(&stop_signals, &sig);
	MHD_stop_daemon(daemon);
	curl_global_cleanup();
	return 0;
}
