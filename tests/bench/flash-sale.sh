#!/usr/bin/env bash
# Seated flash sale benchmark (issue 14; not part of make test), all on one
# throw-away cluster (flash-setup.sql: 10 sections, three events of 10,000
# seats each):
#  1. through HTTP against the real shim, twice: with the shim's read cache
#     as configured by default (READ_CACHE_MS unset), then on a fresh event
#     with the shim restarted with READ_CACHE_MS=0 (the cache off).  256
#     buyers (each its own account, token and keep-alive connection;
#     tests/bench/flash-load.c) read a random section's availability
#     anonymously, hold 1-4 random seats of it (409 -> read and pick
#     again) and confirm (Idempotency-Key), until every section reads empty:
#     sell-out time, bookings/s, holds/s, conflict rate, p50/p99 of the read,
#     the hold and the confirmation; where the time went (CPU of PostgreSQL,
#     the shim and the load, the shim's pool busy); then the final check
#     (flash-check.sql: every seat BOOKED once by a CONFIRMED booking with a
#     VALID ticket, no seat in two bookings, the seat counters agree, holds
#     all CONFIRMED) -- the script fails if it does not hold, or if any
#     request failed, a connection dropped or a deadlock happened;
#  2. the baseline, same cluster and run: pgbench making the shim's SQL
#     calls with as many clients as the shim has connections: the
#     availability read of a full section; the two calls of a purchase
#     (hold, confirm) on the third event, each client buying its own share
#     of the seats (no conflicts) until sold out, with the same final check;
#     and a hold refused because its seats are taken.  PostgreSQL's CPU per
#     call of each, and what those costs make of each sale's calls.
# Confirmations commit durably (synchronous_commit = on, the cluster's
# default; the engine commits a hold asynchronously).
# FLASH_CLIENTS, FLASH_SEATS (a multiple of 1,000, or 10 to 1,000 by tens),
# BENCH_POOL, BENCH_SECONDS (the read and refused-hold baselines) change the
# sizes.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=${FLASH_CLIENTS:-256}
SEATS=${FLASH_SEATS:-10000}
POOL=${BENCH_POOL:-8}
SECONDS_READ=${BENCH_SECONDS:-5}
SHIM_PORT=${BENCH_SHIM_PORT:-18084}
URL=http://127.0.0.1:$SHIM_PORT

cluster_start "$STATE_DIR/bench/flash"
DIR=$CLUSTER_DIR
cluster_psql -v clients="$CLIENTS" -v seats="$SEATS" -f "$HERE/flash-setup.sql" >/dev/null
cc -O2 -o "$DIR/flash-load" "$HERE/flash-load.c" -lcurl -ljansson

echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 -oP 'model name\s+: \K.*' /proc/cpuinfo)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# start_shim [READ_CACHE_MS]: the shim (stopped with the cluster when this
# script exits, cluster.sh), the cache setting left unset when not given
start_shim() {
  start_background env ${1:+READ_CACHE_MS=$1} PORT="$SHIM_PORT" POOL_SIZE="$POOL" \
    RATE_LIMIT_BURST=1000000 RATE_LIMIT_PER_MINUTE=1000000 MAX_CONNECTIONS_PER_ADDRESS=$((CLIENTS + 64)) \
    JWT_SECRET=bench-secret-of-more-than-32-bytes-xx DATABASE_URL="host=$DIR dbname=evently user=postgres" \
    "$ROOT_DIR/shim/evently-shim" 2>>"$DIR/shim.log"
  SHIM_PID=$!
  for _ in $(seq 1 50); do curl -sf "$URL/ping" >/dev/null && return; sleep 0.1; done
  echo "the shim did not start (log: $DIR/shim.log)"; exit 1
}
stop_shim() {
  kill -TERM "$SHIM_PID"
  wait "$SHIM_PID" 2>/dev/null || true
}

# CPU seconds (user + system, with reaped children's) of the processes
# named, and of PostgreSQL's: the postmaster, which reaps the backends that
# exited, and the live ones
cpu_of() { for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f", t / hz }'; }
postgres_cpu() {
  local postmaster
  postmaster=$(head -1 "$DIR/data/postmaster.pid")
  cpu_of "$postmaster" $(pgrep -P "$postmaster")
}
# the machine's busy and total jiffies so far (/proc/stat: idle and iowait are not busy)
machine_cpu() { awk '$1 == "cpu" { for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
# the machine's busy share between two machine_cpu readings
busy_share() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
  printf "%.2f", (y[1] - x[1]) / (y[2] - x[2]) }'; }
# the shim's busy pool connections (in a statement or a transaction), as
# PostgreSQL sees them every 0.25 s: /metrics would be answered only when
# one of the shim's threads is free, which undercounts a busy pool
sample_pool() {
  while :; do
    cluster_psql -tA -c "SELECT count(*) FROM pg_stat_activity
                          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
                            AND state NOT IN ('idle')"
    sleep 0.25
  done
}

# sale RUN [READ_CACHE_MS]: the sale of bench.sale's event RUN through HTTP
# and its final check; its figures in $DIR/RUN.out ("name value" lines)
sale() {
  local run=$1 out="$DIR/$1.out" event sections waits_before pg_before shim_before machine_before sampler loader
  start_shim "${2:-}"
  event=$(cluster_psql -tA -c "SELECT event_id FROM bench.sale WHERE run = '$run'")
  sections=$(cluster_psql -tA -c "SELECT id FROM bench.sections ORDER BY n")
  cluster_psql -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
  waits_before=$(grep -c 'still waiting for' "$DIR/postgres.log" || true)
  rm -f "$DIR/$run.started"
  # shellcheck disable=SC2086
  LOAD_STARTED="$DIR/$run.started" start_background "$DIR/flash-load" "$URL" "$event" "$CLIENTS" $sections >"$out"
  loader=$!
  # from the end of the logins (the load makes the file), polled
  while [ ! -e "$DIR/$run.started" ] && kill -0 "$loader" 2>/dev/null; do sleep 0.05; done
  pg_before=$(postgres_cpu)
  shim_before=$(cpu_of "$SHIM_PID")
  machine_before=$(machine_cpu)
  start_background sample_pool >"$DIR/$run.pool"
  sampler=$!
  wait "$loader"
  kill "$sampler"
  # the read cache's counters of the sale (the shim started for it)
  curl -s "$URL/metrics" | awk '/^evently_read_cache_(hits|misses)_total / {
    sub(/^evently_read_cache_/, "cache_"); sub(/_total/, ""); print }' >>"$out"
  {
    echo "postgres_cpu_s $(awk -v a="$(postgres_cpu)" -v b="$pg_before" 'BEGIN { print a - b }')"
    echo "shim_cpu_s $(awk -v a="$(cpu_of "$SHIM_PID")" -v b="$shim_before" 'BEGIN { print a - b }')"
    echo "machine_busy $(busy_share "$machine_before" "$(machine_cpu)")"
    echo "pool_busy $(awk '{ s += $1; n++ } END { printf "%.2f", n ? s / n : 0 }' "$DIR/$run.pool")"
    echo "lock_waits $(( $(grep -c 'still waiting for' "$DIR/postgres.log" || true) - waits_before ))"
    echo "deadlocks $(grep -c 'deadlock detected' "$DIR/postgres.log" || true)"
  } >>"$out"
  stop_shim
  check "$run" "$(val "$run" bookings)" "$(val "$run" seats)"
}
val() { awk -v k="$2" '$1 == k { print $2 }' "$DIR/$1.out"; }

# check RUN BOOKINGS SEATS_SOLD: flash-check.sql, printed; exit 1 if it fails
check() {
  cluster_psql -tA -F ' | ' -v run="$1" -v seats="$SEATS" -v bookings="$2" -v sold="$3" \
    -f "$HERE/flash-check.sql" >"$DIR/$1.check"
  echo "final check, $1:"
  sed 's/^/  /' "$DIR/$1.check"
  [ "$(awk -F ' [|] ' '$2 != "t"' "$DIR/$1.check" | wc -l)" -eq 0 ] || {
    echo "FAILED (logs: $DIR/shim.log, $DIR/postgres.log)"; exit 1; }
}

# 1. the sale through HTTP, with the cache as configured, then without
sale cache
sale nocache 0
for run in cache nocache; do
  [ "$(val "$run" retries)" -eq 0 ] && [ "$(val "$run" errors)" -eq 0 ] && [ "$(val "$run" deadlocks)" -eq 0 ] &&
    [ "$(val "$run" connections)" -le "$CLIENTS" ] || {
    echo "FAILED ($run): $(val "$run" retries) failed requests, $(val "$run" errors) unexpected answers," \
      "$(val "$run" deadlocks) deadlocks, $(val "$run" connections) connections for $CLIENTS buyers"
    echo "(logs: $DIR/shim.log, $DIR/postgres.log)"
    exit 1
  }
done

# 2. the baseline: pgbench making the shim's SQL calls, POOL clients
# pgbench_cpu NAME ARGS...: pgbench with ARGS, into $DIR/pgbench-NAME.out,
# and PostgreSQL's CPU seconds meanwhile into $DIR/pgbench-NAME.cpu
pgbench_cpu() {
  local name=$1 before
  shift
  before=$(postgres_cpu)
  cluster_pgbench -n -M prepared -c "$POOL" -j 2 "$@" evently >"$DIR/pgbench-$name.out" 2>&1
  awk -v a="$(postgres_cpu)" -v b="$before" 'BEGIN { print a - b }' >"$DIR/pgbench-$name.cpu"
  grep -q "number of failed transactions: 0 " "$DIR/pgbench-$name.out" || { tail "$DIR/pgbench-$name.out"; exit 1; }
}
# CPU ms per transaction of a pgbench_cpu run
cpu_ms() { awk -v c="$(cat "$DIR/pgbench-$1.cpu")" \
  -v n="$(grep -oP 'number of transactions actually processed: \K[0-9]+' "$DIR/pgbench-$1.out")" \
  'BEGIN { printf "%.1f", 1000 * c / n }'; }
tps() { grep -oP 'tps = \K[0-9.]+(?= \(without)' "$DIR/pgbench-$1.out"; }
cluster_psql -c "SELECT bench.deal($POOL)" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
pgbench_cpu read -T "$SECONDS_READ" -f "$HERE/flash-read.sql"
# a purchase takes 2.5 seats on average: its share's purchases, and a margin
pgbench_cpu sale -t $(( SEATS * 2 / 5 / POOL + 50 )) -D clients="$POOL" -D buyers="$CLIENTS" -D i=0 -D pos=1 \
  -f "$HERE/flash-pgbench.sql"
# then a refused hold, on the seats that sale booked
pgbench_cpu refused -T "$SECONDS_READ" -D buyers="$CLIENTS" -f "$HERE/flash-refused.sql"
read -r pg_bookings pg_seats pg_secs < <(cluster_psql -tA -F ' ' -c "
  SELECT count(*), sum(total_seats), extract(epoch FROM max(created_at) - min(created_at))
    FROM evently.bookings JOIN bench.sale USING (event_id) WHERE run = 'pgbench'")
check pgbench "$pg_bookings" "$pg_seats"
pg_pair_ms=$(awk -v n="$pg_bookings" -v c="$(cat "$DIR/pgbench-sale.cpu")" 'BEGIN { printf "%.1f", 1000 * c / n }')

# side by side
row() { # label format name: the figure of each run
  printf '  %-34s' "$1"
  for run in cache nocache; do printf " %22s" "$(awk -v f="$2" -v v="$(val "$run" "$3")" 'BEGIN { printf f, v }')"; done
  echo
}
rate() { # label name: per second of sell-out
  printf '  %-34s' "$1"
  for run in cache nocache; do
    printf " %22s" "$(awk -v n="$(val "$run" "$2")" -v s="$(val "$run" sellout_s)" 'BEGIN { printf "%.1f/s", n / s }')"
  done
  echo
}
echo "seated flash sale through the shim: $CLIENTS buyers, $SEATS seats in 10 sections, pool of $POOL" \
  "(logins $(val cache login_s) s and $(val nocache login_s) s, not timed)"
printf '  %-34s %22s %22s\n' "" "cache as configured" "READ_CACHE_MS=0"
row "sell-out (first read to last confirm)" "%.2f s" sellout_s
row "bookings" "%d" bookings
rate "bookings/s" bookings
rate "seats/s" seats
rate "holds/s" holds
rate "hold attempts/s" hold_attempts
conflicts() { awk -v c="$(val "$1" conflicts)" -v a="$(val "$1" hold_attempts)" \
  'BEGIN { printf "%d = %.1f%%", c, a ? 100 * c / a : 0 }'; }
printf '  %-34s %22s %22s\n' "conflicts (refused / hold attempts)" "$(conflicts cache)" "$(conflicts nocache)"
rate "availability reads/s" reads
awk -v a="$(val cache read_seats)" -v b="$(val cache reads)" -v c="$(val nocache read_seats)" \
    -v d="$(val nocache reads)" 'BEGIN { printf "  %-34s %22.1f %22.1f\n", "  seats in an answer, mean", a / b, c / d }'
row "  from the cache" "%d" cache_hits
row "  from the database" "%d" cache_misses
row "read p50 (ms)" "%.1f" read_p50_ms
row "read p99 (ms)" "%.1f" read_p99_ms
row "hold p50 (ms)" "%.1f" hold_p50_ms
row "hold p99 (ms)" "%.1f" hold_p99_ms
row "confirm p50 (ms)" "%.1f" confirm_p50_ms
row "confirm p99 (ms)" "%.1f" confirm_p99_ms
row "failed requests (5xx, transport)" "%d" retries
row "unexpected answers" "%d" errors
row "connections opened" "%d" connections
row "lock waits > 200 ms" "%d" lock_waits
row "CPU s: PostgreSQL" "%.1f" postgres_cpu_s
row "CPU s: shim" "%.1f" shim_cpu_s
row "CPU s: load generator" "%.1f" load_cpu_s
per_booking() { # label name: per booking, ms
  printf '  %-34s' "$1"
  for run in cache nocache; do
    printf " %22s" "$(awk -v c="$(val "$run" "$2")" -v n="$(val "$run" bookings)" 'BEGIN { printf "%.1f", 1000 * c / n }')"
  done
  echo
}
per_booking "PostgreSQL CPU per booking (ms)" postgres_cpu_s
# what the baseline's costs make of the calls the sale made: a pair per
# booking, a refused hold per conflict, a read per database read (at a full
# section's cost times the share of a section the answers had on average)
printf '  %-34s' "  from the baseline's costs (ms)"
for run in cache nocache; do
  printf " %22s" "$(awk -v n="$(val "$run" bookings)" -v c="$(val "$run" conflicts)" \
    -v r="$(if [ "$run" = cache ]; then val cache cache_misses; else val nocache reads; fi)" \
    -v full="$(( SEATS / 10 ))" -v seats="$(val "$run" read_seats)" -v reads="$(val "$run" reads)" \
    -v pair="$pg_pair_ms" -v read="$(cpu_ms read)" -v refused="$(cpu_ms refused)" \
    'BEGIN { printf "%.1f", pair + (r * read * seats / reads / full + c * refused) / n }')"
done
echo
row "machine busy (all processes)" "%.2f" machine_busy
row "shim pool busy (of $POOL, mean)" "%.2f" pool_busy
echo "pgbench, the shim's SQL calls ($POOL clients):"
printf '  %-34s %10.1f reads/s, PostgreSQL CPU %s ms a read\n' "availability read, a full section" \
  "$(tps read)" "$(cpu_ms read)"
awk -v n="$pg_bookings" -v seats="$pg_seats" -v s="$pg_secs" -v ms="$pg_pair_ms" 'BEGIN {
  printf "  %-34s %10.1f bookings/s, %.1f seats/s (sell-out %.2f s), PostgreSQL CPU %s ms a booking\n",
         "hold + confirm, no conflicts", n / s, seats / s, s, ms }'
printf '  %-34s %10.1f holds/s, PostgreSQL CPU %s ms a hold\n' "a refused hold (seats taken)" \
  "$(tps refused)" "$(cpu_ms refused)"
awk -v pb="$pg_bookings" -v s="$pg_secs" -v b1="$(val cache bookings)" -v s1="$(val cache sellout_s)" \
    -v b2="$(val nocache bookings)" -v s2="$(val nocache sellout_s)" 'BEGIN {
  printf "the shim as a share of it: %.2f with the cache as configured, %.2f with READ_CACHE_MS=0\n",
         (b1 / s1) / (pb / s), (b2 / s2) / (pb / s)
  printf "what the cache buys: %.2fx the bookings/s\n", (b1 / s1) / (b2 / s2)
}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
