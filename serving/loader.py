"""The loader: materialises the compacted output topics into the serving store.

It reads every partition of ``recommendations``, ``popular_lists``, ``user_profiles``,
``item_features``, ``policy``, ``segments``, ``item_factors``, ``consent`` and the catalog,
``items`` (no consumer group: each serving replica keeps a whole copy), committed records
only, and writes each poll as one WriteBatch together with the next offsets, from which it resumes
after a restart. It runs in a thread of the serving process on librdkafka (confluent-kafka),
whose network threads do not hold the GIL the request handlers need. A catalog record also
marks its item unavailable (out of stock, discontinued, deleted) or available again, and
updates the content model's similar items (serving/content.py); a factors chunk is kept for
the product page's factor neighbours (serving/factors.py); the job's report of an erasure
deletes the user's rows and is confirmed on ``erasure.done`` (serving/erasures.py).

``caught_up`` is set once every partition found at the first look has been read to its end
(its last committed record: librdkafka reports the end of a partition at the last stable
offset), or at once when none of the topics exists yet. The server reports NOT_SERVING until
then, so a new replica takes no traffic before it answers like the others.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from google.protobuf.message import DecodeError

from reco.catalog import is_available
from reco.config import Settings
from reco.v1.catalog_pb2 import Item
from serving.consent import stale
from serving.content import ContentIndex
from serving.erasures import ERASURES, ErasureConfirmations
from serving.factors import factor_changes
from serving.store import (
    CATALOG,
    CONSENT_STATES,
    FACTORS,
    ITEMS,
    POLICY,
    POPULAR_LISTS,
    PROFILES,
    RECOMMENDATIONS,
    SEGMENTS,
    UNAVAILABLE,
    Change,
    Store,
)

log = logging.getLogger("reco.loader")
PARTITION_REFRESH_S = 10.0
BATCH = 2_000  # records per poll, written as one WriteBatch


def availability_change(item: str, record: bytes | None) -> Change:
    """An item leaves every answer when its catalog record says it cannot be bought, when the
    record is deleted, or when it is not a catalog record at all; it comes back when a record
    says it can be bought."""
    shown = record is not None and is_available(Item.FromString(record))
    return Change(UNAVAILABLE, item, None if shown else b"")


def catalog_record(item: str, record: bytes | None) -> bytes | None:
    """The record if it is a ``reco.v1.Item`` (None for a tombstone, or, with a warning, for
    bytes that are not one: the item is then treated as deleted, never shown)."""
    if record is None:
        return None
    try:
        Item.FromString(record)
    except DecodeError:
        log.warning("loader: the catalog record of %r is not a reco.v1.Item; treating the item "
                    "as deleted (write it with `reco items load`)", item[:80])
        return None
    return record


class Loader:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.kinds = {settings.topic_recommendations: RECOMMENDATIONS,
                      settings.topic_popular_lists: POPULAR_LISTS,
                      settings.topic_user_profiles: PROFILES,
                      settings.topic_item_features: ITEMS,
                      settings.topic_policy: POLICY, settings.topic_segments: SEGMENTS,
                      settings.topic_items: CATALOG, settings.topic_item_factors: FACTORS,
                      settings.topic_consent: CONSENT_STATES,
                      settings.topic_erasure_done: ERASURES}
        self.records_loaded = 0
        self.content = ContentIndex(store, settings.cooccurring_items)
        self.erasures = ErasureConfirmations(settings)
        # partitions are assigned, never subscribed, and offsets live in the store: the group id
        # (librdkafka wants one) joins no group and commits nothing
        self._consumer = Consumer({
            "bootstrap.servers": settings.kafka_bootstrap, "group.id": "reco-loader",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "isolation.level": "read_committed", "auto.offset.reset": "earliest",
            "client.id": "reco-loader", "error_cb": self._on_error,
            "enable.partition.eof": True})
        self._assigned: set[tuple[str, int]] = set()
        self.caught_up = threading.Event()
        self._behind: set[tuple[str, int]] | None = None  # partitions not yet read to the end
        self._refreshed = 0.0

    def _on_error(self, error: KafkaError) -> None:
        log.warning("loader: %s", error)

    def _refresh_partitions(self) -> None:
        wanted = set()
        metadata = self._consumer.list_topics(timeout=5)
        for topic in self.kinds:
            found = metadata.topics.get(topic)
            if found is not None and found.error is None:
                wanted |= {(topic, partition) for partition in found.partitions}
        self._refreshed = time.monotonic()
        if self._behind is None:
            self._behind = set(wanted)
            self._note_progress()
        if wanted == self._assigned:
            return
        stored = self.store.offsets()
        # assign() replaces the assignment: positions of partitions kept are where we are
        self._consumer.assign([TopicPartition(topic, partition,
                                              stored.get((topic, partition), OFFSET_BEGINNING))
                               for topic, partition in sorted(wanted)])
        self._assigned = wanted
        log.info("loader reads %d partitions", len(wanted))

    def _note_progress(self, at_end: tuple[str, int] | None = None) -> None:
        if self._behind is None or self.caught_up.is_set():
            return
        if at_end is not None:
            self._behind.discard(at_end)
        if not self._behind:
            log.info("loader caught up with %d partitions (%d records in this run)",
                     len(self._assigned), self.records_loaded)
            self.caught_up.set()

    def poll_once(self, timeout_ms: int | None = None) -> int:
        """One poll: returns how many records were written."""
        timeout_s = (timeout_ms or self.settings.loader_poll_ms) / 1000
        if not self._assigned or time.monotonic() - self._refreshed > PARTITION_REFRESH_S:
            self._refresh_partitions()
            if not self._assigned:
                time.sleep(timeout_s)
                return 0
        changes: list[Change] = []
        consent: dict[str, bytes | None] = {}  # this poll's consent states, by user
        offsets: dict[tuple[str, int], int] = {}
        ends: list[tuple[str, int]] = []
        # consume(BATCH, t) would hold what came until BATCH records or t passed: wait for
        # the first, then take what is queued (a change reaches the answers when it arrives)
        records = self._consumer.consume(1, timeout_s)
        if records:
            records += self._consumer.consume(BATCH - 1, 0)
        for record in records:
            if record.error() is not None:
                if record.error().code() == KafkaError._PARTITION_EOF:
                    ends.append((record.topic(), record.partition()))
                else:
                    log.warning("loader: %s", record.error())
                continue
            topic, key = record.topic(), record.key()
            offsets[(topic, record.partition())] = record.offset() + 1
            if key is not None:
                changes += self._changes(self.kinds[topic], key.decode("utf-8", "replace"),
                                         record.value(), consent)
        changes += self.content.flush()
        if offsets:
            self.store.apply(changes, offsets)
            self.records_loaded += len(changes)
            self.erasures.confirm()  # after the rows are gone
        for partition in ends:  # after the records before it are in the store
            self._note_progress(partition)
        return len(changes)

    def _changes(self, kind: bytes, name: str, value: bytes | None,
                 consent: dict[str, bytes | None]) -> list[Change]:
        """What one record changes in the store; ``consent`` holds this poll's consent
        states so far, by user."""
        if kind == FACTORS:
            return factor_changes(name, value)
        if kind == ERASURES:
            return self.erasures.read(name, value)
        if kind == CONSENT_STATES:
            held = consent[name] if name in consent else self.store.get(kind, name)
            if value is not None and stale(held, value):
                return []  # a replayed older statement: keep the newer one
            consent[name] = value
        if kind == CATALOG:
            value = catalog_record(name, value)
            self.content.update(name, value)
            return [availability_change(name, value), Change(kind, name, value)]
        return [Change(kind, name, value)]

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep serving what we have; Kafka may come back
                log.exception("loader poll failed; retrying in 1 s")
                time.sleep(1.0)
        self._consumer.close()
        self.erasures.close()
