#!/usr/bin/env bash
# make run: a private PostgreSQL cluster under .evently/ with evently and the
# seed data, and the HTTP shim on :8080 over it; `make stop` stops both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PORT=${EVENTLY_PG_PORT:-5433}
HTTP_PORT=${PORT_HTTP:-${HTTP_PORT:-8080}}
DB_URL=${DATABASE_URL:-postgresql://postgres@127.0.0.1:$PORT/evently}
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
  # Until 1.0 is released its install script changes in place: a cluster made
  # from an older copy gets the extension (and the seed data) anew.
  local script_sum
  script_sum=$(sha256sum "$ROOT_DIR/extension/evently--1.0.sql" | cut -d' ' -f1)
  if [ -f "$STATE_DIR/extension.sha256" ] && [ "$(cat "$STATE_DIR/extension.sha256")" != "$script_sum" ]; then
    echo "the extension's install script changed: recreating evently (and its data) in the dev cluster"
    "${psql[@]}" -d evently -c "DROP EXTENSION IF EXISTS evently CASCADE"
  fi
  "${psql[@]}" -d evently -c "CREATE EXTENSION IF NOT EXISTS evently CASCADE"
  echo "$script_sum" >"$STATE_DIR/extension.sha256"
  "${psql[@]}" -d evently -f "$ROOT_DIR/extension/seed.sql"
  start_shim
  cat <<MSG

evently is running.
  REST API    http://127.0.0.1:$HTTP_PORT/api/v1  (try: curl http://127.0.0.1:$HTTP_PORT/health)
  PostgreSQL  psql "postgresql://postgres@127.0.0.1:$PORT/evently"
  data        $PGDATA (logs: $STATE_DIR/postgres.log, $STATE_DIR/shim.log)
  logins      admin@gmail.com / qwerty (ADMIN), mitshah2406@gmail.com / qwerty (USER),
              mitshah2406.work@gmail.com / qwerty (USER)
  try         SELECT * FROM evently.event_seats((SELECT id FROM evently.events LIMIT 1));
  stop        make stop
MSG
}

# The JWT secret: JWT_SECRET when set, else one generated once and kept.
jwt_secret() {
  if [ -n "${JWT_SECRET:-}" ]; then
    echo "$JWT_SECRET"
    return
  fi
  if [ ! -s "$STATE_DIR/jwt_secret" ]; then
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$STATE_DIR/jwt_secret")
  fi
  cat "$STATE_DIR/jwt_secret"
}

start_shim() {
  stop_shim
  PORT=$HTTP_PORT DATABASE_URL=$DB_URL JWT_SECRET=$(jwt_secret) \
    nohup "$ROOT_DIR/shim/evently-shim" >>"$STATE_DIR/shim.log" 2>&1 &
  echo $! >"$STATE_DIR/shim.pid"
  for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$HTTP_PORT/ping" >/dev/null && return 0
    sleep 0.1
  done
  echo "evently-shim did not start; see $STATE_DIR/shim.log" >&2
  return 1
}

stop_shim() {
  if [ -f "$STATE_DIR/shim.pid" ]; then
    kill -TERM "$(cat "$STATE_DIR/shim.pid")" 2>/dev/null || true
    rm -f "$STATE_DIR/shim.pid"
  fi
}

stop() {
  stop_shim
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
