-- seed-events.sql: the events of extension/seed.sql (keep the two in step),
-- for make run SHARDS=n: run on shard :shard of :shards after
-- seed-global.sql on the global primary (whose users, templates, tags and
-- organizers this shard has by replication).  Event number i (1..6, in
-- seed.sql's order) goes to shard ((i - 1) mod n) + 1, so two shards get
-- three each.  Runs once: a second run changes nothing.
SET seed.shard = :'shard';
SET seed.shards = :'shards';
DO $seed$
<<seed>>
DECLARE
    admin_id uuid := (SELECT id FROM evently.users WHERE lower(email) = 'admin@gmail.com');
    organizer_id uuid := (SELECT o.id FROM evently.organizers o JOIN evently.users u ON u.id = o.user_id
                           WHERE lower(u.email) = 'organizer@example.com' AND o.verification_status = 'VERIFIED');
    shard int := current_setting('seed.shard')::int;
    shards int := current_setting('seed.shards')::int;
    ev record;
    event_id uuid;
BEGIN
    IF admin_id IS NULL THEN
        RAISE EXCEPTION 'no admin@gmail.com on this shard: load seed-global.sql on the global primary first';
    END IF;
    IF EXISTS (SELECT 1 FROM evently.events
                WHERE name IN ('Tech Conference 2024', 'Classical Music Evening', 'Startup Pitch Night',
                               'Food & Wine Festival', 'Art Gallery Opening', 'Sports Analytics Summit')) THEN
        RAISE NOTICE 'seed events already loaded';
        RETURN;
    END IF;

    FOR ev IN
        SELECT * FROM (VALUES
          (1, 'Tech Conference 2024', 'Tech Hub Convention Center', 'Conference Hall', 30, 1500,
           '{"VIP": 2.0, "General": 1.0}'::jsonb, ARRAY['technology', 'business'],
           true, interval '7 days', 'PERCENTAGE', 10, 5, 'conference'),
          (2, 'Classical Music Evening', 'Grand Opera House', 'Small Theater', 45, 800,
           '{"Premium": 1.8, "Standard": 1.0}', ARRAY['music', 'arts'],
           true, interval '3 days', 'FIXED', 50, 3, 'music'),
          (3, 'Startup Pitch Night', 'Innovation Center', 'Conference Hall', 15, 500,
           '{"VIP": 1.5, "General": 1.0}', ARRAY['technology', 'business'],
           true, interval '1 day', 'PERCENTAGE', 25, 7, 'business'),
          (4, 'Food & Wine Festival', 'Central Park Pavilion', 'Small Theater', 60, 1200,
           '{"Premium": 1.5, "Standard": 1.0}', ARRAY['food'],
           false, interval '0', 'NONE', 0, 0, 'food'),
          (5, 'Art Gallery Opening', 'Modern Art Museum', 'Small Theater', 25, 600,
           '{"Premium": 1.3, "Standard": 1.0}', ARRAY['arts'],
           true, interval '5 days', 'PERCENTAGE', 5, 5, 'arts'),
          (6, 'Sports Analytics Summit', 'Sports Complex Conference Room', 'Conference Hall', 90, 2000,
           '{"VIP": 2.5, "General": 1.0}', ARRAY['sports', 'technology', 'business'],
           true, interval '10 days', 'FIXED', 100, 10, 'sports')
        ) AS t(i, name, venue, template, days, base_price, multipliers, tags,
               allow, before_event, fee_type, fee_amount, processing_days, category)
        WHERE (i - 1) % shards + 1 = shard
    LOOP
        event_id := evently.create_event(ev.name, (SELECT id FROM evently.venue_templates WHERE name = ev.template),
                                         now() + make_interval(days => ev.days),
                                         ev.base_price, admin_id, ev.venue, NULL,
                                         ev.multipliers, ev.tags,
                                         jsonb_build_object('category', ev.category));
        PERFORM evently.set_cancellation_policy(event_id, ev.allow,
                    now() + make_interval(days => ev.days) - ev.before_event,
                    ev.fee_type, ev.fee_amount, ev.processing_days, admin_id);
    END LOOP;

    -- the verified organizer's two events, wherever they are
    UPDATE evently.events SET organizer_id = seed.organizer_id
     WHERE name IN ('Classical Music Evening', 'Art Gallery Opening');
END
$seed$;
