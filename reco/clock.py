"""Wall-clock milliseconds: event timestamps, and Flink's processing time, which is the same
clock (operators read it here rather than through a call into Java per event)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)
