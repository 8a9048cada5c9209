"""Freshness (an event produced -> its user's profile served over gRPC) with the upserts
(recommendations, profiles) written exactly-once, visible at each checkpoint's commit, and
at-least-once, visible at once (``upserts_at_least_once``), one after the other in one run on
the same machine, at the same background rates. Writes bench/results/freshness-<time>.json
and freshness-latest.png.

  python -m bench.freshness --rates 200,500 --probes 60
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.backlog import settings_for
from bench.common import RESULTS, machine, progress, write_results
from bench.serving_probes import freshness
from infra.client import RecoClient
from infra.processes import exit_on_sigterm
from infra.stack import Stack, local_kafka
from reco.arguments import positive_int, positive_ints
from reco.config import Settings
from reco.topics import ensure_topics

MODES = {"exactly-once": False, "at-least-once": True}


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, runs in results["modes"].items():
        rates = [r["rate"] for r in runs]
        ax.plot(rates, [r["p50_ms"] for r in runs], marker="o", label=f"{mode} p50")
        ax.plot(rates, [r["p99_ms"] for r in runs], marker="x", linestyle="--",
                label=f"{mode} p99")
    ax.axhline(1000, color="grey", linewidth=0.8)
    ax.set_xlabel("background events/s")
    ax.set_ylabel("event -> served profile (ms)")
    ax.legend(fontsize=8)
    fig.suptitle(f"freshness, {results['machine']['cores']} cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.freshness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=positive_ints, default=[200, 500],
                        help="background events/s, comma-separated (default 200,500)")
    parser.add_argument("--probes", type=positive_int, default=60, help="probes per rate")
    parser.add_argument("--warmup", type=positive_int, default=20,
                        help="probes sent and not counted first")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-freshness-"))
    results: dict[str, Any] = {"command": "python -m bench.freshness " + " ".join(sys.argv[1:]),
                               "machine": machine(), "modes": {}}
    with local_kafka(root) as kafka:
        for mode, at_least_once in MODES.items():
            name = mode.replace("-", "")
            # topics of its own: the second job must not read the first one's events
            topics: dict[str, Any] = {f.name: f"{name}.{f.default}"
                                      for f in dataclasses.fields(Settings)
                                      if f.name.startswith("topic_")
                                      and f.name != "topic_partitions"}
            settings = dataclasses.replace(settings_for(kafka, root, name),
                                           store_path=str(root / name / "store"),
                                           event_topic_prefix=f"{name}.events.",
                                           upserts_at_least_once=at_least_once,
                                           log_impressions=False, **topics)
            ensure_topics(settings)
            stack = Stack(settings)
            try:
                stack.start_job(fresh=True)
                stack.start_server()
                with RecoClient(settings.grpc_addr, timeout_s=5) as client:
                    # a job just started compiles and warms its operators on its first
                    # events: probes then would time the warm-up, not the path
                    progress(f"{mode}: warming up for {args.warmup} probes")
                    freshness(settings, client, min(args.rates), args.warmup)
                    runs = []
                    for rate in args.rates:
                        progress(f"{mode}: {args.probes} probes at {rate} events/s")
                        runs.append(freshness(settings, client, rate, args.probes))
                results["modes"][mode] = runs
            finally:
                stack.down(only_started=True)
    path = write_results("freshness", results)
    plot(results, RESULTS / "freshness-latest.png")
    for mode, runs in results["modes"].items():
        for r in runs:
            print(f"{mode:14s} at {r['rate']:5d} ev/s: p50 {r['p50_ms']:6.0f} ms  p99 "
                  f"{r['p99_ms']:6.0f} ms  max {r['max_ms']:6.0f} ms ({r['probes']} probes)")
    print(f"wrote {path} and {RESULTS / 'freshness-latest.png'}")


if __name__ == "__main__":
    main()
