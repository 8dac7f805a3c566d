#!/usr/bin/env bash
# C1M on one machine (issue 16): c10k serve and c10k bench hold N established keep-alive
# connections on loopback, and the script reports what one connection costs. One process may
# hold only as many descriptors as the hard RLIMIT_NOFILE allows, so the server runs
# --processes (SO_REUSEPORT listeners, about 17,800 connections each under a 20,000 limit: serve
# keeps 1/16 of its descriptors in reserve) and c10k bench spreads its connections over worker
# processes and 127.0.0.x source addresses on its own (src/bench/layout.cpp).
#
# Steps: check the kernel limits the run depends on (as root, raise those that are too low and
# restore them at exit; otherwise say what is needed and stop); start the server; open the
# connections, with a progress line from the server's own count (its /metrics); hold them for
# --hold s at a light request rate (--rate, default one request per connection per 100 s);
# sample memory and CPU halfway through the hold; report. --sse: the connections are SSE
# subscribers of one channel, and a message is published every 10 s.
#
# The report: memory per connection for the server (PSS growth of all its processes), the client
# (PSS of the bench processes) and the kernel (growth of Slab in /proc/meminfo and of the TCP
# pages in /proc/net/sockstat: both ends of each loopback connection), as a budget table; the
# connect rate; CPU of both sides; errors. docs/MILLION.md describes the method and the limits.
# The raw files (bench.json, bench.out, server.log, summary.txt) go to --out. The last line is
#   N connections held for S s, E errors
# Exit status: 0 when every connection was held without an error, 1 otherwise, 2 for bad options
# or limits too low for the count (run as root to have them raised).
#
# usage: bench/million.sh [--connections N] [--hold S] [--processes P] [--rate R] [--sse]
#                         [--message-size B] [--sndbuf SIZE] [--rcvbuf SIZE]
#                         [--port PORT] [--binary PATH] [--out DIR] [--limits-only]
#   --connections N  connections to hold (default 1000000)
#   --hold S         seconds to hold them once all are open (default 60)
#   --processes P    server processes (default: enough for the count, see above)
#   --rate R         requests/s over all connections while holding (default N/100); not --sse
#   --sse            SSE subscribers of one channel instead, one publish every 10 s
#   --message-size B --sse: bytes per message (default 200); a large one is a burst that
#                    fills every subscriber's socket buffers at once (see "peak" below)
#   --sndbuf SIZE    SO_SNDBUF of every connection, both ends (c10k serve and c10k bench
#                    --sndbuf): bytes, or with k or m, e.g. 16k (default: the kernel's)
#   --rcvbuf SIZE    SO_RCVBUF of every connection, both ends, likewise (default: the kernel's)
#   --port PORT      the server's port; PORT+1 takes publishes, PORT+2 serves /metrics
#                    (default 18080)
#   --binary PATH    the c10k binary (default build/c10k)
#   --out DIR        where the raw files go (default a new temporary directory, kept)
#   --limits-only    check (as root: raise, then restore) the limits for N, and stop there
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

connections=1000000 hold=60 processes="" rate="" sse=0 port=18080 binary=build/c10k out=""
limits_only=0 sndbuf="" rcvbuf="" message_size=""
while [ $# -gt 0 ]; do
  case "$1" in
    --connections|--hold|--processes|--rate|--sndbuf|--rcvbuf|--message-size|--port|--binary|--out)
      [ $# -ge 2 ] || { echo "$1 needs a value (see --help)" >&2; exit 2; } ;;&
    --connections) connections=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --sse) sse=1; shift ;;
    --message-size) message_size=$2; shift 2 ;;
    --sndbuf) sndbuf=$2; shift 2 ;;
    --rcvbuf) rcvbuf=$2; shift 2 ;;
    --limits-only) limits_only=1; shift ;;
    --port) port=$2; shift 2 ;;
    --binary) binary=$2; [[ $binary = /* ]] || binary=$caller/$binary; shift 2 ;;
    --out) out=$2; [[ $out = /* ]] || out=$caller/$out; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
whole() {  # NAME VALUE MIN: a whole number of at least MIN, or a message and exit 2
  [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] && return 0
  echo "$1 must be a whole number of at least $3, not '$2'" >&2
  exit 2
}
whole --connections "$connections" 1
whole --hold "$hold" 1
whole --port "$port" 1
[ "$port" -le 65533 ] || { echo "--port must leave PORT+2 below 65536" >&2; exit 2; }
[ -z "$processes" ] || whole --processes "$processes" 1
if [ -n "$message_size" ]; then
  [ $sse -eq 1 ] || { echo "--message-size is for --sse runs (what each publish carries)" >&2; exit 2; }
  whole --message-size "$message_size" 16
fi
buffer_flags=()  # the same sizes for both programs: each end of a connection is one of theirs
for flag in sndbuf rcvbuf; do
  size=${!flag}
  [ -n "$size" ] || continue
  if ! [[ $size =~ ^[0-9]+[kKmM]?$ ]] || [[ $size =~ ^0+[kKmM]?$ ]]; then
    echo "--$flag must be a size in bytes above 0 (e.g. 65536, 64k or 4m), not '$size'" >&2
    exit 2
  fi
  buffer_flags+=("--$flag" "$size")
done
if [ -n "$rate" ]; then
  [ $sse -eq 0 ] || { echo "--rate is for request runs; --sse publishes every 10 s" >&2; exit 2; }
  if ! [[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v r="$rate" 'BEGIN {exit !(r > 0)}'; then
    echo "--rate must be a positive number of requests/s, not '$rate'" >&2
    exit 2
  fi
else
  rate=$(awk -v n="$connections" 'BEGIN {r = n / 100; if (r < 1) r = 1; print r}')
fi
for tool in jq curl ss awk; do
  command -v $tool > /dev/null || { echo "bench/million.sh needs $tool" >&2; exit 2; }
done
[ -x "$binary" ] || { echo "no c10k binary at $binary (build it, or pass --binary)" >&2; exit 2; }
# serve listens with SO_REUSEPORT: a server already on the port would share the connections.
for p in $port $((port + 1)) $((port + 2)); do
  if [ -n "$(ss -Hltn "sport = :$p")" ]; then
    echo "port $p is in use; pass --port PORT with PORT, PORT+1 and PORT+2 free" >&2
    exit 2
  fi
done
drop_out=0  # --limits-only without --out leaves nothing behind
if [ -z "$out" ]; then
  out=$(mktemp -d -t c10k-million.XXXXXX)
  drop_out=$limits_only
fi
mkdir -p "$out"
rm -f "$out/summary.txt"
# shellcheck source=bench/servers.sh
requested_port=$port
source bench/servers.sh  # $root, $work (its exit trap is replaced below)
port=$requested_port     # servers.sh sets its own default port, which is not --port
publish_port=$((port + 1)) admin_port=$((port + 2))
tick=$(getconf CLK_TCK)
say() { echo "$*" | tee -a "$out/summary.txt"; }

# Stops what the script started, then puts back the limits it raised.
restore=() missing=() checked=() server_children=""
cleanup() {
  local p i
  for p in ${sampler_pid:-} ${bench_pid:-} ${server_pid:-}; do kill -TERM "$p" 2>/dev/null || true; done
  for p in ${bench_pid:-} ${server_pid:-} $server_children; do
    for i in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for ((i = ${#restore[@]} - 1; i >= 0; i--)); do
    echo "${restore[i]#*=}" > "$(sysctl_path "${restore[i]%%=*}")" &&
      echo "limit ${restore[i]%%=*} restored to ${restore[i]#*=}" >&2
  done
  restore=() bench_pid="" server_pid="" server_children="" sampler_pid=""
  rm -rf "$work"
  [ "$drop_out" -eq 0 ] || rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- limits ----------------------------------------------------------------------------------
# Raised only as root, each printed with the value it had; restored at exit, after the
# connections are gone.
sysctl_path() { echo "/proc/sys/${1//.//}"; }
sysctl_get() { tr -s '\t ' ' ' < "$(sysctl_path "$1")"; }
raise() {  # KEY VALUE WHY
  local old
  old=$(sysctl_get "$1")
  if [ "$(id -u)" -eq 0 ]; then
    echo "$2" > "$(sysctl_path "$1")" || { echo "cannot set $1 to $2" >&2; exit 2; }
    restore+=("$1=$old")
    say "limit $1: $old -> $2 ($3; restored at exit)"
  else
    missing+=("sysctl -w $1='$2'   # now $old; $3")
  fi
}

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
[ "$hard" -ge 2000 ] || { echo "the hard descriptor limit is $hard; raise it (ulimit -Hn, limits.conf) to 20000 or more" >&2; exit 2; }
ulimit -Sn "$hard"  # serve reads the soft limit; c10k bench raises its own
# serve refuses connections that would eat into the last 1/16 of its descriptors
# (src/engine/admission.cpp); a further 5% covers SO_REUSEPORT's uneven spread.
ceiling=$((hard - (hard / 16 > 16 ? hard / 16 : 16)))
per_server=$((ceiling - ceiling / 20))
[ -n "$processes" ] || processes=$(((connections + per_server - 1) / per_server))
if [ $(((connections + processes - 1) / processes)) -gt "$per_server" ]; then
  echo "--processes $processes: $((connections / processes)) connections each is more than one" \
    "process may hold under a descriptor limit of $hard (about $per_server); use" \
    "--processes $(((connections + per_server - 1) / per_server)) or more" >&2
  exit 2
fi
client_processes=$(((connections + hard - 65) / (hard - 64)))  # what c10k bench will fork

read -r fd_used _ _ < /proc/sys/fs/file-nr
need=$((fd_used + 2 * connections + 200 * (processes + client_processes) + 10000))
checked+=("fs.file-max $(sysctl_get fs.file-max) (needs $need)")
[ "$(sysctl_get fs.file-max)" -ge "$need" ] ||
  raise fs.file-max "$need" "both ends of every connection are descriptors"
checked+=("fs.nr_open $(sysctl_get fs.nr_open) (needs $hard)")
[ "$(sysctl_get fs.nr_open)" -ge "$hard" ] ||
  raise fs.nr_open "$hard" "no process may have more descriptors than this"
# TCP buffer memory, in pages for all sockets: past the third value allocations fail and
# connections are dropped. An idle connection holds next to none (0 B measured at 100,000; an
# SSE subscriber about 140 B), so a quarter page per connection is ample headroom for the
# requests in flight; pressure at three quarters of it.
read -r mem_low mem_pressure mem_high <<< "$(sysctl_get net.ipv4.tcp_mem)"
mem_need=$((connections / 4))
checked+=("net.ipv4.tcp_mem $mem_low $mem_pressure $mem_high pages (the last needs $mem_need)")
if [ "$mem_high" -lt "$mem_need" ]; then
  raise net.ipv4.tcp_mem "$((mem_low > mem_need / 2 ? mem_low : mem_need / 2)) $((mem_pressure > mem_need * 3 / 4 ? mem_pressure : mem_need * 3 / 4)) $mem_need" \
    "TCP buffer pages for all sockets, 1 KB per connection"
fi
if [ -e "$(sysctl_path net.netfilter.nf_conntrack_max)" ]; then
  tracked=$(sysctl_get net.netfilter.nf_conntrack_count)
  need=$((tracked + connections + connections / 10 + 1000))
  checked+=("net.netfilter.nf_conntrack_max $(sysctl_get net.netfilter.nf_conntrack_max) (needs $need)")
  [ "$(sysctl_get net.netfilter.nf_conntrack_max)" -ge "$need" ] ||
    raise net.netfilter.nf_conntrack_max "$need" "conntrack is loaded and tracks loopback connections too"
fi
# The server listens with a backlog of 4096, which the kernel caps at somaxconn.
checked+=("net.core.somaxconn $(sysctl_get net.core.somaxconn) (needs 4096)")
[ "$(sysctl_get net.core.somaxconn)" -ge 4096 ] ||
  raise net.core.somaxconn 4096 "listen backlog for the connect burst"
read -r port_low port_high <<< "$(sysctl_get net.ipv4.ip_local_port_range)"
# c10k bench uses a quarter of the range per source address (src/bench/layout.cpp); the
# addresses of 127.0.0.0/8 are plenty, so the range is left as it is.
sources=$(((connections + (port_high - port_low + 1) / 4 - 1) / ((port_high - port_low + 1) / 4)))
checked+=("net.ipv4.ip_local_port_range $port_low $port_high ($sources source addresses)")

if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/million.sh: $connections connections need kernel limits raised; as root this" \
    "script raises them (and restores them at exit), or run:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 2
fi
say "limits: descriptors per process $hard; $(printf '%s; ' "${checked[@]}" | sed 's/; $//')"
mem_available=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
# About 10 KB per connection for both sides and the kernel together (docs/MILLION.md).
if [ "$mem_available" -lt $((connections * 10)) ]; then
  say "warning: $((mem_available / 1024)) MB available; $connections connections want about $((connections * 10 / 1024)) MB"
fi

if [ $limits_only -eq 1 ]; then
  say "the limits suffice for $connections connections$([ ${#restore[@]} -eq 0 ] || echo " (as raised)")"
  exit 0
fi

mode="keep-alive connections at $rate requests/s in all"
[ $sse -eq 0 ] || mode="SSE subscribers of one channel, a publish every 10 s"
say "c1m: $connections $mode, held $hold s; server $processes processes, client" \
  "$client_processes processes over $sources source addresses; descriptor limit $hard"

# --- server ----------------------------------------------------------------------------------
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
tcp_pages() { awk '/^TCP:/ {for (i = 1; i < NF; i++) if ($i == "mem") print $(i + 1)}' /proc/net/sockstat; }
tcp_inuse() { awk '/^TCP:/ {print $3}' /proc/net/sockstat; }
# ROOT...: for each root, "TICKS RSS_KB PROCESSES PSS_KB" of its process tree (utime+stime of
# the processes and their reaped children, resident memory, count, proportional resident
# memory), from one read of every /proc/PID/stat and the tree's smaps_rollup. One pass, not a
# pgrep and an awk per process: with a million subscribers' fan-out on both cores, a few
# hundred short processes took over a minute. PSS is what the budget uses: forked workers
# share their parent's pages (c10k bench's parent holds the whole connection plan when it
# forks), and RSS counts each shared page once in every process that maps it.
tree_sample() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$*" -v page_kb=$(($(getconf PAGESIZE) / 1024)) '
    {
      pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")  # comm may hold spaces
      parent[pid] = f[2]; ticks[pid] = f[12] + f[13] + f[14] + f[15]; rss[pid] = f[22] * page_kb
    }
    END {
      n = split(roots, root, " ")
      for (i = 1; i <= n; i++) {
        t = 0; r = 0; c = 0
        for (p in parent) {
          for (q = p; q != "" && q != 0 && q != root[i]; q = parent[q]) {}
          if (q == root[i]) {
            t += ticks[p]; r += rss[p]; c++
            file = "/proc/" p "/smaps_rollup"
            while ((getline line < file) > 0) if (line ~ /^Pss:/) { split(line, w, " "); pss += w[2] }
            close(file)
          }
        }
        print t, r, c, pss; pss = 0
      }
    }'
}
pss_kb() { tree_sample "$1" | awk '{print $4}'; }  # PSS of a process tree, KB
server_open() {  # connections open in all server processes, the metrics request left out
  curl -s --max-time 5 "http://127.0.0.1:$admin_port/metrics" |
    awk '/^c10k_connections\{/ {n += $2} END {print (n > 0 ? n - 1 : 0)}'
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }

# Which slab caches the Slab growth is made of, where /proc/slabinfo is readable (root).
slab_caches() { awk 'NR > 2 {print $1, $3 * $4}' /proc/slabinfo 2>/dev/null || true; }
slab0=$(slab_kb) pages0=$(tcp_pages) inuse0=$(tcp_inuse)
slab_caches > "$work/slabinfo0"
push_flags=()
[ $sse -eq 0 ] || push_flags=(--push /live/ --publish-listen "127.0.0.1:$publish_port")
# Idle connections must outlive the ramp and the hold: the keep-alive timeout is an hour more.
"$binary" serve --engine epoll --processes "$processes" --threads 1 --root "$root" \
  --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$admin_port" \
  --keepalive-timeout "$((hold + 3600))s" "${push_flags[@]}" "${buffer_flags[@]}" \
  > "$out/server.log" 2>&1 &
server_pid=$!
# Ready when every process listens: SO_REUSEPORT deals connections only to listeners that
# exist, and a process that started late would leave its share to the others.
for i in $(seq 1 300); do
  listeners=$(ss -Hltn "sport = :$port" | wc -l)
  [ "$listeners" -ge "$processes" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$admin_port/metrics" && break
  kill -0 $server_pid 2>/dev/null || { echo "c10k serve exited:" >&2; cat "$out/server.log" >&2; exit 1; }
  [ "$i" -lt 300 ] || { echo "c10k serve did not listen in 30 s:" >&2; cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
server_rss0=$(pss_kb $server_pid)
server_children=$(pgrep -P $server_pid | tr "\n" " " || true)  # stopped by pid should the parent not

# --- ramp ------------------------------------------------------------------------------------
url="http://127.0.0.1:$port/bench/128.txt"
if [ $sse -eq 0 ]; then
  bench_args=(--connections "$connections" --rate "$rate" "$url")
else
  bench_args=(--sse "$connections" "http://127.0.0.1:$port/live/million"
    --publish "http://127.0.0.1:$publish_port/pub/million" --publish-rate 0.1 --message-size "${message_size:-200}")
fi
t0=$(now) server_ticks0=$(tree_sample $server_pid | awk '{print $1}')
"$binary" bench "${bench_args[@]}" "${buffer_flags[@]}" -d "${hold}s" --connect-timeout 30s \
  --timeout 10s --server-pid $server_pid --json "$out/bench.json" -q > "$out/bench.out" 2>&1 &
bench_pid=$!
tty=0
[ -t 2 ] && tty=1
last=-1 last_change=$t0 last_print=0 ramp_done="" open=0
while kill -0 $bench_pid 2>/dev/null; do
  open=$(server_open) t=$(now)
  line="opening: $open of $connections open after $(elapsed "$t0" "$t") s ($(awk -v n="$open" -v a="$t0" -v b="$t" 'BEGIN {printf "%.0f", n / (b - a)}') connections/s)"
  if [ $tty -eq 1 ]; then
    printf '\r%s ' "$line" >&2
  elif awk -v a="$last_print" -v b="$t" 'BEGIN {exit !(b - a >= 2)}'; then
    echo "$line" >&2
    last_print=$t
  fi
  if [ "$open" -ge "$connections" ]; then ramp_done=$t; break; fi
  if [ "$open" -ne "$last" ]; then
    last=$open last_change=$t
  elif awk -v a="$last_change" -v b="$t" 'BEGIN {exit !(b - a >= 60)}'; then
    echo "opening stalled at $open connections for 60 s" >&2
    break
  fi
  sleep 0.5
done
[ $tty -eq 0 ] || echo >&2
# The TCP buffer memory of all sockets at its highest while holding, sampled five times a
# second: the mid-hold sample finds idle connections' buffers empty, but a publish fills every
# subscriber's at once, and that burst is what SO_SNDBUF/SO_RCVBUF bound.
if [ -n "$ramp_done" ]; then
  # The first publish comes now, and a million subscribers' fan-out keeps both cores busy for
  # seconds at a time: the samples (short processes reading /proc) must not queue behind it
  # until the hold is over. Root may raise this shell's priority, which its children inherit.
  [ "$(id -u)" -ne 0 ] || renice -n -10 -p $$ > /dev/null 2>&1 || true
  (
    peak=$(tcp_pages)
    echo "$peak" > "$work/tcp_peak"
    while kill -0 $bench_pid 2>/dev/null; do
      now_pages=$(tcp_pages)
      [ "$now_pages" -le "$peak" ] || { peak=$now_pages; echo "$peak" > "$work/tcp_peak"; }
      sleep 0.2
    done
  ) &
  sampler_pid=$!
fi
bench_procs=0 client_rss=0 server_rss=$server_rss0 slab1=$slab0 pages1=$pages0 inuse1=$inuse0
if [ -n "$ramp_done" ]; then
  ramp_s=$(elapsed "$t0" "$ramp_done")
  { read -r server_ticks1 _ _; read -r bench_ticks1 _ _; } < <(tree_sample $server_pid $bench_pid)
  say "opened $connections connections in $ramp_s s: $(awk -v n="$connections" -v s="$ramp_s" 'BEGIN {printf "%.0f", n / s}') connections/s;" \
    "CPU per connect: server $(awk -v t=$((server_ticks1 - server_ticks0)) -v hz="$tick" -v n="$connections" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') us," \
    "client $(awk -v t="$bench_ticks1" -v hz="$tick" -v n="$connections" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') us"
  # --- hold: sample halfway, well before c10k bench ends its interval and closes ----------
  sleep "$(awk -v h="$hold" 'BEGIN {print h * 0.5}')"
  t2=$(now)
  { read -r server_ticks2 _ _ server_rss; read -r bench_ticks2 _ bench_procs client_rss; } \
    < <(tree_sample $server_pid $bench_pid)
  slab1=$(slab_kb) pages1=$(tcp_pages) inuse1=$(tcp_inuse) held_now=$(($(server_open) - sse))  # less the publisher
  slab_caches > "$work/slabinfo1"
  span=$(elapsed "$ramp_done" "$t2")
  say "holding: $held_now open after $span s; CPU while holding: server" \
    "$(awk -v t=$((server_ticks2 - server_ticks1)) -v hz="$tick" -v s="$span" 'BEGIN {printf "%.1f", 100 * t / hz / s}')% of a core," \
    "client $(awk -v t=$((bench_ticks2 - bench_ticks1)) -v hz="$tick" -v s="$span" 'BEGIN {printf "%.1f", 100 * t / hz / s}')% of a core"
fi
bench_rc=0
wait $bench_pid || bench_rc=$?
[ -z "${sampler_pid:-}" ] || wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
bench_pid=""
kill -TERM $server_pid 2>/dev/null || true
for i in $(seq 1 200); do kill -0 $server_pid 2>/dev/null || break; sleep 0.1; done
wait $server_pid 2>/dev/null || true
server_pid="" server_children=""

# --- report ----------------------------------------------------------------------------------
json=$out/bench.json
if [ ! -s "$json" ]; then
  echo "c10k bench exited $bench_rc without a report:" >&2
  tail -n 20 "$out/bench.out" >&2
  say "0 connections held for 0 s, $connections errors"
  exit 1
fi
[ $bench_rc -eq 0 ] || echo "c10k bench exited $bench_rc (see $out/bench.out)" >&2
jq -r '.warnings[]? | "bench warning: " + .' "$json" | tee -a "$out/summary.txt"
if [ $sse -eq 0 ]; then
  held=$(jq '.connections.open' "$json")
  errors=$(jq '.errors.total + .connections.failed' "$json")
  say "$(jq -r '"requests \(.requests) (\(.rps | floor)/s), errors \(.errors.total) " +
    "(\(.errors.by_kind | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", ") | if . == "" then "none" else . end)), " +
    "failed connects \(.connections.failed), reconnects \(.connections.reconnects), " +
    "latency p50 \(.latency_us.corrected.p50 // 0) us p99 \(.latency_us.corrected.p99 // 0) us, " +
    "server CPU \(.server.cpu_s // 0) s (\(.server.cpu_us_per_req // 0) us per request)"' "$json")"
else
  held=$(jq '.push.subscribers.open' "$json")
  errors=$(jq '.push.subscribers.failed + .push.subscribers.disconnects + .push.lost.total +
    .push.duplicated + .push.protocol_errors + (.push.publish.errors // 0)' "$json")
  say "$(jq -r '.push | "subscribers \(.subscribers.open) of \(.subscribers.target) " +
    "(failed \(.subscribers.failed), disconnects \(.subscribers.disconnects)), " +
    "published \(.publish.acknowledged // 0) acknowledged, deliveries \(.deliveries), " +
    "lost \(.lost.total), duplicated \(.duplicated), " +
    "delivery p99 \((.latency_us.p99 // 0) / 1000) ms max \((.latency_us.max // 0) / 1000) ms, " +
    "fan-out span p99 \((.fanout_span_us.p99 // 0) / 1000) ms max \((.fanout_span_us.max // 0) / 1000) ms, " +
    "server CPU \(.server_cpu_us_per_delivery // 0) us per delivery"' "$json")"
fi
seconds=$(jq '.duration_s | round' "$json")

# Bytes per connection; the kernel's part covers both sockets of a loopback connection (on two
# machines each side would carry about half).
say "per-connection memory budget at $connections connections, sampled while holding" \
  "(server PSS ${server_rss0} KB -> ${server_rss} KB over $processes processes; client PSS" \
  "$client_rss KB over $bench_procs processes; TCP sockets in use +$((inuse1 - inuse0));" \
  "socket buffers: SO_SNDBUF ${sndbuf:-kernel default}, SO_RCVBUF ${rcvbuf:-kernel default})"
awk -v n="$connections" -v s0="$server_rss0" -v s1="$server_rss" -v c="$client_rss" \
  -v k0="$slab0" -v k1="$slab1" -v p0="$pages0" -v p1="$pages1" -v page="$(getconf PAGESIZE)" '
  function row(name, b) { printf "  %-44s %10.0f %12.2f GB\n", name, b, b * 1e6 / 1e9; total += b }
  BEGIN {
    printf "  %-44s %10s %15s\n", "part", "bytes/conn", "x 1,000,000"
    row("server user space (PSS growth)", (s1 - s0) * 1024 / n)
    row("client user space (PSS, fixed costs too)", c * 1024 / n)
    row("kernel slab (both sockets; Slab growth)", (k1 - k0) * 1024 / n)
    row("kernel TCP buffers (sockstat mem growth)", (p1 - p0) * page / n)
    printf "  %-44s %10.0f %12.2f GB\n", "total", total, total * 1e6 / 1e9
  }' | tee -a "$out/summary.txt"
if [ -s "$work/tcp_peak" ]; then
  peak=$(cat "$work/tcp_peak")
  say "kernel TCP buffers at their peak while holding: $(awk -v p0="$pages0" -v p="$peak" \
    -v n="$connections" -v page="$(getconf PAGESIZE)" \
    'BEGIN {b = (p - p0) * page; printf "%.0f bytes per connection (%.1f MB in all)", b / n, b / 1e6}')"
fi
if [ -s "$work/slabinfo1" ]; then
  say "kernel slab growth by cache, bytes per connection: $(awk -v n="$connections" '
    NR == FNR {before[$1] = $2; next}
    {d = ($2 - before[$1]) / n; if (d >= 16) printf "%d %s\n", d, $1}' \
    "$work/slabinfo0" "$work/slabinfo1" | sort -rn | head -n 10 | awk '{printf "%s%s %s", sep, $2, $1; sep = ", "}')"
fi
say "raw files: $out"
cleanup  # the limits are back before the last line
say "$held connections held for $seconds s, $errors errors"
[ "$held" -eq "$connections" ] && [ "$errors" -eq 0 ]
