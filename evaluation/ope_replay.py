"""Replay evaluation (Li, Chu, Langford and Wang, WSDM 2011) of policies on a uniformly random
log: the policy steps through the logged rounds, asked each time for the logged slot; a round
counts only where it picks the logged action, and there the policy learns from the round's
reward, as it would have live. The mean reward of the rounds that count estimates the policy's
value *while it goes on learning*, which IPS of a frozen policy does not. The price: only about
one round in ``actions`` counts, and the log's actions must be uniformly random (each action as
likely in every context), else the rounds that count are a biased sample.

Our policies start from what they learned on the first part of the log (a copy: the frozen
estimates are made from the same learners). A policy given as probabilities (BTS, a fixed
action) draws its pick from them and learns nothing. The interval: for 0/1 rewards (clicks)
Wilson's score interval over the rounds that counted (``rounds``), which stays honest when a few
dozen rounds have no click; else the bootstrap over rounds of the picks made.

>>> from evaluation.obd import LoggedFeedback
>>> log = LoggedFeedback(actions=np.array([0, 1, 1, 0]), positions=np.zeros(4, dtype=int),
...                      rewards=np.array([0.0, 1.0, 0.0, 1.0]), pscores=np.full(4, 0.5),
...                      contexts=np.ones((4, 1)), features=["bias"], n_actions=2, len_list=1)
>>> always_second = FixedReplayer(np.array([[0.0], [1.0]]), seed=0)
>>> estimate = replay_value(always_second, log, n_boot=50, seed=0)
>>> estimate.value, estimate.rounds  # the rounds that logged action 1: rewards 1 and 0
(0.5, 2)
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Protocol

import numpy as np

from evaluation.obd import LoggedFeedback
from evaluation.ope_runner import LINUCB, TS, Learners, SlateDist
from online_models.ope import Estimate, bootstrap, replay, wilson


class Replayer(Protocol):
    def choose(self, x: np.ndarray, slot: int) -> int: ...

    def learn(self, x: np.ndarray, action: int, reward: float) -> None: ...


class FixedReplayer:
    """A policy given as (actions, slots) probabilities, or a function of the context giving
    them: picks by them, learns nothing."""

    def __init__(self, dist: SlateDist | np.ndarray, seed: int) -> None:
        self.dist = dist
        self._rng = np.random.default_rng(seed)

    def choose(self, x: np.ndarray, slot: int) -> int:
        slates = self.dist if isinstance(self.dist, np.ndarray) else self.dist(x)
        probabilities = slates[:, slot] / slates[:, slot].sum()
        return int(self._rng.choice(len(probabilities), p=probabilities))

    def learn(self, x: np.ndarray, action: int, reward: float) -> None:
        return None


class ThompsonReplayer:
    """Linear Thompson sampling: one posterior draw per round, its ranking fills the slots."""

    def __init__(self, learned: Learners) -> None:
        self.learned = learned
        self.policy = copy.deepcopy(learned.ts)

    def choose(self, x: np.ndarray, slot: int) -> int:
        draw = self.policy.draws(self.learned.arms, self.learned.context(x), 1)[0]
        return int(np.argsort(-draw)[slot])

    def learn(self, x: np.ndarray, action: int, reward: float) -> None:
        self.policy.update(str(action), reward, self.learned.context(x))


class LinUCBReplayer:
    """Epsilon-LinUCB: a uniformly random action with probability epsilon, else the slot's
    place in the ranking by upper confidence bound."""

    def __init__(self, learned: Learners, seed: int) -> None:
        self.learned = learned
        self.policy = copy.deepcopy(learned.ucb)
        self._rng = np.random.default_rng(seed)

    def choose(self, x: np.ndarray, slot: int) -> int:
        if self._rng.random() < self.policy.epsilon:
            return int(self._rng.integers(len(self.learned.arms)))
        scores = np.array(self.policy.scores(self.learned.arms, self.learned.context(x)))
        return int(np.argsort(-scores, kind="stable")[slot])

    def learn(self, x: np.ndarray, action: int, reward: float) -> None:
        self.policy.update(str(action), reward, self.learned.context(x))


def uniformly_random(log: LoggedFeedback) -> bool:
    """Whether every logged action had the same propensity: what replay needs."""
    return bool(np.allclose(log.pscores, log.pscores[0]))


def replayers(learned: Learners, fixed: dict[str, SlateDist | np.ndarray], seed: int
              ) -> dict[str, Replayer]:
    """Our learning policies (from copies of ``learned``), and the rest of ``fixed`` as they
    are (``fixed`` may hold our policies' frozen probabilities too: the learning ones replace
    them)."""
    out: dict[str, Replayer] = {name: FixedReplayer(dist, seed) for name, dist in fixed.items()
                                if name not in (TS, LINUCB)}
    return {TS: ThompsonReplayer(learned), LINUCB: LinUCBReplayer(learned, seed), **out}


def replay_value(replayer: Replayer, test: LoggedFeedback, n_boot: int, seed: int
                 ) -> Estimate:
    """The replay estimate over ``test`` (NaN when no round counted)."""
    chosen = np.empty(len(test), dtype=int)
    for i, (action, slot, reward, x) in enumerate(zip(test.actions, test.positions,
                                                      test.rewards, test.contexts,
                                                      strict=True)):
        chosen[i] = replayer.choose(x, int(slot))
        if chosen[i] == action:
            replayer.learn(x, int(action), float(reward))
    counted = test.rewards[chosen == test.actions]
    if np.isin(test.rewards, (0.0, 1.0)).all():  # clicks: a few dozen rounds may have none
        low, high = wilson(int(counted.sum()), len(counted))
        return Estimate(replay(test.rewards, test.actions, chosen), low, high, len(counted))
    estimate = bootstrap(replay, {"r": test.rewards, "logged": test.actions, "chosen": chosen},
                         n_boot, seed=seed)
    return dataclasses.replace(estimate, rounds=len(counted))
