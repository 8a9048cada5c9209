"""Reading a topic from its start to its end, committed records only: what the tools and the
tests read the job's compacted outputs (and the catalog) with."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from reco.config import Settings


def read_from_start(settings: Settings, topic: str) -> KafkaConsumer:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                             isolation_level="read_committed", auto_offset_reset="earliest")
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    return consumer


def all_values(settings: Settings, topic: str) -> list[tuple[bytes, bytes]]:
    """Every committed (key, value) of a topic, read to its end; a key's records in order."""
    consumer = read_from_start(settings, topic)
    return _read_to_end(consumer, consumer.end_offsets(list(consumer.assignment())))


def _read_to_end(consumer: KafkaConsumer, ends: dict[TopicPartition, int]
                 ) -> list[tuple[bytes, bytes]]:
    found: list[tuple[bytes, bytes]] = []
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        for records in consumer.poll(timeout_ms=500).values():
            found += [(r.key, r.value) for r in records]
    consumer.close()
    return found


def latest_values(settings: Settings, topic: str) -> dict[bytes, bytes]:
    """The latest committed value of each key of a compacted topic, read to its end."""
    return dict(all_values(settings, topic))




def values_since(settings: Settings, topic: str, since_ms: int) -> list[tuple[bytes, bytes]]:
    """Every committed (key, value) of a topic written since ``since_ms`` (by record time),
    read to its end: a recent window of a raw topic without reading its whole retention."""
    consumer = read_from_start(settings, topic)
    partitions = list(consumer.assignment())
    starts = consumer.offsets_for_times({tp: since_ms for tp in partitions})
    ends = consumer.end_offsets(partitions)
    for tp in partitions:
        found = starts.get(tp)
        consumer.seek(tp, found.offset if found is not None else ends[tp])
    return _read_to_end(consumer, ends)
