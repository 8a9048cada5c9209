"""The bandit's learning side, in the job: sufficient statistics of the disjoint linear model
(per arm ``sum w x x^T``, ``sum w r x``), updated per reward in O(d^2).

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
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from reco.v1 import recommendations_pb2 as pb


@dataclass
class ArmSums:
    xtx: np.ndarray
    xty: np.ndarray
    weight: float = 0.0
    rewards: int = 0
    reward_sum: float = 0.0

    @classmethod
    def empty(cls, d: int) -> ArmSums:
        return cls(np.zeros((d, d)), np.zeros(d))


class PolicyStatistics:
    def __init__(self, features: Sequence[str]) -> None:
        self.features = list(features)
        self.arms: dict[str, ArmSums] = {}
        self.rewards = 0

    def vector(self, context: dict[str, float]) -> np.ndarray:
        return np.fromiter((float(context.get(f, 0.0)) for f in self.features), dtype=float,
                           count=len(self.features))

    def update(self, arm: str, context: dict[str, float], reward: float,
               weight: float = 1.0) -> None:
        x = self.vector(context)
        sums = self.arms.get(arm)
        if sums is None:
            sums = self.arms[arm] = ArmSums.empty(len(self.features))
        sums.xtx += weight * np.outer(x, x)
        sums.xty += weight * reward * x
        sums.weight += weight
        sums.rewards += 1
        sums.reward_sum += weight * reward
        self.rewards += 1

    @classmethod
    def merged(cls, parts: Iterable[PolicyStatistics]) -> PolicyStatistics:
        """The sum of shards (which must share the feature list)."""
        parts = list(parts)
        total = cls(parts[0].features if parts else [])
        for part in parts:
            if part.features != total.features:
                raise ValueError("policy shards disagree on the context features: "
                                 f"{part.features} vs {total.features}")
            total.rewards += part.rewards
            for arm, sums in part.arms.items():
                mine = total.arms.setdefault(arm, ArmSums.empty(len(total.features)))
                mine.xtx = mine.xtx + sums.xtx
                mine.xty = mine.xty + sums.xty
                mine.weight += sums.weight
                mine.rewards += sums.rewards
                mine.reward_sum += sums.reward_sum
        return total

    def to_message(self, shard: str, now_ms: int) -> pb.PolicyParameters:
        return pb.PolicyParameters(
            shard=shard, features=self.features, rewards=self.rewards, updated_at_ms=now_ms,
            arms=[pb.ArmStatistics(arm=arm, xtx=s.xtx.ravel().tolist(), xty=s.xty.tolist(),
                                   weight=s.weight, rewards=s.rewards, reward_sum=s.reward_sum)
                  for arm, s in sorted(self.arms.items())])

    @classmethod
    def from_message(cls, message: pb.PolicyParameters) -> PolicyStatistics:
        stats = cls(list(message.features))
        d = len(stats.features)
        stats.rewards = message.rewards
        for arm in message.arms:
            stats.arms[arm.arm] = ArmSums(np.asarray(arm.xtx, dtype=float).reshape(d, d),
                                          np.asarray(arm.xty, dtype=float), arm.weight,
                                          arm.rewards, arm.reward_sum)
        return stats
