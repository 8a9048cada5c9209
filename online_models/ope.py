"""Off-policy estimators: the value (expected reward per round) of an evaluation policy from
data logged by another policy with known propensities.

Inputs per logged round ``i``: the reward ``r_i``, the logging propensity ``p_i`` of the action
taken, the evaluation policy's probability ``pi_i`` of taking that same action (at that
position, for slates), and for doubly robust a reward model: ``q_i`` its prediction for the
logged action and ``q_pi_i`` its expectation under the evaluation policy.

- IPS: ``mean(w r)`` with ``w = pi / p``; unbiased, high variance.
- SNIPS: ``sum(w r) / sum(w)``; self-normalised, a little biased, much steadier.
- DR: ``mean(q_pi + w (r - q))``; unbiased if either the propensities or the model are right.
- Replay (Li et al.): the mean reward of the rounds where a deterministic policy agrees with the
  log, valid for uniformly random logs.

Confidence intervals come from a seeded bootstrap over rounds.

>>> r = np.array([1.0, 0.0, 0.0, 1.0]); p = np.full(4, 0.5); pi = np.array([1.0, 1.0, 0.0, 0.0])
>>> float(ips(r, p, pi)), float(snips(r, p, pi))
(0.5, 0.5)
>>> float(dr(r, p, pi, q=np.full(4, 0.5), q_pi=np.full(4, 0.5)))
0.5
>>> round(replay(r, logged=np.array([1, 2, 3, 1]), chosen=np.array([1, 1, 3, 1])), 3)
0.667
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

Estimator = Callable[..., float]


def _weights(p: np.ndarray, pi: np.ndarray) -> np.ndarray:
    if np.any(p <= 0):
        raise ValueError("every logged propensity must be positive")
    return pi / p


def ips(r: np.ndarray, p: np.ndarray, pi: np.ndarray) -> float:
    return float(np.mean(_weights(p, pi) * r))


def snips(r: np.ndarray, p: np.ndarray, pi: np.ndarray) -> float:
    w = _weights(p, pi)
    total = w.sum()
    return float((w * r).sum() / total) if total > 0 else 0.0


def dr(r: np.ndarray, p: np.ndarray, pi: np.ndarray, q: np.ndarray, q_pi: np.ndarray) -> float:
    return float(np.mean(q_pi + _weights(p, pi) * (r - q)))


def replay(r: np.ndarray, logged: np.ndarray, chosen: np.ndarray) -> float:
    """Mean reward where the policy's choice equals the logged action (NaN if never)."""
    match = logged == chosen
    return float(r[match].mean()) if match.any() else float("nan")


def wilson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion: honest where a bootstrap is not, e.g. no
    click in a few dozen rounds (a bootstrap then gives [0, 0]).

    >>> [round(b, 3) for b in wilson(0, 54)]
    [0.0, 0.066]
    """
    if trials == 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(share * (1 - share) / trials
                                                + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    rounds: int

    def relative_to(self, baseline: float) -> Estimate:
        return Estimate(self.value / baseline, self.low / baseline, self.high / baseline,
                        self.rounds)


def bootstrap(estimator: Estimator, arrays: dict[str, np.ndarray], n_boot: int = 500,
              level: float = 0.95, seed: int = 0) -> Estimate:
    """The estimate on all rounds with a percentile bootstrap interval (rounds resampled)."""
    n = len(next(iter(arrays.values())))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        rows = rng.integers(0, n, n)
        values.append(estimator(**{k: v[rows] for k, v in arrays.items()}))
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(values, [tail, 100 - tail])
    return Estimate(estimator(**arrays), float(low), float(high), n)
