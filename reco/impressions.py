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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from reco.events import InvalidEvent


@dataclass(frozen=True, slots=True)
class Impression:
    request_id: str
    user_id: str
    served_at_ms: int
    items: tuple[tuple[str, float], ...]  # (item id, propensity), in shown order
    arm: str = ""
    policy: str = ""
    features: dict[str, float] = field(default_factory=dict)


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"impression: missing {name}")
    return value


def _items(doc: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    items = doc.get("items")
    if not isinstance(items, list):
        raise InvalidEvent("impression: items must be a list")
    out = []
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("item_id"), str):
            raise InvalidEvent("impression: every item needs an item_id")
        propensity = entry.get("propensity", 1.0)
        if not isinstance(propensity, int | float) or not 0 < propensity <= 1:
            raise InvalidEvent(f"impression: propensity {propensity!r} is not in (0, 1]")
        out.append((entry["item_id"], float(propensity)))
    return tuple(out)


def _features(doc: dict[str, Any]) -> dict[str, float]:
    features = doc.get("features") or {}
    if not isinstance(features, dict) or not all(
            isinstance(v, int | float) and math.isfinite(v) for v in features.values()):
        raise InvalidEvent("impression: features must map names to finite numbers")
    return {str(k): float(v) for k, v in features.items()}


def parse_impression(raw: bytes | None) -> Impression:
    try:
        doc = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"impression: malformed JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidEvent("impression: not a JSON object")
    served = doc.get("served_at_ms")
    if not isinstance(served, int) or isinstance(served, bool) or served <= 0:
        raise InvalidEvent("impression: served_at_ms must be epoch milliseconds")
    return Impression(_text(doc, "request_id"), _text(doc, "user_id"), served, _items(doc),
                      str(doc.get("arm") or ""), str(doc.get("policy") or ""), _features(doc))
