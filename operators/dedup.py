"""Drop events whose event_id was seen before (keyed by event_id, remembered for a TTL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext

from operators.state import value_state


class DeduplicateEvents(KeyedProcessFunction):
    def __init__(self, ttl_ms: int) -> None:
        self.ttl_ms = ttl_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        self.seen = runtime_context.get_state(value_state("seen", self.ttl_ms))

    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if self.seen.value() is None:
            self.seen.update(True)
            yield event
