"""``reco items load``: a product feed into the compacted ``items`` topic, changes only.

It reads what the topic holds (the latest record per item), parses the whole feed first (a
feed without an id column is refused before anything is sent), then sends each item whose
product data changed (``created_ms`` kept from the first version, ``updated_ms`` now), and with
``delete_missing`` a tombstone for each item the topic has and the feed lacks. A row that cannot
be a product goes to ``events.dlq`` with the file, its line and the reason; the rest load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from infra.topic_reader import latest_values
from reco.catalog import read_feed, same_product
from reco.clock import now_ms
from reco.config import Settings
from reco.reporting import progress
from reco.v1.catalog_pb2 import Item


def current_catalog(settings: Settings) -> dict[str, Item]:
    return {key.decode(): Item.FromString(value)
            for key, value in latest_values(settings, settings.topic_items).items()
            if key is not None and value is not None}


def load_catalog(settings: Settings, path: Path, kind: str | None = None,
                 delete_missing: bool = False) -> dict[str, Any]:
    rows = list(read_feed(path, kind))  # FeedError before anything is sent
    known = current_catalog(settings)
    stamp = now_ms()
    summary: dict[str, Any] = {"file": str(path), "rows": len(rows), "changed": 0,
                               "unchanged": 0, "deleted": 0, "rejected": 0, "rejected_lines": []}
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                             linger_ms=20, client_id="reco-items")
    seen: set[str] = set()
    try:
        for n, (line, found) in enumerate(rows, start=1):
            if isinstance(found, str):
                _dead_letter(producer, settings, path, line, found)
                summary["rejected"] += 1
                summary["rejected_lines"] = (summary["rejected_lines"] + [line])[:20]
                continue
            seen.add(found.item_id)
            before = known.get(found.item_id)
            if before is not None and same_product(before, found):
                summary["unchanged"] += 1
                continue
            found.created_ms = before.created_ms if before is not None and before.created_ms \
                else stamp
            found.updated_ms = stamp
            producer.send(settings.topic_items, key=found.item_id.encode(),
                          value=found.SerializeToString())
            summary["changed"] += 1
            if n % 10_000 == 0:
                progress(f"  {n:,}/{len(rows):,} rows read, {summary['changed']:,} changed")
        if delete_missing:
            for item_id in sorted(set(known) - seen):
                producer.send(settings.topic_items, key=item_id.encode(), value=None)
                summary["deleted"] += 1
        producer.flush()
    finally:
        producer.close()
    return summary


def delete_items(settings: Settings, item_ids: list[str]) -> int:
    """Tombstones: the items leave the catalog (and every answer)."""
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all",
                             client_id="reco-items")
    try:
        for item_id in item_ids:
            producer.send(settings.topic_items, key=item_id.encode(), value=None)
        producer.flush()
    finally:
        producer.close()
    return len(item_ids)


def _dead_letter(producer: KafkaProducer, settings: Settings, path: Path, line: int,
                 reason: str) -> None:
    # the dead-letter contract's fields; a row never reached Kafka: no partition or offset,
    # the file and line locate it
    letter = {"topic": settings.topic_items, "partition": -1, "offset": -1,
              "raw": f"{path}:{line}", "reason": f"catalog row: {reason}",
              "source": "reco items load", "file": str(path), "line": line}
    producer.send(settings.topic_dlq, value=json.dumps(letter).encode())
