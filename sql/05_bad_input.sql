-- A sweep of bad arguments through every function: each must be refused
-- with the extension's own SQLSTATE (class EV), never a raw PostgreSQL error,
-- and must leave nothing behind.  Listed below: any call that did otherwise.
SET client_min_messages = warning;

CREATE TEMP TABLE bad_calls (stmt text);
INSERT INTO bad_calls VALUES
 -- accounts
 ($$SELECT evently.create_user(NULL, 'qwerty', 'A', 'B')$$),
 ($$SELECT evently.create_user('n@example.com', NULL, 'A', 'B')$$),
 ($$SELECT evently.create_user('n@example.com', 'qwerty', NULL, 'B')$$),
 ($$SELECT evently.create_user('n@example.com', 'qwerty', 'A', NULL)$$),
 ($$SELECT evently.create_user('n@example.com', 'qwerty', 'A', 'B', NULL)$$),
 ($$SELECT evently.create_user('n@example.com', 'qwerty', repeat('a', 101), 'B')$$),
 ($$SELECT evently.create_user(repeat('a', 250) || '@example.com', 'qwerty', 'A', 'B')$$),
 ($$SELECT evently.create_user('n@example.com', 'qwerty', 'A', 'B', 'admin; DROP TABLE evently.users')$$),
 -- tags and venues
 ($$SELECT evently.create_tag(NULL)$$),
 ($$SELECT evently.create_tag('!!')$$),
 ($$SELECT evently.create_tag('Jazz', 'red')$$),
 ($$SELECT evently.create_tag('Jazz', '#12345G')$$),
 ($$SELECT evently.create_tag('Jazz', '#123456', repeat('d', 501))$$),
 ($$SELECT evently.create_tag('Jazz', '#123456', NULL, gen_random_uuid())$$),
 ($$SELECT evently.create_tag('Live Music')$$),
 ($$SELECT evently.create_venue_template(NULL)$$),
 ($$SELECT evently.create_venue_template('  ')$$),
 ($$SELECT evently.create_venue_template(repeat('n', 256))$$),
 ($$SELECT evently.create_venue_template('New', NULL)$$),
 ($$SELECT evently.create_venue_template('New', 'THEATER', repeat('d', 1001))$$),
 ($$SELECT evently.add_section(NULL, 'S', 'A', 'A', 1)$$),
 ($$SELECT evently.add_section(t.id('hall2'), NULL, 'A', 'A', 1)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', NULL, 'A', 1)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', 'A', NULL, 1)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', 'A', 'A', NULL)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', 'A', 'A', 0)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', '1', '99999', 1)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', '-1', '3', 1)$$),
 ($$SELECT evently.add_section(t.id('wide'), 'S', 'A', 'A', 1, repeat('d', 501))$$),
 ($$SELECT evently.add_section(t.id('wide'), repeat('s', 256), 'A', 'A', 1)$$),
 -- events
 ($$SELECT evently.create_event(NULL, t.id('hall'), now() + interval '1 day', 1)$$),
 ($$SELECT evently.create_event('E', NULL, now() + interval '1 day', 1)$$),
 ($$SELECT evently.create_event('E', t.id('hall'), NULL, 1)$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', NULL)$$),
 ($$SELECT evently.create_event('E', t.id('hall'), 'infinity', 1)$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 'NaN')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1e20)$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, gen_random_uuid())$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, venue => repeat('v', 256))$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, description => repeat('d', 2001))$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, section_multipliers => '[1, 2]')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, section_multipliers => '{"Front": "x"}')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, section_multipliers => '{"Front": 0}')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, tags => ARRAY[NULL])$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, settings => '{"hold_ttl": "banana"}')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, settings => '{"hold_ttl": "2 days"}')$$),
 ($$SELECT evently.create_event('E', t.id('hall'), now() + interval '1 day', 1, settings => '{"max_seats_per_user": 1e12}')$$),
 -- policies
 ($$SELECT evently.set_cancellation_policy(NULL, true, now(), 'NONE', 0)$$),
 ($$SELECT evently.set_cancellation_policy(t.id('gig'), true, now(), NULL, 0)$$),
 ($$SELECT evently.set_cancellation_policy(t.id('gig'), true, now(), 'NONE', NULL)$$),
 ($$SELECT evently.set_cancellation_policy(t.id('gig'), true, now(), 'FIXED', 1e15)$$),
 ($$SELECT evently.set_cancellation_policy(t.id('gig'), true, now(), 'NONE', 0, NULL)$$),
 ($$SELECT evently.set_cancellation_policy(t.id('gig'), true, '-infinity', 'NONE', 0, 1, gen_random_uuid())$$),
 -- the engine
 ($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), ARRAY[[t.seats('gig', 'B1')]])$$),
 ($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), t.seats('gig', 'B1'), '1000000 years')$$),
 ($$SELECT evently.hold_seats(t.id('gig'), t.id('bob'), ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 200000)))$$),
 ($$SELECT evently.release_hold(NULL, t.id('bob'))$$),
 ($$SELECT evently.release_hold(t.id('h1'), NULL)$$),
 ($$SELECT evently.release_hold(t.id('h1'), gen_random_uuid())$$),
 ($$SELECT evently.confirm_booking(t.id('c4'), t.id('bob'), NULL, repeat('k', 256))$$),
 ($$SELECT evently.confirm_booking(t.id('c4'), gen_random_uuid())$$),
 ($$SELECT evently.cancel_with_policy(t.id('b2'), NULL)$$),
 ($$SELECT evently.waitlist_promote(NULL)$$),
 ($$SELECT evently.join_waitlist(NULL, t.id('bob'))$$),
 ($$SELECT evently.join_waitlist(t.id('gig'), NULL)$$),
 ($$SELECT evently.join_waitlist(t.id('gig'), t.id('bob'), -2147483648)$$),
 ($$SELECT evently.leave_waitlist(NULL, t.id('bob'))$$),
 ($$SELECT evently.leave_waitlist(t.id('gig'), NULL)$$);

CREATE TEMP TABLE counts_before AS
SELECT (SELECT count(*) FROM evently.users) AS users, (SELECT count(*) FROM evently.tags) AS tags,
       (SELECT count(*) FROM evently.venue_templates) AS templates, (SELECT count(*) FROM evently.events) AS events,
       (SELECT count(*) FROM evently.holds) AS holds, (SELECT count(*) FROM evently.outbox) AS outbox,
       (SELECT count(*) FROM evently.audit_log) AS audit;

SELECT stmt, outcome FROM (SELECT stmt, t.try(stmt) AS outcome FROM bad_calls) r
 WHERE outcome NOT LIKE 'EV0%';

SELECT (SELECT count(*) FROM evently.users) AS users, (SELECT count(*) FROM evently.tags) AS tags,
       (SELECT count(*) FROM evently.venue_templates) AS templates, (SELECT count(*) FROM evently.events) AS events,
       (SELECT count(*) FROM evently.holds) AS holds, (SELECT count(*) FROM evently.outbox) AS outbox,
       (SELECT count(*) FROM evently.audit_log) AS audit
EXCEPT SELECT * FROM counts_before;

-- every change above kept the seat counters and the catalogs in step
SELECT t.counters_agree(), t.catalogs_agree();
