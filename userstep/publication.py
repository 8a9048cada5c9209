"""When a user's profile and list are published: at most once per ``profile_min_interval_ms``
(a user replaying a backlog costs one publication an interval, and a timer publishes her
latest at its end), except that a live event, one the job reads within
``profile_live_lag_ms`` of its time, is published at once: a shopper's second event within
the interval would otherwise wait for the timer, and a job that keeps up has the time to
publish it. Under a backlog, and for an imported history, the events' lag is past the bound
and the interval holds. An event whose time is ahead of the job's clock (a client's clock
ahead) or far behind it (a clock behind) gets the interval, as before the rule.

>>> due(now_ms=10_300, sent_ms=10_000, interval_ms=1_000)
False
>>> due(now_ms=11_000, sent_ms=10_000, interval_ms=1_000)
True
>>> due(now_ms=10_300, sent_ms=10_000, interval_ms=1_000, lag_ms=40, live_lag_ms=250)
True
>>> due(now_ms=10_300, sent_ms=10_000, interval_ms=1_000, lag_ms=900, live_lag_ms=250)
False
"""

from __future__ import annotations


def due(now_ms: int, sent_ms: int, interval_ms: int, lag_ms: int | None = None,
        live_lag_ms: int = 0) -> bool:
    """Whether to publish now, the last publication having been at ``sent_ms``. ``lag_ms``:
    the job's clock minus the time of the event that asks (None: not known, as for a timer,
    or not meaningful, as in the evaluation harness, which replays in event time)."""
    if now_ms - sent_ms >= interval_ms:
        return True
    return lag_ms is not None and 0 <= lag_ms < live_lag_ms
