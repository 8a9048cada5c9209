"""GetRecommendations load from ghz (a Go gRPC load generator, built by deploy/fetch_ghz.sh):
far less CPU per request than a Python client, which matters when the load generator shares two
cores with the server. Latency comes from ghz's per-request details (p99.9 included).

ghz paces an open loop (``--rps``) with a pool of workers and times each call from its send:
while workers are free that is the open-loop latency; when all are busy, sends fall behind
schedule and that wait is not counted, so a run whose achieved rate falls short of the asked
rate is reported as overloaded rather than trusted."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import percentile

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "reco" / "v1" / "recommendations.proto"
CALL = "reco.v1.Recommendations.GetRecommendations"
WORKERS = 200  # enough that a worker is free at 4,000/s unless calls take 50 ms
OVERLOADED = 0.95  # achieved/asked below this: the server did not keep up


def ghz_binary() -> str | None:
    """The ghz deploy/fetch_ghz.sh built, or one on the PATH, or None."""
    local = ROOT / ".cache" / "bin" / "ghz"
    return str(local) if local.exists() else shutil.which("ghz")


def run(binary: str, address: str, users: list[str], seconds: float, rate: int | None = None,
        k: int = 10) -> dict[str, Any]:
    """One ghz run: open loop at ``rate`` requests/s, or closed loop (as fast as its workers
    go) without. Requests name the users round robin."""
    with tempfile.TemporaryDirectory(prefix="reco-ghz-") as folder:
        data = Path(folder) / "requests.json"
        data.write_text(json.dumps([{"user_id": user, "k": k} for user in users]))
        command = [binary, "--insecure", "--proto", str(PROTO), "--import-paths",
                   str(PROTO.parent.parent.parent), "--call", CALL, "--data-file", str(data),
                   "--duration", f"{seconds}s", "--timeout", "2s", "--format", "json",
                   "--connections", "2", "--concurrency", str(WORKERS if rate else 16)]
        if rate:
            command += ["--rps", str(rate)]
        out = subprocess.run([*command, address], capture_output=True, text=True, check=True)
    return summarise(json.loads(out.stdout), rate)


def summarise(report: dict[str, Any], rate: int | None) -> dict[str, Any]:
    """ghz's JSON report as the benchmark's numbers (microseconds)."""
    details = report.get("details") or []
    latencies = [d["latency"] / 1000 for d in details if d.get("error", "") == ""]
    seconds = report["total"] / 1e9
    achieved = len(details) / seconds if seconds > 0 else 0.0
    out: dict[str, Any] = {
        "generator": "ghz", "requests": len(details), "errors": len(details) - len(latencies),
        "seconds": seconds, "achieved_per_s": achieved, "p50_us": percentile(latencies, 50),
        "p99_us": percentile(latencies, 99), "p999_us": percentile(latencies, 99.9)}
    if rate:
        out["rate"] = rate
        out["overloaded"] = achieved < OVERLOADED * rate
    return out
