#!/bin/sh
# Build an extension script from its parts, in the order given:
#   assemble.sh OUTPUT GUARD PART...
# GUARD is the psql command the script names if someone runs it with \i.
# The output is a build product (make writes it, git ignores it): edit the
# parts under extension/sql/ and extension/updates/, never the output.
set -eu
out=$1
guard=$2
shift 2
{
  printf '/* %s: built by make (extension/assemble.sh) from the parts marked below; do not edit */\n\n' "$(basename "$out")"
  printf '\\echo Use "%s" to load this file. \\quit\n' "$guard"
  for part in "$@"; do
    printf '\n-- ===== %s =====\n\n' "$part"
    cat "$part"
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
