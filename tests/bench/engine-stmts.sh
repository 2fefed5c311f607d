#!/usr/bin/env bash
# Statements per hold+confirm pair (pg_stat_statements, track = all, so
# every statement a function, a trigger or a foreign-key check runs counts),
# for holds of 1, 4 and 10 seats: 200 pairs by one pgbench client each, on a
# throw-away cluster of its own so that the counting does not slow the timed
# runs of engine.sh, which calls this.  STMTS_DETAIL=1 also lists the
# statements of a 1-seat pair with their share of the time; STMTS_ONE=1
# counts the 1-seat pair only.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PAIRS=200

cluster_start "$STATE_DIR/bench/engine-stmts" "shared_preload_libraries = 'pg_stat_statements'" \
  "pg_stat_statements.track = all" "pg_stat_statements.max = 10000"
cluster_psql -f "$HERE/engine-setup.sql" >/dev/null
cluster_psql -v rows=10 -f "$HERE/engine-curve-setup.sql" >/dev/null
cluster_psql -c "CREATE EXTENSION pg_stat_statements" >/dev/null

# run K SCRIPT EVENT: PAIRS pairs of K-seat holds, then the statements they ran
count() {
  local k=$1 script=$2 event=$3 event_id
  event_id=$(cluster_psql -tA -c "SELECT id FROM evently.events WHERE name = '$event'")
  cluster_psql -c "SELECT pg_stat_statements_reset()" >/dev/null
  cluster_pgbench -n -M prepared -c 1 -t "$PAIRS" -D i=0 -D k="$k" -D event_id="$event_id" \
    -f "$HERE/$script" evently >"$CLUSTER_DIR/stmts-$k.out" 2>&1
  grep -q "actually processed: $PAIRS/$PAIRS" "$CLUSTER_DIR/stmts-$k.out" || { cat "$CLUSTER_DIR/stmts-$k.out" >&2; exit 1; }
  cluster_psql -tA -c "SELECT round(sum(calls) / $PAIRS.0, 1) FROM pg_stat_statements
                        WHERE query NOT LIKE '%pg_stat_statements%'"
}

detail() {
  cluster_psql -c "SELECT round(calls / $PAIRS.0, 2) AS per_pair, toplevel AS top,
                          round((100 * total_exec_time / sum(total_exec_time) FILTER (WHERE toplevel) OVER ())::numeric, 1) AS \"time %\",
                          left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS statement
                     FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
                    ORDER BY calls DESC, total_exec_time DESC"
}

s1=$(count 1 hold-confirm.sql Bench)
[ -z "${STMTS_DETAIL:-}" ] || detail
[ -z "${STMTS_ONE:-}" ] || { printf 'statements per pair        %10s (1 seat)\n' "$s1"; exit 0; }
s4=$(count 4 hold-confirm-k.sql "Bench 4")
s10=$(count 10 hold-confirm-k.sql "Bench 10")
printf 'statements per pair        %10s (1 seat), %s (4 seats), %s (10 seats)\n' "$s1" "$s4" "$s10"
