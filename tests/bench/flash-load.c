/*
 * flash-load.c: the load of the seated flash sale benchmark
 * (tests/bench/flash-sale.sh).
 *
 *   flash-load BASE_URL EVENT_ID CLIENTS SECTION_ID...
 *
 * CLIENTS buyers, each with its own account (flash<n>@example.com, password
 * benchpass) and its own keep-alive connection (load.h: one thread of
 * libcurl multi, retries, timings).  First every buyer logs in (not timed).
 * Then the clock starts and each buyer loops:
 *
 *   GET  /api/v1/sections/:id/seats/available?event_id=   anonymously (no
 *        token: a public read, what the shim's read cache may serve), of a
 *        random section it has not yet seen empty
 *   POST /api/v1/seats/hold        1-4 random seats of that answer, with an
 *                                  Idempotency-Key; SEAT_UNAVAILABLE (409:
 *                                  someone was faster, or the read was
 *                                  stale) -> read again and pick again
 *   POST /api/v1/bookings/confirm  the hold, mock payment, Idempotency-Key
 *
 * and stops when it has read every section empty.  In this sale seats only
 * go from AVAILABLE to HELD to BOOKED (every hold is confirmed, none lapses
 * in 10 minutes), so an empty answer, even a cached one, stays true: the
 * event is sold out when every buyer has stopped.
 */
#include "load.h"

#define MAX_SECTIONS 64
#define MAX_PICK 4
#define UUID_LEN 36

enum
{
	READ = STEP_FIRST, HOLD, CONFIRM
};

/* a buyer's own state, by its id */
typedef struct
{
	unsigned long long empty;	/* bit s: section s was read empty */
	int			section;		/* of the last read */
	int			n_seats;		/* picked from it */
	char		seats[MAX_PICK][UUID_LEN + 1];
	char		hold_id[64];
	int			holds;			/* attempts so far: name the hold's Idempotency-Key */
	int			bookings;		/* made so far: name the confirmation's */
} Pick;

static const char *event_id;
static char **sections;
static int	n_sections;
static Pick *picks;
static const char **found;		/* seat ids of the answer being read */
static size_t found_cap;
static Samples read_ms,
			hold_ms,
			conflict_ms,
			confirm_ms;
static long n_reads,
			n_read_seats,		/* in all the answers */
			n_empty_reads,
			n_held,
			n_conflicts,
			n_bookings,
			n_seats_booked;

static void
prepare(Buyer *b)
{
	Pick	   *p = &picks[b->id];
	int			len;

	switch (b->step)
	{
		case READ:
			b->anonymous = true;
			snprintf(b->url, sizeof(b->url), "%s/api/v1/sections/%s/seats/available?event_id=%s",
					 base_url, sections[p->section], event_id);
			break;
		case HOLD:
			snprintf(b->url, sizeof(b->url), "%s/api/v1/seats/hold", base_url);
			len = snprintf(b->body, sizeof(b->body), "{\"event_id\":\"%s\",\"seat_ids\":[", event_id);
			for (int i = 0; i < p->n_seats; i++)
				len += snprintf(b->body + len, sizeof(b->body) - len, "%s\"%s\"", i ? "," : "", p->seats[i]);
			snprintf(b->body + len, sizeof(b->body) - len, "]}");
			/* the event in the key: the same buyers buy again in the script's next sale */
			snprintf(b->header, sizeof(b->header), "Idempotency-Key: fl-%.8s-%d-h%d", event_id, b->id,
					 p->holds);
			break;
		case CONFIRM:
			snprintf(b->url, sizeof(b->url), "%s/api/v1/bookings/confirm", base_url);
			snprintf(b->body, sizeof(b->body),
					 "{\"hold_id\":\"%s\",\"event_id\":\"%s\",\"payment_method\":\"mock\"}",
					 p->hold_id, event_id);
			snprintf(b->header, sizeof(b->header), "Idempotency-Key: fl-%.8s-%d-b%d", event_id, b->id,
					 p->bookings);
			break;
		default:
			abort();
	}
}

/* Read next a random section not seen empty; done when there is none. */
static void
read_next(Buyer *b)
{
	Pick	   *p = &picks[b->id];
	int			left = 0,
				k;

	for (int s = 0; s < n_sections; s++)
		left += !(p->empty & (1ULL << s));
	if (left == 0)
	{
		b->step = STEP_DONE;
		return;
	}
	k = (int) (rand_r(&b->rng) % left);
	for (int s = 0; s < n_sections; s++)
		if (!(p->empty & (1ULL << s)) && k-- == 0)
			p->section = s;
	b->step = READ;
}

/*
 * The seat ids of an availability answer, pointers into it: each seat is an
 * object whose only "id" member is the seat's (no JSON parse of up to ~150 kB
 * per read: this one thread would spend a core on it).
 */
static size_t
scan_seat_ids(char *answer)
{
	size_t		n = 0;
	char	   *at = answer;

	while ((at = strstr(at, "\"id\"")) != NULL)
	{
		at += 4;
		while (*at == ' ')
			at++;
		if (*at++ != ':')
			continue;
		while (*at == ' ')
			at++;
		if (*at++ != '"' || strlen(at) < UUID_LEN + 1 || at[UUID_LEN] != '"')
			continue;
		if (n == found_cap)
		{
			found_cap = found_cap ? found_cap * 2 : 1024;
			found = realloc(found, found_cap * sizeof(char *));
			if (!found)
				abort();
		}
		found[n++] = at;
		at += UUID_LEN;
	}
	return n;
}

/* 1-4 distinct random seats of the n found (a partial Fisher-Yates shuffle) */
static void
pick_seats(Buyer *b, size_t n)
{
	Pick	   *p = &picks[b->id];

	p->n_seats = 1 + (int) (rand_r(&b->rng) % MAX_PICK);
	if ((size_t) p->n_seats > n)
		p->n_seats = (int) n;
	for (int i = 0; i < p->n_seats; i++)
	{
		size_t		j = i + rand_r(&b->rng) % (n - i);
		const char *chosen = found[j];

		found[j] = found[i];
		found[i] = chosen;
		memcpy(p->seats[i], chosen, UUID_LEN);
		p->seats[i][UUID_LEN] = '\0';
	}
}

static void
answer_read(Buyer *b, long status)
{
	Pick	   *p = &picks[b->id];
	size_t		n;

	n_reads++;
	if (status != 200 || !b->answer_len || !strstr(b->answer, "\"data\""))
	{
		unexpected(b, "availability read", status);
		b->step = STEP_DONE;
		return;
	}
	n = scan_seat_ids(b->answer);
	n_read_seats += (long) n;
	if (n == 0)
	{
		n_empty_reads++;
		p->empty |= 1ULL << p->section;
		read_next(b);
		return;
	}
	pick_seats(b, n);
	b->step = HOLD;
}

static void
answer_hold(Buyer *b, long status, double ms)
{
	Pick	   *p = &picks[b->id];
	json_t	   *doc = answer_json(b);
	const char *code = json_string_value(json_object_get(doc, "code"));

	p->holds++;
	if (status == 200 && data_string(doc, "hold_id"))
	{
		add_sample(&hold_ms, ms);
		n_held++;
		snprintf(p->hold_id, sizeof(p->hold_id), "%s", data_string(doc, "hold_id"));
		b->step = CONFIRM;
	}
	else if (status == 409 && code && strcmp(code, "SEAT_UNAVAILABLE") == 0)
	{
		add_sample(&hold_ms, ms);
		add_sample(&conflict_ms, ms);
		n_conflicts++;
		read_next(b);
	}
	else
	{
		add_sample(&hold_ms, ms);
		unexpected(b, "hold", status);
		read_next(b);
	}
	json_decref(doc);
}

static void
answer_confirm(Buyer *b, long status, double ms)
{
	Pick	   *p = &picks[b->id];
	json_t	   *doc = answer_json(b);
	const char *state = data_string(doc, "status");

	add_sample(&confirm_ms, ms);
	if (status == 201 && state && strcmp(state, "CONFIRMED") == 0)
	{
		n_bookings++;
		n_seats_booked += p->n_seats;
		t_last_sale = now_s();
	}
	else
		unexpected(b, "confirm", status);
	p->bookings++;
	json_decref(doc);
	read_next(b);
}

/* A finished request moves the buyer to its next step. */
static void
answer(Buyer *b, long status, double ms)
{
	switch (b->step)
	{
		case READ:
			add_sample(&read_ms, ms);
			answer_read(b, status);
			break;
		case HOLD:
			answer_hold(b, status, ms);
			break;
		case CONFIRM:
			answer_confirm(b, status, ms);
			break;
		default:
			abort();
	}
}

int
main(int argc, char **argv)
{
	int			n;

	if (argc < 5 || (n = atoi(argv[3])) < 1 || argc - 4 > MAX_SECTIONS)
	{
		fprintf(stderr, "usage: %s BASE_URL EVENT_ID CLIENTS SECTION_ID... (at most %d sections)\n",
				argv[0], MAX_SECTIONS);
		return 2;
	}
	base_url = argv[1];
	event_id = argv[2];
	sections = argv + 4;
	n_sections = argc - 4;
	picks = calloc(n, sizeof(Pick));
	run_sale(n, "flash%d@example.com", read_next, prepare, answer);
	printf("bookings %ld\n", n_bookings);
	printf("seats %ld\n", n_seats_booked);
	printf("holds %ld\n", n_held);
	printf("conflicts %ld\n", n_conflicts);
	printf("hold_attempts %zu\n", hold_ms.n);
	printf("reads %ld\n", n_reads);
	printf("empty_reads %ld\n", n_empty_reads);
	printf("read_seats %ld\n", n_read_seats);
	print_percentiles("read", &read_ms);
	print_percentiles("hold", &hold_ms);
	print_percentiles("conflict", &conflict_ms);
	print_percentiles("confirm", &confirm_ms);
	return 0;
}
