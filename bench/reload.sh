#!/usr/bin/env bash
# What a reload costs the clients: `c10k bench` at a steady rate (open loop, keep-alive) against
# a server that is sent SIGHUP every few seconds, beside the same run without reloads, for c10k
# and the anchors. nginx reloads on SIGHUP too (new workers, the old ones finish and close their
# idle keep-alive connections); c10k hands its sockets to a new process (docs/OPERATIONS.md).
# The server is pinned to CPU 0 and the load to CPU 1, as docs/BENCHMARKS.md describes.
#
# usage: bench/reload.sh [--rate R] [--connections C] [--duration S] [--every S] [--out DIR]
#                        [SERVER...]
# SERVER is one of: c10k[:ENGINE[:EXTRA-FLAGS]] nginx (default: c10k nginx)
# Writes DIR/SERVER-{steady,reload}.json (the bench reports) and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=2000 connections=50 duration=20 every=2 out=docs/results/reload
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k nginx
source bench/servers.sh
mkdir -p "$out"

# The process to send SIGHUP to now: nginx keeps its master; each c10k reload makes a new main
# process, which says so on its log ("c10k: pid N took over from pid M").
current_pid() {  # name first-pid
  if [ "$1" = c10k ]; then
    local last
    last=$(grep -o 'pid [0-9]* took over' "$work/c10k.log" | tail -1 | awk '{print $2}')
    echo "${last:-$2}"
  else
    echo "$2"
  fi
}

field() {  # json-file python-expression-on-d
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

printf '%-10s %-7s %8s %7s %9s %9s %9s %9s %8s\n' server mode requests errors p50_us p99_us \
  p999_us max_us reloads
for spec in "$@"; do
  name=${spec%%:*}
  for mode in steady reload; do
    first=$(start_server "$spec")
    echo "$first" >> "$work/pids"
    wait_ready
    json="$out/$name-$mode.json"
    taskset -c 1 ./build/c10k bench -r "$rate" -c "$connections" -d "${duration}s" --warmup 2s \
      --json "$json" -q "http://127.0.0.1:$port/bench/128.txt" > "$work/bench.out" 2>&1 &
    bench=$!
    reloads=0
    if [ "$mode" = reload ]; then
      sleep 2  # the warm-up
      end=$((SECONDS + duration - 1))
      while [ $SECONDS -lt $end ]; do
        sleep "$every"
        kill -HUP "$(current_pid "$name" "$first")" 2>/dev/null || true
        reloads=$((reloads + 1))
      done
    fi
    wait "$bench" || { cat "$work/bench.out"; exit 1; }
    last=$(current_pid "$name" "$first")
    echo "$last" >> "$work/pids"
    stop_server "$last"
    [ "$last" = "$first" ] || stop_server "$first"
    printf '%-10s %-7s %8s %7s %9s %9s %9s %9s %8s\n' "$name" "$mode" \
      "$(field "$json" 'd["requests"]')" "$(field "$json" 'd["errors"]["total"]')" \
      "$(field "$json" 'd["latency_us"]["corrected"]["p50"]')" \
      "$(field "$json" 'd["latency_us"]["corrected"]["p99"]')" \
      "$(field "$json" 'd["latency_us"]["corrected"]["p999"]')" \
      "$(field "$json" 'd["latency_us"]["corrected"]["max"]')" "$reloads"
    if [ "$(field "$json" 'd["errors"]["total"]')" != 0 ]; then
      echo "  errors: $(field "$json" 'd["errors"]["by_kind"]')"
    fi
  done
done
