"""A small gRPC client of the Recommendations service."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc


class RecoClient:
    def __init__(self, address: str, timeout_s: float = 2.0) -> None:
        self.channel = grpc.insecure_channel(address)
        self.stub = pb_grpc.RecommendationsStub(self.channel)
        self.timeout_s = timeout_s

    def recommendations(self, user_id: str, k: int = 10, exclude: Iterable[str] = (),
                        context: pb.Context | None = None, filters: pb.Filters | None = None
                        ) -> pb.GetRecommendationsResponse:
        request = pb.GetRecommendationsRequest(user_id=user_id, k=k,
                                               exclude_item_ids=list(exclude), context=context,
                                               filters=filters)
        return self.stub.GetRecommendations(request, timeout=self.timeout_s)

    def similar(self, item_id: str, k: int = 10, user_id: str = "",
                exclude: Iterable[str] = (), filters: pb.Filters | None = None
                ) -> pb.GetRecommendationsResponse:
        request = pb.GetSimilarItemsRequest(item_id=item_id, k=k, user_id=user_id,
                                            exclude_item_ids=list(exclude), filters=filters)
        return self.stub.GetSimilarItems(request, timeout=self.timeout_s)

    def complementary(self, item_ids: Iterable[str], k: int = 10, user_id: str = "",
                      exclude: Iterable[str] = (), filters: pb.Filters | None = None
                      ) -> pb.GetRecommendationsResponse:
        request = pb.GetComplementaryItemsRequest(item_ids=list(item_ids), k=k,
                                                  user_id=user_id,
                                                  exclude_item_ids=list(exclude),
                                                  filters=filters)
        return self.stub.GetComplementaryItems(request, timeout=self.timeout_s)

    def popular(self, category: str = "", k: int = 10, by: str = "trending",
                user_id: str = "", filters: pb.Filters | None = None
                ) -> pb.GetRecommendationsResponse:
        request = pb.GetPopularItemsRequest(category=category, k=k, by=by, user_id=user_id,
                                            filters=filters)
        return self.stub.GetPopularItems(request, timeout=self.timeout_s)

    def profile(self, user_id: str) -> pb.UserProfile:
        return self.stub.GetUserProfile(pb.GetUserProfileRequest(user_id=user_id),
                                        timeout=self.timeout_s)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> RecoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
