"""A live load at a shop's pace: simulated shoppers at a given rate of events per second, each
shopper at her own pace. A shop at 300 events/s has thousands of shoppers in the middle of a
session, each a few seconds between her events (the simulation's dwell times); sending the
simulation's events back to back at the rate would instead put a whole session into a few
milliseconds, a burst no shopper makes, which the job's per-user coalescing would absorb.

Sessions start at the rate (a session of n events takes n / rate of the schedule), their
events follow at their own gaps, and a shopper's next session waits for her last. The load is
at its rate from its start: the schedule begins ``LEAD_IN_S`` before it, and what falls before
the start is not sent, so the sessions in progress at the start are there.

>>> schedule = list(itertools.islice(paced(shoppers("doc"), rate=50.0), 3000))
>>> times = [at for at, _ in schedule]
>>> times == sorted(times) and times[0] >= 0
True
>>> round(len(schedule) / times[-1], -1)  # the rate from the start
50.0
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import threading
import time
from collections.abc import Iterable, Iterator

from infra.producer import EventProducer
from reco.clock import now_ms
from reco.config import Settings
from reco.events import Event
from reco.simulator import ShopperSimulation, SimConfig

LEAD_IN_S = 1200.0  # the load is within a few per cent of its rate from the start
MAX_SESSION_S = 1800.0  # a session's later events are sent at most this long after its first
PAUSE_S = 1.0  # between a shopper's sessions


def paced(sessions: Iterable[list[Event]], rate: float) -> Iterator[tuple[float, Event]]:
    """(seconds from the load's start, event), in time order: ``sessions`` (each a shopper's
    events in time order) at ``rate`` events/s, each event at its session's start plus its gap
    from the session's first."""
    due: list[tuple[float, int, Event]] = []
    free: dict[str, float] = {}  # shopper -> when her last session ends
    next_start, order = -LEAD_IN_S, itertools.count()
    for session in sessions:
        first, user = session[0].ts, session[0].user_id
        start = max(next_start, free.get(user, -math.inf) + PAUSE_S)
        for event in session:
            at = start + min((event.ts - first) / 1000, MAX_SESSION_S)
            if at >= 0:
                heapq.heappush(due, (at, next(order), event))
        free[user] = start + min((session[-1].ts - first) / 1000, MAX_SESSION_S)
        next_start += len(session) / rate
        while due and due[0][0] < next_start:  # every later session starts then or later
            at, _, event = heapq.heappop(due)
            yield at, event
        if len(free) > 100_000:
            free = {u: end for u, end in free.items() if end + PAUSE_S > next_start}
    while due:
        at, _, event = heapq.heappop(due)
        yield at, event


def shoppers(run_id: str, users: int = 500) -> Iterator[list[Event]]:
    """Simulated sessions without end: ``users`` new shoppers at a time (their own ids), as
    many as a load needs to have its shoppers in sessions at once."""
    for part in itertools.count():
        yield from ShopperSimulation(SimConfig(
            n_users=users, seed=9 + part, run_id=f"{run_id}-{part}",
            user_prefix=f"{run_id}-{part}-u", sessions_per_user=1.0)).sessions()


class LiveShoppers:
    """``shoppers`` sent at ``rate`` events/s at their own pace (``paced``), stamped now as live
    traffic, from a thread until the block ends (``sent`` so far, over ``seconds``): a load
    that lasts as long as what is measured under it, where a load that ended first would leave
    the job idle."""

    def __init__(self, settings: Settings, rate: int, run_id: str) -> None:
        self.settings, self.rate, self.run_id = settings, rate, run_id
        self.sent = 0
        self._started = self._stopped = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)
        self._schedule: Iterator[tuple[float, Event]] = iter(())

    def __enter__(self) -> LiveShoppers:
        schedule = paced(shoppers(self.run_id), self.rate)
        first = next(schedule)  # the lead-in is simulated before the clock starts
        self._schedule = itertools.chain([first], schedule)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._stopped = time.monotonic()

    @property
    def seconds(self) -> float:
        return (self._stopped or time.monotonic()) - self._started

    def _send(self) -> None:
        with EventProducer(self.settings) as producer:
            for at, event in self._schedule:
                wait = self._started + at - time.monotonic()
                if self._stop.wait(wait) if wait > 0 else self._stop.is_set():
                    break
                producer.send(dataclasses.replace(event, ts=now_ms()))
                self.sent += 1
