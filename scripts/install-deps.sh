#!/usr/bin/env bash
# Installs the Debian 12 packages c10k needs, skipping those already present.
#   scripts/install-deps.sh          what `make run` needs: build c10k and serve
#   scripts/install-deps.sh --test   that, plus what `make test` needs (sanitizers, fuzzing,
#                                    the anchor servers, headless Chromium for the demo test)
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
}

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; usage >&2; exit 2 ;;
  esac
done

run_packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries (see docs/ARCHITECTURE.md for why each)
  node-llhttp liburing-dev libcli11-dev libfmt-dev
  # under systemd: Type=notify readiness, the watchdog, socket activation (sd_notify)
  libsystemd-dev
  # the man page, c10k.1, generated from the commands' --help when building (and `make deb`)
  help2man
  # WebSocket: permessage-deflate (zlib) and the handshake's SHA-1 and base64 (nettle)
  zlib1g-dev nettle-dev
  # live push: WebSocket subscribers' JSON commands
  nlohmann-json3-dev
  # Redis backplane: hiredis's command formatter and reply reader
  libhiredis-dev
  # `c10k serve --config FILE`: the TOML parser (toml++)
  libtomlplusplus-dev
  # `c10k proxy` routes: path regular expressions (PCRE2, as nginx and HAProxy)
  libpcre2-dev
  # CMake's configure step looks for GoogleTest while tests are enabled (the default), so even
  # a build for running needs the headers.
  libgtest-dev libgmock-dev
)

test_packages=(
  # micro-benchmarks
  libbenchmark-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # anchors measured beside c10k (compare draws its own SVG charts)
  nginx h2o lighttpd wrk nghttp2-client
  # compare's overload experiment burns CPU per request inside nginx with its embedded Perl
  libnginx-mod-http-perl
  # bench/redis_fanout.sh's chart of Redis CPU per message (the script skips it without gnuplot)
  gnuplot-nox
  # the live scoreboard demo's test in a real browser (headless), with a font to render text
  chromium fonts-dejavu-core
  # WebSocket clients the project did not write, for interoperability tests
  python3-websockets node-ws
  # a real Redis for the backplane's tests
  redis-server
  # a real FastCGI application (the FastCGI tests start php-fpm on a unix socket), and the same
  # PHP run per request as CGI (bench/fastcgi.sh: fork+exec against a pooled application)
  php-fpm php-cgi
  # the proxy's anchor (bench/proxy.sh measures c10k proxy beside it)
  haproxy
  # the packaging test: systemd-analyze verifies the unit file
  systemd
)

packages=("${run_packages[@]}")
if [ $with_test -eq 1 ]; then
  packages+=("${test_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "c10k needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged servers (nginx, h2o, lighttpd) must not be started as services by the install:
# c10k starts them itself, on loopback, with its own configs.
# The policy goes away even when apt-get fails.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
