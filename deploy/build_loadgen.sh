#!/usr/bin/env bash
# Builds the lookup benchmark's load generator (bench/loadgen, Go) into .cache/bin/loadgen
# (ignored by git); its one dependency, grpc-go, comes from the Go module proxy. Needs Go.
# Rebuilds only when the source changed. Only the benchmarks use it (make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.cache/bin/loadgen
command -v go >/dev/null || { echo "build_loadgen: Go is needed (https://go.dev/dl or apt-get install golang); without it the lookup benchmark uses its Python load generator" >&2; exit 1; }
if [ -x "$BIN" ] && [ -z "$(find bench/loadgen -newer "$BIN" -type f)" ]; then exit 0; fi
echo "build_loadgen: bench/loadgen -> $BIN"
mkdir -p .cache/bin
(cd bench/loadgen && go build -o "../../$BIN" .)
