#!/usr/bin/env bash
# Server CPU time per request, measured as docs/BENCHMARKS.md describes: the server pinned to
# CPU 0, wrk (closed loop, keep-alive) pinned to CPU 1, utime+stime of every process and thread of
# the server read from /proc over the measured interval, divided by the requests wrk completed.
#
# usage: bench/cpu_per_request.sh [--rounds N] [--duration S] [--connections C] [--path P]
#                                 [--extra-wrk "ARGS"] SERVER...
# SERVER is one of: c10k[:ENGINE[:EXTRA-FLAGS]] h2o nginx lighttpd
# Servers are measured in turn, A B C A B C ..., so that a noisy neighbour hits all alike.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 duration=5 connections=50 path=/bench/128.txt extra_wrk=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --path) path=$2; shift 2 ;;
    --extra-wrk) extra_wrk=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k h2o nginx
source bench/servers.sh
tick=$(getconf CLK_TCK)

printf '%-28s %5s %12s %10s %12s\n' server round requests req/s cpu_us/req
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start_server "$spec")
    echo "$pid" >> "$work/pids"
    wait_ready
    taskset -c 1 wrk -t1 -c"$connections" -d1s $extra_wrk "http://127.0.0.1:$port$path" > /dev/null  # warm-up
    before=$(tree_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" $extra_wrk "http://127.0.0.1:$port$path")
    after=$(tree_ticks "$pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    cpu=$(awk -v t=$((after - before)) -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')
    printf '%-28s %5s %12s %10s %12s\n' "$spec" "$round" "$requests" "$rps" "$cpu"
    stop_server "$pid"
    sleep 0.3
  done
done
