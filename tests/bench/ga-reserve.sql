-- pgbench: one reservation of 1-4 units by -D method=counter|units|units_random|reserve_tiers;
-- client c is buyers c, c + clients, c + 2 * clients, ... in turn (-D clients, buyers)
\set q random(1, 4)
\set i :i + 1
\set buyer (:i * :clients + :client_id) % :buyers
SELECT bench.reserve(:method, :buyer, :q);
