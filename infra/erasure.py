"""Asking for an erasure and following it: the request onto the ``erasure`` topic (what
``reco erase`` and the Admin service's ``EraseUser`` do), and the confirmations read back from
``erasure.done``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from reco.clock import now_ms
from reco.config import Settings
from reco.erasure import ErasureDone, erasure_request, parse_done
from reco.events import InvalidEvent


def request_erasure(settings: Settings, user_id: str, producer: Producer | None = None
                    ) -> str:
    """Publishes an erasure request for ``user_id`` (keyed by her id, waiting for the broker's
    acknowledgement); returns its request id. ValueError if Kafka does not take it."""
    request_id = uuid.uuid4().hex
    own = producer is None
    producer = producer or Producer({"bootstrap.servers": settings.kafka_bootstrap,
                                     "client.id": "reco-erase", "enable.idempotence": True})
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(str(error))

    producer.produce(settings.topic_erasure, key=user_id.encode(),
                     value=erasure_request(user_id, request_id, now_ms()), on_delivery=delivered)
    left = producer.flush(10 if own else 5)
    if left or failures:
        raise ValueError(f"the erasure request was not acknowledged by Kafka at "
                         f"{settings.kafka_bootstrap}: {failures[0] if failures else 'timeout'}")
    return request_id


def confirmations(settings: Settings, request_id: str, timeout_s: float
                  ) -> Iterator[ErasureDone]:
    """The confirmations of one request as they arrive on ``erasure.done`` (read from its
    start: one may already be there), until ``timeout_s`` passes."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap,
                         "group.id": f"reco-erase-{request_id}", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    try:
        metadata = consumer.list_topics(settings.topic_erasure_done, timeout=5)
        partitions = metadata.topics[settings.topic_erasure_done].partitions
        consumer.assign([TopicPartition(settings.topic_erasure_done, p, OFFSET_BEGINNING)
                         for p in partitions])
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for record in consumer.consume(500, 0.5):
                if record.error() is not None or record.value() is None:
                    continue
                try:
                    done = parse_done(record.value())
                except InvalidEvent:
                    continue
                if done.request_id == request_id:
                    yield done
    finally:
        consumer.close()
