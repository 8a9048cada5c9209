"""Linear Thompson sampling (Agrawal & Goyal) with propensities, in numpy.

Each arm's reward is modelled as ``theta_arm . x`` plus noise; a pull samples ``theta`` from each
arm's Gaussian posterior and takes the best. The posterior's width is ``v`` times the arm's
estimated reward noise (the normal-inverse-gamma scale, online_models/linear_bandit.py) times
``sqrt(x A^-1 x)``: rewards of a shown item are rare and small (a few percent are engaged
with), so a fixed unit noise kept the sampler exploring long after the data had told the arms
apart (the README's replays: Taobao HR@10 0.231 -> 0.236 with the noise estimated and the
rewards of online_models/feedback.py, YooChoose NDCG@10 0.295 -> 0.306). The
propensity of the chosen arm, which off-policy evaluation needs, is the share of ``n_draws``
posterior draws in which it wins.

>>> policy = LinearThompsonSampling(["bias", "likes_shoes"], v=0.5, seed=3)
>>> for _ in range(300):
...     arm, p = policy.pull(["shoes", "bags"], {"bias": 1.0, "likes_shoes": 1.0})
...     policy.update(arm, 1.0 if arm == "shoes" else 0.0, {"bias": 1.0, "likes_shoes": 1.0})
>>> policy.pull(["shoes", "bags"], {"bias": 1.0, "likes_shoes": 1.0})[0]
'shoes'
>>> import pickle
>>> clone = pickle.loads(pickle.dumps(policy))
>>> clone.pull(["shoes", "bags"], {"bias": 1.0, "likes_shoes": 1.0}) == policy.pull(
...     ["shoes", "bags"], {"bias": 1.0, "likes_shoes": 1.0})
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from online_models.linear_bandit import ArmModels
from online_models.policy_stats import PolicyStatistics, finite_update


class LinearThompsonSampling:
    def __init__(self, features: Sequence[str], v: float = 0.5, ridge: float = 1.0,
                 n_draws: int = 64, seed: int | None = None) -> None:
        self.features = list(features)
        self.v = v
        self.ridge = ridge
        self.n_draws = n_draws
        self.seed = seed
        self._models = ArmModels(self.features, ridge)
        self._rng = np.random.default_rng(seed)

    def _draws(self, arms: Sequence[str], x: np.ndarray, n: int) -> np.ndarray:
        """Sampled expected rewards, shape (n, arms)."""
        means, widths, noise = self._models.means_and_widths(arms, x)
        return means + (self.v * noise * widths) * self._rng.standard_normal((n, len(arms)))

    def draws(self, arm_ids: Sequence[str], context: dict[str, float], n: int) -> np.ndarray:
        """``n`` posterior draws of every arm's expected reward, shape (n, arms): what the
        policy's choices are made of (off-policy evaluation derives slate probabilities)."""
        return self._draws(arm_ids, self._models.vector(context), n)

    def pull(self, arm_ids: Sequence[str], context: dict[str, float]) -> tuple[str, float]:
        """The arm to show and its propensity (probability this policy shows it here)."""
        x = self._models.vector(context)
        best = self._draws(arm_ids, x, self.n_draws + 1).argmax(axis=1)
        chosen = int(best[0])
        wins = np.bincount(best[1:], minlength=len(arm_ids))
        # add-one smoothing keeps propensities positive for importance weighting
        propensity = (wins[chosen] + 1) / (self.n_draws + len(arm_ids))
        return arm_ids[chosen], float(propensity)

    def load(self, stats: PolicyStatistics) -> None:
        """Adopts sufficient statistics learned elsewhere (the job's reward shards)."""
        self._models.load(stats)

    def update(self, arm_id: str, reward: float, context: dict[str, float],
               weight: float = 1.0) -> None:
        """Learns one reward; ValueError for non-finite numbers, context features clipped to
        -1..1 (online_models/policy_stats.py)."""
        finite_update(arm_id, reward, weight, context)
        self._models.update(arm_id, self._models.vector(context), reward, weight)

    def clone(self) -> LinearThompsonSampling:
        """A fresh, untrained policy with the same parameters."""
        return LinearThompsonSampling(self.features, self.v, self.ridge, self.n_draws,
                                      self.seed)
