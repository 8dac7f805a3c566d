#!/usr/bin/env bash
# A backend killed mid-run (docs/BENCHMARKS.md, "Proxy"): c10k proxy and HAProxy in turn in front
# of two `c10k serve` backends, an open-loop load of GETs (c10k bench, evenly paced) through the
# proxy, and at a third of the run one backend gets SIGKILL. Reported: requests that failed
# (errors by kind) and the latency tail, which shows how long the pool took to route around the
# dead server. Loopback only; everything started here is stopped here, by PID.
#
# usage: bench/proxy_failover.sh [--rate R] [--duration S] [PROXY...]   (PROXY: c10k haproxy)
set -euo pipefail
cd "$(dirname "$0")/.."

rate=2000 duration=9
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k haproxy
for tool in haproxy python3; do
  command -v "$tool" > /dev/null || { echo "bench/proxy_failover.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -x build/c10k ] || { echo "bench/proxy_failover.sh: build c10k first (make build)" >&2; exit 2; }

root=$(pwd)/examples/site
work=$(mktemp -d)
trap 'for p in $(cat "$work"/pids 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=18080 b1=18091 b2=18092

start_backends() {
  for b in $b1 $b2; do
    taskset -c 1 ./build/c10k serve --root "$root" --listen 127.0.0.1:$b --threads 1 > "$work/backend-$b.log" 2>&1 &
    echo $! >> "$work/pids"
    echo $! > "$work/backend-$b.pid"
  done
  sleep 0.5
}

start_proxy() {
  case "$1" in
    c10k)
      taskset -c 0 ./build/c10k proxy --listen 127.0.0.1:$port --threads 1 \
        --backend 127.0.0.1:$b1 --backend 127.0.0.1:$b2 > "$work/c10k.log" 2>&1 & ;;
    haproxy)
      # Its usual failover setup: health checks every second, and a retry on another server
      # (redispatch) for a request whose connect failed.
      cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  http-reuse always
  retries 3
  option redispatch 1
frontend f
  bind 127.0.0.1:$port
  default_backend b
backend b
  balance roundrobin
  server s1 127.0.0.1:$b1 check inter 1s fall 2 rise 2
  server s2 127.0.0.1:$b2 check inter 1s fall 2 rise 2
CONF
      taskset -c 0 haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 & ;;
    *) echo "bench/proxy_failover.sh: unknown proxy $1" >&2; exit 2 ;;
  esac
  echo $! >> "$work/pids"
  echo $!
}

printf '%-10s %10s %8s %10s %10s %10s  %s\n' proxy requests failed p50_ms p99_ms max_ms errors
for spec in "$@"; do
  start_backends
  pid=$(start_proxy "$spec")
  sleep 0.5
  kill_at=$(awk -v d="$duration" 'BEGIN {printf "%.1f", d / 3}')
  ( sleep "$kill_at"; kill -9 "$(cat "$work/backend-$b1.pid")" ) &
  killer=$!
  taskset -c 1 ./build/c10k bench -q -c 50 --rate "$rate" -d "${duration}s" --timeout 5s \
    --json "$work/$spec.json" "http://127.0.0.1:$port/bench/128.txt" > "$work/$spec.bench" 2>&1 || true
  wait "$killer" 2>/dev/null || true
  python3 - "$work/$spec.json" "$spec" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_us"]["corrected"]
errors = r["errors"]
non_2xx = sum(n for code, n in r["status"].items() if not code.startswith("2"))
kinds = {k: v for k, v in errors["by_kind"].items() if v}
print(f"{sys.argv[2]:<10} {r['requests']:>10} {errors['total'] + non_2xx:>8} "
      f"{lat['p50'] / 1000:>10.2f} {lat['p99'] / 1000:>10.2f} {lat['max'] / 1000:>10.2f}  "
      f"status={r['status']} errors={kinds}")
PY
  kill "$pid" 2>/dev/null || true
  kill -9 "$(cat "$work/backend-$b2.pid")" 2>/dev/null || true
  sleep 0.5
done
