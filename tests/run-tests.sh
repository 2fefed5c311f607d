#!/usr/bin/env bash
# make test: every suite, each against a temporary server it starts itself.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

TEST_OUT=$STATE_DIR/test
open_path_to "$ROOT_DIR"
make_user_dir "$STATE_DIR"
rm -rf "$TEST_OUT"
make_user_dir "$TEST_OUT"

passed=0
failed=0
run_suite() {
  local name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "--- $name FAILED"
    for diffs in "$TEST_OUT"/*/regression.diffs; do
      [ -s "$diffs" ] && head -200 "$diffs"
    done
  fi
}

cd "$ROOT_DIR"
run_suite regress as_pg_user make --no-print-directory -s installcheck-regress TEST_OUT="$TEST_OUT"
run_suite isolation as_pg_user make --no-print-directory -s installcheck-isolation TEST_OUT="$TEST_OUT"
run_suite upgrade bash tests/upgrade/run.sh
run_suite stress bash tests/stress/run.sh
make_user_dir "$TEST_OUT/shim"
run_suite shim as_pg_user env EVENTLY_ROOT="$ROOT_DIR" TESTDIR="$TEST_OUT/shim" \
  PG_REGRESS="$(dirname "$PG_BIN")/lib/pgxs/src/test/regress/pg_regress" \
  prove -I "$(dirname "$PG_BIN")/lib/pgxs/src/test/perl" tests/shim/t/*.pl
make_user_dir "$TEST_OUT/bridge"
run_suite bridge as_pg_user env EVENTLY_ROOT="$ROOT_DIR" TESTDIR="$TEST_OUT/bridge" \
  PG_REGRESS="$(dirname "$PG_BIN")/lib/pgxs/src/test/regress/pg_regress" \
  prove -I "$(dirname "$PG_BIN")/lib/pgxs/src/test/perl" tests/bridge/t/*.pl

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
