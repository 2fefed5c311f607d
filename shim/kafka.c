/*
 * kafka.c: the plumbing evently-bridge, evently-notify and evently-broker
 * share.  Each of them runs until SIGTERM or SIGINT and survives PostgreSQL
 * restarts: connections are retried with exponential backoff (0.1 s to 5 s).
 */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t stop_requested = 0;

/* the aggregates of SPEC section 5, one topic each */
const char *const evently_aggregates[EVENTLY_AGGREGATES] = {"hold", "booking", "waitlist", "event", "organizer", "user", "tier",
	"order", "payment", "refund", "discount", "ticket", "checkin"};

const char *
env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value && *value ? value : fallback;
}

const char *
kafka_topic_prefix(void)
{
	return env_or("KAFKA_TOPIC_PREFIX", "evently.");
}

static void
request_stop(int signo)
{
	stop_requested = 1;
}

void
stop_on_signals(void)
{
	struct sigaction action = {.sa_handler = request_stop};

	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	signal(SIGPIPE, SIG_IGN);
}

double
monotonic_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

void
sleep_ms(int ms)
{
	struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&pause, NULL);
}

bool
pg_connection_lost(PGconn *conn)
{
	return conn == NULL || PQstatus(conn) != CONNECTION_OK;
}

PGconn *
pg_connect_retrying(const char *url, const char *channel)
{
	int			backoff_ms = 100;

	while (!stop_requested)
	{
		PGconn	   *conn = PQconnectdb(url);
		PGresult   *res = NULL;

		if (PQstatus(conn) == CONNECTION_OK && channel)
		{
			char	   *quoted = PQescapeIdentifier(conn, channel, strlen(channel));
			char		listen[256];

			snprintf(listen, sizeof(listen), "LISTEN %s", quoted);
			PQfreemem(quoted);
			res = PQexec(conn, listen);
		}
		if (PQstatus(conn) == CONNECTION_OK && (!channel || PQresultStatus(res) == PGRES_COMMAND_OK))
		{
			PQclear(res);
			log_event("info", "connected to PostgreSQL", NULL);
			return conn;
		}
		log_event("warning", "PostgreSQL unreachable, retrying", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		sleep_ms(backoff_ms);
		backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
	}
	return NULL;
}

static void
kafka_log(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
	log_event(level <= 3 ? "error" : level <= 5 ? "warning" : "info", message, facility);
}

void
kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char		error[256];

	if (rd_kafka_conf_set(conf, name, value, error, sizeof(error)) != RD_KAFKA_CONF_OK)
	{
		log_event("error", "bad Kafka setting", error);
		exit(2);
	}
}

rd_kafka_conf_t *
kafka_conf(const char *brokers)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (brokers)
		kafka_set(conf, "bootstrap.servers", brokers);
	kafka_set(conf, "reconnect.backoff.ms", "100");
	kafka_set(conf, "reconnect.backoff.max.ms", "5000");
	rd_kafka_conf_set_log_cb(conf, kafka_log);
	return conf;
}
