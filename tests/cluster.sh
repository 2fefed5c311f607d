# A throw-away PostgreSQL cluster for one test or benchmark, reachable only
# through a Unix socket in its own directory (no TCP port to collide on).
# Source it, then: cluster_start DIR; cluster_psql ...; cluster_stop.
# The cluster, and the programs started with start_background, are stopped
# when the script exits, also on an error (set -e) or SIGINT, SIGTERM, SIGHUP.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BACKGROUND_PIDS=()

# start_background CMD...: CMD in the background ($! is its pid), stopped by
# cluster_stop
start_background() {
  "$@" &
  BACKGROUND_PIDS+=("$!")
}

# SIGTERM to every program start_background started, SIGKILL to those still
# running 15 s later (the bridge's grace for a batch in flight is 10 s)
stop_background() {
  local pid alive
  [ ${#BACKGROUND_PIDS[@]} -gt 0 ] || return 0
  kill -TERM "${BACKGROUND_PIDS[@]}" 2>/dev/null || true
  for _ in $(seq 1 150); do
    alive=""
    for pid in "${BACKGROUND_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  kill -KILL "${BACKGROUND_PIDS[@]}" 2>/dev/null || true
  BACKGROUND_PIDS=()
  return 0
}

cluster_start() {
  CLUSTER_DIR=$1
  shift
  rm -rf "$CLUSTER_DIR"
  make_user_dir "$CLUSTER_DIR"
  as_pg_user initdb -D "$CLUSTER_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >>"$CLUSTER_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$CLUSTER_DIR'
max_connections = 120
shared_buffers = 256MB
timezone = 'UTC'
log_lock_waits = on
deadlock_timeout = 200ms
CONF
  for setting in "$@"; do echo "$setting" >>"$CLUSTER_DIR/data/postgresql.conf"; done
  trap cluster_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  as_pg_user pg_ctl -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/postgres.log" -w start >/dev/null
  cluster_psql -d postgres -c "CREATE DATABASE evently" >/dev/null
  cluster_psql -c "CREATE EXTENSION evently CASCADE" >/dev/null 2>&1
}

cluster_psql() {
  as_pg_user psql -X -q -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR" -U postgres -d evently "$@"
}

cluster_pgbench() {
  as_pg_user pgbench -h "$CLUSTER_DIR" -U postgres "$@"
}

cluster_stop() {
  stop_background
  [ -n "${CLUSTER_DIR:-}" ] && [ -f "$CLUSTER_DIR/data/postmaster.pid" ] &&
    as_pg_user pg_ctl -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1
  return 0
}
