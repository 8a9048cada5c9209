"""The evaluation's replay through the real stack (Kafka, the running job, gRPC), next to the
same replay in process."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from evaluation.stack_replay import replay_on
from reco.simulator import ShopperSimulation, SimConfig

pytestmark = pytest.mark.integration


def test_the_stack_serves_what_the_in_process_system_scores(stack, settings):
    sim = ShopperSimulation(SimConfig(n_users=12, n_items=60, seed=11, bot_share=0.0))
    # users of their own: the stack is shared with other tests
    prefix = f"stack-replay-{uuid.uuid4().hex[:6]}-"
    events = [dataclasses.replace(e, user_id=prefix + e.user_id) for e in sim.events()]
    result = replay_on(settings, events, {"add_to_cart", "purchase"}, max_targets=8)
    assert result["targets"] == 8
    for where in ("stack", "in_process"):
        summary = result[where]["all"]
        assert summary["targets"] == 8, where
        assert 0 <= summary["hr@5"] <= summary["hr@20"] <= 1, where
    # simulated shoppers cart what they viewed: served lists find some of it, as in process
    assert result["stack"]["all"]["hr@20"] > 0
    assert result["in_process"]["all"]["hr@20"] > 0
    d = result["stack_minus_in_process"]["hr@20"]
    assert abs(d["difference"] - (result["stack"]["all"]["hr@20"]
                                  - result["in_process"]["all"]["hr@20"])) < 1e-9
    assert d["low"] <= d["difference"] <= d["high"] and d["targets"] == 8


def test_a_replay_refuses_users_the_stack_already_knows(stack, settings):
    sim = ShopperSimulation(SimConfig(n_users=3, n_items=20, seed=5, bot_share=0.0))
    prefix = f"known-{uuid.uuid4().hex[:6]}-"
    events = [dataclasses.replace(e, user_id=prefix + e.user_id) for e in sim.events()]
    replay_on(settings, events, {"add_to_cart", "purchase"}, max_targets=1)
    with pytest.raises(ValueError, match="already knows"):
        replay_on(settings, events, {"add_to_cart", "purchase"}, max_targets=1)
