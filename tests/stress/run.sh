#!/usr/bin/env bash
# Stress test: 32 pgbench clients for 20 s of random actions, then the
# invariants (invariants.sql).  About half the actions are seat holds,
# confirmations, releases, cancellations and waitlist moves on a 500-seat
# event; the others general admission and money (stress.trade): tier
# reservations on that event and a tiers-only one, orders of seat and tier
# holds paid by mock, offline (marked paid by an ADMIN) and card (the
# provider's webhooks played in SQL: some late, some twice, some out of
# order), refund requests, approvals and rejections, card refunds ending on
# their webhook, cancellations of orders' bookings, and 12 s in the
# cancellation of the tiers-only event.
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
cluster_psql -c "
  SELECT o.provider, CASE WHEN EXISTS (SELECT 1 FROM evently.hold_items hi WHERE hi.hold_id = o.hold_id)
                          THEN 'units' ELSE 'seats' END AS holds, o.status,
         coalesce(o.status_note, '') AS note, count(*)
    FROM evently.orders o GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
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
# what the trade side must have done, each by name: the ones it did not do
missing=$(cluster_psql -tA -c "
  SELECT string_agg(what, ', ') FROM (VALUES
    ('reservations', (SELECT count(*) FROM stress.outcomes WHERE action = 'reserve' AND outcome = 'ok') > 0),
    ('SOLD_OUT', (SELECT count(*) FROM stress.outcomes WHERE action = 'reserve' AND outcome = 'EV018') > 0),
    ('orders paid by mock, offline and card',
     (SELECT count(DISTINCT provider) FROM evently.orders WHERE booking_id IS NOT NULL) = 3),
    ('orders of seats', EXISTS (SELECT 1 FROM evently.orders o JOIN evently.hold_seats hs ON hs.hold_id = o.hold_id
                                 WHERE o.booking_id IS NOT NULL)),
    ('orders of units', EXISTS (SELECT 1 FROM evently.orders o JOIN evently.hold_items hi ON hi.hold_id = o.hold_id
                                 WHERE o.booking_id IS NOT NULL)),
    ('offline orders marked paid', (SELECT count(*) FROM stress.outcomes WHERE action = 'mark paid' AND outcome = 'ok') > 0),
    ('card webhooks', (SELECT count(*) FROM stress.outcomes WHERE action = 'card webhook' AND outcome = 'applied: COMPLETED') > 0),
    ('a replayed webhook', (SELECT count(*) FROM stress.outcomes WHERE action = 'card webhook' AND outcome = 'duplicate') > 0),
    ('late payments', EXISTS (SELECT 1 FROM evently.orders WHERE paid_at > expires_at
                                 AND coalesce(status_note, '') NOT LIKE '%event stopped%')),
    ('refund requests', (SELECT count(*) FROM stress.outcomes WHERE action = 'refund' AND outcome = 'ok') > 0),
    ('approvals', (SELECT count(*) FROM stress.outcomes WHERE action = 'approve' AND outcome = 'ok') > 0),
    ('rejections', (SELECT count(*) FROM stress.outcomes WHERE action = 'reject' AND outcome = 'ok') > 0),
    ('card refunds', (SELECT count(*) FROM stress.outcomes WHERE action = 'refund webhook' AND outcome = 'applied: REFUNDED') > 0),
    ('cancellations of orders'' bookings', (SELECT count(*) FROM stress.outcomes WHERE action = 'cancel order' AND outcome = 'ok') > 0),
    ('expiry of tier holds', EXISTS (SELECT 1 FROM evently.outbox x JOIN evently.hold_items hi ON hi.hold_id::text = x.data ->> 'hold_id'
                                      WHERE x.type = 'hold.expired')),
    ('the tiers-only event''s cancellation', (SELECT count(*) FROM stress.outcomes WHERE action = 'cancel event' AND outcome = 'ok') = 1)
  ) AS c (what, done) WHERE NOT done")
if [ -n "$missing" ]; then
  echo "FAIL: the run did not exercise: $missing"
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
