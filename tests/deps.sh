#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing.
set -euo pipefail

packages=(
  build-essential
  postgresql-15 postgresql-contrib postgresql-server-dev-15 postgresql-client-15
  libipc-run-perl
  libmicrohttpd-dev libjansson-dev libjwt-dev libpq-dev curl
  librdkafka-dev      # the bridge, the notify consumer and the local broker
  libcurl4-openssl-dev libssl-dev   # the card provider's API (libcurl) and webhook signatures (HMAC)
  kcat                # tails the topics; the bridge tests read with it
  python3-flasgger    # only for its local copy of Swagger UI (served at /docs)
  wrk                 # make bench
  jq                  # the README's curl examples
  iproute2            # ss: the shim tests check which address the shim listens on
  libsodium-dev       # Ed25519 ticket codes (the extension; tests/checkin/verify-ticket checks them offline); the shim's read cache keys its hash (SipHash)
  libqrencode-dev libpng-dev   # the ticket QR (SVG and PNG) in the shim and in evently-notify's e-mail
  python3-aiosmtpd    # make run's local SMTP sink; the bridge tests' sink
  zbar-tools          # zbarimg: the tests decode the QR images
  librsvg2-bin        # rsvg-convert: the tests render the SVG QR to decode it
  postgresql-15-plproxy   # scale-out (issue 15): the proxy routes each call to its shard
  pgbouncer           # scale-out: pools PL/Proxy's connections to the shards (transaction mode)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
