/*
 * provider.c: the card payment provider, spoken to as the Stripe API
 * (SPEC section 10), so that PAYMENT_API_BASE, PAYMENT_SECRET_KEY and
 * PAYMENT_WEBHOOK_SECRET pointed at a real account work as they are.
 *
 * Out: a payment intent (POST /v1/payment_intents) and a refund
 * (POST /v1/refunds), form-encoded, amounts in minor units, each with an
 * Idempotency-Key (the order's or the refund's id) so that asking again
 * after a lost answer gets the same object back.  One libcurl handle per
 * call, bounded by PAYMENT_TIMEOUT_MS.  The callers (payments.c) never hold
 * a database transaction open across these calls: each SQL call is its own
 * statement.
 *
 * In: the Stripe-Signature header of a webhook,
 * "t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]": valid when some v1 is the hex
 * HMAC-SHA256 of "<t>.<body>" under PAYMENT_WEBHOOK_SECRET, and t is within
 * WEBHOOK_TOLERANCE_S of now.
 */
#include "shim.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANSWER_LIMIT		(1 << 20)	/* bytes of a provider's answer we read */
#define CONNECT_TIMEOUT_MS	5000	/* of PAYMENT_TIMEOUT_MS at most */

/* curl_global_init is not thread-safe: once, in main, before any thread. */
void
provider_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (config.payment_secret_key && strncmp(config.payment_api_base, "https://", 8) != 0)
		log_event("warning", "PAYMENT_API_BASE is not https: the secret key travels in clear text",
				  config.payment_api_base);
}

void
provider_cleanup(void)
{
	curl_global_cleanup();
}

bool
provider_configured(void)
{
	return config.payment_secret_key != NULL;
}

void
provider_result_free(ProviderResult *r)
{
	json_decref(r->object);
	r->object = NULL;
}

/* ---- the form body: key=value&…, values percent-encoded ---- */

typedef struct Text
{
	char	   *data;
	size_t		size;
	bool		too_large;		/* an answer over ANSWER_LIMIT */
} Text;

static void
text_append(Text *t, const char *s, size_t n)
{
	t->data = realloc(t->data, t->size + n + 1);
	memcpy(t->data + t->size, s, n);
	t->size += n;
	t->data[t->size] = '\0';
}

/* Stripe's nested keys (metadata[order_id]) go as they are, as its own examples send them. */
static void
form_add(Text *form, CURL *curl, const char *key, const char *value)
{
	char	   *escaped = curl_easy_escape(curl, value, 0);

	if (form->size)
		text_append(form, "&", 1);
	text_append(form, key, strlen(key));
	text_append(form, "=", 1);
	text_append(form, escaped, strlen(escaped));
	curl_free(escaped);
}

static size_t
collect_answer(char *data, size_t size, size_t nmemb, void *cls)
{
	Text	   *answer = cls;

	if (answer->size + size * nmemb > ANSWER_LIMIT)
	{
		answer->too_large = true;
		return 0;				/* stops the transfer: CURLE_WRITE_ERROR */
	}
	text_append(answer, data, size * nmemb);
	return size * nmemb;
}

/* The provider's own words for a refusal: {"error": {"message": …}}. */
static void
answer_error(ProviderResult *r, json_t *answer)
{
	json_t	   *error = json_object_get(answer, "error");
	const char *message = json_string_value(json_object_get(error, "message"));
	const char *code = json_string_value(json_object_get(error, "code"));

	snprintf(r->error, sizeof(r->error), "HTTP %ld%s%s%s%s", r->http_status, code ? " " : "", code ? code : "",
			 message ? ": " : "", message ? message : "");
}

/*
 * POST {PAYMENT_API_BASE}{path} with a form body.  2xx with an object that
 * has an id: PROVIDER_OK.  A 4xx is the provider's definite no, except 409
 * (another request with the same Idempotency-Key still running) and 429
 * (rate limited), which Stripe tells clients to retry.  Anything else --
 * no connection, a timeout, a 5xx, an answer that is not the object -- may
 * or may not have happened at the provider: PROVIDER_UNAVAILABLE, and the
 * retry with the same Idempotency-Key finds out.
 */
static ProviderResult
provider_post(const char *path, const char *form, const char *idempotency_key)
{
	ProviderResult r = {PROVIDER_UNAVAILABLE};
	CURL	   *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char		url[1024],
				header[512],
				curl_error[CURL_ERROR_SIZE] = "";
	Text		answer = {0};
	json_t	   *object = NULL;
	CURLcode	rc;

	if (config.payment_secret_key == NULL || curl == NULL)
	{
		snprintf(r.error, sizeof(r.error), "%s", curl ? "PAYMENT_SECRET_KEY is not set" : "no curl handle");
		curl_easy_cleanup(curl);
		return r;
	}
	snprintf(url, sizeof(url), "%s%s", config.payment_api_base, path);
	snprintf(header, sizeof(header), "Authorization: Bearer %s", config.payment_secret_key);
	headers = curl_slist_append(headers, header);
	snprintf(header, sizeof(header), "Idempotency-Key: %s", idempotency_key);
	headers = curl_slist_append(headers, header);
	headers = curl_slist_append(headers, "Content-Type: application/x-www-form-urlencoded");
	headers = curl_slist_append(headers, "Accept: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(form));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "evently-shim");
	/* no signals: the shim's threads share the process (and timeouts work without them) */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) config.payment_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
					 (long) (config.payment_timeout_ms < CONNECT_TIMEOUT_MS ? config.payment_timeout_ms
							 : CONNECT_TIMEOUT_MS));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.http_status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);

	if (rc != CURLE_OK)
		snprintf(r.error, sizeof(r.error), "%s", answer.too_large ? "the answer is too large"
				 : curl_error[0] ? curl_error : curl_easy_strerror(rc));
	else if ((object = answer.data ? json_loadb(answer.data, answer.size, 0, NULL) : NULL) == NULL ||
			 !json_is_object(object))
		snprintf(r.error, sizeof(r.error), "HTTP %ld: the answer is not a JSON object", r.http_status);
	else if (r.http_status >= 200 && r.http_status < 300)
	{
		if (json_is_string(json_object_get(object, "id")))
		{
			r.outcome = PROVIDER_OK;
			r.object = json_incref(object);
		}
		else
			snprintf(r.error, sizeof(r.error), "HTTP %ld: the answer has no id", r.http_status);
	}
	else
	{
		answer_error(&r, object);
		if (r.http_status >= 400 && r.http_status < 500 && r.http_status != 409 && r.http_status != 429)
			r.outcome = PROVIDER_REFUSED;
	}
	json_decref(object);
	free(answer.data);
	return r;
}

/* Stripe's currencies are lower case ISO codes. */
static void
lower_currency(char *out, size_t size, const char *currency)
{
	size_t		i;

	for (i = 0; currency && currency[i] && i < size - 1; i++)
		out[i] = (char) (currency[i] >= 'A' && currency[i] <= 'Z' ? currency[i] + 32 : currency[i]);
	out[i] = '\0';
}

/*
 * A payment intent for an order's payment: {id "pi_…", client_secret, …}.
 * The client confirms it with the client_secret; its outcome comes back by
 * webhook.  The metadata tie the intent to the order in the provider's
 * dashboard and in every event about it.
 */
ProviderResult
provider_create_intent(const char *idempotency_key, const char *order_id, const char *payment_id,
					   json_int_t amount_minor, const char *currency)
{
	CURL	   *curl = curl_easy_init();	/* for curl_easy_escape */
	Text		form = {0};
	char		amount[32],
				lower[16];
	ProviderResult r;

	snprintf(amount, sizeof(amount), "%" JSON_INTEGER_FORMAT, amount_minor);
	lower_currency(lower, sizeof(lower), currency);
	form_add(&form, curl, "amount", amount);
	form_add(&form, curl, "currency", lower);
	form_add(&form, curl, "metadata[order_id]", order_id);
	form_add(&form, curl, "metadata[payment_id]", payment_id);
	form_add(&form, curl, "automatic_payment_methods[enabled]", "true");
	curl_easy_cleanup(curl);
	r = provider_post("/v1/payment_intents", form.data, idempotency_key);
	free(form.data);
	if (r.outcome == PROVIDER_OK && !json_is_string(json_object_get(r.object, "client_secret")))
	{
		provider_result_free(&r);
		r.outcome = PROVIDER_UNAVAILABLE;
		snprintf(r.error, sizeof(r.error), "HTTP %ld: the payment intent has no client_secret", r.http_status);
	}
	return r;
}

/* A refund of (part of) a payment intent: {id "re_…", status, …}. */
ProviderResult
provider_create_refund(const char *idempotency_key, const char *refund_id, const char *payment_intent,
					   json_int_t amount_minor)
{
	CURL	   *curl = curl_easy_init();
	Text		form = {0};
	char		amount[32];
	ProviderResult r;

	snprintf(amount, sizeof(amount), "%" JSON_INTEGER_FORMAT, amount_minor);
	form_add(&form, curl, "payment_intent", payment_intent);
	form_add(&form, curl, "amount", amount);
	form_add(&form, curl, "metadata[refund_id]", refund_id);
	curl_easy_cleanup(curl);
	r = provider_post("/v1/refunds", form.data, idempotency_key);
	free(form.data);
	return r;
}

/* ---- the webhook's signature ---- */

const char *
signature_problem(SignatureCheck check)
{
	switch (check)
	{
		case SIGNATURE_OK:
			return "valid";
		case SIGNATURE_NO_SECRET:
			return "this server verifies no webhook (PAYMENT_WEBHOOK_SECRET is not set)";
		case SIGNATURE_MISSING:
			return "no Stripe-Signature header";
		case SIGNATURE_MALFORMED:
			return "the Stripe-Signature header is not t=<unix time>,v1=<hex>";
		case SIGNATURE_STALE:
			return "the signature's timestamp is more than 5 minutes from now";
		case SIGNATURE_MISMATCH:
			return "no v1 signature matches the body";
	}
	return "unknown";
}

/* The lower-case hex HMAC-SHA256 of "<t>.<body>" under the webhook secret. */
static bool
expected_signature(const char *t, size_t t_len, const char *body, size_t size, char hex[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	size_t		message_len = t_len + 1 + size;
	unsigned char *message = malloc(message_len);
	bool		ok;

	memcpy(message, t, t_len);
	message[t_len] = '.';
	memcpy(message + t_len + 1, body, size);
	ok = HMAC(EVP_sha256(), config.payment_webhook_secret, (int) strlen(config.payment_webhook_secret),
			  message, message_len, mac, &mac_len) != NULL && mac_len == 32;
	free(message);
	for (unsigned int i = 0; ok && i < mac_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return ok;
}

/*
 * The next item of a comma-separated header, blanks around it left out:
 * its start and length, or NULL after the last.
 */
static const char *
next_item(const char **cursor, size_t *len)
{
	const char *item = *cursor;

	if (item == NULL)
		return NULL;
	item += strspn(item, " \t");
	*len = strcspn(item, ",");
	*cursor = item[*len] == ',' ? item + *len + 1 : NULL;
	while (*len > 0 && (item[*len - 1] == ' ' || item[*len - 1] == '\t'))
		(*len)--;
	return item;
}

/*
 * Stripe's scheme: the header's comma-separated key=value items; t the
 * unix time of signing (exactly one), v1 a signature (any number: while a
 * secret is rolled there are two), v0 and anything else ignored.  Accepted
 * when some v1 equals the expected one (compared in constant time) and t
 * is within the tolerance either way: an old t is a replay, and one far
 * ahead would make a captured delivery replayable for that long.
 */
SignatureCheck
provider_verify_signature(const char *header, const char *body, size_t size, long now)
{
	const char *cursor,
			   *item,
			   *t = NULL;
	size_t		len,
				t_len = 0;
	int			t_count = 0,
				v1_count = 0;
	bool		matched = false;
	char		expected[65];
	long long	signed_at;

	if (config.payment_webhook_secret == NULL)
		return SIGNATURE_NO_SECRET;
	if (header == NULL || header[0] == '\0')
		return SIGNATURE_MISSING;
	/* t first: what is signed starts with it */
	for (cursor = header; (item = next_item(&cursor, &len)) != NULL;)
		if (len > 2 && strncmp(item, "t=", 2) == 0)
		{
			t = item + 2;
			t_len = len - 2;
			t_count++;
		}
	if (t_count != 1 || t_len > 18 || strspn(t, "0123456789") < t_len)
		return SIGNATURE_MALFORMED;
	signed_at = strtoll(t, NULL, 10);
	if (!expected_signature(t, t_len, body, size, expected))
		return SIGNATURE_MISMATCH;
	for (cursor = header; (item = next_item(&cursor, &len)) != NULL;)
		if (len >= 3 && strncmp(item, "v1=", 3) == 0)
		{
			v1_count++;
			if (len - 3 == 64 && CRYPTO_memcmp(item + 3, expected, 64) == 0)
				matched = true;
		}
	if (v1_count == 0)
		return SIGNATURE_MALFORMED;
	if (!matched)
		return SIGNATURE_MISMATCH;
	if (signed_at < (long long) now - WEBHOOK_TOLERANCE_S || signed_at > (long long) now + WEBHOOK_TOLERANCE_S)
		return SIGNATURE_STALE;
	return SIGNATURE_OK;
}
