#!/usr/bin/env bash
# make test: every suite, each against a temporary server it starts itself.
#   tests/run-tests.sh [SUITE...]   regress isolation upgrade stress shim bridge scaleout
# (default: all, in that order).  REGRESS, ISOLATION and PROVE_TESTS narrow a
# suite to some of its files.  The regression files share one database, each
# building on the ones before it, so REGRESS=03_cancel runs 00_setup to
# 03_cancel.
# Each suite runs in a session (process group) of its own.  After each suite,
# and when the run is interrupted (SIGINT, SIGTERM, SIGHUP: the running
# suite's group gets SIGTERM first), no process of this run may be left:
# whatever is found is printed, stopped, and fails the run.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

for name in "$@"; do
  case $name in
    regress | isolation | upgrade | stress | shim | bridge | scaleout) ;;
    *) echo "usage: $0 [regress|isolation|upgrade|stress|shim|bridge|scaleout]..." >&2; exit 2 ;;
  esac
done

TEST_OUT=$STATE_DIR/test
open_path_to "$ROOT_DIR"
make_state_dir
rm -rf "$TEST_OUT"
make_user_dir "$TEST_OUT"

# every process this run starts inherits this mark (PostgreSQL overwrites
# its environment with its process titles; its processes are found by their
# working directory, the data directory)
RUN_MARK="$TEST_OUT:$$"
export EVENTLY_TEST_RUN=$RUN_MARK

# pids of this run's processes still alive, other than this script and its
# callers: the mark in their environment, or a program of the work tree or of
# PostgreSQL working in, or started with arguments naming, the test directory
own_processes() (
  unset EVENTLY_TEST_RUN
  callers=" "
  p=$$
  while [ "${p:-1}" -gt 1 ]; do
    callers+="$p "
    p=$(ps -o ppid= -p "$p" | tr -d ' ')
  done
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    case "$callers$BASHPID " in *" $pid "*) continue ;; esac
    if grep -qzxF "EVENTLY_TEST_RUN=$RUN_MARK" "$dir/environ" 2>/dev/null; then
      echo "$pid"
      continue
    fi
    case $(readlink "$dir/exe" 2>/dev/null) in
      "$ROOT_DIR"/* | "$PG_BIN"/*) ;;
      *) continue ;;
    esac
    case $(readlink "$dir/cwd" 2>/dev/null)/ in "$TEST_OUT"/*) echo "$pid"; continue ;; esac
    tr '\0' ' ' <"$dir/cmdline" 2>/dev/null | grep -qF "$TEST_OUT" && echo "$pid"
  done
  return 0
)

# fails if WHAT left processes running (after 5 s to finish exiting); they
# are printed and stopped (SIGTERM, SIGKILL 10 s later)
no_leftovers() {
  local what=$1 pids
  for _ in $(seq 1 25); do
    pids=$(own_processes)
    [ -z "$pids" ] && return 0
    sleep 0.2
  done
  echo "--- $what left processes running:"
  ps -o pid,ppid,user,etime,args -p "$(echo $pids | tr ' ' ,)"
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 1 50); do
    sleep 0.2
    pids=$(own_processes)
    [ -z "$pids" ] && return 1
  done
  kill -KILL $pids 2>/dev/null
  return 1
}

suite=""
suite_name=""
interrupted() {
  trap '' INT TERM HUP
  echo
  echo "--- interrupted by SIG$1${suite_name:+ during $suite_name}: stopping it"
  if [ -n "$suite" ]; then
    kill -TERM -- "-$suite" 2>/dev/null
    for _ in $(seq 1 150); do
      kill -0 -- "-$suite" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$suite" 2>/dev/null
    wait "$suite" 2>/dev/null
  fi
  no_leftovers "the interrupted run" && echo "--- nothing of the run is left running"
  exit "$2"
}
trap 'interrupted INT 130' INT
trap 'interrupted TERM 143' TERM
trap 'interrupted HUP 129' HUP

passed=0
failed=0
run_suite() {
  local status
  suite_name=$1
  shift
  echo "=== $suite_name"
  # a session of its own (its own process group), with lib.sh's functions
  setsid bash -c 'source "$0"; "$@"' "$ROOT_DIR/tests/lib.sh" "$@" </dev/null &
  suite=$!
  wait "$suite"
  status=$?
  suite=""
  no_leftovers "$suite_name" || status=1
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "--- $suite_name FAILED"
    for diffs in "$TEST_OUT"/*/regression.diffs; do
      [ -s "$diffs" ] && head -200 "$diffs"
    done
  fi
  suite_name=""
}

cd "$ROOT_DIR"
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(regress isolation upgrade stress shim bridge scaleout)
# make's own variables must not leak into the inner makes below
unset MAKEFLAGS MFLAGS MAKELEVEL

run_tap_suite() {
  local name=$1
  make_user_dir "$TEST_OUT/$name"
  run_suite "$name" as_pg_user env EVENTLY_ROOT="$ROOT_DIR" TESTDIR="$TEST_OUT/$name" \
    PG_REGRESS="$(dirname "$PG_BIN")/lib/pgxs/src/test/regress/pg_regress" \
    prove -I "$(dirname "$PG_BIN")/lib/pgxs/src/test/perl" ${PROVE_TESTS:-tests/$name/t/*.pl}
}

for name in "${suites[@]}"; do
  case $name in
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
    shim | bridge) run_tap_suite "$name" ;;
    scaleout)
      make_user_dir "$TEST_OUT/scaleout"
      run_suite scaleout env TESTDIR="$TEST_OUT/scaleout" PROVE_TESTS="${PROVE_TESTS:-}" bash tests/scaleout/run.sh ;;
  esac
done

echo
left=0
no_leftovers "the run" || left=1
echo "suites: $passed passed, $failed failed"
[ "$left" -eq 0 ] || echo "FAILED: processes of the run were left running"
[ "$failed" -eq 0 ] && [ "$left" -eq 0 ]
