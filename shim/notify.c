/*
 * notify.c: evently-notify, the consumer that fills the users' inbox and
 * sends their e-mail.
 *
 * It reads <prefix>booking, <prefix>waitlist, <prefix>event,
 * <prefix>organizer, <prefix>refund and <prefix>ticket in consumer group
 * evently-notify.  Each message goes, first, to
 * evently.record_notification(), which writes the ones a user is told about
 * (a booking confirmed or cancelled, a waitlist offer, an organizer's
 * application decided, an event published or sent back, a ticket
 * transferred ...) as rows of evently.notifications, once per outbox id and
 * user.  Then, when SMTP_URL is set, to evently.mail_pending(), which
 * answers the e-mails the message makes that mail_log does not have yet:
 * each is built with libcurl's MIME API and sent over SMTP as
 * multipart/mixed -- the text, and a PNG QR code per ticket code it
 * carries -- and recorded with evently.mail_sent() once the server took it.
 *
 * The message's offset is committed only after all that succeeded, so a
 * crash re-reads what was not finished: the unique (outbox id, user) absorbs
 * the inbox rows written, mail_log the mails recorded.  A mail sent but not
 * yet recorded when the process died is sent again: e-mail is at least
 * once, mail_log has it once.  A message the database refuses as malformed
 * is logged and skipped; a mail the server refuses for good (5xx) is logged
 * and not recorded; any other failure retries the same message.
 *
 * Sharded (issue 15), it reads every shard's messages (one bridge per
 * shard) and connects to the proxy database, whose record_notification,
 * mail_pending and mail_sent compose on the message's event's shard and
 * write the inbox and mail_log on the global primary (the same calls as on
 * one database: nothing here changes).  De-duplicating by outbox id is right
 * only because each shard's outbox ids start at its bucket << 48
 * (evently.configure_shard): the bucket is outbox_id >> 48, so a stored
 * row names its shard with no column of its own.  The log lines about a
 * message name its evently-shard header and outbox id; a message whose id
 * is outside its shard's range (that shard was not configured, and its ids
 * may collide with another's) is written as usual, with a warning once per
 * shard.
 */
#include "kafka.h"
#include "qr.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const subscribed[] = {"booking", "waitlist", "event", "organizer", "refund", "ticket"};
#define SUBSCRIBED (int) (sizeof(subscribed) / sizeof(subscribed[0]))

static rd_kafka_t *
make_consumer(const char *brokers, const char *prefix)
{
	rd_kafka_conf_t *conf = kafka_conf(brokers);
	rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(SUBSCRIBED);
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
	for (int i = 0; i < SUBSCRIBED; i++)
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

/* "evently-shard S, outbox N" of the message being handled, for the log */
static char origin[96];

/* A header's value as text in out ("?" when the message has none). */
static const char *
header(const rd_kafka_message_t *message, const char *name, char *out, size_t size)
{
	rd_kafka_headers_t *headers = NULL;
	const void *value = NULL;
	size_t		len = 0;

	if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
		rd_kafka_header_get_last(headers, name, &value, &len) != RD_KAFKA_RESP_ERR_NO_ERROR || value == NULL)
		return "?";
	snprintf(out, size, "%.*s", (int) len, (const char *) value);
	return out;
}

/* Note where the message comes from; warn (once per shard) if its id is not in its shard's range. */
static void
note_origin(const rd_kafka_message_t *message)
{
	static bool warned[32768];
	char		shard_text[32],
				id_text[32];
	const char *shard = header(message, "evently-shard", shard_text, sizeof(shard_text));
	const char *id = header(message, "evently-outbox-id", id_text, sizeof(id_text));
	long		bucket = strtol(shard, NULL, 10);

	snprintf(origin, sizeof(origin), "evently-shard %s, outbox %s", shard, id);
	if (bucket > 0 && bucket < 32768 && (strtoll(id, NULL, 10) >> 48) != bucket && !warned[bucket])
	{
		warned[bucket] = true;
		log_event("warning", "a shard's outbox ids are not in its range: its messages may be taken for "
				  "another shard's with the same id; run evently.configure_shard() there", origin);
	}
}

/* log_event with the message's origin before the detail */
static void
log_message_event(const char *level, const char *what, const char *detail)
{
	char		line[1024];

	snprintf(line, sizeof(line), "%s: %s", origin, detail);
	log_event(level, what, line);
}

typedef enum
{
	WRITTEN,					/* in the inbox (and mailed) now or before, or not for it */
	MALFORMED,					/* refused by the database: skip it */
	RETRY,						/* the database or the mail server failed: try the same message again */
} Outcome;

/* A failed statement: the message's fault (data exceptions, our EV001) or the database's? */
static Outcome
failure(PGconn *pg, PGresult *res, const char *what)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	bool		malformed = sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strcmp(sqlstate, "EV001") == 0);
	Outcome		outcome = malformed && !pg_connection_lost(pg) ? MALFORMED : RETRY;

	log_message_event(outcome == MALFORMED ? "warning" : "error",
					  outcome == MALFORMED ? "skipped a malformed message" : what, PQerrorMessage(pg));
	return outcome;
}

static Outcome
record(PGconn *pg, const char *value)
{
	const char *params[1] = {value};
	PGresult   *res = PQexecParams(pg, "SELECT evently.record_notification($1::jsonb)", 1, NULL,
								   params, NULL, NULL, 0);
	Outcome		outcome = PQresultStatus(res) == PGRES_TUPLES_OK ? WRITTEN :
		failure(pg, res, "could not write a notification");

	PQclear(res);
	return outcome;
}

/* ---- e-mail ---- */

static struct
{
	const char *url;			/* SMTP_URL, e.g. smtp://127.0.0.1:2525; NULL: no e-mail */
	const char *from;			/* MAIL_FROM, the From header: "Evently <tickets@example.com>" */
	char		envelope[256];	/* its address alone (MAIL FROM, the Message-ID's domain) */
	char		from_name[256]; /* the From header's display name ("Evently"), encoded if need be */
	char		from_address[260];	/* then " <address>", never encoded ("" when MAIL_FROM is bare) */
	CURL	   *curl;			/* one handle: libcurl keeps the connection between mails */
} mail;

/* Header text a byte of which could end the header line or is not ASCII. */
static bool
needs_encoding(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
			return true;
	return strlen(s) > 900;
}

/*
 * "Name: text" (then the address, if any) for the message's headers: the
 * text as it is when printable ASCII, else RFC 2047 encoded words of at most 45 bytes each, cut between
 * UTF-8 characters and folded, so that no CR or LF from the data reaches
 * the header raw (the SQL already flattens subjects: this does not rely on it).
 * The address, when there is one, stays outside the encoded words, where a
 * mail client still reads it as the address.
 */
static struct curl_slist *
add_header(struct curl_slist *headers, const char *name, const char *text, const char *address)
{
	size_t		n = strlen(text),
				at;
	bool		encode = needs_encoding(text);
	char	   *line = malloc(strlen(name) + 3 + (n / 42 + 2) * 80 + strlen(address));

	at = sprintf(line, "%s: ", name);
	if (!encode)
		strcpy(line + at, text);
	for (size_t i = 0; encode && i < n;)
	{
		size_t		len = n - i < 45 ? n - i : 45;

		/* back to a character's first byte (a UTF-8 character has at most 3 more) */
		for (int back = 0; back < 3 && i + len < n && ((unsigned char) text[i + len] & 0xC0) == 0x80; back++)
			len--;
		at += sprintf(line + at, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
		sodium_bin2base64(line + at, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
						  (const unsigned char *) text + i, len, sodium_base64_VARIANT_ORIGINAL);
		at += strlen(line + at);
		at += sprintf(line + at, "?=");
		i += len;
	}
	strcat(line, address);
	headers = curl_slist_append(headers, line);
	free(line);
	return headers;
}

static unsigned
fnv1a(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

/*
 * The top-level headers; libcurl adds MIME-Version and the multipart/mixed
 * Content-Type.  The Message-ID is the same each time this mail is sent, so
 * a client can fold the copies an at-least-once resend makes.
 */
static struct curl_slist *
message_headers(const char *outbox_id, const char *recipient, const char *subject)
{
	char		value[512];
	time_t		now = time(NULL);
	struct tm	utc;
	struct curl_slist *headers = add_header(NULL, "From", mail.from_name, mail.from_address);

	snprintf(value, sizeof(value), "<%s>", recipient);
	headers = add_header(headers, "To", value, "");
	strftime(value, sizeof(value), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &utc));
	headers = add_header(headers, "Date", value, "");
	snprintf(value, sizeof(value), "<evently.%s.%08x@%s>", outbox_id, fnv1a(recipient),
			 strchr(mail.envelope, '@') ? strchr(mail.envelope, '@') + 1 : "evently");
	headers = add_header(headers, "Message-ID", value, "");
	headers = add_header(headers, "Subject", subject, "");
	return add_header(headers, "X-Evently-Outbox-Id", outbox_id, "");
}

/* The text with CRLF line ends: quoted-printable keeps those as line breaks
 * (a bare LF it would escape as =0A). */
static char *
crlf_text(const char *s)
{
	char	   *out = malloc(strlen(s) * 2 + 1),
			   *o = out;

	for (; *s; s++)
	{
		if (*s == '\n')
			*o++ = '\r';
		if (*s != '\r')
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

/*
 * The body: the UTF-8 text, then a PNG of each code's QR as an attachment.
 * NULL when a QR could not be drawn.
 */
static curl_mime *
message_body(const char *body, json_t *codes)
{
	curl_mime  *mime = curl_mime_init(mail.curl);
	curl_mimepart *part = curl_mime_addpart(mime);
	char	   *text = crlf_text(body);
	size_t		i;
	json_t	   *code;

	curl_mime_data(part, text, CURL_ZERO_TERMINATED);
	free(text);
	/* set explicitly: for mail, libcurl leaves out a plain "text/plain" and its charset with it */
	curl_mime_type(part, "text/plain; charset=utf-8");
	curl_mime_encoder(part, "quoted-printable");
	json_array_foreach(codes, i, code)
	{
		unsigned char *png;
		size_t		size;
		char		filename[32];

		if (!json_is_string(code) || !qr_png(json_string_value(code), &png, &size))
		{
			curl_mime_free(mime);
			return NULL;
		}
		part = curl_mime_addpart(mime);
		curl_mime_data(part, (const char *) png, size);
		free(png);
		curl_mime_type(part, "image/png");
		/* a file name makes libcurl write Content-Disposition: attachment */
		snprintf(filename, sizeof(filename), "ticket-%zu.png", i + 1);
		curl_mime_filename(part, filename);
		curl_mime_encoder(part, "base64");
	}
	return mime;
}

typedef enum
{
	SENT,						/* the server took it */
	REFUSED,					/* the server refused it for good (5xx): logged, not retried */
	NOT_SENT					/* no server, a 4xx, a timeout: try again */
} SendResult;

static SendResult
send_mail(const char *outbox_id, const char *recipient, const char *subject, const char *body, json_t *codes)
{
	struct curl_slist *rcpt,
			   *headers;
	curl_mime  *mime;
	CURLcode	rc;
	long		reply = 0;
	SendResult	result;

	/* an address with a control character would break the To header: no server takes it either */
	if (needs_encoding(recipient))
	{
		log_event("warning", "not a mail address", origin);
		return REFUSED;
	}
	if ((mime = message_body(body, codes)) == NULL)
	{
		log_event("error", "could not draw a ticket's QR code", origin);
		return NOT_SENT;
	}
	rcpt = curl_slist_append(NULL, recipient);
	headers = message_headers(outbox_id, recipient, subject);
	curl_easy_setopt(mail.curl, CURLOPT_URL, mail.url);
	curl_easy_setopt(mail.curl, CURLOPT_MAIL_FROM, mail.envelope);
	curl_easy_setopt(mail.curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(mail.curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(mail.curl, CURLOPT_MIMEPOST, mime);
	/* STARTTLS when the relay offers it; credentials go in SMTP_URL (smtp://user:pass@host) */
	curl_easy_setopt(mail.curl, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
	curl_easy_setopt(mail.curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(mail.curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(mail.curl, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(mail.curl);
	curl_easy_getinfo(mail.curl, CURLINFO_RESPONSE_CODE, &reply);
	result = rc == CURLE_OK ? SENT : reply >= 500 && reply < 600 ? REFUSED : NOT_SENT;
	if (result != SENT)
	{
		char		why[512];

		snprintf(why, sizeof(why), "to %s: %s (SMTP %ld)", recipient, curl_easy_strerror(rc), reply);
		log_message_event(result == REFUSED ? "warning" : "error",
						  result == REFUSED ? "the mail server refused a mail" : "could not send a mail", why);
	}
	/* the handle stays for the next mail: let it point at nothing freed */
	curl_easy_setopt(mail.curl, CURLOPT_MIMEPOST, NULL);
	curl_easy_setopt(mail.curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(mail.curl, CURLOPT_MAIL_RCPT, NULL);
	curl_mime_free(mime);
	curl_slist_free_all(headers);
	curl_slist_free_all(rcpt);
	return result;
}

/*
 * The message's mails not yet in mail_log: each sent, then recorded.  RETRY
 * on the first failure: the message comes again and mail_pending leaves out
 * what was recorded.
 */
static Outcome
send_mails(PGconn *pg, const char *value)
{
	const char *params[1] = {value};
	PGresult   *res = PQexecParams(pg, "SELECT ($1::jsonb ->> 'id'), recipient, subject, body, "
								   "array_to_json(ticket_codes) FROM evently.mail_pending($1::jsonb)",
								   1, NULL, params, NULL, NULL, 0);
	Outcome		outcome = WRITTEN;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		outcome = failure(pg, res, "could not read the mails to send");
	for (int row = 0; outcome == WRITTEN && row < PQntuples(res); row++)
	{
		const char *outbox_id = PQgetvalue(res, row, 0);
		const char *recipient = PQgetvalue(res, row, 1);
		const char *subject = PQgetvalue(res, row, 2);
		json_t	   *codes = json_loads(PQgetvalue(res, row, 4), 0, NULL);
		SendResult	sent = send_mail(outbox_id, recipient, subject, PQgetvalue(res, row, 3), codes);

		json_decref(codes);
		if (sent == NOT_SENT)
			outcome = RETRY;
		else if (sent == SENT)
		{
			const char *log_params[3] = {outbox_id, recipient, subject};
			PGresult   *logged = PQexecParams(pg, "SELECT evently.mail_sent($1::bigint, $2, $3)", 3, NULL,
											  log_params, NULL, NULL, 0);

			if (PQresultStatus(logged) != PGRES_TUPLES_OK)
				outcome = failure(pg, logged, "could not record a mail sent");
			PQclear(logged);
		}
	}
	PQclear(res);
	return outcome;
}

/* MAIL FROM takes the address alone: what is between <> in MAIL_FROM, or all of it */
static void
mail_init(void)
{
	const char *lt,
			   *gt;

	mail.url = env_or("SMTP_URL", NULL);
	mail.from = env_or("MAIL_FROM", "Evently <evently@localhost>");
	lt = strchr(mail.from, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt)
	{
		int			name = lt - mail.from;

		/* the space before <> outside the name: an encoded word must not swallow it */
		while (name > 0 && mail.from[name - 1] == ' ')
			name--;
		snprintf(mail.envelope, sizeof(mail.envelope), "%.*s", (int) (gt - lt - 1), lt + 1);
		snprintf(mail.from_name, sizeof(mail.from_name), "%.*s", name, mail.from);
		snprintf(mail.from_address, sizeof(mail.from_address), "%s<%s>", name ? " " : "", mail.envelope);
	}
	else
	{
		snprintf(mail.envelope, sizeof(mail.envelope), "%s", mail.from);
		snprintf(mail.from_name, sizeof(mail.from_name), "%s", mail.from);
	}
	if (mail.url == NULL)
	{
		log_event("info", "SMTP_URL is not set: no e-mail, the inbox only", NULL);
		return;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mail.curl = curl_easy_init();
	log_event("info", "e-mail through", mail.url);
}

/* the inbox row(s), then the mails */
static Outcome
handle(PGconn *pg, const rd_kafka_message_t *message)
{
	char	   *value = strndup(message->payload ? message->payload : "", message->len);
	Outcome		outcome;

	note_origin(message);
	outcome = record(pg, value);

	if (outcome == WRITTEN && mail.curl)
		outcome = send_mails(pg, value);
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
	mail_init();
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
			if ((outcome = handle(pg, message)) == RETRY)
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
	if (mail.curl)
		curl_easy_cleanup(mail.curl);
	log_event("info", "evently-notify stopped", NULL);
	return 0;
}
