"""Impression logging: every response the server gives is written to the ``impressions`` topic
(key: user id), so that later clicks, carts and purchases can be joined to what was shown, with
the propensity of showing it. Sending never blocks or fails a request: when Kafka cannot take a
record, it is counted as dropped and the response goes out."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from reco.config import Settings
from reco.v1 import recommendations_pb2 as pb

log = logging.getLogger("reco.impressions")


def impression(request: pb.GetRecommendationsRequest, response: pb.GetRecommendationsResponse,
               served_at_ms: int) -> dict[str, Any]:
    context = request.context
    return {
        "request_id": response.request_id, "user_id": request.user_id, "k": request.k,
        "served_at_ms": served_at_ms, "model_version": response.model_version,
        # the served list is a deterministic function of the user's state so far
        "policy": "deterministic", "segment": response.segment,
        "cold_start": response.cold_start,
        "items": [{"item_id": i.item_id, "position": n, "score": i.score, "reason": i.reason,
                   "propensity": 1.0} for n, i in enumerate(response.items)],
        "context": {"device": context.device, "country": context.country, "ts": context.ts,
                    "region": context.region, "timezone": context.timezone,
                    **dict(context.extra)},
    }


class ImpressionLog:
    def __init__(self, settings: Settings) -> None:
        self.topic = settings.topic_impressions
        self.sent = 0
        self.dropped = 0
        self._producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks=1,
                                       linger_ms=20, max_block_ms=5000,
                                       client_id="reco-server")
        try:  # learn the topic's partitions now, so no request ever waits for them
            self._producer.partitions_for(self.topic)
        except KafkaError as exc:
            log.warning("impressions topic %s not reachable yet: %s", self.topic, exc)
        self._producer.config["max_block_ms"] = 0  # from here on, never block a request

    def log(self, request: pb.GetRecommendationsRequest,
            response: pb.GetRecommendationsResponse) -> None:
        record = impression(request, response, int(time.time() * 1000))
        try:
            self._producer.send(self.topic, key=request.user_id.encode(),
                                value=json.dumps(record, separators=(",", ":")).encode())
            self.sent += 1
        except KafkaError as exc:
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("impression not logged (%d dropped so far): %s", self.dropped, exc)

    def close(self) -> None:
        self._producer.flush(timeout=5)
        self._producer.close(timeout=5)
