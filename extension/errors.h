/*
 * errors.h: the extension's SQLSTATEs as ereport() error codes.
 *
 * The codes themselves live in error_codes.def so that the shim maps the very
 * same table onto HTTP statuses.
 */
#ifndef EVENTLY_ERRORS_H
#define EVENTLY_ERRORS_H

#include "utils/elog.h"

enum EventlyErrorCode
{
#define EVENTLY_ERROR(sym, c1, c2, c3, c4, c5, http, code) \
	EV_##sym = MAKE_SQLSTATE(c1, c2, c3, c4, c5),
#include "error_codes.def"
#undef EVENTLY_ERROR
};

#endif
