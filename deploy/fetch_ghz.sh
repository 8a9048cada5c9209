#!/usr/bin/env bash
# Builds ghz, the gRPC load generator the lookup benchmark drives the server with, into
# .cache/bin/ghz (ignored by git) with `go install` from the Go module proxy. Needs Go.
# A second run finds it and does nothing. Only the benchmarks use it (make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
GHZ=github.com/bojand/ghz/cmd/ghz@v0.93.0
BIN="$PWD/.cache/bin"
if [ -x "$BIN/ghz" ]; then exit 0; fi
command -v go >/dev/null || { echo "fetch_ghz: Go is needed to build ghz (https://go.dev/dl, or apt-get install golang); the lookup benchmark falls back to its Python load generator without it" >&2; exit 1; }
echo "fetch_ghz: $GHZ -> $BIN"
mkdir -p "$BIN"
GOBIN="$BIN" GOFLAGS=-mod=mod go install "$GHZ"
