#!/usr/bin/env bash
# The scale-out suite (SPEC section 13; make test, make test-scaleout):
# evently sharded by event on throw-away clusters of tests/scaleout/topology.sh
# (a global primary, two shards, the proxy and the reporting database,
# pgbouncer), each part against a topology of its own:
#   1. topology-test.sh   the topology itself: replication, routing, pooling
#   2. t/*.pl             list pages through the proxy equal one database's;
#                         the global writes shards depend on
#   3. the shim's whole TAP suite (tests/shim/t) with the shim on the proxy
#   4. stress.sh          contested seats on both shards through the proxy,
#                         the sweeper on, the invariants on each shard
# PROVE_TESTS narrows parts 2 and 3 to some files (and skips 1 and 4).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${TESTDIR:?}
PERL_LIB="$(dirname "$PG_BIN")/lib/pgxs/src/test/perl"
failures=0

part() { # part NAME COMMAND...
  echo "--- scaleout: $1"
  shift
  "$@" || { echo "--- scaleout: FAILED"; failures=$((failures + 1)); }
}

prove_as_pg() { # prove_as_pg DIR FILES...: with ShimTest on shards (EVENTLY_SCALEOUT)
  local dir=$1
  shift
  make_user_dir "$dir"
  as_pg_user env EVENTLY_ROOT="$ROOT_DIR" TESTDIR="$dir" EVENTLY_SCALEOUT=1 \
    PG_REGRESS="$(dirname "$PG_BIN")/lib/pgxs/src/test/regress/pg_regress" \
    prove -I "$PERL_LIB" "$@"
}

if [ -n "${PROVE_TESTS:-}" ]; then
  part "the files asked for" prove_as_pg "$OUT/tap" $PROVE_TESTS
else
  part "the topology" env TESTDIR="$OUT" bash "$HERE/topology-test.sh"
  part "lists and global writes" prove_as_pg "$OUT/tap" "$HERE"/t/*.pl
  part "the shim's TAP suite through the proxy" prove_as_pg "$OUT/shim" "$ROOT_DIR"/tests/shim/t/*.pl
  part "stress through the proxy" env TESTDIR="$OUT" bash "$HERE/stress.sh"
fi
[ "$failures" -eq 0 ]
