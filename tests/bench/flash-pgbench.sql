-- pgbench: the shim's two SQL calls for one purchase of 1-4 seats
-- (flash-setup.sql, bench.api_hold and bench.api_confirm), from the seats
-- dealt to the client, in turn; client c is buyers c, c + clients, ... in turn
\set q random(1, 4)
\set i :i + 1
\set buyer (:i * :clients + :client_id) % :buyers
SELECT bench.api_hold(:client_id, :pos, :q, :buyer) AS hold \gset
SELECT bench.api_confirm(:hold, :client_id, :pos, :buyer);
\set pos :pos + :q
