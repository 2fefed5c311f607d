/*
 * broker.c: evently-broker, a local Kafka-protocol broker for development and
 * tests, built on librdkafka's mock cluster (rdkafka_mock.h).  It speaks the
 * real protocol on a loopback port, keeps messages in memory, and creates a
 * topic per aggregate (KAFKA_TOPIC_PREFIX + evently_aggregates in kafka.c:
 * hold, booking, ..., ticket, checkin; KAFKA_PARTITIONS each, 4 by default).
 * Production uses a real cluster.
 *
 * It prints its bootstrap address on stdout (and into BROKER_ADDRESS_FILE when
 * set).  SIGUSR1 takes the broker down (connections refused, clients retry),
 * SIGUSR2 brings it back with its data: how the fault tests stop Kafka.
 */
#include "kafka.h"

#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t wanted_up = 1;

static void
on_down(int signo)
{
	wanted_up = 0;
}

static void
on_up(int signo)
{
	wanted_up = 1;
}

static void
publish_address(const char *address)
{
	const char *file = getenv("BROKER_ADDRESS_FILE");

	printf("%s\n", address);
	fflush(stdout);
	if (file)
	{
		FILE	   *out = fopen(file, "w");

		if (out == NULL || fprintf(out, "%s\n", address) < 0 || fclose(out) != 0)
		{
			log_event("error", "could not write BROKER_ADDRESS_FILE", file);
			exit(2);
		}
	}
}

int
main(void)
{
	const char *prefix = kafka_topic_prefix();
	int			partitions = atoi(env_or("KAFKA_PARTITIONS", "4"));
	char		error[512];
	rd_kafka_conf_t *conf = kafka_conf(NULL);
	rd_kafka_t *handle;
	rd_kafka_mock_cluster_t *cluster;
	int			is_up = 1;

	/* the cluster's own handle connects nowhere: spare us its warning */
	kafka_set(conf, "log_level", "3");
	handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
	if (handle == NULL || (cluster = rd_kafka_mock_cluster_new(handle, 1)) == NULL)
	{
		log_event("error", "could not start the mock cluster", handle ? NULL : error);
		return 2;
	}
	for (int i = 0; i < EVENTLY_AGGREGATES; i++)
	{
		char		topic[256];

		snprintf(topic, sizeof(topic), "%s%s", prefix, evently_aggregates[i]);
		rd_kafka_mock_topic_create(cluster, topic, partitions > 0 ? partitions : 4, 1);
	}
	stop_on_signals();
	signal(SIGUSR1, on_down);
	signal(SIGUSR2, on_up);
	publish_address(rd_kafka_mock_cluster_bootstraps(cluster));
	log_event("info", "evently-broker listening", rd_kafka_mock_cluster_bootstraps(cluster));
	while (!stop_requested)
	{
		if (wanted_up != is_up)
		{
			is_up = wanted_up;
			if (is_up)
				rd_kafka_mock_broker_set_up(cluster, 1);
			else
				rd_kafka_mock_broker_set_down(cluster, 1);
			log_event("info", is_up ? "broker up" : "broker down", NULL);
		}
		sleep_ms(50);
	}
	rd_kafka_mock_cluster_destroy(cluster);
	rd_kafka_destroy(handle);
	return 0;
}
