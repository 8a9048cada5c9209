"""The gRPC floor for the lookup benchmark: the same stack as the real server (grpc.aio on
uvloop, one process, the generated servicer base) answering GetRecommendations with a fixed
ten-item response, no store, no policy, no logging. Measured in the same run with the same load
generator, it says how much of a lookup is gRPC in Python and how much is ours.
`python -m bench.grpc_floor --addr 127.0.0.1:50990`."""

from __future__ import annotations

import argparse

import grpc
import uvloop

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


async def serve(address: str) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    pb_grpc.add_RecommendationsServicer_to_server(FixedAnswer(), server)
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"cannot listen on {address}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.grpc_floor", description=__doc__)
    parser.add_argument("--addr", required=True, help="host:port to listen on")
    uvloop.run(serve(parser.parse_args().addr))


if __name__ == "__main__":
    main()
