"""Closing the loop: impressions (what was shown, with propensities) joined with the user's later
events into bandit rewards.

Each shown item is pending for ``window_ms`` (30 minutes). An event on it within the window is
a reward, emitted at once: click, wishlist, add-to-cart and purchase with their weights, a skip
or dismissal as a negative; a product view only when it has a weight (a shop that sends no click
events, like the public data sets, counts a view of a shown item as its click). An event names
its impression by ``request_id`` when it can; else the latest impression that showed the item
is credited. An event that names its impression counts even when its time is earlier than the
impression's: the two come from different clocks (the shop's, the server's), and the request id
says which came first. A shown item that nothing happened to by the end of the window is a zero
reward (so the policy learns from what was ignored too).
A reward on the item at position ``p`` (0 first) counts ``1 / log2(p + 2)`` of its weight, as
NDCG counts a hit there (``position_discount``): the policy then learns which mix puts what
gets engaged with first, not only which one shows it somewhere on the page. Without it, on
the replays (README), the mixes that list the user's own items low scored as well as the one
that lists them first, and a sampler that followed the rewards more closely moved to them.
Samples carry a weight that halves every ``half_life_ms`` of age, so recent feedback counts
more, and each of a response's ``n`` items weighs ``1/n``: together they are one observation of
the mix chosen for the response. They share the user, the moment and the mix, so counting them
as ``n`` independent observations made the policy ``n`` times as sure as the data allows; once
its posterior followed the reward noise (online_models/linear_ts.py), that was enough for one
seed in three of the Taobao replay to lock onto a weaker mix for its first 20,000 events
(README). Events and impressions travel on different topics, so an event naming a request whose
impression has not arrived yet waits for it (the latest ``max_pending`` such events, within the
window).

>>> joiner = FeedbackJoiner(RewardWeights())
>>> joiner.add_impression("r1", ts=0, items=[("a", 0.5), ("b", 0.5)], context={"bias": 1.0})
[]
>>> [(s.item_id, round(s.reward, 2), s.propensity)
...  for s in joiner.on_event("click", "b", ts=60_000)]  # position 1: 1 / log2(3) of 1.0
[('b', 0.63, 0.5)]
>>> [(s.item_id, s.reward) for s in joiner.expire(now_ms=2_000_000)]
[('a', 0.0)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RewardWeights:
    click: float = 1.0
    wishlist: float = 2.0
    add_to_cart: float = 3.0
    purchase: float = 5.0
    skip: float = -1.0
    product_view: float = 0.0  # 0: the click says it (a click's product view would count twice)
    window_ms: int = 1_800_000
    half_life_ms: int = 7 * 86_400_000
    position_discount: bool = True

    def of(self, event_type: str) -> float | None:
        """The reward of an event type, or None when it says nothing about what was shown."""
        weight = float(getattr(self, event_type)) if event_type in REWARDED_EVENTS else None
        return None if event_type == "product_view" and not weight else weight


REWARDED_EVENTS = frozenset({"click", "wishlist", "add_to_cart", "purchase", "skip",
                             "product_view"})


@dataclass(frozen=True)
class Sample:
    request_id: str
    item_id: str
    position: int
    propensity: float
    context: dict[str, float]
    reward: float
    weight: float
    arm: str = ""  # the candidate mix the policy chose for the response
    ts: int = 0    # when the feedback came (the event's time, or the window's close)


@dataclass
class _Impression:
    request_id: str
    ts: int
    items: list[tuple[str, float]]
    context: dict[str, float]
    arm: str = ""
    engaged: set[str] = field(default_factory=set)


class FeedbackJoiner:
    """Pending impressions of one user (kept in the job's keyed state)."""

    def __init__(self, weights: RewardWeights, max_pending: int = 20) -> None:
        self.weights = weights
        self.max_pending = max_pending
        self.pending: list[_Impression] = []
        self.early: list[tuple[str, str, int, str]] = []  # (type, item, ts, request id)

    def add_impression(self, request_id: str, ts: int, items: list[tuple[str, float]],
                       context: dict[str, float], arm: str = "") -> list[Sample]:
        """Remembers what was shown (items with their propensities, the policy's context and
        arm); returns the zero rewards of impressions pushed out."""
        if any(imp.request_id == request_id for imp in self.pending):
            return []  # a redelivered impression
        self.pending.append(_Impression(request_id, ts, list(items), dict(context), arm))
        pushed = self.pending[:-self.max_pending] if len(self.pending) > self.max_pending else []
        self.pending = self.pending[-self.max_pending:]
        waiting = [e for e in self.early if e[3] == request_id]
        self.early = [e for e in self.early if e[3] != request_id]
        joined = [s for kind, item, at, rid in waiting for s in self.on_event(kind, item, at, rid)]
        return [s for imp in pushed for s in self._unengaged(imp, imp.ts)] + joined

    def _sample(self, imp: _Impression, item: str, reward: float, now: int) -> Sample:
        position = next(n for n, (i, _) in enumerate(imp.items) if i == item)
        weight = 2.0 ** (-max(0, now - imp.ts) / self.weights.half_life_ms) / len(imp.items)
        if self.weights.position_discount:
            reward /= math.log2(position + 2)
        return Sample(imp.request_id, item, position, imp.items[position][1], imp.context,
                      reward, weight, imp.arm, now)

    def on_event(self, event_type: str, item_id: str | None, ts: int,
                 request_id: str | None = None) -> list[Sample]:
        reward = self.weights.of(event_type)
        if reward is None or item_id is None:
            return []
        if request_id and not any(imp.request_id == request_id for imp in self.pending):
            self.early = [*self.early, (event_type, item_id, ts, request_id)][-self.max_pending:]
            return []
        live = [imp for imp in self.pending if ts - imp.ts <= self.weights.window_ms
                and any(i == item_id for i, _ in imp.items)]
        # an event naming its impression came after it, whatever the shop's clock (the
        # event's time) says against the server's (the impression's); else the latest
        # impression before the event gets the credit
        named = [imp for imp in live if imp.request_id == request_id]
        candidates = named or [imp for imp in live if imp.ts <= ts][-1:]
        if not candidates:
            return []
        target = candidates[0]
        target.engaged.add(item_id)
        return [self._sample(target, item_id, reward, ts)]

    def _unengaged(self, imp: _Impression, now: int) -> list[Sample]:
        return [self._sample(imp, item, 0.0, now) for item, _ in imp.items
                if item not in imp.engaged]

    def expire(self, now_ms: int) -> list[Sample]:
        """Zero rewards for shown items nobody touched within the window."""
        done = [imp for imp in self.pending if now_ms - imp.ts > self.weights.window_ms]
        self.pending = [imp for imp in self.pending if now_ms - imp.ts <= self.weights.window_ms]
        self.early = [e for e in self.early if now_ms - e[2] <= self.weights.window_ms]
        return [s for imp in done for s in self._unengaged(imp, now_ms)]
