/*
 * sweeper.c: calls evently.expire_holds() every second, so lapsed holds and
 * offers are recorded, their seats offered to the waitlist, and the next in
 * line notified.  Correctness never waits for it (holds expire lazily).
 */
#include "shim.h"

#include <pthread.h>
#include <time.h>

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping = false;

static void *
sweep_forever(void *arg)
{
	pthread_mutex_lock(&lock);
	while (!stopping)
	{
		struct timespec next;
		SqlResult	r;

		clock_gettime(CLOCK_REALTIME, &next);
		next.tv_sec += 1;
		pthread_cond_timedwait(&wake, &lock, &next);
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);
		r = pool_query("expire_holds", "SELECT evently.expire_holds()", 0, NULL);
		if (!r.ok)
			log_event("warning", "expire_holds failed", r.message);
		sql_result_free(&r);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

void
sweeper_start(void)
{
	pthread_create(&thread, NULL, sweep_forever, NULL);
}

void
sweeper_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
}
