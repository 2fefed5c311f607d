/*
 * auth.c: the authentication step.  A route's auth rule says whether it
 * needs a token; when it does, the Authorization header must carry a valid
 * access token (tokens.c checks signature, algorithm, issuer, expiry and
 * type), and the token's user is the actor of the SQL call -- never a field
 * of the body.  A public route has no actor even when a token is sent, so
 * nothing served publicly can act as anyone.  An optional-token route (an
 * event read, which shows a draft to its organizer) is public without a
 * token and takes the actor of a valid one; an invalid one is refused, as
 * anywhere else.
 */
#include "shim.h"

#include <string.h>

/* Who is calling: fills *claims, or returns false with the 401/403 to send. */
bool
authenticate(const Route *route, const char *header, Claims *claims, Reply *refusal)
{
	const char *why;

	memset(claims, 0, sizeof(*claims));
	if (route->auth == AUTH_PUBLIC || (route->auth == AUTH_OPTIONAL && header == NULL))
		return true;
	if (header == NULL)
		*refusal = reply_error(401, "UNAUTHENTICATED", "Authorization header is required", NULL, NULL);
	else if (strncmp(header, "Bearer ", 7) != 0 || header[7] == '\0' || strchr(header + 7, ' '))
		*refusal = reply_error(401, "UNAUTHENTICATED",
							   "authorization header format must be Bearer {token}", NULL, NULL);
	else if (!token_verify(header + 7, "access", claims, &why))
		*refusal = reply_error(401, "UNAUTHENTICATED", why, NULL, NULL);
	else if (route->auth == AUTH_ADMIN && strcmp(claims->role, "ADMIN") != 0)
		*refusal = reply_error(403, "FORBIDDEN", "Insufficient permissions", NULL, NULL);
	else
		return true;
	return false;
}

/* The acting user once authenticate() let the request through; NULL on a public route. */
const char *
actor_of(const Claims *claims)
{
	return claims->user_id[0] ? claims->user_id : NULL;
}
