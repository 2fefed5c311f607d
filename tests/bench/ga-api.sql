-- pgbench: the shim's two SQL calls for one purchase of 1-4 units (ga-baseline.sql,
-- bench.api_reserve and bench.api_order); client c is buyers c, c + clients, ... in turn
\set q random(1, 4)
\set i :i + 1
\set buyer (:i * :clients + :client_id) % :buyers
SELECT bench.api_reserve(:buyer, :q) AS hold \gset
SELECT bench.api_order(:buyer, :hold, :client_id, :i);
