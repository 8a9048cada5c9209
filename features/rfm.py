"""RFM: recency, frequency and monetary value of a user's purchases, scored 1-5 against
streaming quantiles of the population, and named as a segment.

>>> population = RfmPopulation()
>>> for days, count, spent in [(1, 9, 900.0), (5, 4, 300.0), (20, 2, 80.0), (60, 1, 20.0),
...                            (200, 1, 5.0)]:
...     population.add(days, count, spent)
>>> rfm = Rfm(last_purchase_ms=0, purchases=9, monetary=900.0)
>>> rfm.scores(now_ms=86_400_000, population=population)
(5, 5, 5, 'champions')
>>> Rfm().scores(now_ms=0, population=population)
(0, 0, 0, 'prospect')
"""

from __future__ import annotations

from features.stats import LogHistogram

DAY_MS = 86_400_000


class RfmPopulation:
    """Streaming distributions over purchases: the user's frequency and monetary value after
    each purchase, and the gap in days since their previous one. Recency is scored against
    those gaps: a user whose last purchase is more recent than most repeat-purchase gaps scores
    high."""

    def __init__(self) -> None:
        self.recency = LogHistogram()
        self.frequency = LogHistogram()
        self.monetary = LogHistogram()

    def add(self, recency_days: float | None, frequency: int, monetary: float) -> None:
        if recency_days is not None:
            self.recency.add(recency_days)
        self.frequency.add(float(frequency))
        self.monetary.add(monetary)


def quintile(share: float) -> int:
    """1..5 from the share of the population at or below a value."""
    return 1 + min(4, int(share * 5))


def segment_name(r: int, f: int, m: int) -> str:
    if f == 0:
        return "prospect"
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 4 and f == 1:
        return "new"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4:
        return "promising"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r <= 2 and m >= 4:
        return "cant_lose"
    if r <= 2:
        return "hibernating"
    return "needs_attention"


class Rfm:
    __slots__ = ("last_purchase_ms", "monetary", "purchases")

    def __init__(self, last_purchase_ms: int = 0, purchases: int = 0,
                 monetary: float = 0.0) -> None:
        self.last_purchase_ms = last_purchase_ms
        self.purchases = purchases
        self.monetary = monetary

    def add_purchase(self, ts: int, value: float) -> None:
        self.last_purchase_ms = max(self.last_purchase_ms, ts)
        self.purchases += 1
        self.monetary += value

    def recency_days(self, now_ms: int) -> float:
        return max(0.0, (now_ms - self.last_purchase_ms) / DAY_MS)

    def scores(self, now_ms: int, population: RfmPopulation) -> tuple[int, int, int, str]:
        """(R, F, M, segment); zeros and 'prospect' for a user who never bought."""
        if self.purchases == 0:
            return 0, 0, 0, "prospect"
        r = 6 - quintile(population.recency.below(self.recency_days(now_ms)))
        f = quintile(population.frequency.below(float(self.purchases)))
        m = quintile(population.monetary.below(self.monetary))
        return r, f, m, segment_name(r, f, m)

    def __getstate__(self) -> tuple[int, int, float]:
        return self.last_purchase_ms, self.purchases, self.monetary

    def __setstate__(self, state: tuple[int, int, float]) -> None:
        self.last_purchase_ms, self.purchases, self.monetary = state
