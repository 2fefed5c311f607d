/*
 * notify.c: evently-notify, the consumer that fills the users' inbox.
 *
 * It reads <prefix>booking, <prefix>waitlist, <prefix>event and
 * <prefix>organizer in consumer group evently-notify and hands every message
 * to evently.record_notification(), which writes the ones a user is told
 * about (a booking confirmed or cancelled, a waitlist offer, an organizer's
 * application decided, an event published or sent back) as rows of
 * evently.notifications, once per outbox id.  The message's offset
 * is committed only after that call succeeded, so a crash re-reads what was
 * not yet written and the unique outbox id absorbs what was: no row lost,
 * none doubled.  A message the database refuses as malformed is logged and
 * skipped; any other database failure retries the same message.
 */
#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_t *
make_consumer(const char *brokers, const char *prefix)
{
	rd_kafka_conf_t *conf = kafka_conf(brokers);
	static const char *const subscribed[] = {"booking", "waitlist", "event", "organizer"};
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
	char		error[512],
				topic[256];
	rd_kafka_t *rk;

	kafka_set(conf, "group.id", env_or("NOTIFY_GROUP", "evently-notify"));
	kafka_set(conf, "enable.auto.commit", "false");
	kafka_set(conf, "auto.offset.reset", "earliest");
	/* a crashed consumer's partitions come back after 6 s, not 45 */
	kafka_set(conf, "session.timeout.ms", "6000");
	kafka_set(conf, "heartbeat.interval.ms", "1000");
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
	if (rk == NULL)
	{
		log_event("error", "could not create the Kafka consumer", error);
		exit(2);
	}
	rd_kafka_poll_set_consumer(rk);
	for (int i = 0; i < 4; i++)
	{
		snprintf(topic, sizeof(topic), "%s%s", prefix, subscribed[i]);
		rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
	}
	if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		log_event("error", "could not subscribe", prefix);
		exit(2);
	}
	rd_kafka_topic_partition_list_destroy(topics);
	return rk;
}

typedef enum
{
	WRITTEN,					/* in the inbox now or before, or not for it */
	MALFORMED,					/* refused by the database: skip it */
	RETRY,						/* the database failed: try the same message again */
} Outcome;

static Outcome
record(PGconn *pg, const rd_kafka_message_t *message)
{
	char	   *value = strndup(message->payload ? message->payload : "", message->len);
	const char *params[1] = {value};
	PGresult   *res = PQexecParams(pg, "SELECT evently.record_notification($1::jsonb)", 1, NULL,
								   params, NULL, NULL, 0);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	Outcome		outcome = WRITTEN;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/* data exceptions and our own EV001: the message, not the database */
		bool		malformed = sqlstate && (strncmp(sqlstate, "22", 2) == 0 ||
											 strcmp(sqlstate, "EV001") == 0);

		outcome = malformed && !pg_connection_lost(pg) ? MALFORMED : RETRY;
		log_event(outcome == MALFORMED ? "warning" : "error",
				  outcome == MALFORMED ? "skipped a malformed message" : "could not write a notification",
				  PQerrorMessage(pg));
	}
	PQclear(res);
	free(value);
	return outcome;
}

int
main(void)
{
	const char *url = env_or("DATABASE_URL", "dbname=evently");
	const char *brokers = env_or("KAFKA_BROKERS", NULL);
	rd_kafka_t *rk;
	PGconn	   *pg = NULL;

	if (brokers == NULL)
	{
		log_event("error", "KAFKA_BROKERS must be set", NULL);
		return 2;
	}
	stop_on_signals();
	rk = make_consumer(brokers, kafka_topic_prefix());
	log_event("info", "evently-notify started", brokers);
	while (!stop_requested)
	{
		rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 200);
		Outcome		outcome = RETRY;

		if (message == NULL)
			continue;
		if (message->err)
		{
			if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				log_event("warning", "Kafka", rd_kafka_message_errstr(message));
			rd_kafka_message_destroy(message);
			continue;
		}
		while (outcome == RETRY && !stop_requested)
		{
			if (pg_connection_lost(pg))
			{
				PQfinish(pg);
				if ((pg = pg_connect_retrying(url, NULL)) == NULL)
					break;
			}
			if ((outcome = record(pg, message)) == RETRY)
				sleep_ms(500);
		}
		/* only now is the offset past this message */
		if (outcome != RETRY)
			rd_kafka_commit_message(rk, message, 1);
		rd_kafka_message_destroy(message);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	PQfinish(pg);
	log_event("info", "evently-notify stopped", NULL);
	return 0;
}
