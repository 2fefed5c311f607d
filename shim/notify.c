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
 * each is sent over SMTP (libcurl) as multipart/mixed -- the text, and a
 * PNG QR code per ticket code it carries -- and recorded with
 * evently.mail_sent() once the server took it.
 *
 * The message's offset is committed only after all that succeeded, so a
 * crash re-reads what was not finished: the unique (outbox id, user) absorbs
 * the inbox rows written, mail_log the mails recorded.  A mail sent but not
 * yet recorded when the process died is sent again: e-mail is at least
 * once, mail_log has it once.  A message the database refuses as malformed
 * is logged and skipped; a mail the server refuses for good (5xx) is logged
 * and not recorded; any other failure retries the same message.
 */
#include "kafka.h"
#include "qr.h"

#include <curl/curl.h>
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

	log_event(outcome == MALFORMED ? "warning" : "error",
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
	CURL	   *curl;			/* one handle: libcurl keeps the connection between mails */
} mail;

/* A growing text: the message being built. */
typedef struct
{
	char	   *data;
	size_t		size,
				room,
				sent;			/* how much libcurl has read */
} Text;

static void
add(Text *t, const char *bytes, size_t n)
{
	if (t->size + n + 1 > t->room)
	{
		t->room = (t->size + n + 1) * 2;
		t->data = realloc(t->data, t->room);
	}
	memcpy(t->data + t->size, bytes, n);
	t->size += n;
	t->data[t->size] = '\0';
}

static void
add_str(Text *t, const char *s)
{
	add(t, s, strlen(s));
}

/* base64 (RFC 2045): lines of 76 characters, CRLF after each when wrap */
static void
add_base64(Text *t, const unsigned char *in, size_t n, bool wrap)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3)
	{
		unsigned	v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		char		quad[4] = {digits[v >> 18 & 63], digits[v >> 12 & 63],
			i + 1 < n ? digits[v >> 6 & 63] : '=', i + 2 < n ? digits[v & 63] : '='};

		add(t, quad, 4);
		if (wrap && ((i / 3 + 1) % 19 == 0 || i + 3 >= n))
			add_str(t, "\r\n");
	}
}

static bool
ascii_lines(const char *s)
{
	size_t		line = 0;

	for (; *s; s++)
	{
		if ((unsigned char) *s >= 0x80 || *s == '\r')
			return false;
		line = *s == '\n' ? 0 : line + 1;
		if (line > 900)
			return false;
	}
	return true;
}

/* A header's text: as it is when plain ASCII, else RFC 2047 encoded words
 * of at most 45 bytes each, cut between UTF-8 characters. */
static void
add_header_text(Text *t, const char *s)
{
	size_t		n = strlen(s);

	if (ascii_lines(s) && n < 900)
	{
		add_str(t, s);
		return;
	}
	for (size_t i = 0; i < n;)
	{
		size_t		len = n - i < 45 ? n - i : 45;

		while (i + len < n && ((unsigned char) s[i + len] & 0xC0) == 0x80)
			len--;
		add_str(t, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
		add_base64(t, (const unsigned char *) s + i, len, false);
		add_str(t, "?=");
		i += len;
	}
}

/* the text with every line ending CRLF */
static void
add_crlf(Text *t, const char *s)
{
	for (; *s; s++)
		if (*s == '\n')
			add_str(t, "\r\n");
		else if (*s != '\r')
			add(t, s, 1);
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
 * The whole message: headers, the text, and a PNG of each code's QR.  The
 * Message-ID is the same each time this mail is sent, so a client can fold
 * the copies an at-least-once resend makes.
 */
static bool
build_message(Text *t, const char *outbox_id, const char *recipient, const char *subject,
			  const char *body, json_t *codes)
{
	char		line[512],
				date[64];
	time_t		now = time(NULL);
	struct tm	utc;
	size_t		i;
	json_t	   *code;
	bool		plain = ascii_lines(body);

	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&now, &utc));
	add_str(t, "From: ");
	add_header_text(t, mail.from);
	snprintf(line, sizeof(line), "\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <evently.%s.%08x@%s>\r\n",
			 recipient, date, outbox_id, fnv1a(recipient),
			 strchr(mail.envelope, '@') ? strchr(mail.envelope, '@') + 1 : "evently");
	add_str(t, line);
	add_str(t, "Subject: ");
	add_header_text(t, subject);
	snprintf(line, sizeof(line), "\r\nX-Evently-Outbox-Id: %s\r\nMIME-Version: 1.0\r\n"
			 "Content-Type: multipart/mixed; boundary=\"=_evently_%s\"\r\n\r\n"
			 "--=_evently_%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: %s\r\n\r\n", outbox_id, outbox_id, outbox_id, plain ? "7bit" : "base64");
	add_str(t, line);
	if (plain)
		add_crlf(t, body);
	else
		add_base64(t, (const unsigned char *) body, strlen(body), true);
	json_array_foreach(codes, i, code)
	{
		unsigned char *png;
		size_t		size;

		if (!json_is_string(code) || !qr_png(json_string_value(code), &png, &size))
			return false;
		snprintf(line, sizeof(line), "\r\n--=_evently_%s\r\nContent-Type: image/png; name=\"ticket-%zu.png\"\r\n"
				 "Content-Disposition: attachment; filename=\"ticket-%zu.png\"\r\n"
				 "Content-Transfer-Encoding: base64\r\n\r\n", outbox_id, i + 1, i + 1);
		add_str(t, line);
		add_base64(t, png, size, true);
		free(png);
	}
	snprintf(line, sizeof(line), "\r\n--=_evently_%s--\r\n", outbox_id);
	add_str(t, line);
	return true;
}

static size_t
read_message(char *buffer, size_t size, size_t nitems, void *userdata)
{
	Text	   *t = userdata;
	size_t		n = t->size - t->sent < size * nitems ? t->size - t->sent : size * nitems;

	memcpy(buffer, t->data + t->sent, n);
	t->sent += n;
	return n;
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
	Text		t = {0};
	struct curl_slist *rcpt = curl_slist_append(NULL, recipient);
	CURLcode	rc;
	long		reply = 0;
	SendResult	result;

	if (!build_message(&t, outbox_id, recipient, subject, body, codes))
	{
		log_event("error", "could not draw a ticket's QR code", outbox_id);
		free(t.data);
		curl_slist_free_all(rcpt);
		return NOT_SENT;
	}
	curl_easy_setopt(mail.curl, CURLOPT_URL, mail.url);
	curl_easy_setopt(mail.curl, CURLOPT_MAIL_FROM, mail.envelope);
	curl_easy_setopt(mail.curl, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(mail.curl, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(mail.curl, CURLOPT_READDATA, &t);
	curl_easy_setopt(mail.curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(mail.curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t) t.size);
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

		snprintf(why, sizeof(why), "outbox %s to %s: %s (SMTP %ld)", outbox_id, recipient,
				 curl_easy_strerror(rc), reply);
		log_event(result == REFUSED ? "warning" : "error",
				  result == REFUSED ? "the mail server refused a mail" : "could not send a mail", why);
	}
	curl_slist_free_all(rcpt);
	free(t.data);
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
		snprintf(mail.envelope, sizeof(mail.envelope), "%.*s", (int) (gt - lt - 1), lt + 1);
	else
		snprintf(mail.envelope, sizeof(mail.envelope), "%s", mail.from);
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
	Outcome		outcome = record(pg, value);

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
