#!/usr/bin/env bash
# make run: a private PostgreSQL cluster under .evently/ with evently and the
# seed data, the HTTP shim on 127.0.0.1:8080 over it, and the Kafka side: a
# local Kafka-protocol broker (unless KAFKA_BROKERS points at a real cluster),
# the outbox bridge and the notifications consumer, which also sends e-mail:
# to SMTP_URL when set, else to a local SMTP sink (Debian's python3-aiosmtpd
# on 127.0.0.1:EVENTLY_SMTP_PORT, 2525 by default) that keeps each message as
# a file under .evently/mail/new/; `make stop` stops them all, `make reset`
# also deletes the local state so the next run starts anew.
#
# make run SHARDS=n (issue 15): instead of the one cluster, the scale-out
# topology under .evently/scaleout/ (tests/scaleout/topology.sh: the global
# primary, n shards, the proxy and the reporting database, pgbouncer), made
# anew at every start; the shim over the proxy, one bridge per shard, the
# inbox consumer over the global primary.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PG_PORT=${EVENTLY_PG_PORT:-5433}
# PORT is the HTTP port (SPEC section 7); PORT_HTTP is its older name
HTTP_PORT=${PORT:-${PORT_HTTP:-${HTTP_PORT:-8080}}}
# the shim binds LISTEN_ADDRESS, itself defaulting to 127.0.0.1
LISTEN=${LISTEN_ADDRESS:-127.0.0.1}
# How this machine reaches the shim: a wildcard address answers on loopback;
# an IPv6 literal goes in brackets (hence curl -g: no globbing of them).
case $LISTEN in
  0.0.0.0) HTTP_URL=http://127.0.0.1:$HTTP_PORT ;;
  ::) HTTP_URL=http://[::1]:$HTTP_PORT ;;
  *:*) HTTP_URL=http://[$LISTEN]:$HTTP_PORT ;;
  *) HTTP_URL=http://$LISTEN:$HTTP_PORT ;;
esac

# 0 or unset: the one database; n >= 1: the scale-out topology with n shards
SHARDS=${SHARDS:-0}
TOPOLOGY_DIR=$STATE_DIR/scaleout

PGDATA=$STATE_DIR/pgdata
SOCKET_DIR=$STATE_DIR/run
EXT_VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT_DIR/evently.control")

# Who may connect (SPEC section 8): the superuser postgres only over the
# cluster's own socket, as the OS user that runs it (peer); everyone else,
# the programs' evently_app included, with a password (scram) -- no
# password-less superuser over TCP.  Rewritten at every start, so a cluster
# made by an older checkout (which trusted everyone) is closed too.
write_access_rules() {
  cat >"$PGDATA/pg_hba.conf" <<HBA
local all postgres peer map=evently
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128 scram-sha-256
HBA
  echo "evently $RUN_USER postgres" >"$PGDATA/pg_ident.conf"
  [ "$(id -u)" -ne 0 ] || chown "$RUN_USER" "$PGDATA/pg_hba.conf" "$PGDATA/pg_ident.conf"
}

# The cluster on PG_PORT: made once, restarted when it runs on another port.
start_cluster() {
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    make_user_dir "$PGDATA"
    as_pg_user initdb -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
timezone = 'UTC'
password_encryption = 'scram-sha-256'
CONF
  fi
  write_access_rules
  if as_pg_user pg_ctl -D "$PGDATA" status >/dev/null 2>&1; then
    if [ "$(sed -n 4p "$PGDATA/postmaster.pid")" = "$PG_PORT" ]; then
      as_pg_user pg_ctl -D "$PGDATA" reload >/dev/null
      return 0
    fi
    as_pg_user pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  as_pg_user pg_ctl -D "$PGDATA" -l "$STATE_DIR/postgres.log" -o "-p $PG_PORT" -w start >/dev/null
}

# The password of evently_app, the programs' login role (the gateway), made
# once and kept in the state directory.
app_password() {
  if [ ! -s "$STATE_DIR/db_password" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 -w0 | tr -d '/+=' >"$STATE_DIR/db_password")
  fi
  cat "$STATE_DIR/db_password"
}

start() {
  open_path_to "$ROOT_DIR"
  make_state_dir
  make_user_dir "$SOCKET_DIR"
  start_cluster
  local psql=(as_pg_user psql -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PG_PORT" -U postgres)
  "${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'evently'" | grep -q 1 ||
    "${psql[@]}" -d postgres -c "CREATE DATABASE evently"
  # A cluster made by an older checkout: 1.0 is updated in place (its data
  # kept); the version under development changes its install script until it
  # is released, so a cluster made from an older copy of it is recreated.
  local script_sum
  script_sum=$(sha256sum "$ROOT_DIR/extension/evently--$EXT_VERSION.sql" | cut -d' ' -f1)
  if [ "$("${psql[@]}" -d evently -tAc "SELECT extversion FROM pg_extension WHERE extname = 'evently'")" = 1.0 ]; then
    echo "updating evently 1.0 to $EXT_VERSION in the dev cluster"
    "${psql[@]}" -d evently -c "ALTER EXTENSION evently UPDATE"
  elif [ -f "$STATE_DIR/extension.sha256" ] && [ "$(cat "$STATE_DIR/extension.sha256")" != "$script_sum" ]; then
    echo "the $EXT_VERSION install script changed: recreating evently (and its data) in the dev cluster"
    "${psql[@]}" -d evently -c "DROP EXTENSION IF EXISTS evently CASCADE"
  fi
  "${psql[@]}" -d evently -c "CREATE EXTENSION IF NOT EXISTS evently CASCADE"
  echo "$script_sum" >"$STATE_DIR/extension.sha256"
  echo "SELECT evently.setup_roles('evently_app', :'pw')" | "${psql[@]}" -d evently -v pw="$(app_password)" >/dev/null
  DB_URL=${DATABASE_URL:-postgresql://evently_app:$(app_password)@127.0.0.1:$PG_PORT/evently}
  "${psql[@]}" -d evently -f "$ROOT_DIR/extension/seed.sql"
  start_shim
  start_kafka_side
  cat <<MSG

evently is running.
  REST API    $HTTP_URL/api/v1  (try: curl $HTTP_URL/health; the shim listens on $LISTEN)
  PostgreSQL  $( [ "$(id -u)" -eq 0 ] && echo "runuser -u $RUN_USER -- " )psql -h $SOCKET_DIR -p $PG_PORT -U postgres evently  (the superuser, over the socket)
              the programs connect as evently_app (password in $STATE_DIR/db_password)
  Kafka       $KAFKA_BROKERS$([ -n "$LOCAL_BROKER" ] && echo " (local evently-broker)"), topics evently.{hold,booking,waitlist,event,organizer,user}
  tail topics kcat -b $KAFKA_BROKERS -C -G tail -f '%t %k %h %s\n' ${KAFKA_TOPIC_PREFIX:-evently.}hold ${KAFKA_TOPIC_PREFIX:-evently.}booking ${KAFKA_TOPIC_PREFIX:-evently.}waitlist ${KAFKA_TOPIC_PREFIX:-evently.}event ${KAFKA_TOPIC_PREFIX:-evently.}organizer ${KAFKA_TOPIC_PREFIX:-evently.}user ${KAFKA_TOPIC_PREFIX:-evently.}tier ${KAFKA_TOPIC_PREFIX:-evently.}order ${KAFKA_TOPIC_PREFIX:-evently.}payment ${KAFKA_TOPIC_PREFIX:-evently.}refund ${KAFKA_TOPIC_PREFIX:-evently.}discount ${KAFKA_TOPIC_PREFIX:-evently.}ticket ${KAFKA_TOPIC_PREFIX:-evently.}checkin
  e-mail      $MAIL_WHERE
  data        $PGDATA (logs in $STATE_DIR: postgres.log, shim.log, bridge.log, notify.log, broker.log, smtp.log)
  logins      admin@gmail.com / qwerty (ADMIN), mitshah2406@gmail.com / qwerty (USER),
              mitshah2406.work@gmail.com / qwerty (USER), organizer@example.com / qwerty
              (verified ORGANIZER of two events), applicant@example.com / qwerty (organizer application PENDING)
  try         SELECT * FROM evently.event_seats((SELECT id FROM evently.events LIMIT 1));
  stop        make stop (make reset also deletes $STATE_DIR: cluster, secret, logs)
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
  PORT=$HTTP_PORT LISTEN_ADDRESS=$LISTEN DATABASE_URL=$DB_URL JWT_SECRET=$(jwt_secret) \
    start_program shim "$ROOT_DIR/shim/evently-shim"
  local pid
  pid=$(cat "$STATE_DIR/shim.pid")
  for _ in $(seq 1 50); do
    curl -sfg "$HTTP_URL/ping" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break  # it exited (a bad setting): no use waiting
    sleep 0.1
  done
  echo "evently-shim did not start; the end of $STATE_DIR/shim.log:" >&2
  tail -n 3 "$STATE_DIR/shim.log" >&2
  return 1
}

# SIGTERM to a program started here, by its pid file, and wait until it has
# exited (the bridge may take its 10 s grace), so that its port is free for
# the next start and nothing writes into a state directory being deleted
stop_program() {
  local pid
  if [ -f "$STATE_DIR/$1.pid" ]; then
    pid=$(cat "$STATE_DIR/$1.pid")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -f "$STATE_DIR/$1.pid"
  fi
}

stop_shim() { stop_program shim; }

start_program() {
  local name=$1
  shift
  stop_program "$name"
  nohup "$@" >>"$STATE_DIR/$name.log" 2>&1 &
  echo $! >"$STATE_DIR/$name.pid"
}

# KAFKA_BROKERS when set, else a local evently-broker (in memory, new per run)
start_kafka_side() {
  LOCAL_BROKER=""
  if [ -z "${KAFKA_BROKERS:-}" ]; then
    LOCAL_BROKER=1
    rm -f "$STATE_DIR/kafka_brokers"
    BROKER_ADDRESS_FILE=$STATE_DIR/kafka_brokers start_program broker "$ROOT_DIR/shim/evently-broker"
    for _ in $(seq 1 50); do [ -s "$STATE_DIR/kafka_brokers" ] && break; sleep 0.1; done
    KAFKA_BROKERS=$(cat "$STATE_DIR/kafka_brokers")
  fi
  export KAFKA_BROKERS
  if [ "$SHARDS" -gt 0 ]; then
    # one bridge per shard, each the leader of its own outbox; and one on the
    # global primary, whose outbox has the global writes' events
    # (organizer.*, user.*, ...)
    local k url
    k=0
    for url in $SHARD_URLS; do
      k=$((k + 1))
      DATABASE_URL=$url start_program "bridge-s$k" "$ROOT_DIR/shim/evently-bridge"
    done
    DATABASE_URL=$GLOBAL_URL start_program bridge-global "$ROOT_DIR/shim/evently-bridge"
  else
    DATABASE_URL=$DB_URL start_program bridge "$ROOT_DIR/shim/evently-bridge"
  fi
  start_mail_sink
  # the inbox (notifications) is global: on the global primary when sharded
  DATABASE_URL=${NOTIFY_URL:-$DB_URL} start_program notify "$ROOT_DIR/shim/evently-notify"
}

# SMTP_URL when set (a real relay); else a local sink on loopback that
# keeps each message as a file of the Maildir $STATE_DIR/mail (new/)
start_mail_sink() {
  export MAIL_FROM=${MAIL_FROM:-Evently <tickets@evently.localhost>}
  if [ -n "${SMTP_URL:-}" ]; then
    MAIL_WHERE="through $SMTP_URL, from $MAIL_FROM"
    export SMTP_URL
    return 0
  fi
  local port=${EVENTLY_SMTP_PORT:-2525}
  start_program smtp /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$STATE_DIR/mail"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  export SMTP_URL=smtp://127.0.0.1:$port
  MAIL_WHERE="local SMTP sink $SMTP_URL: each message a file in $STATE_DIR/mail/new/"
}

stop() {
  local pidfile
  stop_program notify
  stop_program smtp
  stop_program bridge
  for pidfile in "$STATE_DIR"/bridge-*.pid; do
    [ -e "$pidfile" ] && stop_program "$(basename "$pidfile" .pid)"
  done
  stop_program broker
  stop_shim
  if [ -f "$PGDATA/PG_VERSION" ]; then
    as_pg_user pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -d "$TOPOLOGY_DIR" ]; then
    bash "$ROOT_DIR/tests/scaleout/topology.sh" stop "$TOPOLOGY_DIR" 2>/dev/null || true
  fi
  echo "evently stopped"
}

# make run SHARDS=n: the topology made anew (its clusters are throw-away:
# the seed data is loaded at every start), the shim over the proxy, a bridge
# per shard.  The one-database cluster, if it runs, is stopped (its data kept).
start_sharded() {
  local psql k=0 su
  open_path_to "$ROOT_DIR"
  make_state_dir
  stop >/dev/null
  # the programs log in as evently_app with make run's password (db_password)
  TOPOLOGY_APP_PASSWORD=$(app_password) bash "$ROOT_DIR/tests/scaleout/topology.sh" start "$TOPOLOGY_DIR" "$SHARDS" >/dev/null
  source "$TOPOLOGY_DIR/topology.env"
  # The seed: its global half on the global primary (synchronously on every
  # shard when it returns), then its events spread over the shards, made on
  # each shard directly: no proxy function is needed to place them, and the
  # placement is fixed (event i on shard ((i - 1) mod n) + 1)
  psql=(as_pg_user psql -X -q -v ON_ERROR_STOP=1)
  "${psql[@]}" "$GLOBAL_SU" -c "SET seed.part = 'global'" -f "$ROOT_DIR/extension/seed.sql"
  IFS=';' read -r -a shard_su <<<"$SHARD_SUS"
  for su in "${shard_su[@]}"; do
    k=$((k + 1))
    "${psql[@]}" "$su" -c "SET seed.part = 'events'" -c "SET seed.shard = $k" -c "SET seed.shards = $SHARDS" \
      -f "$ROOT_DIR/extension/seed.sql"
  done
  DB_URL=$PROXY_URL
  NOTIFY_URL=$PROXY_URL   # composes on the event's shard, stores on the global primary
  # printed without the password (it is in $STATE_DIR/db_password)
  local pw
  pw=$(app_password)
  start_shim
  start_kafka_side
  local as_user
  as_user=$([ "$(id -u)" -eq 0 ] && echo "runuser -u $RUN_USER -- ")
  cat <<MSG

evently is running on $SHARDS shards (tests/scaleout/topology.sh; made anew at every make run).
  REST API    $HTTP_URL/api/v1  (try: curl $HTTP_URL/health; the shim listens on $LISTEN)
  proxy       ${PROXY_URL/:$pw@/@}  (the shim's DATABASE_URL: PL/Proxy, from $(cat "$TOPOLOGY_DIR/proxy"))
  global      ${GLOBAL_URL/:$pw@/@}  (users, tags, venues, organizers; synchronous to every shard)
  shards      $(echo "${SHARD_URLS//:$pw@/@}" | sed 's/ /\n              /g')
              (event i of the seed on shard ((i - 1) mod $SHARDS) + 1; one evently-bridge each, and one on the global primary)
  reporting   ${REPORT_URL/:$pw@/@}  (subscribes to the global primary and every shard)
  pgbouncer   127.0.0.1:$PGBOUNCER_PORT, transaction mode, databases evently_global, evently_s1..evently_s$SHARDS (PL/Proxy's way to them)
  passwords   the programs connect as evently_app (password in $STATE_DIR/db_password)
  superuser   ${as_user}psql "$GLOBAL_SU"  (likewise $PROXY_SU, $REPORT_SU,
              and each shard: $SHARD_SUS)
  Kafka       $KAFKA_BROKERS$([ -n "$LOCAL_BROKER" ] && echo " (local evently-broker)")
  e-mail      $MAIL_WHERE
  logs        $STATE_DIR: shim.log, bridge-s1.log.., bridge-global.log, notify.log, broker.log, smtp.log; each cluster's postgres.log under $TOPOLOGY_DIR
  logins      admin@gmail.com / qwerty (ADMIN), mitshah2406@gmail.com / qwerty (USER), organizer@example.com / qwerty
  stop        make stop
MSG
}

# make reset: make stop, then delete the state directory (the dev cluster,
# the generated JWT secret, the logs, test output), so that the next make run
# starts from the seed data alone.  It refuses a directory that does not look
# like one make run made, since EVENTLY_STATE_DIR may point anywhere.
reset() {
  local dir
  dir=$(realpath -m "$STATE_DIR")
  stop
  [ -d "$dir" ] || { echo "nothing to delete: $dir does not exist"; return 0; }
  case $dir in
    / | "$ROOT_DIR" | "$(realpath -m "${HOME:-/}")")
      echo "refusing to delete $dir" >&2
      return 1 ;;
  esac
  if [ -n "$(ls -A "$dir")" ] && ! [ -e "$dir/.evently-state" ]; then
    echo "refusing to delete $dir: make run or make test did not make it (no .evently-state in it)" >&2
    return 1
  fi
  rm -rf "$dir"
  echo "deleted $dir"
}

case $SHARDS in *[!0-9]* | '') echo "SHARDS must be a number (0: one database)" >&2; exit 2 ;; esac
case "${1:-start}" in
  start) if [ "$SHARDS" -gt 0 ]; then start_sharded; else start; fi ;;
  stop) stop ;;
  reset) reset ;;
  *) echo "usage: $0 start|stop|reset" >&2; exit 2 ;;
esac
