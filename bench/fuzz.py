"""Fuzz the running stack with hostile records and requests: valid-but-unusual and malformed
events (late and future times, lone surrogates in every string field, time-zone folders and
over-long names, ids and categories equal to internal keys, huge and non-finite numbers,
malformed JSON, duplicates), impressions with out-of-range times, features, propensities and
arms, item-factor chunks that disagree, and gRPC requests with hostile contexts and bytes that
are no request. Fresh random values each run (``--seed`` to repeat one).

It starts its own stack (Kafka, the job as ``make up`` runs it with its bounded restarts, the
gRPC server) in a temporary folder, sends everything, then a canary event per kind of record,
and checks: the job is RUNNING with zero restarts, every canary was learned (so the job went
on past every hostile record), and no request was answered UNKNOWN or INTERNAL. JSON goes to
bench/results/fuzz-<time>.json.

  python -m bench.fuzz --records 5000 --requests 2000
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from bench.backlog import settings_for
from bench.common import write_results
from infra.client import RecoClient
from infra.flink_rest import flink_job_restarts, flink_job_running
from infra.processes import exit_on_sigterm
from infra.producer import EventProducer
from infra.stack import Stack, local_kafka
from online_models.factors import ItemFactors
from reco.arguments import positive_int
from reco.config import Settings
from reco.events import EVENT_TYPES, Event
from reco.keys import FACTORS_PREFIX, GLOBAL_LIST, NEW_ITEMS_PREFIX, POPULAR_LIST
from reco.reporting import machine, progress
from reco.v1 import recommendations_pb2 as pb

DAY_MS = 86_400_000
INTERNAL = [POPULAR_LIST, GLOBAL_LIST, "__popular__", "__popular__:1", "segment:1",
            f"{FACTORS_PREFIX}0", "__factors__:0", f"{NEW_ITEMS_PREFIX}x", "new:x", "category/x"]
ZONES = ["Europe", "America/Argentina", "Etc", "x" * 300, "../../etc/passwd", "UTC/", "",
         "Europe/Berlin\x00", "Mars/Olympus"]
FIELDS = ["user_id", "item_id", "category", "event_id", "device", "country", "region",
          "timezone", "session_id", "request_id", "user_agent"]
HUGE = [1e308, -1e308, 1e20, 2**70, -(2**63), float("nan"), float("inf"), 1e-320]
KINDS = ["late", "future", "surrogate", "timezone", "internal", "huge", "malformed",
         "duplicate", "impression", "factors"]


class Fuzzer:
    def __init__(self, rng: random.Random, settings: Settings) -> None:
        self.rng = rng
        self.settings = settings
        self.sent: list[tuple[str, bytes]] = []

    def event(self, **fields: Any) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(sorted(EVENT_TYPES - {"checkout_start"}))
        doc = {"event_id": f"fz-{rng.getrandbits(48):x}", "event_type": kind,
               "user_id": f"fz-u{rng.randrange(200)}", "item_id": f"fz-i{rng.randrange(300)}",
               "ts": int(time.time() * 1000) - rng.randrange(3_600_000),
               "category": f"fz-c{rng.randrange(20)}"}
        doc.update(fields)
        return doc

    def record(self, kind: str) -> tuple[str, bytes]:
        rng, now = self.rng, int(time.time() * 1000)
        topic = f"{self.settings.event_topic_prefix}{rng.choice(sorted(EVENT_TYPES))}"
        if kind == "late":
            doc = self.event(ts=now - rng.randrange(1, 700) * DAY_MS)
        elif kind == "future":
            doc = self.event(ts=now + rng.randrange(3_700_000, 4_102_444_700_000 - now))
        elif kind == "surrogate":
            doc = self.event(**{rng.choice(FIELDS): "fz" + chr(rng.randrange(0xD800, 0xE000))})
        elif kind == "timezone":
            doc = self.event(timezone=rng.choice(ZONES))
        elif kind == "internal":
            key = rng.choice(INTERNAL)
            doc = self.event(**{rng.choice(["user_id", "item_id", "category"]): key})
        elif kind == "huge":
            doc = self.event(**{rng.choice(["price", "dwell_ms", "quantity", "scroll_depth",
                                            "ts"]): rng.choice(HUGE)})
        elif kind == "malformed":
            return topic, rng.choice([b"{", b"[]", b'"x"', b"\xff\xfe", b"{}" * 3,
                                      b'{"a":' * 2000, json.dumps(self.event(
                                          user_id=["u"])).encode(),
                                      json.dumps(self.event(category="c" * 100_000)).encode()])
        elif kind == "duplicate" and self.sent:
            return rng.choice(self.sent)
        elif kind == "impression":
            return self.settings.topic_impressions, self.impression(now)
        elif kind == "factors":
            return self.settings.topic_item_factors, self.factor_chunk()
        else:
            doc = self.event()
        return topic, json.dumps(doc).encode()

    def impression(self, now: int) -> bytes:
        rng = self.rng
        doc: dict[str, Any] = {
            "request_id": rng.choice([f"fz-r{rng.getrandbits(32)}", "fz\ud800", ""]),
            "user_id": f"fz-u{rng.randrange(200)}",
            "served_at_ms": rng.choice([now, 10**20, -5, 1.5, now + 10 * DAY_MS, "x"]),
            "arm": rng.choice(["personal", "trending", "nonsense-arm", ""]),
            "features": {"bias": rng.choice([1.0, 1e300, -1e300, 0.5])},
            "items": [{"item_id": f"fz-i{rng.randrange(300)}",
                       "propensity": rng.choice([0.5, 0.0, 2.0, -1.0, 1.0])}]}
        return json.dumps(doc).encode()

    def factor_chunk(self) -> bytes:
        rng = self.rng
        dim = rng.choice([2, 3, 4])
        model = ItemFactors(f"fz-v{rng.randrange(3)}", [f"fz-i{rng.randrange(300)}"],
                            np.full((1, dim), 0.1), 0.1, 1.0)
        [chunk] = model.to_chunks(chunk_items=10, trained_at_ms=int(time.time() * 1000))
        chunk.chunks = rng.choice([1, 2])
        return rng.choice([chunk.SerializeToString(), b"\x0a\xff garbage"])


def requests(rng: random.Random, address: str, n: int) -> Counter[str]:
    """``n`` hostile and ordinary requests; the status codes they got."""
    codes: Counter[str] = Counter()
    with grpc.insecure_channel(address) as channel:
        raw = channel.unary_unary("/reco.v1.Recommendations/GetRecommendations",
                                  request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        for _ in range(n):
            context = pb.Context(
                device=rng.choice(["mobile", "x" * 100, ""]),
                ts=rng.choice([0, int(time.time() * 1000), 10**15, 2**63 - 1, -(2**63), -1]),
                timezone=rng.choice(["", "Europe/Berlin", *ZONES[:5]]),
                region=rng.choice(["", "r" * rng.choice([10, 200, 1_000_000])]),
                extra=rng.choice([{}, {"k": "v" * rng.choice([5, 1_000_000])},
                                  {f"k{i}": "v" for i in range(40)}]))
            request = pb.GetRecommendationsRequest(
                user_id=rng.choice([f"fz-u{rng.randrange(200)}", "", "u" * 300, *INTERNAL]),
                k=rng.choice([1, 10, 0, 101, -5, 2**31 - 1]), context=context,
                exclude_item_ids=[f"i{j}" for j in range(rng.choice([0, 3, 1001]))])
            body = rng.choice([request.SerializeToString()] * 4 + [
                b"\xff\xff\xff", b"\x0a\x02\xff\xfe", b""])
            try:
                raw(body, timeout=10)
                codes["OK"] += 1
            except grpc.RpcError as exc:
                codes[exc.code().name] += 1
    return codes


def canaries(settings: Settings, client: RecoClient, timeout_s: float) -> bool:
    """One ordinary event per kind after the fuzz: all learned means the job went on."""
    users = [f"fz-canary-{kind}" for kind in KINDS]
    with EventProducer(settings) as producer:
        producer.send_all([Event(f"fz-canary-{u}", "product_view", u, ts=int(time.time() * 1000),
                                 item_id="fz-i1", category="fz-c1") for u in users])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if all(client.profile(u).event_count == 1 for u in users):
                return True
        except grpc.RpcError:
            pass
        time.sleep(0.5)
    return False


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=positive_int, default=5_000)
    parser.add_argument("--requests", type=positive_int, default=2_000)
    parser.add_argument("--seed", type=int, default=None, help="default: fresh each run")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="reco-fuzz-"))
    results: dict[str, Any] = {"command": "python -m bench.fuzz " + " ".join(sys.argv[1:]),
                               "seed": seed, "machine": machine()}
    with local_kafka(root) as kafka:
        settings = settings_for(kafka, root, "fuzz").replace(restart_attempts=3)
        stack = Stack(settings)
        from reco.topics import ensure_topics
        ensure_topics(settings)
        try:
            stack.start_job(fresh=True)
            stack.start_server()
            fuzzer = Fuzzer(rng, settings)
            kinds: Counter[str] = Counter()
            progress(f"sending {args.records:,} hostile records (seed {seed})")
            with EventProducer(settings) as producer:
                for _ in range(args.records):
                    kind = rng.choice(KINDS)
                    topic, value = fuzzer.record(kind)
                    fuzzer.sent.append((topic, value))
                    producer.send_raw(topic, value, key=f"fz-{rng.randrange(50)}".encode())
                    kinds[kind] += 1
            progress(f"sending {args.requests:,} hostile requests")
            codes = requests(rng, settings.grpc_addr, args.requests)
            with RecoClient(settings.grpc_addr, timeout_s=5) as client:
                went_on = canaries(settings, client, 180)
            results.update(records=dict(kinds), request_codes=dict(codes),
                           unknown_or_internal=codes["UNKNOWN"] + codes["INTERNAL"],
                           job_running=flink_job_running(settings.flink_rest_port),
                           job_restarts=flink_job_restarts(settings.flink_rest_port),
                           canaries_learned=went_on)
        finally:
            stack.down(only_started=True)
    path = write_results("fuzz", results)
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=2))
    print(f"wrote {path}")
    ok = (results.get("job_running") and results.get("job_restarts") == 0
          and results.get("unknown_or_internal") == 0 and results.get("canaries_learned"))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
