"""State descriptors with TTL, shared by the operators."""

from __future__ import annotations

from pyflink.common import Time, Types
from pyflink.datastream.state import MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from reco.topics import POPULAR_KEY

# Ranked top lists reach the user operator through this broadcast state: key is a category, or
# POPULAR_KEY for the global list.
TOP_LISTS = MapStateDescriptor("top-lists", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
__all__ = ["POPULAR_KEY", "TOP_LISTS", "value_state"]


def value_state(name: str, ttl_ms: int | None = None) -> ValueStateDescriptor:
    descriptor = ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY())
    if ttl_ms:
        ttl = (StateTtlConfig.new_builder(Time.milliseconds(ttl_ms))
               .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
               .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
               .build())
        descriptor.enable_time_to_live(ttl)
    return descriptor
