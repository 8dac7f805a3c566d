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
root=$(pwd)/examples/site
work=$(mktemp -d)
trap 'for p in $(cat "$work"/pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=18080
tick=$(getconf CLK_TCK)

# Sum of utime+stime (clock ticks) over a process and its descendants. /proc/PID/stat of a
# process already sums all its threads.
tree_ticks() {
  local total=0 p
  total=$(awk '{print $14 + $15}' /proc/$1/stat 2>/dev/null || echo 0)
  for p in $(pgrep -P "$1" 2>/dev/null); do
    total=$((total + $(tree_ticks "$p")))
  done
  echo $total
}

start_server() {  # name -> prints PID
  local spec=$1 name=${1%%:*}
  case "$name" in
    c10k)
      local engine=epoll flags=""
      IFS=: read -r _ engine flags <<< "$spec:"
      engine=${engine:-epoll}
      taskset -c 0 ./build/c10k serve --root "$root" --listen 127.0.0.1:$port --threads 1 \
        --engine "$engine" $flags > "$work/c10k.log" 2>&1 &
      echo $! ;;
    h2o)
      cat > "$work/h2o.conf" <<CONF
listen: {host: 127.0.0.1, port: $port}
num-threads: 1
hosts:
  default:
    paths:
      /: {file.dir: $root}
CONF
      taskset -c 0 h2o -c "$work/h2o.conf" > "$work/h2o.log" 2>&1 &
      echo $! ;;
    nginx)
      mkdir -p "$work/nginx"
      cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/nginx/error.log; pid $work/nginx/nginx.pid;
events { worker_connections 20000; }
http { access_log off; sendfile on; keepalive_requests 1000000;
  include /etc/nginx/mime.types;
  server { listen 127.0.0.1:$port; root $root; } }
CONF
      taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" > "$work/nginx.log" 2>&1 &
      echo $! ;;
    lighttpd)
      cat > "$work/lighttpd.conf" <<CONF
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $port
server.max-keep-alive-requests = 1000000
mimetype.assign = (".txt" => "text/plain", ".html" => "text/html")
CONF
      taskset -c 0 lighttpd -D -f "$work/lighttpd.conf" > "$work/lighttpd.log" 2>&1 &
      echo $! ;;
    *) echo "unknown server $name" >&2; exit 2 ;;
  esac
}

printf '%-28s %5s %12s %10s %12s\n' server round requests req/s cpu_us/req
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start_server "$spec")
    echo "$pid" >> "$work/pids"
    for _ in $(seq 1 50); do
      curl -sf -o /dev/null "http://127.0.0.1:$port$path" && break
      sleep 0.1
    done
    taskset -c 1 wrk -t1 -c"$connections" -d1s $extra_wrk "http://127.0.0.1:$port$path" > /dev/null  # warm-up
    before=$(tree_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" $extra_wrk "http://127.0.0.1:$port$path")
    after=$(tree_ticks "$pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    cpu=$(awk -v t=$((after - before)) -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.2f", t / hz * 1e6 / r}')
    printf '%-28s %5s %12s %10s %12s\n' "$spec" "$round" "$requests" "$rps" "$cpu"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    sleep 0.3
  done
done
