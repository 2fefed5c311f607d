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
  as_pg_user pg_dump --schema-only --binary-upgrade -h "$CLUSTER_DIR" -U postgres "$1" |
    grep -v -e '^\\restrict' -e '^\\unrestrict' -e 'binary_upgrade_set_next_' -e '^SELECT pg_catalog.setval(' \
      -e 'binary_upgrade_set_missing_value' -e '^-- set missing value' -e '^$' |
    sed -E -e "s/relfrozenxid = '[0-9]+'/relfrozenxid = <xid>/" -e "s/relminmxid = '[0-9]+'/relminmxid = <mxid>/" \
      -e "s/oid = '[0-9]+'/oid = <oid>/"
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
if ! diff -u "$OUT/fresh.sql" "$OUT/upgraded.sql" >"$OUT/schema.diff"; then
  echo "not ok: the upgraded schema differs from a fresh $current install ($OUT/schema.diff):"
  head -60 "$OUT/schema.diff"
  exit 1
fi
echo "ok: the upgraded schema equals a fresh install ($(grep -c . "$OUT/fresh.sql") lines of pg_dump)"
