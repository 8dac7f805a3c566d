#!/usr/bin/env bash
# Proxy CPU per request, side by side (docs/BENCHMARKS.md, "Proxy"): c10k proxy, HAProxy and
# nginx in turn in front of the same nginx backend answering 128 bytes. The proxy is pinned to
# CPU 0; the backend and wrk (closed loop, 50 keep-alive connections) share CPU 1. Reported:
# the proxy's utime+stime per request, and the backend connections opened per request during
# the run (nginx stub_status accepts): a proxy that reconnects hides its cost in the backend.
#
# Then the latency each proxy adds, below the knee: an open loop (c10k bench, evenly paced,
# corrected for coordinated omission) at --rate requests/s over the same connections, first
# to the backend alone, then through each proxy; p50 and p99 minus the backend's own.
#
# usage: bench/proxy.sh [--rounds N] [--duration S] [--connections C] [--rate R] [PROXY...]
# PROXY is one of: c10k[:EXTRA-FLAGS] haproxy nginx (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 duration=5 connections=50 rate=5000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k haproxy nginx
for tool in wrk nginx haproxy taskset curl; do
  command -v "$tool" > /dev/null || { echo "bench/proxy.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -x build/c10k ] || { echo "bench/proxy.sh: build c10k first (make build)" >&2; exit 2; }

# shellcheck source=bench/servers.sh
source bench/servers.sh  # $root, $work (removed at exit), $port, tree_ticks, wait_ready, stop_server
backend=18090 status=18091
tick=$(getconf CLK_TCK)

backend_accepts() {
  curl -sf "http://127.0.0.1:$status/status" | awk 'NR == 3 {print $1}'
}

# The backend: nginx, one worker, on CPU 1 with the load generator.
mkdir -p "$work/backend"
cat > "$work/backend/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/backend/error.log; pid $work/backend/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 60s;
  server { listen 127.0.0.1:$backend; root $root; }
  server { listen 127.0.0.1:$status; location /status { stub_status; } } }
CONF
taskset -c 1 nginx -p "$work/backend" -c "$work/backend/nginx.conf" > "$work/backend.log" 2>&1 &
echo $! >> "$work/pids"

start_proxy() {  # spec -> prints PID
  local spec=$1 name=${1%%:*}
  case "$name" in
    c10k)
      local flags=${spec#c10k}; flags=${flags#:}
      taskset -c 0 ./build/c10k proxy --listen 127.0.0.1:$port --threads 1 \
        --backend 127.0.0.1:$backend $flags > "$work/c10k.log" 2>&1 &
      echo $! ;;
    haproxy)
      cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend f
  bind 127.0.0.1:$port
  default_backend b
backend b
  server s1 127.0.0.1:$backend
CONF
      taskset -c 0 haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
      echo $! ;;
    nginx)
      mkdir -p "$work/proxy"
      cat > "$work/proxy/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/proxy/error.log; pid $work/proxy/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream b { server 127.0.0.1:$backend; keepalive 64; }
  server { listen 127.0.0.1:$port;
    location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
      taskset -c 0 nginx -p "$work/proxy" -c "$work/proxy/nginx.conf" > "$work/proxy.log" 2>&1 &
      echo $! ;;
    *) echo "bench/proxy.sh: unknown proxy $name (c10k haproxy nginx)" >&2; exit 2 ;;
  esac
}

wait_ready "$backend"
printf '%-24s %5s %10s %10s %12s %16s\n' proxy round requests req/s cpu_us/req backend_conn/req
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start_proxy "$spec")
    echo "$pid" >> "$work/pids"
    wait_ready "$port"
    taskset -c 1 wrk -t1 -c"$connections" -d1s "http://127.0.0.1:$port/bench/128.txt" > /dev/null
    accepts_before=$(backend_accepts)
    before=$(tree_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/bench/128.txt")
    after=$(tree_ticks "$pid")
    accepts_after=$(backend_accepts)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
    cpu=$(awk -v t=$((after - before)) -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')
    conns=$(awk -v a=$((accepts_after - accepts_before)) -v r="$requests" 'BEGIN {printf "%.5f", a / r}')
    printf '%-24s %5s %10s %10s %12s %16s %s\n' "$spec" "$round" "$requests" "$rps" "$cpu" "$conns" "$errors"
    stop_server "$pid"
    sleep 0.3
  done
done

# Latency added, open loop. Each run's p50/p99 (corrected) from c10k bench's JSON report.
latency() {  # URL NAME -> "p50_us p99_us"
  taskset -c 1 ./build/c10k bench -q -c "$connections" --rate "$rate" -d "${duration}s" \
    --warmup 1s --json "$work/$2.json" "$1" > "$work/$2.bench" 2>&1 || true
  python3 - "$work/$2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_us"]["corrected"]
failed = r["errors"]["total"] + sum(n for c, n in r["status"].items() if not c.startswith("2"))
print(f"{lat['p50']:.0f} {lat['p99']:.0f} {failed}")
PY
}
echo
echo "latency added at $rate req/s over $connections connections (open loop, us)"
printf '%-24s %5s %8s %8s %10s %10s %7s\n' proxy round p50 p99 added_p50 added_p99 failed
for round in $(seq 1 "$rounds"); do
  read -r base50 base99 basefail < <(latency "http://127.0.0.1:$backend/bench/128.txt" backend)
  printf '%-24s %5s %8s %8s %10s %10s %7s\n' backend "$round" "$base50" "$base99" - - "$basefail"
  for spec in "$@"; do
    pid=$(start_proxy "$spec")
    echo "$pid" >> "$work/pids"
    wait_ready "$port"
    read -r p50 p99 failed < <(latency "http://127.0.0.1:$port/bench/128.txt" "proxy")
    printf '%-24s %5s %8s %8s %10s %10s %7s\n' "$spec" "$round" "$p50" "$p99" \
      $((p50 - base50)) $((p99 - base99)) "$failed"
    stop_server "$pid"
    sleep 0.3
  done
done
