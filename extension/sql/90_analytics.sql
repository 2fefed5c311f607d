-- 90_analytics.sql: the event, booking, tag and user analytics routes.

-- GET /admin/events/:eventId/analytics: seats, not bookings, as the reference
-- counted them; every ratio is 0 when its denominator is.
CREATE OR REPLACE FUNCTION evently.api_event_analytics(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := evently._uuid_arg(req->'path'->>'eventId', 'eventId');
    doc jsonb;
BEGIN
    actor := evently._admin(actor, req);
    SELECT jsonb_build_object(
        'event_id', e.id, 'event_name', e.name,
        'total_bookings', (SELECT count(*) FROM evently.tickets t WHERE t.event_id = e.id AND t.status = 'VALID'),
        'total_revenue', (SELECT coalesce(sum(t.seat_price), 0) FROM evently.tickets t
                           WHERE t.event_id = e.id AND t.status = 'VALID'),
        'capacity_utilization', (SELECT coalesce(round(100.0 * count(*) FILTER (WHERE status = 'BOOKED')
                                                       / nullif(count(*), 0), 2), 0)
                                   FROM evently.event_seats WHERE event_id = e.id),
        'cancellation_rate', (SELECT coalesce(round(100.0 * count(*) FILTER (WHERE status = 'CANCELLED')
                                                    / nullif(count(*), 0), 2), 0)
                                FROM evently.bookings WHERE event_id = e.id),
        'bookings_by_day', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'bookings', n, 'revenue', r) ORDER BY d)
                                       FROM (SELECT created_at::date AS d, count(*) AS n, sum(total_price) AS r
                                               FROM evently.bookings WHERE event_id = e.id AND status = 'CONFIRMED'
                                              GROUP BY 1) x), '[]'))
      INTO doc FROM evently.events e WHERE e.id = ev;
    PERFORM evently._require(doc IS NOT NULL, 'NOT_FOUND', 'event not found', format('Event %s does not exist.', ev));
    RETURN doc;
END
$$;

-- GET /admin/events/analytics (the reference's always answered 500)
CREATE OR REPLACE FUNCTION evently.api_events_analytics(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN jsonb_build_object(
        'total_events', (SELECT count(*) FROM evently.events),
        'total_bookings', (SELECT count(*) FROM evently.bookings WHERE status = 'CONFIRMED'),
        'total_revenue', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings WHERE status = 'CONFIRMED'),
        'average_utilization', (SELECT coalesce(round(avg(u), 2), 0) FROM (
                                   SELECT 100.0 * count(*) FILTER (WHERE status = 'BOOKED') / count(*) AS u
                                     FROM evently.event_seats GROUP BY event_id) x),
        'most_popular_events', coalesce((SELECT jsonb_agg(x ORDER BY x.booking_count DESC, x.event_name) FROM (
               SELECT e.id AS event_id, e.name AS event_name, count(b.id) AS booking_count,
                      coalesce(sum(b.total_price), 0) AS revenue, e.venue, e.date_time
                 FROM evently.events e LEFT JOIN evently.bookings b ON b.event_id = e.id AND b.status = 'CONFIRMED'
                GROUP BY e.id ORDER BY count(b.id) DESC, e.name LIMIT 10) x), '[]'),
        'booking_trends', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'bookings', n, 'revenue', r) ORDER BY d)
                                      FROM (SELECT created_at::date AS d, count(*) AS n, sum(total_price) AS r
                                              FROM evently.bookings
                                             WHERE status = 'CONFIRMED' AND created_at > now() - interval '30 days'
                                             GROUP BY 1) x), '[]'),
        'events_by_status', coalesce((SELECT jsonb_object_agg(status, n)
                                        FROM (SELECT evently._lifecycle_status(status, date_time, end_time) AS status,
                                                     count(*) AS n
                                                FROM evently.events GROUP BY 1) x), '{}'),
        'revenue_by_month', coalesce((SELECT jsonb_agg(jsonb_build_object('month', m, 'revenue', r, 'events', n) ORDER BY m)
                                        FROM (SELECT to_char(created_at, 'YYYY-MM') AS m, sum(total_price) AS r,
                                                     count(DISTINCT event_id) AS n
                                                FROM evently.bookings
                                               WHERE status = 'CONFIRMED' AND created_at > now() - interval '12 months'
                                               GROUP BY 1) x), '[]'));
END
$$;

CREATE OR REPLACE FUNCTION evently._pct(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE RETURN coalesce(round(100 * part / nullif(whole, 0), 2), 0);

CREATE OR REPLACE FUNCTION evently._growth(current_value numeric, previous_value numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE RETURN coalesce(round(100 * (current_value - previous_value) / nullif(previous_value, 0), 2), 0);

-- per-booking facts the analytics share
CREATE OR REPLACE VIEW evently.booking_facts AS
    SELECT b.id, b.user_id, b.event_id, b.status, b.total_price, b.total_seats, b.created_at,
           b.total_price / nullif(b.total_seats, 0) AS ticket_price,
           e.name AS event_name, e.venue, e.date_time, p.payment_method
      FROM evently.bookings b
      JOIN evently.events e ON e.id = b.event_id
      LEFT JOIN evently.payments p ON p.booking_id = b.id;

-- GET /analytics/admin/events
CREATE OR REPLACE FUNCTION evently.api_analytics_events(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE sql STABLE RETURN evently.api_events_analytics(actor, req);

-- GET /analytics/admin/events/:id
CREATE OR REPLACE FUNCTION evently.api_analytics_event(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ev uuid := evently._uuid_arg(req->'path'->>'id', 'id');
    -- the same request (its session too: a signed-out token is refused
    -- here as everywhere), with the path that route names eventId
    base jsonb := evently.api_event_analytics(actor, req || jsonb_build_object('path', jsonb_build_object('eventId', ev)));
BEGIN
    RETURN base || jsonb_build_object(
        'total_bookings', (SELECT count(*) FROM evently.bookings WHERE event_id = ev AND status = 'CONFIRMED'),
        'total_revenue', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings WHERE event_id = ev AND status = 'CONFIRMED'),
        'top_sections', coalesce((SELECT jsonb_agg(jsonb_build_object('section_id', sec.id, 'section_name', sec.name,
                                                                       'tickets', n, 'revenue', r) ORDER BY n DESC, sec.name)
                                    FROM (SELECT section_id, count(*) AS n, sum(seat_price) AS r FROM evently.tickets
                                           WHERE event_id = ev AND status = 'VALID' GROUP BY 1) t
                                    JOIN evently.venue_sections sec ON sec.id = t.section_id), '[]'),
        'booking_trends', base->'bookings_by_day');
END
$$;

CREATE OR REPLACE FUNCTION evently._tag_stats() RETURNS TABLE (tag_id uuid, tag_name text, event_count bigint,
    total_bookings bigint, total_revenue numeric, avg_utilization numeric, avg_ticket_price numeric,
    avg_capacity_utilization numeric, booking_conversion numeric, popularity_score numeric)
LANGUAGE sql STABLE AS $$
    WITH per_tag AS (
        SELECT g.id, g.name,
               count(DISTINCT et.event_id) AS event_count,
               count(DISTINCT f.id) FILTER (WHERE f.status = 'CONFIRMED') AS bookings,
               coalesce(sum(f.total_price) FILTER (WHERE f.status = 'CONFIRMED'), 0) AS revenue,
               avg(f.ticket_price) FILTER (WHERE f.status = 'CONFIRMED') AS ticket_price,
               count(DISTINCT et.event_id) FILTER (WHERE f.status = 'CONFIRMED') AS events_with_bookings
          FROM evently.tags g
          LEFT JOIN evently.event_tags et ON et.tag_id = g.id
          LEFT JOIN evently.booking_facts f ON f.event_id = et.event_id
         GROUP BY g.id),
    utilization AS (
        SELECT et.tag_id, avg(evently._pct(count_booked, count_all)) AS capacity
          FROM evently.event_tags et
          JOIN (SELECT event_id, count(*) FILTER (WHERE status = 'BOOKED') AS count_booked, count(*) AS count_all
                  FROM evently.event_seats GROUP BY event_id) s ON s.event_id = et.event_id
         GROUP BY et.tag_id)
    SELECT p.id, p.name, p.event_count, p.bookings, p.revenue,
           evently._pct(p.events_with_bookings, p.event_count),
           coalesce(round(p.ticket_price, 2), 0),
           coalesce(round(u.capacity, 2), 0),
           coalesce(round(p.bookings::numeric / nullif(p.event_count, 0), 2), 0),
           round(p.event_count * 0.3 + p.bookings * 0.4 + p.revenue / 1000 * 0.2
                 + evently._pct(p.events_with_bookings, p.event_count) * 0.1, 2)
      FROM per_tag p LEFT JOIN utilization u ON u.tag_id = p.id
$$;

-- GET /analytics/admin/tags/popularity
CREATE OR REPLACE FUNCTION evently.api_analytics_tag_popularity(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', tag_id, 'tag_name', tag_name,
                'event_count', event_count, 'total_bookings', total_bookings, 'total_revenue', total_revenue,
                'avg_utilization', avg_utilization, 'popularity_score', popularity_score)
                ORDER BY popularity_score DESC, tag_name)
              FROM (SELECT * FROM evently._tag_stats() ORDER BY popularity_score DESC, tag_name LIMIT 20) t), '[]');
END
$$;

-- GET /analytics/admin/tags/comparisons
CREATE OR REPLACE FUNCTION evently.api_analytics_tag_comparisons(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', tag_id, 'tag_name', tag_name,
                'event_count', event_count, 'avg_capacity_utilization', avg_capacity_utilization,
                'avg_ticket_price', avg_ticket_price, 'total_revenue', total_revenue,
                'booking_conversion', booking_conversion) ORDER BY total_revenue DESC, tag_name)
              FROM (SELECT * FROM evently._tag_stats() ORDER BY total_revenue DESC, tag_name LIMIT 15) t), '[]');
END
$$;

-- GET /analytics/admin/tags/trends?months= (1-24, else 6)
CREATE OR REPLACE FUNCTION evently.api_analytics_tag_trends(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    raw text := req->'query'->>'months';
    months int := CASE WHEN raw ~ '^[0-9]{1,3}$' AND raw::int BETWEEN 1 AND 24 THEN raw::int ELSE 6 END;
BEGIN
    actor := evently._admin(actor, req);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('tag_id', g.id, 'tag_name', g.name, 'month', x.month,
                                                         'event_count', x.events, 'revenue', x.revenue)
                                      ORDER BY x.month, g.name)
              FROM (SELECT et.tag_id, to_char(f.created_at, 'YYYY-MM') AS month,
                           count(DISTINCT f.event_id) AS events, sum(f.total_price) AS revenue
                      FROM evently.booking_facts f JOIN evently.event_tags et ON et.event_id = f.event_id
                     WHERE f.status = 'CONFIRMED' AND f.created_at > now() - make_interval(months => months)
                     GROUP BY 1, 2) x
              JOIN evently.tags g ON g.id = x.tag_id), '[]');
END
$$;

-- GET /analytics/admin/tags
CREATE OR REPLACE FUNCTION evently.api_analytics_tags(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    most_popular text;
    least_used text;
BEGIN
    actor := evently._admin(actor, req);
    SELECT (array_agg(tag_name ORDER BY popularity_score DESC, tag_name))[1],
           (array_agg(tag_name ORDER BY event_count, tag_name))[1]
      INTO most_popular, least_used FROM evently._tag_stats();
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_tags', (SELECT count(*) FROM evently.tags),
            'active_tags', (SELECT count(*) FROM evently.tags WHERE is_active),
            'tags_with_events', (SELECT count(DISTINCT tag_id) FROM evently.event_tags),
            'avg_tags_per_event', (SELECT coalesce(round((SELECT count(*) FROM evently.event_tags)::numeric
                                                         / nullif(count(*), 0), 2), 0) FROM evently.events),
            'most_popular_tag', most_popular, 'least_used_tag', least_used),
        'top_tags', evently.api_analytics_tag_popularity(actor, req),
        'tag_trends', evently.api_analytics_tag_trends(actor, req),
        'comparisons', evently.api_analytics_tag_comparisons(actor, req));
END
$$;

-- bookings overview for a period [from, to)
CREATE OR REPLACE FUNCTION evently._booking_overview(from_time timestamptz, to_time timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'total_bookings', count(*),
        'confirmed_bookings', count(*) FILTER (WHERE status = 'CONFIRMED'),
        'cancelled_bookings', count(*) FILTER (WHERE status = 'CANCELLED'),
        'total_revenue', coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0),
        'average_booking_size', coalesce(round(avg(total_seats) FILTER (WHERE status = 'CONFIRMED'), 2), 0),
        'average_ticket_price', coalesce(round(avg(ticket_price) FILTER (WHERE status = 'CONFIRMED'), 2), 0),
        'cancellation_rate', evently._pct(count(*) FILTER (WHERE status = 'CANCELLED'), count(*)),
        'bookings_by_status', jsonb_build_object('CONFIRMED', count(*) FILTER (WHERE status = 'CONFIRMED'),
                                                 'CANCELLED', count(*) FILTER (WHERE status = 'CANCELLED')),
        'payment_methods', coalesce((SELECT jsonb_agg(jsonb_build_object('method', m, 'count', n) ORDER BY n DESC, m)
                                       FROM (SELECT payment_method AS m, count(*) AS n FROM evently.booking_facts
                                              WHERE created_at >= from_time AND created_at < to_time
                                              GROUP BY 1) x), '[]'))
      FROM evently.booking_facts WHERE created_at >= from_time AND created_at < to_time
$$;

-- GET /analytics/admin/bookings/daily: the last 30 days, newest first
CREATE OR REPLACE FUNCTION evently.api_analytics_bookings_daily(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'total_bookings', n, 'confirmed_bookings', c,
                                                         'cancelled_bookings', x, 'revenue', r,
                                                         'average_value', coalesce(round(r / nullif(c, 0), 2), 0))
                                      ORDER BY d DESC)
              FROM (SELECT created_at::date AS d, count(*) AS n, count(*) FILTER (WHERE status = 'CONFIRMED') AS c,
                           count(*) FILTER (WHERE status = 'CANCELLED') AS x,
                           coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0) AS r
                      FROM evently.bookings WHERE created_at > now() - interval '30 days' GROUP BY 1) t), '[]');
END
$$;

-- GET /analytics/admin/bookings
CREATE OR REPLACE FUNCTION evently.api_analytics_bookings(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    overall jsonb := evently._booking_overview('-infinity', 'infinity');
    cur jsonb := evently._booking_overview(now() - interval '30 days', 'infinity');
    prev jsonb := evently._booking_overview(now() - interval '60 days', now() - interval '30 days');
    user_now bigint := (SELECT count(*) FROM evently.users WHERE created_at > now() - interval '30 days');
    user_before bigint := (SELECT count(*) FROM evently.users
                            WHERE created_at BETWEEN now() - interval '60 days' AND now() - interval '30 days');
    insights jsonb := '[]';
BEGIN
    actor := evently._admin(actor, req);
    IF (overall->>'cancellation_rate')::numeric > 15 THEN
        insights := insights || jsonb_build_object('type', 'alert', 'message', 'Cancellation rate is above 15%');
    END IF;
    IF (overall->>'confirmed_bookings')::int > 0 AND (overall->>'average_booking_size')::numeric < 2 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Average booking size is below 2 seats');
    END IF;
    IF evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric) > 20 THEN
        insights := insights || jsonb_build_object('type', 'trend', 'message', 'Bookings grew more than 20% in 30 days');
    END IF;
    RETURN jsonb_build_object(
        'overview', overall || jsonb_build_object('daily_bookings', evently.api_analytics_bookings_daily(actor, req)),
        'trend_analysis', jsonb_build_object(
            'period_comparison', jsonb_build_object('current_period', cur, 'previous_period', prev,
                'percent_change', evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric)),
            'seasonality', '{}'::jsonb,
            'growth', jsonb_build_object(
                'booking_growth', evently._growth((cur->>'total_bookings')::numeric, (prev->>'total_bookings')::numeric),
                'revenue_growth', evently._growth((cur->>'total_revenue')::numeric, (prev->>'total_revenue')::numeric),
                'user_growth', evently._growth(user_now, user_before))),
        'performance_stats', jsonb_build_object(
            'conversion_rate', evently._pct((SELECT count(*) FROM evently.holds WHERE status = 'CONFIRMED'),
                                            (SELECT count(*) FROM evently.holds)),
            'abandonment_rate', evently._pct((SELECT count(*) FROM evently.holds WHERE status IN ('EXPIRED', 'RELEASED')),
                                             (SELECT count(*) FROM evently.holds)),
            'avg_time_to_book', coalesce((SELECT round(avg(extract(epoch FROM b.created_at - h.created_at)), 2)
                                            FROM evently.bookings b JOIN evently.holds h ON h.id = b.hold_id), 0)),
        'insights', insights);
END
$$;

-- GET /analytics/admin/bookings/cancellations
CREATE OR REPLACE FUNCTION evently.api_analytics_cancellations(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    actor := evently._admin(actor, req);
    RETURN (SELECT jsonb_build_object(
        'overview', jsonb_build_object(
            'total_cancellations', count(c.id),
            'cancellation_rate', evently._pct(count(c.id), (SELECT count(*) FROM evently.bookings)),
            'refund_amount', coalesce(sum(c.refund_amount), 0),
            'refund_rate', evently._pct(coalesce(sum(c.refund_amount), 0), coalesce(sum(b.total_price), 0)),
            'fees_collected', coalesce(sum(c.cancellation_fee), 0),
            'avg_time_to_cancel', coalesce(round(avg(extract(epoch FROM c.requested_at - b.created_at) / 3600), 2), 0)),
        'cancellation_reasons', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', r, 'count', n) ORDER BY n DESC, r)
                                            FROM (SELECT coalesce(reason, '') AS r, count(*) AS n
                                                    FROM evently.cancellations GROUP BY 1
                                                   ORDER BY n DESC, r LIMIT 20) x), '[]'),
        'timing_analysis', jsonb_build_object(
            'avg_hours_before_event', coalesce(round(avg(extract(epoch FROM e.date_time - c.requested_at) / 3600), 2), 0)),
        'financial_impact', jsonb_build_object('refunded', coalesce(sum(c.refund_amount), 0),
                                               'retained_fees', coalesce(sum(c.cancellation_fee), 0)),
        'trends', coalesce((SELECT jsonb_agg(jsonb_build_object('date', d, 'cancellations', n) ORDER BY d)
                              FROM (SELECT requested_at::date AS d, count(*) AS n FROM evently.cancellations
                                     WHERE requested_at > now() - interval '30 days' GROUP BY 1) x), '[]'))
      FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
      JOIN evently.events e ON e.id = b.event_id);
END
$$;

-- GET /analytics/admin/users: bookers, as the reference counted them
CREATE OR REPLACE FUNCTION evently.api_analytics_users(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint;
    active bigint;
    fresh bigint;
    bookings bigint;
    insights jsonb := '[]';
BEGIN
    actor := evently._admin(actor, req);
    -- the reference's formulas (evently-api.md 7.8): users are bookers, and
    -- an average counts confirmed bookings only
    SELECT count(DISTINCT user_id),
           count(DISTINCT user_id) FILTER (WHERE status = 'CONFIRMED' AND created_at > now() - interval '30 days'),
           count(*) FILTER (WHERE status = 'CONFIRMED')
      INTO total, active, bookings FROM evently.bookings;
    SELECT count(*) INTO fresh FROM (SELECT user_id FROM evently.bookings GROUP BY 1
                                      HAVING min(created_at) > now() - interval '30 days') x;
    IF total > 0 AND evently._pct(active, total) < 50 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Retention is below 50%');
    END IF;
    IF total > 0 AND bookings::numeric / total < 2 THEN
        insights := insights || jsonb_build_object('type', 'opportunity', 'message', 'Users book fewer than 2 times on average');
    END IF;
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_users', total, 'active_users', active, 'new_users', fresh,
            'retention_rate', evently._pct(active, total),
            'avg_bookings_per_user', coalesce(round(bookings::numeric / nullif(total, 0), 2), 0),
            -- new bookers per month of their first booking
            'user_growth', coalesce((SELECT jsonb_agg(jsonb_build_object('month', to_char(m, 'YYYY-MM'),
                                                                         'new_users', n) ORDER BY m)
                                       FROM (SELECT date_trunc('month', first_booking) AS m, count(*) AS n
                                               FROM (SELECT min(created_at) AS first_booking FROM evently.bookings
                                                      GROUP BY user_id) f
                                              GROUP BY 1) x), '[]'),
            'user_segments', jsonb_build_array(
                jsonb_build_object('segment', 'new', 'count', fresh, 'percentage', evently._pct(fresh, total)),
                jsonb_build_object('segment', 'regular', 'count', greatest(active - fresh, 0),
                                   'percentage', evently._pct(greatest(active - fresh, 0), total)),
                jsonb_build_object('segment', 'inactive', 'count', total - active,
                                   'percentage', evently._pct(total - active, total)))),
        'behavior', jsonb_build_object('registered_users', (SELECT count(*) FROM evently.users)),
        'insights', insights);
END
$$;

-- GET /analytics/admin/dashboard
CREATE OR REPLACE FUNCTION evently.api_analytics_dashboard(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    events jsonb := evently.api_events_analytics(actor, req);
    bookings jsonb := evently.api_analytics_bookings(actor, req);
    users jsonb := evently.api_analytics_users(actor, req);
    tags jsonb := evently.api_analytics_tags(actor, req);
BEGIN
    actor := evently._actor(actor, req);
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_events', events->'total_events', 'total_bookings', events->'total_bookings',
            'total_revenue', events->'total_revenue', 'total_users', (SELECT count(*) FROM evently.users),
            'active_events', (SELECT count(*) FROM evently.events WHERE status = 'published' AND date_time > now()),
            'cancellation_rate', bookings->'overview'->'cancellation_rate',
            'avg_utilization', events->'average_utilization',
            'revenue_growth', bookings->'trend_analysis'->'growth'->'revenue_growth'),
        'event_metrics', events,
        'booking_metrics', bookings,
        'user_metrics', users,
        'tag_metrics', tags->'overview',
        'recent_activity', coalesce((SELECT jsonb_agg(a ORDER BY a->>'timestamp' DESC) FROM (
                (SELECT jsonb_build_object('type', 'booking', 'description', 'Booking ' || booking_ref,
                                           'timestamp', created_at, 'user_id', user_id, 'event_id', event_id) AS a
                   FROM evently.bookings ORDER BY created_at DESC LIMIT 10)
                UNION ALL
                (SELECT jsonb_build_object('type', 'cancellation', 'description', 'Cancellation of a booking',
                                           'timestamp', c.requested_at, 'user_id', b.user_id, 'event_id', b.event_id)
                   FROM evently.cancellations c JOIN evently.bookings b ON b.id = c.booking_id
                  ORDER BY c.requested_at DESC LIMIT 5)
                UNION ALL
                (SELECT jsonb_build_object('type', 'event_created', 'description', 'Event ' || name,
                                           'timestamp', created_at, 'event_id', id)
                   FROM evently.events ORDER BY created_at DESC LIMIT 5)) x), '[]'),
        'top_performers', jsonb_build_object(
            'events', events->'most_popular_events',
            'tags', tags->'top_tags',
            'venues', coalesce((SELECT jsonb_agg(jsonb_build_object('venue', venue, 'bookings', n, 'revenue', r)
                                                 ORDER BY r DESC, venue)
                                  FROM (SELECT venue, count(*) AS n, sum(total_price) AS r FROM evently.booking_facts
                                         WHERE status = 'CONFIRMED' GROUP BY 1
                                         ORDER BY r DESC, venue LIMIT 10) x), '[]')),
        'trend_charts', jsonb_build_object(
            'booking_trends', events->'booking_trends',
            'revenue_trends', events->'revenue_by_month',
            'user_growth', users->'overview'->'user_growth'));
END
$$;

-- GET /analytics/user/bookings/history: the actor's own
CREATE OR REPLACE FUNCTION evently.api_analytics_user_history(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    insights jsonb := '[]';
    spent numeric;
    n bigint;
BEGIN
    actor := evently._actor(actor, req);
    SELECT count(*) FILTER (WHERE status = 'CONFIRMED'), coalesce(sum(total_price) FILTER (WHERE status = 'CONFIRMED'), 0)
      INTO n, spent FROM evently.bookings WHERE user_id = actor;
    IF n > 10 THEN insights := insights || jsonb_build_object('type', 'badge', 'message', 'Frequent Attendee'); END IF;
    IF spent > 1000 THEN insights := insights || jsonb_build_object('type', 'badge', 'message', 'Big Spender'); END IF;
    RETURN jsonb_build_object(
        'overview', jsonb_build_object(
            'total_bookings', n, 'total_spent', spent,
            'avg_booking_value', coalesce(round(spent / nullif(n, 0), 2), 0),
            'favorite_venue', (SELECT venue FROM evently.booking_facts WHERE user_id = actor AND status = 'CONFIRMED'
                                GROUP BY venue ORDER BY count(*) DESC, venue LIMIT 1),
            'favorite_event_type', (SELECT g.name FROM evently.booking_facts f JOIN evently.event_tags et ON et.event_id = f.event_id
                                      JOIN evently.tags g ON g.id = et.tag_id
                                     WHERE f.user_id = actor AND f.status = 'CONFIRMED'
                                     GROUP BY g.name ORDER BY count(*) DESC, g.name LIMIT 1),
            'member_since', (SELECT created_at FROM evently.users WHERE id = actor)),
        'booking_history', coalesce((SELECT jsonb_agg(jsonb_build_object('booking_id', id, 'event_id', event_id,
                                            'event_name', event_name, 'venue', venue, 'event_date', date_time,
                                            'total_price', total_price, 'total_seats', total_seats, 'status', status,
                                            'booked_at', created_at) ORDER BY created_at DESC)
                                       FROM (SELECT * FROM evently.booking_facts WHERE user_id = actor
                                              ORDER BY created_at DESC LIMIT 50) x), '[]'),
        'spending_analysis', jsonb_build_object(
            'spending_by_month', coalesce((SELECT jsonb_object_agg(m, r) FROM (
                    SELECT to_char(created_at, 'YYYY-MM') AS m, sum(total_price) AS r FROM evently.bookings
                     WHERE user_id = actor AND status = 'CONFIRMED' GROUP BY 1) x), '{}'),
            'spending_by_category', coalesce((SELECT jsonb_object_agg(t, r) FROM (
                    SELECT g.name AS t, sum(f.total_price) AS r FROM evently.booking_facts f
                      JOIN evently.event_tags et ON et.event_id = f.event_id JOIN evently.tags g ON g.id = et.tag_id
                     WHERE f.user_id = actor AND f.status = 'CONFIRMED' GROUP BY 1) x), '{}'),
            'yearly_total', (SELECT coalesce(sum(total_price), 0) FROM evently.bookings
                              WHERE user_id = actor AND status = 'CONFIRMED' AND created_at > now() - interval '1 year')),
        'preferences', '{}'::jsonb,
        'insights', insights);
END
$$;

-- GET /analytics/user/personal
CREATE OR REPLACE FUNCTION evently.api_analytics_user_personal(actor uuid, req jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    advance numeric;
    monthly numeric;
    achievements jsonb := '[]';
BEGIN
    actor := evently._actor(actor, req);
    SELECT coalesce(round(avg(extract(epoch FROM date_time - created_at) / 86400), 2), 0)
      INTO advance FROM evently.booking_facts WHERE user_id = actor AND status = 'CONFIRMED';
    SELECT coalesce(round(avg(r), 2), 0) INTO monthly FROM (
        SELECT sum(total_price) AS r FROM evently.bookings WHERE user_id = actor AND status = 'CONFIRMED'
         GROUP BY date_trunc('month', created_at)) x;
    IF advance > 30 THEN achievements := achievements || jsonb_build_object('id', 'early_bird'); END IF;
    IF monthly > 500 THEN achievements := achievements || jsonb_build_object('id', 'high_roller'); END IF;
    RETURN jsonb_build_object(
        'booking_patterns', jsonb_build_object(
            'booking_frequency', (SELECT count(*) FROM evently.bookings WHERE user_id = actor),
            'preferred_day', (SELECT trim(to_char(created_at, 'Day')) FROM evently.bookings WHERE user_id = actor
                               GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
            'preferred_time', (SELECT to_char(created_at, 'HH24') || ':00' FROM evently.bookings WHERE user_id = actor
                                GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1),
            'advance_booking_time', advance,
            'seasonal_preferences', '{}'::jsonb),
        'spending_insights', jsonb_build_object('monthly_average', monthly),
        'recommendations', coalesce((SELECT jsonb_agg(jsonb_build_object('event_id', e.id, 'event_name', e.name,
                                                                         'date_time', e.date_time) ORDER BY e.date_time)
                                       FROM (SELECT * FROM evently.events WHERE status = 'published' AND date_time > now()
                                               AND id NOT IN (SELECT event_id FROM evently.bookings WHERE user_id = actor)
                                             ORDER BY date_time LIMIT 5) e), '[]'),
        'achievements', achievements);
END
$$;
