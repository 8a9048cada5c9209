"""Online statistics: Welford's mean and variance (with min and max), shrinkage towards a prior
for users with few observations, and a log-binned histogram for streaming quantiles.

>>> s = RunningStats()
>>> for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]:
...     s.add(x)
>>> s.n, s.mean, s.std, s.low, s.high
(8, 5.0, 2.0, 2.0, 9.0)
>>> round(s.zscore(9.0), 3), s.minmax(9.0)
(2.0, 1.0)
>>> h = LogHistogram()
>>> for x in range(1, 1001):
...     h.add(float(x))
>>> round(h.quantile(0.5) / 500, 1)
1.0
"""

from __future__ import annotations

import math


class RunningStats:
    __slots__ = ("high", "low", "m2", "mean", "n")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.low = math.inf
        self.high = -math.inf

    @classmethod
    def seeded(cls, n: int, mean: float, std: float) -> RunningStats:
        """Stats as if ``n`` observations of that mean and spread had been seen (a prior)."""
        stats = cls()
        stats.n, stats.mean, stats.m2 = n, mean, std * std * n
        stats.low, stats.high = mean - 3 * std, mean + 3 * std
        return stats

    def add(self, x: float) -> None:
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)
        self.low = min(self.low, x)
        self.high = max(self.high, x)

    def merge(self, other: RunningStats) -> None:
        """Chan et al.'s parallel combination: as if ``other``'s values had been added here."""
        if other.n == 0:
            return
        total = self.n + other.n
        delta = other.mean - self.mean
        self.m2 += other.m2 + delta * delta * self.n * other.n / total
        self.mean += delta * other.n / total
        self.n = total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)

    @property
    def variance(self) -> float:
        return self.m2 / self.n if self.n > 1 else 0.0

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    def zscore(self, x: float) -> float:
        return (x - self.mean) / self.std if self.std > 0 else 0.0

    def minmax(self, x: float) -> float:
        span = self.high - self.low
        return min(1.0, max(0.0, (x - self.low) / span)) if span > 0 else 0.5

    def __getstate__(self) -> tuple[int, float, float, float, float]:
        return self.n, self.mean, self.m2, self.low, self.high

    def __setstate__(self, state: tuple[int, float, float, float, float]) -> None:
        self.n, self.mean, self.m2, self.low, self.high = state


def shrunk(user: RunningStats, prior: RunningStats, prior_weight: float) -> tuple[float, float]:
    """(mean, std) of the user pulled towards the prior; a user with ``prior_weight``
    observations sits half-way. Users with few events borrow the population's shape."""
    if prior.n == 0:
        return user.mean, user.std
    weight = user.n / (user.n + prior_weight)
    mean = weight * user.mean + (1 - weight) * prior.mean
    variance = weight * user.variance + (1 - weight) * prior.variance
    return mean, math.sqrt(variance)


class LogHistogram:
    """Streaming quantiles of positive values in bins whose width is ``ratio`` - 1 of their
    value (10% by default): O(1) updates, bounded memory, mergeable. Zero and negative values
    share one bin."""

    __slots__ = ("bins", "count", "ratio", "zeros")

    def __init__(self, ratio: float = 1.1) -> None:
        self.ratio = ratio
        self.bins: dict[int, int] = {}
        self.zeros = 0
        self.count = 0

    def add(self, x: float) -> None:
        self.count += 1
        if x <= 0:
            self.zeros += 1
            return
        index = math.floor(math.log(x, self.ratio))
        self.bins[index] = self.bins.get(index, 0) + 1

    def quantile(self, q: float) -> float:
        """The value below which a share ``q`` of the values lie (bin centre, geometric)."""
        if self.count == 0:
            return 0.0
        rank = q * self.count
        seen = self.zeros
        if seen >= rank:
            return 0.0
        for index in sorted(self.bins):
            seen += self.bins[index]
            if seen >= rank:
                return float(self.ratio ** (index + 0.5))
        return float(self.ratio ** (max(self.bins) + 0.5))

    def rank(self, x: float) -> float:
        """Share of values at or below ``x`` (the inverse of ``quantile``)."""
        if self.count == 0:
            return 0.5
        if x <= 0:
            return self.zeros / self.count
        limit = math.floor(math.log(x, self.ratio))
        below = self.zeros + sum(n for index, n in self.bins.items() if index <= limit)
        return below / self.count

    def below(self, x: float) -> float:
        """Share of values in bins strictly below ``x``'s bin (ties do not count)."""
        if self.count == 0 or x <= 0:
            return 0.0
        limit = math.floor(math.log(x, self.ratio))
        return (self.zeros + sum(n for index, n in self.bins.items() if index < limit)) \
            / self.count

    def merge(self, other: LogHistogram) -> None:
        for index, n in other.bins.items():
            self.bins[index] = self.bins.get(index, 0) + n
        self.zeros += other.zeros
        self.count += other.count
