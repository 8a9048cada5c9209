"""The serving process (serving/server.py) with every GetRecommendations answered by the gRPC
floor's fixed response (bench/grpc_floor.py): the same loader thread, impression producer,
health and reflection services, admin endpoint and lenient request parsing, no answer of ours.
Set beside the floor and the real server, it says what the server's scaffolding costs apart
from its handler (bench/server_parts.py). Takes the server's settings.

  python -m bench.fixed_answer_server
"""

from __future__ import annotations

from typing import Any

from bench.grpc_floor import FIXED
from reco.v1 import recommendations_pb2 as pb
from serving import server
from serving.servicer import RecommendationsServicer


class FixedAnswerServicer(RecommendationsServicer):
    async def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                                 context: Any) -> pb.GetRecommendationsResponse:
        return FIXED


if __name__ == "__main__":
    server.RecommendationsServicer = FixedAnswerServicer  # type: ignore[misc]
    server.main()
