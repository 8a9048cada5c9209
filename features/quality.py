"""The data-quality step before anything learns from an event, per user: drops redelivered
event ids (the user's last ``dedup_window`` ids, features/dedup.py), applies the bot and noise
rules (features/bots.py), and pairs a clean interaction with the session's previous item for
co-occurrence, and a carted or bought one with the session's basket (features/items.py).

>>> from reco.events import Event
>>> gate = QualityGate(BotRules(max_per_second=2), dedup_window=8, session_gap_ms=60_000)
>>> state = gate.new()
>>> views = [Event(f"e{i}", "product_view", "u", ts=1_000 * i, item_id=f"i{i}")
...          for i in range(2)]
>>> for event in [*views, views[1]]:
...     verdict, state = gate.check(state, event)
...     print(verdict)
Verdict(rule=None, flagged_until=0, item_signal=True, previous=None, basket=())
Verdict(rule=None, flagged_until=0, item_signal=True, previous='i0', basket=())
None
"""

from __future__ import annotations

from typing import Any, NamedTuple

from features.bots import BotFilter, BotRules, BotState
from features.dedup import RecentIds
from features.items import Session, pair_in_session
from reco.decay import EVENT_WEIGHTS
from reco.events import Event

BASKET_EVENTS = frozenset({"add_to_cart", "purchase"})

# (recent event ids, bot counters, the session's last interaction and item[, what her events
# added to the shared counts: features/contributions.py]): a user's state; states stored before
# the ledger have three values
QualityState = tuple[RecentIds, BotState, Session] | tuple[RecentIds, BotState, Session, Any]


class Verdict(NamedTuple):
    rule: str | None        # the rule that filtered the event, None when it is clean
    flagged_until: int      # when the user's bot flag expires (0: not flagged)
    item_signal: bool       # a clean interaction with an item: it counts for the item
    previous: str | None    # the session's previous item, to count the pair's co-occurrence
    basket: tuple[str, ...] = ()  # carted or bought: what was before in the session's basket


class QualityGate:
    def __init__(self, rules: BotRules, dedup_window: int, session_gap_ms: int) -> None:
        self.bots = BotFilter(rules)
        self.dedup_window = dedup_window
        self.session_gap_ms = session_gap_ms

    def new(self) -> QualityState:
        return RecentIds(self.dedup_window), BotState(), (0, None)

    def check(self, state: QualityState, event: Event) -> tuple[Verdict | None, QualityState]:
        """The verdict on ``event`` (None: a redelivered event id) and the state after it."""
        recent, bots, session, *ledger = state
        if recent.seen_or_add(event.event_id):
            return None, state
        rule = self.bots.check(bots, event)
        weight = EVENT_WEIGHTS.get(event.event_type, 0.0)
        item_signal = rule is None and weight > 0 and event.item_id is not None
        previous: str | None = None
        basket: tuple[str, ...] = ()
        if item_signal:
            previous, basket, session = pair_in_session(
                session, str(event.item_id), event.ts, self.session_gap_ms,
                event.event_type in BASKET_EVENTS)
        verdict = Verdict(rule, bots.flagged_until if rule else 0, item_signal, previous,
                          basket)
        return verdict, (recent, bots, session, *ledger)
