#!/usr/bin/env bash
# Stress test: 32 pgbench clients for 20 s of random hold / confirm / release /
# cancel / waitlist actions on one 500-seat event, then the invariants.
# Fails on any invariant violation, any deadlock, or any client error.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
CLIENTS=${STRESS_CLIENTS:-32}
SECONDS_TO_RUN=${STRESS_SECONDS:-20}

cluster_start "$STATE_DIR/test/stress"
cluster_psql -f "$HERE/setup.sql" >/dev/null

echo "pgbench: $CLIENTS clients, ${SECONDS_TO_RUN}s"
if ! cluster_pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_TO_RUN" -f "$HERE/act.sql" evently \
    >"$CLUSTER_DIR/pgbench.out" 2>&1; then
  echo "FAIL: a pgbench client failed"; tail -20 "$CLUSTER_DIR/pgbench.out"; exit 1
fi
grep -E "number of transactions actually processed|number of failed|^tps" "$CLUSTER_DIR/pgbench.out"
if grep -q "number of failed transactions: [1-9]" "$CLUSTER_DIR/pgbench.out"; then
  echo "FAIL: failed transactions"; exit 1
fi

cluster_psql -c "SELECT evently.expire_holds()" >/dev/null
# what the storm did, so a run that exercised nothing cannot pass
cluster_psql -c "SELECT action, outcome, count(*) FROM stress.outcomes GROUP BY 1, 2 ORDER BY 1, 2"
failures=0
exercised=$(cluster_psql -tA -c "
  SELECT count(*) FILTER (WHERE action = 'confirm' AND outcome = 'ok') > 0
     AND count(*) FILTER (WHERE action = 'cancel' AND outcome = 'ok') > 0
     AND count(*) FILTER (WHERE action = 'hold' AND outcome = 'EV004') > 0
     AND (SELECT count(*) FROM evently.outbox WHERE type = 'waitlist.offered') > 0
     AND (SELECT count(*) FROM evently.outbox WHERE type = 'waitlist.converted') > 0
     AND (SELECT count(*) FROM evently.outbox WHERE type = 'hold.expired') > 0
     AND (SELECT count(*) FROM evently.outbox WHERE type = 'waitlist.expired') > 0
    FROM stress.outcomes")
if [ "$exercised" != "t" ]; then
  echo "FAIL: the run did not exercise confirms, cancels, conflicts, offers, conversions and expiry of holds and offers"
  failures=$((failures + 1))
fi

cluster_psql -c "SELECT type, count(*) FROM evently.outbox GROUP BY 1 ORDER BY 1"
cluster_psql -f "$HERE/invariants.sql"
violations=$(cluster_psql -tA -f "$HERE/invariants.sql" | awk -F'|' '{s += $2} END {print s + 0}')
deadlocks=$(cluster_psql -tA -c "SELECT deadlocks FROM pg_stat_database WHERE datname = 'evently'")
logged=$(grep -c "deadlock detected" "$CLUSTER_DIR/postgres.log" || true)
echo "violations: $violations, deadlocks: $deadlocks (log: $logged)"
[ "$violations" -eq 0 ] || failures=$((failures + 1))
[ "$deadlocks" -eq 0 ] && [ "$logged" -eq 0 ] || failures=$((failures + 1))
[ "$failures" -eq 0 ] && echo "stress: passed" || { echo "stress: FAILED"; exit 1; }
