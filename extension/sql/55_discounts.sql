-- 55_discounts.sql: discount codes (SPEC section 10, issue 12 item 7).
--
--   POST /events/:eventId/discount-codes   the event's organizer (or an
--   GET  /events/:eventId/discount-codes   ADMIN) makes and lists its codes
--   PUT  /discount-codes/:id                deactivates one, changes its
--                                           max_uses or validity
--
-- A code is a percentage or a fixed amount off, per event, limited in uses
-- (max_uses) and time (valid_from <= now() < valid_to), optionally to some
-- tiers (tier_ids; NULL: the whole order, seats too).  Order creation
-- claims a use inside its own transaction (_claim_discount: the code's row
-- lock keeps max_uses under concurrency; the lock order is the event row,
-- the hold row, then the code row), and gives it back when the order
-- expires or fails (_release_discount), and takes it again when a late
-- payment completes an expired order (_retake_discount).  used_count
-- therefore counts the orders that hold a use, pending or paid.
--
-- Everything here is PL/pgSQL (or SQL calling only what 00-55 define), so
-- the order files (52_orders, 54_payments) may call it whatever their
-- number.

-- A code as the API shows it.
CREATE OR REPLACE FUNCTION evently.discount_code_json(p_id uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', d.id, 'event_id', d.event_id, 'code', d.code,
                              'percent_off', d.percent_off, 'amount_off', d.amount_off,
                              'max_uses', d.max_uses, 'used_count', d.used_count,
                              'remaining_uses', d.max_uses - d.used_count,
                              'valid_from', d.valid_from, 'valid_to', d.valid_to,
                              'tier_ids', to_jsonb(d.tier_ids), 'is_active', d.is_active,
                              'created_by', d.created_by, 'created_at', d.created_at,
                              'updated_at', d.updated_at)
      FROM evently.discount_codes d WHERE d.id = p_id
$$;

-- The body's discount fields, checked: code (3-40 of A-Z 0-9 _ -, any case,
-- upper-cased), exactly one of percent_off (more than 0, at most 100) and
-- amount_off (more than 0, at most 1,000,000,000), both with at most 2
-- decimals; max_uses at least 1.  INVALID_ARGUMENT naming the field.
CREATE OR REPLACE FUNCTION evently._discount_fields(b jsonb, OUT code text, OUT percent_off numeric,
                                                    OUT amount_off numeric, OUT max_uses int)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(jsonb_typeof(b->'code') = 'string' AND upper(b->>'code') ~ '^[A-Z0-9_-]{3,40}$',
        'INVALID_ARGUMENT', 'invalid code',
        CASE WHEN b->>'code' IS NULL THEN 'A code is required: 3 to 40 letters, digits, _ or -.'
             WHEN jsonb_typeof(b->'code') <> 'string' THEN 'code is a string of 3 to 40 letters, digits, _ or -.'
             ELSE format('code %s is not 3 to 40 letters, digits, _ or -.', b->>'code') END);
    code := upper(b->>'code');
    PERFORM evently._require((b->>'percent_off' IS NULL) <> (b->>'amount_off' IS NULL), 'INVALID_ARGUMENT',
        'one of percent_off and amount_off',
        'A discount code takes either percent_off or amount_off, not both and not neither.');
    percent_off := evently._numeric_arg(b->>'percent_off', 'percent_off');
    amount_off := evently._numeric_arg(b->>'amount_off', 'amount_off');
    PERFORM evently._require(percent_off IS NULL OR (percent_off > 0 AND percent_off <= 100), 'INVALID_ARGUMENT',
        'percent_off is out of range', format('percent_off is %s; it is more than 0 and at most 100.', percent_off));
    PERFORM evently._require(amount_off IS NULL OR (amount_off > 0 AND amount_off <= 1000000000), 'INVALID_ARGUMENT',
        'amount_off is out of range',
        format('amount_off is %s; it is more than 0 and at most 1000000000.', amount_off));
    PERFORM evently._require_decimals(percent_off, 2, 'percent_off');
    PERFORM evently._require_decimals(amount_off, 2, 'amount_off');
    max_uses := evently._int_arg(b->>'max_uses', 'max_uses');
    PERFORM evently._require(max_uses IS NULL OR max_uses >= 1, 'INVALID_ARGUMENT', 'max_uses is out of range',
        format('max_uses is %s; a code is usable at least once (leave it out for no limit).', max_uses));
END
$$;

-- A validity window: valid_to after valid_from when both are given.
CREATE OR REPLACE FUNCTION evently._require_discount_window(valid_from timestamptz, valid_to timestamptz)
RETURNS void LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM evently._require(valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from, 'INVALID_ARGUMENT',
        'valid_to must be after valid_from', format('valid_to %s is not after valid_from %s.', valid_to, valid_from));
END
$$;

-- tier_ids of a body: NULL when absent (the whole order), else the
-- distinct tiers, each a uuid of a tier of the event.  INVALID_ARGUMENT for
-- anything but a non-empty array of uuids (at most 100), NOT_FOUND naming
-- a tier that is not the event's.
CREATE OR REPLACE FUNCTION evently._discount_tiers(p_event_id uuid, tiers jsonb) RETURNS uuid[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ids uuid[];
    stranger uuid;
BEGIN
    IF tiers IS NULL OR jsonb_typeof(tiers) = 'null' THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(jsonb_typeof(tiers) = 'array' AND jsonb_array_length(tiers) BETWEEN 1 AND 100,
        'INVALID_ARGUMENT', 'invalid tier_ids',
        'tier_ids is an array of 1 to 100 tier ids; leave it out for a code that applies to the whole order.');
    ids := ARRAY(SELECT DISTINCT evently._uuid_arg(t #>> '{}', 'tier_ids item') FROM jsonb_array_elements(tiers) t
                  ORDER BY 1);
    SELECT i INTO stranger FROM unnest(ids) i
     WHERE NOT EXISTS (SELECT 1 FROM evently.ticket_tiers tt WHERE tt.id = i AND tt.event_id = p_event_id)
     LIMIT 1;
    PERFORM evently._require(stranger IS NULL, 'NOT_FOUND', 'ticket tier not found',
        format('Event %s has no ticket tier %s.', p_event_id, stranger));
    RETURN ids;
END
$$;

-- POST /events/:eventId/discount-codes {"code", "percent_off" | "amount_off",
-- "max_uses"?, "valid_from"?, "valid_to"? (RFC 3339), "tier_ids"?}: the
-- event's organizer (or an ADMIN) makes a code; returns discount_code_json.
-- NOT_FOUND for an event the actor does not manage or a tier not of the
-- event, EVENT_CLOSED for a cancelled or completed event, ALREADY_EXISTS
-- for a code the event has (in any case), INVALID_ARGUMENT for bad fields.
-- Outbox discount.created with its audit row.
CREATE OR REPLACE FUNCTION evently.api_discount_code_create(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := coalesce(req->'body', '{}');
    ev evently.events;
    f record;
    valid_from timestamptz;
    valid_to timestamptz;
    tiers uuid[];
    shown text;
    new_id uuid;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._managed_event(actor, req->'path'->>'eventId');
    PERFORM evently._only_fields(b, 'code', 'percent_off', 'amount_off', 'max_uses', 'valid_from', 'valid_to',
                                 'tier_ids');
    f := evently._discount_fields(b);
    valid_from := evently._time_field(b, 'valid_from');
    valid_to := evently._time_field(b, 'valid_to');
    PERFORM evently._require_discount_window(valid_from, valid_to);
    tiers := evently._discount_tiers(ev.id, b->'tier_ids');
    shown := evently._lifecycle_status(ev.status, ev.date_time, ev.end_time);
    PERFORM evently._require(shown NOT IN ('cancelled', 'completed'), 'EVENT_CLOSED',
        format('cannot add a discount code to an event that is %s', shown),
        format('Event %s is %s: nothing more is sold.', ev.id, shown));
    -- the event row's lock (_managed_event) serialises two creations of one code
    PERFORM evently._require(NOT EXISTS (SELECT 1 FROM evently.discount_codes d
                                          WHERE d.event_id = ev.id AND d.code = f.code),
        'ALREADY_EXISTS', 'discount code already exists', format('Event %s already has discount code %s.', ev.id, f.code));
    INSERT INTO evently.discount_codes (event_id, code, percent_off, amount_off, max_uses, valid_from, valid_to,
                                        tier_ids, created_by)
    VALUES (ev.id, f.code, f.percent_off, f.amount_off, f.max_uses, valid_from, valid_to, tiers, actor)
    RETURNING id INTO new_id;
    PERFORM evently._emit('discount.created', ev.id, actor, 'discount_code', new_id,
                          evently.discount_code_json(new_id), actor);
    RETURN evently.discount_code_json(new_id);
END
$$;

-- GET /events/:eventId/discount-codes?limit=1-100 (50)&offset= (0): the
-- event's codes, oldest first, as {discount_codes, total_count, limit,
-- offset}; the event's organizer or an ADMIN (NOT_FOUND for anyone else).
CREATE OR REPLACE FUNCTION evently.api_discount_codes_list(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev evently.events;
    lim int;
    off int;
BEGIN
    actor := evently._actor(actor, req);
    ev := evently._readable_event(actor, req->'path'->>'eventId');
    SELECT * INTO lim, off FROM evently._page_params(req, 50);
    RETURN evently._slice('discount_codes',
        (SELECT jsonb_agg(evently.discount_code_json(p.id) ORDER BY p.created_at, p.id)
           FROM (SELECT id, created_at FROM evently.discount_codes WHERE event_id = ev.id
                  ORDER BY created_at, id LIMIT lim OFFSET off) p),
        (SELECT count(*) FROM evently.discount_codes WHERE event_id = ev.id), lim, off);
END
$$;

-- PUT /discount-codes/:id {"is_active"?, "max_uses"? (null: no limit),
-- "valid_from"?, "valid_to"? (null: open)}: the event's organizer (or an
-- ADMIN) deactivates or reactivates a code, or changes its limit or window
-- (the code, its amount and its tiers stay: make another code instead).
-- max_uses never goes below the uses orders hold.  Returns
-- discount_code_json.  NOT_FOUND for a code of an event the actor does not
-- manage, INVALID_ARGUMENT for bad fields.  Outbox discount.updated.
CREATE OR REPLACE FUNCTION evently.api_discount_code_update(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    b jsonb := coalesce(req->'body', '{}');
    dc evently.discount_codes;
    new_max int;
    new_from timestamptz;
    new_to timestamptz;
BEGIN
    actor := evently._actor(actor, req);
    SELECT * INTO dc FROM evently.discount_codes WHERE id = evently._uuid_arg(req->'path'->>'id', 'id');
    PERFORM evently._require(FOUND AND evently._manages_event(actor, dc.event_id), 'NOT_FOUND',
        'discount code not found', format('Discount code %s does not exist.', req->'path'->>'id'));
    PERFORM evently._only_fields(b, 'is_active', 'max_uses', 'valid_from', 'valid_to');
    PERFORM evently._require(NOT b ? 'is_active' OR jsonb_typeof(b->'is_active') = 'boolean', 'INVALID_ARGUMENT',
        'invalid is_active', 'is_active is true or false.');
    -- the lock order of order creation: the event row, then the code's
    PERFORM 1 FROM evently.events WHERE id = dc.event_id FOR UPDATE;
    SELECT * INTO dc FROM evently.discount_codes WHERE id = dc.id FOR UPDATE;
    new_max := CASE WHEN b ? 'max_uses' THEN evently._int_arg(b->>'max_uses', 'max_uses') ELSE dc.max_uses END;
    new_from := CASE WHEN b ? 'valid_from' THEN evently._time_field(b, 'valid_from') ELSE dc.valid_from END;
    new_to := CASE WHEN b ? 'valid_to' THEN evently._time_field(b, 'valid_to') ELSE dc.valid_to END;
    PERFORM evently._require(new_max IS NULL OR new_max >= 1, 'INVALID_ARGUMENT', 'max_uses is out of range',
        format('max_uses is %s; a code is usable at least once (null: no limit).', new_max));
    PERFORM evently._require(new_max IS NULL OR new_max >= dc.used_count, 'INVALID_ARGUMENT',
        'max_uses is below the uses taken',
        format('Discount code %s is held by %s orders; max_uses cannot be %s.', dc.code, dc.used_count, new_max));
    PERFORM evently._require_discount_window(new_from, new_to);
    UPDATE evently.discount_codes
       SET is_active = coalesce((b->>'is_active')::boolean, is_active), max_uses = new_max,
           valid_from = new_from, valid_to = new_to, updated_at = now()
     WHERE id = dc.id;
    PERFORM evently._emit('discount.updated', dc.event_id, actor, 'discount_code', dc.id,
                          evently.discount_code_json(dc.id), actor);
    RETURN evently.discount_code_json(dc.id);
END
$$;

-- evently._claim_discount(p_event_id, p_code, p_items) RETURNS jsonb: order
-- creation takes one use of the event's code p_code (any case) inside its
-- transaction, and learns the discount.  p_items: the order's items in
-- order, each {"tier_id": uuid|null, "section_id": uuid|null, "quantity",
-- "unit_price"}.  Locks the code's row FOR UPDATE (after the event's and
-- the hold's, the order's lock order): a concurrent claim of the last use
-- waits here, then finds the code exhausted.  Raises DISCOUNT_UNAVAILABLE
-- with a message and detail saying why: unknown, deactivated, not yet
-- valid, expired, exhausted ("used 5 of 5 times"), or for none of these
-- tickets (tier_ids).
-- The discount: percent_off takes that share of each eligible item's
-- quantity * unit_price, rounded half-up to cents; amount_off (at most the
-- eligible subtotal) is spread over the eligible items in proportion to
-- their amounts, rounded on the running total (each item's share is the
-- rounded running total minus the one before it), so the shares sum
-- exactly to the amount, none is negative and none exceeds its item, and
-- the last eligible item takes what rounding left.
-- Returns {"discount_code_id", "code", "discount_amount", "item_discounts":
-- [per item, in order; 0.00 for one the code does not cover]}; NULL (and
-- nothing locked) when p_code is NULL.
CREATE OR REPLACE FUNCTION evently._claim_discount(p_event_id uuid, p_code text, p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    wanted text := upper(btrim(p_code));
    dc evently.discount_codes;
    covered int;
    total_off numeric;
    shares jsonb;
BEGIN
    IF p_code IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM evently._require(jsonb_typeof(p_items) = 'array', 'INVALID_ARGUMENT', 'invalid order items',
        'The items of an order are an array.');
    SELECT * INTO dc FROM evently.discount_codes WHERE event_id = p_event_id AND code = wanted FOR UPDATE;
    PERFORM evently._require(FOUND, 'DISCOUNT_UNAVAILABLE', 'unknown discount code',
        format('Event %s has no discount code %s.', p_event_id, wanted));
    PERFORM evently._require(dc.is_active, 'DISCOUNT_UNAVAILABLE', 'discount code is inactive',
        format('Discount code %s was deactivated by the organizer.', dc.code));
    PERFORM evently._require(dc.valid_from IS NULL OR dc.valid_from <= now(), 'DISCOUNT_UNAVAILABLE',
        'discount code is not yet valid', format('Discount code %s is valid from %s.', dc.code, dc.valid_from));
    PERFORM evently._require(dc.valid_to IS NULL OR now() < dc.valid_to, 'DISCOUNT_UNAVAILABLE',
        'discount code has expired', format('Discount code %s was valid until %s.', dc.code, dc.valid_to));
    PERFORM evently._require(dc.max_uses IS NULL OR dc.used_count < dc.max_uses, 'DISCOUNT_UNAVAILABLE',
        'discount code is used up', format('Discount code %s was used %s of %s times.', dc.code, dc.used_count, dc.max_uses));

    WITH items AS (
        SELECT n, dc.tier_ids IS NULL OR coalesce((i->>'tier_id')::uuid = ANY (dc.tier_ids), false) AS eligible,
               (i->>'quantity')::int * (i->>'unit_price')::numeric AS amount
          FROM jsonb_array_elements(p_items) WITH ORDINALITY x(i, n)),
    running AS (
        SELECT n, eligible, amount,
               sum(amount) FILTER (WHERE eligible) OVER (ORDER BY n) AS upto,
               least(dc.amount_off, sum(amount) FILTER (WHERE eligible) OVER ()) AS spread,
               sum(amount) FILTER (WHERE eligible) OVER () AS eligible_total
          FROM items),
    split AS (
        SELECT n, eligible,
               CASE WHEN NOT eligible THEN 0.00
                    WHEN dc.percent_off IS NOT NULL THEN round(amount * dc.percent_off / 100, 2)
                    WHEN eligible_total = 0 THEN 0.00
                    ELSE round(spread * upto / eligible_total, 2)
                         - round(spread * (upto - amount) / eligible_total, 2) END AS share
          FROM running)
    SELECT count(*) FILTER (WHERE eligible), jsonb_agg(share ORDER BY n), coalesce(sum(share), 0)
      INTO covered, shares, total_off FROM split;
    PERFORM evently._require(covered > 0, 'DISCOUNT_UNAVAILABLE', 'discount code does not apply',
        CASE WHEN dc.tier_ids IS NULL THEN format('The order buys nothing discount code %s could apply to.', dc.code)
             ELSE format('Discount code %s is for ticket tiers %s, none of which this order buys.',
                         dc.code, array_to_string(dc.tier_ids, ', ')) END);
    UPDATE evently.discount_codes SET used_count = used_count + 1, updated_at = now() WHERE id = dc.id;
    RETURN jsonb_build_object('discount_code_id', dc.id, 'code', dc.code, 'discount_amount', total_off,
                              'item_discounts', shares);
END
$$;

-- evently._release_discount(p_discount_code_id) RETURNS void: an order that
-- EXPIRED or FAILED gives its use back (used_count - 1, never below 0).
-- A NULL id (an order without a code) does nothing.
CREATE OR REPLACE FUNCTION evently._release_discount(p_discount_code_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE evently.discount_codes SET used_count = greatest(used_count - 1, 0), updated_at = now()
     WHERE id = p_discount_code_id;
END
$$;

-- evently._retake_discount(p_discount_code_id) RETURNS boolean: a payment
-- completing an EXPIRED order (whose use went back) takes its use again:
-- true when a use was left (or the id is NULL); false when the code was
-- used up meanwhile (max_uses is never exceeded: the caller refunds the
-- payment, as it does when the tickets are gone).  The code's validity
-- window and activity are not asked again: the buyer had the code at order
-- time.  Locks the code's row (after the hold's and the order's).
CREATE OR REPLACE FUNCTION evently._retake_discount(p_discount_code_id uuid) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF p_discount_code_id IS NULL THEN
        RETURN true;
    END IF;
    UPDATE evently.discount_codes SET used_count = used_count + 1, updated_at = now()
     WHERE id = p_discount_code_id AND (max_uses IS NULL OR used_count < max_uses);
    RETURN FOUND;
END
$$;
