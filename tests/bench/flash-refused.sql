-- pgbench: a hold of 1-4 seats already booked (flash-setup.sql, bench.api_hold_taken)
\set q random(1, 4)
\set buyer random(0, :buyers - 1)
SELECT bench.api_hold_taken(:q, :buyer);
