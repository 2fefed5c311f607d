/*
 * guard.h: the gateway's defences against abusive connections (guard.c),
 * for main.c, which owns the libmicrohttpd daemon.
 */
#ifndef EVENTLY_GUARD_H
#define EVENTLY_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>

void		guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
								enum MHD_ConnectionNotificationCode code);
void		guard_head_arrived(struct MHD_Connection *conn);
bool		guard_body_arrived(struct MHD_Connection *conn);
void		guard_request_done(struct MHD_Connection *conn);
bool		guard_ambiguous_framing(struct MHD_Connection *conn);
void		guard_start(void);
void		guard_stop(void);

#endif
