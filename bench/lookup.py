"""Closed-loop GetRecommendations load from its own process: `python -m bench.lookup --help`."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time

import grpc
import uvloop

from reco.arguments import positive, positive_int
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


async def _open_loop(address: str, users: list[str], rate: float, seconds: float,
                     k: int) -> dict[str, object]:
    """Requests sent on a fixed schedule whether or not earlier ones finished; latency is
    measured from the scheduled send time, so queueing counts (no coordinated omission)."""
    channel = grpc.aio.insecure_channel(address)
    stub = pb_grpc.RecommendationsStub(channel)
    rng = random.Random(1)
    requests = [pb.GetRecommendationsRequest(user_id=u, k=k) for u in users]
    for request in requests[:50]:
        await stub.GetRecommendations(request)
    latencies: list[float] = []
    errors = 0

    async def one(request: pb.GetRecommendationsRequest, scheduled: float) -> None:
        nonlocal errors
        try:
            await stub.GetRecommendations(request, timeout=2.0)
        except grpc.RpcError:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(rng.choice(requests), scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    await channel.close()
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed, "rate": rate,
            "latencies_us": [round(x * 1e6, 1) for x in latencies]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description="gRPC lookups from their own process, closed loop (one caller as fast as "
                    "it can) or open loop (--rate requests per second); prints JSON")
    parser.add_argument("--addr", required=True)
    parser.add_argument("--users", required=True, help="comma-separated user ids to ask for")
    parser.add_argument("--seconds", type=positive, default=5.0)
    parser.add_argument("--rate", type=positive, help="open loop at this many requests per second")
    parser.add_argument("-k", type=positive_int, default=10)
    args = parser.parse_args()
    users = args.users.split(",")
    if args.rate:
        result = uvloop.run(_open_loop(args.addr, users, args.rate, args.seconds, args.k))
    else:
        result = closed_loop(args.addr, users, args.seconds, args.k)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
