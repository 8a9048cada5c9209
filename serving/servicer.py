"""The Recommendations gRPC servicer: lookups in the store, nothing computed on the read path
but slicing and exclusion."""

from __future__ import annotations

import uuid

import grpc

from reco.topics import POPULAR_KEY
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from serving.impressions import ImpressionLog
from serving.store import PROFILES, RECOMMENDATIONS, Store

MAX_K = 100
MAX_USER_ID = 256
MAX_EXCLUDE = 1000


def request_problem(user_id: str, k: int | None = None, exclude: int = 0) -> str | None:
    """Why a request is invalid, or None."""
    if not user_id or not user_id.strip():
        return "user_id is empty; pass the id your events use"
    if len(user_id) > MAX_USER_ID:
        return f"user_id is longer than {MAX_USER_ID} characters"
    if k is not None and not 1 <= k <= MAX_K:
        return f"k must be between 1 and {MAX_K}, got {k}"
    if exclude > MAX_EXCLUDE:
        return f"at most {MAX_EXCLUDE} exclude_item_ids, got {exclude}"
    return None


class RecommendationsServicer(pb_grpc.RecommendationsServicer):
    def __init__(self, store: Store, default_model_version: str,
                 impressions: ImpressionLog | None = None) -> None:
        self.store = store
        self.default_model_version = default_model_version
        self.impressions = impressions

    def _list(self, key: str) -> pb.RecommendationList | None:
        raw = self.store.get(RECOMMENDATIONS, key)
        return pb.RecommendationList.FromString(raw) if raw is not None else None

    def recommend(self, request: pb.GetRecommendationsRequest) -> pb.GetRecommendationsResponse:
        stored = self._list(request.user_id)
        cold_start = stored is None
        chosen = stored or self._list(POPULAR_KEY) or pb.RecommendationList()
        # A user's list is already topped up with popular items by the job, which knows what
        # the user bought; the server only slices it.
        excluded = set(request.exclude_item_ids)
        items = [i for i in chosen.items if i.item_id not in excluded][: request.k]
        return pb.GetRecommendationsResponse(
            request_id=uuid.uuid4().hex, items=items, segment=chosen.segment,
            model_version=chosen.model_version or self.default_model_version,
            updated_at_ms=chosen.updated_at_ms, cold_start=cold_start)

    async def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> pb.GetRecommendationsResponse:
        problem = request_problem(request.user_id, request.k, len(request.exclude_item_ids))
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        response = self.recommend(request)
        if self.impressions is not None:
            self.impressions.log(request, response)
        return response

    async def GetUserProfile(self, request: pb.GetUserProfileRequest,
                             context: grpc.aio.ServicerContext) -> pb.UserProfile:
        problem = request_problem(request.user_id)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        raw = self.store.get(PROFILES, request.user_id)
        if raw is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no profile for user {request.user_id!r}: no event seen yet")
        return pb.UserProfile.FromString(raw)
