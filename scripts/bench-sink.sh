#!/usr/bin/env bash
# The sink benchmark against a throwaway PostgreSQL: initdb into a temporary directory
# (as the `postgres` user when run as root), start it on a free port of 127.0.0.1, run
# `peerscope bench --sink` (ONESHOT crawls with dials, alternating sink off and on), stop
# PostgreSQL and remove the directory. Everything runs on 127.0.0.1 and stops by itself.
#
#   scripts/bench-sink.sh                          # 1000 nodes, 3 rounds
#   BENCH_NODES=300 BENCH_ROUNDS=2 scripts/bench-sink.sh
#
# Settings (environment): BENCH_NODES (1000), BENCH_ROUNDS (3), BENCH_ARGS (extra
# `peerscope bench` flags, e.g. --json), PEERSCOPE_BIN (default target/release/peerscope,
# built if missing). Needs PostgreSQL's server binaries (Debian: apt-get install postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=${BENCH_NODES:-1000}
rounds=${BENCH_ROUNDS:-3}
bin=${PEERSCOPE_BIN:-target/release/peerscope}
if [ ! -x "$bin" ]; then
  cargo build --release --locked
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "bench-sink.sh: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
fi
dir=$(mktemp -d)
[ ${#as_pg[@]} -eq 0 ] || chown postgres: "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
# Durable commits as a production database would make them (fsync on).
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
# shellcheck disable=SC2086
"$bin" bench --nodes "$nodes" --rounds "$rounds" --sink "postgres://postgres@127.0.0.1:$port/postgres" ${BENCH_ARGS:-}
