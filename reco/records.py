"""Typed records that travel between the job's stages (instead of positional tuples), defined
once. Plain frozen dataclasses with slots: small when pickled, readable in a dead letter.

>>> signal = ItemSignal("i1", category="shoes", weight=2.0, ts=5, event_id="e1", previous="i0")
>>> signal.neighbour is None, signal.previous
(True, 'i0')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from reco.erasure import ErasureRequest


@dataclass(frozen=True, slots=True)
class ItemSignal:
    """What the per-item operator learns (keyed by ``item_id``): a clean interaction (with
    the session's previous item for co-occurrence), or, with ``neighbour`` set, that
    ``neighbour`` followed this item in a session, or, with ``bought_with`` set, that the two
    were carted or bought in one session. With ``retract`` set, the same signal taken back:
    an erased user's contribution leaves the counts (features/contributions.py)."""

    item_id: str
    category: str = ""
    weight: float = 0.0
    ts: int = 0
    event_id: str = ""
    previous: str | None = None
    price: float | None = None
    neighbour: str | None = None
    bought_with: str | None = None   # set: ``bought_with`` went into a basket with this item
    event_type: str = ""             # of an interaction: views and purchases are also ranked
    retract: bool = False            # take this signal back out (the user was erased)

    # what taking it back reads (features/contributions.py keeps only these)
    retracted_by: ClassVar[tuple[str, ...]] = ("item_id", "weight", "ts", "previous",
                                               "neighbour", "bought_with", "event_type")


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the catalog says of an item, for the per-item operator (keyed by ``item_id``): its
    most specific category, its price and when the feed first had it."""

    item_id: str
    category: str = ""
    price: float | None = None
    created_ms: int = 0


@dataclass(frozen=True, slots=True)
class TopOffer:
    """An item's score offered to a top list (keyed by the list's key, reco/keys.py)."""

    key: str
    item_id: str
    score: float
    removed: bool = False  # the item's score is gone (an erasure took back all of it)


@dataclass(frozen=True, slots=True)
class Removed:
    """In place of a category list's ranked items, on the way to the global popular list: an
    erasure took back all of ``item_id``'s score, so it leaves the global list too (which
    otherwise keeps an item until others outgrow it)."""

    item_id: str


@dataclass(frozen=True, slots=True)
class SegmentSignal:
    """A wishlist save, cart or purchase of a user of a segment or a country: feeds that
    group's popular list, ``key`` on the popular-lists topic (reco/keys.py), by which the job
    keys it."""

    key: str
    item_id: str
    weight: float
    ts: int
    retract: bool = False  # take this signal back out (the user was erased)


@dataclass(frozen=True, slots=True)
class Forget:
    """The user withdrew consent to personalization, or asked to be erased (``request``): the
    user operator drops her state and tombstones her list and profile (and, for a request,
    reports it done)."""

    user_id: str
    reason: str
    request: ErasureRequest | None = None
