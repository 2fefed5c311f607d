/*
 * actors.c: who an engine call acts as (SPEC section 8).
 *
 * The engine's SQL entry points take the acting user as an argument.  A
 * trusted caller (the gateway, a superuser) names it; any other role acts as
 * the evently user linked to it and may not name another
 * (evently._as_caller, 04_security.sql).  Either way the user must exist and
 * be ACTIVE: a banned user holds, confirms and cancels nothing.
 */
#include "evently.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"

/*
 * evently._trusted_caller(): the session's login role is a superuser or a
 * member of evently_gateway.  Both answers come from PostgreSQL's own
 * caches of roles and memberships (invalidated when either changes), so
 * the engine asks per call without running a statement.
 */
static bool
trusted_caller(void)
{
	Oid			session = GetSessionUserId();
	Oid			gateway;

	if (superuser_arg(session))
		return true;
	gateway = get_role_oid("evently_gateway", true);
	return OidIsValid(gateway) && is_member_of_role(session, gateway);
}

PG_FUNCTION_INFO_V1(evently_trusted_caller);
Datum
evently_trusted_caller(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(trusted_caller());
}

/*
 * The user a call acts as, before its status is checked: the asserted one
 * for a trusted caller, else evently._as_caller's answer (the linked user).
 */
pg_uuid_t *
resolve_actor(pg_uuid_t *asserted)
{
	static SqlStmt as_caller = SQL_STMT("SELECT evently._as_caller($1)", 1, UUIDOID);
	pg_uuid_t  *user_id = asserted;
	Datum		arg;

	/*
	 * a database still at 1.0 has no linked roles: the argument is the user;
	 * so it is for a trusted caller (evently._as_caller)
	 */
	if (sql_is_1_1() && !trusted_caller())
	{
		arg = asserted ? UUIDPGetDatum(asserted) : (Datum) 0;
		stmt_run(&as_caller, &arg, asserted ? " " : "n", SPI_OK_SELECT);
		user_id = result_uuid(0, 1);
	}
	require_arg(user_id, "user_id");
	return user_id;
}

/* NOT_FOUND for no such user (status NULL), FORBIDDEN unless ACTIVE */
void
check_actor_status(pg_uuid_t *user_id, const char *status)
{
	if (status == NULL)
		ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("user not found"),
				errdetail("User %s does not exist.", uuid_text(user_id)));
	if (strcmp(status, "ACTIVE") != 0)
		ereport(ERROR, errcode(EV_FORBIDDEN), errmsg("user is banned"),
				errdetail("User %s may not hold, book or cancel.", uuid_text(user_id)));
}

/*
 * resolve_actor, then its status read and checked.  hold_seats and
 * confirm_booking read the status with their first statement instead.
 */
pg_uuid_t *
acting_user(pg_uuid_t *asserted)
{
	pg_uuid_t  *user_id = resolve_actor(asserted);

	check_actor(user_id);
	return user_id;
}

/* check_actor_status with the status read now */
void
check_actor(pg_uuid_t *user_id)
{
	static SqlStmt status = SQL_STMT("SELECT status FROM evently.users WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(user_id);

	check_actor_status(user_id, stmt_run(&status, &arg, NULL, SPI_OK_SELECT) == 1 ? result_text(0, 1) : NULL);
}

/* Is the user there and ACTIVE?  A banned user is offered no seats either. */
bool
user_is_active(pg_uuid_t *user_id)
{
	static SqlStmt q = SQL_STMT("SELECT status = 'ACTIVE' FROM evently.users WHERE id = $1", 1, UUIDOID);
	Datum		arg = UUIDPGetDatum(user_id);

	return stmt_run(&q, &arg, NULL, SPI_OK_SELECT) == 1 && result_bool(0, 1);
}

/*
 * What = "hold", "booking", ...: it does not exist, or it is another user's;
 * a caller cannot tell which (OWASP API1: no hint that someone else's id is
 * real), so a write answers as a read does.
 */
void
report_not_found(const char *what, pg_uuid_t *id)
{
	ereport(ERROR, errcode(EV_NOT_FOUND), errmsg("%s not found", what),
			errdetail("No %s has id %s.", what, uuid_text(id)));
}
