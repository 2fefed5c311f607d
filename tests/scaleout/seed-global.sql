-- seed-global.sql: the global half of extension/seed.sql (keep the two in
-- step), for make run SHARDS=n: the users, tags, venue templates and the
-- organizers, loaded on the global primary, which replicates them to every
-- shard before each statement returns.  tests/scaleout/seed-events.sql then
-- makes the events on the shards.  Runs once: a second run changes nothing.
DO $seed$
DECLARE
    admin_id uuid;
    theater uuid;
    hall uuid;
    application jsonb;
BEGIN
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

    -- organizers (SPEC section 9): one verified (its two events are set on
    -- their shards by seed-events.sql), and one applicant waiting for an ADMIN
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
