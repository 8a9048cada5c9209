"""Where the server's CPU per request goes (issue 30, P3), at one open-loop request rate, so
that every server is measured at the same load (a server's CPU per request falls as its load
rises: gRPC handles more requests per wake-up):

- the real server (serving/server.py), impressions logged;
- the same serving process answering the gRPC floor's fixed response
  (bench/fixed_answer_server.py): its scaffolding (loader, impression producer, health,
  reflection, admin endpoint, lenient parsing) without our handler;
- the real server with one part switched off: the policy's sampling (``fixed:personal``),
  impression logging;
- the gRPC floor itself (bench/grpc_floor.py);
- our handler's Python in process, over the same store and the same users, with no gRPC
  around it (the servicer's ``answer``, impressions produced to the same broker).

Each is measured per thread of its process (the main thread runs gRPC's callbacks and our
handler; the others are gRPC's poller, the loader and librdkafka), ``--rounds`` times in turn,
after a small simulated backlog went through the full job. Writes
bench/results/server_parts-<time>.json and server_parts-latest.png.

  python -m bench.server_parts [--rate 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.backlog import served_users, settings_for
from bench.common import (
    RESULTS,
    machine,
    main_thread_cpu_s,
    process_cpu_s,
    progress,
    write_results,
)
from bench.lookups import LOADGEN, OVERLOADED, go_load, python_load, with_grpc_floor
from infra.processes import exit_on_sigterm
from infra.stack import Stack, local_kafka
from reco.arguments import positive, positive_int
from reco.config import Settings
from reco.pseudonyms import load_pseudonyms
from reco.topics import ensure_topics
from reco.v1 import recommendations_pb2 as pb
from serving.impressions import ImpressionLog
from serving.servicer import RecommendationsServicer
from serving.store import Store
from userstep.placements import PERSONAL

# what each measured server is: (name in the results, what the table and plot call it)
SERVERS = (("floor", "the gRPC floor"),
           ("scaffolding", "the serving process, fixed answer"),
           ("fixed_policy", "the real server, fixed:personal policy"),
           ("no_impressions", "the real server, impressions off"),
           ("server", "the real server"))
PLOT_NAMES = {"floor": "gRPC floor", "scaffolding": "serving process,\nfixed answer",
              "fixed_policy": "real server,\nfixed policy", "no_impressions":
              "real server,\nno impressions", "server": "real server"}
# the real server's variants: the settings changed and the part their difference names
VARIANTS: dict[str, tuple[dict[str, Any], str]] = {
    "fixed_policy": ({"policy": "fixed:personal"}, "the policy's sampling"),
    "no_impressions": ({"log_impressions": False}, "impression logging")}
Load = Callable[..., dict[str, Any]]


def per_request(load: Load, address: str, pid: int, users: list[str], seconds: float,
                rate: int) -> dict[str, Any]:
    """CPU per request of process ``pid`` under ``rate`` requests/s: all its threads and its
    main thread (after two seconds of warm-up at the same rate)."""
    load(address, users, 2.0, rate)
    before = process_cpu_s(pid), main_thread_cpu_s(pid)
    result = load(address, users, seconds, rate)
    n = max(1, result["requests"])
    total = (process_cpu_s(pid) - before[0]) / n * 1e6
    main = (main_thread_cpu_s(pid) - before[1]) / n * 1e6
    if result["achieved_per_s"] < OVERLOADED * rate:
        progress(f"  this server answered {result['achieved_per_s']:.0f} of the {rate} requests/s "
                 "asked: its CPU per request is at a lower load than the others'")
    return {"achieved_per_s": result["achieved_per_s"], "p99_us": result["p99_us"],
            "total_us": total, "main_thread_us": main, "other_threads_us": total - main}


def measure_server(settings: Settings, module: str, measure: Callable[[str, int], Any]) -> Any:
    """``measure(address, pid)`` against ``python -m module`` started as the stack starts the
    real server (same settings, environment and readiness check)."""
    stack = Stack(settings)
    stack.server.argv = [sys.executable, "-m", module]
    stack.start_server()
    try:
        pid = stack.server.pid()
        assert pid is not None
        return measure(settings.grpc_addr, pid)
    finally:
        stack.server.stop()


def handler_in_process(settings: Settings, users: list[str], requests: int = 20_000
                       ) -> dict[str, float]:
    """The servicer's answer to GetRecommendations(user, k=10), as the load generator asks it,
    timed on this thread over the server's store (the server must be stopped)."""
    store = Store(settings.store_path)
    impressions = ImpressionLog(settings)
    try:
        servicer = RecommendationsServicer(store, settings, impressions,
                                           load_pseudonyms(settings))
        asked = [pb.GetRecommendationsRequest(user_id=users[n % len(users)], k=10)
                 for n in range(requests)]
        for request in asked[:requests // 10]:  # warm the prepared lists, as a server's are
            servicer.answer(request, servicer.recommend, PERSONAL)
        started_wall, started_cpu = time.perf_counter(), time.thread_time()
        for request in asked:
            servicer.answer(request, servicer.recommend, PERSONAL)
        return {"wall_us": (time.perf_counter() - started_wall) / requests * 1e6,
                "thread_cpu_us": (time.thread_time() - started_cpu) / requests * 1e6}
    finally:
        impressions.close()
        store.close()


def parts(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the rounds, and the differences that name each part.

    >>> one = {"server": {"total_us": 470.0, "main_thread_us": 380.0},
    ...        "scaffolding": {"total_us": 250.0, "main_thread_us": 170.0},
    ...        "floor": {"total_us": 245.0, "main_thread_us": 165.0},
    ...        "in_process": {"thread_cpu_us": 100.0}}
    >>> found = parts([one])
    >>> found["handler_live_us"], found["scaffolding_over_floor_us"]
    (220.0, 5.0)
    >>> round(found["ratio_to_floor"], 2)
    1.92
    """
    def median(server: str, key: str) -> float:
        return statistics.median(r[server][key] for r in rounds)

    present = [server for server, _ in SERVERS if server in rounds[0]]
    out = {f"{server}_{key}": median(server, key) for server in present
           for key in ("total_us", "main_thread_us")}
    for variant in VARIANTS:
        if variant in present:
            out[f"{variant}_saves_us"] = out["server_total_us"] - out[f"{variant}_total_us"]
    out["handler_in_process_us"] = statistics.median(r["in_process"]["thread_cpu_us"]
                                                     for r in rounds)
    out["scaffolding_over_floor_us"] = out["scaffolding_total_us"] - out["floor_total_us"]
    out["handler_live_us"] = out["server_total_us"] - out["scaffolding_total_us"]
    out["ratio_to_floor"] = out["server_total_us"] / out["floor_total_us"]
    return out


def lines(found: dict[str, float], rate: int) -> list[str]:
    rows = [f"CPU per request at {rate} requests/s (median of the rounds):",
            f"{'':40} {'all threads':>12} {'main thread':>12}"]
    for server, what in SERVERS:
        if f"{server}_total_us" in found:
            rows.append(f"{what:40} {found[f'{server}_total_us']:10.0f} us "
                        f"{found[f'{server}_main_thread_us']:10.0f} us")
    rows += [f"the scaffolding over the floor:    {found['scaffolding_over_floor_us']:+.0f} us",
             f"our handler, live (server - fixed): {found['handler_live_us']:.0f} us",
             f"our handler, in process:            {found['handler_in_process_us']:.0f} us",
             *(f"of the live handler, {part}: {found[f'{variant}_saves_us']:.0f} us"
               for variant, (_, part) in VARIANTS.items() if f"{variant}_saves_us" in found),
             f"server / floor:                     {found['ratio_to_floor']:.2f} "
             "(issue 30's P3 asks <= 1.3)"]
    return rows


def plot(found: dict[str, float], rate: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [(server, what) for server, what in SERVERS if f"{server}_total_us" in found]
    names = [PLOT_NAMES[server] for server, _ in shown]
    main = [found[f"{server}_main_thread_us"] for server, _ in shown]
    total = [found[f"{server}_total_us"] for server, _ in shown]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    ax.bar(names, main, color="#3182ce", label="main thread (gRPC callbacks, our handler)")
    ax.bar(names, [t - m for t, m in zip(total, main, strict=True)], bottom=main,
           color="#a0aec0", label="other threads (gRPC poller, loader, librdkafka)")
    ax.axhline(1.3 * found["floor_total_us"], color="#c53030", linestyle=":",
               label="P3: 1.3 x the floor")
    ax.set_ylabel("CPU µs per request")
    ax.set_title(f"Where the server's CPU goes, {rate} requests/s open loop", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(rate: int, rounds: int, seconds: float, load: Load) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="reco-server-parts-"))
    measured: list[dict[str, Any]] = []
    with local_kafka(root) as kafka:
        settings = settings_for(kafka, root, "parts")
        ensure_topics(settings)
        users = served_users(settings, 500, 4_000, root / "job")

        def at_rate(address: str, pid: int) -> dict[str, Any]:
            return per_request(load, address, pid, users, seconds, rate)

        for n in range(rounds):
            progress(f"round {n + 1} of {rounds}: the real server, the serving process with a "
                     f"fixed answer, {len(VARIANTS)} variants of the real server, the gRPC "
                     "floor, the handler in process")
            measured.append({
                "server": measure_server(settings, "serving.server", at_rate),
                "scaffolding": measure_server(settings, "bench.fixed_answer_server", at_rate),
                **{variant: measure_server(dataclasses.replace(settings, **changes),
                                           "serving.server", at_rate)
                   for variant, (changes, _) in VARIANTS.items()},
                "floor": with_grpc_floor(at_rate),
                "in_process": handler_in_process(settings, users)})
    return {"rate": rate, "seconds": seconds, "rounds": measured, "parts": parts(measured)}


def main(argv: list[str] | None = None) -> int:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.server_parts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=positive_int, default=2_000,
                        help="open-loop requests/s (every server must keep up with it)")
    parser.add_argument("--rounds", type=positive_int, default=2)
    parser.add_argument("--seconds", type=positive, default=10.0, help="per measurement")
    args = parser.parse_args(argv)
    load: Load = go_load if LOADGEN.exists() else python_load
    if not LOADGEN.exists():
        progress("the Go load generator is not built (deploy/build_loadgen.sh): the Python one "
                 "loads the servers, on the same cores")
    results = run(args.rate, args.rounds, args.seconds, load)
    results.update(command="python -m bench.server_parts " + " ".join(argv or sys.argv[1:]),
                   generator="go" if load is go_load else "python", machine=machine())
    path = write_results("server_parts", results)
    plot(results["parts"], args.rate, RESULTS / "server_parts-latest.png")
    print("\n".join(lines(results["parts"], args.rate)))
    print(f"wrote {path} and {RESULTS / 'server_parts-latest.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
