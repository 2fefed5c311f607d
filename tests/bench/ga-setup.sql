-- The GA flash sale's world (tests/bench/ga-flash-sale.sh): a published
-- tiers-only event whose 10,000-unit tier an ADMIN makes through the tier
-- API (its units and counters as in production), one buyer per client, and
-- a second event for the baseline's fresh tiers (ga-baseline.sql).
-- psql variables: clients (how many buyers), units (the tier's size).
CREATE SCHEMA bench;
SELECT evently.create_user('ga-admin@example.com', 'benchpass', 'Bench', 'Admin', 'ADMIN') AS admin_id \gset
INSERT INTO evently.events (name, venue, date_time, end_time, base_price, status, max_seats_per_user)
VALUES ('GA Flash Sale', 'The Yard', now() + interval '30 days', now() + interval '30 days 4 hours', 0,
        'published', 1000),
       ('GA Baseline', 'The Yard', now() + interval '30 days', now() + interval '30 days 4 hours', 0,
        'published', 1000);
SELECT evently.api_event_tier_create(:'admin_id', jsonb_build_object(
         'path', jsonb_build_object('eventId', (SELECT id FROM evently.events WHERE name = 'GA Flash Sale')),
         'body', jsonb_build_object('name', 'General admission', 'price', 49.90,
                                    'total_quantity', :units, 'max_per_order', 4))) ->> 'id' AS tier_id \gset
CREATE TABLE bench.sale AS
SELECT id AS event_id, :'tier_id'::uuid AS tier_id FROM evently.events WHERE name = 'GA Flash Sale';
-- every buyer has the same cost-10 bcrypt hash (one computed); each logs in
-- once before the clock starts
INSERT INTO evently.users (email, password_hash, first_name, last_name)
SELECT format('ga%s@example.com', n), (SELECT evently._bcrypt_hash('benchpass')), 'Buyer', n::text
  FROM generate_series(0, :clients - 1) n;
