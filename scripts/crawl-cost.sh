#!/usr/bin/env bash
# What one ONESHOT crawl costs the server: a `peerscope testnet` in its own process, a
# `peerscope serve` process, one crawl started with `crawl start --wait`; prints the wall
# time, the CPU-seconds the server used during the crawl and its peak resident memory.
# With COST_PERF=1 the server is sampled with `perf record` during the crawl and the top
# symbols are printed (`perf` from Debian's linux-perf). Everything runs on 127.0.0.1.
#
#   scripts/crawl-cost.sh                                  # 1000 nodes, libp2p, dials on
#   COST_TESTNET_ARGS=--no-libp2p COST_PERF=1 scripts/crawl-cost.sh
#
# Settings (environment): COST_NODES (1000), COST_TESTNET_ARGS (extra `peerscope testnet`
# flags), COST_CRAWL_ARGS (extra `crawl start` flags), PEERSCOPE_BIN (the client and the
# testnet; default target/release/peerscope), SERVE_BIN (the server; default
# PEERSCOPE_BIN, so that two builds can be compared on one testnet binary), COST_PERF,
# COST_PERF_ARGS (`perf record` call-graph flags, default -g), COST_DIR (a new temporary
# directory).
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=${COST_NODES:-1000}
bin=${PEERSCOPE_BIN:-target/release/peerscope}
serve_bin=${SERVE_BIN:-$bin}
dir=${COST_DIR:-$(mktemp -d)}
mkdir -p "$dir"
[ -x "$bin" ] || cargo build --release --locked

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck disable=SC2086
PEERSCOPE_LOG=error "$bin" testnet --nodes "$nodes" --enr-file "$dir/testnet.enr" --duration 3600 \
  ${COST_TESTNET_ARGS:-} >"$dir/testnet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 1200); do [ -s "$dir/testnet.enr" ] && break; sleep 0.5; done
[ -s "$dir/testnet.enr" ] || { echo "crawl-cost: the testnet did not come up" >&2; exit 1; }
sleep 2

PEERSCOPE_LOG=warn "$serve_bin" serve --data-dir "$dir/db" --grpc-addr 127.0.0.1:0 \
  --http-addr 127.0.0.1:0 --geolocation false >"$dir/serve.out" 2>"$dir/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 1 120); do grep -q '^grpc listening on' "$dir/serve.out" 2>/dev/null && break; sleep 0.5; done
addr=$(sed -n 's/^grpc listening on //p' "$dir/serve.out")
[ -n "$addr" ] || { echo "crawl-cost: serve did not come up" >&2; cat "$dir/serve.log" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
perf_pid=
if [ "${COST_PERF:-0}" = 1 ]; then
  perf record -F 499 ${COST_PERF_ARGS:--g} -o "$dir/perf.data" -p "$serve_pid" >"$dir/perf.log" 2>&1 &
  perf_pid=$!
  sleep 1
fi
before=$(ticks)
start=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin" crawl start --server "http://$addr" --bootstrap-file "$dir/testnet.enr" --wait \
  --name cost ${COST_CRAWL_ARGS:-} >"$dir/crawl.out" 2>&1
end=$(date +%s.%N)
after=$(ticks)
if [ -n "$perf_pid" ]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" 2>/dev/null || true
fi
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")
tail -n 3 "$dir/crawl.out"
awk -v s="$start" -v e="$end" -v c="$((after - before))" -v m="$hwm" -v n="$nodes" 'BEGIN {
  printf "crawl of %d nodes: %.2f s wall, %.2f server CPU-s, server peak RSS %.1f MB\n", n, e - s, c / 100, m / 1024
}'
if [ -n "$perf_pid" ]; then
  perf report -i "$dir/perf.data" --no-children --sort symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | head -n "${COST_PERF_TOP:-25}"
fi
echo "crawl-cost: data in $dir"
