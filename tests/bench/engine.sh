#!/usr/bin/env bash
# Engine benchmark (not part of make test): hold+confirm pairs per second
# with 8 pgbench clients on distinct seats, as a ratio of plain `pgbench -N`
# on the same throw-away cluster in the same run (target >= 0.5: a pair is
# two transactions, one of them a durable commit).  Then the cost curve: the
# same with holds of 4 and 10 seats, as seats per second and the cost of a
# seat relative to a 1-seat pair's (it must fall as holds grow).  First,
# engine-stmts.sh counts the statements per pair on a cluster of its own.
# NO_STMTS=1 skips the count, NO_CURVE=1 the 4- and 10-seat runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ -n "${NO_STMTS:-}" ] || bash "$HERE/engine-stmts.sh"

source "$HERE/../cluster.sh"
CLIENTS=8   # seats are split 3750 per client (per seat of a hold)
DURATION=${BENCH_SECONDS:-15}

cluster_start "$STATE_DIR/bench/engine"
cluster_psql -f "$HERE/engine-setup.sql" >/dev/null
[ -n "${NO_CURVE:-}" ] || cluster_psql -f "$HERE/engine-curve-setup.sql" >/dev/null
[ -n "${NO_NOTIFY:-}" ] && cluster_psql -c "ALTER TABLE evently.outbox DISABLE TRIGGER outbox_wakeup"
cluster_pgbench -i -q -s 10 evently >/dev/null 2>&1

tps() { grep -oP 'tps = \K[0-9.]+(?= \(without)' "$1"; }

# pairs K SCRIPT EVENT: pairs per second of K-seat holds and their confirmations
pairs() {
  local k=$1 script=$2 event=$3 event_id out="$CLUSTER_DIR/engine-$1.out"
  event_id=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = '$event'")
  cluster_pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -D i=0 -D k="$k" -D event_id="$event_id" \
    -f "$HERE/$script" evently >"$out" 2>&1
  grep -q "number of failed transactions: 0 " "$out" && ! grep -q "aborted" "$out" || { cat "$out" >&2; exit 1; }
  tps "$out"
}

cluster_pgbench -n -N -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" evently >"$CLUSTER_DIR/baseline.out" 2>&1
baseline=$(tps "$CLUSTER_DIR/baseline.out")
engine=$(pairs 1 hold-confirm.sql Bench)
booked=$(cluster_psql -tA -c "SELECT count(*) FROM evently.bookings")
printf 'pgbench -N (baseline)      %10.1f tps\n' "$baseline"
printf 'hold+confirm pairs         %10.1f per second (%s bookings)\n' "$engine" "$booked"
awk -v e="$engine" -v b="$baseline" 'BEGIN { printf "ratio                      %10.2f  (target >= 0.50)\n", e / b }'

if [ -z "${NO_CURVE:-}" ]; then
printf '%-26s %10s %10s %16s\n' 'seats per hold' 'pairs/s' 'seats/s' 'cost per seat'
printf '%-26s %10.1f %10.1f %16.2f\n' 1 "$engine" "$engine" 1
for k in 4 10; do
  p=$(pairs "$k" hold-confirm-k.sql "Bench $k")
  # a seat's cost: the time of a k-seat pair over k, relative to a 1-seat pair's
  awk -v k="$k" -v p="$p" -v e="$engine" 'BEGIN { printf "%-26s %10.1f %10.1f %16.2f\n", k, p, p * k, e / (p * k) }'
done
fi
# what the runs did is checked as the stress test checks it
cluster_psql -tA <<'SQL'
SELECT 'seats sold twice: ' || count(*) - count(DISTINCT (event_id, seat_id))
  FROM evently.tickets WHERE status = 'VALID';
SELECT 'seat counters off the inventory: ' || count(*)
  FROM (SELECT event_id, status, count(*) AS n FROM evently.event_seats GROUP BY 1, 2) inventory
  FULL JOIN (SELECT event_id, status, sum(n) AS n FROM evently.event_seat_counts,
                    LATERAL (VALUES ('AVAILABLE', available), ('HELD', held),
                                    ('BOOKED', booked), ('BLOCKED', blocked)) v(status, n)
              GROUP BY 1, 2) counted USING (event_id, status)
 WHERE coalesce(inventory.n, 0) <> coalesce(counted.n, 0);
SQL
