-- pgbench: the availability read of a random section (flash-setup.sql, bench.api_read)
\set s random(1, 10)
SELECT bench.api_read(:s);
