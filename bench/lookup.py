"""Closed-loop GetRecommendations load from its own process: `python -m bench.lookup --help`."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import grpc

from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc


def closed_loop(address: str, users: list[str], seconds: float, k: int) -> dict[str, object]:
    channel = grpc.insecure_channel(address)
    stub = pb_grpc.RecommendationsStub(channel)
    rng = random.Random(1)
    requests = [pb.GetRecommendationsRequest(user_id=u, k=k) for u in users]
    for request in requests[:50]:  # warm the channel
        stub.GetRecommendations(request)
    latencies: list[float] = []
    errors = 0
    end = time.perf_counter() + seconds
    while (start := time.perf_counter()) < end:
        try:
            stub.GetRecommendations(rng.choice(requests), timeout=1.0)
        except grpc.RpcError:
            errors += 1
        latencies.append(time.perf_counter() - start)
    channel.close()
    return {"requests": len(latencies), "errors": errors, "seconds": seconds,
            "latencies_us": [round(x * 1e6, 1) for x in latencies]}


def main() -> None:
    parser = argparse.ArgumentParser(description="closed-loop gRPC lookups; prints JSON")
    parser.add_argument("--addr", required=True)
    parser.add_argument("--users", required=True, help="comma-separated user ids to ask for")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    json.dump(closed_loop(args.addr, args.users.split(","), args.seconds, args.k), sys.stdout)


if __name__ == "__main__":
    main()
