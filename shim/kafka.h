/*
 * kafka.h: what evently-bridge, evently-notify and evently-broker share --
 * environment, stop signals, PostgreSQL connections that come back by
 * themselves, and librdkafka configuration.
 */
#ifndef EVENTLY_KAFKA_H
#define EVENTLY_KAFKA_H

#include "shim.h"

#include <librdkafka/rdkafka.h>
#include <signal.h>

extern volatile sig_atomic_t stop_requested;

const char *env_or(const char *name, const char *fallback);
void		stop_on_signals(void);
double		monotonic_ms(void);
void		sleep_ms(int ms);

/* Connect (and LISTEN, when channel is set), retrying with backoff until it
 * works or a stop is requested; NULL only on stop. */
PGconn	   *pg_connect_retrying(const char *url, const char *channel);
bool		pg_connection_lost(PGconn *conn);

/* A configuration with bootstrap.servers set and librdkafka's logs routed to
 * ours; set_or_die for the rest. */
rd_kafka_conf_t *kafka_conf(const char *brokers);

/* The topics are KAFKA_TOPIC_PREFIX (default "evently.") + each aggregate. */
#define EVENTLY_AGGREGATES 13
extern const char *const evently_aggregates[EVENTLY_AGGREGATES];
const char *kafka_topic_prefix(void);
void		kafka_set(rd_kafka_conf_t *conf, const char *name, const char *value);

#endif
