"""What the end-to-end benchmark measures against the running server: freshness (event ->
served profile), the feedback loop (click -> policy update served), catalogue coverage, and
lookup latency closed and open loop next to a raw store get."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc

from bench.common import percentile, progress
from online_models.candidates import catalogue_coverage
from reco.client import RecoClient
from reco.config import Settings
from reco.events import Event
from reco.processes import ManagedProcess
from reco.producer import EventProducer
from reco.simulator import ShopperSimulation, SimConfig
from reco.stack import Stack
from serving.store import RECOMMENDATIONS, Store


def now_ms() -> int:
    return int(time.time() * 1000)


def freshness(settings: Settings, client: RecoClient, rate: int, probes: int) -> dict[str, Any]:
    """Background load at ``rate`` events/s; probe events timed until their profile is served."""
    stop = threading.Event()
    sim_events = list(ShopperSimulation(SimConfig(n_users=500, seed=9,
                                                  run_id=f"f{rate}-{now_ms()}")).events())

    def background() -> None:
        with EventProducer(settings) as producer:
            for n, event in enumerate(sim_events):
                if stop.is_set():
                    break
                producer.send(dataclasses.replace(event, ts=now_ms()))
                time.sleep(max(0.0, (n + 1) / rate - (time.monotonic() - started)))

    started = time.monotonic()
    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    delays = []
    with EventProducer(settings, linger_ms=0) as producer:
        for n in range(probes):
            probe = Event(f"probe-{rate}-{n}-{now_ms()}", "product_view", f"probe-user-{n}",
                          ts=now_ms(), item_id="probe-item", category="probes")
            sent = time.monotonic()
            producer.send(probe)
            producer.flush()
            while time.monotonic() - sent < 30:
                try:
                    if client.profile(probe.user_id).last_event_id == probe.event_id:
                        delays.append((time.monotonic() - sent) * 1000)
                        break
                except grpc.RpcError:
                    pass
                time.sleep(0.01)
            time.sleep(0.2)
    stop.set()
    thread.join()
    return {"rate": rate, "probes": len(delays), "p50_ms": percentile(delays, 50),
            "p95_ms": percentile(delays, 95), "p99_ms": percentile(delays, 99),
            "max_ms": max(delays, default=float("nan"))}


def policy_loop(settings: Settings, client: RecoClient, users: list[str],
                probes: int) -> dict[str, Any]:
    """A request, a click on its first item naming the request, and the time until the server
    answers with a policy that learned the reward (impression -> job join -> shard statistics
    -> policy topic -> loader -> policy)."""
    def rewards() -> int:
        return int(client.recommendations(users[0], 1).policy_version.rpartition("@")[2])

    delays = []
    with EventProducer(settings, linger_ms=0) as producer:
        for n in range(probes):
            user = users[n % len(users)]
            reply = client.recommendations(user, 5)
            before = rewards()
            time.sleep(0.3)  # the impression is logged asynchronously; let it go first
            sent = time.monotonic()
            producer.send(Event(f"policy-probe-{n}-{now_ms()}", "click", user, ts=now_ms(),
                                item_id=reply.items[0].item_id, request_id=reply.request_id))
            producer.flush()
            while time.monotonic() - sent < 30:
                if rewards() > before:
                    delays.append((time.monotonic() - sent) * 1000)
                    break
                time.sleep(0.02)
    return {"probes": probes, "learned": len(delays), "p50_ms": percentile(delays, 50),
            "max_ms": max(delays, default=float("nan"))}


def coverage(client: RecoClient, users: list[str], catalogue: set[str], k: int = 10
             ) -> dict[str, Any]:
    lists = [[i.item_id for i in client.recommendations(u, k).items] for u in users]
    return {"users": len(users), "k": k, "catalogue": len(catalogue),
            "coverage": catalogue_coverage(lists, len(catalogue))}


def open_loop(settings: Settings, users: list[str], rate: int, seconds: float
              ) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.lookup", "--addr", settings.grpc_addr,
                          "--users", ",".join(users), "--seconds", str(seconds),
                          "--rate", str(rate)], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    latencies = result.pop("latencies_us")
    return {**result, "achieved_per_s": result["requests"] / result["seconds"],
            "p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
            "p999_us": percentile(latencies, 99.9)}


def lookups(settings: Settings, users: list[str], seconds: float) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "bench.lookup", "--addr", settings.grpc_addr,
                          "--users", ",".join(users), "--seconds", str(seconds)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    latencies = result.pop("latencies_us")
    secondary = Store(Path(settings.store_path).parent / "secondary",
                      secondary_of=settings.store_path)
    secondary.catch_up()
    floor = []
    for user in users * max(1, 20_000 // len(users)):
        start = time.perf_counter()
        secondary.get(RECOMMENDATIONS, user)
        floor.append((time.perf_counter() - start) * 1e6)
    secondary.close()
    return {**result, "requests_per_s": result["requests"] / seconds,
            "p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
            "p999_us": percentile(latencies, 99.9),
            "store_get_p50_us": percentile(floor, 50), "store_get_p99_us": percentile(floor, 99)}


def measure_serving(settings: Settings, events: list[Event], args: argparse.Namespace,
                    results: dict[str, Any], job: ManagedProcess) -> None:
    """With the full job running: freshness, the feedback loop, coverage. Then, with the job
    stopped (in production it runs elsewhere; here it would take the cores from the server),
    lookup latency against the server with impression logging on: closed loop, open loop at
    fixed rates, and a raw store get as the floor."""
    stack = Stack(settings)
    stack.start_server()
    known = sorted({e.user_id for e in events})[:500]
    with RecoClient(settings.grpc_addr) as client:
        results["freshness"] = []
        sustainable = int(0.8 * results["throughput"]["full"]["events_per_s"])
        for rate in (sustainable if r == "sustainable" else int(r)
                     for r in args.rates.split(",")):
            progress(f"freshness at {rate} events/s")
            results["freshness"].append(freshness(settings, client, rate, args.probes))
        progress("feedback loop: click -> policy update served")
        results["policy_loop"] = policy_loop(settings, client, known, args.probes)
        catalogue = {e.item_id for e in events if e.item_id}
        results["coverage"] = coverage(client, known, catalogue)
    job.stop()
    progress("lookup latency (closed loop, another process; the job stopped)")
    results["lookup"] = lookups(settings, known, args.lookup_seconds)
    results["lookup_open_loop"] = []
    for rate in (int(r) for r in args.lookup_rates.split(",") if r):
        progress(f"lookup latency, open loop at {rate} requests/s")
        results["lookup_open_loop"].append(open_loop(settings, known, rate,
                                                     args.lookup_seconds))
    stack.server.stop()
