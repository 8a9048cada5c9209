"""Producer client: validates events and writes them to ``events.<type>``, keyed by user id.

JSON on the wire by default; ``wire_format="protobuf"`` sends ``reco.v1.Event`` instead (the
job accepts both).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kafka import KafkaProducer

from reco.config import Settings
from reco.events import Event, event_from_dict
from reco.topics import event_topic
from reco.v1 import events_pb2

WIRE_FORMATS = ("json", "protobuf")


def event_to_proto(event: Event) -> bytes:
    doc = event.to_json_dict()
    consent = doc.pop("consent", None)
    msg = events_pb2.Event(**doc)
    if consent is not None:
        msg.consent.personalization = consent["personalization"]
    return msg.SerializeToString()


class EventProducer:
    def __init__(self, settings: Settings, wire_format: str = "json", **kafka_options: Any) -> None:
        if wire_format not in WIRE_FORMATS:
            raise ValueError(f"wire_format must be one of {WIRE_FORMATS}")
        self.settings = settings
        self.wire_format = wire_format
        options = {"linger_ms": 5, "acks": "all", "client_id": "reco-producer", **kafka_options}
        self._producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, **options)
        self.sent = 0

    def encode(self, event: Event) -> bytes:
        return event_to_proto(event) if self.wire_format == "protobuf" else event.to_json()

    def send(self, event: Event | dict[str, Any], topic: str | None = None) -> None:
        """Validates (a dict raises ``InvalidEvent`` with the reason) and sends one event, to
        its type's topic or to ``topic`` (a name under the event topic prefix)."""
        if not isinstance(event, Event):
            event = event_from_dict(event)
        self._producer.send(event_topic(self.settings, event.event_type, topic),
                            key=event.user_id.encode(), value=self.encode(event))
        self.sent += 1

    def send_all(self, events: Iterable[Event]) -> int:
        count = 0
        for event in events:
            self.send(event)
            count += 1
        return count

    def send_raw(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        """Sends bytes unvalidated (for testing the dead-letter path)."""
        self._producer.send(topic, key=key, value=value)

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        self._producer.close()

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()
