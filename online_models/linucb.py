"""LinUCB (Li et al., disjoint arms) in numpy, with epsilon exploration so that every arm has a
known, positive propensity (plain LinUCB is deterministic: propensity 1 or 0, useless for
off-policy evaluation).

>>> policy = LinUCB(["bias", "mobile"], alpha=0.5, epsilon=0.1, seed=1)
>>> for _ in range(200):
...     ctx = {"bias": 1.0, "mobile": 1.0}
...     arm, p = policy.pull(["app", "web"], ctx)
...     policy.update(arm, 1.0 if arm == "app" else 0.2, ctx)
>>> policy.pull(["app", "web"], {"bias": 1.0, "mobile": 1.0})
('app', 0.95)
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from online_models.linear_bandit import ArmModels
from online_models.policy_stats import PolicyStatistics, finite_update


class LinUCB:
    def __init__(self, features: Sequence[str], alpha: float = 1.0, epsilon: float = 0.05,
                 ridge: float = 1.0, seed: int | None = None) -> None:
        self.features = list(features)
        self.alpha = alpha
        self.epsilon = epsilon
        self.ridge = ridge
        self.seed = seed
        self._models = ArmModels(self.features, ridge)
        self._rng = random.Random(seed)

    def scores(self, arm_ids: Sequence[str], context: dict[str, float]) -> list[float]:
        means, widths, _ = self._models.means_and_widths(arm_ids, self._models.vector(context))
        return (means + self.alpha * widths).tolist()

    def pull(self, arm_ids: Sequence[str], context: dict[str, float]) -> tuple[str, float]:
        """The arm to show and its propensity."""
        scores = self.scores(arm_ids, context)
        best = max(range(len(arm_ids)), key=lambda j: (scores[j], -j))
        share = self.epsilon / len(arm_ids)
        chosen = self._rng.randrange(len(arm_ids)) if self._rng.random() < self.epsilon else best
        propensity = share + (1 - self.epsilon) * (chosen == best)
        return arm_ids[chosen], round(propensity, 12)

    def load(self, stats: PolicyStatistics) -> None:
        """Adopts sufficient statistics learned elsewhere (the job's reward shards)."""
        self._models.load(stats)

    def update(self, arm_id: str, reward: float, context: dict[str, float],
               weight: float = 1.0) -> None:
        """Learns one reward; ValueError for non-finite numbers, context features clipped to
        -1..1 (online_models/policy_stats.py)."""
        finite_update(arm_id, reward, weight, context)
        self._models.update(arm_id, self._models.vector(context), reward, weight)

    def clone(self) -> LinUCB:
        return LinUCB(self.features, self.alpha, self.epsilon, self.ridge, self.seed)
