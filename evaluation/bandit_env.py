"""A contextual-bandit environment from the shopper simulation, for tests and evaluation:
each round a random shopper arrives, the policy picks which category to show, and the shopper
clicks with a probability that grows with their latent interest in it. The context is what the
job would know: a noisy estimate of the shopper's category preferences (as a profile built
from a few events gives), plus a bias term.

>>> env = CategoryEnvironment(seed=1, n_users=50)
>>> context = env.arrive()
>>> sorted(context)[:2], len(env.arms)
(['bias', 'pref:bags'], 12)
"""

from __future__ import annotations

import random

from reco.simulator import ShopperSimulation, SimConfig


class CategoryEnvironment:
    def __init__(self, seed: int, n_users: int = 500, base_rate: float = 0.02,
                 lift: float = 0.6, noise: float = 0.15, observed_events: int = 8) -> None:
        sim = ShopperSimulation(SimConfig(n_users=n_users, n_items=50, seed=seed,
                                          bot_share=0.0))
        self.arms = sim.categories
        self._rng = random.Random(seed)
        self.base_rate = base_rate
        self.lift = lift
        self._users = [u.preferences for u in sim.users]
        self._observed = [self._observe(p, observed_events, noise) for p in self._users]
        self._current = 0

    def _observe(self, prefs: list[float], events: int, noise: float) -> dict[str, float]:
        """Category shares over a few sampled events, blurred: a young profile."""
        counts = [0] * len(prefs)
        for _ in range(events):
            counts[self._rng.choices(range(len(prefs)), weights=prefs)[0]] += 1
        return {f"pref:{arm}": max(0.0, c / events + self._rng.gauss(0, noise) / len(prefs))
                for arm, c in zip(self.arms, counts, strict=True)}

    @property
    def features(self) -> list[str]:
        return ["bias", *(f"pref:{arm}" for arm in self.arms)]

    def arrive(self) -> dict[str, float]:
        self._current = self._rng.randrange(len(self._users))
        return {"bias": 1.0, **self._observed[self._current]}

    def click_probability(self, arm: str) -> float:
        prefs = self._users[self._current]
        return self.base_rate + self.lift * prefs[self.arms.index(arm)]

    def reward(self, arm: str) -> float:
        return 1.0 if self._rng.random() < self.click_probability(arm) else 0.0

    def best_fixed_arm_rate(self) -> float:
        """Expected click rate of the best single category shown to everyone."""
        return max(sum(self.base_rate + self.lift * p[j] for p in self._users) / len(self._users)
                   for j in range(len(self.arms)))
