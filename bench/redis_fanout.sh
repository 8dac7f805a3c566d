#!/usr/bin/env bash
# Redis fan-out, Pub/Sub against stream reads (XREAD BLOCK), side by side: bench/redis_fanout.cpp
# (compiled here) against a redis-server of our own (no persistence, its own temporary
# directory, a free loopback port), for every channels x servers x mode case, the two modes of
# a case back to back so that a change of load on the machine hits both. Redis is flushed
# between cases. Each case's JSON (with the load average before and after added) goes to --out,
# a summary.tsv beside them, and, when gnuplot is installed, cpu_per_message.svg: Redis CPU per
# published message against channels followed, one line per mode x servers.
#
# usage: bench/redis_fanout.sh [--modes "pubsub stream"] [--channels "1 100 1000 10000"]
#                              [--servers "0 1 8"] [--rate R] [--seconds T] [--bytes B]
#                              [--drain D] [--out DIR] [--plot-only]
# Defaults: the lists above, 1000 msg/s for 10 s, 100-byte payloads, 5 s to drain: 24 cases,
# about 5 minutes. Servers 0 is the baseline: the publishes alone, nobody following.
# --plot-only draws the chart again from --out's summary.tsv, without running anything.
#
# Everything listens on 127.0.0.1 only; what this script starts is stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

modes="pubsub stream" channels="1 100 1000 10000" servers="0 1 8" rate=1000 seconds=10
bytes=100 drain=5 out=docs/results/push/redis/fanout plot_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --modes) modes=$2; shift 2 ;;
    --channels) channels=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --bytes) bytes=$2; shift 2 ;;
    --drain) drain=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --plot-only) plot_only=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
for tool in g++ pkg-config jq redis-server redis-cli; do
  command -v $tool > /dev/null || { echo "bench/redis_fanout.sh needs $tool" >&2; exit 2; }
done
pkg-config --exists hiredis || { echo "bench/redis_fanout.sh needs hiredis (pkg-config)" >&2; exit 2; }
mkdir -p "$out"
work=$(mktemp -d -t c10k-fanout.XXXXXX)
redis_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$redis_pid" ] && kill "$redis_pid" 2> /dev/null; then
    for _ in $(seq 1 50); do kill -0 "$redis_pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$redis_pid" 2> /dev/null || true
    wait "$redis_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "# $(date +%T) $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# A port nothing listens on now, from $1 up.
free_port() {
  local p=$1
  while (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; do p=$((p + 1)); done
  echo "$p"
}

# cpu_per_message.svg from summary.tsv: Redis CPU per message against channels, one line per
# mode x servers (a colour per servers count, stream reads dashed).
plot_chart() {
  command -v gnuplot > /dev/null || { say "no gnuplot: no chart"; return 0; }
  local data="$work/plot.dat" index=0 colour=0 plot=() label mode s dash title
  : > "$data"
  for s in $servers; do
    colour=$((colour + 1))
    for mode in $modes; do
      awk -F'\t' -v m="$mode" -v s="$s" '$1 == m && $2 == s {print $3, $10}' \
        "$out/summary.tsv" >> "$data"
      printf '\n\n' >> "$data"
      label="$mode, $s server(s) following"
      [ "$s" = 0 ] && label="$mode, nobody following (publish alone)"
      dash=1
      [ "$mode" = stream ] && dash=2
      plot+=("'$data' index $index with linespoints lc $colour dt $dash lw 2 title '$label'")
      index=$((index + 1))
    done
  done
  title=$(sed -n '2s/^# //p' "$out/summary.tsv")
  gnuplot << EOF
set terminal svg size 800,500 dynamic font 'sans,12'
set output '$out/cpu_per_message.svg'
set title 'Redis CPU per published message: $title' noenhanced
set xlabel 'channels followed by every server'
set ylabel 'Redis CPU per message (us)'
set logscale x
set logscale y
set grid
set key top left noenhanced
plot $(IFS=,; echo "${plot[*]}")
EOF
  say "chart: $out/cpu_per_message.svg"
}

if [ $plot_only -eq 1 ]; then
  [ -s "$out/summary.tsv" ] || { echo "no $out/summary.tsv to plot" >&2; exit 2; }
  plot_chart
  exit 0
fi

say "compiling bench/redis_fanout.cpp"
# shellcheck disable=SC2046 # pkg-config prints several flags
g++ -O2 -std=c++20 -Wall -Wextra -Werror -o "$work/redis_fanout" bench/redis_fanout.cpp \
  $(pkg-config --cflags --libs hiredis) -pthread

port=$(free_port 16479)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  --daemonize no --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 1 100); do
  [ "$(redis-cli -p "$port" ping 2> /dev/null)" = PONG ] && break
  kill -0 "$redis_pid" 2> /dev/null || break
  sleep 0.05
done
if [ "$(redis-cli -p "$port" ping 2> /dev/null)" != PONG ]; then
  echo "redis-server did not start; its log:" >&2
  cat "$work/redis.log" >&2
  exit 1
fi
redis_version=$(redis-cli -p "$port" info server | sed -n 's/^redis_version:\([^\r]*\).*/\1/p')

tree=$(git rev-parse --short HEAD 2> /dev/null || echo '?')
git diff --quiet -- bench/redis_fanout.cpp 2> /dev/null || tree="$tree (redis_fanout.cpp modified)"
columns=(mode servers channels published publish_rate deliveries lost drain_s redis_cpu_s
  redis_us/msg redis_us/deliv redis_out_B/deliv redis_in_B/msg msgs/read follower_us/deliv
  p50_ms p99_ms max_ms load)
{
  echo "# Redis $redis_version on 127.0.0.1:$port (no persistence); tree at $tree; $(nproc) CPUs," \
    "$(uname -r); $(date -u +%FT%TZ)"
  echo "# $rate msg/s for ${seconds}s, $bytes-byte payloads, channels round-robin, drain ${drain}s"
  (IFS=$'\t'; echo "${columns[*]}")
} > "$out/summary.tsv"
cat "$out/summary.tsv" >&2

failed=0
for k in $channels; do
  for s in $servers; do
    for mode in $modes; do
      json="$out/$mode-s$s-k$k.json"
      redis-cli -p "$port" flushall sync > /dev/null
      before=$(load1)
      rc=0
      "$work/redis_fanout" --port "$port" --mode "$mode" --servers "$s" --channels "$k" \
        --rate "$rate" --seconds "$seconds" --bytes "$bytes" --drain "$drain" \
        > "$work/case.json" 2> "$work/case.err" || rc=$?
      after=$(load1)
      if [ $rc -ne 0 ] || ! jq -e . "$work/case.json" > /dev/null 2>&1; then
        say "$mode servers=$s channels=$k failed (exit $rc): $(cat "$work/case.err")"
        failed=1
        continue
      fi
      [ -s "$work/case.err" ] && say "$mode servers=$s channels=$k: $(cat "$work/case.err")"
      jq -c --arg before "$before" --arg after "$after" --arg tree "$tree" \
        --arg redis "$redis_version" \
        '. + {load_before: ($before | tonumber), load_after: ($after | tonumber),
              tree: $tree, redis_version: $redis}' "$work/case.json" > "$json"
      jq -r '
        def r($n): . * $n | round / $n;
        [.mode, .servers, .channels, .published, (.publish_rate | r(1)), .deliveries, .lost,
         (if .complete then .drain_s else "incomplete" end), (.redis_cpu_s | r(1000)),
         (.redis_cpu_us_per_message | r(10)),
         (if .deliveries > 0 then (.redis_cpu_us_per_delivery | r(10)) else "-" end),
         (if .deliveries > 0 then (.redis_output_bytes_per_delivery | r(1)) else "-" end),
         (.redis_input_bytes_per_message | r(1)),
         (if .stream_reads > 0 then (.deliveries_per_read | r(100)) else "-" end),
         (if .deliveries > 0 then (.follower_cpu_us_per_delivery | r(10)) else "-" end),
         (.latency_us.p50 / 1000 | r(100)), (.latency_us.p99 / 1000 | r(100)),
         (.latency_us.max / 1000 | r(100)), "\(.load_before)/\(.load_after)"] | @tsv' \
        "$json" | tee -a "$out/summary.tsv" >&2
    done
  done
done

plot_chart
say "JSON and summary.tsv in $out"
exit $failed
