"""The item factors as a schedule of ``reco train-factors`` would keep them: retrained once per
simulated day on the event log so far (the last seven days weigh most, as the trainer weighs
them), for the harness's replays of the personal list and of the product page.

>>> from reco.events import Event
>>> factors = DailyFactors(factors=2, seed=0)
>>> for n in range(30):
...     factors.learn(Event(event_id=str(n), user_id=f"u{n % 6}", event_type="view", ts=n,
...                         item_id=f"i{n % 3 + 3 * (n % 2)}"))
>>> factors.current(now_ms=0) is None, factors.current(now_ms=DAY_MS).version
(False, 'day-1')
"""

from __future__ import annotations

from online_models.als import ImplicitALS
from online_models.factors import ItemFactors
from online_models.interactions import training_data
from reco.events import Event

DAY_MS = 86_400_000


class DailyFactors:
    def __init__(self, factors: int = 32, seed: int = 0) -> None:
        self.factor_count = factors
        self.seed = seed
        self.events: list[Event] = []
        self.model: ItemFactors | None = None
        self.trained_day = -1

    def learn(self, event: Event) -> None:
        """Adds an event to the log (only the next retraining sees it)."""
        self.events.append(event)

    def current(self, now_ms: int) -> ItemFactors | None:
        """The factors of the training of ``now_ms``'s day (trained at its first call that
        day), or None before any event."""
        day = now_ms // DAY_MS
        if day != self.trained_day and self.events:
            self.trained_day = day
            data = training_data(self.events, now_ms, 7 * DAY_MS, ipw_exponent=0.5,
                                 holdout=False)
            self.model = ImplicitALS(self.factor_count, iterations=8, seed=self.seed).fit(
                data.users, data.items, data.weights).item_model(f"day-{day}")
        return self.model
