"""A request's rules from what the server knows: the catalog's facts of each item (parsed once
per version of its record), what the user bought (but in the categories a shop lets them buy
again, the ``repurchase_categories`` setting) and what they viewed lately (their profile)."""

from __future__ import annotations

from collections.abc import Collection

from reco.v1 import recommendations_pb2 as pb
from reco.v1.catalog_pb2 import OUT_OF_STOCK, Item
from serving.store import CATALOG, ITEMS, PROFILES, RECOMMENDATIONS, Store
from userstep.filters import Facts, Rules, categories_of, rules_from_proto

FACTS_CACHE = 100_000  # items whose parsed catalog records are kept
MINUTE_MS = 60_000


def facts_of(item: Item) -> Facts:
    return Facts(tuple(item.category_path), item.brand, frozenset(item.labels),
                 item.price if item.price > 0 else None, item.availability == OUT_OF_STOCK)


class RequestRules:
    def __init__(self, store: Store, repurchase_categories: Collection[str] = ()) -> None:
        self.store = store
        self.repurchase = frozenset(c.strip().casefold() for c in repurchase_categories
                                    if c.strip())
        self._facts: dict[str, tuple[bytes, Facts]] = {}

    def facts(self, item: str) -> Facts | None:
        """What the catalog says of ``item`` (None: the catalog does not know it)."""
        raw = self.store.get(CATALOG, item)
        if raw is None:
            return None
        cached = self._facts.get(item)
        if cached is not None and cached[0] == raw:
            return cached[1]
        facts = facts_of(Item.FromString(raw))
        if len(self._facts) >= FACTS_CACHE:
            self._facts.clear()
        self._facts[item] = (raw, facts)
        return facts

    def profile(self, user_id: str) -> pb.UserProfile | None:
        raw = self.store.get(PROFILES, user_id) if user_id else None
        return pb.UserProfile.FromString(raw) if raw is not None else None

    def bought(self, user_id: str, profile: pb.UserProfile | None = None) -> list[str]:
        """What the user bought (their profile's recent purchases) and may not be shown
        again, with the list's exclusions (older purchases the job still knows of)."""
        profile = profile or self.profile(user_id)
        stored = self.store.get(RECOMMENDATIONS, user_id) if user_id else None
        bought = [*(profile.purchased_item_ids if profile is not None else ()),
                  *(pb.RecommendationList.FromString(stored).excluded_item_ids
                    if stored else ())]
        return [item for item in dict.fromkeys(bought) if not self.repurchasable(item)]

    def repurchasable(self, item: str) -> bool:
        if not self.repurchase:
            return False
        raw = self.store.get(ITEMS, item)
        category = pb.ItemFeatures.FromString(raw).category if raw is not None else ""
        return bool(categories_of(self.facts(item), category) & self.repurchase)

    @staticmethod
    def viewed_since(profile: pb.UserProfile | None, since_ms: int) -> list[str]:
        if profile is None:
            return []
        return [item for item, ts in zip(profile.recent_item_ids, profile.recent_item_ts_ms,
                                         strict=False) if ts >= since_ms]

    def rules(self, filters: pb.Filters, user_id: str, exclude: Collection[str],
              unavailable: Collection[str], now_ms: int) -> Rules:
        excluded = set(exclude)
        profile = self.profile(user_id)
        if not filters.include_bought:
            excluded.update(self.bought(user_id, profile))
        if filters.exclude_viewed_minutes:
            excluded.update(self.viewed_since(
                profile, now_ms - filters.exclude_viewed_minutes * MINUTE_MS))
        return rules_from_proto(filters, frozenset(excluded), unavailable)
