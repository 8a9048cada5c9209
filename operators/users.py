"""The per-user operator (keyed by user id): a thin adapter around the user step
(userstep/step.py). Per checked event (operators/quality.py ran the step's check) it runs the
step's learning and sends rewards to the policy learner and segment signals to the segment
lists; it publishes the profile and, when it changed, the recommendation list, at most once
per ``profile_min_interval_ms`` of processing time per user (a live event at once:
userstep/publication.py) and always ending with the latest. Impressions (parsed from the
impressions topic) join the user's later events into rewards. Top lists and item factors
arrive on the broadcast side.

State: one value per user (userstep.UserState: profile, pending impressions),
one read and one write per record. Segments: each parallel instance keeps its own River
k-means in memory (features/population.py does the same for the population statistics),
learned from profiles as they are published: an instance sees a random sample of users, so no
key is hot. All instances start from the same seeded centres; each publishes its sizes and
centroids for monitoring. After a restart an instance learns its model again from the stream.
The same holds for the revisit ranker (userstep/configured.py)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import (
    KeyedBroadcastProcessFunction,
    ProcessFunction,
    RuntimeContext,
)

from online_models.factors import FactorChunks, ItemFactors
from online_models.feedback import Sample
from online_models.trending import Ranked
from operators.guard import DEAD_LETTERS, dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, KEYED_PICKLED, TOP_LISTS, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import erasure_done
from reco.impressions import Impression
from reco.keys import (
    FACTORS_PREFIX,
    REFERENCE_INSTANCE,
    SEGMENT_MODEL_PREFIX,
    instance_name,
    segment_model_key,
)
from reco.records import Forget
from reco.v1 import recommendations_pb2 as pb
from userstep.publication import due
from userstep.step import Shared, UserState, UserStep

# Tags of the main output (timers can only emit there): (PROFILE, Row), (LIST, Row),
# (REWARD, shard, Sample), (SEGMENTS, Row), (FAILED, dead-letter string)
PROFILE, LIST, REWARD, SEGMENTS, FAILED = "profile", "list", "reward", "segments", "failed"
DONE = "erasure-done"
# where RouteOutputs sends each tag: rows for the sinks, (key, value) rows for keyed steps
LISTS = OutputTag("lists", KEYED_BYTES)
PROFILES = OutputTag("profiles", KEYED_BYTES)
SEGMENT_SUMMARIES = OutputTag("segment-summaries", KEYED_BYTES)
ERASURES_DONE = OutputTag("erasures-done", KEYED_BYTES)
REWARDS = OutputTag("rewards", KEYED_PICKLED)
_ROWS = {LIST: LISTS, PROFILE: PROFILES, SEGMENTS: SEGMENT_SUMMARIES, DONE: ERASURES_DONE}
# a side output of the user operator itself: segment signals (keyed by segment)
SEGMENT_SIGNALS = OutputTag("segment-signals", KEYED_PICKLED)


class RouteOutputs(ProcessFunction):
    """The user operator's tagged main output, one side output per tag: one Python call per
    record (the user operator cannot route them itself: timers cannot emit side outputs)."""

    def process_element(self, record: Any, ctx: ProcessFunction.Context) -> Iterator[Any]:
        tag = record[0]
        if tag == FAILED:
            yield DEAD_LETTERS, record[1]
        elif tag == REWARD:  # (tag, shard, sample): keyed by shard
            yield REWARDS, Row(record[1], (record[1], record[2]))
        else:
            yield _ROWS[tag], record[1]


def subtask_index(runtime_context: RuntimeContext) -> int:
    """This parallel instance's index. PyFlink 2.2's thread mode still asks Java's
    RuntimeContext for getIndexOfThisSubtask, which Flink 2 moved to getTaskInfo()."""
    try:
        return runtime_context.get_index_of_this_subtask()
    except AttributeError:
        java = runtime_context._runtime_context
        return int(java.getTaskInfo().getIndexOfThisSubtask())


def reward_shard(request_id: str, shards: int) -> str:
    return f"shard-{zlib.crc32(request_id.encode('utf-8', 'replace')) % shards}"


class UserRecommendations(KeyedBroadcastProcessFunction):
    """Input: KEYED_PICKLED rows (user id, (Event, Checked)), (user id, Impression) or (user
    id, Forget) from the quality operator."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        s = self.settings
        self.state = runtime_context.get_state(value_state("user", s.user_state_ttl_ms))
        self.step = UserStep(s)
        self.instance = instance_name(subtask_index(runtime_context))
        self.segments_sent_ms = 0
        # Every parallel instance receives every broadcast element, so a plain dict mirrors
        # the broadcast state without unpickling a list per lookup. Filled from the state on
        # the first event after a restore, as are the item factors.
        self.tops: dict[str, Ranked] | None = None
        self.factors: ItemFactors | None = None
        self.factor_chunks = FactorChunks()
        self.failures = failure_counter(runtime_context)

    @dead_letter_on_error("user-recommendations")
    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext
                        ) -> Iterator[Any]:
        if isinstance(value, Forget):
            # the user withdrew consent: nothing of her stays here (her signals to the
            # segment and country lists are taken back), and the compacted topics keep a
            # tombstone for her list and profile (the server deletes them on it)
            for signal in self.step.forget(self.state.value(), value.user_id):
                yield SEGMENT_SIGNALS, Row(signal.key, signal)
            self.state.clear()
            yield PROFILE, Row(value.user_id, None)
            yield LIST, Row(value.user_id, None)
            if value.request is not None:  # committed with the tombstones, at the checkpoint
                yield DONE, Row(value.user_id, erasure_done(
                    value.user_id, value.request.request_id, "job", now_ms()))
            return
        state: UserState = self.state.value() or self.step.new_state()
        if isinstance(value, Impression):
            samples = self.step.impression(state, value, now_ms())
            ctx.timer_service().register_processing_time_timer(
                value.served_at_ms + self.step.weights.window_ms + 1)
            self.state.update(state)
            yield from self._rewards(samples)
            return
        event, checked = value
        learned = self.step.learn(state, event, checked)
        for signal in learned.segment_signals:
            yield SEGMENT_SIGNALS, Row(signal.key, signal)
        yield from self._publish(state, event.user_id, ctx, event.ts)
        self.state.update(state)
        yield from self._rewards(learned.rewards)

    def _publish(self, state: UserState, user_id: str, ctx: Any,
                 event_ms: int | None = None) -> Iterator[Any]:
        """Publishes now, or schedules the publication of the then latest profile and list: a
        user whose events come in a burst (a backlog, a replay) is published once per
        interval, a user's first event and a live event (``event_ms``, its time, close to
        the job's clock) at once (userstep/publication.py)."""
        profile = state.profile
        now = now_ms()
        interval = self.settings.profile_min_interval_ms
        # the event's own time: the records' Kafka timestamps do not reach this operator
        lag = None if event_ms is None else now - event_ms
        if due(now, profile.profile_sent_ms, interval, lag, self.settings.profile_live_lag_ms):
            profile.profile_sent_ms, profile.profile_pending = now, False
            out = self.step.publish(state, user_id, self._shared(ctx), now)
            yield PROFILE, Row(user_id, out.profile.SerializeToString())
            if out.recommendations is not None:
                yield LIST, Row(user_id, out.recommendations)
            yield from self._segment_summary(now)
        elif not profile.profile_pending:
            profile.profile_pending = True
            ctx.timer_service().register_processing_time_timer(
                profile.profile_sent_ms + interval)

    def _segment_summary(self, now: int) -> Iterator[Any]:
        if now - self.segments_sent_ms < self.settings.segment_publish_interval_ms:
            return
        self.segments_sent_ms = now
        segments = self.step.segments
        summary = pb.SegmentModelSummary(instance=self.instance, updated_at_ms=now, segments=[
            pb.Segment(id=k, size=segments.sizes[k], centroid=centre)
            for k, centre in sorted(segments.centers.items())])
        yield SEGMENTS, Row(self.instance, summary.SerializeToString())

    @dead_letter_on_error("user-recommendations", emit=lambda letter: (FAILED, letter))
    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext
                 ) -> Iterator[Any]:
        state: UserState | None = self.state.value()
        if state is None:
            return
        if state.profile.profile_pending:
            yield from self._publish(state, ctx.get_current_key(), ctx)
        samples = self.step.expire(state, timestamp)
        self.state.update(state)
        yield from self._rewards(samples)

    def _rewards(self, samples: list[Sample]) -> Iterator[Any]:
        for sample in samples:
            yield REWARD, reward_shard(sample.request_id, self.settings.policy_shards), sample

    def _shared(self, ctx: Any) -> Shared:
        if self.tops is None:
            self.tops = {}
            for key, value in ctx.get_broadcast_state(TOP_LISTS).items():
                self._broadcast(key, value)
        return Shared(self.tops.get, self.factors)

    def _broadcast(self, key: str, value: Any) -> None:
        if key.startswith(FACTORS_PREFIX):
            model = self.factor_chunks.add(pb.ItemFactorsChunk.FromString(value))
            if model is not None:
                self.factors = model  # swapped whole: lists use one version or the other
        elif key.startswith(SEGMENT_MODEL_PREFIX):
            self._follow_segments(key, value)
        elif self.tops is not None:
            self.tops[key] = value

    def _follow_segments(self, key: str, value: bytes) -> None:
        """Segment ids mean the same users on every instance: the first instance learns the
        segment model, the others assign with its latest centres, which come back through
        the segments topic (the dataflow has no cycles). After a restart the first resumes
        from its last published model. With one instance nothing comes from another, so the
        job learns exactly as the evaluation harness does."""
        if key != segment_model_key(REFERENCE_INSTANCE):
            return
        summary = pb.SegmentModelSummary.FromString(value)
        centres = {segment.id: dict(segment.centroid) for segment in summary.segments}
        if not any(segment.size for segment in summary.segments):
            return  # nothing learned yet
        if self.instance == REFERENCE_INSTANCE:
            self.step.segments.resume(centres)
        else:
            self.step.segments.follow(centres)

    @dead_letter_on_error("user-recommendations")
    def process_broadcast_element(self, value: Any,
                                  ctx: KeyedBroadcastProcessFunction.Context) -> None:
        key, payload = value
        ctx.get_broadcast_state(TOP_LISTS).put(key, payload)
        if self.tops is not None:
            self._broadcast(key, payload)
        if key.startswith(FACTORS_PREFIX) and self.factor_chunks.rejected:
            reason, self.factor_chunks.rejected = self.factor_chunks.rejected, None
            raise ValueError(reason)  # dead-lettered with the chunk; the current model stays
