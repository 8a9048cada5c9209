"""Training data of the mini-batch factorisation: the user-item matrix from the event log.

An event's weight is its type's (a purchase counts more than a view, features/trending.py),
times a dwell factor for views (a long look counts more, capped), times a recency decay (halves
every ``half_life_ms`` before ``now_ms``), divided by the item's popularity to the power
``ipw_exponent``: inverse-propensity weighting, so that popular items, which everybody is shown
and so everybody touches, do not crowd out the rest. The validation split holds out each user's
last item (by time) for users with at least three distinct items.

>>> from reco.events import Event
>>> events = [Event(f"e{n}", kind, "u1", ts=n, item_id=item) for n, (kind, item) in
...           enumerate([("product_view", "a"), ("purchase", "b"), ("product_view", "c")])]
>>> data = training_data(events, now_ms=3, half_life_ms=10**9, ipw_exponent=0.0)
>>> sorted((i, round(w, 6)) for i, w in zip(data.items, data.weights)), data.validation
([('a', 1.0), ('b', 5.0)], [('u1', 'c')])
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reco.decay import EVENT_WEIGHTS
from reco.events import Event

DWELL_CAP = 3.0


@dataclass
class TrainingData:
    users: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    validation: list[tuple[str, str]] = field(default_factory=list)


def event_weight(event: Event, now_ms: int, half_life_ms: int) -> float:
    weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
    if event.event_type == "product_view" and event.dwell_ms:
        weight *= min(DWELL_CAP, 1.0 + math.log1p(event.dwell_ms / 1000) / 3)
    return weight * 2.0 ** (-max(0, now_ms - event.ts) / half_life_ms)


def training_data(events: Iterable[Event], now_ms: int, half_life_ms: int,
                  ipw_exponent: float = 0.5, holdout: bool = True) -> TrainingData:
    summed: dict[tuple[str, str], float] = {}
    last: dict[str, tuple[int, str]] = {}
    for event in events:
        weight = event_weight(event, now_ms, half_life_ms) if event.item_id else 0.0
        if weight <= 0 or event.item_id is None:
            continue
        key = (event.user_id, event.item_id)
        summed[key] = summed.get(key, 0.0) + weight
        if event.ts >= last.get(event.user_id, (-1, ""))[0]:
            last[event.user_id] = (event.ts, event.item_id)
    distinct = Counter(user for user, _ in summed)
    data = TrainingData()
    if holdout:
        for user, (_, item) in last.items():
            if distinct[user] >= 3:
                data.validation.append((user, item))
                del summed[(user, item)]
    popularity = Counter(item for _, item in summed)
    for (user, item), weight in summed.items():
        data.users.append(user)
        data.items.append(item)
        data.weights.append(weight / popularity[item] ** ipw_exponent)
    return data
