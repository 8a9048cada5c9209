"""State descriptors with TTL, shared by the operators."""

from __future__ import annotations

from typing import TypeVar

from pyflink.common import Duration, Time, Types
from pyflink.datastream.state import (
    MapStateDescriptor,
    StateDescriptor,
    StateTtlConfig,
    ValueStateDescriptor,
)

# Ranked top lists and item factor chunks reach the user operator through this broadcast state,
# under the namespaced keys of reco/keys.py.
TOP_LISTS = MapStateDescriptor("top-lists", Types.STRING(), Types.PICKLED_BYTE_ARRAY())
# Rows of a stream keyed in Java (jobs/pipeline.py keyed): (key, pickled value). An operator
# that emits them saves the Python call per record that DataStream.key_by adds to build them.
KEYED_PICKLED = Types.ROW([Types.STRING(), Types.PICKLED_BYTE_ARRAY()])
# Rows of the keyed, compacted output topics: (key, serialised value).
KEYED_BYTES = Types.ROW_NAMED(["key", "value"],
                              [Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE())])

D = TypeVar("D", bound=StateDescriptor)
# PyFlink's default background cleanup builds Duration.of_days(30) through the py4j gateway,
# which only a MiniCluster's task threads reach: on a TaskManager of a real cluster the state's
# open() fails (FileNotFoundError launching a gateway). So the default is turned off and the
# same cleanup (RocksDB's compaction filter) asked for with a period given without Java:
# thread mode's converter passes only the entry count on.
UNUSED_PERIOD = Duration(None)


def with_ttl(descriptor: D, ttl_ms: int | None) -> D:
    """Entries expire ``ttl_ms`` after their last write (never returned once expired)."""
    if ttl_ms:
        ttl = (StateTtlConfig.new_builder(Time.milliseconds(ttl_ms))
               .set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)
               .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
               .disable_cleanup_in_background()
               .cleanup_in_rocksdb_compact_filter(1000, UNUSED_PERIOD)
               .build())
        descriptor.enable_time_to_live(ttl)
    return descriptor


def value_state(name: str, ttl_ms: int | None = None) -> ValueStateDescriptor:
    return with_ttl(ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY()), ttl_ms)
