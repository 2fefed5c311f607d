#!/usr/bin/env bash
# Shim benchmark (not part of make test), all on one throw-away cluster:
#  GET /api/v1/events/{id} from the read cache (SPEC section 12) as a ratio of
#  a bare libmicrohttpd server answering a fixed body (target >= 0.5, p99 <
#  10 ms); the same GET with Cache-Control: no-cache, which calls the
#  database, as a ratio of pgbench making the same SQL call (target >= 0.8);
#  POST hold + confirm as a ratio
#  of pgbench calling the same SQL functions (target >= 0.6); the shim's RSS
#  with 1,000 idle connections (target < 64 MiB).  64 connections each.
#  The GET is also quoted against pgbench making the same SQL call, which is
#  the database's own ceiling for it on this machine.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${BENCH_SECONDS:-10}
SHIM_PORT=${BENCH_SHIM_PORT:-18080}
BARE_PORT=${BENCH_BARE_PORT:-18081}

cluster_start "$STATE_DIR/bench/shim"
cluster_psql -f "$HERE/shim-setup.sql" >/dev/null
cluster_psql -f "$ROOT_DIR/extension/seed.sql" >/dev/null
DIR=$CLUSTER_DIR
cc -O2 -o "$DIR/bare" "$HERE/bare.c" -lmicrohttpd

# both servers (and the idle connections below) are stopped with the cluster
# when this script exits (cluster.sh)
PORT=$SHIM_PORT POOL_SIZE=${BENCH_POOL:-8} RATE_LIMIT_BURST=1000000 RATE_LIMIT_PER_MINUTE=1000000 \
  JWT_SECRET=bench-secret-of-more-than-32-bytes-xx DATABASE_URL="host=$DIR dbname=evently user=postgres" \
  start_background "$ROOT_DIR/shim/evently-shim" 2>"$DIR/shim.log"
echo $! >"$DIR/shim.pid"
start_background "$DIR/bare" "$BARE_PORT"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$SHIM_PORT/ping" >/dev/null && break; sleep 0.1; done

event=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = 'Bench Match'")
cluster_psql -tA -c "SELECT id FROM bench.seats WHERE n <= 25600 ORDER BY n" >"$DIR/seats.txt"
: >"$DIR/tokens.txt"
for n in $(seq 0 7); do
  curl -s -X POST "http://127.0.0.1:$SHIM_PORT/api/v1/auth/login" \
    -d "{\"email\":\"bench$n@example.com\",\"password\":\"benchpass\"}" |
    sed -E 's/.*"access_token":"([^"]+)".*/\1/' >>"$DIR/tokens.txt"
  echo >>"$DIR/tokens.txt"
done

rps() { grep -oP 'Requests/sec:\s+\K[0-9.]+' "$1"; }
p99() { grep -oP '^\s+99%\s+\K\S+' "$1"; }

wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$BARE_PORT/" >"$DIR/bare.out"
small=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = 'Tech Conference 2024'")
wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$SHIM_PORT/api/v1/events/$small" >"$DIR/get.out"
wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$SHIM_PORT/api/v1/events/$event" >"$DIR/get-big.out"
wrk -t2 -c64 -d"${DURATION}s" --latency -H 'Cache-Control: no-cache' \
  "http://127.0.0.1:$SHIM_PORT/api/v1/events/$small" >"$DIR/get-uncached.out"
wrk -t64 -c64 -d"${DURATION}s" -s "$HERE/hold-confirm.lua" "http://127.0.0.1:$SHIM_PORT" \
  -- "$DIR/seats.txt" "$DIR/tokens.txt" "$event" >"$DIR/hold.out"
confirmed=$(grep -oP '^confirmed \K[0-9]+' "$DIR/hold.out")
# the same GET as pgbench sees it: the database's own ceiling for this call
printf "SELECT evently.api_event_get(NULL, '{\"path\": {\"eventId\": \"%s\"}}');\n" "$small" >"$DIR/get.sql"
chmod a+r "$DIR/get.sql"
cluster_pgbench -n -M prepared -c 64 -j 2 -T "$DURATION" -f "$DIR/get.sql" evently >"$DIR/pgbench-get.out" 2>&1
pg_get=$(grep -oP 'tps = \K[0-9.]+(?= \(without)' "$DIR/pgbench-get.out")
cluster_pgbench -n -M prepared -c 64 -j 2 -T "$DURATION" -D i=0 -D event_id="$event" \
  -f "$HERE/shim-pgbench.sql" evently >"$DIR/pgbench.out" 2>&1
grep -q "number of failed transactions: 0 " "$DIR/pgbench.out" || { tail "$DIR/pgbench.out"; exit 1; }
pg_pairs=$(grep -oP 'tps = \K[0-9.]+(?= \(without)' "$DIR/pgbench.out")

# 1,000 idle keep-alive connections, then the shim's resident memory
start_background perl -MIO::Socket::INET -e '
  my @s = map { IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die $! } 1 .. 1000;
  sleep 3; print scalar(@s), "\n"' "$SHIM_PORT" >"$DIR/idle.out"
idle=$!
sleep 2
rss_kb=$(grep -oP 'VmRSS:\s+\K[0-9]+' "/proc/$(cat "$DIR/shim.pid")/status")
wait $idle

hits=$(curl -s "http://127.0.0.1:$SHIM_PORT/metrics" | grep -oP '^evently_read_cache_hits_total \K[0-9]+')
misses=$(curl -s "http://127.0.0.1:$SHIM_PORT/metrics" | grep -oP '^evently_read_cache_misses_total \K[0-9]+')

awk -v bare="$(rps "$DIR/bare.out")" -v get="$(rps "$DIR/get.out")" -v p99="$(p99 "$DIR/get.out")" \
    -v unc="$(rps "$DIR/get-uncached.out")" -v uncp99="$(p99 "$DIR/get-uncached.out")" -v hits="$hits" -v misses="$misses" \
    -v pgget="$pg_get" -v big="$(rps "$DIR/get-big.out")" -v bigp99="$(p99 "$DIR/get-big.out")" \
    -v pairs="$confirmed" -v secs="$DURATION" -v pg="$pg_pairs" -v rss="$rss_kb" -v idle="$(cat "$DIR/idle.out")" 'BEGIN {
  printf "bare libmicrohttpd            %10.1f req/s\n", bare
  printf "shim GET /events/{id} cached  %10.1f req/s, p99 %s   ratio %.2f (target >= 0.5, p99 < 10ms)\n", get, p99, get / bare
  printf "pgbench, same GET SQL         %10.1f calls/s\n", pgget
  printf "shim GET no-cache (database)  %10.1f req/s, p99 %s   ratio %.2f of pgbench (target >= 0.8)\n", unc, uncp99, unc / pgget
  printf "read cache                    %10d hits, %d misses\n", hits, misses
  printf "shim GET /events/{id} 60k seats%10.1f req/s, p99 %s   ratio %.2f (cached)\n", big, bigp99, big / bare
  printf "pgbench, same SQL             %10.1f hold+confirm/s\n", pg
  printf "shim POST hold + confirm      %10.1f hold+confirm/s        ratio %.2f (target >= 0.6)\n", pairs / secs, pairs / secs / pg
  printf "shim RSS, %d idle connections %10.1f MiB (target < 64)\n", idle, rss / 1024
}'
