#!/usr/bin/env bash
# make test: every suite, each against a temporary server it starts itself.
#   tests/run-tests.sh [SUITE...]   regress isolation upgrade stress shim bridge
# (default: all).  REGRESS, ISOLATION and PROVE_TESTS narrow a suite to some of
# its files.  The regression files share one database, each building on the
# ones before it, so REGRESS=03_cancel runs 00_setup to 03_cancel.
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
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(regress isolation upgrade stress shim bridge)
# make's own variables must not leak into the inner makes below
unset MAKEFLAGS MFLAGS MAKELEVEL

run_tap_suite() {
  local name=$1
  make_user_dir "$TEST_OUT/$name"
  run_suite "$name" as_pg_user env EVENTLY_ROOT="$ROOT_DIR" TESTDIR="$TEST_OUT/$name" \
    PG_REGRESS="$(dirname "$PG_BIN")/lib/pgxs/src/test/regress/pg_regress" \
    prove -I "$(dirname "$PG_BIN")/lib/pgxs/src/test/perl" ${PROVE_TESTS:-tests/$name/t/*.pl}
}

for suite in "${suites[@]}"; do
  case $suite in
    regress)
      last=$(printf '%s\n' ${REGRESS:-zz} | sort | tail -1)
      regress_files=$(basename -s .sql sql/*.sql | awk -v last="$last" '$0 <= last' | xargs)
      run_suite regress as_pg_user make --no-print-directory -s installcheck-regress \
        TEST_OUT="$TEST_OUT" REGRESS="$regress_files" ;;
    isolation)
      run_suite isolation as_pg_user make --no-print-directory -s installcheck-isolation \
        TEST_OUT="$TEST_OUT" ${ISOLATION:+ISOLATION="$ISOLATION"} ;;
    upgrade) run_suite upgrade bash tests/upgrade/run.sh ;;
    stress) run_suite stress bash tests/stress/run.sh ;;
    shim | bridge) run_tap_suite "$suite" ;;
    *) echo "unknown suite: $suite"; failed=$((failed + 1)) ;;
  esac
done

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
