#!/usr/bin/env bash
# CGI: what fork+exec per request costs (docs/BENCHMARKS.md, "CGI and FastCGI"). c10k serve
# --cgi and lighttpd's mod_cgi in turn run the same program per request: a small C program
# (built here) that prints a head and 128 bytes, so that the figure is the server's fork, exec
# and pipes rather than an interpreter's start-up. The server is pinned to CPU 0; wrk (closed
# loop, keep-alive) runs on CPU 1. Reported: requests/s, and CPU per request of the server
# itself and of the server with the programs it ran (reaped children's time is added to their
# parent's, /proc/PID/stat fields 16 and 17).
#
# usage: bench/cgi.sh [--rounds N] [--duration S] [--connections C] [SERVER...]
# SERVER is one of: c10k[:ENGINE[:EXTRA-FLAGS]] lighttpd (default: c10k lighttpd)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 duration=5 connections=8
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k lighttpd
for tool in wrk lighttpd taskset curl cc; do
  command -v "$tool" > /dev/null || { echo "bench/cgi.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -x build/c10k ] || { echo "bench/cgi.sh: build c10k first (make build)" >&2; exit 2; }

# shellcheck source=bench/servers.sh
source bench/servers.sh  # $root, $work (removed at exit), $port, tree_ticks, wait_ready, stop_server
tick=$(getconf CLK_TCK)
self_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

mkdir -p "$work/cgi-bin"
cat > "$work/hello.c" <<'C'
#include <stdio.h>
int main(void) {
    static const char body[] =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
    printf("Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
    return 0;
}
C
cc -O2 -o "$work/cgi-bin/hello" "$work/hello.c"
url="http://127.0.0.1:$port/cgi-bin/hello"

start() {  # spec -> prints PID
  local spec=$1 name=${1%%:*}
  case "$name" in
    c10k)
      local engine=epoll flags=""
      IFS=: read -r _ engine flags <<< "$spec:"
      engine=${engine:-epoll}
      flags=${flags%:}
      taskset -c 0 ./build/c10k serve --root "$root" --listen 127.0.0.1:$port --threads 1 \
        --engine "$engine" --cgi "/cgi-bin/=$work/cgi-bin" $flags > "$work/c10k.log" 2>&1 &
      echo $! ;;
    lighttpd)
      cat > "$work/lighttpd-cgi.conf" <<CONF
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $port
server.modules += ("mod_alias", "mod_cgi")
server.max-keep-alive-requests = 1000000
server.max-fds = 20000
alias.url = ("/cgi-bin/" => "$work/cgi-bin/")
\$HTTP["url"] =~ "^/cgi-bin/" { cgi.assign = ("" => "") }
mimetype.assign = (".txt" => "text/plain")
CONF
      taskset -c 0 lighttpd -D -f "$work/lighttpd-cgi.conf" > "$work/lighttpd.log" 2>&1 &
      echo $! ;;
    *) echo "bench/cgi.sh: unknown server $name (c10k lighttpd)" >&2; exit 2 ;;
  esac
}

printf '%-20s %5s %9s %9s %14s %14s %9s\n' server round requests req/s server_us/req total_us/req non-2xx
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    pid=$(start "$spec")
    echo "$pid" >> "$work/pids"
    wait_ready
    curl -sf "$url" > /dev/null || { echo "bench/cgi.sh: $spec does not run the program" >&2; exit 1; }
    taskset -c 1 wrk -t1 -c"$connections" -d1s "$url" > /dev/null
    before=$(tree_ticks "$pid") self_before=$(self_ticks "$pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" "$url")
    after=$(tree_ticks "$pid") self_after=$(self_ticks "$pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $4}')
    per() { awk -v t="$1" -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.1f", t / hz * 1e6 / r}'; }
    printf '%-20s %5s %9s %9s %14s %14s %9s\n' "$spec" "$round" "$requests" "$rps" \
      "$(per $((self_after - self_before)))" "$(per $((after - before)))" "${bad:-0}"
    stop_server "$pid"
    sleep 0.3
  done
done
