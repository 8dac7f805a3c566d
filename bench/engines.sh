#!/usr/bin/env bash
# CPU per request of every c10k engine side by side (and of a bare epoll loop, the floor), by
# the method of docs/BENCHMARKS.md: server pinned to CPU 0, wrk to CPU 1, utime+stime of the
# server's whole process tree over the measured interval divided by the requests wrk
# completed; servers measured in turn, A B C ... A B C, so that a noisy neighbour hits all.
#
# usage: bench/engines.sh [--binary PATH] [--rounds N] [--duration S] [--connections C]
#                         [--pipeline] [SERVER...]
# SERVER: bare, or ENGINE[@BINARY][:EXTRA-FLAGS] (e.g. prefork:--processes=64; uring@old/c10k
# runs an older build beside this one, for an A/B in one run). Default: all engines.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=./build/c10k rounds=3 duration=5 connections=50 extra_wrk="" path=/bench/128.txt
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --pipeline) extra_wrk="-s bench/pipeline16.lua"; shift ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- bare epoll epoll-lt poll select sigio uring thread fork \
  prefork:--processes=64
# shellcheck source=bench/servers.sh
source bench/servers.sh  # $root, $work (removed at exit), tree_ticks
g++ -O2 -std=c++20 -o "$work/bare_epoll" bench/bare_epoll.cpp
port=18090
tick=$(getconf CLK_TCK)

start() {  # spec -> PID
  local spec=$1 engine=${1%%:*} flags="" bin=$binary
  [ "$spec" = "${spec#*:}" ] || flags=${spec#*:}
  case "$engine" in *@*) bin=${engine#*@}; engine=${engine%%@*} ;; esac
  if [ "$engine" = bare ]; then
    taskset -c 0 "$work/bare_epoll" $port > "$work/bare.log" 2>&1 &
  else
    taskset -c 0 "$bin" serve --root "$root" --listen 127.0.0.1:$port --threads 1 \
      --engine "$engine" ${flags//=/ } > "$work/$engine.log" 2>&1 &
  fi
  echo $!
}

printf '%-24s %5s %10s %10s %11s\n' server round requests req/s cpu_us/req
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start "$spec"); echo "$pid" >> "$work/pids"
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$port$path" && break; sleep 0.1; done
    taskset -c 1 wrk -t1 -c"$connections" -d1s $extra_wrk "http://127.0.0.1:$port$path" > /dev/null
    before=$(tree_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" $extra_wrk "http://127.0.0.1:$port$path")
    after=$(tree_ticks "$pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
    cpu=$(awk -v t=$((after - before)) -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')
    printf '%-24s %5s %10s %10s %11s %s\n' "$spec" "$round" "$requests" "$rps" "$cpu" "$errors"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    sleep 0.3
  done
done
