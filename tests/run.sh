#!/usr/bin/env bash
# make run: a private PostgreSQL cluster under .evently/ with evently and the
# seed data; `make stop` stops it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT=${EVENTLY_PG_PORT:-5433}
PGDATA=$STATE_DIR/pgdata
SOCKET_DIR=$STATE_DIR/run

start() {
  open_path_to "$ROOT_DIR"
  make_user_dir "$STATE_DIR"
  make_user_dir "$SOCKET_DIR"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    make_user_dir "$PGDATA"
    as_pg_user initdb -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKET_DIR'
timezone = 'UTC'
CONF
  fi
  if ! as_pg_user pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
    as_pg_user pg_ctl -D "$PGDATA" -l "$STATE_DIR/postgres.log" -w start >/dev/null
  fi
  local psql=(as_pg_user psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
  "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'evently'" | grep -q 1 ||
    "${psql[@]}" -d postgres -c "CREATE DATABASE evently"
  "${psql[@]}" -d evently -c "CREATE EXTENSION IF NOT EXISTS evently CASCADE"
  "${psql[@]}" -d evently -f "$ROOT_DIR/extension/seed.sql"
  cat <<MSG

evently is running.
  PostgreSQL  psql "postgresql://postgres@127.0.0.1:$PORT/evently"
  data        $PGDATA (log: $STATE_DIR/postgres.log)
  logins      admin@gmail.com / qwerty (ADMIN), mitshah2406@gmail.com / qwerty (USER),
              mitshah2406.work@gmail.com / qwerty (USER)
  try         SELECT * FROM evently.event_seats((SELECT id FROM evently.events LIMIT 1));
  stop        make stop
MSG
}

stop() {
  if [ -f "$PGDATA/PG_VERSION" ]; then
    as_pg_user pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  echo "evently stopped"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
