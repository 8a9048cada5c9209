"""The gRPC floor for the lookup benchmark: the same stack as the real server (grpc.aio on
uvloop, one process, the generated servicer base) answering GetRecommendations with a fixed
ten-item response, no store, no policy, no logging. Measured in the same run with the same load
generator, it says how much of a lookup is gRPC in Python and how much is ours.

``--threads N`` answers from a thread-pool ``grpc.server`` instead, and ``--cpu C`` pins the
process to one core: the cheapest Python gRPC server measured on these machines, a second floor.
`python -m bench.grpc_floor --addr 127.0.0.1:50990 [--threads 4 --cpu 0]`."""

from __future__ import annotations

import argparse
import os
from concurrent import futures

import grpc
import uvloop

from reco.arguments import count
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc

FIXED = pb.GetRecommendationsResponse(
    request_id="0" * 32, policy="fixed", arm="personal", model_version="floor",
    items=[pb.RecommendedItem(item_id=f"item-{n}", score=1.0 - n / 10, source="recent",
                              reason="recent", propensity=1.0) for n in range(10)])


class FixedAnswer(pb_grpc.RecommendationsServicer):
    async def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> pb.GetRecommendationsResponse:
        return FIXED


class FixedAnswerInThreads(pb_grpc.RecommendationsServicer):
    def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                           context: grpc.ServicerContext) -> pb.GetRecommendationsResponse:
        return FIXED


async def serve(address: str) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_RecommendationsServicer_to_server(FixedAnswer(), server)
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"cannot listen on {address}")
    await server.start()
    await server.wait_for_termination()


def serve_in_threads(address: str, threads: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads),
                         options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_RecommendationsServicer_to_server(FixedAnswerInThreads(), server)
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"cannot listen on {address}")
    server.start()
    server.wait_for_termination()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grpc_floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addr", required=True, help="host:port to listen on")
    parser.add_argument("--threads", type=count, default=0,
                        help="answer from a thread-pool grpc.server with this many threads "
                             "(default 0: grpc.aio on uvloop, as the real server)")
    parser.add_argument("--cpu", type=int, metavar="CORE",
                        help="pin the process (all its threads) to this core")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        available = sorted(os.sched_getaffinity(0))
        if args.cpu not in available:
            parser.error(f"--cpu {args.cpu}: this process may run on cores {available}")
        # before gRPC starts its threads: they inherit the mask
        os.sched_setaffinity(0, {args.cpu})
    if args.threads:
        serve_in_threads(args.addr, args.threads)
    else:
        uvloop.run(serve(args.addr))


if __name__ == "__main__":
    main()
