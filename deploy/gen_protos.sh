#!/usr/bin/env bash
# Regenerates the Python protobuf and gRPC code from proto/ into reco/v1 (excluded from lint).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p reco/v1
"$PY" -m grpc_tools.protoc -I proto --python_out=. --pyi_out=. --grpc_python_out=. proto/reco/v1/*.proto
touch reco/v1/__init__.py
echo "generated: $(ls reco/v1/*_pb2*.py | tr '\n' ' ')"
