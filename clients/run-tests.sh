#!/usr/bin/env bash
# Tests of the Python and TypeScript clients against a real server and testnet on 127.0.0.1.
#
#   bash clients/run-tests.sh                                    # from the repo root
#   PEERSCOPE_BIN=target/release/peerscope bash clients/run-tests.sh   # skip the cargo build
#
# A cold `cargo build --release` takes most of the time (about 6-10 minutes on 2 cores).
# After `cargo test --locked`, target/debug/peerscope already exists (integration tests
# build the binary) and passes these tests too: PEERSCOPE_BIN=target/debug/peerscope.
#
# Needs Python >= 3.10 with venv/pip, Node >= 20 with npm, and (without PEERSCOPE_BIN) the
# Rust toolchain; packages come from PyPI and the npm registry. Runs both suites, prints
# their summary lines, and exits non-zero if either failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Each stage is bounded; together well under 15 minutes on a 2-core machine.
BUILD_TIMEOUT="${BUILD_TIMEOUT:-900}"
INSTALL_TIMEOUT="${INSTALL_TIMEOUT:-300}"
SUITE_TIMEOUT="${SUITE_TIMEOUT:-300}"

step() { printf '\n== %s\n' "$*"; }

# --- the server binary --------------------------------------------------------------------
if [[ -n "${PEERSCOPE_BIN:-}" ]]; then
  bin="$(cd "$(dirname "$PEERSCOPE_BIN")" && pwd)/$(basename "$PEERSCOPE_BIN")"
else
  step "cargo build --release --locked"
  timeout "$BUILD_TIMEOUT" cargo build --release --locked
  bin="${CARGO_TARGET_DIR:-$root/target}/release/peerscope"
fi
if [[ ! -x "$bin" ]]; then
  echo "run-tests.sh: $bin is not an executable peerscope binary" >&2
  exit 1
fi
export PEERSCOPE_BIN="$bin"
"$PEERSCOPE_BIN" --version

work="$(mktemp -d "${TMPDIR:-/tmp}/peerscope-clients.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- Python ------------------------------------------------------------------------------
py_rc=0
py_summary="(did not run)"
step "python: venv, pip install ./clients/python[test]"
python="${PYTHON:-python3}"
"$python" --version
"$python" -m venv "$work/venv"
venv_py="$work/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
timeout "$INSTALL_TIMEOUT" "$venv_py" -m pip install --quiet \
  -c clients/python/constraints.txt "./clients/python[test]"
"$venv_py" -m pip list 2>/dev/null | grep -iE '^(grpcio|grpcio-health-checking|grpcio-tools|protobuf|pytest|peerscope-client) ' || true

step "python: pytest"
# Run from a directory outside the source tree, so the tests import the installed package.
if (cd "$work" && timeout "$SUITE_TIMEOUT" "$venv_py" -m pytest "$root/clients/python/tests" \
      -c "$root/clients/python/pyproject.toml" --rootdir "$root/clients/python" \
      -p no:cacheprovider -q -rfE) 2>&1 | tee "$work/pytest.log"; then
  py_rc=0
else
  py_rc=$?
fi
py_summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|^=+ .*(passed|failed|error|no tests ran)' "$work/pytest.log" | tail -1 || true)"

# --- TypeScript --------------------------------------------------------------------------
ts_rc=0
step "typescript: npm ci"
node --version
npm --version
if ! (cd clients/typescript && timeout "$INSTALL_TIMEOUT" npm ci --no-audit --no-fund); then
  ts_rc=1
fi

if [[ $ts_rc -eq 0 ]]; then
  step "typescript: npm test"
  if (cd clients/typescript && timeout "$SUITE_TIMEOUT" npm test) 2>&1 | tee "$work/node.log"; then
    ts_rc=0
  else
    ts_rc=$?
  fi
fi

# --- summary -----------------------------------------------------------------------------
step "summary"
echo "python (pytest): ${py_summary:-no summary line} (exit $py_rc)"
ts_tests=$(grep -E '^# tests [0-9]+' "$work/node.log" 2>/dev/null | tail -1 | awk '{print $3}' || true)
ts_pass=$(grep -E '^# pass [0-9]+' "$work/node.log" 2>/dev/null | tail -1 | awk '{print $3}' || true)
ts_fail=$(grep -E '^# fail [0-9]+' "$work/node.log" 2>/dev/null | tail -1 | awk '{print $3}' || true)
echo "typescript (node --test): tests ${ts_tests:-?}, pass ${ts_pass:-?}, fail ${ts_fail:-?} (exit $ts_rc)"

count() { grep -oE "[0-9]+ $1" <<<"$py_summary" | head -1 | awk '{print $1}' || true; }
py_pass=$(count passed)
py_fail=$(count failed)
py_err=$(count error)
passed=$(( ${py_pass:-0} + ${ts_pass:-0} ))
failed=$(( ${py_fail:-0} + ${py_err:-0} + ${ts_fail:-0} ))
if [[ $py_rc -ne 0 || $ts_rc -ne 0 ]] && [[ $failed -eq 0 ]]; then
  failed=1 # a suite failed without reaching its tests (install, build or timeout)
fi
echo "clients: $passed passed, $failed failed"

if [[ $py_rc -ne 0 || $ts_rc -ne 0 ]]; then
  exit 1
fi
