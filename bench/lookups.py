"""Lookup latency of the real gRPC server, with impression logging on, from a load generator in
another process: one Python caller closed loop (a call's own latency), the closed-loop maximum,
and an open loop at fixed request rates, beside a raw store get as the floor. The load comes
from ghz (bench/ghz.py; `make bench` builds it) or, without Go, from the Python generator
(bench/lookup.py). Standalone: a small simulated backlog goes through the full job (stopped
before measuring: in production it runs elsewhere; here it would take the server's cores).
`python -m bench.lookups --help`."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ghz
from bench.backlog import drain_profiles, preload, run_job, settings_for
from bench.common import RESULTS, machine, percentile, progress, write_results
from reco.config import Settings
from reco.processes import free_port
from reco.stack import LocalKafka, Stack
from reco.topics import ensure_topics
from serving.store import RECOMMENDATIONS, Store

GENERATORS = ("auto", "ghz", "python")


def python_load(settings: Settings, users: list[str], seconds: float,
                rate: int | None = None) -> dict[str, Any]:
    """The Python generator (bench/lookup.py) in its own process."""
    command = [sys.executable, "-m", "bench.lookup", "--addr", settings.grpc_addr,
               "--users", ",".join(users), "--seconds", str(seconds)]
    out = subprocess.run([*command, *(["--rate", str(rate)] if rate else [])],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    latencies = result.pop("latencies_us")
    achieved = result["requests"] / result["seconds"]
    return {**result, "generator": "python", "achieved_per_s": achieved,
            "p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
            "p999_us": percentile(latencies, 99.9),
            **({"overloaded": achieved < ghz.OVERLOADED * rate} if rate else {})}


def store_floor(settings: Settings, users: list[str], gets: int = 20_000) -> dict[str, float]:
    """A raw rocksdict get of a user's list, from a secondary instance of the server's store."""
    secondary = Store(Path(settings.store_path).parent / "secondary",
                      secondary_of=settings.store_path)
    secondary.catch_up()
    floor = []
    for user in users * max(1, gets // len(users)):
        start = time.perf_counter()
        secondary.get(RECOMMENDATIONS, user)
        floor.append((time.perf_counter() - start) * 1e6)
    secondary.close()
    return {"p50_us": percentile(floor, 50), "p99_us": percentile(floor, 99)}


def lookup_suite(settings: Settings, users: list[str], seconds: float, rates: list[int],
                 generator: str = "auto") -> dict[str, Any]:
    """Everything against the server at ``settings.grpc_addr``."""
    binary = ghz.ghz_binary() if generator != "python" else None
    if generator == "ghz" and binary is None:
        raise SystemExit("no ghz: run deploy/fetch_ghz.sh (needs Go) or pass --generator python")
    if binary is None:
        progress("  ghz not found (deploy/fetch_ghz.sh builds it): the Python generator loads "
                 "the server, on the same cores")

    def load(rate: int | None, python: bool = False) -> dict[str, Any]:
        if binary is None or python:
            return python_load(settings, users, seconds, rate)
        return ghz.run(binary, settings.grpc_addr, users, seconds, rate)

    progress("lookup latency: one Python caller, closed loop")
    result: dict[str, Any] = {"one_caller": load(None, python=True),
                              "store_get": store_floor(settings, users)}
    progress("lookup latency: closed-loop maximum")
    result["closed_loop_max"] = load(None)
    result["open_loop"] = []
    for rate in rates:
        progress(f"lookup latency: open loop at {rate} requests/s")
        result["open_loop"].append(load(rate))
    return result


def lookup_lines(lookup: dict[str, Any]) -> list[str]:
    one, floor, most = lookup["one_caller"], lookup["store_get"], lookup["closed_loop_max"]
    lines = [f"lookup      one caller: {one['achieved_per_s']:.0f} req/s, p50 {one['p50_us']:.0f}"
             f" us, p99 {one['p99_us']:.0f} us; store get p50 {floor['p50_us']:.1f} us",
             f"            closed-loop maximum ({most['generator']}): "
             f"{most['achieved_per_s']:.0f} req/s, p99 {most['p99_us']:.0f} us"]
    for run in lookup["open_loop"]:
        lines.append(f"open loop   {run['rate']:6.0f} req/s asked, {run['achieved_per_s']:6.0f} "
                     f"done ({run['generator']}): p50 {run['p50_us']:.0f} us, p99 "
                     f"{run['p99_us']:.0f} us, p99.9 {run['p999_us']:.0f} us, {run['errors']} "
                     f"errors{' OVERLOADED' if run.get('overloaded') else ''}")
    return lines


def plot(lookup: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    runs = lookup["open_loop"]
    for q, label in (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9")):
        ax.plot([r["rate"] for r in runs], [r[q] / 1000 for r in runs], marker="o", label=label)
    ax.axhline(lookup["store_get"]["p50_us"] / 1000, color="#999999", linestyle=":",
               label="store get p50")
    ax.set_yscale("log")
    ax.set_xlabel("requests/s asked (open loop)")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"GetRecommendations, impressions logged; closed-loop max "
                 f"{lookup['closed_loop_max']['achieved_per_s']:.0f}/s", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lookups", description=__doc__)
    parser.add_argument("--events", type=int, default=4_000, help="simulated backlog")
    parser.add_argument("--users", type=int, default=500, help="simulated users asked for")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rates", default="1000,2000,4000", help="open-loop requests/s")
    parser.add_argument("--generator", choices=GENERATORS, default="auto",
                        help="auto: ghz when built, else the Python generator")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-lookups-"))
    kafka = LocalKafka(root / "kafka", free_port(), free_port())
    progress(f"starting Kafka in {root}")
    kafka.start()
    results: dict[str, Any] = {"command": "python -m bench.lookups " + " ".join(sys.argv[1:]),
                               "machine": machine()}
    try:
        settings = settings_for(kafka, root, "lookups")
        ensure_topics(settings)
        events = preload(settings, args.users, args.events)
        progress(f"the full job over {len(events)} simulated events")
        job = run_job(settings, "jobs.recommend", root / "job")
        drain_profiles(settings, events, 600)
        job.stop()
        stack = Stack(settings)
        stack.start_server()
        users = sorted({e.user_id for e in events})
        results["lookup"] = lookup_suite(settings, users, args.seconds,
                                         [int(r) for r in args.rates.split(",") if r],
                                         args.generator)
        stack.server.stop()
    finally:
        kafka.stop()
    path = write_results("lookups", results)
    plot(results["lookup"], RESULTS / "lookups-latest.png")
    print(f"\nmachine: {results['machine']}")
    print("\n".join(lookup_lines(results["lookup"])))
    print(f"\nwrote {path} and {RESULTS / 'lookups-latest.png'}")


if __name__ == "__main__":
    main()
