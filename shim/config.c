/* config.c: settings from the environment, each with its default. */
#include "shim.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ShimConfig	config;

static bool settings_ok;

/*
 * A numeric setting: its default when unset; a value that is not an
 * integer in [min, max] stops the start-up (a shim that quietly fell back
 * to port 8080 would answer on somebody else's port).
 */
static int
env_int(const char *name, int fallback, int min, int max)
{
	const char *value = getenv(name);
	char	   *end;
	long		n;

	if (value == NULL || *value == '\0')
		return fallback;
	n = strtol(value, &end, 10);
	if (*end != '\0' || n < min || n > max)
	{
		fprintf(stderr, "%s=%s is not a number from %d to %d\n", name, value, min, max);
		settings_ok = false;
		return fallback;
	}
	return (int) n;
}

/*
 * LISTEN_ADDRESS: the IPv4 or IPv6 literal to bind, 127.0.0.1 by default so
 * that a development shim is reachable from this machine only (0.0.0.0 is
 * every IPv4 interface, :: every interface).  Host names are refused, not
 * resolved: which of a name's addresses is bound should not depend on the
 * resolver.  A bad value stops the start-up (config_load() fails).
 */
static bool
listen_address_load(int port)
{
	const char *value = getenv("LISTEN_ADDRESS");
	struct sockaddr_in *v4 = (struct sockaddr_in *) &config.listen;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *) &config.listen;

	if (value == NULL || *value == '\0')
		value = "127.0.0.1";
	memset(&config.listen, 0, sizeof(config.listen));
	if (inet_pton(AF_INET, value, &v4->sin_addr) == 1)
	{
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t) port);
		snprintf(config.listen_text, sizeof(config.listen_text), "%s:%d", value, port);
		return true;
	}
	if (inet_pton(AF_INET6, value, &v6->sin6_addr) == 1)
	{
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t) port);
		snprintf(config.listen_text, sizeof(config.listen_text), "[%s]:%d", value, port);
		return true;
	}
	fprintf(stderr, "LISTEN_ADDRESS=%s is not an IPv4 or IPv6 address "
			"(e.g. 127.0.0.1, 0.0.0.0, ::1 or ::; no host names, no brackets)\n", value);
	return false;
}

/* A setting that is unset or empty is NULL. */
static const char *
env_text(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

/*
 * The card provider: the Stripe API by default.  Without a secret key the
 * shim runs without card payments (a card order is refused before anything
 * is written, the worker does not run); without a webhook secret every
 * webhook is refused.
 */
static void
payment_config_load(void)
{
	const char *base = env_text("PAYMENT_API_BASE");

	config.payment_api_base = base ? base : "https://api.stripe.com";
	config.payment_secret_key = env_text("PAYMENT_SECRET_KEY");
	config.payment_webhook_secret = env_text("PAYMENT_WEBHOOK_SECRET");
	config.payment_timeout_ms = env_int("PAYMENT_TIMEOUT_MS", 10000, 100, 120000);
	/* a slow provider must not hold every HTTP worker thread */
	config.payment_slots = env_int("PAYMENT_SLOTS", config.pool_size > 2 ? config.pool_size / 2 : 1, 1, 256);
	if (strncmp(config.payment_api_base, "https://", 8) != 0 && strncmp(config.payment_api_base, "http://", 7) != 0)
	{
		fprintf(stderr, "PAYMENT_API_BASE=%s is not an http(s) URL\n", config.payment_api_base);
		settings_ok = false;
	}
}

bool
config_load(void)
{
	const char *url = getenv("DATABASE_URL");
	const char *secret = getenv("JWT_SECRET");

	settings_ok = true;
	config.port = env_int("PORT", 8080, 1, 65535);
	if (!settings_ok || !listen_address_load(config.port))
		return false;
	config.database_url = url && *url ? url : "postgresql://postgres@127.0.0.1:5433/evently";
	config.pool_size = env_int("POOL_SIZE", 8, 1, 256);
	config.statement_timeout_ms = env_int("STATEMENT_TIMEOUT_MS", 5000, 1, 600000);
	config.admin_statement_timeout_ms = env_int("ADMIN_STATEMENT_TIMEOUT_MS", 60000, 1, 3600000);
	config.body_limit = (size_t) env_int("BODY_LIMIT", 1 << 20, 1024, 64 << 20);
	config.rate_per_minute = env_int("RATE_LIMIT_PER_MINUTE", 600, 1, 1000000);
	config.rate_burst = env_int("RATE_LIMIT_BURST", 100, 1, 1000000);
	config.cors_origins = getenv("CORS_ORIGINS");
	config.max_connections = env_int("MAX_CONNECTIONS", 10000, 16, 1000000);
	config.max_per_address = env_int("MAX_CONNECTIONS_PER_ADDRESS", 128, 1, 1000000);
	config.head_timeout_s = env_int("REQUEST_HEAD_TIMEOUT", 10, 1, 3600);
	config.body_timeout_s = env_int("REQUEST_BODY_TIMEOUT", 30, 1, 3600);
	/* bcrypt costs ~70 ms of a core: a login flood must not take every pool connection */
	config.password_slots = env_int("PASSWORD_SLOTS", config.pool_size > 4 ? config.pool_size / 4 : 1, 1, 256);
	payment_config_load();
	/* SPEC section 12: public reads at most one second stale */
	config.read_cache_ms = env_int("READ_CACHE_MS", 1000, 0, 1000);
	config.read_cache_bytes = (size_t) env_int("READ_CACHE_MB", 64, 1, 65536) << 20;
	/* RFC 8725: an HS256 key of at least 256 bits */
	if (secret == NULL || strlen(secret) < 32)
	{
		fprintf(stderr, "JWT_SECRET must be set to at least 32 bytes\n");
		return false;
	}
	config.jwt_secret = secret;
	return settings_ok;
}
