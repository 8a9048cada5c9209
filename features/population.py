"""What a single user is compared with: population statistics of dwell time, scroll depth and
session length (the priors of the per-user normalisation and imputation) and the population's
RFM distributions (for RFM scores).

Each parallel instance of the job keeps its own Population in memory, fed by the users it sees:
a user's key decides the instance, so each instance sees a random sample of users. Nothing here
is keyed state, so nothing becomes a hot key; after a restart the statistics start again from
the configured priors and catch up within a few hundred events.

>>> p = Population()
>>> round(p.dwell.mean, 2), p.dwell.n
(9.21, 20)
"""

from __future__ import annotations

import math

from features.knn_imputer import KNNImputer
from features.rfm import RfmPopulation
from features.stats import RunningStats

# Priors (as pseudo-observations) until the population has spoken: a typical product view
# lasts ~10 s, scrolls ~45% down, and a session lasts ~5 minutes (all on the log scale).
PRIOR_N = 20
DWELL_PRIOR = (math.log1p(10_000), 1.0)
SCROLL_PRIOR = (0.45, 0.2)
SESSION_PRIOR = (math.log1p(300_000), 1.2)


class Population:
    def __init__(self) -> None:
        self.dwell = RunningStats.seeded(PRIOR_N, *DWELL_PRIOR)
        self.scroll = RunningStats.seeded(PRIOR_N, *SCROLL_PRIOR)
        self.session = RunningStats.seeded(PRIOR_N, *SESSION_PRIOR)
        self.rfm = RfmPopulation()
        # recent users' observed dwell times by device type and category (a small window: it
        # is searched whole for each imputation)
        self.dwell_neighbours = KNNImputer(k=10, window=200)
