"""The serving policies by name (``settings.policy``), for the server (serving/policy.py) and
the evaluation harness alike: ``linear-ts`` (linear Thompson sampling), ``linucb``
(epsilon-LinUCB), or ``fixed:<mix>`` (always that mix, propensity 1: no exploration, for a
control group).

>>> bandit_for("linear-ts", ["bias"], seed=0).__class__.__name__
'LinearThompsonSampling'
>>> bandit_for("fixed:personal", ["bias"], seed=0) is None, fixed_mix("fixed:personal")
(True, 'personal')
>>> policy_problem("fixed:nothing").startswith("policy 'fixed:nothing': use one of linear-ts")
True
"""

from __future__ import annotations

from collections.abc import Sequence

from online_models.linear_ts import LinearThompsonSampling
from online_models.linucb import LinUCB
from online_models.mixes import ARMS, MIXES

POLICIES = ("linear-ts", "linucb")
FIXED = "fixed:"


def policy_problem(name: str) -> str | None:
    """Why a policy setting is invalid, or None."""
    if name in POLICIES:
        return None
    if name.startswith(FIXED) and name[len(FIXED):] in MIXES:
        return None
    return (f"policy {name!r}: use one of {', '.join(POLICIES)} or fixed:<mix> with a mix of "
            f"{', '.join(ARMS)}")


def bandit_for(name: str, features: Sequence[str], seed: int | None, exploration: float = 0.5
               ) -> LinearThompsonSampling | LinUCB | None:
    """The bandit of policy ``name``, or None for a fixed mix; ``exploration``: linear-ts's
    ``v``."""
    if name == "linear-ts":
        return LinearThompsonSampling(features, v=exploration, seed=seed)
    if name == "linucb":
        return LinUCB(features, seed=seed)
    return None


def fixed_mix(name: str) -> str:
    return name[len(FIXED):]
