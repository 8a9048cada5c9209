"""The impression record: what the server showed, written to the ``impressions`` topic (JSON,
key: user id) and read back by the job, which joins it with the user's later events.

>>> raw = (b'{"request_id": "r1", "user_id": "u1", "served_at_ms": 1795680000000, '
...        b'"arm": "personal", "policy": "linear-ts", "features": {"bias": 1.0}, '
...        b'"items": [{"item_id": "a", "position": 0, "propensity": 0.4}]}')
>>> parse_impression(raw).items
(('a', 0.4),)
>>> parse_impression(b'{"request_id": "r1"}')
Traceback (most recent call last):
...
reco.events.InvalidEvent: impression: served_at_ms must be epoch milliseconds
>>> parse_impression(raw.replace(b'1.0}', b'1e300}'))
Traceback (most recent call last):
...
reco.events.InvalidEvent: impression: feature 'bias' = 1e+300 is outside -1..1
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from reco.events import (
    DEFAULT_MAX_FUTURE_MS,
    MAX_ID_LEN,
    MAX_TS_MS,
    MIN_TS_MS,
    InvalidEvent,
    checked_text,
    future_problem,
)

MAX_ITEMS = 100     # the server answers at most k = 100
MAX_FEATURES = 64
# every context feature the policy learns over is an indicator or a share (online_models/
# bandit_context.py): a larger value can only be a forged record meant to swamp an arm's model
FEATURE_BOUND = 1.0


@dataclass(frozen=True, slots=True)
class Impression:
    request_id: str
    user_id: str
    served_at_ms: int
    items: tuple[tuple[str, float], ...]  # (item id, propensity), in shown order
    arm: str = ""
    policy: str = ""
    features: dict[str, float] = field(default_factory=dict)


def _checked_text(value: Any, what: str, max_len: int = MAX_ID_LEN) -> str:
    return checked_text(value, what, max_len, record="impression: ")


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"impression: missing {name}")
    return _checked_text(value, name)


def _items(doc: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    items = doc.get("items")
    if not isinstance(items, list):
        raise InvalidEvent("impression: items must be a list")
    if len(items) > MAX_ITEMS:
        raise InvalidEvent(f"impression: more than {MAX_ITEMS} items")
    out = []
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("item_id"), str):
            raise InvalidEvent("impression: every item needs an item_id")
        propensity = entry.get("propensity", 1.0)
        if isinstance(propensity, bool) or not isinstance(propensity, int | float) \
                or not 0 < propensity <= 1:  # NaN fails too
            raise InvalidEvent(f"impression: propensity {propensity!r} is not in (0, 1]")
        out.append((_checked_text(entry["item_id"], "item_id"), float(propensity)))
    return tuple(out)


def _features(doc: dict[str, Any]) -> dict[str, float]:
    features = doc.get("features") or {}
    if not isinstance(features, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in features.values()):
        raise InvalidEvent("impression: features must map names to finite numbers")
    if len(features) > MAX_FEATURES:
        raise InvalidEvent(f"impression: more than {MAX_FEATURES} features")
    for name, value in features.items():
        _checked_text(name, "feature name", 64)
        if not -FEATURE_BOUND <= value <= FEATURE_BOUND:
            raise InvalidEvent(f"impression: feature {name!r} = {value!r} is outside "
                               f"{-FEATURE_BOUND:g}..{FEATURE_BOUND:g}")
    return {k: float(v) for k, v in features.items()}


def parse_impression(raw: bytes | None, now_ms: int | None = None,
                     max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
                     arms: frozenset[str] | None = None) -> Impression:
    """The validated impression; with ``now_ms`` (the receiver's clock) one served more than
    ``max_future_ms`` ahead of it is refused, and with ``arms`` one naming another arm."""
    try:
        doc = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"impression: malformed JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidEvent("impression: not a JSON object")
    served = doc.get("served_at_ms")
    if not isinstance(served, int) or isinstance(served, bool) or served <= 0:
        raise InvalidEvent("impression: served_at_ms must be epoch milliseconds")
    if not MIN_TS_MS <= served < MAX_TS_MS:
        raise InvalidEvent(f"impression: served_at_ms {served} is outside 2000..2100")
    problem = future_problem(served, now_ms, max_future_ms)
    if problem:
        raise InvalidEvent(f"impression: served_at_ms: {problem}")
    arm = _checked_text(doc.get("arm") or "", "arm", 64)
    if arms is not None and arm and arm not in arms:
        raise InvalidEvent(f"impression: unknown arm {arm!r}; the policy's arms are "
                           + ", ".join(sorted(arms)))
    return Impression(_text(doc, "request_id"), _text(doc, "user_id"), served, _items(doc),
                      arm, _checked_text(doc.get("policy") or "", "policy", 64),
                      _features(doc))
