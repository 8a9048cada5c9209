"""The Recommendations gRPC servicer. The job computed each user's candidate pool; the server
adds co-occurring items of the user's recent ones (from the item features), and, per request,
builds the bandit context (the user's features from the job, the request's device and local
time), lets the policy choose the mix, and blends the pool with it. What does not change per
request is prepared once per version of the stored list and of its recent items' records
(serving/prepared.py). Unknown users get the popular pool, with a segment from their context."""

from __future__ import annotations

import uuid
from typing import NamedTuple

import grpc

from features.context import event_context
from online_models.bandit_context import bandit_context
from reco import clock
from reco.config import Settings
from reco.keys import GLOBAL_LIST, segment_list_key
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from serving.impressions import ImpressionLog
from serving.policy import ServingPolicy
from serving.prepared import Prepared
from serving.segments import SegmentDirectory
from serving.store import ITEMS, POPULAR_LISTS, PROFILES, RECOMMENDATIONS, Store

NEIGHBOUR_CACHE = 50_000  # items whose parsed co-occurrences are kept
MAX_PREPARED = 20_000  # users (and segments) whose prepared lists are kept

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


class Answer(NamedTuple):
    response: pb.GetRecommendationsResponse
    features: dict[str, float]  # the policy's context, logged with the impression
    impression_items: str       # the impression's items as JSON


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
        # user (or "\0" + segment for new users) -> (stored lists, seeds' item records,
        # prepared): what it was built from, checked by every request
        self._prepared: dict[str, tuple[tuple[bytes | None, ...], tuple[bytes | None, ...],
                                        Prepared]] = {}

    def _neighbours(self, item: str, raw: bytes | None) -> list[tuple[str, float]]:
        """The item's co-occurring items from its record ``raw``, parsed once per version."""
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

    def _prepare(self, user_id: str, device: str, day_part: str) -> Prepared:
        """The user's prepared list; a new user's segment (from context) and its lists, topped
        up with the global popular list (a segment's list is fed by carts and purchases only
        and can be short)."""
        stored = self.store.get(RECOMMENDATIONS, user_id)
        segment = ""
        raws: tuple[bytes | None, ...]
        if stored is not None:
            key, raws = user_id, (stored,)
        else:
            segment = self._context_segment(device, day_part)
            key = "\0" + segment
            raws = (self.store.get(POPULAR_LISTS, segment_list_key(segment))
                    if segment else None, self.store.get(POPULAR_LISTS, GLOBAL_LIST))
        cached = self._prepared.get(key)
        if (cached is not None and cached[0] == raws
                and cached[1] == self._item_records(cached[2].seeds)):
            return cached[2]
        records: dict[str, bytes | None] = {}  # as read for this build, not as the loader moves on

        def neighbours(item: str) -> list[tuple[str, float]]:
            raw = records[item] = self.store.get(ITEMS, item)
            return self._neighbours(item, raw)

        lists = [pb.RecommendationList.FromString(raw) for raw in raws if raw is not None]
        prepared = Prepared(lists, stored is None, neighbours, segment,
                            self.default_model_version)
        if len(self._prepared) >= MAX_PREPARED:
            self._prepared.clear()
        self._prepared[key] = (raws, tuple(records.get(item) for item in prepared.seeds),
                               prepared)
        return prepared

    def _item_records(self, items: tuple[str, ...]) -> tuple[bytes | None, ...]:
        return tuple(self.store.get(ITEMS, item) for item in items)

    def recommend(self, request: pb.GetRecommendationsRequest, now_ms: int | None = None
                  ) -> Answer:
        now_ms = now_ms or clock.now_ms()
        ctx = request.context
        local = event_context(ctx.ts or now_ms, ctx.timezone or None, ctx.country or None)
        prepared = self._prepare(request.user_id, ctx.device, local.day_part)
        features = bandit_context(prepared.user, prepared.last_event_ts, now_ms, ctx.device,
                                  local.day_part)
        arm, propensity = self.policy.choose(features)
        slate = prepared.slate(arm, request.k, self.diversity, request.exclude_item_ids)
        response = slate.response(propensity)
        response.request_id = uuid.uuid4().hex
        response.policy, response.arm = self.policy.name, arm
        response.policy_version = self.policy.version
        return Answer(response, features, slate.impression_items(propensity))

    def _context_segment(self, device: str, day_part: str) -> str:
        segment = self.segments.assign(device, day_part)
        return str(segment) if segment is not None else ""

    async def GetRecommendations(self, request: pb.GetRecommendationsRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> pb.GetRecommendationsResponse:
        problem = request_problem(request.user_id, request.k, len(request.exclude_item_ids))
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        answer = self.recommend(request)
        if self.impressions is not None:
            self.impressions.log(request, answer.response, answer.features,
                                 answer.impression_items)
        return answer.response

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
