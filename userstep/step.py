"""The user step: one user's state, one record and the current view of the shared models in;
the new state and everything the job emits for that user out. The Flink operator
(operators/users.py), the evaluation harness (evaluation/system.py), the benchmarks and the
tests call it; none re-implements a part of it. It has no Flink, Kafka or gRPC import.

- ``check(quality, event)``: the quality step (redelivered ids, bot and noise rules) and the
  item signals of a clean event for the per-item models. The job runs it in its own keyed
  operator before the item models, whose lists the user operator reads: one operator could
  not both feed and read them without a cycle in the dataflow.
- ``learn(state, event, checked)``: the profile (features/), the rewards the event closes
  (online_models/feedback.py) and the signal for the user's segment's cold-start list.
- ``impression(state, impression, now_ms)`` and ``expire(state, now_ms)``: the feedback join.
- ``retractions(quality)`` and ``forget(state, user_id)``: what she added to the shared counts (her
  ledgers, features/contributions.py), to be taken back when she withdraws or is erased.
- ``publish(state, user_id, shared, at_ms)``: the user's segment (the clusterer learns from the
  profile), the profile message and, when it changed, the recommendation list: the candidate
  pool from the user's own items and the shared lists and factors.

Event time is the logic's only clock. ``at_ms`` only stamps what is published
(``updated_at_ms``), and ``now_ms`` closes attribution windows of impressions, whose times come
from the server's clock.

>>> from reco.config import Settings
>>> from reco.events import Event
>>> step = UserStep(Settings())
>>> state, quality = step.new_state(), step.new_quality()
>>> cart = Event("e1", "add_to_cart", "u1", ts=1_000, item_id="i1", category="shoes")
>>> checked, quality = step.check(quality, cart)
>>> checked.rule, [(s.item_id, s.weight) for s in checked.item_signals]
(None, [('i1', 3.0)])
>>> step.check(quality, cart)[0].duplicate
True
>>> _ = step.learn(state, cart, checked)
>>> out = step.publish(state, "u1", Shared(), at_ms=5)
>>> out.profile.event_count, [i.item_id for i in pb.RecommendationList.FromString(
...     out.recommendations).items]
(1, ['i1'])
>>> step.publish(state, "u1", Shared(), at_ms=6).recommendations is None  # unchanged
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from features.consent import Consent, ConsentGate, Verdict
from features.context import country_code
from features.contributions import Contributions, remember
from features.quality import QualityState
from online_models.factors import ItemFactors
from online_models.feedback import REWARDED_EVENTS, FeedbackJoiner, Sample
from online_models.mixes import ARMS
from online_models.pool import RECENT_CANDIDATES, build_pool, excluded_purchases
from online_models.segments import SegmentModel, segment_features
from online_models.session_knn import OpenSession, SessionKNN, grow, session_key
from online_models.trending import Ranked, TrendingRecommender
from reco.config import Settings
from reco.decay import EVENT_WEIGHTS
from reco.events import Event
from reco.impressions import Impression
from reco.keys import country_list_key, segment_list_key
from reco.records import ItemSignal, SegmentSignal
from reco.v1 import recommendations_pb2 as pb
from userstep.configured import profiles_for, quality_gate, reward_weights
from userstep.lists import list_fingerprint, recommendation_list

SEGMENT_SIGNAL_WEIGHT = 2.0  # wishlist saves, carts and purchases feed the segment lists
# The session kNN source: 50 neighbours among the 100 latest sessions of each item of her
# latest 10 (online_models/session_knn.py). On both validation periods this scored as the
# baseline's 100 of 500 over 20 items (YooChoose HR@10 0.4613 against 0.4626, Taobao equal)
# at twice the replay's speed on Taobao, whose sessions are long (docs/evaluation.md).
SESSION_NEIGHBOURS, SESSION_SAMPLE, SESSION_ITEMS = 50, 100, 10


def _no_lists(_key: str) -> Ranked | None:
    return None


@dataclass(frozen=True, slots=True)
class Shared:
    """What the step reads of the shared models: the top lists by key (reco/keys.py) and the
    latest item factors."""

    tops: Callable[[str], Ranked | None] = _no_lists
    factors: ItemFactors | None = None


@dataclass(slots=True)
class UserState:
    """One user's state in the user operator (one keyed value): the profile (it also holds
    what was last published) and the pending impressions of the feedback join (None when
    there are none). The quality step's state is the quality operator's."""

    profile: Any
    feedback: FeedbackJoiner | None = None
    given: Contributions | None = None  # her signals to the segment and country lists
    segment_counts: dict[int, int] | None = None  # her counts in each segment's size
    session: OpenSession | None = None  # her latest session, as the session kNN indexed it

    def __setstate__(self, state: tuple[None, dict[str, Any]]) -> None:
        # a state stored before a field was added restores with None for it
        stored = state[1]
        for name in self.__slots__:
            object.__setattr__(self, name, stored.get(name))


@dataclass(frozen=True, slots=True)
class Checked:
    """The quality step's verdict on one event (what travels to the user operator with it)."""

    duplicate: bool = False            # a redelivered event id: nothing changes
    rule: str | None = None            # the data-quality rule that filtered it, or None
    flagged_until: int = 0             # when the user's bot flag expires (0: not flagged)
    item_signals: tuple[ItemSignal, ...] = ()


CLEAN = Checked()


@dataclass(slots=True)
class Learned:
    """What learning one event gives the job to emit."""

    rewards: list[Sample] = field(default_factory=list)
    segment_signals: list[SegmentSignal] = field(default_factory=list)


@dataclass(slots=True)
class Published:
    profile: pb.UserProfile
    recommendations: bytes | None  # the RecommendationList, when it changed


def _item_signal(event: Event, previous: str | None) -> ItemSignal:
    assert event.item_id is not None
    return ItemSignal(event.item_id, event.category or "", EVENT_WEIGHTS[event.event_type],
                      event.ts, event.event_id, previous, event.price,
                      event_type=event.event_type)


class UserStep:
    def __init__(self, settings: Settings, segments: SegmentModel | None = None) -> None:
        self.settings = settings
        self.gate = quality_gate(settings) if settings.feature_engine else None
        self.consent = ConsentGate(settings.consent_default == "allow")
        self.profiles = profiles_for(settings)
        self.weights = reward_weights(settings)
        self.segments = segments or SegmentModel(settings.segments, seed=settings.policy_seed)
        self.recommender = TrendingRecommender(2 * settings.candidates_per_source)
        self.arms = frozenset(ARMS)
        # V-SKNN over the sessions this instance saw (shared, in memory, like the segments)
        self.sessions = SessionKNN(k=SESSION_NEIGHBOURS, sample=SESSION_SAMPLE, weighted=True,
                                   max_sessions=settings.session_knn_sessions) \
            if settings.session_knn_sessions else None

    def new_state(self) -> UserState:
        return UserState(self.profiles.new())

    def new_quality(self) -> QualityState | None:
        return self.gate.new() if self.gate else None

    def admit(self, consent: Consent | None, event: Event) -> tuple[Verdict, Consent]:
        """The consent gate, before anything else: whether the event may reach per-user
        state (then ``check`` and ``learn`` it) or only the anonymous aggregates (then its
        ``anonymous_signals``), and the user's consent after it (features/consent.py)."""
        return self.consent.check(consent, event)

    def anonymous_signals(self, event: Event) -> tuple[ItemSignal, ...]:
        """What an event counts for in the aggregates without any per-user state: its item's
        interaction (no session, so no co-occurrence)."""
        if EVENT_WEIGHTS.get(event.event_type, 0.0) <= 0 or event.item_id is None:
            return ()
        return (_item_signal(event, None),)

    def check(self, quality: QualityState | None, event: Event, counted: bool = True
              ) -> tuple[Checked, QualityState | None]:
        """The quality step: the verdict on ``event`` and its item signals, and the user's
        quality state after it. Without the feature engine (the skeleton) every event is
        clean and its profile drops redelivered ids itself. ``counted``: the signals will
        reach the shared counts (consent to analytics), so her ledger keeps them for an
        erasure to take back (``retractions``)."""
        checked, quality = self._check(quality, event)
        if counted and checked.item_signals and quality is not None:
            recent, bots, session, *ledger = quality
            kept = remember(ledger[0] if ledger else None, checked.item_signals,
                            self.settings.erasure_ledger)
            quality = (recent, bots, session) if kept is None else (recent, bots, session, kept)
        return checked, quality

    @staticmethod
    def retractions(quality: QualityState | None) -> list[ItemSignal]:
        """Her item signals that the ledger kept, to be taken back out of the shared counts
        (she withdrew consent or was erased)."""
        if quality is None or len(quality) < 4:
            return []
        return quality[3].retractions()

    def _check(self, quality: QualityState | None, event: Event
               ) -> tuple[Checked, QualityState | None]:
        previous: str | None = None
        basket: tuple[str, ...] = ()
        if self.gate is None:
            signal = EVENT_WEIGHTS.get(event.event_type, 0.0) > 0
            verdict: Checked = CLEAN
        else:
            found, quality = self.gate.check(quality or self.gate.new(), event)
            if found is None:
                return Checked(duplicate=True), quality
            verdict = Checked(rule=found.rule, flagged_until=found.flagged_until)
            signal, previous, basket = found.item_signal, found.previous, found.basket
        if verdict.rule is not None or not signal or event.item_id is None:
            return verdict, quality
        signals = [_item_signal(event, previous)]
        if previous is not None:
            signals.append(ItemSignal(previous, ts=event.ts, neighbour=event.item_id))
        for other in basket:  # both ways: the basket's items complement each other
            signals.append(ItemSignal(other, ts=event.ts, bought_with=event.item_id))
            signals.append(ItemSignal(event.item_id, ts=event.ts, bought_with=other))
        return Checked(item_signals=tuple(signals)), quality

    def learn(self, state: UserState, event: Event, checked: Checked = CLEAN) -> Learned:
        """Learns a checked event (a filtered one only counts); returns the rewards it closes
        and its signal for the segment's cold-start list."""
        out = Learned()
        if checked.duplicate:
            return out
        if checked.rule is not None:
            self.profiles.record_filtered(state.profile, checked.rule, event.ts,
                                          checked.flagged_until)
            return out
        self.profiles.learn(state.profile, event)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if self.sessions is not None and weight > 0 and event.item_id:
            state.session = grow(state.session, event.item_id, event.ts,
                                 self.settings.session_gap_ms, SESSION_ITEMS)
            self.sessions.learn_one(state.session[2], session_key(event.user_id, state.session))
        if event.event_type in REWARDED_EVENTS:
            out.rewards = self._rewards(state, event)
        if weight >= SEGMENT_SIGNAL_WEIGHT and event.item_id:
            # what this segment's and this country's users want (views are most of the
            # traffic and say less): the lists for new users like them and for home pages
            country = country_code(event.country)
            keys = ([segment_list_key(state.profile.segment)] if state.profile.segment >= 0
                    else []) + ([country_list_key(country)] if country else [])
            out.segment_signals = [SegmentSignal(key, event.item_id, weight, event.ts)
                                   for key in keys]
            state.given = remember(state.given, out.segment_signals,
                                   self.settings.erasure_ledger)
        return out

    def forget(self, state: UserState | None, user_id: str) -> list[SegmentSignal]:
        """Takes her out of what the step shares: her count in the segment sizes and her
        sessions in the session kNN now, and her signals to the segment and country lists,
        returned marked to be taken back (the job sends them to those lists). The caller then
        drops her state."""
        if self.sessions is not None:
            self.sessions.forget(user_id)
        if state is None:
            return []
        self.segments.forget(state.segment_counts or {})
        return state.given.retractions() if state.given is not None else []

    def _rewards(self, state: UserState, event: Event) -> list[Sample]:
        joiner = state.feedback
        if joiner is None:
            if event.request_id is None:
                return []
            joiner = FeedbackJoiner(self.weights)  # the event may precede its impression
        samples = joiner.on_event(event.event_type, event.item_id, event.ts, event.request_id)
        self._keep(state, joiner)
        return self._known(samples)

    def impression(self, state: UserState, impression: Impression, now_ms: int
                   ) -> list[Sample]:
        """Remembers what the server showed; returns the rewards it closes (events that
        waited for it, impressions pushed out or past their window at ``now_ms``)."""
        joiner = state.feedback or FeedbackJoiner(self.weights)
        samples = joiner.add_impression(impression.request_id, impression.served_at_ms,
                                        list(impression.items), impression.features,
                                        impression.arm)
        samples += joiner.expire(now_ms)
        self._keep(state, joiner)
        return self._known(samples)

    def expire(self, state: UserState, now_ms: int) -> list[Sample]:
        """The zero rewards of impressions whose attribution window closed by ``now_ms``."""
        joiner = state.feedback
        if joiner is None:
            return []
        samples = joiner.expire(now_ms)
        self._keep(state, joiner)
        return self._known(samples)

    def _known(self, samples: list[Sample]) -> list[Sample]:
        # responses no policy chose (logged by an older server) or naming an arm the policy
        # does not have teach nothing
        return [s for s in samples if s.arm in self.arms]

    @staticmethod
    def _keep(state: UserState, joiner: FeedbackJoiner) -> None:
        state.feedback = joiner if joiner.pending or joiner.early else None

    def publish(self, state: UserState, user_id: str, shared: Shared, at_ms: int
                ) -> Published:
        """The profile (after the segment model learned from it and assigned the user's
        segment) and, when it changed since the last publication, the recommendation list."""
        profile = state.profile
        message = self.profiles.message(profile, user_id, at_ms)
        profile.segment = self.segments.learn_predict_one(segment_features(message))
        if state.segment_counts is None:
            state.segment_counts = {}
        counts = state.segment_counts
        counts[profile.segment] = counts.get(profile.segment, 0) + 1
        message.segment = str(profile.segment)
        return Published(message, self._list(state, user_id, shared, at_ms))

    def _list(self, state: UserState, user_id: str, shared: Shared, at_ms: int
              ) -> bytes | None:
        profile = state.profile
        if profile.event_count == 0:
            return None  # only filtered events so far: nothing learned, nothing to list
        pool = self.pool(profile, shared, self.session_candidates(state.session, user_id))
        raw = recommendation_list(user_id, pool, self.settings.model_version, at_ms,
                                  profile.last_event_id, profile.last_seen, profile.segment,
                                  self.profiles.bandit_features(profile),
                                  excluded_purchases(pool, profile.purchased))
        fingerprint = list_fingerprint(raw)
        if fingerprint == profile.published:
            return None  # only filtered events since, or nothing the server reads changed
        profile.published = fingerprint
        return raw

    def session_candidates(self, session: OpenSession | None, user_id: str
                           ) -> list[tuple[str, float]]:
        """The items of the sessions most like her latest one (V-SKNN), best first."""
        if self.sessions is None or session is None:
            return []
        return self.sessions.predict_one(session[2], 2 * self.settings.candidates_per_source,
                                         own=session_key(user_id, session))

    def pool(self, profile: Any, shared: Shared,
             session: list[tuple[str, float]] | None = None) -> list[Any]:
        return build_pool(profile, self.profiles.recent_candidates(profile, RECENT_CANDIDATES),
                          shared.tops, self.recommender, shared.factors,
                          self.settings.candidates_per_source, session or [])
