"""What the end-to-end benchmark measures against the running server: freshness (event ->
served profile), the feedback loop (click -> policy update served), catalogue coverage, and
lookup latency (bench/lookups.py)."""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from typing import Any

import grpc

from bench.common import percentile, progress
from bench.live_load import LiveShoppers
from bench.lookups import lookup_suite, worker_counts
from infra.client import RecoClient
from infra.processes import ManagedProcess
from infra.producer import EventProducer
from infra.stack import Stack
from online_models.candidates import catalogue_coverage
from reco.clock import now_ms
from reco.config import Settings
from reco.events import Event

PROBE_TIMEOUT_S = 30.0  # a probe not served by then: the job is behind the load


def freshness(settings: Settings, client: RecoClient, rate: int, probes: int) -> dict[str, Any]:
    """Background load at ``rate`` events/s, shoppers at their own pace (bench/live_load.py);
    probe events timed until their profile is served.
    Each probe user sends a first event and, a random part of two publication intervals
    (``profile_min_interval_ms``) after it, a follow-up: a shopper's second event within the
    interval waits for the timer that publishes her latest, unless the job publishes it at
    once as live (``profile_live_lag_ms``; a first event is published at once). A first event
    not served within ``PROBE_TIMEOUT_S`` ends the probes (``not_served``: it and those not
    sent): the job fell behind the load; a follow-up not served is counted
    (``follow_ups_not_served``). Each probe waits a
    random part of a checkpoint interval after the one before: a probe sent a fixed time after
    the last was seen (just after a commit) would always meet the same phase of the
    checkpoint cycle, where a shopper's events meet every phase."""
    phase = random.Random(rate)
    firsts: list[float] = []
    follow_ups: list[float] = []
    lost = lost_follow_ups = 0
    with LiveShoppers(settings, rate, f"f{rate}-{now_ms()}") as load, \
            EventProducer(settings, linger_ms=0) as producer:
        for n in range(probes):
            user = f"probe-user-{n}-{now_ms()}"
            first = Event(f"{user}-1", "product_view", user, ts=now_ms(),
                          item_id="probe-item", category="probes")
            sent = _served_after(client, producer, first)
            if sent is None:  # the job fell behind the load: later probes would wait longer
                lost = probes - n
                break
            firsts.append(sent[1])
            time.sleep(max(0.0, sent[0] + phase.uniform(0, 2 * settings.profile_min_interval_ms
                                                        / 1000) - time.monotonic()))
            follow_up = dataclasses.replace(first, event_id=f"{user}-2", ts=now_ms(),
                                            item_id="probe-item-2")
            again = _served_after(client, producer, follow_up)
            if again is not None:
                follow_ups.append(again[1])
            else:
                lost_follow_ups += 1
            time.sleep(0.2 + phase.uniform(0, settings.checkpoint_interval_ms / 1000))
    return {"rate": rate, "background_events": load.sent,
            "background_events_per_s": round(load.sent / load.seconds, 1),
            "not_served": lost, "follow_ups_not_served": lost_follow_ups,
            **_delays(firsts), "follow_up": _delays(follow_ups),
            "delays_ms": [round(d, 1) for d in firsts],
            "follow_up_delays_ms": [round(d, 1) for d in follow_ups]}


def _served_after(client: RecoClient, producer: EventProducer, event: Event,
                  timeout_s: float = PROBE_TIMEOUT_S) -> tuple[float, float] | None:
    """When ``event`` was sent (monotonic s) and how long until the server's profile of its
    user named it as her last (ms); None if it did not within ``timeout_s``."""
    sent = time.monotonic()
    producer.send(event)
    producer.flush()
    while time.monotonic() - sent < timeout_s:
        try:
            if client.profile(event.user_id).last_event_id == event.event_id:
                return sent, (time.monotonic() - sent) * 1000
        except grpc.RpcError:
            pass
        time.sleep(0.01)
    return None


def _delays(delays: list[float]) -> dict[str, Any]:
    return {"probes": len(delays), "p50_ms": percentile(delays, 50),
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


def measure_serving(settings: Settings, events: list[Event], args: argparse.Namespace,
                    results: dict[str, Any], job: ManagedProcess, broker: int | None) -> None:
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
    stack.server.stop()
    results["lookup"] = lookup_suite(settings, known, args.lookup_seconds,
                                     [int(r) for r in args.lookup_rates.split(",") if r],
                                     args.generator, worker_counts(args.serving_workers),
                                     broker)
