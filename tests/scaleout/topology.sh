#!/usr/bin/env bash
# The scale-out topology of issue 15 as throw-away clusters on loopback:
#
#   topology.sh start DIR [SHARDS]   (SHARDS: a number, or SHARDS=n; default 2, or $SHARDS)
#   topology.sh stop DIR             stops everything start started, waits until it has exited
#   topology.sh status DIR           what runs, and each subscription's state
#
# Under DIR, as the unprivileged PostgreSQL user (tests/lib.sh):
#   g/      cluster G: database evently = the global primary (full extension),
#           PUBLICATION evently_global; synchronous_commit = remote_apply and
#           synchronous_standby_names = 'ANY n (shard1, ...)' once every shard
#           has caught up, so a global write returns only when every shard has
#           applied it (a new user books on any shard at once)
#   sK/     cluster SK (K = 1..n): database evently = shard of bucket K (full
#           extension), SUBSCRIPTION shardK to G (waited for until every table
#           is ready: P7), PUBLICATION evently_shard for the reporting database
#   p/      cluster P: database evently = the proxy (PL/Proxy, no evently
#           extension; SQL/MED servers evently, evently_global and
#           evently_report, all through pgbouncer), and database evently_report = the reporting database
#           (full extension, subscribing to G and every shard, asynchronous)
#   pgbouncer/  pgbouncer in transaction mode in front of the shards and G;
#           PL/Proxy connects through it (P2: a refused call drops PL/Proxy's
#           connection, so each reconnect must be a pooler login, not a fork)
#   topology.env  the connection strings (PROXY_URL, GLOBAL_URL, SHARD_URLS,
#           REPORT_URL, PGBOUNCER_PORT, ...), for the tests and make run to source
#
# Every cluster listens on 127.0.0.1 (pgbouncer needs TCP) on a free port and
# on a Unix socket in its own directory.  Over TCP everyone logs in with a
# password (scram), as make run's cluster; the superuser postgres only over
# the socket (trust: the directory is the unprivileged user's alone).
#
# The reporting database lives on cluster P, not G: G sits on the hot path of
# every global write (synchronous to every shard), and analytics scans are
# what should stay off it; and a subscriber in the publisher's own cluster
# needs its slot made by hand (P8).  P holds no other data, so in production
# the reporting database would be a cluster of its own; here one cluster
# fewer is a second less to start.
#
# Environment:
#   PROXY_SQL=path   loaded into the proxy after its servers instead of the
#                    evently_proxy extension (which start needs otherwise)
#   TOPOLOGY_FAST=1  test-only: fsync and full_page_writes off, and the data
#                    directories in RAM (/dev/shm/evently-topology.*, linked
#                    from DIR/NAME/data, deleted by stop): a crash loses the
#                    clusters, which the tests throw away anyway.  Starts in
#                    ~4 s instead of ~12 s here (copying the data directories
#                    onto ext4 is most of the time)
#   TOPOLOGY_APP_PASSWORD  evently_app's password (default: a random one,
#                    kept in DIR/app_password)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# libpq's environment of the caller (a TAP test sets PGAPPNAME, PGHOST ...)
# must not reach the clusters: PGAPPNAME would rename the subscriptions'
# walreceivers, which synchronous_standby_names knows by name
unset PGAPPNAME PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGOPTIONS PGSERVICE PGPASSWORD

SCALEOUT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Where each table of the extension lives (tables of 00_schema.sql).  start
# refuses to run while a table of the installed extension is in no list or
# in two, so a new table cannot be forgotten.
#
# Global, written on G and replicated to every shard: the engine reads them
# on the shard (foreign keys of per-event rows, _actor, _organizer, seat rows
# of an event's inventory, fees of its payments), so they must be local.
GLOBAL_REPLICATED=(
  users            # _actor reads the acting user in every call; FKs of holds, bookings, ...
  organizers       # events.organizer_id; _organizer / _managed_event on the event's shard
  tags             # event_tags.tag_id; the event's catalog
  venue_templates  # events.venue_template_id; create_event copies the layout
  venue_sections   # event_seats / event_pricing / tickets .section_id
  seats            # event_seats.seat_id: an event's inventory is made from them
  provider_fees    # the fee of each payment (93_payouts.sql), computed where the payment is
)
# Global, on G only: no shard reads them (the auth routes, the inbox and the
# mail log are routed to G; evently-notify writes there).
GLOBAL_ONLY=(
  refresh_tokens   # /auth/refresh and /auth/logout run on G
  notifications    # the inbox: evently-notify writes, /users/notifications reads, on G
  login_failures   # login throttling: /auth/login runs on G
  login_sources    # the same
  mail_log         # evently-notify's record of mails sent, next to the inbox
  role_links       # links a role of G's cluster to a user: role oids mean nothing on another cluster
)
# Per event: on the event's shard only.  All but the last group are published
# by each shard (evently_shard) to the reporting database.
PER_EVENT=(
  events event_pricing event_tags event_seats event_seat_counts
  holds hold_seats hold_items bookings tickets payments
  cancellation_policies cancellations waitlist_entries
  ticket_tiers tier_units tier_unit_counts discount_codes orders order_items refunds
  webhook_events   # a provider's delivery about a payment, kept with the payment
  event_staff checkins ticket_revocations
)
# Per event, not published to the reporting database: outbox and audit_log
# (each shard's bridge reads its own; the analytics do not), scan_log (its
# bigint identity is per shard: two shards' rows would collide in one table)
# and event_keys (the tickets' secret signing keys: no role may read them,
# so no copy of them either).
PER_EVENT_UNPUBLISHED=(outbox audit_log scan_log event_keys)

usage() {
  echo "usage: $0 start DIR [SHARDS] | stop DIR | status DIR" >&2
  exit 2
}

log() { echo "topology: $*" >&2; }
# with TOPOLOGY_VERBOSE=1, each step and the seconds since start
T0=$EPOCHREALTIME
step() { [ -z "${TOPOLOGY_VERBOSE:-}" ] || log "$(awk "BEGIN { printf \"%5.2f s\", $EPOCHREALTIME - $T0 }") $*"; }

# --- ports -------------------------------------------------------------------

TAKEN_PORTS=" "
# FREE_PORT = a TCP port nobody listens on (nor given out before by this
# run: not a $(...) subshell, which would forget it)
free_port() {
  local port
  while :; do
    # below the kernel's ephemeral ports (32768 and up): no outgoing
    # connection can take it between this check and the server's bind
    port=$((10000 + RANDOM % 22000))
    case $TAKEN_PORTS in *" $port "*) continue ;; esac
    [ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] || continue
    TAKEN_PORTS+="$port "
    FREE_PORT=$port
    return
  done
}

# --- clusters ----------------------------------------------------------------

# psql as the superuser over cluster NAME's socket: psql_on NAME [DB] ARGS...
psql_on() {
  local name=$1 db=$2
  shift 2
  as_pg_user psql -X -q -v ON_ERROR_STOP=1 -h "$DIR/$name" -p "$(port_of "$name")" -U postgres -d "$db" "$@"
}
port_of() { cat "$DIR/$1/port"; }

# The common base of every cluster: initdb once, the extension created in
# database evently with the roles, then copied (0.2 s a copy instead of a
# 1 s initdb and a 1-2 s CREATE EXTENSION each).
make_template() {
  local t=$DIR/template port
  make_user_dir "$t"
  data_dir template
  # 1 MB WAL segments, few kept: each copy writes 30 MB less
  as_pg_user initdb -D "$t/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N --wal-segsize=1 >/dev/null
  free_port
  port=$FREE_PORT
  cat >>"$t/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$t'
timezone = 'UTC'
password_encryption = 'scram-sha-256'
min_wal_size = 2MB
fsync = off
CONF
  as_pg_user pg_ctl -D "$t/data" -l "$t/postgres.log" -o "-p $port" -w start >/dev/null
  local psql=(as_pg_user psql -X -q -v ON_ERROR_STOP=1 -h "$t" -p "$port" -U postgres)
  "${psql[@]}" -d postgres -c "CREATE DATABASE evently" >/dev/null
  "${psql[@]}" -d evently -c "SET client_min_messages = warning" -c "CREATE EXTENSION evently CASCADE" >/dev/null
  echo "SELECT evently.setup_roles('evently_app', :'pw')" | "${psql[@]}" -d evently -v pw="$APP_PASSWORD" >/dev/null
  # heartbeats: a source's beat, once the reporting database has it, says it
  # has applied everything the source committed before (tests: ScaleoutCluster;
  # a DBA: the replication lag); one table per kind of source, so that no row
  # reaches the reporting database by two ways
  "${psql[@]}" -d evently -c "CREATE SCHEMA topology" \
    -c "CREATE TABLE topology.heartbeat_global (source text PRIMARY KEY, beat bigint NOT NULL)" \
    -c "CREATE TABLE topology.heartbeat_shard (source text PRIMARY KEY, beat bigint NOT NULL)" >/dev/null
  check_classification "${psql[@]}" -d evently
  as_pg_user pg_ctl -D "$t/data" -m fast -w stop >/dev/null
  # the copies' settings are their own (the fsync knob above is the template's only)
  sed -i '/^fsync = off$/d' "$t/data/postgresql.conf"
}

# every table of the installed extension in exactly one of the lists above
check_classification() {
  local listed bad
  listed=$(printf '%s\n' "${GLOBAL_REPLICATED[@]}" "${GLOBAL_ONLY[@]}" "${PER_EVENT[@]}" "${PER_EVENT_UNPUBLISHED[@]}")
  bad=$("$@" -tA -v listed="$listed" <<'SQL'
SELECT string_agg(coalesce(t.tablename, l.name) || CASE WHEN t.tablename IS NULL THEN ' (no such table)'
                  WHEN l.name IS NULL THEN ' (in no list)' ELSE ' (in two lists)' END, ', ')
  FROM (SELECT tablename FROM pg_tables WHERE schemaname = 'evently') t
  FULL JOIN (SELECT name, count(*) AS n FROM unnest(string_to_array(:'listed', E'\n')) name GROUP BY name) l
    ON l.name = t.tablename
 WHERE t.tablename IS NULL OR l.name IS NULL OR l.n > 1
SQL
)
  if [ -n "$bad" ]; then
    log "tables to classify in tests/scaleout/topology.sh: $bad"
    return 1
  fi
}

# DIR/NAME/data: a directory there, or with TOPOLOGY_FAST=1 a link to one in RAM
data_dir() {
  if [ -n "$DATA_ROOT" ]; then
    make_user_dir "$DATA_ROOT/$1"
    chmod 700 "$DATA_ROOT/$1"
    ln -s "$DATA_ROOT/$1" "$DIR/$1/data"
  else
    make_user_dir "$DIR/$1/data"
    chmod 700 "$DIR/$1/data"
  fi
}

# make_cluster NAME PORT SETTING...: cluster NAME from the template, with
# its own port, socket and settings
make_cluster() {
  local name=$1 port=$2
  shift 2
  make_user_dir "$DIR/$name"
  data_dir "$name"
  cp -a "$DIR/template/data/." "$DIR/$name/data/"
  echo "$port" >"$DIR/$name/port"
  # unix_socket_directories replaces the template's (the last line wins)
  cat >>"$DIR/$name/data/postgresql.conf" <<CONF
# topology.sh: cluster $name
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$DIR/$name'
max_connections = 120
shared_buffers = 64MB
log_lock_waits = on
deadlock_timeout = 200ms
CONF
  if [ "${TOPOLOGY_FAST:-}" = 1 ]; then
    printf 'fsync = off\nfull_page_writes = off\n' >>"$DIR/$name/data/postgresql.conf"
  fi
  for setting in "$@"; do echo "$setting" >>"$DIR/$name/data/postgresql.conf"; done
  cat >"$DIR/$name/data/pg_hba.conf" <<HBA
local all postgres trust
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
  [ "$(id -u)" -ne 0 ] || chown "$RUN_USER" "$DIR/$name/port" "$DIR/$name/data/pg_hba.conf"
}

# start cluster NAME (in the background: the caller waits), on another free
# port if its own was taken meanwhile (other helpers share this machine)
start_cluster() {
  local name=$1
  for _ in 1 2 3; do
    as_pg_user pg_ctl -D "$DIR/$name/data" -l "$DIR/$name/postgres.log" -w -t 60 start >/dev/null && return 0
    grep -q "could not bind\|Address already in use" "$DIR/$name/postgres.log" || break
    free_port
    echo "$FREE_PORT" >"$DIR/$name/port"
    echo "port = $FREE_PORT" >>"$DIR/$name/data/postgresql.conf"
  done
  log "cluster $name did not start; the end of $DIR/$name/postgres.log:"
  tail -n 5 "$DIR/$name/postgres.log" >&2
  return 1
}

# --- the pieces --------------------------------------------------------------

REPLICATION_SETTINGS=(
  "wal_level = logical"
  "max_wal_senders = 20"
  "max_replication_slots = 20"
  "max_logical_replication_workers = 16"
  "max_sync_workers_per_subscription = 4"
  "max_worker_processes = 24"
)

qualified() { local t; for t in "$@"; do printf 'evently.%s, ' "$t"; done | sed 's/, $//'; }

setup_global() {
  psql_on g evently -c "CREATE PUBLICATION evently_global FOR TABLE $(qualified "${GLOBAL_REPLICATED[@]}"), topology.heartbeat_global"
}

# "true" if a table of cluster NAME's evently among TABLES has a row, else
# "false": a fresh extension's are empty, and an initial copy of nothing
# still costs a table sync worker per table (seconds for 60 tables)
copy_data() {
  local name=$1
  shift
  psql_on "$name" evently -tAc "SELECT CASE WHEN $(for t in "$@"; do printf 'EXISTS (SELECT FROM evently.%s) OR ' "$t"; done) false
                                       THEN 'true' ELSE 'false' END"
}

# shard K: its bucket, its publication for the reporting database, its
# subscription to G (copying G's global rows)
setup_shard() {
  local k=$1
  if [ "$(psql_on "s$k" evently -tAc "SELECT to_regprocedure('evently.configure_shard(integer)') IS NOT NULL")" = t ]; then
    psql_on "s$k" evently -c "SELECT evently.configure_shard($k)" >/dev/null
  else
    # TODO(issue 15): evently.configure_shard lands with the bucketed ids.
    # Until then the shard's ids carry no bucket.  ALTER DATABASE evently SET
    # evently.bucket = k is no stand-in: the extension reserves the prefix
    # "evently", so every session that loads it would WARN that it removes
    # the unknown setting (and PL/Proxy would pass the WARNING to the shim).
    log "shard $k: no evently.configure_shard in this extension yet: its ids carry no bucket"
  fi
  psql_on "s$k" evently -c "CREATE PUBLICATION evently_shard FOR TABLE $(qualified "${PER_EVENT[@]}"), topology.heartbeat_shard"
  psql_on "s$k" evently -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION shard$k
      CONNECTION 'host=$DIR/g port=$(port_of g) user=postgres dbname=evently'
      PUBLICATION evently_global WITH (copy_data = $(copy_data g "${GLOBAL_REPLICATED[@]}"))"
}

# the reporting database on P: a copy of the template's evently (the full
# extension), subscribing to G and to every shard
setup_report() {
  psql_on p postgres -c "ALTER DATABASE evently RENAME TO evently_report"
  local k
  psql_on p evently_report -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION report_global
      CONNECTION 'host=$DIR/g port=$(port_of g) user=postgres dbname=evently'
      PUBLICATION evently_global WITH (copy_data = $(copy_data g "${GLOBAL_REPLICATED[@]}"))"
  for k in $(seq 1 "$SHARDS"); do
    psql_on p evently_report -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION report_shard$k
        CONNECTION 'host=$DIR/s$k port=$(port_of "s$k") user=postgres dbname=evently'
        PUBLICATION evently_shard WITH (copy_data = $(copy_data "s$k" "${PER_EVENT[@]}"))"
  done
}

# until every table of every subscription of NAME/DB is ready (P7: an
# initial copy is not covered by synchronous replication)
wait_subscriptions() {
  local name=$1 db=$2 left
  for _ in $(seq 1 600); do
    left=$(psql_on "$name" "$db" -tAc "SELECT count(*) FILTER (WHERE srsubstate <> 'r') + (count(*) = 0)::int
                                          FROM pg_subscription_rel")
    [ "$left" = 0 ] && return 0
    sleep 0.1
  done
  log "$name/$db: subscriptions not ready after 60 s"
  psql_on "$name" "$db" -c "SELECT srsubid::regclass, srrelid::regclass, srsubstate FROM pg_subscription_rel WHERE srsubstate <> 'r'" >&2
  return 1
}

# G's writes wait for every shard from now on (P6: a stopped shard stops
# global writes; ANY n of n is the price of read-your-writes on every shard)
make_global_synchronous() {
  local names
  names=$(for k in $(seq 1 "$SHARDS"); do printf 'shard%s,' "$k"; done | sed 's/,$//')
  psql_on g evently -c "ALTER SYSTEM SET synchronous_commit = remote_apply" \
    -c "ALTER SYSTEM SET synchronous_standby_names = 'ANY $SHARDS ($names)'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  # the shards' walsenders must be counted synchronous before anyone writes
  for _ in $(seq 1 100); do
    [ "$(psql_on g evently -tAc "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'")" = "$SHARDS" ] && return 0
    sleep 0.1
  done
  log "G: the shards' subscriptions are not synchronous standbys"
  return 1
}

# Partition i of the proxy's server evently is the shard of bucket b with
# b & (P-1) = i (design.md); a partition no shard's bucket maps to (when n is
# not a power of 2) goes to shard 1.
partitions() {
  echo $((1 << $(bucket_bits)))
}
bucket_bits() {
  local bits=0
  while [ $((1 << bits)) -lt "$SHARDS" ]; do bits=$((bits + 1)); done
  echo "$bits"
}
shard_of_partition() {
  local i=$1 p k
  p=$(partitions)
  for k in $(seq 1 "$SHARDS"); do
    [ $((k & (p - 1))) -eq "$i" ] && { echo "$k"; return; }
  done
  echo 1
}

start_pgbouncer() {
  local b=$DIR/pgbouncer k
  make_user_dir "$b"
  free_port
  PGBOUNCER_PORT=$FREE_PORT
  # plain passwords: pgbouncer then logs in to the servers with them (scram)
  (umask 077 && printf '"evently_app" "%s"\n' "$APP_PASSWORD" >"$b/userlist.txt")
  {
    echo "[databases]"
    echo "evently_global = host=127.0.0.1 port=$(port_of g) dbname=evently pool_mode=transaction"
    echo "evently_report = host=127.0.0.1 port=$(port_of p) dbname=evently_report pool_mode=transaction"
    for k in $(seq 1 "$SHARDS"); do
      echo "evently_s$k = host=127.0.0.1 port=$(port_of "s$k") dbname=evently pool_mode=transaction"
    done
    cat <<INI
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir = $b
auth_type = hba
auth_hba_file = $b/hba.conf
auth_file = $b/userlist.txt
admin_users = postgres
stats_users = evently_app
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
; bounded waits: a shard that is down answers in seconds, not after the
; default two minutes (the shim's call then answers 503)
query_wait_timeout = 5
server_connect_timeout = 2
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
logfile = $b/pgbouncer.log
pidfile = $b/pgbouncer.pid
INI
  } >"$b/pgbouncer.ini"
  # the admin console for the postgres superuser over the socket only; the
  # proxy's PL/Proxy over the socket too, trusted (the directory is the
  # PostgreSQL user's alone): PL/Proxy drops its connection after every
  # refused call (P2), and a SCRAM login per 409 costs more than the call.
  # Across machines, a client certificate does the same without a password.
  cat >"$b/hba.conf" <<HBA
local pgbouncer postgres trust
local all evently_app trust
host  all evently_app 127.0.0.1/32 scram-sha-256
HBA
  echo '"postgres" ""' >>"$b/userlist.txt"
  [ "$(id -u)" -ne 0 ] || chown "$RUN_USER" "$b/userlist.txt" "$b/pgbouncer.ini" "$b/hba.conf"
  as_pg_user /usr/sbin/pgbouncer -d -q "$b/pgbouncer.ini"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PGBOUNCER_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  log "pgbouncer did not start; the end of $b/pgbouncer.log:"
  tail -n 5 "$b/pgbouncer.log" >&2
  return 1
}

# the proxy: PL/Proxy's servers through pgbouncer, the gateway's login, the
# caller's proxy functions
setup_proxy() {
  local p i k parts=""
  p=$(partitions)
  for i in $(seq 0 $((p - 1))); do
    k=$(shard_of_partition "$i")
    parts+="p$i 'host=$DIR/pgbouncer port=$PGBOUNCER_PORT dbname=evently_s$k connect_timeout=2', "
  done
  psql_on p postgres -c "CREATE DATABASE evently"
  # P2: PL/Proxy's NOTICE "dropping stale conn" after every refused call
  # must not reach the shim's stderr
  psql_on p postgres -c "ALTER DATABASE evently SET client_min_messages = warning"
  psql_on p evently -v pw="$APP_PASSWORD" <<SQL
CREATE EXTENSION plproxy;
-- partition i = the shard of bucket b with b & ($p - 1) = i (design.md)
CREATE SERVER evently FOREIGN DATA WRAPPER plproxy
    OPTIONS (connection_lifetime '1800', ${parts%, });
CREATE SERVER evently_global FOREIGN DATA WRAPPER plproxy
    OPTIONS (connection_lifetime '1800', p0 'host=$DIR/pgbouncer port=$PGBOUNCER_PORT dbname=evently_global connect_timeout=2');
CREATE SERVER evently_report FOREIGN DATA WRAPPER plproxy
    OPTIONS (connection_lifetime '1800', p0 'host=$DIR/pgbouncer port=$PGBOUNCER_PORT dbname=evently_report connect_timeout=2');
-- on the shards and G, the proxy is the gateway: it logs in as evently_app
-- (trusted to assert the acting user), so only the gateway may use the
-- servers; the proxy's functions are granted to the gateway alone
CREATE USER MAPPING FOR PUBLIC SERVER evently OPTIONS (user 'evently_app', password :'pw');
CREATE USER MAPPING FOR PUBLIC SERVER evently_global OPTIONS (user 'evently_app', password :'pw');
CREATE USER MAPPING FOR PUBLIC SERVER evently_report OPTIONS (user 'evently_app', password :'pw');
GRANT USAGE ON FOREIGN SERVER evently, evently_global, evently_report TO evently_gateway;
SQL
  # the proxy's functions: the evently_proxy extension (generated from the
  # shim's route table), or PROXY_SQL's
  if [ -n "${PROXY_SQL:-}" ]; then
    psql_on p evently -f "$PROXY_SQL" >/dev/null
  elif [ "$(psql_on p evently -tAc "SELECT count(*) FROM pg_available_extensions WHERE name = 'evently_proxy'")" = 1 ]; then
    psql_on p evently -c "SET client_min_messages = warning" -c "CREATE EXTENSION evently_proxy CASCADE" >/dev/null
    PROXY_SQL="the evently_proxy extension"
  else
    log "no evently_proxy extension in $(dirname "$PG_BIN"): make install first"
    return 1
  fi
  # the gateway's way into the proxy's schemas (the extension grants none: on
  # one database setup_roles does this)
  psql_on p evently -c "GRANT USAGE ON SCHEMA evently, evently_proxy TO evently_gateway" >/dev/null
  echo "$PROXY_SQL" >"$DIR/proxy"
}

write_env() {
  local k shard_urls="" shard_sockets=""
  for k in $(seq 1 "$SHARDS"); do
    shard_urls+="postgresql://evently_app:$APP_PASSWORD@127.0.0.1:$(port_of "s$k")/evently "
    shard_sockets+="host=$DIR/s$k port=$(port_of "s$k") user=postgres dbname=evently;"
  done
  cat >"$DIR/topology.env" <<ENV
# written by tests/scaleout/topology.sh start: source it
# the programs' URLs (evently_app with its password, over loopback TCP)
SHARDS=$SHARDS
PROXY_URL='postgresql://evently_app:$APP_PASSWORD@127.0.0.1:$(port_of p)/evently'
GLOBAL_URL='postgresql://evently_app:$APP_PASSWORD@127.0.0.1:$(port_of g)/evently'
SHARD_URLS='${shard_urls% }'
REPORT_URL='postgresql://evently_app:$APP_PASSWORD@127.0.0.1:$(port_of p)/evently_report'
PGBOUNCER_PORT=$PGBOUNCER_PORT
PGBOUNCER_URL='postgresql://evently_app:$APP_PASSWORD@127.0.0.1:$PGBOUNCER_PORT/evently_s1'
# the superuser over each cluster's socket (as the unprivileged user)
PROXY_SU='host=$DIR/p port=$(port_of p) user=postgres dbname=evently'
GLOBAL_SU='host=$DIR/g port=$(port_of g) user=postgres dbname=evently'
SHARD_SUS='${shard_sockets%;}'
REPORT_SU='host=$DIR/p port=$(port_of p) user=postgres dbname=evently_report'
PGBOUNCER_ADMIN='host=$DIR/pgbouncer port=$PGBOUNCER_PORT user=postgres dbname=pgbouncer'
EVENTLY_APP_PASSWORD='$APP_PASSWORD'
ENV
  [ "$(id -u)" -ne 0 ] || chown "$RUN_USER" "$DIR/topology.env"
  chmod 600 "$DIR/topology.env"
}

# --- commands ----------------------------------------------------------------

clusters() {
  local k
  echo p
  for k in $(seq 1 "$SHARDS"); do echo "s$k"; done
  echo g
}

# a start that fails leaves nothing running
start_failed() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  log "start failed: stopping what it started"
  stop >/dev/null 2>&1
}

start() {
  local t0=$SECONDS k pids=() pid
  if [ -f "$DIR/topology.env" ] || [ -d "$DIR/g" ]; then
    log "$DIR holds a topology: stopping it and starting anew"
    stop
  fi
  rm -rf "$DIR"
  make_user_dir "$DIR"
  if [ "${TOPOLOGY_FAST:-}" = 1 ]; then
    rm -rf "$DATA_ROOT"
    make_user_dir "$DATA_ROOT"
    echo "$DATA_ROOT" >"$DIR/data_root"
  else
    DATA_ROOT=""
  fi
  trap start_failed EXIT
  if [ -n "${TOPOLOGY_APP_PASSWORD:-}" ]; then
    APP_PASSWORD=$TOPOLOGY_APP_PASSWORD
  else
    APP_PASSWORD=$(head -c 24 /dev/urandom | base64 -w0 | tr -d '/+=')
  fi
  (umask 077 && echo "$APP_PASSWORD" >"$DIR/app_password")
  echo "$SHARDS" >"$DIR/shards"

  step template; make_template
  for name in $(clusters); do
    free_port
    make_cluster "$name" "$FREE_PORT" "${REPLICATION_SETTINGS[@]}" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  pids=()
  rm -rf "$DIR/template" ${DATA_ROOT:+"$DATA_ROOT/template"}
  step "start clusters"
  for name in $(clusters); do
    start_cluster "$name" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done

  step "clusters up"; setup_global
  for k in $(seq 1 "$SHARDS"); do setup_shard "$k"; done
  step shards; setup_report
  for k in $(seq 1 "$SHARDS"); do wait_subscriptions "s$k" evently; done
  step "shards ready"; make_global_synchronous
  step pgbouncer; start_pgbouncer
  step proxy; setup_proxy
  step report; wait_subscriptions p evently_report
  # the heartbeats' rows, now that every subscription carries them
  psql_on g evently -c "INSERT INTO topology.heartbeat_global VALUES ('global', 0)" >/dev/null
  for k in $(seq 1 "$SHARDS"); do
    psql_on "s$k" evently -c "INSERT INTO topology.heartbeat_shard VALUES ('shard$k', 0)" >/dev/null
  done
  write_env
  trap - EXIT
  log "started in $((SECONDS - t0)) s"
  cat "$DIR/topology.env"
}

# PID runs (a zombie does not: in a container whose init reaps nobody, a
# daemon that exited stays one, and kill -0 still finds it)
alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

# pgbouncer, then P (its subscriptions), the shards, G; each waited for
stop() {
  local b=$DIR/pgbouncer pid name
  if [ -f "$b/pgbouncer.pid" ]; then
    pid=$(cat "$b/pgbouncer.pid")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.1
      done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$b/pgbouncer.pid"
  fi
  # the shards of the topology in DIR (start may be about to make another number)
  local SHARDS=$SHARDS
  [ -f "$DIR/shards" ] && SHARDS=$(cat "$DIR/shards")
  for name in template $(clusters); do
    [ -f "$DIR/$name/data/postmaster.pid" ] || continue
    as_pg_user pg_ctl -D "$DIR/$name/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_pg_user pg_ctl -D "$DIR/$name/data" -m immediate -w stop >/dev/null 2>&1 || true
  done
  rm -f "$DIR/topology.env"
  # the data in RAM goes with the clusters (TOPOLOGY_FAST=1)
  if [ -f "$DIR/data_root" ]; then
    rm -rf "$(cat "$DIR/data_root")"
    rm -f "$DIR/data_root"
  fi
  log "stopped"
}

status() {
  local name
  [ -f "$DIR/shards" ] && SHARDS=$(cat "$DIR/shards")
  for name in $(clusters); do
    if [ -f "$DIR/$name/data/postmaster.pid" ] &&
      as_pg_user pg_ctl -D "$DIR/$name/data" status >/dev/null 2>&1; then
      echo "$name: running on port $(port_of "$name")"
    else
      echo "$name: stopped"
    fi
  done
  if [ -f "$DIR/pgbouncer/pgbouncer.pid" ] && alive "$(cat "$DIR/pgbouncer/pgbouncer.pid")"; then
    echo "pgbouncer: running on port $(sed -n 's/^listen_port = //p' "$DIR/pgbouncer/pgbouncer.ini")"
  else
    echo "pgbouncer: stopped"
  fi
  if [ -f "$DIR/p/data/postmaster.pid" ]; then
    psql_on p evently_report -c "SELECT s.subname, count(*) FILTER (WHERE r.srsubstate = 'r') AS ready, count(*) AS tables
                                   FROM pg_subscription s JOIN pg_subscription_rel r ON r.srsubid = s.oid
                                  GROUP BY 1 ORDER BY 1" 2>/dev/null || true
  fi
}

[ $# -ge 2 ] || usage
COMMAND=$1
DIR=$(realpath -m "$2")
# TOPOLOGY_FAST's data directories: one place per DIR, found again after a crash
DATA_ROOT=/dev/shm/evently-topology.$(echo "$DIR" | sha1sum | cut -c1-12)
SHARDS=${3:-${SHARDS:-2}}
SHARDS=${SHARDS#SHARDS=}
case $SHARDS in '' | *[!0-9]* | 0) echo "SHARDS must be a number from 1" >&2; exit 2 ;; esac
# PL/Proxy's partitions are a power of 2 and new events go to them in turn:
# any other count of shards would give some shards more of them
[ $((SHARDS & (SHARDS - 1))) -eq 0 ] || { echo "SHARDS must be a power of 2 (1, 2, 4, ...)" >&2; exit 2; }

case $COMMAND in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
