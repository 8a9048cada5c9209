"""The bandit's learner (keyed by reward shard): adds each reward to the shard's sufficient
statistics (online_models/policy_stats.py) in keyed state and publishes them, at most once per
``policy_publish_interval_ms`` and always ending with the latest, to the compacted policy topic.
Serving sums the shards. Rewards are spread over shards by request id, so no key is hot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from online_models.bandit_context import context_features
from online_models.policy_stats import PolicyStatistics
from operators.guard import dead_letter_on_error, failure_counter
from operators.state import value_state
from reco.clock import now_ms
from reco.config import Settings


class PolicyLearner(KeyedProcessFunction):
    """Input: (shard, Sample); output: Row(shard, PolicyParameters bytes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        # (statistics, when last published, a newer version waits for its publication)
        self.state = runtime_context.get_state(value_state("policy", 0))
        self.features = context_features(self.settings.segments)
        self.failures = failure_counter(runtime_context)

    @dead_letter_on_error("policy-learner")
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        _, sample = value
        stats, sent_ms, pending = self.state.value() or (self._empty(), 0, False)
        if not stats.continues(self.features):  # restored from an incompatible version
            stats = self._empty()
        stats.update(sample.arm, sample.context, sample.reward, sample.weight, sample.ts)
        now = now_ms()
        interval = self.settings.policy_publish_interval_ms
        if now - sent_ms >= interval:
            sent_ms, pending = now, False
            yield Row(ctx.get_current_key(),
                      stats.to_message(ctx.get_current_key(), now).SerializeToString())
        elif not pending:
            pending = True
            ctx.timer_service().register_processing_time_timer(sent_ms + interval)
        self.state.update((stats, sent_ms, pending))

    def _empty(self) -> PolicyStatistics:
        return PolicyStatistics(self.features, self.settings.policy_half_life_ms or None)

    @dead_letter_on_error("policy-learner")
    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext
                 ) -> Iterator[Any]:
        current = self.state.value()
        if current is None or not current[2]:
            return
        stats = current[0]
        yield Row(ctx.get_current_key(),
                  stats.to_message(ctx.get_current_key(), timestamp).SerializeToString())
        self.state.update((stats, timestamp, False))
