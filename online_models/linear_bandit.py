"""Shared core of the numpy contextual bandits: one ridge regression per arm (disjoint linear
model), kept as the inverse design matrix and updated by Sherman-Morrison in O(d^2) per reward.
Contexts are dicts of feature name -> value, turned into vectors over a fixed feature list.

Each arm also knows how noisy its rewards are: with the weighted sums ``sum w`` and
``sum w r^2`` beside ``A`` and ``b``, the regression is the normal-inverse-gamma model of
Bayesian linear regression, whose posterior scale of the noise is
``(b0 + (sum w r^2 - b . theta) / 2) / (a0 + sum w / 2)`` (prior ``a0 = b0 = 1``: a noise of 1
until the data says otherwise)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from online_models.policy_stats import FEATURE_BOUND, PolicyStatistics, context_vector

NOISE_A0 = NOISE_B0 = 1.0  # the inverse-gamma prior of each arm's reward noise


class ArmModels:
    """Per-arm ``A^-1`` (inverse of ``lambda I + sum x x^T``) and ``b`` (sum of reward x)."""

    def __init__(self, features: Sequence[str], ridge: float = 1.0) -> None:
        self.features = list(features)
        self.ridge = ridge
        self.a_inv: dict[str, np.ndarray] = {}
        self.b: dict[str, np.ndarray] = {}
        self.pulls: dict[str, int] = {}
        self.weight: dict[str, float] = {}  # sum of w
        self.reward_squares: dict[str, float] = {}  # sum of w r^2
        self._theta: dict[str, np.ndarray] = {}  # cache of A^-1 b, until the arm changes
        # the arms' thetas, A^-1 and noise scales stacked, for scoring them all in a few
        # numpy calls
        self._stacked: tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray] | None = None

    def vector(self, context: dict[str, float]) -> np.ndarray:
        return np.clip(context_vector(self.features, context), -FEATURE_BOUND, FEATURE_BOUND)

    def _ensure(self, arm: str) -> None:
        if arm not in self.a_inv:
            d = len(self.features)
            self.a_inv[arm] = np.eye(d) / self.ridge
            self.b[arm] = np.zeros(d)
            self.pulls[arm] = 0
            self.weight[arm] = 0.0
            self.reward_squares[arm] = 0.0

    def estimate(self, arm: str) -> tuple[np.ndarray, np.ndarray]:
        """(theta, A^-1) of ``arm``."""
        theta = self._theta.get(arm)
        if theta is None:
            self._ensure(arm)
            theta = self._theta[arm] = self.a_inv[arm] @ self.b[arm]
        return theta, self.a_inv[arm]

    def noise(self, arm: str) -> float:
        """The posterior scale (standard deviation) of ``arm``'s reward noise."""
        theta, _ = self.estimate(arm)
        residual = max(self.reward_squares[arm] - float(self.b[arm] @ theta), 0.0)
        return float(np.sqrt((NOISE_B0 + 0.5 * residual) / (NOISE_A0 + 0.5 * self.weight[arm])))

    def stacked(self, arms: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thetas, A^-1s, noise scales) of ``arms``, shapes (arms, d), (arms, d, d), (arms,)."""
        key = tuple(arms)
        if self._stacked is None or self._stacked[0] != key:
            estimates = [self.estimate(arm) for arm in arms]
            self._stacked = (key, np.array([theta for theta, _ in estimates]),
                             np.array([a_inv for _, a_inv in estimates]),
                             np.array([self.noise(arm) for arm in arms]))
        return self._stacked[1], self._stacked[2], self._stacked[3]

    def means_and_widths(self, arms: Sequence[str], x: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each arm's estimate ``theta . x``, its uncertainty ``sqrt(x A^-1 x)`` and its reward
        noise (``noise``): one lookup of the stacked arms per request."""
        thetas, a_invs, noise = self.stacked(arms)
        return thetas @ x, np.sqrt(np.maximum((a_invs @ x) @ x, 0.0)), noise

    def update(self, arm: str, x: np.ndarray, reward: float, weight: float = 1.0) -> None:
        """Adds ``weight`` copies of (x, reward); a weight < 1 discounts (e.g. old feedback)."""
        self._ensure(arm)
        a_inv = self.a_inv[arm]
        ax = a_inv @ x
        self.a_inv[arm] = a_inv - weight * np.outer(ax, ax) / (1.0 + weight * x @ ax)
        self.b[arm] = self.b[arm] + weight * reward * x
        self.pulls[arm] += 1
        self.weight[arm] += weight
        self.reward_squares[arm] += weight * reward * reward
        self._theta.pop(arm, None)
        self._stacked = None

    def load(self, stats: PolicyStatistics) -> None:
        """Replaces the arms' models with the ones the sufficient statistics give (e.g. the
        job's shards summed): the posterior of every reward in them."""
        if stats.features != self.features:
            raise ValueError(f"the statistics are over {stats.features}, the policy over "
                             f"{self.features}")
        eye = self.ridge * np.eye(len(self.features))
        self.a_inv = {arm: np.linalg.inv(eye + s.xtx) for arm, s in stats.arms.items()}
        self.b = {arm: s.xty.copy() for arm, s in stats.arms.items()}
        self.pulls = {arm: s.rewards for arm, s in stats.arms.items()}
        self.weight = {arm: s.weight for arm, s in stats.arms.items()}
        self.reward_squares = {arm: s.reward_square_sum for arm, s in stats.arms.items()}
        self._theta = {}
        self._stacked = None
