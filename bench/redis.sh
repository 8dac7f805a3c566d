#!/usr/bin/env bash
# Live push across two servers that share a channel through Redis (c10k serve --redis, see
# src/push/backplane.hpp): a redis-server with an append-only file (appendonly yes, appendfsync
# everysec) in its own temporary directory on a free port, two c10k servers A and B following it
# (epoll, one thread each; A pinned to CPU 0 and B to CPU 1 when taskset exists, Redis and the
# bench wherever), N SSE subscribers on EACH server on one channel, and one publisher on A's
# publish API at each rate. One c10k bench subscribes on both servers (subscriber i on URL
# i mod 2) and reports each server's figures apart. Per run: delivery latency p50/p99 on B (which
# gets every message through Redis) and on A, CPU per delivery of A and of B and Redis's CPU
# (utime + stime from /proc/PID/stat over the measured interval, divided by that server's
# deliveries), the bench's own CPU (% of one CPU: on a small machine it competes with the
# servers), lost and duplicated messages, and the load average beside it. Then the same
# without --redis: A alone with its N subscribers and the publisher, for CPU per delivery
# without Redis (B is not started: without Redis it would share nothing).
#
# --restart adds one run at the highest rate in which Redis is killed (SIGKILL) a third of the
# way into the measured interval and started again --pause seconds later with the same
# append-only file: messages accepted (200), publishes refused (503) during the outage, messages
# lost at subscribers (goal 0), and the time from the restart until every subscriber had the
# first message accepted after it. Each subscriber receives its channel's messages in order, so
# once it has that message it also has every message accepted before; with nothing lost, that
# is when every subscriber has every accepted message. The figure comes from the bench's JSON
# timeline (push.messages: each message's send time, last receipt and receipts).
#
# usage: bench/redis.sh [--subscribers N] [--rates "1 10"] [--duration S] [--warmup S]
#                       [--message-size B] [--binary PATH] [--out DIR] [--restart]
#                       [--restart-duration S] [--pause S] [--only redis|alone|restart]
# Defaults: 5000 subscribers per server, rates "1 10", 30 s measured after 5 s of warm-up, the
# restart run 30 s, a 2 s outage. --only runs one kind of run (e.g. --only restart).
#
# Everything listens on 127.0.0.1 only; what this script starts is stopped by PID when it ends.
# The raw JSON of every run, the servers' logs and summary.tsv are kept in --out.
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=5000 rates="1 10" duration=30 warmup=5 message_size=200 binary=build/c10k out=""
restart=0 restart_duration=30 pause=2 only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --subscribers) subscribers=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --message-size) message_size=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --restart) restart=1; shift ;;
    --restart-duration) restart_duration=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
  esac
done
case "$only" in
  "") ;;
  redis|alone) ;;
  restart) restart=1 ;;
  *) echo "--only: redis, alone or restart, not '$only'" >&2; exit 2 ;;
esac
for tool in jq redis-server redis-cli curl; do
  command -v $tool > /dev/null || { echo "bench/redis.sh needs $tool" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "no c10k binary at $binary (build it, or pass --binary)" >&2; exit 2; }
if [ "$restart_duration" -lt $((3 * pause + 6)) ]; then
  echo "--restart-duration must leave time after the outage: at least $((3 * pause + 6)) s" >&2
  exit 2
fi
root=$(pwd)/examples/site
out=${out:-$(mktemp -d -t c10k-redis.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d -t c10k-redis-work.XXXXXX)
hz=$(getconf CLK_TCK)
pinning=0
command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ] && pinning=1

# Everything started here, by PID; stopped at exit whatever happened.
started=()
stop_pid() {  # PID: TERM, then KILL after 5 s
  local pid=$1
  kill "$pid" 2> /dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2> /dev/null || { wait "$pid" 2> /dev/null || true; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}
cleanup() {
  local pid
  for pid in "${started[@]}"; do stop_pid "$pid"; done
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "# $(date +%T) $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

# A port nothing listens on now, from $1 up.
free_port() {
  local p=$1
  while (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; do p=$((p + 1)); done
  echo "$p"
}

# Ports for Redis, A and B (public and publish), picked once.
redis_port=$(free_port 16379)
a_port=$(free_port 18180)
a_pub=$(free_port $((a_port + 1)))
b_port=$(free_port $((a_pub + 1)))
b_pub=$(free_port $((b_port + 1)))
channel=bench

# Starts redis-server in $1 (its directory, kept between a kill and the restart) and waits
# until it answers PING; sets redis_pid.
start_redis() {
  local dir=$1
  mkdir -p "$dir"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
    --appendfsync everysec --save "" --daemonize no --logfile "$dir/redis.log" &
  redis_pid=$!
  started+=("$redis_pid")
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$redis_port" ping 2> /dev/null)" = PONG ] && return 0
    kill -0 "$redis_pid" 2> /dev/null || break
    sleep 0.05
  done
  echo "redis-server did not start; its log:" >&2
  cat "$dir/redis.log" >&2
  exit 1
}

# Starts `c10k serve` NAME on CPU, public PORT, publish PUB, then extra flags; prints its PID
# once its public port answers.
start_c10k() {
  local name=$1 cpu=$2 port=$3 pub=$4; shift 4
  local pin=()
  [ $pinning -eq 1 ] && pin=(taskset -c "$cpu")
  "${pin[@]}" "$binary" serve --engine epoll --threads 1 --root "$root" \
    --listen "127.0.0.1:$port" --publish-listen "127.0.0.1:$pub" --push /live/ "$@" \
    > "$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/bench/128.txt" && break
    kill -0 "$pid" 2> /dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "$pid"
}

# utime + stime (clock ticks) of one process, all its threads; 0 once it is gone.
ticks() {
  local f
  { read -r -a f < "/proc/$1/stat"; } 2> /dev/null || { echo 0; return; }
  echo $((f[13] + f[14]))
}

# In the background while the bench runs: "time_us ticks..." for the given PIDs (the servers,
# Redis, the bench itself: a bench short of CPU shows as latency too) every 0.2 s.
# A restarted Redis is a new PID: the sampler reads the current one from $work/redis.pid.
sample_cpu() {  # file PID...
  local file=$1; shift
  local line pid
  while :; do
    line=$(now_us)
    for pid in "$@"; do
      [ "$pid" = redis ] && pid=$(cat "$work/redis.pid" 2> /dev/null || echo 0)
      line="$line $(ticks "$pid")"
    done
    echo "$line" >> "$file"
    sleep 0.2
  done
}

# CPU seconds of column COL of a sample file between two times (us), each end interpolated
# between the samples around it. A process restarted in between (Redis) starts again from 0:
# a drop is taken as a new process, and the counts before and after are added.
cpu_between() {  # file col from_us to_us
  awk -v c="$2" -v from="$3" -v to="$4" -v hz="$hz" '
    function at(t,   i) {  # interpolated cumulative ticks at time t
      if (t <= time[1]) return cum[1]
      for (i = 2; i <= n; i++) if (time[i] >= t)
        return cum[i - 1] + (cum[i] - cum[i - 1]) * (t - time[i - 1]) / (time[i] - time[i - 1])
      return cum[n]
    }
    { n++; time[n] = $1; v = $(c + 1)
      if (n > 1) cum[n] = cum[n - 1] + (v >= last ? v - last : v)
      else cum[n] = 0
      last = v }
    END { printf "%.3f\n", n ? (at(to) - at(from)) / hz : 0 }' "$1"
}

# The bench, in the background; sets bench_pid. URLs and publish URL given.
run_bench() {  # json subscribers rate duration url...
  local json=$1 count=$2 rate=$3 seconds=$4; shift 4
  "$binary" bench -q --sse "$count" "$@" \
    --publish "http://127.0.0.1:$a_pub/pub/$channel" --publish-rate "$rate" \
    --message-size "$message_size" --connect-rate 5000 -d "${seconds}s" --warmup "${warmup}s" \
    --timeout 15s --json "$json" > "$json.txt" 2>&1 &
  bench_pid=$!
}

# Waits (at most 60 s) until a server's channel counts N subscribers.
wait_subscribed() {  # publish-port N
  local info
  for _ in $(seq 1 600); do
    info=$(curl -s --max-time 1 "http://127.0.0.1:$1/pub/$channel" || true)
    [[ "$info" == *"\"subscribers\":$2,"* ]] && return 0
    sleep 0.1
  done
  say "warning: the channel on :$1 never counted $2 subscribers ($info)"
}

# The figures of one finished run as key=value lines: per server (index 0 = A, 1 = B) its
# deliveries, latency, lost and duplicated, and CPU per delivery over the measured interval.
# The interval starts with the first counted message's t= (the warm-up is a whole number of
# publish periods) and lasts duration_s.
figures() {  # json samples pids-order (e.g. "a b redis")
  local json=$1 samples=$2 order=$3
  local start_us end_us
  start_us=$(jq '[.push.messages[]?[1]] | min // 0' "$json")
  end_us=$(jq --argjson s "$start_us" '$s + .duration_s * 1e6 | floor' "$json")
  local col=1 name cpu
  for name in $order; do
    cpu=$(cpu_between "$samples" $col "$start_us" "$end_us")
    echo "cpu_$name=$cpu"
    col=$((col + 1))
  done
}

columns=(run rate subs/server connected delivered_A delivered_B lost_A lost_B dup p50_A_ms p99_A_ms
  p50_B_ms p99_B_ms cpu_us/deliv_A cpu_us/deliv_B redis_cpu_s redis_us/deliv bench_cpu_% accepted
  refused_503 load rc)
row() {  # run rate json cpu_a cpu_b cpu_redis cpu_bench load rc
  jq -r --arg run "$1" --arg rate "$2" --arg subs "$subscribers" --argjson ca "$4" \
    --argjson cb "$5" --arg cr "$6" --argjson cc "$7" --arg load "$8" --arg rc "$9" '
    def ms: if . == null then "-" else (. / 10 | round / 100) end;
    def per($cpu; $d): if $d > 0 and $cpu != null then ($cpu * 1e6 / $d * 100 | round / 100)
                       else "-" end;
    .push as $p | $p.targets[0] as $a | ($p.targets[1] // null) as $b |
    [$run, $rate, $subs, $p.subscribers.connected, $a.deliveries, ($b.deliveries // "-"),
     $a.lost.total, ($b.lost.total // "-"), $p.duplicated,
     ($a.latency_us.p50 | ms), ($a.latency_us.p99 | ms),
     ($b.latency_us.p50 // null | ms), ($b.latency_us.p99 // null | ms),
     per($ca; $a.deliveries), (if $b == null then "-" else per($cb; $b.deliveries) end),
     $cr, (if $cr == "-" then "-" else per($cr | tonumber; $p.deliveries) end),
     ($cc / .duration_s * 100 | round), $p.publish.acknowledged,
     ($p.publish.error_status["503"] // 0), $load, $rc] | @tsv' "$3"
}

# One run with Redis: A and B follow a fresh Redis; N subscribers on each; publish on A.
# With "restart", Redis is killed a third of the way into the measured interval and started
# again after --pause seconds.
redis_run() {  # rate json [restart]
  local rate=$1 json=$2 kind=${3:-}
  local seconds=$duration
  [ "$kind" = restart ] && seconds=$restart_duration
  local name dir
  name=$(basename "$json" .json)
  dir="$work/redis-$name"
  start_redis "$dir"
  echo "$redis_pid" > "$work/redis.pid"
  local a b load rc=0
  a=$(start_c10k "A-$name" 0 "$a_port" "$a_pub" --redis "redis://127.0.0.1:$redis_port") || exit 1
  started+=("$a")
  b=$(start_c10k "B-$name" 1 "$b_port" "$b_pub" --redis "redis://127.0.0.1:$redis_port") || exit 1
  started+=("$b")
  load=$(load1)
  say "$kind${kind:+ }run at $rate msg/s: $subscribers subscribers on A (:$a_port) and on B" \
    "(:$b_port), Redis :$redis_port, ${warmup}s warm-up + ${seconds}s"
  run_bench "$json" $((2 * subscribers)) "$rate" "$seconds" \
    "http://127.0.0.1:$a_port/live/$channel" "http://127.0.0.1:$b_port/live/$channel"
  local samples="$json.cpu"
  : > "$samples"
  sample_cpu "$samples" "$a" "$b" redis "$bench_pid" &
  local sampler=$!
  started+=("$sampler")
  if [ "$kind" = restart ]; then
    wait_subscribed "$a_pub" "$subscribers"
    wait_subscribed "$b_pub" "$subscribers"
    # The bench starts once every subscriber is subscribed: a third of the measured interval
    # after its warm-up, Redis is killed.
    sleep "$(awk -v w="$warmup" -v d="$seconds" 'BEGIN {print w + d / 3}')"
    local killed_us restarted_us ping_us
    killed_us=$(now_us)
    kill -9 "$redis_pid"
    wait "$redis_pid" 2> /dev/null || true
    say "Redis killed (SIGKILL); starting it again in ${pause}s with its append-only file"
    sleep "$pause"
    restarted_us=$(now_us)
    start_redis "$dir"
    ping_us=$(now_us)
    echo "$redis_pid" > "$work/redis.pid"
    echo "$killed_us $restarted_us $ping_us" > "$json.restart"
    say "Redis answers again $(((ping_us - restarted_us) / 1000)) ms after its start"
  fi
  wait "$bench_pid" || rc=$?
  kill "$sampler" 2> /dev/null || true
  wait "$sampler" 2> /dev/null || true
  stop_pid "$a"; stop_pid "$b"; stop_pid "$redis_pid"
  cp "$work/A-$name.log" "$work/B-$name.log" "$out/" 2> /dev/null || true
  cp "$dir/redis.log" "$json.redis.log" 2> /dev/null || true
  echo "$load/$(load1) $rc" > "$json.load"
  [ -s "$json" ] || { say "the bench wrote no JSON (exit $rc):"; cat "$json.txt" >&2; return 0; }
  local cpu_a cpu_b cpu_redis cpu_bench
  eval "$(figures "$json" "$samples" "a b redis bench")"
  row "${kind:-redis}" "$rate" "$json" "$cpu_a" "$cpu_b" "$cpu_redis" "$cpu_bench" \
    "$load/$(load1)" "$rc" | tee -a "$out/summary.tsv"
}

# One run without Redis: A alone, its N subscribers and the publisher.
alone_run() {  # rate json
  local rate=$1 json=$2 a load rc=0
  a=$(start_c10k "A-$(basename "$json" .json)" 0 "$a_port" "$a_pub") || exit 1
  started+=("$a")
  load=$(load1)
  say "run without Redis at $rate msg/s: $subscribers subscribers on A alone"
  run_bench "$json" "$subscribers" "$rate" "$duration" "http://127.0.0.1:$a_port/live/$channel"
  local samples="$json.cpu"
  : > "$samples"
  sample_cpu "$samples" "$a" "$bench_pid" &
  local sampler=$!
  started+=("$sampler")
  wait "$bench_pid" || rc=$?
  kill "$sampler" 2> /dev/null || true
  wait "$sampler" 2> /dev/null || true
  stop_pid "$a"
  echo "$load/$(load1) $rc" > "$json.load"
  [ -s "$json" ] || { say "the bench wrote no JSON (exit $rc):"; cat "$json.txt" >&2; return 0; }
  local cpu_a cpu_bench
  eval "$(figures "$json" "$samples" "a bench")"
  row alone "$rate" "$json" "$cpu_a" null - "$cpu_bench" "$load/$(load1)" "$rc" |
    tee -a "$out/summary.tsv"
}

# The restart run's own lines: what was accepted, refused and lost, and how long after the
# restart every subscriber had the first message accepted after it.
restart_report() {  # json
  local json=$1 killed restarted ping
  read -r killed restarted ping < "$json.restart"
  jq -r --argjson killed "$killed" --argjson restarted "$restarted" --argjson ping "$ping" '
    def ms: . / 100 | round / 10;
    .push as $p | ($p.publish.error_status["503"] // 0) as $refused |
    ([$p.messages[]? | select(.[5] and .[1] >= $restarted)] | sort_by(.[1]) | .[0]) as $first |
    "# restart: Redis down \($restarted - $killed | ms) ms; it answered PING" +
      " \($ping - $restarted | ms) ms after its start",
    "# restart: publishes accepted (200) \($p.publish.acknowledged), refused (503)" +
      " \($refused), other errors \($p.publish.errors - $refused)",
    "# restart: lost at subscribers \($p.lost.total) (A \($p.targets[0].lost.total)," +
      " B \($p.targets[1].lost.total)), duplicated \($p.duplicated), history-lost" +
      " \($p.history_lost), reconnects \($p.subscribers.reconnects)",
    if $first == null then "# restart: no message accepted after the restart was delivered"
    else "# restart: first message accepted after the restart: sent" +
      " \($first[1] - $restarted | ms) ms after it, at every subscriber (\($first[4]) of" +
      " \($p.subscribers.connected)) \($first[3] - $restarted | ms) ms after it" end,
    "# restart: slowest delivery of the run (receipt - t=): \($p.latency_us.max | ms) ms"
  ' "$json"
}

tree=$(git rev-parse --short HEAD 2> /dev/null || echo '?')
git diff --quiet 2> /dev/null || tree="$tree (tree with uncommitted changes)"
{
  echo "# binary $binary; tree at $tree, $(nproc) CPUs, $(uname -r), Redis $(redis-server --version |
    sed 's/.*v=\([^ ]*\).*/\1/'), $(date -u +%FT%TZ)"
  echo "# $subscribers SSE subscribers per server, $message_size-byte messages, ${warmup}s" \
    "warm-up + ${duration}s measured; A on CPU 0, B on CPU 1 (pinned: $pinning); CPU from" \
    "/proc/PID/stat at $hz ticks/s"
  (IFS=$'\t'; echo "${columns[*]}")
} | tee "$out/summary.tsv"
for rate in $rates; do
  if [ -z "$only" ] || [ "$only" = redis ]; then
    redis_run "$rate" "$out/redis-${rate}mps.json"
  fi
  if [ -z "$only" ] || [ "$only" = alone ]; then
    alone_run "$rate" "$out/alone-${rate}mps.json"
  fi
done
if [ $restart -eq 1 ]; then
  # shellcheck disable=SC2086 # one rate per word
  high=$(printf '%s\n' $rates | sort -g | tail -1)
  json="$out/restart-${high}mps.json"
  redis_run "$high" "$json" restart
  [ -s "$json" ] && restart_report "$json" | tee -a "$out/summary.tsv"
fi
echo "JSON and summary in $out"
