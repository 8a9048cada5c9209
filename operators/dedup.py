"""Drop events whose event_id was seen before.

Keyed by user id (a duplicate always carries the same user), so a user's events keep their
order from the source partition to the user operator; each seen id expires after the TTL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pyflink.common import Types
from pyflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from pyflink.datastream.state import MapStateDescriptor

from operators.state import with_ttl


class DeduplicateEvents(KeyedProcessFunction):
    def __init__(self, ttl_ms: int) -> None:
        self.ttl_ms = ttl_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        descriptor = MapStateDescriptor("seen-event-ids", Types.STRING(), Types.BOOLEAN())
        self.seen = runtime_context.get_map_state(with_ttl(descriptor, self.ttl_ms))

    def process_element(self, event: Any, ctx: KeyedProcessFunction.Context) -> Iterator[Any]:
        if not self.seen.contains(event.event_id):
            self.seen.put(event.event_id, True)
            yield event
