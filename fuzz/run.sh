#!/usr/bin/env bash
# Runs every peerscope fuzz target for a bounded time and prints one summary line each.
#
#   fuzz/run.sh                  # every target, 60 s each
#   FUZZ_SECONDS=300 fuzz/run.sh enr_rlp grpc_requests
#
# Settings (environment):
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_SANITIZER  none (default) or address. `none` needs no unstable compiler flag;
#                   `address` passes -Zsanitizer=address, which the stable compiler takes
#                   with RUSTC_BOOTSTRAP=1 (set below; the stable toolchain ships the ASan
#                   runtime).
#   FUZZ_JOBS       libFuzzer -fork worker processes per target (default 1: no fork mode)
#   FUZZ_CGU        codegen units for the build (default 16: a much faster build on a small
#                   machine, a little slower fuzzing)
#   FUZZ_MAX_LEN    libFuzzer -max_len (default 4096)
#
# A libFuzzer dictionary in fuzz/dict/<target>.dict is used when present.
# New inputs go to fuzz/corpus-work/<target> (ignored by git); the seeds in
# fuzz/corpus/<target> are read, never written. A crash leaves its input in
# fuzz/artifacts/<target>/ and makes the script exit non-zero after all targets ran.
set -uo pipefail

cd "$(dirname "$0")"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
SANITIZER="${FUZZ_SANITIZER:-none}"
JOBS="${FUZZ_JOBS:-1}"
CGU="${FUZZ_CGU:-16}"
MAX_LEN="${FUZZ_MAX_LEN:-4096}"
ALL_TARGETS=(enr_text enr_rlp waku_message metadata peer_exchange eip1459_txt grpc_requests cometbft_packets cometbft_pex)
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=("${ALL_TARGETS[@]}")
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked || exit 2
fi

# -Zsanitizer (FUZZ_SANITIZER=address) is a nightly flag; the stable compiler accepts it
# with RUSTC_BOOTSTRAP=1. It is set for every build, `none` included: build scripts such as
# proc-macro2's and anyhow's watch the variable, so flipping it would rebuild everything.
export RUSTC_BOOTSTRAP=1

# -a: debug assertions and overflow checks on, so arithmetic overflow is a crash.
BUILD_ARGS=(-s "$SANITIZER" -a --codegen-units "$CGU")

echo "building ${TARGETS[*]} (sanitizer $SANITIZER)" >&2
for t in "${TARGETS[@]}"; do
    cargo fuzz build "${BUILD_ARGS[@]}" "$t" || exit 2
done

count_crashes() {
    find "artifacts/$1" -maxdepth 1 -type f \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

failed=()
summary=()
for t in "${TARGETS[@]}"; do
    work="corpus-work/$t"
    mkdir -p "$work" "artifacts/$t"
    log="artifacts/$t/run.log"
    before=$(count_crashes "$t")
    extra=()
    if [ "$JOBS" -gt 1 ]; then
        extra+=(-fork="$JOBS")
    fi
    if [ -f "dict/$t.dict" ]; then
        extra+=(-dict="dict/$t.dict")
    fi
    echo "fuzzing $t for ${SECONDS_PER_TARGET}s" >&2
    # libFuzzer exits non-zero on a crash (a panic aborts), a slow input (-timeout, in
    # seconds) or running out of memory (-rss_limit_mb).
    cargo fuzz run "${BUILD_ARGS[@]}" "$t" "$work" "corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
    rc=$?
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
    cov=$(grep -aoE '^#[0-9]+.*cov: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | awk '{print $2}')
    ft=$(grep -aoE '^#[0-9]+.*ft: [0-9]+' "$log" | tail -1 | grep -oE 'ft: [0-9]+' | awk '{print $2}')
    crashes=$(($(count_crashes "$t") - before))
    line="$t: ${SECONDS_PER_TARGET}s execs=${execs:-0} cov=${cov:-?} ft=${ft:-?} crashes=$crashes exit=$rc"
    summary+=("$line")
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        failed+=("$t")
        grep -aE 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 >&2
    fi
done

echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs and logs in fuzz/artifacts/)"
    exit 1
fi
echo "all ${#TARGETS[@]} targets ran without a crash"
