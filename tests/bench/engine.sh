#!/usr/bin/env bash
# Engine benchmark (not part of make test): hold+confirm pairs per second
# with 8 pgbench clients on distinct seats, as a ratio of plain `pgbench -N`
# on the same throw-away cluster in the same run.  Target: >= 0.8.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=8   # seats are split 3750 per client
DURATION=${BENCH_SECONDS:-15}

cluster_start "$STATE_DIR/bench/engine"
cluster_psql -f "$HERE/engine-setup.sql" >/dev/null
[ -n "${NO_NOTIFY:-}" ] && cluster_psql -c "ALTER TABLE evently.outbox DISABLE TRIGGER outbox_wakeup"
cluster_pgbench -i -q -s 10 evently >/dev/null 2>&1

tps() { grep -oP 'tps = \K[0-9.]+(?= \(without)' "$1"; }

cluster_pgbench -n -N -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" evently >"$CLUSTER_DIR/baseline.out" 2>&1
event_id=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = 'Bench'")
cluster_pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -D i=0 -D event_id="$event_id" \
  -f "$HERE/hold-confirm.sql" evently \
  >"$CLUSTER_DIR/engine.out" 2>&1
grep -q "number of failed transactions: 0 " "$CLUSTER_DIR/engine.out" || { cat "$CLUSTER_DIR/engine.out"; exit 1; }

baseline=$(tps "$CLUSTER_DIR/baseline.out")
engine=$(tps "$CLUSTER_DIR/engine.out")
booked=$(cluster_psql -tA -c "SELECT count(*) FROM evently.bookings")
printf 'pgbench -N (baseline)      %10.1f tps\n' "$baseline"
printf 'hold+confirm pairs         %10.1f per second (%s bookings)\n' "$engine" "$booked"
awk -v e="$engine" -v b="$baseline" 'BEGIN { printf "ratio                      %10.2f  (target >= 0.80)\n", e / b }'
