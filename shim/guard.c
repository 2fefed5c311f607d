/*
 * guard.c: the gateway's defences against abusive connections (SPEC
 * section 8).
 *
 * - One client address holds at most MAX_CONNECTIONS_PER_ADDRESS
 *   connections (libmicrohttpd refuses the next ones), so one client cannot
 *   take every slot.
 * - A connection must bring a complete request head within
 *   REQUEST_HEAD_TIMEOUT seconds of opening, or of its last answer, and then
 *   its whole body within REQUEST_BODY_TIMEOUT seconds: libmicrohttpd's own
 *   timeout counts idle time, so a client trickling one header line or one
 *   byte of body at a time would keep a slot forever.  A watchdog thread
 *   shuts down (shutdown(2)) the socket of a connection over its deadline;
 *   libmicrohttpd then sees the end of the stream and closes it.  The
 *   watchdog and libmicrohttpd's close notification share a lock, and
 *   libmicrohttpd notifies before it closes the descriptor, so the watchdog
 *   never touches a descriptor that was closed and reused.
 * - A busy gateway is not a slow client.  Each libmicrohttpd thread serves
 *   its connections one request at a time, so under load a request may
 *   wait, whole but unread, in the kernel for longer than the deadline
 *   (the GA flash sale benchmark: 256 clients over 8 threads, p99 ~10 s).
 *   A connection with bytes the gateway has not read yet (FIONREAD) is
 *   therefore not cut: the delay is ours.  And a request is run only if
 *   its connection was not cut by the time it is whole (the check and the
 *   ANSWERING stage are taken under the watchdog's lock): a request that
 *   libmicrohttpd read just before a cut is dropped unrun, never run with
 *   its answer lost -- a lost answer to a POST without an Idempotency-Key
 *   makes the client's retry a second hold.
 * - A request head whose framing is ambiguous (Content-Length with
 *   Transfer-Encoding, two of either, a Transfer-Encoding other than
 *   chunked, a header name that is not a token: the stuff of request
 *   smuggling, RFC 9112 sections 5.1, 5.2 and 6.3) is refused with 400, and
 *   the connection closed.
 */
#include "shim.h"
#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef enum Stage
{
	AWAITING_HEAD,				/* since it opened, or answered last */
	AWAITING_BODY,				/* since its head came */
	ANSWERING					/* its request is whole: no deadline of ours */
} Stage;

typedef struct Watched
{
	struct Watched *prev,
			   *next;
	MHD_socket	fd;
	Stage		stage;
	bool		cut;
	double		since;			/* the stage's start (CLOCK_MONOTONIC seconds) */
} Watched;

static pthread_mutex_t watched_lock = PTHREAD_MUTEX_INITIALIZER;
static Watched *watched;
static pthread_t watchdog_thread;
static volatile bool watchdog_running;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* libmicrohttpd's connection notification: start or stop watching it. */
void
guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
					enum MHD_ConnectionNotificationCode code)
{
	Watched    *w = *socket_context;

	pthread_mutex_lock(&watched_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
	{
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		w = calloc(1, sizeof(Watched));
		w->fd = info ? info->connect_fd : MHD_INVALID_SOCKET;
		w->since = now_seconds();
		w->next = watched;
		if (watched)
			watched->prev = w;
		watched = w;
		*socket_context = w;
	}
	else if (w)
	{
		if (w->prev)
			w->prev->next = w->next;
		else
			watched = w->next;
		if (w->next)
			w->next->prev = w->prev;
		free(w);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&watched_lock);
}

static Watched *
watched_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* Move the connection to a stage; false (and no move) if it was cut. */
static bool
enter_stage(struct MHD_Connection *conn, Stage stage)
{
	Watched    *w = watched_of(conn);
	bool		cut = false;

	pthread_mutex_lock(&watched_lock);
	if (w)
	{
		cut = w->cut;
		if (!cut)
		{
			w->stage = stage;
			w->since = now_seconds();
		}
	}
	pthread_mutex_unlock(&watched_lock);
	return !cut;
}

/* The request's head is complete (the access handler's first call). */
void
guard_head_arrived(struct MHD_Connection *conn)
{
	(void) enter_stage(conn, AWAITING_BODY);
}

/*
 * The request's body is complete (the access handler's last call): true if
 * it may be run, false if the watchdog cut its connection first (drop it).
 * From here until it is answered, the watchdog leaves the connection alone.
 */
bool
guard_body_arrived(struct MHD_Connection *conn)
{
	return enter_stage(conn, ANSWERING);
}

/* The request was answered: the next head's deadline starts now. */
void
guard_request_done(struct MHD_Connection *conn)
{
	enter_stage(conn, AWAITING_HEAD);
}

static void *
watchdog(void *arg)
{
	while (watchdog_running)
	{
		double		now = now_seconds();

		pthread_mutex_lock(&watched_lock);
		for (Watched *w = watched; w; w = w->next)
		{
			double		limit = w->stage == AWAITING_HEAD ? config.head_timeout_s
				: w->stage == AWAITING_BODY ? config.body_timeout_s : -1;

			int			unread = 0;

			/* bytes waiting for us to read them: the gateway is behind, not the client */
			if (limit >= 0 && !w->cut && w->since < now - limit && w->fd != MHD_INVALID_SOCKET
				&& !(ioctl(w->fd, FIONREAD, &unread) == 0 && unread > 0))
			{
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
			}
		}
		pthread_mutex_unlock(&watched_lock);
		usleep(250 * 1000);		/* a deadline is kept to a quarter of a second */
	}
	return NULL;
}

void
guard_start(void)
{
	watchdog_running = true;
	pthread_create(&watchdog_thread, NULL, watchdog, NULL);
}

void
guard_stop(void)
{
	watchdog_running = false;
	pthread_join(watchdog_thread, NULL);
}

typedef struct Framing
{
	int			content_lengths;
	int			transfer_encodings;
	bool		odd;			/* a Transfer-Encoding but chunked, or a name that is no token */
} Framing;

/*
 * Is this a header name as RFC 9110 (5.1, 5.6.2) allows: a token?  A line
 * folded into the previous one (obs-fold), white space, CR or VT before the
 * colon each leave libmicrohttpd a name that is not; and one that only
 * starts with a framing header's name ("Transfer-Encodingchunked") is how a
 * fold can hide one.  A proxy in front might read any of them otherwise.
 */
static bool
plain_header_name(const char *key)
{
	size_t		n = strlen(key);

	if (n == 0 || strspn(key, "!#$%&'*+-.^_`|~0123456789"
						 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != n)
		return false;
	return !((n > 17 && strncasecmp(key, "Transfer-Encoding", 17) == 0) ||
			 (n > 14 && strncasecmp(key, "Content-Length", 14) == 0));
}

static enum MHD_Result
check_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	Framing    *f = cls;

	if (strcasecmp(key, "Content-Length") == 0)
		f->content_lengths++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
	{
		f->transfer_encodings++;
		f->odd |= value == NULL || strcasecmp(value, "chunked") != 0;
	}
	f->odd |= !plain_header_name(key);
	return MHD_YES;
}

/* Is the request's framing ambiguous (RFC 9112 sections 5.1 and 6.3)? */
bool
guard_ambiguous_framing(struct MHD_Connection *conn)
{
	Framing		f = {0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, check_header, &f);
	return f.odd || f.content_lengths > 1 || f.transfer_encodings > 1
		|| (f.content_lengths > 0 && f.transfer_encodings > 0);
}
