"""Exponentially decayed scores kept in log space, and how much each event type weighs: the
arithmetic the features and the models share (below both).

A score is stored as ``log2(sum_i w_i * 2**(t_i / half_life))``. Every score decays at the same
rate, so two scores compare correctly whenever they were last updated, an update is O(1), and
nothing overflows however long the stream runs. ``value_at`` turns one back into a decayed count.

Scores are compared in log space only. A value is taken against a clock that owns the score
(the item's or the list's latest event time, ``value_at``) or against the best score of the
same list (``relative``), so the exponent is bounded above by the log of the total weight;
``exp2`` also clamps what it is given, so no clock error can overflow: far in the past is
"decayed to nothing" (0.0), and a score read before its own latest update reads as of that
update.

>>> h = 3_600_000
>>> s = add_decayed(None, 1.0, ts=0, half_life_ms=h)
>>> s = add_decayed(s, 1.0, ts=h, half_life_ms=h)  # the first one has halved by now
>>> round(value_at(s, now_ms=h, half_life_ms=h), 6)
1.5
"""

from __future__ import annotations

import math

# How much each event type says about interest in an item (skips and removals say none).
EVENT_WEIGHTS: dict[str, float] = {
    "product_view": 1.0, "click": 1.0, "wishlist": 2.0, "add_to_cart": 3.0,
    "checkout_start": 0.0, "purchase": 5.0, "remove_from_cart": 0.0, "skip": 0.0,
}


# 2**1023 is the largest power of two a float holds; below 2**-1075 a float rounds to 0.
MAX_EXPONENT = 1023.0
MIN_EXPONENT = -1075.0


def exp2(x: float) -> float:
    """``2 ** x`` for a log2 score difference, finite for any finite ``x``: clamped at the
    largest power of two a float holds, 0.0 where the score has decayed to nothing.

    >>> exp2(3.0), exp2(-5000.0), exp2(5000.0) == 2.0 ** 1023
    (8.0, 0.0, True)
    """
    if not x > MIN_EXPONENT:  # NaN too
        return 0.0
    return float(2.0 ** min(x, MAX_EXPONENT))


def add_decayed(log_score: float | None, weight: float, ts: int, half_life_ms: int) -> float:
    """The log-space score after adding ``weight`` (> 0) at event time ``ts``, in any order
    of event times."""
    if not weight > 0 or not math.isfinite(weight):
        raise ValueError(f"a decayed score adds positive, finite weights, not {weight!r}")
    point = math.log2(weight) + ts / half_life_ms
    if log_score is None:
        return point
    high, low = (log_score, point) if log_score >= point else (point, log_score)
    return high + math.log2(1.0 + 2.0 ** (low - high))


# What is left after a subtraction, as a share of the score, below which it is rounding: a
# log score near 5e5 (event times in hours of half-life) holds about 1e-10 of precision.
NOTHING_LEFT = 1e-9


def subtract_decayed(log_score: float | None, weight: float, ts: int, half_life_ms: int
                     ) -> float | None:
    """The log-space score after taking back ``weight`` that ``add_decayed`` added at ``ts``;
    None when nothing is left of it (what remains is within rounding of the score).

    >>> h = 3_600_000
    >>> both = add_decayed(add_decayed(None, 1.0, 0, h), 3.0, h, h)
    >>> round(value_at(subtract_decayed(both, 1.0, 0, h), now_ms=h, half_life_ms=h), 9)
    3.0
    >>> subtract_decayed(add_decayed(None, 2.0, 0, h), 2.0, 0, h) is None
    True
    """
    if log_score is None:
        return None
    if not weight > 0 or not math.isfinite(weight):
        raise ValueError(f"a decayed score takes back positive, finite weights, not {weight!r}")
    point = math.log2(weight) + ts / half_life_ms
    left = -math.expm1((point - log_score) * math.log(2.0))  # 1 - 2**(point - log_score)
    if left <= NOTHING_LEFT:
        return None
    return log_score + math.log2(left)


def value_at(log_score: float, now_ms: int, half_life_ms: int) -> float:
    """The decayed count a log-space score stands for at ``now_ms``, which should be the
    score's own clock (its latest event time or later); clamped by ``exp2``."""
    return exp2(log_score - now_ms / half_life_ms)


def relative(log_score: float, best_log_score: float) -> float:
    """A score as a share of the best one of its list (0..1): no clock needed."""
    return exp2(min(0.0, log_score - best_log_score))
