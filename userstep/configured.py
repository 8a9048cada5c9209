"""The feature engine's configuration objects, built from the project's settings."""

from __future__ import annotations

from typing import Any, Protocol

from features.basic_profile import BasicProfile
from features.bots import BotRules
from features.population import Population
from features.profile import ProfileConfig, UserProfileState
from features.profile_view import profile_message
from features.quality import QualityGate
from online_models.bandit_context import user_features
from online_models.feedback import RewardWeights
from online_models.revisit import Features, RevisitRanker, profile_candidates
from reco.config import Settings
from reco.decay import EVENT_WEIGHTS
from reco.events import Event
from reco.v1 import recommendations_pb2 as pb


def profile_config(settings: Settings) -> ProfileConfig:
    return ProfileConfig(windows=settings.windows, recent_n=settings.recent_items,
                         purchased_n=settings.purchased_items,
                         session_gap_ms=settings.session_gap_ms,
                         preference_half_life_ms=settings.preference_half_life_ms,
                         affinity_items=settings.affinity_items,
                         prior_weight=settings.prior_weight)


def bot_rules(settings: Settings) -> BotRules:
    return BotRules(max_per_second=settings.bot_max_per_second,
                    max_per_minute=settings.bot_max_per_minute,
                    max_repeats=settings.bot_max_repeats,
                    repeat_window_ms=settings.bot_repeat_window_ms,
                    max_dwell_ms=settings.bot_max_dwell_ms, flag_ttl_ms=settings.bot_flag_ttl_ms,
                    require_price=settings.require_purchase_price)


class FeatureProfiles:
    """The feature engine's profiles (features/profile.py), as the user operator uses them.
    Each instance learns its own revisit ranker (online_models/revisit.py) from the events it
    sees, in memory like the population statistics: after a restart it learns again."""

    def __init__(self, settings: Settings) -> None:
        self.config = profile_config(settings)
        self.population = Population()
        self.revisit = RevisitRanker(seed=settings.policy_seed)
        self.relist_purchased = settings.relist_purchased

    def new(self) -> UserProfileState:
        return UserProfileState(self.config)

    def learn(self, profile: UserProfileState, event: Event) -> None:
        item = event.item_id
        # before the update: which of the items the user had, if any, they came back to
        if item is not None and item in profile.recent_items \
                and EVENT_WEIGHTS.get(event.event_type, 0.0) > 0:
            self.revisit.learn_one(self._revisit_candidates(profile, self.config.recent_n),
                                   item)
        profile.update(event, self.population, self.config)

    def _revisit_candidates(self, profile: UserProfileState, n: int) -> dict[str, Features]:
        return profile_candidates(profile.recent_items[:n], profile.affinity.items,
                                  profile.cart, profile.purchased, self.relist_purchased)

    def recent_candidates(self, profile: UserProfileState, n: int) -> list[tuple[str, float]]:
        """The user's own recent items, newest first, each scored by its rank in the revisit
        ranker's order (1 for the likeliest down to 1/(n+1): the scale the mixes were set on).
        Newest first because the server seeds co-occurrence with the first few: the items of
        the moment, whatever the ranker expects next."""
        candidates = self._revisit_candidates(profile, n)
        ranked = self.revisit.predict_one(candidates)
        scores = {item: 1.0 - rank / (len(ranked) + 1) for rank, (item, _) in enumerate(ranked)}
        return [(item, scores[item]) for item in candidates]

    def record_filtered(self, profile: UserProfileState, rule: str, ts: int,
                        flagged_until: int) -> None:
        profile.record_filtered(rule, ts, flagged_until)

    def message(self, profile: UserProfileState, user_id: str, now_ms: int) -> pb.UserProfile:
        return profile_message(profile, user_id, profile.last_seen, now_ms, self.population,
                               self.config)

    def bandit_features(self, profile: UserProfileState) -> dict[str, float]:
        r, f, m, _ = profile.rfm.scores(profile.last_seen, self.population.rfm)
        device = profile.context.get("device_type") or profile.context.get("device", "")
        return user_features(profile.segment if profile.segment >= 0 else None, (r, f, m),
                             profile.event_count, device)


class BasicProfiles:
    """The skeleton's profiles (features/basic_profile.py): ``feature_engine = false``."""

    def __init__(self, settings: Settings) -> None:
        self.half_life_ms = settings.preference_half_life_ms
        self.purchased_n = settings.purchased_items
        self.dedup_window = settings.dedup_window

    def new(self) -> BasicProfile:
        return BasicProfile(self.half_life_ms, self.purchased_n, self.dedup_window)

    def learn(self, profile: BasicProfile, event: Event) -> None:
        profile.update(event)

    def recent_candidates(self, profile: BasicProfile, n: int) -> list[tuple[str, float]]:
        return []  # the skeleton keeps no item history

    def record_filtered(self, profile: BasicProfile, rule: str, ts: int,
                        flagged_until: int) -> None:
        profile.record_filtered()

    def message(self, profile: BasicProfile, user_id: str, now_ms: int) -> pb.UserProfile:
        return profile.message(user_id, now_ms)

    def bandit_features(self, profile: BasicProfile) -> dict[str, float]:
        return user_features(profile.segment if profile.segment >= 0 else None, (0, 0, 0),
                             profile.event_count, "")


class ProfileBook(Protocol):
    """What the user operator needs of a kind of profile."""

    def new(self) -> Any: ...
    def learn(self, profile: Any, event: Event) -> None: ...
    def recent_candidates(self, profile: Any, n: int) -> list[tuple[str, float]]: ...
    def record_filtered(self, profile: Any, rule: str, ts: int, flagged_until: int) -> None: ...
    def message(self, profile: Any, user_id: str, now_ms: int) -> pb.UserProfile: ...
    def bandit_features(self, profile: Any) -> dict[str, float]: ...


def profiles_for(settings: Settings) -> ProfileBook:
    return FeatureProfiles(settings) if settings.feature_engine else BasicProfiles(settings)


def quality_gate(settings: Settings) -> QualityGate:
    return QualityGate(bot_rules(settings), settings.dedup_window, settings.session_gap_ms)


def reward_weights(settings: Settings) -> RewardWeights:
    return RewardWeights(click=settings.reward_click, wishlist=settings.reward_wishlist,
                         add_to_cart=settings.reward_add_to_cart,
                         purchase=settings.reward_purchase, skip=settings.reward_skip,
                         product_view=settings.reward_view,
                         window_ms=settings.attribution_window_ms,
                         half_life_ms=settings.feedback_half_life_ms,
                         position_discount=settings.reward_position_discount)
