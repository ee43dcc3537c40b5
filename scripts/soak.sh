#!/usr/bin/env bash
# Soak: a CONTINUOUS crawl of a churning testnet with a hostile responder flooding it with
# freshly minted records, for SOAK_MINUTES, with one restart of the server half-way (the
# crawl must resume by itself), sampling the server's resident memory, the data
# directory's size, the stored peers and the event log once a minute. Everything runs on
# 127.0.0.1 and stops by itself.
#
#   scripts/soak.sh                 # 30 minutes, 200 nodes, 10 churned every 20 s
#   SOAK_MINUTES=5 scripts/soak.sh  # shorter
#
# Settings (environment): SOAK_MINUTES (30), SOAK_NODES (200), SOAK_CHURN (10 nodes per
# step), SOAK_CHURN_EVERY (20 s), SOAK_RECRAWL_SECS (10), SOAK_RETENTION (50000 events),
# SOAK_CACHE_MB (64), SOAK_MAX_PEERS (the crawl's known-node cap, 3000: the flooding
# responder fills it, and it is what bounds the stored peers), SOAK_HOSTILE (`peerscope testnet --hostile`, default
# endless-enrs=1; empty for none), SOAK_RESTART_AT (the minute after which the server is
# stopped and started again on the same data directory, default half-way; 0 for none),
# SOAK_RESTART_SIGNAL (TERM, or KILL for a crash), SOAK_TESTNET_ARGS (extra `peerscope
# testnet` flags), PEERSCOPE_BIN (default target/release/peerscope, built if missing),
# SOAK_DIR (a new temporary directory). Samples go to $SOAK_DIR/samples.csv and are
# printed as they come; the RSS after the restart is the new process's.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${SOAK_MINUTES:-30}
nodes=${SOAK_NODES:-200}
churn=${SOAK_CHURN:-10}
churn_every=${SOAK_CHURN_EVERY:-20}
recrawl=${SOAK_RECRAWL_SECS:-10}
retention=${SOAK_RETENTION:-50000}
cache_mb=${SOAK_CACHE_MB:-64}
max_peers=${SOAK_MAX_PEERS:-3000}
hostile=${SOAK_HOSTILE-endless-enrs=1}
restart_at=${SOAK_RESTART_AT:-$((minutes / 2))}
restart_signal=${SOAK_RESTART_SIGNAL:-TERM}
bin=${PEERSCOPE_BIN:-target/release/peerscope}
dir=${SOAK_DIR:-$(mktemp -d)}
mkdir -p "$dir"
if [ ! -x "$bin" ]; then
  cargo build --release --locked
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# shellcheck disable=SC2086
"$bin" testnet --nodes "$nodes" --down 0.1 --churn "$churn" --churn-every "$churn_every" \
  --publish-rate 5 --enr-file "$dir/testnet.enr" --duration $((minutes * 60 + 180)) \
  ${hostile:+--hostile "$hostile"} ${SOAK_TESTNET_ARGS:-} >"$dir/testnet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$dir/testnet.enr" ] && break; sleep 0.5; done
[ -s "$dir/testnet.enr" ] || { echo "soak: the testnet did not come up" >&2; tail "$dir/testnet.log" >&2; exit 1; }

serve_pid=
start_serve() {
  : >"$dir/serve.out"
  PEERSCOPE_LOG=warn "$bin" serve --data-dir "$dir/db" --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 \
    --geolocation false --event-retention "$retention" --store-cache-mb "$cache_mb" \
    >"$dir/serve.out" 2>>"$dir/serve.log" &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 120); do grep -q '^grpc listening on' "$dir/serve.out" 2>/dev/null && break; sleep 0.5; done
  addr=$(sed -n 's/^grpc listening on //p' "$dir/serve.out")
  http=$(sed -n 's/^http listening on //p' "$dir/serve.out")
  [ -n "$addr" ] || { echo "soak: serve did not come up" >&2; cat "$dir/serve.log" >&2; exit 1; }
  server="http://$addr"
}
start_serve

"$bin" crawl start --server "$server" --bootstrap-file "$dir/testnet.enr" --continuous \
  --recrawl-secs "$recrawl" --max-peers "$max_peers" --name soak >/dev/null

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$serve_pid/status"; }
metric() { awk -v m="$1" '$1 == m {print $2}' "$dir/metrics.txt"; }
sample() {
  curl -sf "http://$http/metrics" >"$dir/metrics.txt" || : >"$dir/metrics.txt"
  printf '%s,%s,%s,%s,%s,%s\n' "$1" "$(rss_kib)" "$(du -sk "$dir/db" | cut -f1)" \
    "$(metric peerscope_store_size_bytes)" "$(metric peerscope_peers_stored)" \
    "$(metric peerscope_events_written_total)"
}
echo "minute,rss_kib,data_dir_kib,store_size_bytes,peers_stored,events_written" | tee "$dir/samples.csv"
for m in $(seq 1 "$minutes"); do
  sleep 60
  kill -0 "$serve_pid" 2>/dev/null || { echo "soak: serve died" >&2; tail "$dir/serve.log" >&2; exit 1; }
  sample "$m" | tee -a "$dir/samples.csv"
  if [ "$m" = "$restart_at" ] && [ "$m" != "$minutes" ]; then
    kill -"$restart_signal" "$serve_pid"
    wait "$serve_pid" 2>/dev/null || true
    echo "soak: server stopped with SIG$restart_signal after minute $m; starting it again" >&2
    start_serve
    # The CONTINUOUS crawl resumes by itself (no StartCrawl here).
    running() { "$bin" crawl list --json --server "$server" 2>/dev/null | grep -q CRAWL_STATE_RUNNING; }
    for _ in $(seq 1 60); do
      running && break
      sleep 0.5
    done
    running ||
      { echo "soak: the crawl did not resume after the restart" >&2; exit 1; }
  fi
done
echo "soak: done; data in $dir"
