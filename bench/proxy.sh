#!/usr/bin/env bash
# Proxy CPU per request, side by side (docs/BENCHMARKS.md, "Proxy"): c10k proxy, HAProxy and
# nginx in turn in front of the same nginx backend answering 128 bytes. The proxy is pinned to
# CPU 0; the backend and wrk (closed loop, 50 keep-alive connections) share CPU 1. Reported:
# the proxy's utime+stime per request, and the backend connections opened per request during
# the run (nginx stub_status accepts): a proxy that reconnects hides its cost in the backend.
#
# usage: bench/proxy.sh [--rounds N] [--duration S] [--connections C] [PROXY...]
# PROXY is one of: c10k[:EXTRA-FLAGS] haproxy nginx (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 duration=5 connections=50
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k haproxy nginx
for tool in wrk nginx haproxy taskset curl; do
  command -v "$tool" > /dev/null || { echo "bench/proxy.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -x build/c10k ] || { echo "bench/proxy.sh: build c10k first (make build)" >&2; exit 2; }

root=$(pwd)/examples/site
work=$(mktemp -d)
trap 'for p in $(cat "$work"/pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=18080 backend=18090 status=18091
tick=$(getconf CLK_TCK)

tree_ticks() {  # utime+stime of a process and its descendants, in clock ticks
  local total p
  total=$(awk '{print $14 + $15}' /proc/$1/stat 2>/dev/null || echo 0)
  for p in $(pgrep -P "$1" 2>/dev/null); do total=$((total + $(tree_ticks "$p"))); done
  echo "$total"
}

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

wait_ready() {
  for _ in $(seq 1 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/bench/128.txt" && return 0
    sleep 0.1
  done
  echo "bench/proxy.sh: nothing answers on port $1" >&2
  exit 1
}

stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  kill -9 "$1" 2>/dev/null || true
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
    stop_pid "$pid"
    sleep 0.3
  done
done
