#!/usr/bin/env bash
# A backend killed mid-run (docs/BENCHMARKS.md, "Proxy"): c10k proxy and HAProxy in turn in front
# of two `c10k serve` backends, an open-loop load of GETs (c10k bench, evenly paced) through the
# proxy; at a third of the run one backend gets SIGKILL, and at two thirds it is started again.
# Reported: requests that failed (errors by kind) and the latency tail, which shows how long the
# pool took to route around the dead server; and, for the proxies with active health checks
# (c10k-checks and HAProxy, both checking every second, fall 2, rise 2), when the proxy marked
# the server down after the kill and up again after the restart, read from the proxy itself
# every 20 ms (c10k: /metrics c10k_proxy_server_up; HAProxy: "show stat" on its stats socket).
# Loopback only; everything started here is stopped here, by PID.
#
# usage: bench/proxy_failover.sh [--rate R] [--duration S] [PROXY...]
#   PROXY: c10k (passive ejection only), c10k-checks (plus active checks), haproxy
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
[ $# -gt 0 ] || set -- c10k c10k-checks haproxy
for tool in haproxy python3; do
  command -v "$tool" > /dev/null || { echo "bench/proxy_failover.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -x build/c10k ] || { echo "bench/proxy_failover.sh: build c10k first (make build)" >&2; exit 2; }

root=$(pwd)/examples/site
work=$(mktemp -d)
trap 'for p in $(cat "$work"/pids 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=18080 b1=18091 b2=18092 admin=18093

start_backend() {  # port
  taskset -c 1 ./build/c10k serve --root "$root" --listen 127.0.0.1:$1 --threads 1 >> "$work/backend-$1.log" 2>&1 &
  echo $! >> "$work/pids"
  echo $! > "$work/backend-$1.pid"
  disown $!  # killed on purpose: no "Killed" notice from the shell
}

start_backends() {
  start_backend $b1
  start_backend $b2
  sleep 0.5
}

start_proxy() {
  case "$1" in
    c10k)
      taskset -c 0 ./build/c10k proxy --listen 127.0.0.1:$port --threads 1 \
        --backend 127.0.0.1:$b1 --backend 127.0.0.1:$b2 > "$work/c10k.log" 2>&1 & ;;
    c10k-checks)
      # The same checks as HAProxy's below; the state is read from the admin listener.
      taskset -c 0 ./build/c10k proxy --listen 127.0.0.1:$port --threads 1 \
        --backend 127.0.0.1:$b1 --backend 127.0.0.1:$b2 --admin-listen 127.0.0.1:$admin \
        --health-check http:/bench/128.txt --health-interval 1s --health-fall 2 \
        --health-rise 2 > "$work/c10k-checks.log" 2>&1 & ;;
    haproxy)
      # Its usual failover setup: health checks every second, and a retry on another server
      # (redispatch) for a request whose connect failed.
      cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  stats socket $work/haproxy.sock level admin
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

# Kills backend 1 at `kill_at` s, starts it again at `restart_at` s, and meanwhile reads the
# proxy's view of it every 20 ms; prints when it went down (after the kill) and came back up
# (after the restart), or "-" for a proxy without active checks.
watch_server() {  # spec kill_at restart_at
  local spec=$1 kill_at=$2 restart_at=$3
  python3 - "$spec" "$kill_at" "$restart_at" "$work" "$admin" "$b1" "$root" <<'PY' &
import os, signal, socket, subprocess, sys, time, urllib.request
spec, kill_at, restart_at, work, admin, b1, root = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
server = f"127.0.0.1:{b1}"

def state():  # True: up, False: down, None: unknown
    try:
        if spec == "c10k-checks":
            text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=1).read().decode()
            for line in text.splitlines():
                if line.startswith("c10k_proxy_server_up{") and f'server="{server}"' in line:
                    return line.split()[-1] == "1"
        elif spec == "haproxy":
            s = socket.socket(socket.AF_UNIX)
            s.connect(f"{work}/haproxy.sock")
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            s.close()
            lines = data.decode().splitlines()
            header = lines[0].lstrip("# ").split(",")
            at = header.index("status")
            for line in lines[1:]:
                fields = line.split(",")
                if len(fields) > at and fields[0] == "b" and fields[1] == "s1":
                    return fields[at].startswith("UP")
    except Exception:
        return None
    return None

start = time.monotonic()
killed = restarted = down_at = up_at = None
while time.monotonic() - start < restart_at + 8:
    now = time.monotonic() - start
    if killed is None and now >= kill_at:
        os.kill(int(open(f"{work}/backend-{b1}.pid").read()), signal.SIGKILL)
        killed = now
    if restarted is None and now >= restart_at:
        # As start_backend does; the shell's exit trap stops it by the PID written here.
        log = open(f"{work}/backend-{b1}.log", "a")
        backend = subprocess.Popen(["taskset", "-c", "1", "./build/c10k", "serve", "--root", root,
                                    "--listen", server, "--threads", "1"], stdout=log, stderr=log)
        open(f"{work}/pids", "a").write(f"{backend.pid}\n")
        open(f"{work}/backend-{b1}.pid", "w").write(f"{backend.pid}\n")
        restarted = now
    up = state()
    if killed is not None and down_at is None and up is False:
        down_at = now - killed
    if restarted is not None and down_at is not None and up_at is None and up is True:
        up_at = now - restarted
    if spec not in ("c10k-checks", "haproxy") and restarted is not None:
        break
    if up_at is not None:
        break
    time.sleep(0.02)
fmt = lambda t: "-" if t is None else f"{t * 1000:.0f}"
open(f"{work}/{spec}.watch", "w").write(f"{fmt(down_at)} {fmt(up_at)}\n")
PY
  watcher=$!
  echo $watcher >> "$work/pids"
}

printf '%-12s %10s %8s %10s %10s %10s %10s %10s  %s\n' proxy requests failed p50_ms p99_ms max_ms down_ms up_ms errors
for spec in "$@"; do
  start_backends
  pid=$(start_proxy "$spec")
  sleep 0.5
  kill_at=$(awk -v d="$duration" 'BEGIN {printf "%.1f", d / 3}')
  restart_at=$(awk -v d="$duration" 'BEGIN {printf "%.1f", 2 * d / 3}')
  watch_server "$spec" "$kill_at" "$restart_at"
  taskset -c 1 ./build/c10k bench -q -c 50 --rate "$rate" -d "${duration}s" --timeout 5s \
    --json "$work/$spec.json" "http://127.0.0.1:$port/bench/128.txt" > "$work/$spec.bench" 2>&1 || true
  wait "$watcher" 2>/dev/null || true
  python3 - "$work/$spec.json" "$spec" "$work/$spec.watch" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
down_ms, up_ms = open(sys.argv[3]).read().split()
lat = r["latency_us"]["corrected"]
errors = r["errors"]
non_2xx = sum(n for code, n in r["status"].items() if not code.startswith("2"))
kinds = {k: v for k, v in errors["by_kind"].items() if v}
print(f"{sys.argv[2]:<12} {r['requests']:>10} {errors['total'] + non_2xx:>8} "
      f"{lat['p50'] / 1000:>10.2f} {lat['p99'] / 1000:>10.2f} {lat['max'] / 1000:>10.2f} "
      f"{down_ms:>10} {up_ms:>10}  status={r['status']} errors={kinds}")
PY
  kill "$pid" 2>/dev/null || true
  kill -9 "$(cat "$work/backend-$b1.pid")" "$(cat "$work/backend-$b2.pid")" 2>/dev/null || true
  sleep 0.5
done
