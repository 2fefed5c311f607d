/*
 * bridge.c: evently-bridge, the outbox relay to Kafka.
 *
 * It takes the leader lock (evently.bridge_lead(): a session advisory lock,
 * so a second bridge is a standby until the first one's session ends), then
 * loops: fetch the oldest unpublished outbox rows in id order
 * (evently.outbox_batch), produce each to <prefix><aggregate> with the
 * idempotent producer (acks=all) keyed by event id, wait for every delivery
 * report of the batch, and mark published exactly the rows Kafka
 * acknowledged (evently.outbox_published).  A batch is never fetched while
 * another is in flight, so no id cursor is needed: a row that commits late
 * with a lower id is simply in the next batch, and a crash resends at most
 * the one unmarked batch (at-least-once; consumers de-duplicate by outbox id).
 *
 * Sharded (issue 15), each shard runs its own bridge: the leader lock is an
 * advisory lock, which PostgreSQL keys by database, so there is one leader
 * per shard, and an event's messages keep their order because the event
 * lives on one shard whose outbox one leader reads in id order.  Every
 * message carries the header evently-shard: the shard's evently.bucket,
 * read once per connection ("0" on one database).  Consumers de-duplicate
 * by outbox id, which is unique across shards only if each shard's outbox
 * identity starts at bucket << 48 (evently.configure_shard): a row outside
 * its shard's range is published all the same, with a warning.
 *
 * It sleeps on LISTEN evently_outbox.  Only one of several concurrent
 * writers sends the NOTIFY (see evently._outbox_wakeup), so after a wake-up
 * it drains until empty and looks again REPOLL_MS later; without any
 * wake-up it looks every IDLE_POLL_MS.  Kafka being down only makes it wait
 * (messages never time out); PostgreSQL being down makes it reconnect.
 */
#include "kafka.h"

#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANNEL			"evently_outbox"
#define IDLE_POLL_MS	2000	/* the longest a missed NOTIFY can delay a row */
#define REPOLL_MS		10		/* writers that skipped the NOTIFY commit right after */
#define STANDBY_MS		2000	/* how often a standby asks for the lead */
#define PRUNE_EVERY_MS	60000
#define STOP_GRACE_MS	10000	/* on SIGTERM, how long unacknowledged messages may take */

static struct
{
	const char *database_url;
	const char *brokers;
	const char *prefix;
	const char *retention;
	int			batch_size;
	char		shard[8];		/* evently.bucket of the connected database: the header */
	int64_t		bucket;
	bool		range_warned;	/* said once per connection that ids are not ranged */
} settings;

/* The batch in flight; the delivery callback fills it. */
static struct
{
	int64_t    *acked;
	int			n_acked;
	int			pending;
	int			failed;
	const char *first_error;
} batch;

static bool producer_broken = false;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque)
{
	batch.pending--;
	if (message->err)
	{
		batch.failed++;
		if (!batch.first_error)
			batch.first_error = rd_kafka_err2str(message->err);
	}
	else if (batch.acked)		/* NULL: a batch given up on (SIGTERM, broken producer) */
		batch.acked[batch.n_acked++] = (int64_t) (intptr_t) message->_private;
}

static void
on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	/* a fatal idempotence error ends this producer; a new one resends */
	if (err == RD_KAFKA_RESP_ERR__FATAL)
		producer_broken = true;
	/* connection failures are already in librdkafka's own log lines */
	if (err != RD_KAFKA_RESP_ERR__TRANSPORT)
		log_event(err == RD_KAFKA_RESP_ERR__FATAL ? "error" : "warning", "Kafka", reason);
}

/*
 * Learn the topics' partitions up front: otherwise the first message to
 * each topic waits for a metadata round of its own (about a second).  Best
 * effort: with Kafka down this costs at most 2 s per topic, and producing
 * works without it.
 */
static void
warm_up_topics(rd_kafka_t *rk)
{
	for (int i = 0; i < EVENTLY_AGGREGATES; i++)
	{
		char		topic[256];
		rd_kafka_topic_t *handle;
		const struct rd_kafka_metadata *metadata;

		snprintf(topic, sizeof(topic), "%s%s", settings.prefix, evently_aggregates[i]);
		handle = rd_kafka_topic_new(rk, topic, NULL);
		if (handle && rd_kafka_metadata(rk, 0, handle, &metadata, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR)
			rd_kafka_metadata_destroy(metadata);
		if (handle)
			rd_kafka_topic_destroy(handle);
	}
}

static rd_kafka_t *
make_producer(void)
{
	rd_kafka_conf_t *conf = kafka_conf(settings.brokers);
	char		error[512];
	rd_kafka_t *rk;

	kafka_set(conf, "enable.idempotence", "true");
	kafka_set(conf, "acks", "all");
	kafka_set(conf, "linger.ms", "1");
	kafka_set(conf, "batch.num.messages", "10000");
	kafka_set(conf, "queue.buffering.max.messages", "1000000");
	kafka_set(conf, "message.timeout.ms", "0");	/* wait for Kafka, never drop */
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_kafka_error);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
	if (rk == NULL)
	{
		log_event("error", "could not create the Kafka producer", error);
		exit(2);
	}
	producer_broken = false;
	warm_up_topics(rk);
	return rk;
}

static void
close_producer(rd_kafka_t *rk)
{
	rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(rk, 0);
	rd_kafka_destroy(rk);
}

/* One outbox row to Kafka; false if librdkafka refused it outright. */
static bool
produce_row(rd_kafka_t *rk, PGresult *rows, int i)
{
	const char *id = PQgetvalue(rows, i, 0);
	const char *type = PQgetvalue(rows, i, 1);
	const char *key = PQgetisnull(rows, i, 3) ? NULL : PQgetvalue(rows, i, 3);
	const char *value = PQgetvalue(rows, i, 4);
	char		topic[256];
	rd_kafka_resp_err_t err;

	snprintf(topic, sizeof(topic), "%s%s", settings.prefix, PQgetvalue(rows, i, 2));
	if (settings.bucket > 0 && (strtoll(id, NULL, 10) >> 48) != settings.bucket && !settings.range_warned)
	{
		log_event("warning", "outbox ids are not in this shard's range: a consumer de-duplicating by "
				  "outbox id may drop another shard's message with the same id",
				  "run SELECT evently.configure_shard(evently.bucket) on this shard");
		settings.range_warned = true;
	}
	do
	{
		err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
								RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
								RD_KAFKA_V_VALUE((void *) value, strlen(value)),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_HEADER("evently-outbox-id", id, -1),
								RD_KAFKA_V_HEADER("evently-type", type, -1),
								RD_KAFKA_V_HEADER("evently-shard", settings.shard, -1),
								RD_KAFKA_V_OPAQUE((void *) (intptr_t) strtoll(id, NULL, 10)),
								RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(rk, 100);
	} while (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_requested);
	if (err)
	{
		log_event("error", "Kafka refused a message", rd_kafka_err2str(err));
		return false;
	}
	batch.pending++;
	return true;
}

/* Serve delivery reports until the batch is acknowledged (or we must stop). */
static void
await_deliveries(rd_kafka_t *rk)
{
	double		started = monotonic_ms();
	double		give_up_at = 0;
	double		next_complaint = started + 10000;

	while (batch.pending > 0 && !producer_broken)
	{
		rd_kafka_poll(rk, 100);
		if (stop_requested && give_up_at == 0)
			give_up_at = monotonic_ms() + STOP_GRACE_MS;
		if (give_up_at && monotonic_ms() > give_up_at)
			break;
		if (monotonic_ms() > next_complaint)
		{
			log_event("warning", "waiting for Kafka to acknowledge the batch", settings.brokers);
			next_complaint += 10000;
		}
	}
}

/* Mark the acknowledged rows published; false if PostgreSQL failed us. */
static bool
mark_published(PGconn *pg)
{
	char	   *ids = malloc((size_t) batch.n_acked * 21 + 3);
	size_t		len = 0;
	const char *params[1] = {ids};
	PGresult   *res;
	bool		ok;

	ids[len++] = '{';
	for (int i = 0; i < batch.n_acked; i++)
		len += sprintf(ids + len, i ? ",%" PRId64 : "%" PRId64, batch.acked[i]);
	strcpy(ids + len, "}");
	res = PQexecParams(pg, "SELECT evently.outbox_published($1::bigint[])", 1, NULL, params,
					   NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		log_event("error", "could not mark rows published", PQerrorMessage(pg));
	PQclear(res);
	free(ids);
	return ok;
}

/* One line per batch; the phases say where its time went. */
static void
log_batch(PGresult *rows, double started, double read, double acked)
{
	int			n = PQntuples(rows);
	double		now = monotonic_ms();
	json_t	   *line = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:f, s:f, s:f, s:f}",
								 "level", "info", "message", "published", "rows", n,
								 "acked", batch.n_acked, "failed", batch.failed,
								 "first_id", PQgetvalue(rows, 0, 0),
								 "last_id", PQgetvalue(rows, n - 1, 0), "ms", now - started,
								 "read_ms", read - started, "kafka_ms", acked - read,
								 "mark_ms", now - acked);
	char	   *text;

	if (batch.first_error)
		json_object_set_new(line, "error", json_string(batch.first_error));
	text = json_dumps(line, JSON_COMPACT);
	fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

/* Publish one batch: how many rows it held, or -1 if PostgreSQL failed. */
static int
publish_batch(PGconn *pg, rd_kafka_t *rk)
{
	char		limit[16];
	const char *params[1] = {limit};
	double		started = monotonic_ms();
	double		read,
				acked;
	PGresult   *rows;
	int			n;
	bool		ok = true;

	snprintf(limit, sizeof(limit), "%d", settings.batch_size);
	rows = PQexecParams(pg, "SELECT id, type, aggregate, key, value FROM evently.outbox_batch($1)",
						1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(rows) != PGRES_TUPLES_OK)
	{
		log_event("error", "could not read the outbox", PQerrorMessage(pg));
		PQclear(rows);
		return -1;
	}
	n = PQntuples(rows);
	read = monotonic_ms();
	if (n > 0)
	{
		batch.acked = malloc(sizeof(int64_t) * n);
		batch.n_acked = batch.pending = batch.failed = 0;
		batch.first_error = NULL;
		for (int i = 0; i < n && !stop_requested; i++)
			if (!produce_row(rk, rows, i))
				batch.failed++;
		await_deliveries(rk);
		acked = monotonic_ms();
		if (batch.n_acked > 0)
			ok = mark_published(pg);
		log_batch(rows, started, read, acked);
		free(batch.acked);
		batch.acked = NULL;
		if (batch.failed > 0)
			sleep_ms(1000);		/* the unacknowledged rows are the next batch */
	}
	PQclear(rows);
	return ok ? n : -1;
}

/* Sleep until a NOTIFY arrives (true) or ms pass (false), serving Kafka. */
static bool
wait_for_wakeup(PGconn *pg, rd_kafka_t *rk, int ms)
{
	double		until = monotonic_ms() + ms;

	while (!stop_requested)
	{
		struct pollfd socket = {PQsocket(pg), POLLIN, 0};
		bool		woke = false;
		PGnotify   *notify;
		double		left;

		while ((notify = PQnotifies(pg)) != NULL)
		{
			woke = true;
			PQfreemem(notify);
		}
		if (woke)
			return true;
		left = until - monotonic_ms();
		if (left <= 0)
			return false;
		rd_kafka_poll(rk, 0);
		if (poll(&socket, 1, left > 100 ? 100 : (int) left) > 0 && !PQconsumeInput(pg))
			return false;		/* the connection is gone; the main loop reconnects */
	}
	return false;
}

static bool
query_true(PGconn *pg, const char *sql)
{
	PGresult   *res = PQexec(pg, sql);
	bool		yes = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return yes;
}

/*
 * The shard this connection publishes for: evently.bucket, unset or empty
 * meaning 0 (one database).  False when it is not a bucket (0..32767): the
 * messages would carry a header no consumer can trust.
 */
static bool
read_shard(PGconn *pg)
{
	PGresult   *res = PQexec(pg, "SELECT coalesce(nullif(current_setting('evently.bucket', true), ''), '0')");
	const char *value = PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : NULL;
	char	   *end = NULL;
	long		bucket = value ? strtol(value, &end, 10) : -1;
	bool		ok = value && *value && *end == '\0' && bucket >= 0 && bucket <= 32767;

	if (value == NULL)
		log_event("error", "could not read evently.bucket", PQerrorMessage(pg));
	else if (!ok)
		log_event("error", "evently.bucket is not a bucket (0..32767)", value);
	else
	{
		settings.bucket = bucket;
		snprintf(settings.shard, sizeof(settings.shard), "%ld", bucket);
		settings.range_warned = false;
		log_event("info", "the messages' evently-shard header (evently.bucket)", settings.shard);
	}
	PQclear(res);
	return ok;
}

static void
prune(PGconn *pg)
{
	const char *params[1] = {settings.retention};
	PGresult   *res = PQexecParams(pg, "SELECT evently.outbox_prune($1::interval)", 1, NULL,
								   params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		log_event("warning", "could not prune the outbox", PQerrorMessage(pg));
	else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		log_event("info", "pruned published outbox rows", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
read_settings(void)
{
	settings.database_url = env_or("DATABASE_URL", "dbname=evently");
	settings.brokers = env_or("KAFKA_BROKERS", NULL);
	settings.prefix = kafka_topic_prefix();
	settings.retention = env_or("OUTBOX_RETENTION", "7 days");
	settings.batch_size = atoi(env_or("BRIDGE_BATCH_SIZE", "5000"));
	if (settings.brokers == NULL || settings.batch_size < 1)
	{
		log_event("error", "KAFKA_BROKERS must be set and BRIDGE_BATCH_SIZE positive",
				  "make run starts a local broker and sets KAFKA_BROKERS");
		exit(2);
	}
}

int
main(void)
{
	PGconn	   *pg = NULL;
	rd_kafka_t *rk;
	bool		leading = false;
	bool		woke = false;
	double		next_prune = 0;

	read_settings();
	stop_on_signals();
	rk = make_producer();
	log_event("info", "evently-bridge started", settings.brokers);
	while (!stop_requested)
	{
		int			rows;

		if (pg_connection_lost(pg))
		{
			if (pg)
				log_event("warning", "lost PostgreSQL, reconnecting", PQerrorMessage(pg));
			PQfinish(pg);
			leading = false;
			if ((pg = pg_connect_retrying(settings.database_url, CHANNEL)) == NULL)
				break;
			if (!read_shard(pg))
			{
				PQfinish(pg);
				pg = NULL;
				sleep_ms(STANDBY_MS);
				continue;
			}
		}
		if (!leading)
		{
			if (!(leading = query_true(pg, "SELECT evently.bridge_lead()")))
			{
				wait_for_wakeup(pg, rk, STANDBY_MS);
				continue;
			}
			log_event("info", "leading: publishing the outbox", NULL);
		}
		if (producer_broken)
		{
			close_producer(rk);
			rk = make_producer();
		}
		if ((rows = publish_batch(pg, rk)) < 0)
		{
			if (!pg_connection_lost(pg))
				sleep_ms(1000);
			continue;
		}
		if (rows == settings.batch_size)
			continue;			/* a backlog: keep draining */
		if (monotonic_ms() >= next_prune)
		{
			prune(pg);
			next_prune = monotonic_ms() + PRUNE_EVERY_MS;
		}
		woke = wait_for_wakeup(pg, rk, rows > 0 || woke ? REPOLL_MS : IDLE_POLL_MS);
	}
	close_producer(rk);
	PQfinish(pg);
	log_event("info", "evently-bridge stopped", NULL);
	return 0;
}
