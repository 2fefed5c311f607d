# A throw-away PostgreSQL cluster for one test or benchmark, reachable only
# through a Unix socket in its own directory (no TCP port to collide on).
# Source it, then: cluster_start DIR; cluster_psql ...; cluster_stop.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
  [ -n "${CLUSTER_DIR:-}" ] && [ -f "$CLUSTER_DIR/data/postmaster.pid" ] &&
    as_pg_user pg_ctl -D "$CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1
  return 0
}
