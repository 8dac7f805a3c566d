#!/usr/bin/env bash
# 100,000 SSE subscribers on one channel, one message per 5 s, against c10k serve with
# --processes (see docs/BENCHMARKS.md, "Live push"). One process may hold at most 20,000
# descriptors here, so the server runs N processes (each with its SO_REUSEPORT listener; a
# publish reaches all of them through the machine-local hub) and c10k bench spreads its
# subscribers over as many worker processes and 127.0.0.x source addresses as it needs.
# Neither side is pinned: 100,000 connections want both cores. Reports lost and duplicated
# messages (id by id per subscriber), delivery latency, server CPU per delivery (the server and
# all its processes) and memory per subscriber; the raw JSON goes to --out.
#
# usage: bench/push_100k.sh [--subscribers N] [--processes N] [--rate R] [--duration S]
#                           [--binary PATH] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=100000 processes=6 rate=0.2 duration=60 binary=build/c10k out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --subscribers) subscribers=$2; shift 2 ;;
    --processes) processes=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v jq > /dev/null || { echo "bench/push_100k.sh needs jq" >&2; exit 2; }
[ -x "$binary" ] || { echo "no c10k binary at $binary (build it, or pass --binary)" >&2; exit 2; }
# shellcheck source=bench/servers.sh
source bench/servers.sh        # $root, $work (removed at exit), $port
publish_port=$((port + 1))
out=${out:-$(mktemp -d -t c10k-push100k.XXXXXX)}
mkdir -p "$out"

"$binary" serve --engine epoll --processes "$processes" --root "$root" \
  --listen 127.0.0.1:$port --publish-listen 127.0.0.1:$publish_port --push /live/ \
  > "$work/c10k.log" 2>&1 &
server=$!
echo $server >> "$work/pids"
for _ in $(seq 50); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$publish_port/pub/big" && break
  sleep 0.1
done

json="$out/c10k-${subscribers}-p${processes}.json"
rc=0
"$binary" bench --sse "$subscribers" "http://127.0.0.1:$port/live/big" \
  --publish "http://127.0.0.1:$publish_port/pub/big" --publish-rate "$rate" \
  --message-size 200 -d "${duration}s" --warmup 5s --server-pid "$server" --json "$json" || rc=$?
kill -TERM "$server"; wait "$server" || true
[ $rc -eq 0 ] || { echo "c10k bench exited $rc" >&2; cat "$work/c10k.log" >&2; exit $rc; }

jq -r '"subscribers \(.push.subscribers.open) of \(.push.subscribers.target), " +
  "deliveries \(.push.deliveries), lost \(.push.lost.total), duplicated \(.push.duplicated), " +
  "latency p50 \(.push.latency_us.p50 / 1000) ms p99 \(.push.latency_us.p99 / 1000) ms " +
  "max \(.push.latency_us.max / 1000) ms, fan-out span max \(.push.fanout_span_us.max / 1000) ms, " +
  "server CPU \(.push.server_cpu_us_per_delivery) us per delivery, " +
  "\(.push.server_rss_bytes_per_subscriber) B per subscriber"' "$json"
echo "raw JSON: $json"
