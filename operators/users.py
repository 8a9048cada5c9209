"""The per-user operator (keyed by user id): learns the profile from clean events, counts the
filtered ones, and publishes the profile and, when it changed, the user's list. Top lists
arrive on the broadcast side."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedBroadcastProcessFunction, RuntimeContext

from features.configured import profiles_for
from online_models.trending import Ranked, Recommendation, TrendingRecommender
from operators.state import KEYED_BYTES, TOP_LISTS, value_state
from reco.config import Settings
from reco.topics import POPULAR_KEY
from reco.v1 import recommendations_pb2 as pb

LISTS = OutputTag("recommendation-lists", KEYED_BYTES)


def recommendation_list(user_id: str, recs: list[Recommendation], model_version: str,
                        last_event_id: str = "", last_event_ts: int = 0) -> bytes:
    """A serialised ``reco.v1.RecommendationList``, the value of the recommendations topic."""
    message = pb.RecommendationList(
        user_id=user_id, model_version=model_version, updated_at_ms=int(time.time() * 1000),
        last_event_id=last_event_id, last_event_ts=last_event_ts)
    add = message.items.add
    for item, score, reason in recs:
        add(item_id=item, score=score, reason=reason)
    return message.SerializeToString()


def list_fingerprint(recs: list[Recommendation]) -> int:
    """A small stand-in for the item ids last published (kept in state instead of the ids)."""
    return zlib.crc32("\x1f".join(item for item, _, _ in recs).encode())


class UserRecommendations(KeyedBroadcastProcessFunction):
    """Input: (event, filter rule or None, flagged_until_ms) from the quality operator.
    Main output: Row(user_id, UserProfile bytes), at most once per ``profile_min_interval_ms``
    per user, always ending with the latest (timers publish from the main output only).
    Side output LISTS: Row(user_id, RecommendationList bytes), when the list changed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        s = self.settings
        self.profile = runtime_context.get_state(value_state("profile", s.user_state_ttl_ms))
        self.recommender = TrendingRecommender(s.trending_half_life_ms, s.reco_list_size)
        self.profiles = profiles_for(s)
        # Every parallel instance receives every broadcast element, so a plain dict mirrors
        # the broadcast state without unpickling a list per lookup. Filled from the state on
        # the first event after a restore.
        self.tops: dict[str, Ranked] | None = None

    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext
                        ) -> Iterator[Any]:
        event, rule, flagged_until = value
        profile = self.profile.value() or self.profiles.new()
        user_id = event.user_id
        if rule is None:
            self.profiles.learn(profile, event)
            recs = self._recommend(profile, event.ts, ctx)
            fingerprint = list_fingerprint(recs)
            if fingerprint != profile.published:
                profile.published = fingerprint
                yield LISTS, Row(user_id, recommendation_list(
                    user_id, recs, self.settings.model_version, event.event_id, event.ts))
        else:
            self.profiles.record_filtered(profile, rule, event.ts, flagged_until)
        yield from self._publish_profile(profile, user_id, ctx)
        self.profile.update(profile)

    def _publish_profile(self, profile: Any, user_id: str,
                         ctx: Any) -> Iterator[Any]:
        """Publishes now, or schedules the publication of the then latest profile: a user
        whose events come in a burst (a backlog, a replay) is published once per interval."""
        now = ctx.timer_service().current_processing_time()
        interval = self.settings.profile_min_interval_ms
        if now - profile.profile_sent_ms >= interval:
            profile.profile_sent_ms, profile.profile_pending = now, False
            yield Row(user_id, self.profiles.message(profile, user_id, now).SerializeToString())
        elif not profile.profile_pending:
            profile.profile_pending = True
            ctx.timer_service().register_processing_time_timer(
                profile.profile_sent_ms + interval)

    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext
                 ) -> Iterator[Any]:
        profile = self.profile.value()
        if profile is not None and profile.profile_pending:
            yield from self._publish_profile(profile, ctx.get_current_key(), ctx)
            self.profile.update(profile)

    def _recommend(self, profile: Any, now_ms: int,
                   ctx: KeyedBroadcastProcessFunction.ReadOnlyContext) -> list[Recommendation]:
        if self.tops is None:
            self.tops = dict(ctx.get_broadcast_state(TOP_LISTS).items())
        return self.recommender.recommend(
            profile.category_weights(), self.tops.get, self.tops.get(POPULAR_KEY) or [],
            exclude=set(profile.purchased), now_ms=now_ms)

    def process_broadcast_element(self, value: Any,
                                  ctx: KeyedBroadcastProcessFunction.Context) -> None:
        key, ranked = value
        ctx.get_broadcast_state(TOP_LISTS).put(key, ranked)
        if self.tops is not None:
            self.tops[key] = ranked
