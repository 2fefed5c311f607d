#!/usr/bin/env bash
# The scale-out topology (tests/scaleout/topology.sh), tested as TAP:
# it starts in well under 30 s; a user created on the global primary is on
# every shard when the commit returns (and acts there at once, through the
# proxy); the proxy routes an id to the shard of its bucket through
# pgbouncer, which pools in transaction mode; the reporting database gets
# the global and the shards' rows; stop leaves nothing running.
#   tests/scaleout/topology-test.sh [SHARDS]     (default 2)
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

SHARDS=${1:-2}
DIR=${TESTDIR:-$STATE_DIR/test/scaleout}/topology
TOPOLOGY=$ROOT_DIR/tests/scaleout/topology.sh

n=0
failed=0
ok() { # ok COND-STATUS NAME [DIAG]
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then
    echo "ok $n - $2"
  else
    failed=$((failed + 1))
    echo "not ok $n - $2"
    [ -z "${3:-}" ] || echo "$3" | sed 's/^/# /'
  fi
}
is() { # is GOT EXPECTED NAME
  [ "$1" = "$2" ]
  ok $? "$3" "got:      $1
expected: $2"
}
q() { # q CONNINFO SQL: one value, errors on stdout too
  as_pg_user psql -X -qtA -v ON_ERROR_STOP=1 "$1" -c "$2" 2>&1
}

make_user_dir "$(dirname "$DIR")"
trap 'bash "$TOPOLOGY" stop "$DIR" >/dev/null 2>&1' EXIT

# --- start ---------------------------------------------------------------
t0=$EPOCHREALTIME
TOPOLOGY_FAST=1 bash "$TOPOLOGY" start "$DIR" "$SHARDS" >/dev/null 2>"$DIR.start.log"
ok $? "topology.sh start DIR $SHARDS" "$(tail -n 5 "$DIR.start.log")"
secs=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $t0 }")
echo "# started in $secs s; the proxy: $(cat "$DIR/proxy" 2>/dev/null)"
awk "BEGIN { exit !($secs < 30) }"
ok $? "it starts in well under 30 s ($secs s)"
if [ ! -f "$DIR/topology.env" ]; then
  echo "Bail out! no $DIR/topology.env"
  exit 1
fi
source "$DIR/topology.env"
IFS=';' read -r -a SHARD_SU <<<"$SHARD_SUS"
read -r -a SHARD_URL <<<"$SHARD_URLS"
is "${#SHARD_SU[@]} ${#SHARD_URL[@]}" "$SHARDS $SHARDS" "topology.env names every shard"
for var in PROXY_URL GLOBAL_URL REPORT_URL PGBOUNCER_PORT; do
  [ -n "${!var:-}" ]
  ok $? "topology.env sets $var"
done
is "$(q "$PROXY_URL" "SELECT current_user || '@' || current_database()")" "evently_app@evently" \
  "the shim's login (evently_app, password) reaches the proxy"
is "$(q "${SHARD_URL[0]}" "SELECT current_user || '@' || current_database()")" "evently_app@evently" \
  "and a shard, as a bridge does"

# --- global data: synchronous to every shard -----------------------------
names=$(for k in $(seq 1 "$SHARDS"); do printf 'shard%s,' "$k"; done)
is "$(q "$GLOBAL_SU" "SELECT current_setting('synchronous_commit') || ' ' || current_setting('synchronous_standby_names')")" \
  "remote_apply ANY $SHARDS (${names%,})" "G: remote_apply, ANY n of the shards' subscriptions"
is "$(q "$GLOBAL_SU" "SELECT string_agg(application_name || ':' || sync_state, ' ' ORDER BY application_name)
                        FROM pg_stat_replication WHERE application_name LIKE 'shard%'")" \
  "$(for k in $(seq 1 "$SHARDS"); do printf 'shard%s:quorum ' "$k"; done | sed 's/ $//')" \
  "every shard's subscription is a synchronous (quorum) standby of G"
is "$(q "$GLOBAL_SU" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'report_global'")" \
  "async" "the reporting database's subscription to G is asynchronous"
for k in $(seq 1 "$SHARDS"); do
  is "$(q "${SHARD_SU[$((k - 1))]}" "SELECT count(*) FILTER (WHERE srsubstate <> 'r') || '/' || count(*) FROM pg_subscription_rel")" \
    "0/8" "shard $k: every global table's subscription (7 and the heartbeat) is ready (P7)"
done

# ten users, each looked for on every shard as soon as its commit returns
seen=0
for i in $(seq 1 10); do
  id=$(q "$GLOBAL_SU" "SELECT evently.create_user('sync$i@example.com', 'secret12', 'Sync', 'User$i')")
  for k in $(seq 1 "$SHARDS"); do
    [ "$(q "${SHARD_SU[$((k - 1))]}" "SELECT count(*) FROM evently.users WHERE id = '$id'")" = 1 ] && seen=$((seen + 1))
  done
done
is "$seen" "$((10 * SHARDS))" "a user created on G is on every shard when the commit returns (10 users)"

# --- the proxy routes by bucket, through pgbouncer ------------------------
# An event on each shard whose id carries the shard's bucket: made with the
# shard's own evently.new_id once the bucketed ids have landed, else with
# the bucket written into a random id here.
has_new_id=$(q "${SHARD_SU[0]}" "SELECT to_regprocedure('evently.new_id()') IS NOT NULL")
declare -a EVENT
[ "$has_new_id" = t ] || echo "# TODO(issue 15): no evently.new_id yet; the test writes the bucket into the ids"
for k in $(seq 1 "$SHARDS"); do
  su=${SHARD_SU[$((k - 1))]}
  if [ "$has_new_id" = t ]; then
    is "$(q "$su" "SELECT evently.bucket_of(evently.new_id())")" "$k" "shard $k: new ids carry bucket $k"
    idexpr="evently.new_id()"
  else
    idexpr="overlay(gen_random_uuid()::text placing lpad(to_hex($k), 4, '0') from 1 for 4)::uuid"
  fi
  EVENT[$k]=$(q "$su" "INSERT INTO evently.events (id, name, venue, date_time, end_time, base_price)
                       VALUES ($idexpr, 'Smoke $k', 'Hall $k', now() + interval '30 days',
                               now() + interval '30 days 2 hours', 10)
                       RETURNING id")
done
user=$(q "$GLOBAL_SU" "SELECT evently.create_user('actor@example.com', 'secret12', 'Act', 'Or')")
for k in $(seq 1 "$SHARDS"); do
  is "$(q "$PROXY_URL" "SELECT evently.api_event_get('$user', '{\"path\": {\"eventId\": \"${EVENT[$k]}\"}}')->>'name'")" \
    "Smoke $k" "the proxy finds shard $k's event by its id's bucket, for a user made on G just before"
  # an unknown id of bucket k: the refusal comes from shard k (PL/Proxy names it)
  missing=$(printf '%04x' "$k")0000-0000-4000-8000-000000000000
  out=$(q "$PROXY_URL" "SELECT evently.api_event_get(NULL, '{\"path\": {\"eventId\": \"$missing\"}}')")
  echo "$out" | grep -q "\[evently_s$k\] REMOTE ERROR: event not found"
  ok $? "an unknown id of bucket $k is refused by shard $k (through pgbouncer's evently_s$k)" "$out"
done
is "$(q "$PROXY_URL" "SELECT evently.expire_holds()")" "0" "the sweeper's expire_holds fans out to every shard"
is "$(q "$PROXY_URL" "SHOW client_min_messages")" "warning" \
  "the proxy's sessions hide PL/Proxy's notices (P2)"

# pgbouncer: transaction mode toward every shard (and G), and PL/Proxy's
# connections are its clients
parts=1
while [ "$parts" -lt "$SHARDS" ]; do parts=$((parts * 2)); done
expected=""
for i in $(seq 0 $((parts - 1))); do
  k=1
  for b in $(seq 1 "$SHARDS"); do [ $((b & (parts - 1))) -eq "$i" ] && { k=$b; break; }; done
  expected+="p$i=host=$DIR/pgbouncer port=$PGBOUNCER_PORT dbname=evently_s$k connect_timeout=2 "
done
is "$(q "$PROXY_SU" "SELECT string_agg(o, ' ' ORDER BY o) FROM pg_foreign_server s, unnest(s.srvoptions) o
                       WHERE s.srvname = 'evently' AND o ~ '^p[0-9]+='")" "${expected% }" \
  "the proxy's $parts partitions: p(b & ($parts-1)) -> the shard of bucket b, through pgbouncer"
pools=$(as_pg_user psql -X -qtA -F '|' "$PGBOUNCER_ADMIN" -c "SHOW DATABASES" 2>&1)
for db in evently_global $(for k in $(seq 1 "$SHARDS"); do echo "evently_s$k"; done); do
  # SHOW DATABASES: name|host|port|database|force_user|pool_size|min_pool_size|reserve_pool|pool_mode|...
  is "$(echo "$pools" | awk -F'|' -v db="$db" '$1 == db { print $9 }')" "transaction" \
    "pgbouncer pools $db in transaction mode"
done
clients=$(as_pg_user psql -X -qtA -F ' ' "$PGBOUNCER_ADMIN" -c "SHOW POOLS" |
  awk '$2 == "evently_app" && $1 ~ /^evently_s/ { print $1 }' | sort | xargs)
is "$clients" "$(for k in $(seq 1 "$SHARDS"); do printf 'evently_s%s ' "$k"; done | sed 's/ $//')" \
  "PL/Proxy reached every shard through pgbouncer"

# --- the reporting database ----------------------------------------------
want="$(( $(q "$GLOBAL_SU" "SELECT count(*) FROM evently.users") )) $SHARDS"
got=""
for _ in $(seq 1 100); do
  got=$(q "$REPORT_SU" "SELECT (SELECT count(*) FROM evently.users) || ' ' ||
                               (SELECT count(*) FROM evently.events WHERE name LIKE 'Smoke %')")
  [ "$got" = "$want" ] && break
  sleep 0.1
done
is "$got" "$want" "the reporting database has G's users and every shard's events"
is "$(q "$REPORT_SU" "SELECT count(*) FROM evently.outbox") $(q "$REPORT_SU" "SELECT count(*) FROM evently.audit_log")" \
  "0 0" "the shards' outbox and audit log are not published to it"

# --- make run's seed: the global half on G, the events over the shards -------
as_pg_user psql -X -q -v ON_ERROR_STOP=1 "$GLOBAL_SU" -c "SET seed.part = 'global'" \
  -f "$ROOT_DIR/extension/seed.sql" >/dev/null 2>&1
ok $? "the seed's global part loads on G"
for k in $(seq 1 "$SHARDS"); do
  out=$(as_pg_user psql -X -q -v ON_ERROR_STOP=1 "${SHARD_SU[$((k - 1))]}" -c "SET seed.part = 'events'" \
          -c "SET seed.shard = $k" -c "SET seed.shards = $SHARDS" -f "$ROOT_DIR/extension/seed.sql" 2>&1)
  ok $? "the seed's events load on shard $k" "$out"
done
total=0
for k in $(seq 1 "$SHARDS"); do
  got=$(q "${SHARD_SU[$((k - 1))]}" "SELECT count(*) FROM evently.events WHERE name NOT LIKE 'Smoke %'")
  total=$((total + got))
  is "$got" "$(seq 1 6 | awk -v k="$k" -v n="$SHARDS" '($1 - 1) % n + 1 == k' | wc -l)" \
    "shard $k has the seed's events i with (i - 1) mod $SHARDS + 1 = $k"
done
is "$total" 6 "the seed's 6 events, each on one shard"
is "$(q "$GLOBAL_SU" "SELECT count(*) FROM evently.events")" 0 "and none on G"
# the events' catalogs show the replicated tags and sections; the organizer's
# two events are the verified organizer's (organizers replicated)
is "$(for su in "${SHARD_SU[@]}"; do
        q "$su" "SELECT e.name || ': ' || (SELECT string_agg(t->>'name', ',' ORDER BY t->>'name') FROM jsonb_array_elements(e.catalog->'tags') t)
                 || ' / ' || jsonb_array_length(e.catalog->'venue_sections') || ' sections / '
                 || (SELECT count(*) FROM evently.event_seats s WHERE s.event_id = e.id) || ' seats'
                 || coalesce(' / ' || o.organization_name, '')
                   FROM evently.events e LEFT JOIN evently.organizers o ON o.id = e.organizer_id
                  WHERE e.name IN ('Classical Music Evening', 'Food & Wine Festival', 'Tech Conference 2024')"
      done | sort | xargs -d '\n')" \
  "Classical Music Evening: Arts,Music / 2 sections / 26 seats / Evently Live Food & Wine Festival: Food / 2 sections / 26 seats Tech Conference 2024: Business,Technology / 2 sections / 28 seats" \
  "the seeded events have their tags, sections, seats and organizer from G"
q "$GLOBAL_SU" "SELECT 1" >/dev/null
as_pg_user psql -X -q -v ON_ERROR_STOP=1 "$GLOBAL_SU" -c "SET seed.part = 'global'" -f "$ROOT_DIR/extension/seed.sql" 2>&1 |
  grep -q "already loaded"
ok $? "a second seed changes nothing"

# --- stop ------------------------------------------------------------------
data_root=$(cat "$DIR/data_root")
pgb_pid=$(cat "$DIR/pgbouncer/pgbouncer.pid")
pm_pids=$(for d in "$DIR"/*/data; do head -1 "$d/postmaster.pid"; done | xargs)
bash "$TOPOLOGY" stop "$DIR" >/dev/null 2>&1
ok $? "topology.sh stop DIR"
trap - EXIT
left=""
# a zombie is no process left running (this container's init reaps nobody)
alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}
for pid in $pgb_pid $pm_pids; do alive "$pid" && left+="$pid "; done
# PostgreSQL's and pgbouncer's processes working in, or started naming, the
# topology's directories
for d in /proc/[0-9]*; do
  case $(readlink "$d/exe" 2>/dev/null) in "$PG_BIN"/* | */pgbouncer) alive "${d#/proc/}" || continue ;; *) continue ;; esac
  case $(readlink "$d/cwd" 2>/dev/null)/ in "$DIR"/* | "$data_root"/*) left+="${d#/proc/} "; continue ;; esac
  tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -e "$DIR" -e "$data_root" && left+="${d#/proc/} "
done
[ -z "$left" ] || ps -o pid,ppid,etime,args -p "$(echo $left | tr " " ,)" | sed "s/^/# /"
is "$left" "" "stop leaves no process running (pgbouncer, $(echo "$pm_pids" | wc -w) postmasters and their children)"
listening=""
for port in $PGBOUNCER_PORT $(cat "$DIR"/*/port); do
  [ -n "$(ss -Htln "sport = :$port")" ] && listening+="$port "
done
is "$listening" "" "and no port listening"
[ ! -e "$data_root" ]
ok $? "and the data in RAM is gone"

echo "1..$n"
[ "$failed" -eq 0 ]
