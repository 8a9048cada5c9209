"""Filters and business rules, the same for every placement: which candidates may be shown
(categories, brands, labels, price, availability, what the user bought or just viewed), how
many per category or brand, a promotion quota and pinned items. ``select`` takes a placement's
ranked candidates (its own, then its fallback's) and returns at most ``k`` of them, every one
satisfying every rule; an answer is shorter than ``k`` rather than break one.

What an item is comes from the catalog (``Facts``); an item the catalog does not know has only
the category its events carry, so it fails a brand, label or price rule that asks something of
it (a rule a shop sets must hold, not be guessed at).

>>> facts = {"a": Facts(("Shoes",), "acme", frozenset({"sale"}), 50.0),
...          "b": Facts(("Shoes",), "acme", frozenset(), 80.0),
...          "c": Facts(("Hats",), "zeta", frozenset({"sale"}), 20.0)}
>>> pool = [(i, 1.0, "cooccur", "cooccur", "") for i in "abc"]
>>> rules = Rules(max_per_brand=1, promotion_label="sale", promotion_min=2)
>>> [item for item, *_ in select(pool, 2, rules, facts.get)]
['a', 'c']
>>> [item for item, *_ in select(pool, 3, Rules(max_price=60.0, pinned=("c",)), facts.get)]
['c', 'a']
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from online_models.mixes import PoolItem
from reco.v1 import recommendations_pb2 as pb

PINNED_REASON = "pinned"


class Facts(NamedTuple):
    """What the catalog says of an item (``category_path`` top level first)."""

    category_path: tuple[str, ...] = ()
    brand: str = ""
    labels: frozenset[str] = frozenset()
    price: float | None = None
    out_of_stock: bool = False    # not available only for now (discontinued items never are)


@dataclass(frozen=True)
class Rules:
    """A request's filters, names casefolded (``rules_from_proto`` builds them)."""

    include_categories: frozenset[str] = frozenset()
    exclude_categories: frozenset[str] = frozenset()
    include_brands: frozenset[str] = frozenset()
    exclude_brands: frozenset[str] = frozenset()
    include_labels: frozenset[str] = frozenset()
    exclude_labels: frozenset[str] = frozenset()
    min_price: float | None = None
    max_price: float | None = None
    include_out_of_stock: bool = False
    excluded_items: frozenset[str] = frozenset()  # bought, viewed lately, asked to leave out
    max_per_category: int = 0                     # 0: no cap
    max_per_brand: int = 0
    promotion_label: str = ""
    promotion_min: int = 0
    pinned: tuple[str, ...] = ()
    unavailable: Collection[str] = field(default=frozenset())  # the catalog's, at lookup

    def admits(self, item: str, facts: Facts | None, category: str) -> bool:
        """Whether one item passes every per-item rule (not the caps nor the quota)."""
        if item in self.excluded_items:
            return False
        if item in self.unavailable and not (
                self.include_out_of_stock and facts is not None and facts.out_of_stock):
            return False
        categories = categories_of(facts, category)
        if self.include_categories and not categories & self.include_categories:
            return False
        if categories & self.exclude_categories:
            return False
        brand = facts.brand.casefold() if facts is not None else ""
        if self.include_brands and brand not in self.include_brands:
            return False
        if brand and brand in self.exclude_brands:
            return False
        labels = _labels(facts)
        if self.include_labels and not labels & self.include_labels:
            return False
        if labels & self.exclude_labels:
            return False
        return self._price_admits(facts)

    def _price_admits(self, facts: Facts | None) -> bool:
        if self.min_price is None and self.max_price is None:
            return True
        price = facts.price if facts is not None else None
        if price is None:
            return False
        return ((self.min_price is None or price >= self.min_price)
                and (self.max_price is None or price <= self.max_price))


def select(candidates: Iterable[PoolItem], k: int, rules: Rules,
           facts: Callable[[str], Facts | None]) -> list[PoolItem]:
    """At most ``k`` candidates passing the rules: pinned ones first, in their order; then the
    rest in the candidates' order, within the per-category and per-brand caps, keeping room for
    the promotion quota as long as enough promoted candidates remain. Without a quota the
    candidates are looked at only until the answer is full (a placement offers many more)."""
    stream = _eligible([*_pinned(rules), *candidates], rules, facts)
    chosen = _Chosen(k, rules)
    if not (rules.promotion_label and rules.promotion_min):
        for entry, known in stream:
            chosen.add(entry, known)
            if chosen.room() <= 0:
                break
        return chosen.items
    eligible = list(stream)
    pinned = set(rules.pinned)
    for entry, known in eligible:
        if entry[0] in pinned:
            chosen.add(entry, known)
    promoted_left = sum(1 for entry, known in eligible
                        if entry[0] not in pinned and _promoted(rules, known))
    held: list[tuple[PoolItem, Facts | None]] = []
    for entry, known in eligible:
        if entry[0] in pinned:
            continue
        if _promoted(rules, known):
            promoted_left -= 1
        elif chosen.room() <= min(chosen.promotion_missing(), promoted_left):
            held.append((entry, known))  # the slot is kept for a promoted item still to come
            continue
        chosen.add(entry, known)
    for entry, known in held:  # promoted items the caps turned away left room after all
        chosen.add(entry, known)
    return chosen.items


def _eligible(entries: Iterable[PoolItem], rules: Rules,
              facts: Callable[[str], Facts | None]) -> Iterator[tuple[PoolItem, Facts | None]]:
    """Each item once (its first entry), with its facts, if it passes the per-item rules."""
    seen: set[str] = set()
    for entry in entries:
        item = entry[0]
        if item in seen:
            continue
        seen.add(item)
        known = facts(item)
        if rules.admits(item, known, entry[4]):
            yield entry, known


class _Chosen:
    """The answer being built, with its per-category and per-brand counts."""

    def __init__(self, k: int, rules: Rules) -> None:
        self.k, self.rules = k, rules
        self.items: list[PoolItem] = []
        self.categories: dict[str, int] = {}
        self.brands: dict[str, int] = {}
        self.promoted = 0

    def room(self) -> int:
        return self.k - len(self.items)

    def promotion_missing(self) -> int:
        return max(0, min(self.rules.promotion_min, self.k) - self.promoted)

    def add(self, entry: PoolItem, known: Facts | None) -> None:
        if self.room() <= 0:
            return
        category = leaf_category(known, entry[4])
        brand = known.brand.casefold() if known is not None else ""
        caps = self.rules.max_per_category, self.rules.max_per_brand
        if caps[0] and category and self.categories.get(category, 0) >= caps[0]:
            return
        if caps[1] and brand and self.brands.get(brand, 0) >= caps[1]:
            return
        self.items.append(entry)
        if category:
            self.categories[category] = self.categories.get(category, 0) + 1
        if brand:
            self.brands[brand] = self.brands.get(brand, 0) + 1
        self.promoted += _promoted(self.rules, known)


def _pinned(rules: Rules) -> list[PoolItem]:
    return [(item, 1.0, PINNED_REASON, PINNED_REASON, "") for item in rules.pinned]


def _promoted(rules: Rules, known: Facts | None) -> bool:
    return bool(rules.promotion_label) and rules.promotion_label in _labels(known)


def _labels(facts: Facts | None) -> frozenset[str]:
    return frozenset(label.casefold() for label in facts.labels) if facts is not None \
        else frozenset()


def categories_of(facts: Facts | None, category: str) -> frozenset[str]:
    """Every level of the item's category path, and the category its events carry."""
    levels = {level.casefold() for level in facts.category_path} if facts is not None else set()
    if category:
        levels.add(category.casefold())
    return frozenset(levels)


def leaf_category(facts: Facts | None, category: str) -> str:
    """The category a diversity cap counts: the catalog's most specific, else the events'."""
    if facts is not None and facts.category_path:
        return facts.category_path[-1].casefold()
    return category.casefold()


def rules_from_proto(filters: pb.Filters, excluded_items: frozenset[str],
                     unavailable: Collection[str]) -> Rules:
    """A request's filters (checked by serving/requests.py) as rules."""
    def folded(values: Iterable[str]) -> frozenset[str]:
        return frozenset(value.casefold() for value in values)
    return Rules(
        include_categories=folded(filters.include_categories),
        exclude_categories=folded(filters.exclude_categories),
        include_brands=folded(filters.include_brands),
        exclude_brands=folded(filters.exclude_brands),
        include_labels=folded(filters.include_labels),
        exclude_labels=folded(filters.exclude_labels),
        min_price=filters.min_price if filters.HasField("min_price") else None,
        max_price=filters.max_price if filters.HasField("max_price") else None,
        include_out_of_stock=filters.include_out_of_stock, excluded_items=excluded_items,
        max_per_category=filters.max_per_category, max_per_brand=filters.max_per_brand,
        promotion_label=filters.promotion.label.casefold(),
        promotion_min=filters.promotion.min_items,
        pinned=tuple(dict.fromkeys(filters.pinned_item_ids)), unavailable=unavailable)
