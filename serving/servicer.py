"""The Recommendations gRPC servicer. The job computed each user's candidate pool; the server
adds co-occurring items of the user's recent ones (from the item features), and, per request,
builds the bandit context (the user's features from the job, the request's device and local
time), lets the policy choose the mix, and blends the pool with it. What does not change per
request is prepared once per version of the stored list and of its recent items' records
(userstep/serve.py). Unknown users get the popular pool, with a segment from their context."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import grpc

from features.context import country_code, event_context
from online_models.bandit_context import bandit_context
from online_models.mixes import PoolItem
from reco import clock
from reco.config import Settings
from reco.keys import (
    GLOBAL_LIST,
    category_key,
    country_list_key,
    new_items_key,
    ranking_key,
    segment_list_key,
)
from reco.pseudonyms import Pseudonyms
from reco.v1 import recommendations_pb2 as pb
from reco.v1 import recommendations_pb2_grpc as pb_grpc
from serving.consent import CONSENT_REASON, ConsentBook
from serving.factors import FactorDirectory
from serving.impressions import ImpressionLog
from serving.policy import ServingPolicy
from serving.requests import (
    UNREADABLE,
    complementary_request_problem,
    popular_request_problem,
    recommendations_request_problem,
    request_problem,
    similar_request_problem,
    with_user,
)
from serving.rules import RequestRules
from serving.segments import SegmentDirectory
from serving.store import (
    CONTENT,
    ITEMS,
    POPULAR_LISTS,
    PROFILES,
    RECOMMENDATIONS,
    UNAVAILABLE,
    Store,
)
from userstep.filters import categories_of, select
from userstep.placements import (
    COMPLEMENTARY,
    PERSONAL,
    POPULAR,
    SIMILAR,
    TOP_UP,
    complementary_items,
    from_lists,
    personalised,
    popular_items,
    similar_items,
)
from userstep.serve import Prepared, Slate

ITEM_CACHE = 50_000  # items whose parsed features are kept
MAX_PREPARED = 20_000  # users (and segments) whose prepared lists are kept

class Answer(NamedTuple):
    response: pb.GetRecommendationsResponse
    features: dict[str, float]  # the policy's context, logged with the impression
    impression_items: str       # the impression's items as JSON


class RecommendationsServicer(pb_grpc.RecommendationsServicer):
    def __init__(self, store: Store, settings: Settings,
                 impressions: ImpressionLog | None = None,
                 ids: Pseudonyms | None = None) -> None:
        self.store = store
        self.ids = ids  # the deployment's pseudonyms: every lookup is by the user's
        self.default_model_version = settings.model_version
        self.diversity = settings.diversity
        self.impressions = impressions
        self.policy = ServingPolicy(settings, store)
        self.segments = SegmentDirectory(store)
        self.factors = FactorDirectory(store, settings.cooccurring_items)
        self.consent = ConsentBook(store, settings.consent_default == "allow")
        self.rules = RequestRules(store, settings.repurchase_categories.split(","))
        self._item_cache: dict[str, tuple[bytes, pb.ItemFeatures]] = {}
        # user (or "\0" + segment for new users) -> (stored lists, seeds' item records,
        # prepared): what it was built from, checked by every request
        self._prepared: dict[str, tuple[tuple[bytes | None, ...], tuple[bytes | None, ...],
                                        Prepared]] = {}
        self._unavailable: frozenset[str] = frozenset()
        self._unavailable_version = -1

    def _item_features(self, item: str, raw: bytes | None) -> pb.ItemFeatures | None:
        """The item's features from its record ``raw``, parsed once per version (shared by
        every reader: read-only)."""
        if raw is None:
            return None
        cached = self._item_cache.get(item)
        if cached is not None and cached[0] == raw:
            return cached[1]
        features = pb.ItemFeatures.FromString(raw)
        if len(self._item_cache) >= ITEM_CACHE:
            self._item_cache.clear()
        self._item_cache[item] = (raw, features)
        return features

    def _neighbours(self, item: str, raw: bytes | None) -> list[tuple[str, float]]:
        """The item's co-occurring items from its record ``raw``."""
        features = self._item_features(item, raw)
        return [(o.item_id, o.affinity) for o in features.co_occurring] if features else []

    def unavailable(self) -> frozenset[str]:
        """The items no answer may hold, reloaded when the loader changed them (a catalog
        update reaches every answer at the next request: prepared lists are rebuilt)."""
        version = self.store.versions.get(UNAVAILABLE, 0)
        if version != self._unavailable_version:
            self._unavailable = frozenset(key for key, _ in self.store.values(UNAVAILABLE))
            self._unavailable_version = version
            self._prepared.clear()
        return self._unavailable

    def _prepare(self, user_id: str, device: str, day_part: str) -> Prepared:
        """The user's prepared list; a new user's segment (from context) and its lists, topped
        up with the global popular list (a segment's list is fed by carts and purchases only
        and can be short)."""
        unavailable = self.unavailable()
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
        # the seeds' records as read for this build, not as the loader moves on
        records: dict[tuple[bytes, str], bytes | None] = {}

        def neighbours(item: str) -> list[tuple[str, float]]:
            raw = records[ITEMS, item] = self.store.get(ITEMS, item)
            return self._neighbours(item, raw)

        def alike(item: str) -> list[tuple[str, float]]:
            raw = records[CONTENT, item] = self.store.get(CONTENT, item)
            found = pb.ContentNeighbours.FromString(raw).items if raw is not None else ()
            return [(o.item_id, o.affinity) for o in found]

        lists = [pb.RecommendationList.FromString(raw) for raw in raws if raw is not None]
        prepared = Prepared(lists, stored is None, neighbours, segment,
                            self.default_model_version, unavailable, alike)
        if len(self._prepared) >= MAX_PREPARED:
            self._prepared.clear()
        self._prepared[key] = (raws, tuple(records.get((table, item)) for item in prepared.seeds
                                           for table in (ITEMS, CONTENT)), prepared)
        return prepared

    def _item_records(self, items: tuple[str, ...]) -> tuple[bytes | None, ...]:
        return tuple(self.store.get(table, item) for item in items for table in (ITEMS, CONTENT))

    def recommend(self, request: pb.GetRecommendationsRequest, now_ms: int | None = None
                  ) -> Answer:
        now_ms = now_ms or clock.now_ms()
        ctx = request.context
        local = event_context(ctx.ts or now_ms, ctx.timezone or None, ctx.country or None)
        prepared = self._prepare(request.user_id, ctx.device, local.day_part)
        features = bandit_context(prepared.user, prepared.last_event_ts, now_ms, ctx.device,
                                  local.day_part)
        arm, propensity = self.policy.choose(features)
        if request.HasField("filters") or self.rules.repurchase:
            candidates = (prepared.ranked(arm, self.diversity, request.exclude_item_ids)
                          + from_lists(self._lists(GLOBAL_LIST), TOP_UP))
            slate = prepared.slate_of(self._select(candidates, request, now_ms))
        else:
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
        return await self._serve(request, context, recommendations_request_problem,
                                 self.recommend, PERSONAL)

    def _select(self, candidates: Iterable[PoolItem], request: Any, now_ms: int | None
                ) -> list[PoolItem]:
        """The request's k of the candidates, by its filters and business rules."""
        rules = self.rules.rules(request.filters, request.user_id, request.exclude_item_ids,
                                 self.unavailable(), now_ms or clock.now_ms())
        return select(candidates, request.k, rules, self.rules.facts)

    def _features(self, item: str) -> pb.ItemFeatures | None:
        return self._item_features(item, self.store.get(ITEMS, item))

    def _category_lists(self, item: str) -> list[pb.RecommendationList]:
        """The trending lists of the item's categories as the catalog knows them, most
        specific first (what a page of an item without signals falls back on)."""
        facts = self.rules.facts(item)
        levels = reversed(facts.category_path) if facts is not None else ()
        return self._lists(*(category_key(level) for level in levels))

    def _lists(self, *keys: str) -> list[pb.RecommendationList]:
        found = (self.store.get(POPULAR_LISTS, key) for key in keys)
        return [pb.RecommendationList.FromString(raw) for raw in found if raw is not None]

    def _placement_answer(self, items: list[PoolItem], placement: str) -> Answer:
        slate = Slate(items, pb.GetRecommendationsResponse(
            model_version=self.default_model_version, policy=placement, arm=""))
        response = slate.response(1.0)  # no exploration: the list is what the page shows
        response.request_id = uuid.uuid4().hex
        return Answer(response, {}, slate.impression_items(1.0))

    def similar(self, request: pb.GetSimilarItemsRequest, now_ms: int | None = None
                ) -> Answer:
        fallback = [*self._category_lists(request.item_id), *self._lists(GLOBAL_LIST)]
        content = self.store.get(CONTENT, request.item_id)
        candidates = [c for c in similar_items(
            request.item_id, self._features(request.item_id),
            pb.ContentNeighbours.FromString(content).items if content is not None else (),
            self._has_signals, fallback, self.factors.similar(request.item_id))
            if c[0] != request.item_id]
        profile = self.rules.profile(request.user_id)
        if profile is not None:
            candidates = personalised(
                candidates, {c.casefold(): v for c, v in profile.category_preferences.items()},
                self._categories)
        return self._placement_answer(self._select(candidates, request, now_ms), SIMILAR)

    def _has_signals(self, item: str) -> bool:
        """Whether anyone interacted with the item (the job publishes features of catalog
        items before that, with no first interaction)."""
        features = self._features(item)
        return features is not None and features.first_seen_ms > 0

    def _categories(self, candidate: PoolItem) -> frozenset[str]:
        return categories_of(self.rules.facts(candidate[0]), candidate[4])

    def complementary(self, request: pb.GetComplementaryItemsRequest,
                      now_ms: int | None = None) -> Answer:
        candidates = complementary_items(request.item_ids, self._features, self.rules.facts,
                                         self._lists(GLOBAL_LIST))
        return self._placement_answer(self._select(candidates, request, now_ms), COMPLEMENTARY)

    def popular(self, request: pb.GetPopularItemsRequest, now_ms: int | None = None
                ) -> Answer:
        wanted, fallback = self._lists(GLOBAL_LIST), []
        if request.by in ("views", "purchases"):
            wanted, fallback = self._lists(ranking_key(request.by, request.category or None)), \
                wanted
        elif request.category:
            key = (new_items_key if request.by == "new" else category_key)(request.category)
            wanted, fallback = self._lists(key), wanted
        else:
            local = self._home_page_lists(request.context, now_ms)
            if local:
                wanted, fallback = local, wanted
        candidates = popular_items(wanted, fallback)
        return self._placement_answer(self._select(candidates, request, now_ms), POPULAR)

    def _home_page_lists(self, ctx: pb.Context, now_ms: int | None
                         ) -> list[pb.RecommendationList]:
        """The home page's lists: what the visitor's country likes most, then her segment
        (device, part of the day), each when the context names it and the list exists."""
        keys = []
        country = country_code(ctx.country)
        if country:
            keys.append(country_list_key(country))
        if ctx.device:
            local = event_context(ctx.ts or now_ms or clock.now_ms(), ctx.timezone or None,
                                  ctx.country or None)
            segment = self._context_segment(ctx.device, local.day_part)
            if segment:
                keys.append(segment_list_key(segment))
        return self._lists(*keys)

    async def GetSimilarItems(self, request: pb.GetSimilarItemsRequest,
                              context: grpc.aio.ServicerContext
                              ) -> pb.GetRecommendationsResponse:
        return await self._serve(request, context, similar_request_problem, self.similar,
                                 SIMILAR)

    async def GetComplementaryItems(self, request: pb.GetComplementaryItemsRequest,
                                    context: grpc.aio.ServicerContext
                                    ) -> pb.GetRecommendationsResponse:
        return await self._serve(request, context, complementary_request_problem,
                                 self.complementary, COMPLEMENTARY)

    async def GetPopularItems(self, request: pb.GetPopularItemsRequest,
                              context: grpc.aio.ServicerContext
                              ) -> pb.GetRecommendationsResponse:
        return await self._serve(request, context, popular_request_problem, self.popular,
                                 POPULAR)

    async def _serve(self, request: Any, context: grpc.aio.ServicerContext,
                     problem_of: Callable[[Any], str | None],
                     answer_to: Callable[[Any], Answer], placement: str
                     ) -> pb.GetRecommendationsResponse:
        """A request checked, answered and logged with its placement's name."""
        if request is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, UNREADABLE)
        problem = problem_of(request)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        return self.answer(request, answer_to, placement).response

    def answer(self, request: Any, answer_to: Callable[[Any], Answer], placement: str
               ) -> Answer:
        """A valid request answered as its user's consent allows, and logged (an impression
        with the placement's name) when it does."""
        if request.user_id and self.ids is not None:
            request = with_user(request, self.ids.of(request.user_id))
        personal = not request.user_id or self.consent.personalised(request.user_id)
        if not personal:  # answered as for an anonymous visitor
            request = with_user(request, "")
        answer = answer_to(request)
        if not personal:
            for item in answer.response.items:
                item.reason = CONSENT_REASON
        elif self.impressions is not None:
            logged = request if isinstance(request, pb.GetRecommendationsRequest) else \
                pb.GetRecommendationsRequest(user_id=request.user_id, k=request.k,
                                             context=request.context)
            self.impressions.log(logged, answer.response, answer.features,
                                 answer.impression_items, placement=placement)
        return answer

    async def GetUserProfile(self, request: pb.GetUserProfileRequest,
                             context: grpc.aio.ServicerContext) -> pb.UserProfile:
        if request is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, UNREADABLE)
        problem = request_problem(request.user_id)
        if problem:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        user = self.ids.of(request.user_id) if self.ids is not None else request.user_id
        if not self.consent.personalised(user):
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no profile for user {request.user_id!r}: the user has not "
                                "consented to personalization")
        raw = self.store.get(PROFILES, user)
        if raw is None:
            await context.abort(grpc.StatusCode.NOT_FOUND,
                                f"no profile for user {request.user_id!r}: no event seen yet")
        profile = pb.UserProfile.FromString(raw)
        profile.user_id = request.user_id  # hers, as she asked: the pseudonym stays inside
        return profile
