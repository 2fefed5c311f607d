/*
 * tokens.c: JWTs through libjwt, per RFC 8725.
 *
 * HS256 only (the algorithm is checked after decoding, so "alg":"none" or
 * any other algorithm is refused), a secret of at least 32 bytes, and every
 * token carries iss, exp and type, all checked.  Access tokens live 15
 * minutes, refresh tokens 24 hours; a refresh token's jti is its row in
 * evently.refresh_tokens, which is how rotation and logout revoke it.  Both
 * carry the user's session epoch: the SQL side honours a token only while
 * the user's epoch is still that one (logout, a new password, a ban or a
 * role change move it), checked inside the request's own SQL call.
 */
#include "shim.h"

#include <errno.h>
#include <jwt.h>
#include <string.h>
#include <time.h>

#define ISSUER "evently"

char *
token_issue(const char *user_id, const char *email, const char *role, const char *type,
			const char *jti, long epoch, int ttl_seconds)
{
	jwt_t	   *jwt = NULL;
	time_t		now = time(NULL);
	char	   *token = NULL;

	if (jwt_new(&jwt) != 0)
		return NULL;
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *) config.jwt_secret,
					(int) strlen(config.jwt_secret)) == 0 &&
		jwt_add_grant(jwt, "iss", ISSUER) == 0 &&
		jwt_add_grant(jwt, "sub", user_id) == 0 &&
		jwt_add_grant(jwt, "user_id", user_id) == 0 &&
		jwt_add_grant(jwt, "email", email) == 0 &&
		jwt_add_grant(jwt, "role", role) == 0 &&
		jwt_add_grant(jwt, "type", type) == 0 &&
		(jti == NULL || jwt_add_grant(jwt, "jti", jti) == 0) &&
		jwt_add_grant_int(jwt, "epoch", epoch) == 0 &&
		jwt_add_grant_int(jwt, "iat", (long) now) == 0 &&
		jwt_add_grant_int(jwt, "exp", (long) now + ttl_seconds) == 0)
		token = jwt_encode_str(jwt);
	jwt_free(jwt);
	return token;
}

static void
copy_claim(jwt_t *jwt, const char *name, char *out, size_t size)
{
	const char *value = jwt_get_grant(jwt, name);

	snprintf(out, size, "%s", value ? value : "");
}

/* Verify a token of the expected type; on failure *why says which check failed. */
bool
token_verify(const char *token, const char *expected_type, Claims *claims, const char **why)
{
	jwt_t	   *jwt = NULL;
	bool		ok = false;

	memset(claims, 0, sizeof(*claims));
	if (jwt_decode(&jwt, token, (const unsigned char *) config.jwt_secret,
				   (int) strlen(config.jwt_secret)) != 0 || jwt == NULL)
		*why = "invalid or expired token";
	else if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		*why = "invalid or expired token";
	else if (jwt_get_grant(jwt, "iss") == NULL || strcmp(jwt_get_grant(jwt, "iss"), ISSUER) != 0)
		*why = "invalid or expired token";
	else if (jwt_get_grant_int(jwt, "exp") <= (long) time(NULL))
		*why = "invalid or expired token";
	else if (jwt_get_grant(jwt, "type") == NULL ||
			 strcmp(jwt_get_grant(jwt, "type"), expected_type) != 0)
		*why = "invalid token type";
	else
	{
		copy_claim(jwt, "user_id", claims->user_id, sizeof(claims->user_id));
		copy_claim(jwt, "email", claims->email, sizeof(claims->email));
		copy_claim(jwt, "role", claims->role, sizeof(claims->role));
		copy_claim(jwt, "jti", claims->jti, sizeof(claims->jti));
		errno = 0;
		claims->epoch = jwt_get_grant_int(jwt, "epoch");
		if (errno == ENOENT)
			claims->epoch = -1; /* a token from before epochs: its session is over */
		ok = claims->user_id[0] != '\0';
		if (!ok)
			*why = "invalid or expired token";
	}
	if (jwt)
		jwt_free(jwt);
	return ok;
}
