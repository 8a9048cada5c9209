"""The Recommendations gRPC servicer. The job computed each user's candidate pool; per request
the server adds co-occurring items of the user's recent ones (from the item features), builds
the bandit context (the user's features from the job, the request's device and local time),
lets the policy choose the mix, and blends the pool with it. Unknown users get the popular pool,
with a segment from their context."""

from __future__ import annotations

import time
import uuid

import grpc

from features.context import event_context
from online_models.bandit_context import bandit_context
from online_models.mixes import serve
from online_models.pool import cooccurring
from reco.config import Settings
from reco.topics import POPULAR_KEY, segment_popular_key
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from serving.impressions import ImpressionLog
from serving.policy import ServingPolicy
from serving.segments import SegmentDirectory
from serving.store import ITEMS, PROFILES, RECOMMENDATIONS, Store

COOCCUR_SEEDS = 3  # recent items whose co-occurring items join the pool
NEIGHBOUR_CACHE = 50_000  # items whose parsed co-occurrences are kept

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
    def __init__(self, store: Store, settings: Settings,
                 impressions: ImpressionLog | None = None) -> None:
        self.store = store
        self.default_model_version = settings.model_version
        self.diversity = settings.diversity
        self.impressions = impressions
        self.policy = ServingPolicy(settings, store)
        self.segments = SegmentDirectory(store)
        self._neighbour_cache: dict[str, tuple[bytes, list[tuple[str, float]]]] = {}

    def _list(self, key: str) -> pb.RecommendationList | None:
        raw = self.store.get(RECOMMENDATIONS, key)
        return pb.RecommendationList.FromString(raw) if raw is not None else None

    def _neighbours(self, item: str) -> list[tuple[str, float]]:
        """The item's co-occurring items, parsed once per version of its record."""
        raw = self.store.get(ITEMS, item)
        if raw is None:
            return []
        cached = self._neighbour_cache.get(item)
        if cached is not None and cached[0] == raw:
            return cached[1]
        neighbours = [(o.item_id, o.affinity) for o in pb.ItemFeatures.FromString(raw).co_occurring]
        if len(self._neighbour_cache) >= NEIGHBOUR_CACHE:
            self._neighbour_cache.clear()
        self._neighbour_cache[item] = (raw, neighbours)
        return neighbours

    def recommend(self, request: pb.GetRecommendationsRequest, now_ms: int | None = None
                  ) -> tuple[pb.GetRecommendationsResponse, dict[str, float]]:
        """The response and the policy's context (logged with the impression)."""
        now_ms = now_ms or int(time.time() * 1000)
        stored = self._list(request.user_id)
        cold_start = stored is None
        ctx = request.context
        local = event_context(ctx.ts or now_ms, ctx.timezone or None, ctx.country or None)
        segment = stored.segment if stored is not None else self._context_segment(
            ctx.device, local.day_part)
        # a new user: what users of their segment want, topped up with what everybody likes
        # (a segment's list is fed by carts and purchases only, and can be short)
        lists = [stored] if stored is not None else [
            self._list(segment_popular_key(segment)) if segment else None,
            self._list(POPULAR_KEY)]
        present = [found for found in lists if found is not None]
        chosen = present[0] if present else pb.RecommendationList()
        pool = [(i.item_id, i.score, i.source or "popular", i.reason, i.category)
                for found in present for i in found.items]
        pool += cooccurring([i.item_id for i in chosen.items if i.source == "recent"],
                            self._neighbours, COOCCUR_SEEDS)
        user = dict(chosen.features) if not cold_start else {}
        if cold_start and segment:
            user[f"seg:{segment}"] = 1.0
        features = bandit_context(user, chosen.last_event_ts if not cold_start else 0, now_ms,
                                  ctx.device, local.day_part)
        arm, propensity = self.policy.choose(features)
        excluded = {*request.exclude_item_ids, *chosen.excluded_item_ids}
        served = serve(pool, arm, excluded, request.k, self.diversity)
        return pb.GetRecommendationsResponse(
            request_id=uuid.uuid4().hex, segment=segment,
            items=[pb.RecommendedItem(item_id=item, score=score, source=source, reason=reason,
                                      category=category, propensity=propensity)
                   for item, score, source, reason, category in served],
            model_version=chosen.model_version or self.default_model_version,
            updated_at_ms=chosen.updated_at_ms, cold_start=cold_start,
            policy=self.policy.name, arm=arm, policy_version=self.policy.version), features

    def _context_segment(self, device: str, day_part: str) -> str:
        segment = self.segments.assign(device, day_part)
        return str(segment) if segment is not None else ""

    async def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> pb.GetRecommendationsResponse:
        problem = request_problem(request.user_id, request.k, len(request.exclude_item_ids))
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        response, features = self.recommend(request)
        if self.impressions is not None:
            self.impressions.log(request, response, features)
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
