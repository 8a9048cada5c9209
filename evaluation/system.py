"""The whole system in one process, for the prequential evaluation: the job's logic (the
feature engine's de-duplication, bot rules and profiles; item trending, co-occurrence, newest
items; category and popular lists; candidate pools with item factors retrained once per
simulated day, as ``reco train-factors`` would be scheduled) and the server's (co-occurring
items, the bandit choosing the mix, blending), with the loop closed as deployed: every page
view asks for a list (an impression of its top ``PAGE_K``), the job's FeedbackJoiner turns the
user's later events on shown items into rewards with the configured weights (untouched items are
zero rewards when the attribution window closes) and the policy learns from them
(``page_requests=False``: only the harness's own requests are impressions).

Differences from the deployed system, on purpose: lists are computed when asked (the job
publishes them as events arrive, which gives the same list), items report every score change
(the job throttles reports to score growth of ``trending_emit_ratio``), and rewards reach the
policy at once (the job publishes its statistics once a second). Segments are learned and
assigned when a list is asked for, at most once per ``profile_min_interval_ms`` of event time
per user (the job: when it publishes the profile, once per interval of processing time), by
one model (the job: one per parallel instance)."""

from __future__ import annotations

import dataclasses
from typing import Any

from features.basic_profile import BasicProfile
from features.configured import reward_weights
from features.engine import FeatureEngine
from features.items import ItemState
from features.trending import EVENT_WEIGHTS, TopItems
from online_models.als import ImplicitALS
from online_models.bandit_context import bandit_context, context_features
from online_models.factors import ItemFactors
from online_models.feedback import FeedbackJoiner, Sample
from online_models.interactions import training_data
from online_models.linear_ts import LinearThompsonSampling
from online_models.mixes import ARMS, own_items, serve
from online_models.pool import RECENT_CANDIDATES, build_pool, cooccurring, excluded_purchases
from online_models.segments import SegmentModel, segment_features
from online_models.trending import Ranked, TrendingRecommender
from reco.config import Settings
from reco.events import Event
from reco.keys import POPULAR_LIST, category_key, new_items_key

DAY_MS = 86_400_000
PAGE_K = 10  # items a page shows: what an impression logs
PAGE_VIEWS = frozenset({"product_view", "click"})  # each opens a page that shows a list


def settings_for_data(settings: Settings, events: list[Event]) -> Settings:
    """The deployed settings, except for what a data set does not log: without click events
    (the public ones log product views only) a view of a shown item counts as its click, and
    without prices (Taobao) purchases are learned, where a shop's own events would be filtered
    as ``purchase_without_price``."""
    if not any(event.event_type == "click" for event in events):
        settings = dataclasses.replace(settings, reward_view=settings.reward_click)
    if not any(event.price is not None for event in events):
        settings = dataclasses.replace(settings, require_purchase_price=False)
    return settings


class InProcessSystem:
    name = "reco-stream (this system)"

    def __init__(self, settings: Settings, factors: int = 32, seed: int = 0,
                 retrain_factors: bool = True, page_requests: bool = True,
                 learn_policy: bool = True) -> None:
        self.settings = settings
        self.page_requests = page_requests
        self.learn_policy = learn_policy
        self.engine = FeatureEngine(settings)
        self.recommender = TrendingRecommender(2 * settings.candidates_per_source)
        self.items: dict[str, ItemState] = {}
        self.tops: dict[str, TopItems] = {}
        self.policy = LinearThompsonSampling(context_features(settings.segments), seed=seed)
        self.segments = SegmentModel(settings.segments, seed=settings.policy_seed)
        self.rewards = reward_weights(settings)
        self.joiners: dict[str, FeedbackJoiner] = {}
        self.requests = 0
        self.swept_ms = 0
        self.events: list[Event] = []
        self.factor_count = factors
        self.factors: ItemFactors | None = None
        self.trained_day = -1
        self.retrain_factors = retrain_factors
        self.seed = seed

    def _top(self, key: str) -> TopItems:
        top = self.tops.get(key)
        if top is None:
            n = self.settings.reco_list_size if key == POPULAR_LIST else \
                self.settings.category_top_n
            top = self.tops[key] = TopItems(n)
        return top

    def _learn_item(self, event: Event, previous: str | None) -> None:
        """A clean interaction with an item (and the session's previous item, paired by the
        quality step), as the per-item operator learns it."""
        weight = EVENT_WEIGHTS[event.event_type]
        item = str(event.item_id)
        state = self.items.get(item)
        if state is None:
            state = self.items[item] = ItemState(self.settings.trending_half_life_ms,
                                                 self.settings.cooccurring_items)
            self._top(new_items_key(event.category or "_unknown")).offer(item,
                                                                               float(event.ts))
        state.add_interaction(weight, event.ts, event.event_id, event.category or "",
                              event.price)
        if previous is not None:
            state.add_neighbour(previous)
            neighbour = self.items.get(previous)
            if neighbour is not None:
                neighbour.add_neighbour(item)
        if state.log_score is not None:
            self._top(category_key(state.category)).offer(item, state.log_score)
            self._top(POPULAR_LIST).offer(item, state.log_score)
        self.events.append(event)

    def learn(self, event: Event) -> None:
        self._feedback(event)
        verdict = self.engine.learn(event)
        if verdict is not None and verdict.rule is None:
            if verdict.item_signal:
                self._learn_item(event, verdict.previous)
            if self.page_requests and event.event_type in PAGE_VIEWS:
                self.recommend(event.user_id, PAGE_K, event.ts)

    def _feedback(self, event: Event) -> None:
        """The user's event on a shown item is a reward; windows that closed are zero rewards
        for what was ignored (swept for everybody once per window, as the job's timers do)."""
        joiner = self.joiners.get(event.user_id)
        if joiner is not None:
            self._learn_rewards(joiner.on_event(event.event_type, event.item_id, event.ts))
        if event.ts - self.swept_ms >= self.rewards.window_ms:
            self.swept_ms = event.ts
            for joiner in self.joiners.values():
                self._learn_rewards(joiner.expire(event.ts))

    def _learn_rewards(self, samples: list[Sample]) -> None:
        if not self.learn_policy:
            return
        for sample in samples:
            self.policy.update(sample.arm, sample.reward, sample.context, sample.weight)

    def _retrain(self, now_ms: int) -> None:
        day = now_ms // DAY_MS
        if not self.retrain_factors or day == self.trained_day or not self.events:
            return
        self.trained_day = day
        data = training_data(self.events, now_ms, 7 * DAY_MS, ipw_exponent=0.5, holdout=False)
        model = ImplicitALS(self.factor_count, iterations=8, seed=self.seed).fit(
            data.users, data.items, data.weights)
        self.factors = model.item_model(f"day-{day}")

    def _ranked(self, key: str) -> Ranked | None:
        """A top list, ranked when asked: a pool reads a few of the (many) lists."""
        top = self.tops.get(key)
        return top.ranked() if top is not None else None

    def _neighbours(self, item: str) -> list[tuple[str, float]]:
        state = self.items.get(item)
        return state.neighbours.ranked() if state is not None else []

    def _segment(self, user: str, profile: Any, now_ms: int) -> None:
        """The user's segment, learned and assigned as the job does when it publishes the
        profile (at most once per ``profile_min_interval_ms``, here of event time)."""
        if now_ms - profile.profile_sent_ms < self.settings.profile_min_interval_ms:
            return
        profile.profile_sent_ms = now_ms
        message = self.engine.book.message(profile, user, now_ms)
        profile.segment = self.segments.learn_predict_one(segment_features(message))

    def rfm_segment(self, user: str, now_ms: int) -> str:
        """The user's RFM segment at ``now_ms`` as the job names it (features/rfm.py:
        champions, loyal, at_risk, prospect, ...); "no history" before her first event."""
        profile = self.engine.profiles.get(user)
        if profile is None or profile.event_count == 0:
            return "no history"
        return profile.rfm.scores(now_ms, self.engine.population.rfm)[3]

    def recommend(self, user: str, k: int, now_ms: int) -> list[str]:
        self._retrain(now_ms)
        profile = self.engine.profiles.get(user)
        if profile is None or profile.event_count == 0:
            pool = build_pool(BasicProfile(), [], self._ranked, self.recommender, None,
                              self.settings.candidates_per_source)
            user_part: dict[str, float] = {}
            last = 0
        else:
            recent = self.engine.book.recent_candidates(profile, RECENT_CANDIDATES)
            pool = build_pool(profile, recent, self._ranked, self.recommender, self.factors,
                              self.settings.candidates_per_source)
            pool += cooccurring(own_items(pool), self._neighbours)
            self._segment(user, profile, now_ms)
            user_part = self.engine.book.bandit_features(profile)
            last = profile.last_seen
        context = bandit_context(user_part, last, now_ms, "", "")
        arm, propensity = self.policy.pull(ARMS, context)
        excluded = excluded_purchases(pool, profile.purchased) if profile is not None else ()
        items = [item for item, *_ in serve(pool, arm, excluded, k, self.settings.diversity)]
        self.requests += 1
        joiner = self.joiners.setdefault(user, FeedbackJoiner(self.rewards))
        self._learn_rewards(joiner.add_impression(
            f"r{self.requests}", now_ms, [(item, propensity) for item in items[:PAGE_K]],
            context, arm))
        return items

