"""The serving policy's context: what the job knows about the user (segment, RFM scores,
activity, usual device), published with the user's candidate pool, and what the request says
(device, local time of day), plus how long ago the user was last seen. The policy learns over
one fixed list of features (``context_features``), so the job's learned statistics and the
server's policy agree on the vector.

The user's behaviour reaches the policy through her segment: the online clusterer's summary of
her preferences, RFM scores and activity (online_models/segments.py), one indicator per segment.
The raw RFM scores and activity stay in the context that is published and logged with every
impression (for explanations and for valuing other policies offline), but the policy's linear
model does not take them: as linear terms they cost the Taobao replay HR@10 (0.225 -> 0.231
without them; YooChoose unchanged), for the same reward per shown item.

>>> user = user_features(segment=2, rfm=(5, 3, 4), event_count=20, device_type="mobile")
>>> x = bandit_context(user, last_event_ts=1, now_ms=86_400_001, request_device="",
...                    day_part="evening")
>>> x["seg:2"], x["device:mobile"], x["day:evening"], round(x["recency"], 3), x["rfm:r"]
(1.0, 1.0, 1.0, 0.139, 1.0)
>>> sorted(set(x) - set(context_features(n_segments=8)))  # logged, not learned over
['activity', 'rfm:f', 'rfm:m', 'rfm:r']
"""

from __future__ import annotations

import math
from collections.abc import Mapping

DEVICES = ("mobile", "desktop", "tablet")
DAY_PARTS = ("night", "morning", "afternoon", "evening")
_DAY_MS = 86_400_000


def context_features(n_segments: int) -> list[str]:
    """The features the policy learns over (the rest of a context is ignored by it)."""
    return ["bias", *(f"seg:{s}" for s in range(n_segments)),
            *(f"day:{p}" for p in DAY_PARTS), *(f"device:{d}" for d in DEVICES),
            "recency", "new_user"]


def user_features(segment: int | None, rfm: tuple[int, int, int], event_count: int,
                  device_type: str) -> dict[str, float]:
    """The user's part, computed by the job when it publishes the candidate pool."""
    out: dict[str, float] = {"activity": min(1.0, math.log1p(event_count) / 8)}
    if segment is not None:
        out[f"seg:{segment}"] = 1.0
    r, f, m = rfm
    if r:
        out.update({"rfm:r": r / 5, "rfm:f": f / 5, "rfm:m": m / 5})
    if device_type in DEVICES:
        out[f"device:{device_type}"] = 1.0
    return out


def bandit_context(user: Mapping[str, float], last_event_ts: int, now_ms: int,
                   request_device: str, day_part: str) -> dict[str, float]:
    """The full context at request time; an unknown user has no user part (``new_user``)."""
    x = {"bias": 1.0, **user}
    if request_device in DEVICES:
        for device in DEVICES:
            x.pop(f"device:{device}", None)
        x[f"device:{request_device}"] = 1.0
    if day_part in DAY_PARTS:
        x[f"day:{day_part}"] = 1.0
    if last_event_ts > 0:
        days = max(0.0, (now_ms - last_event_ts) / _DAY_MS)
        x["recency"] = min(1.0, math.log1p(days) / 5)
    else:
        x["new_user"] = 1.0
    return x
