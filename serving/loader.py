"""The loader: materialises the compacted output topics into the serving store.

It reads every partition of ``recommendations``, ``user_profiles``, ``item_features``,
``policy`` and ``segments`` (no consumer group: each serving replica keeps a whole copy),
committed records only, and writes each poll as one
WriteBatch together with the next offsets, from which it resumes after a restart.
"""

from __future__ import annotations

import logging
import threading
import time

from kafka import KafkaConsumer, TopicPartition

from reco.config import Settings
from serving.store import ITEMS, POLICY, PROFILES, RECOMMENDATIONS, SEGMENTS, Change, Store

log = logging.getLogger("reco.loader")
PARTITION_REFRESH_S = 10.0


class Loader:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.kinds = {settings.topic_recommendations: RECOMMENDATIONS,
                      settings.topic_user_profiles: PROFILES,
                      settings.topic_item_features: ITEMS,
                      settings.topic_policy: POLICY, settings.topic_segments: SEGMENTS}
        self.records_loaded = 0
        self.caught_up = threading.Event()
        self._consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, group_id=None,
            enable_auto_commit=False, isolation_level="read_committed",
            auto_offset_reset="earliest", client_id="reco-loader")
        self._assigned: set[TopicPartition] = set()
        self._refreshed = 0.0

    def _refresh_partitions(self) -> None:
        wanted = set()
        for topic in self.kinds:
            for partition in self._consumer.partitions_for_topic(topic) or ():
                wanted.add(TopicPartition(topic, partition))
        self._refreshed = time.monotonic()
        if wanted == self._assigned:
            return
        self._consumer.assign(list(wanted))
        stored = self.store.offsets()
        for tp in wanted - self._assigned:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                self._consumer.seek_to_beginning(tp)
            else:
                self._consumer.seek(tp, offset)
        self._assigned = wanted
        log.info("loader reads %d partitions", len(wanted))

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """One poll: returns how many records were written."""
        if not self._assigned or time.monotonic() - self._refreshed > PARTITION_REFRESH_S:
            self._refresh_partitions()
            if not self._assigned:
                time.sleep((timeout_ms or self.settings.loader_poll_ms) / 1000)
                return 0
        batches = self._consumer.poll(timeout_ms=timeout_ms or self.settings.loader_poll_ms)
        changes: list[Change] = []
        offsets: dict[tuple[str, int], int] = {}
        for tp, records in batches.items():
            kind = self.kinds[tp.topic]
            for record in records:
                if record.key is None:
                    continue
                changes.append(Change(kind, record.key.decode("utf-8", "replace"), record.value))
            offsets[(tp.topic, tp.partition)] = records[-1].offset + 1
        if offsets:
            self.store.apply(changes, offsets)
            self.records_loaded += len(changes)
        if not batches and not self.caught_up.is_set() and self._at_end():
            self.caught_up.set()
        return len(changes)

    def _at_end(self) -> bool:
        ends = self._consumer.end_offsets(list(self._assigned))
        return all(self._consumer.position(tp) >= end for tp, end in ends.items())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep serving what we have; Kafka may come back
                log.exception("loader poll failed; retrying in 1 s")
                time.sleep(1.0)
        self._consumer.close()
