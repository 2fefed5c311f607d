/*
 * guard.c: the gateway's defences against abusive connections (SPEC
 * section 8).
 *
 * - One client address holds at most MAX_CONNECTIONS_PER_ADDRESS
 *   connections (libmicrohttpd refuses the next ones), so one client cannot
 *   take every slot.
 * - A connection must bring a complete request head within
 *   REQUEST_HEAD_TIMEOUT seconds of opening, or of its last answer:
 *   libmicrohttpd's own timeout counts idle time, so a client trickling one
 *   header line at a time would keep a slot forever.  A watchdog thread
 *   shuts down (shutdown(2)) the socket of a connection over its deadline;
 *   libmicrohttpd then sees the end of the stream and closes it.  The
 *   watchdog and libmicrohttpd's close notification share a lock, and
 *   libmicrohttpd notifies before it closes the descriptor, so the watchdog
 *   never touches a descriptor that was closed and reused.
 * - A request head whose framing is ambiguous (Content-Length with
 *   Transfer-Encoding, or two Content-Lengths: the stuff of request
 *   smuggling) is refused with 400, and the connection closed.
 */
#include "shim.h"
#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct Watched
{
	struct Watched *prev,
			   *next;
	MHD_socket	fd;
	bool		in_request;		/* its head has come; its answer has not gone yet */
	bool		cut;
	double		waiting_since;	/* when it opened, or answered last (CLOCK_MONOTONIC seconds) */
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
		w->waiting_since = now_seconds();
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

/* The request's head is complete (the access handler's first call). */
void
guard_head_arrived(struct MHD_Connection *conn)
{
	Watched    *w = watched_of(conn);

	pthread_mutex_lock(&watched_lock);
	if (w)
		w->in_request = true;
	pthread_mutex_unlock(&watched_lock);
}

/* The request was answered: the next head's deadline starts now. */
void
guard_request_done(struct MHD_Connection *conn)
{
	Watched    *w = watched_of(conn);

	pthread_mutex_lock(&watched_lock);
	if (w)
	{
		w->in_request = false;
		w->waiting_since = now_seconds();
	}
	pthread_mutex_unlock(&watched_lock);
}

static void *
watchdog(void *arg)
{
	while (watchdog_running)
	{
		double		deadline = now_seconds() - config.head_timeout_s;

		pthread_mutex_lock(&watched_lock);
		for (Watched *w = watched; w; w = w->next)
			if (!w->in_request && !w->cut && w->waiting_since < deadline && w->fd != MHD_INVALID_SOCKET)
			{
				shutdown(w->fd, SHUT_RDWR);
				w->cut = true;
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

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	int		   *counts = cls;

	if (strcasecmp(key, "Content-Length") == 0)
		counts[0]++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		counts[1]++;
	return MHD_YES;
}

/* Is the request's framing ambiguous (RFC 9112 section 6.3)? */
bool
guard_ambiguous_framing(struct MHD_Connection *conn)
{
	int			counts[2] = {0, 0};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, counts);
	return counts[0] > 1 || counts[1] > 1 || (counts[0] > 0 && counts[1] > 0);
}
