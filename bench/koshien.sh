#!/usr/bin/env bash
# The Koshien workload (see docs/BENCHMARKS.md): 10,000 keep-alive connections, each sending one
# request every 5 s (2,000 requests/s in all), as the live-scoreboard readers of the seeds did.
# For each server: CPU share of one core and CPU per request over the measured window, RSS growth
# per connection, and the load generator's request counts and errors.
#
# usage: bench/koshien.sh [--connections N] [--rps-per-conn R] [--duration S] [--rounds N]
#                         [--client h2load|c10k] SERVER...
# SERVER: c10k[:ENGINE[:EXTRA-FLAGS]] h2o nginx lighttpd   (same as bench/cpu_per_request.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

connections=10000 rps=0.2 duration=40 rounds=1 client=h2load
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) connections=$2; shift 2 ;;
    --rps-per-conn) rps=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k h2o
source bench/servers.sh
tick=$(getconf CLK_TCK)

rss_kb() {  # RSS of a process tree, KB
  local total=0 p
  total=$(awk '/^VmRSS/ {print $2}' /proc/$1/status 2>/dev/null || echo 0)
  for p in $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(rss_kb "$p"))); done
  echo "$total"
}

printf '%-28s %8s %9s %10s %8s %11s %9s %9s\n' server conns requests failed cpu% cpu_us/req rss0_MB B/conn
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start_server "$spec")
    echo "$pid" >> "$work/pids"
    wait_ready
    rss0=$(rss_kb "$pid")
    case "$client" in
      h2load)
        taskset -c 1 h2load --h1 -c "$connections" --rps "$rps" -D "$duration" \
          "http://127.0.0.1:$port/bench/128.txt" > "$work/client.out" 2>&1 & ;;
      c10k)
        rate=$(awk -v c="$connections" -v r="$rps" 'BEGIN {print c * r}')
        taskset -c 1 ./build/c10k bench --connections "$connections" --rate "$rate" \
          --duration "${duration}s" "http://127.0.0.1:$port/bench/128.txt" > "$work/client.out" 2>&1 & ;;
    esac
    cpid=$!
    # Measure the middle of the run: connections are all open, and not yet closing.
    sleep $((duration / 4))
    t0=$(tree_ticks "$pid"); s0=$(date +%s.%N)
    sleep $((duration / 2))
    t1=$(tree_ticks "$pid"); s1=$(date +%s.%N)
    rss1=$(rss_kb "$pid")
    open=$(ss -Htn state established "( sport = :$port )" | wc -l)
    wait "$cpid" || true
    requests=$(awk '/^requests:/ {print $2}' "$work/client.out")
    failed=$(awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /failed/) print $i}' "$work/client.out" | head -1)
    [ -n "$requests" ] || requests=$(grep -oE '^ *[0-9]+ requests' "$work/client.out" | awk '{print $1}' | head -1)
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$tick" -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", 100 * t / hz / (b - a)}')
    per_req=$(awk -v t=$((t1 - t0)) -v hz="$tick" -v a="$s0" -v b="$s1" -v c="$connections" -v r="$rps" \
      'BEGIN {printf "%.2f", t / hz * 1e6 / ((b - a) * c * r)}')
    per_conn=$(awk -v a="$rss0" -v b="$rss1" -v n="$open" 'BEGIN {if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-"}')
    printf '%-28s %8s %9s %10s %8s %11s %9s %9s\n' "$spec" "$open" "${requests:-?}" "${failed:-?}" "$cpu" "$per_req" \
      "$(awk -v a="$rss0" 'BEGIN {printf "%.1f", a / 1024}')" "$per_conn"
    cp "$work/client.out" "/tmp/koshien-$(echo "$spec" | tr ':/ ' '___')-$round.out" 2>/dev/null || true
    stop_server "$pid"
    sleep 1
  done
done
