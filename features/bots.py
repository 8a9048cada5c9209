"""Bot and noise filtering, per user, before anything learns from an event.

Rules, in order (the first that fires names the reason):

- ``flagged:<rule>``: the user tripped a bot rule less than ``flag_ttl_ms`` ago; their events are
  held out of the models until the flag expires (counters keep running meanwhile).
- ``crawler_user_agent``: a crawler or automation client, as ua-parser's maintained rules say.
- ``rate_per_second`` / ``rate_per_minute``: more events than a person produces.
- ``repeated_clicks``: the same action on the same item many times in a short span.
- ``dwell_too_long`` / ``purchase_without_price``: implausible values; only that event is
  filtered, the user is not flagged.

>>> rules = BotRules(max_per_second=3)
>>> state, bots = BotState(), BotFilter(rules)
>>> from reco.events import Event
>>> [bots.check(state, Event(f"e{i}", "click", "u", ts=1_000 + i, item_id=f"i{i}"))
...  for i in range(5)]
[None, None, None, 'rate_per_second', 'flagged:rate_per_second']
"""

from __future__ import annotations

from dataclasses import dataclass

from features.context import agent_kind
from features.slots import SlotState
from reco.events import Event


@dataclass(frozen=True)
class BotRules:
    max_per_second: int = 8
    max_per_minute: int = 90
    max_repeats: int = 6
    repeat_window_ms: int = 10_000
    max_dwell_ms: int = 1_800_000
    flag_ttl_ms: int = 3_600_000
    require_price: bool = True  # off for data sets without prices (Taobao)


class BotState(SlotState):
    """Fixed-window rate counters, the current run of identical actions, and the flag."""

    __slots__ = ("flag_rule", "flagged_until", "minute", "minute_n", "repeat_key", "repeat_n",
                 "repeat_start", "second", "second_n")

    def __init__(self) -> None:
        self.second = self.second_n = self.minute = self.minute_n = 0
        self.repeat_key: tuple[str, str | None] = ("", None)
        self.repeat_n = self.repeat_start = 0
        self.flagged_until = 0
        self.flag_rule = ""


class BotFilter:
    def __init__(self, rules: BotRules) -> None:
        self.rules = rules

    def _count(self, state: BotState, event: Event) -> str | None:
        second, minute = event.ts // 1000, event.ts // 60_000
        state.second_n = state.second_n + 1 if second == state.second else 1
        state.minute_n = state.minute_n + 1 if minute == state.minute else 1
        state.second, state.minute = max(second, state.second), max(minute, state.minute)
        key = (event.event_type, event.item_id)
        if key == state.repeat_key and event.ts - state.repeat_start <= self.rules.repeat_window_ms:
            state.repeat_n += 1
        else:
            state.repeat_key, state.repeat_n, state.repeat_start = key, 1, event.ts
        if state.second_n > self.rules.max_per_second:
            return "rate_per_second"
        if state.minute_n > self.rules.max_per_minute:
            return "rate_per_minute"
        if state.repeat_n > self.rules.max_repeats:
            return "repeated_clicks"
        return None

    def check(self, state: BotState, event: Event) -> str | None:
        """The rule that filters ``event`` (updating ``state``), or None to let it through."""
        tripped = self._count(state, event)
        if event.ts < state.flagged_until:
            return f"flagged:{state.flag_rule}"
        if tripped is None and agent_kind(event.user_agent) == "crawler":
            tripped = "crawler_user_agent"
        if tripped is not None:
            state.flagged_until = event.ts + self.rules.flag_ttl_ms
            state.flag_rule = tripped
            return tripped
        if event.dwell_ms is not None and event.dwell_ms > self.rules.max_dwell_ms:
            return "dwell_too_long"
        if event.event_type == "purchase" and event.price is None and self.rules.require_price:
            return "purchase_without_price"
        return None
