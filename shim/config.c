/* config.c: settings from the environment, each with its default. */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ShimConfig	config;

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
		fprintf(stderr, "%s=%s is not a number from %d to %d; using %d\n", name, value, min, max,
				fallback);
		return fallback;
	}
	return (int) n;
}

bool
config_load(void)
{
	const char *url = getenv("DATABASE_URL");
	const char *secret = getenv("JWT_SECRET");

	config.port = env_int("PORT", 8080, 1, 65535);
	config.database_url = url && *url ? url : "postgresql://postgres@127.0.0.1:5433/evently";
	config.pool_size = env_int("POOL_SIZE", 8, 1, 256);
	config.statement_timeout_ms = env_int("STATEMENT_TIMEOUT_MS", 5000, 1, 600000);
	config.body_limit = (size_t) env_int("BODY_LIMIT", 1 << 20, 1024, 64 << 20);
	config.rate_per_minute = env_int("RATE_LIMIT_PER_MINUTE", 600, 1, 1000000);
	config.rate_burst = env_int("RATE_LIMIT_BURST", 100, 1, 1000000);
	config.cors_origins = getenv("CORS_ORIGINS");
	config.max_connections = env_int("MAX_CONNECTIONS", 10000, 16, 1000000);
	/* RFC 8725: an HS256 key of at least 256 bits */
	if (secret == NULL || strlen(secret) < 32)
	{
		fprintf(stderr, "JWT_SECRET must be set to at least 32 bytes\n");
		return false;
	}
	config.jwt_secret = secret;
	return true;
}
