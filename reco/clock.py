"""Wall-clock milliseconds, the project's one clock: event and publication timestamps, and
Flink's processing time, which is the same clock (operators read it here rather than ask the
timer service, a call into Java)."""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)
