"""The job's per-user feature logic in one process, for the evaluation harness, benchmarks and
tests: the same de-duplication, bot rules and profile updates as the quality and user operators,
applied in the order events arrive.

>>> from reco.config import Settings
>>> from reco.simulator import ShopperSimulation, SimConfig
>>> engine = FeatureEngine(Settings())
>>> sim = ShopperSimulation(SimConfig(n_users=50, seed=1))
>>> rules = [engine.process(e) for e in sim.events()]
>>> flagged = sorted(u for u, p in engine.profiles.items() if p.flag_rule)
>>> flagged == sorted(sim.bot_user_ids()), rules.count(None)
(True, 1684)
"""

from __future__ import annotations

from features.bots import BotFilter, BotState
from features.configured import FeatureProfiles, bot_rules
from features.dedup import RecentIds
from features.profile import UserProfileState
from reco.config import Settings
from reco.events import Event


class FeatureEngine:
    def __init__(self, settings: Settings) -> None:
        self.bots = BotFilter(bot_rules(settings))
        self.book = FeatureProfiles(settings)  # the user operator's own profile logic
        self.config = self.book.config
        self.population = self.book.population
        self.dedup_window = settings.dedup_window
        self.recent_ids: dict[str, RecentIds] = {}
        self.bot_states: dict[str, BotState] = {}
        self.profiles: dict[str, UserProfileState] = {}

    def process(self, event: Event) -> str | None:
        """Learns from ``event``; returns the rule that filtered it, or None. A redelivered
        event id returns "duplicate" and changes nothing."""
        recent = self.recent_ids.get(event.user_id)
        if recent is None:
            recent = self.recent_ids[event.user_id] = RecentIds(self.dedup_window)
        if recent.seen_or_add(event.event_id):
            return "duplicate"
        state = self.bot_states.setdefault(event.user_id, BotState())
        rule = self.bots.check(state, event)
        profile = self.profiles.get(event.user_id)
        if profile is None:
            profile = self.profiles[event.user_id] = self.book.new()
        if rule is None:
            self.book.learn(profile, event)
        else:
            self.book.record_filtered(profile, rule, event.ts, state.flagged_until)
        return rule
