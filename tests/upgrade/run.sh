#!/usr/bin/env bash
# The upgrade test (SPEC section 14): install 1.0 from its frozen script,
# fill it through the SQL API, ALTER EXTENSION evently UPDATE, check that the
# data is intact and the API answers, and that the upgraded schema is the
# schema of a fresh install of the current version.
set -euo pipefail
source "$(dirname "$0")/../cluster.sh"
HERE=$ROOT_DIR/tests/upgrade
OUT=$STATE_DIR/test/upgrade
make_user_dir "$STATE_DIR/test"
make_user_dir "$OUT"

db() {
  local name=$1
  shift
  as_pg_user env PGOPTIONS='-c client_min_messages=warning' \
    psql -X -q -v ON_ERROR_STOP=1 -h "$CLUSTER_DIR" -U postgres -d "$name" "$@"
}

# pg_dump --binary-upgrade is the one mode that dumps an extension's member
# objects (otherwise it prints CREATE EXTENSION and nothing of what is in
# it).  What it pins of the storage differs between any two databases and is
# not schema: oids, xids, multixacts and LSNs, the sequences' positions, and
# the value a column added with a default has in rows stored before it
# (PostgreSQL keeps it in the catalog instead of rewriting the table).
schema_of() {
  as_pg_user pg_dump --schema-only --binary-upgrade -h "$CLUSTER_DIR" -U postgres "$1" 2>"$OUT/dump-$1.log" |
    grep -v -e '^\\restrict' -e '^\\unrestrict' -e 'binary_upgrade_set_next_' -e '^SELECT pg_catalog.setval(' \
      -e 'binary_upgrade_set_missing_value' -e '^-- set missing value' -e '^$' |
    sed -E -e "s/relfrozenxid = '[0-9]+'/relfrozenxid = <xid>/" -e "s/relminmxid = '[0-9]+'/relminmxid = <mxid>/" \
      -e "s/oid = '[0-9]+'/oid = <oid>/" -e "s/(binary_upgrade_create_empty_extension\\(.*, )'\\{[0-9,]*\\}'/\\1'{<oids>}'/"
}

# fail, showing the start of the difference, unless two files are the same
same_or_fail() {
  if ! diff -u "$1" "$2" >"$2.diff"; then
    echo "not ok: $3 ($2.diff):"
    head -60 "$2.diff"
    exit 1
  fi
}

cluster_start "$OUT/cluster"
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT_DIR/evently.control")
cluster_psql -d postgres -c "CREATE DATABASE fresh" -c "CREATE DATABASE upgraded"
db fresh -c "CREATE EXTENSION evently CASCADE"

db upgraded -c "CREATE EXTENSION evently VERSION '1.0' CASCADE"
db upgraded -f "$HERE/fill.sql" >/dev/null
db upgraded -c "ALTER EXTENSION evently UPDATE"
version=$(db upgraded -tAc "SELECT extversion FROM pg_extension WHERE extname = 'evently'")
if [ "$version" != "$current" ]; then
  echo "not ok: ALTER EXTENSION evently UPDATE reached $version, not $current"
  exit 1
fi
echo "ok: 1.0 updated to $version"
db upgraded -f "$HERE/intact.sql"
echo "ok: every 1.0 row intact"
db upgraded -f "$HERE/check.sql"
echo "ok: the API answers on the upgraded data"

db upgraded -c "DROP SCHEMA upgrade_test, upgrade_snapshot CASCADE"
schema_of fresh >"$OUT/fresh.sql"
schema_of upgraded >"$OUT/upgraded.sql"
same_or_fail "$OUT/fresh.sql" "$OUT/upgraded.sql" "the upgraded schema differs from a fresh $current install"
echo "ok: the upgraded schema equals a fresh install ($(grep -c . "$OUT/fresh.sql") lines of pg_dump)"

# A backup is a plain pg_dump; restoring it in one transaction into an empty
# database gives back every row of every table (the extension marks its
# tables as configuration, or the dump would hold none of them), and the
# sequences where they were.
contents_of() {
  db "$1" -tA <<'SQL'
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM evently.%I t',
              relname, relname)
  FROM pg_class WHERE relnamespace = 'evently'::regnamespace AND relkind = 'r' ORDER BY relname
\gexec
SELECT format('SELECT %L, last_value FROM evently.%I', relname, relname)
  FROM pg_class WHERE relnamespace = 'evently'::regnamespace AND relkind = 'S' ORDER BY relname
\gexec
SQL
}
# Both ways README gives: a plain dump through psql -1, a custom-format one
# through pg_restore --single-transaction.
cluster_psql -d postgres -c "CREATE DATABASE restored" -c "CREATE DATABASE restored_custom"
as_pg_user pg_dump -h "$CLUSTER_DIR" -U postgres -f "$OUT/backup.sql" upgraded 2>"$OUT/backup.log"
db restored -1 -f "$OUT/backup.sql" >"$OUT/restore.log"
as_pg_user pg_dump -Fc -h "$CLUSTER_DIR" -U postgres -f "$OUT/backup.dump" upgraded 2>>"$OUT/backup.log"
as_pg_user pg_restore --single-transaction -h "$CLUSTER_DIR" -U postgres -d restored_custom "$OUT/backup.dump"
contents_of upgraded >"$OUT/upgraded.rows"
contents_of restored >"$OUT/restored.rows"
contents_of restored_custom >"$OUT/restored_custom.rows"
same_or_fail "$OUT/upgraded.rows" "$OUT/restored.rows" "a restored backup differs from its database"
same_or_fail "$OUT/upgraded.rows" "$OUT/restored_custom.rows" "a backup restored by pg_restore differs from its database"
echo "ok: a backup restores every row, by psql and by pg_restore ($(awk -F'|' '{ n += $2 } END { print n }' "$OUT/upgraded.rows") rows)"
