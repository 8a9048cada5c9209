"""bench/live_load.py's schedule: the load's rate from its start, each shopper at her own pace
(her session's gaps kept, her sessions one after the other)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from bench.live_load import paced, shoppers
from reco.events import Event


def _schedule(rate: float, seconds: float) -> list[tuple[float, Event]]:
    return list(itertools.takewhile(lambda item: item[0] < seconds,
                                    paced(shoppers("test"), rate)))


def test_the_load_keeps_its_rate_from_the_start():
    schedule = _schedule(50.0, 120)
    for start in (0, 60):  # each minute at the rate, within a tenth
        sent = sum(start <= at < start + 60 for at, _ in schedule)
        assert 0.9 * 50 * 60 <= sent <= 1.1 * 50 * 60, (start, sent)


def test_a_shopper_keeps_her_own_gaps_and_order():
    by_user: dict[str, list[tuple[float, Event]]] = defaultdict(list)
    for at, event in _schedule(30.0, 120):
        by_user[event.user_id].append((at, event))
    kept = 0
    for items in by_user.values():
        times = [at for at, _ in items]
        assert [e.ts for _, e in items] == sorted(e.ts for _, e in items)  # her order
        for (at_a, a), (at_b, b) in itertools.pairwise(items):
            if a.session_id == b.session_id:  # a session's gaps, as the simulation made them
                assert abs((at_b - at_a) - (b.ts - a.ts) / 1000) < 1e-6
                kept += 1
        assert times == sorted(times)
    assert kept > 500
    # shoppers at their pace: a shopper's next event is seconds away, not milliseconds
    gaps = sorted(at_b - at_a for items in by_user.values()
                  for (at_a, _), (at_b, _) in itertools.pairwise(items))
    assert gaps[len(gaps) // 2] > 0.5
