"""The user step's feature half, for many users in one process: the quality check and the
learning of ``UserStep`` applied in the order events arrive, with every user's state in
memory. For the factor trainer (which learns only from clean events), benchmarks and tests.

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

from typing import Any

from reco.config import Settings
from reco.events import Event
from userstep.step import Checked, UserState, UserStep


class FeatureEngine:
    def __init__(self, settings: Settings) -> None:
        self.step = UserStep(settings)
        self.book: Any = self.step.profiles
        self.config: Any = getattr(self.book, "config", None)
        self.population: Any = getattr(self.book, "population", None)
        self.quality: dict[str, Any] = {}
        self.profiles: dict[str, Any] = {}

    def process(self, event: Event) -> str | None:
        """Learns from ``event``; returns the rule that filtered it, or None. A redelivered
        event id returns "duplicate" and changes nothing."""
        checked = self.learn(event)
        return "duplicate" if checked is None else checked.rule

    def learn(self, event: Event) -> Checked | None:
        """Learns from ``event``; returns the quality step's verdict (None: redelivered)."""
        user = event.user_id
        checked, self.quality[user] = self.step.check(self.quality.get(user), event)
        if checked.duplicate:
            return None
        profile = self.profiles.get(user)
        if profile is None:
            profile = self.profiles[user] = self.step.profiles.new()
        self.step.learn(UserState(profile), event, checked)
        return checked
