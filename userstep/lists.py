"""The published records of the user step: a user's recommendation list (the candidate pool
with reasons, scores and categories) and the cold-start lists.

>>> pool = [("a", 1.0, "recent", "recent", "shoes")]
>>> raw = recommendation_list("u1", pool, "v1", 7)
>>> message = pb.RecommendationList.FromString(raw)
>>> [(i.item_id, i.source) for i in message.items], message.updated_at_ms
([('a', 'recent')], 7)
>>> list_fingerprint(raw) == list_fingerprint(recommendation_list("u1", pool, "v1", 8))
True
>>> list_fingerprint(raw) == list_fingerprint(recommendation_list("u1", pool, "v1", 7, "e2"))
False
"""

from __future__ import annotations

import zlib

from online_models.mixes import PoolItem
from online_models.pool import candidate_pool
from online_models.trending import Ranked, TrendingRecommender
from reco.keys import (
    ALL_PURCHASES,
    ALL_VIEWS,
    CATEGORY_PREFIX,
    COUNTRY_LIST_PREFIX,
    GLOBAL_LIST,
    NEW_ITEMS_PREFIX,
    POPULAR_LIST,
    PURCHASES_PREFIX,
    SEGMENT_LIST_PREFIX,
    VIEWS_PREFIX,
)
from reco.v1 import recommendations_pb2 as pb


def recommendation_list(user_id: str, pool: list[PoolItem], model_version: str,
                        updated_at_ms: int, last_event_id: str = "", last_event_ts: int = 0,
                        segment: int = -1, features: dict[str, float] | None = None,
                        excluded: list[str] | None = None) -> bytes:
    """A serialised ``reco.v1.RecommendationList``, the value of the recommendations topic."""
    message = pb.RecommendationList(
        user_id=user_id, model_version=model_version, updated_at_ms=updated_at_ms,
        last_event_id=last_event_id, last_event_ts=last_event_ts,
        segment=str(segment) if segment >= 0 else "", features=features or {},
        excluded_item_ids=excluded or [])
    add = message.items.add
    for item, score, source, reason, category in pool:
        add(item_id=item, score=score, reason=reason, source=source, category=category)
    return message.SerializeToString()


def list_fingerprint(raw: bytes) -> int:
    """A small stand-in for a published list (kept in state instead of the list): a CRC-32 of
    everything the server serves from (items, scores, sources, exclusions, segment, the
    policy's user features, the last event's time), not of when it was published."""
    message = pb.RecommendationList.FromString(raw)
    message.updated_at_ms = 0
    return zlib.crc32(message.SerializeToString(deterministic=True))


def popular_list(key: str, ranked: Ranked, size: int, model_version: str,
                 updated_at_ms: int) -> tuple[str, bytes]:
    """A list for the popular-lists topic from a ranked top list: the global one (POPULAR_LIST
    in, GLOBAL_LIST out), a segment's (segment_list_key(segment)), a country's
    (country_list_key(code)), a category's trending items
    (category_key) or its newest (new_items_key), each item with the reason of its list."""
    recs = TrendingRecommender(size).popular(ranked, (), size)
    if key == POPULAR_LIST:
        key = GLOBAL_LIST
    elif key in (ALL_VIEWS, ALL_PURCHASES):
        reason = "most-viewed" if key == ALL_VIEWS else "best-sellers"
        recs = [(item, score, reason) for item, score, _ in recs]
    else:
        for prefix, reason in ((SEGMENT_LIST_PREFIX, "popular:segment="),
                               (COUNTRY_LIST_PREFIX, "popular:country="),
                               (CATEGORY_PREFIX, "trending:category="),
                               (NEW_ITEMS_PREFIX, "new:category="),
                               (VIEWS_PREFIX, "most-viewed:category="),
                               (PURCHASES_PREFIX, "best-sellers:category=")):
            if key.startswith(prefix):
                recs = [(item, score, reason + key.removeprefix(prefix))
                        for item, score, _ in recs]
    pool = candidate_pool((), (), recs, len(recs))
    return key, recommendation_list(key, pool, model_version, updated_at_ms)
