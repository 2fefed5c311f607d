# Shared by the project's scripts: where PostgreSQL is and who runs it.
# PostgreSQL refuses to run as root, so root hands the server to the
# unprivileged 'postgres' user that Debian's package creates.

# Debian's PostgreSQL 15, or the one PG_CONFIG names (README, Developing:
# a PostgreSQL of your own, so work trees do not overwrite each other's
# installed extension)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir 2>/dev/null)
[ -x "$PG_BIN/initdb" ] || PG_BIN=/usr/lib/postgresql/15/bin
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${EVENTLY_STATE_DIR:-$ROOT_DIR/.evently}

if [ "$(id -u)" -eq 0 ]; then
  RUN_USER=postgres
else
  RUN_USER=$(id -un)
fi

# run a command as the unprivileged user, keeping the environment it needs
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$RUN_USER" -- env PATH="$PG_BIN:$PATH" "$@"
  else
    env PATH="$PG_BIN:$PATH" "$@"
  fi
}

# the state directory (.evently/ or EVENTLY_STATE_DIR), marked as one so
# that make reset deletes no other
make_state_dir() {
  make_user_dir "$STATE_DIR"
  touch "$STATE_DIR/.evently-state"
}

# a directory the unprivileged user owns
make_user_dir() {
  mkdir -p "$1"
  [ "$(id -u)" -ne 0 ] || chown "$RUN_USER" "$1"
}

# let the unprivileged user read the work tree (make lists its directory)
# and traverse every directory above it
open_path_to() {
  local d=$1
  [ "$(id -u)" -eq 0 ] || return 0
  runuser -u "$RUN_USER" -- test -r "$d" -a -x "$d" || chmod o+rx "$d"
  d=$(dirname "$d")
  while [ "$d" != "/" ]; do
    runuser -u "$RUN_USER" -- test -x "$d" || chmod o+x "$d"
    d=$(dirname "$d")
  done
}
