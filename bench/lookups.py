"""Lookup latency of the real gRPC server, with impression logging on, from a load generator in
another process: one Python caller closed loop (a call's own latency), the closed-loop maximum,
and an open loop at fixed request rates, with the lists unchanged and then with each user's list
changing as often as it is asked for (bench/churn.py), beside floors measured in the same run: a
raw store get, and the gRPC floor (bench/grpc_floor.py: the same gRPC stack answering a fixed
response) under the same load, also as a thread-pool server pinned to one core. The load comes
from bench/loadgen (Go, built by deploy/build_loadgen.sh; `make bench` builds it) or, without
Go, from the Python generator (bench/lookup.py), which takes more of the cores the server needs.
Standalone, a small simulated backlog goes through the full job first (stopped before
measuring: in production it runs elsewhere; here it would take the server's cores).
`python -m bench.lookups --help`."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.backlog import served_users, settings_for
from bench.churn import ListChurn
from bench.common import RESULTS, machine, percentile, process_cpu_s, progress, write_results
from infra.processes import ManagedProcess, exit_on_sigterm, free_port, port_open, wait_until
from infra.stack import Stack, local_kafka
from infra.topic_reader import latest_values
from reco.arguments import positive, positive_int
from reco.config import Settings
from reco.topics import ensure_topics
from serving.store import RECOMMENDATIONS, Store

GENERATORS = ("auto", "go", "python")
ROOT = Path(__file__).resolve().parent.parent
LOADGEN = ROOT / ".cache" / "bin" / "loadgen"
OVERLOADED = 0.95  # achieved/asked below this: the server did not keep up
# The second floor: a thread-pool server pinned to one core, the cheapest Python gRPC server
# measured here (the GIL is handed over on one core instead of across two)
PINNED_FLOOR = ("--threads", "4", "--cpu", str(min(os.sched_getaffinity(0))))


def python_load(address: str, users: list[str], seconds: float,
                rate: int | None = None) -> dict[str, Any]:
    """The Python generator (bench/lookup.py) in its own process."""
    command = [sys.executable, "-m", "bench.lookup", "--addr", address,
               "--users", ",".join(users), "--seconds", str(seconds)]
    out = subprocess.run([*command, *(["--rate", str(rate)] if rate else [])],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    latencies = result.pop("latencies_us")
    return {**result, "generator": "python", "achieved_per_s": result["requests"] / seconds,
            "p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
            "p999_us": percentile(latencies, 99.9)}


def go_load(address: str, users: list[str], seconds: float,
            rate: int | None = None) -> dict[str, Any]:
    """bench/loadgen: open loop at ``rate``, else closed loop with 8 callers."""
    command = [str(LOADGEN), "-addr", address, "-users", ",".join(users),
               "-seconds", str(seconds), *(["-rate", str(rate)] if rate else [])]
    return dict(json.loads(subprocess.run(command, capture_output=True, text=True,
                                          check=True).stdout))


def cpu_per_request(run: Callable[[], dict[str, Any]], server: int, broker: int | None
                    ) -> dict[str, Any]:
    """``run()``'s result with the CPU each part spent per request: the server's processes,
    the broker (impressions), the load generator (a child of this process)."""
    before = (process_cpu_s(server, True), process_cpu_s(broker) if broker else 0.0,
              resource.getrusage(resource.RUSAGE_CHILDREN))
    result = run()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = max(1, result["requests"])
    generator = (after_children.ru_utime + after_children.ru_stime
                 - before[2].ru_utime - before[2].ru_stime)
    result["cpu_us_per_request"] = {
        "server": (process_cpu_s(server, True) - before[0]) / n * 1e6,
        "broker": (process_cpu_s(broker) - before[1]) / n * 1e6 if broker else None,
        "load_generator": generator / n * 1e6}
    return result


def _marked(result: dict[str, Any], rate: int | None) -> dict[str, Any]:
    if rate:
        result["overloaded"] = result["achieved_per_s"] < OVERLOADED * rate
    return result


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
                 generator: str = "auto", workers: tuple[int, ...] = (1,),
                 broker: int | None = None) -> dict[str, Any]:
    """Starts the server on ``settings``' store with each number of ``workers`` in turn and
    measures it, then the gRPC floor (nothing may listen on ``settings.grpc_addr``). Each server
    is measured twice at each rate: with the lists as they are (a request reuses what an earlier
    one prepared) and with each user's list changing as often as it is asked for (bench/churn.py:
    every request prepares a list, and the loader writes as many as are asked for). With the
    broker's pid, the closed-loop and the changing runs say how much CPU each part spends per
    request."""
    use_go = generator == "go" or (generator == "auto" and LOADGEN.exists())
    if use_go and not LOADGEN.exists():
        raise SystemExit("no load generator at .cache/bin/loadgen: run deploy/build_loadgen.sh "
                         "(needs Go) or pass --generator python")
    if not use_go:
        progress("  the Go load generator is not built (deploy/build_loadgen.sh): the Python "
                 "one loads the server, on the same cores")
    load = go_load if use_go else python_load

    def series(address: str, what: str, server: int,
               lists: dict[str, bytes] | None = None) -> dict[str, Any]:
        progress(f"lookup latency ({what}): closed-loop maximum")
        out: dict[str, Any] = {"closed_loop_max": cpu_per_request(
            lambda: load(address, users, seconds), server, broker), "open_loop": []}
        for rate in rates:
            progress(f"lookup latency ({what}): open loop at {rate} requests/s")
            out["open_loop"].append(_marked(cpu_per_request(
                functools.partial(load, address, users, seconds, rate), server, broker), rate))
        if lists is not None:
            out["open_loop_changing"] = [changing(address, what, server, lists, rate)
                                         for rate in rates]
        return out

    def changing(address: str, what: str, server: int, lists: dict[str, bytes],
                 rate: int) -> dict[str, Any]:
        progress(f"lookup latency ({what}): open loop at {rate} requests/s, each user's list "
                 "changing as often as it is asked for")
        with ListChurn(settings, lists, users, rate) as churn:
            run = cpu_per_request(lambda: load(address, users, seconds, rate), server, broker)
        run["lists_republished"] = churn.sent
        return _marked(run, rate)

    lists = {key.decode(): value for key, value in
             latest_values(settings, settings.topic_recommendations).items() if key and value}
    result: dict[str, Any] = {"servers": []}
    for n in workers:
        own = dataclasses.replace(settings, serving_workers=n)
        stack = Stack(own)
        stack.start_server()
        try:
            entry: dict[str, Any] = {"workers": n}
            if not result["servers"]:  # the store exists (and is loaded) once a server ran
                progress("lookup latency: one Python caller, closed loop")
                entry["one_caller"] = python_load(own.grpc_addr, users, seconds)
                result["store_get"] = store_floor(settings, users)
            pid = stack.server.pid()
            assert pid is not None
            entry.update(series(own.grpc_addr, f"server, {n} process{'es' if n > 1 else ''}",
                                pid, lists))
            result["servers"].append(entry)
        finally:
            stack.server.stop()
    result["grpc_floor"] = with_grpc_floor(
        lambda address, pid: series(address, "gRPC floor", pid))
    result["grpc_floor_pinned"] = with_grpc_floor(
        lambda address, pid: series(address, "gRPC floor, thread pool pinned to a core", pid),
        PINNED_FLOOR)
    return result


def with_grpc_floor(measure: Callable[[str, int], dict[str, Any]],
                    options: tuple[str, ...] = ()) -> dict[str, Any]:
    """``measure(address, pid)`` against the gRPC floor server (bench/grpc_floor.py, with
    ``options``), started and stopped here."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    run_dir = Path(tempfile.mkdtemp(prefix="reco-grpc-floor-"))
    floor = ManagedProcess("grpc-floor", [sys.executable, "-m", "bench.grpc_floor", "--addr",
                                          address, *options], run_dir)
    floor.start()
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 30, "gRPC floor server",
                   floor.alive, floor.log_path)
        pid = floor.pid()
        assert pid is not None
        return measure(address, pid)
    finally:
        floor.stop()


def lookup_lines(lookup: dict[str, Any]) -> list[str]:
    first, get = lookup["servers"][0], lookup["store_get"]
    one = first["one_caller"]
    lines = [f"lookup      one Python caller: p50 {one['p50_us']:.0f} us, p99 {one['p99_us']:.0f}"
             f" us; store get p50 {get['p50_us']:.1f} us",
             f"            load from {first['closed_loop_max']['generator']}; the gRPC floor "
             f"(fixed answer, 1 process): {_floor(lookup['grpc_floor'])}"]
    if lookup.get("grpc_floor_pinned"):  # absent from results of earlier versions
        lines.append("            the thread-pool floor pinned to one core: "
                     + _floor(lookup["grpc_floor_pinned"]))
    for server in lookup["servers"]:
        lines.append(f"server x{server['workers']}   closed-loop max "
                     f"{server['closed_loop_max']['achieved_per_s']:.0f} req/s; CPU per "
                     f"request: {_cpu(server['closed_loop_max'])}")
        for run in server["open_loop"]:
            lines.append(_open_line(run))
        if server.get("open_loop_changing"):
            lines.append("  each user's list changing as often as it is asked for:")
            lines += [_open_line(run) for run in server["open_loop_changing"]]
    return lines


def _floor(floor: dict[str, Any]) -> str:
    closed = floor["closed_loop_max"]
    return (f"closed-loop max {closed['achieved_per_s']:.0f} req/s ({_cpu(closed)}), open-loop "
            "p99 " + ", ".join(f"{_p99(r)} at {r['rate']}/s" for r in floor["open_loop"]))


def _open_line(run: dict[str, Any]) -> str:
    return (f"  open loop {run['rate']:6.0f} req/s asked, {run['achieved_per_s']:6.0f} done: "
            f"p50 {run['p50_us']:.0f} us, p99 {_p99(run)}, p99.9 {run['p999_us']:.0f} us, "
            f"{run['errors']} errors{_from_send(run)}"
            + (f"; CPU per request: {_cpu(run)}" if "cpu_us_per_request" in run else ""))


def _from_send(run: dict[str, Any]) -> str:
    """The Go generator also times each call from its actual send (what ghz reports): the
    difference is the generator's own lateness on a busy machine, not the server's queue."""
    if "from_send_p99_us" not in run:
        return ""
    return (f"; from the actual send p99 {run['from_send_p99_us']:.0f} us (sends p99 "
            f"{run['late_p99_us']:.0f} us late)")


def _cpu(run: dict[str, Any]) -> str:
    cpu = run["cpu_us_per_request"]
    return ", ".join(f"{part.replace('_', ' ')} {us:.0f} us" for part, us in cpu.items()
                     if us is not None)


def _p99(run: dict[str, Any]) -> str:
    return f"{run['p99_us']:.0f} us" + (" OVERLOADED" if run.get("overloaded") else "")


def draw_lookups(ax: Any, lookup: dict[str, Any]) -> None:
    """Open-loop p99 against the rate asked, per server and for the gRPC floor, on ``ax``."""
    for server in lookup["servers"]:
        runs = server["open_loop"]
        line = ax.plot([r["rate"] for r in runs], [r["p99_us"] / 1000 for r in runs],
                       marker="o", label=f"p99, {server['workers']} process(es)")[0]
        changing = server.get("open_loop_changing") or []
        ax.plot([r["rate"] for r in changing], [r["p99_us"] / 1000 for r in changing],
                marker="s", linestyle="-.", color=line.get_color(),
                label=f"p99, {server['workers']} process(es), lists changing")
    floor = lookup["grpc_floor"]["open_loop"]
    ax.plot([r["rate"] for r in floor], [r["p99_us"] / 1000 for r in floor], marker="x",
            linestyle="--", color="#999999", label="p99, gRPC floor (fixed answer)")
    pinned = (lookup.get("grpc_floor_pinned") or {}).get("open_loop", [])
    ax.plot([r["rate"] for r in pinned], [r["p99_us"] / 1000 for r in pinned], marker="+",
            linestyle=":", color="#555555",
            label="p99, gRPC floor, thread pool pinned to a core")
    ax.axhline(2.0, color="#c53030", linestyle=":", label="goal at 2,000/s: 2 ms")
    ax.plot([4000], [10.0], marker="*", markersize=10, linestyle="none", color="#c53030",
            label="goal at 4,000/s: 10 ms")
    ax.set_yscale("log")
    ax.set_xlabel("requests/s asked (open loop)")
    ax.set_ylabel("lookup latency (ms)")
    ax.legend(fontsize=7)


def plot(lookup: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw_lookups(ax, lookup)
    ax.set_title("GetRecommendations with impressions logged, open loop", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generator", choices=GENERATORS, default="auto",
                        help="lookup load: the Go generator when built (auto), or the Python one")
    parser.add_argument("--serving-workers", default="1,2",
                        help="serving processes to measure lookups with, in turn")


def worker_counts(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(",") if n)


def main() -> None:
    exit_on_sigterm()  # the broker and jobs it starts stop with it
    parser = argparse.ArgumentParser(prog="python -m bench.lookups", description=__doc__)
    parser.add_argument("--events", type=positive_int, default=4_000, help="simulated backlog")
    parser.add_argument("--users", type=positive_int, default=500, help="simulated users asked for")
    parser.add_argument("--seconds", type=positive, default=10.0, help="per measurement")
    parser.add_argument("--rates", default="1000,2000,4000", help="open-loop requests/s")
    add_load_options(parser)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reco-lookups-"))
    results: dict[str, Any] = {"command": "python -m bench.lookups " + " ".join(sys.argv[1:]),
                               "machine": machine()}
    with local_kafka(root) as kafka:
        settings = settings_for(kafka, root, "lookups")
        ensure_topics(settings)
        users = served_users(settings, args.users, args.events, root / "job")
        results["lookup"] = lookup_suite(settings, users, args.seconds,
                                         [int(r) for r in args.rates.split(",") if r],
                                         args.generator, worker_counts(args.serving_workers),
                                         kafka.process.pid())
    path = write_results("lookups", results)
    plot(results["lookup"], RESULTS / "lookups-latest.png")
    print(f"\nmachine: {results['machine']}")
    print("\n".join(lookup_lines(results["lookup"])))
    print(f"\nwrote {path} and {RESULTS / 'lookups-latest.png'}")


if __name__ == "__main__":
    main()
