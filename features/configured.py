"""The feature engine's configuration objects, built from the project's settings."""

from __future__ import annotations

from features.bots import BotRules
from features.profile import ProfileConfig
from reco.config import Settings


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
