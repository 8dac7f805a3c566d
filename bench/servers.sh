# Shared by the benchmark scripts: start a server under test or an anchor, pinned to CPU 0, on
# 127.0.0.1:$port, with configs written to a temporary directory that is removed at exit.
# Sourced, not run. Servers: c10k[:ENGINE[:EXTRA-FLAGS]] h2o nginx lighttpd.
root=$(pwd)/examples/site
work=$(mktemp -d)
trap 'for p in $(cat "$work"/pids 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=18080

# Sum of utime+stime (clock ticks) over a process and its descendants. /proc/PID/stat of a
# process already sums all its threads; fields 16 and 17 add children it has already reaped
# (the fork engine's, which live one connection).
tree_ticks() {
  local total=0 p
  total=$(awk '{print $14 + $15 + $16 + $17}' /proc/$1/stat 2>/dev/null || echo 0)
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
      flags=${flags%:}  # the flags may hold colons (an address): only the added one goes
      taskset -c 0 ./build/c10k serve --root "$root" --listen 127.0.0.1:$port --threads 1 \
        --engine "$engine" $flags > "$work/c10k.log" 2>&1 &
      echo $! ;;
    h2o)
      cat > "$work/h2o.conf" <<CONF
listen: {host: 127.0.0.1, port: $port}
num-threads: 1
max-connections: 20000
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
worker_rlimit_nofile 20000;
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
server.max-fds = 20000
server.max-connections = 16000
server.max-keep-alive-idle = 60
mimetype.assign = (".txt" => "text/plain", ".html" => "text/html")
CONF
      taskset -c 0 lighttpd -D -f "$work/lighttpd.conf" > "$work/lighttpd.log" 2>&1 &
      echo $! ;;
    *) echo "unknown server $name" >&2; exit 2 ;;
  esac
}


wait_ready() {  # [PORT] (default $port): until the server answers, at most 5 s
  local on=${1:-$port}
  for _ in $(seq 1 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$on/bench/128.txt" && return 0
    sleep 0.1
  done
  echo "server did not come up on port $on" >&2
  return 1
}

stop_server() {  # PID: SIGTERM, then wait until it is gone (it is not this shell's child)
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -9 "$1" 2>/dev/null || true
}
