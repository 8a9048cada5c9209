"""The bandit's learning side, in the job: sufficient statistics of the disjoint linear model
(per arm ``sum w x x^T``, ``sum w r x``, and ``sum w r^2`` for the reward noise), updated per
reward in O(d^2). With a half-life, older rewards fade (the sums are discounted by
``2 ** (-age / half_life)``), so the policy follows a shop whose customers change: recent
feedback weighs more.

Sums add up, so the rewards can be split over shards (keyed state of the job, no single hot
key), each shard published on its own, and serving adds the shards up and loads the sums into
its policy (``ArmModels.load``): the same posterior one learner would have had.

>>> a, b = PolicyStatistics(["bias", "mobile"]), PolicyStatistics(["bias", "mobile"])
>>> a.update("recent", {"bias": 1.0, "mobile": 1.0}, reward=1.0)
>>> b.update("recent", {"bias": 1.0}, reward=0.0, weight=0.5)
>>> total = PolicyStatistics.merged([a, b])
>>> total.rewards, total.arms["recent"].xtx.tolist()
(2, [[1.5, 1.0], [1.0, 1.0]])
>>> PolicyStatistics.from_message(total.to_message("s0", 0)).arms["recent"].xty.tolist()
[1.0, 1.0]
>>> a.update("recent", {"bias": 1e300}, reward=1.0)  # clipped: one record cannot swamp an arm
>>> float(a.arms["recent"].xtx[0, 0])
2.0
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reco.v1 import recommendations_pb2 as pb

# Context features are indicators and shares (online_models/bandit_context.py); anything
# larger is clipped, so one record moves an arm's sums by at most its weight.
FEATURE_BOUND = 1.0


@functools.lru_cache(maxsize=16)
def _positions(features: tuple[str, ...]) -> dict[str, int]:
    return {name: at for at, name in enumerate(features)}


def finite_update(arm: str, reward: float, weight: float, context: dict[str, float]) -> None:
    """ValueError unless one reward's numbers are usable: a non-finite value would make the
    arm's model NaN or infinite for good."""
    if not (math.isfinite(reward) and math.isfinite(weight) and weight >= 0
            and all(math.isfinite(v) for v in context.values())):
        raise ValueError(f"update of arm {arm!r}: reward {reward!r}, weight {weight!r} and "
                         "context features must be finite (weight >= 0)")


def context_vector(features: Sequence[str], context: dict[str, float]) -> np.ndarray:
    """A context dict as a vector over a fixed feature list (missing features are 0; features
    the list does not have are ignored). Walks the context, which is shorter than the list:
    this runs on every request the server answers."""
    positions = _positions(tuple(features))
    x = np.zeros(len(positions))
    for name, value in context.items():
        at = positions.get(name)
        if at is not None:
            x[at] = value
    return x


@dataclass
class ArmSums:
    xtx: np.ndarray
    xty: np.ndarray
    weight: float = 0.0
    rewards: int = 0
    reward_sum: float = 0.0
    reward_square_sum: float = 0.0  # the class default also fills in pickles of older jobs

    @classmethod
    def empty(cls, d: int) -> ArmSums:
        return cls(np.zeros((d, d)), np.zeros(d))


# The scale of the sums. 2: rewards discounted by position, a response's n items weighing 1/n
# each, and sum w r^2 kept (online_models/feedback.py); before, every item counted fully.
FORMAT = 2
OLDER = 1  # statistics that do not say: pickled or published before the format was kept


class PolicyStatistics:
    def __init__(self, features: Sequence[str], half_life_ms: int | None = None) -> None:
        self.features = list(features)
        self.arms: dict[str, ArmSums] = {}
        self.rewards = 0
        self.half_life_ms = half_life_ms
        self.as_of_ms = 0  # the sums are discounted to this time
        self.format = FORMAT

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update({"format": OLDER, **state})  # pickled before the format was kept

    def continues(self, features: Sequence[str]) -> bool:
        """Whether these statistics (restored from a checkpoint, or a shard the job published)
        can go on with this version: the same context features and the same scale of rewards.
        Sums of another scale would mix with the new ones (and without their ``sum w r^2`` the
        reward noise would look far smaller than it is), so the learner starts over instead
        and serving leaves such a shard out."""
        return self.features == list(features) and self.format == FORMAT

    def factor_to(self, ts: int) -> float:
        """How much the sums fade from their time to ``ts``."""
        if not self.half_life_ms or not self.as_of_ms or ts <= self.as_of_ms:
            return 1.0
        return float(2.0 ** (-(ts - self.as_of_ms) / self.half_life_ms))  # exponent < 0

    def age_factor(self, ts: int) -> float:
        """How much a reward from ``ts`` (earlier than the sums' time: a late one) has faded
        by then: it counts as old as it is, never more than a current one."""
        if not self.half_life_ms or ts >= self.as_of_ms:
            return 1.0
        return float(2.0 ** (-(self.as_of_ms - ts) / self.half_life_ms))  # exponent < 0

    def discount_to(self, ts: int) -> None:
        """Fades every sum to time ``ts`` (no-op without a half-life or for an earlier time)."""
        factor = self.factor_to(ts)
        if factor != 1.0:
            for sums in self.arms.values():
                sums.xtx *= factor
                sums.xty *= factor
                sums.weight *= factor
                sums.reward_sum *= factor
                sums.reward_square_sum *= factor
        if self.half_life_ms and ts > self.as_of_ms:
            self.as_of_ms = ts

    def vector(self, context: dict[str, float]) -> np.ndarray:
        return np.clip(context_vector(self.features, context), -FEATURE_BOUND, FEATURE_BOUND)

    def update(self, arm: str, context: dict[str, float], reward: float,
               weight: float = 1.0, ts: int = 0) -> None:
        """Adds one reward; ValueError for a non-finite reward, weight or feature (context
        features beyond FEATURE_BOUND are clipped)."""
        finite_update(arm, reward, weight, context)
        weight *= self.age_factor(ts)
        self.discount_to(ts)
        x = self.vector(context)
        sums = self.arms.get(arm)
        if sums is None:
            sums = self.arms[arm] = ArmSums.empty(len(self.features))
        sums.xtx += weight * np.outer(x, x)
        sums.xty += weight * reward * x
        sums.weight += weight
        sums.rewards += 1
        sums.reward_sum += weight * reward
        sums.reward_square_sum += weight * reward * reward
        self.rewards += 1

    @classmethod
    def merged(cls, parts: Iterable[PolicyStatistics]) -> PolicyStatistics:
        """The sum of shards (which must share the feature list)."""
        parts = list(parts)
        total = cls(parts[0].features if parts else [],
                    parts[0].half_life_ms if parts else None)
        latest = total.as_of_ms = max((p.as_of_ms for p in parts), default=0)
        for part in parts:
            if part.features != total.features or part.format != total.format:
                raise ValueError("policy shards disagree on the context features or the "
                                 f"format: {part.features} vs {total.features}, "
                                 f"{part.format} vs {total.format}")
            factor = part.factor_to(latest)  # shards fade to a common time before they add
            total.rewards += part.rewards
            for arm, sums in part.arms.items():
                mine = total.arms.setdefault(arm, ArmSums.empty(len(total.features)))
                mine.xtx = mine.xtx + factor * sums.xtx
                mine.xty = mine.xty + factor * sums.xty
                mine.weight += factor * sums.weight
                mine.rewards += sums.rewards
                mine.reward_sum += factor * sums.reward_sum
                mine.reward_square_sum += factor * sums.reward_square_sum
        return total

    def to_message(self, shard: str, now_ms: int) -> pb.PolicyParameters:
        return pb.PolicyParameters(
            shard=shard, features=self.features, rewards=self.rewards, updated_at_ms=now_ms,
            as_of_ms=self.as_of_ms, half_life_ms=self.half_life_ms or 0, format=self.format,
            arms=[pb.ArmStatistics(arm=arm, xtx=s.xtx.ravel().tolist(), xty=s.xty.tolist(),
                                   weight=s.weight, rewards=s.rewards, reward_sum=s.reward_sum,
                                   reward_square_sum=s.reward_square_sum)
                  for arm, s in sorted(self.arms.items())])

    @classmethod
    def from_message(cls, message: pb.PolicyParameters) -> PolicyStatistics:
        stats = cls(list(message.features), message.half_life_ms or None)
        d = len(stats.features)
        stats.rewards = message.rewards
        stats.as_of_ms = message.as_of_ms
        stats.format = message.format or OLDER
        for arm in message.arms:
            stats.arms[arm.arm] = ArmSums(np.asarray(arm.xtx, dtype=float).reshape(d, d),
                                          np.asarray(arm.xty, dtype=float), arm.weight,
                                          arm.rewards, arm.reward_sum, arm.reward_square_sum)
        return stats
