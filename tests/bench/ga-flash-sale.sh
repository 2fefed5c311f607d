#!/usr/bin/env bash
# GA flash sale benchmark (not part of make test), all on one throw-away
# cluster:
#  1. through HTTP against the real shim: 256 buyers (each its own account,
#     token and connection; tests/bench/ga-load.c) reserve 1-4 units of a
#     10,000-unit tier and order them with the mock provider (Idempotency-Key)
#     until it is sold out: sell-out time, orders/s, units/s, p50/p99 of
#     reserve and of order, SOLD_OUT refusals; then the final check
#     (ga-check.sql: exactly 10,000 units sold, none twice, sold + held <=
#     total, the slotted counters agree) -- the script fails if it does not
#     hold, or if any request failed;
#     The same purchases as pgbench makes them through the shim's two SQL
#     calls (ga-api.sql, POOL clients) give the shim's share of the
#     database's own rate, as tests/bench/shim.sh does for hold + confirm.
#  2. the baseline, same cluster and run: pgbench making the same
#     reservations at the SQL level on a single counter row, on bare
#     SKIP LOCKED unit rows (from the lowest free unit, and from a random
#     one), and through evently.reserve_tiers on a fresh 10,000-unit tier
#     (ga-baseline.sql), each until sold out, at 8 clients (the shim's pool)
#     and 256: reservations/s, refusals before the end, BUSY answers, lock
#     waits over 200 ms, and the ratio to the counter.
# GA_CLIENTS, GA_UNITS, GA_BASELINE_CLIENTS, BENCH_POOL change the sizes.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=${GA_CLIENTS:-256}
UNITS=${GA_UNITS:-10000}
BASELINE_CLIENTS=${GA_BASELINE_CLIENTS:-8 256}
POOL=${BENCH_POOL:-8}
SHIM_PORT=${BENCH_SHIM_PORT:-18082}

cluster_start "$STATE_DIR/bench/ga" "max_connections = 300"
DIR=$CLUSTER_DIR
cluster_psql -v clients="$CLIENTS" -v units="$UNITS" -f "$HERE/ga-setup.sql" >/dev/null
cluster_psql -f "$HERE/ga-baseline.sql" >/dev/null
cc -O2 -o "$DIR/ga-load" "$HERE/ga-load.c" -lcurl -ljansson

# the shim is stopped with the cluster when this script exits (cluster.sh)
PORT=$SHIM_PORT POOL_SIZE=$POOL RATE_LIMIT_BURST=1000000 RATE_LIMIT_PER_MINUTE=1000000 \
  MAX_CONNECTIONS_PER_ADDRESS=$((CLIENTS + 64)) \
  JWT_SECRET=bench-secret-of-more-than-32-bytes-xx DATABASE_URL="host=$DIR dbname=evently user=postgres" \
  start_background "$ROOT_DIR/shim/evently-shim" 2>"$DIR/shim.log"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$SHIM_PORT/ping" >/dev/null && break; sleep 0.1; done

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 -oP 'model name\s+: \K.*' /proc/cpuinfo)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. the sale through HTTP
read -r event tier < <(cluster_psql -tA -F ' ' -c "SELECT event_id, tier_id FROM bench.sale")
waits_before=$(grep -c 'still waiting for' "$DIR/postgres.log" || true)
"$DIR/ga-load" "http://127.0.0.1:$SHIM_PORT" "$event" "$tier" "$CLIENTS" >"$DIR/ga.out"
waits=$(( $(grep -c 'still waiting for' "$DIR/postgres.log" || true) - waits_before ))
deadlocks=$(grep -c 'deadlock detected' "$DIR/postgres.log" || true)
val() { awk -v k="$1" '$1 == k { print $2 }' "$DIR/ga.out"; }

awk -v clients="$CLIENTS" -v units="$UNITS" -v pool="$POOL" -v secs="$(val sellout_s)" \
    -v orders="$(val orders)" -v sold="$(val units)" -v reserved="$(val reserved)" \
    -v refused="$(val sold_out)" -v reads="$(val tier_reads)" -v retries="$(val retries)" \
    -v errors="$(val errors)" -v login="$(val login_s)" -v waits="$waits" -v deadlocks="$deadlocks" \
    -v connections="$(val connections)" \
    -v r50="$(val reserve_p50_ms)" -v r99="$(val reserve_p99_ms)" -v o50="$(val order_p50_ms)" \
    -v o99="$(val order_p99_ms)" -v s50="$(val sold_out_p50_ms)" -v s99="$(val sold_out_p99_ms)" 'BEGIN {
  printf "GA flash sale through the shim: %d buyers, a %d-unit tier, pool of %d (logins %.1f s, not timed)\n", clients, units, pool, login
  printf "  sell-out                 %8.2f s (first reserve to last order)\n", secs
  printf "  orders                   %8d, %.1f/s\n", orders, orders / secs
  printf "  units                    %8d, %.1f/s\n", sold, sold / secs
  printf "  reserve (held)           p50 %6.1f ms, p99 %6.1f ms\n", r50, r99
  printf "  order (mock, paid)       p50 %6.1f ms, p99 %6.1f ms\n", o50, o99
  printf "  SOLD_OUT refusals        %8d of %d reserve calls (%.1f%%), p50 %.1f ms, p99 %.1f ms; %d tier reads\n", refused, reserved + refused, 100 * refused / (reserved + refused), s50, s99, reads
  printf "  failed requests          %8d sent again (5xx, transport), %d unexpected answers\n", retries, errors
  printf "  connections opened       %8d (one per buyer: none dropped)\n", connections
  printf "  lock waits > 200 ms      %8d, deadlocks %d\n", waits, deadlocks
}'

echo "final check:"
cluster_psql -tA -F ' | ' -v units="$UNITS" -v orders="$(val orders)" -v sold="$(val units)" \
  -f "$HERE/ga-check.sql" >"$DIR/check.out"
sed 's/^/  /' "$DIR/check.out"
failed=$(awk -F ' [|] ' '$2 != "t"' "$DIR/check.out" | wc -l)
[ "$failed" -eq 0 ] && [ "$(val retries)" -eq 0 ] && [ "$(val errors)" -eq 0 ] && [ "$deadlocks" -eq 0 ] &&
  [ "$(val connections)" -le "$CLIENTS" ] || {
  echo "FAILED: $failed checks, $(val retries) failed requests, $(val errors) unexpected answers," \
    "$deadlocks deadlocks, $(val connections) connections for $CLIENTS buyers"
  echo "(logs: $DIR/shim.log, $DIR/postgres.log)"
  exit 1
}

# the shim's own two SQL calls per purchase, driven by pgbench with as many
# clients as the shim has connections, on a fresh tier: the HTTP sale's ratio
cluster_psql -c "SELECT bench.reset('api', $UNITS, 'Through SQL')" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
cluster_pgbench -n -M prepared -c "$POOL" -j 2 -t $(( UNITS * 2 * 2 / 5 / POOL + 50 )) -D clients="$POOL" \
  -D buyers="$CLIENTS" -D i=0 -f "$HERE/ga-api.sql" evently >"$DIR/pgbench-api.out" 2>&1
grep -q "number of failed transactions: 0 " "$DIR/pgbench-api.out" || { tail "$DIR/pgbench-api.out"; exit 1; }
read -r units claims secs _ _ sold < <(cluster_psql -tA -F ' ' -c "SELECT * FROM bench.result('api')")
[ "$units" -eq "$UNITS" ] && [ "$sold" -eq "$UNITS" ] || {
  echo "FAILED: the SQL calls sold $units units by their orders, $sold BOOKED"; exit 1; }
awk -v c="$POOL" -v n="$claims" -v s="$secs" -v u="$units" -v http="$(val orders)" -v hs="$(val sellout_s)" 'BEGIN {
  printf "pgbench, the same two SQL calls (%d clients): sell-out %.2f s, %.1f orders/s, %.1f units/s\n", c, s, n / s, u / s
  printf "the shim as a share of it: %.2f\n", (http / hs) / (n / s)
}'

# 2. the baseline: the same reservations at the SQL level, four ways
echo "baseline, pgbench at the SQL level (reserve only), each method selling $UNITS units from fresh:"
printf '  %-7s %-14s %9s %14s %9s %8s %5s %11s %10s\n' clients method sell-out reservations/s units/s refused BUSY 'lock waits' 'vs counter'
for c in $BASELINE_CLIENTS; do
  counter_rate=
  for method in counter units units_random reserve_tiers; do
    cluster_psql -c "SELECT bench.reset('$method', $UNITS, 'Baseline $c')" >/dev/null
    cluster_psql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
    # about twice the reservations a sell-out takes (2.5 units each), so
    # that every client is still asking when the last units go
    per_client=$(( UNITS * 2 * 2 / 5 / c + 50 ))
    waits_before=$(grep -c 'still waiting for' "$DIR/postgres.log" || true)
    cluster_pgbench -n -M prepared -c "$c" -j 2 -t "$per_client" -D method="$method" -D clients="$c" \
      -D buyers="$CLIENTS" -D i=0 -f "$HERE/ga-reserve.sql" evently >"$DIR/pgbench-$method-$c.out" 2>&1
    grep -q "number of failed transactions: 0 " "$DIR/pgbench-$method-$c.out" || {
      tail "$DIR/pgbench-$method-$c.out"; exit 1; }
    waits=$(( $(grep -c 'still waiting for' "$DIR/postgres.log" || true) - waits_before ))
    read -r units claims secs refused busy sold < <(cluster_psql -tA -F ' ' -c "SELECT * FROM bench.result('$method')")
    [ "$units" -eq "$UNITS" ] && [ "$sold" -eq "$UNITS" ] || {
      echo "FAILED: $method at $c clients sold $units units by its claims, $sold by its own count"; exit 1; }
    rate=$(awk -v n="$claims" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
    [ -n "$counter_rate" ] || counter_rate=$rate
    awk -v c="$c" -v m="$method" -v s="$secs" -v r="$rate" -v u="$units" -v f="$refused" -v b="$busy" \
      -v w="$waits" -v base="$counter_rate" \
      'BEGIN { printf "  %-7d %-14s %8.2fs %14.1f %9.1f %8d %5d %11d %10.2f\n", c, m, s, r, u / s, f, b, w, r / base }'
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
