"""The project's Kafka topics and how they are created."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, NoError, TopicAlreadyExistsError

from reco.config import Settings
from reco.events import CONSENT_EVENT, EVENT_TYPES

log = logging.getLogger("reco.topics")
T = TypeVar("T")
COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
# The job's input: records keep the broker's append time, the clock of the job's watermark
# (jobs/kafka_io.py), which no producer can set ahead.
INPUT = {"message.timestamp.type": "LogAppendTime"}


def event_topic(settings: Settings, event_type: str, name: str | None = None) -> str:
    """An event's input topic: its type's, or ``name`` under the same prefix (the job reads
    every topic under the prefix)."""
    return f"{settings.event_topic_prefix}{name or event_type}"


def topic_specs(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic the project uses, with its configuration. Topics of raw records (with user
    ids and what they did) keep them ``raw_retention_ms``; the compacted ones keep the latest
    record per key until a tombstone."""
    raw = {"retention.ms": str(settings.raw_retention_ms)}
    specs: dict[str, dict[str, str]] = {event_topic(settings, t): {**INPUT, **raw}
                                         for t in sorted(EVENT_TYPES | {CONSENT_EVENT})}
    specs.update({settings.topic_dlq: raw, settings.topic_filtered: raw,
                  settings.topic_impressions: {**INPUT, **raw},
                  settings.topic_recommendations: COMPACTED,
                  settings.topic_popular_lists: COMPACTED,
                  settings.topic_user_profiles: COMPACTED,
                  settings.topic_item_features: COMPACTED,
                  settings.topic_policy: COMPACTED, settings.topic_segments: COMPACTED,
                  settings.topic_item_factors: COMPACTED,
                  settings.topic_items: COMPACTED, settings.topic_consent: COMPACTED,
                  settings.topic_erasure: COMPACTED, settings.topic_erasure_done: COMPACTED,
                  settings.topic_imports: {"cleanup.policy": "compact"}})
    return specs


def _admin(settings: Settings, timeout_s: float) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap,
                            request_timeout_ms=int(timeout_s * 1000), client_id="reco-admin")


def table_topics(settings: Settings) -> tuple[str, ...]:
    """The compacted topics the job reads as tables, whole: the item factors, the catalog, the
    erasure requests and the instances' segment models."""
    return (settings.topic_item_factors, settings.topic_items, settings.topic_erasure,
            settings.topic_segments)


def forget_table_offsets(settings: Settings, timeout_s: float = 30.0) -> list[TopicPartition]:
    """Deletes the job's consumer group's committed offsets on the table topics (returns the
    partitions it deleted), so that a job start reads from the beginning every partition of
    theirs that its checkpoint or savepoint does not give an offset for. Flink's Kafka source
    records a partition it has not read from yet as "from the committed offset", and a later
    run may have committed one past a record the restored state never saw: a restore from a
    savepoint taken before the first erasure request would skip the request. A fresh start
    reads the catalog and the erasures whole too."""
    group = settings.consumer_group
    admin = _admin(settings, timeout_s)
    try:
        committed = _with_retries(lambda: admin.list_group_offsets({group: None}), timeout_s
                                  ).get(group, {})
        tables = set(table_topics(settings))
        held = [tp for tp in committed if tp.topic in tables]
        if held:
            failed = {tp: error for tp, error in _with_retries(
                          lambda: admin.delete_group_offsets(group, held), timeout_s).items()
                      if error is not NoError}
            if failed:
                raise RuntimeError(f"could not delete the offsets of consumer group {group!r} "
                                   f"on {failed}: stop every job of that group and start again")
            log.info("read from the beginning: %s", ", ".join(sorted({tp.topic for tp in held})))
        return held
    finally:
        admin.close()


def _with_retries(call: Callable[[], T], timeout_s: float) -> T:
    """``call`` again while Kafka answers with a retriable error (a new broker has no group
    coordinator until its offsets topic exists), up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except KafkaError as error:
            if not error.retriable or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ensure_topics(settings: Settings, timeout_s: float = 30.0,
                  inputs: tuple[str, ...] = ()) -> list[str]:
    """Creates the topics that do not exist yet (and input topics named ``inputs`` under the
    event prefix); returns the ones it created."""
    admin = _admin(settings, timeout_s)
    try:
        existing = set(admin.list_topics())
        specs = {**topic_specs(settings), **{event_topic(settings, "", n): INPUT for n in inputs}}
        missing = [NewTopic(name, settings.topic_partitions, 1, topic_configs=config)
                   for name, config in specs.items() if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently
                admin.create_topics(missing)
            log.info("created topics: %s", ", ".join(t.name for t in missing))
        return [t.name for t in missing]
    finally:
        admin.close()


def topic_manifests(settings: Settings, cluster: str, replicas: int = 3,
                    namespace: str = "reco") -> list[dict[str, Any]]:
    """A Strimzi ``KafkaTopic`` per topic of ``topic_specs``, with its configuration (for
    deploy/k8s/topics.yaml: ``reco topics --manifest``). Resource names cannot hold ``_``, so
    each names its topic in ``spec.topicName``."""
    insync = {"min.insync.replicas": str(min(2, replicas))}
    return [{"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
             "metadata": {"name": name.replace("_", "-").lower(), "namespace": namespace,
                          "labels": {"strimzi.io/cluster": cluster}},
             "spec": {"topicName": name, "partitions": settings.topic_partitions,
                      "replicas": replicas, "config": {**config, **insync}}}
            for name, config in topic_specs(settings).items()]
