#!/usr/bin/env bash
# Regenerates the gRPC stubs of peerscope.v1 from ../../proto with grpcio-tools.
#
#   python -m venv /tmp/gen && /tmp/gen/bin/pip install -c constraints.txt grpcio-tools
#   PYTHON=/tmp/gen/bin/python ./generate.sh
#
# (`pip install -c constraints.txt ".[test]"` brings the same grpcio-tools.)
#
# The stubs land in src/peerscope_client/v1/. protoc names the modules after the proto
# path (peerscope/v1/peerscope.proto -> peerscope.v1.peerscope_pb2), so the absolute
# import in the generated *_pb2_grpc.py is rewritten to a relative one to make it work
# inside the peerscope_client package. Nothing else is touched.
#
# OUT=dir writes the three files to dir instead (the tests use it to check that the
# committed stubs are up to date). PYTHON=python picks the interpreter with grpcio-tools.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
proto_root="$(cd "$here/../../proto" && pwd)"
out="${OUT:-$here/src/peerscope_client/v1}"
python="${PYTHON:-python3}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$python" -m grpc_tools.protoc \
  -I"$proto_root" \
  --python_out="$tmp" \
  --pyi_out="$tmp" \
  --grpc_python_out="$tmp" \
  "$proto_root/peerscope/v1/peerscope.proto"

gen="$tmp/peerscope/v1"
sed -i 's/^from peerscope\.v1 import peerscope_pb2 as /from . import peerscope_pb2 as /' \
  "$gen/peerscope_pb2_grpc.py"
if grep -q '^from peerscope\.' "$gen/peerscope_pb2_grpc.py"; then
  echo "generate.sh: unexpected absolute import left in peerscope_pb2_grpc.py" >&2
  exit 1
fi

mkdir -p "$out"
for f in peerscope_pb2.py peerscope_pb2.pyi peerscope_pb2_grpc.py; do
  cp "$gen/$f" "$out/$f"
done
echo "generated with $("$python" -m grpc_tools.protoc --version) into ${out#"$here"/}"
