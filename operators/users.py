"""The per-user operator (keyed by user id): learns the profile from clean events, counts the
filtered ones, assigns the user's segment, publishes the profile and, when it changed, the
user's candidate pool; joins the server's impressions with the user's later events into
rewards. Top lists arrive on the broadcast side.

Segments: each parallel instance keeps its own River k-means in memory (features/population.py
does the same for the population statistics), learned from profiles as they are published
(at most once per second per user): an instance sees a random sample of users, so no key is
hot. All instances start from the same seeded centres; each publishes its sizes and centroids
for monitoring. After a restart an instance learns its model again from the stream. The same
holds for the revisit ranker that orders each user's own items (features/configured.py): each
instance learns it from the revisits of its own users."""

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

from features.configured import profiles_for, reward_weights
from features.trending import EVENT_WEIGHTS
from online_models.factors import FactorChunks, ItemFactors
from online_models.feedback import REWARDED_EVENTS, FeedbackJoiner, Sample
from online_models.mixes import PoolItem
from online_models.pool import RECENT_CANDIDATES, build_pool, excluded_purchases
from online_models.segments import SegmentModel, segment_features
from online_models.trending import Ranked, TrendingRecommender
from operators.guard import DEAD_LETTERS, dead_letter_on_error, failure_counter
from operators.state import KEYED_BYTES, KEYED_PICKLED, TOP_LISTS, value_state
from reco.clock import now_ms
from reco.config import Settings
from reco.impressions import Impression
from reco.keys import FACTORS_PREFIX
from reco.v1 import recommendations_pb2 as pb

# Tags of the main output (timers can only emit there): (PROFILE, Row), (LIST, Row),
# (REWARD, shard, Sample), (SEGMENTS, Row), (SEGMENT_ITEM, segment, item, weight, ts),
# (FAILED, dead-letter string)
PROFILE, LIST, REWARD, SEGMENTS, FAILED = "profile", "list", "reward", "segments", "failed"
SEGMENT_ITEM = "segment-item"
SEGMENT_SIGNAL_WEIGHT = 2.0  # wishlist saves, carts and purchases feed the segment lists
# where RouteOutputs sends each tag: rows for the sinks, (key, value) rows for keyed steps
LISTS = OutputTag("lists", KEYED_BYTES)
PROFILES = OutputTag("profiles", KEYED_BYTES)
SEGMENT_SUMMARIES = OutputTag("segment-summaries", KEYED_BYTES)
SEGMENT_ITEMS = OutputTag("segment-items", KEYED_PICKLED)
REWARDS = OutputTag("rewards", KEYED_PICKLED)
_ROWS = {LIST: LISTS, PROFILE: PROFILES, SEGMENTS: SEGMENT_SUMMARIES}


class RouteOutputs(ProcessFunction):
    """The user operator's tagged main output, one side output per tag: one Python call per
    record, where a filter per tag took five (the user operator cannot route them itself:
    timers cannot emit side outputs)."""

    def process_element(self, record: Any, ctx: ProcessFunction.Context) -> Iterator[Any]:
        tag = record[0]
        if tag == FAILED:
            yield DEAD_LETTERS, record[1]
        elif tag == SEGMENT_ITEM:  # (tag, segment, item, weight, ts): keyed by segment
            yield SEGMENT_ITEMS, Row(record[1], record[1:])
        elif tag == REWARD:  # (tag, shard, sample): keyed by shard
            yield REWARDS, Row(record[1], (record[1], record[2]))
        else:
            yield _ROWS[tag], record[1]


def recommendation_list(user_id: str, pool: list[PoolItem], model_version: str,
                        last_event_id: str = "", last_event_ts: int = 0, segment: int = -1,
                        features: dict[str, float] | None = None,
                        excluded: list[str] | None = None) -> bytes:
    """A serialised ``reco.v1.RecommendationList``, the value of the recommendations topic."""
    message = pb.RecommendationList(
        user_id=user_id, model_version=model_version, updated_at_ms=now_ms(),
        last_event_id=last_event_id, last_event_ts=last_event_ts,
        segment=str(segment) if segment >= 0 else "", features=features or {},
        excluded_item_ids=excluded or [])
    add = message.items.add
    for item, score, source, reason, category in pool:
        add(item_id=item, score=score, reason=reason, source=source, category=category)
    return message.SerializeToString()


def list_fingerprint(pool: list[PoolItem], excluded: list[str]) -> int:
    """A small stand-in for the items last published (kept in state instead of the ids)."""
    return zlib.crc32("\x1f".join([*(f"{p[0]}\x1e{p[2]}" for p in pool), *excluded]).encode())


def subtask_index(runtime_context: RuntimeContext) -> int:
    """This parallel instance's index. PyFlink 2.2's thread mode still asks Java's
    RuntimeContext for getIndexOfThisSubtask, which Flink 2 moved to getTaskInfo()."""
    try:
        return runtime_context.get_index_of_this_subtask()
    except AttributeError:
        java = runtime_context._runtime_context
        return int(java.getTaskInfo().getIndexOfThisSubtask())


def reward_shard(request_id: str, shards: int) -> str:
    return f"shard-{zlib.crc32(request_id.encode()) % shards}"


class UserRecommendations(KeyedBroadcastProcessFunction):
    """Input: (event or Impression, filter rule or None, flagged_until_ms) from the quality
    operator. Output, tagged: (PROFILE, Row(user_id, UserProfile bytes)) and, when the pool
    changed, (LIST, Row(user_id, RecommendationList bytes)), at most once per
    ``profile_min_interval_ms`` per user, always ending with the latest; (REWARD, shard,
    Sample); (SEGMENTS, Row(instance, SegmentModelSummary bytes))."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        s = self.settings
        self.profile = runtime_context.get_state(value_state("profile", s.user_state_ttl_ms))
        self.feedback = runtime_context.get_state(value_state("feedback",
                                                              s.user_state_ttl_ms))
        self.recommender = TrendingRecommender(2 * s.candidates_per_source)
        self.profiles = profiles_for(s)
        self.weights = reward_weights(s)
        self.segments = SegmentModel(s.segments, seed=s.policy_seed)
        self.instance = f"instance-{subtask_index(runtime_context)}"
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
        event, rule, flagged_until = value
        if isinstance(event, Impression):
            yield from self._impression(event, ctx)
            return
        profile = self.profile.value() or self.profiles.new()
        if rule is None:
            self.profiles.learn(profile, event)
        else:
            self.profiles.record_filtered(profile, rule, event.ts, flagged_until)
        yield from self._publish(profile, event.user_id, ctx)
        self.profile.update(profile)
        if rule is None and event.event_type in REWARDED_EVENTS:
            yield from self._rewards(event)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        if rule is None and weight >= SEGMENT_SIGNAL_WEIGHT and event.item_id \
                and profile.segment >= 0:
            # what this segment's users want (wishlist, cart, purchase; views are most of the
            # traffic and say less): the cold-start list for new users like them
            yield SEGMENT_ITEM, str(profile.segment), event.item_id, weight, event.ts

    def _publish(self, profile: Any, user_id: str, ctx: Any) -> Iterator[Any]:
        """Publishes the profile, and the pool when it changed, now, or schedules the
        publication of the then latest ones: a user whose events come in a burst (a backlog, a
        replay) is published once per interval, a user's first event at once. Publishing also
        (re)assigns the user's segment and teaches the segment model."""
        now = now_ms()
        interval = self.settings.profile_min_interval_ms
        if now - profile.profile_sent_ms >= interval:
            profile.profile_sent_ms, profile.profile_pending = now, False
            message = self.profiles.message(profile, user_id, now)
            profile.segment = self.segments.learn_predict_one(segment_features(message))
            message.segment = str(profile.segment)
            yield PROFILE, Row(user_id, message.SerializeToString())
            yield from self._segment_summary(now)
            yield from self._list(profile, user_id, ctx)
        elif not profile.profile_pending:
            profile.profile_pending = True
            ctx.timer_service().register_processing_time_timer(
                profile.profile_sent_ms + interval)

    def _list(self, profile: Any, user_id: str, ctx: Any) -> Iterator[Any]:
        if profile.event_count == 0:
            return  # only filtered events so far: nothing learned, nothing to list
        pool = self._pool(profile, ctx)
        excluded = excluded_purchases(pool, profile.purchased)
        fingerprint = list_fingerprint(pool, excluded)
        if fingerprint != profile.published:
            profile.published = fingerprint
            yield LIST, Row(user_id, recommendation_list(
                user_id, pool, self.settings.model_version, profile.last_event_id,
                profile.last_seen, profile.segment, self.profiles.bandit_features(profile),
                excluded))

    def _segment_summary(self, now: int) -> Iterator[Any]:
        if now - self.segments_sent_ms < self.settings.segment_publish_interval_ms:
            return
        self.segments_sent_ms = now
        summary = pb.SegmentModelSummary(instance=self.instance, updated_at_ms=now, segments=[
            pb.Segment(id=k, size=self.segments.sizes[k], centroid=centre)
            for k, centre in sorted(self.segments.centers.items())])
        yield SEGMENTS, Row(self.instance, summary.SerializeToString())

    @dead_letter_on_error("user-recommendations", emit=lambda letter: (FAILED, letter))
    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext
                 ) -> Iterator[Any]:
        profile = self.profile.value()
        if profile is not None and profile.profile_pending:
            yield from self._publish(profile, ctx.get_current_key(), ctx)
            self.profile.update(profile)
        joiner = self.feedback.value()
        if joiner is not None and (joiner.pending or joiner.early):
            yield from self._emit(joiner.expire(timestamp))
            self._store_feedback(joiner)

    def _impression(self, impression: Impression, ctx: Any) -> Iterator[Any]:
        joiner = self.feedback.value() or FeedbackJoiner(self.weights)
        now = now_ms()
        pushed = joiner.add_impression(impression.request_id, impression.served_at_ms,
                                       list(impression.items), impression.features,
                                       impression.arm)
        yield from self._emit(pushed + joiner.expire(now))
        ctx.timer_service().register_processing_time_timer(
            impression.served_at_ms + self.weights.window_ms + 1)
        self._store_feedback(joiner)

    def _rewards(self, event: Any) -> Iterator[Any]:
        joiner = self.feedback.value()
        if joiner is None:
            if event.request_id is None:
                return
            joiner = FeedbackJoiner(self.weights)  # the event may precede its impression
        yield from self._emit(joiner.on_event(event.event_type, event.item_id, event.ts,
                                              event.request_id))
        self._store_feedback(joiner)

    def _store_feedback(self, joiner: FeedbackJoiner) -> None:
        if joiner.pending or joiner.early:
            self.feedback.update(joiner)
        else:
            self.feedback.clear()

    def _emit(self, samples: list[Sample]) -> Iterator[Any]:
        for sample in samples:
            if sample.arm:  # responses no policy chose (e.g. logged by an older server)
                yield REWARD, reward_shard(sample.request_id, self.settings.policy_shards), \
                    sample

    def _pool(self, profile: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext
              ) -> list[PoolItem]:
        if self.tops is None:
            self.tops = {}
            for key, value in ctx.get_broadcast_state(TOP_LISTS).items():
                self._broadcast(key, value)
        return build_pool(profile, self.profiles.recent_candidates(profile, RECENT_CANDIDATES),
                          self.tops.get, self.recommender, self.factors,
                          self.settings.candidates_per_source)

    def _broadcast(self, key: str, value: Any) -> None:
        if key.startswith(FACTORS_PREFIX):
            model = self.factor_chunks.add(pb.ItemFactorsChunk.FromString(value))
            if model is not None:
                self.factors = model  # swapped whole: lists use one version or the other
        elif self.tops is not None:
            self.tops[key] = value

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
