-- seed.sql: the demo data of the Evently API (reference section 9), loaded by
-- `make run` into an empty database.  Runs once: a second run changes nothing.
-- Two parts, so that evently on shards (make run SHARDS=n, SPEC section 13)
-- loads the same data: the global part (users, tags, venue templates,
-- organizers) on the global primary, which replicates it to every shard,
-- with SET seed.part = 'global'; then the events part on each shard k of n,
-- with SET seed.part = 'events', seed.shard = k, seed.shards = n: event i
-- (1..6, in the order below) goes to shard ((i - 1) mod n) + 1.  Without
-- these settings, both parts, every event: one database.
DO $seed$
DECLARE
    admin_id uuid;
    theater uuid;
    hall uuid;
    application jsonb;
BEGIN
    IF current_setting('seed.part', true) = 'events' THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM evently.users WHERE lower(email) = 'admin@gmail.com') THEN
        RAISE NOTICE 'seed data already loaded';
        RETURN;
    END IF;

    admin_id := evently.create_user('admin@gmail.com', 'qwerty', 'Admin', 'User', 'ADMIN');
    PERFORM evently.create_user('mitshah2406@gmail.com', 'qwerty', 'Mit', 'Shah');
    PERFORM evently.create_user('mitshah2406.work@gmail.com', 'qwerty', 'Mit', 'Shah');

    PERFORM evently.create_tag(t.name, t.color, NULL, admin_id)
      FROM (VALUES ('Technology', '#3B82F6'), ('Music', '#EF4444'), ('Sports', '#10B981'),
                   ('Business', '#8B5CF6'), ('Arts', '#F59E0B'), ('Food', '#EC4899')) t(name, color);

    theater := evently.create_venue_template('Small Theater', 'THEATER');
    PERFORM evently.add_section(theater, 'Premium', 'A', 'A', 13);
    PERFORM evently.add_section(theater, 'Standard', 'B', 'B', 13);
    hall := evently.create_venue_template('Conference Hall', 'CONFERENCE');
    PERFORM evently.add_section(hall, 'VIP', 'A', 'A', 8);
    PERFORM evently.add_section(hall, 'General', 'B', 'C', 10);
    UPDATE evently.venue_templates SET default_rows = 2, default_seats_per_row = 13;

    -- organizers (SPEC section 9): one verified, owning two of the events
    -- below, and one applicant waiting for an ADMIN
    application := evently.api_organizer_apply(
        evently.create_user('organizer@example.com', 'qwerty', 'Olivia', 'Organizer'),
        jsonb_build_object('body', jsonb_build_object(
            'organization_name', 'Evently Live', 'description', 'Concerts and gallery nights.')));
    PERFORM evently.api_admin_organizer_verify(admin_id, jsonb_build_object(
        'path', jsonb_build_object('id', application->>'id'), 'body', jsonb_build_object('decision', 'VERIFIED')));
    PERFORM evently.api_organizer_apply(evently.create_user('applicant@example.com', 'qwerty', 'Andy', 'Applicant'),
        jsonb_build_object('body', jsonb_build_object('organization_name', 'Pending Productions',
                                                      'description', 'Comedy nights, soon.')));
END
$seed$;

DO $seed$
<<seed>>
DECLARE
    admin_id uuid := (SELECT id FROM evently.users WHERE lower(email) = 'admin@gmail.com');
    organizer_id uuid := (SELECT o.id FROM evently.organizers o JOIN evently.users u ON u.id = o.user_id
                           WHERE lower(u.email) = 'organizer@example.com' AND o.verification_status = 'VERIFIED');
    shard int := coalesce(nullif(current_setting('seed.shard', true), '')::int, 1);
    shards int := coalesce(nullif(current_setting('seed.shards', true), '')::int, 1);
    ev record;
    event_id uuid;
BEGIN
    IF current_setting('seed.part', true) = 'global' THEN
        RETURN;
    END IF;
    IF admin_id IS NULL THEN
        RAISE EXCEPTION 'no admin@gmail.com here: the global part first (on the global primary, when sharded)';
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
