"""The per-user operator (keyed by user id): drops redelivered events, updates the user's
profile state and, when the user's list changes, publishes it. Top lists arrive on the
broadcast side."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pyflink.common import Row, Types
from pyflink.datastream import OutputTag
from pyflink.datastream.functions import KeyedBroadcastProcessFunction, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from features.profile import UserProfileState
from online_models.trending import Ranked, Recommendation, TrendingRecommender
from operators.state import TOP_LISTS, value_state, with_ttl
from reco.config import Settings
from reco.topics import POPULAR_KEY
from reco.v1 import recommendations_pb2 as pb

KEYED_BYTES = Types.ROW_NAMED(["key", "value"],
                              [Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE())])
PROFILES = OutputTag("profiles", KEYED_BYTES)


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


class UserRecommendations(KeyedBroadcastProcessFunction):
    """Main output: Row(user_id, RecommendationList bytes), only when the list changed.
    Side output PROFILES: Row(user_id, UserProfile bytes), for every new event."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def open(self, runtime_context: RuntimeContext) -> None:
        s = self.settings
        self.profile = runtime_context.get_state(value_state("profile", s.user_state_ttl_ms))
        seen = MapStateDescriptor("seen-event-ids", Types.STRING(), Types.BOOLEAN())
        self.seen = runtime_context.get_map_state(with_ttl(seen, s.dedup_ttl_ms))
        self.recommender = TrendingRecommender(s.trending_half_life_ms, s.reco_list_size)
        # Every parallel instance receives every broadcast element, so a plain dict mirrors
        # the broadcast state without unpickling a list per lookup. Filled from the state on
        # the first event after a restore.
        self.tops: dict[str, Ranked] | None = None

    def new_profile(self) -> UserProfileState:
        s = self.settings
        return UserProfileState(s.window_ms, s.window_bucket_ms, s.recent_items,
                                s.purchased_items)

    def process_element(self, event: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext
                        ) -> Iterator[Any]:
        if self.seen.contains(event.event_id):
            return
        self.seen.put(event.event_id, True)
        if self.tops is None:
            self.tops = dict(ctx.get_broadcast_state(TOP_LISTS).items())
        profile = self.profile.value() or self.new_profile()
        profile.update(event)
        recs = self.recommender.recommend(
            profile.category_weights(), self.tops.get, self.tops.get(POPULAR_KEY) or [],
            exclude=set(profile.purchased), now_ms=event.ts)
        items = tuple(item for item, _, _ in recs)
        user_id = event.user_id
        if items != profile.published:
            profile.published = items
            yield Row(user_id, recommendation_list(
                user_id, recs, self.settings.model_version, event.event_id, event.ts))
        self.profile.update(profile)
        now = int(time.time() * 1000)
        yield PROFILES, Row(user_id, profile.to_proto(user_id, now).SerializeToString())

    def process_broadcast_element(self, value: Any,
                                  ctx: KeyedBroadcastProcessFunction.Context) -> None:
        key, ranked = value
        ctx.get_broadcast_state(TOP_LISTS).put(key, ranked)
        if self.tops is not None:
            self.tops[key] = ranked
