#!/usr/bin/env bash
# Bridge benchmark (not part of make test), on one throw-away cluster with the
# local broker (evently-broker) and a warmed-up evently-bridge:
#  1. commit-to-ack lag while pgbench books at 1,000 bookings/s (real
#     hold + confirm, 8 clients, -R 1000): p50/p99 of published_at -
#     occurred_at over those rows (target p99 < 100 ms).  published_at is
#     written after Kafka's acknowledgement, so the figure is an upper bound;
#  2. drain rate of a 100,000-row outbox backlog, committed at once
#     (target >= 20,000 messages/s): rows / (last published_at - commit).
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${BENCH_SECONDS:-15}
RATE=${BENCH_RATE:-1000}

cluster_start "$STATE_DIR/bench/bridge"
cluster_psql -f "$HERE/engine-setup.sql" >/dev/null
cluster_psql -f "$ROOT_DIR/tests/bridge/setup.sql" >/dev/null
DIR=$CLUSTER_DIR
# the broker and the bridge are stopped with the cluster when this script
# exits (cluster.sh)
BROKER_ADDRESS_FILE=$DIR/brokers start_background "$ROOT_DIR/shim/evently-broker" >/dev/null 2>"$DIR/broker.log"
for _ in $(seq 1 50); do [ -s "$DIR/brokers" ] && break; sleep 0.1; done
KAFKA_BROKERS=$(cat "$DIR/brokers") DATABASE_URL="host=$DIR dbname=evently user=postgres" \
  start_background "$ROOT_DIR/shim/evently-bridge" 2>"$DIR/bridge.log"
unpublished() { cluster_psql -tA -c "SELECT count(*) FROM evently.outbox WHERE published_at IS NULL"; }
drain() {
  local n
  for _ in $(seq 1 1200); do
    n=$(unpublished) || return 1
    [ "$n" = 0 ] && return 0
    sleep 0.1
  done
  echo "the outbox did not drain" >&2
  return 1
}
drain   # the setup's own rows: the bridge is connected and has its producer id

# 1. bookings at a fixed rate, lag per row
start_id=$(cluster_psql -tA -c "SELECT max(id) FROM evently.outbox")
event_id=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = 'Bench'")
cluster_pgbench -n -M prepared -c 8 -j 2 -R "$RATE" -T "$DURATION" -D i=0 -D event_id="$event_id" \
  -f "$HERE/hold-confirm.sql" evently >"$DIR/pgbench.out" 2>&1
grep -q "number of failed transactions: 0 " "$DIR/pgbench.out" || { tail "$DIR/pgbench.out"; exit 1; }
drain
booked=$(grep -oP 'tps = \K[0-9.]+(?= \(without)' "$DIR/pgbench.out")
read -r rows p50 p99 < <(cluster_psql -tA -F' ' -c "
  SELECT count(*),
         round(1000 * (percentile_cont(0.5) WITHIN GROUP (ORDER BY lag))::numeric, 1),
         round(1000 * (percentile_cont(0.99) WITHIN GROUP (ORDER BY lag))::numeric, 1)
    FROM (SELECT extract(epoch FROM published_at - occurred_at) AS lag
            FROM evently.outbox WHERE id > $start_id) l")

# 2. a 100,000-row backlog, committed at once
start_id=$(cluster_psql -tA -c "SELECT coalesce(max(id), 0) FROM evently.outbox")
cluster_psql -tA -c "SELECT bt.backlog(100000)" >/dev/null
drain
read -r drained seconds < <(cluster_psql -tA -F' ' -c "
  SELECT count(*), extract(epoch FROM max(published_at) - max(occurred_at))
    FROM evently.outbox WHERE id > $start_id")

awk -v n="$drained" -v s="$seconds" -v booked="$booked" -v rate="$RATE" -v rows="$rows" \
    -v p50="$p50" -v p99="$p99" 'BEGIN {
  printf "drain of a %d-row backlog      %10.0f messages/s (%.2f s; target >= 20,000)\n", n, n / s, s
  printf "bookings (asked %d/s)         %10.1f bookings/s, %d outbox rows\n", rate, booked, rows
  printf "commit-to-ack lag              p50 %.1f ms, p99 %.1f ms (target p99 < 100 ms)\n", p50, p99
}'
