#!/usr/bin/env bash
# Scale-out benchmark (not part of make test; SPEC section 13): hold+confirm
# pairs per second through the proxy (PL/Proxy, then pgbouncer in
# transaction mode, then the shard) as a ratio of the same pairs sent to the
# shard directly, in the same run on the same throw-away topology
# (tests/scaleout/topology.sh, two shards).  8 pgbench clients as the
# gateway's role over TCP, distinct seats, runs interleaved direct, proxy,
# proxy, direct, each on an event of its own on shard 1.  Everything shares the machine's cores, so the ratio
# is the hop's cost in CPU as much as in latency.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
DIR=$STATE_DIR/bench/scaleout
DURATION=${BENCH_SECONDS:-10}
CLIENTS=8

make_user_dir "$(dirname "$DIR")"
trap 'bash "$HERE/../scaleout/topology.sh" stop "$DIR" >/dev/null 2>&1' EXIT
TOPOLOGY_FAST=1 bash "$HERE/../scaleout/topology.sh" start "$DIR" 2 >"$DIR.log" 2>&1 || { tail "$DIR.log"; exit 1; }
source "$DIR/topology.env"
SHARD1=${SHARD_SUS%%;*}
sql() { as_pg_user psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# buyers and a 10,000-seat hall on the global primary (through the proxy),
# eight events placed in turn: four on each shard
sql "$PROXY_SU" <<'SQL' >/dev/null
CREATE SCHEMA bench;
CREATE TABLE bench.users AS
  SELECT n, evently.create_user(format('bench%s@example.com', n), 'qwerty', 'Bench', n::text) AS id
    FROM generate_series(0, 7) n;
SELECT evently.create_venue_template('Bench Hall') AS hall \gset
SELECT evently.add_section(:'hall', s, '1', '100', 50) FROM unnest(ARRAY['East', 'West']) s;
CREATE TABLE bench.events AS
  SELECT i, evently.create_event('Bench ' || i, :'hall', now() + interval '30 days', 10) AS id
    FROM generate_series(1, 8) i;
CREATE TABLE bench.seats AS
  SELECT e.id AS event_id, row_number() OVER (PARTITION BY e.id ORDER BY s.seat_id) AS n, s.seat_id AS id
    FROM bench.events e, evently.event_seats(e.id) s WHERE evently_proxy.bucket(e.id::text) = 1;
CREATE INDEX ON bench.seats (event_id, n);
SQL
# the same tables on shard 1, for the direct runs
sql "$SHARD1" -c "CREATE SCHEMA bench" \
  -c "CREATE TABLE bench.users (n int, id uuid)" -c "CREATE TABLE bench.seats (event_id uuid, n bigint, id uuid)"
for t in users seats; do
  sql "$PROXY_SU" -c "\copy bench.$t TO STDOUT" | sql "$SHARD1" -c "\copy bench.$t FROM STDIN"
done
sql "$SHARD1" -c "CREATE INDEX ON bench.seats (event_id, n)" -c "ANALYZE"
mapfile -t events < <(sql "$PROXY_SU" -tA -c "SELECT id FROM bench.events WHERE evently_proxy.bucket(id::text) = 1 ORDER BY i")
[ "${#events[@]}" -eq 4 ] || { echo "expected 4 events on shard 1, got ${#events[@]}"; exit 1; }

# both sides as the gateway's role, evently_app, as a shim would call them
for su in "$PROXY_SU" "$SHARD1"; do
  sql "$su" -c "GRANT USAGE ON SCHEMA bench TO evently_gateway" -c "GRANT SELECT ON ALL TABLES IN SCHEMA bench TO evently_gateway"
done
SHARD1_URL=${SHARD_URLS%% *}
# pairs URL EVENT: pairs per second on that database
pairs() {
  local out=$DIR/pairs-$2.out
  as_pg_user pgbench -n -M prepared -c "$CLIENTS" -j 2 \
    -T "$DURATION" -D i=0 -D event_id="$2" -f "$HERE/scaleout-pair.sql" "$1" >"$out" 2>&1
  grep -q "number of failed transactions: 0 " "$out" && ! grep -q "aborted" "$out" || { cat "$out" >&2; exit 1; }
  grep -oP 'tps = \K[0-9.]+(?= \(without)' "$out"
}

d1=$(pairs "$SHARD1_URL" "${events[0]}")
p1=$(pairs "$PROXY_URL" "${events[1]}")
p2=$(pairs "$PROXY_URL" "${events[2]}")
d2=$(pairs "$SHARD1_URL" "${events[3]}")
printf 'hold+confirm on shard 1 directly   %8.1f %8.1f pairs/s\n' "$d1" "$d2"
printf 'hold+confirm through the proxy     %8.1f %8.1f pairs/s\n' "$p1" "$p2"
awk -v d1="$d1" -v d2="$d2" -v p1="$p1" -v p2="$p2" \
  'BEGIN { printf "ratio proxy / direct               %8.2f\n", (p1 + p2) / (d1 + d2) }'
# what the runs did: every pair a booking, no seat sold twice
sql "$SHARD1" -tA <<'SQL'
SELECT 'seats sold twice: ' || count(*) - count(DISTINCT (event_id, seat_id)) FROM evently.tickets WHERE status = 'VALID';
SELECT 'bookings on shard 1: ' || count(*) FROM evently.bookings;
SQL
