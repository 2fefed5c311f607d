#!/usr/bin/env bash
# Stress through the proxy (SPEC section 13): two 100-seat events, one per
# shard, 16 pgbench clients for 20 s of holds, confirmations, releases,
# lapses and cancellations through the proxy's SQL API (stress-setup.sql),
# the sweeper (the proxy's fan-out expire_holds) once a second beside them;
# then tests/stress/invariants.sql on each shard.  Fails on any client error,
# any violation, a run that did not contend on both shards, or a row of one
# shard carrying the other's bucket.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${TESTDIR:?}/stress
SECONDS_TO_RUN=${STRESS_SECONDS:-20}

make_user_dir "$(dirname "$DIR")"
trap 'bash "$HERE/topology.sh" stop "$DIR" >/dev/null 2>&1' EXIT
TOPOLOGY_FAST=1 bash "$HERE/topology.sh" start "$DIR" 2 >"$DIR.log" 2>&1 || { tail -20 "$DIR.log"; exit 1; }
source "$DIR/topology.env"
IFS=';' read -r -a SHARD_SU <<<"$SHARD_SUS"
sql() { as_pg_user psql -X -q -v ON_ERROR_STOP=1 "$@"; }

sql "$PROXY_SU" -f "$HERE/stress-setup.sql" >/dev/null
# the proxy's conninfo as pgbench takes it: its socket directory and port
proxy_host=$(sed -n 's/.*host=\([^ ]*\).*/\1/p' <<<"$PROXY_SU")
proxy_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$PROXY_SU")
pgbench() { as_pg_user pgbench -h "$proxy_host" -p "$proxy_port" -U postgres "$@" evently; }

echo "pgbench through the proxy: 16 clients, ${SECONDS_TO_RUN}s, the sweeper beside them"
pgbench -n -c 1 -T "$((SECONDS_TO_RUN + 1))" -f "$HERE/stress-sweep.sql" >"$DIR/sweep.out" 2>&1 &
sweeper=$!
status=0
pgbench -n -c 16 -j 2 -T "$SECONDS_TO_RUN" -f "$HERE/stress-step.sql" >"$DIR/pgbench.out" 2>&1 || status=$?
wait "$sweeper" || status=$?
grep -E "number of transactions actually processed|number of failed|^tps" "$DIR/pgbench.out" || true
if [ "$status" -ne 0 ] || grep -q "number of failed transactions: [1-9]" "$DIR/pgbench.out" "$DIR/sweep.out"; then
  echo "FAIL: a pgbench client failed"; tail -20 "$DIR/pgbench.out" "$DIR/sweep.out"; exit 1
fi
sql "$PROXY_SU" -c "SELECT evently.expire_holds()" >/dev/null
sql "$PROXY_SU" -c "SELECT action, outcome, count(*) FROM stress.outcomes GROUP BY 1, 2 ORDER BY 1, 2"

failures=0
exercised=$(sql "$PROXY_SU" -tA -c "
  SELECT count(*) FILTER (WHERE action = 'confirm') > 0 AND count(*) FILTER (WHERE action = 'cancel' AND outcome = 'ok') > 0
     AND count(*) FILTER (WHERE outcome = 'EV004') > 0 FROM stress.outcomes")
[ "$exercised" = t ] || { echo "FAIL: no confirmations, cancellations or conflicts"; failures=$((failures + 1)); }

events=$(sql "$PROXY_SU" -tA -c "SELECT string_agg(quote_literal(id), ',') FROM stress.events")
for k in 1 2; do
  su=${SHARD_SU[$((k - 1))]}
  sql "$su" -c "CREATE SCHEMA stress; CREATE TABLE stress.event AS SELECT id FROM evently.events WHERE id IN ($events)"
  mine=$(sql "$su" -tA -c "SELECT count(*) FROM stress.event")
  [ "$mine" = 1 ] || { echo "FAIL: shard $k holds $mine of the two events"; failures=$((failures + 1)); }
  booked=$(sql "$su" -tA -c "SELECT count(*) FROM evently.tickets t JOIN stress.event e ON e.id = t.event_id")
  [ "$booked" -gt 0 ] || { echo "FAIL: shard $k sold nothing"; failures=$((failures + 1)); }
  expired=$(sql "$su" -tA -c "SELECT count(*) FROM evently.outbox WHERE type = 'hold.expired'")
  [ "$expired" -gt 0 ] || { echo "FAIL: the sweeper expired no hold on shard $k"; failures=$((failures + 1)); }
  foreign=$(sql "$su" -tA -c "
    SELECT (SELECT count(*) FROM evently.holds WHERE evently.bucket_of(id) <> $k)
         + (SELECT count(*) FROM evently.bookings WHERE evently.bucket_of(id) <> $k)
         + (SELECT count(*) FROM evently.tickets WHERE evently.bucket_of(id) <> $k)
         + (SELECT count(*) FROM evently.outbox WHERE id >> 48 <> $k)")
  [ "$foreign" = 0 ] || { echo "FAIL: shard $k has $foreign rows outside bucket $k"; failures=$((failures + 1)); }
  violations=$(sql "$su" -tA -f "$ROOT_DIR/tests/stress/invariants.sql" | awk -F'|' '{s += $2} END {print s + 0}')
  echo "shard $k: $booked tickets, $expired holds expired by the sweeper, violations: $violations"
  [ "$violations" -eq 0 ] || { sql "$su" -f "$ROOT_DIR/tests/stress/invariants.sql"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] && echo "stress through the proxy: passed" || { echo "stress through the proxy: FAILED"; exit 1; }
