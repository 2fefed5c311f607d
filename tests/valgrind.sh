#!/usr/bin/env bash
# The regression suite against a server running under valgrind memcheck
# (slow; not part of make test).  Reports every valgrind error whose stack
# passes through evently.so.
set -euo pipefail
source "$(dirname "$0")/cluster.sh"

DIR=$STATE_DIR/valgrind
rm -rf "$DIR"
make_user_dir "$DIR"
as_pg_user initdb -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# the server is stopped however the script ends
trap 'as_pg_user pg_ctl -D "$DIR/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
as_pg_user bash -c "valgrind --quiet --trace-children=yes --track-origins=yes --read-var-info=no \
  --error-limit=no --num-callers=30 --log-file='$DIR/valgrind.%p.log' \
  $PG_BIN/postgres -D '$DIR/data' -c listen_addresses= -c unix_socket_directories='$DIR' \
  -c max_connections=20 >'$DIR/postgres.log' 2>&1 &"
for _ in $(seq 1 120); do
  as_pg_user pg_isready -h "$DIR" -q && break
  sleep 1
done

cd "$ROOT_DIR"
status=0
as_pg_user "$(dirname "$PG_BIN")"/lib/pgxs/src/test/regress/pg_regress --inputdir=. \
  --bindir="$PG_BIN" --host="$DIR" --user=postgres --outputdir="$DIR/regress" \
  --load-extension=pgcrypto --load-extension=evently $(ls sql | sed 's/\.sql$//') || status=$?
as_pg_user pg_ctl -D "$DIR/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true

reports=$(grep -l "evently.so" "$DIR"/valgrind.*.log 2>/dev/null || true)
total=$(cat "$DIR"/valgrind.*.log | grep -c "^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|Uninitialised\|Mismatched\|overlap\)" || true)
echo "valgrind: $total error reports in all processes; logs naming evently.so: ${reports:-none}"
[ -z "$reports" ] && [ "$status" -eq 0 ]
