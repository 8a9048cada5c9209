"""The whole system in one process, for the prequential evaluation: the job's user step
(userstep/step.py: quality check, learning, publication of the profile and the list), its
per-item step (features/items.learn_signal) and its top lists, and the server's answer
(userstep/serve.py: the stored list, co-occurring items, the bandit choosing the mix,
blending; a new user gets the cold-start lists of the segment the context suggests and the
global one), with the loop closed as deployed: every page view asks for a list (an impression
of its top ``PAGE_K``), the user step joins the user's later events on shown items into rewards
(untouched items are zero rewards when the attribution window closes) and the policy learns
from them (``page_requests=False``: only the harness's own requests are impressions). Item
factors are retrained once per simulated day, as ``reco train-factors`` would be scheduled.

Differences from the deployed system, on purpose: time is event time throughout (the job
throttles publications and top lists on processing time, and expires attribution windows on
it), lists are read as soon as they change (the job publishes a changed top list at most every
``top_emit_interval_ms``), rewards reach the policy at once (the job publishes its statistics
once a second), and one segment model and one set of population statistics serve all users (the
job has one per parallel instance). A user with unpublished changes is published before her
request is answered (the job's timer publishes the latest within ``profile_min_interval_ms``)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from evaluation.daily_factors import DailyFactors
from features.consent import Consent
from features.context import event_context
from features.items import ItemState, learn_signal, report_step
from features.trending import TopItems, apply_offer, learn_decayed, merge_report
from online_models.bandit_context import bandit_context, context_features
from online_models.factors import ItemFactors
from online_models.feedback import Sample
from online_models.mixes import ARMS
from online_models.policies import bandit_for, fixed_mix, policy_problem
from online_models.segments import context_segment
from online_models.trending import Ranked
from reco.config import Settings
from reco.events import Event
from reco.impressions import Impression
from reco.keys import POPULAR_LIST, segment_list_key
from reco.records import ItemSignal, Removed, SegmentSignal
from reco.v1 import recommendations_pb2 as pb
from userstep.lists import popular_list
from userstep.publication import due
from userstep.serve import Prepared
from userstep.step import Shared, UserState, UserStep

PAGE_K = 10  # items a page shows: what an impression logs
PAGE_VIEWS = frozenset({"product_view", "click"})  # each opens a page that shows a list


def settings_for_data(settings: Settings, events: list[Event]) -> Settings:
    """The deployed settings, except for what a data set does not log: without click events
    (the public ones log product views only) a view of a shown item counts as its click, and
    without prices (Taobao) purchases are learned, where a shop's own events would be filtered
    as ``purchase_without_price``. The public data sets carry no consent: their users' events
    are learned as a shop's with ``consent_default = allow`` would learn them."""
    if not any(e.personalization is not None or e.analytics is not None for e in events):
        settings = dataclasses.replace(settings, consent_default="allow")
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
        self.step = UserStep(settings)
        self.quality: dict[str, Any] = {}
        self.consent: dict[str, Consent] = {}
        self.states: dict[str, UserState] = {}
        self.lists: dict[str, bytes] = {}      # each user's latest list: the serving store
        self.published: dict[str, bytes] = {}  # each user's latest profile, likewise
        self.items: dict[str, ItemState] = {}
        self.tops: dict[str, TopItems] = {}    # category and newest-item lists
        self.segment_tops: dict[str, TopItems] = {}
        self.popular = TopItems(settings.reco_list_size)  # fed by the category lists
        self._popular_list: bytes | None = None  # its cold-start list, until it changes
        self.report_step = report_step(settings.trending_emit_ratio)
        problem = policy_problem(settings.policy)
        if problem:
            raise ValueError(problem)
        # the server's policy (settings.policy); None: a fixed mix
        self.policy = bandit_for(settings.policy, context_features(settings.segments), seed,
                                 settings.policy_exploration)
        self.requests = 0
        self.mixes: Counter[str] = Counter()  # the mix the policy chose, per request
        self.swept_ms = 0
        self.waiting: set[str] = set()  # users with impressions waiting for feedback
        self.daily = DailyFactors(factors, seed) if retrain_factors else None
        self.factors: ItemFactors | None = None
        self.seed = seed

    def profile(self, user: str) -> Any:
        state = self.states.get(user)
        return state.profile if state is not None else None

    def learn(self, event: Event) -> None:
        self._sweep(event.ts)
        user = event.user_id
        verdict, self.consent[user] = self.step.admit(self.consent.get(user), event)
        if verdict.withdrawn:  # her state dropped, her contributions taken back, as the job
            for item_signal in self.step.retractions(self.quality.pop(user, None)):
                self._learn_item(item_signal)
            for segment_signal in self.step.forget(self.states.pop(user, None), user):
                self._learn_segment(segment_signal)
            self.lists.pop(user, None)
            self.published.pop(user, None)
        if not verdict.personal:
            for item_signal in self.step.anonymous_signals(event) if verdict.analytics else ():
                self._learn_item(item_signal)
            return
        checked, self.quality[user] = self.step.check(self.quality.get(user), event,
                                                      verdict.analytics)
        if checked.duplicate:
            return
        for item_signal in checked.item_signals if verdict.analytics else ():
            self._learn_item(item_signal)
        state = self.states.get(user) or self.states.setdefault(user, self.step.new_state())
        learned = self.step.learn(state, event, checked)
        self._learn_rewards(learned.rewards, user)
        for signal in learned.segment_signals:
            self._learn_segment(signal)
        # event time has no lag: the interval alone (userstep/publication.py)
        if due(event.ts, state.profile.profile_sent_ms, self.settings.profile_min_interval_ms):
            self._publish(user, state, event.ts)
        else:
            state.profile.profile_pending = True
        if checked.rule is None:
            if self.daily is not None:
                self.daily.learn(event)
            if self.page_requests and event.event_type in PAGE_VIEWS:
                self.recommend(user, PAGE_K, event.ts, event)

    def _publish(self, user: str, state: UserState, ts: int) -> None:
        state.profile.profile_sent_ms, state.profile.profile_pending = ts, False
        out = self.step.publish(state, user, Shared(self._ranked, self.factors), ts)
        self.published[user] = out.profile.SerializeToString()
        if out.recommendations is not None:
            self.lists[user] = out.recommendations

    def _learn_item(self, signal: ItemSignal) -> None:
        """The per-item operator and the category lists it feeds."""
        state = self.items.get(signal.item_id)
        if state is None:
            state = self.items[signal.item_id] = ItemState(self.settings.trending_half_life_ms,
                                                           self.settings.cooccurring_items)
        offers, _ = learn_signal(state, signal, self.report_step)
        for offer in offers:
            top = self.tops.get(offer.key)
            if top is None:
                top = self.tops[offer.key] = TopItems(self.settings.category_top_n)
            # the popular merge, as the job's: what changed in the list, or that the item
            # left it for good (operators/top_lists.py: CategoryTop's notice)
            changed = apply_offer(top, offer)
            report: list[tuple[str, float]] | Removed
            if offer.removed:
                report = Removed(offer.item_id)
            elif changed:
                report = [(offer.item_id, offer.score)]
            else:
                continue
            if merge_report(self.popular, offer.key, report):
                self._popular_list = None

    def _learn_segment(self, signal: SegmentSignal) -> None:
        top = self.segment_tops.get(signal.key)
        if top is None:
            top = self.segment_tops[signal.key] = TopItems(self.settings.reco_list_size)
        learn_decayed(top, signal.item_id, signal.weight, signal.ts,
                      self.settings.trending_half_life_ms, signal.retract)

    def _ranked(self, key: str) -> Ranked | None:
        """A top list by its broadcast key; the popular list merged from the category lists
        as the job's popular operator does."""
        top = self.popular if key == POPULAR_LIST else self.tops.get(key)
        return top.ranked() if top is not None else None

    def global_list(self) -> bytes:
        """The global cold-start list, as the job's popular-list operator publishes it."""
        if self._popular_list is None:
            _, self._popular_list = popular_list(POPULAR_LIST, self.popular.ranked(),
                                                 self.settings.reco_list_size,
                                                 self.settings.model_version, 0)
        return self._popular_list

    def _neighbours(self, item: str) -> list[tuple[str, float]]:
        state = self.items.get(item)
        return state.neighbours.ranked() if state is not None else []

    def _sweep(self, ts: int) -> None:
        """Windows that closed are zero rewards for what was ignored (swept once per window
        of event time, as the job's timers do in processing time)."""
        if ts - self.swept_ms < self.step.weights.window_ms:
            return
        self.swept_ms = ts
        for user in list(self.waiting):
            self._learn_rewards(self.step.expire(self.states[user], ts), user)

    def _learn_rewards(self, samples: list[Sample], user: str) -> None:
        state = self.states.get(user)
        if state is not None and state.feedback is not None:
            self.waiting.add(user)
        else:
            self.waiting.discard(user)
        if not self.learn_policy or self.policy is None:
            return
        for sample in samples:
            self.policy.update(sample.arm, sample.reward, sample.context, sample.weight)

    def _retrain(self, now_ms: int) -> None:
        if self.daily is not None:
            self.factors = self.daily.current(now_ms)

    def rfm_segment(self, user: str, now_ms: int) -> str:
        """The user's RFM segment at ``now_ms`` as the job names it (features/rfm.py:
        champions, loyal, at_risk, prospect, ...); "no history" before her first event."""
        profile = self.profile(user)
        if profile is None or profile.event_count == 0:
            return "no history"
        population = getattr(self.step.profiles, "population", None)
        if population is None:  # the skeleton's profiles keep no RFM
            return "no history"
        return profile.rfm.scores(now_ms, population.rfm)[3]

    def _prepared(self, user: str, device: str, day_part: str) -> Prepared:
        """What the server prepares for the user: her stored list, or the cold-start lists of
        the segment her context suggests and the global one."""
        stored = self.lists.get(user)
        if stored is not None:
            return Prepared([pb.RecommendationList.FromString(stored)], False, self._neighbours)
        found = context_segment(self.step.segments.centers, device, day_part)
        segment = str(found) if found is not None else ""
        lists = []
        top = self.segment_tops.get(segment_list_key(segment))
        if top is not None:
            _, raw = popular_list(segment_list_key(segment), top.ranked(),
                                  self.settings.reco_list_size, self.settings.model_version, 0)
            lists.append(pb.RecommendationList.FromString(raw))
        lists.append(pb.RecommendationList.FromString(self.global_list()))
        return Prepared(lists, True, self._neighbours, segment)

    def recommend(self, user: str, k: int, now_ms: int, context: Event | None = None
                  ) -> list[str]:
        """The server's answer to the user's request at ``now_ms`` (the context of the event
        that opened the page, when there is one), logged as an impression."""
        self._retrain(now_ms)
        state = self.states.get(user)
        if state is not None and state.profile.profile_pending:
            self._publish(user, state, now_ms)
        device, day_part = "", ""
        if context is not None:
            local = event_context(context.ts, context.timezone, context.country,
                                  context.user_agent, context.device)
            device, day_part = local.device_type, local.day_part
        prepared = self._prepared(user, device, day_part)
        features = bandit_context(prepared.user, prepared.last_event_ts, now_ms, device,
                                  day_part)
        arm, propensity = self.policy.pull(ARMS, features) if self.policy is not None \
            else (fixed_mix(self.settings.policy), 1.0)
        slate = prepared.slate(arm, k, self.settings.diversity, ())
        items = [item for item, *_ in slate.items]
        self.requests += 1
        self.mixes[arm] += 1
        if state is None:
            state = self.states[user] = self.step.new_state()
        impression = Impression(f"r{self.requests}", user, now_ms,
                                tuple((item, propensity) for item in items[:PAGE_K]), arm,
                                "", features)
        self._learn_rewards(self.step.impression(state, impression, now_ms), user)
        return items
