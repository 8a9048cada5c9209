"""Kafka tables of the job: the events source (with record coordinates for dead letters) and the
exactly-once, keyed sinks of the compacted output topics."""

from __future__ import annotations

import re

from pyflink.table import StreamTableEnvironment

from reco.config import Settings
from reco.topics import table_topics

# Transactions must outlive a restart of the job; 15 minutes is the broker's default maximum.
TRANSACTION_TIMEOUT_MS = 600_000


def event_topic_pattern(settings: Settings) -> str:
    """`events.*` minus the job's own output topics that share the prefix, the impressions
    topic (the feedback loop's input) and the table topics (reco/topics.py: the item factors,
    the catalog, the erasure requests and the job's own segment models, by which each instance
    aligns its segment ids with the first's), as one Java regex."""
    prefix = settings.event_topic_prefix
    own = [t[len(prefix):] for t in (settings.topic_dlq, settings.topic_filtered)
           if t.startswith(prefix)]
    exclude = f"(?!(?:{'|'.join(re.escape(t) for t in own)})$)" if own else ""
    others = (settings.topic_impressions, *table_topics(settings))
    return f"{re.escape(prefix)}{exclude}.+|" + "|".join(re.escape(t) for t in others)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _options(options: dict[str, str]) -> str:
    return ",\n  ".join(f"{_sql_string(k)} = {_sql_string(v)}" for k, v in options.items())


def create_source(t_env: StreamTableEnvironment, settings: Settings, name: str) -> None:
    """The events source. Its watermark follows the records' Kafka timestamps (the input
    topics keep the broker's log-append time, reco/topics.py, so no producer clock can move
    it), and watermark alignment keeps the partitions within ``watermark_max_drift_ms`` of
    each other: during a backfill or a catch-up a fast partition waits for a slow one, so
    the user operator and the shared lists never see one partition's events hours ahead of
    another's (docs/architecture.md: Time)."""
    options = {
        "connector": "kafka",
        "topic-pattern": event_topic_pattern(settings),
        "properties.bootstrap.servers": settings.kafka_bootstrap,
        "properties.group.id": settings.consumer_group,
        "properties.isolation.level": "read_committed",
        "properties.auto.offset.reset": "earliest",
        "scan.startup.mode": "group-offsets",
        "scan.topic-partition-discovery.interval": f"{settings.partition_discovery_ms} ms",
        "value.format": "raw",
        "scan.watermark.alignment.group": f"{settings.job_name}-events",
        "scan.watermark.alignment.max-drift": f"{settings.watermark_max_drift_ms} ms",
        "scan.watermark.alignment.update-interval": "1 s",
        "scan.watermark.idle-timeout": f"{settings.watermark_idle_ms} ms",
    }
    lag = settings.watermark_out_of_orderness_ms
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE `{name}` (
          `value` BYTES,
          `topic` STRING METADATA VIRTUAL,
          `partition` INT METADATA VIRTUAL,
          `offset` BIGINT METADATA VIRTUAL,
          `log_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
          WATERMARK FOR `log_time` AS `log_time` - INTERVAL '{lag / 1000:.3f}' SECOND
        ) WITH (
          {_options(options)}
        )""")


def create_keyed_sink(t_env: StreamTableEnvironment, settings: Settings, name: str,
                      topic: str, parallelism: int | None = None,
                      at_least_once: bool = False) -> None:
    """A sink of Row(key STRING, value BYTES), keyed for compaction, exactly-once (visible at
    the checkpoint's commit) or, for upserts that may, at-least-once (visible at once, in order
    per key: the producer is idempotent). A stream of one key needs parallelism 1, or two
    writers could reorder its versions."""
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": settings.kafka_bootstrap,
        "properties.transaction.timeout.ms": str(TRANSACTION_TIMEOUT_MS),
        "key.format": "raw",
        "key.fields": "key",
        "value.format": "raw",
        "value.fields-include": "EXCEPT_KEY",
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": f"{settings.job_name}-{name}",
    }
    if at_least_once:
        options["sink.delivery-guarantee"] = "at-least-once"
        options["properties.enable.idempotence"] = "true"
        del options["sink.transactional-id-prefix"], options["properties.transaction.timeout.ms"]
    if parallelism:
        options["sink.parallelism"] = str(parallelism)
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE `{name}` (`key` STRING, `value` BYTES) WITH (
          {_options(options)}
        )""")


def create_dead_letter_sink(t_env: StreamTableEnvironment, settings: Settings, name: str) -> None:
    """Dead letters are written at-least-once: visible at once, never lost."""
    options = {
        "connector": "kafka",
        "topic": settings.topic_dlq,
        "properties.bootstrap.servers": settings.kafka_bootstrap,
        "value.format": "raw",
        "sink.delivery-guarantee": "at-least-once",
    }
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE `{name}` (`value` STRING) WITH (
          {_options(options)}
        )""")
