"""Non-contextual baselines from River (epsilon-greedy and UCB), behind the same
``pull(arm_ids, context) -> (arm, propensity)`` / ``update(arm, reward, context)`` interface as
the contextual policies; the context is ignored.

>>> policy = RiverBandit("epsilon_greedy", epsilon=0.1, seed=2)
>>> for _ in range(100):
...     arm, p = policy.pull(["a", "b"], {})
...     policy.update(arm, 1.0 if arm == "b" else 0.0, {})
>>> policy.pull(["a", "b"], {})
('b', 0.95)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from river import bandit

from online_models.policy_stats import finite_update


class RiverBandit:
    KINDS = ("epsilon_greedy", "ucb")

    def __init__(self, kind: str = "epsilon_greedy", epsilon: float = 0.1, delta: float = 1.0,
                 seed: int | None = None) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}")
        self.kind = kind
        self.epsilon = epsilon
        self.delta = delta
        self.seed = seed
        if kind == "epsilon_greedy":
            self._policy: bandit.base.Policy = bandit.EpsilonGreedy(epsilon=epsilon, seed=seed)
        else:
            self._policy = bandit.UCB(delta=delta, seed=seed)

    def pull(self, arm_ids: Sequence[str], context: dict[str, float]) -> tuple[str, float]:
        arm = str(self._policy.pull(list(arm_ids)))
        if self.kind == "ucb":
            return arm, 1.0  # deterministic given its state
        # River exploits the first arm with the highest mean reward and explores uniformly
        rewards: Any = self._policy._rewards  # River keeps the per-arm estimates here
        best = max(arm_ids, key=lambda a: float(rewards[a].get() or 0.0))
        share = self.epsilon / len(arm_ids)
        return arm, round(share + (1 - self.epsilon) * (arm == best), 12)

    def update(self, arm_id: str, reward: float, context: dict[str, float],
               weight: float = 1.0) -> None:
        finite_update(arm_id, reward, weight, context)
        self._policy.update(arm_id, reward)

    def clone(self) -> RiverBandit:
        return RiverBandit(self.kind, self.epsilon, self.delta, self.seed)
