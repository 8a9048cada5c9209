"""Sessions by inactivity gap: count, length and depth, and whether a session had incomplete
data (a product view without dwell time or scroll depth).

>>> s = SessionTracker()
>>> [s.update(ts, complete=True, gap_ms=1_800_000) for ts in (0, 60_000, 4_000_000)]
[True, False, True]
>>> s.count, s.events, s.length_ms, s.finished, s.finished_ms
(2, 1, 0, 1, 60000)
"""

from __future__ import annotations

from features.slots import SlotState


class SessionTracker(SlotState):
    __slots__ = ("count", "events", "finished", "finished_events", "finished_ms", "incomplete",
                 "incomplete_now", "last", "start")

    def __init__(self) -> None:
        self.count = 0              # sessions seen
        self.start = 0              # current session's first and last event time
        self.last = 0
        self.events = 0             # events in the current session
        self.incomplete_now = False
        self.finished = 0           # closed sessions, their total length and events
        self.finished_ms = 0
        self.finished_events = 0
        self.incomplete = 0         # sessions flagged incomplete

    def update(self, ts: int, complete: bool, gap_ms: int) -> bool:
        """Counts an event; True when it opened a new session."""
        opened = self.count == 0 or ts - self.last > gap_ms
        if opened:
            if self.count:
                self.finished += 1
                self.finished_ms += self.length_ms
                self.finished_events += self.events
            self.count += 1
            self.start = self.last = ts
            self.events = 0
            self.incomplete_now = False
        self.events += 1
        self.last = max(self.last, ts)
        if not complete and not self.incomplete_now:
            self.incomplete_now = True
            self.incomplete += 1
        return opened

    @property
    def length_ms(self) -> int:
        return self.last - self.start

    @property
    def mean_length_ms(self) -> float:
        return self.finished_ms / self.finished if self.finished else float(self.length_ms)

    @property
    def mean_depth(self) -> float:
        return self.finished_events / self.finished if self.finished else float(self.events)

