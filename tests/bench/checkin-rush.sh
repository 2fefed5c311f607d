#!/usr/bin/env bash
# Gate rush benchmark (not part of make test; issue 13), on one throw-away
# cluster:
#  1. through HTTP against the real shim: CHECKIN_CLIENTS (64) door scanners,
#     each with its own connection and its own slice of CHECKIN_TICKETS
#     (20,480: 320 a scanner) distinct signed codes of a tiers-only event whose doors are
#     open, post every code once to POST /api/v1/checkin/validate as door
#     staff (wrk, checkin-rush.lua): check-ins/s, p50/p99 latency, errors;
#  2. the baseline in the same run: pgbench calling evently.validate_ticket
#     (the SQL under the route) with the same number of clients on another
#     event's CHECKIN_TICKETS distinct codes: check-ins/s, p50/p99, and the
#     shim's rate as a share of it;
#  3. the final check, both events (checkin-check.sql): exactly N check-ins,
#     every ticket in once, none twice, every scan logged, the stats agree.
#     The script fails if it does not hold or if any scan was not CHECKED_IN.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=${CHECKIN_CLIENTS:-64}
TICKETS=${CHECKIN_TICKETS:-20480}
POOL=${BENCH_POOL:-8}
SHIM_PORT=${BENCH_SHIM_PORT:-18083}
[ $((TICKETS % CLIENTS)) -eq 0 ] || { echo "CHECKIN_TICKETS must be a multiple of CHECKIN_CLIENTS"; exit 2; }
PER=$((TICKETS / CLIENTS))

cluster_start "$STATE_DIR/bench/checkin" "max_connections = 200"
DIR=$CLUSTER_DIR
setup_start=$(date +%s)
cluster_psql -v tickets="$TICKETS" -f "$HERE/checkin-setup.sql" >"$DIR/setup.out"
echo "setup: $((2 * TICKETS)) tickets sold in $(( $(date +%s) - setup_start )) s (not timed)"
cluster_psql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null

PORT=$SHIM_PORT POOL_SIZE=$POOL RATE_LIMIT_BURST=1000000 RATE_LIMIT_PER_MINUTE=1000000 \
  MAX_CONNECTIONS_PER_ADDRESS=$((CLIENTS + 64)) \
  JWT_SECRET=bench-secret-of-more-than-32-bytes-xx DATABASE_URL="host=$DIR dbname=evently user=postgres" \
  start_background "$ROOT_DIR/shim/evently-shim" 2>"$DIR/shim.log"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$SHIM_PORT/ping" >/dev/null && break; sleep 0.1; done

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 -oP 'model name\s+: \K.*' /proc/cpuinfo)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. the rush through HTTP: one file of codes per scanner
read -r event base_event < <(cluster_psql -tA -F ' ' -c \
  "SELECT (SELECT event_id FROM bench.events WHERE label = 'rush'), (SELECT event_id FROM bench.events WHERE label = 'base')")
cluster_psql -tA -c "SELECT code FROM bench.codes WHERE label = 'rush' ORDER BY n" |
  awk -v per="$PER" -v dir="$DIR" '{ print > (dir "/codes." int((NR - 1) / per)) }'
token=$(curl -s -X POST "http://127.0.0.1:$SHIM_PORT/api/v1/auth/login" \
  -d '{"email":"rush-staff@example.com","password":"benchpass"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
rm -rf "$DIR/done" && mkdir "$DIR/done"
waits_before=$(grep -c 'still waiting for' "$DIR/postgres.log" || true)
start=$(date +%s.%N)
wrk -t"$CLIENTS" -c"$CLIENTS" -d600s --timeout 30s --latency -s "$HERE/checkin-rush.lua" "http://127.0.0.1:$SHIM_PORT" \
  -- "$DIR/codes." "$token" "$event" "$DIR/done" >"$DIR/wrk.out" 2>&1 &
wrk_pid=$!
# every scanner done (or wrk gone): interrupt wrk, which then reports
while kill -0 "$wrk_pid" 2>/dev/null && [ "$(ls "$DIR/done" | wc -l)" -lt "$CLIENTS" ]; do sleep 0.02; done
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" || true
waits=$(( $(grep -c 'still waiting for' "$DIR/postgres.log" || true) - waits_before ))
deadlocks=$(grep -c 'deadlock detected' "$DIR/postgres.log" || true)
val() { awk -v k="$1" '$1 == k { print $2 }' "$DIR/wrk.out"; }
ms() { # wrk's latency (us, ms or s) in ms
  grep -oP "^\s+$1%\s+\K\S+" "$DIR/wrk.out" |
    awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[^m]s$/) v *= 1000; printf "%.1f", v }'
}
socket_errors=$(grep -oP 'Socket errors: \K.*' "$DIR/wrk.out" || echo none)
grep '^first unexpected answer' "$DIR/wrk.out" | cut -c1-400 || true
http_rate=$(awk -v n="$(val checked_in)" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
awk -v clients="$CLIENTS" -v tickets="$TICKETS" -v pool="$POOL" -v secs="$secs" -v rate="$http_rate" \
    -v n="$(val checked_in)" -v answered="$(val answered)" -v unexpected="$(val unexpected)" \
    -v p50="$(ms 50)" -v p99="$(ms 99)" -v waits="$waits" -v deadlocks="$deadlocks" -v sock="$socket_errors" 'BEGIN {
  printf "gate rush through the shim: %d scanners, %d distinct codes, pool of %d\n", clients, tickets, pool
  printf "  rush                     %8.2f s (wrk started to the last answer)\n", secs
  printf "  check-ins                %8d, %.1f/s\n", n, rate
  printf "  validate latency         p50 %6.1f ms, p99 %6.1f ms\n", p50, p99
  printf "  answers other than 200 CHECKED_IN %d of %d; socket errors: %s\n", unexpected, answered, sock
  printf "  lock waits > 200 ms      %8d, deadlocks %d\n", waits, deadlocks
}'

# 2. the baseline: the same scans as pgbench makes them by the SQL function
read -r staff_id < <(cluster_psql -tA -c "SELECT id FROM evently.users WHERE email = 'rush-staff@example.com'")
cluster_psql -c "CHECKPOINT" >/dev/null
rm -f "$DIR"/pgbench_log.*
start=$(date +%s.%N)
(cd "$DIR" && cluster_pgbench -n -M prepared -c "$CLIENTS" -j 2 -t "$PER" -D i=0 -D per="$PER" \
  -D event_id="$base_event" -D staff_id="$staff_id" -l -f "$HERE/checkin-validate.sql" evently >"$DIR/pgbench.out" 2>&1)
grep -q "number of failed transactions: 0 " "$DIR/pgbench.out" || { tail "$DIR/pgbench.out"; exit 1; }
pg_rate=$(grep -oP 'tps = \K[0-9.]+(?= \(without)' "$DIR/pgbench.out")
# each transaction's latency (us, third column of pgbench's log): p50, p99
read -r pg50 pg99 < <(cat "$DIR"/pgbench_log.* | awk '{ print $3 }' | sort -n |
  awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[int(NR * 0.50)] / 1000, v[int(NR * 0.99)] / 1000 }')
awk -v c="$CLIENTS" -v r="$pg_rate" -v p50="$pg50" -v p99="$pg99" -v http="$http_rate" 'BEGIN {
  printf "baseline, pgbench calling evently.validate_ticket (%d clients): %.1f check-ins/s, p50 %.1f ms, p99 %.1f ms\n", c, r, p50, p99
  printf "the shim as a share of it: %.2f\n", http / r
}'

# 3. the final check
echo "final check:"
for label in rush base; do
  cluster_psql -tA -F ' | ' -v label="$label" -v tickets="$TICKETS" -f "$HERE/checkin-check.sql"
done >"$DIR/check.out"
sed 's/^/  /' "$DIR/check.out"
failed=$(awk -F ' [|] ' '$2 != "t"' "$DIR/check.out" | wc -l)
[ "$failed" -eq 0 ] && [ "$(val unexpected)" -eq 0 ] && [ "$(val checked_in)" -eq "$TICKETS" ] &&
  [ "$socket_errors" = none ] && [ "$deadlocks" -eq 0 ] || {
  echo "FAILED: $failed checks, $(val unexpected) unexpected answers, $(val checked_in) of $TICKETS checked in," \
    "socket errors: $socket_errors, $deadlocks deadlocks"
  echo "(logs: $DIR/shim.log, $DIR/postgres.log, $DIR/wrk.out)"
  exit 1
}
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
