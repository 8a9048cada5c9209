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
from reco.config import Settings
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
    """The feature engine's profiles (features/profile.py), as the user operator uses them."""

    def __init__(self, settings: Settings) -> None:
        self.config = profile_config(settings)
        self.population = Population()

    def new(self) -> UserProfileState:
        return UserProfileState(self.config)

    def learn(self, profile: UserProfileState, event: Event) -> None:
        profile.update(event, self.population, self.config)

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
                         half_life_ms=settings.feedback_half_life_ms)
