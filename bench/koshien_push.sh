#!/usr/bin/env bash
# The Koshien comparison (see docs/BENCHMARKS.md, "Live push"): the same N clients kept up to
# date two ways by one c10k serve, alternated (reload push reload push):
#   reload: every client GETs /score.json once per --interval on its keep-alive connection
#           (c10k bench -c N --rate N/interval, evenly paced: the reload workload of koshien.sh);
#   push:   every client holds an SSE stream on /live/score and one --message-size publish goes
#           out per --interval (c10k bench --sse N --publish-rate 1/interval).
# For each run, over a window of --window seconds in the middle of the bench's measured
# interval, sampled from outside the bench:
#   server CPU        schedstat run time of every thread of the server (ns), as a share of
#                     one core over the window's wall time too;
#   updates           reload: requests received (TCP data segments in, one per GET);
#                     push: messages published (the channel's last id, from GET /pub/score);
#   bytes, segments   TCP payload both ways and segments both ways on the server's subscriber
#                     and reload sockets (ss tcp_info: bytes_sent, bytes_received, segs_out,
#                     segs_in); "wire" adds 52 bytes of IPv4 + TCP (with timestamps) per segment;
#   wake-ups          the server's voluntary context switches, and then, for --trace seconds,
#                     its epoll_wait calls and all its system calls (perf stat on the syscall
#                     tracepoints; strace would slow the server and change what it batches).
# Each figure is divided by clients x updates: "per client per update".
#
# --window and --trace should be whole multiples of --interval: push samples are taken halfway
# between two publishes, and a sample (ss over every socket) must take well under half an
# interval, or the next fan-out falls into it (at 5 s with 10,000 clients it takes about 1 s).
#
# usage: bench/koshien_push.sh [--clients N] [--interval S] [--message-size B] [--window S]
#                              [--trace S] [--rounds N] [--binary PATH] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

clients=10000 interval=5 message_size=200 window=20 trace=10 rounds=2
binary=build/c10k out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --message-size) message_size=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --trace) trace=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v jq > /dev/null || { echo "bench/koshien_push.sh needs jq" >&2; exit 2; }
command -v perf > /dev/null || { echo "bench/koshien_push.sh needs perf" >&2; exit 2; }
[ -x "$binary" ] || { echo "no c10k binary at $binary (build it, or pass --binary)" >&2; exit 2; }
# shellcheck source=bench/servers.sh
source bench/servers.sh        # $root, $work (removed at exit), $port, stop_server
publish_port=$((port + 1))
out=${out:-$(mktemp -d -t c10k-koshien-push.XXXXXX)}
mkdir -p "$out"
header_bytes=40
[ "$(cat /proc/sys/net/ipv4/tcp_timestamps 2>/dev/null)" = 0 ] || header_bytes=52
warmup=5
# The bench runs past the window and the trace: connect (~2 s), warm-up, then both.
duration=$((window + trace + 2 * interval + 15))
syscall_events=raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait
rate=$(awk -v n="$clients" -v i="$interval" 'BEGIN {print n / i}')
publish_rate=$(awk -v i="$interval" 'BEGIN {print 1 / i}')

start_c10k() {
  taskset -c 0 "$binary" serve --engine epoll --threads 1 --root "$root" \
    --listen 127.0.0.1:$port --publish-listen 127.0.0.1:$publish_port --push /live/ \
    > "$work/c10k.log" 2>&1 &
  local pid=$!
  echo "$pid" >> "$work/pids"
  for _ in $(seq 1 50); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/score.json" && break
    sleep 0.1
  done
  echo "$pid"
}

# One sample of the server, as "name value" lines: the quick readings first, then the sockets
# (ss over 10,000 sockets takes a second or more on a busy machine).
sample() {  # PID [quick: no sockets]
  local pid=$1
  echo "t_ns $(date +%s%N)"
  echo "last_id $(last_id)"
  awk '{ns += $1} END {print "cpu_ns", ns + 0}' /proc/"$pid"/task/*/schedstat
  awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2}
       END {print "voluntary", v + 0; print "nonvoluntary", n + 0}' /proc/"$pid"/task/*/status
  [ $# -lt 2 ] || return 0
  taskset -c 1 ss -Htin state established "( sport = :$port )" | awk '
    {for (i = 1; i <= NF; i++) {
       split($i, kv, ":")
       if (kv[1] == "bytes_sent" || kv[1] == "bytes_received" || kv[1] == "segs_out" ||
           kv[1] == "segs_in" || kv[1] == "data_segs_in" || kv[1] == "data_segs_out")
         sum[kv[1]] += kv[2]
     }
     if ($0 ~ /segs_out/) sockets++}
    END {print "sockets", sockets + 0
         n = split("bytes_sent bytes_received segs_out segs_in data_segs_in data_segs_out", k, " ")
         for (i = 1; i <= n; i++) print k[i], sum[k[i]] + 0}'
}

# Sleeps until `seconds` after the t_ns of a sample file, so that a slow sample does not
# stretch the window.
sleep_after() {  # sample-file seconds
  local t0 now
  t0=$(awk '$1 == "t_ns" {print $2}' "$1")
  now=$(date +%s%N)
  sleep "$(awk -v t0="$t0" -v now="$now" -v s="$2" 'BEGIN {d = (t0 + s * 1e9 - now) / 1e9
                                                           print (d > 0 ? d : 0)}')"
}

# Push: wait for the next publish, then half an interval, so that no fan-out straddles a sample
# (the window and the trace are whole intervals, so every later sample falls mid-gap too).
mid_gap() {
  local id0 id
  id0=$(last_id)
  for _ in $(seq 1 $((interval * 20 + 20))); do
    id=$(last_id)
    [ "$id" != "$id0" ] && break
    sleep 0.05
  done
  sleep "$(awk -v i="$interval" 'BEGIN {print i / 2}')"
}

last_id() {
  curl -s --max-time 1 "http://127.0.0.1:$publish_port/pub/score" | jq -r '.last_id // "0"' \
    2> /dev/null || echo 0
}

as_json() {  # sample file -> JSON object
  jq -R -s 'split("\n") | map(select(length > 0) | split(" ") | {(.[0]): (.[1] | tonumber)})
            | add // {}' "$1"
}

syscall_json() {  # perf stat -x, output -> {"all": N, "epoll_wait": N, ...}
  awk -F, '$1 ~ /^[0-9]+$/ {
      name = $3; sub(/^(raw_)?syscalls:sys_enter_?/, "", name)
      print (name == "" ? "all" : name), $1 }' "$1" > "$1.pairs"
  as_json "$1.pairs"
}

run_one() {  # mode round
  local mode=$1 round=$2 pid bench load0 name=$out/$1-r$2
  pid=$(start_c10k)
  load0=$(cut -d' ' -f1 /proc/loadavg)
  case "$mode" in
    reload)
      taskset -c 1 "$binary" bench -q -c "$clients" --rate "$rate" --warmup "${warmup}s" \
        -d "${duration}s" --server-pid "$pid" --json "$name.json" \
        "http://127.0.0.1:$port/score.json" > "$name.txt" 2>&1 & ;;
    push)
      taskset -c 1 "$binary" bench -q --sse "$clients" "http://127.0.0.1:$port/live/score" \
        --publish "http://127.0.0.1:$publish_port/pub/score" --publish-rate "$publish_rate" \
        --message-size "$message_size" --connect-rate 5000 --warmup "${warmup}s" \
        -d "${duration}s" --server-pid "$pid" --json "$name.json" > "$name.txt" 2>&1 & ;;
  esac
  bench=$!
  sleep $((warmup + 5))
  [ "$mode" = push ] && mid_gap
  sample "$pid" > "$work/a"
  sleep_after "$work/a" "$window"
  sample "$pid" > "$work/b"
  # Wake-ups by system call: every thread of the server, for --trace seconds from sample b.
  sleep_after "$work/b" "$interval"
  sample "$pid" quick > "$work/t"
  perf stat -x, -e "$syscall_events" -p "$pid" -o "$work/syscalls" -- sleep "$trace" \
    2> /dev/null || true
  sample "$pid" quick > "$work/c"
  local rc=0
  wait "$bench" || rc=$?
  stop_server "$pid"
  jq -n --arg mode "$mode" --argjson round "$round" --argjson clients "$clients" \
    --argjson interval "$interval" --argjson window "$window" --argjson trace "$trace" \
    --argjson header_bytes "$header_bytes" --arg load "$load0/$(cut -d' ' -f1 /proc/loadavg)" \
    --argjson rc "$rc" --argjson a "$(as_json "$work/a")" --argjson b "$(as_json "$work/b")" \
    --argjson t "$(as_json "$work/t")" --argjson c "$(as_json "$work/c")" \
    --argjson calls "$(syscall_json "$work/syscalls")" \
    '{mode: $mode, round: $round, clients: $clients, interval_s: $interval, window_s: $window,
      trace_s: $trace, header_bytes: $header_bytes, load: $load, bench_rc: $rc,
      window_start: $a, window_end: $b, trace_start: $t, trace_end: $c, syscalls: $calls}' \
    > "$name.samples.json"
  sleep 1
}

# The row of one run: every figure per client per update over the window.
row() {  # samples.json bench.json
  jq -r --slurpfile bench "$2" '
    def r(n): . * n | round / n;
    . as $s | ($s.window_end.cpu_ns - $s.window_start.cpu_ns) as $cpu_ns |
    ($s.window_end.bytes_sent - $s.window_start.bytes_sent) as $sent |
    ($s.window_end.bytes_received - $s.window_start.bytes_received) as $received |
    (($s.window_end.segs_out - $s.window_start.segs_out) +
     ($s.window_end.segs_in - $s.window_start.segs_in)) as $segs |
    (if $s.mode == "push" then ($s.window_end.last_id - $s.window_start.last_id)
     else (($s.window_end.data_segs_in - $s.window_start.data_segs_in) / $s.clients) end)
      as $updates |
    (if $s.mode == "push" then ($s.trace_end.last_id - $s.trace_start.last_id)
     else ($s.trace_s / $s.interval_s) end) as $trace_updates |
    ($s.clients * $updates) as $cu | ($s.clients * $trace_updates) as $tcu |
    ($s.syscalls.all // 0) as $calls |
    (($s.syscalls.epoll_wait // 0) + ($s.syscalls.epoll_pwait // 0)) as $waits |
    [$s.mode, $s.round, $s.window_start.sockets, ($updates | r(100)),
     ($cpu_ns / ($s.window_end.t_ns - $s.window_start.t_ns) * 100 | r(1000)),
     ($cpu_ns / 1e3 / $cu | r(100)),
     (($sent + $received) / $cu | r(10)),
     (($sent + $received + $s.header_bytes * $segs) / $cu | r(10)),
     ($segs / $cu | r(100)),
     (($s.window_end.voluntary - $s.window_start.voluntary) / $cu | r(10000)),
     (if $tcu > 0 then ($waits / $tcu | r(10000)) else "-" end),
     (if $tcu > 0 then ($calls / $tcu | r(1000)) else "-" end),
     ($bench[0].errors.total // 0) + ($bench[0].push.lost.total // 0),
     (if $s.mode == "push" then ($bench[0].push.latency_us.p99 / 1000 | r(100))
      else ($bench[0].latency_us.corrected.p99 / 1000 | r(100)) end),
     $s.load, $s.bench_rc] | @tsv' "$1"
}

columns=(mode round clients updates/client cpu_%core cpu_us/cu payload_B/cu wire_B/cu segments/cu
  vol_cs/cu epoll_wait/cu syscalls/cu errors+lost p99_ms load rc)
tree=$(git rev-parse --short HEAD 2> /dev/null || echo '?')
git diff --quiet 2> /dev/null || tree="$tree (tree with uncommitted changes)"
{
  echo "# binary $binary; tree at $tree, $(nproc) CPUs, $(uname -r), $(date -u +%FT%TZ)"
  echo "# $clients clients, one update every ${interval}s (reload: GET /score.json," \
    "$(wc -c < "$root/score.json") bytes; push: a $message_size-byte message);" \
    "${window}s window, ${trace}s of syscall counts; cu = client-update"
  (IFS=$'\t'; echo "${columns[*]}")
} | tee "$out/summary.tsv"
for round in $(seq 1 "$rounds"); do
  for mode in reload push; do
    run_one "$mode" "$round"
    row "$out/$mode-r$round.samples.json" "$out/$mode-r$round.json" | tee -a "$out/summary.tsv"
  done
done
# Means over rounds and the ratio reload / push of each per-client-update figure (columns 5-12).
means=$(awk -F'\t' -v names="${columns[*]:4:8}" '$1 == "reload" || $1 == "push" {
    n[$1]++; for (i = 5; i <= 12; i++) sum[$1, i] += $i }
  END {
    split(names, name, " ")
    printf "# mean over rounds          reload        push   reload/push\n"
    for (i = 5; i <= 12; i++) {
      r = sum["reload", i] / n["reload"]; p = sum["push", i] / n["push"]
      printf "# %-20s %12.4g %11.4g %12.4g\n", name[i - 4], r, p, (p > 0 ? r / p : 0)
    }
  }' "$out/summary.tsv")
echo "$means" | tee -a "$out/summary.tsv"
echo "JSON and summary in $out"
