"""The contract every bandit policy keeps, and whether context pays on the simulator."""

from __future__ import annotations

import copy
import pickle

import pytest

from evaluation.bandit_env import CategoryEnvironment
from online_models.baselines import RiverBandit
from online_models.linear_ts import LinearThompsonSampling
from online_models.linucb import LinUCB

FEATURES = ["bias", "x"]
ARMS = ["a", "b", "c"]


def policies(features=FEATURES, seed=7):
    return {
        "linear_ts": LinearThompsonSampling(features, v=0.3, seed=seed),
        "linucb": LinUCB(features, alpha=0.5, epsilon=0.05, seed=seed),
        "epsilon_greedy": RiverBandit("epsilon_greedy", epsilon=0.1, seed=seed),
        "ucb": RiverBandit("ucb", delta=1.0, seed=seed),
    }


def play(policy, rounds=60, seed=0):
    import random

    rng = random.Random(seed)
    trace = []
    for _ in range(rounds):
        context = {"bias": 1.0, "x": rng.random()}
        arm, propensity = policy.pull(ARMS, context)
        reward = 1.0 if (arm == "b") == (context["x"] > 0.5) else 0.0
        policy.update(arm, reward, context)
        trace.append((arm, propensity))
    return trace


@pytest.mark.parametrize("name", list(policies()))
def test_pickle_round_trip_continues_identically(name):
    policy = policies()[name]
    play(policy, 30)
    clone = pickle.loads(pickle.dumps(policy))
    assert play(clone, 20, seed=5) == play(policy, 20, seed=5)


@pytest.mark.parametrize("name", list(policies()))
def test_clone_is_fresh_with_the_same_parameters(name):
    policy = policies()[name]
    fresh = play(policies()[name], 40)
    play(policy, 50)
    assert play(policy.clone(), 40) == fresh


@pytest.mark.parametrize("name", list(policies()))
def test_seeded_runs_are_deterministic_and_seeds_matter(name):
    assert play(policies(seed=3)[name], 200) == play(policies(seed=3)[name], 200)
    if name != "ucb":  # UCB is deterministic by design
        assert play(policies(seed=3)[name], 200) != play(policies(seed=4)[name], 200)


@pytest.mark.parametrize("name", list(policies()))
def test_inputs_are_not_mutated_and_propensities_are_probabilities(name):
    policy = policies()[name]
    context, arms = {"bias": 1.0, "x": 0.3}, list(ARMS)
    before = (copy.deepcopy(context), list(arms))
    for _ in range(20):
        arm, propensity = policy.pull(arms, context)
        policy.update(arm, 1.0, context)
        assert arm in ARMS and 0 < propensity <= 1
    assert (context, arms) == before


def cumulative_reward(policy, env, rounds):
    total = 0.0
    for _ in range(rounds):
        context = env.arrive()
        arm, _ = policy.pull(env.arms, context)
        reward = env.reward(arm)
        policy.update(arm, reward, context)
        total += reward
    return total


def random_reward(env, rounds, seed):
    import random

    rng = random.Random(seed)
    return sum(env.reward(rng.choice(env.arms)) for _ in range(rounds) if env.arrive())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contextual_policies_beat_random_and_the_best_non_contextual_one(seed):
    rounds = 3000
    features = CategoryEnvironment(seed).features
    results = {}
    for name, policy in policies(features, seed).items():
        results[name] = cumulative_reward(policy, CategoryEnvironment(seed), rounds)
    results["random"] = random_reward(CategoryEnvironment(seed), rounds, seed)
    fixed = CategoryEnvironment(seed).best_fixed_arm_rate() * rounds  # an oracle, in fact
    best_context_free = max(results["random"], results["epsilon_greedy"], results["ucb"], fixed)
    print(f"seed {seed}: " + ", ".join(f"{k} {v:.0f}" for k, v in results.items())
          + f", best fixed arm (expected) {fixed:.0f}")
    for contextual in ("linear_ts", "linucb"):
        assert results[contextual] > 1.3 * best_context_free, contextual


def test_the_reward_noise_is_learned_per_arm_and_narrows_the_samples_of_quiet_arms():
    import numpy as np

    from online_models.linear_bandit import ArmModels

    models = ArmModels(["bias"])
    assert models.noise("a") == 1.0  # the prior's scale before any reward
    rng = np.random.default_rng(0)
    for _ in range(2000):
        models.update("rare", np.array([1.0]), float(rng.random() < 0.03))  # clicked 3%
        models.update("loud", np.array([1.0]), float(rng.normal(0.5, 2.0)))
    rare, loud = models.noise("rare"), models.noise("loud")
    assert 0.14 < rare < 0.20  # sqrt(0.03 * 0.97) = 0.17
    assert 1.8 < loud < 2.2
    # the same evidence, a tenth of the noise: the draws spread a tenth as far
    wide, narrow = (LinearThompsonSampling(["bias"], v=1.0, seed=1) for _ in range(2))
    for n in range(1000):
        reward = float(n % 2)
        wide.update("a", 10.0 * reward, {"bias": 1.0})
        narrow.update("a", reward, {"bias": 1.0})
    spread = [float(np.std(p.draws(["a"], {"bias": 1.0}, 4000))) for p in (wide, narrow)]
    assert 8.0 < spread[0] / spread[1] < 12.0


def test_the_noise_survives_the_jobs_statistics():
    from online_models.linear_bandit import ArmModels
    from online_models.policy_stats import PolicyStatistics

    stats = PolicyStatistics(["bias"])
    direct = LinearThompsonSampling(["bias"], seed=0)
    for n in range(500):
        reward = 1.0 if n % 10 == 0 else 0.0
        stats.update("a", {"bias": 1.0}, reward)
        direct.update("a", reward, {"bias": 1.0})
    again = PolicyStatistics.from_message(stats.to_message("s0", 0))
    assert again.arms["a"].reward_square_sum == 50.0
    loaded = ArmModels(["bias"])
    loaded.load(again)
    assert abs(loaded.noise("a") - direct._models.noise("a")) < 1e-9
    assert loaded.noise("a") < 0.35
