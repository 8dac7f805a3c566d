#!/usr/bin/env bash
# Installs the Debian 12 packages c10k builds and tests with, skipping those already present.
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries (see docs/ARCHITECTURE.md for why each)
  node-llhttp liburing-dev libcli11-dev libfmt-dev
  # tests and micro-benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # fuzzing and sanitizers
  clang libclang-rt-14-dev
  # anchors measured beside c10k, and charts
  nginx h2o lighttpd wrk nghttp2-client gnuplot-nox
)

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
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  created_policy=1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ $created_policy -eq 1 ]; then rm -f "$policy"; fi
