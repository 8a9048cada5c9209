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

from features.configured import FeatureProfiles, quality_gate
from features.profile import UserProfileState
from features.quality import QualityState, Verdict
from reco.config import Settings
from reco.events import Event


class FeatureEngine:
    def __init__(self, settings: Settings) -> None:
        self.gate = quality_gate(settings)  # the quality operator's logic
        self.book = FeatureProfiles(settings)  # the user operator's own profile logic
        self.config = self.book.config
        self.population = self.book.population
        self.quality: dict[str, QualityState] = {}
        self.profiles: dict[str, UserProfileState] = {}

    def process(self, event: Event) -> str | None:
        """Learns from ``event``; returns the rule that filtered it, or None. A redelivered
        event id returns "duplicate" and changes nothing."""
        verdict = self.learn(event)
        return "duplicate" if verdict is None else verdict.rule

    def learn(self, event: Event) -> Verdict | None:
        """Learns from ``event``; returns the quality step's verdict (None: redelivered)."""
        user = event.user_id
        verdict, self.quality[user] = self.gate.check(self.quality.get(user) or self.gate.new(),
                                                      event)
        if verdict is None:
            return None
        profile = self.profiles.get(user)
        if profile is None:
            profile = self.profiles[user] = self.book.new()
        if verdict.rule is None:
            self.book.learn(profile, event)
        else:
            self.book.record_filtered(profile, verdict.rule, event.ts, verdict.flagged_until)
        return verdict
