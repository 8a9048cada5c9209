"""Off-policy evaluation of bandit policies on logged data (``reco ope``).

For each evaluation policy we need ``pi(action, slot | context)`` on every logged round:
obp's BTS gets it by Monte Carlo over its prior; our linear Thompson sampling by Monte Carlo
over its posterior draws (top ``len_list`` of each draw); epsilon-LinUCB and the greedy
non-contextual baseline are deterministic top lists mixed with epsilon-uniform exploration.
Our policies learn on the first part of the log (each logged round updates the logged item's
model with its reward: unbiased under uniform logging) and are valued on the rest. The reward
model of doubly robust is a ridge regression per action fitted on the first part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evaluation.obd import LoggedFeedback
from online_models.linear_ts import LinearThompsonSampling
from online_models.linucb import LinUCB
from online_models.ope import Estimate, bootstrap, dr, ips, snips

SlateDist = Callable[[np.ndarray], np.ndarray]  # context -> (actions, slots) probabilities
TS, LINUCB, GREEDY = "linear-ts (ours)", "epsilon-linucb (ours)", "greedy by CTR (non-contextual)"


@dataclass
class PolicyValue:
    policy: str
    estimates: dict[str, Estimate]  # by estimator: ips, snips, dr, replay (uniform logs)


def _as_dict(features: list[str], x: np.ndarray) -> dict[str, float]:
    return {f: float(v) for f, v in zip(features, x, strict=True) if v}


def _slates_from_draws(draws: np.ndarray, len_list: int) -> np.ndarray:
    """(actions, slots) frequencies of each action in each slot over the draws' top lists."""
    n, actions = draws.shape
    top = np.argsort(-draws, axis=1)[:, :len_list]
    dist = np.zeros((actions, len_list))
    for slot in range(len_list):
        dist[:, slot] = np.bincount(top[:, slot], minlength=actions) / n
    return dist


def _deterministic(scores: np.ndarray, len_list: int, epsilon: float) -> np.ndarray:
    actions = len(scores)
    dist = np.full((actions, len_list), epsilon / actions)
    for slot, action in enumerate(np.argsort(-scores)[:len_list]):
        dist[action, slot] += 1 - epsilon
    return dist


class RidgeModel:
    """Per-action ridge regression of the reward on the context (DR's reward model)."""

    def __init__(self, log: LoggedFeedback, ridge: float = 1.0) -> None:
        d = log.contexts.shape[1]
        self.theta = np.zeros((log.n_actions, d))
        for action in range(log.n_actions):
            rows = log.actions == action
            x, r = log.contexts[rows], log.rewards[rows]
            self.theta[action] = np.linalg.solve(x.T @ x + ridge * np.eye(d), x.T @ r)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.clip(self.theta @ x, 0.0, 1.0)


@dataclass
class Learners:
    """Our policies after learning on the first part of a log, and the greedy baseline's
    smoothed click rates."""

    arms: list[str]
    features: list[str]
    len_list: int
    ts: LinearThompsonSampling
    ucb: LinUCB
    ctr: np.ndarray

    def context(self, x: np.ndarray) -> dict[str, float]:
        return _as_dict(self.features, x)


def learn_policies(train: LoggedFeedback, seed: int) -> Learners:
    ts = LinearThompsonSampling(train.features, v=0.3, seed=seed)
    ucb = LinUCB(train.features, alpha=0.5, epsilon=0.1, seed=seed)
    for action, reward, x in zip(train.actions, train.rewards, train.contexts, strict=True):
        context = _as_dict(train.features, x)
        ts.update(str(action), float(reward), context)
        ucb.update(str(action), float(reward), context)
    clicks = np.bincount(train.actions, weights=train.rewards, minlength=train.n_actions)
    shown = np.bincount(train.actions, minlength=train.n_actions)
    ctr = (clicks + 1) / (shown + 2)  # the best fixed slate, by smoothed click rate
    return Learners([str(a) for a in range(train.n_actions)], train.features, train.len_list,
                    ts, ucb, ctr)


def slate_policies(learned: Learners, n_draws: int = 200) -> dict[str, SlateDist]:
    """Each policy as its (actions, slots) probabilities in a context, as learned (frozen)."""
    k = learned.len_list
    return {
        TS: lambda x: _slates_from_draws(
            learned.ts.draws(learned.arms, learned.context(x), n_draws), k),
        LINUCB: lambda x: _deterministic(
            np.array(learned.ucb.scores(learned.arms, learned.context(x))), k,
            learned.ucb.epsilon),
        GREEDY: lambda x: _deterministic(learned.ctr, k, 0.1),
    }


def value(policy: str, dist: SlateDist | np.ndarray, test: LoggedFeedback,
          model: RidgeModel, n_boot: int, seed: int) -> PolicyValue:
    """IPS, SNIPS and DR of one policy on the test rounds, with bootstrap intervals."""
    pi = np.empty(len(test))
    q = np.empty(len(test))
    q_pi = np.empty(len(test))
    for i, (action, slot, x) in enumerate(zip(test.actions, test.positions, test.contexts,
                                              strict=True)):
        slates = dist if isinstance(dist, np.ndarray) else dist(x)
        predicted = model.predict(x)
        pi[i] = slates[action, slot]
        q[i] = predicted[action]
        q_pi[i] = float(slates[:, slot] @ predicted)
    arrays = {"r": test.rewards, "p": test.pscores, "pi": pi}
    return PolicyValue(policy, {
        "ips": bootstrap(ips, arrays, n_boot, seed=seed),
        "snips": bootstrap(snips, arrays, n_boot, seed=seed),
        "dr": bootstrap(dr, {**arrays, "q": q, "q_pi": q_pi}, n_boot, seed=seed)})
