/*
 * ga-load.c: the load of the GA flash sale benchmark (tests/bench/ga-flash-sale.sh).
 *
 *   ga-load BASE_URL EVENT_ID TIER_ID CLIENTS
 *
 * CLIENTS buyers, each with its own account (ga<n>@example.com, password
 * benchpass) and its own keep-alive connection (load.h: one thread of
 * libcurl multi, retries, timings).  First every buyer logs in (2 at a time:
 * bcrypt; not timed, its BUSY answers not counted).  Then the clock starts
 * and each buyer loops:
 *
 *   POST /api/v1/tickets/reserve   1-4 units of the tier (a fixed random
 *                                  sequence per buyer)
 *   POST /api/v1/orders            {hold_id, payment_provider: "mock"} with
 *                                  an Idempotency-Key, paid at once
 *
 * until the tier is sold out.  A SOLD_OUT refusal is not the end by itself:
 * SKIP LOCKED does not count units that a concurrent reservation has
 * locked and may still give back, so the buyer reads the tier
 * (GET /api/v1/events/:id/tiers) as a shop's page would, and stops only when
 * available_quantity is 0, or asks again for at most what is left.
 *
 * Why not wrk: its latency histogram mixes the two calls, its Lua gets no
 * per-request timing, and it runs for a fixed time where this benchmark
 * runs until the last unit is sold.
 */
#include "load.h"

enum
{
	RESERVE = STEP_FIRST, ORDER, READ_TIER
};

/* a buyer's own state, by its id */
typedef struct
{
	int			quantity;		/* of the next reservation */
	int			orders;			/* made so far: names the next Idempotency-Key */
	char		hold_id[64];
} Purchase;

static const char *event_id,
		   *tier_id;
static Purchase *purchases;
static Samples reserve_ms,
			order_ms,
			sold_out_ms;
static long n_units,
			n_orders,
			n_reserved,
			n_sold_out,
			n_tier_reads;

static void
prepare(Buyer *b)
{
	Purchase   *p = &purchases[b->id];

	switch (b->step)
	{
		case RESERVE:
			snprintf(b->url, sizeof(b->url), "%s/api/v1/tickets/reserve", base_url);
			snprintf(b->body, sizeof(b->body),
					 "{\"event_id\":\"%s\",\"items\":[{\"tier_id\":\"%s\",\"quantity\":%d}]}",
					 event_id, tier_id, p->quantity);
			break;
		case ORDER:
			snprintf(b->url, sizeof(b->url), "%s/api/v1/orders", base_url);
			snprintf(b->body, sizeof(b->body), "{\"hold_id\":\"%s\",\"payment_provider\":\"mock\"}",
					 p->hold_id);
			snprintf(b->header, sizeof(b->header), "Idempotency-Key: ga-%d-%d", b->id, p->orders);
			break;
		case READ_TIER:
			snprintf(b->url, sizeof(b->url), "%s/api/v1/events/%s/tiers", base_url, event_id);
			break;
		default:
			abort();
	}
}

static int
next_quantity(Buyer *b)
{
	return 1 + (int) (rand_r(&b->rng) % 4);
}

/* the tier's available_quantity in a tier list, -1 if it is not there */
static long
units_left(json_t *tiers)
{
	size_t		i;
	json_t	   *tier;
	long		left = -1;

	json_array_foreach(tiers, i, tier)
		if (json_is_string(json_object_get(tier, "id"))
			&& strcmp(json_string_value(json_object_get(tier, "id")), tier_id) == 0)
		left = (long) json_integer_value(json_object_get(tier, "available_quantity"));
	return left;
}

/* A finished request moves the buyer to its next step. */
static void
answer(Buyer *b, long status, double ms)
{
	Purchase   *p = &purchases[b->id];
	json_t	   *doc = answer_json(b);
	const char *code = json_string_value(json_object_get(doc, "code"));
	json_t	   *data = json_object_get(doc, "data");

	switch (b->step)
	{
		case RESERVE:
			if (status == 200 && data_string(doc, "hold_id"))
			{
				add_sample(&reserve_ms, ms);
				n_reserved++;
				snprintf(p->hold_id, sizeof(p->hold_id), "%s", data_string(doc, "hold_id"));
				b->step = ORDER;
			}
			else if (status == 409 && code && strcmp(code, "SOLD_OUT") == 0)
			{
				add_sample(&sold_out_ms, ms);
				n_sold_out++;
				b->step = READ_TIER;
			}
			else
			{
				add_sample(&reserve_ms, ms);
				unexpected(b, "reserve", status);
				p->quantity = next_quantity(b);
			}
			break;
		case ORDER:
			add_sample(&order_ms, ms);
			if (status == 201 && data_string(doc, "order_id") && data_string(doc, "status")
				&& strcmp(data_string(doc, "status"), "PAID") == 0)
			{
				n_orders++;
				n_units += p->quantity;
				t_last_sale = now_s();
			}
			else
				unexpected(b, "order", status);
			p->orders++;
			p->quantity = next_quantity(b);
			b->step = RESERVE;
			break;
		case READ_TIER:
			n_tier_reads++;
			if (status == 200 && json_is_array(data))
			{
				long		left = units_left(data);

				if (left == 0)
					b->step = STEP_DONE;
				else if (left > 0)
				{
					/* units a concurrent claim had locked: ask for at most what is left */
					if (p->quantity > left)
						p->quantity = (int) left;
					b->step = RESERVE;
				}
				else
				{
					unexpected(b, "tier read (tier missing)", status);
					b->step = STEP_DONE;
				}
			}
			else
			{
				unexpected(b, "tier read", status);
				b->step = STEP_DONE;
			}
			break;
		default:
			abort();
	}
	json_decref(doc);
}

/* the buyer's first reservation */
static void
start(Buyer *b)
{
	purchases[b->id].quantity = next_quantity(b);
	b->step = RESERVE;
}

int
main(int argc, char **argv)
{
	int			n;

	if (argc != 5 || (n = atoi(argv[4])) < 1)
	{
		fprintf(stderr, "usage: %s BASE_URL EVENT_ID TIER_ID CLIENTS\n", argv[0]);
		return 2;
	}
	base_url = argv[1];
	event_id = argv[2];
	tier_id = argv[3];
	purchases = calloc(n, sizeof(Purchase));
	run_sale(n, "ga%d@example.com", start, prepare, answer);
	printf("orders %ld\n", n_orders);
	printf("units %ld\n", n_units);
	printf("reserved %ld\n", n_reserved);
	printf("sold_out %ld\n", n_sold_out);
	printf("tier_reads %ld\n", n_tier_reads);
	print_percentiles("reserve", &reserve_ms);
	print_percentiles("sold_out", &sold_out_ms);
	print_percentiles("order", &order_ms);
	return 0;
}
