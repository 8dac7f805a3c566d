#!/usr/bin/env bash
# Live push side by side with nginx + nchan (see docs/BENCHMARKS.md, "Live push"): N SSE
# subscribers on one channel, one publisher at each rate, c10k serve and nchan alternated
# (A B A B) for every rate and round. For each run: server CPU per delivery, delivery latency and
# fan-out span (c10k bench --sse), memory per subscriber, lost and duplicated messages, the load
# average beside it, and how much of the measured interval the server ran and how much it spent
# ready to run but waiting for CPU 0 (its run-queue wait, from schedstat: the share of the
# machine that other work took from it). The raw JSON of every run is kept in --out.
#
# usage: bench/push.sh [--subscribers N] [--rates "1 10"] [--duration S] [--warmup S]
#                      [--rounds N] [--message-size B] [--binary PATH] [--out DIR]
#                      [--profile S] [--engine E] [--transport sse|ws] [--deflate]
#                      [--c10k-flags "FLAGS"] [SERVER...]
# --engine E: c10k's event engine (default epoll; uring batches its sends in one submission).
# --transport ws: WebSocket subscribers instead of EventSource (nchan: nchan_subscriber
# websocket); --deflate: they offer permessage-deflate (nchan then compresses each message once,
# nchan_deflate_message_for_websocket, as c10k does). --c10k-flags: more `c10k serve` flags
# (e.g. "--ws-share-compressed false").
# SERVER: c10k nchan (default: both). --profile S adds, after the rounds, one run per server at
# the lowest rate, in whose middle the server's system calls are counted for S seconds (perf stat
# on syscall tracepoints: unlike strace, it does not slow the server into writing several
# messages per call) and then sampled for S seconds (perf record -e cpu-clock): system calls per
# delivery and where the CPU goes.
#
# The server runs on CPU 0, c10k bench on CPU 1. Everything listens on 127.0.0.1 only, stops by
# itself, and the servers are stopped by PID at the end. nchan is Debian's libnginx-mod-nchan;
# when it is missing and this runs as root, it is installed with apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=10000 rates="1 10" duration=30 warmup=5 rounds=2 message_size=200
binary=build/c10k out="" profile=0 engine=epoll transport=sse deflate=0 c10k_flags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --subscribers) subscribers=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --message-size) message_size=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --transport) transport=$2; shift 2 ;;
    --deflate) deflate=1; shift ;;
    --c10k-flags) c10k_flags=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || set -- c10k nchan
command -v jq > /dev/null || { echo "bench/push.sh needs jq" >&2; exit 2; }
case "$transport" in
  sse) bench_transport=--sse nchan_subscriber=eventsource ;;
  ws) bench_transport=--ws nchan_subscriber=websocket ;;
  *) echo "--transport: sse or ws, not '$transport'" >&2; exit 2 ;;
esac
bench_deflate="" nchan_deflate=""
if [ $deflate -eq 1 ]; then
  [ "$transport" = ws ] || { echo "--deflate is for --transport ws" >&2; exit 2; }
  bench_deflate=--ws-deflate nchan_deflate="nchan_deflate_message_for_websocket on;"
fi
[ -x "$binary" ] || { echo "no c10k binary at $binary (build it, or pass --binary)" >&2; exit 2; }
# shellcheck source=bench/servers.sh
source bench/servers.sh        # $root, $work (removed at exit), $port, stop_server
publish_port=$((port + 1))
out=${out:-$(mktemp -d -t c10k-push.XXXXXX)}
mkdir -p "$out"

nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so
need_nchan() {  # the anchor's module, installed once if this runs as root
  [ -f "$nchan_module" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnginx-mod-nchan > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
  fi
  [ -f "$nchan_module" ] || {
    echo "nchan missing: apt-get install libnginx-mod-nchan" >&2
    exit 1
  }
}

start_push_server() {  # c10k|nchan -> prints the PID to sample (nginx: its master)
  case "$1" in
    c10k)
      # Subscribers connect before the first publish, so neither server has history to send
      # them, whatever its first-message setting (c10k's --push-first, nchan's
      # nchan_subscriber_first_message).
      taskset -c 0 "$binary" serve --engine "$engine" --threads 1 --root "$root" \
        --listen 127.0.0.1:$port --publish-listen 127.0.0.1:$publish_port --push /live/ \
        $c10k_flags > "$work/c10k.log" 2>&1 &
      echo $! ;;
    nchan)
      need_nchan
      mkdir -p "$work/nchan"
      # One worker; subscribers and the publisher on separate server blocks, the publisher's
      # bound to 127.0.0.1 like c10k's --publish-listen. Messages are kept in nchan's shared
      # memory (its default 128 MB zone), 10 per channel (its default buffer).
      cat > "$work/nchan/nginx.conf" <<CONF
load_module $nchan_module;
daemon off; worker_processes 1; error_log $work/nchan/error.log; pid $work/nchan/nginx.pid;
worker_rlimit_nofile 20000;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 1000000;
  include /etc/nginx/mime.types;
  server { listen 127.0.0.1:$port; root $root;
    location ~ ^/live/(\w+)$ { nchan_subscriber $nchan_subscriber; nchan_channel_id \$1;
      $nchan_deflate } }
  server { listen 127.0.0.1:$publish_port;
    location ~ ^/pub/(\w+)$ { nchan_publisher; nchan_channel_id \$1; } } }
CONF
      taskset -c 0 nginx -p "$work/nchan" -c "$work/nchan/nginx.conf" > "$work/nchan.log" 2>&1 &
      echo $! ;;
    *) echo "unknown server $1 (c10k or nchan)" >&2; exit 2 ;;
  esac
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# Run time and run-queue wait (ns) of every thread of a process and its children: how long the
# server ran, and how long it was ready to run while CPU 0 ran something else.
tree_sched() {  # PID -> "run_ns wait_ns"
  local p tasks=""
  for p in "$1" $(pgrep -P "$1" 2> /dev/null); do tasks="$tasks /proc/$p/task/*/schedstat"; done
  # shellcheck disable=SC2086
  cat $tasks 2> /dev/null | awk '{run += $1; wait += $2} END {print run + 0, wait + 0}'
}

# In the background for each run: scheduler figures over (roughly) the bench's measured
# interval, which starts after the subscribers connect (~2 s) and the warm-up.
sample_sched() {  # PID file
  local a b t0 t1
  sleep $((warmup + 3))
  a=$(tree_sched "$1"); t0=$(date +%s%N)
  sleep $((duration - 4))
  b=$(tree_sched "$1"); t1=$(date +%s%N)
  echo "$a $b $t0 $t1" | awk '{printf "%.1f %.1f\n", ($3 - $1) / ($6 - $5) * 100,
                                                      ($4 - $2) / ($6 - $5) * 100}' > "$2"
}

# One run: server $1 at $2 messages/s; JSON to $3. Extra arguments: a command to run while the
# bench runs (gets the server PID as its first argument).
run_one() {
  local server=$1 rate=$2 json=$3; shift 3
  local pid load rc
  pid=$(start_server_checked "$server")
  load=$(load1)
  taskset -c 1 /usr/bin/time -f '%U %S' -o "$json.client" "$binary" bench -q \
    "$bench_transport" "$subscribers" $bench_deflate "http://127.0.0.1:$port/live/bench" \
    --publish "http://127.0.0.1:$publish_port/pub/bench" --publish-rate "$rate" \
    --message-size "$message_size" --connect-rate 5000 -d "${duration}s" --warmup "${warmup}s" \
    --server-pid "$pid" --json "$json" > "$json.txt" 2>&1 &
  local bench=$!
  sample_sched "$pid" "$json.sched" &
  local sampler=$!
  if [ $# -gt 0 ]; then "$@" "$pid"; fi
  rc=0; wait "$bench" || rc=$?
  wait "$sampler" || true
  stop_server "$pid"
  echo "$load $(load1) $rc" > "$json.load"
  sleep 1
}

start_server_checked() {  # start, then wait until the subscribe port answers (at most 5 s)
  local pid
  pid=$(start_push_server "$1")
  echo "$pid" >> "$work/pids"
  for _ in $(seq 1 50); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/bench/128.txt" && break
    sleep 0.1
  done
  echo "$pid"
}

# The row for one run. c10k bench counts an event as a delivery only when its id is a decimal
# integer; nchan's EventSource ids are "TIME:TAG", which it counts as "without id" instead, and
# nchan's publish answer has no "id". For nchan the deliveries are therefore those events, the
# messages expected are the 2xx publish answers times the subscribers, and there is no latency,
# span or per-subscriber sequence check (shown as -).
row() {  # server round rate json
  local server=$1 round=$2 rate=$3 json=$4
  read -r load0 load_end rc < "$json.load"
  read -r run_pct wait_pct < "$json.sched" || { run_pct=-; wait_pct=-; }
  # /usr/bin/time puts "Command exited with non-zero status N" first when the bench says 3.
  read -r cu cs < <(tail -1 "$json.client") || { cu=0; cs=0; }
  local client
  client=$(awk -v u="$cu" -v s="$cs" 'BEGIN {printf "%.1f", u + s}')
  jq -r --arg s "$server" --arg r "$round" --arg rate "$rate" --arg load "$load0/$load_end" \
    --arg rc "$rc" --arg run "$run_pct" --arg wait "$wait_pct" --arg client "$client" '
    def ms: if . == null then "-" else (. / 10 | round / 100) end;
    .push as $p | .server as $v |
    (if $s == "nchan" then $p.without_id else $p.deliveries end) as $d |
    (if $s == "nchan" then ($p.publish.acks_without_id * $p.subscribers.connected)
     else ($p.lost.acknowledged_messages * $p.subscribers.connected) end) as $expected |
    [$s, $r, $rate, $p.subscribers.connected, $p.subscribers.failed, $d, $expected,
     (if $s == "nchan" then "-" else $p.lost.total end),
     (if $s == "nchan" then "-" else $p.duplicated end),
     (if $d > 0 then ($v.cpu_s * 1e6 / $d * 100 | round / 100) else "-" end),
     (if $s == "nchan" then "-" else ($p.latency_us.p50 | ms) end),
     (if $s == "nchan" then "-" else ($p.latency_us.p99 | ms) end),
     (if $s == "nchan" then "-" else ($p.latency_us.max | ms) end),
     (if $s == "nchan" then "-" else ($p.fanout_span_us.p99 | ms) end),
     (if $s == "nchan" then "-" else ($p.fanout_span_us.max | ms) end),
     ($p.server_rss_bytes_per_subscriber | round), $p.publish.unanswered,
     ($v.cpu_s * 100 | round / 100), $client, $run, $wait, $load, $rc] | @tsv' "$json"
}

columns=(server round msg/s subs failed delivered expected lost dup cpu_us/deliv p50_ms p99_ms
  max_ms span_p99_ms span_max_ms B/sub pub_unanswered server_cpu_s client_cpu_s server_run_%
  server_runq_wait_% load rc)
tree=$(git rev-parse --short HEAD 2> /dev/null || echo '?')
git diff --quiet 2> /dev/null || tree="$tree (tree with uncommitted changes)"
{
  echo "# binary $binary; tree at $tree, $(nproc) CPUs, $(uname -r), $(date -u +%FT%TZ)"
  echo "# $subscribers $transport subscribers${bench_deflate:+ (deflate offered)}, $message_size-byte messages," \
    "${warmup}s warm-up + ${duration}s measured"
  (IFS=$'\t'; echo "${columns[*]}")
} | tee "$out/summary.tsv"
for round in $(seq 1 "$rounds"); do
  for rate in $rates; do
    for server in "$@"; do
      json="$out/$server-${rate}mps-r$round.json"
      run_one "$server" "$rate" "$json"
      row "$server" "$round" "$rate" "$json" | tee -a "$out/summary.tsv"
    done
  done
done

# System calls per delivery and a CPU profile, in one more run per server at the lowest rate.
# nginx's master only waits, so its worker is the one profiled.
syscall_events=raw_syscalls:sys_enter
for call in epoll_wait epoll_pwait epoll_ctl writev write sendto sendmsg recvfrom read; do
  syscall_events="$syscall_events,syscalls:sys_enter_$call"
done
profile_server() {  # PID
  local pid=$1 target=$1
  sleep $((warmup + 4))
  if [ -f "$work/nchan/nginx.pid" ] && [ "$(cat "$work/nchan/nginx.pid")" = "$pid" ]; then
    target=$(pgrep -P "$pid" | head -1)
  fi
  perf stat -x, -e "$syscall_events" -p "$target" -o "$profile_out.syscalls" -- \
    sleep "$profile" 2> /dev/null || true
  perf record -q -e cpu-clock -F 1000 -p "$target" -o "$profile_out.perf" -- \
    sleep "$profile" > /dev/null 2>&1 || true
}
if [ "$profile" -gt 0 ]; then
  command -v perf > /dev/null || { echo "--profile needs perf" >&2; exit 2; }
  low_rate=$(printf '%s\n' $rates | sort -g | head -1)
  for server in "$@"; do
    json="$out/$server-${low_rate}mps-profile.json"
    profile_out="$json"
    run_one "$server" "$low_rate" "$json" profile_server
    row "$server" profile "$low_rate" "$json"
    deliveries=$(awk -v r="$low_rate" -v s="$profile" -v n="$subscribers" \
      'BEGIN {print r * s * n}')
    echo "# $server: system calls in ${profile}s (~$deliveries deliveries: +-1 message)," \
      "per delivery:"
    awk -F, -v d="$deliveries" '$1 ~ /^[0-9]+$/ {
        name = $3; sub(/^(raw_)?syscalls:sys_enter_?/, "", name); if (name == "") name = "all"
        printf "#   %-12s %9d  %.4f\n", name, $1, $1 / d }' "$profile_out.syscalls"
    echo "# $server: CPU samples by binary, then the top symbols"
    { perf report -q --stdio -i "$profile_out.perf" --sort dso 2> /dev/null || true; } |
      grep . | head -5 | sed 's/^/#   /' || true
    { perf report -q --stdio -i "$profile_out.perf" --sort sym 2> /dev/null || true; } |
      grep . | head -15 | sed 's/^/#   /' || true
    rm -f "$profile_out.perf"
  done | tee -a "$out/summary.tsv"
fi
echo "JSON and summary in $out"
