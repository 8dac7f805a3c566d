#!/usr/bin/env bash
# FastCGI against CGI, and c10k against nginx in front of the same php-fpm pool
# (docs/BENCHMARKS.md, "CGI and FastCGI"). One trivial PHP page, three ways:
#   c10k-fastcgi  c10k serve --fastcgi in front of php-fpm (a pool of 2 static workers)
#   nginx-fastcgi nginx, fastcgi_pass with kept-alive connections, in front of the same pool
#   c10k-cgi      c10k serve --cgi running php-cgi per request: fork+exec of the interpreter
# The front server is pinned to CPU 0, php-fpm and wrk (closed loop, keep-alive) to CPU 1.
# Reported: requests/s, the front server's CPU per request, and the CPU per request of
# everything that served it (front + php-fpm, or c10k + the php-cgi processes it reaped):
# the seeds' point, what a process per request costs against a pooled application.
#
# usage: bench/fastcgi.sh [--rounds N] [--duration S] [--connections C] [WAY...]
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
[ $# -gt 0 ] || set -- c10k-fastcgi nginx-fastcgi c10k-cgi
fpm=$(command -v php-fpm8.2 || command -v php-fpm || ls /usr/sbin/php-fpm* 2> /dev/null | head -1 || true)
phpcgi=$(command -v php-cgi || true)
for tool in wrk nginx taskset curl; do
  command -v "$tool" > /dev/null || { echo "bench/fastcgi.sh: needs $tool (make deps-test installs it)" >&2; exit 2; }
done
[ -n "$fpm" ] && [ -n "$phpcgi" ] || { echo "bench/fastcgi.sh: needs php-fpm and php-cgi (make deps-test installs them)" >&2; exit 2; }
[ -x build/c10k ] || { echo "bench/fastcgi.sh: build c10k first (make build)" >&2; exit 2; }

# shellcheck source=bench/servers.sh
source bench/servers.sh  # $root, $work (removed at exit), $port, tree_ticks, wait_ready, stop_server
tick=$(getconf CLK_TCK)

chmod 755 "$work"  # nginx's worker (nobody, when started as root) reads the site here
site=$work/site
mkdir -p "$site/bench" "$site/php" "$work/cgi-bin"
cp "$root/bench/128.txt" "$site/bench/128.txt"  # wait_ready asks for it
cat > "$site/php/hello.php" <<'PHP'
<?php
header('Content-Type: text/plain');
echo str_repeat('x', 127), "\n";
PHP
# The same page as a CGI program: php-cgi runs the script named by SCRIPT_FILENAME.
cat > "$work/cgi-bin/hello.php" <<SH
#!$phpcgi -dcgi.force_redirect=0
<?php
header('Content-Type: text/plain');
echo str_repeat('x', 127), "\n";
SH
chmod 755 "$work/cgi-bin/hello.php"

cat > "$work/fpm.conf" <<CONF
[global]
error_log = $work/fpm.log
daemonize = no
[bench]
listen = $work/fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 2
pm.max_requests = 0
CONF
# -R: as root the workers run as root too (no user line), which a throwaway bench may do.
taskset -c 1 "$fpm" -n -R -F -y "$work/fpm.conf" > "$work/fpm.out" 2>&1 &
fpm_pid=$!
echo "$fpm_pid" >> "$work/pids"
for _ in $(seq 1 50); do [ -S "$work/fpm.sock" ] && break; sleep 0.1; done

start() {  # way -> prints PID
  case "$1" in
    c10k-fastcgi)
      taskset -c 0 ./build/c10k serve --root "$site" --listen 127.0.0.1:$port --threads 1 \
        --fastcgi "/php/=unix:$work/fpm.sock" > "$work/c10k.log" 2>&1 &
      echo $! ;;
    c10k-cgi)
      taskset -c 0 ./build/c10k serve --root "$site" --listen 127.0.0.1:$port --threads 1 \
        --cgi "/php/=$work/cgi-bin" > "$work/c10k.log" 2>&1 &
      echo $! ;;
    nginx-fastcgi)
      mkdir -p "$work/nginx"
      cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/nginx/error.log; pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream fpm { server unix:$work/fpm.sock; keepalive 8; }
  server { listen 127.0.0.1:$port; root $site;
    location /php/ { include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_keep_conn on; fastcgi_pass fpm; } } }
CONF
      taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" > "$work/nginx.log" 2>&1 &
      echo $! ;;
    *) echo "bench/fastcgi.sh: unknown way $1 (c10k-fastcgi nginx-fastcgi c10k-cgi)" >&2; exit 2 ;;
  esac
}

url="http://127.0.0.1:$port/php/hello.php"
printf '%-14s %5s %9s %9s %13s %13s %8s\n' way round requests req/s front_us/req total_us/req non-2xx
for round in $(seq 1 "$rounds"); do
  for way in "$@"; do
    pid=$(start "$way")
    echo "$pid" >> "$work/pids"
    wait_ready || { cat "$work"/*.log "$work"/nginx/error.log 2> /dev/null | tail -5 >&2; exit 1; }
    curl -sf "$url" | grep -q xxxx || { echo "bench/fastcgi.sh: $way does not serve the page" >&2; exit 1; }
    taskset -c 1 wrk -t1 -c"$connections" -d1s "$url" > /dev/null
    front_before=$(tree_ticks "$pid") fpm_before=$(tree_ticks "$fpm_pid")
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" "$url")
    front_after=$(tree_ticks "$pid") fpm_after=$(tree_ticks "$fpm_pid")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    bad=$(echo "$out" | awk '/Non-2xx/ {print $4}')
    front=$((front_after - front_before))
    total=$front
    [ "$way" = c10k-cgi ] || total=$((front + fpm_after - fpm_before))
    per() { awk -v t="$1" -v r="$requests" -v hz="$tick" 'BEGIN {printf "%.1f", t / hz * 1e6 / r}'; }
    printf '%-14s %5s %9s %9s %13s %13s %8s\n' "$way" "$round" "$requests" "$rps" "$(per $front)" \
      "$(per $total)" "${bad:-0}"
    stop_server "$pid"
    sleep 0.3
  done
done
